/*
 * stats_book.c: the statistics' rows in the vault (workflow.h). At an
 * agency, the pseudonym key the committee handed over, in VT_META
 * "stats.key" (sealed by the vault like every value). At the committee,
 * VT_REPORTS: the newest report of each agency for each period, so that a
 * report sent again replaces the earlier one and is never counted twice.
 */
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "cert.h"
#include "i18n.h"
#include "wire.h"
#include "workflow/workflow.h"

#define KEY_ROW "stats.key"
#define KEY_LEN 32
#define KEY_FILE_MAX 512

int
stats_key_parse(const uint8_t *untrusted, size_t len, Sira__V1__StatsKey **out,
    struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	Sira__V1__StatsKey *k;

	*out = NULL;
	if (wire_unpack_secret(&sira__v1__stats_key__descriptor, untrusted, len,
		KEY_FILE_MAX, &m, NULL) != 0) {
		(void)sira_err_set(
		    err, SIRA_EMALFORMED, _("not a statistics key file"));
		return -SIRA_EMALFORMED; /* spelled out: never 0, *out NULL */
	}
	k = (Sira__V1__StatsKey *)m;
	if (k->version != STATS_VERSION || k->key.len != KEY_LEN ||
	    !cert_agency_id_valid(k->committee)) {
		wire_free_secret(m);
		(void)sira_err_set(err, SIRA_EMALFORMED,
		    _("statistics key file of an unknown version or damaged"));
		return -SIRA_EMALFORMED;
	}
	*out = k;
	return 0;
}

int
stats_key_put(struct vault_txn *t, const uint8_t *untrusted, size_t len,
    uint64_t now, struct sira_err *err)
{
	Sira__V1__StatsKey *k = NULL;
	int rc;

	if ((rc = stats_key_parse(untrusted, len, &k, err)) != 0)
		return rc;
	if ((rc = vault_put(t, VT_META, bytes_of(KEY_ROW, strlen(KEY_ROW)),
		 untrusted, len, err)) == 0)
		rc = book_audit(t, now,
		    &(struct audit_event){
			"stats.key", k->committee, NULL, 0, NULL, NULL },
		    err);
	wire_free_secret(&k->base);
	return rc;
}

int
stats_key_get(
    struct vault_txn *t, Sira__V1__StatsKey **out, struct sira_err *err)
{
	uint8_t *v;
	size_t len;
	int rc;

	*out = NULL;
	rc = vault_get(
	    t, VT_META, bytes_of(KEY_ROW, strlen(KEY_ROW)), &v, &len, NULL);
	if (rc == -SIRA_ENOTFOUND)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    _("no statistics key: install the committee's with "
		      "sira-agent stats key --file F"));
	if (rc != 0)
		return sira_err_set(err, -rc, _("statistics key unreadable"));
	rc = stats_key_parse(v, len, out, err);
	vault_free(v, len);
	return rc;
}

/* The row key of (agency, period): the id, a NUL, be32 period. */
static size_t
report_key(const char *agency, uint32_t period,
    uint8_t key[static SIRA_AGENCY_ID_MAX + 8])
{
	size_t n = strlen(agency);

	memcpy(key, agency, n + 1);
	key[n + 1] = (uint8_t)(period >> 24);
	key[n + 2] = (uint8_t)(period >> 16);
	key[n + 3] = (uint8_t)(period >> 8);
	key[n + 4] = (uint8_t)period;
	return n + 5;
}

/* A row of VT_REPORTS: our own bytes; NULL when damaged. */
static Sira__V1__StatsReport *
report_decode(const uint8_t *row, size_t len)
{
	return sira__v1__stats_report__unpack(NULL, len, row);
}

/* Is a report of this agency and period kept already, made after at? */
static bool
newer_kept(struct vault_txn *t, struct bytes key, uint64_t at)
{
	Sira__V1__StatsReport *old;
	uint8_t *v;
	size_t len;
	bool newer;

	if (vault_get(t, VT_REPORTS, key, &v, &len, NULL) != 0)
		return false;
	old = report_decode(v, len);
	vault_free(v, len);
	newer = old != NULL && old->made_at > at;
	if (old != NULL)
		sira__v1__stats_report__free_unpacked(old, NULL);
	return newer;
}

static int
keep(struct vault_txn *t, const Sira__V1__StatsReport *r, bool *kept,
    struct sira_err *err)
{
	uint8_t key[SIRA_AGENCY_ID_MAX + 8], *bytes = NULL;
	size_t klen = report_key(r->agency_id, r->period, key), len;
	int rc;

	if (newer_kept(t, bytes_of(key, klen), r->made_at))
		return 0;
	if ((rc = wire_pack(&r->base, &bytes, &len, err)) != 0)
		return rc;
	rc = vault_put(t, VT_REPORTS, bytes_of(key, klen), bytes, len, err);
	free(bytes);
	*kept = rc == 0;
	return rc;
}

int
stats_take(struct vault_txn *t, const char *sender, const uint8_t *payload,
    size_t len, bool *kept, struct sira_err *err)
{
	ProtobufCMessage *m = NULL;
	Sira__V1__Payload *p;
	int rc;

	*kept = false;
	if (wire_unpack(&sira__v1__payload__descriptor, payload, len,
		AGENT_PAYLOAD_MAX, &m, NULL) != 0)
		return sira_err_set(
		    err, SIRA_EMALFORMED, "stats report does not parse");
	p = (Sira__V1__Payload *)m;
	if (p->body_case != SIRA__V1__PAYLOAD__BODY_STATS_REPORT)
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "stats report kind carrying another payload");
	else if ((rc = stats_report_validate(p->stats_report, sender, err)) ==
	    0)
		rc = keep(t, p->stats_report, kept, err);
	sira__v1__payload__free_unpacked(p, NULL);
	return rc;
}

struct each_report {
	int (*fn)(void *, const Sira__V1__StatsReport *);
	void *ctx;
};

static int
each_row(
    void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct each_report *e = ctx;
	Sira__V1__StatsReport *r;
	int rc;

	(void)key;
	(void)klen;
	if ((r = report_decode(val, vlen)) == NULL)
		return 0; /* a damaged row is skipped, never fatal */
	rc = e->fn(e->ctx, r);
	sira__v1__stats_report__free_unpacked(r, NULL);
	return rc;
}

int
stats_reports_each(struct vault_txn *t,
    int (*fn)(void *ctx, const Sira__V1__StatsReport *r), void *ctx,
    struct sira_err *err)
{
	struct each_report e = { fn, ctx };

	return vault_each(t, VT_REPORTS, each_row, &e, err);
}
