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
#include "prekey_verify.h"

#define SIRA_PREKEY_ROTATE_DEFAULT ((uint64_t)7 * 86400)
#define SIRA_PREKEY_RETAIN_DEFAULT ((uint64_t)30 * 86400)

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

/* Wipe and free *sp and set it to NULL; accepts NULL. */
void prekey_secret_destroy(struct prekey_secret **sp);

#endif
