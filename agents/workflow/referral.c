/*
 * referral.c: the referral form (JSON) to and from the wire Referral, and
 * the rules a referral keeps before it may leave the agency.
 *
 * One table per message (the *_fields arrays) is the schema: it drives
 * decoding, validation and encoding, so the three cannot drift apart, and
 * docs/referral.md documents exactly these tables. Decoding checks shape
 * (types, known keys, known words) and builds the message; every rule on
 * values lives in the validators, which also run on referrals that arrive
 * from peers. Validators reject early and accept once at the end. Messages
 * name the field and never quote its text: only unknown keys and enum words
 * are echoed, bounded and made printable.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "workflow/workflow.h"
#include "text.h"

#define PATH_LEN 96    /* "identifying.guardian_contact", "languages[7]" */
#define EXPECT_LEN 224 /* what a field expects, in words */
#define ECHO_MAX 32    /* bytes of an unknown key or word shown back */

/* Enums and booleans are stored as int-sized values; see get_int. */
_Static_assert(sizeof(Sira__V1__Sex) == sizeof(int), "enum size");
_Static_assert(sizeof(protobuf_c_boolean) == sizeof(int), "bool size");

enum kind {
	K_TEXT,    /* one line of text */
	K_LINES,   /* text where newline and tab are allowed */
	K_REF,     /* reference: A-Z a-z 0-9 - _ / */
	K_COUNTRY, /* two upper-case letters */
	K_PHONE,   /* digits, space and + - ( ) . / */
	K_BOOL,
	K_YEARS, /* 0..max */
	K_DATE,  /* a day or a UTC time, not in the future */
	K_ENUM,
	K_TEXTS, /* list of K_TEXT */
	K_ENUMS, /* list of distinct K_ENUM */
	K_MSG,   /* sub-message */
};

/* One value of an enum: its wire number, JSON word and French label. */
struct word {
	int v;
	const char *name;
	const char *fr;
};

struct ctx;
struct shape;

struct field {
	const char *name;
	enum kind kind;
	bool required;
	size_t max;               /* texts: bytes; K_YEARS: value */
	size_t n_max;             /* lists: entries */
	size_t off;               /* of the value, or of a list's array */
	size_t n_off;             /* lists: of the count */
	const struct word *words; /* K_ENUM, K_ENUMS; ends with name NULL */
	const char *noun;         /* "unknown <noun>"; "value" if NULL */
	const struct shape *sub;  /* K_MSG */
};

struct shape {
	const ProtobufCMessageDescriptor *desc;
	const struct field *fields;
	size_t n;
	/* After decoding: rules that need to know which keys were present. */
	int (*decoded)(struct ctx *c, const char *path, json_t *obj, void *msg);
	/* After the fields validated: rules across fields. */
	int (*check)(struct ctx *c, const char *path, const void *msg);
	/* Replaces the generic encoder. */
	json_t *(*encode)(const void *msg);
};

struct ctx {
	uint64_t now;
	struct sira_err *err;
};

static const struct word sexes[] = {
	{ SIRA__V1__SEX__SEX_FEMALE, "female", NULL },
	{ SIRA__V1__SEX__SEX_MALE, "male", NULL },
	{ SIRA__V1__SEX__SEX_OTHER, "other", NULL },
	{ SIRA__V1__SEX__SEX_UNDISCLOSED, "undisclosed", NULL },
	{ 0, NULL, NULL },
};

static const struct word exploitations[] = {
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SEXUAL, "sexual",
	    "exploitation sexuelle" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_LABOUR,
	    "forced_labour", "travail forcé" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SLAVERY, "slavery",
	    "esclavage" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_SERVITUDE, "servitude",
	    "servitude" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_ORGAN_REMOVAL,
	    "organ_removal", "prélèvement d'organes" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_BEGGING,
	    "forced_begging", "mendicité forcée" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_CHILD_LABOUR,
	    "child_labour", "travail des enfants" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_MARRIAGE,
	    "forced_marriage", "mariage forcé" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_FORCED_CRIMINALITY,
	    "forced_criminality", "criminalité forcée" },
	{ SIRA__V1__EXPLOITATION_TYPE__EXPLOITATION_OTHER, "other", "autre" },
	{ 0, NULL, NULL },
};

static const struct word needs[] = {
	{ SIRA__V1__NEED__NEED_SHELTER, "shelter", "hébergement" },
	{ SIRA__V1__NEED__NEED_MEDICAL, "medical", "médical" },
	{ SIRA__V1__NEED__NEED_PSYCHOSOCIAL, "psychosocial", "psychosocial" },
	{ SIRA__V1__NEED__NEED_LEGAL, "legal", "juridique" },
	{ SIRA__V1__NEED__NEED_INTERPRETATION, "interpretation",
	    "interprétation" },
	{ SIRA__V1__NEED__NEED_REPATRIATION, "repatriation", "rapatriement" },
	{ SIRA__V1__NEED__NEED_FAMILY_TRACING, "family_tracing",
	    "recherche familiale" },
	{ SIRA__V1__NEED__NEED_FOOD_AND_ITEMS, "food_and_items",
	    "vivres et articles" },
	{ SIRA__V1__NEED__NEED_CHILD_PROTECTION, "child_protection",
	    "protection de l'enfance" },
	{ 0, NULL, NULL },
};

static const struct word risks[] = {
	{ SIRA__V1__RISK_LEVEL__RISK_LOW, "low", "faible" },
	{ SIRA__V1__RISK_LEVEL__RISK_MEDIUM, "medium", "moyen" },
	{ SIRA__V1__RISK_LEVEL__RISK_HIGH, "high", "élevé" },
	{ SIRA__V1__RISK_LEVEL__RISK_CRITICAL, "critical", "critique" },
	{ 0, NULL, NULL },
};

