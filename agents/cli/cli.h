/*
 * cli.h: what sira-agent prints: status and message reports (report.c,
 * progress.c), case views (case_report.c) and bundle verdicts
 * (bundle_report.c), the web interface's accounts (users.c),
 * enrolment (enrolment.c) and jansson's wiping free (json_wipe.c).
 * main.c holds the command table.
 */
#ifndef SIRA_AGENT_CLI_H
#define SIRA_AGENT_CLI_H

#include <jansson.h>
#include <signal.h>

#include "bundle/bundle.h"
#include "store/store.h"
#include "workflow/workflow.h"

/*
 * json_wipe.c: make jansson wipe every block it frees (main() calls it
 * once, before any JSON is read). json_wipe_block zeroes one malloc
 * block, as far as malloc_usable_size reaches, without freeing it.
 */
void json_wipe_install(void);
void json_wipe_block(void *p);

/*
 * report.c: what sira-agent shows people and scripts: inbox, outbox, one
 * message, status, the directory, and the audit check. Text for a social
 * worker; --json for scripts. Message contents are shown only by `show`.
 */
int report_inbox(struct agent *a, int json, struct sira_err *err);
int report_outbox(struct agent *a, int json, struct sira_err *err);
int report_show(
    struct agent *a, const char *id, int json, struct sira_err *err);
int report_status(struct agent *a, int json, struct sira_err *err);
int report_directory(struct agent *a, int json, struct sira_err *err);
int report_audit_verify(struct agent *a, struct sira_err *err);
/* Every audit entry in order, as lines or JSON. */
int report_audit_show(struct agent *a, int json, struct sira_err *err);

/*
 * progress.c: wait until the broker holds outbox entry id (or it is
 * refused or expires, which is returned as the error), showing the upload
 * of its documents as a bar on stderr when stderr is a terminal. Returns
 * 0 early when *stop is set (the message stays queued).
 */
int progress_wait(struct agent *a, const uint8_t id[16],
    volatile sig_atomic_t *stop, struct sira_err *err);

/*
 * case_report.c: the views of cases (sira-agent cases, case REF) and the
 * readable form of workflow payloads for sira-agent show.
 */
/* Every case this agency holds or took part in, one line each. */
int report_cases(struct agent *a, int json, struct sira_err *err);

/* One case: status, referral, referrals, file requests, timeline with the
 * delivery of each message this agency sent. -SIRA_ENOTFOUND if unknown. */
int report_case(
    struct agent *a, const char *ref, int json, struct sira_err *err);

/* The JSON form of a workflow payload of that kind, or NULL (a note, or
 * not a payload). Caller json_decref's it. */
json_t *report_payload_json(int kind, const uint8_t *p, size_t len);

/*
 * overdue_report.c: what is late (sira-agent overdue; docs/WORKFLOWS.md,
 * "Deadlines"), and the marks of status, cases and inbox.
 */
struct overdue_scan {
	struct deadline_conf conf;
	struct due_roles roles;
	struct due_scan scan;
};
/* A scan in t at now with agent.conf's deadlines (close it even when
 * this fails: the defaults are used and the error says why). */
int overdue_scan_open(struct overdue_scan *s, struct agent *a,
    struct vault_txn *t, uint64_t now, struct sira_err *err);
void overdue_scan_close(struct overdue_scan *s);
/* How late the latest overdue step of r is, in seconds; 0 when none. */
uint64_t overdue_case_late(
    struct overdue_scan *s, const Sira__V1__CaseRecord *r);
/* {"waiting": [...], "reminders": [...], "committee": [...], "refused": n}
 * into a fresh *out (json_decref). */
int overdue_collect(
    struct agent *a, uint64_t now, json_t **out, struct sira_err *err);
int report_overdue(struct agent *a, int json, struct sira_err *err);

/*
 * users.c: sira-agent user add|passwd|disable|enable|list, the accounts
 * of the agency's web interface (store/users.c). A password comes from
 * --password-file (0600 or narrower), the terminal (asked twice, echo
 * off) or one line of standard input; never from the command line.
 */
struct user_args {
	const char *verb;          /* add, passwd, disable, enable or list */
	const char *login;         /* the account (NULL for list) */
	const char *name, *role;   /* add --name, --role */
	const char *password_file; /* --password-file, or NULL */
	int json;                  /* list --json */
};

/* Check u before the agency is opened: -SIRA_EINVAL with a message to
 * show as a usage error, or 0. */
int users_cli_check(const struct user_args *u, struct sira_err *err);

/* Run u on a, printing what was done. Returns 0, -SIRA_EEXIST,
 * -SIRA_ENOTFOUND, -SIRA_EINVAL (the password) or a store code. */
int users_cli_run(
    struct agent *a, const struct user_args *u, struct sira_err *err);

/*
 * word.c: a word the JSON output uses for a state or a direction
 * ("delivered", "revoked", "received", "true"...) in the reader's language
 * (i18n.h); any other w, or NULL, is returned as is. The result is static.
 */
