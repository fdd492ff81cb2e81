/*
 * docs_in.c: downloading a delivered message's attachment blobs before the
 * envelope is acknowledged, and turning them into verified documents
 * (docs/PROTOCOL.md 7.4 and 9.4).
 *
 * A delivery whose blobs are not all on disk waits here, unacknowledged,
 * while they are fetched one at a time with IN_WINDOW requests in flight.
 * Bytes are appended to HOME/incoming/<blob id>.part and fsync'd, so after
 * a broken link or a restart the download resumes at the file's length;
 * a finished blob is renamed to .blob. Then the delivery is handed back to
 * the loop (docs_in_take_ready), which passes it to inbound_deliver again;
 * that opens it, has every attachment verified
 * and decrypted by docs_in_extract into a hidden staging directory, and
 * renames that directory into place only when all of them verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crashpoint.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "log.h"
#include "i18n.h"

#define STALL 30
#define NAME_ROOM 240 /* bytes of a name kept in "<index>-<name>" */

static void
remember_stale(struct download *w, uint64_t req)
{
	if (w->n_stale == UP_STALE) {
		memmove(w->stale, w->stale + 1,
		    (UP_STALE - 1) * sizeof(w->stale[0]));
		w->n_stale--;
	}
	w->stale[w->n_stale++] = req;
}

static bool
is_stale(const struct download *w, uint64_t req)
{
	for (size_t i = 0; i < w->n_stale; i++)
		if (w->stale[i] == req)
			return true;
	return false;
}

static void
abandon(struct download *w)
{
	for (size_t i = 0; i < w->n_reqs; i++)
		remember_stale(w, w->reqs[i]);
	w->n_reqs = 0;
}

/* Stop the blob being fetched (its .part stays for a later resume). */
static void
pause_blob(struct download *w)
{
	abandon(w);
	if (w->fd >= 0)
		(void)close(w->fd);
	w->fd = -1;
}

static void
drop(struct download *w, size_t i)
{
	if (i == 0)
		pause_blob(w);
	free(w->q[i].envelope);
	memmove(&w->q[i], &w->q[i + 1], (w->n - i - 1) * sizeof(w->q[0]));
	w->n--;
}

void
docs_in_reset(struct daemon *d)
{
	struct download *w = &d->down;

	while (w->n > 0)
		drop(w, 0);
	for (size_t i = 0; i < w->n_ready; i++)
		free(w->ready[i].envelope);
	w->n_ready = 0;
	pause_blob(w);
	w->n_stale = 0;
}

static bool
blob_done(const struct home *h, const uint8_t *blob_id)
{
	char path[PATH_MAX];
	struct stat st;

	return docs_incoming_path(h, blob_id, true, path, NULL) == 0 &&
	    stat(path, &st) == 0;
}

static void
fill_window(struct daemon *d, uint64_t now)
{
	struct download *w = &d->down;
	const struct fetch *f = &w->q[0];

	while (w->n_reqs < IN_WINDOW && w->ask < f->ct_len[w->cur]) {
		Sira__V1__Frame fr = SIRA__V1__FRAME__INIT;
		Sira__V1__ChunkGet g = SIRA__V1__CHUNK_GET__INIT;
		uint64_t req;
		g.blob_id.data = (uint8_t *)(uintptr_t)f->blob_id[w->cur];
		g.blob_id.len = 32;
		g.offset = w->ask;
		fr.body_case = SIRA__V1__FRAME__BODY_CHUNK_GET;
		fr.chunk_get = &g;
		if (link_send(&d->link, &fr, &req) != 0)
			break;
		w->reqs[w->n_reqs++] = req;
		w->ask += IN_CHUNK;
	}
	w->last_rx = now;
}

