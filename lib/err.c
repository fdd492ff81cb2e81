/*
 * err.c: error context and the one table of error names.
 *
 * The table is indexed by enum sira_code; its order is the wire order of
 * proto/control.proto Reason, which tests/unit/test_err.c checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const char *const names[SIRA_CODE_MAX + 1] = {
	[SIRA_OK] = "success",
	[SIRA_EINVAL] = "invalid argument",
	[SIRA_ENOMEM] = "out of memory",
	[SIRA_EIO] = "input/output error",
	[SIRA_EPERM_MODE] = "key file permissions too wide",
	[SIRA_EBADSIG] = "bad signature",
	[SIRA_EEXPIRED] = "expired",
	[SIRA_ENOTYETVALID] = "not yet valid",
	[SIRA_EREVOKED] = "revoked",
	[SIRA_EUNKNOWN_CA] = "not issued by the trusted CA",
	[SIRA_ECRL_ROLLBACK] = "older revocation list refused",
	[SIRA_ETRUNCATED] = "truncated",
	[SIRA_EMALFORMED] = "malformed",
	[SIRA_ETOOBIG] = "too big",
	[SIRA_EQUOTA] = "quota exceeded",
	[SIRA_EDENIED] = "denied by policy",
	[SIRA_EPASSPHRASE] = "wrong passphrase",
	[SIRA_ENOTFOUND] = "not found",
	[SIRA_EEXIST] = "already exists",
	[SIRA_ECRL_STALE] = "revocation list is stale",
	[SIRA_EKEY_USAGE] = "key usage not allowed",
	[SIRA_ECRYPTO] = "cryptographic failure",
	[SIRA_EUNKNOWN_AGENCY] = "unknown agency",
	[SIRA_ENOT_RECIPIENT] = "not addressed to us",
	[SIRA_EREPLAY] = "replayed message",
	[SIRA_EFUTURE] = "timestamp in the future",
	[SIRA_EPREKEY] = "unknown or expired prekey",
	[SIRA_ERATE] = "rate limit",
	[SIRA_ESPOOF] = "sender does not match session",
	[SIRA_EVERSION] = "unsupported version",
	[SIRA_ESTATE] = "not allowed in this state",
	[SIRA_EAUTH] = "authentication failed (altered or not for us)",
};

void
sira_err_vfill(struct sira_err *err, int code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	err->code = code;
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

void
sira_err_clear(struct sira_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *
sira_strerror(int code)
{
	if (code < 0)
		code = -code;
	if (code > SIRA_CODE_MAX)
		return "unknown error";
	return names[code];
}
