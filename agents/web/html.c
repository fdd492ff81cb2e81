/*
 * html.c: building a page. Text goes through html_text, which escapes the
 * five characters that matter in HTML bodies and attributes, so nothing a
 * person or another agency wrote can become markup. Also the frame every
 * page shares (head, navigation, footer), flash notices and dates as
 * people write them in Mali.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "clock.h"
#include "web/web.h"

static void
grow(struct html *h, size_t more)
{
	size_t cap;
	char *p;

	if (h->failed || h->len + more + 1 <= h->cap)
		return;
	cap = h->cap ? h->cap : 4096;
	while (cap < h->len + more + 1)
		cap *= 2;
	if ((p = realloc(h->p, cap)) == NULL) {
		h->failed = true;
		return;
	}
	h->p = p;
	h->cap = cap;
}

static void
put(struct html *h, const char *s, size_t n)
{
	grow(h, n);
	if (h->failed)
		return;
	memcpy(h->p + h->len, s, n);
	h->len += n;
	h->p[h->len] = '\0';
}

void
html_raw(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

void
html_text(struct html *h, const char *s)
{
	for (const char *c = s; c != NULL && *c != '\0'; c++) {
		switch (*c) {
		case '&':
			put(h, "&amp;", 5);
			break;
		case '<':
			put(h, "&lt;", 4);
			break;
		case '>':
			put(h, "&gt;", 4);
			break;
		case '"':
			put(h, "&quot;", 6);
			break;
		case '\'':
			put(h, "&#39;", 5);
			break;
		default:
			put(h, c, 1);
		}
	}
}

void
html_fmt(struct html *h, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		put(h, small, (size_t)n);
		return;
	}
	grow(h, (size_t)n);
	if (h->failed)
		return;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above
	(void)vsnprintf(h->p + h->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->len += (size_t)n;
}

void
html_tag(struct html *h, const char *tag, const char *attrs, const char *text)
{
	html_fmt(h, "<%s%s%s>", tag, attrs ? " " : "", attrs ? attrs : "");
	html_text(h, text);
	html_fmt(h, "</%s>", tag);
}

void
html_free(struct html *h)
{
	free(h->p);
	memset(h, 0, sizeof(*h));
}

void
html_when(struct html *h, uint64_t t)
{
	char d[SIRA_LOCAL_STR_LEN];

	clock_local(t, d);
	html_text(h, d);
}

static void
nav_item(struct web_req *r, const char *href, const char *label)
{
	bool here = strcmp(r->path, href) == 0 ||
	    (href[1] != '\0' && strncmp(r->path, href, strlen(href)) == 0);

	html_fmt(&r->out, "<li><a href=\"%s\"%s>", href,
	    here ? " aria-current=\"page\"" : "");
	html_text(&r->out, label);
	html_raw(&r->out, "</a></li>");
}

static void
nav(struct web_req *r)
{
	const struct web_session *s = r->s;

	if (s == NULL)
		return;
	html_raw(&r->out, "<header><nav aria-label=\"");
	html_text(&r->out, _("Main menu"));
	html_raw(&r->out, "\"><span class=\"brand\">Sira</span><ul>");
	nav_item(r, "/", _("Inbox"));
	nav_item(r, "/refer", _("New referral"));
	if (r->a->me->role == SIRA_ROLE_JUSTICE)
		nav_item(r, "/request", _("Request a case file"));
	nav_item(r, "/directory", _("Agencies"));
	nav_item(r, "/status", _("Status"));
	if (s->role == USER_ADMIN)
		nav_item(r, "/admin/users", _("Accounts"));
	html_raw(&r->out,
	    "</ul><form method=\"post\" action=\"/lang\" "
	    "class=\"inline\">");
	page_csrf(r);
	html_fmt(&r->out,
	    "<button name=\"lang\" value=\"%s\" class=\"link\">%s</button>",
	    strcmp(s->lang, "en") == 0 ? "fr" : "en",
	    strcmp(s->lang, "en") == 0 ? "Français" : "English");
	html_raw(&r->out, "</form><span class=\"who\">");
	html_text(&r->out, s->full_name);
	html_raw(&r->out, " · ");
	html_text(&r->out, r->a->me->agency_id);
	html_raw(&r->out,
	    "</span><form method=\"post\" action=\"/logout\" "
	    "class=\"inline\">");
	page_csrf(r);
	html_raw(&r->out, "<button class=\"link\">");
	html_text(&r->out, _("Log out"));
	html_raw(&r->out, "</button></form></nav></header>");
}

void
page_begin(struct web_req *r, const char *title)
{
	html_fmt(&r->out,
	    "<!DOCTYPE html><html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>",
	    i18n_lang());
	html_text(&r->out, title);
	html_raw(&r->out,
	    " — Sira</title><link rel=\"stylesheet\" "
	    "href=\"/static/sira.css\"></head><body>");
	if (r->s != NULL)
		nav(r);
	html_raw(&r->out, "<main id=\"main\">");
	html_tag(&r->out, "h1", NULL, title);
}

void
page_end(struct web_req *r)
{
	html_raw(&r->out, "</main><footer>");
	html_text(&r->out,
	    _("Sira — national referral mechanism. Contents "
	      "are end-to-end encrypted; the broker cannot "
	      "read them."));
	html_raw(&r->out,
	    "</footer><script src=\"/static/sira.js\" "
	    "defer></script></body></html>");
}

void
upload_attrs(struct web_req *r)
{
	html_raw(&r->out,
	    " enctype=\"multipart/form-data\" data-upload "
	    "data-lost=\"");
	html_text(&r->out,
	    _("The connection was lost while sending. Look at the case in "
	      "the inbox to see whether the step was recorded before you "
	      "send it again."));
	html_raw(&r->out, "\"");
}

void
page_csrf(struct web_req *r)
{
	if (r->s == NULL)
		return;
	html_fmt(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    r->s->csrf);
}

void
page_error(struct web_req *r, int status, const char *msg)
{
	html_free(&r->out);
	r->status = status;
	r->location[0] = '\0';
	page_begin(r,
	    status == 403     ? _("Not allowed") :
		status == 404 ? _("Not found") :
				_("Something went wrong"));
	html_raw(&r->out, "<p class=\"error\" role=\"alert\">");
	html_text(&r->out, msg);
	html_raw(&r->out, "</p><p><a href=\"/\">");
	html_text(&r->out, _("Back to the inbox"));
	html_raw(&r->out, "</a></p>");
	page_end(r);
}

void
page_flash(struct web_req *r)
{
	static const struct {
		const char *word, *text;
	} t[] = {
		{ "accept", N_("Accepted: the referrer will be told.") },
		{ "decline", N_("Declined: the referrer will be told.") },
		{ "feedback", N_("Feedback queued for the referrer.") },
		{ "revoke", N_("Referral withdrawn.") },
		{ "transfer", N_("Transfer queued with its documents.") },
		{ "request", N_("Request queued for the holder.") },
		{ "grant", N_("Case file queued for the requester.") },
		{ "refuse", N_("Refusal queued for the requester.") },
		{ "refer",
		    N_("Referral queued. It leaves as soon as the "
		       "broker can be reached; its receipt will show "
		       "here.") },
		{ "user", N_("Account saved.") },
	};
	const char *ok = web_query(r, "ok");

	for (size_t i = 0; ok != NULL && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(ok, t[i].word) == 0) {
			html_raw(
			    &r->out, "<p class=\"notice\" role=\"status\">");
			html_text(&r->out, _(t[i].text));
			html_raw(&r->out, "</p>");
		}
}