static const struct word urgencies[] = {
	{ SIRA__V1__URGENCY__URGENCY_ROUTINE, "routine", "ordinaire" },
	{ SIRA__V1__URGENCY__URGENCY_PRIORITY, "priority", "prioritaire" },
	{ SIRA__V1__URGENCY__URGENCY_IMMEDIATE, "immediate", "immédiate" },
	{ 0, NULL, NULL },
};

static const struct word scopes[] = {
	{ SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_NONE, "none", NULL },
	{ SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_RECIPIENT_ONLY,
	    "recipient_only", NULL },
	{ SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_SERVICES, "services", NULL },
	{ SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_SERVICES_AND_JUSTICE,
	    "services_and_justice", NULL },
	{ 0, NULL, NULL },
};

static int age_decoded(struct ctx *c, const char *path, json_t *obj, void *msg);
static int age_check(struct ctx *c, const char *path, const void *msg);
static json_t *age_encode(const void *msg);
static int consent_check(struct ctx *c, const char *path, const void *msg);
static int identifying_check(struct ctx *c, const char *path, const void *msg);
static int referral_check(struct ctx *c, const char *path, const void *msg);

#define AT(type, member) .off = offsetof(type, member)
#define LIST(type, member) AT(type, member), .n_off = offsetof(type, n_##member)
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct field age_fields[] = {
	{ "years", K_YEARS, .max = SIRA_REFERRAL_AGE_MAX,
	    AT(Sira__V1__Age, years) },
	{ "min_years", K_YEARS, .max = SIRA_REFERRAL_AGE_MAX,
	    AT(Sira__V1__Age, min_years) },
	{ "max_years", K_YEARS, .max = SIRA_REFERRAL_AGE_MAX,
	    AT(Sira__V1__Age, max_years) },
	{ "is_minor", K_BOOL, AT(Sira__V1__Age, is_minor) },
};

static const struct field identification_fields[] = {
	{ "place", K_TEXT, .max = SIRA_REFERRAL_NAME_MAX,
	    AT(Sira__V1__Identification, place) },
	{ "date", K_DATE, AT(Sira__V1__Identification, date) },
	{ "identified_by", K_TEXT, .max = SIRA_REFERRAL_NAME_MAX,
	    AT(Sira__V1__Identification, identified_by) },
	{ "circumstances", K_LINES, .max = SIRA_REFERRAL_CIRC_MAX,
	    AT(Sira__V1__Identification, circumstances) },
};

static const struct field consent_fields[] = {
	{ "given", K_BOOL, true, AT(Sira__V1__Consent, given) },
	{ "scope", K_ENUM, AT(Sira__V1__Consent, scope), .words = scopes },
	{ "date", K_DATE, AT(Sira__V1__Consent, date) },
	{ "recorded_by", K_TEXT, .max = SIRA_REFERRAL_NAME_MAX,
	    AT(Sira__V1__Consent, recorded_by) },
	{ "language", K_TEXT, .max = SIRA_REFERRAL_LANG_MAX,
	    AT(Sira__V1__Consent, language) },
	{ "guardian_consent", K_BOOL, AT(Sira__V1__Consent, guardian_consent) },
};

static const struct field identifying_fields[] = {
	{ "full_name", K_TEXT, .max = SIRA_REFERRAL_NAME_MAX,
	    AT(Sira__V1__IdentifyingDetails, full_name) },
	{ "date_of_birth", K_DATE,
	    AT(Sira__V1__IdentifyingDetails, date_of_birth) },
	{ "phone", K_PHONE, .max = SIRA_REFERRAL_PHONE_MAX,
	    AT(Sira__V1__IdentifyingDetails, phone) },
	{ "current_location", K_TEXT, .max = SIRA_REFERRAL_ADDR_MAX,
	    AT(Sira__V1__IdentifyingDetails, current_location) },
	{ "guardian_contact", K_TEXT, .max = SIRA_REFERRAL_ADDR_MAX,
	    AT(Sira__V1__IdentifyingDetails, guardian_contact) },
};

static const struct shape age_shape = { &sira__v1__age__descriptor, age_fields,
	NFIELDS(age_fields), age_decoded, age_check, age_encode };
static const struct shape identification_shape = {
	&sira__v1__identification__descriptor, identification_fields,
	NFIELDS(identification_fields), NULL, NULL, NULL
};
static const struct shape consent_shape = { &sira__v1__consent__descriptor,
	consent_fields, NFIELDS(consent_fields), NULL, consent_check, NULL };
static const struct shape identifying_shape = {
	&sira__v1__identifying_details__descriptor, identifying_fields,
	NFIELDS(identifying_fields), NULL, identifying_check, NULL
};

