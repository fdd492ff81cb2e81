/*
 * link.h: the agent's connection to the broker: a DEALER socket with
 * CurveZMQ, the broker's key pinned from its CA-verified certificate,
 * reconnecting by itself with exponential backoff (libzmq's reconnect
 * interval doubling up to a minute, started at a random 0.5-1.5 s so that
 * agencies coming back after a power cut do not all knock at once). A
 * socket monitor tells the daemon when a connection is up, so it can say
 * Hello on every new connection.
 */
#ifndef SIRA_LINK_H
#define SIRA_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/agent.h"
#include "control.pb-c.h"

struct link {
	void *zctx;
	void *sock;
	void *mon;   /* PAIR socket receiving monitor events */
	void *nudge; /* PULL socket the CLI pokes after queueing */
	uint64_t next_request;
	/* Pacing under the broker's rate limit (its Welcome says it): a
	 * token bucket charged like the broker charges, 1 per frame plus 1
	 * per 64 KiB. */
	double tokens, rate, burst;
	uint64_t refill_ms;
};

enum link_event { LINK_NONE, LINK_UP, LINK_DOWN };

int link_open(struct link *l, const struct agent *a, struct sira_err *err);
void link_close(struct link *l);

/* Pace at most rate frames/s with bursts of burst (80 % of what the
 * broker allows, so clocks and rounding never reach its limit). */
void link_pace(struct link *l, uint32_t rate, uint32_t burst);
/* The broker said slow down: send nothing for seconds. */
void link_pause(struct link *l, uint64_t seconds);
/* May work that can wait (a submission, a proof request) be sent now? */
bool link_can_send(struct link *l);

/* Send f (request id assigned and returned in *request_id). */
int link_send(struct link *l, Sira__V1__Frame *f, uint64_t *request_id);

/*
 * Wait up to timeout_ms for anything. *frame gets a received frame (caller
 * frees with sira__v1__frame__free_unpacked) or NULL; *event a connection
 * change; *nudged whether the CLI poked us.
 */
int link_poll(struct link *l, int timeout_ms, Sira__V1__Frame **frame,
    enum link_event *event, bool *nudged);

#endif
