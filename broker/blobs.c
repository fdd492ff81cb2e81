/*
 * blobs.c: attachment blobs on disk, the chunk frames that move them, and
 * their garbage collection (see blobs.h and docs/PROTOCOL.md 9.4).
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
 * open and kept in memory; references come from the spool (store.h layout:
 * DB_QUEUE agency NUL be64 seq, DB_ENVELOPES be64 seq -> SpoolEntry), read
 * without copying envelopes: only each header is unpacked.
 *
 * Costs: an append is one write and one fsync; finishing hashes the whole
 * upload once (about 1 s per GiB, in the router's thread); a download's
 * authorisation decodes the headers of the downloader's own queue until
 * one references the blob; a sweep decodes every spooled header and lists
 * the directory once. The broker never looks inside a blob and never logs
 * its bytes: only ids, agencies and sizes.
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

#include "crashpoint.h"
#include "blobs.h"
#include "cert.h"
#include "digest.h"
#include "envelope.h"
#include "fileio.h"
#include "frames.h"
#include "log.h"
#include "wire.h"

#define HEX_LEN ((size_t)2 * BLOBS_ID_LEN)
#define NAME_LEN (HEX_LEN + 8) /* hex, ".owner", NUL */
#define HASH_BUF (64u << 10)

enum kind { K_FINAL, K_PART, K_OWNER, K_COUNT };
static const char *const suffix[K_COUNT] = { "", ".part", ".owner" };

struct usage {
	char agency[SIRA_AGENCY_ID_MAX + 1];
	uint64_t bytes;
};

struct blobs {
	int dirfd;
	struct blobs_limits lim;
	struct usage *use;
	size_t n_use, cap_use;
};

/* ---- names, files, usage ---- */

static void
blob_name(char out[static NAME_LEN], const uint8_t id[static BLOBS_ID_LEN],
    enum kind k)
{
	(void)sodium_bin2hex(out, HEX_LEN + 1, id, BLOBS_ID_LEN);
	memcpy(out + HEX_LEN, suffix[k], strlen(suffix[k]) + 1);
}

/* Is name one of ours? Only the exact lower-case names blob_name makes. */
static int
parse_name(const char *name, uint8_t id[static BLOBS_ID_LEN], enum kind *k)
{
	char again[NAME_LEN];
	size_t len = strnlen(name, NAME_LEN), bin_len = 0;
	int i;

	if (len < HEX_LEN || len >= NAME_LEN)
		return -1;
	for (i = 0; i < K_COUNT; i++)
		if (strcmp(name + HEX_LEN, suffix[i]) == 0)
			break;
	if (i == K_COUNT ||
	    sodium_hex2bin(
		id, BLOBS_ID_LEN, name, HEX_LEN, NULL, &bin_len, NULL) != 0 ||
	    bin_len != BLOBS_ID_LEN)
		return -1;
	*k = (enum kind)i;
	blob_name(again, id, *k);
	return strcmp(again, name) == 0 ? 0 : -1;
}

