/*
 * config.h: the broker's settings, from the command line and/or a
 * `key = value` file. Every setting has a safe default except the files
 * the operator must provide.
 */
#ifndef SIRA_CONFIG_H
#define SIRA_CONFIG_H

#include "broker.h"

/* Fill cfg with defaults. */
void config_defaults(struct broker_config *cfg);

/* Set one key (long option name without "--") to value. */
int config_set(struct broker_config *cfg, const char *key, const char *value,
    struct sira_err *err);

/* Read a `key = value` file ('#' comments) into cfg. */
int config_load(
    struct broker_config *cfg, const char *path, struct sira_err *err);

/* Check that the mandatory settings are present. */
int config_check(const struct broker_config *cfg, struct sira_err *err);

#endif
