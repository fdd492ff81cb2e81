/*
 * bundle_verify.c: the offline check of an evidence bundle (see
 * bundle.h and docs/PROTOCOL.md "Evidence bundles").
 *
 * No crypto of its own: certificates and the revocation list go through
 * lib/cert.c and lib/crl.c, manifests through manifest.c, receipts through
 * receipt.c, checkpoints through lib/signed.c and lib/sign.c, inclusion
 * through lib/merkle.c. What this file adds is the binding between them
 * (the header commits to this manifest; the broker's leaf names this
 * envelope; the receipt is this recipient's, about this envelope), the
 * time at which each certificate must have been good, and the comparison
 * of checkpoints with each other. The first failure stops everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bundle/bundle.h"
#include "bundle.pb-c.h"
#include "clock.h"
#include "control.pb-c.h"
#include "crl.h"
#include "digest.h"
#include "fileio.h"
#include "merkle.h"
#include "payload.pb-c.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "text.h"
#include "wire.h"
#include "i18n.h"

#define CHECKPOINT_MAX SIRA_CHECKPOINT_MAX
#define LEAF_MAX SIRA_LEAF_MAX
#define ACCEPTED_MAX SIRA_ACCEPTED_MAX
#define ORIGIN_SUFFIX "/sira-log/v1"

/* A certificate of the bundle, parsed for lookup only (not trusted). */
struct cert_ref {
	uint8_t id[SIRA_HASH_LEN];
	char agency[SIRA_AGENCY_ID_MAX + 1];
	enum sira_role role;
	const uint8_t *raw; /* borrowed from the bundle */
	size_t len;
};

struct checkpoint_seen {
	uint64_t size;
	uint8_t root[SIRA_HASH_LEN];
};

struct vctx {
	const Sira__V1__Bundle *b;
	struct cert *ca;
	struct crl *crl;
	struct cert_ref *certs;
	size_t n_certs;
	struct checkpoint_seen cps[BUNDLE_MESSAGES_MAX];
	size_t n_cps;
	struct custody *out;
	struct bundle_failure *why;
	struct sira_err *err;
	size_t cur; /* message being checked, from 1; 0 for the bundle */
	char cur_id[2 * SIRA_MSGID_LEN + 1];
};

/* One message being checked: what the steps hand to each other. */
struct mctx {
	const Sira__V1__BundleMessage *bm;
	struct envelope *env;
	Sira__V1__ManifestTBS *m;
	uint8_t sig_sha256[SIRA_HASH_LEN];
	uint64_t proven_at; /* a third party's signed time, or 0 */
	struct custody_msg *cm;
};

/* Record the failure of check c with rc (a negative SIRA_E* code, like
 * every code here) and return it, naming the message. */
static int
fail(struct vctx *v, enum bundle_check c, int rc, const struct sira_err *in)
{
	const char *why =
	    in != NULL && in->msg[0] ? in->msg : sira_strerror(rc);

	if (v->why != NULL) {
		v->why->msg = v->cur;
		v->why->check = c;
	}
	if (v->cur == 0)
		return sira_err_set(v->err, -rc, _("bundle: %s"), why);
	return sira_err_set(
	    v->err, -rc, _("message %zu (%s): %s"), v->cur, v->cur_id, why);
}

/* Like fail(), with a message of our own. */
static int
failf(struct vctx *v, enum bundle_check c, int rc, const char *what)
{
	struct sira_err e;

	(void)sira_err_set(&e, -rc, "%s", what);
	return fail(v, c, rc, &e);
}

static bool
same(ProtobufCBinaryData a, const uint8_t *b, size_t len)
{
	return a.len == len && memcmp(a.data, b, len) == 0;
}

static void
party_copy(struct custody_party *p, const struct cert *c)
{
	(void)snprintf(p->agency, sizeof(p->agency), "%s", c->agency_id);
	(void)snprintf(p->name, sizeof(p->name), "%s", c->display_name);
}

/* ---- the bundle as a whole ---- */

