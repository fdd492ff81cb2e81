/*
 * seal.c: the only code that seals and opens envelope bodies and content-key
 * wraps (crypto_box_seal and _open, crypto_aead_xchacha20poly1305_ietf_*,
 * crypto_kdf for the per-message subkeys, crypto_generichash for the key
 * commitment). The construction, field by field, is docs/PROTOCOL.md
 * section 7; this file follows it step by step.
 *
 * Keys: K lives in sodium_malloc memory (when opening, in the opened
 * message's guarded arena, with the wrap it came in: lib/secarena.h) and is
 * wiped by seal_destroy or seal_opened_destroy; derived subkeys live on the
 * stack and are wiped before each function returns. Plaintext bodies are wiped
 * before they are freed. Opening returns nothing until every check has passed.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "digest.h"
#include "crypto/crypto.h"
#include "payload.pb-c.h"
#include "secarena.h"
#include "wire.h"
#include "i18n.h"

#define K_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SUBKEY_BODY 1
#define SUBKEY_ATTACH_BASE 1000
#define DS_KEY_COMMIT "sira-v1/key-commit"
#define DS_ENV_AD "sira-v1/env-ad"

struct seal {
	const struct seal_params *p;
	struct secarena *arena; /* guarded, holds K */
	uint8_t *k;             /* K */
	uint8_t msgid[SIRA_MSGID_LEN];
	uint64_t created_at;
	uint64_t expires_at;
	bool finished;     /* seal_finish ran: K is wiped, the seal is spent */
	uint8_t *manifest; /* SignedManifest bytes once finished, owned */
	size_t manifest_len;
	struct {
		struct attach_info info;
		char filename[SIRA_FILENAME_MAX + 1];
		char media_type[SIRA_MEDIA_TYPE_MAX + 1];
	} att[SIRA_ATTACHMENTS_MAX];
	size_t n_att;
};

/*
 * An envelope body before encryption: the padded InnerBody, bucket bytes
 * long (owned: wiped, then freed, by seal_finish), and the fresh nonce it is
 * encrypted under.
 */
struct body {
	uint8_t *padded;
	uint32_t bucket;
	uint8_t nonce[NONCE_LEN];
};

/* The packed EnvelopeHeader: the exact bytes the body's associated data and
 * the envelope hash cover. bytes is owned (malloc'd by wire_pack). */
struct packed_header {
	uint8_t *bytes;
	size_t len;
};

/* The SignedManifest of a seal and the storage its sig field points into,
 * so never copied. pb.tbs.data is owned (malloc'd by manifest_sign). */
struct signed_manifest {
	Sira__V1__SignedManifest pb;
	uint8_t sig[SIRA_SIG_LEN];
};

_Static_assert(K_LEN == crypto_kdf_KEYBYTES, "K must be a kdf master key");
_Static_assert(NONCE_LEN == 24 && TAG_LEN == 16, "envelope.c constants");

/* The body key (id 1) or attachment key (id 1000 + i), derived from K. */
static void
subkey(const uint8_t *k, uint64_t id, uint8_t out[static K_LEN])
{
	(void)crypto_kdf_derive_from_key(
	    out, K_LEN, id, id == SUBKEY_BODY ? "SIRAbody" : "SIRAatt1", k);
}

/* BLAKE2b-256 keyed with K over LP(DS_KEY_COMMIT) || LP(message_id). */
static void
key_commitment(
    const uint8_t *k, const uint8_t *msgid, uint8_t out[static SIRA_HASH_LEN])
{
	uint8_t in[8 + sizeof(DS_KEY_COMMIT) - 1 + 8 + SIRA_MSGID_LEN];
	size_t dl = sizeof(DS_KEY_COMMIT) - 1;

	digest_lp_len(in, dl);
	memcpy(in + 8, DS_KEY_COMMIT, dl);
	digest_lp_len(in + 8 + dl, SIRA_MSGID_LEN);
	memcpy(in + 16 + dl, msgid, SIRA_MSGID_LEN);
	(void)crypto_generichash(out, SIRA_HASH_LEN, in, sizeof(in), k, K_LEN);
}