const char *word_text(const char *w);

/*
 * bundle_report.c: showing a verified chain of custody (bundle.h),
 * as text a court clerk can read (French, UTF-8) or as JSON for machines.
 * Only facts bundle_verify() checked are shown; the informative fields of
 * the bundle (who exported it, when) are marked as unsigned.
 */
/* Print c to stdout. Returns 0 or -SIRA_ENOMEM. */
int bundle_report(const struct custody *c, int json, struct sira_err *err);

/*
 * enrolment.c: sira-agent keygen, renew-request and install-cert
 * (docs/PKI.md): the agency's keys made on its own machine, the signed
 * request the committee certifies, and installing what comes back.
 */
struct keygen_args {
	const char *id, *name, *role; /* what the agency asks for */
	const char *ca;               /* the CA's certificate */
	const char *out;              /* directory for ID.key and ID.req */
	const char *pass_file;        /* the new key's passphrase, or NULL */
	int no_pass;                  /* --no-passphrase: key in clear */
};

/* Check k before anything is made: 0 or -SIRA_EINVAL with a message to
 * show as a usage error; *role receives the role asked for. */
int enrolment_check_keygen(
    const struct keygen_args *k, enum sira_role *role, struct sira_err *err);

/* Make the keys (OUT/ID.key, 0600) and the request (OUT/ID.req), print
 * the fingerprint. Returns 0 or a negative SIRA_E* code; on failure no
 * key file is left without its request. */
int enrolment_keygen(const struct keygen_args *k, struct sira_err *err);

/* A renewal request for a's certificate with a's keys, written to out. */
int enrolment_renew(struct agent *a, const char *out, struct sira_err *err);

/* Install the certificate file at path (agent_install_cert). */
int enrolment_install(struct agent *a, const char *path, struct sira_err *err);

/*
 * stats_report.c: sira-agent stats (docs/STATS.md): the committee's
 * national figures (a table, --csv, --svg with stats_svg.c), stats send
 * and stats key.
 */
#include "workflow/workflow.h"

struct stats_args {
	const char *from, *to; /* YYYY-MM, or NULL: every month */
	const char *by;        /* a dimension, or NULL: month */
	const char *csv, *svg; /* files to write, or NULL */
	uint64_t threshold;    /* cells under it are hidden */
};
int stats_cli_show(
    struct agent *a, const struct stats_args *s, struct sira_err *err);
/* Queue the report of period (YYYY-MM; NULL: last month). */
int stats_cli_send(struct agent *a, const char *period, struct sira_err *err);
/* out: make a new key file there (the committee); else install file. */
int stats_cli_key(
    struct agent *a, const char *out, const char *file, struct sira_err *err);
/* The name of key in dimension d, in the reader's language (static, or
 * written to buf). */
const char *stats_label(enum stats_dim d, uint32_t key, char *buf, size_t len);

/* stats_svg.c: write the month-by-type chart c to path. */
int stats_svg_write(const char *path, const struct stats_cross *c,
    uint64_t threshold, struct sira_err *err);

/*
 * backup.c: sira-agent backup and restore (docs/OPERATIONS.md,
 * "Sauvegarde et restauration"). The archive's passphrase comes from
 * pass_file (0600 or narrower) or the terminal (asked twice for a
 * backup). Failures are explained in the operator's language and, for a
 * restore, leave nothing written.
 */
struct backup_args {
	const char *home;      /* --home, or NULL: SIRA_HOME */
	const char *file;      /* the archive: --out, or restore's FILE */
	const char *pass_file; /* --passphrase-file, or NULL: ask */
	bool force;            /* restore --force */
};
int backup_cli_backup(const struct backup_args *b, struct sira_err *err);
int backup_cli_restore(const struct backup_args *b, struct sira_err *err);

/* erase.c: `erase --case REF --reason TEXT`. */
int erase_cli_run(
    struct agent *a, const char *ref, const char *reason, struct sira_err *err);
/* `hold --case REF --basis TEXT` and `hold --case REF --release`. */
/* status: "retention_due" (cases past their period, 0 without rules) and
 * "retention_error" (a retain_days line refused) into o; the text line. */
void retention_status(struct agent *a, uint64_t now, json_t *o);
void retention_status_line(const json_t *o);
/* status: "erasures" {cases, orders, unanswered, refused}; its lines. */
void erase_status(struct agent *a, json_t *o);
void erase_status_line(const json_t *o);
/* Compact the vault after an erasure, or ring the daemon to (say: tell
 * the user which). */
void erase_cli_compact(struct agent *a, bool say);
/* `sira-agent erase --due`: list (dry_run) or erase here the cases past
 * their retention period (retention_cli.c). */
int retention_cli_run(
    struct agent *a, bool dry_run, bool json, struct sira_err *err);
int hold_cli_run(struct agent *a, const char *ref, const char *basis,
    bool release, struct sira_err *err);

#endif
