/*
 * test_agent_seal.c: agents/crypto/seal.c (with lib/envelope.c,
 * agents/crypto/manifest.c and the prekeys) against the attacker list of the
 * design note, section 10 (E1-E8, E10, E11), plus round trips, size buckets and
 * prekey_verify.
 *
 * The world is tests/unit/agent_fixture.h: a CA, police (the usual sender),
 * an NGO, social services, justice, ten more NGOs, certificates verified in
 * memory and prekeys from prekey_generate. Forged envelopes are built here
 * from the specification in docs/PROTOCOL.md and crypto.md 6b (body key
 * crypto_kdf "SIRAbody" id 1, AD = LP("sira-v1/env-ad") || LP(header), key
 * commitment BLAKE2b-256 keyed with K over LP("sira-v1/key-commit") ||
 * LP(message_id), wraps crypto_box_seal(WrapPayload)), independently of
 * seal.c. Every refusal is asserted by its exact code.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_fixture.h"
#include "cert.pb-c.h"
#include "clock.h"
#include "envelope.pb-c.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "wire.h"

#define PAYLOAD "MARKER-7f3a referral: pseudonymous victim V-0042"
#define BIG_MAX (SIRA_BODY_MAX + 4096)
#define FLIP_VALUES 9 /* 0xff and the eight single-bit masks */
#define E11_SEALS 5000
#define BUCKET_SAMPLES 200

static const uint32_t buckets[] = { 4096, 16384, 65536, 262144, 1048576,
	4194304 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* ---- the specification, re-implemented for forging ---- */

static size_t
lp(uint8_t *out, const void *p, size_t len)
{
	for (size_t i = 0; i < 8; i++)
		out[i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (len > 0)
		memcpy(out + 8, p, len);
	return 8 + len;
}

/* LP("sira-v1/env-ad") || LP(header), fresh. */
static uint8_t *
ad_of(const uint8_t *hdr, size_t hlen, size_t *adlen)
{
	const char *ds = "sira-v1/env-ad";
	uint8_t *ad = malloc(16 + strlen(ds) + hlen);
	size_t n;

	assert_non_null(ad);
	n = lp(ad, ds, strlen(ds));
	n += lp(ad + n, hdr, hlen);
	*adlen = n;
	return ad;
}

static void
body_key(const uint8_t *k, uint8_t out[static 32])
{
	assert_int_equal(
	    crypto_kdf_derive_from_key(out, 32, 1, "SIRAbody", k), 0);
}

/* Decrypt body ct under K and header hdr; asserts it authenticates. */
static uint8_t *
body_open(const uint8_t *k, const uint8_t *hdr, size_t hlen,
    const uint8_t *nonce, const uint8_t *ct, size_t ctlen, size_t *ptlen)
{
	uint8_t key[32], *ad, *pt = malloc(ctlen);
	unsigned long long got;
	size_t adlen;

	assert_non_null(pt);
	ad = ad_of(hdr, hlen, &adlen);
	body_key(k, key);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
			     pt, &got, NULL, ct, ctlen, ad, adlen, nonce, key),
	    0);
	*ptlen = (size_t)got;
	free(ad);
	return pt;
}

/* Encrypt pt under K with header hdr as associated data. */
static uint8_t *
body_seal(const uint8_t *k, const uint8_t *hdr, size_t hlen,
    const uint8_t *nonce, const uint8_t *pt, size_t ptlen, size_t *ctlen)
{
	uint8_t key[32], *ad, *ct = malloc(ptlen + 16);
	unsigned long long got;
	size_t adlen;

	assert_non_null(ct);
	ad = ad_of(hdr, hlen, &adlen);
	body_key(k, key);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(
			     ct, &got, pt, ptlen, ad, adlen, NULL, nonce, key),
	    0);
	*ctlen = (size_t)got;
	free(ad);
	return ct;
}

static void
commit_of(const uint8_t *k, const uint8_t *msgid, uint8_t out[static 32])
{
	const char *ds = "sira-v1/key-commit";
	uint8_t in[64];
	size_t n = lp(in, ds, strlen(ds));

	n += lp(in + n, msgid, SIRA_MSGID_LEN);
	assert_int_equal(crypto_generichash(out, 32, in, n, k, 32), 0);
}

/* crypto_box_seal(plain, pk), fresh. */
static uint8_t *
seal_raw(const uint8_t *plain, size_t n, const uint8_t *pk, size_t *len)
{
	uint8_t *sealed = malloc(n + crypto_box_SEALBYTES);

	assert_non_null(sealed);
	assert_int_equal(crypto_box_seal(sealed, plain, n, pk), 0);
	*len = n + crypto_box_SEALBYTES;
	return sealed;
}

/* WrapPayload{version, k[0..klen), msgid, cert_id, key_id} into buf. */
static size_t
wrap_payload(uint32_t version, const uint8_t *k, size_t klen,
    const uint8_t *msgid, const uint8_t *cert_id, const uint8_t *key_id,
    uint8_t buf[static 256])
{
	Sira__V1__WrapPayload wp = SIRA__V1__WRAP_PAYLOAD__INIT;
	size_t n;

	wp.version = version;
	wp.content_key.data = (uint8_t *)(uintptr_t)k;
	wp.content_key.len = klen;
	wp.message_id.data = (uint8_t *)(uintptr_t)msgid;
	wp.message_id.len = SIRA_MSGID_LEN;
	wp.recipient_cert_id.data = (uint8_t *)(uintptr_t)cert_id;
	wp.recipient_cert_id.len = SIRA_HASH_LEN;
	wp.prekey_id.data = (uint8_t *)(uintptr_t)key_id;
	wp.prekey_id.len = SIRA_PREKEY_ID_LEN;
	n = protobuf_c_message_get_packed_size(&wp.base);
	assert_true(n <= 240); /* room for a few bytes more */
	assert_int_equal(protobuf_c_message_pack(&wp.base, buf), n);
	return n;
}

/* crypto_box_seal(WrapPayload{1, k, msgid, cert_id, key_id}, pk), fresh. */
static uint8_t *
wrap_for(const uint8_t *k, const uint8_t *msgid, const uint8_t *cert_id,
    const uint8_t *key_id, const uint8_t *pk, size_t *len)
{
	uint8_t buf[256], *sealed;
	size_t n = wrap_payload(1, k, 32, msgid, cert_id, key_id, buf);

	sealed = seal_raw(buf, n, pk, len);
	sodium_memzero(buf, sizeof(buf));
	return sealed;
}

/* ---- taking envelopes apart and putting them together ---- */

struct split {
	Sira__V1__Envelope *env;
	Sira__V1__EnvelopeHeader *h;
};

static void
split_env(const uint8_t *env, size_t len, struct split *sp)
{
	sp->env = sira__v1__envelope__unpack(NULL, len, env);
	assert_non_null(sp->env);
	sp->h = sira__v1__envelope_header__unpack(
	    NULL, sp->env->header.len, sp->env->header.data);
	assert_non_null(sp->h);
}

static void
split_free(struct split *sp)
{
	sira__v1__envelope_header__free_unpacked(sp->h, NULL);
	sira__v1__envelope__free_unpacked(sp->env, NULL);
}

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out;

	*len = protobuf_c_message_get_packed_size(m);
	assert_non_null(out = malloc(*len > 0 ? *len : 1));
	assert_int_equal(protobuf_c_message_pack(m, out), *len);
	return out;
}

/* Envelope bytes from header bytes and a body, fresh. */
static uint8_t *
join_raw(const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen,
    size_t *len)
{
	Sira__V1__Envelope e = SIRA__V1__ENVELOPE__INIT;

	e.header.data = (uint8_t *)(uintptr_t)hdr;
	e.header.len = hlen;
	e.body_ct.data = (uint8_t *)(uintptr_t)body;
	e.body_ct.len = blen;
	return pack(&e.base, len);
}

/* Envelope bytes from a (re-encoded) header and the original body. */
static uint8_t *
join_env(const Sira__V1__EnvelopeHeader *h, const struct split *sp, size_t *len)
{
	size_t hlen;
	uint8_t *hdr = pack(&h->base, &hlen), *out;

	out = join_raw(
	    hdr, hlen, sp->env->body_ct.data, sp->env->body_ct.len, len);
	free(hdr);
	return out;
}

/* Open h (re-encoded, original body) as me; returns the code. */
static int
open_changed(const struct fx *fx, const struct fx_agent *me,
    const Sira__V1__EnvelopeHeader *h, const struct split *sp)
{
	size_t len;
	uint8_t *env = join_env(h, sp, &len);
	int rc = fx_open_as(fx, me, env, len, NULL);

	free(env);
	return rc;
}

static void
sha256(uint8_t out[static 32], const void *p, size_t len)
{
	(void)crypto_hash_sha256(out, p, len);
}

static bool
contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static uint8_t *
big_payload(void)
{
	static const uint8_t seed[randombytes_SEEDBYTES] = "sira seal test";
	uint8_t *p = malloc(BIG_MAX);

	assert_non_null(p);
	randombytes_buf_deterministic(p, BIG_MAX, seed);
	return p;
}

/* Seal PAYLOAD from police to the given agents. */
static void
seal_to(
    struct fx *fx, const struct fx_agent *const *to, size_t n, struct fx_msg *m)
{
	struct fx_spec sp = { .from = &fx->police,
		.payload = (const uint8_t *)PAYLOAD,
		.len = strlen(PAYLOAD) };
	struct sira_err err;

	for (size_t i = 0; i < n; i++)
		sp.to[i] = to[i];
	sp.n_to = n;
	assert_int_equal(fx_seal(&sp, m, &err), 0);
}

static void
seal_one(struct fx *fx, const struct fx_agent *to, struct fx_msg *m)
{
	seal_to(fx, &to, 1, m);
}

static uint8_t *padded_of(const struct opened *o, size_t *plen);
static uint8_t *reseal(const Sira__V1__EnvelopeHeader *h, const uint8_t *padded,
    size_t plen, const uint8_t *k, size_t *len);
static int open_changed_o(const struct fx *fx, const struct fx_agent *me,
    const Sira__V1__EnvelopeHeader *h, const struct opened *o);

/* ---- round trips ---- */

