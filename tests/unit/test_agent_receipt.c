/*
 * test_agent_receipt.c: agents/crypto/receipt.c, signed delivery receipts,
 * against the receipt cases of the design note, section 10:
 *
 *   R1 signed by a non-recipient -> -SIRA_ENOT_RECIPIENT; by a certificate
 *      without RECEIPT_SIGN -> -SIRA_EKEY_USAGE; by another key ->
 *      -SIRA_EBADSIG
 *   R2 wrong envelope_hash, manifest_hash, manifest_sig_sha256 (or message
 *      id, sender) -> -SIRA_EAUTH
 *   R3 received before the message was created -> -SIRA_EMALFORMED; every
 *      receipt has a fresh random id, so duplicates are recognisable
 *   R5 a manifest signature presented as a receipt signature and the
 *      reverse -> -SIRA_EBADSIG (domain separation)
 *
 * plus accepted and rejected round trips, a strictly canonical tbs, and
 * every single-bit and byte flip and every truncation of a receipt.
 *
 * The messages are real: sealed by the police to the NGO and social
 * services (tests/unit/agent_fixture.h) and opened by the NGO, whose opened
 * envelope provides what a receipt states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_fixture.h"
#include "clock.h"
#include "crypto/crypto.h"
#include "payload.pb-c.h"
#include "signed.h"

#define RECEIVED_AT (FX_OPEN_AT + 5)

/* A message to the NGO and social services, as both ends know it. */
struct rmsg {
	struct fx_msg m;
	struct opened *o; /* the NGO's */
	const char *ids[2];
	uint8_t cids[2][SIRA_HASH_LEN];
	struct receipt_expect x; /* the police's expectations */
};

static void
rmsg_new(struct fx *fx, struct rmsg *r)
{
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo, &fx->social },
		.n_to = 2,
		.payload = (const uint8_t *)"referral",
		.len = 8 };

	memset(r, 0, sizeof(*r));
	assert_int_equal(fx_seal(&spec, &r->m, NULL), 0);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, r->m.env, r->m.len, &r->o), 0);
	r->ids[0] = fx->ngo.cert->agency_id;
	r->ids[1] = fx->social.cert->agency_id;
	memcpy(r->cids[0], fx->ngo.cert->id, SIRA_HASH_LEN);
	memcpy(r->cids[1], fx->social.cert->id, SIRA_HASH_LEN);
	memcpy(r->x.message_id, r->m.meta.message_id, SIRA_MSGID_LEN);
	memcpy(r->x.envelope_hash, r->m.meta.envelope_hash, SIRA_HASH_LEN);
	memcpy(r->x.manifest_hash, r->m.meta.manifest_hash, SIRA_HASH_LEN);
	memcpy(r->x.manifest_sig_sha256, r->m.meta.manifest_sig_sha256,
	    SIRA_HASH_LEN);
	memcpy(r->x.sender_cert_id, fx->police.cert->id, SIRA_HASH_LEN);
	r->x.created_at = r->m.meta.created_at;
	r->x.recipient_ids = r->ids;
	r->x.recipient_cert_ids = (const uint8_t(*)[SIRA_HASH_LEN])r->cids;
	r->x.n_recipients = 2;
}

static void
rmsg_free(struct rmsg *r)
{
	seal_opened_destroy(&r->o);
	fx_msg_free(&r->m);
}

/* What the NGO states after opening r (an accepted receipt). */
static void
fields_of(const struct rmsg *r, struct receipt_fields *f)
{
	const struct opened *o = r->o;

	memset(f, 0, sizeof(*f));
	f->kind = RECEIPT_ACCEPTED;
	memcpy(f->message_id, o->env->h->message_id.data, SIRA_MSGID_LEN);
	memcpy(f->envelope_hash, o->env->hash, SIRA_HASH_LEN);
	memcpy(f->manifest_hash, o->env->h->manifest_hash.data, SIRA_HASH_LEN);
	memcpy(f->manifest_sig_sha256, o->manifest_sig_sha256, SIRA_HASH_LEN);
	memcpy(
	    f->sender_cert_id, o->env->h->sender_cert_id.data, SIRA_HASH_LEN);
	f->received_at = RECEIVED_AT;
}

