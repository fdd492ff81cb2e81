/*
 * envelope_kat.h: the fixed world behind the envelope known-answer vectors
 * (tests/vectors/envelope_*.hex), shared by tests/unit/test_agent_vectors.c
 * and the fuzzers tests/fuzz/fuzz_envelope.c and fuzz_receipt.c, so the
 * fuzzers open exactly the envelope that was frozen.
 *
 * Determinism: kat_rng_install() replaces libsodium's random source with
 * randombytes_buf_deterministic() over a fixed seed and a call counter
 * (libsodium's documented hook, randombytes_set_implementation). It must
 * run BEFORE sodium_init(). kat_build() resets the counter, so every random
 * choice it makes (prekey, message id, content key, nonce, crypto_box_seal's
 * ephemeral key, secretstream header, receipt id) is the same in every run.
 * Identity keys come from fixed seeds; Ed25519 signing is deterministic.
 *
 * Never link this into a program: its "random" numbers are public.
 */
#ifndef SIRA_TEST_ENVELOPE_KAT_H
#define SIRA_TEST_ENVELOPE_KAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cert.h"
#include "keyfile.h"
#include "crypto/crypto.h"

#define KAT_FN static __attribute__((unused))

/* Fixed times: certificates for 2026, the message on 2026-03-02. */
#define KAT_CA_NB UINT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define KAT_CA_NA UINT64_C(2082758400) /* 2036-01-01T00:00:00Z */
#define KAT_AG_NB UINT64_C(1769904000) /* 2026-02-01T00:00:00Z */
#define KAT_AG_NA UINT64_C(1801440000) /* 2027-02-01T00:00:00Z */
#define KAT_NOW UINT64_C(1772409637)   /* 2026-03-02T00:00:37Z */
#define KAT_OPEN_AT (KAT_NOW + 60)     /* when the recipient opens it */
#define KAT_RECEIVED_AT (KAT_NOW + 120)
#define KAT_PREKEY_LIFE (7u * 86400u)
#define KAT_TTL (7u * 86400u)

#define KAT_CA_ID "ml.kat.ca"
#define KAT_SENDER_ID "ml.police.kat"
#define KAT_RECIPIENT_ID "ml.ngo.kat"
#define KAT_PAYLOAD "Sira KAT v1"
#define KAT_CONTENT_TYPE "sira.referral.v1"
#define KAT_CASE_REF "KAT-0001"
#define KAT_ATT_NAME "kat-note.txt"
#define KAT_ATT_TYPE "text/plain"
#define KAT_ATT_DATA "Sira KAT attachment v1\n"
#define KAT_PAIR_SEQ 1

/* The deterministic random source. */
static const uint8_t kat_rng_seed[randombytes_SEEDBYTES] =
    "sira KAT v1: not random at all!";
static uint64_t kat_rng_ctr;

static const char *
kat_rng_name(void)
{
	return "sira-kat-deterministic";
}

/* Call n uses seed ^ (n as 8 bytes little-endian in the last 8 bytes). */
static void
kat_rng_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES];

	memcpy(seed, kat_rng_seed, sizeof(seed));
	for (size_t i = 0; i < 8; i++)
		seed[sizeof(seed) - 8 + i] ^= (uint8_t)(kat_rng_ctr >> (8 * i));
	kat_rng_ctr++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t
