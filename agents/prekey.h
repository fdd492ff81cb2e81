/*
 * prekey.h: an agency's rotating X25519 encryption keys ("prekeys").
 *
 * Each agency signs its own prekeys with its certified Ed25519 key (purpose
 * "sira-v1/prekey"); senders wrap content keys to the recipient's current
 * prekey; the recipient deletes a prekey's secret after the retention
 * period, after which envelopes sealed to it can no longer be opened. That
 * is Sira's forward secrecy: one rotation period plus the retention.
 */
#ifndef SIRA_PREKEY_H
#define SIRA_PREKEY_H

#include <stdint.h>

#include "cert.h"
#include "envelope.h"
#include "err.h"
#include "keyfile.h"

#define SIRA_PREKEY_MAX 512 /* a signed Prekey, bytes */
#define SIRA_PREKEY_ROTATE_DEFAULT (7u * 86400u)
#define SIRA_PREKEY_RETAIN_DEFAULT (30u * 86400u)

/* A verified public prekey. */
struct prekey {
	char agency_id[SIRA_AGENCY_ID_MAX + 1];
	uint8_t owner_cert_id[SIRA_HASH_LEN];
	uint8_t key_id[SIRA_PREKEY_ID_LEN];
	uint8_t pk[SIRA_CURVE_KEY_LEN];
	uint64_t not_before;
	uint64_t not_after;
	uint8_t *raw; /* the signed Prekey bytes (owned) */
	size_t raw_len;
};

/* A prekey's secret half, in sodium_malloc memory. */
struct prekey_secret {
	uint8_t key_id[SIRA_PREKEY_ID_LEN];
	uint8_t pk[SIRA_CURVE_KEY_LEN];
	uint8_t sk[SIRA_CURVE_KEY_LEN];
};

/*
 * Make a fresh prekey for owner, valid from now for lifetime seconds (cut to
 * the owner certificate's end), signed with owner_keys. *pub is the verified
 * public prekey (prekey_destroy), *sec its secret (prekey_secret_destroy).
 * Returns 0, -SIRA_EKEY_USAGE, -SIRA_EEXPIRED (owner cert ended),
 * -SIRA_ECRYPTO or -SIRA_ENOMEM.
 */
int prekey_generate(const struct cert *owner,
    const struct sira_keys *owner_keys, uint64_t now, uint64_t lifetime,
    struct prekey **pub, struct prekey_secret **sec, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Verify signed prekey bytes untrusted[0..len) against its owner's verified
 * certificate, and that it is usable at time at. Returns 0,
 * -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EBADSIG, -SIRA_EKEY_USAGE,
 * -SIRA_EPREKEY (not valid at `at`, or not the owner's) or -SIRA_ENOMEM.
 */
int prekey_verify(const struct cert *owner, const uint8_t *untrusted,
    size_t len, uint64_t at, struct prekey **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Free *pp and set it to NULL; accepts NULL. */
void prekey_destroy(struct prekey **pp);

/* Wipe and free *sp and set it to NULL; accepts NULL. */
void prekey_secret_destroy(struct prekey_secret **sp);

#endif
