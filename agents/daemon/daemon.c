/*
 * daemon.c: `sira-agent run`, the loop that keeps an agency connected.
 *
 * On every new connection it says Hello; on Welcome it fetches the
 * directory (certificates, prekeys, revocation list, all verified here),
 * publishes the agency's current prekey, and pumps the outbox. It rotates
 * prekeys on schedule and deletes their secrets after the retention
 * period, after which old captured envelopes can no longer be opened. It
 * never logs message contents. Everything it knows worth showing goes to
 * HOME/status.json for `sira-agent status`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "fileio.h"
#include "log.h"
#include "store/store.h"
#include "crypto/crypto.h"
#include "wire.h"

#define HEARTBEAT 5
#define DIR_EVERY 600
#define PUMP_EVERY 1
#define PENDING_TTL 20 /* an answer this late is not coming */

void
daemon_expect(struct daemon *d, uint64_t request_id, enum pending_kind kind,
    const uint8_t *id, uint64_t now)
{
	struct pending *p;

	if (d->n_pending == DAEMON_PENDING_MAX) {
		/* Forget the oldest: its answer, if any, is ignored. */
		memmove(d->pending, d->pending + 1,
		    (DAEMON_PENDING_MAX - 1) * sizeof(*p));
		d->n_pending--;
	}
	p = &d->pending[d->n_pending++];
	memset(p, 0, sizeof(*p));
	p->request_id = request_id;
	p->kind = kind;
	if (id != NULL)
		memcpy(p->id, id, 16);
	p->sent_at = now;
	p->ttl = PENDING_TTL;
}

bool
daemon_pending_has(struct daemon *d, enum pending_kind kind, const uint8_t *id)
{
	for (size_t i = 0; i < d->n_pending; i++)
		if (d->pending[i].kind == kind &&
		    memcmp(d->pending[i].id, id, 16) == 0)
			return true;
	return false;
}

bool
daemon_pending_kind(struct daemon *d, enum pending_kind kind)
{
	for (size_t i = 0; i < d->n_pending; i++)
		if (d->pending[i].kind == kind)
			return true;
	return false;
}

size_t
daemon_pending_count(const struct daemon *d, enum pending_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_pending; i++)
		n += d->pending[i].kind == kind;
	return n;
}

/*
 * Forget requests unanswered for their time (PENDING_TTL; a submission
 * also its transfer time on a slow link): the broker may have refused
 * them without naming them (a rate-limit Nack comes before the frame is
 * read), and a request still pending is never sent again. A late answer
 * is then ignored; the request is simply made again.
 */
static void
expire_pending(struct daemon *d, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < d->n_pending; i++)
		if (now - d->pending[i].sent_at < d->pending[i].ttl)
			d->pending[j++] = d->pending[i];
	d->n_pending = j;
}

/* Remove and return the pending request answered by request_id. */
static bool
take_pending(struct daemon *d, uint64_t request_id, struct pending *out)
{
	for (size_t i = 0; i < d->n_pending; i++) {
		if (d->pending[i].request_id != request_id)
			continue;
		*out = d->pending[i];
		memmove(&d->pending[i], &d->pending[i + 1],
		    (d->n_pending - i - 1) * sizeof(*out));
		d->n_pending--;
		return true;
	}
	return false;
}

void
daemon_alarm(struct daemon *d, const char *what)
{
	(void)snprintf(d->alarm, sizeof(d->alarm), "%s", what);
	log_event(LOG_ERROR, "alarm", "what=%s", what);
}

int
daemon_request_directory(struct daemon *d, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__DirectoryRequest q = SIRA__V1__DIRECTORY_REQUEST__INIT;
	uint64_t req;
	int rc;

	f.body_case = SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST;
	f.directory_request = &q;
	if ((rc = link_send(&d->link, &f, &req)) == 0)
		daemon_expect(d, req, P_DIRECTORY, NULL, now);
	return rc;
}

/* Say why: without a current revocation list nothing can be trusted, and
 * the operator must hear that, not a vague "did not verify". */
