/*
 * signed.c: splits and joins the {tbs, sig} wrapper.
 *
 * All signed messages of the schema have the same two fields, so the
 * Certificate descriptor decodes them all; wire_unpack makes the split
 * strict (no unknown fields, canonical encoding).
 */
#include <stdlib.h>
#include <string.h>

#include "cert.pb-c.h"
#include "signed.h"
#include "wire.h"

int
signed_split(struct bytes untrusted, size_t max, size_t tbs_max,
    const char *what, struct signed_obj *out, struct sira_err *err)
{
	ProtobufCMessage *m;
	Sira__V1__Certificate *w;
	int rc;

	memset(out, 0, sizeof(*out));
	if (untrusted.len == 0)
		return sira_err_set(err, SIRA_ETRUNCATED, "%s is empty", what);
	if (untrusted.len > max)
		return sira_err_set(err, SIRA_ETOOBIG,
		    "%s of %zu bytes exceeds the limit of %zu", what,
		    untrusted.len, max);
	if ((rc = wire_unpack(&sira__v1__certificate__descriptor, untrusted.p,
		 untrusted.len, max, &m, err)) != 0)
		return sira_err_set(err, -rc, "%s does not parse", what);
	w = (Sira__V1__Certificate *)m;
	if (w->sig.len != SIRA_SIG_LEN || w->tbs.len == 0) {
		rc = sira_err_set(err, SIRA_EMALFORMED,
		    "%s has no valid signature field", what);
		goto out;
	}
	if (w->tbs.len > tbs_max) {
		rc = sira_err_set(err, SIRA_ETOOBIG, "%s is too large", what);
		goto out;
	}
	if ((out->tbs = malloc(w->tbs.len)) == NULL) {
		rc = sira_err_set(err, SIRA_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(out->tbs, w->tbs.data, w->tbs.len);
	out->tbs_len = w->tbs.len;
	memcpy(out->sig, w->sig.data, SIRA_SIG_LEN);
	rc = 0;
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int
signed_join(const uint8_t *tbs, size_t tbs_len,
    const uint8_t sig[static SIRA_SIG_LEN], uint8_t **out, size_t *outlen,
    struct sira_err *err)
{
	Sira__V1__Certificate w = SIRA__V1__CERTIFICATE__INIT;

	w.tbs.data = (uint8_t *)(uintptr_t)tbs;
	w.tbs.len = tbs_len;
	w.sig.data = (uint8_t *)(uintptr_t)sig;
	w.sig.len = SIRA_SIG_LEN;
	return wire_pack(&w.base, out, outlen, err);
}

void
signed_clear(struct signed_obj *out)
{
	free(out->tbs);
	out->tbs = NULL;
	out->tbs_len = 0;
}
