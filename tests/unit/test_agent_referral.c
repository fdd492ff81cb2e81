/*
 * test_agent_referral.c: agents/workflow/referral.c, the referral form (JSON)
 * to and from the wire Referral. The valid example of docs/referral.md
 * (tests/data/referral-example.json, read from the repository root like
 * the other fixtures) round-trips with its accents; then each rule is
 * broken once: every required field left out, wrong types, unknown keys and
 * words, one past every bound, duplicate keys, bad UTF-8, control
 * characters, the consent and child rules, future dates, the size cap,
 * every truncation and every single-bit flip. Error messages are asserted
 * by their leading field name only: that name is what a person acts on.
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
#include <jansson.h>

#include "clock.h"
#include "workflow/workflow.h"
#include "text.h"

#define EXAMPLE "tests/data/referral-example.json"

/* The minimal valid referral: an anonymous alert without consent. */
static const char minimal[] =
    "{\"case_ref\":\"MRN-2026-0001\",\"victim_ref\":\"V-1\","
    "\"age\":{\"min_years\":20,\"max_years\":30},"
    "\"exploitation\":[\"forced_labour\"],\"risk\":\"medium\","
    "\"urgency\":\"routine\",\"consent\":{\"given\":false},"
    "\"anonymous_alert\":true}";

static uint64_t
now(void)
{
	uint64_t t;

	assert_int_equal(clock_parse("2026-11-29T12:00:00Z", &t, NULL), 0);
	return t;
}

/* Parse text[0..len) from an exact-size heap copy, so ASan sees overreads. */
static int
parse(const char *text, size_t len, Sira__V1__Referral **out,
    struct sira_err *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, text, len);
	sira_err_clear(err);
	rc = referral_from_json(copy, len, now(), out, err);
	free(copy);
	if (rc != 0)
		assert_null(*out);
	return rc;
}

static char *
dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

static int
parse_json(const json_t *j, Sira__V1__Referral **out, struct sira_err *err)
{
	char *s = dump(j);
	int rc = parse(s, strlen(s), out, err);

	free(s);
	return rc;
}

static json_t *
example(void)
{
	json_error_t je;
	json_t *j = json_load_file(EXAMPLE, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		fail_msg(
		    "%s: %s (run from the repository root)", EXAMPLE, je.text);
	return j;
}

/*
 * The object holding the last component of path ("consent.date"), with
 * that component's name in *last.
 */
static json_t *
parent_of(json_t *root, const char *path, char last[64])
{
	char buf[128], *dot, *name = buf;
	json_t *o = root;

	(void)snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(name, '.')) != NULL) {
		*dot = '\0';
		o = json_object_get(o, name);
		assert_true(json_is_object(o));
		name = dot + 1;
	}
	(void)snprintf(last, 64, "%.63s", name);
	return o;
}

/* Set path in doc to v (stolen), or delete it when v is NULL. */
static json_t *
with(json_t *doc, const char *path, json_t *v)
{
	char last[64];
	json_t *o = parent_of(doc, path, last);

	if (v == NULL)
		assert_int_equal(json_object_del(o, last), 0);
	else
		assert_int_equal(json_object_set_new(o, last, v), 0);
	return doc;
}

/* Parsing doc (consumed) fails with code and a message starting prefix. */
static void
expect_fail(json_t *doc, int code, const char *prefix)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	int rc = parse_json(doc, &r, &err);

	json_decref(doc);
	if (rc != -code || strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fail_msg("expected %d '%s...', got %d '%s'", -code, prefix, rc,
		    err.msg);
	assert_int_equal(err.code, code);
}

static void
expect_ok(json_t *doc)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	int rc = parse_json(doc, &r, &err);

	json_decref(doc);
	if (rc != 0)
		fail_msg("expected success, got %d '%s'", rc, err.msg);
	sira__v1__referral__free_unpacked(r, NULL);
}

static uint8_t *
pack(const Sira__V1__Referral *r, size_t *len)
{
	uint8_t *buf;

	*len = sira__v1__referral__get_packed_size(r);
	assert_non_null(buf = malloc(*len > 0 ? *len : 1));
	assert_int_equal(sira__v1__referral__pack(r, buf), *len);
	return buf;
}

