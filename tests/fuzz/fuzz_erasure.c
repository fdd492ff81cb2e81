/*
 * fuzz_erasure.c: libFuzzer harness for the validator of erasure orders and
 * erasure receipts (agents/workflow/erase_order.c erase_msg_parse and
 * erase_receipt_open). The first byte picks the kind (even: ERASURE, odd:
 * ERASURE_RECEIPT), the rest is the payload. Whatever it accepts must be
 * in bounds (a 16-byte order id, a valid case reference, a known action or
 * outcome) and re-encode to the same bytes; must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_order(const Sira__V1__ErasureOrder *o)
{
	if (o->order_id.len != 16 || !workflow_ref_valid(o->case_ref) ||
	    o->action < 1 || o->action > 3 || strlen(o->reason) > 256)
		abort();
}

static void
check_receipt(const Sira__V1__ErasureReceipt *r)
{
	Sira__V1__ErasureReceiptTBS *b = NULL;

	if (erase_receipt_open(r, &b, NULL) != 0 || b->order_id.len != 16 ||
	    b->outcome < 1 || b->outcome > 6 || r->sig.len != 64)
		abort();
	sira__v1__erasure_receipt_tbs__free_unpacked(b, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Sira__V1__Payload *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int kind;

	if (size < 1)
		return 0;
	kind = data[0] % 2 == 0 ?
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE :
	    SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT;
	if (erase_msg_parse(kind, data + 1, size - 1, &p, NULL) != 0)
		return 0;
	if (p->body_case == SIRA__V1__PAYLOAD__BODY_ERASURE_ORDER)
		check_order(p->erasure_order);
	else if (p->body_case == SIRA__V1__PAYLOAD__BODY_ERASURE_RECEIPT)
		check_receipt(p->erasure_receipt);
	else
		abort();
	if (wire_pack(&p->base, &buf, &len, NULL) != 0 || len != size - 1 ||
	    memcmp(buf, data + 1, len) != 0)
		abort();
	free(buf);
	sira__v1__payload__free_unpacked(p, NULL);
	return 0;
}
