/*
 * erase.c: `sira-agent erase --case REF --reason TEXT` (docs/WORKFLOWS.md,
 * "Effacement"). Erases the case here (workflow/erase.c), then compacts
 * the vault when no other process has it open; when the daemon or the web
 * interface runs, it rings the daemon, which compacts as soon as it has
 * the vault to itself. The erasure orders to the agencies the case was
 * sent to are queued in the same step (workflow/erase_order.c). Run
 * again, it shows how each agency answered; `status` counts the orders
 * still unanswered (erase_status). Also `sira-agent hold`.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli/cli.h"
#include "workflow/workflow.h"
#include "i18n.h"

/* One line per order the erasure sent, and how it was answered. */
static void
say_proof(void *ctx, const Sira__V1__ErasureProof *p)
{
	char when[SIRA_LOCAL_STR_LEN];

	(void)ctx;
	clock_local(p->at, when);
	switch (p->outcome) {
	case 0:
		(void)printf(_("  %s: order sent, no answer yet\n"), p->agency);
		break;
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED:
		(void)printf(_("  erased at %s on %s (signed receipt kept)\n"),
		    p->agency, when);
		break;
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HELD:
		(void)printf(_("  %s refused: the case is under a legal hold "
			       "there (signed answer kept)\n"),
		    p->agency);
		break;
	case SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_UNKNOWN:
		(void)printf(_("  %s does not hold the case (signed answer "
			       "kept)\n"),
		    p->agency);
		break;
	default:
		(void)printf(_("  %s refused the order (signed answer kept)\n"),
		    p->agency);
		break;
	}
}

static void
say_erased(struct agent *a, const char *ref, const struct erase_result *res)
{
	char when[SIRA_LOCAL_STR_LEN];
	struct vault_txn *t = NULL;

	if (res->already) {
		clock_local(res->erased_at, when);
		(void)printf(
		    _("case %s was already erased here on %s\n"), ref, when);
	} else {
		(void)printf(_("case %s erased here: %zu sent and %zu received "
			       "messages, %zu files\n"),
		    ref, res->outbox, res->inbox, res->files);
		if (res->n_peers > 0)
			(void)printf(_("erasure ordered at %zu agencies:\n"),
			    res->n_peers);
	}
	if (vault_begin(a->vault, false, &t, NULL) == 0) {
		(void)erase_ledger_each(t, ref, say_proof, NULL, NULL);
		vault_abort(&t);
	}
}

void
erase_cli_compact(struct agent *a, bool say)
{
	struct sira_err err = { 0 };
	int rc = vault_compact(a->vault, &err);

	if (rc == 0 && say)
		(void)printf(_("the store was compacted: the freed pages are "
			       "gone\n"));
	else if (rc == -SIRA_ESTATE) {
		if (say)
			(void)printf(_("the agent is running: it will compact "
				       "the store as soon as it can\n"));
		nudge_daemon(&a->home);
	} else if (rc != 0)
		(void)fprintf(stderr,
		    _("sira-agent: WARNING: the store could not be compacted "
		      "(%s); the daemon will try again\n"),
		    err.msg);
}

int
erase_cli_run(
    struct agent *a, const char *ref, const char *reason, struct sira_err *err)
{
	struct erase_result res;
	struct erase_req q = { .ref = ref,
		.reason = reason,
		.me = a->me->agency_id,
		.now = clock_now() };
	int rc;

	if (!workflow_ref_valid(ref))
		return sira_err_set(
		    err, SIRA_EINVAL, _("%s is not a case reference"), ref);
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > 256)
		return sira_err_set(err, SIRA_EINVAL,
		    _("erase needs --reason: 1 to 256 bytes"));
	erase_files(a, NULL); /* what an interrupted erasure left */
	if ((rc = erase_and_order(a, &q, &res, err)) != 0)
		return rc;
	say_erased(a, ref, &res);
	if (!res.already)
		erase_cli_compact(a, true);
	return 0;
}

int
hold_cli_run(struct agent *a, const char *ref, const char *basis, bool release,
    struct sira_err *err)
{
	struct hold_req h = { ref, basis, release, clock_now() };
	size_t sent;
	int rc;

	if (!workflow_ref_valid(ref))
		return sira_err_set(
		    err, SIRA_EINVAL, _("%s is not a case reference"), ref);
	if (!release &&
	    (basis == NULL || basis[0] == '\0' || strlen(basis) > 256))
		return sira_err_set(err, SIRA_EINVAL,
		    _("hold needs --basis: the legal basis, 1 to 256 bytes"));
	if ((rc = erase_hold_send(a, &h, &sent, err)) != 0)
		return rc;
	(void)printf(release ? _("legal hold on case %s released; %zu "
				 "agencies told\n") :
			       _("legal hold set on case %s; %zu agencies "
				 "told\n"),
	    ref, sent);
	return 0;
}

void
erase_status(struct agent *a, json_t *o)
{
	struct erase_tally y;
	struct vault_txn *t = NULL;

	if (vault_begin(a->vault, false, &t, NULL) == 0 &&
	    erase_tally(t, &y, NULL) == 0)
		(void)json_object_set_new(o, "erasures",
		    json_pack("{s:I, s:I, s:I, s:I}", "cases",
			(json_int_t)y.erased, "orders", (json_int_t)y.orders,
			"unanswered", (json_int_t)y.awaited, "refused",
			(json_int_t)y.refused));
	vault_abort(&t);
}

void
erase_status_line(const json_t *o)
{
	const json_t *e = json_object_get(o, "erasures");
	json_int_t w = json_integer_value(json_object_get(e, "unanswered")),
		   r = json_integer_value(json_object_get(e, "refused"));

	if (w > 0)
		(void)printf(
		    _("ERASURE:       %lld erasure orders not answered "
		      "yet (sira-agent erase --case REF shows "
		      "which)\n"),
		    (long long)w);
	if (r > 0)
		(void)printf(_("ERASURE:       %lld erasure orders refused (a "
			       "legal hold, or no such case there)\n"),
		    (long long)r);
}
