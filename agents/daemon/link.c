/*
 * link.c: the agent's sockets (see daemon.h). Frames from the broker are
 * parsed strictly and capped in size like everything else from outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "envelope.h"
#include "daemon/daemon.h"
#include "wire.h"
#include "i18n.h"

#define FRAME_MAX (SIRA_ENVELOPE_MAX + 8192)
/* Until the broker's Welcome says otherwise: 80 % of its defaults. */
#define PACE_RATE 40
#define PACE_BURST 400

static int
curve_setup(void *sock, const struct agent *a)
{
	char spk[41], pk[41], sk[41];
	/* Reconnect at most 10 s apart, and give up a TCP connect after
	 * 15 s: on a 2G link cut for a minute, the kernel's own backoff
	 * would otherwise keep the agency away long after the link is back
	 * (docs/PERFORMANCE.md, "An agency behind an EDGE link"). */
	int linger = 0, rc, ivl, ivl_max = 10000, hb = 10000, hbt = 30000;
	int connect_to = 15000;
	int64_t maxmsg = FRAME_MAX;

	ivl = 500 + (int)randombytes_uniform(1000);
	(void)zmq_z85_encode(spk, a->broker->transport_pk, 32);
	(void)zmq_z85_encode(pk, a->keys->transport_pk, 32);
	(void)zmq_z85_encode(sk, a->keys->transport_sk, 32);
	rc = zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spk, 40) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pk, 40) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sk, 40) ||
	    zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) ||
	    zmq_setsockopt(
		sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max)) ||
	    zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) ||
	    zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt)) ||
	    zmq_setsockopt(
		sock, ZMQ_CONNECT_TIMEOUT, &connect_to, sizeof(connect_to)) ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	sodium_memzero(sk, sizeof(sk));
	return rc ? -1 : 0;
}

