/*
 * logproof.c: the client of the broker's transparency log. An Accepted
 * carries a signed checkpoint (checked against the broker's log key); then
 * a ProofRequest asks for our leaf, its inclusion proof and the log's
 * consistency since the checkpoint we accepted last. The leaf is kept with
 * the outbox entry as evidence; a log that shrank or forked raises the
 * alarm. No other file of the agent checks a proof from the broker.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/daemon.h"
#include "log.h"
#include "merkle.h"
#include "signed.h"
#include "store/store.h"
#include "wire.h"
#include "i18n.h"

/* The Accepted kept in e (the broker's bytes, checked when they came). */
static int
accepted_of(const Sira__V1__OutboxEntry *e, Sira__V1__Accepted **out)
{
	return wire_unpack(&sira__v1__accepted__descriptor, e->accepted.data,
	    e->accepted.len, SIRA_ACCEPTED_MAX, (ProtobufCMessage **)out, NULL);
}

/* The checkpoint inside signed bytes raw; its signature is checked when
 * verify is set (against the broker's log key). */
static int
checkpoint_in(const struct daemon *d, const uint8_t *raw, size_t len,
    bool verify, Sira__V1__Checkpoint **out)
{
	struct signed_obj so;
	int rc;

	if ((rc = signed_split(bytes_of(raw, len), SIRA_CHECKPOINT_MAX,
		 SIRA_CHECKPOINT_MAX, "checkpoint", &so, NULL)) != 0)
		return rc;
	if (verify &&
	    sign_verify(d->a->broker->sign_pk, SIRA_DS_CHECKPOINT, so.tbs,
		so.tbs_len, so.sig) != 0)
		rc = -SIRA_EBADSIG;
	if (rc == 0 &&
	    (rc = wire_unpack(&sira__v1__checkpoint__descriptor, so.tbs,
		 so.tbs_len, SIRA_CHECKPOINT_MAX, (ProtobufCMessage **)out,
		 NULL)) == 0 &&
	    (*out)->root.len != 32) {
		sira__v1__checkpoint__free_unpacked(*out, NULL);
		*out = NULL;
		rc = -SIRA_EMALFORMED;
	}
	signed_clear(&so);
	return rc;
}

/* Are raw[0..len) the bytes we verified last, under the same key? */
static bool
verified_before(const struct daemon *d, const uint8_t *raw, size_t len)
{
	const struct cp_seen *s = &d->cp_seen;

	return s->len != 0 && s->len == len &&
	    memcmp(s->key, d->a->broker->sign_pk, sizeof(s->key)) == 0 &&
	    memcmp(s->raw, raw, len) == 0;
}

/*
 * The checkpoint sc must be signed by the broker's log key. The broker
 * signs one checkpoint per commit, and every Accepted and proof of that
 * commit carries it: the same bytes are verified once.
 */
int
logproof_checkpoint(struct daemon *d, const Sira__V1__SignedCheckpoint *sc,
    Sira__V1__Checkpoint **out)
{
	struct cp_seen *s = &d->cp_seen;
	uint8_t *raw;
	size_t len;
	bool seen;
	int rc;

	*out = NULL;
	if (sc == NULL || (d->a->broker->key_usage & SIRA_KU_LOG_SIGN) == 0 ||
	    wire_pack(&sc->base, &raw, &len, NULL) != 0)
		return -SIRA_EMALFORMED;
	seen = verified_before(d, raw, len);
	rc = checkpoint_in(d, raw, len, !seen, out) == 0 ? 0 : -SIRA_EBADSIG;
	if (rc == 0 && !seen && len <= sizeof(s->raw)) {
		memcpy(s->raw, raw, len);
		s->len = len;
		memcpy(s->key, d->a->broker->sign_pk, sizeof(s->key));
	}
	free(raw);
	return rc;
}

/* Leaf index and checkpoint size of the Accepted kept in e. */
int
logproof_accepted_at(const struct daemon *d, const Sira__V1__OutboxEntry *e,
    uint64_t *leaf, uint64_t *size)
{
	Sira__V1__Accepted *acc;
	Sira__V1__Checkpoint *cp = NULL;
	uint8_t *raw;
	size_t len;
	int rc;

	if ((rc = accepted_of(e, &acc)) != 0)
		return rc;
	*leaf = acc->leaf_index;
	*size = acc->leaf_index + 1;
	/* The checkpoint was verified when the Accepted came in. */
	if (acc->checkpoint != NULL &&
	    wire_pack(&acc->checkpoint->base, &raw, &len, NULL) == 0) {
		(void)checkpoint_in(d, raw, len, false, &cp);
		free(raw);
	}
	if (cp != NULL && cp->size > *leaf)
		*size = cp->size;
	if (cp != NULL)
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	sira__v1__accepted__free_unpacked(acc, NULL);
	return 0;
}

/*
 * Ask for the leaf, its inclusion proof and consistency since ours. The
 * checkpoint we hold is read in t (the caller's transaction), else in the
 * loop's batch, else in a read transaction of our own, and remembered
 * with the request.
 */