static const struct field referral_fields[] = {
	{ "case_ref", K_REF, true, .max = SIRA_REFERRAL_REF_MAX,
	    AT(Sira__V1__Referral, case_ref) },
	{ "victim_ref", K_TEXT, true, .max = SIRA_REFERRAL_REF_MAX,
	    AT(Sira__V1__Referral, victim_ref) },
	{ "age", K_MSG, true, AT(Sira__V1__Referral, age), .sub = &age_shape },
	{ "sex", K_ENUM, AT(Sira__V1__Referral, sex), .words = sexes },
	{ "nationality", K_COUNTRY, .max = 2,
	    AT(Sira__V1__Referral, nationality) },
	{ "languages", K_TEXTS, .max = SIRA_REFERRAL_LANG_MAX,
	    .n_max = SIRA_REFERRAL_LANGS_MAX,
	    LIST(Sira__V1__Referral, languages) },
	{ "exploitation", K_ENUMS, true, .n_max = NFIELDS(exploitations) - 1,
	    LIST(Sira__V1__Referral, exploitation), .words = exploitations,
	    .noun = "type" },
	{ "identification", K_MSG, AT(Sira__V1__Referral, identification),
	    .sub = &identification_shape },
	{ "needs", K_ENUMS, .n_max = NFIELDS(needs) - 1,
	    LIST(Sira__V1__Referral, needs), .words = needs, .noun = "need" },
	{ "risk", K_ENUM, true, AT(Sira__V1__Referral, risk), .words = risks },
	{ "urgency", K_ENUM, true, AT(Sira__V1__Referral, urgency),
	    .words = urgencies },
	{ "consent", K_MSG, true, AT(Sira__V1__Referral, consent),
	    .sub = &consent_shape },
	{ "identifying", K_MSG, AT(Sira__V1__Referral, identifying),
	    .sub = &identifying_shape },
	{ "notes", K_LINES, .max = SIRA_REFERRAL_NOTES_MAX,
	    AT(Sira__V1__Referral, notes) },
	{ "anonymous_alert", K_BOOL, AT(Sira__V1__Referral, anonymous_alert) },
};

static const struct shape referral_shape = { &sira__v1__referral__descriptor,
	referral_fields, NFIELDS(referral_fields), NULL, referral_check, NULL };

/* ---- access to message members by offset ---- */

static int
get_int(const void *msg, size_t off)
{
	int v;

	memcpy(&v, (const char *)msg + off, sizeof(v));
	return v;
}

static void
set_int(void *msg, size_t off, int v)
{
	memcpy((char *)msg + off, &v, sizeof(v));
}

static void *
get_ptr(const void *msg, size_t off)
{
	void *p;

	memcpy(&p, (const char *)msg + off, sizeof(p));
	return p;
}

static void
set_ptr(void *msg, size_t off, void *p)
{
	memcpy((char *)msg + off, &p, sizeof(p));
}

static size_t
get_size(const void *msg, size_t off)
{
	size_t n;

	memcpy(&n, (const char *)msg + off, sizeof(n));
	return n;
}

static uint64_t
get_u64(const void *msg, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)msg + off, sizeof(v));
	return v;
}

/* ---- words, paths and messages ---- */

