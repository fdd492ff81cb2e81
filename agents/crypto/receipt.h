/*
 * receipt.h: signed delivery receipts.
 *
 * After an agent has verified and durably stored an envelope (or refused
 * it), it signs a receipt (purpose "sira-v1/receipt") binding the envelope
 * hash, the manifest hash and the SHA-256 of the sender's manifest
 * signature, which only a recipient that decrypted the body can know. The
 * sender checks it against the recipient's certificate and what it sent.
 */
#ifndef SIRA_RECEIPT_H
#define SIRA_RECEIPT_H

#include <stdint.h>

#include "cert.h"
#include "envelope.h"
#include "err.h"
#include "keyfile.h"

#define SIRA_RECEIPT_MAX 2048
#define SIRA_RECEIPT_ID_LEN 16

enum receipt_kind {
	RECEIPT_ACCEPTED = 1, /* verified and stored */
	RECEIPT_REJECTED = 2  /* refused; reject_reason says why */
};

/* What the recipient states. */
struct receipt_fields {
	enum receipt_kind kind;
	int reject_reason; /* a SIRA_E* code (positive) when rejected */
	uint8_t message_id[SIRA_MSGID_LEN];
	uint8_t envelope_hash[SIRA_HASH_LEN];
	uint8_t manifest_hash[SIRA_HASH_LEN];
	uint8_t manifest_sig_sha256[SIRA_HASH_LEN]; /* zero if never opened */
	uint8_t sender_cert_id[SIRA_HASH_LEN];
	uint64_t received_at;
	/* Blob ids of the attachments verified and stored (accepted only).
	 * Borrowed. */
	const uint8_t (*attachments_verified)[SIRA_HASH_LEN];
	size_t n_attachments_verified;
};

/* What the sender recorded when it sent (struct sealed_meta and more). */
struct receipt_expect {
	uint8_t message_id[SIRA_MSGID_LEN];
	uint8_t envelope_hash[SIRA_HASH_LEN];
	uint8_t manifest_hash[SIRA_HASH_LEN];
	uint8_t manifest_sig_sha256[SIRA_HASH_LEN];
	uint8_t sender_cert_id[SIRA_HASH_LEN];
	uint64_t created_at;
	/* The signed recipient list: agency ids and cert ids. Borrowed. */
	const char *const *recipient_ids;
	const uint8_t (*recipient_cert_ids)[SIRA_HASH_LEN];
	size_t n_recipients;
};

/* A verified receipt. */
struct receipt_info {
	uint8_t receipt_id[SIRA_RECEIPT_ID_LEN];
	enum receipt_kind kind;
	int reject_reason;
	uint64_t received_at;
	char recipient[SIRA_AGENCY_ID_MAX + 1];
};

/*
 * Sign f as me (whose keys are keys) into a fresh Receipt *out (caller
 * frees). A fresh random receipt id is chosen. Returns 0, -SIRA_EKEY_USAGE,
 * -SIRA_EINVAL, -SIRA_ENOMEM or -SIRA_ECRYPTO.
 */
int receipt_sign(const struct receipt_fields *f, const struct cert *me,
    const struct sira_keys *keys, uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Verify Receipt bytes untrusted[0..len) signed by recipient (a verified
 * certificate) against what the sender expects. Returns 0, -SIRA_ETOOBIG,
 * -SIRA_EMALFORMED, -SIRA_EKEY_USAGE, -SIRA_EBADSIG, -SIRA_ENOT_RECIPIENT
 * (the signer was not a recipient), -SIRA_EAUTH (about another message, or
 * a wrong manifest signature hash) or -SIRA_ENOMEM.
 */
int receipt_verify(const uint8_t *untrusted, size_t len,
    const struct cert *recipient, const struct receipt_expect *expect,
    struct receipt_info *out, struct sira_err *err)
    __attribute__((warn_unused_result));

#endif
