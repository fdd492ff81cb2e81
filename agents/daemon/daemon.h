/*
 * daemon.h: the agent's network loop: the broker link (link.c), the loop
 * that owns it (daemon.c), what goes out (outbound.c, docs_up.c) and what
 * comes in (inbound.c, docs_in.c).
 */
#ifndef SIRA_AGENT_DAEMON_H
#define SIRA_AGENT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "crypto/crypto.h"
#include "store/store.h"

/*
 * link.c: the agent's connection to the broker: a DEALER socket with
 * CurveZMQ, the broker's key pinned from its CA-verified certificate,
 * reconnecting by itself with exponential backoff (libzmq's reconnect
 * interval doubling up to a minute, started at a random 0.5-1.5 s so that
 * agencies coming back after a power cut do not all knock at once). A
 * socket monitor tells the daemon when a connection is up, so it can say
 * Hello on every new connection.
 */
struct link {
	void *zctx;
	void *sock;
	void *mon;   /* PAIR socket receiving monitor events */
	void *nudge; /* PULL socket the CLI pokes after queueing */
	uint64_t next_request;
	/* Pacing under the broker's rate limit (its Welcome says it): a
	 * token bucket charged like the broker charges, 1 per frame plus 1
	 * per 64 KiB. */
	double tokens, rate, burst;
	uint64_t refill_ms;
};

enum link_event { LINK_NONE, LINK_UP, LINK_DOWN };

int link_open(struct link *l, const struct agent *a, struct sira_err *err);
void link_close(struct link *l);

/* Pace at most rate frames/s with bursts of burst (80 % of what the
 * broker allows, so clocks and rounding never reach its limit). */
void link_pace(struct link *l, uint32_t rate, uint32_t burst);
/* The broker said slow down: send nothing for seconds. */
void link_pause(struct link *l, uint64_t seconds);
/* May work that can wait (a submission, a proof request) be sent now? */
bool link_can_send(struct link *l);

/* Send f (request id assigned and returned in *request_id). */
int link_send(struct link *l, Sira__V1__Frame *f, uint64_t *request_id);

/*
 * Wait up to timeout_ms for anything. *frame gets a received frame (caller
 * frees with sira__v1__frame__free_unpacked) or NULL; *event a connection
 * change; *nudged whether the CLI poked us.
 */
int link_poll(struct link *l, int timeout_ms, Sira__V1__Frame **frame,
    enum link_event *event, bool *nudged);

/*
 * daemon.c: the agent daemon's state and the modules of its loop:
 * outbound.c (sealing, submitting, evidence, receipts coming back),
 * inbound.c (deliveries: verify, store once, ack, receipt), daemon.c (the
 * loop, timers, directory, prekeys, status).
 */
#define DAEMON_PENDING_MAX 512

enum pending_kind { P_SUBMIT, P_PREKEY, P_DIRECTORY, P_PROOF, P_HELLO };

struct pending {
	uint64_t request_id;
	enum pending_kind kind;
	uint8_t id[16]; /* local id (submit, proof) or prekey key id */
	uint64_t sent_at;
	uint64_t old_size;  /* proof: the checkpoint size consistency is
			       asked from (ours when the request left) */
	uint64_t ttl;       /* seconds to wait for the answer */
	uint64_t held_size; /* proof: the checkpoint we held when asking */
	uint8_t held_root[32];
};

/* A delivery held until this session's directory (and CRL) is in. */
struct held {
	uint64_t delivery_id;
	uint8_t *envelope; /* owned */
	size_t len;
};

#define DAEMON_HELD_MAX 64

/*
 * One blob being uploaded (docs_up.c). A small window of chunks is in
 * flight, so a 2G link is kept busy but never flooded; every request id
 * sent is remembered until its answer (and a Nack that may follow it) is
 * in, so the broker's answers are matched without the pending table.
 */
#define UP_WINDOW 4
#define UP_CHUNK (64u << 10)
#define UP_STALE 16

struct upload {
	bool active;
	uint8_t local_id[16];
	uint32_t index;
	uint8_t blob_id[32];
	uint64_t ct_len;
	uint64_t next;   /* next offset to send */
	uint64_t stored; /* what the broker last said it holds */
	uint64_t saved;  /* progress written to the outbox entry */
	uint64_t query;  /* request id of a status query, 0 if none */
	uint64_t reqs[UP_WINDOW], ends[UP_WINDOW];
	size_t n_reqs;            /* puts in flight, oldest first */
	uint64_t stale[UP_STALE]; /* answered or abandoned request ids */
	size_t n_stale;
	unsigned auth_failures;
	uint64_t last_rx, wait_until;
	int fd;
};

/*
 * Deliveries whose attachment blobs are being downloaded (docs_in.c),
 * before the envelope is acknowledged: the first is active, the others
 * wait. Bytes go to HOME/incoming/, so a break resumes where it stopped.
 */
#define IN_FETCH_MAX 8
#define IN_WINDOW 2
#define IN_CHUNK (256u << 10) /* what the broker answers per ChunkGet */

struct fetch {
	uint8_t msgid[16];
	uint64_t delivery_id;
	uint8_t *envelope; /* owned */
	size_t len;
	size_t n_blobs;
	uint8_t blob_id[SIRA_ATTACHMENTS_MAX][32];
	uint64_t ct_len[SIRA_ATTACHMENTS_MAX];
};

