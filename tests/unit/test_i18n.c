/*
 * test_i18n.c: the agent speaks French when LANG says fr_*, English in C
 * or with no LANG, switches at run time for the web server, and does so
 * on a machine where no French locale was generated (fr_ML.UTF-8, Mali's,
 * exists nowhere; fr_FR.UTF-8 is missing from a fresh Debian). It reads
 * the catalogues make built into $BIN/locale (tests/run.sh sets BIN).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "i18n.h"

#define SENT "nothing sent\n"
#define SENT_FR "aucun message envoyé\n"

/* Only LANG (and LANGUAGE if given) set, as a user's session would. */
static void
env(const char *lang, const char *language)
{
	(void)unsetenv("LC_ALL");
	(void)unsetenv("LC_MESSAGES");
	(void)unsetenv("LANGUAGE");
	if (lang != NULL)
		assert_int_equal(setenv("LANG", lang, 1), 0);
	else
		(void)unsetenv("LANG");
	if (language != NULL)
		assert_int_equal(setenv("LANGUAGE", language, 1), 0);
}

static int
setup(void **state)
{
	const char *bin = getenv("BIN");
	char dir[4096], mo[4200];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/locale", bin ? bin : "bin");
	(void)snprintf(mo, sizeof(mo), "%s/fr/LC_MESSAGES/sira.mo", dir);
	if (access(mo, R_OK) != 0) {
		(void)fprintf(stderr, "%s is missing: run make first\n", mo);
		return -1;
	}
	return setenv("SIRA_LOCALEDIR", dir, 1);
}

static void
test_french_without_its_locale(void **state)
{
	static const char *const langs[] = { "fr_FR.UTF-8", "fr_ML.UTF-8",
		"fr" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		env(langs[i], NULL);
		assert_int_equal(i18n_init(), 0);
		assert_string_equal(i18n_lang(), "fr");
		assert_string_equal(_(SENT), SENT_FR);
		assert_string_equal(ngettext("; %zu file request pending",
					"; %zu file requests pending", 2),
		    "; %zu demandes de dossier en attente");
	}
	/* A Malian desktop's list: Bambara first, which Sira lacks. */
	env("fr_ML.UTF-8", "bm:fr");
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(_(SENT), SENT_FR);
}

static void
test_english(void **state)
{
	(void)state;
	env("C", NULL);
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(i18n_lang(), "en");
	assert_string_equal(_(SENT), SENT);
	env(NULL, NULL);
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(_(SENT), SENT);
	env("en_GB.UTF-8", NULL);
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(_(SENT), SENT);
	/* LANGUAGE first, as gettext reads it... */
	env("fr_FR.UTF-8", "en");
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(_(SENT), SENT);
	/* ...but never in the C locale, which scripts ask for. */
	env("fr_FR.UTF-8", NULL);
	assert_int_equal(setenv("LC_ALL", "C", 1), 0);
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(i18n_lang(), "en");
	assert_string_equal(_(SENT), SENT);
	env("C", "fr");
	assert_int_equal(i18n_init(), 0);
	assert_string_equal(_(SENT), SENT);
}

/* The web server answers each request in its user's language. */
static void
test_switch(void **state)
{
	(void)state;
	env("C", NULL);
	assert_int_equal(i18n_init(), 0);
	for (int i = 0; i < 3; i++) {
		i18n_use("fr");
		assert_string_equal(i18n_lang(), "fr");
		assert_string_equal(_(SENT), SENT_FR);
		i18n_use("en");
		assert_string_equal(i18n_lang(), "en");
		assert_string_equal(_(SENT), SENT);
	}
	/* Anything else is French, the users' language. */
	i18n_use("bm");
	assert_string_equal(_(SENT), SENT_FR);
	i18n_use("en");
	i18n_use(NULL);
	assert_string_equal(i18n_lang(), "fr");
	assert_string_equal(_(SENT), SENT_FR);
}

static void
test_no_catalogue(void **state)
{
	char keep[4096], cwd[4096], *slash;

	(void)state;
	(void)snprintf(keep, sizeof(keep), "%s", getenv("SIRA_LOCALEDIR"));
	env("fr_FR.UTF-8", NULL);
	assert_int_equal(setenv("SIRA_LOCALEDIR", "/nonexistent", 1), 0);
	assert_int_equal(i18n_init(), -SIRA_ENOTFOUND);
	assert_string_equal(i18n_lang(), "en");
	assert_string_equal(_(SENT), SENT);
	/* A relative directory is the one i18n_init() saw, even after the
	 * program moves (gettext itself would look again from where it is). */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(slash = strrchr(keep, '/'));
	*slash = '\0';
	assert_int_equal(chdir(keep[0] ? keep : "/"), 0);
	env("fr_FR.UTF-8", NULL); /* i18n_init() set LANGUAGE=en */
	assert_int_equal(setenv("SIRA_LOCALEDIR", "locale", 1), 0);
	assert_int_equal(i18n_init(), 0);
	assert_int_equal(chdir("/"), 0);
	assert_string_equal(_(SENT), SENT_FR);
	assert_int_equal(chdir(cwd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_french_without_its_locale),
		cmocka_unit_test(test_english),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_no_catalogue),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
