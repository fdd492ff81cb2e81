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
#include "i18n.h"
#include "documents/documents.h"
#include "fileio.h"
#include "log.h"
#include "store/store.h"
#include "crypto/crypto.h"
#include "wire.h"

#define HEARTBEAT 5
#define DIR_EVERY 600
#define PUMP_EVERY 1

static void
request_directory(struct daemon *d, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__DirectoryRequest q = SIRA__V1__DIRECTORY_REQUEST__INIT;
	uint64_t req;

	f.body_case = SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST;
	f.directory_request = &q;
	if (link_send(&d->link, &f, &req) == 0)
		(void)pending_expect(&d->pending, req, P_DIRECTORY, NULL, now);
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

	if (batch_begin(d, &t, &err) == 0 &&
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
		status_alarm(d, what);
	} else if (d->clock_bad) {
		d->clock_bad = false;
		status_clear_alarm(d, "clock:");
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
	request_directory(d, now);
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
	bool known =
	    f->request_id != 0 && pending_take(&d->pending, f->request_id, &p);

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
			prekeys_published(d, p.id);
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
			logproof_answer(d, &p, f->proof_response, now);
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
	pending_clear(
	    &d->pending); /* answers of a dead connection never come */
	docs_up_reset(d); /* transfers resume from what is stored */
	docs_in_reset(d);
	for (size_t i = 0; i < d->n_held; i++)
		free(d->held[i].envelope); /* the broker resends them */
	d->n_held = 0;
	if (link_send(&d->link, &f, &req) == 0)
		(void)pending_expect(&d->pending, req, P_HELLO, NULL, now);
}

/* Deliveries whose documents finished downloading go through again. */
static void
deliver_ready(struct daemon *d, uint64_t now)
{
	struct held h;

	while (docs_in_take_ready(d, &h)) {
		Sira__V1__Deliver dl = SIRA__V1__DELIVER__INIT;
		dl.delivery_id = h.delivery_id;
		dl.envelope.data = h.envelope;
		dl.envelope.len = h.len;
		inbound_deliver(d, &dl, now);
		free(h.envelope);
	}
}

/* What a module asked of the loop (d->asks), done here. */
static void
run_asks(struct daemon *d, uint64_t now)
{
	unsigned asks;

	deliver_ready(d, now);
	asks = d->asks;
	d->asks = 0;
	if ((asks & ASK_HELLO) != 0 && pending_count(&d->pending, P_HELLO) == 0)
		say_hello(d, now);
	if ((asks & ASK_DIRECTORY) != 0 && d->session)
		request_directory(d, now);
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

/* At start and once a day: the certificate ends within 30 days. */
static void
warn_expiry(struct daemon *d, uint64_t now)
{
	char until[SIRA_TIME_STR_LEN];
	uint64_t days;

	d->last_expiry_warn = now;
	if (!agent_cert_expiring(d->a, now, &days))
		return;
	clock_format(d->a->me->not_after, until);
	log_event(LOG_WARN, "certificate.expiring",
	    "agency=%s until=%s days_left=%llu action=%s", d->a->me->agency_id,
	    until, (unsigned long long)days,
	    _("renew it: sira-agent renew-request, then send the request to the committee"));
}

static void
timers(struct daemon *d, const struct prekey_schedule *sc, uint64_t now)
{
	if (d->session && now - d->last_hb >= HEARTBEAT)
		heartbeat(d, now);
	if (d->session &&
	    (now - d->last_dir >= DIR_EVERY ||
		(d->crl_wait && now - d->last_dir >= 30)))
		request_directory(d, now);
	/* Often enough for the schedule: every minute, or faster when an
	 * operator (or a test) sets periods shorter than that. */
	if (now - d->last_prekey >=
	    (sc->rotate < 120 ? sc->rotate / 2 + 1 : 60))
		prekeys_maintain(d, sc, now);
	docs_in_tick(d, now);
	pending_expire(&d->pending, now);
	if (now - d->last_expiry_warn >= 86400)
		warn_expiry(d, now);
	escalate_tick(d, now);
	if (now >= d->last_stats + STATS_LOOK_EVERY)
		stats_send_due(d, now);
	if (d->pump_more || now - d->last_pump >= PUMP_EVERY) {
		(void)outbound_pump(d, now);
		d->last_pump = now;
	}
}

/* The daemon for a, its link open and its outbox indexed, into *out. */
static int
daemon_new(struct agent *a, struct daemon **out, struct sira_err *err)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (d == NULL) {
		(void)sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		return -SIRA_ENOMEM; /* spelled out: never 0 with *out NULL */
	}
	d->a = a;
	sigcache_init(&d->sigs);
	secpool_init(&d->pool);
	a->sigs = &d->sigs;
	d->dir_wait = 3;
	d->up.fd = -1;
	d->down.fd = -1;
	if ((rc = link_open(&d->link, a, err)) != 0) {
		a->sigs = NULL;
		free(d);
		return rc;
	}
	log_event(LOG_INFO, "agent.started", "agency=%s broker=%s",
	    a->me->agency_id, a->home.broker);
	if ((rc = outbound_start(d, clock_now(), err)) != 0) {
		link_close(&d->link);
		a->sigs = NULL;
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void
daemon_free(struct daemon *d)
{
	status_write(d, clock_now());
	docs_up_reset(d);
	docs_in_reset(d);
	for (size_t i = 0; i < d->n_held; i++)
		free(d->held[i].envelope);
	link_close(&d->link);
	free(d->wake);
	log_event(LOG_INFO, "agent.stopped",
	    "received=%llu signatures_remembered=%llu key_blocks_reused=%llu",
	    (unsigned long long)d->received, (unsigned long long)d->sigs.hits,
	    d->pool.reused);
	secpool_drain(&d->pool);
	d->a->sigs = NULL;
	free(d);
}

/*
 * The frame f and every one already waiting behind it, up to the batch's
 * bounds, in one batch: one durable commit for all, their Acks after it.
 */
static void
drain(struct daemon *d, Sira__V1__Frame *f, uint64_t now)
{
	size_t len = d->link.rx_len;

	batch_start(d);
	do {
		batch_count(d, len);
		on_frame(d, f, now);
		sira__v1__frame__free_unpacked(f, NULL);
		run_asks(d, now);
	} while (batch_room(d) && (f = link_next(&d->link, &len)) != NULL);
	batch_commit(d);
}

/* One turn of the loop: the frames received or a connection change, the
 * timers, what modules asked for, the status file every 2 s. */
static void
turn(struct daemon *d, const struct prekey_schedule *sc, uint64_t *status_at)
{
	Sira__V1__Frame *f = NULL;
	enum link_event ev;
	bool nudged;
	uint64_t now;

	if (link_poll(&d->link, d->pump_more ? 0 : 500, &f, &ev, &nudged) != 0)
		return;
	now = clock_now();
	if (ev == LINK_UP)
		say_hello(d, now);
	else if (ev == LINK_DOWN && d->session) {
		d->session = false;
		log_event(LOG_INFO, "link.down", "will=reconnect");
	}
	if (f != NULL)
		drain(d, f, now);
	if (nudged)
		d->last_pump = 0;
	timers(d, sc, now);
	/* Downloads the timers completed are deliveries too. */
	batch_start(d);
	run_asks(d, now);
	batch_commit(d);
	if (now >= *status_at) {
		erase_in_tick(d);
		status_write(d, now);
		*status_at = now + 2;
	}
}

int
daemon_run(struct agent *a, uint64_t rotate, uint64_t retain,
    volatile sig_atomic_t *stop, struct sira_err *err)
{
	struct prekey_schedule sc = { rotate, retain };
	uint64_t status_at = 0;
	struct daemon *d;
	int rc;

	if ((rc = daemon_new(a, &d, err)) != 0)
		return rc;
	docs_sweep(a);
	warn_expiry(d, clock_now());
	escalate_start(d);
	while (!*stop)
		turn(d, &sc, &status_at);
	daemon_free(d);
	return 0;
}
