/*
 * outbound.c: messages going out, from queued to delivered.
 *
 * A CLI command queues a message in one transaction and returns. Here the
 * daemon seals it (once: the sealed envelope is stored, so a resend is
 * byte-identical and the broker's idempotent submission recognises it),
 * submits it until the broker's Accepted arrives, checks that evidence
 * (signed checkpoint, inclusion of its leaf, consistency with the last
 * checkpoint we accepted), and marks it delivered when every recipient's
 * signed receipt is in. Every state change is one write transaction with
 * its audit entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crashpoint.h"
#include "clock.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "log.h"
#include "merkle.h"
#include "payload.pb-c.h"
#include "store/store.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "wire.h"

#define ROUND 64  /* entries per write transaction */
#define ROUNDS 16 /* transactions per pump; more waits for the next loop */
#define SUBMIT_WINDOW 64 /* submissions waiting for the broker's answer */
#define PROOF_RETRY 30   /* seconds before asking a lost proof again */
#define EXPIRY_GRACE 600 /* clock slack before an accepted one expires */
#define STEP_RETRY 60    /* after a step failed on its own */

#define Q SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED
#define SEALED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED
#define ACCEPTED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED
#define DELIVERED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED
#define REFUSED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED
#define EXPIRED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_EXPIRED

static void ask_proof(struct daemon *d, struct vault_txn *t, const uint8_t *id,
    uint64_t leaf, uint64_t size, uint64_t now);

/* Mark e refused; the detail is copied (e owns its strings) with any
 * control character replaced: it may come from the broker. */
static void
refuse(Sira__V1__OutboxEntry *e, int code, const char *detail)
{
	char *copy = strdup(detail);

	for (char *c = copy; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f ||
		    (unsigned char)*c >= 0x80)
			*c = '?';
	e->state = REFUSED;
	e->refused_reason = code < 0 ? -code : code;
	if (copy != NULL) {
		if (e->refused_detail != NULL &&
		    e->refused_detail != protobuf_c_empty_string)
			free(e->refused_detail);
		e->refused_detail = copy;
	}
}

/* Next per-pair sequence number with agency (detects dropped messages);
 * spent by spend_pair_seqs only once the envelope is sealed and stored. */
static uint64_t
next_pair_seq(struct vault_txn *t, const char *agency)
{
	char name[SIRA_AGENCY_ID_MAX + 8];
	uint64_t v = 0;

	(void)snprintf(name, sizeof(name), "seq:%s", agency);
	(void)vault_counter_get(t, name, &v);
	return v + 1;
}

static int
spend_pair_seqs(struct vault_txn *t, const Sira__V1__OutboxEntry *e,
    const struct seal_recipient *rs)
{
	char name[SIRA_AGENCY_ID_MAX + 8];
	int rc = 0;

	for (size_t i = 0; i < e->n_to && rc == 0; i++) {
		(void)snprintf(name, sizeof(name), "seq:%s", e->to[i]);
		rc = vault_counter_put(t, name, rs[i].pair_seq, NULL);
	}
	return rc;
}

/* Store the sealed envelope and what receipts will be checked against. */
static void
record_sealed(Sira__V1__OutboxEntry *e, uint8_t *env, size_t len,
    const struct sealed_meta *m, struct cert **certs, size_t n,
    ProtobufCBinaryData *ids)
{
	e->state = SEALED;
	e->envelope.data = env;
	e->envelope.len = len;
	e->message_id.data = (uint8_t *)(uintptr_t)m->message_id;
	e->message_id.len = 16;
	e->envelope_hash.data = (uint8_t *)(uintptr_t)m->envelope_hash;
	e->envelope_hash.len = 32;
	e->manifest_hash.data = (uint8_t *)(uintptr_t)m->manifest_hash;
	e->manifest_hash.len = 32;
	e->manifest_sig_sha256.data =
	    (uint8_t *)(uintptr_t)m->manifest_sig_sha256;
	e->manifest_sig_sha256.len = 32;
	e->created_at = m->created_at;
	e->expires_at = m->expires_at;
	for (size_t i = 0; i < n; i++) {
		ids[i].data = certs[i]->id;
		ids[i].len = SIRA_HASH_LEN;
	}
	e->n_recipient_cert_ids = n;
	e->recipient_cert_ids = ids;
}

/* Forget the borrowed pointers record_sealed put in e (they were empty). */
static void
unrecord(Sira__V1__OutboxEntry *e)
{
	memset(&e->envelope, 0, sizeof(e->envelope));
	memset(&e->message_id, 0, sizeof(e->message_id));
	memset(&e->envelope_hash, 0, sizeof(e->envelope_hash));
	memset(&e->manifest_hash, 0, sizeof(e->manifest_hash));
	memset(&e->manifest_sig_sha256, 0, sizeof(e->manifest_sig_sha256));
	memset(&e->signed_manifest, 0, sizeof(e->signed_manifest));
	e->n_recipient_cert_ids = 0;
	e->recipient_cert_ids = NULL;
}

/* Resolve every recipient: certificate and current prekey, verified. */
static int
resolve(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now, struct cert **certs, struct prekey **pks,
    struct seal_recipient *rs, struct sira_err *err)
{
	int rc;

