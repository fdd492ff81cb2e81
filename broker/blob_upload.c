/*
 * blob_upload.c: resumable uploads of attachment blobs (blobs_put,
 * blobs_stat; see blobs.h).
 *
 * An upload is DATA/blobs/<hex>.part, written after its .owner file.
 * Appends land at exactly its current size, each one fsync'd before it is
 * reported; a failed write is cut back, so the file stays a clean prefix.
 * The last chunk hashes the whole upload once (about 1 s per GiB, in the
 * router's thread) and renames it to <hex> only if its SHA-256 is the id.
 * Quota: an agency's bytes (blob_store.c) never pass lim.quota.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_store.h"
#include "blobs.h"
#include "crashpoint.h"
#include "digest.h"
#include "fileio.h"

#define HASH_BUF (64u << 10)

/*
 * What is stored of id, and whether an upload by agency may continue:
 * *exists says a .part is there. -SIRA_EDENIED for another's upload.
 */
static int
upload_state(const struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct blobs_state *state,
    bool *exists, struct sira_err *err)
{
	char name[BLOB_NAME_LEN], owner[SIRA_AGENCY_ID_MAX + 1];
	struct stat sb;
	int rc;

	*state = (struct blobs_state){ 0, false };
	*exists = false;
	blob_store_name(name, id, BLOB_FINAL);
	if ((rc = blob_store_stat(bs, name, &sb, err)) <= 0) {
		if (rc == 0)
			*state =
			    (struct blobs_state){ (uint64_t)sb.st_size, true };
		return rc;
	}
	blob_store_name(name, id, BLOB_PART);
	if ((rc = blob_store_stat(bs, name, &sb, err)) != 0)
		return rc > 0 ? 0 : rc;
	if (blob_store_owner(bs, id, owner) != 0 || strcmp(owner, agency) != 0)
		return sira_err_set(
		    err, SIRA_EDENIED, "another agency is uploading this blob");
	*exists = true;
	state->stored = (uint64_t)sb.st_size;
	return 0;
}

int
blobs_stat(struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct blobs_state *state,
    struct sira_err *err)
{
	bool exists;

	return upload_state(bs, agency, id, state, &exists, err);
}

