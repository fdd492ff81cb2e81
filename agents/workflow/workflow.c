/*
 * workflow.c: the agent commands of the referral mechanism (see
 * workflow.h): refer, accept/decline, feedback, revoke, transfer,
 * request-file, grant/refuse, and the case moves of incoming messages.
 * It builds the payloads of proto/payload.proto, checks what people typed,
 * applies onward-sharing consent, and queues; cases.c decides legality.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "i18n.h"
#include "workflow/workflow.h"
#include "documents/documents.h"
#include "envelope.h"
#include "fileio.h"
#include "log.h"
#include "store/store.h"
#include "text.h"
#include "wire.h"

#define TEXT_MAX 2000 /* reason, note, legal basis: bytes of UTF-8 */

/* One local step: the transaction, the record and the message queued. */
struct step {
	struct agent *a;
	struct vault_txn *t;
	Sira__V1__CaseRecord *r;
	uint8_t id[16];
	struct case_msg m;
};

/* A text a person typed: UTF-8, bounded, no control characters but lines. */
static int
check_text(const char *what, const char *s, bool required, struct sira_err *err)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0)
		return required ?
		    sira_err_set(err, SIRA_EINVAL,
			_("%s is required (a short text)"), what) :
		    0;
	if (len > TEXT_MAX || !text_is_utf8(s, len))
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s must be UTF-8 text of at most %d bytes"), what,
		    TEXT_MAX);
	if (text_has_control_lines(s, len))
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s contains control or invisible characters"), what);
	return 0;
}

static int
check_agency(const char *what, const char *id, struct sira_err *err)
{
	if (id == NULL || !cert_agency_id_valid(id))
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s needs an agency id such as ml.ngo.bamako"), what);
	return 0;
}

static int
begin(struct step *s, struct agent *a, const struct wf_args *w,
    struct sira_err *err)
{
	memset(s, 0, sizeof(*s));
	s->a = a;
	s->m.from = a->me->agency_id;
	s->m.at = w->now;
	s->m.message_id = s->id;
	book_new_id(s->id); /* the steps record it before they queue */
	return vault_begin(a->vault, true, &s->t, err);
}

static int
load(struct step *s, const char *ref, bool create, struct sira_err *err)
{
	int rc = cases_load(s->t, ref, &s->r, err);

	if (rc == -SIRA_ENOTFOUND && create) {
		sira_err_clear(err);
		if ((s->r = cases_new(ref, s->m.at)) == NULL)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
		return 0;
	}
	return rc;
}

/* Queue p to s->m.to under s->id, as kind / content type. */
static int
queue(struct step *s, const struct wf_args *w, int kind, const char *ctype,
    const Sira__V1__Payload *p, struct sira_err *err)
{
	const char *to[1] = { s->m.to };
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = wire_pack(&p->base, &buf, &len, err)) != 0)
		return rc;
	if (len > AGENT_PAYLOAD_MAX)
		rc = sira_err_set(err, SIRA_ETOOBIG,
		    _("the message would be %zu bytes; the limit is %u"), len,
		    AGENT_PAYLOAD_MAX);
	else if ((rc = book_queue_as(s->t,
		      &(struct outgoing){ to, 1, kind, ctype, s->r->case_ref,
			  bytes_of(buf, len), w->ttl, w->person },
		      w->now, s->id, err)) == 0)
		rc = outbox_attach(
		    s->a, s->t, s->id, w->attach, w->n_attach, err);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* Save the record, commit, and say what was done. */
static int
finish(struct step *s, struct wf_result *res, int rc, struct sira_err *err)
{
	if (rc == 0 && (rc = cases_save(s->t, s->r, s->m.at, err)) == 0)
		rc = vault_commit(&s->t, err);
	vault_abort(&s->t);
	if (rc == 0) {
		(void)snprintf(
		    res->case_ref, sizeof(res->case_ref), "%s", s->r->case_ref);
		(void)sodium_bin2hex(
		    res->message_id, sizeof(res->message_id), s->id, 16);
		memcpy(res->id, s->id, 16);
		nudge_daemon(&s->a->home);
	}
	if (s->r != NULL)
		sira__v1__case_record__free_unpacked(s->r, NULL);
	s->r = NULL;
	return rc;
}

