/*
 * pseudonym.c: the keyed pseudonyms of statistical reports (crypto.h,
 * docs/STATS.md). The only file that makes or uses the pseudonym key.
 * A case reference such as "MRN-2026-0042" is easy to guess, so an
 * unkeyed hash of it could be reversed by trying them all: the key is what
 * stops the broker or an outsider from doing that.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"

#define LABEL_PERSON "sira-stats-person-v1"
#define LABEL_KEY_ID "sira-stats-key-id-v1"

void
pseudonym_key_new(uint8_t key[static PSEUDONYM_KEY_LEN])
{
	randombytes_buf(key, PSEUDONYM_KEY_LEN);
}

void
pseudonym_of(const uint8_t key[static PSEUDONYM_KEY_LEN], const char *case_ref,
    uint8_t out[static PSEUDONYM_LEN])
{
	crypto_generichash_state st;

	/* The label's NUL separates it from the reference. */
	(void)crypto_generichash_init(
	    &st, key, PSEUDONYM_KEY_LEN, PSEUDONYM_LEN);
	(void)crypto_generichash_update(
	    &st, (const uint8_t *)LABEL_PERSON, sizeof(LABEL_PERSON));
	(void)crypto_generichash_update(
	    &st, (const uint8_t *)case_ref, strlen(case_ref));
	(void)crypto_generichash_final(&st, out, PSEUDONYM_LEN);
	sodium_memzero(&st, sizeof(st));
}

void
pseudonym_key_id(const uint8_t key[static PSEUDONYM_KEY_LEN],
    uint8_t out[static PSEUDONYM_KEY_ID_LEN])
{
	(void)crypto_generichash(out, PSEUDONYM_KEY_ID_LEN,
	    (const uint8_t *)LABEL_KEY_ID, sizeof(LABEL_KEY_ID), key,
	    PSEUDONYM_KEY_LEN);
}
