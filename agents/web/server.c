/*
 * server.c: the web interface's HTTP server (libmicrohttpd, no thread of
 * its own: web_serve's loop drives it) and the guards every request
 * passes before a page sees it:
 *
 *   - the Host header must name this server (127.0.0.1, localhost, [::1]
 *     or the --host given, with the port): a page of another site that
 *     rebinds its DNS name to 127.0.0.1 is refused (DNS rebinding);
 *   - a POST must come from one of our own pages (Origin, or Referer when
 *     a browser sends no Origin) and carry the session's CSRF token;
 *   - every page but the login needs a live session; administrators'
 *     pages need the administrator role;
 *   - answers forbid framing, sniffing, caching and any outside resource
 *     (Content-Security-Policy), and cookies are HttpOnly, SameSite=Strict
 *     (and Secure under TLS).
 *
 * It listens on 127.0.0.1 unless told otherwise, and on another address
 * only with TLS.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "clock.h"
#include "fileio.h"
#include "i18n.h"
#include "log.h"
#include "web/web.h"

struct web {
	struct agent *a;
	struct web_opts o;
	struct web_sessions sessions;
	struct web_hosts hosts;
	char tmpdir[PATH_MAX];
	bool tls;
};

/* What the server keeps for one request between the calls that bring its
 * body. */
struct conn {
	struct form form;
	bool has_form;
	bool refused; /* answered before the body: ignore what follows */
};

static const char *const csp =
    "default-src 'none'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static bool
host_ok(const struct web *w, struct MHD_Connection *c)
{
	return web_host_ok(&w->hosts, header(c, "Host"));
}

static void
client_addr(struct MHD_Connection *c, char out[64])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	(void)snprintf(out, 64, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, 64);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, 64);
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct MHD_Response *resp, int status)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Security-Policy", csp);
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(
	    resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A short refusal before any page (bad Host, bad Origin): plain text. */
static enum MHD_Result
refuse(struct MHD_Connection *c, int status, const char *msg)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(msg), (void *)(uintptr_t)msg, MHD_RESPMEM_MUST_COPY);

	if (resp != NULL)
		(void)MHD_add_response_header(
		    resp, "Content-Type", "text/plain; charset=utf-8");
	return queue(c, resp, status);
}

/* Content-Disposition for a file name of UTF-8 (RFC 6266): an ASCII
 * filename for old browsers, '_' for anything else, and filename* with
 * every byte outside RFC 5987's attr-char percent-encoded. */
static void
disposition(const char *name, char *out, size_t len)
{
	static const char keep[] = "!#$&+-.^_`|~";
	size_t j;

	j = (size_t)snprintf(out, len, "attachment; filename=\"");
	for (const char *p = name; *p != '\0' && j + 2 < len; p++)
		out[j++] = (unsigned char)*p < 0x20 ||
			(unsigned char)*p > 0x7e || *p == '"' || *p == '\\' ?
		    '_' :
		    *p;
	j += (size_t)snprintf(out + j, len - j, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name;
	     *p != '\0' && j + 4 < len; p++) {
		if ((*p < 0x80 && isalnum(*p)) || strchr(keep, *p) != NULL)
			out[j++] = (char)*p;
		else
			j += (size_t)snprintf(out + j, len - j, "%%%02X", *p);
	}
	out[j < len ? j : len - 1] = '\0';
}

/* The file of a download as the response, or NULL. */
static struct MHD_Response *
file_response(const struct web_req *r)
{
	struct MHD_Response *resp;
	struct stat st;
	char disp[1200];
	int fd = open(r->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			(void)close(fd);
		return NULL;
	}
	if (r->file_unlink)
		(void)unlink(r->file); /* the open fd keeps it readable */
	if ((resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd)) ==
	    NULL) {
		(void)close(fd);
		return NULL;
	}
	disposition(r->file_name, disp, sizeof(disp));
	(void)MHD_add_response_header(resp, "Content-Disposition", disp);
	return resp;
}

