/*
 * fuzz_referral.c: libFuzzer harness for the referral form parser
 * (agents/workflow/referral.c referral_from_json, with jansson, lib/clock.c and
 * lib/text.c). Arbitrary bytes, read at a fixed "now", must never crash or
 * leak. What it accepts must pass referral_validate, turn into JSON, parse
 * back to the same message (compared as packed bytes) and give an inbox
 * line that is NUL-terminated UTF-8 without control characters.
 *
 * Seeds: tests/fuzz/corpus/fuzz_referral/, the example of docs/referral.md
 * (tests/data/referral-example.json) and variants of it: a child with the
 * risk-to-life exception, an anonymous alert without consent, an estimated
 * age, and \u escapes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((uint64_t)1795953600) /* 2026-11-29T12:00:00Z */

static uint8_t *
pack(const Sira__V1__Referral *r, size_t *len)
{
	uint8_t *buf;

	*len = sira__v1__referral__get_packed_size(r);
	if ((buf = malloc(*len > 0 ? *len : 1)) == NULL)
		abort();
	if (sira__v1__referral__pack(r, buf) != *len)
		abort();
	return buf;
}

/* The round trip of an accepted referral: JSON, text, Referral, bytes. */
static void
roundtrip(const Sira__V1__Referral *r)
{
	Sira__V1__Referral *again = NULL;
	uint8_t *a, *b;
	size_t alen, blen;
	json_t *j;
	char *text;

	if (referral_validate(r, NOW, NULL) != 0 ||
	    (j = referral_to_json(r)) == NULL ||
	    (text = json_dumps(j, JSON_COMPACT)) == NULL)
		abort();
	json_decref(j);
	if (referral_from_json(text, strlen(text), NOW, &again, NULL) != 0)
		abort();
	free(text);
	a = pack(r, &alen);
	b = pack(again, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	sira__v1__referral__free_unpacked(again, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Sira__V1__Referral *r = NULL;
	struct sira_err err;
	char line[SIRA_REFERRAL_SUMMARY_MAX], small[24];

	if (referral_from_json((const char *)data, size, NOW, &r, &err) != 0) {
		if (r != NULL || err.code == 0 ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL ||
		    text_has_control(err.msg, strlen(err.msg)))
			abort();
		return 0;
	}
	roundtrip(r);
	referral_summary(r, line, sizeof(line));
	referral_summary(r, small, sizeof(small));
	if (!text_is_utf8(line, strlen(line)) ||
	    text_has_control(line, strlen(line)) ||
	    !text_is_utf8(small, strlen(small)) ||
	    strncmp(small, line, strlen(small)) != 0)
		abort();
	sira__v1__referral__free_unpacked(r, NULL);
	return 0;
}
