/*
 * directory.c: loading and querying the broker's certificate directory.
 *
 * The whole directory is rebuilt on every load (start and SIGHUP) and
 * swapped in by the caller only when the new one loaded cleanly, so a bad
 * reload never leaves the broker with half a directory. Lookups re-check
 * validity at the time of the lookup, because a certificate can expire
 * while the broker runs.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "directory.h"
#include "fileio.h"
#include "log.h"
#include "sirafile.h"
#include "wire.h"

#define FILE_MAX (SIRA_CRL_MAX + SIRA_MAGIC_LEN)

static int
load_trust(struct directory *d, const char *ca_path, const char *crl_path,
    const struct directory *previous, uint64_t now, struct sira_err *err)
{
	const uint8_t *body;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = sirafile_read_cert(ca_path, &buf, &body, &len, err)) != 0)
		return rc;
	rc = cert_load_ca(body, len, now, &d->ca, err);
	free(buf);
	if (rc != 0 || crl_path == NULL)
		return rc;
	if ((rc = sirafile_read(crl_path,
		 &(struct sirafile_kind){
		     SIRA_MAGIC_CRL, "revocation list", FILE_MAX },
		 &buf, &body, &len, err)) != 0)
		return rc;
	rc = crl_verify(d->ca, body, len, &d->crl, err);
	free(buf);
	if (rc == 0)
		rc = crl_check_fresh(d->crl, now, err);
	if (rc == 0 && previous != NULL && previous->crl != NULL)
		rc = crl_may_replace(previous->crl, d->crl, err);
	return rc;
}

static int
add_cert(
    struct directory *d, const char *path, uint64_t now, struct sira_err *err)
{
	struct sira_err why;
	const uint8_t *body;
	struct cert *c = NULL, **grown;
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = sirafile_read_cert(path, &buf, &body, &len, &why)) == 0)
		rc = cert_verify(
		    d->ca, d->crl, bytes_of(body, len), now, &c, &why);
	free(buf);
	if (rc != 0) {
		/* One bad file must not take every agency offline. */
		log_event(LOG_WARN, "directory.skipped", "file=%s reason=%s",
		    path, why.msg);
		d->n_skipped++;
		return 0;
	}
	if ((grown = realloc(d->certs, (d->n + 1) * sizeof(*grown))) == NULL) {
		cert_destroy(&c);
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	}
	d->certs = grown;
	d->certs[d->n++] = c;
	return 0;
}

static int
load_certs(struct directory *d, const char *certs_dir, uint64_t now,
    struct sira_err *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh;
	int rc = 0;

	if ((dh = opendir(certs_dir)) == NULL)
		return sira_err_set(err, SIRA_ENOTFOUND,
		    "%s: cannot open certificate directory", certs_dir);
	while (rc == 0 && (de = readdir(dh)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".cert") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", certs_dir,
			de->d_name) >= (int)sizeof(path))
			continue;
		rc = add_cert(d, path, now, err);
	}
	closedir(dh);
	return rc;
}

int
directory_load(const struct directory_files *from,
    const struct directory *previous, uint64_t now, struct directory **out,
    struct sira_err *err)
{
	struct directory *d;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	if ((rc = load_trust(d, from->ca, from->crl, previous, now, err)) !=
		0 ||
	    (rc = load_certs(d, from->certs, now, err)) != 0) {
		directory_free(&d);
		return rc;
	}
	*out = d;
	return 0;
}

void
directory_free(struct directory **dp)
{
	struct directory *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		cert_destroy(&d->certs[i]);
	free(d->certs);
	cert_destroy(&d->ca);
	crl_destroy(&d->crl);
	free(d);
	*dp = NULL;
}

/* Usable now: inside its window and absent from the current list. */
static int
usable(const struct directory *d, const struct cert *c, uint64_t now)
{
	return now + SIRA_CLOCK_SKEW >= c->not_before && now <= c->not_after &&
	    (d->crl == NULL || crl_find(d->crl, c) == NULL);
}

/* A renewal that keeps the keys (docs/PKI.md) leaves two certificates
 * with one transport key: the session gets the newest usable one. */
const struct cert *
directory_by_key(const struct directory *d,
    const uint8_t key[static SIRA_CURVE_KEY_LEN], uint64_t now)
{
	const struct cert *best = NULL;

	for (size_t i = 0; i < d->n; i++) {
		const struct cert *c = d->certs[i];
		if (c->has_transport &&
		    memcmp(c->transport_pk, key, SIRA_CURVE_KEY_LEN) == 0 &&
		    usable(d, c, now) &&
		    (best == NULL || c->not_before > best->not_before))
			best = c;
	}
	return best;
}

const struct cert *
directory_by_agency(
    const struct directory *d, const char *agency_id, uint64_t now)
{
	const struct cert *best = NULL;

	for (size_t i = 0; i < d->n; i++) {
		const struct cert *c = d->certs[i];
		if (strcmp(c->agency_id, agency_id) == 0 && usable(d, c, now) &&
		    (best == NULL || c->not_before > best->not_before))
			best = c;
	}
	return best;
}

const struct cert *
directory_by_id(const struct directory *d, const char *agency_id,
    const uint8_t cert_id[static SIRA_HASH_LEN], uint64_t now)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->certs[i]->agency_id, agency_id) == 0 &&
		    memcmp(d->certs[i]->id, cert_id, SIRA_HASH_LEN) == 0 &&
		    usable(d, d->certs[i], now))
			return d->certs[i];
	return NULL;
}
