/*
 * docs_seal.c: turning a queued message's spooled documents into the blobs
 * its envelope references (documents.h). Runs in the daemon while the message
 * is sealed, inside the same write transaction that stores the sealed
 * envelope: the blobs are written and fsync'd first, so a committed SEALED
 * entry always has its blobs on disk; a crash before the commit leaves
 * blobs that the next attempt overwrites. No plaintext is written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "documents/documents.h"
#include "i18n.h"

/* The spool stream of document d, as attach_reseal expects it. */
static int
spool_of(const Sira__V1__OutboxEntry *e, const Sira__V1__DocOut *d,
    uint32_t index, struct attach_spool *sp, struct sira_err *err)
{
	if (d->spool_key.len != SIRA_ATTACH_KEY_LEN ||
	    d->spool_blob_id.len != SIRA_HASH_LEN ||
	    d->plaintext_sha256.len != SIRA_HASH_LEN || e->local_id.len != 16)
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("outbox entry has a damaged document record"));
	memset(sp, 0, sizeof(*sp));
	sp->key = d->spool_key.data;
	sp->msgid = e->local_id.data;
	sp->index = index;
	memcpy(sp->info.blob_id, d->spool_blob_id.data, SIRA_HASH_LEN);
	sp->info.ct_len = d->spool_ct_len;
	memcpy(
	    sp->info.plaintext_sha256, d->plaintext_sha256.data, SIRA_HASH_LEN);
	sp->info.plaintext_len = d->size;
	sp->info.chunk_size = d->chunk_size;
	sp->fd = -1; /* the caller opens the spool file */
	return 0;
}

/* Write the blob of document i (the i-th seal_attach of s). */
static int
seal_one(const struct agent *a, const Sira__V1__OutboxEntry *e, uint32_t i,
    struct seal *s, struct sira_err *err)
{
	char spool[PATH_MAX], blob[PATH_MAX];
	struct attach_spool sp;
	int in = -1, out = -1, rc;

	if ((rc = spool_of(e, e->docs[i], i, &sp, err)) != 0 ||
	    (rc = docs_spool_path(
		 &a->home, e->local_id.data, i, "spool", spool, err)) != 0 ||
	    (rc = docs_spool_path(
		 &a->home, e->local_id.data, i, "blob", blob, err)) != 0)
		return rc;
	if ((in = open(spool, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sira_err_set(err, SIRA_EIO,
		    _("spooled document %s is gone: %s"), spool,
		    strerror(errno));
	sp.fd = in;
	out = open(
	    blob, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), blob, strerror(errno));
	else
		rc = seal_attach_spool(
		    s, &sp, out, e->docs[i]->name, e->docs[i]->media_type, err);
	if (rc == 0 && fsync(out) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), blob, strerror(errno));
	if (out != -1 && close(out) != 0 && rc == 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), blob, strerror(errno));
	(void)close(in);
	return rc;
}

/* Record in d the blob the seal made (blob id copied, owned by d). */
static int
record(Sira__V1__DocOut *d, const uint8_t *blob_id, uint64_t ct_len,
    struct sira_err *err)
{
	uint8_t *copy = malloc(SIRA_HASH_LEN);

	if (copy == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	memcpy(copy, blob_id, SIRA_HASH_LEN);
	free(d->blob_id.data);
	d->blob_id.data = copy;
	d->blob_id.len = SIRA_HASH_LEN;
	d->ct_len = ct_len;
	d->uploaded = 0;
	d->complete = false;
	return 0;
}

int
docs_seal(const struct agent *a, Sira__V1__OutboxEntry *e, struct seal *s,
    struct sira_err *err)
{
	struct attach_info info;
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < e->n_docs; i++) {
		if ((rc = seal_one(a, e, i, s, err)) == 0 &&
		    (rc = seal_attachment_info(s, i, &info, err)) == 0)
			rc = record(e->docs[i], info.blob_id, info.ct_len, err);
	}
	if (rc == 0 && e->n_docs > 0) {
		char blob[PATH_MAX];
		if ((rc = docs_spool_path(&a->home, e->local_id.data, 0, "blob",
			 blob, err)) == 0)
			rc = docs_sync_dir(blob, err);
	}
	return rc;
}

bool
docs_uploaded(const Sira__V1__OutboxEntry *e)
{
	for (size_t i = 0; i < e->n_docs; i++)
		if (!e->docs[i]->complete)
			return false;
	return true;
}

void
docs_up_progress(
    const Sira__V1__OutboxEntry *e, uint64_t *done, uint64_t *total)
{
	*done = *total = 0;
	for (size_t i = 0; i < e->n_docs; i++) {
		uint64_t len =
		    e->docs[i]->ct_len ? e->docs[i]->ct_len : e->docs[i]->size;
		*total += len;
		*done += e->docs[i]->complete ? len : e->docs[i]->uploaded;
	}
}

void
docs_release_id(const struct home *h, const uint8_t local_id[16])
{
	char dir[PATH_MAX];
	struct stat st;

	if (docs_spool_dir(h, local_id, dir, NULL) != 0 || stat(dir, &st) != 0)
		return;
	docs_rmtree(dir);
}

void
docs_release(const struct home *h, const Sira__V1__OutboxEntry *e)
{
	if (e->n_docs > 0 && e->local_id.len == 16)
		docs_release_id(h, e->local_id.data);
}

/* Whether spool directory name belongs to an entry still waiting for the
 * broker: a queued or sealed message. */
static bool
spool_wanted(struct vault_txn *t, const char *name)
{
	Sira__V1__OutboxEntry *e = NULL;
	uint8_t id[16];
	size_t len = 0;
	bool wanted;

	if (strlen(name) != 32 ||
	    sodium_hex2bin(id, sizeof(id), name, 32, NULL, &len, NULL) != 0 ||
	    len != 16)
		return true; /* not ours to judge: left alone */
	if (book_get_out(t, id, &e, NULL) != 0)
		return false;
	wanted = e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED ||
	    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED;
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return wanted;
}

void
docs_sweep(struct agent *a)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	struct vault_txn *t = NULL;
	struct dirent *de;
	DIR *d;

	if (home_path(&a->home, "spool", dir, NULL) != 0 ||
	    (d = opendir(dir)) == NULL)
		return;
	if (vault_begin(a->vault, false, &t, NULL) == 0) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' &&
			    !spool_wanted(t, de->d_name) &&
			    snprintf(sub, sizeof(sub), "%s/%s", dir,
				de->d_name) < PATH_MAX)
				docs_rmtree(sub);
		vault_abort(&t);
	}
	(void)closedir(d);
}