static enum MHD_Result
answer(struct MHD_Connection *c, struct web_req *r)
{
	struct MHD_Response *resp;

	if (r->out.failed) {
		html_free(&r->out);
		return refuse(c, 500, _("Out of memory."));
	}
	if (r->file[0] != '\0' && r->status == 200) {
		resp = file_response(r);
		html_free(&r->out);
		if (resp == NULL)
			return refuse(c, 404, _("Document not found."));
	} else {
		resp = MHD_create_response_from_buffer(r->out.len,
		    r->out.p != NULL ? r->out.p : (char *)(uintptr_t) "",
		    r->out.p != NULL ? MHD_RESPMEM_MUST_FREE :
				       MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			html_free(&r->out);
		r->out.p = NULL;
	}
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type",
	    r->file[0] != '\0'  ? "application/octet-stream" :
		r->type != NULL ? r->type :
				  "text/html; charset=utf-8");
	if (r->location[0] != '\0')
		(void)MHD_add_response_header(resp, "Location", r->location);
	if (r->cookie[0] != '\0')
		(void)MHD_add_response_header(resp, "Set-Cookie", r->cookie);
	return queue(c, resp, r->status);
}

/* "/cases/REF/step": copy the part after prefix up to the next '/' (or
 * the end) into out; returns what follows it, or NULL if it does not fit
 * or is empty. */
static const char *
segment(const char *path, const char *prefix, char *out, size_t len)
{
	size_t pl = strlen(prefix), n;

	if (strncmp(path, prefix, pl) != 0)
		return NULL;
	path += pl;
	n = strcspn(path, "/");
	if (n == 0 || n >= len)
		return NULL;
	memcpy(out, path, n);
	out[n] = '\0';
	return path + n;
}

static const char *
query_or_empty(const struct web_req *r, const char *name)
{
	const char *v = web_query(r, name);

	return v != NULL ? v : "";
}

/* The pages of a logged-in person. */
static void
route(struct web_req *r)
{
	bool get = strcmp(r->method, "GET") == 0;
	char a[96], b[96];
	const char *rest;

	if (strcmp(r->path, "/") == 0 && get)
		page_inbox(r);
	else if (strcmp(r->path, "/logout") == 0 && !get)
		page_logout(r);
	else if (strcmp(r->path, "/lang") == 0 && !get)
		page_lang(r);
	else if (strcmp(r->path, "/refer") == 0)
		get ? page_refer_form(r) : page_refer_submit(r);
	else if (strcmp(r->path, "/request") == 0 && get)
		page_request_form(r);
	else if (strcmp(r->path, "/directory") == 0 && get)
		page_directory(r);
	else if (strcmp(r->path, "/status") == 0 && get)
		page_status(r);
	else if (strcmp(r->path, "/admin/users") == 0) {
		if (r->s->role != USER_ADMIN)
			page_error(r, 403,
			    _("This page is for the agency's administrators."));
		else
			get ? page_users(r) : page_users_post(r);
	} else if (strcmp(r->path, "/case") == 0 && get)
		page_case(r, query_or_empty(r, "ref"));
	else if (strcmp(r->path, "/case/print") == 0 && get)
		page_case_print(r, query_or_empty(r, "ref"));
	else if (strcmp(r->path, "/case/export") == 0 && get)
		page_case_export(r, query_or_empty(r, "ref"));
	else if (strncmp(r->path, "/case/", 6) == 0 && !get)
		page_step(r, form_get(r->form, "ref"), r->path + 6);
	else if ((rest = segment(r->path, "/documents/", a, sizeof(a))) !=
		NULL &&
	    segment(rest, "/", b, sizeof(b)) != NULL && get)
		page_document(r, a, b);
	else
		page_error(r, 404, _("This page does not exist."));
}

