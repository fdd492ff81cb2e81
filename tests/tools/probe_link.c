/*
 * probe_link.c: sira-probe's connection: CURVE client socket, frames,
 * Hello, the verified directory, and checking the evidence in Accepted
 * (signed checkpoint + inclusion proof, consistency with the last one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "digest.h"
#include "fileio.h"
#include "log.pb-c.h"
#include "merkle.h"
#include "probe.h"
#include "sign.h"
#include "signed.h"
#include "wire.h"

static int
load_file(const char *path, const char *magic, uint8_t **buf,
    const uint8_t **body, size_t *len)
{
	size_t n;

	if (fileio_read(path, 1u << 24, buf, &n, NULL) != 0)
		return -1;
	if (wire_strip_magic(
		bytes_of(*buf, n), magic, "file", body, len, NULL) != 0) {
		free(*buf);
		return -1;
	}
	return 0;
}

static int
load_trust(struct probe *p, const char *ca, const char *crl,
    const char *broker_cert, const char *cert, uint64_t now)
{
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if (load_file(ca, SIRA_MAGIC_CERT, &buf, &body, &len) != 0)
		return -1;
	rc = cert_load_ca(body, len, now, &p->ca, NULL);
	free(buf);
	if (rc == 0 && crl != NULL) {
		if (load_file(crl, SIRA_MAGIC_CRL, &buf, &body, &len) != 0)
			return -1;
		rc = crl_verify(p->ca, body, len, &p->crl, NULL);
		free(buf);
	}
	if (rc == 0 &&
	    load_file(broker_cert, SIRA_MAGIC_CERT, &buf, &body, &len) == 0) {
		rc = cert_verify(
		    p->ca, NULL, bytes_of(body, len), now, &p->broker, NULL);
		free(buf);
	}
	if (rc == 0 &&
	    load_file(cert, SIRA_MAGIC_CERT, &buf, &body, &len) == 0) {
		/* Our own cert may be revoked: that is what some tests try. */
		rc = cert_unsafe_decode(body, len, &p->me, NULL);
		free(buf);
	}
	return rc == 0 && p->broker != NULL && p->me != NULL ? 0 : -1;
}

int
probe_connect(struct probe *p, const char *endpoint, const char *ca,
    const char *crl, const char *broker_cert, const char *cert, const char *key,
    const char *routing_id)
{
	struct keyfile *kf;
	char spk[41], pk[41], sk[41];
	int linger = 0;

	if (load_trust(p, ca, crl, broker_cert, cert, (uint64_t)time(NULL)) !=
	    0) {
		(void)fprintf(stderr, "probe: cannot load certificates\n");
		return -1;
	}
	if (keyfile_open(key, &kf, NULL) != 0 ||
	    keyfile_unlock(kf, NULL, 0, &p->keys, NULL) != 0) {
		(void)fprintf(stderr, "probe: cannot load key %s\n", key);
		return -1;
	}
	keyfile_close(&kf);
	zmq_z85_encode(spk, p->broker->transport_pk, 32);
	zmq_z85_encode(pk, p->keys->transport_pk, 32);
	zmq_z85_encode(sk, p->keys->transport_sk, 32);
	p->zctx = zmq_ctx_new();
	p->sock = zmq_socket(p->zctx, ZMQ_DEALER);
	(void)zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof(linger));
	(void)zmq_setsockopt(p->sock, ZMQ_CURVE_SERVERKEY, spk, 40);
	(void)zmq_setsockopt(p->sock, ZMQ_CURVE_PUBLICKEY, pk, 40);
	(void)zmq_setsockopt(p->sock, ZMQ_CURVE_SECRETKEY, sk, 40);
	if (routing_id != NULL)
		(void)zmq_setsockopt(
		    p->sock, ZMQ_ROUTING_ID, routing_id, strlen(routing_id));
	if (p->timeout_ms == 0)
		p->timeout_ms = 5000;
	return zmq_connect(p->sock, endpoint);
}

int
probe_send_raw(struct probe *p, const uint8_t *data, size_t len)
{
	return zmq_send(p->sock, data, len, 0) == -1 ? -1 : 0;
}

