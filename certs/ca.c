/*
 * ca.c: the national CA: creating it, issuing, renewing and revoking agency
 * certificates, and signing revocation lists.
 *
 * This is the only code that holds the CA's secret key, the only caller
 * of crypto_box_keypair on the CA's side (transport keys made at `issue`,
 * for demos and tests) and of crypto_box_open_easy (the proof of
 * possession of an enrolment request, opened with the X25519 form of the
 * CA key: docs/PROTOCOL.md, "Enrolment").
 * Bookkeeping is written before the objects it numbers, so a crash can waste
 * a serial or a CRL sequence number but never hand out one twice. The
 * published CRL is merged back into the state on every open, so a restored
 * old ca.state cannot silently forget a revocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "ca.h"
#include "cert.pb-c.h"
#include "fileio.h"
#include "i18n.h"
#include "sign.h"
#include "sirafile.h"
#include "wire.h"

#define DAY 86400u
#define STATE_MAX (8u << 20)

struct ca {
	char dir[PATH_MAX];
	int lockfd;
	struct cert *cert;
	struct keyfile *kf;
	struct sira_keys *keys; /* NULL until ca_unlock */
	uint64_t next_serial;
	uint64_t crl_sequence;
	struct crl_entry *revoked; /* sorted by serial */
	size_t n_revoked;
};

static int
path_in(char out[static PATH_MAX], const char *dir, const char *name,
    struct sira_err *err)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return sira_err_set(
		    err, SIRA_EINVAL, _("path too long: %s/%s"), dir, name);
	return 0;
}

/* How a CA file is written: its state is private and replaced; the
 * revocation list is public and replaced; a certificate is public and
 * never overwritten. */
enum object_kind { OBJ_STATE, OBJ_PUBLISHED, OBJ_ISSUED };

/* Write body with magic to dir/name as kind says. */
static int
write_object(const char *dir, const char *name, const char *magic,
    struct bytes body, enum object_kind kind, struct sira_err *err)
{
	mode_t mode = kind == OBJ_STATE ? 0600 : 0644;
	bool exclusive = kind == OBJ_ISSUED;
	char path[PATH_MAX];
	uint8_t *file;
	size_t filelen;
	int rc;

