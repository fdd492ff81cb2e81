/*
 * cases.c: the workflow state machine of a case (see workflow.h and
 * docs/WORKFLOWS.md). Pure functions on a CaseRecord: no vault, no
 * network, no printing. Every field set here is malloc'd so that
 * sira__v1__case_record__free_unpacked can free it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "workflow/workflow.h"
#include "clock.h"

static char *
dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Replace a string field (never the shared empty default) with a copy. */
static int
set_str(char **field, const char *s)
{
	char *c = dup(s);

	if (c == NULL)
		return -SIRA_ENOMEM;
	if (*field != NULL && *field != protobuf_c_empty_string)
		free(*field);
	*field = c;
	return 0;
}

static int
set_bytes(ProtobufCBinaryData *b, const uint8_t *p, size_t len)
{
	uint8_t *c = NULL;

	if (len > 0 && (c = malloc(len)) == NULL)
		return -SIRA_ENOMEM;
	if (len > 0)
		memcpy(c, p, len);
	free(b->data);
	b->data = c;
	b->len = len;
	return 0;
}

/* Grow a repeated message field by one, returning the new slot. */
static void *
push(void ***arr, size_t *n, size_t size)
{
	void **grown, *item;

	if ((item = calloc(1, size)) == NULL)
		return NULL;
	if ((grown = realloc(*arr, (*n + 1) * sizeof(*grown))) == NULL) {
		free(item);
		return NULL;
	}
	grown[*n] = item;
	*arr = grown;
	(*n)++;
	return item;
}

