/*
 * erase.c: erasing a case from this agency (docs/SECURITY.md, "Effacement").
 * One write transaction scrubs (vault_scrub: zeroed, then deleted) every
 * row that carries the case's content: its record, every outbox and inbox
 * entry whose case reference is the case's (their payloads, envelopes and
 * document keys), their index rows; the case key becomes a tombstone, the
 * audit chain gets a "case.erased" entry that names the case only by a tag
 * (8 bytes of its blinded reference), and the vault is marked for
 * compaction. The same transaction lists the files to wipe (spool,
 * received documents, downloads) in VT_META "erase.files", and they are
 * overwritten and removed after the commit, then the list is dropped: a
 * power cut in between leaves the list, which the next erase_files
 * finishes. erase_cases_in does the same for many cases with one scan of
 * the outbox and inbox (the retention rules). VT_SEEN keeps its rows (sender
 * and random message id, no content) so that a replay is still recognised.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "documents/documents.h"
#include "log.h"
#include "workflow/workflow.h"
#include "i18n.h"

#define FILES_ROW "erase.files"
#define ITEM_LEN 33 /* type(1) id(32, a 16-byte id padded with zeros) */
#define ITEM_SPOOL 's'
#define ITEM_DOCS 'd'
#define ITEM_BLOB 'b'
#define ROWS_MAX 100000 /* messages of one case: far above any real one */

/* What one erasure found, collected before anything is deleted. */
struct found {
	const char *ref;
	uint8_t (*out)[16], (*in)[16];
	size_t n_out, n_in;
	uint8_t *files; /* ITEM_LEN each */
	size_t n_files;
	bool busy; /* a sent message still waits for its receipts */
};

/* The cases one scan of the outbox and inbox looks for, sorted by ref. */
struct scan {
	struct found *f;
	size_t n;
};

static int
by_ref(const void *a, const void *b)
{
	return strcmp(
	    ((const struct found *)a)->ref, ((const struct found *)b)->ref);
}

static struct found *
scan_find(const struct scan *s, const char *ref)
{
	struct found key = { .ref = ref };

	return bsearch(&key, s->f, s->n, sizeof(*s->f), by_ref);
}

static int
add_id(uint8_t (**ids)[16], size_t *n, const uint8_t *id)
{
	uint8_t(*p)[16];

	if (*n >= ROWS_MAX ||
	    (p = realloc(*ids, (*n + 1) * sizeof(**ids))) == NULL)
		return -SIRA_ENOMEM;
	memcpy(p[*n], id, 16);
	*ids = p;
	(*n)++;
	return 0;
}

static int
add_file(struct found *f, uint8_t type, const uint8_t *id, size_t len)
{
	uint8_t *p;

	if (f->n_files >= (size_t)4 * ROWS_MAX ||
	    (p = realloc(f->files, (f->n_files + 1) * ITEM_LEN)) == NULL)
		return -SIRA_ENOMEM;
	memset(p + f->n_files * ITEM_LEN, 0, ITEM_LEN);
	p[f->n_files * ITEM_LEN] = type;
	memcpy(p + f->n_files * ITEM_LEN + 1, id, len);
	f->files = p;
	f->n_files++;
	return 0;
}

static int
out_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	Sira__V1__OutboxEntry *e = book_out_decode(val, vlen);
	struct found *f = e != NULL ? scan_find(ctx, e->case_ref) : NULL;
	int rc = 0;

	if (f != NULL && klen == 16) {
		if ((rc = add_id(&f->out, &f->n_out, key)) == 0)
			rc = add_file(f, ITEM_SPOOL, key, 16);
		f->busy |= outq_live((int)e->state);
	}
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc;
}

static int
in_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	Sira__V1__InboxEntry *e = book_in_decode(val, vlen);
	struct found *f = e != NULL ? scan_find(ctx, e->case_ref) : NULL;
	int rc = 0;

	if (f != NULL && klen == 16) {
		if ((rc = add_id(&f->in, &f->n_in, key)) == 0)
			rc = add_file(f, ITEM_DOCS, key, 16);
		for (size_t i = 0; rc == 0 && i < e->n_docs; i++)
			if (e->docs[i]->blob_id.len == 32)
				rc = add_file(
				    f, ITEM_BLOB, e->docs[i]->blob_id.data, 32);
	}
	if (e != NULL)
		sira__v1__inbox_entry__free_unpacked(e, NULL);
	return rc;
}

static void
found_free(struct found *f)
{
	free(f->out);
	free(f->in);
	free(f->files);
}