static int
check_counts(struct vctx *v)
{
	const Sira__V1__Bundle *b = v->b;
	size_t clen = strlen(b->case_ref);

	if (b->version != BUNDLE_VERSION)
		return failf(v, BC_FORMAT, -SIRA_EVERSION,
		    "unknown bundle version (this tool reads version 1)");
	if (b->n_messages == 0 || b->n_messages > BUNDLE_MESSAGES_MAX ||
	    b->n_certificates > BUNDLE_CERTS_MAX)
		return failf(v, BC_FORMAT, -SIRA_EMALFORMED,
		    "the bundle holds no message, or too many messages or certificates");
	if (b->message_count != b->n_messages)
		return failf(v, BC_FORMAT, -SIRA_ETRUNCATED,
		    "the file is damaged or truncated (messages are missing from its end)");
	if (clen == 0 || clen > SIRA_CASE_REF_MAX ||
	    text_has_control(b->case_ref, clen) ||
	    (b->exported_by[0] != '\0' &&
		!cert_agency_id_valid(b->exported_by)))
		return failf(v, BC_FORMAT, -SIRA_EMALFORMED,
		    "the bundle's case reference or exporter is malformed");
	for (size_t i = 0; i < b->n_messages; i++)
		if (b->messages[i]->n_receipts > SIRA_RECIPIENTS_MAX)
			return failf(v, BC_FORMAT, -SIRA_EMALFORMED,
			    "a message carries too many receipts");
	return 0;
}

/* The CA given on the command line: self-signed, a CA. Its validity is
 * checked at each message's time (cert_verify), not at today's. */
static int
load_ca(struct vctx *v, const uint8_t *ca, size_t ca_len)
{
	struct cert *peek = NULL;
	const uint8_t *body;
	struct sira_err e;
	size_t len;
	int rc;

	if ((rc = wire_strip_magic(bytes_of(ca, ca_len), SIRA_MAGIC_CERT,
		 "certificate", &body, &len, &e)) != 0 ||
	    (rc = cert_unsafe_decode(body, len, &peek, &e)) != 0 ||
	    (rc = cert_load_ca(body, len, peek->not_before, &v->ca, &e)) != 0) {
		cert_destroy(&peek);
		return fail(v, BC_CA, rc, &e);
	}
	cert_destroy(&peek);
	party_copy(&v->out->ca, v->ca);
	cert_fingerprint(v->ca, v->out->ca_fingerprint);
	return 0;
}

static int
load_crl(struct vctx *v)
{
	struct sira_err e;
	int rc;

	if (v->b->crl.len == 0)
		return failf(v, BC_CRL, -SIRA_EMALFORMED,
		    "the bundle holds no revocation list");
	if ((rc = crl_verify(
		 v->ca, v->b->crl.data, v->b->crl.len, &v->crl, &e)) != 0)
		return fail(v, BC_CRL, rc, &e);
	v->out->crl_sequence = v->crl->sequence;
	v->out->crl_this_update = v->crl->this_update;
	return 0;
}

/* Index the certificates by id (parsed only; verified when used). */
static int
index_certs(struct vctx *v)
{
	struct cert *c = NULL;
	struct sira_err e;
	int rc;

	if (v->b->n_certificates > 0 &&
	    (v->certs = calloc(v->b->n_certificates, sizeof(*v->certs))) ==
		NULL)
		return failf(v, BC_FORMAT, -SIRA_ENOMEM, "out of memory");
	for (size_t i = 0; i < v->b->n_certificates; i++) {
		ProtobufCBinaryData raw = v->b->certificates[i];
		if ((rc = cert_unsafe_decode(raw.data, raw.len, &c, &e)) != 0)
			return fail(v, BC_CERT, rc, &e);
		memcpy(v->certs[i].id, c->id, SIRA_HASH_LEN);
		(void)snprintf(v->certs[i].agency, sizeof(v->certs[i].agency),
		    "%s", c->agency_id);
		v->certs[i].role = c->role;
		v->certs[i].raw = raw.data;
		v->certs[i].len = raw.len;
		cert_destroy(&c);
	}
	v->n_certs = v->b->n_certificates;
	v->out->n_certs = v->n_certs;
	return 0;
}

static const struct cert_ref *
find_cert(const struct vctx *v, const uint8_t *id)
{
	for (size_t i = 0; i < v->n_certs; i++)
		if (memcmp(v->certs[i].id, id, SIRA_HASH_LEN) == 0)
			return &v->certs[i];
	return NULL;
}

