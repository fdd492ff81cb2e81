/*
 * test_agent_bundle.c: agents/bundle/bundle_verify.c, the offline check of an
 * evidence bundle.
 *
 * A bundle is built here the way bundle_export() lays it out, from real
 * objects: two messages of case CASE-0042 sealed with agent_fixture.h (the
 * police to the NGO, the NGO back to the police), each opened by its
 * recipient for its signed manifest and payload and answered with a signed
 * receipt; the first carries the broker's evidence (a LogLeaf in a
 * three-leaf RFC 6962 tree, a checkpoint signed by the fixture broker, the
 * inclusion proof); a third checkpoint forks the log. Then every signed
 * part is altered in turn, parts are
 * removed, the CA is swapped and the file is cut, and each must be refused
 * by the right check for the right message (struct bundle_failure and the
 * error code; never the message text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_fixture.h"
#include "bundle/bundle.h"
#include "bundle.pb-c.h"
#include "control.pb-c.h"
#include "crl.h"
#include "merkle.h"
#include "crypto/crypto.h"
#include "wire.h"

#define CASE "CASE-0042"
#define CP_TIME (FX_NOW + 30)

static const char text1[] = "Signalement : mineure, 15 ans.";
static const char text2[] = "Prise en charge acceptée.";

struct world {
	struct fx *fx;
	uint8_t *ca_file; /* magic + the CA certificate */
	size_t ca_len;
	uint8_t *crl;
	size_t crl_len;
	struct fx_msg m[2];
	struct opened *o[2];
	uint8_t *receipt[2];
	size_t receipt_len[2];
	uint8_t *accepted; /* for m[0], signed by the fixture broker */
	size_t accepted_len;
	uint8_t *leaf;
	size_t leaf_len;
};

static struct world *W;

/* ---- building the parts ---- */

static uint8_t *
with_magic(const char *magic, const uint8_t *p, size_t len, size_t *out_len)
{
	uint8_t *f = wire_add_magic(magic, p, len, out_len);

	assert_non_null(f);
	return f;
}

/* A CRL by the fixture CA revoking entries[0..n). */
static void
make_crl(const struct crl_entry *entries, size_t n, uint8_t **out, size_t *len)
{
	uint8_t sig[SIRA_SIG_LEN], *tbs = NULL;
	size_t tbs_len;

	assert_int_equal(
	    crl_encode_tbs(
		&(struct crl_fields){ W->fx->ca->id, 1, FX_NOW - FX_DAY,
		    FX_NOW + 30 * (uint64_t)FX_DAY, entries, n },
		&tbs, &tbs_len, NULL),
	    0);
	assert_int_equal(sign_detached(W->fx->ca_keys->sign_sk, SIRA_DS_CRL,
			     tbs, tbs_len, sig),
	    0);
	assert_int_equal(crl_encode(tbs, tbs_len, sig, out, len, NULL), 0);
	free(tbs);
}

static void
seal_one(const struct fx_agent *from, const struct fx_agent *to,
    const char *text, struct fx_msg *m, struct opened **o)
{
	struct fx_spec sp;

	memset(&sp, 0, sizeof(sp));
	sp.from = from;
	sp.to[0] = to;
	sp.n_to = 1;
	sp.payload = (const uint8_t *)text;
	sp.len = strlen(text);
	assert_int_equal(fx_seal(&sp, m, NULL), 0);
	assert_int_equal(fx_open_as(W->fx, to, m->env, m->len, o), 0);
}

static void
sign_receipt(const struct fx_agent *by, const struct fx_agent *sender,
    const struct fx_msg *m, uint8_t **out, size_t *len)
{
	struct receipt_fields f;

	memset(&f, 0, sizeof(f));
	f.kind = RECEIPT_ACCEPTED;
	memcpy(f.message_id, m->meta.message_id, SIRA_MSGID_LEN);
	memcpy(f.envelope_hash, m->meta.envelope_hash, SIRA_HASH_LEN);
	memcpy(f.manifest_hash, m->meta.manifest_hash, SIRA_HASH_LEN);
	memcpy(
	    f.manifest_sig_sha256, m->meta.manifest_sig_sha256, SIRA_HASH_LEN);
	memcpy(f.sender_cert_id, sender->cert->id, SIRA_HASH_LEN);
	f.received_at = FX_OPEN_AT;
	assert_int_equal(
	    receipt_sign(&f, by->cert, by->keys, out, len, NULL), 0);
}

