/*
 * router.c: the broker's sockets and main loop.
 *
 * One thread owns everything: the ROUTER socket (CURVE server), the ZAP
 * handler and the store. Each round (router_round, which main.c's loop
 * calls between its signal checks) answers pending ZAP requests, reads up
 * to BROKER_BATCH frames, and applies them in one group commit
 * (commit.c); frames leave through send.c. A frame is accepted only with
 * exactly two parts (routing id, payload) and a ZAP User-Id; anything else is
 * dropped and counted. The peer cannot crash the loop: every failure is a
 * refusal, never an assert.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "batch.h"
#include "blobs.h"
#include "clock.h"
#include "digest.h"
#include "fileio.h"
#include "log.h"
#include "zap.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
router_start(struct broker *b, struct sira_err *err)
{
	size_t len = sizeof(b->endpoint);
	char path[PATH_MAX + 16];
	int rc;

	if ((b->zctx = zmq_ctx_new()) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, "cannot create ZeroMQ context");
	/* The ZAP handler must exist before the CURVE socket binds. */
	if ((rc = zap_start(b->zctx, &b->zap, err)) != 0)
		return rc;
	if ((b->router = zmq_socket(b->zctx, ZMQ_ROUTER)) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, "cannot create router socket");
	if ((rc = zap_configure_server(b->router, b->keys->transport_sk,
		 (size_t)b->cfg.max_frame, (int)(b->cfg.heartbeat * 1000),
		 err)) != 0)
		return rc;
	if (zmq_bind(b->router, b->cfg.listen) != 0)
		return sira_err_set(err, SIRA_EIO, "cannot listen on %s: %s",
		    b->cfg.listen, zmq_strerror(zmq_errno()));
	if (zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, b->endpoint, &len) !=
	    0)
		return sira_err_set(
		    err, SIRA_EIO, "cannot read bound endpoint");
	if ((rc = zap_self_test(&(struct zap_server){ b->zctx, b->endpoint,
				    b->me->transport_pk },
		 b->zap, b->dir, clock_now(), err)) != 0)
		return rc;
	/* Tests and operators read the real endpoint (port "*" resolved). */
	(void)snprintf(path, sizeof(path), "%s/endpoint", b->cfg.data);
	return fileio_write(path, (const uint8_t *)b->endpoint,
	    strlen(b->endpoint), 0644, false, err);
}

/*
 * Each refused key is logged (stderr and transparency log) at most once
 * an hour, in a fixed table of the last BROKER_REFUSALS keys: an
 * unauthenticated client trying random keys costs a counter, not a leaf.
 */
static bool
refusal_is_new(struct broker *b, const uint8_t hash[32], uint64_t now)
{
	struct refusal *oldest = &b->refusals[0];

	for (size_t i = 0; i < BROKER_REFUSALS; i++) {
		struct refusal *r = &b->refusals[i];
		if (memcmp(r->key_hash, hash, 32) == 0 && now - r->at < 3600) {
			b->refusals_quiet++;
			return false;
		}
		if (r->at < oldest->at)
			oldest = r;
	}
	/* A new key while the table is full of recent ones: a flood. */
	if (now - oldest->at < 60) {
		b->refusals_quiet++;
		return false;
	}
	memcpy(oldest->key_hash, hash, 32);
	oldest->at = now;
	return true;
}

static void
serve_zap(struct broker *b, struct batch *bt, uint64_t now)
{
	struct zap_decision dec;
	uint8_t hash[32];

	while (zap_handle(b->zap, b->dir, now, &dec, NULL) == 0) {
		if (dec.accepted)
			continue; /* logged when its Hello arrives */
		b->count.refused++;
		/* The log holds a hash of the key, which is public anyway. */
		digest_sha256(hash, dec.key, sizeof(dec.key));
		if (!refusal_is_new(b, hash, now))
			continue; /* a flood must not fill the permanent log */
		log_event(LOG_WARN, "peer.refused",
		    "key=%s address=%s reason=%s quieted_since_last=%llu",
		    dec.key_hex, dec.address, dec.reason,
		    (unsigned long long)b->refusals_quiet);
		b->refusals_quiet = 0;
		batch_leaf(bt,
		    &(struct leaf_event){
			.type = SIRA__V1__LEAF_TYPE__LEAF_TYPE_PEER_REFUSED,
			.hash = hash,
			.actor = "",
			.reason = SIRA_EUNKNOWN_AGENCY });
	}
}

