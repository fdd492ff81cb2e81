/*
 * test_agent_users.c: agents/store/users.c on a real vault in a fresh
 * mkdtemp() directory: accounts added and read back, every refusal, logins
 * right and wrong with their failures counted across a close and reopen,
 * the lock after USER_FAIL_LOCK wrong passwords and its end, unknown and
 * disabled logins answered as a wrong password, password changes, the
 * audit entries with their person, the data file holding no login, name,
 * password or hash in clear, users_each past any constant, a hash renewed
 * at login, and a vault made before the users table existed (also a full
 * one). Tests assert exact codes.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "fileio.h"
#include "keyfile.h"
#include "sign.h"
#include "store/store.h"
#include "wire.h"

#define MAP_SMALL (16U << 20)
#define MAP_TINY (256U << 10)
#define NOW ((uint64_t)1790000000)
#define PASS "correct horse battery"
#define PASS2 "un autre mot de passe"
#define WRONG_PASS "wrong horse battery"
#define NAME "Awa Diarra MARKER-NAME"
#define MANY 300

struct fx {
	char dir[64];   /* mkdtemp() */
	char vdir[128]; /* dir/vault */
	struct sira_keys *keys;
	struct vault *v;
};

/* ---- fixture ---- */

static void
rm_dir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

static void
reopen(struct fx *fx, uint64_t mapsize)
{
	struct sira_err err = { 0 };

	vault_close(&fx->v);
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, mapsize, &fx->v, &err), 0);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-users-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->vdir, sizeof(fx->vdir), "%s/vault", fx->dir);
	fx->keys = keys_new();
	assert_non_null(fx->keys);
	(void)snprintf(
	    fx->keys->agency_id, sizeof(fx->keys->agency_id), "ml.ngo.espoir");
	sign_keygen(fx->keys->sign_pk, fx->keys->sign_sk);
	reopen(fx, MAP_SMALL);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	vault_close(&fx->v);
	rm_dir(fx->vdir);
	rm_dir(fx->dir);
	keys_destroy(&fx->keys);
	free(fx);
	return 0;
}

/* ---- helpers ---- */

static struct vault_txn *
begin(struct fx *fx, bool write)
{
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(fx->v, write, &t, NULL), 0);
	return t;
}

static void
commit(struct vault_txn **t)
{
	assert_int_equal(vault_commit(t, NULL), 0);
	assert_null(*t);
}

static void
add_ok(struct fx *fx, const char *login, enum user_role role)
{
	struct vault_txn *t = begin(fx, true);
	struct sira_err err = { 0 };

	assert_int_equal(
	    users_add(t, &(struct user_new){ login, NAME, role, PASS, NULL },
		NOW, &err),
	    0);
	commit(&t);
}

/* users_add in its own transaction: its code (and nothing kept). */
static int
add_rc(struct fx *fx, const char *login, const char *name, int role,
    const char *pass)
{
	struct vault_txn *t = begin(fx, true);
	struct sira_err err = { 0 };
	int rc;

	rc = users_add(t,
	    &(struct user_new){ login, name, (enum user_role)role, pass, NULL },
	    NOW, &err);
	if (rc != 0)
		assert_int_equal(err.code, -rc);
	vault_abort(&t);
	return rc;
}

/* One login attempt, committed whatever its answer, as the caller must. */
static int
login_at(struct fx *fx, const char *login, const char *pass, uint64_t now,
    struct user_info *out, struct sira_err *err)
{
	struct vault_txn *t = begin(fx, true);
	struct user_info scratch;
	int rc;

	rc = users_login(t, login, pass, now, out ? out : &scratch, err);
	commit(&t);
	return rc;
}

static struct user_info
get_ok(struct fx *fx, const char *login)
{
	struct vault_txn *t = begin(fx, false);
	struct user_info u;

	assert_int_equal(users_get(t, login, &u, NULL), 0);
	vault_abort(&t);
	return u;
}

static int
get_rc(struct fx *fx, const char *login)
{
	struct vault_txn *t = begin(fx, false);
	struct user_info u;
	int rc = users_get(t, login, &u, NULL);

	vault_abort(&t);
	return rc;
}

/* Does buf[0..len) hold the bytes of needle? */
static bool
contains(const uint8_t *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return true;
	return false;
}

