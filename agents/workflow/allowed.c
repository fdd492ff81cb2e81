/*
 * allowed.c: which steps this agency may take on a case now, for screens
 * that offer only those (the web interface). Each answer is the state
 * machine's own: the step's cases_* function is tried on a copy of the
 * record and the copy thrown away, so a button exists exactly when the
 * step would be accepted. Nothing is stored, nothing is queued.
 */
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"
#include "wire.h"

static Sira__V1__CaseRecord *
copy(const Sira__V1__CaseRecord *r)
{
	ProtobufCMessage *m = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (wire_pack(&r->base, &buf, &len, NULL) != 0)
		return NULL;
	m = protobuf_c_message_unpack(
	    &sira__v1__case_record__descriptor, NULL, len, buf);
	free(buf);
	return (Sira__V1__CaseRecord *)m;
}

enum try_step {
	TRY_ACCEPT,
	TRY_DECLINE,
	TRY_START,
	TRY_COMPLETE,
	TRY_REVOKE,
	TRY_TRANSFER,
	TRY_REFER,
	TRY_DECIDE
};

/* Would the step succeed on r, as agency m->from? */
static bool
try(const Sira__V1__CaseRecord *r, enum try_step step, const struct case_msg *m,
    const uint8_t *request_id)
{
	Sira__V1__CaseRecord *c = copy(r);
	int rc = -SIRA_ENOMEM;

	if (c == NULL)
		return false;
	switch (step) {
	case TRY_ACCEPT:
	case TRY_DECLINE:
		rc = cases_answer(c, m, step == TRY_ACCEPT, "", "", NULL);
		break;
	case TRY_START:
	case TRY_COMPLETE:
		rc = cases_feedback(c, m, step == TRY_COMPLETE, "", NULL);
		break;
	case TRY_REVOKE:
		rc = cases_revoke(c, m, "", NULL);
		break;
	case TRY_TRANSFER:
		rc = cases_transfer(c, m, "", NULL);
		break;
	case TRY_REFER:
		rc = cases_refer(c, m, (const uint8_t *)"", 0, NULL);
		break;
	case TRY_DECIDE:
		rc = cases_decide(c, m, request_id, true, "", NULL);
		if (rc != 0) /* a grant needs the file; a refusal does not */
			rc = cases_decide(c, m, request_id, false, "", NULL);
		break;
	}
	sira__v1__case_record__free_unpacked(c, NULL);
	return rc == 0;
}

static void
legs(const Sira__V1__CaseRecord *r, const char *me, uint64_t now,
    struct wf_allowed *out)
{
	for (size_t i = 0; i < r->n_legs && i < CASES_LEGS_MAX; i++) {
		const Sira__V1__CaseLeg *l = r->legs[i];
		struct case_msg m = { me, NULL, NULL, now };
		unsigned f = 0;
		bool newest = true;

		/* Steps name a leg by its other agency: the newest one. */
		for (size_t j = i + 1; j < r->n_legs; j++)
			if (strcmp(r->legs[j]->from, l->from) == 0 &&
			    strcmp(r->legs[j]->to, l->to) == 0)
				newest = false;
		if (!newest)
			continue;
		if (strcmp(l->to, me) == 0) {
			m.to = l->from;
			f |= try(r, TRY_ACCEPT, &m, NULL) ? WF_CAN_ACCEPT : 0;
			f |= try(r, TRY_DECLINE, &m, NULL) ? WF_CAN_DECLINE : 0;
			f |= try(r, TRY_START, &m, NULL) ? WF_CAN_START : 0;
			f |= try(r, TRY_COMPLETE, &m, NULL) ? WF_CAN_COMPLETE :
							      0;
		} else if (strcmp(l->from, me) == 0) {
			m.to = l->to;
			f |= try(r, TRY_REVOKE, &m, NULL) ? WF_CAN_REVOKE : 0;
		}
		out->leg[i] = f;
	}
}

void
workflow_allowed(const Sira__V1__CaseRecord *r, const char *me, int my_role,
    uint64_t now, struct wf_allowed *out)
{
	struct case_msg m = { me, "", NULL, now };

	memset(out, 0, sizeof(*out));
	legs(r, me, now, out);
	out->transfer = try(r, TRY_TRANSFER, &m, NULL);
	out->refer = try(r, TRY_REFER, &m, NULL);
	out->request_file = my_role == SIRA_ROLE_JUSTICE;
	for (size_t i = 0; i < r->n_requests && i < CASES_REQUESTS_MAX; i++) {
		const Sira__V1__FileRequestRecord *q = r->requests[i];
		out->decide[i] = q->request_id.len == 16 &&
		    try(r, TRY_DECIDE, &m, q->request_id.data);
	}
}
