/*
 * book.c: the agency's records in the vault: the outbox (what it sends and
 * how far each message got, kept in step with its outq.c index), the
 * inbox, and the audit chain.
 *
 * The audit chain is the agency's own account of everything it sent,
 * received, accepted or refused: entry n carries the hash of entry n-1
 * (SHA-256 with purpose "sira-v1/audit") and the head hash is kept apart,
 * so a removed, reordered or altered entry breaks the chain. Every
 * function works inside the caller's write transaction, so a state change
 * and its audit entry commit together or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "be64.h"
#include "store/store.h"
#include "digest.h"
#include "wire.h"
#include "i18n.h"

#define DH_AUDIT "sira-v1/audit"

static const char *const state_names[] = { "unknown", "queued", "sealed",
	"accepted by broker", "delivered", "refused", "expired" };

const char *
book_state_name(int state)
{
	if (state < 0 || state > 6)
		return "unknown";
	return state_names[state];
}

static void
entry_hash(const uint8_t *bytes, size_t len, uint8_t out[32])
{
	struct digest_part part = { bytes, len };

	digest_lp(out, DH_AUDIT, &part, 1);
}

/*
 * The rows of the outbox, the inbox and the audit chain, decoded by their
 * owner only. They are our own bytes, authenticated by the vault (vault.c),
 * so protobuf-c's decoder suffices; a newer version's extra fields are
 * kept, never refused, so history stays readable. NULL when damaged.
 */
Sira__V1__OutboxEntry *
book_out_decode(const uint8_t *row, size_t len)
{
	return sira__v1__outbox_entry__unpack(NULL, len, row);
}

Sira__V1__InboxEntry *
book_in_decode(const uint8_t *row, size_t len)
{
	return sira__v1__inbox_entry__unpack(NULL, len, row);
}

Sira__V1__AuditEntry *
book_audit_decode(const uint8_t *row, size_t len)
{
	return sira__v1__audit_entry__unpack(NULL, len, row);
}

int
book_audit(struct vault_txn *t, uint64_t now, const struct audit_event *ev,
    struct sira_err *err)
{
	const char *counterpart = ev->counterpart;
	Sira__V1__AuditEntry e = SIRA__V1__AUDIT_ENTRY__INIT;
	uint8_t prev[32] = { 0 }, head[32], key[8], *bytes = NULL, *h = NULL;
	size_t len, hlen;
	uint64_t seq;
	int rc;

	if (vault_counter_get(t, "audit.seq", &seq) != 0)
		return sira_err_set(
		    err, SIRA_EIO, _("audit counter unreadable"));
	if (seq > 0) {
		if ((rc = vault_get(t, VT_META, bytes_of("audit.head", 10), &h,
			 &hlen, err)) != 0)
			return rc;
		if (hlen == 32)
			memcpy(prev, h, 32);
		vault_free(h, hlen);
	}
	e.seq = seq + 1;
	e.time = now;
	e.action = (char *)(uintptr_t)ev->action;
	e.counterpart = (char *)(uintptr_t)(counterpart ? counterpart : "");
	if (ev->msgid != NULL) {
		e.message_id.data = (uint8_t *)(uintptr_t)ev->msgid;
		e.message_id.len = 16;
	}
	e.reason = ev->reason;
	if (ev->person != NULL)
		e.person = (char *)(uintptr_t)ev->person;
	if (ev->subject != NULL)
		e.subject = (char *)(uintptr_t)ev->subject;
	e.prev_hash.data = prev;
	e.prev_hash.len = 32;
	if ((rc = wire_pack(&e.base, &bytes, &len, err)) != 0)
		return rc;
	entry_hash(bytes, len, head);
	be64_put(key, e.seq);
	if ((rc = vault_put(t, VT_AUDIT, bytes_of(key, 8), bytes, len, err)) ==
		0 &&
	    (rc = vault_put(
		 t, VT_META, bytes_of("audit.head", 10), head, 32, err)) == 0)
		rc = vault_counter_put(t, "audit.seq", e.seq, err);
	free(bytes);
	return rc;
}

struct audit_walk {
	uint8_t prev[32];
	uint64_t n;
	uint64_t bad;
};

