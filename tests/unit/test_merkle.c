/*
 * test_merkle.c: the RFC 6962 Merkle tree of lib/merkle.h against the
 * published vectors, then against itself. Every rejection asserts its exact
 * code (and that the error context carries it): -SIRA_EMALFORMED when the
 * numbers (sizes, index, hash count) rule the proof out, -SIRA_EBADSIG when
 * a well-formed proof does not lead to the root(s).
 *
 * The vectors are the 8-leaf tree shared by the certificate-transparency
 * and transparency-dev test suites, copied from
 * github.com/transparency-dev/merkle: testonly/constants.go (LeafInputs,
 * NodeHashes, RootHashes, EmptyRootHash), proof/verify_test.go
 * (inclusionProofs with 1-based leaf numbers, made 0-based here, and
 * consistencyProofs) and proof/proof_test.go (TestInclusion and
 * TestConsistency: which tree nodes make each proof). The merkle_tree
 * functions, which read stored subtrees, must give the leaf-only bytes in
 * O(log size) subtree fetches and refuse with the same codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "digest.h"
#include "err.h"
#include "merkle.h"

#define H SIRA_HASH_LEN
#define HBITS (8 * (size_t)SIRA_HASH_LEN)
#define PMAX SIRA_MERKLE_PROOF_MAX
#define BIG 300 /* leaves of the property-test tree */

/* ---- vectors ---- */

#include "rfc6962_vectors.h"

/*
 * proof_test.go: proofs as tree nodes {level, index}. EPH is the node
 * hash(i, j) = hash(node 1.2, node 0.6), which exists only in trees of 7
 * leaves (proof_test.go's rehash()).
 */
#define EPH 9
struct nref {
	int level, index;
};
static const struct {
	int kind; /* 'i' inclusion (a = index), 'c' consistency (a = old) */
	uint64_t a, size;
	size_t n;
	struct nref ref[5];
} vshape[] = {
	{ 'i', 0, 2, 1, { { 0, 1 } } },
	{ 'i', 1, 2, 1, { { 0, 0 } } },
	{ 'i', 1, 3, 2, { { 0, 0 }, { 0, 2 } } },
	{ 'i', 0, 7, 3, { { 0, 1 }, { 1, 1 }, { EPH, 0 } } },
	{ 'i', 1, 7, 3, { { 0, 0 }, { 1, 1 }, { EPH, 0 } } },
	{ 'i', 2, 7, 3, { { 0, 3 }, { 1, 0 }, { EPH, 0 } } },
	{ 'i', 3, 7, 3, { { 0, 2 }, { 1, 0 }, { EPH, 0 } } },
	{ 'i', 4, 7, 3, { { 0, 5 }, { 0, 6 }, { 2, 0 } } },
	{ 'i', 5, 7, 3, { { 0, 4 }, { 0, 6 }, { 2, 0 } } },
	{ 'i', 6, 7, 2, { { 1, 2 }, { 2, 0 } } },
	{ 'i', 2, 4, 2, { { 0, 3 }, { 1, 0 } } },
	{ 'i', 3, 5, 3, { { 0, 2 }, { 1, 0 }, { 0, 4 } } },
	{ 'i', 3, 6, 3, { { 0, 2 }, { 1, 0 }, { 1, 2 } } },
	{ 'i', 4, 6, 2, { { 0, 5 }, { 2, 0 } } },
	{ 'c', 1, 2, 1, { { 0, 1 } } },
	{ 'c', 1, 4, 2, { { 0, 1 }, { 1, 1 } } },
	{ 'c', 1, 6, 3, { { 0, 1 }, { 1, 1 }, { 1, 2 } } },
	{ 'c', 2, 3, 1, { { 0, 2 } } },
	{ 'c', 2, 8, 2, { { 1, 1 }, { 2, 1 } } },
	{ 'c', 3, 7, 4, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { EPH, 0 } } },
	{ 'c', 4, 7, 1, { { EPH, 0 } } },
	{ 'c', 5, 7, 4, { { 0, 4 }, { 0, 5 }, { 0, 6 }, { 2, 0 } } },
	{ 'c', 6, 7, 3, { { 1, 2 }, { 0, 6 }, { 2, 0 } } },
	{ 'c', 7, 8, 4, { { 0, 6 }, { 0, 7 }, { 1, 2 }, { 2, 0 } } },
	{ 'c', 2, 4, 1, { { 1, 1 } } },
	{ 'c', 3, 5, 4, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { 0, 4 } } },
	{ 'c', 3, 6, 4, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { 1, 2 } } },
	{ 'c', 4, 6, 1, { { 1, 2 } } },
	{ 'c', 1, 7, 3, { { 0, 1 }, { 1, 1 }, { EPH, 0 } } },
};

/* ---- helpers ---- */

static uint8_t
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0');
	assert_true(c >= 'a' && c <= 'f');
	return (uint8_t)(c - 'a' + 10);
}

static void
unhex(const char *s, uint8_t out[H])
{
	assert_int_equal(strlen(s), 2 * H);
	for (size_t i = 0; i < H; i++)
		out[i] =
		    (uint8_t)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
}

/* A tree of up to BIG leaf hashes held in memory. */
struct tree {
	uint8_t h[BIG][H];
	uint64_t n;       /* leaves the callback will serve */
	uint64_t fetches; /* leaves served so far */
	int fail_rc;      /* when non-zero, the callback returns it */
};

static int
tree_get(void *ctx, uint64_t index, uint8_t out[H])
{
	struct tree *t = ctx;

	if (t->fail_rc != 0)
		return t->fail_rc;
	if (index >= t->n)
		return -SIRA_ENOTFOUND;
	memcpy(out, t->h[index], H);
	t->fetches++;
	return 0;
}

static struct merkle_leaves
source(struct tree *t)
{
	struct merkle_leaves s = { tree_get, t };

	return s;
}

/* The 8 vector leaves, then 8 more of our own (for sizes up to 16). */
static void
vector_tree(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < 8; i++)
		merkle_leaf_hash(
		    (const uint8_t *)vleaf[i].p, vleaf[i].len, t->h[i]);
	for (size_t i = 8; i < 16; i++) {
		uint8_t b = (uint8_t)(0xa0 + i);
		merkle_leaf_hash(&b, 1, t->h[i]);
	}
	t->n = 16;
}

