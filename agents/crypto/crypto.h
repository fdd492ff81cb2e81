/*
 * crypto.h: the agent's cryptography, the only code that seals, opens or
 * signs for the agency: attachments (attach.c), the signed manifest
 * (manifest.c), prekeys (prekey.c), receipts (receipt.c) and envelopes
 * (seal.c), composed as docs/PROTOCOL.md sections 7 and 13 say. It
 * includes nothing from the other rooms and the broker never links it.
 */
#ifndef SIRA_AGENT_CRYPTO_H
#define SIRA_AGENT_CRYPTO_H

#include <stdint.h>

#include "cert.h"
#include "digest.h"
#include "envelope.h"
#include "secarena.h"
#include "err.h"
#include "keyfile.h"
#include "prekey_verify.h"

/*
 * attach.c: attachments (documents, photos) as authenticated streams.
 *
 * An attachment is encrypted with crypto_secretstream_xchacha20poly1305 under
 * a key derived for it alone (seal.c), in chunks whose associated
 * data binds the message id, the attachment index and the chunk number. The
 * plaintext is padded with zeros to its Padmé length inside the stream, so
 * the ciphertext size leaks only a size class. Memory use is one chunk,
 * whatever the file size.
 */
#define SIRA_CHUNK_DEFAULT (64u << 10)
#define SIRA_CHUNK_MIN (1u << 10)
#define SIRA_CHUNK_MAX (1u << 20)
#define SIRA_ATTACH_KEY_LEN 32

/* What the sender learns while sealing, and the recipient must check. */
struct attach_info {
	uint8_t blob_id[SIRA_HASH_LEN];          /* SHA-256 of the blob */
	uint64_t ct_len;                         /* blob length */
	uint8_t plaintext_sha256[SIRA_HASH_LEN]; /* of the real bytes */
	uint64_t plaintext_len;
	uint32_t chunk_size;
};

/* The Padmé length of len (at most 12% more, leaks O(log log len) bits). */
uint64_t attach_padme(uint64_t len);

/* The blob length for plaintext_len bytes in chunks of chunk_size. */
uint64_t attach_ct_len(uint64_t plaintext_len, uint32_t chunk_size);

/*
 * One attachment stream's key and what its chunks are bound to: the
 * associated data of every chunk names msgid and index, so a blob cannot be
 * moved to another message or another attachment slot. Borrowed: key
 * (SIRA_ATTACH_KEY_LEN bytes) and msgid (SIRA_MSGID_LEN bytes) belong to the
 * caller and must stay valid for the call.
 */
struct attach_key {
	const uint8_t *key;
	const uint8_t *msgid;
	uint32_t index;
};

/*
 * Encrypt everything readable from in_fd into blob_fd, as the stream ak
 * names. Fills *info. Returns 0, -SIRA_ETOOBIG (over SIRA_ATTACHMENT_MAX),
 * -SIRA_EIO or -SIRA_ECRYPTO.
 */
