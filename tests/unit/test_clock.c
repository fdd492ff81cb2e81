/*
 * test_clock.c: lib/clock.c, times as text. clock_parse takes exactly three
 * forms (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @SECONDS), in UTC whatever the
 * machine's time zone, and refuses dates that do not exist (Feb 30) rather
 * than letting timegm roll them over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

#define MAX_TIME UINT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static void
expect_time(const char *s, uint64_t want)
{
	uint64_t t = UINT64_C(0xdeadbeef);
	struct sira_err err;

	sira_err_clear(&err);
	if (clock_parse(s, &t, &err) != 0)
		print_error("refused '%s'\n", s);
	assert_int_equal(clock_parse(s, &t, &err), 0);
	assert_int_equal(err.code, 0);
	assert_true(t == want);
}

static void
expect_invalid(const char *s)
{
	uint64_t t = UINT64_C(0xdeadbeef);
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = clock_parse(s, &t, &err);
	if (rc != -SIRA_EINVAL)
		print_error("accepted '%s'\n", s);
	assert_int_equal(rc, -SIRA_EINVAL);
	assert_int_equal(err.code, SIRA_EINVAL);
	assert_true(t == UINT64_C(0xdeadbeef)); /* untouched */
}

static void
test_parse_valid(void **state)
{
	(void)state;
	expect_time("1970-01-01", 0);
	expect_time("1970-01-01T00:00:00Z", 0);
	expect_time("1970-01-02", 86400);
	expect_time("2026-11-29T03:40:00Z", UINT64_C(1795923600));
	expect_time("2026-01-01", UINT64_C(1767225600));
	expect_time("2036-01-01T00:00:00Z", UINT64_C(2082758400));
	expect_time("2038-01-19T03:14:08Z", UINT64_C(2147483648));
	expect_time("2024-02-29", UINT64_C(1709164800)); /* leap year */
	expect_time("2000-02-29", UINT64_C(951782400));  /* 400-year rule */
	expect_time("2026-12-31T23:59:59Z", UINT64_C(1798761599));
	expect_time("9999-12-31T23:59:59Z", MAX_TIME);
	expect_time("@0", 0);
	expect_time("@1772409600", UINT64_C(1772409600));
	expect_time("@00042", 42);
	expect_time("@253402300799", MAX_TIME);
}

static void
test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"@",
		"@-1",
		"@+1",
		"@ 1",
		"@1 ",
		"@1x",
		"@0x10",
		"@253402300800",         /* past 9999 */
		"@18446744073709551616", /* past UINT64_MAX */
		"@99999999999999999999999",
		"1969-12-31",
		"1969-12-31T23:59:59Z",
		"2026-02-30", /* Feb 30 */
		"2026-02-29", /* not a leap year */
		"2100-02-29", /* century, not a leap year */
		"2026-04-31",
		"2026-06-31",
		"2026-09-31",
		"2026-11-31",
		"2026-02-30T12:00:00Z",
		"2026-00-10",
		"2026-13-10",
		"2026-01-00",
		"2026-01-32",
		"2026-01-01T24:00:00Z",
		"2026-01-01T23:60:00Z",
		"2026-01-01T23:59:60Z", /* leap seconds are not Sira's */
		"2026-01-01T12:00:60Z", /* would roll over within the day */
		"2026-01-01T12:60:00Z",
		"2026-1-01",
		"2026-01-1",
		"26-01-01",
		"2026/01/01",
		"2026-01-01 ",
		" 2026-01-01",
		"2026-01-01T",
		"2026-01-01T00:00:00",
		"2026-01-01T00:00:00z",
		"2026-01-01t00:00:00Z",
		"2026-01-01 00:00:00Z",
		"2026-01-01T00:00:00+00:00",
		"2026-01-01T00:00:00.000Z",
		"2026-01-01T0:00:00Z ",
		"2026-0a-01",
		"+026-01-01",
		"-026-01-01",
		"2026-01-01Z",
		"now",
		"1772409600",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i]);
}

/* Every day of a leap and a common year: valid days parse, others not. */
static void
test_month_lengths(void **state)
{
	static const int days[2][12] = {
		{ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
		{ 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
	};
	static const int years[2] = { 2027, 2028 };
	uint64_t prev = 0;

	(void)state;
	for (int y = 0; y < 2; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= 31; d++) {
				char s[32];
				uint64_t t;

				(void)snprintf(s, sizeof(s), "%04d-%02d-%02d",
				    years[y], m, d);
				if (d > days[y][m - 1]) {
					expect_invalid(s);
					continue;
				}
				assert_int_equal(clock_parse(s, &t, NULL), 0);
				/* Consecutive days are 86400 s apart. */
				if (prev != 0)
					assert_true(t == prev + 86400);
				prev = t;
			}
		}
	}
}

