/*
 * test_broker_policy.c: the routing policy decides every (role, kind, role)
 * triple as the national referral mechanism says, the policy file parser
 * rejects each kind of bad line with a stable code, and docs/policy.example
 * decides exactly as the built-in default. Parse errors are
 * -SIRA_EMALFORMED for a bad line and -SIRA_ETOOBIG for a bound exceeded
 * (text size, rule count), as policy.h documents.
 *
 * Run from the repository root (make does), or set SIRA_SRCDIR to it: the
 * example is read from $SIRA_SRCDIR/docs/policy.example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "envelope.pb-c.h"
#include "../../broker/policy.h"

#define POL SIRA_ROLE_POLICE
#define JUS SIRA_ROLE_JUSTICE
#define SOC SIRA_ROLE_SOCIAL_SERVICES
#define NGO SIRA_ROLE_NGO
#define COO SIRA_ROLE_COORDINATION
#define BRK SIRA_ROLE_BROKER

/* Roles and kinds to try: every valid one and some out of range. */
static const int roles[] = { -1, 0, 1, 2, 3, 4, 5, 6, 7, 1000 };
static const int kinds[] = { -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 1000, INT32_MIN, INT32_MAX };
#define NROLES (sizeof(roles) / sizeof(roles[0]))
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static bool
agency(int r)
{
	return r >= POL && r <= COO;
}

/*
 * The default policy, written independently of broker/policy.c from the
 * specification (docs/policy.example explains each line).
 */
static bool
expected(int from, int kind, int to)
{
	if (!agency(from) || !agency(to))
		return false;
	switch (kind) {
	case SIRA_KIND_REFERRAL:
		return from != JUS && (to == NGO || to == SOC || to == COO);
	case SIRA_KIND_REFERRAL_RESPONSE:
	case SIRA_KIND_REFERRAL_UPDATE:
		return true;
	case SIRA_KIND_CASE_TRANSFER:
		return to != COO;
	case SIRA_KIND_FILE_REQUEST:
		return from == JUS && to != JUS;
	case SIRA_KIND_FILE_RESPONSE:
		return from != JUS && to == JUS;
	case SIRA_KIND_RECEIPT:
	case SIRA_KIND_NOTE:
	case SIRA_KIND_ERASURE:
	case SIRA_KIND_ERASURE_RECEIPT:
	case SIRA_KIND_RESEND_REQUEST:
		return true;
	case SIRA_KIND_DEADLINE_NOTICE:
		/* to the committee, or a reminder along a referral's or a
		 * file request's route */
		return to == COO || (from != JUS && (to == NGO || to == SOC)) ||
		    (from == JUS && to != JUS);
	case SIRA_KIND_STATS_REPORT:
		return to == COO;
	default:
		return false;
	}
}

static bool
allows(const struct policy *p, int from, int kind, int to)
{
	return policy_allows(p, (enum sira_role)from, kind, (enum sira_role)to);
}

/* policy_check agrees with policy_allows, and denies with EDENIED. */
static void
assert_check_agrees(const struct policy *p, int from, int kind, int to)
{
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = policy_check(
	    p, (enum sira_role)from, kind, (enum sira_role)to, &err);
	if (allows(p, from, kind, to)) {
		assert_int_equal(rc, 0);
		assert_int_equal(err.code, 0);
	} else {
		assert_int_equal(rc, -SIRA_EDENIED);
		assert_int_equal(err.code, SIRA_EDENIED);
		assert_true(err.msg[0] != '\0');
	}
}

static struct policy *
parse_ok(const char *text)
{
	struct policy *p = NULL;
	struct sira_err err;

	sira_err_clear(&err);
	assert_int_equal(policy_parse(text, strlen(text), &p, &err), 0);
	assert_non_null(p);
	return p;
}

/* Parsing text[0..len) fails with -code, err.code = code, *out NULL. */
static void
parse_fails(const char *text, size_t len, int code)
{
	struct policy *p = (struct policy *)&p; /* must be reset to NULL */
	struct sira_err err;

	sira_err_clear(&err);
	assert_int_equal(policy_parse(text, len, &p, &err), -code);
	assert_int_equal(err.code, code);
	assert_null(p);
}

