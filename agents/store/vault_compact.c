/*
 * vault_compact.c: rewriting the vault's data file without its free pages
 * (store.h). An erasure deletes rows; LMDB keeps the pages they were in
 * as free pages of the same file, still holding the sealed bytes. Here the
 * live pages alone are copied (mdb_env_copy2 with MDB_CP_COMPACT) into
 * dir/compact.tmp/data.mdb, which is fsync'd and renamed over
 * dir/data.mdb, and the directory fsync'd: rename is atomic, so a power
 * cut at any instant leaves either the old file (the erasure committed,
 * the compaction still wanted) or the new one. Nobody else may have the
 * environment open while the file is swapped (their writes would go to
 * the old, unlinked file): every vault_open holds a shared flock on
 * dir/compact.lock and this file takes it exclusively without waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashpoint.h"
#include "store/store.h"
#include "store/vault_private.h"
#include "i18n.h"

#define WANT_NAME "compact.wanted"

int
vault_compact_want(struct vault_txn *t, struct sira_err *err)
{
	return vault_counter_put(t, WANT_NAME, 1, err);
}

bool
vault_compact_wanted(struct vault *v)
{
	struct vault_txn *t = NULL;
	uint64_t n = 0;

	if (vault_begin(v, false, &t, NULL) != 0)
		return false;
	(void)vault_counter_get(t, WANT_NAME, &n);
	vault_abort(&t);
	return n != 0;
}

static int
sys_error(const char *what, const char *path, struct sira_err *err)
{
	if (errno == ENOSPC || errno == EDQUOT)
		return sira_err_set(err, SIRA_EQUOTA,
		    _("the agent's storage is full (%s): free disk space"),
		    what);
	return sira_err_set(
	    err, SIRA_EIO, _("%s %s: %s"), what, path, strerror(errno));
}

static int
fsync_path(const char *path, int flags, struct sira_err *err)
{
	int fd, rc = 0;

	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		return sys_error("open", path, err);
	if (fsync(fd) == -1)
		rc = sys_error("fsync", path, err);
	(void)close(fd);
	return rc;
}

/* Make dir/compact.tmp/ empty; its path into tmp, the file's into file. */
static int
fresh_tmp(const struct vault *v, char tmp[PATH_MAX], char file[PATH_MAX],
    struct sira_err *err)
{
	if (snprintf(tmp, PATH_MAX, "%s/compact.tmp", v->dir) >= PATH_MAX ||
	    snprintf(file, PATH_MAX, "%s/data.mdb", tmp) >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	/* A copy left by a power cut: made after the erasure, but a copy. */
	if (unlink(file) == -1 && errno != ENOENT)
		return sys_error("unlink", file, err);
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return sys_error("mkdir", tmp, err);
	return 0;
}

/* Copy the live pages into tmp, durably. */
static int
copy_live(
    struct vault *v, const char *tmp, const char *file, struct sira_err *err)
{
	int rc;

	if ((rc = mdb_env_copy2(v->env, tmp, MDB_CP_COMPACT)) != 0)
		return vault_lmdb_error(rc, "compacting the vault", err);
	if (chmod(file, 0600) == -1)
		return sys_error("chmod", file, err);
	if ((rc = fsync_path(file, O_RDONLY, err)) != 0)
		return rc;
	crashpoint("vault.compact.copied");
	return 0;
}

/* Open the tables again in the fresh environment. */
static int
reopen(struct vault *v, struct sira_err *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = vault_env_open(v, err)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(v->env, NULL, 0, &txn)) != 0)
		return vault_lmdb_error(rc, "opening the vault", err);
	for (int i = 0; i < VT_COUNT && rc == 0; i++) {
		if (!v->have[i])
			continue;
		rc = mdb_dbi_open(txn, vault_table_names[i], 0, &v->dbi[i]);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return vault_lmdb_error(rc, "opening the vault", err);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return vault_lmdb_error(rc, "opening the vault", err);
	return 0;
}

/* Swap the copy in: close, rename, fsync the directory, reopen. */
static int
swap_in(
    struct vault *v, const char *tmp, const char *file, struct sira_err *err)
{
	char data[PATH_MAX];
	int rc;

	if (snprintf(data, sizeof(data), "%s/data.mdb", v->dir) >=
	    (int)sizeof(data))
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	mdb_env_close(v->env);
	v->env = NULL;
	if (rename(file, data) == -1)
		rc = sys_error("rename", file, err);
	else if ((rc = fsync_path(v->dir, O_RDONLY | O_DIRECTORY, err)) == 0)
		crashpoint("vault.compact.renamed");
	(void)rmdir(tmp);
	if (rc != 0) {
		/* The old file is still in place: open it again. */
		struct sira_err e2 = { 0 };
		(void)reopen(v, &e2);
		return rc;
	}
	return reopen(v, err);
}

static int
clear_want(struct vault *v, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	int rc;

	if ((rc = vault_begin(v, true, &t, err)) != 0)
		return rc;
	if (vault_del(t, VT_META, bytes_of(WANT_NAME, sizeof(WANT_NAME) - 1),
		NULL) == -SIRA_ENOTFOUND) {
		vault_abort(&t);
		return 0;
	}
	return vault_commit(&t, err);
}

int
vault_compact(struct vault *v, struct sira_err *err)
{
	char tmp[PATH_MAX], file[PATH_MAX];
	int rc;

	if (v->lockfd == -1 || v->env == NULL)
		return sira_err_set(err, SIRA_EINVAL, _("no vault"));
	if (flock(v->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return sira_err_set(err, SIRA_ESTATE,
			    _("another process has the vault open"));
		return sys_error("flock", v->dir, err);
	}
	if ((rc = fresh_tmp(v, tmp, file, err)) == 0 &&
	    (rc = copy_live(v, tmp, file, err)) == 0 &&
	    (rc = swap_in(v, tmp, file, err)) == 0)
		rc = clear_want(v, err);
	if (rc != 0 && v->env != NULL)
		(void)unlink(file);
	(void)flock(v->lockfd, LOCK_SH);
	return rc;
}