static const struct word *
word_by_name(const struct word *w, const char *name)
{
	for (; w->name != NULL; w++)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

static const struct word *
word_by_value(const struct word *w, int v)
{
	for (; w->name != NULL; w++)
		if (w->v == v)
			return w;
	return NULL;
}

/* "a, b, c": the JSON words of w, into buf (cut if it must be). */
static const char *
word_list(const struct word *w, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (; w->name != NULL && pos < len; w++) {
		int n = snprintf(
		    buf + pos, len - pos, "%s%s", pos > 0 ? ", " : "", w->name);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	return buf;
}

/*
 * s, safe to show: at most ECHO_MAX bytes cut on a character boundary,
 * and what text_has_control refuses (C0, DEL, C1, invisible format
 * characters) as '?'.
 */
static const char *
echo(const char *s, char out[ECHO_MAX + 4])
{
	size_t len = strlen(s), i = 0, o = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)s[i];
		size_t n = ch < 0x80 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;

		if (n > len - i || o + n > ECHO_MAX)
			break;
		if (!text_is_utf8(s + i, n) || text_has_control(s + i, n))
			out[o++] = '?';
		else {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static const char *
join(char out[PATH_LEN], const char *parent, const char *name)
{
	if (parent[0] == '\0')
		(void)snprintf(out, PATH_LEN, "%s", name);
	else
		(void)snprintf(out, PATH_LEN, "%s.%s", parent, name);
	return out;
}

static const char *
indexed(char out[PATH_LEN], const char *path, size_t i)
{
	(void)snprintf(out, PATH_LEN, "%.64s[%zu]", path, i);
	return out;
}

/* What field f expects, in words, for an error message. */
static const char *
expect(const struct field *f, char *buf, size_t len)
{
	char words[EXPECT_LEN];

	buf[0] = '\0';
	switch (f->kind) {
	case K_TEXT:
		(void)snprintf(buf, len, _("text of 1 to %zu bytes"), f->max);
		break;
	case K_LINES:
		(void)snprintf(buf, len,
		    _("text of 1 to %zu bytes (newlines and tabs allowed)"),
		    f->max);
		break;
	case K_REF:
		(void)snprintf(buf, len,
		    _("1 to %zu characters from A-Z a-z 0-9 - _ /"), f->max);
		break;
	case K_COUNTRY:
		(void)snprintf(buf, len,
		    _("two upper-case letters (ISO 3166-1 alpha-2, as ML)"));
		break;
	case K_PHONE:
		(void)snprintf(buf, len,
		    _("1 to %zu characters from 0-9 + - ( ) . / and space"),
		    f->max);
		break;
	case K_BOOL:
		(void)snprintf(buf, len, _("true or false"));
		break;
	case K_YEARS:
		(void)snprintf(
		    buf, len, _("a whole number from 0 to %zu"), f->max);
		break;
	case K_DATE:
		(void)snprintf(buf, len,
		    _("a date YYYY-MM-DD (or UTC time YYYY-MM-DDTHH:MM:SSZ), "
		      "from 1970-01-02 to today"));
		break;
	case K_ENUM:
		(void)snprintf(buf, len, _("one of: %s"),
		    word_list(f->words, words, sizeof(words)));
		break;
	case K_TEXTS:
		(void)snprintf(buf, len,
		    _("a list of at most %zu texts of 1 to %zu bytes"),
		    f->n_max, f->max);
		break;
	case K_ENUMS:
		(void)snprintf(buf, len,
		    _("a list of %s%zu different values from: %s"),
		    f->required ? "1 to " : "at most ", f->n_max,
		    word_list(f->words, words, sizeof(words)));
		break;
	case K_MSG:
		(void)snprintf(buf, len, _("an object"));
		break;
	}
	return buf;
}

/* An entry of list field f, as the single field it stands for. */
static struct field
entry_of(const struct field *f)
{
	struct field e = *f;

	e.kind = f->kind == K_TEXTS ? K_TEXT : K_ENUM;
	e.required = true;
	return e;
}

static int
expected(struct ctx *c, const struct field *f, const char *path)
{
	char e[EXPECT_LEN];

	return sira_err_set(c->err, SIRA_EINVAL, _("%s: expected %s"), path,
	    expect(f, e, sizeof(e)));
}

static int
missing(struct ctx *c, const struct field *f, const char *path)
{
	char e[EXPECT_LEN];

	return sira_err_set(c->err, SIRA_EINVAL, _("%s: required; expected %s"),
	    path, expect(f, e, sizeof(e)));
}

static int
unknown_word(
    struct ctx *c, const struct field *f, const char *path, const char *s)
{
	char e[ECHO_MAX + 4], words[EXPECT_LEN];

	return sira_err_set(c->err, SIRA_EINVAL,
	    _("%s: unknown %s '%s' (use one of: %s)"), path,
	    f->noun != NULL ? f->noun : "value", echo(s, e),
	    word_list(f->words, words, sizeof(words)));
}

static int
nomem(struct ctx *c)
{
	return sira_err_set(c->err, SIRA_ENOMEM, _("out of memory"));
}

/* ---- decoding: JSON shape to message ---- */

/*
 * A new message of desc holding its defaults, from protobuf-c's allocator:
 * unpacking zero bytes is how protobuf-c itself builds an empty message,
 * and free_unpacked releases the whole tree it ends up rooting.
 */
static void *
new_msg(const ProtobufCMessageDescriptor *desc)
{
	static const uint8_t none[1];

	return protobuf_c_message_unpack(desc, NULL, 0, none);
}

static int decode_msg(struct ctx *c, const struct shape *s, const char *path,
    json_t *obj, void *msg);

static int
decode_text(struct ctx *c, const struct field *f, const char *path, json_t *v,
    char **out)
{
	size_t len;

	if (!json_is_string(v) || (len = json_string_length(v)) == 0)
		return expected(c, f, path);
	if ((*out = malloc(len + 1)) == NULL)
		return nomem(c);
	memcpy(*out, json_string_value(v), len + 1);
	return 0;
}

static int
decode_enum(
    struct ctx *c, const struct field *f, const char *path, json_t *v, int *out)
{
	const struct word *w;

	if (!json_is_string(v))
		return expected(c, f, path);
	if ((w = word_by_name(f->words, json_string_value(v))) == NULL)
		return unknown_word(c, f, path, json_string_value(v));
	*out = w->v;
	return 0;
}

static int
decode_date(struct ctx *c, const struct field *f, const char *path, json_t *v,
    uint64_t *out)
{
	const char *s = json_string_value(v);

	/* clock_parse also takes "@SECONDS", which no form should carry. */
	if (s == NULL || s[0] < '0' || s[0] > '9' ||
	    clock_parse(s, out, NULL) != 0 || *out == 0)
		return expected(c, f, path);
	return 0;
}

static int
decode_list(struct ctx *c, const struct field *f, const char *path, json_t *v,
    void *msg)
{
	size_t n = json_array_size(v), i;
	struct field entry = entry_of(f);
	char p[PATH_LEN];
	json_t *e;
	void *arr;
	int rc, w = 0;

	if (!json_is_array(v) || n > f->n_max)
		return expected(c, f, path);
	if (n == 0)
		return 0;
	arr = calloc(n, f->kind == K_TEXTS ? sizeof(char *) : sizeof(int));
	if (arr == NULL)
		return nomem(c);
	set_ptr(msg, f->off, arr);
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		indexed(p, path, i);
		if (f->kind == K_TEXTS)
			rc = decode_text(c, &entry, p, e, (char **)arr + i);
		else if ((rc = decode_enum(c, &entry, p, e, &w)) == 0)
			((int *)arr)[i] = w;
		if (rc != 0)
			return rc;
		memcpy(
		    (char *)msg + f->n_off, &(size_t){ i + 1 }, sizeof(size_t));
	}
	return 0;
}

static int
decode_sub( // NOLINT(misc-no-recursion): the schema nests one level
    struct ctx *c, const struct field *f, const char *path, json_t *v,
    void *msg)
{
	void *sub;

	if (!json_is_object(v))
		return expected(c, f, path);
	if ((sub = new_msg(f->sub->desc)) == NULL)
		return nomem(c);
	set_ptr(msg, f->off, sub);
	return decode_msg(c, f->sub, path, v, sub);
}

static int
decode_field( // NOLINT(misc-no-recursion): the schema nests one level
    struct ctx *c, const struct field *f, const char *path, json_t *v,
    void *msg)
{
	json_int_t n;
	char *s = NULL;
	uint64_t t = 0;
	int rc, w = 0;

	switch (f->kind) {
	case K_TEXT:
	case K_LINES:
	case K_REF:
	case K_COUNTRY:
	case K_PHONE:
		if ((rc = decode_text(c, f, path, v, &s)) == 0)
			set_ptr(msg, f->off, s);
		return rc;
	case K_BOOL:
		if (!json_is_boolean(v))
			return expected(c, f, path);
		set_int(msg, f->off, json_is_true(v));
		return 0;
	case K_YEARS:
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    (size_t)n > f->max)
			return expected(c, f, path);
		memcpy((char *)msg + f->off, &(uint32_t){ (uint32_t)n },
		    sizeof(uint32_t));
		return 0;
	case K_DATE:
		if ((rc = decode_date(c, f, path, v, &t)) == 0)
			memcpy((char *)msg + f->off, &t, sizeof(t));
		return rc;
	case K_ENUM:
		if ((rc = decode_enum(c, f, path, v, &w)) == 0)
			set_int(msg, f->off, w);
		return rc;
	case K_TEXTS:
	case K_ENUMS:
		return decode_list(c, f, path, v, msg);
	case K_MSG:
		return decode_sub(c, f, path, v, msg);
	}
	return expected(c, f, path);
}

static const struct field *
field_by_name(const struct shape *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return &s->fields[i];
	return NULL;
}

static int
unknown_key(
    struct ctx *c, const struct shape *s, const char *path, const char *key)
{
	char p[PATH_LEN], e[ECHO_MAX + 4], names[EXPECT_LEN];
	size_t pos = 0;

	names[0] = '\0';
	for (size_t i = 0; i < s->n && pos < sizeof(names); i++) {
		int n = snprintf(names + pos, sizeof(names) - pos, "%s%s",
		    i > 0 ? ", " : "", s->fields[i].name);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	return sira_err_set(c->err, SIRA_EINVAL,
	    _("%s: unknown field (use one of: %s)"),
	    join(p, path, echo(key, e)), names);
}

static int
decode_msg( // NOLINT(misc-no-recursion): the schema nests one level
    struct ctx *c, const struct shape *s, const char *path, json_t *obj,
    void *msg)
{
	const char *key;
	char p[PATH_LEN];
	json_t *v;
	int rc;

	/* Unknown keys first: a typo must not read as a missing field. */
	for (void *it = json_object_iter(obj); it != NULL;
	     it = json_object_iter_next(obj, it)) {
		key = json_object_iter_key(it);
		if (field_by_name(s, key) == NULL)
			return unknown_key(c, s, path, key);
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct field *f = &s->fields[i];

		join(p, path, f->name);
		if ((v = json_object_get(obj, f->name)) == NULL) {
			if (f->required)
				return missing(c, f, p);
			continue;
		}
		if ((rc = decode_field(c, f, p, v, msg)) != 0)
			return rc;
	}
	return s->decoded != NULL ? s->decoded(c, path, obj, msg) : 0;
}

/* ---- validation: rules on values, for any Referral ---- */

static bool
charset_ok(enum kind kind, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alnum = (ch >= '0' && ch <= '9') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
		if (kind == K_REF && !alnum && strchr("-_/", ch) == NULL)
			return false;
		if (kind == K_COUNTRY && (ch < 'A' || ch > 'Z'))
			return false;
		if (kind == K_PHONE && (ch < '0' || ch > '9') &&
		    strchr("+-(). /", ch) == NULL)
			return false;
	}
	return kind != K_COUNTRY || len == 2;
}

static int
check_text(
    struct ctx *c, const struct field *f, const char *path, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0)
		return f->required ? missing(c, f, path) : 0;
	if (len > f->max)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: too long (%zu bytes, at most %zu)"), path, len,
		    f->max);
	if (!text_is_utf8(s, len))
		return sira_err_set(
		    c->err, SIRA_EINVAL, _("%s: not valid UTF-8 text"), path);
	if (f->kind == K_LINES ? text_has_control_lines(s, len) :
				 text_has_control(s, len))
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: contains a control character (%s)"), path,
		    f->kind == K_LINES ? "only newline and tab are allowed" :
					 "not allowed here");
	if (!charset_ok(f->kind, s, len))
		return expected(c, f, path);
	return 0;
}

