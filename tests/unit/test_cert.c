/*
 * test_cert.c: agency certificates and revocation lists, through the public
 * API of lib/cert.h and lib/crl.h (docs/PROTOCOL.md sections 4 and 5; the
 * design note's C1-C9). A CA and its agencies are built in memory from fixed
 * seeds, as certs/ca.c builds them. Hostile variants are made by hand (with
 * protobuf-c directly, or byte by byte) and signed by the real CA key, so
 * that every check after the signature is reached. Each rejection asserts
 * its exact SIRA_E* code and that the error context carries the same code.
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

#include "cert.h"
#include "cert.pb-c.h"
#include "clock.h"
#include "crl.h"
#include "digest.h"
#include "sigcache.h"
#include "sign.h"

#define CA_NB UINT64_C(1767225600)    /* 2026-01-01T00:00:00Z */
#define CA_NA UINT64_C(2082758400)    /* 2036-01-01T00:00:00Z */
#define AG_NB UINT64_C(1769904000)    /* 2026-02-01T00:00:00Z */
#define AG_NA UINT64_C(1801440000)    /* 2027-02-01T00:00:00Z */
#define NOW UINT64_C(1772409600)      /* 2026-03-02T00:00:00Z */
#define CRL_THIS UINT64_C(1772323200) /* 2026-03-01T00:00:00Z */
#define CRL_NEXT UINT64_C(1772928000) /* 2026-03-08T00:00:00Z */

#define CA_ID "ml.cnltp.ca"
#define CA_NAME "Comité national de lutte contre la traite des personnes"

struct key {
	uint8_t pk[SIRA_SIGN_PK_LEN];
	uint8_t sk[SIRA_SIGN_SK_LEN];
};

struct blob {
	uint8_t *p;
	size_t len;
};

/* The group fixture: one CA, two agencies, and a second, unrelated CA. */
struct fx {
	struct key ca_key, ag_key, ag2_key, other_key;
	struct blob ca_raw;
	struct cert *ca;
	struct cert ag_tmpl; /* police, serial 1 */
	struct blob ag_raw;
	struct cert ag2_tmpl; /* ngo, serial 2 */
	struct blob ag2_raw;
	struct blob other_raw;
	struct cert *other_ca; /* same agency id, another key */
};

/* ---- builders ---- */

static void
seed_key(struct key *k, uint8_t byte)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	memset(seed, byte, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
}

static struct cert
ca_tmpl(const uint8_t pk[static SIRA_SIGN_PK_LEN], const char *name)
{
	struct cert c;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", CA_ID);
	(void)snprintf(c.display_name, sizeof(c.display_name), "%s", name);
	c.role = SIRA_ROLE_COORDINATION;
	c.is_ca = true;
	c.key_usage = SIRA_KU_CA;
	c.not_before = CA_NB;
	c.not_after = CA_NA;
	memcpy(c.sign_pk, pk, SIRA_SIGN_PK_LEN);
	return c;
}

static struct cert
agency_tmpl(const struct cert *ca, const struct key *k, uint64_t serial,
    const char *id, enum sira_role role)
{
	struct cert c;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", id);
	(void)snprintf(
	    c.display_name, sizeof(c.display_name), "Brigade des mœurs");
	c.serial = serial;
	memcpy(c.issuer_id, ca->id, SIRA_HASH_LEN);
	c.role = role;
	c.key_usage = cert_role_usage(role, false);
	c.not_before = AG_NB;
	c.not_after = AG_NA;
	memcpy(c.sign_pk, k->pk, SIRA_SIGN_PK_LEN);
	c.has_transport = true;
	memset(c.transport_pk, (int)(0x40 + serial), SIRA_CURVE_KEY_LEN);
	return c;
}

/* Sign tbs for purpose with sk and wrap it as a Certificate. */
static struct blob
wrap(const uint8_t *tbs, size_t len, const uint8_t *sk, const char *purpose)
{
	uint8_t sig[SIRA_SIG_LEN];
	struct blob b;

	assert_int_equal(sign_detached(sk, purpose, tbs, len, sig), 0);
	assert_int_equal(cert_encode(tbs, len, sig, &b.p, &b.len, NULL), 0);
	return b;
}

/* Encode c (which must pass the field rules) and sign it with sk. */
static struct blob
issue(const struct cert *c, const uint8_t *sk)
{
	uint8_t *tbs;
	size_t len;
	struct blob b;

	assert_int_equal(cert_encode_tbs(c, &tbs, &len, NULL), 0);
	b = wrap(tbs, len, sk, SIRA_DS_CERT);
	free(tbs);
	return b;
}

static struct blob
pack(const ProtobufCMessage *m)
{
	struct blob b;

	b.len = protobuf_c_message_get_packed_size(m);
	b.p = malloc(b.len > 0 ? b.len : 1);
	assert_non_null(b.p);
	assert_int_equal(protobuf_c_message_pack(m, b.p), b.len);
	return b;
}

/* c as a protobuf-c CertTBS pointing into c, free of any field check. */
static void
tbs_of(const struct cert *c, Sira__V1__CertTBS *t)
{
	sira__v1__cert_tbs__init(t);
	t->version = SIRA_CERT_VERSION;
	t->serial = c->serial;
	if (!c->is_ca) {
		t->issuer_id.data = (uint8_t *)(uintptr_t)c->issuer_id;
		t->issuer_id.len = SIRA_HASH_LEN;
	}
	t->agency_id = (char *)(uintptr_t)c->agency_id;
	t->display_name = (char *)(uintptr_t)c->display_name;
	t->role = (Sira__V1__Role)c->role;
	t->not_before = c->not_before;
	t->not_after = c->not_after;
	t->is_ca = c->is_ca;
	t->key_usage = c->key_usage;
	t->sign_pk.data = (uint8_t *)(uintptr_t)c->sign_pk;
	t->sign_pk.len = SIRA_SIGN_PK_LEN;
	if (c->has_transport) {
		t->transport_pk.data = (uint8_t *)(uintptr_t)c->transport_pk;
		t->transport_pk.len = SIRA_CURVE_KEY_LEN;
	}
}

/* Pack t as it stands and sign it as a certificate with sk. */
static struct blob
issue_raw(const Sira__V1__CertTBS *t, const uint8_t *sk)
{
	struct blob tbs = pack(&t->base), b;

	b = wrap(tbs.p, tbs.len, sk, SIRA_DS_CERT);
	free(tbs.p);
	return b;
}

static struct blob
copy_blob(const uint8_t *p, size_t len)
{
	struct blob b;

	b.p = malloc(len > 0 ? len : 1);
	assert_non_null(b.p);
	if (len > 0)
		memcpy(b.p, p, len);
	b.len = len;
	return b;
}

static struct blob
make_crl_tbs_signed(
    const uint8_t *tbs, size_t len, const uint8_t *sk, const char *purpose)
{
	uint8_t sig[SIRA_SIG_LEN];
	struct blob b;

	assert_int_equal(sign_detached(sk, purpose, tbs, len, sig), 0);
	assert_int_equal(crl_encode(tbs, len, sig, &b.p, &b.len, NULL), 0);
	return b;
}

/* A CRL of ca (by issuer id) signed by sk, built with crl_encode_tbs. */
static struct blob
make_crl(const uint8_t issuer[static SIRA_HASH_LEN], const uint8_t *sk,
    uint64_t seq, uint64_t this_u, uint64_t next_u, const struct crl_entry *e,
    size_t n)
{
	uint8_t *tbs;
	size_t len;
	struct blob b;

	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ issuer, seq,
					    this_u, next_u, e, n },
			     &tbs, &len, NULL),
	    0);
	b = make_crl_tbs_signed(tbs, len, sk, SIRA_DS_CRL);
	free(tbs);
	return b;
}

static struct crl *
load_crl(const struct cert *ca, struct blob b)
{
	struct crl *l = NULL;
	struct sira_err err;

	assert_int_equal(crl_verify(ca, b.p, b.len, &l, &err), 0);
	assert_non_null(l);
	return l;
}

/* ---- expectations ---- */

static void
check_err(int rc, int want, const struct sira_err *err)
{
	assert_int_equal(rc, want);
	assert_int_equal(err->code, -want);
}

static void
expect_verify(const struct cert *ca, const struct crl *crl, struct blob b,
    uint64_t now, int want)
{
	struct cert *c = NULL;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = cert_verify(ca, crl, bytes_of(b.p, b.len), now, &c, &err);
	check_err(rc, want, &err);
	if (want == 0)
		assert_non_null(c);
	else
		assert_null(c);
	cert_destroy(&c);
}

static void
expect_load_ca(struct blob b, uint64_t now, int want)
{
	struct cert *c = NULL;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = cert_load_ca(b.p, b.len, now, &c, &err);
	check_err(rc, want, &err);
	if (want == 0)
		assert_non_null(c);
	else
		assert_null(c);
	cert_destroy(&c);
}

static void
expect_crl(const struct cert *ca, struct blob b, int want)
{
	struct crl *l = NULL;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = crl_verify(ca, b.p, b.len, &l, &err);
	check_err(rc, want, &err);
	if (want == 0)
		assert_non_null(l);
	else
		assert_null(l);
	crl_destroy(&l);
}