/*
 * Our pending referral to `to` whose message was refused or expired on
 * the way closes as undelivered, so the case can be referred there again.
 */
static void
close_undelivered(struct step *s, const char *to)
{
	Sira__V1__CaseLeg *l = cases_leg_to(s->r, to, true);
	Sira__V1__OutboxEntry *e = NULL;
	char why[160];

	if (l == NULL || l->message_id.len != 16 ||
	    strcmp(l->from, s->m.from) != 0 ||
	    book_get_out(s->t, l->message_id.data, &e, NULL) != 0)
		return;
	if (e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED ||
	    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_EXPIRED) {
		(void)snprintf(why, sizeof(why), "%s%s%s",
		    book_state_name(e->state), e->refused_reason ? ": " : "",
		    e->refused_reason ? sira_strerror(e->refused_reason) : "");
		(void)cases_undelivered(s->r, l, why, s->m.at);
	}
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

int
workflow_refer(struct agent *a, const struct wf_args *w, struct wf_result *res,
    struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__Referral *ref = NULL;
	enum sira_role role;
	struct step s;
	uint8_t *json = NULL, *rb = NULL;
	size_t jlen, rlen;
	int rc;

	if (check_agency("refer --to", w->to, err) != 0)
		return -SIRA_EINVAL;
	if (w->json != NULL)
		rc =
		    referral_from_json(w->json, w->json_len, w->now, &ref, err);
	else if ((rc = fileio_read(w->file, SIRA_REFERRAL_JSON_MAX, &json,
		      &jlen, err)) == 0) {
		rc = referral_from_json(
		    (const char *)json, jlen, w->now, &ref, err);
		sodium_memzero(json, jlen);
		free(json);
	}
	if (rc != 0)
		return rc;
	p.body_case = SIRA__V1__PAYLOAD__BODY_REFERRAL;
	p.referral = ref;
	if ((rc = begin(&s, a, w, err)) == 0 &&
	    (rc = peers_role(a, s.t, w->to, w->now, &role, err)) == 0 &&
	    (rc = load(&s, ref->case_ref, true, err)) == 0 &&
	    (rc = wire_pack(&ref->base, &rb, &rlen, err)) == 0) {
		s.m.to = w->to;
		close_undelivered(&s, w->to);
		if ((rc = queue(&s, w,
			 SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL,
			 "sira.referral.v1", &p, err)) == 0)
			rc = cases_refer(s.r, &s.m, rb, rlen, err);
	}
	if (rb != NULL)
		sodium_memzero(rb, rlen);
	free(rb);
	if (ref->anonymous_alert)
		(void)snprintf(res->notice, sizeof(res->notice),
		    "anonymous alert: no identifying details were sent");
	sira__v1__referral__free_unpacked(ref, NULL);
	return finish(&s, res, rc, err);
}

/* The referral to us a local answer (want_pending) or feedback is about:
 * the one in that state, from w->from if given; NULL with err set when
 * there is none, or several and no --from. */
static const Sira__V1__CaseLeg *
leg_to_me(const struct step *s, const char *from, bool want_pending,
    struct sira_err *err)
{
	const Sira__V1__CaseLeg *found = NULL, *any = NULL;
	size_t n = 0;

	for (size_t i = s->r->n_legs; i > 0; i--) {
		const Sira__V1__CaseLeg *l = s->r->legs[i - 1];
		bool fits = want_pending ?
		    l->state == SIRA__V1__LEG_STATE__LEG_STATE_PENDING :
		    (l->state == SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED ||
			l->state == SIRA__V1__LEG_STATE__LEG_STATE_STARTED);
		if (strcmp(l->to, s->m.from) != 0 ||
		    (from != NULL && strcmp(l->from, from) != 0))
			continue;
		if (any == NULL)
			any = l;
		if (fits && n++ == 0)
			found = l;
	}
	if (n > 1)
		(void)sira_err_set(err, SIRA_ESTATE,
		    _("%zu referrals of case %s are waiting here; say whose with "
		      "--from ID"),
		    n, s->r->case_ref);
	else if (any == NULL)
		(void)sira_err_set(err, SIRA_ESTATE,
		    _("case %s has no referral addressed to this agency%s%s"),
		    s->r->case_ref, from ? " from " : "", from ? from : "");
	/* none in the wanted state: cases.c says which state it is in */
	return n > 1 ? NULL : (found != NULL ? found : any);
}

int
workflow_answer(struct agent *a, const struct wf_args *w, bool accept,
    struct wf_result *res, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ReferralResponse rr = SIRA__V1__REFERRAL_RESPONSE__INIT;
	const Sira__V1__CaseLeg *l;
	struct step s;
	int rc;

	if (check_text("--reason", w->reason, !accept, err) != 0 ||
	    (w->suggest != NULL &&
		check_agency("--suggest", w->suggest, err) != 0) ||
	    (w->from != NULL && check_agency("--from", w->from, err) != 0))
		return -SIRA_EINVAL;
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = load(&s, w->ref, false, err)) != 0)
		return finish(&s, res, rc, err);
	if ((l = leg_to_me(&s, w->from, true, err)) == NULL)
		return finish(&s, res, -SIRA_ESTATE, err);
	s.m.to = l->from;
	rr.case_ref = s.r->case_ref;
	rr.referral_message_id = l->message_id;
	rr.decision = accept ?
	    SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT :
	    SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_DECLINE;
	rr.reason = accept ? 0 : SIRA__V1__DECLINE_REASON__DECLINE_REASON_OTHER;
	rr.reason_text = (char *)(uintptr_t)(w->reason ? w->reason : "");
	rr.suggested_agency_id =
	    (char *)(uintptr_t)(w->suggest ? w->suggest : "");
	p.body_case = SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE;
	p.referral_response = &rr;
	/* Decide first (it may refuse), then queue under the same id. */
	if ((rc = cases_answer(
		 s.r, &s.m, accept, w->reason, w->suggest, err)) == 0)
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_RESPONSE,
		    "sira.referral-response.v1", &p, err);
	return finish(&s, res, rc, err);
}