static int
check_date(struct ctx *c, const struct field *f, const char *path, uint64_t t)
{
	if (t == 0)
		return f->required ? missing(c, f, path) : 0;
	/* The date itself is not shown: a birth date identifies. */
	if (t > c->now && t - c->now > SIRA_REFERRAL_SLACK)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: is in the future; expected a date no later than today"),
		    path);
	return 0;
}

static int
check_enum(struct ctx *c, const struct field *f, const char *path, int v)
{
	char num[16];

	if (v == 0)
		return f->required ? missing(c, f, path) : 0;
	if (word_by_value(f->words, v) == NULL) {
		(void)snprintf(num, sizeof(num), "%d", v);
		return unknown_word(c, f, path, num);
	}
	return 0;
}

static int
check_distinct(struct ctx *c, const struct field *f, const char *path,
    const int *v, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (v[k] == v[i])
			return sira_err_set(c->err, SIRA_EINVAL,
			    _("%s: '%s' is listed twice"), path,
			    word_by_value(f->words, v[i])->name);
	return 0;
}

static int
check_list(
    struct ctx *c, const struct field *f, const char *path, const void *msg)
{
	size_t n = get_size(msg, f->n_off);
	void *arr = get_ptr(msg, f->off);
	struct field e = entry_of(f);
	char p[PATH_LEN];
	int rc;

