/*
 * policy.c: who may send what to whom, as a fixed decision table.
 *
 * Rules, from the built-in table below or a policy file, are compiled in
 * order into one cell per (agency role, kind, agency role) triple: a rule
 * fills only the cells no earlier rule filled, which is "first match wins",
 * and a cell no rule filled denies. Deciding is then a bounds check and one
 * table read. The broker role has no cells at all, so nothing can be routed
 * to or from it. The file parser is bounded (size, line length, rule count)
 * and rejects early; a policy is handed out only once every line is good.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "fileio.h"
#include "policy.h"
#include "text.h"

/* Agency roles are the contiguous range police..coordination. */
#define AGENCY_MIN SIRA_ROLE_POLICE
#define AGENCY_MAX SIRA_ROLE_COORDINATION
_Static_assert(SIRA_ROLE_POLICE == 1 && SIRA_ROLE_COORDINATION == 5 &&
	SIRA_ROLE_BROKER == SIRA_ROLE_COORDINATION + 1 &&
	SIRA_ROLE_BROKER == SIRA_ROLE_MAX,
    "agency roles must be 1..5 and broker the last role");

#define ANY (-1) /* '*' in a rule */
#define MAX_FIELDS 4

/* One decided triple: the rule that decided it (1-based; 0: none). */
struct cell {
	uint32_t rule;
	bool allow;
};

struct policy {
	bool builtin; /* rule numbers are built-in rules, not file lines */
	struct cell cells[AGENCY_MAX + 1][SIRA_KIND_MAX + 1][AGENCY_MAX + 1];
};

struct rule {
	bool allow;
	int from; /* enum sira_role, or ANY */
	int kind; /* enum sira_kind, or ANY */
	int to;   /* enum sira_role, or ANY */
};

static const char *const kind_names[SIRA_KIND_MAX + 1] = {
	[SIRA_KIND_UNSPECIFIED] = "unspecified",
	[SIRA_KIND_REFERRAL] = "referral",
	[SIRA_KIND_REFERRAL_RESPONSE] = "referral_response",
	[SIRA_KIND_REFERRAL_UPDATE] = "referral_update",
	[SIRA_KIND_CASE_TRANSFER] = "case_transfer",
	[SIRA_KIND_FILE_REQUEST] = "file_request",
	[SIRA_KIND_FILE_RESPONSE] = "file_response",
	[SIRA_KIND_RECEIPT] = "receipt",
	[SIRA_KIND_NOTE] = "note",
	[SIRA_KIND_DEADLINE_NOTICE] = "deadline_notice",
	[SIRA_KIND_STATS_REPORT] = "stats_report",
	[SIRA_KIND_ERASURE] = "erasure",
	[SIRA_KIND_ERASURE_RECEIPT] = "erasure_receipt",
	[SIRA_KIND_RESEND_REQUEST] = "resend_request",
};

#define A true
#define POL SIRA_ROLE_POLICE
#define JUS SIRA_ROLE_JUSTICE
#define SOC SIRA_ROLE_SOCIAL_SERVICES
#define NGO SIRA_ROLE_NGO
#define COO SIRA_ROLE_COORDINATION

/*
 * The default: the national referral mechanism. docs/policy.example is the
 * same list, rule for rule, with the reasons; the unit test checks that both
 * decide every triple the same way. Change them together.
 */