/*
 * Certificate r, verified against the CA for a signature made at `at`.
 * Revoked: still good if the signature is proven (by a third party's
 * signed time, proven_at) to predate the revocation, or, with no such
 * proof, if the revocation was not for a compromise. *out is fresh.
 */
static int
cert_good_at(struct vctx *v, const struct cert_ref *r, uint64_t at,
    uint64_t proven_at, struct cert **out, struct sira_err *e)
{
	const struct crl_entry *ce;
	char when[SIRA_TIME_STR_LEN];
	uint64_t cutoff;
	int rc;

	if ((rc = cert_verify(
		 v->ca, NULL, bytes_of(r->raw, r->len), at, out, e)) != 0)
		return rc;
	if ((ce = crl_find(v->crl, *out)) == NULL)
		return 0;
	cutoff = ce->compromised_since != 0 &&
		ce->compromised_since < ce->revoked_at ?
	    ce->compromised_since :
	    ce->revoked_at;
	if ((proven_at != 0 && proven_at < cutoff) ||
	    (proven_at == 0 && at < cutoff &&
		ce->reason != SIRA_REVOKE_KEY_COMPROMISE &&
		ce->reason != SIRA_REVOKE_CA_COMPROMISE))
		return 0;
	clock_format(cutoff, when);
	cert_destroy(out);
	return sira_err_set(e, SIRA_EREVOKED,
	    _("certificate of %s is revoked (%s) from %s, and this signature is not proven older"),
	    r->agency, crl_reason_name(ce->reason), when);
}

/* A party as a message names it: which certificate, and when it acted
 * (proven_at: the time the log proves it acted by, or 0). */
struct party_claim {
	const uint8_t *cert_id;
	const char *agency;
	uint64_t at, proven_at;
};

/* The certificate claimed by q, good at q->at, as a custody party. */
static int
party_at(struct vctx *v, const struct party_claim *q, struct custody_party *p,
    struct cert **keep)
{
	const struct cert_ref *r = find_cert(v, q->cert_id);
	const char *agency = q->agency;
	const struct crl_entry *ce;
	struct cert *c = NULL;
	struct sira_err e;
	char msg[SIRA_ERR_MSG_MAX];
	int rc;

	if (r == NULL || strcmp(r->agency, agency) != 0) {
		(void)snprintf(msg, sizeof(msg),
		    "the certificate of %s is missing from the bundle", agency);
		return failf(v, BC_CERT, -SIRA_EUNKNOWN_AGENCY, msg);
	}
	if ((rc = cert_good_at(v, r, q->at, q->proven_at, &c, &e)) != 0)
		return fail(v, BC_CERT, rc, &e);
	party_copy(p, c);
	if ((ce = crl_find(v->crl, c)) != NULL)
		p->revoked_at = ce->revoked_at;
	if (keep != NULL)
		*keep = c;
	else
		cert_destroy(&c);
	return 0;
}

/* ---- the broker's evidence ---- */

/* Accepted and its leaf: both about this envelope, from this sender. */
static int
check_accepted(struct vctx *v, struct mctx *x, Sira__V1__Accepted **acc,
    Sira__V1__LogLeaf **leaf)
{
	const Sira__V1__EnvelopeHeader *h = x->env->h;
	const Sira__V1__LogLeaf *l;
	struct sira_err e;
	int rc;

	if ((rc = wire_unpack(&sira__v1__accepted__descriptor,
		 x->bm->accepted.data, x->bm->accepted.len, ACCEPTED_MAX,
		 (ProtobufCMessage **)acc, &e)) != 0 ||
	    (rc = wire_unpack(&sira__v1__log_leaf__descriptor,
		 x->bm->accepted_leaf.data, x->bm->accepted_leaf.len, LEAF_MAX,
		 (ProtobufCMessage **)leaf, &e)) != 0)
		return fail(v, BC_BROKER, rc, &e);
	if (!same((*acc)->message_id, h->message_id.data, SIRA_MSGID_LEN) ||
	    !same((*acc)->envelope_hash, x->env->hash, SIRA_HASH_LEN) ||
	    (*acc)->checkpoint == NULL ||
	    (*acc)->n_inclusion_proof > SIRA_MERKLE_PROOF_MAX)
		return failf(v, BC_BROKER, -SIRA_EAUTH,
		    "the broker's Accepted is about another envelope");
	l = *leaf;
	if (l->type != SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED ||
	    !same(l->object_hash, x->env->hash, SIRA_HASH_LEN) ||
	    strcmp(l->actor_agency_id, h->sender_agency_id) != 0 ||
	    l->n_counterpart_agency_ids != h->n_recipients)
		return failf(v, BC_BROKER, -SIRA_EAUTH,
		    "the broker's log leaf is not this envelope's acceptance");
	for (size_t i = 0; i < h->n_recipients; i++)
		if (strcmp(l->counterpart_agency_ids[i],
			h->recipients[i]->agency_id) != 0)
			return failf(v, BC_BROKER, -SIRA_EAUTH,
			    "the broker's log leaf names other recipients");
	return 0;
}

