/*
 * sirafile.c: see sirafile.h. Composes fileio_read (size cap, no symlinks)
 * with wire_strip_magic.
 */
#include <stdlib.h>

#include "cert.h"
#include "fileio.h"
#include "sirafile.h"
#include "wire.h"

int
sirafile_read(const char *path, const struct sirafile_kind *k, uint8_t **buf,
    const uint8_t **body, size_t *len, struct sira_err *err)
{
	const char *what = k->what;
	size_t filelen;
	int rc;

	if ((rc = fileio_read(path, k->max, buf, &filelen, err)) != 0)
		return rc;
	if (wire_strip_magic(bytes_of(*buf, filelen), k->magic, what, body, len,
		NULL) != 0) {
		free(*buf);
		*buf = NULL;
		return sira_err_set(
		    err, SIRA_EMALFORMED, "%s: not a Sira %s file", path, what);
	}
	return 0;
}

int
sirafile_read_cert(const char *path, uint8_t **buf, const uint8_t **body,
    size_t *len, struct sira_err *err)
{
	static const struct sirafile_kind cert_file = { SIRA_MAGIC_CERT,
		"certificate", SIRA_CERT_MAX + SIRA_MAGIC_LEN };

	return sirafile_read(path, &cert_file, buf, body, len, err);
}
