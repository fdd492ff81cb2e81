/*
 * daemon.h: the agent's network loop: the broker link (link.c), the loop
 * that owns it (daemon.c), what goes out (outbound.c, docs_up.c), what
 * comes in (inbound.c, docs_in.c), and what both share: requests waiting
 * for an answer (pending.c), our prekeys (prekeys.c), receipts
 * (receipts.c), the log-proof client (logproof.c), outbox edits
 * (outbox_edit.c) and the operator's status file (status.c).
 */
#ifndef SIRA_AGENT_DAEMON_H
#define SIRA_AGENT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "crypto/crypto.h"
#include "sigcache.h"
#include "store/store.h"
#include "wire.h"

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
	size_t rx_len; /* size of the frame link_poll read last */
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
/* The next frame already received, without waiting: NULL when none (or
 * one that does not parse, dropped); *len gets its size on the wire. The
 * caller frees it as link_poll's. */
Sira__V1__Frame *link_next(struct link *l, size_t *len);

/*
 * daemon.c: the agent daemon's state and the modules of its loop:
 * outbound.c (sealing, submitting, the broker's answers), inbound.c
 * (deliveries: verify, store once, ack, receipt), daemon.c (the loop,
 * timers, directory). Modules never call back into the loop: what only the
 * loop does (Hello, directory) they ask with d->asks.
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

/* pending.c: requests sent to the broker, waiting for their answer. */
struct pending_table {
	struct pending p[DAEMON_PENDING_MAX];
	size_t n;
};

/* Remember request_id (id: 16 bytes or NULL); returns its entry, which the
 * caller may complete (proof sizes, a longer ttl). */
struct pending *pending_expect(struct pending_table *pt, uint64_t request_id,
    enum pending_kind kind, const uint8_t *id, uint64_t now);
bool pending_has(
    const struct pending_table *pt, enum pending_kind kind, const uint8_t *id);
size_t pending_count(const struct pending_table *pt, enum pending_kind kind);
/* Forget requests unanswered for their time; their work is asked again. */
void pending_expire(struct pending_table *pt, uint64_t now);
/* Remove and return the request answered by request_id. */
bool pending_take(
    struct pending_table *pt, uint64_t request_id, struct pending *out);
/* A new connection: answers of the old one never come. */
void pending_clear(struct pending_table *pt);

/* What a module asks of the loop (d->asks), which alone says Hello and
 * fetches the directory. */
enum daemon_ask { ASK_HELLO = 1u << 0, ASK_DIRECTORY = 1u << 1 };

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
	/* Deliveries whose blobs are all here, for the loop to hand to
	 * inbound_deliver again (docs_in_take_ready). */
	struct held ready[IN_FETCH_MAX];
	size_t n_ready;
};

/*
 * batch.c: the frames one turn drained, handled in one vault write
 * transaction (a child transaction per frame); their Acks leave only after
 * its commit. Bounded by frames and bytes; the Acks it can hold cover
 * every delivery a batch may handle (frames, held and downloaded ones).
 */
#define BATCH_FRAMES 256
#define BATCH_BYTES (4u << 20)
#define BATCH_ACKS (BATCH_FRAMES + DAEMON_HELD_MAX + IN_FETCH_MAX)

struct batch {
	bool open;           /* the loop is handling frames */
	struct vault_txn *t; /* begun at the batch's first write, or NULL */
	uint64_t acks[BATCH_ACKS]; /* delivery ids, sent after the commit */
	size_t n_acks;
	size_t n_stored; /* new deliveries stored (d->received) */
	size_t n_frames, bytes;
};

/* logproof.c: the signed checkpoint verified last, and under which key. */
struct cp_seen {
	uint8_t raw[SIRA_CHECKPOINT_MAX];
	size_t len; /* 0: none */
	uint8_t key[SIRA_SIGN_PK_LEN];
};

struct daemon {
	struct agent *a;
	struct sigcache sigs; /* lent to a->sigs while the daemon runs */
	struct secpool pool;  /* guarded blocks for message keys */
	struct batch batch;
	struct cp_seen cp_seen;
	bool synced; /* directory fetched in this session */
	struct held held[DAEMON_HELD_MAX];
	size_t n_held;
	struct link link;
	bool session;
	uint64_t last_rx, last_hb, last_dir, last_pump, last_prekey;
	uint64_t last_expiry_warn; /* the certificate's, once a day */
	uint64_t last_stats;       /* stats_send.c's last look */
	int64_t skew;
	bool clock_bad; /* |skew| beyond SIRA_CLOCK_SKEW: nothing is sealed */
	struct pending_table pending;
	unsigned asks; /* enum daemon_ask bits, done by the loop */
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
	bool pump_again; /* a step left an entry due now: another round */
	uint64_t out_fail_quiet_until;
	struct deadline_conf deadlines; /* agent.conf (escalate.c) */
	uint64_t last_escalate;
};

