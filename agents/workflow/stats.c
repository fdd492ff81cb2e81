/*
 * stats.c: the national figures (workflow.h, docs/STATS.md). At an
 * agency: what a case becomes in a statistical report (a pseudonym and
 * coarse categories) and the report of a month. At the committee: the
 * check of a report, the persons merged by pseudonym across agencies, the
 * tables and their suppression. Pure functions, except stats_build which
 * reads the cases once; bounded by STATS_CASES_MAX per report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "wire.h"
#include "i18n.h"
#include "workflow/workflow.h"

/* ---- periods ---- */

bool
stats_period_valid(uint32_t p)
{
	return p / 100 >= 2000 && p / 100 <= 2999 && p % 100 >= 1 &&
	    p % 100 <= 12;
}

uint32_t
stats_period_of(uint64_t unix_time)
{
	time_t t = (time_t)unix_time;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	return (uint32_t)(tm.tm_year + 1900) * 100 + (uint32_t)(tm.tm_mon + 1);
}

uint32_t
stats_period_add(uint32_t p, int months)
{
	int m = (int)(p / 100) * 12 + (int)(p % 100) - 1 + months;

	return (uint32_t)(m / 12) * 100 + (uint32_t)(m % 12) + 1;
}

int
stats_period_parse(const char *s, uint32_t *p)
{
	uint32_t v = 0;

	if (strlen(s) != 7 || s[4] != '-')
		return -SIRA_EINVAL;
	for (size_t i = 0; i < 7; i++) {
		if (i == 4)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -SIRA_EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*p = v;
	return stats_period_valid(v) ? 0 : -SIRA_EINVAL;
}

/* ---- categories ---- */

static int
age_of_years(uint32_t y)
{
	if (y <= 11)
		return SIRA__V1__STATS_AGE__STATS_AGE_0_11;
	if (y <= 17)
		return SIRA__V1__STATS_AGE__STATS_AGE_12_17;
	if (y <= 24)
		return SIRA__V1__STATS_AGE__STATS_AGE_18_24;
	if (y <= 34)
		return SIRA__V1__STATS_AGE__STATS_AGE_25_34;
	return SIRA__V1__STATS_AGE__STATS_AGE_35_UP;
}

int
stats_age_group(const Sira__V1__Age *a)
{
	int lo, hi;

	if (a == NULL)
		return SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN;
	if (a->min_years != 0 || a->max_years != 0) {
		lo = age_of_years(a->min_years);
		hi = age_of_years(a->max_years);
		if (lo == hi)
			return lo;
		/* A range across groups: only whether a child is known. */
		if (a->is_minor || a->max_years < 18)
			return hi <= SIRA__V1__STATS_AGE__STATS_AGE_12_17 ?
			    SIRA__V1__STATS_AGE__STATS_AGE_MINOR :
			    SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN;
		return SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN;
	}
	if (a->years != 0)
		return age_of_years(a->years);
	/* years 0 without a range says nothing but is_minor. */
	return a->is_minor ? SIRA__V1__STATS_AGE__STATS_AGE_MINOR :
			     SIRA__V1__STATS_AGE__STATS_AGE_UNKNOWN;
}

/* Places (regions, their capitals and main cercles) -> region. */
static const struct {
	const char *word;
	int region;
} places[] = {
	{ "kayes", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "kita", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "nioro", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "kenieba", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "bafoulabe", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "diema", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "yelimane", SIRA__V1__STATS_REGION__STATS_REGION_KAYES },
	{ "koulikoro", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "kati", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "kangaba", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "kolokani", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "banamba", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "dioila", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "nara", SIRA__V1__STATS_REGION__STATS_REGION_KOULIKORO },
	{ "sikasso", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "bougouni", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "koutiala", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "kadiolo", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "yanfolila", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "kolondieba", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "yorosso", SIRA__V1__STATS_REGION__STATS_REGION_SIKASSO },
	{ "segou", SIRA__V1__STATS_REGION__STATS_REGION_SEGOU },
	{ "niono", SIRA__V1__STATS_REGION__STATS_REGION_SEGOU },
	{ "macina", SIRA__V1__STATS_REGION__STATS_REGION_SEGOU },
	{ "baroueli", SIRA__V1__STATS_REGION__STATS_REGION_SEGOU },
	{ "tominian", SIRA__V1__STATS_REGION__STATS_REGION_SEGOU },
	{ "mopti", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "sevare", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "djenne", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "bandiagara", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "douentza", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "bankass", SIRA__V1__STATS_REGION__STATS_REGION_MOPTI },
	{ "tombouctou", SIRA__V1__STATS_REGION__STATS_REGION_TOMBOUCTOU },
	{ "timbuktu", SIRA__V1__STATS_REGION__STATS_REGION_TOMBOUCTOU },
	{ "goundam", SIRA__V1__STATS_REGION__STATS_REGION_TOMBOUCTOU },
	{ "niafunke", SIRA__V1__STATS_REGION__STATS_REGION_TOMBOUCTOU },
	{ "gao", SIRA__V1__STATS_REGION__STATS_REGION_GAO },
	{ "ansongo", SIRA__V1__STATS_REGION__STATS_REGION_GAO },
	{ "bourem", SIRA__V1__STATS_REGION__STATS_REGION_GAO },
	{ "kidal", SIRA__V1__STATS_REGION__STATS_REGION_KIDAL },
	{ "tessalit", SIRA__V1__STATS_REGION__STATS_REGION_KIDAL },
	{ "menaka", SIRA__V1__STATS_REGION__STATS_REGION_MENAKA },
	{ "taoudenit", SIRA__V1__STATS_REGION__STATS_REGION_TAOUDENIT },
	{ "taoudeni", SIRA__V1__STATS_REGION__STATS_REGION_TAOUDENIT },
	{ "bamako", SIRA__V1__STATS_REGION__STATS_REGION_BAMAKO },
};

/* The ASCII letter a UTF-8 Latin-1 letter folds to (é -> e), or 0. */
static char
fold2(unsigned char b1)
{
	static const char map[] = "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
	char c;

	if (b1 < 0x80 || b1 > 0xbf)
		return 0;
	c = map[(b1 - 0x80) % 32];
	return c == '/' ? 0 : c;
}

/* The next word of place from *i: lower-case ASCII letters, accents
 * folded, into w (at most len - 1). Returns its length, 0 at the end. */
static size_t
next_word(const char *place, size_t *i, char *w, size_t len)
{
	const unsigned char *s = (const unsigned char *)place;
	size_t n = 0;
	char c;

	for (; s[*i] != '\0'; (*i)++) {
		c = 0;
		if ((s[*i] >= 'a' && s[*i] <= 'z') ||
		    (s[*i] >= 'A' && s[*i] <= 'Z'))
			c = (char)(s[*i] | 0x20);
		else if (s[*i] == 0xc3 && s[*i + 1] != '\0') {
			c = fold2(s[*i + 1]);
			(*i)++;
		}
		if (c == 0 && n > 0) {
			(*i)++;
			break;
		}
		if (c != 0 && n + 1 < len)
			w[n++] = c;
	}
	w[n] = '\0';
	return n;
}

int
stats_region(const char *place)
{
	char w[32];
	size_t i = 0;

	if (place == NULL)
		return SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN;
	while (next_word(place, &i, w, sizeof(w)) > 0)
		for (size_t k = 0; k < sizeof(places) / sizeof(places[0]); k++)
			if (strcmp(w, places[k].word) == 0)
				return places[k].region;
	return SIRA__V1__STATS_REGION__STATS_REGION_UNKNOWN;
}

static int
leg_outcome(int state)
{
	switch (state) {
	case SIRA__V1__LEG_STATE__LEG_STATE_COMPLETED:
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_COMPLETED;
	case SIRA__V1__LEG_STATE__LEG_STATE_STARTED:
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_STARTED;
	case SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED:
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_ACCEPTED;
	case SIRA__V1__LEG_STATE__LEG_STATE_PENDING:
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_REFERRED;
	case SIRA__V1__LEG_STATE__LEG_STATE_DECLINED:
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_DECLINED;
	default: /* withdrawn, undelivered, superseded: no referral stands */
		return SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_IDENTIFIED;
	}
}

int
stats_outcome(const Sira__V1__CaseRecord *r)
{
	int best = SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_IDENTIFIED, o;

	for (size_t i = 0; i < r->n_legs; i++)
		if ((o = leg_outcome((int)r->legs[i]->state)) > best)
			best = o;
	return best;
}

/* ---- one case, one report ---- */

static bool
nationality_ok(const char *s)
{
	return s[0] == '\0' ||
	    (strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
		s[1] <= 'Z');
}

static int
fill_case(Sira__V1__StatsCase *c, const Sira__V1__CaseRecord *r,
    const Sira__V1__Referral *ref)
{
	uint64_t when = ref->identification && ref->identification->date ?
	    ref->identification->date :
	    r->opened_at;

	c->month = stats_period_of(when);
	c->sex = ref->sex;
	c->age = (Sira__V1__StatsAge)stats_age_group(ref->age);
	c->region = (Sira__V1__StatsRegion)stats_region(
	    ref->identification ? ref->identification->place : NULL);
	c->outcome = (Sira__V1__StatsOutcome)stats_outcome(r);
	c->nationality =
	    strdup(nationality_ok(ref->nationality) ? ref->nationality : "");
	c->exploitation =
	    calloc(ref->n_exploitation + 1, sizeof(*c->exploitation));
	c->needs = calloc(ref->n_needs + 1, sizeof(*c->needs));
	if (c->nationality == NULL || c->exploitation == NULL ||
	    c->needs == NULL)
		return -SIRA_ENOMEM;
	for (size_t i = 0; i < ref->n_exploitation; i++)
		if (ref->exploitation[i] >= 1 &&
		    ref->exploitation[i] <= STATS_TYPES)
			c->exploitation[c->n_exploitation++] =
			    ref->exploitation[i];
	for (size_t i = 0; i < ref->n_needs; i++)
		if (ref->needs[i] >= 1 && ref->needs[i] <= STATS_NEEDS)
			c->needs[c->n_needs++] = ref->needs[i];
	return 0;
}

/* Free a StatsCase built here (every field malloc'd, as free_unpacked
 * would, spelled out for the analyzer); accepts NULL. */
static void
case_drop(Sira__V1__StatsCase *c)
{
	if (c == NULL)
		return;
	free(c->person.data);
	free(c->nationality);
	free(c->exploitation);
	free(c->needs);
	free(c);
}

int
stats_case_from(const Sira__V1__CaseRecord *r, const struct stats_pseudo *ps,
    Sira__V1__StatsCase **out)
{
	ProtobufCMessage *m = NULL;
	Sira__V1__StatsCase *c;
	int rc;

	*out = NULL;
	if (r->referral.len == 0 ||
	    wire_unpack(&sira__v1__referral__descriptor, r->referral.data,
		r->referral.len, AGENT_PAYLOAD_MAX, &m, NULL) != 0)
		return 0; /* no referral, or one we cannot read: not counted */
	if ((c = malloc(sizeof(*c))) == NULL) {
		sira__v1__referral__free_unpacked(
		    (Sira__V1__Referral *)m, NULL);
		return -SIRA_ENOMEM;
	}
	sira__v1__stats_case__init(c);
	c->nationality = NULL;
	c->person.data = malloc(STATS_PERSON_LEN);
	if (c->person.data != NULL) {
		c->person.len = STATS_PERSON_LEN;
		ps->fn(ps->ctx, r->case_ref, c->person.data);
	}
	rc = c->person.data == NULL ?
	    -SIRA_ENOMEM :
	    fill_case(c, r, (const Sira__V1__Referral *)m);
	sira__v1__referral__free_unpacked((Sira__V1__Referral *)m, NULL);
	if (rc != 0) {
		case_drop(c);
		return rc;
	}
	*out = c;
	return 0;
}

struct builder {
	const struct stats_ask *q;
	Sira__V1__StatsReport *r;
	size_t cap;
	int rc;
};

static int
build_one(void *ctx, const Sira__V1__CaseRecord *rec)
{
	struct builder *b = ctx;
	Sira__V1__StatsCase *c = NULL, **grown;

	if ((b->rc = stats_case_from(rec, &b->q->ps, &c)) != 0)
		return b->rc;
	if (c == NULL)
		return 0;
	if (c->month != b->q->period) {
		case_drop(c);
		return 0;
	}
	if (b->r->n_cases == STATS_CASES_MAX) {
		case_drop(c);
		return b->rc = -SIRA_ETOOBIG;
	}
	if (b->r->n_cases == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		grown = realloc(b->r->cases, b->cap * sizeof(*grown));
		if (grown == NULL) {
			case_drop(c);
			return b->rc = -SIRA_ENOMEM;
		}
		b->r->cases = grown;
	}
	b->r->cases[b->r->n_cases++] = c;
	return 0;
}

static Sira__V1__StatsReport *
report_new(const struct stats_ask *q)
{
	Sira__V1__StatsReport *r = malloc(sizeof(*r));

	if (r == NULL)
		return NULL;
	sira__v1__stats_report__init(r);
	r->version = STATS_VERSION;
	r->period = q->period;
	r->made_at = q->now;
	r->agency_id = strdup(q->agency_id);
	r->key_id.data = malloc(STATS_KEY_ID_LEN);
	if (r->key_id.data != NULL) {
		memcpy(r->key_id.data, q->key_id, STATS_KEY_ID_LEN);
		r->key_id.len = STATS_KEY_ID_LEN;
	}
	if (r->agency_id == NULL || r->key_id.data == NULL) {
		free(r->agency_id);
		free(r->key_id.data);
		free(r);
		return NULL;
	}
	return r;
}

int
stats_build(struct vault_txn *t, const struct stats_ask *q,
    Sira__V1__StatsReport **out, struct sira_err *err)
{
	struct builder b = { q, NULL, 0, 0 };
	int rc;

	*out = NULL;
	if ((b.r = report_new(q)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	rc = cases_each(t, build_one, &b, err);
	if (rc == 0 && b.rc != 0)
		rc = b.rc;
	if (rc != 0) {
		sira__v1__stats_report__free_unpacked(b.r, NULL);
		if (rc == -SIRA_ETOOBIG)
			return sira_err_set(err, SIRA_ETOOBIG,
			    _("more than %d persons in one month: the report "
			      "would be too big"),
			    STATS_CASES_MAX);
		if (rc == -SIRA_ENOMEM)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
		return rc;
	}
	*out = b.r;
	return 0;
}

static bool
case_ok(const Sira__V1__StatsCase *c, uint32_t period)
{
	if (c->person.len != STATS_PERSON_LEN || c->month != period ||
	    (unsigned)c->sex > SIRA__V1__SEX__SEX_UNDISCLOSED ||
	    (unsigned)c->age > SIRA__V1__STATS_AGE__STATS_AGE_35_UP ||
	    (unsigned)c->region > SIRA__V1__STATS_REGION__STATS_REGION_BAMAKO ||
	    (unsigned)c->outcome >
		SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_COMPLETED ||
	    !nationality_ok(c->nationality) ||
	    c->n_exploitation > STATS_TYPES || c->n_needs > STATS_NEEDS)
		return false;
	for (size_t i = 0; i < c->n_exploitation; i++)
		if (c->exploitation[i] < 1 || c->exploitation[i] > STATS_TYPES)
			return false;
	for (size_t i = 0; i < c->n_needs; i++)
		if (c->needs[i] < 1 || c->needs[i] > STATS_NEEDS)
			return false;
	return true;
}

int
stats_report_validate(
    const Sira__V1__StatsReport *r, const char *sender, struct sira_err *err)
{
	if (r->version != STATS_VERSION)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "stats report version %u", (unsigned)r->version);
	if (!cert_agency_id_valid(r->agency_id) ||
	    strcmp(r->agency_id, sender) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "stats report for another agency than its sender");
	if (!stats_period_valid(r->period) || r->made_at == 0 ||
	    r->key_id.len != STATS_KEY_ID_LEN)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "stats report with a wrong period, date or key id");
	if (r->n_cases > STATS_CASES_MAX)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "stats report with more than %d persons", STATS_CASES_MAX);
	for (size_t i = 0; i < r->n_cases; i++)
		if (!case_ok(r->cases[i], r->period))
			return sira_err_set(err, SIRA_EMALFORMED,
			    "stats report: person %zu is out of range", i);
	return 0;
}

