/*
 * origin.c: which Host and Origin headers name this server (the DNS
 * rebinding and cross-site form guards of server.c). The names are kept
 * without their port; a header is split into name and port (a port left
 * out is the scheme's, 80 or 443, as a browser leaves it out), then both
 * must match. IPv6 addresses are written in brackets, as in a URL.
 * Pure functions of their arguments: tests/fuzz/fuzz_web_origin.c feeds
 * them any bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/web.h"

void
web_hosts_init(struct web_hosts *h, uint16_t port, bool tls)
{
	memset(h, 0, sizeof(*h));
	h->port = port;
	h->tls = tls;
}

bool
web_hosts_add(struct web_hosts *h, const char *name)
{
	bool v6 = strchr(name, ':') != NULL && name[0] != '[';
	size_t len = strlen(name);

	if (h->n >= WEB_HOSTS_MAX || len == 0 || len + 2 >= sizeof(h->names[0]))
		return false;
	(void)snprintf(
	    h->names[h->n++], sizeof(h->names[0]), v6 ? "[%s]" : "%s", name);
	return true;
}

/* "1" to "65535", digits only. */
static bool
parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Split s[0..n) as host[:port] or [v6][:port]; the name's length in
 * *name_len. */
static bool
split(const char *s, size_t n, bool tls, size_t *name_len, uint16_t *port)
{
	const char *colon;

	*port = tls ? 443 : 80;
	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (end == NULL)
			return false;
		*name_len = (size_t)(end - s) + 1;
	} else {
		colon = memchr(s, ':', n);
		*name_len = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (*name_len == 0)
		return false;
	if (*name_len == n)
		return true;
	if (s[*name_len] != ':')
		return false;
	return parse_port(s + *name_len + 1, n - *name_len - 1, port);
}

/* s[0..n) names one of our names and our port. */
static bool
authority_ok(const struct web_hosts *h, const char *s, size_t n)
{
	size_t name_len;
	uint16_t port;

	if (!split(s, n, h->tls, &name_len, &port) || port != h->port)
		return false;
	for (size_t i = 0; i < h->n; i++)
		if (strlen(h->names[i]) == name_len &&
		    strncasecmp(s, h->names[i], name_len) == 0)
			return true;
	return false;
}

bool
web_host_ok(const struct web_hosts *h, const char *host)
{
	return host != NULL && authority_ok(h, host, strlen(host));
}

bool
web_origin_ok(
    const struct web_hosts *h, const char *origin, const char *referer)
{
	const char *scheme = h->tls ? "https://" : "http://";
	const char *src = origin != NULL ? origin : referer;
	size_t sl = strlen(scheme), n;

	if (src == NULL || strncasecmp(src, scheme, sl) != 0)
		return false;
	src += sl;
	n = strcspn(src, "/?#");
	if (origin != NULL && src[n] != '\0')
		return false; /* an Origin is scheme://host[:port], no path */
	if (referer != NULL && origin == NULL && src[n] != '/' &&
	    src[n] != '\0')
		return false; /* a Referer's authority ends with its path */
	return authority_ok(h, src, n);
}
