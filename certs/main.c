/*
 * main.c: sira-cert, the national CA's command-line tool.
 *
 * A table of subcommands (init, sign-request, issue, renew, revoke, crl,
 * verify, show),
 * each parsing its own options with getopt_long and calling ca.c or the
 * shared certificate code. This is the only file that prints to the user or
 * exits: errors are one line, "sira-cert: <reason>", exit status 1 (2 for a
 * usage error).
 */
#include <getopt.h>
#include <stddef.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <unistd.h>

#include "ca.h"
#include "clock.h"
#include "i18n.h"
#include "inspect.h"
#include "passphrase.h"
#include "request.h"
#include "sirafile.h"
#include "usage.h"
#include "wire.h"

#define EXIT_USAGE 2

/* Options shared by the subcommands; each uses the ones it needs. */
struct opts {
	const char *ca_dir, *name, *id, *role, *out, *pass_file;
	const char *key_pass_file, *cert, *ca, *crl, *at, *not_before;
	const char *reason, *compromised_since, *kdf, *fingerprint;
	uint64_t serial;
	uint32_t days, crl_days;
	int insecure, json, yes;
};

enum {
	O_CA_DIR = 256,
	O_NAME,
	O_ID,
	O_ROLE,
	O_DAYS,
	O_OUT,
	O_PASS,
	O_KEYPASS,
	O_INSECURE,
	O_SERIAL,
	O_REASON,
	O_CRL_DAYS,
	O_CERT,
	O_CA,
	O_CRL,
	O_AT,
	O_NOT_BEFORE,
	O_JSON,
	O_KDF,
	O_COMPROMISED,
	O_FINGERPRINT,
	O_YES,
	O_HELP
};

