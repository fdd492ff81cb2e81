/*
 * zap.h: who may open a CurveZMQ session with the broker.
 *
 * libzmq 4.3.4 accepts every CURVE client when no ZAP handler answers
 * ("Stonehouse"). The broker therefore sets a ZAP domain AND
 * ZMQ_ZAP_ENFORCE_DOMAIN (draft option 93, honoured by the stable build),
 * binds its ZAP handler before the router socket, and refuses to start
 * unless a self-test shows that an unknown key is refused. The handler
 * accepts a key only if it is the transport key of a certificate in the
 * directory that is valid now and not revoked, and names the session
 * "<agency id>/<cert id in hex>" (ZAP User-Id), which the router reads from
 * every frame: a session is tied to the exact certificate that opened it,
 * so renewing an agency's keys does not keep its old key's sessions alive.
 */
#ifndef SIRA_ZAP_H
#define SIRA_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory.h"
#include "err.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "sira"

/* What one ZAP request decided, for the log. */
struct zap_decision {
	bool accepted;
	char agency_id[SIRA_AGENCY_ID_MAX + 1]; /* when accepted */
	char user_id[SIRA_AGENCY_ID_MAX + 2 + 2 * SIRA_HASH_LEN]; /* id/cert */
	uint8_t key[SIRA_CURVE_KEY_LEN]; /* the CURVE key presented */
	char key_hex[17];                /* first 8 bytes of the key */
	char address[64];                /* peer IP, as libzmq gives */
	const char *reason;              /* when refused */
};

/* Bind the ZAP handler (a REP socket) in context zctx. */
int zap_start(void *zctx, void **sock, struct sira_err *err);

/*
 * Configure a ROUTER socket as Sira's CURVE server: secret key, ZAP domain
 * with enforcement, ROUTER_MANDATORY, no ROUTER_HANDOVER, the frame size
 * limit, heartbeats. Every option's result is checked; the broker refuses
 * to run on a socket where one did not apply.
 */
int zap_configure_server(void *router,
    const uint8_t server_sk[static SIRA_CURVE_KEY_LEN], size_t max_frame,
    int heartbeat_ms, struct sira_err *err);

/*
 * Answer one pending ZAP request on sock using directory d at time now.
 * Returns 0 (and *dec says what was decided), -SIRA_ENOTFOUND when no
 * request was waiting, or -SIRA_EIO.
 */
int zap_handle(void *sock, const struct directory *d, uint64_t now,
    struct zap_decision *dec, struct sira_err *err);

/*
 * The CURVE server a self-test connects to: the ZeroMQ context to make the
 * test's sockets in, the endpoint the server is bound to, and its public key
 * (SIRA_CURVE_KEY_LEN bytes). Everything is borrowed for the call.
 */
struct zap_server {
	void *zctx;
	const char *endpoint;
	const uint8_t *pk;
};

/*
 * Connect to srv with a fresh, unknown CURVE key pair and check the
 * handshake fails, answering ZAP requests on zap_sock with directory d at
 * now meanwhile. Returns 0 when the unknown key was refused, -SIRA_EDENIED
 * if it got in (the broker must not start), -SIRA_EIO on setup errors.
 */
int zap_self_test(const struct zap_server *srv, void *zap_sock,
    const struct directory *d, uint64_t now, struct sira_err *err);

#endif
