/*
 * step_forms.c: the forms of the steps a case allows now (the case page
 * draws only those workflow_allowed permits), the prosecutor's request
 * page, and the refusal of the last step tried. page_steps.c takes what
 * they send.
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "web/web.h"
#include "workflow/workflow.h"

static void
hidden(struct web_req *r, const char *name, const char *value)
{
	html_fmt(&r->out, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	html_text(&r->out, value);
	html_raw(&r->out, "\">");
}

static void
form_open(struct web_req *r, const char *ref, const char *step, bool upload)
{
	html_fmt(&r->out,
	    "<form method=\"post\" class=\"step\" action=\"/case/%s\"", step);
	if (upload)
		upload_attrs(r);
	html_raw(&r->out, ">");
	page_csrf(r);
	hidden(r, "ref", ref);
}

static void
button(struct web_req *r, const char *label, bool secondary)
{
	html_fmt(
	    &r->out, "<button%s>", secondary ? " class=\"secondary\"" : "");
	html_text(&r->out, label);
	html_raw(&r->out, "</button>");
}

/* A labelled text input or textarea; id is name plus a suffix so that a
 * page with several forms keeps ids unique. */
static void
input(struct web_req *r, const char *name, const char *suffix,
    const char *label, bool area, bool required)
{
	html_fmt(&r->out, "<label for=\"%s-%s\">", name, suffix);
	html_text(&r->out, label);
	html_raw(&r->out, "</label>");
	html_fmt(&r->out,
	    area ? "<textarea id=\"%s-%s\" name=\"%s\"%s></textarea>" :
		   "<input type=\"text\" id=\"%s-%s\" name=\"%s\"%s>",
	    name, suffix, name, required ? " required" : "");
}

static void
answer_forms(struct web_req *r, const char *ref, const Sira__V1__CaseLeg *l,
    unsigned f, size_t i)
{
	char sfx[16];

	(void)snprintf(sfx, sizeof(sfx), "l%zu", i);
	html_raw(&r->out, "<fieldset><legend>");
	html_text(&r->out, _("Referral from"));
	html_raw(&r->out, " ");
	html_text(&r->out, l->from);
	html_raw(&r->out, "</legend>");
	if (f & WF_CAN_ACCEPT) {
		form_open(r, ref, "accept", false);
		hidden(r, "from", l->from);
		button(r, _("Accept the referral"), false);
		html_raw(&r->out, "</form>");
	}
	if (f & WF_CAN_DECLINE) {
		form_open(r, ref, "decline", false);
		hidden(r, "from", l->from);
		input(r, "reason", sfx, _("Reason for declining (required)"),
		    true, true);
		input(r, "suggest", sfx,
		    _("Agency to try instead (agency id, optional)"), false,
		    false);
		button(r, _("Decline the referral"), true);
		html_raw(&r->out, "</form>");
	}
	if (f & (WF_CAN_START | WF_CAN_COMPLETE)) {
		form_open(r, ref, "feedback", false);
		hidden(r, "from", l->from);
		html_raw(&r->out, "<fieldset><legend>");
		html_text(&r->out, _("Services"));
		html_raw(&r->out, "</legend>");
		if (f & WF_CAN_START) {
			html_fmt(&r->out,
			    "<label class=\"check\"><input "
			    "type=\"radio\" name=\"status\" "
			    "value=\"started\" checked> ");
			html_text(&r->out, _("started"));
			html_raw(&r->out, "</label>");
		}
		html_fmt(&r->out,
		    "<label class=\"check\"><input type=\"radio\" "
		    "name=\"status\" value=\"completed\"%s> ",
		    (f & WF_CAN_START) ? "" : " checked");
		html_text(&r->out, _("completed"));
		html_raw(&r->out, "</label></fieldset>");
		input(r, "note", sfx, _("Note for the referrer (optional)"),
		    true, false);
		button(r, _("Send the feedback"), false);
		html_raw(&r->out, "</form>");
	}
	html_raw(&r->out, "</fieldset>");
}

static void
revoke_form(
    struct web_req *r, const char *ref, const Sira__V1__CaseLeg *l, size_t i)
{
	char sfx[16];

	(void)snprintf(sfx, sizeof(sfx), "w%zu", i);
	form_open(r, ref, "revoke", false);
	hidden(r, "to", l->to);
	html_raw(&r->out, "<p>");
	html_text(&r->out, _("Withdraw the referral to"));
	html_raw(&r->out, " <strong>");
	html_text(&r->out, l->to);
	html_raw(&r->out, "</strong></p>");
	input(r, "reason", sfx, _("Reason (required)"), true, true);
	button(r, _("Withdraw"), true);
	html_raw(&r->out, "</form>");
}

