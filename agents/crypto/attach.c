/*
 * attach.c: the only caller of crypto_secretstream_xchacha20poly1305_*.
 *
 * Blob layout: the 24-byte secretstream header, then ceil(P / chunk) chunks
 * (one empty chunk when P is 0), where P is the Padmé length of the
 * plaintext; every chunk but the last carries chunk_size plaintext bytes;
 * the last carries TAG_FINAL. Chunk i's associated data is
 * LP(message_id) || u32le(index) || u64le(i). The reader requires TAG_FINAL
 * on exactly the last chunk and nothing after it, all padding bytes zero,
 * and the blob and plaintext hashes of the signed manifest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "fileio.h"
#include "i18n.h"

#define HDR_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define TAG_LEN crypto_secretstream_xchacha20poly1305_ABYTES
#define AD_LEN (8 + SIRA_MSGID_LEN + 4 + 8)

/* Working state of one stream, on the heap: one chunk of each. */
struct stream {
	crypto_secretstream_xchacha20poly1305_state st;
	int fd;      /* the blob or spool file; borrowed, not closed here */
	uint8_t *pt; /* chunk_size bytes */
	uint8_t *ct; /* chunk_size + TAG_LEN bytes */
	uint8_t ad[AD_LEN];
	struct digest_stream blob_hash;
	struct digest_stream pt_hash;
};

/* One chunk's place in its stream: its number, plaintext bytes, and whether
 * it is the final chunk (the one tagged TAG_FINAL). */
struct chunk {
	uint64_t no;
	size_t len;
	bool last;
};

uint64_t
attach_padme(uint64_t len)
{
	uint64_t e, s, mask;

	if (len < 2)
		return len;
	e = 63 - (uint64_t)__builtin_clzll(len); /* floor(log2 len) */
	s = 64 - (uint64_t)__builtin_clzll(e);   /* floor(log2 e) + 1 */
	mask = (1ull << (e - s)) - 1;
	return (len + mask) & ~mask;
}

static uint64_t
chunks_for(uint64_t padded, uint32_t chunk)
{
	return padded == 0 ? 1 : (padded + chunk - 1) / chunk;
}

/* Plaintext bytes of chunk i of a padded stream cut in chunk-byte pieces. */
static size_t
chunk_bytes(uint64_t padded, uint64_t i, uint32_t chunk)
{
	uint64_t off = i * chunk;

	return padded - off < chunk ? (size_t)(padded - off) : chunk;
}

uint64_t
attach_ct_len(uint64_t plaintext_len, uint32_t chunk_size)
{
	uint64_t p = attach_padme(plaintext_len);

	return HDR_LEN + chunks_for(p, chunk_size) * TAG_LEN + p;
}

static void
set_ad(uint8_t ad[static AD_LEN], const uint8_t *msgid, uint32_t index,
    uint64_t chunk_no)
{
	size_t i;

	for (i = 0; i < 8; i++)
		ad[i] = (uint8_t)((uint64_t)SIRA_MSGID_LEN >> (8 * i));
	memcpy(ad + 8, msgid, SIRA_MSGID_LEN);
	for (i = 0; i < 4; i++)
		ad[8 + SIRA_MSGID_LEN + i] = (uint8_t)(index >> (8 * i));
	for (i = 0; i < 8; i++)
		ad[12 + SIRA_MSGID_LEN + i] = (uint8_t)(chunk_no >> (8 * i));
}

/* A fresh stream of chunk-byte chunks whose ciphertext file is fd. */
static int
stream_new(struct stream **sp, uint32_t chunk, int fd)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->pt = malloc(chunk)) == NULL ||
	    (s->ct = malloc((size_t)chunk + TAG_LEN)) == NULL) {
		if (s != NULL)
			free(s->pt);
		free(s);
		return -1;
	}
	s->fd = fd;
	*sp = s;
	return 0;
}

static void
stream_free(struct stream *s, uint32_t chunk)
{
	if (s == NULL)
		return;
	sodium_memzero(s->pt, chunk);
	sodium_memzero(&s->st, sizeof(s->st));
	free(s->pt);
	free(s->ct);
	free(s);
}

