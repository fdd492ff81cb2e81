/*
 * passphrase.h: getting a passphrase from a file or from the person at the
 * terminal, into guarded memory.
 */
#ifndef SIRA_PASSPHRASE_H
#define SIRA_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SIRA_PASSPHRASE_MAX 1024

/* A passphrase in sodium_malloc'd memory; release with passphrase_free. */
struct passphrase {
	char *p; /* NUL-terminated */
	size_t len;
};

/*
 * Read the first line of path (which must be mode 0600 or narrower) into
 * out. Returns 0, -SIRA_ENOTFOUND, -SIRA_EPERM_MODE, -SIRA_EINVAL (empty),
 * -SIRA_ETOOBIG, -SIRA_EIO or -SIRA_ENOMEM.
 */
int passphrase_from_file(const char *path, struct passphrase *out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Read one line from fd (a pipe: standard input when it is no terminal)
 * into out; what names it in messages. Returns 0, -SIRA_EINVAL (empty),
 * -SIRA_ETOOBIG, -SIRA_EIO or -SIRA_ENOMEM.
 */
int passphrase_from_fd(int fd, const char *what, struct passphrase *out,
    struct sira_err *err) __attribute__((warn_unused_result));

/*
 * Ask for a passphrase on /dev/tty with echo off, twice when confirm is set.
 * Returns 0, -SIRA_EIO (no terminal), -SIRA_EINVAL (mismatch or empty) or
 * -SIRA_ENOMEM.
 */
int passphrase_prompt(const char *prompt, bool confirm, struct passphrase *out,
    struct sira_err *err) __attribute__((warn_unused_result));

/* Wipe and free what out holds; accepts a zeroed struct. */
void passphrase_free(struct passphrase *out);

#endif