int
workflow_feedback(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	const Sira__V1__CaseLeg *l;
	struct step s;
	bool done;
	int rc;

	if (w->status == NULL ||
	    (strcmp(w->status, "started") != 0 &&
		strcmp(w->status, "completed") != 0))
		return sira_err_set(err, SIRA_EINVAL,
		    _("feedback needs --status started or --status completed"));
	done = strcmp(w->status, "completed") == 0;
	if (check_text("--note", w->note, false, err) != 0)
		return -SIRA_EINVAL;
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = load(&s, w->ref, false, err)) != 0)
		return finish(&s, res, rc, err);
	if ((l = leg_to_me(&s, w->from, false, err)) == NULL)
		return finish(&s, res, -SIRA_ESTATE, err);
	s.m.to = l->from;
	u.case_ref = s.r->case_ref;
	u.referral_message_id = l->message_id;
	u.kind = done ? SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_COMPLETED :
			SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_STARTED;
	u.note = (char *)(uintptr_t)(w->note ? w->note : "");
	p.body_case = SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE;
	p.referral_update = &u;
	if ((rc = cases_feedback(s.r, &s.m, done, w->note, err)) == 0)
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_UPDATE,
		    "sira.referral-update.v1", &p, err);
	return finish(&s, res, rc, err);
}

/* Our one pending referral of the case (to `to` if given), or NULL with
 * err set. */
