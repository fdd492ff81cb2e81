/*
 * retention_cli.c: `sira-agent erase --due [--dry-run] [--json]`
 * (docs/WORKFLOWS.md, "Retention"). Lists the cases whose retention
 * period (agent.conf retain_days) has passed, and without --dry-run
 * erases them here, kind by kind so that the audit says which rule
 * erased each, then compacts the vault once. A rule that does not parse
 * stops it; so does a clock the daemon found wrong against the broker's,
 * since a laptop set years ahead would otherwise erase every case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "cli/cli.h"
#include "workflow/workflow.h"
#include "i18n.h"

/* The daemon's last word on this computer's clock (status.json). */
static bool
clock_wrong(const struct agent *a)
{
	char path[PATH_MAX];
	json_t *o;
	bool wrong;

	if (home_path(&a->home, "status.json", path, NULL) != 0 ||
	    (o = json_load_file(path, 0, NULL)) == NULL)
		return false; /* never connected: nothing says it is wrong */
	wrong = json_is_true(json_object_get(o, "clock_wrong"));
	json_decref(o);
	return wrong;
}

static const char *
kind_text(enum retain_kind k)
{
	static const char *const t[RETAIN_KINDS] = { N_("alert"), N_("child"),
		N_("transferred"), N_("declined"), N_("closed") };

	return (unsigned)k < RETAIN_KINDS ? _(t[k]) : "?";
}

static void
say_rules(const struct retain_conf *c)
{
	(void)printf(_("retention rules (agent.conf):"));
	for (int k = 0; k < RETAIN_KINDS; k++) {
		(void)fputs(k == 0 ? " " : _("; "), stdout);
		if (c->days[k] == 0)
			(void)printf(_("%s: kept"), kind_text(k));
		else
			(void)printf(
			    _("%s: %u days"), kind_text(k), c->days[k]);
	}
	(void)putchar('\n');
}

static void
say_list(const struct retain_list *l)
{
	char last[SIRA_LOCAL_STR_LEN], due[SIRA_LOCAL_STR_LEN];

	(void)printf(_("%zu cases, %zu still open; %zu past their retention "
		       "period\n"),
	    l->cases, l->open, l->n);
	for (size_t i = 0; i < l->n; i++) {
		clock_local(l->items[i].last, last);
		clock_local(l->items[i].due_at, due);
		(void)printf(
		    _("  %-16s %-12s last activity %s, due since %s\n"),
		    l->items[i].ref, kind_text(l->items[i].kind), last, due);
	}
	if (l->held > 0)
		(void)printf(_("%zu cases past their period are under a legal "
			       "hold: kept\n"),
		    l->held);
}

static json_t *
list_json(const struct retain_conf *c, const struct retain_list *l)
{
	char last[SIRA_TIME_STR_LEN], due[SIRA_TIME_STR_LEN];
	json_t *o = json_object(), *rules = json_object(), *a = json_array();

	for (int k = 0; k < RETAIN_KINDS; k++)
		(void)json_object_set_new(rules, retain_kind_name(k),
		    json_integer((json_int_t)c->days[k]));
	for (size_t i = 0; i < l->n; i++) {
		clock_format(l->items[i].last, last);
		clock_format(l->items[i].due_at, due);
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s, s:s}", "case", l->items[i].ref,
			"kind", retain_kind_name(l->items[i].kind),
			"last_activity", last, "due_at", due));
	}
	(void)json_object_set_new(o, "rules", rules);
	(void)json_object_set_new(
	    o, "cases", json_integer((json_int_t)l->cases));
	(void)json_object_set_new(o, "open", json_integer((json_int_t)l->open));
	(void)json_object_set_new(o, "held", json_integer((json_int_t)l->held));
	(void)json_object_set_new(o, "due", a);
	return o;
}

/* Erase l's cases of kind k, with the rule as the audit's reason. */
static int
erase_kind(struct agent *a, const struct retain_conf *c,
    const struct retain_list *l, enum retain_kind k, struct retention_done *sum,
    struct sira_err *err)
{
	struct retain_list sub = { 0 };
	struct retention_done d;
	char reason[64];
	int rc;