	if ((rc = path_in(path, dir, name, err)) != 0)
		return rc;
	if ((file = wire_add_magic(magic, body.p, body.len, &filelen)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	rc = fileio_write(path, file, filelen, mode, exclusive, err);
	free(file);
	return rc;
}

/* Write a public certificate to path, never overwriting. */
static int
write_object_at(const char *path, const char *magic, struct bytes body,
    struct sira_err *err)
{
	uint8_t *file;
	size_t filelen;
	int rc;

	if ((file = wire_add_magic(magic, body.p, body.len, &filelen)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	rc = fileio_write(path, file, filelen, 0644, true, err);
	free(file);
	return rc;
}

/* Read dir/name of kind k and strip its magic; *buf is the file. */
static int
read_object(const char *dir, const char *name, const struct sirafile_kind *k,
    uint8_t **buf, struct bytes *body, struct sira_err *err)
{
	char path[PATH_MAX];
	int rc;

	*buf = NULL;
	if ((rc = path_in(path, dir, name, err)) != 0)
		return rc;
	return sirafile_read(path, k, buf, &body->p, &body->len, err);
}

static int
save_state(const struct ca *ca, struct sira_err *err)
{
	Sira__V1__CaState st = SIRA__V1__CA_STATE__INIT;
	Sira__V1__RevokedEntry *ev = NULL, **evp = NULL;
	uint8_t *body = NULL;
	size_t len;
	int rc;

	if (ca->n_revoked > 0 &&
	    ((ev = calloc(ca->n_revoked, sizeof(*ev))) == NULL ||
		(evp = calloc(ca->n_revoked, sizeof(*evp))) == NULL)) {
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		goto out;
	}
	for (size_t i = 0; i < ca->n_revoked; i++) {
		const struct crl_entry *e = &ca->revoked[i];
		sira__v1__revoked_entry__init(&ev[i]);
		ev[i].serial = e->serial;
		ev[i].cert_id.data = (uint8_t *)(uintptr_t)e->cert_id;
		ev[i].cert_id.len = SIRA_HASH_LEN;
		ev[i].revoked_at = e->revoked_at;
		ev[i].reason = (Sira__V1__RevocationReason)e->reason;
		ev[i].compromised_since = e->compromised_since;
		evp[i] = &ev[i];
	}
	st.version = 1;
	st.next_serial = ca->next_serial;
	st.crl_sequence = ca->crl_sequence;
	st.n_revoked = ca->n_revoked;
	st.revoked = evp;
	if ((rc = wire_pack(&st.base, &body, &len, err)) == 0)
		rc = write_object(ca->dir, "ca.state", SIRA_MAGIC_STATE,
		    bytes_of(body, len), OBJ_STATE, err);
out:
	free(body);
	free(evp);
	free(ev);
	return rc;
}

/* Insert e into the sorted revoked set unless its serial is present. */
static int
add_revoked(struct ca *ca, const struct crl_entry *e, struct sira_err *err)
{
	struct crl_entry *grown;
	size_t i = 0;

	while (i < ca->n_revoked && ca->revoked[i].serial < e->serial)
		i++;
	if (i < ca->n_revoked && ca->revoked[i].serial == e->serial)
		return sira_err_set(err, SIRA_EEXIST,
		    _("serial %" PRIu64 " is already revoked"), e->serial);
	if (ca->n_revoked >= SIRA_CRL_ENTRIES_MAX)
		return sira_err_set(
		    err, SIRA_ETOOBIG, _("the revocation list is full"));
	grown = realloc(ca->revoked, (ca->n_revoked + 1) * sizeof(*grown));
	if (grown == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	ca->revoked = grown;
	memmove(&grown[i + 1], &grown[i], (ca->n_revoked - i) * sizeof(*grown));
	grown[i] = *e;
	ca->n_revoked++;
	return 0;
}

static int
load_state(struct ca *ca, struct sira_err *err)
{
	struct bytes body;
	uint8_t *buf;
	ProtobufCMessage *m;
	Sira__V1__CaState *st;
	int rc;

	if ((rc = read_object(ca->dir, "ca.state",
		 &(struct sirafile_kind){
		     SIRA_MAGIC_STATE, "CA state", STATE_MAX },
		 &buf, &body, err)) != 0)
		return rc;
	rc = wire_unpack(&sira__v1__ca_state__descriptor, body.p, body.len,
	    STATE_MAX, &m, err);
	free(buf);
	if (rc != 0)
		return sira_err_set(
		    err, -rc, _("%s/ca.state is damaged"), ca->dir);
	st = (Sira__V1__CaState *)m;
	ca->next_serial = st->next_serial;
	ca->crl_sequence = st->crl_sequence;
	for (size_t i = 0; rc == 0 && i < st->n_revoked; i++) {
		struct crl_entry e = { 0 };
		if (st->revoked[i]->cert_id.len != SIRA_HASH_LEN) {
			rc = sira_err_set(err, SIRA_EMALFORMED,
			    _("%s/ca.state is damaged"), ca->dir);
			break;
		}
		e.serial = st->revoked[i]->serial;
		memcpy(e.cert_id, st->revoked[i]->cert_id.data, SIRA_HASH_LEN);
		e.revoked_at = st->revoked[i]->revoked_at;
		e.reason = (int)st->revoked[i]->reason;
		e.compromised_since = st->revoked[i]->compromised_since;
		rc = add_revoked(ca, &e, err);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	if (rc == 0 && ca->next_serial == 0)
		rc = sira_err_set(
		    err, SIRA_EMALFORMED, _("%s/ca.state is damaged"), ca->dir);
	return rc;
}

/* Fold the published CRL back into the state (see the file comment). */
static int
merge_published_crl(struct ca *ca, struct sira_err *err)
{
	struct bytes body;
	uint8_t *buf;
	struct crl *crl = NULL;
	int rc;

	if ((rc = read_object(ca->dir, "ca.crl",
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CRL, "revocation list", SIRA_CRL_MAX },
		 &buf, &body, err)) != 0)
		return rc == -SIRA_ENOTFOUND ? 0 : rc;
	rc = crl_verify(ca->cert, body.p, body.len, &crl, err);
	free(buf);
	if (rc != 0)
		return rc;
	if (crl->sequence > ca->crl_sequence)
		ca->crl_sequence = crl->sequence;
	for (size_t i = 0; rc == 0 && i < crl->n; i++) {
		rc = add_revoked(ca, &crl->entries[i], err);
		if (rc == -SIRA_EEXIST)
			rc = 0;
	}
	crl_destroy(&crl);
	return rc;
}

static int
lock_dir(struct ca *ca, struct sira_err *err)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = path_in(path, ca->dir, "lock", err)) != 0)
		return rc;
	ca->lockfd =
	    open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ca->lockfd == -1)
		return sira_err_set(err,
		    errno == ENOENT ? SIRA_ENOTFOUND : SIRA_EIO, "%s: %s",
		    ca->dir, strerror(errno));
	if (flock(ca->lockfd, LOCK_EX | LOCK_NB) == -1)
		return sira_err_set(err, SIRA_EEXIST,
		    _("another sira-cert is working on %s; try again when it is done"),
		    ca->dir);
	return 0;
}

static struct ca *
ca_alloc(const char *dir)
{
	struct ca *ca = calloc(1, sizeof(*ca));

	if (ca == NULL)
		return NULL;
	ca->lockfd = -1;
	(void)snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	return ca;
}

int
ca_open(const char *dir, uint64_t now, struct ca **out, struct sira_err *err)
{
	struct ca *ca;
	struct bytes body;
	uint8_t *buf = NULL;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if ((ca = ca_alloc(dir)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = read_object(dir, "ca.cert",
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CERT, "certificate", SIRA_CERT_MAX },
		 &buf, &body, err)) != 0) {
		if (rc == -SIRA_ENOTFOUND)
			rc = sira_err_set(err, SIRA_ENOTFOUND,
			    _("%s holds no CA (run sira-cert init first)"),
			    dir);
		goto fail;
	}
	if ((rc = lock_dir(ca, err)) != 0 ||
	    (rc = cert_load_ca(body.p, body.len, now, &ca->cert, err)) != 0 ||
	    (rc = path_in(path, dir, "ca.key", err)) != 0 ||
	    (rc = keyfile_open(path, &ca->kf, err)) != 0 ||
	    (rc = load_state(ca, err)) != 0 ||
	    (rc = merge_published_crl(ca, err)) != 0)
		goto fail;
	free(buf);
	*out = ca;
	return 0;
fail:
	free(buf);
	ca_close(&ca);
	return rc;
}