int
probe_send(struct probe *p, Sira__V1__Frame *f)
{
	uint8_t *buf;
	size_t len;
	int rc;

	f->version = 1;
	f->request_id = ++p->next_request;
	if (wire_pack(&f->base, &buf, &len, NULL) != 0)
		return -1;
	rc = probe_send_raw(p, buf, len);
	free(buf);
	return rc;
}

static Sira__V1__Frame *
recv_wire(struct probe *p, int timeout_ms)
{
	zmq_pollitem_t it = { p->sock, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t m;
	Sira__V1__Frame *f = NULL;

	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return NULL;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, p->sock, 0) != -1)
		f = sira__v1__frame__unpack(
		    NULL, zmq_msg_size(&m), zmq_msg_data(&m));
	zmq_msg_close(&m);
	return f;
}

int
probe_submit(struct probe *p, const uint8_t *env, size_t len)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Submit sb = SIRA__V1__SUBMIT__INIT;

	sb.envelope.data = (uint8_t *)(uintptr_t)env;
	sb.envelope.len = len;
	f.body_case = SIRA__V1__FRAME__BODY_SUBMIT;
	f.submit = &sb;
	return probe_send(p, &f);
}

void
probe_ack(struct probe *p, uint64_t delivery_id)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Ack k = SIRA__V1__ACK__INIT;

	k.delivery_id = delivery_id;
	f.body_case = SIRA__V1__FRAME__BODY_ACK;
	f.ack = &k;
	(void)probe_send(p, &f);
}

/* The next frame: first those queued while waiting for an answer. */
Sira__V1__Frame *
probe_recv(struct probe *p, int timeout_ms)
{
	Sira__V1__Frame *f;

	if (p->n_queue > 0) {
		f = p->queue[0];
		memmove(p->queue, p->queue + 1,
		    (p->n_queue - 1) * sizeof(p->queue[0]));
		p->n_queue--;
		return f;
	}
	return recv_wire(p, timeout_ms);
}

/* Send f and wait for the answer with its request id; queue the rest. */
Sira__V1__Frame *
probe_call(struct probe *p, Sira__V1__Frame *f)
{
	Sira__V1__Frame *r;

	if (probe_send(p, f) != 0)
		return NULL;
	while ((r = recv_wire(p, p->timeout_ms)) != NULL) {
		if (r->request_id == f->request_id)
			return r;
		if (p->n_queue < 1024)
			p->queue[p->n_queue++] = r;
		else
			sira__v1__frame__free_unpacked(r, NULL);
	}
	return NULL;
}

/* Say what the Welcome's checkpoint is: "welcome checkpoint=SIZE" when it
 * verifies under the broker's log key, "welcome checkpoint=bad" if not,
 * "welcome checkpoint=none" when absent. */
static void
welcome_checkpoint(const struct probe *p, const Sira__V1__Welcome *w)
{
	Sira__V1__Checkpoint *cp = NULL;
	struct signed_obj so;
	uint8_t *raw = NULL;
	size_t len;

	if (w->checkpoint == NULL) {
		(void)printf("welcome checkpoint=none\n");
		return;
	}
	if (wire_pack(&w->checkpoint->base, &raw, &len, NULL) == 0 &&
	    signed_split(
		bytes_of(raw, len), 4096, 4096, "checkpoint", &so, NULL) == 0) {
		if (sign_verify(p->broker->sign_pk, SIRA_DS_CHECKPOINT, so.tbs,
			so.tbs_len, so.sig) == 0)
			cp = sira__v1__checkpoint__unpack(
			    NULL, so.tbs_len, so.tbs);
		signed_clear(&so);
	}
	free(raw);
	if (cp == NULL) {
		(void)printf("welcome checkpoint=bad\n");
		return;
	}
	(void)printf("welcome checkpoint=%llu\n", (unsigned long long)cp->size);
	sira__v1__checkpoint__free_unpacked(cp, NULL);
}

