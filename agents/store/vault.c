/*
 * vault.c: the agent's LMDB store, encrypted at rest (design note threat 24;
 * tests S1/S2). One environment in dir (made 0700 if missing, files 0600,
 * default sync mode: never MDB_NOSYNC, never MDB_NOMEMINIT), one named
 * database per enum vault_table. The table numbers are part of the on-disk
 * format (they are in every value's associated data): append, never reorder.
 * Tables appended later (VT_LATE on) are added to an older vault when it is
 * opened, in a transaction of their own; when a full map or disk refuses
 * that, the vault opens all the same, the table reads as empty and writes
 * to it are -SIRA_EQUOTA, as every write would be.
 *
 * Keys. The vault key is 32 random bytes made when the vault is created,
 * held in sodium_malloc memory (read-only after load, wiped on close). It is
 * stored in VT_META under the reserved name "vault.key" as nonce(24) ||
 * crypto_secretbox_easy(vault key) under KEK = BLAKE2b-256 keyed with the
 * Ed25519 seed (sign_sk[0..32)) over "sira-v1/vault-kek". That row is the
 * only one not sealed with the vault key; callers can neither read, write,
 * delete nor enumerate it. Another key pair fails to unwrap it: -SIRA_EAUTH.
 *
 * Values. Every value is nonce(24 random) || XChaCha20-Poly1305-IETF(val)
 * with associated data = table number (one byte) || key, so a value copied
 * to another key or table fails to open. It is encrypted straight into the
 * page LMDB reserves (MDB_RESERVE): plaintext is never in an LMDB page.
 * Keys are stored in clear (opaque ids by contract), 1..511 bytes. Values
 * handed out are malloc'd (sodium_malloc would spend a guarded mapping on
 * every row) and wiped by vault_free; vault_each wipes each row after fn.
 *
 * Transactions. Errors are sticky: after any failed vault_put or vault_del
 * (other than a delete of a missing row), or any LMDB failure, every later
 * call on the transaction returns that error and vault_commit aborts it, so
 * a transaction is committed whole or not at all. A full map or disk is
 * -SIRA_EQUOTA and loses nothing already committed. This file never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "be64.h"
#include "fileio.h"
#include "store/store.h"
#include "i18n.h"
#include "store/vault_private.h"

#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_OVERHEAD (NONCE_LEN + TAG_LEN)
#define KEK_DS "sira-v1/vault-kek"
#define BLIND_DS "sira-v1/vault-blind"
#define KEK_SEED_LEN 32
#define WRAP_NAME "vault.key"
#define WRAP_LEN \
	(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + KEY_LEN)
#define VKEY_MAX 511 /* LMDB's default MDB_MAXKEYSIZE */

_Static_assert(
    KEY_LEN == 32 && NONCE_LEN == 24 && TAG_LEN == 16, "vault value format");
_Static_assert(crypto_secretbox_KEYBYTES == 32 &&
	crypto_secretbox_NONCEBYTES == 24 && crypto_secretbox_MACBYTES == 16,
    "vault key wrap format");
_Static_assert(VT_COUNT <= 255, "a table number is one byte of AD");

const char *const vault_table_names[VT_COUNT] = {
	[VT_OUTBOX] = "outbox",
	[VT_INBOX] = "inbox",
	[VT_SEEN] = "seen",
	[VT_CERTS] = "certs",
	[VT_PREKEYS] = "prekeys",
	[VT_PEERKEYS] = "peerkeys",
	[VT_AUDIT] = "audit",
	[VT_META] = "meta",
	[VT_CASES] = "cases",
	[VT_OUTQ] = "outq",
	[VT_USERS] = "users",
	[VT_REPORTS] = "reports",
	[VT_CASEKEYS] = "casekeys",
};

int
vault_lmdb_error(int rc, const char *what, struct sira_err *err)
{
	if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT)
		return sira_err_set(err, SIRA_EQUOTA,
		    _("the agent's storage is full (%s): free disk space"),
		    what);
	if (rc == MDB_NOTFOUND)
		return sira_err_set(
		    err, SIRA_ENOTFOUND, _("%s: not found"), what);
	return sira_err_set(err, SIRA_EIO, _("%s: %s"), what, mdb_strerror(rc));
}

