/*
 * progress.c: `sira-agent send ... --wait`. The daemon does the transfer;
 * this follows one outbox entry in the vault (a read transaction twice a
 * second) until the broker holds the message, and, only when stderr is a
 * terminal, draws the upload of its documents as a one-line bar there.
 * Stopping it (Ctrl-C) stops nothing but the watching: the message stays
 * queued and the daemon carries on.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "documents/documents.h"
#include "cli/cli.h"
#include "i18n.h"

#define BAR 30

static void
draw(const Sira__V1__OutboxEntry *e)
{
	uint64_t done, total;
	int fill;

	docs_up_progress(e, &done, &total);
	if (total == 0)
		return;
	fill = (int)(done * BAR / total);
	(void)fprintf(stderr, "\r[%.*s%.*s] %3d%%  %.1f / %.1f %s  %s ", fill,
	    "##############################", BAR - fill,
	    "------------------------------", (int)(done * 100 / total),
	    (double)done / 1048576.0, (double)total / 1048576.0, _("MiB"),
	    e->state == SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_QUEUED ?
		_("waiting for the agent daemon") :
		_("sending documents"));
	(void)fflush(stderr);
}

/* 1 when e is where --wait ends, 0 to keep waiting; error if refused. */
static int
settled(const Sira__V1__OutboxEntry *e, struct sira_err *err)
{
	switch (e->state) {
	case SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_ACCEPTED:
	case SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED:
		return 1;
	case SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED:
		if (e->refused_detail[0] == '\0')
			return sira_err_set(err,
			    e->refused_reason ? e->refused_reason :
						SIRA_EDENIED,
			    _("message refused: %s"),
			    sira_strerror(e->refused_reason));
		return sira_err_set(err,
		    e->refused_reason ? e->refused_reason : SIRA_EDENIED,
		    _("message refused: %s: %s"),
		    sira_strerror(e->refused_reason), e->refused_detail);
	case SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_EXPIRED:
		return sira_err_set(err, SIRA_EEXPIRED,
		    _("message expired before the broker took it"));
	default:
		return 0;
	}
}

int
progress_wait(struct agent *a, const uint8_t id[16],
    volatile sig_atomic_t *stop, struct sira_err *err)
{
	const struct timespec half = { 0, 500000000L };
	bool tty = isatty(STDERR_FILENO) == 1, drawn = false;
	int rc = 0;

	while (rc == 0 && !*stop) {
		Sira__V1__OutboxEntry *e = NULL;
		struct vault_txn *t = NULL;
		if ((rc = vault_begin(a->vault, false, &t, err)) == 0)
			rc = book_get_out(t, id, &e, err);
		vault_abort(&t);
		if (rc != 0)
			break;
		if (tty && e->n_docs > 0) {
			draw(e);
			drawn = true;
		}
		rc = settled(e, err);
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		if (rc == 0)
			(void)nanosleep(&half, NULL);
	}
	if (drawn)
		(void)fputc('\n', stderr);
	return rc < 0 ? rc : 0;
}