	if (n > f->n_max || (n > 0 && arr == NULL))
		return expected(c, f, path);
	if (n == 0)
		return f->required ? missing(c, f, path) : 0;
	for (size_t i = 0; i < n; i++) {
		indexed(p, path, i);
		if (f->kind == K_TEXTS)
			rc = check_text(c, &e, p, ((char **)arr)[i]);
		else if ((rc = check_enum(c, &e, p, ((int *)arr)[i])) == 0)
			rc = check_distinct(c, f, p, arr, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int validate_msg(
    struct ctx *c, const struct shape *s, const char *path, const void *msg);

static int
validate_field( // NOLINT(misc-no-recursion): the schema nests one level
    struct ctx *c, const struct field *f, const char *path, const void *msg)
{
	uint32_t u;
	void *sub;

	switch (f->kind) {
	case K_TEXT:
	case K_LINES:
	case K_REF:
	case K_COUNTRY:
	case K_PHONE:
		return check_text(c, f, path, get_ptr(msg, f->off));
	case K_BOOL:
		return 0;
	case K_YEARS:
		memcpy(&u, (const char *)msg + f->off, sizeof(u));
		return u > f->max ? expected(c, f, path) : 0;
	case K_DATE:
		return check_date(c, f, path, get_u64(msg, f->off));
	case K_ENUM:
		return check_enum(c, f, path, get_int(msg, f->off));
	case K_TEXTS:
	case K_ENUMS:
		return check_list(c, f, path, msg);
	case K_MSG:
		if ((sub = get_ptr(msg, f->off)) == NULL)
			return f->required ? missing(c, f, path) : 0;
		return validate_msg(c, f->sub, path, sub);
	}
	return expected(c, f, path);
}

static int
validate_msg( // NOLINT(misc-no-recursion): the schema nests one level
    struct ctx *c, const struct shape *s, const char *path, const void *msg)
{
	char p[PATH_LEN];
	int rc;

	for (size_t i = 0; i < s->n; i++)
		if ((rc = validate_field(c, &s->fields[i],
			 join(p, path, s->fields[i].name), msg)) != 0)
			return rc;
	return s->check != NULL ? s->check(c, path, msg) : 0;
}

/* ---- the rules across fields ---- */

static bool
blank(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static bool
age_is_range(const Sira__V1__Age *a)
{
	return a->min_years != 0 || a->max_years != 0;
}

/*
 * A child for the consent rules: assessed as a minor, or an age (or the
 * low end of an estimated range) under 18. When the age is uncertain the
 * person is presumed to be a child until it is established.
 */
static bool
age_is_child(const Sira__V1__Age *a)
{
	if (a->is_minor)
		return true;
	return (age_is_range(a) ? a->min_years : a->years) <
	    SIRA_REFERRAL_ADULT;
}

static int
age_decoded(struct ctx *c, const char *path, json_t *obj, void *msg)
{
	Sira__V1__Age *a = msg;
	bool years = json_object_get(obj, "years") != NULL;
	bool lo = json_object_get(obj, "min_years") != NULL;
	bool hi = json_object_get(obj, "max_years") != NULL;
	char p[PATH_LEN];

	if (years && (lo || hi))
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: give either years, or min_years and max_years, not both"),
		    path);
	if (!years && !lo && !hi)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: required; expected a whole number from 0 to %d, or "
		      "an estimate with min_years and max_years"),
		    join(p, path, "years"), SIRA_REFERRAL_AGE_MAX);
	if (lo != hi)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: required with %s; expected a whole number from 0 to %d"),
		    join(p, path, lo ? "max_years" : "min_years"),
		    lo ? "min_years" : "max_years", SIRA_REFERRAL_AGE_MAX);
	if (json_object_get(obj, "is_minor") == NULL)
		a->is_minor = age_is_child(a);
	return 0;
}

static int
age_check(struct ctx *c, const char *path, const void *msg)
{
	const Sira__V1__Age *a = msg;
	bool range = age_is_range(a);
	uint32_t lo = range ? a->min_years : a->years;
	uint32_t hi = range ? a->max_years : a->years;
	char p[PATH_LEN];

	if (range && a->years != 0)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: give either years, or min_years and max_years, not both"),
		    path);
	if (lo > hi)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: is above max_years; expected min_years <= max_years"),
		    join(p, path, "min_years"));
	if (a->is_minor && lo >= SIRA_REFERRAL_ADULT)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: is true but the age is %d or more"),
		    join(p, path, "is_minor"), SIRA_REFERRAL_ADULT);
	if (!a->is_minor && hi < SIRA_REFERRAL_ADULT)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: is false but the age is under %d"),
		    join(p, path, "is_minor"), SIRA_REFERRAL_ADULT);
	return 0;
}

static int
consent_check(struct ctx *c, const char *path, const void *msg)
{
	const Sira__V1__Consent *k = msg;
	char p[PATH_LEN];
	bool none = k->scope == SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_NONE;

	if (!k->given) {
		if (k->scope != 0 && !none)
			return sira_err_set(c->err, SIRA_EINVAL,
			    _("%s: must be none (or left out) when consent.given is "
			      "false"),
			    join(p, path, "scope"));
		return 0;
	}
	/* Scope none with consent given: referred, but nothing identifying. */
	if (k->scope == 0)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: required when consent.given is true; expected one of: "
		      "none, recipient_only, services, services_and_justice"),
		    join(p, path, "scope"));
	if (k->date == 0)
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: required when consent.given is true; expected the date "
		      "consent was recorded, YYYY-MM-DD"),
		    join(p, path, "date"));
	if (blank(k->recorded_by))
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: required when consent.given is true; expected who "
		      "recorded it (text of 1 to %d bytes)"),
		    join(p, path, "recorded_by"), SIRA_REFERRAL_NAME_MAX);
	return 0;
}

