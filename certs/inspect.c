/*
 * inspect.c: showing and verifying certificates, revocation lists, key
 * files and enrolment requests for operators.
 *
 * `show` decodes without trusting (it says so in its output) and never
 * prints secret material: for a key file it shows whose it is and whether
 * it is encrypted. `verify` is the real check, the same code the broker and
 * agents run. Display strings were validated on decode (UTF-8, no control
 * characters), so they cannot drive the operator's terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <zmq.h>

#include "bytes.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "enrol.h"
#include "fileio.h"
#include "i18n.h"
#include "inspect.h"
#include "keyfile.h"
#include "sirafile.h"
#include "wire.h"

#define FILE_MAX (SIRA_CRL_MAX + SIRA_MAGIC_LEN)

static void
usage_names(uint32_t ku, char *out, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ SIRA_KU_CERT_SIGN, "cert-sign" },
		{ SIRA_KU_CRL_SIGN, "crl-sign" },
		{ SIRA_KU_ENVELOPE_SIGN, "envelope-sign" },
		{ SIRA_KU_RECEIPT_SIGN, "receipt-sign" },
		{ SIRA_KU_PREKEY_SIGN, "prekey-sign" },
		{ SIRA_KU_LOG_SIGN, "log-sign" },
		{ SIRA_KU_TRANSPORT, "transport" },
	};

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if ((ku & bits[i].bit) == 0)
			continue;
		if (out[0] != '\0')
			(void)strncat(out, ",", len - strlen(out) - 1);
		(void)strncat(out, bits[i].name, len - strlen(out) - 1);
	}
}

static void
hex(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	(void)sodium_bin2hex(out, outlen, b, n);
}

static json_t *
cert_json(const struct cert *c)
{
	char nb[SIRA_TIME_STR_LEN], na[SIRA_TIME_STR_LEN], fp[65], iss[65];
	char spk[65], z85[41] = "", ku[128];

	clock_format(c->not_before, nb);
	clock_format(c->not_after, na);
	cert_fingerprint(c, fp);
	hex(c->issuer_id, SIRA_HASH_LEN, iss, sizeof(iss));
	hex(c->sign_pk, SIRA_SIGN_PK_LEN, spk, sizeof(spk));
	if (c->has_transport)
		(void)zmq_z85_encode(z85, c->transport_pk, SIRA_CURVE_KEY_LEN);
	usage_names(c->key_usage, ku, sizeof(ku));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:b,"
			 " s:s, s:s, s:s, s:s, s:s, s:b}",
	    "type", "certificate", "agency_id", c->agency_id, "display_name",
	    c->display_name, "role", cert_role_name(c->role), "serial",
	    (json_int_t)c->serial, "not_before", nb, "not_after", na,
	    "not_before_unix", (json_int_t)c->not_before, "not_after_unix",
	    (json_int_t)c->not_after, "is_ca", c->is_ca, "key_usage", ku,
	    "fingerprint", fp, "issuer", c->is_ca ? "" : iss, "sign_pk_hex",
	    spk, "transport_key_z85", z85, "signature_checked", 0);
}

static void
cert_text(const struct cert *c)
{
	char nb[SIRA_LOCAL_STR_LEN], na[SIRA_LOCAL_STR_LEN], fp[65], iss[65];
	char z85[41] = "-", ku[128];

	clock_local(c->not_before, nb);
	clock_local(c->not_after, na);
	cert_fingerprint(c, fp);
	hex(c->issuer_id, SIRA_HASH_LEN, iss, sizeof(iss));
	if (c->has_transport)
		(void)zmq_z85_encode(z85, c->transport_pk, SIRA_CURVE_KEY_LEN);
	usage_names(c->key_usage, ku, sizeof(ku));
	(void)printf(
	    _("%s certificate\n"
	      "  agency id:     %s\n  name:          %s\n"
	      "  role:          %s\n  serial:        %" PRIu64 "\n"
	      "  valid from:    %s\n  valid until:   %s\n"
	      "  key usage:     %s\n  fingerprint:   %s\n"
	      "  issuer:        %s\n  transport key: %s\n"
	      "  signature:     not checked here; use sira-cert verify --ca\n"),
	    c->is_ca ? _("CA") : _("agency"), c->agency_id, c->display_name,
	    cert_role_name(c->role), c->serial, nb, na, ku, fp,
	    c->is_ca ? _("(self-signed)") : iss, z85);
}

static json_t *
crl_json(const struct crl *c)
{
	char tu[SIRA_TIME_STR_LEN], nu[SIRA_TIME_STR_LEN], iss[65];
	json_t *o, *entries = json_array();

	for (size_t i = 0; entries != NULL && i < c->n; i++) {
		char at[SIRA_TIME_STR_LEN], id[65];
		clock_format(c->entries[i].revoked_at, at);
		hex(c->entries[i].cert_id, SIRA_HASH_LEN, id, sizeof(id));
		(void)json_array_append_new(entries,
		    json_pack("{s:I, s:s, s:s, s:s}", "serial",
			(json_int_t)c->entries[i].serial, "fingerprint", id,
			"revoked_at", at, "reason",
			crl_reason_name(c->entries[i].reason)));
	}
	clock_format(c->this_update, tu);
	clock_format(c->next_update, nu);
	hex(c->issuer_id, SIRA_HASH_LEN, iss, sizeof(iss));
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:b}", "type",
	    "revocation_list", "sequence", (json_int_t)c->sequence,
	    "this_update", tu, "next_update", nu, "issuer", iss, "entries",
	    entries ? entries : json_array(), "signature_checked", 0);
	return o;
}

static void
crl_text(const struct crl *c)
{
	char tu[SIRA_LOCAL_STR_LEN], nu[SIRA_LOCAL_STR_LEN];

	clock_local(c->this_update, tu);
	clock_local(c->next_update, nu);
	(void)printf(_("revocation list %" PRIu64 "\n  signed:        %s\n"
		       "  next update:   %s\n  revoked:       %zu\n"),
	    c->sequence, tu, nu, c->n);
	for (size_t i = 0; i < c->n; i++) {
		char at[SIRA_LOCAL_STR_LEN];
		clock_local(c->entries[i].revoked_at, at);
		(void)printf(_("    serial %" PRIu64 "  %s  %s\n"),
		    c->entries[i].serial, at,
		    crl_reason_name(c->entries[i].reason));
	}
	(void)printf(_(
	    "  signature:     not checked here; use sira-cert verify --ca\n"));
}

static int
print_json(json_t *o, struct sira_err *err)
{
	if (o == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	(void)json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	(void)putchar('\n');
	json_decref(o);
	return 0;
}

static int
show_key(const char *path, bool json, struct sira_err *err)
{
	struct keyfile *kf;
	int rc;

	if ((rc = keyfile_open(path, &kf, err)) != 0)
		return rc;
	if (json)
		rc = print_json(json_pack("{s:s, s:s, s:b}", "type", "key",
				    "agency_id", keyfile_agency_id(kf),
				    "encrypted", keyfile_encrypted(kf)),
		    err);
	else
		(void)printf(_("secret key file of %s (%s)\n"),
		    keyfile_agency_id(kf),
		    keyfile_encrypted(kf) ? _("passphrase-protected") :
					    _("not encrypted"));
	keyfile_close(&kf);
	return rc;
}

/* An enrolment request: its fields, its fingerprint; signature checked. */
static int
show_request(struct bytes body, bool json, struct sira_err *err)
{
	struct enrol_request *r = NULL;
	char fp[SIRA_ENROL_FP_LEN], at[SIRA_LOCAL_STR_LEN], spk[65], tpk[65];
	int rc;

	if ((rc = enrol_parse(body.p, body.len, &r, err)) != 0)
		return rc;
	enrol_fingerprint(r, fp);
	/* ISO UTC for programs, the reader's own clock for people. */
	if (json)
		clock_format(r->created_at, at);
	else
		clock_local(r->created_at, at);
	(void)sodium_bin2hex(spk, sizeof(spk), r->sign_pk, SIRA_SIGN_PK_LEN);
	(void)sodium_bin2hex(
	    tpk, sizeof(tpk), r->transport_pk, SIRA_CURVE_KEY_LEN);
	if (json)
		rc = print_json(
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
			      "s:s}",
			"type", "request", "agency_id", r->agency_id,
			"display_name", r->display_name, "role",
			cert_role_name(r->role), "created_at", at, "sign_pk",
			spk, "transport_pk", tpk, "fingerprint", fp),
		    err);
	else
		(void)printf(
		    _("enrolment request\n  agency:       %s\n"
		      "  name:         %s\n  role:         %s\n"
		      "  made:         %s (the agency's clock)\n"
		      "  sign key:     %s\n  transport key: %s\n"
		      "  fingerprint:  %s\n"
		      "  signature:    valid (by the key it carries); "
		      "the proof of possession is checked by sign-request\n"),
		    r->agency_id, r->display_name, cert_role_name(r->role), at,
		    spk, tpk, fp);
	enrol_destroy(&r);
	return rc;
}