/* Store rec as users.c would (vault_blind("user", login) -> UserRecord). */
static void
put_record(struct vault_txn *t, const Sira__V1__UserRecord *rec)
{
	uint8_t key[32], *bytes;
	size_t len;

	assert_int_equal(wire_pack(&rec->base, &bytes, &len, NULL), 0);
	vault_blind(t, "user", rec->login, key);
	assert_int_equal(
	    vault_put(t, VT_USERS, bytes_of(key, 32), bytes, len, NULL), 0);
	free(bytes);
}

static Sira__V1__UserRecord *
get_record(struct fx *fx, const char *login)
{
	struct vault_txn *t = begin(fx, false);
	Sira__V1__UserRecord *r;
	uint8_t key[32], *v;
	size_t len;

	vault_blind(t, "user", login, key);
	assert_int_equal(
	    vault_get(t, VT_USERS, bytes_of(key, 32), &v, &len, NULL), 0);
	vault_abort(&t);
	r = sira__v1__user_record__unpack(NULL, len, v);
	vault_free(v, len);
	assert_non_null(r);
	return r;
}

/* The audit chain as "action/person/reason" lines, and whether any row
 * holds secret (as decrypted bytes). */
struct trail {
	char text[8192];
	const char *secret;
	bool leaked;
};

static int
trail_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct trail *tr = ctx;
	Sira__V1__AuditEntry *e = book_audit_decode(val, vlen);
	size_t used = strlen(tr->text);

	(void)key;
	(void)klen;
	assert_non_null(e);
	(void)snprintf(tr->text + used, sizeof(tr->text) - used,
	    "%s/%s/%s/%d\n", e->action, e->person, e->subject, (int)e->reason);
	sira__v1__audit_entry__free_unpacked(e, NULL);
	if (contains(val, vlen, tr->secret) || contains(val, vlen, "argon2"))
		tr->leaked = true;
	return 0;
}

static void
read_trail(struct fx *fx, const char *secret, struct trail *tr)
{
	struct vault_txn *t = begin(fx, false);
	uint64_t n, bad;

	memset(tr, 0, sizeof(*tr));
	tr->secret = secret;
	assert_int_equal(vault_each(t, VT_AUDIT, trail_row, tr, NULL), 0);
	assert_int_equal(book_audit_verify(t, &n, &bad, NULL), 0);
	vault_abort(&t);
}

/* ---- tests ---- */

static void
test_add_get(void **state)
{
	struct fx *fx = *state;
	struct user_info u;

	add_ok(fx, "awa", USER_SUPERVISOR);
	u = get_ok(fx, "awa");
	assert_string_equal(u.login, "awa");
	assert_string_equal(u.full_name, NAME);
	assert_int_equal(u.role, USER_SUPERVISOR);
	assert_false(u.disabled);
	assert_int_equal(u.failures, 0);
	assert_int_equal(u.locked_until, 0);
	assert_int_equal(u.created, NOW);
	assert_int_equal(u.password_changed, NOW);
	assert_int_equal(u.last_login, 0);
	assert_string_equal(u.lang, "fr");
	/* It survives closing the vault. */
	reopen(fx, MAP_SMALL);
	u = get_ok(fx, "awa");
	assert_string_equal(u.full_name, NAME);
	assert_int_equal(get_rc(fx, "moussa"), -SIRA_ENOTFOUND);
	assert_int_equal(get_rc(fx, "Not A Login"), -SIRA_EINVAL);
}

