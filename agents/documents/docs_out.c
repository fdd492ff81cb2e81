/*
 * docs_out.c: attaching documents to a queued message (outbox_attach).
 *
 * At-rest choice: a document is not put into the vault (LMDB values are
 * whole-in-memory and capped at 8 MiB). It is encrypted at once, as an
 * attachment stream (agents/crypto/attach.c: secretstream, 64 KiB chunks, each
 * authenticated and bound to the local id and index, final tag required)
 * under a fresh random key, into HOME/spool/<local id>/<i>.spool; the key
 * and the stream's hashes live only in the outbox entry, which the vault
 * encrypts. Copying the home without the agency key file reveals sizes
 * only; a changed or cut spool file is detected when the message is sealed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "documents/documents.h"
#include "fileio.h"
#include "text.h"
#include "i18n.h"

void
docs_name_safe(const char *path, char out[SIRA_FILENAME_MAX + 1])
{
	const char *base = strrchr(path, '/'), *p;
	size_t o = 0;

	base = base != NULL ? base + 1 : path;
	for (p = base; *p != '\0';) {
		size_t n = text_utf8_len((unsigned char)*p),
		       have = strnlen(p, 4);
		bool valid = n > 0 && n <= have && text_is_utf8(p, n);
		bool ok = valid && !text_has_control(p, n);
		if (!valid)
			n = 1; /* a stray byte: replace it alone */
		if (o + (ok ? n : 1) > SIRA_FILENAME_MAX)
			break;
		if (ok)
			memcpy(out + o, p, n);
		else
			out[o] = '_'; /* one '_' per character replaced */
		o += ok ? n : 1;
		p += n;
	}
	out[o] = '\0';
	if (out[0] == '.')
		out[0] = '_';
	if (o == 0 || strcmp(out, "_") == 0 || strcmp(out, "_.") == 0)
		(void)snprintf(out, SIRA_FILENAME_MAX + 1, "document");
}

