/*
 * tlog.h: the broker's transparency log: an append-only RFC 6962 Merkle
 * tree of routing metadata in the broker's LMDB store, and signed
 * checkpoints over it.
 *
 * Every perfect subtree's hash is stored as it completes (level, index), so
 * appending costs O(1) amortised and any root, inclusion proof or
 * consistency proof costs O(log n) lookups. Leaves are LogLeaf messages:
 * hashes, agency ids, coarse times, size classes; never personal data.
 */
#ifndef SIRA_TLOG_H
#define SIRA_TLOG_H

#include <stdint.h>

#include "err.h"
#include "keyfile.h"
#include "log.pb-c.h"
#include "merkle.h"
#include "store.h"

/*
 * The most hashes a proof can hold: 64 for an inclusion proof, 65 for a
 * consistency proof (lib/merkle.h). Proof buffers have this many entries.
 */
#define TLOG_PROOF_MAX SIRA_MERKLE_PROOF_MAX

struct tlog {
	struct store *st;             /* borrowed */
	const struct sira_keys *keys; /* borrowed: the broker's, for signing */
	char origin[128];             /* "<broker id>/sira-log/v1" */
};

/*
 * Append leaf (its packed bytes) in txn; *index receives its position.
 * Returns 0, -SIRA_EQUOTA (store full) or -SIRA_EIO.
 */
int tlog_append(MDB_txn *txn, const struct tlog *t, const uint8_t *leaf,
    size_t len, uint64_t *index, struct sira_err *err);

/* Append a LogLeaf message (packs it). Same codes as tlog_append. */
int tlog_append_leaf(MDB_txn *txn, const struct tlog *t,
    const Sira__V1__LogLeaf *leaf, uint64_t *index, struct sira_err *err);

/* The number of leaves. */
int tlog_size(MDB_txn *txn, const struct tlog *t, uint64_t *size);

/* The root of the first size leaves (size <= tlog_size). */
int tlog_root(MDB_txn *txn, const struct tlog *t, uint64_t size,
    uint8_t root[static 32], struct sira_err *err);

/*
 * Inclusion proof of leaf index in the tree of size leaves, into the
 * caller's buffer p (lib/merkle.h; room for TLOG_PROOF_MAX hashes is always
 * enough); p->n receives the count. Returns 0, -SIRA_EINVAL (index >= size
 * or size beyond the log), -SIRA_ETOOBIG (p too small) or -SIRA_EIO.
 */
int tlog_inclusion(MDB_txn *txn, const struct tlog *t, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err);

/* Consistency proof from old_size to new_size (RFC 6962 2.1.2), into p. */
int tlog_consistency(MDB_txn *txn, const struct tlog *t, uint64_t old_size,
    uint64_t new_size, struct merkle_proof *p, struct sira_err *err);

/*
 * Sign a checkpoint of the current tree (origin, size, root, now), store
 * it, and return the SignedCheckpoint bytes in a fresh *out (caller frees).
 */
int tlog_checkpoint(MDB_txn *txn, const struct tlog *t, uint64_t now,
    uint8_t **out, size_t *outlen, struct sira_err *err);

/*
 * Append leaf, which names a certificate or CRL the broker serves by its
 * 32-byte object_hash, unless that object is logged already (DB_OBJECTS:
 * object hash -> be64 leaf index, so each object is logged once).
 * Returns 0 either way, -SIRA_EQUOTA (store full) or -SIRA_EIO.
 */
int tlog_append_object(MDB_txn *txn, const struct tlog *t,
    const Sira__V1__LogLeaf *leaf, struct sira_err *err);

/*
 * The bytes of leaf index (*leaf borrowed from LMDB, valid until txn
 * ends). Returns 0, -SIRA_ENOTFOUND or -SIRA_EIO.
 */
int tlog_leaf_get(MDB_txn *txn, const struct tlog *t, uint64_t index,
    const uint8_t **leaf, size_t *len);

/* Called by tlog_each_leaf with each leaf (borrowed, valid until txn ends). */
typedef void (*tlog_leaf_fn)(
    void *ctx, uint64_t index, const uint8_t *leaf, size_t len);

/* Call fn for every stored leaf, in index order. Returns 0 or -SIRA_EIO. */
int tlog_each_leaf(
    MDB_txn *txn, const struct tlog *t, tlog_leaf_fn fn, void *ctx);

/*
 * The SignedCheckpoint stored for tree size size, or (tlog_checkpoint_last)
 * the newest one: *cp borrowed from LMDB, valid until txn ends. Returns 0,
 * -SIRA_ENOTFOUND or -SIRA_EIO.
 */
int tlog_checkpoint_get(MDB_txn *txn, const struct tlog *t, uint64_t size,
    const uint8_t **cp, size_t *len);
int tlog_checkpoint_last(
    MDB_txn *txn, const struct tlog *t, const uint8_t **cp, size_t *len);

/*
 * Recompute every node from the leaves and compare with the stored nodes
 * and checkpoints. *bad receives the first leaf index that does not match
 * (or UINT64_MAX). Returns 0 when the log is intact, -SIRA_EAUTH when it is
 * not, -SIRA_EIO on read errors.
 */
int tlog_verify(
    MDB_txn *txn, const struct tlog *t, uint64_t *bad, struct sira_err *err);

/* RFC 6962 leaf hash: SHA-256(0x00 || leaf). */
void tlog_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[static 32]);

#endif