/* A write LMDB cut short (EIO) on a full disk is a full disk. */
static int
full_or(MDB_env *env, int rc)
{
	int fd;

	if (rc == EIO && mdb_env_get_fd(env, &fd) == 0 &&
	    fileio_fd_nearly_full(fd))
		return ENOSPC;
	return rc;
}

/* Record the first failure of t and return rc. */
static int
txn_fail(struct vault_txn *t, int rc)
{
	if (t->failed == 0)
		t->failed = rc;
	return rc;
}

static int
txn_usable(const struct vault_txn *t, struct sira_err *err)
{
	if (t->failed != 0)
		return sira_err_set(err, -t->failed,
		    _("an earlier operation in this transaction failed"));
	return 0;
}

static bool
is_wrap_row(enum vault_table table, struct bytes key)
{
	return table == VT_META && key.len == sizeof(WRAP_NAME) - 1 &&
	    memcmp(key.p, WRAP_NAME, key.len) == 0;
}

static int
check_key(enum vault_table table, struct bytes key, struct sira_err *err)
{
	if ((unsigned)table >= VT_COUNT)
		return sira_err_set(err, SIRA_EINVAL, _("no such vault table"));
	if (key.p == NULL || key.len == 0 || key.len > VKEY_MAX)
		return sira_err_set(err, SIRA_EINVAL,
		    _("a vault key is 1 to %d bytes, not %zu"), VKEY_MAX,
		    key.len);
	if (is_wrap_row(table, key))
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s is reserved for the vault"), WRAP_NAME);
	return 0;
}

/* ad = table number || key; ad has room for 1 + VKEY_MAX bytes. */
static size_t
make_ad(uint8_t *ad, enum vault_table table, struct bytes key)
{
	ad[0] = (uint8_t)table;
	memcpy(ad + 1, key.p, key.len);
	return 1 + key.len;
}

/* An LMDB key as the vault's borrowed bytes, and back. */
static struct bytes
key_of(const MDB_val *k)
{
	return bytes_of(k->mv_data, k->mv_size);
}

static MDB_val
mdb_key(struct bytes key)
{
	return (MDB_val){ key.len, (void *)(uintptr_t)key.p };
}

/* A row as LMDB holds it: where, and its sealed value d. */
struct stored {
	enum vault_table table;
	struct bytes key;
	const MDB_val *d;
};

static void
derive_kek(const struct sira_keys *keys, uint8_t kek[static KEY_LEN])
{
	(void)crypto_generichash(kek, KEY_LEN, (const uint8_t *)KEK_DS,
	    sizeof(KEK_DS) - 1, keys->sign_sk, KEK_SEED_LEN);
}

static int
make_dir(const char *dir, struct sira_err *err)
{
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return sira_err_set(err, SIRA_EIO, _("cannot create %s: %s"),
		    dir, strerror(errno));
	return 0;
}

/*
 * Open tables [from, to) in txn. Without MDB_CREATE in flags a table that
 * does not exist (a late table in an older vault) is left closed.
 */
static int
open_tables(struct vault *v, MDB_txn *txn, int from, int to, unsigned flags,
    struct sira_err *err)
{
	int rc;

	for (int i = from; i < to; i++) {
		rc = mdb_dbi_open(txn, vault_table_names[i], flags, &v->dbi[i]);
		v->have[i] = rc == 0;
		if (rc == MDB_NOTFOUND && (flags & MDB_CREATE) == 0)
			continue;
		if (rc != 0)
			return vault_lmdb_error(rc, vault_table_names[i], err);
	}
	return 0;
}

/*
 * Add the late tables an older vault lacks, in a transaction of their own
 * (the vault key is committed already). A full map or disk leaves them
 * closed and is not an error (see the top of this file).
 */