static void
test_format(void **state)
{
	char out[SIRA_TIME_STR_LEN];
	static const char *const round[] = { "1970-01-01T00:00:00Z",
		"2000-02-29T12:34:56Z", "2026-11-29T03:40:00Z",
		"2038-01-19T03:14:08Z", "9999-12-31T23:59:59Z" };

	(void)state;
	clock_format(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	clock_format(UINT64_C(1772409600), out);
	assert_string_equal(out, "2026-03-02T00:00:00Z");
	/* Past the year 9999 everything is shown as its last second. */
	clock_format(MAX_TIME + 1, out);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	clock_format(UINT64_MAX, out);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	assert_int_equal(strlen(out), SIRA_TIME_STR_LEN - 1);
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		uint64_t t;

		assert_int_equal(clock_parse(round[i], &t, NULL), 0);
		clock_format(t, out);
		assert_string_equal(out, round[i]);
	}
}

/* The machine's time zone changes nothing. */
static void
test_time_zone_ignored(void **state)
{
	uint64_t t;
	char out[SIRA_TIME_STR_LEN];

	(void)state;
	assert_int_equal(setenv("TZ", "Pacific/Kiritimati", 1), 0);
	tzset();
	assert_int_equal(clock_parse("2026-03-02", &t, NULL), 0);
	assert_true(t == UINT64_C(1772409600));
	clock_format(t, out);
	assert_string_equal(out, "2026-03-02T00:00:00Z");
	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

/* What people read is in their time zone and their way of writing dates:
 * an instant moves with the zone, a day (a birth date, a consent date)
 * does not; anything that is not an ISO time passes through unchanged. */
static void
test_shown_to_people(void **state)
{
	char out[SIRA_LOCAL_STR_LEN];
	const char *name = "Aminata";

	(void)state;
	assert_int_equal(setenv("TZ", "EAT-3", 1), 0); /* UTC+3 */
	tzset();
	assert_string_equal(
	    clock_show("2026-11-20T16:30:00Z", out), "20/11/2026 19:30");
	clock_local(UINT64_C(1772409600), out); /* 2026-03-02T00:00:00Z */
	assert_string_equal(out, "02/03/2026 03:00");
	assert_int_equal(setenv("TZ", "HST10", 1), 0); /* UTC-10 */
	tzset();
	assert_string_equal(
	    clock_show("2026-11-20T06:00:00Z", out), "19/11/2026 20:00");
	assert_string_equal(clock_show("2026-11-20", out), "20/11/2026");
	assert_string_equal(clock_show("2012-03-04", out), "04/03/2012");
	assert_ptr_equal(clock_show(name, out), name);
	assert_string_equal(clock_show("2026-02-30", out), "2026-02-30");
	assert_string_equal(
	    clock_show("2026-11-20T16:30Z", out), "2026-11-20T16:30Z");
	assert_null(clock_show(NULL, out));
	clock_local(0, out);
	assert_string_equal(out, "—");
	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

static void
test_now(void **state)
{
	time_t before, after;
	uint64_t now;

	(void)state;
	before = time(NULL);
	now = clock_now();
	after = time(NULL);
	/* The system's clock, in seconds (unless it was set back meanwhile). */
	assert_true(before > 0 && after >= before);
	assert_true(now >= (uint64_t)before && now <= (uint64_t)after);
}

/* SIRA_CLOCK_OFFSET shifts clock_now by whole seconds; anything that is
 * not a whole number (a typo, trailing junk, empty) is ignored, never
 * half-read. */
static void
test_offset(void **state)
{
	static const char *const junk[] = { "", "abc", "900s", "9 00", "0x10",
		"--5" };
	uint64_t base, shifted;

	(void)state;
	assert_int_equal(unsetenv("SIRA_CLOCK_OFFSET"), 0);
	base = clock_now();
	assert_int_equal(setenv("SIRA_CLOCK_OFFSET", "900", 1), 0);
	shifted = clock_now();
	assert_true(shifted >= base + 900 && shifted <= base + 902);
	assert_int_equal(setenv("SIRA_CLOCK_OFFSET", "-3600", 1), 0);
	shifted = clock_now();
	assert_true(shifted + 3600 >= base && shifted + 3600 <= base + 2);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(setenv("SIRA_CLOCK_OFFSET", junk[i], 1), 0);
		shifted = clock_now();
		assert_true(shifted >= base && shifted <= base + 2);
	}
	assert_int_equal(unsetenv("SIRA_CLOCK_OFFSET"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_month_lengths),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_offset),
		cmocka_unit_test(test_time_zone_ignored),
		cmocka_unit_test(test_shown_to_people),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
