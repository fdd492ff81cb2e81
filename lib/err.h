/*
 * err.h: Sira's error codes and the error context that travels with them.
 *
 * Every fallible function returns 0 or a negative SIRA_E* code. The codes
 * are stable and equal the wire's Reason numbers (proto/control.proto), so a
 * broker refusal and an agent error are the same word. Functions that can
 * explain themselves take an optional struct sira_err * as last argument.
 *
 * One sign each: what a function returns (rc) is negative; what is stored
 * or sent (a Nack's reason, a receipt's reject_reason, an audit entry's
 * reason, err->code) and what sira_err_set takes is the positive code, so
 * the only conversions are -rc going out and -code coming back. A function
 * never returns a positive value in the same rc as its errors: a second
 * answer ("added", "waiting") goes in its own out parameter.
 */
#ifndef SIRA_ERR_H
#define SIRA_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum sira_code {
	SIRA_OK = 0,
	SIRA_EINVAL = 1,
	SIRA_ENOMEM = 2,
	SIRA_EIO = 3,
	SIRA_EPERM_MODE = 4,
	SIRA_EBADSIG = 5,
	SIRA_EEXPIRED = 6,
	SIRA_ENOTYETVALID = 7,
	SIRA_EREVOKED = 8,
	SIRA_EUNKNOWN_CA = 9,
	SIRA_ECRL_ROLLBACK = 10,
	SIRA_ETRUNCATED = 11,
	SIRA_EMALFORMED = 12,
	SIRA_ETOOBIG = 13,
	SIRA_EQUOTA = 14,
	SIRA_EDENIED = 15,
	SIRA_EPASSPHRASE = 16,
	SIRA_ENOTFOUND = 17,
	SIRA_EEXIST = 18,
	SIRA_ECRL_STALE = 19,
	SIRA_EKEY_USAGE = 20,
	SIRA_ECRYPTO = 21,
	SIRA_EUNKNOWN_AGENCY = 22,
	SIRA_ENOT_RECIPIENT = 23,
	SIRA_EREPLAY = 24,
	SIRA_EFUTURE = 25,
	SIRA_EPREKEY = 26,
	SIRA_ERATE = 27,
	SIRA_ESPOOF = 28,
	SIRA_EVERSION = 29,
	SIRA_ESTATE = 30,
	SIRA_EAUTH = 31,
	SIRA_CODE_MAX = 31
};

#define SIRA_ERR_MSG_MAX 256

/* An error code with a one-line explanation. Never holds message contents. */
struct sira_err {
	int code; /* positive enum sira_code, 0 when no error */
	char msg[SIRA_ERR_MSG_MAX];
};

/* Fill err (may be NULL) with a positive code and a formatted message. */
void sira_err_vfill(struct sira_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Record the positive code and a printf-style explanation in err (which
 * may be NULL) and return -code, so that a failing path reads: return
 * sira_err_set(err, ...). Never returns 0 (a zero code becomes
 * SIRA_EINVAL); a negative code is taken as its positive (defensive: the
 * callers pass -rc). Inline so that static
 * analysers see that every error path returns non-zero.
 */
static inline int __attribute__((format(printf, 3, 4)))
sira_err_set(struct sira_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (code == 0)
		code = SIRA_EINVAL;
	va_start(ap, fmt);
	sira_err_vfill(err, code, fmt, ap);
	va_end(ap);
	return -code;
}

/* Clear err (may be NULL). */
void sira_err_clear(struct sira_err *err);

/*
 * A short English name for code ("bad signature"). code may be positive or
 * negative. The string is static.
 */
const char *sira_strerror(int code);

/* May a request refused with code succeed if simply tried again later
 * (err.c's table)? code may be positive or negative. */
bool sira_err_transient(int code);

#endif
