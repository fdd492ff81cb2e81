/*
 * main.c: sira-broker. Subcommands: run (the daemon), status, log verify,
 * log show. The only file that exits or installs signal handlers; the
 * handlers only set the two flags the main loop polls.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sodium.h>

#include "backup_cli.h"
#include "batch.h"
#include "blobs.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "fileio.h"
#include "inspect_log.h"
#include "log.h"
#include "passphrase.h"
#include "usage.h"
#include "wire.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static int
fail(const char *what, const struct sira_err *err)
{
	(void)fprintf(stderr, "sira-broker: %s%s%s\n", what,
	    what[0] ? ": " : "",
	    err->msg[0] ? err->msg : sira_strerror(err->code));
	return EXIT_FAILURE;
}

static int
read_cert(const char *path, const struct directory *d, uint64_t now,
    struct cert **out, struct sira_err *err)
{
	uint8_t *buf;
	const uint8_t *body;
	size_t len;
	int rc;

	if ((rc = fileio_read(
		 path, SIRA_CERT_MAX + SIRA_MAGIC_LEN, &buf, &len, err)) != 0)
		return rc;
	if ((rc = wire_strip_magic(bytes_of(buf, len), SIRA_MAGIC_CERT,
		 "certificate", &body, &len, err)) == 0)
		rc = cert_verify(
		    d->ca, d->crl, bytes_of(body, len), now, out, err);
	free(buf);
	return rc;
}

static int
load_keys(struct broker *b, struct sira_err *err)
{
	struct passphrase pass = { NULL, 0 };
	struct keyfile *kf;
	int rc;

	if ((rc = keyfile_open(b->cfg.key, &kf, err)) != 0)
		return rc;
	if (keyfile_encrypted(kf))
		rc = b->cfg.key_pass_file[0] ?
		    passphrase_from_file(b->cfg.key_pass_file, &pass, err) :
		    passphrase_prompt(
			"broker key passphrase: ", false, &pass, err);
	if (rc == 0)
		rc = keyfile_unlock(kf, pass.p, pass.len, &b->keys, err);
	passphrase_free(&pass);
	keyfile_close(&kf);
	if (rc == 0 && !b->keys->has_transport)
		rc = sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s has no transport key", b->cfg.key);
	return rc;
}

/* The broker's certificate must be a valid broker cert for these keys. */
static int
load_identity(struct broker *b, uint64_t now, struct sira_err *err)
{
	int rc;

	if ((rc = read_cert(b->cfg.cert, b->dir, now, &b->me, err)) != 0)
		return rc;
	if (b->me->role != SIRA_ROLE_BROKER ||
	    memcmp(b->me->sign_pk, b->keys->sign_pk, SIRA_SIGN_PK_LEN) != 0 ||
	    memcmp(b->me->transport_pk, b->keys->transport_pk,
		SIRA_CURVE_KEY_LEN) != 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s is not a broker certificate for %s", b->cfg.cert,
		    b->cfg.key);
	(void)snprintf(b->tlog.origin, sizeof(b->tlog.origin), "%s/sira-log/v1",
	    b->me->agency_id);
	b->tlog.keys = b->keys;
	return 0;
}

/* Log each certificate and CRL the broker serves, once. */
static int
log_served(struct broker *b, uint64_t now, struct sira_err *err)
{
	MDB_txn *txn;
	uint8_t *cp;
	size_t cplen;
	int rc;

	if ((rc = store_begin(b->store, 0, &txn, err)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i <= b->dir->n; i++) {
		const uint8_t *id = i < b->dir->n ? b->dir->certs[i]->id :
		    b->dir->crl                   ? b->dir->crl->id :
						    NULL;
		int type = i < b->dir->n ?
		    SIRA__V1__LEAF_TYPE__LEAF_TYPE_CERT_SERVED :
		    SIRA__V1__LEAF_TYPE__LEAF_TYPE_CRL_SERVED;
		Sira__V1__LogLeaf l = SIRA__V1__LOG_LEAF__INIT;
		if (id == NULL)
			continue;
		l.version = 1;
		l.type = (Sira__V1__LeafType)type;
		l.time = now - now % 60;
		l.object_hash.data = (uint8_t *)(uintptr_t)id;
		l.object_hash.len = 32;
		l.actor_agency_id = i < b->dir->n ?
		    b->dir->certs[i]->agency_id :
		    b->dir->ca->agency_id;
		rc = tlog_append_object(txn, &b->tlog, &l, err);
	}
	if (rc == 0 &&
	    (rc = tlog_checkpoint(txn, &b->tlog, now, &cp, &cplen, err)) == 0)
		free(cp);
	if (rc != 0) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn, err);
}