static const Sira__V1__CaseLeg *
pending_leg(const struct step *s, const char *to, struct sira_err *err)
{
	const Sira__V1__CaseLeg *found = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->r->n_legs; i++) {
		const Sira__V1__CaseLeg *l = s->r->legs[i];
		if (strcmp(l->from, s->m.from) != 0 ||
		    l->state != SIRA__V1__LEG_STATE__LEG_STATE_PENDING ||
		    (to != NULL && strcmp(l->to, to) != 0))
			continue;
		found = l;
		n++;
	}
	if (n == 1)
		return found;
	if (n > 1)
		(void)sira_err_set(err, SIRA_ESTATE,
		    _("case %s is pending at %zu agencies; say which with --to"),
		    s->r->case_ref, n);
	else
		(void)sira_err_set(err, SIRA_ESTATE,
		    _("case %s has no referral from this agency waiting for an "
		      "answer%s%s"),
		    s->r->case_ref, to ? " at " : "", to ? to : "");
	return NULL;
}

int
workflow_revoke(struct agent *a, const struct wf_args *w, struct wf_result *res,
    struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	const Sira__V1__CaseLeg *l;
	struct step s;
	int rc;

	if (check_text("--reason", w->reason, true, err) != 0 ||
	    (w->to != NULL && check_agency("--to", w->to, err) != 0))
		return -SIRA_EINVAL;
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = load(&s, w->ref, false, err)) != 0)
		return finish(&s, res, rc, err);
	/* Named: cases_revoke says why it cannot be withdrawn, if so. */
	l = w->to != NULL ? cases_leg_to(s.r, w->to, false) : NULL;
	if (l == NULL && (l = pending_leg(&s, w->to, err)) == NULL)
		return finish(&s, res, -SIRA_ESTATE, err);
	s.m.to = l->to;
	u.case_ref = s.r->case_ref;
	u.referral_message_id = l->message_id;
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_WITHDRAWN;
	u.note = (char *)(uintptr_t)w->reason;
	p.body_case = SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE;
	p.referral_update = &u;
	if ((rc = cases_revoke(s.r, &s.m, w->reason, err)) == 0)
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_UPDATE,
		    "sira.referral-update.v1", &p, err);
	return finish(&s, res, rc, err);
}

/*
 * Onward sharing: does the person's consent cover an agency of this
 * role? Without it the file goes without identifying details.
 */
static bool
consent_covers(const Sira__V1__Referral *ref, enum sira_role role)
{
	int scope = ref->consent != NULL && ref->consent->given ?
	    ref->consent->scope :
	    SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_NONE;

	switch (scope) {
	case SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_SERVICES_AND_JUSTICE:
		return true;
	case SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_SERVICES:
		return role == SIRA_ROLE_NGO ||
		    role == SIRA_ROLE_SOCIAL_SERVICES ||
		    role == SIRA_ROLE_COORDINATION;
	default:
		return false; /* recipient only, or none */
	}
}

/* The case file as it leaves us: referral, whole timeline. Caller frees
 * with case_file_free. */
static int
build_file(const Sira__V1__CaseRecord *r, enum sira_role role,
    Sira__V1__CaseFile *f, Sira__V1__Referral **ref, struct wf_result *res,
    struct sira_err *err)
{
	size_t n = r->n_history + r->n_timeline;

