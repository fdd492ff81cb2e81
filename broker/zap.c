/*
 * zap.c: the broker's ZAP handler (RFC 27) and its CURVE server setup.
 *
 * The handler runs in the broker's main loop on a REP socket in the same
 * context as the router, so there is no thread to lose: if the loop stops,
 * handshakes stop too (and with enforcement on, they fail rather than
 * pass). Requests are parsed strictly: seven frames, version "1.0",
 * mechanism "CURVE", domain "sira", a 32-byte key; anything else is 400.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "log.h"
#include "zap.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define ZAP_FRAMES 7
#define ZAP_FRAME_MAX 256

int
zap_start(void *zctx, void **sock, struct sira_err *err)
{
	int linger = 0;

	if ((*sock = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(*sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_bind(*sock, ZAP_ENDPOINT) != 0)
		return sira_err_set(err, SIRA_EIO,
		    "cannot start ZAP handler: %s", zmq_strerror(zmq_errno()));
	return 0;
}

int
zap_configure_server(void *router,
    const uint8_t server_sk[static SIRA_CURVE_KEY_LEN], size_t max_frame,
    int heartbeat_ms, struct sira_err *err)
{
	int one = 1, zero = 0, hb_timeout = heartbeat_ms * 3, linger = 0;
	int64_t maxmsg = (int64_t)max_frame;

	if (zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof(one)) ||
	    zmq_setsockopt(
		router, ZMQ_CURVE_SECRETKEY, server_sk, SIRA_CURVE_KEY_LEN) ||
	    zmq_setsockopt(
		router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) ||
	    zmq_setsockopt(router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)) ||
	    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) ||
	    zmq_setsockopt(router, ZMQ_ROUTER_HANDOVER, &zero, sizeof(zero)) ||
	    zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) ||
	    zmq_setsockopt(router, ZMQ_HEARTBEAT_IVL, &heartbeat_ms,
		sizeof(heartbeat_ms)) ||
	    zmq_setsockopt(router, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout,
		sizeof(hb_timeout)) ||
	    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof(linger)))
		return sira_err_set(err, SIRA_EIO,
		    "cannot configure the CURVE server socket: %s",
		    zmq_strerror(zmq_errno()));
	return 0;
}

/* Receive the request's frames; returns the number read, or -1. */
static int
recv_request(void *sock, zmq_msg_t frames[ZAP_FRAMES], int *extra)
{
	int n = 0, more = 1;

	*extra = 0;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, n == 0 ? ZMQ_DONTWAIT : 0) == -1) {
			zmq_msg_close(&m);
			return n == 0 ? -1 : n;
		}
		more = zmq_msg_more(&m);
		if (n < ZAP_FRAMES)
			frames[n++] = m;
		else {
			(*extra)++;
			zmq_msg_close(&m);
		}
	}
	return n;
}