/* Does the broker certificate r sign this checkpoint, and was it good
 * when it did? 0 or a failure already recorded. */
static int
checkpoint_signed_by(struct vctx *v, const struct cert_ref *r,
    const struct signed_obj *so, uint64_t at)
{
	struct cert *c = NULL;
	struct sira_err e;
	int rc;

	/* The checkpoint's time is the broker's own claim: no proof. */
	if ((rc = cert_good_at(v, r, at, 0, &c, &e)) != 0)
		return fail(v, BC_CERT, rc, &e);
	if (c->role != SIRA_ROLE_BROKER ||
	    (c->key_usage & SIRA_KU_LOG_SIGN) == 0)
		rc = failf(v, BC_CHECKPOINT, -SIRA_EKEY_USAGE,
		    "the checkpoint's signer is not a broker");
	else if (sign_verify(c->sign_pk, SIRA_DS_CHECKPOINT, so->tbs,
		     so->tbs_len, so->sig) != 0)
		rc = failf(v, BC_CHECKPOINT, -SIRA_EBADSIG,
		    "the broker's checkpoint signature does not verify");
	cert_destroy(&c);
	return rc;
}

/* The signed checkpoint: parsed after its signature, by the broker the
 * origin names, from the bundle's certificates. */
static int
check_checkpoint(struct vctx *v, const Sira__V1__SignedCheckpoint *sc,
    Sira__V1__Checkpoint **cp)
{
	const struct cert_ref *r = NULL;
	struct signed_obj so = { 0 };
	struct sira_err e;
	uint8_t *raw = NULL;
	size_t len, olen;
	int rc;

	if ((rc = wire_pack(&sc->base, &raw, &len, &e)) != 0 ||
	    (rc = signed_split(bytes_of(raw, len), CHECKPOINT_MAX,
		 CHECKPOINT_MAX, "checkpoint", &so, &e)) != 0 ||
	    (rc = wire_unpack(&sira__v1__checkpoint__descriptor, so.tbs,
		 so.tbs_len, CHECKPOINT_MAX, (ProtobufCMessage **)cp, &e)) !=
		0) {
		rc = fail(v, BC_CHECKPOINT, rc, &e);
		goto out;
	}
	olen = strlen((*cp)->origin);
	for (size_t i = 0; i < v->n_certs && r == NULL; i++)
		if (v->certs[i].role == SIRA_ROLE_BROKER &&
		    olen ==
			strlen(v->certs[i].agency) + strlen(ORIGIN_SUFFIX) &&
		    strncmp((*cp)->origin, v->certs[i].agency,
			strlen(v->certs[i].agency)) == 0 &&
		    strcmp((*cp)->origin + strlen(v->certs[i].agency),
			ORIGIN_SUFFIX) == 0)
			r = &v->certs[i];
	if (r == NULL)
		rc = failf(v, BC_CERT, -SIRA_EUNKNOWN_AGENCY,
		    "the certificate of the broker that signed the checkpoint is missing from the bundle");
	else if ((*cp)->root.len != SIRA_HASH_LEN)
		rc = failf(v, BC_CHECKPOINT, -SIRA_EMALFORMED,
		    "the checkpoint is malformed");
	else
		rc = checkpoint_signed_by(v, r, &so, (*cp)->time);
out:
	signed_clear(&so);
	free(raw);
	return rc;
}