	for (size_t i = 0; i < e->n_to; i++) {
		if ((rc = peers_current(
			 d->a, t, e->to[i], now, &certs[i], &pks[i], err)) != 0)
			return rc;
		rs[i].cert = certs[i];
		rs[i].prekey = pks[i];
		rs[i].pair_seq = next_pair_seq(t, e->to[i]);
	}
	return 0;
}

static int
seal_entry(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now, struct sira_err *err)
{
	struct cert *certs[SIRA_RECIPIENTS_MAX] = { 0 };
	struct prekey *pks[SIRA_RECIPIENTS_MAX] = { 0 };
	struct seal_recipient rs[SIRA_RECIPIENTS_MAX];
	ProtobufCBinaryData ids[SIRA_RECIPIENTS_MAX];
	struct seal_params sp = { 0 };
	struct sealed_meta m;
	struct seal *s = NULL;
	const uint8_t *sm;
	uint8_t *env = NULL;
	size_t len = 0, smlen;
	int rc;

	if (e->n_to == 0 || e->n_to > SIRA_RECIPIENTS_MAX)
		return sira_err_set(err, SIRA_EINVAL, "bad recipient list");
	if ((rc = resolve(d, t, e, now, certs, pks, rs, err)) != 0)
		goto out;
	sp.sender = d->a->me;
	sp.sender_keys = d->a->keys;
	sp.kind = e->kind;
	sp.content_type = e->content_type;
	sp.case_ref = e->case_ref;
	sp.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE;
	sp.now = now;
	sp.ttl = e->ttl;
	sp.recipients = rs;
	sp.n_recipients = e->n_to;
	sp.message_id = e->local_id.data;
	if ((rc = seal_begin(&sp, &s, err)) != 0 ||
	    (rc = docs_seal(d->a, e, s, err)) != 0 ||
	    (rc = seal_finish(
		 s, e->payload.data, e->payload.len, &env, &len, &m, err)) != 0)
		goto out;
	record_sealed(e, env, len, &m, certs, e->n_to, ids);
	if (seal_signed_manifest(s, &sm, &smlen) == 0) {
		e->signed_manifest.data = (uint8_t *)(uintptr_t)sm;
		e->signed_manifest.len = smlen; /* borrowed: see unrecord() */
	}
	e->attempts = 0;       /* from now on: submissions */
	book_schedule(e, now); /* submit in the pump's next round */
	if ((rc = spend_pair_seqs(t, e, rs)) == 0 &&
	    (rc = book_put_out(t, e, now, err)) == 0)
		rc = book_audit(
		    t, now, "sealed", e->to[0], m.message_id, 0, err);
	unrecord(e);
out:
	seal_destroy(&s);
	free(env);
	for (size_t i = 0; i < e->n_to && i < SIRA_RECIPIENTS_MAX; i++) {
		cert_destroy(&certs[i]);
		prekey_destroy(&pks[i]);
	}
	return rc;
}

static int
submit(struct daemon *d, Sira__V1__OutboxEntry *e, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Submit sb = SIRA__V1__SUBMIT__INIT;
	uint64_t req;

	sb.envelope = e->envelope;
	f.body_case = SIRA__V1__FRAME__BODY_SUBMIT;
	f.submit = &sb;
	if (link_send(&d->link, &f, &req) != 0)
		return -SIRA_EIO;
	daemon_expect(d, req, P_SUBMIT, e->local_id.data, now);
	/* An answer needs the envelope to travel: 8 KiB/s at worst. */
	d->pending[d->n_pending - 1].ttl += e->envelope.len / 8192;
	return 0;
}

/* Seconds to wait after attempt n (0-based): first, doubling, capped. */
static uint64_t
backoff(uint32_t n, uint64_t first, uint64_t cap)
{
	uint64_t wait = first << (n < 7 ? n : 7);

	return wait > cap ? cap : wait;
}

static int
expire(struct vault_txn *t, Sira__V1__OutboxEntry *e, uint64_t now)
{
	int rc;

	e->state = EXPIRED;
	if ((rc = book_put_out(t, e, now, NULL)) != 0)
		return rc;
	return book_audit(
	    t, now, "expired", e->to[0], e->local_id.data, SIRA_EEXPIRED, NULL);
}

/* A queued entry: seal it, or say why not yet and when to try again. */
static int
step_queued(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	struct sira_err why;
	int rc;

	if (now >= e->queued_at + e->ttl)
		return expire(t, e, now);
	if (d->clock_bad) { /* a wrong date would be signed into it */
		book_schedule(e, now + 60);
		return book_put_out(t, e, now, NULL);
	}
	sira_err_clear(&why);
	if ((rc = seal_entry(d, t, e, now, &why)) == 0) {
		d->dir_wait = 3;
		return 0; /* stored as sealed, due at once */
	}
	if (rc == -SIRA_EUNKNOWN_AGENCY && d->last_dir > e->queued_at) {
		refuse(e, rc, why.msg);
		if ((rc = book_put_out(t, e, now, NULL)) != 0)
			return rc;
		return book_audit(t, now, "refused", e->to[0], e->local_id.data,
		    SIRA_EUNKNOWN_AGENCY, NULL);
	}
	/* Not sealable yet (no prekey, stale list): ask the directory
	 * again after 3 s, then backing off to 5 minutes, so a recipient
	 * that never connected does not flood a 2G link. A directory that
	 * arrives wakes every queued entry (daemon.c). */
	if ((rc == -SIRA_EPREKEY || rc == -SIRA_EUNKNOWN_AGENCY ||
		rc == -SIRA_ECRL_STALE) &&
	    d->session && now - d->last_dir >= d->dir_wait) {
		d->last_dir = now;
		d->dir_wait = d->dir_wait >= 150 ? 300 : 2 * d->dir_wait;
		(void)daemon_request_directory(d, now);
	}
	if (rc != -SIRA_EPREKEY && rc != -SIRA_EUNKNOWN_AGENCY &&
	    rc != -SIRA_ECRL_STALE)
		return rc; /* the step failed: the pump undoes and logs it */
	book_schedule(e, now + backoff(e->attempts++, 3, 300));
	return book_put_out(t, e, now, NULL);
}