static int
frame_is(zmq_msg_t *m, const char *s)
{
	return zmq_msg_size(m) == strlen(s) &&
	    memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

static void
decide(zmq_msg_t f[ZAP_FRAMES], int n, int extra, const struct directory *d,
    uint64_t now, struct zap_decision *dec)
{
	const struct cert *c;
	size_t alen;

	memset(dec, 0, sizeof(*dec));
	dec->reason = "malformed request";
	if (n != ZAP_FRAMES || extra != 0 || !frame_is(&f[0], "1.0"))
		return;
	alen = zmq_msg_size(&f[3]) < sizeof(dec->address) - 1 ?
	    zmq_msg_size(&f[3]) :
	    sizeof(dec->address) - 1;
	memcpy(dec->address, zmq_msg_data(&f[3]), alen);
	dec->address[alen] = '\0';
	if (!frame_is(&f[2], ZAP_DOMAIN) || !frame_is(&f[5], "CURVE") ||
	    zmq_msg_size(&f[6]) != SIRA_CURVE_KEY_LEN) {
		dec->reason = "wrong domain or mechanism";
		return;
	}
	memcpy(dec->key, zmq_msg_data(&f[6]), SIRA_CURVE_KEY_LEN);
	(void)sodium_bin2hex(dec->key_hex, sizeof(dec->key_hex), dec->key, 8);
	if ((c = directory_by_key(d, zmq_msg_data(&f[6]), now)) == NULL) {
		dec->reason = "unknown, expired or revoked key";
		return;
	}
	dec->accepted = true;
	dec->reason = "ok";
	(void)snprintf(
	    dec->agency_id, sizeof(dec->agency_id), "%s", c->agency_id);
	{
		char hex[2 * SIRA_HASH_LEN + 1];
		(void)sodium_bin2hex(hex, sizeof(hex), c->id, SIRA_HASH_LEN);
		(void)snprintf(dec->user_id, sizeof(dec->user_id), "%s/%s",
		    c->agency_id, hex);
	}
}

static int
send_frame(void *sock, const void *p, size_t len, int more)
{
	return zmq_send(sock, p, len, more ? ZMQ_SNDMORE : 0) == -1 ? -1 : 0;
}

int
zap_handle(void *sock, const struct directory *d, uint64_t now,
    struct zap_decision *dec, struct sira_err *err)
{
	zmq_msg_t f[ZAP_FRAMES];
	int n, extra, rc = 0;
	const char *code;

	if ((n = recv_request(sock, f, &extra)) < 0)
		return -SIRA_ENOTFOUND;
	decide(f, n, extra, d, now, dec);
	code = dec->accepted ? "200" : "400";
	/* REP must answer every request, even a malformed one. */
	if (send_frame(sock, "1.0", 3, 1) ||
	    send_frame(sock, n > 1 ? zmq_msg_data(&f[1]) : "",
		n > 1 ? zmq_msg_size(&f[1]) : 0, 1) ||
	    send_frame(sock, code, 3, 1) ||
	    send_frame(sock, dec->reason, strlen(dec->reason), 1) ||
	    send_frame(sock, dec->user_id,
		dec->accepted ? strlen(dec->user_id) : 0, 1) ||
	    send_frame(sock, "", 0, 0))
		rc = sira_err_set(err, SIRA_EIO, "ZAP reply failed: %s",
		    zmq_strerror(zmq_errno()));
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return rc;
}

/* The next monitor event number, or 0. */
static uint16_t
monitor_event(void *mon)
{
	zmq_msg_t ev;
	uint16_t event = 0;

	zmq_msg_init(&ev);
	if (zmq_msg_recv(&ev, mon, 0) == -1)
		return 0;
	if (zmq_msg_size(&ev) >= sizeof(event))
		memcpy(&event, zmq_msg_data(&ev), sizeof(event));
	zmq_msg_close(&ev);
	zmq_msg_init(&ev); /* second frame: the endpoint */
	if (zmq_msg_recv(&ev, mon, 0) != -1)
		zmq_msg_close(&ev);
	return event;
}

/*
 * Wait until the self-test connection has been refused BY ZAP: a ZAP
 * decision "refused" for it, then a failed handshake. A connection that
 * fails for another reason proves nothing; the client reconnects and we
 * keep watching. Any successful handshake is fatal.
 */
static int
watch_handshake(void *mon, void *zap_sock, const struct directory *d,
    uint64_t now, struct sira_err *err)
{
	bool refused = false;

	for (int round = 0; round < 100; round++) {
		zmq_pollitem_t items[2] = { { mon, 0, ZMQ_POLLIN, 0 },
			{ zap_sock, 0, ZMQ_POLLIN, 0 } };
		struct zap_decision dec;
		uint16_t event;
		if (zmq_poll(items, 2, 100) < 0)
			continue;
		if ((items[1].revents & ZMQ_POLLIN) &&
		    zap_handle(zap_sock, d, now, &dec, NULL) == 0) {
			log_event(dec.accepted ? LOG_ERROR : LOG_INFO,
			    "selftest.zap", "key=%s decision=%s", dec.key_hex,
			    dec.accepted ? "ACCEPTED (unsafe)" : "refused");
			refused |= !dec.accepted;
		}
		if ((items[0].revents & ZMQ_POLLIN) == 0)
			continue;
		event = monitor_event(mon);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			return sira_err_set(err, SIRA_EDENIED,
			    "self-test: an unknown CURVE key was accepted; refusing to run");
		if (refused &&
		    (event &
			(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
			    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
			    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
			    ZMQ_EVENT_DISCONNECTED)))
			return 0;
	}
	return sira_err_set(err, SIRA_EIO,
	    "self-test: no ZAP refusal of an unknown key within 10 s");
}

int
zap_self_test(const struct zap_server *srv, void *zap_sock,
    const struct directory *d, uint64_t now, struct sira_err *err)
{
	char pk[41], sk[41], spk[41];
	void *client = NULL, *mon = NULL;
	int linger = 0, rc;

	if (zmq_curve_keypair(pk, sk) != 0 ||
	    zmq_z85_encode(spk, srv->pk, SIRA_CURVE_KEY_LEN) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, "self-test: no CURVE support");
	if ((client = zmq_socket(srv->zctx, ZMQ_DEALER)) == NULL ||
	    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(client, ZMQ_CURVE_SERVERKEY, spk, 40) ||
	    zmq_setsockopt(client, ZMQ_CURVE_PUBLICKEY, pk, 40) ||
	    zmq_setsockopt(client, ZMQ_CURVE_SECRETKEY, sk, 40) ||
	    zmq_socket_monitor(
		client, "inproc://sira-selftest", ZMQ_EVENT_ALL) != 0 ||
	    (mon = zmq_socket(srv->zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_connect(mon, "inproc://sira-selftest") != 0 ||
	    zmq_connect(client, srv->endpoint) != 0)
		rc = sira_err_set(err, SIRA_EIO, "self-test setup: %s",
		    zmq_strerror(zmq_errno()));
	else
		rc = watch_handshake(mon, zap_sock, d, now, err);
	sodium_memzero(sk, sizeof(sk));
	if (client != NULL) {
		(void)zmq_socket_monitor(client, NULL, 0);
		zmq_close(client);
	}
	if (mon != NULL)
		zmq_close(mon);
	return rc;
}
