/*
 * test_vectors.c: the frozen known-answer vectors in tests/vectors/. Each
 * object (the CA certificate, an agency certificate, a revocation list) is
 * rebuilt from fixed inputs (fixed Ed25519 seeds, times, serials and names;
 * Ed25519 is deterministic) and must equal the file byte for byte, and each
 * file must verify with cert_load_ca, cert_verify and crl_verify at a fixed
 * time inside every validity window. A change to the wire format, the
 * signature framing or the field rules therefore shows up here first.
 *
 * The directory is $SIRA_VECTORS, else "tests/vectors" (tests run from the
 * repository root). SIRA_REGEN_VECTORS=1 rewrites the files from the fixed
 * inputs before comparing; a normal run only reads them.
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
#include "crl.h"
#include "fileio.h"
#include "sign.h"

#define CA_NB UINT64_C(1767225600)    /* 2026-01-01T00:00:00Z */
#define CA_NA UINT64_C(2082758400)    /* 2036-01-01T00:00:00Z */
#define AG_NB UINT64_C(1769904000)    /* 2026-02-01T00:00:00Z */
#define AG_NA UINT64_C(1801440000)    /* 2027-02-01T00:00:00Z */
#define CRL_THIS UINT64_C(1772323200) /* 2026-03-01T00:00:00Z */
#define CRL_NEXT UINT64_C(1772928000) /* 2026-03-08T00:00:00Z */
#define NOW UINT64_C(1772409600)      /* 2026-03-02T00:00:00Z */

#define CA_AGENCY "ml.cnltp.ca"
#define CA_NAME "Comité national de lutte contre la traite des personnes"
#define AG_AGENCY "ml.police.bamako"
#define AG_NAME "Brigade des mœurs, Bamako"

struct blob {
	uint8_t *p;
	size_t len;
};

struct vec {
	const char *file;
	const char *comment;
	struct blob built;
};

enum { V_CA, V_AGENCY, V_CRL, V_COUNT };

static struct vec vecs[V_COUNT] = {
	[V_CA] = { "cert_ca.hex",
	    "# The CA's self-signed Certificate (protobuf bytes, no file magic).\n"
	    "# Ed25519 seed: 32 bytes of 0x01. agency_id ml.cnltp.ca, role\n"
	    "# coordination, is_ca, key usage CERT_SIGN|CRL_SIGN, serial 0,\n"
	    "# valid 2026-01-01T00:00:00Z to 2036-01-01T00:00:00Z.\n",
	    { NULL, 0 } },
	[V_AGENCY] = { "cert_agency.hex",
	    "# An agency Certificate issued by cert_ca.hex (protobuf bytes, no\n"
	    "# file magic). Ed25519 seed: 32 bytes of 0x02; transport key: X25519\n"
	    "# of the scalar 32 x 0x03. Serial 1, agency_id ml.police.bamako,\n"
	    "# display name \"Brigade des mœurs, Bamako\", role police, usage\n"
	    "# ENVELOPE|RECEIPT|PREKEY_SIGN|TRANSPORT, valid 2026-02-01 to\n"
	    "# 2027-02-01 (00:00:00Z).\n",
	    { NULL, 0 } },
	[V_CRL] = { "cert_crl.hex",
	    "# A Crl signed by cert_ca.hex (protobuf bytes, no file magic).\n"
	    "# Sequence 3, this_update 2026-03-01T00:00:00Z, next_update\n"
	    "# 2026-03-08T00:00:00Z. Entries: serial 2 (cert_id 32 x 0xc2,\n"
	    "# revoked 2026-02-20, superseded); serial 5 (cert_id 32 x 0xc5,\n"
	    "# revoked 2026-02-27T09:30:00Z, key compromise since 2026-02-25).\n",
	    { NULL, 0 } },
};

