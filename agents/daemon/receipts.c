/*
 * receipts.c: signed receipts, both ways. The receipts this agency gives
 * (accepted: the message is stored and its documents verified; refused:
 * the sender may act on the reason) are built, signed and queued here, and
 * only here; the receipts that come back for what we sent are verified
 * against what we sealed and recorded on the outbox entry here too.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "daemon/daemon.h"
#include "envelope.h"
#include "payload.pb-c.h"
#include "store/store.h"
#include "wire.h"
#include "i18n.h"

#define RECEIPT_TTL (7 * 86400) /* seconds a receipt may travel */
#define PAYLOAD_MAX (SIRA_RECEIPT_MAX + 64)

#define DELIVERED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED
#define KIND_RECEIPT SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT

/*
 * Sign f, wrap it in a Payload and queue it to agency `to` in t. On
 * success the signed Receipt bytes are handed to *keep when it is not
 * NULL (the caller frees keep->data).
 */
/* Queue the signed Receipt bytes r[0..rlen) to agency `to` in t. */
static int
queue_receipt(struct vault_txn *t, const uint8_t *r, size_t rlen,
    const char *to, uint64_t now, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	const char *dest[1] = { to };
	uint8_t *pb = NULL, id[16];
	size_t plen;
	int rc;

	if ((rc = wire_unpack(&sira__v1__receipt__descriptor, r, rlen,
		 SIRA_RECEIPT_MAX, (ProtobufCMessage **)&p.receipt, err)) ==
	    0) {
		p.body_case = SIRA__V1__PAYLOAD__BODY_RECEIPT;
		if ((rc = wire_pack(&p.base, &pb, &plen, err)) == 0)
			rc = book_queue(t,
			    &(struct outgoing){ dest, 1, KIND_RECEIPT,
				"sira.receipt.v1", "", bytes_of(pb, plen),
				RECEIPT_TTL, NULL },
			    now, id, err);
		sira__v1__receipt__free_unpacked(p.receipt, NULL);
	}
	free(pb);
	return rc;
}

static int
give(const struct agent *a, struct vault_txn *t, const struct receipt_fields *f,
    const char *to, ProtobufCBinaryData *keep, struct sira_err *err)
{
	uint8_t *r = NULL;
	size_t rlen;
	int rc;

	if ((rc = receipt_sign(f, a->me, a->keys, &r, &rlen, err)) != 0)
		return rc;
	rc = queue_receipt(t, r, rlen, to, f->received_at, err);
	if (rc == 0 && keep != NULL) {
		keep->data = r;
		keep->len = rlen;
	} else
		free(r);
	return rc;
}

int
receipts_accept(struct daemon *d, struct vault_txn *t, const struct opened *o,
    Sira__V1__InboxEntry *in, uint64_t now, struct sira_err *err)
{
	uint8_t blobs[SIRA_ATTACHMENTS_MAX][SIRA_HASH_LEN];
	const Sira__V1__EnvelopeHeader *h = o->env->h;
	struct receipt_fields f;

	if (in->n_docs > SIRA_ATTACHMENTS_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("too many documents"));
	memset(&f, 0, sizeof(f));
	f.kind = RECEIPT_ACCEPTED;
	memcpy(f.message_id, h->message_id.data, 16);
	memcpy(f.envelope_hash, o->env->hash, 32);
	memcpy(f.manifest_hash, h->manifest_hash.data, 32);
	memcpy(f.manifest_sig_sha256, o->manifest_sig_sha256, 32);
	memcpy(f.sender_cert_id, h->sender_cert_id.data, 32);
	f.received_at = now;
	for (size_t i = 0; i < in->n_docs; i++)
		memcpy(blobs[i], in->docs[i]->blob_id.data, SIRA_HASH_LEN);
	f.attachments_verified = (const uint8_t(*)[SIRA_HASH_LEN])blobs;
	f.n_attachments_verified = in->n_docs;
	return give(d->a, t, &f, h->sender_agency_id, &in->receipt, err);
}

/* May the sender of e be told that we refused it for rc? */
static bool
may_tell(const struct envelope *e, int rc, bool docs_failed)
{
	return (rc == -SIRA_EPREKEY || rc == -SIRA_EEXPIRED ||
		   rc == -SIRA_ENOT_RECIPIENT || docs_failed) &&
	    e->h->kind != KIND_RECEIPT;
}

