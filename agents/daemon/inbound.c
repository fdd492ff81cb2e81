/*
 * inbound.c: deliveries from the broker.
 *
 * Exactly once, whatever crashes: the envelope is opened and checked, then
 * in ONE write transaction the message enters the inbox, its (sender,
 * message id) enters the seen-set, the audit chain records it and the
 * signed receipt is queued; only after that commit is the broker told Ack.
 * That transaction is a child of the loop's batch (batch.c): it is undone
 * alone if it fails, and durable, then acknowledged, with the batch's
 * commit. A crash before the commit: the broker still has it and
 * redelivers. A
 * crash after the commit but before the Ack: the redelivery is found in
 * the seen-set, acknowledged again, and never shown twice. While the
 * revocation list is stale nothing is acted on: the delivery is left
 * unacknowledged at the broker until a fresh list arrives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "be64.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "envelope.h"
#include "log.h"
#include "store/store.h"
#include "payload.pb-c.h"
#include "crypto/crypto.h"
#include "wire.h"
#include "workflow/workflow.h"

struct rx {
	struct daemon *d;
	struct vault_txn *t;
	uint64_t now;
	struct cert *sender;
	struct prekey_secret sec;
	struct docs_in_list *docs; /* the message's documents, once verified */
	bool docs_failed;          /* a document did not verify */
};

static int
rx_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	struct rx *x = ctx;
	int rc = prekeys_secret(x->t, cert_id, key_id, &x->sec);

	if (rc == 0)
		*out = &x->sec;
	return rc;
}

static int
rx_sender(void *ctx, const char *agency, const uint8_t *cert_id, uint64_t at,
    const struct cert **out, struct sira_err *err)
{
	struct rx *x = ctx;
	int rc;

	cert_destroy(&x->sender);
	if ((rc = peers_cert(x->d->a, x->t,
		 &(struct peer_ref){ agency, cert_id, at }, x->now, &x->sender,
		 err)) != 0)
		return rc;
	*out = x->sender;
	return 0;
}

/* Erasure orders and their receipts go to workflow/erase_order.c. */
static bool
is_erasure(int kind)
{
	return kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE ||
	    kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT;
}

/* Who moves what a verified message says: a case's workflow, an
 * erasure, or a restored agency's request for what it lost. */
static int (*handler_of(int kind))(struct agent *, struct vault_txn *,
    const struct wf_incoming *, struct sira_err *)
{
	if (is_erasure(kind))
		return erase_incoming;
	if (kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RESEND_REQUEST)
		return resend_incoming;
	return workflow_incoming;
}

static void
seen_key(uint8_t key[48], const uint8_t *cert_id, const uint8_t *msgid)
{
	memcpy(key, cert_id, 32);
	memcpy(key + 32, msgid, 16);
}

static int
rx_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	struct rx *x = ctx;
	uint8_t key[48], *v;
	size_t len;

	seen_key(key, cert_id, msgid);
	if (vault_get(
		x->t, VT_SEEN, bytes_of(key, sizeof(key)), &v, &len, NULL) != 0)
		return 0;
	vault_free(v, len);
	return 1;
}

/*
 * A statistical report (docs/STATS.md) is also kept as its agency's
 * report of its period. One that does not validate stays in the inbox
 * only, and is logged: the committee's figures never take it.
 */
static int
take_stats(const char *sender, const struct opened *o, struct vault_txn *t,
    struct sira_err *err)
{
	struct sira_err e;
	bool kept = false;
	int rc;

	sira_err_clear(&e);
	rc = stats_take(t, sender, o->payload, o->payload_len, &kept, &e);
	if (rc == -SIRA_EMALFORMED) {
		log_event(LOG_WARN, "stats.refused", "from=%s detail=%s",
		    sender, e.msg);
		return 0;
	}
	if (rc != 0)
		return sira_err_set(err, -rc, "%s", e.msg);
	log_event(
	    LOG_INFO, kept ? "stats.kept" : "stats.older", "from=%s", sender);
	return 0;
}