static uint8_t tree[4][SIRA_HASH_LEN];

static int
tree_leaf(void *ctx, uint64_t index, uint8_t out[SIRA_HASH_LEN])
{
	(void)ctx;
	memcpy(out, tree[index], SIRA_HASH_LEN);
	return 0;
}

/* The ACCEPTED leaf of m[i] (into *leaf) at index 1 of a log of size
 * leaves, the log's root and the leaf's inclusion proof (into proof). */
static void
make_leaf(size_t i, uint64_t size, uint8_t **leaf, size_t *leaf_len,
    uint8_t root[SIRA_HASH_LEN], struct merkle_proof *proof)
{
	Sira__V1__LogLeaf l = SIRA__V1__LOG_LEAF__INIT;
	struct merkle_leaves src = { tree_leaf, NULL };
	struct cert *from = i == 0 ? W->fx->police.cert : W->fx->ngo.cert;
	char *to[1] = { i == 0 ? W->fx->ngo.cert->agency_id :
				 W->fx->police.cert->agency_id };

	l.version = 1;
	l.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED;
	l.time = FX_NOW;
	l.object_hash.data = W->m[i].meta.envelope_hash;
	l.object_hash.len = SIRA_HASH_LEN;
	l.actor_agency_id = from->agency_id;
	l.n_counterpart_agency_ids = 1;
	l.counterpart_agency_ids = to;
	l.size_bucket = 4096;
	assert_int_equal(wire_pack(&l.base, leaf, leaf_len, NULL), 0);
	merkle_leaf_hash((const uint8_t *)"leaf 0", 6, tree[0]);
	merkle_leaf_hash(*leaf, *leaf_len, tree[1]);
	merkle_leaf_hash((const uint8_t *)"leaf 2", 6, tree[2]);
	merkle_leaf_hash((const uint8_t *)"leaf 3", 6, tree[3]);
	assert_int_equal(merkle_root(&src, size, root, NULL), 0);
	assert_int_equal(merkle_inclusion_proof(&src, 1, size, proof, NULL), 0);
}

/* The broker's Accepted for m[i] in a log of size leaves, its checkpoint
 * signed by signer, and its leaf. */
static void
make_accepted(const struct sira_keys *signer, size_t i, uint64_t size,
    uint8_t **out, size_t *len, uint8_t **leaf, size_t *leaf_len)
{
	Sira__V1__Accepted a = SIRA__V1__ACCEPTED__INIT;
	Sira__V1__Checkpoint cp = SIRA__V1__CHECKPOINT__INIT;
	Sira__V1__SignedCheckpoint sc = SIRA__V1__SIGNED_CHECKPOINT__INIT;
	uint8_t root[SIRA_HASH_LEN], sig[SIRA_SIG_LEN];
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * SIRA_HASH_LEN], *tbs = NULL;
	ProtobufCBinaryData hashes[SIRA_MERKLE_PROOF_MAX];
	struct merkle_proof p = { proof, SIRA_MERKLE_PROOF_MAX, 0 };
	size_t tbs_len;

	make_leaf(i, size, leaf, leaf_len, root, &p);
	cp.origin = "ml.broker/sira-log/v1";
	cp.size = size;
	cp.root.data = root;
	cp.root.len = SIRA_HASH_LEN;
	cp.time = CP_TIME;
	assert_int_equal(wire_pack(&cp.base, &tbs, &tbs_len, NULL), 0);
	assert_int_equal(sign_detached(signer->sign_sk, SIRA_DS_CHECKPOINT, tbs,
			     tbs_len, sig),
	    0);
	sc.tbs.data = tbs;
	sc.tbs.len = tbs_len;
	sc.sig.data = sig;
	sc.sig.len = SIRA_SIG_LEN;
	for (size_t k = 0; k < p.n; k++) {
		hashes[k].data = proof + k * SIRA_HASH_LEN;
		hashes[k].len = SIRA_HASH_LEN;
	}
	a.message_id.data = W->m[i].meta.message_id;
	a.message_id.len = SIRA_MSGID_LEN;
	a.envelope_hash.data = W->m[i].meta.envelope_hash;
	a.envelope_hash.len = SIRA_HASH_LEN;
	a.leaf_index = 1;
	a.checkpoint = &sc;
	a.n_inclusion_proof = p.n;
	a.inclusion_proof = hashes;
	assert_int_equal(wire_pack(&a.base, out, len, NULL), 0);
	free(tbs);
}