/* Scrub the outbox entry id and its index row. */
static int
scrub_out(struct vault_txn *t, const uint8_t id[16], struct sira_err *err)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct outq_row row;
	int rc;

	if ((rc = book_get_out(t, id, &e, err)) != 0)
		return rc;
	if (e->index_state != 0) {
		row.state = (int)e->index_state;
		row.due = e->index_due;
		memcpy(row.id, id, 16);
		rc = outq_drop(t, &row, err);
	}
	sira__v1__outbox_entry__free_unpacked(e, NULL);
	if (rc == 0)
		rc = vault_scrub(t, VT_OUTBOX, bytes_of(id, 16), err);
	return rc;
}

/* Append the files of f to the pending list in VT_META. */
static int
list_files(struct vault_txn *t, const struct found *f, struct sira_err *err)
{
	struct bytes name = bytes_of(FILES_ROW, sizeof(FILES_ROW) - 1);
	uint8_t *old = NULL, *all;
	size_t olen = 0;
	int rc;

	rc = vault_get(t, VT_META, name, &old, &olen, NULL);
	if (rc != 0 && rc != -SIRA_ENOTFOUND)
		return sira_err_set(err, -rc, _("erasure list unreadable"));
	if ((all = malloc(olen + f->n_files * ITEM_LEN + 1)) == NULL) {
		vault_free(old, olen);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	if (olen > 0)
		memcpy(all, old, olen);
	if (f->n_files > 0)
		memcpy(all + olen, f->files, f->n_files * ITEM_LEN);
	vault_free(old, olen);
	rc =
	    vault_put(t, VT_META, name, all, olen + f->n_files * ITEM_LEN, err);
	free(all);
	return rc;
}

/* The audit's name for a case: "case:" and 8 bytes of its blinded
 * reference in hex, the same every time, telling nothing of it. */
static void
audit_tag(const uint8_t blind[32], char out[6 + 17])
{
	memcpy(out, "case:", 5);
	(void)sodium_bin2hex(out + 5, 17, blind, 8);
}

/* Scrub every row of f and the record; tombstone; audit; list. */
static int
scrub_all(struct vault_txn *t, const struct erase_req *q, const struct found *f,
    const uint8_t blind[32], struct sira_err *err)
{
	char tag[6 + 17], subject[6 + 17 + 2 + 256];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < f->n_out; i++)
		rc = scrub_out(t, f->out[i], err);
	for (size_t i = 0; rc == 0 && i < f->n_in; i++)
		rc = vault_scrub(t, VT_INBOX, bytes_of(f->in[i], 16), err);
	if (rc == 0 &&
	    (rc = vault_scrub(t, VT_CASES, bytes_of(blind, 32), err)) ==
		-SIRA_ENOTFOUND) {
		sira_err_clear(err);
		rc = 0;
	}
	if (rc != 0 || (rc = casekey_tombstone(t, blind, q->now, err)) != 0 ||
	    (rc = list_files(t, f, err)) != 0)
		return rc;
	audit_tag(blind, tag);
	(void)snprintf(subject, sizeof(subject), "%s %s", tag,
	    q->reason != NULL ? q->reason : "");
	if ((rc = book_audit(t, q->now,
		 &(struct audit_event){ .action = "case.erased",
		     .counterpart = q->by,
		     .person = q->person,
		     .subject = subject },
		 err)) != 0)
		return rc;
	return vault_compact_want(t, err);
}

int
erase_hold_check(
    const Sira__V1__CaseRecord *r, const char *ref, struct sira_err *err)
{
	if (r->hold == NULL || r->hold->by[0] == '\0')
		return 0;
	return sira_err_set(err, SIRA_EDENIED,
	    _("case %s is under a legal hold set by %s (basis: %s): it cannot "
	      "be erased until that agency releases the hold"),
	    ref, r->hold->by, r->hold->basis);
}

void
erase_add_peer(struct erase_result *res, const char *id, const char *me)
{
	if (id == NULL || id[0] == '\0' || strcmp(id, me) == 0)
		return;
	for (size_t i = 0; i < res->n_peers; i++)
		if (strcmp(res->peers[i], id) == 0)
			return;
	if (res->n_peers < ERASE_PEERS_MAX && strlen(id) <= SIRA_AGENCY_ID_MAX)
		(void)snprintf(res->peers[res->n_peers++],
		    sizeof(res->peers[0]), "%s", id);
}