/* Verify a certificate made from t, signed by the fixture CA. */
static void
expect_raw_tbs(const struct fx *f, const Sira__V1__CertTBS *t, int want)
{
	struct blob b = issue_raw(t, f->ca_key.sk);

	expect_verify(f->ca, NULL, b, NOW, want);
	free(b.p);
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cert c;

	if (f == NULL)
		return -1;
	seed_key(&f->ca_key, 0x01);
	seed_key(&f->ag_key, 0x02);
	seed_key(&f->ag2_key, 0x03);
	seed_key(&f->other_key, 0x04);
	c = ca_tmpl(f->ca_key.pk, CA_NAME);
	f->ca_raw = issue(&c, f->ca_key.sk);
	if (cert_load_ca(f->ca_raw.p, f->ca_raw.len, NOW, &f->ca, NULL) != 0)
		return -1;
	f->ag_tmpl = agency_tmpl(
	    f->ca, &f->ag_key, 1, "ml.police.bamako", SIRA_ROLE_POLICE);
	f->ag_raw = issue(&f->ag_tmpl, f->ca_key.sk);
	f->ag2_tmpl =
	    agency_tmpl(f->ca, &f->ag2_key, 2, "ml.ngo.espoir", SIRA_ROLE_NGO);
	(void)snprintf(f->ag2_tmpl.display_name,
	    sizeof(f->ag2_tmpl.display_name), "Foyer « Espoir »");
	f->ag2_raw = issue(&f->ag2_tmpl, f->ca_key.sk);
	c = ca_tmpl(f->other_key.pk, CA_NAME);
	f->other_raw = issue(&c, f->other_key.sk);
	if (cert_load_ca(
		f->other_raw.p, f->other_raw.len, NOW, &f->other_ca, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cert_destroy(&f->ca);
	cert_destroy(&f->other_ca);
	free(f->ca_raw.p);
	free(f->ag_raw.p);
	free(f->ag2_raw.p);
	free(f->other_raw.p);
	free(f);
	return 0;
}

/* ---- certificates ---- */

static void
test_valid_cert_verifies(void **state)
{
	const struct fx *f = *state;
	const struct cert *t = &f->ag_tmpl;
	struct cert *c = NULL, *u = NULL;
	struct sira_err err;
	uint8_t *tbs, id[SIRA_HASH_LEN];
	size_t tbslen;
	char fp[65], want[65];

	assert_true(f->ca->is_ca);
	assert_int_equal(f->ca->serial, 0);
	assert_int_equal(f->ca->key_usage, SIRA_KU_CA);
	assert_string_equal(f->ca->display_name, CA_NAME);
	assert_memory_equal(f->ca->sign_pk, f->ca_key.pk, SIRA_SIGN_PK_LEN);
	assert_int_equal(f->ca->raw_len, f->ca_raw.len);
	assert_memory_equal(f->ca->raw, f->ca_raw.p, f->ca_raw.len);

	sira_err_clear(&err);
	assert_int_equal(
	    cert_verify(f->ca, NULL, bytes_of(f->ag_raw.p, f->ag_raw.len), NOW,
		&c, &err),
	    0);
	assert_non_null(c);
	assert_int_equal(err.code, 0);
	assert_string_equal(c->agency_id, "ml.police.bamako");
	assert_string_equal(c->display_name, "Brigade des mœurs");
	assert_int_equal(c->serial, 1);
	assert_int_equal(c->role, SIRA_ROLE_POLICE);
	assert_false(c->is_ca);
	assert_int_equal(c->key_usage, SIRA_KU_AGENCY);
	assert_int_equal(c->not_before, AG_NB);
	assert_int_equal(c->not_after, AG_NA);
	assert_memory_equal(c->issuer_id, f->ca->id, SIRA_HASH_LEN);
	assert_memory_equal(c->sign_pk, f->ag_key.pk, SIRA_SIGN_PK_LEN);
	assert_true(c->has_transport);
	assert_memory_equal(c->transport_pk, t->transport_pk, 32);
	assert_int_equal(c->raw_len, f->ag_raw.len);
	assert_memory_equal(c->raw, f->ag_raw.p, f->ag_raw.len);

	/* cert_id is the domain-separated hash of tbs, excluding sig. */
	assert_int_equal(cert_encode_tbs(t, &tbs, &tbslen, NULL), 0);
	cert_id_of(tbs, tbslen, id);
	assert_memory_equal(c->id, id, SIRA_HASH_LEN);
	{
		struct digest_part part = { tbs, tbslen };
		digest_lp(id, SIRA_DH_CERT_ID, &part, 1);
		assert_memory_equal(c->id, id, SIRA_HASH_LEN);
	}
	free(tbs);
	cert_fingerprint(c, fp);
	(void)sodium_bin2hex(want, sizeof(want), c->id, SIRA_HASH_LEN);
	assert_string_equal(fp, want);

	/* The display-only decoder sees the same certificate. */
	assert_int_equal(
	    cert_unsafe_decode(f->ag_raw.p, f->ag_raw.len, &u, NULL), 0);
	assert_memory_equal(u->id, c->id, SIRA_HASH_LEN);
	cert_destroy(&u);
	cert_destroy(&c);
	cert_destroy(&c); /* idempotent */
	assert_null(c);
	cert_destroy(NULL);

	/* The second agency, with a broker-less role, verifies too. */
	expect_verify(f->ca, NULL, f->ag2_raw, NOW, 0);
}

/*
 * Offsets of the payloads in a { bytes tbs = 1; bytes sig = 2; } wrapper
 * as protobuf-c packs it: the tbs payload and the sig payload.
 */
static void
wrapper_layout(
    const struct blob *b, size_t *tbs_off, size_t *tbs_len, size_t *sig_off)
{
	size_t i = 1, shift = 0, len = 0;

	assert_int_equal(b->p[0], 0x0a);
	while (b->p[i] & 0x80) {
		len |= (size_t)(b->p[i] & 0x7f) << shift;
		shift += 7;
		i++;
	}
	len |= (size_t)b->p[i] << shift;
	i++;
	*tbs_off = i;
	*tbs_len = len;
	assert_int_equal(b->p[i + len], 0x12);
	assert_int_equal(b->p[i + len + 1], SIRA_SIG_LEN);
	*sig_off = i + len + 2;
	assert_int_equal(*sig_off + SIRA_SIG_LEN, b->len);
}

/* C1: every single-bit change of a certificate is refused. */
static void
test_flip_every_bit(void **state)
{
	const struct fx *f = *state;
	struct blob b = copy_blob(f->ag_raw.p, f->ag_raw.len);
	size_t tbs_off, tbs_len, sig_off;
	struct cert *c;
	struct sira_err err;

	wrapper_layout(&b, &tbs_off, &tbs_len, &sig_off);
	for (size_t i = 0; i < b.len; i++) {
		bool payload =
		    (i >= tbs_off && i < tbs_off + tbs_len) || i >= sig_off;
		/* The signature covers the payloads; the rest is framing. */
		int want = payload ? -SIRA_EBADSIG : -SIRA_EMALFORMED;

		for (int bit = 0; bit < 8; bit++) {
			int rc;

			b.p[i] ^= (uint8_t)(1u << bit);
			c = NULL;
			sira_err_clear(&err);
			rc = cert_verify(
			    f->ca, NULL, bytes_of(b.p, b.len), NOW, &c, &err);
			if (rc != want)
				print_error(
				    "byte %zu bit %d: rc %d\n", i, bit, rc);
			check_err(rc, want, &err);
			assert_null(c);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Unchanged, it still verifies. */
	expect_verify(f->ca, NULL, b, NOW, 0);
	free(b.p);
}

/* The CA certificate is parsed before its self-signature is checked. */
static void
test_flip_every_bit_ca(void **state)
{
	const struct fx *f = *state;
	struct blob b = copy_blob(f->ca_raw.p, f->ca_raw.len);
	struct cert *c;

	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			b.p[i] ^= (uint8_t)(1u << bit);
			c = NULL;
			rc = cert_load_ca(b.p, b.len, NOW, &c, NULL);
			if (!(rc == -SIRA_EBADSIG || rc == -SIRA_EMALFORMED ||
				rc == -SIRA_EVERSION || rc == -SIRA_EKEY_USAGE))
				print_error(
				    "byte %zu bit %d: rc %d\n", i, bit, rc);
			assert_true(rc == -SIRA_EBADSIG ||
			    rc == -SIRA_EMALFORMED || rc == -SIRA_EVERSION ||
			    rc == -SIRA_EKEY_USAGE);
			assert_null(c);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	expect_load_ca(b, NOW, 0);
	free(b.p);
}

/* C1: a valid signature from another certificate does not transfer. */
static void
test_swapped_signature(void **state)
{
	const struct fx *f = *state;
	struct blob a = copy_blob(f->ag_raw.p, f->ag_raw.len);
	struct blob b = copy_blob(f->ag2_raw.p, f->ag2_raw.len);
	struct blob ca = copy_blob(f->ca_raw.p, f->ca_raw.len);
	uint8_t tmp[SIRA_SIG_LEN];

	memcpy(tmp, a.p + a.len - SIRA_SIG_LEN, SIRA_SIG_LEN);
	memcpy(a.p + a.len - SIRA_SIG_LEN, b.p + b.len - SIRA_SIG_LEN,
	    SIRA_SIG_LEN);
	memcpy(b.p + b.len - SIRA_SIG_LEN, tmp, SIRA_SIG_LEN);
	expect_verify(f->ca, NULL, a, NOW, -SIRA_EBADSIG);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EBADSIG);
	/* The CA's own (valid) self-signature on an agency's tbs. */
	memcpy(a.p + a.len - SIRA_SIG_LEN, ca.p + ca.len - SIRA_SIG_LEN,
	    SIRA_SIG_LEN);
	expect_verify(f->ca, NULL, a, NOW, -SIRA_EBADSIG);
	/* An agency's signature on the CA's tbs. */
	memcpy(ca.p + ca.len - SIRA_SIG_LEN, tmp, SIRA_SIG_LEN);
	expect_load_ca(ca, NOW, -SIRA_EBADSIG);
	free(a.p);
	free(b.p);
	free(ca.p);
}

static void
test_wrong_ca(void **state)
{
	const struct fx *f = *state;
	struct cert c, *same_key = NULL;
	struct blob b, other_issued;

	/* Another CA (another key) did not sign it. */
	expect_verify(f->other_ca, NULL, f->ag_raw, NOW, -SIRA_EBADSIG);

	/* Issued by the other CA, presented to ours. */
	c = agency_tmpl(
	    f->other_ca, &f->ag_key, 1, "ml.police.bamako", SIRA_ROLE_POLICE);
	other_issued = issue(&c, f->other_key.sk);
	expect_verify(f->other_ca, NULL, other_issued, NOW, 0);
	expect_verify(f->ca, NULL, other_issued, NOW, -SIRA_EBADSIG);

	/*
	 * Same key, another CA certificate (so another cert_id): the
	 * signature verifies but the issuer named in tbs is not this CA.
	 */
	c = ca_tmpl(f->ca_key.pk, "Autre autorité");
	b = issue(&c, f->ca_key.sk);
	assert_int_equal(cert_load_ca(b.p, b.len, NOW, &same_key, NULL), 0);
	expect_verify(same_key, NULL, f->ag_raw, NOW, -SIRA_EUNKNOWN_CA);
	cert_destroy(&same_key);
	free(b.p);
	free(other_issued.p);
}

/* C8: a signature made for another purpose is no certificate signature. */
static void
test_domain_separation(void **state)
{
	const struct fx *f = *state;
	static const char *const purposes[] = { SIRA_DS_CRL, SIRA_DS_PREKEY,
		SIRA_DS_MANIFEST, SIRA_DS_RECEIPT, SIRA_DS_CHECKPOINT };
	struct cert ca = ca_tmpl(f->ca_key.pk, CA_NAME);
	uint8_t *tbs, *catbs;
	size_t len, calen;
	struct blob b;

	assert_int_equal(cert_encode_tbs(&f->ag_tmpl, &tbs, &len, NULL), 0);
	assert_int_equal(cert_encode_tbs(&ca, &catbs, &calen, NULL), 0);
	for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		b = wrap(tbs, len, f->ca_key.sk, purposes[i]);
		expect_verify(f->ca, NULL, b, NOW, -SIRA_EBADSIG);
		free(b.p);
		b = wrap(catbs, calen, f->ca_key.sk, purposes[i]);
		expect_load_ca(b, NOW, -SIRA_EBADSIG);
		free(b.p);
	}
	/* Control: the same bytes signed for "cert" are accepted. */
	b = wrap(tbs, len, f->ca_key.sk, SIRA_DS_CERT);
	assert_int_equal(b.len, f->ag_raw.len);
	assert_memory_equal(b.p, f->ag_raw.p, b.len);
	expect_verify(f->ca, NULL, b, NOW, 0);
	free(b.p);
	/* And a CRL signed for "cert" is no CRL. */
	{
		uint8_t *ctbs;
		size_t clen;

		assert_int_equal(
		    crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1, CRL_THIS,
				       CRL_NEXT, NULL, 0 },
			&ctbs, &clen, NULL),
		    0);
		b = make_crl_tbs_signed(ctbs, clen, f->ca_key.sk, SIRA_DS_CERT);
		expect_crl(f->ca, b, -SIRA_EBADSIG);
		free(b.p);
		b = make_crl_tbs_signed(
		    ctbs, clen, f->ca_key.sk, SIRA_DS_RECEIPT);
		expect_crl(f->ca, b, -SIRA_EBADSIG);
		free(b.p);
		free(ctbs);
	}
	free(tbs);
	free(catbs);
}