	*ref = NULL;
	f->case_ref = r->case_ref;
	if (r->referral.len > 0 &&
	    wire_unpack(&sira__v1__referral__descriptor, r->referral.data,
		r->referral.len, AGENT_PAYLOAD_MAX, (ProtobufCMessage **)ref,
		NULL) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("the referral of case %s is damaged"), r->case_ref);
	if (*ref != NULL && (*ref)->identifying != NULL &&
	    !consent_covers(*ref, role)) {
		sira__v1__identifying_details__free_unpacked(
		    (*ref)->identifying, NULL);
		(*ref)->identifying = NULL;
		(void)snprintf(res->notice, sizeof(res->notice),
		    "identifying details withheld: the person's consent does "
		    "not cover a %s agency",
		    cert_role_name(role));
	}
	f->referral = *ref;
	if ((f->timeline = calloc(n + 1, sizeof(*f->timeline))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	/* The newest CASES_HISTORY_MAX events: what a receiver takes. */
	for (size_t i = n > CASES_HISTORY_MAX ? n - CASES_HISTORY_MAX : 0;
	     i < n; i++)
		f->timeline[f->n_timeline++] = i < r->n_history ?
		    r->history[i] :
		    r->timeline[i - r->n_history];
	return 0;
}

static void
file_release(Sira__V1__CaseFile *f, Sira__V1__Referral *ref)
{
	free(f->timeline); /* the events belong to the record */
	f->timeline = NULL;
	if (ref != NULL)
		sira__v1__referral__free_unpacked(ref, NULL);
}

int
workflow_transfer(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__CaseTransfer ct = SIRA__V1__CASE_TRANSFER__INIT;
	Sira__V1__CaseFile f = SIRA__V1__CASE_FILE__INIT;
	Sira__V1__Referral *ref = NULL;
	enum sira_role role;
	struct step s;
	int rc;

	if (check_agency("transfer --to", w->to, err) != 0 ||
	    check_text("--note", w->note, false, err) != 0)
		return -SIRA_EINVAL;
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = peers_role(a, s.t, w->to, w->now, &role, err)) != 0 ||
	    (rc = load(&s, w->ref, false, err)) != 0)
		return finish(&s, res, rc, err);
	s.m.to = w->to;
	/* The file carries the history up to the hand-over. */
	if ((rc = build_file(s.r, role, &f, &ref, res, err)) == 0 &&
	    (rc = cases_transfer(s.r, &s.m, w->note, err)) == 0) {
		ct.case_ref = s.r->case_ref;
		ct.note = (char *)(uintptr_t)(w->note ? w->note : "");
		ct.file = &f;
		p.body_case = SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER;
		p.case_transfer = &ct;
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_CASE_TRANSFER,
		    "sira.case-transfer.v1", &p, err);
	}
	file_release(&f, ref);
	return finish(&s, res, rc, err);
}

int
workflow_request(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__CaseFileRequest q = SIRA__V1__CASE_FILE_REQUEST__INIT;
	uint8_t rid[16];
	struct step s;
	int rc;

	if (a->me->role != SIRA_ROLE_JUSTICE)
		return sira_err_set(err, SIRA_EDENIED,
		    _("only a prosecutor's office (role justice) requests case "
		      "files; this agency is %s"),
		    cert_role_name(a->me->role));
	if (check_agency("request-file --from", w->from, err) != 0 ||
	    check_text("--basis (the legal basis)", w->basis, true, err) != 0 ||
	    check_text("--purpose", w->purpose, false, err) != 0)
		return -SIRA_EINVAL;
	book_new_id(rid);
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = peers_role(
		 a, s.t, w->from, w->now, &(enum sira_role){ 0 }, err)) != 0 ||
	    (rc = load(&s, w->ref, true, err)) != 0)
		return finish(&s, res, rc, err);
	s.m.to = w->from;
	q.request_id.data = rid;
	q.request_id.len = 16;
	q.case_ref = s.r->case_ref;
	q.legal_basis = (char *)(uintptr_t)w->basis;
	q.purpose = (char *)(uintptr_t)(w->purpose ? w->purpose : "");
	q.requested_by = a->me->display_name;
	p.body_case = SIRA__V1__PAYLOAD__BODY_FILE_REQUEST;
	p.file_request = &q;
	if ((rc = cases_request(s.r, &s.m, rid, w->basis, w->purpose, err)) ==
	    0)
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_REQUEST,
		    "sira.file-request.v1", &p, err);
	if (rc == 0)
		(void)sodium_bin2hex(
		    res->request_id, sizeof(res->request_id), rid, 16);
	return finish(&s, res, rc, err);
}

