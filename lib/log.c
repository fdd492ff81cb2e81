/*
 * log.c: structured records on stderr.
 *
 * The minimum level is the one piece of process-wide state: it is set once
 * by main() before any other thread or loop starts, and only read after.
 * The record is built in a local buffer and written with one write(2), so
 * records from the broker's threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define RECORD_MAX 1024

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
	min_level = level;
}

/* Copy src to dst escaping control characters and backslashes. */
static size_t
escape(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 4 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		if (c < 0x20 || c == 0x7f || c == '\\') {
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", c);
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return n;
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char raw[RECORD_MAX], out[RECORD_MAX], when[SIRA_TIME_STR_LEN];
	va_list ap;
	int n;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clock_format(clock_now(), when);
	n = snprintf(
	    out, sizeof(out), "%s %s %s ", when, level_names[level], event);
	if (n < 0 || (size_t)n >= sizeof(out))
		return;
	n += (int)escape(out + n, sizeof(out) - (size_t)n - 1, raw);
	out[n++] = '\n';
	(void)!write(STDERR_FILENO, out, (size_t)n);
}
