/*
 * nudge.c: the daemon's doorbell. The daemon binds a PULL socket at
 * ipc://HOME/nudge (link.c); whoever changes the store in a way the daemon
 * must act on (a queued message, a receipt to send) rings it. Ringing
 * never blocks and is a no-op when no daemon listens: the daemon also
 * looks at its store on its own timer.
 */
#include <stdio.h>

#include <zmq.h>

#include "store/store.h"

int
nudge_endpoint(const struct home *h, char out[PATH_MAX + 16])
{
	int n = snprintf(out, PATH_MAX + 16, "ipc://%s/nudge", h->dir);

	return n < 0 || n >= PATH_MAX + 16 ? -1 : 0;
}

void
nudge_daemon(const struct home *h)
{
	char ep[PATH_MAX + 16];
	void *ctx, *push;
	int linger = 500; /* long enough for a local ipc connect */

	if (nudge_endpoint(h, ep) != 0 || (ctx = zmq_ctx_new()) == NULL)
		return;
	if ((push = zmq_socket(ctx, ZMQ_PUSH)) != NULL) {
		(void)zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
		if (zmq_connect(push, ep) == 0)
			(void)zmq_send(push, "", 0, ZMQ_DONTWAIT);
		zmq_close(push);
	}
	zmq_ctx_term(ctx);
}
