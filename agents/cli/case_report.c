/*
 * case_report.c: `sira-agent cases` and `sira-agent case REF`, in readable
 * text and --json, and the JSON form of workflow payloads for `show`.
 * Read-only: one read transaction per view. Texts written by another
 * agency (reasons, notes) are shown only if they carry no control or
 * invisible characters; JSON output escapes everything anyway. Text is in
 * the reader's language (i18n.h); --json keeps the English words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "workflow/workflow.h"
#include "clock.h"
#include "documents/documents.h"
#include "envelope.h"
#include "i18n.h"
#include "text.h"
#include "wire.h"

/* In English for --json (scripts read them); the text shows _(name). */
static const char *const leg_names[] = { N_("unknown"), N_("awaiting answer"),
	N_("accepted"), N_("declined"), N_("withdrawn"), N_("services started"),
	N_("services completed"), N_("not delivered"),
	N_("replaced by a newer referral") };
static const char *const request_names[] = { N_("unknown"), N_("pending"),
	N_("granted"), N_("refused") };

static const char *
leg_name(int s)
{
	return s >= 0 && s <= 8 ? leg_names[s] : "unknown";
}

static const char *
request_name(int s)
{
	return s >= 0 && s <= 3 ? request_names[s] : "unknown";
}

static json_t *
time_json(uint64_t t)
{
	char buf[SIRA_TIME_STR_LEN];

	if (t == 0)
		return json_null();
	clock_format(t, buf);
	return json_string(buf);
}

static json_t *
hex_json(const ProtobufCBinaryData *b)
{
	char hex[65];

	if (b->len == 0 || b->len > 32)
		return json_null();
	(void)sodium_bin2hex(hex, sizeof(hex), b->data, b->len);
	return json_string(hex);
}

/* A text another agency wrote, or nothing if it could fool a terminal. */
static const char *
safe(const char *s)
{
	size_t len = strlen(s);

	if (!text_is_utf8(s, len))
		return _("(hidden: not UTF-8)");
	if (text_has_control_lines(s, len))
		return _("(hidden: control characters)");
	return s;
}

/*
 * The status line is in English for --json and in the reader's language
 * for the text views (local): l10n() and l10n_n() choose, and make po
 * knows them as keywords, like _().
 */
static const char *l10n(bool local, const char *s)
    __attribute__((format_arg(2)));
static const char *l10n_n(bool local, const char *one, const char *many,
    size_t n) __attribute__((format_arg(2), format_arg(3)));

static const char *
l10n(bool local, const char *s)
{
	return local ? gettext(s) : s;
}

static const char *
l10n_n(bool local, const char *one, const char *many, size_t n)
{
	if (local)
		return ngettext(one, many, n);
	return n == 1 ? one : many;
}

