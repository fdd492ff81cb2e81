/*
 * json_wipe.c: jansson's free function for sira-agent. A referral read
 * from a file or a web form passes through jansson: names, phone numbers
 * and notes sit in its strings and objects. Every block jansson frees is
 * wiped first, so what a victim's record held does not stay in the heap
 * for a later allocation, a core file or swap to show. Blocks jansson
 * hands to the caller (json_dumps) are plain malloc blocks, freed with
 * free() as before; the callers that hold case data wipe those
 * themselves (sodium_memzero before free).
 */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"

void
json_wipe_block(void *p)
{
	if (p != NULL)
		sodium_memzero(p, malloc_usable_size(p));
}

static void
wipe_free(void *p)
{
	json_wipe_block(p);
	free(p);
}

void
json_wipe_install(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}
