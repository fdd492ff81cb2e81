/*
 * crl.h: the CA's signed revocation list.
 *
 * A list is verified against the CA (domain "sira-v1/crl"), is fresh until
 * next_update, and only ever replaced by one with a strictly higher
 * sequence, so a broker or an attacker cannot roll revocations back.
 */
#ifndef SIRA_CRL_H
#define SIRA_CRL_H

#include "cert.h"

#define SIRA_CRL_MAX (8u << 20) /* a Crl, in bytes */
#define SIRA_CRL_ENTRIES_MAX 65536

struct crl_entry {
	uint64_t serial;
	uint8_t cert_id[SIRA_HASH_LEN];
	uint64_t revoked_at;
	int reason; /* enum sira_revocation_reason */
	uint64_t compromised_since;
};

enum sira_revocation_reason {
	SIRA_REVOKE_UNSPECIFIED = 0,
	SIRA_REVOKE_KEY_COMPROMISE = 1,
	SIRA_REVOKE_SUPERSEDED = 2,
	SIRA_REVOKE_OFFBOARDED = 3,
	SIRA_REVOKE_CA_COMPROMISE = 4,
	SIRA_REVOKE_MAX = 4
};

/* A verified revocation list. */
struct crl {
	uint8_t id[SIRA_HASH_LEN]; /* hash of tbs */
	uint8_t issuer_id[SIRA_HASH_LEN];
	uint64_t sequence;
	uint64_t this_update;
	uint64_t next_update;
	struct crl_entry *entries; /* sorted by serial, owned */
	size_t n;
	uint8_t *raw; /* the Crl bytes (owned) */
	size_t raw_len;
};

/*
 * Verify a revocation list untrusted[0..len) signed by ca. Does not judge
 * freshness (see crl_check_fresh). On success *out is fresh (caller
 * destroys). Returns 0, -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EBADSIG,
 * -SIRA_EUNKNOWN_CA or -SIRA_ENOMEM.
 */
int crl_verify(const struct cert *ca, const uint8_t *untrusted, size_t len,
    struct crl **out, struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Parse a revocation list WITHOUT checking its signature or issuer, for
 * display only (sira-cert show). Never use the result for a decision.
 */
int crl_unsafe_decode(const uint8_t *untrusted, size_t len, struct crl **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Is crl usable at now: not stale (now <= next_update) and not from the
 * future? Returns 0, -SIRA_ECRL_STALE or -SIRA_ENOTYETVALID.
 */
int crl_check_fresh(const struct crl *crl, uint64_t now, struct sira_err *err);

/*
 * May candidate replace current (current may be NULL)? Only a strictly
 * higher sequence may; an identical list is accepted as a no-op. Returns 0
 * or -SIRA_ECRL_ROLLBACK.
 */
int crl_may_replace(const struct crl *current, const struct crl *candidate,
    struct sira_err *err);

/* The entry revoking c, or NULL (matches serial or cert_id). Borrowed. */
const struct crl_entry *crl_find(const struct crl *crl, const struct cert *c);

/* What a revocation list states (borrowed for the call). */
struct crl_fields {
	const uint8_t *issuer_id; /* SIRA_HASH_LEN bytes */
	uint64_t sequence, this_update, next_update;
	const struct crl_entry *entries; /* sorted by serial */
	size_t n;
};

/*
 * Encode a CrlTBS for the given fields into a fresh malloc'd buffer (caller
 * frees). entries must be sorted by serial without duplicates. Returns 0,
 * -SIRA_EINVAL or -SIRA_ENOMEM.
 */
int crl_encode_tbs(const struct crl_fields *f, uint8_t **tbs, size_t *len,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Encode tbs and sig as a Crl (fresh malloc'd, caller frees). */
int crl_encode(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/* The reason's name ("key_compromise"). Static string. */
const char *crl_reason_name(int reason);

/* Parse a reason name. Returns 0 or -SIRA_EINVAL. */
int crl_reason_parse(const char *name, int *reason);

/* Free *cp and set it to NULL; accepts NULL and *cp == NULL. */
void crl_destroy(struct crl **cp);

#endif
