/*
 * test_agent_vectors.c: frozen known-answer vectors for the envelope
 * (STYLE.md 2.5, libsodium's .exp discipline).
 *
 * The fixed world of tests/unit/envelope_kat.h (fixed identity seeds, fixed
 * time, a deterministic random source installed before sodium_init) is
 * rebuilt and every wire object is compared byte for byte with its frozen
 * copy in the vectors directory:
 *
 *   envelope_ca_cert.hex          the test CA's Certificate
 *   envelope_sender_cert.hex      ml.police.kat's Certificate
 *   envelope_recipient_cert.hex   ml.ngo.kat's Certificate
 *   envelope_recipient_prekey.hex ml.ngo.kat's signed Prekey
 *   envelope_recipient_prekey_secret.hex  its secret: key_id (8) || X25519
 *                                 public (32) || secret (32), published so
 *                                 another implementation can open the
 *                                 envelope offline (docs/CONFORMANCE.md)
 *   envelope_sealed.hex           the Envelope: payload "Sira KAT v1", one
 *                                 recipient, one attachment
 *   envelope_attachment_blob.hex  that attachment's encrypted blob
 *   envelope_receipt.hex          ml.ngo.kat's signed Receipt for it
 *   broker_cert.hex               the KAT broker ml.kat.broker's Certificate
 *   log_leaf_prekey.hex           the LogLeaf of the prekey's publication
 *   log_leaf_envelope.hex         the LogLeaf of the envelope's acceptance
 *   accepted_prekey.hex           the Accepted answering PublishPrekey
 *   accepted_envelope.hex         the Accepted answering Submit: leaf
 *                                 index, signed checkpoint, inclusion proof
 *                                 (a log of three leaves, the broker's own
 *                                 tlog code over a real LMDB store)
 *
 * Then the FROZEN bytes go through the normal API: the certificates and the
 * prekey verify, the envelope opens (and its attachment decrypts), and the
 * receipt verifies; so the vectors also prove that the opener accepts them.
 * A change to any wire byte fails here, and the diff shows where.
 *
 * Files: hex, 32 bytes a line, after one '#' comment line. The directory is
 * $SIRA_VECTORS, else "tests/vectors" (tests run from the repository root).
 *
 * REGENERATE (only after a deliberate, documented wire change):
 *
 *   SIRA_REGEN_VECTORS=1 build/<tree>/tests/test_agent_vectors
 *
 * writes the files instead of comparing them (and still runs the opening
 * checks on what it wrote). Review the diff, and rebuild the fuzz seeds from
 * them (see tests/fuzz/fuzz_envelope.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_fixture.h"
#include "control.pb-c.h"
#include "digest.h"
#include "envelope_kat.h"
#include "merkle.h"
#include "sign.h"
#include "signed.h"
#include "tlog.h"
#include "wire.h"

#define HEX_PER_LINE 32

static struct kat kat;

static bool
regen(void)
{
	const char *v = getenv("SIRA_REGEN_VECTORS");

	return v != NULL && strcmp(v, "1") == 0;
}

static void
vector_path(const char *name, char *path, size_t len)
{
	const char *dir = getenv("SIRA_VECTORS");
	int n;

	n = snprintf(path, len, "%s/%s.hex",
	    dir != NULL && dir[0] != '\0' ? dir : "tests/vectors", name);
	assert_true(n > 0 && (size_t)n < len);
}

static void
vector_write(const char *name, const char *comment, const struct kat_buf *b)
{
	char path[4096], hex[2 * HEX_PER_LINE + 1];
	FILE *f;

	vector_path(name, path, sizeof(path));
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot write %s", path);
	fprintf(f, "# %s: %s\n", name, comment);
	for (size_t off = 0; off < b->len; off += HEX_PER_LINE) {
		size_t n =
		    b->len - off < HEX_PER_LINE ? b->len - off : HEX_PER_LINE;
		(void)sodium_bin2hex(hex, sizeof(hex), b->p + off, n);
		fprintf(f, "%s\n", hex);
	}
	assert_int_equal(fclose(f), 0);
	print_message("wrote %s (%zu bytes)\n", path, b->len);
}

/* Read a vector: '#' lines, then hex (whitespace ignored). */
static struct kat_buf
vector_read(const char *name)
{
	char path[4096], *text, *hex;
	struct kat_buf b = { NULL, 0 };
	const char *end;
	long size;
	FILE *f;

	vector_path(name, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot read %s (create it with SIRA_REGEN_VECTORS=1)",
		    path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((size = ftell(f)) > 0);
	rewind(f);
	assert_non_null(text = calloc(1, (size_t)size + 1));
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_true(text[0] == '#');
	hex = text;
	while (*hex == '#') {
		char *nl = strchr(hex, '\n');
		assert_non_null(nl);
		hex = nl + 1;
	}
	assert_non_null(b.p = malloc(strlen(hex) / 2 + 1));
	if (sodium_hex2bin(b.p, strlen(hex) / 2 + 1, hex, strlen(hex),
		" \t\r\n", &b.len, &end) != 0 ||
	    *end != '\0')
		fail_msg("%s is not hex", path);
	free(text);
	return b;
}

static void
vector_free(struct kat_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

/* Compare b with the frozen vector, or write it in regenerate mode. */
static void
vector_check(const char *name, const char *comment, const struct kat_buf *b)
{
	struct kat_buf frozen;
	size_t i, n;

	if (regen()) {
		vector_write(name, comment, b);
		return;
	}
	frozen = vector_read(name);
	n = frozen.len < b->len ? frozen.len : b->len;
	for (i = 0; i < n && frozen.p[i] == b->p[i]; i++)
		;
	if (i < n || frozen.len != b->len) {
		print_error(
		    "%s: rebuilt %zu bytes, frozen %zu; first difference "
		    "at byte %zu. A wire change? Regenerate with "
		    "SIRA_REGEN_VECTORS=1 only if it was deliberate.\n",
		    name, b->len, frozen.len, i);
		vector_free(&frozen);
		fail();
	}
	vector_free(&frozen);
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct sira_err err = { 0 };

	(void)state;
	if (kat_build(&kat, &err) != 0) {
		print_error("kat_build: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kat_free(&kat);
	return 0;
}

/* The frozen certificates, verified as an agent would load them. */
struct frozen_certs {
	struct cert *ca, *snd, *rcp;
};

static void
load_certs(struct frozen_certs *fc)
{
	struct kat_buf b;
	struct sira_err err;

	b = vector_read("envelope_ca_cert");
	assert_int_equal(
	    cert_load_ca(b.p, b.len, KAT_OPEN_AT, &fc->ca, &err), 0);
	vector_free(&b);
	b = vector_read("envelope_sender_cert");
	assert_int_equal(cert_verify(fc->ca, NULL, bytes_of(b.p, b.len),
			     KAT_OPEN_AT, &fc->snd, &err),
	    0);
	vector_free(&b);
	b = vector_read("envelope_recipient_cert");
	assert_int_equal(cert_verify(fc->ca, NULL, bytes_of(b.p, b.len),
			     KAT_OPEN_AT, &fc->rcp, &err),
	    0);
	vector_free(&b);
	assert_string_equal(fc->snd->agency_id, KAT_SENDER_ID);
	assert_string_equal(fc->rcp->agency_id, KAT_RECIPIENT_ID);
}

static void
free_certs(struct frozen_certs *fc)
{
	cert_destroy(&fc->ca);
	cert_destroy(&fc->snd);
	cert_destroy(&fc->rcp);
}

/* ---- the recipient's store, in memory ---- */

struct kat_store {
	const struct cert *me, *sender;
	const struct prekey_secret *sec;
	int prekey_calls, sender_calls;
};

static int
store_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	struct kat_store *s = ctx;

	s->prekey_calls++;
	if (memcmp(cert_id, s->me->id, SIRA_HASH_LEN) != 0 ||
	    memcmp(key_id, s->sec->key_id, SIRA_PREKEY_ID_LEN) != 0)
		return -SIRA_EPREKEY;
	*out = s->sec;
	return 0;
}

static int
store_sender(void *ctx, const char *agency_id, const uint8_t *cert_id,
    uint64_t at, const struct cert **out, struct sira_err *err)
{
	struct kat_store *s = ctx;

	s->sender_calls++;
	if (strcmp(agency_id, s->sender->agency_id) != 0 ||
	    memcmp(cert_id, s->sender->id, SIRA_HASH_LEN) != 0 ||
	    at < s->sender->not_before || at > s->sender->not_after)
		return sira_err_set(
		    err, SIRA_EUNKNOWN_AGENCY, "unknown sender");
	*out = s->sender;
	return 0;
}

static int
store_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	(void)ctx;
	(void)cert_id;
	(void)msgid;
	return 0;
}

/* ---- tests: the rebuilt bytes equal the frozen ones ---- */

static void
test_rng_is_deterministic(void **state)
{
	uint8_t a[16], b[16];
	uint64_t saved = kat_rng_ctr;

	(void)state;
	assert_true(kat_rng_installed());
	kat_rng_ctr = 42;
	randombytes_buf(a, sizeof(a));
	kat_rng_ctr = 42;
	randombytes_buf(b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	randombytes_buf(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	kat_rng_ctr = saved;
}

static void
test_ca_cert(void **state)
{
	struct kat_buf b = { kat.ca->raw, kat.ca->raw_len };

	(void)state;
	vector_check("envelope_ca_cert",
	    "Certificate of the KAT CA ml.kat.ca (Ed25519 seed 32 x 0x11), "
	    "valid 2026-01-01..2036-01-01; tests/unit/test_agent_vectors.c",
	    &b);
}

static void
test_sender_cert(void **state)
{
	struct kat_buf b = { kat.snd->raw, kat.snd->raw_len };

	(void)state;
	vector_check("envelope_sender_cert",
	    "Certificate of sender ml.police.kat (serial 1, seeds 0x22/0x23) "
	    "signed by ml.kat.ca; tests/unit/test_agent_vectors.c",
	    &b);
}

static void
test_recipient_cert(void **state)
{
	struct kat_buf b = { kat.rcp->raw, kat.rcp->raw_len };

	(void)state;
	vector_check("envelope_recipient_cert",
	    "Certificate of recipient ml.ngo.kat (serial 2, seeds 0x44/0x45) "
	    "signed by ml.kat.ca; tests/unit/test_agent_vectors.c",
	    &b);
}

static void
test_recipient_prekey(void **state)
{
	struct kat_buf b = { kat.prekey->raw, kat.prekey->raw_len };

	(void)state;
	vector_check("envelope_recipient_prekey",
	    "signed Prekey of ml.ngo.kat from prekey_generate at 1772409637 "
	    "for 7 days (deterministic RNG); tests/unit/test_agent_vectors.c",
	    &b);
}

static void
test_recipient_prekey_secret(void **state)
{
	uint8_t raw[SIRA_PREKEY_ID_LEN + 2 * SIRA_CURVE_KEY_LEN];
	struct kat_buf b = { raw, sizeof(raw) };

	(void)state;
	memcpy(raw, kat.prekey_sec->key_id, SIRA_PREKEY_ID_LEN);
	memcpy(
	    raw + SIRA_PREKEY_ID_LEN, kat.prekey_sec->pk, SIRA_CURVE_KEY_LEN);
	memcpy(raw + SIRA_PREKEY_ID_LEN + SIRA_CURVE_KEY_LEN,
	    kat.prekey_sec->sk, SIRA_CURVE_KEY_LEN);
	vector_check("envelope_recipient_prekey_secret",
	    "ml.ngo.kat's prekey secret: key_id(8) || x25519 pk(32) || sk(32); "
	    "public test key, never use it",
	    &b);
}

/* The prekey secret as an outside implementation gets it: from the file,
 * its public half derived again and equal to the signed prekey's. */
static void
frozen_prekey_secret(struct prekey_secret *out)
{
	struct kat_buf b = vector_read("envelope_recipient_prekey_secret");
	uint8_t pk[SIRA_CURVE_KEY_LEN];

	assert_int_equal(b.len, SIRA_PREKEY_ID_LEN + 2 * SIRA_CURVE_KEY_LEN);
	memcpy(out->key_id, b.p, SIRA_PREKEY_ID_LEN);
	memcpy(out->pk, b.p + SIRA_PREKEY_ID_LEN, SIRA_CURVE_KEY_LEN);
	memcpy(out->sk, b.p + SIRA_PREKEY_ID_LEN + SIRA_CURVE_KEY_LEN,
	    SIRA_CURVE_KEY_LEN);
	assert_int_equal(crypto_scalarmult_base(pk, out->sk), 0);
	assert_memory_equal(pk, out->pk, SIRA_CURVE_KEY_LEN);
	assert_memory_equal(out->pk, kat.prekey->pk, SIRA_CURVE_KEY_LEN);
	assert_memory_equal(
	    out->key_id, kat.prekey->key_id, SIRA_PREKEY_ID_LEN);
	vector_free(&b);
}

static void
test_sealed_envelope(void **state)
{
	(void)state;
	vector_check("envelope_sealed",
	    "Envelope ml.police.kat -> ml.ngo.kat sealed at 1772409637, "
	    "payload \"Sira KAT v1\", one attachment kat-note.txt "
	    "(deterministic RNG); tests/unit/test_agent_vectors.c",
	    &kat.env);
}

static void
test_attachment_blob(void **state)
{
	(void)state;
	vector_check("envelope_attachment_blob",
	    "encrypted blob of attachment 0 of envelope_sealed "
	    "(\"Sira KAT attachment v1\\n\"); tests/unit/test_agent_vectors.c",
	    &kat.blob);
}

static void
test_receipt(void **state)
{
	(void)state;
	vector_check("envelope_receipt",
	    "Receipt (accepted) by ml.ngo.kat for envelope_sealed, received "
	    "at 1772409757; tests/unit/test_agent_vectors.c",
	    &kat.receipt);
}

/* ---- tests: the frozen bytes pass the normal API ---- */

static void
test_frozen_prekey_verifies(void **state)
{
	struct frozen_certs fc = { 0 };
	struct prekey *pk = NULL;
	struct kat_buf b;
	struct sira_err err;

	(void)state;
	load_certs(&fc);
	b = vector_read("envelope_recipient_prekey");
	assert_int_equal(
	    prekey_verify(fc.rcp, b.p, b.len, KAT_OPEN_AT, &pk, &err), 0);
	assert_memory_equal(pk->pk, kat.prekey_sec->pk, SIRA_CURVE_KEY_LEN);
	assert_memory_equal(
	    pk->key_id, kat.prekey_sec->key_id, SIRA_PREKEY_ID_LEN);
	assert_memory_equal(pk->owner_cert_id, fc.rcp->id, SIRA_HASH_LEN);
	assert_int_equal(pk->not_before, KAT_NOW);
	assert_int_equal(pk->not_after, KAT_NOW + KAT_PREKEY_LIFE);
	prekey_destroy(&pk);
	vector_free(&b);
	free_certs(&fc);
}

static void
write_file(const char *path, const struct kat_buf *b)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

static void
check_attachment(const struct opened *o)
{
	char dir[] = "/tmp/sira-kat-XXXXXX", blob[64], dest[64], got[64];
	struct kat_buf b = vector_read("envelope_attachment_blob");
	struct sira_err err;
	size_t n;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(blob, sizeof(blob), "%s/blob", dir);
	(void)snprintf(dest, sizeof(dest), "%s/%s", dir, KAT_ATT_NAME);
	write_file(blob, &b);
	assert_int_equal(seal_open_attachment(o, 0, blob, dest, &err), 0);
	assert_non_null(f = fopen(dest, "rb"));
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, strlen(KAT_ATT_DATA));
	assert_memory_equal(got, KAT_ATT_DATA, n);
	assert_int_equal(unlink(dest), 0);
	assert_int_equal(unlink(blob), 0);
	assert_int_equal(rmdir(dir), 0);
	vector_free(&b);
}

static void
check_manifest(const struct opened *o, const struct frozen_certs *fc)
{
	const Sira__V1__ManifestTBS *m = o->manifest;

	assert_string_equal(m->sender_agency_id, KAT_SENDER_ID);
	assert_memory_equal(m->sender_cert_id.data, fc->snd->id, SIRA_HASH_LEN);
	assert_int_equal(m->created_at, KAT_NOW - KAT_NOW % 60);
	assert_int_equal(m->expires_at, KAT_NOW - KAT_NOW % 60 + KAT_TTL);
	assert_string_equal(m->content_type, KAT_CONTENT_TYPE);
	assert_string_equal(m->case_ref, KAT_CASE_REF);
	assert_int_equal(
	    m->kind, SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL);
	assert_int_equal(m->n_recipients, 1);
	assert_string_equal(m->recipients[0]->agency_id, KAT_RECIPIENT_ID);
	assert_memory_equal(
	    m->recipients[0]->cert_id.data, fc->rcp->id, SIRA_HASH_LEN);
	assert_int_equal(m->recipients[0]->pair_seq, KAT_PAIR_SEQ);
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0]->filename, KAT_ATT_NAME);
	assert_string_equal(m->attachments[0]->media_type, KAT_ATT_TYPE);
	assert_int_equal(
	    m->attachments[0]->plaintext_len, strlen(KAT_ATT_DATA));
	assert_int_equal(m->attachments[0]->ct_len, kat.blob.len);
}

static void
test_frozen_envelope_opens(void **state)
{
	struct frozen_certs fc = { 0 };
	struct kat_buf b;
	struct opened *o = NULL;
	struct sira_err err = { 0 };
	struct kat_store st = { 0 };
	struct open_keys keys = { 0 };
	struct prekey_secret sec;
	int rc;

	(void)state;
	load_certs(&fc);
	frozen_prekey_secret(&sec); /* the vectors alone open it */
	st.me = fc.rcp;
	st.sender = fc.snd;
	st.sec = &sec;
	keys.me = fc.rcp;
	keys.ctx = &st;
	keys.prekey = store_prekey;
	keys.sender_cert = store_sender;
	keys.seen = store_seen;
	b = vector_read("envelope_sealed");
	rc = seal_open(b.p, b.len, &keys, KAT_OPEN_AT, &o, &err);
	if (rc != 0)
		fail_msg("seal_open: %d %s", rc, err.msg);
	assert_int_equal(st.prekey_calls, 1);
	assert_int_equal(st.sender_calls, 1);
	assert_int_equal(o->payload_len, strlen(KAT_PAYLOAD));
	assert_memory_equal(o->payload, KAT_PAYLOAD, o->payload_len);
	assert_memory_equal(
	    o->env->h->message_id.data, kat.meta.message_id, SIRA_MSGID_LEN);
	assert_memory_equal(
	    o->env->hash, kat.meta.envelope_hash, SIRA_HASH_LEN);
	assert_memory_equal(o->env->h->manifest_hash.data,
	    kat.meta.manifest_hash, SIRA_HASH_LEN);
	assert_memory_equal(o->manifest_sig_sha256,
	    kat.meta.manifest_sig_sha256, SIRA_HASH_LEN);
	check_manifest(o, &fc);
	check_attachment(o);
	seal_opened_destroy(&o);

	/* One bit flipped in the body's tag: refused, nothing returned. */
	b.p[b.len - 1] ^= 0x01;
	assert_int_equal(
	    seal_open(b.p, b.len, &keys, KAT_OPEN_AT, &o, &err), -SIRA_EAUTH);
	assert_null(o);
	vector_free(&b);
	free_certs(&fc);
}

static void
test_frozen_receipt_verifies(void **state)
{
	struct frozen_certs fc = { 0 };
	struct receipt_expect x;
	struct receipt_info info;
	struct kat_buf b;
	struct sira_err err = { 0 };
	const char *ids[1] = { KAT_RECIPIENT_ID };
	uint8_t cids[1][SIRA_HASH_LEN];
	int rc;

	(void)state;
	load_certs(&fc);
	memcpy(cids[0], fc.rcp->id, SIRA_HASH_LEN);
	memset(&x, 0, sizeof(x));
	memcpy(x.message_id, kat.meta.message_id, SIRA_MSGID_LEN);
	memcpy(x.envelope_hash, kat.meta.envelope_hash, SIRA_HASH_LEN);
	memcpy(x.manifest_hash, kat.meta.manifest_hash, SIRA_HASH_LEN);
	memcpy(
	    x.manifest_sig_sha256, kat.meta.manifest_sig_sha256, SIRA_HASH_LEN);
	memcpy(x.sender_cert_id, fc.snd->id, SIRA_HASH_LEN);
	x.created_at = kat.meta.created_at;
	x.recipient_ids = ids;
	x.recipient_cert_ids = (const uint8_t(*)[SIRA_HASH_LEN])cids;
	x.n_recipients = 1;
	b = vector_read("envelope_receipt");
	rc = receipt_verify(b.p, b.len, fc.rcp, &x, &info, &err);
	if (rc != 0)
		fail_msg("receipt_verify: %d %s", rc, err.msg);
	assert_int_equal(info.kind, RECEIPT_ACCEPTED);
	assert_int_equal(info.reject_reason, 0);
	assert_int_equal(info.received_at, KAT_RECEIVED_AT);
	assert_string_equal(info.recipient, KAT_RECIPIENT_ID);

	/* The sender's key cannot have signed it. */
	assert_int_equal(
	    receipt_verify(b.p, b.len, fc.snd, &x, &info, &err), -SIRA_EBADSIG);
	vector_free(&b);
	free_certs(&fc);
}

/* ---- the broker's answers: Accepted, log leaves, checkpoint ---- */

#define KAT_BROKER_ID "ml.kat.broker"

struct logkat {
	struct sira_keys *bkeys;
	struct cert *bcert;
	struct kat_buf leaf[2];     /* prekey, envelope */
	struct kat_buf accepted[2]; /* prekey, envelope */
};

static struct kat_buf
packed(const ProtobufCMessage *m)
{
	struct kat_buf b = { NULL, 0 };

	assert_int_equal(wire_pack(m, &b.p, &b.len, NULL), 0);
	return b;
}

/* A LogLeaf as the broker writes it (broker/commit.c append). */
static struct kat_buf
leaf_of(int type, const uint8_t hash[32], const char *actor, const char *to,
    uint32_t bucket)
{
	Sira__V1__LogLeaf l = SIRA__V1__LOG_LEAF__INIT;
	char *cp[1] = { (char *)(uintptr_t)to };

	l.version = 1;
	l.type = (Sira__V1__LeafType)type;
	l.time = KAT_NOW - KAT_NOW % 60;
	l.object_hash.data = (uint8_t *)(uintptr_t)hash;
	l.object_hash.len = 32;
	l.actor_agency_id = (char *)(uintptr_t)actor;
	l.n_counterpart_agency_ids = to != NULL ? 1 : 0;
	l.counterpart_agency_ids = to != NULL ? cp : NULL;
	l.size_bucket = bucket;
	return packed(&l.base);
}

/* The Accepted for leaf index of the tree (as broker/commit.c sends it). */
static struct kat_buf
accepted_of(MDB_txn *txn, const struct tlog *t, const uint8_t *msgid,
    const uint8_t hash[32], uint64_t index, const uint8_t *cp, size_t cplen)
{
	Sira__V1__Accepted a = SIRA__V1__ACCEPTED__INIT;
	uint8_t proof[TLOG_PROOF_MAX][32];
	ProtobufCBinaryData pb[TLOG_PROOF_MAX];
	struct kat_buf b;
	uint64_t size;
	struct merkle_proof pp = { proof[0], TLOG_PROOF_MAX, 0 };

	assert_int_equal(tlog_size(txn, t, &size), 0);
	assert_int_equal(tlog_inclusion(txn, t, index, size, &pp, NULL), 0);
	for (size_t i = 0; i < pp.n; i++) {
		pb[i].data = proof[i];
		pb[i].len = 32;
	}
	a.message_id.data = (uint8_t *)(uintptr_t)msgid;
	a.message_id.len = msgid != NULL ? SIRA_MSGID_LEN : 0;
	a.envelope_hash.data = (uint8_t *)(uintptr_t)hash;
	a.envelope_hash.len = 32;
	a.leaf_index = index;
	assert_non_null(a.checkpoint = sira__v1__signed_checkpoint__unpack(
			    NULL, cplen, cp));
	a.n_inclusion_proof = pp.n;
	a.inclusion_proof = pb;
	b = packed(&a.base);
	sira__v1__signed_checkpoint__free_unpacked(a.checkpoint, NULL);
	return b;
}

static void
prekey_hash_of(const struct kat_buf *prekey, uint8_t out[32])
{
	Sira__V1__Prekey *p =
	    sira__v1__prekey__unpack(NULL, prekey->len, prekey->p);
	struct digest_part part;

	assert_non_null(p);
	part.p = p->tbs.data;
	part.len = p->tbs.len;
	digest_lp(out, SIRA_DH_PREKEY_ID, &part, 1);
	sira__v1__prekey__free_unpacked(p, NULL);
}

/* A log of three leaves: the prekey's publication, the sender's
 * connection, the envelope's acceptance; one checkpoint over them. */
static void
logkat_build(struct logkat *lk)
{
	char dir[] = "/tmp/sira-katlog-XXXXXX";
	struct kat_buf pk = { kat.prekey->raw, kat.prekey->raw_len };
	struct kat_buf conn;
	struct store *st = NULL;
	struct tlog t;
	MDB_txn *txn = NULL;
	uint8_t phash[32], *cp = NULL;
	size_t cplen;
	uint64_t idx[3];
	struct envelope *e = NULL;
	struct sira_err err = { 0 };

	assert_int_equal(
	    kat_cert(kat.ca, kat.ca_keys, KAT_BROKER_ID, "KAT broker",
		SIRA_ROLE_BROKER, 3, 0x66, &lk->bkeys, &lk->bcert, &err),
	    0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, 1u << 24, 0, &st, &err), 0);
	t.st = st;
	t.keys = lk->bkeys;
	(void)snprintf(
	    t.origin, sizeof(t.origin), "%s/sira-log/v1", KAT_BROKER_ID);
	prekey_hash_of(&pk, phash);
	lk->leaf[0] = leaf_of(SIRA__V1__LEAF_TYPE__LEAF_TYPE_PREKEY_SERVED,
	    phash, KAT_RECIPIENT_ID, NULL, 0);
	conn = leaf_of(SIRA__V1__LEAF_TYPE__LEAF_TYPE_PEER_CONNECTED,
	    kat.snd->id, KAT_SENDER_ID, NULL, 0);
	assert_int_equal(envelope_decode(kat.env.p, kat.env.len, &e, NULL), 0);
	lk->leaf[1] = leaf_of(SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED,
	    kat.meta.envelope_hash, KAT_SENDER_ID, KAT_RECIPIENT_ID,
	    (uint32_t)e->h->size_bucket);
	envelope_destroy(&e);
	assert_int_equal(store_begin(st, 0, &txn, &err), 0);
	assert_int_equal(
	    tlog_append(txn, &t, lk->leaf[0].p, lk->leaf[0].len, &idx[0], &err),
	    0);
	assert_int_equal(
	    tlog_append(txn, &t, conn.p, conn.len, &idx[1], &err), 0);
	assert_int_equal(
	    tlog_append(txn, &t, lk->leaf[1].p, lk->leaf[1].len, &idx[2], &err),
	    0);
	assert_int_equal(
	    tlog_checkpoint(txn, &t, KAT_NOW, &cp, &cplen, &err), 0);
	lk->accepted[0] = accepted_of(txn, &t, NULL, phash, idx[0], cp, cplen);
	lk->accepted[1] = accepted_of(txn, &t, kat.meta.message_id,
	    kat.meta.envelope_hash, idx[2], cp, cplen);
	mdb_txn_abort(txn);
	free(cp);
	vector_free(&conn);
	store_close(&st);
	fx_rmdir(dir);
}

