/*
 * cert.c: agency certificates: decoding, field rules, and verification
 * against the national CA.
 *
 * Trust order (docs/PROTOCOL.md): split the wrapper, check the CA's
 * signature over the exact tbs bytes, and only then parse tbs, strictly
 * (wire.c), and check every field. The CA's own certificate is the one
 * exception: it is a trust anchor installed by an operator, so it is parsed
 * to learn the key its self-signature must verify under. Every rejection
 * returns before the single success at the end of each validator.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.h"
#include "cert.pb-c.h"
#include "clock.h"
#include "crl.h"
#include "sigcache.h"
#include "signed.h"
#include "text.h"
#include "wire.h"

static const char *const role_names[SIRA_ROLE_MAX + 1] = {
	[SIRA_ROLE_UNSPECIFIED] = "unspecified",
	[SIRA_ROLE_POLICE] = "police",
	[SIRA_ROLE_JUSTICE] = "justice",
	[SIRA_ROLE_SOCIAL_SERVICES] = "social_services",
	[SIRA_ROLE_NGO] = "ngo",
	[SIRA_ROLE_COORDINATION] = "coordination",
	[SIRA_ROLE_BROKER] = "broker",
};

const char *
cert_role_name(enum sira_role role)
{
	if ((int)role < 0 || role > SIRA_ROLE_MAX)
		return "unspecified";
	return role_names[role];
}

int
cert_role_parse(const char *name, enum sira_role *role)
{
	for (int r = SIRA_ROLE_POLICE; r <= SIRA_ROLE_MAX; r++) {
		if (strcmp(name, role_names[r]) == 0) {
			*role = (enum sira_role)r;
			return 0;
		}
	}
	return -SIRA_EINVAL;
}

uint32_t
cert_role_usage(enum sira_role role, bool is_ca)
{
	if (is_ca)
		return SIRA_KU_CA;
	if (role == SIRA_ROLE_BROKER)
		return SIRA_KU_BROKER;
	return SIRA_KU_AGENCY;
}

bool
cert_agency_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len < 3 || len > SIRA_AGENCY_ID_MAX || id[0] < 'a' || id[0] > 'z')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '-' || c == '_'))
			return false;
	}
	return id[len - 1] != '.';
}

bool
cert_display_name_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= SIRA_DISPLAY_NAME_MAX &&
	    text_is_utf8(name, len) && !text_has_control(name, len);
}

void
cert_id_of(const uint8_t *tbs, size_t len, uint8_t id[static SIRA_HASH_LEN])
{
	struct digest_part part = { tbs, len };

	digest_lp(id, SIRA_DH_CERT_ID, &part, 1);
}

void
cert_fingerprint(const struct cert *c, char out[static 65])
{
	(void)sodium_bin2hex(out, 65, c->id, sizeof(c->id));
}

/* The rules every certificate obeys, whoever made it. */
static int
check_fields(const struct cert *c, struct sira_err *err)
{
	if (!cert_agency_id_valid(c->agency_id))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "invalid agency id (use lower-case letters, digits, '.', '-', '_'; 3 to 64 characters)");
	if (!cert_display_name_valid(c->display_name))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "invalid display name for %s (UTF-8, 1 to 128 bytes, no control characters)",
		    c->agency_id);
	if (c->role <= SIRA_ROLE_UNSPECIFIED || c->role > SIRA_ROLE_MAX)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "invalid role for %s", c->agency_id);
	if (c->is_ca && c->role != SIRA_ROLE_COORDINATION)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "a CA certificate must have the coordination role");
	if (c->is_ca != (c->serial == 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "serial 0 is reserved for the CA certificate");
	if (c->key_usage != cert_role_usage(c->role, c->is_ca))
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "key usage 0x%02" PRIx32 " does not match role %s of %s",
		    c->key_usage, cert_role_name(c->role), c->agency_id);
	if (c->has_transport != ((c->key_usage & SIRA_KU_TRANSPORT) != 0))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "transport key presence does not match key usage for %s",
		    c->agency_id);
	if (c->not_before > c->not_after)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "validity of %s ends before it starts", c->agency_id);
	return 0;
}