/* ---- hand-made encodings (C5) ---- */

struct field {
	uint8_t b[300];
	size_t len;
};

struct fields {
	struct field f[24];
	size_t n;
};

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		uint8_t byte = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			byte |= 0x80;
		p[n++] = byte;
	} while (v != 0);
	return n;
}

static struct field
fv(uint32_t num, uint64_t v)
{
	struct field f;

	f.len = put_varint(f.b, (uint64_t)num << 3);
	f.len += put_varint(f.b + f.len, v);
	return f;
}

static struct field
fb(uint32_t num, const void *p, size_t len)
{
	struct field f;

	assert_true(len < sizeof(f.b) - 12);
	f.len = put_varint(f.b, ((uint64_t)num << 3) | 2);
	f.len += put_varint(f.b + f.len, len);
	memcpy(f.b + f.len, p, len);
	f.len += len;
	return f;
}

/* Raw bytes as a field (for non-minimal and other odd encodings). */
static struct field
fraw(const void *p, size_t len)
{
	struct field f;

	memcpy(f.b, p, len);
	f.len = len;
	return f;
}

static void
add(struct fields *fs, struct field f)
{
	assert_true(fs->n < sizeof(fs->f) / sizeof(fs->f[0]));
	fs->f[fs->n++] = f;
}

/* Insert f before position i. */
static void
insert(struct fields *fs, size_t i, struct field f)
{
	assert_true(fs->n < sizeof(fs->f) / sizeof(fs->f[0]) && i <= fs->n);
	memmove(&fs->f[i + 1], &fs->f[i], (fs->n - i) * sizeof(fs->f[0]));
	fs->f[i] = f;
	fs->n++;
}

/* The canonical CertTBS of c, field by field, as protobuf-c writes it. */
static void
cert_fields(const struct cert *c, struct fields *fs)
{
	fs->n = 0;
	add(fs, fv(1, SIRA_CERT_VERSION));
	if (c->serial != 0)
		add(fs, fv(2, c->serial));
	if (!c->is_ca)
		add(fs, fb(3, c->issuer_id, SIRA_HASH_LEN));
	add(fs, fb(4, c->agency_id, strlen(c->agency_id)));
	add(fs, fb(5, c->display_name, strlen(c->display_name)));
	add(fs, fv(6, (uint64_t)c->role));
	add(fs, fv(7, c->not_before));
	add(fs, fv(8, c->not_after));
	if (c->is_ca)
		add(fs, fv(9, 1));
	add(fs, fv(10, c->key_usage));
	add(fs, fb(11, c->sign_pk, SIRA_SIGN_PK_LEN));
	if (c->has_transport)
		add(fs, fb(12, c->transport_pk, SIRA_CURVE_KEY_LEN));
}

static struct blob
join(const struct fields *fs)
{
	struct blob b;
	size_t len = 0;

	for (size_t i = 0; i < fs->n; i++)
		len += fs->f[i].len;
	b.p = malloc(len);
	assert_non_null(b.p);
	b.len = 0;
	for (size_t i = 0; i < fs->n; i++) {
		memcpy(b.p + b.len, fs->f[i].b, fs->f[i].len);
		b.len += fs->f[i].len;
	}
	return b;
}

/* The fields of an agency certificate, signed by the CA, must give want. */
static void
expect_fields(const struct fx *f, const struct fields *fs, int want)
{
	struct blob tbs = join(fs), b;
	struct cert *c = NULL;

	b = wrap(tbs.p, tbs.len, f->ca_key.sk, SIRA_DS_CERT);
	expect_verify(f->ca, NULL, b, NOW, want);
	/* The display-only decoder applies the same canonical check. */
	assert_int_equal(cert_unsafe_decode(b.p, b.len, &c, NULL),
	    want == 0 ? 0 : -SIRA_EMALFORMED);
	cert_destroy(&c);
	free(b.p);
	free(tbs.p);
}

/* The same for the CA's self-signed certificate. */
static void
expect_ca_fields(const struct fx *f, const struct fields *fs, int want)
{
	struct blob tbs = join(fs), b;

	b = wrap(tbs.p, tbs.len, f->ca_key.sk, SIRA_DS_CERT);
	expect_load_ca(b, NOW, want);
	free(b.p);
	free(tbs.p);
}

/*
 * C5: re-encodings with the same meaning are refused by the canonical
 * check, even though the CA signed them, so a certificate (and a revoked
 * one in particular) cannot get a second cert_id.
 */
static void
test_canonical_reencodings(void **state)
{
	const struct fx *f = *state;
	const struct cert *c = &f->ag_tmpl;
	struct cert ca = ca_tmpl(f->ca_key.pk, CA_NAME);
	struct fields base, fs;
	struct blob tbs;
	uint8_t *want;
	size_t wantlen;

	/* Control: the hand encoder writes exactly what the library writes. */
	cert_fields(c, &base);
	tbs = join(&base);
	assert_int_equal(cert_encode_tbs(c, &want, &wantlen, NULL), 0);
	assert_int_equal(tbs.len, wantlen);
	assert_memory_equal(tbs.p, want, wantlen);
	free(want);
	free(tbs.p);
	expect_fields(f, &base, 0);

	/* An unknown field appended, as a varint and as bytes. */
	fs = base;
	add(&fs, fv(99, 1));
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	add(&fs, fb(13, "x", 1));
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	/* An unknown field in the middle. */
	fs = base;
	insert(&fs, 3, fv(20, 0));
	expect_fields(f, &fs, -SIRA_EMALFORMED);

	/* A field duplicated: the same agency_id twice, version twice. */
	fs = base;
	add(&fs, fs.f[3]);
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	insert(&fs, 0, fv(1, SIRA_CERT_VERSION));
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	/* Two versions, the last one winning in protobuf-c. */
	fs = base;
	insert(&fs, 0, fv(1, 2));
	expect_fields(f, &fs, -SIRA_EMALFORMED);

	/* Non-minimal varints: a value, a tag, and a length prefix. */
	fs = base;
	fs.f[0] = fraw("\x08\x81\x00", 3);
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	fs.f[0] = fraw("\x88\x00\x01", 3);
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	{
		struct field g;
		size_t idlen = strlen(c->agency_id);

		g.b[0] = 0x22;
		g.b[1] = (uint8_t)(0x80 | idlen);
		g.b[2] = 0x00;
		memcpy(g.b + 3, c->agency_id, idlen);
		g.len = 3 + idlen;
		fs.f[3] = g;
	}
	expect_fields(f, &fs, -SIRA_EMALFORMED);

	/* Explicit default values: is_ca = false, and an empty string. */
	fs = base;
	insert(&fs, 8, fv(9, 0));
	expect_fields(f, &fs, -SIRA_EMALFORMED);
	/* serial written with a non-minimal zero-padded varint */
	fs = base;
	fs.f[1] = fraw("\x10\x81\x80\x00", 4);
	expect_fields(f, &fs, -SIRA_EMALFORMED);

	/* Fields out of order: display_name before agency_id. */
	fs = base;
	{
		struct field t = fs.f[3];
		fs.f[3] = fs.f[4];
		fs.f[4] = t;
	}
	expect_fields(f, &fs, -SIRA_EMALFORMED);

	/* A bool written as 2, a uint32 written with high bits set. */
	cert_fields(&ca, &base);
	expect_ca_fields(f, &base, 0);
	fs = base;
	fs.f[6] = fv(9, 2);
	expect_ca_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	fs.f[0] = fv(1, (UINT64_C(1) << 32) | SIRA_CERT_VERSION);
	expect_ca_fields(f, &fs, -SIRA_EMALFORMED);
	/* The CA's serial 0 and empty transport key written out. */
	fs = base;
	insert(&fs, 1, fv(2, 0));
	expect_ca_fields(f, &fs, -SIRA_EMALFORMED);
	fs = base;
	add(&fs, fb(12, "", 0));
	expect_ca_fields(f, &fs, -SIRA_EMALFORMED);
	/* An explicit empty issuer_id in the CA certificate. */
	fs = base;
	insert(&fs, 1, fb(3, "", 0));
	expect_ca_fields(f, &fs, -SIRA_EMALFORMED);
}

/* The Certificate wrapper itself must be canonical too. */
static void
test_canonical_wrapper(void **state)
{
	const struct fx *f = *state;
	size_t tbs_off, tbs_len, sig_off;
	struct fields fs;
	struct blob b;

	wrapper_layout(&f->ag_raw, &tbs_off, &tbs_len, &sig_off);
	/* sig before tbs */
	fs.n = 0;
	add(&fs, fb(2, f->ag_raw.p + sig_off, SIRA_SIG_LEN));
	add(&fs, fb(1, f->ag_raw.p + tbs_off, tbs_len));
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	/* an unknown field after sig */
	fs.n = 0;
	add(&fs, fb(1, f->ag_raw.p + tbs_off, tbs_len));
	add(&fs, fb(2, f->ag_raw.p + sig_off, SIRA_SIG_LEN));
	add(&fs, fv(3, 7));
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	/* sig twice */
	fs.n = 2;
	add(&fs, fb(2, f->ag_raw.p + sig_off, SIRA_SIG_LEN));
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	/* a 63- and a 65-byte signature, an empty tbs */
	fs.n = 1;
	add(&fs, fb(2, f->ag_raw.p + sig_off, SIRA_SIG_LEN - 1));
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	fs.n = 1;
	{
		uint8_t sig[SIRA_SIG_LEN + 1] = { 0 };
		memcpy(sig, f->ag_raw.p + sig_off, SIRA_SIG_LEN);
		add(&fs, fb(2, sig, sizeof(sig)));
	}
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	fs.n = 0;
	add(&fs, fb(2, f->ag_raw.p + sig_off, SIRA_SIG_LEN));
	b = join(&fs);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
}