/* ---- the committee's set of persons ---- */

static void
person_of(struct stats_person *p, const Sira__V1__StatsCase *c)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->id, c->person.data, STATS_PERSON_LEN);
	p->month = c->month;
	p->sex = (uint8_t)c->sex;
	p->age = (uint8_t)c->age;
	p->region = (uint8_t)c->region;
	p->outcome = (uint8_t)c->outcome;
	memcpy(p->nat, c->nationality, strlen(c->nationality) + 1);
	for (size_t i = 0; i < c->n_exploitation; i++)
		p->types |= 1u << c->exploitation[i];
	for (size_t i = 0; i < c->n_needs; i++)
		p->needs |= 1u << c->needs[i];
}

int
stats_set_add(struct stats_set *s, const Sira__V1__StatsReport *r,
    uint32_t from, uint32_t to)
{
	struct stats_person *grown;

	for (size_t i = 0; i < r->n_cases; i++) {
		if (r->cases[i]->month < from || r->cases[i]->month > to)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 256;
			if ((grown = realloc(s->p, cap * sizeof(*grown))) ==
			    NULL)
				return -SIRA_ENOMEM;
			s->p = grown;
			s->cap = cap;
		}
		person_of(&s->p[s->n++], r->cases[i]);
	}
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return memcmp(((const struct stats_person *)a)->id,
	    ((const struct stats_person *)b)->id, STATS_PERSON_LEN);
}