/* r -> JSON -> text -> Referral gives r back, and validates. */
static void
assert_roundtrip(const Sira__V1__Referral *r)
{
	Sira__V1__Referral *again = NULL;
	struct sira_err err;
	uint8_t *a, *b;
	size_t alen, blen;
	json_t *j;

	assert_int_equal(referral_validate(r, now(), &err), 0);
	assert_non_null(j = referral_to_json(r));
	if (parse_json(j, &again, &err) != 0)
		fail_msg("round trip: %s", err.msg);
	json_decref(j);
	a = pack(r, &alen);
	b = pack(again, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	sira__v1__referral__free_unpacked(again, NULL);
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A text of n bytes of c at path: n is accepted, n + 1 is not. */
static void
bound(const char *path, char c, size_t n, const char *prefix)
{
	char *s = repeat(c, n + 1);

	expect_fail(with(example(), path, json_string(s)), SIRA_EINVAL, prefix);
	s[n] = '\0';
	expect_ok(with(example(), path, json_string(s)));
	free(s);
}

/* ---- valid input ---- */

static void
test_example_roundtrip(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	json_t *j = example();
	char *text;
	uint64_t t;

	(void)state;
	assert_int_equal(parse_json(j, &r, &err), 0);
	json_decref(j);
	assert_string_equal(r->case_ref, "MRN-2026-0042");
	assert_string_equal(r->identification->place,
	    "S\xc3\xa9gou, cercle de S\xc3\xa9gou, commune urbaine");
	assert_non_null(
	    strstr(r->identification->identified_by, "m\xc5\x93urs"));
	assert_non_null(strchr(r->identification->circumstances, '\n'));
	assert_non_null(strchr(r->notes, '\t'));
	assert_int_equal(r->age->years, 14);
	assert_true(r->age->is_minor);
	assert_int_equal(r->sex, SIRA__V1__SEX__SEX_FEMALE);
	assert_int_equal(r->n_languages, 2);
	assert_string_equal(r->languages[1], "fr");
	assert_int_equal(r->n_exploitation, 2);
	assert_int_equal(r->exploitation[0],
	    SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_BEGGING);
	assert_int_equal(r->n_needs, 4);
	assert_int_equal(r->needs[3], SIRA__V1__NEED__NEED_CHILD_PROTECTION);
	assert_int_equal(r->risk, SIRA__V1__RISK_LEVEL__RISK_HIGH);
	assert_int_equal(r->urgency, SIRA__V1__URGENCY__URGENCY_IMMEDIATE);
	assert_int_equal(
	    r->consent->scope, SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_SERVICES);
	assert_int_equal(clock_parse("2026-11-20T16:30:00Z", &t, NULL), 0);
	assert_int_equal(r->consent->date, t);
	assert_int_equal(clock_parse("2012-03-04", &t, NULL), 0);
	assert_int_equal(r->identifying->date_of_birth, t);
	assert_string_equal(r->identifying->full_name,
	    "Exemplaire Fictive T\xc3\xa9st\xc3\xa9"
	    "e");
	assert_false(r->anonymous_alert);
	assert_roundtrip(r);

	/* The display form keeps the accents as UTF-8 and the dates as days. */
	assert_non_null(j = referral_to_json(r));
	text = dump(j);
	assert_non_null(strstr(text, "\"place\":\"S\xc3\xa9gou"));
	assert_non_null(strstr(text, "\"date\":\"2026-11-20\""));
	assert_non_null(strstr(text, "\"date\":\"2026-11-20T16:30:00Z\""));
	free(text);
	json_decref(j);
	sira__v1__referral__free_unpacked(r, NULL);
}

static void
test_variants_roundtrip(void **state)
{
	static const char *docs[] = {
		minimal,
		/* An infant: years 0 is an exact age, not a missing one. */
		"{\"case_ref\":\"A/1_b-2\",\"victim_ref\":\"b\xc3\xa9\","
		"\"age\":{\"years\":0},\"exploitation\":[\"other\"],"
		"\"risk\":\"critical\",\"urgency\":\"immediate\","
		"\"consent\":{\"given\":true,\"scope\":\"recipient_only\","
		"\"date\":\"2026-11-29\",\"recorded_by\":\"x\"},"
		"\"identifying\":{\"guardian_contact\":\"m\xc3\xa8re\"}}",
		/* Consent to be referred, nothing identifying: an alert. */
		"{\"case_ref\":\"C\",\"victim_ref\":\"v\",\"age\":{\"years\":"
		"30,\"is_minor\":false},\"sex\":\"undisclosed\",\"languages\""
		":[],\"needs\":[],\"exploitation\":[\"slavery\",\"sexual\"],"
		"\"risk\":\"low\",\"urgency\":\"priority\",\"consent\":{"
		"\"given\":true,\"scope\":\"none\",\"date\":\"2026-01-01T00:00:"
		"01Z\",\"recorded_by\":\"y\"},\"anonymous_alert\":true}",
		/* \u escapes decode to the same UTF-8 as raw bytes. */
		"{\"case_ref\":\"D\",\"victim_ref\":\"\\u00e9\\ud83d\\ude00\","
		"\"age\":{\"min_years\":16,\"max_years\":25,\"is_minor\":"
		"false},\"exploitation\":[\"forced_marriage\"],\"risk\":"
		"\"high\",\"urgency\":\"routine\",\"consent\":{\"given\":"
		"false,\"scope\":\"none\"},\"anonymous_alert\":true,"
		"\"notes\":\"a\\nb\\tc\"}",
	};
	Sira__V1__Referral *r = NULL;
	struct sira_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (parse(docs[i], strlen(docs[i]), &r, &err) != 0)
			fail_msg("doc %zu: %s", i, err.msg);
		assert_roundtrip(r);
		sira__v1__referral__free_unpacked(r, NULL);
	}
	assert_int_equal(parse(docs[3], strlen(docs[3]), &r, &err), 0);
	assert_string_equal(r->victim_ref, "\xc3\xa9\xf0\x9f\x98\x80");
	/* is_minor false for 16 to 25 is kept; the rules presume a child. */
	assert_false(r->age->is_minor);
	sira__v1__referral__free_unpacked(r, NULL);
}

/* The JSON blocks of docs/referral.md: the first is the example file, and
 * every one of them is accepted. */
static void
test_docs_examples(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	json_t *want = example(), *got;
	char *doc, *p, *end;
	long len;
	FILE *f = fopen("docs/referral.md", "rb");
	int n = 0;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((len = ftell(f)) > 0);
	rewind(f);
	assert_non_null(doc = malloc((size_t)len + 1));
	assert_int_equal(fread(doc, 1, (size_t)len, f), (size_t)len);
	doc[len] = '\0';
	fclose(f);
	for (p = doc; (p = strstr(p, "```json\n")) != NULL; p = end + 3) {
		p += strlen("```json\n");
		assert_non_null(end = strstr(p, "```"));
		if (parse(p, (size_t)(end - p), &r, &err) != 0)
			fail_msg("docs/referral.md block %d: %s", n, err.msg);
		sira__v1__referral__free_unpacked(r, NULL);
		if (n++ == 0) {
			got = json_loadb(p, (size_t)(end - p), 0, NULL);
			assert_true(json_equal(got, want));
			json_decref(got);
		}
	}
	assert_int_equal(n, 2);
	json_decref(want);
	free(doc);
}

/* ---- each rule broken once ---- */

static void
test_required_missing(void **state)
{
	static const char *paths[] = { "case_ref", "victim_ref", "age",
		"age.years", "exploitation", "risk", "urgency", "consent",
		"consent.given", "consent.scope", "consent.date",
		"consent.recorded_by" };
	char prefix[64];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		(void)snprintf(prefix, sizeof(prefix), "%s:", paths[i]);
		expect_fail(
		    with(example(), paths[i], NULL), SIRA_EINVAL, prefix);
	}
	/* Half a range names the missing half. */
	expect_fail(with(with(example(), "age.years", NULL), "age.min_years",
			json_integer(3)),
	    SIRA_EINVAL, "age.max_years:");
	expect_fail(with(with(example(), "age.years", NULL), "age.max_years",
			json_integer(3)),
	    SIRA_EINVAL, "age.min_years:");
	/* An empty list is as good as none. */
	expect_fail(with(example(), "exploitation", json_array()), SIRA_EINVAL,
	    "exploitation:");
	/* Optional fields may be left out. */
	expect_ok(
	    with(with(with(with(with(with(with(with(example(), "sex", NULL),
					      "nationality", NULL),
					 "languages", NULL),
				    "identification", NULL),
			       "needs", NULL),
			  "notes", NULL),
		     "anonymous_alert", NULL),
		"consent.language", NULL));
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char *path, *value, *prefix;
	} cases[] = {
		{ "case_ref", "42", "case_ref:" },
		{ "victim_ref", "null", "victim_ref:" },
		{ "age", "\"14\"", "age:" },
		{ "age.years", "\"14\"", "age.years:" },
		{ "age.years", "14.0", "age.years:" },
		{ "age.years", "-1", "age.years:" },
		{ "age.years", "true", "age.years:" },
		{ "age.is_minor", "\"yes\"", "age.is_minor:" },
		{ "age.is_minor", "1", "age.is_minor:" },
		{ "sex", "1", "sex:" },
		{ "nationality", "[\"ML\"]", "nationality:" },
		{ "languages", "\"bm\"", "languages:" },
		{ "languages", "[\"bm\", 7]", "languages[1]:" },
		{ "languages", "[\"bm\", \"\"]", "languages[1]:" },
		{ "exploitation", "\"sexual\"", "exploitation:" },
		{ "exploitation", "[3]", "exploitation[0]:" },
		{ "identification", "[]", "identification:" },
		{ "identification.date", "20261120", "identification.date:" },
		{ "needs", "{}", "needs:" },
		{ "risk", "3", "risk:" },
		{ "urgency", "null", "urgency:" },
		{ "consent", "true", "consent:" },
		{ "consent.given", "\"true\"", "consent.given:" },
		{ "consent.guardian_consent", "0",
		    "consent.guardian_consent:" },
		{ "identifying", "\"x\"", "identifying:" },
		{ "identifying.date_of_birth", "{}",
		    "identifying.date_of_birth:" },
		{ "notes", "12", "notes:" },
		{ "notes", "\"\"", "notes:" },
		{ "anonymous_alert", "\"no\"", "anonymous_alert:" },
		{ "anonymous_alert", "null", "anonymous_alert:" },
	};
	Sira__V1__Referral *r = NULL;
	struct sira_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		expect_fail(with(example(), cases[i].path, v), SIRA_EINVAL,
		    cases[i].prefix);
	}
	/* The document itself must be an object. */
	assert_int_equal(parse("[]", 2, &r, &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "referral:", 9), 0);
	assert_int_equal(parse("\"x\"", 3, &r, &err), -SIRA_EINVAL);
}