void
logproof_ask(struct daemon *d, struct vault_txn *t, const uint8_t *id,
    uint64_t leaf, uint64_t size, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ProofRequest q = SIRA__V1__PROOF_REQUEST__INIT;
	struct vault_txn *own = NULL;
	uint8_t *root = NULL;
	size_t rlen = 0;
	uint64_t old = 0, req;
	struct pending *p;

	/* What earlier frames of this batch wrote counts. */
	if (t == NULL)
		t = batch_txn(d);
	if (t == NULL && vault_begin(d->a->vault, false, &own, NULL) == 0)
		t = own;
	if (t != NULL) {
		(void)vault_counter_get(t, "cp.size", &old);
		if (vault_get(t, VT_META, bytes_of("cp.root", 7), &root, &rlen,
			NULL) != 0)
			rlen = 0;
	}
	vault_abort(&own);
	q.leaf_index = leaf;
	q.tree_size = size;
	q.old_size = old < size ? old : 0;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_REQUEST;
	f.proof_request = &q;
	if (link_send(&d->link, &f, &req) == 0) {
		p = pending_expect(&d->pending, req, P_PROOF, id, now);
		p->old_size = q.old_size;
		if (rlen == 32) {
			p->held_size = old;
			memcpy(p->held_root, root, 32);
		}
	}
	vault_free(root, rlen);
}

/* One ProofResponse r answering p about entry e, and what it showed. */
struct proof_case {
	const Sira__V1__OutboxEntry *e;
	const Sira__V1__ProofResponse *r;
	const struct pending *p;
	bool included; /* our leaf is in the signed tree */
	bool stale;    /* consistency was proven from a size we left */
};

/* Copy n proof hashes into a flat buffer; -1 if a hash is not 32 bytes. */
static int
flatten(ProtobufCBinaryData *h, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (h[i].len != 32)
			return -1;
		memcpy(out + 32 * i, h[i].data, 32);
	}
	return 0;
}

/*
 * The tree only grew since the checkpoint we accepted last; keep the new.
 * The broker proved consistency from asked_from, our size when the
 * request left; if another proof moved our checkpoint since, this one
 * proves nothing about it: *stale is set and nothing is checked or kept,
 * and the caller asks again from the size we hold now.
 */
static int
check_consistency(struct vault_txn *t, const Sira__V1__Checkpoint *cp,
    struct proof_case *c, struct sira_err *err)
{
	const Sira__V1__ProofResponse *r = c->r;
	const struct pending *p = c->p;
	bool *stale = &c->stale;
	uint64_t asked_from = p->old_size;
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32], *old = NULL;
	uint64_t old_size = 0;
	size_t old_len = 0;
	int rc = 0;

	/* The very tree we held when asking: every checkpoint we accepted
	 * since was proven to extend it, so there is nothing to ask again
	 * (many proofs in flight would otherwise ask each other stale). */
	if (p->held_size != 0 && cp->size == p->held_size &&
	    sodium_memcmp(cp->root.data, p->held_root, 32) == 0)
		return 0;
	(void)vault_counter_get(t, "cp.size", &old_size);
	if (old_size > cp->size && asked_from != old_size) {
		*stale = true; /* we moved past it meanwhile: ask again */
		return 0;
	}
	if (old_size > cp->size)
		return sira_err_set(err, SIRA_EAUTH,
		    _("the broker's log shrank from %llu to %llu leaves"),
		    (unsigned long long)old_size, (unsigned long long)cp->size);
	if (old_size != asked_from && old_size != cp->size) {
		*stale = true;
		return 0;
	}
	if (old_size > 0 && old_size != cp->size &&
	    (vault_get(t, VT_META, bytes_of("cp.root", 7), &old, &old_len,
		 NULL) != 0 ||
		old_len != 32 ||
		flatten(r->consistency_proof, r->n_consistency_proof, proof) !=
		    0 ||
		merkle_verify_consistency(old_size, cp->size, old,
		    cp->root.data,
		    (struct merkle_hashes){ proof, r->n_consistency_proof },
		    NULL) != 0))
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("the broker's log is not consistent with its earlier checkpoint"));
	if (rc == 0 && old_size == cp->size &&
	    (vault_get(t, VT_META, bytes_of("cp.root", 7), &old, &old_len,
		 NULL) != 0 ||
		old_len != 32 || memcmp(old, cp->root.data, 32) != 0))
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("the broker signed two different logs of the same size"));
	vault_free(old, old_len);
	if (rc == 0 && cp->size > old_size)
		rc = vault_counter_put(t, "cp.size", cp->size, err) ?:
		    vault_put(t, VT_META, bytes_of("cp.root", 7), cp->root.data,
			32, err);
	return rc;
}

/* Our leaf (the broker's bytes l) as the log must hold it. */
static bool
our_leaf(const struct daemon *d, const Sira__V1__OutboxEntry *e,
    const Sira__V1__LogLeaf *l)
{
	return l->object_hash.len == 32 &&
	    memcmp(l->object_hash.data, e->envelope_hash.data, 32) == 0 &&
	    l->type == SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED &&
	    strcmp(l->actor_agency_id, d->a->me->agency_id) == 0;
}

/* The evidence: our leaf is in the signed tree (c->included), and the
 * tree only grew. */
