/*
 * receipt.c: building and verifying receipts (payload.proto ReceiptTBS).
 *
 * Signatures go through lib/sign.c; the only libsodium call here is
 * randombytes_buf for the receipt id. The manifest signature hash is
 * compared in constant time: it is the proof that the signer decrypted the
 * body, and a near-miss must not be measurable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "payload.pb-c.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "wire.h"
#include "i18n.h"

#define RECEIPT_VERSION 1

#define BIN(field, ptr, n) \
	do { \
		(field).data = (uint8_t *)(uintptr_t)(ptr); \
		(field).len = (n); \
	} while (0)

static int
zero(const uint8_t *p, size_t len)
{
	return sodium_is_zero(p, len);
}

int
receipt_sign(const struct receipt_fields *f, const struct cert *me,
    const struct sira_keys *keys, uint8_t **out, size_t *outlen,
    struct sira_err *err)
{
	Sira__V1__ReceiptTBS t = SIRA__V1__RECEIPT_TBS__INIT;
	ProtobufCBinaryData blobs[SIRA_ATTACHMENTS_MAX];
	uint8_t id[SIRA_RECEIPT_ID_LEN], sig[SIRA_SIG_LEN], *tbs = NULL;
	size_t tbslen;
	int rc;

	*out = NULL;
	if ((me->key_usage & SIRA_KU_RECEIPT_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s may not sign receipts"), me->agency_id);
	if ((f->kind != RECEIPT_ACCEPTED && f->kind != RECEIPT_REJECTED) ||
	    (f->kind == RECEIPT_ACCEPTED &&
		zero(f->manifest_sig_sha256, SIRA_HASH_LEN)))
		return sira_err_set(err, SIRA_EINVAL, _("invalid receipt"));
	randombytes_buf(id, sizeof(id));
	t.version = RECEIPT_VERSION;
	BIN(t.receipt_id, id, sizeof(id));
	t.kind = (Sira__V1__ReceiptKind)f->kind;
	BIN(t.message_id, f->message_id, SIRA_MSGID_LEN);
	BIN(t.envelope_hash, f->envelope_hash, SIRA_HASH_LEN);
	BIN(t.manifest_hash, f->manifest_hash, SIRA_HASH_LEN);
	if (!zero(f->manifest_sig_sha256, SIRA_HASH_LEN))
		BIN(t.manifest_sig_sha256, f->manifest_sig_sha256,
		    SIRA_HASH_LEN);
	BIN(t.sender_cert_id, f->sender_cert_id, SIRA_HASH_LEN);
	t.recipient_agency_id = (char *)(uintptr_t)me->agency_id;
	BIN(t.recipient_cert_id, me->id, SIRA_HASH_LEN);
	t.received_at = f->received_at;
	t.reject_reason =
	    f->kind == RECEIPT_REJECTED ? (uint32_t)f->reject_reason : 0;
	if (f->kind == RECEIPT_ACCEPTED && f->n_attachments_verified > 0) {
		if (f->n_attachments_verified > SIRA_ATTACHMENTS_MAX)
			return sira_err_set(
			    err, SIRA_EINVAL, _("invalid receipt"));
		for (size_t i = 0; i < f->n_attachments_verified; i++)
			BIN(blobs[i], f->attachments_verified[i],
			    SIRA_HASH_LEN);
		t.attachments_verified = blobs;
		t.n_attachments_verified = f->n_attachments_verified;
	}
	if ((rc = wire_pack(&t.base, &tbs, &tbslen, err)) == 0 &&
	    (rc = sign_detached(
		 keys->sign_sk, SIRA_DS_RECEIPT, tbs, tbslen, sig)) == 0)
		rc = signed_join(tbs, tbslen, sig, out, outlen, err);
	free(tbs);
	return rc;
}

static int
same(ProtobufCBinaryData a, const uint8_t *b, size_t len)
{
	return a.len == len && memcmp(a.data, b, len) == 0;
}

/* Was the signer (agency and certificate) in the signed recipient list? */
static int
was_recipient(const Sira__V1__ReceiptTBS *t, const struct cert *recipient,
    const struct receipt_expect *x)
{
	if (strcmp(t->recipient_agency_id, recipient->agency_id) != 0 ||
	    !same(t->recipient_cert_id, recipient->id, SIRA_HASH_LEN))
		return 0;
	for (size_t i = 0; i < x->n_recipients; i++)
		if (strcmp(x->recipient_ids[i], recipient->agency_id) == 0 &&
		    memcmp(x->recipient_cert_ids[i], recipient->id,
			SIRA_HASH_LEN) == 0)
			return 1;
	return 0;
}