/* Fill c from a parsed tbs; checks lengths, then the field rules. */
static int
tbs_to_cert(const Sira__V1__CertTBS *t, struct cert *c, struct sira_err *err)
{
	if (t->version != SIRA_CERT_VERSION)
		return sira_err_set(err, SIRA_EVERSION,
		    "unsupported certificate version %" PRIu32, t->version);
	if (text_copy(c->agency_id, sizeof(c->agency_id), t->agency_id) ||
	    text_copy(
		c->display_name, sizeof(c->display_name), t->display_name))
		return sira_err_set(
		    err, SIRA_EMALFORMED, "certificate name fields too long");
	if (t->sign_pk.len != SIRA_SIGN_PK_LEN ||
	    (t->transport_pk.len != 0 &&
		t->transport_pk.len != SIRA_CURVE_KEY_LEN) ||
	    (t->is_ca ? t->issuer_id.len != 0 :
			t->issuer_id.len != SIRA_HASH_LEN))
		return sira_err_set(err, SIRA_EMALFORMED,
		    "certificate key or issuer field has the wrong length");
	c->serial = t->serial;
	c->role = (enum sira_role)t->role;
	c->not_before = t->not_before;
	c->not_after = t->not_after;
	c->is_ca = t->is_ca;
	c->key_usage = t->key_usage;
	memcpy(c->sign_pk, t->sign_pk.data, SIRA_SIGN_PK_LEN);
	c->has_transport = t->transport_pk.len != 0;
	if (c->has_transport)
		memcpy(
		    c->transport_pk, t->transport_pk.data, SIRA_CURVE_KEY_LEN);
	if (!c->is_ca)
		memcpy(c->issuer_id, t->issuer_id.data, SIRA_HASH_LEN);
	return check_fields(c, err);
}

/* Parse the tbs of so into a fresh cert that keeps a copy of raw. */
static int
decode(const struct signed_obj *so, const uint8_t *raw, size_t raw_len,
    struct cert **out, struct sira_err *err)
{
	ProtobufCMessage *m;
	struct cert *c;
	int rc;

	*out = NULL;
	if ((rc = wire_unpack(&sira__v1__cert_tbs__descriptor, so->tbs,
		 so->tbs_len, SIRA_CERT_TBS_MAX, &m, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->raw = malloc(raw_len)) == NULL) {
		free(c);
		protobuf_c_message_free_unpacked(m, NULL);
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	}
	memcpy(c->raw, raw, raw_len);
	c->raw_len = raw_len;
	cert_id_of(so->tbs, so->tbs_len, c->id);
	rc = tbs_to_cert((Sira__V1__CertTBS *)m, c, err);
	protobuf_c_message_free_unpacked(m, NULL);
	if (rc != 0) {
		cert_destroy(&c);
		return rc;
	}
	*out = c;
	return 0;
}

static int
check_time(
    const struct cert *c, uint64_t now, const char *who, struct sira_err *err)
{
	char when[SIRA_TIME_STR_LEN];

	if (now + SIRA_CLOCK_SKEW < c->not_before) {
		clock_format(c->not_before, when);
		return sira_err_set(err, SIRA_ENOTYETVALID,
		    "%s certificate of %s is not valid before %s", who,
		    c->agency_id, when);
	}
	if (now > c->not_after) {
		clock_format(c->not_after, when);
		return sira_err_set(err, SIRA_EEXPIRED,
		    "%s certificate of %s expired on %s", who, c->agency_id,
		    when);
	}
	return 0;
}

int
cert_load_ca(const uint8_t *untrusted, size_t len, uint64_t now,
    struct cert **out, struct sira_err *err)
{
	struct signed_obj so;
	struct cert *c = NULL;
	int rc;