/* LP(DS_ENV_AD) || LP(header), fresh malloc'd. */
static uint8_t *
body_ad(const uint8_t *header, size_t len, size_t *adlen)
{
	size_t dl = sizeof(DS_ENV_AD) - 1;
	uint8_t *ad;

	if (len > SIZE_MAX - 16 - dl || (ad = malloc(16 + dl + len)) == NULL)
		return NULL;
	digest_lp_len(ad, dl);
	memcpy(ad + 8, DS_ENV_AD, dl);
	digest_lp_len(ad + 8 + dl, len);
	memcpy(ad + 16 + dl, header, len);
	*adlen = 16 + dl + len;
	return ad;
}

static int
check_recipient(
    const struct seal_recipient *r, uint64_t now, struct sira_err *err)
{
	const struct prekey *pk = r->prekey;

	if (strcmp(pk->agency_id, r->cert->agency_id) != 0 ||
	    memcmp(pk->owner_cert_id, r->cert->id, SIRA_HASH_LEN) != 0 ||
	    now + SIRA_CLOCK_SKEW < pk->not_before || now > pk->not_after)
		return sira_err_set(err, SIRA_EPREKEY,
		    _("no valid prekey for %s: fetch the directory again"),
		    r->cert->agency_id);
	if (r->cert->is_ca || r->cert->role == SIRA_ROLE_BROKER)
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s cannot receive messages"), r->cert->agency_id);
	return 0;
}

