/*
 * manifest.c: signing, verifying and matching envelope manifests.
 *
 * No libsodium call of its own: signatures go through lib/sign.c, hashes
 * through lib/digest.c. The recipient list comparison is what stops
 * surreptitious forwarding: a co-recipient can re-wrap the content key to a
 * third agency, but cannot add that agency to the signed list.
 */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "crypto/crypto.h"
#include "signed.h"
#include "text.h"
#include "wire.h"
#include "i18n.h"

int
manifest_filename_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= SIRA_FILENAME_MAX &&
	    strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && text_is_utf8(name, len) &&
	    !text_has_control(name, len);
}

int
manifest_sign(const Sira__V1__ManifestTBS *tbs,
    const uint8_t sk[static SIRA_SIGN_SK_LEN], uint8_t **tbs_bytes,
    size_t *tbs_len, uint8_t sig[static SIRA_SIG_LEN], struct sira_err *err)
{
	int rc;

	if ((rc = wire_pack(&tbs->base, tbs_bytes, tbs_len, err)) != 0)
		return rc;
	if ((rc = sign_detached(
		 sk, SIRA_DS_MANIFEST, *tbs_bytes, *tbs_len, sig)) != 0) {
		free(*tbs_bytes);
		*tbs_bytes = NULL;
		return sira_err_set(err, -rc, _("cannot sign the manifest"));
	}
	return 0;
}

static int
check_attachments(const Sira__V1__ManifestTBS *m)
{
	if (m->n_attachments > SIRA_ATTACHMENTS_MAX)
		return -1;
	for (size_t i = 0; i < m->n_attachments; i++) {
		const Sira__V1__AttachmentManifest *a = m->attachments[i];
		if (a->index != i || a->blob_id.len != SIRA_HASH_LEN ||
		    a->plaintext_sha256.len != SIRA_HASH_LEN ||
		    a->plaintext_len > SIRA_ATTACHMENT_MAX ||
		    !manifest_filename_valid(a->filename) ||
		    strlen(a->media_type) > SIRA_MEDIA_TYPE_MAX ||
		    text_has_control(a->media_type, strlen(a->media_type)))
			return -1;
	}
	return 0;
}

static int
check_shape(const Sira__V1__ManifestTBS *m, struct sira_err *err)
{
	size_t ctlen = strlen(m->content_type);

	if (m->version != SIRA_ENVELOPE_VERSION ||
	    m->message_id.len != SIRA_MSGID_LEN ||
	    m->sender_cert_id.len != SIRA_HASH_LEN ||
	    m->payload_sha256.len != SIRA_HASH_LEN ||
	    (m->in_reply_to.len != 0 && m->in_reply_to.len != SIRA_MSGID_LEN) ||
	    ctlen == 0 || ctlen > SIRA_CONTENT_TYPE_MAX ||
	    text_has_control(m->content_type, ctlen) ||
	    strlen(m->case_ref) > SIRA_CASE_REF_MAX ||
	    text_has_control(m->case_ref, strlen(m->case_ref)) ||
	    m->n_recipients < 1 || m->n_recipients > SIRA_RECIPIENTS_MAX ||
	    check_attachments(m) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, _("signed manifest is malformed"));
	return 0;
}

int
manifest_verify(const uint8_t *untrusted, size_t len, const struct cert *sender,
    Sira__V1__ManifestTBS **out, uint8_t sig_sha256[static SIRA_HASH_LEN],
    struct sira_err *err)
{
	struct signed_obj so;
	ProtobufCMessage *m = NULL;
	int rc;

	*out = NULL;
	if ((sender->key_usage & SIRA_KU_ENVELOPE_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s may not sign envelopes"), sender->agency_id);
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_MANIFEST_MAX,
		 SIRA_MANIFEST_MAX, "manifest", &so, err)) != 0)
		return rc;
	if ((rc = sign_verify(sender->sign_pk, SIRA_DS_MANIFEST, so.tbs,
		 so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(err, -rc,
		    _("manifest signature of %s does not verify"),
		    sender->agency_id);
		goto out;
	}
	if ((rc = wire_unpack(&sira__v1__manifest_tbs__descriptor, so.tbs,
		 so.tbs_len, SIRA_MANIFEST_MAX, &m, err)) != 0 ||
	    (rc = check_shape((Sira__V1__ManifestTBS *)m, err)) != 0)
		goto out;
	digest_sha256(sig_sha256, so.sig, sizeof(so.sig));
	*out = (Sira__V1__ManifestTBS *)m;
	m = NULL;
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	signed_clear(&so);
	return rc;
}

static int
same_bytes(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
	return a.len == b.len &&
	    (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

/* Is the signed recipient list the header's wrap list, entry by entry? */
static int
same_recipients(
    const Sira__V1__ManifestTBS *m, const Sira__V1__EnvelopeHeader *h)
{
	if (m->n_recipients != h->n_recipients)
		return 0;
	for (size_t i = 0; i < m->n_recipients; i++) {
		const Sira__V1__RecipientRef *r = m->recipients[i];
		const Sira__V1__RecipientWrap *w = h->recipients[i];
		if (strcmp(r->agency_id, w->agency_id) != 0 ||
		    !same_bytes(r->cert_id, w->cert_id) ||
		    !same_bytes(r->prekey_id, w->prekey_id))
			return 0;
	}
	return 1;
}

static int
same_attachments(
    const Sira__V1__ManifestTBS *m, const Sira__V1__EnvelopeHeader *h)
{
	if (m->n_attachments != h->n_attachments)
		return 0;
	for (size_t i = 0; i < m->n_attachments; i++)
		if (!same_bytes(m->attachments[i]->blob_id,
			h->attachments[i]->blob_id) ||
		    m->attachments[i]->ct_len != h->attachments[i]->ct_len)
			return 0;
	return 1;
}

int
manifest_match(const Sira__V1__ManifestTBS *m, const struct envelope *e,
    const char *my_agency_id, struct sira_err *err)
{
	const Sira__V1__EnvelopeHeader *h = e->h;
	int named = 0;

	for (size_t i = 0; i < m->n_recipients; i++)
		if (strcmp(m->recipients[i]->agency_id, my_agency_id) == 0)
			named = 1;
	if (!named)
		return sira_err_set(err, SIRA_ENOT_RECIPIENT,
		    _("the sender did not address this message to %s"),
		    my_agency_id);
	if (!same_bytes(m->message_id, h->message_id) ||
	    strcmp(m->sender_agency_id, h->sender_agency_id) != 0 ||
	    !same_bytes(m->sender_cert_id, h->sender_cert_id) ||
	    m->created_at != h->created_at || m->expires_at != h->expires_at ||
	    m->kind != h->kind || !same_recipients(m, h) ||
	    !same_attachments(m, h))
		return sira_err_set(err, SIRA_EAUTH,
		    _("envelope header differs from the signed manifest"));
	return 0;
}
