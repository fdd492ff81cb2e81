/*
 * send.c: the one place frames leave the broker: a [routing id, frame]
 * message on the ROUTER socket, never blocking. The loop (router.c) owns
 * the socket; handle.c answers at once through here and commit.c once the
 * group commit is durable, so neither needs the loop.
 */
#include <zmq.h>

#include "broker.h"

int
send_frame(struct broker *b, const uint8_t *rid, size_t rid_len,
    const uint8_t *frame, size_t len)
{
	if (zmq_send(b->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
		return -SIRA_EIO; /* peer gone: the spool keeps what matters */
	if (zmq_send(b->router, frame, len, ZMQ_DONTWAIT) == -1)
		return -SIRA_EIO;
	return 0;
}
