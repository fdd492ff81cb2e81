/*
 * users.c: the agency's accounts for its web interface, in VT_USERS. The
 * row key is vault_blind("user", login), so the file never shows a login;
 * the value is the packed UserRecord, encrypted by the vault like every
 * other value, and holds the password only as a crypto_pwhash_str string
 * (Argon2id with the interactive limits, 64 MiB and 2 passes: the agencies'
 * old laptops check a password in a fraction of a second, and the vault's
 * encryption already keeps the hashes from anyone without the agency key).
 *
 * A login attempt does the same work whatever happens: one Argon2id check
 * (against a fixed dummy hash when the login is unknown), one audit entry,
 * one answer for an unknown login, a disabled account and a wrong password.
 * Every function works inside the caller's transaction and records its
 * audit entry there. No password or hash is ever copied into an error, the
 * audit or a log; copies of hashes are wiped before they are freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "store/store.h"
#include "text.h"
#include "wire.h"
#include "i18n.h"

#define USER_PURPOSE "user"
#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE
#define WRONG "wrong login or password"

/*
 * The hash an unknown login is checked against, so that its answer takes
 * as long as a wrong password's. Made once with these limits from 32
 * random bytes nobody kept; no password opens it, and its result is never
 * used.
 */
_Static_assert(crypto_pwhash_STRBYTES == 128, "a hash string buffer");
static const char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$nFg8SwfN5x7lITQdk+pppA$"
    "5oj6W1N7Cb+Qui+bA78u7I+YtH7nQ4jESSrXnM0Nmpg";

static const struct {
	const char *name;
	enum user_role role;
} role_names[] = {
	{ "caseworker", USER_CASEWORKER },
	{ "supervisor", USER_SUPERVISOR },
	{ "admin", USER_ADMIN },
	{ "agent", USER_CASEWORKER },
	{ "superviseur", USER_SUPERVISOR },
	{ "administrateur", USER_ADMIN },
};

const char *
user_role_name(enum user_role r)
{
	switch (r) {
	case USER_CASEWORKER:
		return "caseworker";
	case USER_SUPERVISOR:
		return "supervisor";
	case USER_ADMIN:
		return "admin";
	default:
		return "unknown";
	}
}

int
user_role_parse(const char *s, enum user_role *out)
{
	if (s == NULL)
		return -SIRA_EINVAL;
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(s, role_names[i].name) == 0) {
			*out = role_names[i].role;
			return 0;
		}
	return -SIRA_EINVAL;
}

static bool
role_valid(enum user_role r)
{
	return r == USER_CASEWORKER || r == USER_SUPERVISOR || r == USER_ADMIN;
}

