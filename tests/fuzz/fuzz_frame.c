/*
 * fuzz_frame.c: libFuzzer harness for the broker's frame decoding, the
 * first parser every byte from an authenticated agency reaches
 * (broker/handle.c handle_frame): wire_unpack() of a Frame under the
 * broker's size cap BROKER_FRAME_MAX, then what the broker parses inside
 * each body before it touches its store. A Submit's envelope goes through
 * envelope_decode(); a PublishPrekey's prekey is re-packed and checked with
 * prekey_verify() against a fixed agency certificate; a Hello's
 * certificate goes through cert_verify() against the fixed CA; the fields
 * of the other bodies are read. Must never crash or leak; every error must
 * be a negative SIRA_E* code carried by the error context; a frame that
 * decodes must re-pack to exactly its input (wire.h: canonical encoding).
 *
 * The fixed CA and agency (ml.ngo.kat) are the frozen certificates
 * tests/vectors/envelope_ca_cert.hex and envelope_recipient_cert.hex, so
 * the seed prekey (envelope_recipient_prekey.hex) verifies and mutants
 * reach every check after the signature.
 *
 * Seeds: tests/fuzz/corpus/fuzz_frame/, raw Frame bytes (Hello, Submit of
 * tests/vectors/envelope_sealed.hex, Ack, Heartbeat, ProofRequest,
 * PublishPrekey, DirectoryRequest). This file writes them when built
 * without libFuzzer and with -DFUZZ_FRAME_WRITE_SEEDS (same include paths
 * and sources as the harness, without -fsanitize=fuzzer), run from the
 * repository root: ./fuzz_frame_seeds tests/fuzz/corpus/fuzz_frame
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker.h"
#include "cert.h"
#include "control.pb-c.h"
#include "envelope.h"
#include "err.h"
#include "prekey_verify.h"
#include "wire.h"

#define KAT_NOW UINT64_C(1772409637) /* the prekey's not_before */
#define AT (KAT_NOW + 60)

/* tests/vectors/envelope_ca_cert.hex */
static const char ca_hex[] =
    "0a4e080122096d6c2e6b61742e63612a0b53697261204b415420434130053880"
    "f2d6ca064080be91e107480150035a20d04ab232742bb4ab3a1368bd4615e4e6"
    "d0224ab71a016baf8520a332c97787371240bca75eb445f8f0cbbcd0eef15d5e"
    "27fe302576f65718c09c4070497c4d96d287f34228125bc732894aac26fdf5bc"
    "cc6845e89a0d211f7218735d536d9f108e08";

/* tests/vectors/envelope_recipient_cert.hex (ml.ngo.kat) */
static const char agency_hex[] =
    "0a8f01080110021a20a0a4c5d56270ead9ff6ae524e8424d7231d2a6cf8eabd5"
    "2b76084868c3291466220a6d6c2e6e676f2e6b61742a074b4154204e474f3004"
    "3880affacb06408096ffda06505c5a20d759793bbc13a2819a827c76adb6fba8"
    "a49aee007f49f2d0992d99b825ad2c4862205a65bac47433604b3152ba1fbc42"
    "72add728297374a1a83f6ca9ada477cf073612403011c7f1bd2d6c54845f7016"
    "87e8335d204f0c9905f19b056c51b59f041d0263875b607a52ceaa47f5d531ad"
    "482e25bfda7a1b4c038f1876b7ff6949a0486f03";

struct fixture {
	struct cert *ca;
	struct cert *agency;
	uint8_t agency_raw[512];
	size_t agency_len;
};

/* Built once; a fuzzer process is short-lived and never frees it. */
static const struct fixture *
fixture(void)
{
	static struct fixture f;
	static int ready;
	uint8_t ca_raw[512];
	size_t ca_len;

	if (ready)
		return &f;
	if (sodium_init() < 0 ||
	    sodium_hex2bin(ca_raw, sizeof(ca_raw), ca_hex, strlen(ca_hex), NULL,
		&ca_len, NULL) != 0 ||
	    sodium_hex2bin(f.agency_raw, sizeof(f.agency_raw), agency_hex,
		strlen(agency_hex), NULL, &f.agency_len, NULL) != 0 ||
	    cert_load_ca(ca_raw, ca_len, AT, &f.ca, NULL) != 0 ||
	    cert_verify(f.ca, NULL, bytes_of(f.agency_raw, f.agency_len), AT,
		&f.agency, NULL) != 0)
		abort();
	ready = 1;
	return &f;
}

/* A rejection must be a negative SIRA_E* code, carried by err. */
static void
check_refusal(int rc, const struct sira_err *err)
{
	if (rc >= 0 || -rc > SIRA_CODE_MAX || err->code != -rc)
		abort();
}

static volatile uint64_t sink;

