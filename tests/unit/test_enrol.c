/*
 * test_enrol.c: enrolment requests (lib/enrol.c), made as the agency makes
 * them (agents/crypto/enrol.c) and judged as the committee judges them
 * (certs/ca.c ca_check_pop and ca_certify, certs/request.c), on a real CA
 * directory in a fresh mkdtemp() (docs/PROTOCOL.md, "Enrolment").
 * Hostile requests are built by hand with protobuf-c and signed with the
 * right key, so that the checks after the signature are reached. Every
 * rejection asserts its SIRA_E* code.
 */
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

#include "ca.h"
#include "cert.pb-c.h"
#include "crypto/crypto.h"
#include "enrol.h"
#include "request.h"
#include "signed.h"

#define NOW UINT64_C(1772409600) /* 2026-03-02T00:00:00Z */
#define POLICE "ml.police.bamako"

struct fx {
	char dir[64], cadir[80], out[96];
	struct ca *ca;
	struct cert *cacert; /* borrowed view: loaded from the CA's file */
	struct sira_keys *keys;
	uint8_t *req;
	size_t reqlen;
};

static int
load_ca_cert(const char *cadir, struct cert **out)
{
	char path[128];
	uint8_t buf[8192];
	size_t n;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/ca.cert", cadir);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	return cert_load_ca(buf + 8, n - 8, NOW, out, NULL);
}

static int
make_request(const struct fx *f, const char *id, enum sira_role role,
    const struct sira_keys *keys, uint8_t **req, size_t *len)
{
	return enrol_request_make(
	    &(struct enrol_ask){ id, "Police de Bamako", role, f->cacert },
	    keys, NOW, req, len, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-enrol.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->cadir, sizeof(f->cadir), "%s/ca", f->dir);
	if (ca_create(f->cadir,
		&(struct ca_request){ .agency_id = "ml.cnlctp",
		    .display_name = "Comité national",
		    .days = 3650 },
		NOW, NULL) != 0 ||
	    ca_open(f->cadir, NOW, &f->ca, NULL) != 0 ||
	    ca_unlock(f->ca, NULL, 0, NULL) != 0 ||
	    load_ca_cert(f->cadir, &f->cacert) != 0 ||
	    enrol_keys_new(POLICE, &f->keys, NULL) != 0 ||
	    make_request(
		f, POLICE, SIRA_ROLE_POLICE, f->keys, &f->req, &f->reqlen) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ca_close(&f->ca);
	cert_destroy(&f->cacert);
	keys_destroy(&f->keys);
	free(f->req);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* What the agency makes parses, carries its public keys, proves both. */
static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	char fp[SIRA_ENROL_FP_LEN];
	struct sira_err err;

	assert_int_equal(enrol_parse(f->req, f->reqlen, &r, &err), 0);
	assert_string_equal(r->agency_id, POLICE);
	assert_string_equal(r->display_name, "Police de Bamako");
	assert_int_equal(r->role, SIRA_ROLE_POLICE);
	assert_memory_equal(r->sign_pk, f->keys->sign_pk, SIRA_SIGN_PK_LEN);
	assert_memory_equal(
	    r->transport_pk, f->keys->transport_pk, SIRA_CURVE_KEY_LEN);
	assert_memory_equal(r->ca_id, f->cacert->id, SIRA_HASH_LEN);
	assert_int_equal(r->created_at, NOW);
	assert_int_equal(ca_check_pop(f->ca, r, &err), 0);
	enrol_fingerprint(r, fp);
	assert_int_equal(strlen(fp), SIRA_ENROL_FP_LEN - 1);
	for (size_t i = 0; i < strlen(fp); i++)
		assert_true(i % 5 == 4 ?
			fp[i] == '-' :
			strchr("0123456789ABCDEF", fp[i]) != NULL);
	/* The request holds no secret: neither secret key appears in it. */
	for (size_t i = 0; i + 32 <= f->reqlen; i++) {
		assert_false(memcmp(f->req + i, f->keys->sign_sk, 32) == 0);
		assert_false(
		    memcmp(f->req + i, f->keys->transport_sk, 32) == 0);
	}
	enrol_destroy(&r);
	enrol_destroy(&r); /* accepts NULL */
}

/* Every single bit flipped anywhere is refused. */
static void
test_every_flip_refused(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	uint8_t *b = malloc(f->reqlen);

	assert_non_null(b);
	for (size_t i = 0; i < f->reqlen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(b, f->req, f->reqlen);
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(
			    enrol_parse(b, f->reqlen, &r, NULL), 0);
			assert_null(r);
		}
	}
	free(b);
}

