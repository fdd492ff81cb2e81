/*
 * peers.c: verified certificates and prekeys of other agencies (see
 * store.h). Certificates are stored by cert id and never deleted: old
 * evidence must stay verifiable after an agency renews its keys.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store/store.h"
#include "wire.h"
#include "i18n.h"

int
peers_crl_fresh(const struct agent *a, uint64_t now, struct sira_err *err)
{
	if (a->crl == NULL)
		return sira_err_set(err, SIRA_ECRL_STALE,
		    _("no revocation list yet: waiting for the directory"));
	/* A list a little past its next update is still acted on: the
	 * committee's weekly signing may be a day late on a bad week. */
	if (now <= a->crl->next_update + AGENT_CRL_GRACE &&
	    now > a->crl->next_update)
		return 0;
	return crl_check_fresh(a->crl, now, err);
}

static int
take_certs(struct agent *a, struct vault_txn *t,
    const Sira__V1__DirectoryResponse *d, uint64_t now, size_t *refused,
    struct sira_err *err)
{
	for (size_t i = 0; i < d->n_certs; i++) {
		struct cert *c = NULL;
		uint8_t *raw;
		size_t len;
		int rc;
		if (wire_pack(&d->certs[i]->base, &raw, &len, NULL) != 0)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
		if (cert_verify_with(
			&(struct cert_trust){ a->ca, a->crl, a->sigs },
			bytes_of(raw, len), now, &c, NULL) != 0) {
			(*refused)++;
			free(raw);
			continue;
		}
		rc = vault_put(
		    t, VT_CERTS, bytes_of(c->id, SIRA_HASH_LEN), raw, len, err);
		free(raw);
		cert_destroy(&c);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
take_prekeys(struct agent *a, struct vault_txn *t,
    const Sira__V1__DirectoryResponse *d, uint64_t now, size_t *refused,
    struct sira_err *err)
{
	for (size_t i = 0; i < d->n_prekeys; i++) {
		Sira__V1__PrekeyTBS *tbs = NULL;
		struct cert *owner = NULL;
		struct prekey *pk = NULL;
		uint8_t *raw;
		size_t len;
		int rc = 0;
		if (wire_pack(&d->prekeys[i]->base, &raw, &len, NULL) != 0)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
		/* Which owner: read the claim, then verify under that cert. */
		if (wire_unpack(&sira__v1__prekey_tbs__descriptor,
			d->prekeys[i]->tbs.data, d->prekeys[i]->tbs.len,
			SIRA_PREKEY_MAX, (ProtobufCMessage **)&tbs,
			NULL) != 0 ||
		    tbs->owner_cert_id.len != SIRA_HASH_LEN ||
		    peers_cert(a, t,
			&(struct peer_ref){
			    tbs->agency_id, tbs->owner_cert_id.data, now },
			now, &owner, NULL) != 0 ||
		    prekey_verify_cached(a->sigs, owner, bytes_of(raw, len),
			now, &pk, NULL) != 0)
			(*refused)++;
		else
			rc = vault_put(t, VT_PEERKEYS,
			    bytes_of(pk->agency_id, strlen(pk->agency_id)), raw,
			    len, err);
		if (tbs != NULL)
			sira__v1__prekey_tbs__free_unpacked(tbs, NULL);
		prekey_destroy(&pk);
		cert_destroy(&owner);
		free(raw);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
peers_take(struct agent *a, struct vault_txn *t,
    const Sira__V1__DirectoryResponse *d, uint64_t now, size_t *refused,
    struct sira_err *err)
{
	uint8_t *raw;
	size_t len;
	int rc;

	*refused = 0;
	if (d->crl != NULL && wire_pack(&d->crl->base, &raw, &len, NULL) == 0) {
		/* A bad or older list is refused; ours stays. */
		if (agent_save_crl(a, raw, len, now, NULL) != 0)
			(*refused)++;
		free(raw);
	}
	if ((rc = take_certs(a, t, d, now, refused, err)) != 0)
		return rc;
	return take_prekeys(a, t, d, now, refused, err);
}

int
peers_cert(struct agent *a, struct vault_txn *t, const struct peer_ref *ref,
    uint64_t now, struct cert **out, struct sira_err *err)
{
	const char *agency = ref->agency;
	uint8_t *raw;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = peers_crl_fresh(a, now, err)) != 0)
		return rc;
	if (vault_get(t, VT_CERTS, bytes_of(ref->cert_id, SIRA_HASH_LEN), &raw,
		&len, NULL) != 0)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("no certificate of %s with that id"), agency);
	rc = cert_verify_with(&(struct cert_trust){ a->ca, a->crl, a->sigs },
	    bytes_of(raw, len), ref->at, out, err);
	vault_free(raw, len);
	if (rc == 0 && strcmp((*out)->agency_id, agency) != 0) {
		cert_destroy(out);
		rc = sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("certificate does not belong to %s"), agency);
	}
	return rc;
}