static int
identifying_check(struct ctx *c, const char *path, const void *msg)
{
	const Sira__V1__IdentifyingDetails *d = msg;

	if (blank(d->full_name) && d->date_of_birth == 0 && blank(d->phone) &&
	    blank(d->current_location) && blank(d->guardian_contact))
		return sira_err_set(c->err, SIRA_EINVAL,
		    _("%s: is empty; leave it out, or give at least one of: "
		      "full_name, date_of_birth, phone, current_location, "
		      "guardian_contact"),
		    path);
	return 0;
}

/*
 * Informed consent, enforced. Runs after every field validated, so age and
 * consent are present. The order puts the most useful advice first.
 */
static int
referral_check(struct ctx *c, const char *path, const void *msg)
{
	const Sira__V1__Referral *r = msg;
	const Sira__V1__Consent *k = r->consent;
	bool consented =
	    k->given && k->scope != SIRA__V1__CONSENT_SCOPE__CONSENT_SCOPE_NONE;

	(void)path;
	if (r->identifying != NULL && !consented)
		return sira_err_set(c->err, SIRA_EDENIED,
		    _("identifying: the person did not consent to share "
		      "identifying details; remove them and send an anonymous "
		      "alert (\"anonymous_alert\": true)"));
	if (r->identifying != NULL && r->anonymous_alert)
		return sira_err_set(c->err, SIRA_EDENIED,
		    _("identifying: an anonymous alert never carries identifying "
		      "details; remove them, or set \"anonymous_alert\": false"));
	if (!consented && !r->anonymous_alert)
		return sira_err_set(c->err, SIRA_EDENIED,
		    _("anonymous_alert: without the person's consent only an "
		      "anonymous alert may be sent; set \"anonymous_alert\": true"));
	if (r->identifying != NULL && age_is_child(r->age) &&
	    !k->guardian_consent &&
	    r->risk != SIRA__V1__RISK_LEVEL__RISK_CRITICAL)
		return sira_err_set(c->err, SIRA_EDENIED,
		    _("identifying: the person is or may be a child (age.is_minor, or "
		      "an age under 18): identifying details need the guardian's consent "
		      "(consent.guardian_consent: true) or risk \"critical\"; "
		      "otherwise remove them"));
	return 0;
}

int
referral_validate(
    const Sira__V1__Referral *r, uint64_t now, struct sira_err *err)
{
	struct ctx c = { now, err };

	if (r == NULL)
		return sira_err_set(err, SIRA_EINVAL, _("referral: missing"));
	return validate_msg(&c, &referral_shape, "", r);
}

static int
json_error(struct ctx *c, const json_error_t *je)
{
	char text[JSON_ERROR_TEXT_LENGTH], shown[ECHO_MAX + 4];
	char *near;

	if (json_error_code(je) == json_error_out_of_memory)
		return nomem(c);
	(void)snprintf(text, sizeof(text), "%s", je->text);
	/* The context jansson adds may be a piece of a name: keep only keys. */
	if ((near = strstr(text, " near '")) != NULL) {
		*near = '\0';
		near += strlen(" near '");
		if (near[0] != '\0' && near[strlen(near) - 1] == '\'')
			near[strlen(near) - 1] = '\0';
		if (json_error_code(je) == json_error_duplicate_key)
			return sira_err_set(c->err, SIRA_EINVAL,
			    _("JSON line %d, column %d: duplicate key %s (each "
			      "field may appear once)"),
			    je->line, je->column, echo(near, shown));
	}
	return sira_err_set(c->err, SIRA_EINVAL,
	    _("JSON line %d, column %d: %s"), je->line, je->column, text);
}

int
referral_from_json(const char *text, size_t len, uint64_t now,
    Sira__V1__Referral **out, struct sira_err *err)
{
	struct ctx c = { now, err };
	Sira__V1__Referral *r = NULL;
	json_error_t je;
	json_t *root;
	int rc;

	*out = NULL;
	if (len > SIRA_REFERRAL_JSON_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("referral: %zu bytes; a referral is at most %zu bytes"),
		    len, SIRA_REFERRAL_JSON_MAX);
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return json_error(&c, &je);
	if (!json_is_object(root)) {
		rc = sira_err_set(err, SIRA_EINVAL,
		    _("referral: expected a JSON object { ... }"));
		goto done;
	}
	if ((r = new_msg(&sira__v1__referral__descriptor)) == NULL) {
		rc = nomem(&c);
		goto done;
	}
	if ((rc = decode_msg(&c, &referral_shape, "", root, r)) == 0 &&
	    (rc = validate_msg(&c, &referral_shape, "", r)) == 0) {
		*out = r;
		r = NULL;
	}
done:
	if (r != NULL)
		sira__v1__referral__free_unpacked(r, NULL);
	json_decref(root);
	return rc;
}

/* ---- encoding: message to JSON ---- */

static json_t *
encode_date(uint64_t t)
{
	char s[SIRA_TIME_STR_LEN];

	clock_format(t, s);
	if (t % 86400 == 0)
		s[10] = '\0';
	return json_string(s);
}

static json_t *
encode_word(const struct word *words, int v)
{
	const struct word *w = word_by_value(words, v);

	/* Only an invalid message has one: show the number, hide nothing. */
	return w != NULL ? json_string(w->name) : json_integer(v);
}