/* Same size, same root, for every checkpoint seen so far. */
static int
note_checkpoint(struct vctx *v, const Sira__V1__Checkpoint *cp)
{
	for (size_t i = 0; i < v->n_cps; i++) {
		if (v->cps[i].size != cp->size)
			continue;
		if (memcmp(v->cps[i].root, cp->root.data, SIRA_HASH_LEN) != 0)
			return failf(v, BC_CONSISTENCY, -SIRA_EAUTH,
			    "two checkpoints of the broker's log have the same size and different roots");
		return 0;
	}
	if (v->n_cps < BUNDLE_MESSAGES_MAX) {
		v->cps[v->n_cps].size = cp->size;
		memcpy(v->cps[v->n_cps++].root, cp->root.data, SIRA_HASH_LEN);
	}
	return 0;
}

static int
check_inclusion(struct vctx *v, const Sira__V1__Accepted *acc,
    const Sira__V1__Checkpoint *cp, const ProtobufCBinaryData *leaf)
{
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * SIRA_HASH_LEN];
	uint8_t hash[SIRA_HASH_LEN];
	struct sira_err e;
	int rc;

	for (size_t i = 0; i < acc->n_inclusion_proof; i++) {
		if (acc->inclusion_proof[i].len != SIRA_HASH_LEN)
			return failf(v, BC_INCLUSION, -SIRA_EMALFORMED,
			    "the inclusion proof is malformed");
		memcpy(proof + i * SIRA_HASH_LEN, acc->inclusion_proof[i].data,
		    SIRA_HASH_LEN);
	}
	merkle_leaf_hash(leaf->data, leaf->len, hash);
	if ((rc = merkle_verify_inclusion(hash, acc->leaf_index, cp->size,
		 (struct merkle_hashes){ proof, acc->n_inclusion_proof },
		 cp->root.data, &e)) != 0)
		return failf(v, BC_INCLUSION, rc,
		    "the envelope's leaf is not in the broker's signed log");
	return 0;
}

/* Accepted, leaf, checkpoint, inclusion; sets x->proven_at. */
static int
check_broker(struct vctx *v, struct mctx *x)
{
	Sira__V1__Accepted *acc = NULL;
	Sira__V1__LogLeaf *leaf = NULL;
	Sira__V1__Checkpoint *cp = NULL;
	int rc;

	if (x->bm->accepted.len == 0)
		return x->bm->accepted_leaf.len == 0 ?
		    0 :
		    failf(v, BC_BROKER, -SIRA_EMALFORMED,
			"a log leaf without the broker's Accepted");
	if ((rc = check_accepted(v, x, &acc, &leaf)) == 0 &&
	    (rc = check_checkpoint(v, acc->checkpoint, &cp)) == 0 &&
	    (rc = check_inclusion(v, acc, cp, &x->bm->accepted_leaf)) == 0 &&
	    (rc = note_checkpoint(v, cp)) == 0) {
		x->proven_at = cp->time;
		x->cm->broker = true;
		x->cm->leaf_index = acc->leaf_index;
		x->cm->leaf_time = leaf->time;
		x->cm->checkpoint_size = cp->size;
		x->cm->checkpoint_time = cp->time;
	}
	if (acc != NULL)
		protobuf_c_message_free_unpacked(&acc->base, NULL);
	if (leaf != NULL)
		protobuf_c_message_free_unpacked(&leaf->base, NULL);
	if (cp != NULL)
		protobuf_c_message_free_unpacked(&cp->base, NULL);
	return rc;
}

/* ---- the sender's manifest and the payload ---- */

static int
check_manifest(struct vctx *v, struct mctx *x)
{
	const Sira__V1__EnvelopeHeader *h = x->env->h;
	struct digest_part part = { x->bm->signed_manifest.data,
		x->bm->signed_manifest.len };
	uint8_t hash[SIRA_HASH_LEN];
	struct cert *sender = NULL;
	struct sira_err e;
	int rc;

	digest_lp(hash, SIRA_DH_MANIFEST, &part, 1);
	if (!same(h->manifest_hash, hash, SIRA_HASH_LEN))
		return failf(v, BC_MANIFEST_HASH, -SIRA_EAUTH,
		    "the envelope header does not commit to this signed manifest");
	if ((rc = party_at(v,
		 &(struct party_claim){ h->sender_cert_id.data,
		     h->sender_agency_id, h->created_at, x->proven_at },
		 &x->cm->sender, &sender)) != 0)
		return rc;
	rc =
	    manifest_verify(part.p, part.len, sender, &x->m, x->sig_sha256, &e);
	cert_destroy(&sender);
	if (rc != 0)
		return fail(v, BC_MANIFEST_SIG, rc, &e);
	if ((rc = manifest_match(
		 x->m, x->env, x->m->recipients[0]->agency_id, &e)) != 0)
		return fail(v, BC_MANIFEST_MATCH, rc, &e);
	if (strcmp(x->m->case_ref, v->b->case_ref) != 0)
		return failf(v, BC_CASE, -SIRA_EAUTH,
		    "the signed manifest names another case");
	return 0;
}

