/*
 * fuzz_bundle.c: libFuzzer harness for evidence bundles
 * (agents/bundle/bundle_verify.c, with every verifier it calls: lib/cert.c,
 * lib/crl.c, lib/envelope.c, agents/crypto/manifest.c, agents/crypto/receipt.c,
 * lib/merkle.c, lib/wire.c). The input is u16le(n) || the CA certificate
 * file (n bytes) || the bundle file, so the seeds can carry a real bundle
 * with the CA that signed it and the fuzzer reaches every check. Must
 * never crash or leak, and must accept only with a chain of custody and
 * refuse only with a code, a reason and the check that failed.
 *
 * Seed tests/fuzz/corpus/fuzz_bundle/police: a bundle and its CA from
 * tests/e2e/test_bundle.sh (run it with SIRA_KEEP_BUNDLE=DIR), joined as
 *   n=$(stat -c %s DIR/ca.cert)
 *   { printf "\\$(printf %o $((n % 256)))\\$(printf %o $((n / 256)))";
 *     cat DIR/ca.cert DIR/police.bundle; } >police
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_failure why;
	struct custody *c = NULL;
	struct sira_err err = { 0 };
	size_t n;
	int rc;

	if (size < 2 || sodium_init() < 0)
		return 0;
	n = (size_t)data[0] | (size_t)data[1] << 8;
	if (n > size - 2)
		return 0;
	rc = bundle_verify(bytes_of(data + 2 + n, size - 2 - n),
	    bytes_of(data + 2, n), &c, &why, &err);
	if (rc == 0) {
		if (c == NULL || c->n_msgs == 0 || why.check != BC_NONE)
			abort();
	} else if (rc > 0 || -rc > SIRA_CODE_MAX || err.code != -rc ||
	    c != NULL || why.check == BC_NONE || err.msg[0] == '\0') {
		abort();
	}
	custody_destroy(&c);
	return 0;
}
