/*
 * test_agent_vault.c: agents/store/vault.c on real LMDB environments in fresh
 * mkdtemp() directories: round trips in every table, reopening with the
 * same and with other keys, values moved or altered on disk, the S1 check
 * of the design note (no marker, key or vault key in any file of the
 * vault), abort and sticky errors, a full map that loses nothing committed,
 * the key and value limits, vault_each and the counters.
 *
 * The on-disk format is re-implemented here from the top comment of
 * vault.c (KEK = BLAKE2b-256 keyed with the Ed25519 seed over
 * "sira-v1/vault-kek"; "vault.key" in "meta" = nonce || secretbox(vault
 * key); values nonce || XChaCha20-Poly1305(val), AD = table byte || key),
 * and raw rows are read and written through a second LMDB handle opened on
 * the same directory after the vault is closed. Tests assert exact codes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "keyfile.h"
#include "sign.h"
#include "store/store.h"

#define MARKER "MARKER-Aminata-Traore-0042"
#define MAP_SMALL (16U << 20)
#define MAP_TINY (128U << 10) /* 32 pages: 35 rows of 1000 bytes */
#define MAP_MIN (20U << 10)   /* 5 pages: the least a new vault needs */
#define SEAL_OVERHEAD 40
#define WRAP_LEN 72

static const char *const spec_tables[VT_COUNT] = { "outbox", "inbox", "seen",
	"certs", "prekeys", "peerkeys", "audit", "meta", "cases", "outq",
	"users", "reports", "casekeys" };

struct fx {
	char dir[64];   /* mkdtemp() */
	char vdir[128]; /* dir/vault, made by vault_open */
	struct sira_keys *keys, *other;
};

/* ---- fixture ---- */

/* Remove every entry of dir (plain files: a vault has no subdirectories). */
static void
rm_dir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

static struct sira_keys *
make_keys(const char *id)
{
	struct sira_keys *k = keys_new();

	assert_non_null(k);
	(void)snprintf(k->agency_id, sizeof(k->agency_id), "%s", id);
	sign_keygen(k->sign_pk, k->sign_sk);
	return k;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-vault-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->vdir, sizeof(fx->vdir), "%s/vault", fx->dir);
	fx->keys = make_keys("ml.ngo.shelter");
	fx->other = make_keys("ml.police.bamako");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	rm_dir(fx->vdir);
	rm_dir(fx->dir);
	keys_destroy(&fx->keys);
	keys_destroy(&fx->other);
	free(fx);
	return 0;
}

/* ---- vault helpers ---- */

static struct vault *
open_ok(const struct fx *fx, uint64_t mapsize)
{
	struct sira_err err = { 0 };
	struct vault *v = NULL;

	assert_int_equal(vault_open(fx->vdir, fx->keys, mapsize, &v, &err), 0);
	assert_non_null(v);
	return v;
}

static struct vault_txn *
begin_ok(struct vault *v, bool write)
{
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(v, write, &t, NULL), 0);
	assert_non_null(t);
	return t;
}

static void
commit_ok(struct vault_txn **t)
{
	struct sira_err err = { 0 };

	assert_int_equal(vault_commit(t, &err), 0);
	assert_null(*t);
}

static void
put_str(struct vault_txn *t, enum vault_table table, const char *key,
    const char *val)
{
	assert_int_equal(vault_put(t, table, bytes_of(key, strlen(key)), val,
			     strlen(val), NULL),
	    0);
}

/* One put in its own committed transaction. */
static void
put1(struct vault *v, enum vault_table table, const char *key, const void *val,
    size_t vlen)
{
	struct vault_txn *t = begin_ok(v, true);

	assert_int_equal(
	    vault_put(t, table, bytes_of(key, strlen(key)), val, vlen, NULL),
	    0);
	commit_ok(&t);
}

/* Get key from table in t and compare with val[0..vlen). */
static void
expect_in(struct vault_txn *t, enum vault_table table, const char *key,
    const void *val, size_t vlen)
{
	uint8_t *got = NULL;
	size_t len = 0;

	assert_int_equal(
	    vault_get(t, table, bytes_of(key, strlen(key)), &got, &len, NULL),
	    0);
	assert_non_null(got);
	assert_int_equal(len, vlen);
	if (vlen > 0)
		assert_memory_equal(got, val, vlen);
	vault_free(got, len);
}

static void
expect_row(struct vault *v, enum vault_table table, const char *key,
    const void *val, size_t vlen)
{
	struct vault_txn *t = begin_ok(v, false);

	expect_in(t, table, key, val, vlen);
	vault_abort(&t);
}

/* vault_get's code for key in table, in a fresh read transaction. */
static int
get_rc(struct vault *v, enum vault_table table, const char *key)
{
	struct vault_txn *t = begin_ok(v, false);
	struct sira_err err = { 0 };
	uint8_t *got = (uint8_t *)1;
	size_t len = 1;
	int rc;

	rc = vault_get(t, table, bytes_of(key, strlen(key)), &got, &len, &err);
	if (rc != 0) {
		assert_null(got);
		assert_int_equal(len, 0);
		assert_int_equal(err.code, -rc);
	} else {
		vault_free(got, len);
	}
	vault_abort(&t);
	return rc;
}

/* Reopen fx's vault (closed) and return get_rc. */
static int
reopen_get_rc(const struct fx *fx, enum vault_table table, const char *key)
{
	struct vault *v = open_ok(fx, MAP_SMALL);
	int rc = get_rc(v, table, key);

	vault_close(&v);
	return rc;
}

/* ---- raw LMDB: the attacker's (and the specification's) view ---- */

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi[VT_COUNT];
};