static void
test_add_refusals(void **state)
{
	struct fx *fx = *state;
	char login33[34], name129[130], pass257[258], pass9[10];

	memset(login33, 'a', 33);
	login33[33] = '\0';
	memset(name129, 'n', 129);
	name129[129] = '\0';
	memset(pass257, 'p', 257);
	pass257[257] = '\0';
	memset(pass9, 'p', 9);
	pass9[9] = '\0';
	add_ok(fx, "awa", USER_CASEWORKER);
	assert_int_equal(
	    add_rc(fx, "awa", "Another Awa", USER_ADMIN, PASS2), -SIRA_EEXIST);
	/* Logins. */
	const char *bad_logins[] = { "", "a", "Awa", "1awa", ".awa",
		"awa diarra", "awa/x", "awa\n", "awà", login33 };
	for (size_t i = 0; i < sizeof(bad_logins) / sizeof(bad_logins[0]); i++)
		assert_int_equal(
		    add_rc(fx, bad_logins[i], NAME, USER_CASEWORKER, PASS),
		    -SIRA_EINVAL);
	assert_int_equal(
	    add_rc(fx, NULL, NAME, USER_CASEWORKER, PASS), -SIRA_EINVAL);
	login33[32] = '\0'; /* 32 is the most */
	assert_int_equal(add_rc(fx, login33, NAME, USER_CASEWORKER, PASS), 0);
	assert_int_equal(add_rc(fx, "a.b-c_9", NAME, USER_CASEWORKER, PASS), 0);
	/* Names. */
	const char *bad_names[] = { "", "Awa\x1b[31m", "Awa\nDiarra",
		"\xff\xfe", "Awa\xe2\x80\xae", name129 };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(
		    add_rc(fx, "moussa", bad_names[i], USER_CASEWORKER, PASS),
		    -SIRA_EINVAL);
	assert_int_equal(
	    add_rc(fx, "moussa", NULL, USER_CASEWORKER, PASS), -SIRA_EINVAL);
	assert_int_equal(
	    add_rc(fx, "moussa", "Moussa Koné", USER_CASEWORKER, PASS), 0);
	/* Passwords and roles. */
	assert_int_equal(
	    add_rc(fx, "moussa", NAME, USER_CASEWORKER, pass9), -SIRA_EINVAL);
	assert_int_equal(
	    add_rc(fx, "moussa", NAME, USER_CASEWORKER, pass257), -SIRA_EINVAL);
	assert_int_equal(
	    add_rc(fx, "moussa", NAME, USER_CASEWORKER, NULL), -SIRA_EINVAL);
	assert_int_equal(add_rc(fx, "moussa", NAME, 0, PASS), -SIRA_EINVAL);
	assert_int_equal(add_rc(fx, "moussa", NAME, 4, PASS), -SIRA_EINVAL);
	/* None of the refused ones was kept. */
	assert_int_equal(get_rc(fx, "moussa"), -SIRA_ENOTFOUND);
	assert_string_equal(get_ok(fx, "awa").full_name, NAME);
}

static void
test_roles_and_names(void **state)
{
	enum user_role r = USER_CASEWORKER;

	(void)state;
	assert_string_equal(user_role_name(USER_CASEWORKER), "caseworker");
	assert_string_equal(user_role_name(USER_SUPERVISOR), "supervisor");
	assert_string_equal(user_role_name(USER_ADMIN), "admin");
	assert_string_equal(user_role_name((enum user_role)9), "unknown");
	assert_int_equal(user_role_parse("admin", &r), 0);
	assert_int_equal(r, USER_ADMIN);
	assert_int_equal(user_role_parse("superviseur", &r), 0);
	assert_int_equal(r, USER_SUPERVISOR);
	assert_int_equal(user_role_parse("administrateur", &r), 0);
	assert_int_equal(r, USER_ADMIN);
	assert_int_equal(user_role_parse("agent", &r), 0);
	assert_int_equal(r, USER_CASEWORKER);
	assert_int_equal(user_role_parse("Admin", &r), -SIRA_EINVAL);
	assert_int_equal(user_role_parse("root", &r), -SIRA_EINVAL);
	assert_int_equal(user_role_parse(NULL, &r), -SIRA_EINVAL);
	assert_true(users_login_valid("aw"));
	assert_false(users_login_valid("a"));
	assert_true(users_name_valid("Fatoumata Koné"));
	assert_false(users_name_valid("tab\there"));
}

static void
test_login_right(void **state)
{
	struct fx *fx = *state;
	struct sira_err err = { 0 };
	struct user_info out;

	add_ok(fx, "awa", USER_CASEWORKER);
	assert_int_equal(login_at(fx, "awa", PASS, NOW + 60, &out, &err), 0);
	assert_string_equal(out.login, "awa");
	assert_int_equal(out.role, USER_CASEWORKER);
	assert_int_equal(out.last_login, NOW + 60);
	assert_int_equal(get_ok(fx, "awa").last_login, NOW + 60);
	/* A read-only transaction cannot record a login. */
	{
		struct vault_txn *t = begin(fx, false);
		assert_int_not_equal(
		    users_login(t, "awa", PASS, NOW, &out, NULL), 0);
		vault_abort(&t);
	}
}

