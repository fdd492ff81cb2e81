/*
 * blob_refs.c: which spooled envelopes reference which blobs, who may
 * download a blob, and the sweep that deletes blobs no one needs (see
 * blobs.h).
 *
 * References come from the spool, walked with spool_each_entry (the spool
 * owns its tables), read without copying envelopes: only each header is
 * unpacked. A download's authorisation
 * decodes the headers of the downloader's own queue until one references
 * the blob; a sweep decodes every spooled header and lists the directory
 * once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_store.h"
#include "blobs.h"
#include "envelope.h"
#include "log.h"
#include "spool.h"
#include "wire.h"

/* The header of a stored SpoolEntry (fresh; free_unpacked), or NULL. Read
 * only from the broker's own stored records, never from a peer's bytes. */
static Sira__V1__EnvelopeHeader *
entry_header(const uint8_t *entry, size_t len)
{
	const uint8_t *env, *hdr;
	size_t env_len, hdr_len;

	if (wire_field_bytes(entry, len, 1, &env, &env_len) != 0 ||
	    wire_field_bytes(env, env_len, 1, &hdr, &hdr_len) != 0 ||
	    hdr_len > SIRA_HEADER_MAX)
		return NULL;
	return sira__v1__envelope_header__unpack(NULL, hdr_len, hdr);
}

/* Does a spooled envelope reference blob *ctx? 1 stops the walk there. */
static int
references(void *ctx, const uint8_t *entry, size_t len)
{
	const uint8_t *id = ctx;
	Sira__V1__EnvelopeHeader *h;
	bool found = false;

	if ((h = entry_header(entry, len)) == NULL)
		return 0;
	for (size_t i = 0; i < h->n_attachments && !found; i++)
		found = h->attachments[i]->blob_id.len == BLOBS_ID_LEN &&
		    memcmp(h->attachments[i]->blob_id.data, id, BLOBS_ID_LEN) ==
			0;
	sira__v1__envelope_header__free_unpacked(h, NULL);
	return found ? 1 : 0;
}

int
blobs_may_read(MDB_txn *txn, const struct store *st, const char *agency,
    const uint8_t id[static BLOBS_ID_LEN], struct sira_err *err)
{
	int rc;

	if (strlen(agency) > SIRA_AGENCY_ID_MAX)
		return sira_err_set(err, SIRA_EDENIED, "no such agency");
	rc = spool_each_entry(
	    txn, st, agency, references, (void *)(uintptr_t)id, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
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

/* Add the blob ids a spooled envelope's header names to refs *ctx. */
static int
refs_add(void *ctx, const uint8_t *entry, size_t len)
{
	struct refs *r = ctx;
	Sira__V1__EnvelopeHeader *h;
	uint8_t(*grown)[BLOBS_ID_LEN];
	int rc = 0;

	if ((h = entry_header(entry, len)) == NULL)
		return 0; /* unreadable: its blobs age out */
	for (size_t i = 0; rc == 0 && i < h->n_attachments; i++) {
		if (h->attachments[i]->blob_id.len != BLOBS_ID_LEN)
			continue;
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 64;
			if ((grown = realloc(r->id, cap * sizeof(*grown))) ==
			    NULL) {
				rc = -SIRA_ENOMEM;
				break;
			}
			r->id = grown;
			r->cap = cap;
		}
		memcpy(r->id[r->n++], h->attachments[i]->blob_id.data,
		    BLOBS_ID_LEN);
	}
	sira__v1__envelope_header__free_unpacked(h, NULL);
	return rc;
}

/* Every blob id referenced by a spooled envelope, sorted. */
static int
collect_refs(struct store *st, struct refs *r, struct sira_err *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(st, 1, &txn, err)) != 0)
		return rc;
	rc = spool_each_entry(txn, st, NULL, refs_add, r, err);
	store_abort(txn);
	if (rc == -SIRA_ENOMEM)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if (rc != 0)
		return rc;
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

/* Decide about one directory entry; returns 1 if it deleted a blob or an
 * upload, else 0. */
static int
sweep_one(struct blobs *bs, const struct refs *r, const char *name,
    const uint8_t id[static BLOBS_ID_LEN], enum blob_kind k, uint64_t now)
{
	const char *why = NULL;
	bool ref, with_owner = true;
	struct stat sb;
	uint64_t mtime;

	if (blob_store_stat(bs, name, &sb, NULL) != 0)
		return 0; /* gone meanwhile, or not a file: never ours */
	if (k == BLOB_OWNER) {
		if (!blob_store_exists(bs, id, BLOB_FINAL) &&
		    !blob_store_exists(bs, id, BLOB_PART))
			(void)unlinkat(bs->dirfd, name, 0);
		return 0;
	}
	ref = is_referenced(r, id);
	mtime = sb.st_mtime > 0 ? (uint64_t)sb.st_mtime : 0;
	/* Mark a complete blob seen in use; if that fails it ages out. */
	if (k == BLOB_FINAL && ref && (sb.st_mode & S_IWUSR) != 0 &&
	    fchmodat(bs->dirfd, name, S_IRUSR, 0) == -1)
		return 0;
	if (k == BLOB_PART && blob_store_exists(bs, id, BLOB_FINAL)) {
		why = "superseded"; /* its owner file is the blob's */
		with_owner = false;
	} else if (!ref && k == BLOB_FINAL && (sb.st_mode & S_IWUSR) == 0)
		why = "delivered";
	else if (!ref && mtime + bs->lim.grace <= now)
		why = "unused";
	if (why == NULL)
		return 0;
	if (blob_store_drop(bs, id, k, (uint64_t)sb.st_size, with_owner) != 0)
		return 0;
	log_event(LOG_INFO, "blob.swept",
	    "blob=%.64s size=%llu state=%s why=%s", name,
	    (unsigned long long)sb.st_size,
	    k == BLOB_FINAL ? "complete" : "partial", why);
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
	enum blob_kind k;
	DIR *d;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if ((rc = collect_refs(st, &r, err)) != 0) {
		free(r.id);
		return rc;
	}
	if ((d = blob_store_dir(bs)) == NULL) {
		free(r.id);
		return sira_err_set(
		    err, SIRA_EIO, "blob directory: %s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (blob_store_parse_name(de->d_name, id, &k) == 0)
			n += (size_t)sweep_one(bs, &r, de->d_name, id, k, now);
	(void)closedir(d);
	free(r.id);
	if (removed != NULL)
		*removed = n;
	return n > 0 ? blob_store_sync(bs, err) : 0;
}
