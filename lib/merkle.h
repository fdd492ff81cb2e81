/*
 * merkle.h: the RFC 6962 Merkle tree of the transparency log (design note
 * crypto.md sections 4 and 6d). The broker links it to build the log and
 * prove what it holds; agents link it to check those proofs against signed
 * checkpoints without any access to the tree.
 *
 * Hashing is RFC 6962 section 2.1, SHA-256 throughout:
 *   leaf hash  = SHA-256(0x00 || leaf bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 * The two prefixes keep a leaf from ever being taken for an interior node.
 *
 * A proof is a flat array of n hashes of SIRA_HASH_LEN bytes each
 * (n * SIRA_HASH_LEN bytes), in RFC 6962 order: the hash nearest the leaves
 * first. Every hash here (leaf, node, root, proof element) is public data;
 * nothing in this module needs constant time.
 *
 * The two verifiers tell the two kinds of failure apart, with codes that
 * already exist in err.h:
 *   -SIRA_EMALFORMED  the proof cannot be a proof for the claimed sizes or
 *                     index, whatever the hashes: wrong number of hashes,
 *                     index >= size, old size > new size, more than
 *                     SIRA_MERKLE_PROOF_MAX hashes. Depends only on the
 *                     numbers, never on hash contents.
 *   -SIRA_EBADSIG     the proof is well formed but does not lead to the
 *                     given root(s): a wrong leaf, a tampered proof hash, or
 *                     a root that is not the one the checkpoint signed.
 * Both are rejections; a caller that treats any non-zero result as "not
 * proven" is correct.
 */
#ifndef SIRA_MERKLE_H
#define SIRA_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "err.h"

/*
 * The most hashes any proof over a tree of at most UINT64_MAX leaves can
 * hold. An inclusion proof has at most 64 (one per level of a tree of
 * height 64). A consistency proof can hold one more: when the old size is
 * not a power of two it starts with the old tree's right-most complete
 * subtree, then follows that subtree's path of up to 64 levels (old size 3,
 * new size UINT64_MAX takes 65). An output buffer of SIRA_MERKLE_PROOF_MAX
 * hashes (SIRA_MERKLE_PROOF_MAX * SIRA_HASH_LEN bytes) is always enough.
 */
#define SIRA_MERKLE_PROOF_MAX 65

/*
 * Where the proof generators read the tree: get_leaf_hash writes the leaf
 * hash (merkle_leaf_hash() of the leaf bytes) of leaf index into out and
 * returns 0, or a negative SIRA_E* code that is passed back to the caller
 * unchanged (any other non-zero value is reported as -SIRA_EIO). It is only
 * asked for indexes below the tree size given to the generator, in
 * increasing order within each subtree, so an LMDB cursor can back it. ctx
 * is passed through untouched.
 */
struct merkle_leaves {
	int (*get_leaf_hash)(
	    void *ctx, uint64_t index, uint8_t out[SIRA_HASH_LEN]);
	void *ctx;
};

/*
 * A tree that also keeps the hashes of its perfect subtrees, as the broker's
 * log does (broker/tlog.c stores each one as its last leaf is appended).
 * leaves is read as for the merkle_leaves generators. get_node_hash, which
 * may be NULL, writes the hash of the perfect subtree of the 2^level leaves
 * [index << level, (index + 1) << level) into out and returns 0, or a
 * negative SIRA_E* code that is passed back unchanged (any other non-zero
 * value is reported as -SIRA_EIO). It is only asked for subtrees that lie
 * below the tree size given to the generator. With it, the hash of a range
 * of n leaves costs one fetch per set bit of n instead of n leaf fetches,
 * so a root or a proof costs O(log size) fetches.
 */
struct merkle_tree {
	struct merkle_leaves leaves;
	int (*get_node_hash)(void *ctx, unsigned level, uint64_t index,
	    uint8_t out[SIRA_HASH_LEN]);
};

/*
 * A caller's proof buffer: room for max hashes at hash (max *
 * SIRA_HASH_LEN bytes; NULL allowed when max is 0); n receives the count.
 */
struct merkle_proof {
	uint8_t *hash;
	size_t max;
	size_t n;
};

/*
 * A proof as received, for the verifiers: n hashes at hash (n *
 * SIRA_HASH_LEN bytes, untrusted; borrowed from the caller for the call;
 * hash may be NULL when n is 0).
 */
struct merkle_hashes {
	const uint8_t *hash;
	size_t n;
};

/* out = SHA-256(0x00 || leaf[0..len)). leaf may be NULL when len is 0. */
void merkle_leaf_hash(
    const uint8_t *leaf, size_t len, uint8_t out[static SIRA_HASH_LEN]);

/* out = SHA-256(0x01 || left || right). out may alias left or right. */
void merkle_node_hash(const uint8_t left[static SIRA_HASH_LEN],
    const uint8_t right[static SIRA_HASH_LEN],
    uint8_t out[static SIRA_HASH_LEN]);

/* out = SHA-256(""), the root of the tree with no leaves. */
void merkle_empty_root(uint8_t out[static SIRA_HASH_LEN]);

/*
 * Compute the Merkle Tree Hash (RFC 6962 MTH) of the first size leaves of
 * leaves into root. size 0 gives merkle_empty_root().
 *
 * Cost: size leaf fetches, size - 1 node hashes, and a fixed 2 KiB of stack
 * (a stack of at most 64 pending subtree hashes, no recursion, no heap).
 *
 * Returns 0, -SIRA_EINVAL (leaves or its callback is NULL) or the
 * callback's error. root is unspecified on error.
 */