static const struct rule default_rules[] = {
	/* referral: first responders and coordination -> service providers */
	{ A, POL, SIRA_KIND_REFERRAL, NGO },
	{ A, POL, SIRA_KIND_REFERRAL, SOC },
	{ A, POL, SIRA_KIND_REFERRAL, COO },
	{ A, SOC, SIRA_KIND_REFERRAL, NGO },
	{ A, SOC, SIRA_KIND_REFERRAL, SOC },
	{ A, SOC, SIRA_KIND_REFERRAL, COO },
	{ A, NGO, SIRA_KIND_REFERRAL, NGO },
	{ A, NGO, SIRA_KIND_REFERRAL, SOC },
	{ A, NGO, SIRA_KIND_REFERRAL, COO },
	{ A, COO, SIRA_KIND_REFERRAL, NGO },
	{ A, COO, SIRA_KIND_REFERRAL, SOC },
	{ A, COO, SIRA_KIND_REFERRAL, COO },
	/* answers and feedback between any two agencies */
	{ A, ANY, SIRA_KIND_REFERRAL_RESPONSE, ANY },
	{ A, ANY, SIRA_KIND_REFERRAL_UPDATE, ANY },
	/* case transfer: any agency -> an agency that can own a case */
	{ A, ANY, SIRA_KIND_CASE_TRANSFER, POL },
	{ A, ANY, SIRA_KIND_CASE_TRANSFER, JUS },
	{ A, ANY, SIRA_KIND_CASE_TRANSFER, SOC },
	{ A, ANY, SIRA_KIND_CASE_TRANSFER, NGO },
	/* file request: only the prosecutor asks, only the holders answer */
	{ A, JUS, SIRA_KIND_FILE_REQUEST, POL },
	{ A, JUS, SIRA_KIND_FILE_REQUEST, SOC },
	{ A, JUS, SIRA_KIND_FILE_REQUEST, NGO },
	{ A, JUS, SIRA_KIND_FILE_REQUEST, COO },
	{ A, POL, SIRA_KIND_FILE_RESPONSE, JUS },
	{ A, SOC, SIRA_KIND_FILE_RESPONSE, JUS },
	{ A, NGO, SIRA_KIND_FILE_RESPONSE, JUS },
	{ A, COO, SIRA_KIND_FILE_RESPONSE, JUS },
	/* receipts and notes: any agency <-> any agency */
	{ A, ANY, SIRA_KIND_RECEIPT, ANY },
	{ A, ANY, SIRA_KIND_NOTE, ANY },
	/* deadline notices: any agency -> the committee; a reminder along
	 * the routes of a referral or a file request */
	{ A, ANY, SIRA_KIND_DEADLINE_NOTICE, COO },
	{ A, POL, SIRA_KIND_DEADLINE_NOTICE, NGO },
	{ A, POL, SIRA_KIND_DEADLINE_NOTICE, SOC },
	{ A, SOC, SIRA_KIND_DEADLINE_NOTICE, NGO },
	{ A, SOC, SIRA_KIND_DEADLINE_NOTICE, SOC },
	{ A, NGO, SIRA_KIND_DEADLINE_NOTICE, NGO },
	{ A, NGO, SIRA_KIND_DEADLINE_NOTICE, SOC },
	{ A, COO, SIRA_KIND_DEADLINE_NOTICE, NGO },
	{ A, COO, SIRA_KIND_DEADLINE_NOTICE, SOC },
	{ A, JUS, SIRA_KIND_DEADLINE_NOTICE, POL },
	{ A, JUS, SIRA_KIND_DEADLINE_NOTICE, SOC },
	{ A, JUS, SIRA_KIND_DEADLINE_NOTICE, NGO },
	/* statistical reports: every agency -> the committee */
	{ A, ANY, SIRA_KIND_STATS_REPORT, COO },
	/* erasure orders, legal holds and their signed answers: any agency
	 * may have sent a case to any other (the agents check the rest) */
	{ A, ANY, SIRA_KIND_ERASURE, ANY },
	{ A, ANY, SIRA_KIND_ERASURE_RECEIPT, ANY },
	/* a restored agency asks for what it lost: any may have written */
	{ A, ANY, SIRA_KIND_RESEND_REQUEST, ANY },
	/* everything else: denied */
	{ false, ANY, ANY, ANY },
};

#undef A
#undef POL
#undef JUS
#undef SOC
#undef NGO
#undef COO

static bool
is_agency(int role)
{
	return role >= AGENCY_MIN && role <= AGENCY_MAX;
}

static bool
is_kind(int kind)
{
	return kind >= 1 && kind <= SIRA_KIND_MAX;
}

/* The range [*lo, *hi] a rule field covers; empty for the broker role. */
static void
role_range(int role, int *lo, int *hi)
{
	if (role == ANY) {
		*lo = AGENCY_MIN;
		*hi = AGENCY_MAX;
	} else if (is_agency(role)) {
		*lo = *hi = role;
	} else {
		*lo = 1;
		*hi = 0;
	}
}

