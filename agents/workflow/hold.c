/*
 * hold.c: legal holds on a case (docs/WORKFLOWS.md, "Effacement"). A
 * justice agency sets a hold (`sira-agent hold --case REF --basis TEXT`)
 * on its own record and sends it to every agency the case passed through
 * (erase_order.c); each records it on its record (CaseRecord.hold) with a
 * timeline event. While it is set, erasure is refused here
 * (erase_hold_check) and an erasure order is answered HELD. Only the
 * agency that set it releases it.
 */
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"
#include "i18n.h"

int
erase_hold_apply(
    Sira__V1__CaseRecord *r, const struct hold_step *s, struct sira_err *err)
{
	Sira__V1__LegalHold *h = NULL;

	if (r->hold != NULL) {
		sira__v1__legal_hold__free_unpacked(r->hold, NULL);
		r->hold = NULL;
	}
	if (s->set) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
		sira__v1__legal_hold__init(h);
		h->by = strdup(s->by);
		h->basis = strdup(s->basis != NULL ? s->basis : "");
		h->at = s->at;
		r->hold = h;
		if (h->by == NULL || h->basis == NULL)
			return sira_err_set(
			    err, SIRA_ENOMEM, _("out of memory"));
	}
	if (cases_event(r, s->at, s->by, s->set ? "hold.set" : "hold.released",
		s->set ? s->basis : NULL, s->msgid) != 0)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return 0;
}

void
erase_hold_peers(
    const Sira__V1__CaseRecord *r, const char *me, struct erase_result *res)
{
	for (size_t i = 0; i < r->n_legs; i++) {
		erase_add_peer(res, r->legs[i]->from, me);
		erase_add_peer(res, r->legs[i]->to, me);
	}
	erase_add_peer(res, r->received_from, me);
	erase_add_peer(res, r->transferred_to, me);
	for (size_t i = 0; i < r->n_requests; i++) {
		erase_add_peer(res, r->requests[i]->holder, me);
		erase_add_peer(res, r->requests[i]->requester, me);
	}
}

static const char *
outcome_name(int outcome)
{
	switch (outcome) {
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HOLD_SET:
		return "hold set";
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HOLD_RELEASED:
		return "hold released";
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED:
		return "already erased";
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_UNKNOWN:
		return "case unknown there";
	default:
		return "refused";
	}
}

int
erase_hold_answered(struct vault_txn *t, const char *ref,
    const Sira__V1__ErasureReceiptTBS *b, const uint8_t *msgid,
    struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	int rc;

	if (cases_load(t, ref, &r, NULL) != 0)
		return 0; /* erased or gone since: nothing to note */
	if (cases_event(r, b->at, b->agency_id, "hold.answered",
		outcome_name((int)b->outcome), msgid) != 0)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	else
		rc = cases_save(t, r, b->at, err);
	sira__v1__case_record__free_unpacked(r, NULL);
	return rc;
}
