/*
 * home_backup.c: an agency home into a backup archive and back
 * (lib/backup.h; docs/OPERATIONS.md, "Sauvegarde et restauration").
 *
 * The vault is copied by LMDB itself (mdb_env_copy2, no compaction) from
 * a read transaction of its own environment opened read-only: LMDB gives
 * that transaction a consistent snapshot while the daemon goes on
 * writing, so the daemon never stops. The copy goes to a private
 * directory inside the home (HOME/.backup-XXXXXX, 0700), is streamed into
 * the archive as vault/data.mdb and removed. Every other file of the home
 * follows as it is on disk: configuration, certificates, the CA's, the
 * revocation list, the key file (still under its own passphrase if it has
 * one), queued, incoming and received documents. Left out: what the
 * daemon remakes (status.json, web.port, the nudge socket, tmp/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "backup.h"
#include "passphrase.h"
#include "fileio.h"
#include "store/store.h"
#include "i18n/i18n.h"

static bool
skip_rel(const char *rel)
{
	static const char *const out[] = { "vault", "status.json", "web.port",
		"nudge", "tmp" };

	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		if (strcmp(rel, out[i]) == 0)
			return true;
	return strncmp(rel, ".backup-", 8) == 0 ||
	    strstr(rel, ".restore-") != NULL;
}

/* The vault's snapshot into dir/data.mdb. */
static int
snapshot(const struct home *h, const char *dir, struct sira_err *err)
{
	char vault[PATH_MAX];
	MDB_env *env = NULL;
	int rc;

	if ((rc = home_path(h, "vault", vault, err)) != 0)
		return rc;
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, VT_COUNT + 1)) != 0 ||
	    (rc = mdb_env_open(env, vault, MDB_RDONLY, 0600)) != 0 ||
	    (rc = mdb_env_copy2(env, dir, 0)) != 0) {
		if (env != NULL)
			mdb_env_close(env);
		return sira_err_set(err, SIRA_EIO, _("copying the vault %s: %s"),
		    vault, mdb_strerror(rc));
	}
	mdb_env_close(env);
	return 0;
}

static int
write_archive(const struct home *h, const struct backup_target *t,
    const char *snap, struct sira_err *err)
{
	struct backup_writer *w = NULL;
	int rc;

	if ((rc = backup_create(t, &w, err)) != 0)
		return rc;
	if ((rc = backup_put_dir(w, "vault", err)) != 0 ||
	    (rc = backup_put_file(w, "vault/data.mdb", snap, err)) != 0 ||
	    (rc = backup_put_tree(w, "", h->dir, skip_rel, err)) != 0) {
		backup_discard(&w);
		return rc;
	}
	return backup_finish(&w, err);
}

int
home_backup(const struct home *h, const char *out, const struct passphrase *pass,
    struct sira_err *err)
{
	char dir[PATH_MAX], snap[PATH_MAX], conf[PATH_MAX];
	struct backup_cost cost;
	int rc;

	if ((rc = home_path(h, "agent.conf", conf, err)) != 0)
		return rc;
	if (access(conf, R_OK) != 0)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("%s is not an agency home (run sira-agent init)"), h->dir);
	if ((rc = home_path(h, ".backup-XXXXXX", dir, err)) != 0)
		return rc;
	if (mkdtemp(dir) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, _("%s: cannot make a private directory"), dir);
	if (snprintf(snap, sizeof(snap), "%s/data.mdb", dir) >= PATH_MAX) {
		(void)rmdir(dir);
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	}
	backup_cost_moderate(&cost);
	rc = snapshot(h, dir, err);
	if (rc == 0)
		rc = write_archive(h,
		    &(struct backup_target){
			out, BACKUP_AGENT, pass->p, pass->len, &cost },
		    snap, err);
	(void)unlink(snap);
	(void)rmdir(dir);
	return rc;
}

int
home_restore(const char *archive, const char *dest,
    const struct passphrase *pass, bool force, struct sira_err *err)
{
	char conf[PATH_MAX];
	int rc;

	if ((rc = backup_unpack(
		 &(struct backup_source){
		     archive, BACKUP_AGENT, pass->p, pass->len },
		 dest, force, err)) != 0)
		return rc;
	if (snprintf(conf, sizeof(conf), "%s/agent.conf", dest) >= PATH_MAX ||
	    access(conf, R_OK) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("the archive holds no agency home"));
	return 0;
}
