/*
 * fuzz_cert.c: libFuzzer harness for certificate and revocation-list
 * parsing and verification (lib/cert.c, lib/crl.c, lib/signed.c,
 * lib/wire.c). The same bytes go through every entry point: the unsafe
 * decoders (full field parsing, no signature), and the verifiers against a
 * fixed test CA. Seeds: tests/fuzz/corpus/fuzz_cert/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.h"
#include "crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The test CA: built once, never freed (a fuzzer process is short-lived). */
static struct cert *
test_ca(void)
{
	static struct cert *ca;
	uint8_t seed[32], pk[32], sk[64], sig[64], *tbs, *raw;
	size_t tbslen, rawlen;
	struct cert c = { 0 };

	if (ca != NULL)
		return ca;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x5a, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	strcpy(c.agency_id, "ml.fuzz.ca");
	strcpy(c.display_name, "Fuzz CA");
	c.is_ca = true;
	c.role = SIRA_ROLE_COORDINATION;
	c.key_usage = SIRA_KU_CA;
	c.not_before = 1;
	c.not_after = UINT32_MAX;
	memcpy(c.sign_pk, pk, 32);
	if (cert_encode_tbs(&c, &tbs, &tbslen, NULL) != 0 ||
	    sign_detached(sk, SIRA_DS_CERT, tbs, tbslen, sig) != 0 ||
	    cert_encode(tbs, tbslen, sig, &raw, &rawlen, NULL) != 0 ||
	    cert_load_ca(raw, rawlen, 1000, &ca, NULL) != 0)
		abort();
	free(tbs);
	free(raw);
	return ca;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert *ca = test_ca(), *c = NULL;
	struct crl *l = NULL;
	struct sira_err err;

	if (cert_unsafe_decode(data, size, &c, &err) == 0) {
		/* A parsed certificate must have passed the field rules. */
		if (!cert_agency_id_valid(c->agency_id) ||
		    !cert_display_name_valid(c->display_name))
			abort();
		cert_destroy(&c);
	}
	if (cert_verify(ca, NULL, bytes_of(data, size), 1000, &c, &err) == 0)
		cert_destroy(&c);
	if (cert_load_ca(data, size, 1000, &c, &err) == 0)
		cert_destroy(&c);
	if (crl_unsafe_decode(data, size, &l, &err) == 0) {
		(void)crl_find(l, ca);
		crl_destroy(&l);
	}
	if (crl_verify(ca, data, size, &l, &err) == 0)
		crl_destroy(&l);
	return 0;
}