static void
test_wrong_counted_and_kept(void **state)
{
	struct fx *fx = *state;
	struct sira_err err = { 0 };
	struct user_info out;

	add_ok(fx, "awa", USER_CASEWORKER);
	assert_int_equal(
	    login_at(fx, "awa", WRONG_PASS, NOW, &out, &err), -SIRA_EAUTH);
	assert_int_equal(err.code, SIRA_EAUTH);
	assert_string_equal(out.login, ""); /* nothing said on failure */
	assert_int_equal(login_at(fx, "awa", "", NOW, NULL, NULL), -SIRA_EAUTH);
	assert_int_equal(get_ok(fx, "awa").failures, 2);
	/* The failures are on disk. */
	reopen(fx, MAP_SMALL);
	assert_int_equal(get_ok(fx, "awa").failures, 2);
	assert_int_equal(login_at(fx, "awa", PASS, NOW + 1, &out, NULL), 0);
	assert_int_equal(out.failures, 0);
	assert_int_equal(get_ok(fx, "awa").failures, 0);
	/* A password one byte off, or with one more byte, is wrong. */
	assert_int_equal(
	    login_at(fx, "awa", "correct horse batterz", NOW + 2, NULL, NULL),
	    -SIRA_EAUTH);
	assert_int_equal(
	    login_at(fx, "awa", PASS "!", NOW + 2, NULL, NULL), -SIRA_EAUTH);
	assert_int_equal(get_ok(fx, "awa").failures, 2);
}

static void
test_lock(void **state)
{
	struct fx *fx = *state;
	struct sira_err err = { 0 };
	uint64_t until = NOW + USER_LOCK_SECONDS;

	assert_int_equal(USER_LOCK_SECONDS, 900);
	add_ok(fx, "awa", USER_CASEWORKER);
	for (int i = 0; i < USER_FAIL_LOCK - 1; i++)
		assert_int_equal(
		    login_at(fx, "awa", WRONG_PASS, NOW, NULL, NULL),
		    -SIRA_EAUTH);
	assert_int_equal(get_ok(fx, "awa").locked_until, 0);
	/* The fifth locks, and still answers as a wrong password. */
	assert_int_equal(
	    login_at(fx, "awa", WRONG_PASS, NOW, NULL, NULL), -SIRA_EAUTH);
	assert_int_equal(get_ok(fx, "awa").failures, USER_FAIL_LOCK);
	assert_int_equal(get_ok(fx, "awa").locked_until, until);
	/* Locked: even the right password is refused, and kept across a
	 * reopen; attempts while locked are not counted. */
	assert_int_equal(
	    login_at(fx, "awa", PASS, NOW + 1, NULL, &err), -SIRA_ERATE);
	assert_int_equal(err.code, SIRA_ERATE);
	reopen(fx, MAP_SMALL);
	assert_int_equal(
	    login_at(fx, "awa", PASS, until - 1, NULL, NULL), -SIRA_ERATE);
	assert_int_equal(login_at(fx, "awa", WRONG_PASS, until - 1, NULL, NULL),
	    -SIRA_ERATE);
	assert_int_equal(get_ok(fx, "awa").failures, USER_FAIL_LOCK);
	/* At the end of the lock the right password works and resets. */
	assert_int_equal(login_at(fx, "awa", PASS, until, NULL, NULL), 0);
	assert_int_equal(get_ok(fx, "awa").failures, 0);
	assert_int_equal(get_ok(fx, "awa").locked_until, 0);
	/* Lock again; after it ends, one more wrong password locks again. */
	for (int i = 0; i < USER_FAIL_LOCK; i++)
		assert_int_equal(
		    login_at(fx, "awa", WRONG_PASS, until, NULL, NULL),
		    -SIRA_EAUTH);
	assert_int_equal(
	    login_at(fx, "awa", WRONG_PASS, until + 900, NULL, NULL),
	    -SIRA_EAUTH);
	assert_int_equal(get_ok(fx, "awa").locked_until, until + 1800);
	assert_int_equal(
	    login_at(fx, "awa", PASS, until + 1799, NULL, NULL), -SIRA_ERATE);
}