int
inspect_show(const char *path, bool json, struct sira_err *err)
{
	uint8_t *buf;
	const uint8_t *body;
	size_t len;
	struct cert *c = NULL;
	struct crl *l = NULL;
	int rc;

	if ((rc = fileio_read(path, FILE_MAX, &buf, &len, err)) != 0)
		return rc;
	if (len >= SIRA_MAGIC_LEN && memcmp(buf, SIRA_MAGIC_KEY, 8) == 0) {
		sodium_memzero(buf, len);
		free(buf);
		return show_key(path, json, err);
	}
	body = buf + SIRA_MAGIC_LEN;
	if (len >= SIRA_MAGIC_LEN && memcmp(buf, SIRA_MAGIC_CERT, 8) == 0) {
		if ((rc = cert_unsafe_decode(body, len - 8, &c, err)) == 0) {
			if (json)
				rc = print_json(cert_json(c), err);
			else
				cert_text(c);
		}
	} else if (len >= SIRA_MAGIC_LEN &&
	    memcmp(buf, SIRA_MAGIC_CRL, 8) == 0) {
		if ((rc = crl_unsafe_decode(body, len - 8, &l, err)) == 0) {
			if (json)
				rc = print_json(crl_json(l), err);
			else
				crl_text(l);
		}
	} else if (len >= SIRA_MAGIC_LEN &&
	    memcmp(buf, SIRA_MAGIC_REQUEST, 8) == 0)
		rc = show_request(bytes_of(body, len - 8), json, err);
	else
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    _("%s: not a Sira certificate, revocation list, request or key file"),
		    path);
	if (rc != 0 && err != NULL && strstr(err->msg, path) == NULL) {
		struct sira_err copy = *err;
		rc = sira_err_set(err, -rc, "%s: %s", path, copy.msg);
	}
	cert_destroy(&c);
	crl_destroy(&l);
	free(buf);
	return rc;
}