/* Open the .part of blob cur of q[0] and resume at its length. */
static int
open_part(struct daemon *d)
{
	struct download *w = &d->down;
	const struct fetch *f = &w->q[0];
	char path[PATH_MAX];
	struct stat st;

	if (docs_mkdirs(&d->a->home, NULL, NULL) != 0 ||
	    docs_incoming_path(
		&d->a->home, f->blob_id[w->cur], false, path, NULL) != 0 ||
	    (w->fd = open(
		 path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (fstat(w->fd, &st) != 0 ||
	    ((uint64_t)st.st_size > f->ct_len[w->cur] &&
		ftruncate(w->fd, 0) != 0) ||
	    fstat(w->fd, &st) != 0) {
		(void)close(w->fd);
		w->fd = -1;
		return -1;
	}
	w->have = (uint64_t)st.st_size;
	w->ask = w->have;
	if (w->have > 0)
		log_event(LOG_INFO, "attach.download_resume",
		    "index=%zu offset=%llu of=%llu", w->cur,
		    (unsigned long long)w->have,
		    (unsigned long long)f->ct_len[w->cur]);
	return 0;
}

/* Every blob of q[0] is here: it waits for the loop to deliver it again.
 * There is room: enqueue keeps q and ready together within IN_FETCH_MAX. */
static void
complete(struct download *w)
{
	struct held *r = &w->ready[w->n_ready++];

	r->delivery_id = w->q[0].delivery_id;
	r->envelope = w->q[0].envelope;
	r->len = w->q[0].len;
	w->q[0].envelope = NULL;
	drop(w, 0);
}

bool
docs_in_take_ready(struct daemon *d, struct held *out)
{
	struct download *w = &d->down;

	if (w->n_ready == 0)
		return false;
	*out = w->ready[0];
	memmove(
	    &w->ready[0], &w->ready[1], (w->n_ready - 1) * sizeof(w->ready[0]));
	w->n_ready--;
	return true;
}

/*
 * The .part of the blob being fetched holds all its bytes: sync it and
 * rename it to .blob; -1 (and a retry in a minute) if that fails. Its
 * bytes are checked against the blob id when the message is opened.
 */
static int
keep_blob(struct daemon *d, uint64_t now)
{
	struct download *w = &d->down;
	const uint8_t *id = w->q[0].blob_id[w->cur];
	char part[PATH_MAX], done[PATH_MAX];

	if (fsync(w->fd) != 0 ||
	    docs_incoming_path(&d->a->home, id, false, part, NULL) != 0 ||
	    docs_incoming_path(&d->a->home, id, true, done, NULL) != 0) {
		pause_blob(w);
		w->wait_until = now + 60;
		return -1;
	}
	crashpoint("agent.download.whole"); /* every byte here, not renamed */
	if (rename(part, done) != 0 || docs_sync_dir(done, NULL) != 0) {
		log_event(LOG_WARN, "attach.download_failed",
		    "reason=%s (retried in a minute)", strerror(errno));
		pause_blob(w);
		w->wait_until = now + 60;
		return -1;
	}
	log_event(LOG_INFO, "attach.downloaded", "index=%zu bytes=%llu", w->cur,
	    (unsigned long long)w->have);
	pause_blob(w);
	return 0;
}

/* Start or continue the first waiting download. */
static void
kick(struct daemon *d, uint64_t now)
{
	struct download *w = &d->down;

	while (w->n > 0 && w->fd < 0 && d->session && now >= w->wait_until) {
		const struct fetch *f = &w->q[0];
		for (w->cur = 0; w->cur < f->n_blobs; w->cur++)
			if (!blob_done(&d->a->home, f->blob_id[w->cur]))
				break;
		if (w->cur == f->n_blobs) {
			complete(w);
			continue;
		}
		if (open_part(d) != 0) {
			log_event(LOG_ERROR, "attach.download_failed",
			    "reason=cannot write to incoming/");
			w->wait_until = now + 60;
			return;
		}
		/* A crash after the last byte, before the rename: nothing is
		 * left to ask for, so no answer would ever finish it. */
		if (w->have == f->ct_len[w->cur]) {
			if (keep_blob(d, now) != 0)
				return;
			continue;
		}
		fill_window(d, now);
	}
}

/* Queue dl for download unless it already waits. */
static void
enqueue(struct daemon *d, const Sira__V1__Deliver *dl, const struct opened *o)
{
	struct download *w = &d->down;
	const Sira__V1__ManifestTBS *m = o->manifest;
	struct fetch *f;

	for (size_t i = 0; i < w->n; i++)
		if (memcmp(w->q[i].msgid, m->message_id.data, 16) == 0) {
			w->q[i].delivery_id = dl->delivery_id;
			return;
		}
	if (w->n + w->n_ready >= IN_FETCH_MAX)
		return; /* the broker delivers it again later */
	f = &w->q[w->n];
	memset(f, 0, sizeof(*f));
	if ((f->envelope = malloc(dl->envelope.len)) == NULL)
		return;
	memcpy(f->envelope, dl->envelope.data, dl->envelope.len);
	f->len = dl->envelope.len;
	f->delivery_id = dl->delivery_id;
	memcpy(f->msgid, m->message_id.data, 16);
	f->n_blobs = m->n_attachments;
	for (size_t i = 0; i < m->n_attachments; i++) {
		memcpy(f->blob_id[i], m->attachments[i]->blob_id.data, 32);
		f->ct_len[i] = m->attachments[i]->ct_len;
	}
	w->n++;
}

bool
docs_in_ready(struct daemon *d, const Sira__V1__Deliver *dl,
    const struct opened *o, uint64_t now)
{
	const Sira__V1__ManifestTBS *m = o->manifest;
	size_t i;

	for (i = 0; i < m->n_attachments; i++)
		if (!blob_done(&d->a->home, m->attachments[i]->blob_id.data))
			break;
	if (i == m->n_attachments)
		return true;
	enqueue(d, dl, o);
	kick(d, now);
	return false;
}

/* The blob being fetched is whole (or the broker says it ends here). */
static void
finish_blob(struct daemon *d, uint64_t now)
{
	if (keep_blob(d, now) == 0)
		kick(d, now);
}

/* Append a downloaded chunk; false if it is not the one expected. */
static bool
append(struct download *w, const Sira__V1__AttachmentChunk *c)
{
	uint64_t want = w->q[0].ct_len[w->cur];
	size_t n = c->ct.len;

	if (c->blob_id.len != 32 ||
	    memcmp(c->blob_id.data, w->q[0].blob_id[w->cur], 32) != 0 ||
	    c->offset != w->have)
		return false;
	if (n > want - w->have)
		n = (size_t)(want - w->have); /* never more than promised */
	if (n > 0 &&
	    (pwrite(w->fd, c->ct.data, n, (off_t)w->have) != (ssize_t)n ||
		fdatasync(w->fd) != 0))
		return false;
	w->have += n;
	crashpoint("agent.download.chunk"); /* a document half here */
	return true;
}

static bool
take_req(struct download *w, uint64_t req)
{
	for (size_t i = 0; i < w->n_reqs; i++)
		if (w->reqs[i] == req) {
			remember_stale(w, req);
			memmove(&w->reqs[i], &w->reqs[i + 1],
			    (w->n_reqs - i - 1) * sizeof(w->reqs[0]));
			w->n_reqs--;
			return true;
		}
	return false;
}

static bool
on_chunk(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	struct download *w = &d->down;
	const Sira__V1__AttachmentChunk *c = f->chunk_put->chunk;

	if (w->n == 0 || w->fd < 0 || !take_req(w, f->request_id))
		return is_stale(w, f->request_id);
	w->last_rx = now;
	if (c == NULL || !append(w, c)) {
		abandon(w); /* out of order or unwritable: ask again */
		w->ask = w->have;
		fill_window(d, now);
		return true;
	}
	if (c->last || w->have >= w->q[0].ct_len[w->cur])
		finish_blob(d, now);
	else
		fill_window(d, now);
	return true;
}

static bool
on_nack(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	struct download *w = &d->down;
	int reason = (int)f->nack->reason;

	if (w->n == 0 || !take_req(w, f->request_id))
		return is_stale(w, f->request_id);
	log_event(LOG_WARN, "attach.download_refused", "index=%zu reason=%s",
	    w->cur, sira_strerror(reason));
	if (reason == SIRA_EDENIED) {
		drop(w, 0); /* no longer ours to fetch: acknowledged or gone */
		kick(d, now);
		return true;
	}
	if (reason == SIRA_EINVAL) {
		/* Past the end: our partial file is wrong; start it over. */
		if (w->fd >= 0 && ftruncate(w->fd, 0) != 0)
			log_event(LOG_WARN, "attach.download_failed",
			    "reason=%s", strerror(errno));
	}
	pause_blob(w); /* NOT_FOUND: still uploading; others: transient */
	w->wait_until = now + (reason == SIRA_ENOTFOUND ? 5 : 30);
	return true;
}

bool
docs_in_frame(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	if (f->request_id == 0)
		return false;
	if (f->body_case == SIRA__V1__FRAME__BODY_CHUNK_PUT)
		return on_chunk(d, f, now);
	if (f->body_case == SIRA__V1__FRAME__BODY_NACK)
		return on_nack(d, f, now);
	return false;
}

void
docs_in_tick(struct daemon *d, uint64_t now)
{
	struct download *w = &d->down;

	if (w->n == 0 || !d->session)
		return;
	if (w->fd >= 0 && now - w->last_rx >= STALL) {
		abandon(w);
		w->ask = w->have;
		fill_window(d, now);
	}
	kick(d, now);
}

void
docs_in_forget(struct daemon *d, const Sira__V1__EnvelopeHeader *h)
{
	struct download *w = &d->down;
	char path[PATH_MAX];

	for (size_t i = 0; i < h->n_attachments; i++) {
		const uint8_t *id = h->attachments[i]->blob_id.data;
		if (h->attachments[i]->blob_id.len != 32)
			continue;
		for (int done = 0; done < 2; done++)
			if (docs_incoming_path(
				&d->a->home, id, done, path, NULL) == 0)
				(void)unlink(path);
	}
	for (size_t i = 0; i < w->n; i++)
		if (h->message_id.len == 16 &&
		    memcmp(w->q[i].msgid, h->message_id.data, 16) == 0) {
			drop(w, i);
			break;
		}
}

/* "<index>-<name>", the name cut on a UTF-8 boundary to NAME_ROOM bytes. */
static void
doc_file_name(uint32_t index, const char *name, char out[NAME_ROOM + 16])
{
	size_t n = strlen(name);

	if (n > NAME_ROOM) {
		n = NAME_ROOM;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	(void)snprintf(out, NAME_ROOM + 16, "%u-%.*s", index, (int)n, name);
}

/* Verify and decrypt attachment i of o into dir; fill l->d[i]. */
static int
extract_one(struct daemon *d, const struct opened *o, uint32_t i,
    const char *dir, struct docs_in_list *l, struct sira_err *err)
{
	const Sira__V1__AttachmentManifest *am = o->manifest->attachments[i];
	char blob[PATH_MAX], dest[PATH_MAX], file[NAME_ROOM + 16], hex[33];
	int rc;

	doc_file_name(i, am->filename, file);
	if ((rc = docs_incoming_path(
		 &d->a->home, am->blob_id.data, true, blob, err)) != 0)
		return rc;
	if (snprintf(dest, sizeof(dest), "%s/%s", dir, file) >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	if ((rc = seal_open_attachment(o, i, blob, dest, err)) != 0)
		return rc;
	(void)sodium_bin2hex(
	    hex, sizeof(hex), o->manifest->message_id.data, 16);
	sira__v1__doc_in__init(&l->d[i]);
	(void)snprintf(
	    l->path[i], sizeof(l->path[i]), "documents/%s/%s", hex, file);
	l->d[i].index = i;
	l->d[i].name = am->filename;
	l->d[i].media_type = am->media_type;
	l->d[i].size = am->plaintext_len;
	l->d[i].blob_id = am->blob_id;
	l->d[i].path = l->path[i];
	l->p[i] = &l->d[i];
	l->n = i + 1;
	return 0;
}

int
docs_in_extract(struct daemon *d, const struct opened *o,
    struct docs_in_list *l, struct sira_err *err)
{
	const uint8_t *id = o->manifest->message_id.data;
	char stage[PATH_MAX], final[PATH_MAX];
	int rc;

	l->n = 0;
	l->extracted = false;
	if ((rc = docs_message_dir(&d->a->home, id, true, stage, err)) != 0 ||
	    (rc = docs_message_dir(&d->a->home, id, false, final, err)) != 0)
		return rc;
	/* Leftovers of an attempt that never committed are not trusted. */
	docs_rmtree(stage);
	docs_rmtree(final);
	if ((rc = docs_mkdirs(&d->a->home, stage, err)) != 0)
		return rc;
	for (uint32_t i = 0; rc == 0 && i < o->manifest->n_attachments; i++)
		rc = extract_one(d, o, i, stage, l, err);
	if (rc == 0 && rename(stage, final) != 0)
		rc = sira_err_set(
		    err, SIRA_EIO, _("%s: %s"), final, strerror(errno));
	if (rc != 0) {
		docs_rmtree(stage);
		l->n = 0;
		return rc;
	}
	l->extracted = true;
	return docs_sync_dir(final, err);
}