/* Store a received message (not a receipt) in the inbox. */
static int
store_message(struct rx *x, const struct opened *o, const Sira__V1__Deliver *dl,
    struct sira_err *err)
{
	struct daemon *d = x->d;
	struct vault_txn *t = x->t;
	uint64_t now = x->now;
	Sira__V1__InboxEntry in = SIRA__V1__INBOX_ENTRY__INIT;
	const Sira__V1__EnvelopeHeader *h = o->env->h;
	uint8_t *bytes = NULL;
	size_t len;
	int rc;

	in.message_id = h->message_id;
	in.sender = h->sender_agency_id;
	in.kind = (int32_t)h->kind;
	in.content_type = o->manifest->content_type;
	in.case_ref = o->manifest->case_ref;
	in.payload.data = o->payload;
	in.payload.len = o->payload_len;
	in.created_at = h->created_at;
	in.received_at = now;
	in.envelope = dl->envelope;
	in.signed_manifest.data = o->signed_manifest;
	in.signed_manifest.len = o->signed_manifest_len;
	if (h->n_attachments > 0) {
		/* Verified and in place before anything is committed. */
		rc = docs_in_extract(d, o, x->docs, err);
		x->docs_failed = rc == -SIRA_EAUTH || rc == -SIRA_ETRUNCATED ||
		    rc == -SIRA_EMALFORMED;
		if (rc != 0)
			return x->docs_failed ? rc : -SIRA_EIO; /* retried */
		in.docs = x->docs->p;
		in.n_docs = x->docs->n;
	}
	if ((rc = receipts_accept(d, t, o, &in, now, err)) == 0 &&
	    (rc = wire_pack(&in.base, &bytes, &len, err)) == 0 &&
	    (rc = vault_put(t, VT_INBOX, bytes_of(h->message_id.data, 16),
		 bytes, len, err)) == 0)
		rc = handler_of((int)h->kind)(d->a, t,
		    &(struct wf_incoming){ h->sender_agency_id, (int)h->kind,
			o->manifest->case_ref, h->message_id.data, o->payload,
			o->payload_len, now, (int)x->sender->role },
		    err);
	if (rc == 0 &&
	    h->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_STATS_REPORT)
		rc = take_stats(h->sender_agency_id, o, t, err);
	if (bytes != NULL)
		sodium_memzero(bytes, len);
	free(bytes);
	free(in.receipt.data);
	return rc;
}

/*
 * Record a refusal in the audit chain, naming the sender as the envelope
 * claims it only when the strict decoder accepts the header (a valid
 * agency id: no control characters from a hostile broker reach the log or
 * the audit); otherwise the sender is "?" and no message id is kept.
 */
static void
record_refusal(struct daemon *d, const Sira__V1__Deliver *dl, int rc,
    const char *why, uint64_t now)
{
	struct envelope *e = NULL;
	struct vault_txn *t = NULL;
	const char *from = "?";
	const uint8_t *msgid = NULL;

	if (envelope_decode(dl->envelope.data, dl->envelope.len, &e, NULL) ==
	    0) {
		from = e->h->sender_agency_id;
		msgid = e->h->message_id.data;
	}
	log_event(LOG_WARN, "message.refused", "from=%s reason=%s detail=%s",
	    from, sira_strerror(rc), why);
	if (batch_begin(d, &t, NULL) == 0 &&
	    book_audit(t, now,
		&(struct audit_event){
		    "refused", e != NULL ? from : "", msgid, -rc, NULL, NULL },
		NULL) == 0 &&
	    vault_commit(&t, NULL) != 0)
		log_event(LOG_ERROR, "audit.failed", "reason=store");
	vault_abort(&t);
	d->refused++;
	envelope_destroy(&e);
}

/*
 * Per-pair sequence numbers (store.h): a hole still open a day after it
 * was noticed means the broker (or the network) lost messages: logged and
 * counted, never hidden. Reordering is normal and says nothing.
 */
static void
check_pair_seq(
    struct daemon *d, struct vault_txn *t, const struct opened *o, uint64_t now)
{
	const char *from = o->env->h->sender_agency_id;
	char old[SIRA_AGENCY_ID_MAX + 8];
	struct pairseq p;
	uint64_t seq = 0, max = 0;
	int64_t missing;

