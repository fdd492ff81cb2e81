/*
 * req.c: what a page does with its request besides drawing: read a
 * query-string argument, answer with a redirect, and record what the
 * person did in the agency's audit chain (with their login, and the case
 * or account it was about).
 */
#include <stdarg.h>
#include <stdio.h>

#include <microhttpd.h>

#include "log.h"
#include "web/web.h"

const char *
web_query(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(
	    r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void
web_redirect(struct web_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above
	(void)vsnprintf(r->location, sizeof(r->location), fmt, ap);
	va_end(ap);
	r->status = 303;
}

int
web_audit(struct web_req *r, const char *action, const char *what)
{
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	int rc;

	if ((rc = vault_begin(r->a->vault, true, &t, &err)) == 0 &&
	    (rc = book_audit(t, r->now,
		 &(struct audit_event){ .action = action,
		     .subject = what,
		     .person = r->s != NULL ? r->s->login : NULL },
		 &err)) == 0)
		rc = vault_commit(&t, &err);
	vault_abort(&t);
	if (rc != 0)
		log_event(LOG_ERROR, "web.audit_failed", "action=%s code=%d",
		    action, -rc);
	return rc;
}
