/*
 * envelope.c: strict decoding of envelopes and their routing headers.
 *
 * The broker runs this on every Submit before it stores anything, and the
 * agent runs it before it spends any cryptography on an envelope, so every
 * structural rule is checked here once: ids and keys have their exact
 * lengths, counts are bounded, recipients are distinct, the body has the
 * length its size bucket promises. Each validator rejects early and accepts
 * once, at its end.
 */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "clock.h"
#include "digest.h"
#include "envelope.h"
#include "wire.h"

#define AEAD_TAG_LEN 16 /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define NONCE_LEN 24

static const uint32_t buckets[] = { 4096, 16384, 65536, 262144, 1048576,
	4194304 };

static const char *const kind_names[] = {
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL] = "referral",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_RESPONSE] =
	    "referral_response",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL_UPDATE] =
	    "referral_update",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_CASE_TRANSFER] = "case_transfer",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_REQUEST] = "file_request",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_FILE_RESPONSE] = "file_response",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT] = "receipt",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE] = "note",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_DEADLINE_NOTICE] =
	    "deadline_notice",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_STATS_REPORT] = "stats_report",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE] = "erasure",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT] =
	    "erasure_receipt",
	[SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RESEND_REQUEST] =
	    "resend_request",
};
#define KIND_MAX SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RESEND_REQUEST

const char *
envelope_kind_name(int kind)
{
	if (kind < 1 || kind > KIND_MAX || kind_names[kind] == NULL)
		return "unknown";
	return kind_names[kind];
}

int
envelope_kind_parse(const char *name, int *kind)
{
	for (int k = 1; k <= KIND_MAX; k++) {
		if (kind_names[k] != NULL && strcmp(name, kind_names[k]) == 0) {
			*kind = k;
			return 0;
		}
	}
	return -SIRA_EINVAL;
}

uint32_t
envelope_bucket_for(size_t len)
{
	for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		if (len < buckets[i])
			return buckets[i];
	return 0;
}

int
envelope_bucket_valid(uint32_t v)
{
	for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		if (v == buckets[i])
			return 1;
	return 0;
}

void
envelope_hash_of(const uint8_t *header, size_t header_len,
    const uint8_t *body_ct, size_t body_ct_len, uint8_t out[static 32])
{
	uint8_t body_hash[SIRA_HASH_LEN];
	struct digest_part parts[2];

	digest_sha256(body_hash, body_ct, body_ct_len);
	parts[0].p = header;
	parts[0].len = header_len;
	parts[1].p = body_hash;
	parts[1].len = sizeof(body_hash);
	digest_lp(out, SIRA_DH_ENVELOPE_ID, parts, 2);
}

static int
check_recipients(const Sira__V1__EnvelopeHeader *h, struct sira_err *err)
{
	if (h->n_recipients < 1 || h->n_recipients > SIRA_RECIPIENTS_MAX)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "envelope must have 1 to %d recipients",
		    SIRA_RECIPIENTS_MAX);
	for (size_t i = 0; i < h->n_recipients; i++) {
		const Sira__V1__RecipientWrap *w = h->recipients[i];
		if (!cert_agency_id_valid(w->agency_id) ||
		    w->cert_id.len != SIRA_HASH_LEN ||
		    w->prekey_id.len != SIRA_PREKEY_ID_LEN ||
		    w->sealed.len == 0 || w->sealed.len > SIRA_WRAP_MAX)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "envelope recipient %zu is malformed", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(h->recipients[j]->agency_id, w->agency_id) ==
			    0)
				return sira_err_set(err, SIRA_EMALFORMED,
				    "envelope names %s twice", w->agency_id);
	}
	return 0;
}

static int
check_attachments(const Sira__V1__EnvelopeHeader *h, struct sira_err *err)
{
	if (h->n_attachments > SIRA_ATTACHMENTS_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "envelope has more than %d attachments",
		    SIRA_ATTACHMENTS_MAX);
	for (size_t i = 0; i < h->n_attachments; i++) {
		const Sira__V1__AttachmentRef *a = h->attachments[i];
		if (a->index != i || a->blob_id.len != SIRA_HASH_LEN ||
		    a->ct_len == 0 || a->ct_len > 2 * SIRA_ATTACHMENT_MAX)
			return sira_err_set(err, SIRA_EMALFORMED,
			    "envelope attachment %zu is malformed", i);
	}
	return 0;
}

