/*
 * probe_main.c: sira-probe's commands, for the broker's end-to-end tests.
 *
 *   sira-probe CONN publish-prekey --prekey-file F
 *   sira-probe CONN send --to ID[,ID...] [--kind K] [--text T] [--count N]
 *                        [--ttl S | --expires-in S] [--clock-offset S]
 *                        [--as ID]
 *                        [--wait-nack S]
 *   sira-probe CONN recv --prekey-file F [--count N] [--no-ack]
 *                        [--timeout S]
 *   sira-probe CONN garbage --count N
 *   sira-probe CONN oversize --size N
 *   sira-probe CONN ping-after --wait-nack S
 *   sira-probe CONN hello
 *   sira-probe CONN seal-attach --to ID --file F --blob-out B --env-out E
 *   sira-probe CONN submit --env E
 *   sira-probe CONN upload --file B [--chunk N] [--delay-ms D]
 *   sira-probe CONN download --blob HEX --out F [--delay-ms D]
 *   sira-probe CONN blast --to ID --count N [--size B] [--window W]
 *   sira-probe CONN sink --count N     (probe_blast.c: make bench)
 *   sira-probe CONN fanin --agents DIR [--count N] [--idle S]
 *                         [--heartbeat-s H]   (probe_fanin.c: make bench)
 * CONN = --endpoint E --ca CA --broker-cert B --cert C --key K [--crl L]
 *
 * Output is one line per event ("accepted ID leaf=N", "nack REASON ...",
 * "delivered ID from=A text=T", "duplicate ID"), for the shell tests to
 * count. Exit status is 0 when the command did what was asked.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "digest.h"
#include "fileio.h"
#include "probe.h"
#include "crypto/crypto.h"
#include "wire.h"

struct args {
	const char *endpoint, *ca, *crl, *broker, *cert, *key, *prekey_file;
	const char *to, *kind, *text, *as, *routing_id;
	const char *file, *blob_out, *env_out, *env, *blob, *out, *agents;
	long idle, heartbeat_s;
	long count, ttl, expires_in, clock_offset, timeout, wait_nack, size,
	    chunk, delay_ms, window;
	int no_ack;
};

static const struct option opts[] = {
	{ "endpoint", required_argument, NULL, 'e' },
	{ "ca", required_argument, NULL, 'a' },
	{ "crl", required_argument, NULL, 'l' },
	{ "broker-cert", required_argument, NULL, 'b' },
	{ "cert", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "prekey-file", required_argument, NULL, 'p' },
	{ "to", required_argument, NULL, 't' },
	{ "kind", required_argument, NULL, 'K' },
	{ "text", required_argument, NULL, 'x' },
	{ "as", required_argument, NULL, 's' },
	{ "routing-id", required_argument, NULL, 'r' },
	{ "count", required_argument, NULL, 'n' },
	{ "ttl", required_argument, NULL, 'T' },
	{ "expires-in", required_argument, NULL, 'X' },
	{ "clock-offset", required_argument, NULL, 'o' },
	{ "timeout", required_argument, NULL, 'w' },
	{ "wait-nack", required_argument, NULL, 'W' },
	{ "size", required_argument, NULL, 'z' },
	{ "no-ack", no_argument, NULL, 'N' },
	{ "file", required_argument, NULL, 'F' },
	{ "blob-out", required_argument, NULL, 'O' },
	{ "env-out", required_argument, NULL, 'V' },
	{ "env", required_argument, NULL, 'E' },
	{ "blob", required_argument, NULL, 'B' },
	{ "out", required_argument, NULL, 'u' },
	{ "chunk", required_argument, NULL, 'C' },
	{ "delay-ms", required_argument, NULL, 'D' },
	{ "window", required_argument, NULL, 'y' },
	{ "agents", required_argument, NULL, 'G' },
	{ "idle", required_argument, NULL, 'I' },
	{ "heartbeat-s", required_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static void
parse(int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->count = 1;
	a->ttl = 86400;
	a->timeout = 20;
	a->kind = "note";
	a->text = "hello";
	a->chunk = 256 * 1024;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			a->endpoint = optarg;
			break;
		case 'a':
			a->ca = optarg;
			break;
		case 'l':
			a->crl = optarg;
			break;
		case 'b':
			a->broker = optarg;
			break;
		case 'c':
			a->cert = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'p':
			a->prekey_file = optarg;
			break;
		case 't':
			a->to = optarg;
			break;
		case 'K':
			a->kind = optarg;
			break;
		case 'x':
			a->text = optarg;
			break;
		case 's':
			a->as = optarg;
			break;
		case 'r':
			a->routing_id = optarg;
			break;
		case 'n':
			a->count = atol(optarg);
			break;
		case 'T':
			a->ttl = atol(optarg);
			break;
		case 'X':
			a->expires_in = atol(optarg);
			break;
		case 'o':
			a->clock_offset = atol(optarg);
			break;
		case 'w':
			a->timeout = atol(optarg);
			break;
		case 'W':
			a->wait_nack = atol(optarg);
			break;
		case 'z':
			a->size = atol(optarg);
			break;
		case 'N':
			a->no_ack = 1;
			break;
		case 'F':
			a->file = optarg;
			break;
		case 'O':
			a->blob_out = optarg;
			break;
		case 'V':
			a->env_out = optarg;
			break;
		case 'E':
			a->env = optarg;
			break;
		case 'B':
			a->blob = optarg;
			break;
		case 'u':
			a->out = optarg;
			break;
		case 'C':
			a->chunk = atol(optarg);
			break;
		case 'D':
			a->delay_ms = atol(optarg);
			break;
		case 'y':
			a->window = atol(optarg);
			break;
		case 'G':
			a->agents = optarg;
			break;
		case 'I':
			a->idle = atol(optarg);
			break;
		case 'H':
			a->heartbeat_s = atol(optarg);
			break;
		default:
			break;
		}
	}
}

static void
hex16(const uint8_t *id, char out[33])
{
	(void)sodium_bin2hex(out, 33, id, 16);
}

/* Prekey file: key_id(8) || pk(32) || sk(32), mode 0600. */
static int
cmd_publish(struct probe *p, const struct args *a)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__PublishPrekey pp = SIRA__V1__PUBLISH_PREKEY__INIT;
	struct prekey *pub;
	struct prekey_secret *sec;
	uint8_t buf[72];
	int rc = 1;

	if (prekey_generate(&(struct prekey_owner){ p->me, p->keys },
		(uint64_t)time(NULL), 7 * 86400, &pub, &sec, NULL) != 0)
		return 1;
	memcpy(buf, sec->key_id, 8);
	memcpy(buf + 8, sec->pk, 32);
	memcpy(buf + 40, sec->sk, 32);
	(void)unlink(a->prekey_file);
	if (fileio_write(a->prekey_file, buf, sizeof(buf), 0600, true, NULL) !=
	    0)
		goto out;
	pp.prekey = sira__v1__prekey__unpack(NULL, pub->raw_len, pub->raw);
	f.body_case = SIRA__V1__FRAME__BODY_PUBLISH_PREKEY;
	f.publish_prekey = &pp;
	if (pp.prekey != NULL && (r = probe_call(p, &f)) != NULL) {
		if (r->body_case == SIRA__V1__FRAME__BODY_ACCEPTED) {
			rc = probe_check_accepted(p, r->accepted) == 0 ? 0 : 1;
			(void)printf("prekey published%s\n",
			    rc ? " (BAD EVIDENCE)" : "");
		} else if (r->body_case == SIRA__V1__FRAME__BODY_NACK)
			(void)printf(
			    "nack %d %s\n", r->nack->reason, r->nack->detail);
		sira__v1__frame__free_unpacked(r, NULL);
	}
	if (pp.prekey != NULL)
		sira__v1__prekey__free_unpacked(pp.prekey, NULL);