/* The property-test tree: leaf hash i = SHA-256(i as 8 bytes LE). */
static void
index_tree(struct tree *t)
{
	uint8_t le[8];

	memset(t, 0, sizeof(*t));
	for (uint64_t i = 0; i < BIG; i++) {
		digest_lp_len(le, i);
		digest_sha256(t->h[i], le, sizeof(le));
	}
	t->n = BIG;
}

/*
 * An independent root: hash pairs level by level, carrying an unpaired
 * last node up unchanged, which is what RFC 6962's split at the largest
 * power of two amounts to.
 */
static void
ref_root(const struct tree *t, uint64_t size, uint8_t out[H])
{
	uint8_t lvl[BIG][H];
	uint64_t n = size;

	if (size == 0) {
		digest_sha256(out, NULL, 0);
		return;
	}
	memcpy(lvl, t->h, size * H);
	while (n > 1) {
		for (uint64_t i = 0; i < n / 2; i++)
			merkle_node_hash(lvl[2 * i], lvl[2 * i + 1], lvl[i]);
		if (n % 2 == 1)
			memcpy(lvl[n / 2], lvl[n - 1], H);
		n = (n + 1) / 2;
	}
	memcpy(out, lvl[0], H);
}

static size_t
incl(struct tree *t, uint64_t index, uint64_t size, uint8_t proof[][H])
{
	struct merkle_leaves s = source(t);
	struct merkle_proof p = { proof[0], PMAX, 99 };

	assert_int_equal(merkle_inclusion_proof(&s, index, size, &p, NULL), 0);
	assert_true(p.n <= 64);
	return p.n;
}

static size_t
cons(struct tree *t, uint64_t m, uint64_t size, uint8_t proof[][H])
{
	struct merkle_leaves s = source(t);
	struct merkle_proof p = { proof[0], PMAX, 99 };

	assert_int_equal(merkle_consistency_proof(&s, m, size, &p, NULL), 0);
	assert_true(p.n <= PMAX);
	return p.n;
}

/* Verify, and check that the error context agrees with the result. */
static int
vincl_rc(const uint8_t leaf[H], uint64_t index, uint64_t size,
    const uint8_t *proof, size_t n, const uint8_t root[H])
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = merkle_verify_inclusion(
	    leaf, index, size, (struct merkle_hashes){ proof, n }, root, &err);
	assert_int_equal(err.code, -rc);
	return rc;
}

static int
vcons_rc(uint64_t m, uint64_t size, const uint8_t r1[H], const uint8_t r2[H],
    const uint8_t *proof, size_t n)
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = merkle_verify_consistency(
	    m, size, r1, r2, (struct merkle_hashes){ proof, n }, &err);
	assert_int_equal(err.code, -rc);
	return rc;
}

/* Every single-bit flip of every hash in proof must give -SIRA_EBADSIG. */
static void
flip_all_incl(const uint8_t leaf[H], uint64_t index, uint64_t size,
    uint8_t proof[][H], size_t n, const uint8_t root[H])
{
	for (size_t i = 0; i < n; i++)
		for (size_t bit = 0; bit < HBITS; bit++) {
			proof[i][bit / 8] ^= (uint8_t)(1U << (bit % 8));
			assert_int_equal(
			    vincl_rc(leaf, index, size, proof[0], n, root),
			    -SIRA_EBADSIG);
			proof[i][bit / 8] ^= (uint8_t)(1U << (bit % 8));
		}
	assert_int_equal(vincl_rc(leaf, index, size, proof[0], n, root), 0);
}

static void
flip_all_cons(uint64_t m, uint64_t size, const uint8_t r1[H],
    const uint8_t r2[H], uint8_t proof[][H], size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t bit = 0; bit < HBITS; bit++) {
			proof[i][bit / 8] ^= (uint8_t)(1U << (bit % 8));
			assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n),
			    -SIRA_EBADSIG);
			proof[i][bit / 8] ^= (uint8_t)(1U << (bit % 8));
		}
	assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n), 0);
}

/* A deterministic generator for the property tests (splitmix64). */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* ---- vector tests ---- */

static void
test_hashes(void **state)
{
	uint8_t want[H], got[H], l[H], r[H], buf[1 + 2 * H];
	struct tree t;

	(void)state;
	/* Empty tree: SHA-256(""). */
	unhex(vroot[0], want);
	merkle_empty_root(got);
	assert_memory_equal(got, want, H);
	vector_tree(&t);
	{
		struct merkle_leaves s = source(&t);
		assert_int_equal(merkle_root(&s, 0, got, NULL), 0);
		assert_memory_equal(got, want, H);
		assert_int_equal(t.fetches, 0);
	}
	/* Leaf hashes are level 0 of NodeHashes, and differ from SHA-256. */
	for (size_t i = 0; i < 8; i++) {
		unhex(vnode[0][i], want);
		assert_memory_equal(t.h[i], want, H);
		digest_sha256(got, (const uint8_t *)vleaf[i].p, vleaf[i].len);
		assert_memory_not_equal(got, want, H);
	}
	/* Every complete subtree: node = SHA-256(0x01 || left || right). */
	for (size_t lv = 1; lv < 4; lv++)
		for (size_t i = 0; i < (8U >> lv); i++) {
			unhex(vnode[lv - 1][2 * i], l);
			unhex(vnode[lv - 1][2 * i + 1], r);
			unhex(vnode[lv][i], want);
			merkle_node_hash(l, r, got);
			assert_memory_equal(got, want, H);
			buf[0] = 0x01;
			memcpy(buf + 1, l, H);
			memcpy(buf + 1 + H, r, H);
			digest_sha256(got, buf, sizeof(buf));
			assert_memory_equal(got, want, H);
			/* out may alias an input. */
			merkle_node_hash(l, r, l);
			assert_memory_equal(l, want, H);
		}
}

static void
test_vector_roots(void **state)
{
	uint8_t want[H], got[H];
	struct tree t;
	struct merkle_leaves s;

	(void)state;
	vector_tree(&t);
	s = source(&t);
	for (uint64_t size = 1; size <= 8; size++) {
		unhex(vroot[size], want);
		t.fetches = 0;
		assert_int_equal(merkle_root(&s, size, got, NULL), 0);
		assert_memory_equal(got, want, H);
		assert_int_equal(t.fetches, size);
		ref_root(&t, size, got);
		assert_memory_equal(got, want, H);
	}
}