static int
check_payload(struct vctx *v, struct mctx *x)
{
	const ProtobufCBinaryData *p = &x->bm->payload;
	uint8_t hash[SIRA_HASH_LEN];

	digest_sha256(hash, p->data, p->len);
	if (p->len != x->m->payload_len ||
	    !same(x->m->payload_sha256, hash, SIRA_HASH_LEN))
		return failf(v, BC_PAYLOAD, -SIRA_EAUTH,
		    "the content differs from what the sender signed");
	memcpy(x->cm->payload_sha256, hash, SIRA_HASH_LEN);
	if (p->len > 0) {
		if ((x->cm->payload = malloc(p->len)) == NULL)
			return failf(
			    v, BC_FORMAT, -SIRA_ENOMEM, "out of memory");
		memcpy(x->cm->payload, p->data, p->len);
	}
	x->cm->payload_len = p->len;
	return 0;
}

/* Every recipient's certificate, good when the message was sealed. */
static int
check_recipients(struct vctx *v, struct mctx *x)
{
	const Sira__V1__ManifestTBS *m = x->m;
	int rc;

	if ((x->cm->recipients = calloc(
		 m->n_recipients, sizeof(*x->cm->recipients))) == NULL)
		return failf(v, BC_FORMAT, -SIRA_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_recipients; i++) {
		/* Not a signer: it must not have been revoked when sealed. */
		if ((rc = party_at(v,
			 &(struct party_claim){ m->recipients[i]->cert_id.data,
			     m->recipients[i]->agency_id, m->created_at,
			     m->created_at },
			 &x->cm->recipients[i], NULL)) != 0)
			return rc;
		x->cm->n_recipients++;
	}
	return 0;
}

/* ---- receipts ---- */

/* Who claims to have signed receipt r, and when (checked after). */
static int
receipt_claim(const ProtobufCBinaryData *r, char agency[SIRA_AGENCY_ID_MAX + 1],
    uint64_t *at, struct sira_err *e)
{
	struct signed_obj so = { 0 };
	ProtobufCMessage *t = NULL;
	int rc;

	if ((rc = signed_split(bytes_of(r->data, r->len), SIRA_RECEIPT_MAX,
		 SIRA_RECEIPT_MAX, "receipt", &so, e)) == 0 &&
	    (rc = wire_unpack(&sira__v1__receipt_tbs__descriptor, so.tbs,
		 so.tbs_len, SIRA_RECEIPT_MAX, &t, e)) == 0) {
		(void)snprintf(agency, SIRA_AGENCY_ID_MAX + 1, "%s",
		    ((Sira__V1__ReceiptTBS *)t)->recipient_agency_id);
		*at = ((Sira__V1__ReceiptTBS *)t)->received_at;
		protobuf_c_message_free_unpacked(t, NULL);
	}
	signed_clear(&so);
	return rc;
}

static void
expect_of(const struct mctx *x, struct receipt_expect *xp, const char **ids,
    uint8_t (*cids)[SIRA_HASH_LEN])
{
	const Sira__V1__EnvelopeHeader *h = x->env->h;

	memset(xp, 0, sizeof(*xp));
	memcpy(xp->message_id, h->message_id.data, SIRA_MSGID_LEN);
	memcpy(xp->envelope_hash, x->env->hash, SIRA_HASH_LEN);
	memcpy(xp->manifest_hash, h->manifest_hash.data, SIRA_HASH_LEN);
	memcpy(xp->manifest_sig_sha256, x->sig_sha256, SIRA_HASH_LEN);
	memcpy(xp->sender_cert_id, h->sender_cert_id.data, SIRA_HASH_LEN);
	xp->created_at = h->created_at;
	for (size_t i = 0; i < x->m->n_recipients; i++) {
		ids[i] = x->m->recipients[i]->agency_id;
		memcpy(
		    cids[i], x->m->recipients[i]->cert_id.data, SIRA_HASH_LEN);
	}
	xp->recipient_ids = ids;
	xp->recipient_cert_ids = (const uint8_t(*)[SIRA_HASH_LEN])cids;
	xp->n_recipients = x->m->n_recipients;
}