static void
test_unknown_key(void **state)
{
	static const char *paths[] = { "case_reff", "consent.givne",
		"identifying.name", "age.yeras", "identification.where" };
	char prefix[64];
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	const char *esc = "{\"\\u001b[31mx\":1}";

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		(void)snprintf(
		    prefix, sizeof(prefix), "%s: unknown field", paths[i]);
		expect_fail(with(example(), paths[i], json_true()), SIRA_EINVAL,
		    prefix);
	}
	/* A typo of a required key reads as unknown, not as missing. */
	expect_fail(with(with(example(), "case_ref", NULL), "case_rf",
			json_string("MRN-1")),
	    SIRA_EINVAL, "case_rf: unknown field");
	/* An unknown key is shown back without its control characters. */
	assert_int_equal(parse(esc, strlen(esc), &r, &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "?[31mx: unknown field", 21), 0);
	assert_false(text_has_control(err.msg, strlen(err.msg)));
}

static void
test_unknown_enum(void **state)
{
	json_t *doc = example();
	Sira__V1__Referral *r = NULL;
	struct sira_err err;

	(void)state;
	json_array_append_new(json_object_get(doc, "exploitation"),
	    json_string("sexual-exploitation"));
	assert_int_equal(parse_json(doc, &r, &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg,
			     "exploitation[2]: unknown type "
			     "'sexual-exploitation' (use one of: sexual, ",
			     73),
	    0);
	assert_non_null(strstr(err.msg, "forced_criminality, other)"));
	json_decref(doc);

	expect_fail(with(example(), "sex", json_string("f")), SIRA_EINVAL,
	    "sex: unknown value 'f'");
	expect_fail(with(example(), "risk", json_string("unspecified")),
	    SIRA_EINVAL, "risk:");
	expect_fail(
	    with(example(), "risk", json_string("HIGH")), SIRA_EINVAL, "risk:");
	expect_fail(with(example(), "urgency", json_string("urgent")),
	    SIRA_EINVAL, "urgency:");
	expect_fail(with(example(), "consent.scope", json_string("all")),
	    SIRA_EINVAL, "consent.scope:");
	expect_fail(
	    with(example(), "needs", json_pack("[s,s]", "shelter", "housing")),
	    SIRA_EINVAL, "needs[1]: unknown need 'housing'");
}