static const struct option longopts[] = {
	{ "ca-dir", required_argument, NULL, O_CA_DIR },
	{ "name", required_argument, NULL, O_NAME },
	{ "id", required_argument, NULL, O_ID },
	{ "role", required_argument, NULL, O_ROLE },
	{ "days", required_argument, NULL, O_DAYS },
	{ "out", required_argument, NULL, O_OUT },
	{ "passphrase-file", required_argument, NULL, O_PASS },
	{ "key-passphrase-file", required_argument, NULL, O_KEYPASS },
	{ "insecure-no-passphrase", no_argument, NULL, O_INSECURE },
	{ "serial", required_argument, NULL, O_SERIAL },
	{ "reason", required_argument, NULL, O_REASON },
	{ "compromised-since", required_argument, NULL, O_COMPROMISED },
	{ "crl-days", required_argument, NULL, O_CRL_DAYS },
	{ "cert", required_argument, NULL, O_CERT },
	{ "ca", required_argument, NULL, O_CA },
	{ "crl", required_argument, NULL, O_CRL },
	{ "at", required_argument, NULL, O_AT },
	{ "not-before", required_argument, NULL, O_NOT_BEFORE },
	{ "kdf", required_argument, NULL, O_KDF },
	{ "json", no_argument, NULL, O_JSON },
	{ "fingerprint", required_argument, NULL, O_FINGERPRINT },
	{ "yes", no_argument, NULL, O_YES },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* TRANSLATORS: the words after each colon are typed on the command line:
 * keep them in English. */
static const char glossary[] = N_(
    "ROLE: police, justice, social_services, ngo, coordination, broker\n"
    "REASON: key_compromise, superseded, offboarded, ca_compromise, unspecified\n"
    "TIME: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or @UNIXSECONDS\n"
    "LEVEL: interactive, moderate (default), sensitive\n");

static int
fail(const struct sira_err *err)
{
	(void)fprintf(stderr, _("sira-cert: %s\n"),
	    err->msg[0] ? err->msg : sira_strerror(err->code));
	return EXIT_FAILURE;
}

static int
usage_error(const char *msg)
{
	(void)fprintf(
	    stderr, _("sira-cert: %s (see sira-cert --help)\n"), _(msg));
	return EXIT_USAGE;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	x = strtoull(s, &end, 10);
	if (*end != '\0' || x > max)
		return -1;
	*v = x;
	return 0;
}

/* The numeric options; anything else reaching here is a usage error. */
static int
parse_number(int c, const char *arg, struct opts *o)
{
	uint64_t v;

	switch (c) {
	case O_DAYS:
	case O_CRL_DAYS:
		if (parse_u64(arg, 36500, &v) != 0 || v == 0)
			return usage_error(
			    "days must be a number from 1 to 36500");
		if (c == O_DAYS)
			o->days = (uint32_t)v;
		else
			o->crl_days = (uint32_t)v;
		return 0;
	case O_SERIAL:
		if (parse_u64(arg, UINT64_MAX, &o->serial) != 0 ||
		    o->serial == 0)
			return usage_error("serial must be a positive number");
		return 0;
	default:
		return usage_error("unknown or incomplete option");
	}
}

/* Options that take a string, and where each one goes. */
static const struct {
	int id;
	size_t off;
} string_opts[] = {
	{ O_CA_DIR, offsetof(struct opts, ca_dir) },
	{ O_NAME, offsetof(struct opts, name) },
	{ O_ID, offsetof(struct opts, id) },
	{ O_ROLE, offsetof(struct opts, role) },
	{ O_OUT, offsetof(struct opts, out) },
	{ O_PASS, offsetof(struct opts, pass_file) },
	{ O_KEYPASS, offsetof(struct opts, key_pass_file) },
	{ O_REASON, offsetof(struct opts, reason) },
	{ O_COMPROMISED, offsetof(struct opts, compromised_since) },
	{ O_CERT, offsetof(struct opts, cert) },
	{ O_CA, offsetof(struct opts, ca) },
	{ O_CRL, offsetof(struct opts, crl) },
	{ O_AT, offsetof(struct opts, at) },
	{ O_NOT_BEFORE, offsetof(struct opts, not_before) },
	{ O_KDF, offsetof(struct opts, kdf) },
	{ O_FINGERPRINT, offsetof(struct opts, fingerprint) },
};

/* Store one option; returns 0, -1 for --help, or a usage exit status. */
static int
set_opt(int c, const char *arg, struct opts *o)
{
	for (size_t i = 0; i < sizeof(string_opts) / sizeof(string_opts[0]);
	     i++) {
		if (string_opts[i].id == c) {
			memcpy(
			    (char *)o + string_opts[i].off, &arg, sizeof(arg));
			return 0;
		}
	}
	if (c == O_INSECURE)
		o->insecure = 1;
	else if (c == O_JSON)
		o->json = 1;
	else if (c == O_YES)
		o->yes = 1;
	else if (c == O_HELP)
		return -1;
	else
		return parse_number(c, arg, o);
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->crl_days = CA_DEFAULT_CRL_DAYS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if ((rc = set_opt(c, optarg, o)) != 0)
			return rc;
	return 0;
}

static int
get_kdf(const struct opts *o, enum keyfile_kdf *kdf)
{
	*kdf = KEYFILE_KDF_MODERATE;
	if (o->kdf != NULL && keyfile_kdf_parse(o->kdf, kdf) != 0)
		return usage_error(
		    "--kdf must be interactive, moderate or sensitive");
	return 0;
}

static void
warn_insecure(void)
{
	(void)fprintf(stderr,
	    _("sira-cert: WARNING: the CA secret key is NOT protected by a passphrase.\n"
	      "sira-cert: WARNING: anyone who copies ca.key can issue certificates. Demos and tests only.\n"));
}

/* Unlock the opened CA's key (passphrase file, prompt, or clear). */
static int
unlock_opened(const struct opts *o, struct ca *ca, struct sira_err *err)
{
	struct passphrase pass = { NULL, 0 };
	int rc = 0;

	if (!ca_key_encrypted(ca))
		warn_insecure();
	else if (o->pass_file != NULL)
		rc = passphrase_from_file(o->pass_file, &pass, err);
	else
		rc = passphrase_prompt(_("CA passphrase: "), false, &pass, err);
	if (rc == 0)
		rc = ca_unlock(ca, pass.p, pass.len, err);
	passphrase_free(&pass);
	return rc;
}

/* Open the CA and unlock its key. */
static int
open_ca(
    const struct opts *o, uint64_t now, struct ca **ca, struct sira_err *err)
{
	int rc;

	if ((rc = ca_open(o->ca_dir, now, ca, err)) != 0)
		return rc;
	if ((rc = unlock_opened(o, *ca, err)) != 0)
		ca_close(ca);
	return rc;
}

static int
cmd_init(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)nfiles;
	(void)files;
	struct passphrase pass = { NULL, 0 };
	enum keyfile_kdf kdf;
	int rc;

	if (o->ca_dir == NULL || o->name == NULL)
		return usage_error("init needs --ca-dir and --name");
	if (o->insecure && o->pass_file != NULL)
		return usage_error(
		    "--insecure-no-passphrase and --passphrase-file exclude each other");
	if ((rc = get_kdf(o, &kdf)) != 0)
		return rc;
	if (o->insecure)
		warn_insecure();
	else if (o->pass_file != NULL) {
		if (passphrase_from_file(o->pass_file, &pass, err) != 0)
			return fail(err);
	} else if (passphrase_prompt(
		       _("New CA passphrase: "), true, &pass, err) != 0)
		return fail(err);
	rc = ca_create(o->ca_dir,
	    &(struct ca_request){ .agency_id = o->id ? o->id : "ml.cnlctp",
		.display_name = o->name,
		.days = o->days ? o->days : CA_DEFAULT_DAYS,
		.key_pass = pass.p,
		.key_passlen = pass.len,
		.kdf = kdf },
	    now, err);
	passphrase_free(&pass);
	if (rc != 0)
		return fail(err);
	(void)printf(
	    _("created CA \"%s\" in %s (give %s/ca.cert to every agency and the broker)\n"),
	    o->name, o->ca_dir, o->ca_dir);
	return EXIT_SUCCESS;
}

