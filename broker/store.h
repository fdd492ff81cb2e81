/*
 * store.h: the broker's LMDB environment and its transactions.
 *
 * One environment (DATA/broker.mdb) holds the spool, the transparency log,
 * the published prekeys and the counters, so that an envelope and the log
 * leaf that proves its acceptance are committed in the same transaction.
 * Every write transaction is one group commit: the router batches all the
 * frames it has read, applies them, and commits once (one fsync).
 */
#ifndef SIRA_STORE_H
#define SIRA_STORE_H

#include <lmdb.h>
#include <stdint.h>

#include "err.h"

#define STORE_MAP_DEFAULT (4ull << 30)

/* The named databases, each read and written only by its owner module. */
enum store_db {
	/* spool.c */
	DB_ENVELOPES, /* be64 seq -> SpoolEntry */
	DB_QUEUE,     /* agency NUL be64 seq -> (empty): per-recipient order */
	DB_MSGIDS,    /* sender NUL message_id -> SeenSubmit */
	DB_EXPIRY,    /* be64 expires_at be64 seq -> (empty) */
	DB_QUOTA,     /* agency -> QuotaUsage */
	/* tlog.c */
	DB_LEAVES,      /* be64 index -> LogLeaf bytes */
	DB_NODES,       /* u8 level be64 index -> 32-byte Merkle node */
	DB_CHECKPOINTS, /* be64 size -> SignedCheckpoint bytes */
	DB_OBJECTS,     /* object hash -> be64 leaf index (logged once) */
	/* prekeys.c */
	DB_PREKEYS, /* agency -> signed Prekey bytes (latest) */
	/* store.c */
	DB_META, /* name -> value (counters) */
	DB_COUNT
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
};

/*
 * Open (creating if needed) the store in directory dir with the given map
 * size. readonly opens for inspection by another process (status, log
 * verify) while the broker runs. Returns 0, -SIRA_EIO or -SIRA_ENOMEM.
 */
int store_open(const char *dir, uint64_t mapsize, int readonly,
    struct store **out, struct sira_err *err);

/* Close and free *sp; accepts NULL. */
void store_close(struct store **sp);

/* Begin a transaction (write unless readonly). Returns 0 or -SIRA_EIO. */
int store_begin(
    struct store *s, int readonly, MDB_txn **txn, struct sira_err *err);

/*
 * Commit txn. Returns 0, -SIRA_EQUOTA (the map is full: MDB_MAP_FULL) or
 * -SIRA_EIO. The transaction is gone either way.
 */
int store_commit(MDB_txn *txn, struct sira_err *err);

/* Abort txn (a read transaction's end, or a write given up); accepts NULL. */
void store_abort(MDB_txn *txn);

/* Map an LMDB return code to a SIRA_E* code with context. */
int store_error(int mdb_rc, const char *what, struct sira_err *err);

/* Big-endian 64-bit encode/decode, so keys sort numerically. */
void store_be64(uint8_t out[static 8], uint64_t v);
uint64_t store_get_be64(const uint8_t in[static 8]);

/* Read or write a named uint64 counter in DB_META (0 if absent). */
int store_meta_get(
    MDB_txn *txn, const struct store *s, const char *name, uint64_t *v);
int store_meta_put(
    MDB_txn *txn, const struct store *s, const char *name, uint64_t v);

#endif
