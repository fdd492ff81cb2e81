/*
 * status.c: what `sira-broker status` shows that the store cannot: which
 * agencies are connected now, and the counters since start. Written as
 * DATA/status.json (atomically) every two seconds by the running broker;
 * spool depths are read from the store itself by the status command.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker.h"
#include "clock.h"
#include "fileio.h"
#include "log.h"

void
status_write(const struct broker *b, uint64_t now)
{
	json_t *o = json_object(), *peers = json_array(), *c = json_object();
	char path[PATH_MAX + 16], when[SIRA_TIME_STR_LEN];
	char *text;

	if (o == NULL || peers == NULL || c == NULL)
		goto out;
	for (size_t i = 0; i < b->n_sessions; i++) {
		const struct session *s = &b->sessions[i];
		if (!s->active)
			continue;
		clock_format(s->since, when);
		(void)json_array_append_new(peers,
		    json_pack("{s:s, s:s, s:I}", "agency", s->agency_id,
			"since", when, "in_flight", (json_int_t)s->n_inflight));
	}
	(void)json_object_set_new(
	    c, "accepted", json_integer((json_int_t)b->count.accepted));
	(void)json_object_set_new(
	    c, "delivered", json_integer((json_int_t)b->count.delivered));
	(void)json_object_set_new(
	    c, "acked", json_integer((json_int_t)b->count.acked));
	(void)json_object_set_new(
	    c, "nacked", json_integer((json_int_t)b->count.nacked));
	(void)json_object_set_new(
	    c, "expired", json_integer((json_int_t)b->count.expired));
	(void)json_object_set_new(
	    c, "refused", json_integer((json_int_t)b->count.refused));
	(void)json_object_set_new(
	    c, "malformed", json_integer((json_int_t)b->count.malformed));
	(void)json_object_set_new(
	    c, "duplicates", json_integer((json_int_t)b->count.duplicates));
	clock_format(now, when);
	(void)json_object_set_new(o, "time", json_string(when));
	(void)json_object_set_new(o, "endpoint", json_string(b->endpoint));
	(void)json_object_set(o, "connected", peers);
	(void)json_object_set(o, "counters", c);
	if ((text = json_dumps(o, JSON_INDENT(2))) != NULL) {
		(void)snprintf(
		    path, sizeof(path), "%s/status.json", b->cfg.data);
		if (fileio_write(path, (const uint8_t *)text, strlen(text),
			0644, false, NULL) != 0)
			log_event(
			    LOG_WARN, "status.unwritable", "path=%s", path);
		free(text);
	}
out:
	json_decref(o);
	json_decref(peers);
	json_decref(c);
}
