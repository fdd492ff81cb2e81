/*
 * test_broker_blobs.c: the broker's attachment blob store (broker/blob_*.c)
 * with real files in a fresh mkdtemp() data directory and a real LMDB
 * spool.
 *
 * Blobs are random bytes named by their SHA-256, as the broker sees an
 * agent's secretstream ciphertext. Covered: chunked upload and finish;
 * resume after a broken upload and after a broker restart (usage recounted
 * from the files); retransmissions and overlaps are idempotent; a gap is
 * refused with the resume offset (ChunkStatus, then Nack(STATE)); a hash
 * mismatch deletes the upload; chunk, blob and quota limits at their edge
 * and one past it; file names are ours (hex of 32 bytes), symlinks are not
 * followed, another agency's upload cannot be touched; downloads only for
 * agencies with a queued envelope that references the blob (envelopes
 * built by hand and stored with spool_put, as test_broker_spool.c does);
 * the sweep deletes orphans, uploads gone idle, delivered blobs and
 * leftovers, and keeps what a spooled envelope references.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "blobs.h"
#include "digest.h"
#include "envelope.h"
#include "err.h"
#include "spool.h"
#include "store.h"
#include "wire.h"

#define MAP (64u << 20)
#define BODY (4096 + 16) /* SIZE_BUCKET_4K plus the AEAD tag */
#define KIB 1024u
#define CHUNK BLOBS_CHUNK_MAX

#define SENDER "ml.police.bamako"
#define ALPHA "ml.ngo.alpha"
#define BETA "ml.social.beta"
#define GAMMA "ml.justice.gamma"

struct fx {
	char dir[64];
	struct store *st;
	struct blobs *bs;
	struct blobs_limits lim;
};

struct blob {
	uint8_t *p;
	size_t len;
	uint8_t id[BLOBS_ID_LEN];
};

/* ---- files ---- */

static void
rm_tree(const char *path)
{
	struct stat sb;
	struct dirent *de;
	char sub[512];
	DIR *d;

	if (lstat(path, &sb) != 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		(void)unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			(void)snprintf(
			    sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		(void)closedir(d);
	}
	(void)rmdir(path);
}

/* DATA/blobs/<hex id><suffix> */
static void
blob_path(const struct fx *f, const uint8_t *id, const char *suffix,
    char out[static 256])
{
	char hex[2 * BLOBS_ID_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), id, BLOBS_ID_LEN);
	(void)snprintf(out, 256, "%s/blobs/%s%s", f->dir, hex, suffix);
}

static int
present(const struct fx *f, const uint8_t *id, const char *suffix)
{
	char path[256];
	struct stat sb;

	blob_path(f, id, suffix, path);
	return lstat(path, &sb) == 0;
}

