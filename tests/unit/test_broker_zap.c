/*
 * test_broker_zap.c: who may open a CurveZMQ session with the broker
 * (broker/zap.c), over real ZeroMQ sockets on tcp://127.0.0.1 with an
 * ephemeral port.
 *
 * A CA, its revocation list and agency certificates are made in memory (as
 * tests/unit/test_cert.c makes them); each agency's transport key is a
 * fresh CURVE key pair, so a client holding it is that agency. The
 * directory is built by hand the way directory.c builds it, so
 * directory_free() frees it. Each case runs in its own ZeroMQ context: a
 * ROUTER set up by zap_configure_server(), the ZAP handler of zap_start()
 * answered by zap_handle() from the test's poll loop, and a DEALER client
 * whose socket monitor tells how its handshake ended.
 *
 * The case that matters most is the Stonehouse trap of libzmq 4.3.4: a
 * CURVE server with no ZAP handler in its context lets every client in
 * unless ZMQ_ZAP_ENFORCE_DOMAIN is set. test_no_handler_refuses_all shows
 * our configuration refuses; test_stonehouse_control shows that the same
 * server without enforcement would have let the client in, so the first
 * test can fail. Every wait is bounded (WAIT_MS), so a failure cannot hang
 * the suite; a "nothing arrives" check polls for QUIET_MS after the
 * handshake has visibly failed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "directory.h"
#include "err.h"
#include "sign.h"
#include "zap.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define CA_NB UINT64_C(1767225600)    /* 2026-01-01T00:00:00Z */
#define CA_NA UINT64_C(2082758400)    /* 2036-01-01T00:00:00Z */
#define AG_NB UINT64_C(1769904000)    /* 2026-02-01T00:00:00Z */
#define AG_NA UINT64_C(1801440000)    /* 2027-02-01T00:00:00Z */
#define NOW UINT64_C(1772409600)      /* 2026-03-02T00:00:00Z */
#define CRL_THIS UINT64_C(1772323200) /* 2026-03-01T00:00:00Z */
#define CRL_NEXT UINT64_C(1772928000) /* 2026-03-08T00:00:00Z */
#define SHORT_NA (NOW + 3600)         /* the short-lived agency */

