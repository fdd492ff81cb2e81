/*
 * form_referral.c: the referral form's fields as the referral's JSON
 * document (docs/referral.md), the same text the CLI reads from a file, so
 * referral_from_json checks both alike. Field names are the JSON paths
 * ("consent.date"); checkboxes repeat a name; languages are a comma
 * list. Nothing is judged here: a wrong value goes through as text for the
 * checker to refuse with its field's name. tests/fuzz/fuzz_web_form.c
 * feeds it any fields.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "web/web.h"

static void
put_str(json_t *o, const struct form *f, const char *name, const char *key)
{
	const char *v = form_get(f, name);

	if (v[0] != '\0')
		(void)json_object_set_new(o, key, json_string(v));
}

/* A whole number when it is one; else the text, which the checker
 * refuses with the field's name. */
static void
put_int(json_t *o, const struct form *f, const char *name, const char *key)
{
	const char *v = form_get(f, name);
	char *end = NULL;
	long n;

	if (v[0] == '\0')
		return;
	n = strtol(v, &end, 10);
	if (end != NULL && *end == '\0' && n >= 0 && n <= 1000)
		(void)json_object_set_new(o, key, json_integer(n));
	else
		(void)json_object_set_new(o, key, json_string(v));
}

static void
put_bool(json_t *o, const struct form *f, const char *name, const char *key,
    bool always)
{
	const char *v = form_get(f, name);

	if (strcmp(v, "true") == 0)
		(void)json_object_set_new(o, key, json_true());
	else if (strcmp(v, "false") == 0 || always)
		(void)json_object_set_new(o, key, json_false());
}

static void
put_words(json_t *o, const struct form *f, const char *name)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < f->n; i++)
		if (strcmp(f->f[i].name, name) == 0)
			(void)json_array_append_new(
			    a, json_string(f->f[i].value));
	if (a != NULL && json_array_size(a) > 0)
		(void)json_object_set_new(o, name, a);
	else
		json_decref(a);
}

/* "bm, fr" -> ["bm", "fr"] */
static void
put_list(json_t *o, const struct form *f, const char *name)
{
	const char *v = form_get(f, name);
	json_t *a = json_array();
	char item[128];

	while (a != NULL && *v != '\0') {
		size_t n = strcspn(v, ",");
		size_t s = 0, e = n;
		while (s < e && isspace((unsigned char)v[s]))
			s++;
		while (e > s && isspace((unsigned char)v[e - 1]))
			e--;
		if (e > s && e - s < sizeof(item)) {
			memcpy(item, v + s, e - s);
			item[e - s] = '\0';
			(void)json_array_append_new(a, json_string(item));
		}
		v += n + (v[n] == ',');
	}
	if (a != NULL && json_array_size(a) > 0)
		(void)json_object_set_new(o, name, a);
	else
		json_decref(a);
}

/* An object of the fields prefix.<key>, or nothing when all are empty. */
static void
put_obj(json_t *o, const char *key, json_t *sub)
{
	if (sub != NULL && json_object_size(sub) > 0)
		(void)json_object_set_new(o, key, sub);
	else
		json_decref(sub);
}

json_t *
form_referral_json(const struct form *f)
{
	json_t *o = json_object(), *age = json_object(), *id = json_object();
	json_t *k = json_object(), *who = json_object();

	put_str(o, f, "case_ref", "case_ref");
	put_str(o, f, "victim_ref", "victim_ref");
	put_int(age, f, "age.years", "years");
	put_int(age, f, "age.min_years", "min_years");
	put_int(age, f, "age.max_years", "max_years");
	put_bool(age, f, "age.is_minor", "is_minor", false);
	put_obj(o, "age", age);
	put_str(o, f, "sex", "sex");
	put_str(o, f, "nationality", "nationality");
	put_list(o, f, "languages");
	put_words(o, f, "exploitation");
	put_str(id, f, "identification.place", "place");
	put_str(id, f, "identification.date", "date");
	put_str(id, f, "identification.identified_by", "identified_by");
	put_str(id, f, "identification.circumstances", "circumstances");
	put_obj(o, "identification", id);
	put_words(o, f, "needs");
	put_str(o, f, "risk", "risk");
	put_str(o, f, "urgency", "urgency");
	put_bool(k, f, "consent.given", "given", true);
	put_str(k, f, "consent.scope", "scope");
	put_str(k, f, "consent.date", "date");
	put_str(k, f, "consent.recorded_by", "recorded_by");
	put_str(k, f, "consent.language", "language");
	put_bool(k, f, "consent.guardian_consent", "guardian_consent", false);
	put_obj(o, "consent", k);
	put_str(who, f, "identifying.full_name", "full_name");
	put_str(who, f, "identifying.date_of_birth", "date_of_birth");
	put_str(who, f, "identifying.phone", "phone");
	put_str(who, f, "identifying.current_location", "current_location");
	put_str(who, f, "identifying.guardian_contact", "guardian_contact");
	put_obj(o, "identifying", who);
	put_str(o, f, "notes", "notes");
	put_bool(o, f, "anonymous_alert", "anonymous_alert", false);
	return o;
}
