/*
 * agent_fixture.h: the in-memory world shared by the envelope unit tests
 * (test_agent_seal.c, test_agent_attach.c, test_agent_receipt.c).
 *
 * A CA and a handful of agencies with certificates built in memory and
 * verified exactly as an agent would (cert_load_ca, cert_verify), each with
 * prekeys from prekey_generate; a renewed certificate for the NGO (same
 * agency and keys, another serial) for the "prekey of another certificate"
 * cases; a broker certificate (no ENVELOPE_SIGN, RECEIPT_SIGN or
 * PREKEY_SIGN); and in-memory implementations of the open_keys callbacks:
 *
 *   prekey       the secrets the opener still holds, by (cert_id, key_id);
 *                a secret is "deleted" by clearing its slot;
 *   sender_cert  a lookup in the fixture's certificates, or a forced error
 *                (-SIRA_EREVOKED, -SIRA_EUNKNOWN_AGENCY, ...);
 *   seen         a small seen-set of (sender cert id, message id), plus a
 *                switch that reports everything as seen.
 *
 * Random keys (libsodium's normal source), fixed times. Tests assert exact
 * SIRA_E* codes, never messages. Never link this into a program.
 */
#ifndef SIRA_TEST_AGENT_FIXTURE_H
#define SIRA_TEST_AGENT_FIXTURE_H

/* Include <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h> first. */
#include <dirent.h>
#include <fcntl.h>
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

#define FX_FN static __attribute__((unused))

#define FX_DAY 86400u
/* 2026-03-02T00:00:00Z: a multiple of 60, so created_at == FX_NOW. */
#define FX_NOW UINT64_C(1772409600)
#define FX_OPEN_AT (FX_NOW + 60)
#define FX_CA_NB (FX_NOW - 30 * (uint64_t)FX_DAY)
#define FX_CA_NA (FX_NOW + 3650 * (uint64_t)FX_DAY)
#define FX_AG_NB (FX_NOW - 10 * (uint64_t)FX_DAY)
#define FX_AG_NA (FX_NOW + 365 * (uint64_t)FX_DAY)
#define FX_PREKEY_LIFE (7u * FX_DAY)
#define FX_TTL FX_DAY
#define FX_PREKEYS 3
#define FX_MANY 10
#define FX_MAX_TO (FX_MANY + 4)
#define FX_MAX_ATT 8
#define FX_SECRETS 8
#define FX_SEEN 64
#define FX_PATHS 512

struct fx_agent {
	struct sira_keys *keys;
	struct cert *cert;
	struct prekey *pk[FX_PREKEYS];         /* verified public prekeys */
	struct prekey_secret *sec[FX_PREKEYS]; /* their secrets */
};

struct fx {
	struct sira_keys *ca_keys;
	struct cert *ca;
	struct fx_agent police, ngo, social, justice;
	struct fx_agent ngo2;   /* ngo's renewed certificate, same keys */
	struct fx_agent broker; /* role broker: LOG_SIGN, TRANSPORT only */
	struct fx_agent many[FX_MANY];
	uint64_t next_serial;
	char dir[64]; /* fresh mkdtemp() directory */
	char *paths[FX_PATHS];
	size_t n_paths;
};

/*
 * A certificate for id with role, signed by fx->ca (or self-signed when
 * fx->ca is NULL), valid [nb, na]. With keys NULL, fresh identity keys are
 * made; otherwise a copy of *keys is used (a renewed certificate).
 */
