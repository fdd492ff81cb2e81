/*
 * bench_nats.c: the broker-alone workload of `make bench` on NATS
 * JetStream, the broker a user would otherwise pick, so that Sira's
 * figures have a peer measured in the same run on the same box. Built
 * only by `make bench` when libnats is installed (`make deps-bench`).
 *
 *   bench_nats URL COUNT SIZE WINDOW
 *
 * A file-storage stream (JetStream's default storage), COUNT messages of
 * SIZE bytes published asynchronously with at most WINDOW unacknowledged
 * (each counts when JetStream's publish ack is back), then consumed by a
 * durable pull consumer, each message acknowledged. Durability differs
 * from Sira's: JetStream acknowledges a publish once the message is
 * written, and fsyncs on its own schedule (sync_interval, 2 minutes by
 * default); Sira's broker fsyncs before it says Accepted.
 *
 * Output, key=value: nats_accept_msgs_per_s, nats_accept_p50_ms,
 * nats_accept_p99_ms, nats_deliver_msgs_per_s, nats_msgs_per_s (the
 * lower of the two rates).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>
#include "../tools/bench_util.h"

#define SUBJECT "sira.bench"

struct run {
	long count, size, window;
	double *sent_at, *ms;
	long acked, failed;
	pthread_mutex_t mu; /* acks come on the library's thread */
};

/* Each publish ack: the message's first 8 bytes are its index. */
static void
on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct run *r = closure;
	uint64_t i = 0;

	(void)js;
	memcpy(&i, natsMsg_GetData(msg), sizeof(i));
	(void)pthread_mutex_lock(&r->mu);
	if (pa != NULL && pae == NULL && i < (uint64_t)r->count)
		r->ms[r->acked++] = (bench_now_s() - r->sent_at[i]) * 1000.0;
	else
		r->failed++;
	(void)pthread_mutex_unlock(&r->mu);
	natsMsg_Destroy(msg);
}

static int
stream(jsCtx *js)
{
	const char *subjects[1] = { SUBJECT };
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;

	jsStreamConfig_Init(&cfg);
	cfg.Name = "SIRABENCH";
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	if (js_AddStream(&si, js, &cfg, NULL, &jerr) != NATS_OK) {
		fprintf(stderr, "bench_nats: add stream failed (%d)\n", jerr);
		return -1;
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

static int
publish(jsCtx *js, struct run *r, double *secs)
{
	char *data = malloc((size_t)r->size);
	double t0 = bench_now_s();

	if (data == NULL)
		return -1;
	memset(data, 'x', (size_t)r->size);
	for (long i = 0; i < r->count; i++) {
		uint64_t idx = (uint64_t)i;
		memcpy(data, &idx, sizeof(idx));
		r->sent_at[i] = bench_now_s();
		if (js_PublishAsync(js, SUBJECT, data, (int)r->size, NULL) !=
		    NATS_OK) {
			free(data);
			return -1;
		}
	}
	free(data);
	if (js_PublishAsyncComplete(js, NULL) != NATS_OK)
		return -1;
	*secs = bench_now_s() - t0;
	return r->failed == 0 && r->acked == r->count ? 0 : -1;
}

static int
consume(jsCtx *js, long count, double *secs)
{
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;
	long got = 0;
	double t0 = bench_now_s();

	if (js_PullSubscribe(&sub, js, SUBJECT, "sink", NULL, NULL, &jerr) !=
	    NATS_OK)
		return -1;
	while (got < count) {
		natsMsgList list = { NULL, 0 };
		if (natsSubscription_Fetch(&list, sub, 256, 5000, &jerr) !=
		    NATS_OK)
			break;
		for (int i = 0; i < list.Count; i++)
			if (natsMsg_Ack(list.Msgs[i], NULL) == NATS_OK)
				got++;
		natsMsgList_Destroy(&list);
	}
	*secs = bench_now_s() - t0;
	natsSubscription_Destroy(sub);
	return got == count ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct run r = { 0 };
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	double pub_s = 0, sub_s = 0, acc, del;
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_nats URL COUNT SIZE WINDOW\n");
		return 2;
	}
	r.count = atol(argv[2]);
	r.size = atol(argv[3]);
	r.window = atol(argv[4]);
	if (r.count <= 0 || r.size < 8 || r.window <= 0)
		return 2;
	r.sent_at = calloc((size_t)r.count, sizeof(double));
	r.ms = calloc((size_t)r.count, sizeof(double));
	if (r.sent_at == NULL || r.ms == NULL ||
	    pthread_mutex_init(&r.mu, NULL) != 0)
		return 1;
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = r.window;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = &r;
	if (natsConnection_ConnectTo(&nc, argv[1]) == NATS_OK &&
	    natsConnection_JetStream(&js, nc, &jo) == NATS_OK &&
	    stream(js) == 0 && publish(js, &r, &pub_s) == 0 &&
	    consume(js, r.count, &sub_s) == 0) {
		acc = (double)r.count / pub_s;
		del = (double)r.count / sub_s;
		qsort(r.ms, (size_t)r.acked, sizeof(double), bench_by_value);
		printf("nats_accept_msgs_per_s=%.0f\n", acc);
		printf("nats_accept_p50_ms=%.1f\n", r.ms[r.acked / 2]);
		printf("nats_accept_p99_ms=%.1f\n", r.ms[(r.acked * 99) / 100]);
		printf("nats_deliver_msgs_per_s=%.0f\n", del);
		printf("nats_msgs_per_s=%.0f\n", acc < del ? acc : del);
		rc = 0;
	} else
		fprintf(stderr,
		    "bench_nats: the run failed (acked %ld, "
		    "failed %ld)\n",
		    r.acked, r.failed);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	(void)pthread_mutex_destroy(&r.mu);
	nats_Close();
	free(r.sent_at);
	free(r.ms);
	return rc;
}