/* Attachment blobs: an orphan lives at most a week, never past ttl-cap. */
static int
open_blobs(struct broker *b, struct sira_err *err)
{
	struct blobs_limits lim;

	lim.max_blob = b->cfg.blob_max;
	lim.quota = b->cfg.blob_quota;
	lim.grace = b->cfg.ttl_cap < BLOBS_GRACE ? b->cfg.ttl_cap : BLOBS_GRACE;
	return blobs_open(b->cfg.data, &lim, &b->blobs, err);
}

/*
 * Each connected agency holds one file descriptor: raise the soft limit to
 * the hard one (often 1,024 against 4,096 or more), or the 1,025th agency
 * could not connect and libzmq would spin on accept. Logged, so that an
 * operator sees the ceiling.
 */
static void
raise_fd_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &r);
		(void)getrlimit(RLIMIT_NOFILE, &r);
	}
	log_event(LOG_INFO, "broker.fd_limit", "files=%llu",
	    (unsigned long long)r.rlim_cur);
}

static int
broker_open(struct broker *b, struct sira_err *err)
{
	uint64_t now = clock_now();
	int rc;

	if ((rc = fileio_mkdir(b->cfg.data, 0700, err)) != 0 ||
	    (rc = load_keys(b, err)) != 0 ||
	    (rc = directory_load(
		 &(struct directory_files){ b->cfg.ca, b->cfg.certs,
		     b->cfg.crl[0] ? b->cfg.crl : NULL },
		 NULL, now, &b->dir, err)) != 0 ||
	    (rc = load_identity(b, now, err)) != 0 ||
	    (rc = b->cfg.policy[0] ?
		    policy_load(b->cfg.policy, &b->policy, err) :
		    policy_default(&b->policy, err)) != 0 ||
	    (rc = store_open(b->cfg.data, b->cfg.mapsize, 0, &b->store, err)) !=
		0)
		return rc;
	b->tlog.st = b->store;
	if ((rc = log_served(b, now, err)) != 0 ||
	    (rc = open_blobs(b, err)) != 0)
		return rc;
	log_event(LOG_INFO, "broker.loaded",
	    "agencies=%zu skipped=%zu crl=%s policy=%s", b->dir->n,
	    b->dir->n_skipped, b->dir->crl ? "yes" : "none",
	    b->cfg.policy[0] ? b->cfg.policy : "built-in");
	return router_start(b, err);
}

/* Reload certificates, revocation list and policy (SIGHUP). */
static void
broker_reload(struct broker *b)
{
	struct directory *d = NULL;
	struct policy *p = NULL;
	struct sira_err err;
	uint64_t now = clock_now();

	if (directory_load(&(struct directory_files){ b->cfg.ca, b->cfg.certs,
			       b->cfg.crl[0] ? b->cfg.crl : NULL },
		b->dir, now, &d, &err) != 0) {
		log_event(LOG_ERROR, "reload.failed",
		    "reason=%s (keeping the previous certificates)", err.msg);
		return;
	}
	if ((b->cfg.policy[0] ? policy_load(b->cfg.policy, &p, &err) :
				policy_default(&p, &err)) != 0) {
		log_event(LOG_ERROR, "reload.failed",
		    "reason=%s (keeping the previous policy)", err.msg);
		directory_free(&d);
		return;
	}
	directory_free(&b->dir);
	b->dir = d;
	session_reclaim(b); /* the table is bounded by the new directory */
	policy_destroy(&b->policy);
	b->policy = p;
	if (log_served(b, now, &err) != 0)
		log_event(LOG_ERROR, "reload.log_failed", "reason=%s", err.msg);
	log_event(LOG_INFO, "broker.reloaded", "agencies=%zu skipped=%zu", d->n,
	    d->n_skipped);
}

