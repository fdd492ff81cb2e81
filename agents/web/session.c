/*
 * session.c: who is logged in to the web interface. A session is 32
 * random bytes, known to the browser as an HttpOnly, SameSite=Strict
 * cookie and kept here only in memory: restarting `sira-agent web` logs
 * everyone out. Each session has its own CSRF token, sent in every form
 * and compared in constant time. Sessions end after WEB_SESSION_MAX_AGE,
 * or after the configured idle time. The login limiter counts failures
 * per client address (the account lockout in store/users.c counts them
 * per account).
 */
#include <string.h>

#include <sodium.h>

#include "web/web.h"

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
	(void)sodium_bin2hex(out, n * 2 + 1, b, n);
}

struct web_session *
web_session_open(struct web_sessions *ss, const struct user_info *u,
    uint64_t now, char cookie[WEB_TOKEN_HEX])
{
	struct web_session *s = NULL, *oldest = &ss->s[0];
	uint8_t csrf[32];

	for (size_t i = 0; i < WEB_SESSIONS_MAX && s == NULL; i++) {
		if (!ss->s[i].used)
			s = &ss->s[i];
		else if (ss->s[i].seen < oldest->seen)
			oldest = &ss->s[i];
	}
	if (s == NULL)
		s = oldest;
	web_session_close(s);
	randombytes_buf(s->id, sizeof(s->id));
	randombytes_buf(csrf, sizeof(csrf));
	to_hex(csrf, sizeof(csrf), s->csrf);
	sodium_memzero(csrf, sizeof(csrf));
	(void)snprintf(s->login, sizeof(s->login), "%s", u->login);
	(void)snprintf(s->full_name, sizeof(s->full_name), "%s", u->full_name);
	(void)snprintf(s->lang, sizeof(s->lang), "%s",
	    strcmp(u->lang, "en") == 0 ? "en" : "fr");
	s->role = u->role;
	s->created = s->seen = now;
	s->used = true;
	to_hex(s->id, sizeof(s->id), cookie);
	return s;
}

struct web_session *
web_session_find(struct web_sessions *ss, const char *cookie, uint64_t now)
{
	uint8_t id[32];
	size_t n = 0;

	if (cookie == NULL || strlen(cookie) != 64 ||
	    sodium_hex2bin(id, sizeof(id), cookie, 64, NULL, &n, NULL) != 0 ||
	    n != sizeof(id))
		return NULL;
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &ss->s[i];
		if (!s->used || sodium_memcmp(s->id, id, sizeof(id)) != 0)
			continue;
		if (now > s->seen + ss->idle ||
		    now > s->created + WEB_SESSION_MAX_AGE ||
		    now < s->created) {
			web_session_close(s);
			return NULL;
		}
		s->seen = now;
		return s;
	}
	return NULL;
}

void
web_session_close(struct web_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

bool
web_session_csrf_ok(const struct web_session *s, const char *token)
{
	size_t n = strlen(s->csrf);

	return token != NULL && n == WEB_TOKEN_HEX - 1 && strlen(token) == n &&
	    sodium_memcmp(s->csrf, token, n) == 0;
}

/* Which record a new address may take: an empty or expired one first,
 * then the one with the fewest failures (the oldest of those), so that
 * failures from many other addresses cannot push out the record of one
 * that is being made to wait. */
static bool
limit_evicts_before(
    const struct web_limit *a, const struct web_limit *b, uint64_t now)
{
	bool a_free = a->addr[0] == '\0' || now >= a->since + WEB_LIMIT_WINDOW;
	bool b_free = b->addr[0] == '\0' || now >= b->since + WEB_LIMIT_WINDOW;

	if (a_free != b_free)
		return a_free;
	if (a->fails != b->fails)
		return a->fails < b->fails;
	return a->since < b->since;
}

static struct web_limit *
limit_slot(struct web_sessions *ss, const char *addr, bool make, uint64_t now)
{
	struct web_limit *victim = &ss->lim[0];

	for (size_t i = 0; i < WEB_LIMITS_MAX; i++) {
		struct web_limit *l = &ss->lim[i];
		if (l->addr[0] != '\0' && strcmp(l->addr, addr) == 0)
			return l;
		if (limit_evicts_before(l, victim, now))
			victim = l;
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	(void)snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->since = now;
	return victim;
}

bool
web_session_may_try(struct web_sessions *ss, const char *addr, uint64_t now)
{
	struct web_limit *l = limit_slot(ss, addr, false, now);

	if (l == NULL)
		return true;
	if (now >= l->since + WEB_LIMIT_WINDOW) {
		memset(l, 0, sizeof(*l));
		return true;
	}
	return l->fails < WEB_LIMIT_FAILS;
}

void
web_session_failed(struct web_sessions *ss, const char *addr, uint64_t now)
{
	struct web_limit *l = limit_slot(ss, addr, true, now);

	if (now >= l->since + WEB_LIMIT_WINDOW) {
		l->fails = 0;
		l->since = now;
	}
	l->fails++;
}

void
web_session_succeeded(struct web_sessions *ss, const char *addr)
{
	struct web_limit *l = limit_slot(ss, addr, false, 0);

	if (l != NULL)
		memset(l, 0, sizeof(*l));
}

void
web_session_drop_user(struct web_sessions *ss, const char *login)
{
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
		if (ss->s[i].used && strcmp(ss->s[i].login, login) == 0)
			web_session_close(&ss->s[i]);
}