static void
test_unknown_and_disabled(void **state)
{
	struct fx *fx = *state;
	struct sira_err wrong = { 0 }, unknown = { 0 }, invalid = { 0 },
			disabled = { 0 };
	struct vault_txn *t;

	add_ok(fx, "awa", USER_CASEWORKER);
	assert_int_equal(
	    login_at(fx, "awa", WRONG_PASS, NOW, NULL, &wrong), -SIRA_EAUTH);
	assert_int_equal(
	    login_at(fx, "moussa", PASS, NOW, NULL, &unknown), -SIRA_EAUTH);
	assert_int_equal(
	    login_at(fx, "Robert'); DROP", PASS, NOW, NULL, &invalid),
	    -SIRA_EAUTH);
	assert_int_equal(
	    login_at(fx, NULL, NULL, NOW, NULL, NULL), -SIRA_EAUTH);
	/* The same answer for each: nothing tells which logins exist. */
	assert_string_equal(unknown.msg, wrong.msg);
	assert_string_equal(invalid.msg, wrong.msg);
	assert_int_equal(get_rc(fx, "moussa"), -SIRA_ENOTFOUND);
	/* Disabled: the right password is refused the same way. */
	t = begin(fx, true);
	assert_int_equal(
	    users_set_disabled(t, "awa", true, NULL, NOW, NULL), 0);
	commit(&t);
	assert_true(get_ok(fx, "awa").disabled);
	assert_int_equal(
	    login_at(fx, "awa", PASS, NOW, NULL, &disabled), -SIRA_EAUTH);
	assert_string_equal(disabled.msg, wrong.msg);
	t = begin(fx, true);
	assert_int_equal(
	    users_set_disabled(t, "awa", false, NULL, NOW, NULL), 0);
	assert_int_equal(users_set_disabled(t, "moussa", true, NULL, NOW, NULL),
	    -SIRA_ENOTFOUND);
	commit(&t);
	assert_false(get_ok(fx, "awa").disabled);
	assert_int_equal(login_at(fx, "awa", PASS, NOW, NULL, NULL), 0);
}

static void
test_passwd(void **state)
{
	struct fx *fx = *state;
	struct vault_txn *t;
	struct user_info u;

	add_ok(fx, "awa", USER_CASEWORKER);
	for (int i = 0; i < USER_FAIL_LOCK; i++)
		(void)login_at(fx, "awa", WRONG_PASS, NOW, NULL, NULL);
	assert_int_not_equal(get_ok(fx, "awa").locked_until, 0);
	t = begin(fx, true);
	assert_int_equal(
	    users_passwd(t, "awa", "short", NULL, NOW, NULL), -SIRA_EINVAL);
	vault_abort(&t);
	t = begin(fx, true);
	assert_int_equal(
	    users_passwd(t, "moussa", PASS2, NULL, NOW, NULL), -SIRA_ENOTFOUND);
	vault_abort(&t);
	t = begin(fx, true);
	assert_int_equal(users_passwd(t, "awa", PASS2, NULL, NOW + 5, NULL), 0);
	commit(&t);
	u = get_ok(fx, "awa");
	assert_int_equal(u.failures, 0);
	assert_int_equal(u.locked_until, 0);
	assert_int_equal(u.password_changed, NOW + 5);
	assert_int_equal(u.created, NOW);
	/* Unlocked at once; the old password is refused, the new works. */
	assert_int_equal(
	    login_at(fx, "awa", PASS, NOW + 6, NULL, NULL), -SIRA_EAUTH);
	assert_int_equal(login_at(fx, "awa", PASS2, NOW + 7, NULL, NULL), 0);
}

static void
test_lang(void **state)
{
	struct fx *fx = *state;
	struct vault_txn *t;

	add_ok(fx, "awa", USER_CASEWORKER);
	t = begin(fx, true);
	assert_int_equal(users_set_lang(t, "awa", "en", NULL), 0);
	assert_int_equal(users_set_lang(t, "awa", "de", NULL), -SIRA_EINVAL);
	assert_int_equal(users_set_lang(t, "awa", NULL, NULL), -SIRA_EINVAL);
	assert_int_equal(
	    users_set_lang(t, "moussa", "en", NULL), -SIRA_ENOTFOUND);
	commit(&t);
	assert_string_equal(get_ok(fx, "awa").lang, "en");
	/* The hash is untouched: the password still works. */
	assert_int_equal(login_at(fx, "awa", PASS, NOW, NULL, NULL), 0);
}