static const char *
cookie_value(struct MHD_Connection *c)
{
	return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sira_session");
}

/* An account disabled meanwhile (here or by `sira-agent user disable`)
 * ends its sessions at their next request. */
static void
check_account(struct web_req *r)
{
	struct vault_txn *t = NULL;
	struct user_info u;
	int rc;

	if (r->s == NULL)
		return;
	if ((rc = vault_begin(r->a->vault, false, &t, NULL)) == 0)
		rc = users_get(t, r->s->login, &u, NULL);
	vault_abort(&t);
	if (rc == -SIRA_ENOTFOUND || (rc == 0 && u.disabled)) {
		log_event(LOG_INFO, "web.session_ended", "user=%s code=%d",
		    r->s->login, -rc);
		web_session_close(r->s);
		r->s = NULL;
	}
}

static void
handle(struct web *w, struct MHD_Connection *c, struct web_req *r)
{
	const char *lang;

	r->s = web_session_find(&w->sessions, cookie_value(c), r->now);
	check_account(r);
	if (r->s != NULL)
		i18n_use(r->s->lang);
	else {
		lang = MHD_lookup_connection_value(
		    c, MHD_GET_ARGUMENT_KIND, "lang");
		i18n_use(lang != NULL && strcmp(lang, "en") == 0 ? "en" : "fr");
	}
	if (strcmp(r->path, "/login") == 0) {
		page_login(r);
		return;
	}
	if (r->s == NULL) {
		if (strcmp(r->method, "GET") == 0)
			web_redirect(r, "/login");
		else
			page_error(
			    r, 403, _("Your session has ended: log in again."));
		return;
	}
	if (strcmp(r->method, "POST") == 0 &&
	    !web_session_csrf_ok(r->s, form_get(r->form, "csrf"))) {
		log_event(LOG_WARN, "web.csrf_refused", "user=%s path=%s",
		    r->s->login, r->path);
		page_error(r, 403,
		    _("This form is out of date or did not come from Sira. "
		      "Go back, reload the page and try again."));
		return;
	}
	route(r);
}

/* The first call for a request: the guards that need no body. */
static enum MHD_Result
begin(struct web *w, struct MHD_Connection *c, const char *method,
    struct conn *cn)
{
	if (!host_ok(w, c)) {
		log_event(LOG_WARN, "web.host_refused", "method=%s", method);
		cn->refused = true;
		return refuse(c, 421, "Host refusé / Host not allowed\n");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
	    strcmp(method, "HEAD") != 0) {
		cn->refused = true;
		return refuse(c, 405, "Méthode refusée / Method not allowed\n");
	}
	if (strcmp(method, "POST") == 0 &&
	    !web_origin_ok(
		&w->hosts, header(c, "Origin"), header(c, "Referer"))) {
		log_event(LOG_WARN, "web.origin_refused", "method=%s", method);
		cn->refused = true;
		return refuse(c, 403,
		    "Formulaire d'une autre origine refusé / "
		    "Cross-origin form refused\n");
	}
	if (strcmp(method, "POST") == 0) {
		if (form_init(&cn->form, c, w->tmpdir, w->a->home.attach_max) !=
		    0) {
			cn->refused = true;
			return refuse(
			    c, 415, "Formulaire illisible / Unreadable form\n");
		}
		cn->has_form = true;
	}
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct conn *cn = *con_cls;
	struct web_req r;
	const char *type;
	const char *asset;
	enum MHD_Result ret;
	char addr[64];