int
erase_note_legs(
    const Sira__V1__CaseRecord *r, const char *me, struct erase_result *res)
{
	for (size_t i = 0; i < r->n_legs; i++)
		if (strcmp(r->legs[i]->from, me) == 0)
			erase_add_peer(res, r->legs[i]->to, me);
	erase_add_peer(res, r->transferred_to, me);
	for (size_t i = 0; i < r->n_requests; i++)
		if (strcmp(r->requests[i]->holder, me) == 0 &&
		    r->requests[i]->state ==
			SIRA__V1__REQUEST_STATE__REQUEST_STATE_GRANTED)
			erase_add_peer(res, r->requests[i]->requester, me);
	return 0;
}

/* One scan of the outbox and inbox for every case of s. */
static int
scan_rows(struct vault_txn *t, struct scan *s, struct sira_err *err)
{
	int rc;

	qsort(s->f, s->n, sizeof(*s->f), by_ref);
	if ((rc = vault_each(t, VT_OUTBOX, out_row, s, err)) == 0)
		rc = vault_each(t, VT_INBOX, in_row, s, err);
	if (rc == -SIRA_ENOMEM)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	return rc;
}

/* Before the scan: is ref erased already, or held? Its peers into res. */
static int
erase_before(struct vault_txn *t, const struct erase_req *q,
    struct erase_result *res, struct casekey *k, struct sira_err *err)
{
	Sira__V1__CaseRecord *r = NULL;
	uint8_t blind[32];
	int rc;

	vault_blind(t, "case", q->ref, blind);
	if ((rc = casekey_get(t, blind, false, k, err)) != 0)
		return rc;
	casekey_wipe(k);
	if (k->state == CASEKEY_ERASED) {
		res->already = true;
		res->erased_at = k->erased_at;
		return 0;
	}
	rc = cases_load(t, q->ref, &r, err);
	if (rc == -SIRA_ENOTFOUND) {
		sira_err_clear(err);
		rc = 0;
	}
	if (rc == 0 && r != NULL)
		rc = erase_hold_check(r, q->ref, err);
	if (rc == 0 && r != NULL)
		rc = erase_note_legs(r, q->me, res);
	res->has_record = r != NULL;
	if (r != NULL)
		sira__v1__case_record__free_unpacked(r, NULL);
	return rc;
}

/* After the scan: scrub what f found of q->ref. */
static int
erase_after(struct vault_txn *t, const struct erase_req *q,
    const struct found *f, const struct casekey *k, struct erase_result *res,
    struct sira_err *err)
{
	uint8_t blind[32];
	int rc;

	if (k->state != CASEKEY_LIVE && !res->has_record && f->n_out == 0 &&
	    f->n_in == 0)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("no case %s in this agency"), q->ref);
	vault_blind(t, "case", q->ref, blind);
	if ((rc = scrub_all(t, q, f, blind, err)) == 0) {
		res->outbox = f->n_out;
		res->inbox = f->n_in;
		res->erased_at = q->now;
	}
	return rc;
}

static int
erase_in(struct vault_txn *t, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err)
{
	struct found f = { .ref = q->ref };
	struct scan s = { &f, 1 };
	struct casekey k = { 0 };
	int rc;

	if ((rc = erase_before(t, q, res, &k, err)) != 0 || res->already)
		return rc;
	if ((rc = scan_rows(t, &s, err)) == 0)
		rc = erase_after(t, q, &f, &k, res, err);
	found_free(&f);
	return rc;
}

int
erase_cases_in(struct vault_txn *t, const struct erase_req *q,
    const char *const *refs, size_t n, struct erase_batch *b,
    struct sira_err *err)
{
	struct found *f = calloc(n ? n : 1, sizeof(*f));
	struct erase_result *res = malloc(sizeof(*res));
	struct casekey k = { 0 };
	struct scan s = { f, 0 };
	int rc = 0;

	memset(b, 0, sizeof(*b));
	if (f == NULL || res == NULL) {
		free(f);
		free(res);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	/* Only live cases that are not held are looked for. */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct erase_req one = *q;
		one.ref = refs[i];
		memset(res, 0, sizeof(*res));
		rc = erase_before(t, &one, res, &k, err);
		if (rc == -SIRA_EDENIED) {
			sira_err_clear(err);
			b->held++;
			rc = 0;
		} else if (rc == 0 && !res->already &&
		    (k.state == CASEKEY_LIVE || res->has_record))
			f[s.n++].ref = refs[i];
	}
	if (rc == 0)
		rc = scan_rows(t, &s, err);
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		struct erase_req one = *q;
		one.ref = f[i].ref;
		memset(res, 0, sizeof(*res));
		if (f[i].busy) {
			b->busy++;
			continue;
		}
		res->has_record = true; /* known: the first loop found it */
		if ((rc = erase_after(t, &one, &f[i], &k, res, err)) == 0) {
			b->erased++;
			b->outbox += res->outbox;
			b->inbox += res->inbox;
		}
	}
	for (size_t i = 0; i < s.n; i++)
		found_free(&f[i]);
	free(f);
	free(res);
	return rc;
}

