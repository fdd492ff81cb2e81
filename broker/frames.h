/*
 * frames.h: building the broker's outgoing control frames. Each function
 * returns a fresh malloc'd Frame encoding in *out (caller frees), or a
 * negative SIRA_E* code (only -SIRA_ENOMEM in practice).
 */
#ifndef SIRA_FRAMES_H
#define SIRA_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"

int frames_pack(
    Sira__V1__Frame *f, uint64_t request_id, uint8_t **out, size_t *len);
int frames_nack(uint64_t request_id, const uint8_t *msgid, size_t msgid_len,
    int reason, const char *detail, uint64_t retry_after, uint8_t **out,
    size_t *len);
int frames_heartbeat(uint64_t request_id, uint64_t seq, uint64_t now,
    uint8_t **out, size_t *len);

#endif
