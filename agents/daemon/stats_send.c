/*
 * stats_send.c: this agency's statistical reports to the committee
 * (daemon.h, docs/STATS.md): on demand (sira-agent stats send) and at the
 * end of each month (the daemon's look). What period was sent is recorded
 * in the transaction that queues the report, so a restart never sends a
 * month's round twice and a crash never loses it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/daemon.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "wire.h"
#include "workflow/workflow.h"

#define SENT_COUNTER "stats.sent"

static void
person(void *ctx, const char *case_ref, uint8_t out[STATS_PERSON_LEN])
{
	pseudonym_of(ctx, case_ref, out);
}

/* What one report is made of. */
struct send_ask {
	struct agent *a;
	const Sira__V1__StatsKey *k;
	uint32_t period;
	uint64_t now;
};

/* Build the report and queue it to the committee inside t. */
static int
queue_report(struct vault_txn *t, const struct send_ask *q, uint8_t id[16],
    size_t *n_cases, struct sira_err *err)
{
	struct agent *a = q->a;
	const Sira__V1__StatsKey *k = q->k;
	uint32_t period = q->period;
	uint64_t now = q->now;
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__StatsReport *r = NULL;
	const char *to[1] = { k->committee };
	uint8_t key_id[PSEUDONYM_KEY_ID_LEN], *bytes = NULL;
	size_t len = 0;
	int rc;

	pseudonym_key_id(k->key.data, key_id);
	if ((rc = stats_build(t,
		 &(struct stats_ask){ a->me->agency_id, period, now, key_id,
		     { person, k->key.data } },
		 &r, err)) != 0)
		return rc;
	*n_cases = r->n_cases;
	p.body_case = SIRA__V1__PAYLOAD__BODY_STATS_REPORT;
	p.stats_report = r;
	if ((rc = wire_pack(&p.base, &bytes, &len, err)) == 0)
		rc = book_queue(t,
		    &(struct outgoing){ to, 1,
			SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_STATS_REPORT,
			"sira.stats-report.v1", "", bytes_of(bytes, len),
			(uint32_t)SIRA_TTL_MAX, NULL },
		    now, id, err);
	if (bytes != NULL)
		sodium_memzero(bytes, len);
	free(bytes);
	sira__v1__stats_report__free_unpacked(r, NULL);
	return rc;
}

int
stats_send(struct agent *a, uint32_t period, uint64_t now, uint8_t id[16],
    size_t *n_cases, struct sira_err *err)
{
	Sira__V1__StatsKey *k = NULL;
	struct vault_txn *t = NULL;
	uint64_t sent = 0;
	int rc;

	*n_cases = 0;
	if (!stats_period_valid(period) || period >= stats_period_of(now))
		return sira_err_set(err, SIRA_EINVAL,
		    _("a report covers a month that is over"));
	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if ((rc = stats_key_get(t, &k, err)) == 0 &&
	    (rc = queue_report(t, &(struct send_ask){ a, k, period, now }, id,
		 n_cases, err)) == 0 &&
	    (rc = vault_counter_get(t, SENT_COUNTER, &sent)) == 0 &&
	    (period <= sent ||
		(rc = vault_counter_put(t, SENT_COUNTER, period, err)) == 0))
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (k != NULL)
		wire_free_secret(&k->base);
	return rc;
}

/* The last period sent, and whether a key is installed. */
static bool
due_round(struct agent *a, uint32_t last, uint64_t *sent)
{
	Sira__V1__StatsKey *k = NULL;
	struct vault_txn *t = NULL;
	bool due = false;

	*sent = 0;
	if (vault_begin(a->vault, false, &t, NULL) != 0)
		return false;
	if (stats_key_get(t, &k, NULL) == 0 &&
	    vault_counter_get(t, SENT_COUNTER, sent) == 0)
		due = *sent < last;
	vault_abort(&t);
	if (k != NULL)
		wire_free_secret(&k->base);
	return due;
}

void
stats_send_due(struct daemon *d, uint64_t now)
{
	uint32_t last = stats_period_add(stats_period_of(now), -1);
	struct sira_err err;
	uint8_t id[16];
	uint64_t sent;
	size_t n;

	d->last_stats = now;
	if (!due_round(d->a, last, &sent))
		return;
	for (int back = STATS_REFRESH - 1; back >= 0; back--) {
		uint32_t p = stats_period_add(last, -back);
		sira_err_clear(&err);
		if (stats_send(d->a, p, now, id, &n, &err) != 0) {
			log_event(LOG_WARN, "stats.unsent",
			    "period=%u reason=%s", (unsigned)p,
			    err.msg[0] ? err.msg : sira_strerror(err.code));
			/* Tried again in an hour, not at every look. */
			d->last_stats = now + STATS_RETRY - STATS_LOOK_EVERY;
			return;
		}
		log_event(LOG_INFO, "stats.queued", "period=%u persons=%zu",
		    (unsigned)p, n);
	}
	d->pump_more = true;
}