/* A sealed entry: its documents up, then Submit until Accepted. */
static int
step_sealed(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	if (now >= e->expires_at)
		return expire(t, e, now);
	if (!docs_uploaded(e)) {
		docs_up_pump(d, t, e, now); /* every blob before Submit */
		book_schedule(e, now + 2);  /* an upload is frame-driven */
	} else if (!d->session) {
		book_schedule(e, now + 300); /* the next Welcome wakes it */
	} else if (daemon_pending_has(d, P_SUBMIT, e->local_id.data)) {
		book_schedule(e, now + 30);
	} else if (!link_can_send(&d->link)) {
		book_schedule(e, now + 1); /* under the broker's rate */
	} else {
		/* Retry gently on bad links: 5 s, doubling up to 5 min. */
		book_schedule(e, now + backoff(e->attempts++, 5, 300));
		if (e->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT)
			crashpoint("agent.receipt"); /* acked, receipt unsent */
		(void)submit(d, e, now);
	}
	return book_put_out(t, e, now, NULL);
}

/* Leaf index and checkpoint size of the Accepted kept in e. */
static int
accepted_at(const Sira__V1__OutboxEntry *e, uint64_t *leaf, uint64_t *size)
{
	Sira__V1__Accepted *acc =
	    sira__v1__accepted__unpack(NULL, e->accepted.len, e->accepted.data);
	Sira__V1__Checkpoint *cp = NULL;
	struct signed_obj so;
	uint8_t *raw;
	size_t len;
	int rc = -SIRA_EMALFORMED;

	if (acc == NULL)
		return rc;
	*leaf = acc->leaf_index;
	*size = acc->leaf_index + 1;
	/* The checkpoint was verified when the Accepted came in. */
	if (acc->checkpoint != NULL &&
	    wire_pack(&acc->checkpoint->base, &raw, &len, NULL) == 0) {
		if (signed_split(
			raw, len, 4096, 4096, "checkpoint", &so, NULL) == 0) {
			cp = sira__v1__checkpoint__unpack(
			    NULL, so.tbs_len, so.tbs);
			signed_clear(&so);
		}
		free(raw);
	}
	if (cp != NULL && cp->size > *leaf)
		*size = cp->size;
	if (cp != NULL)
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	sira__v1__accepted__free_unpacked(acc, NULL);
	return 0;
}

/* The broker holds it: keep its evidence, wait for every receipt. */
static int
step_accepted(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	uint64_t leaf, size;

	docs_release(&d->a->home, e); /* the broker holds the blobs */
	if (now >= e->expires_at + EXPIRY_GRACE) {
		/* No receipt before the broker dropped it: it can no longer
		 * arrive (a late receipt still marks it delivered). */
		return expire(t, e, now);
	}
	if (e->accepted_leaf.len == 0) {
		/* The proof was lost with a connection: ask again. */
		if (d->session && link_can_send(&d->link) &&
		    !daemon_pending_has(d, P_PROOF, e->local_id.data) &&
		    accepted_at(e, &leaf, &size) == 0)
			ask_proof(d, t, e->local_id.data, leaf, size, now);
		book_schedule(e, now + PROOF_RETRY);
	} else {
		book_schedule(e, e->expires_at + EXPIRY_GRACE);
	}
	return book_put_out(t, e, now, NULL);
}

/* One entry's step, in its own (child) transaction t. */
static int
step(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	switch (e->state) {
	case Q:
		return step_queued(d, t, e, now);
	case SEALED:
		return step_sealed(d, t, e, now);
	case ACCEPTED:
		return step_accepted(d, t, e, now);
	default:
		return book_put_out(t, e, now, NULL); /* drops its row */
	}
}

/* A step failed on its own (a damaged document, say): undone, logged,
 * and looked at again later without holding back the others. */
static int
defer(struct vault_txn *t, const uint8_t *id, uint64_t now)
{
	Sira__V1__OutboxEntry *e;
	int rc;

	if ((rc = book_get_out(t, id, &e, NULL)) != 0)
		return rc;
	book_schedule(e, now + STEP_RETRY);
	rc = book_put_out(t, e, now, NULL);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}