static void
raw_begin(const struct fx *fx, struct raw *r)
{
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, VT_COUNT + 1), 0);
	assert_int_equal(mdb_env_open(r->env, fx->vdir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
	for (int i = 0; i < VT_COUNT; i++)
		assert_int_equal(
		    mdb_dbi_open(r->txn, spec_tables[i], 0, &r->dbi[i]), 0);
}

static void
raw_end(struct raw *r, bool commit)
{
	if (commit)
		assert_int_equal(mdb_txn_commit(r->txn), 0);
	else
		mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
}

/* A malloc'd copy of the raw bytes at (table, key). */
static uint8_t *
raw_get(struct raw *r, enum vault_table table, const char *key, size_t *len)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, d;
	uint8_t *p;

	assert_int_equal(mdb_get(r->txn, r->dbi[table], &k, &d), 0);
	p = malloc(d.mv_size + 1);
	assert_non_null(p);
	memcpy(p, d.mv_data, d.mv_size);
	*len = d.mv_size;
	return p;
}

static void
raw_put(struct raw *r, enum vault_table table, const char *key,
    const uint8_t *val, size_t len)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	MDB_val d = { len, (void *)(uintptr_t)val };

	assert_int_equal(mdb_put(r->txn, r->dbi[table], &k, &d, 0), 0);
}

/* Replace the raw value at (table, key) in a closed vault. */
static void
raw_replace(const struct fx *fx, enum vault_table table, const char *key,
    const uint8_t *val, size_t len)
{
	struct raw r;

	raw_begin(fx, &r);
	raw_put(&r, table, key, val, len);
	raw_end(&r, true);
}

/* The vault key of fx's closed vault, unwrapped as the spec says. */
static void
spec_vault_key(const struct fx *fx, const struct sira_keys *keys,
    uint8_t vkey[static 32], uint8_t kek[static 32])
{
	static const char ds[] = "sira-v1/vault-kek";
	uint8_t *w;
	size_t len;
	struct raw r;

	assert_int_equal(crypto_generichash(kek, 32, (const uint8_t *)ds,
			     sizeof(ds) - 1, keys->sign_sk, 32),
	    0);
	raw_begin(fx, &r);
	w = raw_get(&r, VT_META, "vault.key", &len);
	raw_end(&r, false);
	assert_int_equal(len, WRAP_LEN);
	assert_int_equal(
	    crypto_secretbox_open_easy(vkey, w + 24, WRAP_LEN - 24, w, kek), 0);
	free(w);
}

/* Open a raw stored value as the spec says; returns libsodium's code. */
static int
spec_open(const uint8_t vkey[static 32], enum vault_table table,
    const char *key, const uint8_t *stored, size_t slen, uint8_t *out)
{
	uint8_t ad[512];
	size_t klen = strlen(key);

	assert_true(slen >= SEAL_OVERHEAD && klen < sizeof(ad));
	ad[0] = (uint8_t)table;
	memcpy(ad + 1, key, klen);
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    stored + 24, slen - 24, ad, 1 + klen, stored, vkey);
}

/* ---- scanning files ---- */

static bool
contains(const uint8_t *hay, size_t hlen, const void *needle, size_t nlen)
{
	for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

static uint8_t *
read_all(const char *path, size_t *len)
{
	uint8_t *buf = NULL, *p;
	size_t cap = 0, n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd != -1);
	do {
		if (n == cap) {
			cap = cap == 0 ? 65536 : 2 * cap;
			assert_non_null(p = realloc(buf, cap));
			buf = p;
		}
		got = read(fd, buf + n, cap - n);
		assert_true(got >= 0);
		n += (size_t)got;
	} while (got > 0);
	close(fd);
	*len = n;
	return buf;
}

/* Does needle occur in any file of dir? Counts the files in *nfiles. */
static bool
dir_contains(const char *dir, const void *needle, size_t nlen, int *nfiles)
{
	char path[512];
	struct dirent *e;
	bool found = false;
	uint8_t *buf;
	size_t len;
	DIR *d = opendir(dir);

	assert_non_null(d);
	*nfiles = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		assert_true(snprintf(path, sizeof(path), "%s/%s", dir,
				e->d_name) < (int)sizeof(path));
		buf = read_all(path, &len);
		found = found || contains(buf, len, needle, nlen);
		free(buf);
		(*nfiles)++;
	}
	closedir(d);
	return found;
}

static void
assert_absent(const struct fx *fx, const void *needle, size_t nlen)
{
	int nfiles;

	assert_false(dir_contains(fx->vdir, needle, nlen, &nfiles));
	assert_int_equal(nfiles, 3); /* data.mdb, lock.mdb, compact.lock */
}

/* ---- vault_each collectors ---- */

struct rows {
	char keys[64][32]; /* the first 64 */
	size_t n;
	size_t stop_after; /* return 1 after this many rows; 0: never */
	int fail_with;     /* return this at stop_after instead of 1 */
};

static int
collect(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct rows *r = ctx;

	(void)val;
	(void)vlen;
	assert_true(klen < 32);
	if (r->n < 64) {
		memcpy(r->keys[r->n], key, klen);
		r->keys[r->n][klen] = '\0';
	}
	r->n++;
	if (r->stop_after != 0 && r->n == r->stop_after)
		return r->fail_with != 0 ? r->fail_with : 1;
	return 0;
}

static size_t
count_rows(struct vault *v, enum vault_table table)
{
	struct vault_txn *t = begin_ok(v, false);
	struct rows r = { .n = 0 };

	assert_int_equal(vault_each(t, table, collect, &r, NULL), 0);
	vault_abort(&t);
	return r.n;
}

/* ---- tests ---- */

