/*
 * test_web_origin.c: agents/web/origin.c, the names a browser may use for
 * the web interface. A page elsewhere that points its DNS name at
 * 127.0.0.1 (DNS rebinding) or posts a form to us (CSRF) sends a Host or
 * an Origin that is not ours: refused. Ours are accepted however a browser
 * writes them: any case, the port left out when it is the scheme's,
 * IPv6 in brackets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "web/web.h"

static void
loopback(struct web_hosts *h, uint16_t port, bool tls)
{
	web_hosts_init(h, port, tls);
	assert_true(web_hosts_add(h, "127.0.0.1"));
	assert_true(web_hosts_add(h, "localhost"));
	assert_true(web_hosts_add(h, "::1"));
}

static void
test_host_plain(void **state)
{
	static const char *const refused[] = { "evil.example:8080",
		"127.0.0.1.evil.example:8080", "127.0.0.1:8081", "127.0.0.1",
		"127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:0",
		"127.0.0.1:8080/", "127.0.0.1:8080 ", "[::1", "[::1]8080",
		"::1:8080", "127.0.0.1:8080@evil", ":8080", "",
		"localhost.:8080" };
	struct web_hosts h;

	(void)state;
	loopback(&h, 8080, false);
	assert_true(web_host_ok(&h, "127.0.0.1:8080"));
	assert_true(web_host_ok(&h, "LOCALHOST:8080"));
	assert_true(web_host_ok(&h, "[::1]:8080"));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_false(web_host_ok(&h, refused[i]));
	assert_false(web_host_ok(&h, NULL));
}

/* Behind TLS on 443 a browser writes "Host: name" without the port. */
static void
test_host_default_port(void **state)
{
	struct web_hosts h;

	(void)state;
	loopback(&h, 443, true);
	assert_true(web_hosts_add(&h, "10.0.0.5"));
	assert_true(web_hosts_add(&h, "sira.police.ml"));
	assert_true(web_host_ok(&h, "sira.police.ml"));
	assert_true(web_host_ok(&h, "sira.police.ml:443"));
	assert_true(web_host_ok(&h, "10.0.0.5"));
	assert_false(web_host_ok(&h, "sira.police.ml:80"));
	loopback(&h, 80, false);
	assert_true(web_host_ok(&h, "localhost"));
	assert_false(web_host_ok(&h, "localhost:443"));
}

static void
test_host_ipv6_listen(void **state)
{
	struct web_hosts h;

	(void)state;
	web_hosts_init(&h, 8443, true);
	assert_true(web_hosts_add(&h, "fd00::5"));
	assert_true(web_host_ok(&h, "[fd00::5]:8443"));
	assert_true(web_host_ok(&h, "[FD00::5]:8443"));
	assert_false(web_host_ok(&h, "fd00::5:8443"));
	assert_false(web_host_ok(&h, "[fd00::6]:8443"));
}

static void
test_origin(void **state)
{
	static const char *const refused[] = { "http://evil.example:8080",
		"https://127.0.0.1:8080", "http://127.0.0.1:8080/",
		"http://127.0.0.1:8080/case", "null", "", "127.0.0.1:8080",
		"http://127.0.0.1:8080@evil.example",
		"http://127.0.0.1:8080?x" };
	struct web_hosts h;

	(void)state;
	loopback(&h, 8080, false);
	assert_true(web_origin_ok(&h, "http://127.0.0.1:8080", NULL));
	assert_true(web_origin_ok(&h, "HTTP://LocalHost:8080", NULL));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_false(web_origin_ok(&h, refused[i], NULL));
	/* no Origin: the Referer's scheme and authority, then its path */
	assert_true(
	    web_origin_ok(&h, NULL, "http://127.0.0.1:8080/case?ref=X"));
	assert_true(web_origin_ok(&h, NULL, "http://[::1]:8080/"));
	assert_false(web_origin_ok(&h, NULL, "http://evil.example:8080/"));
	assert_false(
	    web_origin_ok(&h, NULL, "http://127.0.0.1:8080@evil.example/"));
	assert_false(web_origin_ok(&h, NULL, NULL));
	/* an Origin present is the answer, whatever the Referer says */
	assert_false(web_origin_ok(
	    &h, "http://evil.example:8080", "http://127.0.0.1:8080/"));
	loopback(&h, 443, true);
	assert_true(web_origin_ok(&h, "https://localhost", NULL));
	assert_false(web_origin_ok(&h, "http://localhost", NULL));
}

static void
test_list_bounds(void **state)
{
	char longname[300];
	struct web_hosts h;

	(void)state;
	web_hosts_init(&h, 8080, false);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(web_hosts_add(&h, longname));
	assert_false(web_hosts_add(&h, ""));
	for (size_t i = 0; i < WEB_HOSTS_MAX; i++)
		assert_true(web_hosts_add(&h, "localhost"));
	assert_false(web_hosts_add(&h, "one.too.many"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_plain),
		cmocka_unit_test(test_host_default_port),
		cmocka_unit_test(test_host_ipv6_listen),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_list_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
