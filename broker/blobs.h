/*
 * blobs.h: the broker's store of attachment blobs (docs/PROTOCOL.md 9.4).
 *
 * A blob is secretstream ciphertext made by an agent; the broker never
 * reads it, it only keeps bytes under their SHA-256 (the blob id). Uploads
 * are resumable: DATA/blobs/<hex id>.part grows by appends at exactly its
 * current size, each one fsync'd before it is reported, and becomes
 * DATA/blobs/<hex id> only when its SHA-256 equals the id. The uploading
 * agency is recorded in DATA/blobs/<hex id>.owner and charged for the
 * bytes until the blob is swept. A blob is read only by an agency that has
 * an envelope referencing it in its spool queue. File names are always the
 * hex of a 32-byte id made here, never a name a client chose.
 *
 * One header for four files: blob_store.c (the directory, its files and
 * quota usage, reads), blob_upload.c (uploads), blob_refs.c (references
 * from the spool, download rights, the sweep) and blob_serve.c (the chunk
 * frames). blob_store.h is what they share among themselves.
 */
#ifndef SIRA_BLOBS_H
#define SIRA_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "control.pb-c.h"
#include "err.h"
#include "store.h"

#define BLOBS_ID_LEN 32
#define BLOBS_CHUNK_MAX (256u << 10)         /* ct bytes per chunk */
#define BLOBS_MAX_DEFAULT (1ull << 30)       /* bytes per blob */
#define BLOBS_QUOTA_DEFAULT (2ull << 30)     /* bytes per uploading agency */
#define BLOBS_GRACE ((uint64_t)7 * 86400)    /* idle unreferenced blob */
#define BLOBS_SWEEP_EVERY ((uint64_t)5 * 60) /* seconds between sweeps */

struct blobs_limits {
	uint64_t max_blob; /* largest blob (-SIRA_ETOOBIG beyond) */
	uint64_t quota;    /* bytes stored per uploading agency */
	uint64_t grace;    /* seconds an unreferenced blob outlives its last
			      upload activity */
};

/* What the broker holds of one blob. */
struct blobs_state {
	uint64_t stored; /* bytes held contiguously from offset 0 */
	bool complete;   /* verified against its id and final */
};

struct blobs;

/*
 * Open (creating, mode 0700) the blob directory DATA/blobs under data_dir
 * and count each agency's usage from the files in it. *out is fresh
 * (blobs_close). Returns 0, -SIRA_EIO or -SIRA_ENOMEM.
 */
int blobs_open(const char *data_dir, const struct blobs_limits *lim,
    struct blobs **out, struct sira_err *err);

/* Close and free *bp, set it to NULL; accepts NULL. */
void blobs_close(struct blobs **bp);

/*
 * One chunk of a blob, as a ChunkPut carries it: the ciphertext bytes ct at
 * offset of the blob id (BLOBS_ID_LEN bytes); last says the blob ends with
 * this chunk. Everything is borrowed for the call.
 */
struct blobs_chunk {
	const uint8_t *id;
	uint64_t offset;
	struct bytes ct;
	bool last;
};

/*
 * agency uploads chunk c (untrusted: from the agency's frame). Bytes the
 * broker already holds are skipped, so a retransmission changes nothing;
 * the rest is appended and fsync'd. With c->last, the whole upload is
 * hashed and kept only if SHA-256 equals c->id.
 * *state receives what is stored afterwards. Returns 0; -SIRA_ESTATE
 * (offset beyond what is stored: resume at state->stored; also a last
 * chunk that ends before the stored bytes do); -SIRA_EDENIED (another
 * agency's upload of this id); -SIRA_ETOOBIG (a chunk over
 * BLOBS_CHUNK_MAX or a blob over lim.max_blob); -SIRA_EQUOTA (agency's
 * blob bytes would pass lim.quota); -SIRA_EAUTH (the finished upload does
 * not hash to id: it was deleted, start again at 0); -SIRA_EIO.
 */
int blobs_put(struct blobs *bs, const char *agency, const struct blobs_chunk *c,
    struct blobs_state *state, struct sira_err *err);

/*
 * What is stored of blob id, as agency may learn it: a complete blob to
 * anyone who names it (its id is a hash of ciphertext under a fresh key,
 * known only to those who hold it or were sent it), an upload in progress
 * to its uploader only, nothing ({0, false}) otherwise. Returns 0,
 * -SIRA_EDENIED (another agency's upload) or -SIRA_EIO.
 */
int blobs_stat(struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct blobs_state *state,
    struct sira_err *err);

/*
 * May agency download blob id: is an envelope that references it still
 * queued for agency (delivered or not, but not yet acknowledged)? Costs
 * one header decode per envelope in agency's queue, in order, until one
 * matches. Returns 0, -SIRA_EDENIED or -SIRA_EIO.
 */
int blobs_may_read(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct sira_err *err);

/* The caller's buffer, borrowed for the call: room for cap bytes at p; n
 * receives how many were written. */
struct blobs_buf {
	uint8_t *p;
	size_t cap;
	size_t n;
};

/*
 * Read up to buf->cap bytes of the complete blob id from offset into buf
 * (buf->n bytes); *total is the blob's length. Returns 0, -SIRA_ENOTFOUND
 * (no complete blob: not uploaded yet, or swept), -SIRA_EINVAL (offset past
 * the end) or -SIRA_EIO.
 */
int blobs_read(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    uint64_t offset, struct blobs_buf *buf, uint64_t *total,
    struct sira_err *err);

/*
 * Delete what no one needs any more: a blob or upload that no spooled
 * envelope references and that is idle (no append) for lim.grace seconds
 * at now; at once, a complete blob that an earlier sweep saw referenced
 * and no envelope references now (every recipient acknowledged, or the
 * envelope expired); leftovers of interrupted work. Reads every spooled
 * envelope's header in one read transaction. *removed (may be NULL)
 * receives the number of blobs and uploads deleted. Returns 0, -SIRA_EIO
 * or -SIRA_ENOMEM (nothing is deleted then).
 */
int blobs_sweep(struct blobs *bs, struct store *st, uint64_t now,
    size_t *removed, struct sira_err *err);

/* Bytes of blobs and uploads currently charged to agency. */
uint64_t blobs_usage(const struct blobs *bs, const char *agency);

/* The answer frames to one chunk frame: at most two, sent in order. */
struct blobs_answer {
	uint8_t *frame[2]; /* owned: free each */
	size_t len[2];
	size_t n;
	int nack; /* the SIRA_E* code of a Nack among them, 0 if none */
};

/*
 * Handle a ChunkPut, ChunkGet or ChunkStatus frame fr from agency (the
 * authenticated session) and fill *a with the answers: ChunkStatus for a
 * put or a status query, ChunkPut (a downloaded chunk) for a get, a Nack
 * for a refusal, and ChunkStatus then Nack(STATE) for an upload gap. Logs
 * identifiers and sizes only. bs may be NULL (answered Nack(STATE)).
 */
void blobs_serve(struct blobs *bs, struct store *st, const char *agency,
    const Sira__V1__Frame *fr, struct blobs_answer *a);

#endif
