/*
 * test_digest.c: lib/digest.c, SHA-256 plain and domain-separated. The
 * plain digests are checked against FIPS 180-2 vectors; the LP framing is
 * checked against SHA-256 of the bytes spelled out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "digest.h"

static void
hex(uint8_t *out, size_t outlen, const char *s)
{
	size_t n = 0;

	assert_int_equal(
	    sodium_hex2bin(out, outlen, s, strlen(s), NULL, &n, NULL), 0);
	assert_int_equal(n, outlen);
}

static void
test_sha256_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "",
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc",
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	uint8_t got[SIRA_HASH_LEN], want[SIRA_HASH_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex(want, sizeof(want), v[i].out);
		digest_sha256(got, (const uint8_t *)v[i].in, strlen(v[i].in));
		assert_memory_equal(got, want, SIRA_HASH_LEN);
	}
}

static void
test_sha256_parts(void **state)
{
	static const char *s =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	size_t len = strlen(s);
	uint8_t whole[SIRA_HASH_LEN], got[SIRA_HASH_LEN];

	(void)state;
	digest_sha256(whole, (const uint8_t *)s, len);
	/* Every split into two parts, and one with an empty middle part. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct digest_part p[3] = {
			{ (const uint8_t *)s, cut },
			{ (const uint8_t *)s + cut, 0 },
			{ (const uint8_t *)s + cut, len - cut },
		};

		digest_sha256_parts(got, p, 3);
		assert_memory_equal(got, whole, SIRA_HASH_LEN);
	}
	/* No parts at all is SHA-256 of nothing. */
	digest_sha256_parts(got, NULL, 0);
	hex(whole, sizeof(whole),
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_memory_equal(got, whole, SIRA_HASH_LEN);
}

static void
test_lp_len(void **state)
{
	uint8_t out[8];
	static const uint8_t zero[8] = { 0 };
	static const uint8_t seq[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff };
	static const uint8_t k300[8] = { 0x2c, 0x01, 0, 0, 0, 0, 0, 0 };

	(void)state;
	digest_lp_len(out, 0);
	assert_memory_equal(out, zero, 8);
	digest_lp_len(out, UINT64_C(0x0102030405060708));
	assert_memory_equal(out, seq, 8);
	digest_lp_len(out, UINT64_MAX);
	assert_memory_equal(out, ones, 8);
	digest_lp_len(out, 300);
	assert_memory_equal(out, k300, 8);
}

/* digest_lp(purpose, parts) == SHA-256 of the framing written by hand. */
static void
test_lp_framing(void **state)
{
	uint8_t buf[128], want[SIRA_HASH_LEN], got[SIRA_HASH_LEN];
	struct digest_part p[2] = { { (const uint8_t *)"ab", 2 },
		{ (const uint8_t *)"", 0 } };
	size_t n = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[n] = 15; /* strlen("sira-v1/cert-id") */
	n += 8;
	memcpy(buf + n, "sira-v1/cert-id", 15);
	n += 15;
	buf[n] = 2;
	n += 8;
	memcpy(buf + n, "ab", 2);
	n += 2;
	n += 8; /* LP of the empty part: eight zero bytes */
	digest_sha256(want, buf, n);
	digest_lp(got, SIRA_DH_CERT_ID, p, 2);
	assert_memory_equal(got, want, SIRA_HASH_LEN);
	/* Without the empty part, the hash differs. */
	digest_lp(got, SIRA_DH_CERT_ID, p, 1);
	assert_memory_not_equal(got, want, SIRA_HASH_LEN);
	digest_sha256(want, buf, n - 8);
	assert_memory_equal(got, want, SIRA_HASH_LEN);
}

/* The framing makes every input parse one way only. */
static void
test_lp_unambiguous(void **state)
{
	uint8_t a[SIRA_HASH_LEN], b[SIRA_HASH_LEN];
	struct digest_part ab_c[2] = { { (const uint8_t *)"ab", 2 },
		{ (const uint8_t *)"c", 1 } };
	struct digest_part a_bc[2] = { { (const uint8_t *)"a", 1 },
		{ (const uint8_t *)"bc", 2 } };
	struct digest_part abc[1] = { { (const uint8_t *)"abc", 3 } };
	static const char *const purposes[] = { SIRA_DH_CERT_ID, SIRA_DH_CRL_ID,
		SIRA_DH_PREKEY_ID, SIRA_DH_ENVELOPE_ID, SIRA_DH_MANIFEST };
	uint8_t h[5][SIRA_HASH_LEN];

	(void)state;
	digest_lp(a, SIRA_DH_CRL_ID, ab_c, 2);
	digest_lp(b, SIRA_DH_CRL_ID, a_bc, 2);
	assert_memory_not_equal(a, b, SIRA_HASH_LEN);
	digest_lp(b, SIRA_DH_CRL_ID, abc, 1);
	assert_memory_not_equal(a, b, SIRA_HASH_LEN);
	/* Bytes cannot move between the purpose and the first part. */
	digest_lp(a, "sira-v1/x", abc, 1);
	digest_lp(b, "sira-v1/xa",
	    (const struct digest_part[]){ { (const uint8_t *)"bc", 2 } }, 1);
	assert_memory_not_equal(a, b, SIRA_HASH_LEN);
	/* Same input, different purposes: all different. */
	for (size_t i = 0; i < 5; i++) {
		digest_lp(h[i], purposes[i], abc, 1);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(h[i], h[j], SIRA_HASH_LEN);
		assert_memory_equal(purposes[i], "sira-v1/", 8);
	}
	/* And the plain digest of the same bytes is none of them. */
	digest_sha256(a, (const uint8_t *)"abc", 3);
	for (size_t i = 0; i < 5; i++)
		assert_memory_not_equal(a, h[i], SIRA_HASH_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_parts),
		cmocka_unit_test(test_lp_len),
		cmocka_unit_test(test_lp_framing),
		cmocka_unit_test(test_lp_unambiguous),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
