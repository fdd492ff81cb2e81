/*
 * test_agent_cases.c: agents/workflow/cases.c, the workflow state machine,
 * without a network. A case is walked through every local step; each illegal
 * step is tried and must change nothing (the packed record is byte-identical
 * afterwards) and say why; remote steps out of order become anomalies on
 * the timeline. Records are packed and unpacked along the way, and freed
 * with free_unpacked, so ASan (make check) checks the ownership rule of
 * workflow.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workflow/workflow.h"

#define POL "ml.police.segou"
#define NGO "ml.ngo.espoir"
#define NGO2 "ml.ngo.refuge"
#define SOC "ml.social.segou"
#define JUS "ml.justice.pole"

static const uint8_t REFERRAL[] = { 0x0a, 0x03, 'M', 'R', 'N' };

static struct case_msg
msg(const char *from, const char *to, uint8_t tag, uint64_t at)
{
	static uint8_t ids[256][16];
	struct case_msg m = { from, to, ids[tag], at };

	memset(ids[tag], tag, 16);
	return m;
}

/* Pack r; the caller frees the bytes. */
static uint8_t *
packed(const Sira__V1__CaseRecord *r, size_t *len)
{
	uint8_t *b;

	*len = sira__v1__case_record__get_packed_size(r);
	b = malloc(*len + 1);
	assert_non_null(b);
	assert_int_equal(sira__v1__case_record__pack(r, b), *len);
	return b;
}

/* An illegal step: returns want, err says why, and r is unchanged. */
#define REFUSED(r, want, pattern, call) \
	do { \
		size_t l0, l1; \
		uint8_t *b0 = packed(r, &l0), *b1; \
		struct sira_err e_; \
		sira_err_clear(&e_); \
		struct sira_err *err = &e_; \
		assert_int_equal((call), -(want)); \
		assert_non_null(strstr(e_.msg, pattern)); \
		b1 = packed(r, &l1); \
		assert_int_equal(l0, l1); \
		assert_memory_equal(b0, b1, l0); \
		free(b0); \
		free(b1); \
	} while (0)

static Sira__V1__CaseRecord *
reload(Sira__V1__CaseRecord *r)
{
	size_t len;
	uint8_t *b = packed(r, &len);
	Sira__V1__CaseRecord *c = sira__v1__case_record__unpack(NULL, len, b);

	assert_non_null(c);
	free(b);
	sira__v1__case_record__free_unpacked(r, NULL);
	return c;
}

static const char *
last_action(const Sira__V1__CaseRecord *r)
{
	assert_true(r->n_timeline > 0);
	return r->timeline[r->n_timeline - 1]->action;
}

/* The referrer's side: refer, decline seen, refer again, accept seen. */
static void
test_referrer(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-1", 100);
	struct case_msg m = msg(POL, NGO, 1, 100);
	const uint8_t *first = m.message_id;
	struct sira_err e;
	Sira__V1__ReferralResponse resp = SIRA__V1__REFERRAL_RESPONSE__INIT;

	(void)state;
	sira_err_clear(&e);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	assert_true(r->held);
	r = reload(r);
	REFUSED(r, SIRA_ESTATE, "already referred to " NGO,
	    cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), err));
	m = msg(POL, POL, 2, 101);
	REFUSED(r, SIRA_EINVAL, "to itself",
	    cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), err));
	/* We cannot answer our own referral. */
	m = msg(POL, NGO, 3, 102);
	REFUSED(r, SIRA_ESTATE, "no referral addressed to this agency",
	    cases_answer(r, &m, true, NULL, NULL, err));
	/* The shelter declines (remote), suggesting another. */
	resp.case_ref = (char *)"MRN-1";
	resp.referral_message_id.data = (uint8_t *)(uintptr_t)first;
	resp.referral_message_id.len = 16;
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_DECLINE;
	resp.reason_text = (char *)"Plus de place";
	resp.suggested_agency_id = (char *)NGO2;
	m = msg(NGO, POL, 4, 110);
	cases_on_response(r, &m, &resp);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_DECLINED);
	assert_string_equal(r->legs[0]->suggested, NGO2);
	/* A second answer is an anomaly, the state stays. */
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT;
	m = msg(NGO, POL, 5, 111);
	cases_on_response(r, &m, &resp);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_DECLINED);
	/* An answer from an agency never referred to: anomaly. */
	m = msg(SOC, POL, 6, 112);
	cases_on_response(r, &m, &resp);
	assert_string_equal(last_action(r), "anomaly");
	/* Referred again after the decline: allowed. */
	m = msg(POL, NGO, 7, 120);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	assert_int_equal(r->n_legs, 2);
	r = reload(r);
	/* Its message refused on the way: only a pending leg closes, and
	 * then the case may go there again. */
	assert_false(cases_undelivered(r, r->legs[0], "refused", 130));
	assert_true(cases_undelivered(r, r->legs[1], "refused: denied", 130));
	assert_int_equal(
	    r->legs[1]->state, SIRA__V1__LEG_STATE__LEG_STATE_UNDELIVERED);
	assert_string_equal(last_action(r), "referral.undelivered");
	assert_false(cases_undelivered(r, r->legs[1], "again", 131));
	m = msg(POL, NGO, 8, 140);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* The receiver's side: accept/decline rules, feedback, transfer. */
