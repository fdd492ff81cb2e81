/*
 * pairseq.c: per-sender sequence tracking (see store.h). Stored as
 * be64 low, be64 since, then be64 of each number in `seen`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "store/store.h"
#include "i18n.h"

/* Absorb the numbers in seen that now follow low without a hole. */
static void
absorb(struct pairseq *p)
{
	size_t k = 0;

	while (k < p->n && p->seen[k] == p->low + 1)
		p->low = p->seen[k++];
	if (k == 0)
		return; /* also: seen may be NULL */
	memmove(p->seen, p->seen + k, (p->n - k) * sizeof(*p->seen));
	p->n -= k;
}

/* The oldest hole has waited long enough (or seen is full): declare it. */
static uint64_t
declare_hole(struct pairseq *p, uint64_t now)
{
	uint64_t missing = p->seen[0] - p->low - 1;

	p->low = p->seen[0] - 1;
	absorb(p);
	p->since = p->n > 0 ? now : 0;
	return missing;
}

static int
insert(struct pairseq *p, uint64_t seq)
{
	size_t i = p->n;
	uint64_t *grown;

	while (i > 0 && p->seen[i - 1] > seq)
		i--;
	if (i > 0 && p->seen[i - 1] == seq)
		return 0;
	if ((grown = realloc(p->seen, (p->n + 1) * sizeof(*p->seen))) == NULL)
		return -SIRA_ENOMEM;
	p->seen = grown;
	memmove(p->seen + i + 1, p->seen + i, (p->n - i) * sizeof(*p->seen));
	p->seen[i] = seq;
	p->n++;
	return 0;
}

int64_t
pairseq_take(struct pairseq *p, uint64_t seq, uint64_t now)
{
	uint64_t missing = 0;
	int rc;

	if (seq <= p->low)
		return 0;
	if (seq == p->low + 1) {
		p->low = seq;
		absorb(p);
	} else if ((rc = insert(p, seq)) != 0)
		return rc;
	if (p->n == 0)
		p->since = 0;
	else if (p->since == 0)
		p->since = now;
	while (p->n > 0 &&
	    (now >= p->since + PAIRSEQ_WAIT || p->n > PAIRSEQ_SEEN_MAX))
		missing += declare_hole(p, now);
	return (int64_t)missing;
}

uint64_t
pairseq_awaited(const struct pairseq *p)
{
	return p->n == 0 ? 0 : p->seen[p->n - 1] - p->low - p->n;
}

static void
key_of(const char *sender, char out[SIRA_AGENCY_ID_MAX + 8])
{
	(void)snprintf(out, SIRA_AGENCY_ID_MAX + 8, "rgap:%s", sender);
}

int
pairseq_load(struct vault_txn *t, const char *sender, struct pairseq *p,
    struct sira_err *err)
{
	char key[SIRA_AGENCY_ID_MAX + 8];
	uint8_t *v = NULL;
	size_t len = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	key_of(sender, key);
	rc = vault_get(t, VT_META, bytes_of(key, strlen(key)), &v, &len, err);
	if (rc == -SIRA_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (len < 16 || (len - 16) % 8 != 0) {
		vault_free(v, len);
		return sira_err_set(err, SIRA_EMALFORMED,
		    _("sequence state of %s damaged"), sender);
	}
	p->low = be64_get(v);
	p->since = be64_get(v + 8);
	p->n = (len - 16) / 8;
	if (p->n > 0 && (p->seen = calloc(p->n, sizeof(*p->seen))) == NULL) {
		vault_free(v, len);
		p->n = 0;
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	for (size_t i = 0; i < p->n; i++)
		p->seen[i] = be64_get(v + 16 + 8 * i);
	vault_free(v, len);
	return 0;
}

int
pairseq_store(struct vault_txn *t, const char *sender, const struct pairseq *p,
    struct sira_err *err)
{
	char key[SIRA_AGENCY_ID_MAX + 8];
	size_t len = 16 + 8 * p->n;
	uint8_t *v = malloc(len);
	int rc;

	if (v == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	be64_put(v, p->low);
	be64_put(v + 8, p->since);
	for (size_t i = 0; i < p->n; i++)
		be64_put(v + 16 + 8 * i, p->seen[i]);
	key_of(sender, key);
	rc = vault_put(t, VT_META, bytes_of(key, strlen(key)), v, len, err);
	free(v);
	return rc;
}

void
pairseq_free(struct pairseq *p)
{
	free(p->seen);
	memset(p, 0, sizeof(*p));
}