int
probe_hello(struct probe *p)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__Hello h = SIRA__V1__HELLO__INIT;
	int rc = -1;

	h.version = 1;
	h.software = (char *)"sira-probe";
	f.body_case = SIRA__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	if ((r = probe_call(p, &f)) == NULL)
		return -1;
	if (r->body_case == SIRA__V1__FRAME__BODY_WELCOME) {
		rc = 0;
		welcome_checkpoint(p, r->welcome);
	} else if (r->body_case == SIRA__V1__FRAME__BODY_NACK)
		(void)printf("nack %d %s\n", r->nack->reason, r->nack->detail);
	sira__v1__frame__free_unpacked(r, NULL);
	return rc;
}

/* Verify every certificate and prekey the broker serves against the CA. */
static void
take_directory(
    struct probe *p, const Sira__V1__DirectoryResponse *d, uint64_t now)
{
	for (size_t i = 0; i < d->n_certs && p->n_certs < PROBE_DIR_MAX; i++) {
		uint8_t *raw;
		size_t len;
		struct cert *c;
		if (wire_pack(&d->certs[i]->base, &raw, &len, NULL) != 0)
			continue;
		if (cert_verify(
			p->ca, p->crl, bytes_of(raw, len), now, &c, NULL) == 0)
			p->certs[p->n_certs++] = c;
		else
			(void)printf("directory: refused a certificate\n");
		free(raw);
	}
	for (size_t i = 0; i < d->n_prekeys && p->n_prekeys < PROBE_DIR_MAX;
	     i++) {
		uint8_t *raw;
		size_t len;
		struct prekey *pk = NULL;
		if (wire_pack(&d->prekeys[i]->base, &raw, &len, NULL) != 0)
			continue;
		for (size_t j = 0; pk == NULL && j < p->n_certs; j++)
			if (prekey_verify(
				p->certs[j], raw, len, now, &pk, NULL) != 0)
				pk = NULL;
		if (pk != NULL)
			p->prekeys[p->n_prekeys++] = pk;
		else
			(void)printf("directory: refused a prekey\n");
		free(raw);
	}
}

int
probe_directory(struct probe *p)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__DirectoryRequest q = SIRA__V1__DIRECTORY_REQUEST__INIT;

	f.body_case = SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST;
	f.directory_request = &q;
	if ((r = probe_call(p, &f)) == NULL)
		return -1;
	if (r->body_case == SIRA__V1__FRAME__BODY_DIRECTORY_RESPONSE)
		take_directory(p, r->directory_response, (uint64_t)time(NULL));
	sira__v1__frame__free_unpacked(r, NULL);
	return 0;
}

const struct cert *
probe_cert_of(const struct probe *p, const char *agency)
{
	for (size_t i = 0; i < p->n_certs; i++)
		if (strcmp(p->certs[i]->agency_id, agency) == 0)
			return p->certs[i];
	return NULL;
}

const struct prekey *
probe_prekey_of(const struct probe *p, const char *agency)
{
	for (size_t i = 0; i < p->n_prekeys; i++)
		if (strcmp(p->prekeys[i]->agency_id, agency) == 0)
			return p->prekeys[i];
	return NULL;
}

/*
 * Accepted is evidence: the checkpoint must be signed by the broker's
 * certified key, the inclusion proof must lead from our envelope's leaf to
 * its root, and a newer checkpoint must be consistent with the last one we
 * accepted (asked for with a ProofRequest).
 */
static int
check_consistency(struct probe *p, uint64_t size, const uint8_t *root)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__ProofRequest q = SIRA__V1__PROOF_REQUEST__INIT;
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32];
	int rc = -1;

	if (p->cp_size == 0 || p->cp_size == size)
		return 0;
	q.leaf_index = 0;
	q.tree_size = size;
	q.old_size = p->cp_size;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_REQUEST;
	f.proof_request = &q;
	if ((r = probe_call(p, &f)) == NULL)
		return -1;
	if (r->body_case == SIRA__V1__FRAME__BODY_PROOF_RESPONSE &&
	    r->proof_response->n_consistency_proof <= SIRA_MERKLE_PROOF_MAX) {
		size_t n = r->proof_response->n_consistency_proof;
		for (size_t i = 0; i < n; i++)
			memcpy(proof + 32 * i,
			    r->proof_response->consistency_proof[i].data, 32);
		rc = merkle_verify_consistency(p->cp_size, size, p->cp_root,
		    root, (struct merkle_hashes){ proof, n }, NULL);
	}
	sira__v1__frame__free_unpacked(r, NULL);
	return rc;
}

