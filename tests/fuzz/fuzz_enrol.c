/*
 * fuzz_enrol.c: libFuzzer harness for enrolment requests (lib/enrol.c,
 * lib/signed.c, lib/wire.c), the file an agency sends the committee: the
 * parser sira-cert sign-request runs on outside bytes. A request that
 * parses must obey the field rules, re-encode to the tbs that was signed
 * (one meaning, one encoding) and give a well-formed fingerprint.
 * Seeds: tests/fuzz/corpus/fuzz_enrol/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enrol.h"
#include "signed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct enrol_request *r = NULL;
	struct signed_obj so;
	char fp[SIRA_ENROL_FP_LEN];
	struct sira_err err;
	uint8_t *tbs = NULL;
	size_t len;

	if (!ready && sodium_init() < 0)
		abort();
	ready = 1;
	if (enrol_parse(data, size, &r, &err) != 0)
		return 0;
	if (!cert_agency_id_valid(r->agency_id) ||
	    !cert_display_name_valid(r->display_name) ||
	    !enrol_role_valid(r->role))
		abort();
	/* What was accepted is exactly what re-encodes from its fields. */
	if (enrol_encode_tbs(r, &tbs, &len, &err) != 0 ||
	    signed_split(bytes_of(data, size), SIRA_ENROL_MAX,
		SIRA_ENROL_TBS_MAX, "request", &so, &err) != 0)
		abort();
	if (len != so.tbs_len || memcmp(tbs, so.tbs, len) != 0)
		abort();
	enrol_fingerprint(r, fp);
	if (strlen(fp) != SIRA_ENROL_FP_LEN - 1 ||
	    !enrol_fingerprint_match(fp, fp))
		abort();
	signed_clear(&so);
	free(tbs);
	enrol_destroy(&r);
	return 0;
}