/* Sign f as agent a; asserts success. */
static uint8_t *
sign_as(const struct fx_agent *a, const struct receipt_fields *f, size_t *len)
{
	struct sira_err err;
	uint8_t *out = NULL;

	assert_int_equal(receipt_sign(f, a->cert, a->keys, &out, len, &err), 0);
	assert_non_null(out);
	return out;
}

/* Verify receipt bytes against r's expectations, signer certificate c. */
static int
verify(const struct rmsg *r, const struct cert *c, const uint8_t *rb,
    size_t len, struct receipt_info *info)
{
	struct receipt_info tmp;
	struct sira_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc =
	    receipt_verify(rb, len, c, &r->x, info != NULL ? info : &tmp, &err);
	if (rc != 0)
		assert_int_equal(err.code, -rc);
	return rc;
}

/* Sign and verify f as a, against r; returns verify's code. */
static int
sign_verify_as(const struct rmsg *r, const struct fx_agent *a,
    const struct receipt_fields *f)
{
	size_t len;
	uint8_t *rb = sign_as(a, f, &len);
	int rc = verify(r, a->cert, rb, len, NULL);

	free(rb);
	return rc;
}

/* {tbs, sig} with sig by sk for purpose over tbs. Fresh. */
static uint8_t *
resign(const uint8_t *sk, const char *purpose, const uint8_t *tbs, size_t tlen,
    size_t *len)
{
	uint8_t sig[SIRA_SIG_LEN], *out = NULL;

	assert_int_equal(sign_detached(sk, purpose, tbs, tlen, sig), 0);
	assert_int_equal(signed_join(tbs, tlen, sig, &out, len, NULL), 0);
	return out;
}

/* The tbs of signed-object bytes (a Receipt or a SignedManifest). */
static uint8_t *
tbs_of(const uint8_t *obj, size_t len, size_t *tlen)
{
	Sira__V1__Receipt *r = sira__v1__receipt__unpack(NULL, len, obj);
	uint8_t *t;

	assert_non_null(r);
	assert_non_null(t = malloc(r->tbs.len + 16));
	memcpy(t, r->tbs.data, r->tbs.len);
	*tlen = r->tbs.len;
	sira__v1__receipt__free_unpacked(r, NULL);
	return t;
}

/* ---- round trips ---- */

static void
test_accepted_round_trip(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f;
	struct receipt_info info, info2;
	Sira__V1__ReceiptTBS *t;
	uint8_t *rb, *rb2, *tbs;
	size_t len, len2, tlen;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	rb = sign_as(&fx->ngo, &f, &len);
	assert_true(len <= SIRA_RECEIPT_MAX);
	assert_int_equal(verify(&r, fx->ngo.cert, rb, len, &info), 0);
	assert_int_equal(info.kind, RECEIPT_ACCEPTED);
	assert_int_equal(info.reject_reason, 0);
	assert_int_equal(info.received_at, RECEIVED_AT);
	assert_string_equal(info.recipient, fx->ngo.cert->agency_id);
	assert_false(sodium_is_zero(info.receipt_id, SIRA_RECEIPT_ID_LEN));
	/* What is signed, field by field, under "sira-v1/receipt". */
	tbs = tbs_of(rb, len, &tlen);
	{
		Sira__V1__Receipt *w = sira__v1__receipt__unpack(NULL, len, rb);
		assert_non_null(w);
		assert_int_equal(
		    sign_verify(fx->ngo.cert->sign_pk, SIRA_DS_RECEIPT,
			w->tbs.data, w->tbs.len, w->sig.data),
		    0);
		sira__v1__receipt__free_unpacked(w, NULL);
	}
	t = sira__v1__receipt_tbs__unpack(NULL, tlen, tbs);
	assert_non_null(t);
	assert_int_equal(t->version, 1);
	assert_int_equal(
	    t->kind, SIRA__V1__RECEIPT_KIND__RECEIPT_KIND_ACCEPTED);
	assert_memory_equal(t->receipt_id.data, info.receipt_id, 16);
	assert_memory_equal(t->message_id.data, r.m.meta.message_id, 16);
	assert_memory_equal(t->envelope_hash.data, r.m.meta.envelope_hash, 32);
	assert_memory_equal(t->manifest_hash.data, r.m.meta.manifest_hash, 32);
	assert_memory_equal(
	    t->manifest_sig_sha256.data, r.m.meta.manifest_sig_sha256, 32);
	assert_memory_equal(t->sender_cert_id.data, fx->police.cert->id, 32);
	assert_string_equal(t->recipient_agency_id, fx->ngo.cert->agency_id);
	assert_memory_equal(t->recipient_cert_id.data, fx->ngo.cert->id, 32);
	assert_int_equal(t->received_at, RECEIVED_AT);
	sira__v1__receipt_tbs__free_unpacked(t, NULL);
	free(tbs);
	/* R3: a second receipt for the same message has a new id, so the
	 * sender can tell a duplicate from a re-receipt. */
	rb2 = sign_as(&fx->ngo, &f, &len2);
	assert_int_equal(verify(&r, fx->ngo.cert, rb2, len2, &info2), 0);
	assert_memory_not_equal(info.receipt_id, info2.receipt_id, 16);
	free(rb2);
	/* The co-recipient's receipt (it opens the same envelope). */
	{
		struct opened *o;
		assert_int_equal(
		    fx_open_as(fx, &fx->social, r.m.env, r.m.len, &o), 0);
		assert_memory_equal(
		    o->manifest_sig_sha256, r.m.meta.manifest_sig_sha256, 32);
		seal_opened_destroy(&o);
		assert_int_equal(sign_verify_as(&r, &fx->social, &f), 0);
	}
	free(rb);
	rmsg_free(&r);
}

