/*
 * erase_in.c: the daemon's part of erasure (docs/SECURITY.md,
 * "Effacement"). A `sira-agent erase` run while the daemon holds the vault
 * cannot swap the data file under it: it leaves VT_META "compact.wanted"
 * and rings the doorbell. Every status tick the daemon looks at the flag
 * and compacts (vault_compact) once no other process (a CLI command, the
 * web interface) has the vault open; until then it tries again. It also
 * finishes the file wiping an interrupted erasure left listed.
 */
#include "daemon/daemon.h"
#include "log.h"
#include "store/store.h"
#include "workflow/workflow.h"

void
erase_in_tick(struct daemon *d)
{
	struct sira_err err = { 0 };
	int rc;

	if (!vault_compact_wanted(d->a->vault))
		return;
	erase_files(d->a, NULL);
	if ((rc = vault_compact(d->a->vault, &err)) == 0)
		log_event(LOG_INFO, "vault.compacted", "after=erasure");
	else if (rc != -SIRA_ESTATE)
		log_event(LOG_ERROR, "vault.compact_failed", "code=%d", -rc);
}
