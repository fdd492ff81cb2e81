/*
 * test_agent_stats.c: agents/workflow/stats.c and stats_book.c, the
 * national figures (docs/STATS.md): age groups and regions, what a case
 * becomes in a report (and what never does), the check of a report that
 * came from another agency, one person reported by two agencies counted
 * once, the suppression of small cells (a cell of 3) and of the cell that
 * would give a hidden one away, the newest report of (agency, period)
 * kept, and a report built from thousands of cases in a real vault.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/crypto.h"
#include "keyfile.h"
#include "sign.h"
#include "store/store.h"
#include "wire.h"
#include "workflow/workflow.h"

#define NGO "ml.ngo.espoir"
#define POL "ml.police.segou"
#define NOV 202611u

static const uint8_t KEY[PSEUDONYM_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
person(void *ctx, const char *case_ref, uint8_t out[STATS_PERSON_LEN])
{
	pseudonym_of(ctx, case_ref, out);
}

static const struct stats_pseudo PS = { person, (void *)(uintptr_t)KEY };

/* ---- categories ---- */

static int
age(uint32_t years, uint32_t lo, uint32_t hi, bool minor)
{
	Sira__V1__Age a = SIRA__V1__AGE__INIT;

	a.years = years;
	a.min_years = lo;
	a.max_years = hi;
	a.is_minor = minor;
	return stats_age_group(&a);
}

