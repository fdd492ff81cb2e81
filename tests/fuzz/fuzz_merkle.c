/*
 * fuzz_merkle.c: libFuzzer harness for the transparency-log proof
 * verifiers (lib/merkle.c), which agents run on proofs that arrive from
 * the broker. The first byte picks a mode:
 *
 *   0  inclusion:   index(8 LE) size(8 LE) leaf(32) root(32) proof...
 *   1  consistency: old(8 LE) new(8 LE) old_root(32) new_root(32) proof...
 *   2  round trip:  size(1) index(1) flip(2) leaf bytes...
 *
 * Modes 0 and 1 hand arbitrary numbers and hashes to the verifiers; the
 * proof is copied to a buffer of exactly n * 32 bytes so that ASan sees
 * any read past it. They check that the result is 0, -SIRA_EMALFORMED or
 * -SIRA_EBADSIG, and that -SIRA_EMALFORMED depends on the numbers alone
 * (the same n zeroed hashes must be classed the same way). Mode 2 builds a
 * tree of up to 64 leaves, checks that its honest proofs verify and that
 * one flipped bit breaks them. Seeds: tests/fuzz/corpus/fuzz_merkle/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

#define H SIRA_HASH_LEN
#define HBITS (8 * (size_t)SIRA_HASH_LEN)
#define HDR (8 + 8 + H + H)
#define TREE_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
check_rc(int rc)
{
	if (rc != 0 && rc != -SIRA_EMALFORMED && rc != -SIRA_EBADSIG)
		abort();
}

static void
fuzz_verify(int mode, const uint8_t *p, size_t len)
{
	uint64_t a, b;
	const uint8_t *h1, *h2;
	uint8_t *proof = NULL, *zero = NULL;
	size_t n;
	int rc, rc0;

	if (len < HDR)
		return;
	a = le64(p);
	b = le64(p + 8);
	h1 = p + 16;
	h2 = p + 16 + H;
	n = (len - HDR) / H;
	if (n > 0) {
		if ((proof = malloc(n * H)) == NULL ||
		    (zero = calloc(n, H)) == NULL)
			abort();
		memcpy(proof, p + HDR, n * H);
	}
	if (mode == 0) {
		rc = merkle_verify_inclusion(
		    h1, a, b, (struct merkle_hashes){ proof, n }, h2, NULL);
		rc0 = merkle_verify_inclusion(
		    h1, a, b, (struct merkle_hashes){ zero, n }, h2, NULL);
	} else {
		rc = merkle_verify_consistency(
		    a, b, h1, h2, (struct merkle_hashes){ proof, n }, NULL);
		rc0 = merkle_verify_consistency(
		    a, b, h1, h2, (struct merkle_hashes){ zero, n }, NULL);
	}
	check_rc(rc);
	check_rc(rc0);
	if ((rc == -SIRA_EMALFORMED) != (rc0 == -SIRA_EMALFORMED))
		abort();
	free(proof);
	free(zero);
}

struct tree {
	uint8_t h[TREE_MAX][H];
	uint64_t n;
};

static int
tree_get(void *ctx, uint64_t index, uint8_t out[H])
{
	const struct tree *t = ctx;

	if (index >= t->n)
		abort(); /* the generators must stay inside the tree */
	memcpy(out, t->h[index], H);
	return 0;
}

static void
fuzz_round_trip(const uint8_t *p, size_t len)
{
	struct tree t;
	struct merkle_leaves src = { tree_get, &t };
	uint8_t proof[SIRA_MERKLE_PROOF_MAX][H], root[H], old_root[H];
	uint8_t buf[1 + 64];
	uint64_t size, index;
	struct merkle_proof pr = { proof[0], SIRA_MERKLE_PROOF_MAX, 0 };
	size_t flip, chunk;

	if (len < 4)
		return;
	size = 1 + p[0] % TREE_MAX;
	index = p[1] % size;
	flip = (size_t)p[2] << 8 | p[3];
	p += 4;
	len -= 4;
	chunk = len < 64 ? len : 64;
	t.n = size;
	for (uint64_t i = 0; i < size; i++) {
		buf[0] = (uint8_t)i;
		memcpy(buf + 1, p, chunk);
		merkle_leaf_hash(buf, 1 + chunk, t.h[i]);
	}
	if (merkle_root(&src, size, root, NULL) != 0 ||
	    merkle_inclusion_proof(&src, index, size, &pr, NULL) != 0 ||
	    merkle_verify_inclusion(t.h[index], index, size,
		(struct merkle_hashes){ proof[0], pr.n }, root, NULL) != 0)
		abort();
	if (pr.n > 0) {
		proof[flip / HBITS % pr.n][flip / 8 % H] ^=
		    (uint8_t)(1U << (flip % 8));
		if (merkle_verify_inclusion(t.h[index], index, size,
			(struct merkle_hashes){ proof[0], pr.n }, root,
			NULL) != -SIRA_EBADSIG)
			abort();
	}
	/* index doubles as the old size of a consistency proof. */
	if (merkle_root(&src, index, old_root, NULL) != 0 ||
	    merkle_consistency_proof(&src, index, size, &pr, NULL) != 0 ||
	    merkle_verify_consistency(index, size, old_root, root,
		(struct merkle_hashes){ proof[0], pr.n }, NULL) != 0)
		abort();
	if (pr.n > 0) {
		proof[flip / HBITS % pr.n][flip / 8 % H] ^=
		    (uint8_t)(1U << (flip % 8));
		if (merkle_verify_consistency(index, size, old_root, root,
			(struct merkle_hashes){ proof[0], pr.n },
			NULL) != -SIRA_EBADSIG)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
	case 1:
		fuzz_verify(data[0] % 3, data + 1, size - 1);
		break;
	default:
		fuzz_round_trip(data + 1, size - 1);
		break;
	}
	return 0;
}