static void
test_round_trip_every_table(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	uint8_t big[20000];

	randombytes_buf(big, sizeof(big));
	for (int i = 0; i < VT_COUNT; i++) {
		put_str(t, (enum vault_table)i, "row-a", spec_tables[i]);
		assert_int_equal(
		    vault_put(t, (enum vault_table)i, bytes_of("row-b", 5), big,
			sizeof(big), NULL),
		    0);
		assert_int_equal(vault_put(t, (enum vault_table)i,
				     bytes_of("row-c", 5), NULL, 0, NULL),
		    0);
		/* Visible inside the writing transaction already. */
		expect_in(t, (enum vault_table)i, "row-a", spec_tables[i],
		    strlen(spec_tables[i]));
	}
	commit_ok(&t);
	for (int i = 0; i < VT_COUNT; i++) {
		expect_row(v, (enum vault_table)i, "row-a", spec_tables[i],
		    strlen(spec_tables[i]));
		expect_row(v, (enum vault_table)i, "row-b", big, sizeof(big));
		expect_row(v, (enum vault_table)i, "row-c", "", 0);
		assert_int_equal(count_rows(v, (enum vault_table)i), 3);
		assert_int_equal(
		    get_rc(v, (enum vault_table)i, "row-d"), -SIRA_ENOTFOUND);
	}
	/* An overwrite replaces the value. */
	put1(v, VT_INBOX, "row-a", "second", 6);
	expect_row(v, VT_INBOX, "row-a", "second", 6);
	vault_close(&v);
	assert_null(v);
	vault_close(&v);
	vault_close(NULL);
}

static void
test_reopen_same_keys(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	uint64_t n;

	for (int i = 0; i < VT_COUNT; i++)
		put_str(t, (enum vault_table)i, "msg-0001", spec_tables[i]);
	assert_int_equal(vault_counter_put(t, "next_seq", 42, NULL), 0);
	commit_ok(&t);
	vault_close(&v);
	for (int round = 0; round < 2; round++) {
		v = open_ok(fx, MAP_SMALL);
		for (int i = 0; i < VT_COUNT; i++)
			expect_row(v, (enum vault_table)i, "msg-0001",
			    spec_tables[i], strlen(spec_tables[i]));
		t = begin_ok(v, false);
		assert_int_equal(vault_counter_get(t, "next_seq", &n), 0);
		assert_int_equal(n, 42);
		vault_abort(&t);
		vault_close(&v);
	}
}

/* vault_blind: stable for one vault (across reopening), different for
 * another name, another purpose, or another agency's vault. */
static void
test_blind(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL), *w = NULL;
	struct vault_txn *t = begin_ok(v, false);
	uint8_t a[32], b[32], c[32], d[32], e[32];
	char dir[64] = "/tmp/sira-blind.XXXXXX", vdir[128];

	vault_blind(t, "case", "MRN-2026-0042", a);
	vault_blind(t, "case", "MRN-2026-0043", b);
	vault_blind(t, "note", "MRN-2026-0042", c);
	vault_abort(&t);
	vault_close(&v);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	v = open_ok(fx, MAP_SMALL);
	t = begin_ok(v, false);
	vault_blind(t, "case", "MRN-2026-0042", d);
	vault_abort(&t);
	vault_close(&v);
	assert_memory_equal(a, d, 32);
	assert_non_null(mkdtemp(dir));
	(void)snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	assert_int_equal(vault_open(vdir, fx->other, MAP_SMALL, &w, NULL), 0);
	t = begin_ok(w, false);
	vault_blind(t, "case", "MRN-2026-0042", e);
	vault_abort(&t);
	vault_close(&w);
	assert_memory_not_equal(a, e, 32);
	(void)unlink(strcat(vdir, "/data.mdb"));
	vdir[strlen(vdir) - 9] = '\0';
	(void)unlink(strcat(vdir, "/lock.mdb"));
	vdir[strlen(vdir) - 9] = '\0';
	(void)rmdir(vdir);
	(void)rmdir(dir);
}

static void
test_reopen_other_keys(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct sira_err err = { 0 };

	put1(v, VT_INBOX, "msg-0001", MARKER, strlen(MARKER));
	vault_close(&v);
	v = (struct vault *)1;
	assert_int_equal(
	    vault_open(fx->vdir, fx->other, MAP_SMALL, &v, &err), -SIRA_EAUTH);
	assert_int_equal(err.code, SIRA_EAUTH);
	assert_null(v);
	/* Another agency's keys with our public key but not our seed. */
	memcpy(fx->other->sign_pk, fx->keys->sign_pk, SIRA_SIGN_PK_LEN);
	memcpy(fx->other->sign_sk + 32, fx->keys->sign_sk + 32, 32);
	assert_int_equal(
	    vault_open(fx->vdir, fx->other, MAP_SMALL, &v, NULL), -SIRA_EAUTH);
	/* The failed opens changed nothing. */
	v = open_ok(fx, MAP_SMALL);
	expect_row(v, VT_INBOX, "msg-0001", MARKER, strlen(MARKER));
	vault_close(&v);
}

static void
test_format_matches_spec(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	uint8_t vkey[32], kek[32], out[64], *a, *b;
	size_t alen, blen;
	struct raw r;

	put1(v, VT_OUTBOX, "local-1", MARKER, strlen(MARKER));
	put1(v, VT_INBOX, "local-1", MARKER, strlen(MARKER));
	vault_close(&v);
	spec_vault_key(fx, fx->keys, vkey, kek);
	raw_begin(fx, &r);
	a = raw_get(&r, VT_OUTBOX, "local-1", &alen);
	b = raw_get(&r, VT_INBOX, "local-1", &blen);
	raw_end(&r, false);
	assert_int_equal(alen, strlen(MARKER) + SEAL_OVERHEAD);
	assert_int_equal(blen, alen);
	assert_int_equal(
	    spec_open(vkey, VT_OUTBOX, "local-1", a, alen, out), 0);
	assert_memory_equal(out, MARKER, strlen(MARKER));
	assert_int_equal(spec_open(vkey, VT_INBOX, "local-1", b, blen, out), 0);
	/* Same plaintext, different nonces and ciphertexts. */
	assert_memory_not_equal(a, b, 24);
	assert_memory_not_equal(a + 24, b + 24, alen - 24);
	free(a);
	free(b);
	sodium_memzero(vkey, sizeof(vkey));
}

