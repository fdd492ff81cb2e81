/*
 * inspect.h: reading Sira files for people: `sira-cert show` and
 * `sira-cert verify`. Output goes to stdout; errors are returned.
 */
#ifndef SIRA_INSPECT_H
#define SIRA_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Print a certificate, revocation list, enrolment request or key file
 * (no secrets). */
int inspect_show(const char *path, bool json, struct sira_err *err);

/*
 * Verify the certificate or revocation list at path against the CA
 * certificate at ca_path (and the revocation list at crl_path, if any), as
 * of time at; now is the real time, for messages. Prints one line per file.
 */
int inspect_verify(const char *ca_path, const char *crl_path, const char *path,
    uint64_t at, uint64_t now, struct sira_err *err);

#endif
