/*
 * report.c: listings and views (see cli.h). Everything is read in one
 * read-only transaction, so a listing is a consistent snapshot even while
 * the daemon writes. Text is in the reader's language (i18n.h); --json
 * keeps the English words scripts read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "clock.h"
#include "documents/documents.h"
#include "envelope.h"
#include "i18n.h"
#include "text.h"

struct listing {
	json_t *rows;
	struct agent *a;
};

/* What status --json says before the daemon first wrote its status. */
static const char *const never_synced =
    N_("never (is sira-agent run started?)");

static const char *
when(uint64_t t, char buf[SIRA_TIME_STR_LEN])
{
	clock_format(t, buf);
	return buf;
}

/* The printf width that pads s to w characters (a width counts bytes). */
static int
cols(const char *s, int w)
{
	for (const char *p = s; *p != '\0'; p++)
		w += ((unsigned char)*p & 0xc0) == 0x80;
	return w;
}

static void
hex16(const uint8_t *p, size_t len, char out[33])
{
	if (len != 16) {
		(void)snprintf(out, 33, "-");
		return;
	}
	(void)sodium_bin2hex(out, 33, p, 16);
}

static int
inbox_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct listing *l = ctx;
	Sira__V1__InboxEntry *e = book_in_decode(val, vlen);
	char id[33], t[SIRA_TIME_STR_LEN];

	(void)key;
	(void)klen;
	if (e == NULL)
		return 0;
	hex16(e->message_id.data, e->message_id.len, id);
	(void)json_array_append_new(l->rows,
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "from",
		e->sender, "kind", envelope_kind_name(e->kind), "case",
		e->case_ref, "received", when(e->received_at, t), "size",
		(json_int_t)e->payload.len));
	sira__v1__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

/* Documents of an outbox entry and how much of them the broker holds. */
static json_t *
upload_of(const Sira__V1__OutboxEntry *e)
{
	uint64_t done, total;

	docs_up_progress(e, &done, &total);
	return json_pack("{s:I, s:I, s:I, s:i}", "count", (json_int_t)e->n_docs,
	    "uploaded", (json_int_t)done, "total", (json_int_t)total, "percent",
	    total ? (int)(done * 100 / total) : 100);
}

static int
outbox_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct listing *l = ctx;
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);
	char id[33], t[SIRA_TIME_STR_LEN];
	json_t *to;

	(void)key;
	(void)klen;
	if (e == NULL)
		return 0;
	/* Receipts we send are bookkeeping, not the agency's messages. */
	if (e->kind == SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT) {
		sira__v1__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	hex16(e->local_id.data, e->local_id.len, id);
	to = json_array();
	for (size_t i = 0; to != NULL && i < e->n_to; i++)
		(void)json_array_append_new(to, json_string(e->to[i]));
	(void)json_array_append_new(l->rows,
	    json_pack("{s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "id", id,
		"to", to ? to : json_array(), "kind",
		envelope_kind_name(e->kind), "state", book_state_name(e->state),
		"queued", when(e->queued_at, t), "receipts",
		(json_int_t)e->n_receipts, "reason",
		e->refused_reason ? sira_strerror(e->refused_reason) : "",
		"detail", e->refused_detail, "documents", upload_of(e)));
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

static int
list(struct agent *a, enum vault_table table,
    int (*row)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
    json_t **out, struct sira_err *err)
{
	struct listing l = { json_array(), a };
	struct vault_txn *t = NULL;
	int rc;

	if (l.rows == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = vault_begin(a->vault, false, &t, err)) == 0)
		rc = vault_each(t, table, row, &l, err);
	vault_abort(&t);
	if (rc != 0) {
		json_decref(l.rows);
		return rc;
	}
	*out = l.rows;
	return 0;
}

