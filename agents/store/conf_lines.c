/*
 * conf_lines.c: the line reader that agent.conf's optional sections share
 * (conf_deadlines.c, conf_retention.c): each line handed to its parser
 * with its number, a NUL byte read as '?', a line longer than the buffer
 * refused when it is one of the parser's own keys, and whole numbers
 * read strictly (digits between spaces, bounded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "fileio.h"
#include "i18n.h"

#define CONF_MAX 4096 /* as home.c */
#define LINE_MAX_LEN 256

int
conf_number(const char *s, unsigned long max, uint32_t *out)
{
	unsigned long v = 0;
	size_t n = 0;

	while (*s == ' ')
		s++;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		v = v * 10 + (unsigned long)(s[n] - '0');
		if (v > max)
			return -1;
	}
	if (n == 0)
		return -1;
	for (s += n; *s == ' ' || *s == '\r'; s++)
		;
	if (*s != '\0')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
conf_each_line(const char *text, size_t len, const struct conf_parser *p,
    struct sira_err *err)
{
	char line[LINE_MAX_LEN] = { 0 };
	unsigned lineno = 0;
	size_t i = 0;
	int rc;

	while (i < len) {
		size_t n = 0;
		bool cut = false;
		lineno++;
		for (; i < len && text[i] != '\n'; i++) {
			if (n + 1 < sizeof(line))
				line[n++] = text[i] == '\0' ? '?' : text[i];
			else
				cut = true;
		}
		i++; /* the newline */
		line[n] = '\0';
		if (cut && p->ours(line))
			rc = p->take(p->ctx, lineno, NULL, err);
		else
			rc = p->take(p->ctx, lineno, line, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
conf_read(
    const struct home *h, uint8_t **buf, size_t *len, struct sira_err *err)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = home_path(h, "agent.conf", path, err)) != 0)
		return rc;
	return fileio_read(path, CONF_MAX, buf, len, err);
}
