/*
 * test_broker_tlog.c: the broker's transparency log (broker/tlog.c) in a
 * real LMDB store in a fresh mkdtemp() directory, checked against the
 * independent RFC 6962 implementation of lib/merkle.h.
 *
 * The vectors are the 8-leaf tree of github.com/transparency-dev/merkle
 * (testonly/constants.go: LeafInputs, NodeHashes, RootHashes; and
 * proof/verify_test.go: inclusionProofs, 1-based there and 0-based here,
 * and consistencyProofs), copied from tests/unit/test_merkle.c. Beyond the
 * vectors, a tree of BIG leaves (leaf i = SHA-256(be64(i))) is compared
 * with merkle_root() at every size, and every proof the log gives is
 * checked with merkle_verify_inclusion() / merkle_verify_consistency():
 * every pair up to ALL leaves and a deterministic sample beyond. A wrong
 * index, size, proof hash or root must make the proof fail with the exact
 * code lib/merkle.h promises. The expected proof lengths come from the
 * closed forms of RFC 9162 2.1.3.2 / 2.1.4.2, not from the code under test.
 * The log's proofs come from lib/merkle.c reading stored subtrees; every
 * pair of the BIG tree, and sizes around each power of two up to 2^12 + 1,
 * must verify and (where compared) equal the leaf-only generator's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "digest.h"
#include "err.h"
#include "keyfile.h"
#include "log.pb-c.h"
#include "merkle.h"
#include "sign.h"
#include "signed.h"
#include "store.h"
#include "tlog.h"
#include "wire.h"

#define H SIRA_HASH_LEN
#define BIG 300         /* leaves of the property-test tree */
#define ALL 64          /* every proof up to this tree size */
#define SAMPLES 1500    /* random proofs beyond ALL */
#define MAP (64u << 20) /* LMDB map size of a test store */
#define NOW UINT64_C(1772409600)
#define ORIGIN "ml.broker.test/sira-log/v1"

/* ---- vectors ---- */

#include "rfc6962_vectors.h"

/* ---- helpers ---- */

static void
unhex(const char *s, uint8_t out[static H])
{
	size_t len = 0;

	assert_int_equal(strlen(s), 2 * H);
	assert_int_equal(sodium_hex2bin(out, H, s, 2 * H, NULL, &len, NULL), 0);
	assert_int_equal(len, H);
}

/* A splitmix64 generator, so the samples are the same in every run. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static unsigned
bit_len(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x >>= 1)
		n++;
	return n;
}

static unsigned
ones(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x >>= 1)
		n += (unsigned)(x & 1);
	return n;
}

/* RFC 9162 2.1.3.2: the audit path of index in size has inner + border. */
static size_t
incl_len(uint64_t index, uint64_t size)
{
	unsigned inner = bit_len(index ^ (size - 1));

	return inner + (inner >= 64 ? 0 : ones(index >> inner));
}

/* RFC 9162 2.1.4.2: the length of a consistency proof from m to n. */
static size_t
cons_len(uint64_t m, uint64_t n)
{
	unsigned inner, border, shift = 0;

	if (m == 0 || m == n)
		return 0;
	inner = bit_len((m - 1) ^ (n - 1));
	border = inner >= 64 ? 0 : ones((m - 1) >> inner);
	while (((m >> shift) & 1) == 0)
		shift++;
	return (m == (UINT64_C(1) << shift) ? 0 : 1) + (inner - shift) + border;
}

/* Leaf i of the property tree: SHA-256(be64(i)), 32 bytes. */
static void
leaf_bytes(uint64_t i, uint8_t out[static H])
{
	uint8_t be[8];

	store_be64(be, i);
	digest_sha256(out, be, sizeof(be));
}

/* lib/merkle.h's view of the same tree, computed without the store. */
static int
leaf_cb(void *ctx, uint64_t index, uint8_t out[SIRA_HASH_LEN])
{
	uint8_t leaf[H];

	(void)ctx;
	leaf_bytes(index, leaf);
	merkle_leaf_hash(leaf, H, out);
	return 0;
}

static void
ref_root(uint64_t size, uint8_t out[static H])
{
	struct merkle_leaves l = { leaf_cb, NULL };

	assert_int_equal(merkle_root(&l, size, out, NULL), 0);
}

static void
flip(uint8_t *p, size_t bit)
{
	p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* ---- a test store ---- */

struct fx {
	char dir[64];
	struct store *st;
	struct sira_keys *keys;
	struct tlog t;
	uint8_t roots[BIG + 1][H]; /* merkle_root() of every size */
};

static void
fx_open(struct fx *f)
{
	struct sira_err err;

	memset(f, 0, sizeof(*f));
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-tlog-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, MAP, 0, &f->st, &err), 0);
	assert_non_null(f->keys = keys_new());
	sign_keygen(f->keys->sign_pk, f->keys->sign_sk);
	f->t.st = f->st;
	f->t.keys = f->keys;
	(void)snprintf(f->t.origin, sizeof(f->t.origin), "%s", ORIGIN);
}

static void
fx_reopen(struct fx *f)
{
	struct sira_err err;

	store_close(&f->st);
	assert_null(f->st);
	assert_int_equal(store_open(f->dir, MAP, 0, &f->st, &err), 0);
	f->t.st = f->st;
}

static void
fx_close(struct fx *f)
{
	char path[128];

	store_close(&f->st);
	keys_destroy(&f->keys);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(unlink(path), 0);
	(void)snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(f->dir), 0);
}

static MDB_txn *
begin(struct fx *f, int readonly)
{
	MDB_txn *txn = NULL;

	assert_int_equal(store_begin(f->st, readonly, &txn, NULL), 0);
	return txn;
}

static void
commit(MDB_txn *txn)
{
	struct sira_err err;

	assert_int_equal(store_commit(txn, &err), 0);
}

