/*
 * enrol.c: the agency's side of enrolment: making its keys on its own
 * machine and the signed request the committee certifies (lib/enrol.h;
 * docs/PROTOCOL.md, "Enrolment"). The only caller of crypto_box_easy on
 * the agent side: the proof of possession of the transport key is a box
 * from that key to the X25519 form of the CA's key. Every request made
 * here is parsed back with the CA's own parser before it is returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "enrol.h"
#include "signed.h"

int
enrol_keys_new(
    const char *agency_id, struct sira_keys **out, struct sira_err *err)
{
	struct sira_keys *k;

	*out = NULL;
	if (!cert_agency_id_valid(agency_id))
		return sira_err_set(err, SIRA_EINVAL,
		    "invalid agency id (lower-case letters, digits, '.', '-', '_'; 3 to 64)");
	if ((k = keys_new()) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	(void)snprintf(k->agency_id, sizeof(k->agency_id), "%s", agency_id);
	sign_keygen(k->sign_pk, k->sign_sk);
	if (crypto_box_keypair(k->transport_pk, k->transport_sk) != 0) {
		keys_destroy(&k);
		return sira_err_set(err, SIRA_ECRYPTO, "key generation failed");
	}
	k->has_transport = true;
	*out = k;
	return 0;
}

/* The proof of possession of keys' transport secret, into r. */
static int
make_pop(struct enrol_request *r, const struct sira_keys *keys,
    const struct cert *ca, struct sira_err *err)
{
	uint8_t ca_curve[32], m[SIRA_HASH_LEN];

	if (sign_pk_to_curve(ca->sign_pk, ca_curve) != 0)
		return sira_err_set(err, SIRA_ECRYPTO,
		    "the CA's key has no X25519 form; is this a Sira CA?");
	enrol_pop_digest(r, m);
	randombytes_buf(r->pop_nonce, sizeof(r->pop_nonce));
	if (crypto_box_easy(r->pop, m, sizeof(m), r->pop_nonce, ca_curve,
		keys->transport_sk) != 0)
		return sira_err_set(
		    err, SIRA_ECRYPTO, "the proof of possession failed");
	return 0;
}

int
enrol_request_make(const struct enrol_ask *ask, const struct sira_keys *keys,
    uint64_t now, uint8_t **out, size_t *outlen, struct sira_err *err)
{
	struct enrol_request r, *back = NULL;
	uint8_t *tbs = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	if (!keys->has_transport)
		return sira_err_set(
		    err, SIRA_EKEY_USAGE, "the key file has no transport key");
	if (strlen(ask->agency_id) >= sizeof(r.agency_id) ||
	    strlen(ask->display_name) >= sizeof(r.display_name))
		return sira_err_set(err, SIRA_EINVAL,
		    "agency id or name too long (64 and 128 bytes at most)");
	(void)snprintf(r.agency_id, sizeof(r.agency_id), "%s", ask->agency_id);
	(void)snprintf(
	    r.display_name, sizeof(r.display_name), "%s", ask->display_name);
	r.role = ask->role;
	memcpy(r.sign_pk, keys->sign_pk, SIRA_SIGN_PK_LEN);
	memcpy(r.transport_pk, keys->transport_pk, SIRA_CURVE_KEY_LEN);
	r.created_at = now;
	randombytes_buf(r.nonce, sizeof(r.nonce));
	memcpy(r.ca_id, ask->ca->id, SIRA_HASH_LEN);
	if ((rc = make_pop(&r, keys, ask->ca, err)) != 0 ||
	    (rc = enrol_encode_tbs(&r, &tbs, &tbslen, err)) != 0 ||
	    (rc = sign_detached(
		 keys->sign_sk, SIRA_DS_ENROL, tbs, tbslen, sig)) != 0 ||
	    (rc = signed_join(tbs, tbslen, sig, out, outlen, err)) != 0)
		goto out;
	/* What we hand out must pass the committee's parser. */
	if ((rc = enrol_parse(*out, *outlen, &back, err)) != 0) {
		free(*out);
		*out = NULL;
	}
out:
	enrol_destroy(&back);
	free(tbs);
	return rc;
}
