/*
 * home.c: an agency's home directory, and opening everything in it.
 *
 * HOME (from --home or SIRA_HOME) holds: agent.conf (the broker endpoint),
 * ca.cert, broker.cert, agency.cert, agency.key (0600), crl (the latest
 * verified revocation list), vault/ (the encrypted store), status.json
 * (written by the daemon) and nudge (the daemon's ipc socket). Opening
 * verifies the agency's and the broker's certificates against the CA every
 * time: a file swapped on disk is refused, not trusted. A renewed
 * certificate replaces agency.cert only through agent_install_cert, which
 * checks it first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "clock.h"
#include "fileio.h"
#include "passphrase.h"
#include "sirafile.h"
#include "wire.h"
#include "i18n.h"

#define CONF_MAX 4096
#define HOME_FILE_MAX (SIRA_CRL_MAX + SIRA_MAGIC_LEN)

int
home_path(const struct home *h, const char *name, char out[PATH_MAX],
    struct sira_err *err)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", h->dir, name);

	if (n < 0 || n >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, _("path too long"));
	return 0;
}

static int
read_conf(struct home *h, struct sira_err *err)
{
	char path[PATH_MAX], *line, *next;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = home_path(h, "agent.conf", path, err)) != 0 ||
	    (rc = fileio_read(path, CONF_MAX, &buf, &len, err)) != 0)
		return rc == -SIRA_ENOTFOUND ?
		    sira_err_set(err, SIRA_ENOTFOUND,
			_("%s is not an agency home (run sira-agent init)"),
			h->dir) :
		    rc;
	buf[len] = '\0';
	for (line = (char *)buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "broker = ", 9) == 0)
			(void)snprintf(
			    h->broker, sizeof(h->broker), "%s", line + 9);
		else if (strncmp(line, "attach_max = ", 13) == 0)
			h->attach_max = strtoull(line + 13, NULL, 10);
	}
	if (h->attach_max == 0 || h->attach_max > AGENT_ATTACH_MAX_CAP)
		h->attach_max = AGENT_ATTACH_MAX_DEFAULT;
	free(buf);
	if (h->broker[0] == '\0')
		return sira_err_set(
		    err, SIRA_EMALFORMED, _("%s names no broker"), path);
	return 0;
}

int
home_resolve(const char *opt, struct home *h, struct sira_err *err)
{
	const char *dir = opt != NULL ? opt : getenv("SIRA_HOME");

	memset(h, 0, sizeof(*h));
	if (dir == NULL || dir[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL,
		    _("no agency home: give --home DIR or set SIRA_HOME"));
	if (strlen(dir) >= sizeof(h->dir) - 32)
		return sira_err_set(err, SIRA_EINVAL, _("home path too long"));
	(void)snprintf(h->dir, sizeof(h->dir), "%s", dir);
	h->attach_max = AGENT_ATTACH_MAX_DEFAULT;
	return 0;
}

/* Load and check a certificate file against ca (at time now). */
static int
load_cert(const char *path, const struct cert *ca, const struct crl *crl,
    uint64_t now, struct cert **out, struct sira_err *err)
{
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = sirafile_read_cert(path, &buf, &body, &len, err)) != 0)
		return rc;
	rc = ca == NULL ?
	    cert_load_ca(body, len, now, out, err) :
	    cert_verify(ca, crl, bytes_of(body, len), now, out, err);
	free(buf);
	if (rc != 0) {
		/* The message is rebuilt from a copy: err->msg cannot be both
		 * the source and the destination of one format. */
		char why[SIRA_ERR_MSG_MAX], at[SIRA_TIME_STR_LEN];
		(void)snprintf(
		    why, sizeof(why), "%s", err ? err->msg : sira_strerror(rc));
		clock_format(now, at);
		if (rc == -SIRA_ENOTYETVALID)
			return sira_err_set(err, -rc,
			    _("%s: %s; this computer's clock says %s: set the "
			      "date and time"),
			    path, why, at);
		return sira_err_set(err, -rc, _("%s: %s"), path, why);
	}
	return 0;
}