	(void)version;
	if (cn == NULL) {
		if ((cn = calloc(1, sizeof(*cn))) == NULL)
			return MHD_NO;
		*con_cls = cn;
		if (strncmp(url, "/static/", 8) == 0 &&
		    strcmp(method, "GET") == 0 && host_ok(w, c))
			return MHD_YES;
		return begin(w, c, method, cn);
	}
	if (cn->refused) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (cn->has_form)
			form_feed(&cn->form, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strncmp(url, "/static/", 8) == 0 &&
	    (asset = asset_get(url, &type)) != NULL) {
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(strlen(asset),
			(void *)(uintptr_t)asset, MHD_RESPMEM_PERSISTENT);
		if (resp != NULL)
			(void)MHD_add_response_header(
			    resp, "Content-Type", type);
		return queue(c, resp, 200);
	}
	if (cn->has_form)
		form_done(&cn->form);
	client_addr(c, addr);
	memset(&r, 0, sizeof(r));
	r.w = w;
	r.a = w->a;
	r.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	r.path = url;
	r.client = addr;
	r.form = cn->has_form ? &cn->form : NULL;
	r.status = 200;
	r.tls = w->tls;
	r.now = clock_now();
	r.sessions = &w->sessions;
	r.conn = c;
	handle(w, c, &r);
	ret = answer(c, &r);
	if (r.file_unlink)
		(void)unlink(r.file); /* a made export, sent or not */
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn == NULL)
		return;
	if (cn->has_form)
		form_free(&cn->form);
	free(cn);
	*con_cls = NULL;
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_event(LOG_WARN, "web.http", "what=\"%s\"", line);
}

static bool
loopback(const char *addr)
{
	return strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0 ||
	    strcmp(addr, "localhost") == 0;
}

/* Remove HOME/tmp/web-XXXXXX/ (an upload) and its one file. */
static void
remove_upload(const char *dir)
{
	struct dirent *e;
	char path[PATH_MAX];
	DIR *d = opendir(dir);

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
			(int)sizeof(path))
			(void)unlink(path);
	if (d != NULL)
		(void)closedir(d);
	(void)rmdir(dir);
}

/* HOME/tmp for uploads and exports, emptied of what a crash left there:
 * those files hold victims' documents in clear. */
static int
prepare_tmp(struct web *w, struct sira_err *err)
{
	struct dirent *e;
	char path[PATH_MAX];
	DIR *d;
	int rc;

	if ((rc = home_path(&w->a->home, "tmp", w->tmpdir, err)) != 0)
		return rc;
	if ((rc = fileio_mkdir(w->tmpdir, 0700, err)) != 0)
		return rc;
	if ((d = opendir(w->tmpdir)) == NULL)
		return sira_err_set(
		    err, SIRA_EIO, _("cannot read %s"), w->tmpdir);
	while ((e = readdir(d)) != NULL) {
		if (snprintf(path, sizeof(path), "%s/%s", w->tmpdir,
			e->d_name) >= (int)sizeof(path))
			continue;
		if (strncmp(e->d_name, "web-", 4) == 0)
			remove_upload(path);
		else if (strncmp(e->d_name, "export-", 7) == 0)
			(void)unlink(path);
	}
	(void)closedir(d);
	return 0;
}

static int
setup(struct web *w, struct agent *a, const struct web_opts *o,
    struct sira_err *err)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
	w->o = *o;
	if (w->o.listen == NULL)
		w->o.listen = "127.0.0.1";
	w->sessions.idle = w->o.idle ? w->o.idle : WEB_IDLE_DEFAULT;
	w->tls = o->tls_cert != NULL;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return sira_err_set(err, SIRA_EINVAL,
		    _("--tls-cert and --tls-key go together"));
	if (!loopback(w->o.listen) && !w->tls)
		return sira_err_set(err, SIRA_EINVAL,
		    _("listening on %s (not loopback) needs --tls-cert and "
		      "--tls-key: passwords and case files would cross the "
		      "network in clear"),
		    w->o.listen);
	return prepare_tmp(w, err);
}

/* The names a browser may use for us, once the port is known, and the
 * port in HOME/web.port (for --port 0, and for scripts). */
