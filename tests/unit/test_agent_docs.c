/*
 * test_agent_docs.c: queueing documents with an outbox entry
 * (agents/documents/docs_out.c) on a real vault in a fresh mkdtemp() home: the
 * spool round trip (encrypted at rest, the original may go away), the size
 * limit at its edge and one past it, refusal of directories, FIFOs, missing and
 * unnamed files, too many documents and entries already sealed; name
 * sanitizing; and re-encryption of a spool into a blob (attach_reseal),
 * including a damaged spool. Tests assert exact codes, never messages.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "documents/documents.h"
#include "sign.h"

#define MARKER "MARKER-Fatoumata-Keita-0077"
#define LIMIT (1u << 20)

struct fx {
	char dir[64];
	struct agent a;
	uint8_t id[16];
};

static void
rm_rf(const char *path)
{
	char cmd[256];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char vdir[128];

	assert_non_null(fx);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/sira-docs.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->a.home.dir, sizeof(fx->a.home.dir), "%s", fx->dir);
	fx->a.home.attach_max = LIMIT;
	assert_non_null(fx->a.keys = keys_new());
	sign_keygen(fx->a.keys->sign_pk, fx->a.keys->sign_sk);
	(void)snprintf(vdir, sizeof(vdir), "%s/vault", fx->dir);
	assert_int_equal(
	    vault_open(vdir, fx->a.keys, 64u << 20, &fx->a.vault, NULL), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	vault_close(&fx->a.vault);
	keys_destroy(&fx->a.keys);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* A file in the home's directory with len bytes: MARKER, then a pattern. */
static void
make_file(const struct fx *fx, const char *name, size_t len, char *path)
{
	FILE *f;

	(void)snprintf(path, 256, "%s/%s", fx->dir, name);
	assert_non_null(f = fopen(path, "wb"));
	for (size_t i = 0; i < len; i++)
		(void)fputc(
		    i < sizeof(MARKER) - 1 ? MARKER[i] : (int)(i % 251), f);
	assert_int_equal(fclose(f), 0);
}

/* Queue a note and attach paths in one transaction; commit only on 0. */
static int
queue(struct fx *fx, const char *const *paths, size_t n, struct sira_err *err)
{
	const char *to[1] = { "ml.ngo.espoir" };
	struct vault_txn *t = NULL;
	int rc;

	sira_err_clear(err);
	assert_int_equal(vault_begin(fx->a.vault, true, &t, NULL), 0);
	assert_int_equal(book_queue(t,
			     &(struct outgoing){ to, 1, 1, "sira.note.v1", "",
				 bytes_of(NULL, 0), 3600, NULL },
			     1772409600, fx->id, NULL),
	    0);
	if ((rc = outbox_attach(&fx->a, t, fx->id, paths, n, err)) == 0)
		assert_int_equal(vault_commit(&t, NULL), 0);
	vault_abort(&t);
	return rc;
}

static Sira__V1__OutboxEntry *
entry(struct fx *fx)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(fx->a.vault, false, &t, NULL), 0);
	assert_int_equal(book_get_out(t, fx->id, &e, NULL), 0);
	vault_abort(&t);
	return e;
}

static size_t
n_outbox(struct fx *fx)
{
	Sira__V1__OutboxEntry *e = NULL;
	struct vault_txn *t = NULL;
	int rc;

	assert_int_equal(vault_begin(fx->a.vault, false, &t, NULL), 0);
	rc = book_get_out(t, fx->id, &e, NULL);
	vault_abort(&t);
	if (e != NULL)
		sira__v1__outbox_entry__free_unpacked(e, NULL);
	return rc == 0 ? 1 : 0;
}

static bool
file_has(const char *path, const char *needle)
{
	uint8_t buf[1 << 16];
	size_t n, len = strlen(needle);
	FILE *f = fopen(path, "rb");
	bool found = false;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	for (size_t i = 0; i + len <= n && !found; i++)
		found = memcmp(buf + i, needle, len) == 0;
	return found;
}

static void
spool_of(const Sira__V1__OutboxEntry *e, uint32_t i, struct attach_spool *sp)
{
	const Sira__V1__DocOut *d = e->docs[i];

	memset(sp, 0, sizeof(*sp));
	sp->key = d->spool_key.data;
	sp->msgid = e->local_id.data;
	sp->index = i;
	memcpy(sp->info.blob_id, d->spool_blob_id.data, 32);
	sp->info.ct_len = d->spool_ct_len;
	memcpy(sp->info.plaintext_sha256, d->plaintext_sha256.data, 32);
	sp->info.plaintext_len = d->size;
	sp->info.chunk_size = d->chunk_size;
	sp->fd = -1;
}