const struct cert *
ca_certificate(const struct ca *ca)
{
	return ca->cert;
}

bool
ca_key_encrypted(const struct ca *ca)
{
	return keyfile_encrypted(ca->kf);
}

int
ca_unlock(struct ca *ca, const char *pass, size_t passlen, struct sira_err *err)
{
	int rc;

	keys_destroy(&ca->keys);
	if ((rc = keyfile_unlock(ca->kf, pass, passlen, &ca->keys, err)) != 0)
		return rc;
	if (memcmp(ca->keys->sign_pk, ca->cert->sign_pk, SIRA_SIGN_PK_LEN) !=
	    0) {
		keys_destroy(&ca->keys);
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("%s/ca.key does not belong to %s/ca.cert"), ca->dir,
		    ca->dir);
	}
	return 0;
}

/* Sign c with the CA key; *out is the Certificate bytes (caller frees). */
static int
sign_cert(const struct ca *ca, const struct cert *c, uint8_t **out,
    size_t *outlen, struct sira_err *err)
{
	uint8_t *tbs = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen;
	int rc;

	if ((rc = cert_encode_tbs(c, &tbs, &tbslen, err)) == 0 &&
	    (rc = sign_detached(
		 ca->keys->sign_sk, SIRA_DS_CERT, tbs, tbslen, sig)) == 0)
		rc = cert_encode(tbs, tbslen, sig, out, outlen, err);
	free(tbs);
	return rc;
}