/* Copy the raw value of (from_t, from_k) over (to_t, to_k). */
static void
move_raw(const struct fx *fx, enum vault_table from_t, const char *from_k,
    enum vault_table to_t, const char *to_k)
{
	struct raw r;
	uint8_t *p;
	size_t len;

	raw_begin(fx, &r);
	p = raw_get(&r, from_t, from_k, &len);
	raw_put(&r, to_t, to_k, p, len);
	raw_end(&r, true);
	free(p);
}

static void
test_value_moved_to_other_key(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);

	put1(v, VT_OUTBOX, "msg-a", "to the shelter", 14);
	put1(v, VT_OUTBOX, "msg-b", "to the police", 13);
	vault_close(&v);
	move_raw(fx, VT_OUTBOX, "msg-a", VT_OUTBOX, "msg-b");
	move_raw(fx, VT_OUTBOX, "msg-a", VT_OUTBOX, "msg-new");
	assert_int_equal(reopen_get_rc(fx, VT_OUTBOX, "msg-b"), -SIRA_EAUTH);
	assert_int_equal(reopen_get_rc(fx, VT_OUTBOX, "msg-new"), -SIRA_EAUTH);
	assert_int_equal(reopen_get_rc(fx, VT_OUTBOX, "msg-a"), 0);
}

static void
test_value_moved_to_other_table(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);

	put1(v, VT_OUTBOX, "msg-a", "to the shelter", 14);
	put1(v, VT_INBOX, "msg-a", "from the police", 15);
	vault_close(&v);
	for (int i = 0; i < VT_COUNT; i++)
		if (i != VT_OUTBOX)
			move_raw(fx, VT_OUTBOX, "msg-a", (enum vault_table)i,
			    "msg-a");
	for (int i = 0; i < VT_COUNT; i++)
		assert_int_equal(
		    reopen_get_rc(fx, (enum vault_table)i, "msg-a"),
		    i == VT_OUTBOX ? 0 : -SIRA_EAUTH);
}

static void
test_flipped_and_cut_values(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	uint8_t *orig, *p;
	size_t len;
	struct raw r;

	put1(v, VT_CERTS, "cert-1", "12345678", 8);
	vault_close(&v);
	raw_begin(fx, &r);
	orig = raw_get(&r, VT_CERTS, "cert-1", &len);
	raw_end(&r, false);
	assert_int_equal(len, 8 + SEAL_OVERHEAD);
	assert_non_null(p = malloc(len));
	for (size_t i = 0; i < len; i++) {
		memcpy(p, orig, len);
		p[i] ^= (uint8_t)(1U << (i % 8));
		raw_replace(fx, VT_CERTS, "cert-1", p, len);
		assert_int_equal(
		    reopen_get_rc(fx, VT_CERTS, "cert-1"), -SIRA_EAUTH);
	}
	for (size_t cut = 0; cut < len; cut++) {
		raw_replace(fx, VT_CERTS, "cert-1", orig, cut);
		assert_int_equal(
		    reopen_get_rc(fx, VT_CERTS, "cert-1"), -SIRA_EAUTH);
	}
	raw_replace(fx, VT_CERTS, "cert-1", orig, len);
	v = open_ok(fx, MAP_SMALL);
	expect_row(v, VT_CERTS, "cert-1", "12345678", 8);
	vault_close(&v);
	free(orig);
	free(p);
}

static void
test_wrapped_key_tampered(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	uint8_t *orig, p[WRAP_LEN];
	size_t len;
	struct raw r;

	vault_close(&v);
	raw_begin(fx, &r);
	orig = raw_get(&r, VT_META, "vault.key", &len);
	raw_end(&r, false);
	assert_int_equal(len, WRAP_LEN);
	for (size_t i = 0; i < len; i += 5) {
		memcpy(p, orig, len);
		p[i] ^= 0x80;
		raw_replace(fx, VT_META, "vault.key", p, len);
		assert_int_equal(
		    vault_open(fx->vdir, fx->keys, MAP_SMALL, &v, NULL),
		    -SIRA_EAUTH);
		assert_null(v);
	}
	raw_replace(fx, VT_META, "vault.key", orig, len - 1);
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, MAP_SMALL, &v, NULL), -SIRA_EAUTH);
	raw_replace(fx, VT_META, "vault.key", orig, len);
	v = open_ok(fx, MAP_SMALL);
	vault_close(&v);
	free(orig);
}