static void
test_audit(void **state)
{
	struct fx *fx = *state;
	struct vault_txn *t;
	struct trail tr;

	add_ok(fx, "awa", USER_CASEWORKER);
	assert_int_equal(login_at(fx, "awa", PASS, NOW, NULL, NULL), 0);
	for (int i = 0; i < USER_FAIL_LOCK; i++)
		(void)login_at(fx, "awa", WRONG_PASS, NOW, NULL, NULL);
	(void)login_at(fx, "awa", PASS, NOW, NULL, NULL);
	(void)login_at(fx, "nobody", PASS, NOW, NULL, NULL);
	t = begin(fx, true);
	assert_int_equal(users_passwd(t, "awa", PASS2, NULL, NOW, NULL), 0);
	assert_int_equal(
	    users_set_disabled(t, "awa", true, NULL, NOW, NULL), 0);
	assert_int_equal(
	    users_set_disabled(t, "awa", true, NULL, NOW, NULL), 0);
	(void)users_login(t, "awa", PASS2, NOW, &(struct user_info){ 0 }, NULL);
	assert_int_equal(
	    users_set_disabled(t, "awa", false, "chef", NOW, NULL), 0);
	commit(&t);
	read_trail(fx, PASS, &tr);
	assert_string_equal(tr.text,
	    "user.add//awa/0\n" /* at the console: no person */
	    "user.login/awa//0\n"
	    "user.login_failed/awa//31\n"
	    "user.login_failed/awa//31\n"
	    "user.login_failed/awa//31\n"
	    "user.login_failed/awa//31\n"
	    "user.login_failed/awa//31\n"
	    "user.locked/awa//27\n"
	    "user.login_failed/awa//27\n" /* while locked */
	    "user.login_failed///17\n"    /* an unknown login: not named */
	    "user.passwd//awa/0\n"
	    "user.disable//awa/0\n" /* once: the second changed nothing */
	    "user.login_failed/awa//15\n"
	    "user.enable/chef/awa/0\n"); /* an administrator, on the web */
	assert_false(tr.leaked);
	read_trail(fx, PASS2, &tr);
	assert_false(tr.leaked);
	read_trail(fx, WRONG_PASS, &tr);
	assert_false(tr.leaked);
}

/* S1 for accounts: the data file never shows them. */
static void
test_no_plaintext_on_disk(void **state)
{
	struct fx *fx = *state;
	const char *login = "mariam.kone", *name = "Mariam Koné-MARKER";
	const char *needles[] = { "mariam.kone", "Mariam Kon", "MARKER", PASS,
		PASS2, "$argon2", "argon2id", "m=65536" };
	struct vault_txn *t = begin(fx, true);
	char path[160];
	uint8_t *buf;
	size_t len;

	assert_int_equal(
	    users_add(t,
		&(struct user_new){ login, name, USER_ADMIN, PASS, NULL }, NOW,
		NULL),
	    0);
	commit(&t);
	assert_int_equal(login_at(fx, login, PASS, NOW, NULL, NULL), 0);
	assert_int_equal(
	    login_at(fx, login, WRONG_PASS, NOW, NULL, NULL), -SIRA_EAUTH);
	t = begin(fx, true);
	assert_int_equal(users_passwd(t, login, PASS2, NULL, NOW, NULL), 0);
	commit(&t);
	vault_close(&fx->v);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", fx->vdir);
	assert_int_equal(fileio_read(path, 64u << 20, &buf, &len, NULL), 0);
	assert_true(len > 0);
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		if (contains(buf, len, needles[i]))
			fail_msg("\"%s\" is in data.mdb in clear", needles[i]);
	free(buf);
	reopen(fx, MAP_SMALL);
	assert_string_equal(get_ok(fx, login).full_name, name);
}

/* users_each: 300 accounts (rows written directly, as users_add would,
 * to spare 300 Argon2id hashes), each seen once; stop and errors. */
struct seen {
	bool seen[MANY];
	size_t n;
	int stop_at;
};

static int
count_user(void *ctx, const struct user_info *u)
{
	struct seen *s = ctx;
	unsigned i;

	assert_int_equal(sscanf(u->login, "user%u", &i), 1);
	assert_true(i < MANY);
	assert_false(s->seen[i]);
	assert_string_equal(u->full_name, "Agent of the agency");
	s->seen[i] = true;
	s->n++;
	if (s->stop_at > 0 && s->n == (size_t)s->stop_at)
		return 1;
	if (s->stop_at < 0 && s->n == 3)
		return -SIRA_EIO;
	return 0;
}