static void
print_json(json_t *j)
{
	(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	(void)putchar('\n');
}

/* Deadlines (overdue_report.c): counts for status --json. */
static void
overdue_counts(struct agent *a, uint64_t now, json_t *o)
{
	json_t *j = NULL;

	if (overdue_collect(a, now, &j, NULL) != 0)
		return;
	(void)json_object_set_new(o, "overdue",
	    json_integer(
		(json_int_t)json_array_size(json_object_get(j, "waiting"))));
	(void)json_object_set_new(o, "reminders",
	    json_integer(
		(json_int_t)json_array_size(json_object_get(j, "reminders"))));
	(void)json_object_set_new(o, "committee_notices",
	    json_integer(
		(json_int_t)json_array_size(json_object_get(j, "committee"))));
	json_decref(j);
}

/* The lines of status (and inbox) about deadlines; nothing when none. */
static void
overdue_lines(const json_t *o)
{
	json_int_t w = json_integer_value(json_object_get(o, "overdue")),
		   r = json_integer_value(json_object_get(o, "reminders")),
		   c = json_integer_value(
		       json_object_get(o, "committee_notices"));

	if (w > 0)
		(void)printf(_("OVERDUE:       %lld steps we wait for are past "
			       "their deadline (sira-agent overdue)\n"),
		    (long long)w);
	if (r > 0)
		(void)printf(_("REMINDERS:     %lld reminders: other agencies "
			       "wait for us (sira-agent overdue)\n"),
		    (long long)r);
	if (c > 0)
		(void)printf(_("COMMITTEE:     %lld stuck steps reported by "
			       "agencies (sira-agent overdue)\n"),
		    (long long)c);
}

int
report_inbox(struct agent *a, int json, struct sira_err *err)
{
	char day[SIRA_LOCAL_STR_LEN];
	json_t *rows = NULL, *r, *counts;
	size_t i;
	int rc;

	if ((rc = list(a, VT_INBOX, inbox_row, &rows, err)) != 0)
		return rc;
	if (!json && (counts = json_object()) != NULL) {
		overdue_counts(a, clock_now(), counts);
		overdue_lines(counts);
		json_decref(counts);
	}
	if (json)
		print_json(rows);
	else if (json_array_size(rows) == 0)
		(void)printf(_("no messages received\n"));
	else
		json_array_foreach(rows, i, r)(void) printf(
		    _("%s  %-20s from %-28s case %-14s %s\n"),
		    clock_show(
			json_string_value(json_object_get(r, "received")), day),
		    json_string_value(json_object_get(r, "kind")),
		    json_string_value(json_object_get(r, "from")),
		    json_string_value(json_object_get(r, "case"))[0] ?
			json_string_value(json_object_get(r, "case")) :
			"-",
		    json_string_value(json_object_get(r, "id")));
	json_decref(rows);
	return 0;
}

int
report_outbox(struct agent *a, int json, struct sira_err *err)
{
	char day[SIRA_LOCAL_STR_LEN];
	json_t *rows = NULL, *r;
	size_t i;
	int rc;

	if ((rc = list(a, VT_OUTBOX, outbox_row, &rows, err)) != 0)
		return rc;
	if (json)
		print_json(rows);
	else if (json_array_size(rows) == 0)
		(void)printf(_("nothing sent\n"));
	else
		json_array_foreach(rows, i, r)
		{
			json_t *dc = json_object_get(r, "documents");
			char up[64] = "";
			if (json_integer_value(json_object_get(dc, "count")) &&
			    json_integer_value(json_object_get(dc, "percent")) <
				100)
				(void)snprintf(up, sizeof(up),
				    _(" (documents %lld%% sent)"),
				    (long long)json_integer_value(
					json_object_get(dc, "percent")));
			(void)printf(_("%s  %-18s to %-28s %s%s%s%s  %s\n"),
			    clock_show(
				json_string_value(json_object_get(r, "queued")),
				day),
			    json_string_value(json_object_get(r, "kind")),
			    json_string_value(
				json_array_get(json_object_get(r, "to"), 0)),
			    word_text(
				json_string_value(json_object_get(r, "state"))),
			    up,
			    json_string_value(json_object_get(r, "reason"))[0] ?
				": " :
				"",
			    json_string_value(json_object_get(r, "reason")),
			    json_string_value(json_object_get(r, "id")));
		}
	json_decref(rows);
	return 0;
}

/* Print payload bytes if they are readable text, else say what they are. */
static json_t *
content(int kind, const uint8_t *p, size_t len)
{
	json_t *j = report_payload_json(kind, p, len);

	if (j != NULL)
		return j;
	/* Lines and tabs are fine; any other control or invisible character
	 * could drive or fool the terminal, so such content is not shown. */
	if (text_is_utf8((const char *)p, len) &&
	    !text_has_control_lines((const char *)p, len))
		return json_stringn((const char *)p, len);
	return json_sprintf("(%zu bytes, not text)", len);
}

static json_t *
show_in(const Sira__V1__InboxEntry *e)
{
	char t1[SIRA_TIME_STR_LEN], t2[SIRA_TIME_STR_LEN];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b}",
	    "direction", "received", "from", e->sender, "kind",
	    envelope_kind_name(e->kind), "content_type", e->content_type,
	    "case", e->case_ref, "sent", when(e->created_at, t1), "received",
	    when(e->received_at, t2), "content",
	    content(e->kind, e->payload.data, e->payload.len), "receipt_sent",
	    e->receipt.len > 0);
}