static void
on_submit(const Sira__V1__Submit *s)
{
	struct envelope *e = NULL;
	struct sira_err err = { 0 };
	uint8_t hash[32];
	int rc;

	rc = envelope_decode(s->envelope.data, s->envelope.len, &e, &err);
	if (rc != 0) {
		check_refusal(rc, &err);
		if (e != NULL)
			abort();
		return;
	}
	/* Accepted: what the router relies on next must hold. */
	envelope_hash_of(
	    e->header, e->header_len, e->body_ct, e->body_ct_len, hash);
	if (memcmp(hash, e->hash, 32) != 0 || e->h->n_recipients < 1 ||
	    e->h->n_recipients > SIRA_RECIPIENTS_MAX)
		abort();
	for (size_t i = 0; i < e->h->n_recipients; i++)
		if (envelope_recipient(e, e->h->recipients[i]->agency_id) !=
		    e->h->recipients[i])
			abort();
	rc = envelope_check_time(e, AT, &err);
	if (rc != 0)
		check_refusal(rc, &err);
	envelope_destroy(&e);
}

static void
on_prekey(const struct fixture *fx, const Sira__V1__PublishPrekey *p)
{
	struct prekey *v = NULL;
	struct sira_err err = { 0 };
	uint8_t *raw = NULL;
	size_t len;
	int rc;

	if (p->prekey == NULL)
		return; /* the broker refuses it as malformed */
	if (wire_pack(&p->prekey->base, &raw, &len, NULL) != 0)
		abort();
	rc = prekey_verify(fx->agency, raw, len, AT, &v, &err);
	if (rc == 0) {
		if (v == NULL ||
		    strcmp(v->agency_id, fx->agency->agency_id) != 0 ||
		    v->raw_len != len || memcmp(v->raw, raw, len) != 0)
			abort();
		prekey_destroy(&v);
	} else {
		check_refusal(rc, &err);
		if (v != NULL)
			abort();
	}
	free(raw);
}