static void
test_vector_proofs(void **state)
{
	uint8_t proof[PMAX][H], want[H], root[H], r1[H];
	struct tree t;
	size_t n;

	(void)state;
	vector_tree(&t);
	for (size_t v = 0; v < sizeof(vincl) / sizeof(vincl[0]); v++) {
		n = incl(&t, vincl[v].index, vincl[v].size, proof);
		assert_int_equal(n, vincl[v].n);
		for (size_t i = 0; i < n; i++) {
			unhex(vincl[v].proof[i], want);
			assert_memory_equal(proof[i], want, H);
		}
		unhex(vroot[vincl[v].size], root);
		assert_int_equal(vincl_rc(t.h[vincl[v].index], vincl[v].index,
				     vincl[v].size, proof[0], n, root),
		    0);
	}
	for (size_t v = 0; v < sizeof(vcons) / sizeof(vcons[0]); v++) {
		n = cons(&t, vcons[v].old_size, vcons[v].new_size, proof);
		assert_int_equal(n, vcons[v].n);
		for (size_t i = 0; i < n; i++) {
			unhex(vcons[v].proof[i], want);
			assert_memory_equal(proof[i], want, H);
		}
		unhex(vroot[vcons[v].old_size], r1);
		unhex(vroot[vcons[v].new_size], root);
		assert_int_equal(vcons_rc(vcons[v].old_size, vcons[v].new_size,
				     r1, root, proof[0], n),
		    0);
	}
}

static void
test_proof_shapes(void **state)
{
	uint8_t proof[PMAX][H], want[H], i12[H], j06[H];
	struct tree t;
	size_t n;

	(void)state;
	vector_tree(&t);
	unhex(vnode[1][2], i12);
	unhex(vnode[0][6], j06);
	for (size_t v = 0; v < sizeof(vshape) / sizeof(vshape[0]); v++) {
		if (vshape[v].kind == 'i')
			n = incl(&t, vshape[v].a, vshape[v].size, proof);
		else
			n = cons(&t, vshape[v].a, vshape[v].size, proof);
		assert_int_equal(n, vshape[v].n);
		for (size_t i = 0; i < n; i++) {
			const struct nref *r = &vshape[v].ref[i];
			if (r->level == EPH)
				merkle_node_hash(i12, j06, want);
			else
				unhex(vnode[r->level][r->index], want);
			assert_memory_equal(proof[i], want, H);
		}
	}
}

/* ---- every proof of the 8-leaf tree, and its tampered variants ---- */

/* The vector tree (16 leaves) with the root of every size 0..16. */
struct small {
	struct tree t;
	uint8_t root[17][H];
};

static void
small_init(struct small *f)
{
	vector_tree(&f->t);
	for (uint64_t s = 0; s <= 16; s++)
		ref_root(&f->t, s, f->root[s]);
}

/*
 * A wrong index or size, with that size's own root: the numbers reject it
 * (-SIRA_EMALFORMED) when our own path for them has another length, the
 * hashes (-SIRA_EBADSIG) when it has the same.
 */
static void
incl_wrong_numbers(struct small *f, uint64_t idx, uint64_t size,
    const uint8_t *proof, size_t n)
{
	uint8_t other[PMAX][H];
	int want;

	for (uint64_t i2 = 0; i2 <= 9; i2++) {
		if (i2 == idx)
			continue;
		want = -SIRA_EMALFORMED;
		if (i2 < size && incl(&f->t, i2, size, other) == n)
			want = -SIRA_EBADSIG;
		assert_int_equal(
		    vincl_rc(f->t.h[idx], i2, size, proof, n, f->root[size]),
		    want);
	}
	for (uint64_t s2 = 0; s2 <= 16; s2++) {
		if (s2 == size)
			continue;
		want = -SIRA_EMALFORMED;
		if (idx < s2 && incl(&f->t, idx, s2, other) == n)
			want = -SIRA_EBADSIG;
		assert_int_equal(
		    vincl_rc(f->t.h[idx], idx, s2, proof, n, f->root[s2]),
		    want);
	}
}

/* The inclusion proof of leaf idx in size verifies; no variant does. */
static void
incl_tamper(struct small *f, uint64_t idx, uint64_t size)
{
	uint8_t proof[PMAX + 1][H], leaf[H];
	const uint8_t *lh = f->t.h[idx], *root = f->root[size];
	size_t n;

	n = incl(&f->t, idx, size, proof);
	assert_int_equal(vincl_rc(lh, idx, size, proof[0], n, root), 0);
	/* Another leaf, or one bit of this one. */
	assert_int_equal(
	    vincl_rc(f->t.h[(idx + 1) % 8], idx, size, proof[0], n, root),
	    -SIRA_EBADSIG);
	memcpy(leaf, lh, H);
	leaf[H - 1] ^= 0x80;
	assert_int_equal(
	    vincl_rc(leaf, idx, size, proof[0], n, root), -SIRA_EBADSIG);
	/* Any bit of any proof hash; the root of another size. */
	flip_all_incl(lh, idx, size, proof, n, root);
	assert_int_equal(
	    vincl_rc(lh, idx, size, proof[0], n, f->root[size + 1]),
	    -SIRA_EBADSIG);
	/* A hash removed (last or first) or added (at the end or front). */
	if (n > 0) {
		assert_int_equal(vincl_rc(lh, idx, size, proof[0], n - 1, root),
		    -SIRA_EMALFORMED);
		assert_int_equal(vincl_rc(lh, idx, size, proof[1], n - 1, root),
		    -SIRA_EMALFORMED);
	}
	memcpy(proof[n], root, H);
	assert_int_equal(
	    vincl_rc(lh, idx, size, proof[0], n + 1, root), -SIRA_EMALFORMED);
	memmove(proof[1], proof[0], (n + 1) * H);
	assert_int_equal(
	    vincl_rc(lh, idx, size, proof[0], n + 1, root), -SIRA_EMALFORMED);
	memmove(proof[0], proof[1], n * H);
	incl_wrong_numbers(f, idx, size, proof[0], n);
}

