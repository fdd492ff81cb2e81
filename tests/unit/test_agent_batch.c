/*
 * test_agent_batch.c: the daemon's batch of frames (agents/daemon/batch.c)
 * on a real vault. What the frames of a batch write is visible to the
 * later frames of the batch and durable only at its commit; a frame's
 * child transaction that fails is undone alone; the Acks wait for the
 * commit, and new deliveries are counted only then. The daemon has no
 * connection here: its Acks go nowhere, which link_send tolerates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "agent_fixture.h"

#include "daemon/daemon.h"

struct world {
	struct fx *fx;
	struct agent a;
	struct daemon *d;
	char vdir[600];
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->fx = fx_new());
	(void)snprintf(w->vdir, sizeof(w->vdir), "%s/vault", w->fx->dir);
	assert_int_equal(
	    vault_open(w->vdir, w->fx->ngo.keys, 1ull << 26, &w->a.vault, NULL),
	    0);
	assert_non_null(w->d = calloc(1, sizeof(*w->d)));
	w->d->a = &w->a;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	vault_close(&w->a.vault);
	fx_rmdir(w->vdir);
	fx_free(w->fx);
	free(w->d);
	free(w);
	return 0;
}

/* One frame's work: counter name set to v in a child of the batch. */
static void
frame_writes(struct world *w, const char *name, uint64_t v, bool commit)
{
	struct vault_txn *t = NULL;

	assert_int_equal(batch_begin(w->d, &t, NULL), 0);
	assert_int_equal(vault_counter_put(t, name, v, NULL), 0);
	if (commit)
		assert_int_equal(vault_commit(&t, NULL), 0);
	vault_abort(&t);
}

/* The counter as committed to disk (a read transaction of its own). */
static uint64_t
durable(struct world *w, const char *name)
{
	struct vault_txn *t = NULL;
	uint64_t v = 0;

	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	(void)vault_counter_get(t, name, &v);
	vault_abort(&t);
	return v;
}

static void
test_durable_at_commit_only(void **state)
{
	struct world *w = *state;
	uint64_t v = 0;

	batch_start(w->d);
	frame_writes(w, "one", 1, true);
	frame_writes(w, "two", 2, true);
	batch_ack(w->d, 7, true);
	/* Later frames see earlier ones; the disk does not yet. */
	assert_non_null(batch_txn(w->d));
	assert_int_equal(vault_counter_get(batch_txn(w->d), "one", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(w->d->batch.n_acks, 1);
	assert_int_equal(w->d->received, 0);
	batch_commit(w->d);
	assert_false(w->d->batch.open);
	assert_int_equal(durable(w, "one"), 1);
	assert_int_equal(durable(w, "two"), 2);
	assert_int_equal(w->d->batch.n_acks, 0);
	assert_int_equal(w->d->received, 1);
}

static void
test_failed_frame_undone_alone(void **state)
{
	struct world *w = *state;

	batch_start(w->d);
	frame_writes(w, "kept", 1, true);
	frame_writes(w, "undone", 2, false); /* its frame failed */
	frame_writes(w, "after", 3, true);
	batch_commit(w->d);
	assert_int_equal(durable(w, "kept"), 1);
	assert_int_equal(durable(w, "undone"), 0);
	assert_int_equal(durable(w, "after"), 3);
}

static void
test_flush_keeps_batch_open(void **state)
{
	struct world *w = *state;

	batch_start(w->d);
	frame_writes(w, "first", 1, true);
	batch_ack(w->d, 1, true);
	assert_int_equal(batch_flush(w->d, NULL), 0);
	assert_int_equal(durable(w, "first"), 1);
	assert_int_equal(w->d->batch.n_acks, 0);
	assert_true(w->d->batch.open);
	frame_writes(w, "second", 2, true); /* a new transaction */
	batch_commit(w->d);
	assert_int_equal(durable(w, "second"), 2);
	assert_int_equal(w->d->received, 1);
}

static void
test_outside_a_batch(void **state)
{
	struct world *w = *state;

	/* Its own transaction, durable at its commit; the Ack at once. */
	frame_writes(w, "alone", 5, true);
	assert_int_equal(durable(w, "alone"), 5);
	assert_null(batch_txn(w->d));
	batch_ack(w->d, 9, true);
	assert_int_equal(w->d->received, 1);
	assert_int_equal(w->d->batch.n_acks, 0);
}

static void
test_bounds(void **state)
{
	struct world *w = *state;

	batch_start(w->d);
	for (size_t i = 0; i < BATCH_FRAMES - 1; i++)
		batch_count(w->d, 10);
	assert_true(batch_room(w->d));
	batch_count(w->d, 10);
	assert_false(batch_room(w->d));
	batch_commit(w->d);
	batch_start(w->d);
	batch_count(w->d, BATCH_BYTES);
	assert_false(batch_room(w->d));
	/* More Acks than it holds: committed early, none lost. */
	frame_writes(w, "early", 1, true);
	for (uint64_t i = 0; i < BATCH_ACKS + 3; i++)
		batch_ack(w->d, i, false);
	assert_int_equal(durable(w, "early"), 1);
	assert_int_equal(w->d->batch.n_acks, 3);
	batch_commit(w->d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_durable_at_commit_only, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_frame_undone_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_flush_keeps_batch_open, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outside_a_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
