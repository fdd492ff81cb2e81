/*
 * vault.h: the agent's durable store, encrypted at rest.
 *
 * One LMDB environment per agency (HOME/vault/). Tables hold opaque keys
 * (message ids, sequence numbers, key ids: never names) and values that are
 * always encrypted with XChaCha20-Poly1305 under the vault key, with the
 * table and the key as associated data, so a value cannot be moved to
 * another row or table unnoticed. The vault key is random, made at init,
 * and stored in the environment wrapped (secretbox) under a key derived from
 * the agency's secret signing key: someone who copies the data file without
 * the key file learns no victim's name or case content. Every change is one
 * LMDB write transaction: a power cut leaves the last committed state.
 */
#ifndef SIRA_VAULT_H
#define SIRA_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keyfile.h"

#define VAULT_MAP_DEFAULT (1ull << 30)
#define VAULT_VALUE_MAX (8u << 20)

enum vault_table {
	VT_OUTBOX,   /* local id -> OutboxEntry */
	VT_INBOX,    /* message id -> InboxEntry */
	VT_SEEN,     /* sender cert id || message id -> be64 time */
	VT_CERTS,    /* cert id -> Certificate bytes (kept forever) */
	VT_PREKEYS,  /* key id -> PrekeySecret (ours) */
	VT_PEERKEYS, /* agency id -> signed Prekey bytes (theirs, latest) */
	VT_AUDIT,    /* be64 seq -> AuditEntry */
	VT_META,     /* name -> value */
	VT_CASES,    /* vault_blind("case", case_ref) -> CaseRecord */
	VT_OUTQ,     /* state(1) be64(due) local id(16) -> empty (outq.c) */
	VT_COUNT
};

struct vault;
struct vault_txn;

/*
 * Open the vault in dir (created if missing) for keys. A new vault gets a
 * fresh random vault key, wrapped under keys; an existing one is unwrapped
 * (-SIRA_EAUTH if keys are not the ones it was made with). Returns 0,
 * -SIRA_EAUTH, -SIRA_EQUOTA (mapsize too small to create it), -SIRA_EIO or
 * -SIRA_ENOMEM. LMDB allows one open of a given dir per process.
 */
int vault_open(const char *dir, const struct sira_keys *keys, uint64_t mapsize,
    struct vault **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Wipe the vault key and close; accepts NULL. */
void vault_close(struct vault **vp);

/*
 * Begin a read or write transaction (one at a time per thread; one write
 * transaction at a time per vault). Returns 0, -SIRA_EIO or -SIRA_ENOMEM.
 */
int vault_begin(struct vault *v, bool write, struct vault_txn **t,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Begin a write transaction nested in parent (LMDB child transaction):
 * its changes reach parent only if it commits, so one failing piece of
 * work can be undone without losing the rest of parent. parent must not
 * be used until the child is committed or aborted. Returns 0, -SIRA_EINVAL
 * (parent read-only or failed), -SIRA_EIO or -SIRA_ENOMEM.
 */
int vault_begin_child(struct vault_txn *parent, struct vault_txn **t,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Commit and free *t. Errors are sticky: if an earlier vault_put,
 * vault_del or LMDB operation on *t failed, nothing is written and that
 * error is returned. Returns 0, -SIRA_EQUOTA (disk or map full: nothing
 * was written), -SIRA_EIO or the earlier error. *t is NULL afterwards either
 * way.
 */
int vault_commit(struct vault_txn **t, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Abort and free *t; accepts NULL. */
void vault_abort(struct vault_txn **t);

/*
 * Encrypt val[0..vlen) and store it at key (1 to 511 bytes, stored in
 * clear) in table. Any failure makes the transaction fail as a whole (see
 * vault_commit). Returns 0, -SIRA_EINVAL (bad key, the reserved
 * "vault.key" of VT_META, or a read-only transaction), -SIRA_ETOOBIG
 * (vlen > VAULT_VALUE_MAX), -SIRA_EQUOTA or -SIRA_EIO.
 */
int vault_put(struct vault_txn *t, enum vault_table table, const void *key,
    size_t klen, const void *val, size_t vlen, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Fetch and decrypt key from table into a fresh *val (caller wipes with
 * vault_free). Returns 0, -SIRA_ENOTFOUND, -SIRA_EAUTH (the stored value was
 * altered or moved), -SIRA_EINVAL (bad key), -SIRA_ENOMEM or -SIRA_EIO.
 */
int vault_get(struct vault_txn *t, enum vault_table table, const void *key,
    size_t klen, uint8_t **val, size_t *vlen, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Delete key from table. Returns 0, -SIRA_ENOTFOUND (harmless: the
 * transaction stays usable), -SIRA_EINVAL or -SIRA_EIO.
 */
int vault_del(struct vault_txn *t, enum vault_table table, const void *key,
    size_t klen, struct sira_err *err);

/*
 * Call fn for every row of table in key order (decrypted; the buffers are
 * valid during the call only; fn must not write to the vault). fn returns
 * 0 to go on, 1 to stop, or a negative code to stop with that error.
 * Returns 0, fn's code, -SIRA_EAUTH, -SIRA_ENOMEM or -SIRA_EIO.
 */
int vault_each(struct vault_txn *t, enum vault_table table,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
	size_t vlen),
    void *ctx, struct sira_err *err);

/*
 * Call fn with the key of every row of table from the first key >= from
 * (from may be NULL: the first row), in key order, without reading or
 * decrypting values: for indexes whose keys are the information. fn
 * returns 0 to go on, 1 to stop, or a negative code; it must not write to
 * the vault. Returns 0, fn's code, -SIRA_EINVAL or -SIRA_EIO.
 */
int vault_keys(struct vault_txn *t, enum vault_table table, const void *from,
    size_t flen, int (*fn)(void *ctx, const uint8_t *key, size_t klen),
    void *ctx, struct sira_err *err);

/*
 * A key for a table row named by a human-chosen name (a case reference):
 * BLAKE2b-256 of purpose and name keyed with a subkey of the vault key, so
 * the LMDB file never shows the name and a guessable name cannot be
 * confirmed without the agency's keys.
 */
void vault_blind(struct vault_txn *t, const char *purpose, const char *name,
    uint8_t out[32]);

/* Wipe and free a value from vault_get; accepts NULL. */
void vault_free(uint8_t *val, size_t vlen);

/*
 * Named uint64 counters in VT_META (0 when absent), stored as be64 values
 * sealed like any other. Return 0 or vault_get's and vault_put's codes;
 * vault_counter_get also -SIRA_EMALFORMED (the row is not 8 bytes).
 */
int vault_counter_get(struct vault_txn *t, const char *name, uint64_t *v);
int vault_counter_put(
    struct vault_txn *t, const char *name, uint64_t v, struct sira_err *err);

#endif