static void
test_each_many(void **state)
{
	struct fx *fx = *state;
	struct vault_txn *t = begin(fx, true);
	struct seen s;
	char login[16];

	for (unsigned i = 0; i < MANY; i++) {
		Sira__V1__UserRecord r = SIRA__V1__USER_RECORD__INIT;
		(void)snprintf(login, sizeof(login), "user%u", i);
		r.login = login;
		r.full_name = "Agent of the agency";
		r.role = SIRA__V1__USER_ROLE__USER_ROLE_CASEWORKER;
		r.pwhash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$"
			   "RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
		r.created = NOW;
		put_record(t, &r);
	}
	commit(&t);
	/* And one damaged row, skipped. */
	t = begin(fx, true);
	assert_int_equal(vault_put(t, VT_USERS, bytes_of("damaged-row", 11),
			     "\xff\xff\xff", 3, NULL),
	    0);
	commit(&t);
	memset(&s, 0, sizeof(s));
	t = begin(fx, false);
	assert_int_equal(users_each(t, count_user, &s, NULL), 0);
	assert_int_equal(s.n, MANY);
	memset(&s, 0, sizeof(s));
	s.stop_at = 7;
	assert_int_equal(users_each(t, count_user, &s, NULL), 0);
	assert_int_equal(s.n, 7);
	memset(&s, 0, sizeof(s));
	s.stop_at = -1;
	assert_int_equal(users_each(t, count_user, &s, NULL), -SIRA_EIO);
	assert_int_equal(s.n, 3);
	vault_abort(&t);
	assert_string_equal(get_ok(fx, "user299").login, "user299");
}

/* A hash made with weaker limits is renewed at the next right login. */
static void
test_rehash(void **state)
{
	struct fx *fx = *state;
	Sira__V1__UserRecord r = SIRA__V1__USER_RECORD__INIT, *back;
	char weak[crypto_pwhash_STRBYTES];
	struct vault_txn *t;

	assert_int_equal(
	    crypto_pwhash_str(weak, PASS, strlen(PASS),
		crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN),
	    0);
	r.login = "old.account";
	r.full_name = "Old Account";
	r.role = SIRA__V1__USER_ROLE__USER_ROLE_ADMIN;
	r.pwhash = weak;
	t = begin(fx, true);
	put_record(t, &r);
	commit(&t);
	assert_int_equal(login_at(fx, "old.account", PASS, NOW, NULL, NULL), 0);
	back = get_record(fx, "old.account");
	assert_string_not_equal(back->pwhash, weak);
	assert_int_equal(crypto_pwhash_str_needs_rehash(back->pwhash,
			     crypto_pwhash_OPSLIMIT_INTERACTIVE,
			     crypto_pwhash_MEMLIMIT_INTERACTIVE),
	    0);
	assert_string_equal(back->lang, "");
	sira__v1__user_record__free_unpacked(back, NULL);
	assert_string_equal(get_ok(fx, "old.account").lang, "fr");
	assert_int_equal(login_at(fx, "old.account", PASS, NOW, NULL, NULL), 0);
}

/* ---- a vault made before the users table existed ---- */

static void
drop_users_table(struct fx *fx)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	vault_close(&fx->v);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, VT_COUNT + 1), 0);
	assert_int_equal(mdb_env_open(env, fx->vdir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "users", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Is there a users table in the vault? (Closes the vault first: LMDB
 * must not have one environment open twice in a process.) */
static bool
has_users_table(struct fx *fx)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	vault_close(&fx->v);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, VT_COUNT + 1), 0);
	assert_int_equal(mdb_env_open(env, fx->vdir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	rc = mdb_dbi_open(txn, "users", 0, &dbi);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0;
}

static void
test_older_vault(void **state)
{
	struct fx *fx = *state;
	struct vault_txn *t = begin(fx, true);
	uint8_t *v;
	size_t len;

	assert_int_equal(
	    vault_put(t, VT_INBOX, bytes_of("kept", 4), "x", 1, NULL), 0);
	commit(&t);
	drop_users_table(fx);
	assert_false(has_users_table(fx));
	reopen(fx, MAP_SMALL);
	assert_true(has_users_table(fx));
	reopen(fx, MAP_SMALL);
	add_ok(fx, "awa", USER_ADMIN);
	assert_int_equal(login_at(fx, "awa", PASS, NOW, NULL, NULL), 0);
	t = begin(fx, false);
	assert_int_equal(
	    vault_get(t, VT_INBOX, bytes_of("kept", 4), &v, &len, NULL), 0);
	vault_free(v, len);
	vault_abort(&t);
}

/*
 * The child of test_older_vault_full: hold a read transaction on the
 * vault (so that no page freed after it can be reused) until the parent
 * closes hold. Never returns.
 */
static void
hold_snapshot(const struct fx *fx, int go[2], int hold[2])
{
	MDB_env *env;
	MDB_txn *txn;
	char c;

	(void)close(go[0]);
	(void)close(hold[1]); /* or it never reads the end of hold */
	if (mdb_env_create(&env) != 0 ||
	    mdb_env_set_maxdbs(env, VT_COUNT + 1) != 0 ||
	    mdb_env_open(env, fx->vdir, MDB_RDONLY, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
	    write(go[1], "r", 1) != 1)
		_exit(1);
	while (read(hold[0], &c, 1) > 0)
		;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	_exit(0);
}

/* Fill the vault's map through raw LMDB, as an older version would. */
static void
raw_fill(const struct fx *fx)
{
	uint8_t val[1000];
	char key[32];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc = 0;

	memset(val, 'v', sizeof(val));
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, VT_COUNT + 1), 0);
	assert_int_equal(mdb_env_set_mapsize(env, MAP_TINY), 0);
	assert_int_equal(mdb_env_open(env, fx->vdir, 0, 0600), 0);
	for (int n = 0; rc == 0 && n < 10000; n++) {
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "audit", 0, &dbi), 0);
		(void)snprintf(key, sizeof(key), "row-%05d", n);
		rc = mdb_put(txn, dbi, &(MDB_val){ strlen(key), key },
		    &(MDB_val){ sizeof(val), val }, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	assert_int_equal(rc, MDB_MAP_FULL);
	mdb_env_close(env);
}