/* C3 and the clock skew at the boundaries. */
static void
test_validity_windows(void **state)
{
	const struct fx *f = *state;
	struct cert c;
	struct blob b;

	expect_verify(f->ca, NULL, f->ag_raw, AG_NB - SIRA_CLOCK_SKEW, 0);
	expect_verify(f->ca, NULL, f->ag_raw, AG_NB - SIRA_CLOCK_SKEW - 1,
	    -SIRA_ENOTYETVALID);
	expect_verify(f->ca, NULL, f->ag_raw, AG_NB, 0);
	expect_verify(f->ca, NULL, f->ag_raw, AG_NA, 0);
	/* No skew past the end: expiry is not negotiable. */
	expect_verify(f->ca, NULL, f->ag_raw, AG_NA + 1, -SIRA_EEXPIRED);
	expect_verify(f->ca, NULL, f->ag_raw, 0, -SIRA_ENOTYETVALID);
	expect_verify(f->ca, NULL, f->ag_raw, UINT32_MAX, -SIRA_EEXPIRED);

	/* The CA certificate's own window, at load. */
	expect_load_ca(f->ca_raw, CA_NB - SIRA_CLOCK_SKEW, 0);
	expect_load_ca(
	    f->ca_raw, CA_NB - SIRA_CLOCK_SKEW - 1, -SIRA_ENOTYETVALID);
	expect_load_ca(f->ca_raw, CA_NA, 0);
	expect_load_ca(f->ca_raw, CA_NA + 1, -SIRA_EEXPIRED);

	/*
	 * The CA expired after it was loaded: a certificate that lasts as
	 * long as the CA is refused once the CA is past its end.
	 */
	c = f->ag_tmpl;
	c.not_after = CA_NA;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, CA_NA, 0);
	expect_verify(f->ca, NULL, b, CA_NA + 1, -SIRA_EEXPIRED);
	free(b.p);
	/* An expired CA is reported as such before anything else. */
	c = f->ag_tmpl;
	c.not_after = CA_NA + 1000;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, CA_NA + 1, -SIRA_EEXPIRED);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);

	/* Child windows outside the CA's, at a time both are valid. */
	c = f->ag_tmpl;
	c.not_before = CA_NB - 1;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	c = f->ag_tmpl;
	c.not_after = CA_NA + 1;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	c = f->ag_tmpl;
	c.not_before = CA_NB;
	c.not_after = CA_NA;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, NOW, 0);
	free(b.p);

	/* A window that ends before it starts: encoder and verifier refuse. */
	c = f->ag_tmpl;
	c.not_before = AG_NA;
	c.not_after = AG_NB;
	{
		Sira__V1__CertTBS t;
		uint8_t *tbs = NULL;
		size_t len;

		assert_int_equal(
		    cert_encode_tbs(&c, &tbs, &len, NULL), -SIRA_EMALFORMED);
		assert_null(tbs);
		tbs_of(&c, &t);
		expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	}
	/* A one-second window is fine. */
	c = f->ag_tmpl;
	c.not_before = NOW;
	c.not_after = NOW;
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, NOW, 0);
	expect_verify(f->ca, NULL, b, NOW + 1, -SIRA_EEXPIRED);
	free(b.p);
}

static void
test_key_usage_role(void **state)
{
	const struct fx *f = *state;
	struct cert c;
	struct sira_err err;
	Sira__V1__CertTBS t;
	uint8_t *tbs = NULL;
	size_t len;
	struct blob b;
	static const struct {
		enum sira_role role;
		uint32_t usage;
		bool transport;
	} bad[] = {
		{ SIRA_ROLE_POLICE, SIRA_KU_BROKER, true },
		{ SIRA_ROLE_POLICE, SIRA_KU_AGENCY | SIRA_KU_CERT_SIGN, true },
		{ SIRA_ROLE_JUSTICE, SIRA_KU_AGENCY | SIRA_KU_LOG_SIGN, true },
		{ SIRA_ROLE_NGO, SIRA_KU_AGENCY & ~SIRA_KU_TRANSPORT, false },
		{ SIRA_ROLE_SOCIAL_SERVICES, SIRA_KU_CA, false },
		{ SIRA_ROLE_COORDINATION, SIRA_KU_CRL_SIGN | SIRA_KU_TRANSPORT,
		    true },
		{ SIRA_ROLE_BROKER, SIRA_KU_AGENCY, true },
		{ SIRA_ROLE_BROKER, SIRA_KU_TRANSPORT, true },
		{ SIRA_ROLE_POLICE, 0, false },
		{ SIRA_ROLE_POLICE, 0xff, true },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = f->ag_tmpl;
		c.role = bad[i].role;
		c.key_usage = bad[i].usage;
		c.has_transport = bad[i].transport;
		/*
		 * The encoder refuses it with the verifier's code (lib/cert.h
		 * promises -SIRA_EINVAL; the field checks are shared).
		 */
		sira_err_clear(&err);
		check_err(cert_encode_tbs(&c, &tbs, &len, &err),
		    -SIRA_EKEY_USAGE, &err);
		tbs_of(&c, &t);
		expect_raw_tbs(f, &t, -SIRA_EKEY_USAGE);
	}
	/* Controls: each role with its own usage is accepted. */
	for (int r = SIRA_ROLE_POLICE; r <= SIRA_ROLE_MAX; r++) {
		c = f->ag_tmpl;
		c.role = (enum sira_role)r;
		c.key_usage = cert_role_usage(c.role, false);
		c.has_transport = true;
		b = issue(&c, f->ca_key.sk);
		expect_verify(f->ca, NULL, b, NOW, 0);
		free(b.p);
	}
	assert_int_equal(cert_role_usage(SIRA_ROLE_BROKER, false),
	    SIRA_KU_LOG_SIGN | SIRA_KU_TRANSPORT);
	assert_int_equal(cert_role_usage(SIRA_ROLE_NGO, false),
	    SIRA_KU_ENVELOPE_SIGN | SIRA_KU_RECEIPT_SIGN | SIRA_KU_PREKEY_SIGN |
		SIRA_KU_TRANSPORT);
	assert_int_equal(cert_role_usage(SIRA_ROLE_COORDINATION, true),
	    SIRA_KU_CERT_SIGN | SIRA_KU_CRL_SIGN);

	/* A CA certificate is no agency certificate, and the reverse. */
	expect_verify(f->ca, NULL, f->ca_raw, NOW, -SIRA_EKEY_USAGE);
	expect_load_ca(f->ag_raw, NOW, -SIRA_EKEY_USAGE);
	/* A second CA certificate signed by the CA. */
	c = ca_tmpl(f->ag_key.pk, "Sous-autorité");
	b = issue(&c, f->ca_key.sk);
	expect_verify(f->ca, NULL, b, NOW, -SIRA_EKEY_USAGE);
	free(b.p);
	/* A CA certificate with more than CERT_SIGN|CRL_SIGN. */
	c = ca_tmpl(f->ca_key.pk, CA_NAME);
	c.key_usage = SIRA_KU_CA | SIRA_KU_ENVELOPE_SIGN;
	tbs_of(&c, &t);
	{
		struct blob tb = pack(&t.base);
		b = wrap(tb.p, tb.len, f->ca_key.sk, SIRA_DS_CERT);
		expect_load_ca(b, NOW, -SIRA_EKEY_USAGE);
		free(b.p);
		free(tb.p);
	}
}

/*
 * C2: the issuer must be a CA with CERT_SIGN. An agency certificate used
 * as the "CA" must not make certificates its key signed acceptable.
 */