static void
test_age_groups(void **state)
{
	(void)state;
	assert_int_equal(
	    stats_age_group(NULL), SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN);
	assert_int_equal(
	    age(11, 0, 0, true), SIRA__V1__STATS_AGE__STATS_AGE_0_11);
	assert_int_equal(
	    age(12, 0, 0, true), SIRA__V1__STATS_AGE__STATS_AGE_12_17);
	assert_int_equal(
	    age(17, 0, 0, true), SIRA__V1__STATS_AGE__STATS_AGE_12_17);
	assert_int_equal(
	    age(18, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_18_24);
	assert_int_equal(
	    age(24, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_18_24);
	assert_int_equal(
	    age(25, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_25_34);
	assert_int_equal(
	    age(34, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_25_34);
	assert_int_equal(
	    age(35, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_35_UP);
	assert_int_equal(
	    age(90, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_35_UP);
	/* A range inside one group is that group. */
	assert_int_equal(
	    age(0, 13, 16, true), SIRA__V1__STATS_AGE__STATS_AGE_12_17);
	assert_int_equal(
	    age(0, 26, 30, false), SIRA__V1__STATS_AGE__STATS_AGE_25_34);
	/* Across groups: a child, or nothing known. */
	assert_int_equal(
	    age(0, 10, 14, true), SIRA__V1__STATS_AGE__STATS_AGE_MINOR);
	assert_int_equal(
	    age(0, 16, 20, true), SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN);
	assert_int_equal(
	    age(0, 20, 40, false), SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN);
	/* No years and no range: only is_minor speaks. */
	assert_int_equal(
	    age(0, 0, 0, true), SIRA__V1__STATS_AGE__STATS_AGE_MINOR);
	assert_int_equal(
	    age(0, 0, 0, false), SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN);
}

static void
test_regions(void **state)
{
	(void)state;
	assert_int_equal(
	    stats_region("Ségou, cercle de Ségou, commune urbaine"),
	    SIRA__V1__STATS_REGION__STATS_REGION_SEGOU);
	assert_int_equal(
	    stats_region("SÉGOU"), SIRA__V1__STATS_REGION__STATS_REGION_SEGOU);
	assert_int_equal(stats_region("site d'orpaillage, Kéniéba"),
	    SIRA__V1__STATS_REGION__STATS_REGION_KAYES);
	assert_int_equal(stats_region("Kati"),
	    SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO);
	assert_int_equal(stats_region("Commune V du district de Bamako"),
	    SIRA__V1__STATS_REGION__STATS_REGION_BAMAKO);
	assert_int_equal(stats_region("Ménaka"),
	    SIRA__V1__STATS_REGION__STATS_REGION_MENAKA);
	assert_int_equal(stats_region("gare routière de Tombouctou"),
	    SIRA__V1__STATS_REGION__STATS_REGION_TOMBOUCTOU);
	/* The first place named decides. */
	assert_int_equal(stats_region("Sikasso, venant de Mopti"),
	    SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO);
	/* Whole words only, and nothing else is guessed. */
	assert_int_equal(stats_region("Ségouville"),
	    SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN);
	assert_int_equal(stats_region("quelque part à la frontière"),
	    SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN);
	assert_int_equal(
	    stats_region(""), SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN);
	assert_int_equal(
	    stats_region(NULL), SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN);
	assert_int_equal(
	    stats_region("\xc3"), SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN);
}

static void
test_periods(void **state)
{
	uint32_t p = 0;

	(void)state;
	assert_int_equal(stats_period_parse("2026-11", &p), 0);
	assert_int_equal(p, NOV);
	assert_int_equal(stats_period_parse("2026-13", &p), -SIRA_EINVAL);
	assert_int_equal(stats_period_parse("2026-1", &p), -SIRA_EINVAL);
	assert_int_equal(stats_period_parse("2026-11x", &p), -SIRA_EINVAL);
	assert_int_equal(stats_period_add(202601, -1), 202512u);
	assert_int_equal(stats_period_add(202611, 2), 202701u);
	assert_int_equal(stats_period_add(202611, -26), 202409u);
	/* 2026-11-30 23:59:59 UTC, then 2026-12-01 00:00:00. */
	assert_int_equal(stats_period_of(1796083199), NOV);
	assert_int_equal(stats_period_of(1796083200), 202612u);
}

/* ---- one case ---- */

static uint8_t *
referral_bytes(const char *ref, size_t *len)
{
	Sira__V1__Referral r = SIRA__V1__REFERRAL__INIT;
	Sira__V1__Age a = SIRA__V1__AGE__INIT;
	Sira__V1__Identification id = SIRA__V1__IDENTIFICATION__INIT;
	Sira__V1__IdentifyingDetails d = SIRA__V1__IDENTIFYING_DETAILS__INIT;
	Sira__V1__ExploitationType types[] = {
		SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_BEGGING,
		SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SERVITUDE
	};
	Sira__V1__Need needs[] = { SIRA__V1__NEED__NEED_SHELTER };
	uint8_t *b = NULL;

	r.case_ref = (char *)(uintptr_t)ref;
	r.victim_ref = "V-SEG-0107";
	a.years = 14;
	a.is_minor = true;
	r.age = &a;
	r.sex = SIRA__V1__SEX__SEX_FEMALE;
	r.nationality = "ML";
	r.n_exploitation = 2;
	r.exploitation = types;
	r.n_needs = 1;
	r.needs = needs;
	id.place = "Ségou, quartier Pélengana";
	id.date = 1794700800; /* 2026-11-15 */
	r.identification = &id;
	d.full_name = "Aminata Fictive";
	d.phone = "+223 77 00 00 00";
	r.identifying = &d;
	r.notes = "Note confidentielle";
	assert_int_equal(wire_pack(&r.base, &b, len, NULL), 0);
	return b;
}

static Sira__V1__CaseRecord *
record(const char *ref, int leg_state)
{
	Sira__V1__CaseRecord *r = cases_new(ref, 1794700800);
	uint8_t *b, id[16] = { 7 };
	size_t len;

	assert_non_null(r);
	b = referral_bytes(ref, &len);
	assert_int_equal(
	    cases_refer(r, &(struct case_msg){ POL, NGO, id, 1794700800 }, b,
		len, NULL),
	    0);
	free(b);
	if (leg_state != 0)
		r->legs[0]->state = (Sira__V1__LegState)leg_state;
	return r;
}

static bool
contains(const uint8_t *b, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(b + i, s, n) == 0)
			return true;
	return false;
}

static void
test_case_from(void **state)
{
	Sira__V1__CaseRecord *r =
	    record("MRN-2026-0042", SIRA__V1__LEG_STATE__LEG_STATE_STARTED);
	Sira__V1__StatsCase *c = NULL;
	uint8_t want[32], *b = NULL;
	size_t len;

	(void)state;
	assert_int_equal(stats_case_from(r, &PS, &c), 0);
	assert_non_null(c);
	pseudonym_of(KEY, "MRN-2026-0042", want);
	assert_int_equal(c->person.len, 32);
	assert_memory_equal(c->person.data, want, 32);
	assert_int_equal(c->month, NOV);
	assert_int_equal(c->sex, SIRA__V1__SEX__SEX_FEMALE);
	assert_int_equal(c->age, SIRA__V1__STATS_AGE__STATS_AGE_12_17);
	assert_string_equal(c->nationality, "ML");
	assert_int_equal(c->region, SIRA__V1__STATS_REGION__STATS_REGION_SEGOU);
	assert_int_equal(
	    c->outcome, SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_STARTED);
	assert_int_equal(c->n_exploitation, 2);
	assert_int_equal(c->n_needs, 1);
	/* What travels never holds the name, phone, note, place, age in
	 * years or the references. */
	assert_int_equal(wire_pack(&c->base, &b, &len, NULL), 0);
	assert_false(contains(b, len, "Aminata"));
	assert_false(contains(b, len, "+223"));
	assert_false(contains(b, len, "confidentielle"));
	assert_false(contains(b, len, "lengana"));
	assert_false(contains(b, len, "MRN-2026"));
	assert_false(contains(b, len, "V-SEG"));
	free(b);
	sira__v1__stats_case__free_unpacked(c, NULL);
	/* Another key, another pseudonym: nobody without the key links. */
	{
		uint8_t other[PSEUDONYM_KEY_LEN] = { 9 }, p2[32];
		pseudonym_of(other, "MRN-2026-0042", p2);
		assert_memory_not_equal(p2, want, 32);
	}
	/* The furthest leg decides; a withdrawn one is no referral. */
	r->legs[0]->state = SIRA__V1__LEG_STATE__LEG_STATE_WITHDRAWN;
	assert_int_equal(stats_outcome(r),
	    SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_IDENTIFIED);
	r->legs[0]->state = SIRA__V1__LEG_STATE__LEG_STATE_DECLINED;
	assert_int_equal(
	    stats_outcome(r), SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_DECLINED);
	sira__v1__case_record__free_unpacked(r, NULL);
	/* A case without a referral (only notes) is not counted. */
	r = cases_new("MRN-2026-0099", 1794700800);
	assert_int_equal(stats_case_from(r, &PS, &c), 0);
	assert_null(c);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* ---- reports, by hand ---- */

struct person_spec {
	uint8_t tag; /* the pseudonym: 32 bytes of tag */
	int sex, type, outcome;
};

static Sira__V1__StatsReport *
report(const char *agency, const struct person_spec *ps, size_t n,
    uint64_t made_at)
{
	Sira__V1__StatsReport *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	sira__v1__stats_report__init(r);
	r->version = 1;
	r->agency_id = strdup(agency);
	r->period = NOV;
	r->made_at = made_at;
	r->key_id.data = calloc(1, STATS_KEY_ID_LEN);
	r->key_id.len = STATS_KEY_ID_LEN;
	r->cases = calloc(n + 1, sizeof(*r->cases));
	for (size_t i = 0; i < n; i++) {
		Sira__V1__StatsCase *c = calloc(1, sizeof(*c));
		sira__v1__stats_case__init(c);
		c->person.data = malloc(32);
		memset(c->person.data, ps[i].tag, 32);
		c->person.len = 32;
		c->month = NOV;
		c->sex = (Sira__V1__Sex)ps[i].sex;
		c->nationality = strdup("ML");
		c->outcome = (Sira__V1__StatsOutcome)ps[i].outcome;
		c->exploitation = calloc(1, sizeof(int));
		if (ps[i].type != 0) {
			c->exploitation[0] =
			    (Sira__V1__ExploitationType)ps[i].type;
			c->n_exploitation = 1;
		}
		r->cases[r->n_cases++] = c;
	}
	return r;
}

#define F SIRA__V1__SEX__SEX_FEMALE
#define M SIRA__V1__SEX__SEX_MALE
#define SEXUAL SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SEXUAL
#define BEG SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_BEGGING
#define LAB SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_CHILD_LABOUR
#define REFERRED SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_REFERRED
#define STARTED SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_STARTED

static const struct stats_row *
row(const struct stats_table *t, uint32_t key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].key == key)
			return &t->rows[i];
	fail_msg("no row %u", (unsigned)key);
	return NULL;
}

static void
test_two_agencies_one_person(void **state)
{
	/* Person 1 at both: the police says referred (sexual), the NGO
	 * says services started (and adds begging). */
	struct person_spec pol[] = { { 1, F, SEXUAL, REFERRED },
		{ 2, M, BEG, REFERRED } };
	struct person_spec ngo[] = { { 1, 0, BEG, STARTED },
		{ 3, F, BEG, STARTED } };
	Sira__V1__StatsReport *a = report(POL, pol, 2, 10),
			      *b = report(NGO, ngo, 2, 10);
	struct stats_set s = { 0 };
	struct stats_table t;

	(void)state;
	assert_int_equal(stats_report_validate(a, POL, NULL), 0);
	assert_int_equal(stats_set_add(&s, a, NOV, NOV), 0);
	assert_int_equal(stats_set_add(&s, b, NOV, NOV), 0);
	assert_int_equal(s.n, 4);
	stats_set_merge(&s);
	assert_int_equal(s.n, 3);
	assert_int_equal(stats_tabulate(&s, STATS_BY_TYPE, &t), 0);
	assert_int_equal(t.total.n[0], 3);
	assert_int_equal(t.total.n[2], 2); /* person 1 assisted, once */
	assert_int_equal(row(&t, BEG)->n[0], 3);
	assert_int_equal(row(&t, SEXUAL)->n[0], 1);
	stats_table_free(&t);
	assert_int_equal(stats_tabulate(&s, STATS_BY_SEX, &t), 0);
	assert_int_equal(row(&t, F)->n[0], 2); /* the known sex won */
	assert_int_equal(row(&t, M)->n[0], 1);
	stats_table_free(&t);
	/* Outside the months asked: nothing. */
	stats_set_free(&s);
	assert_int_equal(stats_set_add(&s, a, 202612, 202612), 0);
	assert_int_equal(s.n, 0);
	stats_set_free(&s);
	sira__v1__stats_report__free_unpacked(a, NULL);
	sira__v1__stats_report__free_unpacked(b, NULL);
}

static void
test_suppression(void **state)
{
	/* 3 sexual (a cell of 3), 9 begging, 1 child labour. */
	struct person_spec p[13];
	Sira__V1__StatsReport *r;
	struct stats_set s = { 0 };
	struct stats_table t;
	struct stats_cross x;

	(void)state;
	for (uint8_t i = 0; i < 13; i++)
		p[i] = (struct person_spec){ (uint8_t)(i + 1), i < 4 ? M : F,
			i < 3      ? SEXUAL :
			    i < 12 ? BEG :
				     LAB,
			i < 6 ? STARTED : REFERRED };
	r = report(NGO, p, 13, 10);
	assert_int_equal(stats_set_add(&s, r, NOV, NOV), 0);
	stats_set_merge(&s);
	assert_int_equal(stats_tabulate(&s, STATS_BY_TYPE, &t), 0);
	stats_suppress(&t, 5);
	assert_int_equal(row(&t, SEXUAL)->n[0], 3);
	assert_true(row(&t, SEXUAL)->hidden[0]);
	assert_true(row(&t, LAB)->hidden[0]);
	assert_false(row(&t, BEG)->hidden[0]);
	assert_false(t.total.hidden[0]);
	/* Assisted: sexual 3 and begging 3 (both hidden), labour 0 shown. */
	assert_true(row(&t, SEXUAL)->hidden[2]);
	assert_true(row(&t, BEG)->hidden[2]);
	assert_false(row(&t, LAB)->hidden[2]);
	stats_table_free(&t);
	/* By sex: male 4 hidden; female 9 would give it away (13 - 9). */
	assert_int_equal(stats_tabulate(&s, STATS_BY_SEX, &t), 0);
	stats_suppress(&t, 5);
	assert_true(row(&t, M)->hidden[0]);
	assert_true(row(&t, F)->hidden[0]);
	stats_table_free(&t);
	/* Threshold 3: the 3 is shown, the 1 hidden, and the smallest other
	 * cell with it. */
	assert_int_equal(stats_tabulate(&s, STATS_BY_TYPE, &t), 0);
	stats_suppress(&t, 3);
	assert_false(row(&t, BEG)->hidden[0]);
	assert_true(row(&t, LAB)->hidden[0]);
	assert_true(row(&t, SEXUAL)->hidden[0]);
	stats_table_free(&t);
	/* The chart's cells follow the same rule. */
	assert_int_equal(stats_cross(&s, 5, &x), 0);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.months[0], NOV);
	assert_int_equal(x.cell[0][SEXUAL], 3);
	assert_true(x.hidden[0][SEXUAL]);
	assert_false(x.hidden[0][BEG]);
	stats_cross_free(&x);
	stats_set_free(&s);
	sira__v1__stats_report__free_unpacked(r, NULL);
}

static void
test_validate(void **state)
{
	struct person_spec p[] = { { 1, F, SEXUAL, STARTED } };
	Sira__V1__StatsReport *r = report(NGO, p, 1, 10);
	struct sira_err e;

	(void)state;
	assert_int_equal(stats_report_validate(r, NGO, &e), 0);
	assert_int_equal(stats_report_validate(r, POL, &e), -SIRA_EMALFORMED);
#define BAD(change, undo) \
	do { \
		change; \
		assert_int_equal( \
		    stats_report_validate(r, NGO, &e), -SIRA_EMALFORMED); \
		undo; \
		assert_int_equal(stats_report_validate(r, NGO, &e), 0); \
	} while (0)
	BAD(r->version = 2, r->version = 1);
	BAD(r->period = 202613, r->period = NOV);
	BAD(r->made_at = 0, r->made_at = 10);
	BAD(r->key_id.len = 8, r->key_id.len = STATS_KEY_ID_LEN);
	BAD(r->cases[0]->month = 202610, r->cases[0]->month = NOV);
	BAD(r->cases[0]->person.len = 31, r->cases[0]->person.len = 32);
	BAD(r->cases[0]->sex = 5, r->cases[0]->sex = F);
	BAD(r->cases[0]->age = 7, r->cases[0]->age = 0);
	BAD(r->cases[0]->region = 12, r->cases[0]->region = 0);
	BAD(r->cases[0]->outcome = 6, r->cases[0]->outcome = STARTED);
	BAD(r->cases[0]->exploitation[0] = 11,
	    r->cases[0]->exploitation[0] = SEXUAL);
	BAD(r->cases[0]->nationality[0] = 'm',
	    r->cases[0]->nationality[0] = 'M');
	BAD(r->n_cases = STATS_CASES_MAX + 1, r->n_cases = 1);
#undef BAD
	sira__v1__stats_report__free_unpacked(r, NULL);
}

/* ---- in a vault ---- */

struct vfx {
	char dir[64], vdir[128];
	struct sira_keys *keys;
	struct vault *v;
};

static void
rm_dir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
			(int)sizeof(path))
			(void)unlink(path);
	closedir(d);
	(void)rmdir(dir);
}

static int
vsetup(void **state)
{
	struct vfx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-stats-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->vdir, sizeof(fx->vdir), "%s/vault", fx->dir);
	fx->keys = keys_new();
	assert_non_null(fx->keys);
	(void)snprintf(fx->keys->agency_id, sizeof(fx->keys->agency_id), NGO);
	sign_keygen(fx->keys->sign_pk, fx->keys->sign_sk);
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, 256u << 20, &fx->v, NULL), 0);
	*state = fx;
	return 0;
}

