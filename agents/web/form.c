/*
 * form.c: the body of a POST, urlencoded or multipart, through
 * libmicrohttpd's post processor. Text fields are kept in memory (at most
 * WEB_FORM_TEXT_MAX bytes in all); uploaded files are streamed to 0600
 * files under HOME/tmp as they arrive, never held whole in memory, and
 * removed by form_free once the step has queued them (the documents room
 * keeps its own sealed copy). Anything over a bound stops being stored and
 * leaves form->error set, so the page can say which bound was passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "documents/documents.h"
#include "fileio.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"

static enum MHD_Result
add_text(struct form *fm, const char *key, const char *data, uint64_t off,
    size_t size)
{
	struct form_field *last = fm->n > 0 ? &fm->f[fm->n - 1] : NULL;
	char *v;
	size_t have;

	if (size == 0)
		return MHD_YES; /* libmicrohttpd may announce a field empty,
				   then bring its data at offset 0 too */
	if (fm->text_len + size > WEB_FORM_TEXT_MAX) {
		fm->error = N_("The form is too long.");
		return MHD_YES;
	}
	if (off > 0 && last != NULL && strcmp(last->name, key) == 0) {
		have = strlen(last->value);
		if ((v = realloc(last->value, have + size + 1)) == NULL)
			return MHD_NO;
		memcpy(v + have, data, size);
		v[have + size] = '\0';
		last->value = v;
	} else {
		if (fm->n == WEB_FORM_FIELDS_MAX) {
			fm->error = N_("The form has too many fields.");
			return MHD_YES;
		}
		last = &fm->f[fm->n];
		last->name = strdup(key);
		last->value = strndup(data, size);
		if (last->name == NULL || last->value == NULL) {
			free(last->name);
			free(last->value);
			return MHD_NO;
		}
		fm->n++;
	}
	fm->text_len += size;
	return MHD_YES;
}

/* A fresh HOME/tmp/web-XXXXXX/ holding the file under the name the user
 * gave it, made safe: the documents room takes the base name as the
 * document's name in the signed manifest. */
static int
make_path(struct form *fm, struct form_file *f, const char *filename)
{
	char safe[SIRA_FILENAME_MAX + 1], dir[PATH_MAX];

	docs_name_safe(filename, safe);
	if (snprintf(f->dir, sizeof(f->dir), "%s/web-XXXXXX", fm->tmpdir) >=
		(int)sizeof(f->dir) ||
	    mkdtemp(f->dir) == NULL) {
		f->dir[0] = '\0';
		return -1;
	}
	memcpy(dir, f->dir, sizeof(dir));
	if (snprintf(f->path, sizeof(f->path), "%s/%s", dir, safe) >=
	    (int)sizeof(f->path))
		return -1;
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return f->fd >= 0 ? 0 : -1;
}

static struct form_file *
new_file(struct form *fm, const char *key, const char *filename)
{
	struct form_file *f;

	if (fm->n_files == WEB_FORM_FILES_MAX) {
		fm->error = N_("At most 8 documents at a time.");
		return NULL;
	}
	f = &fm->files[fm->n_files++];
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->field = strdup(key);
	f->name = strdup(filename);
	if (f->field == NULL || f->name == NULL) {
		fm->error = N_("Out of memory.");
		return NULL;
	}
	if (make_path(fm, f, filename) != 0) {
		log_event(LOG_ERROR, "web.upload_tmp", "errno=%d", errno);
		fm->error =
		    N_("The document could not be stored (disk full?).");
		return NULL;
	}
	return f;
}

static enum MHD_Result
add_file(struct form *fm, const char *key, const char *filename,
    const char *data, uint64_t off, size_t size)
{
	struct form_file *f =
	    fm->n_files > 0 ? &fm->files[fm->n_files - 1] : NULL;

	if (size == 0 || filename[0] == '\0')
		return MHD_YES; /* an empty file input */
	if (off == 0 || f == NULL || f->fd < 0 || strcmp(f->field, key) != 0)
		if ((f = new_file(fm, key, filename)) == NULL)
			return MHD_YES;
	if (f->size + size > fm->file_max) {
		fm->error =
		    N_("A document is larger than this agency accepts.");
		(void)close(f->fd);
		f->fd = -1;
		return MHD_YES;
	}
	if (fileio_write_all(f->fd, (const uint8_t *)data, size) != 0) {
		log_event(LOG_ERROR, "web.upload_write", "errno=%d", errno);
		fm->error =
		    N_("The document could not be stored (disk full?).");
		(void)close(f->fd);
		f->fd = -1;
		return MHD_YES;
	}
	f->size += size;
	return MHD_YES;
}

static enum MHD_Result
on_part(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off, size_t size)
{
	struct form *fm = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (key == NULL || fm->error != NULL)
		return MHD_YES;
	if (filename != NULL)
		return add_file(fm, key, filename, data, off, size);
	return add_text(fm, key, data, off, size);
}

int
form_init(
    struct form *fm, void *connection, const char *tmpdir, uint64_t file_max)
{
	memset(fm, 0, sizeof(*fm));
	fm->file_max = file_max;
	(void)snprintf(fm->tmpdir, sizeof(fm->tmpdir), "%s", tmpdir);
	fm->pp = MHD_create_post_processor(
	    connection, (size_t)64 * 1024, on_part, fm);
	return fm->pp != NULL ? 0 : -SIRA_EINVAL;
}

void
form_feed(struct form *fm, const char *data, size_t len)
{
	if (fm->pp != NULL && MHD_post_process(fm->pp, data, len) != MHD_YES &&
	    fm->error == NULL)
		fm->error = N_("The form could not be read.");
}

void
form_done(struct form *fm)
{
	if (fm->pp != NULL)
		(void)MHD_destroy_post_processor(fm->pp);
	fm->pp = NULL;
	for (size_t i = 0; i < fm->n_files; i++) {
		if (fm->files[i].fd >= 0 && fsync(fm->files[i].fd) != 0 &&
		    fm->error == NULL)
			fm->error = N_(
			    "The document could not be stored (disk full?).");
		if (fm->files[i].fd >= 0)
			(void)close(fm->files[i].fd);
		fm->files[i].fd = -1;
	}
}

void
form_free(struct form *fm)
{
	form_done(fm);
	for (size_t i = 0; i < fm->n; i++) {
		free(fm->f[i].name);
		/* passwords, identifying details: not left in freed memory */
		sodium_memzero(fm->f[i].value, strlen(fm->f[i].value));
		free(fm->f[i].value);
	}
	for (size_t i = 0; i < fm->n_files; i++) {
		if (fm->files[i].path[0] != '\0')
			(void)unlink(fm->files[i].path);
		if (fm->files[i].dir[0] != '\0')
			(void)rmdir(fm->files[i].dir);
		free(fm->files[i].field);
		free(fm->files[i].name);
	}
	memset(fm, 0, sizeof(*fm));
}

const char *
form_get(const struct form *fm, const char *name)
{
	for (size_t i = 0; fm != NULL && i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0)
			return fm->f[i].value;
	return "";
}

bool
form_has(const struct form *fm, const char *name, const char *value)
{
	for (size_t i = 0; fm != NULL && i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0 &&
		    strcmp(fm->f[i].value, value) == 0)
			return true;
	return false;
}