kat_rng_random(void)
{
	uint8_t b[4];

	kat_rng_buf(b, sizeof(b));
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static randombytes_implementation kat_rng = {
	.implementation_name = kat_rng_name,
	.random = kat_rng_random,
	.stir = NULL,
	.uniform = NULL, /* libsodium's default, over kat_rng_random */
	.buf = kat_rng_buf,
	.close = NULL,
};

/* Install the deterministic source; call before sodium_init(). */
KAT_FN int
kat_rng_install(void)
{
	return randombytes_set_implementation(&kat_rng);
}

KAT_FN bool
kat_rng_installed(void)
{
	return strcmp(randombytes_implementation_name(), kat_rng_name()) == 0;
}

struct kat_buf {
	uint8_t *p;
	size_t len;
};

/* Everything kat_build() makes. */
struct kat {
	struct sira_keys *ca_keys, *snd_keys, *rcp_keys;
	struct cert *ca, *snd, *rcp; /* verified */
	struct prekey *prekey;       /* the recipient's, verified */
	struct prekey_secret *prekey_sec;
	struct sealed_meta meta;
	struct kat_buf env;     /* Envelope bytes */
	struct kat_buf blob;    /* attachment 0, encrypted */
	struct kat_buf receipt; /* the recipient's signed receipt */
};

/* A certificate for id with identity key from seed byte sb, signed by ca. */
static int
kat_cert(const struct cert *ca, const struct sira_keys *ca_keys, const char *id,
    const char *name, enum sira_role role, uint64_t serial, uint8_t sb,
    struct sira_keys **kout, struct cert **out, struct sira_err *err)
{
	uint8_t seed[32], sig[SIRA_SIG_LEN], *tbs = NULL, *raw = NULL;
	size_t tbslen, rawlen;
	struct sira_keys *k;
	struct cert c;
	int rc;

	if ((k = keys_new()) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	memset(&c, 0, sizeof(c));
	(void)snprintf(k->agency_id, sizeof(k->agency_id), "%s", id);
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", id);
	(void)snprintf(c.display_name, sizeof(c.display_name), "%s", name);
	memset(seed, sb, sizeof(seed));
	(void)crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	memcpy(c.sign_pk, k->sign_pk, sizeof(c.sign_pk));
	c.role = role;
	c.is_ca = ca == NULL;
	c.serial = serial;
	c.key_usage = cert_role_usage(role, c.is_ca);
	if (c.is_ca) {
		c.not_before = KAT_CA_NB;
		c.not_after = KAT_CA_NA;
	} else {
		memcpy(c.issuer_id, ca->id, SIRA_HASH_LEN);
		c.not_before = KAT_AG_NB;
		c.not_after = KAT_AG_NA;
		memset(seed, (uint8_t)(sb + 1), sizeof(seed));
		(void)crypto_box_seed_keypair(
		    k->transport_pk, k->transport_sk, seed);
		k->has_transport = true;
		c.has_transport = true;
		memcpy(c.transport_pk, k->transport_pk, SIRA_CURVE_KEY_LEN);
	}
	if ((rc = cert_encode_tbs(&c, &tbs, &tbslen, err)) != 0 ||
	    (rc = sign_detached(c.is_ca ? k->sign_sk : ca_keys->sign_sk,
		 SIRA_DS_CERT, tbs, tbslen, sig)) != 0 ||
	    (rc = cert_encode(tbs, tbslen, sig, &raw, &rawlen, err)) != 0)
		goto out;
	rc = c.is_ca ?
	    cert_load_ca(raw, rawlen, KAT_NOW, out, err) :
	    cert_verify(ca, NULL, bytes_of(raw, rawlen), KAT_NOW, out, err);
out:
	free(tbs);
	free(raw);
	if (rc != 0)
		keys_destroy(&k);
	*kout = k;
	return rc;
}

/* Read all of fd from its start into b. */
static int
kat_slurp(int fd, struct kat_buf *b, struct sira_err *err)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (b->p = malloc((size_t)st.st_size + 1)) == NULL)
		return sira_err_set(err, SIRA_EIO, "cannot read the blob");
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b->p + got, (size_t)st.st_size - got);
		if (r <= 0)
			return sira_err_set(err, SIRA_EIO, "short read");
		got += (size_t)r;
	}
	b->len = got;
	return 0;
}