out:
	sodium_memzero(buf, sizeof(buf));
	prekey_destroy(&pub);
	prekey_secret_destroy(&sec);
	return rc;
}

/* Encrypt the file at path as the next attachment into blob_path. */
static int
attach_file(struct seal *s, const char *path, const char *blob_path)
{
	int in, out, rc = -1;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	(void)unlink(blob_path);
	if ((out = open(blob_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		 0600)) != -1) {
		rc = seal_attach(
		    s, in, out, "piece.bin", "application/octet-stream", NULL);
		(void)close(out);
	}
	(void)close(in);
	return rc;
}

/* Seal one envelope to the recipients in a->to (comma separated). */
static int
seal_one(struct probe *p, const struct args *a, uint8_t **env, size_t *len)
{
	struct seal_recipient rs[SIRA_RECIPIENTS_MAX];
	struct seal_params sp = { 0 };
	struct sealed_out out;
	struct seal *s;
	char list[1024], *tok, *save = NULL;
	size_t n = 0;
	int kind, rc;

	(void)snprintf(list, sizeof(list), "%s", a->to);
	for (tok = strtok_r(list, ",", &save); tok != NULL && n < 64;
	     tok = strtok_r(NULL, ",", &save)) {
		rs[n].cert = probe_cert_of(p, tok);
		rs[n].prekey = probe_prekey_of(p, tok);
		rs[n].pair_seq = 1;
		if (rs[n].cert == NULL || rs[n].prekey == NULL) {
			(void)printf("no certificate or prekey for %s\n", tok);
			return -1;
		}
		n++;
	}
	if (envelope_kind_parse(a->kind, &kind) != 0)
		return -1;
	sp.sender = a->as ? probe_cert_of(p, a->as) : p->me;
	sp.sender_keys = p->keys;
	sp.kind = kind;
	sp.content_type = "sira.test.v1";
	sp.case_ref = "";
	sp.onward_sharing = 1;
	sp.now = (uint64_t)(time(NULL) + a->clock_offset);
	sp.ttl = (uint32_t)a->ttl;
	/* created_at is rounded down to the minute: to end S seconds from
	 * now, the TTL must cover the part of the minute already gone. */
	if (a->expires_in > 0)
		sp.ttl = (uint32_t)(a->expires_in + (long)(sp.now % 60));
	sp.recipients = rs;
	sp.n_recipients = n;
	if (sp.sender == NULL || seal_begin(&sp, &s, NULL) != 0)
		return -1;
	if (a->file != NULL && a->blob_out != NULL &&
	    attach_file(s, a->file, a->blob_out) != 0) {
		seal_destroy(&s);
		return -1;
	}
	rc = seal_finish(
	    s, (const uint8_t *)a->text, strlen(a->text), &out, NULL);
	*env = out.env;
	*len = out.len;
	seal_destroy(&s);
	return rc;
}

