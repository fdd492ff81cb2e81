/*
 * test_json_wipe.c: jansson's wiping free (agents/cli/json_wipe.c). The
 * wipe reaches the whole block, and jansson keeps working with it
 * installed (parsing, building, dumping, freeing: ASan in make check
 * would see a free of a block jansson did not allocate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/cli.h"

static void
test_block_wiped(void **state)
{
	uint8_t *p = malloc(100);

	(void)state;
	assert_non_null(p);
	memset(p, 0xAA, 100);
	json_wipe_block(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	free(p);
	json_wipe_block(NULL); /* like free(NULL): nothing */
}

static void
test_installed(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;

	(void)state;
	json_wipe_install();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, malloc);
	assert_non_null(f);
	assert_ptr_not_equal(f, free);
}

static void
test_jansson_still_works(void **state)
{
	json_error_t jerr;
	json_t *j, *k;
	char *text;

	(void)state;
	json_wipe_install();
	j = json_loads("{\"full_name\": \"Aminata Traoré\", \"age\": 16, "
		       "\"needs\": [\"shelter\", \"medical\"]}",
	    0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_object_set_new(j, "notes",
			     json_string("trouvée à la gare de Kayes")),
	    0);
	k = json_deep_copy(j);
	assert_non_null(k);
	assert_true(json_equal(j, k));
	text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"full_name\":\"Aminata Traoré\""));
	free(text); /* json_dumps's result stays a plain malloc block */
	json_decref(k);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_wiped),
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_jansson_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
