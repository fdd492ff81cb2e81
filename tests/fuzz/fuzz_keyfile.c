/*
 * fuzz_keyfile.c: libFuzzer harness for key-file parsing (lib/keyfile.c).
 * Parsing only: unlocking runs Argon2id, far too slow per input, and its
 * input is then authenticated by secretbox before anything is parsed.
 * Seeds: tests/fuzz/corpus/fuzz_keyfile/.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyfile *kf = NULL;
	struct sira_keys *k = NULL;

	if (sodium_init() < 0)
		abort();
	if (keyfile_parse(data, size, "fuzz", &kf, NULL) != 0)
		return 0;
	if (!keyfile_encrypted(kf) &&
	    keyfile_unlock(kf, NULL, 0, &k, NULL) == 0)
		keys_destroy(&k);
	keyfile_close(&kf);
	return 0;
}
