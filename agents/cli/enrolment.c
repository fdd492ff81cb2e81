/*
 * enrolment.c: sira-agent keygen, renew-request and install-cert, the
 * agency's half of enrolment by request (docs/PKI.md). The keys are made
 * here, on the agency's machine, written 0600 (under a passphrase unless
 * told otherwise) and never leave it; what goes to the committee is the
 * signed request, whose fingerprint the agency reads over the phone.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "clock.h"
#include "crypto/crypto.h"
#include "enrol.h"
#include "fileio.h"
#include "i18n.h"
#include "passphrase.h"
#include "sirafile.h"
#include "wire.h"

static int
load_ca(const char *path, uint64_t now, struct cert **ca, struct sira_err *err)
{
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = sirafile_read_cert(path, &buf, &body, &len, err)) != 0)
		return rc;
	rc = cert_load_ca(body, len, now, ca, err);
	free(buf);
	return rc;
}

/* Write the request bytes to path (magic added, never overwriting) and
 * show its fingerprint. */
static int
write_request(
    const char *path, const uint8_t *req, size_t len, struct sira_err *err)
{
	struct enrol_request *r = NULL;
	char fp[SIRA_ENROL_FP_LEN];
	uint8_t *file;
	size_t flen;
	int rc;

	if ((rc = enrol_parse(req, len, &r, err)) != 0)
		return rc;
	enrol_fingerprint(r, fp);
	enrol_destroy(&r);
	if ((file = wire_add_magic(SIRA_MAGIC_REQUEST, req, len, &flen)) ==
	    NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	rc = fileio_write(path, file, flen, 0644, true, err);
	free(file);
	if (rc != 0)
		return rc;
	(void)printf(_("request:     %s (public: send it to the national "
		       "committee)\n"
		       "fingerprint: %s\n"
		       "The committee will call you: read this fingerprint to "
		       "them. They sign\n"
		       "only if it is the one they see.\n"),
	    path, fp);
	return 0;
}

static int
path_in(char out[static PATH_MAX], const char *dir, const char *id,
    const char *ext, struct sira_err *err)
{
	int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, id, ext);

	if (n < 0 || n >= PATH_MAX)
		return sira_err_set(err, SIRA_EINVAL, "path too long");
	return 0;
}

/* The passphrase of a new key file: a file, none, or asked twice. */
static int
new_passphrase(
    const struct keygen_args *k, struct passphrase *pass, struct sira_err *err)
{
	if (k->no_pass) {
		(void)fprintf(stderr,
		    _("sira-agent: WARNING: the key file is NOT protected by a "
		      "passphrase: whoever copies it is this agency.\n"));
		return 0;
	}
	if (k->pass_file != NULL)
		return passphrase_from_file(k->pass_file, pass, err);
	return passphrase_prompt(
	    _("passphrase of the new key file: "), true, pass, err);
}

int
enrolment_check_keygen(
    const struct keygen_args *k, enum sira_role *role, struct sira_err *err)
{
	if (k->id == NULL || k->name == NULL || k->role == NULL ||
	    k->ca == NULL || k->out == NULL)
		return sira_err_set(err, SIRA_EINVAL,
		    _("keygen needs --id, --name, --role, --ca and --out"));
	if (k->no_pass && k->pass_file != NULL)
		return sira_err_set(err, SIRA_EINVAL,
		    _("--no-passphrase and --passphrase-file exclude each "
		      "other"));
	if (cert_role_parse(k->role, role) != 0 || !enrol_role_valid(*role))
		return sira_err_set(err, SIRA_EINVAL,
		    _("unknown role; use police, justice, social_services, ngo "
		      "or coordination"));
	if (!cert_agency_id_valid(k->id) || !cert_display_name_valid(k->name))
		return sira_err_set(err, SIRA_EINVAL,
		    _("invalid id or name (id: lower-case letters, digits, "
		      "'.', '-', '_', 3 to 64; name: 1 to 128 bytes)"));
	return 0;
}

