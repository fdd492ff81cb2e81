/*
 * probe_blast.c: sira-probe's two load commands, for the broker-alone
 * figures of `make bench` (tests/bench/bench_e2e.sh). Never a test.
 *
 *   blast --to ID --count N [--size BYTES] [--window W]
 *       seal N notes to ID first (not timed), then submit them with at
 *       most W unanswered at a time; each counts when the broker's
 *       Accepted is back (its spool and log committed, fsynced). Prints
 *       msgs_per_s and the submit-to-Accepted latency p50/p99 in ms.
 *   sink --count N [--timeout S]
 *       acknowledge N deliveries without opening them; prints received
 *       and seconds from the first delivery to the last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"
#include "bench_util.h"

/* n sealed notes of size bytes to `to`, into env[i], len[i]. */
static int
seal_all(
    struct probe *p, const struct probe_load *l, uint8_t **env, size_t *len)
{
	struct seal_recipient r = { probe_cert_of(p, l->to),
		probe_prekey_of(p, l->to), 0 };
	uint8_t *text = malloc((size_t)l->size);
	int rc = 0;

	if (text == NULL || r.cert == NULL || r.prekey == NULL) {
		(void)printf("no certificate or prekey for %s\n", l->to);
		free(text);
		return -1;
	}
	memset(text, 'x', (size_t)l->size);
	for (long i = 0; i < l->count && rc == 0; i++) {
		struct seal_params sp = { 0 };
		struct sealed_out out;
		struct seal *s;
		r.pair_seq = (uint64_t)i + 1;
		sp.sender = p->me;
		sp.sender_keys = p->keys;
		sp.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
		sp.content_type = "sira.test.v1";
		sp.case_ref = "";
		sp.onward_sharing = 1;
		sp.now = (uint64_t)time(NULL);
		sp.ttl = 86400;
		sp.recipients = &r;
		sp.n_recipients = 1;
		if ((rc = seal_begin(&sp, &s, NULL)) == 0)
			rc = seal_finish(s, text, (size_t)l->size, &out, NULL);
		seal_destroy(&s);
		env[i] = rc == 0 ? out.env : NULL;
		len[i] = rc == 0 ? out.len : 0;
	}
	free(text);
	return rc;
}

/* Submissions in flight: when each left, by request id. */
struct window {
	uint64_t first_id; /* request id of submission 0 */
	double *sent_at, *ms;
	long sent, answered, accepted;
};

/* Take one answer to a submission; 0, or -1 on a Nack. */
static int
answer(struct window *w, const Sira__V1__Frame *r)
{
	uint64_t i = r->request_id - w->first_id;

	if (r->body_case != SIRA__V1__FRAME__BODY_ACCEPTED &&
	    r->body_case != SIRA__V1__FRAME__BODY_NACK)
		return 0; /* a heartbeat, the broker's own word */
	if (i >= (uint64_t)w->sent)
		return 0; /* not one of ours */
	w->ms[w->answered++] = (bench_now_s() - w->sent_at[i]) * 1000.0;
	if (r->body_case == SIRA__V1__FRAME__BODY_NACK) {
		(void)printf("nack %s %s\n",
		    sira_strerror((int)r->nack->reason), r->nack->detail);
		return -1;
	}
	w->accepted++;
	return 0;
}

static int
pump(struct probe *p, const struct probe_load *l, uint8_t **env, size_t *len,
    struct window *w)
{
	Sira__V1__Frame *r;
	int rc = 0;

	while (w->answered < l->count && rc == 0) {
		while (
		    w->sent < l->count && w->sent - w->answered < l->window) {
			w->sent_at[w->sent] = bench_now_s();
			if (w->sent == 0)
				w->first_id = p->next_request + 1;
			if (probe_submit(p, env[w->sent], len[w->sent]) != 0)
				return -1;
			w->sent++;
		}
		if ((r = probe_recv(p, p->timeout_ms)) == NULL)
			return -1;
		rc = answer(w, r);
		sira__v1__frame__free_unpacked(r, NULL);
	}
	return rc;
}

int
probe_blast(struct probe *p, const struct probe_load *l)
{
	uint8_t **env = calloc((size_t)l->count, sizeof(*env));
	size_t *len = calloc((size_t)l->count, sizeof(*len));
	struct window w = { 0, NULL, NULL, 0, 0, 0 };
	double t0;
	int rc = -1;

	w.sent_at = calloc((size_t)l->count, sizeof(double));
	w.ms = calloc((size_t)l->count, sizeof(double));
	if (env != NULL && len != NULL && w.sent_at != NULL && w.ms != NULL &&
	    l->to != NULL && l->count > 0 && l->window > 0 &&
	    probe_directory(p) == 0 && seal_all(p, l, env, len) == 0 &&
	    probe_hello(p) == 0) { /* sealing was silent: a fresh session */
		t0 = bench_now_s();
		rc = pump(p, l, env, len, &w);
		if (rc == 0) {
			double secs = bench_now_s() - t0;
			qsort(w.ms, (size_t)w.answered, sizeof(double),
			    bench_by_value);
			(void)printf("accepted=%ld\nseconds=%.3f\n"
				     "msgs_per_s=%.0f\np50_ms=%.1f\n"
				     "p99_ms=%.1f\n",
			    w.accepted, secs, (double)w.accepted / secs,
			    w.ms[w.answered / 2],
			    w.ms[(w.answered * 99) / 100]);
		}
	}
	for (long i = 0; env != NULL && i < l->count; i++)
		free(env[i]);
	free(env);
	free(len);
	free(w.sent_at);
	free(w.ms);
	return rc == 0 ? 0 : 1;
}

int
probe_sink(struct probe *p, const struct probe_load *l)
{
	double first = 0, last = 0;
	long got = 0;
	Sira__V1__Frame *r;

	while (got < l->count && (r = probe_recv(p, p->timeout_ms)) != NULL) {
		if (r->body_case == SIRA__V1__FRAME__BODY_DELIVER) {
			probe_ack(p, r->deliver->delivery_id);
			last = bench_now_s();
			if (got++ == 0)
				first = last;
		}
		sira__v1__frame__free_unpacked(r, NULL);
	}
	(void)probe_recv(p, 300); /* let the broker take the last acks */
	(void)printf("received=%ld\nseconds=%.3f\n", got, last - first);
	return got == l->count ? 0 : 1;
}