int
ca_publish_crl(struct ca *ca, uint64_t now, uint32_t crl_days, const char *out,
    struct sira_err *err)
{
	uint8_t *tbs = NULL, *crl = NULL, sig[SIRA_SIG_LEN];
	size_t tbslen, crllen;
	uint8_t *file = NULL;
	size_t filelen;
	int rc;

	if (ca->keys == NULL)
		return sira_err_set(err, SIRA_ESTATE, _("CA key is locked"));
	if (crl_days == 0 || crl_days > 366)
		return sira_err_set(err, SIRA_EINVAL,
		    _("revocation list validity must be 1 to 366 days"));
	ca->crl_sequence++;
	if ((rc = save_state(ca, err)) != 0 ||
	    (rc = crl_encode_tbs(
		 &(struct crl_fields){ ca->cert->id, ca->crl_sequence, now,
		     now + (uint64_t)crl_days * DAY, ca->revoked,
		     ca->n_revoked },
		 &tbs, &tbslen, err)) != 0 ||
	    (rc = sign_detached(
		 ca->keys->sign_sk, SIRA_DS_CRL, tbs, tbslen, sig)) != 0 ||
	    (rc = crl_encode(tbs, tbslen, sig, &crl, &crllen, err)) != 0 ||
	    (rc = write_object(ca->dir, "ca.crl", SIRA_MAGIC_CRL,
		 bytes_of(crl, crllen), OBJ_PUBLISHED, err)) != 0)
		goto out;
	if (out != NULL) {
		if ((file = wire_add_magic(
			 SIRA_MAGIC_CRL, crl, crllen, &filelen)) == NULL)
			rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		else
			rc = fileio_write(out, file, filelen, 0644, false, err);
	}
out:
	free(file);
	free(crl);
	free(tbs);
	return rc;
}

int
ca_create(const char *dir, const struct ca_request *req, uint64_t now,
    struct sira_err *err)
{
	const char *agency_id = req->agency_id, *name = req->display_name;
	uint32_t days = req->days;
	struct ca *ca;
	struct cert c = { 0 };
	uint8_t *raw = NULL;
	size_t rawlen;
	char path[PATH_MAX];
	int rc;