/* Print one answer; returns 1 accepted, 0 nack, -1 other. */
static int
report(struct probe *p, Sira__V1__Frame *r)
{
	char id[33] = "-";

	if (r->body_case == SIRA__V1__FRAME__BODY_ACCEPTED) {
		int ok = probe_check_accepted(p, r->accepted) == 0;
		if (r->accepted->message_id.len == 16)
			hex16(r->accepted->message_id.data, id);
		(void)printf("accepted %s leaf=%llu evidence=%s\n", id,
		    (unsigned long long)r->accepted->leaf_index,
		    ok ? "ok" : "BAD");
		return ok ? 1 : -1;
	}
	if (r->body_case == SIRA__V1__FRAME__BODY_NACK) {
		(void)printf("nack %s %s\n",
		    sira_strerror((int)r->nack->reason), r->nack->detail);
		return 0;
	}
	return -1;
}

/* An answer to a submission: the broker's Accepted or Nack. */
static int
is_answer(const Sira__V1__Frame *r)
{
	return r->body_case == SIRA__V1__FRAME__BODY_ACCEPTED ||
	    r->body_case == SIRA__V1__FRAME__BODY_NACK;
}

/* Waits up to `seconds` for a late Nack (expiry), saying we are alive: a
 * silent peer is dropped after three heartbeats. Returns 1 if one came. */
static int
wait_late_nack(struct probe *p, long seconds)
{
	for (long t = 0; t < seconds; t++) {
		Sira__V1__Frame hb = SIRA__V1__FRAME__INIT;
		Sira__V1__Heartbeat h = SIRA__V1__HEARTBEAT__INIT;
		Sira__V1__Frame *r;
		int got = 0;
		hb.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
		hb.heartbeat = &h;
		(void)probe_send(p, &hb);
		while (!got && (r = probe_recv(p, 1000)) != NULL) {
			if (r->body_case == SIRA__V1__FRAME__BODY_NACK)
				got = report(p, r) == 0;
			sira__v1__frame__free_unpacked(r, NULL);
		}
		if (got)
			return 1;
	}
	return 0;
}

