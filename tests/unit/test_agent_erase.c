/*
 * test_agent_erase.c: erasure on a real vault (agents/store/casekeys.c,
 * vault_compact.c, agents/workflow/erase.c). A case's record is sealed
 * under its own key; an older record without one still reads and gets a
 * key at its next save. Erasing a case scrubs its record, its outbox and
 * inbox entries and its key, and wipes its received documents, while
 * another case stays whole; afterwards no table of the vault, decrypted
 * row by row, holds the case's marker or reference, the audit chain still
 * verifies, the case cannot be written again, and after compaction the
 * data file holds none of the sealed bytes the case's rows had. A legal
 * hold refuses erasure; compaction waits while another process has the
 * vault open. The validator of erasure orders refuses what is out of
 * bounds. status's tally counts every erased case's orders, unanswered
 * and refused.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <sys/file.h>

#include "agent_fixture.h"

#include "documents/documents.h"
#include "fileio.h"
#include "workflow/workflow.h"
#include "wire.h"

#define REF "MRN-2026-0042"
#define KEEP "MRN-2026-0077"
#define MARK "ZZMARKER-AMINATA-7731"
#define MARK_KEEP "ZZKEEP-OUMOU-5521"

struct world {
	struct fx *fx;
	struct agent a;
	char home[600], vdir[700];
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
w_open(struct world *w)
{
	assert_int_equal(vault_open(w->vdir, w->fx->police.keys, 1ull << 26,
			     &w->a.vault, NULL),
	    0);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->fx = fx_new());
	(void)snprintf(w->home, sizeof(w->home), "%s/home", w->fx->dir);
	assert_int_equal(mkdir(w->home, 0700), 0);
	(void)snprintf(w->a.home.dir, sizeof(w->a.home.dir), "%s", w->home);
	(void)snprintf(w->vdir, sizeof(w->vdir), "%s/vault", w->home);
	w->a.me = w->fx->police.cert;
	w->a.keys = w->fx->police.keys;
	w->a.ca = w->fx->ca;
	w_open(w);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	vault_close(&w->a.vault);
	(void)nftw(w->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	fx_free(w->fx);
	free(w);
	return 0;
}

/* A case ref with a record whose referral carries marker, a leg to the
 * ngo, an outbox entry and an inbox entry (with a document on disk). */
static void
make_case(
    struct world *w, const char *ref, const char *marker, uint8_t inbox_id[16])
{
	Sira__V1__InboxEntry in = SIRA__V1__INBOX_ENTRY__INIT;
	Sira__V1__DocIn doc = SIRA__V1__DOC_IN__INIT, *docs[1] = { &doc };
	Sira__V1__CaseLeg leg = SIRA__V1__CASE_LEG__INIT, *legs[1] = { &leg };
	const char *to[1] = { "ml.ngo.espoir" };
	Sira__V1__CaseRecord *r;
	struct vault_txn *t = NULL;
	char path[PATH_MAX + 32], dir[PATH_MAX];
	uint8_t id[16], *buf;
	size_t len;
	FILE *f;

	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	assert_non_null(r = cases_new(ref, FX_NOW));
	r->referral.data = (uint8_t *)strdup(marker);
	r->referral.len = strlen(marker);
	leg.from = (char *)(uintptr_t)w->a.me->agency_id;
	leg.to = (char *)(uintptr_t)to[0];
	r->n_legs = 1;
	r->legs = legs;
	assert_int_equal(cases_save(t, r, FX_NOW, NULL), 0);
	r->n_legs = 0;
	r->legs = NULL;
	sira__v1__case_record__free_unpacked(r, NULL);
	assert_int_equal(
	    book_queue(t,
		&(struct outgoing){ to, 1, 1, "sira.referral.v1", ref,
		    bytes_of(marker, strlen(marker)), 3600, NULL },
		FX_NOW, id, NULL),
	    0);
	randombytes_buf(inbox_id, 16);
	in.message_id.data = inbox_id;
	in.message_id.len = 16;
	in.sender = (char *)(uintptr_t)to[0];
	in.case_ref = (char *)(uintptr_t)ref;
	in.payload.data = (uint8_t *)(uintptr_t)marker;
	in.payload.len = strlen(marker);
	assert_int_equal(
	    docs_message_dir(&w->a.home, inbox_id, false, dir, NULL), 0);
	assert_int_equal(docs_mkdirs(&w->a.home, dir, NULL), 0);
	(void)snprintf(path, sizeof(path), "%s/0-rapport.txt", dir);
	assert_non_null(f = fopen(path, "w"));
	(void)fprintf(f, "%s\n", marker);
	(void)fclose(f);
	doc.name = (char *)"rapport.txt";
	doc.path = path;
	in.n_docs = 1;
	in.docs = docs;
	assert_int_equal(wire_pack(&in.base, &buf, &len, NULL), 0);
	assert_int_equal(
	    vault_put(t, VT_INBOX, bytes_of(inbox_id, 16), buf, len, NULL), 0);
	free(buf);
	assert_int_equal(book_audit(t, FX_NOW,
			     &(struct audit_event){
				 .action = "case.view", .subject = "viewed" },
			     NULL),
	    0);
	assert_int_equal(vault_commit(&t, NULL), 0);
}

