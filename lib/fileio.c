/*
 * fileio.c: file reads and durable writes for certificates, keys and state.
 *
 * Files are opened with O_NOFOLLOW and O_CLOEXEC; temporary files are made
 * with mkstemp (O_EXCL, mode 0600) and given their final mode with fchmod
 * before any byte is written, so a secret is never readable by others, even
 * for an instant, and no process-wide umask is touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fileio.h"

static int read_file(const char *path, size_t max, bool secret, uint8_t **buf,
    size_t *len, struct sira_err *err);

int
fileio_read(const char *path, size_t max, uint8_t **buf, size_t *len,
    struct sira_err *err)
{
	return read_file(path, max, false, buf, len, err);
}

int
fileio_read_secret(const char *path, size_t max, uint8_t **buf, size_t *len,
    struct sira_err *err)
{
	return read_file(path, max, true, buf, len, err);
}

static int
read_file(const char *path, size_t max, bool secret, uint8_t **buf, size_t *len,
    struct sira_err *err)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) ==
	    -1) {
		if (errno == ENOENT)
			return sira_err_set(
			    err, SIRA_ENOTFOUND, "%s: no such file", path);
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rc =
		    sira_err_set(err, SIRA_EIO, "%s: not a regular file", path);
		goto out;
	}
	if (secret && (rc = fileio_check_private(fd, path, err)) != 0)
		goto out;
	if ((uint64_t)st.st_size > max) {
		rc = sira_err_set(err, SIRA_ETOOBIG,
		    "%s: file is larger than %zu bytes", path, max);
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	/* Read one byte more than the size to notice a file that grew. */
	while (got <= (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size + 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = sira_err_set(
			    err, SIRA_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > (size_t)st.st_size) {
		rc = sira_err_set(
		    err, SIRA_EIO, "%s: changed while reading", path);
		goto out;
	}
	*buf = p;
	*len = got;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}

int
fileio_check_private(int fd, const char *path, struct sira_err *err)
{
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return sira_err_set(
		    err, SIRA_EIO, "%s: not a regular file", path);
	if ((st.st_mode & 077) != 0)
		return sira_err_set(err, SIRA_EPERM_MODE,
		    "%s has mode %04o; secret files must be 0600 (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != geteuid())
		return sira_err_set(
		    err, SIRA_EPERM_MODE, "%s is owned by another user", path);
	return 0;
}

int
fileio_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (copy == NULL)
		return -1;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
fileio_write(const char *path, const uint8_t *buf, size_t len, mode_t mode,
    bool exclusive, struct sira_err *err)
{
	char tmp[4096];
	int fd, rc, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sira_err_set(err, SIRA_EIO, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
	if (fchmod(fd, mode) == -1 || fileio_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1) {
		rc = sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		rc = sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (exclusive) {
		/* link() fails if path exists: never overwrite a key. */
		if (link(tmp, path) == -1) {
			rc = errno == EEXIST ?
			    sira_err_set(err, SIRA_EEXIST,
				"%s already exists; not overwriting it", path) :
			    sira_err_set(
				err, SIRA_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		(void)unlink(tmp);
	} else if (rename(tmp, path) == -1) {
		rc = sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fsync_dir_of(path) == -1)
		return sira_err_set(err, SIRA_EIO, "%s: fsync of directory: %s",
		    path, strerror(errno));
	return 0;
fail:
	(void)unlink(tmp);
	return rc;
}

int
fileio_mkdir(const char *path, mode_t mode, struct sira_err *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return sira_err_set(err, SIRA_EIO, "%s: %s", path, strerror(errno));
}

ssize_t
fileio_read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

bool
fileio_fd_nearly_full(int fd)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv) != 0)
		return false;
	return (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}