	if (days == 0 || days > 36500)
		return sira_err_set(
		    err, SIRA_EINVAL, _("CA validity must be 1 to 36500 days"));
	if ((rc = fileio_mkdir(dir, 0700, err)) != 0)
		return rc;
	if ((ca = ca_alloc(dir)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = lock_dir(ca, err)) != 0 ||
	    (rc = path_in(path, dir, "ca.cert", err)) != 0)
		goto out;
	if (access(path, F_OK) == 0) {
		rc = sira_err_set(err, SIRA_EEXIST,
		    _("%s already holds a CA; refusing to replace it"), dir);
		goto out;
	}
	(void)snprintf(c.agency_id, sizeof(c.agency_id), "%s", agency_id);
	(void)snprintf(c.display_name, sizeof(c.display_name), "%s", name);
	c.is_ca = true;
	c.role = SIRA_ROLE_COORDINATION;
	c.key_usage = cert_role_usage(c.role, true);
	c.not_before = now;
	c.not_after = now + (uint64_t)days * DAY;
	if ((ca->keys = keys_new()) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
		goto out;
	}
	if (strlen(agency_id) >= sizeof(c.agency_id) ||
	    strlen(name) >= sizeof(c.display_name) ||
	    !cert_agency_id_valid(agency_id) ||
	    !cert_display_name_valid(name)) {
		rc = sira_err_set(err, SIRA_EINVAL,
		    _("invalid CA id or name (id: lower-case letters, digits, '.', '-', '_'; name: 1 to 128 bytes of UTF-8)"));
		goto out;
	}
	memcpy(ca->keys->agency_id, c.agency_id, sizeof(c.agency_id));
	sign_keygen(ca->keys->sign_pk, ca->keys->sign_sk);
	memcpy(c.sign_pk, ca->keys->sign_pk, SIRA_SIGN_PK_LEN);
	if ((rc = sign_cert(ca, &c, &raw, &rawlen, err)) != 0 ||
	    (rc = cert_load_ca(raw, rawlen, now, &ca->cert, err)) != 0)
		goto out;
	if ((rc = path_in(path, dir, "issued", err)) != 0 ||
	    (rc = fileio_mkdir(path, 0700, err)) != 0 ||
	    (rc = path_in(path, dir, "ca.key", err)) != 0 ||
	    (rc = keyfile_write(path, ca->keys, req->key_pass, req->key_passlen,
		 req->kdf, err)) != 0 ||
	    (rc = write_object(dir, "ca.cert", SIRA_MAGIC_CERT,
		 bytes_of(raw, rawlen), OBJ_ISSUED, err)) != 0)
		goto out;
	ca->next_serial = 1;
	rc = ca_publish_crl(ca, now, CA_DEFAULT_CRL_DAYS, NULL, err);
out:
	free(raw);
	ca_close(&ca);
	return rc;
}

/* Validity window of a new certificate, nested in the CA's. */
static int
window(const struct ca *ca, const struct ca_request *req, struct cert *c,
    struct sira_err *err)
{
	if (req->days == 0 || req->days > 3650)
		return sira_err_set(
		    err, SIRA_EINVAL, _("validity must be 1 to 3650 days"));
	if (req->not_before < ca->cert->not_before ||
	    req->not_before >= ca->cert->not_after)
		return sira_err_set(err, SIRA_EINVAL,
		    _("the certificate must start within the CA's validity"));
	c->not_before = req->not_before;
	c->not_after = req->not_before + (uint64_t)req->days * DAY;
	if (c->not_after > ca->cert->not_after) {
		c->not_after = ca->cert->not_after;
		(void)fprintf(stderr,
		    _("note: validity shortened to end with the CA's certificate\n"));
	}
	return 0;
}

/* Fill c with what req asks for, numbered with the next serial. */
static int
fill_identity(const struct ca *ca, const struct ca_request *req, struct cert *c,
    struct sira_err *err)
{
	int rc;

	if (!cert_agency_id_valid(req->agency_id) ||
	    !cert_display_name_valid(req->display_name))
		return sira_err_set(err, SIRA_EINVAL,
		    _("invalid agency id or name (id: lower-case letters, digits, '.', '-', '_', 3 to 64; name: 1 to 128 bytes of UTF-8, no control characters)"));
	if ((rc = window(ca, req, c, err)) != 0)
		return rc;
	(void)snprintf(
	    c->agency_id, sizeof(c->agency_id), "%s", req->agency_id);
	(void)snprintf(
	    c->display_name, sizeof(c->display_name), "%s", req->display_name);
	c->serial = ca->next_serial;
	memcpy(c->issuer_id, ca->cert->id, SIRA_HASH_LEN);
	c->role = req->role;
	c->key_usage = cert_role_usage(req->role, false);
	c->has_transport = (c->key_usage & SIRA_KU_TRANSPORT) != 0;
	return 0;
}

/* Fill c and keys with a fresh identity for req. */
static int
new_identity(const struct ca *ca, const struct ca_request *req, struct cert *c,
    struct sira_keys *keys, struct sira_err *err)
{
	int rc;