/* One line saying where the case stands for this agency. */
static void
status_line(const Sira__V1__CaseRecord *r, const char *me, bool local,
    char *buf, size_t len)
{
	const Sira__V1__CaseLeg *l =
	    r->n_legs > 0 ? r->legs[r->n_legs - 1] : NULL;
	size_t pending = 0;
	int n = 0;

	if (r->transferred_to[0] != '\0')
		n = snprintf(buf, len, l10n(local, "transferred to %s"),
		    r->transferred_to);
	else if (l != NULL && strcmp(l->from, me) == 0)
		n = snprintf(buf, len, l10n(local, "referred to %s: %s%s%s"),
		    l->to, l10n(local, leg_name(l->state)),
		    l->suggested[0] ? l10n(local, ", suggests ") : "",
		    l->suggested);
	else if (l != NULL && strcmp(l->to, me) == 0)
		n = snprintf(buf, len, l10n(local, "referred by %s: %s"),
		    l->from,
		    l->state == SIRA__V1__LEG_STATE__LEG_STATE_PENDING ?
			l10n(local, "to answer (accept or decline)") :
			l10n(local, leg_name(l->state)));
	else if (r->received_from[0] != '\0')
		n = snprintf(buf, len,
		    l10n(local, "received from %s by transfer"),
		    r->received_from);
	else
		n = snprintf(buf, len, "%s",
		    r->held ? l10n(local, "held") : l10n(local, "not held"));
	for (size_t i = 0; i < r->n_requests; i++)
		if (r->requests[i]->state ==
		    SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
			pending++;
	if (pending > 0 && n >= 0 && (size_t)n < len)
		(void)snprintf(buf + n, len - (size_t)n,
		    l10n_n(local, "; %zu file request pending",
			"; %zu file requests pending", pending),
		    pending);
}

/* How far a message this agency sent got (outbox), as JSON. */
static json_t *
delivery(struct vault_txn *t, const ProtobufCBinaryData *id)
{
	Sira__V1__OutboxEntry *e = NULL;
	json_t *j, *from, *docs;

	if (id->len != 16 || book_get_out(t, id->data, &e, NULL) != 0)
		return json_null();
	from = json_array();
	docs = json_array();
	for (size_t i = 0; docs != NULL && i < e->n_docs; i++)
		(void)json_array_append_new(docs,
		    json_pack("{s:s, s:I}", "name", e->docs[i]->name, "size",
			(json_int_t)e->docs[i]->size));
	for (size_t i = 0; from != NULL && i < e->n_receipt_from; i++)
		(void)json_array_append_new(
		    from, json_string(e->receipt_from[i]));
	j = json_pack("{s:s, s:o, s:o, s:s, s:o}", "state",
	    book_state_name(e->state), "receipts_from",
	    from ? from : json_array(), "at",
	    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED ?
		time_json(e->updated_at) :
		json_null(),
	    "refused",
	    e->refused_reason ? sira_strerror(e->refused_reason) : "",
	    "documents", docs ? docs : json_array());
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return j;
}

/* The documents that came with a message this agency received. */
static json_t *
received_docs(
    const struct agent *a, struct vault_txn *t, const ProtobufCBinaryData *id)
{
	struct doc_received *d = NULL;
	size_t n = 0;
	json_t *arr;

	if (id->len != 16 || docs_received(a, t, id->data, &d, &n, NULL) != 0 ||
	    n == 0) {
		free(d);
		return NULL;
	}
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		(void)json_array_append_new(arr,
		    json_pack("{s:s, s:I, s:s, s:b}", "name", d[i].name, "size",
			(json_int_t)d[i].size, "path", d[i].path, "present",
			d[i].present));
	free(d);
	return arr;
}

static json_t *
events_json(const struct agent *a, struct vault_txn *t,
    Sira__V1__CaseEvent *const *ev, size_t n, const char *me)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		const Sira__V1__CaseEvent *e = ev[i];
		json_t *docs = NULL;
		json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:o}", "time",
		    time_json(e->time), "agency", e->actor_agency_id, "action",
		    e->action, "note", e->note, "message",
		    hex_json(&e->message_id));
		if (o != NULL && t != NULL &&
		    strcmp(e->actor_agency_id, me) == 0)
			(void)json_object_set_new(
			    o, "delivery", delivery(t, &e->message_id));
		else if (o != NULL && t != NULL &&
		    (docs = received_docs(a, t, &e->message_id)) != NULL)
			(void)json_object_set_new(o, "documents", docs);
		(void)json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
legs_json(const Sira__V1__CaseRecord *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < r->n_legs; i++) {
		const Sira__V1__CaseLeg *l = r->legs[i];
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o}",
			"from", l->from, "to", l->to, "state",
			leg_name(l->state), "sent", time_json(l->sent_at),
			"answered", time_json(l->answered_at), "reason",
			l->reason, "suggested", l->suggested, "message",
			hex_json(&l->message_id)));
	}
	return a;
}

static json_t *
requests_json(const Sira__V1__CaseRecord *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < r->n_requests; i++) {
		const Sira__V1__FileRequestRecord *q = r->requests[i];
		(void)json_array_append_new(a,
		    json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}",
			"request", hex_json(&q->request_id), "requester",
			q->requester, "holder", q->holder, "legal_basis",
			q->legal_basis, "purpose", q->purpose, "state",
			request_name(q->state), "requested",
			time_json(q->requested_at), "answered",
			time_json(q->answered_at), "reason", q->reason));
	}
	return a;
}

