/*
 * vault_private.h: the vault's insides, shared by vault.c (rows and
 * transactions) and vault_compact.c (rewriting the data file) only. No
 * other file includes it.
 */
#ifndef SIRA_AGENT_VAULT_PRIVATE_H
#define SIRA_AGENT_VAULT_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"

struct vault {
	MDB_env *env;
	MDB_dbi dbi[VT_COUNT];
	bool have[VT_COUNT]; /* dbi[i] is open (a late table may lack it) */
	uint8_t *key;        /* KEY_LEN bytes, sodium_malloc */
	char dir[PATH_MAX];
	uint64_t mapsize;
	int lockfd; /* dir/compact.lock, held shared while open (or -1) */
};

struct vault_txn {
	struct vault *v;
	MDB_txn *txn;
	bool write;
	int failed; /* sticky: the first failure's negative code, or 0 */
};

extern const char *const vault_table_names[VT_COUNT];
int vault_lmdb_error(int rc, const char *what, struct sira_err *err);
/* Open (create) the environment of v->dir with v->mapsize. */
int vault_env_open(struct vault *v, struct sira_err *err);
/* Take the shared lock on dir/compact.lock into v->lockfd. */
int vault_lock_shared(struct vault *v, struct sira_err *err);

#endif
