/*
 * probe_fanin.c: sira-probe fanin, the fan-in load of `make bench`
 * (tests/bench/bench_scale.sh). Never a test.
 *
 *   fanin --agents DIR [--count N] [--timeout S] [--heartbeat-s H]
 *       opens one CURVE session per agency whose ID.key and ID.cert are
 *       in DIR (at most N), all from this process: one ZeroMQ context,
 *       one DEALER socket each, authenticated by the broker's ZAP handler
 *       against the agency's CA-issued certificate, then Hello. Prints
 *       connected=K (Welcomes received) and connect_s; then keeps them
 *       idle for S seconds (or until SIGTERM), sending each a Heartbeat
 *       every H seconds (the broker drops a session silent for three of
 *       its heartbeats), and prints alive=K after each round: how many
 *       answered the round before. Three rounds without an answer end
 *       it (exit 1): the broker is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>
#include <zmq.h>

#include "bench_util.h"
#include "probe.h"
#include "wire.h"

/* One idle agency: its socket and whether it answered lately. */
struct fan_peer {
	void *sock;
	int welcomed;
	int answered; /* since the last heartbeat round */
};

struct fan {
	void *zctx;
	struct fan_peer *peer;
	zmq_pollitem_t *items;
	size_t n;
	uint64_t next_request, seq;
	long welcomed;  /* sessions that got their Welcome */
	double next_hb; /* when the next heartbeat round is due */
};

static volatile sig_atomic_t fan_stop;

static void
on_signal(int sig)
{
	(void)sig;
	fan_stop = 1;
}

/* As many file descriptors as the hard limit allows: two per socket. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
fan_send(struct fan *f, void *sock, Sira__V1__Frame *fr)
{
	uint8_t *buf;
	size_t len;
	int rc;

	fr->version = 1;
	fr->request_id = ++f->next_request;
	if (wire_pack(&fr->base, &buf, &len, NULL) != 0)
		return -1;
	rc = zmq_send(sock, buf, len, ZMQ_DONTWAIT) == -1 ? -1 : 0;
	free(buf);
	return rc;
}

static int
send_hello(struct fan *f, void *sock)
{
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__Hello h = SIRA__V1__HELLO__INIT;

	h.version = 1;
	h.software = (char *)"sira-probe fanin";
	fr.body_case = SIRA__V1__FRAME__BODY_HELLO;
	fr.hello = &h;
	return fan_send(f, sock, &fr);
}

static int
send_heartbeat(struct fan *f, void *sock, uint64_t seq)
{
	Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
	Sira__V1__Heartbeat h = SIRA__V1__HEARTBEAT__INIT;

	h.seq = seq;
	fr.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
	fr.heartbeat = &h;
	return fan_send(f, sock, &fr);
}

/* A DEALER socket with the agency's CURVE keys from DIR/ID.key. */
static void *
open_peer(struct fan *f, const struct probe *p, const char *dir, const char *id,
    const char *endpoint)
{
	struct keyfile *kf;
	struct sira_keys *keys = NULL;
	char path[4096], spk[41], pk[41], sk[41];
	int linger = 0;
	void *sock = NULL;

	(void)snprintf(path, sizeof(path), "%s/%s.key", dir, id);
	if (keyfile_open(path, &kf, NULL) != 0)
		return NULL;
	if (keyfile_unlock(kf, NULL, 0, &keys, NULL) != 0) {
		keyfile_close(&kf);
		return NULL;
	}
	keyfile_close(&kf);
	zmq_z85_encode(spk, p->broker->transport_pk, 32);
	zmq_z85_encode(pk, keys->transport_pk, 32);
	zmq_z85_encode(sk, keys->transport_sk, 32);
	keys_destroy(&keys);
	if ((sock = zmq_socket(f->zctx, ZMQ_DEALER)) != NULL &&
	    (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
		zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spk, 40) != 0 ||
		zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pk, 40) != 0 ||
		zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sk, 40) != 0 ||
		zmq_connect(sock, endpoint) != 0)) {
		(void)zmq_close(sock);
		sock = NULL;
	}
	sodium_memzero(sk, sizeof(sk));
	return sock;
}

/* The agency ids of DIR (files ID.key), at most max; caller frees. */
static char **
list_agencies(const char *dir, size_t max, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **ids = calloc(max > 0 ? max : 1, sizeof(*ids));
	size_t len;

	*n = 0;
	if (d == NULL || ids == NULL) {
		if (d != NULL)
			(void)closedir(d);
		free(ids);
		return NULL;
	}
	while (*n < max && (e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len <= 4 || strcmp(e->d_name + len - 4, ".key") != 0)
			continue;
		if ((ids[*n] = strndup(e->d_name, len - 4)) != NULL)
			(*n)++;
	}
	(void)closedir(d);
	return ids;
}