static void
broker_close(struct broker *b)
{
	router_stop(b);
	blobs_close(&b->blobs);
	store_close(&b->store);
	policy_destroy(&b->policy);
	directory_free(&b->dir);
	cert_destroy(&b->me);
	keys_destroy(&b->keys);
	free(b->sessions);
}

static const struct option run_opts[] = {
	{ "listen", required_argument, NULL, 0 },
	{ "data", required_argument, NULL, 0 },
	{ "ca", required_argument, NULL, 0 },
	{ "cert", required_argument, NULL, 0 },
	{ "key", required_argument, NULL, 0 },
	{ "key-passphrase-file", required_argument, NULL, 0 },
	{ "certs", required_argument, NULL, 0 },
	{ "crl", required_argument, NULL, 0 },
	{ "policy", required_argument, NULL, 0 },
	{ "max-frame", required_argument, NULL, 0 },
	{ "quota-messages", required_argument, NULL, 0 },
	{ "quota-bytes", required_argument, NULL, 0 },
	{ "ttl-cap", required_argument, NULL, 0 },
	{ "rate", required_argument, NULL, 0 },
	{ "burst", required_argument, NULL, 0 },
	{ "heartbeat", required_argument, NULL, 0 },
	{ "redeliver", required_argument, NULL, 0 },
	{ "map-size", required_argument, NULL, 0 },
	{ "blob-quota-bytes", required_argument, NULL, 0 },
	{ "blob-max-bytes", required_argument, NULL, 0 },
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

/* Options: --config first (file), then the command line overrides it. */
static int
parse_run(int argc, char **argv, struct broker_config *cfg, int *json,
    struct sira_err *err)
{
	int c, idx, rc;

	config_defaults(cfg);
	*json = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", run_opts, &idx)) != -1) {
		if (c == 'c' && (rc = config_load(cfg, optarg, err)) != 0)
			return rc;
		if (c == '?')
			return sira_err_set(err, SIRA_EINVAL,
			    "unknown option (see sira-broker --help)");
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", run_opts, &idx)) != -1) {
		if (c == 'j')
			*json = 1;
		else if (c == 'v')
			log_set_level(LOG_DEBUG);
		else if (c == 0 &&
		    (rc = config_set(cfg, run_opts[idx].name, optarg, err)) !=
			0)
			return rc;
	}
	return optind == argc ? 0 :
				sira_err_set(err, SIRA_EINVAL,
				    "unexpected argument '%s'", argv[optind]);
}

/* The daemon's loop: rounds of router.c until a signal says stop. */
static int
run_loop(struct broker *b)
{
	struct batch *bt = batch_new();
	int rc = 0;

	if (bt == NULL)
		return -SIRA_ENOMEM;
	while (!stop_flag && rc == 0) {
		if (reload_flag) {
			reload_flag = 0;
			broker_reload(b);
			/* Before anything more is sent: a revoked agency's
			 * open session gets nothing, not even what was in
			 * flight. */
			(void)session_recheck(b, bt, clock_now());
			session_reclaim(b);
		}
		rc = router_round(b, bt);
	}
	/* Drain: what was read is committed and answered before exit. */
	router_drain(b, bt);
	batch_destroy(&bt);
	return rc;
}