/* S1: no marker, agency key, vault key or KEK in any file of the vault. */
static void
test_s1_no_plaintext_on_disk(void **state)
{
	struct fx *fx = *state;
	static const char payload[] =
	    "referral: " MARKER ", born 2009, Sikasso; case CASE-0042";
	struct vault *v = open_ok(fx, MAP_SMALL);
	uint8_t agency_secret[32], vkey[32], kek[32], *big;
	struct vault_txn *t;
	size_t biglen = 70000;

	randombytes_buf(agency_secret, sizeof(agency_secret));
	assert_non_null(big = malloc(biglen));
	for (size_t i = 0; i < biglen; i++)
		big[i] = (uint8_t)payload[i % (sizeof(payload) - 1)];
	t = begin_ok(v, true);
	put_str(t, VT_INBOX, "msg-0001", payload);
	put_str(t, VT_OUTBOX, "local-0001", payload);
	put_str(t, VT_OUTBOX, "local-0002", payload);
	assert_int_equal(vault_put(t, VT_OUTBOX, bytes_of("local-big", 9), big,
			     biglen, NULL),
	    0);
	assert_int_equal(vault_put(t, VT_PREKEYS, bytes_of("prekey-1", 8),
			     agency_secret, sizeof(agency_secret), NULL),
	    0);
	assert_int_equal(vault_put(t, VT_PREKEYS, bytes_of("sign-sk", 7),
			     fx->keys->sign_sk, SIRA_SIGN_SK_LEN, NULL),
	    0);
	commit_ok(&t);
	/* Overwritten, deleted and aborted rows leave nothing either. */
	t = begin_ok(v, true);
	put_str(t, VT_OUTBOX, "local-0001", "sent");
	assert_int_equal(
	    vault_del(t, VT_OUTBOX, bytes_of("local-0002", 10), NULL), 0);
	commit_ok(&t);
	t = begin_ok(v, true);
	put_str(t, VT_INBOX, "msg-0002", payload);
	vault_abort(&t);
	vault_close(&v);

	assert_absent(fx, MARKER, strlen(MARKER));
	assert_absent(fx, MARKER, 8);
	assert_absent(fx, agency_secret, sizeof(agency_secret));
	assert_absent(fx, agency_secret, 8);
	assert_absent(fx, fx->keys->sign_sk, 32);
	assert_absent(fx, fx->keys->sign_sk, 8);
	spec_vault_key(fx, fx->keys, vkey, kek);
	assert_absent(fx, vkey, sizeof(vkey));
	assert_absent(fx, vkey, 8);
	assert_absent(fx, kek, sizeof(kek));
	/* The rows are really there, and readable with the key. */
	v = open_ok(fx, MAP_SMALL);
	expect_row(v, VT_INBOX, "msg-0001", payload, strlen(payload));
	expect_row(v, VT_OUTBOX, "local-big", big, biglen);
	expect_row(v, VT_PREKEYS, "prekey-1", agency_secret, 32);
	vault_close(&v);
	sodium_memzero(vkey, sizeof(vkey));
	sodium_memzero(kek, sizeof(kek));
	free(big);
}

static void
test_abort_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	uint64_t n = 1;

	for (int i = 0; i < VT_COUNT; i++)
		put_str(t, (enum vault_table)i, "msg-0001", MARKER);
	assert_int_equal(vault_counter_put(t, "next_seq", 7, NULL), 0);
	vault_abort(&t);
	assert_null(t);
	vault_abort(&t);
	vault_abort(NULL);
	for (int i = 0; i < VT_COUNT; i++) {
		assert_int_equal(get_rc(v, (enum vault_table)i, "msg-0001"),
		    -SIRA_ENOTFOUND);
		assert_int_equal(count_rows(v, (enum vault_table)i), 0);
	}
	t = begin_ok(v, false);
	assert_int_equal(vault_counter_get(t, "next_seq", &n), 0);
	assert_int_equal(n, 0);
	vault_abort(&t);
	vault_close(&v);
	v = open_ok(fx, MAP_SMALL);
	assert_int_equal(get_rc(v, VT_INBOX, "msg-0001"), -SIRA_ENOTFOUND);
	vault_close(&v);
}

/* A put fails in t after a good one; commit must write neither. */
static void
check_sticky(struct vault *v, enum vault_table table, const void *key,
    size_t klen, size_t vlen, int code)
{
	struct vault_txn *t = begin_ok(v, true);
	struct sira_err err = { 0 };
	static uint8_t val[VAULT_VALUE_MAX + 1];

	put_str(t, VT_INBOX, "good", "kept only if committed");
	assert_int_equal(
	    vault_put(t, table, bytes_of(key, klen), val, vlen, &err), code);
	assert_int_equal(err.code, -code);
	/* Everything after the failure refuses too. */
	assert_int_equal(
	    vault_put(t, VT_INBOX, bytes_of("later", 5), "x", 1, NULL), code);
	assert_int_equal(
	    vault_del(t, VT_INBOX, bytes_of("good", 4), NULL), code);
	memset(&err, 0, sizeof(err));
	assert_int_equal(vault_commit(&t, &err), code);
	assert_int_equal(err.code, -code);
	assert_null(t);
	assert_int_equal(get_rc(v, VT_INBOX, "good"), -SIRA_ENOTFOUND);
	assert_int_equal(get_rc(v, VT_INBOX, "later"), -SIRA_ENOTFOUND);
}