int
erase_late(struct vault_txn *t, const uint8_t msgid[16], struct sira_err *err)
{
	struct found f = { .ref = "" };
	int rc;

	rc = vault_scrub(t, VT_INBOX, bytes_of(msgid, 16), err);
	if (rc == -SIRA_ENOTFOUND) {
		sira_err_clear(err);
		return 0;
	}
	if (rc == 0 && (rc = add_file(&f, ITEM_DOCS, msgid, 16)) != 0)
		rc = sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (rc == 0 && (rc = list_files(t, &f, err)) == 0)
		rc = vault_compact_want(t, err);
	found_free(&f);
	return rc;
}

int
erase_case_in(struct vault_txn *t, const struct erase_req *q,
    struct erase_result *res, struct sira_err *err)
{
	memset(res, 0, sizeof(*res));
	return erase_in(t, q, res, err);
}

int
erase_case(struct agent *a, const struct erase_req *q, struct erase_result *res,
    struct sira_err *err)
{
	struct vault_txn *t = NULL;
	int rc;

	if ((rc = vault_begin(a->vault, true, &t, err)) != 0)
		return rc;
	if ((rc = erase_case_in(t, q, res, err)) == 0)
		rc = vault_commit(&t, err);
	vault_abort(&t);
	if (rc == 0)
		erase_files(a, &res->files);
	return rc;
}

/* Overwrite a plain file with zeros, fsync, unlink. Weak on SSDs and
 * copy-on-write file systems (docs/SECURITY.md); the unlink is what
 * counts. Returns 1 when a file was removed. */
static int
wipe_file(const char *path)
{
	static const uint8_t zero[8192];
	struct stat st;
	off_t left;
	int fd;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return unlink(path) == 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		for (left = st.st_size; left > 0;) {
			size_t n = left > (off_t)sizeof(zero) ? sizeof(zero) :
								(size_t)left;
			ssize_t w = write(fd, zero, n);
			if (w <= 0)
				break;
			left -= w;
		}
		(void)fsync(fd);
	}
	(void)close(fd);
	return unlink(path) == 0;
}

/* Wipe every plain file of dir, then dir itself. */
static size_t
wipe_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			(int)sizeof(path))
			continue;
		n += (size_t)wipe_file(path);
	}
	(void)closedir(d);
	(void)rmdir(dir);
	return n;
}

static size_t
wipe_item(const struct home *h, const uint8_t *item)
{
	char path[PATH_MAX];
	size_t n = 0;

	switch (item[0]) {
	case ITEM_SPOOL:
		if (docs_spool_dir(h, item + 1, path, NULL) == 0)
			n += wipe_dir(path);
		break;
	case ITEM_DOCS:
		if (docs_message_dir(h, item + 1, false, path, NULL) == 0)
			n += wipe_dir(path);
		if (docs_message_dir(h, item + 1, true, path, NULL) == 0)
			n += wipe_dir(path);
		break;
	case ITEM_BLOB:
		if (docs_incoming_path(h, item + 1, true, path, NULL) == 0)
			n += (size_t)wipe_file(path);
		if (docs_incoming_path(h, item + 1, false, path, NULL) == 0)
			n += (size_t)wipe_file(path);
		break;
	default:
		break;
	}
	return n;
}

void
erase_files(struct agent *a, size_t *wiped)
{
	struct bytes name = bytes_of(FILES_ROW, sizeof(FILES_ROW) - 1);
	struct vault_txn *t = NULL;
	uint8_t *list = NULL;
	size_t len = 0, n = 0;

	if (vault_begin(a->vault, true, &t, NULL) != 0)
		return;
	if (vault_get(t, VT_META, name, &list, &len, NULL) != 0) {
		vault_abort(&t);
		return;
	}
	for (size_t i = 0; i + ITEM_LEN <= len; i += ITEM_LEN)
		n += wipe_item(&a->home, list + i);
	vault_free(list, len);
	if (vault_scrub(t, VT_META, name, NULL) == 0 &&
	    vault_commit(&t, NULL) != 0)
		log_event(
		    LOG_WARN, "case.erase_list", "kept=for the next erasure");
	vault_abort(&t);
	if (wiped != NULL)
		*wiped += n;
}