/* Exit 0 when every submission was answered (accepted or refused) and,
 * with --wait-nack, the late expiry Nack came too. */
static int
cmd_send(struct probe *p, const struct args *a)
{
	long accepted = 0, nacked = 0, sent = 0, expired = 0;
	Sira__V1__Frame *r, *answers[1024];
	size_t n = 0;

	if (probe_directory(p) != 0)
		return 1;
	for (long i = 0; i < a->count; i++) {
		uint8_t *env;
		size_t len;
		if (seal_one(p, a, &env, &len) != 0)
			return 1;
		if (probe_submit(p, env, len) == 0)
			sent++;
		free(env);
	}
	/* Collect every answer first: checking evidence asks the broker.
	 * Anything else the broker says meanwhile (heartbeats) is dropped. */
	while ((long)n < sent && n < 1024 &&
	    (r = probe_recv(p, (int)a->timeout * 1000)) != NULL) {
		if (is_answer(r))
			answers[n++] = r;
		else
			sira__v1__frame__free_unpacked(r, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		int k = report(p, answers[i]);
		accepted += k == 1;
		nacked += k == 0;
		sira__v1__frame__free_unpacked(answers[i], NULL);
	}
	if (a->wait_nack > 0)
		expired = wait_late_nack(p, a->wait_nack);
	(void)printf("sent=%ld accepted=%ld nacked=%ld expired=%ld\n", sent,
	    accepted, nacked, expired);
	if (accepted + nacked != sent)
		return 1;
	return a->wait_nack > 0 && expired == 0 ? 1 : 0;
}

/* Recipient side state for the open callbacks. */
struct rx {
	struct probe *p;
	struct prekey_secret sec;
	uint8_t seen[1024][16];
	size_t n_seen;
};

static int
rx_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	struct rx *x = ctx;

	(void)cert_id;
	if (memcmp(key_id, x->sec.key_id, 8) != 0)
		return -SIRA_EPREKEY;
	*out = &x->sec;
	return 0;
}

static int
rx_sender(void *ctx, const char *agency, const uint8_t *cert_id, uint64_t at,
    const struct cert **out, struct sira_err *err)
{
	struct rx *x = ctx;
	const struct cert *c = probe_cert_of(x->p, agency);

	(void)at;
	if (c == NULL || memcmp(c->id, cert_id, 32) != 0)
		return sira_err_set(
		    err, SIRA_EUNKNOWN_AGENCY, "unknown sender");
	*out = c;
	return 0;
}

static int
rx_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	(void)ctx;
	(void)cert_id;
	(void)msgid;
	return 0; /* duplicates are counted by the caller, not refused */
}

static int
was_seen(struct rx *x, const uint8_t *id)
{
	for (size_t i = 0; i < x->n_seen; i++)
		if (memcmp(x->seen[i], id, 16) == 0)
			return 1;
	if (x->n_seen < 1024)
		memcpy(x->seen[x->n_seen++], id, 16);
	return 0;
}

static void
take_delivery(struct rx *x, const struct args *a, const Sira__V1__Deliver *d)
{
	struct open_keys keys = { x->p->me, x, rx_prekey, rx_sender, rx_seen,
		NULL };
	struct opened *o;
	struct sira_err err;
	char id[33];

	if (seal_open(d->envelope.data, d->envelope.len, &keys,
		(uint64_t)time(NULL), &o, &err) != 0) {
		(void)printf("refused %s\n", err.msg);
		if (!a->no_ack)
			probe_ack(x->p, d->delivery_id);
		return;
	}
	hex16(o->env->h->message_id.data, id);
	(void)printf("%s %s from=%s text=%.*s\n",
	    was_seen(x, o->env->h->message_id.data) ? "duplicate" : "delivered",
	    id, o->env->h->sender_agency_id, (int)o->payload_len,
	    (const char *)o->payload);
	(void)fflush(stdout);
	seal_opened_destroy(&o);
	if (!a->no_ack)
		probe_ack(x->p, d->delivery_id);
}