/* The entry of one index row: stepped in a child transaction. */
static int
pump_one(struct daemon *d, struct vault_txn *t, const struct outq_row *row,
    uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *c = NULL;
	struct sira_err err;
	char hex[33];
	int rc, before;

	sira_err_clear(&err);
	if ((rc = vault_begin_child(t, &c, &err)) != 0)
		return rc;
	rc = book_get_out(c, row->id, &e, &err);
	if (rc == 0 && e == NULL)
		rc = -SIRA_EMALFORMED;
	before = e != NULL ? (int)e->state : 0;
	if (rc == -SIRA_ENOTFOUND || rc == -SIRA_EMALFORMED ||
	    (rc == 0 && !outq_claims(e, row))) {
		/* No entry to work on, or a stale row: the entry moved on. */
		rc = outq_drop(c, row, &err);
	} else if (rc == 0 && (rc = step(d, c, e, now)) == 0 &&
	    (int)e->state == before && e->index_state != 0 &&
	    e->index_due <= now) {
		/* Never busy on one entry. (A step that moved the entry on
		 * may leave it due at once; it also may have handed parts of
		 * e to the store, so e is only rewritten when it did not.) */
		book_schedule(e, now + 1);
		rc = book_put_out(c, e, now, &err);
	}
	if (rc == 0)
		rc = vault_commit(&c, &err);
	vault_abort(&c);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (rc == 0 || rc == -SIRA_EQUOTA)
		return rc; /* a full store fails every step: stop the round */
	(void)sodium_bin2hex(hex, sizeof(hex), row->id, 16);
	log_event(LOG_WARN, "outbox.step_failed", "id=%s reason=%s", hex,
	    err.msg[0] ? err.msg : sira_strerror(rc));
	return defer(t, row->id, now);
}

/* Rows to work on this round: woken ones first, then what is due. */
static int
gather(struct daemon *d, struct vault_txn *t, uint64_t now,
    struct outq_row *rows, size_t *n, struct sira_err *err)
{
	unsigned states = (1u << Q) | (1u << ACCEPTED);
	size_t k = 0, due = 0;
	int rc;

	while (k < ROUND && d->n_wake > 0)
		rows[k++] = d->wake[--d->n_wake];
	/* Keep a bounded number of submissions unanswered, under the
	 * broker's rate. */
	if (daemon_pending_count(d, P_SUBMIT) < SUBMIT_WINDOW &&
	    link_can_send(&d->link))
		states |= 1u << SEALED;
	if ((rc = outq_due(t, now, states, rows + k, ROUND - k, &due, err)) !=
	    0)
		return rc;
	/* A woken row may be due too: take it once. */
	for (size_t i = k; i < k + due; i++) {
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = rows[j].state == rows[i].state &&
			    rows[j].due == rows[i].due &&
			    memcmp(rows[j].id, rows[i].id, 16) == 0;
		if (!dup)
			rows[(*n)++ + k] = rows[i];
	}
	*n += k;
	return 0;
}

/* Ask for rows of the woken states (daemon.c sets d->wake_states). */
static int
take_wakes(struct daemon *d, struct vault_txn *t, struct sira_err *err)
{
	static const int states[] = { Q, SEALED };
	int rc = 0;

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		struct outq_row *rows, *grown;
		size_t n;
		if ((d->wake_states & (1u << states[i])) == 0)
			continue;
		if ((rc = outq_all(t, states[i], &rows, &n, err)) != 0)
			break;
		if (n == 0)
			continue;
		grown = realloc(d->wake, (d->n_wake + n) * sizeof(*grown));
		if (grown == NULL) {
			free(rows);
			return sira_err_set(err, SIRA_ENOMEM, "out of memory");
		}
		d->wake = grown;
		memcpy(d->wake + d->n_wake, rows, n * sizeof(*rows));
		d->n_wake += n;
		free(rows);
	}
	d->wake_states = 0;
	return rc;
}

/* One round: at most ROUND entries in one write transaction. *n gets how
 * many rows it took. */