	if ((rc = fill_identity(ca, req, c, err)) != 0)
		return rc;
	memcpy(keys->agency_id, c->agency_id, sizeof(c->agency_id));
	sign_keygen(keys->sign_pk, keys->sign_sk);
	memcpy(c->sign_pk, keys->sign_pk, SIRA_SIGN_PK_LEN);
	if (c->has_transport) {
		if (crypto_box_keypair(
			keys->transport_pk, keys->transport_sk) != 0)
			return sira_err_set(
			    err, SIRA_ECRYPTO, _("key generation failed"));
		keys->has_transport = true;
		memcpy(c->transport_pk, keys->transport_pk, SIRA_CURVE_KEY_LEN);
	}
	return 0;
}

static int
refuse_existing(const char *outdir, const char *id, struct sira_err *err)
{
	char name[SIRA_AGENCY_ID_MAX + 8], path[PATH_MAX];
	const char *ext[] = { ".cert", ".key" };
	int rc;

	for (size_t i = 0; i < 2; i++) {
		(void)snprintf(name, sizeof(name), "%s%s", id, ext[i]);
		if ((rc = path_in(path, outdir, name, err)) != 0)
			return rc;
		if (access(path, F_OK) == 0)
			return sira_err_set(err, SIRA_EEXIST,
			    _("%s already exists; move it away or choose another --out"),
			    path);
	}
	return 0;
}

/* What issuing made: the certificate, its signed bytes, the new keys. */
struct issued {
	const struct cert *cert;
	struct bytes raw;
	const struct sira_keys *keys;
};

static int
write_issued(struct ca *ca, const struct issued *is,
    const struct ca_request *req, const char *outdir, struct sira_err *err)
{
	const struct cert *c = is->cert;
	struct bytes raw = is->raw;
	char name[PATH_MAX], path[PATH_MAX];
	int rc;

	(void)snprintf(
	    name, sizeof(name), "issued/%" PRIu64 ".cert", c->serial);
	if ((rc = write_object(
		 ca->dir, name, SIRA_MAGIC_CERT, raw, OBJ_ISSUED, err)) != 0)
		return rc;
	(void)snprintf(name, sizeof(name), "%s.key", c->agency_id);
	if ((rc = path_in(path, outdir, name, err)) != 0 ||
	    (rc = keyfile_write(path, is->keys, req->key_pass, req->key_passlen,
		 req->kdf, err)) != 0)
		return rc;
	(void)snprintf(name, sizeof(name), "%s.cert", c->agency_id);
	return write_object(
	    outdir, name, SIRA_MAGIC_CERT, raw, OBJ_ISSUED, err);
}

int
ca_issue(struct ca *ca, const struct ca_request *req, const char *outdir,
    uint64_t now, struct cert **issued, struct sira_err *err)
{
	struct cert c = { 0 };
	struct sira_keys *keys;
	uint8_t *raw = NULL;
	size_t rawlen;
	int rc;

	if (issued != NULL)
		*issued = NULL;
	if (ca->keys == NULL)
		return sira_err_set(err, SIRA_ESTATE, _("CA key is locked"));
	if ((rc = fileio_mkdir(outdir, 0700, err)) != 0 ||
	    (rc = refuse_existing(outdir, req->agency_id, err)) != 0)
		return rc;
	if ((keys = keys_new()) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = new_identity(ca, req, &c, keys, err)) != 0 ||
	    (rc = sign_cert(ca, &c, &raw, &rawlen, err)) != 0)
		goto out;
	/* The serial is spent before anything carries it. */
	ca->next_serial++;
	if ((rc = save_state(ca, err)) != 0 ||
	    (rc = write_issued(ca,
		 &(struct issued){ &c, bytes_of(raw, rawlen), keys }, req,
		 outdir, err)) != 0)
		goto out;
	/* Check what we wrote with the verifiers' code, at a time it is valid.
	 */
	if (issued != NULL)
		rc = cert_verify(ca->cert, NULL, bytes_of(raw, rawlen),
		    now > c.not_before ? now : c.not_before, issued, err);
out:
	free(raw);
	keys_destroy(&keys);
	return rc;
}

