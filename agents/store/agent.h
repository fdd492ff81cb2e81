/*
 * agent.h: the structures the agent's modules share. One struct agent is
 * owned by main() (CLI commands) or by the daemon loop, and passed down;
 * there is no other process-wide state.
 */
#ifndef SIRA_AGENT_H
#define SIRA_AGENT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.pb-c.h"
#include "cert.h"
#include "crl.h"
#include "err.h"
#include "keyfile.h"
#include "store/vault.h"

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
};

/* nudge.c: the daemon's doorbell at ipc://HOME/nudge. The endpoint is 0
 * or -1 (path too long); ringing is a no-op when no daemon listens. */
int nudge_endpoint(const struct home *h, char out[PATH_MAX + 16]);
void nudge_daemon(const struct home *h);

/* home.c */
int home_path(const struct home *h, const char *name, char out[PATH_MAX],
    struct sira_err *err);
int home_resolve(const char *opt, struct home *h, struct sira_err *err);
int home_init(const struct home *h, const char *cert, const char *key,
    const char *ca, const char *broker, const char *broker_cert,
    const char *pass_file, struct sira_err *err);
int agent_open(
    struct agent *a, const char *pass_file, uint64_t now, struct sira_err *err);
void agent_close(struct agent *a);
int agent_save_crl(struct agent *a, const uint8_t *bytes, size_t len,
    uint64_t now, struct sira_err *err);

/* book.c: the outbox, the inbox and the audit chain, on the vault. */
int book_audit(struct vault_txn *t, uint64_t now, const char *action,
    const char *counterpart, const uint8_t *msgid, int reason,
    struct sira_err *err);
int book_audit_verify(
    struct vault_txn *t, uint64_t *n, uint64_t *bad, struct sira_err *err);
int book_queue(struct vault_txn *t, const char *const *to, size_t n_to,
    int kind, const char *content_type, const char *case_ref,
    const uint8_t *payload, size_t len, uint32_t ttl, uint64_t now,
    uint8_t local_id[16], struct sira_err *err);
int book_get_out(struct vault_txn *t, const uint8_t *local_id,
    Sira__V1__OutboxEntry **out, struct sira_err *err);
int book_put_out(struct vault_txn *t, Sira__V1__OutboxEntry *e, uint64_t now,
    struct sira_err *err);
int book_get_in(struct vault_txn *t, const uint8_t *msgid,
    Sira__V1__InboxEntry **out, struct sira_err *err);
const char *book_state_name(int state);
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
/*
 * Up to max rows due at now (next_at <= now) of the states whose bit
 * (1 << state) is in states, most overdue first, into rows[0..*n).
 */
int outq_due(struct vault_txn *t, uint64_t now, unsigned states,
    struct outq_row *rows, size_t max, size_t *n, struct sira_err *err);
/* Every row of state, due or not, into a fresh *rows (caller frees). */
int outq_all(struct vault_txn *t, int state, struct outq_row **rows, size_t *n,
    struct sira_err *err);
/* Index the live entries of an outbox written before the index existed
 * (once: sets "outq.version"); *indexed receives how many. */
int outq_rebuild(
    struct vault_txn *t, uint64_t now, size_t *indexed, struct sira_err *err);

#endif
