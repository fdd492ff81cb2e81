/*
 * page_cases.c: the inbox (every case with where it stands, and the counts
 * a caseworker starts the day with) and the case page (the referral, the
 * referrals and file requests, the timeline with receipts and documents,
 * and the forms of only the steps the case allows now). Read-only: one
 * read transaction per page, then one write for the audit entry of the
 * view. Texts written by other agencies are escaped like everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "documents/documents.h"
#include "i18n.h"
#include "clock.h"
#include "text.h"
#include "web/web.h"
#include "wire.h"
#include "workflow/workflow.h"

#define LEG(s) SIRA__V1__LEG_STATE__LEG_STATE_##s

/* ---- the inbox ---- */

struct inbox {
	struct web_req *r;
	const char *me;
	struct html rows;
	size_t n, new_referrals, requests, overdue;
	struct deadline_conf conf; /* agent.conf (docs/WORKFLOWS.md) */
	struct due_roles roles;
	struct due_scan scan;
};

/* A referral we owe an answer to, past our own answer deadline (the
 * referrer's agent may use another one: it sends a reminder then). */
static bool
owed_late(const struct inbox *in, const Sira__V1__CaseLeg *l)
{
	uint64_t h = in->conf.answer[in->r->a->me->role];

	return strcmp(l->to, in->me) == 0 && l->state == LEG(PENDING) &&
	    h != 0 && in->r->now > l->sent_at + h * 3600;
}

/* How late the latest step we wait for on c is (deadlines.c), or 0. */
static uint64_t
waiting_late(struct inbox *in, const Sira__V1__CaseRecord *c)
{
	struct due d[DEADLINES_PER_CASE];
	size_t n = deadlines_overdue(c, &in->scan, d);
	uint64_t most = 0;

	for (size_t i = 0; i < n; i++)
		most = d[i].late > most ? d[i].late : most;
	return most;
}

/* « en retard de 3 j » */
static void
late_mark(struct html *h, uint64_t late)
{
	char text[DEADLINE_TEXT_LEN];

	html_raw(h, " <span class=\"late\">");
	html_text(h, deadlines_late_text(late, text));
	html_raw(h, "</span>");
}

/* ---- the case page's late marks ---- */

/* The legs of one case that are late, by agent.conf's deadlines, as the
 * inbox counts them: those we wait for (deadlines.c) and those we owe an
 * answer to (our own answer deadline). */
struct case_late {
	struct deadline_conf conf;
	struct due d[DEADLINES_PER_CASE];
	size_t n;
	const char *me;
	uint64_t now;
};

static void
case_late_scan(struct web_req *r, struct vault_txn *t,
    const Sira__V1__CaseRecord *c, struct case_late *cl)
{
	struct due_roles roles = { r->a, t, r->now, NULL, 0 };
	struct due_scan scan;

	/* A wrong deadline line: the defaults (the daemon raises the alarm). */
	(void)deadline_conf_load(&r->a->home, &cl->conf, NULL);
	cl->me = r->a->me->agency_id;
	cl->now = r->now;
	scan = (struct due_scan){ &cl->conf, cl->me, r->now, due_roles_of,
		&roles };
	cl->n = deadlines_overdue(c, &scan, cl->d);
	due_roles_free(&roles);
}

/* How late leg l is, or 0. */
static uint64_t
leg_late(const struct case_late *cl, const Sira__V1__CaseLeg *l,
    enum sira_role my_role)
{
	uint64_t h = cl->conf.answer[my_role];

	for (size_t i = 0; i < cl->n; i++)
		if (l->message_id.len == 16 &&
		    memcmp(cl->d[i].item_id, l->message_id.data, 16) == 0)
			return cl->d[i].late;
	if (strcmp(l->to, cl->me) == 0 && l->state == LEG(PENDING) && h != 0 &&
	    cl->now > l->sent_at + h * 3600)
		return cl->now - (l->sent_at + h * 3600);
	return 0;
}