static int
add_late_tables(struct vault *v, struct sira_err *err)
{
	MDB_txn *txn;
	int rc = 0, i;

	for (i = VT_LATE; i < VT_COUNT && v->have[i]; i++)
		;
	if (i == VT_COUNT)
		return 0;
	if ((rc = mdb_txn_begin(v->env, NULL, 0, &txn)) != 0)
		return vault_lmdb_error(rc, "opening the vault", err);
	for (i = VT_LATE; i < VT_COUNT && rc == 0; i++)
		if (!v->have[i])
			rc = mdb_dbi_open(
			    txn, vault_table_names[i], MDB_CREATE, &v->dbi[i]);
	if (rc != 0)
		mdb_txn_abort(txn);
	else if ((rc = mdb_txn_commit(txn)) == 0) {
		for (i = VT_LATE; i < VT_COUNT; i++)
			v->have[i] = true;
		return 0;
	}
	rc = full_or(v->env, rc);
	if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT)
		return 0;
	return vault_lmdb_error(rc, "adding tables to the vault", err);
}

/* A fresh vault key, wrapped under kek into the reserved row. */
static int
wrap_new_key(
    struct vault *v, MDB_txn *txn, const uint8_t *kek, struct sira_err *err)
{
	uint8_t wrapped[WRAP_LEN];
	MDB_val k = { sizeof(WRAP_NAME) - 1, (void *)(uintptr_t)WRAP_NAME };
	MDB_val d = { sizeof(wrapped), wrapped };
	int rc;

	crypto_aead_xchacha20poly1305_ietf_keygen(v->key);
	randombytes_buf(wrapped, crypto_secretbox_NONCEBYTES);
	(void)crypto_secretbox_easy(wrapped + crypto_secretbox_NONCEBYTES,
	    v->key, KEY_LEN, wrapped, kek);
	if ((rc = mdb_put(txn, v->dbi[VT_META], &k, &d, 0)) != 0)
		return vault_lmdb_error(rc, "storing the vault key", err);
	return 0;
}

static int
unwrap_key(
    struct vault *v, const MDB_val *d, const uint8_t *kek, struct sira_err *err)
{
	const uint8_t *w = d->mv_data;

	if (d->mv_size != WRAP_LEN ||
	    crypto_secretbox_open_easy(v->key, w + crypto_secretbox_NONCEBYTES,
		WRAP_LEN - crypto_secretbox_NONCEBYTES, w, kek) != 0)
		return sira_err_set(
		    err, SIRA_EAUTH, _("this vault belongs to another key"));
	return 0;
}

/*
 * Open the tables and make or unwrap the vault key, in one write
 * transaction: a new vault appears whole or not at all. An existing vault
 * is not written to here (a full one still opens): the late tables it may
 * lack are added afterwards by add_late_tables.
 */
static int
load_key(struct vault *v, const struct sira_keys *keys, struct sira_err *err)
{
	MDB_val k = { sizeof(WRAP_NAME) - 1, (void *)(uintptr_t)WRAP_NAME }, d;
	uint8_t kek[KEY_LEN];
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(v->env, NULL, 0, &txn)) != 0)
		return vault_lmdb_error(rc, "opening the vault", err);
	derive_kek(keys, kek);
	if ((rc = open_tables(v, txn, 0, VT_LATE, MDB_CREATE, err)) != 0)
		goto fail;
	if ((rc = mdb_get(txn, v->dbi[VT_META], &k, &d)) == MDB_NOTFOUND) {
		if ((rc = open_tables(
			 v, txn, VT_LATE, VT_COUNT, MDB_CREATE, err)) == 0)
			rc = wrap_new_key(v, txn, kek, err);
	} else if (rc == 0) {
		if ((rc = unwrap_key(v, &d, kek, err)) == 0)
			rc = open_tables(v, txn, VT_LATE, VT_COUNT, 0, err);
	} else
		rc = vault_lmdb_error(rc, "reading the vault key", err);
	if (rc != 0)
		goto fail;
	sodium_memzero(kek, sizeof(kek));
	if ((rc = mdb_txn_commit(txn)) != 0)
		return vault_lmdb_error(rc, "creating the vault", err);
	(void)sodium_mprotect_readonly(v->key);
	return 0;
