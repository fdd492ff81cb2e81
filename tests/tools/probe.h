/*
 * probe.h: sira-probe, a test client that talks to a real broker the way an
 * agent will: CURVE with its agency keys, the broker pinned by its
 * CA-verified certificate, real sealed envelopes. Test tool only: never
 * installed.
 */
#ifndef SIRA_PROBE_H
#define SIRA_PROBE_H

#include <stdint.h>

#include "cert.h"
#include "control.pb-c.h"
#include "crl.h"
#include "keyfile.h"
#include "crypto/crypto.h"

/* Directory entries kept: the fan-in benchmark serves thousands. */
#define PROBE_DIR_MAX 4096

struct probe {
	void *zctx, *sock;
	struct cert *ca;
	struct crl *crl;
	struct cert *me;
	struct sira_keys *keys;
	struct cert *broker;
	uint64_t next_request;
	int timeout_ms;
	/* The directory as fetched and verified. */
	struct cert *certs[PROBE_DIR_MAX];
	struct prekey *prekeys[PROBE_DIR_MAX];
	size_t n_certs, n_prekeys;
	/* Frames that arrived while waiting for a specific answer. */
	Sira__V1__Frame *queue[1024];
	size_t n_queue;
	/* Last checkpoint accepted, for consistency checks. */
	uint64_t cp_size;
	uint8_t cp_root[32];
};

int probe_connect(struct probe *p, const char *endpoint, const char *ca,
    const char *crl, const char *broker_cert, const char *cert, const char *key,
    const char *routing_id);
int probe_send(struct probe *p, Sira__V1__Frame *f);
int probe_send_raw(struct probe *p, const uint8_t *data, size_t len);
/* Submit envelope bytes (request id from probe_send); Ack a delivery. */
int probe_submit(struct probe *p, const uint8_t *env, size_t len);
void probe_ack(struct probe *p, uint64_t delivery_id);
Sira__V1__Frame *probe_recv(struct probe *p, int timeout_ms);
Sira__V1__Frame *probe_call(struct probe *p, Sira__V1__Frame *f);
int probe_hello(struct probe *p);
int probe_directory(struct probe *p);
const struct cert *probe_cert_of(const struct probe *p, const char *agency);
const struct prekey *probe_prekey_of(const struct probe *p, const char *agency);
int probe_check_accepted(struct probe *p, const Sira__V1__Accepted *a);
int probe_leaf_hash(struct probe *p, uint64_t index, uint64_t size,
    const uint8_t *expect, uint8_t out[static 32]);
void probe_close(struct probe *p);

/* probe_blast.c: load for the broker-alone benchmark. */
struct probe_load {
	const char *to;
	long count, size, window;
};
int probe_blast(struct probe *p, const struct probe_load *l);
int probe_sink(struct probe *p, const struct probe_load *l);

/* probe_fanin.c: many idle agencies at once, for the fan-in benchmark. */
struct probe_fanin {
	const char *endpoint, *dir;           /* dir holds ID.key and ID.cert */
	long count, timeout, idle, heartbeat; /* timeout: to connect, s */
};
int probe_fanin(const struct probe *p, const struct probe_fanin *l);

#endif
