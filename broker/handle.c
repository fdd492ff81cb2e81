/*
 * handle.c: what the broker does with one frame from an authenticated
 * agency.
 *
 * The agency is the ZAP User-Id of the frame, re-checked against the
 * current directory on every frame, so a revocation loaded by SIGHUP stops
 * an agency that is already connected. Checks that need no store (frame
 * shape, sender = session, recipients known, time, policy) happen here and
 * are answered at once; work that changes the store is queued in the batch
 * and answered after the group commit (commit.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "blobs.h"
#include "envelope.h"
#include "frames.h"
#include "digest.h"
#include "log.h"
#include "prekey_verify.h"
#include "prekeys.h"
#include "wire.h"

/* Send frame (freed here) to rq's connection now. */
static void
reply_now(const struct request *rq, uint8_t *frame, size_t len)
{
	(void)send_frame(rq->b, rq->rid, rq->rid_len, frame, len);
	free(frame);
}

static void
nack_now(const struct request *rq, const struct nack *nk)
{
	uint8_t *f;
	size_t len;

	rq->b->count.nacked++;
	if (frames_nack(nk, &f, &len) == 0)
		reply_now(rq, f, len);
}

/* The newest signed checkpoint (checkpoints are keyed by be64 size), or
 * NULL when the log has none yet. The caller frees it. */
static Sira__V1__SignedCheckpoint *
latest_checkpoint(const struct broker *b, MDB_txn *txn)
{
	const uint8_t *cp;
	size_t len;

	if (tlog_checkpoint_last(txn, &b->tlog, &cp, &len) != 0)
		return NULL;
	return sira__v1__signed_checkpoint__unpack(NULL, len, cp);
}

static void
on_hello(const struct request *rq, struct session *s, const struct cert *c,
    const Sira__V1__Frame *fr)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Welcome w = SIRA__V1__WELCOME__INIT;
	struct broker *b = rq->b;
	uint64_t count = 0, bytes = 0;
	MDB_txn *txn;
	uint8_t *out;
	size_t len;

	if (fr->hello->version != 1) {
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = SIRA_EVERSION,
			.detail = "unsupported protocol version" });
		return;
	}
	memcpy(s->rid, rq->rid, rq->rid_len);
	s->rid_len = rq->rid_len;
	memcpy(s->cert_id, c->id, SIRA_HASH_LEN);
	s->active = true;
	s->since = rq->now;
	session_reset(s); /* resend everything not acknowledged */
	if (store_begin(b->store, 1, &txn, NULL) == 0) {
		(void)spool_usage(txn, b->store, s->agency_id, &count, &bytes);
		w.checkpoint = latest_checkpoint(b, txn);
		store_abort(txn);
	}
	w.version = 1;
	w.broker_time = rq->now;
	w.spooled = count;
	w.max_frame = (uint32_t)b->cfg.max_frame;
	w.rate = (uint32_t)b->cfg.rate;
	w.burst = (uint32_t)b->cfg.burst;
	f.body_case = SIRA__V1__FRAME__BODY_WELCOME;
	f.welcome = &w;
	if (frames_pack(&f, fr->request_id, &out, &len) == 0)
		(void)batch_reply(rq->bt, rq->rid, rq->rid_len, out, len);
	if (w.checkpoint != NULL)
		sira__v1__signed_checkpoint__free_unpacked(w.checkpoint, NULL);
	batch_leaf(rq->bt,
	    &(struct leaf_event){
		.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_PEER_CONNECTED,
		.hash = c->id,
		.actor = s->agency_id });
	log_event(LOG_INFO, "peer.connected", "agency=%s spooled=%llu",
	    s->agency_id, (unsigned long long)count);
}

