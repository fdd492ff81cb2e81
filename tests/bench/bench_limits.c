/*
 * bench_limits.c: the machine's own limits, measured in the same run as
 * Sira (`make bench`), so that Sira's figures read as ratios of what this
 * box can do at all. Not a test: it aborts only if an operation fails.
 *
 * Output, key=value (stable keys):
 *   xchacha20poly1305_mb_per_s   crypto_aead_xchacha20poly1305_ietf_encrypt
 *                                on 64 KiB buffers, MiB of plaintext per s
 *   lmdb_commits_per_s           durable LMDB write transactions (one 1 KiB
 *                                put each, default sync: fsync per commit)
 *                                in a fresh environment under TMPDIR, the
 *                                disk the benchmark's agents and broker use
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>
#include "../tools/bench_util.h"

#define BENCH_SECONDS 1.0
#define AEAD_CHUNK (64u << 10)

#define CHECK(expr) \
	do { \
		if (!(expr)) { \
			fprintf(stderr, "bench_limits: %s failed\n", #expr); \
			abort(); \
		} \
	} while (0)

static void
bench_aead(void)
{
	static uint8_t pt[AEAD_CHUNK],
	    ct[AEAD_CHUNK + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long n = 0;
	double t0 = bench_now_s(), t;

	randombytes_buf(pt, sizeof(pt));
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	do {
		randombytes_buf(nonce, sizeof(nonce));
		CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, pt,
			  sizeof(pt), NULL, 0, NULL, nonce, key) == 0);
		n++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	printf("xchacha20poly1305_mb_per_s=%.0f\n",
	    (double)n * AEAD_CHUNK / (1024.0 * 1024.0) / t);
}

static void
bench_lmdb(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[4096], path[4200];
	uint8_t val[1024];
	MDB_env *env;
	MDB_dbi dbi;
	unsigned long n = 0;
	double t0, t;

	(void)snprintf(dir, sizeof(dir), "%s/sira-bench-lmdb.XXXXXX", tmp);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_mapsize(env, (size_t)1 << 30) == 0);
	CHECK(mdb_env_open(env, dir, 0, 0600) == 0);
	randombytes_buf(val, sizeof(val));
	t0 = bench_now_s();
	do {
		MDB_txn *txn;
		uint64_t k = n;
		MDB_val key = { sizeof(k), &k }, data = { sizeof(val), val };
		CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
		CHECK(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
		CHECK(mdb_put(txn, dbi, &key, &data, 0) == 0);
		CHECK(mdb_txn_commit(txn) == 0);
		n++;
	} while ((t = bench_now_s() - t0) < BENCH_SECONDS);
	printf("lmdb_commits_per_s=%.0f\n", (double)n / t);
	mdb_env_close(env);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	(void)unlink(path);
	(void)rmdir(dir);
}

int
main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_limits: sodium_init failed\n");
		return 1;
	}
	bench_aead();
	bench_lmdb();
	return 0;
}