static int
unlock_key(const char *path, const char *pass_file, struct sira_keys **keys,
    struct sira_err *err)
{
	struct passphrase pass = { NULL, 0 };
	struct keyfile *kf;
	int rc;

	if ((rc = keyfile_open(path, &kf, err)) != 0)
		return rc;
	if (keyfile_encrypted(kf))
		rc = pass_file != NULL ?
		    passphrase_from_file(pass_file, &pass, err) :
		    passphrase_prompt(
			"agency key passphrase: ", false, &pass, err);
	if (rc == 0)
		rc = keyfile_unlock(kf, pass.p, pass.len, keys, err);
	passphrase_free(&pass);
	keyfile_close(&kf);
	return rc;
}

static int
check_pair(
    const struct cert *c, const struct sira_keys *k, struct sira_err *err)
{
	if (memcmp(c->sign_pk, k->sign_pk, SIRA_SIGN_PK_LEN) != 0 ||
	    !k->has_transport ||
	    memcmp(c->transport_pk, k->transport_pk, SIRA_CURVE_KEY_LEN) != 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("the key file does not belong to certificate %s"),
		    c->agency_id);
	if (c->role == SIRA_ROLE_BROKER)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s is the broker's certificate, not an agency's"),
		    c->agency_id);
	return 0;
}

/* Copy src into the home as name with mode; never overwrites. */
static int
copy_in(const struct home *h, const char *src, const char *name, mode_t mode,
    bool secret, struct sira_err *err)
{
	char dst[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = home_path(h, name, dst, err)) != 0)
		return rc;
	rc = secret ? fileio_read_secret(src, 1u << 20, &buf, &len, err) :
		      fileio_read(src, 1u << 20, &buf, &len, err);
	if (rc != 0)
		return rc;
	rc = fileio_write(dst, buf, len, mode, true, err);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

static int
write_conf(const struct home *h, const char *broker, const char *agency,
    struct sira_err *err)
{
	char path[PATH_MAX], text[512];
	int n, rc;

	n = snprintf(text, sizeof(text),
	    "# Sira agent configuration\nbroker = %s\nagency = %s\n"
	    "attach_max = %llu\n",
	    broker, agency,
	    (unsigned long long)(h->attach_max ? h->attach_max :
						 AGENT_ATTACH_MAX_DEFAULT));
	if (n < 0 || (size_t)n >= sizeof(text) || strchr(broker, '\n'))
		return sira_err_set(
		    err, SIRA_EINVAL, _("invalid broker endpoint"));
	if ((rc = home_path(h, "agent.conf", path, err)) != 0)
		return rc;
	return fileio_write(
	    path, (const uint8_t *)text, (size_t)n, 0600, true, err);
}

/* Check what init is given before anything is written. */
static int
init_checks(const struct home_files *f, uint64_t now, struct cert **me,
    struct sira_keys **keys, struct sira_err *err)
{
	struct cert *cac = NULL, *br = NULL;
	int rc;

	if ((rc = load_cert(f->ca, NULL, NULL, now, &cac, err)) == 0 &&
	    (rc = load_cert(f->cert, cac, NULL, now, me, err)) == 0 &&
	    (rc = load_cert(f->broker_cert, cac, NULL, now, &br, err)) == 0 &&
	    (rc = unlock_key(f->key, f->pass_file, keys, err)) == 0 &&
	    (rc = check_pair(*me, *keys, err)) == 0 &&
	    br->role != SIRA_ROLE_BROKER)
		rc = sira_err_set(err, SIRA_EKEY_USAGE,
		    _("%s is not a broker certificate"), f->broker_cert);
	cert_destroy(&cac);
	cert_destroy(&br);
	return rc;
}

