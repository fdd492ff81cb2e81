/*
 * fuzz_deadline_notice.c: libFuzzer harness for what an agent does with
 * a deadline notice it receives: the strict payload decoder (lib/wire.c
 * wire_unpack) and deadline_notice_check (agents/workflow/deadlines.c),
 * as a shelter and as the committee. Arbitrary bytes must never crash or
 * leak; a notice the committee accepts never names a case, one a
 * shelter accepts always does and is addressed to it.
 *
 * Seeds: tests/fuzz/corpus/fuzz_deadline_notice/, a reminder and a
 * committee notice as escalate.c packs them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENDER "ml.police.segou"
#define NGO "ml.ngo.espoir"
#define COO "ml.coord.national"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = NULL;
	const Sira__V1__DeadlineNotice *n;
	struct sira_err err;

	if (wire_unpack(&sira__v1__payload__descriptor, data, size,
		AGENT_PAYLOAD_MAX, &m, &err) != 0)
		return 0;
	if (((Sira__V1__Payload *)m)->body_case !=
	    SIRA__V1__PAYLOAD__BODY_DEADLINE_NOTICE) {
		protobuf_c_message_free_unpacked(m, NULL);
		return 0;
	}
	n = ((Sira__V1__Payload *)m)->deadline_notice;
	if (deadline_notice_check(n,
		&(struct notice_ctx){ SENDER, COO, SIRA_ROLE_COORDINATION },
		&err) == 0 &&
	    (n->stage != 2 || n->case_ref[0] != '\0' || n->item_id.len != 0 ||
		n->blinded_ref.len != DEADLINE_BLIND_LEN))
		abort();
	if (deadline_notice_check(n,
		&(struct notice_ctx){ SENDER, NGO, SIRA_ROLE_NGO },
		&err) == 0 &&
	    (n->stage != 1 || strcmp(n->owing, NGO) != 0 ||
		!workflow_ref_valid(n->case_ref) || n->blinded_ref.len != 0))
		abort();
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
