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
 *
 * Resuming. The archive also holds a file "restored" (the time of the
 * backup), which a live home never has: it appears in a restored home
 * atomically with the rest, and the first `sira-agent run` after the
 * restore acts on it (home_resume) and removes it. What the lost copy
 * did after the backup is unknown here: every message the broker had
 * accepted but whose receipts had not come back is submitted again (its
 * sealed bytes are kept, so the broker recognises it and delivers it
 * once more; the recipient, who knows its id, stores nothing twice and
 * sends again the receipt it signed then). What reached the lost copy is
 * asked of every agency at the daemon's start (RESEND_PENDING,
 * workflow/resend.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "backup.h"
#include "be64.h"
#include "fileio.h"
#include "passphrase.h"
#include "store/store.h"
#include "i18n.h"

static bool
skip_rel(const char *rel)
{
	static const char *const out[] = { "vault", "status.json", "web.port",
		"nudge", "tmp", "restored" };

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
		return sira_err_set(err, SIRA_EIO,
		    _("copying the vault %s: %s"), vault, mdb_strerror(rc));
	}
	mdb_env_close(env);
	return 0;
}

static int
write_archive(const struct home *h, const struct backup_target *t,
    const char *snap, struct sira_err *err)
{
	struct backup_writer *w = NULL;
	char mark[PATH_MAX];
	uint8_t when[8];
	int rc;

	if (snprintf(mark, sizeof(mark), "%s.restored", snap) >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	be64_put(when, (uint64_t)time(NULL));
	if ((rc = fileio_write(mark, when, 8, 0600, true, err)) != 0)
		return rc;
	if ((rc = backup_create(t, &w, err)) != 0) {
		(void)unlink(mark);
		return rc;
	}
	rc = backup_put_file(w, "restored", mark, err);
	(void)unlink(mark);
	if (rc != 0 || (rc = backup_put_dir(w, "vault", err)) != 0 ||
	    (rc = backup_put_file(w, "vault/data.mdb", snap, err)) != 0 ||
	    (rc = backup_put_tree(w, "", h->dir, skip_rel, err)) != 0) {
		backup_discard(&w);
		return rc;
	}
	return backup_finish(&w, err);
}

int
home_backup(const struct home *h, const char *out,
    const struct passphrase *pass, struct sira_err *err)
{
	char dir[PATH_MAX], snap[PATH_MAX], conf[PATH_MAX];
	struct backup_cost cost;
	int rc;

	if ((rc = home_path(h, "agent.conf", conf, err)) != 0)
		return rc;
	if (access(conf, R_OK) != 0)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("%s is not an agency home (run sira-agent init)"),
		    h->dir);
	if ((rc = home_path(h, ".backup-XXXXXX", dir, err)) != 0)
		return rc;
	if (mkdtemp(dir) == NULL)
		return sira_err_set(err, SIRA_EIO,
		    _("%s: cannot make a private directory"), dir);
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

	if ((rc = backup_unpack(&(struct backup_source){ archive, BACKUP_AGENT,
				    pass->p, pass->len },
		 dest, force, err)) != 0)
		return rc;
	if (snprintf(conf, sizeof(conf), "%s/agent.conf", dest) >= PATH_MAX ||
	    access(conf, R_OK) != 0)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("the archive holds no agency home"));
	return 0;
}

/* --- resuming after a restore --- */

#define ACCEPTED SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED

struct idlist {
	uint8_t (*id)[16];
	size_t n, cap;
};

static int
collect_accepted(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct idlist *l = ctx;
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);
	bool take = e != NULL && e->state == ACCEPTED && klen == 16;

	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (!take)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint8_t(*grown)[16] = realloc(l->id, cap * sizeof(*l->id));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		l->id = grown;
		l->cap = cap;
	}
	memcpy(l->id[l->n++], key, 16);
	return 0;
}

/* The backup's time, as the archive's mark says (be64; now if not). */
static uint64_t
backup_time(const char *mark)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t at = 0;

	if (fileio_read(mark, 64, &buf, &len, NULL) == 0) {
		if (len == 8)
			at = be64_get(buf);
		free(buf);
	}
	return at != 0 ? at : (uint64_t)time(NULL);
}

int
home_resume(struct agent *a, uint64_t now, size_t *n, struct sira_err *err)
{
	struct idlist l = { NULL, 0, 0 };
	struct vault_txn *t = NULL;
	char mark[PATH_MAX];
	int rc;

	*n = 0;
	if ((rc = home_path(&a->home, "restored", mark, err)) != 0)
		return rc;
	if (access(mark, F_OK) != 0)
		return 0;
	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	rc = vault_each(t, VT_OUTBOX, collect_accepted, &l, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = book_resubmit(t, l.id[i], now, "restore", err);
	/* What came to the lost copy after the backup: asked again from
	 * every agency at the daemon's start (workflow/resend.c). */
	if (rc == 0)
		rc = vault_counter_put(
		    t, RESEND_PENDING, backup_time(mark), err);
	if (rc == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	free(l.id);
	if (rc != 0)
		return rc;
	*n = l.n;
	if (unlink(mark) != 0)
		return sira_err_set(err, SIRA_EIO,
		    _("%s: cannot remove it after resuming"), mark);
	return 0;
}
