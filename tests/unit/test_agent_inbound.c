/*
 * test_agent_inbound.c: what the agent's daemon does with deliveries a
 * hostile broker makes up (agents/daemon/inbound.c), on a real vault: the
 * refusal is recorded in the audit chain, and no text from the forged
 * envelope that the strict decoder refuses reaches the audit (a sender id
 * with terminal escapes, say), nor a message id it claims. The daemon has no
 * connection here: its acknowledgements go nowhere, which inbound_deliver
 * tolerates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "agent_fixture.h"

#include "daemon/daemon.h"
#include "envelope.pb-c.h"
#include "text.h"
#include "wire.h"

struct world {
	struct fx *fx;
	struct agent a;
	struct daemon *d;
	char vdir[600];
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->fx = fx_new());
	(void)snprintf(w->a.home.dir, sizeof(w->a.home.dir), "%s", w->fx->dir);
	(void)snprintf(w->vdir, sizeof(w->vdir), "%s/vault", w->fx->dir);
	assert_int_equal(
	    vault_open(w->vdir, w->fx->ngo.keys, 1ull << 26, &w->a.vault, NULL),
	    0);
	w->a.me = w->fx->ngo.cert;
	w->a.keys = w->fx->ngo.keys;
	w->a.ca = w->fx->ca;
	assert_non_null(w->d = calloc(1, sizeof(*w->d)));
	w->d->a = &w->a;
	w->d->synced = true;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	vault_close(&w->a.vault);
	fx_rmdir(w->vdir);
	fx_free(w->fx);
	free(w->d);
	free(w);
	return 0;
}

/* An envelope whose header names sender, with a body of garbage. */
static void
forge(const char *sender, uint8_t **out, size_t *len)
{
	Sira__V1__EnvelopeHeader h = SIRA__V1__ENVELOPE_HEADER__INIT;
	Sira__V1__Envelope e = SIRA__V1__ENVELOPE__INIT;
	uint8_t msgid[16], certid[32], ct[64], *hb = NULL;
	size_t hlen = 0;

	randombytes_buf(msgid, sizeof(msgid));
	randombytes_buf(certid, sizeof(certid));
	randombytes_buf(ct, sizeof(ct));
	h.version = 1;
	h.message_id.data = msgid;
	h.message_id.len = 16;
	h.sender_agency_id = (char *)(uintptr_t)sender;
	h.sender_cert_id.data = certid;
	h.sender_cert_id.len = 32;
	h.created_at = FX_NOW;
	h.expires_at = FX_NOW + FX_DAY;
	assert_int_equal(wire_pack(&h.base, &hb, &hlen, NULL), 0);
	e.header.data = hb;
	e.header.len = hlen;
	e.body_ct.data = ct;
	e.body_ct.len = sizeof(ct);
	assert_int_equal(wire_pack(&e.base, out, len, NULL), 0);
	free(hb);
}

struct audit {
	size_t n;
	char counterpart[8][128];
	char action[8][32];
};

static int
take_audit(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct audit *au = ctx;
	Sira__V1__AuditEntry *e =
	    sira__v1__audit_entry__unpack(NULL, vlen, val);

	(void)key;
	(void)klen;
	assert_non_null(e);
	assert_true(au->n < 8);
	(void)snprintf(au->counterpart[au->n], sizeof(au->counterpart[0]), "%s",
	    e->counterpart);
	(void)snprintf(
	    au->action[au->n], sizeof(au->action[0]), "%s", e->action);
	au->n++;
	sira__v1__audit_entry__free_unpacked(e, NULL);
	return 0;
}

static void
read_audit(struct world *w, struct audit *au)
{
	struct vault_txn *t = NULL;
	uint64_t n = 0, bad = 0;

	memset(au, 0, sizeof(*au));
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	assert_int_equal(vault_each(t, VT_AUDIT, take_audit, au, NULL), 0);
	assert_int_equal(book_audit_verify(t, &n, &bad, NULL), 0);
	assert_int_equal(n, au->n);
	vault_abort(&t);
}

static void
deliver(struct world *w, const uint8_t *env, size_t len)
{
	Sira__V1__Deliver dl = SIRA__V1__DELIVER__INIT;

	dl.delivery_id = 7;
	dl.envelope.data = (uint8_t *)(uintptr_t)env;
	dl.envelope.len = len;
	inbound_deliver(w->d, &dl, FX_OPEN_AT);
}

/* A sender id with an escape sequence: refused, audited, but the audit
 * never holds the escape (it names no sender at all). */
static void
test_forged_sender_never_reaches_audit(void **state)
{
	struct world *w = *state;
	static const char evil[] = "ml.ngo.espoir\x1b]0;pwned\x07\x1b[2J";
	struct audit au;
	uint8_t *env = NULL;
	size_t len = 0;

	forge(evil, &env, &len);
	deliver(w, env, len);
	free(env);
	read_audit(w, &au);
	assert_int_equal(au.n, 1);
	assert_string_equal(au.action[0], "refused");
	assert_false(
	    text_has_control(au.counterpart[0], strlen(au.counterpart[0])));
	assert_null(strstr(au.counterpart[0], "pwned"));
	assert_int_equal(w->d->refused, 1);
}

/* Bytes that are no envelope at all: refused and audited, no sender. */
static void
test_garbage_is_audited(void **state)
{
	struct world *w = *state;
	struct audit au;
	uint8_t junk[200];

	randombytes_buf(junk, sizeof(junk));
	deliver(w, junk, sizeof(junk));
	deliver(w, junk, 0);
	read_audit(w, &au);
	assert_int_equal(au.n, 2);
	for (size_t i = 0; i < au.n; i++) {
		assert_string_equal(au.action[i], "refused");
		assert_string_equal(au.counterpart[i], "");
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_forged_sender_never_reaches_audit),
		T(test_garbage_is_audited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