static int
check_params(const struct seal_params *p, struct sira_err *err)
{
	int rc;

	if ((p->sender->key_usage & SIRA_KU_ENVELOPE_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s may not sign envelopes"), p->sender->agency_id);
	if (p->n_recipients < 1 || p->n_recipients > SIRA_RECIPIENTS_MAX ||
	    p->ttl == 0 || p->ttl > SIRA_TTL_MAX ||
	    strcmp(envelope_kind_name(p->kind), "unknown") == 0 ||
	    p->content_type[0] == '\0' ||
	    strlen(p->content_type) > SIRA_CONTENT_TYPE_MAX ||
	    strlen(p->case_ref) > SIRA_CASE_REF_MAX)
		return sira_err_set(
		    err, SIRA_EINVAL, _("invalid message parameters"));
	for (size_t i = 0; i < p->n_recipients; i++) {
		if ((rc = check_recipient(&p->recipients[i], p->now, err)) != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->recipients[i].cert->agency_id,
				p->recipients[j].cert->agency_id) == 0)
				return sira_err_set(err, SIRA_EINVAL,
				    _("%s is named twice"),
				    p->recipients[i].cert->agency_id);
	}
	return 0;
}

int
seal_begin(const struct seal_params *p, struct seal **out, struct sira_err *err)
{
	struct seal *s;
	int rc;

	*out = NULL;
	if ((rc = check_params(p, err)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->arena = secarena_new_in(p->pool, K_LEN)) == NULL ||
	    (s->k = secarena_alloc(s->arena, K_LEN)) == NULL) {
		seal_destroy(&s);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	s->p = p;
	if (p->message_id != NULL)
		memcpy(s->msgid, p->message_id, sizeof(s->msgid));
	else
		randombytes_buf(s->msgid, sizeof(s->msgid));
	crypto_aead_xchacha20poly1305_ietf_keygen(s->k);
	s->created_at = p->now - p->now % 60; /* coarse time in the header */
	s->expires_at = s->created_at + p->ttl;
	*out = s;
	return 0;
}

/* Whether another attachment named filename may be added to s. */
static int
attach_check(const struct seal *s, const char *filename, const char *media_type,
    struct sira_err *err)
{
	if (s->finished)
		return sira_err_set(err, SIRA_ESTATE,
		    _("message already finished: start a new one"));
	if (s->n_att >= SIRA_ATTACHMENTS_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("at most %d attachments per message"),
		    SIRA_ATTACHMENTS_MAX);
	if (!manifest_filename_valid(filename) ||
	    strlen(media_type) > SIRA_MEDIA_TYPE_MAX)
		return sira_err_set(
		    err, SIRA_EINVAL, _("invalid attachment name or type"));
	return 0;
}

/* Record the names of the attachment just encrypted. */
static void
attach_done(struct seal *s, const char *filename, const char *media_type)
{
	size_t i = s->n_att;

	(void)snprintf(
	    s->att[i].filename, sizeof(s->att[i].filename), "%s", filename);
	(void)snprintf(s->att[i].media_type, sizeof(s->att[i].media_type), "%s",
	    media_type);
	s->n_att++;
}

int
seal_attach_spool(struct seal *s, const struct attach_spool *spool, int blob_fd,
    const char *filename, const char *media_type, struct sira_err *err)
{
	uint8_t key[K_LEN];
	size_t i = s->n_att;
	struct attach_key ak = { key, s->msgid, (uint32_t)i };
	int rc;

	if ((rc = attach_check(s, filename, media_type, err)) != 0)
		return rc;
	subkey(s->k, SUBKEY_ATTACH_BASE + i, key);
	rc = attach_reseal(spool, &ak, blob_fd, &s->att[i].info, err);
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		attach_done(s, filename, media_type);
	return rc;
}

int
seal_attach(struct seal *s, int in_fd, int blob_fd, const char *filename,
    const char *media_type, struct sira_err *err)
{
	uint8_t key[K_LEN];
	size_t i = s->n_att;
	struct attach_key ak = { key, s->msgid, (uint32_t)i };
	int rc;

	if ((rc = attach_check(s, filename, media_type, err)) != 0)
		return rc;
	subkey(s->k, SUBKEY_ATTACH_BASE + i, key);
	rc = attach_seal(&ak, in_fd, blob_fd, &s->att[i].info, err);
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		attach_done(s, filename, media_type);
	return rc;
}

int
seal_attachment_info(const struct seal *s, uint32_t index,
    struct attach_info *out, struct sira_err *err)
{
	if (index >= s->n_att)
		return sira_err_set(
		    err, SIRA_EINVAL, _("no attachment %u"), index);
	*out = s->att[index].info;
	return 0;
}

/* Arrays the manifest and header point into while they are packed. */
struct build {
	Sira__V1__RecipientRef refs[SIRA_RECIPIENTS_MAX];
	Sira__V1__RecipientRef *refp[SIRA_RECIPIENTS_MAX];
	Sira__V1__AttachmentManifest am[SIRA_ATTACHMENTS_MAX];
	Sira__V1__AttachmentManifest *amp[SIRA_ATTACHMENTS_MAX];
	Sira__V1__AttachmentRef ar[SIRA_ATTACHMENTS_MAX];
	Sira__V1__AttachmentRef *arp[SIRA_ATTACHMENTS_MAX];
	Sira__V1__RecipientWrap w[SIRA_RECIPIENTS_MAX];
	Sira__V1__RecipientWrap *wp[SIRA_RECIPIENTS_MAX];
	uint8_t *sealed[SIRA_RECIPIENTS_MAX];
};

#define BIN(field, ptr, n) \
	do { \
		(field).data = (uint8_t *)(uintptr_t)(ptr); \
		(field).len = (n); \
	} while (0)

static void
fill_manifest_lists(const struct seal *s, struct build *b)
{
	for (size_t i = 0; i < s->p->n_recipients; i++) {
		const struct seal_recipient *r = &s->p->recipients[i];
		sira__v1__recipient_ref__init(&b->refs[i]);
		b->refs[i].agency_id = (char *)(uintptr_t)r->cert->agency_id;
		BIN(b->refs[i].cert_id, r->cert->id, SIRA_HASH_LEN);
		BIN(b->refs[i].prekey_id, r->prekey->key_id,
		    SIRA_PREKEY_ID_LEN);
		b->refs[i].pair_seq = r->pair_seq;
		b->refp[i] = &b->refs[i];
	}
	for (size_t i = 0; i < s->n_att; i++) {
		const struct attach_info *a = &s->att[i].info;
		sira__v1__attachment_manifest__init(&b->am[i]);
		b->am[i].index = (uint32_t)i;
		BIN(b->am[i].blob_id, a->blob_id, SIRA_HASH_LEN);
		b->am[i].ct_len = a->ct_len;
		BIN(b->am[i].plaintext_sha256, a->plaintext_sha256,
		    SIRA_HASH_LEN);
		b->am[i].plaintext_len = a->plaintext_len;
		b->am[i].filename = (char *)(uintptr_t)s->att[i].filename;
		b->am[i].media_type = (char *)(uintptr_t)s->att[i].media_type;
		b->am[i].chunk_size = a->chunk_size;
		b->amp[i] = &b->am[i];
	}
}

/* Sign the manifest; sm gets owned tbs bytes and the signature. */
static int
sign_manifest(const struct seal *s, struct build *b, const uint8_t *payload,
    size_t len, struct signed_manifest *sm, struct sira_err *err)
{
	const struct seal_params *p = s->p;
	Sira__V1__ManifestTBS m = SIRA__V1__MANIFEST_TBS__INIT;
	Sira__V1__PolicyLabel policy = SIRA__V1__POLICY_LABEL__INIT;
	uint8_t payload_hash[SIRA_HASH_LEN];

	fill_manifest_lists(s, b);
	digest_sha256(payload_hash, payload, len);
	m.version = SIRA_ENVELOPE_VERSION;
	BIN(m.message_id, s->msgid, SIRA_MSGID_LEN);
	m.sender_agency_id = (char *)(uintptr_t)p->sender->agency_id;
	BIN(m.sender_cert_id, p->sender->id, SIRA_HASH_LEN);
	m.created_at = s->created_at;
	m.expires_at = s->expires_at;
	m.n_recipients = p->n_recipients;
	m.recipients = b->refp;
	m.content_type = (char *)(uintptr_t)p->content_type;
	BIN(m.payload_sha256, payload_hash, SIRA_HASH_LEN);
	m.payload_len = len;
	m.n_attachments = s->n_att;
	m.attachments = b->amp;
	if (p->in_reply_to != NULL)
		BIN(m.in_reply_to, p->in_reply_to, SIRA_MSGID_LEN);
	m.case_ref = (char *)(uintptr_t)p->case_ref;
	policy.onward_sharing = (Sira__V1__OnwardSharing)p->onward_sharing;
	m.policy = &policy;
	m.kind = (Sira__V1__MessageKind)p->kind;
	BIN(sm->pb.sig, sm->sig, SIRA_SIG_LEN);
	return manifest_sign(&m, p->sender_keys->sign_sk, &sm->pb.tbs.data,
	    &sm->pb.tbs.len, sm->sig, err);
}

/* InnerBody, padded to its size bucket, in body->padded (wipe before
 * free) and body->bucket. */
static int
pad_inner(Sira__V1__SignedManifest *sm, const uint8_t *payload, size_t len,
    struct body *body, struct sira_err *err)
{
	Sira__V1__InnerBody inner = SIRA__V1__INNER_BODY__INIT;
	size_t inlen, plen;

	inner.manifest = sm;
	BIN(inner.payload, payload, len);
	inlen = protobuf_c_message_get_packed_size(&inner.base);
	if ((body->bucket = envelope_bucket_for(inlen)) == 0)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("message body of %zu bytes is too big; send large content as an attachment"),
		    inlen);
	if ((body->padded = malloc(body->bucket)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	(void)protobuf_c_message_pack(&inner.base, body->padded);
	if (sodium_pad(
		&plen, body->padded, inlen, body->bucket, body->bucket) != 0 ||
	    plen != body->bucket) {
		sodium_memzero(body->padded, body->bucket);
		free(body->padded);
		body->padded = NULL;
		return sira_err_set(err, SIRA_ECRYPTO, _("padding failed"));
	}
	return 0;
}

/* Seal K, the message id and the recipient's ids to its prekey. */
static int
wrap_one(const struct seal *s, const struct seal_recipient *r,
    Sira__V1__RecipientWrap *w, uint8_t **sealed, struct sira_err *err)
{
	Sira__V1__WrapPayload wp = SIRA__V1__WRAP_PAYLOAD__INIT;
	uint8_t buf[SIRA_WRAP_MAX];
	size_t len;
	int rc = 0;

	wp.version = SIRA_ENVELOPE_VERSION;
	BIN(wp.content_key, s->k, K_LEN);
	BIN(wp.message_id, s->msgid, SIRA_MSGID_LEN);
	BIN(wp.recipient_cert_id, r->cert->id, SIRA_HASH_LEN);
	BIN(wp.prekey_id, r->prekey->key_id, SIRA_PREKEY_ID_LEN);
	len = protobuf_c_message_get_packed_size(&wp.base);
	if (len + crypto_box_SEALBYTES > SIRA_WRAP_MAX)
		return sira_err_set(err, SIRA_ECRYPTO, _("wrap too large"));
	(void)protobuf_c_message_pack(&wp.base, buf);
	if ((*sealed = malloc(len + crypto_box_SEALBYTES)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	else if (crypto_box_seal(*sealed, buf, len, r->prekey->pk) != 0)
		rc = sira_err_set(err, SIRA_ECRYPTO, _("cannot wrap the key"));
	sodium_memzero(buf, sizeof(buf));
	sira__v1__recipient_wrap__init(w);
	w->agency_id = (char *)(uintptr_t)r->cert->agency_id;
	BIN(w->cert_id, r->cert->id, SIRA_HASH_LEN);
	BIN(w->prekey_id, r->prekey->key_id, SIRA_PREKEY_ID_LEN);
	BIN(w->sealed, *sealed, len + crypto_box_SEALBYTES);
	return rc;
}

/* Wrap K for every recipient and pack the header for body into *hdr. */
static int
pack_header(const struct seal *s, struct build *b, const struct body *body,
    const uint8_t *manifest_hash, struct packed_header *hdr,
    struct sira_err *err)
{
	Sira__V1__EnvelopeHeader h = SIRA__V1__ENVELOPE_HEADER__INIT;
	uint8_t commit[SIRA_HASH_LEN];
	int rc;

	for (size_t i = 0; i < s->p->n_recipients; i++) {
		if ((rc = wrap_one(s, &s->p->recipients[i], &b->w[i],
			 &b->sealed[i], err)) != 0)
			return rc;
		b->wp[i] = &b->w[i];
	}
	for (size_t i = 0; i < s->n_att; i++) {
		sira__v1__attachment_ref__init(&b->ar[i]);
		b->ar[i].index = (uint32_t)i;
		BIN(b->ar[i].blob_id, s->att[i].info.blob_id, SIRA_HASH_LEN);
		b->ar[i].ct_len = s->att[i].info.ct_len;
		b->arp[i] = &b->ar[i];
	}
	key_commitment(s->k, s->msgid, commit);
	h.version = SIRA_ENVELOPE_VERSION;
	BIN(h.message_id, s->msgid, SIRA_MSGID_LEN);
	h.sender_agency_id = (char *)(uintptr_t)s->p->sender->agency_id;
	BIN(h.sender_cert_id, s->p->sender->id, SIRA_HASH_LEN);
	h.kind = (Sira__V1__MessageKind)s->p->kind;
	h.created_at = s->created_at;
	h.expires_at = s->expires_at;
	h.n_recipients = s->p->n_recipients;
	h.recipients = b->wp;
	BIN(h.key_commitment, commit, SIRA_HASH_LEN);
	BIN(h.manifest_hash, manifest_hash, SIRA_HASH_LEN);
	h.size_bucket = (Sira__V1__SizeBucket)body->bucket;
	h.n_attachments = s->n_att;
	h.attachments = b->arp;
	BIN(h.body_nonce, body->nonce, NONCE_LEN);
	return wire_pack(&h.base, &hdr->bytes, &hdr->len, err);
}

/* Encrypt body with the header as AD into Envelope bytes: out->env,
 * out->len and out->meta.envelope_hash. */
static int
encrypt_body(const struct seal *s, const struct packed_header *hdr,
    const struct body *body, struct sealed_out *out, struct sira_err *err)
{
	Sira__V1__Envelope env = SIRA__V1__ENVELOPE__INIT;
	uint8_t key[K_LEN], *ad, *ct = NULL;
	size_t adlen;
	unsigned long long ctlen;
	int rc = 0;

	if ((ad = body_ad(hdr->bytes, hdr->len, &adlen)) == NULL ||
	    (ct = malloc((size_t)body->bucket + TAG_LEN)) == NULL) {
		free(ad);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	subkey(s->k, SUBKEY_BODY, key);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, body->padded,
		body->bucket, ad, adlen, NULL, body->nonce, key) != 0)
		rc = sira_err_set(err, SIRA_ECRYPTO, _("encryption failed"));
	sodium_memzero(key, sizeof(key));
	if (rc == 0) {
		envelope_hash_of(hdr->bytes, hdr->len, ct, (size_t)ctlen,
		    out->meta.envelope_hash);
		BIN(env.header, hdr->bytes, hdr->len);
		BIN(env.body_ct, ct, (size_t)ctlen);
		rc = wire_pack(&env.base, &out->env, &out->len, err);
	}
	free(ad);
	free(ct);
	return rc;
}

static void
build_free(struct build *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b->sealed[i]);
	free(b);
}

int
seal_finish(struct seal *s, const uint8_t *payload, size_t len,
    struct sealed_out *out, struct sira_err *err)
{
	struct signed_manifest sm = { SIRA__V1__SIGNED_MANIFEST__INIT, { 0 } };
	struct body body = { NULL, 0, { 0 } };
	struct packed_header hdr = { NULL, 0 };
	uint8_t *smbytes = NULL;
	size_t smlen;
	struct digest_part part;
	struct build *b;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s->finished) /* K is wiped: never seal under a zero key */
		return sira_err_set(err, SIRA_ESTATE,
		    _("message already finished: start a new one"));
	s->finished = true;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	randombytes_buf(body.nonce, sizeof(body.nonce));
	if ((rc = sign_manifest(s, b, payload, len, &sm, err)) != 0 ||
	    (rc = wire_pack(&sm.pb.base, &smbytes, &smlen, err)) != 0 ||
	    (rc = pad_inner(&sm.pb, payload, len, &body, err)) != 0)
		goto out;
	part.p = smbytes;
	part.len = smlen;
	digest_lp(out->meta.manifest_hash, SIRA_DH_MANIFEST, &part, 1);
	if ((rc = pack_header(
		 s, b, &body, out->meta.manifest_hash, &hdr, err)) != 0 ||
	    (rc = encrypt_body(s, &hdr, &body, out, err)) != 0)
		goto out;
	memcpy(out->meta.message_id, s->msgid, SIRA_MSGID_LEN);
	digest_sha256(out->meta.manifest_sig_sha256, sm.sig, sizeof(sm.sig));
	out->meta.created_at = s->created_at;
	out->meta.expires_at = s->expires_at;
	s->manifest = smbytes;
	s->manifest_len = smlen;
	smbytes = NULL;
out:
	if (body.padded != NULL)
		sodium_memzero(body.padded, body.bucket);
	free(body.padded);
	free(hdr.bytes);
	free(smbytes);
	free(sm.pb.tbs.data);
	build_free(b, s->p->n_recipients);
	sodium_memzero(s->k, K_LEN); /* K is used once */
	return rc;
}

void
seal_destroy(struct seal **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	secarena_free((*sp)->arena); /* K, wiped */
	free((*sp)->manifest);
	free(*sp);
	*sp = NULL;
}

int
seal_signed_manifest(
    const struct seal *s, const uint8_t **manifest, size_t *len)
{
	if (s->manifest == NULL)
		return -SIRA_ESTATE;
	*manifest = s->manifest;
	*len = s->manifest_len;
	return 0;
}

/* ---- opening ---- */

static int
same(ProtobufCBinaryData a, const uint8_t *b, size_t len)
{
	return a.len == len && memcmp(a.data, b, len) == 0;
}

/* Open my wrap into K (o->key) and check it names this message and me. */
static int
unwrap(const struct envelope *e, const Sira__V1__RecipientWrap *w,
    const struct prekey_secret *pks, struct opened *o, struct sira_err *err)
{
	Sira__V1__WrapPayload *wp = NULL;
	uint8_t *plain;
	size_t len;

	if (w->sealed.len <= crypto_box_SEALBYTES)
		return sira_err_set(err, SIRA_EMALFORMED, _("wrap too short"));
	/* The wrap's plaintext and what it unpacks to stay in o's arena,
	 * guarded, until seal_opened_destroy wipes them with K. */
	len = w->sealed.len - crypto_box_SEALBYTES;
	if ((plain = secarena_alloc(o->arena, len)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (crypto_box_seal_open(
		plain, w->sealed.data, w->sealed.len, pks->pk, pks->sk) != 0 ||
	    wire_unpack_secret_in(o->arena, &sira__v1__wrap_payload__descriptor,
		bytes_of(plain, len), SIRA_WRAP_MAX, (ProtobufCMessage **)&wp,
		NULL) != 0 ||
	    wp->version != SIRA_ENVELOPE_VERSION ||
	    wp->content_key.len != K_LEN ||
	    !same(wp->message_id, e->h->message_id.data, SIRA_MSGID_LEN) ||
	    !same(wp->recipient_cert_id, w->cert_id.data, SIRA_HASH_LEN) ||
	    !same(wp->prekey_id, w->prekey_id.data, SIRA_PREKEY_ID_LEN))
		return sira_err_set(err, SIRA_EAUTH,
		    _("the key wrap does not open or does not belong to this message"));
	memcpy(o->key, wp->content_key.data, K_LEN);
	return 0;
}

/* Decrypt and unpad the body; *inner is the parsed InnerBody. */
static int
decrypt_body(const struct envelope *e, const uint8_t *k,
    Sira__V1__InnerBody **inner, struct sira_err *err)
{
	uint8_t key[K_LEN], *ad, *pt;
	size_t adlen, ptlen, bucket = (size_t)e->h->size_bucket;
	unsigned long long got;
	ProtobufCMessage *m = NULL;
	int rc = 0;

	*inner = NULL;
	if ((ad = body_ad(e->header, e->header_len, &adlen)) == NULL ||
	    (pt = malloc(bucket)) == NULL) {
		free(ad);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	subkey(k, SUBKEY_BODY, key);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &got, NULL,
		e->body_ct, e->body_ct_len, ad, adlen, e->h->body_nonce.data,
		key) != 0 ||
	    got != bucket)
		rc = sira_err_set(err, SIRA_EAUTH,
		    _("message body does not authenticate (altered in transit)"));
	else if (sodium_unpad(&ptlen, pt, bucket, bucket) != 0)
		rc = sira_err_set(
		    err, SIRA_EMALFORMED, _("message padding is malformed"));
	else if ((rc = wire_unpack(&sira__v1__inner_body__descriptor, pt, ptlen,
		      bucket, &m, err)) == 0)
		*inner = (Sira__V1__InnerBody *)m;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, bucket);
	free(pt);
	free(ad);
	return rc;
}

/* Check the manifest: hash, sender, signature, header, payload hash. */
static int
check_manifest(struct opened *o, const Sira__V1__InnerBody *inner,
    const struct open_keys *keys, struct sira_err *err)
{
	const Sira__V1__EnvelopeHeader *h = o->env->h;
	uint8_t hash[SIRA_HASH_LEN];
	struct digest_part part;
	const struct cert *sender;
	int rc;

	if (inner->manifest == NULL)
		return sira_err_set(err, SIRA_EMALFORMED, _("no manifest"));
	if ((rc = wire_pack(&inner->manifest->base, &o->signed_manifest,
		 &o->signed_manifest_len, err)) != 0)
		return rc;
	part.p = o->signed_manifest;
	part.len = o->signed_manifest_len;
	digest_lp(hash, SIRA_DH_MANIFEST, &part, 1);
	if (!same(h->manifest_hash, hash, SIRA_HASH_LEN))
		return sira_err_set(err, SIRA_EAUTH,
		    _("manifest does not match the header's commitment"));
	if ((rc = keys->sender_cert(keys->ctx, h->sender_agency_id,
		 h->sender_cert_id.data, h->created_at, &sender, err)) != 0)
		return rc;
	if (strcmp(sender->agency_id, h->sender_agency_id) != 0 ||
	    !same(h->sender_cert_id, sender->id, SIRA_HASH_LEN))
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("sender certificate does not match the header"));
	if ((rc = manifest_verify(o->signed_manifest, o->signed_manifest_len,
		 sender, &o->manifest, o->manifest_sig_sha256, err)) != 0 ||
	    (rc = manifest_match(
		 o->manifest, o->env, keys->me->agency_id, err)) != 0)
		return rc;
	digest_sha256(hash, inner->payload.data, inner->payload.len);
	if (!same(o->manifest->payload_sha256, hash, SIRA_HASH_LEN) ||
	    o->manifest->payload_len != inner->payload.len)
		return sira_err_set(err, SIRA_EAUTH,
		    _("payload does not match the signed manifest"));
	return 0;
}

/* Everything up to and including the key commitment. */
static int
open_key(struct opened *o, const struct open_keys *keys, uint64_t now,
    struct sira_err *err)
{
	const struct envelope *e = o->env;
	const Sira__V1__RecipientWrap *w;
	const struct prekey_secret *pks;
	uint8_t commit[SIRA_HASH_LEN];
	int rc;

	if ((rc = envelope_check_time(e, now, err)) != 0)
		return rc;
	if ((w = envelope_recipient(e, keys->me->agency_id)) == NULL)
		return sira_err_set(err, SIRA_ENOT_RECIPIENT,
		    _("message is not addressed to %s"), keys->me->agency_id);
	if (keys->seen(
		keys->ctx, e->h->sender_cert_id.data, e->h->message_id.data))
		return sira_err_set(
		    err, SIRA_EREPLAY, _("message was already received"));
	if (keys->prekey(keys->ctx, w->cert_id.data, w->prekey_id.data, &pks) !=
	    0)
		return sira_err_set(err, SIRA_EPREKEY,
		    _("the prekey this message was sealed to is unknown or deleted"));
	if ((rc = unwrap(e, w, pks, o, err)) != 0)
		return rc;
	key_commitment(o->key, e->h->message_id.data, commit);
	if (sodium_memcmp(commit, e->h->key_commitment.data, SIRA_HASH_LEN) !=
	    0)
		return sira_err_set(err, SIRA_EAUTH,
		    _("key commitment does not match: recipients were given different keys"));
	return 0;
}

int
seal_open(const uint8_t *untrusted, size_t len, const struct open_keys *keys,
    uint64_t now, struct opened **out, struct sira_err *err)
{
	Sira__V1__InnerBody *inner = NULL;
	struct opened *o;
	int rc;

	*out = NULL;
	/* One guarded arena for K and the wrap it came in. */
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->arena = secarena_new_in(
		 keys->pool, SIRA_WRAP_MAX * 3 + 1024)) == NULL ||
	    (o->key = secarena_alloc(o->arena, K_LEN)) == NULL) {
		seal_opened_destroy(&o);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	if ((rc = envelope_decode(untrusted, len, &o->env, err)) != 0 ||
	    (rc = open_key(o, keys, now, err)) != 0 ||
	    (rc = decrypt_body(o->env, o->key, &inner, err)) != 0 ||
	    inner == NULL || (rc = check_manifest(o, inner, keys, err)) != 0)
		goto out;
	if ((o->payload = malloc(inner->payload.len + 1)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		goto out;
	}
	if (inner->payload.len > 0)
		memcpy(o->payload, inner->payload.data, inner->payload.len);
	o->payload_len = inner->payload.len;
	*out = o;
	o = NULL;
out:
	if (inner != NULL) {
		if (inner->payload.data != NULL)
			sodium_memzero(inner->payload.data, inner->payload.len);
		protobuf_c_message_free_unpacked(&inner->base, NULL);
	}
	seal_opened_destroy(&o);
	return rc;
}

int
seal_open_attachment(const struct opened *o, uint32_t index,
    const char *blob_path, const char *dest_path, struct sira_err *err)
{
	const Sira__V1__AttachmentManifest *a;
	struct attach_info expect;
	uint8_t key[K_LEN];
	struct attach_key ak = { key, o->env->h->message_id.data, index };
	int rc;

	if (index >= o->manifest->n_attachments)
		return sira_err_set(
		    err, SIRA_EINVAL, _("no attachment %u"), index);
	a = o->manifest->attachments[index];
	memset(&expect, 0, sizeof(expect));
	memcpy(expect.blob_id, a->blob_id.data, SIRA_HASH_LEN);
	expect.ct_len = a->ct_len;
	memcpy(
	    expect.plaintext_sha256, a->plaintext_sha256.data, SIRA_HASH_LEN);
	expect.plaintext_len = a->plaintext_len;
	expect.chunk_size = a->chunk_size;
	subkey(o->key, SUBKEY_ATTACH_BASE + index, key);
	rc = attach_open_to_path(&ak, &expect, blob_path, dest_path, err);
	sodium_memzero(key, sizeof(key));
	return rc;
}

void
seal_opened_destroy(struct opened **op)
{
	struct opened *o;

	if (op == NULL || (o = *op) == NULL)
		return;
	envelope_destroy(&o->env);
	if (o->manifest != NULL)
		protobuf_c_message_free_unpacked(&o->manifest->base, NULL);
	free(o->signed_manifest);
	if (o->payload != NULL)
		sodium_memzero(o->payload, o->payload_len);
	free(o->payload);
	secarena_free(o->arena); /* K and its wrap, wiped */
	free(o);
	*op = NULL;
}
