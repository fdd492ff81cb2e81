/*
 * prekeys.c: the agency's own prekeys (VT_PREKEYS): making a new one on
 * schedule, deleting secrets after the retention period (after which old
 * captured envelopes can no longer be opened), publishing the newest, and
 * finding the secret an incoming envelope was sealed to.
 *
 * Every row is read by row_read and released by row_free, which wipes the
 * secret key: no other code in the daemon decodes a prekey row.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/daemon.h"
#include "log.h"
#include "store/store.h"
#include "wire.h"
#include "i18n.h"

#define ROW_MAX 4096 /* a row: two keys, a cert id and a signed prekey */

static void
row_free(Sira__V1__PrekeySecret *ps)
{
	if (ps == NULL)
		return;
	sodium_memzero(ps->sk.data, ps->sk.len);
	sira__v1__prekey_secret__free_unpacked(ps, NULL);
}

static int
row_decode(const uint8_t *val, size_t len, Sira__V1__PrekeySecret **out)
{
	ProtobufCMessage *m;
	int rc;

	*out = NULL;
	if ((rc = wire_unpack(&sira__v1__prekey_secret__descriptor, val, len,
		 ROW_MAX, &m, NULL)) != 0)
		return rc;
	*out = (Sira__V1__PrekeySecret *)m;
	return 0;
}

/* Read the row of key_id in t; the caller frees it with row_free. */
static int
row_read(
    struct vault_txn *t, const uint8_t *key_id, Sira__V1__PrekeySecret **out)
{
	uint8_t *v;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = vault_get(t, VT_PREKEYS, bytes_of(key_id, SIRA_PREKEY_ID_LEN),
		 &v, &len, NULL)) != 0)
		return rc;
	rc = row_decode(v, len, out);
	vault_free(v, len);
	return rc;
}

int
prekeys_secret(struct vault_txn *t, const uint8_t *cert_id,
    const uint8_t *key_id, struct prekey_secret *out)
{
	Sira__V1__PrekeySecret *ps;
	int rc = -SIRA_EPREKEY;

	if (row_read(t, key_id, &ps) != 0)
		return -SIRA_EPREKEY; /* never ours, or deleted: forward secrecy
				       */
	if (ps->sk.len == 32 && ps->pk.len == 32 && ps->cert_id.len == 32 &&
	    memcmp(ps->cert_id.data, cert_id, 32) == 0) {
		memcpy(out->key_id, key_id, SIRA_PREKEY_ID_LEN);
		memcpy(out->pk, ps->pk.data, 32);
		memcpy(out->sk, ps->sk.data, 32);
		rc = 0;
	}
	row_free(ps);
	return rc;
}

struct prekey_scan {
	uint64_t now, retain;
	const uint8_t *cert_id; /* our certificate's (borrowed) */
	uint8_t newest_id[SIRA_PREKEY_ID_LEN];
	uint64_t newest_nb;
	bool newest_published;
	bool newest_current; /* signed for our current certificate */
	/* Every secret past retention, however many (owned, freed by
	 * prekeys_maintain()). */
	uint8_t (*expired)[SIRA_PREKEY_ID_LEN];
	size_t n_expired, cap;
};

static int
note_expired(struct prekey_scan *s, const uint8_t *key)
{
	if (s->n_expired == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *grown = realloc(s->expired, cap * sizeof(*s->expired));
		if (grown == NULL)
			return -SIRA_ENOMEM;
		s->expired = grown;
		s->cap = cap;
	}
	memcpy(s->expired[s->n_expired++], key, SIRA_PREKEY_ID_LEN);
	return 0;
}

static int
scan_prekey(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct prekey_scan *s = ctx;
	Sira__V1__PrekeySecret *ps;
	int rc = 0;

	if (klen != SIRA_PREKEY_ID_LEN || row_decode(val, vlen, &ps) != 0)
		return 0;
	if (ps->not_after + s->retain < s->now)
		rc = note_expired(s, key);
	else if (ps->not_before >= s->newest_nb) {
		s->newest_nb = ps->not_before;
		memcpy(s->newest_id, key, klen);
		s->newest_published = ps->published;
		s->newest_current = ps->cert_id.len == SIRA_HASH_LEN &&
		    memcmp(ps->cert_id.data, s->cert_id, SIRA_HASH_LEN) == 0;
	}
	row_free(ps);
	return rc; /* -SIRA_ENOMEM stops the scan rather than miss one */
}

static int
store_prekey(struct vault_txn *t, const struct prekey *pub,
    const struct prekey_secret *sec, struct sira_err *err)
{
	Sira__V1__PrekeySecret ps = SIRA__V1__PREKEY_SECRET__INIT;
	uint8_t *bytes;
	size_t len;
	int rc;

	ps.key_id.data = (uint8_t *)(uintptr_t)sec->key_id;
	ps.key_id.len = SIRA_PREKEY_ID_LEN;
	ps.pk.data = (uint8_t *)(uintptr_t)sec->pk;
	ps.pk.len = 32;
	ps.sk.data = (uint8_t *)(uintptr_t)sec->sk;
	ps.sk.len = 32;
	ps.cert_id.data = (uint8_t *)(uintptr_t)pub->owner_cert_id;
	ps.cert_id.len = 32;
	ps.not_before = pub->not_before;
	ps.not_after = pub->not_after;
	ps.signed_prekey.data = pub->raw;
	ps.signed_prekey.len = pub->raw_len;
	if ((rc = wire_pack(&ps.base, &bytes, &len, err)) != 0)
		return rc;
	rc = vault_put(t, VT_PREKEYS, bytes_of(sec->key_id, SIRA_PREKEY_ID_LEN),
	    bytes, len, err);
	sodium_memzero(bytes, len);
	free(bytes);
	return rc;
}

