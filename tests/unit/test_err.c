/*
 * test_err.c: error codes are stable, named, and equal the wire's Reason
 * numbers, so a broker refusal and an agent error are the same word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control.pb-c.h"
#include "err.h"

static void
test_codes_match_wire(void **state)
{
	(void)state;
	assert_int_equal(SIRA_EBADSIG, SIRA__V1__REASON__REASON_BAD_SIGNATURE);
	assert_int_equal(SIRA_EREVOKED, SIRA__V1__REASON__REASON_REVOKED);
	assert_int_equal(SIRA_EQUOTA, SIRA__V1__REASON__REASON_QUOTA);
	assert_int_equal(SIRA_EDENIED, SIRA__V1__REASON__REASON_DENIED);
	assert_int_equal(SIRA_ESPOOF, SIRA__V1__REASON__REASON_SPOOF);
	assert_int_equal(SIRA_ESTATE, SIRA__V1__REASON__REASON_STATE);
	/* Every code has a wire twin and a name of its own. */
	for (int c = 0; c <= SIRA_CODE_MAX; c++) {
		assert_non_null(protobuf_c_enum_descriptor_get_value(
		    &sira__v1__reason__descriptor, c));
		assert_string_not_equal(sira_strerror(c), "unknown error");
		for (int d = 0; d < c; d++)
			assert_string_not_equal(
			    sira_strerror(c), sira_strerror(d));
	}
	assert_int_equal(
	    sira__v1__reason__descriptor.n_values, SIRA_CODE_MAX + 1);
}

static void
test_err_set(void **state)
{
	struct sira_err err;

	(void)state;
	sira_err_clear(&err);
	assert_int_equal(
	    sira_err_set(&err, SIRA_EEXPIRED, "cert %s", "x"), -SIRA_EEXPIRED);
	assert_int_equal(err.code, SIRA_EEXPIRED);
	assert_string_equal(err.msg, "cert x");
	/* A negative code is normalised; NULL err is allowed. */
	assert_int_equal(sira_err_set(&err, -SIRA_EIO, "io"), -SIRA_EIO);
	assert_int_equal(err.code, SIRA_EIO);
	assert_int_equal(sira_err_set(NULL, SIRA_EIO, "io"), -SIRA_EIO);
	assert_string_equal(sira_strerror(-SIRA_EBADSIG), "bad signature");
	assert_string_equal(sira_strerror(9999), "unknown error");
}

/* Transient: retried later; every other code is final for a request. */
static void
test_transient(void **state)
{
	static const int retry[] = { SIRA_ENOMEM, SIRA_EIO, SIRA_EQUOTA,
		SIRA_ERATE, SIRA_ESTATE };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		assert_true(sira_err_transient(retry[i]));
		assert_true(sira_err_transient(-retry[i])); /* either sign */
	}
	for (int c = 0; c <= SIRA_CODE_MAX; c++)
		n += sira_err_transient(c);
	assert_int_equal(n, sizeof(retry) / sizeof(retry[0]));
	assert_false(sira_err_transient(SIRA_EBADSIG));
	assert_false(sira_err_transient(SIRA_EEXPIRED));
	assert_false(sira_err_transient(9999));
	assert_false(sira_err_transient(-9999));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_match_wire),
		cmocka_unit_test(test_err_set),
		cmocka_unit_test(test_transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