	for (size_t i = 0; i < o->manifest->n_recipients; i++)
		if (strcmp(o->manifest->recipients[i]->agency_id,
			d->a->me->agency_id) == 0)
			seq = o->manifest->recipients[i]->pair_seq;
	if (seq == 0 || pairseq_load(t, from, &p, NULL) != 0)
		return;
	/* A store from before hole tracking kept only the highest number. */
	(void)snprintf(old, sizeof(old), "rseq:%s", from);
	if (p.low == 0 && p.n == 0 && vault_counter_get(t, old, &max) == 0)
		p.low = max;
	missing = pairseq_take(&p, seq, now);
	if (missing > 0) {
		d->gaps += (uint64_t)missing;
		log_event(LOG_WARN, "messages.missing",
		    "from=%s count=%lld (not arrived %d hours after later ones)",
		    from, (long long)missing, (int)(PAIRSEQ_WAIT / 3600));
	}
	(void)pairseq_store(t, from, &p, NULL);
	pairseq_free(&p);
}

static int
store_opened(struct daemon *d, struct rx *x, const struct opened *o,
    const Sira__V1__Deliver *dl, uint64_t now, struct sira_err *err)
{
	const Sira__V1__EnvelopeHeader *h = o->env->h;
	uint8_t key[48], when[8];
	int rc;

	be64_put(when, now);
	seen_key(key, h->sender_cert_id.data, h->message_id.data);
	check_pair_seq(d, x->t, o, now);
	if (h->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT)
		rc = receipts_take(d, x->t, o, now);
	else
		rc = store_message(x, o, dl, err);
	if (rc == 0)
		rc = vault_put(
		    x->t, VT_SEEN, bytes_of(key, sizeof(key)), when, 8, err);
	if (rc == 0 && h->kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT)
		rc = book_audit(x->t, now,
		    &(struct audit_event){ "received", h->sender_agency_id,
			h->message_id.data, 0, NULL, NULL },
		    err);
	return rc;
}

/*
 * Is this sender still unknown although a directory was fetched after we
 * first asked about this message? Then it is refused. Otherwise remember
 * when we asked (a small ring: forgetting only delays a refusal).
 */
static bool
unknown_confirmed(struct daemon *d, const Sira__V1__Deliver *dl, uint64_t now)
{
	struct envelope *e = NULL;
	bool confirmed = false;
	size_t i;

	if (envelope_decode(dl->envelope.data, dl->envelope.len, &e, NULL) != 0)
		return true; /* cannot even parse: nothing to wait for */
	for (i = 0; i < d->n_unknown; i++)
		if (memcmp(d->unknown[i].msgid, e->h->message_id.data, 16) == 0)
			break;
	if (i < d->n_unknown)
		confirmed = d->last_dir > d->unknown[i].asked_at;
	else {
		if (d->n_unknown == 16) {
			memmove(d->unknown, d->unknown + 1,
			    15 * sizeof(d->unknown[0]));
			d->n_unknown--;
		}
		memcpy(
		    d->unknown[d->n_unknown].msgid, e->h->message_id.data, 16);
		d->unknown[d->n_unknown++].asked_at = now;
	}
	envelope_destroy(&e);
	return confirmed;
}

/* After the transaction: drop blobs no longer needed, and documents a
 * failed commit would otherwise leave behind. */
static void
docs_after(struct daemon *d, const struct rx *x, const struct opened *o, int rc)
{
	char dir[PATH_MAX];

	if (o == NULL || o->env->h->n_attachments == 0)
		return;
	if (rc != 0 && x->docs->extracted &&
	    docs_message_dir(
		&d->a->home, o->env->h->message_id.data, false, dir, NULL) == 0)
		docs_rmtree(dir);
	if (rc == 0 || x->docs_failed)
		docs_in_forget(d, o->env->h);
}

/* A message stored before: its downloaded blobs, if any, can go. */
static void
forget_replayed(struct daemon *d, const Sira__V1__Deliver *dl)
{
	struct envelope *e = NULL;

	if (envelope_decode(dl->envelope.data, dl->envelope.len, &e, NULL) ==
		0 &&
	    e->h->n_attachments > 0)
		docs_in_forget(d, e->h);
	envelope_destroy(&e);
}

