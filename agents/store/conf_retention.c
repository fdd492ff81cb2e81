/*
 * conf_retention.c: the retention rules of HOME/agent.conf (docs/
 * WORKFLOWS.md, "Conservation"): "retain_days = N" for every kind of case
 * and "retain_days.KIND = N" for one, N days after the case's last
 * activity. A kind's own line wins over the general one, whatever their
 * order. A wrong line is refused with its number, and then no rule
 * applies at all: a rule that was not understood never erases anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "i18n.h"

#define KEY "retain_days"
#define KEY_LEN (sizeof(KEY) - 1)

static const char *const kind_names[RETAIN_KINDS] = { "alert", "child",
	"transferred", "declined", "closed" };

const char *
retain_kind_name(enum retain_kind k)
{
	return (unsigned)k < RETAIN_KINDS ? kind_names[k] : "?";
}

struct rx {
	struct retain_conf *c;
	unsigned specific; /* bit k: set by its own line */
	unsigned lineno;
};

static bool
ours(const char *line)
{
	return strncmp(line, KEY, KEY_LEN) == 0 &&
	    (line[KEY_LEN] == '.' || line[KEY_LEN] == ' ' ||
		line[KEY_LEN] == '=');
}

static int
bad(const struct rx *x, const char *what, struct sira_err *err)
{
	return sira_err_set(err, SIRA_EINVAL,
	    _("agent.conf line %u: %s (see docs/WORKFLOWS.md, Retention)"),
	    x->lineno, what);
}

/* The kind named at s, up to a space or '=': its index, or -1. */
static int
kind_of(const char *s, size_t *used)
{
	size_t n = strcspn(s, " =");

	for (int k = 0; k < RETAIN_KINDS; k++)
		if (strlen(kind_names[k]) == n &&
		    strncmp(s, kind_names[k], n) == 0) {
			*used = n;
			return k;
		}
	return -1;
}

static int
take(void *ctx, unsigned lineno, const char *line, struct sira_err *err)
{
	struct rx *x = ctx;
	const char *p;
	size_t used = 0;
	int kind = -1;
	uint32_t v;

	x->lineno = lineno;
	if (line == NULL)
		return bad(x, _("line too long"), err);
	if (!ours(line))
		return 0;
	p = line + KEY_LEN;
	if (*p == '.') {
		if ((kind = kind_of(p + 1, &used)) < 0)
			return bad(x,
			    _("unknown kind of case after retain_days. "
			      "(alert, child, transferred, declined, closed)"),
			    err);
		p += 1 + used;
	}
	while (*p == ' ')
		p++;
	if (*p != '=' || conf_number(p + 1, RETAIN_DAYS_MAX, &v) != 0)
		return bad(x,
		    _("expected retain_days[.KIND] = DAYS, a whole number "
		      "from 0 to 36500"),
		    err);
	if (kind >= 0) {
		x->c->days[kind] = v;
		x->specific |= 1u << kind;
		return 0;
	}
	for (int k = 0; k < RETAIN_KINDS; k++)
		if ((x->specific & (1u << k)) == 0)
			x->c->days[k] = v;
	return 0;
}

int
retain_conf_parse(
    const char *text, size_t len, struct retain_conf *c, struct sira_err *err)
{
	struct rx x = { c, 0, 0 };
	int rc;

	memset(c, 0, sizeof(*c));
	rc = conf_each_line(
	    text, len, &(struct conf_parser){ ours, take, &x }, err);
	if (rc != 0)
		memset(c, 0, sizeof(*c));
	return rc;
}

int
retain_conf_load(
    const struct home *h, struct retain_conf *c, struct sira_err *err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = conf_read(h, &buf, &len, err)) != 0)
		return rc;
	rc = retain_conf_parse((const char *)buf, len, c, err);
	free(buf);
	return rc;
}