/* ---- the bundle, and ways to spoil it ---- */

#define SCRATCH_MAX 8

/* A bundle under construction; its bytes borrow from W or scratch. */
struct draft {
	Sira__V1__Bundle b;
	Sira__V1__BundleMessage msg[2];
	Sira__V1__BundleMessage *msgs[2];
	ProtobufCBinaryData certs[3];
	ProtobufCBinaryData receipts[2];
	uint8_t *scratch[SCRATCH_MAX];
	size_t n_scratch;
};

static ProtobufCBinaryData
bin(uint8_t *p, size_t len)
{
	ProtobufCBinaryData b = { len, p };

	return b;
}

static void
draft_init(struct draft *d)
{
	const struct fx *fx = W->fx;

	memset(d, 0, sizeof(*d));
	sira__v1__bundle__init(&d->b);
	d->b.version = BUNDLE_VERSION;
	d->b.case_ref = CASE;
	d->b.exported_by = "ml.police.bamako";
	d->b.exported_at = FX_NOW + 100;
	d->certs[0] = bin(fx->police.cert->raw, fx->police.cert->raw_len);
	d->certs[1] = bin(fx->ngo.cert->raw, fx->ngo.cert->raw_len);
	d->certs[2] = bin(fx->broker.cert->raw, fx->broker.cert->raw_len);
	d->b.n_certificates = 3;
	d->b.certificates = d->certs;
	d->b.crl = bin(W->crl, W->crl_len);
	for (size_t i = 0; i < 2; i++) {
		sira__v1__bundle_message__init(&d->msg[i]);
		d->msg[i].envelope = bin(W->m[i].env, W->m[i].len);
		d->msg[i].signed_manifest =
		    bin(W->o[i]->signed_manifest, W->o[i]->signed_manifest_len);
		d->msg[i].payload = bin(W->o[i]->payload, W->o[i]->payload_len);
		d->receipts[i] = bin(W->receipt[i], W->receipt_len[i]);
		d->msg[i].n_receipts = 1;
		d->msg[i].receipts = &d->receipts[i];
		d->msgs[i] = &d->msg[i];
	}
	d->msg[0].accepted = bin(W->accepted, W->accepted_len);
	d->msg[0].accepted_leaf = bin(W->leaf, W->leaf_len);
	d->b.n_messages = 2;
	d->b.messages = d->msgs;
	d->b.message_count = 2;
}

/* Replace *f by a copy with byte at (from the end when negative) xor 1. */
static void
flip(struct draft *d, ProtobufCBinaryData *f, long at)
{
	size_t i = at < 0 ? f->len - (size_t)(-at) : (size_t)at;
	uint8_t *copy = malloc(f->len);

	assert_non_null(copy);
	assert_true(i < f->len && d->n_scratch < SCRATCH_MAX);
	memcpy(copy, f->data, f->len);
	copy[i] ^= 1;
	d->scratch[d->n_scratch++] = copy;
	f->data = copy;
}

/* Pack d as a bundle file (magic included) and free its scratch. */
static uint8_t *
draft_pack(struct draft *d, size_t *len)
{
	uint8_t *body = NULL, *file;
	size_t blen;

	assert_int_equal(wire_pack(&d->b.base, &body, &blen, NULL), 0);
	file = with_magic(BUNDLE_MAGIC, body, blen, len);
	free(body);
	for (size_t i = 0; i < d->n_scratch; i++)
		free(d->scratch[i]);
	d->n_scratch = 0;
	return file;
}