/* Keys to DIR/ID.key, then the request to DIR/ID.req. */
static int
keygen_write(const struct keygen_args *k, const struct enrol_ask *ask,
    const struct passphrase *pass, struct sira_err *err)
{
	struct sira_keys *keys = NULL;
	char kpath[PATH_MAX], rpath[PATH_MAX];
	uint8_t *req = NULL;
	size_t reqlen;
	int rc;

	if ((rc = path_in(kpath, k->out, k->id, ".key", err)) != 0 ||
	    (rc = path_in(rpath, k->out, k->id, ".req", err)) != 0)
		return rc;
	if (access(rpath, F_OK) == 0)
		return sira_err_set(err, SIRA_EEXIST,
		    _("%s already exists; move it away first"), rpath);
	if ((rc = fileio_mkdir(k->out, 0700, err)) != 0 ||
	    (rc = enrol_keys_new(k->id, &keys, err)) != 0 ||
	    (rc = enrol_request_make(
		 ask, keys, clock_now(), &req, &reqlen, err)) != 0 ||
	    (rc = keyfile_write(kpath, keys, pass->p, pass->len,
		 KEYFILE_KDF_MODERATE, err)) != 0)
		goto out;
	if ((rc = write_request(rpath, req, reqlen, err)) != 0) {
		/* Never certified: no key without its request. */
		(void)unlink(kpath);
		goto out;
	}
	(void)printf(_("keys:        %s (secret, 0600: it never leaves this "
		       "machine)\n"),
	    kpath);
out:
	free(req);
	keys_destroy(&keys);
	return rc;
}

int
enrolment_keygen(const struct keygen_args *k, struct sira_err *err)
{
	struct passphrase pass = { NULL, 0 };
	struct cert *ca = NULL;
	enum sira_role role;
	int rc;

	if ((rc = enrolment_check_keygen(k, &role, err)) != 0 ||
	    (rc = load_ca(k->ca, clock_now(), &ca, err)) != 0 ||
	    (rc = new_passphrase(k, &pass, err)) != 0)
		goto out;
	rc = keygen_write(
	    k, &(struct enrol_ask){ k->id, k->name, role, ca }, &pass, err);
out:
	passphrase_free(&pass);
	cert_destroy(&ca);
	return rc;
}

int
enrolment_renew(struct agent *a, const char *out, struct sira_err *err)
{
	uint8_t *req = NULL;
	size_t len;
	int rc;

	if ((rc = enrol_request_make(
		 &(struct enrol_ask){ a->me->agency_id, a->me->display_name,
		     a->me->role, a->ca },
		 a->keys, clock_now(), &req, &len, err)) == 0)
		rc = write_request(out, req, len, err);
	free(req);
	if (rc == 0)
		(void)printf(
		    _("renewal of %s with the same keys; when the "
		      "certificate comes back:\n"
		      "  sira-agent install-cert --home %s FILE.cert\n"),
		    a->me->agency_id, a->home.dir);
	return rc;
}

int
enrolment_install(struct agent *a, const char *path, struct sira_err *err)
{
	char until[SIRA_TIME_STR_LEN];
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = sirafile_read_cert(path, &buf, &body, &len, err)) != 0)
		return rc;
	rc = agent_install_cert(a, body, len, clock_now(), err);
	free(buf);
	if (rc != 0) {
		/* A copy: err->msg cannot be both source and destination. */
		char why[SIRA_ERR_MSG_MAX];
		(void)snprintf(why, sizeof(why), "%s",
		    err != NULL ? err->msg : sira_strerror(rc));
		return sira_err_set(err, -rc, _("%s refused: %s"), path, why);
	}
	clock_format(a->me->not_after, until);
	(void)printf(_("certificate of %s installed (serial %llu, valid until "
		       "%s);\nrestart the daemon (sira-agent run) to use it\n"),
	    a->me->agency_id, (unsigned long long)a->me->serial, until);
	return 0;
}
