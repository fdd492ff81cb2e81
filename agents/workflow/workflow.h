/*
 * workflow.h: the referral mechanism's rules: the case state machine
 * (cases.c) and its records (casebook.c), the referral form codec
 * (referral.c) and the steps a user or an incoming message takes
 * (workflow.c). It never talks to the network: the daemon and the CLI
 * call it.
 */
#ifndef SIRA_AGENT_WORKFLOW_H
#define SIRA_AGENT_WORKFLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.pb-c.h"
#include "err.h"
#include "payload.pb-c.h"
#include "store/store.h"

/*
 * cases.c: the workflow state machine of a case (docs/WORKFLOWS.md), as
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

/*
 * referral.c: a referral as people write it (JSON, see docs/referral.md)
 * and as it travels (the protobuf Referral of proto/payload.proto).
 *
 * referral_from_json turns what a police officer or social worker wrote
 * into a Referral, or says which field is wrong and what is expected. It
 * enforces informed consent: identifying details only travel when the
 * person (and, for a child, a guardian) agreed, or for a child at risk of
 * life. referral_validate applies the same rules to a Referral that came
 * from elsewhere (a payload just opened). Nothing here logs.
 */
/* Bounds, in bytes of UTF-8 for texts; docs/referral.md lists them all. */
#define SIRA_REFERRAL_JSON_MAX ((size_t)64 * 1024) /* whole document */
#define SIRA_REFERRAL_REF_MAX 64                   /* case_ref, victim_ref */
#define SIRA_REFERRAL_NAME_MAX 128    /* places, names, organisations */
#define SIRA_REFERRAL_LANG_MAX 32     /* one language */
#define SIRA_REFERRAL_LANGS_MAX 8     /* entries of languages */
#define SIRA_REFERRAL_PHONE_MAX 32    /* identifying.phone */
#define SIRA_REFERRAL_ADDR_MAX 256    /* current_location, guardian_contact */
#define SIRA_REFERRAL_CIRC_MAX 1000   /* identification.circumstances */
#define SIRA_REFERRAL_NOTES_MAX 2000  /* notes */
#define SIRA_REFERRAL_AGE_MAX 120     /* age.years, min_years, max_years */
#define SIRA_REFERRAL_ADULT 18        /* below this age a person is a child */
#define SIRA_REFERRAL_SLACK 86400     /* dates may be this far past now */
#define SIRA_REFERRAL_SUMMARY_MAX 512 /* a buffer this big never truncates */

/*
 * Parse the JSON referral text[0..len) (not NUL-terminated), check every
 * field and the consent rules against the current time now (unix seconds),
 * and on success store a new Referral in *out. The caller owns *out and
 * frees it with sira__v1__referral__free_unpacked(*out, NULL); on failure
 * *out is NULL. err->msg starts with the name of the field at fault (as
 * "consent.date" or "exploitation[2]") and says what is expected. It never
 * quotes the value of a field: only a key or an unknown enum word is shown
 * back, bounded and made printable.
 *
 * Returns 0, -SIRA_ETOOBIG (more than SIRA_REFERRAL_JSON_MAX bytes),
 * -SIRA_EINVAL (not JSON, duplicate key, wrong type, unknown key or value,
 * out of bounds, missing, inconsistent, date in the future), -SIRA_EDENIED
 * (the consent rules forbid sending it as written) or -SIRA_ENOMEM.
 */
int referral_from_json(const char *text, size_t len, uint64_t now,
    Sira__V1__Referral **out, struct sira_err *err);

/*
 * Check a Referral that did not come from referral_from_json (for example
 * one just unpacked from a payload) with the same rules, as of now. The
 * message is only read. Returns 0, -SIRA_EINVAL or -SIRA_EDENIED, with the
 * same messages as referral_from_json.
 */
int referral_validate(
    const Sira__V1__Referral *r, uint64_t now, struct sira_err *err);

/*
 * The JSON form of r, for display (sira-agent show, case). Returns a new
 * reference the caller releases with json_decref, or NULL when memory runs
 * out or a text of r is not UTF-8 (never the case once referral_validate
 * accepted r). Parsing the result gives back a message equal to r.
 */
json_t *referral_to_json(const Sira__V1__Referral *r);