static bool
find(const uint8_t *p, size_t n, const void *s, size_t sl)
{
	for (size_t i = 0; sl > 0 && i + sl <= n; i++)
		if (p[i] == *(const uint8_t *)s && memcmp(p + i, s, sl) == 0)
			return true;
	return false;
}

static bool
has(const uint8_t *p, size_t n, const char *s)
{
	return find(p, n, s, strlen(s));
}

struct scan {
	size_t hits, rows;
	const char *needle[2];
};

static int
scan_row(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct scan *s = ctx;

	s->rows++;
	for (int i = 0; i < 2; i++)
		if (has(k, kl, s->needle[i]) || has(v, vl, s->needle[i]))
			s->hits++;
	return 0;
}

/* Rows of every table, decrypted, that hold marker or ref. */
static size_t
scan_vault(struct world *w, const char *marker, const char *ref, size_t *rows)
{
	struct scan s = { 0, 0, { marker, ref } };
	struct vault_txn *t = NULL;

	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	for (int i = 0; i < VT_COUNT; i++)
		assert_int_equal(
		    vault_each(t, (enum vault_table)i, scan_row, &s, NULL), 0);
	vault_abort(&t);
	if (rows != NULL)
		*rows = s.rows;
	return s.hits;
}

static int
do_erase(struct world *w, const char *ref, struct erase_result *res)
{
	struct sira_err err = { 0 };
	struct erase_req q = { .ref = ref,
		.reason = "demande de la victime",
		.me = w->a.me->agency_id,
		.now = FX_NOW + 100 };

	return erase_case(&w->a, &q, res, &err);
}

static void
test_case_key_seals_record(void **state)
{
	struct world *w = *state;
	Sira__V1__CaseRecord *r = NULL;
	struct vault_txn *t = NULL;
	struct casekey k;
	uint8_t blind[32], id[16], *v;
	size_t len;

	make_case(w, REF, MARK, id);
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	vault_blind(t, "case", REF, blind);
	assert_int_equal(casekey_get(t, blind, false, &k, NULL), 0);
	assert_int_equal(k.state, CASEKEY_LIVE);
	assert_int_equal(
	    vault_get(t, VT_CASES, bytes_of(blind, 32), &v, &len, NULL), 0);
	assert_true(casekey_sealed(v, len));
	assert_false(has(v, len, MARK)); /* sealed again under the case key */
	vault_free(v, len);
	assert_int_equal(cases_load(t, REF, &r, NULL), 0);
	assert_int_equal(r->referral.len, strlen(MARK));
	assert_memory_equal(r->referral.data, MARK, strlen(MARK));
	sira__v1__case_record__free_unpacked(r, NULL);
	vault_abort(&t);
}

