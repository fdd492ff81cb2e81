/*
 * deadlines.c: which steps of a case are overdue, as pure functions on a
 * CaseRecord (docs/WORKFLOWS.md, "Deadlines"). Only the agency that waits
 * tracks a deadline: the referrer for an answer and for the first
 * feedback after an acceptance, the prosecutor's office for a file
 * request. What escalation did is kept on the record (DeadlineMark), so
 * the daemon (daemon/escalate.c) never sends a notice twice. The check
 * of a DeadlineNotice another agency sent is here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"
#include "cert.h"
#include "i18n.h"

#define HOUR ((uint64_t)3600)

/* The index of the mark of (step, item) on r, or r->n_deadlines. */
static size_t
mark_index(const Sira__V1__CaseRecord *r, int step, const uint8_t item_id[16])
{
	size_t i;

	for (i = 0; i < r->n_deadlines; i++) {
		const Sira__V1__DeadlineMark *m = r->deadlines[i];
		if ((int)m->step == step && m->item_id.len == 16 &&
		    memcmp(m->item_id.data, item_id, 16) == 0)
			break;
	}
	return i;
}

const Sira__V1__DeadlineMark *
deadlines_mark_of(
    const Sira__V1__CaseRecord *r, int step, const uint8_t item_id[16])
{
	size_t i = mark_index(r, step, item_id);

	return i < r->n_deadlines ? r->deadlines[i] : NULL;
}

/* A later leg from the same referrer to the same agency replaces l. */
static bool
superseded(const Sira__V1__CaseRecord *r, size_t i)
{
	const Sira__V1__CaseLeg *l = r->legs[i];

	if (l->state == SIRA__V1__LEG_STATE__LEG_STATE_SUPERSEDED)
		return true;
	for (size_t j = i + 1; j < r->n_legs; j++)
		if (strcmp(r->legs[j]->from, l->from) == 0 &&
		    strcmp(r->legs[j]->to, l->to) == 0)
			return true;
	return false;
}

/* Fill d for a step of item due at due_at; whether it is overdue. */
static bool
overdue(const Sira__V1__CaseRecord *r, const struct due_scan *s, struct due *d,
    uint64_t due_at)
{
	const Sira__V1__DeadlineMark *m =
	    deadlines_mark_of(r, d->step, d->item_id);
	uint64_t esc = (uint64_t)s->conf->escalate * HOUR;

	if (s->now <= due_at)
		return false;
	d->due_at = due_at;
	d->late = s->now - due_at;
	d->stage = m != NULL ? m->stage : 0;
	d->next_at = d->stage == 0 ? due_at :
	    d->stage == 1          ? m->stage1_at + esc :
				     0;
	d->next = d->stage == 0                   ? 1 :
	    d->stage == 1 && s->now >= d->next_at ? 2 :
						    0;
	return true;
}

static uint64_t
hours(const uint32_t *table, int role)
{
	if (role < 0 || role > SIRA_ROLE_MAX)
		role = SIRA_ROLE_UNSPECIFIED;
	return (uint64_t)table[role] * HOUR;
}

/* The step leg l waits for, with its deadline; false when none. */
static bool
leg_step(const Sira__V1__CaseLeg *l, const struct due_scan *s, int role,
    int *step, uint64_t *due_at)
{
	uint64_t h;

	if (l->state == SIRA__V1__LEG_STATE__LEG_STATE_PENDING) {
		*step = SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER;
		h = hours(s->conf->answer, role);
		*due_at = l->sent_at + h;
	} else if (l->state == SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED) {
		*step = SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FEEDBACK;
		h = hours(s->conf->feedback, role);
		*due_at = (l->answered_at ? l->answered_at : l->sent_at) + h;
	} else
		return false;
	return h != 0;
}

static size_t
scan_legs(const Sira__V1__CaseRecord *r, const struct due_scan *s,
    struct due *out, size_t n, size_t max)
{
	for (size_t i = 0; i < r->n_legs && n < max; i++) {
		const Sira__V1__CaseLeg *l = r->legs[i];
		uint64_t due_at;
		int step;
		if (strcmp(l->from, s->me) != 0 || l->message_id.len != 16 ||
		    superseded(r, i) ||
		    !leg_step(l, s, s->role_of(s->ctx, l->to), &step, &due_at))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].step = step;
		out[n].owing = l->to;
		out[n].item_id = l->message_id.data;
		if (overdue(r, s, &out[n], due_at))
			n++;
	}
	return n;
}

