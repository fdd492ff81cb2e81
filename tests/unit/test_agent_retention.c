/*
 * test_agent_retention.c: the retention rules (agents/store/
 * conf_retention.c, agents/workflow/retention.c, erase_cases_in in
 * agents/workflow/erase.c) on a real vault. The agent.conf lines parse,
 * a kind's own line winning over the general one, and a wrong line is
 * refused with its number, leaving no rule at all. Each record gets its
 * kind (alert, child, transferred, declined, closed), is never due while
 * a step is open, and a held case is counted apart. At an agency's scale
 * (3,000 cases, more than every batch and buffer constant) the scan
 * reaches every case and erases exactly the due ones, except those
 * under a hold and those with a message still in flight; the others are
 * whole and the audit chain verifies.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>

#include "agent_fixture.h"

#include "wire.h"
#include "workflow/workflow.h"

#define DAY 86400ULL
#define N_CASES 3000

struct world {
	struct fx *fx;
	struct agent a;
	char home[600], vdir[700];
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->fx = fx_new());
	(void)snprintf(w->home, sizeof(w->home), "%s/home", w->fx->dir);
	assert_int_equal(mkdir(w->home, 0700), 0);
	(void)snprintf(w->a.home.dir, sizeof(w->a.home.dir), "%s", w->home);
	(void)snprintf(w->vdir, sizeof(w->vdir), "%s/vault", w->home);
	w->a.me = w->fx->police.cert;
	w->a.keys = w->fx->police.keys;
	w->a.ca = w->fx->ca;
	assert_int_equal(vault_open(w->vdir, w->fx->police.keys, 1ull << 28,
			     &w->a.vault, NULL),
	    0);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	vault_close(&w->a.vault);
	(void)nftw(w->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	fx_free(w->fx);
	free(w);
	return 0;
}

static int
parse(const char *text, struct retain_conf *c, struct sira_err *err)
{
	return retain_conf_parse(text, strlen(text), c, err);
}

static void
test_conf(void **state)
{
	struct retain_conf c;
	struct sira_err err = { 0 };

	(void)state;
	assert_int_equal(parse("broker = tcp://x:1\n", &c, &err), 0);
	for (int k = 0; k < RETAIN_KINDS; k++)
		assert_int_equal(c.days[k], 0); /* no rule: kept */
	/* The kind's own line wins, before or after the general one. */
	assert_int_equal(parse("retain_days.closed = 1825\nretain_days = 30\n"
			       "retain_days.child=3650\r\n",
			     &c, &err),
	    0);
	assert_int_equal(c.days[RETAIN_CLOSED], 1825);
	assert_int_equal(c.days[RETAIN_CHILD], 3650);
	assert_int_equal(c.days[RETAIN_DECLINED], 30);
	assert_int_equal(c.days[RETAIN_ALERT], 30);
	assert_int_equal(c.days[RETAIN_TRANSFERRED], 30);
	/* Refused with the line's number; then no rule at all. */
	assert_int_equal(
	    parse("retain_days = 30\n\nretain_days.victim = 3\n", &c, &err),
	    -SIRA_EINVAL);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_int_equal(c.days[RETAIN_DECLINED], 0);
	assert_int_equal(
	    parse("retain_days = 36501\n", &c, &err), -SIRA_EINVAL);
	assert_int_equal(parse("retain_days = -1\n", &c, &err), -SIRA_EINVAL);
	assert_int_equal(
	    parse("retain_days = 3 ans\n", &c, &err), -SIRA_EINVAL);
	assert_int_equal(
	    parse("retain_days.closed 5\n", &c, &err), -SIRA_EINVAL);
	assert_int_equal(
	    parse("retain_days = 99999999999999999999\n", &c, &err),
	    -SIRA_EINVAL);
	char longline[400];
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "retain_days = 5", 15);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(parse(longline, &c, &err), -SIRA_EINVAL);
	assert_non_null(strstr(err.msg, "line 1"));
	/* Other keys that merely start alike are not ours. */
	assert_int_equal(parse("retain_days_note = x\n", &c, &err), 0);
}

/* A leg in state s (malloc'd as free_unpacked expects). */
static void
add_leg(Sira__V1__CaseRecord *r, int s)
{
	Sira__V1__CaseLeg *l = malloc(sizeof(*l));

	assert_non_null(l);
	sira__v1__case_leg__init(l);
	l->from = strdup("ml.police.bamako");
	l->to = strdup("ml.ngo.espoir");
	l->state = (Sira__V1__LegState)s;
	r->legs = realloc(r->legs, (r->n_legs + 1) * sizeof(*r->legs));
	assert_non_null(r->legs);
	r->legs[r->n_legs++] = l;
}