static void
test_issuer_must_be_ca(void **state)
{
	const struct fx *f = *state;
	struct cert *ag = NULL, c;
	struct blob b;

	assert_int_equal(
	    cert_verify(f->ca, NULL, bytes_of(f->ag_raw.p, f->ag_raw.len), NOW,
		&ag, NULL),
	    0);
	c = agency_tmpl(ag, &f->ag2_key, 7, "ml.ngo.sub", SIRA_ROLE_NGO);
	b = issue(&c, f->ag_key.sk);
	expect_verify(ag, NULL, b, NOW, -SIRA_EKEY_USAGE);
	/* And it may not sign revocation lists either. */
	{
		struct blob l = make_crl(
		    ag->id, f->ag_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
		expect_crl(ag, l, -SIRA_EKEY_USAGE);
		free(l.p);
	}
	free(b.p);
	cert_destroy(&ag);
}

static void
test_field_rules(void **state)
{
	const struct fx *f = *state;
	struct cert c, ca = ca_tmpl(f->ca_key.pk, CA_NAME);
	Sira__V1__CertTBS t;
	uint8_t buf[64];
	char longname[SIRA_DISPLAY_NAME_MAX + 2];
	char longid[SIRA_AGENCY_ID_MAX + 2];
	struct blob tb, b;

	memset(buf, 0x33, sizeof(buf));
	c = f->ag_tmpl;
	tbs_of(&c, &t);
	t.version = 2;
	expect_raw_tbs(f, &t, -SIRA_EVERSION);
	t.version = 0;
	expect_raw_tbs(f, &t, -SIRA_EVERSION);
	tbs_of(&c, &t);
	t.role = (Sira__V1__Role)0;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.role = (Sira__V1__Role)(SIRA_ROLE_MAX + 1);
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	/* serial 0 is the CA's alone */
	tbs_of(&c, &t);
	t.serial = 0;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	/* transport key presence must match TRANSPORT */
	tbs_of(&c, &t);
	t.transport_pk.len = 0;
	t.transport_pk.data = NULL;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	/* key and id lengths */
	tbs_of(&c, &t);
	t.transport_pk.data = buf;
	t.transport_pk.len = 31;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.transport_pk.len = 33;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	tbs_of(&c, &t);
	t.sign_pk.data = buf;
	t.sign_pk.len = 31;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.sign_pk.len = 33;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.sign_pk.len = 0;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	tbs_of(&c, &t);
	t.issuer_id.len = 0;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.issuer_id.len = 31;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	t.issuer_id.data = buf;
	t.issuer_id.len = 33;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	/* names too long for the struct: refused, not truncated */
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	tbs_of(&c, &t);
	t.agency_id = longid;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	longid[SIRA_AGENCY_ID_MAX] = '\0'; /* 64: fine */
	expect_raw_tbs(f, &t, 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	tbs_of(&c, &t);
	t.display_name = longname;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	longname[SIRA_DISPLAY_NAME_MAX] = '\0'; /* 128: fine */
	expect_raw_tbs(f, &t, 0);
	t.display_name = (char *)(uintptr_t) "";
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	/* an agency certificate claiming is_ca */
	tbs_of(&c, &t);
	t.is_ca = 1;
	expect_raw_tbs(f, &t, -SIRA_EMALFORMED);

	/* The CA certificate's own rules. */
	tbs_of(&ca, &t);
	tb = pack(&t.base);
	b = wrap(tb.p, tb.len, f->ca_key.sk, SIRA_DS_CERT);
	expect_load_ca(b, NOW, 0);
	free(b.p);
	free(tb.p);
	{
		static const struct {
			int what;
			int want;
		} cases[] = { { 0, -SIRA_EMALFORMED }, { 1, -SIRA_EMALFORMED },
			{ 2, -SIRA_EMALFORMED }, { 3, -SIRA_EMALFORMED } };

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			tbs_of(&ca, &t);
			switch (cases[i].what) {
			case 0: /* a CA must be coordination */
				t.role = SIRA__V1__ROLE__ROLE_POLICE;
				break;
			case 1: /* with serial 0 */
				t.serial = 5;
				break;
			case 2: /* without an issuer */
				t.issuer_id.data = buf;
				t.issuer_id.len = SIRA_HASH_LEN;
				break;
			default: /* and without a transport key */
				t.transport_pk.data = buf;
				t.transport_pk.len = SIRA_CURVE_KEY_LEN;
				break;
			}
			tb = pack(&t.base);
			b = wrap(tb.p, tb.len, f->ca_key.sk, SIRA_DS_CERT);
			expect_load_ca(b, NOW, cases[i].want);
			free(b.p);
			free(tb.p);
		}
	}
}

/* A known small-order point, or a non-canonical encoding, as hex. */
static const char *const weak_keys[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void
hex(uint8_t *out, size_t outlen, const char *s)
{
	size_t n = 0;

	assert_int_equal(
	    sodium_hex2bin(out, outlen, s, strlen(s), NULL, &n, NULL), 0);
	assert_int_equal(n, outlen);
}

/*
 * C7: with a small-order or non-canonical public key, the signatures that
 * verify "for any message" under lax Ed25519 are refused.
 */
static void
test_small_order_keys(void **state)
{
	const struct fx *f = *state;
	uint8_t pk[SIRA_SIGN_PK_LEN], forged[SIRA_SIG_LEN];
	static const uint8_t msg[] = "referral";

	for (size_t i = 0; i < sizeof(weak_keys) / sizeof(weak_keys[0]); i++) {
		struct cert ca, c, *got = NULL;
		uint8_t *tbs;
		size_t len;
		struct blob b;
		int rc;

		hex(pk, sizeof(pk), weak_keys[i]);
		/* R = identity, S = 0; and R = A, S = 0. */
		memset(forged, 0, sizeof(forged));
		forged[0] = 1;
		assert_int_equal(
		    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), forged),
		    -SIRA_EBADSIG);
		memcpy(forged, pk, SIRA_SIGN_PK_LEN);
		assert_int_equal(
		    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), forged),
		    -SIRA_EBADSIG);

		/* A CA certificate "self-signed" under a weak key. */
		ca = ca_tmpl(pk, CA_NAME);
		assert_int_equal(cert_encode_tbs(&ca, &tbs, &len, NULL), 0);
		memset(forged, 0, sizeof(forged));
		forged[0] = 1;
		assert_int_equal(
		    cert_encode(tbs, len, forged, &b.p, &b.len, NULL), 0);
		expect_load_ca(b, NOW, -SIRA_EBADSIG);
		free(b.p);
		free(tbs);

		/*
		 * An agency certificate carrying a weak key, signed by the
		 * real CA: whether or not it is accepted, nothing verifies
		 * under its key.
		 */
		c = f->ag_tmpl;
		memcpy(c.sign_pk, pk, SIRA_SIGN_PK_LEN);
		b = issue(&c, f->ca_key.sk);
		rc = cert_verify(
		    f->ca, NULL, bytes_of(b.p, b.len), NOW, &got, NULL);
		assert_true(rc == 0 || rc == -SIRA_EMALFORMED);
		if (rc == 0) {
			forged[0] = 1;
			assert_int_equal(
			    sign_verify(got->sign_pk, SIRA_DS_MANIFEST, msg,
				sizeof(msg), forged),
			    -SIRA_EBADSIG);
		}
		cert_destroy(&got);
		free(b.p);
	}
}

/* Add the group order L to the S half of sig (S + L is the same S mod L). */
static void
maul_s(uint8_t sig[static SIRA_SIG_LEN])
{
	uint8_t l[32];
	unsigned carry = 0;

	hex(l, sizeof(l),
	    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
	for (size_t i = 0; i < 32; i++) {
		unsigned s = (unsigned)sig[32 + i] + l[i] + carry;
		sig[32 + i] = (uint8_t)s;
		carry = s >> 8;
	}
	assert_int_equal(carry, 0);
}

/* C9: every prefix of a certificate is refused cleanly. */
static void
test_truncated_every_length(void **state)
{
	const struct fx *f = *state;
	const struct blob *objs[] = { &f->ag_raw, &f->ca_raw };

	for (size_t o = 0; o < 2; o++) {
		const struct blob *whole = objs[o];

		for (size_t n = 0; n < whole->len; n++) {
			/* An exact-size copy, so ASan sees any overread. */
			struct blob b = copy_blob(whole->p, n);
			int want = n == 0 ? -SIRA_ETRUNCATED : -SIRA_EMALFORMED;
			struct cert *c = NULL;
			int rc;

			if (o == 0)
				expect_verify(f->ca, NULL, b, NOW, want);
			else
				expect_load_ca(b, NOW, want);
			rc = cert_unsafe_decode(b.p, b.len, &c, NULL);
			assert_int_equal(rc, want);
			assert_null(c);
			free(b.p);
		}
	}
}

/* C9: size caps are applied before anything is parsed. */
static void
test_size_limits(void **state)
{
	const struct fx *f = *state;
	size_t big = (size_t)64 << 20;
	struct blob b;
	uint8_t *pad, sig[SIRA_SIG_LEN];

	b.p = calloc(1, big);
	assert_non_null(b.p);
	/* The valid certificate in front: size alone decides. */
	memcpy(b.p, f->ag_raw.p, f->ag_raw.len);
	b.len = 0;
	expect_verify(f->ca, NULL, b, NOW, -SIRA_ETRUNCATED);
	expect_load_ca(b, NOW, -SIRA_ETRUNCATED);
	b.len = SIRA_CERT_MAX + 1;
	expect_verify(f->ca, NULL, b, NOW, -SIRA_ETOOBIG);
	expect_load_ca(b, NOW, -SIRA_ETOOBIG);
	b.len = big;
	expect_verify(f->ca, NULL, b, NOW, -SIRA_ETOOBIG);
	expect_load_ca(b, NOW, -SIRA_ETOOBIG);
	{
		struct cert *c = NULL;
		struct crl *l = NULL;

		assert_int_equal(
		    cert_unsafe_decode(b.p, big, &c, NULL), -SIRA_ETOOBIG);
		assert_int_equal(
		    crl_unsafe_decode(b.p, big, &l, NULL), -SIRA_ETOOBIG);
		b.len = SIRA_CRL_MAX + 1;
		expect_crl(f->ca, b, -SIRA_ETOOBIG);
		b.len = 0;
		expect_crl(f->ca, b, -SIRA_ETRUNCATED);
	}
	free(b.p);

	/* A wrapper within SIRA_CERT_MAX whose tbs exceeds its own cap. */
	pad = calloc(1, SIRA_CERT_MAX);
	assert_non_null(pad);
	memset(sig, 0x55, sizeof(sig));
	memset(pad, 0x41, SIRA_CERT_MAX);
	{
		Sira__V1__Certificate w = SIRA__V1__CERTIFICATE__INIT;

		w.sig.data = sig;
		w.sig.len = SIRA_SIG_LEN;
		w.tbs.data = pad;
		w.tbs.len = SIRA_CERT_TBS_MAX + 1;
		b = pack(&w.base);
		assert_true(b.len <= SIRA_CERT_MAX);
		expect_verify(f->ca, NULL, b, NOW, -SIRA_ETOOBIG);
		free(b.p);
		/* At the cap, the size gates pass and the signature fails. */
		w.tbs.len = SIRA_CERT_TBS_MAX;
		b = pack(&w.base);
		expect_verify(f->ca, NULL, b, NOW, -SIRA_EBADSIG);
		free(b.p);
	}
	free(pad);
}

/* ---- revocation ---- */

static struct crl_entry
entry(uint64_t serial, const uint8_t *id, int reason)
{
	struct crl_entry e;

	memset(&e, 0, sizeof(e));
	e.serial = serial;
	if (id != NULL)
		memcpy(e.cert_id, id, SIRA_HASH_LEN);
	else
		memset(e.cert_id, (int)(serial & 0xff), SIRA_HASH_LEN);
	e.revoked_at = CRL_THIS - 3600;
	e.reason = reason;
	if (reason == SIRA_REVOKE_KEY_COMPROMISE)
		e.compromised_since = CRL_THIS - 86400;
	return e;
}

static void
agency_id_of(const struct fx *f, const struct blob *raw,
    uint8_t id[static SIRA_HASH_LEN])
{
	struct cert *c = NULL;

	assert_int_equal(
	    cert_verify(f->ca, NULL, bytes_of(raw->p, raw->len), NOW, &c, NULL),
	    0);
	memcpy(id, c->id, SIRA_HASH_LEN);
	cert_destroy(&c);
}

static void
test_revoked(void **state)
{
	const struct fx *f = *state;
	uint8_t id1[SIRA_HASH_LEN], id2[SIRA_HASH_LEN];
	struct crl_entry e[3];
	struct blob b;
	struct crl *l;
	struct cert *c = NULL;
	const struct crl_entry *hit;

	agency_id_of(f, &f->ag_raw, id1);
	agency_id_of(f, &f->ag2_raw, id2);

	/* Empty list: nothing is revoked. */
	b = make_crl(f->ca->id, f->ca_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	l = load_crl(f->ca, b);
	expect_verify(f->ca, l, f->ag_raw, NOW, 0);
	crl_destroy(&l);
	free(b.p);

	/* By serial (with an unrelated cert_id). */
	e[0] = entry(1, NULL, SIRA_REVOKE_KEY_COMPROMISE);
	b = make_crl(f->ca->id, f->ca_key.sk, 2, CRL_THIS, CRL_NEXT, e, 1);
	l = load_crl(f->ca, b);
	expect_verify(f->ca, l, f->ag_raw, NOW, -SIRA_EREVOKED);
	expect_verify(f->ca, l, f->ag2_raw, NOW, 0);
	assert_int_equal(
	    cert_verify(f->ca, NULL, bytes_of(f->ag_raw.p, f->ag_raw.len), NOW,
		&c, NULL),
	    0);
	hit = crl_find(l, c);
	assert_non_null(hit);
	assert_int_equal(hit->serial, 1);
	assert_int_equal(hit->reason, SIRA_REVOKE_KEY_COMPROMISE);
	assert_int_equal(hit->compromised_since, CRL_THIS - 86400);
	cert_destroy(&c);
	crl_destroy(&l);
	free(b.p);

	/* By cert_id, under a serial that is not the certificate's. */
	e[0] = entry(99, id2, SIRA_REVOKE_SUPERSEDED);
	b = make_crl(f->ca->id, f->ca_key.sk, 3, CRL_THIS, CRL_NEXT, e, 1);
	l = load_crl(f->ca, b);
	expect_verify(f->ca, l, f->ag2_raw, NOW, -SIRA_EREVOKED);
	expect_verify(f->ca, l, f->ag_raw, NOW, 0);
	crl_destroy(&l);
	free(b.p);

	/* Several entries: first, middle and last are all found. */
	e[0] = entry(1, NULL, SIRA_REVOKE_OFFBOARDED);
	e[1] = entry(5, NULL, SIRA_REVOKE_UNSPECIFIED);
	e[2] = entry(9, id2, SIRA_REVOKE_CA_COMPROMISE);
	b = make_crl(f->ca->id, f->ca_key.sk, 4, CRL_THIS, CRL_NEXT, e, 3);
	l = load_crl(f->ca, b);
	assert_int_equal(l->n, 3);
	expect_verify(f->ca, l, f->ag_raw, NOW, -SIRA_EREVOKED);
	expect_verify(f->ca, l, f->ag2_raw, NOW, -SIRA_EREVOKED);
	{
		/* A certificate with serial 5 and another with serial 6. */
		struct cert t5 = agency_tmpl(f->ca, &f->ag_key, 5,
		    "ml.justice.kayes", SIRA_ROLE_JUSTICE);
		struct cert t6 = t5;
		struct blob b5, b6;

		t6.serial = 6;
		b5 = issue(&t5, f->ca_key.sk);
		b6 = issue(&t6, f->ca_key.sk);
		expect_verify(f->ca, l, b5, NOW, -SIRA_EREVOKED);
		expect_verify(f->ca, l, b6, NOW, 0);
		free(b5.p);
		free(b6.p);
	}
	crl_destroy(&l);
	free(b.p);
}

/* C5: a revoked certificate cannot come back re-encoded or re-signed. */
/* With the daemon's cache of verified signatures (lib/sigcache.c), the CA's
 * signature is checked once; revocation, dates and a tampered copy are
 * still refused every time. */
static void
test_cached_verify(void **state)
{
	const struct fx *f = *state;
	struct sigcache sc;
	struct crl_entry e[1];
	struct blob b, bad;
	struct crl *l;
	struct cert *c = NULL;
	struct cert_trust t = { f->ca, NULL, &sc };
	struct sira_err err;

	sigcache_init(&sc);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    cert_verify_with(&t, bytes_of(f->ag_raw.p, f->ag_raw.len),
			NOW, &c, &err),
		    0);
		assert_string_equal(c->agency_id, f->ag_tmpl.agency_id);
		cert_destroy(&c);
	}
	assert_int_equal(sc.misses, 1);
	assert_int_equal(sc.hits, 2);
	/* Remembered, and yet: expired, or revoked by a newer list. */
	assert_int_equal(
	    cert_verify_with(
		&t, bytes_of(f->ag_raw.p, f->ag_raw.len), AG_NA + 1, &c, &err),
	    -SIRA_EEXPIRED);
	e[0] = entry(1, NULL, SIRA_REVOKE_KEY_COMPROMISE);
	b = make_crl(f->ca->id, f->ca_key.sk, 2, CRL_THIS, CRL_NEXT, e, 1);
	l = load_crl(f->ca, b);
	t.crl = l;
	assert_int_equal(
	    cert_verify_with(
		&t, bytes_of(f->ag_raw.p, f->ag_raw.len), NOW, &c, &err),
	    -SIRA_EREVOKED);
	assert_null(c);
	assert_int_equal(sc.hits, 4);
	/* A copy with one bit changed is not the remembered one. */
	bad = copy_blob(f->ag2_raw.p, f->ag2_raw.len);
	bad.p[bad.len - 1] ^= 0x01;
	assert_int_equal(
	    cert_verify_with(&t, bytes_of(bad.p, bad.len), NOW, &c, &err),
	    -SIRA_EBADSIG);
	assert_int_equal(
	    cert_verify_with(&t, bytes_of(bad.p, bad.len), NOW, &c, &err),
	    -SIRA_EBADSIG);
	assert_int_equal(sc.hits, 4);
	free(bad.p);
	crl_destroy(&l);
	free(b.p);
}

