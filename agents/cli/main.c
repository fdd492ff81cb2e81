/*
 * main.c: sira-agent, the agency's tool and daemon. Subcommands: keygen,
 * init, run, send, inbox, show, outbox, status, directory, audit verify,
 * export, verify-bundle, renew-request, install-cert, the referral workflows
 * (refer ... grant, cases, case; agents/workflow/workflow.c) and the web
 * interface's accounts (user add
 * ... list; agents/cli/users.c). The only file that exits or prints; errors are
 * one line, "sira-agent: <reason>", exit 1 (2 for usage). Commands that queue
 * write one transaction and return at once, whether the daemon or the
 * broker runs or not.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "cli/cli.h"
#include "bundle/bundle.h"
#include "clock.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "envelope.h"
#include "fileio.h"
#include "i18n.h"
#include "log.h"
#include "usage.h"
#include "crypto/crypto.h"
#include "web/web.h"
#include "workflow/workflow.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct opts {
	const char *home, *cert, *key, *ca, *broker, *broker_cert, *pass_file;
	const char *to, *kind, *file, *case_ref, *out;
	const char *reason, *suggest, *note, *status, *basis, *purpose, *from;
	const char *name, *role, *password_file;        /* user add, passwd */
	const char *id;                                 /* keygen */
	int no_pass;                                    /* keygen */
	const char *listen, *tls_cert, *tls_key, *host; /* web */
	uint64_t port, idle;                            /* web */
	uint64_t ttl, rotate, retain;
	int json, verbose, release;
	const char *attach[SIRA_ATTACHMENTS_MAX]; /* send --attach, repeated */
	size_t n_attach;
	uint64_t attach_max;                 /* init --attach-max */
	int wait;                            /* send --wait */
	const char *period, *by, *csv, *svg; /* stats */
	uint64_t threshold;                  /* stats --threshold */
	int force;                           /* restore --force */
	int due, dry_run;                    /* erase --due [--dry-run] */
};

