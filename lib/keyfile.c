/*
 * keyfile.c: secret key files and in-memory key material.
 *
 * Owns crypto_pwhash (Argon2id), crypto_secretbox and crypto_scalarmult_base.
 * Decrypted secrets only ever live in sodium_malloc'd memory: the KeySecrets
 * message is unpacked by wire_unpack_secret (sodium_malloc'd, canonical),
 * and every ordinary heap buffer that held secret bytes is wiped before it
 * is freed. The KDF parameters read from a file are bounded on both sides:
 * too weak is refused, and too costly is refused (a crafted file must not
 * make the agent allocate gigabytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "cert.pb-c.h"
#include "fileio.h"
#include "keyfile.h"
#include "sign.h"
#include "wire.h"

struct keyfile {
	Sira__V1__KeyFile *m;
	char path[256];
};

struct sira_keys *
keys_new(void)
{
	struct sira_keys *k = sodium_malloc(sizeof(*k));

	if (k != NULL)
		sodium_memzero(k, sizeof(*k));
	return k;
}

void
keys_destroy(struct sira_keys **kp)
{
	if (kp == NULL || *kp == NULL)
		return;
	sodium_free(*kp); /* fills the region with zeros first */
	*kp = NULL;
}

int
keys_derive_transport_pk(struct sira_keys *k, struct sira_err *err)
{
	if (crypto_scalarmult_base(k->transport_pk, k->transport_sk) != 0)
		return sira_err_set(err, SIRA_ECRYPTO, "invalid transport key");
	return 0;
}

int
keyfile_kdf_parse(const char *name, enum keyfile_kdf *kdf)
{
	if (strcmp(name, "interactive") == 0)
		*kdf = KEYFILE_KDF_INTERACTIVE;
	else if (strcmp(name, "moderate") == 0)
		*kdf = KEYFILE_KDF_MODERATE;
	else if (strcmp(name, "sensitive") == 0)
		*kdf = KEYFILE_KDF_SENSITIVE;
	else
		return -SIRA_EINVAL;
	return 0;
}

static void
kdf_limits(enum keyfile_kdf kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case KEYFILE_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case KEYFILE_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	case KEYFILE_KDF_MODERATE:
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

/* Derive the secretbox key for pass under p into key (sodium_malloc'd). */
static int
derive(const char *pass, size_t passlen, const Sira__V1__KdfParams *p,
    uint8_t key[static crypto_secretbox_KEYBYTES], struct sira_err *err)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, passlen,
		p->salt.data, p->opslimit, (size_t)p->memlimit,
		crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sira_err_set(err, SIRA_ENOMEM,
		    "not enough memory to derive the key from the passphrase");
	return 0;
}

