/*
 * sign.c: owns every Ed25519 operation (crypto_sign_*).
 *
 * The signed input is built in a temporary buffer as LP(purpose) || LP(m);
 * Ed25519 needs the whole message at once, and our signed objects are small
 * (certificates, manifests, receipts, checkpoints). The buffer holds only
 * public data. ED25519_COMPAT is never defined, so verification rejects
 * non-canonical signatures and small-order keys.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "digest.h"
#include "sign.h"

/* Build LP(purpose) || LP(m) in a fresh malloc'd buffer. */
static uint8_t *
signed_input(const char *purpose, const uint8_t *m, size_t len, size_t *outlen)
{
	size_t plen = strlen(purpose);
	uint8_t *buf;

	if (len > SIZE_MAX - 16 - plen)
		return NULL;
	*outlen = 16 + plen + len;
	if ((buf = malloc(*outlen)) == NULL)
		return NULL;
	digest_lp_len(buf, plen);
	memcpy(buf + 8, purpose, plen);
	digest_lp_len(buf + 8 + plen, len);
	if (len > 0)
		memcpy(buf + 16 + plen, m, len);
	return buf;
}

void
sign_keygen(
    uint8_t pk[static SIRA_SIGN_PK_LEN], uint8_t sk[static SIRA_SIGN_SK_LEN])
{
	(void)crypto_sign_keypair(pk, sk);
}

void
sign_sk_to_pk(const uint8_t sk[static SIRA_SIGN_SK_LEN],
    uint8_t pk[static SIRA_SIGN_PK_LEN])
{
	uint8_t tmp[SIRA_SIGN_SK_LEN];

	/*
	 * The second half of an Ed25519 secret key is only a copy of the
	 * public key (crypto_sign_ed25519_sk_to_pk returns it as is).
	 * Recompute the public key from the seed half, so that a secret key
	 * whose halves disagree is noticed by whoever compares the result.
	 */
	(void)crypto_sign_seed_keypair(pk, tmp, sk);
	sodium_memzero(tmp, sizeof(tmp));
}

int
sign_detached(const uint8_t sk[static SIRA_SIGN_SK_LEN], const char *purpose,
    const uint8_t *m, size_t len, uint8_t sig[static SIRA_SIG_LEN])
{
	size_t inlen;
	uint8_t *in;
	int rc = 0;

	if ((in = signed_input(purpose, m, len, &inlen)) == NULL)
		return -SIRA_ENOMEM;
	if (crypto_sign_detached(sig, NULL, in, inlen, sk) != 0)
		rc = -SIRA_ECRYPTO;
	free(in);
	return rc;
}

int
sign_verify(const uint8_t pk[static SIRA_SIGN_PK_LEN], const char *purpose,
    const uint8_t *m, size_t len, const uint8_t sig[static SIRA_SIG_LEN])
{
	size_t inlen;
	uint8_t *in;
	int rc = -SIRA_EBADSIG;

	if ((in = signed_input(purpose, m, len, &inlen)) == NULL)
		return -SIRA_ENOMEM;
	if (crypto_sign_verify_detached(sig, in, inlen, pk) == 0)
		rc = 0;
	free(in);
	return rc;
}

int
sign_pk_to_curve(
    const uint8_t pk[static SIRA_SIGN_PK_LEN], uint8_t out[static 32])
{
	return crypto_sign_ed25519_pk_to_curve25519(out, pk) == 0 ?
	    0 :
	    -SIRA_ECRYPTO;
}

void
sign_sk_to_curve(
    const uint8_t sk[static SIRA_SIGN_SK_LEN], uint8_t out[static 32])
{
	(void)crypto_sign_ed25519_sk_to_curve25519(out, sk);
}