static void
log_refused(struct daemon *d, size_t refused, uint64_t now)
{
	struct sira_err why;

	sira_err_clear(&why);
	if (peers_crl_fresh(d->a, now, &why) != 0)
		log_event(LOG_WARN, "directory.refused",
		    "items=%zu reason=%s (the broker must serve the CA's "
		    "current list: sira-broker run --crl FILE)",
		    refused, why.msg);
	else
		log_event(LOG_WARN, "directory.refused",
		    "items=%zu reason=did not verify against the CA", refused);
}

static void
take_directory(
    struct daemon *d, const Sira__V1__DirectoryResponse *r, uint64_t now)
{
	struct vault_txn *t = NULL;
	struct sira_err err;
	size_t refused = 0;

	if (vault_begin(d->a->vault, true, &t, &err) == 0 &&
	    peers_take(d->a, t, r, now, &refused, &err) == 0 &&
	    vault_commit(&t, &err) == 0) {
		d->last_dir = now;
		d->synced = true;
		d->crl_wait = peers_crl_fresh(d->a, now, NULL) != 0;
		log_event(LOG_INFO, "directory.synced",
		    "certs=%zu prekeys=%zu refused=%zu", r->n_certs,
		    r->n_prekeys, refused);
		if (refused > 0)
			log_refused(d, refused, now);
	} else
		log_event(LOG_ERROR, "directory.failed", "reason=%s", err.msg);
	vault_abort(&t);
}

/* Settings of the prekey schedule (seconds). */
struct schedule {
	uint64_t rotate;
	uint64_t retain;
};

struct prekey_scan {
	uint64_t now, retain;
	uint8_t newest_id[SIRA_PREKEY_ID_LEN];
	uint64_t newest_nb;
	bool newest_published;
	/* Every secret past retention, however many (owned, freed by
	 * prekeys()). */
	uint8_t (*expired)[SIRA_PREKEY_ID_LEN];
	size_t n_expired, cap;
};

static int
note_expired(struct prekey_scan *s, const uint8_t *key)
{
	if (s->n_expired == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *grown = realloc(s->expired, cap * sizeof(*s->expired));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		s->expired = grown;
		s->cap = cap;
	}
	memcpy(s->expired[s->n_expired++], key, SIRA_PREKEY_ID_LEN);
	return 0;
}

static int
scan_prekey(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct prekey_scan *s = ctx;
	Sira__V1__PrekeySecret *ps;
	int rc = 0;

	if (klen != SIRA_PREKEY_ID_LEN ||
	    (ps = sira__v1__prekey_secret__unpack(NULL, vlen, val)) == NULL)
		return 0;
	if (ps->not_after + s->retain < s->now)
		rc = note_expired(s, key);
	else if (ps->not_before >= s->newest_nb) {
		s->newest_nb = ps->not_before;
		memcpy(s->newest_id, key, klen);
		s->newest_published = ps->published;
	}
	sodium_memzero(ps->sk.data, ps->sk.len);
	sira__v1__prekey_secret__free_unpacked(ps, NULL);
	return rc; /* -SIRA_ENOMEM stops the scan rather than miss one */
}

static int
store_prekey(struct vault_txn *t, const struct prekey *pub,
    const struct prekey_secret *sec, struct sira_err *err)
{
	Sira__V1__PrekeySecret ps = SIRA__V1__PREKEY_SECRET__INIT;
	uint8_t *bytes;
	size_t len;
	int rc;

	ps.key_id.data = (uint8_t *)(uintptr_t)sec->key_id;
	ps.key_id.len = SIRA_PREKEY_ID_LEN;
	ps.pk.data = (uint8_t *)(uintptr_t)sec->pk;
	ps.pk.len = 32;
	ps.sk.data = (uint8_t *)(uintptr_t)sec->sk;
	ps.sk.len = 32;
	ps.cert_id.data = (uint8_t *)(uintptr_t)pub->owner_cert_id;
	ps.cert_id.len = 32;
	ps.not_before = pub->not_before;
	ps.not_after = pub->not_after;
	ps.signed_prekey.data = pub->raw;
	ps.signed_prekey.len = pub->raw_len;
	if ((rc = wire_pack(&ps.base, &bytes, &len, err)) != 0)
		return rc;
	rc = vault_put(
	    t, VT_PREKEYS, sec->key_id, SIRA_PREKEY_ID_LEN, bytes, len, err);
	sodium_memzero(bytes, len);
	free(bytes);
	return rc;
}