FX_FN int
fx_cert(struct fx *fx, const char *id, enum sira_role role, uint64_t nb,
    uint64_t na, const struct sira_keys *keys, struct fx_agent *a)
{
	uint8_t sig[SIRA_SIG_LEN], *tbs = NULL, *raw = NULL;
	size_t tbslen, rawlen;
	struct sira_err err;
	struct cert c;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((a->keys = keys_new()) == NULL)
		return -SIRA_ENOMEM;
	memset(&c, 0, sizeof(c));
	if (keys != NULL) {
		memcpy(a->keys, keys, sizeof(*keys));
	} else {
		(void)snprintf(
		    a->keys->agency_id, sizeof(a->keys->agency_id), "%s", id);
		sign_keygen(a->keys->sign_pk, a->keys->sign_sk);
		if (fx->ca != NULL) {
			(void)crypto_box_keypair(
			    a->keys->transport_pk, a->keys->transport_sk);
			a->keys->has_transport = true;
		}
	}
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", id);
	(void)snprintf(c.display_name, sizeof(c.display_name), "Test %s", id);
	memcpy(c.sign_pk, a->keys->sign_pk, SIRA_SIGN_PK_LEN);
	c.role = role;
	c.is_ca = fx->ca == NULL;
	c.key_usage = cert_role_usage(role, c.is_ca);
	c.not_before = nb;
	c.not_after = na;
	if (!c.is_ca) {
		c.serial = fx->next_serial++;
		memcpy(c.issuer_id, fx->ca->id, SIRA_HASH_LEN);
		c.has_transport = true;
		memcpy(
		    c.transport_pk, a->keys->transport_pk, SIRA_CURVE_KEY_LEN);
	}
	if ((rc = cert_encode_tbs(&c, &tbs, &tbslen, &err)) != 0 ||
	    (rc = sign_detached(
		 c.is_ca ? a->keys->sign_sk : fx->ca_keys->sign_sk,
		 SIRA_DS_CERT, tbs, tbslen, sig)) != 0 ||
	    (rc = cert_encode(tbs, tbslen, sig, &raw, &rawlen, &err)) != 0)
		goto out;
	rc = c.is_ca ? cert_load_ca(raw, rawlen, FX_NOW, &a->cert, &err) :
		       cert_verify(fx->ca, NULL, bytes_of(raw, rawlen), FX_NOW,
			   &a->cert, &err);
out:
	if (rc != 0)
		fprintf(stderr, "fx_cert %s: %s\n", id, err.msg);
	free(tbs);
	free(raw);
	return rc;
}

/* FX_PREKEYS fresh prekeys for a, made at FX_NOW. */
FX_FN int
fx_prekeys(struct fx_agent *a)
{
	const struct prekey_owner owner = { a->cert, a->keys };
	struct sira_err err;
	int rc;

	for (size_t i = 0; i < FX_PREKEYS; i++)
		if ((rc = prekey_generate(&owner, FX_NOW, FX_PREKEY_LIFE,
			 &a->pk[i], &a->sec[i], &err)) != 0)
			return rc;
	return 0;
}

FX_FN void
fx_agent_free(struct fx_agent *a)
{
	for (size_t i = 0; i < FX_PREKEYS; i++) {
		prekey_destroy(&a->pk[i]);
		prekey_secret_destroy(&a->sec[i]);
	}
	cert_destroy(&a->cert);
	keys_destroy(&a->keys);
}

/* Remove every plain file in dir, then dir. */
FX_FN void
fx_rmdir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

FX_FN void
fx_free(struct fx *fx)
{
	if (fx == NULL)
		return;
	fx_agent_free(&fx->police);
	fx_agent_free(&fx->ngo);
	fx_agent_free(&fx->social);
	fx_agent_free(&fx->justice);
	fx_agent_free(&fx->ngo2);
	fx_agent_free(&fx->broker);
	for (size_t i = 0; i < FX_MANY; i++)
		fx_agent_free(&fx->many[i]);
	cert_destroy(&fx->ca);
	keys_destroy(&fx->ca_keys);
	fx_rmdir(fx->dir);
	for (size_t i = 0; i < fx->n_paths; i++)
		free(fx->paths[i]);
	free(fx);
}

