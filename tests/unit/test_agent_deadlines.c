/*
 * test_agent_deadlines.c: deadlines without a network. The deadline lines
 * of agent.conf (store/conf_deadlines.c), with their defaults and every
 * way a line can be wrong; which steps of a case are overdue and which
 * escalation stage is due (workflow/deadlines.c), around each boundary;
 * the marks surviving a pack; thousands of cases and a case with every
 * leg and request late; and the check of a DeadlineNotice received.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workflow/workflow.h"

#define POL "ml.police.segou"
#define NGO "ml.ngo.espoir"
#define SOC "ml.social.segou"
#define JUS "ml.justice.pole"
#define COO "ml.coord.national"
#define H ((uint64_t)3600)
#define T0 ((uint64_t)1796000000)

static const uint8_t REFERRAL[] = { 0x0a, 0x03, 'M', 'R', 'N' };

/* Every agency is of the role its id says. */
static int
role_of(void *ctx, const char *agency)
{
	(void)ctx;
	if (strncmp(agency, "ml.ngo.", 7) == 0)
		return SIRA_ROLE_NGO;
	if (strncmp(agency, "ml.social.", 10) == 0)
		return SIRA_ROLE_SOCIAL_SERVICES;
	if (strncmp(agency, "ml.police.", 10) == 0)
		return SIRA_ROLE_POLICE;
	return SIRA_ROLE_UNSPECIFIED;
}

static struct deadline_conf conf;

static struct due_scan
scan(const char *me, uint64_t now)
{
	return (struct due_scan){ &conf, me, now, role_of, NULL };
}

static void
parse_ok(const char *text)
{
	struct sira_err e;

	sira_err_clear(&e);
	assert_int_equal(deadline_conf_parse(text, strlen(text), &conf, &e), 0);
}

static void
test_conf(void **state)
{
	(void)state;
	parse_ok("");
	assert_int_equal(conf.answer[SIRA_ROLE_NGO], 48);
	assert_int_equal(conf.feedback[SIRA_ROLE_NGO], 14 * 24);
	assert_int_equal(conf.file[SIRA_ROLE_POLICE], 7 * 24);
	assert_int_equal(conf.escalate, 24);
	/* A role's own line wins whatever the order; other lines ignored. */
	parse_ok("# Sira agent configuration\nbroker = tcp://x:1\n"
		 "answer_hours.ngo = 24\nanswer_hours = 72\n"
		 "feedback_hours.social_services=0\nescalate_hours = 12\r\n"
		 "file_request_hours   =   100  \n");
	assert_int_equal(conf.answer[SIRA_ROLE_NGO], 24);
	assert_int_equal(conf.answer[SIRA_ROLE_POLICE], 72);
	assert_int_equal(conf.answer[SIRA_ROLE_UNSPECIFIED], 72);
	assert_int_equal(conf.feedback[SIRA_ROLE_SOCIAL_SERVICES], 0);
	assert_int_equal(conf.feedback[SIRA_ROLE_NGO], 14 * 24);
	assert_int_equal(conf.file[SIRA_ROLE_JUSTICE], 100);
	assert_int_equal(conf.escalate, 12);
	parse_ok("answer_hours = 8760\n");
	assert_int_equal(conf.answer[SIRA_ROLE_NGO], 8760);
}

static void
test_conf_errors(void **state)
{
	static const char *const bad[] = { "answer_hours.ngoo = 1\n",
		"answer_hours.broker = 1\n", "answer_hours = -1\n",
		"answer_hours = 8761\n", "answer_hours = 99999999999999999\n",
		"answer_hours = 1h\n", "answer_hours =\n", "answer_hours 48\n",
		"escalate_hours = 0\n", "escalate_hours.ngo = 5\n",
		"feedback_hours. = 3\n", "file_request_hours = 1 2\n" };
	char longline[400];
	struct sira_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		(void)snprintf(text, sizeof(text), "broker = b\n%s", bad[i]);
		sira_err_clear(&e);
		assert_int_equal(
		    deadline_conf_parse(text, strlen(text), &conf, &e),
		    -SIRA_EINVAL);
		assert_non_null(strstr(e.msg, "line 2"));
		/* Refused whole: the defaults stand. */
		assert_int_equal(conf.answer[SIRA_ROLE_NGO], 48);
		assert_int_equal(conf.escalate, 24);
	}
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "answer_hours = 1", 16);
	longline[sizeof(longline) - 1] = '\0';
	sira_err_clear(&e);
	assert_int_equal(
	    deadline_conf_parse(longline, strlen(longline), &conf, &e),
	    -SIRA_EINVAL);
	assert_non_null(strstr(e.msg, "line 1"));
	/* A NUL in the text is a character like another. */
	assert_int_equal(deadline_conf_parse("answer_hours = 4\0"
					     "8",
			     18, &conf, &e),
	    -SIRA_EINVAL);
}

