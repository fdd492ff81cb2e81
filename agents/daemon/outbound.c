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
#include "i18n.h"

#define ROUND 64  /* entries per write transaction */
#define ROUNDS 16 /* transactions per pump; more waits for the next loop */
#define SUBMIT_WINDOW 64 /* submissions waiting for the broker's answer */
#define PROOF_RETRY 30   /* seconds before asking a lost proof again */
#define STEP_RETRY 60    /* after a step failed on its own */

#define Q SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED
#define SEALED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED
#define ACCEPTED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED
#define DELIVERED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED
#define REFUSED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED
#define EXPIRED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_EXPIRED

/* The recipients of one entry, resolved and verified for sealing. */
struct resolved {
	struct peer peers[SIRA_RECIPIENTS_MAX];
	struct seal_recipient rs[SIRA_RECIPIENTS_MAX];
	ProtobufCBinaryData ids[SIRA_RECIPIENTS_MAX];
	size_t n;
};

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
record_sealed(
    Sira__V1__OutboxEntry *e, const struct sealed_out *so, struct resolved *r)
{
	const struct sealed_meta *m = &so->meta;

	e->state = SEALED;
	e->envelope.data = so->env;
	e->envelope.len = so->len;
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
	for (size_t i = 0; i < r->n; i++) {
		r->ids[i].data = r->peers[i].cert->id;
		r->ids[i].len = SIRA_HASH_LEN;
	}
	e->n_recipient_cert_ids = r->n;
	e->recipient_cert_ids = r->ids;
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
resolve(struct daemon *d, struct vault_txn *t, const Sira__V1__OutboxEntry *e,
    uint64_t now, struct resolved *r, struct sira_err *err)
{
	int rc;

	for (r->n = 0; r->n < e->n_to; r->n++) {
		size_t i = r->n;
		if ((rc = peers_current(
			 d->a, t, e->to[i], now, &r->peers[i], err)) != 0)
			return rc;
		r->rs[i].cert = r->peers[i].cert;
		r->rs[i].prekey = r->peers[i].prekey;
		r->rs[i].pair_seq = next_pair_seq(t, e->to[i]);
	}
	return 0;
}

static void
resolved_free(struct resolved *r)
{
	for (size_t i = 0; i < SIRA_RECIPIENTS_MAX; i++)
		peer_release(&r->peers[i]);
}

static int
seal_entry(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now, struct sira_err *err)
{
	struct resolved r = { 0 };
	struct seal_params sp = { 0 };
	struct sealed_out so = { 0 };
	struct seal *s = NULL;
	const uint8_t *sm;
	size_t smlen;
	int rc;

	if (e->n_to == 0 || e->n_to > SIRA_RECIPIENTS_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("bad recipient list"));
	if ((rc = resolve(d, t, e, now, &r, err)) != 0)
		goto out;
	sp.sender = d->a->me;
	sp.sender_keys = d->a->keys;
	sp.kind = e->kind;
	sp.content_type = e->content_type;
	sp.case_ref = e->case_ref;
	sp.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE;
	sp.now = now;
	sp.ttl = e->ttl;
	sp.recipients = r.rs;
	sp.n_recipients = e->n_to;
	sp.message_id = e->local_id.data;
	sp.pool = &d->pool;
	if ((rc = seal_begin(&sp, &s, err)) != 0 ||
	    (rc = docs_seal(d->a, e, s, err)) != 0 ||
	    (rc = seal_finish(s, e->payload.data, e->payload.len, &so, err)) !=
		0)
		goto out;
	record_sealed(e, &so, &r);
	if (seal_signed_manifest(s, &sm, &smlen) == 0) {
		e->signed_manifest.data = (uint8_t *)(uintptr_t)sm;
		e->signed_manifest.len = smlen; /* borrowed: see unrecord() */
	}
	e->attempts = 0;       /* from now on: submissions */
	book_schedule(e, now); /* submit in the pump's next round */
	if ((rc = spend_pair_seqs(t, e, r.rs)) == 0 &&
	    (rc = book_put_out(t, e, now, err)) == 0)
		rc = book_audit(t, now,
		    &(struct audit_event){
			"sealed", e->to[0], so.meta.message_id, 0, NULL, NULL },
		    err);
	unrecord(e);
out:
	seal_destroy(&s);
	free(so.env);
	resolved_free(&r);
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
	/* An answer needs the envelope to travel: 8 KiB/s at worst. */
	pending_expect(&d->pending, req, P_SUBMIT, e->local_id.data, now)
	    ->ttl += e->envelope.len / 8192;
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
	return book_audit(t, now,
	    &(struct audit_event){ "expired", e->to[0], e->local_id.data,
		SIRA_EEXPIRED, NULL, NULL },
	    NULL);
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
		d->pump_again = true; /* submitted in this pump's next round */
		return 0;             /* stored as sealed, due at once */
	}
	if (rc == -SIRA_EUNKNOWN_AGENCY && d->last_dir > e->queued_at) {
		outbox_refuse(e, -rc, why.msg);
		if ((rc = book_put_out(t, e, now, NULL)) != 0)
			return rc;
		return book_audit(t, now,
		    &(struct audit_event){ "refused", e->to[0],
			e->local_id.data, SIRA_EUNKNOWN_AGENCY, NULL, NULL },
		    NULL);
	}
	/* Not sealable yet (no prekey, stale list): ask the directory at
	 * once if ours is older than this message (the recipient may have
	 * published its key since), else after 3 s, backing off to 5
	 * minutes, so a recipient that never connected does not flood a 2G
	 * link. A directory that arrives wakes every queued entry. */
	if ((rc == -SIRA_EPREKEY || rc == -SIRA_EUNKNOWN_AGENCY ||
		rc == -SIRA_ECRL_STALE) &&
	    d->session &&
	    (d->last_dir < e->queued_at || now - d->last_dir >= d->dir_wait)) {
		d->last_dir = now;
		d->dir_wait = d->dir_wait >= 150 ? 300 : 2 * d->dir_wait;
		d->asks |= ASK_DIRECTORY;
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
	} else if (pending_has(&d->pending, P_SUBMIT, e->local_id.data)) {
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

/* The broker holds it: keep its evidence, wait for every receipt. */
static int
step_accepted(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	uint64_t leaf, size;

	docs_release(&d->a->home, e); /* the broker holds the blobs */
	if (now >= e->expires_at + OUTBOX_EXPIRY_GRACE) {
		/* No receipt before the broker dropped it: it can no longer
		 * arrive (a late receipt still marks it delivered). */
		return expire(t, e, now);
	}
	if (e->accepted_leaf.len == 0) {
		/* The proof was lost with a connection: ask again. */
		if (d->session && link_can_send(&d->link) &&
		    !pending_has(&d->pending, P_PROOF, e->local_id.data) &&
		    logproof_accepted_at(d, e, &leaf, &size) == 0)
			logproof_ask(d, t, e->local_id.data, leaf, size, now);
		book_schedule(e, now + PROOF_RETRY);
	} else {
		book_schedule(e, e->expires_at + OUTBOX_EXPIRY_GRACE);
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
	if (pending_count(&d->pending, P_SUBMIT) < SUBMIT_WINDOW &&
	    link_can_send(&d->link))
		states |= 1u << SEALED;
	if ((rc = outq_due(t, &(struct outq_ask){ now, states }, rows + k,
		 ROUND - k, &due, err)) != 0)
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
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
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
		d->pump_again = false;
		/* Another round when this one was full, or left an entry due
		 * at once (sealed: to submit), so nothing waits for a timer. */
		if ((rc = pump_round(d, now, &n, &err)) != 0 ||
		    (n < ROUND && !d->pump_again))
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
	    (rc = book_reindex(t, now, &n, err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc == 0 && n > 0)
		log_event(LOG_INFO, "outbox.indexed", "entries=%zu", n);
	/* Whatever waited while we were stopped is looked at now. */
	d->wake_states |= (1u << Q) | (1u << SEALED);
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
		rc = book_audit(t, now,
		    &(struct audit_event){
			"accepted", "broker", e->local_id.data, 0, NULL, NULL },
		    NULL);
	return rc; /* raw is freed with e */
}

void
outbound_accepted(struct daemon *d, const struct pending *p,
    const Sira__V1__Accepted *acc, uint64_t now)
{
	Sira__V1__Checkpoint *cp = NULL;

	if (logproof_checkpoint(d, acc->checkpoint, &cp) != 0) {
		status_alarm(d,
		    "the broker's Accepted carries no valid signed checkpoint");
		return;
	}
	if (p->kind == P_SUBMIT &&
	    outbox_update(d, p->id, set_accepted, acc, now) == 0) {
		d->sent++;
		docs_release_id(&d->a->home, p->id); /* the broker holds them */
		if (link_can_send(&d->link)) /* else the pump asks later */
			logproof_ask(
			    d, NULL, p->id, acc->leaf_index, cp->size, now);
	}
	sira__v1__checkpoint__free_unpacked(cp, NULL);
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
	else if (sira_err_transient(reason) || reason == SIRA_EFUTURE) {
		/* Dated ahead of the broker: sealed while this clock was
		 * wrong; it goes once the broker's time reaches its date. */
		book_schedule(e,
		    now + backoff(e->attempts, 5, 300) +
			(n->retry_after < 3600 ? n->retry_after : 3600));
		return book_put_out(t, e, now, NULL);
	} else
		outbox_refuse(e, reason, n->detail);
	if (book_put_out(t, e, now, NULL) != 0)
		return -SIRA_EIO;
	return book_audit(t, now,
	    &(struct audit_event){
		reason == SIRA_EEXPIRED ? "expired" : "refused", "broker",
		e->local_id.data, reason, NULL, NULL },
	    NULL);
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
		d->asks |= ASK_HELLO;
		return;
	}
	if (id != NULL)
		(void)outbox_update(d, id, set_nacked, n, now);
}