static int
pump_round(struct daemon *d, uint64_t now, size_t *n, struct sira_err *err)
{
	struct outq_row rows[ROUND];
	struct vault_txn *t = NULL;
	int rc;

	*n = 0;
	if ((rc = vault_begin(d->a->vault, true, &t, err)) != 0)
		return rc;
	if (d->wake_states != 0)
		rc = take_wakes(d, t, err);
	if (rc == 0)
		rc = gather(d, t, now, rows, n, err);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		rc = pump_one(d, t, &rows[i], now);
	if (rc == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	return rc;
}

int
outbound_pump(struct daemon *d, uint64_t now)
{
	struct sira_err err;
	size_t n = 0;
	int rc = 0;

	d->pump_more = false;
	for (int r = 0; r < ROUNDS && rc == 0; r++) {
		sira_err_clear(&err);
		if ((rc = pump_round(d, now, &n, &err)) != 0 || n < ROUND)
			break;
		d->pump_more = r == ROUNDS - 1; /* the loop comes back soon */
	}
	if (rc != 0 && now >= d->out_fail_quiet_until) {
		/* Once a minute at most: a full disk fails every pump. */
		log_event(LOG_ERROR, "outbox.failed", "reason=%s",
		    err.msg[0] ? err.msg : sira_strerror(rc));
		d->out_fail_quiet_until = now + 60;
	}
	return rc;
}

int
outbound_start(struct daemon *d, uint64_t now, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	size_t n = 0;
	int rc;

	if ((rc = vault_begin(d->a->vault, true, &t, err)) == 0 &&
	    (rc = outq_rebuild(t, now, &n, err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc == 0 && n > 0)
		log_event(LOG_INFO, "outbox.indexed", "entries=%zu", n);
	/* Whatever waited while we were stopped is looked at now. */
	d->wake_states |= (1u << Q) | (1u << SEALED);
	return rc;
}

/* Load, change and store one outbox entry in its own transaction. */
static int
update(struct daemon *d, const uint8_t *id,
    int (*fn)(struct daemon *, struct vault_txn *, Sira__V1__OutboxEntry *,
	const void *, uint64_t),
    const void *arg, uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	struct sira_err err;
	int rc;

	if ((rc = vault_begin(d->a->vault, true, &t, &err)) != 0 ||
	    (rc = book_get_out(t, id, &e, &err)) != 0 ||
	    (rc = fn(d, t, e, arg, now)) != 0 ||
	    (rc = vault_commit(&t, &err)) != 0)
		log_event(LOG_WARN, "outbox.update_failed", "reason=%s",
		    sira_strerror(rc));
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	vault_abort(&t);
	return rc;
}

/* The checkpoint in acc must be signed by the broker's log key. */
static int
checkpoint_of(const struct daemon *d, const Sira__V1__SignedCheckpoint *sc,
    Sira__V1__Checkpoint **out)
{
	struct signed_obj so;
	uint8_t *raw;
	size_t len;
	int rc = -SIRA_EBADSIG;

	*out = NULL;
	if (sc == NULL || (d->a->broker->key_usage & SIRA_KU_LOG_SIGN) == 0 ||
	    wire_pack(&sc->base, &raw, &len, NULL) != 0)
		return -SIRA_EMALFORMED;
	if (signed_split(raw, len, 4096, 4096, "checkpoint", &so, NULL) == 0) {
		if (sign_verify(d->a->broker->sign_pk, SIRA_DS_CHECKPOINT,
			so.tbs, so.tbs_len, so.sig) == 0 &&
		    (*out = sira__v1__checkpoint__unpack(
			 NULL, so.tbs_len, so.tbs)) != NULL &&
		    (*out)->root.len == 32)
			rc = 0;
		signed_clear(&so);
	}
	free(raw);
	return rc;
}

static int
set_accepted(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    const void *arg, uint64_t now)
{
	const Sira__V1__Accepted *acc = arg;
	uint8_t *raw;
	size_t len;
	int rc;

	(void)d;
	if (acc->envelope_hash.len != 32 ||
	    memcmp(acc->envelope_hash.data, e->envelope_hash.data, 32) != 0)
		return -SIRA_EAUTH;
	if (e->state != SEALED)
		return 0; /* a repeated Accepted: nothing new */
	if (wire_pack(&acc->base, &raw, &len, NULL) != 0)
		return -SIRA_ENOMEM;
	e->state = ACCEPTED;
	e->accepted.data = raw;
	e->accepted.len = len;
	book_schedule(e, now); /* the pump releases its documents */
	rc = book_put_out(t, e, now, NULL);
	if (rc == 0)
		rc = book_audit(
		    t, now, "accepted", "broker", e->local_id.data, 0, NULL);
	return rc; /* raw is freed with e */
}

/*
 * Ask for the leaf, its inclusion proof and consistency since ours. The
 * checkpoint we hold is read in t (the caller's transaction) or in a read
 * transaction of our own when t is NULL, and remembered with the request.
 */
static void
ask_proof(struct daemon *d, struct vault_txn *t, const uint8_t *id,
    uint64_t leaf, uint64_t size, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ProofRequest q = SIRA__V1__PROOF_REQUEST__INIT;
	struct vault_txn *own = NULL;
	uint8_t *root = NULL;
	size_t rlen = 0;
	uint64_t old = 0, req;
	struct pending *p;

	if (t == NULL && vault_begin(d->a->vault, false, &own, NULL) == 0)
		t = own;
	if (t != NULL) {
		(void)vault_counter_get(t, "cp.size", &old);
		if (vault_get(t, VT_META, "cp.root", 7, &root, &rlen, NULL) !=
		    0)
			rlen = 0;
	}
	vault_abort(&own);
	q.leaf_index = leaf;
	q.tree_size = size;
	q.old_size = old < size ? old : 0;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_REQUEST;
	f.proof_request = &q;
	if (link_send(&d->link, &f, &req) == 0) {
		daemon_expect(d, req, P_PROOF, id, now);
		p = &d->pending[d->n_pending - 1];
		p->old_size = q.old_size;
		if (rlen == 32) {
			p->held_size = old;
			memcpy(p->held_root, root, 32);
		}
	}
	vault_free(root, rlen);
}

void
outbound_accepted(struct daemon *d, const struct pending *p,
    const Sira__V1__Accepted *acc, uint64_t now)
{
	Sira__V1__Checkpoint *cp = NULL;

	if (checkpoint_of(d, acc->checkpoint, &cp) != 0) {
		daemon_alarm(d,
		    "the broker's Accepted carries no valid signed checkpoint");
		return;
	}
	if (p->kind == P_SUBMIT &&
	    update(d, p->id, set_accepted, acc, now) == 0) {
		d->sent++;
		docs_release_id(&d->a->home, p->id); /* the broker holds them */
		if (link_can_send(&d->link)) /* else the pump asks later */
			ask_proof(
			    d, NULL, p->id, acc->leaf_index, cp->size, now);
	}
	sira__v1__checkpoint__free_unpacked(cp, NULL);
}

static bool
transient(int reason)
{
	return reason == SIRA_ERATE || reason == SIRA_EIO ||
	    reason == SIRA_EQUOTA || reason == SIRA_ESTATE ||
	    reason == SIRA_ENOMEM;
}

static int
set_nacked(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    const void *arg, uint64_t now)
{
	const Sira__V1__Nack *n = arg;
	int reason = (int)n->reason;

	(void)d;
	if (e->state != SEALED && e->state != ACCEPTED)
		return 0;
	if (reason == SIRA_EEXPIRED)
		e->state = EXPIRED;
	else if (transient(reason) || reason == SIRA_EFUTURE) {
		/* Dated ahead of the broker: sealed while this clock was
		 * wrong; it goes once the broker's time reaches its date. */
		book_schedule(e,
		    now + backoff(e->attempts, 5, 300) +
			(n->retry_after < 3600 ? n->retry_after : 3600));
		return book_put_out(t, e, now, NULL);
	} else
		refuse(e, reason, n->detail);
	if (book_put_out(t, e, now, NULL) != 0)
		return -SIRA_EIO;
	return book_audit(t, now,
	    reason == SIRA_EEXPIRED ? "expired" : "refused", "broker",
	    e->local_id.data, reason, NULL);
}

void
outbound_nack(struct daemon *d, const struct pending *p,
    const Sira__V1__Nack *n, uint64_t now)
{
	/* Unsolicited, only the broker's expiry notice is taken; any other
	 * Nack must answer one of our own requests. */
	const uint8_t *id = NULL;

	if (p != NULL && p->kind == P_SUBMIT)
		id = p->id;
	else if (p == NULL && n->reason == SIRA__V1__REASON__REASON_EXPIRED &&
	    n->message_id.len == 16)
		id = n->message_id.data;

	log_event(LOG_WARN, "broker.nack", "reason=%s detail=%s",
	    sira_strerror((int)n->reason), n->detail);
	if (n->reason == SIRA__V1__REASON__REASON_RATE)
		link_pause(&d->link, n->retry_after);
	if (n->reason == SIRA__V1__REASON__REASON_STATE) {
		/* The broker lost our session (it restarted, or we were
		 * silent too long): say Hello again, then resend. */
		daemon_rehello(d, now);
		return;
	}
	if (id != NULL)
		(void)update(d, id, set_nacked, n, now);
}

/* Copy n proof hashes into a flat buffer; -1 if a hash is not 32 bytes. */
static int
flatten(ProtobufCBinaryData *h, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (h[i].len != 32)
			return -1;
		memcpy(out + 32 * i, h[i].data, 32);
	}
	return 0;
}

/*
 * The tree only grew since the checkpoint we accepted last; keep the new.
 * The broker proved consistency from asked_from, our size when the
 * request left; if another proof moved our checkpoint since, this one
 * proves nothing about it: *stale is set and nothing is checked or kept,
 * and the caller asks again from the size we hold now.
 */
static int
check_consistency(struct vault_txn *t, const Sira__V1__Checkpoint *cp,
    const Sira__V1__ProofResponse *r, const struct pending *p, bool *stale,
    struct sira_err *err)
{
	uint64_t asked_from = p->old_size;
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32], *old = NULL;
	uint64_t old_size = 0;
	size_t old_len = 0;
	int rc = 0;

	/* The very tree we held when asking: every checkpoint we accepted
	 * since was proven to extend it, so there is nothing to ask again
	 * (many proofs in flight would otherwise ask each other stale). */
	if (p->held_size != 0 && cp->size == p->held_size &&
	    sodium_memcmp(cp->root.data, p->held_root, 32) == 0)
		return 0;
	(void)vault_counter_get(t, "cp.size", &old_size);
	if (old_size > cp->size && asked_from != old_size) {
		*stale = true; /* we moved past it meanwhile: ask again */
		return 0;
	}
	if (old_size > cp->size)
		return sira_err_set(err, SIRA_EAUTH,
		    "the broker's log shrank from %llu to %llu leaves",
		    (unsigned long long)old_size, (unsigned long long)cp->size);
	if (old_size != asked_from && old_size != cp->size) {
		*stale = true;
		return 0;
	}
	if (old_size > 0 && old_size != cp->size &&
	    (vault_get(t, VT_META, "cp.root", 7, &old, &old_len, NULL) != 0 ||
		old_len != 32 ||
		flatten(r->consistency_proof, r->n_consistency_proof, proof) !=
		    0 ||
		merkle_verify_consistency(old_size, cp->size, old,
		    cp->root.data, proof, r->n_consistency_proof, NULL) != 0))
		rc = sira_err_set(err, SIRA_EAUTH,
		    "the broker's log is not consistent with its earlier checkpoint");
	if (rc == 0 && old_size == cp->size &&
	    (vault_get(t, VT_META, "cp.root", 7, &old, &old_len, NULL) != 0 ||
		old_len != 32 || memcmp(old, cp->root.data, 32) != 0))
		rc = sira_err_set(err, SIRA_EAUTH,
		    "the broker signed two different logs of the same size");
	vault_free(old, old_len);
	if (rc == 0 && cp->size > old_size)
		rc = vault_counter_put(t, "cp.size", cp->size, err) ?:
		    vault_put(t, VT_META, "cp.root", 7, cp->root.data, 32, err);
	return rc;
}

/* The evidence: our leaf is in the signed tree (*included), and the tree
 * only grew. */
static int
check_proof(struct daemon *d, struct vault_txn *t,
    const Sira__V1__OutboxEntry *e, const Sira__V1__ProofResponse *r,
    const struct pending *p, bool *included, bool *stale, struct sira_err *err)
{
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32], leaf[32];
	Sira__V1__Checkpoint *cp = NULL;
	Sira__V1__LogLeaf *l = NULL;
	Sira__V1__Accepted *acc = NULL;
	int rc = sira_err_set(err, SIRA_EAUTH,
	    "the broker's proof for this message does not hold");

	if (checkpoint_of(d, r->checkpoint, &cp) != 0 ||
	    r->n_inclusion_proof > SIRA_MERKLE_PROOF_MAX ||
	    r->n_consistency_proof > SIRA_MERKLE_PROOF_MAX ||
	    (acc = sira__v1__accepted__unpack(
		 NULL, e->accepted.len, e->accepted.data)) == NULL ||
	    (l = sira__v1__log_leaf__unpack(NULL, r->leaf.len, r->leaf.data)) ==
		NULL ||
	    l->object_hash.len != 32 ||
	    memcmp(l->object_hash.data, e->envelope_hash.data, 32) != 0 ||
	    l->type != SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED ||
	    strcmp(l->actor_agency_id, d->a->me->agency_id) != 0 ||
	    flatten(r->inclusion_proof, r->n_inclusion_proof, proof) != 0)
		goto out;
	merkle_leaf_hash(r->leaf.data, r->leaf.len, leaf);
	if (merkle_verify_inclusion(leaf, acc->leaf_index, cp->size, proof,
		r->n_inclusion_proof, cp->root.data, NULL) != 0)
		goto out;
	*included = true;
	rc = check_consistency(t, cp, r, p, stale, err);
out:
	if (acc != NULL)
		sira__v1__accepted__free_unpacked(acc, NULL);
	if (l != NULL)
		sira__v1__log_leaf__free_unpacked(l, NULL);
	if (cp != NULL)
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	return rc;
}