static void
parse_fails_str(const char *text, int code)
{
	parse_fails(text, strlen(text), code);
}

static void
test_kind_numbers_match_wire(void **state)
{
	(void)state;
	assert_int_equal(SIRA_KIND_UNSPECIFIED,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_UNSPECIFIED);
	assert_int_equal(
	    SIRA_KIND_REFERRAL, SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL);
	assert_int_equal(SIRA_KIND_REFERRAL_RESPONSE,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_RESPONSE);
	assert_int_equal(SIRA_KIND_REFERRAL_UPDATE,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_UPDATE);
	assert_int_equal(SIRA_KIND_CASE_TRANSFER,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_CASE_TRANSFER);
	assert_int_equal(SIRA_KIND_FILE_REQUEST,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_REQUEST);
	assert_int_equal(SIRA_KIND_FILE_RESPONSE,
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_RESPONSE);
	assert_int_equal(
	    SIRA_KIND_RECEIPT, SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT);
	assert_int_equal(
	    SIRA_KIND_NOTE, SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE);
	/* No kind on the wire that the policy does not know, and the names
	 * line up: MESSAGE_KIND_<upper-case policy name>. */
	size_t known = 0;
	for (int k = 0; k <= SIRA_KIND_MAX; k++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(
			&sira__v1__message_kind__descriptor, k);
		char want[64];
		size_t i;
		int n;

		/* A number not (yet) allocated is unknown on both sides. */
		if (v == NULL) {
			assert_string_equal(policy_kind_name(k), "unknown");
			continue;
		}
		known++;
		n = snprintf(
		    want, sizeof(want), "MESSAGE_KIND_%s", policy_kind_name(k));
		assert_true(n > 0 && (size_t)n < sizeof(want));
		for (i = 0; want[i] != '\0'; i++)
			if (want[i] >= 'a' && want[i] <= 'z')
				want[i] = (char)(want[i] - 'a' + 'A');
		assert_string_equal(v->name, want);
	}
	assert_int_equal(sira__v1__message_kind__descriptor.n_values, known);
}