/* Refuse an envelope that parsed: nack now, and log the refusal. */
static void
refuse(const struct request *rq, uint64_t request_id, const struct envelope *e,
    const char *agency, int code, const char *detail)
{
	if (code < 0)
		code = -code;
	nack_now(rq,
	    &(struct nack){ request_id,
		bytes_of(e->h->message_id.data, SIRA_MSGID_LEN), code, detail,
		0 });
	batch_leaf(rq->bt,
	    &(struct leaf_event){
		.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_NACKED,
		.hash = e->hash,
		.actor = agency,
		.bucket = (uint32_t)e->h->size_bucket,
		.reason = (uint32_t)code });
	log_event(LOG_WARN, "envelope.refused", "from=%s reason=%s detail=%s",
	    agency, sira_strerror(code), detail);
}

/* The routing checks; returns 0 or a code, with a reason in err. */
static int
check_route(struct broker *b, const struct envelope *e, const char *agency,
    const struct cert *sender, uint64_t now, struct sira_err *err)
{
	const Sira__V1__EnvelopeHeader *h = e->h;
	int rc;

	if (strcmp(h->sender_agency_id, agency) != 0)
		return sira_err_set(err, SIRA_ESPOOF,
		    "header sender %s is not the authenticated %s",
		    h->sender_agency_id, agency);
	if (directory_by_id(b->dir, agency, h->sender_cert_id.data, now) ==
	    NULL)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    "the sender certificate is not valid here");
	if ((rc = envelope_check_time(e, now, err)) != 0)
		return rc;
	for (size_t i = 0; i < h->n_recipients; i++) {
		const struct cert *r = directory_by_agency(
		    b->dir, h->recipients[i]->agency_id, now);
		if (r == NULL)
			return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
			    "unknown or revoked recipient %s",
			    h->recipients[i]->agency_id);
		if ((rc = policy_check(b->policy, sender->role, (int)h->kind,
			 r->role, err)) != 0)
			return rc;
	}
	return 0;
}

static void
on_submit(const struct request *rq, const struct cert *sender,
    const Sira__V1__Frame *fr)
{
	const ProtobufCBinaryData *raw = &fr->submit->envelope;
	struct batch *bt = rq->bt;
	struct pending_submit *p;
	struct envelope *e = NULL;
	struct sira_err err;
	int rc;

	if ((rc = envelope_decode(raw->data, raw->len, &e, &err)) != 0) {
		rq->b->count.malformed++;
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = rc,
			.detail = err.msg });
		return;
	}
	if ((rc = check_route(
		 rq->b, e, sender->agency_id, sender, rq->now, &err)) != 0) {
		refuse(rq, fr->request_id, e, sender->agency_id, rc, err.msg);
		envelope_destroy(&e);
		return;
	}
	p = bt->n_sub < BROKER_BATCH ? &bt->sub[bt->n_sub] : NULL;
	if (p == NULL || (p->raw = malloc(raw->len)) == NULL) {
		nack_now(rq,
		    &(struct nack){ fr->request_id,
			bytes_of(e->h->message_id.data, SIRA_MSGID_LEN),
			SIRA_ERATE, "broker busy; retry", 1 });
		envelope_destroy(&e);
		return;
	}
	memcpy(p->raw, raw->data, raw->len);
	p->raw_len = raw->len;
	memcpy(p->rid, rq->rid, rq->rid_len);
	p->rid_len = rq->rid_len;
	(void)snprintf(p->agency, sizeof(p->agency), "%s", sender->agency_id);
	p->request_id = fr->request_id;
	p->env = e;
	bt->n_sub++;
}

static void
on_ack(struct batch *bt, struct session *s, const Sira__V1__Frame *fr)
{
	/* A full batch drops the Ack but keeps the delivery in flight: it is
	 * resent after the redelivery time and acknowledged again. Forgetting
	 * it here would leave it in the spool with the cursor past it. */
	if (bt->n_ack >= BROKER_BATCH)
		return;
	session_forget_inflight(s, fr->ack->delivery_id);
	(void)snprintf(bt->ack[bt->n_ack].agency,
	    sizeof(bt->ack[bt->n_ack].agency), "%s", s->agency_id);
	bt->ack[bt->n_ack++].seq = fr->ack->delivery_id;
}

/* A prekey is published only if it verifies against the sender's own
 * current certificate: the broker does not store junk for others to fetch,
 * though agents verify every prekey again themselves. */