const char *
docs_media_type(const char *name)
{
	static const char *const map[][2] = { { ".pdf", "application/pdf" },
		{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".png", "image/png" }, { ".txt", "text/plain" },
		{ ".odt", "application/vnd.oasis.opendocument.text" },
		{ ".doc", "application/msword" },
		{ ".docx",
		    "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ ".mp3", "audio/mpeg" }, { ".m4a", "audio/mp4" },
		{ ".mp4", "video/mp4" } };
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(dot, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

/* Open path for reading: a regular file within the agency's limit. */
static int
open_document(const struct agent *a, const char *path, uint64_t *size,
    struct sira_err *err)
{
	struct stat st;
	int fd;

	if (path[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL, _("empty document name"));
	/* O_NONBLOCK: a FIFO must not block us before fstat refuses it. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return sira_err_set(err,
		    errno == ENOENT ? SIRA_ENOTFOUND : SIRA_EIO,
		    _("cannot read %s: %s"), path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s is not a regular file: only documents can be attached"),
		    path);
	}
	if ((uint64_t)st.st_size > a->home.attach_max) {
		(void)close(fd);
		return sira_err_set(err, SIRA_ETOOBIG,
		    _("%s is %.1f MiB: larger than this agency's limit of %.1f MiB for one document (attach_max in agent.conf)"),
		    path, (double)st.st_size / 1048576.0,
		    (double)a->home.attach_max / 1048576.0);
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Encrypt in_fd into the spool file of e's next document (index
 * e->n_docs); fills *info. */
static int
spool_write(const struct agent *a, const Sira__V1__OutboxEntry *e,
    const uint8_t key[static SIRA_ATTACH_KEY_LEN], int in_fd,
    struct attach_info *info, struct sira_err *err)
{
	const uint8_t *local_id = e->local_id.data;
	uint32_t index = (uint32_t)e->n_docs;
	const struct attach_key ak = { key, local_id, index };
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, rc;

	if ((rc = docs_spool_dir(&a->home, local_id, dir, err)) != 0 ||
	    (rc = docs_mkdirs(&a->home, dir, err)) != 0 ||
	    (rc = docs_spool_path(
		 &a->home, local_id, index, "spool", path, err)) != 0)
		return rc;
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	rc = attach_seal(&ak, in_fd, fd, info, err);
	if (rc == 0 && fsync(fd) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), path, strerror(errno));
	if (rc != 0)
		(void)unlink(tmp);
	return rc == 0 ? docs_sync_dir(path, err) : rc;
}

static ProtobufCBinaryData
bin_copy(const uint8_t *p, size_t len)
{
	ProtobufCBinaryData b = { 0, NULL };

	if ((b.data = malloc(len)) != NULL) {
		memcpy(b.data, p, len);
		b.len = len;
	}
	return b;
}

/* A new DocOut for the spooled document (owned by the caller). */
static Sira__V1__DocOut *
doc_new(const char *path, const uint8_t *key, const struct attach_info *info)
{
	Sira__V1__DocOut *d = calloc(1, sizeof(*d));
	char name[SIRA_FILENAME_MAX + 1];

	if (d == NULL)
		return NULL;
	sira__v1__doc_out__init(d);
	docs_name_safe(path, name);
	d->name = strdup(name);
	d->media_type = strdup(docs_media_type(name));
	d->size = info->plaintext_len;
	d->spool_key = bin_copy(key, SIRA_ATTACH_KEY_LEN);
	d->spool_blob_id = bin_copy(info->blob_id, SIRA_HASH_LEN);
	d->spool_ct_len = info->ct_len;
	d->plaintext_sha256 = bin_copy(info->plaintext_sha256, SIRA_HASH_LEN);
	d->chunk_size = info->chunk_size;
	if (d->name == NULL || d->media_type == NULL ||
	    d->spool_key.data == NULL || d->spool_blob_id.data == NULL ||
	    d->plaintext_sha256.data == NULL) {
		free(d->name);
		free(d->media_type);
		if (d->spool_key.data != NULL)
			sodium_memzero(d->spool_key.data, d->spool_key.len);
		free(d->spool_key.data);
		free(d->spool_blob_id.data);
		free(d->plaintext_sha256.data);
		free(d);
		return NULL;
	}
	return d;
}

/* Spool one file as document index of e and append it to e->docs. */
static int
attach_one(struct agent *a, Sira__V1__OutboxEntry *e, const char *path,
    struct sira_err *err)
{
	uint8_t key[SIRA_ATTACH_KEY_LEN];
	struct attach_info info;
	Sira__V1__DocOut **docs;
	uint64_t size = 0;
	int fd, rc;

	/* Room first, so the new record has its owner (e) at once. */
	if ((docs = realloc(e->docs, (e->n_docs + 1) * sizeof(*docs))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	e->docs = docs;
	if ((fd = open_document(a, path, &size, err)) < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	attach_keygen(key);
	rc = spool_write(a, e, key, fd, &info, err);
	(void)close(fd);
	if (rc == 0 && info.plaintext_len != size)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s changed while it was read"), path);
	if (rc == 0 && (e->docs[e->n_docs] = doc_new(path, key, &info)) == NULL)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		e->n_docs++;
	return rc;
}

int
outbox_attach(struct agent *a, struct vault_txn *t, const uint8_t local_id[16],
    const char *const *paths, size_t n, struct sira_err *err)
{
	Sira__V1__OutboxEntry *e = NULL;
	int rc;

	if ((rc = book_get_out(t, local_id, &e, err)) != 0)
		return rc;
	if (e->state != SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED)
		rc = sira_err_set(err, SIRA_ESTATE,
		    _("documents can only be added before the message is sealed"));
	else if (e->n_docs + n > SIRA_ATTACHMENTS_MAX)
		rc = sira_err_set(err, SIRA_ETOOBIG,
		    _("at most %d documents per message"),
		    SIRA_ATTACHMENTS_MAX);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = attach_one(a, e, paths[i], err);
	if (rc == 0)
		rc = book_put_out(t, e, e->queued_at, err);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}