/* Append property-tree leaves [from, to) in one committed transaction. */
static void
append_range(struct fx *f, uint64_t from, uint64_t to)
{
	MDB_txn *txn = begin(f, 0);
	uint8_t leaf[H];
	uint64_t idx;
	struct sira_err err;

	for (uint64_t i = from; i < to; i++) {
		leaf_bytes(i, leaf);
		idx = UINT64_MAX;
		assert_int_equal(
		    tlog_append(txn, &f->t, leaf, H, &idx, &err), 0);
		assert_int_equal(idx, i);
	}
	commit(txn);
}

static uint64_t
log_size(struct fx *f, MDB_txn *txn)
{
	uint64_t n = UINT64_MAX;

	assert_int_equal(tlog_size(txn, &f->t, &n), 0);
	return n;
}

static void
node_key(uint8_t kb[static 9], unsigned level, uint64_t index)
{
	kb[0] = (uint8_t)level;
	store_be64(kb + 1, index);
}

/* Write (or overwrite) one raw node, bypassing tlog. */
static void
put_node(struct fx *f, MDB_txn *txn, unsigned level, uint64_t index,
    const uint8_t h[static H])
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, d = { H, (void *)(uintptr_t)h };

	node_key(kb, level, index);
	assert_int_equal(mdb_put(txn, f->st->dbi[DB_NODES], &k, &d, 0), 0);
}

static void
get_node(struct fx *f, MDB_txn *txn, unsigned level, uint64_t index,
    uint8_t out[static H])
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, d;

	node_key(kb, level, index);
	assert_int_equal(mdb_get(txn, f->st->dbi[DB_NODES], &k, &d), 0);
	assert_int_equal(d.mv_size, H);
	memcpy(out, d.mv_data, H);
}

/* The group fixture: a committed log of BIG leaves, in five commits. */
static int
setup_big(void **state)
{
	static const uint64_t cuts[] = { 0, 1, 7, 64, 129, BIG };
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	fx_open(f);
	for (size_t i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); i++)
		append_range(f, cuts[i], cuts[i + 1]);
	for (uint64_t s = 0; s <= BIG; s++)
		ref_root(s, f->roots[s]);
	*state = f;
	return 0;
}

static int
teardown_big(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	free(f);
	return 0;
}

/* ---- proof checks against lib/merkle.h ---- */

/*
 * What merkle_verify_inclusion() must answer for proof p (n hashes) of the
 * leaf really at index, offered as leaf index of a tree of size with that
 * tree's root: the numbers alone rule it out, or it holds exactly when p is
 * the log's own path for (index, size) (anything else would take a SHA-256
 * collision).
 */
static int
incl_expect(struct fx *f, MDB_txn *txn, uint64_t index, uint64_t size,
    const uint8_t *p, size_t n)
{
	uint8_t ref[TLOG_PROOF_MAX][H];
	struct merkle_proof pp = { ref[0], TLOG_PROOF_MAX, 0 };

	if (index >= size || n != incl_len(index, size))
		return -SIRA_EMALFORMED;
	assert_int_equal(tlog_inclusion(txn, &f->t, index, size, &pp, NULL), 0);
	assert_int_equal(pp.n, n);
	return memcmp(ref, p, n * H) == 0 ? 0 : -SIRA_EBADSIG;
}

static int
incl_rc(const uint8_t leaf[static H], uint64_t index, uint64_t size,
    const uint8_t *p, size_t n, const uint8_t root[static H])
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = merkle_verify_inclusion(
	    leaf, index, size, (struct merkle_hashes){ p, n }, root, &err);
	assert_int_equal(err.code, -rc);
	return rc;
}

/* Every check of one inclusion proof; full_flip flips every bit. */
static void
check_inclusion(
    struct fx *f, MDB_txn *txn, uint64_t index, uint64_t size, int full_flip)
{
	uint8_t proof[TLOG_PROOF_MAX][H], leaf[H], lh[H];
	struct sira_err err;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 99 };

	memset(proof, 0, sizeof(proof));
	sira_err_clear(&err);
	assert_int_equal(tlog_inclusion(txn, &f->t, index, size, &pp, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(pp.n, incl_len(index, size));
	leaf_bytes(index, leaf);
	merkle_leaf_hash(leaf, H, lh);
	assert_int_equal(
	    incl_rc(lh, index, size, proof[0], pp.n, f->roots[size]), 0);

	/* A flipped bit in any hash of the proof. */
	for (size_t j = 0; j < pp.n; j++) {
		size_t b0 = full_flip ? 0 : (index + size + j) % (8 * H);
		size_t b1 = full_flip ? 8 * H : b0 + 1;
		for (size_t b = b0; b < b1; b++) {
			flip(proof[j], b);
			assert_int_equal(incl_rc(lh, index, size, proof[0],
					     pp.n, f->roots[size]),
			    -SIRA_EBADSIG);
			flip(proof[j], b);
		}
	}
	/* A flipped bit in the leaf itself. */
	flip(lh, (index * 7) % (8 * H));
	assert_int_equal(
	    incl_rc(lh, index, size, proof[0], pp.n, f->roots[size]),
	    -SIRA_EBADSIG);
	flip(lh, (index * 7) % (8 * H));

	/* The same leaf claimed at another index: never holds. */
	for (uint64_t d = 1; d <= 2; d++) {
		uint64_t wi = (index + d) % size;
		int want;
		if (wi == index)
			continue;
		want = pp.n == incl_len(wi, size) ? -SIRA_EBADSIG :
						    -SIRA_EMALFORMED;
		assert_int_equal(
		    incl_rc(lh, wi, size, proof[0], pp.n, f->roots[size]),
		    want);
	}
	assert_int_equal(
	    incl_rc(lh, size, size, proof[0], pp.n, f->roots[size]),
	    -SIRA_EMALFORMED);

	/* A wrong size, with the root of that size. */
	if (size < BIG)
		assert_int_equal(incl_rc(lh, index, size + 1, proof[0], pp.n,
				     f->roots[size + 1]),
		    incl_expect(f, txn, index, size + 1, proof[0], pp.n));
	if (size > 1)
		assert_int_equal(incl_rc(lh, index, size - 1, proof[0], pp.n,
				     f->roots[size - 1]),
		    incl_expect(f, txn, index, size - 1, proof[0], pp.n));

	/* One hash too many or too few. */
	if (pp.n + 1 <= TLOG_PROOF_MAX)
		assert_int_equal(incl_rc(lh, index, size, proof[0], pp.n + 1,
				     f->roots[size]),
		    -SIRA_EMALFORMED);
	if (pp.n > 0)
		assert_int_equal(incl_rc(lh, index, size, proof[0], pp.n - 1,
				     f->roots[size]),
		    -SIRA_EMALFORMED);
}

static int
cons_rc(uint64_t m, uint64_t n, const uint8_t r1[static H],
    const uint8_t r2[static H], const uint8_t *p, size_t len)
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = merkle_verify_consistency(
	    m, n, r1, r2, (struct merkle_hashes){ p, len }, &err);
	assert_int_equal(err.code, -rc);
	return rc;
}