	if ((sub.items = malloc((l->n ? l->n : 1) * sizeof(*sub.items))) ==
	    NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].kind == k)
			sub.items[sub.n++] = l->items[i];
	(void)snprintf(reason, sizeof(reason), "retention: retain_days.%s = %u",
	    retain_kind_name(k), c->days[k]);
	rc = retention_erase(a, &sub,
	    &(struct erase_req){
		.reason = reason, .me = a->me->agency_id, .now = clock_now() },
	    &d, err);
	free(sub.items);
	if (rc == 0)
		retention_done_add(sum, &d);
	return rc;
}

static int
erase_all(struct agent *a, const struct retain_conf *c,
    const struct retain_list *l, json_t *j, struct sira_err *err)
{
	struct retention_done sum = { 0 };
	int rc = 0;

	erase_files(a, NULL); /* what an interrupted erasure left */
	for (int k = 0; rc == 0 && k < RETAIN_KINDS; k++)
		rc = erase_kind(a, c, l, k, &sum, err);
	if (j != NULL) {
		(void)json_object_set_new(
		    j, "erased", json_integer((json_int_t)sum.b.erased));
		(void)json_object_set_new(
		    j, "in_flight", json_integer((json_int_t)sum.b.busy));
	} else if (sum.b.erased > 0 || rc == 0)
		(void)printf(_("%zu cases erased here (%zu sent and %zu "
			       "received messages, %zu files); no other "
			       "agency is told\n"),
		    sum.b.erased, sum.b.outbox, sum.b.inbox, sum.files);
	if (j == NULL && sum.b.busy > 0)
		(void)printf(_("%zu cases kept for now: a message about them "
			       "still waits for its receipt\n"),
		    sum.b.busy);
	if (sum.b.erased > 0)
		erase_cli_compact(a, j == NULL);
	return rc;
}

int
retention_cli_run(
    struct agent *a, bool dry_run, bool json, struct sira_err *err)
{
	struct retain_conf c;
	struct retain_list l = { 0 };
	struct vault_txn *t = NULL;
	json_t *j = NULL;
	int rc;

	if ((rc = retain_conf_load(&a->home, &c, err)) != 0)
		return rc;
	if (!dry_run && clock_wrong(a))
		return sira_err_set(err, SIRA_ESTATE,
		    _("this computer's clock does not agree with the broker's "
		      "(sira-agent status): set it right before erasing by "
		      "date; nothing was erased"));
	if ((rc = vault_begin(a->vault, false, &t, err)) == 0)
		rc = retention_scan(t, &c, clock_now(), &l, err);
	vault_abort(&t);
	if (rc != 0)
		return rc;
	if (json)
		j = list_json(&c, &l);
	else {
		say_rules(&c);
		say_list(&l);
	}
	if (!dry_run && l.n > 0)
		rc = erase_all(a, &c, &l, j, err);
	if (j != NULL && rc == 0) {
		(void)json_dumpf(
		    j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		(void)putchar('\n');
	}
	json_decref(j);
	retention_list_free(&l);
	return rc;
}

void
retention_status(struct agent *a, uint64_t now, json_t *o)
{
	struct retain_conf c;
	struct retain_list l = { 0 };
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };

	if (retain_conf_load(&a->home, &c, &err) != 0) {
		(void)json_object_set_new(
		    o, "retention_error", json_string(err.msg));
		return;
	}
	if (vault_begin(a->vault, false, &t, NULL) == 0 &&
	    retention_scan(t, &c, now, &l, NULL) == 0)
		(void)json_object_set_new(
		    o, "retention_due", json_integer((json_int_t)l.n));
	vault_abort(&t);
	retention_list_free(&l);
}

void
retention_status_line(const json_t *o)
{
	json_int_t n = json_integer_value(json_object_get(o, "retention_due"));
	const char *bad =
	    json_string_value(json_object_get(o, "retention_error"));

	if (bad != NULL)
		(void)printf(_("RETENTION:     no rule applies: %s\n"), bad);
	else if (n > 0)
		(void)printf(_("RETENTION:     %lld cases are past their "
			       "retention period (sira-agent erase --due "
			       "--dry-run)\n"),
		    (long long)n);
}
