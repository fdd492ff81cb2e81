/*
 * bundle.c: exporting a case as an evidence bundle (see bundle.h).
 *
 * One read transaction: the outbox and the inbox are scanned for the
 * case's messages, each entry is unpacked and kept (the bundle borrows its
 * bytes: envelope, signed manifest, payload, evidence, receipts), then the
 * certificates the envelopes name are fetched. Nothing is re-encoded:
 * every signed or hashed object goes out as the bytes that were signed.
 * Payloads are plaintext here; every copy is wiped before it is freed.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bundle/bundle.h"
#include "bundle.pb-c.h"
#include "envelope.h"
#include "fileio.h"
#include "wire.h"
#include "i18n.h"

/* One message, its bytes borrowed from owner (an unpacked vault entry). */
struct item {
	uint64_t at;
	uint8_t id[SIRA_MSGID_LEN];
	Sira__V1__BundleMessage m;
	ProtobufCMessage *owner;
};

struct gather {
	const char *case_ref;
	struct item *items;
	size_t n;
	struct bundle_stats *st;
	ProtobufCBinaryData certs[BUNDLE_CERTS_MAX]; /* owned copies */
	uint8_t cert_ids[BUNDLE_CERTS_MAX][SIRA_HASH_LEN];
	size_t n_certs;
};

static void
wipe_payload(struct item *it)
{
	if (it->m.payload.data != NULL)
		sodium_memzero(it->m.payload.data, it->m.payload.len);
}

/* Append an item owning owner; -SIRA_ETOOBIG past the limit. */
static int
add_item(struct gather *g, ProtobufCMessage *owner, uint64_t at,
    ProtobufCBinaryData msgid, struct item **out)
{
	struct item *grown;

	if (g->n >= BUNDLE_MESSAGES_MAX)
		return -SIRA_ETOOBIG;
	if ((grown = realloc(g->items, (g->n + 1) * sizeof(*grown))) == NULL)
		return -SIRA_ENOMEM;
	g->items = grown;
	*out = &g->items[g->n++];
	memset(*out, 0, sizeof(**out));
	sira__v1__bundle_message__init(&(*out)->m);
	(*out)->owner = owner;
	(*out)->at = at;
	if (msgid.len == SIRA_MSGID_LEN)
		memcpy((*out)->id, msgid.data, SIRA_MSGID_LEN);
	return 0;
}

