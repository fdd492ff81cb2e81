/*
 * spool.c: the broker's store-and-forward queues (see spool.h).
 *
 * Keys: DB_ENVELOPES be64(seq); DB_QUEUE agency NUL be64(seq); DB_MSGIDS
 * sender NUL message_id; DB_EXPIRY be64(expires_at) be64(seq) with value
 * sender NUL message_id, so expiry also forgets the resubmission record.
 * Every function works inside the caller's write transaction; none commits.
 */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "spool.h"
#include "wire.h"

#define KEY_MAX (SIRA_AGENCY_ID_MAX + 1 + 16)

/* agency NUL tail[0..tlen) into key; returns the key length. */
static size_t
make_key(uint8_t key[static KEY_MAX], const char *agency, const uint8_t *tail,
    size_t tlen)
{
	size_t alen = strnlen(agency, SIRA_AGENCY_ID_MAX);

	memcpy(key, agency, alen);
	key[alen] = '\0';
	memcpy(key + alen + 1, tail, tlen);
	return alen + 1 + tlen;
}

static int
get_usage(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t *count, uint64_t *bytes)
{
	MDB_val k = { strlen(agency), (void *)(uintptr_t)agency }, d;
	Sira__V1__QuotaUsage *q;
	int rc;

	*count = *bytes = 0;
	if ((rc = mdb_get(txn, st->dbi[DB_QUOTA], &k, &d)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return -SIRA_EIO;
	if ((q = sira__v1__quota_usage__unpack(NULL, d.mv_size, d.mv_data)) ==
	    NULL)
		return -SIRA_EMALFORMED;
	*count = q->count;
	*bytes = q->bytes;
	sira__v1__quota_usage__free_unpacked(q, NULL);
	return 0;
}

int
spool_usage(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t *count, uint64_t *bytes)
{
	return get_usage(txn, st, agency, count, bytes);
}

/* Add (sign > 0) or remove one envelope of len bytes from agency's use. */
static int
adjust_usage(MDB_txn *txn, const struct store *st, const char *agency, int sign,
    uint64_t len, struct sira_err *err)
{
	Sira__V1__QuotaUsage q = SIRA__V1__QUOTA_USAGE__INIT;
	uint8_t buf[32];
	MDB_val k = { strlen(agency), (void *)(uintptr_t)agency }, d;
	int rc;

	if (get_usage(txn, st, agency, &q.count, &q.bytes) != 0)
		return sira_err_set(err, SIRA_EIO, "quota record unreadable");
	if (sign > 0) {
		q.count++;
		q.bytes += len;
	} else {
		q.count = q.count > 0 ? q.count - 1 : 0;
		q.bytes = q.bytes > len ? q.bytes - len : 0;
	}
	d.mv_size = protobuf_c_message_pack(&q.base, buf);
	d.mv_data = buf;
	if ((rc = mdb_put(txn, st->dbi[DB_QUOTA], &k, &d, 0)) != 0)
		return store_error(rc, "quota", err);
	return 0;
}

int
spool_find_submit(MDB_txn *txn, const struct store *st, const char *sender,
    const uint8_t msgid[static SIRA_MSGID_LEN], struct spool_seen *seen,
    struct sira_err *err)
{
	uint8_t kb[KEY_MAX];
	MDB_val k, d;
	Sira__V1__SeenSubmit *s;
	int rc;

	k.mv_size = make_key(kb, sender, msgid, SIRA_MSGID_LEN);
	k.mv_data = kb;
	if ((rc = mdb_get(txn, st->dbi[DB_MSGIDS], &k, &d)) != 0)
		return store_error(rc, "submission record", err);
	if ((s = sira__v1__seen_submit__unpack(NULL, d.mv_size, d.mv_data)) ==
		NULL ||
	    s->envelope_hash.len != 32) {
		if (s != NULL)
			sira__v1__seen_submit__free_unpacked(s, NULL);
		return sira_err_set(err, SIRA_EIO, "submission record damaged");
	}
	seen->seq = s->seq;
	seen->leaf_index = s->leaf_index;
	memcpy(seen->envelope_hash, s->envelope_hash.data, 32);
	seen->expires_at = s->expires_at;
	sira__v1__seen_submit__free_unpacked(s, NULL);
	return 0;
}

bool
spool_has(MDB_txn *txn, const struct store *st, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;

	store_be64(kb, seq);
	return mdb_get(txn, st->dbi[DB_ENVELOPES], &k, &d) == 0;
}

int
spool_check_quota(MDB_txn *txn, const struct store *st,
    const struct envelope *e, size_t len, const struct spool_limits *lim,
    struct sira_err *err)
{
	uint64_t count, bytes;

	for (size_t i = 0; i < e->h->n_recipients; i++) {
		const char *a = e->h->recipients[i]->agency_id;
		if (get_usage(txn, st, a, &count, &bytes) != 0)
			return sira_err_set(err, SIRA_EIO, "quota unreadable");
		if (count + 1 > lim->max_count || bytes + len > lim->max_bytes)
			return sira_err_set(err, SIRA_EQUOTA,
			    "the queue of %s is full; it has been offline too long",
			    a);
	}
	return 0;
}

static int
put_raw(MDB_txn *txn, MDB_dbi dbi, struct bytes key, struct bytes val,
    struct sira_err *err)
{
	MDB_val k = { key.len, (void *)(uintptr_t)key.p };
	MDB_val d = { val.len, (void *)(uintptr_t)val.p };
	int rc;

	if ((rc = mdb_put(txn, dbi, &k, &d, 0)) != 0)
		return store_error(rc, "spool", err);
	return 0;
}

static int
put_entry(MDB_txn *txn, const struct store *st, uint64_t seq,
    const Sira__V1__SpoolEntry *ent, struct sira_err *err)
{
	uint8_t kb[8], *buf;
	size_t len;
	int rc;

	store_be64(kb, seq);
	if ((rc = wire_pack(&ent->base, &buf, &len, err)) != 0)
		return rc;
	rc = put_raw(txn, st->dbi[DB_ENVELOPES], bytes_of(kb, 8),
	    bytes_of(buf, len), err);
	free(buf);
	return rc;
}

/* The resubmission record and the expiry index of new envelope in. */
static int
put_indexes(MDB_txn *txn, const struct store *st,
    const struct spool_envelope *in, uint64_t seq, struct sira_err *err)
{
	Sira__V1__SeenSubmit s = SIRA__V1__SEEN_SUBMIT__INIT;
	const struct envelope *e = in->e;
	uint8_t kb[KEY_MAX], xb[16], buf[128];
	size_t klen;
	int rc;

	s.seq = seq;
	s.leaf_index = in->leaf_index;
	s.envelope_hash.data = (uint8_t *)(uintptr_t)e->hash;
	s.envelope_hash.len = 32;
	s.expires_at = in->expires_at;
	klen = make_key(kb, in->sender, e->h->message_id.data, SIRA_MSGID_LEN);
	if ((rc = put_raw(txn, st->dbi[DB_MSGIDS], bytes_of(kb, klen),
		 bytes_of(buf, protobuf_c_message_pack(&s.base, buf)), err)) !=
	    0)
		return rc;
	store_be64(xb, in->expires_at);
	store_be64(xb + 8, seq);
	return put_raw(
	    txn, st->dbi[DB_EXPIRY], bytes_of(xb, 16), bytes_of(kb, klen), err);
}

int
spool_put(MDB_txn *txn, const struct store *st, const struct spool_envelope *in,
    uint64_t *seq, struct sira_err *err)
{
	Sira__V1__SpoolEntry ent = SIRA__V1__SPOOL_ENTRY__INIT;
	const struct envelope *e = in->e;
	char *pending[SIRA_RECIPIENTS_MAX];
	uint8_t kb[KEY_MAX], sb[8];
	uint64_t n;
	int rc;

	if (store_meta_get(txn, st, "spool.next_seq", &n) != 0)
		return sira_err_set(err, SIRA_EIO, "spool counter unreadable");
	*seq = n == 0 ? 1 : n;
	if (store_meta_put(txn, st, "spool.next_seq", *seq + 1) != 0)
		return sira_err_set(err, SIRA_EIO, "spool counter unwritable");
	for (size_t i = 0; i < e->h->n_recipients; i++)
		pending[i] = e->h->recipients[i]->agency_id;
	ent.envelope.data = (uint8_t *)(uintptr_t)in->raw.p;
	ent.envelope.len = in->raw.len;
	ent.message_id = e->h->message_id;
	ent.envelope_hash.data = (uint8_t *)(uintptr_t)e->hash;
	ent.envelope_hash.len = 32;
	ent.sender = (char *)(uintptr_t)in->sender;
	ent.n_pending = e->h->n_recipients;
	ent.pending = pending;
	ent.accepted_at = in->accepted_at;
	ent.expires_at = in->expires_at;
	ent.leaf_index = in->leaf_index;
	ent.size_bucket = (uint32_t)e->h->size_bucket;
	if ((rc = put_entry(txn, st, *seq, &ent, err)) != 0)
		return rc;
	store_be64(sb, *seq);
	for (size_t i = 0; i < e->h->n_recipients; i++) {
		size_t klen = make_key(kb, pending[i], sb, 8);
		if ((rc = put_raw(txn, st->dbi[DB_QUEUE], bytes_of(kb, klen),
			 bytes_of("", 0), err)) != 0 ||
		    (rc = adjust_usage(
			 txn, st, pending[i], 1, in->raw.len, err)) != 0)
			return rc;
	}
	return put_indexes(txn, st, in, *seq, err);
}

static int
get_entry(MDB_txn *txn, const struct store *st, uint64_t seq,
    Sira__V1__SpoolEntry **entry, struct sira_err *err)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	int rc;

	*entry = NULL;
	store_be64(kb, seq);
	if ((rc = mdb_get(txn, st->dbi[DB_ENVELOPES], &k, &d)) != 0)
		return store_error(rc, "spooled envelope", err);
	if ((*entry = sira__v1__spool_entry__unpack(
		 NULL, d.mv_size, d.mv_data)) == NULL)
		return sira_err_set(err, SIRA_EIO, "spooled envelope damaged");
	return 0;
}

int
spool_next(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t after, struct spool_item *out, struct sira_err *err)
{
	uint8_t kb[KEY_MAX], sb[8];
	size_t plen = strlen(agency) + 1;
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	out->entry = NULL;
	store_be64(sb, after + 1);
	k.mv_size = make_key(kb, agency, sb, 8);
	k.mv_data = kb;
	if (mdb_cursor_open(txn, st->dbi[DB_QUEUE], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "queue unreadable");
	rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	if (rc == 0 &&
	    (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0))
		rc = MDB_NOTFOUND; /* past this agency's queue */
	if (rc == 0)
		out->seq = store_get_be64((const uint8_t *)k.mv_data + plen);
	mdb_cursor_close(c);
	if (rc != 0)
		return store_error(rc, "queue", err);
	return get_entry(txn, st, out->seq, &out->entry, err);
}

/* Remove agency from entry's pending list; drop the envelope if empty. */
static int
forget_recipient(MDB_txn *txn, const struct store *st,
    Sira__V1__SpoolEntry *ent, uint64_t seq, const char *agency,
    struct sira_err *err)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	size_t j = 0;

	/*
	 * Swap, do not overwrite: protobuf-c allocates every string on its
	 * own, and free_unpacked must still find each one exactly once in
	 * pending[0..n) (the caller restores n_pending before freeing).
	 */
	for (size_t i = 0; i < ent->n_pending; i++)
		if (strcmp(ent->pending[i], agency) != 0) {
			char *keep = ent->pending[i];
			ent->pending[i] = ent->pending[j];
			ent->pending[j++] = keep;
		}
	ent->n_pending = j;
	if (j > 0)
		return put_entry(txn, st, seq, ent, err);
	store_be64(kb, seq);
	if (mdb_del(txn, st->dbi[DB_ENVELOPES], &k, NULL) != 0)
		return sira_err_set(err, SIRA_EIO, "cannot drop envelope");
	return 0;
}

int
spool_ack(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t seq, uint8_t envelope_hash[static 32], struct sira_err *err)
{
	Sira__V1__SpoolEntry *ent;
	uint8_t kb[KEY_MAX], sb[8];
	MDB_val k;
	size_t n_pending;
	char **pending;
	int rc;

	store_be64(sb, seq);
	k.mv_size = make_key(kb, agency, sb, 8);
	k.mv_data = kb;
	if ((rc = mdb_del(txn, st->dbi[DB_QUEUE], &k, NULL)) != 0)
		return store_error(rc, "queued delivery", err);
	if ((rc = get_entry(txn, st, seq, &ent, err)) != 0 || ent == NULL)
		return rc != 0 ? rc : -SIRA_EIO;
	if (ent->envelope_hash.len == 32)
		memcpy(envelope_hash, ent->envelope_hash.data, 32);
	/* forget_recipient compacts the array; keep it to free correctly. */
	n_pending = ent->n_pending;
	pending = ent->pending;
	if ((rc = adjust_usage(txn, st, agency, -1, ent->envelope.len, err)) ==
	    0)
		rc = forget_recipient(txn, st, ent, seq, agency, err);
	ent->n_pending = n_pending;
	ent->pending = pending;
	sira__v1__spool_entry__free_unpacked(ent, NULL);
	return rc;
}

/* Remove every queue entry of an expiring envelope and its quota use. */
static int
drop_pending(MDB_txn *txn, const struct store *st, uint64_t seq,
    const Sira__V1__SpoolEntry *ent, struct sira_err *err)
{
	uint8_t kb[KEY_MAX], sb[8];
	MDB_val k;
	int rc;

	store_be64(sb, seq);
	for (size_t i = 0; i < ent->n_pending; i++) {
		k.mv_size = make_key(kb, ent->pending[i], sb, 8);
		k.mv_data = kb;
		if ((rc = mdb_del(txn, st->dbi[DB_QUEUE], &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return store_error(rc, "queue", err);
		if ((rc = adjust_usage(txn, st, ent->pending[i], -1,
			 ent->envelope.len, err)) != 0)
			return rc;
	}
	k.mv_size = 8;
	k.mv_data = sb;
	if ((rc = mdb_del(txn, st->dbi[DB_ENVELOPES], &k, NULL)) != 0)
		return store_error(rc, "spooled envelope", err);
	return 0;
}

/* Expire the envelope indexed by expiry key xk (value: msgids key),
 * telling sw's callback. */
static int
expire_one(MDB_txn *txn, const struct store *st, const MDB_val *xk,
    const MDB_val *xv, const struct spool_sweep *sw, struct sira_err *err)
{
	uint64_t seq = store_get_be64((const uint8_t *)xk->mv_data + 8);
	Sira__V1__SpoolEntry *ent = NULL;
	uint8_t kb[KEY_MAX];
	MDB_val mk = { xv->mv_size, kb };
	int rc;

	/* LMDB data is valid only until the next write: copy the key now. */
	if (xv->mv_size > sizeof(kb))
		return sira_err_set(err, SIRA_EIO, "expiry index damaged");
	memcpy(kb, xv->mv_data, xv->mv_size);
	rc = get_entry(txn, st, seq, &ent, NULL);
	if (rc == 0 && ent != NULL) {
		/* Still spooled: some recipient never acknowledged it. */
		sw->fn(sw->ctx, seq, ent);
		rc = drop_pending(txn, st, seq, ent, err);
		sira__v1__spool_entry__free_unpacked(ent, NULL);
		if (rc != 0)
			return rc;
	}
	if ((rc = mdb_del(txn, st->dbi[DB_MSGIDS], &mk, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return store_error(rc, "submission record", err);
	return 0;
}

int
spool_expire(MDB_txn *txn, const struct store *st, const struct spool_sweep *sw,
    size_t *n, struct sira_err *err)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	*n = 0;
	if (mdb_cursor_open(txn, st->dbi[DB_EXPIRY], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "expiry index unreadable");
	while (*n < sw->max && mdb_cursor_get(c, &k, &d, MDB_FIRST) == 0) {
		if (k.mv_size != 16 ||
		    store_get_be64((const uint8_t *)k.mv_data) > sw->now)
			break;
		if ((rc = expire_one(txn, st, &k, &d, sw, err)) != 0 ||
		    (rc = mdb_cursor_del(c, 0)) != 0) {
			mdb_cursor_close(c);
			return rc < 0 ? rc : store_error(rc, "expiry", err);
		}
		(*n)++;
	}
	mdb_cursor_close(c);
	return 0;
}

int
spool_each_agency(
    MDB_txn *txn, const struct store *st, spool_agency_fn fn, void *ctx)
{
	char agency[SIRA_AGENCY_ID_MAX + 1];
	MDB_cursor *c;
	MDB_val k, d;
	int op = MDB_FIRST;

	if (mdb_cursor_open(txn, st->dbi[DB_QUOTA], &c) != 0)
		return -SIRA_EIO;
	while (mdb_cursor_get(c, &k, &d, (MDB_cursor_op)op) == 0) {
		op = MDB_NEXT;
		if (k.mv_size >= sizeof(agency))
			continue;
		memcpy(agency, k.mv_data, k.mv_size);
		agency[k.mv_size] = '\0';
		fn(ctx, agency);
	}
	mdb_cursor_close(c);
	return 0;
}

/* Every stored envelope, in sequence order. */
static int
each_spooled(MDB_txn *txn, const struct store *st, spool_entry_fn fn, void *ctx,
    struct sira_err *err)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc, stop = 0;

	if (mdb_cursor_open(txn, st->dbi[DB_ENVELOPES], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "spool unreadable");
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0 && stop == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))
		stop = fn(ctx, d.mv_data, d.mv_size);
	mdb_cursor_close(c);
	if (stop != 0)
		return stop;
	return rc == MDB_NOTFOUND ? 0 : store_error(rc, "spool", err);
}

/* The envelopes queued for agency, in its queue's order. */
static int
each_queued(MDB_txn *txn, const struct store *st, const char *agency,
    spool_entry_fn fn, void *ctx, struct sira_err *err)
{
	uint8_t kb[KEY_MAX], sk[8];
	size_t plen = strlen(agency) + 1;
	MDB_cursor *c;
	MDB_val k, d, e = { 8, sk };
	int rc, stop = 0;

	if (plen > SIRA_AGENCY_ID_MAX + 1)
		return sira_err_set(err, SIRA_EINVAL, "no such agency");
	memcpy(kb, agency, plen); /* the prefix "agency NUL" */
	k.mv_size = plen;
	k.mv_data = kb;
	if (mdb_cursor_open(txn, st->dbi[DB_QUEUE], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "queue unreadable");
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	     rc == 0 && stop == 0; rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0)
			break; /* past this agency's queue */
		memcpy(sk, (const uint8_t *)k.mv_data + plen, 8); /* be64 seq */
		if (mdb_get(txn, st->dbi[DB_ENVELOPES], &e, &d) == 0)
			stop = fn(ctx, d.mv_data, d.mv_size);
	}
	mdb_cursor_close(c);
	if (stop != 0)
		return stop;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_error(rc, "queue", err);
	return 0;
}

int
spool_each_entry(MDB_txn *txn, const struct store *st, const char *agency,
    spool_entry_fn fn, void *ctx, struct sira_err *err)
{
	if (agency == NULL)
		return each_spooled(txn, st, fn, ctx, err);
	return each_queued(txn, st, agency, fn, ctx, err);
}
