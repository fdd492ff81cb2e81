/*
 * blob_store.c: the blob directory, its files and each agency's quota
 * usage; reading a complete blob (see blobs.h and docs/PROTOCOL.md 9.4).
 *
 * In DATA/blobs (0700), every file 0600 and opened with O_NOFOLLOW relative
 * to one directory descriptor:
 *   <hex>        a complete blob, renamed from its .part once its SHA-256
 *                matched; chmod 0400 once a sweep has seen an envelope
 *                reference it, so that the next sweep after the last
 *                reference is gone deletes it at once
 *   <hex>.part   an upload in progress; its size is the resume offset
 *   <hex>.owner  the uploading agency, written (and fsync'd) before the
 *                .part is created, kept as long as the blob
 * Nothing else is stored: usage per agency is counted from these files at
 * open and kept in memory. Uploads are blob_upload.c, references and the
 * sweep blob_refs.c, the chunk frames blob_serve.c. The broker never looks
 * inside a blob and never logs its bytes: only ids, agencies and sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "blob_store.h"
#include "blobs.h"
#include "cert.h"
#include "fileio.h"

static const char *const suffix[BLOB_KINDS] = { "", ".part", ".owner" };

void
blob_store_name(char out[static BLOB_NAME_LEN],
    const uint8_t id[static BLOBS_ID_LEN], enum blob_kind k)
{
	(void)sodium_bin2hex(out, BLOB_HEX_LEN + 1, id, BLOBS_ID_LEN);
	memcpy(out + BLOB_HEX_LEN, suffix[k], strlen(suffix[k]) + 1);
}

/* Is name one of ours? Only the exact lower-case names of blob_store_name. */
int
blob_store_parse_name(
    const char *name, uint8_t id[static BLOBS_ID_LEN], enum blob_kind *k)
{
	char again[BLOB_NAME_LEN];
	size_t len = strnlen(name, BLOB_NAME_LEN), bin_len = 0;
	int i;

	if (len < BLOB_HEX_LEN || len >= BLOB_NAME_LEN)
		return -1;
	for (i = 0; i < BLOB_KINDS; i++)
		if (strcmp(name + BLOB_HEX_LEN, suffix[i]) == 0)
			break;
	if (i == BLOB_KINDS ||
	    sodium_hex2bin(id, BLOBS_ID_LEN, name, BLOB_HEX_LEN, NULL, &bin_len,
		NULL) != 0 ||
	    bin_len != BLOBS_ID_LEN)
		return -1;
	*k = (enum blob_kind)i;
	blob_store_name(again, id, *k);
	return strcmp(again, name) == 0 ? 0 : -1;
}

