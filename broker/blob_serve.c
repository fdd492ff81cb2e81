/*
 * blob_serve.c: the chunk frames that move blobs (blobs_serve; see
 * blobs.h): a ChunkPut uploads, a ChunkGet downloads to an agency that
 * may read the blob, a ChunkStatus asks what is stored. Each frame gets
 * its answers packed here; the router sends them. Logs identifiers and
 * sizes only.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blob_store.h"
#include "blobs.h"
#include "frames.h"
#include "log.h"

static void
answer_frame(struct blobs_answer *a, int rc, uint8_t *f, size_t len)
{
	if (rc != 0 || a->n >= 2) {
		free(rc == 0 ? f : NULL);
		return;
	}
	a->frame[a->n] = f;
	a->len[a->n++] = len;
}

static void
answer_nack(
    struct blobs_answer *a, uint64_t request_id, int code, const char *detail)
{
	uint8_t *f = NULL;
	size_t len = 0;
	int rc;

	code = code < 0 ? -code : code;
	rc = frames_nack(
	    &(struct nack){ .request_id = request_id,
		.reason = code,
		.detail = detail,
		.retry_after = code == SIRA_EQUOTA ? BLOBS_SWEEP_EVERY : 0 },
	    &f, &len);
	answer_frame(a, rc, f, len);
	a->nack = code;
}

static void
answer_status(struct blobs_answer *a, uint64_t request_id,
    const uint8_t id[static BLOBS_ID_LEN], const struct blobs_state *s)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkStatus cs = SIRA__V1__CHUNK_STATUS__INIT;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	cs.blob_id.data = (uint8_t *)(uintptr_t)id;
	cs.blob_id.len = BLOBS_ID_LEN;
	cs.stored = s->stored;
	cs.complete = s->complete;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_STATUS;
	f.chunk_status = &cs;
	rc = frames_pack(&f, request_id, &out, &len);
	answer_frame(a, rc, out, len);
}

/* A downloaded chunk ch travels as a ChunkPut from the broker. */
static void
answer_chunk(
    struct blobs_answer *a, uint64_t request_id, const struct blobs_chunk *ch)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkPut cp = SIRA__V1__CHUNK_PUT__INIT;
	Sira__V1__AttachmentChunk c = SIRA__V1__ATTACHMENT_CHUNK__INIT;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int rc;

	c.blob_id.data = (uint8_t *)(uintptr_t)ch->id;
	c.blob_id.len = BLOBS_ID_LEN;
	c.offset = ch->offset;
	c.ct.data = (uint8_t *)(uintptr_t)ch->ct.p;
	c.ct.len = ch->ct.len;
	c.last = ch->last;
	cp.chunk = &c;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_PUT;
	f.chunk_put = &cp;
	rc = frames_pack(&f, request_id, &out, &outlen);
	answer_frame(a, rc, out, outlen);
}

static void
refused(const char *agency, const char *what, const uint8_t *id, int rc,
    const struct sira_err *err)
{
	char hex[BLOB_HEX_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), id, BLOBS_ID_LEN);
	log_event(
	    rc == -SIRA_ESTATE || rc == -SIRA_ENOTFOUND ? LOG_INFO : LOG_WARN,
	    "blob.refused", "agency=%s op=%s blob=%s reason=%s detail=%s",
	    agency, what, hex, sira_strerror(rc), err->msg);
}

static void
fetched(const char *agency, const uint8_t *id, uint64_t size)
{
	char hex[BLOB_HEX_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), id, BLOBS_ID_LEN);
	log_event(LOG_INFO, "blob.fetched", "agency=%s blob=%s size=%llu",
	    agency, hex, (unsigned long long)size);
}

static void
serve_put(struct blobs *bs, const char *agency, const Sira__V1__Frame *fr,
    struct blobs_answer *a)
{
	const Sira__V1__AttachmentChunk *c = fr->chunk_put->chunk;
	struct blobs_state s;
	struct sira_err err;
	char hex[BLOB_HEX_LEN + 1];
	int rc;

	sira_err_clear(&err);
	if (c == NULL || c->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a chunk needs a 32-byte blob id");
		return;
	}
	rc = blobs_put(bs, agency,
	    &(struct blobs_chunk){ c->blob_id.data, c->offset,
		bytes_of(c->ct.data, c->ct.len), c->last != 0 },
	    &s, &err);
	if (rc == 0 || rc == -SIRA_ESTATE)
		answer_status(a, fr->request_id, c->blob_id.data, &s);
	if (rc != 0) {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "put", c->blob_id.data, rc, &err);
	} else if (s.complete && c->last) {
		(void)sodium_bin2hex(
		    hex, sizeof(hex), c->blob_id.data, BLOBS_ID_LEN);
		log_event(LOG_INFO, "blob.stored",
		    "agency=%s blob=%s size=%llu", agency, hex,
		    (unsigned long long)s.stored);
	}
}

static void
serve_get(struct blobs *bs, struct store *st, const char *agency,
    const Sira__V1__Frame *fr, struct blobs_answer *a)
{
	const Sira__V1__ChunkGet *g = fr->chunk_get;
	struct blobs_buf buf = { NULL, BLOBS_CHUNK_MAX, 0 };
	uint64_t total = 0;
	struct sira_err err;
	MDB_txn *txn;
	int rc;

	sira_err_clear(&err);
	if (g->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a chunk request needs a 32-byte blob id");
		return;
	}
	if ((rc = store_begin(st, 1, &txn, &err)) == 0) {
		rc = blobs_may_read(txn, st, agency, g->blob_id.data, &err);
		store_abort(txn);
	}
	if (rc == 0 && (buf.p = malloc(buf.cap)) == NULL)
		rc = sira_err_set(&err, SIRA_ENOMEM, "out of memory");
	if (rc == 0)
		rc = blobs_read(
		    bs, g->blob_id.data, g->offset, &buf, &total, &err);
	if (rc == 0) {
		answer_chunk(a, fr->request_id,
		    &(struct blobs_chunk){ g->blob_id.data, g->offset,
			bytes_of(buf.p, buf.n), g->offset + buf.n == total });
		if (g->offset + buf.n == total)
			fetched(agency, g->blob_id.data, total);
	} else {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "get", g->blob_id.data, rc, &err);
	}
	free(buf.p);
}

static void
serve_status(struct blobs *bs, const char *agency, const Sira__V1__Frame *fr,
    struct blobs_answer *a)
{
	const Sira__V1__ChunkStatus *q = fr->chunk_status;
	struct blobs_state s;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	if (q->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a status query needs a 32-byte blob id");
		return;
	}
	if ((rc = blobs_stat(bs, agency, q->blob_id.data, &s, &err)) == 0)
		answer_status(a, fr->request_id, q->blob_id.data, &s);
	else {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "status", q->blob_id.data, rc, &err);
	}
}

void
blobs_serve(struct blobs *bs, struct store *st, const char *agency,
    const Sira__V1__Frame *fr, struct blobs_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (bs == NULL) {
		answer_nack(a, fr->request_id, SIRA_ESTATE,
		    "this broker does not store attachments");
		return;
	}
	switch (fr->body_case) {
	case SIRA__V1__FRAME__BODY_CHUNK_PUT:
		serve_put(bs, agency, fr, a);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_GET:
		serve_get(bs, st, agency, fr, a);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_STATUS:
		serve_status(bs, agency, fr, a);
		break;
	default:
		answer_nack(
		    a, fr->request_id, SIRA_EINVAL, "not a chunk frame");
		break;
	}
}