/* Pack the secrets of k into sodium_malloc'd *out. */
static int
pack_secrets(
    const struct sira_keys *k, uint8_t **out, size_t *len, struct sira_err *err)
{
	Sira__V1__KeySecrets s = SIRA__V1__KEY_SECRETS__INIT;

	s.sign_sk.data = (uint8_t *)(uintptr_t)k->sign_sk;
	s.sign_sk.len = SIRA_SIGN_SK_LEN;
	if (k->has_transport) {
		s.transport_sk.data = (uint8_t *)(uintptr_t)k->transport_sk;
		s.transport_sk.len = SIRA_CURVE_KEY_LEN;
	}
	*len = protobuf_c_message_get_packed_size(&s.base);
	if ((*out = sodium_malloc(*len)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	(void)protobuf_c_message_pack(&s.base, *out);
	return 0;
}

/* The secrets sealed under a passphrase, as the key file keeps them. */
struct sealed_secrets {
	Sira__V1__KdfParams *kdf; /* its limits set; the salt is added */
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	uint8_t *ct; /* fresh malloc'd: plain's length + MAC */
};

/* Encrypt plain into a fresh ciphertext under pass, into *out. */
static int
seal_secrets(struct bytes plain, struct bytes pass, struct sealed_secrets *out,
    struct sira_err *err)
{
	const uint8_t *nonce = out->nonce;
	Sira__V1__KdfParams *kdf = out->kdf;
	size_t len = plain.len;
	uint8_t **ct = &out->ct;
	uint8_t *key;
	int rc;

	if ((key = sodium_malloc(crypto_secretbox_KEYBYTES)) == NULL ||
	    (*ct = malloc(len + crypto_secretbox_MACBYTES)) == NULL) {
		sodium_free(key);
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	}
	randombytes_buf(out->salt, crypto_pwhash_SALTBYTES);
	randombytes_buf(out->nonce, crypto_secretbox_NONCEBYTES);
	kdf->salt.data = out->salt;
	kdf->salt.len = crypto_pwhash_SALTBYTES;
	if ((rc = derive((const char *)pass.p, pass.len, kdf, key, err)) == 0 &&
	    crypto_secretbox_easy(*ct, plain.p, len, nonce, key) != 0)
		rc = sira_err_set(err, SIRA_ECRYPTO, "encryption failed");
	sodium_free(key);
	if (rc != 0) {
		free(*ct);
		*ct = NULL;
	}
	return rc;
}

int
keyfile_write(const char *path, const struct sira_keys *k, const char *pass,
    size_t passlen, enum keyfile_kdf kdf_level, struct sira_err *err)
{
	Sira__V1__KeyFile f = SIRA__V1__KEY_FILE__INIT;
	Sira__V1__KdfParams kdf = SIRA__V1__KDF_PARAMS__INIT;
	struct sealed_secrets ss = { .kdf = &kdf };
	uint8_t *plain = NULL, *body = NULL, *file = NULL;
	size_t plainlen = 0, bodylen = 0, filelen = 0;
	int rc;

	if (pass != NULL && passlen < SIRA_PASSPHRASE_MIN)
		return sira_err_set(err, SIRA_EINVAL,
		    "passphrase too short: use at least %d characters",
		    SIRA_PASSPHRASE_MIN);
	if ((rc = pack_secrets(k, &plain, &plainlen, err)) != 0)
		return rc;
	f.version = 1;
	f.agency_id = (char *)(uintptr_t)k->agency_id;
	f.sign_pk.data = (uint8_t *)(uintptr_t)k->sign_pk;
	f.sign_pk.len = SIRA_SIGN_PK_LEN;
	if (pass != NULL) {
		kdf_limits(kdf_level, &kdf.opslimit, &kdf.memlimit);
		if ((rc = seal_secrets(bytes_of(plain, plainlen),
			 bytes_of(pass, passlen), &ss, err)) != 0)
			goto out;
		f.kdf = &kdf;
		f.nonce.data = ss.nonce;
		f.nonce.len = sizeof(ss.nonce);
		f.secret.data = ss.ct;
		f.secret.len = plainlen + crypto_secretbox_MACBYTES;
	} else {
		f.secret.data = plain;
		f.secret.len = plainlen;
	}
	if ((rc = wire_pack(&f.base, &body, &bodylen, err)) != 0)
		goto out;
	if ((file = wire_add_magic(SIRA_MAGIC_KEY, body, bodylen, &filelen)) ==
	    NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	rc = fileio_write(path, file, filelen, 0600, true, err);
out:
	if (body != NULL)
		sodium_memzero(body, bodylen);
	if (file != NULL)
		sodium_memzero(file, filelen);
	free(body);
	free(file);
	free(ss.ct);
	sodium_free(plain);
	return rc;
}

static int
check_kdf(const Sira__V1__KeyFile *m, struct sira_err *err)
{
	const Sira__V1__KdfParams *p = m->kdf;

	if (p == NULL)
		return m->nonce.len == 0 ?
		    0 :
		    sira_err_set(err, SIRA_EMALFORMED,
			"key file has a nonce but no KDF");
	if (p->salt.len != crypto_pwhash_SALTBYTES ||
	    m->nonce.len != crypto_secretbox_NONCEBYTES ||
	    m->secret.len < crypto_secretbox_MACBYTES)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "key file encryption fields are malformed");
	if (p->opslimit < crypto_pwhash_OPSLIMIT_INTERACTIVE ||
	    p->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    p->memlimit < crypto_pwhash_MEMLIMIT_INTERACTIVE ||
	    p->memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "key file KDF parameters are out of range");
	return 0;
}

static int
parse_file(const char *path, const uint8_t *buf, size_t len, struct keyfile *kf,
    struct sira_err *err)
{
	const uint8_t *body;
	size_t bodylen;
	ProtobufCMessage *m;
	int rc;

	if ((rc = wire_strip_magic(bytes_of(buf, len), SIRA_MAGIC_KEY, "key",
		 &body, &bodylen, err)) != 0)
		return rc;
	if ((rc = wire_unpack(&sira__v1__key_file__descriptor, body, bodylen,
		 SIRA_KEYFILE_MAX, &m, err)) != 0)
		return sira_err_set(err, -rc, "%s: not a valid key file", path);
	kf->m = (Sira__V1__KeyFile *)m;
	if (kf->m->version != 1 || kf->m->sign_pk.len != SIRA_SIGN_PK_LEN ||
	    !cert_agency_id_valid(kf->m->agency_id))
		return sira_err_set(
		    err, SIRA_EMALFORMED, "%s: not a valid key file", path);
	return check_kdf(kf->m, err);
}

int
keyfile_open(const char *path, struct keyfile **out, struct sira_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = fileio_read_secret(
		 path, SIRA_KEYFILE_MAX, &buf, &len, err)) != 0)
		return rc;
	rc = keyfile_parse(buf, len, path, out, err);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int
keyfile_parse(const uint8_t *untrusted, size_t len, const char *name,
    struct keyfile **out, struct sira_err *err)
{
	struct keyfile *kf;
	int rc;

	*out = NULL;
	if ((kf = calloc(1, sizeof(*kf))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	(void)snprintf(kf->path, sizeof(kf->path), "%s", name);
	if ((rc = parse_file(name, untrusted, len, kf, err)) != 0) {
		keyfile_close(&kf);
		return rc;
	}
	*out = kf;
	return 0;
}

bool
keyfile_encrypted(const struct keyfile *kf)
{
	return kf->m->kdf != NULL;
}

const char *
keyfile_agency_id(const struct keyfile *kf)
{
	return kf->m->agency_id;
}

/* Unpack KeySecrets from plain into k and check it against the file. */
static int
load_secrets(const struct keyfile *kf, const uint8_t *plain, size_t len,
    struct sira_keys *k, struct sira_err *err)
{
	Sira__V1__KeySecrets *s = NULL;
	int rc = 0;

	if (wire_unpack_secret(&sira__v1__key_secrets__descriptor, plain, len,
		SIRA_KEYFILE_MAX, (ProtobufCMessage **)&s, NULL) != 0 ||
	    s->sign_sk.len != SIRA_SIGN_SK_LEN ||
	    (s->transport_sk.len != 0 &&
		s->transport_sk.len != SIRA_CURVE_KEY_LEN)) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "%s: key file secrets are malformed", kf->path);
		goto out;
	}
	memcpy(k->sign_sk, s->sign_sk.data, SIRA_SIGN_SK_LEN);
	/* Both the seed and the public half must match the file's key. */
	sign_sk_to_pk(k->sign_sk, k->sign_pk);
	if (sodium_memcmp(k->sign_pk, kf->m->sign_pk.data, SIRA_SIGN_PK_LEN) !=
		0 ||
	    sodium_memcmp(k->sign_sk + SIRA_SIGN_SK_LEN - SIRA_SIGN_PK_LEN,
		kf->m->sign_pk.data, SIRA_SIGN_PK_LEN) != 0) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "%s: secret key does not match its public key", kf->path);
		goto out;
	}
	k->has_transport = s->transport_sk.len != 0;
	if (k->has_transport) {
		memcpy(
		    k->transport_sk, s->transport_sk.data, SIRA_CURVE_KEY_LEN);
		rc = keys_derive_transport_pk(k, err);
	}
	(void)snprintf(
	    k->agency_id, sizeof(k->agency_id), "%s", kf->m->agency_id);
