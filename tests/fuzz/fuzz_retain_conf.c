/*
 * fuzz_retain_conf.c: libFuzzer harness for the retention lines of
 * agent.conf (agents/store/conf_retention.c retain_conf_parse). Arbitrary
 * text must never crash; what it accepts is within bounds (at most
 * RETAIN_DAYS_MAX days for every kind); what it refuses leaves no rule at
 * all (every kind 0: nothing erased on a rule not understood) and names
 * a line.
 *
 * Seeds: tests/fuzz/corpus/fuzz_retain_conf/, an agent.conf with every
 * kind of retention line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retain_conf c;
	struct sira_err err;

	sira_err_clear(&err);
	if (retain_conf_parse((const char *)data, size, &c, &err) != 0) {
		for (int k = 0; k < RETAIN_KINDS; k++)
			if (c.days[k] != 0)
				abort();
		if (strstr(err.msg, "line ") == NULL)
			abort();
		return 0;
	}
	for (int k = 0; k < RETAIN_KINDS; k++)
		if (c.days[k] > RETAIN_DAYS_MAX)
			abort();
	return 0;
}
