/*
 * sigcache.c: a small set-associative table of verified signatures'
 * digests (sigcache.h). 64 sets of 4 ways: 256 signatures, enough for
 * every certificate and prekey of a national directory; when a set is
 * full the oldest way in it is replaced.
 */
#include <string.h>

#include "digest.h"
#include "sigcache.h"

void
sigcache_init(struct sigcache *c)
{
	memset(c, 0, sizeof(*c));
}

/* The digest of one verification: every input, each length-prefixed. */
static void
digest_of(const uint8_t *pk, const char *purpose, const uint8_t *m, size_t len,
    const uint8_t *sig, uint8_t out[SIRA_HASH_LEN])
{
	const struct digest_part parts[] = {
		{ pk, SIRA_SIGN_PK_LEN },
		{ (const uint8_t *)purpose, strlen(purpose) },
		{ m, len },
		{ sig, SIRA_SIG_LEN },
	};

	digest_lp(out, SIRA_DH_SIG_CACHE, parts, 4);
}

static int
find(const struct sigcache *c, size_t set, const uint8_t d[32])
{
	for (size_t w = 0; w < c->used[set]; w++)
		if (memcmp(c->digest[set][w], d, 32) == 0)
			return 1;
	return 0;
}

static void
remember(struct sigcache *c, size_t set, const uint8_t d[32])
{
	size_t w = c->used[set];

	if (w == SIGCACHE_WAYS) {
		w = c->victim[set];
		c->victim[set] = (uint8_t)((w + 1) % SIGCACHE_WAYS);
	} else {
		c->used[set]++;
	}
	memcpy(c->digest[set][w], d, 32);
}

int
sigcache_verify(struct sigcache *c, const uint8_t pk[static SIRA_SIGN_PK_LEN],
    const char *purpose, const uint8_t *m, size_t len,
    const uint8_t sig[static SIRA_SIG_LEN])
{
	uint8_t d[SIRA_HASH_LEN];
	size_t set;
	int rc;

	if (c == NULL)
		return sign_verify(pk, purpose, m, len, sig);
	digest_of(pk, purpose, m, len, sig, d);
	set = d[0] % SIGCACHE_SETS;
	if (find(c, set, d)) {
		c->hits++;
		return 0;
	}
	c->misses++;
	if ((rc = sign_verify(pk, purpose, m, len, sig)) == 0)
		remember(c, set, d);
	return rc;
}
