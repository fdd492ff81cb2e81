/*
 * page_refer.c: the referral form. Its fields carry the names of the
 * referral's JSON fields (docs/referral.md), so the form becomes the same
 * JSON document the CLI reads, checked by the same referral_from_json,
 * and the checker's answer ("consent.date: ...") lands next to the field
 * it names. What the person typed is kept when the form comes back with
 * an error; nothing of it is logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"
#include "workflow/workflow.h"

static const char *const sexes[] = { "female", "male", "other", "undisclosed",
	NULL };
static const char *const exploitations[] = { "sexual", "forced_labour",
	"slavery", "servitude", "organ_removal", "forced_begging",
	"child_labour", "forced_marriage", "forced_criminality", "other",
	NULL };
static const char *const needs[] = { "shelter", "medical", "psychosocial",
	"legal", "interpretation", "repatriation", "family_tracing",
	"food_and_items", "child_protection", NULL };
static const char *const risks[] = { "low", "medium", "high", "critical",
	NULL };
static const char *const urgencies[] = { "routine", "priority", "immediate",
	NULL };
static const char *const scopes[] = { "none", "recipient_only", "services",
	"services_and_justice", NULL };

/* The form as it is being drawn: the values sent (NULL the first time)
 * and the field the checker blamed, with its message. */
struct draw {
	struct web_req *r;
	const struct form *sent;
	char bad[64];
	const char *why;
};

static const char *
value(const struct draw *d, const char *name)
{
	return d->sent != NULL ? form_get(d->sent, name) : "";
}

static void
field_error(struct draw *d, const char *name)
{
	if (d->why == NULL || strcmp(d->bad, name) != 0)
		return;
	html_fmt(&d->r->out, "<p class=\"field-error\" id=\"err-%s\">", name);
	html_text(&d->r->out, d->why);
	html_raw(&d->r->out, "</p>");
}

static void
attrs(struct draw *d, const char *name)
{
	if (d->why != NULL && strcmp(d->bad, name) == 0)
		html_fmt(&d->r->out,
		    " aria-invalid=\"true\" aria-describedby=\"err-%s\"", name);
}

static void
label_for(struct draw *d, const char *name, bool required)
{
	html_fmt(&d->r->out, "<label for=\"%s\">", name);
	html_text(&d->r->out, label_field(name));
	if (required)
		html_raw(&d->r->out, " *");
	html_raw(&d->r->out, "</label>");
	field_error(d, name);
}

static void
text(struct draw *d, const char *name, const char *type, bool required)
{
	label_for(d, name, required);
	html_fmt(&d->r->out, "<input type=\"%s\" id=\"%s\" name=\"%s\"", type,
	    name, name);
	attrs(d, name);
	html_raw(&d->r->out, " value=\"");
	html_text(&d->r->out, value(d, name));
	html_raw(&d->r->out, "\">");
}

static void
area(struct draw *d, const char *name)
{
	label_for(d, name, false);
	html_fmt(&d->r->out, "<textarea id=\"%s\" name=\"%s\"", name, name);
	attrs(d, name);
	html_raw(&d->r->out, ">");
	html_text(&d->r->out, value(d, name));
	html_raw(&d->r->out, "</textarea>");
}

static void
select_of(
    struct draw *d, const char *name, const char *const *words, bool required)
{
	const char *v = value(d, name);

	label_for(d, name, required);
	html_fmt(&d->r->out, "<select id=\"%s\" name=\"%s\"", name, name);
	attrs(d, name);
	html_raw(&d->r->out, "><option value=\"\">—</option>");
	for (size_t i = 0; words[i] != NULL; i++) {
		html_fmt(&d->r->out, "<option value=\"%s\"%s>", words[i],
		    strcmp(v, words[i]) == 0 ? " selected" : "");
		html_text(&d->r->out, label_choice(words[i]));
		html_raw(&d->r->out, "</option>");
	}
	html_raw(&d->r->out, "</select>");
}