static int
check_proof(struct daemon *d, struct vault_txn *t, struct proof_case *c,
    struct sira_err *err)
{
	const Sira__V1__ProofResponse *r = c->r;
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32], leaf[32];
	Sira__V1__Checkpoint *cp = NULL;
	Sira__V1__LogLeaf *l = NULL;
	Sira__V1__Accepted *acc = NULL;
	int rc = sira_err_set(err, SIRA_EAUTH,
	    _("the broker's proof for this message does not hold"));

	if (logproof_checkpoint(d, r->checkpoint, &cp) != 0 ||
	    r->n_inclusion_proof > SIRA_MERKLE_PROOF_MAX ||
	    r->n_consistency_proof > SIRA_MERKLE_PROOF_MAX ||
	    accepted_of(c->e, &acc) != 0 ||
	    wire_unpack(&sira__v1__log_leaf__descriptor, r->leaf.data,
		r->leaf.len, SIRA_LEAF_MAX, (ProtobufCMessage **)&l,
		NULL) != 0 ||
	    !our_leaf(d, c->e, l) ||
	    flatten(r->inclusion_proof, r->n_inclusion_proof, proof) != 0)
		goto out;
	merkle_leaf_hash(r->leaf.data, r->leaf.len, leaf);
	if (merkle_verify_inclusion(leaf, acc->leaf_index, cp->size,
		(struct merkle_hashes){ proof, r->n_inclusion_proof },
		cp->root.data, NULL) != 0)
		goto out;
	c->included = true;
	rc = check_consistency(t, cp, c, err);
out:
	if (acc != NULL)
		sira__v1__accepted__free_unpacked(acc, NULL);
	if (l != NULL)
		sira__v1__log_leaf__free_unpacked(l, NULL);
	if (cp != NULL)
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	return rc;
}

/* Keep the checked leaf for evidence bundles (borrowed while stored). */
static int
keep_leaf(struct vault_txn *t, Sira__V1__OutboxEntry *e,
    ProtobufCBinaryData leaf, uint64_t now, struct sira_err *err)
{
	int rc;

	if (e->accepted_leaf.len != 0)
		return 0;
	e->accepted_leaf = leaf;
	if (e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED)
		book_schedule(e, e->expires_at + OUTBOX_EXPIRY_GRACE);
	rc = book_put_out(t, e, now, err);
	memset(&e->accepted_leaf, 0, sizeof(e->accepted_leaf));
	return rc;
}

/* Another proof moved our checkpoint while this one travelled: ask again
 * for the same tree, consistency from what we hold now. */
static void
reask_proof(struct daemon *d, const struct pending *p,
    const Sira__V1__OutboxEntry *e, const Sira__V1__ProofResponse *r,
    uint64_t now)
{
	Sira__V1__Checkpoint *cp = NULL;
	Sira__V1__Accepted *acc;
	struct vault_txn *t = NULL;
	uint64_t held = 0;
	uint8_t id[16];

	if (accepted_of(e, &acc) != 0)
		return;
	memcpy(id, p->id, 16); /* p lives in the table request_proof grows */
	if ((t = batch_txn(d)) != NULL)
		(void)vault_counter_get(t, "cp.size", &held);
	else if (vault_begin(d->a->vault, false, &t, NULL) == 0) {
		(void)vault_counter_get(t, "cp.size", &held);
		vault_abort(&t);
	}
	/* The larger of the answer's tree and ours: the leaf is in both, and
	 * consistency is then asked from what we hold, or not needed. */
	if (logproof_checkpoint(d, r->checkpoint, &cp) == 0) {
		logproof_ask(d, NULL, id, acc->leaf_index,
		    cp->size > held ? cp->size : held, now);
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	}
	sira__v1__accepted__free_unpacked(acc, NULL);
}

void
logproof_answer(struct daemon *d, const struct pending *p,
    const Sira__V1__ProofResponse *r, uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	struct proof_case c = { .r = r, .p = p };
	struct sira_err err;
	int rc;

	if (batch_begin(d, &t, &err) != 0)
		return;
	if ((rc = book_get_out(t, p->id, &e, &err)) == 0) {
		c.e = e;
		if ((rc = check_proof(d, t, &c, &err)) == 0 && !c.stale)
			rc = book_audit(t, now,
			    &(struct audit_event){ "evidence-checked", "broker",
				p->id, 0, NULL, NULL },
			    &err);
	}
	/* The leaf is evidence once its inclusion holds, even when the log's
	 * consistency could not be checked (that raises the alarm below). */
	if (c.included &&
	    keep_leaf(t, e, r->leaf, now, rc == 0 ? &err : NULL) != 0 &&
	    rc == 0)
		rc = -SIRA_EIO;
	if (rc == 0)
		rc = vault_commit(&t, &err);
	else if (c.included && vault_commit(&t, NULL) != 0)
		log_event(
		    LOG_WARN, "outbox.update_failed", "reason=leaf not kept");
	vault_abort(&t);
	if (rc == 0 && c.stale)
		reask_proof(d, p, e, r, now);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (rc != 0)
		status_alarm(d, err.msg);
}
