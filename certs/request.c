/*
 * request.c: the committee's rules for signing an enrolment request
 * (request.h). One pass over every certificate the CA ever issued, so a
 * decision never rests on a partial view; a damaged record stops it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "i18n.h"
#include "request.h"

struct scan {
	const struct enrol_request *r;
	uint64_t now;
	struct request_verdict *v;
	struct sira_err *err;
	bool offboarded;
};

static bool
same_keys(const struct cert *c, const struct enrol_request *r)
{
	return memcmp(c->sign_pk, r->sign_pk, SIRA_SIGN_PK_LEN) == 0 ||
	    (c->has_transport &&
		memcmp(c->transport_pk, r->transport_pk, SIRA_CURVE_KEY_LEN) ==
		    0);
}

/* A certificate of the same keys: a renewal, or a refusal. */
static int
on_same_keys(
    struct scan *s, const struct cert *c, const struct crl_entry *revoked)
{
	const struct enrol_request *r = s->r;

	if (strcmp(c->agency_id, r->agency_id) != 0)
		return sira_err_set(s->err, SIRA_EEXIST,
		    _("these keys are already certified for %s (serial %" PRIu64
		      "); a request must bring its own keys"),
		    c->agency_id, c->serial);
	/* Retired by a renewal that kept the keys: not a verdict on them. */
	if (revoked != NULL && revoked->reason == SIRA_REVOKE_SUPERSEDED)
		return 0;
	if (revoked != NULL)
		return sira_err_set(s->err, SIRA_EREVOKED,
		    _("these keys of %s were revoked (serial %" PRIu64
		      "); the agency must make new ones (sira-agent keygen)"),
		    r->agency_id, c->serial);
	if (memcmp(c->sign_pk, r->sign_pk, SIRA_SIGN_PK_LEN) != 0 ||
	    memcmp(c->transport_pk, r->transport_pk, SIRA_CURVE_KEY_LEN) != 0)
		return sira_err_set(s->err, SIRA_EEXIST,
		    _("the request of %s mixes a key of serial %" PRIu64
		      " with a new one"),
		    r->agency_id, c->serial);
	if (c->role != r->role)
		return sira_err_set(s->err, SIRA_EINVAL,
		    _("a renewal keeps the role: %s holds %s, the request asks for %s"),
		    r->agency_id, cert_role_name(c->role),
		    cert_role_name(r->role));
	s->v->renewal = true;
	s->v->renews_serial = c->serial;
	s->v->renews_until = c->not_after;
	return 0;
}

static int
on_issued(void *ctx, const struct cert *c, const struct crl_entry *revoked)
{
	struct scan *s = ctx;

	if (same_keys(c, s->r))
		return on_same_keys(s, c, revoked);
	if (strcmp(c->agency_id, s->r->agency_id) != 0)
		return 0;
	if (revoked != NULL) {
		if (revoked->reason == SIRA_REVOKE_OFFBOARDED)
			s->offboarded = true;
		return 0;
	}
	if (s->now <= c->not_after)
		return sira_err_set(s->err, SIRA_EEXIST,
		    _("%s already holds a valid certificate for other keys (serial %" PRIu64
		      "); revoke it first (sira-cert revoke --serial %" PRIu64
		      " --reason superseded)"),
		    c->agency_id, c->serial, c->serial);
	return 0;
}

int
request_check_records(const struct ca *ca, const struct enrol_request *r,
    uint64_t now, struct request_verdict *v, struct sira_err *err)
{
	struct scan s = { r, now, v, err, false };
	int rc;

	memset(v, 0, sizeof(*v));
	/* Public, so checked before anyone is called (ca_check_pop again). */
	if (memcmp(r->ca_id, ca_certificate(ca)->id, SIRA_HASH_LEN) != 0)
		return sira_err_set(err, SIRA_EUNKNOWN_CA,
		    _("the request of %s was made for another CA (check the ca.cert the agency was given)"),
		    r->agency_id);
	if ((rc = ca_each_issued(ca, on_issued, &s, err)) != 0)
		return rc;
	if (s.offboarded)
		return sira_err_set(err, SIRA_EREVOKED,
		    _("%s was offboarded (revoked: offboarded); it cannot be enrolled again under that id"),
		    r->agency_id);
	return 0;
}