static json_t *
show_out(const Sira__V1__OutboxEntry *e)
{
	char t1[SIRA_TIME_STR_LEN];
	json_t *to = json_array(), *from = json_array();

	for (size_t i = 0; to != NULL && i < e->n_to; i++)
		(void)json_array_append_new(to, json_string(e->to[i]));
	for (size_t i = 0; from != NULL && i < e->n_receipt_from; i++)
		(void)json_array_append_new(
		    from, json_string(e->receipt_from[i]));
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:b}",
	    "direction", "sent", "to", to ? to : json_array(), "kind",
	    envelope_kind_name(e->kind), "state", book_state_name(e->state),
	    "case", e->case_ref, "queued", when(e->queued_at, t1), "content",
	    content(e->kind, e->payload.data, e->payload.len), "receipts_from",
	    from ? from : json_array(), "refused", e->refused_detail,
	    "broker_evidence", e->accepted.len > 0);
}

/* The documents of a received message (docs_received). */
static json_t *
received_docs(struct agent *a, struct vault_txn *t, const uint8_t *msgid)
{
	struct doc_received *docs = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	if (arr == NULL || docs_received(a, t, msgid, &docs, &n, NULL) != 0)
		return arr ? arr : json_array();
	for (size_t i = 0; i < n; i++)
		(void)json_array_append_new(arr,
		    json_pack("{s:s, s:s, s:I, s:s, s:b, s:b}", "name",
			docs[i].name, "media_type", docs[i].media_type, "size",
			(json_int_t)docs[i].size, "path", docs[i].path,
			"verified", 1, "present", docs[i].present));
	free(docs);
	return arr;
}

/* The documents of a sent message and how far their upload got. */
static json_t *
sent_docs(const Sira__V1__OutboxEntry *e)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < e->n_docs; i++)
		(void)json_array_append_new(arr,
		    json_pack("{s:s, s:s, s:I, s:I, s:b}", "name",
			e->docs[i]->name, "media_type", e->docs[i]->media_type,
			"size", (json_int_t)e->docs[i]->size, "uploaded",
			(json_int_t)e->docs[i]->uploaded, "at_broker",
			e->docs[i]->complete));
	return arr ? arr : json_array();
}

/* One line per document, names made safe to print (a sender's name). */
static void
print_docs(json_t *docs)
{
	size_t i;
	json_t *d;

	json_array_foreach(docs, i, d)
	{
		const char *name =
		    json_string_value(json_object_get(d, "name"));
		const char *path =
		    json_string_value(json_object_get(d, "path"));
		const char *l = i ? "" : _("documents");
		(void)printf("%-*s %s  %.1f %s%s%s%s\n", cols(l, 14), l,
		    name && !text_has_control(name, strlen(name)) ? name : "?",
		    (double)json_integer_value(json_object_get(d, "size")) /
			1048576.0,
		    _("MiB"), path ? "  " : "", path ? path : "",
		    json_is_false(json_object_get(d, "present")) ?
			_("  (missing or changed since it was verified)") :
			"");
	}
}

/* Content last-line-safe: every line behind a bar, so a sender's text
 * cannot imitate the fields above it. */
static void
print_content(const json_t *v)
{
	char *dump = NULL;
	const char *text = json_string_value(v);

	/* Structured content is shown as JSON; escaped to ASCII if a text
	 * in it carries invisible or control characters. */
	if (text == NULL) {
		dump = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (dump != NULL &&
		    text_has_control_lines(dump, strlen(dump))) {
			free(dump);
			dump = json_dumps(v,
			    JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_ENSURE_ASCII);
		}
		text = dump;
	}
	(void)printf("%s\n", _("content"));
	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		(void)printf("  | %.*s\n", n, p);
		p = nl ? nl + 1 : NULL;
	}
	free(dump);
}