static void
seed_key(uint8_t pk[static 32], uint8_t sk[static 64], uint8_t byte)
{
	uint8_t seed[32];

	memset(seed, byte, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static struct blob
sign_cert(const struct cert *c, const uint8_t *sk)
{
	uint8_t *tbs, sig[SIRA_SIG_LEN];
	size_t len;
	struct blob b;

	assert_int_equal(cert_encode_tbs(c, &tbs, &len, NULL), 0);
	assert_int_equal(sign_detached(sk, SIRA_DS_CERT, tbs, len, sig), 0);
	assert_int_equal(cert_encode(tbs, len, sig, &b.p, &b.len, NULL), 0);
	free(tbs);
	return b;
}

/* Build the three objects from the fixed inputs above. */
static void
build(void)
{
	uint8_t ca_pk[32], ca_sk[64], ag_pk[32], ag_sk[64], x[32];
	uint8_t *tbs, sig[SIRA_SIG_LEN];
	size_t len;
	struct cert ca, ag, *loaded = NULL;
	struct crl_entry e[2];

	seed_key(ca_pk, ca_sk, 0x01);
	seed_key(ag_pk, ag_sk, 0x02);

	memset(&ca, 0, sizeof(ca));
	(void)snprintf(ca.agency_id, sizeof(ca.agency_id), CA_AGENCY);
	(void)snprintf(ca.display_name, sizeof(ca.display_name), CA_NAME);
	ca.role = SIRA_ROLE_COORDINATION;
	ca.is_ca = true;
	ca.key_usage = SIRA_KU_CA;
	ca.not_before = CA_NB;
	ca.not_after = CA_NA;
	memcpy(ca.sign_pk, ca_pk, 32);
	vecs[V_CA].built = sign_cert(&ca, ca_sk);
	assert_int_equal(cert_load_ca(vecs[V_CA].built.p, vecs[V_CA].built.len,
			     NOW, &loaded, NULL),
	    0);

	memset(&ag, 0, sizeof(ag));
	(void)snprintf(ag.agency_id, sizeof(ag.agency_id), AG_AGENCY);
	(void)snprintf(ag.display_name, sizeof(ag.display_name), AG_NAME);
	ag.serial = 1;
	memcpy(ag.issuer_id, loaded->id, SIRA_HASH_LEN);
	ag.role = SIRA_ROLE_POLICE;
	ag.key_usage = SIRA_KU_AGENCY;
	ag.not_before = AG_NB;
	ag.not_after = AG_NA;
	memcpy(ag.sign_pk, ag_pk, 32);
	memset(x, 0x03, sizeof(x));
	assert_int_equal(crypto_scalarmult_base(ag.transport_pk, x), 0);
	ag.has_transport = true;
	vecs[V_AGENCY].built = sign_cert(&ag, ca_sk);

	memset(e, 0, sizeof(e));
	e[0].serial = 2;
	memset(e[0].cert_id, 0xc2, SIRA_HASH_LEN);
	e[0].revoked_at = UINT64_C(1771545600); /* 2026-02-20 */
	e[0].reason = SIRA_REVOKE_SUPERSEDED;
	e[1].serial = 5;
	memset(e[1].cert_id, 0xc5, SIRA_HASH_LEN);
	e[1].revoked_at = UINT64_C(1772184600); /* 2026-02-27T09:30:00Z */
	e[1].reason = SIRA_REVOKE_KEY_COMPROMISE;
	e[1].compromised_since = UINT64_C(1771977600); /* 2026-02-25 */
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ loaded->id, 3,
					    CRL_THIS, CRL_NEXT, e, 2 },
			     &tbs, &len, NULL),
	    0);
	assert_int_equal(sign_detached(ca_sk, SIRA_DS_CRL, tbs, len, sig), 0);
	assert_int_equal(crl_encode(tbs, len, sig, &vecs[V_CRL].built.p,
			     &vecs[V_CRL].built.len, NULL),
	    0);
	free(tbs);
	cert_destroy(&loaded);
	sodium_memzero(ca_sk, sizeof(ca_sk));
	sodium_memzero(ag_sk, sizeof(ag_sk));
}