static void
checks(
    struct draw *d, const char *name, const char *const *words, bool required)
{
	html_fmt(&d->r->out, "<fieldset id=\"%s\"", name);
	attrs(d, name);
	html_raw(&d->r->out, "><legend>");
	html_text(&d->r->out, label_field(name));
	if (required)
		html_raw(&d->r->out, " *");
	html_raw(&d->r->out, "</legend>");
	field_error(d, name);
	for (size_t i = 0; words[i] != NULL; i++) {
		html_fmt(&d->r->out,
		    "<label class=\"check\"><input "
		    "type=\"checkbox\" name=\"%s\" value=\"%s\"%s> ",
		    name, words[i],
		    d->sent != NULL && form_has(d->sent, name, words[i]) ?
			" checked" :
			"");
		html_text(&d->r->out, label_choice(words[i]));
		html_raw(&d->r->out, "</label>");
	}
	html_raw(&d->r->out, "</fieldset>");
}

static void
yes(struct draw *d, const char *name)
{
	html_fmt(&d->r->out,
	    "<label class=\"check\"><input type=\"checkbox\" "
	    "id=\"%s\" name=\"%s\" value=\"true\"%s",
	    name, name,
	    d->sent != NULL && form_has(d->sent, name, "true") ? " checked" :
								 "");
	attrs(d, name);
	html_raw(&d->r->out, "> ");
	html_text(&d->r->out, label_field(name));
	html_raw(&d->r->out, "</label>");
	field_error(d, name);
}

static void
minor(struct draw *d)
{
	const char *v = value(d, "age.is_minor");

	label_for(d, "age.is_minor", false);
	html_raw(
	    &d->r->out, "<select id=\"age.is_minor\" name=\"age.is_minor\">");
	html_fmt(&d->r->out, "<option value=\"\">%s</option>",
	    _("work it out from the age"));
	html_fmt(&d->r->out, "<option value=\"true\"%s>%s</option>",
	    strcmp(v, "true") == 0 ? " selected" : "", _("yes"));
	html_fmt(&d->r->out, "<option value=\"false\"%s>%s</option></select>",
	    strcmp(v, "false") == 0 ? " selected" : "", _("no"));
}

static void
section(struct draw *d, const char *title)
{
	html_raw(&d->r->out, "<fieldset><legend>");
	html_text(&d->r->out, title);
	html_raw(&d->r->out, "</legend>");
}

static void
draw_person(struct draw *d)
{
	section(d, _("The person"));
	text(d, "case_ref", "text", true);
	text(d, "victim_ref", "text", true);
	text(d, "age.years", "number", false);
	text(d, "age.min_years", "number", false);
	text(d, "age.max_years", "number", false);
	minor(d);
	select_of(d, "sex", sexes, false);
	text(d, "nationality", "text", false);
	text(d, "languages", "text", false);
	html_raw(&d->r->out, "</fieldset>");
	checks(d, "exploitation", exploitations, true);
	section(d, _("Identification"));
	text(d, "identification.place", "text", false);
	text(d, "identification.date", "date", false);
	text(d, "identification.identified_by", "text", false);
	area(d, "identification.circumstances");
	html_raw(&d->r->out, "</fieldset>");
	checks(d, "needs", needs, false);
	section(d, _("Risk and urgency"));
	select_of(d, "risk", risks, true);
	select_of(d, "urgency", urgencies, true);
	html_raw(&d->r->out, "</fieldset>");
}

static void
draw_consent(struct draw *d)
{
	section(d, _("Informed consent"));
	yes(d, "consent.given");
	select_of(d, "consent.scope", scopes, false);
	text(d, "consent.date", "date", false);
	text(d, "consent.recorded_by", "text", false);
	text(d, "consent.language", "text", false);
	yes(d, "consent.guardian_consent");
	html_raw(&d->r->out, "</fieldset>");
	section(d, _("Identifying details (only with consent)"));
	text(d, "identifying.full_name", "text", false);
	text(d, "identifying.date_of_birth", "date", false);
	text(d, "identifying.phone", "text", false);
	text(d, "identifying.current_location", "text", false);
	text(d, "identifying.guardian_contact", "text", false);
	yes(d, "anonymous_alert");
	html_raw(&d->r->out, "</fieldset>");
	section(d, _("Notes"));
	area(d, "notes");
	html_raw(&d->r->out, "</fieldset>");
}

