/*
 * resend.c: what an agency restored from a backup lost, asked for again
 * (docs/OPERATIONS.md, "Sauvegarde et restauration"; docs/PROTOCOL.md,
 * "Resend requests"). A restored store ends at the backup: what reached
 * the lost copy after it was acknowledged to the broker, which deleted
 * it. Its senders still hold the sealed bytes.
 *
 * resend_pending runs at the daemon's start after a restore (home_resume
 * set RESEND_PENDING): one ResendRequest to every agency of the
 * directory, each saying up to which of that agency's numbers (pair_seq)
 * the restored store has everything; the mark goes in the same
 * transaction, so a crash asks again and never never.
 *
 * resend_incoming takes another agency's verified request, in the
 * transaction that stores it: every entry of our outbox to that agency
 * numbered above after_seq, delivered or accepted, whose sealed bytes we
 * hold and that has not expired, is submitted again (book_resubmit); not
 * our receipts (a restored agency gets those again with the redelivery
 * of what it had sent, and has the older ones in its store). The
 * broker delivers the same bytes once more; the requester's seen-set
 * decides what it already has. Nothing is re-sealed and nothing new is
 * signed: the evidence of each message stays the one it had.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "wire.h"
#include "i18n.h"
#include "workflow/workflow.h"

#define RESEND_CT "sira.resend.v1"
#define EXPIRY_MARGIN 600 /* an envelope this close to its end is let go */

struct names {
	char (*id)[SIRA_AGENCY_ID_MAX + 1];
	size_t n, cap;
	const char *me;
};

static int
add_name(void *ctx, const uint8_t *key, size_t klen)
{
	struct names *l = ctx;

	if (klen == 0 || klen > SIRA_AGENCY_ID_MAX ||
	    (strlen(l->me) == klen && memcmp(key, l->me, klen) == 0))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char(*grown)[SIRA_AGENCY_ID_MAX + 1] =
		    realloc(l->id, cap * sizeof(*l->id));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		l->id = grown;
		l->cap = cap;
	}
	memcpy(l->id[l->n], key, klen);
	l->id[l->n++][klen] = '\0';
	return 0;
}

/* Queue one request to agency, after the highest number we hold whole. */
static int
ask_one(struct vault_txn *t, const char *agency, uint64_t backup_at,
    uint64_t now, struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ResendRequest q = SIRA__V1__RESEND_REQUEST__INIT;
	const char *to[1] = { agency };
	struct pairseq seq;
	uint8_t *buf, id[16];
	size_t len;
	int rc;

	if ((rc = pairseq_load(t, agency, &seq, err)) != 0)
		return rc;
	q.backup_at = backup_at;
	q.after_seq = seq.low;
	pairseq_free(&seq);
	p.body_case = SIRA__V1__PAYLOAD__BODY_RESEND_REQUEST;
	p.resend_request = &q;
	if ((rc = wire_pack(&p.base, &buf, &len, err)) != 0)
		return rc;
	rc = book_queue(t,
	    &(struct outgoing){ to, 1,
		SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RESEND_REQUEST, RESEND_CT,
		"", bytes_of(buf, len), (uint32_t)SIRA_TTL_MAX, NULL },
	    now, id, err);
	free(buf);
	return rc;
}

int
resend_pending(
    struct agent *a, uint64_t now, size_t *asked, struct sira_err *err)
{
	struct names l = { .me = a->me->agency_id };
	struct vault_txn *t = NULL;
	uint64_t backup_at = 0;
	int rc;

	*asked = 0;
	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if (vault_counter_get(t, RESEND_PENDING, &backup_at) != 0 ||
	    backup_at == 0) {
		vault_abort(&t);
		return 0; /* not restored, or already asked */
	}
	rc = vault_keys(
	    t, VT_PEERKEYS, (struct bytes){ NULL, 0 }, add_name, &l, err);
	if (rc == -SIRA_ENOMEM)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = ask_one(t, l.id[i], backup_at, now, err);
	if (rc == 0)
		rc = vault_counter_put(t, RESEND_PENDING, 0, err);
	if (rc == 0 && (rc = vault_commit(&t, err)) == 0)
		*asked = l.n;
	vault_abort(&t);
	free(l.id);
	return rc;
}

