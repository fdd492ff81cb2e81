/*
 * docs_up.c: uploading a sealed message's attachment blobs to the broker
 * before its envelope is submitted (docs/PROTOCOL.md 9.4).
 *
 * One blob at a time, UP_WINDOW chunks of UP_CHUNK bytes in flight. Every
 * upload starts with a status query (ChunkStatus { blob_id }), so after a
 * broken link, a broker restart or an agent restart it resumes at the
 * broker's stored offset, never at zero. The broker fsyncs before it
 * answers, so what it reports stored is durable; this side persists only
 * progress for people to see and the per-blob `complete` flag, which is
 * what gates Submit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashpoint.h"
#include "daemon/daemon.h"
#include "documents/documents.h"
#include "log.h"
#include "i18n.h"

#define STALL 30                /* seconds without an answer: ask again */
#define SAVE_EVERY (256u << 10) /* persist progress this often */

static void
remember_stale(struct upload *u, uint64_t req)
{
	if (u->n_stale == UP_STALE) {
		memmove(u->stale, u->stale + 1,
		    (UP_STALE - 1) * sizeof(u->stale[0]));
		u->n_stale--;
	}
	u->stale[u->n_stale++] = req;
}

static bool
is_stale(const struct upload *u, uint64_t req)
{
	for (size_t i = 0; i < u->n_stale; i++)
		if (u->stale[i] == req)
			return true;
	return false;
}

/* Forget every put in flight; their answers will be ignored. */
static void
abandon(struct upload *u)
{
	for (size_t i = 0; i < u->n_reqs; i++)
		remember_stale(u, u->reqs[i]);
	u->n_reqs = 0;
	if (u->query != 0)
		remember_stale(u, u->query);
	u->query = 0;
}

static void
stop(struct upload *u)
{
	abandon(u);
	if (u->fd >= 0)
		(void)close(u->fd);
	u->fd = -1;
	u->active = false;
}

void
docs_up_reset(struct daemon *d)
{
	stop(&d->up);
	d->up.n_stale = 0;
}

static int
send_query(struct daemon *d, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkStatus q = SIRA__V1__CHUNK_STATUS__INIT;
	struct upload *u = &d->up;

	q.blob_id.data = u->blob_id;
	q.blob_id.len = 32;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_STATUS;
	f.chunk_status = &q;
	u->last_rx = now;
	return link_send(&d->link, &f, &u->query);
}

/* Send the chunk at u->next; -1 on a read or send failure. */
static int
send_chunk(struct daemon *d)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkPut p = SIRA__V1__CHUNK_PUT__INIT;
	Sira__V1__AttachmentChunk c = SIRA__V1__ATTACHMENT_CHUNK__INIT;
	struct upload *u = &d->up;
	uint8_t buf[UP_CHUNK];
	uint64_t left = u->ct_len - u->next, req;
	size_t n = left < UP_CHUNK ? (size_t)left : UP_CHUNK;

	if (pread(u->fd, buf, n, (off_t)u->next) != (ssize_t)n)
		return -1;
	c.blob_id.data = u->blob_id;
	c.blob_id.len = 32;
	c.offset = u->next;
	c.ct.data = buf;
	c.ct.len = n;
	c.last = u->next + n == u->ct_len;
	p.chunk = &c;
	f.body_case = SIRA__V1__FRAME__BODY_CHUNK_PUT;
	f.chunk_put = &p;
	if (link_send(&d->link, &f, &req) != 0)
		return -1;
	u->reqs[u->n_reqs] = req;
	u->ends[u->n_reqs++] = u->next + n;
	if (u->next > 0)
		crashpoint("agent.upload.chunk"); /* a document half sent */
	u->next += n;
	return 0;
}

static void
fill_window(struct daemon *d)
{
	struct upload *u = &d->up;

	while (u->n_reqs < UP_WINDOW && u->next < u->ct_len)
		if (send_chunk(d) != 0)
			break;
}

