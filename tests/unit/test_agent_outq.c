/*
 * test_agent_outq.c: the outbox's index of unfinished work
 * (agents/store/outq.c) on a real vault: whatever the history, every unfinished
 * entry is found, each entry has exactly one row while it is worked on and none
 * after, an outbox older than the index is indexed once, and a round takes the
 * most overdue work first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"
#include "agent_fixture.h"
#include "sign.h"
#include "wire.h"

#define Q SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED
#define SEALED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED
#define ACCEPTED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED
#define DELIVERED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED
#define ALL ((1u << Q) | (1u << SEALED) | (1u << ACCEPTED))
#define NOW UINT64_C(1772409600)
#define HISTORY 10000 /* far past OUT_MAX (256) of the scan this replaced */

struct qfx {
	char dir[64];
	char vdir[128];
	struct sira_keys *keys;
	struct vault *v;
};

static int
setup(void **state)
{
	struct qfx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-outq-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->vdir, sizeof(fx->vdir), "%s/vault", fx->dir);
	assert_non_null(fx->keys = keys_new());
	sign_keygen(fx->keys->sign_pk, fx->keys->sign_sk);
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, 1ull << 30, &fx->v, NULL), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct qfx *fx = *state;

	vault_close(&fx->v);
	fx_rmdir(fx->vdir);
	fx_rmdir(fx->dir);
	keys_destroy(&fx->keys);
	free(fx);
	return 0;
}

static struct vault_txn *
begin(struct qfx *fx)
{
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(fx->v, true, &t, NULL), 0);
	return t;
}

static void
commit(struct vault_txn **t)
{
	assert_int_equal(vault_commit(t, NULL), 0);
}

/* Queue a note to the shelter at time at; its id in id. */
static void
queue(struct vault_txn *t, uint64_t at, uint8_t id[16])
{
	static const char *const to[1] = { "ml.ngo.espoir" };

	assert_int_equal(book_queue(t,
			     &(struct outgoing){ to, 1, 1, "text/plain", "",
				 bytes_of("note", 4), 86400, NULL },
			     at, id, NULL),
	    0);
}

/* Move entry id to state, due at next_at. */
static void
move(struct vault_txn *t, const uint8_t id[16], int state, uint64_t next_at)
{
	Sira__V1__OutboxEntry *e = NULL;

	assert_int_equal(book_get_out(t, id, &e, NULL), 0);
	e->state = state;
	book_schedule(e, next_at);
	assert_int_equal(book_put_out(t, e, NOW, NULL), 0);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

static int
count_key(void *ctx, const uint8_t *key, size_t klen)
{
	(void)key;
	assert_int_equal(klen, OUTQ_KEY_LEN);
	(*(size_t *)ctx)++;
	return 0;
}

static size_t
rows(struct vault_txn *t)
{
	size_t n = 0;

	assert_int_equal(
	    vault_keys(t, VT_OUTQ, bytes_of(NULL, 0), count_key, &n, NULL), 0);
	return n;
}

static bool
has_id(const struct outq_row *r, size_t n, const uint8_t id[16])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(r[i].id, id, 16) == 0)
			return true;
	return false;
}

/* 10,000 delivered messages, then five new ones: the five are due, and
 * nothing of the history is in the index. */
static void
test_history_does_not_hide_new_work(void **state)
{
	struct qfx *fx = *state;
	uint8_t id[16], fresh[5][16];
	struct outq_row due[64];
	struct vault_txn *t;
	size_t n = 0;

	for (int b = 0; b < HISTORY / 500; b++) {
		t = begin(fx);
		for (int i = 0; i < 500; i++) {
			queue(
			    t, NOW - 90 * 86400 + (uint64_t)(b * 500 + i), id);
			move(t, id, DELIVERED, 0);
		}
		commit(&t);
	}
	t = begin(fx);
	assert_int_equal(rows(t), 0);
	for (int i = 0; i < 5; i++)
		queue(t, NOW + (uint64_t)i, fresh[i]);
	commit(&t);
	t = begin(fx);
	assert_int_equal(rows(t), 5);
	assert_int_equal(
	    outq_due(t, &(struct outq_ask){ NOW + 10, ALL }, due, 64, &n, NULL),
	    0);
	assert_int_equal(n, 5);
	for (int i = 0; i < 5; i++) {
		assert_true(has_id(due, n, fresh[i]));
		assert_int_equal(due[i].state, Q);
	}
	/* Most overdue first. */
	for (size_t i = 1; i < n; i++)
		assert_true(due[i - 1].due <= due[i].due);
	/* Not due yet: not handed out. */
	assert_int_equal(
	    outq_due(t, &(struct outq_ask){ NOW + 2, ALL }, due, 64, &n, NULL),
	    0);
	assert_int_equal(n, 3);
	vault_abort(&t);
}

/* One row per entry while it is worked on, none once it is finished, and
 * a row the entry no longer claims is recognised as stale. */