static void
test_receiver(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-2", 100);
	struct case_msg m = msg(POL, NGO, 10, 100);
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	cases_on_referral(r, &m, REFERRAL, sizeof(REFERRAL));
	cases_on_referral(r, &m, REFERRAL, sizeof(REFERRAL)); /* redelivered */
	assert_int_equal(r->n_legs, 1);
	assert_int_equal(r->n_timeline, 1);
	assert_false(r->held);
	m = msg(NGO, POL, 11, 101);
	REFUSED(r, SIRA_ESTATE, "needs an accepted referral",
	    cases_feedback(r, &m, false, NULL, err));
	REFUSED(r, SIRA_ESTATE, "does not hold",
	    cases_transfer(r, &(struct case_msg){ NGO, SOC, m.message_id, 101 },
		NULL, err));
	/* Someone it was not addressed to cannot answer. */
	m = msg(SOC, POL, 12, 101);
	REFUSED(r, SIRA_ESTATE, "no referral addressed to this agency",
	    cases_answer(r, &m, true, NULL, NULL, err));
	m = msg(NGO, POL, 13, 102);
	assert_int_equal(cases_answer(r, &m, true, NULL, NULL, &e), 0);
	assert_true(r->held);
	r = reload(r);
	REFUSED(r, SIRA_ESTATE, "already accepted",
	    cases_answer(r, &m, true, NULL, NULL, err));
	REFUSED(r, SIRA_ESTATE, "already accepted",
	    cases_answer(r, &m, false, "non", NULL, err));
	assert_int_equal(cases_feedback(r, &m, true, NULL, &e), 0);
	REFUSED(r, SIRA_ESTATE, "services completed",
	    cases_feedback(r, &m, true, NULL, err));
	sira__v1__case_record__free_unpacked(r, NULL);

	/* Feedback in order, then the transfer ends holding. */
	r = cases_new("MRN-3", 100);
	m = msg(POL, NGO, 20, 100);
	cases_on_referral(r, &m, REFERRAL, sizeof(REFERRAL));
	m = msg(NGO, POL, 21, 101);
	assert_int_equal(cases_answer(r, &m, true, NULL, NULL, &e), 0);
	assert_int_equal(cases_feedback(r, &m, false, "ok", &e), 0);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_STARTED);
	REFUSED(r, SIRA_ESTATE, "needs an accepted referral",
	    cases_feedback(r, &m, false, NULL, err));
	m = msg(NGO, SOC, 22, 102);
	assert_int_equal(cases_transfer(r, &m, "réinsertion", &e), 0);
	assert_false(r->held);
	assert_string_equal(r->transferred_to, SOC);
	REFUSED(r, SIRA_ESTATE, "transferred to " SOC,
	    cases_transfer(r, &m, NULL, err));
	REFUSED(r, SIRA_ESTATE, "transferred to " SOC,
	    cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), err));
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* Withdrawal: only pending, only by the referrer; late answers. */
static void
test_withdraw(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-4", 100);
	struct case_msg ref = msg(POL, NGO, 30, 100), m;
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	Sira__V1__ReferralResponse resp = SIRA__V1__REFERRAL_RESPONSE__INIT;
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	assert_int_equal(
	    cases_refer(r, &ref, REFERRAL, sizeof(REFERRAL), &e), 0);
	m = msg(POL, SOC, 31, 101);
	REFUSED(
	    r, SIRA_ESTATE, "has not referred", cases_revoke(r, &m, "x", err));
	m = msg(POL, NGO, 32, 101);
	assert_int_equal(cases_revoke(r, &m, "rentrée en famille", &e), 0);
	REFUSED(
	    r, SIRA_ESTATE, "withdrawn", cases_revoke(r, &m, "encore", err));
	/* The acceptance crossed the withdrawal on the way: anomaly. */
	resp.case_ref = (char *)"MRN-4";
	resp.referral_message_id.data = (uint8_t *)(uintptr_t)ref.message_id;
	resp.referral_message_id.len = 16;
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT;
	m = msg(NGO, POL, 33, 102);
	cases_on_response(r, &m, &resp);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_WITHDRAWN);
	sira__v1__case_record__free_unpacked(r, NULL);

	/* At the receiver: withdrawn after accepting is flagged too. */
	r = cases_new("MRN-5", 100);
	cases_on_referral(r, &ref, REFERRAL, sizeof(REFERRAL));
	m = msg(NGO, POL, 34, 101);
	assert_int_equal(cases_answer(r, &m, true, NULL, NULL, &e), 0);
	u.case_ref = (char *)"MRN-5";
	u.referral_message_id.data = (uint8_t *)(uintptr_t)ref.message_id;
	u.referral_message_id.len = 16;
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_WITHDRAWN;
	m = msg(POL, NGO, 35, 102);
	cases_on_update(r, &m, &u);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_WITHDRAWN);
	assert_string_equal(last_action(r), "referral.withdrawn");
	assert_string_equal(r->timeline[r->n_timeline - 2]->action, "anomaly");
	/* A withdrawal by someone who did not refer it is refused. */
	m = msg(SOC, NGO, 36, 103);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* File requests: made, granted once, never granted twice or by another. */