/* A record stored before case keys: read as is, sealed at next save. */
static void
test_old_record_gets_a_key(void **state)
{
	struct world *w = *state;
	Sira__V1__CaseRecord *r;
	struct vault_txn *t = NULL;
	struct casekey k;
	uint8_t blind[32], *buf, *v;
	size_t len, vlen;

	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	vault_blind(t, "case", KEEP, blind);
	assert_non_null(r = cases_new(KEEP, FX_NOW));
	assert_int_equal(wire_pack(&r->base, &buf, &len, NULL), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
	assert_int_equal(
	    vault_put(t, VT_CASES, bytes_of(blind, 32), buf, len, NULL), 0);
	free(buf);
	assert_int_equal(cases_load(t, KEEP, &r, NULL), 0);
	assert_int_equal(casekey_get(t, blind, false, &k, NULL), 0);
	assert_int_equal(k.state, CASEKEY_NONE);
	assert_int_equal(cases_save(t, r, FX_NOW + 1, NULL), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
	assert_int_equal(casekey_get(t, blind, false, &k, NULL), 0);
	assert_int_equal(k.state, CASEKEY_LIVE);
	assert_int_equal(
	    vault_get(t, VT_CASES, bytes_of(blind, 32), &v, &vlen, NULL), 0);
	assert_true(casekey_sealed(v, vlen));
	vault_free(v, vlen);
	assert_int_equal(cases_load(t, KEEP, &r, NULL), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
	vault_abort(&t);
}

/* The raw LMDB value of row key in table name (vault closed). */
static size_t
raw_row(const char *dir, const char *name, const uint8_t *key, size_t klen,
    uint8_t *out, size_t max)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)(uintptr_t)key }, d;
	size_t n = 0;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	if (mdb_get(txn, dbi, &k, &d) == 0 && d.mv_size <= max) {
		memcpy(out, d.mv_data, d.mv_size);
		n = d.mv_size;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static bool
file_has(const char *path, const uint8_t *needle, size_t n)
{
	uint8_t *buf;
	size_t len;
	bool found;

	assert_int_equal(fileio_read(path, 1u << 30, &buf, &len, NULL), 0);
	found = find(buf, len, needle, n);
	free(buf);
	return found;
}

static void
test_erase_leaves_nothing(void **state)
{
	struct world *w = *state;
	struct erase_result res;
	struct vault_txn *t = NULL;
	Sira__V1__CaseRecord *r = NULL;
	uint8_t blind[32], id[16], keep_id[16], rawkey[256], rawrec[4096];
	char data[800], dir[PATH_MAX];
	size_t nkey, nrec, rows, n, bad;
	uint64_t audited, broken;
	struct stat st;

	make_case(w, REF, MARK, id);
	make_case(w, KEEP, MARK_KEEP, keep_id);
	/* Marker and reference in the outbox and the inbox entry (the record
	 * is sealed again under its case key: the scan sees no text in it). */
	assert_int_equal(scan_vault(w, MARK, REF, NULL), 4);
	assert_int_equal(vault_begin(w->a.vault, false, &t, NULL), 0);
	vault_blind(t, "case", REF, blind);
	vault_abort(&t);
	vault_close(&w->a.vault);
	nkey = raw_row(w->vdir, "casekeys", blind, 32, rawkey, sizeof(rawkey));
	nrec = raw_row(w->vdir, "cases", blind, 32, rawrec, sizeof(rawrec));
	assert_true(nkey > 32 && nrec > 32);
	w_open(w);

	assert_int_equal(do_erase(w, REF, &res), 0);
	assert_false(res.already);
	assert_int_equal(res.outbox, 1);
	assert_int_equal(res.inbox, 1);
	assert_int_equal(res.n_peers, 1);
	assert_string_equal(res.peers[0], "ml.ngo.espoir");
	/* Every table, every row, decrypted: the case is gone. */
	assert_int_equal(scan_vault(w, MARK, REF, &rows), 0);
	assert_true(rows > 5);
	assert_int_equal(scan_vault(w, MARK_KEEP, KEEP, NULL), 4);
	assert_int_equal(docs_message_dir(&w->a.home, id, false, dir, NULL), 0);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(
	    docs_message_dir(&w->a.home, keep_id, false, dir, NULL), 0);
	assert_int_equal(stat(dir, &st), 0);
	/* The chain still verifies; the case cannot come back. */
	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	assert_int_equal(book_audit_verify(t, &audited, &broken, NULL), 0);
	assert_int_equal(broken, 0);
	assert_true(audited >= 5);
	assert_int_equal(cases_load(t, REF, &r, NULL), -SIRA_ESTATE);
	assert_non_null(r = cases_new(REF, FX_NOW));
	assert_int_equal(cases_save(t, r, FX_NOW, NULL), -SIRA_ESTATE);
	sira__v1__case_record__free_unpacked(r, NULL);
	vault_abort(&t);
	/* Again: the same answer, nothing done. */
	assert_int_equal(do_erase(w, REF, &res), 0);
	assert_true(res.already);
	assert_int_equal(res.erased_at, FX_NOW + 100);
	assert_true(vault_compact_wanted(w->a.vault));

	/* Before compaction the freed pages still hold the case's sealed
	 * bytes (what the issue is about); after it, none of them. */
	(void)snprintf(data, sizeof(data), "%s/data.mdb", w->vdir);
	bad = 0;
	for (size_t off = 0; off + 24 <= nrec; off += 24)
		bad += file_has(data, rawrec + off, 24);
	assert_true(bad > 0);
	assert_int_equal(vault_compact(w->a.vault, NULL), 0);
	assert_false(vault_compact_wanted(w->a.vault));
	n = 0;
	bad = 0;
	for (size_t off = 0; off + 24 <= nkey; off += 24, n++)
		bad += file_has(data, rawkey + off, 24);
	for (size_t off = 0; off + 24 <= nrec; off += 24, n++)
		bad += file_has(data, rawrec + off, 24);
	assert_true(n > 2);
	assert_int_equal(bad, 0);
	/* The vault works on: the other case reads, writes commit. */
	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	assert_int_equal(cases_load(t, KEEP, &r, NULL), 0);
	assert_int_equal(cases_save(t, r, FX_NOW + 200, NULL), 0);
	sira__v1__case_record__free_unpacked(r, NULL);
	assert_int_equal(book_audit_verify(t, &audited, &broken, NULL), 0);
	assert_int_equal(broken, 0);
	assert_int_equal(vault_commit(&t, NULL), 0);
	vault_close(&w->a.vault);
	w_open(w);
	assert_int_equal(scan_vault(w, MARK_KEEP, KEEP, NULL), 4);
	assert_int_equal(scan_vault(w, MARK, REF, NULL), 0);
}

static void
test_hold_refuses(void **state)
{
	struct world *w = *state;
	Sira__V1__LegalHold hold = SIRA__V1__LEGAL_HOLD__INIT;
	Sira__V1__CaseRecord *r = NULL;
	struct erase_result res;
	struct vault_txn *t = NULL;
	struct sira_err err = { 0 };
	struct erase_req q = { .ref = REF,
		.reason = "x",
		.me = w->a.me->agency_id,
		.now = FX_NOW };
	uint8_t id[16];

	make_case(w, REF, MARK, id);
	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	assert_int_equal(cases_load(t, REF, &r, NULL), 0);
	hold.by = (char *)"ml.justice.bamako";
	hold.basis = (char *)"instruction 12/2026";
	r->hold = &hold;
	assert_int_equal(cases_save(t, r, FX_NOW, NULL), 0);
	r->hold = NULL;
	sira__v1__case_record__free_unpacked(r, NULL);
	assert_int_equal(vault_commit(&t, NULL), 0);
	assert_int_equal(erase_case(&w->a, &q, &res, &err), -SIRA_EDENIED);
	assert_non_null(strstr(err.msg, "ml.justice.bamako"));
	assert_non_null(strstr(err.msg, "instruction 12/2026"));
	assert_int_equal(scan_vault(w, MARK, REF, NULL), 4);
	assert_false(vault_compact_wanted(w->a.vault));
}

static void
test_compact_waits_for_others(void **state)
{
	struct world *w = *state;
	struct erase_result res;
	char lock[800];
	uint8_t id[16];
	int fd;

	make_case(w, REF, MARK, id);
	assert_int_equal(do_erase(w, REF, &res), 0);
	(void)snprintf(lock, sizeof(lock), "%s/compact.lock", w->vdir);
	assert_true((fd = open(lock, O_RDWR)) >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0); /* another process */
	assert_int_equal(vault_compact(w->a.vault, NULL), -SIRA_ESTATE);
	assert_true(vault_compact_wanted(w->a.vault));
	(void)close(fd);
	assert_int_equal(vault_compact(w->a.vault, NULL), 0);
	assert_false(vault_compact_wanted(w->a.vault));
	assert_int_equal(scan_vault(w, MARK, REF, NULL), 0);
}

static void
test_unknown_case(void **state)
{
	struct world *w = *state;
	struct erase_result res;

	assert_int_equal(do_erase(w, "MRN-NONE-1", &res), -SIRA_ENOTFOUND);
	assert_false(vault_compact_wanted(w->a.vault));
}

/* The validator of orders (the parser the fuzzer drives): in bounds or
 * refused, the body matching the kind. */
static int
order_rc(int kind, const uint8_t *id, size_t idlen, const char *ref, int action,
    const char *reason)
{
	Sira__V1__Payload p = SIRA__V1__PAYLOAD__INIT, *out = NULL;
	Sira__V1__ErasureOrder o = SIRA__V1__ERASURE_ORDER__INIT;
	uint8_t *buf;
	size_t len;
	int rc;

	o.order_id.data = (uint8_t *)(uintptr_t)id;
	o.order_id.len = idlen;
	o.case_ref = (char *)(uintptr_t)ref;
	o.action = (Sira__V1__ErasureAction)action;
	o.reason = (char *)(uintptr_t)reason;
	p.body_case = SIRA__V1__PAYLOAD__BODY_ERASURE_ORDER;
	p.erasure_order = &o;
	assert_int_equal(wire_pack(&p.base, &buf, &len, NULL), 0);
	rc = erase_msg_parse(kind, buf, len, &out, NULL);
	if (out != NULL)
		sira__v1__payload__free_unpacked(out, NULL);
	free(buf);
	return rc;
}

static void
test_order_validator(void **state)
{
	const int K = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE;
	const int R = SIRA__V1__MESSAGE_KIND__MESSAGE_KIND_ERASURE_RECEIPT;
	uint8_t id[16] = { 1 };

	(void)state;
	assert_int_equal(order_rc(K, id, 16, REF, 1, "demande"), 0);
	assert_int_equal(order_rc(K, id, 16, REF, 3, ""), 0); /* release */
	assert_int_equal(order_rc(K, id, 15, REF, 1, "x"), -SIRA_EMALFORMED);
	assert_int_equal(order_rc(K, id, 16, "", 1, "x"), -SIRA_EMALFORMED);
	assert_int_equal(order_rc(K, id, 16, REF, 4, "x"), -SIRA_EMALFORMED);
	assert_int_equal(order_rc(K, id, 16, REF, 1, ""), -SIRA_EMALFORMED);
	assert_int_equal(
	    order_rc(K, id, 16, REF, 1, "a\x1b[2J"), -SIRA_EMALFORMED);
	/* An order sent as a receipt's kind is refused. */
	assert_int_equal(order_rc(R, id, 16, REF, 1, "x"), -SIRA_EMALFORMED);
}

/* status's count of erasure orders: every erased case's ledger. */
static void
test_tally(void **state)
{
	struct world *w = *state;
	Sira__V1__ErasureProof p[3], *pp[3] = { &p[0], &p[1], &p[2] };
	Sira__V1__ErasureLedger l = SIRA__V1__ERASURE_LEDGER__INIT;
	struct erase_tally y;
	struct vault_txn *t = NULL;
	uint8_t blind[2][32], *buf;
	size_t len;

	for (int i = 0; i < 3; i++) {
		sira__v1__erasure_proof__init(&p[i]);
		p[i].agency = (char *)"ml.ngo.espoir";
	}
	p[1].outcome = SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_ERASED;
	p[2].outcome = SIRA__V1__ERASURE_OUTCOME__ERASURE_OUTCOME_HELD;
	l.n_proofs = 3;
	l.proofs = pp;
	assert_int_equal(wire_pack(&l.base, &buf, &len, NULL), 0);
	assert_int_equal(vault_begin(w->a.vault, true, &t, NULL), 0);
	vault_blind(t, "case", REF, blind[0]);
	vault_blind(t, "case", KEEP, blind[1]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		    casekey_tombstone(t, blind[i], FX_NOW, NULL), 0);
	assert_int_equal(casekey_ledger_put(t, blind[0], buf, len, NULL), 0);
	free(buf);
	assert_int_equal(erase_tally(t, &y, NULL), 0);
	vault_abort(&t);
	assert_int_equal(y.erased, 2); /* one erased with no order sent */
	assert_int_equal(y.orders, 3);
	assert_int_equal(y.awaited, 1);
	assert_int_equal(y.refused, 1);
	assert_int_equal(y.damaged, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_case_key_seals_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_old_record_gets_a_key, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_erase_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_hold_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_compact_waits_for_others, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tally, setup, teardown),
		cmocka_unit_test(test_order_validator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
