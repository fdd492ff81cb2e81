/*
 * test_web_session.c: agents/web/session.c, who is logged in. The clock is
 * the test's (every call takes "now"), so the idle logout, the 12-hour
 * limit and the login limiter are tested at their edges without waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "web/web.h"

#define T0 ((uint64_t)1795953600) /* 2026-11-29T12:00:00Z */
#define IDLE ((uint64_t)15 * 60)

static struct web_sessions ss; /* large: its tables */

static const struct user_info *
person(const char *login)
{
	static struct user_info u;

	memset(&u, 0, sizeof(u));
	(void)snprintf(u.login, sizeof(u.login), "%s", login);
	(void)snprintf(u.full_name, sizeof(u.full_name), "Awa Traoré");
	u.role = USER_CASEWORKER;
	(void)snprintf(u.lang, sizeof(u.lang), "fr");
	return &u;
}

static int
fresh(void **state)
{
	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.idle = IDLE;
	return sodium_init() < 0 ? -1 : 0;
}

static void
test_idle_logout(void **state)
{
	char cookie[WEB_TOKEN_HEX];
	struct web_session *s;

	(void)state;
	s = web_session_open(&ss, person("awa"), T0, cookie);
	assert_non_null(s);
	assert_ptr_equal(web_session_find(&ss, cookie, T0 + IDLE), s);
	/* each request refreshes it */
	assert_ptr_equal(web_session_find(&ss, cookie, T0 + 2 * IDLE), s);
	assert_null(web_session_find(&ss, cookie, T0 + 3 * IDLE + 1));
	/* and it is forgotten, not only refused this once */
	assert_null(web_session_find(&ss, cookie, T0 + 3 * IDLE));
	assert_false(s->used);
}

static void
test_max_age(void **state)
{
	char cookie[WEB_TOKEN_HEX];
	uint64_t t;

	(void)state;
	assert_non_null(web_session_open(&ss, person("awa"), T0, cookie));
	for (t = T0; t <= T0 + WEB_SESSION_MAX_AGE; t += 600)
		assert_non_null(web_session_find(&ss, cookie, t));
	assert_null(
	    web_session_find(&ss, cookie, T0 + WEB_SESSION_MAX_AGE + 1));
}

/* A clock set back (a laptop's battery died) ends the session rather
 * than stretching it. */
static void
test_clock_back(void **state)
{
	char cookie[WEB_TOKEN_HEX];

	(void)state;
	assert_non_null(web_session_open(&ss, person("awa"), T0, cookie));
	assert_null(web_session_find(&ss, cookie, T0 - 1));
}

static void
test_wrong_cookies(void **state)
{
	char cookie[WEB_TOKEN_HEX], other[WEB_TOKEN_HEX];

	(void)state;
	assert_non_null(web_session_open(&ss, person("awa"), T0, cookie));
	memcpy(other, cookie, sizeof(other));
	other[10] = other[10] == '0' ? '1' : '0';
	assert_null(web_session_find(&ss, other, T0));
	other[10] = 'g';
	assert_null(web_session_find(&ss, other, T0));
	other[63] = '\0';
	assert_null(web_session_find(&ss, other, T0));
	assert_null(web_session_find(&ss, "", T0));
	assert_null(web_session_find(&ss, NULL, T0));
	assert_non_null(web_session_find(&ss, cookie, T0));
}

static void
test_csrf(void **state)
{
	char cookie[WEB_TOKEN_HEX], token[WEB_TOKEN_HEX], again[WEB_TOKEN_HEX];
	struct web_session *s;

	(void)state;
	s = web_session_open(&ss, person("awa"), T0, cookie);
	assert_int_equal(strlen(s->csrf), WEB_TOKEN_HEX - 1);
	memcpy(token, s->csrf, sizeof(token));
	assert_true(web_session_csrf_ok(s, token));
	token[0] = token[0] == 'a' ? 'b' : 'a';
	assert_false(web_session_csrf_ok(s, token));
	assert_false(web_session_csrf_ok(s, NULL));
	assert_false(web_session_csrf_ok(s, ""));
	memcpy(token, s->csrf, sizeof(token));
	token[32] = '\0';
	assert_false(web_session_csrf_ok(s, token));
	/* the cookie is not the token, and another session has its own */
	assert_false(web_session_csrf_ok(s, cookie));
	assert_false(web_session_csrf_ok(
	    web_session_open(&ss, person("malick"), T0, again), s->csrf));
}