static json_t *
referral_json(
    const ProtobufCBinaryData *b, char summary[SIRA_REFERRAL_SUMMARY_MAX])
{
	Sira__V1__Referral *ref;
	json_t *j;

	summary[0] = '\0';
	if (b->len == 0 ||
	    wire_unpack(&sira__v1__referral__descriptor, b->data, b->len,
		AGENT_PAYLOAD_MAX, (ProtobufCMessage **)&ref, NULL) != 0)
		return json_null();
	(void)referral_summary(ref, summary, SIRA_REFERRAL_SUMMARY_MAX);
	j = referral_to_json(ref);
	sira__v1__referral__free_unpacked(ref, NULL);
	return j ? j : json_null();
}

/* The case as JSON; its status line in the reader's language if local
 * (for the text views, never for --json). */
static json_t *
case_json(const struct agent *a, struct vault_txn *t,
    const Sira__V1__CaseRecord *r, const char *me, bool full, bool local)
{
	char status[256], summary[SIRA_REFERRAL_SUMMARY_MAX];
	json_t *ref = referral_json(&r->referral, summary);
	json_t *j;

	status_line(r, me, local, status, sizeof(status));
	j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o}", "case",
	    r->case_ref, "status", status, "held", r->held, "summary", summary,
	    "transferred_to", r->transferred_to, "opened",
	    time_json(r->opened_at), "updated", time_json(r->updated_at));
	if (j == NULL || !full) {
		json_decref(ref);
		return j;
	}
	(void)json_object_set_new(
	    j, "received_from", json_string(r->received_from));
	(void)json_object_set_new(j, "referral", ref);
	(void)json_object_set_new(j, "referrals", legs_json(r));
	(void)json_object_set_new(j, "file_requests", requests_json(r));
	(void)json_object_set_new(
	    j, "timeline", events_json(a, t, r->timeline, r->n_timeline, me));
	(void)json_object_set_new(j, "earlier_history",
	    events_json(a, NULL, r->history, r->n_history, me));
	return j;
}

struct rows {
	json_t *a;
	const char *me;
	bool local;
	struct overdue_scan *late; /* deadlines (overdue_report.c) */
};

static int
case_row(void *ctx, const Sira__V1__CaseRecord *r)
{
	struct rows *rows = ctx;
	json_t *j = case_json(NULL, NULL, r, rows->me, false, rows->local);

	(void)json_object_set_new(j, "overdue_seconds",
	    json_integer((json_int_t)overdue_case_late(rows->late, r)));
	(void)json_array_append_new(rows->a, j);
	return 0;
}

static void
print_json(json_t *j)
{
	(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	(void)putchar('\n');
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

/* One line of `cases`, with « [en retard de 3 j] » when a step is late. */
static void
print_case_row(const json_t *r)
{
	char day[SIRA_LOCAL_STR_LEN], late[DEADLINE_TEXT_LEN] = "";
	json_int_t over =
	    json_integer_value(json_object_get(r, "overdue_seconds"));

	if (over > 0)
		(void)deadlines_late_text((uint64_t)over, late);
	(void)printf("%-16s %s  %s%s%s%s\n", str(r, "case"),
	    clock_show(str(r, "updated"), day), safe(str(r, "status")),
	    over > 0 ? "  [" : "", late, over > 0 ? "]" : "");
}

int
report_cases(struct agent *a, int json, struct sira_err *err)
{
	struct overdue_scan s;
	struct rows rows = { json_array(), a->me->agency_id, !json, &s };
	struct vault_txn *t = NULL;
	json_t *r;
	size_t i;
	int rc;

	if (rows.a == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = vault_begin(a->vault, false, &t, err)) == 0) {
		/* A wrong deadline line: the defaults, and overdue says why. */
		(void)overdue_scan_open(&s, a, t, clock_now(), NULL);
		rc = cases_each(t, case_row, &rows, err);
		overdue_scan_close(&s);
	}
	vault_abort(&t);
	if (rc != 0) {
		json_decref(rows.a);
		return rc;
	}
	if (json)
		print_json(rows.a);
	else if (json_array_size(rows.a) == 0)
		(void)printf(_("no cases\n"));
	else
		json_array_foreach(rows.a, i, r) print_case_row(r);
	json_decref(rows.a);
	return 0;
}

static bool
present(const char *s)
{
	return s[0] != '\0' && strcmp(s, "-") != 0;
}

static const char *
action_text(const char *action)
{
	static const struct {
		const char *code, *text;
	} t[] = {
		/* TRANSLATORS: each follows the name of an agency, and some
		 * are followed by another agency, a note or a reason. */
		{ "referral.sent", N_("referred the case to") },
		{ "referral.received", N_("referred the case to this agency") },
		{ "referral.accepted", N_("accepted the referral") },
		{ "referral.declined", N_("declined the referral") },
		{ "referral.withdrawn", N_("withdrew the referral") },
		{ "referral.undelivered", N_("referral not delivered to") },
		{ "service.started", N_("reported: services started") },
		{ "service.completed", N_("reported: services completed") },
		{ "case.transferred", N_("transferred the case") },
		{ "case.received", N_("handed the case over to this agency") },
		{ "file.requested",
		    N_("requested the case file; legal basis:") },
		{ "file.granted", N_("granted the case file") },
		{ "file.refused", N_("refused the case file:") },
		{ "note.sent", N_("sent a note to") },
		{ "note.received", N_("sent a note to this agency") },
		{ "anomaly", N_("ANOMALY:") },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].code, action) == 0)
			return _(t[i].text);
	return action;
}

