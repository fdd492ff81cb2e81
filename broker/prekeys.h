/*
 * prekeys.h: the latest signed prekey each agency published, in the
 * broker's LMDB store (DB_PREKEYS, agency -> signed Prekey bytes). The
 * broker checks a prekey before it gets here (broker/handle.c) and serves
 * it in directory answers; it never uses it.
 */
#ifndef SIRA_PREKEYS_H
#define SIRA_PREKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/*
 * Store raw[0..len) as agency's prekey in txn, replacing the one before.
 * Returns 0, -SIRA_EQUOTA (store full) or -SIRA_EIO.
 */
int prekeys_put(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t *raw, size_t len, struct sira_err *err);

/*
 * agency's prekey: *raw (borrowed from LMDB, valid until txn ends) and
 * *len. Returns 0, -SIRA_ENOTFOUND or -SIRA_EIO.
 */
int prekeys_get(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t **raw, size_t *len);

#endif