/* Split the ZAP User-Id "<agency>/<cert id hex>" set by zap.c. */
static int
parse_user_id(const char *user, char agency[static SIRA_AGENCY_ID_MAX + 1],
    uint8_t cert_id[static SIRA_HASH_LEN])
{
	const char *slash = strchr(user, '/');
	size_t alen, binlen;

	if (slash == NULL || (alen = (size_t)(slash - user)) == 0 ||
	    alen > SIRA_AGENCY_ID_MAX)
		return -1;
	memcpy(agency, user, alen);
	agency[alen] = '\0';
	if (sodium_hex2bin(cert_id, SIRA_HASH_LEN, slash + 1, strlen(slash + 1),
		NULL, &binlen, NULL) != 0 ||
	    binlen != SIRA_HASH_LEN)
		return -1;
	return 0;
}

/* Read one [routing id, payload] message; 0, 1 (nothing) or -1 (bad). */
static int
read_message(struct broker *b, struct batch *bt, uint64_t now)
{
	zmq_msg_t rid, data;
	char agency[SIRA_AGENCY_ID_MAX + 1];
	uint8_t cert_id[SIRA_HASH_LEN];
	const char *user;
	int more, rc = 0;

	zmq_msg_init(&rid);
	if (zmq_msg_recv(&rid, b->router, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&rid);
		return 1;
	}
	zmq_msg_init(&data);
	if (!zmq_msg_more(&rid) || zmq_msg_recv(&data, b->router, 0) == -1 ||
	    zmq_msg_size(&rid) > sizeof(((struct session *)0)->rid)) {
		rc = -1;
		goto out;
	}
	if ((more = zmq_msg_more(&data)) != 0) {
		/* Extra parts: drain them and drop the whole message. */
		while (more) {
			zmq_msg_t x;
			zmq_msg_init(&x);
			(void)zmq_msg_recv(&x, b->router, 0);
			more = zmq_msg_more(&x);
			zmq_msg_close(&x);
		}
		rc = -1;
		goto out;
	}
	if ((user = zmq_msg_gets(&data, "User-Id")) == NULL ||
	    parse_user_id(user, agency, cert_id) != 0) {
		rc = -1; /* never happens with ZAP enforced; refuse anyway */
		goto out;
	}
	(void)handle_frame(
	    &(struct request){ b, bt, zmq_msg_data(&rid), zmq_msg_size(&rid),
		agency, cert_id, now, now_ms() },
	    bytes_of(zmq_msg_data(&data), zmq_msg_size(&data)));
out:
	if (rc != 0) {
		b->count.malformed++;
		/* Once per burst, like malformed frames (session.c). */
		if (b->dropped_since != 0 &&
		    now - b->dropped_since < BROKER_MALFORMED_QUIET) {
			b->dropped_quiet++;
		} else {
			log_event(LOG_WARN, "frame.dropped",
			    "reason=not a two-part message from an authenticated peer quieted_since_last=%llu",
			    (unsigned long long)b->dropped_quiet);
			b->dropped_since = now;
			b->dropped_quiet = 0;
		}
	}
	zmq_msg_close(&rid);
	zmq_msg_close(&data);
	return rc;
}

/* Attachment blobs nobody needs any more (blob_refs.c), every few minutes. */
static void
sweep_blobs(struct broker *b, uint64_t now)
{
	struct sira_err err;

	b->blobs_sweep_at = now + BLOBS_SWEEP_EVERY;
	if (blobs_sweep(b->blobs, b->store, now, NULL, &err) != 0)
		log_event(LOG_WARN, "blob.sweep_failed", "reason=%s", err.msg);
}

int
router_round(struct broker *b, struct batch *bt)
{
	zmq_pollitem_t items[2] = { { b->router, 0, ZMQ_POLLIN, 0 },
		{ b->zap, 0, ZMQ_POLLIN, 0 } };
	uint64_t now;

	if (zmq_poll(items, 2, 1000) == -1 && zmq_errno() != EINTR)
		return -SIRA_EIO;
	now = clock_now();
	serve_zap(b, bt, now);
	if (now >= b->recheck_at) {
		/* Certificates expire while their sessions live. */
		(void)session_recheck(b, bt, now);
		b->recheck_at = now + 60;
	}
	for (int i = 0; i < BROKER_BATCH; i++)
		if (read_message(b, bt, now) == 1)
			break;
	(void)commit_batch(b, bt, now);
	session_flush_quiet(b, now);
	if (now >= b->status_at) {
		status_write(b, now);
		b->status_at = now + 2;
	}
	if (b->blobs != NULL && now >= b->blobs_sweep_at)
		sweep_blobs(b, now);
	return 0;
}

void
router_drain(struct broker *b, struct batch *bt)
{
	(void)commit_batch(b, bt, clock_now());
	status_write(b, clock_now());
}

void
router_stop(struct broker *b)
{
	if (b->router != NULL)
		zmq_close(b->router);
	if (b->zap != NULL)
		zmq_close(b->zap);
	if (b->zctx != NULL)
		zmq_ctx_term(b->zctx);
	b->router = b->zap = b->zctx = NULL;
}