#define WAIT_MS 5000 /* the longest any case waits for an event */
#define QUIET_MS 300 /* how long "nothing arrives" is watched */
#define FAIL_EVENTS \
	(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | \
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* A CURVE identity: an agency's transport key pair, or a stranger's. */
struct ident {
	const char *agency_id; /* NULL for a stranger */
	char pk_z85[41], sk_z85[41];
	uint8_t pk[32];
};

enum { ID_OK, ID_REVOKED, ID_SHORT, ID_STRANGER, ID_N };

struct world {
	uint8_t ca_pk[SIRA_SIGN_PK_LEN], ca_sk[SIRA_SIGN_SK_LEN];
	struct ident id[ID_N];
	struct directory *dir;
	char srv_pk_z85[41], srv_sk_z85[41];
	uint8_t srv_pk[32], srv_sk[32];
};

/* A server: context, ZAP handler (or none), ROUTER and its monitor. */
struct srv {
	void *ctx, *zap, *router, *mon;
	char endpoint[256];
};

struct cli {
	void *sock, *mon;
};

/* What a poll loop saw. */
struct seen {
	int msgs;
	char payload[16];
	int has_user_id;
	char user_id[160];
	int zap_ok, zap_refused;
	struct zap_decision last;
	unsigned cli_events, srv_events;
	uint32_t srv_fail_value;
	int cli_told; /* a refusal is settled only once the client knows */
};

/* ---- certificates and the directory ---- */

static struct cert *
issue(const struct world *w, const struct cert *tmpl, int is_ca,
    const struct cert *ca)
{
	uint8_t *tbs = NULL, *raw = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen, rawlen;
	struct cert *c = NULL;
	struct sira_err err;

	assert_int_equal(cert_encode_tbs(tmpl, &tbs, &tbslen, NULL), 0);
	assert_int_equal(
	    sign_detached(w->ca_sk, SIRA_DS_CERT, tbs, tbslen, sig), 0);
	assert_int_equal(cert_encode(tbs, tbslen, sig, &raw, &rawlen, NULL), 0);
	sira_err_clear(&err);
	if (is_ca)
		assert_int_equal(cert_load_ca(raw, rawlen, NOW, &c, &err), 0);
	else
		assert_int_equal(
		    cert_verify(ca, NULL, bytes_of(raw, rawlen), NOW, &c, &err),
		    0);
	free(tbs);
	free(raw);
	return c;
}

static struct cert *
agency(const struct world *w, const struct cert *ca, const struct ident *id,
    uint64_t serial, enum sira_role role, uint64_t not_after)
{
	uint8_t spk[SIRA_SIGN_PK_LEN], ssk[SIRA_SIGN_SK_LEN];
	struct cert t;

	memset(&t, 0, sizeof(t));
	sign_keygen(spk, ssk);
	sodium_memzero(ssk, sizeof(ssk));
	(void)snprintf(t.agency_id, sizeof(t.agency_id), "%s", id->agency_id);
	(void)snprintf(
	    t.display_name, sizeof(t.display_name), "Agency %s", id->agency_id);
	t.serial = serial;
	memcpy(t.issuer_id, ca->id, SIRA_HASH_LEN);
	t.role = role;
	t.key_usage = cert_role_usage(role, false);
	t.not_before = AG_NB;
	t.not_after = not_after;
	memcpy(t.sign_pk, spk, sizeof(spk));
	t.has_transport = true;
	memcpy(t.transport_pk, id->pk, 32);
	return issue(w, &t, 0, ca);
}

static struct crl *
revoke(const struct world *w, const struct cert *ca, const struct cert *c)
{
	struct crl_entry e;
	uint8_t *tbs = NULL, *raw = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen, rawlen;
	struct crl *l = NULL;

	memset(&e, 0, sizeof(e));
	e.serial = c->serial;
	memcpy(e.cert_id, c->id, SIRA_HASH_LEN);
	e.revoked_at = CRL_THIS;
	e.reason = SIRA_REVOKE_KEY_COMPROMISE;
	assert_int_equal(crl_encode_tbs(&(struct crl_fields){ ca->id, 1,
					    CRL_THIS, CRL_NEXT, &e, 1 },
			     &tbs, &tbslen, NULL),
	    0);
	assert_int_equal(
	    sign_detached(w->ca_sk, SIRA_DS_CRL, tbs, tbslen, sig), 0);
	assert_int_equal(crl_encode(tbs, tbslen, sig, &raw, &rawlen, NULL), 0);
	assert_int_equal(crl_verify(ca, raw, rawlen, &l, NULL), 0);
	free(tbs);
	free(raw);
	return l;
}

static void
make_ident(struct ident *id, const char *agency_id)
{
	id->agency_id = agency_id;
	assert_int_equal(zmq_curve_keypair(id->pk_z85, id->sk_z85), 0);
	assert_non_null(zmq_z85_decode(id->pk, id->pk_z85));
}

static int
setup_world(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct directory *d;
	struct cert t;

	if (w == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	sign_keygen(w->ca_pk, w->ca_sk);
	memset(&t, 0, sizeof(t));
	(void)snprintf(t.agency_id, sizeof(t.agency_id), "ml.cnltp.ca");
	(void)snprintf(t.display_name, sizeof(t.display_name), "Test CA");
	t.role = SIRA_ROLE_COORDINATION;
	t.is_ca = true;
	t.key_usage = SIRA_KU_CA;
	t.not_before = CA_NB;
	t.not_after = CA_NA;
	memcpy(t.sign_pk, w->ca_pk, SIRA_SIGN_PK_LEN);
	d->ca = issue(w, &t, 1, NULL);

	make_ident(&w->id[ID_OK], "ml.police.bamako");
	make_ident(&w->id[ID_REVOKED], "ml.ngo.espoir");
	make_ident(&w->id[ID_SHORT], "ml.social.kayes");
	make_ident(&w->id[ID_STRANGER], NULL);
	/* As directory.c grows it: a malloc'd array of owned certificates. */
	d->certs = calloc(3, sizeof(*d->certs));
	if (d->certs == NULL)
		return -1;
	d->certs[d->n++] =
	    agency(w, d->ca, &w->id[ID_OK], 1, SIRA_ROLE_POLICE, AG_NA);
	d->certs[d->n++] =
	    agency(w, d->ca, &w->id[ID_REVOKED], 2, SIRA_ROLE_NGO, AG_NA);
	d->certs[d->n++] = agency(
	    w, d->ca, &w->id[ID_SHORT], 3, SIRA_ROLE_SOCIAL_SERVICES, SHORT_NA);
	/* Revoked after it was issued, as a SIGHUP reload would load it. */
	d->crl = revoke(w, d->ca, d->certs[1]);
	w->dir = d;

	assert_int_equal(zmq_curve_keypair(w->srv_pk_z85, w->srv_sk_z85), 0);
	assert_non_null(zmq_z85_decode(w->srv_pk, w->srv_pk_z85));
	assert_non_null(zmq_z85_decode(w->srv_sk, w->srv_sk_z85));
	*state = w;
	return 0;
}

static int
teardown_world(void **state)
{
	struct world *w = *state;

	directory_free(&w->dir);
	sodium_memzero(w, sizeof(*w));
	free(w);
	return 0;
}

/* ---- sockets ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *
monitor(void *ctx, void *sock, const char *name)
{
	int linger = 0;
	void *mon;

	assert_int_equal(zmq_socket_monitor(sock, name, ZMQ_EVENT_ALL), 0);
	assert_non_null(mon = zmq_socket(ctx, ZMQ_PAIR));
	assert_int_equal(
	    zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(zmq_connect(mon, name), 0);
	return mon;
}

/* A CURVE server; with_zap binds our handler, enforce keeps the option. */
static void
srv_start(struct srv *s, const struct world *w, int with_zap, int enforce)
{
	size_t len = sizeof(s->endpoint);
	struct sira_err err;
	int zero = 0;

	memset(s, 0, sizeof(*s));
	assert_non_null(s->ctx = zmq_ctx_new());
	if (with_zap) {
		sira_err_clear(&err);
		assert_int_equal(zap_start(s->ctx, &s->zap, &err), 0);
	}
	assert_non_null(s->router = zmq_socket(s->ctx, ZMQ_ROUTER));
	sira_err_clear(&err);
	assert_int_equal(
	    zap_configure_server(s->router, w->srv_sk, 65536, 1000, &err), 0);
	assert_int_equal(err.code, 0);
	if (!enforce)
		assert_int_equal(
		    zmq_setsockopt(
			s->router, ZMQ_ZAP_ENFORCE_DOMAIN, &zero, sizeof(zero)),
		    0);
	s->mon = monitor(s->ctx, s->router, "inproc://test-srv-mon");
	assert_int_equal(zmq_bind(s->router, "tcp://127.0.0.1:*"), 0);
	assert_int_equal(
	    zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, s->endpoint, &len), 0);
	assert_true(strncmp(s->endpoint, "tcp://127.0.0.1:", 16) == 0);
}

static void
srv_stop(struct srv *s)
{
	(void)zmq_socket_monitor(s->router, NULL, 0);
	assert_int_equal(zmq_close(s->mon), 0);
	assert_int_equal(zmq_close(s->router), 0);
	if (s->zap != NULL)
		assert_int_equal(zmq_close(s->zap), 0);
	assert_int_equal(zmq_ctx_term(s->ctx), 0);
}

/* A DEALER with id's key that has already queued one "ping". */
static void
cli_start(struct cli *c, void *ctx, const struct world *w,
    const struct ident *id, const char *endpoint)
{
	int linger = 0;

	assert_non_null(c->sock = zmq_socket(ctx, ZMQ_DEALER));
	assert_int_equal(
	    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, w->srv_pk_z85, 40), 0);
	assert_int_equal(
	    zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, id->pk_z85, 40), 0);
	assert_int_equal(
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, id->sk_z85, 40), 0);
	c->mon = monitor(ctx, c->sock, "inproc://test-cli-mon");
	assert_int_equal(zmq_connect(c->sock, endpoint), 0);
	assert_int_equal(zmq_send(c->sock, "ping", 4, ZMQ_DONTWAIT), 4);
}