static void
on_prekey(
    const struct request *rq, const struct cert *c, const Sira__V1__Frame *fr)
{
	const Sira__V1__Prekey *pk = fr->publish_prekey->prekey;
	struct batch *bt = rq->bt;
	struct digest_part part;
	struct pending_prekey *p;
	struct prekey *v = NULL;
	struct sira_err err;
	uint8_t *raw = NULL;
	size_t len;
	int rc;

	if (pk == NULL || (rc = wire_pack(&pk->base, &raw, &len, &err)) != 0 ||
	    (rc = prekey_verify(c, raw, len, rq->now, &v, &err)) != 0) {
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = pk == NULL ? SIRA_EMALFORMED : rc,
			.detail = pk == NULL ? "no prekey" : err.msg });
		free(raw);
		return;
	}
	prekey_destroy(&v);
	if (bt->n_prekey >= BROKER_BATCH) {
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = SIRA_ERATE,
			.detail = "broker busy; retry",
			.retry_after = 1 });
		free(raw);
		return;
	}
	p = &bt->prekey[bt->n_prekey++];
	memcpy(p->rid, rq->rid, rq->rid_len);
	p->rid_len = rq->rid_len;
	p->request_id = fr->request_id;
	(void)snprintf(p->agency, sizeof(p->agency), "%s", c->agency_id);
	p->raw = raw;
	p->len = len;
	/* Its log leaf names it by the prekey id hash (PROTOCOL.md 2): over
	 * the signed bytes only, like a cert_id. */
	part.p = pk->tbs.data;
	part.len = pk->tbs.len;
	digest_lp(p->hash, SIRA_DH_PREKEY_ID, &part, 1);
}

/* The directory: every certificate (optionally only some agencies), the
 * latest signed prekey of each, and the CRL. Agents verify all of it. */
static int
pack_directory(struct broker *b, const Sira__V1__DirectoryRequest *q,
    uint64_t request_id, uint8_t **out, size_t *len)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__DirectoryResponse r = SIRA__V1__DIRECTORY_RESPONSE__INIT;
	size_t n = b->dir->n + 1;
	MDB_txn *txn = NULL;
	int rc = -SIRA_ENOMEM;

	if ((r.certs = calloc(n, sizeof(*r.certs))) == NULL ||
	    (r.prekeys = calloc(n, sizeof(*r.prekeys))) == NULL)
		goto out;
	(void)store_begin(b->store, 1, &txn, NULL);
	for (size_t i = 0; i < b->dir->n; i++) {
		const struct cert *c = b->dir->certs[i];
		const uint8_t *raw;
		size_t raw_len;
		int wanted = q->n_agency_ids == 0;
		for (size_t j = 0; j < q->n_agency_ids; j++)
			wanted |= strcmp(q->agency_ids[j], c->agency_id) == 0;
		if (!wanted)
			continue;
		if ((r.certs[r.n_certs] = sira__v1__certificate__unpack(
			 NULL, c->raw_len, c->raw)) != NULL)
			r.n_certs++;
		if (txn != NULL &&
		    prekeys_get(txn, b->store, c->agency_id, &raw, &raw_len) ==
			0 &&
		    (r.prekeys[r.n_prekeys] = sira__v1__prekey__unpack(
			 NULL, raw_len, raw)) != NULL)
			r.n_prekeys++;
	}
	if (b->dir->crl != NULL)
		r.crl = sira__v1__crl__unpack(
		    NULL, b->dir->crl->raw_len, b->dir->crl->raw);
	f.body_case = SIRA__V1__FRAME__BODY_DIRECTORY_RESPONSE;
	f.directory_response = &r;
	rc = frames_pack(&f, request_id, out, len);
out:
	store_abort(txn);
	for (size_t i = 0; r.certs != NULL && i < r.n_certs; i++)
		sira__v1__certificate__free_unpacked(r.certs[i], NULL);
	for (size_t i = 0; r.prekeys != NULL && i < r.n_prekeys; i++)
		sira__v1__prekey__free_unpacked(r.prekeys[i], NULL);
	if (r.crl != NULL)
		sira__v1__crl__free_unpacked(r.crl, NULL);
	free(r.certs);
	free(r.prekeys);
	return rc;
}

