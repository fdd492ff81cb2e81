/*
 * bundle.h: evidence bundles, the chain of custody of one case.
 *
 * bundle.c exports: it gathers from the vault every message of a case the
 * agency sent or received (envelope, signed manifest, payload, the broker's
 * Accepted evidence and its log leaf, signed receipts), the certificates
 * they name, the broker's certificate and the latest revocation list, and
 * writes them as one file (magic "SIRABDL1", proto/bundle.proto).
 * bundle_verify.h checks such a file offline against a CA.
 */
#ifndef SIRA_BUNDLE_H
#define SIRA_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "store/agent.h"

#define BUNDLE_MAGIC "SIRABDL1"
#define BUNDLE_VERSION 1
#define BUNDLE_MAX (256u << 20)  /* a bundle file, in bytes */
#define BUNDLE_MESSAGES_MAX 1024 /* messages in one bundle */
#define BUNDLE_CERTS_MAX 512     /* certificates in one bundle */

/* What an export took and left out. */
struct bundle_stats {
	size_t sent;      /* messages we sent, included */
	size_t received;  /* messages we received, included */
	size_t no_broker; /* sent, included without the broker's evidence */
	size_t left_out;  /* of the case, but not sealed yet or sealed before
			     evidence was kept: not included */
};

/*
 * Write the bundle of case case_ref, as agent a holds it at now, to path
 * (atomically, mode 0600, replacing any file there). Returns 0,
 * -SIRA_EINVAL (empty case reference), -SIRA_ENOTFOUND (no message of that
 * case can be included), -SIRA_EUNKNOWN_AGENCY (a certificate a message
 * names is missing from the vault), -SIRA_ETOOBIG (more than
 * BUNDLE_MESSAGES_MAX messages or BUNDLE_CERTS_MAX certificates), store
 * errors, -SIRA_EIO or -SIRA_ENOMEM.
 */
int bundle_export(struct agent *a, const char *case_ref, const char *path,
    uint64_t now, struct bundle_stats *st, struct sira_err *err)
    __attribute__((warn_unused_result));

#endif
