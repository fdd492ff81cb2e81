/*
 * outbox_edit.c: changes to one outbox entry shared by the modules that
 * take the broker's and the recipients' answers (outbound.c, logproof.c,
 * receipts.c): marking it refused, and a read-change-write of one entry in
 * its own transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "log.h"
#include "store/store.h"

/* Mark e refused; the detail is copied (e owns its strings) with any
 * control character replaced: it may come from the broker. */
void
outbox_refuse(Sira__V1__OutboxEntry *e, int reason, const char *detail)
{
	char *copy = strdup(detail);

	for (char *c = copy; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f ||
		    (unsigned char)*c >= 0x80)
			*c = '?';
	e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_REFUSED;
	e->refused_reason = reason;
	if (copy != NULL) {
		if (e->refused_detail != NULL &&
		    e->refused_detail != protobuf_c_empty_string)
			free(e->refused_detail);
		e->refused_detail = copy;
	}
}

/* Load, change and store one outbox entry in its own transaction (a child
 * of the loop's batch while one is open). */
int
outbox_update(struct daemon *d, const uint8_t *id, outbox_edit_fn fn,
    const void *arg, uint64_t now)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	struct sira_err err;
	int rc;

	if ((rc = batch_begin(d, &t, &err)) != 0 ||
	    (rc = book_get_out(t, id, &e, &err)) != 0 ||
	    (rc = fn(d, t, e, arg, now)) != 0 ||
	    (rc = vault_commit(&t, &err)) != 0)
		log_event(LOG_WARN, "outbox.update_failed", "reason=%s",
		    sira_strerror(rc));
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	vault_abort(&t);
	return rc;
}
