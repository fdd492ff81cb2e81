/*
 * test_broker_spool.c: the broker's store-and-forward spool (broker/spool.c)
 * in a real LMDB store in a fresh mkdtemp() directory.
 *
 * Envelopes are real Envelope bytes, built here field by field from an
 * EnvelopeHeader and a body of the size its bucket promises, and decoded by
 * envelope_decode() as the broker decodes a Submit; the spool never looks
 * inside the body, so no sealing is needed. Covered: per-recipient order,
 * acks that drop only one recipient's entry and the envelope only after the
 * last, duplicate acks, the resubmission record, quotas by count and by
 * bytes at their exact limits, and expiry (callback once per envelope still
 * spooled, with its pending list; the resubmission record forgotten).
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

#include "cert.h"
#include "envelope.h"
#include "err.h"
#include "spool.h"
#include "store.h"
#include "wire.h"

#define MAP (64u << 20)
#define NOW UINT64_C(1772409600) /* 2026-03-02T00:00:00Z */
#define BODY (4096 + 16)         /* SIZE_BUCKET_4K plus the AEAD tag */

#define SENDER "ml.police.bamako"
#define ALPHA "ml.ngo.alpha"
#define BETA "ml.social.beta"
#define GAMMA "ml.justice.gamma"

struct fx {
	char dir[64];
	struct store *st;
};

/* One envelope: its bytes and what envelope_decode() made of them. */
struct env {
	uint8_t *raw;
	size_t len;
	struct envelope *e;
};

/* ---- builders ---- */

static void
fill(uint8_t *p, size_t len, uint8_t v)
{
	memset(p, v, len);
}

/* An envelope from sender, message id all id_byte, to rcpt[0..n). */
static struct env
make_env(const char *sender, uint8_t id_byte, const char *const *rcpt, size_t n)
{
	Sira__V1__EnvelopeHeader h = SIRA__V1__ENVELOPE_HEADER__INIT;
	Sira__V1__Envelope ev = SIRA__V1__ENVELOPE__INIT;
	Sira__V1__RecipientWrap w[4], *wp[4];
	uint8_t msgid[SIRA_MSGID_LEN], cert_id[32], prekey_id[8], sealed[48];
	uint8_t commit[32], manifest[32], nonce[24], *body, *hb;
	size_t hlen;
	struct env out;
	struct sira_err err;

	assert_true(n >= 1 && n <= 4);
	fill(msgid, sizeof(msgid), id_byte);
	fill(cert_id, sizeof(cert_id), 0x11);
	fill(prekey_id, sizeof(prekey_id), 0x22);
	fill(sealed, sizeof(sealed), 0x33);
	fill(commit, sizeof(commit), 0x44);
	fill(manifest, sizeof(manifest), 0x55);
	fill(nonce, sizeof(nonce), id_byte);
	for (size_t i = 0; i < n; i++) {
		sira__v1__recipient_wrap__init(&w[i]);
		w[i].agency_id = (char *)(uintptr_t)rcpt[i];
		w[i].cert_id.data = cert_id;
		w[i].cert_id.len = sizeof(cert_id);
		w[i].prekey_id.data = prekey_id;
		w[i].prekey_id.len = sizeof(prekey_id);
		w[i].sealed.data = sealed;
		w[i].sealed.len = sizeof(sealed);
		wp[i] = &w[i];
	}
	h.version = SIRA_ENVELOPE_VERSION;
	h.message_id.data = msgid;
	h.message_id.len = sizeof(msgid);
	h.sender_agency_id = (char *)(uintptr_t)sender;
	h.sender_cert_id.data = cert_id;
	h.sender_cert_id.len = sizeof(cert_id);
	h.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
	h.created_at = NOW;
	h.expires_at = NOW + 86400;
	h.n_recipients = n;
	h.recipients = wp;
	h.key_commitment.data = commit;
	h.key_commitment.len = sizeof(commit);
	h.manifest_hash.data = manifest;
	h.manifest_hash.len = sizeof(manifest);
	h.size_bucket = SIRA__V1__SIZE_BUCKET__SIZE_BUCKET_4K;
	h.body_nonce.data = nonce;
	h.body_nonce.len = sizeof(nonce);
	assert_int_equal(wire_pack(&h.base, &hb, &hlen, NULL), 0);
	assert_non_null(body = malloc(BODY));
	fill(body, BODY, (uint8_t)(0x80 + id_byte));
	ev.header.data = hb;
	ev.header.len = hlen;
	ev.body_ct.data = body;
	ev.body_ct.len = BODY;
	assert_int_equal(wire_pack(&ev.base, &out.raw, &out.len, NULL), 0);
	free(hb);
	free(body);
	sira_err_clear(&err);
	assert_int_equal(envelope_decode(out.raw, out.len, &out.e, &err), 0);
	return out;
}

