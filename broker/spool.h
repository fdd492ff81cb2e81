/*
 * spool.h: store-and-forward of envelopes, per recipient, in the broker's
 * LMDB store.
 *
 * An envelope is stored once, with the list of recipients that still have
 * to acknowledge it; each recipient has its own ordered queue of sequence
 * numbers. An envelope leaves the store only when its last recipient has
 * acknowledged it, or when it expires. Resubmitting an envelope already
 * accepted (the sender lost our answer) finds the first acceptance, so it
 * is never queued twice. Quotas are counted per recipient, in messages and
 * bytes, inside the same transaction as the change they count.
 */
#ifndef SIRA_SPOOL_H
#define SIRA_SPOOL_H

#include <stdint.h>

#include "bytes.h"
#include "envelope.h"
#include "err.h"
#include "store.h"
#include "store.pb-c.h"

struct spool_limits {
	uint64_t max_count; /* envelopes queued per recipient */
	uint64_t max_bytes; /* bytes queued per recipient */
};

/* An earlier acceptance of the same (sender, message id). */
struct spool_seen {
	uint64_t seq;
	uint64_t leaf_index;
	uint8_t envelope_hash[32];
	uint64_t expires_at;
};

/*
 * Has sender already submitted message msgid (and it has not expired)?
 * Returns 0 and fills *seen, -SIRA_ENOTFOUND, or -SIRA_EIO.
 */
int spool_find_submit(MDB_txn *txn, const struct store *st, const char *sender,
    const uint8_t msgid[static SIRA_MSGID_LEN], struct spool_seen *seen,
    struct sira_err *err);

/* Is the envelope spooled as seq still waiting for some recipient? */
bool spool_has(MDB_txn *txn, const struct store *st, uint64_t seq);

/*
 * Would queueing len more bytes for every recipient of e exceed a quota?
 * Returns 0 or -SIRA_EQUOTA naming the recipient.
 */
int spool_check_quota(MDB_txn *txn, const struct store *st,
    const struct envelope *e, size_t len, const struct spool_limits *lim,
    struct sira_err *err);

/*
 * An envelope the broker has accepted, as spool_put stores it: the parsed
 * envelope e and its exact bytes raw, its sender, when it was accepted,
 * until when it is kept, and the log leaf that proves the acceptance.
 * Everything is borrowed for the call.
 */
struct spool_envelope {
	const struct envelope *e;
	struct bytes raw;
	const char *sender;
	uint64_t accepted_at;
	uint64_t expires_at;
	uint64_t leaf_index;
};

/*
 * Store in and queue it for every recipient of in->e. *seq receives its
 * sequence number (its delivery id). Returns 0, -SIRA_EQUOTA (store full)
 * or -SIRA_EIO.
 */
int spool_put(MDB_txn *txn, const struct store *st,
    const struct spool_envelope *in, uint64_t *seq, struct sira_err *err);

/*
 * A queued envelope: its sequence number (its delivery id) and its stored
 * entry, owned by the caller (free with
 * sira__v1__spool_entry__free_unpacked).
 */
struct spool_item {
	uint64_t seq;
	Sira__V1__SpoolEntry *entry;
};

/*
 * The first envelope queued for agency with sequence > after, in order,
 * into *out (out->entry fresh; NULL unless 0 is returned). Returns 0,
 * -SIRA_ENOTFOUND (queue empty past after) or -SIRA_EIO.
 */
int spool_next(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t after, struct spool_item *out, struct sira_err *err);

/*
 * agency has stored delivery seq: dequeue it, and drop the envelope when
 * no recipient is left. envelope_hash receives the envelope's hash. Returns 0,
 * -SIRA_ENOTFOUND (not queued for agency: a duplicate ack) or -SIRA_EIO.
 */
int spool_ack(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t seq, uint8_t envelope_hash[static 32], struct sira_err *err);

/* Called for each envelope that expires, before it is removed. */
typedef void (*spool_expired_fn)(
    void *ctx, uint64_t seq, const Sira__V1__SpoolEntry *entry);

/*
 * One expiry pass: the envelopes whose expiry time is <= now, at most max
 * of them (so one transaction stays small), each passed to fn with ctx
 * (the caller's, untouched) before it is removed.
 */
struct spool_sweep {
	uint64_t now;
	size_t max;
	spool_expired_fn fn;
	void *ctx;
};

/*
 * Run the expiry pass sw. *n receives how many envelopes were removed.
 * Returns 0 or -SIRA_EIO.
 */
int spool_expire(MDB_txn *txn, const struct store *st,
    const struct spool_sweep *sw, size_t *n, struct sira_err *err);

/* Queue usage of one agency (zero if none). */
int spool_usage(MDB_txn *txn, const struct store *st, const char *agency,
    uint64_t *count, uint64_t *bytes);

/* Called by spool_each_agency with each agency id (NUL-terminated). */
typedef void (*spool_agency_fn)(void *ctx, const char *agency);

/*
 * Call fn for every agency that has a usage record, in key order. Returns
 * 0 or -SIRA_EIO (nothing was called).
 */
int spool_each_agency(
    MDB_txn *txn, const struct store *st, spool_agency_fn fn, void *ctx);

/*
 * Called by spool_each_entry with the bytes of a stored SpoolEntry
 * (borrowed from LMDB, valid until txn ends). Returns 0 to go on, any
 * other value to stop with it.
 */
typedef int (*spool_entry_fn)(void *ctx, const uint8_t *entry, size_t len);

/*
 * Call fn for every spooled envelope in sequence order or, when agency is
 * not NULL, for each envelope queued for agency in its queue's order (a
 * queued delivery whose envelope is gone is skipped). Reads only. Returns
 * 0 after the last, the non-zero value fn stopped with, -SIRA_EINVAL (agency
 * too long) or -SIRA_EIO.
 */
int spool_each_entry(MDB_txn *txn, const struct store *st, const char *agency,
    spool_entry_fn fn, void *ctx, struct sira_err *err);

#endif