/* Fill s->pt with chunk n bytes at offset off: file bytes, then zeros. */
static int
fill_chunk(struct stream *s, int in_fd, uint64_t off, size_t n, uint64_t len,
    struct sira_err *err)
{
	size_t data = off >= len ? 0 : (size_t)(len - off < n ? len - off : n);

	if (data > 0 && fileio_read_full(in_fd, s->pt, data) != (ssize_t)data)
		return sira_err_set(err, SIRA_EIO,
		    _("attachment changed or failed while reading"));
	memset(s->pt + data, 0, n - data);
	digest_stream_update(&s->pt_hash, s->pt, data);
	return 0;
}

static int
seal_chunks(struct stream *s, const struct attach_key *ak, int in_fd,
    const struct attach_info *info, struct sira_err *err)
{
	uint64_t padded = attach_padme(info->plaintext_len);
	uint64_t n_chunks = chunks_for(padded, info->chunk_size);
	int rc;

	for (uint64_t i = 0; i < n_chunks; i++) {
		uint64_t off = i * info->chunk_size;
		size_t n = chunk_bytes(padded, i, info->chunk_size);
		unsigned long long ctlen;
		uint8_t tag = i + 1 == n_chunks ?
		    crypto_secretstream_xchacha20poly1305_TAG_FINAL :
		    0;

		if ((rc = fill_chunk(
			 s, in_fd, off, n, info->plaintext_len, err)) != 0)
			return rc;
		set_ad(s->ad, ak->msgid, ak->index, i);
		if (crypto_secretstream_xchacha20poly1305_push(&s->st, s->ct,
			&ctlen, s->pt, n, s->ad, AD_LEN, tag) != 0)
			return sira_err_set(err, SIRA_ECRYPTO,
			    _("attachment encryption failed"));
		if (fileio_write_all(s->fd, s->ct, (size_t)ctlen) != 0)
			return sira_err_set(err, SIRA_EIO,
			    _("cannot write attachment: %s"), strerror(errno));
		digest_stream_update(&s->blob_hash, s->ct, (size_t)ctlen);
	}
	return 0;
}

int
attach_seal(const struct attach_key *ak, int in_fd, int blob_fd,
    struct attach_info *info, struct sira_err *err)
{
	uint8_t hdr[HDR_LEN];
	struct stream *s = NULL;
	struct stat st;
	int rc;

	memset(info, 0, sizeof(*info));
	if (fstat(in_fd, &st) == -1 || !S_ISREG(st.st_mode))
		return sira_err_set(
		    err, SIRA_EIO, _("attachment is not a regular file"));
	if ((uint64_t)st.st_size > SIRA_ATTACHMENT_MAX)
		return sira_err_set(
		    err, SIRA_ETOOBIG, _("attachment is larger than 4 GiB"));
	info->plaintext_len = (uint64_t)st.st_size;
	info->chunk_size = SIRA_CHUNK_DEFAULT;
	if (stream_new(&s, info->chunk_size, blob_fd) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	digest_stream_init(&s->blob_hash);
	digest_stream_init(&s->pt_hash);
	crypto_secretstream_xchacha20poly1305_init_push(&s->st, hdr, ak->key);
	if (fileio_write_all(s->fd, hdr, sizeof(hdr)) != 0) {
		rc = sira_err_set(err, SIRA_EIO,
		    _("cannot write attachment: %s"), strerror(errno));
		goto out;
	}
	digest_stream_update(&s->blob_hash, hdr, sizeof(hdr));
	if ((rc = seal_chunks(s, ak, in_fd, info, err)) != 0)
		goto out;
	digest_stream_final(&s->blob_hash, info->blob_id);
	digest_stream_final(&s->pt_hash, info->plaintext_sha256);
	info->ct_len = attach_ct_len(info->plaintext_len, info->chunk_size);
out:
	stream_free(s, info->chunk_size);
	return rc;
}

/* Check and emit one decrypted chunk: real bytes out (none when out_fd is
 * -1), padding all zero. */
static int
emit_chunk(struct stream *s, int out_fd, uint64_t off, size_t n, uint64_t len,
    struct sira_err *err)
{
	size_t data = off >= len ? 0 : (size_t)(len - off < n ? len - off : n);