/* As incl_expect, for a consistency proof offered for (m, n). */
static int
cons_expect(struct fx *f, MDB_txn *txn, uint64_t m, uint64_t n,
    const uint8_t *p, size_t len)
{
	uint8_t ref[TLOG_PROOF_MAX][H];
	struct merkle_proof pp = { ref[0], TLOG_PROOF_MAX, 0 };

	if (m > n || len != cons_len(m, n))
		return -SIRA_EMALFORMED;
	assert_int_equal(tlog_consistency(txn, &f->t, m, n, &pp, NULL), 0);
	assert_int_equal(pp.n, len);
	return memcmp(ref, p, len * H) == 0 ? 0 : -SIRA_EBADSIG;
}

static void
check_consistency(
    struct fx *f, MDB_txn *txn, uint64_t m, uint64_t n, int full_flip)
{
	uint8_t proof[TLOG_PROOF_MAX][H];
	const uint8_t *r1 = f->roots[m], *r2 = f->roots[n];
	struct sira_err err;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 99 };
	static const int64_t dm[][2] = { { -1, 0 }, { 1, 0 }, { 0, -1 },
		{ 0, 1 } };

	memset(proof, 0, sizeof(proof));
	sira_err_clear(&err);
	assert_int_equal(tlog_consistency(txn, &f->t, m, n, &pp, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(pp.n, cons_len(m, n));
	assert_int_equal(cons_rc(m, n, r1, r2, proof[0], pp.n), 0);

	for (size_t j = 0; j < pp.n; j++) {
		size_t b0 = full_flip ? 0 : (m + n + j) % (8 * H);
		size_t b1 = full_flip ? 8 * H : b0 + 1;
		for (size_t b = b0; b < b1; b++) {
			flip(proof[j], b);
			assert_int_equal(cons_rc(m, n, r1, r2, proof[0], pp.n),
			    -SIRA_EBADSIG);
			flip(proof[j], b);
		}
	}
	/* Swapped roots, and either root altered. */
	if (m > 0 && m < n) {
		uint8_t bad[H];
		assert_int_equal(
		    cons_rc(m, n, r2, r1, proof[0], pp.n), -SIRA_EBADSIG);
		memcpy(bad, r1, H);
		flip(bad, m % (8 * H));
		assert_int_equal(
		    cons_rc(m, n, bad, r2, proof[0], pp.n), -SIRA_EBADSIG);
		memcpy(bad, r2, H);
		flip(bad, n % (8 * H));
		assert_int_equal(
		    cons_rc(m, n, r1, bad, proof[0], pp.n), -SIRA_EBADSIG);
	}
	/* Wrong sizes, each with the roots of the sizes claimed. */
	for (size_t i = 0; i < sizeof(dm) / sizeof(dm[0]); i++) {
		int64_t wm = (int64_t)m + dm[i][0], wn = (int64_t)n + dm[i][1];
		if (wm < 0 || wn < 0 || wn > BIG)
			continue;
		assert_int_equal(
		    cons_rc((uint64_t)wm, (uint64_t)wn, f->roots[wm],
			f->roots[wn], proof[0], pp.n),
		    cons_expect(
			f, txn, (uint64_t)wm, (uint64_t)wn, proof[0], pp.n));
	}
	/* One hash too many or too few. */
	if (pp.n + 1 <= TLOG_PROOF_MAX)
		assert_int_equal(cons_rc(m, n, r1, r2, proof[0], pp.n + 1),
		    -SIRA_EMALFORMED);
	if (pp.n > 0)
		assert_int_equal(cons_rc(m, n, r1, r2, proof[0], pp.n - 1),
		    -SIRA_EMALFORMED);
}

/* ---- tests ---- */

static void
test_vectors(void **state)
{
	uint8_t want[H], got[H], proof[TLOG_PROOF_MAX][H];
	struct sira_err err;
	struct fx f;
	MDB_txn *txn;
	uint64_t idx;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 0 };

	(void)state;
	fx_open(&f);
	/* One leaf per transaction: every root from a committed log. */
	for (uint64_t i = 0; i < 8; i++) {
		txn = begin(&f, 0);
		assert_int_equal(
		    tlog_append(txn, &f.t, (const uint8_t *)vleaf[i].p,
			vleaf[i].len, &idx, &err),
		    0);
		assert_int_equal(idx, i);
		commit(txn);
		txn = begin(&f, 1);
		assert_int_equal(log_size(&f, txn), i + 1);
		for (uint64_t s = 0; s <= i + 1; s++) {
			unhex(vroot[s], want);
			assert_int_equal(tlog_root(txn, &f.t, s, got, &err), 0);
			assert_memory_equal(got, want, H);
		}
		mdb_txn_abort(txn);
	}
	txn = begin(&f, 1);
	/* Leaf hashes, and every perfect subtree stored as (level, index). */
	for (unsigned lv = 0; lv < 4; lv++)
		for (uint64_t i = 0; i < (UINT64_C(8) >> lv); i++) {
			unhex(vnode[lv][i], want);
			get_node(&f, txn, lv, i, got);
			assert_memory_equal(got, want, H);
			if (lv == 0) {
				tlog_leaf_hash((const uint8_t *)vleaf[i].p,
				    vleaf[i].len, got);
				assert_memory_equal(got, want, H);
			}
		}
	/* The published proofs, byte for byte. */
	for (size_t v = 0; v < sizeof(vincl) / sizeof(vincl[0]); v++) {
		pp.n = 99;
		assert_int_equal(tlog_inclusion(txn, &f.t, vincl[v].index,
				     vincl[v].size, &pp, &err),
		    0);
		assert_int_equal(pp.n, vincl[v].n);
		for (size_t j = 0; j < pp.n; j++) {
			unhex(vincl[v].proof[j], want);
			assert_memory_equal(proof[j], want, H);
		}
	}
	for (size_t v = 0; v < sizeof(vcons) / sizeof(vcons[0]); v++) {
		pp.n = 99;
		assert_int_equal(tlog_consistency(txn, &f.t, vcons[v].old_size,
				     vcons[v].new_size, &pp, &err),
		    0);
		assert_int_equal(pp.n, vcons[v].n);
		for (size_t j = 0; j < pp.n; j++) {
			unhex(vcons[v].proof[j], want);
			assert_memory_equal(proof[j], want, H);
		}
	}
	/* No tree of 9 leaves yet. */
	sira_err_clear(&err);
	assert_int_equal(tlog_root(txn, &f.t, 9, got, &err), -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	mdb_txn_abort(txn);
	fx_close(&f);
}

static void
test_empty_tree(void **state)
{
	uint8_t got[H], want[H], proof[TLOG_PROOF_MAX][H], *cp = NULL;
	struct sira_err err;
	uint64_t bad = 0;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 99 };
	size_t cplen = 0;
	struct fx f;
	MDB_txn *txn;

	(void)state;
	fx_open(&f);
	txn = begin(&f, 0);
	assert_int_equal(log_size(&f, txn), 0);
	unhex(vroot[0], want);
	assert_int_equal(tlog_root(txn, &f.t, 0, got, &err), 0);
	assert_memory_equal(got, want, H);
	merkle_empty_root(want);
	assert_memory_equal(got, want, H);
	assert_int_equal(tlog_root(txn, &f.t, 1, got, &err), -SIRA_EINVAL);
	assert_int_equal(
	    tlog_inclusion(txn, &f.t, 0, 0, &pp, &err), -SIRA_EINVAL);
	assert_int_equal(pp.n, 0);
	pp.n = 99;
	assert_int_equal(tlog_consistency(txn, &f.t, 0, 0, &pp, &err), 0);
	assert_int_equal(pp.n, 0);
	assert_int_equal(tlog_verify(txn, &f.t, &bad, &err), 0);
	assert_int_equal(bad, UINT64_MAX);
	/* A checkpoint of the empty tree is still a valid, signed one. */
	assert_int_equal(tlog_checkpoint(txn, &f.t, NOW, &cp, &cplen, &err), 0);
	assert_non_null(cp);
	assert_int_equal(tlog_verify(txn, &f.t, &bad, &err), 0);
	free(cp);
	mdb_txn_abort(txn);
	fx_close(&f);
}

