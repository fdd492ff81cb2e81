/*
 * stats_report.c: sira-agent stats (docs/STATS.md). At the committee: the
 * national figures from the agencies' newest reports, as a table in the
 * reader's language, a CSV file and an SVG chart (stats_svg.c), every
 * cell under the threshold shown as "<N". At an agency: stats send (a
 * report now) and stats key (the committee makes the pseudonym key file,
 * an agency installs it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "clock.h"
#include "crypto/crypto.h"
#include "daemon/daemon.h"
#include "fileio.h"
#include "i18n.h"
#include "wire.h"
#include "workflow/workflow.h"

static const char *const dim_titles[] = { N_("month"), N_("exploitation type"),
	N_("sex"), N_("age group"), N_("nationality"),
	N_("region of identification"), N_("need"), N_("outcome") };

#define LEN(t) (sizeof(t) / sizeof((t)[0]))

/* A cell as people read it: the count, or "<threshold" when hidden. */
static const char *
cell(const struct stats_row *r, size_t k, uint64_t th, char *buf, size_t len)
{
	if (r->hidden[k])
		(void)snprintf(buf, len, "<%llu", (unsigned long long)th);
	else
		(void)snprintf(buf, len, "%llu", (unsigned long long)r->n[k]);
	return buf;
}

/* What the reports hold for the chosen months. */
struct gather {
	struct stats_set set;
	uint32_t from, to;
	size_t reports;
	char agencies[64][SIRA_AGENCY_ID_MAX + 1];
	size_t n_agencies;
	int rc;
};

static int
gather_one(void *ctx, const Sira__V1__StatsReport *r)
{
	struct gather *g = ctx;
	size_t i;

	if (r->period < g->from || r->period > g->to)
		return 0;
	g->reports++;
	for (i = 0; i < g->n_agencies; i++)
		if (strcmp(g->agencies[i], r->agency_id) == 0)
			break;
	if (i == g->n_agencies && i < LEN(g->agencies))
		(void)snprintf(g->agencies[g->n_agencies++],
		    sizeof(g->agencies[0]), "%s", r->agency_id);
	return (g->rc = stats_set_add(&g->set, r, g->from, g->to));
}

/* How many characters s shows (UTF-8: an accented letter is one). */
static int
width_of(const char *s)
{
	int n = 0;

	for (const char *p = s; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			n++;
	return n;
}

/* s, then spaces up to width characters. */
static void
print_padded(const char *s, int width)
{
	int n = width_of(s);

	(void)printf("%s%*s", s, n < width ? width - n : 1, "");
}

/* A space, spaces up to width characters, then s. */
static void
print_right(const char *s, int width)
{
	int n = width_of(s);

	(void)printf(" %*s%s", n < width ? width - n : 0, "", s);
}

static void
print_line(const char *label, const struct stats_row *r, uint64_t th)
{
	char a[32], b[32], c[32];

	print_padded(label, 34);
	(void)printf(" %10s %10s %16s\n", cell(r, 0, th, a, sizeof(a)),
	    cell(r, 1, th, b, sizeof(b)), cell(r, 2, th, c, sizeof(c)));
}

static void
print_table(const struct stats_table *t, uint64_t th)
{
	char lbl[64];

	(void)printf("\n");
	print_padded(_(dim_titles[t->dim]), 34);
	print_right(_("persons"), 10);
	print_right(_("referred"), 10);
	print_right(_("assisted"), 16);
	(void)printf("\n");
	for (size_t i = 0; i < t->n; i++)
		print_line(
		    stats_label(t->dim, t->rows[i].key, lbl, sizeof(lbl)),
		    &t->rows[i], th);
	print_line(_("total (each person once)"), &t->total, th);
	if (t->dim == STATS_BY_TYPE || t->dim == STATS_BY_NEED)
		(void)printf(_("(a person may count in several rows)\n"));
}

/* One CSV field: quoted, quotes doubled. */
static void
csv_field(FILE *f, const char *s)
{
	(void)fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			(void)fputc('"', f);
		(void)fputc(*s, f);
	}
	(void)fputc('"', f);
}

