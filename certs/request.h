/*
 * request.h: what the committee decides about an enrolment request before
 * it signs one (sira-cert sign-request; docs/PKI.md), from the CA's own
 * records: who already holds which keys, what was revoked.
 */
#ifndef SIRA_CERTS_REQUEST_H
#define SIRA_CERTS_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ca.h"
#include "enrol.h"

/* What the records say about a request that may be signed. */
struct request_verdict {
	bool renewal;           /* its keys are those of a certificate issued */
	uint64_t renews_serial; /* the latest such certificate */
	uint64_t renews_until;  /* and its end of validity */
};

/*
 * Check r against every certificate ca issued (ca_each_issued). Refused:
 * a request made for another CA (-SIRA_EUNKNOWN_CA),
 * keys already certified for another agency (-SIRA_EEXIST), keys that were
 * revoked for any reason but "superseded" (-SIRA_EREVOKED), an agency that was
 * offboarded (-SIRA_EREVOKED), an agency holding a valid certificate for other
 * keys (-SIRA_EEXIST: revoke it first), a renewal that changes the role
 * (-SIRA_EINVAL). A request signed once is refused by ca_certify
 * (-SIRA_EREPLAY). Accepted (0): a new agency, a renewal with the same keys
 * (v->renewal), new keys for an agency whose earlier certificates expired or
 * were revoked for a reason other than offboarding.
 */
int request_check_records(const struct ca *ca, const struct enrol_request *r,
    uint64_t now, struct request_verdict *v, struct sira_err *err)
    __attribute__((warn_unused_result));

#endif
