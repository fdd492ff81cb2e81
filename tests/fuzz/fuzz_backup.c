/*
 * fuzz_backup.c: libFuzzer harness for backup archives (lib/backup_*.c):
 * the header parser over the first bytes, and the record parser over the
 * rest, fed in pieces whose sizes the input chooses (the first byte), so
 * a record head split anywhere is exercised. Decryption is left out: it
 * runs Argon2id, far too slow per input, and what it yields is
 * authenticated before the parser sees it. The sink checks the parser's
 * promises: every name is safe, no file gets more bytes than announced.
 * Seeds: tests/fuzz/corpus/fuzz_backup/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	uint64_t left;
	int open;
};

static int
on_begin(
    void *ctx, int type, const char *name, uint64_t size, struct sira_err *err)
{
	struct state *s = ctx;

	(void)err;
	if (s->open || !backup_name_ok(name, strlen(name)) ||
	    (type == BACKUP_REC_DIR && size != 0) || size > BACKUP_FILE_MAX)
		abort();
	s->left = size;
	s->open = 1;
	return 0;
}

static int
on_data(void *ctx, const uint8_t *p, size_t n, struct sira_err *err)
{
	struct state *s = ctx;

	(void)p;
	(void)err;
	if (!s->open || n == 0 || n > s->left)
		abort();
	s->left -= n;
	return 0;
}

static int
on_end(void *ctx, struct sira_err *err)
{
	struct state *s = ctx;

	(void)err;
	if (!s->open || s->left != 0)
		abort();
	s->open = 0;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { 0, 0 };
	struct backup_sink sink = { &st, on_begin, on_data, on_end };
	struct backup_header h;
	struct backup_parser *p;
	size_t step, off = 1;
	int rc = 0;

	if (size < 1)
		return 0;
	(void)backup_header_parse(data, size, BACKUP_AGENT, &h, NULL);
	step = (size_t)data[0] + 1;
	if ((p = backup_parser_new(&sink)) == NULL)
		return 0;
	while (rc == 0 && off < size) {
		size_t n = size - off < step ? size - off : step;
		rc = backup_parser_feed(p, data + off, n, NULL);
		off += n;
	}
	if (rc == 0)
		(void)backup_parser_finish(p, NULL);
	backup_parser_free(&p);
	return 0;
}
