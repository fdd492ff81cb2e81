/*
 * digest.h: SHA-256, plain and domain-separated. digest.c is the only file
 * that calls crypto_hash_sha256*.
 *
 * Domain-separated digests hash LP("sira-v1/<purpose>") || LP(part1) || ...
 * where LP(x) is x's length as 8 bytes little-endian followed by x, so every
 * input parses one way only (docs/PROTOCOL.md, "Hashes").
 */
#ifndef SIRA_DIGEST_H
#define SIRA_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define SIRA_HASH_LEN 32

/* Purposes of domain-separated digests. */
#define SIRA_DH_CERT_ID "sira-v1/cert-id"
#define SIRA_DH_CRL_ID "sira-v1/crl-id"
#define SIRA_DH_PREKEY_ID "sira-v1/prekey-id"
#define SIRA_DH_ENVELOPE_ID "sira-v1/envelope-id"
#define SIRA_DH_MANIFEST "sira-v1/manifest-hash"
#define SIRA_DH_ENROL_ID "sira-v1/enrol-id"
#define SIRA_DH_ENROL_POP "sira-v1/enrol-pop"
#define SIRA_DH_SIG_CACHE "sira-v1/sig-cache" /* lib/sigcache.c, in memory */

/* One borrowed input of a multi-part digest. */
struct digest_part {
	const uint8_t *p;
	size_t len;
};

/* out = SHA-256(m). */
void digest_sha256(
    uint8_t out[static SIRA_HASH_LEN], const uint8_t *m, size_t len);

/* out = SHA-256(parts[0] || parts[1] || ...), without length prefixes. */
void digest_sha256_parts(uint8_t out[static SIRA_HASH_LEN],
    const struct digest_part *parts, size_t n);

/* out = SHA-256(LP(purpose) || LP(parts[0]) || LP(parts[1]) || ...). */
void digest_lp(uint8_t out[static SIRA_HASH_LEN], const char *purpose,
    const struct digest_part *parts, size_t n);

/* A running SHA-256, for data that streams (attachments). */
struct digest_stream {
	uint64_t state[16]; /* opaque, aligned, large enough for libsodium's */
};

/* Start, feed and finish a running SHA-256. */
void digest_stream_init(struct digest_stream *ds);
void digest_stream_update(
    struct digest_stream *ds, const uint8_t *p, size_t len);
void digest_stream_final(
    struct digest_stream *ds, uint8_t out[static SIRA_HASH_LEN]);

/* Write len as 8 bytes little-endian (the LP length prefix). */
void digest_lp_len(uint8_t out[static 8], uint64_t len);

#endif
