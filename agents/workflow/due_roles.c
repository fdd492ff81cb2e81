/*
 * due_roles.c: the role of each agency a deadline scan meets, from the
 * directory (peers_role), looked up once per scan. The deadline of a
 * step depends on the role of the agency that owes it; an agency the
 * directory does not know (or no longer trusts) counts as "unspecified",
 * whose deadlines are the general ones of agent.conf.
 */
#include <stdlib.h>
#include <string.h>

#include "workflow/workflow.h"

int
due_roles_of(void *ctx, const char *agency)
{
	struct due_roles *x = ctx;
	struct due_role *grown;
	enum sira_role role = SIRA_ROLE_UNSPECIFIED;

	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->seen[i].agency, agency) == 0)
			return x->seen[i].role;
	if (peers_role(x->a, x->t, agency, x->now, &role, NULL) != 0)
		role = SIRA_ROLE_UNSPECIFIED;
	grown = realloc(x->seen, (x->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return (int)role; /* answered, just not remembered */
	x->seen = grown;
	if ((x->seen[x->n].agency = strdup(agency)) != NULL)
		x->seen[x->n++].role = (int)role;
	return (int)role;
}

void
due_roles_free(struct due_roles *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->seen[i].agency);
	free(x->seen);
	x->seen = NULL;
	x->n = 0;
}