static int
cmd_run(struct broker *b, struct sira_err *err)
{
	struct sigaction sa;
	int rc;

	if ((rc = config_check(&b->cfg, err)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: wake the poll */
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if ((rc = broker_open(b, err)) != 0)
		return rc;
	log_event(LOG_INFO, "broker.started", "endpoint=%s id=%s", b->endpoint,
	    b->me->agency_id);
	rc = run_loop(b);
	log_event(LOG_INFO, "broker.stopped", "accepted=%llu delivered=%llu",
	    (unsigned long long)b->count.accepted,
	    (unsigned long long)b->count.delivered);
	return rc;
}

/* The command table: each row runs one command on a parsed config. */
struct command {
	const char *name; /* "log verify": two words after sira-broker */
	int (*run)(struct broker *b, int json, struct sira_err *err);
	const char *usage; /* the options, after the name */
	const char *help;  /* what it does, one line */
};

static int
run_broker(struct broker *b, int json, struct sira_err *err)
{
	(void)json;
	return cmd_run(b, err);
}

static int
run_status(struct broker *b, int json, struct sira_err *err)
{
	return inspect_status(b->cfg.data, json, err);
}

static int
run_log_verify(struct broker *b, int json, struct sira_err *err)
{
	(void)json;
	return inspect_log_verify(b->cfg.data, err);
}

static int
run_log_show(struct broker *b, int json, struct sira_err *err)
{
	return inspect_log_show(b->cfg.data, json, err);
}

static const struct command commands[] = {
	{ "run", run_broker,
	    "--listen ENDPOINT --data DIR --ca CA.cert\n"
	    "--cert broker.cert --key broker.key --certs DIR\n"
	    "[--crl FILE] [--policy FILE] [--config FILE]\n"
	    "[--key-passphrase-file F] [--quota-messages N]\n"
	    "[--quota-bytes N] [--ttl-cap S] [--rate N]\n"
	    "[--burst N] [--heartbeat S] [--redeliver S]\n"
	    "[--max-frame N] [--map-size N]\n"
	    "[--blob-quota-bytes N] [--blob-max-bytes N]",
	    "the broker: authenticates agencies, routes, keeps, logs" },
	{ "status", run_status, "--data DIR [--json]",
	    "spool depths, connected agencies, counters (works while it runs)" },
	{ "log verify", run_log_verify, "--data DIR",
	    "recompute the transparency log: every node and checkpoint" },
	{ "log show", run_log_show, "--data DIR [--json]",
	    "every log entry: routing metadata only, never contents" },
	/* run NULL: the command reads its own options (broker/backup.c) */
	{ "backup", NULL,
	    "--data DIR --out FILE [--passphrase-file F]\n"
	    "[--config FILE] [--ca F] [--cert F] [--key F]\n"
	    "[--certs DIR] [--crl F] [--policy F]",
	    "an encrypted, consistent copy of the data (while it runs) and of "
	    "the files named" },
	{ "restore", NULL, "FILE --data DIR [--passphrase-file F] [--force]",
	    "put a backup back into an empty data directory" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char signals_text[] =
    "Signals: SIGTERM drains and exits; SIGHUP reloads certs, CRL, policy.\n";

static void
print_usage(FILE *f)
{
	(void)fputs("usage: sira-broker COMMAND [OPTIONS]\n"
		    "       sira-broker COMMAND --help\n\n",
	    f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		(void)fprintf(f, "  %-11s ", commands[i].name);
		usage_lines(f, commands[i].usage, 14);
		(void)fprintf(f, "%14s%s\n", "", commands[i].help);
	}
	(void)fprintf(f, "\n%s", signals_text);
}

static int
print_command_help(const struct command *c)
{
	(void)printf("usage: sira-broker %s ", c->name);
	usage_lines(stdout, c->usage, (int)strlen(c->name) + 19);
	(void)printf("\n  %s\n", c->help);
	if (c->run == run_broker)
		(void)printf("\n%s", signals_text);
	return EXIT_SUCCESS;
}

/* The row of argv's command (one word, or "log verify"), and how many
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
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	struct broker b;
	struct sira_err err;
	int json = 0, rc, words = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0 &&
		    (c = find_command(argc - 1, argv + 1, &words)) != NULL)
			return print_command_help(c);
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if ((c = find_command(argc, argv, &words)) == NULL) {
		(void)fprintf(stderr,
		    "sira-broker: unknown command (see sira-broker --help)\n");
		return 2;
	}
	if (asks_help(argc, argv))
		return print_command_help(c);
	if (sodium_init() < 0) {
		(void)fprintf(
		    stderr, "sira-broker: libsodium failed to start\n");
		return EXIT_FAILURE;
	}
	sira_err_clear(&err);
	if (c->run == NULL) {
		rc = broker_backup_main(
		    c->name, argc - words, argv + words, &err);
		return rc == 0         ? EXIT_SUCCESS :
		    rc == -SIRA_EINVAL ? (fail("", &err), 2) :
					 fail("", &err);
	}
	memset(&b, 0, sizeof(b));
	if (parse_run(argc - words, argv + words, &b.cfg, &json, &err) != 0) {
		(void)fprintf(stderr, "sira-broker: %s\n", err.msg);
		return 2;
	}
	rc = c->run(&b, json, &err);
	broker_close(&b);
	return rc == 0 ? EXIT_SUCCESS : fail("", &err);
}
