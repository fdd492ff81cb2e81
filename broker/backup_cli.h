/*
 * backup_cli.h: sira-broker backup and restore (broker/backup.c).
 */
#ifndef SIRA_BROKER_BACKUP_CLI_H
#define SIRA_BROKER_BACKUP_CLI_H

#include "err.h"

/*
 * Run `sira-broker backup` or `sira-broker restore` (cmd) with its own
 * arguments (argv[0] is the command word). Returns 0, -SIRA_EINVAL for a
 * usage error (err says which), or another negative SIRA_E* code.
 */
int broker_backup_main(
    const char *cmd, int argc, char **argv, struct sira_err *err);

#endif