/* The whole world; NULL on failure (reported on stderr). */
FX_FN struct fx *
fx_new(void)
{
	struct fx_agent ca;
	struct fx *fx;
	char id[SIRA_AGENCY_ID_MAX + 1];

	if (sodium_init() < 0 || (fx = calloc(1, sizeof(*fx))) == NULL)
		return NULL;
	fx->next_serial = 1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-agent-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		fx->dir[0] = '\0';
		goto fail;
	}
	if (fx_cert(fx, "ml.test.ca", SIRA_ROLE_COORDINATION, FX_CA_NB,
		FX_CA_NA, NULL, &ca) != 0)
		goto fail;
	fx->ca = ca.cert;
	fx->ca_keys = ca.keys;
	if (fx_cert(fx, "ml.police.bamako", SIRA_ROLE_POLICE, FX_AG_NB,
		FX_AG_NA, NULL, &fx->police) != 0 ||
	    fx_cert(fx, "ml.ngo.shelter", SIRA_ROLE_NGO, FX_AG_NB, FX_AG_NA,
		NULL, &fx->ngo) != 0 ||
	    fx_cert(fx, "ml.social.bamako", SIRA_ROLE_SOCIAL_SERVICES, FX_AG_NB,
		FX_AG_NA, NULL, &fx->social) != 0 ||
	    fx_cert(fx, "ml.justice.tgi", SIRA_ROLE_JUSTICE, FX_AG_NB, FX_AG_NA,
		NULL, &fx->justice) != 0 ||
	    fx_cert(fx, "ml.ngo.shelter", SIRA_ROLE_NGO, FX_AG_NB, FX_AG_NA,
		fx->ngo.keys, &fx->ngo2) != 0 ||
	    fx_cert(fx, "ml.broker", SIRA_ROLE_BROKER, FX_AG_NB, FX_AG_NA, NULL,
		&fx->broker) != 0)
		goto fail;
	for (size_t i = 0; i < FX_MANY; i++) {
		(void)snprintf(id, sizeof(id), "ml.ngo.r%02zu", i);
		if (fx_cert(fx, id, SIRA_ROLE_NGO, FX_AG_NB, FX_AG_NA, NULL,
			&fx->many[i]) != 0 ||
		    fx_prekeys(&fx->many[i]) != 0)
			goto fail;
	}
	if (fx_prekeys(&fx->police) != 0 || fx_prekeys(&fx->ngo) != 0 ||
	    fx_prekeys(&fx->social) != 0 || fx_prekeys(&fx->justice) != 0 ||
	    fx_prekeys(&fx->ngo2) != 0)
		goto fail;
	return fx;
fail:
	fx_free(fx);
	return NULL;
}

/* dir/name, valid until fx_free (the fixture keeps every path it made). */
FX_FN const char *
fx_path(struct fx *fx, const char *name)
{
	char *p;

	assert_true(fx->n_paths < FX_PATHS);
	assert_non_null(p = malloc(strlen(fx->dir) + strlen(name) + 2));
	(void)sprintf(p, "%s/%s", fx->dir, name);
	fx->paths[fx->n_paths++] = p;
	return p;
}

/* ---- sealing ---- */

/* What to seal; zero fields take defaults. */
struct fx_spec {
	const struct fx_agent *from;
	const struct cert *sender_cert;    /* NULL: from->cert */
	const struct sira_keys *sign_keys; /* NULL: from->keys */
	const struct fx_agent *to[FX_MAX_TO];
	const struct prekey *to_pk[FX_MAX_TO]; /* NULL: to[i]->pk[0] */
	const struct cert *to_cert[FX_MAX_TO]; /* NULL: to[i]->cert */
	size_t n_to;
	const uint8_t *payload;
	size_t len;
	uint64_t now;                     /* 0: FX_NOW */
	uint32_t ttl;                     /* 0: FX_TTL */
	int kind;                         /* 0: referral */
	const char *att_in[FX_MAX_ATT];   /* files to attach */
	const char *att_blob[FX_MAX_ATT]; /* where their blobs go */
	size_t n_att;
};

/* A sealed message. */
struct fx_msg {
	uint8_t *env;
	size_t len;
	struct sealed_meta meta;
};

FX_FN void
fx_msg_free(struct fx_msg *m)
{
	free(m->env);
	m->env = NULL;
	m->len = 0;
}

