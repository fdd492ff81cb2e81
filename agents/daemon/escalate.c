/*
 * escalate.c: overdue steps, escalated (docs/WORKFLOWS.md, "Deadlines").
 *
 * Once connected (its clock checked against the broker's), and then
 * every ESCALATE_EVERY seconds, the daemon looks at every case
 * (workflow/deadlines.c says what is overdue). Stage 1, when a step is overdue:
 * a reminder to the agency that owes it, and an event on the case that
 * `status`, `cases`, the inbox and the web interface show. Stage 2,
 * escalate_hours after the reminder: a metadata-only notice to every
 * coordination agency of the directory, the case reference blinded with a key
 * of this agency (docs/SECURITY.md). Each stage is recorded on the case in the
 * transaction that queues its notice, so a crash or a restart never sends one
 * twice. Nothing here logs a case reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "workflow/workflow.h"
#include "i18n.h"
#include "log.h"
#include "wire.h"

#define ESCALATE_EVERY 60
#define NOTICE_TTL ((uint32_t)7 * 86400)
#define BLIND_PURPOSE "deadline.committee"
#define KIND_NOTICE SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_DEADLINE_NOTICE
#define CTYPE_NOTICE "sira.deadline-notice.v1"

struct round {
	struct daemon *d;
	struct vault_txn *t;
	uint64_t now;
	struct due_roles roles; /* its t follows ours */
	char **refs;            /* cases with a stage due */
	size_t n_refs;
	char **committee; /* coordination agencies but us */
	size_t n_committee;
	bool failed;
};

static struct due_scan
scan_of(struct round *x)
{
	x->roles.a = x->d->a;
	x->roles.t = x->t;
	x->roles.now = x->now;
	return (struct due_scan){ &x->d->deadlines, x->d->a->me->agency_id,
		x->now, due_roles_of, &x->roles };
}

static int
push(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(*grown));

	if (grown == NULL)
		return -SIRA_ENOMEM;
	*list = grown;
	if ((grown[*n] = strdup(s)) == NULL)
		return -SIRA_ENOMEM;
	(*n)++;
	return 0;
}

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* cases_each: remember the cases that have a stage due now. */
static int
want_row(void *ctx, const Sira__V1__CaseRecord *r)
{
	struct round *x = ctx;
	struct due_scan s = scan_of(x);
	struct due due[DEADLINES_PER_CASE];
	size_t n = deadlines_overdue(r, &s, due);

	for (size_t i = 0; i < n; i++)
		if (due[i].next != 0) {
			if (push(&x->refs, &x->n_refs, r->case_ref) != 0)
				x->failed = true;
			break;
		}
	return 0;
}

/* vault_each over VT_CERTS: the valid coordination agencies but us. */
static int
committee_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct round *x = ctx;
	struct cert *c = NULL;
	bool known = false;

	(void)key;
	(void)klen;
	if (cert_verify(x->d->a->ca, x->d->a->crl, bytes_of(val, vlen), x->now,
		&c, NULL) != 0)
		return 0;
	for (size_t i = 0; i < x->n_committee; i++)
		known = known || strcmp(x->committee[i], c->agency_id) == 0;
	if (c->role == SIRA_ROLE_COORDINATION && !known &&
	    strcmp(c->agency_id, x->d->a->me->agency_id) != 0 &&
	    push(&x->committee, &x->n_committee, c->agency_id) != 0)
		x->failed = true;
	cert_destroy(&c);
	return 0;
}

/* Queue notice n to to[0..n_to) about case_ref ("" for the committee). */
static int
queue_notice(struct vault_txn *t, Sira__V1__DeadlineNotice *n,
    const struct outgoing *shape, uint64_t now, uint8_t id[16])
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	struct outgoing m = *shape;
	struct sira_err err;
	uint8_t *b = NULL;
	size_t len;
	int rc;

	p.body_case = SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE;
	p.deadline_notice = n;
	if ((rc = wire_pack(&p.base, &b, &len, &err)) != 0)
		return rc;
	m.payload = bytes_of(b, len);
	rc = book_queue(t, &m, now, id, &err);
	free(b);
	return rc;
}

static void
notice_of(const struct round *x, const struct due *d, uint32_t stage,
    Sira__V1__DeadlineNotice *n)
{
	sira__v1__deadline_notice__init(n);
	n->step = (Sira__V1__DeadlineStep)d->step;
	n->stage = stage;
	n->waiting = x->d->a->me->agency_id;
	n->owing = (char *)(uintptr_t)d->owing;
	n->due_at = d->due_at;
	n->late = d->late;
}

/* Stage 1: remind the agency that owes the step; note it on the case. */
static int
remind(struct round *x, Sira__V1__CaseRecord *r, const struct due *d)
{
	Sira__V1__DeadlineNotice n;
	const char *to[1] = { d->owing };
	uint8_t id[16];
	int rc;

	notice_of(x, d, 1, &n);
	n.case_ref = r->case_ref;
	n.item_id.data = (uint8_t *)(uintptr_t)d->item_id;
	n.item_id.len = 16;
	if ((rc = queue_notice(x->t, &n,
		 &(struct outgoing){ to, 1, KIND_NOTICE, CTYPE_NOTICE,
		     r->case_ref, { NULL, 0 }, NOTICE_TTL, NULL },
		 x->now, id)) != 0 ||
	    (rc = cases_event(r, x->now, x->d->a->me->agency_id,
		 "deadline.overdue", deadlines_step_word(d->step), id)) != 0)
		return rc;
	return deadlines_mark(r, d, 1, x->now);
}

