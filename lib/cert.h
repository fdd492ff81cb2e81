/*
 * cert.h: agency certificates and revocation lists, parsed and verified.
 *
 * Linked by the broker, the agent and sira-cert (revocation lists: crl.h).
 * Verification follows docs/PROTOCOL.md "Certificates": size cap, signature
 * over the exact tbs bytes (domain "sira-v1/cert"), only then a canonical
 * parse, then field, issuer, revocation and validity checks. Every check that
 * fails returns a distinct SIRA_E* code and an explanation naming the agency.
 */
#ifndef SIRA_CERT_H
#define SIRA_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "digest.h"
#include "err.h"
#include "sign.h"

#define SIRA_CERT_MAX 4096     /* a Certificate, in bytes */
#define SIRA_CERT_TBS_MAX 2048 /* its tbs */
#define SIRA_AGENCY_ID_MAX 64
#define SIRA_DISPLAY_NAME_MAX 128
#define SIRA_CURVE_KEY_LEN 32
#define SIRA_CERT_VERSION 1

enum sira_role {
	SIRA_ROLE_UNSPECIFIED = 0,
	SIRA_ROLE_POLICE = 1,
	SIRA_ROLE_JUSTICE = 2,
	SIRA_ROLE_SOCIAL_SERVICES = 3,
	SIRA_ROLE_NGO = 4,
	SIRA_ROLE_COORDINATION = 5,
	SIRA_ROLE_BROKER = 6,
	SIRA_ROLE_MAX = 6
};

/* Key-usage bits (proto/cert.proto). */
#define SIRA_KU_CERT_SIGN 0x01u
#define SIRA_KU_CRL_SIGN 0x02u
#define SIRA_KU_ENVELOPE_SIGN 0x04u
#define SIRA_KU_RECEIPT_SIGN 0x08u
#define SIRA_KU_PREKEY_SIGN 0x10u
#define SIRA_KU_LOG_SIGN 0x20u
#define SIRA_KU_TRANSPORT 0x40u
#define SIRA_KU_CA (SIRA_KU_CERT_SIGN | SIRA_KU_CRL_SIGN)
#define SIRA_KU_AGENCY \
	(SIRA_KU_ENVELOPE_SIGN | SIRA_KU_RECEIPT_SIGN | SIRA_KU_PREKEY_SIGN | \
	    SIRA_KU_TRANSPORT)
#define SIRA_KU_BROKER (SIRA_KU_LOG_SIGN | SIRA_KU_TRANSPORT)

/* A parsed certificate. Every field has been validated. */
struct cert {
	uint8_t id[SIRA_HASH_LEN];        /* cert_id: hash of tbs */
	uint8_t issuer_id[SIRA_HASH_LEN]; /* zero for the CA itself */
	uint64_t serial;
	char agency_id[SIRA_AGENCY_ID_MAX + 1];
	char display_name[SIRA_DISPLAY_NAME_MAX + 1];
	enum sira_role role;
	uint64_t not_before;
	uint64_t not_after;
	bool is_ca;
	uint32_t key_usage;
	uint8_t sign_pk[SIRA_SIGN_PK_LEN];
	bool has_transport;
	uint8_t transport_pk[SIRA_CURVE_KEY_LEN];
	uint8_t *raw; /* the Certificate bytes (owned), as received */
	size_t raw_len;
};

/*
 * Load the CA's self-signed certificate from untrusted[0..len) into a fresh
 * *out (caller destroys). The CA certificate is the trust anchor the operator
 * installed; it must be self-signed, is_ca, carry CERT_SIGN|CRL_SIGN, and be
 * valid at now. Returns 0, -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EBADSIG,
 * -SIRA_EKEY_USAGE, -SIRA_EEXPIRED, -SIRA_ENOTYETVALID or -SIRA_ENOMEM.
 */
int cert_load_ca(const uint8_t *untrusted, size_t len, uint64_t now,
    struct cert **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Verify an agency certificate untrusted (borrowed for the call) against ca
 * and, when crl is not NULL, against that (already verified) revocation list,
 * at time now. On success *out is a fresh parsed certificate (caller destroys).
 * Returns 0, -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EBADSIG (altered, or not
 * signed by this CA), -SIRA_EUNKNOWN_CA, -SIRA_EREVOKED, -SIRA_ECRL_STALE,
 * -SIRA_EEXPIRED, -SIRA_ENOTYETVALID, -SIRA_EKEY_USAGE or -SIRA_ENOMEM.
 */
struct crl;

int cert_verify(const struct cert *ca, const struct crl *crl,
    struct bytes untrusted, uint64_t now, struct cert **out,
    struct sira_err *err) __attribute__((warn_unused_result));
/* What cert_verify checks against, and where the CA's signatures already
 * verified are remembered (sigcache.h; NULL: nowhere). All borrowed. */
struct sigcache;
struct cert_trust {
	const struct cert *ca;
	const struct crl *crl;
	struct sigcache *sigs;
};

/* cert_verify under t: every check but the CA's signature, when t->sigs
 * remembers it, is made each time. */
int cert_verify_with(const struct cert_trust *t, struct bytes untrusted,
    uint64_t now, struct cert **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Parse a certificate WITHOUT checking its signature, for display only
 * (sira-cert show), or to pass over certificates that could not be chosen
 * anyway before the one chosen goes through cert_verify (store/peers.c).
 * Fields are validated as in cert_verify. Never use the result to make a
 * trust decision.
 */
int cert_unsafe_decode(const uint8_t *untrusted, size_t len, struct cert **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Free *cp and set it to NULL; accepts NULL and *cp == NULL. */
void cert_destroy(struct cert **cp);

/*
 * Encode the tbs of c (all fields but id, raw) into a fresh malloc'd buffer
 * (caller frees), after the same field checks a verifier makes. Returns 0,
 * -SIRA_EINVAL or -SIRA_ENOMEM.
 */
int cert_encode_tbs(const struct cert *c, uint8_t **tbs, size_t *len,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Encode tbs and its signature as a Certificate into a fresh malloc'd buffer
 * (caller frees). Returns 0 or -SIRA_ENOMEM.
 */
int cert_encode(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/* cert_id of the given tbs bytes. */
void cert_id_of(
    const uint8_t *tbs, size_t len, uint8_t id[static SIRA_HASH_LEN]);

/* Lower-case hex of c's cert_id into out (65 bytes with NUL). */
void cert_fingerprint(const struct cert *c, char out[static 65]);

/* Is agency_id well formed ([a-z0-9._-], 3..64, starts with a letter)? */
bool cert_agency_id_valid(const char *agency_id);

/* Is name a valid display name (UTF-8, 1..128 bytes, no controls)? */
bool cert_display_name_valid(const char *name);

/* The role's name ("social_services"), or "unspecified". Static string. */
const char *cert_role_name(enum sira_role role);

/* Parse a role name. Returns 0 or -SIRA_EINVAL. */
int cert_role_parse(const char *name, enum sira_role *role);

/* The key usages a certificate of this role carries. */
uint32_t cert_role_usage(enum sira_role role, bool is_ca);

#endif