/* One field of `show`: its label in the reader's language, then its value
 * (dump, if it is not a string). */
static void
show_field(const char *key, const json_t *v, const char *dump)
{
	char day[SIRA_LOCAL_STR_LEN];
	static const char *const labels[] = { N_("direction"), N_("from"),
		N_("to"), N_("kind"), N_("content_type"), N_("case"),
		N_("state"), N_("sent"), N_("received"), N_("queued"),
		N_("receipt_sent"), N_("receipts_from"), N_("refused"),
		N_("broker_evidence") };
	const char *l = key, *val = dump ? dump : json_string_value(v);

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(key, labels[i]) == 0)
			l = _(labels[i]);
	if (json_is_boolean(v) || strcmp(key, "direction") == 0 ||
	    strcmp(key, "state") == 0)
		val = word_text(val);
	(void)printf("%-*s %s\n", cols(l, 14), l, clock_show(val, day));
}

int
report_show(struct agent *a, const char *id, int json, struct sira_err *err)
{
	Sira__V1__InboxEntry *in = NULL;
	Sira__V1__OutboxEntry *out = NULL;
	struct vault_txn *t = NULL;
	uint8_t bin[16];
	size_t binlen;
	json_t *j = NULL;
	const char *key;
	json_t *v;
	int rc;

	if (sodium_hex2bin(
		bin, sizeof(bin), id, strlen(id), NULL, &binlen, NULL) != 0 ||
	    binlen != 16)
		return sira_err_set(err, SIRA_EINVAL,
		    _("'%s' is not a message id (32 hex digits)"), id);
	if ((rc = vault_begin(a->vault, false, &t, err)) != 0)
		return rc;
	if (book_get_in(t, bin, &in, NULL) == 0) {
		j = show_in(in);
		if (j != NULL)
			(void)json_object_set_new(
			    j, "documents", received_docs(a, t, bin));
	} else if (book_get_out(t, bin, &out, NULL) == 0) {
		j = show_out(out);
		if (j != NULL)
			(void)json_object_set_new(
			    j, "documents", sent_docs(out));
	}
	vault_abort(&t);
	if (in != NULL)
		sira__v1__inbox_entry__free_unpacked(in, NULL);
	if (out != NULL)
		sira__v1__outbox_entry__free_unpacked(out, NULL);
	if (j == NULL)
		return sira_err_set(
		    err, SIRA_ENOTFOUND, _("no message %s"), id);
	if (json)
		print_json(j);
	else
		json_object_foreach(j, key, v)
		{
			char *s = json_is_string(v) ?
			    NULL :
			    json_dumps(v, JSON_ENCODE_ANY);
			if (strcmp(key, "content") == 0)
				print_content(v);
			else if (strcmp(key, "documents") == 0)
				print_docs(v);
			else
				show_field(key, v, s);
			free(s);
		}
	json_decref(j);
	return 0;
}

struct counts {
	uint64_t by_state[8];
	uint64_t inbox;
};

static int
count_out(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct counts *c = ctx;
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);

	(void)key;
	(void)klen;
	if (e != NULL && e->state >= 0 && e->state < 8 &&
	    e->kind != SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_RECEIPT)
		c->by_state[e->state]++;
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

static int
count_in(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	((struct counts *)ctx)->inbox++;
	return 0;
}

