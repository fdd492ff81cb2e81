/*
 * page_admin.c: the directory of agencies, the status page that says in
 * plain words why nothing moves, and the administrators' page of the
 * agency's accounts (create, disable, enable, new password).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <jansson.h>

#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"

#define STATUS_STALE 60                /* status.json older: no daemon */
#define DISK_LOW ((uint64_t)200 << 20) /* free bytes that warn */

/* ---- the directory ---- */

struct dir {
	struct web_req *r;
	bool options; /* <option>s of a datalist instead of table rows */
};

static int
dir_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct dir *d = ctx;
	struct html *h = &d->r->out;
	struct cert *c = NULL, *checked = NULL;
	int rc;

	(void)key;
	(void)klen;
	if (cert_unsafe_decode(val, vlen, &c, NULL) != 0)
		return 0;
	rc = cert_verify(d->r->a->ca, d->r->a->crl, bytes_of(val, vlen),
	    d->r->now, &checked, NULL);
	cert_destroy(&checked);
	if (d->options) {
		if (rc == 0 &&
		    strcmp(c->agency_id, d->r->a->me->agency_id) != 0) {
			html_raw(h, "<option value=\"");
			html_text(h, c->agency_id);
			html_raw(h, "\">");
			html_text(h, c->display_name);
			html_raw(h, "</option>");
		}
		cert_destroy(&c);
		return 0;
	}
	html_raw(h, "<tr><td>");
	html_text(h, c->agency_id);
	html_raw(h, "</td><td>");
	html_text(h, c->display_name);
	html_raw(h, "</td><td>");
	html_text(h, label_role(c->role));
	html_raw(h, "</td><td>");
	html_when(h, c->not_after);
	html_raw(h, "</td><td>");
	html_text(h,
	    rc == 0                  ? _("valid") :
		rc == -SIRA_EREVOKED ? _("revoked") :
		rc == -SIRA_EEXPIRED ? _("expired") :
				       _("not trusted now"));
	html_raw(h, "</td></tr>");
	cert_destroy(&c);
	return 0;
}

static int
each_cert(struct dir *d)
{
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	int rc;

	if ((rc = vault_begin(d->r->a->vault, false, &t, &err)) == 0)
		rc = vault_each(t, VT_CERTS, dir_row, d, &err);
	vault_abort(&t);
	return rc;
}

void
directory_datalist(struct web_req *r)
{
	struct dir d = { r, true };

	html_raw(&r->out, "<datalist id=\"agencies\">");
	(void)each_cert(&d);
	html_raw(&r->out, "</datalist>");
}