/*
 * One line in French for an inbox, such as "Mineure, 14 ans, ML —
 * exploitation: mendicité forcée — besoins: hébergement, médical —
 * risque: élevé — urgence: immédiate". Built only from ages, the
 * nationality code and enums: never a name, phone number, place, note or
 * reference, whatever r carries. Written to buf, always NUL-terminated when
 * len > 0 and cut on a character boundary if it does not fit (a valid
 * referral always fits in SIRA_REFERRAL_SUMMARY_MAX); returns buf.
 */
const char *referral_summary(
    const Sira__V1__Referral *r, char *buf, size_t len);

/*
 * workflow.c: the referral mechanism's steps as agent commands
 * (docs/WORKFLOWS.md). Each local step is ONE vault transaction: the case
 * record moves (cases.c checks the step is legal), the message that tells
 * the other agency is queued in the outbox, and the audit chain records
 * it; all of it commits or nothing does. The daemon seals and sends it.
 *
 * workflow_incoming is the other half: the daemon calls it, inside the
 * transaction that stores a verified message, to move the case record.
 */
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
	const char *json;    /* refer: the referral JSON itself, used
				instead of file when not NULL */
	size_t json_len;
	const char *person;        /* who did it (web login), for the audit */
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
 * allowed.c: the steps this agency (me, of role my_role) may take on r
 * now, each found by trying the state machine's step on a copy of r.
 * leg[i] holds WF_CAN_* for r->legs[i] (0 for a leg superseded by a newer
 * one between the same agencies), decide[i] whether request i may be
 * answered.
 */
#define WF_CAN_ACCEPT 1u
#define WF_CAN_DECLINE 2u
#define WF_CAN_START 4u
#define WF_CAN_COMPLETE 8u
#define WF_CAN_REVOKE 16u
struct wf_allowed {
	unsigned leg[CASES_LEGS_MAX];
	bool decide[CASES_REQUESTS_MAX];
	bool transfer, refer, request_file;
};
void workflow_allowed(const Sira__V1__CaseRecord *r, const char *me,
    int my_role, uint64_t now, struct wf_allowed *out);

/*
 * A note (queued as message id) sent about case w->ref to w->to at w->now
 * (sira-agent send --case): recorded on the case timeline inside the
 * caller's transaction t.
 */
int workflow_note(struct agent *a, struct vault_txn *t, const struct wf_args *w,
    const uint8_t id[16], struct sira_err *err);

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

/*
 * deadlines.c: which steps of a case are overdue for the agency that
 * waits (docs/WORKFLOWS.md, "Deadlines"), as pure functions on a record;
 * the marks that record each escalation; the check of a DeadlineNotice.
 */
#define DEADLINES_PER_CASE (CASES_LEGS_MAX + CASES_REQUESTS_MAX)
#define DEADLINES_MARKS_MAX (2 * CASES_LEGS_MAX + CASES_REQUESTS_MAX)
#define DEADLINE_BLIND_LEN 32

/* What a scan needs: the deadlines, who we are, the time, and the role
 * (enum sira_role, 0 when unknown) of another agency. */
struct due_scan {
	const struct deadline_conf *conf;
	const char *me;
	uint64_t now;
	int (*role_of)(void *ctx, const char *agency);
	void *ctx;
};

/* One overdue step; owing and item_id point into the record scanned. */
struct due {
	int step;               /* Sira__V1__DeadlineStep */
	const char *owing;      /* the agency that owes the step */
	const uint8_t *item_id; /* 16 bytes: the leg's message or request */
	uint64_t due_at, late;  /* late = now - due_at (> 0) */
	uint32_t stage;         /* escalation done: 0, 1 or 2 */
	uint32_t next;          /* the stage due now, or 0 */
	uint64_t next_at;       /* when the next stage falls due (0: none) */
};

/* The overdue steps of r into out[0..n), n returned. Only read. */
size_t deadlines_overdue(const Sira__V1__CaseRecord *r,
    const struct due_scan *s, struct due out[static DEADLINES_PER_CASE]);

/* The mark of (step, item) on r, or NULL. */
const Sira__V1__DeadlineMark *deadlines_mark_of(
    const Sira__V1__CaseRecord *r, int step, const uint8_t item_id[16]);

/* Record that d reached stage (1 or 2) at now. 0, -SIRA_ENOMEM or
 * -SIRA_ETOOBIG (too many marks). */
int deadlines_mark(
    Sira__V1__CaseRecord *r, const struct due *d, uint32_t stage, uint64_t now);

