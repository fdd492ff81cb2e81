/*
 * merkle.c: owns RFC 6962 tree hashing, proof generation and proof
 * verification for the transparency log. It never reads storage itself:
 * the generators pull leaf hashes through struct merkle_leaves, and stored
 * subtree hashes through struct merkle_tree where the caller keeps them
 * (the broker's log), and the verifiers see only hashes and sizes. There is
 * one generator; the merkle_leaves functions are the merkle_tree ones
 * without stored subtrees. Every hash goes through
 * digest_sha256_parts(); this file calls no libsodium function.
 *
 * Invariants: no recursion and no heap, so whatever the sizes, memory is a
 * few KiB of stack (a tree of at most UINT64_MAX leaves has at most 64
 * levels). Sizes and indexes from outside are range-checked before use, and
 * leaf ranges always satisfy lo + n <= size, so no size arithmetic wraps.
 * The generators follow RFC 6962 section 2.1 (MTH, PATH, PROOF) walked top
 * down; the verifiers are RFC 9162's iterative algorithms, so the two sides
 * share no code beyond the hash functions.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "merkle.h"

/* A tree of at most UINT64_MAX leaves is at most 64 levels high. */
#define MAX_HEIGHT 64

_Static_assert(SIRA_MERKLE_PROOF_MAX == MAX_HEIGHT + 1,
    "a consistency proof is a seed plus at most one hash per level");

/* The leaves [lo, lo + n) of the tree, n >= 1. */
struct range {
	uint64_t lo;
	uint64_t n;
};

static const uint8_t leaf_prefix[1] = { 0x00 };
static const uint8_t node_prefix[1] = { 0x01 };

void
merkle_leaf_hash(
    const uint8_t *leaf, size_t len, uint8_t out[static SIRA_HASH_LEN])
{
	struct digest_part parts[2] = {
		{ leaf_prefix, sizeof(leaf_prefix) },
		{ leaf, len },
	};

	digest_sha256_parts(out, parts, len > 0 ? 2 : 1);
}

void
merkle_node_hash(const uint8_t left[static SIRA_HASH_LEN],
    const uint8_t right[static SIRA_HASH_LEN],
    uint8_t out[static SIRA_HASH_LEN])
{
	/* digest_sha256_parts reads every part before it writes out. */
	struct digest_part parts[3] = {
		{ node_prefix, sizeof(node_prefix) },
		{ left, SIRA_HASH_LEN },
		{ right, SIRA_HASH_LEN },
	};

	digest_sha256_parts(out, parts, 3);
}

void
merkle_empty_root(uint8_t out[static SIRA_HASH_LEN])
{
	struct digest_part none = { NULL, 0 };

	digest_sha256_parts(out, &none, 0);
}

/* RFC 6962's k: the largest power of two smaller than n, for n >= 2. */
static uint64_t
split(uint64_t n)
{
	uint64_t k = UINT64_C(1) << 63;

	while (k >= n)
		k >>= 1;
	return k;
}

static bool
is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static int
fetch(const struct merkle_tree *t, uint64_t index,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	int rc;

	if (t->leaves.get_leaf_hash == NULL) /* check_source refused it */
		return sira_err_set(err, SIRA_EINVAL, "no leaf source");
	if ((rc = t->leaves.get_leaf_hash(t->leaves.ctx, index, out)) == 0)
		return 0;
	if (rc < 0 && rc >= -SIRA_CODE_MAX)
		return sira_err_set(
		    err, -rc, "leaf %" PRIu64 " could not be read", index);
	return sira_err_set(err, SIRA_EIO,
	    "leaf %" PRIu64 " could not be read (callback returned %d)", index,
	    rc);
}

static int
fetch_node(const struct merkle_tree *t, unsigned level, uint64_t index,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	int rc;

	if ((rc = t->get_node_hash(t->leaves.ctx, level, index, out)) == 0)
		return 0;
	if (rc < 0 && rc >= -SIRA_CODE_MAX)
		return sira_err_set(err, -rc,
		    "subtree %" PRIu64 " of level %u could not be read", index,
		    level);
	return sira_err_set(err, SIRA_EIO,
	    "subtree %" PRIu64
	    " of level %u could not be read (callback returned %d)",
	    index, level, rc);
}

/*
 * out = MTH(D[r.lo : r.lo + r.n]) from the leaves. Leaves are read in order
 * and folded as a binary counter: after i leaves the stack holds one
 * complete subtree per set bit of i, so it never holds more than 64.
 * Folding what is left from the right gives RFC 6962's split at the largest
 * power of two.
 */
