/*
 * web.h: the caseworkers' web interface (sira-agent web), served by the
 * agent on the agency's own machine: the HTTP server and its guards
 * (server.c), request bodies (form.c), sessions, CSRF tokens and the login
 * limiter (session.c), HTML building and the page frame (html.c), the
 * style sheet and the one script (assets.c), the words for codes
 * (labels.c), and the screens: login
 * (page_login.c), inbox and case (page_cases.c), the forms of the steps a
 * case may take (step_forms.c) and what they send (page_steps.c), query
 * arguments, redirects and audit entries (req.c), the referral form
 * (page_refer.c), the directory, status and accounts (page_admin.c).
 * docs/WEB.md says what it protects and what it does not.
 *
 * Every step goes through the workflow room, exactly as the CLI's: the
 * web only turns a form into struct wf_args and a record into HTML. One
 * process, one thread: the server's state belongs to web_serve's loop.
 */
#ifndef SIRA_AGENT_WEB_H
#define SIRA_AGENT_WEB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "store/store.h"

/* ---- what `sira-agent web` is given ---- */
struct web_opts {
	const char *listen;   /* address to bind: "127.0.0.1" unless said */
	uint16_t port;        /* 0: any free port (HOME/web.port says which) */
	const char *tls_cert; /* PEM files: required off loopback */
	const char *tls_key;
	const char *host; /* extra accepted Host name (behind TLS), or NULL */
	uint64_t idle;    /* seconds of inactivity that end a session */
};

#define WEB_PORT_DEFAULT 8080
#define WEB_IDLE_DEFAULT ((uint64_t)15 * 60)
#define WEB_SESSION_MAX_AGE ((uint64_t)12 * 3600)

/*
 * Serve until *stop is set (SIGINT, SIGTERM). Returns 0, -SIRA_EINVAL
 * (bad options: another address without TLS), -SIRA_EIO (cannot listen)
 * or -SIRA_ENOMEM.
 */
int web_serve(struct agent *a, const struct web_opts *o,
    volatile sig_atomic_t *stop, struct sira_err *err);

/* ---- origin.c: the names a browser may use for this server ---- */
#define WEB_HOSTS_MAX 6
struct web_hosts {
	char names[WEB_HOSTS_MAX][256]; /* without port; IPv6 in brackets */
	size_t n;
	uint16_t port; /* the port we listen on */
	bool tls;      /* https: a Host without port means 443, else 80 */
};

void web_hosts_init(struct web_hosts *h, uint16_t port, bool tls);
/* Accept name ("localhost", "10.0.0.5", "::1", "sira.example.ml"); false
 * when the list is full or the name too long. */
bool web_hosts_add(struct web_hosts *h, const char *name);
/* Does a Host header name us (name and port; NULL: no)? */
bool web_host_ok(const struct web_hosts *h, const char *host);
/* Does a POST come from our pages: its Origin, or when the browser sent
 * none, its Referer's scheme, name and port? */
bool web_origin_ok(
    const struct web_hosts *h, const char *origin, const char *referer);

/* ---- html.c: a growing page, escaping everything it is not told is
 * markup ---- */
struct html {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: the page is replaced by an error */
};

void html_raw(struct html *h, const char *s);  /* markup we wrote */
void html_text(struct html *h, const char *s); /* any text: escaped */
void html_fmt(struct html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))); /* markup + numbers only */
/* An element whose content is escaped text: <tag attrs>text</tag>. */
void html_tag(
    struct html *h, const char *tag, const char *attrs, const char *text);
void html_free(struct html *h);

/* t as clock_local() writes it: "05/12/2026 14:30", local time; "—" for 0. */
void html_when(struct html *h, uint64_t t);

/* ---- session.c ---- */
#define WEB_SESSIONS_MAX 64
#define WEB_TOKEN_HEX 65
#define WEB_LIMITS_MAX 64
/* The login limiter: this many failed logins from one address within
 * WEB_LIMIT_WINDOW seconds make it wait. */
#define WEB_LIMIT_FAILS 10
#define WEB_LIMIT_WINDOW ((uint64_t)10 * 60)

struct web_session {
	bool used;
	uint8_t id[32];
	char csrf[WEB_TOKEN_HEX]; /* hex, sent in every form */
	char login[USER_LOGIN_MAX + 1];
	char full_name[USER_NAME_MAX + 1];
	enum user_role role;
	char lang[3];
	uint64_t created, seen;
};

struct web_limit {
	char addr[64];
	uint32_t fails;
	uint64_t since;
};

struct web_sessions {
	struct web_session s[WEB_SESSIONS_MAX];
	struct web_limit lim[WEB_LIMITS_MAX];
	uint64_t idle;
};

/* A new session for u (the oldest is dropped when all are taken); its
 * cookie value (hex) is written to cookie. NULL only if the random source
 * fails, which libsodium never lets happen. */
struct web_session *web_session_open(struct web_sessions *ss,
    const struct user_info *u, uint64_t now, char cookie[WEB_TOKEN_HEX]);
/* The live session of a cookie value, refreshed; NULL when unknown,
 * idle too long or too old (then forgotten). */
struct web_session *web_session_find(
    struct web_sessions *ss, const char *cookie, uint64_t now);
void web_session_close(struct web_session *s);
/* Does the form's token match the session's (constant time)? */
bool web_session_csrf_ok(const struct web_session *s, const char *token);
/* Login limiter by client address: may it try now? Record a failure. */
bool web_session_may_try(
    struct web_sessions *ss, const char *addr, uint64_t now);
void web_session_failed(
    struct web_sessions *ss, const char *addr, uint64_t now);
void web_session_succeeded(struct web_sessions *ss, const char *addr);
/* End every session of login (disabled, password changed). */
void web_session_drop_user(struct web_sessions *ss, const char *login);