/*
 * What follows a delivery that was opened (and stored, or refused):
 * acknowledge what is stored or refused for good; leave at the broker
 * what may succeed later (our clock, a stale list, an agency not yet in
 * our directory, our own store failing).
 */
static void
outcome(struct daemon *d, const Sira__V1__Deliver *dl, const struct rx *x,
    int rc, const struct sira_err *err)
{
	uint64_t now = x->now;

	if (rc == 0) {
		/* Acknowledged once the batch is durable (batch.c). */
		batch_ack(d, dl->delivery_id, true);
	} else if (rc == -SIRA_EREPLAY) {
		forget_replayed(d, dl);     /* blobs a crash left behind */
		receipts_again(d, dl, now); /* its sender may lack it */
		batch_ack(d, dl->delivery_id, false); /* never stored twice */
	} else if (d->clock_bad &&
	    (rc == -SIRA_EFUTURE || rc == -SIRA_EEXPIRED ||
		rc == -SIRA_ENOTYETVALID)) {
		/* Our clock is wrong, not the message: the broker keeps it
		 * until the clock is set right. */
		log_event(LOG_WARN, "message.held", "reason=%s (clock wrong)",
		    err->msg);
	} else if (rc == -SIRA_ECRL_STALE) {
		d->crl_wait = true; /* hold it at the broker until fresh */
	} else if (rc == -SIRA_EUNKNOWN_AGENCY &&
	    !unknown_confirmed(d, dl, now)) {
		/* A new or renewed agency our directory does not have yet:
		 * keep it at the broker and fetch the directory now. */
		d->last_dir = 0;
	} else if (rc == -SIRA_EIO || rc == -SIRA_ENOMEM ||
	    rc == -SIRA_EQUOTA) {
		log_event(
		    LOG_ERROR, "message.store_failed", "reason=%s", err->msg);
	} else {
		record_refusal(d, dl, rc, err->msg, now);
		receipts_refuse(d, dl, rc, x->docs_failed, now);
		batch_ack(d, dl->delivery_id, false);
	}
}

static void
rx_init(struct rx *x, struct open_keys *keys, struct daemon *d, uint64_t now)
{
	memset(x, 0, sizeof(*x));
	x->d = d;
	x->now = now;
	keys->me = d->a->me;
	keys->ctx = x;
	keys->prekey = rx_prekey;
	keys->sender_cert = rx_sender;
	keys->seen = rx_seen;
	keys->pool = &d->pool;
}

void
inbound_deliver(struct daemon *d, const Sira__V1__Deliver *dl, uint64_t now)
{
	struct rx x;
	struct open_keys keys;
	struct opened *o = NULL;
	struct sira_err err;
	bool waiting = false; /* for its documents: nothing is stored yet */
	int rc;

	rx_init(&x, &keys, d, now);
	sira_err_clear(&err);
	if ((x.docs = calloc(1, sizeof(*x.docs))) == NULL ||
	    batch_begin(d, &x.t, &err) != 0) {
		free(x.docs);
		return; /* not acked: the broker keeps it */
	}
	rc = seal_open(
	    dl->envelope.data, dl->envelope.len, &keys, now, &o, &err);
	/* Attachments first: downloaded before anything is acknowledged. */
	if (rc == 0 && o->env->h->n_attachments > 0)
		waiting = !docs_in_ready(d, dl, o, now);
	if (rc == 0 && !waiting &&
	    (rc = store_opened(d, &x, o, dl, now, &err)) == 0 &&
	    (rc = vault_commit(&x.t, &err)) == 0 &&
	    o->env->h->n_attachments > 0 && batch_flush(d, &err) != 0)
		/* Its documents are files: the delivery is made durable
		 * before docs_after forgets the downloaded blobs. Not
		 * stored: the broker delivers it again. */
		rc = -SIRA_EIO;
	vault_abort(&x.t);
	if (!waiting)
		docs_after(d, &x, o, rc);
	sodium_memzero(&x.sec, sizeof(x.sec));
	cert_destroy(&x.sender);
	seal_opened_destroy(&o);
	free(x.docs);
	x.docs = NULL;
	if (waiting)
		docs_in_tick(d, now); /* start the download */
	else
		outcome(d, dl, &x, rc, &err);
}