static void
test_bounds(void **state)
{
	char *s;

	(void)state;
	bound("case_ref", 'A', SIRA_REFERRAL_REF_MAX, "case_ref:");
	bound("victim_ref", 'v', SIRA_REFERRAL_REF_MAX, "victim_ref:");
	bound("identification.place", 'p', SIRA_REFERRAL_NAME_MAX,
	    "identification.place:");
	bound("identification.identified_by", 'i', SIRA_REFERRAL_NAME_MAX,
	    "identification.identified_by:");
	bound("identification.circumstances", 'c', SIRA_REFERRAL_CIRC_MAX,
	    "identification.circumstances:");
	bound("consent.recorded_by", 'r', SIRA_REFERRAL_NAME_MAX,
	    "consent.recorded_by:");
	bound("consent.language", 'l', SIRA_REFERRAL_LANG_MAX,
	    "consent.language:");
	bound("identifying.full_name", 'n', SIRA_REFERRAL_NAME_MAX,
	    "identifying.full_name:");
	bound("identifying.phone", '0', SIRA_REFERRAL_PHONE_MAX,
	    "identifying.phone:");
	bound("identifying.current_location", 'l', SIRA_REFERRAL_ADDR_MAX,
	    "identifying.current_location:");
	bound("identifying.guardian_contact", 'g', SIRA_REFERRAL_ADDR_MAX,
	    "identifying.guardian_contact:");
	bound("notes", 'n', SIRA_REFERRAL_NOTES_MAX, "notes:");

	/* Bounds are bytes: 1000 'é' fill the notes exactly. */
	s = malloc(SIRA_REFERRAL_NOTES_MAX + 3);
	assert_non_null(s);
	for (size_t i = 0; i < SIRA_REFERRAL_NOTES_MAX; i += 2)
		memcpy(s + i, "\xc3\xa9", 2);
	s[SIRA_REFERRAL_NOTES_MAX] = '\0';
	expect_ok(with(example(), "notes", json_string(s)));
	memcpy(s + SIRA_REFERRAL_NOTES_MAX, "x", 2);
	expect_fail(
	    with(example(), "notes", json_string(s)), SIRA_EINVAL, "notes:");
	free(s);

	/* Character sets. */
	expect_fail(with(example(), "case_ref", json_string("MRN 2026")),
	    SIRA_EINVAL, "case_ref:");
	expect_fail(with(example(), "case_ref", json_string("MRN-\xc3\xa9")),
	    SIRA_EINVAL, "case_ref:");
	expect_ok(with(example(), "case_ref", json_string("a-Z_0/9")));
	expect_fail(with(example(), "nationality", json_string("MLI")),
	    SIRA_EINVAL, "nationality:");
	expect_fail(with(example(), "nationality", json_string("ml")),
	    SIRA_EINVAL, "nationality:");
	expect_fail(with(example(), "nationality", json_string("M")),
	    SIRA_EINVAL, "nationality:");
	expect_fail(
	    with(example(), "identifying.phone", json_string("call me")),
	    SIRA_EINVAL, "identifying.phone:");
	expect_ok(with(example(), "identifying.phone",
	    json_string("+223 (76) 00-00.00 / 66")));
	expect_fail(with(example(), "victim_ref", json_string("")), SIRA_EINVAL,
	    "victim_ref:");
}

