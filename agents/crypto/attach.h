/*
 * attach.h: attachments (documents, photos) as authenticated streams.
 *
 * An attachment is encrypted with crypto_secretstream_xchacha20poly1305 under
 * a key derived for it alone (agents/seal.c), in chunks whose associated
 * data binds the message id, the attachment index and the chunk number. The
 * plaintext is padded with zeros to its Padmé length inside the stream, so
 * the ciphertext size leaks only a size class. Memory use is one chunk,
 * whatever the file size.
 */
#ifndef SIRA_ATTACH_H
#define SIRA_ATTACH_H

#include <stdint.h>

#include "digest.h"
#include "envelope.h"
#include "err.h"

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
 * Encrypt everything readable from in_fd into blob_fd, as attachment index
 * of message msgid, under key. Fills *info. Returns 0, -SIRA_ETOOBIG (over
 * SIRA_ATTACHMENT_MAX), -SIRA_EIO or -SIRA_ECRYPTO.
 */
int attach_seal(const uint8_t key[static SIRA_ATTACH_KEY_LEN],
    const uint8_t msgid[static SIRA_MSGID_LEN], uint32_t index, int in_fd,
    int blob_fd, struct attach_info *info, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Decrypt and verify the blob readable from blob_fd against expect, writing
 * the plaintext to out_fd. Every chunk is authenticated before it is
 * written, but the attachment as a whole is only known good when this
 * returns 0: write out_fd to a temporary file and keep it only then (see
 * attach_open_to_path). Returns 0, -SIRA_ETRUNCATED (stream ends before its
 * final chunk), -SIRA_EMALFORMED (bytes after the final chunk, reordered or
 * foreign chunks, non-zero padding, wrong lengths), -SIRA_EAUTH (a chunk does
 * not authenticate, or a hash differs from the signed manifest) or
 * -SIRA_EIO.
 */
int attach_open(const uint8_t key[static SIRA_ATTACH_KEY_LEN],
    const uint8_t msgid[static SIRA_MSGID_LEN], uint32_t index,
    const struct attach_info *expect, int blob_fd, int out_fd,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * attach_open from the file blob_path into dest_path: the plaintext goes to
 * "<dest_path>.partial" (mode 0600), which is fsync'd and linked to
 * dest_path only after full verification, and removed in any case. So no
 * unverified byte ever appears at dest_path, and an existing dest_path (even
 * one that appears meanwhile) is never replaced. Returns attach_open's codes,
 * -SIRA_EEXIST if dest_path exists, or -SIRA_ENOTFOUND.
 */
int attach_open_to_path(const uint8_t key[static SIRA_ATTACH_KEY_LEN],
    const uint8_t msgid[static SIRA_MSGID_LEN], uint32_t index,
    const struct attach_info *expect, const char *blob_path,
    const char *dest_path, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * An attachment stream kept at rest (the agent's spool, agents/docs_out.c):
 * the same format as a blob, under its own random key, bound to the
 * queued message's local id and the attachment index. Borrowed.
 */
struct attach_spool {
	const uint8_t *key;   /* SIRA_ATTACH_KEY_LEN bytes */
	const uint8_t *msgid; /* SIRA_MSGID_LEN bytes */
	uint32_t index;
	struct attach_info info; /* what attach_seal reported for it */
};

/* A fresh random stream key (for a spool file). */
void attach_keygen(uint8_t key[static SIRA_ATTACH_KEY_LEN]);

/*
 * Re-encrypt the spool stream readable from spool_fd into blob_fd as
 * attachment index of message msgid under key, one chunk at a time: every
 * spool chunk is authenticated before it is re-encrypted, and the spool's
 * hashes must equal spool->info at the end, so the blob carries exactly
 * the bytes captured at queueing. No plaintext touches the disk. Fills
 * *info like attach_seal. Returns 0, attach_open's codes for a damaged
 * spool, -SIRA_EIO or -SIRA_ECRYPTO.
 */
int attach_reseal(const struct attach_spool *spool, int spool_fd,
    const uint8_t key[static SIRA_ATTACH_KEY_LEN],
    const uint8_t msgid[static SIRA_MSGID_LEN], uint32_t index, int blob_fd,
    struct attach_info *info, struct sira_err *err)
    __attribute__((warn_unused_result));

#endif
