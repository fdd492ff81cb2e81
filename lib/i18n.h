/*
 * i18n.h: the language of what sira-agent and sira-cert show people
 * (i18n.c). Sources say their messages in English, marked _("...") where
 * they are shown and N_("...") where a table only names them; gettext
 * finds them in the
 * "sira" catalogues (po/fr.po, po/en.po, compiled to LANG/LC_MESSAGES/
 * sira.mo). Two languages only: French, and English, which is the text of
 * the sources. It includes nothing of the agent or the CA tool.
 */
#ifndef SIRA_I18N_H
#define SIRA_I18N_H

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)

/*
 * Called once by a program's main(), before anything is printed. Takes the
 * language from the environment as gettext does: LC_ALL, LC_MESSAGES,
 * then LANG name the locale ("C", "POSIX" or nothing: English), and in any
 * other locale LANGUAGE, a list, comes first; the first of them that names
 * French ("fr...") or English ("en...") wins, anything else is English.
 * It works without the French locale installed: when the environment's
 * locale does not exist (or is C), the locale is C.UTF-8 (built into
 * glibc), and the catalogue is chosen by setting LANGUAGE to "fr" or "en"
 * (programs this one starts inherit it). The catalogues are
 * looked for in $SIRA_LOCALEDIR, then beside the program (DIR/locale and
 * DIR/../share/locale, where DIR holds the executable), then where make
 * install put them (SIRA_LOCALEDIR at build time). Returns 0, or
 * -SIRA_ENOMEM, or -SIRA_ENOTFOUND when French is asked for and no
 * catalogue is found (messages are then in English); either way the
 * program can go on.
 */
int i18n_init(void);

/*
 * Switch the language of the messages from now on: "fr" or "en" (anything
 * else is "fr", the language of Sira's users), for a single-threaded
 * server that answers each request in its user's language. i18n_init()
 * must have been called.
 */
void i18n_use(const char *lang);

/* The language in use: "fr" or "en", a static string. */
const char *i18n_lang(void);

#endif
