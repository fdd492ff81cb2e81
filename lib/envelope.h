/*
 * envelope.h: the broker-visible part of an envelope: decoding and
 * validating the routing header, the envelope hash, and size buckets.
 *
 * Linked by the broker (which routes on the header and must never open the
 * body) and by the agent (which seals and opens: agents/seal.c). Nothing
 * here touches a key or a ciphertext's contents.
 */
#ifndef SIRA_ENVELOPE_H
#define SIRA_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.pb-c.h"
#include "err.h"

#define SIRA_ENVELOPE_VERSION 1
#define SIRA_MSGID_LEN 16
#define SIRA_PREKEY_ID_LEN 8
#define SIRA_RECIPIENTS_MAX 64
#define SIRA_ATTACHMENTS_MAX 32
#define SIRA_WRAP_MAX 256           /* sealed wrap, bytes */
#define SIRA_BODY_MAX (4u << 20)    /* largest size bucket */
#define SIRA_HEADER_MAX (64u << 10) /* EnvelopeHeader bytes */
#define SIRA_ENVELOPE_MAX (SIRA_BODY_MAX + SIRA_HEADER_MAX + 1024)
#define SIRA_TTL_MAX ((uint64_t)30 * 86400) /* longest life of an envelope */
/* Shortest TTL an agent offers: created_at is rounded down to the minute
 * and expires_at = created_at + TTL, so a TTL keeps between TTL - 59 s and
 * TTL of real life; 120 s keeps at least a minute. */
#define SIRA_TTL_MIN ((uint64_t)120)
#define SIRA_ATTACHMENT_MAX (1ull << 32) /* 4 GiB of plaintext */

/* A decoded, validated envelope. Owns everything it points to. */
struct envelope {
	Sira__V1__EnvelopeHeader *h; /* validated header fields */
	uint8_t *header;             /* exact header bytes (the AD) */
	size_t header_len;
	uint8_t *body_ct;
	size_t body_ct_len;
	uint8_t hash[32]; /* envelope_hash */
};

/*
 * Decode and validate envelope bytes untrusted[0..len): strict canonical
 * parse of Envelope and EnvelopeHeader, every length and count checked
 * (ids, keys, nonces, recipients 1..64 with distinct agency ids, attachment
 * indices in order, a known kind and size bucket, body_ct length equal to
 * the bucket plus the AEAD tag, created_at <= expires_at <= created_at +
 * SIRA_TTL_MAX). Time against the clock is NOT checked here (see
 * envelope_check_time). On success *out is fresh (envelope_destroy).
 * Returns 0, -SIRA_ETRUNCATED, -SIRA_ETOOBIG, -SIRA_EMALFORMED,
 * -SIRA_EVERSION or -SIRA_ENOMEM.
 */
int envelope_decode(const uint8_t *untrusted, size_t len, struct envelope **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Is the envelope acceptable at now: not from the future (beyond
 * SIRA_CLOCK_SKEW) and not expired? Returns 0, -SIRA_EFUTURE or
 * -SIRA_EEXPIRED.
 */
int envelope_check_time(
    const struct envelope *e, uint64_t now, struct sira_err *err);

/* The recipient wrap for agency_id, or NULL. Borrowed from e. */
const Sira__V1__RecipientWrap *envelope_recipient(
    const struct envelope *e, const char *agency_id);

/* Free *ep and set it to NULL; accepts NULL. */
void envelope_destroy(struct envelope **ep);

/*
 * envelope_hash = SHA-256(LP("sira-v1/envelope-id") || LP(header) ||
 * LP(SHA-256(body_ct))).
 */
void envelope_hash_of(const uint8_t *header, size_t header_len,
    const uint8_t *body_ct, size_t body_ct_len, uint8_t out[static 32]);

/*
 * The smallest size bucket (a Sira__V1__SizeBucket value, in bytes) that
 * holds len bytes plus at least one byte of padding, or 0 if len is too big
 * for any bucket.
 */
uint32_t envelope_bucket_for(size_t len);

/* Is v one of the SizeBucket values? */
int envelope_bucket_valid(uint32_t v);

/* Name of a MessageKind ("referral"), or "unknown". Static string. */
const char *envelope_kind_name(int kind);

/* Parse a kind name. Returns 0 or -SIRA_EINVAL. */
int envelope_kind_parse(const char *name, int *kind);

#endif
