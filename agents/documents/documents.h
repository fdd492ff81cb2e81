/*
 * documents.h: documents (attachments) on the agent side: queueing them with an
 * outbox entry (docs_out.c), where they live in the agency home
 * (docs_path.c), sealing the spool into blobs (docs_seal.c) and the list
 * of a received message's documents (docs_list.c). The daemon's transfers
 * are in daemon.h (docs_up.c, docs_in.c).
 *
 * Layout of the home:
 *   spool/<local id hex>/<i>.spool  a queued document, encrypted at rest
 *   spool/<local id hex>/<i>.blob   the sealed attachment being uploaded
 *   incoming/<blob id hex>.part     a blob being downloaded (ciphertext)
 *   incoming/<blob id hex>.blob     a blob downloaded, not yet verified
 *   documents/<message id hex>/<i>-<name>   received, verified plaintext
 */
#ifndef SIRA_AGENT_DOCUMENTS_H
#define SIRA_AGENT_DOCUMENTS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "store/store.h"

/*
 * Attach the files paths[0..n) to the queued outbox entry local_id, inside
 * the caller's write transaction t (the one that ran book_queue), so the
 * message and its documents commit together or not at all. Each file is
 * read once, now, and encrypted into the home's spool (fsync'd before this
 * returns): the user may delete or change it afterwards, and a power cut
 * after the commit loses nothing. Its base name, made safe (see
 * docs_name_safe), goes into the signed manifest.
 *
 * Refused, with a message naming the file: not a regular file or
 * unreadable (-SIRA_EINVAL, -SIRA_ENOTFOUND, -SIRA_EIO), larger than the
 * agency's attach_max (-SIRA_ETOOBIG), more than SIRA_ATTACHMENTS_MAX
 * documents (-SIRA_ETOOBIG), an entry no longer queued (-SIRA_ESTATE).
 * On error the caller aborts t; spool files already written are then
 * orphans under a key nobody holds, removed by docs_sweep.
 */
int outbox_attach(struct agent *a, struct vault_txn *t,
    const uint8_t local_id[16], const char *const *paths, size_t n,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * The base name of path as it may appear in a manifest: the part after the
 * last '/', every control, invisible or bidi character and every byte of
 * invalid UTF-8 replaced by '_', a leading '.' replaced by '_', cut to
 * SIRA_FILENAME_MAX bytes on a character boundary; "document" if nothing
 * is left. Always succeeds.
 */
void docs_name_safe(const char *path, char out[SIRA_FILENAME_MAX + 1]);

/* A media type guessed from name's extension; borrowed, static. */
const char *docs_media_type(const char *name);

/* docs_path.c: file names in the home; 0 or -SIRA_EINVAL (too long). */
int docs_spool_dir(const struct home *h, const uint8_t local_id[16],
    char out[PATH_MAX], struct sira_err *err);
int docs_spool_path(const struct home *h, const uint8_t local_id[16],
    uint32_t index, const char *ext, char out[PATH_MAX], struct sira_err *err);
int docs_incoming_path(const struct home *h, const uint8_t blob_id[32],
    bool done, char out[PATH_MAX], struct sira_err *err);
int docs_message_dir(const struct home *h, const uint8_t msgid[16],
    bool staging, char out[PATH_MAX], struct sira_err *err);

/* Remove a directory and the plain files in it; absent is fine. */
void docs_rmtree(const char *dir);

/* Make dir (and HOME-relative parents spool/, incoming/, documents/). */
int docs_mkdirs(const struct home *h, const char *dir, struct sira_err *err);

/* Write-ahead durability: fsync the directory holding path. */
int docs_sync_dir(const char *path, struct sira_err *err);

/*
 * docs_seal.c: encrypt every document of e into its blob (in the seal s,
 * before seal_finish), fsync the blobs, and record blob id and length in
 * e->docs (owned by e). Returns 0 or the seal/attach/file errors.
 */
int docs_seal(const struct agent *a, Sira__V1__OutboxEntry *e, struct seal *s,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Whether the broker holds every blob of e (true when e has none). */
bool docs_uploaded(const Sira__V1__OutboxEntry *e);

/* Bytes of e's documents the broker holds, and their total. */
void docs_up_progress(
    const Sira__V1__OutboxEntry *e, uint64_t *done, uint64_t *total);

/* Delete e's spool directory once the broker holds the message. */
/* The same by local id, for a message known to be held by the broker. */
void docs_release_id(const struct home *h, const uint8_t local_id[16]);
void docs_release(const struct home *h, const Sira__V1__OutboxEntry *e);

/*
 * Delete spool directories no queued or sealed entry owns: left by a
 * queueing that never committed (a crash, a refused document), their key
 * was never stored. The daemon runs it at start.
 */
void docs_sweep(struct agent *a);

/* One document of a received message. */
struct doc_received {
	uint32_t index;
	char name[SIRA_FILENAME_MAX + 1];
	char media_type[SIRA_MEDIA_TYPE_MAX + 1];
	uint64_t size;
	uint8_t blob_id[32];
	char path[PATH_MAX]; /* absolute */
	bool present;        /* the file is there with its verified size */
};

/*
 * docs_list.c: the documents of received message msgid, read in t, into
 * a fresh array *out of *n (caller frees; NULL and 0 when none). Every
 * listed document was verified against the sender's signed manifest before
 * it was stored. Returns 0, -SIRA_ENOTFOUND (no such message) or vault
 * errors.
 */
int docs_received(const struct agent *a, struct vault_txn *t,
    const uint8_t msgid[16], struct doc_received **out, size_t *n,
    struct sira_err *err) __attribute__((warn_unused_result));

#endif
