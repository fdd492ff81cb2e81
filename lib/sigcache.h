/*
 * sigcache.h: the signatures a long-running process has already verified.
 *
 * An agent daemon checks the same certificates and prekeys for every
 * message it seals or opens: the recipient's, the sender's, each an Ed25519
 * verification of the very same bytes. A cache remembers a SHA-256
 * digest of (key, purpose, message, signature) for each that verified; the
 * same four again are accepted on a digest match. Only successes are kept,
 * so a bad signature is verified (and refused) every time. What a cached
 * signature vouches for is checked by its caller each time as before:
 * validity dates, revocation, key usage. docs/SECURITY.md says what this
 * does and does not change.
 */
#ifndef SIRA_SIGCACHE_H
#define SIRA_SIGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define SIGCACHE_SETS 64
#define SIGCACHE_WAYS 4

struct sigcache {
	uint8_t digest[SIGCACHE_SETS][SIGCACHE_WAYS][32];
	uint8_t used[SIGCACHE_SETS];   /* ways filled in each set */
	uint8_t victim[SIGCACHE_SETS]; /* the next way to replace */
	uint64_t hits, misses;
};

/* An empty cache. */
void sigcache_init(struct sigcache *c);

/*
 * sign_verify, remembered: 0 when sig is pk's signature of m for purpose,
 * -SIRA_EBADSIG or -SIRA_ENOMEM as sign_verify. c may be NULL: then it is
 * sign_verify itself.
 */
int sigcache_verify(struct sigcache *c,
    const uint8_t pk[static SIRA_SIGN_PK_LEN], const char *purpose,
    const uint8_t *m, size_t len, const uint8_t sig[static SIRA_SIG_LEN])
    __attribute__((warn_unused_result));

#endif