struct download {
	struct fetch q[IN_FETCH_MAX];
	size_t n;
	size_t cur;    /* blob of q[0] being fetched */
	int fd;        /* its .part file, -1 when none */
	uint64_t have; /* bytes of it on disk */
	uint64_t ask;  /* next offset to request */
	uint64_t reqs[IN_WINDOW];
	size_t n_reqs;
	uint64_t stale[UP_STALE];
	size_t n_stale;
	uint64_t last_rx, wait_until;
};

struct daemon {
	struct agent *a;
	bool synced; /* directory fetched in this session */
	struct held held[DAEMON_HELD_MAX];
	size_t n_held;
	struct link link;
	bool session;
	uint64_t last_rx, last_hb, last_dir, last_pump, last_prekey;
	int64_t skew;
	bool clock_bad; /* |skew| beyond SIRA_CLOCK_SKEW: nothing is sealed */
	struct pending pending[DAEMON_PENDING_MAX];
	size_t n_pending;
	char alarm[256];
	bool crl_wait;
	uint64_t dir_wait; /* seconds between directory retries, backing off */
	/* Deliveries from senders we did not know: when we asked for them. */
	struct {
		uint8_t msgid[16];
		uint64_t asked_at;
	} unknown[16];
	size_t n_unknown;
	uint64_t received, sent, refused, gaps;
	struct upload up;
	struct download down;
	/* The outbox pump (outbound.c): rows woken by an event, the states
	 * to wake at the next pump, whether work was left for next time. */
	struct outq_row *wake;
	size_t n_wake;
	unsigned wake_states; /* 1 << OutboxState */
	bool pump_more;
	uint64_t out_fail_quiet_until;
};

/* daemon.c */
int daemon_run(struct agent *a, uint64_t rotate, uint64_t retain,
    volatile sig_atomic_t *stop, struct sira_err *err);
void daemon_expect(struct daemon *d, uint64_t request_id,
    enum pending_kind kind, const uint8_t *id, uint64_t now);
bool daemon_pending_has(
    struct daemon *d, enum pending_kind kind, const uint8_t *id);
void daemon_alarm(struct daemon *d, const char *what);
bool daemon_pending_kind(struct daemon *d, enum pending_kind kind);
size_t daemon_pending_count(const struct daemon *d, enum pending_kind kind);
void daemon_rehello(struct daemon *d, uint64_t now);
int daemon_request_directory(struct daemon *d, uint64_t now);

/* outbound.c */
/* At start: index an outbox older than its index, wake what waited. */
int outbound_start(struct daemon *d, uint64_t now, struct sira_err *err);
/* Work on what is due (bounded; sets d->pump_more if work is left). */
int outbound_pump(struct daemon *d, uint64_t now);
void outbound_accepted(struct daemon *d, const struct pending *p,
    const Sira__V1__Accepted *acc, uint64_t now);
void outbound_nack(struct daemon *d, const struct pending *p,
    const Sira__V1__Nack *n, uint64_t now);
void outbound_proof(struct daemon *d, const struct pending *p,
    const Sira__V1__ProofResponse *r, uint64_t now);
int outbound_receipt(struct daemon *d, struct vault_txn *t,
    const uint8_t *receipt, size_t len, const char *from, uint64_t now);

/* inbound.c */
void inbound_deliver(
    struct daemon *d, const Sira__V1__Deliver *dl, uint64_t now);

/*
 * docs_up.c: upload the blobs of sealed outbox entry e (read in the
 * pump's transaction t, which this may change to refuse e) before it is
 * submitted; resumes at the broker's stored offset after any break.
 */
void docs_up_pump(struct daemon *d, struct vault_txn *t,
    Sira__V1__OutboxEntry *e, uint64_t now);
/* Take a ChunkStatus or Nack answering an upload; false if not ours. */
bool docs_up_frame(struct daemon *d, const Sira__V1__Frame *f, uint64_t now);
/* A new session: forget what was in flight (resume by status query). */
void docs_up_reset(struct daemon *d);

/* The documents of a message being extracted for its inbox entry. */
struct docs_in_list {
	Sira__V1__DocIn d[SIRA_ATTACHMENTS_MAX];
	Sira__V1__DocIn *p[SIRA_ATTACHMENTS_MAX];
	char path[SIRA_ATTACHMENTS_MAX][400];
	size_t n;
	bool extracted; /* documents/<id>/ was made by this attempt */
};

/*
 * docs_in.c: 1 when every blob of the opened envelope o (delivered as dl)
 * is on disk, else 0 after starting or continuing its download (the
 * delivery is then left unacknowledged).
 */
int docs_in_ready(struct daemon *d, const Sira__V1__Deliver *dl,
    const struct opened *o, uint64_t now);
/*
 * Decrypt and verify every attachment of o into documents/<id>/ (which
 * appears, complete, only when all verified) and fill *l for the inbox
 * entry. Returns 0 or attach_open's codes (nothing is left visible).
 */
int docs_in_extract(struct daemon *d, const struct opened *o,
    struct docs_in_list *l, struct sira_err *err);
/* Drop the downloaded blobs and the fetch of the envelope with header h. */
void docs_in_forget(struct daemon *d, const Sira__V1__EnvelopeHeader *h);
/* Take a ChunkPut or Nack answering a download; false if not ours. */
bool docs_in_frame(struct daemon *d, const Sira__V1__Frame *f, uint64_t now);
/* A new session: forget the queue (the broker delivers again). */
void docs_in_reset(struct daemon *d);
/* Timers: retry a stalled or postponed download. */
void docs_in_tick(struct daemon *d, uint64_t now);

#endif