static const char *
vec_path(const struct vec *v)
{
	static char path[1024];
	const char *dir = getenv("SIRA_VECTORS");
	int n;

	if (dir == NULL || *dir == '\0')
		dir = "tests/vectors";
	n = snprintf(path, sizeof(path), "%s/%s", dir, v->file);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static void
regen(const struct vec *v)
{
	const char *path = vec_path(v);
	char *hex = malloc(v->built.len * 2 + 1);
	FILE *fp;

	assert_non_null(hex);
	(void)sodium_bin2hex(
	    hex, v->built.len * 2 + 1, v->built.p, v->built.len);
	fp = fopen(path, "w");
	if (fp == NULL)
		print_error("cannot write %s\n", path);
	assert_non_null(fp);
	assert_true(fprintf(fp,
			"# %s: Sira known-answer vector, made by "
			"SIRA_REGEN_VECTORS=1 tests/unit/test_vectors.c.\n%s",
			v->file, v->comment) > 0);
	/* 64 hex digits a line; the reader joins the lines. */
	for (size_t i = 0; i < v->built.len * 2; i += 64)
		assert_true(fprintf(fp, "%.64s\n", hex + i) > 0);
	assert_int_equal(fclose(fp), 0);
	print_message("regenerated %s (%zu bytes)\n", path, v->built.len);
	free(hex);
}

/*
 * Read a vector file: '#' lines are comments, blank lines are skipped,
 * and the other lines are hex, concatenated.
 */
static struct blob
load(const struct vec *v)
{
	const char *path = vec_path(v);
	uint8_t *text = NULL;
	size_t len = 0, i = 0;
	struct blob b;
	int rc;

	rc = fileio_read(path, 1 << 20, &text, &len, NULL);
	if (rc != 0)
		print_error("cannot read %s (run from the repository root, or "
			    "set SIRA_VECTORS)\n",
		    path);
	assert_int_equal(rc, 0);
	b.p = malloc(len / 2 + 1);
	assert_non_null(b.p);
	b.len = 0;
	while (i < len) {
		size_t end = i, got = 0;

		while (end < len && text[end] != '\n')
			end++;
		if (text[i] != '#' && end > i) {
			size_t n = end - i;

			if (text[end - 1] == '\r')
				n--;
			assert_int_equal(
			    sodium_hex2bin(b.p + b.len, len / 2 + 1 - b.len,
				(const char *)text + i, n, NULL, &got, NULL),
			    0);
			assert_int_equal(got * 2, n);
			b.len += got;
		}
		i = end + 1;
	}
	free(text);
	assert_true(b.len > 0);
	return b;
}

static void
expect_same(const struct vec *v, const struct blob *file)
{
	if (file->len != v->built.len ||
	    memcmp(file->p, v->built.p, file->len) != 0)
		print_error("%s differs from what the fixed inputs give: the "
			    "encoding changed (SIRA_REGEN_VECTORS=1 only if "
			    "that is intended)\n",
		    v->file);
	assert_int_equal(file->len, v->built.len);
	assert_memory_equal(file->p, v->built.p, file->len);
}

static int
setup(void **state)
{
	const char *r = getenv("SIRA_REGEN_VECTORS");

	(void)state;
	if (sodium_init() < 0)
		return -1;
	build();
	if (r != NULL && strcmp(r, "1") == 0)
		for (size_t i = 0; i < V_COUNT; i++)
			regen(&vecs[i]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < V_COUNT; i++) {
		free(vecs[i].built.p);
		vecs[i].built.p = NULL;
	}
	return 0;
}

static void
test_ca_vector(void **state)
{
	struct blob b = load(&vecs[V_CA]);
	struct cert *ca = NULL;
	uint8_t pk[32], sk[64];

	(void)state;
	expect_same(&vecs[V_CA], &b);
	assert_int_equal(cert_load_ca(b.p, b.len, NOW, &ca, NULL), 0);
	seed_key(pk, sk, 0x01);
	assert_memory_equal(ca->sign_pk, pk, 32);
	assert_string_equal(ca->agency_id, CA_AGENCY);
	assert_string_equal(ca->display_name, CA_NAME);
	assert_true(ca->is_ca);
	assert_int_equal(ca->serial, 0);
	assert_int_equal(ca->key_usage, SIRA_KU_CA);
	assert_int_equal(ca->not_before, CA_NB);
	assert_int_equal(ca->not_after, CA_NA);
	cert_destroy(&ca);
	/* One changed byte and it no longer loads. */
	b.p[b.len / 2] ^= 0x01;
	assert_true(cert_load_ca(b.p, b.len, NOW, &ca, NULL) < 0);
	assert_null(ca);
	free(b.p);
}

static void
test_agency_vector(void **state)
{
	struct blob cab = load(&vecs[V_CA]), b = load(&vecs[V_AGENCY]);
	struct blob lb = load(&vecs[V_CRL]);
	struct cert *ca = NULL, *c = NULL;
	struct crl *crl = NULL;
	uint8_t pk[32], sk[64], x[32], xpk[32];

	(void)state;
	expect_same(&vecs[V_AGENCY], &b);
	assert_int_equal(cert_load_ca(cab.p, cab.len, NOW, &ca, NULL), 0);
	assert_int_equal(crl_verify(ca, lb.p, lb.len, &crl, NULL), 0);
	assert_int_equal(
	    cert_verify(ca, crl, bytes_of(b.p, b.len), NOW, &c, NULL), 0);
	seed_key(pk, sk, 0x02);
	memset(x, 0x03, sizeof(x));
	assert_int_equal(crypto_scalarmult_base(xpk, x), 0);
	assert_memory_equal(c->sign_pk, pk, 32);
	assert_true(c->has_transport);
	assert_memory_equal(c->transport_pk, xpk, 32);
	assert_memory_equal(c->issuer_id, ca->id, SIRA_HASH_LEN);
	assert_string_equal(c->agency_id, AG_AGENCY);
	assert_string_equal(c->display_name, AG_NAME);
	assert_int_equal(c->serial, 1);
	assert_int_equal(c->role, SIRA_ROLE_POLICE);
	assert_int_equal(c->key_usage, SIRA_KU_AGENCY);
	assert_int_equal(c->not_before, AG_NB);
	assert_int_equal(c->not_after, AG_NA);
	assert_null(crl_find(crl, c));
	cert_destroy(&c);
	/* Outside its window the same bytes are refused. */
	assert_int_equal(
	    cert_verify(ca, NULL, bytes_of(b.p, b.len), AG_NA + 1, &c, NULL),
	    -SIRA_EEXPIRED);
	b.p[b.len - 1] ^= 0x80;
	assert_int_equal(
	    cert_verify(ca, NULL, bytes_of(b.p, b.len), NOW, &c, NULL),
	    -SIRA_EBADSIG);
	crl_destroy(&crl);
	cert_destroy(&ca);
	free(cab.p);
	free(b.p);
	free(lb.p);
}

static void
test_crl_vector(void **state)
{
	struct blob cab = load(&vecs[V_CA]), b = load(&vecs[V_CRL]);
	struct cert *ca = NULL;
	struct crl *crl = NULL;

	(void)state;
	expect_same(&vecs[V_CRL], &b);
	assert_int_equal(cert_load_ca(cab.p, cab.len, NOW, &ca, NULL), 0);
	assert_int_equal(crl_verify(ca, b.p, b.len, &crl, NULL), 0);
	assert_int_equal(crl_check_fresh(crl, NOW, NULL), 0);
	assert_int_equal(
	    crl_check_fresh(crl, CRL_NEXT + 1, NULL), -SIRA_ECRL_STALE);
	assert_int_equal(crl->sequence, 3);
	assert_int_equal(crl->this_update, CRL_THIS);
	assert_int_equal(crl->next_update, CRL_NEXT);
	assert_memory_equal(crl->issuer_id, ca->id, SIRA_HASH_LEN);
	assert_int_equal(crl->n, 2);
	assert_int_equal(crl->entries[0].serial, 2);
	assert_int_equal(crl->entries[0].reason, SIRA_REVOKE_SUPERSEDED);
	assert_int_equal(crl->entries[0].compromised_since, 0);
	assert_int_equal(crl->entries[1].serial, 5);
	assert_int_equal(crl->entries[1].reason, SIRA_REVOKE_KEY_COMPROMISE);
	assert_int_equal(crl->entries[1].revoked_at, UINT64_C(1772184600));
	assert_int_equal(
	    crl->entries[1].compromised_since, UINT64_C(1771977600));
	crl_destroy(&crl);
	b.p[b.len - 1] ^= 0x01;
	assert_int_equal(crl_verify(ca, b.p, b.len, &crl, NULL), -SIRA_EBADSIG);
	cert_destroy(&ca);
	free(cab.p);
	free(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_vector),
		cmocka_unit_test(test_agency_vector),
		cmocka_unit_test(test_crl_vector),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