static void
cli_stop(struct cli *c)
{
	(void)zmq_socket_monitor(c->sock, NULL, 0);
	assert_int_equal(zmq_close(c->mon), 0);
	assert_int_equal(zmq_close(c->sock), 0);
}

/* One monitor event: its number, and its value into *value. */
static unsigned
read_event(void *mon, uint32_t *value)
{
	uint8_t buf[6];
	char ep[256];
	uint16_t ev;
	int more = 0;
	size_t ml = sizeof(more);

	assert_int_equal(zmq_recv(mon, buf, sizeof(buf), 0), 6);
	memcpy(&ev, buf, 2);
	memcpy(value, buf + 2, 4);
	assert_int_equal(zmq_getsockopt(mon, ZMQ_RCVMORE, &more, &ml), 0);
	assert_int_equal(more, 1);
	assert_true(zmq_recv(mon, ep, sizeof(ep), 0) >= 0);
	return ev;
}

/* Everything waiting on the router: [routing id][payload]. */
static void
read_router(void *router, struct seen *x)
{
	zmq_msg_t id, m;
	const char *uid;
	size_t len;

	zmq_msg_init(&id);
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&id, router, 0) >= 0);
	assert_true(zmq_msg_more(&id));
	assert_true(zmq_msg_recv(&m, router, 0) >= 0);
	assert_false(zmq_msg_more(&m));
	len = zmq_msg_size(&m) < sizeof(x->payload) - 1 ?
	    zmq_msg_size(&m) :
	    sizeof(x->payload) - 1;
	memcpy(x->payload, zmq_msg_data(&m), len);
	x->payload[len] = '\0';
	if ((uid = zmq_msg_gets(&m, "User-Id")) != NULL) {
		x->has_user_id = 1;
		(void)snprintf(x->user_id, sizeof(x->user_id), "%s", uid);
	}
	x->msgs++;
	zmq_msg_close(&id);
	zmq_msg_close(&m);
}

