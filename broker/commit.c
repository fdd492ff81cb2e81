/*
 * commit.c: the group commit. Everything a round of frames changes (new
 * envelopes, acks, prekeys, log leaves), plus expiry and the next
 * deliveries, is applied in ONE LMDB write transaction, and only after it
 * commits are the answers sent: `Accepted` is evidence, so the envelope
 * and the log leaf proving it are durable before the sender hears of them,
 * and a delivery is logged before it leaves. If the commit fails, every
 * submission of the batch is refused and nothing was promised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashpoint.h"
#include "batch.h"
#include "frames.h"
#include "log.h"
#include "prekeys.h"
#include "wire.h"

/* The outcome of one submission inside the transaction. */
struct outcome {
	int code; /* 0 accepted, > 0 refused with that SIRA_E* code */
	const char *detail;
	uint64_t leaf;
};

/* Append the leaf ev describes, stamped now (inside txn). */
static int
append(struct broker *b, MDB_txn *txn, const struct leaf_event *ev,
    uint64_t now, uint64_t *index)
{
	Sira__V1__LogLeaf l = SIRA__V1__LOG_LEAF__INIT;

	l.version = 1;
	l.type = (Sira__V1__LeafType)ev->type;
	l.time = now - now % 60; /* coarse time: metadata, not a timeline */
	if (ev->hash != NULL) {
		l.object_hash.data = (uint8_t *)(uintptr_t)ev->hash;
		l.object_hash.len = 32;
	}
	l.actor_agency_id = (char *)(uintptr_t)ev->actor;
	l.n_counterpart_agency_ids = ev->n_counterparts;
	l.counterpart_agency_ids = (char **)(uintptr_t)ev->counterparts;
	l.size_bucket = ev->bucket;
	l.reason = ev->reason;
	return tlog_append_leaf(txn, &b->tlog, &l, index, NULL);
}

/*
 * The same envelope again, after every recipient acknowledged it: its
 * sender lost what came back (it was restored from a backup,
 * docs/OPERATIONS.md). Deliver it once more, same leaf, nothing new in
 * the log: each recipient knows the message id, stores nothing twice and
 * sends the receipt it gave again. A full queue leaves it out: the
 * sender's entry then waits until it expires, as it would have.
 */
static int
respool(struct broker *b, MDB_txn *txn, const struct pending_submit *p,
    const struct spool_seen *seen, uint64_t now)
{
	struct spool_limits lim = { b->cfg.quota_count, b->cfg.quota_bytes };
	struct sira_err err;
	uint64_t seq;

	if (spool_has(txn, b->store, seen->seq) || seen->expires_at <= now ||
	    spool_check_quota(txn, b->store, p->env, p->raw_len, &lim, &err) !=
		0)
		return 0;
	log_event(LOG_INFO, "envelope.redelivered",
	    "from=%s (resubmitted after its recipients acknowledged it)",
	    p->agency);
	return spool_put(txn, b->store,
	    &(struct spool_envelope){ p->env, bytes_of(p->raw, p->raw_len),
		p->agency, now, seen->expires_at, seen->leaf_index },
	    &seq, &err);
}

static int
apply_submit(struct broker *b, MDB_txn *txn, struct pending_submit *p,
    uint64_t now, struct outcome *o)
{
	const struct envelope *e = p->env;
	struct spool_limits lim = { b->cfg.quota_count, b->cfg.quota_bytes };
	char *to[SIRA_RECIPIENTS_MAX];
	struct spool_seen seen;
	struct sira_err err;
	uint64_t seq, expires;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = spool_find_submit(
	    txn, b->store, p->agency, e->h->message_id.data, &seen, &err);
	if (rc == 0) {
		/* The sender lost our answer and resent: answer the same. */
		b->count.duplicates++;
		if (memcmp(seen.envelope_hash, e->hash, 32) != 0) {
			o->code = SIRA_EREPLAY;
			o->detail = "message id reused for different content";
			return 0;
		}
		o->leaf = seen.leaf_index;
		return respool(b, txn, p, &seen, now);
	}
	if (rc != -SIRA_ENOTFOUND)
		return rc;
	if (spool_check_quota(txn, b->store, e, p->raw_len, &lim, &err) != 0) {
		o->code = SIRA_EQUOTA;
		o->detail = "a recipient's queue is full";
		return append(b, txn,
		    &(struct leaf_event){
			.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_NACKED,
			.hash = e->hash,
			.actor = p->agency,
			.bucket = (uint32_t)e->h->size_bucket,
			.reason = SIRA_EQUOTA },
		    now, &o->leaf);
	}
	for (size_t i = 0; i < e->h->n_recipients; i++)
		to[i] = e->h->recipients[i]->agency_id;
	expires = e->h->expires_at < now + b->cfg.ttl_cap ?
	    e->h->expires_at :
	    now + b->cfg.ttl_cap;
	if ((rc = append(b, txn,
		 &(struct leaf_event){
		     .type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED,
		     .hash = e->hash,
		     .actor = p->agency,
		     .counterparts = to,
		     .n_counterparts = e->h->n_recipients,
		     .bucket = (uint32_t)e->h->size_bucket },
		 now, &o->leaf)) != 0)
		return rc;
	return spool_put(txn, b->store,
	    &(struct spool_envelope){ e, bytes_of(p->raw, p->raw_len),
		p->agency, now, expires, o->leaf },
	    &seq, &err);
}