/* Fold o into p: the known over the unknown, the furthest outcome. */
static void
fold_person(struct stats_person *p, const struct stats_person *o)
{
	if (o->month < p->month)
		p->month = o->month;
	if (p->sex == 0)
		p->sex = o->sex;
	if (p->age == 0 ||
	    (p->age == SIRA__V1__STATS_AGE__STATS_AGE_MINOR &&
		(o->age == SIRA__V1__STATS_AGE__STATS_AGE_0_11 ||
		    o->age == SIRA__V1__STATS_AGE__STATS_AGE_12_17)))
		p->age = o->age;
	if (p->region == 0)
		p->region = o->region;
	if (p->nat[0] == '\0')
		memcpy(p->nat, o->nat, sizeof(p->nat));
	if (o->outcome > p->outcome)
		p->outcome = o->outcome;
	p->types |= o->types;
	p->needs |= o->needs;
}

void
stats_set_merge(struct stats_set *s)
{
	size_t w = 0;

	if (s->n == 0)
		return;
	qsort(s->p, s->n, sizeof(*s->p), by_id);
	for (size_t i = 1; i < s->n; i++) {
		if (memcmp(s->p[w].id, s->p[i].id, STATS_PERSON_LEN) == 0)
			fold_person(&s->p[w], &s->p[i]);
		else
			s->p[++w] = s->p[i];
	}
	s->n = w + 1;
}