static void
csv_row(FILE *f, const char *dim, const char *label, const struct stats_row *r,
    uint64_t th)
{
	char v[32];

	(void)fprintf(f, "%s,", dim);
	csv_field(f, label);
	for (size_t k = 0; k < STATS_COLS; k++)
		(void)fprintf(f, ",%s", cell(r, k, th, v, sizeof(v)));
	(void)fputc('\n', f);
}

static int
write_csv(const char *path, const struct stats_table *t, uint64_t th,
    struct sira_err *err)
{
	const char *dim = stats_dim_name(t->dim);
	char lbl[64];
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return sira_err_set(err, SIRA_EIO, _("cannot write %s"), path);
	(void)fprintf(f, "dimension,category,persons,referred,assisted\n");
	for (size_t i = 0; i < t->n; i++)
		csv_row(f, dim,
		    stats_label(t->dim, t->rows[i].key, lbl, sizeof(lbl)),
		    &t->rows[i], th);
	csv_row(f, dim, "total", &t->total, th);
	if (fclose(f) != 0)
		return sira_err_set(err, SIRA_EIO, _("cannot write %s"), path);
	return 0;
}

static void
print_head(const struct stats_args *s, const struct gather *g,
    const struct stats_table *t)
{
	char a[32], b[32], c[32];

	(void)printf(_("National figures, %04u-%02u to %04u-%02u: %zu reports "
		       "from %zu agencies; cells under %llu hidden\n"),
	    (unsigned)(g->from / 100), (unsigned)(g->from % 100),
	    (unsigned)(g->to / 100), (unsigned)(g->to % 100), g->reports,
	    g->n_agencies, (unsigned long long)s->threshold);
	(void)printf(_("Persons identified: %s, referred: %s, assisted "
		       "(services started or completed): %s\n"),
	    cell(&t->total, 0, s->threshold, a, sizeof(a)),
	    cell(&t->total, 1, s->threshold, b, sizeof(b)),
	    cell(&t->total, 2, s->threshold, c, sizeof(c)));
}

static int
show(struct gather *g, const struct stats_args *s, enum stats_dim dim,
    struct sira_err *err)
{
	struct stats_table t;
	struct stats_cross x;
	int rc;