/* Inclusion and consistency proofs against the current tree. */
static int
pack_proof(struct broker *b, const Sira__V1__ProofRequest *q,
    uint64_t request_id, uint8_t **out, size_t *len, struct sira_err *err)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ProofResponse r = SIRA__V1__PROOF_RESPONSE__INIT;
	uint8_t incl[TLOG_PROOF_MAX][32], cons[TLOG_PROOF_MAX][32];
	struct merkle_proof pi = { incl[0], TLOG_PROOF_MAX, 0 };
	struct merkle_proof pc = { cons[0], TLOG_PROOF_MAX, 0 };
	ProtobufCBinaryData ib[TLOG_PROOF_MAX], cb[TLOG_PROOF_MAX];
	const uint8_t *leaf, *cp;
	size_t leaf_len, cp_len;
	uint64_t size;
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(b->store, 1, &txn, err)) != 0)
		return rc;
	size = q->tree_size;
	if ((size == 0 && tlog_size(txn, &b->tlog, &size) != 0) ||
	    (rc = tlog_inclusion(
		 txn, &b->tlog, q->leaf_index, size, &pi, err)) != 0 ||
	    (q->old_size != 0 &&
		(rc = tlog_consistency(
		     txn, &b->tlog, q->old_size, size, &pc, err)) != 0))
		goto out;
	if (tlog_leaf_get(txn, &b->tlog, q->leaf_index, &leaf, &leaf_len) ==
	    0) {
		r.leaf.data = (uint8_t *)(uintptr_t)leaf;
		r.leaf.len = leaf_len;
	}
	if (tlog_checkpoint_get(txn, &b->tlog, size, &cp, &cp_len) == 0)
		r.checkpoint =
		    sira__v1__signed_checkpoint__unpack(NULL, cp_len, cp);
	for (size_t i = 0; i < pi.n; i++)
		ib[i].data = incl[i], ib[i].len = 32;
	for (size_t i = 0; i < pc.n; i++)
		cb[i].data = cons[i], cb[i].len = 32;
	r.n_inclusion_proof = pi.n;
	r.inclusion_proof = ib;
	r.n_consistency_proof = pc.n;
	r.consistency_proof = cb;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_RESPONSE;
	f.proof_response = &r;
	rc = frames_pack(&f, request_id, out, len);
	if (r.checkpoint != NULL)
		sira__v1__signed_checkpoint__free_unpacked(r.checkpoint, NULL);
out:
	store_abort(txn);
	return rc;
}

/* Frames that need no store write: answered at once. */
static void
on_query(const struct request *rq, const Sira__V1__Frame *fr)
{
	struct broker *b = rq->b;
	struct sira_err err;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	sira_err_clear(&err);
	switch (fr->body_case) {
	case SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST:
		if (fr->directory_request->n_agency_ids > 1024) {
			rc = sira_err_set(&err, SIRA_ETOOBIG,
			    "ask for at most 1024 agencies at once");
			break;
		}
		rc = pack_directory(
		    b, fr->directory_request, fr->request_id, &out, &len);
		break;
	case SIRA__V1__FRAME__BODY_PROOF_REQUEST:
		rc = pack_proof(
		    b, fr->proof_request, fr->request_id, &out, &len, &err);
		break;
	case SIRA__V1__FRAME__BODY_HEARTBEAT:
		rc = frames_heartbeat(
		    fr->request_id, fr->heartbeat->seq, rq->now, &out, &len);
		break;
	default:
		rc = sira_err_set(&err, SIRA_EINVAL,
		    "this frame is not something an agent sends");
		break;
	}
	if (rc == 0)
		reply_now(rq, out, len);
	else
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = rc,
			.detail = err.msg });
}

/* Attachment chunks (blob_serve.c): no store write, answered at once. */
static void
on_chunk(
    const struct request *rq, const char *agency, const Sira__V1__Frame *fr)
{
	struct blobs_answer a;

	blobs_serve(rq->b->blobs, rq->b->store, agency, fr, &a);
	if (a.nack != 0)
		rq->b->count.nacked++;
	for (size_t i = 0; i < a.n; i++)
		reply_now(rq, a.frame[i], a.len[i]);
}