/* Where the case stands for this agency, in a few words. */
static void
standing(struct html *h, const Sira__V1__CaseRecord *c, const char *me)
{
	const Sira__V1__CaseLeg *l =
	    c->n_legs > 0 ? c->legs[c->n_legs - 1] : NULL;

	if (c->transferred_to[0] != '\0') {
		html_text(h, _("transferred to"));
		html_raw(h, " ");
		html_text(h, c->transferred_to);
	} else if (l != NULL && strcmp(l->from, me) == 0) {
		html_text(h, _("referred to"));
		html_raw(h, " ");
		html_text(h, l->to);
		html_raw(h, ": ");
		html_text(h, label_leg(l->state));
	} else if (l != NULL && strcmp(l->to, me) == 0) {
		html_text(h, _("referred by"));
		html_raw(h, " ");
		html_text(h, l->from);
		html_raw(h, ": ");
		html_text(h,
		    l->state == LEG(PENDING) ?
			_("to answer (accept or decline)") :
			label_leg(l->state));
	} else if (c->received_from[0] != '\0') {
		html_text(h, _("received by transfer from"));
		html_raw(h, " ");
		html_text(h, c->received_from);
	} else
		html_text(h, c->held ? _("held") : _("not held"));
}

static void
summary_of(const Sira__V1__CaseRecord *c, char out[SIRA_REFERRAL_SUMMARY_MAX])
{
	Sira__V1__Referral *ref = NULL;

	out[0] = '\0';
	if (c->referral.len > 0 &&
	    wire_unpack(&sira__v1__referral__descriptor, c->referral.data,
		c->referral.len, AGENT_PAYLOAD_MAX, (ProtobufCMessage **)&ref,
		NULL) == 0) {
		(void)referral_summary(ref, out, SIRA_REFERRAL_SUMMARY_MAX);
		sira__v1__referral__free_unpacked(ref, NULL);
	}
}

