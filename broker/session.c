/*
 * session.c: the table of live agency sessions and their rate limits.
 *
 * A session is keyed by the agency id that ZAP authenticated, never by the
 * routing id the peer chose. A new Hello from an agency replaces its
 * routing id (the agent reconnected); deliveries in flight on the old
 * connection are forgotten and will be resent, because only an Ack removes
 * an envelope from the spool. Memory is bounded by the number of agencies
 * in the directory: nothing is allocated for a peer ZAP did not accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "broker.h"
#include "log.h"

struct session *
session_find(struct broker *b, const char *agency_id)
{
	for (size_t i = 0; i < b->n_sessions; i++)
		if (strcmp(b->sessions[i].agency_id, agency_id) == 0)
			return &b->sessions[i];
	return NULL;
}

struct session *
session_get(struct broker *b, const char *agency_id)
{
	struct session *s = session_find(b, agency_id), *grown;

	if (s != NULL)
		return s;
	/* Bounded: only authenticated agencies of the directory get here. */
	if (b->n_sessions >= b->dir->n + 1)
		return NULL;
	grown = realloc(b->sessions, (b->n_sessions + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	b->sessions = grown;
	s = &b->sessions[b->n_sessions++];
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->agency_id, sizeof(s->agency_id), "%s", agency_id);
	s->tokens = (double)b->cfg.burst;
	return s;
}

bool
session_take_token(
    struct broker *b, struct session *s, uint64_t now_ms, double cost)
{
	if (now_ms > s->refill_at_ms) {
		s->tokens += (double)(now_ms - s->refill_at_ms) *
		    (double)b->cfg.rate / 1000.0;
		if (s->tokens > (double)b->cfg.burst)
			s->tokens = (double)b->cfg.burst;
		s->refill_at_ms = now_ms;
	}
	if (s->tokens < cost)
		return false;
	s->tokens -= cost;
	return true;
}

void
session_forget_inflight(struct session *s, uint64_t seq)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n_inflight; i++) {
		if (s->inflight[i].seq != seq)
			s->inflight[j++] = s->inflight[i];
		else
			s->inflight_bytes -= s->inflight[i].bytes;
	}
	s->n_inflight = j;
}

void
session_reclaim(struct broker *b)
{
	size_t j = 0;

	for (size_t i = 0; i < b->n_sessions; i++)
		if (b->sessions[i].active)
			b->sessions[j++] = b->sessions[i];
	b->n_sessions = j;
}

void
session_reset(struct session *s)
{
	s->n_inflight = 0;
	s->inflight_bytes = 0;
	s->cursor = 0;
}

size_t
session_recheck(struct broker *b, struct batch *bt, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_sessions; i++) {
		struct session *s = &b->sessions[i];
		if (!s->active ||
		    directory_by_id(b->dir, s->agency_id, s->cert_id, now) !=
			NULL)
			continue;
		s->active = false;
		session_reset(s); /* its deliveries in flight are forgotten */
		batch_leaf(bt,
		    &(struct leaf_event){
			.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_PEER_REFUSED,
			.actor = s->agency_id,
			.reason = SIRA_EREVOKED });
		log_event(LOG_WARN, "peer.dropped",
		    "agency=%s reason=certificate revoked or expired",
		    s->agency_id);
		n++;
	}
	return n;
}

bool
session_malformed(struct session *s, uint64_t now)
{
	if (s->malformed_since != 0 &&
	    now - s->malformed_since < BROKER_MALFORMED_QUIET) {
		s->malformed_quiet++;
		return false;
	}
	s->malformed_since = now;
	s->malformed_quiet = 0;
	return true;
}

void
session_flush_quiet(struct broker *b, uint64_t now)
{
	for (size_t i = 0; i < b->n_sessions; i++) {
		struct session *s = &b->sessions[i];
		if (s->malformed_since == 0 ||
		    now - s->malformed_since < BROKER_MALFORMED_QUIET)
			continue;
		if (s->malformed_quiet > 0)
			log_event(LOG_WARN, "frame.malformed",
			    "agency=%s count=%llu seconds=%d (more of the same burst)",
			    s->agency_id,
			    (unsigned long long)s->malformed_quiet,
			    BROKER_MALFORMED_QUIET);
		s->malformed_since = 0;
		s->malformed_quiet = 0;
	}
}
