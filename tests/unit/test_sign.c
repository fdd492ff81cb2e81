/*
 * test_sign.c: lib/sign.c, Ed25519 with domain separation. A signature
 * covers LP(purpose) || LP(message) and verifies for that purpose only;
 * libsodium 1.0.18 refuses non-canonical signatures and small-order keys.
 * The framing is checked against libsodium directly, byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sign.h"

static const char *const purposes[] = { SIRA_DS_CERT, SIRA_DS_CRL,
	SIRA_DS_PREKEY, SIRA_DS_MANIFEST, SIRA_DS_RECEIPT, SIRA_DS_CHECKPOINT };
#define NPURPOSES (sizeof(purposes) / sizeof(purposes[0]))

static const uint8_t msg[] = "referral MRN-2026-0042";

static void
seed_key(uint8_t pk[static 32], uint8_t sk[static 64], uint8_t byte)
{
	uint8_t seed[32];

	memset(seed, byte, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void
hex(uint8_t *out, size_t outlen, const char *s)
{
	size_t n = 0;

	assert_int_equal(
	    sodium_hex2bin(out, outlen, s, strlen(s), NULL, &n, NULL), 0);
	assert_int_equal(n, outlen);
}

static void
test_round_trip(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64], got[32], sig[64];

	(void)state;
	sign_keygen(pk, sk);
	sign_keygen(pk2, sk2);
	assert_memory_not_equal(pk, pk2, 32);
	sign_sk_to_pk(sk, got);
	assert_memory_equal(got, pk, 32);
	assert_int_equal(
	    sign_detached(sk, SIRA_DS_RECEIPT, msg, sizeof(msg), sig), 0);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), sig), 0);
	/* Another key, another message. */
	assert_int_equal(
	    sign_verify(pk2, SIRA_DS_RECEIPT, msg, sizeof(msg), sig),
	    -SIRA_EBADSIG);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg) - 1, sig),
	    -SIRA_EBADSIG);
	/* Ed25519 is deterministic. */
	{
		uint8_t again[64];

		assert_int_equal(
		    sign_detached(sk, SIRA_DS_RECEIPT, msg, sizeof(msg), again),
		    0);
		assert_memory_equal(sig, again, 64);
	}
}

/* C8 / R5: a signature made for one purpose is worthless for another. */
static void
test_domain_separation(void **state)
{
	uint8_t pk[32], sk[64], sig[NPURPOSES][64];

	(void)state;
	seed_key(pk, sk, 0x01);
	for (size_t i = 0; i < NPURPOSES; i++)
		assert_int_equal(
		    sign_detached(sk, purposes[i], msg, sizeof(msg), sig[i]),
		    0);
	for (size_t i = 0; i < NPURPOSES; i++) {
		for (size_t j = 0; j < NPURPOSES; j++) {
			int want = i == j ? 0 : -SIRA_EBADSIG;

			assert_int_equal(sign_verify(pk, purposes[j], msg,
					     sizeof(msg), sig[i]),
			    want);
		}
		/* Each purpose is "sira-v1/..." and they all differ. */
		assert_memory_equal(purposes[i], "sira-v1/", 8);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(purposes[i], purposes[j]);
			assert_memory_not_equal(sig[i], sig[j], 64);
		}
	}
}

/* Length prefixes: moving bytes between purpose and message is noticed. */
static void
test_length_framing(void **state)
{
	uint8_t pk[32], sk[64], sig[64];

	(void)state;
	seed_key(pk, sk, 0x02);
	assert_int_equal(
	    sign_detached(sk, "sira-v1/ab", (const uint8_t *)"c", 1, sig), 0);
	assert_int_equal(
	    sign_verify(pk, "sira-v1/ab", (const uint8_t *)"c", 1, sig), 0);
	assert_int_equal(
	    sign_verify(pk, "sira-v1/a", (const uint8_t *)"bc", 2, sig),
	    -SIRA_EBADSIG);
	assert_int_equal(
	    sign_verify(pk, "sira-v1/abc", (const uint8_t *)"", 0, sig),
	    -SIRA_EBADSIG);
	/* An empty message is signed and told apart from one NUL byte. */
	assert_int_equal(sign_detached(sk, SIRA_DS_CERT, NULL, 0, sig), 0);
	assert_int_equal(sign_verify(pk, SIRA_DS_CERT, NULL, 0, sig), 0);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_CERT, (const uint8_t *)"", 1, sig),
	    -SIRA_EBADSIG);
}

