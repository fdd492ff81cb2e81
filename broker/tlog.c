/*
 * tlog.c: the transparency log (RFC 6962, section 2.1).
 *
 * Hashes: leaf = SHA-256(0x00 || leaf bytes), node = SHA-256(0x01 || left ||
 * right), the empty tree = SHA-256(""). The recursion of RFC 6962 always
 * splits a range at the largest power of two below its size, so the left
 * part of every split is a perfect, aligned subtree whose hash is stored;
 * only the right edge is recomputed. Roots and proofs are lib/merkle.c's
 * generators (the same code agents' proofs are tested against) reading the
 * stored subtrees through struct merkle_tree. The log never rewrites a leaf
 * or a node: DB_LEAVES and DB_NODES are append-only (MDB_NOOVERWRITE).
 * This file is the one owner of DB_LEAVES, DB_NODES, DB_CHECKPOINTS and
 * DB_OBJECTS (the served certificates and CRLs, each logged once).
 */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "merkle.h"
#include "signed.h"
#include "tlog.h"
#include "wire.h"

/* The hashing itself is lib/merkle.c's, which agents verify with. */
void
tlog_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[static 32])
{
	merkle_leaf_hash(leaf, len, out);
}

static void
node_hash(const uint8_t *l, const uint8_t *r, uint8_t out[static 32])
{
	uint8_t tmp[32];

	/* merkle_node_hash may not be given out aliasing an input. */
	merkle_node_hash(l, r, tmp);
	memcpy(out, tmp, 32);
}

static void
node_key(uint8_t key[static 9], unsigned level, uint64_t index)
{
	key[0] = (uint8_t)level;
	store_be64(key + 1, index);
}

static int
get_node(MDB_txn *txn, const struct tlog *t, unsigned level, uint64_t index,
    uint8_t out[static 32], struct sira_err *err)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, d;
	int rc;

	node_key(kb, level, index);
	if ((rc = mdb_get(txn, t->st->dbi[DB_NODES], &k, &d)) != 0)
		return store_error(rc, "log node", err);
	if (d.mv_size != 32)
		return sira_err_set(err, SIRA_EAUTH, "log node damaged");
	memcpy(out, d.mv_data, 32);
	return 0;
}

static int
put_node(MDB_txn *txn, const struct tlog *t, unsigned level, uint64_t index,
    const uint8_t h[static 32], struct sira_err *err)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, d = { 32, (void *)(uintptr_t)h };
	int rc;

	node_key(kb, level, index);
	if ((rc = mdb_put(
		 txn, t->st->dbi[DB_NODES], &k, &d, MDB_NOOVERWRITE)) != 0)
		return store_error(rc, "log node", err);
	return 0;
}

int
tlog_size(MDB_txn *txn, const struct tlog *t, uint64_t *size)
{
	return store_meta_get(txn, t->st, "log.size", size);
}

int
tlog_append(MDB_txn *txn, const struct tlog *t, const uint8_t *leaf, size_t len,
    uint64_t *index, struct sira_err *err)
{
	uint8_t kb[8], h[32], left[32];
	MDB_val k = { 8, kb }, d = { len, (void *)(uintptr_t)leaf };
	uint64_t n, i;
	unsigned level = 0;
	int rc;

	if (tlog_size(txn, t, &n) != 0)
		return sira_err_set(err, SIRA_EIO, "log size unreadable");
	store_be64(kb, n);
	if ((rc = mdb_put(
		 txn, t->st->dbi[DB_LEAVES], &k, &d, MDB_NOOVERWRITE)) != 0)
		return store_error(rc, "log leaf", err);
	tlog_leaf_hash(leaf, len, h);
	/* Store the leaf node, then every perfect subtree it completes. */
	for (i = n;; i >>= 1, level++) {
		if ((rc = put_node(txn, t, level, i, h, err)) != 0)
			return rc;
		if ((i & 1) == 0)
			break;
		if ((rc = get_node(txn, t, level, i - 1, left, err)) != 0)
			return rc;
		node_hash(left, h, h);
	}
	if (store_meta_put(txn, t->st, "log.size", n + 1) != 0)
		return sira_err_set(err, SIRA_EIO, "log size unwritable");
	*index = n;
	return 0;
}

int
tlog_append_leaf(MDB_txn *txn, const struct tlog *t,
    const Sira__V1__LogLeaf *leaf, uint64_t *index, struct sira_err *err)
{
	uint8_t *bytes;
	size_t len;
	int rc;

	if ((rc = wire_pack(&leaf->base, &bytes, &len, err)) != 0)
		return rc;
	rc = tlog_append(txn, t, bytes, len, index, err);
	free(bytes);
	return rc;
}

/* What lib/merkle.c's generators read: this log's stored subtrees. */
struct tree_ctx {
	MDB_txn *txn;
	const struct tlog *t;
};

static int
tree_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SIRA_HASH_LEN])
{
	const struct tree_ctx *c = ctx;

	return get_node(c->txn, c->t, level, index, out, NULL);
}