void
stats_set_free(struct stats_set *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

/* ---- tables ---- */

static const char *const dim_names[] = {
	[STATS_BY_MONTH] = "month",
	[STATS_BY_TYPE] = "type",
	[STATS_BY_SEX] = "sex",
	[STATS_BY_AGE] = "age",
	[STATS_BY_NATIONALITY] = "nationality",
	[STATS_BY_REGION] = "region",
	[STATS_BY_NEED] = "need",
	[STATS_BY_OUTCOME] = "outcome",
};

int
stats_dim_parse(const char *s, enum stats_dim *d)
{
	for (size_t i = 0; i < sizeof(dim_names) / sizeof(dim_names[0]); i++)
		if (strcmp(s, dim_names[i]) == 0) {
			*d = (enum stats_dim)i;
			return 0;
		}
	return -SIRA_EINVAL;
}

const char *
stats_dim_name(enum stats_dim d)
{
	return dim_names[d];
}

/* Count the person p in the row of key (found or made). */
static int
count_in(struct stats_table *t, size_t *cap, uint32_t key,
    const struct stats_person *p)
{
	struct stats_row *row = NULL, *grown;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].key == key) {
			row = &t->rows[i];
			break;
		}
	if (row == NULL) {
		if (t->n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			if ((grown = realloc(t->rows, *cap * sizeof(*grown))) ==
			    NULL)
				return -SIRA_ENOMEM;
			t->rows = grown;
		}
		row = &t->rows[t->n++];
		memset(row, 0, sizeof(*row));
		row->key = key;
	}
	row->n[0]++;
	if (p->outcome != SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_IDENTIFIED)
		row->n[1]++;
	if (p->outcome >= SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_STARTED)
		row->n[2]++;
	return 0;
}