static void
report_status_text(json_t *o)
{
	char day[SIRA_LOCAL_STR_LEN];
	json_t *q = json_object_get(o, "outbox"), *x;
	const char *alarm = json_string_value(json_object_get(o, "alarm"));
	const char *sync = json_string_value(json_object_get(o, "last_sync"));
	size_t i;

	(void)printf(_("agency:        %s\n"),
	    json_string_value(json_object_get(o, "agency")));
	(void)printf(_("broker:        %s\n"),
	    json_is_true(json_object_get(o, "connected")) ? _("connected") :
							    _("not connected"));
	(void)printf(_("last sync:     %s\n"),
	    sync != NULL && strcmp(sync, never_synced) == 0 ?
		_(never_synced) :
		clock_show(sync, day));
	(void)printf(_("inbox:         %lld messages\n"),
	    (long long)json_integer_value(json_object_get(o, "inbox")));
	(void)printf(
	    _("outbox:        %lld waiting, %lld at the broker, %lld delivered, %lld refused, %lld expired\n"),
	    (long long)(json_integer_value(json_object_get(q, "queued")) +
		json_integer_value(json_object_get(q, "sealed"))),
	    (long long)json_integer_value(json_object_get(q, "accepted")),
	    (long long)json_integer_value(json_object_get(q, "delivered")),
	    (long long)json_integer_value(json_object_get(q, "refused")),
	    (long long)json_integer_value(json_object_get(q, "expired")));
	(void)printf(_("certificate:   valid until %s%s\n"),
	    clock_show(
		json_string_value(json_object_get(o, "certificate_expires")),
		day),
	    json_is_true(json_object_get(o, "certificate_expiry_warning")) ?
		_("  WARNING: expires within 30 days: make a renewal request "
		  "(sira-agent renew-request) and send it to the committee") :
		"");
	if (!json_is_true(json_object_get(o, "revocation_list_fresh")))
		(void)printf(_(
		    "WARNING:       no fresh revocation list: incoming messages are held until one arrives\n"));
	if (json_integer_value(json_object_get(o, "missing_messages")) > 0)
		(void)printf(
		    _("WARNING:       %lld messages were lost on the way (sequence gaps); tell the committee\n"),
		    (long long)json_integer_value(
			json_object_get(o, "missing_messages")));
	json_array_foreach(json_object_get(o, "transfers"), i, x)
	{
		json_int_t done =
		    json_integer_value(json_object_get(x, "done"));
		json_int_t total =
		    json_integer_value(json_object_get(x, "total"));
		(void)printf(_("document:      %s %lld%% (%.1f / %.1f %s)\n"),
		    json_string_value(json_object_get(x, "direction")),
		    total ? (long long)(done * 100 / total) : 0LL,
		    (double)done / 1048576.0, (double)total / 1048576.0,
		    _("MiB"));
	}
	overdue_lines(o);
	retention_status_line(o);
	erase_status_line(o);
	if (alarm != NULL && alarm[0] != '\0')
		(void)printf(_("ALARM:         %s\n"), alarm);
}

int
report_status(struct agent *a, int json, struct sira_err *err)
{
	char path[PATH_MAX], t[SIRA_TIME_STR_LEN];
	struct counts c;
	struct vault_txn *tx = NULL;
	json_t *o, *q;
	uint64_t now = clock_now();
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = vault_begin(a->vault, false, &tx, err)) == 0 &&
	    (rc = vault_each(tx, VT_OUTBOX, count_out, &c, err)) == 0)
		rc = vault_each(tx, VT_INBOX, count_in, &c, err);
	vault_abort(&tx);
	if (rc != 0)
		return rc;
	if (home_path(&a->home, "status.json", path, err) != 0 ||
	    (o = json_load_file(path, 0, NULL)) == NULL)
		o = json_pack(
		    "{s:b, s:s}", "connected", 0, "last_sync", never_synced);
	q = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "queued",
	    (json_int_t)c.by_state[1], "sealed", (json_int_t)c.by_state[2],
	    "accepted", (json_int_t)c.by_state[3], "delivered",
	    (json_int_t)c.by_state[4], "refused", (json_int_t)c.by_state[5],
	    "expired", (json_int_t)c.by_state[6]);
	(void)json_object_set_new(o, "agency", json_string(a->me->agency_id));
	(void)json_object_set_new(o, "outbox", q);
	(void)json_object_set_new(
	    o, "inbox", json_integer((json_int_t)c.inbox));
	(void)json_object_set_new(
	    o, "certificate_expires", json_string(when(a->me->not_after, t)));
	(void)json_object_set_new(o, "certificate_expiry_warning",
	    json_boolean(agent_cert_expiring(a, now, NULL)));
	(void)json_object_set_new(o, "revocation_list_fresh",
	    json_boolean(
		a->crl != NULL && crl_check_fresh(a->crl, now, NULL) == 0));
	overdue_counts(a, now, o);
	retention_status(a, now, o);
	erase_status(a, o);
	if (json)
		print_json(o);
	else
		report_status_text(o);
	json_decref(o);
	return 0;
}

