/*
 * prekey.c: generating and signing the agency's own prekeys. The only
 * caller of crypto_box_keypair on the agent side (prekeys are X25519 keys
 * for crypto_box_seal). Every prekey made here is checked with the same
 * verifier everyone else uses (lib/prekey_verify.c) before it is returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.pb-c.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "wire.h"
#include "i18n.h"

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
prekey_generate(const struct prekey_owner *po, uint64_t now, uint64_t lifetime,
    struct prekey **pub, struct prekey_secret **sec, struct sira_err *err)
{
	const struct cert *owner = po->cert;
	struct prekey p = { 0 };
	struct prekey_secret *s;
	uint8_t *raw = NULL;
	size_t rawlen;
	int rc;

	*pub = NULL;
	*sec = NULL;
	if ((owner->key_usage & SIRA_KU_PREKEY_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s may not sign prekeys"), owner->agency_id);
	if (now >= owner->not_after || lifetime == 0)
		return sira_err_set(err, SIRA_EEXPIRED,
		    _("certificate of %s has ended; no prekey can outlive it"),
		    owner->agency_id);
	if ((s = sodium_malloc(sizeof(*s))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (crypto_box_keypair(s->pk, s->sk) != 0) {
		sodium_free(s);
		return sira_err_set(
		    err, SIRA_ECRYPTO, _("key generation failed"));
	}
	randombytes_buf(s->key_id, sizeof(s->key_id));
	memcpy(p.agency_id, owner->agency_id, sizeof(p.agency_id));
	memcpy(p.owner_cert_id, owner->id, SIRA_HASH_LEN);
	memcpy(p.key_id, s->key_id, SIRA_PREKEY_ID_LEN);
	memcpy(p.pk, s->pk, SIRA_CURVE_KEY_LEN);
	p.not_before = now;
	p.not_after = owner->not_after - now < lifetime ? owner->not_after :
							  now + lifetime;
	if ((rc = encode_signed(&p, po->keys, &raw, &rawlen, err)) == 0)
		rc = prekey_verify(owner, raw, rawlen, now, pub, err);
	free(raw);
	if (rc != 0)
		sodium_free(s);
	else
		*sec = s;
	return rc;
}

void
prekey_secret_destroy(struct prekey_secret **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	sodium_free(*sp);
	*sp = NULL;
}