static int
vteardown(void **state)
{
	struct vfx *fx = *state;

	vault_close(&fx->v);
	rm_dir(fx->vdir);
	rm_dir(fx->dir);
	keys_destroy(&fx->keys);
	free(fx);
	return 0;
}

/* Store a packed Payload holding r as sender's report. */
static int
take(struct vault *v, const char *sender, Sira__V1__StatsReport *r, bool *kept)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	struct vault_txn *t = NULL;
	uint8_t *b = NULL;
	size_t len;
	int rc;

	p.body_case = SIRA__V1__PAYLOAD__BODY_STATS_REPORT;
	p.stats_report = r;
	assert_int_equal(wire_pack(&p.base, &b, &len, NULL), 0);
	assert_int_equal(vault_begin(v, true, &t, NULL), 0);
	rc = stats_take(t, sender, b, len, kept, NULL);
	if (rc == 0)
		assert_int_equal(vault_commit(&t, NULL), 0);
	vault_abort(&t);
	free(b);
	return rc;
}

struct tally {
	size_t reports, cases;
	uint64_t made_at;
};

static int
tally(void *ctx, const Sira__V1__StatsReport *r)
{
	struct tally *y = ctx;

	y->reports++;
	y->cases += r->n_cases;
	y->made_at = r->made_at;
	return 0;
}