/* Verify d with W's CA; returns the code and fills why. */
static int
verify_draft(struct draft *d, struct bundle_failure *why)
{
	struct custody *c = NULL;
	struct sira_err err;
	uint8_t *file;
	size_t len;
	int rc;

	memset(&err, 0, sizeof(err));
	file = draft_pack(d, &len);
	rc = bundle_verify(bytes_of(file, len), bytes_of(W->ca_file, W->ca_len),
	    &c, why, &err);
	if (rc != 0) {
		assert_null(c);
		assert_int_equal(err.code, -rc);
	}
	custody_destroy(&c);
	free(file);
	return rc;
}

/* d must be refused with code for message msg by check. */
static void
refused(struct draft *d, int code, size_t msg, enum bundle_check check)
{
	struct bundle_failure why;

	assert_int_equal(verify_draft(d, &why), code);
	assert_int_equal(why.msg, msg);
	assert_int_equal(why.check, check);
}

/* ---- tests ---- */

static void
test_round_trip(void **state)
{
	struct custody *c = NULL;
	struct bundle_failure why;
	struct draft d;
	uint8_t *file;
	size_t len;

	(void)state;
	draft_init(&d);
	file = draft_pack(&d, &len);
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(W->ca_file, W->ca_len), &c, &why, NULL),
	    0);
	free(file);
	assert_non_null(c);
	assert_string_equal(c->case_ref, CASE);
	assert_string_equal(c->ca.agency, "ml.test.ca");
	assert_int_equal(c->n_msgs, 2);
	assert_int_equal(c->n_certs, 3);
	assert_int_equal(c->n_checkpoints, 1);
	assert_string_equal(c->msgs[0].sender.agency, "ml.police.bamako");
	assert_int_equal(c->msgs[0].n_recipients, 1);
	assert_string_equal(c->msgs[0].recipients[0].agency, "ml.ngo.shelter");
	assert_true(c->msgs[0].broker);
	assert_int_equal(c->msgs[0].leaf_index, 1);
	assert_int_equal(c->msgs[0].checkpoint_size, 3);
	assert_int_equal(c->msgs[0].checkpoint_time, CP_TIME);
	assert_int_equal(c->msgs[0].n_receipts, 1);
	assert_true(c->msgs[0].receipts[0].accepted);
	assert_string_equal(c->msgs[0].receipts[0].by.agency, "ml.ngo.shelter");
	assert_int_equal(c->msgs[0].receipts[0].received_at, FX_OPEN_AT);
	assert_int_equal(c->msgs[0].payload_len, strlen(text1));
	assert_memory_equal(c->msgs[0].payload, text1, strlen(text1));
	assert_false(c->msgs[1].broker);
	assert_string_equal(c->msgs[1].sender.agency, "ml.ngo.shelter");
	assert_string_equal(
	    c->msgs[1].receipts[0].by.agency, "ml.police.bamako");
	assert_int_equal(c->msgs[0].sender.revoked_at, 0);
	custody_destroy(&c);
	assert_null(c);
}