static int
check_header(
    const Sira__V1__EnvelopeHeader *h, size_t body_ct_len, struct sira_err *err)
{
	int rc;

	if (h->version != SIRA_ENVELOPE_VERSION)
		return sira_err_set(err, SIRA_EVERSION,
		    "unsupported envelope version %u", (unsigned)h->version);
	if (h->message_id.len != SIRA_MSGID_LEN ||
	    !cert_agency_id_valid(h->sender_agency_id) ||
	    h->sender_cert_id.len != SIRA_HASH_LEN ||
	    h->key_commitment.len != SIRA_HASH_LEN ||
	    h->manifest_hash.len != SIRA_HASH_LEN ||
	    h->body_nonce.len != NONCE_LEN)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "envelope header has a field of the wrong length");
	if (strcmp(envelope_kind_name((int)h->kind), "unknown") == 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "envelope has an unknown kind");
	if (h->created_at == 0 || h->expires_at < h->created_at ||
	    h->expires_at - h->created_at > SIRA_TTL_MAX)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "envelope lifetime is invalid (at most %u days)",
		    (unsigned)SIRA_TTL_MAX / 86400);
	if (!envelope_bucket_valid((uint32_t)h->size_bucket) ||
	    body_ct_len != (size_t)h->size_bucket + AEAD_TAG_LEN)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "envelope body does not match its size class");
	if ((rc = check_recipients(h, err)) != 0)
		return rc;
	return check_attachments(h, err);
}

static int
copy_out(const uint8_t *p, size_t len, uint8_t **dst)
{
	if ((*dst = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(*dst, p, len);
	return 0;
}

int
envelope_decode(const uint8_t *untrusted, size_t len, struct envelope **out,
    struct sira_err *err)
{
	ProtobufCMessage *m = NULL, *hm = NULL;
	Sira__V1__Envelope *env;
	struct envelope *e = NULL;
	int rc;

	*out = NULL;
	if (len == 0)
		return sira_err_set(err, SIRA_ETRUNCATED, "empty envelope");
	if ((rc = wire_unpack(&sira__v1__envelope__descriptor, untrusted, len,
		 SIRA_ENVELOPE_MAX, &m, err)) != 0)
		return rc;
	env = (Sira__V1__Envelope *)m;
	if (env->header.len == 0 || env->header.len > SIRA_HEADER_MAX) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "envelope header is missing or too large");
		goto out;
	}
	if ((rc = wire_unpack(&sira__v1__envelope_header__descriptor,
		 env->header.data, env->header.len, SIRA_HEADER_MAX, &hm,
		 err)) != 0 ||
	    (rc = check_header(
		 (Sira__V1__EnvelopeHeader *)hm, env->body_ct.len, err)) != 0)
		goto out;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    copy_out(env->header.data, env->header.len, &e->header) != 0 ||
	    copy_out(env->body_ct.data, env->body_ct.len, &e->body_ct) != 0) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	e->header_len = env->header.len;
	e->body_ct_len = env->body_ct.len;
	e->h = (Sira__V1__EnvelopeHeader *)hm;
	hm = NULL;
	envelope_hash_of(
	    e->header, e->header_len, e->body_ct, e->body_ct_len, e->hash);
	*out = e;
	e = NULL;
out:
	envelope_destroy(&e);
	if (hm != NULL)
		protobuf_c_message_free_unpacked(hm, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int
envelope_check_time(
    const struct envelope *e, uint64_t now, struct sira_err *err)
{
	if (e->h->created_at > now + SIRA_CLOCK_SKEW)
		return sira_err_set(
		    err, SIRA_EFUTURE, "envelope is dated in the future");
	if (now >= e->h->expires_at)
		return sira_err_set(err, SIRA_EEXPIRED, "envelope expired");
	return 0;
}

const Sira__V1__RecipientWrap *
envelope_recipient(const struct envelope *e, const char *agency_id)
{
	for (size_t i = 0; i < e->h->n_recipients; i++)
		if (strcmp(e->h->recipients[i]->agency_id, agency_id) == 0)
			return e->h->recipients[i];
	return NULL;
}

void
envelope_destroy(struct envelope **ep)
{
	struct envelope *e;

	if (ep == NULL || (e = *ep) == NULL)
		return;
	if (e->h != NULL)
		protobuf_c_message_free_unpacked(&e->h->base, NULL);
	free(e->header);
	free(e->body_ct);
	free(e);
	*ep = NULL;
}
