/*
 * pending.c: the requests the daemon has sent the broker and waits an
 * answer for, matched by request id.
 *
 * The table is bounded (DAEMON_PENDING_MAX): when full, the oldest request
 * is forgotten and its answer, if it ever comes, is ignored; the work it
 * belonged to is simply asked again. Requests unanswered for their time are
 * forgotten the same way (the broker may refuse a frame without naming it:
 * a rate-limit Nack comes before the frame is read).
 */
#include <string.h>

#include "daemon/daemon.h"

#define PENDING_TTL 20 /* seconds: an answer this late is not coming */

struct pending *
pending_expect(struct pending_table *pt, uint64_t request_id,
    enum pending_kind kind, const uint8_t *id, uint64_t now)
{
	struct pending *p;

	if (pt->n == DAEMON_PENDING_MAX) {
		memmove(
		    pt->p, pt->p + 1, (DAEMON_PENDING_MAX - 1) * sizeof(*p));
		pt->n--;
	}
	p = &pt->p[pt->n++];
	memset(p, 0, sizeof(*p));
	p->request_id = request_id;
	p->kind = kind;
	if (id != NULL)
		memcpy(p->id, id, 16);
	p->sent_at = now;
	p->ttl = PENDING_TTL;
	return p;
}

bool
pending_has(
    const struct pending_table *pt, enum pending_kind kind, const uint8_t *id)
{
	for (size_t i = 0; i < pt->n; i++)
		if (pt->p[i].kind == kind && memcmp(pt->p[i].id, id, 16) == 0)
			return true;
	return false;
}

size_t
pending_count(const struct pending_table *pt, enum pending_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < pt->n; i++)
		n += pt->p[i].kind == kind;
	return n;
}

void
pending_expire(struct pending_table *pt, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < pt->n; i++)
		if (now - pt->p[i].sent_at < pt->p[i].ttl)
			pt->p[j++] = pt->p[i];
	pt->n = j;
}

bool
pending_take(struct pending_table *pt, uint64_t request_id, struct pending *out)
{
	for (size_t i = 0; i < pt->n; i++) {
		if (pt->p[i].request_id != request_id)
			continue;
		*out = pt->p[i];
		memmove(
		    &pt->p[i], &pt->p[i + 1], (pt->n - i - 1) * sizeof(*out));
		pt->n--;
		return true;
	}
	return false;
}

void
pending_clear(struct pending_table *pt)
{
	pt->n = 0;
}
