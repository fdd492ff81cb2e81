/*
 * bundle.h: evidence bundles: exporting what the agency holds about a
 * message (bundle.c) and checking a bundle with nothing but the CA
 * certificate (bundle_verify.c).
 */
#ifndef SIRA_AGENT_BUNDLE_H
#define SIRA_AGENT_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "crypto/crypto.h"
#include "envelope.h"
#include "err.h"
#include "store/store.h"

/*
 * bundle.c: evidence bundles, the chain of custody of one case.
 *
 * bundle.c exports: it gathers from the vault every message of a case the
 * agency sent or received (envelope, signed manifest, payload, the broker's
 * Accepted evidence and its log leaf, signed receipts), the certificates
 * they name, the broker's certificate and the latest revocation list, and
 * writes them as one file (magic "SIRABDL1", proto/bundle.proto).
 * bundle_verify.c checks such a file offline against a CA.
 */
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

/*
 * bundle_verify.c: checking an evidence bundle offline (bundle.h).
 *
 * Needs no agency home and no key: only the bundle file and the CA
 * certificate the verifier trusts, given apart (the bundle never supplies
 * its own trust anchor). Every signed object is checked over its exact
 * bytes with the existing verifiers (cert, crl, manifest, receipt, merkle),
 * fail-closed: the first failure stops the check and names the message and
 * the check that failed. On success the result is the chain of custody,
 * made only of verified facts, for bundle_report.c to show.
 */
/* Which check failed (stable numbers: tests assert them). */
enum bundle_check {
	BC_NONE = 0,
	BC_FORMAT = 1,         /* magic, size, strict parse, counts, version */
	BC_CA = 2,             /* the CA certificate given */
	BC_CRL = 3,            /* revocation list missing or not the CA's */
	BC_CERT = 4,           /* a certificate: missing, not the CA's, not
				  valid or revoked at the time it was used */
	BC_ENVELOPE = 5,       /* the envelope does not decode */
	BC_MANIFEST_HASH = 6,  /* the header does not commit to the manifest */
	BC_MANIFEST_SIG = 7,   /* the sender's signature on the manifest */
	BC_MANIFEST_MATCH = 8, /* the manifest disagrees with the header */
	BC_CASE = 9,           /* the manifest names another case */
	BC_PAYLOAD = 10,       /* payload hash or length differs */
	BC_BROKER = 11,        /* Accepted or its leaf: not about this one */
	BC_CHECKPOINT = 12,    /* checkpoint not signed by the broker's key */
	BC_INCLUSION = 13,     /* the leaf is not in the signed tree */
	BC_CONSISTENCY = 14,   /* two checkpoints of one size, two roots */
	BC_RECEIPT = 15        /* a receipt: signature or what it binds */
};

/* Where a verification failed: message number (from 1; 0 = the bundle as
 * a whole) and check. */
struct bundle_failure {
	size_t msg;
	enum bundle_check check;
};

/* An agency as its verified certificate names it. */
struct custody_party {
	char agency[SIRA_AGENCY_ID_MAX + 1];
	char name[SIRA_DISPLAY_NAME_MAX + 1];
	uint64_t revoked_at; /* its certificate was revoked later; else 0 */
};

struct custody_receipt {
	struct custody_party by;
	bool accepted; /* false: the recipient refused it */
	int reject_reason;
	uint64_t received_at;
};

/* One message, every field checked. */
struct custody_msg {
	char id[2 * SIRA_MSGID_LEN + 1];
	uint64_t created_at;
	struct custody_party sender;
	struct custody_party *recipients; /* owned */
	size_t n_recipients;
	int kind; /* MessageKind */
	char content_type[SIRA_CONTENT_TYPE_MAX + 1];
	uint8_t payload_sha256[SIRA_HASH_LEN];
	uint8_t *payload; /* owned copy, wiped on destroy */
	size_t payload_len;
	size_t n_attachments; /* named in the manifest, not in the bundle */
	bool broker;          /* the broker's evidence was present and holds */
	uint64_t leaf_index;
	uint64_t leaf_time;
	uint64_t checkpoint_size;
	uint64_t checkpoint_time;
	struct custody_receipt *receipts; /* owned */
	size_t n_receipts;
};

/* The verified chain of custody of a case. */
struct custody {
	char case_ref[SIRA_CASE_REF_MAX + 1];
	char exported_by[SIRA_AGENCY_ID_MAX + 1]; /* informative, unsigned */
	uint64_t exported_at;                     /* informative, unsigned */
	struct custody_party ca;
	char ca_fingerprint[65];
	uint64_t crl_sequence;
	uint64_t crl_this_update;
	size_t n_certs;
	size_t n_checkpoints;     /* distinct signed checkpoints */
	struct custody_msg *msgs; /* owned, by created_at */
	size_t n_msgs;
};

/*
 * Verify the bundle file contents `untrusted` (magic included) against the
 * CA certificate file contents `ca` (magic included).
 * On success *out is fresh (custody_destroy). On failure *why (if not
 * NULL) says which message and which check, and err one line naming both.
 * Returns 0 or a negative SIRA_E* code (the failing check's).
 */
int bundle_verify(struct bytes untrusted, struct bytes ca, struct custody **out,
    struct bundle_failure *why, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Read the files at bundle_path and ca_path (size-capped, no symlinks) and
 * bundle_verify() them. Returns its codes, or fileio's.
 */
int bundle_verify_file(const char *bundle_path, const char *ca_path,
    struct custody **out, struct bundle_failure *why, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Wipe and free *cp and set it to NULL; accepts NULL. */
void custody_destroy(struct custody **cp);

#endif
