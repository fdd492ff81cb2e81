/*
 * erase_order.c: erasure across agencies (docs/PROTOCOL.md, "Effacement").
 *
 * The agency that erases a case orders every agency it sent the case to
 * (erase_note_legs) to erase it, in the transaction of its own erasure: a
 * kind ERASURE message with an ErasureOrder (a fresh 16-byte order id),
 * queued with no case reference on the outbox row (only inside the sealed
 * payload). Each order is listed in the case's tombstone ledger
 * (casekeys.c) and indexed by its id in VT_META "eorder:<hex>", so the
 * answer finds its case without naming it.
 *
 * A recipient obeys an order only from an agency that had a part in
 * sending it the case (a leg from it, a transfer from it, a file it
 * granted): anyone else is answered DENIED. A legal hold answers HELD,
 * naming the justice agency and its basis. The recipient erases in the
 * transaction that stores the order, orders the agencies it sent the case
 * to in turn, and answers with an ErasureReceipt that it signs (Ed25519,
 * purpose SIRA_DS_ERASURE) over an ErasureReceiptTBS naming the order id,
 * both agencies, the outcome and the time of the erasure: never the case.
 * A case erased earlier answers ERASED with the time it was erased, so a
 * re-sent order gets the same answer. Holds (ErasureOrder HOLD, RELEASE)
 * come from justice agencies only; `sira-agent hold` sends them.
 *
 * The requester checks the receipt's signature against the answering
 * agency's certificate and keeps it in the ledger, which `erase` shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "sign.h"
#include "text.h"
#include "wire.h"
#include "workflow/workflow.h"
#include "i18n.h"

#define ORDER_TTL (14u * 86400)
#define ORDER_CT "sira.erasure.v1"
#define RECEIPT_CT "sira.erasure-receipt.v1"
#define INDEX_PREFIX "eorder:"
#define INDEX_KEY_LEN (sizeof(INDEX_PREFIX) - 1 + 32)
#define INDEX_ERASE 'E'
#define INDEX_HOLD 'H'
#define TEXT_MAX 256
#define TBS_MAX 4096
#define KIND_ORDER SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE
#define KIND_ANSWER SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT
#define BODY_ORDER SIRA__V1__PAYLOAD__BODY_ERASURE_ORDER
#define BODY_RECEIPT SIRA__V1__PAYLOAD__BODY_ERASURE_RECEIPT

/* ---- validation: pure, fuzzed (tests/fuzz/fuzz_erasure.c) ---- */

static bool
text_ok(const char *s)
{
	size_t n = strlen(s);

	return n <= TEXT_MAX && text_is_utf8(s, n) && !text_has_control(s, n);
}

static bool
agency_ok(const char *s)
{
	return cert_agency_id_valid(s);
}

static const char *
order_unfit(const Sira__V1__ErasureOrder *o)
{
	if (o->order_id.len != 16)
		return "an erasure order without a 16-byte id";
	if (!workflow_ref_valid(o->case_ref))
		return "an erasure order without a valid case reference";
	if (o->action < SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_ERASE ||
	    o->action > SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_RELEASE)
		return "an erasure order with an unknown action";
	if (!text_ok(o->reason) ||
	    (o->action != SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_RELEASE &&
		o->reason[0] == '\0'))
		return "an erasure order whose reason is missing or not text";
	return NULL;
}

static const char *
tbs_unfit(const Sira__V1__ErasureReceiptTBS *b)
{
	if (b->version != 1 || b->order_id.len != 16)
		return "an erasure receipt of another version or without id";
	if (!agency_ok(b->agency_id) || !agency_ok(b->requester_id))
		return "an erasure receipt with a bad agency id";
	if (b->outcome < SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED ||
	    b->outcome >
		SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HOLD_RELEASED)
		return "an erasure receipt with an unknown outcome";
	if ((b->hold_by[0] != '\0' && !agency_ok(b->hold_by)) ||
	    !text_ok(b->hold_basis))
		return "an erasure receipt with a bad hold";
	return NULL;
}