static void
test_key_limits(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t;
	char key[513];
	uint8_t *got = NULL;
	size_t len = 0;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	/* 511 bytes is the largest key; keys are stored in clear. */
	t = begin_ok(v, true);
	assert_int_equal(
	    vault_put(t, VT_SEEN, bytes_of(key, 511), "t", 1, NULL), 0);
	assert_int_equal(
	    vault_put(t, VT_SEEN, bytes_of(key, 1), "u", 1, NULL), 0);
	commit_ok(&t);
	t = begin_ok(v, false);
	assert_int_equal(
	    vault_get(t, VT_SEEN, bytes_of(key, 511), &got, &len, NULL), 0);
	vault_free(got, len);
	assert_int_equal(
	    vault_get(t, VT_SEEN, bytes_of(key, 512), &got, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    vault_get(t, VT_SEEN, bytes_of(key, 0), &got, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    vault_get(t, VT_META, bytes_of("vault.key", 9), &got, &len, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(
	    vault_get(t, VT_COUNT, bytes_of(key, 1), &got, &len, NULL),
	    -SIRA_EINVAL);
	/* A refused read does not poison a read transaction. */
	assert_int_equal(
	    vault_get(t, VT_SEEN, bytes_of(key, 1), &got, &len, NULL), 0);
	vault_free(got, len);
	vault_abort(&t);
	check_sticky(v, VT_SEEN, key, 512, 1, -SIRA_EINVAL);
	check_sticky(v, VT_SEEN, key, 0, 1, -SIRA_EINVAL);
	check_sticky(v, VT_META, "vault.key", 9, 1, -SIRA_EINVAL);
	check_sticky(v, VT_COUNT, key, 1, 1, -SIRA_EINVAL);
	/* Nobody can delete the wrapped vault key or overwrite it. */
	t = begin_ok(v, true);
	assert_int_equal(vault_del(t, VT_META, bytes_of("vault.key", 9), NULL),
	    -SIRA_EINVAL);
	vault_abort(&t);
	t = begin_ok(v, true);
	assert_int_equal(
	    vault_counter_put(t, "vault.key", 1, NULL), -SIRA_EINVAL);
	vault_abort(&t);
	vault_close(&v);
	v = open_ok(fx, MAP_SMALL);
	vault_close(&v);
}

static void
test_value_limits(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	uint8_t *big = malloc(VAULT_VALUE_MAX);

	assert_non_null(big);
	randombytes_buf(big, VAULT_VALUE_MAX);
	put1(v, VT_OUTBOX, "max", big, VAULT_VALUE_MAX);
	expect_row(v, VT_OUTBOX, "max", big, VAULT_VALUE_MAX);
	check_sticky(
	    v, VT_OUTBOX, "over", 4, VAULT_VALUE_MAX + 1, -SIRA_ETOOBIG);
	check_sticky(v, VT_OUTBOX, "over", 4, SIZE_MAX, -SIRA_ETOOBIG);
	vault_close(&v);
	free(big);
}

/* Commit rows of 1000 bytes, one per transaction, until the map is full. */
static size_t
fill_one_by_one(struct vault *v, const uint8_t *val)
{
	struct sira_err err = { 0 };
	struct vault_txn *t;
	char key[32];
	size_t n;
	int rc = 0;

	for (n = 0; n < 10000; n++) {
		(void)snprintf(key, sizeof(key), "row-%05zu", n);
		t = begin_ok(v, true);
		rc = vault_put(
		    t, VT_AUDIT, bytes_of(key, strlen(key)), val, 1000, &err);
		if (rc == 0)
			rc = vault_commit(&t, &err);
		else
			assert_int_equal(vault_commit(&t, NULL), rc);
		assert_null(t);
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -SIRA_EQUOTA);
	assert_int_equal(err.code, SIRA_EQUOTA);
	return n;
}

static void
test_map_full_loses_nothing(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_TINY);
	struct vault_txn *t;
	uint8_t val[1000];
	char key[32];
	size_t n, i;
	int rc = 0;

	memset(val, 'v', sizeof(val));
	n = fill_one_by_one(v, val);
	assert_true(n > 5);
	/* One big transaction that cannot fit writes nothing. */
	t = begin_ok(v, true);
	for (i = 0; i < 1000 && rc == 0; i++) {
		(void)snprintf(key, sizeof(key), "big-%05zu", i);
		rc = vault_put(
		    t, VT_INBOX, bytes_of(key, strlen(key)), val, 1000, NULL);
	}
	assert_int_equal(rc, -SIRA_EQUOTA);
	assert_int_equal(vault_commit(&t, NULL), -SIRA_EQUOTA);
	assert_int_equal(count_rows(v, VT_INBOX), 0);
	assert_int_equal(count_rows(v, VT_AUDIT), n);
	vault_close(&v);
	/* The full vault still opens, with every committed row intact. */
	v = open_ok(fx, MAP_TINY);
	assert_int_equal(count_rows(v, VT_AUDIT), n);
	for (i = 0; i < n; i++) {
		(void)snprintf(key, sizeof(key), "row-%05zu", i);
		expect_row(v, VT_AUDIT, key, val, 1000);
	}
	vault_close(&v);
	/* A larger map makes room again. */
	v = open_ok(fx, MAP_SMALL);
	put1(v, VT_AUDIT, "row-after", val, 1000);
	assert_int_equal(count_rows(v, VT_AUDIT), n + 1);
	vault_close(&v);
}

static void
test_map_too_small_to_create(void **state)
{
	struct fx *fx = *state;
	struct vault *v = (struct vault *)1;
	struct sira_err err = { 0 };
	struct vault_txn *t;

	/* A new vault needs 5 pages of map: with fewer nothing is made. */
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, MAP_MIN - 4096, &v, &err),
	    -SIRA_EQUOTA);
	assert_int_equal(err.code, SIRA_EQUOTA);
	assert_null(v);
	v = open_ok(fx, MAP_MIN);
	vault_close(&v);
	/*
	 * LMDB raises a smaller map to the size of the existing file: the
	 * vault opens, but has no room to write until the map is larger.
	 */
	v = open_ok(fx, 4096);
	assert_int_equal(count_rows(v, VT_META), 0);
	t = begin_ok(v, true);
	assert_int_equal(
	    vault_put(t, VT_META, bytes_of("name", 4), "x", 1, NULL),
	    -SIRA_EQUOTA);
	assert_int_equal(vault_commit(&t, &err), -SIRA_EQUOTA);
	vault_close(&v);
	v = open_ok(fx, MAP_SMALL);
	put1(v, VT_META, "name", "x", 1);
	expect_row(v, VT_META, "name", "x", 1);
	vault_close(&v);
}

static void
test_each_order_and_stop(void **state)
{
	struct fx *fx = *state;
	static const char *const order[] = { "c", "a", "ab", "b", "aa", "d" };
	static const char *const sorted[] = { "a", "aa", "ab", "b", "c", "d" };
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	struct sira_err err = { 0 };
	struct rows r = { .n = 0 };

	for (size_t i = 0; i < 6; i++)
		put_str(t, VT_OUTBOX, order[i], order[i]);
	put_str(t, VT_INBOX, "zz", "other table");
	commit_ok(&t);
	t = begin_ok(v, false);
	assert_int_equal(vault_each(t, VT_OUTBOX, collect, &r, &err), 0);
	assert_int_equal(r.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(r.keys[i], sorted[i]);
	memset(&r, 0, sizeof(r));
	r.stop_after = 3;
	assert_int_equal(vault_each(t, VT_OUTBOX, collect, &r, &err), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.keys[2], "ab");
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	r.fail_with = -SIRA_EDENIED;
	assert_int_equal(
	    vault_each(t, VT_OUTBOX, collect, &r, &err), -SIRA_EDENIED);
	assert_int_equal(r.n, 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(vault_each(t, VT_SEEN, collect, &r, &err), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(
	    vault_each(t, VT_COUNT, collect, &r, &err), -SIRA_EINVAL);
	vault_abort(&t);
	vault_close(&v);
}

static void
test_each_meta_and_tampered(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t;
	struct sira_err err = { 0 };
	struct rows r = { .n = 0 };

	t = begin_ok(v, true);
	assert_int_equal(vault_counter_put(t, "next_seq", 3, NULL), 0);
	put_str(t, VT_PEERKEYS, "a", "1");
	put_str(t, VT_PEERKEYS, "b", "2");
	put_str(t, VT_PEERKEYS, "c", "3");
	commit_ok(&t);
	/* The wrapped vault key is not a row callers see. */
	t = begin_ok(v, false);
	assert_int_equal(vault_each(t, VT_META, collect, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.keys[0], "next_seq");
	vault_abort(&t);
	vault_close(&v);
	move_raw(fx, VT_PEERKEYS, "a", VT_PEERKEYS, "b");
	v = open_ok(fx, MAP_SMALL);
	t = begin_ok(v, false);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vault_each(t, VT_PEERKEYS, collect, &r, &err), -SIRA_EAUTH);
	assert_int_equal(err.code, SIRA_EAUTH);
	assert_int_equal(r.n, 1); /* "a", then "b" fails */
	vault_abort(&t);
	vault_close(&v);
}

static void
test_counters(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	uint64_t n = 99;
	uint8_t *raw, plain[8], vkey[32], kek[32];
	size_t len;
	struct raw r;

	assert_int_equal(vault_counter_get(t, "absent", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(vault_counter_put(t, "seq", 1, NULL), 0);
	assert_int_equal(vault_counter_get(t, "seq", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(vault_counter_put(t, "seq", UINT64_MAX, NULL), 0);
	assert_int_equal(
	    vault_counter_put(t, "other", 0x0102030405060708U, NULL), 0);
	put_str(t, VT_META, "short", "abc");
	commit_ok(&t);
	t = begin_ok(v, false);
	assert_int_equal(vault_counter_get(t, "seq", &n), 0);
	assert_true(n == UINT64_MAX);
	assert_int_equal(vault_counter_get(t, "other", &n), 0);
	assert_true(n == 0x0102030405060708U);
	assert_int_equal(vault_counter_get(t, "short", &n), -SIRA_EMALFORMED);
	assert_int_equal(n, 0);
	vault_abort(&t);
	vault_close(&v);
	/* Stored as a sealed be64. */
	spec_vault_key(fx, fx->keys, vkey, kek);
	raw_begin(fx, &r);
	raw = raw_get(&r, VT_META, "other", &len);
	raw_end(&r, false);
	assert_int_equal(len, 8 + SEAL_OVERHEAD);
	assert_int_equal(spec_open(vkey, VT_META, "other", raw, len, plain), 0);
	assert_memory_equal(plain, "\1\2\3\4\5\6\7\10", 8);
	assert_false(contains(raw, len, "\1\2\3\4\5\6\7\10", 8));
	free(raw);
}

static void
test_delete(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t;
	struct sira_err err = { 0 };

	put1(v, VT_INBOX, "msg-1", "one", 3);
	put1(v, VT_INBOX, "msg-2", "two", 3);
	t = begin_ok(v, true);
	assert_int_equal(vault_del(t, VT_INBOX, bytes_of("msg-1", 5), &err), 0);
	/* Deleting a missing row is harmless: the transaction commits. */
	assert_int_equal(vault_del(t, VT_INBOX, bytes_of("msg-9", 5), &err),
	    -SIRA_ENOTFOUND);
	assert_int_equal(err.code, SIRA_ENOTFOUND);
	assert_int_equal(vault_del(t, VT_OUTBOX, bytes_of("msg-2", 5), &err),
	    -SIRA_ENOTFOUND);
	commit_ok(&t);
	assert_int_equal(get_rc(v, VT_INBOX, "msg-1"), -SIRA_ENOTFOUND);
	expect_row(v, VT_INBOX, "msg-2", "two", 3);
	vault_close(&v);
}

static void
test_read_only_txn(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t;

	put1(v, VT_INBOX, "msg-1", "one", 3);
	t = begin_ok(v, false);
	assert_int_equal(
	    vault_put(t, VT_INBOX, bytes_of("msg-2", 5), "x", 1, NULL),
	    -SIRA_EINVAL);
	assert_int_equal(vault_commit(&t, NULL), -SIRA_EINVAL);
	t = begin_ok(v, false);
	assert_int_equal(
	    vault_del(t, VT_INBOX, bytes_of("msg-1", 5), NULL), -SIRA_EINVAL);
	vault_abort(&t);
	t = begin_ok(v, false);
	expect_in(t, VT_INBOX, "msg-1", "one", 3);
	commit_ok(&t); /* committing a read transaction just ends it */
	assert_int_equal(vault_commit(&t, NULL), -SIRA_EINVAL);
	expect_row(v, VT_INBOX, "msg-1", "one", 3);
	vault_close(&v);
}

static void
test_dir_modes(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	char path[256];
	struct stat st;

	vault_close(&v);
	assert_int_equal(stat(fx->vdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", fx->vdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	(void)snprintf(path, sizeof(path), "%s/lock.mdb", fx->vdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A path that cannot be made is -SIRA_EIO. */
	(void)snprintf(path, sizeof(path), "%s/data.mdb/sub", fx->vdir);
	assert_int_equal(
	    vault_open(path, fx->keys, MAP_SMALL, &v, NULL), -SIRA_EIO);
	assert_null(v);
	(void)snprintf(path, sizeof(path), "%s/no/such/dir", fx->dir);
	assert_int_equal(
	    vault_open(path, fx->keys, MAP_SMALL, &v, NULL), -SIRA_EIO);
}

/* vault_keys: keys only, from a start key, in order, stoppable. */
struct keyrows {
	char keys[8][8];
	size_t n, stop_after;
};

static int
key_collect(void *ctx, const uint8_t *key, size_t klen)
{
	struct keyrows *r = ctx;

	assert_true(klen < 8 && r->n < 8);
	memcpy(r->keys[r->n], key, klen);
	r->keys[r->n++][klen] = '\0';
	return r->stop_after != 0 && r->n == r->stop_after ? 1 : 0;
}

static void
test_keys_range(void **state)
{
	struct fx *fx = *state;
	static const char *const order[] = { "c", "a", "ab", "b", "aa", "d" };
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true);
	struct keyrows r = { .n = 0 };

	for (size_t i = 0; i < 6; i++)
		put_str(t, VT_OUTQ, order[i], "");
	commit_ok(&t);
	t = begin_ok(v, false);
	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of(NULL, 0), key_collect, &r, NULL),
	    0);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.keys[0], "a");
	assert_string_equal(r.keys[5], "d");
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of("ab", 2), key_collect, &r, NULL),
	    0);
	assert_int_equal(r.n, 4); /* ab b c d */
	assert_string_equal(r.keys[0], "ab");
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of("b0", 2), key_collect, &r, NULL),
	    0);
	assert_int_equal(r.n, 2); /* c d: the first key >= "b0" */
	assert_string_equal(r.keys[0], "c");
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of("a", 1), key_collect, &r, NULL), 0);
	assert_int_equal(r.n, 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of("z", 1), key_collect, &r, NULL), 0);
	assert_int_equal(r.n, 0);
	/* The reserved key row of VT_META is never handed out. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vault_keys(t, VT_META, bytes_of(NULL, 0), key_collect, &r, NULL),
	    0);
	assert_int_equal(r.n, 0);
	assert_int_equal(
	    vault_keys(t, VT_COUNT, bytes_of(NULL, 0), key_collect, &r, NULL),
	    -SIRA_EINVAL);
	vault_abort(&t);
	vault_close(&v);
}

/* A child transaction: its writes reach the parent only if it commits. */
static void
test_child_txn(void **state)
{
	struct fx *fx = *state;
	struct vault *v = open_ok(fx, MAP_SMALL);
	struct vault_txn *t = begin_ok(v, true), *c = NULL, *ro;
	uint8_t *got = NULL;
	size_t len = 0;

	put_str(t, VT_OUTBOX, "parent", "p");
	assert_int_equal(vault_begin_child(t, &c, NULL), 0);
	put_str(c, VT_OUTBOX, "kept", "k");
	commit_ok(&c);
	assert_int_equal(vault_begin_child(t, &c, NULL), 0);
	put_str(c, VT_OUTBOX, "undone", "u");
	/* A failure inside the child is sticky for the child only. */
	assert_int_equal(vault_put(c, VT_OUTBOX, bytes_of("", 0), "x", 1, NULL),
	    -SIRA_EINVAL);
	assert_int_not_equal(vault_commit(&c, NULL), 0);
	assert_null(c);
	expect_in(t, VT_OUTBOX, "kept", "k", 1);
	assert_int_equal(
	    vault_get(t, VT_OUTBOX, bytes_of("undone", 6), &got, &len, NULL),
	    -SIRA_ENOTFOUND);
	assert_int_equal(vault_begin_child(t, &c, NULL), 0);
	put_str(c, VT_OUTBOX, "aborted", "a");
	vault_abort(&c);
	commit_ok(&t);
	t = begin_ok(v, false);
	expect_in(t, VT_OUTBOX, "parent", "p", 1);
	expect_in(t, VT_OUTBOX, "kept", "k", 1);
	assert_int_equal(
	    vault_get(t, VT_OUTBOX, bytes_of("aborted", 7), &got, &len, NULL),
	    -SIRA_ENOTFOUND);
	/* No child of a read-only transaction. */
	assert_int_equal(vault_begin_child(t, &c, NULL), -SIRA_EINVAL);
	ro = t;
	vault_abort(&ro);
	vault_close(&v);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip_every_table),
		T(test_reopen_same_keys),
		T(test_blind),
		T(test_reopen_other_keys),
		T(test_format_matches_spec),
		T(test_value_moved_to_other_key),
		T(test_value_moved_to_other_table),
		T(test_flipped_and_cut_values),
		T(test_wrapped_key_tampered),
		T(test_s1_no_plaintext_on_disk),
		T(test_abort_leaves_nothing),
		T(test_key_limits),
		T(test_value_limits),
		T(test_map_full_loses_nothing),
		T(test_map_too_small_to_create),
		T(test_each_order_and_stop),
		T(test_each_meta_and_tampered),
		T(test_counters),
		T(test_delete),
		T(test_read_only_txn),
		T(test_dir_modes),
		T(test_keys_range),
		T(test_child_txn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