static int
apply_acks(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now)
{
	uint64_t leaf;
	int rc;

	for (size_t i = 0; i < bt->n_ack; i++) {
		uint8_t hash[32] = { 0 };
		rc = spool_ack(txn, b->store, bt->ack[i].agency, bt->ack[i].seq,
		    hash, NULL);
		if (rc == -SIRA_ENOTFOUND)
			continue; /* a repeated ack: already done */
		if (rc != 0)
			return rc;
		b->count.acked++;
		if ((rc = append(b, txn,
			 &(struct leaf_event){
			     .type =
				 SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACKED,
			     .hash = hash,
			     .actor = bt->ack[i].agency },
			 now, &leaf)) != 0)
			return rc;
	}
	return 0;
}

static int
apply_prekeys(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now,
    uint64_t *leaves)
{
	int rc;

	for (size_t i = 0; i < bt->n_prekey; i++) {
		struct pending_prekey *p = &bt->prekey[i];
		if ((rc = prekeys_put(
			 txn, b->store, p->agency, p->raw, p->len, NULL)) != 0)
			return rc;
		if ((rc = append(b, txn,
			 &(struct leaf_event){
			     .type =
				 SIRA__V1__LEAF_TYPE__LEAF_TYPE_PREKEY_SERVED,
			     .hash = p->hash,
			     .actor = p->agency },
			 now, &leaves[i])) != 0)
			return rc;
	}
	return 0;
}

static int
apply_leaves(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now)
{
	uint64_t leaf;
	int rc;

	for (size_t i = 0; i < bt->n_leaf; i++) {
		struct pending_leaf *l = &bt->leaf[i];
		char *cp[1] = { l->counterpart };
		if ((rc = append(b, txn,
			 &(struct leaf_event){ l->type, l->hash, l->actor, cp,
			     l->counterpart[0] ? 1 : 0, l->bucket, l->reason },
			 now, &leaf)) != 0)
			return rc;
	}
	return 0;
}

/* Context for the expiry callback. */
struct expiry_ctx {
	struct broker *b;
	struct batch *bt;
	MDB_txn *txn;
	uint64_t now;
	int rc;
};

static void
on_expired(void *arg, uint64_t seq, const Sira__V1__SpoolEntry *ent)
{
	struct expiry_ctx *x = arg;
	struct session *s = session_find(x->b, ent->sender);
	uint64_t leaf;
	uint8_t *f;
	size_t len;

	(void)seq;
	x->b->count.expired++;
	if (x->rc == 0)
		x->rc = append(x->b, x->txn,
		    &(struct leaf_event){
			.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_EXPIRED,
			.hash = ent->envelope_hash.len == 32 ?
			    ent->envelope_hash.data :
			    NULL,
			.actor = ent->sender,
			.counterparts = ent->pending,
			.n_counterparts = ent->n_pending,
			.bucket = ent->size_bucket,
			.reason = SIRA_EEXPIRED },
		    x->now, &leaf);
	log_event(LOG_WARN, "envelope.expired", "from=%s undelivered_to=%zu",
	    ent->sender, ent->n_pending);
	/* Tell the sender if it is here; if not, its agent knows the TTL. */
	if (s != NULL && s->active &&
	    frames_nack(
		&(struct nack){ .msgid = bytes_of(
				    ent->message_id.data, ent->message_id.len),
		    .reason = SIRA_EEXPIRED,
		    .detail = "expired before every recipient collected it" },
		&f, &len) == 0)
		(void)batch_reply(x->bt, s->rid, s->rid_len, f, len);
}

