/*
 * workflow.h: the referral mechanism's steps as agent commands
 * (docs/WORKFLOWS.md). Each local step is ONE vault transaction: the case
 * record moves (cases.c checks the step is legal), the message that tells
 * the other agency is queued in the outbox, and the audit chain records
 * it; all of it commits or nothing does. The daemon seals and sends it.
 *
 * workflow_incoming is the other half: the daemon calls it, inside the
 * transaction that stores a verified message, to move the case record.
 */
#ifndef SIRA_WORKFLOW_H
#define SIRA_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/agent.h"
#include "case.pb-c.h"

#define SIRA_CASE_REF_MAX 64

/* What a command was given (unused fields NULL / 0). */
struct wf_args {
	const char *ref;     /* case reference, or request id (grant/refuse) */
	const char *to;      /* refer, transfer, revoke (optional) */
	const char *from;    /* request-file: the holder asked; accept,
				decline, feedback: which referrer */
	const char *file;    /* refer: the referral JSON */
	const char *reason;  /* decline, revoke, refuse */
	const char *suggest; /* decline */
	const char *note;    /* feedback, transfer */
	const char *basis;   /* request-file */
	const char *purpose; /* request-file */
	const char *status;  /* feedback: started | completed */
	const char *const *attach; /* files to attach (refer, transfer) */
	size_t n_attach;
	uint32_t ttl;
	uint64_t now;
};

/* What a command did, for main.c to print. */
struct wf_result {
	char case_ref[SIRA_CASE_REF_MAX + 1];
	char message_id[33]; /* hex of the queued message */
	uint8_t id[16];      /* the same, binary */
	char request_id[33]; /* request-file: hex of the request */
	char notice[256];    /* something the user must know, or "" */
};

bool workflow_ref_valid(const char *ref);

int workflow_refer(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err);
int workflow_answer(struct agent *a, const struct wf_args *w, bool accept,
    struct wf_result *res, struct sira_err *err);
int workflow_feedback(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err);
int workflow_revoke(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err);
int workflow_transfer(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err);
int workflow_request(struct agent *a, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err);
int workflow_decide(struct agent *a, const struct wf_args *w, bool grant,
    struct wf_result *res, struct sira_err *err);

/*
 * A note sent about case ref (sira-agent send --case): recorded on the
 * case timeline inside the caller's transaction t.
 */
int workflow_note(struct agent *a, struct vault_txn *t, const char *ref,
    const char *to, const uint8_t id[16], uint64_t now, struct sira_err *err);

/* A verified, stored message as the workflow sees it. */
struct wf_incoming {
	const char *sender;
	int kind;
	const char *case_ref; /* from the signed manifest */
	const uint8_t *message_id;
	const uint8_t *payload;
	size_t len;
	uint64_t at;     /* when it was received */
	int sender_role; /* enum sira_role of the sender's verified certificate
			  */
};

/*
 * The pure part of workflow_incoming: apply the message to r as agency
 * `me` (no vault). Returns 0, or -SIRA_EMALFORMED when the payload does not
 * parse or does not match its kind or case (recorded on r as an anomaly).
 */
int workflow_apply(
    Sira__V1__CaseRecord *r, const char *me, const struct wf_incoming *in);

/*
 * Move the case the message is about. Never refuses the message (it is
 * verified and stored already): content that does not fit the case is
 * recorded on its timeline as an anomaly and logged. Returns 0, or a
 * store error that must abort the caller's transaction.
 */
int workflow_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err);

#endif
