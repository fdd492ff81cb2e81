/*
 * bench_envelope.c: how fast envelopes seal and open (agents/crypto/seal.c),
 * next to raw Ed25519 on the same machine. Built and run by `make bench`; not a
 * test: it asserts nothing but that every operation succeeds (it aborts
 * otherwise).
 *
 * Output: one figure per line, key=value, stable keys (STYLE.md 2.8):
 *   seal_<size>_<n>rcpt_per_s   envelopes sealed per second
 *   open_<size>_<n>rcpt_per_s   envelopes opened per second by one of the
 *                               n recipients (decode, unwrap, decrypt,
 *                               manifest signature and checks)
 *   ed25519_sign_per_s, ed25519_verify_per_s   crypto_sign_detached and
 *                               crypto_sign_verify_detached, 64-byte message
 * for bodies of 1 KiB and 64 KiB (a 64 KiB body pads to the 256 KiB size
 * bucket) and 1 or 10 recipients. Each figure is the rate over about
 * BENCH_SECONDS of wall time, after one untimed warm-up operation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "keyfile.h"
#include "crypto/crypto.h"
#include "../tools/bench_util.h"

#define BENCH_SECONDS 0.5
#define NOW UINT64_C(1772409600) /* 2026-03-02T00:00:00Z */
#define MAX_RCPT 10

#define CHECK(expr) \
	do { \
		if (!(expr)) { \
			fprintf(stderr, "bench_envelope: %s failed (%s)\n", \
			    #expr, err.msg); \
			abort(); \
		} \
	} while (0)

static struct sira_err err;

struct party {
	struct sira_keys *keys;
	struct cert *cert;
	struct prekey *prekey;
	struct prekey_secret *sec;
};

static struct party ca, sender, rcpt[MAX_RCPT];

/* A fresh identity and certificate (the CA's own when is_ca). */
static void
make_party(struct party *p, const char *id, enum sira_role role, bool is_ca)
{
	uint8_t sig[SIRA_SIG_LEN], *tbs, *raw;
	size_t tbslen, rawlen;
	struct cert c;

	memset(&c, 0, sizeof(c));
	CHECK((p->keys = keys_new()) != NULL);
	(void)snprintf(
	    p->keys->agency_id, sizeof(p->keys->agency_id), "%s", id);
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", id);
	(void)snprintf(c.display_name, sizeof(c.display_name), "%s", id);
	sign_keygen(p->keys->sign_pk, p->keys->sign_sk);
	memcpy(c.sign_pk, p->keys->sign_pk, SIRA_SIGN_PK_LEN);
	c.role = role;
	c.is_ca = is_ca;
	c.key_usage = cert_role_usage(role, is_ca);
	c.not_before = NOW - 86400;
	c.not_after = NOW + 365 * 86400;
	if (!is_ca) {
		static uint64_t serial;
		c.serial = ++serial;
		memcpy(c.issuer_id, ca.cert->id, SIRA_HASH_LEN);
		CHECK(crypto_box_keypair(
			  p->keys->transport_pk, p->keys->transport_sk) == 0);
		p->keys->has_transport = true;
		c.has_transport = true;
		memcpy(
		    c.transport_pk, p->keys->transport_pk, SIRA_CURVE_KEY_LEN);
	}
	CHECK(cert_encode_tbs(&c, &tbs, &tbslen, &err) == 0);
	CHECK(sign_detached(is_ca ? p->keys->sign_sk : ca.keys->sign_sk,
		  SIRA_DS_CERT, tbs, tbslen, sig) == 0);
	CHECK(cert_encode(tbs, tbslen, sig, &raw, &rawlen, &err) == 0);
	if (is_ca)
		CHECK(cert_load_ca(raw, rawlen, NOW, &p->cert, &err) == 0);
	else
		CHECK(cert_verify(ca.cert, NULL, bytes_of(raw, rawlen), NOW,
			  &p->cert, &err) == 0);
	free(tbs);
	free(raw);
	if (!is_ca && role != SIRA_ROLE_POLICE)
		CHECK(
		    prekey_generate(&(struct prekey_owner){ p->cert, p->keys },
			NOW, SIRA_PREKEY_ROTATE_DEFAULT, &p->prekey, &p->sec,
			&err) == 0);
}

static void
free_party(struct party *p)
{
	prekey_destroy(&p->prekey);
	prekey_secret_destroy(&p->sec);
	cert_destroy(&p->cert);
	keys_destroy(&p->keys);
}

/* ---- sealing ---- */

struct job {
	struct seal_recipient r[MAX_RCPT];
	struct seal_params p;
	uint8_t *body;
	size_t body_len;
};

static void
job_init(struct job *j, size_t body_len, size_t n)
{
	memset(j, 0, sizeof(*j));
	for (size_t i = 0; i < n; i++) {
		j->r[i].cert = rcpt[i].cert;
		j->r[i].prekey = rcpt[i].prekey;
		j->r[i].pair_seq = 1;
	}
	j->p.sender = sender.cert;
	j->p.sender_keys = sender.keys;
	j->p.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL;
	j->p.content_type = "sira.referral.v1";
	j->p.case_ref = "BENCH-1";
	j->p.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE;
	j->p.now = NOW;
	j->p.ttl = SIRA_TTL_DEFAULT;
	j->p.recipients = j->r;
	j->p.n_recipients = n;
	CHECK((j->body = malloc(body_len)) != NULL);
	randombytes_buf(j->body, body_len);
	j->body_len = body_len;
}

static void
seal_one(const struct job *j, uint8_t **env, size_t *envlen)
{
	struct sealed_out out;
	struct seal *s;

	CHECK(seal_begin(&j->p, &s, &err) == 0);
	CHECK(seal_finish(s, j->body, j->body_len, &out, &err) == 0);
	*env = out.env;
	*envlen = out.len;
	seal_destroy(&s);
}

/* ---- opening, as recipient 0 ---- */

static int
cb_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	(void)ctx;
	if (memcmp(cert_id, rcpt[0].cert->id, SIRA_HASH_LEN) != 0 ||
	    memcmp(key_id, rcpt[0].sec->key_id, SIRA_PREKEY_ID_LEN) != 0)
		return -SIRA_EPREKEY;
	*out = rcpt[0].sec;
	return 0;
}

