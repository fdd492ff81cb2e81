/*
 * crl.c: the CA's revocation list: verification, freshness, rollback and
 * lookup.
 *
 * Entries are kept sorted by serial (checked on decode), so a lookup is a
 * binary search. A certificate counts as revoked when either its serial or
 * its cert_id is listed: serials are what operators type, cert_ids are what
 * a re-encoded or re-signed certificate cannot change.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cert.pb-c.h"
#include "clock.h"
#include "crl.h"
#include "signed.h"
#include "wire.h"

#define CRL_VERSION 1

static const char *const reason_names[SIRA_REVOKE_MAX + 1] = {
	[SIRA_REVOKE_UNSPECIFIED] = "unspecified",
	[SIRA_REVOKE_KEY_COMPROMISE] = "key_compromise",
	[SIRA_REVOKE_SUPERSEDED] = "superseded",
	[SIRA_REVOKE_OFFBOARDED] = "offboarded",
	[SIRA_REVOKE_CA_COMPROMISE] = "ca_compromise",
};

const char *
crl_reason_name(int reason)
{
	if (reason < 0 || reason > SIRA_REVOKE_MAX)
		return "unspecified";
	return reason_names[reason];
}

int
crl_reason_parse(const char *name, int *reason)
{
	for (int r = 0; r <= SIRA_REVOKE_MAX; r++) {
		if (strcmp(name, reason_names[r]) == 0) {
			*reason = r;
			return 0;
		}
	}
	return -SIRA_EINVAL;
}

static int
copy_entries(const Sira__V1__CrlTBS *t, struct crl *c, struct sira_err *err)
{
	if (t->n_entries > SIRA_CRL_ENTRIES_MAX)
		return sira_err_set(
		    err, SIRA_ETOOBIG, "revocation list has too many entries");
	if (t->n_entries == 0)
		return 0;
	if ((c->entries = calloc(t->n_entries, sizeof(*c->entries))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n_entries; i++) {
		const Sira__V1__RevokedEntry *e = t->entries[i];
		if (e->serial == 0 || e->cert_id.len != SIRA_HASH_LEN ||
		    (int)e->reason < 0 || (int)e->reason > SIRA_REVOKE_MAX ||
		    (i > 0 && e->serial <= t->entries[i - 1]->serial))
			return sira_err_set(err, SIRA_EMALFORMED,
			    "revocation list entry %zu is invalid or out of order",
			    i);
		c->entries[i].serial = e->serial;
		memcpy(c->entries[i].cert_id, e->cert_id.data, SIRA_HASH_LEN);
		c->entries[i].revoked_at = e->revoked_at;
		c->entries[i].reason = (int)e->reason;
		c->entries[i].compromised_since = e->compromised_since;
		c->n = i + 1;
	}
	return 0;
}

static int
tbs_to_crl(const Sira__V1__CrlTBS *t, const struct cert *ca, struct crl *c,
    struct sira_err *err)
{
	if (t->version != CRL_VERSION)
		return sira_err_set(err, SIRA_EVERSION,
		    "unsupported revocation list version %" PRIu32, t->version);
	if (t->issuer_id.len != SIRA_HASH_LEN ||
	    (ca != NULL &&
		memcmp(t->issuer_id.data, ca->id, SIRA_HASH_LEN) != 0))
		return sira_err_set(err, SIRA_EUNKNOWN_CA,
		    "revocation list names another issuer");
	if (t->sequence == 0 || t->this_update > t->next_update)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "revocation list sequence or dates are invalid");
	memcpy(c->issuer_id, t->issuer_id.data, SIRA_HASH_LEN);
	c->sequence = t->sequence;
	c->this_update = t->this_update;
	c->next_update = t->next_update;
	return copy_entries(t, c, err);
}

/* Parse the tbs of so; ca (optional) must be its issuer. */
static int
decode(const struct signed_obj *so, const struct cert *ca,
    const uint8_t *untrusted, size_t len, struct crl **out,
    struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	struct crl *c = NULL;
	struct digest_part part;
	int rc;

	if ((rc = wire_unpack(&sira__v1__crl_tbs__descriptor, so->tbs,
		 so->tbs_len, SIRA_CRL_MAX, &m, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->raw = malloc(len)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(c->raw, untrusted, len);
	c->raw_len = len;
	part.p = so->tbs;
	part.len = so->tbs_len;
	digest_lp(c->id, SIRA_DH_CRL_ID, &part, 1);
	if ((rc = tbs_to_crl((Sira__V1__CrlTBS *)m, ca, c, err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	crl_destroy(&c);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int
crl_verify(const struct cert *ca, const uint8_t *untrusted, size_t len,
    struct crl **out, struct sira_err *err)
{
	struct signed_obj so;
	int rc;

	*out = NULL;
	if ((ca->key_usage & SIRA_KU_CRL_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s may not sign revocation lists", ca->agency_id);
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_CRL_MAX,
		 SIRA_CRL_MAX, "revocation list", &so, err)) != 0)
		return rc;
	if ((rc = sign_verify(
		 ca->sign_pk, SIRA_DS_CRL, so.tbs, so.tbs_len, so.sig)) != 0)
		rc = sira_err_set(err, -rc,
		    "revocation list signature does not verify against CA %s",
		    ca->agency_id);
	else
		rc = decode(&so, ca, untrusted, len, out, err);
	signed_clear(&so);
	return rc;
}

int
crl_unsafe_decode(const uint8_t *untrusted, size_t len, struct crl **out,
    struct sira_err *err)
{
	struct signed_obj so;
	int rc;

	*out = NULL;
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_CRL_MAX,
		 SIRA_CRL_MAX, "revocation list", &so, err)) != 0)
		return rc;
	rc = decode(&so, NULL, untrusted, len, out, err);
	signed_clear(&so);
	return rc;
}

int
crl_check_fresh(const struct crl *crl, uint64_t now, struct sira_err *err)
{
	char when[SIRA_TIME_STR_LEN];

	if (now + SIRA_CLOCK_SKEW < crl->this_update) {
		clock_format(crl->this_update, when);
		return sira_err_set(err, SIRA_ENOTYETVALID,
		    "revocation list is dated in the future (%s)", when);
	}
	if (now > crl->next_update) {
		clock_format(crl->next_update, when);
		return sira_err_set(err, SIRA_ECRL_STALE,
		    "revocation list %" PRIu64
		    " is stale since %s; get a fresh one from the CA",
		    crl->sequence, when);
	}
	return 0;
}

int
crl_may_replace(const struct crl *current, const struct crl *candidate,
    struct sira_err *err)
{
	if (current == NULL || candidate->sequence > current->sequence)
		return 0;
	if (candidate->sequence == current->sequence &&
	    memcmp(candidate->id, current->id, SIRA_HASH_LEN) == 0)
		return 0;
	return sira_err_set(err, SIRA_ECRL_ROLLBACK,
	    "revocation list %" PRIu64
	    " cannot replace the newer list %" PRIu64,
	    candidate->sequence, current->sequence);
}

const struct crl_entry *
crl_find(const struct crl *crl, const struct cert *c)
{
	size_t lo = 0, hi = crl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (crl->entries[mid].serial < c->serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < crl->n && crl->entries[lo].serial == c->serial)
		return &crl->entries[lo];
	for (size_t i = 0; i < crl->n; i++)
		if (memcmp(crl->entries[i].cert_id, c->id, SIRA_HASH_LEN) == 0)
			return &crl->entries[i];
	return NULL;
}

int
crl_encode_tbs(const struct crl_fields *f, uint8_t **tbs, size_t *len,
    struct sira_err *err)
{
	const uint8_t *issuer_id = f->issuer_id;
	uint64_t sequence = f->sequence, this_update = f->this_update;
	uint64_t next_update = f->next_update;
	const struct crl_entry *entries = f->entries;
	size_t n = f->n;
	Sira__V1__CrlTBS t = SIRA__V1__CRL_TBS__INIT;
	Sira__V1__RevokedEntry *ev = NULL, **evp = NULL;
	int rc;

	if (n > SIRA_CRL_ENTRIES_MAX || sequence == 0 ||
	    this_update > next_update)
		return sira_err_set(
		    err, SIRA_EINVAL, "invalid revocation list parameters");
	if (n > 0 &&
	    ((ev = calloc(n, sizeof(*ev))) == NULL ||
		(evp = calloc(n, sizeof(*evp))) == NULL)) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && entries[i].serial <= entries[i - 1].serial) {
			rc = sira_err_set(
			    err, SIRA_EINVAL, "revocation entries not sorted");
			goto out;
		}
		sira__v1__revoked_entry__init(&ev[i]);
		ev[i].serial = entries[i].serial;
		ev[i].cert_id.data = (uint8_t *)(uintptr_t)entries[i].cert_id;
		ev[i].cert_id.len = SIRA_HASH_LEN;
		ev[i].revoked_at = entries[i].revoked_at;
		ev[i].reason = (Sira__V1__RevocationReason)entries[i].reason;
		ev[i].compromised_since = entries[i].compromised_since;
		evp[i] = &ev[i];
	}
	t.version = CRL_VERSION;
	t.issuer_id.data = (uint8_t *)(uintptr_t)issuer_id;
	t.issuer_id.len = SIRA_HASH_LEN;
	t.sequence = sequence;
	t.this_update = this_update;
	t.next_update = next_update;
	t.n_entries = n;
	t.entries = evp;
	rc = wire_pack(&t.base, tbs, len, err);
out:
	free(evp);
	free(ev);
	return rc;
}

int
crl_encode(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err)
{
	return signed_join(tbs, tbs_len, sig, out, outlen, err);
}

void
crl_destroy(struct crl **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free((*cp)->entries);
	free((*cp)->raw);
	free(*cp);
	*cp = NULL;
}