static void
test_file_request(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-6", 100);
	Sira__V1__CaseFileRequest q = SIRA__V1__CASE_FILE_REQUEST__INIT;
	Sira__V1__CaseFileResponse f = SIRA__V1__CASE_FILE_RESPONSE__INIT;
	uint8_t rid[16], other[16];
	struct case_msg m = msg(POL, NGO, 40, 100);
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	memset(rid, 0xaa, 16);
	memset(other, 0xbb, 16);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	m = msg(POL, POL, 41, 101);
	REFUSED(r, SIRA_ENOTFOUND, "no request",
	    cases_decide(r, &m, rid, true, NULL, err));
	q.request_id.data = rid;
	q.request_id.len = 16;
	q.case_ref = (char *)"MRN-6";
	q.legal_basis = (char *)"Art. 18";
	m = msg(JUS, POL, 42, 102);
	cases_on_request(r, &m, &q);
	cases_on_request(r, &m, &q); /* reused id: anomaly, not a second */
	assert_int_equal(r->n_requests, 1);
	assert_string_equal(last_action(r), "anomaly");
	m = msg(NGO, JUS, 43, 103);
	REFUSED(r, SIRA_ENOTFOUND, "no request",
	    cases_decide(r, &m, rid, true, NULL, err));
	m = msg(POL, JUS, 44, 104);
	REFUSED(r, SIRA_ENOTFOUND, "no request",
	    cases_decide(r, &m, other, true, NULL, err));
	assert_int_equal(cases_decide(r, &m, rid, true, NULL, &e), 0);
	REFUSED(r, SIRA_ESTATE, "already granted",
	    cases_decide(r, &m, rid, false, "non", err));
	r = reload(r);
	sira__v1__case_record__free_unpacked(r, NULL);

	/* The prosecutor's side: a grant for a request never made. */
	r = cases_new("MRN-6", 100);
	m = msg(JUS, POL, 45, 100);
	assert_int_equal(cases_request(r, &m, rid, "Art. 18", NULL, &e), 0);
	REFUSED(r, SIRA_ESTATE, "already pending",
	    cases_request(r, &m, other, "Art. 18", NULL, err));
	f.request_id.data = other;
	f.request_id.len = 16;
	f.decision = SIRA__V1__FILE_DECISION__FILE_DECISION_GRANT;
	m = msg(POL, JUS, 46, 101);
	cases_on_file(r, &m, &f);
	assert_string_equal(last_action(r), "anomaly");
	f.request_id.data = rid;
	m = msg(NGO, JUS, 47, 102); /* not the agency asked */
	cases_on_file(r, &m, &f);
	assert_string_equal(last_action(r), "anomaly");
	m = msg(POL, JUS, 48, 103);
	cases_on_file(r, &m, &f);
	assert_string_equal(last_action(r), "file.granted");
	assert_int_equal(r->requests[0]->state,
	    SIRA__V1__REQUEST_STATE__REQUEST_STATE_GRANTED);
	cases_on_file(r, &m, &f);
	assert_string_equal(last_action(r), "anomaly");
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* What another agency may not do to a case held here (review findings). */
static void
test_remote_limits(void **state)
{
	static const uint8_t OTHER[] = { 0x0a, 0x03, 'X', 'X', 'X' };
	Sira__V1__CaseRecord *r = cases_new("MRN-7", 100);
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	Sira__V1__ReferralResponse resp = SIRA__V1__REFERRAL_RESPONSE__INIT;
	Sira__V1__CaseTransfer ct = SIRA__V1__CASE_TRANSFER__INIT;
	struct case_msg p1 = msg(POL, NGO, 60, 100), m;
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	cases_on_referral(r, &p1, REFERRAL, sizeof(REFERRAL));
	/* Another agency refers the same reference with other content: the
	 * first content stays, the second is flagged, its leg is separate. */
	m = msg(NGO2, NGO, 61, 101);
	cases_on_referral(r, &m, OTHER, sizeof(OTHER));
	assert_int_equal(r->n_legs, 2);
	assert_memory_equal(r->referral.data, REFERRAL, sizeof(REFERRAL));
	assert_string_equal(r->timeline[r->n_timeline - 2]->action, "anomaly");
	/* Answering the police's leg, named by its referrer. */
	m = msg(NGO, POL, 62, 102);
	assert_int_equal(cases_answer(r, &m, true, NULL, NULL, &e), 0);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED);
	assert_int_equal(
	    r->legs[1]->state, SIRA__V1__LEG_STATE__LEG_STATE_PENDING);
	/* Declining the other keeps the case held. */
	m = msg(NGO, NGO2, 63, 103);
	assert_int_equal(cases_answer(r, &m, false, "déjà ici", NULL, &e), 0);
	assert_true(r->held);
	/* The other agency withdraws its closed leg: nothing moves. */
	u.case_ref = (char *)"MRN-7";
	u.referral_message_id.data =
	    (uint8_t *)(uintptr_t)msg(0, 0, 61, 0).message_id;
	u.referral_message_id.len = 16;
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_WITHDRAWN;
	m = msg(NGO2, NGO, 64, 104);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[1]->state, SIRA__V1__LEG_STATE__LEG_STATE_DECLINED);
	assert_true(r->held);
	/* A transfer to an agency that already holds the case: flagged. */
	ct.case_ref = (char *)"MRN-7";
	m = msg(NGO2, NGO, 65, 105);
	cases_on_transfer(r, &m, &ct);
	assert_string_equal(last_action(r), "anomaly");
	assert_string_equal(r->received_from, "");
	/* An update of an unknown kind, an answer of an unknown decision. */
	u.kind = 77;
	u.referral_message_id.data = (uint8_t *)(uintptr_t)p1.message_id;
	m = msg(POL, NGO, 66, 106);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED);
	sira__v1__case_record__free_unpacked(r, NULL);

	/* At the referrer: an answer neither accept nor decline. */
	r = cases_new("MRN-8", 100);
	m = msg(POL, NGO, 70, 100);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	resp.case_ref = (char *)"MRN-8";
	resp.referral_message_id.data = (uint8_t *)(uintptr_t)m.message_id;
	resp.referral_message_id.len = 16;
	resp.decision = 9;
	m = msg(NGO, POL, 71, 101);
	cases_on_response(r, &m, &resp);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_PENDING);
	sira__v1__case_record__free_unpacked(r, NULL);

	/* Bounds: legs are capped, the excess is flagged, not stored. */
	r = cases_new("MRN-9", 100);
	for (unsigned i = 0; i < CASES_LEGS_MAX + 3; i++) {
		m = msg(POL, NGO, (uint8_t)(100 + i), 100 + i);
		cases_on_referral(r, &m, REFERRAL, sizeof(REFERRAL));
	}
	assert_int_equal(r->n_legs, CASES_LEGS_MAX);
	assert_string_equal(last_action(r), "anomaly");
	/* A note received before any referral does not stop the owner from
	 * referring its own case. */
	sira__v1__case_record__free_unpacked(r, NULL);
	r = cases_new("MRN-10", 100);
	assert_int_equal(
	    cases_event(r, 100, NGO, "note.received", NULL, NULL), 0);
	m = msg(POL, NGO, 200, 101);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* The same referrer sends the case again under a new message id before
 * an answer: the newer referral replaces the older, so exactly one waits
 * and the answer reaches it (hostile finding: two legs waited, and the
 * case could never be answered). */