static void
test_rejected_round_trip(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f;
	struct receipt_info info;
	struct sira_err err;
	uint8_t *rb = NULL;
	size_t len;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	/* Refused before decryption: no manifest signature hash to give. */
	f.kind = RECEIPT_REJECTED;
	f.reject_reason = SIRA_EBADSIG;
	memset(f.manifest_sig_sha256, 0, SIRA_HASH_LEN);
	rb = sign_as(&fx->ngo, &f, &len);
	assert_int_equal(verify(&r, fx->ngo.cert, rb, len, &info), 0);
	assert_int_equal(info.kind, RECEIPT_REJECTED);
	assert_int_equal(info.reject_reason, SIRA_EBADSIG);
	assert_string_equal(info.recipient, fx->ngo.cert->agency_id);
	free(rb);
	/* A rejection does not claim the body was opened, so its signature
	 * hash (if any) is not checked against the sender's. */
	f.reject_reason = SIRA_EREPLAY;
	memset(f.manifest_sig_sha256, 0x33, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), 0);
	/* An acceptance must prove the opening. */
	f.kind = RECEIPT_ACCEPTED;
	memset(f.manifest_sig_sha256, 0, SIRA_HASH_LEN);
	assert_int_equal(
	    receipt_sign(&f, fx->ngo.cert, fx->ngo.keys, &rb, &len, &err),
	    -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	assert_null(rb);
	f.kind = (enum receipt_kind)3;
	assert_int_equal(
	    receipt_sign(&f, fx->ngo.cert, fx->ngo.keys, &rb, &len, NULL),
	    -SIRA_EINVAL);
	assert_null(rb);
	rmsg_free(&r);
}

/* ---- R1: who signed ---- */

