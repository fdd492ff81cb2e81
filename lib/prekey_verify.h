/*
 * prekey_verify.h: checking an agency's signed prekey (its rotating X25519
 * encryption key) against the agency's certificate. In lib/ because the
 * broker checks a prekey before it publishes it, and agents check every
 * prekey they fetch; generation lives with the agent (agents/prekey.h).
 */
#ifndef SIRA_PREKEY_VERIFY_H
#define SIRA_PREKEY_VERIFY_H

#include <stdint.h>

#include "cert.h"
#include "envelope.h"
#include "err.h"

#define SIRA_PREKEY_MAX 512 /* a signed Prekey, bytes */

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

/*
 * Verify signed prekey bytes untrusted[0..len) against its owner's verified
 * certificate, and that it is usable at time at. Returns 0,
 * -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EBADSIG, -SIRA_EKEY_USAGE,
 * -SIRA_EPREKEY (not valid at `at`, or not the owner's) or -SIRA_ENOMEM.
 */
int prekey_verify(const struct cert *owner, const uint8_t *untrusted,
    size_t len, uint64_t at, struct prekey **out, struct sira_err *err)
    __attribute__((warn_unused_result));
/* prekey_verify, with the owner's signature remembered in sc (sigcache.h;
 * NULL: none). Every other check is made each time. */
struct sigcache;
int prekey_verify_cached(struct sigcache *sc, const struct cert *owner,
    struct bytes raw, uint64_t at, struct prekey **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Free *pp and set it to NULL; accepts NULL. */
void prekey_destroy(struct prekey **pp);

#endif
