/*
 * word.c: the words the --json output uses for states and directions
 * ("delivered", "revoked", "received", true), in the reader's language for
 * the text views of report.c and case_report.c. --json keeps the English
 * word scripts read; only the words listed here are translated, never a
 * text another agency wrote.
 */
#include <stddef.h>
#include <string.h>

#include "cli/cli.h"
#include "i18n.h"

const char *
word_text(const char *w)
{
	static const char *const words[] = { N_("unknown"), N_("queued"),
		N_("sealed"), N_("accepted by broker"), N_("delivered"),
		N_("refused"), N_("expired"), N_("valid"), N_("revoked"),
		N_("not trusted now"), N_("received"), N_("sent"),
		/* TRANSLATORS: yes and no, in the text of sira-agent show. */
		N_("true"), N_("false") };

	for (size_t i = 0; w != NULL && i < sizeof(words) / sizeof(words[0]);
	     i++)
		if (strcmp(w, words[i]) == 0)
			return _(words[i]);
	return w;
}
