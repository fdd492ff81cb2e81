/*
 * inspect_log.h: the broker's read-only commands: status, log verify and
 * log show. They open the store read-only, so they work while the broker
 * runs (LMDB readers never block the writer).
 */
#ifndef SIRA_INSPECT_LOG_H
#define SIRA_INSPECT_LOG_H

#include "err.h"

int inspect_status(const char *data, int json, struct sira_err *err);
int inspect_log_verify(const char *data, struct sira_err *err);
int inspect_log_show(const char *data, int json, struct sira_err *err);

#endif