static void
print_docs(const json_t *docs)
{
	const json_t *x;
	size_t i;

	json_array_foreach(docs, i, x)
	{
		const char *path = str(x, "path");
		(void)printf(_("  %20s     document %s (%lld bytes)%s%s\n"), "",
		    safe(str(x, "name")),
		    (long long)json_integer_value(json_object_get(x, "size")),
		    strcmp(path, "-") != 0 ? ": " : "",
		    strcmp(path, "-") != 0 ? safe(path) : "");
	}
}

static void
print_events(const json_t *ev)
{
	char day[SIRA_LOCAL_STR_LEN];
	const json_t *e, *d;
	size_t i;

	json_array_foreach(ev, i, e)
	{
		(void)printf("  %s  %-24s %s %s\n",
		    clock_show(str(e, "time"), day), safe(str(e, "agency")),
		    safe(action_text(str(e, "action"))), safe(str(e, "note")));
		if ((d = json_object_get(e, "delivery")) != NULL &&
		    json_is_object(d))
			(void)printf("  %20s  -> %s%s%s%s%s%s\n", "",
			    word_text(str(d, "state")),
			    json_is_string(json_object_get(d, "at")) ?
				_(" at ") :
				"",
			    json_is_string(json_object_get(d, "at")) ?
				clock_show(str(d, "at"), day) :
				"",
			    present(str(d, "refused")) ? _(" (refused: ") : "",
			    present(str(d, "refused")) ? str(d, "refused") : "",
			    present(str(d, "refused")) ? ")" : "");
		if (d != NULL && json_is_object(d))
			print_docs(json_object_get(d, "documents"));
		print_docs(json_object_get(e, "documents"));
	}
}

static void
print_case(const json_t *j)
{
	const json_t *x;
	size_t i;

	/* TRANSLATORS: the values start in the 11th column. */
	(void)printf(_("case      %s\nstatus    %s\nholder    %s\n"),
	    str(j, "case"), safe(str(j, "status")),
	    json_is_true(json_object_get(j, "held")) ? _("this agency") :
						       _("not this agency"));
	if (present(str(j, "summary")))
		(void)printf(_("person    %s\n"), str(j, "summary"));
	(void)printf(_("referrals\n"));
	json_array_foreach(json_object_get(j, "referrals"), i, x)(void)
	    printf("  %s -> %s  %s%s%s%s%s\n", str(x, "from"), str(x, "to"),
		_(str(x, "state")), str(x, "reason")[0] ? ": " : "",
		safe(str(x, "reason")),
		str(x, "suggested")[0] ? _("; suggests ") : "",
		safe(str(x, "suggested")));
	if (json_array_size(json_object_get(j, "file_requests")) > 0)
		(void)printf(_("file requests\n"));
	json_array_foreach(json_object_get(j, "file_requests"), i, x)(
	    void) printf(_("  %s  %s -> %s  %s  legal basis: %s%s%s\n"),
	    str(x, "request"), str(x, "requester"), str(x, "holder"),
	    _(str(x, "state")), safe(str(x, "legal_basis")),
	    str(x, "reason")[0] ? _("; reason: ") : "", safe(str(x, "reason")));
	if (json_array_size(json_object_get(j, "earlier_history")) > 0) {
		(void)printf(_("earlier history (from previous holders)\n"));
		print_events(json_object_get(j, "earlier_history"));
	}
	(void)printf(_("timeline\n"));
	print_events(json_object_get(j, "timeline"));
}

