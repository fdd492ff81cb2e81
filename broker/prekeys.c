/*
 * prekeys.c: the one owner of DB_PREKEYS (see prekeys.h). Keys are the
 * agency id without its NUL; values are the signed Prekey bytes as the
 * agency sent them, replaced by each newer one.
 */
#include <string.h>

#include "prekeys.h"

int
prekeys_put(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t *raw, size_t len, struct sira_err *err)
{
	MDB_val k = { strlen(agency), (void *)(uintptr_t)agency };
	MDB_val d = { len, (void *)(uintptr_t)raw };
	int rc;

	if ((rc = mdb_put(txn, st->dbi[DB_PREKEYS], &k, &d, 0)) != 0)
		return store_error(rc, "prekey", err);
	return 0;
}

int
prekeys_get(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t **raw, size_t *len)
{
	MDB_val k = { strlen(agency), (void *)(uintptr_t)agency }, d;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[DB_PREKEYS], &k, &d)) != 0)
		return store_error(rc, "prekey", NULL);
	*raw = d.mv_data;
	*len = d.mv_size;
	return 0;
}