static int
dir_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct listing *l = ctx;
	struct cert *c = NULL, *checked = NULL;
	char t[SIRA_TIME_STR_LEN];
	const char *state = N_("valid");
	int rc;

	(void)key;
	(void)klen;
	if (cert_unsafe_decode(val, vlen, &c, NULL) != 0)
		return 0;
	/* Stored certificates verified once; say what they are now. */
	rc = cert_verify(l->a->ca, l->a->crl, bytes_of(val, vlen), clock_now(),
	    &checked, NULL);
	cert_destroy(&checked);
	if (rc == -SIRA_EREVOKED)
		state = N_("revoked");
	else if (rc == -SIRA_EEXPIRED)
		state = N_("expired");
	else if (rc != 0)
		state = N_("not trusted now");
	(void)json_array_append_new(l->rows,
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "agency", c->agency_id,
		"name", c->display_name, "role", cert_role_name(c->role),
		"valid_until", when(c->not_after, t), "state", state));
	cert_destroy(&c);
	return 0;
}

int
report_directory(struct agent *a, int json, struct sira_err *err)
{
	char day[SIRA_LOCAL_STR_LEN];
	json_t *rows = NULL, *r;
	size_t i;
	int rc;

	if ((rc = list(a, VT_CERTS, dir_row, &rows, err)) != 0)
		return rc;
	if (json)
		print_json(rows);
	else
		json_array_foreach(rows, i, r)
		{
			const char *st = word_text(
			    json_string_value(json_object_get(r, "state")));
			(void)printf(_("%-28s %-16s %-*s until %s  %s\n"),
			    json_string_value(json_object_get(r, "agency")),
			    json_string_value(json_object_get(r, "role")),
			    cols(st, 8), st,
			    clock_show(json_string_value(
					   json_object_get(r, "valid_until")),
				day),
			    json_string_value(json_object_get(r, "name")));
		}
	json_decref(rows);
	return 0;
}

int
report_audit_verify(struct agent *a, struct sira_err *err)
{
	struct vault_txn *t = NULL;
	uint64_t n = 0, bad = 0;
	int rc;

	if ((rc = vault_begin(a->vault, false, &t, err)) == 0)
		rc = book_audit_verify(t, &n, &bad, err);
	vault_abort(&t);
	if (rc == 0)
		(void)printf(
		    _("audit chain OK: %llu entries, every link checked\n"),
		    (unsigned long long)n);
	return rc;
}

static int
audit_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct listing *l = ctx;
	Sira__V1__AuditEntry *e = book_audit_decode(val, vlen);
	char id[33], t[SIRA_TIME_STR_LEN];
	const char *who, *person, *subject;

	(void)key;
	(void)klen;
	if (e == NULL)
		return 0;
	hex16(e->message_id.data, e->message_id.len, id);
	/* Written by this agent from checked names; shown safely anyway. */
	who = text_has_control(e->counterpart, strlen(e->counterpart)) ?
	    "?" :
	    e->counterpart;
	person =
	    text_has_control(e->person, strlen(e->person)) ? "?" : e->person;
	subject =
	    text_has_control(e->subject, strlen(e->subject)) ? "?" : e->subject;
	(void)json_array_append_new(l->rows,
	    json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:i, s:s, s:s}", "seq",
		(json_int_t)e->seq, "time", when(e->time, t), "unix",
		(json_int_t)e->time, "action", e->action, "counterpart", who,
		"message", id, "reason", (int)e->reason, "person", person,
		"subject", subject));
	sira__v1__audit_entry__free_unpacked(e, NULL);
	return 0;
}

int
report_audit_show(struct agent *a, int json, struct sira_err *err)
{
	char day[SIRA_LOCAL_STR_LEN];
	json_t *rows = NULL, *r;
	size_t i;
	int rc;

	if ((rc = list(a, VT_AUDIT, audit_row, &rows, err)) != 0)
		return rc;
	if (json)
		print_json(rows);
	else
		json_array_foreach(rows, i, r)(void) printf(
		    "%6lld  %s  %-14s %-28s %s%s%s%s%s\n",
		    (long long)json_integer_value(json_object_get(r, "seq")),
		    clock_show(
			json_string_value(json_object_get(r, "time")), day),
		    json_string_value(json_object_get(r, "action")),
		    json_string_value(json_object_get(r, "counterpart")),
		    json_string_value(json_object_get(r, "message")),
		    *json_string_value(json_object_get(r, "person")) ? "  " :
								       "",
		    json_string_value(json_object_get(r, "person")),
		    *json_string_value(json_object_get(r, "subject")) ? "  " :
									"",
		    json_string_value(json_object_get(r, "subject")));
	json_decref(rows);
	return 0;
}