/* Keep the checked leaf for evidence bundles (borrowed while stored). */
static int
keep_leaf(struct vault_txn *t, Sira__V1__OutboxEntry *e,
    ProtobufCBinaryData leaf, uint64_t now, struct sira_err *err)
{
	int rc;

	if (e->accepted_leaf.len != 0)
		return 0;
	e->accepted_leaf = leaf;
	if (e->state == ACCEPTED)
		book_schedule(e, e->expires_at + EXPIRY_GRACE);
	rc = book_put_out(t, e, now, err);
	memset(&e->accepted_leaf, 0, sizeof(e->accepted_leaf));
	return rc;
}

/* Another proof moved our checkpoint while this one travelled: ask again
 * for the same tree, consistency from what we hold now. */
static void
reask_proof(struct daemon *d, const struct pending *p,
    const Sira__V1__OutboxEntry *e, const Sira__V1__ProofResponse *r,
    uint64_t now)
{
	Sira__V1__Checkpoint *cp = NULL;
	Sira__V1__Accepted *acc;
	struct vault_txn *t = NULL;
	uint64_t held = 0;
	uint8_t id[16];

	if ((acc = sira__v1__accepted__unpack(
		 NULL, e->accepted.len, e->accepted.data)) == NULL)
		return;
	memcpy(id, p->id, 16); /* p lives in the table request_proof grows */
	if (vault_begin(d->a->vault, false, &t, NULL) == 0) {
		(void)vault_counter_get(t, "cp.size", &held);
		vault_abort(&t);
	}
	/* The larger of the answer's tree and ours: the leaf is in both, and
	 * consistency is then asked from what we hold, or not needed. */
	if (checkpoint_of(d, r->checkpoint, &cp) == 0) {
		ask_proof(d, NULL, id, acc->leaf_index,
		    cp->size > held ? cp->size : held, now);
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	}
	sira__v1__accepted__free_unpacked(acc, NULL);
}

