/*
 * bench_load.c: sira-load, the load driver of `make bench` (never a test,
 * never installed). It queues notes in an agency's own outbox through the
 * agent's modules, exactly as `sira-agent send` does but many per
 * transaction (the batch entry point the benchmark documents), rings the
 * daemon, and watches the outbox until every note carries its recipient's
 * signed receipt. The running daemon does everything else: sealing,
 * submitting, the broker's durable commit, delivery, the receipt back.
 *
 *   sira-load burst   --home DIR --to ID[,ID...] --count N --size BYTES
 *       queue N notes at once, round-robin over the recipients; prints
 *       msgs, seconds (first queued to last receipt) and msgs_per_s
 *   sira-load latency --home DIR --to ID --count N --size BYTES
 *       one note at a time (closed loop); prints p50/p99/max in ms
 *   sira-load open    --home DIR --to ID --count N --size BYTES --rate R
 *                     [--group]
 *       one note every 1/R s whatever happened to the others (open loop,
 *       each in its own transaction as a person's send would be; with
 *       --group, the notes that fell due while the last transaction
 *       committed go in one), timed from when each was due; prints
 *       p50/p99/max in ms and the rate kept
 *
 * Output: key=value lines. Exit 1 if a note ends refused or expired, or
 * the receipts do not come within the timeout (--timeout S, 600).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "clock.h"
#include "envelope.h"
#include "store/store.h"
#include "bench_util.h"

#define BATCH 256 /* notes per write transaction */
#define DELIVERED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED

struct load {
	const char *cmd, *home;
	char to_list[1024];
	const char *to[SIRA_RECIPIENTS_MAX];
	size_t n_to;
	unsigned long count, size, timeout, rate;
	bool group; /* open: the notes due together in one transaction */
	void *bell; /* a PUSH to the daemon's doorbell, kept open, or NULL */
};

/* The daemon's doorbell, opened once: nudge_daemon makes a ZeroMQ context
 * and an I/O thread each time, as a `sira-agent send` process does once;
 * at 1,000 notes a second that was the driver's own bottleneck. */
struct bell {
	void *ctx, *push;
};

static void
bell_open(struct bell *b, const struct home *h)
{
	char ep[PATH_MAX + 16];

	b->push = NULL;
	if (nudge_endpoint(h, ep) != 0 || (b->ctx = zmq_ctx_new()) == NULL)
		return;
	if ((b->push = zmq_socket(b->ctx, ZMQ_PUSH)) != NULL &&
	    zmq_connect(b->push, ep) != 0) {
		zmq_close(b->push);
		b->push = NULL;
	}
}