/* Every truncation is refused, the empty one as truncated. */
static void
test_every_truncation_refused(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	struct sira_err err;

	assert_int_equal(enrol_parse(f->req, 0, &r, &err), -SIRA_ETRUNCATED);
	for (size_t n = 1; n < f->reqlen; n++)
		assert_int_not_equal(enrol_parse(f->req, n, &r, NULL), 0);
	assert_null(r);
	assert_int_equal(
	    enrol_parse(f->req, SIRA_ENROL_MAX + 1, &r, &err), -SIRA_ETOOBIG);
}

/* Fields of a hand-made tbs; tweak changes them before signing. */
struct hand {
	uint32_t version;
	int role;
	const uint8_t *transport_sk; /* the proof is made with this key */
};

/* A request signed by f->keys, with h's changes. */
static void
hand_made(
    const struct fx *f, const struct hand *h, uint8_t **out, size_t *outlen)
{
	Sira__V1__EnrolRequestTBS t = SIRA__V1__ENROL_REQUEST_TBS__INIT;
	struct enrol_request r = { 0 };
	uint8_t tbs[1024], sig[64], ca_curve[32];
	size_t len;

	(void)snprintf(r.agency_id, sizeof(r.agency_id), POLICE);
	memcpy(r.sign_pk, f->keys->sign_pk, 32);
	memcpy(r.transport_pk, f->keys->transport_pk, 32);
	randombytes_buf(r.nonce, sizeof(r.nonce));
	memcpy(r.ca_id, f->cacert->id, 32);
	randombytes_buf(r.pop_nonce, sizeof(r.pop_nonce));
	{
		uint8_t m[32];
		enrol_pop_digest(&r, m);
		assert_int_equal(
		    sign_pk_to_curve(f->cacert->sign_pk, ca_curve), 0);
		assert_int_equal(crypto_box_easy(r.pop, m, 32, r.pop_nonce,
				     ca_curve, h->transport_sk),
		    0);
	}
	t.version = h->version;
	t.agency_id = r.agency_id;
	t.display_name = (char *)"Police de Bamako";
	t.role = (Sira__V1__Role)h->role;
	t.sign_pk.data = r.sign_pk;
	t.sign_pk.len = 32;
	t.transport_pk.data = r.transport_pk;
	t.transport_pk.len = 32;
	t.created_at = NOW;
	t.nonce.data = r.nonce;
	t.nonce.len = 16;
	t.ca_id.data = r.ca_id;
	t.ca_id.len = 32;
	t.pop_nonce.data = r.pop_nonce;
	t.pop_nonce.len = 24;
	t.pop.data = r.pop;
	t.pop.len = 48;
	len = protobuf_c_message_pack(&t.base, tbs);
	assert_int_equal(
	    sign_detached(f->keys->sign_sk, SIRA_DS_ENROL, tbs, len, sig), 0);
	assert_int_equal(signed_join(tbs, len, sig, out, outlen, NULL), 0);
}