static void
test_inclusion_small(void **state)
{
	uint8_t proof[PMAX][H], want[H];
	struct small f;
	size_t n;

	(void)state;
	small_init(&f);
	for (uint64_t size = 1; size <= 8; size++) {
		unhex(vroot[size], want);
		assert_memory_equal(f.root[size], want, H);
		for (uint64_t idx = 0; idx < size; idx++)
			incl_tamper(&f, idx, size);
	}
	/* verify_test.go's probes of the vector proofs: size * 2, size / 2. */
	for (size_t v = 1; v < sizeof(vincl) / sizeof(vincl[0]); v++) {
		uint64_t idx = vincl[v].index, size = vincl[v].size;

		n = incl(&f.t, idx, size, proof);
		assert_int_not_equal(vincl_rc(f.t.h[idx], idx, size * 2,
					 proof[0], n, f.root[size]),
		    0);
		assert_int_not_equal(vincl_rc(f.t.h[idx], idx, size / 2,
					 proof[0], n, f.root[size]),
		    0);
	}
}

/* As incl_wrong_numbers, for a wrong old size or new size. */
static void
cons_wrong_numbers(
    struct small *f, uint64_t m, uint64_t size, const uint8_t *proof, size_t n)
{
	uint8_t other[PMAX][H];
	int want;

	for (uint64_t m2 = 0; m2 <= 16; m2++) {
		if (m2 == m)
			continue;
		want = -SIRA_EMALFORMED;
		if (m2 <= size && cons(&f->t, m2, size, other) == n)
			want = -SIRA_EBADSIG;
		assert_int_equal(
		    vcons_rc(m2, size, f->root[m2], f->root[size], proof, n),
		    want);
	}
	for (uint64_t s2 = 0; s2 <= 16; s2++) {
		if (s2 == size)
			continue;
		want = -SIRA_EMALFORMED;
		if (m <= s2 && cons(&f->t, m, s2, other) == n)
			want = -SIRA_EBADSIG;
		assert_int_equal(
		    vcons_rc(m, s2, f->root[m], f->root[s2], proof, n), want);
	}
}

/* The consistency proof from m to size verifies; no variant does. */
static void
cons_tamper(struct small *f, uint64_t m, uint64_t size)
{
	uint8_t proof[PMAX + 1][H], bad[H];
	const uint8_t *r1 = f->root[m], *r2 = f->root[size];
	size_t n;

	n = cons(&f->t, m, size, proof);
	assert_int_equal(n == 0, m == size);
	assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n), 0);
	/* A hash added at the end or the front. */
	memcpy(proof[n], r1, H);
	assert_int_equal(
	    vcons_rc(m, size, r1, r2, proof[0], n + 1), -SIRA_EMALFORMED);
	memmove(proof[1], proof[0], (n + 1) * H);
	assert_int_equal(
	    vcons_rc(m, size, r1, r2, proof[0], n + 1), -SIRA_EMALFORMED);
	memmove(proof[0], proof[1], n * H);
	/* Roots that are not the two trees'. */
	memcpy(bad, r1, H);
	bad[0] ^= 1;
	assert_int_equal(
	    vcons_rc(m, size, bad, r2, proof[0], n), -SIRA_EBADSIG);
	assert_int_equal(
	    vcons_rc(m, size, r1, bad, proof[0], n), -SIRA_EBADSIG);
	if (m == size)
		return;
	/* Time travel; swapped roots. */
	assert_int_equal(
	    vcons_rc(size, m, r2, r1, proof[0], n), -SIRA_EMALFORMED);
	assert_int_equal(vcons_rc(m, size, r2, r1, proof[0], n), -SIRA_EBADSIG);
	/* Any bit of any hash; a hash removed (last, first, all). */
	flip_all_cons(m, size, r1, r2, proof, n);
	assert_int_equal(
	    vcons_rc(m, size, r1, r2, proof[0], n - 1), -SIRA_EMALFORMED);
	assert_int_equal(
	    vcons_rc(m, size, r1, r2, proof[1], n - 1), -SIRA_EMALFORMED);
	assert_int_equal(vcons_rc(m, size, r1, r2, NULL, 0), -SIRA_EMALFORMED);
	cons_wrong_numbers(f, m, size, proof[0], n);
}

static void
test_consistency_small(void **state)
{
	uint8_t proof[PMAX][H];
	struct small f;

	(void)state;
	small_init(&f);
	for (uint64_t size = 1; size <= 8; size++) {
		/* From the empty tree: always, with an empty proof. */
		assert_int_equal(cons(&f.t, 0, size, proof), 0);
		assert_int_equal(
		    vcons_rc(0, size, f.root[0], f.root[size], NULL, 0), 0);
		for (uint64_t m = 1; m <= size; m++)
			cons_tamper(&f, m, size);
	}
}

/*
 * The second-preimage attack RFC 6962's prefixes exist for: present an
 * interior node's children as leaf data, so that without the 0x00/0x01
 * distinction a one-leaf "tree" would have the real tree's root.
 */
static void
test_second_preimage(void **state)
{
	uint8_t root[H], l[H], r[H], forged[2 * H], fh[H], proof[2][H];
	struct tree t;
	size_t n;

	(void)state;
	vector_tree(&t);
	ref_root(&t, 4, root);
	unhex(vnode[1][0], l);
	unhex(vnode[1][1], r);
	memcpy(forged, l, H);
	memcpy(forged + H, r, H);
	/* Without prefixes this leaf would hash to the size-4 root. */
	merkle_leaf_hash(forged, sizeof(forged), fh);
	assert_memory_not_equal(fh, root, H);
	assert_int_equal(vincl_rc(fh, 0, 1, NULL, 0, root), -SIRA_EBADSIG);
	/*
	 * Interior node 1.0 handed over as the "leaf hash" of leaf 0 of a
	 * 2-leaf tree, with node 1.1 as path, does lead to the root: that is
	 * why merkle.h makes callers hash leaf bytes themselves and take size
	 * and root from one checkpoint. Leaf bytes spelling node 1.0's
	 * children hash to something else.
	 */
	assert_int_equal(vincl_rc(l, 0, 2, r, 1, root), 0);
	memcpy(forged, t.h[0], H);
	memcpy(forged + H, t.h[1], H);
	merkle_leaf_hash(forged, sizeof(forged), fh);
	assert_int_equal(vincl_rc(fh, 0, 2, r, 1, root), -SIRA_EBADSIG);
	/* The honest proof for leaf 0 says size 4: two hashes, not one. */
	n = incl(&t, 0, 4, proof);
	assert_int_equal(n, 2);
	assert_int_equal(vincl_rc(l, 0, 4, r, 1, root), -SIRA_EMALFORMED);
}

