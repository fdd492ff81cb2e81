/*
 * test_sigcache.c: lib/sigcache.c, the daemon's memory of verified
 * signatures. A success is remembered and a repeat costs no verification;
 * a failure never is, so a forged signature is refused every time, even
 * next to a good one of the same message; purpose, key, message and
 * signature each count; a full set replaces its oldest way and every
 * signature still verifies; a NULL cache is plain sign_verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "sigcache.h"

struct key {
	uint8_t pk[SIRA_SIGN_PK_LEN], sk[SIRA_SIGN_SK_LEN];
};

static void
keypair(struct key *k, uint8_t byte)
{
	uint8_t seed[32];

	memset(seed, byte, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
}

static void
sign(const struct key *k, const char *purpose, const char *m, uint8_t *sig)
{
	assert_int_equal(
	    sign_detached(k->sk, purpose, (const uint8_t *)m, strlen(m), sig),
	    0);
}

static int
check(struct sigcache *c, const struct key *k, const char *purpose,
    const char *m, const uint8_t *sig)
{
	return sigcache_verify(
	    c, k->pk, purpose, (const uint8_t *)m, strlen(m), sig);
}

static void
test_remembers_success(void **state)
{
	struct sigcache c;
	struct key k;
	uint8_t sig[SIRA_SIG_LEN];

	(void)state;
	sigcache_init(&c);
	keypair(&k, 1);
	sign(&k, SIRA_DS_CERT, "certificate of ml.ngo.espoir", sig);
	assert_int_equal(
	    check(&c, &k, SIRA_DS_CERT, "certificate of ml.ngo.espoir", sig),
	    0);
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.hits, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(check(&c, &k, SIRA_DS_CERT,
				     "certificate of ml.ngo.espoir", sig),
		    0);
	assert_int_equal(c.hits, 10);
	assert_int_equal(c.misses, 1);
}

static void
test_never_remembers_failure(void **state)
{
	struct sigcache c;
	struct key k, other;
	uint8_t sig[SIRA_SIG_LEN], bad[SIRA_SIG_LEN];
	const char *m = "prekey of ml.police.bamako";

	(void)state;
	sigcache_init(&c);
	keypair(&k, 2);
	keypair(&other, 3);
	sign(&k, SIRA_DS_PREKEY, m, sig);
	memcpy(bad, sig, sizeof(bad));
	bad[5] ^= 0x01;
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    check(&c, &k, SIRA_DS_PREKEY, m, bad), -SIRA_EBADSIG);
	assert_int_equal(c.misses, 3);
	/* The good one is then verified and kept; the forged one is still
	 * refused, and so is every change of one of the four inputs. */
	assert_int_equal(check(&c, &k, SIRA_DS_PREKEY, m, sig), 0);
	assert_int_equal(check(&c, &k, SIRA_DS_PREKEY, m, sig), 0);
	assert_int_equal(c.hits, 1);
	assert_int_equal(check(&c, &k, SIRA_DS_PREKEY, m, bad), -SIRA_EBADSIG);
	assert_int_equal(check(&c, &k, SIRA_DS_CERT, m, sig), -SIRA_EBADSIG);
	assert_int_equal(
	    check(&c, &other, SIRA_DS_PREKEY, m, sig), -SIRA_EBADSIG);
	assert_int_equal(
	    check(&c, &k, SIRA_DS_PREKEY, "prekey of ml.police.bamakO", sig),
	    -SIRA_EBADSIG);
	assert_int_equal(c.hits, 1);
}

/* More signatures than the cache holds: each set replaces its oldest way,
 * and every one, remembered or forgotten, still verifies. */
static void
test_full_cache(void **state)
{
	enum { N = SIGCACHE_SETS * SIGCACHE_WAYS * 3 };
	static uint8_t sigs[N][SIRA_SIG_LEN];
	char m[N][32];
	struct sigcache c;
	struct key k;

	(void)state;
	sigcache_init(&c);
	keypair(&k, 4);
	for (int i = 0; i < N; i++) {
		(void)snprintf(m[i], sizeof(m[i]), "certificate %d", i);
		sign(&k, SIRA_DS_CERT, m[i], sigs[i]);
		assert_int_equal(check(&c, &k, SIRA_DS_CERT, m[i], sigs[i]), 0);
	}
	assert_int_equal(c.misses, N);
	for (size_t s = 0; s < SIGCACHE_SETS; s++)
		assert_true(c.used[s] <= SIGCACHE_WAYS);
	/* Newest first: the newest of each set are still there. */
	for (int i = N - 1; i >= 0; i--)
		assert_int_equal(check(&c, &k, SIRA_DS_CERT, m[i], sigs[i]), 0);
	/* Some were kept (the newest of each set), not all. */
	assert_true(c.hits > 0);
	assert_true(c.hits < N);
	assert_int_equal(c.hits + c.misses, 2 * N);
}

static void
test_null_cache(void **state)
{
	struct key k;
	uint8_t sig[SIRA_SIG_LEN];

	(void)state;
	keypair(&k, 5);
	sign(&k, SIRA_DS_RECEIPT, "receipt", sig);
	assert_int_equal(check(NULL, &k, SIRA_DS_RECEIPT, "receipt", sig), 0);
	sig[0] ^= 0x80;
	assert_int_equal(
	    check(NULL, &k, SIRA_DS_RECEIPT, "receipt", sig), -SIRA_EBADSIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remembers_success),
		cmocka_unit_test(test_never_remembers_failure),
		cmocka_unit_test(test_full_cache),
		cmocka_unit_test(test_null_cache),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