static void
test_same_referrer_again(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-9", 100);
	struct case_msg a = msg(POL, NGO, 80, 100), b = msg(POL, NGO, 81, 200);
	struct case_msg ans = msg(NGO, POL, 82, 300), c;
	size_t pending = 0;
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	cases_on_referral(r, &a, REFERRAL, sizeof(REFERRAL));
	cases_on_referral(r, &b, REFERRAL, sizeof(REFERRAL));
	cases_on_referral(r, &b, REFERRAL, sizeof(REFERRAL)); /* redelivered */
	r = reload(r);
	assert_int_equal(r->n_legs, 2);
	for (size_t i = 0; i < r->n_legs; i++)
		pending +=
		    r->legs[i]->state == SIRA__V1__LEG_STATE__LEG_STATE_PENDING;
	assert_int_equal(pending, 1);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_SUPERSEDED);
	assert_false(cases_leg_active(r->legs[0]));
	assert_string_equal(r->timeline[r->n_timeline - 2]->action, "anomaly");
	assert_string_equal(last_action(r), "referral.received");
	assert_int_equal(cases_answer(r, &ans, true, NULL, NULL, &e), 0);
	assert_int_equal(
	    r->legs[1]->state, SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED);
	assert_memory_equal(r->legs[1]->message_id.data, b.message_id, 16);
	/* Another referrer's pending leg is never replaced by it. */
	c = msg(NGO2, NGO, 83, 400);
	cases_on_referral(r, &c, REFERRAL, sizeof(REFERRAL));
	c = msg(POL, NGO, 84, 500);
	cases_on_referral(r, &c, REFERRAL, sizeof(REFERRAL));
	assert_int_equal(
	    r->legs[2]->state, SIRA__V1__LEG_STATE__LEG_STATE_PENDING);
	assert_int_equal(
	    r->legs[1]->state, SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/*
 * Local steps and incoming messages follow one table: what a local step is
 * refused (a second "started", feedback before acceptance), an incoming
 * message may not do either; it becomes an anomaly and the leg stays.
 */
static void
test_same_rules_both_ways(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-9", 100);
	struct case_msg m = msg(POL, NGO, 90, 100);
	Sira__V1__ReferralResponse resp = SIRA__V1__REFERRAL_RESPONSE__INIT;
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	struct sira_err e;

	(void)state;
	sira_err_clear(&e);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	u.referral_message_id.data = (uint8_t *)(uintptr_t)m.message_id;
	u.referral_message_id.len = 16;
	resp.referral_message_id = u.referral_message_id;
	/* Feedback before the answer: an anomaly, the leg is still pending. */
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_STARTED;
	m = msg(NGO, POL, 91, 101);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_PENDING);
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT;
	m = msg(NGO, POL, 92, 102);
	cases_on_response(r, &m, &resp);
	assert_string_equal(last_action(r), "referral.accepted");
	m = msg(NGO, POL, 93, 103);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "service.started");
	/* "started" twice: refused locally (test_receiver), and from a peer
	 * an anomaly that leaves the leg where it was. */
	m = msg(NGO, POL, 94, 104);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	assert_non_null(
	    strstr(r->timeline[r->n_timeline - 1]->note, "second time"));
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_STARTED);
	assert_int_equal(r->legs[0]->updated_at, 103);
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_COMPLETED;
	m = msg(NGO, POL, 95, 105);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "service.completed");
	/* Nothing follows completion, from anyone. */
	m = msg(NGO, POL, 96, 106);
	cases_on_update(r, &m, &u);
	assert_string_equal(last_action(r), "anomaly");
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_COMPLETED);
	sira__v1__case_record__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_referrer),
		cmocka_unit_test(test_receiver),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_file_request),
		cmocka_unit_test(test_remote_limits),
		cmocka_unit_test(test_same_referrer_again),
		cmocka_unit_test(test_same_rules_both_ways),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