static void
test_r1_signer(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f;
	struct sira_err err;
	uint8_t *rb = NULL, *forged;
	size_t len, tlen, flen;
	uint8_t *tbs;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	/* Justice was not a recipient (it cannot even open the envelope,
	 * but it may copy the public hashes). */
	assert_int_equal(fx_open_as(fx, &fx->justice, r.m.env, r.m.len, NULL),
	    -SIRA_ENOT_RECIPIENT);
	assert_int_equal(
	    sign_verify_as(&r, &fx->justice, &f), -SIRA_ENOT_RECIPIENT);
	assert_int_equal(
	    sign_verify_as(&r, &fx->police, &f), -SIRA_ENOT_RECIPIENT);
	/* The NGO's renewed certificate (same key, another cert id) was not
	 * the certificate the message was sealed to. */
	assert_int_equal(
	    sign_verify_as(&r, &fx->ngo2, &f), -SIRA_ENOT_RECIPIENT);
	/* The NGO's receipt checked as if another recipient had signed it:
	 * the signature does not verify under social's key. */
	rb = sign_as(&fx->ngo, &f, &len);
	assert_int_equal(
	    verify(&r, fx->social.cert, rb, len, NULL), -SIRA_EBADSIG);
	assert_int_equal(
	    verify(&r, fx->justice.cert, rb, len, NULL), -SIRA_EBADSIG);
	/* ... and under ngo2 (the same key): the receipt names the other
	 * certificate. */
	assert_int_equal(
	    verify(&r, fx->ngo2.cert, rb, len, NULL), -SIRA_ENOT_RECIPIENT);
	/* A certificate without RECEIPT_SIGN: the broker can neither make
	 * nor be credited with a receipt, even over bytes its key signed. */
	free(rb);
	rb = NULL;
	assert_int_equal(
	    receipt_sign(&f, fx->broker.cert, fx->broker.keys, &rb, &len, &err),
	    -SIRA_EKEY_USAGE);
	assert_int_equal(err.code, SIRA_EKEY_USAGE);
	assert_null(rb);
	rb = sign_as(&fx->ngo, &f, &len);
	tbs = tbs_of(rb, len, &tlen);
	forged =
	    resign(fx->broker.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen, &flen);
	assert_int_equal(
	    verify(&r, fx->broker.cert, forged, flen, NULL), -SIRA_EKEY_USAGE);
	assert_int_equal(verify(&r, fx->ca, rb, len, NULL), -SIRA_EKEY_USAGE);
	/* The NGO's tbs re-signed by social: social's key, NGO's name. */
	free(forged);
	forged =
	    resign(fx->social.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen, &flen);
	assert_int_equal(verify(&r, fx->social.cert, forged, flen, NULL),
	    -SIRA_ENOT_RECIPIENT);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EBADSIG);
	free(forged);
	free(tbs);
	free(rb);
	/* The sender's list names the NGO under another certificate. */
	memcpy(r.cids[0], fx->ngo2.cert->id, SIRA_HASH_LEN);
	assert_int_equal(
	    sign_verify_as(&r, &fx->ngo, &f), -SIRA_ENOT_RECIPIENT);
	assert_int_equal(sign_verify_as(&r, &fx->ngo2, &f), 0);
	memcpy(r.cids[0], fx->ngo.cert->id, SIRA_HASH_LEN);
	r.x.n_recipients = 1; /* social not in the list */
	assert_int_equal(
	    sign_verify_as(&r, &fx->social, &f), -SIRA_ENOT_RECIPIENT);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), 0);
	rmsg_free(&r);
}

/* ---- R2: about which message ---- */

static void
test_r2_binding(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f, g;
	struct rmsg r, other;
	uint8_t *rb;
	size_t len;

	rmsg_new(fx, &r);
	rmsg_new(fx, &other);
	fields_of(&r, &f);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), 0);
	g = f;
	g.envelope_hash[0] ^= 1;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	g = f;
	g.manifest_hash[31] ^= 0x80;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	g = f;
	g.manifest_sig_sha256[16] ^= 4;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	g = f;
	g.message_id[0] ^= 1;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	g = f;
	memcpy(g.sender_cert_id, fx->social.cert->id, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	/* The manifest hash of the envelope instead of the signature hash
	 * (knowable without decrypting). */
	g = f;
	memcpy(g.manifest_sig_sha256, f.manifest_hash, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	/* A genuine receipt for another message. */
	rb = sign_as(&fx->ngo, &f, &len);
	assert_int_equal(
	    verify(&other, fx->ngo.cert, rb, len, NULL), -SIRA_EAUTH);
	free(rb);
	/* Another message's values mixed in one at a time. */
	fields_of(&other, &g);
	memcpy(g.message_id, f.message_id, SIRA_MSGID_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	memcpy(g.envelope_hash, f.envelope_hash, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	memcpy(g.manifest_hash, f.manifest_hash, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), -SIRA_EAUTH);
	memcpy(g.manifest_sig_sha256, f.manifest_sig_sha256, SIRA_HASH_LEN);
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &g), 0);
	rmsg_free(&r);
	rmsg_free(&other);
}