static void
test_roots_match_merkle(void **state)
{
	struct fx *f = *state;
	uint8_t got[H];
	MDB_txn *txn = begin(f, 1);
	struct sira_err err;

	assert_int_equal(log_size(f, txn), BIG);
	for (uint64_t s = 0; s <= BIG; s++) {
		sira_err_clear(&err);
		assert_int_equal(tlog_root(txn, &f->t, s, got, &err), 0);
		assert_memory_equal(got, f->roots[s], H);
	}
	/* The roots differ from each other: the comparison means something. */
	for (uint64_t s = 1; s <= BIG; s++)
		assert_memory_not_equal(f->roots[s - 1], f->roots[s], H);
	assert_int_equal(
	    tlog_root(txn, &f->t, BIG + 1, got, &err), -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	mdb_txn_abort(txn);
}

static void
test_inclusion_proofs(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn = begin(f, 1);
	uint64_t seed = UINT64_C(0x746c6f6720696e63);

	for (uint64_t size = 1; size <= ALL; size++)
		for (uint64_t i = 0; i < size; i++)
			check_inclusion(f, txn, i, size, size <= 12);
	for (int s = 0; s < SAMPLES; s++) {
		uint64_t size = ALL + 1 + rnd(&seed) % (BIG - ALL);
		check_inclusion(f, txn, rnd(&seed) % size, size, 0);
	}
	/* The edges of the big tree: first and last leaf. */
	check_inclusion(f, txn, 0, BIG, 1);
	check_inclusion(f, txn, BIG - 1, BIG, 1);
	mdb_txn_abort(txn);
}

static void
test_consistency_proofs(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn = begin(f, 1);
	uint64_t seed = UINT64_C(0x746c6f6720636f6e);

	for (uint64_t n = 0; n <= ALL; n++)
		for (uint64_t m = 0; m <= n; m++)
			check_consistency(f, txn, m, n, n <= 12);
	for (int s = 0; s < SAMPLES; s++) {
		uint64_t n = ALL + 1 + rnd(&seed) % (BIG - ALL);
		check_consistency(f, txn, rnd(&seed) % (n + 1), n, 0);
	}
	check_consistency(f, txn, 1, BIG, 1);
	check_consistency(f, txn, BIG - 1, BIG, 1);
	check_consistency(f, txn, BIG, BIG, 0);
	mdb_txn_abort(txn);
}

/*
 * tlog proofs come from lib/merkle.c's generator reading the stored
 * subtrees; the same generator reading only leaves must give the same
 * bytes, and merkle_verify_* must accept them.
 */
static void
leaf_proofs_equal(
    uint64_t a, uint64_t b, int consistency, const uint8_t *proof, size_t n)
{
	struct merkle_leaves l = { leaf_cb, NULL };
	uint8_t ref[TLOG_PROOF_MAX][H];
	struct merkle_proof rp = { ref[0], TLOG_PROOF_MAX, 99 };

	if (consistency)
		assert_int_equal(
		    merkle_consistency_proof(&l, a, b, &rp, NULL), 0);
	else
		assert_int_equal(
		    merkle_inclusion_proof(&l, a, b, &rp, NULL), 0);
	assert_int_equal(rp.n, n);
	if (n > 0)
		assert_memory_equal(ref, proof, n * H);
}

/* Inclusion of index in size verifies against the independent root. */
static void
inclusion_verifies(struct tlog *t, MDB_txn *txn, uint64_t index, uint64_t size,
    const uint8_t root[static H], int compare)
{
	uint8_t proof[TLOG_PROOF_MAX][H], leaf[H], lh[H];
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 99 };

	assert_int_equal(tlog_inclusion(txn, t, index, size, &pp, NULL), 0);
	assert_int_equal(pp.n, incl_len(index, size));
	leaf_bytes(index, leaf);
	merkle_leaf_hash(leaf, H, lh);
	assert_int_equal(
	    merkle_verify_inclusion(lh, index, size,
		(struct merkle_hashes){ proof[0], pp.n }, root, NULL),
	    0);
	if (compare)
		leaf_proofs_equal(index, size, 0, proof[0], pp.n);
}

