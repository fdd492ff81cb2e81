/*
 * crashpoint.c: see crashpoint.h. Reads the environment on every call and
 * keeps no state, so a process restarted without the variable runs on as
 * normal. One line on stderr says which point fired, for the test to check.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashpoint.h"

void
crashpoint(const char *name)
{
	const char *at = getenv("SIRA_CRASH_AT");

	if (at == NULL || strcmp(at, name) != 0)
		return;
	(void)fprintf(stderr, "crashpoint %s: killed here\n", name);
	(void)fflush(stderr);
	(void)raise(SIGKILL);
}
