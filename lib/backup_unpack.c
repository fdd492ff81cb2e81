/*
 * backup_unpack.c: restoring a backup archive into a directory, all or
 * nothing (backup.h). Everything is written into a fresh private
 * directory beside the destination (DEST.restore-XXXXXX, 0700), each file
 * created exclusively (O_EXCL|O_NOFOLLOW, 0600), written, fsync'd; only
 * when the whole archive opened, authenticated and parsed is that
 * directory renamed to DEST. A wrong passphrase, a changed byte or a cut
 * archive leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "fileio.h"

struct unpack {
	int dirfd; /* the temporary directory */
	int fd;    /* the file being written, or -1 */
	char name[BACKUP_NAME_MAX + 1];
};

/* Remove dir and everything under it (a directory we made; its depth is
 * bounded by the archive's names, at most BACKUP_NAME_MAX bytes). */
static void
rmtree(const char *dir) // NOLINT(misc-no-recursion)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			PATH_MAX)
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rmtree(path);
		else
			(void)unlink(path);
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

static int
io_fail(const char *what, struct sira_err *err)
{
	return sira_err_set(err, SIRA_EIO, "%s: %s", what, strerror(errno));
}

static int
on_begin(
    void *ctx, int type, const char *name, uint64_t size, struct sira_err *err)
{
	struct unpack *u = ctx;

	(void)size;
	(void)snprintf(u->name, sizeof(u->name), "%s", name);
	if (type == BACKUP_REC_DIR) {
		if (mkdirat(u->dirfd, name, 0700) != 0)
			return errno == EEXIST ?
			    sira_err_set(err, SIRA_EMALFORMED,
				"backup: %s twice in the archive", name) :
			    io_fail(name, err);
		return 0;
	}
	u->fd = openat(u->dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (u->fd < 0)
		return errno == EEXIST || errno == ENOENT ?
		    sira_err_set(err, SIRA_EMALFORMED,
			"backup: %s is out of place in the archive", name) :
		    io_fail(name, err);
	return 0;
}

static int
on_data(void *ctx, const uint8_t *p, size_t n, struct sira_err *err)
{
	struct unpack *u = ctx;

	if (fileio_write_all(u->fd, p, n) != 0)
		return errno == ENOSPC ?
		    sira_err_set(err, SIRA_EQUOTA,
			"the disk is full: free space and restore again") :
		    io_fail(u->name, err);
	return 0;
}

/* fsync the directory holding name (inside the temporary one). */
static int
sync_parent(const struct unpack *u, struct sira_err *err)
{
	char dir[BACKUP_NAME_MAX + 1];
	char *slash;
	int fd, rc;

	(void)snprintf(dir, sizeof(dir), "%s", u->name);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0; /* the top directory is synced at the end */
	*slash = '\0';
	if ((fd = openat(u->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0)
		return io_fail(dir, err);
	rc = fsync(fd);
	(void)close(fd);
	return rc == 0 ? 0 : io_fail(dir, err);
}

static int
on_end(void *ctx, struct sira_err *err)
{
	struct unpack *u = ctx;
	int rc = 0;

	if (u->fd >= 0) {
		if (fsync(u->fd) != 0)
			rc = io_fail(u->name, err);
		if (close(u->fd) != 0 && rc == 0)
			rc = io_fail(u->name, err);
		u->fd = -1;
	}
	return rc == 0 ? sync_parent(u, err) : rc;
}

/* Is dest absent (0), an empty directory (1), or something else (2)? */
static int
dest_state(const char *dest)
{
	struct dirent *de;
	DIR *d;
	int state = 1;

	if ((d = opendir(dest)) == NULL)
		return errno == ENOENT ? 0 : 2;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			state = 2;
	(void)closedir(d);
	return state;
}

static int
fsync_path(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

static void
parent_of(const char *path, char out[PATH_MAX])
{
	char *slash;

	(void)snprintf(out, PATH_MAX, "%s", path);
	if ((slash = strrchr(out, '/')) == NULL)
		(void)snprintf(out, PATH_MAX, ".");
	else if (slash == out)
		slash[1] = '\0';
	else
		*slash = '\0';
}

/* The unpacked tmp becomes dest (an existing one moved aside first). */
static int
put_in_place(
    const char *tmp, const char *dest, bool force, struct sira_err *err)
{
	char aside[PATH_MAX], parent[PATH_MAX];
	int state = dest_state(dest);

	if (state == 2 && !force)
		return sira_err_set(err, SIRA_EEXIST,
		    "%s is not empty: give --force to move it aside", dest);
	if (state == 1 && rmdir(dest) != 0)
		return io_fail(dest, err);
	if (state == 2) {
		if (snprintf(aside, sizeof(aside), "%s.before-restore-%lld",
			dest, (long long)time(NULL)) >= PATH_MAX)
			return sira_err_set(err, SIRA_EINVAL, "path too long");
		if (rename(dest, aside) != 0)
			return io_fail(dest, err);
	}
	if (rename(tmp, dest) != 0)
		return io_fail(dest, err);
	parent_of(dest, parent);
	if (fsync_path(parent) != 0)
		return io_fail(parent, err);
	return 0;
}

int
backup_unpack(const struct backup_source *src, const char *dest, bool force,
    struct sira_err *err)
{
	char tmp[PATH_MAX];
	struct unpack u = { -1, -1, "" };
	struct backup_sink s = { &u, on_begin, on_data, on_end };
	int rc;

	if (dest_state(dest) == 2 && !force)
		return sira_err_set(err, SIRA_EEXIST,
		    "%s is not empty: give --force to move it aside", dest);
	if (snprintf(tmp, sizeof(tmp), "%s.restore-XXXXXX", dest) >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, "path too long");
	if (mkdtemp(tmp) == NULL)
		return io_fail(tmp, err);
	if ((u.dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = io_fail(tmp, err);
		rmtree(tmp);
		return rc;
	}
	rc = backup_read(src, &s, err);
	if (u.fd >= 0)
		(void)close(u.fd);
	if (rc == 0 && fsync(u.dirfd) != 0)
		rc = io_fail(tmp, err);
	(void)close(u.dirfd);
	if (rc == 0)
		rc = put_in_place(tmp, dest, force, err);
	if (rc != 0)
		rmtree(tmp);
	return rc;
}
