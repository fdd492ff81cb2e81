/*
 * docs_path.c: where documents live in the agency home (see documents.h), and
 * the small file-system steps the document modules share: making the
 * private directories, syncing a directory after a rename, removing a
 * message's directory. Directories are 0700; nothing here follows a
 * symlink it did not make.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "documents/documents.h"
#include "fileio.h"
#include "i18n.h"

static int
fmt(char out[PATH_MAX], struct sira_err *err, int n)
{
	(void)out;
	if (n < 0 || n >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	return 0;
}

int
docs_spool_dir(const struct home *h, const uint8_t local_id[16],
    char out[PATH_MAX], struct sira_err *err)
{
	char hex[33];

	(void)sodium_bin2hex(hex, sizeof(hex), local_id, 16);
	return fmt(
	    out, err, snprintf(out, PATH_MAX, "%s/spool/%s", h->dir, hex));
}

int
docs_spool_path(const struct home *h, const uint8_t local_id[16],
    uint32_t index, const char *ext, char out[PATH_MAX], struct sira_err *err)
{
	char hex[33];

	(void)sodium_bin2hex(hex, sizeof(hex), local_id, 16);
	return fmt(out, err,
	    snprintf(
		out, PATH_MAX, "%s/spool/%s/%u.%s", h->dir, hex, index, ext));
}

int
docs_incoming_path(const struct home *h, const uint8_t blob_id[32], bool done,
    char out[PATH_MAX], struct sira_err *err)
{
	char hex[65];

	(void)sodium_bin2hex(hex, sizeof(hex), blob_id, 32);
	return fmt(out, err,
	    snprintf(out, PATH_MAX, "%s/incoming/%s.%s", h->dir, hex,
		done ? "blob" : "part"));
}

int
docs_message_dir(const struct home *h, const uint8_t msgid[16], bool staging,
    char out[PATH_MAX], struct sira_err *err)
{
	char hex[33];

	(void)sodium_bin2hex(hex, sizeof(hex), msgid, 16);
	return fmt(out, err,
	    snprintf(out, PATH_MAX, "%s/documents/%s%s%s", h->dir,
		staging ? "." : "", hex, staging ? ".partial" : ""));
}

void
docs_rmtree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    PATH_MAX)
			(void)unlink(path);
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

int
docs_mkdirs(const struct home *h, const char *dir, struct sira_err *err)
{
	static const char *const parents[] = { "spool", "incoming",
		"documents" };
	char p[PATH_MAX];
	int rc;

	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++)
		if ((rc = home_path(h, parents[i], p, err)) != 0 ||
		    (rc = fileio_mkdir(p, 0700, err)) != 0)
			return rc;
	return dir != NULL ? fileio_mkdir(dir, 0700, err) : 0;
}

int
docs_sync_dir(const char *path, struct sira_err *err)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	(void)snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), dir, strerror(errno));
	(void)close(fd);
	return rc;
}