static int
check_tbs(const Sira__V1__ReceiptTBS *t, const struct cert *recipient,
    const struct receipt_expect *x, struct sira_err *err)
{
	if (t->version != RECEIPT_VERSION ||
	    t->receipt_id.len != SIRA_RECEIPT_ID_LEN ||
	    (t->kind != SIRA__V1__RECEIPT_KIND__RECEIPT_KIND_ACCEPTED &&
		t->kind != SIRA__V1__RECEIPT_KIND__RECEIPT_KIND_REJECTED) ||
	    (t->manifest_sig_sha256.len != 0 &&
		t->manifest_sig_sha256.len != SIRA_HASH_LEN))
		return sira_err_set(
		    err, SIRA_EMALFORMED, _("receipt is malformed"));
	if (!was_recipient(t, recipient, x))
		return sira_err_set(err, SIRA_ENOT_RECIPIENT,
		    _("receipt signed by %s, who was not a recipient"),
		    recipient->agency_id);
	if (!same(t->message_id, x->message_id, SIRA_MSGID_LEN) ||
	    !same(t->envelope_hash, x->envelope_hash, SIRA_HASH_LEN) ||
	    !same(t->manifest_hash, x->manifest_hash, SIRA_HASH_LEN) ||
	    !same(t->sender_cert_id, x->sender_cert_id, SIRA_HASH_LEN))
		return sira_err_set(
		    err, SIRA_EAUTH, _("receipt is about another message"));
	if (t->kind == SIRA__V1__RECEIPT_KIND__RECEIPT_KIND_ACCEPTED &&
	    (t->manifest_sig_sha256.len != SIRA_HASH_LEN ||
		sodium_memcmp(t->manifest_sig_sha256.data,
		    x->manifest_sig_sha256, SIRA_HASH_LEN) != 0))
		return sira_err_set(err, SIRA_EAUTH,
		    _("receipt does not prove the message was opened"));
	if (t->received_at + SIRA_CLOCK_SKEW < x->created_at)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("receipt is older than the message"));
	return 0;
}

int
receipt_verify(const uint8_t *untrusted, size_t len,
    const struct cert *recipient, const struct receipt_expect *expect,
    struct receipt_info *out, struct sira_err *err)
{
	struct signed_obj so;
	ProtobufCMessage *m = NULL;
	Sira__V1__ReceiptTBS *t;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((recipient->key_usage & SIRA_KU_RECEIPT_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s may not sign receipts"), recipient->agency_id);
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_RECEIPT_MAX,
		 SIRA_RECEIPT_MAX, "receipt", &so, err)) != 0)
		return rc;
	if ((rc = sign_verify(recipient->sign_pk, SIRA_DS_RECEIPT, so.tbs,
		 so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(err, -rc,
		    _("receipt signature of %s is invalid"),
		    recipient->agency_id);
		goto out;
	}
	if ((rc = wire_unpack(&sira__v1__receipt_tbs__descriptor, so.tbs,
		 so.tbs_len, SIRA_RECEIPT_MAX, &m, err)) != 0)
		goto out;
	t = (Sira__V1__ReceiptTBS *)m;
	if ((rc = check_tbs(t, recipient, expect, err)) != 0)
		goto out;
	memcpy(out->receipt_id, t->receipt_id.data, SIRA_RECEIPT_ID_LEN);
	out->kind = t->kind == SIRA__V1__RECEIPT_KIND__RECEIPT_KIND_ACCEPTED ?
	    RECEIPT_ACCEPTED :
	    RECEIPT_REJECTED;
	out->reject_reason = (int)t->reject_reason;
	out->received_at = t->received_at;
	(void)snprintf(
	    out->recipient, sizeof(out->recipient), "%s", recipient->agency_id);
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	signed_clear(&so);
	return rc;
}