/* Every signed or hashed part, altered: refused by its own check. */
static void
test_flip_each_part(void **state)
{
	struct draft d;

	(void)state;
	draft_init(&d); /* the body: the broker logged another envelope */
	flip(&d, &d.msg[0].envelope, -20);
	refused(&d, -SIRA_EAUTH, 1, BC_BROKER);
	draft_init(&d); /* no broker evidence: the receipt catches it */
	flip(&d, &d.msg[1].envelope, -20);
	refused(&d, -SIRA_EAUTH, 2, BC_RECEIPT);
	draft_init(&d);
	flip(&d, &d.msg[0].signed_manifest, -1);
	refused(&d, -SIRA_EAUTH, 1, BC_MANIFEST_HASH);
	draft_init(&d);
	flip(&d, &d.msg[1].payload, 3);
	refused(&d, -SIRA_EAUTH, 2, BC_PAYLOAD);
	draft_init(&d); /* the last inclusion proof hash */
	flip(&d, &d.msg[0].accepted, -1);
	refused(&d, -SIRA_EBADSIG, 1, BC_INCLUSION);
	draft_init(&d); /* the leaf's object hash */
	flip(&d, &d.msg[0].accepted_leaf, 12);
	refused(&d, -SIRA_EAUTH, 1, BC_BROKER);
	draft_init(&d);
	flip(&d, &d.receipts[0], -1);
	refused(&d, -SIRA_EBADSIG, 1, BC_RECEIPT);
	draft_init(&d); /* the police's certificate signature */
	flip(&d, &d.certs[0], -1);
	refused(&d, -SIRA_EBADSIG, 1, BC_CERT);
	draft_init(&d);
	flip(&d, &d.b.crl, -1);
	refused(&d, -SIRA_EBADSIG, 0, BC_CRL);
}

/* A checkpoint signed by someone else than the broker. */
static void
test_checkpoint_signer(void **state)
{
	struct draft d;
	uint8_t *acc = NULL, *leaf = NULL;
	size_t len, leaf_len;

	(void)state;
	make_accepted(W->fx->ngo.keys, 0, 3, &acc, &len, &leaf, &leaf_len);
	draft_init(&d);
	d.msg[0].accepted = bin(acc, len);
	refused(&d, -SIRA_EBADSIG, 1, BC_CHECKPOINT);
	free(acc);
	free(leaf);
}

/* Two checkpoints of one size must have one root; other sizes pass. */
static void
test_checkpoints_consistent(void **state)
{
	struct custody *c = NULL;
	struct draft d;
	uint8_t *acc = NULL, *leaf = NULL, *file;
	size_t len, leaf_len;

	(void)state;
	make_accepted(W->fx->broker.keys, 1, 4, &acc, &len, &leaf, &leaf_len);
	draft_init(&d);
	d.msg[1].accepted = bin(acc, len);
	d.msg[1].accepted_leaf = bin(leaf, leaf_len);
	file = draft_pack(&d, &len);
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(W->ca_file, W->ca_len), &c, NULL, NULL),
	    0);
	assert_int_equal(c->n_checkpoints, 2);
	assert_true(c->msgs[1].broker);
	custody_destroy(&c);
	free(file);
	free(acc);
	free(leaf);
	/* Size 3 again, but a tree with other leaves: a forked log. */
	make_accepted(W->fx->broker.keys, 1, 3, &acc, &len, &leaf, &leaf_len);
	draft_init(&d);
	d.msg[1].accepted = bin(acc, len);
	d.msg[1].accepted_leaf = bin(leaf, leaf_len);
	refused(&d, -SIRA_EAUTH, 2, BC_CONSISTENCY);
	free(acc);
	free(leaf);
}

/* Evidence moved to another message; a leaf without its Accepted. */
static void
test_evidence_moved(void **state)
{
	struct draft d;

	(void)state;
	draft_init(&d);
	d.msg[1].accepted = d.msg[0].accepted;
	d.msg[1].accepted_leaf = d.msg[0].accepted_leaf;
	refused(&d, -SIRA_EAUTH, 2, BC_BROKER);
	draft_init(&d);
	d.msg[0].accepted.len = 0;
	refused(&d, -SIRA_EMALFORMED, 1, BC_BROKER);
	draft_init(&d); /* a receipt for the other message */
	d.msg[1].receipts = &d.receipts[0];
	refused(&d, -SIRA_ENOT_RECIPIENT, 2, BC_RECEIPT);
	draft_init(&d); /* the same receipt twice */
	d.msg[0].n_receipts = 2;
	d.msg[0].receipts = d.receipts;
	d.receipts[1] = d.receipts[0];
	refused(&d, -SIRA_ENOT_RECIPIENT, 1, BC_RECEIPT);
	draft_init(&d); /* a payload from another message */
	d.msg[0].payload = d.msg[1].payload;
	refused(&d, -SIRA_EAUTH, 1, BC_PAYLOAD);
	draft_init(&d); /* a manifest from another message */
	d.msg[0].signed_manifest = d.msg[1].signed_manifest;
	refused(&d, -SIRA_EAUTH, 1, BC_MANIFEST_HASH);
}

