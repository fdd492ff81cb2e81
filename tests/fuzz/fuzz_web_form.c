/*
 * fuzz_web_form.c: libFuzzer harness for the referral form of the web
 * interface (agents/web/form_referral.c), then the referral checker it
 * feeds (referral_from_json). Input: lines "name=value", as a browser
 * posts the form's fields (repeated names for checkboxes), any bytes in
 * names and values. The form always becomes a JSON document; what the
 * checker accepts must pass referral_validate.
 *
 * Seeds: tests/fuzz/corpus/fuzz_web_form/ (the test's referral of a child,
 * a form with every field, numbers and lists at their bounds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((uint64_t)1795953600) /* 2026-11-29T12:00:00Z */

static char *
copy(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Lines "name=value" into fm's fields (a line without '=' is a name with
 * an empty value, as a browser sends an empty field). */
static void
fields(struct form *fm, const uint8_t *p, size_t size)
{
	const uint8_t *end = p + size;

	while (p < end && fm->n < WEB_FORM_FIELDS_MAX) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const uint8_t *eq = memchr(p, '=', n);
		size_t k = eq != NULL ? (size_t)(eq - p) : n;

		fm->f[fm->n].name = copy(p, k);
		fm->f[fm->n].value =
		    eq != NULL ? copy(eq + 1, n - k - 1) : copy(p, 0);
		fm->n++;
		p += n + (nl != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct form fm; /* large: PATH_MAX paths of its files */
	Sira__V1__Referral *r = NULL;
	json_t *j;
	char *text;

	memset(&fm, 0, sizeof(fm));
	fields(&fm, data, size);
	if ((j = form_referral_json(&fm)) == NULL ||
	    (text = json_dumps(j, JSON_COMPACT)) == NULL)
		abort();
	json_decref(j);
	if (referral_from_json(text, strlen(text), NOW, &r, NULL) == 0) {
		if (referral_validate(r, NOW, NULL) != 0)
			abort();
		sira__v1__referral__free_unpacked(r, NULL);
	}
	free(text);
	for (size_t i = 0; i < fm.n; i++) {
		free(fm.f[i].name);
		free(fm.f[i].value);
	}
	return 0;
}