static struct tally
kept_reports(struct vault *v)
{
	struct vault_txn *t = NULL;
	struct tally y = { 0 };

	assert_int_equal(vault_begin(v, false, &t, NULL), 0);
	assert_int_equal(stats_reports_each(t, tally, &y, NULL), 0);
	vault_abort(&t);
	return y;
}

static void
test_newest_report_kept(void **state)
{
	struct vfx *fx = *state;
	struct person_spec one[] = { { 1, F, SEXUAL, STARTED } };
	struct person_spec two[] = { { 1, F, SEXUAL, STARTED },
		{ 2, M, BEG, REFERRED } };
	Sira__V1__StatsReport *old = report(NGO, one, 1, 100),
			      *nw = report(NGO, two, 2, 200);
	struct tally y;
	bool kept;

	assert_int_equal(take(fx->v, NGO, old, &kept), 0);
	assert_true(kept);
	assert_int_equal(take(fx->v, NGO, nw, &kept), 0);
	assert_true(kept);
	y = kept_reports(fx->v);
	assert_int_equal(y.reports, 1); /* replaced, not added */
	assert_int_equal(y.cases, 2);
	/* The older one arriving late changes nothing. */
	assert_int_equal(take(fx->v, NGO, old, &kept), 0);
	assert_false(kept);
	assert_int_equal(kept_reports(fx->v).made_at, 200);
	/* A report claiming another agency is refused. */
	assert_int_equal(take(fx->v, POL, nw, &kept), -SIRA_EMALFORMED);
	assert_int_equal(kept_reports(fx->v).reports, 1);
	sira__v1__stats_report__free_unpacked(old, NULL);
	sira__v1__stats_report__free_unpacked(nw, NULL);
}

