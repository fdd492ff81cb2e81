/*
 * batch.c: the frames one turn of the loop drains from the broker socket,
 * handled in ONE vault write transaction and so one fsync, instead of one
 * per frame.
 *
 * Each frame's work runs in a child transaction of the batch
 * (batch_begin), so a frame that fails is undone alone, as a pump step
 * is. The Acks the frames earn wait in the batch (batch_ack) and leave
 * only after batch_commit made the batch durable: nothing is acknowledged
 * before it is on disk. A crash before that commit loses nothing the
 * broker was told of: it delivers again, and the seen-set recognises what
 * a commit did keep. A failed commit drops the Acks with the work. Outside
 * a batch, batch_begin gives a transaction of its own and batch_ack sends
 * at once, after the caller's commit, as before batching.
 */
#include "crashpoint.h"
#include "daemon/daemon.h"
#include "log.h"
#include "store/store.h"

static void
send_ack(struct daemon *d, uint64_t delivery_id)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Ack a = SIRA__V1__ACK__INIT;

	a.delivery_id = delivery_id;
	f.body_case = SIRA__V1__FRAME__BODY_ACK;
	f.ack = &a;
	(void)link_send(&d->link, &f, NULL);
}

void
batch_start(struct daemon *d)
{
	struct batch *b = &d->batch;

	if (b->open)
		batch_commit(d); /* never left open by the loop */
	b->open = true;
	b->n_acks = 0;
	b->n_stored = 0;
	b->n_frames = 0;
	b->bytes = 0;
}

int
batch_begin(struct daemon *d, struct vault_txn **t, struct sira_err *err)
{
	struct batch *b = &d->batch;
	int rc;

	if (!b->open)
		return vault_begin(d->a->vault, true, t, err);
	if (b->t == NULL &&
	    (rc = vault_begin(d->a->vault, true, &b->t, err)) != 0) {
		*t = NULL;
		return rc;
	}
	return vault_begin_child(b->t, t, err);
}

struct vault_txn *
batch_txn(struct daemon *d)
{
	return d->batch.open ? d->batch.t : NULL;
}

/* Make the batch durable, then send its Acks; the batch stays open and
 * begins a new transaction at its next write. */
int
batch_flush(struct daemon *d, struct sira_err *err)
{
	struct batch *b = &d->batch;
	struct sira_err own;
	int rc = 0;

	sira_err_clear(&own);
	if (err == NULL)
		err = &own;
	if (b->t != NULL && (rc = vault_commit(&b->t, err)) != 0) {
		/* Said as a delivery that failed alone was (the operator
		 * greps for it), with the store's reason. */
		if (b->n_stored > 0)
			log_event(LOG_ERROR, "message.store_failed",
			    "reason=%s deliveries=%zu", err->msg, b->n_stored);
		else
			log_event(LOG_ERROR, "batch.failed",
			    "frames=%zu reason=%s", b->n_frames, err->msg);
		b->n_acks = 0; /* not durable: the broker delivers again */
		b->n_stored = 0;
		return rc;
	}
	if (b->n_stored > 0) {
		d->received += b->n_stored;
		/* Stored, not yet acknowledged. */
		crashpoint("agent.stored");
	}
	for (size_t i = 0; i < b->n_acks; i++)
		send_ack(d, b->acks[i]);
	if (b->n_acks > 0)
		d->last_pump = 0; /* the receipts wait: pump at once */
	b->n_acks = 0;
	b->n_stored = 0;
	return 0;
}

void
batch_ack(struct daemon *d, uint64_t delivery_id, bool stored)
{
	struct batch *b = &d->batch;

	if (!b->open) {
		if (stored) {
			d->received++;
			crashpoint("agent.stored");
		}
		send_ack(d, delivery_id);
		return;
	}
	/* Never full in practice (frames, held and downloaded deliveries
	 * are all bounded below it); if it were, commit early. */
	if (b->n_acks == BATCH_ACKS && batch_flush(d, NULL) != 0)
		return; /* its work went with the failed commit */
	b->acks[b->n_acks++] = delivery_id;
	if (stored)
		b->n_stored++;
}

bool
batch_room(const struct daemon *d)
{
	const struct batch *b = &d->batch;

	return b->n_frames < BATCH_FRAMES && b->bytes < BATCH_BYTES;
}

void
batch_count(struct daemon *d, size_t len)
{
	d->batch.n_frames++;
	d->batch.bytes += len;
}

void
batch_commit(struct daemon *d)
{
	struct batch *b = &d->batch;

	if (!b->open)
		return;
	(void)batch_flush(d, NULL);
	vault_abort(&b->t); /* only after a failed flush */
	b->open = false;
}