/* Signed but wrong inside: each field rule gives its own code. */
static void
test_field_rules(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	struct sira_err err;
	uint8_t *b;
	size_t len;

	hand_made(f,
	    &(struct hand){ 1, SIRA_ROLE_BROKER, f->keys->transport_sk }, &b,
	    &len);
	assert_int_equal(enrol_parse(b, len, &r, &err), -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	free(b);
	hand_made(f, &(struct hand){ 1, 0, f->keys->transport_sk }, &b, &len);
	assert_int_equal(enrol_parse(b, len, &r, &err), -SIRA_EINVAL);
	free(b);
	hand_made(f,
	    &(struct hand){ 2, SIRA_ROLE_POLICE, f->keys->transport_sk }, &b,
	    &len);
	assert_int_equal(enrol_parse(b, len, &r, &err), -SIRA_EVERSION);
	free(b);
	/* The same, done right, parses: the rules above are what refused. */
	hand_made(f, &(struct hand){ 1, SIRA_ROLE_NGO, f->keys->transport_sk },
	    &b, &len);
	assert_int_equal(enrol_parse(b, len, &r, &err), 0);
	assert_int_equal(ca_check_pop(f->ca, r, &err), 0);
	enrol_destroy(&r);
	free(b);
	/* enrol_encode_tbs refuses what the parser would refuse. */
	{
		struct enrol_request bad = { 0 };
		uint8_t *tbs = NULL;
		(void)snprintf(bad.agency_id, sizeof(bad.agency_id), POLICE);
		(void)snprintf(bad.display_name, sizeof(bad.display_name), "P");
		bad.role = SIRA_ROLE_BROKER;
		assert_int_equal(
		    enrol_encode_tbs(&bad, &tbs, &len, &err), -SIRA_EINVAL);
		assert_null(tbs);
	}
}

/* A valid signature without the transport secret fails the proof. */
static void
test_pop_without_transport_secret(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	struct sira_keys *other = NULL;
	struct sira_err err;
	uint8_t *b;
	size_t len;

	assert_int_equal(enrol_keys_new(POLICE, &other, NULL), 0);
	hand_made(f, &(struct hand){ 1, SIRA_ROLE_POLICE, other->transport_sk },
	    &b, &len);
	assert_int_equal(enrol_parse(b, len, &r, &err), 0);
	assert_int_equal(ca_check_pop(f->ca, r, &err), -SIRA_EBADSIG);
	assert_int_equal(err.code, SIRA_EBADSIG);
	enrol_destroy(&r);
	free(b);
	keys_destroy(&other);
}

/* A request made for another CA is refused by this one. */
static void
test_pop_other_ca(void **state)
{
	struct fx *f = *state;
	struct enrol_request *r = NULL;
	struct sira_err err;

	assert_int_equal(enrol_parse(f->req, f->reqlen, &r, &err), 0);
	r->ca_id[0] ^= 1;
	assert_int_equal(ca_check_pop(f->ca, r, &err), -SIRA_EUNKNOWN_CA);
	{
		struct request_verdict v;
		assert_int_equal(request_check_records(f->ca, r, NOW, &v, &err),
		    -SIRA_EUNKNOWN_CA);
	}
	enrol_destroy(&r);
}

static void
test_fingerprint_match(void **state)
{
	(void)state;
	const char *fp = "3126-0E6A-BFC1-E2FF-6238-8257";

	assert_true(enrol_fingerprint_match(fp, fp));
	assert_true(enrol_fingerprint_match("31260e6abfc1e2ff62388257", fp));
	assert_true(
	    enrol_fingerprint_match("3126 0e6a bfc1 e2ff 6238 8257", fp));
	assert_false(
	    enrol_fingerprint_match("3126-0E6A-BFC1-E2FF-6238-825", fp));
	assert_false(
	    enrol_fingerprint_match("3126-0E6A-BFC1-E2FF-6238-82570", fp));
	assert_false(enrol_fingerprint_match("", fp));
	assert_false(
	    enrol_fingerprint_match("3126-0E6A-BFC1-E2FF-6238-8258", fp));
}

/* Sign r (parsed from req) as sira-cert sign-request does. */
static int
certify(struct fx *f, const uint8_t *req, size_t len, const char *out,
    struct request_verdict *v, struct sira_err *err)
{
	struct enrol_request *r = NULL;
	struct cert *c = NULL;
	int rc;

	if ((rc = enrol_parse(req, len, &r, err)) == 0 &&
	    (rc = request_check_records(f->ca, r, NOW, v, err)) == 0 &&
	    (rc = ca_check_pop(f->ca, r, err)) == 0)
		rc = ca_certify(f->ca,
		    &(struct ca_request){ .agency_id = r->agency_id,
			.display_name = r->display_name,
			.role = r->role,
			.not_before = NOW,
			.days = 365,
			.sign_pk = r->sign_pk,
			.transport_pk = r->transport_pk,
			.request_id = r->id },
		    out, NOW, &c, err);
	if (rc == 0) {
		assert_memory_equal(c->sign_pk, r->sign_pk, 32);
		assert_memory_equal(c->transport_pk, r->transport_pk, 32);
		assert_string_equal(c->agency_id, r->agency_id);
	}
	cert_destroy(&c);
	enrol_destroy(&r);
	return rc;
}

/* The committee's records: first, replay, renewal, taken ids, revoked. */
static void
test_records(void **state)
{
	struct fx *f = *state;
	struct request_verdict v;
	struct sira_keys *k2 = NULL;
	struct sira_err err;
	uint8_t *b = NULL;
	size_t len;
	char out[128];
	uint64_t first;

	(void)snprintf(out, sizeof(out), "%s/p1.cert", f->dir);
	assert_int_equal(certify(f, f->req, f->reqlen, out, &v, &err), 0);
	assert_false(v.renewal);
	assert_int_equal(access(out, F_OK), 0);
	first = 1;
	/* The same request again: already signed. */
	(void)snprintf(out, sizeof(out), "%s/p1b.cert", f->dir);
	assert_int_equal(
	    certify(f, f->req, f->reqlen, out, &v, &err), -SIRA_EREPLAY);
	assert_int_not_equal(access(out, F_OK), 0);
	/* A new request with the same keys: a renewal. */
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_POLICE, f->keys, &b, &len), 0);
	(void)snprintf(out, sizeof(out), "%s/p2.cert", f->dir);
	assert_int_equal(certify(f, b, len, out, &v, &err), 0);
	assert_true(v.renewal);
	assert_int_equal(v.renews_serial, first);
	free(b);
	/* Same keys, another role: refused. */
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_NGO, f->keys, &b, &len), 0);
	assert_int_equal(certify(f, b, len, out, &v, &err), -SIRA_EINVAL);
	free(b);
	/* The same keys under another id: refused. */
	assert_int_equal(make_request(f, "ml.police.kayes", SIRA_ROLE_POLICE,
			     f->keys, &b, &len),
	    0);
	(void)snprintf(out, sizeof(out), "%s/k.cert", f->dir);
	assert_int_equal(certify(f, b, len, out, &v, &err), -SIRA_EEXIST);
	free(b);
	/* Other keys for an id with a valid certificate: refused. */
	assert_int_equal(enrol_keys_new(POLICE, &k2, NULL), 0);
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_POLICE, k2, &b, &len), 0);
	assert_int_equal(certify(f, b, len, out, &v, &err), -SIRA_EEXIST);
	free(b);
	/* Revoked keys are not renewed; superseded ones may be. */
	assert_int_equal(
	    ca_revoke(f->ca,
		&(struct ca_revocation){ 1, SIRA_REVOKE_SUPERSEDED, 0, 7 }, NOW,
		&err),
	    0);
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_POLICE, f->keys, &b, &len), 0);
	(void)snprintf(out, sizeof(out), "%s/p3.cert", f->dir);
	assert_int_equal(certify(f, b, len, out, &v, &err), 0);
	assert_true(v.renewal);
	free(b);
	assert_int_equal(
	    ca_revoke(f->ca,
		&(struct ca_revocation){ 2, SIRA_REVOKE_KEY_COMPROMISE, 0, 7 },
		NOW, &err),
	    0);
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_POLICE, f->keys, &b, &len), 0);
	(void)snprintf(out, sizeof(out), "%s/p4.cert", f->dir);
	assert_int_equal(certify(f, b, len, out, &v, &err), -SIRA_EREVOKED);
	free(b);
	keys_destroy(&k2);
}

