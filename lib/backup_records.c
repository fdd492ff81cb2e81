/*
 * backup_records.c: the records inside a backup archive (backup.h), and
 * their strict push parser. A record is type(1) || name length(be16) ||
 * name || size(be64) || size bytes; DIR and END have size 0, END has an
 * empty name and is the last record. Every name is checked by
 * backup_name_ok before the sink sees it, so a restore never writes
 * outside its directory. The parser keeps at most one record head in
 * memory whatever the input.
 */
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "be64.h"

#define HEAD_FIXED 3 /* type, name length */
#define HEAD_MAX (HEAD_FIXED + BACKUP_NAME_MAX + 8)

enum pstate { P_HEAD, P_DATA, P_DONE };

struct backup_parser {
	struct backup_sink s;
	enum pstate state;
	uint8_t head[HEAD_MAX + 1];
	size_t have, need; /* head bytes held, and needed */
	uint64_t left;     /* data bytes of the current file still to come */
};

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool
backup_name_ok(const char *name, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > BACKUP_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '/') {
			if (!name_char(name[i]))
				return false;
			continue;
		}
		/* a component ends at i */
		if (i == start || (i - start == 1 && name[start] == '.') ||
		    (i - start == 2 && name[start] == '.' &&
			name[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

size_t
backup_rec_head(uint8_t *out, int type, const char *name, uint64_t size)
{
	size_t n = strlen(name);

	out[0] = (uint8_t)type;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	memcpy(out + HEAD_FIXED, name, n);
	be64_put(out + HEAD_FIXED + n, size);
	return HEAD_FIXED + n + 8;
}

struct backup_parser *
backup_parser_new(const struct backup_sink *s)
{
	struct backup_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->s = *s;
	p->state = P_HEAD;
	p->need = HEAD_FIXED;
	return p;
}

void
backup_parser_free(struct backup_parser **pp)
{
	free(*pp);
	*pp = NULL;
}

/* The whole head is in p->head: check it and start the record. */
static int
head_done(struct backup_parser *p, struct sira_err *err)
{
	int type = p->head[0];
	size_t nlen = ((size_t)p->head[1] << 8) | p->head[2];
	uint64_t size = be64_get(p->head + HEAD_FIXED + nlen);
	char name[BACKUP_NAME_MAX + 1];
	int rc;

	if (type == BACKUP_REC_END) {
		if (nlen != 0 || size != 0)
			return sira_err_set(
			    err, SIRA_EMALFORMED, "backup: bad end record");
		p->state = P_DONE;
		return 0;
	}
	memcpy(name, p->head + HEAD_FIXED, nlen);
	name[nlen] = '\0';
	if (!backup_name_ok(name, nlen))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "backup: a record has an unsafe name");
	if (type == BACKUP_REC_DIR ? size != 0 : size > BACKUP_FILE_MAX)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "backup: bad record size");
	if ((rc = p->s.begin(p->s.ctx, type, name, size, err)) != 0)
		return rc;
	p->have = 0;
	p->need = HEAD_FIXED;
	if (size == 0) {
		p->state = P_HEAD;
		return p->s.end(p->s.ctx, err);
	}
	p->left = size;
	p->state = P_DATA;
	return 0;
}

/* Take head bytes from buf; *used says how many. */
static int
take_head(struct backup_parser *p, const uint8_t *buf, size_t len, size_t *used,
    struct sira_err *err)
{
	size_t n = p->need - p->have;

	if (n > len)
		n = len;
	memcpy(p->head + p->have, buf, n);
	p->have += n;
	*used = n;
	if (p->have < p->need)
		return 0;
	if (p->need == HEAD_FIXED) {
		int type = p->head[0];
		size_t nlen = ((size_t)p->head[1] << 8) | p->head[2];
		if (type != BACKUP_REC_DIR && type != BACKUP_REC_FILE &&
		    type != BACKUP_REC_END)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "backup: unknown record type %d", type);
		if (nlen > BACKUP_NAME_MAX)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "backup: a record name is too long");
		p->need = HEAD_FIXED + nlen + 8;
		return 0;
	}
	return head_done(p, err);
}

static int
take_data(struct backup_parser *p, const uint8_t *buf, size_t len, size_t *used,
    struct sira_err *err)
{
	size_t n = p->left < len ? (size_t)p->left : len;
	int rc;

	*used = n;
	if ((rc = p->s.data(p->s.ctx, buf, n, err)) != 0)
		return rc;
	p->left -= n;
	if (p->left > 0)
		return 0;
	p->state = P_HEAD;
	return p->s.end(p->s.ctx, err);
}

int
backup_parser_feed(struct backup_parser *p, const uint8_t *buf, size_t len,
    struct sira_err *err)
{
	size_t off = 0, used;
	int rc;

	while (off < len) {
		if (p->state == P_DONE)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "backup: bytes after the end record");
		rc = p->state == P_HEAD ?
		    take_head(p, buf + off, len - off, &used, err) :
		    take_data(p, buf + off, len - off, &used, err);
		if (rc != 0)
			return rc;
		off += used;
	}
	return 0;
}

int
backup_parser_finish(struct backup_parser *p, struct sira_err *err)
{
	if (p->state != P_DONE)
		return sira_err_set(err, SIRA_ETRUNCATED,
		    "backup: the archive ends before its last record");
	return 0;
}