static int
inbox_row(void *ctx, const Sira__V1__CaseRecord *c)
{
	struct inbox *in = ctx;
	char sum[SIRA_REFERRAL_SUMMARY_MAX];
	uint64_t waiting = waiting_late(in, c);
	bool late = waiting > 0;

	for (size_t i = 0; i < c->n_legs; i++) {
		const Sira__V1__CaseLeg *l = c->legs[i];
		if (strcmp(l->to, in->me) == 0 && l->state == LEG(PENDING))
			in->new_referrals++;
		if (owed_late(in, l))
			late = true;
	}
	for (size_t i = 0; i < c->n_requests; i++)
		if (strcmp(c->requests[i]->holder, in->me) == 0 &&
		    c->requests[i]->state ==
			SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
			in->requests++;
	in->overdue += late;
	in->n++;
	summary_of(c, sum);
	html_raw(&in->rows, "<tr><td><a href=\"/case?ref=");
	html_text(&in->rows, c->case_ref);
	html_raw(&in->rows, "\">");
	html_text(&in->rows, c->case_ref);
	html_raw(&in->rows, "</a></td><td>");
	html_text(&in->rows, sum);
	html_raw(&in->rows, "</td><td>");
	standing(&in->rows, c, in->me);
	if (waiting > 0)
		late_mark(&in->rows, waiting);
	else if (late) {
		html_raw(&in->rows, " <span class=\"late\">");
		html_text(&in->rows, _("overdue"));
		html_raw(&in->rows, "</span>");
	}
	html_raw(&in->rows, "</td><td>");
	html_when(&in->rows, c->updated_at);
	html_raw(&in->rows, "</td></tr>");
	return 0;
}

static void
count(struct html *h, size_t n, const char *what, bool alarm)
{
	html_fmt(h, "<li%s><strong>%zu</strong>",
	    alarm && n ? " class=\"late\"" : "", n);
	html_text(h, what);
	html_raw(h, "</li>");
}

void
page_inbox(struct web_req *r)
{
	struct inbox in;
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	int rc;

	memset(&in, 0, sizeof(in));
	in.r = r;
	in.me = r->a->me->agency_id;
	/* A wrong deadline line: the defaults (the daemon raises the alarm). */
	(void)deadline_conf_load(&r->a->home, &in.conf, NULL);
	if ((rc = vault_begin(r->a->vault, false, &t, &err)) == 0) {
		in.roles = (struct due_roles){ r->a, t, r->now, NULL, 0 };
		in.scan = (struct due_scan){ &in.conf, in.me, r->now,
			due_roles_of, &in.roles };
		rc = cases_each(t, inbox_row, &in, &err);
		due_roles_free(&in.roles);
	}
	vault_abort(&t);
	if (rc != 0) {
		html_free(&in.rows);
		page_error(r, 500,
		    _("The agency's store cannot be read: see "
		      "the agent's log."));
		return;
	}
	page_begin(r, _("Inbox"));
	page_flash(r);
	html_raw(&r->out, "<ul class=\"counts\">");
	count(&r->out, in.new_referrals, _("new referrals to answer"), true);
	count(&r->out, in.requests, _("file requests waiting"), true);
	count(&r->out, in.overdue, _("cases with a step overdue"), true);
	count(&r->out, in.n, _("cases in all"), false);
	html_raw(&r->out, "</ul>");
	if (in.n == 0) {
		html_raw(&r->out, "<p>");
		html_text(&r->out, _("No case yet."));
		html_raw(&r->out, "</p>");
	} else {
		html_raw(&r->out, "<table><caption class=\"noprint\">");
		html_text(&r->out, _("Cases"));
		html_raw(&r->out, "</caption><thead><tr><th scope=\"col\">");
		html_text(&r->out, _("Case"));
		html_raw(&r->out, "</th><th scope=\"col\">");
		html_text(&r->out, _("Person and needs"));
		html_raw(&r->out, "</th><th scope=\"col\">");
		html_text(&r->out, _("Where it stands"));
		html_raw(&r->out, "</th><th scope=\"col\">");
		html_text(&r->out, _("Last change"));
		html_raw(&r->out, "</th></tr></thead><tbody>");
		if (in.rows.p != NULL)
			html_raw(&r->out, in.rows.p);
		r->out.failed |= in.rows.failed;
		html_raw(&r->out, "</tbody></table>");
	}
	html_free(&in.rows);
	page_end(r);
}

/* ---- the case page ---- */

/* One referral field: a text, a word, a list of words or a number. */
static void
field_value( // NOLINT(misc-no-recursion): a list holds words, one level
    struct html *h, const json_t *v)
{
	size_t i;
	json_t *x;
	char day[SIRA_LOCAL_STR_LEN];

	if (json_is_string(v))
		html_text(
		    h, label_choice(clock_show(json_string_value(v), day)));
	else if (json_is_integer(v))
		html_fmt(h, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		html_text(h, json_is_true(v) ? _("yes") : _("no"));
	else if (json_is_array(v))
		json_array_foreach(v, i, x)
		{
			if (i > 0)
				html_raw(h, ", ");
			field_value(h, x);
		}
}

static void
fields_dl( // NOLINT(misc-no-recursion): the referral nests one level
    struct html *h, const json_t *o, const char *prefix)
{
	const char *k;
	json_t *v;
	char path[96];

	json_object_foreach((json_t *)(uintptr_t)o, k, v)
	{
		(void)snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] ? "." : "", k);
		if (json_is_object(v)) {
			fields_dl(h, v, path);
			continue;
		}
		html_raw(h, "<dt>");
		html_text(h, label_field(path));
		html_raw(h, "</dt><dd>");
		if (strcmp(k, "circumstances") == 0 || strcmp(k, "notes") == 0)
			html_text(h, json_string_value(v)); /* as written */
		else
			field_value(h, v);
		html_raw(h, "</dd>");
	}
}

void
case_referral_dl(struct web_req *r, const Sira__V1__CaseRecord *c)
{
	Sira__V1__Referral *ref = NULL;
	json_t *j = NULL;

	if (c->referral.len > 0 &&
	    wire_unpack(&sira__v1__referral__descriptor, c->referral.data,
		c->referral.len, AGENT_PAYLOAD_MAX, (ProtobufCMessage **)&ref,
		NULL) == 0)
		j = referral_to_json(ref);
	if (ref != NULL)
		sira__v1__referral__free_unpacked(ref, NULL);
	if (j == NULL) {
		html_raw(&r->out, "<p>");
		html_text(&r->out, _("No referral form with this case."));
		html_raw(&r->out, "</p>");
		return;
	}
	html_raw(&r->out, "<dl>");
	fields_dl(&r->out, j, "");
	html_raw(&r->out, "</dl>");
	json_decref(j);
}