/* Fill the cells of r no earlier rule filled; rule is r's number. */
static void
compile_rule(struct policy *p, const struct rule *r, uint32_t rule)
{
	int flo, fhi, tlo, thi, klo, khi;

	role_range(r->from, &flo, &fhi);
	role_range(r->to, &tlo, &thi);
	klo = r->kind == ANY ? 1 : r->kind;
	khi = r->kind == ANY ? SIRA_KIND_MAX : r->kind;
	for (int f = flo; f <= fhi; f++)
		for (int k = klo; k <= khi; k++)
			for (int t = tlo; t <= thi; t++) {
				struct cell *c = &p->cells[f][k][t];
				if (c->rule == 0) {
					c->rule = rule;
					c->allow = r->allow;
				}
			}
}

int
policy_default(struct policy **out, struct sira_err *err)
{
	struct policy *p;
	size_t n = sizeof(default_rules) / sizeof(default_rules[0]);

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	p->builtin = true;
	for (size_t i = 0; i < n; i++)
		compile_rule(p, &default_rules[i], (uint32_t)(i + 1));
	*out = p;
	return 0;
}

/* A role field: '*' or a role name. */
static int
parse_role(const char *s, int *role)
{
	enum sira_role r;

	if (strcmp(s, "*") == 0) {
		*role = ANY;
		return 0;
	}
	if (cert_role_parse(s, &r) != 0)
		return -SIRA_EINVAL;
	*role = (int)r;
	return 0;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Check and split one line (without its '\n') into *r. *is_rule is false
 * for a blank or comment-only line. Rejects before it accepts.
 */
static int
// NOLINTNEXTLINE(readability-function-size): one linear validator
parse_line(const char *line, size_t len, uint32_t lineno, struct rule *r,
    bool *is_rule, struct sira_err *err)
{
	const char *field[MAX_FIELDS];
	size_t flen[MAX_FIELDS], nf = 0, end, i;
	char buf[MAX_FIELDS][SIRA_POLICY_LINE_MAX + 1];

	*is_rule = false;
	if (len > SIRA_POLICY_LINE_MAX)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: longer than %d bytes", lineno,
		    SIRA_POLICY_LINE_MAX);
	/* The comment, if any, ends the line. */
	for (end = 0; end < len && line[end] != '#'; end++)
		;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0')
			return sira_err_set(err, SIRA_EMALFORMED,
			    "policy line %u: NUL byte", lineno);
		/* Rules are ASCII; comments may be French (valid UTF-8). */
		if (c >= 0x80 && i < end)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "policy line %u: non-ASCII byte 0x%02x in a rule",
			    lineno, c);
		if ((c < 0x20 && !is_space(c)) || c == 0x7f)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "policy line %u: control byte 0x%02x", lineno, c);
	}
	if (end < len && !text_is_utf8(line + end, len - end))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: comment is not valid UTF-8", lineno);
	for (i = 0; i < end;) {
		size_t start;

		while (i < end && is_space((unsigned char)line[i]))
			i++;
		if (i == end)
			break;
		start = i;
		while (i < end && !is_space((unsigned char)line[i]))
			i++;
		if (nf < MAX_FIELDS) {
			field[nf] = line + start;
			flen[nf] = i - start;
		}
		nf++;
	}
	if (nf == 0)
		return 0;
	if (nf != MAX_FIELDS)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: expected 4 fields '<allow|deny> <from-role|*> <kind|*> <to-role|*>', found %zu",
		    lineno, nf);
	/* Each field is at most len <= SIRA_POLICY_LINE_MAX bytes. */
	for (i = 0; i < MAX_FIELDS; i++) {
		memcpy(buf[i], field[i], flen[i]);
		buf[i][flen[i]] = '\0';
	}
	if (strcmp(buf[0], "allow") == 0)
		r->allow = true;
	else if (strcmp(buf[0], "deny") == 0)
		r->allow = false;
	else
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: unknown action '%.64s' (expected allow or deny)",
		    lineno, buf[0]);
	if (parse_role(buf[1], &r->from) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: unknown role '%.64s'", lineno, buf[1]);
	if (strcmp(buf[2], "*") == 0)
		r->kind = ANY;
	else if (policy_kind_parse(buf[2], &r->kind) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: unknown kind '%.64s'", lineno, buf[2]);
	if (parse_role(buf[3], &r->to) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: unknown role '%.64s'", lineno, buf[3]);
	if (r->allow &&
	    (r->from == SIRA_ROLE_BROKER || r->to == SIRA_ROLE_BROKER))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "policy line %u: the broker never sends or receives messages; an allow rule cannot name it",
		    lineno);
	*is_rule = true;
	return 0;
}

int
policy_parse(
    const char *text, size_t len, struct policy **out, struct sira_err *err)
{
	struct policy *p = NULL;
	struct rule r;
	size_t off = 0, nrules = 0;
	uint32_t lineno = 0;
	bool is_rule;
	int rc;

	*out = NULL;
	if (text == NULL && len != 0)
		return sira_err_set(err, SIRA_EINVAL, "policy text is NULL");
	if (len > SIRA_POLICY_TEXT_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "policy is larger than %u bytes", SIRA_POLICY_TEXT_MAX);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	while (off < len) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - off;

		off += n + (nl != NULL ? 1 : 0);
		lineno++;
		if ((rc = parse_line(line, n, lineno, &r, &is_rule, err)) != 0)
			goto fail;
		if (!is_rule)
			continue;
		if (++nrules > SIRA_POLICY_RULES_MAX) {
			rc = sira_err_set(err, SIRA_ETOOBIG,
			    "policy line %u: more than %d rules", lineno,
			    SIRA_POLICY_RULES_MAX);
			goto fail;
		}
		compile_rule(p, &r, lineno);
	}
	if (nrules == 0) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "policy has no rules (it would deny everything)");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	free(p);
	return rc;
}

