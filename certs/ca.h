/*
 * ca.h: the national CA's operations on its directory.
 *
 * A CA directory holds ca.cert (public), ca.key (secret, 0600, normally
 * passphrase-protected), ca.crl (the latest signed revocation list),
 * ca.state (serial and CRL counters, revocations), issued/<serial>.cert (a
 * copy of every certificate issued), requests/<id> (the enrolment requests
 * signed, each naming its serial) and a lock file. Only one sira-cert may
 * work on a CA directory at a time.
 */
#ifndef SIRA_CA_H
#define SIRA_CA_H

#include <stdint.h>

#include "cert.h"
#include "crl.h"
#include "err.h"
#include "enrol.h"
#include "keyfile.h"

#define CA_DEFAULT_DAYS 3650
#define CA_DEFAULT_AGENCY_DAYS 365
#define CA_DEFAULT_CRL_DAYS 7

struct ca;

/* What the CA is asked to certify. */
struct ca_request {
	const char *agency_id;
	const char *display_name;
	enum sira_role role;
	uint64_t not_before; /* unix seconds */
	uint32_t days;
	const char *key_pass; /* NULL: agency key file stored in clear */
	size_t key_passlen;
	enum keyfile_kdf kdf;
	/* ca_certify: the agency's public keys, from its request. */
	const uint8_t *sign_pk;      /* SIRA_SIGN_PK_LEN bytes */
	const uint8_t *transport_pk; /* SIRA_CURVE_KEY_LEN bytes */
	const uint8_t *request_id;   /* the request's id (SIRA_HASH_LEN) */
};

/*
 * Create a new CA in dir (created if missing; must not already hold a CA)
 * named by req (agency_id, display_name): fresh Ed25519 key, self-signed
 * certificate valid for req->days from now (req->role and not_before are
 * not used), key file encrypted under req->key_pass (NULL: in clear), an
 * empty first CRL. Returns 0 or a negative SIRA_E* code.
 */
int ca_create(const char *dir, const struct ca_request *req, uint64_t now,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Open the CA in dir, lock it and load its certificate, state and latest CRL
 * (the key stays locked: see ca_unlock). Returns 0, -SIRA_ENOTFOUND,
 * -SIRA_EEXIST (another sira-cert holds the lock), or a load error.
 */
int ca_open(const char *dir, uint64_t now, struct ca **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/* The CA's own certificate (borrowed, lives as long as ca). */
const struct cert *ca_certificate(const struct ca *ca);

/* Does the CA key need a passphrase? */
bool ca_key_encrypted(const struct ca *ca);

/* Decrypt the CA key. Returns 0 or -SIRA_EPASSPHRASE, -SIRA_EPERM_MODE... */
int ca_unlock(struct ca *ca, const char *pass, size_t passlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Issue a certificate for req, write OUTDIR/<id>.cert and OUTDIR/<id>.key
 * (0600, never overwriting) and record it. For demos and tests: the CA
 * makes, and so sees, the agency's secret keys (enrolment by request,
 * ca_certify, is the procedure for real agencies: docs/PKI.md). *issued
 * (optional) receives the new certificate (caller destroys). Returns 0 or a
 * negative SIRA_E* code.
 */
int ca_issue(struct ca *ca, const struct ca_request *req, const char *outdir,
    uint64_t now, struct cert **issued, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Certify the public keys req->sign_pk and req->transport_pk (an enrolment
 * request whose proof of possession ca_check_pop accepted) for req: record
 * the certificate in issued/ and write it to the file out (never
 * overwriting). *issued receives it (caller destroys). The CA never sees a
 * secret key of the agency. Each request is signed once: its id is
 * recorded in requests/ (with the serial) before the serial is spent, and
 * a request already recorded is refused with -SIRA_EREPLAY. Returns 0 or
 * a negative SIRA_E* code.
 */
int ca_certify(struct ca *ca, const struct ca_request *req, const char *out,
    uint64_t now, struct cert **issued, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Check r's proof of possession of its transport key, which only this CA
 * can open (the key must be unlocked). Returns 0, -SIRA_EUNKNOWN_CA (made
 * for another CA), -SIRA_EBADSIG (no proof) or -SIRA_ESTATE (locked).
 */
int ca_check_pop(const struct ca *ca, const struct enrol_request *r,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Call fn for every certificate this CA issued, in serial order, with its
 * revocation (or NULL). fn returns 0 to go on, 1 to stop, or a negative
 * code to stop with it. Returns 0, fn's code, or -SIRA_EMALFORMED (a
 * damaged record: the CA's history cannot be checked, so nothing is
 * decided on it).
 */
typedef int ca_issued_fn(
    void *ctx, const struct cert *c, const struct crl_entry *revoked);
int ca_each_issued(
    const struct ca *ca, ca_issued_fn *fn, void *ctx, struct sira_err *err);

/*
 * Revoke the certificate rv->serial and publish a new CRL valid for
 * rv->crl_days. Returns 0, -SIRA_ENOTFOUND (never issued), -SIRA_EEXIST
 * (already revoked) or another negative SIRA_E* code.
 */
struct ca_revocation {
	uint64_t serial;
	int reason;                 /* enum crl_reason */
	uint64_t compromised_since; /* key_compromise: since when, or 0 */
	uint32_t crl_days;
};
int ca_revoke(struct ca *ca, const struct ca_revocation *rv, uint64_t now,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Sign a new CRL (next sequence) valid for crl_days, save it as the CA's
 * latest and, when out is not NULL, also to out. Returns 0 or a negative
 * SIRA_E* code.
 */
int ca_publish_crl(struct ca *ca, uint64_t now, uint32_t crl_days,
    const char *out, struct sira_err *err) __attribute__((warn_unused_result));

/* Wipe the key, release the lock, free *cap; accepts NULL. */
void ca_close(struct ca **cap);

#endif