static void
expect_opened(const struct fx *fx, const struct opened *o,
    const struct fx_msg *m, const uint8_t *payload, size_t len)
{
	uint8_t h[32], *buf;
	size_t n;

	assert_int_equal(o->payload_len, len);
	if (len > 0)
		assert_memory_equal(o->payload, payload, len);
	assert_memory_equal(o->env->hash, m->meta.envelope_hash, 32);
	assert_memory_equal(
	    o->manifest_sig_sha256, m->meta.manifest_sig_sha256, 32);
	assert_memory_equal(
	    o->env->h->manifest_hash.data, m->meta.manifest_hash, 32);
	assert_memory_equal(
	    o->env->h->message_id.data, m->meta.message_id, SIRA_MSGID_LEN);
	assert_int_equal(o->env->h->created_at, m->meta.created_at);
	assert_int_equal(o->env->h->expires_at, m->meta.expires_at);
	assert_string_equal(
	    o->manifest->sender_agency_id, fx->police.cert->agency_id);
	assert_string_equal(o->manifest->content_type, "sira.referral.v1");
	assert_string_equal(o->manifest->case_ref, "CASE-0042");
	assert_int_equal(o->manifest->payload_len, len);

	/* envelope_hash, manifest_hash and the signature hash, recomputed
	 * from the specification. */
	assert_non_null(buf = malloc(o->env->header_len + 256));
	n = lp(buf, "sira-v1/envelope-id", strlen("sira-v1/envelope-id"));
	n += lp(buf + n, o->env->header, o->env->header_len);
	sha256(h, o->env->body_ct, o->env->body_ct_len);
	n += lp(buf + n, h, 32);
	sha256(h, buf, n);
	assert_memory_equal(h, m->meta.envelope_hash, 32);
	free(buf);
	assert_non_null(buf = malloc(o->signed_manifest_len + 64));
	n = lp(buf, "sira-v1/manifest-hash", strlen("sira-v1/manifest-hash"));
	n += lp(buf + n, o->signed_manifest, o->signed_manifest_len);
	sha256(h, buf, n);
	assert_memory_equal(h, m->meta.manifest_hash, 32);
	free(buf);
	commit_of(o->key, o->env->h->message_id.data, h);
	assert_memory_equal(h, o->env->h->key_commitment.data, 32);
}

static void
test_round_trip_one(void **state)
{
	struct fx *fx = *state;
	struct fx_msg m;
	struct opened *o;
	Sira__V1__SignedManifest *sm;
	uint8_t h[32];

	seal_one(fx, &fx->ngo, &m);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	expect_opened(fx, o, &m, (const uint8_t *)PAYLOAD, strlen(PAYLOAD));
	assert_int_equal(m.meta.created_at, FX_NOW);
	assert_int_equal(m.meta.expires_at, FX_NOW + FX_TTL);
	assert_int_equal(o->env->h->size_bucket, 4096);
	assert_int_equal(o->env->body_ct_len, 4096 + 16);
	assert_int_equal(o->manifest->n_recipients, 1);
	assert_string_equal(
	    o->manifest->recipients[0]->agency_id, fx->ngo.cert->agency_id);
	assert_int_equal(o->manifest->recipients[0]->pair_seq, 1);
	assert_int_equal(o->manifest->policy->onward_sharing,
	    SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE);
	/* manifest_sig_sha256 is SHA-256 of the Ed25519 signature. */
	sm = sira__v1__signed_manifest__unpack(
	    NULL, o->signed_manifest_len, o->signed_manifest);
	assert_non_null(sm);
	assert_int_equal(sm->sig.len, SIRA_SIG_LEN);
	sha256(h, sm->sig.data, sm->sig.len);
	assert_memory_equal(h, m.meta.manifest_sig_sha256, 32);
	sira__v1__signed_manifest__free_unpacked(sm, NULL);
	/* Nothing of the content is visible in the bytes that travel. */
	assert_false(contains(m.env, m.len, "MARKER-7f3a"));
	assert_false(contains(m.env, m.len, "CASE-0042"));
	assert_false(contains(m.env, m.len, "sira.referral"));
	seal_opened_destroy(&o);
	assert_null(o);
	fx_msg_free(&m);
}

static void
test_round_trip_ten(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *to[FX_MANY];
	uint8_t sig_hash[32];
	struct fx_msg m;
	struct opened *o;

	for (size_t i = 0; i < FX_MANY; i++)
		to[i] = &fx->many[i];
	seal_to(fx, to, FX_MANY, &m);
	for (size_t i = 0; i < FX_MANY; i++) {
		assert_int_equal(
		    fx_open_as(fx, &fx->many[i], m.env, m.len, &o), 0);
		expect_opened(
		    fx, o, &m, (const uint8_t *)PAYLOAD, strlen(PAYLOAD));
		if (i == 0)
			memcpy(sig_hash, o->manifest_sig_sha256, 32);
		assert_memory_equal(o->manifest_sig_sha256, sig_hash, 32);
		assert_int_equal(o->manifest->n_recipients, FX_MANY);
		assert_int_equal(o->manifest->recipients[i]->pair_seq, i + 1);
		seal_opened_destroy(&o);
	}
	/* An agency outside the ten cannot open it. */
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, m.env, m.len, NULL), -SIRA_ENOT_RECIPIENT);
	fx_msg_free(&m);
}

static void
test_round_trip_empty(void **state)
{
	struct fx *fx = *state;
	struct fx_spec sp = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = NULL,
		.len = 0 };
	struct fx_msg m;
	struct opened *o;

	assert_int_equal(fx_seal(&sp, &m, NULL), 0);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	expect_opened(fx, o, &m, NULL, 0);
	assert_int_equal(o->payload_len, 0);
	assert_int_equal(o->env->h->size_bucket, 4096);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

/*
 * The exact InnerBody length for a payload of len bytes, from a probe
 * manifest sealed at the same time to the same recipient: only payload_len
 * (a varint) and the payload itself change size.
 */
static size_t
inner_len(const Sira__V1__ManifestTBS *probe, size_t len)
{
	static uint8_t dummy[1];
	Sira__V1__ManifestTBS m = *probe;
	Sira__V1__SignedManifest sm = SIRA__V1__SIGNED_MANIFEST__INIT;
	Sira__V1__InnerBody ib = SIRA__V1__INNER_BODY__INIT;

	m.payload_len = len;
	sm.tbs.len = protobuf_c_message_get_packed_size(&m.base);
	sm.tbs.data = dummy;
	sm.sig.len = SIRA_SIG_LEN;
	sm.sig.data = dummy;
	ib.manifest = &sm;
	ib.payload.len = len;
	ib.payload.data = dummy;
	return protobuf_c_message_get_packed_size(&ib.base);
}

static uint32_t
bucket_of(const struct fx_msg *m)
{
	struct split sp;
	uint32_t b;

	split_env(m->env, m->len, &sp);
	b = (uint32_t)sp.h->size_bucket;
	assert_int_equal(sp.env->body_ct.len, (size_t)b + 16);
	split_free(&sp);
	return b;
}

static void
test_size_buckets(void **state)
{
	struct fx *fx = *state;
	struct fx_spec sp = {
		.from = &fx->police, .to = { &fx->ngo }, .n_to = 1
	};
	uint8_t *big = big_payload();
	struct fx_msg m;
	struct opened *o;
	struct sira_err err;
	size_t over;

	sp.payload = big;
	sp.len = 1000;
	assert_int_equal(fx_seal(&sp, &m, NULL), 0);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	/* The predictor is exact for the probe itself: the padding marker
	 * (sodium_pad's 0x80) sits right after the InnerBody. */
	{
		size_t plen, marker;
		uint8_t *padded = padded_of(o, &plen);
		marker = plen - 1;
		while (padded[marker] == 0)
			marker--;
		assert_int_equal(padded[marker], 0x80);
		assert_int_equal(marker, inner_len(o->manifest, 1000));
		free(padded);
	}
	over = inner_len(o->manifest, 1000) - 1000;
	fx_msg_free(&m);
	for (size_t i = 0; i < N_BUCKETS; i++) {
		uint32_t b = buckets[i];
		size_t len = b - 1 - over;

		/* The largest payload whose InnerBody leaves >= 1 pad byte. */
		while (inner_len(o->manifest, len) > b - 1)
			len--;
		while (inner_len(o->manifest, len + 1) <= b - 1)
			len++;
		sp.len = len;
		assert_int_equal(fx_seal(&sp, &m, &err), 0);
		assert_int_equal(bucket_of(&m), b);
		{
			struct opened *o2;
			assert_int_equal(
			    fx_open_as(fx, &fx->ngo, m.env, m.len, &o2), 0);
			assert_int_equal(o2->payload_len, len);
			assert_memory_equal(o2->payload, big, len);
			assert_int_equal(o2->env->h->size_bucket, b);
			seal_opened_destroy(&o2);
		}
		fx_msg_free(&m);
		/* One byte more: the next bucket, or too big for any. */
		sp.len = len + 1;
		if (i + 1 < N_BUCKETS) {
			assert_int_equal(fx_seal(&sp, &m, &err), 0);
			assert_int_equal(bucket_of(&m), buckets[i + 1]);
			fx_msg_free(&m);
		} else {
			assert_int_equal(fx_seal(&sp, &m, &err), -SIRA_ETOOBIG);
			assert_int_equal(err.code, SIRA_ETOOBIG);
			assert_null(m.env);
		}
	}
	seal_opened_destroy(&o);
	free(big);
}

/* ---- E1: every header field is authenticated ---- */