	stats_set_merge(&g->set);
	if (stats_tabulate(&g->set, dim, &t) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	stats_suppress(&t, s->threshold);
	print_head(s, g, &t);
	print_table(&t, s->threshold);
	rc = s->csv != NULL ? write_csv(s->csv, &t, s->threshold, err) : 0;
	stats_table_free(&t);
	if (rc != 0 || s->svg == NULL)
		return rc;
	if (stats_cross(&g->set, s->threshold, &x) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	rc = stats_svg_write(s->svg, &x, s->threshold, err);
	stats_cross_free(&x);
	return rc;
}

static int
range(const struct stats_args *s, struct gather *g, enum stats_dim *dim,
    struct sira_err *err)
{
	g->from = 200001;
	g->to = 299912;
	if ((s->from != NULL && stats_period_parse(s->from, &g->from) != 0) ||
	    (s->to != NULL && stats_period_parse(s->to, &g->to) != 0))
		return sira_err_set(
		    err, SIRA_EINVAL, _("--from and --to are months: YYYY-MM"));
	if (g->from > g->to)
		return sira_err_set(
		    err, SIRA_EINVAL, _("--from is after --to"));
	*dim = STATS_BY_MONTH;
	if (s->by != NULL && stats_dim_parse(s->by, dim) != 0)
		return sira_err_set(err, SIRA_EINVAL,
		    _("--by is one of month, type, sex, age, nationality, "
		      "region, need, outcome"));
	return 0;
}

int
stats_cli_show(
    struct agent *a, const struct stats_args *s, struct sira_err *err)
{
	struct gather *g = calloc(1, sizeof(*g));
	struct vault_txn *t = NULL;
	enum stats_dim dim = STATS_BY_MONTH;
	int rc;

	if (g == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = range(s, g, &dim, err)) == 0 &&
	    (rc = vault_begin(a->vault, false, &t, err)) == 0) {
		rc = stats_reports_each(t, gather_one, g, err);
		vault_abort(&t);
		if (rc == 0 && g->rc != 0)
			rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		if (rc == 0)
			rc = show(g, s, dim, err);
	}
	stats_set_free(&g->set);
	free(g);
	return rc;
}

int
stats_cli_send(struct agent *a, const char *period, struct sira_err *err)
{
	uint64_t now = clock_now();
	uint32_t p = stats_period_add(stats_period_of(now), -1);
	uint8_t id[16];
	char hex[33];
	size_t n;
	int rc;

	if (period != NULL && stats_period_parse(period, &p) != 0)
		return sira_err_set(
		    err, SIRA_EINVAL, _("--period is a month: YYYY-MM"));
	if ((rc = stats_send(a, p, now, id, &n, err)) != 0)
		return rc;
	nudge_daemon(&a->home);
	(void)sodium_bin2hex(hex, sizeof(hex), id, 16);
	(void)printf("%s\n", hex);
	(void)fprintf(stderr,
	    _("report of %04u-%02u queued for the committee: %zu persons\n"),
	    (unsigned)(p / 100), (unsigned)(p % 100), n);
	return 0;
}

/* The committee makes a new key file for the agencies. */
static int
key_make(struct agent *a, const char *out, struct sira_err *err)
{
	Sira__V1__StatsKey k = SIRA__V1__STATS_KEY__INIT;
	uint8_t key[PSEUDONYM_KEY_LEN], kid[PSEUDONYM_KEY_ID_LEN],
	    *bytes = NULL;
	char hex[2 * PSEUDONYM_KEY_ID_LEN + 1];
	size_t len = 0;
	int rc;

	pseudonym_key_new(key);
	k.version = STATS_VERSION;
	k.committee = a->me->agency_id;
	k.key.data = key;
	k.key.len = sizeof(key);
	if ((rc = wire_pack(&k.base, &bytes, &len, err)) == 0)
		rc = fileio_write(out, bytes, len, 0600, true, err);
	pseudonym_key_id(key, kid);
	sodium_memzero(key, sizeof(key));
	if (bytes != NULL)
		sodium_memzero(bytes, len);
	free(bytes);
	if (rc != 0)
		return rc;
	(void)sodium_bin2hex(hex, sizeof(hex), kid, sizeof(kid));
	(void)printf(
	    _("statistics key %s written to %s: hand it to each "
	      "agency (sira-agent stats key --file), then delete it\n"),
	    hex, out);
	return 0;
}

static int
key_install(struct agent *a, const char *file, struct sira_err *err)
{
	Sira__V1__StatsKey *k = NULL;
	struct vault_txn *t = NULL;
	uint8_t *buf = NULL, kid[PSEUDONYM_KEY_ID_LEN];
	char hex[2 * PSEUDONYM_KEY_ID_LEN + 1];
	size_t len = 0;
	int rc;

	if ((rc = fileio_read_secret(file, 512, &buf, &len, err)) != 0)
		return rc;
	if ((rc = stats_key_parse(buf, len, &k, err)) == 0 &&
	    (rc = vault_begin(a->vault, true, &t, err)) == 0 &&
	    (rc = stats_key_put(t, buf, len, clock_now(), err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	sodium_memzero(buf, len);
	free(buf);
	if (rc == 0) {
		pseudonym_key_id(k->key.data, kid);
		(void)sodium_bin2hex(hex, sizeof(hex), kid, sizeof(kid));
		(void)printf(
		    _("statistics key %s installed: reports go to %s\n"), hex,
		    k->committee);
	}
	if (k != NULL)
		wire_free_secret(&k->base);
	return rc;
}

int
stats_cli_key(
    struct agent *a, const char *out, const char *file, struct sira_err *err)
{
	return out != NULL ? key_make(a, out, err) : key_install(a, file, err);
}