/* Issue for req with the options' CA and key passphrase, then report. */
static int
issue_and_report(const struct opts *o, struct ca_request *req, uint64_t now,
    struct sira_err *err)
{
	struct passphrase kpass = { NULL, 0 };
	struct ca *ca = NULL;
	struct cert *c = NULL;
	char until[SIRA_LOCAL_STR_LEN], fp[65];
	int rc;

	if ((rc = get_kdf(o, &req->kdf)) != 0)
		return rc;
	if (o->key_pass_file != NULL &&
	    passphrase_from_file(o->key_pass_file, &kpass, err) != 0)
		return fail(err);
	req->key_pass = kpass.p;
	req->key_passlen = kpass.len;
	if ((rc = open_ca(o, now, &ca, err)) == 0)
		rc = ca_issue(ca, req, o->out, now, &c, err);
	passphrase_free(&kpass);
	ca_close(&ca);
	if (rc != 0)
		return fail(err);
	clock_local(c->not_after, until);
	cert_fingerprint(c, fp);
	(void)printf(
	    _("issued %s (%s), serial %" PRIu64 ", valid until %s\n"
	      "  %s/%s.cert  (public)\n  %s/%s.key   (secret: give it only to %s)\n"
	      "  fingerprint %s\n"),
	    c->agency_id, cert_role_name(c->role), c->serial, until, o->out,
	    c->agency_id, o->out, c->agency_id, c->agency_id, fp);
	cert_destroy(&c);
	return EXIT_SUCCESS;
}

static int
cmd_issue(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)nfiles;
	(void)files;
	struct ca_request req = { 0 };

	if (o->ca_dir == NULL || o->id == NULL || o->name == NULL ||
	    o->role == NULL || o->out == NULL)
		return usage_error(
		    "issue needs --ca-dir, --id, --name, --role and --out");
	if (cert_role_parse(o->role, &req.role) != 0)
		return usage_error(
		    "unknown role; use police, justice, social_services, ngo, coordination or broker");
	req.not_before = now;
	if (o->not_before != NULL &&
	    clock_parse(o->not_before, &req.not_before, err) != 0)
		return fail(err);
	req.agency_id = o->id;
	req.display_name = o->name;
	req.days = o->days ? o->days : CA_DEFAULT_AGENCY_DAYS;
	return issue_and_report(o, &req, now, err);
}

