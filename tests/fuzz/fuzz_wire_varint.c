/*
 * fuzz_wire_varint.c: libFuzzer harness for lib/wire.c's bounded varint
 * and field reader (wire_varint, wire_field_bytes), which the broker runs
 * over its stored spool entries to find an envelope's header without
 * unpacking the whole entry.
 *
 * The input is read as a run of varints until one is refused: each must
 * take 1 to SIRA_VARINT_MAX bytes, stay inside the input, and read the same
 * value back from its minimal re-encoding; a refusal must leave the
 * pointer where it was. Then the whole input is searched for fields 1 to 4
 * as a protobuf message: a found field must lie inside the input. Each
 * input is copied to a buffer of exactly its size, so ASan sees any read
 * past it. Seeds: tests/fuzz/corpus/fuzz_wire_varint/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
encode(uint64_t v, uint8_t out[static SIRA_VARINT_MAX])
{
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			out[n] |= 0x80;
		n++;
	} while (v != 0);
	return n;
}

static void
check_varints(const uint8_t *buf, size_t size)
{
	const uint8_t *p = buf, *end = buf + size, *before, *q;
	uint8_t again[SIRA_VARINT_MAX];
	uint64_t v, w;
	size_t n;

	while (p < end) {
		before = p;
		if (wire_varint(&p, end, &v) != 0) {
			if (p != before)
				abort();
			return;
		}
		if (p <= before || p > end ||
		    (size_t)(p - before) > SIRA_VARINT_MAX)
			abort();
		n = encode(v, again);
		q = again;
		if (n > (size_t)(p - before) ||
		    wire_varint(&q, again + n, &w) != 0 || w != v ||
		    q != again + n)
			abort();
	}
}

static void
check_fields(const uint8_t *buf, size_t size)
{
	const uint8_t *out;
	size_t out_len;
	int rc;

	for (uint64_t field = 1; field <= 4; field++) {
		out = NULL;
		out_len = 0;
		rc = wire_field_bytes(buf, size, field, &out, &out_len);
		if (rc == 0) {
			if (out < buf || out > buf + size ||
			    out_len > (size_t)(buf + size - out))
				abort();
		} else if (rc != -SIRA_EMALFORMED && rc != -SIRA_ENOTFOUND)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(buf, data, size);
	check_varints(buf, size);
	check_fields(buf, size);
	free(buf);
	return 0;
}