fail:
	sodium_memzero(kek, sizeof(kek));
	mdb_txn_abort(txn);
	return rc;
}

int
vault_env_open(struct vault *v, struct sira_err *err)
{
	int rc;

	if ((rc = mdb_env_create(&v->env)) != 0) {
		v->env = NULL;
		return vault_lmdb_error(rc, v->dir, err);
	}
	if ((rc = mdb_env_set_maxdbs(v->env, VT_COUNT + 1)) != 0 ||
	    (rc = mdb_env_set_mapsize(v->env, (size_t)v->mapsize)) != 0 ||
	    (rc = mdb_env_open(v->env, v->dir, 0, 0600)) != 0)
		return vault_lmdb_error(rc, v->dir, err);
	return 0;
}

int
vault_lock_shared(struct vault *v, struct sira_err *err)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/compact.lock", v->dir) >=
	    (int)sizeof(path))
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	if ((v->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		 0600)) == -1 ||
	    flock(v->lockfd, LOCK_SH) == -1)
		return sira_err_set(err, SIRA_EIO, _("cannot lock %s: %s"),
		    path, strerror(errno));
	return 0;
}

int
vault_open(const char *dir, const struct sira_keys *keys, uint64_t mapsize,
    struct vault **out, struct sira_err *err)
{
	struct vault *v;
	int rc;

	*out = NULL;
	if ((rc = make_dir(dir, err)) != 0)
		return rc;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->key = sodium_malloc(KEY_LEN)) == NULL) {
		free(v);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	v->lockfd = -1;
	v->mapsize = mapsize;
	if (snprintf(v->dir, sizeof(v->dir), "%s", dir) >= (int)sizeof(v->dir))
		rc = sira_err_set(err, SIRA_EINVAL, _("path too long"));
	else if ((rc = vault_lock_shared(v, err)) == 0 &&
	    (rc = vault_env_open(v, err)) == 0 &&
	    (rc = load_key(v, keys, err)) == 0)
		rc = add_late_tables(v, err);
	if (rc != 0) {
		vault_close(&v);
		return rc;
	}
	*out = v;
	return 0;
}

void
vault_close(struct vault **vp)
{
	if (vp == NULL || *vp == NULL)
		return;
	if ((*vp)->env != NULL)
		mdb_env_close((*vp)->env);
	if ((*vp)->lockfd != -1)
		(void)close((*vp)->lockfd); /* releases the lock */
	sodium_free((*vp)->key); /* makes it writable and wipes it first */
	free(*vp);
	*vp = NULL;
}

int
vault_begin(
    struct vault *v, bool write, struct vault_txn **t, struct sira_err *err)
{
	struct vault_txn *n;
	int rc;

	*t = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = mdb_txn_begin(
		 v->env, NULL, write ? 0 : MDB_RDONLY, &n->txn)) != 0) {
		free(n);
		return vault_lmdb_error(
		    rc, "beginning a vault transaction", err);
	}
	n->v = v;
	n->write = write;
	*t = n;
	return 0;
}

int
vault_begin_child(
    struct vault_txn *parent, struct vault_txn **t, struct sira_err *err)
{
	struct vault_txn *n;
	int rc;

	*t = NULL;
	if ((rc = txn_usable(parent, err)) != 0)
		return rc;
	if (!parent->write)
		return sira_err_set(
		    err, SIRA_EINVAL, _("a child of a read-only transaction"));
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = mdb_txn_begin(parent->v->env, parent->txn, 0, &n->txn)) !=
	    0) {
		free(n);
		return vault_lmdb_error(
		    rc, "beginning a nested transaction", err);
	}
	n->v = parent->v;
	n->write = true;
	*t = n;
	return 0;
}

