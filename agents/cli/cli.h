/*
 * cli.h: what sira-agent prints: status and message reports (report.c,
 * progress.c), case views (case_report.c) and bundle verdicts
 * (bundle_report.c), the web interface's accounts (users.c) and
 * enrolment (enrolment.c). main.c holds the command table.
 */
#ifndef SIRA_AGENT_CLI_H
#define SIRA_AGENT_CLI_H

#include <jansson.h>
#include <signal.h>

#include "bundle/bundle.h"
#include "store/store.h"

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

/* erase.c: `erase --case REF --reason TEXT`. */
int erase_cli_run(
    struct agent *a, const char *ref, const char *reason, struct sira_err *err);
/* `hold --case REF --basis TEXT` and `hold --case REF --release`. */
int hold_cli_run(struct agent *a, const char *ref, const char *basis,
    bool release, struct sira_err *err);

#endif