/* "answer", "feedback", "file_request" or "unknown" (static). */
const char *deadlines_step_word(int step);

/* "late by 3 d" (or "2 h" under a day) in the reader's language. */
#define DEADLINE_TEXT_LEN 64
const char *deadlines_late_text(
    uint64_t late, char buf[static DEADLINE_TEXT_LEN]);

/*
 * due_roles.c: due_roles_of is a due_scan role_of for agencies of the
 * directory (peers_role in t at now), each looked up once. Set a, t, now
 * and zero the rest; due_roles_free when done.
 */
struct due_role {
	char *agency;
	int role;
};
struct due_roles {
	struct agent *a;
	struct vault_txn *t;
	uint64_t now;
	struct due_role *seen;
	size_t n;
};
int due_roles_of(void *ctx, const char *agency);
void due_roles_free(struct due_roles *x);

/* Check a DeadlineNotice from sender, received by me (of my_role): a
 * reminder (stage 1) names us, the case and the step; a committee notice
 * (stage 2) reaches only a coordination agency and carries the blinded
 * reference and nothing that names the case. 0 or -SIRA_EMALFORMED. */
struct notice_ctx {
	const char *sender, *me;
	int my_role;
};
int deadline_notice_check(const Sira__V1__DeadlineNotice *n,
    const struct notice_ctx *x, struct sira_err *err);

/*
 * stats.c: the committee's national figures (docs/STATS.md), as pure
 * functions. At an agency: each case it knows becomes one StatsCase (a
 * keyed pseudonym and coarse categories, never a name, an age in years, a
 * place below the region or a note) and the month's cases one StatsReport.
 * At the committee: the reports are validated, the persons de-duplicated
 * by pseudonym across agencies, counted by one dimension, and every cell
 * under the threshold hidden, with a second cell when one alone could be
 * worked out from the total. Nothing here reads the vault except
 * stats_build, which only reads cases, or logs.
 */
#define STATS_VERSION 1
#define STATS_CASES_MAX 12000 /* one agency's persons in one month */
#define STATS_THRESHOLD_DEFAULT 5
#define STATS_THRESHOLD_MAX 1000
#define STATS_TYPES 10 /* ExploitationType 1..10 */
#define STATS_NEEDS 9  /* Need 1..9 */
#define STATS_PERSON_LEN 32
#define STATS_KEY_ID_LEN 16

/* Periods are YYYYMM numbers, months of UTC. */
bool stats_period_valid(uint32_t p);
uint32_t stats_period_of(uint64_t unix_time);
uint32_t stats_period_add(uint32_t p, int months);
/* "2026-11" -> 202611. Returns 0 or -SIRA_EINVAL. */
int stats_period_parse(const char *s, uint32_t *p);

/* The age group (Sira__V1__StatsAge) of a (NULL: unknown). */
int stats_age_group(const Sira__V1__Age *a);
/* The region (Sira__V1__StatsRegion) named in place, or unknown. */
int stats_region(const char *place);
/* How far r went (Sira__V1__StatsOutcome), from its legs. */
int stats_outcome(const Sira__V1__CaseRecord *r);

/* Computes the pseudonym of a case reference (crypto/pseudonym.c behind
 * it: this room does not hold the key's code). */
struct stats_pseudo {
	void (*fn)(
	    void *ctx, const char *case_ref, uint8_t out[STATS_PERSON_LEN]);
	void *ctx;
};

/*
 * The StatsCase of r into a fresh *out (caller frees with
 * sira__v1__stats_case__free_unpacked), or *out NULL when r holds no
 * referral (a case that is only notes). Returns 0 or -SIRA_ENOMEM.
 */
int stats_case_from(const Sira__V1__CaseRecord *r,
    const struct stats_pseudo *ps, Sira__V1__StatsCase **out);

/* What stats_build makes. */
struct stats_ask {
	const char *agency_id;
	uint32_t period;
	uint64_t now;
	const uint8_t *key_id; /* STATS_KEY_ID_LEN bytes */
	struct stats_pseudo ps;
};

/*
 * The report of q->period: every case of t whose identification month
 * (the case's opening when the referral has no date) is that period, into
 * a fresh *out (sira__v1__stats_report__free_unpacked). Reads every case
 * once. Returns 0, -SIRA_ETOOBIG (over STATS_CASES_MAX), -SIRA_ENOMEM or
 * a vault code.
 */