/* ---- R3: time ---- */

static void
test_r3_time(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	assert_int_equal(r.x.created_at, FX_NOW);
	f.received_at = FX_NOW;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), 0);
	/* The clock skew is tolerated, not more. */
	f.received_at = FX_NOW - SIRA_CLOCK_SKEW;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), 0);
	f.received_at = FX_NOW - SIRA_CLOCK_SKEW - 1;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), -SIRA_EMALFORMED);
	f.received_at = FX_NOW - FX_DAY;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), -SIRA_EMALFORMED);
	f.received_at = 0;
	assert_int_equal(sign_verify_as(&r, &fx->ngo, &f), -SIRA_EMALFORMED);
	rmsg_free(&r);
}

/* ---- R5: domain separation ---- */

static void
test_r5_domain_separation(void **state)
{
	struct fx *fx = *state;
	struct fx_spec spec = { .from = &fx->ngo,
		.to = { &fx->police },
		.n_to = 1,
		.payload = (const uint8_t *)"response",
		.len = 8 };
	Sira__V1__ManifestTBS *mt = NULL;
	struct receipt_fields f;
	struct fx_msg m;
	struct opened *o;
	uint8_t sh[32], *rb, *tbs, *forged;
	size_t len, tlen, flen;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	/* A manifest signed by the NGO (it sends a message to the police),
	 * presented as the NGO's receipt: signed for "sira-v1/manifest". */
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	assert_int_equal(fx_open_as(fx, &fx->police, m.env, m.len, &o), 0);
	assert_int_equal(verify(&r, fx->ngo.cert, o->signed_manifest,
			     o->signed_manifest_len, NULL),
	    -SIRA_EBADSIG);
	/* The NGO's receipt presented as a manifest. */
	rb = sign_as(&fx->ngo, &f, &len);
	assert_int_equal(manifest_verify(rb, len, fx->ngo.cert, &mt, sh, NULL),
	    -SIRA_EBADSIG);
	assert_null(mt);
	/* The same receipt tbs signed by the same key for the manifest
	 * purpose: refused as a receipt; and for the receipt purpose it is
	 * accepted (the control). */
	tbs = tbs_of(rb, len, &tlen);
	forged =
	    resign(fx->ngo.keys->sign_sk, SIRA_DS_MANIFEST, tbs, tlen, &flen);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EBADSIG);
	free(forged);
	forged =
	    resign(fx->ngo.keys->sign_sk, SIRA_DS_PREKEY, tbs, tlen, &flen);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EBADSIG);
	free(forged);
	forged =
	    resign(fx->ngo.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen, &flen);
	assert_int_equal(verify(&r, fx->ngo.cert, forged, flen, NULL), 0);
	free(forged);
	free(tbs);
	/* The manifest tbs signed for the receipt purpose: refused as a
	 * manifest; for the manifest purpose it verifies (the control). */
	tbs = tbs_of(o->signed_manifest, o->signed_manifest_len, &tlen);
	forged =
	    resign(fx->ngo.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen, &flen);
	assert_int_equal(
	    manifest_verify(forged, flen, fx->ngo.cert, &mt, sh, NULL),
	    -SIRA_EBADSIG);
	free(forged);
	forged =
	    resign(fx->ngo.keys->sign_sk, SIRA_DS_MANIFEST, tbs, tlen, &flen);
	assert_int_equal(
	    manifest_verify(forged, flen, fx->ngo.cert, &mt, sh, NULL), 0);
	assert_non_null(mt);
	protobuf_c_message_free_unpacked(&mt->base, NULL);
	free(forged);
	free(tbs);
	free(rb);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
	rmsg_free(&r);
}

/* ---- strict parsing: canonical tbs, flips, truncations ---- */

