/*
 * bundle_report.c: the chain of custody as people and scripts see it (see
 * cli.h). The result is built once as JSON; the text form is
 * printed from it, one block per message, so the two never disagree.
 * Message contents are shown only when they are plain text; every line of
 * content sits behind a bar, so it cannot imitate the lines above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "clock.h"
#include "text.h"
#include "i18n.h"

static json_t *
at(uint64_t t)
{
	char buf[SIRA_TIME_STR_LEN];

	clock_format(t, buf);
	return json_string(buf);
}

static json_t *
party(const struct custody_party *p)
{
	json_t *j =
	    json_pack("{s:s, s:s}", "agency", p->agency, "name", p->name);

	if (j != NULL && p->revoked_at != 0)
		(void)json_object_set_new(
		    j, "revoked_later", at(p->revoked_at));
	return j;
}

/* A workflow payload as JSON (a referral, an answer, a file request...),
 * or the content if it is text safe to show (lines and tabs only), else
 * NULL. */
static json_t *
content(int kind, const uint8_t *p, size_t len)
{
	json_t *j = report_payload_json(kind, p, len);

	if (j != NULL)
		return j;
	if (!text_is_utf8((const char *)p, len) ||
	    text_has_control_lines((const char *)p, len))
		return NULL;
	return json_stringn((const char *)p, len);
}

static json_t *
receipts(const struct custody_msg *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < m->n_receipts; i++) {
		const struct custody_receipt *r = &m->receipts[i];
		(void)json_array_append_new(a,
		    json_pack("{s:o, s:s, s:s, s:o}", "by", party(&r->by),
			"result", r->accepted ? "accepted" : "rejected",
			"reason",
			r->accepted ? "" : sira_strerror(r->reject_reason),
			"received", at(r->received_at)));
	}
	return a;
}

static json_t *
message(const struct custody_msg *m)
{
	char sha[2 * SIRA_HASH_LEN + 1];
	json_t *to = json_array(), *j, *c;

	for (size_t i = 0; to != NULL && i < m->n_recipients; i++)
		(void)json_array_append_new(to, party(&m->recipients[i]));
	(void)sodium_bin2hex(
	    sha, sizeof(sha), m->payload_sha256, SIRA_HASH_LEN);
	j = json_pack("{s:s, s:o, s:o, s:o, s:s, s:s, s:I, s:s, s:I, s:o}",
	    "id", m->id, "sent", at(m->created_at), "from", party(&m->sender),
	    "to", to ? to : json_array(), "kind", envelope_kind_name(m->kind),
	    "content_type", m->content_type, "size", (json_int_t)m->payload_len,
	    "sha256", sha, "attachments", (json_int_t)m->n_attachments,
	    "receipts", receipts(m));
	if (j == NULL)
		return NULL;
	(void)json_object_set_new(j, "broker",
	    m->broker ?
		json_pack("{s:I, s:o, s:I, s:o}", "leaf_index",
		    (json_int_t)m->leaf_index, "logged", at(m->leaf_time),
		    "checkpoint_size", (json_int_t)m->checkpoint_size,
		    "checkpoint_signed", at(m->checkpoint_time)) :
		json_null());
	c = content(m->kind, m->payload, m->payload_len);
	(void)json_object_set_new(j, "content", c ? c : json_null());
	(void)json_object_set_new(j, "signatures", json_string("valid"));
	return j;
}

static json_t *
custody_json(const struct custody *c)
{
	json_t *msgs = json_array();

	for (size_t i = 0; msgs != NULL && i < c->n_msgs; i++)
		(void)json_array_append_new(msgs, message(&c->msgs[i]));
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:I, s:o}, s:I, s:I, s:{s:s, s:o}, s:o}",
	    "case", c->case_ref, "result", "OK", "ca", "agency", c->ca.agency,
	    "name", c->ca.name, "fingerprint", c->ca_fingerprint,
	    "revocation_list", "sequence", (json_int_t)c->crl_sequence,
	    "issued", at(c->crl_this_update), "certificates",
	    (json_int_t)c->n_certs, "checkpoints", (json_int_t)c->n_checkpoints,
	    "exported_unsigned", "by", c->exported_by, "at", at(c->exported_at),
	    "messages", msgs ? msgs : json_array());
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* "  label" padded to 17 columns, counting characters, not bytes. */
static void
label(const char *l)
{
	size_t w = 0;

	for (const char *c = l; *c != '\0'; c++)
		w += ((unsigned char)*c & 0xc0) != 0x80;
	(void)printf("  %s%*s", l, w < 15 ? (int)(15 - w) : 0, "");
}