int
probe_check_accepted(struct probe *p, const Sira__V1__Accepted *a)
{
	uint8_t proof[SIRA_MERKLE_PROOF_MAX * 32], leaf[32];
	Sira__V1__Checkpoint *cp = NULL;
	struct signed_obj so;
	uint8_t *raw;
	size_t len;
	int rc = -1;

	if (a->checkpoint == NULL ||
	    a->n_inclusion_proof > SIRA_MERKLE_PROOF_MAX ||
	    wire_pack(&a->checkpoint->base, &raw, &len, NULL) != 0)
		return -1;
	if (signed_split(
		bytes_of(raw, len), 4096, 4096, "checkpoint", &so, NULL) == 0 &&
	    sign_verify(p->broker->sign_pk, SIRA_DS_CHECKPOINT, so.tbs,
		so.tbs_len, so.sig) == 0 &&
	    (cp = sira__v1__checkpoint__unpack(NULL, so.tbs_len, so.tbs)) !=
		NULL &&
	    cp->root.len == 32) {
		for (size_t i = 0; i < a->n_inclusion_proof; i++)
			memcpy(proof + 32 * i, a->inclusion_proof[i].data, 32);
		/* Leaf bytes are the broker's; fetch them to hash the leaf. */
		rc = probe_leaf_hash(
		    p, a->leaf_index, cp->size, a->envelope_hash.data, leaf);
		if (rc == 0)
			rc = merkle_verify_inclusion(leaf, a->leaf_index,
			    cp->size,
			    (struct merkle_hashes){
				proof, a->n_inclusion_proof },
			    cp->root.data, NULL);
		if (rc == 0)
			rc = check_consistency(p, cp->size, cp->root.data);
		if (rc == 0) {
			p->cp_size = cp->size;
			memcpy(p->cp_root, cp->root.data, 32);
		}
	}
	if (cp != NULL)
		sira__v1__checkpoint__free_unpacked(cp, NULL);
	signed_clear(&so);
	free(raw);
	return rc;
}

/* Fetch leaf index's bytes and check they name what we expect. */
int
probe_leaf_hash(struct probe *p, uint64_t index, uint64_t size,
    const uint8_t *expect, uint8_t out[static 32])
{
	Sira__V1__LogLeaf *l;
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT, *r;
	Sira__V1__ProofRequest q = SIRA__V1__PROOF_REQUEST__INIT;
	int rc = -1;

	q.leaf_index = index;
	q.tree_size = size;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_REQUEST;
	f.proof_request = &q;
	if ((r = probe_call(p, &f)) == NULL)
		return -1;
	if (r->body_case == SIRA__V1__FRAME__BODY_PROOF_RESPONSE &&
	    r->proof_response->leaf.len > 0 &&
	    (l = sira__v1__log_leaf__unpack(NULL, r->proof_response->leaf.len,
		 r->proof_response->leaf.data)) != NULL) {
		/* The leaf must be about our object, or it proves nothing. */
		if (l->object_hash.len == 32 &&
		    memcmp(l->object_hash.data, expect, 32) == 0) {
			merkle_leaf_hash(r->proof_response->leaf.data,
			    r->proof_response->leaf.len, out);
			rc = 0;
		}
		sira__v1__log_leaf__free_unpacked(l, NULL);
	}
	sira__v1__frame__free_unpacked(r, NULL);
	return rc;
}

void
probe_close(struct probe *p)
{
	if (p->sock != NULL)
		zmq_close(p->sock);
	if (p->zctx != NULL)
		zmq_ctx_term(p->zctx);
	for (size_t i = 0; i < p->n_queue; i++)
		sira__v1__frame__free_unpacked(p->queue[i], NULL);
	for (size_t i = 0; i < p->n_certs; i++)
		cert_destroy(&p->certs[i]);
	for (size_t i = 0; i < p->n_prekeys; i++)
		prekey_destroy(&p->prekeys[i]);
	cert_destroy(&p->ca);
	crl_destroy(&p->crl);
	cert_destroy(&p->me);
	cert_destroy(&p->broker);
	keys_destroy(&p->keys);
}