static int
check_receipt(struct vctx *v, struct mctx *x, const ProtobufCBinaryData *r,
    const struct receipt_expect *xp, struct custody_receipt *out)
{
	char agency[SIRA_AGENCY_ID_MAX + 1];
	const Sira__V1__RecipientRef *to = NULL;
	struct receipt_info info;
	struct cert *c = NULL;
	struct sira_err e;
	uint64_t at = 0;
	int rc;

	if ((rc = receipt_claim(r, agency, &at, &e)) != 0)
		return fail(v, BC_RECEIPT, rc, &e);
	for (size_t i = 0; i < x->m->n_recipients && to == NULL; i++)
		if (strcmp(x->m->recipients[i]->agency_id, agency) == 0)
			to = x->m->recipients[i];
	for (size_t i = 0; i < x->cm->n_receipts; i++)
		if (strcmp(x->cm->receipts[i].by.agency, agency) == 0)
			to = NULL;
	if (to == NULL)
		return failf(v, BC_RECEIPT, -SIRA_ENOT_RECIPIENT,
		    "a receipt is signed by no recipient, or twice by one");
	if ((rc = party_at(v,
		 &(struct party_claim){ to->cert_id.data, agency, at, 0 },
		 &out->by, &c)) != 0)
		return rc;
	rc = receipt_verify(r->data, r->len, c, xp, &info, &e);
	cert_destroy(&c);
	if (rc != 0)
		return fail(v, BC_RECEIPT, rc, &e);
	out->accepted = info.kind == RECEIPT_ACCEPTED;
	out->reject_reason = info.reject_reason;
	out->received_at = info.received_at;
	return 0;
}

static int
check_receipts(struct vctx *v, struct mctx *x)
{
	const char *ids[SIRA_RECIPIENTS_MAX];
	uint8_t cids[SIRA_RECIPIENTS_MAX][SIRA_HASH_LEN];
	struct receipt_expect xp;
	int rc;

	if (x->bm->n_receipts == 0)
		return 0;
	if ((x->cm->receipts = calloc(
		 x->bm->n_receipts, sizeof(*x->cm->receipts))) == NULL)
		return failf(v, BC_FORMAT, -SIRA_ENOMEM, "out of memory");
	expect_of(x, &xp, ids, cids);
	for (size_t i = 0; i < x->bm->n_receipts; i++) {
		if ((rc = check_receipt(v, x, &x->bm->receipts[i], &xp,
			 &x->cm->receipts[x->cm->n_receipts])) != 0)
			return rc;
		x->cm->n_receipts++;
	}
	return 0;
}

/* ---- one message, then all ---- */

static int
check_message(
    struct vctx *v, const Sira__V1__BundleMessage *bm, struct custody_msg *cm)
{
	struct mctx x = { bm, NULL, NULL, { 0 }, 0, cm };
	struct sira_err e;
	int rc;

	if ((rc = envelope_decode(
		 bm->envelope.data, bm->envelope.len, &x.env, &e)) != 0)
		return fail(v, BC_ENVELOPE, rc, &e);
	(void)sodium_bin2hex(v->cur_id, sizeof(v->cur_id),
	    x.env->h->message_id.data, SIRA_MSGID_LEN);
	memcpy(cm->id, v->cur_id, sizeof(cm->id));
	cm->created_at = x.env->h->created_at;
	cm->kind = (int)x.env->h->kind;
	if ((rc = check_broker(v, &x)) == 0 &&
	    (rc = check_manifest(v, &x)) == 0 &&
	    (rc = check_payload(v, &x)) == 0 &&
	    (rc = check_recipients(v, &x)) == 0 &&
	    (rc = check_receipts(v, &x)) == 0) {
		(void)snprintf(cm->content_type, sizeof(cm->content_type), "%s",
		    x.m->content_type);
		cm->n_attachments = x.m->n_attachments;
	}
	if (x.m != NULL)
		protobuf_c_message_free_unpacked(&x.m->base, NULL);
	envelope_destroy(&x.env);
	return rc;
}