static int
cmd_recv(struct probe *p, const struct args *a)
{
	struct rx *x = calloc(1, sizeof(*x));
	uint8_t *buf = NULL;
	size_t len = 0;
	long got = 0;
	Sira__V1__Frame *r;

	if (x == NULL || a->prekey_file == NULL ||
	    fileio_read(a->prekey_file, 72, &buf, &len, NULL) != 0 ||
	    len != 72 || probe_directory(p) != 0) {
		free(buf);
		free(x);
		return 1;
	}
	x->p = p;
	memcpy(x->sec.key_id, buf, 8);
	memcpy(x->sec.pk, buf + 8, 32);
	memcpy(x->sec.sk, buf + 40, 32);
	sodium_memzero(buf, len);
	free(buf);
	while (got < a->count &&
	    (r = probe_recv(p, (int)a->timeout * 1000)) != NULL) {
		if (r->body_case == SIRA__V1__FRAME__BODY_DELIVER) {
			take_delivery(x, a, r->deliver);
			got++;
		}
		sira__v1__frame__free_unpacked(r, NULL);
	}
	/* Let the broker commit the acks before we vanish. */
	(void)probe_recv(p, 300);
	(void)printf("received=%ld\n", got);
	sodium_memzero(&x->sec, sizeof(x->sec));
	free(x);
	return got == a->count ? 0 : 1;
}

static int
cmd_garbage(struct probe *p, const struct args *a)
{
	uint8_t junk[512];
	long nacks = 0;
	Sira__V1__Frame *r;

	for (long i = 0; i < a->count; i++) {
		randombytes_buf(junk, sizeof(junk));
		(void)probe_send_raw(p, junk, (size_t)(1 + i % 511));
	}
	while (nacks < a->count && (r = probe_recv(p, 3000)) != NULL) {
		nacks += r->body_case == SIRA__V1__FRAME__BODY_NACK;
		sira__v1__frame__free_unpacked(r, NULL);
	}
	(void)printf("garbage=%ld nacks=%ld\n", a->count, nacks);
	return 0;
}

static int
cmd_oversize(struct probe *p, const struct args *a)
{
	uint8_t *big = calloc(1, (size_t)a->size);
	int rc;

	if (big == NULL)
		return 1;
	rc = probe_send_raw(p, big, (size_t)a->size);
	free(big);
	(void)printf("oversize sent=%d\n", rc == 0);
	return 0;
}

/* Say hello, wait, then ping: a dropped session gets no answer. */
static int
cmd_ping_after(struct probe *p, const struct args *a)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__Heartbeat h = SIRA__V1__HEARTBEAT__INIT;

	(void)sleep((unsigned)a->wait_nack);
	h.seq = 1;
	f.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &h;
	p->timeout_ms = 3000;
	if ((r = probe_call(p, &f)) == NULL) {
		(void)printf("no answer\n");
		return 1;
	}
	(void)printf("pong\n");
	sira__v1__frame__free_unpacked(r, NULL);
	return 0;
}

/* ---- attachments: seal, upload, submit, download ---- */

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	if (ms > 0)
		(void)nanosleep(&ts, NULL);
}

/* Seal an envelope with a->file as attachment; write blob and envelope. */
static int
cmd_seal_attach(struct probe *p, const struct args *a)
{
	uint8_t *env = NULL, *blob = NULL, id[32];
	char hex[65];
	size_t len, blen;
	int rc = 1;

	if (a->file == NULL || a->blob_out == NULL || a->env_out == NULL ||
	    probe_directory(p) != 0 || seal_one(p, a, &env, &len) != 0)
		return 1;
	(void)unlink(a->env_out);
	if (fileio_write(a->env_out, env, len, 0600, true, NULL) == 0 &&
	    fileio_read(a->blob_out, 1u << 30, &blob, &blen, NULL) == 0) {
		digest_sha256(id, blob, blen);
		(void)sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
		(void)printf("blob %s len=%zu\n", hex, blen);
		rc = 0;
	}
	free(env);
	free(blob);
	return rc;
}