int stats_build(struct vault_txn *t, const struct stats_ask *q,
    Sira__V1__StatsReport **out, struct sira_err *err);

/*
 * Check a report that came from sender: every field in its range, the
 * agency its sender, each case's month the period. Returns 0 or
 * -SIRA_EMALFORMED with what is wrong.
 */
int stats_report_validate(
    const Sira__V1__StatsReport *r, const char *sender, struct sira_err *err);

/* ---- At the committee ---- */

/* One person, merged from every report that names them. */
struct stats_person {
	uint8_t id[STATS_PERSON_LEN];
	uint32_t month;        /* earliest */
	uint32_t types, needs; /* bit n: ExploitationType / Need n */
	uint8_t sex, age, region, outcome;
	char nat[3];
};

struct stats_set {
	struct stats_person *p; /* owned */
	size_t n, cap;
};

/* Add the cases of r whose month is in [from, to]. 0 or -SIRA_ENOMEM. */
int stats_set_add(struct stats_set *s, const Sira__V1__StatsReport *r,
    uint32_t from, uint32_t to);
/* Merge the entries of one pseudonym into one person (what is known
 * wins over unknown, the furthest outcome, the union of types and
 * needs, the earliest month). */
void stats_set_merge(struct stats_set *s);
void stats_set_free(struct stats_set *s);

enum stats_dim {
	STATS_BY_MONTH,
	STATS_BY_TYPE,
	STATS_BY_SEX,
	STATS_BY_AGE,
	STATS_BY_NATIONALITY,
	STATS_BY_REGION,
	STATS_BY_NEED,
	STATS_BY_OUTCOME,
};
/* "month", "type"... Returns 0 or -SIRA_EINVAL. */
int stats_dim_parse(const char *s, enum stats_dim *d);
const char *stats_dim_name(enum stats_dim d);

/* The columns of a table: persons, of them referred, of them assisted. */
#define STATS_COLS 3
struct stats_row {
	uint32_t key; /* YYYYMM, an enum value, or a nationality as c0 << 8 |
			 c1 (0: not known) */
	uint64_t n[STATS_COLS];
	bool hidden[STATS_COLS];
};

struct stats_table {
	enum stats_dim dim;
	struct stats_row *rows; /* owned, in key order */
	size_t n;
	struct stats_row total;
};

/* Count s (merged) by d into *t. Returns 0 or -SIRA_ENOMEM. */
int stats_tabulate(
    const struct stats_set *s, enum stats_dim d, struct stats_table *t);
/* Persons by month (rows) and exploitation type (columns 0..10, 0: none
 * given), for the chart; a person counts once in each of their types. */
struct stats_cross {
	uint32_t *months;                  /* owned, ascending */
	uint64_t (*cell)[STATS_TYPES + 1]; /* owned, one row per month */
	bool (*hidden)[STATS_TYPES + 1];   /* owned */
	size_t n;
};
int stats_cross(
    const struct stats_set *s, uint64_t threshold, struct stats_cross *c);
void stats_cross_free(struct stats_cross *c);
/*
 * Hide every cell (and total) of t above 0 and under threshold; in a
 * column where that hid one cell only, hide also the smallest other cell
 * above 0, so that it cannot be worked out from the total.
 */
void stats_suppress(struct stats_table *t, uint64_t threshold);
void stats_table_free(struct stats_table *t);

/*
 * stats_book.c: the statistics' rows in the vault. At an agency, the
 * pseudonym key the committee handed over (VT_META "stats.key", a packed
 * StatsKey). At the committee, the newest report of each agency for each
 * period (VT_REPORTS).
 */
/* Check and store a packed StatsKey (audit "stats.key"). Returns 0,
 * -SIRA_EMALFORMED or a vault code. */
int stats_key_put(struct vault_txn *t, const uint8_t *untrusted, size_t len,
    uint64_t now, struct sira_err *err);
/* The installed key into *out (wire_free_secret). -SIRA_ENOTFOUND if
 * none. */
int stats_key_get(
    struct vault_txn *t, Sira__V1__StatsKey **out, struct sira_err *err);
/* Validate a packed StatsKey into *out (wire_free_secret). */
int stats_key_parse(const uint8_t *untrusted, size_t len,
    Sira__V1__StatsKey **out, struct sira_err *err);