int
report_case(struct agent *a, const char *ref, int json, struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	struct vault_txn *t = NULL;
	json_t *j = NULL;
	int rc;

	if ((rc = vault_begin(a->vault, false, &t, err)) == 0 &&
	    (rc = cases_load(t, ref, &r, err)) == 0 &&
	    (j = case_json(a, t, r, a->me->agency_id, true, !json)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	vault_abort(&t);
	if (r != NULL)
		sira__v1__case_record__free_unpacked(r, NULL);
	if (rc != 0)
		return rc;
	if (json)
		print_json(j);
	else
		print_case(j);
	json_decref(j);
	return 0;
}

/* A deadline notice as show displays it: what is late, and how much. */
static json_t *
notice_json(const Sira__V1__DeadlineNotice *n)
{
	json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:o, s:I}", "step",
	    deadlines_step_word((int)n->step), "stage", (int)n->stage,
	    "waiting", n->waiting, "owing", n->owing, "due",
	    time_json(n->due_at), "late_seconds", (json_int_t)n->late);

	if (j != NULL && n->stage == 2)
		(void)json_object_set_new(
		    j, "case_blinded", hex_json(&n->blinded_ref));
	return j;
}

json_t *
report_payload_json(int kind, const uint8_t *p, size_t len)
{
	Sira__V1__Payload *pl = NULL;
	json_t *j = NULL;

	if (kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE ||
	    wire_unpack(&sira__v1__payload__descriptor, p, len,
		AGENT_PAYLOAD_MAX, (ProtobufCMessage **)&pl, NULL) != 0)
		return NULL;
	switch (pl->body_case) {
	case SIRA__V1__PAYLOAD__BODY_REFERRAL:
		j = referral_to_json(pl->referral);
		break;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE:
		j = json_pack("{s:s, s:s, s:s}", "decision",
		    pl->referral_response->decision ==
			    SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT ?
			"accept" :
			"decline",
		    "reason", pl->referral_response->reason_text, "suggested",
		    pl->referral_response->suggested_agency_id);
		break;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE:
		j = json_pack("{s:s, s:s}", "update",
		    pl->referral_update->kind ==
			    SIRA__V1__UPDATE_KIND__UPDATE_KIND_WITHDRAWN ?
			"withdrawn" :
			pl->referral_update->kind ==
			    SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_COMPLETED ?
			"services completed" :
			"services started",
		    "note", pl->referral_update->note);
		break;
	case SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER:
		j = json_pack("{s:s, s:I}", "note", pl->case_transfer->note,
		    "events",
		    (json_int_t)(pl->case_transfer->file ?
			    pl->case_transfer->file->n_timeline :
			    0));
		break;
	case SIRA__V1__PAYLOAD__BODY_FILE_REQUEST:
		j = json_pack("{s:o, s:s, s:s, s:s}", "request",
		    hex_json(&pl->file_request->request_id), "legal_basis",
		    pl->file_request->legal_basis, "purpose",
		    pl->file_request->purpose, "requested_by",
		    pl->file_request->requested_by);
		break;
	case SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE:
		j = json_pack("{s:o, s:s, s:s, s:b}", "request",
		    hex_json(&pl->file_response->request_id), "decision",
		    pl->file_response->decision ==
			    SIRA__V1__FILE_DECISION__FILE_DECISION_GRANT ?
			"grant" :
			"refuse",
		    "reason", pl->file_response->reason, "case_file",
		    pl->file_response->file != NULL);
		break;
	case SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE:
		j = notice_json(pl->deadline_notice);
		break;
	default:
		break;
	}
	sira__v1__payload__free_unpacked(pl, NULL);
	return j;
}
