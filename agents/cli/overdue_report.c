/*
 * overdue_report.c: what is late (docs/WORKFLOWS.md, "Deadlines"). The
 * steps this agency waits for past their deadline (from its own case
 * records, workflow/deadlines.c), the reminders other agencies sent it,
 * and, at the coordination committee, the notices of stuck referrals
 * from the whole country, which carry no case reference, only a blinded
 * one (`sira-agent overdue`). Also the marks that `status`, `cases` and
 * `inbox` show.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "clock.h"
#include "i18n.h"
#include "wire.h"
#include "workflow/workflow.h"

#define KIND_NOTICE SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_DEADLINE_NOTICE

int
overdue_scan_open(struct overdue_scan *s, struct agent *a, struct vault_txn *t,
    uint64_t now, struct sira_err *err)
{
	memset(s, 0, sizeof(*s));
	s->roles.a = a;
	s->roles.t = t;
	s->roles.now = now;
	s->scan = (struct due_scan){ &s->conf, a->me->agency_id, now,
		due_roles_of, &s->roles };
	return deadline_conf_load(&a->home, &s->conf, err);
}

void
overdue_scan_close(struct overdue_scan *s)
{
	due_roles_free(&s->roles);
}

uint64_t
overdue_case_late(struct overdue_scan *s, const Sira__V1__CaseRecord *r)
{
	struct due due[DEADLINES_PER_CASE];
	size_t n = deadlines_overdue(r, &s->scan, due);
	uint64_t most = 0;

	for (size_t i = 0; i < n; i++)
		if (due[i].late > most)
			most = due[i].late;
	return most;
}

static const char *
step_text(const char *word)
{
	if (strcmp(word, "answer") == 0)
		return _("answer to the referral");
	if (strcmp(word, "feedback") == 0)
		return _("feedback on services");
	if (strcmp(word, "file_request") == 0)
		return _("answer to the file request");
	return word;
}

static json_t *
iso(uint64_t t)
{
	char buf[SIRA_TIME_STR_LEN];

	clock_format(t, buf);
	return json_string(buf);
}

struct own {
	struct overdue_scan *s;
	json_t *rows;
};

static int
own_row(void *ctx, const Sira__V1__CaseRecord *r)
{
	struct own *o = ctx;
	struct due due[DEADLINES_PER_CASE];
	size_t n = deadlines_overdue(r, &o->s->scan, due);

	for (size_t i = 0; i < n; i++)
		(void)json_array_append_new(o->rows,
		    json_pack("{s:s, s:s, s:s, s:o, s:I, s:i}", "case",
			r->case_ref, "step", deadlines_step_word(due[i].step),
			"owing", due[i].owing, "due", iso(due[i].due_at),
			"late_seconds", (json_int_t)due[i].late, "stage",
			(int)due[i].stage));
	return 0;
}

struct received {
	const struct agent *a;
	json_t *reminders, *committee;
	size_t refused;
};

static json_t *
notice_json(const Sira__V1__DeadlineNotice *n, const Sira__V1__InboxEntry *e)
{
	char blind[2 * DEADLINE_BLIND_LEN + 1] = "";

	if (n->stage == 2)
		(void)sodium_bin2hex(blind, sizeof(blind), n->blinded_ref.data,
		    n->blinded_ref.len);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:o}",
	    n->stage == 2 ? "case_blinded" : "case",
	    n->stage == 2 ? blind : n->case_ref, "step",
	    deadlines_step_word((int)n->step), "waiting", n->waiting, "owing",
	    n->owing, "due", iso(n->due_at), "late_seconds",
	    (json_int_t)n->late, "received", iso(e->received_at));
}

/* One inbox row: a deadline notice that checks, into its list. */
static int
received_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct received *x = ctx;
	Sira__V1__InboxEntry *e = book_in_decode(val, vlen);
	ProtobufCMessage *m = NULL;
	Sira__V1__Payload *p;

	(void)key;
	(void)klen;
	if (e == NULL || e->kind != KIND_NOTICE) {
		if (e != NULL)
			sira__v1__inbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if (wire_unpack(&sira__v1__payload__descriptor, e->payload.data,
		e->payload.len, AGENT_PAYLOAD_MAX, &m, NULL) == 0 &&
	    (p = (Sira__V1__Payload *)m)->body_case ==
		SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE &&
	    deadline_notice_check(p->deadline_notice,
		&(struct notice_ctx){
		    e->sender, x->a->me->agency_id, (int)x->a->me->role },
		NULL) == 0)
		(void)json_array_append_new(p->deadline_notice->stage == 2 ?
			x->committee :
			x->reminders,
		    notice_json(p->deadline_notice, e));
	else
		x->refused++;
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	sira__v1__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

int
overdue_collect(
    struct agent *a, uint64_t now, json_t **out, struct sira_err *err)
{
	struct received x = { a, json_array(), json_array(), 0 };
	struct own o = { NULL, json_array() };
	struct overdue_scan s;
	struct vault_txn *t = NULL;
	int rc;

	*out = NULL;
	if ((rc = vault_begin(a->vault, false, &t, err)) == 0 &&
	    (rc = overdue_scan_open(&s, a, t, now, err)) == 0) {
		o.s = &s;
		if ((rc = cases_each(t, own_row, &o, err)) == 0)
			rc = vault_each(t, VT_INBOX, received_row, &x, err);
	}
	if (o.s != NULL)
		overdue_scan_close(&s);
	vault_abort(&t);
	if (rc == 0 &&
	    (*out = json_pack("{s:o, s:o, s:o, s:I}", "waiting", o.rows,
		 "reminders", x.reminders, "committee", x.committee, "refused",
		 (json_int_t)x.refused)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (rc != 0 && *out == NULL) {
		json_decref(o.rows);
		json_decref(x.reminders);
		json_decref(x.committee);
	}
	return rc;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

static void
print_row(const json_t *r, const char *who, const char *ref)
{
	char day[SIRA_LOCAL_STR_LEN], late[DEADLINE_TEXT_LEN];

	(void)printf(_("  %s  %s  %s, due %s, %s\n"), ref, who,
	    step_text(jstr(r, "step")), clock_show(jstr(r, "due"), day),
	    deadlines_late_text((uint64_t)json_integer_value(
				    json_object_get(r, "late_seconds")),
		late));
}

static void
print_text(const json_t *j)
{
	const json_t *w = json_object_get(j, "waiting"),
		     *rm = json_object_get(j, "reminders"),
		     *c = json_object_get(j, "committee"), *r;
	char who[160], ref[16];
	size_t i;

	if (json_array_size(w) + json_array_size(rm) + json_array_size(c) == 0)
		(void)printf(_("nothing overdue\n"));
	if (json_array_size(w) > 0)
		(void)printf(
		    _("We are waiting for (%zu):\n"), json_array_size(w));
	json_array_foreach(w, i, r)
	{
		(void)snprintf(
		    who, sizeof(who), _("from %s"), jstr(r, "owing"));
		print_row(r, who, jstr(r, "case"));
	}
	if (json_array_size(rm) > 0)
		(void)printf(
		    _("Reminders: other agencies wait for us (%zu):\n"),
		    json_array_size(rm));
	json_array_foreach(rm, i, r)
	{
		(void)snprintf(
		    who, sizeof(who), _("for %s"), jstr(r, "waiting"));
		print_row(r, who, jstr(r, "case"));
	}
	if (json_array_size(c) > 0)
		(void)printf(
		    _("Stuck steps reported to the committee (%zu):\n"),
		    json_array_size(c));
	json_array_foreach(c, i, r)
	{
		(void)snprintf(who, sizeof(who), "%s -> %s", jstr(r, "waiting"),
		    jstr(r, "owing"));
		(void)snprintf(
		    ref, sizeof(ref), "#%.12s", jstr(r, "case_blinded"));
		print_row(r, who, ref);
	}
}

int
report_overdue(struct agent *a, int json, struct sira_err *err)
{
	json_t *j = NULL;
	int rc;

	if ((rc = overdue_collect(a, clock_now(), &j, err)) != 0)
		return rc;
	if (json) {
		(void)json_dumpf(
		    j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		(void)putchar('\n');
	} else
		print_text(j);
	json_decref(j);
	return 0;
}
