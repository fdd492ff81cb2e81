/*
 * status.c: what the daemon shows its operator: the alarm (one line saying
 * why nothing moves) and HOME/status.json, which `sira-agent status` and
 * `progress` read. It never holds message contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "daemon/daemon.h"
#include "fileio.h"
#include "log.h"

void
status_alarm(struct daemon *d, const char *what)
{
	(void)snprintf(d->alarm, sizeof(d->alarm), "%s", what);
	log_event(LOG_ERROR, "alarm", "what=%s", what);
}

void
status_clear_alarm(struct daemon *d, const char *prefix)
{
	if (strncmp(d->alarm, prefix, strlen(prefix)) == 0)
		d->alarm[0] = '\0';
}

/* Document transfers under way, for `sira-agent status` and `progress`. */
static json_t *
transfers(const struct daemon *d)
{
	json_t *a = json_array();
	char hex[33];

	if (a == NULL)
		return json_array();
	if (d->up.active) {
		(void)sodium_bin2hex(hex, sizeof(hex), d->up.local_id, 16);
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:i, s:I, s:I}", "direction",
			"upload", "id", hex, "index", (int)d->up.index, "done",
			(json_int_t)d->up.stored, "total",
			(json_int_t)d->up.ct_len));
	}
	if (d->down.n > 0 && d->down.fd >= 0) {
		(void)sodium_bin2hex(hex, sizeof(hex), d->down.q[0].msgid, 16);
		(void)json_array_append_new(a,
		    json_pack("{s:s, s:s, s:i, s:I, s:I}", "direction",
			"download", "id", hex, "index", (int)d->down.cur,
			"done", (json_int_t)d->down.have, "total",
			(json_int_t)d->down.q[0].ct_len[d->down.cur]));
	}
	return a;
}

void
status_write(const struct daemon *d, uint64_t now)
{
	char path[PATH_MAX], when[SIRA_TIME_STR_LEN], sync[SIRA_TIME_STR_LEN];
	json_t *o;
	char *text;

	clock_format(now, when);
	clock_format(d->last_dir, sync);
	o = json_pack("{s:s, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}",
	    "time", when, "connected", d->session, "last_sync",
	    d->last_dir ? sync : "never", "alarm", d->alarm, "clock_skew",
	    (json_int_t)d->skew, "received", (json_int_t)d->received, "sent",
	    (json_int_t)d->sent, "refused", (json_int_t)d->refused,
	    "missing_messages", (json_int_t)d->gaps, "waiting_for_crl",
	    d->crl_wait);
	if (o == NULL)
		return;
	(void)json_object_set_new(o, "clock_wrong", json_boolean(d->clock_bad));
	(void)json_object_set_new(o, "transfers", transfers(d));
	if ((text = json_dumps(o, JSON_INDENT(2))) != NULL &&
	    home_path(&d->a->home, "status.json", path, NULL) == 0 &&
	    fileio_write(path, (const uint8_t *)text, strlen(text), 0600, false,
		NULL) != 0)
		log_event(LOG_WARN, "status.unwritable", "path=%s", path);
	free(text);
	json_decref(o);
}