static void
logkat_free(struct logkat *lk)
{
	for (int i = 0; i < 2; i++) {
		vector_free(&lk->leaf[i]);
		vector_free(&lk->accepted[i]);
	}
	cert_destroy(&lk->bcert);
	keys_destroy(&lk->bkeys);
}

static void
test_log_vectors(void **state)
{
	struct logkat lk = { 0 };
	struct kat_buf bc;

	(void)state;
	logkat_build(&lk);
	bc.p = lk.bcert->raw;
	bc.len = lk.bcert->raw_len;
	vector_check("broker_cert",
	    "Certificate of the KAT broker ml.kat.broker (Ed25519 seed 32 x "
	    "0x66, transport seed 32 x 0x67), signed by ml.kat.ca",
	    &bc);
	vector_check("log_leaf_prekey",
	    "LogLeaf PREKEY_SERVED of ml.ngo.kat's prekey (index 0)",
	    &lk.leaf[0]);
	vector_check("log_leaf_envelope",
	    "LogLeaf ENVELOPE_ACCEPTED of envelope_sealed (index 2)",
	    &lk.leaf[1]);
	vector_check("accepted_prekey",
	    "Accepted answering PublishPrekey of envelope_recipient_prekey",
	    &lk.accepted[0]);
	vector_check("accepted_envelope",
	    "Accepted answering Submit of envelope_sealed: tree of 3 leaves",
	    &lk.accepted[1]);
	logkat_free(&lk);
}

