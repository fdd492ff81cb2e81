/*
 * outq.c: the outbox's index of unfinished work (vault table VT_OUTQ).
 *
 * The outbox keeps every message an agency ever sent, as evidence; the
 * daemon must not read that archive to find what is left to do. Each
 * entry still being worked on (queued, sealed, accepted without every
 * receipt) has exactly one index row, key = state(1) || be64(next_at) ||
 * local id(16), so the daemon finds what is due with one cursor seek per
 * state, whatever the size of the history. The row an entry has is
 * recorded in the entry itself (index_state, index_due), and every write
 * of an entry goes through outq_sync inside the same transaction, so row
 * and entry change together or not at all. A row whose entry does not
 * claim it is stale and is dropped by whoever meets it.
 */
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "store/store.h"
#include "i18n.h"

#define Q SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED
#define SEALED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED
#define ACCEPTED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED

bool
outq_live(int state)
{
	return state == Q || state == SEALED || state == ACCEPTED;
}

void
outq_key(int state, uint64_t due, const uint8_t id[16],
    uint8_t key[static OUTQ_KEY_LEN])
{
	key[0] = (uint8_t)state;
	be64_put(key + 1, due);
	memcpy(key + 9, id, 16);
}

void
outq_parse(const uint8_t key[static OUTQ_KEY_LEN], struct outq_row *row)
{
	row->state = key[0];
	row->due = be64_get(key + 1);
	memcpy(row->id, key + 9, 16);
}

int
outq_sync(struct vault_txn *t, Sira__V1__OutboxEntry *e, struct sira_err *err)
{
	uint32_t state = outq_live(e->state) ? (uint32_t)e->state : 0;
	uint64_t due = state != 0 ? e->next_at : 0;
	uint8_t key[OUTQ_KEY_LEN];
	int rc;

	if (e->local_id.len != 16)
		return sira_err_set(
		    err, SIRA_EINVAL, _("outbox entry without id"));
	if (e->index_state == state && e->index_due == due)
		return 0;
	if (e->index_state != 0) {
		outq_key(
		    (int)e->index_state, e->index_due, e->local_id.data, key);
		rc = vault_del(t, VT_OUTQ, bytes_of(key, sizeof(key)), err);
		if (rc != 0 && rc != -SIRA_ENOTFOUND)
			return rc;
	}
	if (state != 0) {
		outq_key((int)state, due, e->local_id.data, key);
		if ((rc = vault_put(t, VT_OUTQ, bytes_of(key, sizeof(key)),
			 NULL, 0, err)) != 0)
			return rc;
	}
	e->index_state = state;
	e->index_due = due;
	return 0;
}

bool
outq_claims(const Sira__V1__OutboxEntry *e, const struct outq_row *row)
{
	return e->index_state == (uint32_t)row->state &&
	    e->index_due == row->due && e->local_id.len == 16 &&
	    memcmp(e->local_id.data, row->id, 16) == 0;
}

int
outq_drop(struct vault_txn *t, const struct outq_row *row, struct sira_err *err)
{
	uint8_t key[OUTQ_KEY_LEN];
	int rc;

	outq_key(row->state, row->due, row->id, key);
	rc = vault_del(t, VT_OUTQ, bytes_of(key, sizeof(key)), err);
	return rc == -SIRA_ENOTFOUND ? 0 : rc;
}

/* Rows of one state, in due order, while due <= until (or all). */
struct scan {
	int state;
	uint64_t until;
	bool all;
	struct outq_row *rows;
	size_t n, max;
	bool grow; /* rows is realloc'd as needed (max ignored) */
	int rc;
};

static int
take_row(void *ctx, const uint8_t *key, size_t klen)
{
	struct scan *s = ctx;
	struct outq_row row;

	if (klen != OUTQ_KEY_LEN || key[0] != s->state)
		return 1; /* past this state's rows */
	outq_parse(key, &row);
	if (!s->all && row.due > s->until)
		return 1;
	if (s->n == s->max) {
		struct outq_row *grown;
		if (!s->grow)
			return 1;
		s->max = s->max ? 2 * s->max : 256;
		if ((grown = realloc(s->rows, s->max * sizeof(*grown))) ==
		    NULL) {
			s->rc = -SIRA_ENOMEM;
			return 1;
		}
		s->rows = grown;
	}
	s->rows[s->n++] = row;
	return 0;
}

static int
scan_state(struct vault_txn *t, struct scan *s, struct sira_err *err)
{
	uint8_t from[1] = { (uint8_t)s->state };
	int rc = vault_keys(t, VT_OUTQ, bytes_of(from, 1), take_row, s, err);

	if (rc == 0 && s->rc != 0)
		rc = sira_err_set(err, -s->rc, _("out of memory"));
	return rc;
}

static int
by_due(const void *a, const void *b)
{
	const struct outq_row *x = a, *y = b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return memcmp(x->id, y->id, 16);
}

int
outq_due(struct vault_txn *t, const struct outq_ask *q, struct outq_row *rows,
    size_t max, size_t *n, struct sira_err *err)
{
	uint64_t now = q->now;
	unsigned states = q->states;
	static const int order[] = { Q, SEALED, ACCEPTED };
	struct outq_row *all;
	size_t total = 0;
	int rc = 0;

	*n = 0;
	if (max == 0)
		return 0;
	if ((all = calloc(3 * max, sizeof(*all))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	/* Up to max of each state, then the max most overdue of those: no
	 * state starves another, and each round takes the oldest work. */
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		struct scan s = { order[i], now, false, all + total, 0, max,
			false, 0 };
		if ((states & (1u << order[i])) == 0)
			continue;
		rc = scan_state(t, &s, err);
		total += s.n;
	}
	if (rc == 0) {
		qsort(all, total, sizeof(*all), by_due);
		*n = total < max ? total : max;
		memcpy(rows, all, *n * sizeof(*rows));
	}
	free(all);
	return rc;
}

int
outq_all(struct vault_txn *t, int state, struct outq_row **rows, size_t *n,
    struct sira_err *err)
{
	struct scan s = { state, 0, true, NULL, 0, 0, true, 0 };
	int rc = scan_state(t, &s, err);

	if (rc != 0) {
		free(s.rows);
		s.rows = NULL;
		s.n = 0;
	}
	*rows = s.rows;
	*n = s.n;
	return rc;
}
