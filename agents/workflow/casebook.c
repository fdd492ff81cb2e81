/*
 * casebook.c: case records in the vault (table VT_CASES). The row key is
 * vault_blind("case", case_ref), so the store never shows a case
 * reference; the value is the packed CaseRecord sealed under the case's
 * own key (store/casekeys.c), then encrypted by the vault like every
 * other value: erasing the case key makes any copy of the record that
 * LMDB left behind unreadable. A record written before case keys existed
 * is read as it is and sealed at its next save. Every function works
 * inside the caller's transaction, so a case step commits with the
 * message that carries it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "workflow/workflow.h"
#include "wire.h"
#include "i18n.h"

#define CASE_PURPOSE "case"

/* A case reference: 1 to 64 of A-Z a-z 0-9 - _ / (workflow.h). Here, with
 * the records it names, so that every file of the room may check one. */
bool
workflow_ref_valid(const char *ref)
{
	size_t len = strlen(ref);

	if (len == 0 || len > SIRA_CASE_REF_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = ref[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
			(c >= 'a' && c <= 'z') || strchr("-_/", c) != NULL))
			return false;
	}
	return true;
}

/* A row of VT_CASES: our own bytes, authenticated by the vault; NULL when
 * damaged. The only decoder of case records. */
static Sira__V1__CaseRecord *
record_decode(const uint8_t *row, size_t len)
{
	return sira__v1__case_record__unpack(NULL, len, row);
}

/* A VT_CASES row with row key rk: opened under its case key when sealed
 * (or read as it is, for a record older than case keys); NULL when
 * damaged or when its key is gone. */
static Sira__V1__CaseRecord *
row_decode(struct vault_txn *t, const uint8_t *rk, size_t klen,
    const uint8_t *row, size_t len)
{
	Sira__V1__CaseRecord *r;
	struct casekey k;
	uint8_t *clear;
	size_t n;

	if (!casekey_sealed(row, len))
		return record_decode(row, len);
	if (klen != 32 || casekey_get(t, rk, false, &k, NULL) != 0)
		return NULL;
	if (casekey_open(&k, row, len, &clear, &n, NULL) != 0) {
		casekey_wipe(&k);
		return NULL;
	}
	casekey_wipe(&k);
	r = record_decode(clear, n);
	vault_free(clear, n);
	return r;
}

/* -SIRA_ESTATE when case_ref was erased here (its tombstone), else 0. */
static int
check_erased(struct vault_txn *t, const uint8_t key[32], const char *case_ref,
    struct sira_err *err)
{
	struct casekey k;
	int rc;

	if ((rc = casekey_get(t, key, false, &k, err)) != 0)
		return rc;
	casekey_wipe(&k);
	if (k.state == CASEKEY_ERASED)
		return sira_err_set(err, SIRA_ESTATE,
		    _("case %s was erased in this agency"), case_ref);
	return 0;
}

int
cases_load(struct vault_txn *t, const char *case_ref,
    Sira__V1__CaseRecord **out, struct sira_err *err)
{
	uint8_t key[32], *v;
	size_t len;
	int rc;

	*out = NULL;
	vault_blind(t, CASE_PURPOSE, case_ref, key);
	if ((rc = vault_get(t, VT_CASES, bytes_of(key, sizeof(key)), &v, &len,
		 NULL)) == -SIRA_ENOTFOUND) {
		if ((rc = check_erased(t, key, case_ref, err)) != 0)
			return rc;
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("no case %s in this agency"), case_ref);
	}
	if (rc != 0)
		return sira_err_set(
		    err, -rc, _("case %s unreadable"), case_ref);
	*out = row_decode(t, key, sizeof(key), v, len);
	vault_free(v, len);
	if (*out == NULL || strcmp((*out)->case_ref, case_ref) != 0) {
		if (*out != NULL)
			sira__v1__case_record__free_unpacked(*out, NULL);
		*out = NULL;
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("case %s record damaged"), case_ref);
	}
	return 0;
}

int
cases_save(struct vault_txn *t, Sira__V1__CaseRecord *r, uint64_t now,
    struct sira_err *err)
{
	uint8_t key[32], *bytes, *sealed = NULL;
	size_t len, slen = 0;
	struct casekey k;
	int rc;

	if (now > r->updated_at)
		r->updated_at = now;
	vault_blind(t, CASE_PURPOSE, r->case_ref, key);
	if ((rc = casekey_get(t, key, true, &k, err)) != 0)
		return rc;
	if (k.state == CASEKEY_ERASED)
		return sira_err_set(err, SIRA_ESTATE,
		    _("case %s was erased in this agency"), r->case_ref);
	if ((rc = wire_pack(&r->base, &bytes, &len, err)) != 0) {
		casekey_wipe(&k);
		return rc;
	}
	rc = casekey_seal(&k, bytes, len, &sealed, &slen, err);
	casekey_wipe(&k);
	sodium_memzero(bytes, len);
	free(bytes);
	if (rc != 0)
		return rc;
	rc = vault_put(
	    t, VT_CASES, bytes_of(key, sizeof(key)), sealed, slen, err);
	free(sealed); /* ciphertext */
	return rc;
}

struct each {
	int (*fn)(void *, const Sira__V1__CaseRecord *);
	void *ctx;
	struct vault_txn *t;
};

static int
each_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct each *e = ctx;
	Sira__V1__CaseRecord *r;
	int rc;

	if ((r = row_decode(e->t, key, klen, val, vlen)) == NULL)
		return 0; /* a damaged row is skipped, never fatal */
	rc = e->fn(e->ctx, r);
	sira__v1__case_record__free_unpacked(r, NULL);
	return rc;
}

int
cases_each(struct vault_txn *t,
    int (*fn)(void *ctx, const Sira__V1__CaseRecord *r), void *ctx,
    struct sira_err *err)
{
	struct each e = { fn, ctx, t };

	return vault_each(t, VT_CASES, each_row, &e, err);
}

struct finder {
	const uint8_t *id;
	char ref[SIRA_CASE_REF_BUF];
	size_t n;
};

static int
find_row(void *ctx, const Sira__V1__CaseRecord *r)
{
	struct finder *f = ctx;

	if (cases_request_by_id(r, f->id) == NULL)
		return 0;
	if (f->n++ == 0)
		(void)strncpy(f->ref, r->case_ref, sizeof(f->ref) - 1);
	return 0;
}

int
cases_find_request(struct vault_txn *t, const uint8_t request_id[16],
    Sira__V1__CaseRecord **out, struct sira_err *err)
{
	struct finder f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.id = request_id;
	*out = NULL;
	if ((rc = cases_each(t, find_row, &f, err)) != 0)
		return rc;
	if (f.n == 0)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("no file request with that id was made to this agency"));
	/* One id on two cases: answering could send the wrong file. */
	if (f.n > 1)
		return sira_err_set(err, SIRA_ESTATE,
		    _("that request id names %zu cases; ask the prosecutor's "
		      "office to request again"),
		    f.n);
	return cases_load(t, f.ref, out, err);
}