int
home_init(
    const struct home *h, const struct home_files *f, struct sira_err *err)
{
	struct cert *me = NULL;
	struct sira_keys *keys = NULL;
	struct vault *v = NULL;
	struct vault_txn *t = NULL;
	char path[PATH_MAX];
	uint64_t now = clock_now();
	int rc;

	if ((rc = init_checks(f, now, &me, &keys, err)) != 0 ||
	    (rc = fileio_mkdir(h->dir, 0700, err)) != 0 ||
	    (rc = write_conf(h, f->broker, me->agency_id, err)) != 0 ||
	    (rc = copy_in(h, f->ca, "ca.cert", 0644, false, err)) != 0 ||
	    (rc = copy_in(
		 h, f->broker_cert, "broker.cert", 0644, false, err)) != 0 ||
	    (rc = copy_in(h, f->cert, "agency.cert", 0644, false, err)) != 0 ||
	    (rc = copy_in(h, f->key, "agency.key", 0600, true, err)) != 0 ||
	    (rc = home_path(h, "vault", path, err)) != 0 ||
	    (rc = vault_open(path, keys, VAULT_MAP_DEFAULT, &v, err)) != 0 ||
	    (rc = vault_begin(v, true, &t, err)) != 0)
		goto out;
	if ((rc = vault_put(t, VT_CERTS, bytes_of(me->id, SIRA_HASH_LEN),
		 me->raw, me->raw_len, err)) == 0 &&
	    (rc = book_audit(t, now,
		 &(struct audit_event){
		     "init", me->agency_id, NULL, 0, NULL, NULL },
		 err)) == 0)
		rc = vault_commit(&t, err);
out:
	vault_abort(&t);
	vault_close(&v);
	keys_destroy(&keys);
	cert_destroy(&me);
	return rc;
}

/* Our own certificate: its signature always; expiry is warned about. */
static int
load_own(const char *path, const struct cert *ca, uint64_t now,
    struct cert **out, struct sira_err *err)
{
	struct cert *tmp = NULL;
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = load_cert(path, ca, NULL, now, out, err)) != -SIRA_EEXPIRED)
		return rc;
	/* Expired: still ours, still readable; only sending will fail. */
	if ((rc = sirafile_read_cert(path, &buf, &body, &len, err)) != 0)
		return rc;
	if ((rc = cert_unsafe_decode(body, len, &tmp, err)) == 0)
		rc = cert_verify(
		    ca, NULL, bytes_of(body, len), tmp->not_after, out, err);
	cert_destroy(&tmp);
	free(buf);
	return rc;
}

static int
load_crl(struct agent *a, struct sira_err *err)
{
	char path[PATH_MAX];
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = home_path(&a->home, "crl", path, err)) != 0)
		return rc;
	if ((rc = sirafile_read(path,
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CRL, "revocation list", HOME_FILE_MAX },
		 &buf, &body, &len, err)) != 0)
		return rc == -SIRA_ENOTFOUND ? 0 : rc;
	rc = crl_verify(a->ca, body, len, &a->crl, err);
	free(buf);
	return rc;
}

int
agent_open(
    struct agent *a, const char *pass_file, uint64_t now, struct sira_err *err)
{
	char path[PATH_MAX];
	int rc;

	a->sigs = NULL; /* the daemon lends its cache once it runs */
	if ((rc = read_conf(&a->home, err)) != 0 ||
	    (rc = home_path(&a->home, "ca.cert", path, err)) != 0 ||
	    (rc = load_cert(path, NULL, NULL, now, &a->ca, err)) != 0 ||
	    (rc = load_crl(a, err)) != 0 ||
	    (rc = home_path(&a->home, "agency.cert", path, err)) != 0 ||
	    (rc = load_own(path, a->ca, now, &a->me, err)) != 0 ||
	    (rc = home_path(&a->home, "broker.cert", path, err)) != 0 ||
	    (rc = load_own(path, a->ca, now, &a->broker, err)) != 0 ||
	    (rc = home_path(&a->home, "agency.key", path, err)) != 0 ||
	    (rc = unlock_key(path, pass_file, &a->keys, err)) != 0 ||
	    (rc = check_pair(a->me, a->keys, err)) != 0 ||
	    (rc = home_path(&a->home, "vault", path, err)) != 0)
		return rc;
	return vault_open(path, a->keys, VAULT_MAP_DEFAULT, &a->vault, err);
}