int
workflow_decide(struct agent *a, const struct wf_args *w, bool grant,
    struct wf_result *res, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__CaseFileResponse fr = SIRA__V1__CASE_FILE_RESPONSE__INIT;
	Sira__V1__CaseFile f = SIRA__V1__CASE_FILE__INIT;
	const Sira__V1__FileRequestRecord *q;
	Sira__V1__Referral *ref = NULL;
	enum sira_role role = SIRA_ROLE_UNSPECIFIED; /* unknown: no consent */
	uint8_t rid[16];
	size_t len = 0;
	struct step s;
	int rc;

	if (sodium_hex2bin(rid, sizeof(rid), w->ref, strlen(w->ref), NULL, &len,
		NULL) != 0 ||
	    len != 16)
		return sira_err_set(err, SIRA_EINVAL,
		    _("'%s' is not a request id (32 hex digits, see sira-agent "
		      "cases)"),
		    w->ref);
	if (check_text("--reason", w->reason, !grant, err) != 0)
		return -SIRA_EINVAL;
	if ((rc = begin(&s, a, w, err)) != 0 ||
	    (rc = cases_find_request(s.t, rid, &s.r, err)) != 0)
		return finish(&s, res, rc, err);
	q = cases_request_by_id(s.r, rid);
	s.m.to = q->requester;
	(void)peers_role(a, s.t, q->requester, w->now, &role, NULL);
	fr.request_id.data = rid;
	fr.request_id.len = 16;
	fr.case_ref = s.r->case_ref;
	fr.decision = grant ? SIRA__V1__FILE_DECISION__FILE_DECISION_GRANT :
			      SIRA__V1__FILE_DECISION__FILE_DECISION_REFUSE;
	fr.reason = (char *)(uintptr_t)(w->reason ? w->reason : "");
	p.body_case = SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE;
	p.file_response = &fr;
	/* The file shows the history up to the grant, then it is recorded. */
	if (grant && s.r->held &&
	    (rc = build_file(s.r, role, &f, &ref, res, err)) == 0)
		fr.file = &f;
	if (rc == 0 &&
	    (rc = cases_decide(s.r, &s.m, rid, grant, w->reason, err)) == 0)
		rc = queue(&s, w,
		    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_RESPONSE,
		    "sira.file-response.v1", &p, err);
	file_release(&f, ref);
	return finish(&s, res, rc, err);
}

/* ---- incoming ---- */

static bool
body_fits(int kind, int body)
{
	switch (kind) {
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL:
		return body == SIRA__V1__PAYLOAD__BODY_REFERRAL;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_RESPONSE:
		return body == SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_UPDATE:
		return body == SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_CASE_TRANSFER:
		return body == SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_REQUEST:
		return body == SIRA__V1__PAYLOAD__BODY_FILE_REQUEST;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_RESPONSE:
		return body == SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE;
	case SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_DEADLINE_NOTICE:
		return body == SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE;
	default:
		return false;
	}
}

/* The case reference inside the payload (must equal the manifest's). */
static const char *
body_ref(const Sira__V1__Payload *p)
{
	switch (p->body_case) {
	case SIRA__V1__PAYLOAD__BODY_REFERRAL:
		return p->referral->case_ref;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE:
		return p->referral_response->case_ref;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE:
		return p->referral_update->case_ref;
	case SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER:
		return p->case_transfer->case_ref;
	case SIRA__V1__PAYLOAD__BODY_FILE_REQUEST:
		return p->file_request->case_ref;
	case SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE:
		return p->file_response->case_ref;
	case SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE:
		return p->deadline_notice->case_ref;
	default:
		return "";
	}
}

/* A referral is kept packed alone; one that breaks the rules is kept
 * too (it is signed evidence) but flagged. */