static void
test_revoked_cannot_come_back(void **state)
{
	const struct fx *f = *state;
	uint8_t id1[SIRA_HASH_LEN];
	struct crl_entry e;
	struct blob b, mauled;
	struct crl *l;
	struct fields fs;

	agency_id_of(f, &f->ag_raw, id1);
	/* Revoked by cert_id only (serial 77), so serial is no help. */
	e = entry(77, id1, SIRA_REVOKE_KEY_COMPROMISE);
	b = make_crl(f->ca->id, f->ca_key.sk, 1, CRL_THIS, CRL_NEXT, &e, 1);
	l = load_crl(f->ca, b);
	free(b.p);
	expect_verify(f->ca, l, f->ag_raw, NOW, -SIRA_EREVOKED);

	/* The signature mauled to S + L: refused by libsodium. */
	mauled = copy_blob(f->ag_raw.p, f->ag_raw.len);
	maul_s(mauled.p + mauled.len - SIRA_SIG_LEN);
	expect_verify(f->ca, l, mauled, NOW, -SIRA_EBADSIG);
	free(mauled.p);

	/* Re-encoded with the same meaning and re-signed: not canonical. */
	cert_fields(&f->ag_tmpl, &fs);
	add(&fs, fv(50, 0));
	{
		struct blob tbs = join(&fs);
		b = wrap(tbs.p, tbs.len, f->ca_key.sk, SIRA_DS_CERT);
		free(tbs.p);
	}
	expect_verify(f->ca, l, b, NOW, -SIRA_EMALFORMED);
	free(b.p);
	crl_destroy(&l);
}

