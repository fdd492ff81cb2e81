/*
 * policy.h: the broker's routing policy, "may an agency of role R1 send a
 * message of kind K to an agency of role R2?".
 *
 * A pure, table-driven function of (from role, kind, to role): no I/O after
 * loading, no global state, no knowledge of agencies, cases or contents. The
 * policy comes from the built-in default (the national referral mechanism,
 * written out with reasons in docs/policy.example) or from a plain-text file
 * in the same format. Anything a rule does not allow is denied, and nothing
 * is ever routed to or from the broker role, whatever a file says.
 */
#ifndef SIRA_POLICY_H
#define SIRA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "cert.h"
#include "err.h"

#define SIRA_POLICY_TEXT_MAX (64u << 10) /* a policy file, in bytes */
#define SIRA_POLICY_LINE_MAX 256   /* one line, in bytes, without its '\n' */
#define SIRA_POLICY_RULES_MAX 1024 /* rules in one policy */

/*
 * The message kinds the broker sees in an envelope header. The numbers MUST
 * equal proto/envelope.proto MessageKind (MESSAGE_KIND_*); this header does
 * not include generated code, so tests/unit/test_broker_policy.c checks it.
 */
enum sira_kind {
	SIRA_KIND_UNSPECIFIED = 0,
	SIRA_KIND_REFERRAL = 1,
	SIRA_KIND_REFERRAL_RESPONSE = 2,
	SIRA_KIND_REFERRAL_UPDATE = 3,
	SIRA_KIND_CASE_TRANSFER = 4,
	SIRA_KIND_FILE_REQUEST = 5,
	SIRA_KIND_FILE_RESPONSE = 6,
	SIRA_KIND_RECEIPT = 7,
	SIRA_KIND_NOTE = 8,
	SIRA_KIND_DEADLINE_NOTICE = 9,
	SIRA_KIND_STATS_REPORT = 10,
	SIRA_KIND_ERASURE = 11,
	SIRA_KIND_ERASURE_RECEIPT = 12,
	SIRA_KIND_RESEND_REQUEST = 13,
	SIRA_KIND_MAX = 13
};

/* A compiled policy: a fixed decision table, immutable once built. */
struct policy;

/*
 * Build the built-in default policy (the rules of docs/policy.example) into
 * a fresh *out (caller destroys). Returns 0 or -SIRA_ENOMEM.
 */
int policy_default(struct policy **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Parse a policy from text[0..len) (untrusted; need not be NUL-terminated)
 * into a fresh *out (caller destroys). On error *out is NULL.
 *
 * Format, one rule per line, fields separated by spaces or tabs:
 *
 *	allow <from-role|*> <kind|*> <to-role|*>
 *	deny  <from-role|*> <kind|*> <to-role|*>
 *
 * '#' starts a comment that runs to the end of the line; blank lines are
 * ignored; a '\r' before '\n' is tolerated. Roles are cert_role_name()
 * names, kinds are policy_kind_name() names. '*' means every agency role
 * (police, justice, social_services, ngo, coordination; never broker) or
 * every kind. The first rule that matches a triple decides it; a triple no
 * rule matches is denied. An allow rule may not name the broker role.
 *
 * Returns 0 or, with err naming the line ("policy line 7: unknown role
 * 'polise'"):
 *   -SIRA_EMALFORMED  a line is wrong: unknown action, role or kind, not
 *                     exactly four fields, longer than SIRA_POLICY_LINE_MAX,
 *                     a NUL, non-ASCII (also in comments) or control byte,
 *                     an allow rule naming broker; or the text has no rule
 *   -SIRA_ETOOBIG     len > SIRA_POLICY_TEXT_MAX, or more than
 *                     SIRA_POLICY_RULES_MAX rules
 *   -SIRA_ENOMEM
 */
int policy_parse(const char *text, size_t len, struct policy **out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Read the policy file at path (at most SIRA_POLICY_TEXT_MAX bytes, no
 * symlink) and parse it as policy_parse does; err then starts with path.
 * Returns 0, -SIRA_ENOTFOUND, -SIRA_EIO, -SIRA_ETOOBIG, -SIRA_EMALFORMED or
 * -SIRA_ENOMEM.
 */
int policy_load(const char *path, struct policy **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * May an agency of role from send a message of kind to an agency of role to?
 * False for a NULL policy, a role that is not an agency role (unspecified,
 * broker, out of range) and a kind outside 1..SIRA_KIND_MAX.
 */
bool policy_allows(const struct policy *p, enum sira_role from, int kind,
    enum sira_role to) __attribute__((warn_unused_result));

/*
 * policy_allows, for the nack and the audit entry: returns 0 when allowed,
 * otherwise -SIRA_EDENIED with err naming both roles, the kind and the rule
 * that decided ("policy: ngo may not send file_request to police (no rule
 * allows it)"). The message never holds anything but these names.
 */
int policy_check(const struct policy *p, enum sira_role from, int kind,
    enum sira_role to, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Free *pp and set it to NULL; accepts NULL and *pp == NULL. */
void policy_destroy(struct policy **pp);

/*
 * The kind's name as used in policy files and logs ("file_request"),
 * "unspecified" for 0 and "unknown" outside 0..SIRA_KIND_MAX. Static string.
 */
const char *policy_kind_name(int kind);

/* Parse a kind name (not "unspecified", not "*"). Returns 0 or -SIRA_EINVAL. */
int policy_kind_parse(const char *name, int *kind);

#endif