void
outbound_proof(struct daemon *d, const struct pending *p,
    const Sira__V1__ProofResponse *r, uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	struct sira_err err;
	bool included = false, stale = false;
	int rc;

	if (vault_begin(d->a->vault, true, &t, &err) != 0)
		return;
	if ((rc = book_get_out(t, p->id, &e, &err)) == 0 &&
	    (rc = check_proof(d, t, e, r, p, &included, &stale, &err)) == 0 &&
	    !stale)
		rc = book_audit(
		    t, now, "evidence-checked", "broker", p->id, 0, &err);
	/* The leaf is evidence once its inclusion holds, even when the log's
	 * consistency could not be checked (that raises the alarm below). */
	if (included &&
	    keep_leaf(t, e, r->leaf, now, rc == 0 ? &err : NULL) != 0 &&
	    rc == 0)
		rc = -SIRA_EIO;
	if (rc == 0)
		rc = vault_commit(&t, &err);
	else if (included && vault_commit(&t, NULL) != 0)
		log_event(
		    LOG_WARN, "outbox.update_failed", "reason=leaf not kept");
	vault_abort(&t);
	if (rc == 0 && stale)
		reask_proof(d, p, e, r, now);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (rc != 0)
		daemon_alarm(d, err.msg);
}

/* Index of agency in e's recipients, or -1. */
static int
recipient_index(const Sira__V1__OutboxEntry *e, const char *agency)
{
	for (size_t i = 0; i < e->n_to; i++)
		if (strcmp(e->to[i], agency) == 0)
			return (int)i;
	return -1;
}

