/*
 * inspect_log.c: `sira-broker status`, `log verify` and `log show`.
 *
 * Read-only views of the broker's store for operators. Log leaves hold no
 * personal data, so printing them is safe; agency ids are validated
 * identifiers and cannot carry terminal escapes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "fileio.h"
#include "inspect_log.h"
#include "spool.h"
#include "store.h"
#include "tlog.h"

static const char *const leaf_names[] = {
	"unspecified",
	"accepted",
	"delivered",
	"acked",
	"nacked",
	"expired",
	"peer-connected",
	"peer-refused",
	"cert-served",
	"prekey-served",
	"crl-served",
};

static const char *
leaf_name(int type)
{
	if (type < 0 || type >= (int)(sizeof(leaf_names) / sizeof(*leaf_names)))
		return "unknown";
	return leaf_names[type];
}

static int
open_ro(
    const char *data, struct store **st, MDB_txn **txn, struct sira_err *err)
{
	int rc;

	*st = NULL;
	*txn = NULL;
	if (data[0] == '\0')
		return sira_err_set(err, SIRA_EINVAL, "give --data DIR");
	if ((rc = store_open(data, STORE_MAP_DEFAULT, 1, st, err)) != 0)
		return rc;
	if ((rc = store_begin(*st, 1, txn, err)) != 0)
		store_close(st);
	return rc;
}

struct depths {
	MDB_txn *txn;
	const struct store *st;
	json_t *a;
};

static void
depth_of(void *ctx, const char *agency)
{
	const struct depths *d = ctx;
	uint64_t count, bytes;

	if (spool_usage(d->txn, d->st, agency, &count, &bytes) == 0)
		(void)json_array_append_new(d->a,
		    json_pack("{s:s, s:I, s:I}", "agency", agency, "spooled",
			(json_int_t)count, "bytes", (json_int_t)bytes));
}

static json_t *
depths(MDB_txn *txn, const struct store *st)
{
	struct depths d = { txn, st, json_array() };

	if (d.a != NULL)
		(void)spool_each_agency(txn, st, depth_of, &d);
	return d.a;
}

static void
print_status(json_t *o)
{
	json_t *v;
	size_t i;

	(void)printf("broker status at %s\n",
	    json_string_value(json_object_get(o, "time")) ?: "(not running)");
	(void)printf("  log: %lld leaves\n",
	    (long long)json_integer_value(json_object_get(o, "log_size")));
	(void)printf("  connected agencies:\n");
	json_array_foreach(json_object_get(o, "connected"), i, v)(void)
	    printf("    %s since %s\n",
		json_string_value(json_object_get(v, "agency")),
		json_string_value(json_object_get(v, "since")));
	(void)printf("  waiting in the spool:\n");
	json_array_foreach(json_object_get(o, "spool"), i, v)(void)
	    printf("    %-32s %lld messages, %lld bytes\n",
		json_string_value(json_object_get(v, "agency")),
		(long long)json_integer_value(json_object_get(v, "spooled")),
		(long long)json_integer_value(json_object_get(v, "bytes")));
	if ((v = json_object_get(o, "counters")) != NULL) {
		const char *key;
		json_t *n;
		(void)printf("  counters since start:");
		json_object_foreach(v, key, n)(void)
		    printf(" %s=%lld", key, (long long)json_integer_value(n));
		(void)printf("\n");
	}
}

int
inspect_status(const char *data, int json, struct sira_err *err)
{
	char path[PATH_MAX + 16];
	struct store *st = NULL;
	MDB_txn *txn = NULL;
	json_t *o;
	uint64_t size = 0;
	int rc;

	if ((rc = open_ro(data, &st, &txn, err)) != 0 || st == NULL)
		return rc != 0 ? rc : -SIRA_EIO;
	(void)snprintf(path, sizeof(path), "%s/status.json", data);
	if ((o = json_load_file(path, 0, NULL)) == NULL)
		o = json_object();
	(void)store_meta_get(txn, st, "log.size", &size);
	(void)json_object_set_new(
	    o, "log_size", json_integer((json_int_t)size));
	(void)json_object_set_new(o, "spool", depths(txn, st));
	store_abort(txn);
	store_close(&st);
	if (json) {
		(void)json_dumpf(o, stdout, JSON_INDENT(2));
		(void)printf("\n");
	} else
		print_status(o);
	json_decref(o);
	return 0;
}

int
inspect_log_verify(const char *data, struct sira_err *err)
{
	struct tlog t = { 0 };
	struct store *st = NULL;
	MDB_txn *txn = NULL;
	uint64_t bad, size = 0;
	int rc;

	if ((rc = open_ro(data, &st, &txn, err)) != 0 || st == NULL)
		return rc != 0 ? rc : -SIRA_EIO;
	t.st = st;
	(void)tlog_size(txn, &t, &size);
	rc = tlog_verify(txn, &t, &bad, err);
	store_abort(txn);
	store_close(&st);
	if (rc == 0)
		(void)printf(
		    "log OK: %llu leaves, every node and checkpoint recomputed\n",
		    (unsigned long long)size);
	else if (bad != UINT64_MAX)
		(void)printf("log BROKEN: first bad leaf is %llu of %llu\n",
		    (unsigned long long)bad, (unsigned long long)size);
	return rc;
}

static json_t *
leaf_json(uint64_t index, const Sira__V1__LogLeaf *l)
{
	char when[SIRA_TIME_STR_LEN], hash[65] = "";
	json_t *to = json_array();

	clock_format(l->time, when);
	if (l->object_hash.len == 32)
		(void)sodium_bin2hex(
		    hash, sizeof(hash), l->object_hash.data, 32);
	for (size_t i = 0; to != NULL && i < l->n_counterpart_agency_ids; i++)
		(void)json_array_append_new(
		    to, json_string(l->counterpart_agency_ids[i]));
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "index",
	    (json_int_t)index, "time", when, "type", leaf_name((int)l->type),
	    "actor", l->actor_agency_id, "counterparts", to ? to : json_array(),
	    "object", hash, "size_bucket", (json_int_t)l->size_bucket, "reason",
	    (json_int_t)l->reason);
}

struct show {
	int json;
	json_t *all;
};

/* One leaf: kept for the JSON array, or printed as a line. */
static void
show_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len)
{
	const struct show *s = ctx;
	Sira__V1__LogLeaf *l = sira__v1__log_leaf__unpack(NULL, len, leaf);
	json_t *j;

	if (l == NULL)
		return;
	j = leaf_json(index, l);
	sira__v1__log_leaf__free_unpacked(l, NULL);
	if (s->json) {
		(void)json_array_append_new(s->all, j);
		return;
	}
	(void)printf("%6lld %s %-14s %-28s %.16s\n",
	    (long long)json_integer_value(json_object_get(j, "index")),
	    json_string_value(json_object_get(j, "time")),
	    json_string_value(json_object_get(j, "type")),
	    json_string_value(json_object_get(j, "actor")),
	    json_string_value(json_object_get(j, "object")));
	json_decref(j);
}

int
inspect_log_show(const char *data, int json, struct sira_err *err)
{
	struct store *st = NULL;
	MDB_txn *txn = NULL;
	struct tlog t = { 0 };
	json_t *all = json_array();
	struct show s = { json, all };
	int rc;

	if ((rc = open_ro(data, &st, &txn, err)) != 0 || st == NULL)
		return rc != 0 ? rc : -SIRA_EIO;
	t.st = st;
	(void)tlog_each_leaf(txn, &t, show_leaf, &s);
	store_abort(txn);
	store_close(&st);
	if (json) {
		(void)json_dumpf(all, stdout, JSON_INDENT(2));
		(void)printf("\n");
	}
	json_decref(all);
	return 0;
}