static void
set_referral(Sira__V1__CaseRecord *r, bool alert, unsigned years)
{
	Sira__V1__Referral ref = SIRA__V1__REFERRAL__INIT;
	Sira__V1__Age age = SIRA__V1__AGE__INIT;

	ref.case_ref = r->case_ref;
	ref.anonymous_alert = alert;
	age.years = years;
	ref.age = &age;
	free(r->referral.data);
	assert_int_equal(
	    wire_pack(&ref.base, &r->referral.data, &r->referral.len, NULL), 0);
}

#define LEG(s) SIRA__V1__LEG_STATE__LEG_STATE_##s

static void
test_kinds(void **state)
{
	struct retain_conf c = { { 10, 20, 30, 40, 50 } };
	Sira__V1__CaseRecord *r = cases_new("MRN-2026-0001", FX_NOW);
	struct retain_item it;

	(void)state;
	assert_non_null(r);
	add_leg(r, LEG(DECLINED));
	retention_of(r, &c, &it);
	assert_int_equal(it.kind, RETAIN_DECLINED);
	assert_false(it.open);
	assert_true(it.due_at == FX_NOW + 40 * DAY);
	add_leg(r, LEG(COMPLETED));
	retention_of(r, &c, &it);
	assert_int_equal(it.kind, RETAIN_CLOSED);
	assert_true(it.due_at == FX_NOW + 50 * DAY);
	r->transferred_to = strdup("ml.social.segou");
	retention_of(r, &c, &it);
	assert_int_equal(it.kind, RETAIN_TRANSFERRED);
	set_referral(r, false, 14);
	retention_of(r, &c, &it);
	assert_int_equal(it.kind, RETAIN_CHILD);
	set_referral(r, true, 30);
	retention_of(r, &c, &it);
	assert_int_equal(it.kind, RETAIN_ALERT);
	assert_true(it.due_at == FX_NOW + 10 * DAY);
	/* A referral that does not parse: no rule can apply. */
	free(r->referral.data);
	r->referral.data = (uint8_t *)strdup("\xff\xff\xff\xff");
	r->referral.len = 4;
	retention_of(r, &c, &it);
	assert_true(it.unreadable);
	assert_true(it.due_at == 0);
	/* An open step: never due, whatever the date. */
	add_leg(r, LEG(STARTED));
	retention_of(r, &c, &it);
	assert_true(it.open);
	c.days[RETAIN_CLOSED] = 0;
	sira__v1__case_record__free_unpacked(r, NULL);
	r = cases_new("MRN-2026-0002", FX_NOW);
	add_leg(r, LEG(COMPLETED));
	retention_of(r, &c, &it);
	assert_true(it.due_at == 0); /* 0 days: kept */
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* Case i of the scale test: what it is, and whether erasing it is due. */
enum cls { OLD_DECLINED, OLD_CLOSED, RECENT_CLOSED, OPEN, HELD, IN_FLIGHT };
#define CLASSES 6

static void
ref_of(size_t i, char out[32])
{
	(void)snprintf(out, 32, "MRN-2025-%05zu", i);
}

static void
make_cases(struct world *w, uint64_t now, uint8_t (*done)[16], size_t *n_done)
{
	struct vault_txn *t = NULL;
	const char *to[1] = { "ml.ngo.espoir" };
	uint8_t id[16];
	char ref[32];

	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	for (size_t i = 0; i < N_CASES; i++) {
		enum cls k = (enum cls)(i % CLASSES);
		uint64_t at = now - (k == RECENT_CLOSED ? 10 : 400) * DAY;
		Sira__V1__CaseRecord *r;
		ref_of(i, ref);
		assert_non_null(r = cases_new(ref, at));
		add_leg(r,
		    k == OPEN                                 ? LEG(PENDING) :
			k == OLD_CLOSED || k == RECENT_CLOSED ? LEG(COMPLETED) :
								LEG(DECLINED));
		if (k == HELD) {
			r->hold = malloc(sizeof(*r->hold));
			assert_non_null(r->hold);
			sira__v1__legal_hold__init(r->hold);
			r->hold->by = strdup("ml.justice.pole");
			r->hold->basis = strdup("Instruction 12/2026");
		}
		assert_int_equal(cases_save(t, r, at, NULL), 0);
		sira__v1__case_record__free_unpacked(r, NULL);
		if (k == IN_FLIGHT || k == OLD_CLOSED)
			assert_int_equal(
			    book_queue(t,
				&(struct outgoing){ to, 1, 1,
				    "sira.referral.v1", ref,
				    bytes_of("note", 4), 3600, NULL },
				at, id, NULL),
			    0);
		if (k == OLD_CLOSED)
			memcpy(done[(*n_done)++], id, 16);
	}
	assert_int_equal(vault_commit(&t, NULL), 0);
}

static int
count_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	size_t *n = ctx;

	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*n)++;
	return 0;
}

