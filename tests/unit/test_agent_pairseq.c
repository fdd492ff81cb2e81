/*
 * test_agent_pairseq.c: lost messages told from late ones (pairseq.c), on
 * the pure state and through a real vault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"
#include "agent_fixture.h"
#include "sign.h"

#define T0 1800000000ull

static void
test_reordering_is_not_loss(void **state)
{
	struct pairseq p = { 0 };
	const uint64_t order[] = { 2, 1, 5, 3, 4, 7, 6 };

	(void)state;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(pairseq_take(&p, order[i], T0 + i), 0);
	assert_int_equal(p.low, 7);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.since, 0);
	assert_int_equal(pairseq_awaited(&p), 0);
	/* A repeat changes nothing. */
	assert_int_equal(pairseq_take(&p, 3, T0 + 100), 0);
	assert_int_equal(p.low, 7);
	pairseq_free(&p);
}

static void
test_hole_declared_after_the_wait(void **state)
{
	struct pairseq p = { 0 };

	(void)state;
	assert_int_equal(pairseq_take(&p, 1, T0), 0);
	assert_int_equal(pairseq_take(&p, 4, T0 + 10), 0); /* 2, 3 late */
	assert_int_equal(pairseq_awaited(&p), 2);
	assert_int_equal(pairseq_take(&p, 5, T0 + PAIRSEQ_WAIT), 0);
	assert_int_equal(pairseq_awaited(&p), 2);
	/* A day after the hole was noticed, it is a loss: 2 and 3. */
	assert_int_equal(pairseq_take(&p, 6, T0 + 10 + PAIRSEQ_WAIT), 2);
	assert_int_equal(p.low, 6);
	assert_int_equal(p.n, 0);
	/* The lost one turning up later is ignored, not counted again. */
	assert_int_equal(pairseq_take(&p, 2, T0 + 2 * PAIRSEQ_WAIT), 0);
	pairseq_free(&p);
}

static void
test_late_one_fills_the_hole(void **state)
{
	struct pairseq p = { 0 };

	(void)state;
	assert_int_equal(pairseq_take(&p, 1, T0), 0);
	assert_int_equal(pairseq_take(&p, 3, T0 + 1), 0);
	assert_int_equal(pairseq_take(&p, 2, T0 + PAIRSEQ_WAIT - 1), 0);
	assert_int_equal(p.low, 3);
	assert_int_equal(pairseq_take(&p, 4, T0 + 3 * PAIRSEQ_WAIT), 0);
	pairseq_free(&p);
}

/* Far more out-of-order numbers than the cap: holes are declared so the
 * state stays bounded, and every number is accounted for exactly once. */
static void
test_bounded_state(void **state)
{
	struct pairseq p = { 0 };
	int64_t missing = 0, r;
	uint64_t n = 3 * PAIRSEQ_SEEN_MAX;

	(void)state;
	for (uint64_t s = 2; s <= n; s += 2) { /* every odd one lost */
		assert_true((r = pairseq_take(&p, s, T0)) >= 0);
		missing += r;
		assert_true(p.n <= PAIRSEQ_SEEN_MAX);
	}
	assert_int_equal(
	    missing + (int64_t)pairseq_awaited(&p), (int64_t)(n / 2));
	pairseq_free(&p);
}

/* The state survives a restart, per sender, and a damaged row is said. */
static void
test_stored_in_the_vault(void **state)
{
	char dir[64] = "/tmp/sira-pairseq-XXXXXX", vdir[128];
	struct sira_keys *keys;
	struct vault *v = NULL;
	struct vault_txn *t = NULL;
	struct pairseq p = { 0 }, q;

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_non_null(mkdtemp(dir));
	(void)snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	assert_non_null(keys = keys_new());
	sign_keygen(keys->sign_pk, keys->sign_sk);
	assert_int_equal(vault_open(vdir, keys, 1ull << 26, &v, NULL), 0);
	assert_int_equal(vault_begin(v, true, &t, NULL), 0);
	assert_int_equal(pairseq_load(t, "ml.police.bamako", &q, NULL), 0);
	assert_int_equal(q.low, 0);
	assert_int_equal(q.n, 0);
	for (uint64_t s = 1; s <= 3000; s++)
		if (s != 7)
			assert_int_equal(pairseq_take(&p, s, T0 + s), 0);
	assert_int_equal(pairseq_store(t, "ml.police.bamako", &p, NULL), 0);
	assert_int_equal(vault_commit(&t, NULL), 0);
	vault_close(&v);
	assert_int_equal(vault_open(vdir, keys, 1ull << 26, &v, NULL), 0);
	assert_int_equal(vault_begin(v, true, &t, NULL), 0);
	assert_int_equal(pairseq_load(t, "ml.police.bamako", &q, NULL), 0);
	assert_int_equal(q.low, 6);
	assert_int_equal(q.n, p.n);
	assert_int_equal(q.since, T0 + 8);
	assert_memory_equal(q.seen, p.seen, p.n * sizeof(*p.seen));
	assert_int_equal(pairseq_awaited(&q), 1);
	pairseq_free(&q);
	assert_int_equal(pairseq_load(t, "ml.ngo.espoir", &q, NULL), 0);
	assert_int_equal(q.low, 0);
	assert_int_equal(
	    vault_put(t, VT_META, bytes_of("rgap:ml.x", 9), "bad", 3, NULL), 0);
	assert_int_equal(pairseq_load(t, "ml.x", &q, NULL), -SIRA_EMALFORMED);
	vault_abort(&t);
	pairseq_free(&p);
	vault_close(&v);
	fx_rmdir(vdir);
	fx_rmdir(dir);
	keys_destroy(&keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reordering_is_not_loss),
		cmocka_unit_test(test_hole_declared_after_the_wait),
		cmocka_unit_test(test_late_one_fills_the_hole),
		cmocka_unit_test(test_bounded_state),
		cmocka_unit_test(test_stored_in_the_vault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
