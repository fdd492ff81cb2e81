/*
 * i18n.c: choosing the language of the messages and the catalogue that
 * holds it (see i18n.h). gettext's own rule would leave a French user in
 * English on a machine where no fr_FR locale was generated (a fresh
 * Debian has only C and C.UTF-8): setlocale() fails, the locale stays "C",
 * and in "C" glibc ignores every catalogue. So the language is read from
 * the environment here, the locale falls back to C.UTF-8 (never "C"), and
 * the catalogue is picked with LANGUAGE, which glibc honours in any locale
 * but "C". The language is process-wide state, as gettext's is.
 */
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "i18n.h"

#ifndef SIRA_LOCALEDIR
#define SIRA_LOCALEDIR "/usr/local/share/locale"
#endif

#define DOMAIN "sira"

static const char *current = "en";

/* "fr" or "en" if the len bytes at s (a locale name, or one entry of
 * LANGUAGE) name that language, as in "fr", "fr_ML.UTF-8", "en@quot". */
static const char *
known(const char *s, size_t len)
{
	static const char *const langs[] = { "fr", "en" };

	for (size_t i = 0; i < 2; i++)
		if (len >= 2 && strncmp(s, langs[i], 2) == 0 &&
		    (len == 2 || strchr("_.@", s[2]) != NULL))
			return langs[i];
	return NULL;
}

/* The language gettext would show: see i18n_init() in i18n.h. */
static const char *
env_lang(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *loc = NULL, *list, *l;

	for (size_t i = 0; i < 3 && loc == NULL; i++)
		if ((loc = getenv(vars[i])) != NULL && loc[0] == '\0')
			loc = NULL;
	if (loc == NULL || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0)
		return "en";
	if ((list = getenv("LANGUAGE")) != NULL && list[0] != '\0') {
		for (const char *p = list; *p != '\0';) {
			size_t n = strcspn(p, ":");
			if ((l = known(p, n)) != NULL)
				return l;
			p += p[n] == ':' ? n + 1 : n;
		}
		return "en";
	}
	l = known(loc, strlen(loc));
	return l != NULL ? l : "en";
}

/* Does dir hold the French catalogue (the one that must be there)? */
static bool
has_catalogue(const char *dir)
{
	char path[PATH_MAX];
	int n = snprintf(
	    path, sizeof(path), "%s/fr/LC_MESSAGES/" DOMAIN ".mo", dir);

	return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

/* Where the catalogues are, into out: see i18n_init() in i18n.h. */
static void
locale_dir(char out[PATH_MAX])
{
	static const char *const beside[] = { "/locale", "/../share/locale" };
	const char *env = getenv("SIRA_LOCALEDIR");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	/* Made absolute: gettext would resolve it again at each lookup. */
	if (env != NULL && env[0] != '\0') {
		if (env[0] == '/' || getcwd(exe, sizeof(exe)) == NULL ||
		    (n = snprintf(out, PATH_MAX, "%s/%s", exe, env)) < 0 ||
		    n >= PATH_MAX)
			(void)snprintf(out, PATH_MAX, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; i < 2; i++) {
			n = snprintf(out, PATH_MAX, "%s%s", exe, beside[i]);
			if (n > 0 && n < PATH_MAX && has_catalogue(out))
				return;
		}
	}
	(void)snprintf(out, PATH_MAX, "%s", SIRA_LOCALEDIR);
}

static bool
is_c(const char *loc)
{
	return loc == NULL || strcmp(loc, "C") == 0 ||
	    strcmp(loc, "POSIX") == 0;
}

int
i18n_init(void)
{
	const char *lang = env_lang();
	char dir[PATH_MAX];
	bool usable;
	int rc = 0;

	(void)setlocale(LC_ALL, "");
	usable = !is_c(setlocale(LC_MESSAGES, NULL)) ||
	    setlocale(LC_ALL, "C.UTF-8") != NULL;
	locale_dir(dir);
	if (strcmp(lang, "fr") == 0 && (!usable || !has_catalogue(dir))) {
		lang = "en";
		rc = -SIRA_ENOTFOUND;
	}
	if (bindtextdomain(DOMAIN, dir) == NULL ||
	    bind_textdomain_codeset(DOMAIN, "UTF-8") == NULL ||
	    textdomain(DOMAIN) == NULL || setenv("LANGUAGE", lang, 1) != 0)
		return -SIRA_ENOMEM;
	current = lang;
	return rc;
}

void
i18n_use(const char *lang)
{
	/* The GNU gettext manual's way to change language at run time:
	 * glibc keeps each translation it found until this counter moves. */
	extern int _nl_msg_cat_cntr;
	const char *l = lang != NULL && strcmp(lang, "en") == 0 ? "en" : "fr";

	if (setenv("LANGUAGE", l, 1) != 0)
		return;
	current = l;
	++_nl_msg_cat_cntr;
}

const char *
i18n_lang(void)
{
	return current;
}