/* An offboarded agency does not come back under its id. */
static void
test_offboarded(void **state)
{
	struct fx *f = *state;
	struct request_verdict v;
	struct sira_keys *k2 = NULL;
	struct sira_err err;
	uint8_t *b = NULL;
	size_t len;
	char out[128];

	(void)snprintf(out, sizeof(out), "%s/o1.cert", f->dir);
	assert_int_equal(certify(f, f->req, f->reqlen, out, &v, &err), 0);
	assert_int_equal(
	    ca_revoke(f->ca,
		&(struct ca_revocation){ 1, SIRA_REVOKE_OFFBOARDED, 0, 7 }, NOW,
		&err),
	    0);
	assert_int_equal(enrol_keys_new(POLICE, &k2, NULL), 0);
	assert_int_equal(
	    make_request(f, POLICE, SIRA_ROLE_POLICE, k2, &b, &len), 0);
	(void)snprintf(out, sizeof(out), "%s/o2.cert", f->dir);
	assert_int_equal(certify(f, b, len, out, &v, &err), -SIRA_EREVOKED);
	free(b);
	keys_destroy(&k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_every_flip_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_every_truncation_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_field_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pop_without_transport_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pop_other_ca, setup, teardown),
		cmocka_unit_test(test_fingerprint_match),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_offboarded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