static void
free_ids(char **ids, size_t n)
{
	for (size_t i = 0; ids != NULL && i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Read every frame waiting on peer i; count Welcomes and answers. */
static void
drain_peer(struct fan *f, size_t i)
{
	struct fan_peer *pe = &f->peer[i];
	Sira__V1__Frame *r;
	zmq_msg_t m;

	zmq_msg_init(&m);
	while (zmq_msg_recv(&m, pe->sock, ZMQ_DONTWAIT) != -1) {
		r = sira__v1__frame__unpack(
		    NULL, zmq_msg_size(&m), zmq_msg_data(&m));
		if (r != NULL &&
		    r->body_case == SIRA__V1__FRAME__BODY_WELCOME &&
		    !pe->welcomed) {
			pe->welcomed = 1;
			f->welcomed++;
		}
		if (r != NULL && r->body_case != SIRA__V1__FRAME__BODY_NACK)
			pe->answered = 1;
		if (r != NULL)
			sira__v1__frame__free_unpacked(r, NULL);
	}
	zmq_msg_close(&m);
}

/* Poll every socket for up to ms; returns -1 on a poll failure. */
static int
poll_all(struct fan *f, long ms)
{
	int n = zmq_poll(f->items, (int)f->n, ms);

	if (n == -1)
		return errno == EINTR ? 0 : -1;
	for (size_t i = 0; n > 0 && i < f->n; i++)
		if (f->items[i].revents & ZMQ_POLLIN)
			drain_peer(f, i);
	return 0;
}

/*
 * Every `every` seconds, a Heartbeat to each welcomed session (also while
 * the others connect: the broker drops one silent for three of its
 * heartbeats). Returns how many answered since the last round, or -1
 * when it is not time yet.
 */
static long
heartbeat_round(struct fan *f, long every)
{
	long alive = 0;

	if (bench_now_s() < f->next_hb)
		return -1;
	f->next_hb = bench_now_s() + (double)every;
	f->seq++;
	for (size_t i = 0; i < f->n; i++) {
		alive += f->peer[i].answered;
		f->peer[i].answered = 0;
		if (f->peer[i].welcomed)
			(void)send_heartbeat(f, f->peer[i].sock, f->seq);
	}
	return alive;
}

/* Open the sessions and wait (up to timeout s) for their Welcomes. */
static long
connect_all(struct fan *f, const struct probe *p, const struct probe_fanin *l,
    char **ids)
{
	double t0 = bench_now_s();

	f->next_hb = t0 + (double)l->heartbeat;
	for (size_t i = 0; i < f->n; i++) {
		f->peer[i].sock = open_peer(f, p, l->dir, ids[i], l->endpoint);
		if (f->peer[i].sock == NULL ||
		    send_hello(f, f->peer[i].sock) != 0) {
			(void)fprintf(stderr, "fanin: cannot open %s: %s\n",
			    ids[i], zmq_strerror(zmq_errno()));
			return -1;
		}
		f->items[i] =
		    (zmq_pollitem_t){ f->peer[i].sock, 0, ZMQ_POLLIN, 0 };
	}
	while (!fan_stop && f->welcomed < (long)f->n &&
	    bench_now_s() - t0 < (double)l->timeout) {
		if (poll_all(f, 200) != 0)
			return -1;
		(void)heartbeat_round(f, l->heartbeat);
	}
	(void)printf(
	    "connected=%ld\nconnect_s=%.1f\n", f->welcomed, bench_now_s() - t0);
	return f->welcomed;
}

/* Stay connected until stopped, printing alive=K after each round. */
static int
keep_idle(struct fan *f, const struct probe_fanin *l)
{
	double t0 = bench_now_s();
	long alive, rounds = 0, silent = 0;

	f->next_hb = t0; /* a round now: the count starts from here */
	while (!fan_stop && bench_now_s() - t0 < (double)l->idle) {
		if ((alive = heartbeat_round(f, l->heartbeat)) >= 0 &&
		    rounds++ > 0) {
			(void)printf("alive=%ld\n", alive);
			/* Three silent rounds: the broker is gone. */
			silent = alive == 0 ? silent + 1 : 0;
			if (silent >= 3)
				return -1;
		}
		if (poll_all(f, 200) != 0)
			return -1;
	}
	return 0;
}

static void
fan_close(struct fan *f)
{
	for (size_t i = 0; f->peer != NULL && i < f->n; i++)
		if (f->peer[i].sock != NULL)
			(void)zmq_close(f->peer[i].sock);
	if (f->zctx != NULL)
		(void)zmq_ctx_term(f->zctx);
	free(f->peer);
	free(f->items);
}

int
probe_fanin(const struct probe *p, const struct probe_fanin *l)
{
	struct fan f = { 0 };
	struct sigaction sa;
	char **ids;
	long got = -1;

	if (l->dir == NULL || l->count <= 0 || l->heartbeat <= 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	raise_nofile();
	if ((ids = list_agencies(l->dir, (size_t)l->count, &f.n)) == NULL ||
	    f.n == 0) {
		(void)fprintf(stderr, "fanin: no ID.key in %s\n", l->dir);
		free_ids(ids, f.n);
		return 1;
	}
	f.zctx = zmq_ctx_new();
	f.peer = calloc(f.n, sizeof(*f.peer));
	f.items = calloc(f.n, sizeof(*f.items));
	if (f.zctx != NULL && f.peer != NULL && f.items != NULL &&
	    zmq_ctx_set(f.zctx, ZMQ_MAX_SOCKETS, (int)f.n + 64) == 0)
		got = connect_all(&f, p, l, ids);
	else
		(void)fprintf(stderr, "fanin: cannot make %zu sockets\n", f.n);
	free_ids(ids, f.n);
	if (got > 0 && keep_idle(&f, l) != 0)
		got = -1;
	fan_close(&f);
	return got == (long)f.n ? 0 : 1;
}