static int
cb_sender(void *ctx, const char *agency_id, const uint8_t *cert_id, uint64_t at,
    const struct cert **out, struct sira_err *e)
{
	(void)ctx;
	(void)at;
	if (strcmp(agency_id, sender.cert->agency_id) != 0 ||
	    memcmp(cert_id, sender.cert->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(e, SIRA_EUNKNOWN_AGENCY, "unknown sender");
	*out = sender.cert;
	return 0;
}

static int
cb_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	(void)ctx;
	(void)cert_id;
	(void)msgid;
	return 0;
}

static void
open_one(const uint8_t *env, size_t envlen, size_t body_len)
{
	struct open_keys keys = { rcpt[0].cert, NULL, cb_prekey, cb_sender,
		cb_seen, NULL };
	struct opened *o;

	CHECK(seal_open(env, envlen, &keys, NOW + 60, &o, &err) == 0);
	CHECK(o->payload_len == body_len);
	seal_opened_destroy(&o);
}

/* ---- the cases ---- */

static void
report(const char *key, unsigned long n, double secs)
{
	printf("%s=%.0f\n", key, (double)n / secs);
	fflush(stdout);
}

static void
bench_case(const char *size_name, size_t body_len, size_t n)
{
	char key[64];
	struct job j;
	uint8_t *env;
	size_t envlen;
	unsigned long count;
	double t0, t;

	job_init(&j, body_len, n);
	seal_one(&j, &env, &envlen); /* warm-up, and the envelope to open */
	count = 0;
	t0 = bench_now_s();
	do {
		uint8_t *e;
		size_t elen;
		seal_one(&j, &e, &elen);
		free(e);
		count++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	(void)snprintf(key, sizeof(key), "seal_%s_%zurcpt_per_s", size_name, n);
	report(key, count, t);

	open_one(env, envlen, body_len);
	count = 0;
	t0 = bench_now_s();
	do {
		open_one(env, envlen, body_len);
		count++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	(void)snprintf(key, sizeof(key), "open_%s_%zurcpt_per_s", size_name, n);
	report(key, count, t);
	free(env);
	free(j.body);
}

static void
bench_ed25519(void)
{
	uint8_t m[64], sig[crypto_sign_BYTES];
	unsigned long count;
	double t0, t;

	randombytes_buf(m, sizeof(m));
	CHECK(crypto_sign_detached(
		  sig, NULL, m, sizeof(m), sender.keys->sign_sk) == 0);
	count = 0;
	t0 = bench_now_s();
	do {
		CHECK(crypto_sign_detached(
			  sig, NULL, m, sizeof(m), sender.keys->sign_sk) == 0);
		count++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	report("ed25519_sign_per_s", count, t);

	count = 0;
	t0 = bench_now_s();
	do {
		CHECK(crypto_sign_verify_detached(
			  sig, m, sizeof(m), sender.keys->sign_pk) == 0);
		count++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	report("ed25519_verify_per_s", count, t);
}

int
main(void)
{
	char id[32];

	if (sodium_init() < 0) {
		fprintf(stderr, "bench_envelope: sodium_init failed\n");
		return 1;
	}
	make_party(&ca, "ml.bench.ca", SIRA_ROLE_COORDINATION, true);
	make_party(&sender, "ml.bench.sender", SIRA_ROLE_POLICE, false);
	for (size_t i = 0; i < MAX_RCPT; i++) {
		(void)snprintf(id, sizeof(id), "ml.bench.r%zu", i);
		make_party(&rcpt[i], id, SIRA_ROLE_NGO, false);
	}
	bench_case("1k", 1024, 1);
	bench_case("1k", 1024, 10);
	bench_case("64k", 65536, 1);
	bench_case("64k", 65536, 10);
	bench_ed25519();
	for (size_t i = 0; i < MAX_RCPT; i++)
		free_party(&rcpt[i]);
	free_party(&sender);
	free_party(&ca);
	return 0;
}