/* ---- hostile numbers ---- */

static void
test_verify_edges(void **state)
{
	uint8_t proof[PMAX + 2][H], root[H], empty[H], x[H];
	uint64_t big[] = { 0, 1, 2, 3, UINT64_MAX / 2, UINT64_MAX / 2 + 1,
		UINT64_MAX - 1, UINT64_MAX };
	size_t nb = sizeof(big) / sizeof(big[0]);
	int rc;

	(void)state;
	memset(proof, 0x5a, sizeof(proof));
	merkle_empty_root(empty);
	memset(root, 0x11, H);
	memset(x, 0x22, H);
	/* index >= size, including size 0 and UINT64_MAX. */
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j <= i; j++)
			assert_int_equal(
			    vincl_rc(x, big[i], big[j], proof[0], 3, root),
			    -SIRA_EMALFORMED);
	/* Too many hashes, or none behind a count: refused unread. */
	assert_int_equal(vincl_rc(x, 0, UINT64_MAX, proof[0], PMAX + 1, root),
	    -SIRA_EMALFORMED);
	assert_int_equal(
	    vincl_rc(x, 0, UINT64_MAX, NULL, SIZE_MAX, root), -SIRA_EMALFORMED);
	assert_int_equal(vincl_rc(x, 0, 8, NULL, 3, root), -SIRA_EMALFORMED);
	/* A single leaf is its own root. */
	assert_int_equal(vincl_rc(x, 0, 1, NULL, 0, x), 0);
	assert_int_equal(vincl_rc(x, 0, 1, NULL, 0, root), -SIRA_EBADSIG);
	assert_int_equal(vincl_rc(x, 0, 1, proof[0], 1, x), -SIRA_EMALFORMED);
	/* Any count with any index below any size: one of the two codes. */
	for (size_t i = 0; i < nb; i++)
		for (size_t j = i + 1; j < nb; j++)
			for (size_t n = 0; n <= PMAX + 1; n++) {
				rc = vincl_rc(
				    x, big[i], big[j], proof[0], n, root);
				assert_true(rc == -SIRA_EMALFORMED ||
				    rc == -SIRA_EBADSIG);
			}

	/* Time travel. */
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < i; j++)
			assert_int_equal(
			    vcons_rc(big[i], big[j], root, x, proof[0], 3),
			    -SIRA_EMALFORMED);
	/* Equal sizes: empty proof, equal roots. */
	assert_int_equal(vcons_rc(0, 0, empty, empty, NULL, 0), 0);
	assert_int_equal(vcons_rc(0, 0, root, root, NULL, 0), -SIRA_EBADSIG);
	assert_int_equal(vcons_rc(0, 0, empty, root, NULL, 0), -SIRA_EBADSIG);
	assert_int_equal(vcons_rc(5, 5, root, root, NULL, 0), 0);
	assert_int_equal(
	    vcons_rc(UINT64_MAX, UINT64_MAX, root, root, NULL, 0), 0);
	assert_int_equal(vcons_rc(5, 5, root, x, NULL, 0), -SIRA_EBADSIG);
	assert_int_equal(
	    vcons_rc(5, 5, root, root, proof[0], 1), -SIRA_EMALFORMED);
	/* From the empty tree: empty proof, and the empty root. */
	assert_int_equal(vcons_rc(0, UINT64_MAX, empty, x, NULL, 0), 0);
	assert_int_equal(
	    vcons_rc(0, UINT64_MAX, root, x, NULL, 0), -SIRA_EBADSIG);
	assert_int_equal(
	    vcons_rc(0, 7, empty, x, proof[0], 1), -SIRA_EMALFORMED);
	/* A real step needs a proof, of at most PMAX hashes. */
	assert_int_equal(vcons_rc(1, 2, root, x, NULL, 0), -SIRA_EMALFORMED);
	assert_int_equal(vcons_rc(3, UINT64_MAX, root, x, proof[0], PMAX + 1),
	    -SIRA_EMALFORMED);
	assert_int_equal(
	    vcons_rc(3, UINT64_MAX, root, x, NULL, SIZE_MAX), -SIRA_EMALFORMED);
	assert_int_equal(vcons_rc(3, 9, root, x, NULL, 4), -SIRA_EMALFORMED);
	for (size_t i = 0; i < nb; i++)
		for (size_t j = i; j < nb; j++)
			for (size_t n = 0; n <= PMAX + 1; n++) {
				rc = vcons_rc(
				    big[i], big[j], root, x, proof[0], n);
				assert_true(rc == -SIRA_EMALFORMED ||
				    rc == -SIRA_EBADSIG);
			}
	/* err may be NULL. */
	assert_int_equal(merkle_verify_inclusion(x, 1, 1,
			     (struct merkle_hashes){ NULL, 0 }, x, NULL),
	    -SIRA_EMALFORMED);
	assert_int_equal(merkle_verify_consistency(2, 1, x, x,
			     (struct merkle_hashes){ NULL, 0 }, NULL),
	    -SIRA_EMALFORMED);
}

/*
 * Point p at the caller's buffer hash (room for max hashes) with a count
 * the generator must overwrite, and return it.
 */
static struct merkle_proof *
room(struct merkle_proof *p, uint8_t *hash, size_t max)
{
	*p = (struct merkle_proof){ hash, max, 99 };
	return p;
}