static void
consistency_verifies(struct tlog *t, MDB_txn *txn, uint64_t m, uint64_t n,
    const uint8_t r1[static H], const uint8_t r2[static H], int compare)
{
	uint8_t proof[TLOG_PROOF_MAX][H];
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 99 };

	assert_int_equal(tlog_consistency(txn, t, m, n, &pp, NULL), 0);
	assert_int_equal(pp.n, cons_len(m, n));
	assert_int_equal(merkle_verify_consistency(m, n, r1, r2,
			     (struct merkle_hashes){ proof[0], pp.n }, NULL),
	    0);
	if (compare)
		leaf_proofs_equal(m, n, 1, proof[0], pp.n);
}

/* Every (index, size) and every (old, new) pair of the BIG-leaf log. */
static void
test_every_pair_verifies(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn = begin(f, 1);

	for (uint64_t size = 1; size <= BIG; size++)
		for (uint64_t i = 0; i < size; i++)
			inclusion_verifies(&f->t, txn, i, size, f->roots[size],
			    size <= 80 || i % 37 == 0);
	for (uint64_t n = 0; n <= BIG; n++)
		for (uint64_t m = 0; m <= n; m++)
			consistency_verifies(&f->t, txn, m, n, f->roots[m],
			    f->roots[n], n <= 80 || m % 37 == 0);
	mdb_txn_abort(txn);
}

/* Sizes 2^k - 1, 2^k and 2^k + 1, k = 0..POW2_MAX, of a log of 2^POW2_MAX
 * + 1 leaves appended in uneven commits. */
#define POW2_MAX 12
#define POW2_SIZES (3 * (POW2_MAX + 1))

static void
test_powers_of_two(void **state)
{
	static uint8_t root[POW2_SIZES][H];
	const uint64_t total = (UINT64_C(1) << POW2_MAX) + 1;
	uint64_t size[POW2_SIZES], from = 0;
	size_t ns = 0;
	struct fx f;
	MDB_txn *txn;

	(void)state;
	for (unsigned k = 0; k <= POW2_MAX; k++)
		for (uint64_t d = 0; d < 3; d++) {
			uint64_t v = (UINT64_C(1) << k) + d - 1;
			if (v > 0 && (ns == 0 || v > size[ns - 1]))
				size[ns++] = v;
		}
	fx_open(&f);
	for (uint64_t to = 5; from < total; to = to * 3 + 1) {
		append_range(&f, from, to < total ? to : total);
		from = to < total ? to : total;
	}
	for (size_t i = 0; i < ns; i++)
		ref_root(size[i], root[i]);
	txn = begin(&f, 1);
	assert_int_equal(log_size(&f, txn), total);
	for (size_t i = 0; i < ns; i++) {
		uint8_t got[H];
		uint64_t s = size[i];
		const uint64_t idx[] = { 0, 1, s / 2, s - 2, s - 1 };

		assert_int_equal(tlog_root(txn, &f.t, s, got, NULL), 0);
		assert_memory_equal(got, root[i], H);
		for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++)
			if (idx[j] < s)
				inclusion_verifies(
				    &f.t, txn, idx[j], s, root[i], 1);
		for (size_t j = 0; j <= i; j++)
			consistency_verifies(
			    &f.t, txn, size[j], s, root[j], root[i], 1);
	}
	mdb_txn_abort(txn);
	fx_close(&f);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	uint8_t proof[TLOG_PROOF_MAX][H];
	MDB_txn *txn = begin(f, 1);
	struct sira_err err;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 0 };
	static const uint64_t incl[][2] = { { 0, 0 }, { 5, 5 }, { 6, 5 },
		{ BIG, BIG }, { 0, BIG + 1 }, { UINT64_MAX, 1 },
		{ 0, UINT64_MAX } };
	static const uint64_t cons[][2] = { { 1, 0 }, { 6, 5 },
		{ BIG, BIG - 1 }, { BIG + 1, BIG }, { 0, BIG + 1 },
		{ BIG, BIG + 1 }, { UINT64_MAX, 1 } };

	for (size_t i = 0; i < sizeof(incl) / sizeof(incl[0]); i++) {
		sira_err_clear(&err);
		pp.n = 99;
		assert_int_equal(tlog_inclusion(txn, &f->t, incl[i][0],
				     incl[i][1], &pp, &err),
		    -SIRA_EINVAL);
		assert_int_equal(err.code, SIRA_EINVAL);
		assert_int_equal(pp.n, 0);
	}
	for (size_t i = 0; i < sizeof(cons) / sizeof(cons[0]); i++) {
		sira_err_clear(&err);
		pp.n = 99;
		assert_int_equal(tlog_consistency(txn, &f->t, cons[i][0],
				     cons[i][1], &pp, &err),
		    -SIRA_EINVAL);
		assert_int_equal(err.code, SIRA_EINVAL);
		assert_int_equal(pp.n, 0);
	}
	mdb_txn_abort(txn);
}