static void
test_list_bounds(void **state)
{
	json_t *langs = json_array(), *ex, *nd;

	(void)state;
	for (int i = 0; i < SIRA_REFERRAL_LANGS_MAX; i++)
		json_array_append_new(langs, json_string("bm"));
	expect_ok(with(example(), "languages", json_copy(langs)));
	json_array_append_new(langs, json_string("fr"));
	expect_fail(
	    with(example(), "languages", langs), SIRA_EINVAL, "languages:");
	expect_fail(with(example(), "languages",
			json_pack("[s]", "123456789012345678901234567890123")),
	    SIRA_EINVAL, "languages[0]:");

	ex = json_pack("[s,s,s,s,s,s,s,s,s,s]", "sexual", "forced_labour",
	    "slavery", "servitude", "organ_removal", "forced_begging",
	    "child_labour", "forced_marriage", "forced_criminality", "other");
	expect_ok(with(example(), "exploitation", json_copy(ex)));
	json_array_append_new(ex, json_string("other"));
	expect_fail(
	    with(example(), "exploitation", ex), SIRA_EINVAL, "exploitation:");
	expect_fail(with(example(), "exploitation",
			json_pack("[s,s]", "slavery", "slavery")),
	    SIRA_EINVAL, "exploitation[1]:");

	nd = json_pack("[s,s,s,s,s,s,s,s,s]", "shelter", "medical",
	    "psychosocial", "legal", "interpretation", "repatriation",
	    "family_tracing", "food_and_items", "child_protection");
	expect_ok(with(example(), "needs", json_copy(nd)));
	json_array_append_new(nd, json_string("legal"));
	expect_fail(with(example(), "needs", nd), SIRA_EINVAL, "needs:");
	expect_fail(with(example(), "needs",
			json_pack("[s,s,s]", "legal", "medical", "legal")),
	    SIRA_EINVAL, "needs[2]:");
}

static void
test_age_bounds(void **state)
{
	(void)state;
	expect_ok(with(with(example(), "age.years", json_integer(120)),
	    "age.is_minor", json_false()));
	expect_fail(with(with(example(), "age.years", json_integer(121)),
			"age.is_minor", json_false()),
	    SIRA_EINVAL, "age.years:");
	expect_fail(with(example(), "age.years", json_integer(1LL << 40)),
	    SIRA_EINVAL, "age.years:");
	expect_fail(with(with(with(example(), "age.years", NULL),
			     "age.min_years", json_integer(10)),
			"age.max_years", json_integer(121)),
	    SIRA_EINVAL, "age.max_years:");
	expect_fail(with(with(with(example(), "age.years", NULL),
			     "age.min_years", json_integer(15)),
			"age.max_years", json_integer(12)),
	    SIRA_EINVAL, "age.min_years:");
	expect_fail(with(example(), "age.min_years", json_integer(12)),
	    SIRA_EINVAL, "age:");
	/* is_minor must agree with an age that settles it. */
	expect_fail(with(example(), "age.is_minor", json_false()), SIRA_EINVAL,
	    "age.is_minor:");
	expect_fail(with(example(), "age.years", json_integer(18)), SIRA_EINVAL,
	    "age.is_minor:");
	expect_fail(with(with(with(example(), "age.years", NULL),
			     "age.min_years", json_integer(18)),
			"age.max_years", json_integer(30)),
	    SIRA_EINVAL, "age.is_minor:");
}

/* The example's text with needle replaced by repl (same length or not). */
static char *
example_with(const char *needle, const char *repl)
{
	json_t *j = example();
	char *s = dump(j), *p, *out;

	json_decref(j);
	assert_non_null(p = strstr(s, needle));
	out = malloc(strlen(s) + strlen(repl) + 1);
	assert_non_null(out);
	memcpy(out, s, (size_t)(p - s));
	strcpy(out + (p - s), repl);
	strcat(out, p + strlen(needle));
	free(s);
	return out;
}

static void
expect_text_fails(const char *needle, const char *repl, const char *prefix)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char *s = example_with(needle, repl);
	int rc = parse(s, strlen(s), &r, &err);

	if (rc != -SIRA_EINVAL || strncmp(err.msg, prefix, strlen(prefix)))
		fail_msg("%s: got %d '%s'", repl, rc, err.msg);
	free(s);
}

