/*
 * config.c: broker settings. The same names serve as long options and as
 * keys in the configuration file, so an operator learns one vocabulary.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "config.h"
#include "envelope.h"
#include "fileio.h"

static const struct {
	const char *key;
	size_t off;
	size_t len;
} paths[] = {
	{ "listen", offsetof(struct broker_config, listen), 256 },
	{ "data", offsetof(struct broker_config, data), PATH_MAX },
	{ "ca", offsetof(struct broker_config, ca), PATH_MAX },
	{ "cert", offsetof(struct broker_config, cert), PATH_MAX },
	{ "key", offsetof(struct broker_config, key), PATH_MAX },
	{ "key-passphrase-file", offsetof(struct broker_config, key_pass_file),
	    PATH_MAX },
	{ "certs", offsetof(struct broker_config, certs), PATH_MAX },
	{ "crl", offsetof(struct broker_config, crl), PATH_MAX },
	{ "policy", offsetof(struct broker_config, policy), PATH_MAX },
};

static const struct {
	const char *key;
	size_t off;
	uint64_t min, max;
} numbers[] = {
	{ "max-frame", offsetof(struct broker_config, max_frame), 65536,
	    BROKER_FRAME_MAX },
	{ "quota-messages", offsetof(struct broker_config, quota_count), 1,
	    10000000 },
	{ "quota-bytes", offsetof(struct broker_config, quota_bytes), 65536,
	    1ull << 40 },
	{ "ttl-cap", offsetof(struct broker_config, ttl_cap), 60,
	    SIRA_TTL_MAX },
	{ "rate", offsetof(struct broker_config, rate), 1, 100000 },
	{ "burst", offsetof(struct broker_config, burst), 1, 1000000 },
	{ "heartbeat", offsetof(struct broker_config, heartbeat), 1, 3600 },
	{ "redeliver", offsetof(struct broker_config, redeliver), 1, 86400 },
	{ "map-size", offsetof(struct broker_config, mapsize), 1ull << 20,
	    1ull << 40 },
	{ "blob-quota-bytes", offsetof(struct broker_config, blob_quota),
	    1ull << 20, 1ull << 44 },
	{ "blob-max-bytes", offsetof(struct broker_config, blob_max),
	    1ull << 16, 8ull << 30 },
};

void
config_defaults(struct broker_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	(void)snprintf(cfg->listen, sizeof(cfg->listen), "tcp://*:7450");
	cfg->max_frame = BROKER_FRAME_MAX;
	cfg->quota_count = 10000;
	cfg->quota_bytes = 512ull << 20;
	cfg->ttl_cap = SIRA_TTL_MAX;
	cfg->rate = 50;
	cfg->burst = 500;
	cfg->heartbeat = 10;
	cfg->redeliver = 60;
	cfg->mapsize = STORE_MAP_DEFAULT;
	cfg->blob_quota = BLOBS_QUOTA_DEFAULT;
	cfg->blob_max = BLOBS_MAX_DEFAULT;
}

int
config_set(struct broker_config *cfg, const char *key, const char *value,
    struct sira_err *err)
{
	char *end;
	unsigned long long v;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strcmp(key, paths[i].key) != 0)
			continue;
		if (strlen(value) >= paths[i].len)
			return sira_err_set(
			    err, SIRA_EINVAL, "%s is too long", key);
		memcpy((char *)cfg + paths[i].off, value, strlen(value) + 1);
		return 0;
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(key, numbers[i].key) != 0)
			continue;
		v = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end != '\0' ||
		    v < numbers[i].min || v > numbers[i].max)
			return sira_err_set(err, SIRA_EINVAL,
			    "%s must be a number from %llu to %llu", key,
			    (unsigned long long)numbers[i].min,
			    (unsigned long long)numbers[i].max);
		memcpy((char *)cfg + numbers[i].off, &(uint64_t){ v },
		    sizeof(uint64_t));
		return 0;
	}
	return sira_err_set(err, SIRA_EINVAL, "unknown setting '%s'", key);
}

/* Trim spaces at both ends of s in place; returns s. */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct broker_config *cfg, const char *path, struct sira_err *err)
{
	uint8_t *buf;
	size_t len;
	char *line, *next;
	int rc, lineno = 0;

	if ((rc = fileio_read(path, 65536, &buf, &len, err)) != 0)
		return rc;
	buf[len] = '\0'; /* fileio_read leaves room for one more byte */
	for (line = (char *)buf; line != NULL; line = next) {
		char *eq, *hash;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		if (*trim(line) == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = sira_err_set(err, SIRA_EINVAL,
			    "%s: line %d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		if ((rc = config_set(cfg, trim(line), trim(eq + 1), err)) !=
		    0) {
			struct sira_err why =
			    err ? *err : (struct sira_err){ 0 };
			rc = sira_err_set(
			    err, rc, "%s: line %d: %s", path, lineno, why.msg);
			break;
		}
	}
	free(buf);
	return rc;
}

int
config_check(const struct broker_config *cfg, struct sira_err *err)
{
	if (cfg->data[0] == '\0' || cfg->ca[0] == '\0' ||
	    cfg->cert[0] == '\0' || cfg->key[0] == '\0' ||
	    cfg->certs[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL,
		    "run needs --data, --ca, --cert, --key and --certs (or a --config file naming them)");
	return 0;
}