int merkle_root(const struct merkle_leaves *leaves, uint64_t size,
    uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Write the audit path of leaf index in the tree of the first size leaves
 * (RFC 6962 section 2.1.1 PATH, the same as RFC 9162 section 2.1.3.1) into
 * the caller's buffer p (room for p->max hashes at p->hash; NULL is allowed
 * when p->max is 0), and its hash count into p->n. A tree of one leaf has
 * an empty path (p->n = 0).
 *
 * Cost: size - 1 leaf fetches and about as many node hashes, since the
 * path's subtrees cover every leaf but index; memory is O(log size): the
 * path's subtree ranges and one 64-entry hash stack on the stack.
 *
 * Returns 0, -SIRA_EINVAL (index >= size, leaves, its callback or p NULL,
 * or p->hash NULL with p->max > 0), -SIRA_ETOOBIG (the path needs more than
 * p->max hashes; checked before any leaf is fetched) or the callback's
 * error. On error p->n is 0 (when p is not NULL) and the buffer's contents
 * are unspecified.
 */
int merkle_inclusion_proof(const struct merkle_leaves *leaves, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Write the proof that the tree of the first old_size leaves is a prefix of
 * the tree of the first new_size leaves (RFC 6962 section 2.1.2 PROOF and
 * SUBPROOF, the same as RFC 9162 section 2.1.4.1) into the caller's buffer
 * p (room for p->max hashes, p->hash NULL allowed when p->max is 0) and its
 * hash count into p->n. When old_size is 0 or equals new_size the proof is
 * empty.
 *
 * Cost: at most new_size leaf fetches and about as many node hashes;
 * memory O(log new_size) on the stack, as for merkle_inclusion_proof().
 *
 * Returns 0, -SIRA_EINVAL (old_size > new_size, leaves, its callback or p
 * NULL, or p->hash NULL with p->max > 0), -SIRA_ETOOBIG (the proof needs
 * more than p->max hashes; checked before any leaf is fetched) or the
 * callback's error. On error p->n is 0 (when p is not NULL) and the
 * buffer's contents are unspecified.
 */
int merkle_consistency_proof(const struct merkle_leaves *leaves,
    uint64_t old_size, uint64_t new_size, struct merkle_proof *p,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * merkle_root(), merkle_inclusion_proof() and merkle_consistency_proof()
 * over a merkle_tree: the same generators, the same proofs and the same
 * codes, and stored subtree hashes used wherever get_node_hash is given. The
 * merkle_leaves functions above are these with get_node_hash NULL.
 */
int merkle_tree_root(const struct merkle_tree *t, uint64_t size,
    uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));
int merkle_tree_inclusion(const struct merkle_tree *t, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err)
    __attribute__((warn_unused_result));
int merkle_tree_consistency(const struct merkle_tree *t, uint64_t old_size,
    uint64_t new_size, struct merkle_proof *p, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Check that leaf_hash is leaf index of the tree of size leaves whose root
 * is root, given the audit path proof of proof.n hashes (all untrusted;
 * proof.hash may be NULL when proof.n is 0). This is RFC 9162 section
 * 2.1.3.2. Uses no tree, no heap and a few hundred bytes of stack; at most
 * SIRA_MERKLE_PROOF_MAX hashes are read, never more than proof.n.
 *
 * The caller must compute leaf_hash itself with merkle_leaf_hash() from
 * leaf bytes it has checked, and take size and root from the same signed
 * checkpoint: a hash handed over as a "leaf hash" may be an interior node,
 * and the size only shapes the path (leaf 0 has paths of the same shape in
 * trees of 5 and 6 leaves), so neither is proven by the proof itself.
 *
 * Returns 0 when the proof holds, -SIRA_EMALFORMED (index >= size, which
 * covers size 0; proof.n not the path length of index in a tree of size;
 * proof.n > SIRA_MERKLE_PROOF_MAX; proof.hash NULL with proof.n > 0) or
 * -SIRA_EBADSIG (well formed, but the leaf and path do not lead to root).
 */
int merkle_verify_inclusion(const uint8_t leaf_hash[static SIRA_HASH_LEN],
    uint64_t index, uint64_t size, struct merkle_hashes proof,
    const uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Check that the tree of old_size leaves with root old_root is a prefix of
 * the tree of new_size leaves with root new_root, given the consistency
 * proof of proof.n hashes (untrusted; proof.hash may be NULL when proof.n
 * is 0). For 0 < old_size < new_size this is RFC 9162 section 2.1.4.2.
 * The edge cases, where the proof must be empty:
 *   old_size == new_size: holds when old_root equals new_root (and, for
 *     size 0, both are merkle_empty_root()).
 *   old_size == 0 < new_size: holds when old_root is merkle_empty_root();
 *     new_root is not constrained, as every tree extends the empty one.
 * Uses no tree, no heap and a few hundred bytes of stack; at most
 * SIRA_MERKLE_PROOF_MAX hashes are read, never more than proof.n.
 *
 * Returns 0 when the proof holds, -SIRA_EMALFORMED (old_size > new_size;
 * proof.n not the proof length for the two sizes, including a non-empty
 * proof in the edge cases above and an empty one otherwise; proof.n >
 * SIRA_MERKLE_PROOF_MAX; proof.hash NULL with proof.n > 0) or -SIRA_EBADSIG
 * (well formed, but the proof does not lead to both roots, e.g. swapped roots).
 */
int merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[static SIRA_HASH_LEN],
    const uint8_t new_root[static SIRA_HASH_LEN], struct merkle_hashes proof,
    struct sira_err *err) __attribute__((warn_unused_result));

#endif
