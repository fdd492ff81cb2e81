/*
 * batch.c: the batch of one round (batch.h): what handle.c and session.c
 * queue for the group commit, and the replies staged until it is durable.
 * It owns every buffer queued in it and frees them in batch_clear.
 * Applying a batch is commit.c's; nothing here touches the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

struct batch *
batch_new(void)
{
	return calloc(1, sizeof(struct batch));
}

void
batch_destroy(struct batch **btp)
{
	if (btp == NULL || *btp == NULL)
		return;
	batch_clear(*btp);
	free((*btp)->replies);
	free(*btp);
	*btp = NULL;
}

void
batch_leaf(struct batch *bt, const struct leaf_event *ev)
{
	struct pending_leaf *l;

	if (bt->n_leaf >= sizeof(bt->leaf) / sizeof(bt->leaf[0]))
		return;
	l = &bt->leaf[bt->n_leaf++];
	memset(l, 0, sizeof(*l));
	l->type = ev->type;
	if (ev->hash != NULL)
		memcpy(l->hash, ev->hash, 32);
	(void)snprintf(l->actor, sizeof(l->actor), "%s", ev->actor);
	(void)snprintf(l->counterpart, sizeof(l->counterpart), "%s",
	    ev->n_counterparts > 0 ? ev->counterparts[0] : "");
	l->bucket = ev->bucket;
	l->reason = ev->reason;
}

int
batch_reply(struct batch *bt, const uint8_t *rid, size_t rid_len,
    uint8_t *frame, size_t len)
{
	struct reply *grown;

	if (bt->n_replies == bt->cap_replies) {
		size_t cap = bt->cap_replies ? 2 * bt->cap_replies : 64;
		if ((grown = realloc(bt->replies, cap * sizeof(*grown))) ==
		    NULL) {
			free(frame);
			return -SIRA_ENOMEM;
		}
		bt->replies = grown;
		bt->cap_replies = cap;
	}
	memcpy(bt->replies[bt->n_replies].rid, rid, rid_len);
	bt->replies[bt->n_replies].rid_len = rid_len;
	bt->replies[bt->n_replies].frame = frame;
	bt->replies[bt->n_replies++].len = len;
	return 0;
}

void
batch_clear(struct batch *bt)
{
	for (size_t i = 0; i < bt->n_sub; i++) {
		envelope_destroy(&bt->sub[i].env);
		free(bt->sub[i].raw);
	}
	for (size_t i = 0; i < bt->n_prekey; i++)
		free(bt->prekey[i].raw);
	for (size_t i = 0; i < bt->n_replies; i++)
		free(bt->replies[i].frame);
	bt->n_sub = bt->n_ack = bt->n_leaf = bt->n_prekey = bt->n_replies = 0;
}