Sira__V1__CaseRecord *
cases_new(const char *case_ref, uint64_t now)
{
	Sira__V1__CaseRecord *r = malloc(sizeof(*r));

	if (r == NULL)
		return NULL;
	sira__v1__case_record__init(r);
	r->version = 1;
	r->opened_at = now;
	r->updated_at = now;
	if (set_str(&r->case_ref, case_ref) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

int
cases_event(Sira__V1__CaseRecord *r, uint64_t at, const char *actor,
    const char *action, const char *note, const uint8_t *message_id)
{
	Sira__V1__CaseEvent *e;

	if (r->n_timeline >= CASES_EVENTS_MAX)
		return -SIRA_ETOOBIG;
	e = push((void ***)&r->timeline, &r->n_timeline, sizeof(*e));
	if (e == NULL)
		return -SIRA_ENOMEM;
	sira__v1__case_event__init(e);
	e->time = at;
	if (set_str(&e->actor_agency_id, actor) != 0 ||
	    set_str(&e->action, action) != 0 || set_str(&e->note, note) != 0 ||
	    (message_id != NULL && set_bytes(&e->message_id, message_id, 16)))
		return -SIRA_ENOMEM;
	if (at > r->updated_at)
		r->updated_at = at;
	return 0;
}

bool
cases_leg_active(const Sira__V1__CaseLeg *l)
{
	return l->state == SIRA__V1__LEG_STATE__LEG_STATE_PENDING ||
	    l->state == SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED ||
	    l->state == SIRA__V1__LEG_STATE__LEG_STATE_STARTED;
}

/* The newest leg to `to` (newest: a case may be referred there again). */
Sira__V1__CaseLeg *
cases_leg_to(const Sira__V1__CaseRecord *r, const char *to, bool active_only)
{
	for (size_t i = r->n_legs; i > 0; i--) {
		Sira__V1__CaseLeg *l = r->legs[i - 1];
		if (strcmp(l->to, to) == 0 &&
		    (!active_only || cases_leg_active(l)))
			return l;
	}
	return NULL;
}

static Sira__V1__CaseLeg *
leg_by_msg(const Sira__V1__CaseRecord *r, const ProtobufCBinaryData *id)
{
	for (size_t i = 0; id->len == 16 && i < r->n_legs; i++)
		if (r->legs[i]->message_id.len == 16 &&
		    memcmp(r->legs[i]->message_id.data, id->data, 16) == 0)
			return r->legs[i];
	return NULL;
}

Sira__V1__FileRequestRecord *
cases_request_by_id(const Sira__V1__CaseRecord *r, const uint8_t request_id[16])
{
	for (size_t i = 0; i < r->n_requests; i++)
		if (r->requests[i]->request_id.len == 16 &&
		    memcmp(r->requests[i]->request_id.data, request_id, 16) ==
			0)
			return r->requests[i];
	return NULL;
}

static const char *
leg_state_fr(int s)
{
	switch (s) {
	case SIRA__V1__LEG_STATE__LEG_STATE_PENDING:
		return _("awaiting an answer");
	case SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED:
		return _("already accepted");
	case SIRA__V1__LEG_STATE__LEG_STATE_DECLINED:
		return _("already declined");
	case SIRA__V1__LEG_STATE__LEG_STATE_WITHDRAWN:
		return _("withdrawn by the referrer");
	case SIRA__V1__LEG_STATE__LEG_STATE_STARTED:
		return _("accepted, services started");
	case SIRA__V1__LEG_STATE__LEG_STATE_COMPLETED:
		return _("closed, services completed");
	case SIRA__V1__LEG_STATE__LEG_STATE_UNDELIVERED:
		return _("not delivered");
	case SIRA__V1__LEG_STATE__LEG_STATE_SUPERSEDED:
		return _("replaced by a newer referral");
	default:
		return _("in an unknown state");
	}
}

/*
 * The state machine of a leg, as one table used by local steps and by
 * incoming messages alike. A row says: from state, on event, the leg goes
 * to next. A local step finds no row and is refused; an incoming message
 * finds no row and is recorded as an anomaly, changing nothing. Rows with
 * a remote_note are taken only on another agency's word (its signed
 * message is already stored), and the note goes on the timeline.
 */
enum leg_event {
	LEG_ACCEPT,      /* the recipient accepts */
	LEG_DECLINE,     /* the recipient declines */
	LEG_START,       /* the recipient reports services started */
	LEG_COMPLETE,    /* the recipient reports services completed */
	LEG_WITHDRAW,    /* the referrer withdraws */
	LEG_UNDELIVERED, /* the referral's message was refused or expired */
	LEG_SUPERSEDE,   /* the same referrer sent the case again */
};

struct leg_rule {
	int state;
	enum leg_event event;
	int next;
	const char *remote_note; /* NULL: legal for local steps too */
};

#define LEG(s) SIRA__V1__LEG_STATE__LEG_STATE_##s
static const struct leg_rule leg_rules[] = {
	{ LEG(PENDING), LEG_ACCEPT, LEG(ACCEPTED), NULL },
	{ LEG(PENDING), LEG_DECLINE, LEG(DECLINED), NULL },
	{ LEG(ACCEPTED), LEG_START, LEG(STARTED), NULL },
	{ LEG(ACCEPTED), LEG_COMPLETE, LEG(COMPLETED), NULL },
	{ LEG(STARTED), LEG_COMPLETE, LEG(COMPLETED), NULL },
	{ LEG(PENDING), LEG_WITHDRAW, LEG(WITHDRAWN), NULL },
	{ LEG(ACCEPTED), LEG_WITHDRAW, LEG(WITHDRAWN),
	    "withdrawn after this agency answered: contact the referrer" },
	{ LEG(STARTED), LEG_WITHDRAW, LEG(WITHDRAWN),
	    "withdrawn after this agency answered: contact the referrer" },
	{ LEG(PENDING), LEG_UNDELIVERED, LEG(UNDELIVERED), NULL },
	{ LEG(PENDING), LEG_SUPERSEDE, LEG(SUPERSEDED), NULL },
};
#undef LEG

/* The rule for event on a leg in its state, or NULL when there is none
 * (or, for a local step, none a local step may take). */
static const struct leg_rule *
leg_rule(const Sira__V1__CaseLeg *l, enum leg_event event, bool remote)
{
	for (size_t i = 0; i < sizeof(leg_rules) / sizeof(leg_rules[0]); i++)
		if (leg_rules[i].state == (int)l->state &&
		    leg_rules[i].event == event &&
		    (remote || leg_rules[i].remote_note == NULL))
			return &leg_rules[i];
	return NULL;
}

/* Move l by event at time at; false (and nothing changed) when illegal. */
static bool
leg_move(Sira__V1__CaseLeg *l, enum leg_event event, bool remote, uint64_t at,
    const char **note)
{
	const struct leg_rule *rule = leg_rule(l, event, remote);

	if (rule == NULL)
		return false;
	l->state = (Sira__V1__LegState)rule->next;
	l->updated_at = at;
	if (note != NULL)
		*note = rule->remote_note;
	return true;
}

/* A file request: pending, then granted or refused, once. */
static bool
request_move(Sira__V1__FileRequestRecord *q, bool grant, uint64_t at)
{
	if (q->state != SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
		return false;
	q->state = grant ? SIRA__V1__REQUEST_STATE__REQUEST_STATE_GRANTED :
			   SIRA__V1__REQUEST_STATE__REQUEST_STATE_REFUSED;
	q->answered_at = at;
	return true;
}

static Sira__V1__CaseLeg *
new_leg(Sira__V1__CaseRecord *r, const struct case_msg *m)
{
	Sira__V1__CaseLeg *l;

	if (r->n_legs >= CASES_LEGS_MAX)
		return NULL;
	l = push((void ***)&r->legs, &r->n_legs, sizeof(*l));
	if (l == NULL)
		return NULL;
	sira__v1__case_leg__init(l);
	l->state = SIRA__V1__LEG_STATE__LEG_STATE_PENDING;
	l->sent_at = m->at;
	l->updated_at = m->at;
	if (set_str(&l->from, m->from) != 0 || set_str(&l->to, m->to) != 0 ||
	    (m->message_id != NULL &&
		set_bytes(&l->message_id, m->message_id, 16) != 0))
		return NULL;
	return l;
}

static int
not_held(const Sira__V1__CaseRecord *r, struct sira_err *err)
{
	if (r->transferred_to[0] != '\0')
		return sira_err_set(err, SIRA_ESTATE,
		    _("case %s was transferred to %s: this agency no longer holds it"),
		    r->case_ref, r->transferred_to);
	return sira_err_set(err, SIRA_ESTATE,
	    _("this agency does not hold case %s"), r->case_ref);
}

int
cases_refer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t *referral, size_t len, struct sira_err *err)
{
	Sira__V1__CaseLeg *l;

	/* A case that came to us (or left us) is referred on only while we
	 * hold it; a case we opened, or only exchanged notes about, is ours. */
	if (!r->held &&
	    (r->transferred_to[0] != '\0' || r->received_from[0] != '\0' ||
		cases_leg_to(r, m->from, false) != NULL))
		return not_held(r, err);
	if ((l = cases_leg_to(r, m->to, true)) != NULL)
		return sira_err_set(err, SIRA_ESTATE,
		    _("case %s is already referred to %s (%s)"), r->case_ref,
		    m->to, leg_state_fr(l->state));
	if (strcmp(m->to, m->from) == 0)
		return sira_err_set(err, SIRA_EINVAL,
		    _("an agency cannot refer a case to itself"));
	if (new_leg(r, m) == NULL ||
	    set_bytes(&r->referral, referral, len) != 0 ||
	    cases_event(
		r, m->at, m->from, "referral.sent", m->to, m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	r->held = true;
	return 0;
}

/* The newest referral to us from `from` (any referrer when NULL) that a
 * local answer is about, or NULL with err set. */
static Sira__V1__CaseLeg *
my_leg(const Sira__V1__CaseRecord *r, const char *me, const char *from,
    struct sira_err *err)
{
	for (size_t i = r->n_legs; i > 0; i--)
		if (strcmp(r->legs[i - 1]->to, me) == 0 &&
		    (from == NULL || strcmp(r->legs[i - 1]->from, from) == 0))
			return r->legs[i - 1];
	(void)sira_err_set(err, SIRA_ESTATE,
	    _("case %s has no referral addressed to this agency%s%s"),
	    r->case_ref, from ? " from " : "", from ? from : "");
	return NULL;
}

int
cases_answer(Sira__V1__CaseRecord *r, const struct case_msg *m, bool accept,
    const char *reason, const char *suggested, struct sira_err *err)
{
	Sira__V1__CaseLeg *l;

	if ((l = my_leg(r, m->from, m->to, err)) == NULL)
		return -SIRA_ESTATE;
	if (!leg_move(l, accept ? LEG_ACCEPT : LEG_DECLINE, false, m->at, NULL))
		return sira_err_set(err, SIRA_ESTATE,
		    _("the referral of case %s from %s is %s"), r->case_ref,
		    l->from, leg_state_fr(l->state));
	l->answered_at = m->at;
	if (set_str(&l->reason, reason) != 0 ||
	    set_str(&l->suggested, suggested) != 0 ||
	    cases_event(r, m->at, m->from,
		accept ? "referral.accepted" : "referral.declined", reason,
		m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (accept) { /* a case once transferred away may come back */
		r->held = true;
		if (set_str(&r->transferred_to, "") != 0)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
	}
	return 0;
}

int
cases_feedback(Sira__V1__CaseRecord *r, const struct case_msg *m,
    bool completed, const char *note, struct sira_err *err)
{
	Sira__V1__CaseLeg *l;

	if ((l = my_leg(r, m->from, m->to, err)) == NULL)
		return -SIRA_ESTATE;
	if (!leg_move(
		l, completed ? LEG_COMPLETE : LEG_START, false, m->at, NULL))
		return sira_err_set(err, SIRA_ESTATE,
		    _("feedback on case %s needs an accepted referral; it is %s"),
		    r->case_ref, leg_state_fr(l->state));
	if (cases_event(r, m->at, m->from,
		completed ? "service.completed" : "service.started", note,
		m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return 0;
}

int
cases_revoke(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const char *reason, struct sira_err *err)
{
	Sira__V1__CaseLeg *l = cases_leg_to(r, m->to, false);

	if (l == NULL || strcmp(l->from, m->from) != 0)
		return sira_err_set(err, SIRA_ESTATE,
		    _("this agency has not referred case %s to %s"),
		    r->case_ref, m->to);
	if (!leg_move(l, LEG_WITHDRAW, false, m->at, NULL))
		return sira_err_set(err, SIRA_ESTATE,
		    _("the referral of case %s to %s cannot be withdrawn: it is %s"),
		    r->case_ref, m->to, leg_state_fr(l->state));
	if (set_str(&l->reason, reason) != 0 ||
	    cases_event(r, m->at, m->from, "referral.withdrawn", reason,
		m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return 0;
}

int
cases_transfer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const char *note, struct sira_err *err)
{
	if (!r->held)
		return not_held(r, err);
	if (strcmp(m->to, m->from) == 0)
		return sira_err_set(err, SIRA_EINVAL,
		    _("an agency cannot transfer a case to itself"));
	if (set_str(&r->transferred_to, m->to) != 0 ||
	    cases_event(r, m->at, m->from, "case.transferred", note,
		m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	r->held = false;
	return 0;
}

int
cases_request(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t request_id[16], const char *basis, const char *purpose,
    struct sira_err *err)
{
	Sira__V1__FileRequestRecord *q;

	for (size_t i = 0; i < r->n_requests; i++)
		if (strcmp(r->requests[i]->holder, m->to) == 0 &&
		    r->requests[i]->state ==
			SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
			return sira_err_set(err, SIRA_ESTATE,
			    _("a request for case %s to %s is already pending"),
			    r->case_ref, m->to);
	if (r->n_requests >= CASES_REQUESTS_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("case %s has too many file requests"), r->case_ref);
	q = push((void ***)&r->requests, &r->n_requests, sizeof(*q));
	if (q == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	sira__v1__file_request_record__init(q);
	q->state = SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING;
	q->requested_at = m->at;
	if (set_bytes(&q->request_id, request_id, 16) != 0 ||
	    set_str(&q->requester, m->from) != 0 ||
	    set_str(&q->holder, m->to) != 0 ||
	    set_str(&q->legal_basis, basis) != 0 ||
	    set_str(&q->purpose, purpose) != 0 ||
	    (m->message_id != NULL &&
		set_bytes(&q->message_id, m->message_id, 16) != 0) ||
	    cases_event(
		r, m->at, m->from, "file.requested", basis, m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return 0;
}

int
cases_decide(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t request_id[16], bool grant, const char *reason,
    struct sira_err *err)
{
	Sira__V1__FileRequestRecord *q = cases_request_by_id(r, request_id);

	if (q == NULL || strcmp(q->holder, m->from) != 0)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("no request for the file of case %s was made to this agency"),
		    r->case_ref);
	if (grant && !r->held &&
	    q->state == SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING)
		return not_held(r, err);
	if (!request_move(q, grant, m->at))
		return sira_err_set(err, SIRA_ESTATE,
		    _("the request from %s was already %s"), q->requester,
		    q->state == SIRA__V1__REQUEST_STATE__REQUEST_STATE_GRANTED ?
			"granted" :
			"refused");
	if (set_str(&q->reason, reason) != 0 ||
	    cases_event(r, m->at, m->from,
		grant ? "file.granted" : "file.refused", reason,
		m->message_id) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return 0;
}

bool
cases_undelivered(
    Sira__V1__CaseRecord *r, Sira__V1__CaseLeg *l, const char *why, uint64_t at)
{
	if (!leg_move(l, LEG_UNDELIVERED, false, at, NULL))
		return false;
	(void)set_str(&l->reason, why);
	(void)cases_event(r, at, l->from, "referral.undelivered", l->to,
	    l->message_id.len == 16 ? l->message_id.data : NULL);
	return true;
}

/* ---- Remote steps ---- */

static void
anomaly(Sira__V1__CaseRecord *r, const struct case_msg *m, const char *what)
{
	(void)cases_event(r, m->at, m->from, "anomaly", what, m->message_id);
}

/*
 * The same referrer sends the case to us again (a resend under a new
 * message id, a second installation, a restored backup): its earlier
 * referrals still waiting for our answer are replaced by this one, so one
 * referral from it waits, and the timeline says so.
 */
static void
supersede(Sira__V1__CaseRecord *r, const struct case_msg *m)
{
	for (size_t i = 0; i < r->n_legs; i++) {
		Sira__V1__CaseLeg *l = r->legs[i];
		if (strcmp(l->from, m->from) != 0 ||
		    strcmp(l->to, m->to) != 0 ||
		    !leg_move(l, LEG_SUPERSEDE, true, m->at, NULL))
			continue;
		anomaly(r, m,
		    "the same agency referred this case again before an "
		    "answer: the newer referral replaces the earlier one");
	}
}

void
cases_on_referral(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t *referral, size_t len)
{
	ProtobufCBinaryData id = { 16, (uint8_t *)(uintptr_t)m->message_id };

	if (leg_by_msg(r, &id) != NULL)
		return; /* already recorded */
	supersede(r, m);
	if (new_leg(r, m) == NULL) {
		anomaly(r, m, "too many referrals of this case");
		return;
	}
	/* The first referral's content is the case's; a later one with other
	 * content (another agency using the same reference) is flagged. */
	if (r->referral.len == 0 && len > 0)
		(void)set_bytes(&r->referral, referral, len);
	else if (len != r->referral.len ||
	    memcmp(r->referral.data, referral, len) != 0)
		anomaly(r, m,
		    "a referral with other content under this case reference; "
		    "the first one is kept");
	(void)cases_event(
	    r, m->at, m->from, "referral.received", NULL, m->message_id);
}

/* The leg a remote answer is about: ours to m->from. */
static Sira__V1__CaseLeg *
answered_leg(const Sira__V1__CaseRecord *r, const struct case_msg *m,
    const ProtobufCBinaryData *ref_id)
{
	Sira__V1__CaseLeg *l = leg_by_msg(r, ref_id);

	if (l == NULL)
		l = cases_leg_to(r, m->from, false);
	if (l == NULL || strcmp(l->to, m->from) != 0 ||
	    strcmp(l->from, m->to) != 0)
		return NULL;
	return l;
}

void
cases_on_response(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__ReferralResponse *resp)
{
	bool accept = resp->decision ==
	    SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT;
	Sira__V1__CaseLeg *l = answered_leg(r, m, &resp->referral_message_id);

	if (l == NULL) {
		anomaly(r, m, "an answer to a referral this agency never made");
		return;
	}
	if (resp->decision !=
		SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT &&
	    resp->decision !=
		SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_DECLINE) {
		anomaly(r, m, "an answer that neither accepts nor declines");
		return;
	}
	if (!leg_move(
		l, accept ? LEG_ACCEPT : LEG_DECLINE, true, m->at, NULL)) {
		anomaly(r, m,
		    l->state == SIRA__V1__LEG_STATE__LEG_STATE_WITHDRAWN ?
			"an answer arrived after the referral was withdrawn" :
			"a second answer to the same referral");
		return;
	}
	l->answered_at = m->at;
	(void)set_str(&l->reason, resp->reason_text);
	(void)set_str(&l->suggested, resp->suggested_agency_id);
	(void)cases_event(r, m->at, m->from,
	    accept ? "referral.accepted" : "referral.declined",
	    resp->reason_text, m->message_id);
}

/* Does this agency still hold the case through another accepted leg? */
static bool
holds_otherwise(const Sira__V1__CaseRecord *r, const Sira__V1__CaseLeg *gone,
    const char *me)
{
	if (r->received_from[0] != '\0')
		return true;
	for (size_t i = 0; i < r->n_legs; i++) {
		const Sira__V1__CaseLeg *l = r->legs[i];
		if (l != gone && strcmp(l->to, me) == 0 &&
		    (l->state == SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED ||
			l->state == SIRA__V1__LEG_STATE__LEG_STATE_STARTED))
			return true;
	}
	return false;
}

/* The referrer withdraws the leg addressed to us. Only a live leg moves;
 * holding ends only if that leg was why we held the case. */
static void
withdrawn(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__ReferralUpdate *u)
{
	Sira__V1__CaseLeg *l = leg_by_msg(r, &u->referral_message_id);
	const char *note = NULL;

	if (l == NULL || strcmp(l->from, m->from) != 0 ||
	    strcmp(l->to, m->to) != 0) {
		anomaly(r, m, "a withdrawal of an unknown referral");
		return;
	}
	if (!leg_move(l, LEG_WITHDRAW, true, m->at, &note)) {
		anomaly(r, m, "a withdrawal of a referral already closed");
		return;
	}
	if (note != NULL) /* it had been answered */
		anomaly(r, m, note);
	(void)set_str(&l->reason, u->note);
	if (note != NULL && !holds_otherwise(r, l, m->to))
		r->held = false;
	(void)cases_event(
	    r, m->at, m->from, "referral.withdrawn", u->note, m->message_id);
}

void
cases_on_update(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__ReferralUpdate *u)
{
	Sira__V1__CaseLeg *l;
	const ProtobufCBinaryData *ref = &u->referral_message_id;

	if (u->kind == SIRA__V1__UPDATE_KIND__UPDATE_KIND_WITHDRAWN) {
		withdrawn(r, m, u);
		return;
	}
	if (u->kind != SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_STARTED &&
	    u->kind != SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_COMPLETED) {
		anomaly(r, m, "an update of an unknown kind");
		return;
	}
	if ((l = answered_leg(r, m, ref)) == NULL) {
		anomaly(r, m, "feedback on a referral this agency never made");
		return;
	}
	if (!leg_move(l,
		u->kind ==
			SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_COMPLETED ?
		    LEG_COMPLETE :
		    LEG_START,
		true, m->at, NULL)) {
		anomaly(r, m,
		    l->state == SIRA__V1__LEG_STATE__LEG_STATE_STARTED ?
			"services reported started a second time" :
			"feedback on a referral that was not accepted");
		return;
	}
	(void)cases_event(r, m->at, m->from,
	    l->state == SIRA__V1__LEG_STATE__LEG_STATE_COMPLETED ?
		"service.completed" :
		"service.started",
	    u->note, m->message_id);
}

static bool
same_event(const Sira__V1__CaseEvent *a, const Sira__V1__CaseEvent *b)
{
	return a->time == b->time && a->message_id.len == b->message_id.len &&
	    (a->message_id.len == 0 ||
		memcmp(a->message_id.data, b->message_id.data,
		    a->message_id.len) == 0) &&
	    strcmp(a->actor_agency_id, b->actor_agency_id) == 0 &&
	    strcmp(a->action, b->action) == 0;
}

static bool
known_event(const Sira__V1__CaseRecord *r, const Sira__V1__CaseEvent *e)
{
	for (size_t i = 0; i < r->n_history; i++)
		if (same_event(r->history[i], e))
			return true;
	for (size_t i = 0; i < r->n_timeline; i++)
		if (same_event(r->timeline[i], e))
			return true;
	return false;
}

/* Keep the timeline a file brings (earlier holders' history). The
 * referral it carries replaces ours only if we have none. */
static void
take_file(Sira__V1__CaseRecord *r, const Sira__V1__CaseFile *f)
{
	uint8_t *buf;
	size_t len;

	if (f == NULL)
		return;
	if (f->referral != NULL && r->referral.len == 0 &&
	    (len = sira__v1__referral__get_packed_size(f->referral)) > 0 &&
	    (buf = malloc(len)) != NULL) {
		(void)sira__v1__referral__pack(f->referral, buf);
		(void)set_bytes(&r->referral, buf, len);
		free(buf);
	}
	for (size_t i = 0; i < f->n_timeline; i++) {
		const Sira__V1__CaseEvent *e = f->timeline[i];
		Sira__V1__CaseEvent *c;
		if (known_event(r, e))
			continue; /* already here: back-and-forth transfers */
		if (r->n_history >= CASES_HISTORY_MAX)
			return;
		c = push((void ***)&r->history, &r->n_history, sizeof(*c));
		if (c == NULL)
			return;
		sira__v1__case_event__init(c);
		c->time = e->time;
		(void)set_str(&c->actor_agency_id, e->actor_agency_id);
		(void)set_str(&c->action, e->action);
		(void)set_str(&c->note, e->note);
		if (e->message_id.len == 16)
			(void)set_bytes(&c->message_id, e->message_id.data, 16);
	}
}

void
cases_on_transfer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseTransfer *ct)
{
	if (r->held) {
		anomaly(r, m, "a transfer of a case this agency already holds");
		return;
	}
	take_file(r, ct->file);
	r->held = true;
	(void)set_str(&r->received_from, m->from);
	(void)set_str(&r->transferred_to, "");
	(void)cases_event(
	    r, m->at, m->from, "case.received", ct->note, m->message_id);
}

void
cases_on_request(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseFileRequest *q)
{
	Sira__V1__FileRequestRecord *rec;

	if (q->request_id.len != 16 ||
	    cases_request_by_id(r, q->request_id.data) != NULL) {
		anomaly(r, m, "a file request with a reused id");
		return;
	}
	if (r->n_requests >= CASES_REQUESTS_MAX) {
		anomaly(r, m, "too many file requests on this case");
		return;
	}
	rec = push((void ***)&r->requests, &r->n_requests, sizeof(*rec));
	if (rec == NULL)
		return;
	sira__v1__file_request_record__init(rec);
	rec->state = SIRA__V1__REQUEST_STATE__REQUEST_STATE_PENDING;
	rec->requested_at = m->at;
	(void)set_bytes(&rec->request_id, q->request_id.data, 16);
	(void)set_str(&rec->requester, m->from);
	(void)set_str(&rec->holder, m->to);
	(void)set_str(&rec->legal_basis, q->legal_basis);
	(void)set_str(&rec->purpose, q->purpose);
	(void)set_bytes(&rec->message_id, m->message_id, 16);
	(void)cases_event(
	    r, m->at, m->from, "file.requested", q->legal_basis, m->message_id);
}

void
cases_on_file(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseFileResponse *f)
{
	Sira__V1__FileRequestRecord *q = NULL;
	bool grant =
	    f->decision == SIRA__V1__FILE_DECISION__FILE_DECISION_GRANT;

	if (f->request_id.len == 16)
		q = cases_request_by_id(r, f->request_id.data);
	if (q == NULL || strcmp(q->holder, m->from) != 0) {
		anomaly(r, m, "an answer to a file request never made");
		return;
	}
	if (!grant &&
	    f->decision != SIRA__V1__FILE_DECISION__FILE_DECISION_REFUSE) {
		anomaly(r, m, "an answer that neither grants nor refuses");
		return;
	}
	if (!request_move(q, grant, m->at)) {
		anomaly(r, m, "a second answer to the same file request");
		return;
	}
	(void)set_str(&q->reason, f->reason);
	if (grant)
		take_file(r, f->file);
	(void)cases_event(r, m->at, m->from,
	    grant ? "file.granted" : "file.refused", f->reason, m->message_id);
}
