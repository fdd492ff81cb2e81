/*
 * clock.c: reading the clock and converting times to and from text.
 *
 * Conversions are done with timegm/gmtime_r (UTC only), so the machine's
 * time zone never changes what a certificate says.
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

int
clock_parse(const char *s, uint64_t *t, struct sira_err *err)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(s);
	time_t v;

	if (s[0] == '@') {
		if (parse_seconds(s + 1, t) == 0)
			return 0;
		goto bad;
	}
	if (len == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			goto bad;
	} else if (len == 20) {
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h,
			&mi, &sec, &n) != 6 ||
		    n != 20)
			goto bad;
	} else
		goto bad;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((v = timegm(&tm)) < 0 || tm.tm_mday != d)
		goto bad;
	*t = (uint64_t)v;
	return 0;
bad:
	return sira_err_set(err, SIRA_EINVAL,
	    "invalid time '%s' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS)",
	    s);
}