struct newest {
	struct agent *a;
	const char *agency;
	uint64_t now;
	struct cert *best;
};

/*
 * Could the certificate in val replace n->best? Read without checking its
 * signature, only to pass over the certificates of other agencies and the
 * older ones: verifying every certificate we hold for every message sealed
 * was most of a sending agent's time. What is kept is verified.
 */
static bool
may_be_newer(const struct newest *n, const uint8_t *val, size_t vlen)
{
	struct cert *c = NULL;
	bool may;

	if (cert_unsafe_decode(val, vlen, &c, NULL) != 0)
		return true; /* let cert_verify say why */
	may = strcmp(c->agency_id, n->agency) == 0 &&
	    (n->best == NULL || c->not_before > n->best->not_before);
	cert_destroy(&c);
	return may;
}

static int
pick_newest(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct newest *n = ctx;
	struct cert *c = NULL;

	(void)key;
	(void)klen;
	if (!may_be_newer(n, val, vlen) ||
	    cert_verify_with(
		&(struct cert_trust){ n->a->ca, n->a->crl, n->a->sigs },
		bytes_of(val, vlen), n->now, &c, NULL) != 0)
		return 0;
	if (strcmp(c->agency_id, n->agency) == 0 &&
	    (n->best == NULL || c->not_before > n->best->not_before)) {
		cert_destroy(&n->best);
		n->best = c;
	} else
		cert_destroy(&c);
	return 0;
}

void
peer_release(struct peer *p)
{
	cert_destroy(&p->cert);
	prekey_destroy(&p->prekey);
}

int
peers_current(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, struct peer *out, struct sira_err *err)
{
	struct newest n = { a, agency, now, NULL };
	uint8_t *raw;
	size_t len;
	int rc;

	out->cert = NULL;
	out->prekey = NULL;
	if ((rc = peers_crl_fresh(a, now, err)) != 0)
		return rc;
	if ((rc = vault_each(t, VT_CERTS, pick_newest, &n, err)) != 0)
		return rc;
	if (n.best == NULL)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("%s is not a known, valid agency"), agency);
	if (vault_get(t, VT_PEERKEYS, bytes_of(agency, strlen(agency)), &raw,
		&len, NULL) != 0) {
		cert_destroy(&n.best);
		return sira_err_set(err, SIRA_EPREKEY,
		    _("%s has not published an encryption key yet"), agency);
	}
	rc = prekey_verify_cached(
	    a->sigs, n.best, bytes_of(raw, len), now, &out->prekey, err);
	vault_free(raw, len);
	if (rc != 0) {
		cert_destroy(&n.best);
		return sira_err_set(err, SIRA_EPREKEY,
		    _("no valid encryption key for %s yet"), agency);
	}
	out->cert = n.best;
	return 0;
}

int
peers_role(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, enum sira_role *role, struct sira_err *err)
{
	struct newest n = { a, agency, now, NULL };
	int rc;

	if ((rc = vault_each(t, VT_CERTS, pick_newest, &n, err)) != 0)
		return rc;
	if (n.best == NULL)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("%s is not a known, valid agency (sira-agent directory "
		      "lists them)"),
		    agency);
	*role = n.best->role;
	cert_destroy(&n.best);
	return 0;
}

int
peers_sign_pk(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, uint8_t pk[SIRA_SIGN_PK_LEN], struct sira_err *err)
{
	struct newest n = { a, agency, now, NULL };
	int rc;

	if ((rc = vault_each(t, VT_CERTS, pick_newest, &n, err)) != 0)
		return rc;
	if (n.best == NULL)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("%s is not a known, valid agency"), agency);
	memcpy(pk, n.best->sign_pk, SIRA_SIGN_PK_LEN);
	cert_destroy(&n.best);
	return 0;
}