static void
on_referral(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__Referral *ref, uint64_t now)
{
	struct sira_err e;
	uint8_t *b = NULL;
	size_t len = 0;

	sira_err_clear(&e);
	if (referral_validate(ref, now, &e) != 0)
		(void)cases_event(r, m->at, m->from, "anomaly",
		    "the referral does not follow the consent or field rules",
		    m->message_id);
	if (wire_pack(&ref->base, &b, &len, NULL) != 0)
		return;
	cases_on_referral(r, m, b, len);
	if (b != NULL)
		sodium_memzero(b, len);
	free(b);
}

static void
apply(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__Payload *p, const struct wf_incoming *in)
{
	switch (p->body_case) {
	case SIRA__V1__PAYLOAD__BODY_REFERRAL:
		on_referral(r, m, p->referral, in->at);
		break;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE:
		cases_on_response(r, m, p->referral_response);
		break;
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE:
		cases_on_update(r, m, p->referral_update);
		break;
	case SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER:
		cases_on_transfer(r, m, p->case_transfer);
		break;
	case SIRA__V1__PAYLOAD__BODY_FILE_REQUEST:
		cases_on_request(r, m, p->file_request);
		break;
	case SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE:
		cases_on_file(r, m, p->file_response);
		break;
	case SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE:
		(void)cases_event(r, m->at, m->from, "deadline.reminder",
		    deadlines_step_word((int)p->deadline_notice->step),
		    m->message_id);
		break;
	default:
		break;
	}
}

/* A text another agency wrote, before it enters a record and a screen. */
static bool
remote_text_ok(const char *s)
{
	return check_text("text", s, false, NULL) == 0;
}

static bool
remote_agency_ok(const char *s)
{
	return s[0] == '\0' || cert_agency_id_valid(s);
}

static bool
file_ok(const Sira__V1__CaseFile *f)
{
	if (f == NULL)
		return true;
	if (f->n_timeline > CASES_HISTORY_MAX)
		return false;
	for (size_t i = 0; i < f->n_timeline; i++) {
		const Sira__V1__CaseEvent *e = f->timeline[i];
		if (!cert_agency_id_valid(e->actor_agency_id) ||
		    strlen(e->action) > 32 || !remote_text_ok(e->action) ||
		    !remote_text_ok(e->note) ||
		    (e->message_id.len != 0 && e->message_id.len != 16))
			return false;
	}
	return true;
}

/* What is wrong with an incoming workflow payload, or NULL. */
static const char *
unfit(const Sira__V1__Payload *p, int sender_role)
{
	switch (p->body_case) {
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_RESPONSE:
		return remote_text_ok(p->referral_response->reason_text) &&
			remote_agency_ok(
			    p->referral_response->suggested_agency_id) ?
		    NULL :
		    "an answer whose reason or suggestion is not acceptable text";
	case SIRA__V1__PAYLOAD__BODY_REFERRAL_UPDATE:
		return remote_text_ok(p->referral_update->note) ?
		    NULL :
		    "an update whose note is not acceptable text";
	case SIRA__V1__PAYLOAD__BODY_CASE_TRANSFER:
		return remote_text_ok(p->case_transfer->note) &&
			file_ok(p->case_transfer->file) ?
		    NULL :
		    "a transfer whose note or case file is not acceptable";
	case SIRA__V1__PAYLOAD__BODY_FILE_REQUEST:
		if (sender_role != SIRA_ROLE_JUSTICE)
			return "a case-file request from an agency that is not a "
			       "prosecutor's office";
		return p->file_request->legal_basis[0] != '\0' &&
			remote_text_ok(p->file_request->legal_basis) &&
			remote_text_ok(p->file_request->purpose) &&
			remote_text_ok(p->file_request->requested_by) ?
		    NULL :
		    "a case-file request without an acceptable legal basis";
	case SIRA__V1__PAYLOAD__BODY_FILE_RESPONSE:
		return remote_text_ok(p->file_response->reason) &&
			file_ok(p->file_response->file) ?
		    NULL :
		    "a file answer whose reason or case file is not acceptable";
	default:
		return NULL; /* a referral is checked by referral_validate */
	}
}