static void
transfer_form(struct web_req *r, const char *ref)
{
	form_open(r, ref, "transfer", true);
	html_raw(&r->out, "<fieldset><legend>");
	html_text(&r->out, _("Transfer the case"));
	html_raw(&r->out, "</legend>");
	input(r, "to", "t", _("To the agency (agency id)"), false, true);
	input(r, "note", "t", _("Note (optional)"), true, false);
	html_raw(&r->out, "<label for=\"attach-t\">");
	html_text(&r->out, _("Documents (optional)"));
	html_raw(&r->out,
	    "</label><input type=\"file\" id=\"attach-t\" "
	    "name=\"attach\" multiple><progress hidden "
	    "max=\"1\" value=\"0\"></progress>");
	button(r, _("Transfer the case"), false);
	html_raw(&r->out, "</fieldset></form>");
}

/* With ref NULL (a case this agency does not know yet), the form asks
 * for the reference too. */
static void
request_form(struct web_req *r, const char *ref)
{
	if (ref != NULL)
		form_open(r, ref, "request", false);
	else {
		html_raw(&r->out,
		    "<form method=\"post\" class=\"step\" "
		    "action=\"/case/request\">");
		page_csrf(r);
	}
	html_raw(&r->out, "<fieldset><legend>");
	html_text(&r->out, _("Request the case file"));
	html_raw(&r->out, "</legend>");
	if (ref == NULL)
		input(r, "ref", "q", _("Case reference"), false, true);
	input(r, "from", "q", _("From the agency holding it (agency id)"),
	    false, true);
	input(r, "basis", "q", _("Legal basis (required)"), true, true);
	input(r, "purpose", "q", _("Purpose (optional)"), true, false);
	button(r, _("Send the request"), false);
	html_raw(&r->out, "</fieldset></form>");
}

void
step_forms_decide(struct web_req *r, const char *ref, const char *request_hex)
{
	form_open(r, ref, "grant", false);
	hidden(r, "request", request_hex);
	button(r, _("Grant: send the case file"), false);
	html_raw(&r->out, "</form>");
	form_open(r, ref, "refuse", false);
	hidden(r, "request", request_hex);
	input(r, "reason", request_hex, _("Reason for refusing (required)"),
	    true, true);
	button(r, _("Refuse"), true);
	html_raw(&r->out, "</form>");
}

void
step_forms(struct web_req *r, const Sira__V1__CaseRecord *c,
    const struct wf_allowed *ok)
{
	bool any = ok->transfer || ok->request_file;

	for (size_t i = 0; i < c->n_legs && i < CASES_LEGS_MAX; i++)
		any |= ok->leg[i] != 0;
	if (!any)
		return;
	html_raw(&r->out, "<h2>");
	html_text(&r->out, _("What you can do"));
	html_raw(&r->out, "</h2><div class=\"cols\"><div>");
	for (size_t i = 0; i < c->n_legs && i < CASES_LEGS_MAX; i++) {
		unsigned f = ok->leg[i];
		if (f & ~WF_CAN_REVOKE)
			answer_forms(r, c->case_ref, c->legs[i], f, i);
		if (f & WF_CAN_REVOKE)
			revoke_form(r, c->case_ref, c->legs[i], i);
	}
	html_raw(&r->out, "</div><div>");
	if (ok->transfer)
		transfer_form(r, c->case_ref);
	if (ok->request_file)
		request_form(r, c->case_ref);
	html_raw(&r->out, "</div></div>");
}

void
page_request_form(struct web_req *r)
{
	page_begin(r, _("Request a case file"));
	step_error(r);
	html_raw(&r->out, "<p>");
	html_text(&r->out,
	    _("Ask the agency that holds a case for its file, "
	      "with the legal basis of the request. The holder "
	      "grants or refuses it; both answers are signed."));
	html_raw(&r->out, "</p>");
	if (r->a->me->role == SIRA_ROLE_JUSTICE)
		request_form(r, NULL);
	else {
		html_raw(&r->out, "<p class=\"error\">");
		html_text(&r->out,
		    _("Only a prosecutor's office requests case "
		      "files."));
		html_raw(&r->out, "</p>");
	}
	page_end(r);
}

void
step_error(struct web_req *r)
{
	if (r->error[0] == '\0')
		return;
	html_raw(&r->out, "<p class=\"error\" role=\"alert\">");
	html_text(&r->out, r->error);
	html_raw(&r->out, "</p>");
}