/* Split a SignedCheckpoint and check signature, size, root and origin. */
static void
check_checkpoint(struct fx *f, MDB_txn *txn, const uint8_t *cp, size_t len,
    uint64_t size, uint64_t at)
{
	Sira__V1__Checkpoint *c = NULL;
	ProtobufCMessage *m = NULL;
	struct signed_obj so;
	uint8_t root[H], kb[8], pk2[SIRA_SIGN_PK_LEN], sk2[SIRA_SIGN_SK_LEN];
	MDB_val k = { 8, kb }, d;

	memset(&so, 0, sizeof(so));
	assert_int_equal(signed_split(bytes_of(cp, len), 4096, 4096,
			     "checkpoint", &so, NULL),
	    0);
	assert_int_equal(sign_verify(f->keys->sign_pk, SIRA_DS_CHECKPOINT,
			     so.tbs, so.tbs_len, so.sig),
	    0);
	/* Bound to its purpose, its bytes and its key. */
	assert_int_equal(sign_verify(f->keys->sign_pk, SIRA_DS_CERT, so.tbs,
			     so.tbs_len, so.sig),
	    -SIRA_EBADSIG);
	so.tbs[so.tbs_len / 2] ^= 0x01;
	assert_int_equal(sign_verify(f->keys->sign_pk, SIRA_DS_CHECKPOINT,
			     so.tbs, so.tbs_len, so.sig),
	    -SIRA_EBADSIG);
	so.tbs[so.tbs_len / 2] ^= 0x01;
	sign_keygen(pk2, sk2);
	assert_int_equal(
	    sign_verify(pk2, SIRA_DS_CHECKPOINT, so.tbs, so.tbs_len, so.sig),
	    -SIRA_EBADSIG);
	sodium_memzero(sk2, sizeof(sk2));

	assert_int_equal(wire_unpack(&sira__v1__checkpoint__descriptor, so.tbs,
			     so.tbs_len, 4096, &m, NULL),
	    0);
	c = (Sira__V1__Checkpoint *)m;
	assert_string_equal(c->origin, ORIGIN);
	assert_int_equal(c->size, size);
	assert_int_equal(c->time, at);
	assert_int_equal(c->root.len, H);
	assert_int_equal(tlog_root(txn, &f->t, size, root, NULL), 0);
	assert_memory_equal(c->root.data, root, H);
	if (size <= BIG) {
		ref_root(size, root);
		assert_memory_equal(c->root.data, root, H);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	signed_clear(&so);

	/* Stored under its size, byte for byte. */
	store_be64(kb, size);
	assert_int_equal(mdb_get(txn, f->st->dbi[DB_CHECKPOINTS], &k, &d), 0);
	assert_int_equal(d.mv_size, len);
	assert_memory_equal(d.mv_data, cp, len);
}

static void
test_checkpoint(void **state)
{
	uint8_t *cp = NULL;
	size_t len = 0;
	struct sira_err err;
	uint64_t bad = 0;
	struct fx f;
	MDB_txn *txn;

	(void)state;
	fx_open(&f);
	append_range(&f, 0, 10);
	txn = begin(&f, 0);
	assert_int_equal(tlog_checkpoint(txn, &f.t, NOW, &cp, &len, &err), 0);
	commit(txn);
	txn = begin(&f, 1);
	check_checkpoint(&f, txn, cp, len, 10, NOW);
	mdb_txn_abort(txn);
	free(cp);

	append_range(&f, 10, 15);
	txn = begin(&f, 0);
	assert_int_equal(
	    tlog_checkpoint(txn, &f.t, NOW + 60, &cp, &len, &err), 0);
	commit(txn);
	txn = begin(&f, 1);
	check_checkpoint(&f, txn, cp, len, 15, NOW + 60);
	assert_int_equal(tlog_verify(txn, &f.t, &bad, &err), 0);
	assert_int_equal(bad, UINT64_MAX);
	mdb_txn_abort(txn);
	free(cp);
	fx_close(&f);
}

/* A log of TAMPER leaves with a checkpoint, for the tamper tests. */
#define TAMPER 37

static void
tamper_log(struct fx *f)
{
	uint8_t *cp = NULL;
	size_t len;
	MDB_txn *txn;
	uint64_t bad = 0;

	fx_open(f);
	append_range(f, 0, 20);
	append_range(f, 20, TAMPER);
	txn = begin(f, 0);
	assert_int_equal(tlog_checkpoint(txn, &f->t, NOW, &cp, &len, NULL), 0);
	free(cp);
	commit(txn);
	txn = begin(f, 1);
	assert_int_equal(tlog_verify(txn, &f->t, &bad, NULL), 0);
	assert_int_equal(bad, UINT64_MAX);
	mdb_txn_abort(txn);
}

static void
expect_bad(struct fx *f, MDB_txn *txn, uint64_t want_bad)
{
	struct sira_err err;
	uint64_t bad = 0;

	sira_err_clear(&err);
	assert_int_equal(tlog_verify(txn, &f->t, &bad, &err), -SIRA_EAUTH);
	assert_int_equal(err.code, SIRA_EAUTH);
	assert_int_equal(bad, want_bad);
}

static void
test_verify_altered_leaf(void **state)
{
	uint8_t kb[8], leaf[H];
	MDB_val k = { 8, kb }, d = { H, leaf };
	struct fx f;
	MDB_txn *txn;

	(void)state;
	tamper_log(&f);
	/* Each leaf in turn, in a transaction that is then thrown away. */
	for (uint64_t i = 0; i < TAMPER; i++) {
		txn = begin(&f, 0);
		leaf_bytes(i, leaf);
		leaf[i % H] ^= 0x20;
		store_be64(kb, i);
		assert_int_equal(
		    mdb_put(txn, f.st->dbi[DB_LEAVES], &k, &d, 0), 0);
		expect_bad(&f, txn, i);
		mdb_txn_abort(txn);
	}
	/* A longer leaf, and a missing one. */
	txn = begin(&f, 0);
	{
		uint8_t longer[H + 1];
		MDB_val dl = { sizeof(longer), longer };
		leaf_bytes(3, longer);
		longer[H] = 0;
		store_be64(kb, 3);
		assert_int_equal(
		    mdb_put(txn, f.st->dbi[DB_LEAVES], &k, &dl, 0), 0);
		expect_bad(&f, txn, 3);
	}
	mdb_txn_abort(txn);
	txn = begin(&f, 0);
	store_be64(kb, TAMPER - 1);
	assert_int_equal(mdb_del(txn, f.st->dbi[DB_LEAVES], &k, NULL), 0);
	expect_bad(&f, txn, TAMPER - 1);
	mdb_txn_abort(txn);

	/* Committed to disk and found after a reopen. */
	txn = begin(&f, 0);
	leaf_bytes(17, leaf);
	leaf[0] ^= 0x01;
	store_be64(kb, 17);
	assert_int_equal(mdb_put(txn, f.st->dbi[DB_LEAVES], &k, &d, 0), 0);
	commit(txn);
	fx_reopen(&f);
	txn = begin(&f, 1);
	expect_bad(&f, txn, 17);
	mdb_txn_abort(txn);
	fx_close(&f);
}

static void
test_verify_altered_node(void **state)
{
	struct {
		unsigned level;
		uint64_t index;
	} nodes[2 * TAMPER];
	size_t nn = 0;
	uint8_t h[H], kb[9];
	MDB_val k = { sizeof(kb), kb };
	MDB_cursor *c;
	MDB_val ck, cd;
	struct fx f;
	MDB_txn *txn;
	int op = MDB_FIRST;

	(void)state;
	tamper_log(&f);
	txn = begin(&f, 1);
	assert_int_equal(mdb_cursor_open(txn, f.st->dbi[DB_NODES], &c), 0);
	while (mdb_cursor_get(c, &ck, &cd, (MDB_cursor_op)op) == 0) {
		op = MDB_NEXT;
		assert_int_equal(ck.mv_size, 9);
		assert_true(nn < sizeof(nodes) / sizeof(nodes[0]));
		nodes[nn].level = ((const uint8_t *)ck.mv_data)[0];
		nodes[nn].index =
		    store_get_be64((const uint8_t *)ck.mv_data + 1);
		nn++;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	/* 37 leaves: 37 + 18 + 9 + 4 + 2 + 1 perfect subtrees. */
	assert_int_equal(nn, 37 + 18 + 9 + 4 + 2 + 1);

	for (size_t i = 0; i < nn; i++) {
		unsigned lv = nodes[i].level;
		uint64_t first = nodes[i].index << lv;
		txn = begin(&f, 0);
		get_node(&f, txn, lv, nodes[i].index, h);
		h[i % H] ^= 0x80;
		put_node(&f, txn, lv, nodes[i].index, h);
		expect_bad(&f, txn, first);
		mdb_txn_abort(txn);
		/* Removed instead of altered. */
		txn = begin(&f, 0);
		node_key(kb, lv, nodes[i].index);
		assert_int_equal(
		    mdb_del(txn, f.st->dbi[DB_NODES], &k, NULL), 0);
		expect_bad(&f, txn, first);
		mdb_txn_abort(txn);
	}
	fx_close(&f);
}

static void
test_verify_bad_checkpoint(void **state)
{
	Sira__V1__Checkpoint c = SIRA__V1__CHECKPOINT__INIT;
	uint8_t root[H], sig[SIRA_SIG_LEN], *tbs, *out, kb[8];
	size_t tbslen, outlen;
	MDB_val k = { 8, kb }, d;
	struct fx f;
	MDB_txn *txn;

	(void)state;
	tamper_log(&f);
	/* Properly signed, but over a root the log never had. */
	memset(root, 0x5a, sizeof(root));
	c.origin = (char *)(uintptr_t)ORIGIN;
	c.size = TAMPER;
	c.root.data = root;
	c.root.len = H;
	c.time = NOW;
	assert_int_equal(wire_pack(&c.base, &tbs, &tbslen, NULL), 0);
	assert_int_equal(sign_detached(f.keys->sign_sk, SIRA_DS_CHECKPOINT, tbs,
			     tbslen, sig),
	    0);
	assert_int_equal(signed_join(tbs, tbslen, sig, &out, &outlen, NULL), 0);
	txn = begin(&f, 0);
	store_be64(kb, TAMPER);
	d.mv_size = outlen;
	d.mv_data = out;
	assert_int_equal(mdb_put(txn, f.st->dbi[DB_CHECKPOINTS], &k, &d, 0), 0);
	/* Leaves and nodes are intact: *bad stays UINT64_MAX. */
	expect_bad(&f, txn, UINT64_MAX);
	mdb_txn_abort(txn);
	/* Garbage in place of a checkpoint. */
	txn = begin(&f, 0);
	d.mv_size = 3;
	d.mv_data = (void *)(uintptr_t) "abc";
	assert_int_equal(mdb_put(txn, f.st->dbi[DB_CHECKPOINTS], &k, &d, 0), 0);
	expect_bad(&f, txn, UINT64_MAX);
	mdb_txn_abort(txn);
	free(tbs);
	free(out);
	fx_close(&f);
}

static void
test_durable_across_reopen(void **state)
{
	static const uint64_t cuts[] = { 0, 1, 3, 8, 21, 50 };
	uint8_t roots[6][H], got[H], leaf[H];
	struct sira_err err;
	uint64_t idx, bad = 0;
	struct fx f;
	MDB_txn *txn;

	(void)state;
	fx_open(&f);
	for (size_t i = 1; i < 6; i++) {
		append_range(&f, cuts[i - 1], cuts[i]);
		txn = begin(&f, 1);
		assert_int_equal(
		    tlog_root(txn, &f.t, cuts[i], roots[i], &err), 0);
		mdb_txn_abort(txn);
		ref_root(cuts[i], got);
		assert_memory_equal(roots[i], got, H);
	}
	/* An aborted append leaves no trace. */
	txn = begin(&f, 0);
	for (uint64_t i = 50; i < 57; i++) {
		leaf_bytes(1000 + i, leaf);
		assert_int_equal(
		    tlog_append(txn, &f.t, leaf, H, &idx, &err), 0);
	}
	mdb_txn_abort(txn);

	fx_reopen(&f);
	txn = begin(&f, 1);
	assert_int_equal(log_size(&f, txn), 50);
	for (size_t i = 1; i < 6; i++) {
		assert_int_equal(tlog_root(txn, &f.t, cuts[i], got, &err), 0);
		assert_memory_equal(got, roots[i], H);
	}
	mdb_txn_abort(txn);
	/* The log goes on where it stopped. */
	append_range(&f, 50, 61);
	fx_reopen(&f);
	txn = begin(&f, 1);
	assert_int_equal(log_size(&f, txn), 61);
	for (uint64_t s = 0; s <= 61; s++) {
		uint8_t want[H];
		ref_root(s, want);
		assert_int_equal(tlog_root(txn, &f.t, s, got, &err), 0);
		assert_memory_equal(got, want, H);
	}
	assert_int_equal(tlog_verify(txn, &f.t, &bad, &err), 0);
	mdb_txn_abort(txn);
	fx_close(&f);
}

/* A made-up but consistent node hash for the huge-tree test. */
static void
fake_hash(unsigned level, uint64_t index, uint8_t out[static H])
{
	uint8_t b[9];

	node_key(b, level, index);
	digest_sha256(out, b, sizeof(b));
}

/*
 * The longest proofs a uint64 size allows: a log that claims UINT64_MAX
 * leaves, with 4 real leaves and, above them, made-up but consistent
 * perfect-subtree hashes for every node the proofs touch. lib/merkle.h:
 * the consistency proof from 3 to UINT64_MAX has 65 hashes, the inclusion
 * proof of leaf 0 has 64. The proof buffers are heap blocks of exactly
 * TLOG_PROOF_MAX hashes, so ASan sees any write past them. Everything
 * happens in one write transaction that is thrown away.
 */
static void
test_longest_proofs(void **state)
{
	const uint64_t N = UINT64_MAX;
	uint8_t(*proof)[H] = malloc(TLOG_PROOF_MAX * H);
	uint8_t h[H], left[H], r_old[H], r4[H], r_new[H], leaf[H], lh[H];
	struct sira_err err;
	struct merkle_proof pp = { NULL, TLOG_PROOF_MAX, 0 };
	struct fx f;
	MDB_txn *txn;

	(void)state;
	assert_non_null(proof);
	pp.hash = proof[0];
	assert_true(TLOG_PROOF_MAX >= SIRA_MERKLE_PROOF_MAX);
	fx_open(&f);
	append_range(&f, 0, 4);
	txn = begin(&f, 0);
	assert_int_equal(tlog_root(txn, &f.t, 4, r4, NULL), 0);
	assert_int_equal(store_meta_put(txn, f.st, "log.size", N), 0);
	/* The left spine: node(j+1, 0) = H(node(j, 0), fake node(j, 1)). */
	memcpy(left, r4, H);
	for (unsigned j = 2; j <= 62; j++) {
		fake_hash(j, 1, h);
		put_node(&f, txn, j, 1, h);
		merkle_node_hash(left, h, left);
		put_node(&f, txn, j + 1, 0, left);
	}
	/* The right part [2^63, N): one perfect subtree per level. */
	for (unsigned l = 0; l <= 62; l++) {
		fake_hash(l, (N >> l) - 1, h);
		put_node(&f, txn, l, (N >> l) - 1, h);
	}
	assert_int_equal(tlog_root(txn, &f.t, 3, r_old, &err), 0);
	assert_int_equal(tlog_root(txn, &f.t, N, r_new, &err), 0);

	/* Consistency 3 -> N: 65 hashes. */
	assert_int_equal(cons_len(3, N), SIRA_MERKLE_PROOF_MAX);
	sira_err_clear(&err);
	assert_int_equal(tlog_consistency(txn, &f.t, 3, N, &pp, &err), 0);
	assert_int_equal(pp.n, 65);
	assert_int_equal(cons_rc(3, N, r_old, r_new, proof[0], pp.n), 0);
	flip(proof[pp.n - 1], 3);
	assert_int_equal(
	    cons_rc(3, N, r_old, r_new, proof[0], pp.n), -SIRA_EBADSIG);
	/* 4 -> N (old size a power of two) and 2 -> N. */
	assert_int_equal(tlog_consistency(txn, &f.t, 4, N, &pp, &err), 0);
	assert_int_equal(pp.n, cons_len(4, N));
	assert_int_equal(cons_rc(4, N, r4, r_new, proof[0], pp.n), 0);

	/* Inclusion of leaf 0 and leaf 3 in N: 64 hashes each. */
	for (uint64_t i = 0; i < 4; i++) {
		leaf_bytes(i, leaf);
		merkle_leaf_hash(leaf, H, lh);
		assert_int_equal(tlog_inclusion(txn, &f.t, i, N, &pp, &err), 0);
		assert_int_equal(pp.n, incl_len(i, N));
		assert_int_equal(pp.n, 64);
		assert_int_equal(incl_rc(lh, i, N, proof[0], pp.n, r_new), 0);
	}
	/* And the right-most "leaf", a made-up node at level 0. */
	fake_hash(0, N - 1, lh);
	assert_int_equal(tlog_inclusion(txn, &f.t, N - 1, N, &pp, &err), 0);
	assert_int_equal(pp.n, incl_len(N - 1, N));
	assert_int_equal(incl_rc(lh, N - 1, N, proof[0], pp.n, r_new), 0);
	mdb_txn_abort(txn);
	free(proof);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest big[] = {
		cmocka_unit_test(test_roots_match_merkle),
		cmocka_unit_test(test_inclusion_proofs),
		cmocka_unit_test(test_consistency_proofs),
		cmocka_unit_test(test_every_pair_verifies),
		cmocka_unit_test(test_bad_arguments),
	};
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_empty_tree),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_verify_altered_leaf),
		cmocka_unit_test(test_verify_altered_node),
		cmocka_unit_test(test_verify_bad_checkpoint),
		cmocka_unit_test(test_durable_across_reopen),
		cmocka_unit_test(test_longest_proofs),
		cmocka_unit_test(test_powers_of_two),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests_name("tlog", alone, NULL, NULL);
	rc |= cmocka_run_group_tests_name(
	    "tlog-big", big, setup_big, teardown_big);
	return rc;
}