static int
apply_expiry(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now)
{
	struct expiry_ctx x = { b, bt, txn, now, 0 };
	size_t n;
	int rc;

	if (now < b->next_expiry)
		return 0;
	b->next_expiry = now + 5;
	if ((rc = spool_expire(txn, b->store,
		 &(struct spool_sweep){ now, 64, on_expired, &x }, &n, NULL)) !=
	    0)
		return rc;
	if (n == 64)
		b->next_expiry = now; /* more to do: next round */
	return x.rc;
}

static int
stage_deliver(struct batch *bt, struct session *s, const struct spool_item *it)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Deliver d = SIRA__V1__DELIVER__INIT;
	uint8_t *out;
	size_t len;

	d.delivery_id = it->seq;
	d.envelope = it->entry->envelope;
	d.leaf_index = it->entry->leaf_index;
	f.body_case = SIRA__V1__FRAME__BODY_DELIVER;
	f.deliver = &d;
	if (frames_pack(&f, 0, &out, &len) != 0)
		return -SIRA_ENOMEM;
	return batch_reply(bt, s->rid, s->rid_len, out, len);
}

/* Resend what s has not acknowledged for too long (same delivery ids). */
static void
redeliver_due(struct broker *b, MDB_txn *txn, struct batch *bt,
    struct session *s, uint64_t now)
{
	struct spool_item it;

	for (size_t i = 0; i < s->n_inflight; i++) {
		if (now - s->inflight[i].sent_at < b->cfg.redeliver)
			continue;
		if (spool_next(txn, b->store, s->agency_id,
			s->inflight[i].seq - 1, &it, NULL) == 0) {
			if (it.seq == s->inflight[i].seq)
				(void)stage_deliver(bt, s, &it);
			sira__v1__spool_entry__free_unpacked(it.entry, NULL);
		} else
			it.seq = 0;
		if (it.seq != s->inflight[i].seq) {
			/* Gone (expired, or acked on another connection):
			 * free its slot, or the window would stay blocked. */
			session_forget_inflight(s, s->inflight[i].seq);
			i--;
			continue;
		}
		s->inflight[i].sent_at = now;
	}
}

/* Room in s's window for one more envelope of len bytes; the first always
 * fits, or an envelope larger than the window would never leave. */
static bool
window_has_room(const struct session *s, uint64_t len)
{
	return s->n_inflight < BROKER_WINDOW &&
	    (s->n_inflight == 0 ||
		s->inflight_bytes + len <= BROKER_WINDOW_BYTES);
}

/* Send it, the next envelope queued for s, and log its delivery. */
static int
deliver_new(struct broker *b, MDB_txn *txn, struct batch *bt, struct session *s,
    const struct spool_item *it, uint64_t now)
{
	const Sira__V1__SpoolEntry *ent = it->entry;
	uint64_t leaf;
	int rc;

	if ((rc = stage_deliver(bt, s, it)) != 0 ||
	    (rc = append(b, txn,
		 &(struct leaf_event){
		     .type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_DELIVERED,
		     .hash = ent->envelope_hash.len == 32 ?
			 ent->envelope_hash.data :
			 NULL,
		     .actor = s->agency_id,
		     .counterparts = &ent->sender,
		     .n_counterparts = 1,
		     .bucket = ent->size_bucket },
		 now, &leaf)) != 0)
		return rc;
	s->cursor = it->seq;
	s->inflight[s->n_inflight++] =
	    (struct inflight){ it->seq, now, ent->envelope.len };
	s->inflight_bytes += ent->envelope.len;
	b->count.delivered++;
	return 0;
}