out:
	wire_free_secret((ProtobufCMessage *)s);
	return rc;
}

int
keyfile_unlock(const struct keyfile *kf, const char *pass, size_t passlen,
    struct sira_keys **out, struct sira_err *err)
{
	const Sira__V1__KeyFile *m = kf->m;
	uint8_t *key = NULL, *plain = NULL;
	size_t plainlen;
	struct sira_keys *k;
	int rc;

	*out = NULL;
	if ((k = keys_new()) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (m->kdf == NULL) {
		rc = load_secrets(kf, m->secret.data, m->secret.len, k, err);
		goto out;
	}
	if (pass == NULL) {
		rc = sira_err_set(err, SIRA_EPASSPHRASE,
		    "%s is protected by a passphrase; none was given",
		    kf->path);
		goto out;
	}
	plainlen = m->secret.len - crypto_secretbox_MACBYTES;
	if ((key = sodium_malloc(crypto_secretbox_KEYBYTES)) == NULL ||
	    (plain = sodium_malloc(plainlen > 0 ? plainlen : 1)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = derive(pass, passlen, m->kdf, key, err)) != 0)
		goto out;
	if (crypto_secretbox_open_easy(plain, m->secret.data, m->secret.len,
		m->nonce.data, key) != 0) {
		rc = sira_err_set(
		    err, SIRA_EPASSPHRASE, "wrong passphrase for %s", kf->path);
		goto out;
	}
	rc = load_secrets(kf, plain, plainlen, k, err);
out:
	sodium_free(plain);
	sodium_free(key);
	if (rc == 0)
		*out = k;
	else
		keys_destroy(&k);
	return rc;
}

void
keyfile_close(struct keyfile **kfp)
{
	struct keyfile *kf;

	if (kfp == NULL || (kf = *kfp) == NULL)
		return;
	if (kf->m != NULL) {
		/* A clear key file holds secrets in this ordinary heap copy. */
		if (kf->m->secret.data != NULL)
			sodium_memzero(kf->m->secret.data, kf->m->secret.len);
		protobuf_c_message_free_unpacked(&kf->m->base, NULL);
	}
	free(kf);
	*kfp = NULL;
}