static int
walk_one(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct audit_walk *w = ctx;
	Sira__V1__AuditEntry *e;
	int ok;

	(void)key;
	(void)klen;
	if ((e = book_audit_decode(val, vlen)) == NULL) {
		w->bad = w->n + 1;
		return 1;
	}
	ok = e->seq == w->n + 1 && e->prev_hash.len == 32 &&
	    memcmp(e->prev_hash.data, w->prev, 32) == 0;
	sira__v1__audit_entry__free_unpacked(e, NULL);
	if (!ok) {
		w->bad = w->n + 1;
		return 1;
	}
	entry_hash(val, vlen, w->prev);
	w->n++;
	return 0;
}

int
book_audit_verify(
    struct vault_txn *t, uint64_t *n, uint64_t *bad, struct sira_err *err)
{
	struct audit_walk w;
	uint8_t *head = NULL;
	size_t hlen = 0;
	uint64_t seq;
	int rc;

	memset(&w, 0, sizeof(w));
	*bad = 0;
	if ((rc = vault_each(t, VT_AUDIT, walk_one, &w, err)) != 0) {
		*bad = w.n + 1;
		return sira_err_set(err, SIRA_EAUTH,
		    _("audit entry %llu was altered (%s)"),
		    (unsigned long long)*bad, sira_strerror(rc));
	}
	*n = w.n;
	if (w.bad != 0) {
		*bad = w.bad;
		return sira_err_set(err, SIRA_EAUTH,
		    _("audit chain broken at entry %llu"),
		    (unsigned long long)w.bad);
	}
	if (vault_counter_get(t, "audit.seq", &seq) != 0 || seq != w.n ||
	    (w.n > 0 &&
		(vault_get(t, VT_META, bytes_of("audit.head", 10), &head, &hlen,
		     NULL) != 0 ||
		    hlen != 32 || memcmp(head, w.prev, 32) != 0))) {
		vault_free(head, hlen);
		*bad = w.n;
		return sira_err_set(err, SIRA_EAUTH,
		    _("audit chain was truncated after entry %llu"),
		    (unsigned long long)w.n);
	}
	vault_free(head, hlen);
	return 0;
}

int
book_put_out(struct vault_txn *t, Sira__V1__OutboxEntry *e, uint64_t now,
    struct sira_err *err)
{
	uint8_t *bytes;
	size_t len;
	int rc;

	e->updated_at = now;
	if ((rc = outq_sync(t, e, err)) != 0)
		return rc;
	if ((rc = wire_pack(&e->base, &bytes, &len, err)) != 0)
		return rc;
	rc = vault_put(t, VT_OUTBOX,
	    bytes_of(e->local_id.data, e->local_id.len), bytes, len, err);
	sodium_memzero(bytes, len);
	free(bytes);
	return rc;
}

void
book_schedule(Sira__V1__OutboxEntry *e, uint64_t at)
{
	e->next_at = at;
}

void
book_new_id(uint8_t id[16])
{
	randombytes_buf(id, 16);
}

int
book_queue(struct vault_txn *t, const struct outgoing *m, uint64_t now,
    uint8_t local_id[16], struct sira_err *err)
{
	book_new_id(local_id);
	return book_queue_as(t, m, now, local_id, err);
}

int
book_queue_as(struct vault_txn *t, const struct outgoing *m, uint64_t now,
    const uint8_t local_id[16], struct sira_err *err)
{
	Sira__V1__OutboxEntry e = SIRA__V1__OUTBOX_ENTRY__INIT;
	const char *const *to = m->to;
	int rc;

	e.local_id.data = (uint8_t *)(uintptr_t)local_id;
	e.local_id.len = 16;
	e.state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED;
	e.n_to = m->n_to;
	e.to = (char **)(uintptr_t)to;
	e.kind = m->kind;
	e.content_type = (char *)(uintptr_t)m->content_type;
	e.case_ref = (char *)(uintptr_t)m->case_ref;
	e.payload.data = (uint8_t *)(uintptr_t)m->payload.p;
	e.payload.len = m->payload.len;
	e.queued_at = now;
	e.ttl = m->ttl;
	e.next_at = now; /* the daemon seals it at once */
	if ((rc = book_put_out(t, &e, now, err)) != 0)
		return rc;
	for (size_t i = 0; i < m->n_to && rc == 0; i++)
		rc = book_audit(t, now,
		    &(struct audit_event){
			"queued", to[i], local_id, 0, m->person, NULL },
		    err);
	return rc;
}