static void
draw(struct web_req *r, const struct form *sent, const char *msg)
{
	struct draw d = { r, sent, "", NULL };
	size_t n;

	/* "consent.date: required ..." -> field consent.date, its message */
	if (msg != NULL && (n = strcspn(msg, ":[")) < sizeof(d.bad)) {
		memcpy(d.bad, msg, n);
		d.bad[n] = '\0';
		d.why = msg + strcspn(msg, ":");
		d.why += *d.why == ':' ? 1 : 0;
		d.why += *d.why == ' ' ? 1 : 0;
	}
	page_begin(r, _("New referral"));
	if (msg != NULL) {
		html_raw(&r->out, "<p class=\"error\" role=\"alert\">");
		html_text(&r->out, _("The referral was not sent:"));
		html_raw(&r->out, " ");
		html_text(&r->out, label_field(d.bad));
		html_raw(&r->out, " — ");
		html_text(&r->out, d.why != NULL ? d.why : msg);
		html_raw(&r->out, "</p>");
	}
	html_raw(&r->out, "<p>");
	html_text(&r->out,
	    _("Fields marked * are required. Never write the "
	      "person's name outside “Identifying details”."));
	html_raw(&r->out, "</p><form method=\"post\" action=\"/refer\"");
	upload_attrs(r);
	html_raw(&r->out, ">");
	page_csrf(r);
	section(&d, _("Send to"));
	html_raw(&r->out, "<label for=\"to\">");
	html_text(&r->out, _("Receiving agency (agency id) *"));
	html_raw(&r->out, "</label>");
	if (d.why != NULL && strcmp(d.bad, "to") == 0)
		field_error(&d, "to");
	html_raw(&r->out,
	    "<input type=\"text\" id=\"to\" name=\"to\" "
	    "list=\"agencies\" required value=\"");
	html_text(&r->out, value(&d, "to"));
	html_raw(&r->out, "\">");
	directory_datalist(r);
	html_raw(&r->out, "</fieldset>");
	draw_person(&d);
	draw_consent(&d);
	section(&d, _("Documents"));
	html_raw(&r->out, "<label for=\"attach\">");
	html_text(&r->out, _("Documents to attach (optional)"));
	html_raw(&r->out,
	    "</label><input type=\"file\" id=\"attach\" "
	    "name=\"attach\" multiple><progress hidden max=\"1\" "
	    "value=\"0\"></progress></fieldset><p><button>");
	html_text(&r->out, _("Send the referral"));
	html_raw(&r->out, "</button></p></form>");
	page_end(r);
}

void
page_refer_form(struct web_req *r)
{
	draw(r, NULL, NULL);
}

void
page_refer_submit(struct web_req *r)
{
	const char *attach[WEB_FORM_FILES_MAX];
	struct wf_result res;
	struct sira_err err = { 0 };
	struct wf_args w;
	json_t *j;
	char *text;
	int rc;

	if (r->form->error != NULL) {
		r->status = 400;
		draw(r, r->form, _(r->form->error));
		return;
	}
	if ((j = form_referral_json(r->form)) == NULL ||
	    (text = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		page_error(r, 500, _("Out of memory."));
		return;
	}
	json_decref(j);
	memset(&w, 0, sizeof(w));
	memset(&res, 0, sizeof(res));
	w.to = form_get(r->form, "to");
	w.json = text;
	w.json_len = strlen(text);
	for (size_t i = 0; i < r->form->n_files; i++)
		attach[i] = r->form->files[i].path;
	w.attach = attach;
	w.n_attach = r->form->n_files;
	w.person = r->s->login;
	w.now = r->now;
	w.ttl = (uint32_t)SIRA_TTL_MAX; /* as the CLI: retried for 30 days */
	rc = workflow_refer(r->a, &w, &res, &err);
	sodium_memzero(text, strlen(text));
	free(text);
	if (rc != 0) {
		log_event(LOG_INFO, "web.refer_refused", "user=%s code=%d",
		    r->s->login, -rc);
		r->status = 400;
		draw(r, r->form, err.msg);
		return;
	}
	log_event(LOG_INFO, "web.step", "user=%s step=refer", r->s->login);
	web_redirect(r, "/case?ref=%s&ok=refer", res.case_ref);
}