static size_t
scan_requests(const Sira__V1__CaseRecord *r, const struct due_scan *s,
    struct due *out, size_t n, size_t max)
{
	for (size_t i = 0; i < r->n_requests && n < max; i++) {
		const Sira__V1__FileRequestRecord *q = r->requests[i];
		uint64_t h;
		if (strcmp(q->requester, s->me) != 0 ||
		    q->state !=
			SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING ||
		    q->request_id.len != 16 ||
		    (h = hours(s->conf->file, s->role_of(s->ctx, q->holder))) ==
			0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].step = SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FILE;
		out[n].owing = q->holder;
		out[n].item_id = q->request_id.data;
		if (overdue(r, s, &out[n], q->requested_at + h))
			n++;
	}
	return n;
}

size_t
deadlines_overdue(const Sira__V1__CaseRecord *r, const struct due_scan *s,
    struct due out[static DEADLINES_PER_CASE])
{
	size_t n = scan_legs(r, s, out, 0, DEADLINES_PER_CASE);

	return scan_requests(r, s, out, n, DEADLINES_PER_CASE);
}

int
deadlines_mark(
    Sira__V1__CaseRecord *r, const struct due *d, uint32_t stage, uint64_t now)
{
	size_t i = mark_index(r, d->step, d->item_id);
	Sira__V1__DeadlineMark *m = i < r->n_deadlines ? r->deadlines[i] : NULL;
	Sira__V1__DeadlineMark **grown;

	if (m == NULL) {
		if (r->n_deadlines >= DEADLINES_MARKS_MAX)
			return -SIRA_ETOOBIG;
		grown = realloc(
		    r->deadlines, (r->n_deadlines + 1) * sizeof(*grown));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		r->deadlines = grown;
		if ((m = malloc(sizeof(*m))) == NULL)
			return -SIRA_ENOMEM;
		sira__v1__deadline_mark__init(m);
		if ((m->item_id.data = malloc(16)) == NULL) {
			free(m);
			return -SIRA_ENOMEM;
		}
		memcpy(m->item_id.data, d->item_id, 16);
		m->item_id.len = 16;
		m->step = (Sira__V1__DeadlineStep)d->step;
		r->deadlines[r->n_deadlines++] = m;
	}
	m->stage = stage;
	if (stage == 1)
		m->stage1_at = now;
	else
		m->stage2_at = now;
	return 0;
}

const char *
deadlines_step_word(int step)
{
	switch (step) {
	case SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER:
		return "answer";
	case SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FEEDBACK:
		return "feedback";
	case SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FILE:
		return "file_request";
	default:
		return "unknown";
	}
}

static bool
step_known(int step)
{
	return step >= SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER &&
	    step <= SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FILE;
}

int
deadline_notice_check(const Sira__V1__DeadlineNotice *n,
    const struct notice_ctx *x, struct sira_err *err)
{
	const char *sender = x->sender, *me = x->me;

	if (!step_known((int)n->step) || (n->stage != 1 && n->stage != 2))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "deadline notice: unknown step or stage");
	if (!cert_agency_id_valid(n->waiting) ||
	    !cert_agency_id_valid(n->owing) || strcmp(n->waiting, sender) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "deadline notice: the waiting agency is not its sender");
	if (n->stage == 1 &&
	    (strcmp(n->owing, me) != 0 || !workflow_ref_valid(n->case_ref) ||
		n->item_id.len != 16 || n->blinded_ref.len != 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "deadline notice: a reminder must name us, the case and "
		    "the step, and nothing blinded");
	if (n->stage == 2 &&
	    (x->my_role != SIRA_ROLE_COORDINATION || n->case_ref[0] != '\0' ||
		n->item_id.len != 0 ||
		n->blinded_ref.len != DEADLINE_BLIND_LEN))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "deadline notice: a committee notice goes to the "
		    "committee and carries only the blinded reference");
	if (n->due_at == 0 || n->due_at > (uint64_t)253402300799 ||
	    n->late > (uint64_t)100 * 365 * 86400)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "deadline notice: impossible dates");
	return 0;
}

const char *
deadlines_late_text(uint64_t late, char buf[static DEADLINE_TEXT_LEN])
{
	char n[24];

	if (late >= 86400)
		(void)snprintf(n, sizeof(n), _("%llu d"),
		    (unsigned long long)(late / 86400));
	else
		(void)snprintf(n, sizeof(n), _("%llu h"),
		    (unsigned long long)(late / 3600));
	(void)snprintf(buf, DEADLINE_TEXT_LEN, _("late by %s"), n);
	return buf;
}