/* Load e, let fn change document index of it, store it. */
static void
update_doc(struct daemon *d, const uint8_t *local_id, uint32_t index,
    void (*fn)(Sira__V1__OutboxEntry *, Sira__V1__DocOut *, const void *),
    const void *arg, uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	if ((rc = batch_begin(d, &t, &err)) == 0 &&
	    (rc = book_get_out(t, local_id, &e, &err)) == 0) {
		if (index < e->n_docs)
			fn(e, e->docs[index], arg);
		if ((rc = book_put_out(t, e, now, &err)) == 0)
			rc = vault_commit(&t, &err);
	}
	if (rc != 0)
		log_event(LOG_WARN, "attach.update_failed", "reason=%s",
		    sira_strerror(rc));
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	vault_abort(&t);
}

static void
set_progress(Sira__V1__OutboxEntry *e, Sira__V1__DocOut *doc, const void *arg)
{
	const uint64_t *stored = arg;

	(void)e;
	doc->uploaded = *stored;
}

static void
set_complete(Sira__V1__OutboxEntry *e, Sira__V1__DocOut *doc, const void *arg)
{
	(void)arg;
	doc->uploaded = doc->ct_len;
	doc->complete = true;
	book_schedule(e, 0); /* the next blob, or Submit: at once */
}

static void
set_refused(Sira__V1__OutboxEntry *e, Sira__V1__DocOut *doc, const void *arg)
{
	const Sira__V1__Nack *n = arg;
	char *detail = strdup("the broker refused a document of this message");

	(void)doc;
	e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED;
	e->refused_reason = (int32_t)n->reason;
	if (detail != NULL) {
		if (e->refused_detail != protobuf_c_empty_string)
			free(e->refused_detail);
		e->refused_detail = detail;
	}
}

static void
finished(struct daemon *d, uint64_t now)
{
	struct upload *u = &d->up;

	log_event(LOG_INFO, "attach.uploaded", "index=%u bytes=%llu", u->index,
	    (unsigned long long)u->ct_len);
	update_doc(d, u->local_id, u->index, set_complete, NULL, now);
	stop(u);
	d->last_pump = 0; /* the next blob, or Submit */
}

/* The answer to our status query: resume where the broker stands. */
static void
on_query(struct daemon *d, const Sira__V1__ChunkStatus *cs, uint64_t now)
{
	struct upload *u = &d->up;

	u->query = 0;
	if (cs->complete) {
		finished(d, now);
		return;
	}
	u->stored = cs->stored <= u->ct_len ? cs->stored : 0;
	u->next = u->stored;
	if (u->ct_len > 0 && u->stored == u->ct_len)
		/* Every byte is there, not finished: the broker stopped
		 * between its last write and the rename. The last chunk
		 * again makes it check the hash and finish. */
		u->next =
		    u->ct_len - (u->ct_len < UP_CHUNK ? u->ct_len : UP_CHUNK);
	if (u->stored > 0)
		log_event(LOG_INFO, "attach.upload_resume",
		    "index=%u offset=%llu of=%llu", u->index,
		    (unsigned long long)u->stored,
		    (unsigned long long)u->ct_len);
	fill_window(d);
}

/* The answer to the oldest put in flight. */
static void
on_put(struct daemon *d, const Sira__V1__ChunkStatus *cs, uint64_t now)
{
	struct upload *u = &d->up;
	uint64_t end = u->ends[0];

	remember_stale(u, u->reqs[0]); /* a Nack(STATE) may follow it */
	memmove(u->reqs, u->reqs + 1, (u->n_reqs - 1) * sizeof(u->reqs[0]));
	memmove(u->ends, u->ends + 1, (u->n_reqs - 1) * sizeof(u->ends[0]));
	u->n_reqs--;
	if (cs->complete) {
		finished(d, now);
		return;
	}
	if (cs->stored > u->stored && cs->stored <= u->ct_len)
		u->stored = cs->stored;
	if (cs->stored < end) {
		/* A gap: the broker lost or skipped what we sent. */
		abandon(u);
		u->next = u->stored;
	}
	if (u->stored - u->saved >= SAVE_EVERY) {
		update_doc(
		    d, u->local_id, u->index, set_progress, &u->stored, now);
		u->saved = u->stored;
	}
	fill_window(d);
}

static bool
on_status(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	const Sira__V1__ChunkStatus *cs = f->chunk_status;
	struct upload *u = &d->up;

	if (!u->active || cs->blob_id.len != 32 ||
	    memcmp(cs->blob_id.data, u->blob_id, 32) != 0)
		return is_stale(u, f->request_id);
	u->last_rx = now;
	if (f->request_id == u->query && u->query != 0)
		on_query(d, cs, now);
	else if (u->n_reqs > 0 && f->request_id == u->reqs[0])
		on_put(d, cs, now);
	return true;
}

