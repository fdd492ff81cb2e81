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
#include "vault.h"

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
/* 16 fresh random bytes: message ids, request ids. */
void book_new_id(uint8_t id[16]);

#endif
