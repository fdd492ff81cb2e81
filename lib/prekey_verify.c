/*
 * prekey_verify.c: verifying signed prekeys, following the certificate
 * pattern: split, check the owner's signature (purpose "sira-v1/prekey")
 * over the exact bytes, parse strictly, check every field, and that the
 * prekey lies within the owner's certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.pb-c.h"
#include "clock.h"
#include "prekey_verify.h"
#include "sigcache.h"
#include "signed.h"
#include "wire.h"

#define PREKEY_VERSION 1

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
	/* The same tolerance as for certificates: a laptop a few minutes
	 * fast must still be able to publish and be sealed to. */
	if (at + SIRA_CLOCK_SKEW < t->not_before || at > t->not_after)
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
	return prekey_verify_cached(
	    NULL, owner, bytes_of(untrusted, len), at, out, err);
}

int
prekey_verify_cached(struct sigcache *sc, const struct cert *owner,
    struct bytes raw, uint64_t at, struct prekey **out, struct sira_err *err)
{
	const uint8_t *untrusted = raw.p;
	size_t len = raw.len;
	struct signed_obj so;
	ProtobufCMessage *m = NULL;
	int rc;

	*out = NULL;
	if ((owner->key_usage & SIRA_KU_PREKEY_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s may not sign prekeys", owner->agency_id);
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_PREKEY_MAX,
		 SIRA_PREKEY_MAX, "prekey", &so, err)) != 0)
		return rc;
	if ((rc = sigcache_verify(sc, owner->sign_pk, SIRA_DS_PREKEY, so.tbs,
		 so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(err, -rc, "prekey signature of %s is invalid",
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
