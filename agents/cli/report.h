/*
 * report.h: what sira-agent shows people and scripts: inbox, outbox, one
 * message, status, the directory, and the audit check. Text for a social
 * worker; --json for scripts. Message contents are shown only by `show`.
 */
#ifndef SIRA_REPORT_H
#define SIRA_REPORT_H

#include <signal.h>

#include "store/agent.h"

int report_inbox(struct agent *a, int json, struct sira_err *err);
int report_outbox(struct agent *a, int json, struct sira_err *err);
int report_show(
    struct agent *a, const char *id, int json, struct sira_err *err);
int report_status(struct agent *a, int json, struct sira_err *err);
int report_directory(struct agent *a, int json, struct sira_err *err);
int report_audit_verify(struct agent *a, struct sira_err *err);
/* Every audit entry in order, as lines or JSON. */
int report_audit_show(struct agent *a, int json, struct sira_err *err);

/*
 * progress.c: wait until the broker holds outbox entry id (or it is
 * refused or expires, which is returned as the error), showing the upload
 * of its documents as a bar on stderr when stderr is a terminal. Returns
 * 0 early when *stop is set (the message stays queued).
 */
int progress_wait(struct agent *a, const uint8_t id[16],
    volatile sig_atomic_t *stop, struct sira_err *err);

#endif