static struct case_msg
msg(const char *from, const char *to, uint8_t tag, uint64_t at)
{
	static uint8_t ids[256][16];
	struct case_msg m = { from, to, ids[tag], at };

	memset(ids[tag], tag, 16);
	return m;
}

static Sira__V1__CaseRecord *
referred(const char *ref, const char *to, uint8_t tag, uint64_t at)
{
	Sira__V1__CaseRecord *r = cases_new(ref, at);
	struct case_msg m = msg(POL, to, tag, at);
	struct sira_err e;

	assert_non_null(r);
	assert_int_equal(cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	return r;
}

static size_t
overdue_at(const Sira__V1__CaseRecord *r, const char *me, uint64_t now,
    struct due out[static DEADLINES_PER_CASE])
{
	struct due_scan s = scan(me, now);

	return deadlines_overdue(r, &s, out);
}

static Sira__V1__CaseRecord *
reload(Sira__V1__CaseRecord *r)
{
	size_t len = sira__v1__case_record__get_packed_size(r);
	uint8_t *b = malloc(len + 1);
	Sira__V1__CaseRecord *c;

	assert_non_null(b);
	assert_int_equal(sira__v1__case_record__pack(r, b), len);
	c = sira__v1__case_record__unpack(NULL, len, b);
	assert_non_null(c);
	free(b);
	sira__v1__case_record__free_unpacked(r, NULL);
	return c;
}

/* An unanswered referral: nothing before 48 h, stage 1 after, stage 2
 * escalate_hours after the reminder, then nothing more. */
static void
test_answer_stages(void **state)
{
	Sira__V1__CaseRecord *r = referred("MRN-1", NGO, 1, T0);
	struct due d[DEADLINES_PER_CASE];
	uint64_t t1 = T0 + 50 * H;

	(void)state;
	deadline_conf_defaults(&conf);
	assert_int_equal(overdue_at(r, POL, T0 + 47 * H, d), 0);
	assert_int_equal(overdue_at(r, POL, T0 + 48 * H, d), 0);
	assert_int_equal(overdue_at(r, POL, T0 + 48 * H + 1, d), 1);
	assert_int_equal(
	    d[0].step, SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER);
	assert_string_equal(d[0].owing, NGO);
	assert_int_equal(d[0].due_at, T0 + 48 * H);
	assert_int_equal(d[0].late, 1);
	assert_int_equal(d[0].stage, 0);
	assert_int_equal(d[0].next, 1);
	assert_memory_equal(d[0].item_id, r->legs[0]->message_id.data, 16);
	/* Only the agency that waits tracks it. */
	assert_int_equal(overdue_at(r, NGO, T0 + 100 * H, d), 0);
	/* The reminder is sent 2 h late (the daemon was off). */
	assert_int_equal(overdue_at(r, POL, t1, d), 1);
	assert_int_equal(deadlines_mark(r, &d[0], 1, t1), 0);
	r = reload(r);
	assert_int_equal(overdue_at(r, POL, t1 + 24 * H - 1, d), 1);
	assert_int_equal(d[0].stage, 1);
	assert_int_equal(d[0].next, 0);
	assert_int_equal(d[0].next_at, t1 + 24 * H);
	assert_int_equal(overdue_at(r, POL, t1 + 24 * H, d), 1);
	assert_int_equal(d[0].next, 2);
	assert_int_equal(deadlines_mark(r, &d[0], 2, t1 + 24 * H), 0);
	r = reload(r);
	assert_int_equal(r->n_deadlines, 1);
	assert_int_equal(r->deadlines[0]->stage1_at, t1);
	assert_int_equal(r->deadlines[0]->stage2_at, t1 + 24 * H);
	/* Still late, and shown so; nothing more to send, ever. */
	assert_int_equal(overdue_at(r, POL, t1 + 1000 * H, d), 1);
	assert_int_equal(d[0].stage, 2);
	assert_int_equal(d[0].next, 0);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* Answered: the answer deadline is gone; the feedback one counts from
 * the acceptance; feedback received ends it. Declined: nothing. */
static void
test_answered(void **state)
{
	Sira__V1__CaseRecord *r = referred("MRN-2", NGO, 2, T0);
	Sira__V1__ReferralResponse resp = SIRA__V1__REFERRAL_RESPONSE__INIT;
	Sira__V1__ReferralUpdate u = SIRA__V1__REFERRAL_UPDATE__INIT;
	struct case_msg m = msg(NGO, POL, 3, T0 + 10 * H);
	struct due d[DEADLINES_PER_CASE];

	(void)state;
	deadline_conf_defaults(&conf);
	resp.case_ref = (char *)"MRN-2";
	resp.referral_message_id = r->legs[0]->message_id;
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_ACCEPT;
	cases_on_response(r, &m, &resp);
	assert_int_equal(
	    r->legs[0]->state, SIRA__V1__LEG_STATE__LEG_STATE_ACCEPTED);
	assert_int_equal(overdue_at(r, POL, T0 + 100 * H, d), 0);
	assert_int_equal(overdue_at(r, POL, T0 + 10 * H + 14 * 24 * H, d), 0);
	assert_int_equal(
	    overdue_at(r, POL, T0 + 10 * H + 14 * 24 * H + 1, d), 1);
	assert_int_equal(
	    d[0].step, SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FEEDBACK);
	/* Feedback arrives: nothing is late any more. */
	u.case_ref = (char *)"MRN-2";
	u.referral_message_id = r->legs[0]->message_id;
	u.kind = SIRA__V1__UPDATE_KIND__UPDATE_KIND_SERVICE_STARTED;
	m = msg(NGO, POL, 4, T0 + 400 * H);
	cases_on_update(r, &m, &u);
	assert_int_equal(overdue_at(r, POL, T0 + 4000 * H, d), 0);
	sira__v1__case_record__free_unpacked(r, NULL);

	r = referred("MRN-3", NGO, 5, T0);
	resp.case_ref = (char *)"MRN-3";
	resp.referral_message_id = r->legs[0]->message_id;
	resp.decision = SIRA__V1__RESPONSE_DECISION__RESPONSE_DECISION_DECLINE;
	m = msg(NGO, POL, 6, T0 + H);
	cases_on_response(r, &m, &resp);
	assert_int_equal(overdue_at(r, POL, T0 + 4000 * H, d), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* The deadline is the owing agency's role's; 0 means none. */
static void
test_roles(void **state)
{
	Sira__V1__CaseRecord *r = referred("MRN-4", SOC, 7, T0);
	struct due d[DEADLINES_PER_CASE];

	(void)state;
	parse_ok("answer_hours.ngo = 1\nanswer_hours.social_services = 96\n");
	assert_int_equal(overdue_at(r, POL, T0 + 95 * H, d), 0);
	assert_int_equal(overdue_at(r, POL, T0 + 97 * H, d), 1);
	parse_ok("answer_hours.social_services = 0\n");
	assert_int_equal(overdue_at(r, POL, T0 + 4000 * H, d), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* A prosecutor's request: the holder owes the file within 7 days. */
static void
test_file_request(void **state)
{
	Sira__V1__CaseRecord *r = cases_new("MRN-5", T0);
	struct case_msg m = msg(JUS, NGO, 8, T0);
	uint8_t rid[16];
	struct due d[DEADLINES_PER_CASE];
	struct sira_err e;

	(void)state;
	deadline_conf_defaults(&conf);
	memset(rid, 0x5a, sizeof(rid));
	assert_int_equal(cases_request(r, &m, rid, "Art. 18", NULL, &e), 0);
	assert_int_equal(overdue_at(r, JUS, T0 + 7 * 24 * H, d), 0);
	assert_int_equal(overdue_at(r, JUS, T0 + 7 * 24 * H + 1, d), 1);
	assert_int_equal(
	    d[0].step, SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FILE);
	assert_memory_equal(d[0].item_id, rid, 16);
	assert_string_equal(d[0].owing, NGO);
	assert_int_equal(overdue_at(r, NGO, T0 + 4000 * H, d), 0);
	/* Answer and reminder of the same item are distinct marks. */
	assert_int_equal(deadlines_mark(r, &d[0], 1, T0 + 200 * H), 0);
	assert_null(deadlines_mark_of(
	    r, SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER, rid));
	assert_non_null(deadlines_mark_of(
	    r, SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_FILE, rid));
	sira__v1__case_record__free_unpacked(r, NULL);
}

/* Thousands of cases, and one case with every leg and request late:
 * everything is found, nothing is cut at some count. */
static void
test_scale(void **state)
{
	enum { N_CASES = 5000 };
	Sira__V1__CaseRecord *r;
	struct due d[DEADLINES_PER_CASE];
	size_t found = 0;
	char ref[32], to[32];
	struct sira_err e;

	(void)state;
	deadline_conf_defaults(&conf);
	for (int i = 0; i < N_CASES; i++) {
		(void)snprintf(ref, sizeof(ref), "MRN-2026-%05d", i);
		/* Every other case referred 100 h before the scan. */
		r = referred(
		    ref, NGO, (uint8_t)(i & 0xff), i % 2 ? T0 : T0 + 99 * H);
		found += overdue_at(r, POL, T0 + 100 * H, d);
		sira__v1__case_record__free_unpacked(r, NULL);
	}
	assert_int_equal(found, N_CASES / 2);

	r = cases_new("MRN-BIG", T0);
	for (int i = 0; i < CASES_LEGS_MAX; i++) {
		struct case_msg m = msg(POL, to, (uint8_t)i, T0);
		(void)snprintf(to, sizeof(to), "ml.ngo.n%02d", i);
		m.to = to;
		assert_int_equal(
		    cases_refer(r, &m, REFERRAL, sizeof(REFERRAL), &e), 0);
	}
	assert_int_equal(overdue_at(r, POL, T0 + 49 * H, d), CASES_LEGS_MAX);
	for (size_t i = 0; i < CASES_LEGS_MAX; i++)
		assert_int_equal(deadlines_mark(r, &d[i], 1, T0 + 49 * H), 0);
	r = reload(r);
	assert_int_equal(r->n_deadlines, CASES_LEGS_MAX);
	assert_int_equal(overdue_at(r, POL, T0 + 73 * H, d), CASES_LEGS_MAX);
	for (size_t i = 0; i < CASES_LEGS_MAX; i++)
		assert_int_equal(d[i].next, 2);
	sira__v1__case_record__free_unpacked(r, NULL);

	r = cases_new("MRN-REQ", T0);
	for (int i = 0; i < CASES_REQUESTS_MAX; i++) {
		struct case_msg m = msg(JUS, to, (uint8_t)i, T0);
		uint8_t rid[16];
		memset(rid, i + 1, sizeof(rid));
		(void)snprintf(to, sizeof(to), "ml.ngo.h%02d", i);
		m.to = to;
		assert_int_equal(
		    cases_request(r, &m, rid, "Art. 18", NULL, &e), 0);
	}
	assert_int_equal(
	    overdue_at(r, JUS, T0 + 200 * H, d), CASES_REQUESTS_MAX);
	sira__v1__case_record__free_unpacked(r, NULL);
}

static Sira__V1__DeadlineNotice
notice(uint32_t stage)
{
	static uint8_t id[16], blind[DEADLINE_BLIND_LEN];
	Sira__V1__DeadlineNotice n = SIRA__V1__DEADLINE_NOTICE__INIT;

	n.step = SIRA__V1__DEADLINE_STEP__DEADLINE_STEP_ANSWER;
	n.stage = stage;
	n.waiting = (char *)POL;
	n.owing = (char *)NGO;
	n.due_at = T0;
	n.late = 26 * H;
	if (stage == 1) {
		n.case_ref = (char *)"MRN-2026-0042";
		n.item_id.data = id;
		n.item_id.len = 16;
	} else {
		n.blinded_ref.data = blind;
		n.blinded_ref.len = sizeof(blind);
	}
	return n;
}

static int
check(const Sira__V1__DeadlineNotice *n, const char *me, int role)
{
	struct sira_err e;

	sira_err_clear(&e);
	return deadline_notice_check(
	    n, &(struct notice_ctx){ POL, me, role }, &e);
}

static void
test_notice_check(void **state)
{
	Sira__V1__DeadlineNotice n;
	uint8_t short_blind[8] = { 0 };

	(void)state;
	n = notice(1);
	assert_int_equal(check(&n, NGO, SIRA_ROLE_NGO), 0);
	assert_int_equal(check(&n, SOC, SIRA_ROLE_NGO), -SIRA_EMALFORMED);
	n.blinded_ref = notice(2).blinded_ref;
	assert_int_equal(check(&n, NGO, SIRA_ROLE_NGO), -SIRA_EMALFORMED);
	n = notice(1);
	n.case_ref = (char *)"";
	assert_int_equal(check(&n, NGO, SIRA_ROLE_NGO), -SIRA_EMALFORMED);
	n = notice(2);
	assert_int_equal(check(&n, COO, SIRA_ROLE_COORDINATION), 0);
	/* A committee notice anywhere else, or naming the case: refused. */
	assert_int_equal(check(&n, NGO, SIRA_ROLE_NGO), -SIRA_EMALFORMED);
	n.case_ref = (char *)"MRN-2026-0042";
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.blinded_ref.data = short_blind;
	n.blinded_ref.len = sizeof(short_blind);
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.waiting = (char *)SOC; /* not its sender */
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.step = (Sira__V1__DeadlineStep)9;
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.stage = 3;
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.due_at = 0;
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
	n = notice(2);
	n.owing = (char *)"pas une agence";
	assert_int_equal(
	    check(&n, COO, SIRA_ROLE_COORDINATION), -SIRA_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_answer_stages),
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_file_request),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_notice_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