static void
bell_close(struct bell *b)
{
	int linger = 0;

	if (b->push != NULL) {
		(void)zmq_setsockopt(
		    b->push, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(b->push);
	}
	if (b->ctx != NULL)
		zmq_ctx_term(b->ctx);
}

static void
ring(const struct load *l, const struct home *h)
{
	if (l->bell == NULL || zmq_send(l->bell, "", 0, ZMQ_DONTWAIT) < 0)
		nudge_daemon(h);
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* Queue notes [from, from + n) of the run, ids into ids[from...]. */
static int
queue(struct agent *a, const struct load *l, const struct bytes *body,
    uint8_t (*ids)[16], struct sira_err *err)
{
	struct vault_txn *t = NULL;
	int rc = 0;

	for (unsigned long i = 0; i < l->count && rc == 0; i++) {
		const char *to[1] = { l->to[i % l->n_to] };
		if (t == NULL &&
		    (rc = vault_begin(a->vault, true, &t, err)) != 0)
			break;
		rc = book_queue(t,
		    &(struct outgoing){ to, 1,
			SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE,
			"sira.note.v1", "", *body, 86400, NULL },
		    clock_now(), ids[i], err);
		if (rc == 0 && ((i + 1) % BATCH == 0 || i + 1 == l->count))
			rc = vault_commit(&t, err);
	}
	vault_abort(&t);
	if (rc == 0)
		ring(l, &a->home);
	return rc;
}

/* How many of ids[0..n) are delivered; *bad counts refused/expired. */
static int
count_done(
    struct agent *a, uint8_t (*ids)[16], size_t n, size_t *done, size_t *bad)
{
	struct vault_txn *t = NULL;
	int rc;

	*done = *bad = 0;
	if ((rc = vault_begin(a->vault, false, &t, NULL)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		Sira__V1__OutboxEntry *e = NULL;
		if ((rc = book_get_out(t, ids[i], &e, NULL)) != 0)
			break;
		if (e->state == DELIVERED)
			(*done)++;
		else if (!outq_live(e->state))
			(*bad)++;
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	}
	vault_abort(&t);
	return rc;
}

static int
stop_first(void *ctx, const uint8_t *key, size_t klen)
{
	(void)key;
	(void)klen;
	*(bool *)ctx = true;
	return 1;
}

/* Is any outbox entry still being worked on? One cursor step on the
 * index (outq.c): cheap enough to ask every few milliseconds. */
static bool
any_live(struct agent *a)
{
	struct vault_txn *t = NULL;
	bool found = true;

	if (vault_begin(a->vault, false, &t, NULL) == 0) {
		found = false;
		(void)vault_keys(
		    t, VT_OUTQ, bytes_of(NULL, 0), stop_first, &found, NULL);
	}
	vault_abort(&t);
	return found;
}

/* Wait until ids[0..n) are all delivered; 0, or -1 (refused, timeout).
 * The agency sends nothing else while the benchmark runs, so an empty
 * index means every note reached its end; then each is checked. */
static int
await(struct agent *a, const struct load *l, uint8_t (*ids)[16], size_t n,
    double start)
{
	size_t done = 0, bad = 0;

	for (;;) {
		if (!any_live(a)) {
			if (count_done(a, ids, n, &done, &bad) != 0 || bad > 0)
				break;
			if (done == n)
				return 0;
		}
		if (bench_now_s() - start > (double)l->timeout)
			break;
		pause_ms(n == 1 ? 1 : 10);
	}
	(void)count_done(a, ids, n, &done, &bad);
	(void)fprintf(stderr, "sira-load: %zu of %zu delivered, %zu refused\n",
	    done, n, bad);
	return -1;
}

static int
run_burst(struct agent *a, const struct load *l, const struct bytes *body)
{
	uint8_t(*ids)[16] = calloc(l->count, 16);
	struct sira_err err;
	double start = bench_now_s(), secs;
	int rc;

	if (ids == NULL)
		return -1;
	sira_err_clear(&err);
	if ((rc = queue(a, l, body, ids, &err)) != 0)
		(void)fprintf(stderr, "sira-load: %s\n", err.msg);
	else if ((rc = await(a, l, ids, l->count, start)) == 0) {
		secs = bench_now_s() - start;
		(void)printf("msgs=%lu\nseconds=%.3f\nmsgs_per_s=%.0f\n",
		    l->count, secs, (double)l->count / secs);
	}
	free(ids);
	return rc;
}

static int
run_latency(struct agent *a, const struct load *l, const struct bytes *body)
{
	double *ms = calloc(l->count, sizeof(*ms));
	struct load one = *l;
	struct sira_err err;
	uint8_t id[1][16];
	int rc = 0;

	if (ms == NULL)
		return -1;
	one.count = 1;
	for (unsigned long i = 0; i < l->count && rc == 0; i++) {
		double start = bench_now_s();
		sira_err_clear(&err);
		if ((rc = queue(a, &one, body, id, &err)) != 0)
			(void)fprintf(stderr, "sira-load: %s\n", err.msg);
		else if ((rc = await(a, l, id, 1, start)) == 0)
			ms[i] = (bench_now_s() - start) * 1000.0;
	}
	if (rc == 0) {
		qsort(ms, l->count, sizeof(*ms), bench_by_value);
		(void)printf("p50_ms=%.1f\np99_ms=%.1f\nmax_ms=%.1f\n",
		    ms[l->count / 2], ms[(l->count * 99) / 100],
		    ms[l->count - 1]);
	}
	free(ms);
	return rc;
}

/* The ids the outbox index still holds (outq.c): keys only, no row read
 * or decrypted, sorted for bsearch. */
struct live {
	uint8_t (*id)[16];
	size_t n, cap;
};

/* Notes of the open loop not yet delivered: id and queue time; the live
 * ids of the last pass. */
struct outstanding {
	uint8_t (*id)[16];
	double *at;
	size_t n;
	struct live lv;
};

static int
live_add(void *ctx, const uint8_t *key, size_t klen)
{
	struct live *lv = ctx;
	void *p;

	if (klen != OUTQ_KEY_LEN)
		return 0;
	if (lv->n == lv->cap) {
		size_t cap = lv->cap ? 2 * lv->cap : 1024;
		if ((p = realloc(lv->id, cap * 16)) == NULL)
			return -SIRA_ENOMEM;
		lv->id = p;
		lv->cap = cap;
	}
	memcpy(lv->id[lv->n++], key + 9, 16);
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Record every outstanding note now delivered; -1 if one was refused.
 * A note out of the index reached its end: only those rows are read. */
static int
reap(struct agent *a, struct outstanding *o, double *ms, size_t *done)
{
	struct live *lv = &o->lv;
	struct vault_txn *t = NULL;
	size_t k = 0;
	int rc = 0;

	lv->n = 0;
	if (o->n == 0 || vault_begin(a->vault, false, &t, NULL) != 0)
		return 0;
	if (vault_keys(t, VT_OUTQ, bytes_of(NULL, 0), live_add, lv, NULL) !=
	    0) {
		vault_abort(&t);
		return -1;
	}
	if (lv->n > 0)
		qsort(lv->id, lv->n, 16, by_id);
	for (size_t i = 0; i < o->n && rc == 0; i++) {
		Sira__V1__OutboxEntry *e = NULL;
		bool keep = lv->n > 0 &&
		    bsearch(o->id[i], lv->id, lv->n, 16, by_id) != NULL;
		if (!keep && book_get_out(t, o->id[i], &e, NULL) == 0) {
			if (e->state == DELIVERED)
				ms[(*done)++] =
				    (bench_now_s() - o->at[i]) * 1e3;
			else if (!outq_live(e->state))
				rc = -1;
			else
				keep = true;
			sira__v1__outbox_entry__free_unpacked(e, NULL);
		}
		if (keep) { /* compact in place */
			memmove(o->id[k], o->id[i], 16);
			o->at[k++] = o->at[i];
		}
	}
	o->n = k;
	vault_abort(&t);
	return rc;
}

static int
run_open(struct agent *a, const struct load *l, const struct bytes *body)
{
	struct outstanding o = { calloc(l->count, 16),
		calloc(l->count, sizeof(double)), 0, { NULL, 0, 0 } };
	double *ms = calloc(l->count, sizeof(*ms));
	double start = bench_now_s(), gap = 1.0 / (double)l->rate;
	struct load one = *l;
	struct sira_err err;
	size_t sent = 0, done = 0;
	int rc = 0;

	one.count = 1;
	while (rc == 0 && o.id != NULL && o.at != NULL && ms != NULL &&
	    done < l->count) {
		double now = bench_now_s();
		/* Every note due by now: each in its own transaction, or with
		 * --group all in one (a group commit, as a server taking
		 * several people's submissions at once would make). At
		 * 1,000/s one per pass would fall behind the clock. */
		while (rc == 0 && sent < l->count &&
		    now >= start + (double)sent * gap) {
			size_t n = 1;
			while (l->group && sent + n < l->count &&
			    now >= start + (double)(sent + n) * gap)
				n++;
			one.count = n;
			sira_err_clear(&err);
			/* From when it was due, not when the loop got to it
			 * (a late start is latency too). */
			for (size_t i = 0; i < n; i++)
				o.at[o.n + i] =
				    start + (double)(sent + i) * gap;
			if ((rc = queue(a, &one, body, &o.id[o.n], &err)) !=
			    0) {
				(void)fprintf(
				    stderr, "sira-load: %s\n", err.msg);
				break;
			}
			o.n += n;
			sent += n;
		}
		if (rc == 0)
			rc = reap(a, &o, ms, &done);
		if (now - start > (double)l->timeout)
			rc = -1;
		pause_ms(1);
	}
	if (rc == 0 && done == l->count) {
		double secs = bench_now_s() - start;
		qsort(ms, done, sizeof(*ms), bench_by_value);
		(void)printf("rate_per_s=%.0f\np50_ms=%.1f\np99_ms=%.1f\n"
			     "max_ms=%.1f\n",
		    (double)sent / secs, ms[done / 2], ms[(done * 99) / 100],
		    ms[done - 1]);
	} else
		(void)fprintf(stderr,
		    "sira-load: open loop: %zu of %lu "
		    "delivered\n",
		    done, l->count);
	free(o.id);
	free(o.at);
	free(o.lv.id);
	free(ms);
	return rc == 0 && done == l->count ? 0 : -1;
}

static size_t
split(char *list, const char **out)
{
	size_t n = 0;

	for (char *p = strtok(list, ","); p != NULL && n < SIRA_RECIPIENTS_MAX;
	     p = strtok(NULL, ","))
		out[n++] = p;
	return n;
}

static int
parse(int argc, char **argv, struct load *l)
{
	static const struct option opts[] = { { "home", 1, NULL, 'h' },
		{ "to", 1, NULL, 't' }, { "count", 1, NULL, 'n' },
		{ "size", 1, NULL, 's' }, { "timeout", 1, NULL, 'T' },
		{ "rate", 1, NULL, 'r' }, { "group", 0, NULL, 'g' },
		{ "help", 0, NULL, 'H' }, { NULL, 0, NULL, 0 } };
	int c;

	l->count = 1000;
	l->size = 1024;
	l->timeout = 600;
	l->rate = 50;
	if (argc < 2)
		return -1;
	l->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h')
			l->home = optarg;
		else if (c == 't')
			(void)snprintf(
			    l->to_list, sizeof(l->to_list), "%s", optarg);
		else if (c == 'n')
			l->count = strtoul(optarg, NULL, 10);
		else if (c == 's')
			l->size = strtoul(optarg, NULL, 10);
		else if (c == 'T')
			l->timeout = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			l->rate = strtoul(optarg, NULL, 10);
		else if (c == 'g')
			l->group = true;
		else
			return -1;
	}
	l->n_to = split(l->to_list, l->to);
	return l->home != NULL && l->n_to > 0 && l->count > 0 && l->size > 0 &&
		l->size <= AGENT_PAYLOAD_MAX && l->rate > 0 &&
		(strcmp(l->cmd, "burst") == 0 ||
		    strcmp(l->cmd, "latency") == 0 ||
		    strcmp(l->cmd, "open") == 0) ?
	    0 :
	    -1;
}

int
main(int argc, char **argv)
{
	struct load l;
	struct sira_err err;
	struct agent a;
	uint8_t *text;
	int rc;

	memset(&l, 0, sizeof(l));
	if (parse(argc, argv, &l) != 0) {
		(void)fprintf(stderr,
		    "usage: sira-load burst|latency|open --home DIR "
		    "--to ID[,ID...] [--count N] [--size BYTES] [--rate R] "
		    "[--group] [--timeout S]\n");
		return 2;
	}
	if (sodium_init() < 0 || (text = malloc(l.size)) == NULL)
		return 1;
	for (size_t i = 0; i < l.size; i++) /* a note of readable text */
		text[i] = (uint8_t)('a' + randombytes_uniform(26));
	sira_err_clear(&err);
	memset(&a, 0, sizeof(a));
	rc = home_resolve(l.home, &a.home, &err);
	if (rc == 0)
		rc = agent_open(&a, NULL, clock_now(), &err);
	if (rc != 0)
		(void)fprintf(stderr, "sira-load: %s\n", err.msg);
	else if (strcmp(l.cmd, "open") == 0) {
		struct bell b = { NULL, NULL };
		bell_open(&b, &a.home);
		l.bell = b.push;
		rc = run_open(&a, &l, &(struct bytes){ text, l.size });
		bell_close(&b);
	} else if (strcmp(l.cmd, "burst") == 0)
		rc = run_burst(&a, &l, &(struct bytes){ text, l.size });
	else
		rc = run_latency(&a, &l, &(struct bytes){ text, l.size });
	agent_close(&a);
	free(text);
	return rc == 0 ? 0 : 1;
}
