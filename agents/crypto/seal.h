/*
 * seal.h: sealing and opening envelopes (docs/PROTOCOL.md section 7).
 *
 * Sign, then encrypt, with the recipients inside the signature: a fresh
 * content key K per message; the padded body encrypted once with
 * XChaCha20-Poly1305 under a key derived from K, with the exact header bytes
 * as associated data; K sealed (crypto_box_seal) to each recipient's signed
 * prekey together with the message id and the recipient's ids; a signed
 * manifest inside; the header commits to K and to the manifest. Opening
 * releases nothing until every check has passed.
 */
#ifndef SIRA_SEAL_H
#define SIRA_SEAL_H

#include <stdint.h>

#include "crypto/attach.h"
#include "cert.h"
#include "envelope.h"
#include "err.h"
#include "keyfile.h"
#include "crypto/prekey.h"

#define SIRA_TTL_DEFAULT ((uint64_t)30 * 86400)

/* One recipient, resolved and verified by the caller. Borrowed. */
struct seal_recipient {
	const struct cert *cert;     /* verified, valid now */
	const struct prekey *prekey; /* its verified current prekey */
	uint64_t pair_seq;           /* next per-pair sequence number */
};

/*
 * What to seal. Borrowed: everything here must stay valid until
 * seal_finish() or seal_destroy().
 */
struct seal_params {
	const struct cert *sender;
	const struct sira_keys *sender_keys;
	int kind;                   /* Sira__V1__MessageKind */
	const char *content_type;   /* e.g. "sira.referral.v1" */
	const char *case_ref;       /* pseudonymous, may be "" */
	const uint8_t *in_reply_to; /* SIRA_MSGID_LEN bytes, or NULL */
	int onward_sharing;         /* Sira__V1__OnwardSharing */
	uint64_t now;
	uint32_t ttl; /* seconds, 1..SIRA_TTL_MAX */
	const struct seal_recipient *recipients;
	size_t n_recipients;
	/* The message id to use (SIRA_MSGID_LEN bytes, chosen at random when
	 * the message was queued), or NULL for a fresh random one. */
	const uint8_t *message_id;
};

/* What the sender keeps to check receipts and prove what it sent. */
struct sealed_meta {
	uint8_t message_id[SIRA_MSGID_LEN];
	uint8_t envelope_hash[SIRA_HASH_LEN];
	uint8_t manifest_hash[SIRA_HASH_LEN];
	uint8_t manifest_sig_sha256[SIRA_HASH_LEN];
	uint64_t created_at;
	uint64_t expires_at;
};

/* A message being sealed; holds K in guarded memory. */
struct seal;

/*
 * Start sealing: check p (recipients distinct, prekeys belong to their
 * certificates and are valid now, sender may sign envelopes), choose the
 * message id and K. Returns 0, -SIRA_EINVAL, -SIRA_EKEY_USAGE, -SIRA_EPREKEY
 * or -SIRA_ENOMEM.
 */