static void
test_generate_edges(void **state)
{
	uint8_t proof[PMAX][H], root[H];
	struct tree t;
	struct merkle_leaves s, bad = { NULL, NULL };
	struct sira_err err;
	struct merkle_proof p;

	(void)state;
	vector_tree(&t);
	s = source(&t);
	/* Impossible requests. */
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 0, room(&p, proof[0], PMAX), &err),
	    -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	assert_int_equal(p.n, 0);
	assert_int_equal(
	    merkle_inclusion_proof(&s, 8, 8, room(&p, proof[0], PMAX), NULL),
	    -SIRA_EINVAL);
	assert_int_equal(merkle_inclusion_proof(&s, UINT64_MAX, UINT64_MAX,
			     room(&p, proof[0], PMAX), NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    merkle_consistency_proof(&s, 5, 4, room(&p, proof[0], PMAX), &err),
	    -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	assert_int_equal(merkle_consistency_proof(
			     &s, UINT64_MAX, 0, room(&p, proof[0], PMAX), NULL),
	    -SIRA_EINVAL);
	/* Missing pieces. */
	assert_int_equal(merkle_root(NULL, 1, root, NULL), -SIRA_EINVAL);
	assert_int_equal(merkle_root(&bad, 1, root, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_inclusion_proof(&bad, 0, 2, room(&p, proof[0], PMAX), NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 2, NULL, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 2, room(&p, NULL, 1), NULL),
	    -SIRA_EINVAL);
	assert_int_equal(merkle_consistency_proof(
			     NULL, 1, 2, room(&p, proof[0], PMAX), NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    merkle_consistency_proof(&s, 1, 2, NULL, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_consistency_proof(&s, 1, 2, room(&p, NULL, 1), NULL),
	    -SIRA_EINVAL);
}

static void
test_generate_limits(void **state)
{
	uint8_t proof[PMAX][H], root[H];
	struct tree t;
	struct merkle_leaves s;
	struct sira_err err;
	struct merkle_proof p;

	(void)state;
	vector_tree(&t);
	s = source(&t);
	/* Empty proofs need no buffer and read nothing. */
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 1, room(&p, NULL, 0), NULL), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(merkle_consistency_proof(
			     &s, 0, UINT64_MAX, room(&p, NULL, 0), NULL),
	    0);
	assert_int_equal(p.n, 0);
	assert_int_equal(merkle_consistency_proof(&s, UINT64_MAX, UINT64_MAX,
			     room(&p, NULL, 0), NULL),
	    0);
	assert_int_equal(p.n, 0);
	assert_int_equal(t.fetches, 0);
	/* A buffer too small is refused before any leaf is read. */
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 8, room(&p, proof[0], 2), &err),
	    -SIRA_ETOOBIG);
	assert_int_equal(err.code, SIRA_ETOOBIG);
	assert_int_equal(p.n, 0);
	assert_int_equal(
	    merkle_consistency_proof(&s, 3, 7, room(&p, proof[0], 3), NULL),
	    -SIRA_ETOOBIG);
	assert_int_equal(merkle_inclusion_proof(
			     &s, 5, UINT64_MAX, room(&p, proof[0], 63), NULL),
	    -SIRA_ETOOBIG);
	assert_int_equal(merkle_consistency_proof(
			     &s, 3, UINT64_MAX, room(&p, proof[0], 64), NULL),
	    -SIRA_ETOOBIG);
	assert_int_equal(t.fetches, 0);
	/* Exactly enough room. */
	assert_int_equal(
	    merkle_consistency_proof(&s, 3, 7, room(&p, proof[0], 4), NULL), 0);
	assert_int_equal(p.n, 4);
	/* The source's errors come back unchanged; odd ones become EIO. */
	t.n = 5;
	assert_int_equal(merkle_root(&s, 6, root, &err), -SIRA_ENOTFOUND);
	assert_int_equal(err.code, SIRA_ENOTFOUND);
	assert_int_equal(
	    merkle_inclusion_proof(&s, 0, 8, room(&p, proof[0], PMAX), NULL),
	    -SIRA_ENOTFOUND);
	assert_int_equal(p.n, 0);
	assert_int_equal(
	    merkle_consistency_proof(&s, 3, 8, room(&p, proof[0], PMAX), NULL),
	    -SIRA_ENOTFOUND);
	assert_int_equal(p.n, 0);
	t.n = 16;
	t.fail_rc = -SIRA_EIO;
	assert_int_equal(merkle_root(&s, 3, root, NULL), -SIRA_EIO);
	t.fail_rc = 1;
	assert_int_equal(merkle_root(&s, 3, root, &err), -SIRA_EIO);
	assert_int_equal(err.code, SIRA_EIO);
	t.fail_rc = -1000;
	assert_int_equal(
	    merkle_inclusion_proof(&s, 1, 3, room(&p, proof[0], PMAX), NULL),
	    -SIRA_EIO);
	t.fail_rc = 0;
}

/*
 * Trees of up to UINT64_MAX leaves, all with the same leaf hash: then every
 * subtree's hash depends only on its size, so a reference written straight
 * from RFC 6962's recursive definitions (MTH, PATH, SUBPROOF) computes the
 * root and proofs in O(log^2 n). It checks the verifiers' arithmetic near
 * UINT64_MAX and the 65-hash bound. (Wrong-index probes mean nothing here:
 * every leaf is the same.) The recursion is the RFC's, on purpose, so that
 * it shares nothing with lib/merkle.c's walks; it is at most 64 deep.
 */
struct uniform {
	uint8_t perfect[64][H]; /* perfect[h]: a complete subtree of 2^h */
};

static void
u_init(struct uniform *u)
{
	merkle_leaf_hash((const uint8_t *)"sira", 4, u->perfect[0]);
	for (size_t h = 1; h < 64; h++)
		merkle_node_hash(
		    u->perfect[h - 1], u->perfect[h - 1], u->perfect[h]);
}

static uint64_t
ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (k <= (n - 1) / 2)
		k <<= 1;
	return k;
}

static size_t
log2_exact(uint64_t k)
{
	size_t h = 0;

	while ((UINT64_C(1) << h) != k)
		h++;
	return h;
}

/* NOLINTBEGIN(misc-no-recursion) */
static void
u_mth(const struct uniform *u, uint64_t n, uint8_t out[H])
{
	uint8_t right[H];
	uint64_t k;

	if ((n & (n - 1)) == 0) {
		memcpy(out, u->perfect[log2_exact(n)], H);
		return;
	}
	k = ref_split(n);
	u_mth(u, n - k, right);
	merkle_node_hash(u->perfect[log2_exact(k)], right, out);
}

static void
u_append(const struct uniform *u, uint64_t n, uint8_t proof[][H], size_t *np)
{
	assert_true(*np < PMAX);
	u_mth(u, n, proof[*np]);
	(*np)++;
}

static void
u_path(const struct uniform *u, uint64_t m, uint64_t n, uint8_t proof[][H],
    size_t *np)
{
	uint64_t k;

	if (n == 1)
		return;
	k = ref_split(n);
	if (m < k) {
		u_path(u, m, k, proof, np);
		u_append(u, n - k, proof, np);
	} else {
		u_path(u, m - k, n - k, proof, np);
		u_append(u, k, proof, np);
	}
}

