/*
 * fuzz_web_origin.c: libFuzzer harness for the web interface's Host and
 * Origin checks (agents/web/origin.c), which read headers any page on the
 * internet can make a browser send. Input: one flag byte (bit 0: TLS,
 * bit 1: a Referer instead of an Origin), then host, origin and referer
 * lines. Never crash; a header accepted must name one of our names and our
 * port; and an Origin "scheme://HOST" is accepted exactly when the Host
 * header HOST is.
 *
 * Seeds: tests/fuzz/corpus/fuzz_web_origin/ (a loopback name with and
 * without port, a bracketed IPv6 address, a foreign name, a Referer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end) as a NUL-terminated copy (caller frees). */
static char *
line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nl != NULL);
	return s;
}

/* An accepted authority starts with one of the names we gave. */
static void
names_us(const struct web_hosts *h, const char *a)
{
	for (size_t i = 0; i < h->n; i++)
		if (strncasecmp(a, h->names[i], strlen(h->names[i])) == 0)
			return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	struct web_hosts h;
	char *host, *origin, *referer, *as_origin;
	bool tls;

	if (size < 1)
		return 0;
	tls = (data[0] & 1) != 0;
	web_hosts_init(&h, tls ? 443 : 8080, tls);
	if (!web_hosts_add(&h, "127.0.0.1") || !web_hosts_add(&h, "::1") ||
	    !web_hosts_add(&h, "sira.police.ml"))
		abort();
	host = line(&p, end);
	origin = line(&p, end);
	referer = line(&p, end);
	if (web_host_ok(&h, host))
		names_us(&h, host);
	if (web_origin_ok(&h, (data[0] & 2) ? NULL : origin, referer))
		names_us(
		    &h, strstr((data[0] & 2) ? referer : origin, "//") + 2);
	if (strpbrk(host, "/?#") == NULL) {
		size_t n = strlen(host) + 9;
		if ((as_origin = malloc(n)) == NULL)
			abort();
		(void)snprintf(
		    as_origin, n, "%s%s", tls ? "https://" : "http://", host);
		if (web_origin_ok(&h, as_origin, NULL) != web_host_ok(&h, host))
			abort();
		free(as_origin);
	}
	free(host);
	free(origin);
	free(referer);
	return 0;
}
