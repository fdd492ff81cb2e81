/*
 * manifest.h: the sender's signed statement inside every envelope.
 *
 * The manifest binds who sent what to whom and when: message id, sender,
 * times, the full recipient list, kind and content type, case reference,
 * the payload's hash and length and every attachment's hashes and lengths.
 * It is signed (purpose "sira-v1/manifest") with the sender's certified
 * key and travels inside the ciphertext; the header commits to it.
 */
#ifndef SIRA_MANIFEST_H
#define SIRA_MANIFEST_H

#include <stdint.h>

#include "cert.h"
#include "envelope.h"
#include "err.h"

#define SIRA_MANIFEST_MAX (64u << 10)
#define SIRA_CONTENT_TYPE_MAX 64
#define SIRA_CASE_REF_MAX 64
#define SIRA_FILENAME_MAX 255
#define SIRA_MEDIA_TYPE_MAX 127

/*
 * Pack tbs into a fresh *tbs_bytes (caller frees) and sign it with sk into
 * sig. Returns 0, -SIRA_ENOMEM or -SIRA_ECRYPTO.
 */
int manifest_sign(const Sira__V1__ManifestTBS *tbs,
    const uint8_t sk[static SIRA_SIGN_SK_LEN], uint8_t **tbs_bytes,
    size_t *tbs_len, uint8_t sig[static SIRA_SIG_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Verify the SignedManifest bytes untrusted[0..len) against the sender's
 * verified certificate: ENVELOPE_SIGN usage, signature over the exact tbs,
 * strict parse, field shapes (ids, text, counts). *out is the parsed tbs
 * (caller frees with protobuf_c_message_free_unpacked). Returns 0,
 * -SIRA_EKEY_USAGE, -SIRA_EBADSIG, -SIRA_EMALFORMED or -SIRA_ENOMEM.
 */
int manifest_verify(const uint8_t *untrusted, size_t len,
    const struct cert *sender, Sira__V1__ManifestTBS **out,
    uint8_t sig_sha256[static SIRA_HASH_LEN], struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Does the verified manifest m agree with the envelope header it came in,
 * and does it name me (my_agency_id) among its recipients? Every shared
 * field must be equal and the recipient list must equal the header's wrap
 * list, entry for entry. Returns 0, -SIRA_ENOT_RECIPIENT (I am not in the
 * signed list: re-addressed) or -SIRA_EAUTH (any other difference).
 */
int manifest_match(const Sira__V1__ManifestTBS *m, const struct envelope *e,
    const char *my_agency_id, struct sira_err *err);

/* Is name a safe attachment file name (UTF-8, no '/', no controls)? */
int manifest_filename_valid(const char *name);

#endif