static void
u_subproof(const struct uniform *u, uint64_t m, uint64_t n, int b,
    uint8_t proof[][H], size_t *np)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			u_append(u, m, proof, np);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		u_subproof(u, m, k, b, proof, np);
		u_append(u, n - k, proof, np);
	} else {
		u_subproof(u, m - k, n - k, 0, proof, np);
		u_append(u, k, proof, np);
	}
}
/* NOLINTEND(misc-no-recursion) */

static void
test_huge_inclusion(void **state)
{
	static const struct {
		uint64_t index, size;
		size_t n;
	} ic[] = {
		{ 0, UINT64_MAX, 64 },
		{ UINT64_MAX - 1, UINT64_MAX, 63 },
		{ UINT64_C(1) << 63, UINT64_MAX, 64 },
		{ (UINT64_C(1) << 63) - 1, UINT64_C(1) << 63, 63 },
		{ 12345, (UINT64_C(1) << 40) + 7, 41 },
	};
	struct uniform u;
	uint8_t proof[PMAX + 1][H], root[H];
	const uint8_t *leaf = u.perfect[0];
	size_t n;

	(void)state;
	u_init(&u);
	for (size_t c = 0; c < sizeof(ic) / sizeof(ic[0]); c++) {
		uint64_t idx = ic[c].index, size = ic[c].size;

		n = 0;
		u_path(&u, idx, size, proof, &n);
		assert_int_equal(n, ic[c].n);
		u_mth(&u, size, root);
		assert_int_equal(
		    vincl_rc(leaf, idx, size, proof[0], n, root), 0);
		for (size_t i = 0; i < n; i++) {
			proof[i][i % H] ^= (uint8_t)(1U << (i % 8));
			assert_int_equal(
			    vincl_rc(leaf, idx, size, proof[0], n, root),
			    -SIRA_EBADSIG);
			proof[i][i % H] ^= (uint8_t)(1U << (i % 8));
		}
		assert_int_equal(
		    vincl_rc(leaf, idx, size, proof[0], n - 1, root),
		    -SIRA_EMALFORMED);
		assert_int_equal(
		    vincl_rc(leaf, idx, size, proof[0], n + 1, root),
		    -SIRA_EMALFORMED);
	}
}

static void
test_huge_consistency(void **state)
{
	static const struct {
		uint64_t old_size, new_size;
		size_t n;
	} cc[] = {
		{ 3, UINT64_MAX, 65 }, /* seed + 64 levels: the maximum */
		{ (UINT64_C(1) << 63) + 1, UINT64_MAX, 65 },
		{ 1, UINT64_MAX, 64 },
		{ UINT64_C(1) << 63, UINT64_MAX, 1 },
		{ UINT64_MAX - 1, UINT64_MAX, 64 },
		{ 5, UINT64_C(1) << 63, 64 },
	};
	struct uniform u;
	uint8_t proof[PMAX + 1][H], r1[H], r2[H];
	size_t n;

	(void)state;
	u_init(&u);
	for (size_t c = 0; c < sizeof(cc) / sizeof(cc[0]); c++) {
		uint64_t m = cc[c].old_size, size = cc[c].new_size;

		n = 0;
		u_subproof(&u, m, size, 1, proof, &n);
		assert_int_equal(n, cc[c].n);
		u_mth(&u, m, r1);
		u_mth(&u, size, r2);
		assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n), 0);
		for (size_t i = 0; i < n; i++) {
			proof[i][i % H] ^= (uint8_t)(1U << (i % 8));
			assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n),
			    -SIRA_EBADSIG);
			proof[i][i % H] ^= (uint8_t)(1U << (i % 8));
		}
		assert_int_equal(
		    vcons_rc(m, size, r2, r1, proof[0], n), -SIRA_EBADSIG);
		assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n - 1),
		    -SIRA_EMALFORMED);
		assert_int_equal(vcons_rc(m, size, r1, r2, proof[0], n + 1),
		    -SIRA_EMALFORMED);
	}
}

/* ---- property test over random trees ---- */

static void
test_random_trees(void **state)
{
	struct tree t;
	uint8_t root[BIG + 1][H], proof[PMAX][H], got[H];
	struct merkle_leaves s;
	uint64_t seed = UINT64_C(0x5172614d65726b6c), m, size, idx;
	size_t n;

	(void)state;
	index_tree(&t);
	s = source(&t);
	for (size = 0; size <= BIG; size++) {
		ref_root(&t, size, root[size]);
		t.fetches = 0;
		assert_int_equal(merkle_root(&s, size, got, NULL), 0);
		assert_memory_equal(got, root[size], H);
		assert_int_equal(t.fetches, size);
	}
	/* Inclusion: every leaf up to size 40, then a sample per size. */
	for (size = 1; size <= BIG; size++) {
		for (uint64_t j = 0; j < (size <= 40 ? size : 8); j++) {
			if (size <= 40)
				idx = j;
			else if (j == 0)
				idx = 0;
			else if (j == 1)
				idx = size - 1;
			else
				idx = rnd(&seed) % size;
			t.fetches = 0;
			n = incl(&t, idx, size, proof);
			assert_int_equal(t.fetches, size - 1);
			assert_int_equal(vincl_rc(t.h[idx], idx, size, proof[0],
					     n, root[size]),
			    0);
			if (j == 2 && size % 10 == 0)
				flip_all_incl(
				    t.h[idx], idx, size, proof, n, root[size]);
		}
	}
	/* Consistency: every pair up to size 40, then random pairs. */
	for (size = 1; size <= 40; size++)
		for (m = 0; m <= size; m++) {
			n = cons(&t, m, size, proof);
			assert_int_equal(
			    vcons_rc(m, size, root[m], root[size], proof[0], n),
			    0);
		}
	for (int i = 0; i < 2000; i++) {
		size = 1 + rnd(&seed) % BIG;
		m = 1 + rnd(&seed) % size;
		t.fetches = 0;
		n = cons(&t, m, size, proof);
		assert_true(t.fetches <= size);
		assert_int_equal(
		    vcons_rc(m, size, root[m], root[size], proof[0], n), 0);
		if (i % 50 == 0 && m < size)
			flip_all_cons(m, size, root[m], root[size], proof, n);
	}
}