static size_t
count(struct world *w, enum vault_table table)
{
	struct vault_txn *t = NULL;
	size_t n = 0;

	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	assert_int_equal(vault_each(t, table, count_row, &n, NULL), 0);
	vault_abort(&t);
	return n;
}

/* The OLD_CLOSED cases' notes are done: their receipts came back. */
static void
deliver(struct world *w, uint8_t (*ids)[16], size_t n)
{
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		Sira__V1__OutboxEntry *e = NULL;
		assert_int_equal(book_get_out(t, ids[i], &e, NULL), 0);
		e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED;
		assert_int_equal(book_put_out(t, e, FX_NOW, NULL), 0);
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	}
	assert_int_equal(vault_commit(&t, NULL), 0);
}

static void
test_scale(void **state)
{
	struct world *w = *state;
	struct retain_conf c = { { 0 } };
	struct retain_list l;
	struct retention_done d;
	struct vault_txn *t = NULL;
	const size_t per = N_CASES / CLASSES;
	char ref[32];

	c.days[RETAIN_DECLINED] = 365;
	c.days[RETAIN_CLOSED] = 365;
	uint8_t(*done)[16] = calloc(N_CASES, 16);
	size_t n_done = 0;

	assert_non_null(done);
	make_cases(w, FX_NOW, done, &n_done);
	assert_int_equal(n_done, per);
	deliver(w, done, n_done);
	free(done);
	assert_int_equal(count(w, VT_OUTBOX), 2 * per);
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	assert_int_equal(retention_scan(t, &c, FX_NOW, &l, NULL), 0);
	vault_abort(&t);
	assert_int_equal(l.cases, N_CASES);
	assert_int_equal(l.open, per);
	assert_int_equal(l.held, per);
	assert_int_equal(
	    l.n, 3 * per); /* old declined, old closed, in flight */
	assert_true(l.n > RETENTION_BATCH);
	assert_int_equal(retention_erase(&w->a, &l,
			     &(struct erase_req){ .reason = "retention",
				 .me = w->a.me->agency_id,
				 .now = FX_NOW },
			     &d, NULL),
	    0);
	assert_int_equal(d.b.erased, 2 * per);
	assert_int_equal(d.b.busy, per);
	assert_int_equal(d.b.outbox, per); /* the delivered notes */
	retention_list_free(&l);
	/* Exactly the due cases are gone; every other one is whole. */
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	for (size_t i = 0; i < N_CASES; i++) {
		enum cls k = (enum cls)(i % CLASSES);
		Sira__V1__CaseRecord *r = NULL;
		int rc;
		ref_of(i, ref);
		rc = cases_load(t, ref, &r, NULL);
		if (k == OLD_DECLINED || k == OLD_CLOSED)
			assert_int_not_equal(rc, 0);
		else
			assert_int_equal(rc, 0);
		if (r != NULL)
			sira__v1__case_record__free_unpacked(r, NULL);
	}
	uint64_t entries = 0, bad = 1;
	assert_int_equal(book_audit_verify(t, &entries, &bad, NULL), 0);
	assert_int_equal(bad, 0);
	vault_abort(&t);
	assert_int_equal(count(w, VT_OUTBOX), per); /* in flight, kept */
	/* Run again: only the in-flight ones are still due, and kept. */
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	assert_int_equal(retention_scan(t, &c, FX_NOW, &l, NULL), 0);
	vault_abort(&t);
	assert_int_equal(l.n, per);
	assert_int_equal(l.cases, N_CASES - 2 * per);
	assert_int_equal(retention_erase(&w->a, &l,
			     &(struct erase_req){ .reason = "retention",
				 .me = w->a.me->agency_id,
				 .now = FX_NOW },
			     &d, NULL),
	    0);
	assert_int_equal(d.b.erased, 0);
	assert_int_equal(d.b.busy, per);
	retention_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