static void
test_e1_header_fields(void **state)
{
	struct fx *fx = *state;
	const char *in = fx_path(fx, "e1.txt"), *blob = fx_path(fx, "e1.blob");
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo, &fx->social },
		.n_to = 2,
		.payload = (const uint8_t *)PAYLOAD,
		.len = strlen(PAYLOAD),
		.att_in = { in },
		.att_blob = { blob },
		.n_att = 1 };
	Sira__V1__RecipientWrap *rl[3], extra, mine;
	Sira__V1__AttachmentRef ar, *arl[1];
	uint8_t idbuf[SIRA_HASH_LEN], pkid[SIRA_PREKEY_ID_LEN];
	uint8_t msgid[SIRA_MSGID_LEN], nonce[24];
	Sira__V1__EnvelopeHeader h;
	struct fx_msg m;
	struct split sp;
	FILE *f;

	assert_non_null(f = fopen(in, "w"));
	fputs("attachment for E1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	split_env(m.env, m.len, &sp);
	assert_int_equal(sp.h->n_recipients, 2);
	assert_int_equal(sp.h->n_attachments, 1);

	/* Control: re-encoding the unchanged header gives an envelope that
	 * opens, so every failure below is due to the one change. */
	h = *sp.h;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), 0);
	assert_int_equal(open_changed(fx, &fx->social, &h, &sp), 0);

	/* Recipients. Each change keeps the header well formed and my own
	 * wrap intact, so the wrap opens and the key commitment holds: the
	 * AEAD over the header (its AD) is what refuses: -SIRA_EAUTH. */
	h = *sp.h;
	h.n_recipients = 1; /* drop social */
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	extra = *sp.h->recipients[1];
	extra.agency_id = fx->justice.cert->agency_id; /* add justice */
	rl[0] = sp.h->recipients[0];
	rl[1] = sp.h->recipients[1];
	rl[2] = &extra;
	h.recipients = rl;
	h.n_recipients = 3;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	rl[0] = sp.h->recipients[1]; /* reorder */
	rl[1] = sp.h->recipients[0];
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	assert_int_equal(open_changed(fx, &fx->social, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	extra = *sp.h->recipients[1];
	extra.agency_id = "ml.social.elsewhere"; /* rename co-recipient */
	rl[0] = sp.h->recipients[0];
	rl[1] = &extra;
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	/* Social no longer finds its entry at all. */
	assert_int_equal(
	    open_changed(fx, &fx->social, &h, &sp), -SIRA_ENOT_RECIPIENT);
	/* My own entry's cert_id or prekey_id changed: the prekey lookup is
	 * keyed by them and finds nothing: -SIRA_EPREKEY, before any
	 * cryptography. */
	h = *sp.h;
	mine = *sp.h->recipients[0];
	memcpy(idbuf, mine.cert_id.data, sizeof(idbuf));
	idbuf[0] ^= 1;
	mine.cert_id.data = idbuf;
	rl[0] = &mine;
	rl[1] = sp.h->recipients[1];
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EPREKEY);
	mine = *sp.h->recipients[0];
	memcpy(pkid, mine.prekey_id.data, sizeof(pkid));
	pkid[7] ^= 0x80;
	mine.prekey_id.data = pkid;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EPREKEY);
	/* ... and if the store hands out the secret anyway, the wrap itself
	 * names the original prekey: -SIRA_EAUTH. */
	{
		struct fx_opener op;
		size_t len;
		uint8_t *env = join_env(&h, &sp, &len);
		fx_opener_init(&op, fx, &fx->ngo);
		op.any_secret = fx->ngo.sec[0];
		assert_int_equal(
		    fx_open_with(&op, env, len, FX_OPEN_AT, NULL), -SIRA_EAUTH);
		free(env);
	}

	/* message_id: my wrap names the original message: -SIRA_EAUTH from
	 * the unwrap check. */
	h = *sp.h;
	memcpy(msgid, sp.h->message_id.data, sizeof(msgid));
	msgid[5] ^= 4;
	h.message_id.data = msgid;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);

	/* Times, kind, sender: AD mismatch, -SIRA_EAUTH. */
	h = *sp.h;
	h.created_at -= 60;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	h.expires_at += 60;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	h.expires_at -= 60;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	h.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	h.sender_agency_id = fx->justice.cert->agency_id;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	memcpy(idbuf, sp.h->sender_cert_id.data, sizeof(idbuf));
	idbuf[31] ^= 1;
	h.sender_cert_id.data = idbuf;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	h.sender_cert_id.data = fx->justice.cert->id;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);

	/* Commitments and nonce. */
	h = *sp.h;
	memcpy(idbuf, sp.h->key_commitment.data, sizeof(idbuf));
	idbuf[0] ^= 1;
	h.key_commitment.data = idbuf; /* the commitment check refuses */
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	memcpy(idbuf, sp.h->manifest_hash.data, sizeof(idbuf));
	idbuf[9] ^= 1;
	h.manifest_hash.data = idbuf;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	h = *sp.h;
	memcpy(nonce, sp.h->body_nonce.data, sizeof(nonce));
	nonce[23] ^= 1;
	h.body_nonce.data = nonce;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);

	/* Attachment refs: AD mismatch, -SIRA_EAUTH; structural changes are
	 * caught by the decoder first, -SIRA_EMALFORMED. */
	h = *sp.h;
	ar = *sp.h->attachments[0];
	memcpy(idbuf, ar.blob_id.data, sizeof(idbuf));
	idbuf[3] ^= 0x10;
	ar.blob_id.data = idbuf;
	arl[0] = &ar;
	h.attachments = arl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	ar = *sp.h->attachments[0];
	ar.ct_len += 1;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
	ar = *sp.h->attachments[0];
	ar.ct_len = 0;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	ar = *sp.h->attachments[0];
	ar.index = 1;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h.n_attachments = 0; /* drop the attachment */
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);

	/* Caught by the strict decoder before any cryptography. */
	h = *sp.h;
	h.version = 2;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EVERSION);
	h = *sp.h;
	h.size_bucket = SIRA__V1__SIZE_BUCKET__SIZE_BUCKET_16K;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.kind = (Sira__V1__MessageKind)0;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.kind = (Sira__V1__MessageKind)99;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.expires_at = h.created_at - 1;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.expires_at = h.created_at + SIRA_TTL_MAX + 1;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.message_id.len = SIRA_MSGID_LEN - 1;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	rl[0] = sp.h->recipients[0];
	rl[1] = sp.h->recipients[0]; /* named twice */
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);
	h = *sp.h;
	h.n_recipients = 0;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EMALFORMED);

	split_free(&sp);
	fx_msg_free(&m);
	(void)unlink(in);
	(void)unlink(blob);
}

/* ---- exhaustive flips and truncations of a small envelope ---- */

/*
 * Every byte of a one-recipient, one-byte-payload envelope (about 4.5 KB,
 * the 4 KiB bucket) is flipped: with 0xff at every position, and with each
 * of the eight single-bit masks at every position outside the encrypted
 * body's ciphertext proper (the Envelope framing, the whole header, and the
 * 16-byte tag). Inside the ciphertext every change is the same event to the
 * AEAD, and each open there costs a box open and several sodium_malloc
 * pages, so the eight extra masks would only multiply the run time (about
 * 11 s) without reaching new code. Every flip must be refused with a
 * negative SIRA_E* code, without a crash under ASan/UBSan.
 */
static void
test_flip_every_byte(void **state)
{
	struct fx *fx = *state;
	static const uint8_t masks[FLIP_VALUES] = { 0xff, 0x01, 0x02, 0x04,
		0x08, 0x10, 0x20, 0x40, 0x80 };
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)"x",
		.len = 1 };
	unsigned long rejected = 0, tried = 0, expect = 0;
	unsigned long by_code[SIRA_CODE_MAX + 1] = { 0 };
	struct fx_opener op;
	struct split sp;
	struct fx_msg m;
	size_t ct_start, ct_end;
	uint8_t *copy;

	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	split_env(m.env, m.len, &sp);
	/* body_ct is the Envelope's last field. */
	ct_start = m.len - sp.env->body_ct.len;
	ct_end = m.len - 16;
	assert_int_equal(sp.env->body_ct.len, 4096 + 16);
	split_free(&sp);
	fx_opener_init(&op, fx, &fx->ngo);
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), 0);
	assert_non_null(copy = malloc(m.len));
	for (size_t i = 0; i < m.len; i++) {
		size_t nmasks = i >= ct_start && i < ct_end ? 1 : FLIP_VALUES;
		expect += nmasks;
		for (size_t k = 0; k < nmasks; k++) {
			int rc;

			memcpy(copy, m.env, m.len);
			copy[i] = (uint8_t)(copy[i] ^ masks[k]);
			rc = fx_open_with(&op, copy, m.len, FX_OPEN_AT, NULL);
			tried++;
			if (rc < 0 && -rc <= SIRA_CODE_MAX) {
				rejected++;
				by_code[-rc]++;
			} else {
				fail_msg("flip 0x%02x at byte %zu of %zu: %d",
				    masks[k], i, m.len, rc);
			}
		}
	}
	assert_int_equal(tried, expect);
	assert_int_equal(rejected, tried);
	assert_int_equal(
	    expect, m.len + (m.len - (ct_end - ct_start)) * (FLIP_VALUES - 1));
	/* The seen callback was never asked to remember anything. */
	assert_int_equal(op.n_seen, 0);
	print_message("flips: %lu of %lu rejected (%zu-byte envelope)\n",
	    rejected, tried, m.len);
	for (int c = 1; c <= SIRA_CODE_MAX; c++)
		if (by_code[c] > 0)
			print_message(
			    "  %-24s %lu\n", sira_strerror(c), by_code[c]);

	/* Every truncation, including the empty input. */
	for (size_t n = 0; n < m.len; n++) {
		int rc = fx_open_with(&op, m.env, n, FX_OPEN_AT, NULL);
		if (n == 0)
			assert_int_equal(rc, -SIRA_ETRUNCATED);
		else
			assert_int_equal(rc, -SIRA_EMALFORMED);
	}
	/* A byte appended: the outer protobuf no longer parses. */
	copy = realloc(copy, m.len + 1);
	assert_non_null(copy);
	memcpy(copy, m.env, m.len);
	copy[m.len] = 0;
	assert_int_equal(fx_open_with(&op, copy, m.len + 1, FX_OPEN_AT, NULL),
	    -SIRA_EMALFORMED);
	free(copy);
	fx_msg_free(&m);
}

/* ---- E2: body, wraps, nonce; wraps swapped or moved ---- */