static int
leaf_fold(const struct merkle_tree *t, struct range r,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	uint8_t stack[MAX_HEIGHT][SIRA_HASH_LEN];
	size_t depth = 0;
	int rc;

	for (uint64_t i = 0; i < r.n; i++) {
		/* depth == popcount(i) <= 63, as i < r.n <= UINT64_MAX. */
		if ((rc = fetch(t, r.lo + i, stack[depth], err)) != 0)
			return rc;
		depth++;
		for (uint64_t c = i + 1; (c & 1) == 0; c >>= 1) {
			merkle_node_hash(stack[depth - 2], stack[depth - 1],
			    stack[depth - 2]);
			depth--;
		}
	}
	while (depth > 1) {
		merkle_node_hash(
		    stack[depth - 2], stack[depth - 1], stack[depth - 2]);
		depth--;
	}
	memcpy(out, stack[0], SIRA_HASH_LEN);
	return 0;
}

/*
 * The hash of the perfect subtree of 2^level leaves from leaf lo: stored
 * when lo is a multiple of its size, which every subtree of an RFC 6962
 * split is; hashed from its leaves otherwise, so that node_fold is right
 * for any range.
 */
static int
perfect_hash(const struct merkle_tree *t, uint64_t lo, unsigned level,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	uint64_t n = UINT64_C(1) << level;

	if (lo % n != 0)
		return leaf_fold(t, (struct range){ lo, n }, out, err);
	return fetch_node(t, level, lo >> level, out, err);
}

/*
 * out = MTH(D[r.lo : r.lo + r.n]) from stored subtrees. RFC 6962 splits at
 * the largest power of two, so the range is one perfect subtree per set
 * bit of r.n, largest first, folded from the right: the same stack as
 * leaf_fold's once its leaves are read.
 */
static int
node_fold(const struct merkle_tree *t, struct range r,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	uint8_t stack[MAX_HEIGHT][SIRA_HASH_LEN];
	uint64_t lo = r.lo;
	size_t depth = 0;
	int rc;

	for (unsigned level = MAX_HEIGHT; level-- > 0;) {
		if ((r.n & (UINT64_C(1) << level)) == 0)
			continue;
		if ((rc = perfect_hash(t, lo, level, stack[depth], err)) != 0)
			return rc;
		depth++;
		lo += UINT64_C(1) << level;
	}
	while (depth > 1) {
		merkle_node_hash(
		    stack[depth - 2], stack[depth - 1], stack[depth - 2]);
		depth--;
	}
	memcpy(out, stack[0], SIRA_HASH_LEN);
	return 0;
}

/* out = MTH(D[r.lo : r.lo + r.n]), from stored subtrees when there are. */
static int
subtree_hash(const struct merkle_tree *t, struct range r,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	if (t->get_node_hash != NULL)
		return node_fold(t, r, out, err);
	return leaf_fold(t, r, out, err);
}

/*
 * The subtrees whose hashes make the path of leaf index in the tree of
 * size leaves (RFC 6962 PATH), top down, which is the reverse of proof
 * order. Each step goes one level down, so there are at most 64.
 */
static size_t
inclusion_ranges(
    uint64_t index, uint64_t size, struct range sib[static MAX_HEIGHT])
{
	struct range t = { 0, size };
	size_t len = 0;
	uint64_t k;

	while (t.n > 1) {
		k = split(t.n);
		if (index - t.lo < k) {
			sib[len] = (struct range){ t.lo + k, t.n - k };
			t.n = k;
		} else {
			sib[len] = (struct range){ t.lo, k };
			t.lo += k;
			t.n -= k;
		}
		len++;
	}
	return len;
}

/*
 * The subtrees of the consistency proof from old_size to new_size, 0 <
 * old_size < new_size (RFC 6962 SUBPROOF), top down, and in *seed the
 * subtree where the walk ends. That subtree's hash opens the proof unless
 * it is the old tree itself (RFC 6962's b), whose root the verifier holds.
 */
static size_t
consistency_ranges(uint64_t old_size, uint64_t new_size,
    struct range sib[static MAX_HEIGHT], struct range *seed, bool *has_seed)
{
	struct range t = { 0, new_size };
	uint64_t m = old_size, k;
	size_t len = 0;
	bool is_old_tree = true;

	while (m != t.n) {
		k = split(t.n);
		if (m <= k) {
			sib[len] = (struct range){ t.lo + k, t.n - k };
			t.n = k;
		} else {
			sib[len] = (struct range){ t.lo, k };
			t.lo += k;
			t.n -= k;
			m -= k;
			is_old_tree = false;
		}
		len++;
	}
	*seed = t;
	*has_seed = !is_old_tree;
	return len;
}

/* Write the hashes of the top-down subtrees sib bottom up into proof. */
static int
emit(const struct merkle_tree *t, const struct range *sib, size_t len,
    uint8_t *proof, struct sira_err *err)
{
	int rc;

	for (size_t i = 0; i < len; i++) {
		if ((rc = subtree_hash(t, sib[i],
			 proof + (len - 1 - i) * SIRA_HASH_LEN, err)) != 0)
			return rc;
	}
	return 0;
}

