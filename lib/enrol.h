/*
 * enrol.h: enrolment requests, the file an agency makes on its own machine
 * (sira-agent keygen, renew-request) and the committee signs into a
 * certificate (sira-cert sign-request). See docs/PKI.md and
 * docs/PROTOCOL.md, "Enrolment".
 *
 * A request carries the agency's id, name, role and two public keys, signed
 * by the Ed25519 key it names, and a proof of possession of the X25519 key
 * that only the CA can check (a crypto_box to the CA's key). enrol.c
 * encodes and parses requests and checks everything but that proof, which
 * needs the CA's secret key (certs/ca.c). Linked by the agent and sira-cert.
 */
#ifndef SIRA_ENROL_H
#define SIRA_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "err.h"

#define SIRA_ENROL_MAX 2048     /* a request, without its magic */
#define SIRA_ENROL_TBS_MAX 1024 /* its tbs */
#define SIRA_ENROL_VERSION 1
#define SIRA_ENROL_NONCE_LEN 16
#define SIRA_POP_NONCE_LEN 24 /* crypto_box_NONCEBYTES */
#define SIRA_POP_LEN 48       /* crypto_box_MACBYTES + SIRA_HASH_LEN */
/* "ABCD-EF01-2345-6789-ABCD-EF01": 96 bits, six groups, NUL included. */
#define SIRA_ENROL_FP_LEN 30

/* A request, every field checked (enrol_parse) or to be encoded. */
struct enrol_request {
	char agency_id[SIRA_AGENCY_ID_MAX + 1];
	char display_name[SIRA_DISPLAY_NAME_MAX + 1];
	enum sira_role role;
	uint8_t sign_pk[SIRA_SIGN_PK_LEN];
	uint8_t transport_pk[SIRA_CURVE_KEY_LEN];
	uint64_t created_at;
	uint8_t nonce[SIRA_ENROL_NONCE_LEN];
	uint8_t ca_id[SIRA_HASH_LEN];
	uint8_t pop_nonce[SIRA_POP_NONCE_LEN];
	uint8_t pop[SIRA_POP_LEN];
	uint8_t id[SIRA_HASH_LEN]; /* LP-digest of the tbs (parse fills it) */
};

/* May an agency ask for this role? (not the broker, not unspecified) */
bool enrol_role_valid(enum sira_role role);

/*
 * The 32 bytes the proof of possession boxes: SHA-256(LP("sira-v1/enrol-
 * pop") || LP(agency_id) || LP(sign_pk) || LP(transport_pk) || LP(nonce) ||
 * LP(ca_id)).
 */
void enrol_pop_digest(
    const struct enrol_request *r, uint8_t out[static SIRA_HASH_LEN]);

/*
 * Encode r's fields (all but id) as the tbs, into a fresh *tbs (caller
 * frees). Returns 0, -SIRA_EINVAL (a field the rules refuse) or
 * -SIRA_ENOMEM.
 */
int enrol_encode_tbs(const struct enrol_request *r, uint8_t **tbs, size_t *len,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Parse and check the request untrusted[0..len) (no magic) into a fresh
 * *out (caller frees with enrol_destroy): the wrapper, the tbs (canonical,
 * through wire_unpack), every field, and the signature by the sign_pk it
 * carries. The proof of possession is NOT checked here (ca_check_pop).
 * Returns 0, -SIRA_ETRUNCATED (empty), -SIRA_ETOOBIG, -SIRA_EMALFORMED,
 * -SIRA_EVERSION, -SIRA_EINVAL (a role that cannot be asked for),
 * -SIRA_EBADSIG or -SIRA_ENOMEM.
 */
int enrol_parse(const uint8_t *untrusted, size_t len,
    struct enrol_request **out, struct sira_err *err)
    __attribute__((warn_unused_result));

/* Free *rp and set it to NULL; accepts NULL and *rp == NULL. */
void enrol_destroy(struct enrol_request **rp);

/* The fingerprint read over the phone: the first 12 bytes of r->id as six
 * groups of four upper-case hex digits joined by '-'. */
void enrol_fingerprint(
    const struct enrol_request *r, char out[static SIRA_ENROL_FP_LEN]);

/* Does typed (as an operator types it: any case, with or without '-' or
 * spaces) name fingerprint fp? */
bool enrol_fingerprint_match(const char *typed, const char *fp);

#endif