void
agent_close(struct agent *a)
{
	vault_close(&a->vault);
	keys_destroy(&a->keys);
	cert_destroy(&a->ca);
	cert_destroy(&a->me);
	cert_destroy(&a->broker);
	crl_destroy(&a->crl);
}

int
agent_save_crl(struct agent *a, const uint8_t *bytes, size_t len, uint64_t now,
    struct sira_err *err)
{
	struct crl *c = NULL;
	char path[PATH_MAX];
	uint8_t *file;
	size_t flen;
	int rc;

	(void)now;
	if ((rc = crl_verify(a->ca, bytes, len, &c, err)) != 0 ||
	    (rc = crl_may_replace(a->crl, c, err)) != 0) {
		crl_destroy(&c);
		return rc;
	}
	if (a->crl != NULL && c->sequence == a->crl->sequence) {
		crl_destroy(&c);
		return 0;
	}
	if ((file = wire_add_magic(SIRA_MAGIC_CRL, bytes, len, &flen)) ==
	    NULL) {
		crl_destroy(&c);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	if ((rc = home_path(&a->home, "crl", path, err)) == 0)
		rc = fileio_write(path, file, flen, 0644, false, err);
	free(file);
	if (rc != 0) {
		crl_destroy(&c);
		return rc;
	}
	crl_destroy(&a->crl);
	a->crl = c;
	return 0;
}

bool
agent_cert_expiring(const struct agent *a, uint64_t now, uint64_t *days_left)
{
	uint64_t end = a->me->not_after;

	if (days_left != NULL)
		*days_left = end > now ? (end - now) / 86400 : 0;
	return end < now + AGENT_EXPIRY_WARN;
}

/* Is c, verified against our CA, a certificate a may install? */
static int
installable(const struct agent *a, const struct cert *c, struct sira_err *err)
{
	int rc;

	if (strcmp(c->agency_id, a->me->agency_id) != 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "this certificate is for %s, not for this agency (%s)",
		    c->agency_id, a->me->agency_id);
	if ((rc = check_pair(c, a->keys, err)) != 0)
		return sira_err_set(err, -rc,
		    "this certificate of %s is not for the keys of this agency (was it made from this agency's request?)",
		    c->agency_id);
	if (c->not_after <= a->me->not_after)
		return sira_err_set(err, SIRA_EEXIST,
		    "this certificate of %s (serial %llu) does not last longer than the one installed (serial %llu)",
		    c->agency_id, (unsigned long long)c->serial,
		    (unsigned long long)a->me->serial);
	return 0;
}

int
agent_install_cert(struct agent *a, const uint8_t *untrusted, size_t len,
    uint64_t now, struct sira_err *err)
{
	struct cert *c = NULL;
	struct vault_txn *t = NULL;
	char path[PATH_MAX];
	uint8_t *file = NULL;
	size_t flen;
	int rc;

	if ((rc = cert_verify(
		 a->ca, a->crl, bytes_of(untrusted, len), now, &c, err)) != 0 ||
	    (rc = installable(a, c, err)) != 0)
		goto out;
	/* The vault first: a crash before the file is replaced leaves the
	 * old certificate in use, and installing again finishes the job. */
	if ((rc = vault_begin(a->vault, true, &t, err)) != 0 ||
	    (rc = vault_put(t, VT_CERTS, bytes_of(c->id, SIRA_HASH_LEN), c->raw,
		 c->raw_len, err)) != 0 ||
	    (rc = book_audit(t, now,
		 &(struct audit_event){
		     "cert-installed", c->agency_id, NULL, 0, NULL, NULL },
		 err)) != 0 ||
	    (rc = vault_commit(&t, err)) != 0)
		goto out;
	if ((file = wire_add_magic(
		 SIRA_MAGIC_CERT, c->raw, c->raw_len, &flen)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = home_path(&a->home, "agency.cert", path, err)) != 0 ||
	    (rc = fileio_write(path, file, flen, 0644, false, err)) != 0)
		goto out;
	cert_destroy(&a->me);
	a->me = c;
	c = NULL;
out:
	free(file);
	vault_abort(&t);
	cert_destroy(&c);
	return rc;
}