static int
check_tree(const struct merkle_tree *t, struct sira_err *err)
{
	if (t == NULL || t->leaves.get_leaf_hash == NULL)
		return sira_err_set(err, SIRA_EINVAL, "no leaf source");
	return 0;
}

/* Check the source and the buffer, and empty the buffer's count. */
static int
check_proof(
    const struct merkle_tree *t, struct merkle_proof *p, struct sira_err *err)
{
	int rc;

	if (p != NULL)
		p->n = 0;
	if ((rc = check_tree(t, err)) != 0)
		return rc;
	if (p == NULL || (p->hash == NULL && p->max > 0))
		return sira_err_set(err, SIRA_EINVAL, "no proof buffer");
	return 0;
}

/* The merkle_leaves functions: a tree without stored subtrees. */
static int
tree_of(const struct merkle_leaves *leaves, struct merkle_tree *t,
    struct sira_err *err)
{
	if (leaves == NULL)
		return sira_err_set(err, SIRA_EINVAL, "no leaf source");
	t->leaves = *leaves;
	t->get_node_hash = NULL;
	return check_tree(t, err);
}

int
merkle_tree_root(const struct merkle_tree *t, uint64_t size,
    uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
{
	int rc;

	if ((rc = check_tree(t, err)) != 0)
		return rc;
	if (size == 0) {
		merkle_empty_root(root);
		return 0;
	}
	return subtree_hash(t, (struct range){ 0, size }, root, err);
}

int
merkle_tree_inclusion(const struct merkle_tree *t, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err)
{
	struct range sib[MAX_HEIGHT];
	size_t len;
	int rc;

	if ((rc = check_proof(t, p, err)) != 0)
		return rc;
	if (index >= size)
		return sira_err_set(err, SIRA_EINVAL,
		    "leaf %" PRIu64 " is not in a tree of %" PRIu64, index,
		    size);
	len = inclusion_ranges(index, size, sib);
	if (len > p->max)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "inclusion proof needs %zu hashes, buffer holds %zu", len,
		    p->max);
	if ((rc = emit(t, sib, len, p->hash, err)) != 0)
		return rc;
	p->n = len;
	return 0;
}

int
merkle_tree_consistency(const struct merkle_tree *t, uint64_t old_size,
    uint64_t new_size, struct merkle_proof *p, struct sira_err *err)
{
	struct range sib[MAX_HEIGHT], seed;
	uint8_t *out;
	size_t nsib, len;
	bool has_seed;
	int rc;

	if ((rc = check_proof(t, p, err)) != 0)
		return rc;
	if (old_size > new_size)
		return sira_err_set(err, SIRA_EINVAL,
		    "tree size %" PRIu64 " is older than %" PRIu64, new_size,
		    old_size);
	if (old_size == 0 || old_size == new_size)
		return 0;
	nsib = consistency_ranges(old_size, new_size, sib, &seed, &has_seed);
	len = nsib + (has_seed ? 1 : 0);
	if (len > p->max)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "consistency proof needs %zu hashes, buffer holds %zu", len,
		    p->max);
	out = p->hash;
	if (has_seed) {
		if ((rc = subtree_hash(t, seed, out, err)) != 0)
			return rc;
		out += SIRA_HASH_LEN;
	}
	if ((rc = emit(t, sib, nsib, out, err)) != 0)
		return rc;
	p->n = len;
	return 0;
}

int
merkle_root(const struct merkle_leaves *leaves, uint64_t size,
    uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
{
	struct merkle_tree t = { { NULL, NULL }, NULL };
	int rc;

	if ((rc = tree_of(leaves, &t, err)) != 0)
		return rc;
	return merkle_tree_root(&t, size, root, err);
}

int
merkle_inclusion_proof(const struct merkle_leaves *leaves, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err)
{
	struct merkle_tree t = { { NULL, NULL }, NULL };
	int rc;

	if (p != NULL)
		p->n = 0;
	if ((rc = tree_of(leaves, &t, err)) != 0)
		return rc;
	if (p == NULL)
		return sira_err_set(err, SIRA_EINVAL, "no proof buffer");
	return merkle_tree_inclusion(&t, index, size, p, err);
}

int
merkle_consistency_proof(const struct merkle_leaves *leaves, uint64_t old_size,
    uint64_t new_size, struct merkle_proof *p, struct sira_err *err)
{
	struct merkle_tree t = { { NULL, NULL }, NULL };
	int rc;

	if (p != NULL)
		p->n = 0;
	if ((rc = tree_of(leaves, &t, err)) != 0)
		return rc;
	if (p == NULL)
		return sira_err_set(err, SIRA_EINVAL, "no proof buffer");
	return merkle_tree_consistency(&t, old_size, new_size, p, err);
}

/* Roots and proof hashes are public, so memcmp (not constant time) is fine. */
static bool
same_hash(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, SIRA_HASH_LEN) == 0;
}

