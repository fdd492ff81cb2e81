/*
 * daemon.h: the agent daemon's state and the modules of its loop:
 * outbound.c (sealing, submitting, evidence, receipts coming back),
 * inbound.c (deliveries: verify, store once, ack, receipt), daemon.c (the
 * loop, timers, directory, prekeys, status).
 */
#ifndef SIRA_DAEMON_H
#define SIRA_DAEMON_H

#include "agent.h"
#include "link.h"

#define DAEMON_PENDING_MAX 512

enum pending_kind { P_SUBMIT, P_PREKEY, P_DIRECTORY, P_PROOF, P_HELLO };

struct pending {
	uint64_t request_id;
	enum pending_kind kind;
	uint8_t id[16]; /* local id (submit, proof) or prekey key id */
	uint64_t sent_at;
};

/* A delivery held until this session's directory (and CRL) is in. */
struct held {
	uint64_t delivery_id;
	uint8_t *envelope; /* owned */
	size_t len;
};

#define DAEMON_HELD_MAX 64

struct daemon {
	struct agent *a;
	bool synced; /* directory fetched in this session */
	struct held held[DAEMON_HELD_MAX];
	size_t n_held;
	struct link link;
	bool session;
	uint64_t last_rx, last_hb, last_dir, last_pump, last_prekey;
	int64_t skew;
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
void daemon_rehello(struct daemon *d, uint64_t now);
int daemon_request_directory(struct daemon *d, uint64_t now);

/* outbound.c */
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

#endif
