/*
 * test_text.c: lib/text.c, strict UTF-8 (RFC 3629) and control characters.
 * Named edge cases first (overlongs, surrogates, past U+10FFFF, truncated
 * sequences), then an exhaustive comparison with the well-formed byte
 * sequence table of the Unicode standard (table 3-7) over every string of
 * one and two bytes, every three-byte string with a multi-byte lead, and a
 * broad sample of four-byte strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

struct str {
	const char *s;
	size_t len;
};

#define S(lit) \
	{ \
		lit, sizeof(lit) - 1 \
	}

/* Check s in an exact-size heap copy, so ASan sees any overread. */
static bool
utf8(const char *s, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	bool ok;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, s, len);
	ok = text_is_utf8(copy, len);
	free(copy);
	return ok;
}

static bool
control(const char *s, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	bool ok;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, s, len);
	ok = text_has_control(copy, len);
	free(copy);
	return ok;
}

static void
test_utf8_valid(void **state)
{
	static const struct str good[] = {
		S(""),
		S("plain ASCII"),
		S("\x00"), /* NUL is well-formed UTF-8; controls are separate */
		S("\x7f"),
		S("\xc2\x80"),         /* U+0080 */
		S("\xdf\xbf"),         /* U+07FF */
		S("\xe0\xa0\x80"),     /* U+0800 */
		S("\xed\x9f\xbf"),     /* U+D7FF */
		S("\xee\x80\x80"),     /* U+E000 */
		S("\xef\xbf\xbd"),     /* U+FFFD */
		S("\xef\xbf\xbf"),     /* U+FFFF */
		S("\xf0\x90\x80\x80"), /* U+10000 */
		S("\xf4\x8f\xbf\xbf"), /* U+10FFFF */
		S("Brigade des mœurs, Bamako"),
		S("Foyer « Espoir », Ségou"),
		S("ⵜⵏⴱⴽⵜ تمبكتو 😀"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!utf8(good[i].s, good[i].len))
			print_error("refused good case %zu\n", i);
		assert_true(utf8(good[i].s, good[i].len));
	}
}