static int
cmd_submit(struct probe *p, const struct args *a)
{
	Sira__V1__Frame *r;
	uint8_t *env;
	size_t len;
	int k = -1;

	if (a->env == NULL ||
	    fileio_read(a->env, SIRA_ENVELOPE_MAX, &env, &len, NULL) != 0)
		return 1;
	if (probe_submit(p, env, len) == 0 &&
	    (r = probe_recv(p, (int)a->timeout * 1000)) != NULL) {
		k = report(p, r);
		sira__v1__frame__free_unpacked(r, NULL);
	}
	free(env);
	return k == 1 ? 0 : 1;
}

/* Send one chunk; returns the answer (caller frees) or NULL. */
static Sira__V1__Frame *
chunk_call(struct probe *p, int body, const uint8_t id[32], uint64_t off,
    const uint8_t *ct, size_t len, int last)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__ChunkPut cp = SIRA__V1__CHUNK_PUT__INIT;
	Sira__V1__ChunkGet g = SIRA__V1__CHUNK_GET__INIT;
	Sira__V1__ChunkStatus q = SIRA__V1__CHUNK_STATUS__INIT;
	Sira__V1__AttachmentChunk c = SIRA__V1__ATTACHMENT_CHUNK__INIT;
	ProtobufCBinaryData bid = { 32, (uint8_t *)(uintptr_t)id };

	f.body_case = (Sira__V1__Frame__BodyCase)body;
	if (body == SIRA__V1__FRAME__BODY_CHUNK_PUT) {
		c.blob_id = bid;
		c.offset = off;
		c.ct.data = (uint8_t *)(uintptr_t)ct;
		c.ct.len = len;
		c.last = last;
		cp.chunk = &c;
		f.chunk_put = &cp;
	} else if (body == SIRA__V1__FRAME__BODY_CHUNK_GET) {
		g.blob_id = bid;
		g.offset = off;
		f.chunk_get = &g;
	} else {
		q.blob_id = bid;
		f.chunk_status = &q;
	}
	return probe_call(p, &f);
}

/* Print a refusal or a missing answer; returns 1. */
static int
chunk_refused(Sira__V1__Frame *r)
{
	if (r == NULL)
		(void)printf("no answer\n");
	else if (r->body_case == SIRA__V1__FRAME__BODY_NACK)
		(void)printf("nack %s %s\n",
		    sira_strerror((int)r->nack->reason), r->nack->detail);
	else
		(void)printf("unexpected answer %d\n", (int)r->body_case);
	if (r != NULL)
		sira__v1__frame__free_unpacked(r, NULL);
	return 1;
}

/* Upload a->file from where the broker's copy ends, like a resuming agent. */
static int
cmd_upload(struct probe *p, const struct args *a)
{
	Sira__V1__Frame *r;
	uint8_t *blob, id[32];
	uint64_t off;
	size_t len, chunk = (size_t)a->chunk;
	int rc = 1;

	if (a->file == NULL ||
	    fileio_read(a->file, 1u << 30, &blob, &len, NULL) != 0)
		return 1;
	digest_sha256(id, blob, len);
	r = chunk_call(
	    p, SIRA__V1__FRAME__BODY_CHUNK_STATUS, id, 0, NULL, 0, 0);
	if (r == NULL || r->body_case != SIRA__V1__FRAME__BODY_CHUNK_STATUS) {
		free(blob);
		return chunk_refused(r);
	}
	off = r->chunk_status->stored;
	rc = r->chunk_status->complete ? 0 : 1;
	sira__v1__frame__free_unpacked(r, NULL);
	(void)printf("resume at %llu\n", (unsigned long long)off);
	while (rc != 0 && off <= len) {
		size_t n = len - off < chunk ? (size_t)(len - off) : chunk;
		r = chunk_call(p, SIRA__V1__FRAME__BODY_CHUNK_PUT, id, off,
		    blob + off, n, off + n == len);
		if (r == NULL ||
		    r->body_case != SIRA__V1__FRAME__BODY_CHUNK_STATUS) {
			(void)chunk_refused(r);
			break;
		}
		off = r->chunk_status->stored;
		rc = r->chunk_status->complete ? 0 : 1;
		sira__v1__frame__free_unpacked(r, NULL);
		(void)fflush(stdout);
		pause_ms(a->delay_ms);
	}
	if (rc == 0)
		(void)printf(
		    "uploaded %llu complete\n", (unsigned long long)off);
	free(blob);
	return rc;
}