/* 0 and *sb if name is a regular file, 1 if absent, or -SIRA_EIO. */
static int
stat_name(const struct blobs *bs, const char *name, struct stat *sb,
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

static int
sync_dir(const struct blobs *bs, struct sira_err *err)
{
	if (fsync(bs->dirfd) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	return 0;
}

/* The uploader of id into owner. Returns 0, -SIRA_ENOTFOUND or another
 * negative code (unreadable or not an agency id). */
static int
read_owner(const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    char owner[static SIRA_AGENCY_ID_MAX + 1])
{
	char name[NAME_LEN];
	struct stat sb;
	ssize_t n = -1;
	int fd;

	owner[0] = '\0';
	blob_name(name, id, K_OWNER);
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

static struct usage *
usage_get(struct blobs *bs, const char *agency, bool create)
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
	struct usage *u = usage_get(bs, agency, false);

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
static int
drop(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN], enum kind k,
    uint64_t size, bool with_owner)
{
	char name[NAME_LEN], owner[SIRA_AGENCY_ID_MAX + 1];

	if (read_owner(bs, id, owner) == 0)
		usage_sub(bs, owner, size);
	blob_name(name, id, k);
	if (unlinkat(bs->dirfd, name, 0) == -1 && errno != ENOENT)
		return -SIRA_EIO;
	blob_name(name, id, K_OWNER);
	if (with_owner && unlinkat(bs->dirfd, name, 0) == -1 && errno != ENOENT)
		return -SIRA_EIO;
	return 0;
}

/* A DIR stream over the blob directory (its own descriptor). */
static DIR *
dir_stream(const struct blobs *bs)
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
	enum kind k;
	DIR *d;
	int rc = 0;

	if ((d = dir_stream(bs)) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (parse_name(de->d_name, id, &k) != 0 || k == K_OWNER ||
		    stat_name(bs, de->d_name, &sb, NULL) != 0 ||
		    read_owner(bs, id, owner) != 0)
			continue;
		if ((u = usage_get(bs, owner, true)) == NULL)
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

/* ---- upload ---- */

/*
 * What is stored of id, and whether an upload by agency may continue:
 * *exists says a .part is there. -SIRA_EDENIED for another's upload.
 */
static int
upload_state(const struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct blobs_state *state,
    bool *exists, struct sira_err *err)
{
	char name[NAME_LEN], owner[SIRA_AGENCY_ID_MAX + 1];
	struct stat sb;
	int rc;

	*state = (struct blobs_state){ 0, false };
	*exists = false;
	blob_name(name, id, K_FINAL);
	if ((rc = stat_name(bs, name, &sb, err)) <= 0) {
		if (rc == 0)
			*state =
			    (struct blobs_state){ (uint64_t)sb.st_size, true };
		return rc;
	}
	blob_name(name, id, K_PART);
	if ((rc = stat_name(bs, name, &sb, err)) != 0)
		return rc > 0 ? 0 : rc;
	if (read_owner(bs, id, owner) != 0 || strcmp(owner, agency) != 0)
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
	char name[NAME_LEN];
	int fd, rc = 0;

	blob_name(name, id, K_OWNER);
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
	blob_name(name, id, K_PART);
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
	return sync_dir(bs, err);
}

/* Append p[0..len) to the .part of id, which holds size bytes, and fsync.
 * A failed write is cut back to size, so the file stays a clean prefix. */
static int
append(const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    uint64_t size, const uint8_t *p, size_t len, struct sira_err *err)
{
	char name[NAME_LEN];
	struct stat sb;
	int fd, e;

	blob_name(name, id, K_PART);
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
	char part[NAME_LEN], final[NAME_LEN];
	uint8_t h[SIRA_HASH_LEN];
	int rc;

	blob_name(part, id, K_PART);
	blob_name(final, id, K_FINAL);
	if ((rc = hash_file(bs, part, h, err)) != 0)
		return rc;
	if (memcmp(h, id, BLOBS_ID_LEN) != 0) {
		(void)drop(bs, id, K_PART, size, true);
		*state = (struct blobs_state){ 0, false };
		return sira_err_set(err, SIRA_EAUTH,
		    "the upload does not hash to its blob id; deleted, start again at 0");
	}
	if (renameat(bs->dirfd, part, bs->dirfd, final) == -1)
		return sira_err_set(
		    err, SIRA_EIO, "upload: %s", strerror(errno));
	if ((rc = sync_dir(bs, err)) != 0)
		return rc;
	*state = (struct blobs_state){ size, true };
	return 0;
}

int
blobs_put(struct blobs *bs, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], uint64_t offset, const uint8_t *ct,
    size_t len, bool last, struct blobs_state *state, struct sira_err *err)
{
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
	if ((u = usage_get(bs, agency, true)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (add > 0 && u->bytes + add > bs->lim.quota)
		return sira_err_set(err, SIRA_EQUOTA,
		    "%s holds %llu bytes of attachments, the most allowed",
		    agency, (unsigned long long)u->bytes);
	if (!exists && (add > 0 || last) &&
	    (rc = start_upload(bs, agency, id, err)) != 0)
		return rc;
	if (add > 0) {
		if ((rc = append(bs, id, size, ct + (size - offset),
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

/* ---- download ---- */

int
blobs_read(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    uint64_t offset, uint8_t *buf, size_t cap, size_t *n, uint64_t *total,
    struct sira_err *err)
{
	char name[NAME_LEN];
	struct stat sb;
	ssize_t r;
	size_t want;
	int fd;

	*n = 0;
	*total = 0;
	blob_name(name, id, K_FINAL);
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
	want = *total - offset < cap ? (size_t)(*total - offset) : cap;
	while (*n < want) {
		r = pread(fd, buf + *n, want - *n, (off_t)(offset + *n));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*n += (size_t)r;
	}
	(void)close(fd);
	if (*n != want)
		return sira_err_set(err, SIRA_EIO, "blob: short read");
	return 0;
}

/* The header of a stored SpoolEntry (fresh; free_unpacked), or NULL. Read
 * only from the broker's own stored records, never from a peer's bytes. */
static Sira__V1__EnvelopeHeader *
entry_header(const MDB_val *v)
{
	const uint8_t *env, *hdr;
	size_t env_len, hdr_len;

	if (wire_field_bytes(v->mv_data, v->mv_size, 1, &env, &env_len) != 0 ||
	    wire_field_bytes(env, env_len, 1, &hdr, &hdr_len) != 0 ||
	    hdr_len > SIRA_HEADER_MAX)
		return NULL;
	return sira__v1__envelope_header__unpack(NULL, hdr_len, hdr);
}

/* Does spooled envelope seq reference blob id? */
static bool
references(MDB_txn *txn, const struct store *st, uint64_t seq,
    const uint8_t id[static BLOBS_ID_LEN])
{
	Sira__V1__EnvelopeHeader *h;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	bool found = false;

	store_be64(kb, seq);
	if (mdb_get(txn, st->dbi[DB_ENVELOPES], &k, &d) != 0 ||
	    (h = entry_header(&d)) == NULL)
		return false;
	for (size_t i = 0; i < h->n_attachments && !found; i++)
		found = h->attachments[i]->blob_id.len == BLOBS_ID_LEN &&
		    memcmp(h->attachments[i]->blob_id.data, id, BLOBS_ID_LEN) ==
			0;
	sira__v1__envelope_header__free_unpacked(h, NULL);
	return found;
}

int
blobs_may_read(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct sira_err *err)
{
	uint8_t kb[SIRA_AGENCY_ID_MAX + 1];
	size_t plen = strlen(agency) + 1;
	bool found = false;
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	if (plen > sizeof(kb))
		return sira_err_set(err, SIRA_EDENIED, "no such agency");
	memcpy(kb, agency, plen); /* the prefix "agency NUL" */
	k.mv_size = plen;
	k.mv_data = kb;
	if (mdb_cursor_open(txn, st->dbi[DB_QUEUE], &c) != 0)
		return sira_err_set(err, SIRA_EIO, "queue unreadable");
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0)
			break; /* past this agency's queue */
		if ((found = references(txn, st,
			 store_get_be64((const uint8_t *)k.mv_data + plen),
			 id)))
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_error(rc, "queue", err);
	if (!found)
		return sira_err_set(err, SIRA_EDENIED,
		    "no envelope waiting for %s references this blob", agency);
	return 0;
}

/* ---- garbage collection ---- */

struct refs {
	uint8_t (*id)[BLOBS_ID_LEN];
	size_t n, cap;
};

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, BLOBS_ID_LEN);
}

static int
refs_add(struct refs *r, const Sira__V1__EnvelopeHeader *h)
{
	uint8_t(*grown)[BLOBS_ID_LEN];

	for (size_t i = 0; i < h->n_attachments; i++) {
		if (h->attachments[i]->blob_id.len != BLOBS_ID_LEN)
			continue;
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 64;
			if ((grown = realloc(r->id, cap * sizeof(*grown))) ==
			    NULL)
				return -SIRA_ENOMEM;
			r->id = grown;
			r->cap = cap;
		}
		memcpy(r->id[r->n++], h->attachments[i]->blob_id.data,
		    BLOBS_ID_LEN);
	}
	return 0;
}

/* Every blob id referenced by a spooled envelope, sorted. */
static int
collect_refs(struct store *st, struct refs *r, struct sira_err *err)
{
	Sira__V1__EnvelopeHeader *h;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if ((rc = store_begin(st, 1, &txn, err)) != 0)
		return rc;
	if (mdb_cursor_open(txn, st->dbi[DB_ENVELOPES], &c) != 0) {
		mdb_txn_abort(txn);
		return sira_err_set(err, SIRA_EIO, "spool unreadable");
	}
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if ((h = entry_header(&d)) == NULL)
			continue; /* unreadable: its blobs age out */
		rc = refs_add(r, h);
		sira__v1__envelope_header__free_unpacked(h, NULL);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc == -SIRA_ENOMEM)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (rc != MDB_NOTFOUND)
		return store_error(rc, "spool", err);
	if (r->n > 0)
		qsort(r->id, r->n, BLOBS_ID_LEN, cmp_id);
	return 0;
}

static bool
is_referenced(const struct refs *r, const uint8_t id[static BLOBS_ID_LEN])
{
	return r->n > 0 &&
	    bsearch(id, r->id, r->n, BLOBS_ID_LEN, cmp_id) != NULL;
}

static bool
exists(
    const struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN], enum kind k)
{
	char name[NAME_LEN];
	struct stat sb;

	blob_name(name, id, k);
	return stat_name(bs, name, &sb, NULL) == 0;
}

/* Decide about one directory entry; returns 1 if it deleted a blob or an
 * upload, else 0. */
static int
sweep_one(struct blobs *bs, const struct refs *r, const char *name,
    const uint8_t id[static BLOBS_ID_LEN], enum kind k, uint64_t now)
{
	const char *why = NULL;
	bool ref, with_owner = true;
	struct stat sb;
	uint64_t mtime;

	if (stat_name(bs, name, &sb, NULL) != 0)
		return 0; /* gone meanwhile, or not a file: never ours */
	if (k == K_OWNER) {
		if (!exists(bs, id, K_FINAL) && !exists(bs, id, K_PART))
			(void)unlinkat(bs->dirfd, name, 0);
		return 0;
	}
	ref = is_referenced(r, id);
	mtime = sb.st_mtime > 0 ? (uint64_t)sb.st_mtime : 0;
	/* Mark a complete blob seen in use; if that fails it ages out. */
	if (k == K_FINAL && ref && (sb.st_mode & S_IWUSR) != 0 &&
	    fchmodat(bs->dirfd, name, S_IRUSR, 0) == -1)
		return 0;
	if (k == K_PART && exists(bs, id, K_FINAL)) {
		why = "superseded"; /* its owner file is the blob's */
		with_owner = false;
	} else if (!ref && k == K_FINAL && (sb.st_mode & S_IWUSR) == 0)
		why = "delivered";
	else if (!ref && mtime + bs->lim.grace <= now)
		why = "unused";
	if (why == NULL)
		return 0;
	if (drop(bs, id, k, (uint64_t)sb.st_size, with_owner) != 0)
		return 0;
	log_event(LOG_INFO, "blob.swept",
	    "blob=%.64s size=%llu state=%s why=%s", name,
	    (unsigned long long)sb.st_size,
	    k == K_FINAL ? "complete" : "partial", why);
	return 1;
}

int
blobs_sweep(struct blobs *bs, struct store *st, uint64_t now, size_t *removed,
    struct sira_err *err)
{
	struct refs r = { NULL, 0, 0 };
	uint8_t id[BLOBS_ID_LEN];
	const struct dirent *de;
	size_t n = 0;
	enum kind k;
	DIR *d;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if ((rc = collect_refs(st, &r, err)) != 0) {
		free(r.id);
		return rc;
	}
	if ((d = dir_stream(bs)) == NULL) {
		free(r.id);
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (parse_name(de->d_name, id, &k) == 0)
			n += (size_t)sweep_one(bs, &r, de->d_name, id, k, now);
	(void)closedir(d);
	free(r.id);
	if (removed != NULL)
		*removed = n;
	return n > 0 ? sync_dir(bs, err) : 0;
}

/* ---- frames ---- */

static void
answer_frame(struct blobs_answer *a, int rc, uint8_t *f, size_t len)
{
	if (rc != 0 || a->n >= 2) {
		free(rc == 0 ? f : NULL);
		return;
	}
	a->frame[a->n] = f;
	a->len[a->n++] = len;
}

static void
answer_nack(
    struct blobs_answer *a, uint64_t request_id, int code, const char *detail)
{
	uint8_t *f = NULL;
	size_t len = 0;
	int rc;

	code = code < 0 ? -code : code;
	rc = frames_nack(request_id, NULL, 0, code, detail,
	    code == SIRA_EQUOTA ? BLOBS_SWEEP_EVERY : 0, &f, &len);
	answer_frame(a, rc, f, len);
	a->nack = code;
}

static void
answer_status(struct blobs_answer *a, uint64_t request_id,
    const uint8_t id[static BLOBS_ID_LEN], const struct blobs_state *s)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkStatus cs = SIRA__V1__CHUNK_STATUS__INIT;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	cs.blob_id.data = (uint8_t *)(uintptr_t)id;
	cs.blob_id.len = BLOBS_ID_LEN;
	cs.stored = s->stored;
	cs.complete = s->complete;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_STATUS;
	f.chunk_status = &cs;
	rc = frames_pack(&f, request_id, &out, &len);
	answer_frame(a, rc, out, len);
}

/* A downloaded chunk travels as a ChunkPut from the broker. */
static void
answer_chunk(struct blobs_answer *a, uint64_t request_id,
    const uint8_t id[static BLOBS_ID_LEN], uint64_t offset, const uint8_t *ct,
    size_t len, bool last)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkPut cp = SIRA__V1__CHUNK_PUT__INIT;
	Sira__V1__AttachmentChunk c = SIRA__V1__ATTACHMENT_CHUNK__INIT;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int rc;

	c.blob_id.data = (uint8_t *)(uintptr_t)id;
	c.blob_id.len = BLOBS_ID_LEN;
	c.offset = offset;
	c.ct.data = (uint8_t *)(uintptr_t)ct;
	c.ct.len = len;
	c.last = last;
	cp.chunk = &c;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_PUT;
	f.chunk_put = &cp;
	rc = frames_pack(&f, request_id, &out, &outlen);
	answer_frame(a, rc, out, outlen);
}

static void
refused(const char *agency, const char *what, const uint8_t *id, int rc,
    const struct sira_err *err)
{
	char hex[HEX_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), id, BLOBS_ID_LEN);
	log_event(
	    rc == -SIRA_ESTATE || rc == -SIRA_ENOTFOUND ? LOG_INFO : LOG_WARN,
	    "blob.refused", "agency=%s op=%s blob=%s reason=%s detail=%s",
	    agency, what, hex, sira_strerror(rc), err->msg);
}

static void
fetched(const char *agency, const uint8_t *id, uint64_t size)
{
	char hex[HEX_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), id, BLOBS_ID_LEN);
	log_event(LOG_INFO, "blob.fetched", "agency=%s blob=%s size=%llu",
	    agency, hex, (unsigned long long)size);
}