static void
test_canonical_tbs(void **state)
{
	struct fx *fx = *state;
	struct receipt_fields f;
	uint8_t *rb, *tbs, *forged;
	size_t len, tlen, flen;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	rb = sign_as(&fx->ngo, &f, &len);
	tbs = tbs_of(rb, len, &tlen);
	/* An unknown field (15, varint 1) appended, properly signed. */
	tbs[tlen] = 0x78;
	tbs[tlen + 1] = 0x01;
	forged = resign(
	    fx->ngo.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen + 2, &flen);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EMALFORMED);
	free(forged);
	/* The version field (1) explicitly repeated: not canonical. */
	tbs[tlen] = 0x08;
	tbs[tlen + 1] = 0x01;
	forged = resign(
	    fx->ngo.keys->sign_sk, SIRA_DS_RECEIPT, tbs, tlen + 2, &flen);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EMALFORMED);
	free(forged);
	/* A signed tbs that is not a ReceiptTBS at all. */
	forged = resign(fx->ngo.keys->sign_sk, SIRA_DS_RECEIPT,
	    (const uint8_t *)"\xff\xff\xff", 3, &flen);
	assert_int_equal(
	    verify(&r, fx->ngo.cert, forged, flen, NULL), -SIRA_EMALFORMED);
	free(forged);
	free(tbs);
	free(rb);
	rmsg_free(&r);
}

static void
test_flip_every_byte(void **state)
{
	struct fx *fx = *state;
	static const uint8_t masks[] = { 0xff, 0x01, 0x02, 0x04, 0x08, 0x10,
		0x20, 0x40, 0x80 };
	unsigned long tried = 0, by_code[SIRA_CODE_MAX + 1] = { 0 };
	struct receipt_fields f;
	uint8_t *rb, *copy;
	size_t len;
	struct rmsg r;

	rmsg_new(fx, &r);
	fields_of(&r, &f);
	rb = sign_as(&fx->ngo, &f, &len);
	assert_int_equal(verify(&r, fx->ngo.cert, rb, len, NULL), 0);
	assert_non_null(copy = malloc(len + 1));
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < sizeof(masks); k++) {
			int rc;
			memcpy(copy, rb, len);
			copy[i] = (uint8_t)(copy[i] ^ masks[k]);
			rc = verify(&r, fx->ngo.cert, copy, len, NULL);
			if (rc >= 0 || -rc > SIRA_CODE_MAX)
				fail_msg("flip 0x%02x at byte %zu of %zu: %d",
				    masks[k], i, len, rc);
			by_code[-rc]++;
			tried++;
		}
	assert_int_equal(tried, len * sizeof(masks));
	print_message("receipt flips: %lu of %lu rejected (%zu bytes)\n", tried,
	    tried, len);
	for (int c = 1; c <= SIRA_CODE_MAX; c++)
		if (by_code[c] > 0)
			print_message(
			    "  %-24s %lu\n", sira_strerror(c), by_code[c]);
	/* Every truncation, and one byte more. */
	for (size_t n = 0; n < len; n++)
		assert_true(verify(&r, fx->ngo.cert, rb, n, NULL) < 0);
	memcpy(copy, rb, len);
	copy[len] = 0;
	assert_int_equal(
	    verify(&r, fx->ngo.cert, copy, len + 1, NULL), -SIRA_EMALFORMED);
	/* Too big to be a receipt. */
	{
		uint8_t *big = calloc(1, SIRA_RECEIPT_MAX + 1);
		assert_non_null(big);
		assert_int_equal(
		    verify(&r, fx->ngo.cert, big, SIRA_RECEIPT_MAX + 1, NULL),
		    -SIRA_ETOOBIG);
		free(big);
	}
	free(copy);
	free(rb);
	rmsg_free(&r);
}

static int
group_setup(void **state)
{
	struct fx *fx = fx_new();

	*state = fx;
	return fx == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_round_trip),
		cmocka_unit_test(test_rejected_round_trip),
		cmocka_unit_test(test_r1_signer),
		cmocka_unit_test(test_r2_binding),
		cmocka_unit_test(test_r3_time),
		cmocka_unit_test(test_r5_domain_separation),
		cmocka_unit_test(test_canonical_tbs),
		cmocka_unit_test(test_flip_every_byte),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