void
receipts_refuse(struct daemon *d, const Sira__V1__Deliver *dl, int rc,
    bool docs_failed, uint64_t now)
{
	struct receipt_fields f;
	struct envelope *e = NULL;
	struct vault_txn *t = NULL;
	struct cert *sender = NULL;

	if (envelope_decode(dl->envelope.data, dl->envelope.len, &e, NULL) !=
		0 ||
	    !may_tell(e, rc, docs_failed) || batch_begin(d, &t, NULL) != 0 ||
	    peers_cert(d->a, t,
		&(struct peer_ref){
		    e->h->sender_agency_id, e->h->sender_cert_id.data, now },
		now, &sender, NULL) != 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.kind = RECEIPT_REJECTED;
	f.reject_reason = -rc;
	memcpy(f.message_id, e->h->message_id.data, 16);
	memcpy(f.envelope_hash, e->hash, 32);
	memcpy(f.manifest_hash, e->h->manifest_hash.data, 32);
	memcpy(f.sender_cert_id, e->h->sender_cert_id.data, 32);
	f.received_at = now;
	if (give(d->a, t, &f, e->h->sender_agency_id, NULL, NULL) == 0 &&
	    vault_commit(&t, NULL) == 0)
		d->last_pump = 0; /* sent in this loop's pump */
out:
	cert_destroy(&sender);
	vault_abort(&t);
	envelope_destroy(&e);
}

void
receipts_again(struct daemon *d, const Sira__V1__Deliver *dl, uint64_t now)
{
	Sira__V1__InboxEntry *in = NULL;
	struct envelope *e = NULL;
	struct vault_txn *t = NULL;

	if (envelope_decode(dl->envelope.data, dl->envelope.len, &e, NULL) !=
		0 ||
	    e->h->kind == KIND_RECEIPT || batch_begin(d, &t, NULL) != 0 ||
	    book_get_in(t, e->h->message_id.data, &in, NULL) != 0 ||
	    in->receipt.len == 0 ||
	    strcmp(in->sender, e->h->sender_agency_id) != 0)
		goto out;
	if (queue_receipt(t, in->receipt.data, in->receipt.len, in->sender, now,
		NULL) == 0 &&
	    vault_commit(&t, NULL) == 0)
		d->last_pump = 0; /* sent in this loop's pump */
out:
	if (in != NULL)
		sira__v1__inbox_entry__free_unpacked(in, NULL);
	vault_abort(&t);
	envelope_destroy(&e);
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

/* Is a receipt from `from` already kept on e? */
static bool
has_receipt(const Sira__V1__OutboxEntry *e, const char *from)
{
	for (size_t i = 0; i < e->n_receipt_from; i++)
		if (strcmp(e->receipt_from[i], from) == 0)
			return true;
	return false;
}

/* Keep receipt from `from` on e: 0 or -SIRA_ENOMEM. */
static int
add_receipt(Sira__V1__OutboxEntry *e, const ProtobufCBinaryData *receipt,
    const char *from)
{
	ProtobufCBinaryData *r;
	char **f;

	if ((r = realloc(e->receipts, (e->n_receipts + 1) * sizeof(*r))) ==
	    NULL)
		return -SIRA_ENOMEM;
	e->receipts = r;
	if ((f = realloc(e->receipt_from,
		 (e->n_receipt_from + 1) * sizeof(*f))) == NULL)
		return -SIRA_ENOMEM;
	e->receipt_from = f;
	if ((r[e->n_receipts].data = malloc(receipt->len)) == NULL ||
	    (f[e->n_receipt_from] = strdup(from)) == NULL) {
		free(r[e->n_receipts].data);
		return -SIRA_ENOMEM;
	}
	memcpy(r[e->n_receipts].data, receipt->data, receipt->len);
	r[e->n_receipts++].len = receipt->len;
	e->n_receipt_from++;
	return 0;
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

/* The recipients signed into e, for receipt_verify (ids borrowed). */
struct signed_to {
	const char *ids[SIRA_RECIPIENTS_MAX];
	uint8_t cids[SIRA_RECIPIENTS_MAX][32];
};

/* What we sealed as e, which a receipt must match. */
static int
expect_of(const struct daemon *d, const Sira__V1__OutboxEntry *e,
    struct signed_to *st, struct receipt_expect *x)
{
	memset(x, 0, sizeof(*x));
	if (e->message_id.len != 16 || e->envelope_hash.len != 32 ||
	    e->manifest_hash.len != 32 || e->manifest_sig_sha256.len != 32)
		return -SIRA_EMALFORMED;
	memcpy(x->message_id, e->message_id.data, 16);
	memcpy(x->envelope_hash, e->envelope_hash.data, 32);
	memcpy(x->manifest_hash, e->manifest_hash.data, 32);
	memcpy(x->manifest_sig_sha256, e->manifest_sig_sha256.data, 32);
	memcpy(x->sender_cert_id, d->a->me->id, 32);
	x->created_at = e->created_at;
	for (size_t k = 0; k < e->n_to && k < e->n_recipient_cert_ids &&
	     k < SIRA_RECIPIENTS_MAX;
	     k++) {
		if (e->recipient_cert_ids[k].len != 32)
			return -SIRA_EMALFORMED;
		st->ids[k] = e->to[k];
		memcpy(st->cids[k], e->recipient_cert_ids[k].data, 32);
		x->n_recipients++;
	}
	x->recipient_ids = st->ids;
	x->recipient_cert_ids = (const uint8_t(*)[32])st->cids;
	return 0;
}

/* Record a verified receipt from `from` on e, with its audit entry. */
static int
record(struct vault_txn *t, Sira__V1__OutboxEntry *e,
    const ProtobufCBinaryData *receipt, const struct receipt_info *info,
    const char *from, uint64_t now)
{
	int rc;

	if (has_receipt(e, from)) {
		/* A copy of one we have. An entry submitted again (a restored
		 * recipient asked for it) is delivered again by it. */
		if (e->state != SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED ||
		    e->n_receipts < e->n_to)
			return 0;
		e->state = DELIVERED;
		return book_put_out(t, e, now, NULL);
	}
	if ((rc = add_receipt(e, receipt, from)) != 0)
		return rc;
	if (info->kind == RECEIPT_REJECTED)
		outbox_refuse(
		    e, info->reject_reason, "refused by the recipient");
	else if (e->n_receipts >= e->n_to)
		e->state = DELIVERED;
	if ((rc = book_put_out(t, e, now, NULL)) != 0)
		return rc;
	return book_audit(t, now,
	    &(struct audit_event){
		info->kind == RECEIPT_REJECTED ? "rejected" : "receipt", from,
		e->local_id.data, info->reject_reason, NULL, NULL },
	    NULL);
}

/* Verify the Receipt bytes r from `from` and record them on our entry. */
static int
take(struct daemon *d, struct vault_txn *t, const ProtobufCBinaryData *r,
    const char *from, uint64_t now)
{
	Sira__V1__Receipt *rcpt = NULL;
	Sira__V1__ReceiptTBS *tbs = NULL;
	Sira__V1__OutboxEntry *e = NULL;
	struct receipt_expect x;
	struct receipt_info info;
	struct signed_to st;
	struct cert *signer = NULL;
	int i, rc = -SIRA_EAUTH;

	/* Which message: read the claim, then verify it for real. */
	if (wire_unpack(&sira__v1__receipt__descriptor, r->data, r->len,
		SIRA_RECEIPT_MAX, (ProtobufCMessage **)&rcpt, NULL) != 0 ||
	    wire_unpack(&sira__v1__receipt_tbs__descriptor, rcpt->tbs.data,
		rcpt->tbs.len, SIRA_RECEIPT_MAX, (ProtobufCMessage **)&tbs,
		NULL) != 0 ||
	    tbs->message_id.len != 16 ||
	    book_get_out(t, tbs->message_id.data, &e, NULL) != 0 ||
	    (i = recipient_index(e, from)) < 0 ||
	    (size_t)i >= e->n_recipient_cert_ids ||
	    peers_cert(d->a, t,
		&(struct peer_ref){
		    from, e->recipient_cert_ids[i].data, tbs->received_at },
		now, &signer, NULL) != 0 ||
	    expect_of(d, e, &st, &x) != 0)
		goto out;
	rc = receipt_verify(r->data, r->len, signer, &x, &info, NULL);
	if (rc == 0 && info.kind == RECEIPT_ACCEPTED &&
	    !docs_all_verified(e, tbs))
		rc = -SIRA_EAUTH; /* "accepted" must name every document */
	if (rc == 0)
		rc = record(t, e, r, &info, from, now);
out:
	cert_destroy(&signer);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (tbs != NULL)
		sira__v1__receipt_tbs__free_unpacked(tbs, NULL);
	if (rcpt != NULL)
		sira__v1__receipt__free_unpacked(rcpt, NULL);
	return rc < 0 ? rc : 0;
}

int
receipts_take(
    struct daemon *d, struct vault_txn *t, const struct opened *o, uint64_t now)
{
	Sira__V1__Payload *p = NULL;
	ProtobufCBinaryData r = { 0, NULL };
	int rc;

	if ((rc = wire_unpack(&sira__v1__payload__descriptor, o->payload,
		 o->payload_len, PAYLOAD_MAX, (ProtobufCMessage **)&p, NULL)) !=
	    0)
		return rc;
	rc = -SIRA_EMALFORMED;
	if (p->body_case == SIRA__V1__PAYLOAD__BODY_RECEIPT &&
	    wire_pack(&p->receipt->base, &r.data, &r.len, NULL) == 0) {
		rc = take(d, t, &r, o->env->h->sender_agency_id, now);
		free(r.data);
	}
	sira__v1__payload__free_unpacked(p, NULL);
	return rc;
}