/* Load and check the CA certificate and the optional CRL, as of at. */
static int
load_trust(const char *ca_path, const char *crl_path, uint64_t at,
    struct cert **ca, struct crl **crl, struct sira_err *err)
{
	uint8_t *buf;
	const uint8_t *body;
	size_t len;
	int rc;

	*crl = NULL;
	if ((rc = sirafile_read_cert(ca_path, &buf, &body, &len, err)) != 0)
		return rc;
	rc = cert_load_ca(body, len, at, ca, err);
	free(buf);
	if (rc != 0 || crl_path == NULL)
		return rc;
	if ((rc = sirafile_read(crl_path,
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CRL, "revocation list", FILE_MAX },
		 &buf, &body, &len, err)) != 0)
		return rc;
	rc = crl_verify(*ca, body, len, crl, err);
	free(buf);
	return rc;
}

/*
 * A revocation list on its own, or, with --crl CURRENT, as a candidate to
 * replace the list in use: then it must not be older.
 */
static int
verify_crl_file(const struct cert *ca, const struct crl *current,
    const char *path, struct bytes body, uint64_t at, struct sira_err *err)
{
	struct crl *l = NULL;
	char nu[SIRA_LOCAL_STR_LEN];
	int rc;

	if ((rc = crl_verify(ca, body.p, body.len, &l, err)) == 0 &&
	    (rc = crl_may_replace(current, l, err)) == 0 &&
	    (rc = crl_check_fresh(l, at, err)) == 0) {
		clock_local(l->next_update, nu);
		(void)printf(_("%s: OK revocation list %" PRIu64
			       ", %zu revoked, fresh until %s\n"),
		    path, l->sequence, l->n, nu);
	}
	crl_destroy(&l);
	return rc;
}

static int
verify_cert_file(const struct cert *ca, const struct crl *crl, const char *path,
    struct bytes body, uint64_t at, struct sira_err *err)
{
	struct cert *c = NULL;
	char na[SIRA_LOCAL_STR_LEN];
	int rc;

	if (body.len == ca->raw_len && memcmp(body.p, ca->raw, body.len) == 0) {
		(void)printf(_("%s: OK the CA certificate itself (%s)\n"), path,
		    ca->display_name);
		return 0;
	}
	if ((rc = cert_verify(ca, crl, body, at, &c, err)) != 0)
		return rc;
	clock_local(c->not_after, na);
	(void)printf(
	    _("%s: OK %s \"%s\" (%s), serial %" PRIu64 ", valid until %s%s\n"),
	    path, c->agency_id, c->display_name, cert_role_name(c->role),
	    c->serial, na, crl ? "" : " (revocation not checked: no --crl)");
	cert_destroy(&c);
	return 0;
}

int
inspect_verify(const char *ca_path, const char *crl_path, const char *path,
    uint64_t at, uint64_t now, struct sira_err *err)
{
	struct cert *ca = NULL;
	struct crl *crl = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	(void)now;
	if ((rc = load_trust(ca_path, crl_path, at, &ca, &crl, err)) != 0)
		goto out;
	if ((rc = fileio_read(path, FILE_MAX, &buf, &len, err)) != 0)
		goto out;
	if (len >= SIRA_MAGIC_LEN && memcmp(buf, SIRA_MAGIC_CRL, 8) == 0)
		rc = verify_crl_file(
		    ca, crl, path, bytes_of(buf + 8, len - 8), at, err);
	else if (len >= SIRA_MAGIC_LEN && memcmp(buf, SIRA_MAGIC_CERT, 8) == 0)
		rc = verify_cert_file(
		    ca, crl, path, bytes_of(buf + 8, len - 8), at, err);
	else
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    _("%s: not a Sira certificate or revocation list"), path);
	if (rc != 0 && err != NULL && strstr(err->msg, path) == NULL) {
		struct sira_err copy = *err;
		rc = sira_err_set(err, -rc, "%s: %s", path, copy.msg);
	}
out:
	free(buf);
	cert_destroy(&ca);
	crl_destroy(&crl);
	return rc;
}