/* Record agency as the uploader of id and create its empty .part. */
static int
start_upload(struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct sira_err *err)
{
	char name[BLOB_NAME_LEN];
	int fd, rc = 0;

	blob_store_name(name, id, BLOB_OWNER);
	/* O_TRUNC: an owner file without its .part is a crash's leftover. */
	if ((fd = openat(bs->dirfd, name,
		 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		 0600)) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "blob owner: %s", strerror(errno));
	if (fchmod(fd, 0600) == -1 ||
	    fileio_write_all(fd, (const uint8_t *)agency, strlen(agency)) !=
		0 ||
	    fsync(fd) == -1)
		rc = sira_err_set(
		    err, SIRA_EIO, "blob owner: %s", strerror(errno));
	(void)close(fd);
	if (rc != 0)
		return rc;
	blob_store_name(name, id, BLOB_PART);
	if ((fd = openat(bs->dirfd, name,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) ==
	    -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	/* Exactly 0600 whatever the umask: the sweep reads 0400 as "seen
	 * referenced", so a new upload must never start without S_IWUSR. */
	rc = fchmod(fd, 0600);
	(void)close(fd);
	if (rc == -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	return blob_store_sync(bs, err);
}

/* Append p[0..len) to the .part of id, which holds size bytes, and fsync.
 * A failed write is cut back to size, so the file stays a clean prefix. */
static int
append(const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    uint64_t size, const uint8_t *p, size_t len, struct sira_err *err)
{
	char name[BLOB_NAME_LEN];
	struct stat sb;
	int fd, e;

	blob_store_name(name, id, BLOB_PART);
	if ((fd = openat(bs->dirfd, name,
		 O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != size) {
		(void)close(fd);
		return sira_err_set(
		    err, SIRA_EIO, "upload %.16s changed underneath", name);
	}
	if (fileio_write_all(fd, p, len) != 0 || fsync(fd) == -1) {
		e = errno;
		/* If even this fails, the next append's size check stops. */
		if (ftruncate(fd, (off_t)size) == 0)
			(void)fsync(fd);
		(void)close(fd);
		return sira_err_set(err, SIRA_EIO, "upload: %s",
		    e == ENOSPC ? "broker disk full" : strerror(e));
	}
	if (close(fd) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	crashpoint("broker.blob.appended"); /* a document half uploaded */
	return 0;
}

static int
hash_file(const struct blobs *bs, const char *name,
    uint8_t out[static SIRA_HASH_LEN], struct sira_err *err)
{
	struct digest_stream ds;
	uint8_t *buf;
	ssize_t n;
	int fd;

	if ((buf = malloc(HASH_BUF)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if ((fd = openat(bs->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		free(buf);
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	}
	digest_stream_init(&ds);
	while ((n = fileio_read_full(fd, buf, HASH_BUF)) > 0)
		digest_stream_update(&ds, buf, (size_t)n);
	digest_stream_final(&ds, out);
	(void)close(fd);
	free(buf);
	if (n < 0)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	return 0;
}

/* The upload of id is size bytes long: keep it only if it hashes to id. */
static int
finish(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN], uint64_t size,
    struct blobs_state *state, struct sira_err *err)
{
	char part[BLOB_NAME_LEN], final[BLOB_NAME_LEN];
	uint8_t h[SIRA_HASH_LEN];
	int rc;

	blob_store_name(part, id, BLOB_PART);
	blob_store_name(final, id, BLOB_FINAL);
	if ((rc = hash_file(bs, part, h, err)) != 0)
		return rc;
	if (memcmp(h, id, BLOBS_ID_LEN) != 0) {
		(void)blob_store_drop(bs, id, BLOB_PART, size, true);
		*state = (struct blobs_state){ 0, false };
		return sira_err_set(err, SIRA_EAUTH,
		    "the upload does not hash to its blob id; deleted, start again at 0");
	}
	if (renameat(bs->dirfd, part, bs->dirfd, final) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	if ((rc = blob_store_sync(bs, err)) != 0)
		return rc;
	*state = (struct blobs_state){ size, true };
	return 0;
}

int
blobs_put(struct blobs *bs, const char *agency, const struct blobs_chunk *c,
    struct blobs_state *state, struct sira_err *err)
{
	const uint8_t *id = c->id;
	uint64_t offset = c->offset;
	size_t len = c->ct.len;
	bool last = c->last;
	uint64_t size, end, add;
	struct usage *u;
	bool exists;
	int rc;

	*state = (struct blobs_state){ 0, false };
	if (len > BLOBS_CHUNK_MAX)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "a chunk holds at most %u bytes", BLOBS_CHUNK_MAX);
	if ((rc = upload_state(bs, agency, id, state, &exists, err)) != 0 ||
	    state->complete)
		return rc; /* complete: a retransmission, nothing to do */
	size = state->stored;
	if (offset > size)
		return sira_err_set(err, SIRA_ESTATE,
		    "offset %llu is past the %llu bytes stored; resume there",
		    (unsigned long long)offset, (unsigned long long)size);
	end = offset + len; /* no overflow: offset <= size <= max_blob */
	if (end > bs->lim.max_blob)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "a blob holds at most %llu bytes",
		    (unsigned long long)bs->lim.max_blob);
	add = end > size ? end - size : 0;
	if ((u = blob_store_usage(bs, agency, true)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (add > 0 && u->bytes + add > bs->lim.quota)
		return sira_err_set(err, SIRA_EQUOTA,
		    "%s holds %llu bytes of attachments, the most allowed",
		    agency, (unsigned long long)u->bytes);
	if (!exists && (add > 0 || last) &&
	    (rc = start_upload(bs, agency, id, err)) != 0)
		return rc;
	if (add > 0) {
		if ((rc = append(bs, id, size, c->ct.p + (size - offset),
			 (size_t)add, err)) != 0)
			return rc;
		u->bytes += add;
		state->stored = size = end;
	}
	if (!last)
		return 0;
	if (end != size)
		return sira_err_set(err, SIRA_ESTATE,
		    "the last chunk ends at %llu but %llu bytes are stored",
		    (unsigned long long)end, (unsigned long long)size);
	return finish(bs, id, size, state, err);
}
