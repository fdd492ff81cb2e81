/*
 * sign.h: Ed25519 signatures with domain separation. sign.c is the only file
 * that calls crypto_sign_*.
 *
 * A signature always covers LP(purpose) || LP(message), where purpose is one
 * of the SIRA_DS_* strings below, so a signature made for one kind of object
 * can never be accepted as another (a receipt as a certificate, say).
 */
#ifndef SIRA_SIGN_H
#define SIRA_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SIRA_SIGN_PK_LEN 32
#define SIRA_SIGN_SK_LEN 64
#define SIRA_SIG_LEN 64

#define SIRA_DS_CERT "sira-v1/cert"
#define SIRA_DS_CRL "sira-v1/crl"
#define SIRA_DS_PREKEY "sira-v1/prekey"
#define SIRA_DS_MANIFEST "sira-v1/manifest"
#define SIRA_DS_RECEIPT "sira-v1/receipt"
#define SIRA_DS_CHECKPOINT "sira-v1/checkpoint"
#define SIRA_DS_ENROL "sira-v1/enrol-request"
#define SIRA_DS_ERASURE "sira-v1/erasure-receipt"

/* Fill pk and sk with a fresh Ed25519 key pair. sk should be sodium_malloc'd.
 */
void sign_keygen(
    uint8_t pk[static SIRA_SIGN_PK_LEN], uint8_t sk[static SIRA_SIGN_SK_LEN]);

/*
 * Derive the public key of secret key sk into pk, recomputed from the seed
 * (the first half of sk), not copied from sk's second half.
 */
void sign_sk_to_pk(const uint8_t sk[static SIRA_SIGN_SK_LEN],
    uint8_t pk[static SIRA_SIGN_PK_LEN]);

/*
 * Sign m for purpose with sk into sig. Returns 0, -SIRA_ENOMEM or
 * -SIRA_ECRYPTO.
 */
int sign_detached(const uint8_t sk[static SIRA_SIGN_SK_LEN],
    const char *purpose, const uint8_t *m, size_t len,
    uint8_t sig[static SIRA_SIG_LEN]) __attribute__((warn_unused_result));

/*
 * Verify that sig is pk's signature of m for purpose. Returns 0,
 * -SIRA_EBADSIG (including non-canonical signatures and small-order or
 * non-canonical keys, which libsodium 1.0.18 rejects) or -SIRA_ENOMEM.
 */
int sign_verify(const uint8_t pk[static SIRA_SIGN_PK_LEN], const char *purpose,
    const uint8_t *m, size_t len, const uint8_t sig[static SIRA_SIG_LEN])
    __attribute__((warn_unused_result));

/*
 * The X25519 forms of an Ed25519 key pair (libsodium's birational map),
 * for one use only: the CA's designated-verifier key of an enrolment
 * request's proof of possession (docs/PROTOCOL.md, "Enrolment").
 * sign_pk_to_curve returns 0 or -SIRA_ECRYPTO (a key that has no X25519
 * form: small order or not on the curve). sign_sk_to_curve writes the
 * secret scalar into out, which the caller wipes.
 */
int sign_pk_to_curve(const uint8_t pk[static SIRA_SIGN_PK_LEN],
    uint8_t out[static 32]) __attribute__((warn_unused_result));
void sign_sk_to_curve(
    const uint8_t sk[static SIRA_SIGN_SK_LEN], uint8_t out[static 32]);

#endif