static void
test_e2_body_wrap_nonce(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *to[] = { &fx->ngo, &fx->social };
	struct fx_msg m;
	struct split sp;
	uint8_t *copy;
	size_t off;

	seal_to(fx, to, 2, &m);
	split_env(m.env, m.len, &sp);
	assert_non_null(copy = malloc(m.len));
	/* body_ct: first, middle and last byte (the tag). */
	for (int k = 0; k < 3; k++) {
		off = m.len - sp.env->body_ct.len; /* the last field */
		off += k == 0 ? 0 :
		    k == 1    ? sp.env->body_ct.len / 2 :
				sp.env->body_ct.len - 1;
		memcpy(copy, m.env, m.len);
		copy[off] = (uint8_t)(copy[off] ^ 0x20);
		assert_int_equal(
		    fx_open_as(fx, &fx->ngo, copy, m.len, NULL), -SIRA_EAUTH);
		assert_int_equal(fx_open_as(fx, &fx->social, copy, m.len, NULL),
		    -SIRA_EAUTH);
	}
	/* A wrap: its owner cannot open it (-SIRA_EAUTH from the box); the
	 * other recipient's wrap is intact but the header changed under the
	 * AEAD: -SIRA_EAUTH too. */
	{
		Sira__V1__EnvelopeHeader h = *sp.h;
		Sira__V1__RecipientWrap w = *sp.h->recipients[0];
		Sira__V1__RecipientWrap *rl[2] = { &w, sp.h->recipients[1] };
		uint8_t sealed[SIRA_WRAP_MAX];

		for (size_t pos = 0; pos < w.sealed.len; pos += 7) {
			memcpy(sealed, sp.h->recipients[0]->sealed.data,
			    w.sealed.len);
			sealed[pos] ^= 1;
			w.sealed.data = sealed;
			h.recipients = rl;
			assert_int_equal(
			    open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
		}
		assert_int_equal(
		    open_changed(fx, &fx->social, &h, &sp), -SIRA_EAUTH);
	}
	/* The nonce. */
	{
		Sira__V1__EnvelopeHeader h = *sp.h;
		uint8_t nonce[24];
		for (size_t pos = 0; pos < 24; pos++) {
			memcpy(nonce, sp.h->body_nonce.data, 24);
			nonce[pos] ^= 0x80;
			h.body_nonce.data = nonce;
			assert_int_equal(
			    open_changed(fx, &fx->ngo, &h, &sp), -SIRA_EAUTH);
		}
	}
	free(copy);
	split_free(&sp);
	fx_msg_free(&m);
}

static void
test_e2_swap_and_move_wraps(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *to[] = { &fx->ngo, &fx->social };
	Sira__V1__RecipientWrap w0, w1, *rl[2];
	Sira__V1__EnvelopeHeader h;
	struct fx_msg a, b;
	struct split sa, sb;

	seal_to(fx, to, 2, &a);
	seal_to(fx, to, 2, &b);
	split_env(a.env, a.len, &sa);
	split_env(b.env, b.len, &sb);

	/* Swap the sealed wraps: each entry carries the other's box, which
	 * the entry owner's prekey cannot open: -SIRA_EAUTH for both. */
	h = *sa.h;
	w0 = *sa.h->recipients[0];
	w1 = *sa.h->recipients[1];
	w0.sealed = sa.h->recipients[1]->sealed;
	w1.sealed = sa.h->recipients[0]->sealed;
	rl[0] = &w0;
	rl[1] = &w1;
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sa), -SIRA_EAUTH);
	assert_int_equal(open_changed(fx, &fx->social, &h, &sa), -SIRA_EAUTH);
	/* Even handed the other recipient's prekey secret, the wrap names
	 * another certificate and prekey: -SIRA_EAUTH. */
	{
		struct fx_opener op;
		size_t len;
		uint8_t *env = join_env(&h, &sa, &len);
		fx_opener_init(&op, fx, &fx->ngo);
		op.any_secret = fx->social.sec[0];
		assert_int_equal(
		    fx_open_with(&op, env, len, FX_OPEN_AT, NULL), -SIRA_EAUTH);
		free(env);
	}
	/* Swap whole entries (each wrap moves with its ids): every wrap
	 * opens, but the header is not the one the body was sealed with. */
	rl[0] = sa.h->recipients[1];
	rl[1] = sa.h->recipients[0];
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sa), -SIRA_EAUTH);
	assert_int_equal(open_changed(fx, &fx->social, &h, &sa), -SIRA_EAUTH);

	/* Move ngo's wrap from envelope A into envelope B: it opens under
	 * ngo's prekey (same prekey), but names A's message id. */
	h = *sb.h;
	w0 = *sb.h->recipients[0];
	w0.sealed = sa.h->recipients[0]->sealed;
	rl[0] = &w0;
	rl[1] = sb.h->recipients[1];
	h.recipients = rl;
	assert_int_equal(open_changed(fx, &fx->ngo, &h, &sb), -SIRA_EAUTH);
	/* social's wrap in B is untouched, but B's header changed. */
	assert_int_equal(open_changed(fx, &fx->social, &h, &sb), -SIRA_EAUTH);
	/* A's body under B's header. */
	{
		size_t len;
		uint8_t *env = join_raw(sb.env->header.data, sb.env->header.len,
		    sa.env->body_ct.data, sa.env->body_ct.len, &len);
		assert_int_equal(
		    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
		free(env);
	}
	split_free(&sa);
	split_free(&sb);
	fx_msg_free(&a);
	fx_msg_free(&b);
}

/*
 * The WrapPayload inside my wrap, field by field. The envelope is re-sealed
 * with the true K under each new header (the test knows K), so the body
 * authenticates and only the wrap checks can refuse: each is -SIRA_EAUTH
 * ("the key wrap does not open or does not belong to this message"). The
 * wrap is an anonymous crypto_box_seal that anyone can make, so it is also
 * decoded strictly (PROTOCOL.md section 1): unknown or repeated fields and
 * non-minimal varints are refused.
 */
static void
test_e2_wrap_payload_fields(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *n = &fx->ngo;
	Sira__V1__RecipientWrap w, *rl[1];
	Sira__V1__EnvelopeHeader h;
	uint8_t buf[256], other[SIRA_MSGID_LEN], k31[32];
	uint8_t *padded, *env, *sealed;
	size_t plen, len, slen, bl;
	struct opened *o;
	struct fx_msg m;
	const uint8_t *msgid;

	seal_one(fx, n, &m);
	assert_int_equal(fx_open_as(fx, n, m.env, m.len, &o), 0);
	padded = padded_of(o, &plen);
	msgid = o->env->h->message_id.data;
	memcpy(other, msgid, sizeof(other));
	other[0] ^= 1;
	memcpy(k31, o->key, 32);
	h = *o->env->h;
	w = *o->env->h->recipients[0];
	rl[0] = &w;
	h.recipients = rl;
#define TRY(plain, plainlen, to_pk, want) \
	do { \
		sealed = seal_raw(plain, plainlen, to_pk, &slen); \
		w.sealed.data = sealed; \
		w.sealed.len = slen; \
		env = reseal(&h, padded, plen, o->key, &len); \
		assert_int_equal(fx_open_as(fx, n, env, len, NULL), want); \
		free(env); \
		free(sealed); \
	} while (0)

	/* Control: a fresh, correct wrap of K. */
	bl = wrap_payload(
	    1, o->key, 32, msgid, n->cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, 0);
	/* ... sealed to another of my prekeys than the one it names. */
	TRY(buf, bl, n->pk[1]->pk, -SIRA_EAUTH);
	/* Each field wrong. */
	bl = wrap_payload(
	    2, o->key, 32, msgid, n->cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	bl = wrap_payload(
	    0, o->key, 32, msgid, n->cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	bl =
	    wrap_payload(1, k31, 31, msgid, n->cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	bl = wrap_payload(
	    1, o->key, 32, other, n->cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	bl = wrap_payload(
	    1, o->key, 32, msgid, fx->ngo2.cert->id, n->pk[0]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	bl = wrap_payload(
	    1, o->key, 32, msgid, n->cert->id, n->pk[1]->key_id, buf);
	TRY(buf, bl, n->pk[0]->pk, -SIRA_EAUTH);
	/* Not a WrapPayload at all. */
	memset(buf, 0xff, 64);
	TRY(buf, 64, n->pk[0]->pk, -SIRA_EAUTH);
	/* Strict encoding: an unknown field (15, varint 1) appended; the
	 * version field repeated; the version as a 2-byte varint. */
	bl = wrap_payload(
	    1, o->key, 32, msgid, n->cert->id, n->pk[0]->key_id, buf);
	buf[bl] = 0x78;
	buf[bl + 1] = 0x01;
	TRY(buf, bl + 2, n->pk[0]->pk, -SIRA_EAUTH);
	buf[bl] = 0x08;
	buf[bl + 1] = 0x01;
	TRY(buf, bl + 2, n->pk[0]->pk, -SIRA_EAUTH);
	assert_int_equal(buf[0], 0x08); /* version first, value 1 */
	assert_int_equal(buf[1], 0x01);
	memmove(buf + 3, buf + 2, bl - 2);
	buf[1] = 0x81;
	buf[2] = 0x00;
	TRY(buf, bl + 1, n->pk[0]->pk, -SIRA_EAUTH);
#undef TRY
	/* Wrap lengths: shorter than a sealed box's overhead (after the
	 * decoder: -SIRA_EMALFORMED), one byte of ciphertext (the box does
	 * not open: -SIRA_EAUTH), empty or over SIRA_WRAP_MAX (the decoder:
	 * -SIRA_EMALFORMED). */
	assert_non_null(sealed = calloc(1, SIRA_WRAP_MAX + 1));
	w.sealed.data = sealed;
	w.sealed.len = crypto_box_SEALBYTES;
	assert_int_equal(open_changed_o(fx, n, &h, o), -SIRA_EMALFORMED);
	w.sealed.len = crypto_box_SEALBYTES + 1;
	assert_int_equal(open_changed_o(fx, n, &h, o), -SIRA_EAUTH);
	w.sealed.len = 0;
	assert_int_equal(open_changed_o(fx, n, &h, o), -SIRA_EMALFORMED);
	w.sealed.len = SIRA_WRAP_MAX + 1;
	assert_int_equal(open_changed_o(fx, n, &h, o), -SIRA_EMALFORMED);
	free(sealed);
	sodium_memzero(k31, sizeof(k31));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(padded, plen);
	free(padded);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

/* ---- E3: replay and time ---- */

static void
test_e3_replay_and_time(void **state)
{
	struct fx *fx = *state;
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)PAYLOAD,
		.len = strlen(PAYLOAD) };
	struct fx_opener op;
	struct opened *o;
	struct fx_msg m;

	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	fx_opener_init(&op, fx, &fx->ngo);
	op.seen_all = 1;
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EREPLAY);
	assert_int_equal(op.prekey_calls, 0); /* refused before the key */
	/* The store's seen-set: first open accepted, the same bytes again
	 * are a replay. */
	fx_opener_init(&op, fx, &fx->ngo);
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, &o), 0);
	fx_mark_seen(&op, o);
	seal_opened_destroy(&o);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EREPLAY);
	/* Expiry: the last second before expires_at opens, expires_at does
	 * not. */
	fx_opener_init(&op, fx, &fx->ngo);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_NOW + FX_TTL - 1, NULL), 0);
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_NOW + FX_TTL, NULL),
	    -SIRA_EEXPIRED);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_NOW + 400 * FX_DAY, NULL),
	    -SIRA_EEXPIRED);
	/* created_at exactly SIRA_CLOCK_SKEW ahead of the opener: tolerated. */
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_NOW - SIRA_CLOCK_SKEW, NULL), 0);
	fx_msg_free(&m);
	/* From the future beyond the skew. */
	spec.now = FX_NOW + SIRA_CLOCK_SKEW + 60;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	assert_int_equal(m.meta.created_at, FX_NOW + SIRA_CLOCK_SKEW + 60);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_NOW, NULL), -SIRA_EFUTURE);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_NOW + 59, NULL), -SIRA_EFUTURE);
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_NOW + 60, NULL), 0);
	fx_msg_free(&m);
	/* created_at is coarsened to the minute. */
	spec.now = FX_NOW + 119;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	assert_int_equal(m.meta.created_at, FX_NOW + 60);
	assert_int_equal(m.meta.expires_at, FX_NOW + 60 + FX_TTL);
	fx_msg_free(&m);
}

/* ---- E4: wrong recipient, re-addressing ---- */

static void
test_e4_not_recipient(void **state)
{
	struct fx *fx = *state;
	struct fx_opener op;
	struct fx_msg m;

	seal_one(fx, &fx->ngo, &m);
	fx_opener_init(&op, fx, &fx->justice);
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_ENOT_RECIPIENT);
	assert_int_equal(op.prekey_calls, 0);
	/* Not even with the NGO's prekey secrets in its hands: the entry is
	 * found by agency id. */
	op.any_secret = fx->ngo.sec[0];
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_ENOT_RECIPIENT);
	/* The sender itself is not a recipient either. */
	assert_int_equal(fx_open_as(fx, &fx->police, m.env, m.len, NULL),
	    -SIRA_ENOT_RECIPIENT);
	fx_msg_free(&m);
}