int
book_get_out(struct vault_txn *t, const uint8_t *local_id,
    Sira__V1__OutboxEntry **out, struct sira_err *err)
{
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = vault_get(
		 t, VT_OUTBOX, bytes_of(local_id, 16), &v, &len, err)) != 0)
		return rc;
	*out = book_out_decode(v, len);
	vault_free(v, len);
	return *out != NULL ?
	    0 :
	    sira_err_set(err, SIRA_EMALFORMED, _("outbox entry damaged"));
}

int
book_get_in(struct vault_txn *t, const uint8_t *msgid,
    Sira__V1__InboxEntry **out, struct sira_err *err)
{
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = vault_get(t, VT_INBOX, bytes_of(msgid, 16), &v, &len, err)) !=
	    0)
		return rc;
	*out = book_in_decode(v, len);
	vault_free(v, len);
	return *out != NULL ?
	    0 :
	    sira_err_set(err, SIRA_EMALFORMED, _("inbox entry damaged"));
}

/* Ids of the entries an index that predates them does not know. */
struct missing {
	uint8_t (*id)[16];
	size_t n, cap;
	int rc;
};

static int
find_missing(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct missing *m = ctx;
	Sira__V1__OutboxEntry *e;
	bool want;

	if (klen != 16 || (e = book_out_decode(val, vlen)) == NULL)
		return 0; /* damaged rows are shown by outbox, not pumped */
	want = outq_live(e->state) && e->index_state == 0;
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (!want)
		return 0;
	if (m->n == m->cap) {
		uint8_t(*grown)[16];
		m->cap = m->cap ? 2 * m->cap : 256;
		if ((grown = realloc(m->id, m->cap * sizeof(*grown))) == NULL) {
			m->rc = -SIRA_ENOMEM;
			return 1;
		}
		m->id = grown;
	}
	memcpy(m->id[m->n++], key, 16);
	return 0;
}

int
book_reindex(
    struct vault_txn *t, uint64_t now, size_t *indexed, struct sira_err *err)
{
	struct missing m = { NULL, 0, 0, 0 };
	uint64_t version = 0;
	int rc;

	*indexed = 0;
	if ((rc = vault_counter_get(t, "outq.version", &version)) != 0)
		return sira_err_set(
		    err, -rc, _("outbox index version unreadable"));
	if (version >= OUTQ_VERSION)
		return 0;
	if ((rc = vault_each(t, VT_OUTBOX, find_missing, &m, err)) == 0 &&
	    m.rc != 0)
		rc = sira_err_set(err, -m.rc, _("out of memory"));
	for (size_t i = 0; rc == 0 && i < m.n; i++) {
		Sira__V1__OutboxEntry *e;
		if ((rc = book_get_out(t, m.id[i], &e, err)) != 0)
			break;
		e->next_at = now;
		rc = book_put_out(t, e, now, err);
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	}
	free(m.id);
	if (rc == 0)
		rc = vault_counter_put(t, "outq.version", OUTQ_VERSION, err);
	if (rc == 0)
		*indexed = m.n;
	return rc;
}

int
book_resubmit(struct vault_txn *t, const uint8_t id[16], uint64_t now,
    const char *by, struct sira_err *err)
{
	Sira__V1__OutboxEntry *e;
	int rc;

	if ((rc = book_get_out(t, id, &e, err)) != 0)
		return rc;
	e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED;
	free(e->accepted.data); /* the broker's answer comes again */
	e->accepted.data = NULL;
	e->accepted.len = 0;
	book_schedule(e, now);
	rc = book_put_out(t, e, now, err);
	if (rc == 0)
		rc = book_audit(t, now,
		    &(struct audit_event){
			"resubmitted", by, id, 0, NULL, NULL },
		    err);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}