typedef int (*until_fn)(const struct seen *);

/* Both ends saw the handshake succeed, and the message arrived. */
static int
settled_in(const struct seen *x)
{
	return x->msgs > 0 &&
	    (x->cli_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 &&
	    (x->srv_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0;
}

/*
 * The server saw the handshake fail, and the client too when it is told:
 * a ZAP refusal reaches the client as an ERROR command (400), but with no
 * handler at all libzmq 4.3.4 just stops the handshake and tells the
 * client nothing (it learns only at the handshake timeout).
 */
static int
settled_out(const struct seen *x)
{
	return (x->srv_events & FAIL_EVENTS) != 0 &&
	    (!x->cli_told || (x->cli_events & FAIL_EVENTS) != 0);
}

static int
settled(const struct seen *x)
{
	return settled_in(x) || settled_out(x);
}

/*
 * Poll server, ZAP handler and both monitors, answering ZAP with the
 * world's directory at time `at`, until `until` holds or ms have passed.
 * Returns whether `until` held.
 */
static int
pump(struct srv *s, struct cli *c, const struct world *w, uint64_t at, int ms,
    until_fn until, struct seen *x)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		zmq_pollitem_t it[4] = { { s->router, 0, ZMQ_POLLIN, 0 },
			{ s->mon, 0, ZMQ_POLLIN, 0 },
			{ c->mon, 0, ZMQ_POLLIN, 0 },
			{ s->zap, 0, ZMQ_POLLIN, 0 } };
		int n = s->zap != NULL ? 4 : 3;
		uint64_t t = now_ms();
		uint32_t v;

		if (until != NULL && until(x))
			return 1;
		if (t >= end)
			return 0;
		assert_true(
		    zmq_poll(it, n, (long)(end - t < 50 ? end - t : 50)) >= 0);
		if (it[0].revents & ZMQ_POLLIN)
			read_router(s->router, x);
		if (it[1].revents & ZMQ_POLLIN) {
			unsigned ev = read_event(s->mon, &v);
			x->srv_events |= ev;
			if (ev & FAIL_EVENTS)
				x->srv_fail_value = v;
		}
		if (it[2].revents & ZMQ_POLLIN)
			x->cli_events |= read_event(c->mon, &v);
		if (n == 4 && (it[3].revents & ZMQ_POLLIN)) {
			struct zap_decision dec;
			struct sira_err err;
			sira_err_clear(&err);
			assert_int_equal(
			    zap_handle(s->zap, w->dir, at, &dec, &err), 0);
			if (dec.accepted)
				x->zap_ok++;
			else
				x->zap_refused++;
			x->last = dec;
		}
	}
}

/*
 * One connection attempt by identity id against a fresh server (its own
 * context, so nothing of an earlier attempt can leak into this one): with
 * or without our ZAP handler, with or without enforcement; the handler's
 * clock says `at`. Waits until both ends agree on the outcome; when the
 * handshake failed, watches QUIET_MS more for a message that must not come.
 */