static void
serve_put(struct blobs *bs, const char *agency, const Sira__V1__Frame *fr,
    struct blobs_answer *a)
{
	const Sira__V1__AttachmentChunk *c = fr->chunk_put->chunk;
	struct blobs_state s;
	struct sira_err err;
	char hex[HEX_LEN + 1];
	int rc;

	sira_err_clear(&err);
	if (c == NULL || c->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a chunk needs a 32-byte blob id");
		return;
	}
	rc = blobs_put(bs, agency, c->blob_id.data, c->offset, c->ct.data,
	    c->ct.len, c->last != 0, &s, &err);
	if (rc == 0 || rc == -SIRA_ESTATE)
		answer_status(a, fr->request_id, c->blob_id.data, &s);
	if (rc != 0) {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "put", c->blob_id.data, rc, &err);
	} else if (s.complete && c->last) {
		(void)sodium_bin2hex(
		    hex, sizeof(hex), c->blob_id.data, BLOBS_ID_LEN);
		log_event(LOG_INFO, "blob.stored",
		    "agency=%s blob=%s size=%llu", agency, hex,
		    (unsigned long long)s.stored);
	}
}

static void
serve_get(struct blobs *bs, struct store *st, const char *agency,
    const Sira__V1__Frame *fr, struct blobs_answer *a)
{
	const Sira__V1__ChunkGet *g = fr->chunk_get;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	struct sira_err err;
	MDB_txn *txn;
	size_t n = 0;
	int rc;

	sira_err_clear(&err);
	if (g->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a chunk request needs a 32-byte blob id");
		return;
	}
	if ((rc = store_begin(st, 1, &txn, &err)) == 0) {
		rc = blobs_may_read(txn, st, agency, g->blob_id.data, &err);
		mdb_txn_abort(txn);
	}
	if (rc == 0 && (buf = malloc(BLOBS_CHUNK_MAX)) == NULL)
		rc = sira_err_set(&err, SIRA_ENOMEM, "out of memory");
	if (rc == 0)
		rc = blobs_read(bs, g->blob_id.data, g->offset, buf,
		    BLOBS_CHUNK_MAX, &n, &total, &err);
	if (rc == 0) {
		answer_chunk(a, fr->request_id, g->blob_id.data, g->offset, buf,
		    n, g->offset + n == total);
		if (g->offset + n == total)
			fetched(agency, g->blob_id.data, total);
	} else {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "get", g->blob_id.data, rc, &err);
	}
	free(buf);
}