/*
 * The certificate behind a frame: the exact one ZAP accepted for this
 * connection, re-checked now (revoked, expired, or gone after a reload:
 * NULL drops the frame). A renewed agency's old-key sessions die here.
 */
static const struct cert *
current_cert(const struct request *rq)
{
	const struct cert *c =
	    directory_by_id(rq->b->dir, rq->agency, rq->cert_id, rq->now);
	struct session *s;

	if (c != NULL)
		return c;
	rq->b->count.refused++;
	/* Only the connection that failed loses the session: an old key's
	 * frames must not knock the agency's current connection off. */
	if ((s = session_find(rq->b, rq->agency)) != NULL && s->active &&
	    s->rid_len == rq->rid_len &&
	    memcmp(s->rid, rq->rid, rq->rid_len) == 0) {
		s->active = false;
		batch_leaf(rq->bt,
		    &(struct leaf_event){
			.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_PEER_REFUSED,
			.actor = rq->agency,
			.reason = SIRA_EREVOKED });
		log_event(LOG_WARN, "peer.dropped",
		    "agency=%s reason=certificate revoked or expired",
		    rq->agency);
	}
	return NULL;
}

int
handle_frame(const struct request *rq, struct bytes frame)
{
	struct broker *b = rq->b;
	const struct cert *c;
	struct session *s;
	ProtobufCMessage *m;
	Sira__V1__Frame *fr;
	struct sira_err err;
	int rc;

	if ((c = current_cert(rq)) == NULL ||
	    (s = session_get(b, rq->agency)) == NULL)
		return -SIRA_EDENIED;
	/* Big frames cost more: parsing 4 MiB is not one frame's work. */
	if (!session_take_token(
		b, s, rq->now_ms, 1.0 + (double)(frame.len >> 16))) {
		nack_now(rq,
		    &(struct nack){ .reason = SIRA_ERATE,
			.detail = "too many frames; slow down",
			.retry_after = 1 });
		return -SIRA_ERATE;
	}
	s->last_rx = rq->now;
	if ((rc = wire_unpack(&sira__v1__frame__descriptor, frame.p, frame.len,
		 b->cfg.max_frame, &m, &err)) != 0) {
		b->count.malformed++;
		if (session_malformed(s, rq->now))
			log_event(LOG_WARN, "frame.malformed",
			    "agency=%s reason=%s", rq->agency, err.msg);
		nack_now(rq,
		    &(struct nack){
			.reason = rc, .detail = "malformed frame" });
		return rc;
	}
	fr = (Sira__V1__Frame *)m;
	if (fr->version != 1)
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = SIRA_EVERSION,
			.detail = "unsupported frame version" });
	else if (fr->body_case == SIRA__V1__FRAME__BODY_HELLO)
		on_hello(rq, s, c, fr);
	else if (!s->active || s->rid_len != rq->rid_len ||
	    memcmp(s->rid, rq->rid, rq->rid_len) != 0)
		nack_now(rq,
		    &(struct nack){ .request_id = fr->request_id,
			.reason = SIRA_ESTATE,
			.detail = "send Hello first" });
	else if (fr->body_case == SIRA__V1__FRAME__BODY_SUBMIT)
		on_submit(rq, c, fr);
	else if (fr->body_case == SIRA__V1__FRAME__BODY_ACK)
		on_ack(rq->bt, s, fr);
	else if (fr->body_case == SIRA__V1__FRAME__BODY_PUBLISH_PREKEY)
		on_prekey(rq, c, fr);
	else if (fr->body_case == SIRA__V1__FRAME__BODY_CHUNK_PUT ||
	    fr->body_case == SIRA__V1__FRAME__BODY_CHUNK_GET ||
	    fr->body_case == SIRA__V1__FRAME__BODY_CHUNK_STATUS)
		on_chunk(rq, c->agency_id, fr);
	else
		on_query(rq, fr);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
