/*
 * store.c: opening the broker's LMDB environment, transactions and error
 * mapping. LMDB gives the durability guarantee the broker promises: a
 * committed transaction survives SIGKILL and power loss (default sync mode,
 * never MDB_NOSYNC), an uncommitted one leaves no trace. It owns DB_META;
 * every other table has one owner module (store.h), and no other file
 * calls LMDB (tests/lint_boundary.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "fileio.h"
#include "store.h"

static const char *const db_names[DB_COUNT] = {
	"envelopes",
	"queue",
	"msgids",
	"expiry",
	"quota",
	"leaves",
	"nodes",
	"checkpoints",
	"objects",
	"prekeys",
	"meta",
};

int
store_error(int mdb_rc, const char *what, struct sira_err *err)
{
	if (mdb_rc == MDB_MAP_FULL || mdb_rc == ENOSPC || mdb_rc == EDQUOT)
		return sira_err_set(err, SIRA_EQUOTA,
		    "broker storage is full (%s): free disk space or raise map-size",
		    what);
	if (mdb_rc == MDB_NOTFOUND)
		return sira_err_set(err, SIRA_ENOTFOUND, "%s: not found", what);
	return sira_err_set(
	    err, SIRA_EIO, "%s: %s", what, mdb_strerror(mdb_rc));
}

void
store_be64(uint8_t out[static 8], uint64_t v)
{
	be64_put(out, v);
}

uint64_t
store_get_be64(const uint8_t in[static 8])
{
	return be64_get(in);
}

static int
open_dbs(struct store *s, int readonly, struct sira_err *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(
		 s->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0)
		return store_error(rc, "opening the store", err);
	for (int i = 0; i < DB_COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i],
			 readonly ? 0 : MDB_CREATE, &s->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			return store_error(rc, db_names[i], err);
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_error(rc, "opening the store", err);
	return 0;
}

int
store_open(const char *dir, uint64_t mapsize, int readonly, struct store **out,
    struct sira_err *err)
{
	struct store *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, (size_t)mapsize)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, readonly ? MDB_RDONLY : 0, 0600)) !=
		0) {
		rc = store_error(rc, dir, err);
		store_close(&s);
		return rc;
	}
	if ((rc = open_dbs(s, readonly, err)) != 0) {
		store_close(&s);
		return rc;
	}
	*out = s;
	return 0;
}

void
store_close(struct store **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	if ((*sp)->env != NULL)
		mdb_env_close((*sp)->env);
	free(*sp);
	*sp = NULL;
}

int
store_begin(struct store *s, int readonly, MDB_txn **txn, struct sira_err *err)
{
	int rc;

	if ((rc = mdb_txn_begin(
		 s->env, NULL, readonly ? MDB_RDONLY : 0, txn)) != 0)
		return store_error(rc, "beginning a transaction", err);
	return 0;
}

int
store_commit(MDB_txn *txn, struct sira_err *err)
{
	int rc;

	if ((rc = mdb_txn_commit(txn)) != 0) {
		int fd;
		/* A write cut short by a full disk comes back as EIO. */
		if (rc == EIO && mdb_env_get_fd(mdb_txn_env(txn), &fd) == 0 &&
		    fileio_fd_nearly_full(fd))
			rc = ENOSPC;
		return store_error(rc, "committing", err);
	}
	return 0;
}

void
store_abort(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

int
store_meta_get(
    MDB_txn *txn, const struct store *s, const char *name, uint64_t *v)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, d;
	int rc;

	*v = 0;
	if ((rc = mdb_get(txn, s->dbi[DB_META], &k, &d)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_error(rc, name, NULL);
	if (d.mv_size != 8)
		return -SIRA_EMALFORMED;
	*v = store_get_be64(d.mv_data);
	return 0;
}

int
store_meta_put(
    MDB_txn *txn, const struct store *s, const char *name, uint64_t v)
{
	uint8_t buf[8];
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, d = { 8, buf };
	int rc;

	store_be64(buf, v);
	if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &d, 0)) != 0)
		return store_error(rc, name, NULL);
	return 0;
}