static void
test_utf8_invalid(void **state)
{
	static const struct str bad[] = {
		/* overlong forms */
		S("\xc0\x80"),
		S("\xc0\xaf"),
		S("\xc1\xbf"),
		S("\xe0\x80\x80"),
		S("\xe0\x80\xaf"),
		S("\xe0\x9f\xbf"),
		S("\xf0\x80\x80\x80"),
		S("\xf0\x80\x80\xaf"),
		S("\xf0\x8f\xbf\xbf"),
		S("\xf8\x80\x80\x80\xaf"),
		S("\xfc\x80\x80\x80\x80\xaf"),
		/* UTF-16 surrogates, alone and paired */
		S("\xed\xa0\x80"),
		S("\xed\xad\xbf"),
		S("\xed\xae\x80"),
		S("\xed\xaf\xbf"),
		S("\xed\xb0\x80"),
		S("\xed\xbf\xbf"),
		S("\xed\xa0\x80\xed\xb0\x80"),
		/* past U+10FFFF */
		S("\xf4\x90\x80\x80"),
		S("\xf4\xbf\xbf\xbf"),
		S("\xf5\x80\x80\x80"),
		S("\xf7\xbf\xbf\xbf"),
		/* bytes that never appear */
		S("\xfe"),
		S("\xff"),
		S("\xfe\xfe\xff\xff"),
		/* lone continuation bytes */
		S("\x80"),
		S("\xbf"),
		S("a\x80"),
		S("\x80\x80"),
		/* truncated sequences, at the end and followed by ASCII */
		S("\xc3"),
		S("\xe2\x82"),
		S("\xf0\x9f\x98"),
		S("caf\xc3"),
		S("\xc3"
		  "a"),
		S("\xe2\x82"
		  "a"),
		S("\xf0\x9f\x98"
		  "a"),
		S("\xe2"
		  "a\xac"),
		/* a lead byte where a continuation should be */
		S("\xc3\xc3\xa9"),
		S("\xe2\x82\xe2\x82\xac"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (utf8(bad[i].s, bad[i].len))
			print_error("accepted bad case %zu\n", i);
		assert_false(utf8(bad[i].s, bad[i].len));
	}
	/* Invisible characters that reorder or hide text on a terminal. */
	assert_true(control("abc\xe2\x80\xae", 6)); /* U+202E RLO */
	assert_true(control("\xe2\x80\x8b", 3));    /* U+200B zero width */
	assert_true(control("\xe2\x81\xa6x", 4));   /* U+2066 isolate */
	assert_true(control("\xe2\x80\xa8", 3));    /* U+2028 line sep. */
	assert_true(control("\xef\xbb\xbf", 3));    /* U+FEFF BOM */
	assert_false(control("\xe2\x80\x94", 3));   /* U+2014 em dash */
	assert_false(control("\xe2\x82\xac", 3));   /* U+20AC euro */
	/* Only len bytes are looked at. */
	assert_true(utf8("ok\xff", 2));
	assert_false(utf8("ok\xff", 3));
	assert_false(utf8("\xc3\xa9", 1));
}

/* Table 3-7: well-formed UTF-8 byte sequences, range by range. */
static size_t
ref_seq(const uint8_t *p, size_t len)
{
	static const struct {
		uint8_t lo[4], hi[4];
		size_t n;
	} rows[] = {
		{ { 0x00 }, { 0x7f }, 1 },
		{ { 0xc2, 0x80 }, { 0xdf, 0xbf }, 2 },
		{ { 0xe0, 0xa0, 0x80 }, { 0xe0, 0xbf, 0xbf }, 3 },
		{ { 0xe1, 0x80, 0x80 }, { 0xec, 0xbf, 0xbf }, 3 },
		{ { 0xed, 0x80, 0x80 }, { 0xed, 0x9f, 0xbf }, 3 },
		{ { 0xee, 0x80, 0x80 }, { 0xef, 0xbf, 0xbf }, 3 },
		{ { 0xf0, 0x90, 0x80, 0x80 }, { 0xf0, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf1, 0x80, 0x80, 0x80 }, { 0xf3, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf4, 0x80, 0x80, 0x80 }, { 0xf4, 0x8f, 0xbf, 0xbf }, 4 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t k;

		if (rows[r].n > len)
			continue;
		for (k = 0; k < rows[r].n; k++)
			if (p[k] < rows[r].lo[k] || p[k] > rows[r].hi[k])
				break;
		if (k == rows[r].n)
			return rows[r].n;
	}
	return 0;
}

static bool
ref_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = ref_seq(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void
compare(const uint8_t *p, size_t len)
{
	bool want = ref_utf8(p, len);

	if (text_is_utf8((const char *)p, len) != want) {
		print_error("disagree on %zu bytes %02x %02x %02x %02x\n", len,
		    p[0], len > 1 ? p[1] : 0, len > 2 ? p[2] : 0,
		    len > 3 ? p[3] : 0);
		fail();
	}
}

static void
test_utf8_exhaustive(void **state)
{
	static const uint8_t tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
		0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf4, 0xff };
	uint8_t p[4];

	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		p[0] = (uint8_t)a;
		compare(p, 1);
		for (unsigned b = 0; b < 256; b++) {
			p[1] = (uint8_t)b;
			compare(p, 2);
			if (a < 0xc0)
				continue;
			for (unsigned c = 0; c < 256; c++) {
				p[2] = (uint8_t)c;
				compare(p, 3);
			}
			for (size_t c = 0; c < sizeof(tails); c++) {
				p[2] = tails[c];
				for (size_t d = 0; d < sizeof(tails); d++) {
					p[3] = tails[d];
					compare(p, 4);
				}
			}
		}
	}
	/* Every code point in four-byte form once: lead F0..F4. */
	for (unsigned cp = 0x10000; cp <= 0x10ffff; cp += 0x3f) {
		p[0] = (uint8_t)(0xf0 | (cp >> 18));
		p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		p[3] = (uint8_t)(0x80 | (cp & 0x3f));
		assert_true(text_is_utf8((const char *)p, 4));
	}
}

static void
test_controls(void **state)
{
	char s[3];

	(void)state;
	/* Every C0 control and DEL, alone and inside text. */
	for (unsigned c = 0; c < 0x20; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		assert_true(control(s, 3));
		assert_true(control(s + 1, 1));
	}
	assert_true(control("\x7f", 1));
	assert_true(control("Brigade\x1b[2J", 11));
	assert_true(control("Foyer\r\n", 7));
	/* Every C1 control, U+0080..U+009F, in its UTF-8 form. */
	for (unsigned c = 0x80; c < 0xa0; c++) {
		s[0] = 'a';
		s[1] = (char)0xc2;
		s[2] = (char)c;
		assert_true(control(s, 3));
		assert_true(control(s + 1, 2));
	}
	/* Printable ASCII and ordinary letters are not controls. */
	for (unsigned c = 0x20; c < 0x7f; c++) {
		s[0] = (char)c;
		assert_false(control(s, 1));
	}
	assert_false(control("", 0));
	assert_false(control("\xc2\xa0", 2)); /* U+00A0 no-break space */
	assert_false(control("\xc2\xab\xc2\xbb", 4)); /* « » */
	assert_false(control("\xc3\x85", 2));     /* Å: 0x85 as a trail byte */
	assert_false(control("\xe2\x80\x85", 3)); /* U+2005: 0x85 trailing */
	assert_false(control("\xc5\x93", 2));     /* œ */
	assert_false(control("Brigade des mœurs", strlen("Brigade des mœurs")));
	/* Invisible characters that reorder or hide text on a terminal. */
	assert_true(control("abc\xe2\x80\xae", 6)); /* U+202E RLO */
	assert_true(control("\xe2\x80\x8b", 3));    /* U+200B zero width */
	assert_true(control("\xe2\x81\xa6x", 4));   /* U+2066 isolate */
	assert_true(control("\xe2\x80\xa8", 3));    /* U+2028 line sep. */
	assert_true(control("\xef\xbb\xbf", 3));    /* U+FEFF BOM */
	assert_false(control("\xe2\x80\x94", 3));   /* U+2014 em dash */
	assert_false(control("\xe2\x82\xac", 3));   /* U+20AC euro */
	/* Only len bytes are looked at. */
	assert_false(control("ab\x1b", 2));
	assert_false(control("ab\xc2\x85", 3));
	assert_true(control("ab\xc2\x85", 4));
}

/* Lines and tabs pass, everything text_has_control refuses still does,
 * on any line; the lead-byte table agrees with the validator. */
static void
test_control_lines(void **state)
{
	static const char *const ok[] = { "", "une ligne", "deux\nlignes",
		"a\tb\n\tc\n", "\n\n", "Réinsertion\nfamiliale" };
	static const char *const bad[] = { "a\rb", "x\n\x1b[2J", "\x7f",
		"un\nA\xe2\x80\xae"
		"B",
		"\n\n\xc2\x85" };
	unsigned char b[4] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_false(text_has_control_lines(ok[i], strlen(ok[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(text_has_control_lines(bad[i], strlen(bad[i])));
	assert_true(text_has_control("\n", 1)); /* the plain check refuses */
	for (unsigned c = 0; c < 256; c++) {
		size_t n = text_utf8_len((unsigned char)c);
		b[0] = (unsigned char)c;
		b[1] = b[2] = b[3] = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		if (c == 0xed)
			b[1] = 0x80; /* below the surrogates */
		if (c == 0xf4)
			b[1] = 0x80; /* below U+10FFFF */
		if (n == 0)
			assert_false(text_is_utf8((const char *)b, 1) ||
			    text_is_utf8((const char *)b, 2) ||
			    text_is_utf8((const char *)b, 3) ||
			    text_is_utf8((const char *)b, 4));
		else
			assert_true(text_is_utf8((const char *)b, n));
	}
}

/* text_copy fits exactly or refuses, and leaves dst alone when refusing. */
static void
test_copy(void **state)
{
	char dst[6] = "keep!";

	(void)state;
	assert_int_equal(text_copy(dst, sizeof(dst), "Kayes!"), -1);
	assert_string_equal(dst, "keep!");
	assert_int_equal(text_copy(dst, sizeof(dst), "Kayes"), 0);
	assert_string_equal(dst, "Kayes");
	assert_int_equal(text_copy(dst, sizeof(dst), ""), 0);
	assert_string_equal(dst, "");
	assert_int_equal(text_copy(dst, 1, "x"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_exhaustive),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_control_lines),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