static void
test_missing_parts(void **state)
{
	struct draft d;

	(void)state;
	draft_init(&d); /* the NGO's certificate */
	d.certs[1] = d.certs[2];
	d.b.n_certificates = 2;
	refused(&d, -SIRA_EUNKNOWN_AGENCY, 1, BC_CERT);
	draft_init(&d); /* the broker's */
	d.b.n_certificates = 2;
	refused(&d, -SIRA_EUNKNOWN_AGENCY, 1, BC_CERT);
	draft_init(&d);
	d.b.crl.len = 0;
	refused(&d, -SIRA_EMALFORMED, 0, BC_CRL);
	draft_init(&d);
	d.b.n_messages = 0;
	d.b.message_count = 0;
	refused(&d, -SIRA_EMALFORMED, 0, BC_FORMAT);
	draft_init(&d); /* the last message cut off */
	d.b.n_messages = 1;
	refused(&d, -SIRA_ETRUNCATED, 0, BC_FORMAT);
	draft_init(&d);
	d.b.case_ref = "CASE-0043";
	refused(&d, -SIRA_EAUTH, 1, BC_CASE);
	draft_init(&d);
	d.b.version = 2;
	refused(&d, -SIRA_EVERSION, 0, BC_FORMAT);
}

static void
test_wrong_ca(void **state)
{
	struct fx_agent other;
	struct cert *ca = W->fx->ca;
	struct bundle_failure why;
	struct custody *c = NULL;
	struct draft d;
	uint8_t *file, *ca2;
	size_t len, ca2_len;

	(void)state;
	W->fx->ca = NULL; /* fx_cert makes a self-signed CA */
	assert_int_equal(fx_cert(W->fx, "ml.other.ca", SIRA_ROLE_COORDINATION,
			     FX_CA_NB, FX_CA_NA, NULL, &other),
	    0);
	W->fx->ca = ca;
	ca2 = with_magic(
	    SIRA_MAGIC_CERT, other.cert->raw, other.cert->raw_len, &ca2_len);
	draft_init(&d);
	file = draft_pack(&d, &len);
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(ca2, ca2_len), &c, &why, NULL),
	    -SIRA_EBADSIG);
	assert_null(c);
	assert_int_equal(why.check, BC_CRL);
	/* An agency certificate is no CA; nor is a file without magic. */
	free(ca2);
	ca2 = with_magic(SIRA_MAGIC_CERT, W->fx->police.cert->raw,
	    W->fx->police.cert->raw_len, &ca2_len);
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(ca2, ca2_len), &c, &why, NULL),
	    -SIRA_EKEY_USAGE);
	assert_int_equal(why.check, BC_CA);
	assert_int_equal(
	    bundle_verify(bytes_of(file, len),
		bytes_of(W->fx->ca->raw, W->fx->ca->raw_len), &c, &why, NULL),
	    -SIRA_EMALFORMED);
	assert_int_equal(why.check, BC_CA);
	free(ca2);
	free(file);
	fx_agent_free(&other);
}

/* Every cut of the file, and a few flipped magic bytes. */
static void
test_truncated(void **state)
{
	struct bundle_failure why;
	struct custody *c = NULL;
	struct draft d;
	uint8_t *file;
	size_t len;

	(void)state;
	draft_init(&d);
	file = draft_pack(&d, &len);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_not_equal(
		    bundle_verify(bytes_of(file, cut),
			bytes_of(W->ca_file, W->ca_len), &c, &why, NULL),
		    0);
		assert_null(c);
		assert_int_equal(why.msg, 0);
		assert_int_equal(why.check, BC_FORMAT);
	}
	file[0] ^= 1;
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(W->ca_file, W->ca_len), &c, &why, NULL),
	    -SIRA_EMALFORMED);
	assert_int_equal(why.check, BC_FORMAT);
	free(file);
}