/* ---- stored subtrees (struct merkle_tree) ---- */

/* A tree that serves perfect subtrees, hashed here from its leaves. */
struct nodes {
	struct tree t;
	uint64_t size;       /* the tree size the generator was given */
	uint64_t node_fetch; /* subtrees served */
	int fail_rc;         /* when non-zero, the node callback returns it */
};

static int
nodes_leaf(void *ctx, uint64_t index, uint8_t out[H])
{
	struct nodes *s = ctx;

	return tree_get(&s->t, index, out);
}

static int
nodes_node(void *ctx, unsigned level, uint64_t index, uint8_t out[H])
{
	struct nodes *s = ctx;
	struct tree sub;
	uint64_t n = UINT64_C(1) << level;

	if (s->fail_rc != 0)
		return s->fail_rc;
	/* Only whole subtrees below the size the generator works on. */
	assert_true(level < 64 && (index + 1) * n <= s->size);
	memset(&sub, 0, sizeof(sub));
	memcpy(sub.h, s->t.h[index * n], n * H);
	ref_root(&sub, n, out);
	s->node_fetch++;
	return 0;
}

static struct merkle_tree
nodes_tree(struct nodes *s)
{
	struct merkle_tree mt = { { nodes_leaf, s }, nodes_node };

	return mt;
}

static unsigned
popcount(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x >>= 1)
		n += (unsigned)(x & 1);
	return n;
}

/* Same bytes as the leaf-only generator, in O(log size) node fetches. */
static void
test_tree_nodes(void **state)
{
	static struct nodes s;
	struct merkle_tree mt = nodes_tree(&s);
	uint8_t want[PMAX][H], got_root[H], ref[H];
	uint8_t got[PMAX][H];
	struct merkle_proof p = { got[0], PMAX, 0 };
	size_t wn;

	(void)state;
	memset(&s, 0, sizeof(s));
	index_tree(&s.t);
	for (uint64_t size = 0; size <= BIG; size++) {
		s.size = size;
		s.node_fetch = 0;
		s.t.fetches = 0;
		assert_int_equal(
		    merkle_tree_root(&mt, size, got_root, NULL), 0);
		ref_root(&s.t, size, ref);
		assert_memory_equal(got_root, ref, H);
		assert_int_equal(s.node_fetch, popcount(size));
		assert_int_equal(s.t.fetches, 0);
		for (uint64_t i = 0; i < size; i += 1 + size / 17) {
			s.node_fetch = 0;
			wn = incl(&s.t, i, size, want);
			assert_int_equal(
			    merkle_tree_inclusion(&mt, i, size, &p, NULL), 0);
			assert_int_equal(p.n, wn);
			assert_memory_equal(got, want, wn * H);
			assert_true(s.node_fetch <= 2 * (size_t)PMAX);
		}
		for (uint64_t m = 0; m <= size; m += 1 + size / 13) {
			wn = cons(&s.t, m, size, want);
			assert_int_equal(
			    merkle_tree_consistency(&mt, m, size, &p, NULL), 0);
			assert_int_equal(p.n, wn);
			if (wn > 0)
				assert_memory_equal(got, want, wn * H);
		}
	}
}

/* The merkle_tree functions refuse as the merkle_leaves ones do. */
static void
test_tree_errors(void **state)
{
	static struct nodes s;
	struct merkle_tree mt = nodes_tree(&s), none = { { NULL, &s }, NULL };
	uint8_t got[PMAX][H], root[H];
	struct merkle_proof p = { got[0], PMAX, 7 }, small = { got[0], 2, 7 };
	struct merkle_proof nobuf = { NULL, 1, 7 };
	struct sira_err err;

	(void)state;
	memset(&s, 0, sizeof(s));
	index_tree(&s.t);
	s.size = 100;
	assert_int_equal(merkle_tree_root(NULL, 1, root, NULL), -SIRA_EINVAL);
	assert_int_equal(merkle_tree_root(&none, 1, root, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_tree_inclusion(&mt, 0, 100, NULL, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_tree_inclusion(&mt, 0, 100, &nobuf, NULL), -SIRA_EINVAL);
	assert_int_equal(nobuf.n, 0);
	assert_int_equal(
	    merkle_tree_inclusion(&mt, 100, 100, &p, NULL), -SIRA_EINVAL);
	assert_int_equal(p.n, 0);
	assert_int_equal(
	    merkle_tree_consistency(&mt, 5, 4, &p, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    merkle_tree_inclusion(&mt, 3, 100, &small, NULL), -SIRA_ETOOBIG);
	assert_int_equal(small.n, 0);
	assert_int_equal(
	    merkle_tree_consistency(&mt, 3, 100, &small, NULL), -SIRA_ETOOBIG);
	/* A node callback's code comes back; a positive one is -SIRA_EIO. */
	s.fail_rc = -SIRA_EAUTH;
	sira_err_clear(&err);
	assert_int_equal(merkle_tree_root(&mt, 100, root, &err), -SIRA_EAUTH);
	assert_int_equal(err.code, SIRA_EAUTH);
	assert_int_equal(
	    merkle_tree_inclusion(&mt, 3, 100, &p, NULL), -SIRA_EAUTH);
	assert_int_equal(p.n, 0);
	s.fail_rc = 5;
	assert_int_equal(
	    merkle_tree_consistency(&mt, 3, 100, &p, NULL), -SIRA_EIO);
	/* Trivial cases fetch nothing. */
	s.node_fetch = 0;
	assert_int_equal(merkle_tree_consistency(&mt, 0, 100, &p, NULL), 0);
	assert_int_equal(merkle_tree_consistency(&mt, 100, 100, &p, NULL), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(s.node_fetch, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_vector_roots),
		cmocka_unit_test(test_vector_proofs),
		cmocka_unit_test(test_proof_shapes),
		cmocka_unit_test(test_inclusion_small),
		cmocka_unit_test(test_consistency_small),
		cmocka_unit_test(test_second_preimage),
		cmocka_unit_test(test_verify_edges),
		cmocka_unit_test(test_generate_edges),
		cmocka_unit_test(test_generate_limits),
		cmocka_unit_test(test_huge_inclusion),
		cmocka_unit_test(test_huge_consistency),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_tree_nodes),
		cmocka_unit_test(test_tree_errors),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
