/*
 * retention.c: the retention rules applied (docs/WORKFLOWS.md,
 * "Retention"). retention_of reads one case record: its kind of case,
 * whether it is still open, and the day its period ends. retention_scan
 * walks every case record (all of VT_CASES, however many) and lists the
 * cases whose period has passed; retention_erase erases them here in
 * batches of RETENTION_BATCH, each one transaction with one scan of the
 * outbox and inbox (erase_cases_in). A case is never due while a step of
 * it is open (a referral unanswered or under way, a file request
 * unanswered), under a legal hold, or while a message about it still
 * waits for its receipts. Nothing is ordered to other agencies: each
 * keeps a case by its own rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "i18n.h"
#include "workflow/workflow.h"

#define DAY 86400ULL

/* Is a case with this referral a child's? Unknown ages are not. */
static bool
is_child(const Sira__V1__Age *a)
{
	if (a == NULL)
		return false;
	return a->is_minor ||
	    (a->years > 0 && a->years < SIRA_REFERRAL_ADULT) ||
	    (a->max_years > 0 && a->max_years < SIRA_REFERRAL_ADULT);
}

/* Alert, child, or neither, from the referral the record keeps. */
static int
kind_of_referral(const Sira__V1__CaseRecord *r, enum retain_kind *k)
{
	ProtobufCMessage *m = NULL;
	const Sira__V1__Referral *ref;

	if (r->referral.len == 0)
		return 0;
	if (wire_unpack(&sira__v1__referral__descriptor, r->referral.data,
		r->referral.len, AGENT_PAYLOAD_MAX, &m, NULL) != 0)
		return -1;
	ref = (const Sira__V1__Referral *)m;
	if (ref->anonymous_alert)
		*k = RETAIN_ALERT;
	else if (is_child(ref->age))
		*k = RETAIN_CHILD;
	sira__v1__referral__free_unpacked((Sira__V1__Referral *)m, NULL);
	return 0;
}

/* Did any referral of r take the person on? */
static bool
ever_taken_on(const Sira__V1__CaseRecord *r)
{
	for (size_t i = 0; i < r->n_legs; i++)
		if (r->legs[i]->state ==
			SIRA__V1__LEG_STATE__LEG_STATE_COMPLETED ||
		    r->legs[i]->state ==
			SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED ||
		    r->legs[i]->state == SIRA__V1__LEG_STATE__LEG_STATE_STARTED)
			return true;
	return false;
}

static bool
is_open(const Sira__V1__CaseRecord *r)
{
	for (size_t i = 0; i < r->n_legs; i++)
		if (cases_leg_active(r->legs[i]))
			return true;
	for (size_t i = 0; i < r->n_requests; i++)
		if (r->requests[i]->state ==
		    SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
			return true;
	return false;
}

void
retention_of(const Sira__V1__CaseRecord *r, const struct retain_conf *c,
    struct retain_item *it)
{
	enum retain_kind k = RETAIN_KINDS;
	uint32_t days;

	memset(it, 0, sizeof(*it));
	(void)snprintf(it->ref, sizeof(it->ref), "%s", r->case_ref);
	it->last = r->updated_at > r->opened_at ? r->updated_at : r->opened_at;
	it->open = is_open(r);
	it->held = r->hold != NULL && r->hold->by[0] != '\0';
	/* An unreadable referral: no rule can say what it is, so none
	 * applies (kept until erased by hand). */
	it->unreadable = kind_of_referral(r, &k) != 0;
	if (k == RETAIN_KINDS)
		k = r->transferred_to[0] != '\0' && !r->held ?
		    RETAIN_TRANSFERRED :
		    r->n_legs > 0 && !ever_taken_on(r) ? RETAIN_DECLINED :
							 RETAIN_CLOSED;
	it->kind = k;
	days = c->days[k];
	it->due_at = days == 0 || it->unreadable ? 0 : it->last + days * DAY;
}

struct scan_ctx {
	const struct retain_conf *c;
	uint64_t now;
	struct retain_list *l;
};

static int
take(void *ctx, const Sira__V1__CaseRecord *r)
{
	struct scan_ctx *s = ctx;
	struct retain_list *l = s->l;
	struct retain_item it, *grown;

	retention_of(r, s->c, &it);
	l->cases++;
	if (it.open)
		l->open++;
	if (it.due_at == 0 || it.due_at > s->now || it.open)
		return 0;
	if (it.held) {
		l->held++;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		if ((grown = realloc(l->items, cap * sizeof(*grown))) == NULL)
			return -SIRA_ENOMEM;
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n++] = it;
	return 0;
}

int
retention_scan(struct vault_txn *t, const struct retain_conf *c, uint64_t now,
    struct retain_list *l, struct sira_err *err)
{
	struct scan_ctx s = { c, now, l };
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = cases_each(t, take, &s, err)) == -SIRA_ENOMEM)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (rc != 0)
		retention_list_free(l);
	return rc;
}

void
retention_list_free(struct retain_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void
retention_done_add(struct retention_done *sum, const struct retention_done *d)
{
	sum->b.erased += d->b.erased;
	sum->b.held += d->b.held;
	sum->b.busy += d->b.busy;
	sum->b.outbox += d->b.outbox;
	sum->b.inbox += d->b.inbox;
	sum->files += d->files;
}

/* One batch of l's items from *next: erased in one transaction. */
static int
erase_some(struct agent *a, const struct retain_list *l, size_t *next,
    const struct erase_req *q, struct retention_done *sum, struct sira_err *err)
{
	const char *refs[RETENTION_BATCH];
	struct erase_batch b;
	struct vault_txn *t = NULL;
	size_t n = 0;
	int rc;

	while (n < RETENTION_BATCH && *next < l->n)
		refs[n++] = l->items[(*next)++].ref;
	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if ((rc = erase_cases_in(t, q, refs, n, &b, err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc != 0)
		return rc;
	erase_files(a, &sum->files);
	retention_done_add(sum, &(struct retention_done){ b, 0 });
	return 0;
}

int
retention_erase(struct agent *a, const struct retain_list *l,
    const struct erase_req *q, struct retention_done *done,
    struct sira_err *err)
{
	size_t next = 0;
	int rc = 0;

	memset(done, 0, sizeof(*done));
	while (rc == 0 && next < l->n)
		rc = erase_some(a, l, &next, q, done, err);
	return rc;
}