static void
print_party(const char *l, const json_t *p)
{
	label(l);
	(void)printf("%s (%s)", str(p, "agency"), str(p, "name"));
	if (json_object_get(p, "revoked_later") != NULL)
		(void)printf(", certificat révoqué ensuite, le %s",
		    str(p, "revoked_later"));
	(void)printf("\n");
}

static void
print_content(const json_t *m)
{
	const json_t *c = json_object_get(m, "content");
	const char *text = json_string_value(c);
	char *dump = NULL;

	if (json_is_object(c)) {
		dump = json_dumps(c, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (dump != NULL &&
		    text_has_control_lines(dump, strlen(dump))) {
			free(dump);
			dump = json_dumps(c,
			    JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_ENSURE_ASCII);
		}
		text = dump;
	}
	if (text == NULL) {
		label("contenu");
		(void)printf("(%lld octets, pas du texte)\n",
		    (long long)json_integer_value(json_object_get(m, "size")));
		return;
	}
	(void)printf("  contenu\n");
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		(void)printf("    | %.*s\n", n, p);
		p = nl ? nl + 1 : p + n;
	}
	free(dump);
}

static void
print_message(size_t i, size_t n, const json_t *m)
{
	const json_t *b = json_object_get(m, "broker"), *r;
	size_t k;

	(void)printf("\nMessage %zu/%zu  %s\n", i + 1, n, str(m, "id"));
	label("envoyé le");
	(void)printf("%s\n", str(m, "sent"));
	print_party("de", json_object_get(m, "from"));
	json_array_foreach(json_object_get(m, "to"), k, r)
	    print_party(k == 0 ? "à" : "", r);
	label("nature");
	(void)printf("%s (%s), %lld octets, SHA-256 %s\n", str(m, "kind"),
	    str(m, "content_type"),
	    (long long)json_integer_value(json_object_get(m, "size")),
	    str(m, "sha256"));
	if (json_integer_value(json_object_get(m, "attachments")) > 0) {
		label("pièces jointes");
		(void)printf("%lld, empreintes signées, fichiers non inclus\n",
		    (long long)json_integer_value(
			json_object_get(m, "attachments")));
	}
	label("courtier");
	if (json_is_object(b))
		(void)printf(
		    "accepté, feuille %lld du journal (%s), point de contrôle de %lld feuilles signé le %s\n",
		    (long long)json_integer_value(
			json_object_get(b, "leaf_index")),
		    str(b, "logged"),
		    (long long)json_integer_value(
			json_object_get(b, "checkpoint_size")),
		    str(b, "checkpoint_signed"));
	else
		(void)printf("pas de preuve du courtier dans ce lot\n");
	json_array_foreach(json_object_get(m, "receipts"), k, r)
	{
		label("accusé");
		(void)printf("%s : %s le %s%s%s\n",
		    str(json_object_get(r, "by"), "agency"),
		    strcmp(str(r, "result"), "accepted") == 0 ?
			"reçu et vérifié" :
			"refusé",
		    str(r, "received"), str(r, "reason")[0] ? ", " : "",
		    str(r, "reason"));
	}
	label("signatures");
	(void)printf("valides\n");
	print_content(m);
}

static void
print_text(const json_t *j)
{
	const json_t *ca = json_object_get(j, "ca"), *m;
	const json_t *crl = json_object_get(j, "revocation_list");
	const json_t *ex = json_object_get(j, "exported_unsigned");
	const json_t *msgs = json_object_get(j, "messages");
	size_t i;

	(void)printf("Dossier %s : chaîne de possession\n", str(j, "case"));
	(void)printf("Autorité de certification : %s (%s), empreinte %s\n",
	    str(ca, "name"), str(ca, "agency"), str(ca, "fingerprint"));
	(void)printf("Liste de révocation n° %lld du %s\n",
	    (long long)json_integer_value(json_object_get(crl, "sequence")),
	    str(crl, "issued"));
	(void)printf("Exporté par %s le %s (indication non signée)\n",
	    str(ex, "by")[0] ? str(ex, "by") : "?", str(ex, "at"));
	json_array_foreach(msgs, i, m)
	    print_message(i, json_array_size(msgs), m);
	(void)printf(
	    "\nOK : %zu messages, %lld certificats, points de contrôle cohérents : %lld ; toutes les signatures sont valides\n",
	    json_array_size(msgs),
	    (long long)json_integer_value(json_object_get(j, "certificates")),
	    (long long)json_integer_value(json_object_get(j, "checkpoints")));
}

int
bundle_report(const struct custody *c, int json, struct sira_err *err)
{
	json_t *j = custody_json(c);

	if (j == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (json) {
		(void)json_dumpf(
		    j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		(void)putchar('\n');
	} else
		print_text(j);
	json_decref(j);
	return 0;
}
