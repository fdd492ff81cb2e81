/*
 * fuzz_deadline_conf.c: libFuzzer harness for the deadline lines of
 * agent.conf (agents/store/conf_deadlines.c deadline_conf_parse).
 * Arbitrary text must never crash; what it accepts is within bounds
 * (every deadline at most DEADLINE_HOURS_MAX, escalate_hours at least 1);
 * what it refuses leaves the defaults and names a line.
 *
 * Seeds: tests/fuzz/corpus/fuzz_deadline_conf/, an agent.conf with every
 * kind of deadline line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deadline_conf c, d;
	struct sira_err err;

	sira_err_clear(&err);
	deadline_conf_defaults(&d);
	if (deadline_conf_parse((const char *)data, size, &c, &err) != 0) {
		if (memcmp(&c, &d, sizeof(c)) != 0 ||
		    strstr(err.msg, "line ") == NULL)
			abort();
		return 0;
	}
	if (c.escalate == 0 || c.escalate > DEADLINE_HOURS_MAX)
		abort();
	for (int r = 0; r <= SIRA_ROLE_MAX; r++)
		if (c.answer[r] > DEADLINE_HOURS_MAX ||
		    c.feedback[r] > DEADLINE_HOURS_MAX ||
		    c.file[r] > DEADLINE_HOURS_MAX)
			abort();
	return 0;
}
