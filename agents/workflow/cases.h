/*
 * cases.h: the workflow state machine of a case (docs/WORKFLOWS.md), as
 * pure functions on a CaseRecord (proto/case.proto), and the records'
 * storage in the vault.
 *
 * Every step is one function. A step checks that it is legal from the
 * record's current state and either changes the record and appends a
 * timeline event, or changes nothing and returns -SIRA_ESTATE (or
 * -SIRA_ENOTFOUND, -SIRA_EDENIED) with a message a social worker can act
 * on. Local steps (what this agency does) are refused when illegal;
 * remote steps (what another agency's signed message says it did) are
 * never refused, because the message is already verified and stored: an
 * out-of-order one is recorded as an anomaly on the timeline instead.
 *
 * Records are protobuf-c messages whose every field is malloc'd (strings
 * with strdup, arrays with realloc), so sira__v1__case_record__free_unpacked
 * frees a record built here as well as one unpacked from the vault.
 */
#ifndef SIRA_CASES_H
#define SIRA_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.pb-c.h"
#include "err.h"
#include "store/vault.h"

#define SIRA_CASE_REF_BUF 65 /* a case reference and its NUL */

/* Bounds of one record (far above any real case: a record must stay well
 * under the vault's 8 MiB value limit whatever other agencies send). */
#define CASES_EVENTS_MAX 1000  /* this agency's timeline */
#define CASES_HISTORY_MAX 2000 /* events received from earlier holders */
#define CASES_LEGS_MAX 64
#define CASES_REQUESTS_MAX 64

/* The message that carried a step: who sent it, which envelope, when. */
struct case_msg {
	const char *from;
	const char *to;
	const uint8_t *message_id; /* 16 bytes, or NULL for local-only steps */
	uint64_t at;
};

/* A new, empty record for case_ref (caller frees). NULL without memory. */
Sira__V1__CaseRecord *cases_new(const char *case_ref, uint64_t now);

/* Record lookup helpers; NULL when absent. */
Sira__V1__CaseLeg *cases_leg_to(
    const Sira__V1__CaseRecord *r, const char *to, bool active_only);
Sira__V1__FileRequestRecord *cases_request_by_id(
    const Sira__V1__CaseRecord *r, const uint8_t request_id[16]);

/* Is a leg still waiting for, or living with, an answer? */
bool cases_leg_active(const Sira__V1__CaseLeg *l);

/* ---- Local steps: this agency acts; refused when illegal. ---- */

/* We refer the case (referral bytes = the packed Referral) to m->to. */
int cases_refer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t *referral, size_t len, struct sira_err *err);

/* We (m->from) answer the referral addressed to us. */
int cases_answer(Sira__V1__CaseRecord *r, const struct case_msg *m, bool accept,
    const char *reason, const char *suggested, struct sira_err *err);

/* We report services started (completed = false) or completed. */
int cases_feedback(Sira__V1__CaseRecord *r, const struct case_msg *m,
    bool completed, const char *note, struct sira_err *err);

/* We withdraw our pending referral to m->to. */
int cases_revoke(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const char *reason, struct sira_err *err);

/* We hand the case over to m->to. */
int cases_transfer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const char *note, struct sira_err *err);

/* We (a prosecutor) ask m->to for the case file. */
int cases_request(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t request_id[16], const char *basis, const char *purpose,
    struct sira_err *err);

/* We answer request_id (grant = send the file). */
int cases_decide(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t request_id[16], bool grant, const char *reason,
    struct sira_err *err);

/*
 * Our referral message for leg l was refused or expired on the way: the
 * leg closes as undelivered (so the case may be referred there again),
 * with why. Only a pending leg of ours moves; returns whether it did.
 */
bool cases_undelivered(Sira__V1__CaseRecord *r, Sira__V1__CaseLeg *l,
    const char *why, uint64_t at);

/* ---- Remote steps: another agency's signed message; never refused. ---- */

void cases_on_referral(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const uint8_t *referral, size_t len);
void cases_on_response(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__ReferralResponse *resp);
void cases_on_update(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__ReferralUpdate *u);
void cases_on_transfer(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseTransfer *ct);
void cases_on_request(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseFileRequest *q);
void cases_on_file(Sira__V1__CaseRecord *r, const struct case_msg *m,
    const Sira__V1__CaseFileResponse *f);

/*
 * Append an event to the timeline (action is a fixed word such as
 * "referral.accepted"; note may be NULL). Returns 0 or -SIRA_ENOMEM.
 */
int cases_event(Sira__V1__CaseRecord *r, uint64_t at, const char *actor,
    const char *action, const char *note, const uint8_t *message_id);

/* ---- Storage (vault table VT_CASES, key = keyed hash of case_ref) ---- */

/* Load case_ref into *out (caller frees). -SIRA_ENOTFOUND if none. */
int cases_load(struct vault_txn *t, const char *case_ref,
    Sira__V1__CaseRecord **out, struct sira_err *err);

/* Store r (inside the caller's write transaction). */
int cases_save(struct vault_txn *t, Sira__V1__CaseRecord *r, uint64_t now,
    struct sira_err *err);

/* Find the case holding request_id. -SIRA_ENOTFOUND if none. */
int cases_find_request(struct vault_txn *t, const uint8_t request_id[16],
    Sira__V1__CaseRecord **out, struct sira_err *err);

/* Call fn for every case record (read-only); fn returns 0 to go on. */
int cases_each(struct vault_txn *t,
    int (*fn)(void *ctx, const Sira__V1__CaseRecord *r), void *ctx,
    struct sira_err *err);

#endif
