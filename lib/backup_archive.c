/*
 * backup_archive.c: the encrypted archive of backup.h: header, key
 * derivation, the writer and the reader. Owns crypto_pwhash (Argon2id13)
 * and crypto_secretstream_xchacha20poly1305 for archives only: the key
 * comes from the operator's passphrase, never from an agency's keys, so
 * linking it gives the broker no way to open a sealed message
 * (docs/ARCHITECTURE.md, tests/lint_boundary.sh).
 *
 * Header (72 bytes): magic "SIRABAK1", version be32, kind u8, 3 zero
 * bytes, opslimit be64, memlimit be64, salt(16), secretstream header(24).
 * Then chunks of BACKUP_CHUNK plaintext bytes (each + 17 bytes), the
 * first with the header as additional data, the last shorter and tagged
 * FINAL, nothing after it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "be64.h"
#include "fileio.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define KEYLEN crypto_secretstream_xchacha20poly1305_KEYBYTES
#define OPS_MAX 16ull
#define MEM_MAX ((uint64_t)1 << 30)
#define TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

_Static_assert(SS_HEADER == 24 && KEYLEN == 32, "backup header format");
_Static_assert(crypto_pwhash_SALTBYTES == BACKUP_SALT_LEN, "salt length");

struct backup_writer {
	int fd;
	char path[PATH_MAX], tmp[PATH_MAX];
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[BACKUP_HEADER_LEN];
	bool first;
	size_t have;
	uint8_t buf[BACKUP_CHUNK];
	uint8_t cbuf[BACKUP_CHUNK + ABYTES];
	uint8_t rbuf[BACKUP_CHUNK]; /* a source file's next bytes */
};

void
backup_cost_moderate(struct backup_cost *c)
{
	c->ops = crypto_pwhash_OPSLIMIT_MODERATE;
	c->mem = crypto_pwhash_MEMLIMIT_MODERATE;
}

int
backup_header_parse(const uint8_t *buf, size_t len, int kind,
    struct backup_header *out, struct sira_err *err)
{
	if (len < BACKUP_HEADER_LEN)
		return sira_err_set(err, SIRA_ETRUNCATED,
		    "not a Sira backup archive (too short)");
	if (memcmp(buf, BACKUP_MAGIC, BACKUP_MAGIC_LEN) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "not a Sira backup archive");
	out->version = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
	    (uint32_t)buf[10] << 8 | buf[11];
	if (out->version != BACKUP_VERSION)
		return sira_err_set(err, SIRA_EVERSION,
		    "backup archive version %u is not supported",
		    (unsigned)out->version);
	out->kind = buf[12];
	if (out->kind != kind || buf[13] != 0 || buf[14] != 0 || buf[15] != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    out->kind == BACKUP_AGENT ? "this is an agency's backup" :
			out->kind == BACKUP_BROKER ?
						"this is the broker's backup" :
						"unknown backup kind");
	out->ops = be64_get(buf + 16);
	out->mem = be64_get(buf + 24);
	if (out->ops < crypto_pwhash_OPSLIMIT_MIN || out->ops > OPS_MAX ||
	    out->mem < crypto_pwhash_MEMLIMIT_MIN || out->mem > MEM_MAX)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "backup archive asks for an unreasonable key derivation");
	memcpy(out->salt, buf + 32, BACKUP_SALT_LEN);
	memcpy(out->stream, buf + 48, SS_HEADER);
	return 0;
}