/*
 * Take a stats report payload (a packed Payload) that sender's signed
 * envelope carried: validated, then kept as the report of (sender,
 * period) unless a newer one (made_at) is kept already. *kept says
 * whether it was. Returns 0, -SIRA_EMALFORMED (not kept; the message
 * stays in the inbox) or a vault code.
 */
int stats_take(struct vault_txn *t, const char *sender, const uint8_t *payload,
    size_t len, bool *kept, struct sira_err *err);

/* Call fn for each kept report (a damaged row is skipped); fn returns 0
 * to go on. */
int stats_reports_each(struct vault_txn *t,
    int (*fn)(void *ctx, const Sira__V1__StatsReport *r), void *ctx,
    struct sira_err *err);

/*
 * erase.c: erasing a case from this agency (docs/SECURITY.md,
 * "Effacement"). erase_case scrubs, in one transaction, the case record,
 * every outbox and inbox entry about the case, their index rows and the
 * case key (which becomes a tombstone), records "case.erased" in the
 * audit chain naming the case by a tag only, and marks the vault for
 * compaction; then it wipes the case's files (erase_files). A case under
 * a legal hold is refused (-SIRA_EDENIED, naming the justice agency and
 * its basis). A case erased before is not an error: res->already.
 */
#define ERASE_PEERS_MAX (CASES_LEGS_MAX + CASES_REQUESTS_MAX + 1)
struct erase_req {
	const char *ref;
	const char *reason; /* why, as the operator wrote it (audit) */
	const char *me;     /* this agency's id */
	const char *by;     /* who ordered it: an agency id, or NULL (us) */
	const char *person; /* web login, or NULL */
	uint64_t now;
};
struct erase_result {
	size_t outbox, inbox, files;
	bool already;
	uint64_t erased_at;
	/* The agencies this agency sent the case to (legs it started, a
	 * transfer, granted files): they get the erasure order. */
	char peers[ERASE_PEERS_MAX][SIRA_AGENCY_ID_MAX + 1];
	size_t n_peers;
	bool has_record; /* a case record was found (not only messages) */
};
/* What erase_cases_in did with its cases. */
struct erase_batch {
	size_t erased, held, busy; /* busy: a message still in flight */
	size_t outbox, inbox;      /* rows scrubbed */
};
int erase_case(struct agent *a, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err);
/* The transaction part of erase_case, in the caller's t (no files). */
int erase_case_in(struct vault_txn *t, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err);
/*
 * Erase here every case of refs[0..n) (distinct references; q->ref is
 * ignored) in t, with ONE scan of the outbox and inbox for all of them:
 * the retention rules' batch (workflow/retention.c). No order is sent: a
 * retention period is each agency's own rule. A case under a legal hold,
 * erased before, or with a sent message still waiting for its receipts
 * is left as it is and counted in b. The caller commits, then calls
 * erase_files and compacts.
 */
int erase_cases_in(struct vault_txn *t, const struct erase_req *q,
    const char *const *refs, size_t n, struct erase_batch *b,
    struct sira_err *err);
/* Scrub the inbox entry msgid (a message about a case erased here, or
 * the erasure order itself) and list its documents for wiping. */
int erase_late(
    struct vault_txn *t, const uint8_t msgid[16], struct sira_err *err);
/* Wipe the files listed by erasures (after their commit; again after a
 * power cut). *wiped (optional) grows by the files removed. */
void erase_files(struct agent *a, size_t *wiped);
/* -SIRA_EDENIED with the hold's agency and basis when r is held. */
int erase_hold_check(
    const Sira__V1__CaseRecord *r, const char *ref, struct sira_err *err);
/* Add to res the agencies r was sent to by me. */
int erase_note_legs(
    const Sira__V1__CaseRecord *r, const char *me, struct erase_result *res);
/* Add agency id to res (not me, not twice). */
void erase_add_peer(struct erase_result *res, const char *id, const char *me);

/*
 * retention.c: the retention rules of agent.conf applied to the cases
 * (store/conf_retention.c says how the kind is chosen). A case is due
 * when its kind has a rule and that many days passed since its last
 * activity, and it is not open; a held case is counted, never listed.
 */
#define RETENTION_BATCH 256 /* cases erased per transaction */
struct retain_item {
	char ref[SIRA_CASE_REF_BUF];
	enum retain_kind kind;
	uint64_t last;   /* last activity: the record's last change */
	uint64_t due_at; /* when its period ends; 0: no rule */
	bool open;       /* a step still open: never due */
	bool held;       /* under a legal hold: never erased */
	bool unreadable; /* its referral does not parse: no rule applies */
};
void retention_of(const Sira__V1__CaseRecord *r, const struct retain_conf *c,
    struct retain_item *it);
