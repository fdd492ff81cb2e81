/*
 * directory.h: the agencies the broker knows: every certificate in its
 * certificate directory that verifies against the CA and the current
 * revocation list, indexed by CurveZMQ key (for ZAP) and by agency id
 * (for routing). The broker is not trusted for any of it: agents verify
 * every certificate and list they fetch from it against the CA themselves.
 */
#ifndef SIRA_DIRECTORY_H
#define SIRA_DIRECTORY_H

#include <stdint.h>

#include "cert.h"
#include "crl.h"
#include "err.h"

struct directory {
	struct cert *ca;
	struct crl *crl;     /* NULL when the broker runs without one */
	struct cert **certs; /* verified agency certificates */
	size_t n;
	size_t n_skipped; /* files that did not verify (logged) */
};

/*
 * Where a directory is loaded from: the CA certificate file, the directory
 * of *.cert files, and the revocation list file (NULL when there is none).
 * Borrowed for the call.
 */
struct directory_files {
	const char *ca;
	const char *certs;
	const char *crl;
};

/*
 * Load the CA certificate, the revocation list and every *.cert file named
 * by from, at time now, into a fresh *out (directory_free). A certificate
 * that does not verify is skipped and logged; a bad CA or a bad or stale
 * CRL fails the whole load. When previous is not NULL its CRL must not be
 * newer than the new one (rollback). Returns 0 or a negative SIRA_E* code.
 */
int directory_load(const struct directory_files *from,
    const struct directory *previous, uint64_t now, struct directory **out,
    struct sira_err *err);

/* Free *dp; accepts NULL. */
void directory_free(struct directory **dp);

/*
 * The certificate whose transport key is key, if it is valid at now and
 * not revoked (the newest such, after a renewal that kept the keys); else
 * NULL. Borrowed until the directory is freed.
 */
const struct cert *directory_by_key(const struct directory *d,
    const uint8_t key[static SIRA_CURVE_KEY_LEN], uint64_t now);

/* The newest certificate of agency_id valid at now, or NULL. */
const struct cert *directory_by_agency(
    const struct directory *d, const char *agency_id, uint64_t now);

/* The valid certificate with this cert_id for agency_id, or NULL. */
const struct cert *directory_by_id(const struct directory *d,
    const char *agency_id, const uint8_t cert_id[static SIRA_HASH_LEN],
    uint64_t now);

#endif
