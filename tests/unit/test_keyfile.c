/*
 * test_keyfile.c: lib/keyfile.c on real files in a fresh mkdtemp()
 * directory: clear and passphrase-protected round trips, the 0600 rule,
 * symlinks, never overwriting, and files damaged or crafted field by field
 * (docs/PROTOCOL.md section 6). Argon2id runs at the INTERACTIVE level and
 * only a dozen times: the group setup writes one protected file, and the
 * tests make their variants from its bytes.
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
#include <sodium.h>

#include "cert.pb-c.h"
#include "fileio.h"
#include "keyfile.h"
#include "sign.h"
#include "wire.h"

#define PASS "Bamako-2026!" /* exactly SIRA_PASSPHRASE_MIN bytes */
#define AGENCY "ml.police.bamako"

struct blob {
	uint8_t *p;
	size_t len;
};

struct fx {
	char dir[64];
	struct sira_keys *keys; /* with a transport key */
	struct blob clear;      /* a clear key file's bytes */
	struct blob locked;     /* a protected key file's bytes */
	uint8_t other_pk[SIRA_SIGN_PK_LEN];
	uint8_t other_sk[SIRA_SIGN_SK_LEN];
	int n; /* file name counter */
};

/* ---- files ---- */

static const char *
path_of(const struct fx *f, const char *name)
{
	static char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

/* A fresh file name in the test directory. */
static const char *
fresh(struct fx *f)
{
	char name[32];

	(void)snprintf(name, sizeof(name), "k%d.key", f->n++);
	return path_of(f, name);
}

/* Write bytes to path (which must not exist) with mode, no fsync. */
static void
put(const char *path, const uint8_t *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);

	assert_true(fd >= 0);
	if (len > 0)
		assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static struct blob
slurp(const char *path)
{
	struct blob b;

	assert_int_equal(fileio_read(path, 1 << 20, &b.p, &b.len, NULL), 0);
	return b;
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
contains(const struct blob *hay, const uint8_t *needle, size_t n)
{
	for (size_t i = 0; i + n <= hay->len; i++)
		if (memcmp(hay->p + i, needle, n) == 0)
			return true;
	return false;
}

/* ---- expectations ---- */

static void
expect_open(const char *path, int want)
{
	struct keyfile *kf = NULL;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = keyfile_open(path, &kf, &err);
	assert_int_equal(rc, want);
	assert_int_equal(err.code, -want);
	if (want == 0)
		assert_non_null(kf);
	else
		assert_null(kf);
	keyfile_close(&kf);
}

/* Open path and unlock it with pass; the unlock must give want. */
static void
expect_unlock(const char *path, const char *pass, int want)
{
	struct keyfile *kf = NULL;
	struct sira_keys *k = NULL;
	struct sira_err err;
	int rc;

	assert_int_equal(keyfile_open(path, &kf, NULL), 0);
	sira_err_clear(&err);
	rc =
	    keyfile_unlock(kf, pass, pass != NULL ? strlen(pass) : 0, &k, &err);
	assert_int_equal(rc, want);
	assert_int_equal(err.code, -want);
	if (want == 0)
		assert_non_null(k);
	else
		assert_null(k);
	keys_destroy(&k);
	keyfile_close(&kf);
}

static void
assert_same_keys(const struct sira_keys *a, const struct sira_keys *b)
{
	assert_string_equal(a->agency_id, b->agency_id);
	assert_memory_equal(a->sign_pk, b->sign_pk, SIRA_SIGN_PK_LEN);
	assert_memory_equal(a->sign_sk, b->sign_sk, SIRA_SIGN_SK_LEN);
	assert_int_equal(a->has_transport, b->has_transport);
	if (a->has_transport) {
		assert_memory_equal(
		    a->transport_pk, b->transport_pk, SIRA_CURVE_KEY_LEN);
		assert_memory_equal(
		    a->transport_sk, b->transport_sk, SIRA_CURVE_KEY_LEN);
	}
}

/* ---- crafting key files ---- */

static Sira__V1__KeyFile *
kf_unpack(const struct blob *file)
{
	Sira__V1__KeyFile *m;

	assert_true(file->len > SIRA_MAGIC_LEN);
	m = sira__v1__key_file__unpack(
	    NULL, file->len - SIRA_MAGIC_LEN, file->p + SIRA_MAGIC_LEN);
	assert_non_null(m);
	return m;
}

/* m packed with the key-file magic in front. */
static struct blob
kf_pack(const Sira__V1__KeyFile *m)
{
	size_t len = protobuf_c_message_get_packed_size(&m->base);
	uint8_t *body = malloc(len > 0 ? len : 1);
	struct blob b;

	assert_non_null(body);
	assert_int_equal(protobuf_c_message_pack(&m->base, body), len);
	b.p = wire_add_magic(SIRA_MAGIC_KEY, body, len, &b.len);
	assert_non_null(b.p);
	free(body);
	return b;
}

/* Write a crafted key file and return its path. */
static const char *
put_kf(struct fx *f, const Sira__V1__KeyFile *m)
{
	struct blob b = kf_pack(m);
	const char *path = fresh(f);

	put(path, b.p, b.len, 0600);
	free(b.p);
	return path;
}

/* keyfile_parse on bytes must give want. */
static void
expect_parse(const struct blob *b, int want)
{
	struct keyfile *kf = NULL;
	uint8_t *exact = malloc(b->len > 0 ? b->len : 1);
	struct sira_err err;

	assert_non_null(exact);
	if (b->len > 0)
		memcpy(exact, b->p, b->len);
	sira_err_clear(&err);
	assert_int_equal(keyfile_parse(exact, b->len, "test", &kf, &err), want);
	assert_int_equal(err.code, -want);
	if (want != 0)
		assert_null(kf);
	keyfile_close(&kf);
	free(exact);
}

static void
expect_parse_msg(const Sira__V1__KeyFile *m, int want)
{
	struct blob b = kf_pack(m);

	expect_parse(&b, want);
	free(b.p);
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t seed[32];
	const char *path;

	if (f == NULL || sodium_init() < 0)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-keyfile-XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->keys = keys_new()) == NULL)
		return -1;
	(void)snprintf(f->keys->agency_id, sizeof(f->keys->agency_id), AGENCY);
	memset(seed, 0x21, sizeof(seed));
	if (crypto_sign_seed_keypair(f->keys->sign_pk, f->keys->sign_sk, seed))
		return -1;
	memset(f->keys->transport_sk, 0x22, SIRA_CURVE_KEY_LEN);
	if (keys_derive_transport_pk(f->keys, NULL) != 0)
		return -1;
	f->keys->has_transport = true;
	memset(seed, 0x23, sizeof(seed));
	if (crypto_sign_seed_keypair(f->other_pk, f->other_sk, seed))
		return -1;

	path = path_of(f, "clear.key");
	if (keyfile_write(
		path, f->keys, NULL, 0, KEYFILE_KDF_INTERACTIVE, NULL) != 0 ||
	    fileio_read(
		path, SIRA_KEYFILE_MAX, &f->clear.p, &f->clear.len, NULL) != 0)
		return -1;
	path = path_of(f, "locked.key");
	if (keyfile_write(path, f->keys, PASS, strlen(PASS),
		KEYFILE_KDF_INTERACTIVE, NULL) != 0 ||
	    fileio_read(path, SIRA_KEYFILE_MAX, &f->locked.p, &f->locked.len,
		NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			(void)unlinkat(dirfd(d), e->d_name, 0);
			(void)unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
		closedir(d);
	}
	(void)rmdir(f->dir);
	keys_destroy(&f->keys);
	free(f->clear.p);
	free(f->locked.p);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void
test_clear_round_trip(void **state)
{
	struct fx *f = *state;
	const char *path = path_of(f, "clear.key");
	struct keyfile *kf = NULL;
	struct sira_keys *k = NULL;
	struct stat st;
	uint8_t sig[SIRA_SIG_LEN];

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_memory_equal(f->clear.p, SIRA_MAGIC_KEY, SIRA_MAGIC_LEN);
	/* Stored in clear: the seed is in the file. */
	assert_true(contains(&f->clear, f->keys->sign_sk, 32));

	assert_int_equal(keyfile_open(path, &kf, NULL), 0);
	assert_false(keyfile_encrypted(kf));
	assert_string_equal(keyfile_agency_id(kf), AGENCY);
	assert_int_equal(keyfile_unlock(kf, NULL, 0, &k, NULL), 0);
	assert_same_keys(k, f->keys);
	/* The keys work. */
	assert_int_equal(sign_detached(k->sign_sk, SIRA_DS_RECEIPT,
			     (const uint8_t *)"x", 1, sig),
	    0);
	assert_int_equal(sign_verify(f->keys->sign_pk, SIRA_DS_RECEIPT,
			     (const uint8_t *)"x", 1, sig),
	    0);
	keys_destroy(&k);
	assert_null(k);
	/* A passphrase given for a clear file is ignored. */
	assert_int_equal(keyfile_unlock(kf, "whatever", 8, &k, NULL), 0);
	assert_same_keys(k, f->keys);
	keys_destroy(&k);
	keyfile_close(&kf);
	assert_null(kf);
	keyfile_close(&kf);
	keyfile_close(NULL);
	keys_destroy(NULL);

	/* Without a transport key, it stays without one. */
	{
		struct sira_keys *nt = keys_new();
		const char *p2 = fresh(f);

		assert_non_null(nt);
		memcpy(nt, f->keys, sizeof(*nt));
		nt->has_transport = false;
		memset(nt->transport_sk, 0, SIRA_CURVE_KEY_LEN);
		memset(nt->transport_pk, 0, SIRA_CURVE_KEY_LEN);
		assert_int_equal(keyfile_write(p2, nt, NULL, 0,
				     KEYFILE_KDF_INTERACTIVE, NULL),
		    0);
		assert_int_equal(keyfile_open(p2, &kf, NULL), 0);
		assert_int_equal(keyfile_unlock(kf, NULL, 0, &k, NULL), 0);
		assert_false(k->has_transport);
		assert_same_keys(k, nt);
		keys_destroy(&k);
		keyfile_close(&kf);
		keys_destroy(&nt);
	}
}

static void
test_encrypted_round_trip(void **state)
{
	struct fx *f = *state;
	const char *path = path_of(f, "locked.key");
	struct keyfile *kf = NULL;
	struct sira_keys *k = NULL;
	Sira__V1__KeyFile *m;
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Neither half of the secret key is in the file. */
	assert_false(contains(&f->locked, f->keys->sign_sk, 32));
	assert_false(
	    contains(&f->locked, f->keys->transport_sk, SIRA_CURVE_KEY_LEN));
	/* The public key is, and the KDF is the one asked for. */
	assert_true(contains(&f->locked, f->keys->sign_pk, SIRA_SIGN_PK_LEN));
	m = kf_unpack(&f->locked);
	assert_non_null(m->kdf);
	assert_int_equal(m->kdf->opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert_int_equal(m->kdf->memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	assert_int_equal(m->kdf->salt.len, crypto_pwhash_SALTBYTES);
	assert_int_equal(m->nonce.len, crypto_secretbox_NONCEBYTES);
	sira__v1__key_file__free_unpacked(m, NULL);

	assert_int_equal(keyfile_open(path, &kf, NULL), 0);
	assert_true(keyfile_encrypted(kf));
	assert_string_equal(keyfile_agency_id(kf), AGENCY);
	assert_int_equal(keyfile_unlock(kf, PASS, strlen(PASS), &k, NULL), 0);
	assert_same_keys(k, f->keys);
	keys_destroy(&k);
	keyfile_close(&kf);

	expect_unlock(path, "Bamako-2026?", -SIRA_EPASSPHRASE);
	expect_unlock(path, NULL, -SIRA_EPASSPHRASE);
}

static void
test_short_passphrase(void **state)
{
	struct fx *f = *state;
	const char *path = fresh(f);
	size_t before = count_entries(f->dir);
	struct sira_err err;

	sira_err_clear(&err);
	assert_int_equal(
	    keyfile_write(path, f->keys, PASS, SIRA_PASSPHRASE_MIN - 1,
		KEYFILE_KDF_INTERACTIVE, &err),
	    -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	assert_int_equal(
	    keyfile_write(path, f->keys, "", 0, KEYFILE_KDF_INTERACTIVE, NULL),
	    -SIRA_EINVAL);
	/* Nothing was written. */
	assert_int_equal(count_entries(f->dir), before);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_file_mode(void **state)
{
	struct fx *f = *state;
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 },
		{ 0400, 0 },
		{ 0700, 0 },
		{ 0644, -SIRA_EPERM_MODE },
		{ 0640, -SIRA_EPERM_MODE },
		{ 0604, -SIRA_EPERM_MODE },
		{ 0610, -SIRA_EPERM_MODE },
		{ 0601, -SIRA_EPERM_MODE },
		{ 0620, -SIRA_EPERM_MODE },
		{ 0666, -SIRA_EPERM_MODE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = fresh(f);

		put(path, f->clear.p, f->clear.len, cases[i].mode);
		expect_open(path, cases[i].want);
	}
	/* A mode widened after writing is noticed at the next open. */
	assert_int_equal(chmod(path_of(f, "clear.key"), 0644), 0);
	expect_open(path_of(f, "clear.key"), -SIRA_EPERM_MODE);
	assert_int_equal(chmod(path_of(f, "clear.key"), 0600), 0);
	expect_open(path_of(f, "clear.key"), 0);
}

static void
test_symlink_and_kinds(void **state)
{
	struct fx *f = *state;
	char target[256];

	(void)snprintf(target, sizeof(target), "%s", path_of(f, "clear.key"));
	assert_int_equal(symlink(target, path_of(f, "link.key")), 0);
	expect_open(path_of(f, "link.key"), -SIRA_EIO);
	/* (path_of returns one static buffer: copy the target first.) */
	(void)snprintf(target, sizeof(target), "%s", path_of(f, "nowhere"));
	assert_int_equal(symlink(target, path_of(f, "dangling.key")), 0);
	expect_open(path_of(f, "dangling.key"), -SIRA_EIO);
	assert_int_equal(mkdir(path_of(f, "dir.key"), 0700), 0);
	expect_open(path_of(f, "dir.key"), -SIRA_EIO);
	expect_open(path_of(f, "missing.key"), -SIRA_ENOTFOUND);
}

static void
test_never_overwrite(void **state)
{
	struct fx *f = *state;
	const char *path = path_of(f, "clear.key");
	struct blob after;
	size_t before = count_entries(f->dir);
	struct sira_err err;
	char target[256];

	/* Not over a key file: the old bytes stay. */
	sira_err_clear(&err);
	assert_int_equal(keyfile_write(path, f->keys, NULL, 0,
			     KEYFILE_KDF_INTERACTIVE, &err),
	    -SIRA_EEXIST);
	assert_int_equal(err.code, SIRA_EEXIST);
	after = slurp(path);
	assert_int_equal(after.len, f->clear.len);
	assert_memory_equal(after.p, f->clear.p, after.len);
	free(after.p);
	/* Not over any file, and no temporary file is left behind. */
	put(path_of(f, "notes.txt"), (const uint8_t *)"hello", 5, 0644);
	assert_int_equal(keyfile_write(path_of(f, "notes.txt"), f->keys, NULL,
			     0, KEYFILE_KDF_INTERACTIVE, NULL),
	    -SIRA_EEXIST);
	after = slurp(path_of(f, "notes.txt"));
	assert_int_equal(after.len, 5);
	assert_memory_equal(after.p, "hello", 5);
	free(after.p);
	/* Not through a dangling symlink: its target is not created. */
	(void)snprintf(target, sizeof(target), "%s", path_of(f, "target.key"));
	assert_int_equal(symlink(target, path_of(f, "sym.key")), 0);
	assert_int_equal(keyfile_write(path_of(f, "sym.key"), f->keys, NULL, 0,
			     KEYFILE_KDF_INTERACTIVE, NULL),
	    -SIRA_EEXIST);
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(count_entries(f->dir), before + 2);
}

/* Any change to what the passphrase protects is a wrong passphrase. */
static void
test_tampered_ciphertext(void **state)
{
	struct fx *f = *state;
	Sira__V1__KeyFile *m = kf_unpack(&f->locked);
	const char *path;

	/* Control: an unchanged repack opens. */
	path = put_kf(f, m);
	expect_unlock(path, PASS, 0);
	/* The first ciphertext byte, and the last (in the MAC's reach). */
	m->secret.data[0] ^= 0x01;
	path = put_kf(f, m);
	m->secret.data[0] ^= 0x01;
	expect_unlock(path, PASS, -SIRA_EPASSPHRASE);
	m->secret.data[m->secret.len - 1] ^= 0x80;
	path = put_kf(f, m);
	m->secret.data[m->secret.len - 1] ^= 0x80;
	expect_unlock(path, PASS, -SIRA_EPASSPHRASE);
	/* The nonce, the salt, and an in-range change of opslimit. */
	m->nonce.data[5] ^= 0x10;
	path = put_kf(f, m);
	m->nonce.data[5] ^= 0x10;
	expect_unlock(path, PASS, -SIRA_EPASSPHRASE);
	m->kdf->salt.data[0] ^= 0x01;
	path = put_kf(f, m);
	m->kdf->salt.data[0] ^= 0x01;
	expect_unlock(path, PASS, -SIRA_EPASSPHRASE);
	m->kdf->opslimit++;
	path = put_kf(f, m);
	m->kdf->opslimit--;
	expect_unlock(path, PASS, -SIRA_EPASSPHRASE);
	sira__v1__key_file__free_unpacked(m, NULL);
}

static void
test_kdf_params(void **state)
{
	struct fx *f = *state;
	Sira__V1__KeyFile *m = kf_unpack(&f->locked);
	uint64_t ops = m->kdf->opslimit, mem = m->kdf->memlimit;
	const char *path;
	static const struct {
		uint64_t ops, mem;
	} bad[] = {
		{ crypto_pwhash_OPSLIMIT_INTERACTIVE - 1,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE },
		{ crypto_pwhash_OPSLIMIT_SENSITIVE + 1,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE },
		{ crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE - 1 },
		{ crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    (uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE + 1 },
		{ 0, 0 },
		{ UINT64_MAX, UINT64_MAX },
		{ crypto_pwhash_OPSLIMIT_INTERACTIVE, UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m->kdf->opslimit = bad[i].ops;
		m->kdf->memlimit = bad[i].mem;
		expect_parse_msg(m, -SIRA_EMALFORMED);
	}
	/* Through a real file too (refused before any Argon2 work). */
	m->kdf->opslimit = ops;
	m->kdf->memlimit = (uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE * 4;
	path = put_kf(f, m);
	expect_open(path, -SIRA_EMALFORMED);
	m->kdf->memlimit = mem;
	expect_parse_msg(m, 0);

	/* Salt, nonce and ciphertext lengths. */
	m->kdf->salt.len--;
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->kdf->salt.len++;
	m->nonce.len--;
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->nonce.len++;
	{
		size_t len = m->secret.len;

		m->secret.len = crypto_secretbox_MACBYTES - 1;
		expect_parse_msg(m, -SIRA_EMALFORMED);
		m->secret.len = 0;
		expect_parse_msg(m, -SIRA_EMALFORMED);
		m->secret.len = len;
	}
	sira__v1__key_file__free_unpacked(m, NULL);

	/* A clear file with a nonce but no KDF. */
	m = kf_unpack(&f->clear);
	{
		uint8_t nonce[crypto_secretbox_NONCEBYTES] = { 0 };

		m->nonce.data = nonce;
		m->nonce.len = sizeof(nonce);
		expect_parse_msg(m, -SIRA_EMALFORMED);
		m->nonce.data = NULL;
		m->nonce.len = 0;
	}
	sira__v1__key_file__free_unpacked(m, NULL);
}

static void
test_header_fields(void **state)
{
	struct fx *f = *state;
	Sira__V1__KeyFile *m = kf_unpack(&f->clear);
	char *id = m->agency_id;
	struct blob b;

	expect_parse_msg(m, 0);
	m->version = 2;
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->version = 1;
	m->sign_pk.len = 31;
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->sign_pk.len = 32;
	m->agency_id = (char *)(uintptr_t) "ML.POLICE";
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->agency_id = (char *)(uintptr_t) "";
	expect_parse_msg(m, -SIRA_EMALFORMED);
	m->agency_id = id;
	sira__v1__key_file__free_unpacked(m, NULL);

	/* Another kind of file, and an unknown field after the secret. */
	b.len = f->clear.len;
	b.p = malloc(b.len + 2);
	assert_non_null(b.p);
	memcpy(b.p, f->clear.p, b.len);
	memcpy(b.p, SIRA_MAGIC_CERT, SIRA_MAGIC_LEN);
	expect_parse(&b, -SIRA_EMALFORMED);
	memcpy(b.p, SIRA_MAGIC_KEY, SIRA_MAGIC_LEN);
	expect_parse(&b, 0);
	b.p[b.len] = 0x78; /* field 15, varint */
	b.p[b.len + 1] = 0x01;
	b.len += 2;
	expect_parse(&b, -SIRA_EMALFORMED);
	free(b.p);
}

/* KeySecrets with the given Ed25519 secret and transport key. */
static struct blob
secrets(const uint8_t *sk, size_t sklen, const uint8_t *tk, size_t tklen)
{
	Sira__V1__KeySecrets s = SIRA__V1__KEY_SECRETS__INIT;
	struct blob b;

	s.sign_sk.data = (uint8_t *)(uintptr_t)sk;
	s.sign_sk.len = sklen;
	s.transport_sk.data = (uint8_t *)(uintptr_t)tk;
	s.transport_sk.len = tklen;
	b.len = protobuf_c_message_get_packed_size(&s.base);
	b.p = malloc(b.len > 0 ? b.len : 1);
	assert_non_null(b.p);
	(void)protobuf_c_message_pack(&s.base, b.p);
	return b;
}

/* A clear key file whose secret is s. */
static const char *
put_clear_with(struct fx *f, const struct blob *s, const uint8_t *pk)
{
	Sira__V1__KeyFile *m = kf_unpack(&f->clear);
	ProtobufCBinaryData old = m->secret;
	uint8_t oldpk[SIRA_SIGN_PK_LEN];
	const char *path;

	memcpy(oldpk, m->sign_pk.data, SIRA_SIGN_PK_LEN);
	m->secret.data = s->p;
	m->secret.len = s->len;
	memcpy(m->sign_pk.data, pk, SIRA_SIGN_PK_LEN);
	path = put_kf(f, m);
	m->secret = old;
	memcpy(m->sign_pk.data, oldpk, SIRA_SIGN_PK_LEN);
	sira__v1__key_file__free_unpacked(m, NULL);
	return path;
}

static void
test_secret_mismatch(void **state)
{
	struct fx *f = *state;
	const struct sira_keys *k = f->keys;
	uint8_t mixed[SIRA_SIGN_SK_LEN], junk[SIRA_CURVE_KEY_LEN + 1];
	struct blob s;
	const char *path;
	Sira__V1__KeyFile *m;

	memset(junk, 0x99, sizeof(junk));
	/* Control: the real secrets in a hand-made file. */
	s = secrets(k->sign_sk, SIRA_SIGN_SK_LEN, k->transport_sk, 32);
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, 0);
	/* The recorded public key is another identity's. */
	path = put_clear_with(f, &s, f->other_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);
	free(s.p);

	/* Another identity's seed with this identity's public half. */
	memcpy(mixed, f->other_sk, 32);
	memcpy(mixed + 32, k->sign_pk, 32);
	s = secrets(mixed, SIRA_SIGN_SK_LEN, k->transport_sk, 32);
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);
	free(s.p);
	/* This identity's seed with another public half. */
	memcpy(mixed, k->sign_sk, 32);
	memcpy(mixed + 32, f->other_pk, 32);
	s = secrets(mixed, SIRA_SIGN_SK_LEN, k->transport_sk, 32);
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);
	free(s.p);

	/* Secrets of the wrong shape. */
	s = secrets(k->sign_sk, SIRA_SIGN_SK_LEN - 1, NULL, 0);
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);
	free(s.p);
	s = secrets(k->sign_sk, SIRA_SIGN_SK_LEN, junk, SIRA_CURVE_KEY_LEN + 1);
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);
	free(s.p);
	s.p = junk;
	s.len = sizeof(junk); /* not a KeySecrets at all */
	path = put_clear_with(f, &s, k->sign_pk);
	expect_unlock(path, NULL, -SIRA_EMALFORMED);

	/* In a protected file: the public key outside the box is swapped. */
	m = kf_unpack(&f->locked);
	memcpy(m->sign_pk.data, f->other_pk, SIRA_SIGN_PK_LEN);
	path = put_kf(f, m);
	sira__v1__key_file__free_unpacked(m, NULL);
	expect_unlock(path, PASS, -SIRA_EMALFORMED);
}

/* Every prefix of both files, as real files, is refused cleanly. */
static void
test_truncated_every_length(void **state)
{
	struct fx *f = *state;
	const struct blob *files[] = { &f->clear, &f->locked };

	for (size_t i = 0; i < 2; i++) {
		for (size_t n = 0; n < files[i]->len; n++) {
			const char *path = fresh(f);
			struct keyfile *kf = NULL;
			struct sira_keys *k = NULL;
			int rc;

			put(path, files[i]->p, n, 0600);
			rc = keyfile_open(path, &kf, NULL);
			if (rc == 0) {
				/*
				 * A cut at a field boundary before the
				 * secrets parses as an empty clear key file.
				 */
				assert_false(keyfile_encrypted(kf));
				assert_int_equal(
				    keyfile_unlock(kf, NULL, 0, &k, NULL),
				    -SIRA_EMALFORMED);
				assert_null(k);
			} else {
				assert_int_equal(rc, -SIRA_EMALFORMED);
				assert_null(kf);
			}
			keyfile_close(&kf);
			assert_int_equal(unlink(path), 0);
		}
	}
}

static void
test_size_cap(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = calloc(1, SIRA_KEYFILE_MAX + 1);
	const char *path;

	assert_non_null(buf);
	memcpy(buf, f->clear.p, f->clear.len);
	path = fresh(f);
	put(path, buf, SIRA_KEYFILE_MAX + 1, 0600);
	expect_open(path, -SIRA_ETOOBIG);
	/* At the cap, size passes and the trailing zeros do not parse. */
	path = fresh(f);
	put(path, buf, SIRA_KEYFILE_MAX, 0600);
	expect_open(path, -SIRA_EMALFORMED);
	path = fresh(f);
	put(path, buf, 0, 0600);
	expect_open(path, -SIRA_EMALFORMED);
	free(buf);
}

static void
test_transport_key(void **state)
{
	struct sira_keys *k = keys_new();
	enum keyfile_kdf kdf;
	uint8_t want[32];

	(void)state;
	assert_non_null(k);
	for (size_t i = 0; i < sizeof(*k); i++)
		assert_int_equal(((const uint8_t *)k)[i], 0);
	/* RFC 7748 section 6.1, Alice. */
	assert_int_equal(
	    sodium_hex2bin(k->transport_sk, 32,
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		64, NULL, NULL, NULL),
	    0);
	assert_int_equal(
	    sodium_hex2bin(want, 32,
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		64, NULL, NULL, NULL),
	    0);
	assert_int_equal(keys_derive_transport_pk(k, NULL), 0);
	assert_memory_equal(k->transport_pk, want, 32);
	keys_destroy(&k);
	assert_null(k);

	assert_int_equal(keyfile_kdf_parse("interactive", &kdf), 0);
	assert_int_equal(kdf, KEYFILE_KDF_INTERACTIVE);
	assert_int_equal(keyfile_kdf_parse("moderate", &kdf), 0);
	assert_int_equal(kdf, KEYFILE_KDF_MODERATE);
	assert_int_equal(keyfile_kdf_parse("sensitive", &kdf), 0);
	assert_int_equal(kdf, KEYFILE_KDF_SENSITIVE);
	assert_int_equal(keyfile_kdf_parse("Moderate", &kdf), -SIRA_EINVAL);
	assert_int_equal(keyfile_kdf_parse("", &kdf), -SIRA_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear_round_trip),
		cmocka_unit_test(test_encrypted_round_trip),
		cmocka_unit_test(test_short_passphrase),
		cmocka_unit_test(test_file_mode),
		cmocka_unit_test(test_symlink_and_kinds),
		cmocka_unit_test(test_never_overwrite),
		cmocka_unit_test(test_tampered_ciphertext),
		cmocka_unit_test(test_kdf_params),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_secret_mismatch),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_transport_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