static void
serve_status(struct blobs *bs, const char *agency, const Sira__V1__Frame *fr,
    struct blobs_answer *a)
{
	const Sira__V1__ChunkStatus *q = fr->chunk_status;
	struct blobs_state s;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	if (q->blob_id.len != BLOBS_ID_LEN) {
		answer_nack(a, fr->request_id, SIRA_EMALFORMED,
		    "a status query needs a 32-byte blob id");
		return;
	}
	if ((rc = blobs_stat(bs, agency, q->blob_id.data, &s, &err)) == 0)
		answer_status(a, fr->request_id, q->blob_id.data, &s);
	else {
		answer_nack(a, fr->request_id, rc, err.msg);
		refused(agency, "status", q->blob_id.data, rc, &err);
	}
}

void
blobs_serve(struct blobs *bs, struct store *st, const char *agency,
    const Sira__V1__Frame *fr, struct blobs_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (bs == NULL) {
		answer_nack(a, fr->request_id, SIRA_ESTATE,
		    "this broker does not store attachments");
		return;
	}
	switch (fr->body_case) {
	case SIRA__V1__FRAME__BODY_CHUNK_PUT:
		serve_put(bs, agency, fr, a);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_GET:
		serve_get(bs, st, agency, fr, a);
		break;
	case SIRA__V1__FRAME__BODY_CHUNK_STATUS:
		serve_status(bs, agency, fr, a);
		break;
	default:
		answer_nack(
		    a, fr->request_id, SIRA_EINVAL, "not a chunk frame");
		break;
	}
}