static void
attempt(const struct world *w, int with_zap, int enforce,
    const struct ident *id, uint64_t at, struct seen *x)
{
	struct srv s;
	struct cli c;

	memset(x, 0, sizeof(*x));
	x->cli_told = with_zap;
	srv_start(&s, w, with_zap, enforce);
	cli_start(&c, s.ctx, w, id, s.endpoint);
	(void)pump(&s, &c, w, at, WAIT_MS, settled, x);
	assert_true(settled(x));
	if (!settled_in(x))
		(void)pump(&s, &c, w, at, QUIET_MS, NULL, x);
	cli_stop(&c);
	srv_stop(&s);
}

static void
expect_accepted(const struct seen *x, const struct ident *id)
{
	assert_int_equal(x->msgs, 1);
	assert_string_equal(x->payload, "ping");
	assert_true(x->has_user_id);
	/* "<agency id>/<cert id in hex>": the session names its certificate. */
	{
		size_t alen = strlen(id->agency_id);
		assert_int_equal(strlen(x->user_id), alen + 1 + 64);
		assert_memory_equal(x->user_id, id->agency_id, alen);
		assert_int_equal(x->user_id[alen], '/');
		for (size_t i = alen + 1; i < alen + 65; i++)
			assert_non_null(
			    strchr("0123456789abcdef", x->user_id[i]));
	}
	assert_true(x->zap_ok >= 1);
	assert_int_equal(x->zap_refused, 0);
	assert_true(x->last.accepted);
	assert_string_equal(x->last.agency_id, id->agency_id);
	assert_memory_equal(x->last.key, id->pk, 32);
	assert_string_equal(x->last.address, "127.0.0.1");
	assert_true((x->cli_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0);
}

/* Refused by our ZAP handler: a 400, seen by both ends as an auth failure. */
static void
expect_refused_by_zap(const struct seen *x, const struct ident *id)
{
	assert_int_equal(x->msgs, 0);
	assert_int_equal(x->zap_ok, 0);
	assert_true(x->zap_refused >= 1);
	assert_false(x->last.accepted);
	assert_string_equal(x->last.agency_id, "");
	assert_memory_equal(x->last.key, id->pk, 32);
	assert_true((x->cli_events & ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0);
	assert_true((x->srv_events & ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0);
	assert_int_equal(x->srv_fail_value, 400);
	assert_int_equal(x->cli_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
	assert_int_equal(x->srv_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
}

/* ---- (a) .. (e) ---- */

static void
test_known_agency_accepted(void **state)
{
	struct world *w = *state;
	struct seen x;

	attempt(w, 1, 1, &w->id[ID_OK], NOW, &x);
	expect_accepted(&x, &w->id[ID_OK]);
}

static void
test_unknown_key_refused(void **state)
{
	struct world *w = *state;
	struct seen x;

	attempt(w, 1, 1, &w->id[ID_STRANGER], NOW, &x);
	expect_refused_by_zap(&x, &w->id[ID_STRANGER]);
}

static void
test_revoked_refused(void **state)
{
	struct world *w = *state;
	struct seen x;

	attempt(w, 1, 1, &w->id[ID_REVOKED], NOW, &x);
	expect_refused_by_zap(&x, &w->id[ID_REVOKED]);
}

static void
test_expired_refused(void **state)
{
	struct world *w = *state;
	struct seen x;

	/* Valid at NOW and at its last second... */
	attempt(w, 1, 1, &w->id[ID_SHORT], NOW, &x);
	expect_accepted(&x, &w->id[ID_SHORT]);
	attempt(w, 1, 1, &w->id[ID_SHORT], SHORT_NA, &x);
	expect_accepted(&x, &w->id[ID_SHORT]);
	/* ...refused one second later, and before its window opens. */
	attempt(w, 1, 1, &w->id[ID_SHORT], SHORT_NA + 1, &x);
	expect_refused_by_zap(&x, &w->id[ID_SHORT]);
	attempt(w, 1, 1, &w->id[ID_OK], AG_NA + 1, &x);
	expect_refused_by_zap(&x, &w->id[ID_OK]);
	attempt(w, 1, 1, &w->id[ID_OK], AG_NB - SIRA_CLOCK_SKEW - 1, &x);
	expect_refused_by_zap(&x, &w->id[ID_OK]);
	attempt(w, 1, 1, &w->id[ID_OK], AG_NB - SIRA_CLOCK_SKEW, &x);
	expect_accepted(&x, &w->id[ID_OK]);
}

/* (d): no ZAP handler in the context, enforcement on: nobody gets in. */
static void
test_no_handler_refuses_all(void **state)
{
	static const int who[] = { ID_OK, ID_STRANGER, ID_REVOKED };
	struct world *w = *state;
	struct seen x;

	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		attempt(w, 0, 1, &w->id[who[i]], NOW, &x);
		assert_int_equal(x.msgs, 0);
		assert_int_equal(x.zap_ok + x.zap_refused, 0);
		assert_int_equal(
		    x.cli_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
		assert_int_equal(
		    x.srv_events & ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
		/* libzmq's enforcement path: no handler -> EFAULT. */
		assert_true(
		    (x.srv_events & ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0);
		assert_int_equal(x.srv_fail_value, EFAULT);
	}
}

/* The trap itself: without enforcement, a stranger gets in. */
static void
test_stonehouse_control(void **state)
{
	struct world *w = *state;
	struct seen x;

	attempt(w, 0, 0, &w->id[ID_STRANGER], NOW, &x);
	assert_int_equal(x.msgs, 1);
	assert_string_equal(x.payload, "ping");
	assert_false(x.has_user_id);
	assert_int_equal(x.zap_ok + x.zap_refused, 0);
}

static void
test_self_test(void **state)
{
	struct world *w = *state;
	struct sira_err err;
	struct srv s, open;

	/* Against a properly set up server: the unknown key is refused. */
	srv_start(&s, w, 1, 1);
	sira_err_clear(&err);
	assert_int_equal(
	    zap_self_test(&(struct zap_server){ s.ctx, s.endpoint, w->srv_pk },
		s.zap, w->dir, NOW, &err),
	    0);
	assert_int_equal(err.code, 0);
	/*
	 * Against a server that lets anyone in (Stonehouse: no handler, no
	 * enforcement): the self-test must refuse to pass. The directory can
	 * never hold the self-test's fresh random key, so this is the way to
	 * make that key get in. The self-test's client runs in the open
	 * server's context: its monitor endpoint name is fixed, and the
	 * first run's is released asynchronously (a second run in the same
	 * context right away can fail with EADDRINUSE, reported as EIO).
	 */
	srv_start(&open, w, 0, 0);
	sira_err_clear(&err);
	assert_int_equal(zap_self_test(&(struct zap_server){ open.ctx,
					   open.endpoint, w->srv_pk },
			     s.zap, w->dir, NOW, &err),
	    -SIRA_EDENIED);
	assert_int_equal(err.code, SIRA_EDENIED);
	srv_stop(&open);
	srv_stop(&s);
}

/* ---- (f) malformed requests straight to the handler ---- */

struct frame {
	const void *p;
	size_t len;
};

#define F(s) \
	{ \
		s, sizeof(s) - 1 \
	}

/* Send frames on req, let zap_handle answer, and read the reply. */
static void
zap_roundtrip(void *req, void *zap, const struct world *w,
    const struct frame *f, size_t n, const char *want_code,
    const char *want_user)
{
	zmq_pollitem_t it = { zap, 0, ZMQ_POLLIN, 0 };
	zmq_pollitem_t ir = { req, 0, ZMQ_POLLIN, 0 };
	struct zap_decision dec;
	struct sira_err err;
	char buf[8][300];
	int len[8], more = 1;
	size_t nr = 0, ml = sizeof(more);

	for (size_t i = 0; i < n; i++)
		assert_int_equal(zmq_send(req, f[i].p, f[i].len,
				     i + 1 < n ? ZMQ_SNDMORE : 0),
		    (int)f[i].len);
	assert_int_equal(zmq_poll(&it, 1, WAIT_MS), 1);
	sira_err_clear(&err);
	assert_int_equal(zap_handle(zap, w->dir, NOW, &dec, &err), 0);
	assert_int_equal(dec.accepted, strcmp(want_code, "200") == 0);
	assert_int_equal(zmq_poll(&ir, 1, WAIT_MS), 1);
	while (more) {
		assert_true(nr < 8);
		len[nr] = zmq_recv(req, buf[nr], sizeof(buf[nr]), 0);
		assert_true(len[nr] >= 0 && len[nr] <= (int)sizeof(buf[nr]));
		assert_int_equal(
		    zmq_getsockopt(req, ZMQ_RCVMORE, &more, &ml), 0);
		nr++;
	}
	/* RFC 27: version, request id, status, text, user id, metadata. */
	assert_int_equal(nr, 6);
	assert_int_equal(len[0], 3);
	assert_memory_equal(buf[0], "1.0", 3);
	if (n >= 2) {
		assert_int_equal(len[1], (int)f[1].len);
		assert_memory_equal(buf[1], f[1].p, f[1].len);
	} else {
		assert_int_equal(len[1], 0);
	}
	assert_int_equal(len[2], 3);
	assert_memory_equal(buf[2], want_code, 3);
	if (want_user[0] == '\0') {
		assert_int_equal(len[4], 0);
	} else {
		/* Accepted: "<agency id>/<64 hex digits of its cert id>". */
		assert_int_equal(len[4], (int)strlen(want_user) + 65);
		assert_memory_equal(buf[4], want_user, strlen(want_user));
		assert_int_equal(buf[4][strlen(want_user)], '/');
	}
	assert_int_equal(len[5], 0);
}

static void
test_malformed_requests(void **state)
{
	struct world *w = *state;
	const uint8_t *ok = w->id[ID_OK].pk, *stranger = w->id[ID_STRANGER].pk;
	uint8_t big[1000];
	struct frame good[7] = { F("1.0"), F("req-1"), F("sira"),
		F("127.0.0.1"), F("identity"), F("CURVE"), { ok, 32 } };
	struct frame f[9];
	struct zap_decision dec;
	struct sira_err err;
	void *ctx, *zap = NULL, *req;
	int linger = 0;

	memset(big, 'a', sizeof(big));
	assert_non_null(ctx = zmq_ctx_new());
	assert_int_equal(zap_start(ctx, &zap, NULL), 0);
	/* Nothing waiting: not an error, just nothing to do. */
	sira_err_clear(&err);
	assert_int_equal(
	    zap_handle(zap, w->dir, NOW, &dec, &err), -SIRA_ENOTFOUND);
	assert_non_null(req = zmq_socket(ctx, ZMQ_REQ));
	assert_int_equal(
	    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(zmq_connect(req, ZAP_ENDPOINT), 0);

	/* The well-formed request, then the same with one thing wrong. */
	zap_roundtrip(req, zap, w, good, 7, "200", "ml.police.bamako");
	memcpy(f, good, sizeof(good));
	f[6].p = stranger;
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[0] = (struct frame)F("2.0");
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[0] = (struct frame)F("1.00");
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[5] = (struct frame)F("PLAIN");
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[5] = (struct frame)F("NULL");
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[2] = (struct frame)F("other");
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[6].len = 31;
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	/* A known key with one byte more. */
	memcpy(big, ok, 32);
	memcpy(f, good, sizeof(good));
	f[6] = (struct frame){ big, 33 };
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memset(big, 'a', sizeof(big));
	f[6].len = 0;
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	/* Too few frames, down to one; too many. */
	memcpy(f, good, sizeof(good));
	for (size_t n = 6; n >= 1; n--)
		zap_roundtrip(req, zap, w, f, n, "400", "");
	f[7] = (struct frame){ ok, 32 };
	zap_roundtrip(req, zap, w, f, 8, "400", "");
	f[8] = (struct frame)F("x");
	zap_roundtrip(req, zap, w, f, 9, "400", "");
	/* Every frame empty; a huge address and request id. */
	for (size_t i = 0; i < 7; i++)
		f[i] = (struct frame){ "", 0 };
	zap_roundtrip(req, zap, w, f, 7, "400", "");
	memcpy(f, good, sizeof(good));
	f[3] = (struct frame){ big, sizeof(big) };
	zap_roundtrip(req, zap, w, f, 7, "200", "ml.police.bamako");
	f[1] = (struct frame){ big, 255 };
	zap_roundtrip(req, zap, w, f, 7, "200", "ml.police.bamako");
	/* Still answering properly after all that. */
	zap_roundtrip(req, zap, w, good, 7, "200", "ml.police.bamako");

	assert_int_equal(zmq_close(req), 0);
	assert_int_equal(zmq_close(zap), 0);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_agency_accepted),
		cmocka_unit_test(test_unknown_key_refused),
		cmocka_unit_test(test_revoked_refused),
		cmocka_unit_test(test_expired_refused),
		cmocka_unit_test(test_no_handler_refuses_all),
		cmocka_unit_test(test_stonehouse_control),
		cmocka_unit_test(test_self_test),
		cmocka_unit_test(test_malformed_requests),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "zap", tests, setup_world, teardown_world);
}