/*
 * An older vault whose map is full (a reader pins every freed page) still
 * opens: the users table cannot be added, reads as empty, and writes to it
 * are -SIRA_EQUOTA like any write. With room again, the next open adds it.
 */
static void
test_older_vault_full(void **state)
{
	struct fx *fx = *state;
	struct sira_err err = { 0 };
	struct user_info u;
	struct vault_txn *t;
	struct seen s;
	int go[2], hold[2], status, rc;
	pid_t reader;
	char c;

	reopen(fx, MAP_TINY);
	drop_users_table(fx);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(hold), 0);
	if ((reader = fork()) == 0)
		hold_snapshot(fx, go, hold);
	assert_true(reader > 0);
	(void)close(go[1]);
	(void)close(hold[0]);
	assert_int_equal(read(go[0], &c, 1), 1);
	(void)close(go[0]);
	raw_fill(fx);
	assert_int_equal(
	    vault_open(fx->vdir, fx->keys, MAP_TINY, &fx->v, &err), 0);
	memset(&s, 0, sizeof(s));
	t = begin(fx, false);
	assert_int_equal(users_each(t, count_user, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(users_get(t, "awa", &u, NULL), -SIRA_ENOTFOUND);
	vault_abort(&t);
	t = begin(fx, true);
	assert_int_equal(
	    users_add(t,
		&(struct user_new){ "awa", NAME, USER_ADMIN, PASS, NULL }, NOW,
		&err),
	    -SIRA_EQUOTA);
	assert_int_equal(err.code, SIRA_EQUOTA);
	assert_int_equal(vault_commit(&t, NULL), -SIRA_EQUOTA);
	t = begin(fx, true);
	assert_int_equal(
	    vault_del(t, VT_USERS, bytes_of("x", 1), NULL), -SIRA_ENOTFOUND);
	rc = users_login(t, "awa", PASS, NOW, &u, NULL);
	assert_int_equal(rc, -SIRA_EQUOTA); /* its audit entry has no room */
	vault_abort(&t);
	assert_false(has_users_table(fx));
	(void)close(hold[1]);
	assert_int_equal(waitpid(reader, &status, 0), reader);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* With room again, the next open adds the table and it works. */
	reopen(fx, MAP_SMALL);
	assert_true(has_users_table(fx));
	reopen(fx, MAP_SMALL);
	add_ok(fx, "awa", USER_ADMIN);
	assert_int_equal(login_at(fx, "awa", PASS, NOW, NULL, NULL), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_add_get),
		T(test_add_refusals),
		T(test_roles_and_names),
		T(test_login_right),
		T(test_wrong_counted_and_kept),
		T(test_lock),
		T(test_unknown_and_disabled),
		T(test_passwd),
		T(test_lang),
		T(test_audit),
		T(test_no_plaintext_on_disk),
		T(test_each_many),
		T(test_rehash),
		T(test_older_vault),
		T(test_older_vault_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