int
link_open(struct link *l, const struct agent *a, struct sira_err *err)
{
	char ep[PATH_MAX + 16];
	int linger = 0;

	memset(l, 0, sizeof(*l));
	if ((l->zctx = zmq_ctx_new()) == NULL ||
	    (l->sock = zmq_socket(l->zctx, ZMQ_DEALER)) == NULL ||
	    curve_setup(l->sock, a) != 0 ||
	    zmq_socket_monitor(l->sock, "inproc://sira-link",
		ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0 ||
	    (l->mon = zmq_socket(l->zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(l->mon, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_connect(l->mon, "inproc://sira-link") != 0 ||
	    (l->nudge = zmq_socket(l->zctx, ZMQ_PULL)) == NULL ||
	    zmq_setsockopt(l->nudge, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    nudge_endpoint(&a->home, ep) != 0 || zmq_bind(l->nudge, ep) != 0 ||
	    zmq_connect(l->sock, a->home.broker) != 0) {
		int e = zmq_errno();
		link_close(l);
		return sira_err_set(err, SIRA_EIO,
		    _("cannot set up the link: %s"), zmq_strerror(e));
	}
	l->rate = PACE_RATE;
	l->burst = l->tokens = PACE_BURST;
	return 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
refill(struct link *l)
{
	uint64_t now = mono_ms();

	if (now > l->refill_ms) {
		l->tokens += (double)(now - l->refill_ms) * l->rate / 1000.0;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
	}
	l->refill_ms = now;
}

void
link_pace(struct link *l, uint32_t rate, uint32_t burst)
{
	if (rate == 0 || burst == 0)
		return; /* an older broker: keep the defaults */
	l->rate = 0.8 * rate;
	l->burst = 0.8 * burst < 1.0 ? 1.0 : 0.8 * burst;
	if (l->tokens > l->burst)
		l->tokens = l->burst;
}

void
link_pause(struct link *l, uint64_t seconds)
{
	refill(l);
	if (seconds > 60)
		seconds = 60;
	l->tokens = -(double)(seconds > 0 ? seconds : 1) * l->rate;
}

/* Work that can wait leaves half the bucket to what cannot: acks of
 * deliveries, heartbeats, Hello. */
bool
link_can_send(struct link *l)
{
	refill(l);
	return l->tokens >= l->burst / 2.0;
}

void
link_close(struct link *l)
{
	if (l->sock != NULL) {
		(void)zmq_socket_monitor(l->sock, NULL, 0);
		zmq_close(l->sock);
	}
	if (l->mon != NULL)
		zmq_close(l->mon);
	if (l->nudge != NULL)
		zmq_close(l->nudge);
	if (l->zctx != NULL)
		zmq_ctx_term(l->zctx);
	memset(l, 0, sizeof(*l));
}

int
link_send(struct link *l, Sira__V1__Frame *f, uint64_t *request_id)
{
	uint8_t *buf;
	size_t len;
	int rc;

	f->version = 1;
	f->request_id = ++l->next_request;
	if (request_id != NULL)
		*request_id = f->request_id;
	if (wire_pack(&f->base, &buf, &len, NULL) != 0)
		return -SIRA_ENOMEM;
	rc = zmq_send(l->sock, buf, len, ZMQ_DONTWAIT) == -1 ? -SIRA_EIO : 0;
	free(buf);
	refill(l);
	l->tokens -= 1.0 + (double)(len >> 16);
	return rc;
}

static enum link_event
read_monitor(void *mon)
{
	zmq_msg_t m;
	uint16_t ev = 0;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, mon, 0) == -1)
		return LINK_NONE;
	if (zmq_msg_size(&m) >= 2)
		memcpy(&ev, zmq_msg_data(&m), 2);
	zmq_msg_close(&m);
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, mon, 0) != -1)
		zmq_msg_close(&m);
	if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
		return LINK_UP;
	return ev == ZMQ_EVENT_DISCONNECTED ? LINK_DOWN : LINK_NONE;
}

static Sira__V1__Frame *
read_frame(void *sock, size_t *len)
{
	ProtobufCMessage *m = NULL;
	zmq_msg_t msg;

	*len = 0;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) == -1)
		return NULL;
	*len = zmq_msg_size(&msg);
	if (wire_unpack(&sira__v1__frame__descriptor, zmq_msg_data(&msg),
		zmq_msg_size(&msg), FRAME_MAX, &m, NULL) != 0)
		m = NULL; /* a frame we cannot parse is dropped */
	zmq_msg_close(&msg);
	return (Sira__V1__Frame *)m;
}

int
link_poll(struct link *l, int timeout_ms, Sira__V1__Frame **frame,
    enum link_event *event, bool *nudged)
{
	zmq_pollitem_t it[3] = { { l->sock, 0, ZMQ_POLLIN, 0 },
		{ l->mon, 0, ZMQ_POLLIN, 0 }, { l->nudge, 0, ZMQ_POLLIN, 0 } };

	*frame = NULL;
	*event = LINK_NONE;
	*nudged = false;
	if (zmq_poll(it, 3, timeout_ms) < 0)
		return -SIRA_EIO; /* EINTR included: the caller checks flags */
	if (it[1].revents & ZMQ_POLLIN)
		*event = read_monitor(l->mon);
	if (it[2].revents & ZMQ_POLLIN) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		while (zmq_msg_recv(&m, l->nudge, ZMQ_DONTWAIT) != -1)
			;
		zmq_msg_close(&m);
		*nudged = true;
	}
	if (it[0].revents & ZMQ_POLLIN)
		*frame = read_frame(l->sock, &l->rx_len);
	return 0;
}

Sira__V1__Frame *
link_next(struct link *l, size_t *len)
{
	size_t n = 0;
	Sira__V1__Frame *f;

	/* A frame that does not parse is dropped: look at the next one. */
	do {
		f = read_frame(l->sock, len);
	} while (f == NULL && *len > 0 && ++n < 64);
	return f;
}