static void
test_kind_names(void **state)
{
	int k = -1;

	(void)state;
	for (int i = SIRA_KIND_REFERRAL; i <= SIRA_KIND_MAX; i++) {
		if (strcmp(policy_kind_name(i), "unknown") == 0)
			continue; /* a number not allocated */
		assert_int_equal(policy_kind_parse(policy_kind_name(i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(
	    policy_kind_name(SIRA_KIND_FILE_REQUEST), "file_request");
	assert_string_equal(policy_kind_name(0), "unspecified");
	assert_string_equal(policy_kind_name(-1), "unknown");
	assert_string_equal(policy_kind_name(SIRA_KIND_MAX + 1), "unknown");
	assert_int_equal(policy_kind_parse("unspecified", &k), -SIRA_EINVAL);
	assert_int_equal(policy_kind_parse("*", &k), -SIRA_EINVAL);
	assert_int_equal(policy_kind_parse("Referral", &k), -SIRA_EINVAL);
	assert_int_equal(policy_kind_parse("", &k), -SIRA_EINVAL);
}

/* Every triple, valid or not, decided as the specification says. */
static void
test_default_matrix(void **state)
{
	struct policy *p = NULL;
	size_t nallowed = 0;

	(void)state;
	assert_int_equal(policy_default(&p, NULL), 0);
	for (size_t f = 0; f < NROLES; f++)
		for (size_t k = 0; k < NKINDS; k++)
			for (size_t t = 0; t < NROLES; t++) {
				int from = roles[f], kind = kinds[k],
				    to = roles[t];
				bool want = expected(from, kind, to);

				if (allows(p, from, kind, to) != want)
					fail_msg("default: %d %d %d: want %d",
					    from, kind, to, want);
				assert_check_agrees(p, from, kind, to);
				nallowed += want;
			}
	/* referral 12, response/update 25 each, transfer 20, request 4,
	 * response 4, receipt/note 25 each, deadline notice 5 to the
	 * committee + 8 along referrals + 3 along file requests, stats
	 * report 5 (to the committee), erasure/erasure_receipt 25 each,
	 * resend_request 25. */
	assert_int_equal(nallowed,
	    12 + 25 + 25 + 20 + 4 + 4 + 25 + 25 + 5 + 8 + 3 + 5 + 25 + 25 + 25);
	policy_destroy(&p);
	assert_null(p);
}

/* The decisions the brief names, spelled out. */
static void
test_default_samples(void **state)
{
	struct policy *p = NULL;
	struct sira_err err;

	(void)state;
	assert_int_equal(policy_default(&p, &err), 0);
	/* referral */
	assert_true(allows(p, POL, SIRA_KIND_REFERRAL, NGO));
	assert_true(allows(p, NGO, SIRA_KIND_REFERRAL, SOC));
	assert_true(allows(p, COO, SIRA_KIND_REFERRAL, COO));
	assert_false(allows(p, POL, SIRA_KIND_REFERRAL, POL));
	assert_false(allows(p, POL, SIRA_KIND_REFERRAL, JUS));
	assert_false(allows(p, NGO, SIRA_KIND_REFERRAL, POL));
	assert_false(allows(p, JUS, SIRA_KIND_REFERRAL, NGO));
	/* answers, both ways, justice included */
	assert_true(allows(p, NGO, SIRA_KIND_REFERRAL_RESPONSE, POL));
	assert_true(allows(p, JUS, SIRA_KIND_REFERRAL_UPDATE, NGO));
	/* case transfer */
	assert_true(allows(p, POL, SIRA_KIND_CASE_TRANSFER, NGO));
	assert_true(allows(p, COO, SIRA_KIND_CASE_TRANSFER, JUS));
	assert_false(allows(p, POL, SIRA_KIND_CASE_TRANSFER, COO));
	/* file request / response: justice only */
	assert_true(allows(p, JUS, SIRA_KIND_FILE_REQUEST, NGO));
	assert_false(allows(p, NGO, SIRA_KIND_FILE_REQUEST, POL));
	assert_false(allows(p, POL, SIRA_KIND_FILE_REQUEST, NGO));
	assert_false(allows(p, JUS, SIRA_KIND_FILE_REQUEST, JUS));
	assert_true(allows(p, NGO, SIRA_KIND_FILE_RESPONSE, JUS));
	assert_false(allows(p, NGO, SIRA_KIND_FILE_RESPONSE, POL));
	assert_false(allows(p, JUS, SIRA_KIND_FILE_RESPONSE, JUS));
	/* receipts and notes: any agency pair */
	assert_true(allows(p, POL, SIRA_KIND_NOTE, POL));
	assert_true(allows(p, JUS, SIRA_KIND_RECEIPT, COO));
	/* deadline notices: to the committee from anyone; a reminder only
	 * where a referral or a file request may go */
	assert_true(allows(p, JUS, SIRA_KIND_DEADLINE_NOTICE, COO));
	assert_true(allows(p, POL, SIRA_KIND_DEADLINE_NOTICE, NGO));
	assert_true(allows(p, JUS, SIRA_KIND_DEADLINE_NOTICE, NGO));
	assert_false(allows(p, POL, SIRA_KIND_DEADLINE_NOTICE, POL));
	assert_false(allows(p, NGO, SIRA_KIND_DEADLINE_NOTICE, JUS));
	/* never to or from the broker, never an unknown kind */
	for (int k = 0; k <= SIRA_KIND_MAX + 1; k++)
		for (int r = 0; r <= SIRA_ROLE_MAX; r++) {
			assert_false(allows(p, r, k, BRK));
			assert_false(allows(p, BRK, k, r));
			assert_false(allows(p, r, k, SIRA_ROLE_UNSPECIFIED));
			assert_false(allows(p, SIRA_ROLE_UNSPECIFIED, k, r));
		}
	assert_false(allows(p, POL, SIRA_KIND_UNSPECIFIED, NGO));
	/* the nack reason */
	sira_err_clear(&err);
	assert_int_equal(
	    policy_check(p, NGO, SIRA_KIND_FILE_REQUEST, POL, &err),
	    -SIRA_EDENIED);
	assert_int_equal(err.code, SIRA_EDENIED);
	assert_int_equal(
	    policy_check(p, NGO, SIRA_KIND_FILE_REQUEST, POL, NULL),
	    -SIRA_EDENIED);
	sira_err_clear(&err);
	assert_int_equal(
	    policy_check(p, JUS, SIRA_KIND_FILE_REQUEST, POL, &err), 0);
	assert_int_equal(err.code, 0);
	policy_destroy(&p);
}

static void
test_example_matches_default(void **state)
{
	struct policy *d = NULL, *e = NULL;
	struct sira_err err;
	const char *srcdir = getenv("SIRA_SRCDIR");
	char path[4096];
	int n;

	(void)state;
	n = snprintf(path, sizeof(path), "%s/docs/policy.example",
	    srcdir != NULL ? srcdir : ".");
	assert_true(n > 0 && (size_t)n < sizeof(path));
	sira_err_clear(&err);
	if (policy_load(path, &e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(policy_default(&d, &err), 0);
	for (size_t f = 0; f < NROLES; f++)
		for (size_t k = 0; k < NKINDS; k++)
			for (size_t t = 0; t < NROLES; t++) {
				int from = roles[f], kind = kinds[k],
				    to = roles[t];

				if (allows(e, from, kind, to) !=
				    allows(d, from, kind, to))
					fail_msg("example and default differ "
						 "on %d %d %d",
					    from, kind, to);
				assert_check_agrees(e, from, kind, to);
			}
	policy_destroy(&d);
	policy_destroy(&e);
}

static void
test_parse_errors(void **state)
{
	char line[SIRA_POLICY_LINE_MAX + 2];
	struct policy *p;
	static const char nul[] =
	    "allow police note ngo\nallow ngo\0note police\n";
	static const char nul_comment[] = "allow police note ngo # a\0b\n";

	(void)state;
	/* unknown role, kind, action */
	parse_fails_str("allow polise note ngo\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note NGO\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note unspecified\n", SIRA_EMALFORMED);
	parse_fails_str("allow police referal ngo\n", SIRA_EMALFORMED);
	parse_fails_str("allow police unspecified ngo\n", SIRA_EMALFORMED);
	parse_fails_str("permit police note ngo\n", SIRA_EMALFORMED);
	parse_fails_str("Allow police note ngo\n", SIRA_EMALFORMED);
	/* a bad line after good ones */
	parse_fails_str(
	    "# ok\nallow police note ngo\n\nallow ngo note polise\n",
	    SIRA_EMALFORMED);
	/* wrong field count */
	parse_fails_str("allow police note\n", SIRA_EMALFORMED);
	parse_fails_str("allow\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo ngo\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo deny\n", SIRA_EMALFORMED);
	parse_fails_str("allow police,ngo note ngo extra\n", SIRA_EMALFORMED);
	/* NUL, also in a comment; non-ASCII in a rule, or invalid UTF-8 in a
	 * comment (a valid French comment is fine: see test_comments_utf8);
	 * controls */
	parse_fails(nul, sizeof(nul) - 1, SIRA_EMALFORMED);
	parse_fails(nul_comment, sizeof(nul_comment) - 1, SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo # r\xe8gle\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ng\xc3\xb4\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo\xa0\n", SIRA_EMALFORMED);
	parse_fails_str("allow police\x0bnote ngo\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo\x1b[2J\n", SIRA_EMALFORMED);
	parse_fails_str("allow police note ngo\x7f\n", SIRA_EMALFORMED);
	/* the broker is never allowed */
	parse_fails_str("allow broker note ngo\n", SIRA_EMALFORMED);
	parse_fails_str("allow * * broker\n", SIRA_EMALFORMED);
	/* nothing to decide with */
	parse_fails_str("", SIRA_EMALFORMED);
	parse_fails_str("# only a comment\n\n  \t\n", SIRA_EMALFORMED);
	parse_fails(NULL, 0, SIRA_EMALFORMED);
	/* overlong line: one byte over fails, exactly the maximum parses */
	memset(line, ' ', sizeof(line));
	memcpy(line, "allow police note ngo #", 23);
	line[SIRA_POLICY_LINE_MAX + 1] = '\0';
	parse_fails_str(line, SIRA_EMALFORMED);
	line[SIRA_POLICY_LINE_MAX] = '\0';
	p = parse_ok(line);
	policy_destroy(&p);
	line[SIRA_POLICY_LINE_MAX] = '\n';
	p = parse_ok(line);
	policy_destroy(&p);
}

static void
test_bounds(void **state)
{
	static const char rule[] = "allow * note *\n";
	size_t rlen = sizeof(rule) - 1, cap = SIRA_POLICY_TEXT_MAX + 1;
	char *text = malloc(cap);
	struct policy *p = NULL;
	size_t len;

	(void)state;
	assert_non_null(text);
	/* SIRA_POLICY_RULES_MAX rules parse; one more does not. */
	for (len = 0; len < SIRA_POLICY_RULES_MAX * rlen; len += rlen)
		memcpy(text + len, rule, rlen);
	assert_int_equal(policy_parse(text, len, &p, NULL), 0);
	policy_destroy(&p);
	memcpy(text + len, "# comments are no rules\n\n", 25);
	assert_int_equal(policy_parse(text, len + 25, &p, NULL), 0);
	policy_destroy(&p);
	memcpy(text + len, "deny * * *", 10);
	parse_fails(text, len + 10, SIRA_ETOOBIG);
	/* SIRA_POLICY_TEXT_MAX bytes parse; one more does not. */
	memset(text, '\n', cap);
	memcpy(text, rule, rlen);
	assert_int_equal(policy_parse(text, SIRA_POLICY_TEXT_MAX, &p, NULL), 0);
	policy_destroy(&p);
	parse_fails(text, cap, SIRA_ETOOBIG);
	free(text);
}

static void
test_first_match_wins(void **state)
{
	struct policy *p;

	(void)state;
	p = parse_ok("deny police note ngo\nallow * note *\n");
	assert_false(allows(p, POL, SIRA_KIND_NOTE, NGO));
	assert_true(allows(p, NGO, SIRA_KIND_NOTE, POL));
	assert_true(allows(p, POL, SIRA_KIND_NOTE, SOC));
	assert_check_agrees(p, POL, SIRA_KIND_NOTE, NGO);
	policy_destroy(&p);

	p = parse_ok("allow * note *\ndeny police note ngo\n");
	assert_true(allows(p, POL, SIRA_KIND_NOTE, NGO));
	policy_destroy(&p);

	/* A later, narrower allow does not undo an earlier wide deny. */
	p = parse_ok("deny * * ngo\nallow police referral ngo\n"
		     "allow police referral social_services\n");
	assert_false(allows(p, POL, SIRA_KIND_REFERRAL, NGO));
	assert_true(allows(p, POL, SIRA_KIND_REFERRAL, SOC));
	assert_false(allows(p, POL, SIRA_KIND_NOTE, SOC)); /* no rule */
	assert_check_agrees(p, POL, SIRA_KIND_NOTE, SOC);
	policy_destroy(&p);
}

static void
test_wildcards(void **state)
{
	struct policy *p;

	(void)state;
	/* '*' is every agency role and every kind, never the broker. */
	p = parse_ok("allow * * *\n");
	for (int f = 0; f <= SIRA_ROLE_MAX + 1; f++)
		for (int k = -1; k <= SIRA_KIND_MAX + 1; k++)
			for (int t = 0; t <= SIRA_ROLE_MAX + 1; t++)
				assert_int_equal(allows(p, f, k, t),
				    agency(f) && agency(t) && k >= 1 &&
					k <= SIRA_KIND_MAX);
	policy_destroy(&p);

	p = parse_ok("allow police * ngo\n");
	for (int k = 1; k <= SIRA_KIND_MAX; k++) {
		assert_true(allows(p, POL, k, NGO));
		assert_false(allows(p, NGO, k, POL));
		assert_false(allows(p, POL, k, SOC));
	}
	policy_destroy(&p);

	p = parse_ok("allow * receipt coordination\n");
	for (int f = POL; f <= COO; f++) {
		assert_true(allows(p, f, SIRA_KIND_RECEIPT, COO));
		assert_false(allows(p, f, SIRA_KIND_NOTE, COO));
		assert_false(allows(p, f, SIRA_KIND_RECEIPT, NGO));
	}
	policy_destroy(&p);

	/* deny may name the broker (it changes nothing) */
	p = parse_ok("deny broker * *\ndeny * note broker\nallow * note *\n");
	assert_true(allows(p, POL, SIRA_KIND_NOTE, NGO));
	assert_false(allows(p, BRK, SIRA_KIND_NOTE, NGO));
	policy_destroy(&p);
}

static void
test_layout(void **state)
{
	struct policy *p;

	(void)state;
	/* tabs, CRLF, trailing comments, no final newline */
	p = parse_ok("\t# header\r\n"
		     "  allow\tpolice  note\t\tngo   # why\r\n"
		     "\r\n"
		     "allow ngo note police");
	assert_true(allows(p, POL, SIRA_KIND_NOTE, NGO));
	assert_true(allows(p, NGO, SIRA_KIND_NOTE, POL));
	assert_false(allows(p, SOC, SIRA_KIND_NOTE, NGO));
	policy_destroy(&p);
	/* '#' glued to a field still starts a comment */
	p = parse_ok("allow police note ngo#no space\n");
	assert_true(allows(p, POL, SIRA_KIND_NOTE, NGO));
	policy_destroy(&p);
}

static void
test_load(void **state)
{
	char dir[] = "/tmp/sira-policy-XXXXXX", path[256];
	struct policy *p = (struct policy *)&p;
	struct sira_err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.policy", dir);
	sira_err_clear(&err);
	assert_int_equal(policy_load(path, &p, &err), -SIRA_ENOTFOUND);
	assert_int_equal(err.code, SIRA_ENOTFOUND);
	assert_null(p);

	snprintf(path, sizeof(path), "%s/bad.policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("allow police note ngo\nallow polise note ngo\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load(path, &p, &err), -SIRA_EMALFORMED);
	assert_int_equal(err.code, SIRA_EMALFORMED);
	assert_null(p);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/big.policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("allow police note ngo\n", f);
	for (size_t i = 0; i < SIRA_POLICY_TEXT_MAX; i++)
		fputc('\n', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load(path, &p, &err), -SIRA_ETOOBIG);
	assert_int_equal(err.code, SIRA_ETOOBIG);
	assert_null(p);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/good.policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("allow police note ngo\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load(path, &p, &err), 0);
	assert_true(allows(p, POL, SIRA_KIND_NOTE, NGO));
	assert_false(allows(p, NGO, SIRA_KIND_NOTE, POL));
	policy_destroy(&p);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Operators write French: accents are fine in comments, not in rules. */
static void
test_comments_utf8(void **state)
{
	static const char text[] =
	    "# R\xc3\xa8"
	    "gle pour le foyer \xc2\xab Espoir \xc2\xbb\n"
	    "allow police referral ngo # r\xc3\xa9"
	    "f\xc3\xa9"
	    "rence\n";
	struct policy *p = NULL;
	struct sira_err err;

	(void)state;
	assert_int_equal(policy_parse(text, sizeof(text) - 1, &p, &err), 0);
	assert_true(policy_allows(
	    p, SIRA_ROLE_POLICE, SIRA_KIND_REFERRAL, SIRA_ROLE_NGO));
	assert_false(policy_allows(
	    p, SIRA_ROLE_NGO, SIRA_KIND_REFERRAL, SIRA_ROLE_POLICE));
	policy_destroy(&p);
}

static void
test_null_and_destroy(void **state)
{
	struct policy *p = NULL;

	(void)state;
	assert_false(allows(NULL, POL, SIRA_KIND_NOTE, NGO));
	assert_int_equal(
	    policy_check(NULL, POL, SIRA_KIND_NOTE, NGO, NULL), -SIRA_EDENIED);
	policy_destroy(NULL);
	policy_destroy(&p);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_numbers_match_wire),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_default_matrix),
		cmocka_unit_test(test_default_samples),
		cmocka_unit_test(test_example_matches_default),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_comments_utf8),
		cmocka_unit_test(test_null_and_destroy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