/* A leaf's hash is its level-0 node. */
static int
tree_leaf(void *ctx, uint64_t index, uint8_t out[SIRA_HASH_LEN])
{
	return tree_node(ctx, 0, index, out);
}

int
tlog_root(MDB_txn *txn, const struct tlog *t, uint64_t size,
    uint8_t root[static 32], struct sira_err *err)
{
	struct tree_ctx c = { txn, t };
	struct merkle_tree mt = { { tree_leaf, &c }, tree_node };
	uint64_t n;

	if (tlog_size(txn, t, &n) != 0 || size > n)
		return sira_err_set(err, SIRA_EINVAL, "no tree of that size");
	return merkle_tree_root(&mt, size, root, err);
}

int
tlog_inclusion(MDB_txn *txn, const struct tlog *t, uint64_t index,
    uint64_t size, struct merkle_proof *p, struct sira_err *err)
{
	struct tree_ctx c = { txn, t };
	struct merkle_tree mt = { { tree_leaf, &c }, tree_node };
	uint64_t cur;

	p->n = 0;
	if (tlog_size(txn, t, &cur) != 0 || size > cur || index >= size)
		return sira_err_set(err, SIRA_EINVAL,
		    "no leaf %llu in a tree of %llu", (unsigned long long)index,
		    (unsigned long long)size);
	return merkle_tree_inclusion(&mt, index, size, p, err);
}

int
tlog_consistency(MDB_txn *txn, const struct tlog *t, uint64_t old_size,
    uint64_t new_size, struct merkle_proof *p, struct sira_err *err)
{
	struct tree_ctx c = { txn, t };
	struct merkle_tree mt = { { tree_leaf, &c }, tree_node };
	uint64_t cur;

	p->n = 0;
	if (tlog_size(txn, t, &cur) != 0 || new_size > cur ||
	    old_size > new_size)
		return sira_err_set(err, SIRA_EINVAL,
		    "no consistency proof from %llu to %llu",
		    (unsigned long long)old_size, (unsigned long long)new_size);
	return merkle_tree_consistency(&mt, old_size, new_size, p, err);
}

int
tlog_checkpoint(MDB_txn *txn, const struct tlog *t, uint64_t now, uint8_t **out,
    size_t *outlen, struct sira_err *err)
{
	Sira__V1__Checkpoint c = SIRA__V1__CHECKPOINT__INIT;
	uint8_t root[32], sig[SIRA_SIG_LEN], *tbs = NULL, kb[8];
	MDB_val k = { 8, kb }, d;
	size_t tbslen;
	uint64_t size;
	int rc;

	*out = NULL;
	if ((rc = tlog_size(txn, t, &size)) != 0 ||
	    (rc = tlog_root(txn, t, size, root, err)) != 0)
		return rc;
	c.origin = (char *)(uintptr_t)t->origin;
	c.size = size;
	c.root.data = root;
	c.root.len = sizeof(root);
	c.time = now;
	if ((rc = wire_pack(&c.base, &tbs, &tbslen, err)) != 0 ||
	    (rc = sign_detached(t->keys->sign_sk, SIRA_DS_CHECKPOINT, tbs,
		 tbslen, sig)) != 0 ||
	    (rc = signed_join(tbs, tbslen, sig, out, outlen, err)) != 0)
		goto out;
	store_be64(kb, size);
	d.mv_size = *outlen;
	d.mv_data = *out;
	if ((rc = mdb_put(txn, t->st->dbi[DB_CHECKPOINTS], &k, &d, 0)) != 0)
		rc = store_error(rc, "checkpoint", err);
out:
	free(tbs);
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
tlog_append_object(MDB_txn *txn, const struct tlog *t,
    const Sira__V1__LogLeaf *leaf, struct sira_err *err)
{
	MDB_val k = { leaf->object_hash.len, leaf->object_hash.data }, d;
	uint64_t index = 0;
	uint8_t ib[8];
	int rc;

	if (mdb_get(txn, t->st->dbi[DB_OBJECTS], &k, &d) == 0)
		return 0; /* logged before */
	if ((rc = tlog_append_leaf(txn, t, leaf, &index, err)) != 0)
		return rc;
	store_be64(ib, index);
	d.mv_size = 8;
	d.mv_data = ib;
	if ((rc = mdb_put(txn, t->st->dbi[DB_OBJECTS], &k, &d, 0)) != 0)
		return store_error(rc, "log", err);
	return 0;
}

/* The value under be64 key n in table db, borrowed until txn ends. */
static int
get_be64_key(MDB_txn *txn, const struct tlog *t, enum store_db db, uint64_t n,
    const uint8_t **v, size_t *len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	int rc;

	store_be64(kb, n);
	if ((rc = mdb_get(txn, t->st->dbi[db], &k, &d)) != 0)
		return store_error(rc, "log", NULL);
	*v = d.mv_data;
	*len = d.mv_size;
	return 0;
}

int
tlog_leaf_get(MDB_txn *txn, const struct tlog *t, uint64_t index,
    const uint8_t **leaf, size_t *len)
{
	return get_be64_key(txn, t, DB_LEAVES, index, leaf, len);
}

int
tlog_checkpoint_get(MDB_txn *txn, const struct tlog *t, uint64_t size,
    const uint8_t **cp, size_t *len)
{
	return get_be64_key(txn, t, DB_CHECKPOINTS, size, cp, len);
}

int
tlog_checkpoint_last(
    MDB_txn *txn, const struct tlog *t, const uint8_t **cp, size_t *len)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	if ((rc = mdb_cursor_open(txn, t->st->dbi[DB_CHECKPOINTS], &c)) != 0)
		return store_error(rc, "checkpoints", NULL);
	/* Keys are be64 sizes, so the last one is the newest. */
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_LAST)) == 0) {
		*cp = d.mv_data;
		*len = d.mv_size;
	}
	mdb_cursor_close(c);
	return rc == 0 ? 0 : store_error(rc, "checkpoints", NULL);
}

