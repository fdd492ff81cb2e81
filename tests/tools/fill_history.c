/*
 * fill_history.c: sira-fill, a test tool that gives an agency months of
 * finished history in its own store, fast: delivered outbox entries, inbox
 * entries and their audit lines, spread over the past DAYS days. It writes
 * through the agent's own modules (book.c, vault.c), so every row has the
 * shape the daemon would have written. Test tool only: never installed.
 *
 *   sira-fill --home DIR --peer ID [--count N] [--days D]
 *
 * Run it while the agent's daemon is stopped.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "clock.h"
#include "envelope.h"
#include "wire.h"

#define BATCH 1000

struct fill {
	const char *home, *peer;
	unsigned long count, days;
};

static int
put_in(struct vault_txn *t, const char *peer, uint64_t at, struct sira_err *err)
{
	Sira__V1__InboxEntry e = SIRA__V1__INBOX_ENTRY__INIT;
	uint8_t id[16], *bytes;
	size_t len;
	int rc;

	book_new_id(id);
	e.message_id.data = id;
	e.message_id.len = 16;
	e.sender = (char *)(uintptr_t)peer;
	e.kind = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE;
	e.content_type = (char *)(uintptr_t) "sira.note.v1";
	e.case_ref = (char *)(uintptr_t) "";
	e.payload.data = (uint8_t *)(uintptr_t) "historique";
	e.payload.len = 10;
	e.created_at = at;
	e.received_at = at + 5;
	e.read = 1;
	if ((rc = wire_pack(&e.base, &bytes, &len, err)) != 0)
		return rc;
	rc = vault_put(t, VT_INBOX, bytes_of(id, 16), bytes, len, err);
	free(bytes);
	if (rc == 0)
		rc = book_audit(t, at + 5,
		    &(struct audit_event){
			"received", peer, id, 0, NULL, NULL },
		    err);
	return rc;
}

static int
put_out(
    struct vault_txn *t, const char *peer, uint64_t at, struct sira_err *err)
{
	const char *to[1] = { peer };
	Sira__V1__OutboxEntry *e = NULL;
	uint8_t id[16];
	int rc;

	if ((rc = book_queue(t,
		 &(struct outgoing){ to, 1,
		     SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_NOTE, "sira.note.v1",
		     "", bytes_of("historique", 10), 0, NULL },
		 at, id, err)) != 0 ||
	    (rc = book_get_out(t, id, &e, err)) != 0)
		return rc;
	e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_DELIVERED;
	book_schedule(e, 0);
	rc = book_put_out(t, e, at + 10, err);
	if (rc == 0)
		rc = book_audit(t, at + 10,
		    &(struct audit_event){
			"delivered", peer, id, 0, NULL, NULL },
		    err);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}

static int
fill(struct agent *a, const struct fill *f, struct sira_err *err)
{
	uint64_t now = clock_now(), span = f->days * 86400;
	struct vault_txn *t = NULL;
	int rc = 0;

	for (unsigned long i = 0; i < f->count && rc == 0; i++) {
		uint64_t at = now - span + span * i / f->count;
		if (t == NULL &&
		    (rc = vault_begin(a->vault, true, &t, err)) != 0)
			break;
		if ((rc = put_out(t, f->peer, at, err)) == 0)
			rc = put_in(t, f->peer, at, err);
		if (rc == 0 && (i + 1) % BATCH == 0)
			rc = vault_commit(&t, err);
	}
	if (rc == 0 && t != NULL)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	return rc;
}

static int
parse(int argc, char **argv, struct fill *f)
{
	static const struct option opts[] = { { "home", 1, NULL, 'h' },
		{ "peer", 1, NULL, 'p' }, { "count", 1, NULL, 'n' },
		{ "days", 1, NULL, 'd' }, { "help", 0, NULL, 'H' },
		{ NULL, 0, NULL, 0 } };
	int c;

	f->count = 10000;
	f->days = 180;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h')
			f->home = optarg;
		else if (c == 'p')
			f->peer = optarg;
		else if (c == 'n')
			f->count = strtoul(optarg, NULL, 10);
		else if (c == 'd')
			f->days = strtoul(optarg, NULL, 10);
		else
			return -1;
	}
	return f->home != NULL && f->peer != NULL && f->count > 0 &&
		f->days > 0 ?
	    0 :
	    -1;
}

int
main(int argc, char **argv)
{
	struct fill f = { 0 };
	struct sira_err err;
	struct agent a;
	int rc;

	if (parse(argc, argv, &f) != 0) {
		(void)fprintf(stderr,
		    "usage: sira-fill --home DIR --peer ID [--count N] "
		    "[--days D]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	sira_err_clear(&err);
	memset(&a, 0, sizeof(a));
	rc = home_resolve(f.home, &a.home, &err);
	if (rc == 0)
		rc = agent_open(&a, NULL, clock_now(), &err);
	if (rc == 0)
		rc = fill(&a, &f, &err);
	agent_close(&a);
	if (rc != 0) {
		(void)fprintf(stderr, "sira-fill: %s\n", err.msg);
		return 1;
	}
	(void)printf("%lu sent and %lu received messages of history\n", f.count,
	    f.count);
	return 0;
}