int
workflow_apply(
    Sira__V1__CaseRecord *r, const char *me, const struct wf_incoming *in)
{
	struct case_msg m = { in->sender, me, in->message_id, in->at };
	ProtobufCMessage *msg = NULL;
	Sira__V1__Payload *p;
	const char *why = NULL;

	if (wire_unpack(&sira__v1__payload__descriptor, in->payload, in->len,
		AGENT_PAYLOAD_MAX, &msg, NULL) != 0)
		why = "a message whose content does not parse";
	p = (Sira__V1__Payload *)msg;
	if (why == NULL &&
	    (!body_fits(in->kind, (int)p->body_case) ||
		strcmp(body_ref(p), in->case_ref) != 0))
		why = "a message whose content does not match its kind or case";
	if (why == NULL)
		why = unfit(p, in->sender_role);
	if (why == NULL &&
	    p->body_case == SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE &&
	    deadline_notice_check(p->deadline_notice,
		&(struct notice_ctx){ in->sender, me, 0 }, NULL) != 0)
		why = "a deadline reminder that does not name this agency, "
		      "its sender and the case";
	if (why == NULL)
		apply(r, &m, p, in);
	else
		(void)cases_event(
		    r, in->at, in->sender, "anomaly", why, in->message_id);
	if (p != NULL)
		sira__v1__payload__free_unpacked(p, NULL);
	return why == NULL ? 0 : -SIRA_EMALFORMED;
}

int
workflow_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	int rc;

	if (in->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT ||
	    in->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE ||
	    in->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT ||
	    !workflow_ref_valid(in->case_ref))
		return 0; /* not about a case */
	rc = cases_load(t, in->case_ref, &r, NULL);
	if (rc == -SIRA_ESTATE) {
		/* Erased here: a late message about it is not kept. */
		log_event(
		    LOG_INFO, "case.erased_message", "from=%s", in->sender);
		return erase_late(t, in->message_id, err);
	}
	if (rc == -SIRA_ENOTFOUND)
		r = cases_new(in->case_ref, in->at);
	else if (rc == -SIRA_EIO || rc == -SIRA_ENOMEM)
		return sira_err_set(err, -rc, _("case record unreadable"));
	if (r == NULL) {
		/* A damaged record must not cost a verified message: the
		 * message is in the inbox, the case view just misses it. */
		log_event(LOG_ERROR, "case.unreadable", "from=%s reason=%s",
		    in->sender, sira_strerror(rc));
		return 0;
	}
	if (in->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE)
		(void)cases_event(r, in->at, in->sender, "note.received", NULL,
		    in->message_id);
	else if (workflow_apply(r, a->me->agency_id, in) != 0)
		log_event(LOG_WARN, "case.anomaly", "from=%s kind=%s",
		    in->sender, envelope_kind_name(in->kind));
	rc = cases_save(t, r, in->at, err);
	sira__v1__case_record__free_unpacked(r, NULL);
	if (rc == -SIRA_ETOOBIG || rc == -SIRA_EINVAL) {
		log_event(LOG_ERROR, "case.full", "from=%s", in->sender);
		sira_err_clear(err);
		return 0;
	}
	return rc;
}

int
workflow_note(struct agent *a, struct vault_txn *t, const struct wf_args *w,
    const uint8_t id[16], struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	const char *ref = w->ref, *to = w->to;
	uint64_t now = w->now;
	int rc;

	if ((rc = cases_load(t, ref, &r, err)) == -SIRA_ENOTFOUND) {
		sira_err_clear(err);
		r = cases_new(ref, now);
	} else if (rc != 0)
		return rc;
	if (r == NULL ||
	    cases_event(r, now, a->me->agency_id, "note.sent", to, id) != 0)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	else
		rc = cases_save(t, r, now, err);
	if (r != NULL)
		sira__v1__case_record__free_unpacked(r, NULL);
	return rc;
}
