/*
 * store.h: what an agency keeps on disk: the encrypted vault (vault.c),
 * the agency home (home.c) and its doorbell (nudge.c), the outbox, inbox
 * and audit chain (book.c) with the index of unfinished work (outq.c),
 * per-sender numbering (pairseq.c), other agencies' certificates and
 * prekeys (peers.c) and the people who log in to the web interface
 * (users.c). It includes nothing from the other rooms.
 */
#ifndef SIRA_AGENT_STORE_H
#define SIRA_AGENT_STORE_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.pb-c.h"
#include "bytes.h"
#include "cert.h"
#include "control.pb-c.h"
#include "crl.h"
#include "err.h"
#include "keyfile.h"
#include "prekey_verify.h"

/*
 * vault.c: the agent's durable store, encrypted at rest.
 *
 * One LMDB environment per agency (HOME/vault/). Tables hold opaque keys
 * (message ids, sequence numbers, key ids: never names) and values that are
 * always encrypted with XChaCha20-Poly1305 under the vault key, with the
 * table and the key as associated data, so a value cannot be moved to
 * another row or table unnoticed. The vault key is random, made at init,
 * and stored in the environment wrapped (secretbox) under a key derived from
 * the agency's secret signing key: someone who copies the data file without
 * the key file learns no victim's name or case content. Every change is one
 * LMDB write transaction: a power cut leaves the last committed state.
 */
#define VAULT_MAP_DEFAULT (1ull << 30)
#define VAULT_VALUE_MAX (8u << 20)

enum vault_table {
	VT_OUTBOX,   /* local id -> OutboxEntry */
	VT_INBOX,    /* message id -> InboxEntry */
	VT_SEEN,     /* sender cert id || message id -> be64 time */
	VT_CERTS,    /* cert id -> Certificate bytes (kept forever) */
	VT_PREKEYS,  /* key id -> PrekeySecret (ours) */
	VT_PEERKEYS, /* agency id -> signed Prekey bytes (theirs, latest) */
	VT_AUDIT,    /* be64 seq -> AuditEntry */
	VT_META,     /* name -> value */
	VT_CASES,    /* vault_blind("case", case_ref) -> CaseRecord */
	VT_OUTQ,     /* state(1) be64(due) local id(16) -> empty (outq.c) */
	VT_USERS,    /* vault_blind("user", login) -> UserRecord (users.c) */
	VT_REPORTS,  /* agency id NUL be32(YYYYMM) -> StatsReport (the
			committee's; workflow/stats_book.c) */
	VT_CASEKEYS, /* vault_blind("case", case_ref) -> case key or
			erasure tombstone (casekeys.c) */
	VT_COUNT
};
/* Tables from VT_LATE on were added after the first vaults were made:
 * vault_open adds them to an existing vault (vault.c). */
#define VT_LATE VT_USERS

struct vault;
struct vault_txn;

/*
 * Open the vault in dir (created if missing) for keys. A new vault gets a
 * fresh random vault key, wrapped under keys; an existing one is unwrapped
 * (-SIRA_EAUTH if keys are not the ones it was made with). A vault made by
 * an older version gets the tables it lacks (VT_LATE on) in a transaction
 * of their own; if the map or the disk is full that fails quietly and the
 * vault still opens, the missing table reading as empty and refusing
 * writes with -SIRA_EQUOTA until a later open makes it. Returns 0,
 * -SIRA_EAUTH, -SIRA_EQUOTA (mapsize too small to create it), -SIRA_EIO or
 * -SIRA_ENOMEM. LMDB allows one open of a given dir per process.
 */
