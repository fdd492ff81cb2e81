/*
 * page_steps.c: what happens when a step's form (step_forms.c) is sent:
 * the form becomes a
 * struct wf_args and goes to the same workflow_* function the CLI calls,
 * with the person's login for the audit chain. Success redirects to the
 * case with a notice; a refusal shows the case again with the reason.
 */
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"
#include "workflow/workflow.h"

/* A form field, or NULL when it was left empty. */
static const char *
opt(const struct web_req *r, const char *name)
{
	const char *v = form_get(r->form, name);

	return v[0] != '\0' ? v : NULL;
}

static int
dispatch(struct web_req *r, const char *step, struct wf_args *w,
    struct wf_result *res, struct sira_err *err)
{
	if (strcmp(step, "accept") == 0 || strcmp(step, "decline") == 0)
		return workflow_answer(
		    r->a, w, strcmp(step, "accept") == 0, res, err);
	if (strcmp(step, "feedback") == 0)
		return workflow_feedback(r->a, w, res, err);
	if (strcmp(step, "revoke") == 0)
		return workflow_revoke(r->a, w, res, err);
	if (strcmp(step, "transfer") == 0)
		return workflow_transfer(r->a, w, res, err);
	if (strcmp(step, "request") == 0)
		return workflow_request(r->a, w, res, err);
	if (strcmp(step, "grant") == 0 || strcmp(step, "refuse") == 0)
		return workflow_decide(
		    r->a, w, strcmp(step, "grant") == 0, res, err);
	return sira_err_set(err, SIRA_ENOTFOUND, "%s", _("Unknown step."));
}

void
page_step(struct web_req *r, const char *ref, const char *step)
{
	const char *attach[WEB_FORM_FILES_MAX];
	struct wf_result res;
	struct sira_err err = { 0 };
	struct wf_args w;
	int rc;

	if (r->form->error != NULL) {
		(void)snprintf(
		    r->error, sizeof(r->error), "%s", _(r->form->error));
		r->status = 400;
		page_case(r, ref);
		return;
	}
	memset(&w, 0, sizeof(w));
	memset(&res, 0, sizeof(res));
	w.ref = strcmp(step, "grant") == 0 || strcmp(step, "refuse") == 0 ?
	    form_get(r->form, "request") :
	    ref;
	w.to = opt(r, "to");
	w.from = opt(r, "from");
	w.reason = opt(r, "reason");
	w.suggest = opt(r, "suggest");
	w.note = opt(r, "note");
	w.basis = opt(r, "basis");
	w.purpose = opt(r, "purpose");
	w.status = opt(r, "status");
	for (size_t i = 0; i < r->form->n_files; i++)
		attach[i] = r->form->files[i].path;
	w.attach = attach;
	w.n_attach = strcmp(step, "transfer") == 0 ? r->form->n_files : 0;
	w.person = r->s->login;
	w.now = r->now;
	w.ttl = (uint32_t)SIRA_TTL_MAX; /* as the CLI: retried for 30 days */
	if ((rc = dispatch(r, step, &w, &res, &err)) != 0) {
		log_event(LOG_INFO, "web.step_refused",
		    "user=%s step=%s code=%d", r->s->login, step, -rc);
		(void)snprintf(r->error, sizeof(r->error), "%s", err.msg);
		r->status = rc == -SIRA_ENOTFOUND ? 404 : 409;
		if (strcmp(step, "request") == 0)
			page_request_form(r); /* the case may be new here */
		else
			page_case(r, ref);
		return;
	}
	log_event(LOG_INFO, "web.step", "user=%s step=%s", r->s->login, step);
	web_redirect(r, "/case?ref=%s&ok=%s",
	    res.case_ref[0] ? res.case_ref : ref, step);
}
