/*
 * fuzz_envelope.c: libFuzzer harness for opening envelopes
 * (agents/crypto/seal.c seal_open, with lib/envelope.c,
 * agents/crypto/manifest.c, lib/wire.c behind it). Arbitrary bytes are opened
 * by the recipient of the envelope known-answer vectors
 * (tests/unit/envelope_kat.h): its prekey secret, the KAT sender's certificate
 * and an in-memory store are fixed, so the frozen envelope in the seed corpus
 * opens, and mutants reach every check up to the first authenticator they
 * break. Must never crash, leak or accept anything but a fully verified
 * envelope.
 *
 * Seeds: tests/fuzz/corpus/fuzz_envelope/, raw bytes of
 * tests/vectors/envelope_sealed.hex:
 *   grep -v '^#' tests/vectors/envelope_sealed.hex | xxd -r -p \
 *       >tests/fuzz/corpus/fuzz_envelope/envelope_sealed
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../unit/envelope_kat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built once; a fuzzer process is short-lived and never frees it. */
static struct kat *
fixture(void)
{
	static struct kat k;
	static int ready;

	if (ready)
		return &k;
	if (kat_rng_install() != 0 || sodium_init() < 0 ||
	    kat_build(&k, NULL) != 0)
		abort();
	ready = 1;
	return &k;
}

static int
cb_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	const struct kat *k = ctx;

	if (memcmp(cert_id, k->rcp->id, SIRA_HASH_LEN) != 0 ||
	    memcmp(key_id, k->prekey_sec->key_id, SIRA_PREKEY_ID_LEN) != 0)
		return -SIRA_EPREKEY;
	*out = k->prekey_sec;
	return 0;
}

static int
cb_sender(void *ctx, const char *agency_id, const uint8_t *cert_id, uint64_t at,
    const struct cert **out, struct sira_err *err)
{
	const struct kat *k = ctx;

	(void)at;
	if (strcmp(agency_id, k->snd->agency_id) != 0 ||
	    memcmp(cert_id, k->snd->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(
		    err, SIRA_EUNKNOWN_AGENCY, "unknown sender");
	*out = k->snd;
	return 0;
}

static int
cb_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	(void)ctx;
	(void)cert_id;
	(void)msgid;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kat *k = fixture();
	struct open_keys keys = { k->rcp, k, cb_prekey, cb_sender, cb_seen,
		NULL };
	struct opened *o = NULL;
	struct sira_err err = { 0 };
	int rc;

	rc = seal_open(data, size, &keys, KAT_OPEN_AT, &o, &err);
	if (rc == 0) {
		/* Accepted: it must be whole, and from the KAT sender to me. */
		if (o == NULL || o->manifest == NULL || o->env == NULL ||
		    strcmp(o->manifest->sender_agency_id, KAT_SENDER_ID) != 0 ||
		    memcmp(o->env->hash, k->meta.envelope_hash,
			SIRA_HASH_LEN) != 0)
			abort();
		seal_opened_destroy(&o);
	} else if (o != NULL || rc > 0 || -rc > SIRA_CODE_MAX ||
	    err.code != -rc) {
		abort();
	}
	return 0;
}