static int
cmd_renew(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)nfiles;
	(void)files;
	struct ca_request req = { 0 };
	struct cert *old = NULL;
	uint8_t *buf = NULL;
	const uint8_t *body;
	size_t len;
	int rc;

	if (o->ca_dir == NULL || o->cert == NULL || o->out == NULL)
		return usage_error("renew needs --ca-dir, --cert and --out");
	if (sirafile_read_cert(o->cert, &buf, &body, &len, err) != 0 ||
	    cert_unsafe_decode(body, len, &old, err) != 0) {
		free(buf);
		return fail(err);
	}
	free(buf);
	req.agency_id = old->agency_id;
	req.display_name = o->name ? o->name : old->display_name;
	req.role = old->role;
	req.not_before = now;
	req.days = o->days ? o->days : CA_DEFAULT_AGENCY_DAYS;
	rc = issue_and_report(o, &req, now, err);
	if (rc == EXIT_SUCCESS)
		(void)printf(
		    _("the old certificate (serial %" PRIu64
		      ") stays valid until it expires; to retire it now:\n"
		      "  sira-cert revoke --ca-dir %s --serial %" PRIu64
		      " --reason superseded\n"),
		    old->serial, o->ca_dir, old->serial);
	cert_destroy(&old);
	return rc;
}

/* Read and parse the request file at path into *r. */
static int
read_request(const char *path, struct enrol_request **r, struct sira_err *err)
{
	const uint8_t *body;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if ((rc = sirafile_read(path,
		 &(struct sirafile_kind){ SIRA_MAGIC_REQUEST,
		     "enrolment request", SIRA_ENROL_MAX + SIRA_MAGIC_LEN },
		 &buf, &body, &len, err)) == 0)
		rc = enrol_parse(body, len, r, err);
	free(buf);
	if (rc != 0 && rc != -SIRA_ENOTFOUND) {
		/* A copy: err->msg cannot be both source and destination. */
		char why[SIRA_ERR_MSG_MAX];
		(void)snprintf(why, sizeof(why), "%s", err->msg);
		return sira_err_set(err, -rc, _("%s refused: %s"), path, why);
	}
	return rc;
}

static void
show_request(const struct enrol_request *r, const struct request_verdict *v,
    const char *fp)
{
	char at[SIRA_LOCAL_STR_LEN];

	clock_local(r->created_at, at);
	(void)printf(
	    _("enrolment request\n"
	      "  agency:      %s\n  name:        %s\n  role:        %s\n"
	      "  made:        %s (the agency's clock)\n"),
	    r->agency_id, r->display_name, cert_role_name(r->role), at);
	if (v->renewal) {
		clock_local(v->renews_until, at);
		(void)printf(_("  renewal of:  serial %" PRIu64
			       " (valid until %s), same keys\n"),
		    v->renews_serial, at);
	} else
		(void)printf(_("  first certificate for these keys\n"));
	(void)printf(_("  FINGERPRINT: %s\n"
		       "Call the agency on a number you already know and have "
		       "them read the fingerprint\n"
		       "that `sira-agent keygen` showed them; sign only if it "
		       "is the same.\n"),
	    fp);
}

/* The operator's confirmation: --fingerprint, --yes or a typed answer. */
static int
confirm_request(const struct opts *o, const char *fp, struct sira_err *err)
{
	char line[128];

	if (o->fingerprint != NULL) {
		if (!enrol_fingerprint_match(o->fingerprint, fp))
			return sira_err_set(err, SIRA_EDENIED,
			    _("the fingerprint given (%s) is not the request's (%s): not signed"),
			    o->fingerprint, fp);
		return 0;
	}
	if (o->yes)
		return 0;
	(void)printf(
	    _("Type the fingerprint the agency read to you, or yes: "));
	(void)fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return sira_err_set(err, SIRA_EDENIED,
		    _("no confirmation: not signed (use --fingerprint or --yes in scripts)"));
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "yes") == 0 || strcmp(line, "oui") == 0 ||
	    enrol_fingerprint_match(line, fp))
		return 0;
	return sira_err_set(err, SIRA_EDENIED,
	    _("not confirmed (\"%s\" is neither yes nor the fingerprint): not signed"),
	    line);
}