/*
 * A forged envelope: header h (re-encoded) and a padded body (taken from an
 * opened envelope) encrypted under k with h as AD, as a co-recipient who
 * knows K can do. Fresh bytes.
 */
static uint8_t *
reseal(const Sira__V1__EnvelopeHeader *h, const uint8_t *padded, size_t plen,
    const uint8_t *k, size_t *len)
{
	size_t hlen, ctlen;
	uint8_t *hdr = pack(&h->base, &hlen);
	uint8_t *ct =
	    body_seal(k, hdr, hlen, h->body_nonce.data, padded, plen, &ctlen);
	uint8_t *env = join_raw(hdr, hlen, ct, ctlen, len);

	free(hdr);
	free(ct);
	return env;
}

/* Open header h with o's original body ciphertext, as me. */
static int
open_changed_o(const struct fx *fx, const struct fx_agent *me,
    const Sira__V1__EnvelopeHeader *h, const struct opened *o)
{
	size_t hlen, len;
	uint8_t *hdr = pack(&h->base, &hlen);
	uint8_t *env =
	    join_raw(hdr, hlen, o->env->body_ct, o->env->body_ct_len, &len);
	int rc = fx_open_as(fx, me, env, len, NULL);

	free(hdr);
	free(env);
	return rc;
}

/* The padded plaintext of o's body (asserts it decrypts under o->key). */
static uint8_t *
padded_of(const struct opened *o, size_t *plen)
{
	return body_open(o->key, o->env->header, o->env->header_len,
	    o->env->h->body_nonce.data, o->env->body_ct, o->env->body_ct_len,
	    plen);
}

static void
test_e4_readdress(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *j = &fx->justice;
	Sira__V1__RecipientWrap wj, *rl[2];
	Sira__V1__EnvelopeHeader h;
	struct opened *o;
	struct fx_msg m;
	uint8_t *padded, *env, *sealed;
	size_t plen, len, slen;

	/* The police send to the NGO alone; the NGO opens it. */
	seal_one(fx, &fx->ngo, &m);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	padded = padded_of(o, &plen);
	assert_int_equal(plen, o->env->h->size_bucket);
	/* ... and forwards it to justice: a correct wrap of the same K to
	 * justice's prekey, naming justice, the same key commitment and
	 * manifest hash, the same padded body sealed under the new header. */
	sealed = wrap_for(o->key, o->env->h->message_id.data, j->cert->id,
	    j->pk[0]->key_id, j->pk[0]->pk, &slen);
	sira__v1__recipient_wrap__init(&wj);
	wj.agency_id = j->cert->agency_id;
	wj.cert_id.data = j->cert->id;
	wj.cert_id.len = SIRA_HASH_LEN;
	wj.prekey_id.data = j->pk[0]->key_id;
	wj.prekey_id.len = SIRA_PREKEY_ID_LEN;
	wj.sealed.data = sealed;
	wj.sealed.len = slen;
	h = *o->env->h;
	rl[0] = o->env->h->recipients[0];
	rl[1] = &wj;
	h.recipients = rl;
	h.n_recipients = 2;
	env = reseal(&h, padded, plen, o->key, &len);
	/* Everything up to the signed manifest checks out for justice (wrap,
	 * commitment, AEAD, manifest hash, signature); the signed recipient
	 * list does not name it: -SIRA_ENOT_RECIPIENT. */
	{
		struct fx_opener op;
		fx_opener_init(&op, fx, j);
		assert_int_equal(fx_open_with(&op, env, len, FX_OPEN_AT, NULL),
		    -SIRA_ENOT_RECIPIENT);
		assert_int_equal(op.sender_calls, 1); /* it got that far */
	}
	/* The NGO itself, named in both lists: the header's list differs
	 * from the signed one: -SIRA_EAUTH. */
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	/* Justice substituted for the NGO: still not in the signed list. */
	rl[0] = &wj;
	h.n_recipients = 1;
	env = reseal(&h, padded, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, j, env, len, NULL), -SIRA_ENOT_RECIPIENT);
	free(env);
	/* Control: the re-sealed original header opens for the NGO. */
	env = reseal(o->env->h, padded, plen, o->key, &len);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), 0);
	free(env);
	free(sealed);
	sodium_memzero(padded, plen);
	free(padded);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

static void
test_e4_header_list_differs(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *to[] = { &fx->ngo, &fx->social };
	Sira__V1__EnvelopeHeader h;
	Sira__V1__RecipientWrap *rl[2], w;
	uint8_t pkid[SIRA_PREKEY_ID_LEN];
	struct opened *o;
	struct fx_msg m;
	uint8_t *padded, *env;
	size_t plen, len;

	seal_to(fx, to, 2, &m);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	padded = padded_of(o, &plen);
	/* A header naming only the NGO (social dropped), re-sealed with K so
	 * that the AEAD passes: the manifest catches it. */
	h = *o->env->h;
	h.n_recipients = 1;
	env = reseal(&h, padded, plen, o->key, &len);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	/* The two entries in the other order. */
	h = *o->env->h;
	rl[0] = o->env->h->recipients[1];
	rl[1] = o->env->h->recipients[0];
	h.recipients = rl;
	env = reseal(&h, padded, plen, o->key, &len);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	/* social's entry naming another of its prekeys. */
	h = *o->env->h;
	w = *o->env->h->recipients[1];
	memcpy(pkid, fx->social.pk[1]->key_id, sizeof(pkid));
	w.prekey_id.data = pkid;
	rl[0] = o->env->h->recipients[0];
	rl[1] = &w;
	h.recipients = rl;
	env = reseal(&h, padded, plen, o->key, &len);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	sodium_memzero(padded, plen);
	free(padded);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

/* ---- E5: sender status ---- */

static void
test_e5_sender_status(void **state)
{
	struct fx *fx = *state;
	struct fx_opener op;
	struct fx_msg m;

	seal_one(fx, &fx->ngo, &m);
	fx_opener_init(&op, fx, &fx->ngo);
	op.sender_rc = -SIRA_EREVOKED;
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EREVOKED);
	op.sender_rc = -SIRA_EUNKNOWN_AGENCY;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_EUNKNOWN_AGENCY);
	op.sender_rc = -SIRA_EEXPIRED;
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EEXPIRED);
	op.sender_rc = -SIRA_ECRL_STALE;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_ECRL_STALE);
	/* A lookup that answers with another agency's certificate is not
	 * trusted blindly. */
	op.sender_rc = 0;
	op.sender_as = fx->justice.cert;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_EUNKNOWN_AGENCY);
	/* Nor with the right agency's other certificate. */
	{
		struct fx_spec spec = { .from = &fx->ngo,
			.to = { &fx->social },
			.n_to = 1,
			.payload = (const uint8_t *)"x",
			.len = 1 };
		struct fx_msg m2;
		assert_int_equal(fx_seal(&spec, &m2, NULL), 0);
		fx_opener_init(&op, fx, &fx->social);
		op.sender_as = fx->ngo2.cert;
		assert_int_equal(
		    fx_open_with(&op, m2.env, m2.len, FX_OPEN_AT, NULL),
		    -SIRA_EUNKNOWN_AGENCY);
		op.sender_as = NULL;
		assert_int_equal(
		    fx_open_with(&op, m2.env, m2.len, FX_OPEN_AT, NULL), 0);
		fx_msg_free(&m2);
	}
	fx_msg_free(&m);
}

/* ---- E6: the wrong signer ---- */

static void
test_e6_wrong_signer_and_usage(void **state)
{
	struct fx *fx = *state;
	struct fx_spec spec = { .from = &fx->police,
		.sign_keys = NULL,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)PAYLOAD,
		.len = strlen(PAYLOAD) };
	struct fx_opener op;
	struct opened *o;
	struct sira_err err;
	Sira__V1__ManifestTBS *mt;
	uint8_t sh[32];
	struct fx_msg m;

	/* The header and manifest claim the police; social services' key
	 * signed. Everything else is genuine: -SIRA_EBADSIG. */
	spec.sign_keys = fx->social.keys;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	fx_opener_init(&op, fx, &fx->ngo);
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EBADSIG);
	assert_int_equal(op.sender_calls, 1);
	/* It is social's genuine signature: social's certificate accepts it,
	 * and the manifest names the police. */
	op.sender_as = fx->social.cert;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
	    -SIRA_EUNKNOWN_AGENCY);
	fx_msg_free(&m);

	/* A sender certificate without ENVELOPE_SIGN. */
	memset(&spec, 0, sizeof(spec));
	spec.from = &fx->broker;
	spec.to[0] = &fx->ngo;
	spec.n_to = 1;
	spec.payload = (const uint8_t *)"x";
	spec.len = 1;
	assert_int_equal(fx_seal(&spec, &m, &err), -SIRA_EKEY_USAGE);
	assert_int_equal(err.code, SIRA_EKEY_USAGE);
	spec.from = &fx->police;
	spec.sender_cert = fx->ca;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EKEY_USAGE);
	/* On the receiving side the manifest check refuses such a signer. */
	spec.sender_cert = NULL;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	assert_int_equal(
	    manifest_verify(o->signed_manifest, o->signed_manifest_len,
		fx->broker.cert, &mt, sh, &err),
	    -SIRA_EKEY_USAGE);
	assert_null(mt);
	assert_int_equal(
	    manifest_verify(o->signed_manifest, o->signed_manifest_len,
		fx->social.cert, &mt, sh, &err),
	    -SIRA_EBADSIG);
	assert_int_equal(
	    manifest_verify(o->signed_manifest, o->signed_manifest_len,
		fx->police.cert, &mt, sh, &err),
	    0);
	assert_memory_equal(sh, m.meta.manifest_sig_sha256, 32);
	protobuf_c_message_free_unpacked(&mt->base, NULL);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

/* ---- E7: key commitment ---- */