static int
take_out(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct gather *g = ctx;
	Sira__V1__OutboxEntry *e;
	struct item *it;
	int rc;

	(void)key;
	(void)klen;
	if ((e = book_out_decode(val, vlen)) == NULL)
		return -SIRA_EMALFORMED;
	if (e->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT ||
	    strcmp(e->case_ref, g->case_ref) != 0) {
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if (e->envelope.len == 0 || e->signed_manifest.len == 0) {
		g->st->left_out++;
		sodium_memzero(e->payload.data, e->payload.len);
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if ((rc = add_item(g, &e->base, e->created_at, e->message_id, &it)) !=
	    0) {
		sodium_memzero(e->payload.data, e->payload.len);
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		return rc;
	}
	it->m.envelope = e->envelope;
	it->m.signed_manifest = e->signed_manifest;
	it->m.payload = e->payload;
	if (e->accepted.len > 0 && e->accepted_leaf.len > 0) {
		it->m.accepted = e->accepted;
		it->m.accepted_leaf = e->accepted_leaf;
	} else
		g->st->no_broker++;
	it->m.n_receipts = e->n_receipts;
	it->m.receipts = e->receipts;
	g->st->sent++;
	return 0;
}

static int
take_in(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct gather *g = ctx;
	Sira__V1__InboxEntry *e;
	struct item *it;
	int rc;

	(void)key;
	(void)klen;
	if ((e = book_in_decode(val, vlen)) == NULL)
		return -SIRA_EMALFORMED;
	if (strcmp(e->case_ref, g->case_ref) != 0 || e->envelope.len == 0 ||
	    e->signed_manifest.len == 0) {
		if (strcmp(e->case_ref, g->case_ref) == 0)
			g->st->left_out++;
		sodium_memzero(e->payload.data, e->payload.len);
		sira__v1__inbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if ((rc = add_item(g, &e->base, e->created_at, e->message_id, &it)) !=
	    0) {
		sodium_memzero(e->payload.data, e->payload.len);
		sira__v1__inbox_entry__free_unpacked(e, NULL);
		return rc;
	}
	it->m.envelope = e->envelope;
	it->m.signed_manifest = e->signed_manifest;
	it->m.payload = e->payload;
	if (e->receipt.len > 0) {
		it->m.n_receipts = 1;
		it->m.receipts = &e->receipt;
	}
	g->st->received++;
	return 0;
}

/* Add the certificate cert_id (once), from our own or the vault's. */
static int
add_cert(struct gather *g, struct agent *a, struct vault_txn *t,
    const uint8_t *cert_id, const char *agency, struct sira_err *err)
{
	const struct cert *known = NULL;
	ProtobufCBinaryData *c;
	uint8_t *raw = NULL;
	size_t len = 0;

	for (size_t i = 0; i < g->n_certs; i++)
		if (memcmp(g->cert_ids[i], cert_id, SIRA_HASH_LEN) == 0)
			return 0;
	if (g->n_certs >= BUNDLE_CERTS_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("more than %d certificates in one case"),
		    BUNDLE_CERTS_MAX);
	if (memcmp(a->me->id, cert_id, SIRA_HASH_LEN) == 0)
		known = a->me;
	else if (memcmp(a->broker->id, cert_id, SIRA_HASH_LEN) == 0)
		known = a->broker;
	else if (vault_get(t, VT_CERTS, bytes_of(cert_id, SIRA_HASH_LEN), &raw,
		     &len, NULL) != 0)
		return sira_err_set(err, SIRA_EUNKNOWN_AGENCY,
		    _("the certificate of %s a message names is not in this agent's directory"),
		    agency);
	c = &g->certs[g->n_certs];
	c->len = known != NULL ? known->raw_len : len;
	if ((c->data = malloc(c->len)) == NULL) {
		vault_free(raw, len);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	memcpy(c->data, known != NULL ? known->raw : raw, c->len);
	vault_free(raw, len);
	memcpy(g->cert_ids[g->n_certs++], cert_id, SIRA_HASH_LEN);
	return 0;
}

/* The sender's and every recipient's certificate of each message. */
static int
add_certs(struct gather *g, struct agent *a, struct vault_txn *t,
    struct sira_err *err)
{
	const Sira__V1__EnvelopeHeader *h;
	struct envelope *e = NULL;
	int rc = add_cert(g, a, t, a->broker->id, a->broker->agency_id, err);

	for (size_t i = 0; i < g->n && rc == 0; i++) {
		if ((rc = envelope_decode(g->items[i].m.envelope.data,
			 g->items[i].m.envelope.len, &e, err)) != 0)
			break;
		h = e->h;
		rc = add_cert(
		    g, a, t, h->sender_cert_id.data, h->sender_agency_id, err);
		for (size_t k = 0; k < h->n_recipients && rc == 0; k++)
			rc = add_cert(g, a, t, h->recipients[k]->cert_id.data,
			    h->recipients[k]->agency_id, err);
		envelope_destroy(&e);
	}
	return rc;
}

static int
by_time(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return memcmp(a->id, b->id, SIRA_MSGID_LEN);
}

/* Pack the bundle with its magic and write it (0600, atomically). */
static int
write_bundle(struct gather *g, struct agent *a, const char *path, uint64_t now,
    struct sira_err *err)
{
	Sira__V1__Bundle b = SIRA__V1__BUNDLE__INIT;
	Sira__V1__BundleMessage **msgs;
	uint8_t *body = NULL, *file = NULL;
	size_t len = 0, flen = 0;
	int rc;

	if ((msgs = calloc(g->n, sizeof(*msgs))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	for (size_t i = 0; i < g->n; i++)
		msgs[i] = &g->items[i].m;
	b.version = BUNDLE_VERSION;
	b.case_ref = (char *)(uintptr_t)g->case_ref;
	b.exported_by = a->me->agency_id;
	b.exported_at = now;
	b.n_certificates = g->n_certs;
	b.certificates = g->certs;
	if (a->crl != NULL) {
		b.crl.data = a->crl->raw;
		b.crl.len = a->crl->raw_len;
	}
	b.n_messages = g->n;
	b.messages = msgs;
	b.message_count = (uint32_t)g->n;
	if ((rc = wire_pack(&b.base, &body, &len, err)) == 0) {
		if ((file = wire_add_magic(BUNDLE_MAGIC, body, len, &flen)) ==
		    NULL)
			rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		else
			rc = fileio_write(path, file, flen, 0600, false, err);
	}
	if (body != NULL)
		sodium_memzero(body, len);
	if (file != NULL)
		sodium_memzero(file, flen);
	free(body);
	free(file);
	free(msgs);
	return rc;
}

static void
gather_free(struct gather *g)
{
	for (size_t i = 0; g->items != NULL && i < g->n; i++) {
		wipe_payload(&g->items[i]);
		protobuf_c_message_free_unpacked(g->items[i].owner, NULL);
	}
	free(g->items);
	for (size_t i = 0; i < g->n_certs; i++)
		free(g->certs[i].data);
	free(g);
}

int
bundle_export(struct agent *a, const char *case_ref, const char *path,
    uint64_t now, struct bundle_stats *st, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	struct gather *g;
	int rc;

	memset(st, 0, sizeof(*st));
	if (case_ref == NULL || case_ref[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL, _("no case reference"));
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	g->case_ref = case_ref;
	g->st = st;
	if ((rc = vault_begin(a->vault, false, &t, err)) == 0 &&
	    (rc = vault_each(t, VT_OUTBOX, take_out, g, err)) == 0 &&
	    (rc = vault_each(t, VT_INBOX, take_in, g, err)) == 0 && g->n == 0)
		rc = sira_err_set(err, SIRA_ENOTFOUND,
		    _("no message of case %s can be exported"), case_ref);
	if (rc == -SIRA_ETOOBIG)
		rc = sira_err_set(err, -rc,
		    _("more than %d messages in case %s"), BUNDLE_MESSAGES_MAX,
		    case_ref);
	if (rc == 0)
		rc = add_certs(g, a, t, err);
	vault_abort(&t);
	if (rc == 0 && g->items != NULL) {
		qsort(g->items, g->n, sizeof(*g->items), by_time);
		rc = write_bundle(g, a, path, now, err);
	}
	gather_free(g);
	return rc;
}