/* A CRL revoking c as of `since` for reason. */
static void
revoke(const struct cert *c, int reason, uint64_t since, struct draft *d,
    uint8_t **crl)
{
	struct crl_entry e;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.serial = c->serial;
	memcpy(e.cert_id, c->id, SIRA_HASH_LEN);
	e.revoked_at = since;
	e.reason = reason;
	e.compromised_since = since;
	make_crl(&e, 1, crl, &len);
	draft_init(d);
	d->b.crl = bin(*crl, len);
}

/*
 * Revocation as of the time a signature is proven to exist: the broker's
 * checkpoint time for the first message; for signatures with no third
 * party's time, a compromise revokes them all, a renewal does not.
 */
static void
test_revocation_time(void **state)
{
	const struct cert *police = W->fx->police.cert;
	struct custody *c = NULL;
	struct draft d;
	uint8_t *crl = NULL, *file;
	size_t len;

	(void)state;
	revoke(police, SIRA_REVOKE_SUPERSEDED, FX_NOW + FX_DAY, &d, &crl);
	file = draft_pack(&d, &len);
	assert_int_equal(bundle_verify(bytes_of(file, len),
			     bytes_of(W->ca_file, W->ca_len), &c, NULL, NULL),
	    0);
	assert_int_equal(c->msgs[0].sender.revoked_at, FX_NOW + FX_DAY);
	custody_destroy(&c);
	free(file);
	free(crl);
	/* Compromised later: the broker proves message 1 older, but the
	 * police's receipt of message 2 has no such proof. */
	revoke(police, SIRA_REVOKE_KEY_COMPROMISE, FX_NOW + FX_DAY, &d, &crl);
	refused(&d, -SIRA_EREVOKED, 2, BC_CERT);
	free(crl);
	/* Compromised before the broker saw message 1. */
	revoke(police, SIRA_REVOKE_KEY_COMPROMISE, FX_NOW, &d, &crl);
	refused(&d, -SIRA_EREVOKED, 1, BC_CERT);
	free(crl);
	/* A compromised broker's checkpoint time is only its own claim. */
	revoke(W->fx->broker.cert, SIRA_REVOKE_KEY_COMPROMISE, FX_NOW + FX_DAY,
	    &d, &crl);
	refused(&d, -SIRA_EREVOKED, 1, BC_CERT);
	free(crl);
}

/* ---- setup ---- */

static int
group_setup(void **state)
{
	struct fx *fx;

	(void)state;
	if ((W = calloc(1, sizeof(*W))) == NULL ||
	    (W->fx = fx = fx_new()) == NULL)
		return -1;
	W->ca_file = with_magic(
	    SIRA_MAGIC_CERT, fx->ca->raw, fx->ca->raw_len, &W->ca_len);
	make_crl(NULL, 0, &W->crl, &W->crl_len);
	seal_one(&fx->police, &fx->ngo, text1, &W->m[0], &W->o[0]);
	seal_one(&fx->ngo, &fx->police, text2, &W->m[1], &W->o[1]);
	sign_receipt(&fx->ngo, &fx->police, &W->m[0], &W->receipt[0],
	    &W->receipt_len[0]);
	sign_receipt(&fx->police, &fx->ngo, &W->m[1], &W->receipt[1],
	    &W->receipt_len[1]);
	make_accepted(fx->broker.keys, 0, 3, &W->accepted, &W->accepted_len,
	    &W->leaf, &W->leaf_len);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (W == NULL)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		fx_msg_free(&W->m[i]);
		seal_opened_destroy(&W->o[i]);
		free(W->receipt[i]);
	}
	free(W->accepted);
	free(W->leaf);
	free(W->crl);
	free(W->ca_file);
	fx_free(W->fx);
	free(W);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_flip_each_part),
		cmocka_unit_test(test_checkpoint_signer),
		cmocka_unit_test(test_checkpoints_consistent),
		cmocka_unit_test(test_evidence_moved),
		cmocka_unit_test(test_missing_parts),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_revocation_time),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