int seal_begin(const struct seal_params *p, struct seal **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Encrypt the next attachment: the regular file open on in_fd into blob_fd
 * (a fresh file the caller will upload). filename and media_type go into the
 * signed manifest only. Returns 0, -SIRA_EINVAL, -SIRA_ETOOBIG,
 * -SIRA_ESTATE (after seal_finish) or attach errors.
 */
int seal_attach(struct seal *s, int in_fd, int blob_fd, const char *filename,
    const char *media_type, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * seal_attach for a document kept in the agent's encrypted spool: the
 * spool stream open on spool_fd is checked and re-encrypted chunk by chunk
 * (attach_reseal), so no plaintext is written. Returns seal_attach's codes
 * and attach_reseal's.
 */
int seal_attach_spool(struct seal *s, const struct attach_spool *spool,
    int spool_fd, int blob_fd, const char *filename, const char *media_type,
    struct sira_err *err) __attribute__((warn_unused_result));

/* What attachment index of s was sealed as; -SIRA_EINVAL if none. */
int seal_attachment_info(const struct seal *s, uint32_t index,
    struct attach_info *out, struct sira_err *err);

/*
 * Finish: sign the manifest over payload[0..len) and the attachments, pad,
 * encrypt, wrap K for every recipient, and return the Envelope bytes in a
 * fresh *out (caller frees) and *meta. K is wiped, success or not, so a
 * seal is finished once: a second call is -SIRA_ESTATE (after -SIRA_ETOOBIG,
 * start again with seal_begin). Returns 0, -SIRA_ETOOBIG (body beyond the
 * largest bucket: use attachments), -SIRA_ESTATE, -SIRA_ECRYPTO or
 * -SIRA_ENOMEM.
 */
int seal_finish(struct seal *s, const uint8_t *payload, size_t len,
    uint8_t **out, size_t *outlen, struct sealed_meta *meta,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * The SignedManifest bytes of a successfully finished seal (what
 * meta->manifest_hash commits to), borrowed until seal_destroy(). Returns 0
 * or -SIRA_ESTATE (not finished, or finishing failed).
 */
int seal_signed_manifest(
    const struct seal *s, const uint8_t **manifest, size_t *len);

/* Wipe and free *sp and set it to NULL; accepts NULL. */
void seal_destroy(struct seal **sp);

/* What the recipient knows, through callbacks into its store. */
struct open_keys {
	const struct cert *me; /* my current certificate */
	void *ctx;
	/*
	 * The secret of my prekey key_id published under my certificate
	 * cert_id, borrowed until the next call; -SIRA_EPREKEY if unknown or
	 * already deleted.
	 */
	int (*prekey)(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
	    const struct prekey_secret **out);
	/*
	 * The sender's certificate with this id, verified against the CA and
	 * the revocation list for a message signed at time `at`; borrowed
	 * until the next call. Errors: -SIRA_EUNKNOWN_AGENCY, -SIRA_EREVOKED,
	 * -SIRA_EEXPIRED, -SIRA_ECRL_STALE...
	 */
	int (*sender_cert)(void *ctx, const char *agency_id,
	    const uint8_t *cert_id, uint64_t at, const struct cert **out,
	    struct sira_err *err);
	/* 1 if (sender cert id, message id) was already received, else 0. */
	int (*seen)(void *ctx, const uint8_t *cert_id, const uint8_t *msgid);
};

/* A verified, opened envelope. */
struct opened {
	struct envelope *env;
	Sira__V1__ManifestTBS *manifest; /* verified and matched */
	uint8_t *signed_manifest;        /* the SignedManifest bytes */
	size_t signed_manifest_len;
	uint8_t manifest_sig_sha256[SIRA_HASH_LEN];
	uint8_t *payload; /* wiped on destroy */
	size_t payload_len;
	uint8_t *key; /* K, sodium_malloc'd, for the attachments */
};

/*
 * Open envelope bytes untrusted[0..len) addressed to keys->me at time now.
 * Order: strict decode; time; my wrap; replay; prekey; unwrap and check the
 * wrap names this message and me; key commitment; decrypt and unpad;
 * manifest hash; sender certificate; manifest signature; manifest equals
 * header and names me; payload hash. On success *out is fresh
 * (seal_opened_destroy). Returns 0 or one of: -SIRA_ETRUNCATED,
 * -SIRA_ETOOBIG, -SIRA_EMALFORMED, -SIRA_EVERSION, -SIRA_EFUTURE,
 * -SIRA_EEXPIRED, -SIRA_ENOT_RECIPIENT, -SIRA_EREPLAY, -SIRA_EPREKEY,
 * -SIRA_EAUTH, -SIRA_EUNKNOWN_AGENCY, -SIRA_EREVOKED, -SIRA_EKEY_USAGE,
 * -SIRA_EBADSIG, -SIRA_ENOMEM.
 */
int seal_open(const uint8_t *untrusted, size_t len,
    const struct open_keys *keys, uint64_t now, struct opened **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Decrypt attachment index of o from blob_path to dest_path, which appears
 * only once fully verified (attach_open_to_path). Returns its codes, or
 * -SIRA_EINVAL for an index the manifest does not have.
 */
int seal_open_attachment(const struct opened *o, uint32_t index,
    const char *blob_path, const char *dest_path, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Wipe and free *op and set it to NULL; accepts NULL. */
void seal_opened_destroy(struct opened **op);

#endif