/* All slots taken: the least recently seen session goes, no other. */
static void
test_full_table(void **state)
{
	char cookies[WEB_SESSIONS_MAX + 1][WEB_TOKEN_HEX];

	(void)state;
	for (size_t i = 0; i <= WEB_SESSIONS_MAX; i++)
		assert_non_null(
		    web_session_open(&ss, person("awa"), T0 + i, cookies[i]));
	assert_null(web_session_find(&ss, cookies[0], T0 + WEB_SESSIONS_MAX));
	for (size_t i = 1; i <= WEB_SESSIONS_MAX; i++)
		assert_non_null(
		    web_session_find(&ss, cookies[i], T0 + WEB_SESSIONS_MAX));
}

static void
test_drop_user(void **state)
{
	char a1[WEB_TOKEN_HEX], a2[WEB_TOKEN_HEX], m[WEB_TOKEN_HEX];

	(void)state;
	assert_non_null(web_session_open(&ss, person("awa"), T0, a1));
	assert_non_null(web_session_open(&ss, person("awa"), T0, a2));
	assert_non_null(web_session_open(&ss, person("malick"), T0, m));
	web_session_drop_user(&ss, "awa");
	assert_null(web_session_find(&ss, a1, T0));
	assert_null(web_session_find(&ss, a2, T0));
	assert_non_null(web_session_find(&ss, m, T0));
}

static void
test_login_limiter(void **state)
{
	(void)state;
	for (int i = 0; i < WEB_LIMIT_FAILS; i++) {
		assert_true(
		    web_session_may_try(&ss, "10.0.0.7", T0 + (uint64_t)i));
		web_session_failed(&ss, "10.0.0.7", T0 + (uint64_t)i);
	}
	assert_false(web_session_may_try(&ss, "10.0.0.7", T0 + 60));
	assert_true(web_session_may_try(&ss, "10.0.0.8", T0 + 60));
	assert_true(
	    web_session_may_try(&ss, "10.0.0.7", T0 + WEB_LIMIT_WINDOW));
	web_session_failed(&ss, "10.0.0.8", T0);
	web_session_succeeded(&ss, "10.0.0.8");
	for (int i = 0; i < WEB_LIMIT_FAILS - 1; i++)
		web_session_failed(&ss, "10.0.0.8", T0 + 1);
	assert_true(web_session_may_try(&ss, "10.0.0.8", T0 + 2));
}

/* Failures from more addresses than the table holds do not free an
 * address that is being made to wait. */
static void
test_limiter_full_table(void **state)
{
	char addr[32];

	(void)state;
	for (int i = 0; i < WEB_LIMIT_FAILS; i++)
		web_session_failed(&ss, "10.0.0.7", T0);
	for (int i = 0; i < 4 * WEB_LIMITS_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		web_session_failed(&ss, addr, T0 + 1 + (uint64_t)i);
	}
	assert_false(web_session_may_try(&ss, "10.0.0.7", T0 + 300));
	/* Its window over, the waiting address may try again. */
	assert_true(
	    web_session_may_try(&ss, "10.0.0.7", T0 + WEB_LIMIT_WINDOW));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idle_logout, fresh),
		cmocka_unit_test_setup(test_max_age, fresh),
		cmocka_unit_test_setup(test_clock_back, fresh),
		cmocka_unit_test_setup(test_wrong_cookies, fresh),
		cmocka_unit_test_setup(test_csrf, fresh),
		cmocka_unit_test_setup(test_full_table, fresh),
		cmocka_unit_test_setup(test_drop_user, fresh),
		cmocka_unit_test_setup(test_login_limiter, fresh),
		cmocka_unit_test_setup(test_limiter_full_table, fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
