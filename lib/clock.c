/*
 * clock.c: reading the clock and converting times to and from text.
 *
 * Conversions are done with timegm/gmtime_r (UTC only), so the machine's
 * time zone never changes what a certificate says. Only what is shown to
 * people (clock_local, clock_show) is in the local time zone.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

uint64_t
clock_now(void)
{
	time_t t = time(NULL);
	const char *off = getenv("SIRA_CLOCK_OFFSET");
	char *end = NULL;
	long long shift;

	/* A test stands for a field laptop whose clock is wrong. */
	if (off != NULL && off[0] != '\0') {
		shift = strtoll(off, &end, 10);
		if (end != NULL && *end == '\0')
			t += (time_t)shift;
	}
	return t < 0 ? 0 : (uint64_t)t;
}

void
clock_format(uint64_t t, char out[static SIRA_TIME_STR_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t > (uint64_t)253402300799 || gmtime_r(&tt, &tm) == NULL) {
		(void)snprintf(out, SIRA_TIME_STR_LEN, "9999-12-31T23:59:59Z");
		return;
	}
	(void)strftime(out, SIRA_TIME_STR_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
parse_seconds(const char *s, uint64_t *t)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > 253402300799ULL)
		return -1;
	*t = v;
	return 0;
}

/* Read exactly n decimal digits at s into *v. */
static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Parse "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" into tm (UTC fields). */
static int
parse_iso(const char *s, struct tm *tm)
{
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d))
		return -1;
	if (len == 20 &&
	    (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
		digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
		digits(s + 17, 2, &sec)))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = sec;
	return 0;
}

int
clock_parse(const char *s, uint64_t *t, struct sira_err *err)
{
	struct tm tm;
	int day;
	time_t v;

	if (s[0] == '@') {
		if (parse_seconds(s + 1, t) == 0)
			return 0;
	} else if (parse_iso(s, &tm) == 0) {
		day = tm.tm_mday;
		/* timegm normalises Feb 30 to Mar 2: refuse such dates. */
		if ((v = timegm(&tm)) >= 0 && tm.tm_mday == day) {
			*t = (uint64_t)v;
			return 0;
		}
	}
	return sira_err_set(err, SIRA_EINVAL,
	    "invalid time '%s' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS)",
	    s);
}

void
clock_local(uint64_t t, char out[static SIRA_LOCAL_STR_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || t > (uint64_t)253402300799 ||
	    localtime_r(&tt, &tm) == NULL ||
	    strftime(out, SIRA_LOCAL_STR_LEN, "%d/%m/%Y %H:%M", &tm) == 0)
		(void)snprintf(out, SIRA_LOCAL_STR_LEN, "—");
}

const char *
clock_show(const char *iso, char out[static SIRA_LOCAL_STR_LEN])
{
	struct tm tm;
	uint64_t t = 0;

	/* parse_iso first: clock_parse also takes "@SECONDS" */
	if (iso == NULL || parse_iso(iso, &tm) != 0 ||
	    clock_parse(iso, &t, NULL) != 0)
		return iso;
	if (strlen(iso) == 10) /* a day, not an instant: no time zone */
		(void)snprintf(out, SIRA_LOCAL_STR_LEN, "%.2s/%.2s/%.4s",
		    iso + 8, iso + 5, iso);
	else
		clock_local(t, out);
	return out;
}