int
erase_receipt_open(const Sira__V1__ErasureReceipt *r,
    Sira__V1__ErasureReceiptTBS **out, struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	const char *why;
	int rc;

	*out = NULL;
	if (r->tbs.len == 0 || r->tbs.len > TBS_MAX ||
	    r->sig.len != SIRA_SIG_LEN)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("an erasure receipt of the wrong size"));
	if ((rc = wire_unpack(&sira__v1__erasure_receipt_tbs__descriptor,
		 r->tbs.data, r->tbs.len, TBS_MAX, &m, err)) != 0)
		return rc;
	if ((why = tbs_unfit((Sira__V1__ErasureReceiptTBS *)m)) != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return sira_err_set(err, SIRA_EMALFORMED, "%s", why);
	}
	*out = (Sira__V1__ErasureReceiptTBS *)m;
	return 0;
}

int
erase_msg_parse(int kind, const uint8_t *payload, size_t len,
    Sira__V1__Payload **out, struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	Sira__V1__ErasureReceiptTBS *tbs = NULL;
	Sira__V1__Payload *p;
	const char *why = NULL;
	int rc;

	*out = NULL;
	if ((rc = wire_unpack(&sira__v1__payload__descriptor, payload, len,
		 AGENT_PAYLOAD_MAX, &m, err)) != 0)
		return rc;
	p = (Sira__V1__Payload *)m;
	if (kind == KIND_ORDER && p->body_case == BODY_ORDER)
		why = order_unfit(p->erasure_order);
	else if (kind == KIND_ANSWER && p->body_case == BODY_RECEIPT) {
		if ((rc = erase_receipt_open(p->erasure_receipt, &tbs, err)) !=
		    0) {
			sira__v1__payload__free_unpacked(p, NULL);
			return rc;
		}
		sira__v1__erasure_receipt_tbs__free_unpacked(tbs, NULL);
	} else
		why =
		    "an erasure message whose content does not match its kind";
	if (why != NULL) {
		sira__v1__payload__free_unpacked(p, NULL);
		return sira_err_set(err, SIRA_EMALFORMED, "%s", why);
	}
	*out = p;
	return 0;
}

/* ---- the order index and the ledger ---- */

static void
index_key(const uint8_t order_id[16], char key[INDEX_KEY_LEN + 1])
{
	memcpy(key, INDEX_PREFIX, sizeof(INDEX_PREFIX) - 1);
	(void)sodium_bin2hex(key + sizeof(INDEX_PREFIX) - 1, 33, order_id, 16);
}

/* type || blind(32) || the order's outbox id(16) || ref (holds only:
 * the case lives on). */
#define INDEX_FIXED (1 + 32 + 16)
struct index_row {
	char type;
	uint8_t blind[32];
	uint8_t local_id[16];
	char ref[SIRA_CASE_REF_BUF];
};

static int
index_put(struct vault_txn *t, const uint8_t order_id[16],
    const struct index_row *ix, struct sira_err *err)
{
	uint8_t row[INDEX_FIXED + SIRA_CASE_REF_MAX];
	char key[INDEX_KEY_LEN + 1];
	size_t n = INDEX_FIXED, rl = strlen(ix->ref);

	row[0] = (uint8_t)ix->type;
	memcpy(row + 1, ix->blind, 32);
	memcpy(row + 33, ix->local_id, 16);
	if (ix->type == INDEX_HOLD && rl <= SIRA_CASE_REF_MAX) {
		memcpy(row + INDEX_FIXED, ix->ref, rl);
		n += rl;
	}
	index_key(order_id, key);
	return vault_put(t, VT_META, bytes_of(key, INDEX_KEY_LEN), row, n, err);
}

static int
index_get(struct vault_txn *t, const uint8_t order_id[16],
    struct index_row *out, struct sira_err *err)
{
	char key[INDEX_KEY_LEN + 1];
	uint8_t *v = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	index_key(order_id, key);
	if ((rc = vault_get(
		 t, VT_META, bytes_of(key, INDEX_KEY_LEN), &v, &len, err)) != 0)
		return rc;
	if (len < INDEX_FIXED || len > INDEX_FIXED + SIRA_CASE_REF_MAX)
		rc = sira_err_set(
		    err, SIRA_EMALFORMED, _("order index damaged"));
	else {
		out->type = (char)v[0];
		memcpy(out->blind, v + 1, 32);
		memcpy(out->local_id, v + 33, 16);
		memcpy(out->ref, v + INDEX_FIXED, len - INDEX_FIXED);
	}
	vault_free(v, len);
	return rc;
}

