/*
 * fileio.h: whole-file reads with a size cap, and crash-safe writes.
 *
 * A write goes to a temporary file in the same directory, is fsync'd, then
 * renamed over (or linked to) the destination, and the directory is fsync'd:
 * after a power cut the destination holds either the old or the new bytes.
 */
#ifndef SIRA_FILEIO_H
#define SIRA_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/*
 * Read all of path into a fresh malloc'd *buf of *len bytes (caller frees).
 * Refuses symlinks. Returns 0, -SIRA_ENOTFOUND, -SIRA_ETOOBIG (more than max
 * bytes), -SIRA_EIO or -SIRA_ENOMEM.
 */
int fileio_read(const char *path, size_t max, uint8_t **buf, size_t *len,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Like fileio_read, for a secret file: also refuses a file owned by another
 * user or with any group or other permission bit (-SIRA_EPERM_MODE). The
 * caller wipes *buf before freeing it.
 */
int fileio_read_secret(const char *path, size_t max, uint8_t **buf, size_t *len,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Atomically write buf[0..len) to path with mode. With exclusive, fail with
 * -SIRA_EEXIST if path exists (and leave it untouched); otherwise replace it.
 * Returns 0, -SIRA_EEXIST or -SIRA_EIO.
 */
int fileio_write(const char *path, const uint8_t *buf, size_t len, mode_t mode,
    bool exclusive, struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Check that the regular file open on fd is owned by us and has no group or
 * other permission bits. path is for the message. Returns 0, -SIRA_EPERM_MODE
 * or -SIRA_EIO.
 */
int fileio_check_private(int fd, const char *path, struct sira_err *err);

/* Write all of buf to fd, retrying on EINTR. Returns 0 or -1 (errno). */
int fileio_write_all(int fd, const uint8_t *buf, size_t len);

/*
 * Has the file system holding fd less than 1 MiB left? LMDB reports a
 * write cut short by a full disk as EIO; this tells that apart from a
 * failing disk.
 */
bool fileio_fd_nearly_full(int fd);

/*
 * Read up to len bytes from fd, stopping early only at end of file;
 * retries on EINTR. Returns the bytes read or -1 (errno).
 */
ssize_t fileio_read_full(int fd, uint8_t *buf, size_t len);

/* Create directory path with mode if missing. Returns 0 or -SIRA_EIO. */
int fileio_mkdir(const char *path, mode_t mode, struct sira_err *err);

#endif
