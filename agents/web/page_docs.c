/*
 * page_docs.c: what leaves the agent as a file: a document received with
 * a message (already verified against the sender's signed manifest when
 * it was stored) and a case's evidence bundle (bundle_export, as `sira-agent
 * export`). Each download is recorded in the audit chain with the
 * person's login.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bundle/bundle.h"
#include "documents/documents.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"
#include "workflow/workflow.h"

void
page_document(struct web_req *r, const char *msgid_hex, const char *index)
{
	struct doc_received *d = NULL;
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	uint8_t id[16];
	size_t n = 0, len = 0;
	char *end = NULL;
	unsigned long want = strtoul(index, &end, 10);
	bool found = false;

	if (sodium_hex2bin(id, sizeof(id), msgid_hex, strlen(msgid_hex), NULL,
		&len, NULL) != 0 ||
	    len != 16 || end == NULL || *end != '\0') {
		page_error(r, 404, _("Document not found."));
		return;
	}
	if (vault_begin(r->a->vault, false, &t, &err) == 0 &&
	    docs_received(r->a, t, id, &d, &n, &err) == 0)
		for (size_t i = 0; i < n && !found; i++)
			if (d[i].index == want && d[i].present) {
				(void)snprintf(
				    r->file, sizeof(r->file), "%s", d[i].path);
				(void)snprintf(r->file_name,
				    sizeof(r->file_name), "%s", d[i].name);
				found = true;
			}
	vault_abort(&t);
	free(d);
	if (!found) {
		page_error(r, 404, _("Document not found."));
		return;
	}
	(void)web_audit(r, "document.download", msgid_hex);
}

void
page_case_export(struct web_req *r, const char *ref)
{
	struct bundle_stats st;
	char *path = r->file;
	struct sira_err err = { 0 };
	char tmp[PATH_MAX];

	if (!workflow_ref_valid(ref)) {
		page_error(r, 404, _("This is not a case reference."));
		return;
	}
	if (home_path(&r->a->home, "tmp", tmp, &err) != 0 ||
	    snprintf(path, sizeof(r->file), "%s/export-%s.sirabundle", tmp,
		r->s->login) >= (int)sizeof(r->file)) {
		path[0] = '\0';
		page_error(r, 500, _("Out of memory."));
		return;
	}
	(void)unlink(path);
	if (bundle_export(r->a, ref, path, r->now, &st, &err) != 0) {
		log_event(LOG_WARN, "web.export_failed", "code=%d", err.code);
		(void)unlink(path);
		path[0] = '\0';
		page_error(r, err.code == SIRA_ENOTFOUND ? 404 : 500, err.msg);
		return;
	}
	r->file_unlink = true;
	(void)snprintf(
	    r->file_name, sizeof(r->file_name), "%s.sirabundle", ref);
	for (char *c = r->file_name; *c != '\0'; c++)
		*c = *c == '/' ? '-' : *c;
	(void)web_audit(r, "case.export", ref);
}