/* Check r against the CA's records, ask, unlock, prove, certify. */
static int
sign_checked(const struct opts *o, struct ca *ca, const struct enrol_request *r,
    uint64_t now, struct sira_err *err)
{
	struct request_verdict v = { 0 };
	struct cert *c = NULL;
	char fp[SIRA_ENROL_FP_LEN], until[SIRA_LOCAL_STR_LEN];
	struct ca_request req = { .agency_id = r->agency_id,
		.display_name = r->display_name,
		.role = r->role,
		.not_before = now,
		.days = o->days ? o->days : CA_DEFAULT_AGENCY_DAYS,
		.sign_pk = r->sign_pk,
		.transport_pk = r->transport_pk,
		.request_id = r->id };

	if (o->not_before != NULL &&
	    clock_parse(o->not_before, &req.not_before, err) != 0)
		return fail(err);
	if (request_check_records(ca, r, now, &v, err) != 0)
		return fail(err);
	enrol_fingerprint(r, fp);
	show_request(r, &v, fp);
	if (confirm_request(o, fp, err) != 0 ||
	    unlock_opened(o, ca, err) != 0 || ca_check_pop(ca, r, err) != 0 ||
	    ca_certify(ca, &req, o->out, now, &c, err) != 0)
		return fail(err);
	clock_local(c->not_after, until);
	(void)printf(
	    _("issued %s (%s), serial %" PRIu64 ", valid until %s\n"
	      "  %s  (public: send it back to the agency, with ca.cert)\n"),
	    c->agency_id, cert_role_name(c->role), c->serial, until, o->out);
	if (v.renewal)
		(void)printf(
		    _("the agency installs it with: sira-agent install-cert %s\n"),
		    o->out);
	cert_destroy(&c);
	return EXIT_SUCCESS;
}

static int
cmd_sign_request(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	struct enrol_request *r = NULL;
	struct ca *ca = NULL;
	int rc;

	if (o->ca_dir == NULL || o->out == NULL || nfiles != 1)
		return usage_error(
		    "sign-request needs --ca-dir, --out and one REQUEST file");
	if (o->yes && o->fingerprint != NULL)
		return usage_error(
		    "--yes and --fingerprint exclude each other");
	if (read_request(files[0], &r, err) != 0 || r == NULL)
		return fail(err);
	if (ca_open(o->ca_dir, now, &ca, err) != 0)
		rc = fail(err);
	else
		rc = sign_checked(o, ca, r, now, err);
	ca_close(&ca);
	enrol_destroy(&r);
	return rc;
}

static int
cmd_revoke(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)nfiles;
	(void)files;
	struct ca *ca = NULL;
	uint64_t since = 0;
	int reason, rc;

	if (o->ca_dir == NULL || o->serial == 0 || o->reason == NULL)
		return usage_error(
		    "revoke needs --ca-dir, --serial and --reason");
	if (crl_reason_parse(o->reason, &reason) != 0)
		return usage_error(
		    "unknown reason; use key_compromise, superseded, offboarded, ca_compromise or unspecified");
	if (o->compromised_since != NULL &&
	    clock_parse(o->compromised_since, &since, err) != 0)
		return fail(err);
	if ((rc = open_ca(o, now, &ca, err)) == 0)
		rc = ca_revoke(ca,
		    &(struct ca_revocation){
			o->serial, reason, since, o->crl_days },
		    now, err);
	ca_close(&ca);
	if (rc != 0)
		return fail(err);
	(void)printf(
	    _("revoked serial %" PRIu64
	      " (%s); new revocation list in %s/ca.crl: distribute it to the broker\n"),
	    o->serial, o->reason, o->ca_dir);
	return EXIT_SUCCESS;
}

static int
cmd_crl(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)nfiles;
	(void)files;
	struct ca *ca = NULL;
	int rc;

	if (o->ca_dir == NULL || o->out == NULL)
		return usage_error("crl needs --ca-dir and --out");
	if ((rc = open_ca(o, now, &ca, err)) == 0)
		rc = ca_publish_crl(ca, now, o->crl_days, o->out, err);
	ca_close(&ca);
	if (rc != 0)
		return fail(err);
	(void)printf(
	    _("wrote revocation list to %s, valid for %" PRIu32 " days\n"),
	    o->out, o->crl_days);
	return EXIT_SUCCESS;
}

static int
cmd_verify(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	uint64_t at = now;

	if (o->ca == NULL || nfiles < 1)
		return usage_error("verify needs --ca and at least one FILE");
	if (o->at != NULL && clock_parse(o->at, &at, err) != 0)
		return fail(err);
	for (int i = 0; i < nfiles; i++)
		if (inspect_verify(o->ca, o->crl, files[i], at, now, err) != 0)
			return fail(err);
	return EXIT_SUCCESS;
}

static int
cmd_show(const struct opts *o, int nfiles, char **files, uint64_t now,
    struct sira_err *err)
{
	(void)now;
	if (nfiles != 1)
		return usage_error("show needs exactly one FILE");
	if (inspect_show(files[0], o->json != 0, err) != 0)
		return fail(err);
	return EXIT_SUCCESS;
}