int
vault_commit(struct vault_txn **tp, struct sira_err *err)
{
	struct vault_txn *t;
	int rc = 0;

	if (tp == NULL || *tp == NULL)
		return sira_err_set(err, SIRA_EINVAL, _("no transaction"));
	t = *tp;
	*tp = NULL;
	if (t->failed == -SIRA_EQUOTA) {
		mdb_txn_abort(t->txn);
		rc = sira_err_set(err, SIRA_EQUOTA,
		    _("the agent's storage is full: nothing was written; free "
		      "disk space and try again"));
	} else if (t->failed != 0) {
		mdb_txn_abort(t->txn);
		rc = sira_err_set(err, -t->failed,
		    _("an operation in this transaction failed: nothing was written"));
	} else if ((rc = mdb_txn_commit(t->txn)) != 0) {
		/* mdb_txn_commit frees the transaction even when it fails. */
		rc = vault_lmdb_error(
		    full_or(t->v->env, rc), "committing the vault", err);
	}
	free(t);
	return rc;
}

void
vault_abort(struct vault_txn **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	mdb_txn_abort((*tp)->txn);
	free(*tp);
	*tp = NULL;
}

static int
put_row(struct vault_txn *t, enum vault_table table, struct bytes key,
    const uint8_t *val, size_t vlen, struct sira_err *err)
{
	uint8_t ad[1 + VKEY_MAX], *p;
	MDB_val k = mdb_key(key), d;
	size_t adlen;
	int rc;

	if ((rc = check_key(table, key, err)) != 0)
		return rc;
	if (!t->write)
		return sira_err_set(err, SIRA_EINVAL,
		    _("vault_put in a read-only transaction"));
	if (vlen > VAULT_VALUE_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("a vault value is at most %u bytes, not %zu"),
		    VAULT_VALUE_MAX, vlen);
	if (!t->v->have[table])
		return sira_err_set(err, SIRA_EQUOTA,
		    _("the agent's storage is full (the %s table could not be added): free disk space and open the agency again"),
		    vault_table_names[table]);
	d.mv_size = SEAL_OVERHEAD + vlen;
	d.mv_data = NULL;
	if ((rc = mdb_put(t->txn, t->v->dbi[table], &k, &d, MDB_RESERVE)) != 0)
		return vault_lmdb_error(rc, vault_table_names[table], err);
	p = d.mv_data;
	adlen = make_ad(ad, table, key);
	randombytes_buf(p, NONCE_LEN);
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(
	    p + NONCE_LEN, NULL, val, vlen, ad, adlen, NULL, p, t->v->key);
	return 0;
}

int
vault_put(struct vault_txn *t, enum vault_table table, struct bytes key,
    const void *val, size_t vlen, struct sira_err *err)
{
	static const uint8_t empty[1];
	int rc;

	if ((rc = txn_usable(t, err)) != 0)
		return rc;
	if (val == NULL && vlen == 0)
		val = empty;
	if (val == NULL)
		rc = sira_err_set(err, SIRA_EINVAL, _("no value"));
	else
		rc = put_row(t, table, key, val, vlen, err);
	return rc != 0 ? txn_fail(t, rc) : 0;
}

