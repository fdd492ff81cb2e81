/*
 * casekeys.c: the per-case keys (store.h). Row key: the case's blinded
 * reference (the same as its VT_CASES row), value sealed by the vault:
 *   1 || key(32)          a live case
 *   2 || be64(erased_at) || ErasureLedger
 *                         an erased case (tombstone: when, and the
 *                         orders and receipts of its erasure; no content)
 * Values sealed under a case key are CASEKEY_MAGIC || nonce(24) ||
 * crypto_secretbox(value): the magic cannot begin a packed CaseRecord
 * ('S' would be field 10 as a group, which proto3 never writes), so a
 * record stored before case keys existed is told from a sealed one.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "be64.h"
#include "store/store.h"
#include "i18n.h"

#define ROW_LIVE 1
#define ROW_ERASED 2

_Static_assert(crypto_secretbox_KEYBYTES == CASEKEY_LEN &&
	crypto_secretbox_NONCEBYTES == 24 && crypto_secretbox_MACBYTES == 16,
    "case key format");

static int
make_key(struct vault_txn *t, struct bytes rk, struct casekey *out,
    struct sira_err *err)
{
	uint8_t row[1 + CASEKEY_LEN];
	int rc;

	row[0] = ROW_LIVE;
	crypto_secretbox_keygen(row + 1);
	rc = vault_put(t, VT_CASEKEYS, rk, row, sizeof(row), err);
	if (rc == 0) {
		out->state = CASEKEY_LIVE;
		memcpy(out->key, row + 1, CASEKEY_LEN);
	}
	sodium_memzero(row, sizeof(row));
	return rc;
}

static int
parse_row(
    const uint8_t *v, size_t len, struct casekey *out, struct sira_err *err)
{
	if (len == 1 + CASEKEY_LEN && v[0] == ROW_LIVE) {
		out->state = CASEKEY_LIVE;
		memcpy(out->key, v + 1, CASEKEY_LEN);
		return 0;
	}
	if (len >= 9 && v[0] == ROW_ERASED) {
		out->state = CASEKEY_ERASED;
		out->erased_at = be64_get(v + 1);
		return 0;
	}
	return sira_err_set(err, SIRA_EMALFORMED, _("a case key is damaged"));
}

int
casekey_get(struct vault_txn *t, const uint8_t blind[32], bool create,
    struct casekey *out, struct sira_err *err)
{
	struct bytes rk = bytes_of(blind, 32);
	uint8_t *v = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vault_get(t, VT_CASEKEYS, rk, &v, &len, err);
	if (rc == -SIRA_ENOTFOUND) {
		sira_err_clear(err);
		out->state = CASEKEY_NONE;
		return create ? make_key(t, rk, out, err) : 0;
	}
	if (rc != 0)
		return rc;
	rc = parse_row(v, len, out, err);
	vault_free(v, len);
	return rc;
}

int
casekey_tombstone(struct vault_txn *t, const uint8_t blind[32], uint64_t now,
    struct sira_err *err)
{
	struct bytes rk = bytes_of(blind, 32);
	uint8_t row[9];
	int rc;

	rc = vault_scrub(t, VT_CASEKEYS, rk, err);
	if (rc == -SIRA_ENOTFOUND)
		sira_err_clear(err);
	else if (rc != 0)
		return rc;
	row[0] = ROW_ERASED;
	be64_put(row + 1, now);
	return vault_put(t, VT_CASEKEYS, rk, row, sizeof(row), err);
}

int
casekey_ledger_get(struct vault_txn *t, const uint8_t blind[32], uint8_t **out,
    size_t *len, uint64_t *erased_at, struct sira_err *err)
{
	uint8_t *v = NULL, *p;
	size_t vlen = 0;
	int rc;

	*out = NULL;
	*len = 0;
	rc = vault_get(t, VT_CASEKEYS, bytes_of(blind, 32), &v, &vlen, err);
	if (rc != 0)
		return rc;
	if (vlen < 9 || v[0] != ROW_ERASED) {
		vault_free(v, vlen);
		return sira_err_set(
		    err, SIRA_ENOTFOUND, _("the case is not erased"));
	}
	*erased_at = be64_get(v + 1);
	if ((p = malloc(vlen - 9 + 1)) == NULL) {
		vault_free(v, vlen);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	memcpy(p, v + 9, vlen - 9);
	*out = p;
	*len = vlen - 9;
	vault_free(v, vlen);
	return 0;
}

int
casekey_ledger_put(struct vault_txn *t, const uint8_t blind[32],
    const uint8_t *ledger, size_t len, struct sira_err *err)
{
	uint8_t *old = NULL, *row;
	size_t olen = 0;
	uint64_t at = 0;
	int rc;

	if ((rc = casekey_ledger_get(t, blind, &old, &olen, &at, err)) != 0)
		return rc;
	vault_free(old, olen);
	if ((row = malloc(9 + len)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	row[0] = ROW_ERASED;
	be64_put(row + 1, at);
	if (len > 0)
		memcpy(row + 9, ledger, len);
	rc = vault_put(t, VT_CASEKEYS, bytes_of(blind, 32), row, 9 + len, err);
	free(row);
	return rc;
}

struct ledger_walk {
	int (*fn)(void *ctx, const uint8_t *ledger, size_t len);
	void *ctx;
};

static int
ledger_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	const struct ledger_walk *w = ctx;

	(void)key;
	(void)klen;
	if (vlen < 9 || val[0] != ROW_ERASED)
		return 0;
	return w->fn(w->ctx, val + 9, vlen - 9);
}

int
casekey_ledgers_each(struct vault_txn *t,
    int (*fn)(void *ctx, const uint8_t *ledger, size_t len), void *ctx,
    struct sira_err *err)
{
	struct ledger_walk w = { fn, ctx };

	return vault_each(t, VT_CASEKEYS, ledger_row, &w, err);
}

bool
casekey_sealed(const uint8_t *v, size_t len)
{
	return len >= CASEKEY_OVERHEAD && memcmp(v, CASEKEY_MAGIC, 4) == 0;
}

int
casekey_seal(const struct casekey *k, const uint8_t *in, size_t len,
    uint8_t **out, size_t *outlen, struct sira_err *err)
{
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	if (k->state != CASEKEY_LIVE)
		return sira_err_set(err, SIRA_ESTATE, _("the case has no key"));
	if ((p = malloc(CASEKEY_OVERHEAD + len)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	memcpy(p, CASEKEY_MAGIC, 4);
	randombytes_buf(p + 4, 24);
	(void)crypto_secretbox_easy(p + 28, in, len, p + 4, k->key);
	*out = p;
	*outlen = CASEKEY_OVERHEAD + len;
	return 0;
}

int
casekey_open(const struct casekey *k, const uint8_t *in, size_t len,
    uint8_t **out, size_t *outlen, struct sira_err *err)
{
	size_t n;
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	if (k->state != CASEKEY_LIVE || !casekey_sealed(in, len))
		return sira_err_set(err, SIRA_EAUTH,
		    _("the case's key is gone or does not fit"));
	n = len - CASEKEY_OVERHEAD;
	if ((p = malloc(n > 0 ? n : 1)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if (crypto_secretbox_open_easy(p, in + 28, len - 28, in + 4, k->key) !=
	    0) {
		free(p);
		return sira_err_set(err, SIRA_EAUTH,
		    _("the case's key is gone or does not fit"));
	}
	*out = p;
	*outlen = n;
	return 0;
}

void
casekey_wipe(struct casekey *k)
{
	sodium_memzero(k->key, sizeof(k->key)); /* state stays readable */
}