/* Delete expired secrets; make a new prekey when the newest is old. */
static int
maintain_prekeys(struct daemon *d, struct vault_txn *t,
    const struct schedule *sc, uint64_t now, struct prekey_scan *s,
    struct sira_err *err)
{
	struct prekey *pub = NULL;
	struct prekey_secret *sec = NULL;
	int rc = 0;

	s->now = now;
	s->retain = sc->retain;
	if ((rc = vault_each(t, VT_PREKEYS, scan_prekey, s, err)) != 0)
		return rc == -SIRA_ENOMEM ?
		    sira_err_set(err, SIRA_ENOMEM, "out of memory") :
		    rc;
	for (size_t i = 0; i < s->n_expired && rc == 0; i++) {
		if ((rc = vault_del(t, VT_PREKEYS, s->expired[i],
			 SIRA_PREKEY_ID_LEN, err)) == 0)
			rc = book_audit(t, now, "prekey-deleted",
			    d->a->me->agency_id, NULL, 0, err);
		if (rc == 0)
			log_event(LOG_INFO, "prekey.deleted",
			    "reason=retention over: old messages sealed to it can no longer be opened");
	}
	if (rc != 0 || (s->newest_nb != 0 && now - s->newest_nb < sc->rotate))
		return rc;
	/* Senders may use a prekey for two rotation periods. */
	if ((rc = prekey_generate(d->a->me, d->a->keys, now, 2 * sc->rotate,
		 &pub, &sec, err)) == 0 &&
	    (rc = store_prekey(t, pub, sec, err)) == 0 &&
	    (rc = book_audit(t, now, "prekey-made", d->a->me->agency_id, NULL,
		 0, err)) == 0) {
		memcpy(s->newest_id, sec->key_id, SIRA_PREKEY_ID_LEN);
		s->newest_nb = now;
		s->newest_published = false;
	}
	prekey_destroy(&pub);
	prekey_secret_destroy(&sec);
	return rc;
}

static void
publish_prekey(
    struct daemon *d, struct vault_txn *t, const uint8_t *key_id, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__PublishPrekey pp = SIRA__V1__PUBLISH_PREKEY__INIT;
	Sira__V1__PrekeySecret *ps;
	uint8_t *v, id[16] = { 0 };
	size_t len;
	uint64_t req;

	if (vault_get(
		t, VT_PREKEYS, key_id, SIRA_PREKEY_ID_LEN, &v, &len, NULL) != 0)
		return;
	ps = sira__v1__prekey_secret__unpack(NULL, len, v);
	vault_free(v, len);
	if (ps == NULL)
		return;
	pp.prekey = sira__v1__prekey__unpack(
	    NULL, ps->signed_prekey.len, ps->signed_prekey.data);
	sodium_memzero(ps->sk.data, ps->sk.len);
	sira__v1__prekey_secret__free_unpacked(ps, NULL);
	if (pp.prekey == NULL)
		return;
	f.body_case = SIRA__V1__FRAME__BODY_PUBLISH_PREKEY;
	f.publish_prekey = &pp;
	memcpy(id, key_id, SIRA_PREKEY_ID_LEN);
	if (link_send(&d->link, &f, &req) == 0)
		daemon_expect(d, req, P_PREKEY, id, now);
	sira__v1__prekey__free_unpacked(pp.prekey, NULL);
}

static void
prekeys(struct daemon *d, const struct schedule *sc, uint64_t now)
{
	struct vault_txn *t = NULL;
	struct prekey_scan *s = calloc(1, sizeof(*s));
	struct sira_err err;

	if (s == NULL || vault_begin(d->a->vault, true, &t, &err) != 0) {
		free(s);
		return;
	}
	sira_err_clear(&err);
	if (maintain_prekeys(d, t, sc, now, s, &err) != 0 ||
	    vault_commit(&t, &err) != 0)
		log_event(LOG_ERROR, "prekeys.failed", "reason=%s", err.msg);
	else if (d->session && !s->newest_published && s->newest_nb != 0 &&
	    vault_begin(d->a->vault, false, &t, NULL) == 0)
		publish_prekey(d, t, s->newest_id, now);
	vault_abort(&t);
	d->last_prekey = now;
	free(s->expired);
	free(s);
}

