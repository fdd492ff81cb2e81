/*
 * peers.h: the other agencies as this agent knows them: certificates and
 * prekeys fetched through the broker, each verified against the CA and the
 * revocation list before it is stored, and looked up again (and checked
 * again) every time it is used. The broker cannot substitute a key: it can
 * only withhold one.
 */
#ifndef SIRA_PEERS_H
#define SIRA_PEERS_H

#include "store/agent.h"
#include "control.pb-c.h"
#include "prekey_verify.h"

/* Is our revocation list fresh enough to act on messages at now? */
int peers_crl_fresh(const struct agent *a, uint64_t now, struct sira_err *err);

/*
 * Take a DirectoryResponse: a newer revocation list first (verified, never
 * older than ours), then every certificate (verified, stored forever) and
 * every prekey (verified against its owner's certificate). Items that do
 * not verify are counted in *refused and dropped. Returns 0 or a store
 * error.
 */
int peers_take(struct agent *a, struct vault_txn *t,
    const Sira__V1__DirectoryResponse *d, uint64_t now, size_t *refused,
    struct sira_err *err);

/*
 * The certificate cert_id of agency, verified for use at time `at` against
 * the CA and our revocation list (which must be fresh at now). *out is
 * fresh (cert_destroy). Returns 0, -SIRA_EUNKNOWN_AGENCY, -SIRA_ECRL_STALE,
 * -SIRA_EREVOKED, -SIRA_EEXPIRED...
 */
int peers_cert(struct agent *a, struct vault_txn *t, const char *agency,
    const uint8_t *cert_id, uint64_t at, uint64_t now, struct cert **out,
    struct sira_err *err);

/*
 * The newest valid certificate of agency and its current prekey, for
 * sealing at now. Returns 0, -SIRA_EUNKNOWN_AGENCY or -SIRA_EPREKEY.
 */
int peers_current(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, struct cert **cert, struct prekey **prekey,
    struct sira_err *err);

/*
 * The role of agency as its newest valid certificate in our directory
 * says (no freshness demanded of the revocation list: this only guides a
 * person at the keyboard; the daemon checks everything again at sealing).
 * Returns 0 or -SIRA_EUNKNOWN_AGENCY.
 */
int peers_role(struct agent *a, struct vault_txn *t, const char *agency,
    uint64_t now, enum sira_role *role, struct sira_err *err);

#endif