/* Delete expired secrets. */
static int
delete_expired(const struct agent *a, struct vault_txn *t,
    const struct prekey_scan *s, uint64_t now, struct sira_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < s->n_expired && rc == 0; i++) {
		if ((rc = vault_del(t, VT_PREKEYS,
			 bytes_of(s->expired[i], SIRA_PREKEY_ID_LEN), err)) ==
		    0)
			rc = book_audit(t, now,
			    &(struct audit_event){ "prekey-deleted",
				a->me->agency_id, NULL, 0, NULL, NULL },
			    err);
		if (rc == 0)
			log_event(LOG_INFO, "prekey.deleted",
			    "reason=retention over: old messages sealed to it can no longer be opened");
	}
	return rc;
}

/* Delete expired secrets; make a new prekey when the newest is old. */
static int
maintain(const struct agent *a, struct vault_txn *t,
    const struct prekey_schedule *sc, uint64_t now, struct prekey_scan *s,
    struct sira_err *err)
{
	const struct prekey_owner owner = { a->me, a->keys };
	struct prekey *pub = NULL;
	struct prekey_secret *sec = NULL;
	int rc;

	s->now = now;
	s->retain = sc->retain;
	s->cert_id = a->me->id;
	if ((rc = vault_each(t, VT_PREKEYS, scan_prekey, s, err)) != 0)
		return rc == -SIRA_ENOMEM ?
		    sira_err_set(err, SIRA_ENOMEM, _("out of memory")) :
		    rc;
	/* A renewed certificate (install-cert) gets a prekey of its own at
	 * once: senders who pick it check the prekey names it. */
	if ((rc = delete_expired(a, t, s, now, err)) != 0 ||
	    (s->newest_nb != 0 && s->newest_current &&
		now - s->newest_nb < sc->rotate))
		return rc;
	/* Senders may use a prekey for two rotation periods. */
	if ((rc = prekey_generate(
		 &owner, now, 2 * sc->rotate, &pub, &sec, err)) == 0 &&
	    (rc = store_prekey(t, pub, sec, err)) == 0 &&
	    (rc = book_audit(t, now,
		 &(struct audit_event){
		     "prekey-made", a->me->agency_id, NULL, 0, NULL, NULL },
		 err)) == 0) {
		memcpy(s->newest_id, sec->key_id, SIRA_PREKEY_ID_LEN);
		s->newest_nb = now;
		s->newest_published = false;
	}
	prekey_destroy(&pub);
	prekey_secret_destroy(&sec);
	return rc;
}

static void
publish(
    struct daemon *d, struct vault_txn *t, const uint8_t *key_id, uint64_t now)
{
	Sira__V1__Frame f = SIRA__V1__FRAME__INIT;
	Sira__V1__PublishPrekey pp = SIRA__V1__PUBLISH_PREKEY__INIT;
	Sira__V1__PrekeySecret *ps;
	ProtobufCMessage *m = NULL;
	uint8_t id[16] = { 0 };
	uint64_t req;
	int rc;

	if (row_read(t, key_id, &ps) != 0)
		return;
	rc = wire_unpack(&sira__v1__prekey__descriptor, ps->signed_prekey.data,
	    ps->signed_prekey.len, ROW_MAX, &m, NULL);
	row_free(ps);
	if (rc != 0)
		return;
	pp.prekey = (Sira__V1__Prekey *)m;
	f.body_case = SIRA__V1__FRAME__BODY_PUBLISH_PREKEY;
	f.publish_prekey = &pp;
	memcpy(id, key_id, SIRA_PREKEY_ID_LEN);
	if (link_send(&d->link, &f, &req) == 0)
		(void)pending_expect(&d->pending, req, P_PREKEY, id, now);
	sira__v1__prekey__free_unpacked(pp.prekey, NULL);
}

void
prekeys_maintain(
    struct daemon *d, const struct prekey_schedule *sc, uint64_t now)
{
	struct vault_txn *t = NULL;
	struct prekey_scan *s = calloc(1, sizeof(*s));
	struct sira_err err;

	if (s == NULL || vault_begin(d->a->vault, true, &t, &err) != 0) {
		free(s);
		return;
	}
	sira_err_clear(&err);
	if (maintain(d->a, t, sc, now, s, &err) != 0 ||
	    vault_commit(&t, &err) != 0)
		log_event(LOG_ERROR, "prekeys.failed", "reason=%s", err.msg);
	else if (d->session && !s->newest_published && s->newest_nb != 0 &&
	    vault_begin(d->a->vault, false, &t, NULL) == 0)
		publish(d, t, s->newest_id, now);
	vault_abort(&t);
	d->last_prekey = now;
	free(s->expired);
	free(s);
}

void
prekeys_published(struct daemon *d, const uint8_t *key_id)
{
	Sira__V1__PrekeySecret *ps = NULL;
	struct vault_txn *t = NULL;
	uint8_t *bytes = NULL;
	size_t blen;

	if (batch_begin(d, &t, NULL) != 0 || row_read(t, key_id, &ps) != 0)
		goto out;
	ps->published = true;
	if (wire_pack(&ps->base, &bytes, &blen, NULL) == 0 &&
	    vault_put(t, VT_PREKEYS, bytes_of(key_id, SIRA_PREKEY_ID_LEN),
		bytes, blen, NULL) == 0 &&
	    vault_commit(&t, NULL) == 0)
		log_event(LOG_INFO, "prekey.published", "agency=%s",
		    d->a->me->agency_id);
	if (bytes != NULL)
		sodium_memzero(bytes, blen);
	free(bytes);
out:
	row_free(ps);
	vault_abort(&t);
}