/* The subcommand table (wireguard-tools' wg.c shape). */
static const struct {
	const char *name;
	int (*fn)(
	    const struct opts *, int, char **, uint64_t, struct sira_err *);
	bool takes_files;
	const char *usage; /* the options, after the name */
	const char *help;  /* what it does, one line */
} commands[] = {
	{ "init", cmd_init, false,
	    "--ca-dir DIR --name NAME [--id ID] [--days N]\n"
	    "[--passphrase-file F | --insecure-no-passphrase] [--kdf LEVEL]",
	    N_("create the national CA in DIR") },
	{ "sign-request", cmd_sign_request, true,
	    "--ca-dir DIR REQUEST --out ID.cert [--days N]\n"
	    "[--fingerprint FP | --yes] [--not-before TIME]\n"
	    "[--passphrase-file F]",
	    N_("certify an agency's request (sira-agent keygen): no secret seen") },
	{ "issue", cmd_issue, false,
	    "--ca-dir DIR --id ID --name NAME --role ROLE --out OUTDIR\n"
	    "[--days N] [--not-before TIME] [--passphrase-file F]\n"
	    "[--key-passphrase-file F]",
	    N_("demos and tests only: makes the agency's secret keys too (the CA "
	       "sees them)") },
	{ "renew", cmd_renew, false,
	    "--ca-dir DIR --cert OLD.cert --out OUTDIR [--days N]\n"
	    "[--passphrase-file F] [--key-passphrase-file F]",
	    N_("demos and tests only: new certificate and keys, made by the CA") },
	{ "revoke", cmd_revoke, false,
	    "--ca-dir DIR --serial N --reason REASON\n"
	    "[--compromised-since TIME] [--crl-days N] [--passphrase-file F]",
	    N_("revoke a certificate and write a new revocation list") },
	{ "crl", cmd_crl, false,
	    "--ca-dir DIR --out FILE [--crl-days N] [--passphrase-file F]",
	    N_("write the current revocation list, freshly signed") },
	{ "verify", cmd_verify, true,
	    "--ca CA.cert [--crl CRL] [--at TIME] FILE...",
	    N_("check certificates against the CA (and a revocation list)") },
	{ "show", cmd_show, true, "FILE [--json]",
	    N_("print a certificate, CRL, request or key file (no secrets)") },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
print_usage(FILE *f)
{
	(void)fputs(_("usage: sira-cert COMMAND [OPTIONS]\n"
		      "       sira-cert COMMAND --help\n\n"),
	    f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		(void)fprintf(f, "  %-12s ", commands[i].name);
		usage_lines(f, commands[i].usage, 15);
		(void)fprintf(f, "%15s%s\n", "", _(commands[i].help));
	}
	(void)fprintf(f, "\n%s", _(glossary));
}

static int
print_command_help(size_t i)
{
	(void)printf(_("usage: sira-cert %s "), commands[i].name);
	usage_lines(
	    stdout, commands[i].usage, (int)strlen(commands[i].name) + 17);
	(void)printf("\n  %s\n\n%s", _(commands[i].help), _(glossary));
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct sira_err err;
	struct opts o;
	uint64_t now;
	const char *cmd;
	int rc;

	(void)i18n_init(); /* without a catalogue, English: go on */
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		for (size_t i = 0; argc > 2 && i < N_COMMANDS; i++)
			if (strcmp(argv[2], commands[i].name) == 0)
				return print_command_help(i);
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
	}
	if (sodium_init() < 0) {
		(void)fprintf(
		    stderr, _("sira-cert: libsodium failed to start\n"));
		return EXIT_FAILURE;
	}
	sira_err_clear(&err);
	cmd = argv[1];
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) == -1) {
		for (size_t i = 0; i < N_COMMANDS; i++)
			if (strcmp(cmd, commands[i].name) == 0)
				return print_command_help(i);
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (rc != 0)
		return rc;
	now = clock_now();
	argc -= optind + 1;
	argv += optind + 1;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (!commands[i].takes_files && argc != 0)
			return usage_error("unexpected argument");
		return commands[i].fn(&o, argc, argv, now, &err);
	}
	return usage_error("unknown command");
}
