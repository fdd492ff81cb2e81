/*
 * clock.h: wall-clock time as Sira uses it: unix seconds, kept and parsed
 * as ISO 8601 UTC ("2026-11-29T03:40:00Z"), shown to people as they write
 * it in Mali ("29/11/2026 03:40", the local time zone).
 */
#ifndef SIRA_CLOCK_H
#define SIRA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SIRA_TIME_STR_LEN 21  /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */
#define SIRA_LOCAL_STR_LEN 32 /* "05/12/2026 14:30", or "—" */
#define SIRA_CLOCK_SKEW 300   /* seconds of clock difference tolerated */

/* The current time in unix seconds, shifted by SIRA_CLOCK_OFFSET seconds
 * when that is set (tests of a wrong clock; docs/OPERATIONS.md). */
uint64_t clock_now(void);

/* Format t into out as ISO 8601 UTC; out is always NUL-terminated. */
void clock_format(uint64_t t, char out[static SIRA_TIME_STR_LEN]);

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" (UTC) or "@SECONDS" into *t.
 * Returns 0 or -SIRA_EINVAL.
 */
int clock_parse(const char *s, uint64_t *t, struct sira_err *err);

/* t as people write it in Mali, "05/12/2026 14:30", in the local time
 * zone; "—" for 0 (never). */
void clock_local(uint64_t t, char out[static SIRA_LOCAL_STR_LEN]);

/*
 * For display: an ISO day "2026-11-20" becomes "20/11/2026" (a day has no
 * time zone), an ISO UTC time becomes clock_local's text. Returns out, or
 * iso itself when it is neither (a name, a word, NULL), so any string can
 * be passed through.
 */
const char *clock_show(const char *iso, char out[static SIRA_LOCAL_STR_LEN]);

#endif