/* Record that request id is signed as serial; refuse it a second time. */
static int
record_request(const struct ca *ca, const uint8_t id[static SIRA_HASH_LEN],
    uint64_t serial, struct sira_err *err)
{
	char hex[2 * SIRA_HASH_LEN + 1], path[PATH_MAX], text[32];
	int n, rc;

	(void)sodium_bin2hex(hex, sizeof(hex), id, SIRA_HASH_LEN);
	if ((rc = path_in(path, ca->dir, "requests", err)) != 0 ||
	    (rc = fileio_mkdir(path, 0700, err)) != 0)
		return rc;
	n = snprintf(path, sizeof(path), "%s/requests/%s", ca->dir, hex);
	if (n < 0 || n >= (int)sizeof(path))
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", serial);
	rc = fileio_write(
	    path, (const uint8_t *)text, (size_t)n, 0644, true, err);
	if (rc == -SIRA_EEXIST)
		return sira_err_set(err, SIRA_EREPLAY,
		    _("this request was already signed (see %s); ask the agency for a new one"),
		    path);
	return rc;
}

int
ca_certify(struct ca *ca, const struct ca_request *req, const char *out,
    uint64_t now, struct cert **issued, struct sira_err *err)
{
	struct cert c = { 0 };
	uint8_t *raw = NULL;
	size_t rawlen;
	char name[64];
	int rc;

	*issued = NULL;
	if (ca->keys == NULL)
		return sira_err_set(err, SIRA_ESTATE, _("CA key is locked"));
	if (req->sign_pk == NULL || req->transport_pk == NULL ||
	    req->request_id == NULL)
		return sira_err_set(
		    err, SIRA_EINVAL, _("no public keys to certify"));
	if (access(out, F_OK) == 0)
		return sira_err_set(err, SIRA_EEXIST,
		    _("%s already exists; move it away or choose another --out"),
		    out);
	if ((rc = fill_identity(ca, req, &c, err)) != 0)
		return rc;
	if (!c.has_transport)
		return sira_err_set(err, SIRA_EINVAL,
		    _("role %s cannot be certified from a request"),
		    cert_role_name(c.role));
	memcpy(c.sign_pk, req->sign_pk, SIRA_SIGN_PK_LEN);
	memcpy(c.transport_pk, req->transport_pk, SIRA_CURVE_KEY_LEN);
	if ((rc = record_request(ca, req->request_id, c.serial, err)) != 0 ||
	    (rc = sign_cert(ca, &c, &raw, &rawlen, err)) != 0)
		return rc;
	/* The serial is spent before anything carries it. */
	ca->next_serial++;
	(void)snprintf(name, sizeof(name), "issued/%" PRIu64 ".cert", c.serial);
	if ((rc = save_state(ca, err)) != 0 ||
	    (rc = write_object(ca->dir, name, SIRA_MAGIC_CERT,
		 bytes_of(raw, rawlen), OBJ_ISSUED, err)) != 0)
		goto fail;
	if ((rc = cert_verify(ca->cert, NULL, bytes_of(raw, rawlen),
		 now > c.not_before ? now : c.not_before, issued, err)) != 0)
		goto fail;
	rc = write_object_at(out, SIRA_MAGIC_CERT, bytes_of(raw, rawlen), err);
fail:
	if (rc != 0)
		cert_destroy(issued);
	free(raw);
	return rc;
}