static void
mark_published(struct daemon *d, const uint8_t *key_id)
{
	Sira__V1__PrekeySecret *ps = NULL;
	struct vault_txn *t = NULL;
	uint8_t *v = NULL, *bytes = NULL;
	size_t len = 0, blen;

	if (vault_begin(d->a->vault, true, &t, NULL) != 0 ||
	    vault_get(t, VT_PREKEYS, key_id, SIRA_PREKEY_ID_LEN, &v, &len,
		NULL) != 0 ||
	    (ps = sira__v1__prekey_secret__unpack(NULL, len, v)) == NULL)
		goto out;
	ps->published = true;
	if (wire_pack(&ps->base, &bytes, &blen, NULL) == 0 &&
	    vault_put(t, VT_PREKEYS, key_id, SIRA_PREKEY_ID_LEN, bytes, blen,
		NULL) == 0 &&
	    vault_commit(&t, NULL) == 0)
		log_event(LOG_INFO, "prekey.published", "agency=%s",
		    d->a->me->agency_id);
	if (bytes != NULL)
		sodium_memzero(bytes, blen);
	free(bytes);
out:
	if (ps != NULL) {
		sodium_memzero(ps->sk.data, ps->sk.len);
		sira__v1__prekey_secret__free_unpacked(ps, NULL);
	}
	vault_free(v, len);
	vault_abort(&t);
}

/* A clock off by more than the tolerance makes every date we sign wrong
 * and every date we check unreliable: seal nothing and refuse nothing on
 * a date until it is right, and say so where the user looks. */
static void
check_clock(struct daemon *d, uint64_t broker_time, uint64_t now)
{
	char what[sizeof(d->alarm)];

	d->skew = (int64_t)broker_time - (int64_t)now;
	if (d->skew > SIRA_CLOCK_SKEW || d->skew < -SIRA_CLOCK_SKEW) {
		d->clock_bad = true;
		log_event(LOG_WARN, "clock.skew",
		    "seconds=%lld (check this computer's clock)",
		    (long long)d->skew);
		(void)snprintf(what, sizeof(what),
		    "clock: this computer is %lld s %s the broker; set the "
		    "date and time, messages wait until then",
		    (long long)(d->skew < 0 ? -d->skew : d->skew),
		    d->skew < 0 ? "ahead of" : "behind");
		daemon_alarm(d, what);
	} else if (d->clock_bad) {
		d->clock_bad = false;
		if (strncmp(d->alarm, "clock:", 6) == 0)
			d->alarm[0] = '\0';
		log_event(
		    LOG_INFO, "clock.ok", "seconds=%lld", (long long)d->skew);
	}
}

static void
on_welcome(struct daemon *d, const Sira__V1__Welcome *w, uint64_t now)
{
	d->session = true;
	link_pace(&d->link, w->rate, w->burst);
	check_clock(d, w->broker_time, now);
	log_event(LOG_INFO, "link.up", "spooled=%llu",
	    (unsigned long long)w->spooled);
	/* What waited for a connection is submitted now, not at its next
	 * retry. */
	d->wake_states |= 1u << SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED;
	d->last_pump = 0;
	(void)daemon_request_directory(d, now);
	d->last_prekey = 0; /* publish on this session */
}

/*
 * Deliveries that arrive before this session's directory (with the latest
 * revocation list) are held, not acted on: a revocation the committee
 * published while we were offline must apply to what waited for us. A
 * delivery that does not fit is left unacknowledged; the broker resends.
 */
static void
hold(struct daemon *d, const Sira__V1__Deliver *dl)
{
	struct held *h;

	if (d->n_held == DAEMON_HELD_MAX)
		return;
	h = &d->held[d->n_held];
	if ((h->envelope = malloc(dl->envelope.len)) == NULL)
		return;
	memcpy(h->envelope, dl->envelope.data, dl->envelope.len);
	h->len = dl->envelope.len;
	h->delivery_id = dl->delivery_id;
	d->n_held++;
}

static void
release_held(struct daemon *d, uint64_t now)
{
	for (size_t i = 0; i < d->n_held; i++) {
		Sira__V1__Deliver dl = SIRA__V1__DELIVER__INIT;
		dl.delivery_id = d->held[i].delivery_id;
		dl.envelope.data = d->held[i].envelope;
		dl.envelope.len = d->held[i].len;
		inbound_deliver(d, &dl, now);
		free(d->held[i].envelope);
	}
	d->n_held = 0;
}