static void
env_free(struct env *v)
{
	envelope_destroy(&v->e);
	free(v->raw);
	v->raw = NULL;
}

/* ---- the store ---- */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-spool-XXXXXX");
	if (mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, MAP, 0, &f->st, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char path[128];

	store_close(&f->st);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	(void)unlink(path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
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
	assert_int_equal(store_commit(txn, NULL), 0);
}

/* spool_put in its own committed transaction; returns the sequence. */
static uint64_t
put(struct fx *f, const struct env *v, uint64_t expires_at, uint64_t leaf)
{
	MDB_txn *txn = begin(f, 0);
	struct sira_err err;
	uint64_t seq = 0;

	sira_err_clear(&err);
	assert_int_equal(
	    spool_put(txn, f->st,
		&(struct spool_envelope){ v->e, bytes_of(v->raw, v->len),
		    SENDER, NOW, expires_at, leaf },
		&seq, &err),
	    0);
	commit(txn);
	return seq;
}

/* spool_ack in its own transaction (committed when it succeeds). */
static int
ack(struct fx *f, const char *agency, uint64_t seq, uint8_t hash[static 32])
{
	MDB_txn *txn = begin(f, 0);
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = spool_ack(txn, f->st, agency, seq, hash, &err);
	assert_int_equal(err.code, -rc);
	if (rc == 0)
		commit(txn);
	else
		mdb_txn_abort(txn);
	return rc;
}

/* The next sequence queued for agency after `after`, or 0 when none. */
static uint64_t
next(struct fx *f, const char *agency, uint64_t after)
{
	struct spool_item it = { 0, NULL };
	MDB_txn *txn = begin(f, 1);
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = spool_next(txn, f->st, agency, after, &it, &err);
	mdb_txn_abort(txn);
	if (rc == -SIRA_ENOTFOUND) {
		assert_int_equal(err.code, SIRA_ENOTFOUND);
		assert_null(it.entry);
		return 0;
	}
	assert_int_equal(rc, 0);
	assert_non_null(it.entry);
	assert_true(it.seq > after);
	sira__v1__spool_entry__free_unpacked(it.entry, NULL);
	return it.seq;
}

/* Every sequence queued for agency, in order, into out; returns count. */
static size_t
queue_of(struct fx *f, const char *agency, uint64_t *out, size_t max)
{
	size_t n = 0;
	uint64_t s = 0;

	while ((s = next(f, agency, s)) != 0) {
		assert_true(n < max);
		out[n++] = s;
	}
	return n;
}

static int
envelope_stored(struct fx *f, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	MDB_txn *txn = begin(f, 1);
	int rc;

	store_be64(kb, seq);
	rc = mdb_get(txn, f->st->dbi[DB_ENVELOPES], &k, &d);
	mdb_txn_abort(txn);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	return rc == 0;
}

/* The pending list of stored envelope seq, as one "a,b,c" string. */
static void
pending_of(struct fx *f, uint64_t seq, char *out, size_t outlen)
{
	Sira__V1__SpoolEntry *ent = NULL;
	MDB_txn *txn = begin(f, 1);
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	size_t used = 0;

	out[0] = '\0';
	store_be64(kb, seq);
	assert_int_equal(mdb_get(txn, f->st->dbi[DB_ENVELOPES], &k, &d), 0);
	ent = sira__v1__spool_entry__unpack(NULL, d.mv_size, d.mv_data);
	assert_non_null(ent);
	for (size_t i = 0; i < ent->n_pending; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s",
		    i ? "," : "", ent->pending[i]);
		assert_true(w > 0 && (size_t)w < outlen - used);
		used += (size_t)w;
	}
	sira__v1__spool_entry__free_unpacked(ent, NULL);
	mdb_txn_abort(txn);
}