static void
test_crl_verify(void **state)
{
	const struct fx *f = *state;
	struct crl_entry e[2];
	struct blob b;
	struct crl *l, *u = NULL;
	uint8_t *tbs, id[SIRA_HASH_LEN];
	size_t len;

	e[0] = entry(3, NULL, SIRA_REVOKE_SUPERSEDED);
	e[1] = entry(4, NULL, SIRA_REVOKE_KEY_COMPROMISE);
	b = make_crl(f->ca->id, f->ca_key.sk, 7, CRL_THIS, CRL_NEXT, e, 2);
	l = load_crl(f->ca, b);
	assert_int_equal(l->sequence, 7);
	assert_int_equal(l->this_update, CRL_THIS);
	assert_int_equal(l->next_update, CRL_NEXT);
	assert_memory_equal(l->issuer_id, f->ca->id, SIRA_HASH_LEN);
	assert_int_equal(l->n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(l->entries[i].serial, e[i].serial);
		assert_memory_equal(
		    l->entries[i].cert_id, e[i].cert_id, SIRA_HASH_LEN);
		assert_int_equal(l->entries[i].revoked_at, e[i].revoked_at);
		assert_int_equal(l->entries[i].reason, e[i].reason);
		assert_int_equal(
		    l->entries[i].compromised_since, e[i].compromised_since);
	}
	assert_int_equal(l->entries[1].compromised_since, CRL_THIS - 86400);
	assert_int_equal(l->raw_len, b.len);
	assert_memory_equal(l->raw, b.p, b.len);
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 7,
					    CRL_THIS, CRL_NEXT, e, 2 },
			     &tbs, &len, NULL),
	    0);
	{
		struct digest_part part = { tbs, len };
		digest_lp(id, SIRA_DH_CRL_ID, &part, 1);
	}
	assert_memory_equal(l->id, id, SIRA_HASH_LEN);
	free(tbs);
	assert_int_equal(crl_check_fresh(l, NOW, NULL), 0);

	/* The display-only decoder, with no CA at all. */
	assert_int_equal(crl_unsafe_decode(b.p, b.len, &u, NULL), 0);
	assert_memory_equal(u->id, l->id, SIRA_HASH_LEN);
	assert_int_equal(u->n, 2);
	crl_destroy(&u);
	crl_destroy(&l);
	crl_destroy(&l);
	crl_destroy(NULL);

	/* From another CA: the signature does not verify. */
	expect_crl(f->other_ca, b, -SIRA_EBADSIG);
	free(b.p);
	/* Signed by our key but naming another issuer. */
	b = make_crl(
	    f->other_ca->id, f->ca_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	expect_crl(f->ca, b, -SIRA_EUNKNOWN_CA);
	free(b.p);
	/* Signed by an agency key. */
	b = make_crl(f->ca->id, f->ag_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	expect_crl(f->ca, b, -SIRA_EBADSIG);
	free(b.p);
}

/* C6: a list signed by a certificate without CRL_SIGN is refused. */
static void
test_crl_signer_without_crl_sign(void **state)
{
	const struct fx *f = *state;
	struct cert *ag = NULL;
	struct blob b;

	assert_int_equal(
	    cert_verify(f->ca, NULL, bytes_of(f->ag_raw.p, f->ag_raw.len), NOW,
		&ag, NULL),
	    0);
	assert_int_equal(ag->key_usage & SIRA_KU_CRL_SIGN, 0);
	b = make_crl(ag->id, f->ag_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	expect_crl(ag, b, -SIRA_EKEY_USAGE);
	free(b.p);
	cert_destroy(&ag);
}

static void
expect_fresh(const struct crl *l, uint64_t now, int want)
{
	struct sira_err err;

	sira_err_clear(&err);
	check_err(crl_check_fresh(l, now, &err), want, &err);
}

static void
test_crl_freshness(void **state)
{
	const struct fx *f = *state;
	struct blob b, ok;
	struct crl *l;

	b = make_crl(f->ca->id, f->ca_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	l = load_crl(f->ca, b);
	expect_fresh(l, CRL_THIS, 0);
	expect_fresh(l, CRL_NEXT, 0);
	expect_fresh(l, CRL_NEXT + 1, -SIRA_ECRL_STALE);
	expect_fresh(l, CRL_THIS - SIRA_CLOCK_SKEW, 0);
	expect_fresh(l, CRL_THIS - SIRA_CLOCK_SKEW - 1, -SIRA_ENOTYETVALID);

	/* The same verdicts through cert_verify. */
	ok = f->ag_raw;
	expect_verify(f->ca, l, ok, CRL_NEXT, 0);
	expect_verify(f->ca, l, ok, CRL_NEXT + 1, -SIRA_ECRL_STALE);
	expect_verify(
	    f->ca, l, ok, CRL_THIS - SIRA_CLOCK_SKEW - 1, -SIRA_ENOTYETVALID);
	crl_destroy(&l);
	free(b.p);

	/* A list from another CA, verified against that CA, is no use here. */
	b = make_crl(
	    f->other_ca->id, f->other_key.sk, 1, CRL_THIS, CRL_NEXT, NULL, 0);
	l = load_crl(f->other_ca, b);
	expect_verify(f->ca, l, f->ag_raw, NOW, -SIRA_EUNKNOWN_CA);
	crl_destroy(&l);
	free(b.p);
}

static void
expect_replace(const struct crl *cur, const struct crl *cand, int want)
{
	struct sira_err err;

	sira_err_clear(&err);
	check_err(crl_may_replace(cur, cand, &err), want, &err);
}

static void
test_crl_rollback(void **state)
{
	const struct fx *f = *state;
	struct crl_entry e = entry(1, NULL, SIRA_REVOKE_SUPERSEDED);
	struct blob b4, b5, b5same, b5other, b5more, b6;
	struct crl *l4, *l5, *l5same, *l5other, *l5more, *l6;

	b4 = make_crl(f->ca->id, f->ca_key.sk, 4, CRL_THIS, CRL_NEXT, NULL, 0);
	b5 = make_crl(f->ca->id, f->ca_key.sk, 5, CRL_THIS, CRL_NEXT, NULL, 0);
	b5same = copy_blob(b5.p, b5.len);
	b5other = make_crl(
	    f->ca->id, f->ca_key.sk, 5, CRL_THIS, CRL_NEXT + 1, NULL, 0);
	b5more =
	    make_crl(f->ca->id, f->ca_key.sk, 5, CRL_THIS, CRL_NEXT, &e, 1);
	b6 = make_crl(f->ca->id, f->ca_key.sk, 6, CRL_THIS, CRL_NEXT, NULL, 0);
	l4 = load_crl(f->ca, b4);
	l5 = load_crl(f->ca, b5);
	l5same = load_crl(f->ca, b5same);
	l5other = load_crl(f->ca, b5other);
	l5more = load_crl(f->ca, b5more);
	l6 = load_crl(f->ca, b6);

	expect_replace(NULL, l4, 0);
	expect_replace(l5, l4, -SIRA_ECRL_ROLLBACK);
	expect_replace(l5, l6, 0);
	expect_replace(l6, l5, -SIRA_ECRL_ROLLBACK);
	expect_replace(l5, l5same, 0);
	expect_replace(l5, l5, 0);
	expect_replace(l5, l5other, -SIRA_ECRL_ROLLBACK);
	expect_replace(l5, l5more, -SIRA_ECRL_ROLLBACK);
	expect_replace(l5more, l5, -SIRA_ECRL_ROLLBACK);

	crl_destroy(&l4);
	crl_destroy(&l5);
	crl_destroy(&l5same);
	crl_destroy(&l5other);
	crl_destroy(&l5more);
	crl_destroy(&l6);
	free(b4.p);
	free(b5.p);
	free(b5same.p);
	free(b5other.p);
	free(b5more.p);
	free(b6.p);
}

/* A CrlTBS made with protobuf-c directly, free of the encoder's checks. */
struct raw_crl {
	Sira__V1__CrlTBS t;
	Sira__V1__RevokedEntry ev[4];
	Sira__V1__RevokedEntry *evp[4];
	uint8_t ids[4][SIRA_HASH_LEN];
};

static void
raw_crl_init(struct raw_crl *r, const uint8_t *issuer, size_t n)
{
	sira__v1__crl_tbs__init(&r->t);
	r->t.version = 1;
	r->t.issuer_id.data = (uint8_t *)(uintptr_t)issuer;
	r->t.issuer_id.len = SIRA_HASH_LEN;
	r->t.sequence = 1;
	r->t.this_update = CRL_THIS;
	r->t.next_update = CRL_NEXT;
	for (size_t i = 0; i < n; i++) {
		sira__v1__revoked_entry__init(&r->ev[i]);
		r->ev[i].serial = 10 * (i + 1);
		memset(r->ids[i], (int)(0xa0 + i), SIRA_HASH_LEN);
		r->ev[i].cert_id.data = r->ids[i];
		r->ev[i].cert_id.len = SIRA_HASH_LEN;
		r->ev[i].revoked_at = CRL_THIS;
		r->ev[i].reason =
		    SIRA__V1__REVOCATION_REASON__REVOCATION_REASON_SUPERSEDED;
		r->evp[i] = &r->ev[i];
	}
	r->t.n_entries = n;
	r->t.entries = n > 0 ? r->evp : NULL;
}

static void
expect_raw_crl(const struct fx *f, const struct raw_crl *r, int want)
{
	struct blob tbs = pack(&r->t.base), b;

	b = make_crl_tbs_signed(tbs.p, tbs.len, f->ca_key.sk, SIRA_DS_CRL);
	expect_crl(f->ca, b, want);
	free(b.p);
	free(tbs.p);
}

static void
test_crl_malformed(void **state)
{
	const struct fx *f = *state;
	struct raw_crl r;
	uint8_t *tbs = NULL;
	size_t len;
	struct crl_entry e[2];
	struct sira_err err;

	raw_crl_init(&r, f->ca->id, 3);
	expect_raw_crl(f, &r, 0);
	/* unsorted, duplicated, and zero serials */
	r.ev[1].serial = 5;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	r.ev[1].serial = 10;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	raw_crl_init(&r, f->ca->id, 3);
	r.ev[0].serial = 0;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	/* entry fields */
	raw_crl_init(&r, f->ca->id, 3);
	r.ev[2].cert_id.len = 31;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	r.ev[2].cert_id.len = 0;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	raw_crl_init(&r, f->ca->id, 3);
	r.ev[1].reason = (Sira__V1__RevocationReason)(SIRA_REVOKE_MAX + 1);
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	/* list fields */
	raw_crl_init(&r, f->ca->id, 0);
	r.t.sequence = 0;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	raw_crl_init(&r, f->ca->id, 0);
	r.t.this_update = CRL_NEXT + 1;
	expect_raw_crl(f, &r, -SIRA_EMALFORMED);
	raw_crl_init(&r, f->ca->id, 0);
	r.t.version = 2;
	expect_raw_crl(f, &r, -SIRA_EVERSION);
	raw_crl_init(&r, f->ca->id, 0);
	r.t.issuer_id.len = 31;
	expect_raw_crl(f, &r, -SIRA_EUNKNOWN_CA);
	r.t.issuer_id.len = 0;
	expect_raw_crl(f, &r, -SIRA_EUNKNOWN_CA);

	/* The encoder refuses what the verifier would refuse. */
	e[0] = entry(9, NULL, SIRA_REVOKE_SUPERSEDED);
	e[1] = entry(3, NULL, SIRA_REVOKE_SUPERSEDED);
	sira_err_clear(&err);
	check_err(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1, CRL_THIS,
				     CRL_NEXT, e, 2 },
		      &tbs, &len, &err),
	    -SIRA_EINVAL, &err);
	assert_null(tbs);
	e[1].serial = 9;
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1,
					    CRL_THIS, CRL_NEXT, e, 2 },
			     &tbs, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 0,
					    CRL_THIS, CRL_NEXT, NULL, 0 },
			     &tbs, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1,
					    CRL_NEXT, CRL_THIS, NULL, 0 },
			     &tbs, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1, CRL_THIS,
			       CRL_NEXT, e, SIRA_CRL_ENTRIES_MAX + 1 },
		&tbs, &len, NULL),
	    -SIRA_EINVAL);
	assert_null(tbs);
}

/* An unknown field inside a nested RevokedEntry is refused. */
static void
test_crl_nested_unknown_field(void **state)
{
	const struct fx *f = *state;
	struct crl_entry e = entry(1, NULL, SIRA_REVOKE_SUPERSEDED);
	Sira__V1__RevokedEntry ev = SIRA__V1__REVOKED_ENTRY__INIT;
	uint8_t *tbs, *evil;
	size_t len, off, elen;
	struct blob b;

	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ f->ca->id, 1,
					    CRL_THIS, CRL_NEXT, &e, 1 },
			     &tbs, &len, NULL),
	    0);
	/* The entries field (6, bytes) is last; its size is the entry's. */
	ev.serial = e.serial;
	ev.cert_id.data = e.cert_id;
	ev.cert_id.len = SIRA_HASH_LEN;
	ev.revoked_at = e.revoked_at;
	ev.reason = (Sira__V1__RevocationReason)e.reason;
	elen = protobuf_c_message_get_packed_size(&ev.base);
	assert_true(elen < 126);
	off = len - 2 - elen;
	assert_int_equal(tbs[off], 0x32);
	assert_int_equal(tbs[off + 1], elen);
	/* Grow the entry by one unknown varint field 15 = 0x78 0x01. */
	evil = malloc(len + 2);
	assert_non_null(evil);
	memcpy(evil, tbs, len);
	evil[off + 1] = (uint8_t)(tbs[off + 1] + 2);
	evil[len] = 0x78;
	evil[len + 1] = 0x01;
	b = make_crl_tbs_signed(evil, len + 2, f->ca_key.sk, SIRA_DS_CRL);
	expect_crl(f->ca, b, -SIRA_EMALFORMED);
	free(b.p);
	/* Control: the untouched tbs verifies. */
	b = make_crl_tbs_signed(tbs, len, f->ca_key.sk, SIRA_DS_CRL);
	expect_crl(f->ca, b, 0);
	free(b.p);
	free(evil);
	free(tbs);
}