/* Count p under each bit of bits (or key 0 when none). */
static int
count_bits(struct stats_table *t, size_t *cap, uint32_t bits,
    const struct stats_person *p)
{
	int rc = 0;

	if (bits == 0)
		return count_in(t, cap, 0, p);
	for (uint32_t k = 1; k < 32 && rc == 0; k++)
		if (bits & (1u << k))
			rc = count_in(t, cap, k, p);
	return rc;
}

static int
count_person(struct stats_table *t, size_t *cap, const struct stats_person *p)
{
	switch (t->dim) {
	case STATS_BY_MONTH:
		return count_in(t, cap, p->month, p);
	case STATS_BY_TYPE:
		return count_bits(t, cap, p->types, p);
	case STATS_BY_NEED:
		return count_bits(t, cap, p->needs, p);
	case STATS_BY_SEX:
		return count_in(t, cap, p->sex, p);
	case STATS_BY_AGE:
		return count_in(t, cap, p->age, p);
	case STATS_BY_REGION:
		return count_in(t, cap, p->region, p);
	case STATS_BY_OUTCOME:
		return count_in(t, cap, p->outcome, p);
	default:
		return count_in(t, cap,
		    p->nat[0] ? (uint32_t)(unsigned char)p->nat[0] << 8 |
			    (unsigned char)p->nat[1] :
				0,
		    p);
	}
}