int
resend_parse(const uint8_t *payload, size_t len, uint64_t *after_seq,
    struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	const Sira__V1__Payload *p;
	int rc = 0;

	if (wire_unpack(&sira__v1__payload__descriptor, payload, len, 256, &m,
		NULL) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, _("resend request: not a payload"));
	p = (const Sira__V1__Payload *)m;
	if (p->body_case != SIRA__V1__PAYLOAD__BODY_RESEND_REQUEST ||
	    p->resend_request == NULL)
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    _("resend request: the payload is something else"));
	else
		*after_seq = p->resend_request->after_seq;
	sira__v1__payload__free_unpacked((Sira__V1__Payload *)m, NULL);
	return rc;
}

/* The number e carried to agency (its signed manifest), or 0. */
static uint64_t
seq_to(const Sira__V1__OutboxEntry *e, const char *agency)
{
	ProtobufCMessage *sm = NULL, *tbs = NULL;
	const Sira__V1__SignedManifest *s;
	const Sira__V1__ManifestTBS *m;
	uint64_t seq = 0;

	if (wire_unpack(&sira__v1__signed_manifest__descriptor,
		e->signed_manifest.data, e->signed_manifest.len,
		AGENT_PAYLOAD_MAX, &sm, NULL) != 0)
		return 0;
	s = (const Sira__V1__SignedManifest *)sm;
	if (wire_unpack(&sira__v1__manifest_tbs__descriptor, s->tbs.data,
		s->tbs.len, AGENT_PAYLOAD_MAX, &tbs, NULL) == 0) {
		m = (const Sira__V1__ManifestTBS *)tbs;
		for (size_t i = 0; i < m->n_recipients; i++)
			if (strcmp(m->recipients[i]->agency_id, agency) == 0)
				seq = m->recipients[i]->pair_seq;
		sira__v1__manifest_tbs__free_unpacked(
		    (Sira__V1__ManifestTBS *)tbs, NULL);
	}
	sira__v1__signed_manifest__free_unpacked(
	    (Sira__V1__SignedManifest *)sm, NULL);
	return seq;
}

struct wanted {
	const char *to;
	uint64_t after, now;
	uint8_t (*id)[16];
	size_t n, cap, expired;
};

static bool
addressed_to(const Sira__V1__OutboxEntry *e, const char *agency)
{
	for (size_t i = 0; i < e->n_to; i++)
		if (strcmp(e->to[i], agency) == 0)
			return true;
	return false;
}

static int
want_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct wanted *w = ctx;
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);
	bool take;

	if (e == NULL || klen != 16)
		goto out;
	take = (e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED ||
		   e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED) &&
	    e->kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RESEND_REQUEST &&
	    e->kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT &&
	    e->envelope.len > 0 && addressed_to(e, w->to) &&
	    seq_to(e, w->to) > w->after;
	if (take && e->expires_at <= w->now + EXPIRY_MARGIN) {
		w->expired++;
		take = false;
	}
	if (take && w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		uint8_t(*grown)[16] = realloc(w->id, cap * sizeof(*w->id));
		if (grown == NULL) {
			sira__v1__outbox_entry__free_unpacked(e, NULL);
			return -SIRA_ENOMEM;
		}
		w->id = grown;
		w->cap = cap;
	}
	if (take)
		memcpy(w->id[w->n++], key, 16);
out:
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

int
resend_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err)
{
	struct wanted w = { .to = in->sender, .now = in->at };
	int rc;

	(void)a;
	if (resend_parse(in->payload, in->len, &w.after, err) != 0) {
		/* Kept in the inbox as received; nothing is resent. */
		log_event(LOG_WARN, "resend.refused", "from=%s reason=%s",
		    in->sender, err->msg);
		sira_err_clear(err);
		return 0;
	}
	rc = vault_each(t, VT_OUTBOX, want_row, &w, err);
	if (rc == -SIRA_ENOMEM)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		rc = book_resubmit(t, w.id[i], in->at, in->sender, err);
	if (rc == 0)
		log_event(LOG_INFO, "resend.asked",
		    "from=%s after=%llu resubmitted=%zu expired=%zu",
		    in->sender, (unsigned long long)w.after, w.n, w.expired);
	free(w.id);
	return rc;
}