static void
test_e7_key_commitment(void **state)
{
	struct fx *fx = *state;
	const struct fx_agent *to[] = { &fx->ngo, &fx->social };
	const struct fx_agent *s = &fx->social;
	Sira__V1__RecipientWrap ws, *rl[2];
	Sira__V1__EnvelopeHeader h;
	uint8_t k2[32], c2[32], *padded, *env, *sealed;
	size_t plen, len, slen;
	struct opened *o, *o2;
	struct fx_msg m;

	seal_to(fx, to, 2, &m);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	padded = padded_of(o, &plen);
	/* A malicious sender gives social a different key K' (a correct
	 * wrap naming social), keeps the commitment to K, and encrypts the
	 * body under K' so that social's AEAD would pass. */
	crypto_aead_xchacha20poly1305_ietf_keygen(k2);
	sealed = wrap_for(k2, o->env->h->message_id.data, s->cert->id,
	    s->pk[0]->key_id, s->pk[0]->pk, &slen);
	ws = *o->env->h->recipients[1];
	ws.sealed.data = sealed;
	ws.sealed.len = slen;
	h = *o->env->h;
	rl[0] = o->env->h->recipients[0];
	rl[1] = &ws;
	h.recipients = rl;
	env = reseal(&h, padded, plen, k2, &len);
	/* social: K' does not match the commitment. */
	assert_int_equal(fx_open_as(fx, s, env, len, NULL), -SIRA_EAUTH);
	/* the NGO: K matches the commitment, the body is not under K. */
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	/* Control: with the commitment to K' the very same forgery opens for
	 * social, so the commitment check is what refused it above; the NGO
	 * (holding K) now refuses at the commitment. The two never accept
	 * different keys. */
	commit_of(k2, o->env->h->message_id.data, c2);
	h.key_commitment.data = c2;
	env = reseal(&h, padded, plen, k2, &len);
	assert_int_equal(fx_open_as(fx, s, env, len, &o2), 0);
	assert_int_equal(o2->payload_len, strlen(PAYLOAD));
	assert_memory_equal(o2->key, k2, 32);
	seal_opened_destroy(&o2);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EAUTH);
	free(env);
	/* The header's commitment is BLAKE2b-256 keyed with K. */
	commit_of(o->key, o->env->h->message_id.data, c2);
	assert_memory_equal(c2, o->env->h->key_commitment.data, 32);
	sodium_memzero(k2, sizeof(k2));
	free(sealed);
	sodium_memzero(padded, plen);
	free(padded);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

/* ---- E8: prekeys ---- */

static void
test_e8_seal_refuses_prekeys(void **state)
{
	struct fx *fx = *state;
	const struct prekey_owner ngo = { fx->ngo.cert, fx->ngo.keys };
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)"x",
		.len = 1 };
	struct prekey *shortpk, *laterpk, fake;
	struct prekey_secret *shortsec, *latersec;
	struct sira_err err;
	struct fx_msg m;

	/* Expired: an hour's prekey, used two hours later. */
	assert_int_equal(
	    prekey_generate(&ngo, FX_NOW, 3600, &shortpk, &shortsec, &err), 0);
	spec.to_pk[0] = shortpk;
	spec.now = FX_NOW + 3600;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0); /* its last second */
	fx_msg_free(&m);
	spec.now = FX_NOW + 3601;
	assert_int_equal(fx_seal(&spec, &m, &err), -SIRA_EPREKEY);
	assert_int_equal(err.code, SIRA_EPREKEY);
	spec.now = FX_NOW + 7200;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EPREKEY);
	/* Not valid yet. */
	assert_int_equal(prekey_generate(&ngo, FX_NOW + 3600, 3600, &laterpk,
			     &latersec, &err),
	    0);
	spec.to_pk[0] = laterpk;
	spec.now = FX_NOW;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EPREKEY);
	/* Another agency's prekey. */
	spec.to_pk[0] = fx->social.pk[0];
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EPREKEY);
	/* The NGO's prekey, but under its other certificate. */
	spec.to_pk[0] = fx->ngo2.pk[0];
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EPREKEY);
	spec.to_cert[0] = fx->ngo2.cert; /* consistent again: fine */
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	fx_msg_free(&m);
	/* The second recipient's prekey is wrong: nothing is sealed. */
	spec.to_cert[0] = NULL;
	spec.to_pk[0] = NULL;
	spec.to[1] = &fx->social;
	spec.to_pk[1] = fx->justice.pk[0];
	spec.n_to = 2;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EPREKEY);
	assert_null(m.env);
	/* A broker cannot be a recipient, even with a consistent prekey. */
	fake = *fx->ngo.pk[0];
	(void)snprintf(fake.agency_id, sizeof(fake.agency_id), "%s",
	    fx->broker.cert->agency_id);
	memcpy(fake.owner_cert_id, fx->broker.cert->id, SIRA_HASH_LEN);
	spec.to[1] = &fx->broker;
	spec.to_pk[1] = &fake;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	prekey_destroy(&shortpk);
	prekey_secret_destroy(&shortsec);
	prekey_destroy(&laterpk);
	prekey_secret_destroy(&latersec);
}

static void
test_e8_deleted_prekey_forward_secrecy(void **state)
{
	struct fx *fx = *state;
	const struct prekey_owner ngo = { fx->ngo.cert, fx->ngo.keys };
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)PAYLOAD,
		.len = strlen(PAYLOAD) };
	struct prekey *p;
	struct prekey_secret *psec, transport;
	struct fx_opener op;
	struct sira_err err;
	struct split sp;
	struct fx_msg m;
	uint8_t plain[SIRA_WRAP_MAX];

	assert_int_equal(
	    prekey_generate(&ngo, FX_NOW, FX_PREKEY_LIFE, &p, &psec, &err), 0);
	spec.to_pk[0] = p;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	split_env(m.env, m.len, &sp);
	fx_opener_init(&op, fx, &fx->ngo);
	op.secrets[FX_PREKEYS] = psec;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), 0);
	/* The NGO deletes an old prekey (not this one): still opens. */
	op.secrets[0] = NULL;
	assert_int_equal(fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), 0);
	op.secrets[0] = fx->ngo.sec[0];
	/* Retention over: P's secret is destroyed and forgotten. */
	prekey_secret_destroy(&psec);
	assert_null(psec);
	op.secrets[FX_PREKEYS] = NULL;
	assert_int_equal(
	    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL), -SIRA_EPREKEY);
	/* Every secret the NGO still holds, tried on the captured bytes:
	 * its other prekeys and its transport key. */
	memset(&transport, 0, sizeof(transport));
	memcpy(transport.key_id, p->key_id, SIRA_PREKEY_ID_LEN);
	memcpy(transport.pk, fx->ngo.keys->transport_pk, SIRA_CURVE_KEY_LEN);
	memcpy(transport.sk, fx->ngo.keys->transport_sk, SIRA_CURVE_KEY_LEN);
	for (size_t i = 0; i <= FX_PREKEYS; i++) {
		const struct prekey_secret *s =
		    i < FX_PREKEYS ? fx->ngo.sec[i] : &transport;
		const ProtobufCBinaryData *w = &sp.h->recipients[0]->sealed;
		op.any_secret = s;
		assert_int_equal(
		    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
		    -SIRA_EAUTH);
		assert_true(w->len - crypto_box_SEALBYTES <= sizeof(plain));
		assert_int_not_equal(
		    crypto_box_seal_open(plain, w->data, w->len, s->pk, s->sk),
		    0);
	}
	/* The ngo2 certificate's prekeys (same agency) do not help either. */
	for (size_t i = 0; i < FX_PREKEYS; i++) {
		op.any_secret = fx->ngo2.sec[i];
		assert_int_equal(
		    fx_open_with(&op, m.env, m.len, FX_OPEN_AT, NULL),
		    -SIRA_EAUTH);
	}
	sodium_memzero(&transport, sizeof(transport));
	split_free(&sp);
	prekey_destroy(&p);
	fx_msg_free(&m);
}

/* ---- E10: padding and size classes ---- */

static void
test_e10_padding(void **state)
{
	struct fx *fx = *state;
	struct opened *o;
	struct fx_msg m;
	uint8_t *padded, *bad, *env;
	size_t plen, len, inner;

	seal_one(fx, &fx->ngo, &m);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, &o), 0);
	padded = padded_of(o, &plen);
	assert_int_equal(plen, 4096);
	assert_non_null(bad = malloc(plen));
	/* Locate the ISO/IEC 7816-4 marker: 0x80, then zeros to the end. */
	inner = plen - 1;
	while (padded[inner] == 0)
		inner--;
	assert_int_equal(padded[inner], 0x80);
	/* Control: the original padded body, re-sealed, opens. */
	env = reseal(o->env->h, padded, plen, o->key, &len);
	assert_int_equal(fx_open_as(fx, &fx->ngo, env, len, NULL), 0);
	free(env);
	/* A bad last byte. */
	memcpy(bad, padded, plen);
	bad[plen - 1] = 0x01;
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	/* No marker at all. */
	memcpy(bad, padded, plen);
	bad[inner] = 0;
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	/* A non-zero byte after the marker. */
	memcpy(bad, padded, plen);
	bad[inner + 1 + (plen - inner - 1) / 2] = 0x42;
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	/* Padding valid but shorter (the marker moved into the InnerBody):
	 * the truncated InnerBody does not parse. */
	memcpy(bad, padded, plen);
	bad[inner] = 0;
	bad[inner - 1] = 0x80;
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	/* Valid padding around garbage. */
	memcpy(bad, padded, plen);
	memset(bad, 0xff, inner);
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	/* An InnerBody without a manifest. */
	memcpy(bad, padded, plen);
	{
		static const uint8_t only_payload[] = { 0x12, 0x01, 0x78 };
		memcpy(bad, only_payload, sizeof(only_payload));
		bad[sizeof(only_payload)] = 0x80;
		memset(bad + sizeof(only_payload) + 1, 0,
		    plen - sizeof(only_payload) - 1);
	}
	env = reseal(o->env->h, bad, plen, o->key, &len);
	assert_int_equal(
	    fx_open_as(fx, &fx->ngo, env, len, NULL), -SIRA_EMALFORMED);
	free(env);
	sodium_memzero(padded, plen);
	free(padded);
	free(bad);
	seal_opened_destroy(&o);
	fx_msg_free(&m);
}

static void
test_e10_bucket_property(void **state)
{
	struct fx *fx = *state;
	static const uint8_t seed[randombytes_SEEDBYTES] = "sira buckets";
	struct fx_spec spec = {
		.from = &fx->police, .to = { &fx->ngo }, .n_to = 1
	};
	uint32_t r[2 * BUCKET_SAMPLES];
	unsigned seen[N_BUCKETS] = { 0 };
	uint8_t *big = big_payload();
	struct fx_msg m;

	randombytes_buf_deterministic(r, sizeof(r), seed);
	spec.payload = big;
	for (size_t i = 0; i < BUCKET_SAMPLES; i++) {
		const size_t top = SIRA_BODY_MAX - 1024;
		size_t len;
		uint32_t b;
		bool ok = false;

		/* Half uniform over [0, 4 MiB - 1 KiB], half log-uniform so
		 * that the small classes are sampled too. */
		if (i % 2 == 0)
			len = r[2 * i] % (top + 1);
		else
			len = r[2 * i] % ((size_t)1 << (r[2 * i + 1] % 23));
		spec.len = len;
		assert_int_equal(fx_seal(&spec, &m, NULL), 0);
		b = bucket_of(&m); /* also: body_ct is exactly b + 16 */
		for (size_t k = 0; k < N_BUCKETS; k++)
			if (b == buckets[k]) {
				seen[k]++;
				ok = true;
			}
		assert_true(ok);
		assert_true(len < b);
		assert_true(b == 4096 || len >= b / 4 - 1024);
		fx_msg_free(&m);
	}
	print_message("buckets: 4K %u, 16K %u, 64K %u, 256K %u, 1M %u, 4M %u\n",
	    seen[0], seen[1], seen[2], seen[3], seen[4], seen[5]);
	for (size_t k = 0; k < N_BUCKETS; k++)
		assert_true(seen[k] > 0);
	free(big);
}