static json_t *
encode_list(const struct field *f, const void *msg)
{
	size_t n = get_size(msg, f->n_off);
	void *arr = get_ptr(msg, f->off);
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && arr != NULL && i < n; i++) {
		json_t *e = f->kind == K_TEXTS ?
		    json_string(((char **)arr)[i]) :
		    encode_word(f->words, ((int *)arr)[i]);
		if (json_array_append_new(a, e) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static json_t *encode_msg(const struct shape *s, const void *msg);

/* The JSON value of field f, or NULL with *skip set when it is absent. */
static json_t *
encode_field( // NOLINT(misc-no-recursion): the schema nests one level
    const struct field *f, const void *msg, bool *skip)
{
	const char *s;
	void *p;

	*skip = false;
	switch (f->kind) {
	case K_TEXT:
	case K_LINES:
	case K_REF:
	case K_COUNTRY:
	case K_PHONE:
		s = get_ptr(msg, f->off);
		*skip = s == NULL || s[0] == '\0';
		return *skip ? NULL : json_string(s);
	case K_BOOL:
		return json_boolean(get_int(msg, f->off));
	case K_YEARS:
		return json_integer(get_int(msg, f->off));
	case K_DATE:
		*skip = get_u64(msg, f->off) == 0;
		return *skip ? NULL : encode_date(get_u64(msg, f->off));
	case K_ENUM:
		*skip = get_int(msg, f->off) == 0;
		return *skip ? NULL :
			       encode_word(f->words, get_int(msg, f->off));
	case K_TEXTS:
	case K_ENUMS:
		*skip = get_size(msg, f->n_off) == 0;
		return *skip ? NULL : encode_list(f, msg);
	case K_MSG:
		*skip = (p = get_ptr(msg, f->off)) == NULL;
		return *skip ? NULL : encode_msg(f->sub, p);
	}
	return NULL;
}

static json_t *
encode_msg( // NOLINT(misc-no-recursion): the schema nests one level
    const struct shape *s, const void *msg)
{
	json_t *o, *v;
	bool skip;

	if (s->encode != NULL)
		return s->encode(msg);
	if ((o = json_object()) == NULL)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		v = encode_field(&s->fields[i], msg, &skip);
		if (!skip &&
		    json_object_set_new(o, s->fields[i].name, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* An exact age as "years" (even 0), an estimate as the range. */
static json_t *
age_encode(const void *msg)
{
	const Sira__V1__Age *a = msg;

	if (age_is_range(a))
		return json_pack("{s:I, s:I, s:b}", "min_years",
		    (json_int_t)a->min_years, "max_years",
		    (json_int_t)a->max_years, "is_minor", a->is_minor != 0);
	return json_pack("{s:I, s:b}", "years", (json_int_t)a->years,
	    "is_minor", a->is_minor != 0);
}

json_t *
referral_to_json(const Sira__V1__Referral *r)
{
	return encode_msg(&referral_shape, r);
}

/* ---- the inbox line ---- */

struct line {
	char *buf;
	size_t len, pos;
	bool full;
};

/* Append s, or as much of it as fits, cut on a character boundary. */
static void
put(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (l->full)
		return;
	if (n > l->len - 1 - l->pos) {
		n = l->len - 1 - l->pos;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		l->full = true;
	}
	memcpy(l->buf + l->pos, s, n);
	l->pos += n;
	l->buf[l->pos] = '\0';
}

static void
put_person(struct line *l, const Sira__V1__Referral *r)
{
	const Sira__V1__Age *a = r->age;
	bool child = a != NULL && age_is_child(a);
	bool female = r->sex == SIRA__V1__SEX__SEX_FEMALE;
	bool male = r->sex == SIRA__V1__SEX__SEX_MALE;
	const char *nat = r->nationality;
	char s[64];

	if (child)
		put(l, female ? "Mineure" : male ? "Mineur" : "Enfant");
	else
		put(l, female ? "Femme" : male ? "Homme" : "Adulte");
	if (a == NULL)
		(void)snprintf(s, sizeof(s), ", âge inconnu");
	else if (age_is_range(a))
		(void)snprintf(s, sizeof(s), ", %u à %u ans (estimé)",
		    a->min_years, a->max_years);
	else if (a->years == 0)
		(void)snprintf(s, sizeof(s), ", moins d'un an");
	else
		(void)snprintf(s, sizeof(s), ", %u an%s", a->years,
		    a->years > 1 ? "s" : "");
	put(l, s);
	/* Only a well-formed code: this line never shows free text. */
	if (nat != NULL && strlen(nat) == 2 && charset_ok(K_COUNTRY, nat, 2)) {
		put(l, ", ");
		put(l, nat);
	}
}

static void
put_words(struct line *l, const char *label, const struct word *words,
    const int *v, size_t n)
{
	bool first = true;

	for (size_t i = 0; v != NULL && i < n; i++) {
		const struct word *w = word_by_value(words, v[i]);
		if (w == NULL)
			continue;
		put(l, first ? label : ", ");
		put(l, w->fr);
		first = false;
	}
}

const char *
referral_summary(const Sira__V1__Referral *r, char *buf, size_t len)
{
	struct line l = { buf, len, 0, false };
	int risk = r->risk, urgency = r->urgency;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (r->anonymous_alert)
		put(&l, "Alerte anonyme — ");
	put_person(&l, r);
	put_words(&l, " — exploitation: ", exploitations,
	    (const int *)r->exploitation, r->n_exploitation);
	put_words(&l, " — besoins: ", needs, (const int *)r->needs, r->n_needs);
	put_words(&l, " — risque: ", risks, &risk, 1);
	put_words(&l, " — urgence: ", urgencies, &urgency, 1);
	return buf;
}
