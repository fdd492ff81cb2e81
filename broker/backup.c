/*
 * backup.c: sira-broker backup --out FILE and sira-broker restore FILE
 * (lib/backup.h; docs/OPERATIONS.md, "Sauvegarde du broker").
 *
 * The archive holds the data directory: the LMDB environment (spool,
 * transparency log, prekeys, counters), copied by mdb_env_copy2 from a
 * read transaction of a read-only environment, so the broker keeps
 * running and the copy is one consistent instant; then the attachment
 * blobs and every other file of the directory as they are on disk. The
 * files the configuration names (CA certificate, the broker's
 * certificate and key file, the agencies' certificates, the revocation
 * list, the policy, the configuration file itself) go under conf/, so a
 * broker can be rebuilt from the archive alone. This file copies the
 * whole environment and names no table: tests/lint_boundary.sh lets it
 * call LMDB for that reason only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "backup_cli.h"
#include "config.h"
#include "passphrase.h"
#include "store.h"

struct bargs {
	struct broker_config cfg;
	char config[PATH_MAX]; /* --config, or "" */
	const char *out, *pass_file, *file;
	bool force;
};

static const struct option bopts[] = {
	{ "data", required_argument, NULL, 0 },
	{ "ca", required_argument, NULL, 0 },
	{ "cert", required_argument, NULL, 0 },
	{ "key", required_argument, NULL, 0 },
	{ "certs", required_argument, NULL, 0 },
	{ "crl", required_argument, NULL, 0 },
	{ "policy", required_argument, NULL, 0 },
	{ "config", required_argument, NULL, 'c' },
	{ "out", required_argument, NULL, 'o' },
	{ "passphrase-file", required_argument, NULL, 'p' },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_args(int argc, char **argv, struct bargs *a, struct sira_err *err)
{
	int c, idx, rc;

	config_defaults(&a->cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", bopts, &idx)) != -1) {
		if (c == 'c') {
			(void)snprintf(
			    a->config, sizeof(a->config), "%s", optarg);
			if ((rc = config_load(&a->cfg, optarg, err)) != 0)
				return rc;
		} else if (c == '?')
			return sira_err_set(err, SIRA_EINVAL,
			    "unknown option (see sira-broker --help)");
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", bopts, &idx)) != -1) {
		if (c == 'o')
			a->out = optarg;
		else if (c == 'p')
			a->pass_file = optarg;
		else if (c == 'f')
			a->force = true;
		else if (c == 0 &&
		    (rc = config_set(&a->cfg, bopts[idx].name, optarg, err)) !=
			0)
			return rc;
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		return sira_err_set(
		    err, SIRA_EINVAL, "unexpected argument '%s'", argv[optind]);
	if (a->cfg.data[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL, "--data DIR is needed");
	return 0;
}

static int
get_pass(
    const char *file, bool confirm, struct passphrase *p, struct sira_err *err)
{
	if (file != NULL)
		return passphrase_from_file(file, p, err);
	return passphrase_prompt("backup passphrase: ", confirm, p, err);
}

/* What the broker remakes, and our own temporary directory. */
static bool
skip_rel(const char *rel)
{
	return strcmp(rel, "data.mdb") == 0 || strcmp(rel, "lock.mdb") == 0 ||
	    strcmp(rel, "endpoint") == 0 || strcmp(rel, "status.json") == 0 ||
	    strcmp(rel, "conf") == 0 || /* a restored broker's: made anew */
	    strncmp(rel, ".backup-", 8) == 0;
}

/* The environment's consistent copy into dir/data.mdb. */
static int
snapshot(const char *data, const char *dir, struct sira_err *err)
{
	struct store *st = NULL;
	int rc;

	if ((rc = store_open(data, STORE_MAP_DEFAULT, 1, &st, err)) != 0)
		return rc;
	if ((rc = mdb_env_copy2(st->env, dir, 0)) != 0)
		rc = store_error(rc, "copying the store", err);
	store_close(&st);
	return rc;
}

/* One configured file under conf/NAME, when the setting is given. */
static int
put_conf(struct backup_writer *w, const char *name, const char *path,
    struct sira_err *err)
{
	char n[64];

	if (path[0] == '\0')
		return 0;
	(void)snprintf(n, sizeof(n), "conf/%s", name);
	return backup_put_file(w, n, path, err);
}

static int
put_confs(struct backup_writer *w, const struct bargs *a, struct sira_err *err)
{
	const struct broker_config *c = &a->cfg;
	int rc;

	if ((rc = backup_put_dir(w, "conf", err)) != 0 ||
	    (rc = put_conf(w, "broker.conf", a->config, err)) != 0 ||
	    (rc = put_conf(w, "ca.cert", c->ca, err)) != 0 ||
	    (rc = put_conf(w, "broker.cert", c->cert, err)) != 0 ||
	    (rc = put_conf(w, "broker.key", c->key, err)) != 0 ||
	    (rc = put_conf(w, "crl", c->crl, err)) != 0 ||
	    (rc = put_conf(w, "policy", c->policy, err)) != 0)
		return rc;
	if (c->certs[0] == '\0')
		return 0;
	if ((rc = backup_put_dir(w, "conf/certs", err)) != 0)
		return rc;
	return backup_put_tree(w, "conf/certs", c->certs, NULL, err);
}

static int
write_archive(const struct bargs *a, const struct backup_target *t,
    const char *snap, struct sira_err *err)
{
	struct backup_writer *w = NULL;
	int rc;

	if ((rc = backup_create(t, &w, err)) != 0)
		return rc;
	if ((rc = backup_put_file(w, "data.mdb", snap, err)) != 0 ||
	    (rc = backup_put_tree(w, "", a->cfg.data, skip_rel, err)) != 0 ||
	    (rc = put_confs(w, a, err)) != 0) {
		backup_discard(&w);
		return rc;
	}
	return backup_finish(&w, err);
}

static int
do_backup(const struct bargs *a, struct sira_err *err)
{
	struct passphrase p = { NULL, 0 };
	char dir[PATH_MAX], snap[PATH_MAX];
	struct backup_cost cost;
	int rc;

	if (a->out == NULL || a->file != NULL)
		return sira_err_set(err, SIRA_EINVAL,
		    "backup needs --out FILE (see sira-broker backup --help)");
	if (snprintf(dir, sizeof(dir), "%s/.backup-XXXXXX", a->cfg.data) >=
	    PATH_MAX - 16)
		return sira_err_set(err, SIRA_EINVAL, "path too long");
	if ((rc = get_pass(a->pass_file, true, &p, err)) != 0)
		return rc;
	if (mkdtemp(dir) == NULL) {
		passphrase_free(&p);
		return sira_err_set(
		    err, SIRA_EIO, "%s: cannot make a private directory", dir);
	}
	memcpy(snap, dir, sizeof(dir));
	memcpy(snap + strlen(dir), "/data.mdb", sizeof("/data.mdb"));
	backup_cost_moderate(&cost);
	if ((rc = snapshot(a->cfg.data, dir, err)) == 0)
		rc = write_archive(a,
		    &(struct backup_target){
			a->out, BACKUP_BROKER, p.p, p.len, &cost },
		    snap, err);
	passphrase_free(&p);
	(void)unlink(snap);
	(void)rmdir(dir);
	if (rc == 0)
		(void)printf(
		    "broker data %s backed up to %s\n", a->cfg.data, a->out);
	return rc;
}

static int
do_restore(const struct bargs *a, struct sira_err *err)
{
	struct passphrase p = { NULL, 0 };
	int rc;

	if (a->file == NULL)
		return sira_err_set(err, SIRA_EINVAL,
		    "restore needs FILE (see sira-broker restore --help)");
	if ((rc = get_pass(a->pass_file, false, &p, err)) != 0)
		return rc;
	rc = backup_unpack(
	    &(struct backup_source){ a->file, BACKUP_BROKER, p.p, p.len },
	    a->cfg.data, a->force, err);
	passphrase_free(&p);
	if (rc != 0 && rc != -SIRA_EINVAL && rc != -SIRA_EPERM_MODE) {
		char why[SIRA_ERR_MSG_MAX];
		(void)snprintf(why, sizeof(why), "%s", err->msg);
		return sira_err_set(err, rc, "%s; nothing was restored", why);
	}
	if (rc == 0)
		(void)printf("broker data restored in %s; its configuration "
			     "files are in %s/conf\n",
		    a->cfg.data, a->cfg.data);
	return rc;
}

int
broker_backup_main(const char *cmd, int argc, char **argv, struct sira_err *err)
{
	struct bargs *a;
	int rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if ((rc = parse_args(argc, argv, a, err)) == 0)
		rc = strcmp(cmd, "backup") == 0 ? do_backup(a, err) :
						  do_restore(a, err);
	free(a);
	return rc;
}