/* Check a frozen Accepted as an agent does (PROTOCOL.md 13.4), from the
 * frozen files alone; *out_size receives the checkpoint's tree size. */
static void
check_frozen_accepted(const struct cert *broker, const char *accepted,
    const char *leaf, int type, const char *actor, const uint8_t hash[32],
    const uint8_t *msgid)
{
	struct kat_buf a = vector_read(accepted), l = vector_read(leaf);
	Sira__V1__Accepted *acc;
	Sira__V1__Checkpoint *cp;
	Sira__V1__LogLeaf *ll;
	struct signed_obj so;
	uint8_t *raw, lh[32], proof[TLOG_PROOF_MAX * 32];
	size_t len;

	assert_non_null(acc = sira__v1__accepted__unpack(NULL, a.len, a.p));
	assert_int_equal(acc->message_id.len, msgid ? SIRA_MSGID_LEN : 0);
	if (msgid != NULL)
		assert_memory_equal(
		    acc->message_id.data, msgid, SIRA_MSGID_LEN);
	assert_memory_equal(acc->envelope_hash.data, hash, 32);
	/* The checkpoint, signed by the broker's LOG_SIGN key. */
	assert_true((broker->key_usage & SIRA_KU_LOG_SIGN) != 0);
	assert_int_equal(
	    wire_pack(&acc->checkpoint->base, &raw, &len, NULL), 0);
	assert_int_equal(signed_split(bytes_of(raw, len), 4096, 4096,
			     "checkpoint", &so, NULL),
	    0);
	assert_int_equal(sign_verify(broker->sign_pk, SIRA_DS_CHECKPOINT,
			     so.tbs, so.tbs_len, so.sig),
	    0);
	assert_non_null(
	    cp = sira__v1__checkpoint__unpack(NULL, so.tbs_len, so.tbs));
	assert_string_equal(cp->origin, KAT_BROKER_ID "/sira-log/v1");
	assert_int_equal(cp->size, 3);
	/* The leaf (from a ProofRequest): what it names, and by whom. */
	assert_non_null(ll = sira__v1__log_leaf__unpack(NULL, l.len, l.p));
	assert_int_equal(ll->type, type);
	assert_memory_equal(ll->object_hash.data, hash, 32);
	assert_string_equal(ll->actor_agency_id, actor);
	/* And its inclusion under the signed root. */
	for (size_t i = 0; i < acc->n_inclusion_proof; i++) {
		assert_int_equal(acc->inclusion_proof[i].len, 32);
		memcpy(proof + 32 * i, acc->inclusion_proof[i].data, 32);
	}
	merkle_leaf_hash(l.p, l.len, lh);
	assert_int_equal(
	    merkle_verify_inclusion(lh, acc->leaf_index, cp->size,
		(struct merkle_hashes){ proof, acc->n_inclusion_proof },
		cp->root.data, NULL),
	    0);
	lh[0] ^= 1; /* another leaf does not verify */
	assert_int_not_equal(
	    merkle_verify_inclusion(lh, acc->leaf_index, cp->size,
		(struct merkle_hashes){ proof, acc->n_inclusion_proof },
		cp->root.data, NULL),
	    0);
	sira__v1__log_leaf__free_unpacked(ll, NULL);
	sira__v1__checkpoint__free_unpacked(cp, NULL);
	signed_clear(&so);
	free(raw);
	sira__v1__accepted__free_unpacked(acc, NULL);
	vector_free(&a);
	vector_free(&l);
}