	for (size_t k = data; k < n; k++)
		if (s->pt[k] != 0)
			return sira_err_set(err, SIRA_EMALFORMED,
			    _("attachment padding is not zero"));
	digest_stream_update(&s->pt_hash, s->pt, data);
	if (data > 0 && out_fd >= 0 &&
	    fileio_write_all(out_fd, s->pt, data) != 0)
		return sira_err_set(err, SIRA_EIO,
		    _("cannot write attachment: %s"), strerror(errno));
	return 0;
}

/* Read chunk c of stream ak from s->fd and decrypt it into s->pt. */
static int
open_chunk(struct stream *s, const struct attach_key *ak, const struct chunk *c,
    struct sira_err *err)
{
	size_t n = c->len;
	unsigned long long ptlen;
	uint8_t tag;
	ssize_t r;

	if ((r = fileio_read_full(s->fd, s->ct, n + TAG_LEN)) == -1)
		return sira_err_set(err, SIRA_EIO, _("cannot read attachment"));
	if ((size_t)r != n + TAG_LEN)
		return sira_err_set(err, SIRA_ETRUNCATED,
		    _("attachment %u ends before its final chunk"), ak->index);
	set_ad(s->ad, ak->msgid, ak->index, c->no);
	if (crypto_secretstream_xchacha20poly1305_pull(&s->st, s->pt, &ptlen,
		&tag, s->ct, n + TAG_LEN, s->ad, AD_LEN) != 0 ||
	    ptlen != n)
		return sira_err_set(err, SIRA_EAUTH,
		    _("attachment %u chunk %llu does not authenticate"),
		    ak->index, (unsigned long long)c->no);
	if (c->last && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
		return sira_err_set(err, SIRA_ETRUNCATED,
		    _("attachment %u has no final chunk"), ak->index);
	if (!c->last && tag != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("attachment %u has data after its final chunk"),
		    ak->index);
	return 0;
}

static int
open_chunks(struct stream *s, const struct attach_key *ak,
    const struct attach_info *expect, int out_fd, struct sira_err *err)
{
	uint64_t padded = attach_padme(expect->plaintext_len);
	uint64_t n_chunks = chunks_for(padded, expect->chunk_size);
	uint8_t extra;
	int rc;

	for (uint64_t i = 0; i < n_chunks; i++) {
		uint64_t off = i * expect->chunk_size;
		struct chunk c = { i,
			chunk_bytes(padded, i, expect->chunk_size),
			i + 1 == n_chunks };
		if ((rc = open_chunk(s, ak, &c, err)) != 0)
			return rc;
		digest_stream_update(&s->blob_hash, s->ct, c.len + TAG_LEN);
		if ((rc = emit_chunk(s, out_fd, off, c.len,
			 expect->plaintext_len, err)) != 0)
			return rc;
	}
	if (fileio_read_full(s->fd, &extra, 1) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("attachment %u has bytes after its final chunk"),
		    ak->index);
	return 0;
}

static int
check_expect(const struct attach_info *e, struct sira_err *err)
{
	if (e->chunk_size < SIRA_CHUNK_MIN || e->chunk_size > SIRA_CHUNK_MAX ||
	    e->plaintext_len > SIRA_ATTACHMENT_MAX ||
	    e->ct_len != attach_ct_len(e->plaintext_len, e->chunk_size))
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("attachment lengths in the manifest are inconsistent"));
	return 0;
}

int
attach_open(const struct attach_key *ak, const struct attach_info *expect,
    int blob_fd, int out_fd, struct sira_err *err)
{
	uint8_t hdr[HDR_LEN], blob_id[SIRA_HASH_LEN], pt_hash[SIRA_HASH_LEN];
	struct stream *s = NULL;
	ssize_t r;
	int rc;

	if ((rc = check_expect(expect, err)) != 0)
		return rc;
	if (stream_new(&s, expect->chunk_size, blob_fd) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	digest_stream_init(&s->blob_hash);
	digest_stream_init(&s->pt_hash);
	if ((r = fileio_read_full(s->fd, hdr, sizeof(hdr))) !=
	    (ssize_t)sizeof(hdr)) {
		rc = sira_err_set(err, r == -1 ? SIRA_EIO : SIRA_ETRUNCATED,
		    _("attachment %u is truncated"), ak->index);
		goto out;
	}
	digest_stream_update(&s->blob_hash, hdr, sizeof(hdr));
	if (crypto_secretstream_xchacha20poly1305_init_pull(
		&s->st, hdr, ak->key) != 0) {
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("attachment %u header invalid"), ak->index);
		goto out;
	}
	if ((rc = open_chunks(s, ak, expect, out_fd, err)) != 0)
		goto out;
	digest_stream_final(&s->blob_hash, blob_id);
	digest_stream_final(&s->pt_hash, pt_hash);
	if (memcmp(blob_id, expect->blob_id, SIRA_HASH_LEN) != 0 ||
	    memcmp(pt_hash, expect->plaintext_sha256, SIRA_HASH_LEN) != 0)
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("attachment %u does not match its signed hashes"),
		    ak->index);
out:
	stream_free(s, expect->chunk_size);
	return rc;
}