static int
by_key(const void *a, const void *b)
{
	uint32_t x = ((const struct stats_row *)a)->key,
		 y = ((const struct stats_row *)b)->key;

	return x < y ? -1 : x > y;
}

int
stats_tabulate(
    const struct stats_set *s, enum stats_dim d, struct stats_table *t)
{
	size_t cap = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->dim = d;
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		const struct stats_person *p = &s->p[i];
		t->total.n[0]++;
		if (p->outcome !=
		    SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_IDENTIFIED)
			t->total.n[1]++;
		if (p->outcome >=
		    SIRA__V1__STATS_OUTCOME__STATS_OUTCOME_STARTED)
			t->total.n[2]++;
		rc = count_person(t, &cap, p);
	}
	if (rc != 0) {
		stats_table_free(t);
		return rc;
	}
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), by_key);
	return 0;
}

static bool
small(uint64_t v, uint64_t threshold)
{
	return v > 0 && v < threshold;
}

/*
 * Hide the cells of one column of a table: cells[i * stride] with
 * hidden flags at the same place, n of them, under a published total.
 */
struct column {
	uint64_t *v;
	bool *hidden;
	size_t stride, hstride, n; /* bytes between cells, between flags */
};

static uint64_t *
cell_at(const struct column *c, size_t i)
{
	return (uint64_t *)((char *)c->v + i * c->stride);
}

