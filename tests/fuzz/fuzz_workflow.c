/*
 * fuzz_workflow.c: libFuzzer harness for the workflow's reading of
 * incoming payloads (agents/workflow/workflow.c workflow_apply, with the remote
 * steps of agents/workflow/cases.c). The first byte picks the message kind (its
 * units) and the sender's role (its tens), the rest is the payload; each input
 * is applied three times to one record (as the referrer, the receiver and a
 * third agency would see it), so sequences of steps on an existing record are
 * exercised too. The record is packed, unpacked and freed: must never crash,
 * leak, or leave a record that does not round-trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t msgid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 15, 16 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const who[] = { "ml.police.segou", "ml.ngo.espoir",
		"ml.justice.pole" };
	Sira__V1__CaseRecord *r, *back;
	struct wf_incoming in;
	uint8_t *buf;
	size_t len;

	if (size < 1)
		return 0;
	if ((r = cases_new("MRN-2026-0042", 1)) == NULL)
		return 0;
	memset(&in, 0, sizeof(in));
	in.kind = data[0] % 10;
	in.sender_role = (data[0] / 10) % 7;
	in.case_ref = "MRN-2026-0042";
	in.message_id = msgid;
	in.payload = data + 1;
	in.len = size - 1;
	for (int i = 0; i < 3; i++) {
		in.sender = who[(i + 1) % 3];
		in.at = 100 + (uint64_t)i;
		(void)workflow_apply(r, who[i], &in);
	}
	len = sira__v1__case_record__get_packed_size(r);
	if ((buf = malloc(len + 1)) != NULL) {
		(void)sira__v1__case_record__pack(r, buf);
		back = sira__v1__case_record__unpack(NULL, len, buf);
		if (back == NULL)
			abort(); /* a record we built must round-trip */
		sira__v1__case_record__free_unpacked(back, NULL);
		free(buf);
	}
	sira__v1__case_record__free_unpacked(r, NULL);
	return 0;
}