/* Seal the KAT envelope with one attachment (through anonymous files). */
static int
kat_seal(struct kat *k, struct sira_err *err)
{
	struct seal_recipient r = { k->rcp, k->prekey, KAT_PAIR_SEQ };
	struct seal_params p = { 0 };
	struct sealed_out out;
	struct seal *s = NULL;
	FILE *in = NULL, *blob = NULL;
	const char *att = KAT_ATT_DATA;
	int rc;

	p.sender = k->snd;
	p.sender_keys = k->snd_keys;
	p.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL;
	p.content_type = KAT_CONTENT_TYPE;
	p.case_ref = KAT_CASE_REF;
	p.in_reply_to = NULL;
	p.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE;
	p.now = KAT_NOW;
	p.ttl = KAT_TTL;
	p.recipients = &r;
	p.n_recipients = 1;
	if ((in = tmpfile()) == NULL || (blob = tmpfile()) == NULL ||
	    write(fileno(in), att, strlen(att)) != (ssize_t)strlen(att) ||
	    lseek(fileno(in), 0, SEEK_SET) != 0) {
		rc = sira_err_set(err, SIRA_EIO, "cannot make temporary files");
		goto out;
	}
	if ((rc = seal_begin(&p, &s, err)) != 0 ||
	    (rc = seal_attach(s, fileno(in), fileno(blob), KAT_ATT_NAME,
		 KAT_ATT_TYPE, err)) != 0 ||
	    (rc = kat_slurp(fileno(blob), &k->blob, err)) != 0)
		goto out;
	rc = seal_finish(
	    s, (const uint8_t *)KAT_PAYLOAD, strlen(KAT_PAYLOAD), &out, err);
	k->env.p = out.env;
	k->env.len = out.len;
	k->meta = out.meta;
out:
	seal_destroy(&s);
	if (in != NULL)
		fclose(in);
	if (blob != NULL)
		fclose(blob);
	return rc;
}

/* The recipient's receipt for the KAT envelope. */
static int
kat_receipt(struct kat *k, struct sira_err *err)
{
	struct receipt_fields f;

	memset(&f, 0, sizeof(f));
	f.kind = RECEIPT_ACCEPTED;
	memcpy(f.message_id, k->meta.message_id, SIRA_MSGID_LEN);
	memcpy(f.envelope_hash, k->meta.envelope_hash, SIRA_HASH_LEN);
	memcpy(f.manifest_hash, k->meta.manifest_hash, SIRA_HASH_LEN);
	memcpy(
	    f.manifest_sig_sha256, k->meta.manifest_sig_sha256, SIRA_HASH_LEN);
	memcpy(f.sender_cert_id, k->snd->id, SIRA_HASH_LEN);
	f.received_at = KAT_RECEIVED_AT;
	return receipt_sign(
	    &f, k->rcp, k->rcp_keys, &k->receipt.p, &k->receipt.len, err);
}

/* Free everything in k (accepts a partly built k). */
KAT_FN void
kat_free(struct kat *k)
{
	keys_destroy(&k->ca_keys);
	keys_destroy(&k->snd_keys);
	keys_destroy(&k->rcp_keys);
	cert_destroy(&k->ca);
	cert_destroy(&k->snd);
	cert_destroy(&k->rcp);
	prekey_destroy(&k->prekey);
	prekey_secret_destroy(&k->prekey_sec);
	free(k->env.p);
	free(k->blob.p);
	free(k->receipt.p);
	memset(k, 0, sizeof(*k));
}

/*
 * Build the whole KAT world, in this fixed order: CA, sender and recipient
 * certificates, the recipient's prekey, the sealed envelope (and its
 * attachment blob), the receipt. Returns 0 or the first error.
 */
KAT_FN int
kat_build(struct kat *k, struct sira_err *err)
{
	int rc;

	memset(k, 0, sizeof(*k));
	if (!kat_rng_installed())
		return sira_err_set(err, SIRA_ECRYPTO,
		    "the deterministic random source is not installed");
	kat_rng_ctr = 0;
	if ((rc = kat_cert(NULL, NULL, KAT_CA_ID, "Sira KAT CA",
		 SIRA_ROLE_COORDINATION, 0, 0x11, &k->ca_keys, &k->ca, err)) !=
		0 ||
	    (rc = kat_cert(k->ca, k->ca_keys, KAT_SENDER_ID, "KAT police",
		 SIRA_ROLE_POLICE, 1, 0x22, &k->snd_keys, &k->snd, err)) != 0 ||
	    (rc = kat_cert(k->ca, k->ca_keys, KAT_RECIPIENT_ID, "KAT NGO",
		 SIRA_ROLE_NGO, 2, 0x44, &k->rcp_keys, &k->rcp, err)) != 0 ||
	    (rc = prekey_generate(&(struct prekey_owner){ k->rcp, k->rcp_keys },
		 KAT_NOW, KAT_PREKEY_LIFE, &k->prekey, &k->prekey_sec, err)) !=
		0 ||
	    (rc = kat_seal(k, err)) != 0 || (rc = kat_receipt(k, err)) != 0)
		kat_free(k);
	return rc;
}

#endif