/* ---- E11: uniqueness of ids, keys and nonces ---- */

struct rec {
	uint8_t v[32];
};

static int
rec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct rec));
}

static size_t
dups(struct rec *r, size_t n)
{
	size_t d = 0;

	qsort(r, n, sizeof(*r), rec_cmp);
	for (size_t i = 1; i < n; i++)
		if (memcmp(&r[i - 1], &r[i], sizeof(*r)) == 0)
			d++;
	return d;
}

static void
test_e11_uniqueness(void **state)
{
	struct fx *fx = *state;
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo },
		.n_to = 1,
		.payload = (const uint8_t *)"x",
		.len = 1 };
	struct rec *ids, *commits, *nonces, *ephemeral;
	struct envelope *e;
	struct fx_msg m;

	assert_non_null(ids = calloc(E11_SEALS, sizeof(*ids)));
	assert_non_null(commits = calloc(E11_SEALS, sizeof(*commits)));
	assert_non_null(nonces = calloc(E11_SEALS, sizeof(*nonces)));
	assert_non_null(ephemeral = calloc(E11_SEALS, sizeof(*ephemeral)));
	for (size_t i = 0; i < E11_SEALS; i++) {
		assert_int_equal(fx_seal(&spec, &m, NULL), 0);
		assert_int_equal(envelope_decode(m.env, m.len, &e, NULL), 0);
		memcpy(ids[i].v, e->h->message_id.data, SIRA_MSGID_LEN);
		assert_memory_equal(
		    m.meta.message_id, e->h->message_id.data, SIRA_MSGID_LEN);
		memcpy(commits[i].v, e->h->key_commitment.data, 32);
		memcpy(nonces[i].v, e->h->body_nonce.data, 24);
		/* crypto_box_seal's ephemeral public key leads the wrap. */
		memcpy(ephemeral[i].v, e->h->recipients[0]->sealed.data, 32);
		envelope_destroy(&e);
		fx_msg_free(&m);
	}
	assert_int_equal(dups(ids, E11_SEALS), 0);
	assert_int_equal(dups(commits, E11_SEALS), 0);
	assert_int_equal(dups(nonces, E11_SEALS), 0);
	assert_int_equal(dups(ephemeral, E11_SEALS), 0);
	print_message("%d seals: ids, key commitments, nonces and wrap keys "
		      "all distinct\n",
	    E11_SEALS);
	free(ids);
	free(commits);
	free(nonces);
	free(ephemeral);
}

/* ---- seal_begin parameters ---- */

static void
test_seal_params(void **state)
{
	struct fx *fx = *state;
	struct fx_spec spec = { .from = &fx->police,
		.to = { &fx->ngo, &fx->ngo },
		.n_to = 2,
		.payload = (const uint8_t *)"x",
		.len = 1 };
	struct fx_msg m;

	/* Named twice. */
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	/* The same agency under its two certificates is still named twice. */
	spec.to[1] = &fx->ngo2;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	spec.n_to = 0;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	spec.n_to = 1;
	spec.ttl = SIRA_TTL_MAX + 1;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	spec.ttl = SIRA_TTL_MAX;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	assert_int_equal(m.meta.expires_at, FX_NOW + SIRA_TTL_MAX);
	assert_int_equal(fx_open_as(fx, &fx->ngo, m.env, m.len, NULL), 0);
	fx_msg_free(&m);
	spec.ttl = 0;
	spec.kind = 99;
	assert_int_equal(fx_seal(&spec, &m, NULL), -SIRA_EINVAL);
	spec.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
	assert_int_equal(fx_seal(&spec, &m, NULL), 0);
	fx_msg_free(&m);
}

/*
 * SIRA_RECIPIENTS_MAX (64) recipients seal and open; one more is refused by
 * seal_begin, and a header with one more (forged) by the decoder.
 */
static void
test_recipient_limits(void **state)
{
	struct fx *fx = *state;
	enum { N = SIRA_RECIPIENTS_MAX + 1 };
	struct fx_agent *bulk = calloc(N, sizeof(*bulk));
	struct seal_recipient r[N];
	struct seal_params p = { .sender = fx->police.cert,
		.sender_keys = fx->police.keys,
		.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE,
		.content_type = "sira.note.v1",
		.case_ref = "",
		.now = FX_NOW,
		.ttl = FX_TTL,
		.recipients = r };
	Sira__V1__RecipientWrap extra, *rl[N];
	char ids[N][SIRA_AGENCY_ID_MAX + 1];
	Sira__V1__EnvelopeHeader h;
	struct opened *o;
	struct seal *s;
	struct split sp;
	struct sealed_out so;

	assert_non_null(bulk);
	for (size_t i = 0; i < N; i++) {
		struct sira_err err;
		(void)snprintf(ids[i], sizeof(ids[i]), "ml.bulk.r%02zu", i);
		assert_int_equal(fx_cert(fx, ids[i], SIRA_ROLE_SOCIAL_SERVICES,
				     FX_AG_NB, FX_AG_NA, NULL, &bulk[i]),
		    0);
		assert_int_equal(
		    prekey_generate(
			&(struct prekey_owner){ bulk[i].cert, bulk[i].keys },
			FX_NOW, FX_PREKEY_LIFE, &bulk[i].pk[0], &bulk[i].sec[0],
			&err),
		    0);
		r[i].cert = bulk[i].cert;
		r[i].prekey = bulk[i].pk[0];
		r[i].pair_seq = 1;
	}
	p.n_recipients = N;
	assert_int_equal(seal_begin(&p, &s, NULL), -SIRA_EINVAL);
	assert_null(s);
	p.n_recipients = N - 1;
	assert_int_equal(seal_begin(&p, &s, NULL), 0);
	assert_int_equal(seal_finish(s, (const uint8_t *)"x", 1, &so, NULL), 0);
	seal_destroy(&s);
	/* The first and the last of the 64 open it. */
	assert_int_equal(fx_open_as(fx, &bulk[0], so.env, so.len, &o), 0);
	assert_int_equal(o->manifest->n_recipients, SIRA_RECIPIENTS_MAX);
	seal_opened_destroy(&o);
	assert_int_equal(fx_open_as(fx, &bulk[N - 2], so.env, so.len, NULL), 0);
	assert_int_equal(fx_open_as(fx, &bulk[N - 1], so.env, so.len, NULL),
	    -SIRA_ENOT_RECIPIENT);
	/* A 65th wrap added to the header: the decoder refuses the count. */
	split_env(so.env, so.len, &sp);
	h = *sp.h;
	for (size_t i = 0; i < N - 1; i++)
		rl[i] = sp.h->recipients[i];
	extra = *sp.h->recipients[0];
	extra.agency_id = ids[N - 1];
	rl[N - 1] = &extra;
	h.recipients = rl;
	h.n_recipients = N;
	assert_int_equal(open_changed(fx, &bulk[0], &h, &sp), -SIRA_EMALFORMED);
	split_free(&sp);
	free(so.env);
	for (size_t i = 0; i < N; i++)
		fx_agent_free(&bulk[i]);
	free(bulk);
}

/*
 * A seal is used once. seal_finish wipes K whatever happens, so a second
 * seal_finish (say, after -SIRA_ETOOBIG, with a smaller body) or a
 * seal_attach after it would otherwise seal under an all-zero K that anyone
 * can recompute. Both must be refused.
 */
static void
test_seal_finish_once(void **state)
{
	struct fx *fx = *state;
	struct seal_recipient r = { fx->ngo.cert, fx->ngo.pk[0], 1 };
	struct seal_params p = { .sender = fx->police.cert,
		.sender_keys = fx->police.keys,
		.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL,
		.content_type = "sira.referral.v1",
		.case_ref = "",
		.in_reply_to = NULL,
		.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE,
		.now = FX_NOW,
		.ttl = FX_TTL,
		.recipients = &r,
		.n_recipients = 1 };
	uint8_t *big = big_payload(), zero[32] = { 0 }, c[32];
	const char *in = fx_path(fx, "once.txt"), *blob = fx_path(fx, "once.b");
	struct sealed_out so = { 0 };
	struct sira_err err;
	struct seal *s;
	int rc, ifd, bfd;
	FILE *f;

	assert_non_null(f = fopen(in, "w"));
	fputs("x", f);
	assert_int_equal(fclose(f), 0);
	/* Too big, then a retry on the same seal. */
	assert_int_equal(seal_begin(&p, &s, &err), 0);
	assert_int_equal(
	    seal_finish(s, big, SIRA_BODY_MAX, &so, &err), -SIRA_ETOOBIG);
	assert_null(so.env);
	rc = seal_finish(s, (const uint8_t *)"x", 1, &so, &err);
	if (rc == 0) {
		struct envelope *e;
		assert_int_equal(envelope_decode(so.env, so.len, &e, NULL), 0);
		commit_of(zero, e->h->message_id.data, c);
		print_message("second seal_finish sealed under K = 0: %s\n",
		    memcmp(c, e->h->key_commitment.data, 32) == 0 ? "yes" :
								    "no");
		envelope_destroy(&e);
		free(so.env);
		so.env = NULL;
	}
	assert_int_equal(rc, -SIRA_ESTATE);
	assert_int_equal(err.code, SIRA_ESTATE);
	assert_null(so.env);
	assert_true((ifd = open(in, O_RDONLY | O_CLOEXEC)) != -1);
	assert_true((bfd = open(blob, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			 0600)) != -1);
	assert_int_equal(seal_attach(s, ifd, bfd, "a.txt", "text/plain", &err),
	    -SIRA_ESTATE);
	seal_destroy(&s);
	assert_null(s);
	/* After a successful finish, too. */
	assert_int_equal(seal_begin(&p, &s, &err), 0);
	assert_int_equal(seal_finish(s, (const uint8_t *)"x", 1, &so, &err), 0);
	free(so.env);
	so.env = NULL;
	assert_int_equal(
	    seal_finish(s, (const uint8_t *)"x", 1, &so, &err), -SIRA_ESTATE);
	assert_null(so.env);
	assert_int_equal(seal_attach(s, ifd, bfd, "a.txt", "text/plain", &err),
	    -SIRA_ESTATE);
	seal_destroy(&s);
	seal_destroy(&s); /* accepts NULL */
	close(ifd);
	close(bfd);
	(void)unlink(in);
	(void)unlink(blob);
	free(big);
}

/* ---- prekey_verify ---- */