/* Seal sp into *m. Returns 0 or the first failing call's code. */
FX_FN int
fx_seal(const struct fx_spec *sp, struct fx_msg *m, struct sira_err *err)
{
	struct seal_recipient r[FX_MAX_TO];
	struct seal_params p;
	struct seal *s = NULL;
	int rc = 0, in, blob;

	memset(m, 0, sizeof(*m));
	memset(&p, 0, sizeof(p));
	for (size_t i = 0; i < sp->n_to; i++) {
		r[i].cert =
		    sp->to_cert[i] != NULL ? sp->to_cert[i] : sp->to[i]->cert;
		r[i].prekey =
		    sp->to_pk[i] != NULL ? sp->to_pk[i] : sp->to[i]->pk[0];
		r[i].pair_seq = i + 1;
	}
	p.sender = sp->sender_cert != NULL ? sp->sender_cert : sp->from->cert;
	p.sender_keys = sp->sign_keys != NULL ? sp->sign_keys : sp->from->keys;
	p.kind = sp->kind != 0 ? sp->kind :
				 SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_REFERRAL;
	p.content_type = "sira.referral.v1";
	p.case_ref = "CASE-0042";
	p.onward_sharing = SIRA__V1__ONWARD_SHARING__ONWARD_SHARING_NONE;
	p.now = sp->now != 0 ? sp->now : FX_NOW;
	p.ttl = sp->ttl != 0 ? sp->ttl : FX_TTL;
	p.recipients = r;
	p.n_recipients = sp->n_to;
	if ((rc = seal_begin(&p, &s, err)) != 0)
		return rc;
	for (size_t i = 0; i < sp->n_att && rc == 0; i++) {
		in = open(sp->att_in[i], O_RDONLY | O_CLOEXEC);
		assert_true(in != -1);
		blob = open(sp->att_blob[i],
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		assert_true(blob != -1);
		rc = seal_attach(s, in, blob, "evidence.bin",
		    "application/octet-stream", err);
		close(in);
		close(blob);
	}
	if (rc == 0) {
		struct sealed_out out;

		rc = seal_finish(s,
		    sp->payload != NULL ? sp->payload : (const uint8_t *)"",
		    sp->len, &out, err);
		m->env = out.env;
		m->len = out.len;
		m->meta = out.meta;
	}
	seal_destroy(&s);
	return rc;
}

/* ---- opening: the open_keys callbacks ---- */

struct fx_opener {
	const struct fx *fx;
	const struct fx_agent *me;
	const struct cert *me_cert; /* NULL: me->cert */
	/* The prekey secrets the opener still holds; NULL = deleted. */
	const struct prekey_secret *secrets[FX_SECRETS];
	/* Returned for any (cert_id, key_id) when set. */
	const struct prekey_secret *any_secret;
	int sender_rc;                /* forced sender_cert error, or 0 */
	const struct cert *sender_as; /* forced sender_cert answer */
	int seen_all;                 /* seen reports 1 for everything */
	uint8_t seen[FX_SEEN][SIRA_HASH_LEN + SIRA_MSGID_LEN];
	size_t n_seen;
	unsigned prekey_calls, sender_calls, seen_calls;
	struct open_keys keys;
};

static int
fx_cb_prekey(void *ctx, const uint8_t *cert_id, const uint8_t *key_id,
    const struct prekey_secret **out)
{
	struct fx_opener *op = ctx;
	const struct cert *me =
	    op->me_cert != NULL ? op->me_cert : op->me->cert;

	op->prekey_calls++;
	if (op->any_secret != NULL) {
		*out = op->any_secret;
		return 0;
	}
	if (memcmp(cert_id, me->id, SIRA_HASH_LEN) != 0)
		return -SIRA_EPREKEY;
	for (size_t i = 0; i < FX_SECRETS; i++)
		if (op->secrets[i] != NULL &&
		    memcmp(op->secrets[i]->key_id, key_id,
			SIRA_PREKEY_ID_LEN) == 0) {
			*out = op->secrets[i];
			return 0;
		}
	return -SIRA_EPREKEY;
}

static const struct cert *
fx_find_cert(const struct fx *fx, const char *agency_id, const uint8_t *id)
{
	const struct fx_agent *all[] = { &fx->police, &fx->ngo, &fx->social,
		&fx->justice, &fx->ngo2, &fx->broker };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->cert->agency_id, agency_id) == 0 &&
		    memcmp(all[i]->cert->id, id, SIRA_HASH_LEN) == 0)
			return all[i]->cert;
	for (size_t i = 0; i < FX_MANY; i++)
		if (strcmp(fx->many[i].cert->agency_id, agency_id) == 0 &&
		    memcmp(fx->many[i].cert->id, id, SIRA_HASH_LEN) == 0)
			return fx->many[i].cert;
	return NULL;
}

