/*
 * enrol.c: encoding, parsing and checking enrolment requests (enrol.h).
 *
 * Parse order: split the {tbs, sig} wrapper, parse the tbs strictly
 * (wire_unpack: canonical, no unknown fields), check every field, then the
 * signature under the sign_pk the tbs carries. The key is inside what it
 * signs, as in a self-signed certificate: the signature proves possession
 * of the Ed25519 secret, not who the agency is; that is what the phone
 * call is for (docs/PKI.md). Every rejection returns before the single
 * success at the end.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.pb-c.h"
#include "digest.h"
#include "enrol.h"
#include "signed.h"
#include "text.h"
#include "wire.h"

bool
enrol_role_valid(enum sira_role role)
{
	return role >= SIRA_ROLE_POLICE && role <= SIRA_ROLE_COORDINATION;
}

void
enrol_pop_digest(
    const struct enrol_request *r, uint8_t out[static SIRA_HASH_LEN])
{
	struct digest_part parts[] = {
		{ (const uint8_t *)r->agency_id, strlen(r->agency_id) },
		{ r->sign_pk, SIRA_SIGN_PK_LEN },
		{ r->transport_pk, SIRA_CURVE_KEY_LEN },
		{ r->nonce, SIRA_ENROL_NONCE_LEN },
		{ r->ca_id, SIRA_HASH_LEN },
	};

	digest_lp(
	    out, SIRA_DH_ENROL_POP, parts, sizeof(parts) / sizeof(*parts));
}

/* The field rules, for what is encoded and what is parsed alike. */
static int
check_fields(const struct enrol_request *r, struct sira_err *err)
{
	if (!cert_agency_id_valid(r->agency_id))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "invalid agency id in the request (lower-case letters, digits, '.', '-', '_'; 3 to 64)");
	if (!cert_display_name_valid(r->display_name))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "invalid agency name in the request (UTF-8, 1 to 128 bytes, no control characters)");
	if (!enrol_role_valid(r->role))
		return sira_err_set(err, SIRA_EINVAL,
		    "the request asks for role %s, which an agency cannot have",
		    cert_role_name(r->role));
	return 0;
}

#define BIN(f, src, n) ((f).data = (uint8_t *)(uintptr_t)(src), (f).len = (n))

int
enrol_encode_tbs(const struct enrol_request *r, uint8_t **tbs, size_t *len,
    struct sira_err *err)
{
	Sira__V1__EnrolRequestTBS t = SIRA__V1__ENROL_REQUEST_TBS__INIT;
	int rc;

	*tbs = NULL;
	if ((rc = check_fields(r, err)) != 0)
		return rc;
	t.version = SIRA_ENROL_VERSION;
	t.agency_id = (char *)(uintptr_t)r->agency_id;
	t.display_name = (char *)(uintptr_t)r->display_name;
	t.role = (Sira__V1__Role)r->role;
	BIN(t.sign_pk, r->sign_pk, SIRA_SIGN_PK_LEN);
	BIN(t.transport_pk, r->transport_pk, SIRA_CURVE_KEY_LEN);
	t.created_at = r->created_at;
	BIN(t.nonce, r->nonce, SIRA_ENROL_NONCE_LEN);
	BIN(t.ca_id, r->ca_id, SIRA_HASH_LEN);
	BIN(t.pop_nonce, r->pop_nonce, SIRA_POP_NONCE_LEN);
	BIN(t.pop, r->pop, SIRA_POP_LEN);
	return wire_pack(&t.base, tbs, len, err);
}

/* Fill r from a parsed tbs: lengths first, then the field rules. */
static int
tbs_to_request(const Sira__V1__EnrolRequestTBS *t, struct enrol_request *r,
    struct sira_err *err)
{
	if (t->version != SIRA_ENROL_VERSION)
		return sira_err_set(err, SIRA_EVERSION,
		    "unsupported request version %" PRIu32, t->version);
	if (text_copy(r->agency_id, sizeof(r->agency_id), t->agency_id) ||
	    text_copy(
		r->display_name, sizeof(r->display_name), t->display_name))
		return sira_err_set(
		    err, SIRA_EMALFORMED, "request name fields too long");
	if (t->sign_pk.len != SIRA_SIGN_PK_LEN ||
	    t->transport_pk.len != SIRA_CURVE_KEY_LEN ||
	    t->nonce.len != SIRA_ENROL_NONCE_LEN ||
	    t->ca_id.len != SIRA_HASH_LEN ||
	    t->pop_nonce.len != SIRA_POP_NONCE_LEN ||
	    t->pop.len != SIRA_POP_LEN)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "a key or proof field of the request has the wrong length");
	r->role = (enum sira_role)t->role;
	memcpy(r->sign_pk, t->sign_pk.data, SIRA_SIGN_PK_LEN);
	memcpy(r->transport_pk, t->transport_pk.data, SIRA_CURVE_KEY_LEN);
	r->created_at = t->created_at;
	memcpy(r->nonce, t->nonce.data, SIRA_ENROL_NONCE_LEN);
	memcpy(r->ca_id, t->ca_id.data, SIRA_HASH_LEN);
	memcpy(r->pop_nonce, t->pop_nonce.data, SIRA_POP_NONCE_LEN);
	memcpy(r->pop, t->pop.data, SIRA_POP_LEN);
	return check_fields(r, err);
}

int
enrol_parse(const uint8_t *untrusted, size_t len, struct enrol_request **out,
    struct sira_err *err)
{
	struct signed_obj so;
	struct enrol_request *r = NULL;
	ProtobufCMessage *m = NULL;
	struct digest_part part;
	int rc;

	*out = NULL;
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_ENROL_MAX,
		 SIRA_ENROL_TBS_MAX, "enrolment request", &so, err)) != 0)
		return rc;
	if ((rc = wire_unpack(&sira__v1__enrol_request_tbs__descriptor, so.tbs,
		 so.tbs_len, SIRA_ENROL_TBS_MAX, &m, err)) != 0) {
		rc = sira_err_set(err, -rc, "the enrolment request is damaged");
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = tbs_to_request((Sira__V1__EnrolRequestTBS *)m, r, err)) != 0)
		goto out;
	if (sign_verify(
		r->sign_pk, SIRA_DS_ENROL, so.tbs, so.tbs_len, so.sig) != 0) {
		rc = sira_err_set(err, SIRA_EBADSIG,
		    "the request of %s is not signed by the key it carries (altered or damaged)",
		    r->agency_id);
		goto out;
	}
	part.p = so.tbs;
	part.len = so.tbs_len;
	digest_lp(r->id, SIRA_DH_ENROL_ID, &part, 1);
	*out = r;
	r = NULL;
	rc = 0;
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	free(r);
	signed_clear(&so);
	return rc;
}

void
enrol_destroy(struct enrol_request **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	free(*rp);
	*rp = NULL;
}

void
enrol_fingerprint(
    const struct enrol_request *r, char out[static SIRA_ENROL_FP_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < 12; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = '-';
		out[o++] = hex[r->id[i] >> 4];
		out[o++] = hex[r->id[i] & 0x0f];
	}
	out[o] = '\0';
}

bool
enrol_fingerprint_match(const char *typed, const char *fp)
{
	const char *t = typed, *f = fp;

	for (;;) {
		while (*t == '-' || *t == ' ')
			t++;
		while (*f == '-')
			f++;
		if (*t == '\0' || *f == '\0')
			return *t == '\0' && *f == '\0';
		if (toupper((unsigned char)*t) != *f)
			return false;
		t++;
		f++;
	}
}