static void
usage(struct fx *f, const char *agency, uint64_t count, uint64_t bytes)
{
	MDB_txn *txn = begin(f, 1);
	uint64_t c = 99, b = 99;

	assert_int_equal(spool_usage(txn, f->st, agency, &c, &b), 0);
	mdb_txn_abort(txn);
	assert_int_equal(c, count);
	assert_int_equal(b, bytes);
}

static int
quota(struct fx *f, const struct env *v, const struct spool_limits *lim)
{
	MDB_txn *txn = begin(f, 1);
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = spool_check_quota(txn, f->st, v->e, v->len, lim, &err);
	assert_int_equal(err.code, -rc);
	mdb_txn_abort(txn);
	return rc;
}

static int
find(struct fx *f, const char *sender, const struct env *v,
    struct spool_seen *seen)
{
	MDB_txn *txn = begin(f, 1);
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	memset(seen, 0, sizeof(*seen));
	rc = spool_find_submit(
	    txn, f->st, sender, v->e->h->message_id.data, seen, &err);
	assert_int_equal(err.code, -rc);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- tests ---- */

static void
test_put_entry_and_order(void **state)
{
	static const char *const one[] = { ALPHA };
	static const char *const three[] = { ALPHA, BETA, GAMMA };
	static const char *const beta[] = { BETA };
	struct fx *f = *state;
	struct env a = make_env(SENDER, 1, one, 1);
	struct env b = make_env(SENDER, 2, three, 3);
	struct env c = make_env(SENDER, 3, beta, 1);
	struct env d = make_env(SENDER, 4, one, 1);
	Sira__V1__SpoolEntry *ent = NULL;
	struct spool_item it;
	uint64_t sa, sb, sc, sd, q[8], seq = 0;
	MDB_txn *txn;

	sa = put(f, &a, NOW + 1000, 10);
	sb = put(f, &b, NOW + 2000, 11);
	sc = put(f, &c, NOW + 3000, 12);
	sd = put(f, &d, NOW + 4000, 13);
	assert_int_equal(sa, 1);
	assert_int_equal(sb, 2);
	assert_int_equal(sc, 3);
	assert_int_equal(sd, 4);

	/* Each recipient sees its own envelopes, in order, and no others. */
	assert_int_equal(queue_of(f, ALPHA, q, 8), 3);
	assert_int_equal(q[0], sa);
	assert_int_equal(q[1], sb);
	assert_int_equal(q[2], sd);
	assert_int_equal(queue_of(f, BETA, q, 8), 2);
	assert_int_equal(q[0], sb);
	assert_int_equal(q[1], sc);
	assert_int_equal(queue_of(f, GAMMA, q, 8), 1);
	assert_int_equal(q[0], sb);
	assert_int_equal(next(f, "ml.ngo.nobody", 0), 0);
	/* A prefix of an agency id is another agency. */
	assert_int_equal(next(f, "ml.ngo.alph", 0), 0);
	assert_int_equal(next(f, "ml.ngo", 0), 0);
	/* Starting past a sequence. */
	assert_int_equal(next(f, ALPHA, sa), sb);
	assert_int_equal(next(f, ALPHA, sb), sd);
	assert_int_equal(next(f, ALPHA, sd), 0);
	assert_int_equal(next(f, ALPHA, UINT64_MAX - 1), 0);

	/* The entry: the exact bytes and every field of the record. */
	txn = begin(f, 1);
	assert_int_equal(spool_next(txn, f->st, GAMMA, 0, &it, NULL), 0);
	ent = it.entry;
	assert_int_equal(it.seq, sb);
	assert_int_equal(ent->envelope.len, b.len);
	assert_memory_equal(ent->envelope.data, b.raw, b.len);
	assert_int_equal(ent->message_id.len, SIRA_MSGID_LEN);
	assert_memory_equal(
	    ent->message_id.data, b.e->h->message_id.data, SIRA_MSGID_LEN);
	assert_int_equal(ent->envelope_hash.len, 32);
	assert_memory_equal(ent->envelope_hash.data, b.e->hash, 32);
	assert_string_equal(ent->sender, SENDER);
	assert_int_equal(ent->n_pending, 3);
	assert_string_equal(ent->pending[0], ALPHA);
	assert_string_equal(ent->pending[1], BETA);
	assert_string_equal(ent->pending[2], GAMMA);
	assert_int_equal(ent->accepted_at, NOW);
	assert_int_equal(ent->expires_at, NOW + 2000);
	assert_int_equal(ent->leaf_index, 11);
	assert_int_equal(ent->size_bucket, 4096);
	sira__v1__spool_entry__free_unpacked(ent, NULL);
	mdb_txn_abort(txn);

	/* Usage counts the envelope bytes once per recipient. */
	usage(f, ALPHA, 3, a.len + b.len + d.len);
	usage(f, BETA, 2, b.len + c.len);
	usage(f, GAMMA, 1, b.len);
	usage(f, "ml.ngo.nobody", 0, 0);

	/* Sequence numbers survive a reopen and are never reused. */
	store_close(&f->st);
	assert_int_equal(store_open(f->dir, MAP, 0, &f->st, NULL), 0);
	assert_int_equal(put(f, &c, NOW + 3000, 14), 5);
	assert_int_equal(queue_of(f, BETA, q, 8), 3);
	assert_int_equal(q[2], 5);
	/* An aborted put leaves nothing behind. */
	txn = begin(f, 0);
	assert_int_equal(
	    spool_put(txn, f->st,
		&(struct spool_envelope){
		    a.e, bytes_of(a.raw, a.len), SENDER, NOW, NOW + 1000, 15 },
		&seq, NULL),
	    0);
	assert_int_equal(seq, 6);
	mdb_txn_abort(txn);
	assert_int_equal(queue_of(f, ALPHA, q, 8), 3);
	usage(f, ALPHA, 3, a.len + b.len + d.len);
	assert_int_equal(put(f, &d, NOW + 4000, 16), 6);
	env_free(&a);
	env_free(&b);
	env_free(&c);
	env_free(&d);
}

static void
test_ack(void **state)
{
	static const char *const one[] = { ALPHA };
	static const char *const three[] = { ALPHA, BETA, GAMMA };
	struct fx *f = *state;
	struct env a = make_env(SENDER, 1, one, 1);
	struct env b = make_env(SENDER, 2, three, 3);
	uint8_t hash[32];
	char pend[256];
	uint64_t sa = put(f, &a, NOW + 1000, 1), sb = put(f, &b, NOW + 1000, 2);

	/* A one-recipient envelope goes with its only ack. */
	memset(hash, 0, sizeof(hash));
	assert_int_equal(ack(f, ALPHA, sa, hash), 0);
	assert_memory_equal(hash, a.e->hash, 32);
	assert_false(envelope_stored(f, sa));
	assert_int_equal(next(f, ALPHA, 0), sb);
	assert_int_equal(ack(f, ALPHA, sa, hash), -SIRA_ENOTFOUND);
	assert_int_equal(ack(f, BETA, sa, hash), -SIRA_ENOTFOUND);
	assert_int_equal(ack(f, ALPHA, 999, hash), -SIRA_ENOTFOUND);

	/* The middle recipient first: only its queue entry goes. */
	assert_int_equal(ack(f, BETA, sb, hash), 0);
	assert_memory_equal(hash, b.e->hash, 32);
	assert_true(envelope_stored(f, sb));
	pending_of(f, sb, pend, sizeof(pend));
	assert_string_equal(pend, ALPHA "," GAMMA);
	assert_int_equal(next(f, BETA, 0), 0);
	assert_int_equal(next(f, ALPHA, 0), sb);
	assert_int_equal(next(f, GAMMA, 0), sb);
	assert_int_equal(ack(f, BETA, sb, hash), -SIRA_ENOTFOUND);
	usage(f, BETA, 0, 0);
	usage(f, ALPHA, 1, b.len);
	usage(f, GAMMA, 1, b.len);

	/* Then the first; the envelope stays for the last one. */
	assert_int_equal(ack(f, ALPHA, sb, hash), 0);
	assert_true(envelope_stored(f, sb));
	pending_of(f, sb, pend, sizeof(pend));
	assert_string_equal(pend, GAMMA);
	assert_int_equal(next(f, ALPHA, 0), 0);
	assert_int_equal(next(f, GAMMA, 0), sb);

	/* The last ack drops the envelope. */
	memset(hash, 0, sizeof(hash));
	assert_int_equal(ack(f, GAMMA, sb, hash), 0);
	assert_memory_equal(hash, b.e->hash, 32);
	assert_false(envelope_stored(f, sb));
	assert_int_equal(ack(f, GAMMA, sb, hash), -SIRA_ENOTFOUND);
	usage(f, ALPHA, 0, 0);
	usage(f, BETA, 0, 0);
	usage(f, GAMMA, 0, 0);
	env_free(&a);
	env_free(&b);
}

/* Every order in which three recipients can ack, each in a fresh spool. */
static void
test_ack_every_order(void **state)
{
	static const char *const three[] = { ALPHA, BETA, GAMMA };
	static const int order[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	struct fx *f = *state;
	uint8_t hash[32];

	for (size_t o = 0; o < 6; o++) {
		struct env b = make_env(SENDER, (uint8_t)(0x40 + o), three, 3);
		uint64_t s = put(f, &b, NOW + 1000, o);
		for (size_t i = 0; i < 3; i++) {
			const char *who = three[order[o][i]];
			assert_int_equal(ack(f, who, s, hash), 0);
			assert_int_equal(envelope_stored(f, s), i < 2);
			assert_int_equal(next(f, who, 0), 0);
			assert_int_equal(ack(f, who, s, hash), -SIRA_ENOTFOUND);
		}
		env_free(&b);
	}
	usage(f, ALPHA, 0, 0);
	usage(f, BETA, 0, 0);
	usage(f, GAMMA, 0, 0);
}

static void
test_find_submit(void **state)
{
	static const char *const one[] = { ALPHA };
	struct fx *f = *state;
	struct env a = make_env(SENDER, 1, one, 1);
	struct env other = make_env(SENDER, 2, one, 1);
	struct spool_seen seen;
	uint8_t hash[32];
	uint64_t sa;

	assert_int_equal(find(f, SENDER, &a, &seen), -SIRA_ENOTFOUND);
	sa = put(f, &a, NOW + 1000, 77);
	assert_int_equal(find(f, SENDER, &a, &seen), 0);
	assert_int_equal(seen.seq, sa);
	assert_int_equal(seen.leaf_index, 77);
	assert_memory_equal(seen.envelope_hash, a.e->hash, 32);
	/* Another message id, or the same id from another sender. */
	assert_int_equal(find(f, SENDER, &other, &seen), -SIRA_ENOTFOUND);
	assert_int_equal(
	    find(f, "ml.police.kayes", &a, &seen), -SIRA_ENOTFOUND);
	assert_int_equal(
	    find(f, "ml.police.bamak", &a, &seen), -SIRA_ENOTFOUND);
	/* Delivered and acked: still remembered until it expires. */
	assert_int_equal(ack(f, ALPHA, sa, hash), 0);
	assert_int_equal(find(f, SENDER, &a, &seen), 0);
	assert_int_equal(seen.seq, sa);
	env_free(&a);
	env_free(&other);
}

static void
test_quota_count(void **state)
{
	static const char *const one[] = { ALPHA };
	static const char *const two[] = { BETA, ALPHA };
	static const char *const beta[] = { BETA };
	struct fx *f = *state;
	struct spool_limits lim = { 3, UINT64_C(1) << 40 };
	struct env v[3], both = make_env(SENDER, 9, two, 2);
	struct env vb = make_env(SENDER, 10, beta, 1);
	uint64_t s[3];
	uint8_t hash[32];

	for (size_t i = 0; i < 3; i++) {
		v[i] = make_env(SENDER, (uint8_t)(1 + i), one, 1);
		/* Room for the (i+1)th: count i, limit 3. */
		assert_int_equal(quota(f, &v[i], &lim), 0);
		s[i] = put(f, &v[i], NOW + 1000, i);
	}
	usage(f, ALPHA, 3, v[0].len + v[1].len + v[2].len);
	/* The 4th would be limit + 1. */
	assert_int_equal(quota(f, &v[0], &lim), -SIRA_EQUOTA);
	/* Any recipient over quota refuses the whole envelope. */
	assert_int_equal(quota(f, &both, &lim), -SIRA_EQUOTA);
	assert_int_equal(quota(f, &vb, &lim), 0);
	/* A higher limit lets it in. */
	lim.max_count = 4;
	assert_int_equal(quota(f, &v[0], &lim), 0);
	lim.max_count = 3;
	/* One ack makes room for exactly one. */
	assert_int_equal(ack(f, ALPHA, s[1], hash), 0);
	usage(f, ALPHA, 2, v[0].len + v[2].len);
	assert_int_equal(quota(f, &both, &lim), 0);
	assert_int_equal(ack(f, ALPHA, s[0], hash), 0);
	assert_int_equal(ack(f, ALPHA, s[2], hash), 0);
	usage(f, ALPHA, 0, 0);
	for (size_t i = 0; i < 3; i++)
		env_free(&v[i]);
	env_free(&both);
	env_free(&vb);
}

static void
test_quota_bytes(void **state)
{
	static const char *const one[] = { ALPHA };
	static const char *const three[] = { ALPHA, BETA, GAMMA };
	struct fx *f = *state;
	struct env a = make_env(SENDER, 1, one, 1);
	struct env b = make_env(SENDER, 2, three, 3);
	struct spool_limits lim = { 100, 0 };
	uint8_t hash[32];
	uint64_t sa, sb;

	/* Exactly one envelope's bytes fit; one byte less does not. */
	lim.max_bytes = a.len;
	assert_int_equal(quota(f, &a, &lim), 0);
	lim.max_bytes = a.len - 1;
	assert_int_equal(quota(f, &a, &lim), -SIRA_EQUOTA);

	lim.max_bytes = a.len + b.len;
	sa = put(f, &a, NOW + 1000, 1);
	assert_int_equal(quota(f, &b, &lim), 0);
	sb = put(f, &b, NOW + 1000, 2);
	usage(f, ALPHA, 2, a.len + b.len);
	usage(f, BETA, 1, b.len);
	/* ALPHA is at its byte limit: one more byte is over it. */
	assert_int_equal(quota(f, &a, &lim), -SIRA_EQUOTA);
	lim.max_bytes = a.len + b.len + a.len;
	assert_int_equal(quota(f, &a, &lim), 0);
	lim.max_bytes = a.len + b.len + a.len - 1;
	assert_int_equal(quota(f, &a, &lim), -SIRA_EQUOTA);

	/* Acks give the bytes back, per recipient. */
	assert_int_equal(ack(f, ALPHA, sa, hash), 0);
	usage(f, ALPHA, 1, b.len);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ack(f, three[i], sb, hash), 0);
	usage(f, ALPHA, 0, 0);
	usage(f, BETA, 0, 0);
	usage(f, GAMMA, 0, 0);
	env_free(&a);
	env_free(&b);
}

/* What the expiry callback saw. */
struct expired {
	size_t n;
	uint64_t seq[8];
	char pending[8][256];
	uint8_t hash[8][32];
};

static void
on_expired(void *ctx, uint64_t seq, const Sira__V1__SpoolEntry *ent)
{
	struct expired *x = ctx;
	size_t used = 0;

	assert_true(x->n < 8);
	x->seq[x->n] = seq;
	x->pending[x->n][0] = '\0';
	for (size_t i = 0; i < ent->n_pending; i++) {
		int w = snprintf(x->pending[x->n] + used, 256 - used, "%s%s",
		    i ? "," : "", ent->pending[i]);
		assert_true(w > 0 && (size_t)w < 256 - used);
		used += (size_t)w;
	}
	assert_int_equal(ent->envelope_hash.len, 32);
	memcpy(x->hash[x->n], ent->envelope_hash.data, 32);
	x->n++;
}

static size_t
expire(struct fx *f, uint64_t now, size_t max, struct expired *x)
{
	MDB_txn *txn = begin(f, 0);
	struct sira_err err;
	size_t n = 99;

	sira_err_clear(&err);
	assert_int_equal(
	    spool_expire(txn, f->st,
		&(struct spool_sweep){ now, max, on_expired, x }, &n, &err),
	    0);
	assert_int_equal(err.code, 0);
	commit(txn);
	return n;
}

static void
test_expire(void **state)
{
	static const char *const one[] = { ALPHA };
	static const char *const three[] = { ALPHA, BETA, GAMMA };
	static const char *const beta[] = { BETA };
	struct fx *f = *state;
	struct env a = make_env(SENDER, 1, one, 1);
	struct env b = make_env(SENDER, 2, three, 3);
	struct env c = make_env(SENDER, 3, beta, 1);
	struct env d = make_env(SENDER, 4, one, 1);
	struct expired x;
	struct spool_seen seen;
	uint8_t hash[32];
	uint64_t sa, sb, sc, sd;

	memset(&x, 0, sizeof(x));
	sa = put(f, &a, NOW + 1000, 1);
	sb = put(f, &b, NOW + 2000, 2);
	sc = put(f, &c, NOW + 3000, 3);
	sd = put(f, &d, NOW + 2000, 4);
	assert_int_equal(ack(f, BETA, sb, hash), 0);
	assert_int_equal(ack(f, ALPHA, sd, hash), 0); /* d fully delivered */

	/* Nothing is due before its time. */
	assert_int_equal(expire(f, NOW + 999, 10, &x), 0);
	assert_int_equal(x.n, 0);
	/* At most max per call: the earliest first. */
	assert_int_equal(expire(f, NOW + 2000, 1, &x), 1);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.seq[0], sa);
	assert_string_equal(x.pending[0], ALPHA);
	assert_memory_equal(x.hash[0], a.e->hash, 32);
	assert_false(envelope_stored(f, sa));
	/* b (still pending for two) and d's record; d has no callback. */
	assert_int_equal(expire(f, NOW + 2000, 10, &x), 2);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.seq[1], sb);
	assert_string_equal(x.pending[1], ALPHA "," GAMMA);
	assert_memory_equal(x.hash[1], b.e->hash, 32);
	assert_false(envelope_stored(f, sb));
	assert_int_equal(expire(f, NOW + 2000, 10, &x), 0);
	assert_int_equal(x.n, 2);

	/* Queues, usage and resubmission records of the expired are gone. */
	assert_int_equal(next(f, ALPHA, 0), 0);
	assert_int_equal(next(f, GAMMA, 0), 0);
	assert_int_equal(next(f, BETA, 0), sc);
	usage(f, ALPHA, 0, 0);
	usage(f, GAMMA, 0, 0);
	usage(f, BETA, 1, c.len);
	assert_int_equal(find(f, SENDER, &a, &seen), -SIRA_ENOTFOUND);
	assert_int_equal(find(f, SENDER, &b, &seen), -SIRA_ENOTFOUND);
	assert_int_equal(find(f, SENDER, &d, &seen), -SIRA_ENOTFOUND);
	assert_int_equal(ack(f, ALPHA, sb, hash), -SIRA_ENOTFOUND);
	assert_int_equal(ack(f, GAMMA, sb, hash), -SIRA_ENOTFOUND);

	/* The unexpired one is untouched. */
	assert_true(envelope_stored(f, sc));
	assert_int_equal(find(f, SENDER, &c, &seen), 0);
	assert_int_equal(seen.seq, sc);
	assert_int_equal(expire(f, NOW + 3000, 10, &x), 1);
	assert_int_equal(x.seq[2], sc);
	assert_string_equal(x.pending[2], BETA);
	assert_false(envelope_stored(f, sc));
	assert_int_equal(find(f, SENDER, &c, &seen), -SIRA_ENOTFOUND);
	usage(f, BETA, 0, 0);
	assert_int_equal(expire(f, UINT64_MAX, 10, &x), 0);
	assert_int_equal(x.n, 3);
	env_free(&a);
	env_free(&b);
	env_free(&c);
	env_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_put_entry_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ack_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_find_submit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_quota_count, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_quota_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