struct retain_list {
	struct retain_item *items; /* the due cases */
	size_t n, cap;
	size_t cases, open, held; /* all cases seen; open; due but held */
};
/* Every case due at now into l (retention_list_free). */
int retention_scan(struct vault_txn *t, const struct retain_conf *c,
    uint64_t now, struct retain_list *l, struct sira_err *err);
void retention_list_free(struct retain_list *l);
struct retention_done {
	struct erase_batch b;
	size_t files;
};
/* sum += d, field by field. */
void retention_done_add(
    struct retention_done *sum, const struct retention_done *d);
/* Erase l's cases here with q's reason and time; the caller compacts. */
int retention_erase(struct agent *a, const struct retain_list *l,
    const struct erase_req *q, struct retention_done *done,
    struct sira_err *err);

/*
 * resend.c: an agency restored from a backup asks for what it lost.
 * resend_pending (the daemon's start after a restore) queues one request
 * per agency of the directory; resend_incoming, for a verified request,
 * submits again what we sent the requester above its number. resend_parse
 * checks a request's payload (-SIRA_EMALFORMED).
 */
int resend_pending(
    struct agent *a, uint64_t now, size_t *asked, struct sira_err *err);
int resend_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err);
int resend_parse(const uint8_t *payload, size_t len, uint64_t *after_seq,
    struct sira_err *err);

/*
 * erase_order.c: erasure across agencies (docs/PROTOCOL.md,
 * "Effacement"). erase_and_order erases here and, in the same
 * transaction, orders every agency the case was sent to; erase_incoming
 * (called by workflow_incoming for kinds ERASURE and ERASURE_RECEIPT)
 * obeys or refuses an order and answers with a signed receipt, or stores
 * a verified receipt in the erased case's ledger.
 */
int erase_and_order(struct agent *a, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err);
int erase_incoming(struct agent *a, struct vault_txn *t,
    const struct wf_incoming *in, struct sira_err *err);
/* The validator of both kinds (the fuzzed parser): a fresh *out whose body
 * fits kind and whose fields are in bounds, or -SIRA_EMALFORMED. */
int erase_msg_parse(int kind, const uint8_t *payload, size_t len,
    Sira__V1__Payload **out, struct sira_err *err);
/* The signed part of a receipt, parsed and checked (not the signature). */
int erase_receipt_open(const Sira__V1__ErasureReceipt *r,
    Sira__V1__ErasureReceiptTBS **out, struct sira_err *err);
/* fn for every order an erased case's ledger holds. -SIRA_ENOTFOUND when
 * ref is not erased here. */
int erase_ledger_each(struct vault_txn *t, const char *ref,
    void (*fn)(void *ctx, const Sira__V1__ErasureProof *p), void *ctx,
    struct sira_err *err);

/* Over every case erased here: the orders its erasure sent, those still
 * unanswered, and those refused (a hold, no such case, no part in it). */
struct erase_tally {
	size_t erased, orders, awaited, refused, damaged;
};
int erase_tally(
    struct vault_txn *t, struct erase_tally *y, struct sira_err *err);
/* hold.c: legal holds. */
struct hold_step {
	bool set;          /* set, or release */
	const char *by;    /* the justice agency */
	const char *basis; /* its legal basis (set) */
	uint64_t at;
	const uint8_t *msgid; /* the message that carried it, or NULL */
};
int erase_hold_apply(
    Sira__V1__CaseRecord *r, const struct hold_step *s, struct sira_err *err);
/* Every agency r names (legs, transfer, requests), but me. */
void erase_hold_peers(
    const Sira__V1__CaseRecord *r, const char *me, struct erase_result *res);
int erase_hold_answered(struct vault_txn *t, const char *ref,
    const Sira__V1__ErasureReceiptTBS *b, const uint8_t *msgid,
    struct sira_err *err);
/* `sira-agent hold`: set (or release) the hold here and send it. */
struct hold_req {
	const char *ref, *basis;
	bool release;
	uint64_t now;
};
int erase_hold_send(struct agent *a, const struct hold_req *h, size_t *sent,
    struct sira_err *err);

#endif