static void
test_duplicate_keys(void **state)
{
	static const char *docs[] = {
		"{\"case_ref\":\"A\",\"case_ref\":\"B\"}",
		"{\"consent\":{\"given\":true,\"given\":false}}",
	};
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(
		    parse(docs[i], strlen(docs[i]), &r, &err), -SIRA_EINVAL);
		assert_non_null(strstr(err.msg, "duplicate key"));
	}
	assert_non_null(strstr(err.msg, "\"given\""));
	/* The example with one key written twice. */
	s = example_with("{\"case_ref\"", "{\"risk\":\"high\",\"case_ref\"");
	assert_int_equal(parse(s, strlen(s), &r, &err), -SIRA_EINVAL);
	assert_non_null(strstr(err.msg, "duplicate key \"risk\""));
	free(s);
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	/* Raw bytes that are not UTF-8: jansson refuses the document. */
	expect_text_fails("\"V-SEG-0107\"", "\"V-\xc3\x28\"", "JSON line");
	expect_text_fails("\"V-SEG-0107\"", "\"V-\xc0\xaf\"", "JSON line");
	expect_text_fails("\"V-SEG-0107\"", "\"V-\xed\xa0\x80\"", "JSON line");
	expect_text_fails(
	    "\"V-SEG-0107\"", "\"V-\xf4\x90\x80\x80\"", "JSON line");
	expect_text_fails("\"V-SEG-0107\"", "\"V-\xff\"", "JSON line");
	/* A lone surrogate escape is not a character. */
	expect_text_fails("\"V-SEG-0107\"", "\"V-\\ud800\"", "JSON line");
	/* NUL, raw or escaped, never reaches a C string. */
	expect_text_fails("\"V-SEG-0107\"", "\"V-\\u0000\"", "JSON line");
}

static void
test_control_chars(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char *s;

	(void)state;
	expect_fail(with(example(), "victim_ref", json_string("a\x1b[2Jb")),
	    SIRA_EINVAL, "victim_ref:");
	expect_fail(with(example(), "identification.place",
			json_string("S\xc3\xa9gou\n")),
	    SIRA_EINVAL, "identification.place:");
	expect_fail(
	    with(example(), "identifying.full_name", json_string("a\tb")),
	    SIRA_EINVAL, "identifying.full_name:");
	/* Invisible reordering (bidi override) is refused like a control. */
	expect_fail(with(example(), "victim_ref",
			json_string("V-\xe2\x80\xae"
				    "1")),
	    SIRA_EINVAL, "victim_ref:");
	expect_fail(with(example(), "notes", json_string("a\rb")), SIRA_EINVAL,
	    "notes:");
	expect_fail(with(example(), "notes",
			json_string("a\xc2\x85"
				    "b")),
	    SIRA_EINVAL, "notes:");
	expect_fail(with(example(), "notes", json_string("a\x7f")), SIRA_EINVAL,
	    "notes:");
	expect_fail(with(example(), "identification.circumstances",
			json_string("bell\x07")),
	    SIRA_EINVAL, "identification.circumstances:");
	expect_fail(with(example(), "languages", json_pack("[s]", "b\x01m")),
	    SIRA_EINVAL, "languages[0]:");
	/* Newline and tab are fine in the two free texts. */
	expect_ok(with(example(), "notes", json_string("\n\ta\n\n\tb\t")));
	expect_ok(with(example(), "identification.circumstances",
	    json_string("1.\n2.\t\xc3\xa9")));
	/* A raw control byte inside a JSON string is not JSON. */
	s = example_with("\"V-SEG-0107\"", "\"V-\x01\"");
	assert_int_equal(parse(s, strlen(s), &r, &err), -SIRA_EINVAL);
	free(s);
}

static void
test_consent_rules(void **state)
{
	json_t *no = json_pack("{s:b}", "given", 0);

	(void)state;
	/* No consent: identifying details never leave. */
	expect_fail(with(example(), "consent", json_copy(no)), SIRA_EDENIED,
	    "identifying:");
	expect_fail(with(with(example(), "consent", json_copy(no)),
			"anonymous_alert", json_true()),
	    SIRA_EDENIED, "identifying:");
	expect_fail(with(example(), "consent.scope", json_string("none")),
	    SIRA_EDENIED, "identifying:");
	/* ... and the referral is only an anonymous alert. */
	expect_fail(with(with(example(), "consent", json_copy(no)),
			"identifying", NULL),
	    SIRA_EDENIED, "anonymous_alert:");
	expect_fail(with(with(example(), "consent.scope", json_string("none")),
			"identifying", NULL),
	    SIRA_EDENIED, "anonymous_alert:");
	expect_ok(with(with(with(example(), "consent", json_copy(no)),
			   "identifying", NULL),
	    "anonymous_alert", json_true()));
	expect_ok(
	    with(with(with(example(), "consent.scope", json_string("none")),
		     "identifying", NULL),
		"anonymous_alert", json_true()));
	/* An anonymous alert carries nothing identifying, consent or not. */
	expect_fail(with(example(), "anonymous_alert", json_true()),
	    SIRA_EDENIED, "identifying:");
	expect_ok(with(with(example(), "anonymous_alert", json_true()),
	    "identifying", NULL));
	/* Consent refused has no scope but none. */
	expect_fail(with(with(with(example(), "consent.given", json_false()),
			     "identifying", NULL),
			"anonymous_alert", json_true()),
	    SIRA_EINVAL, "consent.scope:");
	/* An empty identifying object is a mistake, not a consent question. */
	expect_fail(with(example(), "identifying", json_object()), SIRA_EINVAL,
	    "identifying:");
	json_decref(no);
}

