/*
 * backup.h: backup archives of an agency home or of the broker's data,
 * shared by sira-agent and sira-broker (docs/PROTOCOL.md, "Backup
 * archives").
 *
 * An archive is a plaintext header (magic, version, kind, the Argon2id
 * cost and salt, the secretstream header) followed by a
 * crypto_secretstream_xchacha20poly1305 stream under a key derived from a
 * passphrase (crypto_pwhash, Argon2id13). The header is the additional
 * data of the first chunk, so a changed header fails to open; the last
 * chunk carries the FINAL tag, so a cut archive is refused. Inside the
 * stream: records (type, name, length, bytes), ending with an END record.
 *
 * backup_archive.c owns the crypto (the writer and the reader),
 * backup_records.c the record format and its strict parser, and
 * backup_unpack.c restoring an archive into a fresh directory.
 */
#ifndef SIRA_BACKUP_H
#define SIRA_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BACKUP_MAGIC "SIRABAK1"
#define BACKUP_MAGIC_LEN 8
#define BACKUP_VERSION 1
#define BACKUP_HEADER_LEN 72
#define BACKUP_SALT_LEN 16
#define BACKUP_CHUNK 65536 /* plaintext bytes per stream chunk */
#define BACKUP_NAME_MAX 255
#define BACKUP_FILE_MAX ((uint64_t)1 << 40) /* a record's bytes, 1 TiB */

enum backup_kind { BACKUP_AGENT = 1, BACKUP_BROKER = 2 };
enum backup_rec { BACKUP_REC_DIR = 1, BACKUP_REC_FILE = 2, BACKUP_REC_END = 3 };

/* The Argon2id cost of a new archive. */
struct backup_cost {
	unsigned long long ops;
	size_t mem;
};
/* crypto_pwhash's MODERATE level: 3 passes over 256 MiB, about one
 * second on an old laptop. What sira-agent and sira-broker use. */
void backup_cost_moderate(struct backup_cost *c);

/* The header, parsed. */
struct backup_header {
	uint32_t version;
	uint8_t kind;
	uint64_t ops, mem;
	uint8_t salt[BACKUP_SALT_LEN];
	uint8_t stream[24]; /* the secretstream header */
};

/*
 * Parse the first BACKUP_HEADER_LEN bytes of an archive. Refuses another
 * magic, version or kind, and a cost outside what a reader accepts (at
 * most 16 passes and 1 GiB: a forged header cannot make restore spend
 * more). Returns 0, -SIRA_EMALFORMED, -SIRA_EVERSION or -SIRA_ETRUNCATED.
 */
int backup_header_parse(const uint8_t *buf, size_t len, int kind,
    struct backup_header *out, struct sira_err *err);

/* --- records (backup_records.c) --- */

/* A safe relative name: [A-Za-z0-9._-] components joined by '/', none
 * empty, "." or "..", at most BACKUP_NAME_MAX bytes. */
bool backup_name_ok(const char *name, size_t len);

/* Encode the head of one record (type, name, size) into out (at least
 * BACKUP_NAME_MAX + 11 bytes); returns its length. */
size_t backup_rec_head(uint8_t *out, int type, const char *name, uint64_t size);

/* What a parser hands its reader, record by record. */
struct backup_sink {
	void *ctx;
	int (*begin)(void *ctx, int type, const char *name, uint64_t size,
	    struct sira_err *err);
	int (*data)(
	    void *ctx, const uint8_t *p, size_t n, struct sira_err *err);
	int (*end)(void *ctx, struct sira_err *err); /* of a DIR or FILE */
};

struct backup_parser;

/* A push parser of the record stream; NULL on no memory. */
struct backup_parser *backup_parser_new(const struct backup_sink *s);
/* Feed the next plaintext bytes. Returns 0, -SIRA_EMALFORMED (a bad
 * type, name or size, or bytes after END) or the sink's code. */
int backup_parser_feed(struct backup_parser *p, const uint8_t *buf, size_t len,
    struct sira_err *err);
/* The stream is over: was it whole, up to END? Returns 0 or
 * -SIRA_ETRUNCATED. */
int backup_parser_finish(struct backup_parser *p, struct sira_err *err);
void backup_parser_free(struct backup_parser **p);

/* --- the archive (backup_archive.c) --- */

struct backup_writer;

/*
 * Start an archive at path (which must not exist; written to path.tmp,
 * renamed by backup_finish) of kind, under passphrase pass[0..plen) at
 * cost c. Returns 0, -SIRA_EEXIST, -SIRA_EIO or -SIRA_ENOMEM.
 */
struct backup_target {
	const char *path;
	int kind;
	const char *pass;
	size_t plen;
	const struct backup_cost *cost;
};
int backup_create(const struct backup_target *t, struct backup_writer **out,
    struct sira_err *err) __attribute__((warn_unused_result));
/* A directory record. */
int backup_put_dir(
    struct backup_writer *w, const char *name, struct sira_err *err);
/* A file record with the whole content of the regular file src. */
int backup_put_file(struct backup_writer *w, const char *name, const char *src,
    struct sira_err *err);
/*
 * Every directory and regular file under dir, named prefix/relative path
 * (prefix "" for none), in a walk where each directory comes before what
 * it holds. skip (may be NULL) is asked about each relative path: true
 * leaves it (and all under it) out. Symlinks and other kinds are left out.
 */
int backup_put_tree(struct backup_writer *w, const char *prefix,
    const char *dir, bool (*skip)(const char *rel), struct sira_err *err);
/* END record, FINAL chunk, fsync, rename into place; frees *w. */
int backup_finish(struct backup_writer **w, struct sira_err *err)
    __attribute__((warn_unused_result));
/* Give up: remove the temporary file; accepts NULL. */
void backup_discard(struct backup_writer **w);

/*
 * Decrypt the archive at path (of kind) with pass[0..plen) and hand its
 * records to s. Returns 0, -SIRA_EAUTH (wrong passphrase, or a changed
 * byte), -SIRA_ETRUNCATED (cut short), -SIRA_EMALFORMED, -SIRA_EVERSION,
 * -SIRA_ENOTFOUND, -SIRA_EIO, -SIRA_ENOMEM or the sink's code.
 */
struct backup_source {
	const char *path;
	int kind;
	const char *pass;
	size_t plen;
};
int backup_read(const struct backup_source *src, const struct backup_sink *s,
    struct sira_err *err) __attribute__((warn_unused_result));

/* --- restoring (backup_unpack.c) --- */

/*
 * Restore the archive src into directory dest: written whole into a fresh
 * private directory beside dest, every file fsync'd, then renamed to dest.
 * dest must not exist or be empty; with force, a non-empty dest is moved
 * aside to dest.before-restore-TIME first (never deleted). On any failure
 * nothing is left: the temporary directory is removed and dest is as it
 * was. Files are made 0600, directories 0700. Returns backup_read's
 * codes, -SIRA_EEXIST (dest not empty, no force) or -SIRA_EIO.
 */
int backup_unpack(const struct backup_source *src, const char *dest, bool force,
    struct sira_err *err) __attribute__((warn_unused_result));

#endif
