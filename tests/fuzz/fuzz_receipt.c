/*
 * fuzz_receipt.c: libFuzzer harness for receipt verification
 * (agents/crypto/receipt.c receipt_verify, with lib/signed.c and lib/wire.c).
 * Arbitrary bytes are checked against the recipient certificate of the
 * envelope known-answer vectors (tests/unit/envelope_kat.h) and what the
 * KAT sender recorded when it sealed, so the frozen receipt in the seed
 * corpus verifies. Must never crash, leak or accept a receipt that is not
 * the recipient's, about that message.
 *
 * Seeds: tests/fuzz/corpus/fuzz_receipt/, raw bytes of
 * tests/vectors/envelope_receipt.hex (and of the prekey, another signed
 * object of the same outer shape):
 *   grep -v '^#' tests/vectors/envelope_receipt.hex | xxd -r -p \
 *       >tests/fuzz/corpus/fuzz_receipt/envelope_receipt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../unit/envelope_kat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kat k;
static const char *rcpt_ids[1] = { KAT_RECIPIENT_ID };
static uint8_t rcpt_cert_ids[1][SIRA_HASH_LEN];
static struct receipt_expect expect;

/* Built once; a fuzzer process is short-lived and never frees it. */
static void
fixture(void)
{
	static int ready;

	if (ready)
		return;
	if (kat_rng_install() != 0 || sodium_init() < 0 ||
	    kat_build(&k, NULL) != 0)
		abort();
	memcpy(rcpt_cert_ids[0], k.rcp->id, SIRA_HASH_LEN);
	memcpy(expect.message_id, k.meta.message_id, SIRA_MSGID_LEN);
	memcpy(expect.envelope_hash, k.meta.envelope_hash, SIRA_HASH_LEN);
	memcpy(expect.manifest_hash, k.meta.manifest_hash, SIRA_HASH_LEN);
	memcpy(expect.manifest_sig_sha256, k.meta.manifest_sig_sha256,
	    SIRA_HASH_LEN);
	memcpy(expect.sender_cert_id, k.snd->id, SIRA_HASH_LEN);
	expect.created_at = k.meta.created_at;
	expect.recipient_ids = rcpt_ids;
	expect.recipient_cert_ids =
	    (const uint8_t(*)[SIRA_HASH_LEN])rcpt_cert_ids;
	expect.n_recipients = 1;
	ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct receipt_info info;
	struct sira_err err = { 0 };
	int rc;

	fixture();
	rc = receipt_verify(data, size, k.rcp, &expect, &info, &err);
	if (rc == 0) {
		if (strcmp(info.recipient, KAT_RECIPIENT_ID) != 0 ||
		    (info.kind != RECEIPT_ACCEPTED &&
			info.kind != RECEIPT_REJECTED))
			abort();
	} else if (rc > 0 || -rc > SIRA_CODE_MAX || err.code != -rc) {
		abort();
	}
	return 0;
}
