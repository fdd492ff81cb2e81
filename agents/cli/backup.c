/*
 * backup.c: sira-agent backup --out FILE and sira-agent restore FILE
 * (store/home_backup.c does the work; lib/backup.h the archive). This
 * file gets the archive's passphrase and says, in the operator's
 * language, what went wrong.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "passphrase.h"
#include "i18n.h"

static int
get_pass(
    const char *file, bool confirm, struct passphrase *p, struct sira_err *err)
{
	if (file != NULL)
		return passphrase_from_file(file, p, err);
	return passphrase_prompt(_("backup passphrase: "), confirm, p, err);
}

/* Restate err in the operator's words where the code says enough. */
static int
explain(int rc, const char *file, const char *dir, struct sira_err *err)
{
	char why[SIRA_ERR_MSG_MAX];

	(void)snprintf(why, sizeof(why), "%s", err->msg);
	switch (-rc) {
	case SIRA_EAUTH:
		return sira_err_set(err, SIRA_EAUTH,
		    _("%s does not open: wrong passphrase, or the archive was altered; nothing was restored"),
		    file);
	case SIRA_ETRUNCATED:
		return sira_err_set(err, SIRA_ETRUNCATED,
		    _("%s is incomplete (cut short); nothing was restored"),
		    file);
	case SIRA_EMALFORMED:
	case SIRA_EVERSION:
		return sira_err_set(err, -rc,
		    _("%s is not a usable agency backup (%s); nothing was restored"),
		    file, why);
	case SIRA_EEXIST:
		return sira_err_set(err, SIRA_EEXIST,
		    _("%s is not empty: restore into a new directory, or give --force to move it aside"),
		    dir);
	case SIRA_EPERM_MODE:
		return sira_err_set(err, SIRA_EPERM_MODE,
		    _("the passphrase file must be readable by you alone (chmod 600): %s"),
		    why);
	default:
		return rc;
	}
}

int
backup_cli_backup(const struct backup_args *b, struct sira_err *err)
{
	struct passphrase p = { NULL, 0 };
	struct home h;
	int rc;

	if ((rc = home_resolve(b->home, &h, err)) != 0)
		return rc;
	if ((rc = get_pass(b->pass_file, true, &p, err)) != 0)
		return explain(rc, b->file, h.dir, err);
	rc = home_backup(&h, b->file, &p, err);
	passphrase_free(&p);
	if (rc == -SIRA_EEXIST)
		return sira_err_set(err, SIRA_EEXIST,
		    _("%s already exists: choose another name"), b->file);
	if (rc != 0)
		return explain(rc, b->file, h.dir, err);
	(void)printf(
	    _("backup of %s written to %s; keep it apart from this computer, and its passphrase apart from it\n"),
	    h.dir, b->file);
	return 0;
}

int
backup_cli_restore(const struct backup_args *b, struct sira_err *err)
{
	struct passphrase p = { NULL, 0 };
	struct home h;
	int rc;

	if ((rc = home_resolve(b->home, &h, err)) != 0)
		return rc;
	if ((rc = get_pass(b->pass_file, false, &p, err)) != 0)
		return explain(rc, b->file, h.dir, err);
	rc = home_restore(b->file, h.dir, &p, b->force, err);
	passphrase_free(&p);
	if (rc != 0)
		return explain(rc, b->file, h.dir, err);
	(void)printf(
	    _("agency home restored in %s; start the daemon with: sira-agent run --home %s\n"),
	    h.dir, h.dir);
	return 0;
}