static int
fx_cb_sender(void *ctx, const char *agency_id, const uint8_t *cert_id,
    uint64_t at, const struct cert **out, struct sira_err *err)
{
	struct fx_opener *op = ctx;

	(void)at;
	op->sender_calls++;
	if (op->sender_rc != 0)
		return sira_err_set(err, -op->sender_rc, "forced by the test");
	if (op->sender_as != NULL) {
		*out = op->sender_as;
		return 0;
	}
	if ((*out = fx_find_cert(op->fx, agency_id, cert_id)) == NULL)
		return sira_err_set(
		    err, SIRA_EUNKNOWN_AGENCY, "unknown sender %s", agency_id);
	return 0;
}

static int
fx_cb_seen(void *ctx, const uint8_t *cert_id, const uint8_t *msgid)
{
	struct fx_opener *op = ctx;

	op->seen_calls++;
	if (op->seen_all)
		return 1;
	for (size_t i = 0; i < op->n_seen; i++)
		if (memcmp(op->seen[i], cert_id, SIRA_HASH_LEN) == 0 &&
		    memcmp(op->seen[i] + SIRA_HASH_LEN, msgid,
			SIRA_MSGID_LEN) == 0)
			return 1;
	return 0;
}

/* An opener for me holding all of me's prekey secrets. */
FX_FN void
fx_opener_init(
    struct fx_opener *op, const struct fx *fx, const struct fx_agent *me)
{
	memset(op, 0, sizeof(*op));
	op->fx = fx;
	op->me = me;
	for (size_t i = 0; i < FX_PREKEYS; i++)
		op->secrets[i] = me->sec[i];
	op->keys.me = me->cert;
	op->keys.ctx = op;
	op->keys.prekey = fx_cb_prekey;
	op->keys.sender_cert = fx_cb_sender;
	op->keys.seen = fx_cb_seen;
}

/* Record an opened message as seen (what the agent's store does). */
FX_FN void
fx_mark_seen(struct fx_opener *op, const struct opened *o)
{
	assert_true(op->n_seen < FX_SEEN);
	memcpy(op->seen[op->n_seen], o->env->h->sender_cert_id.data,
	    SIRA_HASH_LEN);
	memcpy(op->seen[op->n_seen] + SIRA_HASH_LEN, o->env->h->message_id.data,
	    SIRA_MSGID_LEN);
	op->n_seen++;
}

/* Open with op at now; *o (if o is not NULL) gets the result. */
FX_FN int
fx_open_with(struct fx_opener *op, const uint8_t *env, size_t len, uint64_t now,
    struct opened **o)
{
	struct opened *got = NULL;
	struct sira_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = seal_open(env, len, &op->keys, now, &got, &err);
	if (rc != 0) {
		/* A failure leaves nothing behind and explains itself. */
		assert_null(got);
		assert_int_equal(err.code, -rc);
	}
	if (o != NULL)
		*o = got;
	else
		seal_opened_destroy(&got);
	return rc;
}

/* Open as me, with a fresh opener, at FX_OPEN_AT. */
FX_FN int
fx_open_as(const struct fx *fx, const struct fx_agent *me, const uint8_t *env,
    size_t len, struct opened **o)
{
	struct fx_opener op;

	fx_opener_init(&op, fx, me);
	return fx_open_with(&op, env, len, FX_OPEN_AT, o);
}

#endif
