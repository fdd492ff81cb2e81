/*
 * conf_deadlines.c: how long each step of a case may take before the
 * waiting agency's agent escalates it (docs/WORKFLOWS.md, "Deadlines"),
 * read from the deadline lines of HOME/agent.conf. The deadline depends
 * on the role of the agency that owes the step. Only these lines are
 * read here (home.c reads the others); a wrong one is refused with its
 * line number rather than guessed at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "i18n.h"

/* The keys, each "KEY = N" for every role or "KEY.ROLE = N" for one. */
enum dl_key { K_ANSWER, K_FEEDBACK, K_FILE, K_ESCALATE, K_NONE };
static const char *const key_names[] = { "answer_hours", "feedback_hours",
	"file_request_hours", "escalate_hours" };

void
deadline_conf_defaults(struct deadline_conf *c)
{
	memset(c, 0, sizeof(*c));
	for (int r = 0; r <= SIRA_ROLE_MAX; r++) {
		c->answer[r] = DEADLINE_ANSWER_HOURS;
		c->feedback[r] = DEADLINE_FEEDBACK_HOURS;
		c->file[r] = DEADLINE_FILE_HOURS;
	}
	c->escalate = DEADLINE_ESCALATE_HOURS;
}

static uint32_t *
table(struct deadline_conf *c, enum dl_key k)
{
	return k == K_ANSWER ? c->answer :
	    k == K_FEEDBACK  ? c->feedback :
			       c->file;
}

/* Which key line starts with (followed by '.', ' ' or '='), or K_NONE. */
static enum dl_key
key_of(const char *line, size_t *klen)
{
	for (int k = 0; k < K_NONE; k++) {
		size_t n = strlen(key_names[k]);
		if (strncmp(line, key_names[k], n) == 0 &&
		    (line[n] == '.' || line[n] == ' ' || line[n] == '=')) {
			*klen = n;
			return (enum dl_key)k;
		}
	}
	return K_NONE;
}

/* The role named by line[0..] up to a space or '=': into *role. */
static int
role_of(const char *s, enum sira_role *role, size_t *used)
{
	char name[32];
	size_t n = strcspn(s, " =");

	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	*used = n;
	if (cert_role_parse(name, role) != 0 || *role == SIRA_ROLE_BROKER)
		return -1;
	return 0;
}

struct line_ctx {
	struct deadline_conf *c;
	unsigned specific[K_NONE]; /* bit r: set for role r by its own line */
	unsigned lineno;
};

static int
bad(struct line_ctx *x, const char *what, struct sira_err *err)
{
	return sira_err_set(err, SIRA_EINVAL,
	    _("agent.conf line %u: %s (see docs/WORKFLOWS.md, Deadlines)"),
	    x->lineno, what);
}

static void
set_all(struct line_ctx *x, enum dl_key k, uint32_t v)
{
	for (int r = 0; r <= SIRA_ROLE_MAX; r++)
		if ((x->specific[k] & (1u << r)) == 0)
			table(x->c, k)[r] = v;
}

static int
take_line(struct line_ctx *x, const char *line, struct sira_err *err)
{
	enum sira_role role = SIRA_ROLE_UNSPECIFIED;
	size_t klen = 0, rlen = 0;
	enum dl_key k = key_of(line, &klen);
	const char *p = line + klen;
	uint32_t v;

	if (k == K_NONE)
		return 0; /* not ours */
	if (*p == '.') {
		if (k == K_ESCALATE || role_of(p + 1, &role, &rlen) != 0)
			return bad(x, _("unknown role after the key"), err);
		p += 1 + rlen;
	}
	while (*p == ' ')
		p++;
	if (*p != '=' || conf_number(p + 1, DEADLINE_HOURS_MAX, &v) != 0)
		return bad(x,
		    _("expected KEY = HOURS, a whole number from 0 to 8760"),
		    err);
	if (k == K_ESCALATE) {
		if (v == 0)
			return bad(
			    x, _("escalate_hours must be at least 1"), err);
		x->c->escalate = v;
	} else if (role == SIRA_ROLE_UNSPECIFIED)
		set_all(x, k, v);
	else {
		table(x->c, k)[role] = v;
		x->specific[k] |= 1u << role;
	}
	return 0;
}

static bool
ours(const char *line)
{
	size_t klen;

	return key_of(line, &klen) != K_NONE;
}

static int
take(void *ctx, unsigned lineno, const char *line, struct sira_err *err)
{
	struct line_ctx *x = ctx;

	x->lineno = lineno;
	if (line == NULL)
		return bad(x, _("line too long"), err);
	return take_line(x, line, err);
}

int
deadline_conf_parse(
    const char *text, size_t len, struct deadline_conf *c, struct sira_err *err)
{
	struct line_ctx x = { c, { 0 }, 0 };
	int rc;

	deadline_conf_defaults(c);
	rc = conf_each_line(
	    text, len, &(struct conf_parser){ ours, take, &x }, err);
	if (rc != 0)
		deadline_conf_defaults(c);
	return rc;
}

int
deadline_conf_load(
    const struct home *h, struct deadline_conf *c, struct sira_err *err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	deadline_conf_defaults(c);
	if ((rc = conf_read(h, &buf, &len, err)) != 0)
		return rc;
	rc = deadline_conf_parse((const char *)buf, len, c, err);
	free(buf);
	return rc;
}