/* Check and decrypt the stored row s into a fresh *out. */
static int
open_row(const struct vault *v, const struct stored *s, uint8_t **out,
    size_t *outlen, struct sira_err *err)
{
	enum vault_table table = s->table;
	const MDB_val *d = s->d;
	uint8_t ad[1 + VKEY_MAX], *buf;
	const uint8_t *c = d->mv_data;
	size_t adlen, len;

	if (d->mv_size < SEAL_OVERHEAD)
		return sira_err_set(err, SIRA_EAUTH,
		    _("a value in %s is cut short"), vault_table_names[table]);
	len = d->mv_size - SEAL_OVERHEAD;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	adlen = make_ad(ad, table, s->key);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, NULL, NULL,
		c + NONCE_LEN, d->mv_size - NONCE_LEN, ad, adlen, c,
		v->key) != 0) {
		free(buf); /* libsodium writes nothing when the tag fails */
		return sira_err_set(err, SIRA_EAUTH,
		    _("a value in %s was altered or moved"),
		    vault_table_names[table]);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
vault_get(struct vault_txn *t, enum vault_table table, struct bytes key,
    uint8_t **val, size_t *vlen, struct sira_err *err)
{
	MDB_val k = mdb_key(key), d;
	int rc;

	*val = NULL;
	*vlen = 0;
	if ((rc = txn_usable(t, err)) != 0 ||
	    (rc = check_key(table, key, err)) != 0)
		return rc;
	if (!t->v->have[table] ||
	    (rc = mdb_get(t->txn, t->v->dbi[table], &k, &d)) == MDB_NOTFOUND)
		return sira_err_set(err, SIRA_ENOTFOUND, _("no such row in %s"),
		    vault_table_names[table]);
	if (rc != 0)
		return txn_fail(
		    t, vault_lmdb_error(rc, vault_table_names[table], err));
	return open_row(
	    t->v, &(struct stored){ table, key, &d }, val, vlen, err);
}

int
vault_del(struct vault_txn *t, enum vault_table table, struct bytes key,
    struct sira_err *err)
{
	MDB_val k = mdb_key(key);
	int rc;

	if ((rc = txn_usable(t, err)) != 0)
		return rc;
	if ((rc = check_key(table, key, err)) != 0)
		return txn_fail(t, rc);
	if (!t->write)
		return txn_fail(t,
		    sira_err_set(err, SIRA_EINVAL,
			_("vault_del in a read-only transaction")));
	if (!t->v->have[table] ||
	    (rc = mdb_del(t->txn, t->v->dbi[table], &k, NULL)) == MDB_NOTFOUND)
		return sira_err_set(err, SIRA_ENOTFOUND, _("no such row in %s"),
		    vault_table_names[table]);
	if (rc != 0)
		return txn_fail(
		    t, vault_lmdb_error(rc, vault_table_names[table], err));
	return 0;
}

int
vault_scrub(struct vault_txn *t, enum vault_table table, struct bytes key,
    struct sira_err *err)
{
	MDB_val k = mdb_key(key), d;
	int rc;

	if ((rc = txn_usable(t, err)) != 0)
		return rc;
	if ((rc = check_key(table, key, err)) != 0 || !t->write)
		return txn_fail(t,
		    rc != 0 ? rc :
			      sira_err_set(err, SIRA_EINVAL,
				  _("vault_scrub in a read-only transaction")));
	if (!t->v->have[table] ||
	    (rc = mdb_get(t->txn, t->v->dbi[table], &k, &d)) == MDB_NOTFOUND)
		return sira_err_set(err, SIRA_ENOTFOUND, _("no such row in %s"),
		    vault_table_names[table]);
	/* Same size: LMDB hands back the row's own bytes in the page it is
	 * about to write, which we zero before the delete. */
	d.mv_data = NULL;
	if (rc == 0)
		rc = mdb_put(t->txn, t->v->dbi[table], &k, &d, MDB_RESERVE);
	if (rc == 0) {
		memset(d.mv_data, 0, d.mv_size);
		rc = mdb_del(t->txn, t->v->dbi[table], &k, NULL);
	}
	if (rc != 0)
		return txn_fail(
		    t, vault_lmdb_error(rc, vault_table_names[table], err));
	return 0;
}

/* One row of vault_each: 0 to go on, 1 to stop, or a negative code. */
static int
each_row(const struct vault_txn *t, const struct stored *s,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
	size_t vlen),
    void *ctx, struct sira_err *err)
{
	uint8_t *val = NULL;
	size_t vlen = 0;
	int rc;

	if (is_wrap_row(s->table, s->key))
		return 0;
	if ((rc = open_row(t->v, s, &val, &vlen, err)) != 0)
		return rc;
	rc = fn(ctx, s->key.p, s->key.len, val, vlen);
	vault_free(val, vlen);
	return rc > 0 ? 1 : rc;
}