int
tlog_each_leaf(MDB_txn *txn, const struct tlog *t, tlog_leaf_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k, d;
	int op = MDB_FIRST;

	if (mdb_cursor_open(txn, t->st->dbi[DB_LEAVES], &c) != 0)
		return -SIRA_EIO;
	while (mdb_cursor_get(c, &k, &d, (MDB_cursor_op)op) == 0) {
		op = MDB_NEXT;
		if (k.mv_size == 8)
			fn(ctx, store_get_be64(k.mv_data), d.mv_data,
			    d.mv_size);
	}
	mdb_cursor_close(c);
	return 0;
}

/* Does the stored node equal h? A missing node counts as a mismatch. */
static int
node_matches(MDB_txn *txn, const struct tlog *t, unsigned level, uint64_t index,
    const uint8_t h[static 32])
{
	uint8_t stored[32];

	return get_node(txn, t, level, index, stored, NULL) == 0 &&
	    memcmp(stored, h, 32) == 0;
}

/* Recompute nodes from the leaves; *bad = first leaf of a bad subtree. */
static int
verify_nodes(MDB_txn *txn, const struct tlog *t, uint64_t size, uint64_t *bad)
{
	uint8_t frontier[64][32], h[32], kb[8];
	MDB_val k = { 8, kb }, d;

	for (uint64_t i = 0; i < size; i++) {
		unsigned level = 0;
		uint64_t j = i;
		store_be64(kb, i);
		if (mdb_get(txn, t->st->dbi[DB_LEAVES], &k, &d) != 0) {
			*bad = i;
			return -1;
		}
		tlog_leaf_hash(d.mv_data, d.mv_size, h);
		for (;;) {
			if (!node_matches(txn, t, level, j, h)) {
				*bad = j << level;
				return -1;
			}
			if ((j & 1) == 0)
				break;
			node_hash(frontier[level], h, h);
			j >>= 1;
			level++;
		}
		memcpy(frontier[level], h, 32);
	}
	return 0;
}

/* Every stored checkpoint must carry the root recomputed for its size. */
static int
verify_checkpoints(MDB_txn *txn, const struct tlog *t, struct sira_err *err)
{
	MDB_cursor *c;
	MDB_val k, d;
	int op = MDB_FIRST, bad = 0;

	if (mdb_cursor_open(txn, t->st->dbi[DB_CHECKPOINTS], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "cannot read checkpoints");
	while (!bad && mdb_cursor_get(c, &k, &d, (MDB_cursor_op)op) == 0) {
		struct signed_obj so;
		ProtobufCMessage *m = NULL;
		uint8_t root[32];
		op = MDB_NEXT;
		if (signed_split(bytes_of(d.mv_data, d.mv_size), 4096, 4096,
			"checkpoint", &so, NULL) != 0) {
			bad = 1;
			break;
		}
		if (wire_unpack(&sira__v1__checkpoint__descriptor, so.tbs,
			so.tbs_len, 4096, &m, NULL) != 0 ||
		    tlog_root(txn, t, ((Sira__V1__Checkpoint *)m)->size, root,
			NULL) != 0 ||
		    ((Sira__V1__Checkpoint *)m)->root.len != 32 ||
		    memcmp(((Sira__V1__Checkpoint *)m)->root.data, root, 32) !=
			0)
			bad = 1;
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
		signed_clear(&so);
	}
	mdb_cursor_close(c);
	if (bad)
		return sira_err_set(err, SIRA_EAUTH,
		    "a signed checkpoint does not match the log");
	return 0;
}

int
tlog_verify(
    MDB_txn *txn, const struct tlog *t, uint64_t *bad, struct sira_err *err)
{
	uint64_t size;

	*bad = UINT64_MAX;
	if (tlog_size(txn, t, &size) != 0)
		return sira_err_set(err, SIRA_EIO, "log size unreadable");
	if (verify_nodes(txn, t, size, bad) != 0)
		return sira_err_set(err, SIRA_EAUTH,
		    "log leaf %llu does not match the tree",
		    (unsigned long long)*bad);
	return verify_checkpoints(txn, t, err);
}