/* Fill one session's window with the next queued envelopes, in order. */
static int
deliver_to(struct broker *b, MDB_txn *txn, struct batch *bt, struct session *s,
    uint64_t now)
{
	struct spool_item it;
	int rc;

	redeliver_due(b, txn, bt, s, now);
	while (s->n_inflight < BROKER_WINDOW &&
	    spool_next(txn, b->store, s->agency_id, s->cursor, &it, NULL) ==
		0) {
		rc = window_has_room(s, it.entry->envelope.len) ?
		    deliver_new(b, txn, bt, s, &it, now) :
		    1;
		sira__v1__spool_entry__free_unpacked(it.entry, NULL);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return 0;
}

static int
apply_deliveries(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now)
{
	int rc;

	for (size_t i = 0; i < b->n_sessions; i++) {
		struct session *s = &b->sessions[i];
		if (!s->active)
			continue;
		if (now - s->last_rx > 3 * b->cfg.heartbeat) {
			/* Silent for three heartbeats: assume the link died. */
			s->active = false;
			log_event(
			    LOG_INFO, "peer.lost", "agency=%s", s->agency_id);
			continue;
		}
		if ((rc = deliver_to(b, txn, bt, s, now)) != 0)
			return rc;
	}
	return 0;
}

/*
 * One Accepted to stage, for request request_id on the connection rid: the
 * object with the 32-byte hash (and for an envelope its message id msgid;
 * empty for a prekey) is proven by log leaf leaf. Borrowed from the batch.
 */
struct accepted_answer {
	const uint8_t *rid;
	size_t rid_len;
	uint64_t request_id;
	struct bytes msgid;
	const uint8_t *hash;
	uint64_t leaf;
};

/*
 * Accepted: the leaf, the signed checkpoint cp of this commit (over a tree
 * of size leaves), and the inclusion proof.
 */
static int
stage_accepted(struct broker *b, MDB_txn *txn, struct batch *bt,
    const struct accepted_answer *ans, const Sira__V1__SignedCheckpoint *cp,
    uint64_t size)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Accepted a = SIRA__V1__ACCEPTED__INIT;
	uint8_t proof[TLOG_PROOF_MAX][32], *out;
	struct merkle_proof p = { proof[0], TLOG_PROOF_MAX, 0 };
	ProtobufCBinaryData pb[TLOG_PROOF_MAX];
	size_t len;

	if (tlog_inclusion(txn, &b->tlog, ans->leaf, size, &p, NULL) != 0)
		return -SIRA_EIO;
	for (size_t i = 0; i < p.n; i++) {
		pb[i].data = proof[i];
		pb[i].len = 32;
	}
	a.message_id.data = (uint8_t *)(uintptr_t)ans->msgid.p;
	a.message_id.len = ans->msgid.len;
	a.envelope_hash.data = (uint8_t *)(uintptr_t)ans->hash;
	a.envelope_hash.len = 32;
	a.leaf_index = ans->leaf;
	a.checkpoint = (Sira__V1__SignedCheckpoint *)(uintptr_t)cp;
	a.n_inclusion_proof = p.n;
	a.inclusion_proof = pb;
	f.body_case = SIRA__V1__FRAME__BODY_ACCEPTED;
	f.accepted = &a;
	if (frames_pack(&f, ans->request_id, &out, &len) != 0)
		return -SIRA_ENOMEM;
	return batch_reply(bt, ans->rid, ans->rid_len, out, len);
}

static int
stage_answers(struct broker *b, MDB_txn *txn, struct batch *bt,
    const struct outcome *o, const uint64_t *prekey_leaves, uint64_t now)
{
	Sira__V1__SignedCheckpoint *cp;
	uint8_t *cpb, *f;
	size_t cplen, len;
	uint64_t size;
	int rc;

	if ((rc = tlog_checkpoint(txn, &b->tlog, now, &cpb, &cplen, NULL)) != 0)
		return rc;
	cp = sira__v1__signed_checkpoint__unpack(NULL, cplen, cpb);
	free(cpb);
	if (cp == NULL || tlog_size(txn, &b->tlog, &size) != 0) {
		if (cp != NULL)
			sira__v1__signed_checkpoint__free_unpacked(cp, NULL);
		return -SIRA_EIO;
	}
	for (size_t i = 0; rc == 0 && i < bt->n_sub; i++) {
		struct pending_submit *p = &bt->sub[i];
		struct bytes msgid =
		    bytes_of(p->env->h->message_id.data, SIRA_MSGID_LEN);
		if (o[i].code != 0) {
			if (frames_nack(&(struct nack){ p->request_id, msgid,
					    o[i].code, o[i].detail, 0 },
				&f, &len) == 0)
				rc =
				    batch_reply(bt, p->rid, p->rid_len, f, len);
			continue;
		}
		rc = stage_accepted(b, txn, bt,
		    &(struct accepted_answer){ p->rid, p->rid_len,
			p->request_id, msgid, p->env->hash, o[i].leaf },
		    cp, size);
	}
	for (size_t i = 0; rc == 0 && i < bt->n_prekey; i++) {
		const struct pending_prekey *k = &bt->prekey[i];
		rc = stage_accepted(b, txn, bt,
		    &(struct accepted_answer){ k->rid, k->rid_len,
			k->request_id, bytes_of(NULL, 0), k->hash,
			prekey_leaves[i] },
		    cp, size);
	}
	sira__v1__signed_checkpoint__free_unpacked(cp, NULL);
	return rc;
}

