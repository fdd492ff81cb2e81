/*
 * clock.h: wall-clock time as Sira uses it: unix seconds, shown and parsed
 * as ISO 8601 UTC ("2026-11-29T03:40:00Z").
 */
#ifndef SIRA_CLOCK_H
#define SIRA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SIRA_TIME_STR_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */
#define SIRA_CLOCK_SKEW 300  /* seconds of clock difference tolerated */

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

#endif
