/*
 * users.c: sira-agent user add|passwd|disable|enable|list, the people of
 * the agency who may log in to its web interface (store/users.c keeps
 * them). A password is read from --password-file (first line, the file
 * 0600 or narrower, as for key files), else from the terminal with echo
 * off and asked twice, else as one line of standard input; never from the
 * command line, where other users of the machine could read it. It lives
 * in sodium_malloc'd memory (lib/passphrase.c) and is wiped when done.
 * No write transaction is held while a person types. Messages are French
 * first, each one literal, ready for gettext.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "i18n.h"
#include "clock.h"
#include "passphrase.h"
#include "text.h"

static bool
verb_is(const struct user_args *u, const char *verb)
{
	return strcmp(u->verb, verb) == 0;
}

int
users_cli_check(const struct user_args *u, struct sira_err *err)
{
	enum user_role role;

	if (verb_is(u, "list"))
		return 0;
	if (u->login == NULL)
		return sira_err_set(
		    err, SIRA_EINVAL, _("give the user's login"));
	if (!users_login_valid(u->login))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a login is 2 to 32 characters a-z 0-9 . _ - and starts with a letter"));
	if (!verb_is(u, "add"))
		return 0;
	if (u->name == NULL || u->role == NULL)
		return sira_err_set(
		    err, SIRA_EINVAL, _("user add needs --name and --role"));
	if (!users_name_valid(u->name))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a full name is 1 to 128 bytes of printable UTF-8 text, on one line"));
	if (user_role_parse(u->role, &role) != 0)
		return sira_err_set(err, SIRA_EINVAL,
		    _("unknown role '%s': caseworker, supervisor or admin"),
		    u->role);
	return 0;
}

/* Ask twice on the terminal; the two answers must agree. */
static int
ask_twice(const char *login, struct passphrase *pw, struct sira_err *err)
{
	struct passphrase again = { NULL, 0 };
	char prompt[96];
	int rc;

	(void)snprintf(
	    prompt, sizeof(prompt), _("New password for '%s': "), login);
	if ((rc = passphrase_prompt(prompt, false, pw, err)) != 0)
		return rc;
	if ((rc = passphrase_prompt(
		 _("Repeat the password: "), false, &again, err)) == 0 &&
	    (again.len != pw->len ||
		sodium_memcmp(again.p, pw->p, pw->len) != 0))
		rc = sira_err_set(
		    err, SIRA_EINVAL, _("the two passwords differ"));
	passphrase_free(&again);
	if (rc != 0)
		passphrase_free(pw);
	return rc;
}

/* The new password of login, checked for length, into pw. */
static int
read_password(
    const struct user_args *u, struct passphrase *pw, struct sira_err *err)
{
	int rc;

	if (u->password_file != NULL)
		rc = passphrase_from_file(u->password_file, pw, err);
	else if (isatty(STDIN_FILENO))
		rc = ask_twice(u->login, pw, err);
	else
		rc =
		    passphrase_from_fd(STDIN_FILENO, "standard input", pw, err);
	if (rc != 0)
		return rc;
	if (strlen(pw->p) != pw->len)
		rc = sira_err_set(
		    err, SIRA_EINVAL, _("the password contains a null byte"));
	else if (pw->len < USER_PASS_MIN)
		rc = sira_err_set(err, SIRA_EINVAL,
		    _("a password is at least %d bytes"), USER_PASS_MIN);
	else if (pw->len > USER_PASS_MAX)
		rc = sira_err_set(err, SIRA_EINVAL,
		    _("a password is at most %d bytes"), USER_PASS_MAX);
	if (rc != 0)
		passphrase_free(pw);
	return rc;
}

/* Does login exist? 0 with *exists set, or a store code. */
static int
account_exists(
    struct agent *a, const char *login, bool *exists, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	struct user_info info;
	int rc;

	*exists = false;
	if ((rc = vault_begin(a->vault, false, &t, err)) != 0)
		return rc;
	rc = users_get(t, login, &info, err);
	vault_abort(&t);
	if (rc == -SIRA_ENOTFOUND)
		return 0;
	if (rc == 0)
		*exists = true;
	return rc;
}

static int
no_such_user(const char *login, struct sira_err *err)
{
	return sira_err_set(
	    err, SIRA_ENOTFOUND, _("no user '%s' in this agency"), login);
}

/* user add and user passwd: the password first, then one transaction. */
static int
set_password(struct agent *a, const struct user_args *u, struct sira_err *err)
{
	struct passphrase pw = { NULL, 0 };
	struct vault_txn *t = NULL;
	enum user_role role = USER_CASEWORKER;
	bool add = verb_is(u, "add"), exists;
	int rc;

	if ((rc = account_exists(a, u->login, &exists, err)) != 0)
		return rc;
	if (add && exists)
		return sira_err_set(
		    err, SIRA_EEXIST, _("user '%s' exists already"), u->login);
	if (!add && !exists)
		return no_such_user(u->login, err);
	if (add && user_role_parse(u->role, &role) != 0)
		return sira_err_set(err, SIRA_EINVAL, _("unknown role"));
	if ((rc = read_password(u, &pw, err)) != 0)
		return rc;
	if ((rc = vault_begin(a->vault, true, &t, err)) == 0) {
		rc = add ?
		    users_add(t,
			&(struct user_new){
			    u->login, u->name, role, pw.p, NULL },
			clock_now(), err) :
		    users_passwd(t, u->login, pw.p, NULL, clock_now(), err);
		if (rc == 0)
			rc = vault_commit(&t, err);
		vault_abort(&t);
	}
	passphrase_free(&pw);
	if (rc == 0 && add)
		(void)printf(_("user '%s' created (%s)\n"), u->login,
		    user_role_name(role));
	else if (rc == 0)
		(void)printf(_("password of '%s' changed (account unlocked)\n"),
		    u->login);
	return rc;
}