static void
test_frozen_accepted_verifies(void **state)
{
	struct frozen_certs fc = { 0 };
	struct kat_buf b = vector_read("broker_cert"), env, pk;
	struct cert *broker = NULL;
	struct envelope *e = NULL;
	uint8_t phash[32];

	(void)state;
	load_certs(&fc);
	assert_int_equal(cert_verify(fc.ca, NULL, bytes_of(b.p, b.len),
			     KAT_OPEN_AT, &broker, NULL),
	    0);
	assert_int_equal(broker->role, SIRA_ROLE_BROKER);
	env = vector_read("envelope_sealed");
	assert_int_equal(envelope_decode(env.p, env.len, &e, NULL), 0);
	check_frozen_accepted(broker, "accepted_envelope", "log_leaf_envelope",
	    SIRA__V1__LEAF_TYPE__LEAF_TYPE_ENVELOPE_ACCEPTED, KAT_SENDER_ID,
	    e->hash, e->h->message_id.data);
	pk = vector_read("envelope_recipient_prekey");
	prekey_hash_of(&pk, phash);
	check_frozen_accepted(broker, "accepted_prekey", "log_leaf_prekey",
	    SIRA__V1__LEAF_TYPE__LEAF_TYPE_PREKEY_SERVED, KAT_RECIPIENT_ID,
	    phash, NULL);
	envelope_destroy(&e);
	cert_destroy(&broker);
	vector_free(&b);
	vector_free(&env);
	vector_free(&pk);
	free_certs(&fc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_is_deterministic),
		cmocka_unit_test(test_ca_cert),
		cmocka_unit_test(test_sender_cert),
		cmocka_unit_test(test_recipient_cert),
		cmocka_unit_test(test_recipient_prekey),
		cmocka_unit_test(test_recipient_prekey_secret),
		cmocka_unit_test(test_sealed_envelope),
		cmocka_unit_test(test_attachment_blob),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_frozen_prekey_verifies),
		cmocka_unit_test(test_frozen_envelope_opens),
		cmocka_unit_test(test_frozen_receipt_verifies),
		cmocka_unit_test(test_log_vectors),
		cmocka_unit_test(test_frozen_accepted_verifies),
	};

	if (kat_rng_install() != 0 || sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
