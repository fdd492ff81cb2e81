/*
 * broker.h: the structures the broker's modules share (OpenSMTPD style:
 * one header per daemon). The one struct broker is owned by main() and
 * passed down explicitly; there is no other process-wide state.
 */
#ifndef SIRA_BROKER_H
#define SIRA_BROKER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"
#include "cert.h"
#include "directory.h"
#include "err.h"
#include "keyfile.h"
#include "policy.h"
#include "spool.h"
#include "store.h"
#include "tlog.h"

/*
 * Deliveries in flight per agency (sent, not yet acknowledged): at most
 * BROKER_WINDOW envelopes and, past the first, BROKER_WINDOW_BYTES. The
 * count lets a recipient's agent store several notes per commit (32 did
 * best end to end: 961 notes/s, against 883 at 16 and 215 at 128,
 * docs/PERFORMANCE.md); the bytes keep what a cut 2G link must receive again
 * small, and below what such a link carries before the redelivery timer
 * (docs/PERFORMANCE.md).
 */
#define BROKER_WINDOW 32
#define BROKER_WINDOW_BYTES ((uint64_t)1 << 20)
#define BROKER_BATCH 256 /* frames per group commit */
#define BROKER_FRAME_MAX (SIRA_ENVELOPE_MAX + 4096)

struct broker_config {
	char listen[256];
	char data[PATH_MAX];
	char ca[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char key_pass_file[PATH_MAX];
	char certs[PATH_MAX];
	char crl[PATH_MAX];    /* "" = none */
	char policy[PATH_MAX]; /* "" = built-in default */
	uint64_t max_frame;
	uint64_t quota_count;
	uint64_t quota_bytes;
	uint64_t ttl_cap; /* seconds */
	uint64_t rate;    /* frames per second per agency */
	uint64_t burst;
	uint64_t heartbeat; /* seconds */
	uint64_t redeliver; /* seconds without ack before resending */
	uint64_t mapsize;
	uint64_t blob_quota; /* attachment bytes per uploading agency */
	uint64_t blob_max;   /* bytes per attachment blob */
};

/* An in-flight delivery: sent, not yet acknowledged. */
struct inflight {
	uint64_t seq;
	uint64_t sent_at;
	uint64_t bytes; /* the envelope's size */
};

/* One agency's live session. */
struct session {
	char agency_id[SIRA_AGENCY_ID_MAX + 1];
	uint8_t cert_id[SIRA_HASH_LEN]; /* the certificate of its Hello */
	uint8_t rid[256]; /* ZeroMQ routing id of its current connection */
	size_t rid_len;
	bool active;
	uint64_t since;
	uint64_t last_rx;
	double tokens; /* rate limit bucket */
	uint64_t refill_at_ms;
	uint64_t cursor; /* highest seq handed out in this session */
	struct inflight inflight[BROKER_WINDOW];
	size_t n_inflight;
	uint64_t inflight_bytes; /* sum of inflight[].bytes */
	/* Malformed frames: the first of a burst is logged, the rest
	 * counted and logged once when the burst is over. */
	uint64_t malformed_quiet;
	uint64_t malformed_since;
};

#define BROKER_MALFORMED_QUIET 10 /* seconds a burst of bad frames lasts */

struct counters {
	uint64_t accepted, delivered, acked, nacked, expired, refused,
	    malformed, duplicates;
};

/* A recently refused CURVE key (hash), so a flood is logged once an hour. */
struct refusal {
	uint8_t key_hash[32];
	uint64_t at;
};

#define BROKER_REFUSALS 64

struct broker {
	struct broker_config cfg;
	struct refusal refusals[BROKER_REFUSALS];
	uint64_t refusals_quiet; /* refusals not logged since the last one */
	void *zctx;
	void *router;
	void *zap;
	struct directory *dir;
	struct policy *policy;
	struct store *store;
	struct tlog tlog;
	struct cert *me;        /* the broker's own certificate */
	struct sira_keys *keys; /* its keys (transport + log signing) */
	struct session *sessions;
	size_t n_sessions;
	struct counters count;
	uint64_t next_expiry;
	uint64_t status_at;
	char endpoint[256];  /* the bound endpoint, after binding */
	struct blobs *blobs; /* attachment blobs (blob_*.c) */
	uint64_t blobs_sweep_at;
	uint64_t recheck_at; /* sessions' certificates checked again */
	uint64_t dropped_since, dropped_quiet; /* frames not two-part */
};

/* session.c */
struct session *session_find(struct broker *b, const char *agency_id);
struct session *session_get(struct broker *b, const char *agency_id);
/* Charge cost tokens (1 per frame plus 1 per 64 KiB); false if empty. */
bool session_take_token(
    struct broker *b, struct session *s, uint64_t now_ms, double cost);
/*
 * A malformed frame from s: true when it should be logged now (the first
 * of a burst); otherwise it is counted for session_flush_quiet.
 */
bool session_malformed(struct session *s, uint64_t now);
/* Log the count of every burst of malformed frames that is over. */
void session_flush_quiet(struct broker *b, uint64_t now);
/* Drop sessions that are not active (after a reload shrank the table). */
void session_reclaim(struct broker *b);
void session_forget_inflight(struct session *s, uint64_t seq);
void session_reset(struct session *s);
/*
 * End every active session whose certificate the directory no longer
 * holds as valid at now (revoked by a reload, expired, replaced): nothing
 * more is delivered to it, including what was in flight. Logged, with a
 * refusal leaf in bt's commit. Returns how many ended.
 */
struct batch;
size_t session_recheck(struct broker *b, struct batch *bt, uint64_t now);

/* router.c */
int router_start(struct broker *b, struct sira_err *err);
/*
 * One round of the loop: ZAP, up to BROKER_BATCH frames into bt, one group
 * commit, the periodic work. Waits at most a second for traffic (a signal
 * ends the wait). Returns 0, or -SIRA_EIO when polling fails.
 */
struct batch;
int router_round(struct broker *b, struct batch *bt);
/* Before exit: what was read is committed and answered, status written. */
void router_drain(struct broker *b, struct batch *bt);
void router_stop(struct broker *b);

/* send.c: frame to the connection rid; 0 or -SIRA_EIO (peer gone). */
int send_frame(struct broker *b, const uint8_t *rid, size_t rid_len,
    const uint8_t *frame, size_t len);

/* status.c: DATA/status.json for `sira-broker status`. */
void status_write(const struct broker *b, uint64_t now);

/*
 * handle.c: the frame being handled: the broker and the batch its store
 * work joins, the connection it came on (ZeroMQ routing id rid), the agency
 * and certificate id (SIRA_HASH_LEN bytes) ZAP authenticated for that
 * connection (its User-Id), and when it arrived (seconds; milliseconds for
 * the rate limit). The router builds one per frame; everything is borrowed
 * for the call.
 */
struct batch;
struct request {
	struct broker *b;
	struct batch *bt;
	const uint8_t *rid;
	size_t rid_len;
	const char *agency;
	const uint8_t *cert_id;
	uint64_t now;
	uint64_t now_ms;
};

/* One received frame of rq; may queue work for the next commit. */
int handle_frame(const struct request *rq, struct bytes frame);

#endif