/* Download blob a->blob into a->out, resuming after what a->out holds. */
static int
cmd_download(struct probe *p, const struct args *a)
{
	const Sira__V1__AttachmentChunk *c;
	Sira__V1__Frame *r;
	uint8_t id[32];
	size_t idlen = 0;
	struct stat sb;
	uint64_t off;
	int fd, rc = 1, done = 0;

	if (a->blob == NULL || a->out == NULL ||
	    sodium_hex2bin(id, sizeof(id), a->blob, strlen(a->blob), NULL,
		&idlen, NULL) != 0 ||
	    idlen != 32 ||
	    (fd = open(a->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0600)) == -1)
		return 2;
	off = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	(void)printf("resume at %llu\n", (unsigned long long)off);
	while (!done) {
		r = chunk_call(
		    p, SIRA__V1__FRAME__BODY_CHUNK_GET, id, off, NULL, 0, 0);
		if (r == NULL ||
		    r->body_case != SIRA__V1__FRAME__BODY_CHUNK_PUT ||
		    (c = r->chunk_put->chunk) == NULL || c->offset != off) {
			(void)chunk_refused(r);
			break;
		}
		if (fileio_write_all(fd, c->ct.data, c->ct.len) != 0) {
			sira__v1__frame__free_unpacked(r, NULL);
			break;
		}
		off += c->ct.len;
		done = c->last;
		sira__v1__frame__free_unpacked(r, NULL);
		pause_ms(a->delay_ms);
	}
	if (done && fsync(fd) == 0) {
		(void)printf("downloaded %llu\n", (unsigned long long)off);
		rc = 0;
	}
	(void)close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct probe p;
	struct args a;
	const char *cmd;
	int rc;

	if (argc < 2 || sodium_init() < 0)
		return 2;
	(void)setvbuf(stdout, NULL, _IOLBF, 0); /* tests follow it live */
	cmd = argv[1];
	parse(argc - 1, argv + 1, &a);
	memset(&p, 0, sizeof(p));
	p.timeout_ms = (int)a.timeout * 1000;
	if (probe_connect(&p, a.endpoint, a.ca, a.crl, a.broker, a.cert, a.key,
		a.routing_id) != 0)
		return 1;
	if (probe_hello(&p) != 0) {
		(void)printf("hello failed\n");
		probe_close(&p);
		return 3;
	}
	if (strcmp(cmd, "hello") == 0)
		rc = 0;
	else if (strcmp(cmd, "publish-prekey") == 0)
		rc = cmd_publish(&p, &a);
	else if (strcmp(cmd, "send") == 0)
		rc = cmd_send(&p, &a);
	else if (strcmp(cmd, "recv") == 0)
		rc = cmd_recv(&p, &a);
	else if (strcmp(cmd, "garbage") == 0)
		rc = cmd_garbage(&p, &a);
	else if (strcmp(cmd, "ping-after") == 0)
		rc = cmd_ping_after(&p, &a);
	else if (strcmp(cmd, "oversize") == 0)
		rc = cmd_oversize(&p, &a);
	else if (strcmp(cmd, "seal-attach") == 0)
		rc = cmd_seal_attach(&p, &a);
	else if (strcmp(cmd, "submit") == 0)
		rc = cmd_submit(&p, &a);
	else if (strcmp(cmd, "upload") == 0)
		rc = cmd_upload(&p, &a);
	else if (strcmp(cmd, "download") == 0)
		rc = cmd_download(&p, &a);
	else if (strcmp(cmd, "blast") == 0 || strcmp(cmd, "sink") == 0) {
		const struct probe_load l = { a.to, a.count,
			a.size > 0 ? a.size : 1024,
			a.window > 0 ? a.window : 64 };
		rc = cmd[0] == 'b' ? probe_blast(&p, &l) : probe_sink(&p, &l);
	} else if (strcmp(cmd, "fanin") == 0) {
		const struct probe_fanin l = { a.endpoint, a.agents, a.count,
			a.timeout, a.idle > 0 ? a.idle : 3600,
			a.heartbeat_s > 0 ? a.heartbeat_s : 2 };
		rc = probe_fanin(&p, &l);
	} else
		rc = 2;
	probe_close(&p);
	return rc;
}
