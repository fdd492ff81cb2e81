/*
 * usage.c: laying out multi-line usage strings (usage.h).
 */
#include <string.h>

#include "usage.h"

void
usage_lines(FILE *f, const char *text, int indent)
{
	for (const char *nl; (nl = strchr(text, '\n')) != NULL; text = nl + 1)
		(void)fprintf(
		    f, "%.*s\n%*s", (int)(nl - text), text, indent, "");
	(void)fprintf(f, "%s\n", text);
}
