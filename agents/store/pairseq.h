/*
 * pairseq.h: telling lost messages from late ones. Each sender numbers its
 * messages to us from 1 (pair_seq, in the signed manifest). Messages often
 * arrive out of order (a message with documents waits for its upload, a
 * retry comes after a newer message), so a jump is not a loss: the numbers
 * not yet seen are awaited for PAIRSEQ_WAIT seconds and only then declared
 * missing (logged and counted). State per sender: every number up to
 * `low` has arrived; `seen` holds those above it (sorted), `since` is when
 * the oldest hole was noticed.
 */
#ifndef SIRA_PAIRSEQ_H
#define SIRA_PAIRSEQ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct vault_txn;

#define PAIRSEQ_WAIT ((uint64_t)24 * 3600) /* a late one may take this */
#define PAIRSEQ_SEEN_MAX 4096 /* more out-of-order numbers: holes declared */

struct pairseq {
	uint64_t low, since;
	uint64_t *seen; /* owned; sorted, all > low + 1 */
	size_t n;
};

/*
 * Take number seq at time now. Returns how many numbers this declares
 * missing (0 normally), or a negative code (-SIRA_ENOMEM). A number at or
 * below low, or already seen, changes nothing.
 */
int64_t pairseq_take(struct pairseq *p, uint64_t seq, uint64_t now);

/* Numbers between low and the highest seen that have not arrived yet. */
uint64_t pairseq_awaited(const struct pairseq *p);

/* Load and store a sender's state in the vault (VT_META "rgap:SENDER");
 * a sender never heard of loads as all zero. */
int pairseq_load(struct vault_txn *t, const char *sender, struct pairseq *p,
    struct sira_err *err);
int pairseq_store(struct vault_txn *t, const char *sender,
    const struct pairseq *p, struct sira_err *err);
void pairseq_free(struct pairseq *p);

#endif