static int
add_receipt(Sira__V1__OutboxEntry *e, const uint8_t *receipt, size_t len,
    const char *from)
{
	ProtobufCBinaryData *r;
	char **f;

	for (size_t i = 0; i < e->n_receipt_from; i++)
		if (strcmp(e->receipt_from[i], from) == 0)
			return 0; /* already have this one's receipt */
	if ((r = realloc(e->receipts, (e->n_receipts + 1) * sizeof(*r))) ==
	    NULL)
		return -SIRA_ENOMEM;
	e->receipts = r;
	if ((f = realloc(e->receipt_from,
		 (e->n_receipt_from + 1) * sizeof(*f))) == NULL)
		return -SIRA_ENOMEM;
	e->receipt_from = f;
	if ((r[e->n_receipts].data = malloc(len)) == NULL ||
	    (f[e->n_receipt_from] = strdup(from)) == NULL) {
		free(r[e->n_receipts].data);
		return -SIRA_ENOMEM;
	}
	memcpy(r[e->n_receipts].data, receipt, len);
	r[e->n_receipts++].len = len;
	e->n_receipt_from++;
	return 1;
}

/* The (verified) receipt lists exactly the blobs of e, in order. */
static bool
docs_all_verified(
    const Sira__V1__OutboxEntry *e, const Sira__V1__ReceiptTBS *tbs)
{
	if (tbs->n_attachments_verified != e->n_docs)
		return false;
	for (size_t i = 0; i < e->n_docs; i++)
		if (tbs->attachments_verified[i].len != 32 ||
		    e->docs[i]->blob_id.len != 32 ||
		    memcmp(tbs->attachments_verified[i].data,
			e->docs[i]->blob_id.data, 32) != 0)
			return false;
	return true;
}

int
outbound_receipt(struct daemon *d, struct vault_txn *t, const uint8_t *receipt,
    size_t len, const char *from, uint64_t now)
{
	Sira__V1__ReceiptTBS *tbs = NULL;
	Sira__V1__OutboxEntry *e = NULL;
	struct receipt_expect x;
	struct receipt_info info;
	struct cert *rc_cert = NULL;
	const char *ids[SIRA_RECIPIENTS_MAX];
	uint8_t cids[SIRA_RECIPIENTS_MAX][32];
	struct sira_err err;
	int i, rc = -SIRA_EAUTH;

	/* Which message: read the claim, then verify it for real. */
	Sira__V1__Receipt *r = sira__v1__receipt__unpack(NULL, len, receipt);
	if (r == NULL ||
	    (tbs = sira__v1__receipt_tbs__unpack(
		 NULL, r->tbs.len, r->tbs.data)) == NULL ||
	    tbs->message_id.len != 16 ||
	    book_get_out(t, tbs->message_id.data, &e, NULL) != 0 ||
	    (i = recipient_index(e, from)) < 0 ||
	    (size_t)i >= e->n_recipient_cert_ids ||
	    peers_cert(d->a, t, from, e->recipient_cert_ids[i].data,
		tbs->received_at, now, &rc_cert, &err) != 0)
		goto out;
	memset(&x, 0, sizeof(x));
	memcpy(x.message_id, e->message_id.data, 16);
	memcpy(x.envelope_hash, e->envelope_hash.data, 32);
	memcpy(x.manifest_hash, e->manifest_hash.data, 32);
	memcpy(x.manifest_sig_sha256, e->manifest_sig_sha256.data, 32);
	memcpy(x.sender_cert_id, d->a->me->id, 32);
	x.created_at = e->created_at;
	for (size_t k = 0; k < e->n_to && k < e->n_recipient_cert_ids; k++) {
		if (e->recipient_cert_ids[k].len != 32)
			goto out;
		ids[k] = e->to[k];
		memcpy(cids[k], e->recipient_cert_ids[k].data, 32);
		x.n_recipients++;
	}
	x.recipient_ids = ids;
	x.recipient_cert_ids = (const uint8_t(*)[32])cids;
	rc = receipt_verify(receipt, len, rc_cert, &x, &info, &err);
	if (rc == 0 && info.kind == RECEIPT_ACCEPTED &&
	    !docs_all_verified(e, tbs))
		rc = -SIRA_EAUTH; /* "accepted" must name every document */
	if (rc == 0 && (rc = add_receipt(e, receipt, len, from)) == 1) {
		if (info.kind == RECEIPT_REJECTED)
			refuse(
			    e, info.reject_reason, "refused by the recipient");
		else if (e->n_receipts >= e->n_to)
			e->state = DELIVERED;
		rc = book_put_out(t, e, now, NULL);
		if (rc == 0)
			rc = book_audit(t, now,
			    info.kind == RECEIPT_REJECTED ? "rejected" :
							    "receipt",
			    from, e->local_id.data, info.reject_reason, NULL);
	}
out:
	cert_destroy(&rc_cert);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (tbs != NULL)
		sira__v1__receipt_tbs__free_unpacked(tbs, NULL);
	if (r != NULL)
		sira__v1__receipt__free_unpacked(r, NULL);
	return rc < 0 ? rc : 0;
}