/* ---- form.c: a request body (urlencoded or multipart) ---- */
#define WEB_FORM_FIELDS_MAX 96
#define WEB_FORM_TEXT_MAX ((size_t)64 * 1024) /* all text fields together */
#define WEB_FORM_FILES_MAX 8

struct form_field {
	char *name, *value;
};
struct form_file {
	char *field, *name;  /* form field, the file's name as the user gave */
	char dir[PATH_MAX];  /* HOME/tmp/web-XXXXXX/, removed by form_free */
	char path[PATH_MAX]; /* dir/<safe name>, 0600, removed by form_free */
	uint64_t size;
	int fd;
};
struct form {
	struct form_field f[WEB_FORM_FIELDS_MAX];
	size_t n;
	struct form_file files[WEB_FORM_FILES_MAX];
	size_t n_files;
	size_t text_len;
	uint64_t file_max; /* largest document accepted (agent.conf) */
	char tmpdir[PATH_MAX];
	const char *error; /* first problem met, a msgid; NULL when fine */
	void *pp;          /* struct MHD_PostProcessor */
};

int form_init(
    struct form *fm, void *connection, const char *tmpdir, uint64_t file_max);
/* Feed a chunk of the body. */
void form_feed(struct form *fm, const char *data, size_t len);
/* Close the files and stop parsing; fields stay readable. */
void form_done(struct form *fm);
void form_free(struct form *fm);
/* The value of field name ("" when absent). */
const char *form_get(const struct form *fm, const char *name);
/* Is some field name equal to value (checkboxes)? */
bool form_has(const struct form *fm, const char *name, const char *value);

/* ---- form_referral.c ---- */
/* The referral form's fields as the referral's JSON document, or NULL
 * when out of memory. The caller owns (json_decref) it. */
json_t *form_referral_json(const struct form *f);

/* ---- server.c: one request, as the pages see it ---- */
struct web;
struct web_req {
	struct web *w;
	struct agent *a;
	struct web_session *s; /* NULL before login */
	const char *method;
	const char *path;   /* the URL's path, decoded by the server */
	const char *client; /* client address, for the limiter and logs */
	struct form *form;  /* POST body, or NULL */
	struct html out;
	int status;                   /* HTTP status; 200 unless set */
	char location[512];           /* a redirect (303) when not empty */
	char cookie[256];             /* a Set-Cookie header when not empty */
	char error[SIRA_ERR_MSG_MAX]; /* a refused step, shown on the page */
	const char *type;             /* Content-Type; text/html unless set */
	char file[PATH_MAX];          /* a file to send instead of out, or "" */
	bool file_unlink;    /* remove it once opened (a made export) */
	char file_name[256]; /* its name for Content-Disposition */
	bool tls;
	uint64_t now;
	struct web_sessions *sessions;
	void *conn; /* struct MHD_Connection, for web_query */
};

/* A query-string argument of the request, or NULL. */
const char *web_query(const struct web_req *r, const char *name);

void web_redirect(struct web_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* html.c: the frame of every page (title escaped; nav when logged in). */
void page_begin(struct web_req *r, const char *title);
void page_end(struct web_req *r);
/* The attributes of a form that uploads documents (progress bar; what to
 * say if the connection drops, rather than sending it twice). */
void upload_attrs(struct web_req *r);
/* The hidden CSRF field of a form. */
void page_csrf(struct web_req *r);
/* A whole page saying what went wrong, with status. */
void page_error(struct web_req *r, int status, const char *msg);
/* The notice a step leaves for the page it redirects to (?ok=WORD):
 * only known words are shown, as fixed sentences. */
void page_flash(struct web_req *r);

/* Record a view or an action in the audit chain with the person's name. */
int web_audit(struct web_req *r, const char *action, const char *what);

/* labels.c: the words for codes, in the current language (a code without
 * a label comes back as it is). */
const char *label_leg(int state);
const char *label_request(int state);
const char *label_action(const char *action);
const char *label_delivery(const char *outbox_state);
const char *label_role(int role);
const char *label_user_role(int role);
const char *label_choice(const char *code);
const char *label_field(const char *json_path);

/* page_cases.c, for the other screens: the case's referral, as a list of
 * its fields (the print sheet shares it). */
struct Sira__V1__CaseRecord;
void case_referral_dl(struct web_req *r, const struct Sira__V1__CaseRecord *c);

/* step_forms.c: the forms of the steps workflow_allowed permits, and the
 * refusal of the last one tried (r->error), for the case page. */
struct wf_allowed;
void step_forms(struct web_req *r, const struct Sira__V1__CaseRecord *c,
    const struct wf_allowed *ok);
void step_forms_decide(
    struct web_req *r, const char *ref, const char *request_hex);
void step_error(struct web_req *r);

/* page_admin.c: a <datalist id="agencies"> of the agencies one may send
 * to, for the forms. */
void directory_datalist(struct web_req *r);

/* assets.c */
const char *asset_get(const char *path, const char **type);

/* The screens. Each returns after filling r (never fails: errors are
 * pages). */
void page_login(struct web_req *r);
void page_logout(struct web_req *r);
void page_lang(struct web_req *r);
void page_inbox(struct web_req *r);
void page_case(struct web_req *r, const char *ref);
void page_case_print(struct web_req *r, const char *ref);
void page_case_export(struct web_req *r, const char *ref);
void page_document(struct web_req *r, const char *msgid, const char *index);
void page_step(struct web_req *r, const char *ref, const char *step);
void page_refer_form(struct web_req *r);
void page_request_form(struct web_req *r);
void page_refer_submit(struct web_req *r);
void page_directory(struct web_req *r);
void page_status(struct web_req *r);
void page_users(struct web_req *r);
void page_users_post(struct web_req *r);

#endif