static void
test_minor_rules(void **state)
{
	(void)state;
	/* The example is a child with a guardian's consent. */
	expect_ok(example());
	expect_fail(with(example(), "consent.guardian_consent", json_false()),
	    SIRA_EDENIED, "identifying:");
	expect_fail(with(example(), "consent.guardian_consent", NULL),
	    SIRA_EDENIED, "identifying:");
	/* The SOP exception: risk to life. */
	expect_ok(with(with(example(), "consent.guardian_consent", NULL),
	    "risk", json_string("critical")));
	/* Without identifying details there is nothing to protect. */
	expect_ok(with(with(example(), "consent.guardian_consent", NULL),
	    "identifying", NULL));
	/* is_minor left out: derived from the age. */
	expect_fail(with(with(example(), "age.is_minor", NULL),
			"consent.guardian_consent", json_false()),
	    SIRA_EDENIED, "identifying:");
	expect_ok(with(with(with(example(), "age.is_minor", NULL), "age.years",
			   json_integer(18)),
	    "consent.guardian_consent", json_false()));
	/* An uncertain age that may be under 18: presumed a child. */
	expect_fail(with(with(with(with(with(example(), "age.years", NULL),
				       "age.min_years", json_integer(16)),
				  "age.max_years", json_integer(20)),
			     "age.is_minor", json_false()),
			"consent.guardian_consent", json_false()),
	    SIRA_EDENIED, "identifying:");
	expect_ok(with(with(with(with(with(example(), "age.years", NULL),
				     "age.min_years", json_integer(18)),
				"age.max_years", json_integer(25)),
			   "age.is_minor", json_false()),
	    "consent.guardian_consent", json_false()));
}

static void
test_dates(void **state)
{
	static const char *paths[] = { "identification.date", "consent.date",
		"identifying.date_of_birth" };
	static const char *bad[] = { "20/11/2026", "2026-02-30", "2026-13-01",
		"2026-11-20 10:00", "2026-11-20T10:00:00", "@1700000000",
		"1969-12-31", "1970-01-01", "", "2026-11-2" };
	char prefix[64];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		(void)snprintf(prefix, sizeof(prefix), "%s:", paths[i]);
		/* now is 2026-11-29T12:00Z; up to a day ahead is tolerated. */
		expect_ok(with(example(), paths[i], json_string("2026-11-30")));
		expect_ok(with(
		    example(), paths[i], json_string("2026-11-30T12:00:00Z")));
		expect_fail(with(example(), paths[i],
				json_string("2026-11-30T12:00:01Z")),
		    SIRA_EINVAL, prefix);
		expect_fail(
		    with(example(), paths[i], json_string("2027-01-01")),
		    SIRA_EINVAL, prefix);
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			expect_fail(
			    with(example(), paths[i], json_string(bad[k])),
			    SIRA_EINVAL, prefix);
	}
}

static void
test_size_cap(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char *s = malloc(SIRA_REFERRAL_JSON_MAX + 1);
	size_t len = strlen(minimal);

	(void)state;
	assert_non_null(s);
	/* Exactly the cap: the minimal document padded with spaces. */
	memset(s, ' ', SIRA_REFERRAL_JSON_MAX + 1);
	memcpy(s, minimal, len);
	assert_int_equal(parse(s, SIRA_REFERRAL_JSON_MAX, &r, &err), 0);
	sira__v1__referral__free_unpacked(r, NULL);
	assert_int_equal(
	    parse(s, SIRA_REFERRAL_JSON_MAX + 1, &r, &err), -SIRA_ETOOBIG);
	assert_int_equal(err.code, SIRA_ETOOBIG);
	free(s);
}

static void
test_truncated(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	json_t *j = example();
	char *full = json_dumps(j, JSON_INDENT(2));

	(void)state;
	json_decref(j);
	assert_non_null(full);
	for (size_t len = 0; len < strlen(minimal); len++) {
		assert_int_equal(parse(minimal, len, &r, &err), -SIRA_EINVAL);
		assert_null(r);
	}
	for (size_t len = 0; len < strlen(full); len++) {
		assert_int_not_equal(parse(full, len, &r, &err), 0);
		/* The message never quotes what was cut. */
		assert_null(strstr(err.msg, "Exemplaire"));
		assert_null(strstr(err.msg, "+223"));
		assert_null(strstr(err.msg, "Espoir"));
	}
	free(full);
}

/* Every single-bit flip of the minimal document: no crash, and whatever
 * still parses validates and round-trips. */
static void
test_bit_flips(void **state)
{
	size_t len = strlen(minimal);
	char *s = malloc(len);
	Sira__V1__Referral *r = NULL;
	struct sira_err err;

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(s, minimal, len);
			s[i] = (char)(s[i] ^ (1 << bit));
			if (parse(s, len, &r, &err) != 0)
				continue;
			assert_roundtrip(r);
			sira__v1__referral__free_unpacked(r, NULL);
		}
	}
	free(s);
}

/* ---- the inbox line ---- */

static void
assert_no_identifying(const char *line)
{
	static const char *secrets[] = { "Exemplaire", "Fictive", "+223",
		"00 00", "Espoir", "Oncle", "accueil", "V-SEG", "MRN", "gare",
		"Parle", "DRPFEF", "Brigade" };

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(line, secrets[i]) != NULL)
			fail_msg("summary shows '%s': %s", secrets[i], line);
}