static void
on_frame(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	struct pending p;
	bool known = f->request_id != 0 && take_pending(d, f->request_id, &p);

	d->last_rx = now;
	switch (f->body_case) {
	case SIRA__V1__FRAME__BODY_WELCOME:
		on_welcome(d, f->welcome, now);
		break;
	case SIRA__V1__FRAME__BODY_DIRECTORY_RESPONSE:
		take_directory(d, f->directory_response, now);
		if (d->synced)
			release_held(d, now);
		/* New prekeys may unblock every queued message now. */
		d->wake_states |= 1u
		    << SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED;
		d->last_pump = 0;
		break;
	case SIRA__V1__FRAME__BODY_ACCEPTED:
		if (known && p.kind == P_PREKEY)
			mark_published(d, p.id);
		else if (known)
			outbound_accepted(d, &p, f->accepted, now);
		break;
	case SIRA__V1__FRAME__BODY_NACK:
		if (!known &&
		    (docs_up_frame(d, f, now) || docs_in_frame(d, f, now)))
			break; /* about a document transfer */
		outbound_nack(d, known ? &p : NULL, f->nack, now);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_STATUS:
		(void)docs_up_frame(d, f, now);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_PUT:
		(void)docs_in_frame(d, f, now);
		break;
	case SIRA__V1__FRAME__BODY_DELIVER:
		if (d->synced)
			inbound_deliver(d, f->deliver, now);
		else
			hold(d, f->deliver);
		break;
	case SIRA__V1__FRAME__BODY_PROOF_RESPONSE:
		if (known && p.kind == P_PROOF)
			outbound_proof(d, &p, f->proof_response, now);
		break;
	default:
		break;
	}
}

static void
say_hello(struct daemon *d, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Hello h = SIRA__V1__HELLO__INIT;
	uint64_t req;

	h.version = 1;
	h.software = (char *)"sira-agent/0.1";
	f.body_case = SIRA__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	d->session = false;
	d->synced = false;
	d->n_pending = 0; /* answers of a dead connection never come */
	docs_up_reset(d); /* transfers resume from what is stored */
	docs_in_reset(d);
	for (size_t i = 0; i < d->n_held; i++)
		free(d->held[i].envelope); /* the broker resends them */
	d->n_held = 0;
	if (link_send(&d->link, &f, &req) == 0)
		daemon_expect(d, req, P_HELLO, NULL, now);
}

void
daemon_rehello(struct daemon *d, uint64_t now)
{
	if (!daemon_pending_kind(d, P_HELLO))
		say_hello(d, now);
}

static void
heartbeat(struct daemon *d, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Heartbeat h = SIRA__V1__HEARTBEAT__INIT;

	h.time = now;
	f.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &h;
	(void)link_send(&d->link, &f, NULL);
	d->last_hb = now;
}

/* Document transfers under way, for `sira-agent status` and `progress`. */
static json_t *
transfers(const struct daemon *d)
{
	json_t *a = json_array();
	char hex[33];

	if (a == NULL)
		return json_array();
	if (d->up.active) {
		(void)sodium_bin2hex(hex, sizeof(hex), d->up.local_id, 16);
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:i, s:I, s:I}", "direction",
			"upload", "id", hex, "index", (int)d->up.index, "done",
			(json_int_t)d->up.stored, "total",
			(json_int_t)d->up.ct_len));
	}
	if (d->down.n > 0 && d->down.fd >= 0) {
		(void)sodium_bin2hex(hex, sizeof(hex), d->down.q[0].msgid, 16);
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:i, s:I, s:I}", "direction",
			"download", "id", hex, "index", (int)d->down.cur,
			"done", (json_int_t)d->down.have, "total",
			(json_int_t)d->down.q[0].ct_len[d->down.cur]));
	}
	return a;
}