static bool
on_nack(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	const Sira__V1__Nack *n = f->nack;
	struct upload *u = &d->up;
	bool ours = is_stale(u, f->request_id) || f->request_id == u->query;

	for (size_t i = 0; i < u->n_reqs; i++)
		ours = ours || u->reqs[i] == f->request_id;
	if (!ours || !u->active)
		return ours && n->reason == SIRA__V1__REASON__REASON_STATE &&
		    is_stale(u, f->request_id);
	log_event(LOG_WARN, "attach.upload_refused", "index=%u reason=%s",
	    u->index, sira_strerror((int)n->reason));
	switch (n->reason) {
	case SIRA__V1__REASON__REASON_STATE:
		if (!is_stale(u, f->request_id))
			return false; /* the session is gone: Hello again */
		return true;          /* the gap answered just before */
	case SIRA__V1__REASON__REASON_AUTH:
		/* The broker hashed our upload and it did not match: try
		 * once more from zero, then give up on this message. */
		abandon(u);
		if (++u->auth_failures < 2) {
			(void)send_query(d, now);
			return true;
		}
		break;
	case SIRA__V1__REASON__REASON_QUOTA:
	case SIRA__V1__REASON__REASON_RATE:
	case SIRA__V1__REASON__REASON_IO:
	case SIRA__V1__REASON__REASON_NO_MEMORY:
		stop(u);
		u->wait_until = now + (n->retry_after ? n->retry_after : 60);
		return true;
	default:
		break;
	}
	update_doc(d, u->local_id, u->index, set_refused, n, now);
	stop(u);
	return true;
}

bool
docs_up_frame(struct daemon *d, const Sira__V1__Frame *f, uint64_t now)
{
	if (f->request_id == 0)
		return false;
	if (f->body_case == SIRA__V1__FRAME__BODY_CHUNK_STATUS)
		return on_status(d, f, now);
	if (f->body_case == SIRA__V1__FRAME__BODY_NACK)
		return on_nack(d, f, now);
	return false;
}

/* Begin uploading document i of e: open its blob, ask where we stand. */
static int
start(struct daemon *d, const Sira__V1__OutboxEntry *e, uint32_t i,
    uint64_t now, struct sira_err *err)
{
	const Sira__V1__DocOut *doc = e->docs[i];
	struct upload *u = &d->up;
	char path[PATH_MAX];
	int rc;

	if (doc->blob_id.len != 32 || doc->ct_len == 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, _("document %u was not sealed"), i);
	if ((rc = docs_spool_path(
		 &d->a->home, e->local_id.data, i, "blob", path, err)) != 0)
		return rc;
	if ((u->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sira_err_set(err, SIRA_EIO, _("sealed document %s: %s"),
		    path, strerror(errno));
	memcpy(u->local_id, e->local_id.data, 16);
	u->index = i;
	memcpy(u->blob_id, doc->blob_id.data, 32);
	u->ct_len = doc->ct_len;
	u->next = u->stored = 0;
	u->saved = doc->uploaded;
	u->auth_failures = 0;
	u->active = true;
	if (send_query(d, now) != 0)
		stop(u);
	return 0;
}

void
docs_up_pump(struct daemon *d, struct vault_txn *t, Sira__V1__OutboxEntry *e,
    uint64_t now)
{
	struct upload *u = &d->up;
	struct sira_err err;

	if (!d->session || now < u->wait_until)
		return;
	if (u->active) {
		if (memcmp(u->local_id, e->local_id.data, 16) == 0 &&
		    now - u->last_rx >= STALL) {
			/* Silence: ask again where the broker stands. */
			abandon(u);
			(void)send_query(d, now);
		}
		return;
	}
	sira_err_clear(&err);
	for (uint32_t i = 0; i < e->n_docs; i++) {
		if (e->docs[i]->complete)
			continue;
		if (start(d, e, i, now, &err) != 0) {
			log_event(LOG_ERROR, "attach.upload_failed",
			    "reason=%s", err.msg);
			e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED;
			e->refused_reason = err.code;
			(void)book_put_out(t, e, now, NULL);
		}
		return;
	}
}
