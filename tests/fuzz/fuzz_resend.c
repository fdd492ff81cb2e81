/*
 * fuzz_resend.c: libFuzzer harness for a restored agency's resend request
 * (agents/workflow/resend.c resend_parse), the payload another agency's
 * message brings to the handler that submits messages again. Arbitrary
 * bytes must never crash; a refusal is -SIRA_EMALFORMED with a message;
 * an accepted payload is a ResendRequest that packs back to a payload the
 * parser accepts with the same number.
 *
 * Seeds: tests/fuzz/corpus/fuzz_resend/, a request after number 301.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ResendRequest q = SIRA__V1__RESEND_REQUEST__INIT;
	struct sira_err err;
	uint64_t after = 0, again = 0;
	uint8_t *buf;
	size_t len;
	int rc;

	sira_err_clear(&err);
	rc = resend_parse(data, size, &after, &err);
	if (rc != 0) {
		if (rc != -SIRA_EMALFORMED || err.msg[0] == '\0')
			abort();
		return 0;
	}
	q.after_seq = after;
	p.body_case = SIRA__V1__PAYLOAD__BODY_RESEND_REQUEST;
	p.resend_request = &q;
	if (wire_pack(&p.base, &buf, &len, NULL) != 0)
		abort();
	if (resend_parse(buf, len, &again, &err) != 0 || again != after)
		abort();
	free(buf);
	return 0;
}