int vault_open(const char *dir, const struct sira_keys *keys, uint64_t mapsize,
    struct vault **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Wipe the vault key and close; accepts NULL. */
void vault_close(struct vault **vp);

/*
 * Begin a read or write transaction (one at a time per thread; one write
 * transaction at a time per vault). Returns 0, -SIRA_EIO or -SIRA_ENOMEM.
 */
int vault_begin(struct vault *v, bool write, struct vault_txn **t,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Begin a write transaction nested in parent (LMDB child transaction):
 * its changes reach parent only if it commits, so one failing piece of
 * work can be undone without losing the rest of parent. parent must not
 * be used until the child is committed or aborted. Returns 0, -SIRA_EINVAL
 * (parent read-only or failed), -SIRA_EIO or -SIRA_ENOMEM.
 */
int vault_begin_child(struct vault_txn *parent, struct vault_txn **t,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Commit and free *t. Errors are sticky: if an earlier vault_put,
 * vault_del or LMDB operation on *t failed, nothing is written and that
 * error is returned. Returns 0, -SIRA_EQUOTA (disk or map full: nothing
 * was written), -SIRA_EIO or the earlier error. *t is NULL afterwards either
 * way.
 */
int vault_commit(struct vault_txn **t, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Abort and free *t; accepts NULL. */
void vault_abort(struct vault_txn **t);

/*
 * Encrypt val[0..vlen) and store it at key (1 to 511 bytes, stored in
 * clear) in table. Any failure makes the transaction fail as a whole (see
 * vault_commit). Returns 0, -SIRA_EINVAL (bad key, the reserved
 * "vault.key" of VT_META, or a read-only transaction), -SIRA_ETOOBIG
 * (vlen > VAULT_VALUE_MAX), -SIRA_EQUOTA or -SIRA_EIO.
 */
int vault_put(struct vault_txn *t, enum vault_table table, struct bytes key,
    const void *val, size_t vlen, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Fetch and decrypt key from table into a fresh *val (caller wipes with
 * vault_free). Returns 0, -SIRA_ENOTFOUND, -SIRA_EAUTH (the stored value was
 * altered or moved), -SIRA_EINVAL (bad key), -SIRA_ENOMEM or -SIRA_EIO.
 */
int vault_get(struct vault_txn *t, enum vault_table table, struct bytes key,
    uint8_t **val, size_t *vlen, struct sira_err *err)
    __attribute__((warn_unused_result));

/*
 * Delete key from table. Returns 0, -SIRA_ENOTFOUND (harmless: the
 * transaction stays usable), -SIRA_EINVAL or -SIRA_EIO.
 */
int vault_del(struct vault_txn *t, enum vault_table table, struct bytes key,
    struct sira_err *err);

/*
 * Call fn for every row of table in key order (decrypted; the buffers are
 * valid during the call only; fn must not write to the vault). fn returns
 * 0 to go on, 1 to stop, or a negative code to stop with that error.
 * Returns 0, fn's code, -SIRA_EAUTH, -SIRA_ENOMEM or -SIRA_EIO.
 */
int vault_each(struct vault_txn *t, enum vault_table table,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
	size_t vlen),
    void *ctx, struct sira_err *err);

/*
 * Call fn with the key of every row of table from the first key >= from
 * (from.p may be NULL: the first row), in key order, without reading or
 * decrypting values: for indexes whose keys are the information. fn
 * returns 0 to go on, 1 to stop, or a negative code; it must not write to
 * the vault. Returns 0, fn's code, -SIRA_EINVAL or -SIRA_EIO.
 */
int vault_keys(struct vault_txn *t, enum vault_table table, struct bytes from,
    int (*fn)(void *ctx, const uint8_t *key, size_t klen), void *ctx,
    struct sira_err *err);

/*
 * A key for a table row named by a human-chosen name (a case reference):
 * BLAKE2b-256 of purpose and name keyed with a subkey of the vault key, so
 * the LMDB file never shows the name and a guessable name cannot be
 * confirmed without the agency's keys.
 */
void vault_blind(struct vault_txn *t, const char *purpose, const char *name,
    uint8_t out[32]);

/* Wipe and free a value from vault_get; accepts NULL. */
void vault_free(uint8_t *val, size_t vlen);

/*
 * Delete key from table after overwriting its stored bytes with zeros in
 * place, so that the page that keeps living after the delete (LMDB leaves
 * a deleted row's bytes in the free space of its page) holds zeros, not
 * the sealed value. For erasure (agents/workflow/erase.c). Returns 0,
 * -SIRA_ENOTFOUND (harmless), -SIRA_EINVAL or -SIRA_EIO.
 */
int vault_scrub(struct vault_txn *t, enum vault_table table, struct bytes key,
    struct sira_err *err);

/*
 * vault_compact.c: rewrite the vault without its free pages, so that rows
 * deleted by an erasure leave no bytes in the data file. The copy is made
 * with mdb_env_copy2(MDB_CP_COMPACT) into dir/compact.tmp/, fsync'd, and
 * renamed over dir/data.mdb: a power cut leaves the old file or the new
 * one, never neither. It needs the vault to itself: every process that
 * opens a vault holds a shared lock on dir/compact.lock, and compaction
 * takes it exclusively without waiting. Returns 0, -SIRA_ESTATE (another
 * process has the vault open: try again later), -SIRA_EQUOTA
 * or -SIRA_EIO. On success v stays usable (a fresh environment).
 */
int vault_compact(struct vault *v, struct sira_err *err)
    __attribute__((warn_unused_result));

/* The flag an erasure leaves for compaction (VT_META "compact.wanted"):
 * set in t, read, cleared after a compaction. */
int vault_compact_want(struct vault_txn *t, struct sira_err *err);
bool vault_compact_wanted(struct vault *v);

/*
 * casekeys.c: one random 32-byte key per case (VT_CASEKEYS, row key
 * vault_blind("case", ref), the value sealed by the vault like any
 * other). The case record is sealed again under it (casebook.c), so that
 * once the key row is scrubbed and the vault compacted, a copy of any
 * leftover bytes is unreadable even with the agency's keys. An erased
 * case's row becomes a tombstone (when, nothing else) so that nothing
 * recreates the case by accident.
 */
#define CASEKEY_LEN 32
enum casekey_state { CASEKEY_NONE, CASEKEY_LIVE, CASEKEY_ERASED };
/* The key of the case whose row key is blind (32 bytes). With create, a
 * case without one gets a fresh key (in t). *state says what was found;
 * key is filled only for CASEKEY_LIVE. *erased_at for CASEKEY_ERASED.
 * Returns 0, -SIRA_EMALFORMED or a vault code. */
struct casekey {
	enum casekey_state state;
	uint8_t key[CASEKEY_LEN];
	uint64_t erased_at;
};
int casekey_get(struct vault_txn *t, const uint8_t blind[32], bool create,
    struct casekey *out, struct sira_err *err);
/* Scrub the key row and leave the tombstone of an erasure at now. */
int casekey_tombstone(struct vault_txn *t, const uint8_t blind[32],
    uint64_t now, struct sira_err *err);
/* The ledger an erased case keeps after its tombstone (a packed
 * ErasureLedger: orders sent, receipts back), fresh in *out (vault_free;
 * may be empty). -SIRA_ENOTFOUND when the case is not erased. */
int casekey_ledger_get(struct vault_txn *t, const uint8_t blind[32],
    uint8_t **out, size_t *len, uint64_t *erased_at, struct sira_err *err);
int casekey_ledger_put(struct vault_txn *t, const uint8_t blind[32],
    const uint8_t *ledger, size_t len, struct sira_err *err);
/* fn for the ledger of every erased case (borrowed bytes; 0 to go on). */
int casekey_ledgers_each(struct vault_txn *t,
    int (*fn)(void *ctx, const uint8_t *ledger, size_t len), void *ctx,
    struct sira_err *err);
/* Seal / open a value under a case key: magic(4) nonce(24) box. */
#define CASEKEY_MAGIC "SCK1"
#define CASEKEY_OVERHEAD (4 + 24 + 16)
bool casekey_sealed(const uint8_t *v, size_t len);
int casekey_seal(const struct casekey *k, const uint8_t *in, size_t len,
    uint8_t **out, size_t *outlen, struct sira_err *err);
int casekey_open(const struct casekey *k, const uint8_t *in, size_t len,
    uint8_t **out, size_t *outlen, struct sira_err *err);
void casekey_wipe(struct casekey *k);

/*
 * Named uint64 counters in VT_META (0 when absent), stored as be64 values
 * sealed like any other. Return 0 or vault_get's and vault_put's codes;
 * vault_counter_get also -SIRA_EMALFORMED (the row is not 8 bytes).
 */
int vault_counter_get(struct vault_txn *t, const char *name, uint64_t *v);
int vault_counter_put(
    struct vault_txn *t, const char *name, uint64_t v, struct sira_err *err);

/*
 * struct agent: what the agent's modules share. One struct agent is owned
 * by main() (CLI commands) or by the daemon loop, and passed down; there is
 * no other process-wide state.
 */
#define AGENT_CRL_GRACE \
	((uint64_t)2 * 86400) /* accept a list this long past due */
#define AGENT_EXPIRY_WARN ((uint64_t)30 * 86400)
#define AGENT_PAYLOAD_MAX (1u << 20)
/* Largest document an agent queues (agent.conf "attach_max", set by
 * `init --attach-max`): 64 MiB by default, at most 1000 MiB so that the
 * blob stays under the broker's 1 GiB (blob-max-bytes). */
#define AGENT_ATTACH_MAX_DEFAULT ((uint64_t)64 << 20)
#define AGENT_ATTACH_MAX_CAP ((uint64_t)1000 << 20)

/* Files of an agency's home directory. */
struct home {
	char dir[PATH_MAX];
	char broker[256];    /* broker endpoint */
	uint64_t attach_max; /* largest document to queue, bytes */
};

struct agent {
	struct home home;
	struct cert *ca;
	struct crl *crl;        /* latest verified list, may be NULL */
	struct cert *me;        /* our certificate (verified) */
	struct cert *broker;    /* the broker's certificate (verified) */
	struct sira_keys *keys; /* our secret keys */
	struct vault *vault;
	/* Certificate and prekey signatures already verified: the daemon's
	 * (lib/sigcache.h), borrowed while it runs; NULL elsewhere. */
	struct sigcache *sigs;
};

/* nudge.c: the daemon's doorbell at ipc://HOME/nudge. The endpoint is 0
 * or -1 (path too long); ringing is a no-op when no daemon listens. */
int nudge_endpoint(const struct home *h, char out[PATH_MAX + 16]);
void nudge_daemon(const struct home *h);

/* home.c */
int home_path(const struct home *h, const char *name, char out[PATH_MAX],
    struct sira_err *err);
int home_resolve(const char *opt, struct home *h, struct sira_err *err);
/* What `sira-agent init` is given: file paths and the broker endpoint. */
struct home_files {
	const char *cert, *key, *ca; /* the agency's certificate, key, CA */
	const char *broker;          /* tcp://host:port */
	const char *broker_cert;
	const char *pass_file; /* the key's passphrase, or NULL: ask */
};
/* Check f (certificates verify, the key opens and matches) and make the
 * home h: configuration, copies, a fresh vault. */
int home_init(
    const struct home *h, const struct home_files *f, struct sira_err *err);
int agent_open(
    struct agent *a, const char *pass_file, uint64_t now, struct sira_err *err);
void agent_close(struct agent *a);
int agent_save_crl(struct agent *a, const uint8_t *bytes, size_t len,
    uint64_t now, struct sira_err *err);
/*
 * Does the agency's certificate end within AGENT_EXPIRY_WARN (30 days) of
 * now, or has it ended? *days_left (optional) receives the whole days
 * left. The one rule behind every expiry warning (status, the daemon's
 * log, the web interface).
 */
bool agent_cert_expiring(
    const struct agent *a, uint64_t now, uint64_t *days_left);
/*
 * Install the certificate untrusted[0..len) (no magic) as the agency's:
 * it must verify against the agency's CA and revocation list at now, name
 * this agency, certify the keys of its key file and last longer than the
 * one installed. It is kept in the vault (with an audit entry) and then
 * replaces HOME/agency.cert atomically; a->me becomes it. A running daemon
 * uses it from its next start. Returns 0, cert_verify's codes,
 * -SIRA_EKEY_USAGE (another agency or other keys), -SIRA_EEXIST (not
 * newer), or a vault or file error.
 */
int agent_install_cert(struct agent *a, const uint8_t *untrusted, size_t len,
    uint64_t now, struct sira_err *err);

/*
 * conf_lines.c: what agent.conf's optional sections share. A parser says
 * whether a line is one of its keys (ours) and takes each line (take: 0
 * to go on; line NULL for one of its own that was too long).
 */
struct conf_parser {
	bool (*ours)(const char *line);
	int (*take)(
	    void *ctx, unsigned lineno, const char *line, struct sira_err *err);
	void *ctx;
};
int conf_each_line(const char *text, size_t len, const struct conf_parser *p,
    struct sira_err *err);
/* "N" of 0..max, only digits between spaces: 0, or -1. */
int conf_number(const char *s, unsigned long max, uint32_t *out);
/* HOME/agent.conf's bytes, fresh in *buf (free). */
int conf_read(
    const struct home *h, uint8_t **buf, size_t *len, struct sira_err *err);

/*
 * conf_retention.c: how long this agency keeps a case after its last
 * activity, by kind of case (agent.conf: retain_days[.KIND] = DAYS;
 * docs/WORKFLOWS.md, "Conservation"). The kind is the first that fits,
 * in this order: an anonymous alert, a child's case, a case handed over
 * to another agency, a referral that was never taken on, any other
 * closed case. 0 (the default): kept until someone erases it.
 */
enum retain_kind {
	RETAIN_ALERT,
	RETAIN_CHILD,
	RETAIN_TRANSFERRED,
	RETAIN_DECLINED,
	RETAIN_CLOSED,
	RETAIN_KINDS
};
#define RETAIN_DAYS_MAX 36500 /* a hundred years */
struct retain_conf {
	uint32_t days[RETAIN_KINDS]; /* 0: no rule */
};
/* "alert", "child", "transferred", "declined", "closed". */
const char *retain_kind_name(enum retain_kind k);
/* Parse the retain_days lines of agent.conf text[0..len) (others are
 * ignored). Returns 0 or -SIRA_EINVAL with the line number; on error
 * every kind is 0 (nothing is erased on a rule that was not understood). */
int retain_conf_parse(
    const char *text, size_t len, struct retain_conf *c, struct sira_err *err);
/* The same from HOME/agent.conf. */
int retain_conf_load(
    const struct home *h, struct retain_conf *c, struct sira_err *err);

/*
 * conf_deadlines.c: how long a step may wait, in hours, by the role of
 * the agency that owes it (agent.conf: answer_hours[.ROLE],
 * feedback_hours[.ROLE], file_request_hours[.ROLE], escalate_hours; 0 =
 * no deadline). docs/WORKFLOWS.md, "Deadlines".
 */
#define DEADLINE_ANSWER_HOURS 48
#define DEADLINE_FEEDBACK_HOURS 336 /* 14 days */
#define DEADLINE_FILE_HOURS 168     /* 7 days */
#define DEADLINE_ESCALATE_HOURS 24
#define DEADLINE_HOURS_MAX 8760 /* a year */
struct deadline_conf {
	uint32_t answer[SIRA_ROLE_MAX + 1];   /* accept or decline */
	uint32_t feedback[SIRA_ROLE_MAX + 1]; /* services started */
	uint32_t file[SIRA_ROLE_MAX + 1];     /* answer a file request */
	uint32_t escalate; /* from the reminder to the committee, >= 1 */
};
void deadline_conf_defaults(struct deadline_conf *c);
/* Parse the deadline lines of agent.conf text[0..len) over the defaults
 * (other lines are ignored). Returns 0 or -SIRA_EINVAL with the line
 * number; on error *c holds the defaults. */
int deadline_conf_parse(const char *text, size_t len, struct deadline_conf *c,
    struct sira_err *err);
/* The same from HOME/agent.conf. */
int deadline_conf_load(
    const struct home *h, struct deadline_conf *c, struct sira_err *err);

/* book.c: the outbox, the inbox and the audit chain, on the vault. */
/* One entry of the audit chain; borrowed for the call. */
struct audit_event {
	const char *action;      /* "queued", "sealed", "received"... */
	const char *counterpart; /* an agency id, "broker", or NULL */
	const uint8_t *msgid;    /* 16 bytes, or NULL */
	int reason;              /* a SIRA_E* code (positive), or 0 */
	const char *person;      /* the login of the person who acted (web
				    interface, users.c), or NULL */
	const char *subject;     /* what it was about: a case reference, the
				    account changed; or NULL */
};
int book_audit(struct vault_txn *t, uint64_t now, const struct audit_event *ev,
    struct sira_err *err);
int book_audit_verify(
    struct vault_txn *t, uint64_t *n, uint64_t *bad, struct sira_err *err);
/* A message to queue in the outbox; everything borrowed for the call. */
struct outgoing {
	const char *const *to; /* agency ids */
	size_t n_to;
	int kind; /* Sira__V1__MessageKind */
	const char *content_type;
	const char *case_ref; /* "" when none */
	struct bytes payload;
	uint32_t ttl;       /* seconds */
	const char *person; /* who queued it (web login), or NULL */
};
/* Queue m at now under a fresh local_id, with its audit entries. */
int book_queue(struct vault_txn *t, const struct outgoing *m, uint64_t now,
    uint8_t local_id[16], struct sira_err *err);
/* The same under a local_id the caller chose with book_new_id (a step
 * that records the id on its case before it queues the message). */
int book_queue_as(struct vault_txn *t, const struct outgoing *m, uint64_t now,
    const uint8_t local_id[16], struct sira_err *err);
int book_get_out(struct vault_txn *t, const uint8_t *local_id,
    Sira__V1__OutboxEntry **out, struct sira_err *err);
int book_put_out(struct vault_txn *t, Sira__V1__OutboxEntry *e, uint64_t now,
    struct sira_err *err);
/* Entry id back to SEALED, due now, its Accepted dropped (the broker
 * answers again), with a "resubmitted" audit entry naming by. The sealed
 * bytes are the same: the broker knows them and delivers once more. */
int book_resubmit(struct vault_txn *t, const uint8_t id[16], uint64_t now,
    const char *by, struct sira_err *err);
/* A row of VT_OUTBOX, VT_INBOX or VT_AUDIT read by vault_each: a fresh
 * entry (caller frees) or NULL if damaged. */
Sira__V1__OutboxEntry *book_out_decode(const uint8_t *row, size_t len);
Sira__V1__InboxEntry *book_in_decode(const uint8_t *row, size_t len);
Sira__V1__AuditEntry *book_audit_decode(const uint8_t *row, size_t len);
int book_get_in(struct vault_txn *t, const uint8_t *msgid,
    Sira__V1__InboxEntry **out, struct sira_err *err);
const char *book_state_name(int state);
/* Index the live entries of an outbox written before the outq index
 * existed (once: sets "outq.version"); *indexed receives how many. */
int book_reindex(
    struct vault_txn *t, uint64_t now, size_t *indexed, struct sira_err *err);
/* The next time the daemon should look at e (outq.c indexes it). */
void book_schedule(Sira__V1__OutboxEntry *e, uint64_t at);
/* 16 fresh random bytes: message ids, request ids. */
void book_new_id(uint8_t id[16]);

/*
 * outq.c: the index of outbox entries still being worked on (see the
 * file). book_put_out keeps it in step with every entry it stores.
 */
#define OUTQ_KEY_LEN 25
#define OUTQ_VERSION 1 /* vault counter "outq.version": index complete */

/* One index row: an entry in state, due at due. */
struct outq_row {
	int state;
	uint64_t due;
	uint8_t id[16];
};

/* Is state one the daemon still works on (queued, sealed, accepted)? */
bool outq_live(int state);
void outq_key(int state, uint64_t due, const uint8_t id[16],
    uint8_t key[static OUTQ_KEY_LEN]);
void outq_parse(const uint8_t key[static OUTQ_KEY_LEN], struct outq_row *row);
/* Make e's index row agree with its state and next_at (inside t). */
int outq_sync(
    struct vault_txn *t, Sira__V1__OutboxEntry *e, struct sira_err *err);
/* Is row the one e records as its own? */
bool outq_claims(const Sira__V1__OutboxEntry *e, const struct outq_row *row);
/* Delete a row (gone already is fine). */
int outq_drop(
    struct vault_txn *t, const struct outq_row *row, struct sira_err *err);
/* Which rows: due at now (next_at <= now), of the states whose bit
 * (1 << state) is in states. */
struct outq_ask {
	uint64_t now;
	unsigned states;
};
/* Up to max rows answering q, most overdue first, into rows[0..*n). */
int outq_due(struct vault_txn *t, const struct outq_ask *q,
    struct outq_row *rows, size_t max, size_t *n, struct sira_err *err);
/* Every row of state, due or not, into a fresh *rows (caller frees). */
int outq_all(struct vault_txn *t, int state, struct outq_row **rows, size_t *n,
    struct sira_err *err);

/*
 * pairseq.c: telling lost messages from late ones. Each sender numbers its
 * messages to us from 1 (pair_seq, in the signed manifest). Messages often
 * arrive out of order (a message with documents waits for its upload, a
 * retry comes after a newer message), so a jump is not a loss: the numbers
 * not yet seen are awaited for PAIRSEQ_WAIT seconds and only then declared
 * missing (logged and counted). State per sender: every number up to
 * `low` has arrived; `seen` holds those above it (sorted), `since` is when
 * the oldest hole was noticed.
 */
struct vault_txn;

#define PAIRSEQ_WAIT ((uint64_t)24 * 3600) /* a late one may take this */
#define PAIRSEQ_SEEN_MAX 4096 /* more out-of-order numbers: holes declared */

struct pairseq {
	uint64_t low, since;
	uint64_t *seen; /* owned; sorted, all > low + 1 */
	size_t n;
};

/*
 * Take number seq at time now. Returns how many numbers this declares
 * missing (0 normally), or a negative code (-SIRA_ENOMEM). A number at or
 * below low, or already seen, changes nothing.
 */
int64_t pairseq_take(struct pairseq *p, uint64_t seq, uint64_t now);

/* Numbers between low and the highest seen that have not arrived yet. */
uint64_t pairseq_awaited(const struct pairseq *p);

/* Load and store a sender's state in the vault (VT_META "rgap:SENDER");
 * a sender never heard of loads as all zero. */
int pairseq_load(struct vault_txn *t, const char *sender, struct pairseq *p,
    struct sira_err *err);
int pairseq_store(struct vault_txn *t, const char *sender,
    const struct pairseq *p, struct sira_err *err);
void pairseq_free(struct pairseq *p);

/*
 * peers.c: the other agencies as this agent knows them: certificates and
 * prekeys fetched through the broker, each verified against the CA and the
 * revocation list before it is stored, and looked up again (and checked
 * again) every time it is used. The broker cannot substitute a key: it can
 * only withhold one.
 */
/* Is our revocation list fresh enough to act on messages at now? */
int peers_crl_fresh(const struct agent *a, uint64_t now, struct sira_err *err);

/*
 * Take a DirectoryResponse: a newer revocation list first (verified, never
 * older than ours), then every certificate (verified, stored forever) and
 * every prekey (verified against its owner's certificate). Items that do
 * not verify are counted in *refused and dropped. Returns 0 or a store
 * error.
 */
int peers_take(struct agent *a, struct vault_txn *t,
    const Sira__V1__DirectoryResponse *d, uint64_t now, size_t *refused,
    struct sira_err *err);

/*
 * The certificate cert_id of agency, verified for use at time `at` against
 * the CA and our revocation list (which must be fresh at now). *out is
 * fresh (cert_destroy). Returns 0, -SIRA_EUNKNOWN_AGENCY, -SIRA_ECRL_STALE,
 * -SIRA_EREVOKED, -SIRA_EEXPIRED...
 */
struct peer_ref {
	const char *agency;
	const uint8_t *cert_id; /* SIRA_HASH_LEN bytes */
	uint64_t at;
};
int peers_cert(struct agent *a, struct vault_txn *t, const struct peer_ref *ref,
    uint64_t now, struct cert **out, struct sira_err *err);

/*
 * The newest valid certificate of agency and its current prekey, for
 * sealing at now, into *out (both fresh, peer_release). Returns 0,
 * -SIRA_EUNKNOWN_AGENCY or -SIRA_EPREKEY.
 */
struct peer {
	struct cert *cert;
	struct prekey *prekey;
};
int peers_current(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, struct peer *out, struct sira_err *err);
void peer_release(struct peer *p);

/*
 * The role of agency as its newest valid certificate in our directory
 * says (no freshness demanded of the revocation list: this only guides a
 * person at the keyboard; the daemon checks everything again at sealing).
 * Returns 0 or -SIRA_EUNKNOWN_AGENCY.
 */
int peers_role(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, enum sira_role *role, struct sira_err *err);

/*
 * The signing key of agency's newest certificate valid at now (verified
 * against the CA and our list), for checking what it signed: an erasure
 * receipt. Returns 0 or -SIRA_EUNKNOWN_AGENCY.
 */
int peers_sign_pk(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, uint8_t pk[SIRA_SIGN_PK_LEN], struct sira_err *err);

/*
 * users.c: the people of the agency who may log in to its web interface,
 * in VT_USERS (row key vault_blind("user", login): the file never shows a
 * login). Passwords are kept only as Argon2id strings (crypto_pwhash_str,
 * interactive limits: 64 MiB, 2 passes, so that old laptops answer a login
 * in well under a second). Every change and every login attempt is
 * recorded in the audit chain (book.c) in the caller's transaction, with
 * the login concerned as the entry's person; no password or hash ever
 * reaches the audit, an error message or a log.
 */
enum user_role { USER_CASEWORKER = 1, USER_SUPERVISOR = 2, USER_ADMIN = 3 };
#define USER_LOGIN_MAX 32 /* [a-z0-9._-], starts with a letter, 2..32 */
#define USER_NAME_MAX 128 /* full name, UTF-8, printable, 1..128 bytes */
#define USER_PASS_MIN 10  /* bytes */
#define USER_PASS_MAX 256
#define USER_FAIL_LOCK 5 /* wrong passwords in a row that lock the account */
#define USER_LOCK_SECONDS (15 * 60)

/* An account as users_get and users_each show it (never its hash). */
struct user_info {
	char login[USER_LOGIN_MAX + 1];
	char full_name[USER_NAME_MAX + 1];
	enum user_role role; /* a newer version's role: another value */
	bool disabled;
	uint32_t failures; /* consecutive wrong passwords */
	uint64_t locked_until, created, last_login, password_changed;
	char lang[3]; /* "fr" or "en" */
};

/* "caseworker", "supervisor", "admin", or "unknown" (static strings). */
const char *user_role_name(enum user_role r);

/*
 * Parse a role: caseworker, supervisor, admin, or the French agent,
 * superviseur, administrateur (lower case). Returns 0 or -SIRA_EINVAL.
 */
int user_role_parse(const char *s, enum user_role *out);

/* Is login 2 to 32 of a-z 0-9 . _ -, starting with a letter? */
bool users_login_valid(const char *login);

/* Is name a full name: 1 to USER_NAME_MAX bytes of UTF-8 text with no
 * control or invisible character? */
bool users_name_valid(const char *name);

/*
 * Add an account with password (hashed here; the caller wipes its copy),
 * in t at now, with its audit entry "user.add". Returns 0, -SIRA_EEXIST,
 * -SIRA_EINVAL (login, name, role or password length; the message says
 * which), -SIRA_ENOMEM (no memory for Argon2id) or a vault code.
 */
struct user_new {
	const char *login, *full_name;
	enum user_role role;
	const char *password;
	const char *actor; /* the administrator's login, NULL at the console */
};
int users_add(struct vault_txn *t, const struct user_new *u, uint64_t now,
    struct sira_err *err);

/*
 * Set login's password, clear its failures and lock ("user.passwd").
 * Returns 0, -SIRA_ENOTFOUND, -SIRA_EINVAL (password length),
 * -SIRA_EMALFORMED (damaged row), -SIRA_ENOMEM or a vault code.
 */
int users_passwd(struct vault_txn *t, const char *login, const char *password,
    const char *actor, uint64_t now, struct sira_err *err);

/*
 * Disable or enable login ("user.disable", "user.enable", at the clock's
 * time); nothing is written when it already is. actor: as for users_add. A
 * disabled account cannot log in. Returns 0, -SIRA_ENOTFOUND, -SIRA_EMALFORMED
 * or a vault code.
 */
int users_set_disabled(struct vault_txn *t, const char *login, bool disabled,
    const char *actor, uint64_t now, struct sira_err *err);

/* Set login's language, "fr" or "en". Returns 0, -SIRA_EINVAL,
 * -SIRA_ENOTFOUND, -SIRA_EMALFORMED or a vault code. */
int users_set_lang(struct vault_txn *t, const char *login, const char *lang,
    struct sira_err *err);

/* Fill *out with login's account. Returns 0, -SIRA_ENOTFOUND,
 * -SIRA_EMALFORMED or a vault code. */
int users_get(struct vault_txn *t, const char *login, struct user_info *out,
    struct sira_err *err);

/*
 * Call fn for every account, in no useful order (the keys are blinded);
 * u is valid during the call only and fn must not write to the vault. fn
 * returns 0 to go on, 1 to stop, or a negative code. Damaged rows are
 * skipped. Returns 0, fn's code or a vault code.
 */
int users_each(struct vault_txn *t,
    int (*fn)(void *ctx, const struct user_info *u), void *ctx,
    struct sira_err *err);

/*
 * Check login and password in the write transaction t at now. Returns 0
 * with *out filled when they are right (failures reset, last_login = now,
 * the hash renewed if its limits are out of date; "user.login"). Returns
 * -SIRA_EAUTH when the login is unknown, disabled or the password wrong:
 * the same code, message and work for each (an unknown login is checked
 * against a fixed dummy hash), so neither the answer nor its time tells
 * which logins exist. A wrong password counts a failure
 * ("user.login_failed"); the USER_FAIL_LOCK-th in a row locks the account
 * until now + USER_LOCK_SECONDS ("user.locked"), and each further one
 * locks it again. While locked: -SIRA_ERATE, even with the right password.
 * The caller commits t in every case, so that failures persist. Also
 * returns -SIRA_EMALFORMED, -SIRA_ENOMEM or a vault code.
 */
int users_login(struct vault_txn *t, const char *login, const char *password,
    uint64_t now, struct user_info *out, struct sira_err *err);

/*
 * home_backup.c: the home h into a new archive out (docs/OPERATIONS.md):
 * a consistent copy of the vault taken while the daemon runs, and the
 * home's other files, encrypted under pass (lib/backup.h). Returns 0,
 * -SIRA_ENOTFOUND (not a home), -SIRA_EEXIST (out exists), -SIRA_EIO or
 * -SIRA_ENOMEM.
 */
struct passphrase;
int home_backup(const struct home *h, const char *out,
    const struct passphrase *pass, struct sira_err *err)
    __attribute__((warn_unused_result));
/*
 * Restore archive into the home dest (absent or empty, or moved aside
 * with force), all or nothing. Returns backup_unpack's codes.
 */
int home_restore(const char *archive, const char *dest,
    const struct passphrase *pass, bool force, struct sira_err *err)
    __attribute__((warn_unused_result));
/*
 * In a home just restored (HOME/restored, which only an archive brings),
 * submit again, in one transaction, every message the broker had accepted
 * whose receipts are missing: they may have come back to the lost copy.
 * *n receives how many; the mark is removed once that is committed. The
 * same transaction sets RESEND_PENDING to the backup's time: the daemon
 * then asks every agency for what reached the lost copy (resend.c).
 * Returns 0 (also when there is nothing to resume) or the vault's codes.
 */
#define RESEND_PENDING "resend.pending" /* VT_META counter: backup time */
int home_resume(struct agent *a, uint64_t now, size_t *n, struct sira_err *err)
    __attribute__((warn_unused_result));

#endif