int
merkle_verify_inclusion(const uint8_t leaf_hash[static SIRA_HASH_LEN],
    uint64_t index, uint64_t size, struct merkle_hashes proof,
    const uint8_t root[static SIRA_HASH_LEN], struct sira_err *err)
{
	uint8_t r[SIRA_HASH_LEN], p[SIRA_HASH_LEN];
	uint64_t fn, sn;

	if (index >= size)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "leaf %" PRIu64 " is not in a tree of %" PRIu64, index,
		    size);
	if (proof.n > SIRA_MERKLE_PROOF_MAX ||
	    (proof.hash == NULL && proof.n > 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "inclusion proof of %zu hashes", proof.n);
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, SIRA_HASH_LEN);
	for (size_t i = 0; i < proof.n; i++) {
		if (sn == 0)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "inclusion proof of %zu hashes is too long for "
			    "leaf %" PRIu64 " of %" PRIu64,
			    proof.n, index, size);
		/* A copy, so sanitizers see the read (libsodium's are not). */
		memcpy(p, proof.hash + i * SIRA_HASH_LEN, SIRA_HASH_LEN);
		if ((fn & 1) == 1 || fn == sn) {
			merkle_node_hash(p, r, r);
			/* On the right border, skip levels with no sibling. */
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "inclusion proof of %zu hashes is too short for "
		    "leaf %" PRIu64 " of %" PRIu64,
		    proof.n, index, size);
	if (!same_hash(r, root))
		return sira_err_set(err, SIRA_EBADSIG,
		    "inclusion proof for leaf %" PRIu64 " of %" PRIu64
		    " does not match the root",
		    index, size);
	return 0;
}

/* Consistency when old_size is 0 or equals new_size: the proof is empty. */
static int
verify_trivial(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[static SIRA_HASH_LEN],
    const uint8_t new_root[static SIRA_HASH_LEN], size_t n,
    struct sira_err *err)
{
	uint8_t empty[SIRA_HASH_LEN];

	if (n != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "consistency proof from %" PRIu64 " to %" PRIu64
		    " must be empty, has %zu hashes",
		    old_size, new_size, n);
	merkle_empty_root(empty);
	if (old_size == 0 && !same_hash(old_root, empty))
		return sira_err_set(err, SIRA_EBADSIG,
		    "root of the empty tree is not SHA-256(\"\")");
	if (old_size == new_size && !same_hash(old_root, new_root))
		return sira_err_set(err, SIRA_EBADSIG,
		    "two different roots for tree size %" PRIu64, old_size);
	return 0;
}

int
merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[static SIRA_HASH_LEN],
    const uint8_t new_root[static SIRA_HASH_LEN], struct merkle_hashes proof,
    struct sira_err *err)
{
	uint8_t fr[SIRA_HASH_LEN], sr[SIRA_HASH_LEN], c[SIRA_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (old_size > new_size)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "tree size %" PRIu64 " is older than %" PRIu64, new_size,
		    old_size);
	if (proof.n > SIRA_MERKLE_PROOF_MAX ||
	    (proof.hash == NULL && proof.n > 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "consistency proof of %zu hashes", proof.n);
	if (old_size == 0 || old_size == new_size)
		return verify_trivial(
		    old_size, new_size, old_root, new_root, proof.n, err);
	if (proof.n == 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "empty consistency proof from %" PRIu64 " to %" PRIu64,
		    old_size, new_size);
	/* A power-of-two old tree is a node of the new one: its root seeds. */
	if (is_pow2(old_size)) {
		memcpy(fr, old_root, SIRA_HASH_LEN);
	} else {
		memcpy(fr, proof.hash, SIRA_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, SIRA_HASH_LEN);
	fn = old_size - 1;
	sn = new_size - 1;
	while ((fn & 1) == 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < proof.n; i++) {
		if (sn == 0)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "consistency proof of %zu hashes is too long for "
			    "%" PRIu64 " to %" PRIu64,
			    proof.n, old_size, new_size);
		memcpy(c, proof.hash + i * SIRA_HASH_LEN, SIRA_HASH_LEN);
		if ((fn & 1) == 1 || fn == sn) {
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "consistency proof of %zu hashes is too short for "
		    "%" PRIu64 " to %" PRIu64,
		    proof.n, old_size, new_size);
	if (!same_hash(fr, old_root) || !same_hash(sr, new_root))
		return sira_err_set(err, SIRA_EBADSIG,
		    "consistency proof from %" PRIu64 " to %" PRIu64
		    " does not match the roots",
		    old_size, new_size);
	return 0;
}
