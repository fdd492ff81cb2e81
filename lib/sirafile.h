/*
 * sirafile.h: reading Sira's files: an 8-byte magic ("SIRACRT1", ...)
 * followed by protobuf bytes. One helper for the CA tool, the broker and
 * the agent, so every reader caps the size and checks the magic the same
 * way before any parser sees a byte.
 */
#ifndef SIRA_SIRAFILE_H
#define SIRA_SIRAFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Read path (at most k->max bytes), check it starts with k->magic, and
 * point *body past the magic (borrowed from *buf, the whole file, which
 * the caller frees). k->what names the kind of file in messages. Returns 0,
 * -SIRA_ENOTFOUND, -SIRA_ETOOBIG, -SIRA_EMALFORMED ("not a Sira <what>
 * file"), -SIRA_EIO or -SIRA_ENOMEM; *buf is NULL on failure.
 */
struct sirafile_kind {
	const char *magic; /* SIRA_MAGIC_* */
	const char *what;  /* "certificate", "revocation list"... */
	size_t max;        /* bytes, magic included */
};
int sirafile_read(const char *path, const struct sirafile_kind *k,
    uint8_t **buf, const uint8_t **body, size_t *len, struct sira_err *err)
    __attribute__((warn_unused_result));

/* sirafile_read for a certificate file (SIRA_MAGIC_CERT, at most
 * SIRA_CERT_MAX bytes after the magic). */
int sirafile_read_cert(const char *path, uint8_t **buf, const uint8_t **body,
    size_t *len, struct sira_err *err) __attribute__((warn_unused_result));

#endif
