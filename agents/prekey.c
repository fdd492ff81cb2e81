/*
 * prekey.c: generating, signing and verifying prekeys.
 *
 * The only caller of crypto_box_keypair on the agent side (prekeys are
 * X25519 keys for crypto_box_seal). Verification follows the certificate
 * pattern: split, check the owner's signature over the exact bytes, parse
 * strictly, check every field, and that the prekey lies within the owner's
 * certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.pb-c.h"
#include "prekey.h"
#include "signed.h"
#include "wire.h"

#define PREKEY_VERSION 1

static int
encode_signed(const struct prekey *p, const struct sira_keys *owner_keys,
    uint8_t **out, size_t *outlen, struct sira_err *err)
{
	Sira__V1__PrekeyTBS t = SIRA__V1__PREKEY_TBS__INIT;
	uint8_t *tbs = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen;
	int rc;

	t.version = PREKEY_VERSION;
	t.agency_id = (char *)(uintptr_t)p->agency_id;
	t.owner_cert_id.data = (uint8_t *)(uintptr_t)p->owner_cert_id;
	t.owner_cert_id.len = SIRA_HASH_LEN;
	t.key_id.data = (uint8_t *)(uintptr_t)p->key_id;
	t.key_id.len = SIRA_PREKEY_ID_LEN;
	t.x25519_pk.data = (uint8_t *)(uintptr_t)p->pk;
	t.x25519_pk.len = SIRA_CURVE_KEY_LEN;
	t.not_before = p->not_before;
	t.not_after = p->not_after;
	if ((rc = wire_pack(&t.base, &tbs, &tbslen, err)) == 0 &&
	    (rc = sign_detached(
		 owner_keys->sign_sk, SIRA_DS_PREKEY, tbs, tbslen, sig)) == 0)
		rc = signed_join(tbs, tbslen, sig, out, outlen, err);
	free(tbs);
	return rc;
}

int
prekey_generate(const struct cert *owner, const struct sira_keys *owner_keys,
    uint64_t now, uint64_t lifetime, struct prekey **pub,
    struct prekey_secret **sec, struct sira_err *err)
{
	struct prekey p = { 0 };
	struct prekey_secret *s;
	uint8_t *raw = NULL;
	size_t rawlen;
	int rc;

	*pub = NULL;
	*sec = NULL;
	if ((owner->key_usage & SIRA_KU_PREKEY_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s may not sign prekeys", owner->agency_id);
	if (now >= owner->not_after || lifetime == 0)
		return sira_err_set(err, SIRA_EEXPIRED,
		    "certificate of %s has ended; no prekey can outlive it",
		    owner->agency_id);
	if ((s = sodium_malloc(sizeof(*s))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (crypto_box_keypair(s->pk, s->sk) != 0) {
		sodium_free(s);
		return sira_err_set(err, SIRA_ECRYPTO, "key generation failed");
	}
	randombytes_buf(s->key_id, sizeof(s->key_id));
	memcpy(p.agency_id, owner->agency_id, sizeof(p.agency_id));
	memcpy(p.owner_cert_id, owner->id, SIRA_HASH_LEN);
	memcpy(p.key_id, s->key_id, SIRA_PREKEY_ID_LEN);
	memcpy(p.pk, s->pk, SIRA_CURVE_KEY_LEN);
	p.not_before = now;
	p.not_after = owner->not_after - now < lifetime ? owner->not_after :
							  now + lifetime;
	if ((rc = encode_signed(&p, owner_keys, &raw, &rawlen, err)) == 0)
		rc = prekey_verify(owner, raw, rawlen, now, pub, err);
	free(raw);
	if (rc != 0)
		sodium_free(s);
	else
		*sec = s;
	return rc;
}

static int
check_fields(const Sira__V1__PrekeyTBS *t, const struct cert *owner,
    uint64_t at, struct sira_err *err)
{
	if (t->version != PREKEY_VERSION ||
	    t->key_id.len != SIRA_PREKEY_ID_LEN ||
	    t->x25519_pk.len != SIRA_CURVE_KEY_LEN ||
	    t->owner_cert_id.len != SIRA_HASH_LEN ||
	    t->not_before > t->not_after)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "prekey is malformed");
	if (strcmp(t->agency_id, owner->agency_id) != 0 ||
	    memcmp(t->owner_cert_id.data, owner->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(err, SIRA_EPREKEY,
		    "prekey does not belong to %s's certificate",
		    owner->agency_id);
	if (t->not_before < owner->not_before ||
	    t->not_after > owner->not_after)
		return sira_err_set(err, SIRA_EPREKEY,
		    "prekey of %s outlives its certificate", owner->agency_id);
	if (at < t->not_before || at > t->not_after)
		return sira_err_set(err, SIRA_EPREKEY,
		    "prekey of %s is not valid at this time", owner->agency_id);
	return 0;
}

static int
to_prekey(const Sira__V1__PrekeyTBS *t, const uint8_t *raw, size_t len,
    struct prekey **out, struct sira_err *err)
{
	struct prekey *p;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->raw = malloc(len)) == NULL) {
		free(p);
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	}
	memcpy(p->raw, raw, len);
	p->raw_len = len;
	(void)snprintf(p->agency_id, sizeof(p->agency_id), "%s", t->agency_id);
	memcpy(p->owner_cert_id, t->owner_cert_id.data, SIRA_HASH_LEN);
	memcpy(p->key_id, t->key_id.data, SIRA_PREKEY_ID_LEN);
	memcpy(p->pk, t->x25519_pk.data, SIRA_CURVE_KEY_LEN);
	p->not_before = t->not_before;
	p->not_after = t->not_after;
	*out = p;
	return 0;
}

int
prekey_verify(const struct cert *owner, const uint8_t *untrusted, size_t len,
    uint64_t at, struct prekey **out, struct sira_err *err)
{
	struct signed_obj so;
	ProtobufCMessage *m = NULL;
	int rc;

	*out = NULL;
	if ((owner->key_usage & SIRA_KU_PREKEY_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s may not sign prekeys", owner->agency_id);
	if ((rc = signed_split(untrusted, len, SIRA_PREKEY_MAX, SIRA_PREKEY_MAX,
		 "prekey", &so, err)) != 0)
		return rc;
	if ((rc = sign_verify(owner->sign_pk, SIRA_DS_PREKEY, so.tbs,
		 so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(err, rc, "prekey signature of %s is invalid",
		    owner->agency_id);
		goto out;
	}
	if ((rc = wire_unpack(&sira__v1__prekey_tbs__descriptor, so.tbs,
		 so.tbs_len, SIRA_PREKEY_MAX, &m, err)) != 0 ||
	    (rc = check_fields((Sira__V1__PrekeyTBS *)m, owner, at, err)) != 0)
		goto out;
	rc = to_prekey((Sira__V1__PrekeyTBS *)m, untrusted, len, out, err);
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	signed_clear(&so);
	return rc;
}

void
prekey_destroy(struct prekey **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free((*pp)->raw);
	free(*pp);
	*pp = NULL;
}

void
prekey_secret_destroy(struct prekey_secret **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	sodium_free(*sp);
	*sp = NULL;
}