	*out = NULL;
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_CERT_MAX,
		 SIRA_CERT_TBS_MAX, "CA certificate", &so, err)) != 0)
		return rc;
	if ((rc = decode(&so, untrusted, len, &c, err)) != 0 || c == NULL)
		goto out;
	if (!c->is_ca) {
		rc = sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s is not a CA certificate", c->agency_id);
		goto out;
	}
	if ((rc = sign_verify(
		 c->sign_pk, SIRA_DS_CERT, so.tbs, so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(
		    err, rc, "CA certificate self-signature does not verify");
		goto out;
	}
	if ((rc = check_time(c, now, "CA", err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	cert_destroy(&c);
	signed_clear(&so);
	return rc;
}

/* Is the agency certificate c acceptable under ca and crl at now? */
static int
check_chain(const struct cert *ca, const struct crl *crl, const struct cert *c,
    uint64_t now, struct sira_err *err)
{
	const struct crl_entry *e;
	char when[SIRA_TIME_STR_LEN];
	int rc;

	if (c->is_ca)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s is a CA certificate, not an agency certificate",
		    c->agency_id);
	if (memcmp(c->issuer_id, ca->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(err, SIRA_EUNKNOWN_CA,
		    "certificate of %s names another issuer", c->agency_id);
	if (crl != NULL) {
		if (memcmp(crl->issuer_id, ca->id, SIRA_HASH_LEN) != 0)
			return sira_err_set(err, SIRA_EUNKNOWN_CA,
			    "revocation list is from another CA");
		if ((rc = crl_check_fresh(crl, now, err)) != 0)
			return rc;
		if ((e = crl_find(crl, c)) != NULL) {
			clock_format(e->revoked_at, when);
			return sira_err_set(err, SIRA_EREVOKED,
			    "certificate of %s (serial %" PRIu64
			    ") was revoked on %s (%s)",
			    c->agency_id, c->serial, when,
			    crl_reason_name(e->reason));
		}
	}
	if ((rc = check_time(ca, now, "CA", err)) != 0)
		return rc;
	if (c->not_before < ca->not_before || c->not_after > ca->not_after)
		return sira_err_set(err, SIRA_EMALFORMED,
		    "validity of %s lies outside the CA's", c->agency_id);
	return check_time(c, now, "the", err);
}

int
cert_verify(const struct cert *ca, const struct crl *crl,
    struct bytes untrusted, uint64_t now, struct cert **out,
    struct sira_err *err)
{
	const struct cert_trust t = { ca, crl, NULL };

	return cert_verify_with(&t, untrusted, now, out, err);
}

int
cert_verify_with(const struct cert_trust *t, struct bytes untrusted,
    uint64_t now, struct cert **out, struct sira_err *err)
{
	const struct cert *ca = t->ca;
	struct signed_obj so;
	struct cert *c = NULL;
	int rc;

	*out = NULL;
	/* As crl_verify does for CRL_SIGN: only a CA may vouch for a key. */
	if (!ca->is_ca || (ca->key_usage & SIRA_KU_CERT_SIGN) == 0)
		return sira_err_set(err, SIRA_EKEY_USAGE,
		    "%s may not sign certificates", ca->agency_id);
	if ((rc = signed_split(untrusted, SIRA_CERT_MAX, SIRA_CERT_TBS_MAX,
		 "certificate", &so, err)) != 0)
		return rc;
	if ((rc = sigcache_verify(t->sigs, ca->sign_pk, SIRA_DS_CERT, so.tbs,
		 so.tbs_len, so.sig)) != 0) {
		rc = sira_err_set(err, -rc,
		    "certificate signature does not verify against CA %s (altered, or issued by another CA)",
		    ca->agency_id);
		goto out;
	}
	if ((rc = decode(&so, untrusted.p, untrusted.len, &c, err)) != 0 ||
	    c == NULL || (rc = check_chain(ca, t->crl, c, now, err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	cert_destroy(&c);
	signed_clear(&so);
	return rc;
}

int
cert_unsafe_decode(const uint8_t *untrusted, size_t len, struct cert **out,
    struct sira_err *err)
{
	struct signed_obj so;
	int rc;

	*out = NULL;
	if ((rc = signed_split(bytes_of(untrusted, len), SIRA_CERT_MAX,
		 SIRA_CERT_TBS_MAX, "certificate", &so, err)) != 0)
		return rc;
	rc = decode(&so, untrusted, len, out, err);
	signed_clear(&so);
	return rc;
}

void
cert_destroy(struct cert **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free((*cp)->raw);
	free(*cp);
	*cp = NULL;
}

int
cert_encode_tbs(
    const struct cert *c, uint8_t **tbs, size_t *len, struct sira_err *err)
{
	Sira__V1__CertTBS t = SIRA__V1__CERT_TBS__INIT;
	int rc;

	if ((rc = check_fields(c, err)) != 0)
		return rc;
	t.version = SIRA_CERT_VERSION;
	t.serial = c->serial;
	if (!c->is_ca) {
		t.issuer_id.data = (uint8_t *)(uintptr_t)c->issuer_id;
		t.issuer_id.len = SIRA_HASH_LEN;
	}
	t.agency_id = (char *)(uintptr_t)c->agency_id;
	t.display_name = (char *)(uintptr_t)c->display_name;
	t.role = (Sira__V1__Role)c->role;
	t.not_before = c->not_before;
	t.not_after = c->not_after;
	t.is_ca = c->is_ca;
	t.key_usage = c->key_usage;
	t.sign_pk.data = (uint8_t *)(uintptr_t)c->sign_pk;
	t.sign_pk.len = SIRA_SIGN_PK_LEN;
	if (c->has_transport) {
		t.transport_pk.data = (uint8_t *)(uintptr_t)c->transport_pk;
		t.transport_pk.len = SIRA_CURVE_KEY_LEN;
	}
	return wire_pack(&t.base, tbs, len, err);
}

int
cert_encode(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err)
{
	return signed_join(tbs, tbs_len, sig, out, outlen, err);
}