/* Everything inside the transaction; any error aborts the whole batch. */
static int
apply_all(struct broker *b, MDB_txn *txn, struct batch *bt, uint64_t now,
    struct outcome *o, uint64_t *prekey_leaves)
{
	uint64_t before, after;
	int rc;

	if ((rc = tlog_size(txn, &b->tlog, &before)) != 0)
		return rc;
	for (size_t i = 0; i < bt->n_sub; i++)
		if ((rc = apply_submit(b, txn, &bt->sub[i], now, &o[i])) != 0)
			return rc;
	if ((rc = apply_acks(b, txn, bt, now)) != 0 ||
	    (rc = apply_prekeys(b, txn, bt, now, prekey_leaves)) != 0 ||
	    (rc = apply_leaves(b, txn, bt, now)) != 0 ||
	    (rc = apply_expiry(b, txn, bt, now)) != 0 ||
	    (rc = apply_deliveries(b, txn, bt, now)) != 0 ||
	    (rc = tlog_size(txn, &b->tlog, &after)) != 0)
		return rc;
	if (after == before && bt->n_sub == 0 && bt->n_prekey == 0)
		return 1; /* nothing changed: no checkpoint, no commit */
	return stage_answers(b, txn, bt, o, prekey_leaves, now);
}

static void
send_replies(struct broker *b, struct batch *bt)
{
	for (size_t i = 0; i < bt->n_replies; i++)
		(void)send_frame(b, bt->replies[i].rid, bt->replies[i].rid_len,
		    bt->replies[i].frame, bt->replies[i].len);
}

/* The commit failed: refuse every submission; nothing was promised. */
static void
refuse_all(struct broker *b, struct batch *bt, int rc)
{
	uint8_t *f;
	size_t len;

	for (size_t i = 0; i < bt->n_replies; i++)
		free(bt->replies[i].frame);
	bt->n_replies = 0;
	for (size_t i = 0; i < b->n_sessions; i++)
		session_reset(&b->sessions[i]);
	for (size_t i = 0; i < bt->n_sub; i++)
		if (frames_nack(
			&(struct nack){ bt->sub[i].request_id,
			    bytes_of(bt->sub[i].env->h->message_id.data,
				SIRA_MSGID_LEN),
			    rc, "broker could not store it; retry later", 5 },
			&f, &len) == 0)
			(void)batch_reply(
			    bt, bt->sub[i].rid, bt->sub[i].rid_len, f, len);
	b->count.nacked += bt->n_sub;
	send_replies(b, bt);
}

int
commit_batch(struct broker *b, struct batch *bt, uint64_t now)
{
	struct outcome o[BROKER_BATCH];
	uint64_t prekey_leaves[BROKER_BATCH];
	struct sira_err err;
	MDB_txn *txn;
	int rc;

	memset(o, 0, sizeof(o));
	memset(prekey_leaves, 0, sizeof(prekey_leaves));
	if ((rc = store_begin(b->store, 0, &txn, &err)) != 0) {
		log_event(LOG_ERROR, "store.failed", "reason=%s", err.msg);
		refuse_all(b, bt, rc);
		batch_clear(bt);
		return rc;
	}
	rc = apply_all(b, txn, bt, now, o, prekey_leaves);
	if (rc == 1) {
		store_abort(txn);
		send_replies(b, bt);
		batch_clear(bt);
		return 0;
	}
	if (rc != 0) {
		store_abort(txn);
	} else if ((rc = store_commit(txn, &err)) != 0) {
		log_event(
		    LOG_ERROR, "store.commit_failed", "reason=%s", err.msg);
	}
	if (rc != 0) {
		log_event(LOG_ERROR, "batch.refused", "envelopes=%zu reason=%s",
		    bt->n_sub, sira_strerror(rc));
		refuse_all(b, bt, rc < 0 ? -rc : SIRA_EIO);
	} else {
		for (size_t i = 0; i < bt->n_sub; i++)
			if (o[i].code == 0)
				b->count.accepted++;
		crashpoint("broker.stored"); /* durable, Accepted not sent */
		send_replies(b, bt);
	}
	batch_clear(bt);
	return rc;
}
