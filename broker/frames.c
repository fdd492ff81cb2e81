/*
 * frames.c: packing outgoing Frame messages. The texts in a Nack are short
 * English reasons for an operator; they never carry message contents.
 */
#include <stdlib.h>

#include "frames.h"
#include "wire.h"

int
frames_pack(Sira__V1__Frame *f, uint64_t request_id, uint8_t **out, size_t *len)
{
	f->version = 1;
	f->request_id = request_id;
	return wire_pack(&f->base, out, len, NULL);
}

int
frames_nack(const struct nack *nk, uint8_t **out, size_t *len)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Nack n = SIRA__V1__NACK__INIT;

	n.message_id.data = (uint8_t *)(uintptr_t)nk->msgid.p;
	n.message_id.len = nk->msgid.p != NULL ? nk->msgid.len : 0;
	n.reason =
	    (Sira__V1__Reason)(nk->reason < 0 ? -nk->reason : nk->reason);
	n.detail = (char *)(uintptr_t)(nk->detail != NULL ? nk->detail : "");
	n.retry_after = nk->retry_after;
	f.body_case = SIRA__V1__FRAME__BODY_NACK;
	f.nack = &n;
	return frames_pack(&f, nk->request_id, out, len);
}

int
frames_heartbeat(
    uint64_t request_id, uint64_t seq, uint64_t now, uint8_t **out, size_t *len)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Heartbeat h = SIRA__V1__HEARTBEAT__INIT;

	h.seq = seq;
	h.time = now;
	f.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &h;
	return frames_pack(&f, request_id, out, len);
}