static int
derive(uint8_t key[KEYLEN], const char *pass, size_t plen,
    const struct backup_header *h, struct sira_err *err)
{
	if (crypto_pwhash(key, KEYLEN, pass, plen, h->salt, h->ops,
		(size_t)h->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sira_err_set(err, SIRA_ENOMEM,
		    "not enough memory to derive the archive key");
	return 0;
}

static void
header_fill(struct backup_writer *w, int kind, const struct backup_cost *c)
{
	uint8_t *h = w->hdr;

	memset(h, 0, BACKUP_HEADER_LEN);
	memcpy(h, BACKUP_MAGIC, BACKUP_MAGIC_LEN);
	h[11] = BACKUP_VERSION;
	h[12] = (uint8_t)kind;
	be64_put(h + 16, c->ops);
	be64_put(h + 24, (uint64_t)c->mem);
	randombytes_buf(h + 32, BACKUP_SALT_LEN);
}

static int
writer_init(struct backup_writer *w, const struct backup_target *t,
    struct sira_err *err)
{
	struct backup_header hp;
	uint8_t key[KEYLEN];
	int rc;

	memset(&hp, 0, sizeof(hp));
	header_fill(w, t->kind, t->cost);
	if ((rc = backup_header_parse(
		 w->hdr, BACKUP_HEADER_LEN, t->kind, &hp, err)) != 0 ||
	    (rc = derive(key, t->pass, t->plen, &hp, err)) != 0) {
		sodium_memzero(key, sizeof(key));
		return rc;
	}
	(void)crypto_secretstream_xchacha20poly1305_init_push(
	    &w->st, w->hdr + 48, key);
	sodium_memzero(key, sizeof(key));
	if (fileio_write_all(w->fd, w->hdr, BACKUP_HEADER_LEN) != 0)
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", w->tmp, strerror(errno));
	return 0;
}

int
backup_create(const struct backup_target *t, struct backup_writer **out,
    struct sira_err *err)
{
	struct backup_writer *w;
	struct stat st;
	int rc;

	*out = NULL;
	if (lstat(t->path, &st) == 0)
		return sira_err_set(err, SIRA_EEXIST,
		    "%s already exists: choose another name", t->path);
	if ((w = sodium_malloc(sizeof(*w))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	memset(w, 0, sizeof(*w));
	w->first = true;
	if (snprintf(w->path, sizeof(w->path), "%s", t->path) >= PATH_MAX ||
	    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", t->path) >= PATH_MAX) {
		sodium_free(w);
		return sira_err_set(err, SIRA_EINVAL, "path too long");
	}
	w->fd = open(
	    w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rc = sira_err_set(err, errno == EEXIST ? SIRA_EEXIST : SIRA_EIO,
		    "%s: %s", w->tmp, strerror(errno));
		sodium_free(w);
		return rc;
	}
	if ((rc = writer_init(w, t, err)) != 0) {
		backup_discard(&w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Encrypt and write what buf holds as one chunk with tag. */
static int
push(struct backup_writer *w, unsigned char tag, struct sira_err *err)
{
	unsigned long long clen;

	(void)crypto_secretstream_xchacha20poly1305_push(&w->st, w->cbuf, &clen,
	    w->buf, w->have, w->first ? w->hdr : NULL,
	    w->first ? BACKUP_HEADER_LEN : 0, tag);
	w->first = false;
	sodium_memzero(w->buf, w->have);
	w->have = 0;
	if (fileio_write_all(w->fd, w->cbuf, (size_t)clen) != 0)
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", w->tmp, strerror(errno));
	return 0;
}

static int
put_bytes(
    struct backup_writer *w, const uint8_t *p, size_t n, struct sira_err *err)
{
	int rc;

	while (n > 0) {
		size_t k = BACKUP_CHUNK - w->have;
		if (k > n)
			k = n;
		memcpy(w->buf + w->have, p, k);
		w->have += k;
		p += k;
		n -= k;
		if (w->have == BACKUP_CHUNK &&
		    (rc = push(w, TAG_MSG, err)) != 0)
			return rc;
	}
	return 0;
}

int
backup_put_dir(struct backup_writer *w, const char *name, struct sira_err *err)
{
	uint8_t head[BACKUP_NAME_MAX + 11];

	if (!backup_name_ok(name, strlen(name)))
		return sira_err_set(
		    err, SIRA_EINVAL, "%s: a name a backup cannot hold", name);
	return put_bytes(
	    w, head, backup_rec_head(head, BACKUP_REC_DIR, name, 0), err);
}

/* Stream size bytes of fd into the archive. */
static int
put_content(struct backup_writer *w, int fd, uint64_t size, const char *src,
    struct sira_err *err)
{
	uint8_t *buf = w->rbuf;
	int rc;

	while (size > 0) {
		size_t want = size < BACKUP_CHUNK ? (size_t)size : BACKUP_CHUNK;
		ssize_t n = fileio_read_full(fd, buf, want);
		if (n < 0)
			return sira_err_set(
			    err, SIRA_EIO, "%s: %s", src, strerror(errno));
		if ((size_t)n < want)
			return sira_err_set(err, SIRA_EIO,
			    "%s shrank while it was being backed up: try again",
			    src);
		if ((rc = put_bytes(w, buf, want, err)) != 0)
			return rc;
		size -= want;
	}
	return 0;
}

int
backup_put_file(struct backup_writer *w, const char *name, const char *src,
    struct sira_err *err)
{
	uint8_t head[BACKUP_NAME_MAX + 11];
	struct stat st;
	int fd, rc;

	if (!backup_name_ok(name, strlen(name)))
		return sira_err_set(
		    err, SIRA_EINVAL, "%s: a name a backup cannot hold", name);
	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sira_err_set(err,
		    errno == ENOENT ? SIRA_ENOTFOUND : SIRA_EIO, "%s: %s", src,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return sira_err_set(
		    err, SIRA_EIO, "%s: not a regular file", src);
	}
	rc = put_bytes(w, head,
	    backup_rec_head(head, BACKUP_REC_FILE, name, (uint64_t)st.st_size),
	    err);
	if (rc == 0)
		rc = put_content(w, fd, (uint64_t)st.st_size, src, err);
	(void)close(fd);
	return rc;
}

/* One entry of a walk: its archive name and its path on disk. The walk
 * recurses once per directory level, bounded: a name longer than
 * BACKUP_NAME_MAX is refused. */
static int
put_entry( // NOLINT(misc-no-recursion)
    struct backup_writer *w, const char *name, const char *path,
    bool (*skip)(const char *rel), struct sira_err *err)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : /* gone meanwhile */
					 sira_err_set(
					     err, SIRA_EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if ((rc = backup_put_dir(w, name, err)) != 0)
			return rc;
		return backup_put_tree(w, name, path, skip, err);
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* sockets, symlinks: not kept */
	rc = backup_put_file(w, name, path, err);
	return rc == -SIRA_ENOTFOUND ? 0 : rc;
}

int
backup_put_tree( // NOLINT(misc-no-recursion)
    struct backup_writer *w, const char *prefix, const char *dir,
    bool (*skip)(const char *rel), struct sira_err *err)
{
	struct dirent **list = NULL;
	char name[PATH_MAX], path[PATH_MAX];
	int n, rc = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *d = list[i]->d_name;
		if (rc == 0 && strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
			int a = snprintf(name, sizeof(name), "%s%s%s", prefix,
			    prefix[0] ? "/" : "", d);
			int b = snprintf(path, sizeof(path), "%s/%s", dir, d);
			if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX)
				rc = sira_err_set(
				    err, SIRA_EINVAL, "%s: path too long", dir);
			else if (skip == NULL || !skip(name))
				rc = put_entry(w, name, path, skip, err);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	(void)snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

int
backup_finish(struct backup_writer **wp, struct sira_err *err)
{
	struct backup_writer *w = *wp;
	uint8_t head[BACKUP_NAME_MAX + 11];
	int rc;

	if ((rc = put_bytes(w, head,
		 backup_rec_head(head, BACKUP_REC_END, "", 0), err)) != 0 ||
	    (rc = push(w, TAG_FINAL, err)) != 0) {
		backup_discard(wp);
		return rc;
	}
	if (fsync(w->fd) != 0 || close(w->fd) != 0) {
		w->fd = -1;
		rc = sira_err_set(
		    err, SIRA_EIO, "%s: %s", w->tmp, strerror(errno));
		backup_discard(wp);
		return rc;
	}
	w->fd = -1;
	/* link, not rename: an archive that appeared meanwhile is kept */
	if (link(w->tmp, w->path) != 0) {
		rc = sira_err_set(err, errno == EEXIST ? SIRA_EEXIST : SIRA_EIO,
		    "%s: %s", w->path, strerror(errno));
		backup_discard(wp);
		return rc;
	}
	(void)unlink(w->tmp);
	if (fsync_parent(w->path) != 0)
		rc = sira_err_set(err, SIRA_EIO, "%s: fsync of directory: %s",
		    w->path, strerror(errno));
	sodium_memzero(&w->st, sizeof(w->st));
	sodium_free(w);
	*wp = NULL;
	return rc;
}

void
backup_discard(struct backup_writer **wp)
{
	struct backup_writer *w = *wp;

	if (w == NULL)
		return;
	if (w->fd >= 0)
		(void)close(w->fd);
	(void)unlink(w->tmp);
	sodium_memzero(&w->st, sizeof(w->st));
	sodium_free(w);
	*wp = NULL;
}

/* --- reading --- */

struct reader {
	int fd;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[BACKUP_HEADER_LEN];
	uint8_t buf[BACKUP_CHUNK];
	uint8_t cbuf[BACKUP_CHUNK + ABYTES];
};

static int
reader_start(
    struct reader *r, const struct backup_source *src, struct sira_err *err)
{
	struct backup_header h;
	uint8_t key[KEYLEN];
	ssize_t n;
	int rc;

	memset(&h, 0, sizeof(h));
	n = fileio_read_full(r->fd, r->hdr, BACKUP_HEADER_LEN);
	if (n < 0)
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", src->path, strerror(errno));
	if ((rc = backup_header_parse(r->hdr, (size_t)n, src->kind, &h, err)) !=
		0 ||
	    (rc = derive(key, src->pass, src->plen, &h, err)) != 0)
		return rc;
	rc = crypto_secretstream_xchacha20poly1305_init_pull(
	    &r->st, h.stream, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "bad backup archive header");
	return 0;
}

/* Read, open and parse every chunk up to FINAL. */
static int
reader_chunks(struct reader *r, struct backup_parser *p, struct sira_err *err)
{
	unsigned long long mlen;
	unsigned char tag = 0;
	bool first = true;
	ssize_t n;
	int rc;

	while (tag != TAG_FINAL) {
		n = fileio_read_full(r->fd, r->cbuf, sizeof(r->cbuf));
		if (n < 0)
			return sira_err_set(
			    err, SIRA_EIO, "%s", strerror(errno));
		if ((size_t)n < ABYTES)
			return sira_err_set(
			    err, SIRA_ETRUNCATED, "the archive is cut short");
		if (crypto_secretstream_xchacha20poly1305_pull(&r->st, r->buf,
			&mlen, &tag, r->cbuf, (unsigned long long)n,
			first ? r->hdr : NULL,
			first ? BACKUP_HEADER_LEN : 0) != 0)
			return sira_err_set(err, SIRA_EAUTH,
			    first ?
				"wrong passphrase, or the archive was altered" :
				"the archive was altered or cut short");
		if (tag != TAG_FINAL && (size_t)n < sizeof(r->cbuf))
			return sira_err_set(
			    err, SIRA_ETRUNCATED, "the archive is cut short");
		first = false;
		rc = backup_parser_feed(p, r->buf, (size_t)mlen, err);
		sodium_memzero(r->buf, (size_t)mlen);
		if (rc != 0)
			return rc;
	}
	if (fileio_read_full(r->fd, r->cbuf, 1) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "bytes follow the end of the archive");
	return backup_parser_finish(p, err);
}

int
backup_read(const struct backup_source *src, const struct backup_sink *s,
    struct sira_err *err)
{
	struct backup_parser *p;
	struct reader *r;
	int rc;

	if ((r = sodium_malloc(sizeof(*r))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if ((r->fd = open(src->path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = sira_err_set(err,
		    errno == ENOENT ? SIRA_ENOTFOUND : SIRA_EIO, "%s: %s",
		    src->path, strerror(errno));
		sodium_free(r);
		return rc;
	}
	if ((p = backup_parser_new(s)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
	else if ((rc = reader_start(r, src, err)) == 0)
		rc = reader_chunks(r, p, err);
	backup_parser_free(&p);
	(void)close(r->fd);
	sodium_memzero(&r->st, sizeof(r->st));
	sodium_free(r);
	return rc;
}