/* batch.c. The loop opens a batch before it handles frames and commits it
 * before its timers, whose work has transactions of its own. */
void batch_start(struct daemon *d);
/* Commit the batch (logged if it fails: its Acks are then dropped, the
 * broker delivers again), send its Acks, close it. */
void batch_commit(struct daemon *d);
/* Commit now, keeping the batch open: for work that cannot wait for the
 * end of the turn (files removed once a delivery is durable). Returns 0 or
 * vault_commit's codes (the Acks so far are then dropped). */
int batch_flush(struct daemon *d, struct sira_err *err);
/* A write transaction for one frame's work: a child of the batch (begun
 * at its first use) while a batch is open, else one of its own. Commit or
 * abort it as any; committed, it is durable only with the batch. Returns
 * 0 or vault_begin's codes. */
int batch_begin(struct daemon *d, struct vault_txn **t, struct sira_err *err);
/* The batch's transaction, to read what earlier frames wrote (NULL when
 * none: read in a transaction of your own). Valid until the next
 * batch_begin, batch_flush or batch_commit; never while a child is open. */
struct vault_txn *batch_txn(struct daemon *d);
/* Acknowledge delivery_id once the batch is durable (stored: a new
 * message entered the store, counted in d->received). */
void batch_ack(struct daemon *d, uint64_t delivery_id, bool stored);
/* Is there room in the batch for another frame? */
bool batch_room(const struct daemon *d);
/* One more frame of len bytes in the batch. */
void batch_count(struct daemon *d, size_t len);

/* daemon.c: the loop; the only caller of everything below. */
int daemon_run(struct agent *a, uint64_t rotate, uint64_t retain,
    volatile sig_atomic_t *stop, struct sira_err *err);

/* escalate.c: overdue steps escalated (docs/WORKFLOWS.md, Deadlines).
 * escalate_start reads the deadlines at start (defaults and an alarm if
 * agent.conf is wrong); escalate_tick does a round as soon as a session
 * has checked the clock, then once a minute, never on a wrong clock. */
void escalate_start(struct daemon *d);
void escalate_tick(struct daemon *d, uint64_t now);

/* status.c: the operator's view. */
void status_alarm(struct daemon *d, const char *what);
/* Clear the alarm if it starts with prefix (its cause is gone). */
void status_clear_alarm(struct daemon *d, const char *prefix);
void status_write(const struct daemon *d, uint64_t now);

/* prekeys.c: the agency's own prekeys (seconds of the schedule). */
struct prekey_schedule {
	uint64_t rotate;
	uint64_t retain;
};
/* Rotate, delete past retention, publish the newest when connected. */
void prekeys_maintain(
    struct daemon *d, const struct prekey_schedule *sc, uint64_t now);
/* The broker accepted the publication of key_id. */
void prekeys_published(struct daemon *d, const uint8_t *key_id);
/* The secret of key_id if it belongs to our certificate cert_id: 0, or
 * -SIRA_EPREKEY (never ours, or deleted). The caller wipes *out. */
int prekeys_secret(struct vault_txn *t, const uint8_t *cert_id,
    const uint8_t *key_id, struct prekey_secret *out);

/* outbound.c */
/* At start: index an outbox older than its index, wake what waited. */
int outbound_start(struct daemon *d, uint64_t now, struct sira_err *err);
/* Work on what is due (bounded; sets d->pump_more if work is left). */
int outbound_pump(struct daemon *d, uint64_t now);
void outbound_accepted(struct daemon *d, const struct pending *p,
    const Sira__V1__Accepted *acc, uint64_t now);
void outbound_nack(struct daemon *d, const struct pending *p,
    const Sira__V1__Nack *n, uint64_t now);

/* Seconds of clock slack before an accepted entry counts as expired. */
#define OUTBOX_EXPIRY_GRACE 600

/* outbox_edit.c: changes to one outbox entry, shared by outbound.c,
 * logproof.c and receipts.c. */
typedef int (*outbox_edit_fn)(struct daemon *d, struct vault_txn *t,
    Sira__V1__OutboxEntry *e, const void *arg, uint64_t now);
/* Mark e refused for reason (a SIRA_E* code as the protocol carries it:
 * positive), with detail (copied, control bytes masked). */
void outbox_refuse(Sira__V1__OutboxEntry *e, int reason, const char *detail);
/* Load entry id, apply fn(arg) and store it, in one transaction. */
int outbox_update(struct daemon *d, const uint8_t *id, outbox_edit_fn fn,
    const void *arg, uint64_t now);

