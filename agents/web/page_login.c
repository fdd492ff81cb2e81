/*
 * page_login.c: logging in and out, the language switch, and the audit
 * entries the web interface writes (every login, view and step, with the
 * person's login). A wrong password, an unknown login and a disabled
 * account get the same answer; the account locks after USER_FAIL_LOCK
 * wrong passwords (store/users.c) and an address that fails
 * WEB_LIMIT_FAILS times in WEB_LIMIT_WINDOW is told to wait.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "i18n.h"
#include "log.h"
#include "web/web.h"

static void
login_form(struct web_req *r, const char *login, const char *error)
{
	page_begin(r, _("Log in"));
	if (error != NULL) {
		html_raw(
		    &r->out, "<p class=\"error\" role=\"alert\" id=\"e\">");
		html_text(&r->out, error);
		html_raw(&r->out, "</p>");
	}
	html_fmt(&r->out,
	    "<form method=\"post\" action=\"/login%s\" "
	    "class=\"step\">",
	    strcmp(i18n_lang(), "en") == 0 ? "?lang=en" : "");
	html_raw(&r->out, "<p>");
	html_text(&r->out, _("Agency:"));
	html_raw(&r->out, " <strong>");
	html_text(&r->out, r->a->me->agency_id);
	html_raw(&r->out, "</strong></p><label for=\"login\">");
	html_text(&r->out, _("Login"));
	html_raw(&r->out,
	    "</label><input type=\"text\" id=\"login\" "
	    "name=\"login\" autocomplete=\"username\" required "
	    "autofocus value=\"");
	html_text(&r->out, login);
	html_raw(&r->out, "\"><label for=\"password\">");
	html_text(&r->out, _("Password"));
	html_raw(&r->out,
	    "</label><input type=\"password\" id=\"password\" "
	    "name=\"password\" autocomplete=\"current-password\" "
	    "required><p><button>");
	html_text(&r->out, _("Log in"));
	html_raw(&r->out, "</button></p></form><p>");
	if (strcmp(i18n_lang(), "en") == 0)
		html_raw(
		    &r->out, "<a href=\"/login\" lang=\"fr\">Français</a>");
	else
		html_raw(&r->out,
		    "<a href=\"/login?lang=en\" lang=\"en\">English</a>");
	html_raw(&r->out, "</p>");
	page_end(r);
}

static void
login_post(struct web_req *r)
{
	const char *login = form_get(r->form, "login");
	const char *pass = form_get(r->form, "password");
	char cookie[WEB_TOKEN_HEX];
	struct user_info u;
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	int rc;

	if (r->form->error != NULL) {
		login_form(r, "", _(r->form->error));
		return;
	}
	if (!web_session_may_try(r->sessions, r->client, r->now)) {
		log_event(LOG_WARN, "web.login_limited", "addr=%s", r->client);
		r->status = 429;
		login_form(r, login,
		    _("Too many failed attempts from this computer. Wait ten "
		      "minutes, then try again."));
		return;
	}
	if ((rc = vault_begin(r->a->vault, true, &t, &err)) == 0) {
		rc = users_login(t, login, pass, r->now, &u, &err);
		/* failures and lockouts are kept whatever the answer */
		int crc = vault_commit(&t, &err);
		if (rc == 0 && crc != 0)
			rc = crc;
	}
	vault_abort(&t);
	if (rc == -SIRA_ERATE) {
		r->status = 429;
		login_form(r, login,
		    _("This account is locked for 15 minutes after too many "
		      "wrong passwords. An administrator can unlock it now by "
		      "giving it a new password on the Accounts page."));
		return;
	}
	if (rc != 0) {
		web_session_failed(r->sessions, r->client, r->now);
		log_event(LOG_WARN, "web.login_failed", "addr=%s code=%d",
		    r->client, -rc);
		r->status = 401;
		login_form(r, login,
		    rc == -SIRA_EAUTH ? _("Wrong login or password.") :
					_("The agency's store cannot be read: "
					  "see the agent's log."));
		return;
	}
	web_session_succeeded(r->sessions, r->client);
	if (r->s != NULL)
		web_session_close(r->s); /* a new login is a new session */
	r->s = web_session_open(r->sessions, &u, r->now, cookie);
	(void)snprintf(r->cookie, sizeof(r->cookie),
	    "sira_session=%s; Path=/; HttpOnly; SameSite=Strict%s", cookie,
	    r->tls ? "; Secure" : "");
	sodium_memzero(cookie, sizeof(cookie));
	log_event(LOG_INFO, "web.login", "user=%s", u.login);
	web_redirect(r, "/");
}

void
page_login(struct web_req *r)
{
	if (strcmp(r->method, "POST") == 0)
		login_post(r);
	else if (r->s != NULL)
		web_redirect(r, "/");
	else
		login_form(r, "", NULL);
}

void
page_logout(struct web_req *r)
{
	(void)web_audit(r, "user.logout", NULL);
	web_session_close(r->s);
	r->s = NULL;
	(void)snprintf(r->cookie, sizeof(r->cookie),
	    "sira_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
	    r->tls ? "; Secure" : "");
	web_redirect(r, "/login");
}

void
page_lang(struct web_req *r)
{
	const char *lang = form_get(r->form, "lang");
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };

	(void)snprintf(r->s->lang, sizeof(r->s->lang), "%s",
	    strcmp(lang, "en") == 0 ? "en" : "fr");
	if (vault_begin(r->a->vault, true, &t, &err) == 0 &&
	    (users_set_lang(t, r->s->login, r->s->lang, &err) != 0 ||
		vault_commit(&t, &err) != 0))
		log_event(LOG_WARN, "web.lang_unsaved", "code=%d", err.code);
	vault_abort(&t);
	web_redirect(r, "/");
}