static int
ledger_load(struct vault_txn *t, const uint8_t blind[32],
    Sira__V1__ErasureLedger **out, struct sira_err *err)
{
	uint8_t *v = NULL;
	size_t len = 0;
	uint64_t at;
	int rc;

	if ((rc = casekey_ledger_get(t, blind, &v, &len, &at, err)) != 0)
		return rc;
	*out = sira__v1__erasure_ledger__unpack(NULL, len, v);
	vault_free(v, len);
	if (*out == NULL)
		return sira_err_set(err, SIRA_EMALFORMED, _("ledger damaged"));
	return 0;
}

static int
ledger_store(struct vault_txn *t, const uint8_t blind[32],
    Sira__V1__ErasureLedger *l, struct sira_err *err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = wire_pack(&l->base, &buf, &len, err)) != 0)
		return rc;
	rc = casekey_ledger_put(t, blind, buf, len, err);
	free(buf);
	return rc;
}

static int
ledger_add(struct vault_txn *t, const uint8_t blind[32], const char *agency,
    const uint8_t order_id[16], struct sira_err *err)
{
	Sira__V1__ErasureLedger *l = NULL;
	Sira__V1__ErasureProof **pp, *p;
	int rc;

	if ((rc = ledger_load(t, blind, &l, err)) != 0)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (pp = realloc(l->proofs, (l->n_proofs + 1) * sizeof(*pp))) ==
		NULL) {
		free(p);
		sira__v1__erasure_ledger__free_unpacked(l, NULL);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	sira__v1__erasure_proof__init(p);
	l->proofs = pp;
	l->proofs[l->n_proofs++] = p;
	p->agency = strdup(agency);
	p->order_id.data = malloc(16);
	p->receipt.data = NULL;
	if (p->agency == NULL || p->order_id.data == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	else {
		memcpy(p->order_id.data, order_id, 16);
		p->order_id.len = 16;
		rc = ledger_store(t, blind, l, err);
	}
	sira__v1__erasure_ledger__free_unpacked(l, NULL);
	return rc;
}

/* Record the verified receipt r (raw bytes) for order b->order_id. */
static int
ledger_take(struct vault_txn *t, const uint8_t blind[32],
    const Sira__V1__ErasureReceiptTBS *b, struct bytes raw,
    struct sira_err *err)
{
	Sira__V1__ErasureLedger *l = NULL;
	Sira__V1__ErasureProof *p = NULL;
	uint8_t *copy;
	int rc;

	if ((rc = ledger_load(t, blind, &l, err)) != 0)
		return rc;
	for (size_t i = 0; i < l->n_proofs && p == NULL; i++)
		if (l->proofs[i]->order_id.len == 16 &&
		    memcmp(l->proofs[i]->order_id.data, b->order_id.data, 16) ==
			0 &&
		    strcmp(l->proofs[i]->agency, b->agency_id) == 0)
			p = l->proofs[i];
	if (p == NULL)
		rc = sira_err_set(
		    err, SIRA_ENOTFOUND, _("no such erasure order"));
	else if ((copy = malloc(raw.len)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	else {
		memcpy(copy, raw.p, raw.len);
		free(p->receipt.data);
		p->receipt.data = copy;
		p->receipt.len = raw.len;
		p->outcome = (int32_t)b->outcome;
		p->at = b->at;
		rc = ledger_store(t, blind, l, err);
	}
	sira__v1__erasure_ledger__free_unpacked(l, NULL);
	return rc;
}

/* ---- sending ---- */

/* What one queued erasure message is: to whom, which kind, when. */
struct msg_to {
	const char *to;
	int kind;
	uint64_t now;
};

static int
queue_payload(struct vault_txn *t, const struct msg_to *m,
    const Sira__V1__Payload *p, uint8_t id[16], struct sira_err *err)
{
	const char *to = m->to;
	int kind = m->kind;
	uint64_t now = m->now;
	const char *tos[1] = { to };
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = wire_pack(&p->base, &buf, &len, err)) != 0)
		return rc;
	rc = book_queue(t,
	    &(struct outgoing){ tos, 1, kind,
		kind == KIND_ORDER ? ORDER_CT : RECEIPT_CT, "",
		bytes_of(buf, len), ORDER_TTL, NULL },
	    now, id, err);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* One order about ref to agency `to`; its id into order_id. */
struct order_spec {
	const char *ref, *reason, *to;
	int action;
	uint64_t now;
};

static int
send_order(struct vault_txn *t, const struct order_spec *s,
    uint8_t order_id[16], uint8_t local_id[16], struct sira_err *err)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	Sira__V1__ErasureOrder o = SIRA__V1__ERASURE_ORDER__INIT;

	book_new_id(order_id);
	o.order_id.data = order_id;
	o.order_id.len = 16;
	o.case_ref = (char *)(uintptr_t)s->ref;
	o.action = (Sira__V1__ErasureAction)s->action;
	o.reason = (char *)(uintptr_t)(s->reason ? s->reason : "");
	p.body_case = BODY_ORDER;
	p.erasure_order = &o;
	return queue_payload(t, &(struct msg_to){ s->to, KIND_ORDER, s->now },
	    &p, local_id, err);
}

/* Order every agency of res (but `skip`) to erase q->ref, erased here. */
static int
order_peers(struct vault_txn *t, const struct erase_req *q,
    const struct erase_result *res, const char *skip, struct sira_err *err)
{
	struct index_row ix = { .type = INDEX_ERASE };
	uint8_t id[16];
	int rc = 0;

	vault_blind(t, "case", q->ref, ix.blind);
	for (size_t i = 0; rc == 0 && i < res->n_peers; i++) {
		struct order_spec s = { q->ref, q->reason, res->peers[i],
			SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_ERASE,
			q->now };
		if (skip != NULL && strcmp(res->peers[i], skip) == 0)
			continue;
		if ((rc = send_order(t, &s, id, ix.local_id, err)) == 0 &&
		    (rc = ledger_add(t, ix.blind, res->peers[i], id, err)) == 0)
			rc = index_put(t, id, &ix, err);
	}
	return rc;
}

int
erase_and_order(struct agent *a, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	int rc;

	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if ((rc = erase_case_in(t, q, res, err)) == 0 && !res->already)
		rc = order_peers(t, q, res, NULL, err);
	if (rc == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc == 0) {
		erase_files(a, &res->files);
		nudge_daemon(&a->home);
	}
	return rc;
}

/* ---- the recipient: obey, refuse, answer ---- */

struct answer {
	int outcome;
	uint64_t at;
	char hold_by[SIRA_AGENCY_ID_MAX + 1];
	char hold_basis[TEXT_MAX + 1];
};

/* Did sender have a part in sending me the case? */
static bool
has_part(const Sira__V1__CaseRecord *r, const char *sender, const char *me)
{
	for (size_t i = 0; i < r->n_legs; i++)
		if (strcmp(r->legs[i]->from, sender) == 0 &&
		    strcmp(r->legs[i]->to, me) == 0)
			return true;
	if (strcmp(r->received_from, sender) == 0)
		return true;
	for (size_t i = 0; i < r->n_requests; i++)
		if (strcmp(r->requests[i]->holder, sender) == 0 &&
		    strcmp(r->requests[i]->requester, me) == 0)
			return true;
	return false;
}

static void
set_held(struct answer *ans, const Sira__V1__LegalHold *h)
{
	ans->outcome = SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HELD;
	(void)snprintf(ans->hold_by, sizeof(ans->hold_by), "%s", h->by);
	(void)snprintf(
	    ans->hold_basis, sizeof(ans->hold_basis), "%s", h->basis);
}

/* The state of o->case_ref here: *r loaded (or NULL); ans filled when
 * the answer is already known (erased, unknown). */
static int
look(struct vault_txn *t, const char *ref, Sira__V1__CaseRecord **r,
    struct answer *ans, struct sira_err *err)
{
	struct casekey k;
	uint8_t blind[32];
	int rc;

	*r = NULL;
	vault_blind(t, "case", ref, blind);
	if ((rc = casekey_get(t, blind, false, &k, err)) != 0)
		return rc;
	casekey_wipe(&k);
	if (k.state == CASEKEY_ERASED) {
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED;
		ans->at = k.erased_at;
		return 0;
	}
	rc = cases_load(t, ref, r, err);
	if (rc == -SIRA_EIO || rc == -SIRA_ENOMEM)
		return rc;
	sira_err_clear(err);
	if (*r == NULL)
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_UNKNOWN;
	return 0;
}

static int
obey_erase(struct agent *a, struct vault_txn *t, const struct wf_incoming *in,
    const Sira__V1__ErasureOrder *o, struct answer *ans, struct sira_err *err)
{
	struct erase_req q = { .ref = o->case_ref,
		.reason = o->reason,
		.me = a->me->agency_id,
		.by = in->sender,
		.now = in->at };
	struct erase_result *res;
	Sira__V1__CaseRecord *r = NULL;
	int rc;

	if ((rc = look(t, o->case_ref, &r, ans, err)) != 0 || r == NULL)
		return rc;
	if (!has_part(r, in->sender, a->me->agency_id))
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_DENIED;
	else if (r->hold != NULL && r->hold->by[0] != '\0')
		set_held(ans, r->hold);
	sira__v1__case_record__free_unpacked(r, NULL);
	if (ans->outcome != 0)
		return 0;
	if ((res = calloc(1, sizeof(*res))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = erase_case_in(t, &q, res, err)) == 0 &&
	    (rc = order_peers(t, &q, res, in->sender, err)) == 0) {
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED;
		ans->at = in->at;
	}
	free(res);
	return rc;
}

static int
obey_hold(struct agent *a, struct vault_txn *t, const struct wf_incoming *in,
    const Sira__V1__ErasureOrder *o, struct answer *ans, struct sira_err *err)
{
	bool set = o->action == SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_HOLD;
	Sira__V1__CaseRecord *r = NULL;
	int rc;

	(void)a;
	if (in->sender_role != SIRA_ROLE_JUSTICE) {
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_DENIED;
		return 0;
	}
	if ((rc = look(t, o->case_ref, &r, ans, err)) != 0 || r == NULL)
		return rc;
	if (!set && r->hold != NULL && r->hold->by[0] != '\0' &&
	    strcmp(r->hold->by, in->sender) != 0)
		ans->outcome =
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_DENIED;
	else if ((rc = erase_hold_apply(r,
		      &(struct hold_step){
			  set, in->sender, o->reason, in->at, in->message_id },
		      err)) == 0 &&
	    (rc = cases_save(t, r, in->at, err)) == 0) {
		ans->outcome = set ?
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HOLD_SET :
		    SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HOLD_RELEASED;
		ans->at = in->at;
	}
	sira__v1__case_record__free_unpacked(r, NULL);
	return rc;
}

/* Sign and queue the answer to the order o from in->sender. */
static int
answer(struct agent *a, struct vault_txn *t, const struct wf_incoming *in,
    const Sira__V1__ErasureOrder *o, const struct answer *ans,
    struct sira_err *err)
{
	Sira__V1__ErasureReceiptTBS b = SIRA__V1__ERASURE_RECEIPT_TBS__INIT;
	Sira__V1__ErasureReceipt rc_msg = SIRA__V1__ERASURE_RECEIPT__INIT;
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT;
	uint8_t sig[SIRA_SIG_LEN], *tbs = NULL, id[16];
	size_t len;
	int rc;

	b.version = 1;
	b.order_id = o->order_id;
	b.agency_id = (char *)(uintptr_t)a->me->agency_id;
	b.requester_id = (char *)(uintptr_t)in->sender;
	b.outcome = (Sira__V1__ErasureOutcome)ans->outcome;
	b.at = ans->at != 0 ? ans->at : in->at;
	b.hold_by = (char *)(uintptr_t)ans->hold_by;
	b.hold_basis = (char *)(uintptr_t)ans->hold_basis;
	if ((rc = wire_pack(&b.base, &tbs, &len, err)) != 0)
		return rc;
	if ((rc = sign_detached(
		 a->keys->sign_sk, SIRA_DS_ERASURE, tbs, len, sig)) != 0)
		rc = sira_err_set(
		    err, -rc, _("cannot sign the erasure receipt"));
	else {
		rc_msg.tbs.data = tbs;
		rc_msg.tbs.len = len;
		rc_msg.sig.data = sig;
		rc_msg.sig.len = sizeof(sig);
		p.body_case = BODY_RECEIPT;
		p.erasure_receipt = &rc_msg;
		rc = queue_payload(t,
		    &(struct msg_to){ in->sender, KIND_ANSWER, in->at }, &p, id,
		    err);
	}
	free(tbs);
	if (rc == 0)
		rc = book_audit(t, in->at,
		    &(struct audit_event){ .action = "erasure.answered",
			.counterpart = in->sender,
			.msgid = in->message_id,
			.reason = 0 },
		    err);
	return rc;
}

static int
on_order(struct agent *a, struct vault_txn *t, const struct wf_incoming *in,
    const Sira__V1__ErasureOrder *o, struct sira_err *err)
{
	struct answer ans;
	int rc;

	memset(&ans, 0, sizeof(ans));
	if (o->action == SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_ERASE)
		rc = obey_erase(a, t, in, o, &ans, err);
	else
		rc = obey_hold(a, t, in, o, &ans, err);
	if (rc != 0)
		return rc;
	log_event(LOG_INFO, "erasure.order", "from=%s outcome=%d", in->sender,
	    ans.outcome);
	/* Obeyed: the order itself names the case; it goes too. */
	if (o->action == SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_ERASE &&
	    ans.outcome == SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED &&
	    (rc = erase_late(t, in->message_id, err)) != 0)
		return rc;
	return answer(a, t, in, o, &ans, err);
}

/*
 * The order answered, its outbox row need no longer carry the case
 * reference in its payload: scrubbed and stored again without it (once the
 * broker holds it: nothing is sent from the payload any more), and the
 * vault marked for compaction.
 */
static int
forget_order(struct vault_txn *t, const uint8_t local_id[16], uint64_t now,
    struct sira_err *err)
{
	Sira__V1__OutboxEntry *e = NULL;
	int rc;

	if (book_get_out(t, local_id, &e, NULL) != 0)
		return 0; /* gone: nothing to forget */
	if (e->state < SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED ||
	    e->payload.len == 0) {
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	sodium_memzero(e->payload.data, e->payload.len);
	e->payload.len = 0;
	if ((rc = vault_scrub(t, VT_OUTBOX, bytes_of(local_id, 16), err)) ==
		0 &&
	    (rc = book_put_out(t, e, now, err)) == 0)
		rc = vault_compact_want(t, err);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}

static int
on_receipt(struct agent *a, struct vault_txn *t, const struct wf_incoming *in,
    const Sira__V1__ErasureReceipt *r, struct sira_err *err)
{
	Sira__V1__ErasureReceiptTBS *b = NULL;
	uint8_t pk[SIRA_SIGN_PK_LEN], *raw = NULL;
	struct index_row ix;
	size_t rawlen;
	int rc;

	if ((rc = erase_receipt_open(r, &b, err)) != 0 || b == NULL)
		return rc != 0 ? rc : -SIRA_EMALFORMED;
	if (strcmp(b->agency_id, in->sender) != 0 ||
	    strcmp(b->requester_id, a->me->agency_id) != 0)
		rc = sira_err_set(
		    err, SIRA_ESPOOF, _("an erasure receipt for someone else"));
	else if ((rc = peers_sign_pk(a, t, in->sender, in->at, pk, err)) == 0 &&
	    (rc = sign_verify(pk, SIRA_DS_ERASURE, r->tbs.data, r->tbs.len,
		 r->sig.data)) != 0)
		rc = sira_err_set(err, SIRA_EBADSIG,
		    _("an erasure receipt whose signature is wrong"));
	if (rc == 0)
		rc = index_get(t, b->order_id.data, &ix, err);
	if (rc == 0 && ix.type == INDEX_ERASE &&
	    (rc = wire_pack(&r->base, &raw, &rawlen, err)) == 0) {
		if ((rc = ledger_take(
			 t, ix.blind, b, bytes_of(raw, rawlen), err)) == 0)
			rc = forget_order(t, ix.local_id, in->at, err);
		free(raw);
	} else if (rc == 0 && ix.type == INDEX_HOLD)
		rc = erase_hold_answered(t, ix.ref, b, in->message_id, err);
	if (rc == 0)
		rc = book_audit(t, in->at,
		    &(struct audit_event){ .action = "erasure.receipt",
			.counterpart = in->sender,
			.msgid = in->message_id },
		    err);
	sira__v1__erasure_receipt_tbs__free_unpacked(b, NULL);
	return rc;
}

int
erase_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err)
{
	Sira__V1__Payload *p = NULL;
	struct vault_txn *c = NULL;
	struct sira_err e2 = { 0 };
	int rc;

	if (erase_msg_parse(in->kind, in->payload, in->len, &p, &e2) != 0 ||
	    p == NULL) {
		log_event(LOG_WARN, "erasure.malformed", "from=%s", in->sender);
		return 0; /* stored, verified, useless: nothing to do */
	}
	/* A child transaction: an order that cannot be carried out (or a
	 * receipt that does not verify) must not cost the stored message. */
	if ((rc = vault_begin_child(t, &c, err)) != 0) {
		sira__v1__payload__free_unpacked(p, NULL);
		return rc;
	}
	if (p->body_case == BODY_ORDER)
		rc = on_order(a, c, in, p->erasure_order, &e2);
	else
		rc = on_receipt(a, c, in, p->erasure_receipt, &e2);
	sira__v1__payload__free_unpacked(p, NULL);
	if (rc == 0)
		return vault_commit(&c, err);
	vault_abort(&c);
	if (rc == -SIRA_EQUOTA || rc == -SIRA_EIO)
		return sira_err_set(err, -rc, "%s", e2.msg);
	log_event(LOG_WARN, "erasure.refused", "from=%s reason=%s", in->sender,
	    sira_strerror(rc));
	return 0;
}

/* ---- what `erase` shows of an erased case ---- */

int
erase_ledger_each(struct vault_txn *t, const char *ref,
    void (*fn)(void *ctx, const Sira__V1__ErasureProof *p), void *ctx,
    struct sira_err *err)
{
	Sira__V1__ErasureLedger *l = NULL;
	uint8_t blind[32];
	int rc;

	vault_blind(t, "case", ref, blind);
	if ((rc = ledger_load(t, blind, &l, err)) != 0)
		return rc;
	for (size_t i = 0; i < l->n_proofs; i++)
		fn(ctx, l->proofs[i]);
	sira__v1__erasure_ledger__free_unpacked(l, NULL);
	return 0;
}

static int
tally_one(void *ctx, const uint8_t *ledger, size_t len)
{
	struct erase_tally *y = ctx;
	Sira__V1__ErasureLedger *l;

	y->erased++;
	if ((l = sira__v1__erasure_ledger__unpack(NULL, len, ledger)) == NULL) {
		y->damaged++;
		return 0;
	}
	for (size_t i = 0; i < l->n_proofs; i++) {
		int o = l->proofs[i]->outcome;
		y->orders++;
		if (o == 0)
			y->awaited++;
		else if (o != SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED)
			y->refused++;
	}
	sira__v1__erasure_ledger__free_unpacked(l, NULL);
	return 0;
}

int
erase_tally(struct vault_txn *t, struct erase_tally *y, struct sira_err *err)
{
	memset(y, 0, sizeof(*y));
	return casekey_ledgers_each(t, tally_one, y, err);
}

/* ---- holds, from the justice agency ---- */

int
erase_hold_send(struct agent *a, const struct hold_req *h, size_t *sent,
    struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	struct vault_txn *t = NULL;
	struct erase_result *peers;
	struct index_row ix = { .type = INDEX_HOLD };
	uint8_t id[16];
	int rc;

	*sent = 0;
	if (a->me->role != SIRA_ROLE_JUSTICE)
		return sira_err_set(err, SIRA_EDENIED,
		    _("only a justice agency can set or release a legal hold"));
	if ((peers = calloc(1, sizeof(*peers))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = vault_begin(a->vault, true, &t, err)) == 0 &&
	    (rc = cases_load(t, h->ref, &r, err)) == 0 &&
	    (rc = erase_hold_apply(r,
		 &(struct hold_step){
		     !h->release, a->me->agency_id, h->basis, h->now, NULL },
		 err)) == 0 &&
	    (rc = cases_save(t, r, h->now, err)) == 0) {
		erase_hold_peers(r, a->me->agency_id, peers);
		vault_blind(t, "case", h->ref, ix.blind);
		(void)snprintf(ix.ref, sizeof(ix.ref), "%s", h->ref);
		for (size_t i = 0; rc == 0 && i < peers->n_peers; i++) {
			struct order_spec s = { h->ref, h->basis,
				peers->peers[i],
				h->release ?
				    SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_RELEASE :
				    SIRA__V1__ERASURE_ACTION__ERASURE_ACTION_HOLD,
				h->now };
			if ((rc = send_order(t, &s, id, ix.local_id, err)) == 0)
				rc = index_put(t, id, &ix, err);
		}
		*sent = peers->n_peers;
	}
	if (rc == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (r != NULL)
		sira__v1__case_record__free_unpacked(r, NULL);
	free(peers);
	if (rc == 0)
		nudge_daemon(&a->home);
	return rc;
}