bool
users_login_valid(const char *login)
{
	size_t len;

	if (login == NULL || (len = strnlen(login, USER_LOGIN_MAX + 1)) < 2 ||
	    len > USER_LOGIN_MAX || login[0] < 'a' || login[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = login[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
check_login(const char *login, struct sira_err *err)
{
	if (!users_login_valid(login))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a login is 2 to %d of a-z 0-9 . _ -, starting with a letter"),
		    USER_LOGIN_MAX);
	return 0;
}

bool
users_name_valid(const char *name)
{
	size_t len = name != NULL ? strnlen(name, USER_NAME_MAX + 1) : 0;

	return len > 0 && len <= USER_NAME_MAX && text_is_utf8(name, len) &&
	    !text_has_control(name, len);
}

static int
check_name(const char *name, struct sira_err *err)
{
	if (!users_name_valid(name))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a full name is 1 to %d bytes of printable UTF-8 text, on one line"),
		    USER_NAME_MAX);
	return 0;
}

/* Its length, or a message that says which bound it misses. */
static int
check_password(const char *password, size_t *len, struct sira_err *err)
{
	*len = password != NULL ? strnlen(password, USER_PASS_MAX + 1) : 0;
	if (*len < USER_PASS_MIN)
		return sira_err_set(err, SIRA_EINVAL,
		    _("a password is at least %d bytes"), USER_PASS_MIN);
	if (*len > USER_PASS_MAX)
		return sira_err_set(err, SIRA_EINVAL,
		    _("a password is at most %d bytes"), USER_PASS_MAX);
	return 0;
}

/* hash = Argon2id string of password; the caller wipes it. */
static int
hash_password(const char *password, size_t len,
    char hash[static crypto_pwhash_STRBYTES], struct sira_err *err)
{
	if (crypto_pwhash_str(hash, password, len, OPSLIMIT, MEMLIMIT) != 0)
		return sira_err_set(err, SIRA_ENOMEM,
		    _("not enough memory to hash a password (Argon2id needs %zu MiB)"),
		    (size_t)MEMLIMIT >> 20);
	return 0;
}

/*
 * A row of VT_USERS: our own bytes, authenticated by the vault, so
 * protobuf-c's decoder suffices and a newer version's fields are kept
 * (book_out_decode's rule). NULL when damaged. The only decoder of
 * accounts.
 */
static Sira__V1__UserRecord *
record_decode(const uint8_t *row, size_t len)
{
	return sira__v1__user_record__unpack(NULL, len, row);
}

/* Wipe the hash a decoded record holds, then free it; accepts NULL. */
static void
record_free(Sira__V1__UserRecord *r)
{
	if (r == NULL)
		return;
	if (r->pwhash != NULL)
		sodium_memzero(r->pwhash, strlen(r->pwhash));
	sira__v1__user_record__free_unpacked(r, NULL);
}

static int
record_load(struct vault_txn *t, const char *login, Sira__V1__UserRecord **out,
    struct sira_err *err)
{
	uint8_t key[32], *v;
	size_t len;
	int rc;

	/* Each failure returns its code itself, not sira_err_set's value:
	 * the analyser does not follow a variadic call, and the callers use
	 * *out on 0. */
	*out = NULL;
	vault_blind(t, USER_PURPOSE, login, key);
	if ((rc = vault_get(t, VT_USERS, bytes_of(key, sizeof(key)), &v, &len,
		 NULL)) == -SIRA_ENOTFOUND) {
		(void)sira_err_set(
		    err, SIRA_ENOTFOUND, _("no user %s in this agency"), login);
		return -SIRA_ENOTFOUND;
	}
	if (rc != 0) {
		(void)sira_err_set(err, -rc, _("user %s unreadable"), login);
		return rc;
	}
	*out = record_decode(v, len);
	vault_free(v, len);
	if (*out == NULL || strcmp((*out)->login, login) != 0) {
		record_free(*out);
		*out = NULL;
		(void)sira_err_set(
		    err, SIRA_EMALFORMED, _("user %s: record damaged"), login);
		return -SIRA_EMALFORMED;
	}
	return 0;
}

static int
record_store(
    struct vault_txn *t, const Sira__V1__UserRecord *r, struct sira_err *err)
{
	uint8_t key[32], *bytes;
	size_t len;
	int rc;

	if ((rc = wire_pack(&r->base, &bytes, &len, err)) != 0)
		return rc;
	vault_blind(t, USER_PURPOSE, r->login, key);
	rc =
	    vault_put(t, VT_USERS, bytes_of(key, sizeof(key)), bytes, len, err);
	sodium_memzero(bytes, len);
	free(bytes);
	return rc;
}

/* Store r with its pwhash replaced by hash for the write only (r's own
 * string stays, to be freed with r). */
static int
record_store_hash(struct vault_txn *t, Sira__V1__UserRecord *r, char *hash,
    struct sira_err *err)
{
	char *old = r->pwhash;
	int rc;

	r->pwhash = hash;
	rc = record_store(t, r, err);
	r->pwhash = old;
	return rc;
}

static void
copy_text(char *dst, size_t cap, const char *src)
{
	(void)snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static void
record_info(const Sira__V1__UserRecord *r, struct user_info *out)
{
	memset(out, 0, sizeof(*out));
	copy_text(out->login, sizeof(out->login), r->login);
	copy_text(out->full_name, sizeof(out->full_name), r->full_name);
	out->role = (enum user_role)r->role;
	out->disabled = r->disabled != 0;
	out->failures = r->failures;
	out->locked_until = r->locked_until;
	out->created = r->created;
	out->last_login = r->last_login;
	out->password_changed = r->password_changed;
	copy_text(out->lang, sizeof(out->lang),
	    r->lang != NULL && strcmp(r->lang, "en") == 0 ? "en" : "fr");
}

/* A login attempt: the person is the one logging in (NULL: unknown). */
static int
audit(struct vault_txn *t, uint64_t now, const char *action, const char *login,
    int reason, struct sira_err *err)
{
	return book_audit(t, now,
	    &(struct audit_event){
		.action = action, .reason = reason, .person = login },
	    err);
}

/* A change to the account login, made by actor (NULL: the console). */
static int
audit_change(struct vault_txn *t, uint64_t now, const char *action,
    const char *actor, const char *login, struct sira_err *err)
{
	return book_audit(t, now,
	    &(struct audit_event){
		.action = action, .person = actor, .subject = login },
	    err);
}

int
users_add(struct vault_txn *t, const struct user_new *u, uint64_t now,
    struct sira_err *err)
{
	const char *login = u->login, *full_name = u->full_name;
	const char *password = u->password;
	enum user_role role = u->role;
	Sira__V1__UserRecord r = SIRA__V1__USER_RECORD__INIT;
	Sira__V1__UserRecord *old = NULL;
	char hash[crypto_pwhash_STRBYTES];
	size_t plen;
	int rc;

	if ((rc = check_login(login, err)) != 0 ||
	    (rc = check_name(full_name, err)) != 0 ||
	    (rc = check_password(password, &plen, err)) != 0)
		return rc;
	if (!role_valid(role))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a role is caseworker, supervisor or admin"));
	if ((rc = record_load(t, login, &old, err)) == 0) {
		record_free(old);
		return sira_err_set(
		    err, SIRA_EEXIST, _("user %s exists already"), login);
	}
	if (rc != -SIRA_ENOTFOUND)
		return rc;
	if ((rc = hash_password(password, plen, hash, err)) != 0)
		return rc;
	r.login = (char *)(uintptr_t)login;
	r.full_name = (char *)(uintptr_t)full_name;
	r.role = (Sira__V1__UserRole)role;
	r.pwhash = hash;
	r.created = now;
	r.password_changed = now;
	r.lang = "fr";
	if ((rc = record_store(t, &r, err)) == 0)
		rc = audit_change(t, now, "user.add", u->actor, login, err);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
users_passwd(struct vault_txn *t, const char *login, const char *password,
    const char *actor, uint64_t now, struct sira_err *err)
{
	Sira__V1__UserRecord *r;
	char hash[crypto_pwhash_STRBYTES];
	size_t plen;
	int rc;

	if ((rc = check_login(login, err)) != 0 ||
	    (rc = check_password(password, &plen, err)) != 0 ||
	    (rc = record_load(t, login, &r, err)) != 0)
		return rc;
	if ((rc = hash_password(password, plen, hash, err)) == 0) {
		r->failures = 0;
		r->locked_until = 0;
		r->password_changed = now;
		if ((rc = record_store_hash(t, r, hash, err)) == 0)
			rc = audit_change(
			    t, now, "user.passwd", actor, login, err);
	}
	sodium_memzero(hash, sizeof(hash));
	record_free(r);
	return rc;
}

int
users_set_disabled(struct vault_txn *t, const char *login, bool disabled,
    const char *actor, uint64_t now, struct sira_err *err)
{
	Sira__V1__UserRecord *r;
	int rc;

	if ((rc = check_login(login, err)) != 0 ||
	    (rc = record_load(t, login, &r, err)) != 0)
		return rc;
	if ((r->disabled != 0) != disabled) {
		r->disabled = disabled;
		if ((rc = record_store(t, r, err)) == 0)
			rc = audit_change(t, now,
			    disabled ? "user.disable" : "user.enable", actor,
			    login, err);
	}
	record_free(r);
	return rc;
}

int
users_set_lang(struct vault_txn *t, const char *login, const char *lang,
    struct sira_err *err)
{
	Sira__V1__UserRecord *r;
	char *old;
	int rc;

	if (lang == NULL ||
	    (strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0))
		return sira_err_set(
		    err, SIRA_EINVAL, _("a language is fr or en"));
	if ((rc = check_login(login, err)) != 0 ||
	    (rc = record_load(t, login, &r, err)) != 0)
		return rc;
	old = r->lang;
	r->lang = (char *)(uintptr_t)lang;
	rc = record_store(t, r, err);
	r->lang = old;
	record_free(r);
	return rc;
}

int
users_get(struct vault_txn *t, const char *login, struct user_info *out,
    struct sira_err *err)
{
	Sira__V1__UserRecord *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_login(login, err)) != 0 ||
	    (rc = record_load(t, login, &r, err)) != 0)
		return rc;
	record_info(r, out);
	record_free(r);
	return 0;
}

struct each {
	int (*fn)(void *ctx, const struct user_info *u);
	void *ctx;
};

static int
each_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct each *e = ctx;
	Sira__V1__UserRecord *r;
	struct user_info u;

	(void)key;
	(void)klen;
	if ((r = record_decode(val, vlen)) == NULL)
		return 0; /* a damaged row is skipped, never fatal */
	record_info(r, &u);
	record_free(r);
	return e->fn(e->ctx, &u);
}

int
users_each(struct vault_txn *t, int (*fn)(void *ctx, const struct user_info *u),
    void *ctx, struct sira_err *err)
{
	struct each e = { fn, ctx };

	return vault_each(t, VT_USERS, each_row, &e, err);
}

/*
 * The stored hash of r (or the dummy when r is NULL or its hash does not
 * fit) in the buffer of crypto_pwhash_STRBYTES that libsodium reads.
 */
static void
stored_hash(
    const Sira__V1__UserRecord *r, char out[static crypto_pwhash_STRBYTES])
{
	memset(out, 0, crypto_pwhash_STRBYTES);
	if (r != NULL && r->pwhash != NULL &&
	    strnlen(r->pwhash, crypto_pwhash_STRBYTES) < crypto_pwhash_STRBYTES)
		memcpy(out, r->pwhash, strlen(r->pwhash));
	else
		memcpy(out, dummy_hash, sizeof(dummy_hash));
}

/* A wrong password for r at now: count it, and lock at the limit. */
static int
login_wrong(struct vault_txn *t, Sira__V1__UserRecord *r, uint64_t now,
    struct sira_err *err)
{
	bool locks;
	int rc;

	if (r->failures < UINT32_MAX)
		r->failures++;
	if ((locks = r->failures >= USER_FAIL_LOCK))
		r->locked_until = now + (uint64_t)USER_LOCK_SECONDS;
	if ((rc = record_store(t, r, err)) != 0 ||
	    (rc = audit(t, now, "user.login_failed", r->login, SIRA_EAUTH,
		 err)) != 0 ||
	    (locks &&
		(rc = audit(
		     t, now, "user.locked", r->login, SIRA_ERATE, err)) != 0))
		return rc;
	return sira_err_set(err, SIRA_EAUTH, WRONG);
}

/* The right password for r at now: reset, renew an old hash, record. */
static int
login_right(struct vault_txn *t, Sira__V1__UserRecord *r, const char *password,
    uint64_t now, const char stored[static crypto_pwhash_STRBYTES],
    struct sira_err *err)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc;

	r->failures = 0;
	r->locked_until = 0;
	r->last_login = now;
	if (crypto_pwhash_str_needs_rehash(stored, OPSLIMIT, MEMLIMIT) != 0 &&
	    hash_password(password, strlen(password), hash, NULL) == 0) {
		rc = record_store_hash(t, r, hash, err);
		sodium_memzero(hash, sizeof(hash));
	} else
		rc = record_store(t, r, err);
	if (rc == 0)
		rc = audit(t, now, "user.login", r->login, 0, err);
	return rc;
}