/* Thousands of cases in a real vault: every one of the month is read,
 * none of the others, whatever their number. */
static void
test_build_at_scale(void **state)
{
	struct vfx *fx = *state;
	enum { N = 4000 };
	struct vault_txn *t = NULL;
	Sira__V1__StatsReport *r = NULL;
	uint8_t kid[STATS_KEY_ID_LEN] = { 0 };
	struct stats_set s = { 0 };
	char ref[32];

	assert_int_equal(vault_begin(fx->v, true, &t, NULL), 0);
	for (int i = 0; i < N; i++) {
		Sira__V1__CaseRecord *c;
		(void)snprintf(ref, sizeof(ref), "MRN-2026-%05d", i);
		c = record(
		    ref, i % 2 ? SIRA__V1__LEG_STATE__LEG_STATE_STARTED : 0);
		/* One in four identified in October. */
		if (i % 4 == 0) {
			Sira__V1__Referral *rf = sira__v1__referral__unpack(
			    NULL, c->referral.len, c->referral.data);
			uint8_t *b;
			size_t len;
			rf->identification->date = 1792000000; /* 2026-10 */
			assert_int_equal(
			    wire_pack(&rf->base, &b, &len, NULL), 0);
			free(c->referral.data);
			c->referral.data = b;
			c->referral.len = len;
			sira__v1__referral__free_unpacked(rf, NULL);
		}
		assert_int_equal(cases_save(t, c, 1794700800, NULL), 0);
		sira__v1__case_record__free_unpacked(c, NULL);
	}
	assert_int_equal(vault_commit(&t, NULL), 0);
	assert_int_equal(vault_begin(fx->v, false, &t, NULL), 0);
	assert_int_equal(
	    stats_build(t, &(struct stats_ask){ NGO, NOV, 1796083300, kid, PS },
		&r, NULL),
	    0);
	vault_abort(&t);
	assert_int_equal(r->n_cases, N - N / 4);
	assert_int_equal(stats_report_validate(r, NGO, NULL), 0);
	/* Reported twice (two agencies): still N - N / 4 persons. */
	assert_int_equal(stats_set_add(&s, r, NOV, NOV), 0);
	assert_int_equal(stats_set_add(&s, r, NOV, NOV), 0);
	stats_set_merge(&s);
	assert_int_equal(s.n, N - N / 4);
	stats_set_free(&s);
	sira__v1__stats_report__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_groups),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_case_from),
		cmocka_unit_test(test_two_agencies_one_person),
		cmocka_unit_test(test_suppression),
		cmocka_unit_test(test_validate),
		cmocka_unit_test_setup_teardown(
		    test_newest_report_kept, vsetup, vteardown),
		cmocka_unit_test_setup_teardown(
		    test_build_at_scale, vsetup, vteardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
