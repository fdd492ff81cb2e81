/*
 * erase.c: `sira-agent erase --case REF --reason TEXT` (docs/WORKFLOWS.md,
 * "Effacement"). Erases the case here (workflow/erase.c), then compacts
 * the vault when no other process has it open; when the daemon or the web
 * interface runs, it rings the daemon, which compacts as soon as it has
 * the vault to itself. The erasure orders to the agencies the case was
 * sent to are queued in the same step (workflow/erase_order.c).
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli/cli.h"
#include "workflow/workflow.h"
#include "i18n/i18n.h"

static void
say_erased(const char *ref, const struct erase_result *res)
{
	char when[SIRA_LOCAL_STR_LEN];

	if (res->already) {
		clock_local(res->erased_at, when);
		(void)printf(
		    _("case %s was already erased here on %s\n"), ref, when);
		return;
	}
	(void)printf(_("case %s erased here: %zu sent and %zu received "
		       "messages, %zu files\n"),
	    ref, res->outbox, res->inbox, res->files);
}

static void
compact(struct agent *a)
{
	struct sira_err err = { 0 };
	int rc = vault_compact(a->vault, &err);

	if (rc == 0)
		(void)printf(_("the store was compacted: the freed pages are "
			       "gone\n"));
	else if (rc == -SIRA_ESTATE) {
		(void)printf(_("the agent is running: it will compact the "
			       "store as soon as it can\n"));
		nudge_daemon(&a->home);
	} else
		(void)fprintf(stderr,
		    _("sira-agent: WARNING: the store could not be compacted "
		      "(%s); the daemon will try again\n"),
		    err.msg);
}

int
erase_cli_run(struct agent *a, const char *ref, const char *reason,
    struct sira_err *err)
{
	struct erase_result res;
	struct erase_req q = { .ref = ref,
		.reason = reason,
		.me = a->me->agency_id,
		.now = clock_now() };
	int rc;

	if (!workflow_ref_valid(ref))
		return sira_err_set(err, SIRA_EINVAL,
		    _("%s is not a case reference"), ref);
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > 256)
		return sira_err_set(err, SIRA_EINVAL,
		    _("erase needs --reason: 1 to 256 bytes"));
	erase_files(a, NULL); /* what an interrupted erasure left */
	if ((rc = erase_case(a, &q, &res, err)) != 0)
		return rc;
	say_erased(ref, &res);
	compact(a);
	return 0;
}