/* user disable and user enable. */
static int
set_disabled(struct agent *a, const struct user_args *u, struct sira_err *err)
{
	bool disable = verb_is(u, "disable");
	struct vault_txn *t = NULL;
	struct user_info info;
	bool already;
	int rc;

	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if ((rc = users_get(t, u->login, &info, err)) == -SIRA_ENOTFOUND)
		rc = no_such_user(u->login, err);
	already = rc == 0 && info.disabled == disable;
	if (rc == 0 && !already &&
	    (rc = users_set_disabled(
		 t, u->login, disable, NULL, clock_now(), err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc != 0)
		return rc;
	if (already && disable)
		(void)printf(_("user '%s' was already disabled\n"), u->login);
	else if (already)
		(void)printf(_("user '%s' was already active\n"), u->login);
	else if (disable)
		(void)printf(_("user '%s' disabled: it can no longer log in\n"),
		    u->login);
	else
		(void)printf(_("user '%s' enabled again\n"), u->login);
	return 0;
}

/* Every account, for sorting by login before they are shown. */
struct roster {
	struct user_info *u;
	size_t n, cap;
};

static int
roster_add(void *ctx, const struct user_info *u)
{
	struct roster *r = ctx;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct user_info *grown = realloc(r->u, cap * sizeof(*grown));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		r->u = grown;
		r->cap = cap;
	}
	r->u[r->n++] = *u;
	return 0;
}

static int
by_login(const void *a, const void *b)
{
	return strcmp(((const struct user_info *)a)->login,
	    ((const struct user_info *)b)->login);
}

/* A time for JSON: null when it never happened. */
static json_t *
json_time(uint64_t t)
{
	char buf[SIRA_TIME_STR_LEN];

	if (t == 0)
		return json_null();
	clock_format(t, buf);
	return json_string(buf);
}

/* Written from checked names by this agent; shown safely anyway. */
static const char *
shown_name(const struct user_info *u)
{
	return text_has_control(u->full_name, strlen(u->full_name)) ?
	    "?" :
	    u->full_name;
}

static json_t *
user_json(const struct user_info *u, uint64_t now)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:i, s:o, s:o, s:o, s:o, "
			 "s:s}",
	    "login", u->login, "full_name", shown_name(u), "role",
	    user_role_name(u->role), "disabled", u->disabled, "locked",
	    u->locked_until > now, "failures", (int)u->failures, "locked_until",
	    json_time(u->locked_until), "created", json_time(u->created),
	    "last_login", json_time(u->last_login), "password_changed",
	    json_time(u->password_changed), "lang", u->lang);
}

static void
print_text(const struct user_info *u, uint64_t now)
{
	char last[SIRA_LOCAL_STR_LEN];
	const char *state = u->disabled ? _("disabled") :
	    u->locked_until > now       ? _("locked") :
					  _("active");

	if (u->last_login != 0)
		clock_local(u->last_login, last);
	else
		(void)snprintf(last, sizeof(last), _("never"));
	(void)printf("%-20s %-10s %-11s %-20s  %s\n", u->login,
	    user_role_name(u->role), state, last, shown_name(u));
}

static int
list(struct agent *a, const struct user_args *u, struct sira_err *err)
{
	struct roster r = { NULL, 0, 0 };
	struct vault_txn *t = NULL;
	uint64_t now = clock_now();
	json_t *rows;
	int rc;

	if ((rc = vault_begin(a->vault, false, &t, err)) == 0)
		rc = users_each(t, roster_add, &r, err);
	vault_abort(&t);
	if (rc == -SIRA_ENOMEM)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (rc != 0) {
		free(r.u);
		return rc;
	}
	if (r.n > 1)
		qsort(r.u, r.n, sizeof(*r.u), by_login);
	if (u->json) {
		if ((rows = json_array()) == NULL)
			rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		for (size_t i = 0; rc == 0 && i < r.n; i++)
			if (json_array_append_new(
				rows, user_json(&r.u[i], now)))
				rc = sira_err_set(
				    err, SIRA_ENOMEM, _("out of memory"));
		if (rc == 0) {
			(void)json_dumpf(
			    rows, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			(void)putchar('\n');
		}
		json_decref(rows);
	} else if (r.n == 0)
		(void)printf(_("no user (sira-agent user add creates one)\n"));
	else
		for (size_t i = 0; i < r.n; i++)
			print_text(&r.u[i], now);
	free(r.u);
	return rc;
}

int
users_cli_run(struct agent *a, const struct user_args *u, struct sira_err *err)
{
	if (verb_is(u, "list"))
		return list(a, u, err);
	if (verb_is(u, "add") || verb_is(u, "passwd"))
		return set_password(a, u, err);
	return set_disabled(a, u, err);
}