int
ca_check_pop(
    const struct ca *ca, const struct enrol_request *r, struct sira_err *err)
{
	uint8_t ca_curve[32], want[SIRA_HASH_LEN], got[SIRA_HASH_LEN];
	int rc = 0;

	if (ca->keys == NULL)
		return sira_err_set(err, SIRA_ESTATE, _("CA key is locked"));
	if (sodium_memcmp(r->ca_id, ca->cert->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(err, SIRA_EUNKNOWN_CA,
		    _("the request of %s was made for another CA"),
		    r->agency_id);
	enrol_pop_digest(r, want);
	sign_sk_to_curve(ca->keys->sign_sk, ca_curve);
	if (crypto_box_open_easy(got, r->pop, SIRA_POP_LEN, r->pop_nonce,
		r->transport_pk, ca_curve) != 0 ||
	    sodium_memcmp(got, want, SIRA_HASH_LEN) != 0)
		rc = sira_err_set(err, SIRA_EBADSIG,
		    _("the request of %s does not prove possession of its encryption key"),
		    r->agency_id);
	sodium_memzero(ca_curve, sizeof(ca_curve));
	return rc;
}

/* The revocation of serial, or NULL. */
static const struct crl_entry *
revocation_of(const struct ca *ca, uint64_t serial)
{
	for (size_t i = 0; i < ca->n_revoked; i++)
		if (ca->revoked[i].serial == serial)
			return &ca->revoked[i];
	return NULL;
}

int
ca_each_issued(
    const struct ca *ca, ca_issued_fn *fn, void *ctx, struct sira_err *err)
{
	struct cert *c = NULL;
	struct bytes body;
	uint8_t *buf;
	char name[64];
	int rc = 0;

	for (uint64_t serial = 1; rc == 0 && serial < ca->next_serial;
	     serial++) {
		(void)snprintf(
		    name, sizeof(name), "issued/%" PRIu64 ".cert", serial);
		rc = read_object(ca->dir, name,
		    &(struct sirafile_kind){
			SIRA_MAGIC_CERT, "certificate", SIRA_CERT_MAX },
		    &buf, &body, err);
		if (rc == -SIRA_ENOTFOUND) {
			rc = 0; /* a serial spent by a crash (file comment) */
			continue;
		}
		if (rc == 0)
			rc = cert_unsafe_decode(body.p, body.len, &c, err);
		free(buf);
		if (rc != 0)
			return sira_err_set(err, -rc,
			    _("%s/%s is damaged; the CA's records cannot be checked"),
			    ca->dir, name);
		rc = fn(ctx, c, revocation_of(ca, serial));
		cert_destroy(&c);
	}
	return rc > 0 ? 0 : rc;
}

int
ca_revoke(struct ca *ca, const struct ca_revocation *rv, uint64_t now,
    struct sira_err *err)
{
	uint64_t serial = rv->serial;
	struct crl_entry e = { 0 };
	struct cert *c = NULL;
	struct bytes body;
	uint8_t *buf;
	char name[64];
	int rc;

	if (ca->keys == NULL)
		return sira_err_set(err, SIRA_ESTATE, _("CA key is locked"));
	if (serial == 0 || serial >= ca->next_serial)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("this CA never issued serial %" PRIu64), serial);
	(void)snprintf(name, sizeof(name), "issued/%" PRIu64 ".cert", serial);
	if ((rc = read_object(ca->dir, name,
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CERT, "certificate", SIRA_CERT_MAX },
		 &buf, &body, err)) != 0)
		return sira_err_set(err, -rc,
		    _("no record of serial %" PRIu64 " in %s/issued"), serial,
		    ca->dir);
	rc = cert_unsafe_decode(body.p, body.len, &c, err);
	free(buf);
	if (rc != 0)
		return rc;
	e.serial = serial;
	memcpy(e.cert_id, c->id, SIRA_HASH_LEN);
	e.revoked_at = now;
	e.reason = rv->reason;
	if (rv->reason == SIRA_REVOKE_KEY_COMPROMISE)
		e.compromised_since =
		    rv->compromised_since ? rv->compromised_since : now;
	cert_destroy(&c);
	if ((rc = add_revoked(ca, &e, err)) != 0)
		return rc;
	return ca_publish_crl(ca, now, rv->crl_days, NULL, err);
}

void
ca_close(struct ca **cap)
{
	struct ca *ca;

	if (cap == NULL || (ca = *cap) == NULL)
		return;
	keys_destroy(&ca->keys);
	keyfile_close(&ca->kf);
	cert_destroy(&ca->cert);
	free(ca->revoked);
	if (ca->lockfd != -1)
		close(ca->lockfd); /* releases the flock */
	free(ca);
	*cap = NULL;
}