int attach_seal(const struct attach_key *ak, int in_fd, int blob_fd,
    struct attach_info *info, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Decrypt and verify the blob of stream ak readable from blob_fd against
 * expect, writing the plaintext to out_fd. Every chunk is authenticated before
 * it is written, but the attachment as a whole is only known good when this
 * returns 0: write out_fd to a temporary file and keep it only then (see
 * attach_open_to_path). Returns 0, -SIRA_ETRUNCATED (stream ends before its
 * final chunk), -SIRA_EMALFORMED (bytes after the final chunk, reordered or
 * foreign chunks, non-zero padding, wrong lengths), -SIRA_EAUTH (a chunk does
 * not authenticate, or a hash differs from the signed manifest) or -SIRA_EIO.
 */
int attach_open(const struct attach_key *ak, const struct attach_info *expect,
    int blob_fd, int out_fd, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * attach_open from the file blob_path into dest_path: the plaintext goes to
 * "<dest_path>.partial" (mode 0600), which is fsync'd and linked to
 * dest_path only after full verification, and removed in any case. So no
 * unverified byte ever appears at dest_path, and an existing dest_path (even
 * one that appears meanwhile) is never replaced. Returns attach_open's codes,
 * -SIRA_EEXIST if dest_path exists, or -SIRA_ENOTFOUND.
 */
int attach_open_to_path(const struct attach_key *ak,
    const struct attach_info *expect, const char *blob_path,
    const char *dest_path, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * An attachment stream kept at rest (the agent's spool,
 * agents/documents/docs_out.c): the same format as a blob, under its own random
 * key, bound to the queued message's local id and the attachment index,
 * and the spool file open on it. Borrowed: the pointers and fd belong to
 * the caller, which closes fd; nothing here is freed or closed.
 */
struct attach_spool {
	const uint8_t *key;   /* SIRA_ATTACH_KEY_LEN bytes */
	const uint8_t *msgid; /* SIRA_MSGID_LEN bytes */
	uint32_t index;
	struct attach_info info; /* what attach_seal reported for it */
	int fd;                  /* the spool file, open for reading at 0 */
};

/* A fresh random stream key (for a spool file). */
void attach_keygen(uint8_t key[static SIRA_ATTACH_KEY_LEN]);

/*
 * Re-encrypt the spool stream readable from spool->fd into blob_fd as the
 * stream ak names, one chunk at a time: every spool chunk is authenticated
 * before it is re-encrypted, and the spool's hashes must equal spool->info at
 * the end, so the blob carries exactly the bytes captured at queueing. No
 * plaintext touches the disk. Fills *info like attach_seal. Returns 0,
 * attach_open's codes for a damaged spool, -SIRA_EIO or -SIRA_ECRYPTO.
 */
int attach_reseal(const struct attach_spool *spool, const struct attach_key *ak,
    int blob_fd, struct attach_info *info, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * manifest.c: the sender's signed statement inside every envelope.
 *
 * The manifest binds who sent what to whom and when: message id, sender,
 * times, the full recipient list, kind and content type, case reference,
 * the payload's hash and length and every attachment's hashes and lengths.
 * It is signed (purpose "sira-v1/manifest") with the sender's certified
 * key and travels inside the ciphertext; the header commits to it.
 */
#define SIRA_MANIFEST_MAX (64u << 10)
#define SIRA_CONTENT_TYPE_MAX 64
#define SIRA_CASE_REF_MAX 64
#define SIRA_FILENAME_MAX 255
#define SIRA_MEDIA_TYPE_MAX 127

/*
 * Pack tbs into a fresh *tbs_bytes (caller frees) and sign it with sk into
 * sig. Returns 0, -SIRA_ENOMEM or -SIRA_ECRYPTO.
 */
int manifest_sign(const Sira__V1__ManifestTBS *tbs,
    const uint8_t sk[static SIRA_SIGN_SK_LEN], uint8_t **tbs_bytes,
    size_t *tbs_len, uint8_t sig[static SIRA_SIG_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Verify the SignedManifest bytes untrusted[0..len) against the sender's
 * verified certificate: ENVELOPE_SIGN usage, signature over the exact tbs,
 * strict parse, field shapes (ids, text, counts). *out is the parsed tbs
 * (caller frees with protobuf_c_message_free_unpacked). Returns 0,
 * -SIRA_EKEY_USAGE, -SIRA_EBADSIG, -SIRA_EMALFORMED or -SIRA_ENOMEM.
 */
int manifest_verify(const uint8_t *untrusted, size_t len,
    const struct cert *sender, Sira__V1__ManifestTBS **out,
    uint8_t sig_sha256[static SIRA_HASH_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Does the verified manifest m agree with the envelope header it came in,
 * and does it name me (my_agency_id) among its recipients? Every shared
 * field must be equal and the recipient list must equal the header's wrap
 * list, entry for entry. Returns 0, -SIRA_ENOT_RECIPIENT (I am not in the
 * signed list: re-addressed) or -SIRA_EAUTH (any other difference).
 */
int manifest_match(const Sira__V1__ManifestTBS *m, const struct envelope *e,
    const char *my_agency_id, struct sira_err *err);

/* Is name a safe attachment file name (UTF-8, no '/', no controls)? */
int manifest_filename_valid(const char *name);

/*
 * prekey.c: an agency's rotating X25519 encryption keys ("prekeys").
 *
 * Each agency signs its own prekeys with its certified Ed25519 key (purpose
 * "sira-v1/prekey"); senders wrap content keys to the recipient's current
 * prekey; the recipient deletes a prekey's secret after the retention
 * period, after which envelopes sealed to it can no longer be opened. That
 * is Sira's forward secrecy: one rotation period plus the retention.
 */
#define SIRA_PREKEY_ROTATE_DEFAULT ((uint64_t)7 * 86400)
#define SIRA_PREKEY_RETAIN_DEFAULT ((uint64_t)30 * 86400)

/* A prekey's secret half, in sodium_malloc memory. */
struct prekey_secret {
	uint8_t key_id[SIRA_PREKEY_ID_LEN];
	uint8_t pk[SIRA_CURVE_KEY_LEN];
	uint8_t sk[SIRA_CURVE_KEY_LEN];
};

/*
 * The agency a prekey is made for: its verified certificate and the keys
 * that belong to it (keys->sign_sk signs the prekey). Borrowed: both stay
 * the caller's and must stay valid for the call.
 */
struct prekey_owner {
	const struct cert *cert;
	const struct sira_keys *keys;
};

/*
 * Make a fresh prekey for po->cert, valid from now for lifetime seconds
 * (cut to the owner certificate's end), signed with po->keys. *pub is the
 * verified public prekey (prekey_destroy), *sec its secret
 * (prekey_secret_destroy). Returns 0, -SIRA_EKEY_USAGE, -SIRA_EEXPIRED (owner
 * cert ended), -SIRA_ECRYPTO or -SIRA_ENOMEM.
 */
int prekey_generate(const struct prekey_owner *po, uint64_t now,
    uint64_t lifetime, struct prekey **pub, struct prekey_secret **sec,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Wipe and free *sp and set it to NULL; accepts NULL. */
void prekey_secret_destroy(struct prekey_secret **sp);

/*
 * receipt.c: signed delivery receipts.
 *
 * After an agent has verified and durably stored an envelope (or refused
 * it), it signs a receipt (purpose "sira-v1/receipt") binding the envelope
 * hash, the manifest hash and the SHA-256 of the sender's manifest
 * signature, which only a recipient that decrypted the body can know. The
 * sender checks it against the recipient's certificate and what it sent.
 */
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

/*
 * seal.c: sealing and opening envelopes (docs/PROTOCOL.md section 7).
 *
 * Sign, then encrypt, with the recipients inside the signature: a fresh
 * content key K per message; the padded body encrypted once with
 * XChaCha20-Poly1305 under a key derived from K, with the exact header bytes
 * as associated data; K sealed (crypto_box_seal) to each recipient's signed
 * prekey together with the message id and the recipient's ids; a signed
 * manifest inside; the header commits to K and to the manifest. Opening
 * releases nothing until every check has passed.
 */
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
	struct secpool *pool; /* guarded blocks for K (secarena.h), or NULL */
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
 * spool stream open on spool->fd is checked and re-encrypted chunk by chunk
 * (attach_reseal), so no plaintext is written. Returns seal_attach's codes
 * and attach_reseal's.
 */
int seal_attach_spool(struct seal *s, const struct attach_spool *spool,
    int blob_fd, const char *filename, const char *media_type,
    struct sira_err *err) __attribute__((warn_unused_result));

/* What attachment index of s was sealed as; -SIRA_EINVAL if none. */
int seal_attachment_info(const struct seal *s, uint32_t index,
    struct attach_info *out, struct sira_err *err);

/*
 * What seal_finish produces: the Envelope bytes env[0..len) and what the
 * sender keeps about them. env is fresh and the caller's to free once
 * seal_finish returns 0; on failure env is NULL and nothing is owned.
 */
struct sealed_out {
	uint8_t *env;
	size_t len;
	struct sealed_meta meta;
};

/*
 * Finish: sign the manifest over payload[0..len) and the attachments, pad,
 * encrypt, wrap K for every recipient, and fill *out (the Envelope bytes,
 * caller frees out->env, and their meta). K is wiped, success or not, so a
 * seal is finished once: a second call is -SIRA_ESTATE (after -SIRA_ETOOBIG,
 * start again with seal_begin). Returns 0, -SIRA_ETOOBIG (body beyond the
 * largest bucket: use attachments), -SIRA_ESTATE, -SIRA_ECRYPTO or
 * -SIRA_ENOMEM.
 */
int seal_finish(struct seal *s, const uint8_t *payload, size_t len,
    struct sealed_out *out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * The SignedManifest bytes of a successfully finished seal (what
 * out->meta.manifest_hash commits to), borrowed until seal_destroy(). Returns 0
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
	struct secpool *pool; /* guarded blocks for K (secarena.h), or NULL */
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
	uint8_t *key;           /* K, for the attachments, in arena */
	struct secarena *arena; /* guarded: K and its wrap (lib/secarena.h) */
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

/*
 * enrol.c: the agency's own keys and its enrolment request (lib/enrol.h,
 * docs/PROTOCOL.md "Enrolment"), made on the agency's machine so that no
 * secret ever leaves it.
 */
/* Fresh Ed25519 and X25519 key pairs for agency_id in *out (caller
 * destroys). Returns 0, -SIRA_EINVAL, -SIRA_ENOMEM or -SIRA_ECRYPTO. */
int enrol_keys_new(const char *agency_id, struct sira_keys **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/* What an agency asks for; borrowed for the call. */
struct enrol_ask {
	const char *agency_id;
	const char *display_name;
	enum sira_role role;
	const struct cert *ca; /* the CA the request is for (its cert) */
};

/*
 * The signed request for ask with keys' public keys, created at now, with
 * its proof of possession: a fresh *out of *outlen bytes without magic
 * (caller frees). Returns 0, -SIRA_EINVAL (a field the rules refuse),
 * -SIRA_EKEY_USAGE (keys without a transport key), -SIRA_ECRYPTO or
 * -SIRA_ENOMEM.
 */
int enrol_request_make(const struct enrol_ask *ask,
    const struct sira_keys *keys, uint64_t now, uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * pseudonym.c: the keyed pseudonym of a person in statistical reports
 * (docs/STATS.md). BLAKE2b-256 of a fixed label and the case reference,
 * keyed with the 32-byte key the committee hands every agency: the same
 * reference gives the same pseudonym at every agency, and nobody without
 * the key (the broker, an outsider) can compute one from a guessed
 * reference. The key's id is a keyed hash of a second label.
 */
#define PSEUDONYM_KEY_LEN 32
#define PSEUDONYM_LEN 32
#define PSEUDONYM_KEY_ID_LEN 16

/* A fresh random key. */
void pseudonym_key_new(uint8_t key[static PSEUDONYM_KEY_LEN]);

/* The pseudonym of case_ref under key. */
void pseudonym_of(const uint8_t key[static PSEUDONYM_KEY_LEN],
    const char *case_ref, uint8_t out[static PSEUDONYM_LEN]);

/* The id of key (names it in reports; reveals nothing of it). */
void pseudonym_key_id(const uint8_t key[static PSEUDONYM_KEY_LEN],
    uint8_t out[static PSEUDONYM_KEY_ID_LEN]);

#endif
