/*
 * fuzz_envelope_header.c: libFuzzer harness for the broker's envelope
 * parser (lib/envelope.c envelope_decode, with lib/wire.c): the strict
 * decode and validation of Envelope and EnvelopeHeader that runs on every
 * Submit before anything is stored. No keys are involved. Must never
 * crash or leak, and what it accepts must satisfy the documented rules.
 *
 * Seeds: tests/fuzz/corpus/fuzz_envelope_header/, raw bytes of
 * tests/vectors/envelope_sealed.hex:
 *   grep -v '^#' tests/vectors/envelope_sealed.hex | xxd -r -p \
 *       >tests/fuzz/corpus/fuzz_envelope_header/envelope_sealed
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.h"
#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What envelope_decode promises about an envelope it accepts. */
static void
check(const struct envelope *e)
{
	const Sira__V1__EnvelopeHeader *h = e->h;
	uint8_t hash[32];

	if (h->version != SIRA_ENVELOPE_VERSION ||
	    h->message_id.len != SIRA_MSGID_LEN || h->n_recipients < 1 ||
	    h->n_recipients > SIRA_RECIPIENTS_MAX ||
	    h->n_attachments > SIRA_ATTACHMENTS_MAX ||
	    !envelope_bucket_valid((uint32_t)h->size_bucket) ||
	    e->body_ct_len != (size_t)h->size_bucket + 16 ||
	    h->expires_at < h->created_at ||
	    h->expires_at - h->created_at > SIRA_TTL_MAX ||
	    strcmp(envelope_kind_name((int)h->kind), "unknown") == 0 ||
	    !cert_agency_id_valid(h->sender_agency_id))
		abort();
	for (size_t i = 0; i < h->n_recipients; i++) {
		const Sira__V1__RecipientWrap *w = h->recipients[i];
		if (w->cert_id.len != SIRA_HASH_LEN ||
		    w->prekey_id.len != SIRA_PREKEY_ID_LEN ||
		    w->sealed.len == 0 || w->sealed.len > SIRA_WRAP_MAX ||
		    envelope_recipient(e, w->agency_id) != w)
			abort();
	}
	for (size_t i = 0; i < h->n_attachments; i++)
		if (h->attachments[i]->index != i ||
		    h->attachments[i]->blob_id.len != SIRA_HASH_LEN)
			abort();
	envelope_hash_of(
	    e->header, e->header_len, e->body_ct, e->body_ct_len, hash);
	if (memcmp(hash, e->hash, sizeof(hash)) != 0)
		abort();
	(void)envelope_check_time(e, h->created_at, NULL);
	(void)envelope_check_time(e, UINT64_MAX, NULL);
	(void)envelope_recipient(e, "ml.nobody");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct envelope *e = NULL;
	struct sira_err err = { 0 };
	int rc;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	rc = envelope_decode(data, size, &e, &err);
	if (rc == 0) {
		if (e == NULL)
			abort();
		check(e);
		envelope_destroy(&e);
	} else if (e != NULL || rc > 0 || -rc > SIRA_CODE_MAX ||
	    err.code != -rc) {
		abort();
	}
	return 0;
}