static int
bound(struct web *w, struct MHD_Daemon *d, struct sira_err *err)
{
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char path[PATH_MAX], text[16];
	int rc;

	if (di != NULL && di->port != 0)
		w->o.port = di->port;
	web_hosts_init(&w->hosts, w->o.port, w->tls);
	(void)web_hosts_add(&w->hosts, "127.0.0.1");
	(void)web_hosts_add(&w->hosts, "localhost");
	(void)web_hosts_add(&w->hosts, "::1");
	if (!loopback(w->o.listen))
		(void)web_hosts_add(&w->hosts, w->o.listen);
	if (w->o.host != NULL && !web_hosts_add(&w->hosts, w->o.host))
		return sira_err_set(err, SIRA_EINVAL, _("--host is too long"));
	(void)snprintf(text, sizeof(text), "%u\n", (unsigned)w->o.port);
	if ((rc = home_path(&w->a->home, "web.port", path, err)) == 0)
		rc = fileio_write(path, (const uint8_t *)text, strlen(text),
		    0600, false, err);
	return rc;
}

static int
read_pem(const char *path, char **out, struct sira_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = fileio_read(path, 1u << 20, &buf, &len, err)) != 0)
		return rc;
	if ((*out = realloc(buf, len + 1)) == NULL) {
		free(buf);
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	}
	(*out)[len] = '\0';
	return 0;
}

static struct MHD_Daemon *
start(struct web *w, const char *cert, const char *key)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	const struct sockaddr *sa;
	unsigned int flags = MHD_USE_ERROR_LOG;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	const char *addr =
	    strcmp(w->o.listen, "localhost") == 0 ? "127.0.0.1" : w->o.listen;
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons(w->o.port);
		sa = (const struct sockaddr *)&s4;
	} else if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(w->o.port);
		sa = (const struct sockaddr *)&s6;
		flags |= MHD_USE_IPv6;
	} else
		return NULL;
	if (w->tls)
		return MHD_start_daemon(flags | MHD_USE_TLS, w->o.port, NULL,
		    NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_log, w,
		    MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED,
		    on_done, w, MHD_OPTION_CONNECTION_LIMIT, 64u,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
		    MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		    MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY,
		    key, MHD_OPTION_END);
	return MHD_start_daemon(flags, w->o.port, NULL, NULL, on_request, w,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, w, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, w,
	    MHD_OPTION_CONNECTION_LIMIT, 64u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
}

int
web_serve(struct agent *a, const struct web_opts *o,
    volatile sig_atomic_t *stop, struct sira_err *err)
{
	struct web *w = calloc(1, sizeof(*w));
	char *cert = NULL, *key = NULL;
	struct MHD_Daemon *d = NULL;
	int rc;

	if (w == NULL)
		return sira_err_set(err, SIRA_ENOMEM, _("out of memory"));
	if ((rc = setup(w, a, o, err)) == 0 && w->tls &&
	    (rc = read_pem(o->tls_cert, &cert, err)) == 0)
		rc = read_pem(o->tls_key, &key, err);
	if (rc == 0 && (d = start(w, cert, key)) == NULL)
		rc = sira_err_set(err, SIRA_EIO,
		    _("cannot listen on %s port %u (address in use?)"),
		    w->o.listen, (unsigned)w->o.port);
	if (rc == 0 && (rc = bound(w, d, err)) != 0)
		MHD_stop_daemon(d);
	if (key != NULL)
		sodium_memzero(key, strlen(key));
	free(key);
	free(cert);
	if (rc == 0) {
		log_event(LOG_INFO, "web.listening",
		    "address=%s port=%u tls=%d", w->o.listen,
		    (unsigned)w->o.port, w->tls);
		while (!*stop)
			(void)MHD_run_wait(d, 500);
		MHD_stop_daemon(d);
		log_event(
		    LOG_INFO, "web.stopped", "port=%u", (unsigned)w->o.port);
	}
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
		web_session_close(&w->sessions.s[i]);
	free(w);
	return rc;
}
