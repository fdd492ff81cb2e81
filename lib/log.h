/*
 * log.h: one-line structured log records on stderr, for the daemons.
 *
 * A record is "TIME LEVEL EVENT key=value key=value...", for example
 *   2026-11-29T04:12:00Z info envelope.accepted from=ml.police.bamako id=3f..
 * Values are identifiers, counts and reason codes, never message contents.
 * Values with spaces or quotes are quoted; control characters are escaped,
 * so a hostile agency id cannot forge a log line.
 */
#ifndef SIRA_LOG_H
#define SIRA_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * Write one record. fmt is a sequence of "key=%s" style pairs separated by
 * spaces, for example log_event(LOG_INFO, "peer.connected", "agency=%s", id).
 * Each formatted value is escaped as described above.
 */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records below level are dropped (default LOG_INFO). */
void log_set_level(enum log_level level);

#endif