static void
test_summary(void **state)
{
	static const char want[] =
	    "Mineure, 14 ans, ML \xe2\x80\x94 exploitation: "
	    "mendicit\xc3\xa9 forc\xc3\xa9"
	    "e, servitude \xe2\x80\x94 "
	    "besoins: h\xc3\xa9"
	    "bergement, m\xc3\xa9"
	    "dical, psychosocial, "
	    "protection de l'enfance \xe2\x80\x94 risque: \xc3\xa9lev\xc3\xa9 "
	    "\xe2\x80\x94 urgence: imm\xc3\xa9"
	    "diate";
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char buf[SIRA_REFERRAL_SUMMARY_MAX], small[sizeof(want)];
	json_t *j = example();

	(void)state;
	assert_int_equal(parse_json(j, &r, &err), 0);
	json_decref(j);
	assert_ptr_equal(referral_summary(r, buf, sizeof(buf)), buf);
	assert_string_equal(buf, want);
	assert_no_identifying(buf);

	/* A name typed into nationality (a message that skipped validation)
	 * is not shown either. */
	free(r->nationality);
	r->nationality = strdup("Exemplaire Fictive");
	referral_summary(r, buf, sizeof(buf));
	assert_no_identifying(buf);
	assert_non_null(strstr(buf, "Mineure, 14 ans \xe2\x80\x94"));

	/* Short buffers: a prefix, NUL-terminated, never half a character. */
	r->nationality[0] = '\0';
	referral_summary(r, buf, sizeof(buf));
	for (size_t len = 1; len <= strlen(buf) + 1; len++) {
		referral_summary(r, small, len);
		assert_true(strlen(small) < len);
		assert_true(text_is_utf8(small, strlen(small)));
		assert_int_equal(strncmp(small, buf, strlen(small)), 0);
		assert_true(strlen(small) + 4 > len - 1 ||
		    strlen(small) == strlen(buf));
	}
	referral_summary(r, small, 0);
	sira__v1__referral__free_unpacked(r, NULL);

	/* An anonymous adult with an estimated age. */
	assert_int_equal(parse(minimal, strlen(minimal), &r, &err), 0);
	referral_summary(r, buf, sizeof(buf));
	assert_string_equal(buf,
	    "Alerte anonyme \xe2\x80\x94 Adulte, 20 \xc3\xa0 30 ans "
	    "(estim\xc3\xa9) \xe2\x80\x94 exploitation: travail forc\xc3\xa9 "
	    "\xe2\x80\x94 risque: moyen \xe2\x80\x94 urgence: ordinaire");
	sira__v1__referral__free_unpacked(r, NULL);
}

/* ---- referrals that did not come from JSON ---- */

static void
test_validate_wire(void **state)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	json_t *j = example();
	Sira__V1__IdentifyingDetails *id;
	Sira__V1__Consent *k;
	char *saved;

	(void)state;
	assert_int_equal(parse_json(j, &r, &err), 0);
	json_decref(j);
	assert_int_equal(referral_validate(r, now(), &err), 0);
	/* A date now valid is refused a year earlier: it is in the future. */
	assert_int_equal(
	    referral_validate(r, now() - 365 * 86400ULL, &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "identification.date:", 20), 0);

	/* An exact age and a range at once (JSON cannot say it). */
	r->age->min_years = 10;
	r->age->max_years = 15;
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "age:", 4), 0);
	r->age->min_years = r->age->max_years = 0;

	r->exploitation[1] = (Sira__V1__ExploitationType)99;
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "exploitation[1]:", 16), 0);
	r->exploitation[1] = 0;
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	r->exploitation[1] = r->exploitation[0];
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "exploitation[1]:", 16), 0);
	r->exploitation[1] =
	    SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SERVITUDE;

	/* Text that is not UTF-8: refused, and not shown as JSON. */
	saved = r->notes;
	r->notes = strdup("caf\xe9");
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "notes:", 6), 0);
	assert_null(referral_to_json(r));
	free(r->notes);
	r->notes = saved;

	/* Consent withdrawn after the fact: the details may not travel. */
	r->consent->given = 0;
	r->consent->scope = SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_UNSPECIFIED;
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EDENIED);
	id = r->identifying;
	r->identifying = NULL;
	r->anonymous_alert = 1;
	assert_int_equal(referral_validate(r, now(), &err), 0);
	assert_roundtrip(r);
	r->identifying = id;

	/* Missing sub-messages of a hand-built message. */
	k = r->consent;
	r->consent = NULL;
	assert_int_equal(referral_validate(r, now(), &err), -SIRA_EINVAL);
	assert_int_equal(strncmp(err.msg, "consent:", 8), 0);
	r->consent = k;
	sira__v1__referral__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_roundtrip),
		cmocka_unit_test(test_variants_roundtrip),
		cmocka_unit_test(test_docs_examples),
		cmocka_unit_test(test_required_missing),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_enum),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_list_bounds),
		cmocka_unit_test(test_age_bounds),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_consent_rules),
		cmocka_unit_test(test_minor_rules),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_validate_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