static void
on_hello(const struct fixture *fx, const Sira__V1__Hello *h)
{
	struct cert *c = NULL;
	struct sira_err err = { 0 };
	int rc;

	sink += h->version + h->known_log_size + strlen(h->software);
	if (h->cert.len == 0)
		return;
	rc = cert_verify(
	    fx->ca, NULL, bytes_of(h->cert.data, h->cert.len), AT, &c, &err);
	if (rc == 0) {
		if (c == NULL)
			abort();
		sink += c->has_transport;
		cert_destroy(&c);
	} else {
		check_refusal(rc, &err);
		if (c != NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fixture *fx = fixture();
	ProtobufCMessage *m = NULL;
	Sira__V1__Frame *fr;
	struct sira_err err = { 0 };
	uint8_t *again = NULL;
	size_t len;
	int rc;

	rc = wire_unpack(&sira__v1__frame__descriptor, data, size,
	    BROKER_FRAME_MAX, &m, &err);
	if (rc != 0) {
		check_refusal(rc, &err);
		if (m != NULL)
			abort();
		return 0;
	}
	/* One meaning, one encoding. */
	if (wire_pack(m, &again, &len, NULL) != 0 || len != size ||
	    (size > 0 && memcmp(again, data, size) != 0))
		abort();
	free(again);
	fr = (Sira__V1__Frame *)m;
	sink += fr->version + fr->request_id;
	switch (fr->body_case) {
	case SIRA__V1__FRAME__BODY_HELLO:
		on_hello(fx, fr->hello);
		break;
	case SIRA__V1__FRAME__BODY_SUBMIT:
		on_submit(fr->submit);
		break;
	case SIRA__V1__FRAME__BODY_PUBLISH_PREKEY:
		on_prekey(fx, fr->publish_prekey);
		break;
	case SIRA__V1__FRAME__BODY_ACK:
		sink += fr->ack->delivery_id + fr->ack->message_id.len;
		break;
	case SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST:
		for (size_t i = 0; i < fr->directory_request->n_agency_ids; i++)
			sink += cert_agency_id_valid(
			    fr->directory_request->agency_ids[i]);
		break;
	case SIRA__V1__FRAME__BODY_PROOF_REQUEST:
		sink += fr->proof_request->leaf_index +
		    fr->proof_request->tree_size + fr->proof_request->old_size;
		break;
	case SIRA__V1__FRAME__BODY_HEARTBEAT:
		sink += fr->heartbeat->seq + fr->heartbeat->time;
		break;
	default:
		/* Bodies only the broker sends, or none: refused as a state. */
		break;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

#ifdef FUZZ_FRAME_WRITE_SEEDS
/* ---- seed writer (not part of the harness) ---- */

static uint8_t *
read_vector(const char *path, size_t *len)
{
	char line[512], hex[32768];
	size_t n = 0;
	uint8_t *out;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		abort();
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t l = strcspn(line, "\r\n");
		if (line[0] == '#' || n + l >= sizeof(hex))
			continue;
		memcpy(hex + n, line, l);
		n += l;
	}
	fclose(fp);
	if ((out = malloc(n / 2 + 1)) == NULL ||
	    sodium_hex2bin(out, n / 2 + 1, hex, n, NULL, len, NULL) != 0)
		abort();
	return out;
}

static void
write_frame(
    const char *dir, const char *name, Sira__V1__Frame *f, uint64_t request_id)
{
	char path[1024];
	uint8_t *buf;
	size_t len;
	FILE *fp;

	f->version = 1;
	f->request_id = request_id;
	if (wire_pack(&f->base, &buf, &len, NULL) != 0 ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		(int)sizeof(path) ||
	    (fp = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		abort();
	/* Each seed must get through the same door as a fuzzer input. */
	LLVMFuzzerTestOneInput(buf, len);
	printf("%s: %zu bytes\n", path, len);
	free(buf);
}

int
main(int argc, char **argv)
{
	const struct fixture *fx = fixture();
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__Hello hello = SIRA__V1__HELLO__INIT;
	Sira__V1__Submit submit = SIRA__V1__SUBMIT__INIT;
	Sira__V1__Ack ack = SIRA__V1__ACK__INIT;
	Sira__V1__Heartbeat hb = SIRA__V1__HEARTBEAT__INIT;
	Sira__V1__ProofRequest pr = SIRA__V1__PROOF_REQUEST__INIT;
	Sira__V1__PublishPrekey pp = SIRA__V1__PUBLISH_PREKEY__INIT;
	Sira__V1__DirectoryRequest dr = SIRA__V1__DIRECTORY_REQUEST__INIT;
	char *ids[2] = { "ml.ngo.kat", "ml.police.kat" };
	uint8_t msgid[16], *env, *pk;
	size_t env_len, pk_len;
	struct envelope *e = NULL;
	struct prekey *v = NULL;

	if (argc != 2)
		return 2;
	env = read_vector("tests/vectors/envelope_sealed.hex", &env_len);
	pk =
	    read_vector("tests/vectors/envelope_recipient_prekey.hex", &pk_len);
	/* The seeds must reach the deep checks: both vectors are valid. */
	if (envelope_decode(env, env_len, &e, NULL) != 0 ||
	    prekey_verify(fx->agency, pk, pk_len, AT, &v, NULL) != 0)
		abort();
	memcpy(msgid, e->h->message_id.data, sizeof(msgid));
	envelope_destroy(&e);
	prekey_destroy(&v);

	hello.version = 1;
	hello.cert.data = (uint8_t *)(uintptr_t)fx->agency_raw;
	hello.cert.len = fx->agency_len;
	hello.software = "sira-agent/0.1";
	hello.known_log_size = 5;
	f.body_case = SIRA__V1__FRAME__BODY_HELLO;
	f.hello = &hello;
	write_frame(argv[1], "hello", &f, 1);

	submit.envelope.data = env;
	submit.envelope.len = env_len;
	f.body_case = SIRA__V1__FRAME__BODY_SUBMIT;
	f.submit = &submit;
	write_frame(argv[1], "submit", &f, 2);

	ack.delivery_id = 7;
	ack.message_id.data = msgid;
	ack.message_id.len = sizeof(msgid);
	f.body_case = SIRA__V1__FRAME__BODY_ACK;
	f.ack = &ack;
	write_frame(argv[1], "ack", &f, 3);

	hb.seq = 3;
	hb.time = KAT_NOW;
	f.body_case = SIRA__V1__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	write_frame(argv[1], "heartbeat", &f, 4);

	pr.leaf_index = 2;
	pr.tree_size = 8;
	pr.old_size = 5;
	f.body_case = SIRA__V1__FRAME__BODY_PROOF_REQUEST;
	f.proof_request = &pr;
	write_frame(argv[1], "proof_request", &f, 5);

	if ((pp.prekey = sira__v1__prekey__unpack(NULL, pk_len, pk)) == NULL)
		abort();
	f.body_case = SIRA__V1__FRAME__BODY_PUBLISH_PREKEY;
	f.publish_prekey = &pp;
	write_frame(argv[1], "publish_prekey", &f, 6);
	sira__v1__prekey__free_unpacked(pp.prekey, NULL);

	dr.n_agency_ids = 2;
	dr.agency_ids = ids;
	f.body_case = SIRA__V1__FRAME__BODY_DIRECTORY_REQUEST;
	f.directory_request = &dr;
	write_frame(argv[1], "directory_request", &f, 7);
	free(env);
	free(pk);
	return 0;
}
#endif
