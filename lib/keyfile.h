/*
 * keyfile.h: an identity's secret keys, in memory and on disk.
 *
 * In memory, keys live in sodium_malloc'd pages (guarded, locked, wiped on
 * free). On disk, a key file is mode 0600 and is refused if any group or
 * other bit is set. It may be encrypted under a passphrase: Argon2id
 * (crypto_pwhash) derives a secretbox key. keyfile.c is the only file that
 * calls crypto_pwhash, crypto_secretbox and crypto_scalarmult_base.
 */
#ifndef SIRA_KEYFILE_H
#define SIRA_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "err.h"

#define SIRA_KEYFILE_MAX 4096
#define SIRA_PASSPHRASE_MIN 12

/* Argon2id cost levels (libsodium's INTERACTIVE, MODERATE, SENSITIVE). */
enum keyfile_kdf {
	KEYFILE_KDF_INTERACTIVE,
	KEYFILE_KDF_MODERATE,
	KEYFILE_KDF_SENSITIVE
};

/* The secrets of one identity; allocate with keys_new(). */
struct sira_keys {
	char agency_id[SIRA_AGENCY_ID_MAX + 1];
	uint8_t sign_pk[SIRA_SIGN_PK_LEN];
	uint8_t sign_sk[SIRA_SIGN_SK_LEN];
	bool has_transport;
	uint8_t transport_pk[SIRA_CURVE_KEY_LEN];
	uint8_t transport_sk[SIRA_CURVE_KEY_LEN];
};

/* A parsed key file, possibly still locked. */
struct keyfile;

/* A zeroed struct sira_keys in sodium_malloc memory, or NULL. */
struct sira_keys *keys_new(void);

/* Wipe and free *kp, set it to NULL; accepts NULL and *kp == NULL. */
void keys_destroy(struct sira_keys **kp);

/*
 * Set k->transport_pk from k->transport_sk. Returns 0 or -SIRA_ECRYPTO
 * (an all-zero result, which a valid key never gives).
 */
int keys_derive_transport_pk(struct sira_keys *k, struct sira_err *err);

/* Parse a KDF level name ("interactive", "moderate", "sensitive"). */
int keyfile_kdf_parse(const char *name, enum keyfile_kdf *kdf);

/*
 * Write k to path (mode 0600, never overwriting an existing file). With a
 * passphrase (at least SIRA_PASSPHRASE_MIN bytes) the secrets are encrypted
 * under Argon2id at level kdf; with pass == NULL they are stored in clear.
 * Returns 0, -SIRA_EINVAL (short passphrase), -SIRA_EEXIST, -SIRA_EIO,
 * -SIRA_ENOMEM or -SIRA_ECRYPTO.
 */
int keyfile_write(const char *path, const struct sira_keys *k, const char *pass,
    size_t passlen, enum keyfile_kdf kdf, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Open and parse the key file at path into *out (caller closes). Refuses
 * symlinks, files of other users and modes wider than 0600. Returns 0,
 * -SIRA_ENOTFOUND, -SIRA_EPERM_MODE, -SIRA_ETOOBIG, -SIRA_EMALFORMED,
 * -SIRA_EIO or -SIRA_ENOMEM.
 */
int keyfile_open(const char *path, struct keyfile **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Parse key-file bytes untrusted[0..len) (with magic) into *out; name is for
 * messages. The bytes may hold secrets: the caller wipes its copy. Returns
 * 0, -SIRA_EMALFORMED, -SIRA_ETOOBIG or -SIRA_ENOMEM.
 */
int keyfile_parse(const uint8_t *untrusted, size_t len, const char *name,
    struct keyfile **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Does the key file need a passphrase? */
bool keyfile_encrypted(const struct keyfile *kf);

/* The agency id recorded in the key file (borrowed, lives as long as kf). */
const char *keyfile_agency_id(const struct keyfile *kf);

/*
 * Decrypt (if needed) and check the secrets of kf into a fresh *out (caller
 * destroys with keys_destroy). pass is ignored for a clear key file. Returns
 * 0, -SIRA_EPASSPHRASE (missing or wrong passphrase), -SIRA_EMALFORMED
 * (secrets do not match the recorded public key), -SIRA_ENOMEM.
 */
int keyfile_unlock(const struct keyfile *kf, const char *pass, size_t passlen,
    struct sira_keys **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Wipe and free *kfp, set it to NULL; accepts NULL and *kfp == NULL. */
void keyfile_close(struct keyfile **kfp);

#endif