void
page_directory(struct web_req *r)
{
	struct dir d = { r, false };

	page_begin(r, _("Agencies"));
	html_raw(&r->out, "<p>");
	html_text(&r->out,
	    _("The agencies whose certificates this agent has "
	      "received from the national committee, checked "
	      "against its revocation list."));
	html_raw(&r->out, "</p><table><thead><tr><th scope=\"col\">");
	html_text(&r->out, _("Agency id"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Name"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Role"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Certificate valid until"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("State"));
	html_raw(&r->out, "</th></tr></thead><tbody>");
	if (each_cert(&d) != 0)
		r->out.failed = true;
	html_raw(&r->out, "</tbody></table>");
	page_end(r);
}

/* ---- the status page ---- */

static void
problem(struct web_req *r, const char *what, const char *todo)
{
	html_raw(&r->out, "<li><strong class=\"error\">");
	html_text(&r->out, what);
	html_raw(&r->out, "</strong> ");
	html_text(&r->out, todo);
	html_raw(&r->out, "</li>");
}

struct waiting {
	size_t unsent, no_receipt, refused;
};

static int
count_out(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct waiting *w = ctx;
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);

	(void)key;
	(void)klen;
	if (e == NULL)
		return 0;
	if (e->kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT) {
		if (e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED ||
		    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED)
			w->unsent++;
		else if (e->state ==
		    SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED)
			w->no_receipt++;
		else if (e->state ==
			SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED ||
		    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_EXPIRED)
			w->refused++;
	}
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

/* What the daemon last wrote (HOME/status.json), or NULL. */
static json_t *
daemon_status(struct web_req *r, uint64_t *written)
{
	char path[PATH_MAX];
	json_t *o;
	uint64_t t = 0;

	*written = 0;
	if (home_path(&r->a->home, "status.json", path, NULL) != 0 ||
	    (o = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	if (json_is_string(json_object_get(o, "time")) &&
	    clock_parse(
		json_string_value(json_object_get(o, "time")), &t, NULL) == 0)
		*written = t;
	return o;
}

static void
link_problems(struct web_req *r, const json_t *st, uint64_t written, size_t *n)
{
	const char *alarm = json_string_value(json_object_get(st, "alarm"));

	if (st == NULL || written + STATUS_STALE < r->now) {
		problem(r, _("The agent is not running."),
		    _("Nothing is sent or received. Start it (sira-agent run) "
		      "or restart the computer."));
		++*n;
		return;
	}
	if (!json_is_true(json_object_get(st, "connected"))) {
		problem(r, _("The broker cannot be reached."),
		    _("Check the internet connection (2G/3G key, cable). "
		      "Steps are kept and leave by themselves once the "
		      "connection is back."));
		++*n;
	}
	if (json_is_true(json_object_get(st, "clock_wrong"))) {
		problem(r, _("This computer's clock is wrong."),
		    _("Set the date and time: messages are dated and signed "
		      "with it."));
		++*n;
	}
	if (alarm != NULL && alarm[0] != '\0') {
		problem(r, _("The agent reports:"), alarm);
		++*n;
	}
}

static void
cert_problems(struct web_req *r, size_t *n)
{
	struct cert *checked = NULL;
	int rc = cert_verify(r->a->ca, r->a->crl,
	    bytes_of(r->a->me->raw, r->a->me->raw_len), r->now, &checked, NULL);

	cert_destroy(&checked);
	if (rc == -SIRA_EREVOKED) {
		problem(r, _("This agency's certificate is revoked."),
		    _("No message can be sent. Call the national committee."));
		++*n;
	} else if (rc == -SIRA_EEXPIRED) {
		problem(r, _("This agency's certificate has expired."),
		    _("No message can be sent. Ask the national committee "
		      "for a new one."));
		++*n;
	} else if (agent_cert_expiring(r->a, r->now, NULL)) {
		problem(r,
		    _("This agency's certificate expires within 30 days."),
		    _("Ask the national committee to renew it now."));
		++*n;
	}
	if (r->a->crl == NULL ||
	    crl_check_fresh(r->a->crl, r->now, NULL) != 0) {
		problem(r, _("The revocation list is out of date."),
		    _("Messages received are held until a fresh list arrives "
		      "from the broker."));
		++*n;
	}
}

static void
disk_problems(struct web_req *r, size_t *n)
{
	struct statvfs fs;

	if (statvfs(r->a->home.dir, &fs) == 0 &&
	    (uint64_t)fs.f_bavail * fs.f_frsize < DISK_LOW) {
		problem(r, _("The disk is nearly full."),
		    _("Free some space: new messages and documents cannot be "
		      "stored when it is full."));
		++*n;
	}
}

static void
queue_facts(struct web_req *r, const struct waiting *w, size_t *n)
{
	html_raw(&r->out, "<h2>");
	html_text(&r->out, _("Messages"));
	html_raw(&r->out, "</h2><ul>");
	html_fmt(&r->out, "<li>%zu ", w->unsent);
	html_text(&r->out, _("waiting to leave this computer"));
	html_fmt(&r->out, "</li><li>%zu ", w->no_receipt);
	html_text(&r->out,
	    _("at the broker, waiting for the recipient's "
	      "signed receipt (the recipient may be offline)"));
	html_fmt(&r->out, "</li><li%s>%zu ",
	    w->refused ? " class=\"late\"" : "", w->refused);
	html_text(&r->out, _("refused or expired (see the case)"));
	html_raw(&r->out, "</li></ul>");
	*n += w->refused > 0;
}

void
page_status(struct web_req *r)
{
	struct waiting w = { 0, 0, 0 };
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	uint64_t written;
	json_t *st = daemon_status(r, &written);
	size_t n = 0;

	if (vault_begin(r->a->vault, false, &t, &err) == 0)
		(void)vault_each(t, VT_OUTBOX, count_out, &w, &err);
	vault_abort(&t);
	page_begin(r, _("Status"));
	html_raw(&r->out, "<ul>");
	link_problems(r, st, written, &n);
	cert_problems(r, &n);
	disk_problems(r, &n);
	html_raw(&r->out, "</ul>");
	if (n == 0) {
		html_raw(&r->out, "<p class=\"ok\">");
		html_text(&r->out,
		    _("Everything works: connected to the broker, "
		      "certificate and revocation list valid."));
		html_raw(&r->out, "</p>");
	}
	queue_facts(r, &w, &n);
	html_raw(&r->out, "<p>");
	html_text(&r->out, _("Last contact with the broker:"));
	html_raw(&r->out, " ");
	html_text(&r->out,
	    st != NULL ? json_string_value(json_object_get(st, "last_sync")) :
			 _("never"));
	html_raw(&r->out, "</p>");
	json_decref(st);
	page_end(r);
}

/* ---- accounts (administrators only; server.c checks the role) ---- */

/* A new password for someone else's account (it also unlocks it), folded
 * under its summary so the table stays one line per person. */
static void
passwd_form(struct web_req *r, const struct user_info *u)
{
	bool locked = u->locked_until > r->now;

	html_raw(&r->out, "<details><summary>");
	html_text(&r->out,
	    locked ? _("Unlock with a new password") : _("New password"));
	html_raw(&r->out,
	    "</summary><form method=\"post\" action=\"/admin/users\">");
	page_csrf(r);
	html_raw(&r->out,
	    "<input type=\"hidden\" name=\"do\" value=\"passwd\">"
	    "<input type=\"hidden\" name=\"login\" value=\"");
	html_text(&r->out, u->login);
	html_raw(&r->out, "\"><label for=\"pw-");
	html_text(&r->out, u->login);
	html_raw(&r->out, "\">");
	html_text(&r->out, _("New password (10 characters or more)"));
	html_raw(&r->out, "</label><input type=\"password\" id=\"pw-");
	html_text(&r->out, u->login);
	html_raw(&r->out,
	    "\" name=\"password\" autocomplete=\"new-password\" "
	    "required minlength=\"10\"><button class=\"secondary\">");
	html_text(&r->out,
	    locked ? _("Unlock with this password") : _("Set this password"));
	html_raw(&r->out, "</button></form></details>");
}

static int
user_row(void *ctx, const struct user_info *u)
{
	struct web_req *r = ctx;

	html_raw(&r->out, "<tr><td>");
	html_text(&r->out, u->login);
	html_raw(&r->out, "</td><td>");
	html_text(&r->out, u->full_name);
	html_raw(&r->out, "</td><td>");
	html_text(&r->out, label_user_role(u->role));
	html_raw(&r->out, "</td><td>");
	html_text(&r->out,
	    u->disabled                  ? _("disabled") :
		u->locked_until > r->now ? _("locked") :
					   _("active"));
	html_raw(&r->out, "</td><td>");
	html_when(&r->out, u->last_login);
	html_raw(&r->out, "</td><td>");
	if (strcmp(u->login, r->s->login) != 0) {
		html_raw(&r->out,
		    "<form method=\"post\" class=\"inline\" "
		    "action=\"/admin/users\">");
		page_csrf(r);
		html_raw(
		    &r->out, "<input type=\"hidden\" name=\"login\" value=\"");
		html_text(&r->out, u->login);
		html_fmt(&r->out,
		    "\"><button name=\"do\" value=\"%s\" "
		    "class=\"secondary\">",
		    u->disabled ? "enable" : "disable");
		html_text(&r->out, u->disabled ? _("Enable") : _("Disable"));
		html_raw(&r->out, "</button></form>");
		passwd_form(r, u);
	}
	html_raw(&r->out, "</td></tr>");
	return 0;
}

static void
add_form(struct web_req *r)
{
	html_raw(&r->out,
	    "<form method=\"post\" action=\"/admin/users\" "
	    "class=\"step\"><fieldset><legend>");
	html_text(&r->out, _("New account"));
	html_raw(&r->out, "</legend>");
	page_csrf(r);
	html_raw(&r->out,
	    "<input type=\"hidden\" name=\"do\" value=\"add\">"
	    "<label for=\"login\">");
	html_text(&r->out, _("Login"));
	html_raw(&r->out,
	    "</label><input type=\"text\" id=\"login\" "
	    "name=\"login\" required><label for=\"name\">");
	html_text(&r->out, _("Full name"));
	html_raw(&r->out,
	    "</label><input type=\"text\" id=\"name\" "
	    "name=\"name\" required><label for=\"role\">");
	html_text(&r->out, _("Role"));
	html_raw(&r->out, "</label><select id=\"role\" name=\"role\">");
	for (int i = USER_CASEWORKER; i <= USER_ADMIN; i++) {
		html_fmt(&r->out, "<option value=\"%s\">",
		    user_role_name((enum user_role)i));
		html_text(&r->out, label_user_role(i));
		html_raw(&r->out, "</option>");
	}
	html_raw(&r->out, "</select><label for=\"password\">");
	html_text(&r->out, _("Password (10 characters or more)"));
	html_raw(&r->out,
	    "</label><input type=\"password\" id=\"password\" "
	    "name=\"password\" autocomplete=\"new-password\" "
	    "required minlength=\"10\"><p><button>");
	html_text(&r->out, _("Create the account"));
	html_raw(&r->out, "</button></p></fieldset></form>");
}

void
page_users(struct web_req *r)
{
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };

	page_begin(r, _("Accounts"));
	page_flash(r);
	step_error(r);
	html_raw(&r->out, "<table><thead><tr><th scope=\"col\">");
	html_text(&r->out, _("Login"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Full name"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Role"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("State"));
	html_raw(&r->out, "</th><th scope=\"col\">");
	html_text(&r->out, _("Last login"));
	html_raw(&r->out, "</th><th scope=\"col\"></th></tr></thead><tbody>");
	if (vault_begin(r->a->vault, false, &t, &err) != 0 ||
	    users_each(t, user_row, r, &err) != 0)
		r->out.failed = true;
	vault_abort(&t);
	html_raw(&r->out, "</tbody></table>");
	add_form(r);
	page_end(r);
}

static int
users_change(struct web_req *r, const char *what, const char *login,
    struct sira_err *err)
{
	struct vault_txn *t = NULL;
	enum user_role role;
	int rc;

	if ((rc = vault_begin(r->a->vault, true, &t, err)) != 0)
		return rc;
	if (strcmp(what, "add") == 0) {
		rc = user_role_parse(form_get(r->form, "role"), &role) != 0 ?
		    sira_err_set(err, SIRA_EINVAL, "%s", _("Unknown role.")) :
		    users_add(t,
			&(struct user_new){ login, form_get(r->form, "name"),
			    role, form_get(r->form, "password"), r->s->login },
			r->now, err);
	} else if (strcmp(what, "disable") == 0 || strcmp(what, "enable") == 0)
		rc = users_set_disabled(t, login, strcmp(what, "disable") == 0,
		    r->s->login, r->now, err);
	else if (strcmp(what, "passwd") == 0)
		rc = users_passwd(t, login, form_get(r->form, "password"),
		    r->s->login, r->now, err);
	else
		rc = sira_err_set(err, SIRA_EINVAL, "%s", _("Unknown step."));
	if (rc == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	return rc;
}

void
page_users_post(struct web_req *r)
{
	const char *what = form_get(r->form, "do");
	const char *login = form_get(r->form, "login");
	struct sira_err err = { 0 };
	int rc;

	if (strcmp(login, r->s->login) == 0 && strcmp(what, "add") != 0) {
		(void)snprintf(r->error, sizeof(r->error), "%s",
		    _("You cannot change your own account from this page."));
		r->status = 409;
		page_users(r);
		return;
	}
	if ((rc = users_change(r, what, login, &err)) != 0) {
		(void)snprintf(r->error, sizeof(r->error), "%s", err.msg);
		r->status = rc == -SIRA_EEXIST ? 409 : 400;
		page_users(r);
		return;
	}
	if (strcmp(what, "disable") == 0 || strcmp(what, "passwd") == 0)
		web_session_drop_user(r->sessions, login);
	log_event(LOG_INFO, "web.user", "admin=%s do=%s", r->s->login, what);
	web_redirect(r, "/admin/users?ok=user");
}
