/*
 * fuzz_policy.c: libFuzzer harness for the routing policy file parser
 * (broker/policy.c). Arbitrary bytes go to policy_parse; when they parse,
 * every (role, kind, role) triple, valid or out of range, is decided, and
 * the invariants that hold for any policy are checked: nothing to or from a
 * non-agency role or of an unknown kind is allowed, and policy_check agrees
 * with policy_allows. Seeds: tests/fuzz/corpus/fuzz_policy/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_agency(int r)
{
	return r >= SIRA_ROLE_POLICE && r <= SIRA_ROLE_COORDINATION;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct sira_err err;

	if (policy_parse((const char *)data, size, &p, &err) != 0) {
		/* A failure leaves nothing behind and always explains. */
		if (p != NULL || err.code == 0 || err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (int f = -1; f <= SIRA_ROLE_MAX + 1; f++)
		for (int k = -1; k <= SIRA_KIND_MAX + 1; k++)
			for (int t = -1; t <= SIRA_ROLE_MAX + 1; t++) {
				enum sira_role from = (enum sira_role)f;
				enum sira_role to = (enum sira_role)t;
				bool ok = policy_allows(p, from, k, to);
				int rc = policy_check(p, from, k, to, &err);

				if (ok &&
				    (!is_agency(f) || !is_agency(t) || k < 1 ||
					k > SIRA_KIND_MAX))
					abort();
				if (ok != (rc == 0))
					abort();
				if (rc != 0 && rc != -SIRA_EDENIED)
					abort();
			}
	policy_destroy(&p);
	if (p != NULL)
		abort();
	return 0;
}