/* Stage 2: tell the committee, metadata only. */
static int
escalate(struct round *x, Sira__V1__CaseRecord *r, const struct due *d)
{
	Sira__V1__DeadlineNotice n;
	uint8_t blind[DEADLINE_BLIND_LEN], id[16];
	int rc;

	if (x->n_committee == 0) {
		log_event(LOG_WARN, "deadline.no_committee",
		    "step=%s owing=%s (no coordination agency in the "
		    "directory: the committee is told when one is)",
		    deadlines_step_word(d->step), d->owing);
		return 0; /* not marked: tried again next round */
	}
	notice_of(x, d, 2, &n);
	n.case_ref = (char *)"";
	vault_blind(x->t, BLIND_PURPOSE, r->case_ref, blind);
	n.blinded_ref.data = blind;
	n.blinded_ref.len = sizeof(blind);
	if ((rc = queue_notice(x->t, &n,
		 &(struct outgoing){ (const char *const *)x->committee,
		     x->n_committee, KIND_NOTICE, CTYPE_NOTICE, "", { NULL, 0 },
		     NOTICE_TTL, NULL },
		 x->now, id)) != 0 ||
	    (rc = cases_event(r, x->now, x->d->a->me->agency_id,
		 "deadline.escalated", deadlines_step_word(d->step), id)) != 0)
		return rc;
	return deadlines_mark(r, d, 2, x->now);
}

/* The stage d has due now, done; *done counts the stages reached. */
static int
act(struct round *x, Sira__V1__CaseRecord *r, const struct due *d, size_t *done)
{
	const Sira__V1__DeadlineMark *m;
	int rc = 0;

	if (d->next == 1)
		rc = remind(x, r, d);
	else if (d->next == 2)
		rc = escalate(x, r, d);
	m = deadlines_mark_of(r, d->step, d->item_id);
	if (rc == 0 && m != NULL && m->stage != d->stage)
		(*done)++;
	return rc;
}

/* After the commit: what the round did to r, one line per stage. */
static void
log_done(const struct round *x, const Sira__V1__CaseRecord *r,
    const struct due *due, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const Sira__V1__DeadlineMark *m =
		    deadlines_mark_of(r, due[i].step, due[i].item_id);
		if (m == NULL || m->stage == due[i].stage)
			continue;
		log_event(LOG_INFO,
		    m->stage == 1 ? "deadline.reminder" : "deadline.escalated",
		    "step=%s owing=%s late_h=%llu committee=%zu",
		    deadlines_step_word(due[i].step), due[i].owing,
		    (unsigned long long)(due[i].late / 3600),
		    m->stage == 1 ? (size_t)0 : x->n_committee);
	}
}

/* One case in its own transaction: what is due now, done and marked. */
static int
escalate_case(struct round *x, const char *ref, bool *queued)
{
	Sira__V1__CaseRecord *r = NULL;
	struct due due[DEADLINES_PER_CASE];
	struct due_scan s;
	struct sira_err err;
	size_t n = 0, done = 0;
	int rc;

	if ((rc = vault_begin(x->d->a->vault, true, &x->t, &err)) != 0)
		return rc;
	if ((rc = cases_load(x->t, ref, &r, &err)) == 0) {
		s = scan_of(x);
		n = deadlines_overdue(r, &s, due);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = act(x, r, &due[i], &done);
	}
	if (rc == 0 && done > 0 &&
	    (rc = cases_save(x->t, r, x->now, &err)) == 0 &&
	    (rc = vault_commit(&x->t, &err)) == 0)
		log_done(x, r, due, n);
	vault_abort(&x->t);
	if (r != NULL)
		sira__v1__case_record__free_unpacked(r, NULL);
	if (rc != 0)
		log_event(LOG_ERROR, "deadline.failed", "reason=%s",
		    sira_strerror(rc));
	*queued = *queued || (rc == 0 && done > 0);
	return rc;
}

/* Which cases have a stage due, and who the committee is (read-only). */
static int
survey(struct round *x)
{
	struct sira_err err;
	int rc;

	if ((rc = vault_begin(x->d->a->vault, false, &x->t, &err)) != 0)
		return rc;
	if ((rc = cases_each(x->t, want_row, x, &err)) == 0 && x->n_refs > 0)
		rc = vault_each(x->t, VT_CERTS, committee_row, x, &err);
	vault_abort(&x->t);
	return rc != 0 ? rc : x->failed ? -SIRA_ENOMEM : 0;
}

static void
round_free(struct round *x)
{
	due_roles_free(&x->roles);
	free_list(x->refs, x->n_refs);
	free_list(x->committee, x->n_committee);
}

void
escalate_start(struct daemon *d)
{
	struct sira_err err;
	char what[sizeof(d->alarm)];

	sira_err_clear(&err);
	if (deadline_conf_load(&d->a->home, &d->deadlines, &err) != 0) {
		log_event(LOG_ERROR, "deadline.config",
		    "reason=%s (the default deadlines apply)", err.msg);
		(void)snprintf(
		    what, sizeof(what), "deadlines: %.200s", err.msg);
		status_alarm(d, what);
	}
	d->last_escalate = 0; /* a first round at once */
}

void
escalate_tick(struct daemon *d, uint64_t now)
{
	struct round x;
	bool queued = false;

	/* Only on a clock the broker's Welcome found right: a laptop a week
	 * ahead must not tell the committee a referral is stuck. */
	if (!d->session || d->clock_bad ||
	    (d->last_escalate != 0 && now - d->last_escalate < ESCALATE_EVERY))
		return;
	d->last_escalate = now;
	memset(&x, 0, sizeof(x));
	x.d = d;
	x.now = now;
	if (survey(&x) == 0)
		for (size_t i = 0; i < x.n_refs; i++)
			if (escalate_case(&x, x.refs[i], &queued) == -SIRA_EIO)
				break;
	round_free(&x);
	if (queued)
		d->last_pump = 0; /* send them now */
}
