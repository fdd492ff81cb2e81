/*
 * batch.h: the work gathered from one round of received frames, applied
 * in one LMDB write transaction (group commit), and the replies that may
 * only be sent once that transaction is durable. batch.c fills and empties
 * it; commit.c applies it.
 */
#ifndef SIRA_BATCH_H
#define SIRA_BATCH_H

#include "broker.h"

struct pending_submit {
	uint8_t rid[256];
	size_t rid_len;
	char agency[SIRA_AGENCY_ID_MAX + 1];
	uint64_t request_id;
	struct envelope *env; /* owned */
	uint8_t *raw;         /* owned: the Envelope bytes */
	size_t raw_len;
};

struct pending_ack {
	char agency[SIRA_AGENCY_ID_MAX + 1];
	uint64_t seq;
};

struct pending_prekey {
	uint8_t rid[256];
	size_t rid_len;
	uint64_t request_id;
	char agency[SIRA_AGENCY_ID_MAX + 1];
	uint8_t *raw; /* owned: the signed Prekey bytes */
	size_t len;
	uint8_t hash[32];
};

struct pending_leaf {
	int type; /* Sira__V1__LeafType */
	uint8_t hash[32];
	char actor[SIRA_AGENCY_ID_MAX + 1];
	char counterpart[SIRA_AGENCY_ID_MAX + 1];
	uint32_t bucket;
	uint32_t reason;
};

struct reply {
	uint8_t rid[256];
	size_t rid_len;
	uint8_t *frame; /* owned */
	size_t len;
};

struct batch {
	struct pending_submit sub[BROKER_BATCH];
	size_t n_sub;
	struct pending_ack ack[BROKER_BATCH];
	size_t n_ack;
	struct pending_prekey prekey[BROKER_BATCH];
	size_t n_prekey;
	struct pending_leaf leaf[2 * BROKER_BATCH];
	size_t n_leaf;
	struct reply *replies;
	size_t n_replies, cap_replies;
};

/*
 * What one log leaf records, before the commit stamps its time: the event
 * (type, a Sira__V1__LeafType), the 32-byte hash of the object it is about
 * (NULL for none), the agency that acted ("" for none), the agencies on the
 * other side (n_counterparts of them), the size class and the reason (a
 * positive SIRA_E* code; 0 for none). Everything is borrowed for the call.
 */
struct leaf_event {
	int type;
	const uint8_t *hash;
	const char *actor;
	char *const *counterparts;
	size_t n_counterparts;
	uint32_t bucket;
	uint32_t reason;
};

/*
 * Queue the leaf ev describes, copied (a queued leaf keeps only the first
 * counterpart); silently dropped if the batch is full.
 */
void batch_leaf(struct batch *bt, const struct leaf_event *ev);

/* Stage frame (ownership passes to the batch) for rid after commit. */
int batch_reply(struct batch *bt, const uint8_t *rid, size_t rid_len,
    uint8_t *frame, size_t len);

/* Free everything the batch owns and empty it. */
void batch_clear(struct batch *bt);

/* An empty batch (batch_destroy), or NULL when out of memory. */
struct batch *batch_new(void);

/* Clear and free *btp, set it to NULL; accepts NULL. */
void batch_destroy(struct batch **btp);

/* commit.c: apply bt and the periodic work in one write transaction. The
 * replies are sent once it is durable (or the refusals if it failed), and
 * bt is emptied. */
int commit_batch(struct broker *b, struct batch *bt, uint64_t now);

#endif