int
policy_load(const char *path, struct policy **out, struct sira_err *err)
{
	struct sira_err perr;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = fileio_read(path, SIRA_POLICY_TEXT_MAX, &buf, &len, err)) !=
	    0)
		return rc;
	sira_err_clear(&perr);
	rc = policy_parse((const char *)buf, len, out, &perr);
	free(buf);
	if (rc != 0)
		return sira_err_set(err, rc, "%s: %s", path, perr.msg);
	return 0;
}

bool
policy_allows(
    const struct policy *p, enum sira_role from, int kind, enum sira_role to)
{
	if (p == NULL)
		return false;
	if (!is_agency((int)from) || !is_agency((int)to))
		return false;
	if (!is_kind(kind))
		return false;
	return p->cells[from][kind][to].allow;
}

int
policy_check(const struct policy *p, enum sira_role from, int kind,
    enum sira_role to, struct sira_err *err)
{
	const char *fname = cert_role_name(from), *tname = cert_role_name(to);
	const char *kname = policy_kind_name(kind);
	const struct cell *c;

	if (p == NULL)
		return sira_err_set(err, SIRA_EDENIED,
		    "policy: %s may not send %s to %s (no policy loaded)",
		    fname, kname, tname);
	if (!is_agency((int)from) || !is_agency((int)to))
		return sira_err_set(err, SIRA_EDENIED,
		    "policy: %s may not send %s to %s (only agency roles send and receive)",
		    fname, kname, tname);
	if (!is_kind(kind))
		return sira_err_set(err, SIRA_EDENIED,
		    "policy: %s may not send %s to %s (message kind %d)", fname,
		    kname, tname, kind);
	c = &p->cells[from][kind][to];
	if (c->rule == 0)
		return sira_err_set(err, SIRA_EDENIED,
		    "policy: %s may not send %s to %s (no rule allows it)",
		    fname, kname, tname);
	if (!c->allow)
		return sira_err_set(err, SIRA_EDENIED,
		    "policy: %s may not send %s to %s (denied by %s %u)", fname,
		    kname, tname, p->builtin ? "built-in rule" : "policy line",
		    c->rule);
	return 0;
}

void
policy_destroy(struct policy **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free(*pp);
	*pp = NULL;
}

const char *
policy_kind_name(int kind)
{
	if (kind < 0 || kind > SIRA_KIND_MAX || kind_names[kind] == NULL)
		return "unknown";
	return kind_names[kind];
}

int
policy_kind_parse(const char *name, int *kind)
{
	for (int k = SIRA_KIND_REFERRAL; k <= SIRA_KIND_MAX; k++) {
		if (kind_names[k] != NULL && strcmp(name, kind_names[k]) == 0) {
			*kind = k;
			return 0;
		}
	}
	return -SIRA_EINVAL;
}