/* logproof.c: the transparency log client (the only checker of the
 * broker's proofs). */
/* The checkpoint in sc, signed by the broker's log key: 0 and *out
 * (caller frees), or -SIRA_EMALFORMED / -SIRA_EBADSIG. */
int logproof_checkpoint(struct daemon *d, const Sira__V1__SignedCheckpoint *sc,
    Sira__V1__Checkpoint **out);
/* Leaf index and tree size of the Accepted kept in e. */
int logproof_accepted_at(const struct daemon *d, const Sira__V1__OutboxEntry *e,
    uint64_t *leaf, uint64_t *size);
/* Ask for entry id's leaf, inclusion and consistency (t may be NULL). */
void logproof_ask(struct daemon *d, struct vault_txn *t, const uint8_t *id,
    uint64_t leaf, uint64_t size, uint64_t now);
/* Check the broker's answer to the proof request p. */
void logproof_answer(struct daemon *d, const struct pending *p,
    const Sira__V1__ProofResponse *r, uint64_t now);

/* receipts.c: the receipts we give and those we get back. */
/* Sign and queue, in t, our receipt for the stored message o (listing the
 * documents of in); in->receipt gets the signed bytes (caller frees). */
int receipts_accept(struct daemon *d, struct vault_txn *t,
    const struct opened *o, Sira__V1__InboxEntry *in, uint64_t now,
    struct sira_err *err);
/*
 * Tell the sender why we refused dl, where that leaks nothing: only to a
 * sender that is a valid agency in our directory (never to an unknown or
 * revoked one), and only for reasons it can act on: the message was sealed
 * to a prekey we have deleted, it expired on the way, it was re-addressed
 * to us by someone else, or a document did not verify (damaged or
 * truncated on the way: the sender can send it again). In its own
 * transaction; failures only mean the sender is not told.
 */
void receipts_refuse(struct daemon *d, const Sira__V1__Deliver *dl, int rc,
    bool docs_failed, uint64_t now);
/*
 * dl was stored before (its message id is in the seen-set) and came
 * again: its sender submitted it anew, most likely restored from a
 * backup taken before our receipt reached it (docs/OPERATIONS.md). Queue
 * again the receipt we signed then, byte for byte: nothing is signed
 * anew and nothing stored twice. Only for a message of our inbox (never
 * a receipt) from the agency that sent it; in its own transaction.
 */
void receipts_again(
    struct daemon *d, const Sira__V1__Deliver *dl, uint64_t now);
/* A receipt message o came back: verify it against what we sealed and
 * record it on the outbox entry in t. */
int receipts_take(struct daemon *d, struct vault_txn *t, const struct opened *o,
    uint64_t now);

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
 * docs_in.c: true when every blob of the opened envelope o (delivered as
 * dl) is on disk, else false after starting or continuing its download
 * (the delivery is then left unacknowledged).
 */
bool docs_in_ready(struct daemon *d, const Sira__V1__Deliver *dl,
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
/* A delivery whose blobs are all on disk, for the loop to pass to
 * inbound_deliver again: true and *out filled (caller frees
 * out->envelope), or false when none waits. */
bool docs_in_take_ready(struct daemon *d, struct held *out);
/* Timers: retry a stalled or postponed download. */
void docs_in_tick(struct daemon *d, uint64_t now);

/*
 * stats_send.c: this agency's statistical reports to the committee
 * (docs/STATS.md). A report is built from the agency's own cases with the
 * committee's pseudonym key, queued like any message (sealed end to end
 * to the committee: the broker sees only its kind), and the period is
 * recorded as sent ("stats.sent") in the same transaction. The daemon
 * sends, at its first look after a month ends, the reports of that month
 * and the two before it (their outcomes may have moved).
 */
#define STATS_REFRESH 3     /* months sent at each month's end */
#define STATS_LOOK_EVERY 15 /* seconds between the daemon's looks */
#define STATS_RETRY 3600    /* seconds before a failed round is retried */

/*
 * Queue the report of period now (one transaction), its message id into
 * id; *n_cases receives how many persons it holds. Returns 0,
 * -SIRA_ENOTFOUND (no key installed), -SIRA_EINVAL (a period not over
 * yet), stats_build's codes or a vault code.
 */
int stats_send(struct agent *a, uint32_t period, uint64_t now, uint8_t id[16],
    size_t *n_cases, struct sira_err *err);

/* The daemon's look: send what a month's end calls for (logged). */
void stats_send_due(struct daemon *d, uint64_t now);

/* erase_in.c: compact the vault after an erasure once it can. */
void erase_in_tick(struct daemon *d);

#endif