static mode_t
mode_of(const struct fx *f, const uint8_t *id, const char *suffix)
{
	char path[256];
	struct stat sb;

	blob_path(f, id, suffix, path);
	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

/* ---- fixture ---- */

static int
open_blobs(struct fx *f)
{
	return blobs_open(f->dir, &f->lim, &f->bs, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-blobs-XXXXXX");
	f->lim.max_blob = 4u << 20;
	f->lim.quota = 3u << 20;
	f->lim.grace = 7 * 86400;
	if (mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, MAP, 0, &f->st, NULL) != 0 || open_blobs(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	blobs_close(&f->bs);
	store_close(&f->st);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/* ---- builders ---- */

static struct blob
make_blob(size_t len)
{
	struct blob b;

	b.len = len;
	assert_non_null(b.p = malloc(len > 0 ? len : 1));
	randombytes_buf(b.p, len);
	digest_sha256(b.id, b.p, len);
	return b;
}

static void
blob_free(struct blob *b)
{
	free(b->p);
	b->p = NULL;
}

static int
put(struct fx *f, const char *agency, const struct blob *b, uint64_t off,
    size_t len, bool last, struct blobs_state *s)
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = blobs_put(f->bs, agency,
	    &(struct blobs_chunk){
		b->id, off, bytes_of(b->p + off, len), last },
	    s, &err);
	assert_int_equal(err.code, -rc);
	return rc;
}

/* Upload all of b from offset from in chunks of chunk bytes. */
static int
upload(struct fx *f, const char *agency, const struct blob *b, uint64_t from,
    size_t chunk)
{
	struct blobs_state s;
	int rc = 0;

	for (uint64_t off = from; rc == 0;) {
		size_t n =
		    b->len - off < chunk ? (size_t)(b->len - off) : chunk;
		bool last = off + n == b->len;
		rc = put(f, agency, b, off, n, last, &s);
		if (rc == 0 && last) {
			assert_true(s.complete);
			assert_int_equal(s.stored, b->len);
			break;
		}
		if (rc == 0)
			assert_int_equal(s.stored, off + n);
		off += n;
	}
	return rc;
}

/* The whole complete blob, read back in chunks through blobs_read. */
static void
assert_stored(struct fx *f, const struct blob *b)
{
	struct blobs_buf buf = { malloc(CHUNK), CHUNK, 0 };
	uint64_t total = 0, off = 0;

	assert_non_null(buf.p);
	do {
		assert_int_equal(
		    blobs_read(f->bs, b->id, off, &buf, &total, NULL), 0);
		assert_int_equal(total, b->len);
		assert_memory_equal(buf.p, b->p + off, buf.n);
		off += buf.n;
	} while (buf.n > 0);
	assert_int_equal(off, b->len);
	free(buf.p);
}

/* An envelope from SENDER to rcpt[0..n) referencing blobs[0..nb). */
static uint8_t *
make_env(uint8_t id_byte, const char *const *rcpt, size_t n,
    const struct blob *const *blobs, size_t nb, size_t *len,
    struct envelope **e)
{
	Sira__V1__EnvelopeHeader h = SIRA__V1__ENVELOPE_HEADER__INIT;
	Sira__V1__Envelope ev = SIRA__V1__ENVELOPE__INIT;
	Sira__V1__RecipientWrap w[4], *wp[4];
	Sira__V1__AttachmentRef ar[4], *arp[4];
	uint8_t msgid[SIRA_MSGID_LEN], cid[32], pid[8], sealed[48];
	uint8_t commit[32], manifest[32], nonce[24], body[BODY], *hb, *raw;
	size_t hlen;

	assert_true(n >= 1 && n <= 4 && nb <= 4);
	memset(msgid, id_byte, sizeof(msgid));
	memset(cid, 0x11, sizeof(cid));
	memset(pid, 0x22, sizeof(pid));
	memset(sealed, 0x33, sizeof(sealed));
	memset(commit, 0x44, sizeof(commit));
	memset(manifest, 0x55, sizeof(manifest));
	memset(nonce, id_byte, sizeof(nonce));
	memset(body, 0x66, sizeof(body));
	for (size_t i = 0; i < n; i++) {
		sira__v1__recipient_wrap__init(&w[i]);
		w[i].agency_id = (char *)(uintptr_t)rcpt[i];
		w[i].cert_id = (ProtobufCBinaryData){ sizeof(cid), cid };
		w[i].prekey_id = (ProtobufCBinaryData){ sizeof(pid), pid };
		w[i].sealed = (ProtobufCBinaryData){ sizeof(sealed), sealed };
		wp[i] = &w[i];
	}
	for (size_t i = 0; i < nb; i++) {
		sira__v1__attachment_ref__init(&ar[i]);
		ar[i].index = (uint32_t)i;
		ar[i].blob_id = (ProtobufCBinaryData){ BLOBS_ID_LEN,
			(uint8_t *)(uintptr_t)blobs[i]->id };
		ar[i].ct_len = blobs[i]->len;
		arp[i] = &ar[i];
	}
	h.version = SIRA_ENVELOPE_VERSION;
	h.message_id = (ProtobufCBinaryData){ sizeof(msgid), msgid };
	h.sender_agency_id = (char *)(uintptr_t)SENDER;
	h.sender_cert_id = (ProtobufCBinaryData){ sizeof(cid), cid };
	h.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
	h.created_at = (uint64_t)time(NULL);
	h.expires_at = h.created_at + 86400;
	h.n_recipients = n;
	h.recipients = wp;
	h.key_commitment = (ProtobufCBinaryData){ sizeof(commit), commit };
	h.manifest_hash = (ProtobufCBinaryData){ sizeof(manifest), manifest };
	h.size_bucket = SIRA__V1__SIZE_BUCKET__SIZE_BUCKET_4K;
	h.n_attachments = nb;
	h.attachments = arp;
	h.body_nonce = (ProtobufCBinaryData){ sizeof(nonce), nonce };
	assert_int_equal(wire_pack(&h.base, &hb, &hlen, NULL), 0);
	ev.header = (ProtobufCBinaryData){ hlen, hb };
	ev.body_ct = (ProtobufCBinaryData){ sizeof(body), body };
	assert_int_equal(wire_pack(&ev.base, &raw, len, NULL), 0);
	free(hb);
	assert_int_equal(envelope_decode(raw, *len, e, NULL), 0);
	return raw;
}

/* Spool an envelope (committed); returns its sequence number. */
static uint64_t
spool(struct fx *f, uint8_t id_byte, const char *const *rcpt, size_t n,
    const struct blob *const *blobs, size_t nb)
{
	struct envelope *e = NULL;
	MDB_txn *txn;
	uint64_t seq = 0, now = (uint64_t)time(NULL);
	size_t len;
	uint8_t *raw = make_env(id_byte, rcpt, n, blobs, nb, &len, &e);

	assert_int_equal(store_begin(f->st, 0, &txn, NULL), 0);
	assert_int_equal(spool_put(txn, f->st,
			     &(struct spool_envelope){ e, bytes_of(raw, len),
				 SENDER, now, now + 86400, 0 },
			     &seq, NULL),
	    0);
	assert_int_equal(store_commit(txn, NULL), 0);
	envelope_destroy(&e);
	free(raw);
	return seq;
}

static void
spool_ack_one(struct fx *f, const char *agency, uint64_t seq)
{
	uint8_t hash[32];
	MDB_txn *txn;

	assert_int_equal(store_begin(f->st, 0, &txn, NULL), 0);
	assert_int_equal(spool_ack(txn, f->st, agency, seq, hash, NULL), 0);
	assert_int_equal(store_commit(txn, NULL), 0);
}

static int
may_read(struct fx *f, const char *agency, const uint8_t *id)
{
	struct sira_err err;
	MDB_txn *txn;
	int rc;

	sira_err_clear(&err);
	assert_int_equal(store_begin(f->st, 1, &txn, NULL), 0);
	rc = blobs_may_read(txn, f->st, agency, id, &err);
	mdb_txn_abort(txn);
	assert_int_equal(err.code, -rc);
	return rc;
}

static size_t
sweep(struct fx *f, uint64_t now)
{
	size_t n = 99;

	assert_int_equal(blobs_sweep(f->bs, f->st, now, &n, NULL), 0);
	return n;
}

/* ---- frames ---- */

/* Serve one chunk frame; answers unpacked into out[0..return). */
static size_t
serve(struct fx *f, const char *agency, Sira__V1__Frame *fr,
    Sira__V1__Frame *out[2], int *nack)
{
	struct blobs_answer a;

	fr->version = 1;
	fr->request_id = 77;
	blobs_serve(f->bs, f->st, agency, fr, &a);
	for (size_t i = 0; i < a.n; i++) {
		out[i] = sira__v1__frame__unpack(NULL, a.len[i], a.frame[i]);
		assert_non_null(out[i]);
		assert_int_equal(out[i]->request_id, 77);
		free(a.frame[i]);
	}
	*nack = a.nack;
	return a.n;
}

static void
free_frames(Sira__V1__Frame **fr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sira__v1__frame__free_unpacked(fr[i], NULL);
}

static size_t
serve_put(struct fx *f, const char *agency, const uint8_t *id, size_t id_len,
    uint64_t off, const uint8_t *ct, size_t len, bool last,
    Sira__V1__Frame *out[2], int *nack)
{
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkPut cp = SIRA__V1__CHUNK_PUT__INIT;
	Sira__V1__AttachmentChunk c = SIRA__V1__ATTACHMENT_CHUNK__INIT;

	c.blob_id = (ProtobufCBinaryData){ id_len, (uint8_t *)(uintptr_t)id };
	c.offset = off;
	c.ct = (ProtobufCBinaryData){ len, (uint8_t *)(uintptr_t)ct };
	c.last = last;
	cp.chunk = &c;
	fr.body_case = SIRA__V1__FRAME__BODY_CHUNK_PUT;
	fr.chunk_put = &cp;
	return serve(f, agency, &fr, out, nack);
}

static size_t
serve_get(struct fx *f, const char *agency, const uint8_t *id, size_t id_len,
    uint64_t off, Sira__V1__Frame *out[2], int *nack)
{
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkGet g = SIRA__V1__CHUNK_GET__INIT;

	g.blob_id = (ProtobufCBinaryData){ id_len, (uint8_t *)(uintptr_t)id };
	g.offset = off;
	fr.body_case = SIRA__V1__FRAME__BODY_CHUNK_GET;
	fr.chunk_get = &g;
	return serve(f, agency, &fr, out, nack);
}

static size_t
serve_status(struct fx *f, const char *agency, const uint8_t *id,
    Sira__V1__Frame *out[2], int *nack)
{
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkStatus q = SIRA__V1__CHUNK_STATUS__INIT;

	q.blob_id =
	    (ProtobufCBinaryData){ BLOBS_ID_LEN, (uint8_t *)(uintptr_t)id };
	fr.body_case = SIRA__V1__FRAME__BODY_CHUNK_STATUS;
	fr.chunk_status = &q;
	return serve(f, agency, &fr, out, nack);
}

/* Download all of b as agency through ChunkGet frames. */
static int
download(struct fx *f, const char *agency, const struct blob *b)
{
	Sira__V1__Frame *out[2];
	uint8_t *got = malloc(b->len + 1);
	uint64_t off = 0;
	int nack = 0, done = 0;

	assert_non_null(got);
	while (!done) {
		size_t n =
		    serve_get(f, agency, b->id, BLOBS_ID_LEN, off, out, &nack);
		const Sira__V1__AttachmentChunk *c;
		assert_int_equal(n, 1);
		if (nack != 0) {
			assert_int_equal(
			    out[0]->body_case, SIRA__V1__FRAME__BODY_NACK);
			assert_int_equal(out[0]->nack->reason, nack);
			free_frames(out, n);
			break;
		}
		assert_int_equal(
		    out[0]->body_case, SIRA__V1__FRAME__BODY_CHUNK_PUT);
		c = out[0]->chunk_put->chunk;
		assert_memory_equal(c->blob_id.data, b->id, BLOBS_ID_LEN);
		assert_int_equal(c->offset, off);
		assert_true(c->ct.len <= CHUNK && off + c->ct.len <= b->len);
		memcpy(got + off, c->ct.data, c->ct.len);
		off += c->ct.len;
		done = c->last;
		assert_int_equal(c->last, off == b->len);
		free_frames(out, n);
	}
	if (done)
		assert_memory_equal(got, b->p, b->len);
	free(got);
	return nack;
}

/* ---- upload ---- */

static void
test_upload_in_chunks(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(2 * CHUNK + 88 * KIB);
	struct blobs_state s;

	/* Nothing yet: start at 0. */
	assert_int_equal(blobs_stat(f->bs, SENDER, b.id, &s, NULL), 0);
	assert_int_equal(s.stored, 0);
	assert_false(s.complete);
	assert_int_equal(upload(f, SENDER, &b, 0, CHUNK), 0);
	assert_true(present(f, b.id, ""));
	assert_false(present(f, b.id, ".part"));
	assert_true(present(f, b.id, ".owner"));
	assert_int_equal(mode_of(f, b.id, ""), 0600);
	assert_int_equal(mode_of(f, b.id, ".owner"), 0600);
	assert_int_equal(mode_of(f, b.id, "") & 077, 0);
	assert_int_equal(blobs_usage(f->bs, SENDER), b.len);
	assert_int_equal(blobs_usage(f->bs, ALPHA), 0);
	assert_stored(f, &b);
	/* Anyone naming a complete blob learns only that it is complete. */
	assert_int_equal(blobs_stat(f->bs, ALPHA, b.id, &s, NULL), 0);
	assert_true(s.complete);
	assert_int_equal(s.stored, b.len);
	blob_free(&b);
}

static void
test_upload_frames(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(CHUNK + 5);
	Sira__V1__Frame *out[2];
	int nack;
	size_t n;

	n = serve_put(
	    f, SENDER, b.id, BLOBS_ID_LEN, 0, b.p, CHUNK, false, out, &nack);
	assert_int_equal(n, 1);
	assert_int_equal(nack, 0);
	assert_int_equal(out[0]->body_case, SIRA__V1__FRAME__BODY_CHUNK_STATUS);
	assert_memory_equal(
	    out[0]->chunk_status->blob_id.data, b.id, BLOBS_ID_LEN);
	assert_int_equal(out[0]->chunk_status->stored, CHUNK);
	assert_false(out[0]->chunk_status->complete);
	free_frames(out, n);
	/* A status query answers the resume offset. */
	n = serve_status(f, SENDER, b.id, out, &nack);
	assert_int_equal(n, 1);
	assert_int_equal(out[0]->chunk_status->stored, CHUNK);
	free_frames(out, n);
	n = serve_put(f, SENDER, b.id, BLOBS_ID_LEN, CHUNK, b.p + CHUNK, 5,
	    true, out, &nack);
	assert_int_equal(n, 1);
	assert_int_equal(nack, 0);
	assert_int_equal(out[0]->chunk_status->stored, b.len);
	assert_true(out[0]->chunk_status->complete);
	free_frames(out, n);
	assert_stored(f, &b);
	blob_free(&b);
}

static void
test_empty_chunk_and_empty_blob(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(0), c = make_blob(KIB);
	struct blobs_state s;

	/* An empty, non-final chunk creates nothing. */
	assert_int_equal(put(f, SENDER, &c, 0, 0, false, &s), 0);
	assert_int_equal(s.stored, 0);
	assert_false(present(f, c.id, ".part"));
	assert_false(present(f, c.id, ".owner"));
	/* An empty blob is SHA-256 of nothing: allowed, like any other. */
	assert_int_equal(put(f, SENDER, &b, 0, 0, true, &s), 0);
	assert_true(s.complete);
	assert_int_equal(s.stored, 0);
	assert_stored(f, &b);
	blob_free(&b);
	blob_free(&c);
}

/* The link breaks after two chunks; the broker even restarts. */
static void
test_resume_after_break(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(3 * CHUNK + 1000);
	struct blobs_state s;

	assert_int_equal(put(f, SENDER, &b, 0, CHUNK, false, &s), 0);
	assert_int_equal(put(f, SENDER, &b, CHUNK, CHUNK, false, &s), 0);
	assert_int_equal(s.stored, 2 * CHUNK);
	/* The agent reconnects and asks where to resume. */
	assert_int_equal(blobs_stat(f->bs, SENDER, b.id, &s, NULL), 0);
	assert_int_equal(s.stored, 2 * CHUNK);
	assert_false(s.complete);
	/* The broker restarts: state comes from the files alone. */
	blobs_close(&f->bs);
	assert_null(f->bs);
	assert_int_equal(open_blobs(f), 0);
	assert_int_equal(blobs_usage(f->bs, SENDER), 2 * CHUNK);
	assert_int_equal(blobs_stat(f->bs, SENDER, b.id, &s, NULL), 0);
	assert_int_equal(s.stored, 2 * CHUNK);
	assert_int_equal(upload(f, SENDER, &b, s.stored, CHUNK), 0);
	assert_stored(f, &b);
	assert_int_equal(blobs_usage(f->bs, SENDER), b.len);
	blob_free(&b);
}

static void
test_retransmission_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(3 * 100 * KIB);
	struct blobs_state s;

	assert_int_equal(put(f, SENDER, &b, 0, 100 * KIB, false, &s), 0);
	/* The same chunk again (our answer was lost): nothing written. */
	assert_int_equal(put(f, SENDER, &b, 0, 100 * KIB, false, &s), 0);
	assert_int_equal(s.stored, 100 * KIB);
	assert_int_equal(blobs_usage(f->bs, SENDER), 100 * KIB);
	/* A chunk overlapping the end: only its new tail is appended. */
	assert_int_equal(put(f, SENDER, &b, 50 * KIB, 100 * KIB, false, &s), 0);
	assert_int_equal(s.stored, 150 * KIB);
	assert_int_equal(blobs_usage(f->bs, SENDER), 150 * KIB);
	assert_int_equal(put(f, SENDER, &b, 150 * KIB, 150 * KIB, true, &s), 0);
	assert_true(s.complete);
	/* After completion, any chunk again is answered "complete". */
	assert_int_equal(put(f, SENDER, &b, 150 * KIB, 150 * KIB, true, &s), 0);
	assert_true(s.complete);
	assert_int_equal(s.stored, b.len);
	assert_int_equal(put(f, SENDER, &b, 0, 100 * KIB, false, &s), 0);
	assert_true(s.complete);
	assert_int_equal(blobs_usage(f->bs, SENDER), b.len);
	assert_stored(f, &b);
	blob_free(&b);
}

static void
test_gap_refused(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(3 * 64 * KIB);
	Sira__V1__Frame *out[2];
	struct blobs_state s;
	int nack;
	size_t n;

	/* Nothing stored: offset 64 KiB is a gap. */
	assert_int_equal(
	    put(f, SENDER, &b, 64 * KIB, 64 * KIB, false, &s), -SIRA_ESTATE);
	assert_int_equal(s.stored, 0);
	assert_false(present(f, b.id, ".part"));
	assert_int_equal(put(f, SENDER, &b, 0, 64 * KIB, false, &s), 0);
	assert_int_equal(
	    put(f, SENDER, &b, 128 * KIB, 64 * KIB, true, &s), -SIRA_ESTATE);
	assert_int_equal(s.stored, 64 * KIB);
	assert_false(s.complete);
	/* On the wire: ChunkStatus with the resume offset, then Nack(STATE). */
	n = serve_put(f, SENDER, b.id, BLOBS_ID_LEN, 128 * KIB, b.p + 128 * KIB,
	    64 * KIB, true, out, &nack);
	assert_int_equal(n, 2);
	assert_int_equal(nack, SIRA_ESTATE);
	assert_int_equal(out[0]->body_case, SIRA__V1__FRAME__BODY_CHUNK_STATUS);
	assert_int_equal(out[0]->chunk_status->stored, 64 * KIB);
	assert_int_equal(out[1]->body_case, SIRA__V1__FRAME__BODY_NACK);
	assert_int_equal(out[1]->nack->reason, SIRA_ESTATE);
	free_frames(out, n);
	/* A "last" chunk that ends before what is stored is refused too. */
	assert_int_equal(
	    put(f, SENDER, &b, 0, 32 * KIB, true, &s), -SIRA_ESTATE);
	assert_true(present(f, b.id, ".part"));
	assert_int_equal(upload(f, SENDER, &b, 64 * KIB, 64 * KIB), 0);
	assert_stored(f, &b);
	blob_free(&b);
}

static void
test_hash_mismatch_deletes(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(2 * 64 * KIB);
	struct blobs_state s;
	uint8_t last_byte;

	/* One byte altered in transit: the finished upload does not match. */
	assert_int_equal(put(f, SENDER, &b, 0, 64 * KIB, false, &s), 0);
	last_byte = b.p[b.len - 1];
	b.p[b.len - 1] ^= 1;
	assert_int_equal(
	    put(f, SENDER, &b, 64 * KIB, 64 * KIB, true, &s), -SIRA_EAUTH);
	assert_int_equal(s.stored, 0);
	assert_false(s.complete);
	assert_false(present(f, b.id, ""));
	assert_false(present(f, b.id, ".part"));
	assert_false(present(f, b.id, ".owner"));
	assert_int_equal(blobs_usage(f->bs, SENDER), 0);
	assert_int_equal(blobs_stat(f->bs, SENDER, b.id, &s, NULL), 0);
	assert_int_equal(s.stored, 0);
	/* Start again at 0 with the right bytes. */
	b.p[b.len - 1] = last_byte;
	assert_int_equal(upload(f, SENDER, &b, 0, 64 * KIB), 0);
	assert_stored(f, &b);
	blob_free(&b);
}

static void
test_limits(void **state)
{
	struct fx *f = *state;
	struct blob big = make_blob(f->lim.max_blob + 1);
	struct blob q1 = make_blob(2u << 20), q2 = make_blob(2u << 20);
	struct blob small = make_blob(KIB);
	struct blobs_state s;

	/* A chunk of 256 KiB is fine, one byte more is not. */
	assert_int_equal(blobs_put(f->bs, SENDER,
			     &(struct blobs_chunk){
				 big.id, 0, bytes_of(big.p, CHUNK + 1), false },
			     &s, NULL),
	    -SIRA_ETOOBIG);
	assert_false(present(f, big.id, ".part"));
	/* A blob of exactly max_blob would fit; one byte more does not.
	 * (Quota raised so that only the size cap speaks.) */
	f->lim.quota = 1ull << 40;
	blobs_close(&f->bs);
	assert_int_equal(open_blobs(f), 0);
	assert_int_equal(upload(f, SENDER, &big, 0, CHUNK), -SIRA_ETOOBIG);
	assert_true(present(f, big.id, ".part"));
	assert_int_equal(blobs_stat(f->bs, SENDER, big.id, &s, NULL), 0);
	assert_int_equal(s.stored, f->lim.max_blob);
	/* Quota back to 3 MiB: SENDER, with 4 MiB stored, may add nothing. */
	f->lim.quota = 3u << 20;
	blobs_close(&f->bs);
	assert_int_equal(open_blobs(f), 0);
	assert_int_equal(blobs_usage(f->bs, SENDER), f->lim.max_blob);
	assert_int_equal(
	    put(f, SENDER, &small, 0, KIB, true, &s), -SIRA_EQUOTA);
	assert_false(present(f, small.id, ".owner"));
	/* BETA: 2 MiB + 1 MiB fits exactly, one chunk more does not. */
	assert_int_equal(upload(f, BETA, &q1, 0, CHUNK), 0);
	assert_int_equal(put(f, BETA, &q2, 0, CHUNK, false, &s), 0);
	assert_int_equal(upload(f, BETA, &q2, CHUNK, CHUNK), -SIRA_EQUOTA);
	assert_int_equal(blobs_usage(f->bs, BETA), 3u << 20);
	assert_int_equal(blobs_stat(f->bs, BETA, q2.id, &s, NULL), 0);
	assert_int_equal(s.stored, 1u << 20);
	/* Retransmissions cost nothing, so they still pass at the limit. */
	assert_int_equal(put(f, BETA, &q2, 0, CHUNK, false, &s), 0);
	/* Another agency has its own quota. */
	assert_int_equal(upload(f, ALPHA, &small, 0, CHUNK), 0);
	assert_int_equal(blobs_usage(f->bs, ALPHA), KIB);
	blob_free(&big);
	blob_free(&q1);
	blob_free(&q2);
	blob_free(&small);
}

/* ---- path safety ---- */

static void
test_names_are_ours(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(KIB);
	Sira__V1__Frame *out[2];
	uint8_t evil[BLOBS_ID_LEN];
	struct blobs_state s;
	char path[256];
	int nack;
	size_t n;

	/* A blob id of any other length is refused before any file. */
	n = serve_put(f, SENDER, b.id, 31, 0, b.p, b.len, true, out, &nack);
	assert_int_equal(nack, SIRA_EMALFORMED);
	free_frames(out, n);
	n = serve_put(f, SENDER, (const uint8_t *)"../../../../etc/passwd", 22,
	    0, b.p, b.len, true, out, &nack);
	assert_int_equal(nack, SIRA_EMALFORMED);
	free_frames(out, n);
	n = serve_get(f, SENDER, b.id, 33, 0, out, &nack);
	assert_int_equal(nack, SIRA_EMALFORMED);
	free_frames(out, n);
	/* A 32-byte id made of path characters is only ever hex on disk. */
	memset(evil, 0, sizeof(evil));
	memcpy(evil, "../../x/../", 11);
	assert_int_equal(
	    blobs_put(f->bs, SENDER,
		&(struct blobs_chunk){ evil, 0, bytes_of(b.p, 10), false }, &s,
		NULL),
	    0);
	assert_true(present(f, evil, ".part"));
	blob_path(f, evil, ".part", path);
	assert_non_null(strstr(path, "/blobs/2e2e2f2e2e2f782f2e2e2f00"));
	blob_free(&b);
}

static void
test_symlinks_not_followed(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(KIB), c = make_blob(KIB);
	struct blobs_state s;
	char path[256], target[128];
	struct blobs_buf buf = { malloc(CHUNK), CHUNK, 0 };
	struct stat sb;
	uint64_t total;
	int fd;

	assert_non_null(buf.p);
	/* A symlink planted where an upload would go: not written through. */
	(void)snprintf(target, sizeof(target), "%s/victim", f->dir);
	assert_true((fd = open(target, O_WRONLY | O_CREAT, 0600)) >= 0);
	(void)close(fd);
	blob_path(f, b.id, ".part", path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(put(f, SENDER, &b, 0, b.len, false, &s), -SIRA_EIO);
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* A symlink as a complete blob: never read through either. */
	blob_path(f, c.id, "", path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(
	    blobs_read(f->bs, c.id, 0, &buf, &total, NULL), -SIRA_EIO);
	assert_int_equal(put(f, SENDER, &c, 0, c.len, true, &s), -SIRA_EIO);
	/* The sweep leaves foreign files alone, symlinks included. */
	(void)sweep(f, (uint64_t)time(NULL) + 30 * 86400);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(stat(target, &sb), 0);
	/* A blob directory that is a symlink is refused at open. */
	blobs_close(&f->bs);
	(void)snprintf(path, sizeof(path), "%s/blobs", f->dir);
	rm_tree(path);
	assert_int_equal(symlink(f->dir, path), 0);
	assert_int_equal(open_blobs(f), -SIRA_EIO);
	assert_null(f->bs);
	free(buf.p);
	blob_free(&b);
	blob_free(&c);
}

static void
test_foreign_upload_untouchable(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(2 * 64 * KIB);
	Sira__V1__Frame *out[2];
	struct blobs_state s;
	int nack;
	size_t n;

	assert_int_equal(put(f, SENDER, &b, 0, 64 * KIB, false, &s), 0);
	assert_int_equal(
	    put(f, ALPHA, &b, 64 * KIB, 64 * KIB, true, &s), -SIRA_EDENIED);
	assert_int_equal(
	    blobs_stat(f->bs, ALPHA, b.id, &s, NULL), -SIRA_EDENIED);
	n = serve_status(f, ALPHA, b.id, out, &nack);
	assert_int_equal(n, 1);
	assert_int_equal(nack, SIRA_EDENIED);
	free_frames(out, n);
	assert_int_equal(blobs_usage(f->bs, ALPHA), 0);
	assert_int_equal(upload(f, SENDER, &b, 64 * KIB, 64 * KIB), 0);
	blob_free(&b);
}

/* ---- download ---- */

static void
test_download_authorisation(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(2 * CHUNK + 3), other = make_blob(KIB);
	const struct blob *refs[1] = { &b };
	const char *const to[2] = { ALPHA, BETA };
	Sira__V1__Frame *out[2];
	uint64_t seq;
	int nack;
	size_t n;

	assert_int_equal(upload(f, SENDER, &b, 0, CHUNK), 0);
	assert_int_equal(upload(f, SENDER, &other, 0, CHUNK), 0);
	/* Nobody may read before an envelope references the blob. */
	assert_int_equal(may_read(f, ALPHA, b.id), -SIRA_EDENIED);
	seq = spool(f, 1, to, 2, refs, 1);
	(void)spool(f, 2, to + 1, 1, NULL, 0); /* no attachments */
	assert_int_equal(may_read(f, ALPHA, b.id), 0);
	assert_int_equal(may_read(f, BETA, b.id), 0);
	assert_int_equal(may_read(f, GAMMA, b.id), -SIRA_EDENIED);
	assert_int_equal(may_read(f, SENDER, b.id), -SIRA_EDENIED);
	assert_int_equal(may_read(f, ALPHA, other.id), -SIRA_EDENIED);
	assert_int_equal(download(f, ALPHA, &b), 0);
	assert_int_equal(download(f, GAMMA, &b), SIRA_EDENIED);
	assert_int_equal(download(f, SENDER, &b), SIRA_EDENIED);
	/* Offsets past the end are refused; exactly the end is empty. */
	n = serve_get(f, BETA, b.id, BLOBS_ID_LEN, b.len + 1, out, &nack);
	assert_int_equal(nack, SIRA_EINVAL);
	free_frames(out, n);
	n = serve_get(f, BETA, b.id, BLOBS_ID_LEN, b.len, out, &nack);
	assert_int_equal(nack, 0);
	assert_int_equal(out[0]->chunk_put->chunk->ct.len, 0);
	assert_true(out[0]->chunk_put->chunk->last);
	free_frames(out, n);
	/* Once ALPHA acknowledged the envelope, it is done with the blob. */
	spool_ack_one(f, ALPHA, seq);
	assert_int_equal(download(f, ALPHA, &b), SIRA_EDENIED);
	assert_int_equal(download(f, BETA, &b), 0);
	blob_free(&b);
	blob_free(&other);
}

static void
test_download_not_uploaded(void **state)
{
	struct fx *f = *state;
	struct blob b = make_blob(2 * 64 * KIB);
	const struct blob *refs[1] = { &b };
	const char *const to[1] = { ALPHA };
	struct blobs_state s;

	(void)spool(f, 1, to, 1, refs, 1);
	assert_int_equal(download(f, ALPHA, &b), SIRA_ENOTFOUND);
	/* Half uploaded is still not there for the recipient. */
	assert_int_equal(put(f, SENDER, &b, 0, 64 * KIB, false, &s), 0);
	assert_int_equal(download(f, ALPHA, &b), SIRA_ENOTFOUND);
	assert_int_equal(upload(f, SENDER, &b, 64 * KIB, 64 * KIB), 0);
	assert_int_equal(download(f, ALPHA, &b), 0);
	blob_free(&b);
}

/* ---- garbage collection ---- */

static void
test_sweep(void **state)
{
	struct fx *f = *state;
	struct blob kept = make_blob(3 * KIB), orphan = make_blob(2 * KIB);
	struct blob idle = make_blob(4 * KIB), used = make_blob(5 * KIB);
	struct blob partial = make_blob(6 * KIB), stray = make_blob(KIB);
	const struct blob *r1[2] = { &kept, &partial }, *r2[1] = { &used };
	const char *const to[1] = { ALPHA };
	uint64_t now = (uint64_t)time(NULL), later = now + f->lim.grace + 60;
	struct blobs_state s;
	char path[256], other[256];
	uint64_t seq;
	int fd;

	assert_int_equal(upload(f, SENDER, &kept, 0, CHUNK), 0);
	assert_int_equal(upload(f, SENDER, &orphan, 0, CHUNK), 0);
	assert_int_equal(upload(f, SENDER, &used, 0, CHUNK), 0);
	assert_int_equal(put(f, SENDER, &idle, 0, KIB, false, &s), 0);
	assert_int_equal(put(f, SENDER, &partial, 0, KIB, false, &s), 0);
	(void)spool(f, 1, to, 1, r1, 2);
	seq = spool(f, 2, to, 1, r2, 1);
	/* Leftovers: an owner file alone, and files that are not ours. */
	blob_path(f, stray.id, ".owner", path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(
	    write(fd, ALPHA, strlen(ALPHA)), (ssize_t)strlen(ALPHA));
	(void)close(fd);
	(void)snprintf(other, sizeof(other), "%s/blobs/notes.txt", f->dir);
	assert_true((fd = open(other, O_WRONLY | O_CREAT, 0600)) >= 0);
	(void)close(fd);

	/* Now: everything is fresh; only the stray owner file goes. */
	assert_int_equal(sweep(f, now), 0);
	assert_false(present(f, stray.id, ".owner"));
	assert_true(present(f, orphan.id, ""));
	assert_true(present(f, idle.id, ".part"));
	/* Referenced complete blobs are marked as seen in use. */
	assert_int_equal(mode_of(f, kept.id, ""), 0400);
	assert_int_equal(mode_of(f, used.id, ""), 0400);
	assert_int_equal(mode_of(f, orphan.id, ""), 0600);

	/* Every recipient acknowledged: a used blob goes at the next sweep. */
	spool_ack_one(f, ALPHA, seq);
	assert_int_equal(sweep(f, now), 1);
	assert_false(present(f, used.id, ""));
	assert_false(present(f, used.id, ".owner"));
	assert_true(present(f, orphan.id, ""));

	/* After the grace period: unreferenced blobs and uploads go; what
	 * a spooled envelope references stays, complete or not. */
	assert_int_equal(sweep(f, later), 2);
	assert_false(present(f, orphan.id, ""));
	assert_false(present(f, orphan.id, ".owner"));
	assert_false(present(f, idle.id, ".part"));
	assert_false(present(f, idle.id, ".owner"));
	assert_true(present(f, kept.id, ""));
	assert_true(present(f, kept.id, ".owner"));
	assert_true(present(f, partial.id, ".part"));
	assert_int_equal(blobs_usage(f->bs, SENDER), kept.len + KIB);
	assert_int_equal(access(other, F_OK), 0);
	/* The recount after a restart agrees. */
	blobs_close(&f->bs);
	assert_int_equal(open_blobs(f), 0);
	assert_int_equal(blobs_usage(f->bs, SENDER), kept.len + KIB);
	assert_int_equal(download(f, ALPHA, &kept), 0);
	blob_free(&kept);
	blob_free(&orphan);
	blob_free(&idle);
	blob_free(&used);
	blob_free(&partial);
	blob_free(&stray);
}

static void
test_no_store(void **state)
{
	struct fx *f = *state;
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkStatus q = SIRA__V1__CHUNK_STATUS__INIT;
	struct blobs_answer a;

	fr.body_case = SIRA__V1__FRAME__BODY_CHUNK_STATUS;
	fr.chunk_status = &q;
	blobs_serve(NULL, f->st, ALPHA, &fr, &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.nack, SIRA_ESTATE);
	free(a.frame[0]);
	blobs_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_upload_in_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_upload_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_empty_chunk_and_empty_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_resume_after_break, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retransmission_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_gap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_hash_mismatch_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_names_are_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_symlinks_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_foreign_upload_untouchable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_download_authorisation, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_download_not_uploaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_store, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("broker_blobs", tests, NULL, NULL);
}