static bool *
hidden_at(const struct column *c, size_t i)
{
	return (bool *)((char *)c->hidden + i * c->hstride);
}

static void
suppress_column(const struct column *c, uint64_t threshold)
{
	size_t n_hidden = 0, best = SIZE_MAX;

	for (size_t i = 0; i < c->n; i++)
		if ((*hidden_at(c, i) = small(*cell_at(c, i), threshold)))
			n_hidden++;
	if (n_hidden != 1)
		return;
	/* One hidden cell alone would be the total less the others. */
	for (size_t i = 0; i < c->n; i++)
		if (!*hidden_at(c, i) && *cell_at(c, i) > 0 &&
		    (best == SIZE_MAX || *cell_at(c, i) < *cell_at(c, best)))
			best = i;
	if (best != SIZE_MAX)
		*hidden_at(c, best) = true;
}

void
stats_suppress(struct stats_table *t, uint64_t threshold)
{
	for (size_t k = 0; k < STATS_COLS; k++) {
		t->total.hidden[k] = small(t->total.n[k], threshold);
		if (t->n == 0)
			continue;
		suppress_column(
		    &(struct column){ &t->rows[0].n[k], &t->rows[0].hidden[k],
			sizeof(*t->rows), sizeof(*t->rows), t->n },
		    threshold);
	}
}

void
stats_table_free(struct stats_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

/* ---- month by type ---- */

static int
cross_row(struct stats_cross *c, uint32_t month, size_t *at)
{
	size_t i;
	void *m, *v, *h;

	for (i = 0; i < c->n; i++)
		if (c->months[i] == month) {
			*at = i;
			return 0;
		}
	m = realloc(c->months, (c->n + 1) * sizeof(*c->months));
	if (m != NULL)
		c->months = m;
	v = realloc(c->cell, (c->n + 1) * sizeof(*c->cell));
	if (v != NULL)
		c->cell = v;
	h = realloc(c->hidden, (c->n + 1) * sizeof(*c->hidden));
	if (h != NULL)
		c->hidden = h;
	if (m == NULL || v == NULL || h == NULL)
		return -SIRA_ENOMEM;
	/* Keep months ascending: insert before the first later one. */
	for (i = c->n; i > 0 && c->months[i - 1] > month; i--) {
		c->months[i] = c->months[i - 1];
		memcpy(c->cell[i], c->cell[i - 1], sizeof(c->cell[i]));
	}
	c->months[i] = month;
	memset(c->cell[i], 0, sizeof(c->cell[i]));
	c->n++;
	*at = i;
	return 0;
}

int
stats_cross(
    const struct stats_set *s, uint64_t threshold, struct stats_cross *c)
{
	size_t r;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		const struct stats_person *p = &s->p[i];
		if ((rc = cross_row(c, p->month, &r)) != 0)
			break;
		if (p->types == 0)
			c->cell[r][0]++;
		for (uint32_t k = 1; k <= STATS_TYPES; k++)
			if (p->types & (1u << k))
				c->cell[r][k]++;
	}
	if (rc != 0) {
		stats_cross_free(c);
		return rc;
	}
	for (size_t i = 0; i < c->n; i++)
		suppress_column(
		    &(struct column){ c->cell[i], c->hidden[i],
			sizeof(uint64_t), sizeof(bool), STATS_TYPES + 1 },
		    threshold);
	return 0;
}

void
stats_cross_free(struct stats_cross *c)
{
	free(c->months);
	free(c->cell);
	free(c->hidden);
	memset(c, 0, sizeof(*c));
}