int
vault_each(struct vault_txn *t, enum vault_table table,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
	size_t vlen),
    void *ctx, struct sira_err *err)
{
	MDB_cursor_op op = MDB_FIRST;
	MDB_cursor *c;
	MDB_val k, d;
	int rc, mrc;

	if ((rc = txn_usable(t, err)) != 0)
		return rc;
	if ((unsigned)table >= VT_COUNT)
		return sira_err_set(err, SIRA_EINVAL, _("no such vault table"));
	if (!t->v->have[table])
		return 0;
	if ((mrc = mdb_cursor_open(t->txn, t->v->dbi[table], &c)) != 0)
		return txn_fail(
		    t, vault_lmdb_error(mrc, vault_table_names[table], err));
	while (rc == 0 && (mrc = mdb_cursor_get(c, &k, &d, op)) == 0) {
		op = MDB_NEXT;
		rc = each_row(
		    t, &(struct stored){ table, key_of(&k), &d }, fn, ctx, err);
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		return txn_fail(
		    t, vault_lmdb_error(mrc, vault_table_names[table], err));
	return rc > 0 ? 0 : rc;
}

int
vault_keys(struct vault_txn *t, enum vault_table table, struct bytes from,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen), void *ctx,
    struct sira_err *err)
{
	size_t flen = from.len;
	MDB_cursor_op op = MDB_FIRST;
	MDB_cursor *c;
	MDB_val k = { 0, NULL }, d;
	int rc, mrc;

	if ((rc = txn_usable(t, err)) != 0)
		return rc;
	if ((unsigned)table >= VT_COUNT || flen > VKEY_MAX ||
	    (from.p == NULL && flen != 0))
		return sira_err_set(err, SIRA_EINVAL, _("bad key range"));
	if (!t->v->have[table])
		return 0;
	if ((mrc = mdb_cursor_open(t->txn, t->v->dbi[table], &c)) != 0)
		return txn_fail(
		    t, vault_lmdb_error(mrc, vault_table_names[table], err));
	if (flen > 0) {
		k = mdb_key(from);
		op = MDB_SET_RANGE;
	}
	while (rc == 0 && (mrc = mdb_cursor_get(c, &k, &d, op)) == 0) {
		op = MDB_NEXT;
		if (!is_wrap_row(table, key_of(&k)))
			rc = fn(ctx, k.mv_data, k.mv_size);
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		return txn_fail(
		    t, vault_lmdb_error(mrc, vault_table_names[table], err));
	return rc > 0 ? 0 : rc;
}

void
vault_blind(
    struct vault_txn *t, const char *purpose, const char *name, uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t sub[KEY_LEN];
	uint8_t zero = 0;

	/* sub = BLAKE2b(key = vault key, "sira-v1/vault-blind"): the vault
	 * key itself never keys anything but values. */
	(void)crypto_generichash(sub, sizeof(sub), (const uint8_t *)BLIND_DS,
	    sizeof(BLIND_DS) - 1, t->v->key, KEY_LEN);
	(void)crypto_generichash_init(&st, sub, sizeof(sub), 32);
	(void)crypto_generichash_update(
	    &st, (const uint8_t *)purpose, strlen(purpose));
	(void)crypto_generichash_update(&st, &zero, 1);
	(void)crypto_generichash_update(
	    &st, (const uint8_t *)name, strlen(name));
	(void)crypto_generichash_final(&st, out, 32);
	sodium_memzero(sub, sizeof(sub));
	sodium_memzero(&st, sizeof(st));
}

void
vault_free(uint8_t *val, size_t vlen)
{
	if (val == NULL)
		return;
	sodium_memzero(val, vlen);
	free(val);
}

int
vault_counter_get(struct vault_txn *t, const char *name, uint64_t *v)
{
	uint8_t *buf;
	size_t len;
	int rc;

	*v = 0;
	if (name == NULL)
		return -SIRA_EINVAL;
	rc = vault_get(
	    t, VT_META, bytes_of(name, strlen(name)), &buf, &len, NULL);
	if (rc == -SIRA_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (len == 8)
		*v = be64_get(buf);
	else
		rc = -SIRA_EMALFORMED;
	vault_free(buf, len);
	return rc;
}

int
vault_counter_put(
    struct vault_txn *t, const char *name, uint64_t v, struct sira_err *err)
{
	uint8_t buf[8];

	if (name == NULL)
		return txn_fail(
		    t, sira_err_set(err, SIRA_EINVAL, _("no counter name")));
	be64_put(buf, v);
	return vault_put(
	    t, VT_META, bytes_of(name, strlen(name)), buf, sizeof(buf), err);
}
