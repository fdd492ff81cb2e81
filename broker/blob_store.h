/*
 * blob_store.h: the blob directory as the blob_*.c files share it; not for
 * other modules, which use blobs.h.
 *
 * blob_store.c owns the directory and the usage counts: the names of the
 * three kinds of file, stat and delete, the owner files, and each
 * agency's bytes. blob_upload.c and blob_refs.c reach the directory only
 * through these functions and the struct below.
 */
#ifndef SIRA_BLOB_STORE_H
#define SIRA_BLOB_STORE_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "blobs.h"
#include "cert.h"
#include "err.h"

#define BLOB_HEX_LEN ((size_t)2 * BLOBS_ID_LEN)
#define BLOB_NAME_LEN (BLOB_HEX_LEN + 8) /* hex, ".owner", NUL */

/* The files of one blob: the blob, its upload, its uploader. */
enum blob_kind { BLOB_FINAL, BLOB_PART, BLOB_OWNER, BLOB_KINDS };

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

/* The file name of kind k of id: lower-case hex and a suffix. */
void blob_store_name(char out[static BLOB_NAME_LEN],
    const uint8_t id[static BLOBS_ID_LEN], enum blob_kind k);

/* 0, *id and *k if name is exactly one blob_store_name makes, else -1. */
int blob_store_parse_name(
    const char *name, uint8_t id[static BLOBS_ID_LEN], enum blob_kind *k);

/* 0 and *sb if name is a regular file, 1 if absent, or -SIRA_EIO. */
int blob_store_stat(const struct blobs *bs, const char *name, struct stat *sb,
    struct sira_err *err);

/* Is kind k of id a regular file? */
bool blob_store_exists(const struct blobs *bs,
    const uint8_t id[static BLOBS_ID_LEN], enum blob_kind k);

/* fsync the directory. Returns 0 or -SIRA_EIO. */
int blob_store_sync(const struct blobs *bs, struct sira_err *err);

/* The uploader of id into owner. Returns 0, -SIRA_ENOTFOUND or another
 * negative code (unreadable or not an agency id). */
int blob_store_owner(const struct blobs *bs,
    const uint8_t id[static BLOBS_ID_LEN],
    char owner[static SIRA_AGENCY_ID_MAX + 1]);

/* The usage record of agency (borrowed from bs, valid until the next
 * call that may create one), created at 0 if create; NULL if absent or
 * out of memory. */
struct usage *blob_store_usage(
    struct blobs *bs, const char *agency, bool create);

/* Delete file k of id, a blob or an upload of size bytes charged to its
 * owner, and (with_owner) its owner file. Returns 0 or -SIRA_EIO. */
int blob_store_drop(struct blobs *bs, const uint8_t id[static BLOBS_ID_LEN],
    enum blob_kind k, uint64_t size, bool with_owner);

/* A DIR stream over the blob directory (its own descriptor; closedir), or
 * NULL with errno. */
DIR *blob_store_dir(const struct blobs *bs);

#endif