static void
test_crl_too_many_entries(void **state)
{
	const struct fx *f = *state;
	size_t n = SIRA_CRL_ENTRIES_MAX + 1;
	Sira__V1__CrlTBS t = SIRA__V1__CRL_TBS__INIT;
	Sira__V1__RevokedEntry *ev = calloc(n, sizeof(*ev));
	Sira__V1__RevokedEntry **evp = calloc(n, sizeof(*evp));
	uint8_t id[SIRA_HASH_LEN];
	struct blob tbs, b;

	assert_non_null(ev);
	assert_non_null(evp);
	memset(id, 0x77, sizeof(id));
	for (size_t i = 0; i < n; i++) {
		sira__v1__revoked_entry__init(&ev[i]);
		ev[i].serial = i + 1;
		ev[i].cert_id.data = id;
		ev[i].cert_id.len = SIRA_HASH_LEN;
		evp[i] = &ev[i];
	}
	t.version = 1;
	t.issuer_id.data = (uint8_t *)(uintptr_t)f->ca->id;
	t.issuer_id.len = SIRA_HASH_LEN;
	t.sequence = 1;
	t.this_update = CRL_THIS;
	t.next_update = CRL_NEXT;
	t.n_entries = n;
	t.entries = evp;
	tbs = pack(&t.base);
	b = make_crl_tbs_signed(tbs.p, tbs.len, f->ca_key.sk, SIRA_DS_CRL);
	assert_true(b.len <= SIRA_CRL_MAX);
	expect_crl(f->ca, b, -SIRA_ETOOBIG);
	free(b.p);
	free(tbs.p);
	free(evp);
	free(ev);
}

static void
test_crl_flip_every_bit(void **state)
{
	const struct fx *f = *state;
	struct crl_entry e[2];
	struct blob b;
	size_t tbs_off, tbs_len, sig_off;

	e[0] = entry(1, NULL, SIRA_REVOKE_KEY_COMPROMISE);
	e[1] = entry(2, NULL, SIRA_REVOKE_SUPERSEDED);
	b = make_crl(f->ca->id, f->ca_key.sk, 3, CRL_THIS, CRL_NEXT, e, 2);
	wrapper_layout(&b, &tbs_off, &tbs_len, &sig_off);
	for (size_t i = 0; i < b.len; i++) {
		bool payload =
		    (i >= tbs_off && i < tbs_off + tbs_len) || i >= sig_off;
		int want = payload ? -SIRA_EBADSIG : -SIRA_EMALFORMED;

		for (int bit = 0; bit < 8; bit++) {
			struct crl *l = NULL;
			struct sira_err err;
			int rc;

			b.p[i] ^= (uint8_t)(1u << bit);
			sira_err_clear(&err);
			rc = crl_verify(f->ca, b.p, b.len, &l, &err);
			if (rc != want)
				print_error(
				    "byte %zu bit %d: rc %d\n", i, bit, rc);
			check_err(rc, want, &err);
			assert_null(l);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	expect_crl(f->ca, b, 0);
	free(b.p);
}

static void
test_crl_truncated_every_length(void **state)
{
	const struct fx *f = *state;
	struct crl_entry e = entry(1, NULL, SIRA_REVOKE_OFFBOARDED);
	struct blob whole =
	    make_crl(f->ca->id, f->ca_key.sk, 1, CRL_THIS, CRL_NEXT, &e, 1);

	for (size_t n = 0; n < whole.len; n++) {
		struct blob b = copy_blob(whole.p, n);
		int want = n == 0 ? -SIRA_ETRUNCATED : -SIRA_EMALFORMED;
		struct crl *l = NULL;

		expect_crl(f->ca, b, want);
		assert_int_equal(crl_unsafe_decode(b.p, b.len, &l, NULL), want);
		assert_null(l);
		free(b.p);
	}
	free(whole.p);
}

/* ---- names ---- */

static void
test_display_names(void **state)
{
	const struct fx *f = *state;
	static const char *const good[] = {
		"Brigade des mœurs",
		"Foyer « Espoir »",
		"Foyer\u00a0«\u00a0Espoir\u00a0»", /* no-break spaces */
		"Direction régionale de la Promotion de l'Enfant, Ségou",
		"ONG Àçèéêëîïôûü ÿ Œuvre",
		"x",
		"Tombouctou – ⵜⵏⴱⴽⵜ – تمبكتو",
	};
	static const char *const bad[] = {
		"Brigade\x1b[31m des mœurs", /* ESC */
		"Foyer\r« Espoir »",         /* CR */
		"Foyer\n",                   /* LF */
		"Foyer\t« Espoir »",         /* TAB */
		"Foyer \x7f",                /* DEL */
		"Foyer \xc2\x85 Espoir",     /* U+0085 NEL */
		"Foyer \xc2\x9b"
		"31m",                    /* U+009B CSI */
		"Foyer \xff",             /* not UTF-8 */
		"Foyer \xc3",             /* truncated sequence */
		"Foyer \xc0\xaf",         /* overlong '/' */
		"Foyer \xed\xa0\x80",     /* surrogate U+D800 */
		"Foyer \xf4\x90\x80\x80", /* beyond U+10FFFF */
		"Foyer \xe2\x82",         /* truncated euro sign */
		"",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct cert c = f->ag_tmpl, *got = NULL;
		struct blob b;

		assert_true(cert_display_name_valid(good[i]));
		(void)snprintf(
		    c.display_name, sizeof(c.display_name), "%s", good[i]);
		b = issue(&c, f->ca_key.sk);
		assert_int_equal(cert_verify(f->ca, NULL, bytes_of(b.p, b.len),
				     NOW, &got, NULL),
		    0);
		assert_string_equal(got->display_name, good[i]);
		cert_destroy(&got);
		free(b.p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cert c = f->ag_tmpl;
		Sira__V1__CertTBS t;
		uint8_t *tbs = NULL;
		size_t len;

		if (cert_display_name_valid(bad[i]))
			print_error("accepted bad name %zu\n", i);
		assert_false(cert_display_name_valid(bad[i]));
		(void)snprintf(
		    c.display_name, sizeof(c.display_name), "%s", bad[i]);
		assert_int_equal(
		    cert_encode_tbs(&c, &tbs, &len, NULL), -SIRA_EMALFORMED);
		assert_null(tbs);
		tbs_of(&c, &t);
		expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	}
	/* The maximum: 128 bytes of two-byte characters (64 x 'é'). */
	{
		char name[SIRA_DISPLAY_NAME_MAX + 3];

		for (size_t i = 0; i < 64; i++)
			memcpy(name + 2 * i, "é", 2);
		name[128] = '\0';
		assert_true(cert_display_name_valid(name));
		memcpy(name + 128, "é", 3); /* 130 bytes */
		assert_false(cert_display_name_valid(name));
	}
}

static void
test_agency_ids(void **state)
{
	const struct fx *f = *state;
	static const char *const good[] = {
		"abc", "ml.police.bamako", "ml.ngo.foyer-espoir", "a_b",
		"a9.b-c_d", "x..y", "ab-",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};
	static const char *const bad[] = {
		"", "a", "ab", "9ab", ".ab", "-ab", "_ab", "ab.", "Ml.police",
		"ml.Police", "ml police", "ml/police", "ml.polìce",
		"ml.police\n", "ml@police",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};

	assert_int_equal(strlen(good[7]), 64);
	assert_int_equal(strlen(bad[15]), 65);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct cert c = f->ag_tmpl;
		struct blob b;

		assert_true(cert_agency_id_valid(good[i]));
		(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", good[i]);
		b = issue(&c, f->ca_key.sk);
		expect_verify(f->ca, NULL, b, NOW, 0);
		free(b.p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cert c = f->ag_tmpl;
		Sira__V1__CertTBS t;

		if (cert_agency_id_valid(bad[i]))
			print_error("accepted bad id %zu\n", i);
		assert_false(cert_agency_id_valid(bad[i]));
		tbs_of(&c, &t);
		t.agency_id = (char *)(uintptr_t)bad[i];
		expect_raw_tbs(f, &t, -SIRA_EMALFORMED);
	}
}

static void
test_names_tables(void **state)
{
	enum sira_role role;
	int reason;

	(void)state;
	for (int r = SIRA_ROLE_POLICE; r <= SIRA_ROLE_MAX; r++) {
		assert_int_equal(
		    cert_role_parse(cert_role_name((enum sira_role)r), &role),
		    0);
		assert_int_equal(role, r);
	}
	assert_string_equal(
	    cert_role_name(SIRA_ROLE_SOCIAL_SERVICES), "social_services");
	assert_string_equal(
	    cert_role_name((enum sira_role)(SIRA_ROLE_MAX + 1)), "unspecified");
	assert_string_equal(
	    cert_role_name((enum sira_role) - 1), "unspecified");
	assert_int_equal(cert_role_parse("unspecified", &role), -SIRA_EINVAL);
	assert_int_equal(cert_role_parse("POLICE", &role), -SIRA_EINVAL);
	assert_int_equal(cert_role_parse("", &role), -SIRA_EINVAL);
	for (int r = 0; r <= SIRA_REVOKE_MAX; r++) {
		assert_int_equal(
		    crl_reason_parse(crl_reason_name(r), &reason), 0);
		assert_int_equal(reason, r);
	}
	assert_string_equal(
	    crl_reason_name(SIRA_REVOKE_KEY_COMPROMISE), "key_compromise");
	assert_string_equal(crl_reason_name(99), "unspecified");
	assert_string_equal(crl_reason_name(-1), "unspecified");
	assert_int_equal(crl_reason_parse("compromise", &reason), -SIRA_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_cert_verifies),
		cmocka_unit_test(test_flip_every_bit),
		cmocka_unit_test(test_flip_every_bit_ca),
		cmocka_unit_test(test_swapped_signature),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_domain_separation),
		cmocka_unit_test(test_canonical_reencodings),
		cmocka_unit_test(test_canonical_wrapper),
		cmocka_unit_test(test_validity_windows),
		cmocka_unit_test(test_key_usage_role),
		cmocka_unit_test(test_issuer_must_be_ca),
		cmocka_unit_test(test_field_rules),
		cmocka_unit_test(test_small_order_keys),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_revoked_cannot_come_back),
		cmocka_unit_test(test_cached_verify),
		cmocka_unit_test(test_crl_verify),
		cmocka_unit_test(test_crl_signer_without_crl_sign),
		cmocka_unit_test(test_crl_freshness),
		cmocka_unit_test(test_crl_rollback),
		cmocka_unit_test(test_crl_malformed),
		cmocka_unit_test(test_crl_nested_unknown_field),
		cmocka_unit_test(test_crl_too_many_entries),
		cmocka_unit_test(test_crl_flip_every_bit),
		cmocka_unit_test(test_crl_truncated_every_length),
		cmocka_unit_test(test_display_names),
		cmocka_unit_test(test_agency_ids),
		cmocka_unit_test(test_names_tables),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