/* How far a message we sent got: state, and who signed a receipt. */
static void
delivery(struct web_req *r, struct vault_txn *t, const ProtobufCBinaryData *id)
{
	Sira__V1__OutboxEntry *e = NULL;

	if (id->len != 16 || book_get_out(t, id->data, &e, NULL) != 0)
		return;
	html_raw(&r->out, "<br><span class=\"");
	html_raw(&r->out,
	    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED ? "ok" :
									 "");
	html_raw(&r->out, "\">");
	html_text(&r->out, label_delivery(book_state_name(e->state)));
	for (size_t i = 0; i < e->n_receipt_from; i++) {
		html_raw(&r->out, i == 0 ? " — " : ", ");
		html_text(&r->out, e->receipt_from[i]);
	}
	if (e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED) {
		html_raw(&r->out, " — ");
		html_when(&r->out, e->updated_at);
	}
	for (size_t i = 0; i < e->n_docs; i++) {
		html_raw(&r->out, "<br>📎 ");
		html_text(&r->out, e->docs[i]->name);
	}
	html_raw(&r->out, "</span>");
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

/* The documents that came with a message we received: links. */
static void
received(struct web_req *r, struct vault_txn *t, const ProtobufCBinaryData *id)
{
	struct doc_received *d = NULL;
	char hex[33];
	size_t n = 0;

	if (id->len != 16 ||
	    docs_received(r->a, t, id->data, &d, &n, NULL) != 0)
		return;
	(void)sodium_bin2hex(hex, sizeof(hex), id->data, 16);
	for (size_t i = 0; i < n; i++) {
		html_raw(&r->out, "<br>📎 ");
		if (d[i].present) {
			html_fmt(&r->out, "<a href=\"/documents/%s/%u\">", hex,
			    (unsigned)d[i].index);
			html_text(&r->out, d[i].name);
			html_raw(&r->out, "</a>");
		} else {
			html_text(&r->out, d[i].name);
			html_raw(&r->out, " (");
			html_text(&r->out, _("still downloading"));
			html_raw(&r->out, ")");
		}
		html_fmt(&r->out, " — %.1f Kio", (double)d[i].size / 1024.0);
	}
	free(d);
}

static void
timeline(struct web_req *r, struct vault_txn *t, Sira__V1__CaseEvent *const *ev,
    size_t n)
{
	const char *me = r->a->me->agency_id;

	html_raw(&r->out, "<table><thead><tr><th scope=\"col\">");
	html_text(&r->out, _("When"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Agency"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("What"));
	html_raw(&r->out, "</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		const Sira__V1__CaseEvent *e = ev[i];
		html_raw(&r->out, "<tr><td>");
		html_when(&r->out, e->time);
		html_raw(&r->out, "</td><td>");
		html_text(&r->out, e->actor_agency_id);
		html_raw(&r->out, "</td><td>");
		html_text(&r->out, label_action(e->action));
		if (e->note[0] != '\0') {
			html_raw(&r->out, " ");
			html_text(&r->out, e->note);
		}
		if (t != NULL && strcmp(e->actor_agency_id, me) == 0)
			delivery(r, t, &e->message_id);
		else if (t != NULL)
			received(r, t, &e->message_id);
		html_raw(&r->out, "</td></tr>");
	}
	html_raw(&r->out, "</tbody></table>");
}

static void
legs_table(
    struct web_req *r, struct vault_txn *t, const Sira__V1__CaseRecord *c)
{
	struct case_late cl;
	uint64_t late;

	case_late_scan(r, t, c, &cl);
	html_raw(&r->out, "<table><thead><tr><th scope=\"col\">");
	html_text(&r->out, _("From"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("To"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("State"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Sent"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Answered"));
	html_raw(&r->out, "</th></tr></thead><tbody>");
	for (size_t i = 0; i < c->n_legs; i++) {
		const Sira__V1__CaseLeg *l = c->legs[i];
		html_raw(&r->out, "<tr><td>");
		html_text(&r->out, l->from);
		html_raw(&r->out, "</td><td>");
		html_text(&r->out, l->to);
		html_raw(&r->out, "</td><td>");
		html_text(&r->out, label_leg(l->state));
		if ((late = leg_late(&cl, l, r->a->me->role)) != 0)
			late_mark(&r->out, late);
		if (l->reason[0] != '\0') {
			html_raw(&r->out, "<br>");
			html_text(&r->out, l->reason);
		}
		if (l->suggested[0] != '\0') {
			html_raw(&r->out, "<br>");
			html_text(&r->out, _("suggests:"));
			html_raw(&r->out, " ");
			html_text(&r->out, l->suggested);
		}
		html_raw(&r->out, "</td><td>");
		html_when(&r->out, l->sent_at);
		html_raw(&r->out, "</td><td>");
		html_when(&r->out, l->answered_at);
		html_raw(&r->out, "</td></tr>");
	}
	html_raw(&r->out, "</tbody></table>");
}

/* "<dt>term</dt><dd>text": the caller adds to the <dd> and closes it. */
static void
dl_item(struct html *h, const char *term, const char *text)
{
	html_raw(h, "<dt>");
	html_text(h, term);
	html_raw(h, "</dt><dd>");
	html_text(h, text);
}

static void
requests_table(struct web_req *r, const Sira__V1__CaseRecord *c,
    const struct wf_allowed *ok)
{
	char hex[33];

	for (size_t i = 0; i < c->n_requests; i++) {
		const Sira__V1__FileRequestRecord *q = c->requests[i];
		html_raw(&r->out, "<dl>");
		dl_item(&r->out, _("Requested by"), q->requester);
		html_raw(&r->out, " — ");
		html_when(&r->out, q->requested_at);
		html_raw(&r->out, "</dd>");
		dl_item(&r->out, _("Asked of"), q->holder);
		html_raw(&r->out, "</dd>");
		dl_item(&r->out, _("Legal basis"), q->legal_basis);
		html_raw(&r->out, "</dd>");
		dl_item(&r->out, _("Purpose"), q->purpose);
		html_raw(&r->out, "</dd>");
		dl_item(&r->out, _("State"), "");
		html_text(&r->out, label_request(q->state));
		if (q->reason[0] != '\0') {
			html_raw(&r->out, ": ");
			html_text(&r->out, q->reason);
		}
		html_raw(&r->out, "</dd></dl>");
		if (i < CASES_REQUESTS_MAX && ok->decide[i] &&
		    q->request_id.len == 16) {
			(void)sodium_bin2hex(
			    hex, sizeof(hex), q->request_id.data, 16);
			step_forms_decide(r, c->case_ref, hex);
		}
	}
}

/* Load case ref into *c inside t, or fill r with the error page. */
static int
load_case(struct web_req *r, struct vault_txn **t, const char *ref,
    Sira__V1__CaseRecord **c)
{
	struct sira_err err = { 0 };
	int rc;

	*c = NULL;
	if (!workflow_ref_valid(ref)) {
		page_error(r, 404, _("This is not a case reference."));
		return -SIRA_EINVAL;
	}
	if ((rc = vault_begin(r->a->vault, false, t, &err)) == 0)
		rc = cases_load(*t, ref, c, &err);
	if (rc == -SIRA_ENOTFOUND)
		page_error(r, 404,
		    _("This agency has no case with this "
		      "reference."));
	else if (rc != 0)
		page_error(r, 500,
		    _("The agency's store cannot be read: see "
		      "the agent's log."));
	if (rc != 0)
		vault_abort(t);
	return rc;
}

static void
case_body(struct web_req *r, struct vault_txn *t, const Sira__V1__CaseRecord *c)
{
	struct wf_allowed ok;

	workflow_allowed(c, r->a->me->agency_id, r->a->me->role, r->now, &ok);
	html_raw(&r->out, "<p><strong>");
	standing(&r->out, c, r->a->me->agency_id);
	html_raw(&r->out, "</strong> — ");
	html_text(&r->out, _("opened"));
	html_raw(&r->out, " ");
	html_when(&r->out, c->opened_at);
	html_raw(&r->out,
	    "</p><p class=\"noprint\"><a class=\"button "
	    "secondary\" href=\"/case/print?ref=");
	html_text(&r->out, c->case_ref);
	html_raw(&r->out, "\">");
	html_text(&r->out, _("Printable referral sheet"));
	html_raw(&r->out,
	    "</a> <a class=\"button secondary\" "
	    "href=\"/case/export?ref=");
	html_text(&r->out, c->case_ref);
	html_raw(&r->out, "\">");
	html_text(&r->out, _("Evidence export"));
	html_raw(&r->out, "</a></p>");
	step_forms(r, c, &ok);
	html_raw(&r->out, "<h2>");
	html_text(&r->out, _("Referral"));
	html_raw(&r->out, "</h2>");
	case_referral_dl(r, c);
	if (c->n_legs > 0) {
		html_raw(&r->out, "<h2>");
		html_text(&r->out, _("Referrals"));
		html_raw(&r->out, "</h2>");
		legs_table(r, t, c);
	}
	if (c->n_requests > 0) {
		html_raw(&r->out, "<h2>");
		html_text(&r->out, _("Case-file requests"));
		html_raw(&r->out, "</h2>");
		requests_table(r, c, &ok);
	}
	html_raw(&r->out, "<h2>");
	html_text(&r->out, _("Timeline"));
	html_raw(&r->out, "</h2>");
	timeline(r, t, c->timeline, c->n_timeline);
	if (c->n_history > 0) {
		html_raw(&r->out, "<h2>");
		html_text(&r->out, _("History before the transfer"));
		html_raw(&r->out, "</h2>");
		timeline(r, NULL, c->history, c->n_history);
	}
}

void
page_case(struct web_req *r, const char *ref)
{
	Sira__V1__CaseRecord *c = NULL;
	struct vault_txn *t = NULL;
	char title[128];

	if (load_case(r, &t, ref, &c) != 0)
		return;
	(void)snprintf(title, sizeof(title), "%s %s", _("Case"), c->case_ref);
	page_begin(r, title);
	page_flash(r);
	step_error(r);
	case_body(r, t, c);
	page_end(r);
	vault_abort(&t);
	sira__v1__case_record__free_unpacked(c, NULL);
	(void)web_audit(r, "case.view", ref);
}

void
page_case_print(struct web_req *r, const char *ref)
{
	Sira__V1__CaseRecord *c = NULL;
	struct vault_txn *t = NULL;
	char title[128], sum[SIRA_REFERRAL_SUMMARY_MAX];

	if (load_case(r, &t, ref, &c) != 0)
		return;
	(void)snprintf(
	    title, sizeof(title), "%s %s", _("Referral sheet"), c->case_ref);
	page_begin(r, title);
	summary_of(c, sum);
	html_tag(&r->out, "p", NULL, sum);
	case_referral_dl(r, c);
	if (c->n_legs > 0) {
		html_raw(&r->out, "<h2>");
		html_text(&r->out, _("Referrals"));
		html_raw(&r->out, "</h2>");
		legs_table(r, t, c);
	}
	html_raw(&r->out, "<p>");
	html_text(&r->out, _("Printed by"));
	html_raw(&r->out, " ");
	html_text(&r->out, r->s->full_name);
	html_raw(&r->out, " (");
	html_text(&r->out, r->a->me->agency_id);
	html_raw(&r->out, "), ");
	html_when(&r->out, r->now);
	html_raw(&r->out, ". ");
	html_text(&r->out,
	    _("Confidential: information about a victim of "
	      "trafficking. Do not leave it unattended."));
	html_raw(&r->out,
	    "</p><p class=\"noprint\"><button "
	    "type=\"button\" data-print>");
	html_text(&r->out, _("Print"));
	html_raw(&r->out, "</button></p>");
	page_end(r);
	vault_abort(&t);
	sira__v1__case_record__free_unpacked(c, NULL);
	(void)web_audit(r, "case.print", ref);
}
