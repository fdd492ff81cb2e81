/*
 * digest.c: owns every SHA-256 computation in Sira (crypto_hash_sha256*).
 *
 * Public identifiers (cert ids, envelope hashes, log leaves) are SHA-256 so
 * forensic tools and RFC 6962 verifiers can recompute them. Inputs are
 * public; nothing here needs constant time.
 */
#include <string.h>

#include <sodium.h>

#include "digest.h"

void
digest_lp_len(uint8_t out[static 8], uint64_t len)
{
	for (size_t i = 0; i < 8; i++)
		out[i] = (uint8_t)(len >> (8 * i));
}

void
digest_sha256(uint8_t out[static SIRA_HASH_LEN], const uint8_t *m, size_t len)
{
	crypto_hash_sha256(out, m, len);
}

void
digest_sha256_parts(uint8_t out[static SIRA_HASH_LEN],
    const struct digest_part *parts, size_t n)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < n; i++)
		crypto_hash_sha256_update(&st, parts[i].p, parts[i].len);
	crypto_hash_sha256_final(&st, out);
}

static void
update_lp(crypto_hash_sha256_state *st, const uint8_t *p, size_t len)
{
	uint8_t lenbuf[8];

	digest_lp_len(lenbuf, len);
	crypto_hash_sha256_update(st, lenbuf, sizeof(lenbuf));
	if (len > 0)
		crypto_hash_sha256_update(st, p, len);
}

void
digest_lp(uint8_t out[static SIRA_HASH_LEN], const char *purpose,
    const struct digest_part *parts, size_t n)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	update_lp(&st, (const uint8_t *)purpose, strlen(purpose));
	for (size_t i = 0; i < n; i++)
		update_lp(&st, parts[i].p, parts[i].len);
	crypto_hash_sha256_final(&st, out);
}

_Static_assert(sizeof(crypto_hash_sha256_state) <=
	sizeof(((struct digest_stream *)0)->state),
    "struct digest_stream too small");

void
digest_stream_init(struct digest_stream *ds)
{
	crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)ds->state);
}

void
digest_stream_update(struct digest_stream *ds, const uint8_t *p, size_t len)
{
	crypto_hash_sha256_update(
	    (crypto_hash_sha256_state *)(void *)ds->state, p, len);
}

void
digest_stream_final(struct digest_stream *ds, uint8_t out[static SIRA_HASH_LEN])
{
	crypto_hash_sha256_final(
	    (crypto_hash_sha256_state *)(void *)ds->state, out);
}
