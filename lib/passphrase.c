/*
 * passphrase.c: passphrases from files and terminals.
 *
 * A passphrase never touches ordinary heap memory: it is read straight into
 * a sodium_malloc'd buffer, which sodium_free wipes. Terminal input is read
 * from /dev/tty with echo disabled and the terminal state always restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "passphrase.h"

static int
alloc_buf(struct passphrase *out, struct sira_err *err)
{
	out->len = 0;
	if ((out->p = sodium_malloc(SIRA_PASSPHRASE_MAX + 1)) == NULL)
		return sira_err_set(err, SIRA_ENOMEM, "out of memory");
	memset(out->p, 0, SIRA_PASSPHRASE_MAX + 1);
	return 0;
}

/* Read one line from fd into out->p; strips the newline. */
static int
read_line(
    int fd, struct passphrase *out, const char *what, struct sira_err *err)
{
	char c;
	ssize_t r;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return sira_err_set(
			    err, SIRA_EIO, "%s: %s", what, strerror(errno));
		if (r == 0 || c == '\n')
			break;
		if (out->len == SIRA_PASSPHRASE_MAX)
			return sira_err_set(err, SIRA_ETOOBIG,
			    "%s: passphrase longer than %d bytes", what,
			    SIRA_PASSPHRASE_MAX);
		out->p[out->len++] = c;
	}
	if (out->len > 0 && out->p[out->len - 1] == '\r')
		out->p[--out->len] = '\0';
	if (out->len == 0)
		return sira_err_set(
		    err, SIRA_EINVAL, "%s: empty passphrase", what);
	return 0;
}

int
passphrase_from_file(
    const char *path, struct passphrase *out, struct sira_err *err)
{
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return sira_err_set(err,
		    errno == ENOENT ? SIRA_ENOTFOUND : SIRA_EIO, "%s: %s", path,
		    strerror(errno));
	if ((rc = fileio_check_private(fd, path, err)) == 0 &&
	    (rc = alloc_buf(out, err)) == 0)
		rc = read_line(fd, out, path, err);
	close(fd);
	if (rc != 0)
		passphrase_free(out);
	return rc;
}

int
passphrase_from_fd(
    int fd, const char *what, struct passphrase *out, struct sira_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = alloc_buf(out, err)) == 0)
		rc = read_line(fd, out, what, err);
	if (rc != 0)
		passphrase_free(out);
	return rc;
}

static int
prompt_once(
    int fd, const char *prompt, struct passphrase *out, struct sira_err *err)
{
	struct termios old, noecho;
	int rc;

	if (tcgetattr(fd, &old) == -1)
		return sira_err_set(err, SIRA_EIO, "cannot read the terminal");
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) == -1)
		return sira_err_set(err, SIRA_EIO, "cannot set the terminal");
	(void)!write(fd, prompt, strlen(prompt));
	rc = alloc_buf(out, err);
	if (rc == 0)
		rc = read_line(fd, out, "terminal", err);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	return rc;
}

int
passphrase_prompt(const char *prompt, bool confirm, struct passphrase *out,
    struct sira_err *err)
{
	struct passphrase again = { NULL, 0 };
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return sira_err_set(err, SIRA_EIO,
		    "no terminal to ask for a passphrase; use --passphrase-file");
	rc = prompt_once(fd, prompt, out, err);
	if (rc == 0 && confirm) {
		rc = prompt_once(fd, "Repeat the passphrase: ", &again, err);
		if (rc == 0 &&
		    (again.len != out->len ||
			sodium_memcmp(again.p, out->p, out->len) != 0))
			rc = sira_err_set(
			    err, SIRA_EINVAL, "the two passphrases differ");
	}
	passphrase_free(&again);
	close(fd);
	if (rc != 0)
		passphrase_free(out);
	return rc;
}

void
passphrase_free(struct passphrase *out)
{
	if (out->p != NULL)
		sodium_free(out->p);
	out->p = NULL;
	out->len = 0;
}
