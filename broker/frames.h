/*
 * frames.h: building the broker's outgoing control frames. Each function
 * returns a fresh malloc'd Frame encoding in *out (caller frees), or a
 * negative SIRA_E* code (only -SIRA_ENOMEM in practice).
 */
#ifndef SIRA_FRAMES_H
#define SIRA_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "control.pb-c.h"

/*
 * A Nack to send: the request it answers, the message it refuses (msgid;
 * empty when it names none), why (a SIRA_E* code of either sign), a short
 * English text for an operator (NULL for none; never message contents) and
 * the seconds to wait before retrying (0 for no advice). Everything is
 * borrowed for the call.
 */
struct nack {
	uint64_t request_id;
	struct bytes msgid;
	int reason;
	const char *detail;
	uint64_t retry_after;
};

int frames_pack(
    Sira__V1__Frame *f, uint64_t request_id, uint8_t **out, size_t *len);
int frames_nack(const struct nack *nk, uint8_t **out, size_t *len);
int frames_heartbeat(uint64_t request_id, uint64_t seq, uint64_t now,
    uint8_t **out, size_t *len);

#endif