static void
write_status(const struct daemon *d, uint64_t now)
{
	char path[PATH_MAX], when[SIRA_TIME_STR_LEN], sync[SIRA_TIME_STR_LEN];
	json_t *o;
	char *text;

	clock_format(now, when);
	clock_format(d->last_dir, sync);
	o = json_pack("{s:s, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}",
	    "time", when, "connected", d->session, "last_sync",
	    d->last_dir ? sync : "never", "alarm", d->alarm, "clock_skew",
	    (json_int_t)d->skew, "received", (json_int_t)d->received, "sent",
	    (json_int_t)d->sent, "refused", (json_int_t)d->refused,
	    "missing_messages", (json_int_t)d->gaps, "waiting_for_crl",
	    d->crl_wait);
	if (o == NULL)
		return;
	(void)json_object_set_new(o, "clock_wrong", json_boolean(d->clock_bad));
	(void)json_object_set_new(o, "transfers", transfers(d));
	if ((text = json_dumps(o, JSON_INDENT(2))) != NULL &&
	    home_path(&d->a->home, "status.json", path, NULL) == 0 &&
	    fileio_write(path, (const uint8_t *)text, strlen(text), 0600, false,
		NULL) != 0)
		log_event(LOG_WARN, "status.unwritable", "path=%s", path);
	free(text);
	json_decref(o);
}

static void
timers(struct daemon *d, const struct schedule *sc, uint64_t now)
{
	if (d->session && now - d->last_hb >= HEARTBEAT)
		heartbeat(d, now);
	if (d->session &&
	    (now - d->last_dir >= DIR_EVERY ||
		(d->crl_wait && now - d->last_dir >= 30)))
		(void)daemon_request_directory(d, now);
	/* Often enough for the schedule: every minute, or faster when an
	 * operator (or a test) sets periods shorter than that. */
	if (now - d->last_prekey >=
	    (sc->rotate < 120 ? sc->rotate / 2 + 1 : 60))
		prekeys(d, sc, now);
	docs_in_tick(d, now);
	expire_pending(d, now);
	if (d->pump_more || now - d->last_pump >= PUMP_EVERY) {
		(void)outbound_pump(d, now);
		d->last_pump = now;
	}
}

int
daemon_run(struct agent *a, uint64_t rotate, uint64_t retain,
    volatile sig_atomic_t *stop, struct sira_err *err)
{
	struct schedule sc = { rotate, retain };
	struct daemon *d = calloc(1, sizeof(*d));
	uint64_t status_at = 0;
	int rc;

	if (d == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	d->a = a;
	d->dir_wait = 3;
	d->up.fd = -1;
	d->down.fd = -1;
	if ((rc = link_open(&d->link, a, err)) != 0) {
		free(d);
		return rc;
	}
	log_event(LOG_INFO, "agent.started", "agency=%s broker=%s",
	    a->me->agency_id, a->home.broker);
	if ((rc = outbound_start(d, clock_now(), err)) != 0) {
		link_close(&d->link);
		free(d);
		return rc;
	}
	docs_sweep(a);
	if (a->me->not_after < clock_now() + AGENT_EXPIRY_WARN) {
		char until[SIRA_TIME_STR_LEN];
		clock_format(a->me->not_after, until);
		log_event(LOG_WARN, "certificate.expiring",
		    "agency=%s until=%s action=ask the committee to renew it",
		    a->me->agency_id, until);
	}
	while (!*stop) {
		Sira__V1__Frame *f = NULL;
		enum link_event ev;
		bool nudged;
		uint64_t now;
		if (link_poll(&d->link, d->pump_more ? 0 : 500, &f, &ev,
			&nudged) != 0)
			continue;
		now = clock_now();
		if (ev == LINK_UP)
			say_hello(d, now);
		else if (ev == LINK_DOWN && d->session) {
			d->session = false;
			log_event(LOG_INFO, "link.down", "will=reconnect");
		}
		if (f != NULL) {
			on_frame(d, f, now);
			sira__v1__frame__free_unpacked(f, NULL);
		}
		if (nudged)
			d->last_pump = 0;
		timers(d, &sc, now);
		if (now >= status_at) {
			write_status(d, now);
			status_at = now + 2;
		}
	}
	write_status(d, clock_now());
	docs_up_reset(d);
	docs_in_reset(d);
	for (size_t i = 0; i < d->n_held; i++)
		free(d->held[i].envelope);
	link_close(&d->link);
	free(d->wake);
	log_event(LOG_INFO, "agent.stopped", "received=%llu",
	    (unsigned long long)d->received);
	free(d);
	return 0;
}