static const struct option longopts[] = {
	{ "home", required_argument, NULL, 'h' },
	{ "cert", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "ca", required_argument, NULL, 'a' },
	{ "broker", required_argument, NULL, 'b' },
	{ "broker-cert", required_argument, NULL, 'B' },
	{ "passphrase-file", required_argument, NULL, 'p' },
	{ "to", required_argument, NULL, 't' },
	{ "kind", required_argument, NULL, 'K' },
	{ "file", required_argument, NULL, 'f' },
	{ "case", required_argument, NULL, 'C' },
	{ "out", required_argument, NULL, 'o' },
	{ "ttl", required_argument, NULL, 'T' },
	{ "prekey-rotate", required_argument, NULL, 'r' },
	{ "prekey-retain", required_argument, NULL, 'R' },
	{ "reason", required_argument, NULL, 'y' },
	{ "suggest", required_argument, NULL, 'g' },
	{ "note", required_argument, NULL, 'n' },
	{ "status", required_argument, NULL, 's' },
	{ "basis", required_argument, NULL, 'L' },
	{ "purpose", required_argument, NULL, 'P' },
	{ "from", required_argument, NULL, 'F' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "attach", required_argument, NULL, 'A' },
	{ "attach-max", required_argument, NULL, 'M' },
	{ "wait", no_argument, NULL, 'w' },
	{ "name", required_argument, NULL, 'N' },
	{ "role", required_argument, NULL, 'E' },
	{ "password-file", required_argument, NULL, 'W' },
	{ "listen", required_argument, NULL, 'l' },
	{ "port", required_argument, NULL, 'D' },
	{ "tls-cert", required_argument, NULL, 'X' },
	{ "tls-key", required_argument, NULL, 'Y' },
	{ "host", required_argument, NULL, 'H' },
	{ "idle", required_argument, NULL, 'I' },
	{ "id", required_argument, NULL, 'i' },
	{ "no-passphrase", no_argument, NULL, 'Z' },
	{ "period", required_argument, NULL, 'Q' },
	{ "by", required_argument, NULL, 'G' },
	{ "csv", required_argument, NULL, 'V' },
	{ "svg", required_argument, NULL, 'S' },
	{ "threshold", required_argument, NULL, 'U' },
	{ "force", no_argument, NULL, 'x' },
	{ "release", no_argument, NULL, 'e' },
	{ "due", no_argument, NULL, 'u' },
	{ "dry-run", no_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static int
usage_error(const char *msg)
{
	(void)fprintf(
	    stderr, _("sira-agent: %s (see sira-agent --help)\n"), _(msg));
	return 2;
}

static int
fail(const struct sira_err *err)
{
	(void)fprintf(stderr, "sira-agent: %s\n",
	    err->msg[0] ? err->msg : sira_strerror(err->code));
	return 1;
}

static int
number(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* Options that only keep their text: option letter -> field. */
static const struct {
	int c;
	size_t off;
} text_opts[] = {
	{ 'h', offsetof(struct opts, home) },
	{ 'c', offsetof(struct opts, cert) },
	{ 'k', offsetof(struct opts, key) },
	{ 'a', offsetof(struct opts, ca) },
	{ 'b', offsetof(struct opts, broker) },
	{ 'B', offsetof(struct opts, broker_cert) },
	{ 'p', offsetof(struct opts, pass_file) },
	{ 't', offsetof(struct opts, to) },
	{ 'K', offsetof(struct opts, kind) },
	{ 'f', offsetof(struct opts, file) },
	{ 'C', offsetof(struct opts, case_ref) },
	{ 'y', offsetof(struct opts, reason) },
	{ 'g', offsetof(struct opts, suggest) },
	{ 'n', offsetof(struct opts, note) },
	{ 's', offsetof(struct opts, status) },
	{ 'L', offsetof(struct opts, basis) },
	{ 'P', offsetof(struct opts, purpose) },
	{ 'F', offsetof(struct opts, from) },
	{ 'o', offsetof(struct opts, out) },
	{ 'N', offsetof(struct opts, name) },
	{ 'E', offsetof(struct opts, role) },
	{ 'W', offsetof(struct opts, password_file) },
	{ 'l', offsetof(struct opts, listen) },
	{ 'X', offsetof(struct opts, tls_cert) },
	{ 'Y', offsetof(struct opts, tls_key) },
	{ 'H', offsetof(struct opts, host) },
	{ 'i', offsetof(struct opts, id) },
	{ 'Q', offsetof(struct opts, period) },
	{ 'G', offsetof(struct opts, by) },
	{ 'V', offsetof(struct opts, csv) },
	{ 'S', offsetof(struct opts, svg) },
};

static bool
set_text(struct opts *o, int c)
{
	for (size_t i = 0; i < sizeof(text_opts) / sizeof(text_opts[0]); i++)
		if (text_opts[i].c == c) {
			*(const char **)(void *)((char *)o + text_opts[i].off) =
			    optarg;
			return true;
		}
	return false;
}

/* The options about documents: --attach, --attach-max, --wait. */
static int
parse_docs(int c, struct opts *o)
{
	switch (c) {
	case 'A':
		if (o->n_attach == SIRA_ATTACHMENTS_MAX)
			return usage_error("too many --attach");
		o->attach[o->n_attach++] = optarg;
		return 0;
	case 'M':
		if (number(optarg, &o->attach_max) || o->attach_max == 0 ||
		    o->attach_max > AGENT_ATTACH_MAX_CAP)
			return usage_error(
			    "--attach-max must be 1 to 1048576000 bytes");
		return 0;
	case 'w':
		o->wait = 1;
		return 0;
	case 'U':
		if (number(optarg, &o->threshold) || o->threshold == 0 ||
		    o->threshold > STATS_THRESHOLD_MAX)
			return usage_error("--threshold must be 1 to 1000");
		return 0;
	case 'D':
		if (number(optarg, &o->port) || o->port > 65535)
			return usage_error("--port must be 0 to 65535");
		return 0;
	case 'I':
		if (number(optarg, &o->idle) || o->idle < 60 || o->idle > 86400)
			return usage_error(
			    "--idle must be 60 to 86400 seconds");
		return 0;
	default:
		return usage_error("unknown or incomplete option");
	}
}

static int
parse(int argc, char **argv, struct opts *o)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->ttl = SIRA_TTL_MAX;
	o->rotate = SIRA_PREKEY_ROTATE_DEFAULT;
	o->retain = SIRA_PREKEY_RETAIN_DEFAULT;
	o->port = WEB_PORT_DEFAULT;
	o->threshold = STATS_THRESHOLD_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (set_text(o, c))
			continue;
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'Z':
			o->no_pass = 1;
			break;
		case 'x':
			o->force = 1;
			break;
		case 'e':
			o->release = 1;
			break;
		case 'u':
			o->due = 1;
			break;
		case 'd':
			o->dry_run = 1;
			break;
		case 'T':
			if (number(optarg, &o->ttl) || o->ttl < SIRA_TTL_MIN ||
			    o->ttl > SIRA_TTL_MAX)
				return usage_error(
				    "--ttl must be 120 to 2592000 seconds");
			break;
		case 'r':
		case 'R':
			if (number(
				optarg, c == 'r' ? &o->rotate : &o->retain) ||
			    (c == 'r' ? o->rotate : o->retain) == 0)
				return usage_error(
				    "prekey periods are positive numbers of seconds");
			break;
		default:
			if ((rc = parse_docs(c, o)) != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * The command table. Every command is one row: what runs it, its usage
 * and one line of help, generated into `sira-agent --help` and answered by
 * `sira-agent COMMAND --help`. A view (inbox, case...) opens the agency's
 * store, shows something and closes it; other commands run themselves.
 */
struct command;
typedef int command_fn(const struct command *c, const struct opts *o,
    const char *arg, struct sira_err *err);
typedef int view_fn(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err);

struct command {
	const char *name;    /* "audit verify": two words after sira-agent */
	command_fn *run;     /* or NULL for a view */
	view_fn *view;       /* the view cmd_view shows */
	const char *usage;   /* the options, after the name */
	const char *help;    /* what it does, one line */
	const char *needs;   /* the argument it must have, or NULL */
	bool needs_home;     /* reads or writes an agency home */
	const char *section; /* a heading printed before it, or NULL */
};

static int
cmd_init(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct home h;

	(void)c;
	(void)arg;
	if (o->cert == NULL || o->key == NULL || o->ca == NULL ||
	    o->broker == NULL || o->broker_cert == NULL)
		return usage_error(
		    "init needs --cert, --key, --ca, --broker and --broker-cert");
	if (home_resolve(o->home, &h, err) != 0)
		return fail(err);
	if (o->attach_max != 0)
		h.attach_max = o->attach_max;
	if (home_init(&h,
		&(struct home_files){ o->cert, o->key, o->ca, o->broker,
		    o->broker_cert, o->pass_file },
		err) != 0)
		return fail(err);
	(void)printf(
	    _("agency home ready in %s; start the daemon with: sira-agent run --home %s\n"),
	    h.dir, h.dir);
	return 0;
}

static int
open_agent(const struct opts *o, struct agent *a, struct sira_err *err)
{
	memset(a, 0, sizeof(*a));
	if (home_resolve(o->home, &a->home, err) != 0 ||
	    agent_open(a, o->pass_file, clock_now(), err) != 0) {
		agent_close(a);
		return -1;
	}
	return 0;
}

/* A long-running command (run, web) ends cleanly on SIGTERM or SIGINT. */
static void
catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
}

static int
cmd_run(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct agent a;
	size_t resumed;
	int rc;

	(void)c;
	(void)arg;
	if (o->verbose)
		log_set_level(LOG_DEBUG);
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	if (home_resume(&a, clock_now(), &resumed, err) != 0) {
		agent_close(&a);
		return fail(err);
	}
	if (resumed > 0)
		log_event(LOG_INFO, "restore.resumed",
		    "resubmitted=%zu (accepted before the backup, receipts missing)",
		    resumed);
	if (resend_pending(&a, clock_now(), &resumed, err) != 0) {
		agent_close(&a);
		return fail(err);
	}
	if (resumed > 0)
		log_event(LOG_INFO, "restore.resend_asked",
		    "agencies=%zu (asked for what reached the lost copy)",
		    resumed);
	catch_stop();
	rc = daemon_run(&a, o->rotate, o->retain, &stop_flag, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_web(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct web_opts w = { o->listen, (uint16_t)o->port, o->tls_cert,
		o->tls_key, o->host, o->idle };
	struct agent a;
	int rc;

	(void)c;
	(void)arg;
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	catch_stop();
	rc = web_serve(&a, &w, &stop_flag, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

/* Split a comma-separated list in place into ids[] (at most max). */
static size_t
split_ids(char *list, const char **ids, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, ",", &save))
		ids[n++] = tok;
	return n;
}

static int
cmd_send(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	const char *to[SIRA_RECIPIENTS_MAX];
	char list[2048], hex[33];
	struct vault_txn *t = NULL;
	struct agent a;
	uint8_t *buf, id[16];
	size_t len, n;
	int kind, rc;

	(void)c;
	(void)arg;
	if (o->to == NULL || o->kind == NULL || o->file == NULL)
		return usage_error("send needs --to, --kind and --file");
	if (envelope_kind_parse(o->kind, &kind) != 0 ||
	    kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT)
		return usage_error("unknown kind");
	if (kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_STATS_REPORT)
		return usage_error("a statistical report is sent with "
				   "sira-agent stats send");
	/* A case step goes through its workflow command, which checks it
	 * is legal; send only adds notes to a case. */
	if (o->case_ref != NULL && !workflow_ref_valid(o->case_ref))
		return usage_error(
		    "a case reference is 1 to 64 of A-Z a-z 0-9 - _ /");
	if (o->case_ref != NULL &&
	    kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE)
		return usage_error(
		    "send --case carries notes only (--kind note); use refer, "
		    "accept, transfer... for case steps");
	(void)snprintf(list, sizeof(list), "%s", o->to);
	if ((n = split_ids(list, to, SIRA_RECIPIENTS_MAX)) == 0)
		return usage_error("--to names no agency");
	for (size_t i = 0; i < n; i++)
		if (!cert_agency_id_valid(to[i]))
			return usage_error("invalid agency id in --to");
	if (fileio_read(o->file, AGENT_PAYLOAD_MAX, &buf, &len, err) != 0)
		return fail(err);
	if (open_agent(o, &a, err) != 0) {
		free(buf);
		return fail(err);
	}
	if ((rc = vault_begin(a.vault, true, &t, err)) == 0 &&
	    (rc = book_queue(t,
		 &(struct outgoing){ to, n, kind, "sira.note.v1",
		     o->case_ref ? o->case_ref : "", bytes_of(buf, len),
		     (uint32_t)o->ttl, NULL },
		 clock_now(), id, err)) == 0 &&
	    (rc = outbox_attach(&a, t, id, o->attach, o->n_attach, err)) == 0 &&
	    (o->case_ref == NULL ||
		(rc = workflow_note(&a, t,
		     &(struct wf_args){
			 .ref = o->case_ref, .to = o->to, .now = clock_now() },
		     id, err)) == 0))
		rc = vault_commit(&t, err);
	vault_abort(&t);
	sodium_memzero(buf, len);
	free(buf);
	if (rc == 0)
		nudge_daemon(&a.home);
	(void)sodium_bin2hex(hex, sizeof(hex), id, 16);
	if (rc == 0 && o->wait) {
		(void)printf("%s\n", hex);
		(void)fflush(stdout);
		(void)signal(SIGINT, on_signal);
		rc = progress_wait(&a, id, &stop_flag, err);
	} else if (rc == 0)
		(void)printf("%s\n", hex);
	agent_close(&a);
	return rc != 0 ? fail(err) : 0;
}

static int
view_inbox(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_inbox(a, o->json, err);
}

static int
view_outbox(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_outbox(a, o->json, err);
}

static int
view_show(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	return report_show(a, arg, o->json, err);
}

static int
view_status(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_status(a, o->json, err);
}

static int
view_directory(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_directory(a, o->json, err);
}

static int
view_cases(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_cases(a, o->json, err);
}

static int
view_overdue(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_overdue(a, o->json, err);
}

static int
view_case(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	return report_case(a, arg, o->json, err);
}

static int
view_audit_show(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	return report_audit_show(a, o->json, err);
}

static int
view_audit_verify(struct agent *a, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)arg;
	(void)o;
	return report_audit_verify(a, err);
}

static int
wf_dispatch(struct agent *a, const char *cmd, const struct wf_args *w,
    struct wf_result *res, struct sira_err *err)
{
	if (strcmp(cmd, "refer") == 0)
		return workflow_refer(a, w, res, err);
	if (strcmp(cmd, "accept") == 0 || strcmp(cmd, "decline") == 0)
		return workflow_answer(a, w, cmd[0] == 'a', res, err);
	if (strcmp(cmd, "feedback") == 0)
		return workflow_feedback(a, w, res, err);
	if (strcmp(cmd, "revoke") == 0)
		return workflow_revoke(a, w, res, err);
	if (strcmp(cmd, "transfer") == 0)
		return workflow_transfer(a, w, res, err);
	if (strcmp(cmd, "request-file") == 0)
		return workflow_request(a, w, res, err);
	return workflow_decide(a, w, strcmp(cmd, "grant") == 0, res, err);
}

static void
wf_print(const char *cmd, const struct wf_args *w, const struct wf_result *r)
{
	if (strcmp(cmd, "refer") == 0)
		(void)printf("%s\n", r->case_ref);
	else if (strcmp(cmd, "request-file") == 0)
		(void)printf("%s\n", r->request_id);
	else
		(void)printf(_("%s: %s done for case %s\n"), r->message_id, cmd,
		    r->case_ref);
	if (strcmp(cmd, "refer") == 0)
		(void)fprintf(stderr,
		    _("case %s referred to %s; it leaves as soon as the broker is "
		      "reachable (sira-agent case %s follows it)\n"),
		    r->case_ref, w->to, r->case_ref);
	if (r->notice[0] != '\0')
		(void)fprintf(stderr, _("note: %s\n"), r->notice);
}

static int
cmd_workflow(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	const char *cmd = c->name;
	struct wf_args w;
	struct wf_result res;
	struct agent a;
	int rc;

	memset(&w, 0, sizeof(w));
	memset(&res, 0, sizeof(res));
	w.ref =
	    strcmp(cmd, "transfer") == 0 || strcmp(cmd, "request-file") == 0 ?
	    o->case_ref :
	    arg;
	if (strcmp(cmd, "refer") != 0 && w.ref == NULL)
		return usage_error(
		    strcmp(cmd, "grant") == 0 || strcmp(cmd, "refuse") == 0 ?
			"give the request id (sira-agent case REF shows it)" :
			"give the case reference (--case REF for transfer and "
			"request-file)");
	if (strcmp(cmd, "refer") == 0 && (o->to == NULL || o->file == NULL))
		return usage_error("refer needs --to and --file");
	if (w.ref != NULL && strcmp(cmd, "grant") != 0 &&
	    strcmp(cmd, "refuse") != 0 && !workflow_ref_valid(w.ref))
		return usage_error(
		    "a case reference is 1 to 64 of A-Z a-z 0-9 - _ /");
	w.to = o->to;
	w.from = o->from;
	w.file = o->file;
	w.reason = o->reason;
	w.suggest = o->suggest;
	w.note = o->note;
	w.basis = o->basis;
	w.purpose = o->purpose;
	w.status = o->status;
	w.attach = o->attach;
	w.n_attach = o->n_attach;
	w.ttl = (uint32_t)o->ttl;
	w.now = clock_now();
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	if ((rc = wf_dispatch(&a, cmd, &w, &res, err)) == 0) {
		wf_print(cmd, &w, &res);
		(void)fflush(stdout);
		if (o->wait) {
			(void)signal(SIGINT, on_signal);
			rc = progress_wait(&a, res.id, &stop_flag, err);
		}
	}
	agent_close(&a);
	return rc != 0 ? fail(err) : 0;
}

static int
cmd_export(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct bundle_stats st;
	struct agent a;
	int rc;

	(void)c;
	(void)arg;
	if (o->case_ref == NULL || o->out == NULL)
		return usage_error("export needs --case and --out");
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = bundle_export(&a, o->case_ref, o->out, clock_now(), &st, err);
	agent_close(&a);
	if (rc != 0)
		return fail(err);
	(void)printf(_("case %s: %zu sent and %zu received messages in %s\n"),
	    o->case_ref, st.sent, st.received, o->out);
	if (st.no_broker > 0)
		(void)fprintf(stderr,
		    _("sira-agent: WARNING: %zu sent messages have no broker evidence yet\n"),
		    st.no_broker);
	if (st.left_out > 0)
		(void)fprintf(stderr,
		    _("sira-agent: WARNING: %zu messages of the case were left out (not sealed yet, or sealed before evidence was kept)\n"),
		    st.left_out);
	return 0;
}

static int
cmd_erase(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct agent a;
	int rc;

	(void)c;
	(void)arg;
	if (o->due ? o->case_ref != NULL :
		     o->case_ref == NULL || o->reason == NULL || o->dry_run)
		return usage_error("erase needs --case and --reason, or --due "
				   "[--dry-run]");
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = o->due ?
	    retention_cli_run(&a, o->dry_run != 0, o->json != 0, err) :
	    erase_cli_run(&a, o->case_ref, o->reason, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_hold(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct agent a;
	int rc;

	(void)c;
	(void)arg;
	if (o->case_ref == NULL || (o->basis == NULL) == !o->release)
		return usage_error(
		    "hold needs --case and either --basis or --release");
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = hold_cli_run(&a, o->case_ref, o->basis, o->release != 0, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_verify_bundle(const struct command *c, const struct opts *o,
    const char *file, struct sira_err *err)
{
	struct custody *cu = NULL;
	int rc;

	(void)c;
	if (file == NULL || o->ca == NULL)
		return usage_error("verify-bundle needs FILE and --ca");
	if ((rc = bundle_verify_file(file, o->ca, &cu, NULL, err)) == 0)
		rc = bundle_report(cu, o->json, err);
	custody_destroy(&cu);
	return rc == 0 ? 0 : fail(err);
}

/* user add|passwd|disable|enable|list: the verb is the second word. */
static int
cmd_user(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct user_args u = { c->name + strlen("user "), arg, o->name, o->role,
		o->password_file, o->json };
	struct agent a;
	int rc;

	if (users_cli_check(&u, err) != 0)
		return usage_error(err->msg);
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = users_cli_run(&a, &u, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_keygen(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct keygen_args k = { o->id, o->name, o->role, o->ca, o->out,
		o->pass_file, o->no_pass };
	enum sira_role role;

	(void)c;
	(void)arg;
	if (enrolment_check_keygen(&k, &role, err) != 0)
		return usage_error(err->msg);
	return enrolment_keygen(&k, err) == 0 ? 0 : fail(err);
}

static int
cmd_renew_request(const struct command *c, const struct opts *o,
    const char *arg, struct sira_err *err)
{
	struct agent a;
	int rc;

	(void)c;
	(void)arg;
	if (o->out == NULL)
		return usage_error(_("renew-request needs --out FILE"));
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = enrolment_renew(&a, o->out, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_install_cert(const struct command *c, const struct opts *o,
    const char *file, struct sira_err *err)
{
	struct agent a;
	int rc;

	(void)c;
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = enrolment_install(&a, file, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

/* stats, stats send, stats key (cli/stats_report.c). */
static int
cmd_stats(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct stats_args s = { o->from, o->to, o->by, o->csv, o->svg,
		o->threshold };
	struct agent a;
	int rc;

	(void)arg;
	if (strcmp(c->name, "stats key") == 0 &&
	    (o->out == NULL) == (o->file == NULL))
		return usage_error("stats key needs --out F (make) or --file F "
				   "(install)");
	if (open_agent(o, &a, err) != 0)
		return fail(err);
	if (strcmp(c->name, "stats send") == 0)
		rc = stats_cli_send(&a, o->period, err);
	else if (strcmp(c->name, "stats key") == 0)
		rc = stats_cli_key(&a, o->out, o->file, err);
	else
		rc = stats_cli_show(&a, &s, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static int
cmd_backup(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	(void)c;
	(void)arg;
	if (o->out == NULL)
		return usage_error("backup needs --out FILE");
	return backup_cli_backup(&(struct backup_args){ o->home, o->out,
				     o->pass_file, false },
		   err) == 0 ?
	    0 :
	    fail(err);
}

static int
cmd_restore(const struct command *c, const struct opts *o, const char *file,
    struct sira_err *err)
{
	(void)c;
	return backup_cli_restore(&(struct backup_args){ o->home, file,
				      o->pass_file, o->force != 0 },
		   err) == 0 ?
	    0 :
	    fail(err);
}

static int
cmd_view(const struct command *c, const struct opts *o, const char *arg,
    struct sira_err *err)
{
	struct agent a;
	int rc;

	if (open_agent(o, &a, err) != 0)
		return fail(err);
	rc = c->view(&a, o, arg, err);
	agent_close(&a);
	return rc == 0 ? 0 : fail(err);
}

static const struct command commands[] = {
	{ "keygen", cmd_keygen, NULL,
	    "--id ID --name NAME --role ROLE --ca ca.cert --out DIR\n"
	    "[--passphrase-file F | --no-passphrase]",
	    N_("the agency's keys (DIR/ID.key) and its request (DIR/ID.req)"),
	    NULL, false, NULL },
	{ "init", cmd_init, NULL,
	    "--cert ID.cert --key ID.key --ca ca.cert --broker ENDPOINT\n"
	    "--broker-cert broker.cert [--passphrase-file F]\n"
	    "[--attach-max BYTES]",
	    N_("make the agency home (largest document: 64 MiB unless said)"),
	    NULL, true, NULL },
	{ "run", cmd_run, NULL,
	    "[--passphrase-file F] [--prekey-rotate S] [--prekey-retain S]\n"
	    "[--verbose]",
	    N_("the daemon: talks to the broker, sends, receives, receipts"),
	    NULL, true, NULL },
	{ "web", cmd_web, NULL,
	    "[--port 8080] [--listen 127.0.0.1] [--tls-cert F --tls-key F]\n"
	    "[--host NAME] [--idle S] [--passphrase-file F]",
	    N_("the caseworkers' web interface (docs/WEB.md); run beside run"),
	    NULL, true, NULL },
	{ "send", cmd_send, NULL,
	    "--to ID[,ID...] --kind KIND --file F [--case REF] [--ttl S]\n"
	    "[--attach DOC]... [--wait]",
	    N_("queue a message (--wait: follow it, a progress bar on a terminal)"),
	    NULL, true, NULL },
	{ "inbox", NULL, view_inbox, "[--json]", N_("messages received"), NULL,
	    true, NULL },
	{ "show", NULL, view_show, "ID [--json]",
	    N_("one message, received or sent"), N_("a message id"), true,
	    NULL },
	{ "outbox", NULL, view_outbox, "[--json]",
	    N_("messages sent and how far they got"), NULL, true, NULL },
	{ "status", NULL, view_status, "[--json]",
	    N_("connection, queues, certificate expiry"), NULL, true, NULL },
	{ "renew-request", cmd_renew_request, NULL, "--out FILE",
	    N_("a renewal request for the committee (same keys)"), NULL, true,
	    NULL },
	{ "install-cert", cmd_install_cert, NULL, "FILE.cert",
	    N_("install the certificate the committee sent back"),
	    N_("a certificate file"), true, NULL },
	{ "backup", cmd_backup, NULL, "--out FILE [--passphrase-file F]",
	    N_("an encrypted copy of the agency home, taken while it runs"),
	    NULL, true, NULL },
	{ "restore", cmd_restore, NULL, "FILE [--passphrase-file F] [--force]",
	    N_("put a backup back into a new agency home (docs/OPERATIONS.md)"),
	    N_("a backup file"), true, NULL },
	{ "directory", NULL, view_directory, "[--json]",
	    N_("agencies this agent knows"), NULL, true, NULL },
	{ "audit verify", NULL, view_audit_verify, "",
	    N_("check the agency's audit chain"), NULL, true, NULL },
	{ "audit show", NULL, view_audit_show, "[--json]",
	    N_("every audit entry: who, what, when"), NULL, true, NULL },
	{ "export", cmd_export, NULL, "--case REF --out FILE",
	    N_("the evidence bundle of a case"), NULL, true, NULL },
	{ "erase", cmd_erase, NULL,
	    "--case REF --reason TEXT | --due [--dry-run] [--json]",
	    N_("erase a case here and at every agency it was sent to; --due: "
	       "the cases past agent.conf's retention period, here only"),
	    NULL, true, NULL },
	{ "hold", cmd_hold, NULL,
	    "--case REF --basis TEXT | --case REF --release",
	    N_("justice: set (or release) a legal hold that blocks erasure"),
	    NULL, true, NULL },
	{ "verify-bundle", cmd_verify_bundle, NULL,
	    "FILE --ca ca.cert [--json]",
	    N_("check a bundle offline, with the CA certificate alone"), NULL,
	    false, NULL },
	{ "refer", cmd_workflow, NULL,
	    "--to ID --file referral.json [--attach F]... [--wait]",
	    N_("refer a victim's case to a service provider"), NULL, true,
	    N_("Referral workflows (docs/WORKFLOWS.md); each step is queued at "
	       "once:") },
	{ "accept", cmd_workflow, NULL, "REF [--from ID]",
	    N_("take on a referral addressed to you"), NULL, true, NULL },
	{ "decline", cmd_workflow, NULL, "REF --reason TEXT [--suggest ID]",
	    N_("decline a referral, saying why (and whom to try)"), NULL, true,
	    NULL },
	{ "feedback", cmd_workflow, NULL,
	    "REF --status started|completed [--note TEXT]",
	    N_("tell the referrer services started or completed"), NULL, true,
	    NULL },
	{ "revoke", cmd_workflow, NULL, "REF --reason TEXT [--to ID]",
	    N_("withdraw a referral not yet answered"), NULL, true, NULL },
	{ "transfer", cmd_workflow, NULL,
	    "--case REF --to ID [--attach F]... [--note TEXT] [--wait]",
	    N_("hand the whole case over to another agency"), NULL, true,
	    NULL },
	{ "request-file", cmd_workflow, NULL,
	    "--case REF --from ID --basis TEXT [--purpose TEXT]",
	    N_("ask a holder for a case file, with its legal basis"), NULL,
	    true, NULL },
	{ "grant", cmd_workflow, NULL, "REQ",
	    N_("answer a case-file request: send the file"), NULL, true, NULL },
	{ "refuse", cmd_workflow, NULL, "REQ --reason TEXT",
	    N_("answer a case-file request: refuse, saying why"), NULL, true,
	    NULL },
	{ "cases", NULL, view_cases, "[--json]",
	    N_("every case, where it stands"), NULL, true, NULL },
	{ "case", NULL, view_case, "REF [--json]",
	    N_("one case and its timeline"), N_("a case reference"), true,
	    NULL },
	{ "overdue", NULL, view_overdue, "[--json]",
	    N_("steps past their deadline; at the committee, stuck referrals "
	       "nationwide"),
	    NULL, true, NULL },
	{ "stats send", cmd_stats, NULL, "[--period YYYY-MM]",
	    N_("send the committee this agency's report of a month (last "
	       "month unless said)"),
	    NULL, true,
	    N_("National figures (docs/STATS.md); the daemon also sends each "
	       "month's report:") },
	{ "stats key", cmd_stats, NULL, "--out F | --file F",
	    N_("committee: make the pseudonym key file; agency: install it"),
	    NULL, true, NULL },
	{ "stats", cmd_stats, NULL,
	    "[--from YYYY-MM] [--to YYYY-MM] [--by month|type|sex|age|\n"
	    "nationality|region|need|outcome] [--csv F] [--svg F]\n"
	    "[--threshold 5]",
	    N_("committee: the national figures from the agencies' reports"),
	    NULL, true, NULL },
	{ "user add", cmd_user, NULL,
	    "LOGIN --name \"Full Name\" --role caseworker|supervisor|admin\n"
	    "[--password-file F]",
	    N_("make an account of the web interface (the password is asked)"),
	    NULL, true, N_("Accounts of the web interface (docs/WEB.md):") },
	{ "user passwd", cmd_user, NULL, "LOGIN [--password-file F]",
	    N_("set an account's password (and unlock it)"), NULL, true, NULL },
	{ "user disable", cmd_user, NULL, "LOGIN",
	    N_("disable an account: it can no longer log in"), NULL, true,
	    NULL },
	{ "user enable", cmd_user, NULL, "LOGIN", N_("enable an account again"),
	    NULL, true, NULL },
	{ "user list", cmd_user, NULL, "[--json]",
	    N_("the accounts: role, state, last login"), NULL, true, NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
print_usage(FILE *f)
{
	(void)fputs(_("usage: sira-agent COMMAND [--home DIR] [OPTIONS]   "
		      "(or set SIRA_HOME)\n"
		      "       sira-agent COMMAND --help\n\n"),
	    f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		if (c->section != NULL)
			(void)fprintf(f, "\n%s\n", _(c->section));
		(void)fprintf(f, "  %-14s ", c->name);
		usage_lines(f, c->usage, 17);
		(void)fprintf(f, "%17s%s\n", "", _(c->help));
	}
	(void)fputs("\nKIND: referral, referral_response, referral_update, "
		    "case_transfer,\n      file_request, file_response, note, "
		    "stats_report\n",
	    f);
}

static int
print_command_help(const struct command *c)
{
	int col = printf(_("usage: sira-agent %s "), c->name);

	usage_lines(stdout, c->usage, col > 0 ? col : 0);
	(void)printf("\n  %s\n", _(c->help));
	if (c->needs_home)
		(void)printf(
		    _("\n  The agency home: --home DIR, or SIRA_HOME.\n"));
	if (strcmp(c->name, "send") == 0)
		(void)printf("\n  KIND: referral, referral_response, "
			     "referral_update, case_transfer,\n"
			     "        file_request, file_response, note\n");
	return 0;
}

/* The row of argv's command (one word, or "audit verify"), and how many
 * words it took; NULL when unknown. */
static const struct command *
find_command(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');
		if (sp == NULL && strcmp(argv[1], name) == 0) {
			*words = 1;
			return &commands[i];
		}
		if (sp != NULL && argc > 2 &&
		    strncmp(argv[1], name, (size_t)(sp - name)) == 0 &&
		    argv[1][sp - name] == '\0' &&
		    strcmp(argv[2], sp + 1) == 0) {
			*words = 2;
			return &commands[i];
		}
	}
	return NULL;
}

static bool
asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

static int
run_command(const struct command *c, int argc, char **argv)
{
	struct sira_err err;
	struct opts o;
	const char *arg = NULL;
	int rc;

	sira_err_clear(&err);
	if ((rc = parse(argc, argv, &o)) != 0)
		return rc;
	if (optind < argc)
		arg = argv[optind];
	if (c->needs != NULL && arg == NULL) {
		(void)fprintf(stderr,
		    _("sira-agent: %s needs %s (see sira-agent %s --help)\n"),
		    c->name, _(c->needs), c->name);
		return 2;
	}
	return c->run != NULL ? c->run(c, &o, arg, &err) :
				cmd_view(c, &o, arg, &err);
}

int
main(int argc, char **argv)
{
	const struct command *c;
	int words = 0, rc;

	json_wipe_install();
	if ((rc = i18n_init()) != 0)
		(void)fprintf(stderr,
		    "sira-agent: WARNING: messages stay in English: %s\n",
		    rc == -SIRA_ENOTFOUND ? "French catalogue not found" :
					    sira_strerror(rc));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 2 && (c = find_command(argc - 1, argv + 1, &words)))
			return print_command_help(c);
		print_usage(stdout);
		return argc > 2 ? usage_error("unknown command") : 0;
	}
	if ((c = find_command(argc, argv, &words)) == NULL)
		return usage_error(strcmp(argv[1], "audit") == 0 ?
			N_("the audit command is: audit verify|show") :
			strcmp(argv[1], "user") == 0 ?
			N_("the user command is: user add|passwd|disable|enable|list") :
			N_("unknown command"));
	if (asks_help(argc, argv))
		return print_command_help(c);
	if (sodium_init() < 0) {
		(void)fprintf(
		    stderr, _("sira-agent: libsodium failed to start\n"));
		return 1;
	}
	/* getopt sees the command's own words as argv[0] and skips them. */
	return run_command(c, argc - words, argv + words);
}