static void
test_spool_round_trip(void **state)
{
	struct fx *fx = *state;
	char src[256], spool[PATH_MAX], out[PATH_MAX], cmd[PATH_MAX + 256];
	const char *paths[1] = { src };
	struct attach_spool sp;
	struct sira_err err;
	Sira__V1__OutboxEntry *e;

	make_file(fx, "Rapport médical.pdf", 200000, src);
	(void)snprintf(cmd, sizeof(cmd), "cp '%s' '%s/orig'", src, fx->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(queue(fx, paths, 1, &err), 0);
	assert_int_equal(unlink(src), 0); /* the user deletes the original */
	e = entry(fx);
	assert_int_equal(e->n_docs, 1);
	assert_string_equal(e->docs[0]->name, "Rapport médical.pdf");
	assert_string_equal(e->docs[0]->media_type, "application/pdf");
	assert_int_equal(e->docs[0]->size, 200000);
	assert_int_equal(e->docs[0]->spool_key.len, 32);
	assert_false(e->docs[0]->complete);
	assert_int_equal(
	    docs_spool_path(&fx->a.home, fx->id, 0, "spool", spool, NULL), 0);
	assert_false(file_has(spool, MARKER)); /* encrypted at rest */
	spool_of(e, 0, &sp);
	(void)snprintf(out, sizeof(out), "%s/back", fx->dir);
	assert_int_equal(
	    attach_open_to_path(&(struct attach_key){ sp.key, sp.msgid, 0 },
		&sp.info, spool, out, NULL),
	    0);
	(void)snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s/orig'", out, fx->dir);
	assert_int_equal(system(cmd), 0);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

static void
test_limit_edge(void **state)
{
	struct fx *fx = *state;
	char at[256], over[256];
	const char *p_at[1] = { at }, *p_over[1] = { over };
	struct sira_err err;

	make_file(fx, "at.bin", LIMIT, at);
	make_file(fx, "over.bin", LIMIT + 1, over);
	assert_int_equal(queue(fx, p_over, 1, &err), -SIRA_ETOOBIG);
	assert_int_equal(err.code, SIRA_ETOOBIG);
	assert_int_equal(n_outbox(fx), 0); /* aborted: nothing queued */
	assert_int_equal(queue(fx, p_at, 1, &err), 0);
	assert_int_equal(n_outbox(fx), 1);
}

static void
test_not_documents(void **state)
{
	struct fx *fx = *state;
	char dir[256], fifo[256], missing[256];
	const char *p[1];
	struct sira_err err;

	(void)snprintf(dir, sizeof(dir), "%s/adir", fx->dir);
	(void)snprintf(fifo, sizeof(fifo), "%s/fifo", fx->dir);
	(void)snprintf(missing, sizeof(missing), "%s/none.pdf", fx->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	p[0] = dir;
	assert_int_equal(queue(fx, p, 1, &err), -SIRA_EINVAL);
	p[0] = fifo; /* must not block waiting for a writer */
	assert_int_equal(queue(fx, p, 1, &err), -SIRA_EINVAL);
	p[0] = missing;
	assert_int_equal(queue(fx, p, 1, &err), -SIRA_ENOTFOUND);
	p[0] = "";
	assert_int_equal(queue(fx, p, 1, &err), -SIRA_EINVAL);
	assert_int_equal(n_outbox(fx), 0);
}

static void
test_count_and_state(void **state)
{
	struct fx *fx = *state;
	const char *paths[SIRA_ATTACHMENTS_MAX + 1];
	char one[256];
	struct sira_err err;
	Sira__V1__OutboxEntry *e;
	struct vault_txn *t = NULL;

	make_file(fx, "one.txt", 10, one);
	for (size_t i = 0; i <= SIRA_ATTACHMENTS_MAX; i++)
		paths[i] = one;
	assert_int_equal(
	    queue(fx, paths, SIRA_ATTACHMENTS_MAX + 1, &err), -SIRA_ETOOBIG);
	assert_int_equal(queue(fx, paths, 2, &err), 0);
	e = entry(fx);
	assert_int_equal(e->n_docs, 2);
	/* Once sealed, an entry takes no more documents. */
	e->state = SIRA__V1__OUTBOX_STATE__OUTBOX_STATE_SEALED;
	assert_int_equal(vault_begin(fx->a.vault, true, &t, NULL), 0);
	assert_int_equal(book_put_out(t, e, 1, NULL), 0);
	assert_int_equal(
	    outbox_attach(&fx->a, t, fx->id, paths, 1, &err), -SIRA_ESTATE);
	vault_abort(&t);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

static void
expect_name(const char *in, const char *want)
{
	char out[SIRA_FILENAME_MAX + 1];

	docs_name_safe(in, out);
	assert_string_equal(out, want);
	assert_true(manifest_filename_valid(out));
}

static void
test_names(void **state)
{
	char longname[400], out[SIRA_FILENAME_MAX + 1];

	(void)state;
	expect_name("/home/x/Rapport médical.pdf", "Rapport médical.pdf");
	expect_name("a\x1b[31mb.txt", "a_[31mb.txt");
	expect_name("facture\xe2\x80\xae"
		    "fdp.exe",
	    "facture_fdp.exe");
	expect_name("bad\xff\xfe.jpg", "bad__.jpg");
	expect_name("line\nbreak", "line_break");
	expect_name(".bashrc", "_bashrc");
	expect_name("dir/", "document");
	expect_name("", "document");
	expect_name(".", "document");
	expect_name("..", "document");
	memset(longname, 'a', 254);
	memcpy(longname + 254, "\xc3\xa9.pdf", 7); /* é at the boundary */
	docs_name_safe(longname, out);
	assert_int_equal(strlen(out), 254);
	assert_true(manifest_filename_valid(out));
	memset(longname, 'b', 399);
	longname[399] = '\0';
	docs_name_safe(longname, out);
	assert_int_equal(strlen(out), SIRA_FILENAME_MAX);
	assert_string_equal(docs_media_type("SCAN.PDF"), "application/pdf");
	assert_string_equal(docs_media_type("x.jpeg"), "image/jpeg");
	assert_string_equal(
	    docs_media_type("noext"), "application/octet-stream");
}

/* Reseal the spool of document 0 into path; the blob's info in *info. */
static int
reseal(struct fx *fx, const Sira__V1__OutboxEntry *e, const uint8_t *key,
    const uint8_t *msgid, const char *path, struct attach_info *info)
{
	char spool[PATH_MAX];
	struct attach_spool sp;
	int in, out, rc;

	spool_of(e, 0, &sp);
	assert_int_equal(
	    docs_spool_path(&fx->a.home, fx->id, 0, "spool", spool, NULL), 0);
	assert_true((in = open(spool, O_RDONLY)) >= 0);
	assert_true(
	    (out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	sp.fd = in;
	rc = attach_reseal(
	    &sp, &(struct attach_key){ key, msgid, 0 }, out, info, NULL);
	(void)close(in);
	(void)close(out);
	return rc;
}

static void
test_reseal(void **state)
{
	struct fx *fx = *state;
	char src[256], blob[PATH_MAX], back[PATH_MAX], spool[PATH_MAX];
	const char *paths[1] = { src };
	uint8_t key[32], msgid[16];
	const struct attach_key ak = { key, msgid, 0 };
	struct attach_info info;
	Sira__V1__OutboxEntry *e;
	FILE *f;
	int c;

	make_file(fx, "photo.jpg", 3 * 65536 + 123, src);
	assert_int_equal(queue(fx, paths, 1, NULL), 0);
	e = entry(fx);
	attach_keygen(key);
	randombytes_buf(msgid, sizeof(msgid));
	(void)snprintf(blob, sizeof(blob), "%s/blob", fx->dir);
	(void)snprintf(back, sizeof(back), "%s/back.jpg", fx->dir);
	assert_int_equal(reseal(fx, e, key, msgid, blob, &info), 0);
	assert_int_equal(info.plaintext_len, 3 * 65536 + 123);
	assert_memory_equal(
	    info.plaintext_sha256, e->docs[0]->plaintext_sha256.data, 32);
	assert_false(file_has(blob, MARKER));
	/* The blob opens under the new key, to the original bytes. */
	assert_int_equal(attach_open_to_path(&ak, &info, blob, back, NULL), 0);
	assert_true(file_has(back, MARKER));
	/* A damaged spool is refused, and not re-encrypted. */
	assert_int_equal(
	    docs_spool_path(&fx->a.home, fx->id, 0, "spool", spool, NULL), 0);
	assert_non_null(f = fopen(spool, "r+b"));
	assert_int_equal(fseek(f, 70000, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseek(f, 70000, SEEK_SET), 0);
	assert_int_equal(fputc(c ^ 1, f), c ^ 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(reseal(fx, e, key, msgid, blob, &info), -SIRA_EAUTH);
	sira__v1__outbox_entry__free_unpacked(e, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_spool_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_limit_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_count_and_state, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_reseal, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