/*
 * An attempt refused whatever the password: r unknown (NULL), disabled or
 * locked at now. Returns the answer, or the audit's failure.
 */
static int
login_refused(struct vault_txn *t, const Sira__V1__UserRecord *r, uint64_t now,
    struct sira_err *err)
{
	int rc;

	if (r == NULL || r->disabled) {
		/* Not named when unknown: it may be a password typed in the
		 * wrong field. */
		if ((rc = audit(t, now, "user.login_failed",
			 r != NULL ? r->login : NULL,
			 r != NULL ? SIRA_EDENIED : SIRA_ENOTFOUND, err)) != 0)
			return rc;
		return sira_err_set(err, SIRA_EAUTH, WRONG);
	}
	if ((rc = audit(
		 t, now, "user.login_failed", r->login, SIRA_ERATE, err)) != 0)
		return rc;
	return sira_err_set(err, SIRA_ERATE,
	    _("too many wrong passwords: this account is locked for %llu more minutes"),
	    (unsigned long long)((r->locked_until - now + 59) / 60));
}

int
users_login(struct vault_txn *t, const char *login, const char *password,
    uint64_t now, struct user_info *out, struct sira_err *err)
{
	const char *pw = password != NULL ? password : "";
	size_t plen = strnlen(pw, USER_PASS_MAX + 1);
	Sira__V1__UserRecord *r = NULL;
	char stored[crypto_pwhash_STRBYTES];
	bool right;
	int rc;

	memset(out, 0, sizeof(*out));
	if (users_login_valid(login) &&
	    (rc = record_load(t, login, &r, err)) != 0 && rc != -SIRA_ENOTFOUND)
		return rc;
	/* The one Argon2id check every attempt makes, whatever follows. */
	stored_hash(r, stored);
	right = crypto_pwhash_str_verify(stored, pw, plen) == 0 && r != NULL &&
	    plen <= USER_PASS_MAX;
	if (r == NULL || r->disabled || r->locked_until > now)
		rc = login_refused(t, r, now, err);
	else if (!right)
		rc = login_wrong(t, r, now, err);
	else if ((rc = login_right(t, r, pw, now, stored, err)) == 0)
		record_info(r, out);
	sodium_memzero(stored, sizeof(stored));
	record_free(r);
	return rc;
}