static void
test_one_row_per_live_entry(void **state)
{
	struct qfx *fx = *state;
	struct vault_txn *t = begin(fx);
	Sira__V1__OutboxEntry *e = NULL;
	struct outq_row due[8], old;
	uint8_t id[16];
	size_t n = 0;

	queue(t, NOW, id);
	assert_int_equal(
	    outq_due(t, &(struct outq_ask){ NOW, ALL }, due, 8, &n, NULL), 0);
	assert_int_equal(n, 1);
	old = due[0];
	move(t, id, SEALED, NOW + 30);
	assert_int_equal(rows(t), 1);
	assert_int_equal(
	    outq_due(t, &(struct outq_ask){ NOW, ALL }, due, 8, &n, NULL), 0);
	assert_int_equal(n, 0); /* due in 30 s */
	assert_int_equal(
	    outq_due(t, &(struct outq_ask){ NOW + 30, ALL }, due, 8, &n, NULL),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].state, SEALED);
	assert_int_equal(book_get_out(t, id, &e, NULL), 0);
	assert_true(outq_claims(e, &due[0]));
	assert_false(outq_claims(e, &old));
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	/* States not asked for are not handed out. */
	assert_int_equal(outq_due(t, &(struct outq_ask){ NOW + 30, 1u << Q },
			     due, 8, &n, NULL),
	    0);
	assert_int_equal(n, 0);
	move(t, id, ACCEPTED, NOW + 100);
	assert_int_equal(rows(t), 1);
	move(t, id, DELIVERED, NOW + 100);
	assert_int_equal(rows(t), 0);
	/* Dropping a row that is gone already is not an error. */
	assert_int_equal(outq_drop(t, &old, NULL), 0);
	commit(&t);
}

/* A round asked for 64 of 400 due rows takes the 64 most overdue, across
 * states; the rest stay due for the next rounds. */
static void
test_round_takes_oldest(void **state)
{
	struct qfx *fx = *state;
	struct vault_txn *t = begin(fx);
	struct outq_row due[64];
	uint8_t id[16];
	size_t n = 0;

	for (int i = 0; i < 200; i++) {
		queue(t, NOW + 2 * (uint64_t)i, id); /* even seconds */
		queue(t, NOW, id);
		move(t, id, SEALED, NOW + 2 * (uint64_t)i + 1); /* odd */
	}
	assert_int_equal(rows(t), 400);
	assert_int_equal(outq_due(t, &(struct outq_ask){ NOW + 1000, ALL }, due,
			     64, &n, NULL),
	    0);
	assert_int_equal(n, 64);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(due[i].due, NOW + i);
	assert_int_equal(due[0].state, Q);
	assert_int_equal(due[1].state, SEALED);
	commit(&t);
}

/* Write an entry as an outbox before the index did: no row, no index
 * fields. */
static void
put_old(struct vault_txn *t, int state, uint8_t id[16])
{
	Sira__V1__OutboxEntry e = SIRA__V1__OUTBOX_ENTRY__INIT;
	char *to[1] = { (char *)"ml.ngo.espoir" };
	uint8_t *bytes = NULL;
	size_t len = 0;

	randombytes_buf(id, 16);
	e.local_id.data = id;
	e.local_id.len = 16;
	e.state = state;
	e.n_to = 1;
	e.to = to;
	e.queued_at = NOW - 86400;
	e.ttl = 7 * 86400;
	assert_int_equal(wire_pack(&e.base, &bytes, &len, NULL), 0);
	assert_int_equal(
	    vault_put(t, VT_OUTBOX, bytes_of(id, 16), bytes, len, NULL), 0);
	free(bytes);
}

static void
test_rebuild_indexes_an_old_outbox(void **state)
{
	struct qfx *fx = *state;
	uint8_t live[300][16], id[16];
	struct outq_row *all = NULL;
	struct vault_txn *t = begin(fx);
	uint64_t version = 0;
	size_t n = 0;

	for (int i = 0; i < 700; i++)
		put_old(t, DELIVERED, id);
	for (int i = 0; i < 300; i++)
		put_old(t, i % 3 == 0 ? Q : (i % 3 == 1 ? SEALED : ACCEPTED),
		    live[i]);
	commit(&t);
	t = begin(fx);
	assert_int_equal(rows(t), 0);
	assert_int_equal(book_reindex(t, NOW, &n, NULL), 0);
	assert_int_equal(n, 300);
	assert_int_equal(rows(t), 300);
	assert_int_equal(vault_counter_get(t, "outq.version", &version), 0);
	assert_int_equal(version, OUTQ_VERSION);
	commit(&t);
	t = begin(fx);
	assert_int_equal(outq_all(t, SEALED, &all, &n, NULL), 0);
	assert_int_equal(n, 100);
	for (int i = 1; i < 300; i += 3)
		assert_true(has_id(all, n, live[i]));
	free(all);
	/* Once is enough: a second start does not scan again. */
	assert_int_equal(book_reindex(t, NOW, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rows(t), 300);
	vault_abort(&t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_history_does_not_hide_new_work),
		T(test_one_row_per_live_entry),
		T(test_round_takes_oldest),
		T(test_rebuild_indexes_an_old_outbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
