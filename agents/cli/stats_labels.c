/*
 * stats_labels.c: the names of the categories of the national figures
 * (docs/STATS.md) in the reader's language, for the table, the CSV file
 * and the chart: exploitation types, needs, sexes, age groups, regions,
 * outcomes, months and nationality codes.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "i18n.h"

#define LEN(t) (sizeof(t) / sizeof((t)[0]))

static const char *const type_labels[] = { N_("not given"),
	N_("sexual exploitation"), N_("forced labour"), N_("slavery"),
	N_("servitude"), N_("organ removal"), N_("forced begging"),
	N_("child labour"), N_("forced marriage"), N_("forced criminality"),
	N_("other") };
static const char *const need_labels[] = { N_("not given"), N_("shelter"),
	N_("medical care"), N_("psychosocial support"), N_("legal aid"),
	N_("interpretation"), N_("voluntary return"), N_("family tracing"),
	N_("food and items"), N_("child protection") };
static const char *const sex_labels[] = { N_("not recorded"), N_("female"),
	N_("male"), N_("other"), N_("undisclosed") };
static const char *const age_labels[] = { N_("unknown"), N_("0-11 years"),
	N_("12-17 years"), N_("child, age unknown"), N_("18-24 years"),
	N_("25-34 years"), N_("35 years and over") };
static const char *const region_labels[] = { N_("unknown"), "Kayes",
	"Koulikoro", "Sikasso", N_("Segou"), "Mopti", "Tombouctou", "Gao",
	"Kidal", N_("Menaka"), N_("Taoudenit"), "Bamako" };
static const char *const outcome_labels[] = { N_("identified, not referred"),
	N_("referred, declined"), N_("referred, awaiting an answer"),
	N_("accepted"), N_("services started"), N_("services completed") };
#define LEN(t) (sizeof(t) / sizeof((t)[0]))

static const char *
pick(const char *const *t, size_t n, uint32_t key)
{
	return key < n ? _(t[key]) : "?";
}

const char *
stats_label(enum stats_dim d, uint32_t key, char *buf, size_t len)
{
	switch (d) {
	case STATS_BY_MONTH:
		(void)snprintf(buf, len, "%04u-%02u", (unsigned)(key / 100),
		    (unsigned)(key % 100));
		return buf;
	case STATS_BY_TYPE:
		return pick(type_labels, LEN(type_labels), key);
	case STATS_BY_NEED:
		return pick(need_labels, LEN(need_labels), key);
	case STATS_BY_SEX:
		return pick(sex_labels, LEN(sex_labels), key);
	case STATS_BY_AGE:
		return pick(age_labels, LEN(age_labels), key);
	case STATS_BY_REGION:
		return pick(region_labels, LEN(region_labels), key);
	case STATS_BY_OUTCOME:
		return pick(outcome_labels, LEN(outcome_labels), key);
	default:
		if (key == 0)
			return _("unknown");
		(void)snprintf(buf, len, "%c%c", (char)(key >> 8), (char)key);
		return buf;
	}
}