/* The signed input is exactly LP(purpose) || LP(m), little-endian. */
static void
test_signed_input_bytes(void **state)
{
	uint8_t pk[32], sk[64], sig[64], raw[64];
	uint8_t in[8 + sizeof(SIRA_DS_MANIFEST) - 1 + 8 + sizeof(msg)];
	size_t plen = strlen(SIRA_DS_MANIFEST), off = 0;

	(void)state;
	seed_key(pk, sk, 0x03);
	memset(in, 0, sizeof(in));
	in[0] = (uint8_t)plen;
	off = 8;
	memcpy(in + off, SIRA_DS_MANIFEST, plen);
	off += plen;
	in[off] = (uint8_t)sizeof(msg);
	off += 8;
	memcpy(in + off, msg, sizeof(msg));
	off += sizeof(msg);
	assert_int_equal(off, sizeof(in));

	assert_int_equal(
	    sign_detached(sk, SIRA_DS_MANIFEST, msg, sizeof(msg), sig), 0);
	assert_int_equal(
	    crypto_sign_verify_detached(sig, in, sizeof(in), pk), 0);
	assert_int_equal(
	    crypto_sign_detached(raw, NULL, in, sizeof(in), sk), 0);
	assert_memory_equal(raw, sig, 64);
	/* A bare signature over the message alone is not a Sira signature. */
	assert_int_equal(
	    crypto_sign_detached(raw, NULL, msg, sizeof(msg), sk), 0);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_MANIFEST, msg, sizeof(msg), raw),
	    -SIRA_EBADSIG);
}

static void
test_flip_every_bit(void **state)
{
	uint8_t pk[32], sk[64], sig[64], m[sizeof(msg)];

	(void)state;
	seed_key(pk, sk, 0x04);
	memcpy(m, msg, sizeof(m));
	assert_int_equal(sign_detached(sk, SIRA_DS_CRL, m, sizeof(m), sig), 0);
	for (size_t i = 0; i < 64 * 8; i++) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(
		    sign_verify(pk, SIRA_DS_CRL, m, sizeof(m), sig),
		    -SIRA_EBADSIG);
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < sizeof(m) * 8; i++) {
		m[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(
		    sign_verify(pk, SIRA_DS_CRL, m, sizeof(m), sig),
		    -SIRA_EBADSIG);
		m[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < 32 * 8; i++) {
		pk[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(
		    sign_verify(pk, SIRA_DS_CRL, m, sizeof(m), sig),
		    -SIRA_EBADSIG);
		pk[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(sign_verify(pk, SIRA_DS_CRL, m, sizeof(m), sig), 0);
}

/* C5 and C7: malleable signatures and weak keys are refused. */
static void
test_malleability_and_weak_keys(void **state)
{
	uint8_t pk[32], sk[64], sig[64], bad[64], l[32], weak[32];
	unsigned carry = 0;

	(void)state;
	seed_key(pk, sk, 0x05);
	assert_int_equal(
	    sign_detached(sk, SIRA_DS_RECEIPT, msg, sizeof(msg), sig), 0);
	/* S + L: the same signature modulo the group order. */
	hex(l, sizeof(l),
	    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
	memcpy(bad, sig, 64);
	for (size_t i = 0; i < 32; i++) {
		unsigned s = (unsigned)bad[32 + i] + l[i] + carry;
		bad[32 + i] = (uint8_t)s;
		carry = s >> 8;
	}
	assert_int_equal(carry, 0);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	/* The top bits of S set. */
	memcpy(bad, sig, 64);
	bad[63] |= 0xe0;
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	/* All zero. */
	memset(bad, 0, 64);
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	/* R of small order with the real key. */
	memcpy(bad, sig, 64);
	memset(bad, 0, 32);
	bad[0] = 1;
	assert_int_equal(
	    sign_verify(pk, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	/* The identity as a public key, with the "verifies anything" sig. */
	memset(weak, 0, 32);
	weak[0] = 1;
	memset(bad, 0, 64);
	bad[0] = 1;
	assert_int_equal(
	    sign_verify(weak, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	memset(weak, 0, 32);
	assert_int_equal(
	    sign_verify(weak, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
	/* A non-canonical encoding of y = 1 (p + 1). */
	memset(weak, 0xff, 32);
	weak[0] = 0xee;
	weak[31] = 0x7f;
	assert_int_equal(
	    sign_verify(weak, SIRA_DS_RECEIPT, msg, sizeof(msg), bad),
	    -SIRA_EBADSIG);
}

/* The public key comes from the seed, not from sk's copy of it. */
static void
test_sk_to_pk_recomputes(void **state)
{
	uint8_t pk1[32], sk1[64], pk2[32], sk2[64], mixed[64], got[32];

	(void)state;
	seed_key(pk1, sk1, 0x06);
	seed_key(pk2, sk2, 0x07);
	sign_sk_to_pk(sk1, got);
	assert_memory_equal(got, pk1, 32);
	memcpy(mixed, sk1, 32);
	memcpy(mixed + 32, pk2, 32);
	sign_sk_to_pk(mixed, got);
	assert_memory_equal(got, pk1, 32);
	memcpy(mixed, sk2, 32);
	memcpy(mixed + 32, pk1, 32);
	sign_sk_to_pk(mixed, got);
	assert_memory_equal(got, pk2, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_domain_separation),
		cmocka_unit_test(test_length_framing),
		cmocka_unit_test(test_signed_input_bytes),
		cmocka_unit_test(test_flip_every_bit),
		cmocka_unit_test(test_malleability_and_weak_keys),
		cmocka_unit_test(test_sk_to_pk_recomputes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
