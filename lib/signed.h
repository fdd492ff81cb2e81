/*
 * signed.h: the { bytes tbs = 1; bytes sig = 2; } wrapper that every signed
 * object of the schema shares (Certificate, Crl, Prekey, SignedManifest,
 * Receipt, SignedCheckpoint). Splitting it is the only parsing done before a
 * signature is checked; the tbs inside is parsed only after.
 */
#ifndef SIRA_SIGNED_H
#define SIRA_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "err.h"
#include "sign.h"

struct signed_obj {
	uint8_t *tbs; /* owned copy of the signed bytes */
	size_t tbs_len;
	uint8_t sig[SIRA_SIG_LEN];
};

/*
 * Split untrusted (borrowed for the call; at most max bytes, tbs at most
 * tbs_max) into out. what names the object in messages. Returns 0,
 * -SIRA_ETOOBIG, -SIRA_EMALFORMED (including a signature that is not 64 bytes)
 * or -SIRA_ENOMEM. On success release out with signed_clear().
 */
int signed_split(struct bytes untrusted, size_t max, size_t tbs_max,
    const char *what, struct signed_obj *out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Encode tbs and sig as the wrapper (fresh malloc'd, caller frees). */
int signed_join(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Free what out holds; accepts a zeroed struct. */
void signed_clear(struct signed_obj *out);

#endif