int
attach_open_to_path(const struct attach_key *ak,
    const struct attach_info *expect, const char *blob_path,
    const char *dest_path, struct sira_err *err)
{
	char tmp[4096];
	int in, out, rc, n;

	n = snprintf(tmp, sizeof(tmp), "%s.partial", dest_path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	if (access(dest_path, F_OK) == 0)
		return sira_err_set(
		    err, SIRA_EEXIST, _("%s already exists"), dest_path);
	if ((in = open(blob_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sira_err_set(err, SIRA_ENOTFOUND, _("%s: %s"), blob_path,
		    strerror(errno));
	(void)unlink(tmp); /* a leftover from a crash is never trusted */
	out = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1) {
		close(in);
		return sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	}
	rc = attach_open(ak, expect, in, out, err);
	if (rc == 0 && fsync(out) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	if (close(out) != 0 && rc == 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	close(in);
	/* link(), not rename(): it fails if dest_path appeared meanwhile, so
	 * an existing file is never replaced (as fileio_write exclusive). */
	if (rc == 0 && link(tmp, dest_path) != 0) {
		int e = errno;
		rc = e == EEXIST ? sira_err_set(err, SIRA_EEXIST,
				       _("%s already exists"), dest_path) :
				   sira_err_set(err, SIRA_EIO, _("%s: %s"),
				       dest_path, strerror(e));
	}
	(void)unlink(tmp);
	return rc;
}

void
attach_keygen(uint8_t key[static SIRA_ATTACH_KEY_LEN])
{
	crypto_secretstream_xchacha20poly1305_keygen(key);
}

/* Start both streams: read and check the spool header (in, under
 * spool_key), write ours (out, under key). */
static int
reseal_begin(struct stream *in, struct stream *out, const uint8_t *spool_key,
    const uint8_t *key, struct sira_err *err)
{
	uint8_t hdr[HDR_LEN];
	ssize_t r;

	if ((r = fileio_read_full(in->fd, hdr, sizeof(hdr))) !=
	    (ssize_t)sizeof(hdr))
		return sira_err_set(err, r == -1 ? SIRA_EIO : SIRA_ETRUNCATED,
		    _("spooled document is truncated"));
	digest_stream_update(&in->blob_hash, hdr, sizeof(hdr));
	if (crypto_secretstream_xchacha20poly1305_init_pull(
		&in->st, hdr, spool_key) != 0)
		return sira_err_set(
		    err, SIRA_EAUTH, _("spooled document header invalid"));
	crypto_secretstream_xchacha20poly1305_init_push(&out->st, hdr, key);
	if (fileio_write_all(out->fd, hdr, sizeof(hdr)) != 0)
		return sira_err_set(err, SIRA_EIO,
		    _("cannot write attachment: %s"), strerror(errno));
	digest_stream_update(&out->blob_hash, hdr, sizeof(hdr));
	return 0;
}

/* Push the c->len bytes in in->pt as chunk c of the new stream ak. */
static int
reseal_push(struct stream *in, struct stream *out, const struct attach_key *ak,
    const struct chunk *c, struct sira_err *err)
{
	unsigned long long ctlen;

	set_ad(out->ad, ak->msgid, ak->index, c->no);
	if (crypto_secretstream_xchacha20poly1305_push(&out->st, out->ct,
		&ctlen, in->pt, c->len, out->ad, AD_LEN,
		c->last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL :
			  0) != 0)
		return sira_err_set(
		    err, SIRA_ECRYPTO, _("attachment encryption failed"));
	if (fileio_write_all(out->fd, out->ct, (size_t)ctlen) != 0)
		return sira_err_set(err, SIRA_EIO,
		    _("cannot write attachment: %s"), strerror(errno));
	digest_stream_update(&out->blob_hash, out->ct, (size_t)ctlen);
	return 0;
}

static int
reseal_chunks(struct stream *in, struct stream *out,
    const struct attach_spool *sp, const struct attach_key *ak,
    struct sira_err *err)
{
	const struct attach_info *x = &sp->info;
	/* The stream the spool was written as, at queueing. */
	const struct attach_key from = { sp->key, sp->msgid, sp->index };
	uint64_t padded = attach_padme(x->plaintext_len);
	uint64_t n_chunks = chunks_for(padded, x->chunk_size);
	uint8_t extra;
	int rc;

	for (uint64_t i = 0; i < n_chunks; i++) {
		uint64_t off = i * x->chunk_size;
		struct chunk c = { i, chunk_bytes(padded, i, x->chunk_size),
			i + 1 == n_chunks };
		if ((rc = open_chunk(in, &from, &c, err)) != 0)
			return rc;
		digest_stream_update(&in->blob_hash, in->ct, c.len + TAG_LEN);
		/* Checks the padding and hashes the real bytes; writes none. */
		if ((rc = emit_chunk(
			 in, -1, off, c.len, x->plaintext_len, err)) != 0 ||
		    (rc = reseal_push(in, out, ak, &c, err)) != 0)
			return rc;
	}
	if (fileio_read_full(in->fd, &extra, 1) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("spooled document has bytes after its final chunk"));
	return 0;
}

int
attach_reseal(const struct attach_spool *spool, const struct attach_key *ak,
    int blob_fd, struct attach_info *info, struct sira_err *err)
{
	struct stream *in = NULL, *out = NULL;
	uint8_t spool_id[SIRA_HASH_LEN];
	uint32_t chunk = spool->info.chunk_size;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = check_expect(&spool->info, err)) != 0)
		return rc;
	if (stream_new(&in, chunk, spool->fd) != 0 ||
	    stream_new(&out, chunk, blob_fd) != 0) {
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		goto out;
	}
	digest_stream_init(&in->blob_hash);
	digest_stream_init(&in->pt_hash);
	digest_stream_init(&out->blob_hash);
	if ((rc = reseal_begin(in, out, spool->key, ak->key, err)) != 0 ||
	    (rc = reseal_chunks(in, out, spool, ak, err)) != 0)
		goto out;
	digest_stream_final(&in->blob_hash, spool_id);
	digest_stream_final(&in->pt_hash, info->plaintext_sha256);
	if (memcmp(spool_id, spool->info.blob_id, SIRA_HASH_LEN) != 0 ||
	    memcmp(info->plaintext_sha256, spool->info.plaintext_sha256,
		SIRA_HASH_LEN) != 0) {
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("spooled document does not match what was queued"));
		goto out;
	}
	digest_stream_final(&out->blob_hash, info->blob_id);
	info->plaintext_len = spool->info.plaintext_len;
	info->chunk_size = chunk;
	info->ct_len = attach_ct_len(info->plaintext_len, chunk);
out:
	stream_free(in, chunk);
	stream_free(out, chunk);
	return rc;
}