/* 0 and *sb if name is a regular file, 1 if absent, or -SIRA_EIO. */
int
blob_store_stat(const struct blobs *bs, const char *name, struct stat *sb,
    struct sira_err *err)
{
	if (fstatat(bs->dirfd, name, sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 1;
		return sira_err_set(
		    err, SIRA_EIO, "blob %.16s: %s", name, strerror(errno));
	}
	if (!S_ISREG(sb->st_mode))
		return sira_err_set(
		    err, SIRA_EIO, "blob %.16s is not a regular file", name);
	return 0;
}

bool
blob_store_exists(const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    enum blob_kind k)
{
	char name[BLOB_NAME_LEN];
	struct stat sb;

	blob_store_name(name, id, k);
	return blob_store_stat(bs, name, &sb, NULL) == 0;
}

int
blob_store_sync(const struct blobs *bs, struct sira_err *err)
{
	if (fsync(bs->dirfd) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	return 0;
}

/* The uploader of id into owner. Returns 0, -SIRA_ENOTFOUND or another
 * negative code (unreadable or not an agency id). */
int
blob_store_owner(const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    char owner[static SIRA_AGENCY_ID_MAX + 1])
{
	char name[BLOB_NAME_LEN];
	struct stat sb;
	ssize_t n = -1;
	int fd;

	owner[0] = '\0';
	blob_store_name(name, id, BLOB_OWNER);
	if ((fd = openat(bs->dirfd, name,
		 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno == ENOENT ? -SIRA_ENOTFOUND : -SIRA_EIO;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		n = fileio_read_full(
		    fd, (uint8_t *)owner, SIRA_AGENCY_ID_MAX + 1);
	(void)close(fd);
	if (n < 0 || n > SIRA_AGENCY_ID_MAX)
		return -SIRA_EMALFORMED;
	owner[n] = '\0';
	if (!cert_agency_id_valid(owner)) {
		owner[0] = '\0';
		return -SIRA_EMALFORMED;
	}
	return 0;
}

struct usage *
blob_store_usage(struct blobs *bs, const char *agency, bool create)
{
	struct usage *grown;

	for (size_t i = 0; i < bs->n_use; i++)
		if (strcmp(bs->use[i].agency, agency) == 0)
			return &bs->use[i];
	if (!create || strlen(agency) > SIRA_AGENCY_ID_MAX)
		return NULL;
	if (bs->n_use == bs->cap_use) {
		size_t cap = bs->cap_use ? 2 * bs->cap_use : 16;
		if ((grown = realloc(bs->use, cap * sizeof(*grown))) == NULL)
			return NULL;
		bs->use = grown;
		bs->cap_use = cap;
	}
	memset(&bs->use[bs->n_use], 0, sizeof(bs->use[0]));
	memcpy(bs->use[bs->n_use].agency, agency, strlen(agency) + 1);
	return &bs->use[bs->n_use++];
}

static void
usage_sub(struct blobs *bs, const char *agency, uint64_t n)
{
	struct usage *u = blob_store_usage(bs, agency, false);

	if (u != NULL)
		u->bytes = u->bytes > n ? u->bytes - n : 0;
}

uint64_t
blobs_usage(const struct blobs *bs, const char *agency)
{
	for (size_t i = 0; i < bs->n_use; i++)
		if (strcmp(bs->use[i].agency, agency) == 0)
			return bs->use[i].bytes;
	return 0;
}

/* Delete file k of id, a blob or an upload of size bytes charged to its
 * owner, and (with_owner) its owner file. Returns 0 or -SIRA_EIO. */
int
blob_store_drop(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    enum blob_kind k, uint64_t size, bool with_owner)
{
	char name[BLOB_NAME_LEN], owner[SIRA_AGENCY_ID_MAX + 1];

	if (blob_store_owner(bs, id, owner) == 0)
		usage_sub(bs, owner, size);
	blob_store_name(name, id, k);
	if (unlinkat(bs->dirfd, name, 0) == -1 && errno != ENOENT)
		return -SIRA_EIO;
	blob_store_name(name, id, BLOB_OWNER);
	if (with_owner && unlinkat(bs->dirfd, name, 0) == -1 && errno != ENOENT)
		return -SIRA_EIO;
	return 0;
}

/* A DIR stream over the blob directory (its own descriptor). */
DIR *
blob_store_dir(const struct blobs *bs)
{
	int fd = openat(bs->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		(void)close(fd);
	return d;
}

static int
count_usage(struct blobs *bs, struct sira_err *err)
{
	char owner[SIRA_AGENCY_ID_MAX + 1];
	uint8_t id[BLOBS_ID_LEN];
	const struct dirent *de;
	struct usage *u;
	struct stat sb;
	enum blob_kind k;
	DIR *d;
	int rc = 0;

	if ((d = blob_store_dir(bs)) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (blob_store_parse_name(de->d_name, id, &k) != 0 ||
		    k == BLOB_OWNER ||
		    blob_store_stat(bs, de->d_name, &sb, NULL) != 0 ||
		    blob_store_owner(bs, id, owner) != 0)
			continue;
		if ((u = blob_store_usage(bs, owner, true)) == NULL)
			rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		else
			u->bytes += (uint64_t)sb.st_size;
	}
	(void)closedir(d);
	return rc;
}

int
blobs_open(const char *data_dir, const struct blobs_limits *lim,
    struct blobs **out, struct sira_err *err)
{
	char path[PATH_MAX];
	struct blobs *bs;
	int rc;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/blobs", data_dir) >=
	    (int)sizeof(path))
		return sira_err_set(err, SIRA_EINVAL, "data path too long");
	if ((rc = fileio_mkdir(path, 0700, err)) != 0)
		return rc;
	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	bs->lim = *lim;
	if ((bs->dirfd = open(path,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		free(bs);
		return sira_err_set(
		    err, SIRA_EIO, "%s: %s", path, strerror(errno));
	}
	if ((rc = count_usage(bs, err)) != 0) {
		blobs_close(&bs);
		return rc;
	}
	*out = bs;
	return 0;
}

void
blobs_close(struct blobs **bp)
{
	if (bp == NULL || *bp == NULL)
		return;
	(void)close((*bp)->dirfd);
	free((*bp)->use);
	free(*bp);
	*bp = NULL;
}

/* ---- download ---- */

int
blobs_read(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    uint64_t offset, struct blobs_buf *buf, uint64_t *total,
    struct sira_err *err)
{
	char name[BLOB_NAME_LEN];
	struct stat sb;
	ssize_t r;
	size_t want;
	int fd;

	buf->n = 0;
	*total = 0;
	blob_store_name(name, id, BLOB_FINAL);
	if ((fd = openat(bs->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return errno == ENOENT ?
		    sira_err_set(err, SIRA_ENOTFOUND,
			"this blob is not (or no longer) complete here") :
		    sira_err_set(err, SIRA_EIO, "blob: %s", strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return sira_err_set(err, SIRA_EIO, "blob: not a regular file");
	}
	*total = (uint64_t)sb.st_size;
	if (offset > *total) {
		(void)close(fd);
		return sira_err_set(err, SIRA_EINVAL,
		    "offset %llu is past the blob's %llu bytes",
		    (unsigned long long)offset, (unsigned long long)*total);
	}
	want =
	    *total - offset < buf->cap ? (size_t)(*total - offset) : buf->cap;
	while (buf->n < want) {
		r = pread(fd, buf->p + buf->n, want - buf->n,
		    (off_t)(offset + buf->n));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf->n += (size_t)r;
	}
	(void)close(fd);
	if (buf->n != want)
		return sira_err_set(err, SIRA_EIO, "blob: short read");
	return 0;
}