/* A signed Prekey with the given fields, signed by sk for purpose. */
static uint8_t *
make_prekey(const uint8_t *sk, const char *purpose, const char *agency_id,
    const uint8_t *owner, uint64_t nb, uint64_t na, size_t pk_len, size_t *len)
{
	Sira__V1__PrekeyTBS t = SIRA__V1__PREKEY_TBS__INIT;
	uint8_t key_id[SIRA_PREKEY_ID_LEN], pk[33], sig[SIRA_SIG_LEN];
	uint8_t *tbs, *out = NULL;
	size_t tlen;

	randombytes_buf(key_id, sizeof(key_id));
	randombytes_buf(pk, sizeof(pk));
	t.version = 1;
	t.agency_id = (char *)(uintptr_t)agency_id;
	t.owner_cert_id.data = (uint8_t *)(uintptr_t)owner;
	t.owner_cert_id.len = SIRA_HASH_LEN;
	t.key_id.data = key_id;
	t.key_id.len = sizeof(key_id);
	t.x25519_pk.data = pk;
	t.x25519_pk.len = pk_len;
	t.not_before = nb;
	t.not_after = na;
	tbs = pack(&t.base, &tlen);
	assert_int_equal(sign_detached(sk, purpose, tbs, tlen, sig), 0);
	assert_int_equal(signed_join(tbs, tlen, sig, &out, len, NULL), 0);
	free(tbs);
	return out;
}

static void
test_prekey_verify(void **state)
{
	struct fx *fx = *state;
	const struct prekey *pk = fx->ngo.pk[0];
	struct fx_agent shortlived;
	struct prekey *out, *gen;
	struct prekey_secret *sec;
	struct sira_err err;
	unsigned long flips = 0;
	uint8_t *copy, *raw;
	size_t len;

	/* Valid, and the fields come back. */
	assert_int_equal(prekey_verify(fx->ngo.cert, pk->raw, pk->raw_len,
			     FX_NOW, &out, &err),
	    0);
	assert_string_equal(out->agency_id, fx->ngo.cert->agency_id);
	assert_memory_equal(out->owner_cert_id, fx->ngo.cert->id, 32);
	assert_memory_equal(out->key_id, pk->key_id, SIRA_PREKEY_ID_LEN);
	assert_memory_equal(out->pk, fx->ngo.sec[0]->pk, 32);
	assert_int_equal(out->not_before, FX_NOW);
	assert_int_equal(out->not_after, FX_NOW + FX_PREKEY_LIFE);
	prekey_destroy(&out);
	/* Every bit flipped, every truncation. */
	assert_non_null(copy = malloc(pk->raw_len));
	for (size_t i = 0; i < pk->raw_len; i++)
		for (unsigned b = 0; b < 8; b++) {
			int rc;
			memcpy(copy, pk->raw, pk->raw_len);
			copy[i] = (uint8_t)(copy[i] ^ (1u << b));
			rc = prekey_verify(fx->ngo.cert, copy, pk->raw_len,
			    FX_NOW, &out, &err);
			assert_true(rc < 0);
			assert_int_equal(err.code, -rc);
			assert_null(out);
			flips++;
		}
	assert_int_equal(flips, pk->raw_len * 8);
	for (size_t n = 0; n < pk->raw_len; n++) {
		assert_true(prekey_verify(fx->ngo.cert, pk->raw, n, FX_NOW,
				&out, NULL) < 0);
		assert_null(out);
	}
	free(copy);
	/* Wrong owner: another agency's key does not verify; the NGO's other
	 * certificate (same key) is not the owner named inside. */
	assert_int_equal(prekey_verify(fx->social.cert, pk->raw, pk->raw_len,
			     FX_NOW, &out, NULL),
	    -SIRA_EBADSIG);
	assert_int_equal(prekey_verify(fx->ngo2.cert, pk->raw, pk->raw_len,
			     FX_NOW, &out, NULL),
	    -SIRA_EPREKEY);
	/* Outside its validity; up to SIRA_CLOCK_SKEW early is tolerated,
	 * as for certificates (a verifier whose clock is a little slow). */
	assert_int_equal(prekey_verify(fx->ngo.cert, pk->raw, pk->raw_len,
			     FX_NOW - SIRA_CLOCK_SKEW, &out, NULL),
	    0);
	prekey_destroy(&out);
	assert_int_equal(prekey_verify(fx->ngo.cert, pk->raw, pk->raw_len,
			     FX_NOW - SIRA_CLOCK_SKEW - 1, &out, NULL),
	    -SIRA_EPREKEY);
	assert_int_equal(prekey_verify(fx->ngo.cert, pk->raw, pk->raw_len,
			     FX_NOW + FX_PREKEY_LIFE, &out, NULL),
	    0);
	prekey_destroy(&out);
	assert_int_equal(prekey_verify(fx->ngo.cert, pk->raw, pk->raw_len,
			     FX_NOW + FX_PREKEY_LIFE + 1, &out, NULL),
	    -SIRA_EPREKEY);
	/* Outliving the owner's certificate (which ends in two days). */
	assert_int_equal(fx_cert(fx, "ml.ngo.short", SIRA_ROLE_NGO, FX_AG_NB,
			     FX_NOW + 2 * FX_DAY, NULL, &shortlived),
	    0);
	assert_int_equal(
	    prekey_generate(
		&(struct prekey_owner){ shortlived.cert, shortlived.keys },
		FX_NOW, FX_PREKEY_LIFE, &gen, &sec, NULL),
	    0);
	assert_int_equal(gen->not_after, FX_NOW + 2 * FX_DAY); /* cut */
	prekey_destroy(&gen);
	prekey_secret_destroy(&sec);
	raw = make_prekey(shortlived.keys->sign_sk, SIRA_DS_PREKEY,
	    "ml.ngo.short", shortlived.cert->id, FX_NOW,
	    FX_NOW + 2 * FX_DAY + 1, 32, &len);
	assert_int_equal(
	    prekey_verify(shortlived.cert, raw, len, FX_NOW, &out, NULL),
	    -SIRA_EPREKEY);
	free(raw);
	raw = make_prekey(shortlived.keys->sign_sk, SIRA_DS_PREKEY,
	    "ml.ngo.short", shortlived.cert->id, FX_AG_NB - 1, FX_NOW + 60, 32,
	    &len);
	assert_int_equal(
	    prekey_verify(shortlived.cert, raw, len, FX_NOW, &out, NULL),
	    -SIRA_EPREKEY);
	free(raw);
	raw = make_prekey(shortlived.keys->sign_sk, SIRA_DS_PREKEY,
	    "ml.ngo.short", shortlived.cert->id, FX_NOW, FX_NOW + 2 * FX_DAY,
	    32, &len);
	assert_int_equal(
	    prekey_verify(shortlived.cert, raw, len, FX_NOW, &out, NULL), 0);
	prekey_destroy(&out);
	free(raw);
	/* No prekey once the certificate has ended. */
	assert_int_equal(
	    prekey_generate(
		&(struct prekey_owner){ shortlived.cert, shortlived.keys },
		FX_NOW + 2 * FX_DAY, FX_PREKEY_LIFE, &gen, &sec, NULL),
	    -SIRA_EEXPIRED);
	fx_agent_free(&shortlived);
	/* Signed for another purpose by the right key. */
	raw = make_prekey(fx->ngo.keys->sign_sk, SIRA_DS_MANIFEST,
	    fx->ngo.cert->agency_id, fx->ngo.cert->id, FX_NOW, FX_NOW + 60, 32,
	    &len);
	assert_int_equal(
	    prekey_verify(fx->ngo.cert, raw, len, FX_NOW, &out, NULL),
	    -SIRA_EBADSIG);
	free(raw);
	/* Signed and well formed, but a 33-byte X25519 key. */
	raw = make_prekey(fx->ngo.keys->sign_sk, SIRA_DS_PREKEY,
	    fx->ngo.cert->agency_id, fx->ngo.cert->id, FX_NOW, FX_NOW + 60, 33,
	    &len);
	assert_int_equal(
	    prekey_verify(fx->ngo.cert, raw, len, FX_NOW, &out, NULL),
	    -SIRA_EMALFORMED);
	free(raw);
	/* Another agency id inside, signed by the NGO. */
	raw = make_prekey(fx->ngo.keys->sign_sk, SIRA_DS_PREKEY,
	    fx->social.cert->agency_id, fx->ngo.cert->id, FX_NOW, FX_NOW + 60,
	    32, &len);
	assert_int_equal(
	    prekey_verify(fx->ngo.cert, raw, len, FX_NOW, &out, NULL),
	    -SIRA_EPREKEY);
	free(raw);
	/* An owner without PREKEY_SIGN (the broker), even for a prekey its
	 * own key signed. */
	raw = make_prekey(fx->broker.keys->sign_sk, SIRA_DS_PREKEY,
	    fx->broker.cert->agency_id, fx->broker.cert->id, FX_NOW,
	    FX_NOW + 60, 32, &len);
	assert_int_equal(
	    prekey_verify(fx->broker.cert, raw, len, FX_NOW, &out, &err),
	    -SIRA_EKEY_USAGE);
	assert_int_equal(err.code, SIRA_EKEY_USAGE);
	free(raw);
	assert_int_equal(
	    prekey_generate(
		&(struct prekey_owner){ fx->broker.cert, fx->broker.keys },
		FX_NOW, FX_PREKEY_LIFE, &gen, &sec, NULL),
	    -SIRA_EKEY_USAGE);
	assert_null(gen);
	assert_null(sec);
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
		cmocka_unit_test(test_round_trip_one),
		cmocka_unit_test(test_round_trip_ten),
		cmocka_unit_test(test_round_trip_empty),
		cmocka_unit_test(test_size_buckets),
		cmocka_unit_test(test_e1_header_fields),
		cmocka_unit_test(test_flip_every_byte),
		cmocka_unit_test(test_e2_body_wrap_nonce),
		cmocka_unit_test(test_e2_swap_and_move_wraps),
		cmocka_unit_test(test_e2_wrap_payload_fields),
		cmocka_unit_test(test_e3_replay_and_time),
		cmocka_unit_test(test_e4_not_recipient),
		cmocka_unit_test(test_e4_readdress),
		cmocka_unit_test(test_e4_header_list_differs),
		cmocka_unit_test(test_e5_sender_status),
		cmocka_unit_test(test_e6_wrong_signer_and_usage),
		cmocka_unit_test(test_e7_key_commitment),
		cmocka_unit_test(test_e8_seal_refuses_prekeys),
		cmocka_unit_test(test_e8_deleted_prekey_forward_secrecy),
		cmocka_unit_test(test_e10_padding),
		cmocka_unit_test(test_e10_bucket_property),
		cmocka_unit_test(test_e11_uniqueness),
		cmocka_unit_test(test_seal_params),
		cmocka_unit_test(test_recipient_limits),
		cmocka_unit_test(test_seal_finish_once),
		cmocka_unit_test(test_prekey_verify),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
