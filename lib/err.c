/*
 * err.c: error context and the one table of error codes: names, and
 * which are transient.
 *
 * The table is indexed by enum sira_code; its order is the wire order of
 * proto/control.proto Reason, which tests/unit/test_err.c checks.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/*
 * Each code's name, and whether it is transient: a failure that may pass
 * by itself (memory, the disk, a quota being freed, the broker's rate
 * limit, a session the broker lost), so the same request is tried again
 * later. Every other refusal is final for that request.
 */
static const struct {
	const char *name;
	bool transient;
} codes[SIRA_CODE_MAX + 1] = {
	[SIRA_OK] = { "success", false },
	[SIRA_EINVAL] = { "invalid argument", false },
	[SIRA_ENOMEM] = { "out of memory", true },
	[SIRA_EIO] = { "input/output error", true },
	[SIRA_EPERM_MODE] = { "key file permissions too wide", false },
	[SIRA_EBADSIG] = { "bad signature", false },
	[SIRA_EEXPIRED] = { "expired", false },
	[SIRA_ENOTYETVALID] = { "not yet valid", false },
	[SIRA_EREVOKED] = { "revoked", false },
	[SIRA_EUNKNOWN_CA] = { "not issued by the trusted CA", false },
	[SIRA_ECRL_ROLLBACK] = { "older revocation list refused", false },
	[SIRA_ETRUNCATED] = { "truncated", false },
	[SIRA_EMALFORMED] = { "malformed", false },
	[SIRA_ETOOBIG] = { "too big", false },
	[SIRA_EQUOTA] = { "quota exceeded", true },
	[SIRA_EDENIED] = { "denied by policy", false },
	[SIRA_EPASSPHRASE] = { "wrong passphrase", false },
	[SIRA_ENOTFOUND] = { "not found", false },
	[SIRA_EEXIST] = { "already exists", false },
	[SIRA_ECRL_STALE] = { "revocation list is stale", false },
	[SIRA_EKEY_USAGE] = { "key usage not allowed", false },
	[SIRA_ECRYPTO] = { "cryptographic failure", false },
	[SIRA_EUNKNOWN_AGENCY] = { "unknown agency", false },
	[SIRA_ENOT_RECIPIENT] = { "not addressed to us", false },
	[SIRA_EREPLAY] = { "replayed message", false },
	[SIRA_EFUTURE] = { "timestamp in the future", false },
	[SIRA_EPREKEY] = { "unknown or expired prekey", false },
	[SIRA_ERATE] = { "rate limit", true },
	[SIRA_ESPOOF] = { "sender does not match session", false },
	[SIRA_EVERSION] = { "unsupported version", false },
	[SIRA_ESTATE] = { "not allowed in this state", true },
	[SIRA_EAUTH] = { "authentication failed (altered or not for us)",
	    false },
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
	return codes[code].name;
}

bool
sira_err_transient(int code)
{
	if (code < 0)
		code = -code;
	return code <= SIRA_CODE_MAX && codes[code].transient;
}