static int
check_all(struct vctx *v, const uint8_t *ca, size_t ca_len)
{
	const Sira__V1__Bundle *b = v->b;
	int rc;

	(void)snprintf(
	    v->out->case_ref, sizeof(v->out->case_ref), "%s", b->case_ref);
	(void)snprintf(v->out->exported_by, sizeof(v->out->exported_by), "%s",
	    b->exported_by);
	v->out->exported_at = b->exported_at;
	if ((rc = load_ca(v, ca, ca_len)) != 0 || (rc = load_crl(v)) != 0 ||
	    (rc = index_certs(v)) != 0)
		return rc;
	if ((v->out->msgs = calloc(b->n_messages, sizeof(*v->out->msgs))) ==
	    NULL)
		return failf(v, BC_FORMAT, -SIRA_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->n_messages; i++) {
		v->cur = i + 1;
		(void)snprintf(v->cur_id, sizeof(v->cur_id), "?");
		v->out->n_msgs++;
		if ((rc = check_message(v, b->messages[i], &v->out->msgs[i])) !=
		    0)
			return rc;
	}
	v->out->n_checkpoints = v->n_cps;
	return 0;
}

int
bundle_verify(struct bytes untrusted, struct bytes ca, struct custody **out,
    struct bundle_failure *why, struct sira_err *err)
{
	struct vctx *v;
	ProtobufCMessage *b = NULL;
	const uint8_t *body;
	struct sira_err e;
	size_t blen;
	int rc;

	*out = NULL;
	if (why != NULL)
		memset(why, 0, sizeof(*why));
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->out = calloc(1, sizeof(*v->out))) == NULL) {
		free(v);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	v->why = why;
	v->err = err;
	if ((rc = wire_strip_magic(untrusted, BUNDLE_MAGIC, "evidence bundle",
		 &body, &blen, &e)) != 0)
		rc = fail(v, BC_FORMAT, rc, &e);
	else if ((rc = wire_unpack(&sira__v1__bundle__descriptor, body, blen,
		      BUNDLE_MAX, &b, &e)) != 0)
		rc = failf(v, BC_FORMAT, rc,
		    "the file is damaged or truncated (it does not parse as an evidence bundle)");
	else {
		v->b = (Sira__V1__Bundle *)b;
		if ((rc = check_counts(v)) == 0)
			rc = check_all(v, ca.p, ca.len);
	}
	if (rc == 0) {
		*out = v->out;
		v->out = NULL;
	}
	custody_destroy(&v->out);
	if (b != NULL)
		protobuf_c_message_free_unpacked(b, NULL);
	cert_destroy(&v->ca);
	crl_destroy(&v->crl);
	free(v->certs);
	free(v);
	return rc;
}

int
bundle_verify_file(const char *bundle_path, const char *ca_path,
    struct custody **out, struct bundle_failure *why, struct sira_err *err)
{
	uint8_t *buf = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0;
	int rc;

	*out = NULL;
	if (why != NULL)
		memset(why, 0, sizeof(*why));
	if ((rc = fileio_read(bundle_path, BUNDLE_MAX + SIRA_MAGIC_LEN, &buf,
		 &len, err)) != 0 ||
	    (rc = fileio_read(ca_path, SIRA_CERT_MAX + SIRA_MAGIC_LEN, &ca,
		 &ca_len, err)) != 0) {
		if (why != NULL)
			why->check = buf == NULL ? BC_FORMAT : BC_CA;
	} else
		rc = bundle_verify(
		    bytes_of(buf, len), bytes_of(ca, ca_len), out, why, err);
	if (buf != NULL)
		sodium_memzero(buf, len);
	free(buf);
	free(ca);
	return rc;
}

void
custody_destroy(struct custody **cp)
{
	struct custody *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (size_t i = 0; i < c->n_msgs; i++) {
		if (c->msgs[i].payload != NULL)
			sodium_memzero(
			    c->msgs[i].payload, c->msgs[i].payload_len);
		free(c->msgs[i].payload);
		free(c->msgs[i].recipients);
		free(c->msgs[i].receipts);
	}
	free(c->msgs);
	free(c);
	*cp = NULL;
}
