/*
 * assets.c: the style sheet and the one script of the web interface,
 * built into the program: nothing is fetched from the internet, so the
 * pages work on an agency's machine with no connection at all. The sheet
 * is sized for a 1366x768 screen, keeps a visible focus ring for the
 * keyboard, contrast above 4.5:1, and prints a case as a plain sheet. The
 * script only shows a progress bar while documents upload; every page
 * works without it.
 */
#include <string.h>

#include "web/web.h"

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.45 'DejaVu Sans',Arial,sans-serif;"
    "color:#1b1b1b;background:#f6f6f2}"
    "header{background:#1d3b2a;color:#fff}"
    "nav{display:flex;flex-wrap:wrap;align-items:center;gap:.2em 1em;"
    "max-width:1300px;margin:0 auto;padding:.4em 1em}"
    "nav ul{display:flex;flex-wrap:wrap;gap:.2em 1em;list-style:none;"
    "margin:0;padding:0;flex:1}"
    "nav a,nav .link{color:#fff}"
    "nav a[aria-current]{font-weight:bold;text-decoration-thickness:3px}"
    ".brand{font-weight:bold;font-size:1.2em;margin-right:1em}"
    ".who{font-size:.9em}"
    "main{max-width:1300px;margin:0 auto;padding:1em}"
    "h1{font-size:1.5em;margin:.3em 0 .6em}"
    "h2{font-size:1.2em;margin:1.2em 0 .4em;border-bottom:2px solid #c9c9bf}"
    "a{color:#0b4f8a}"
    ":focus{outline:3px solid #e0a100;outline-offset:2px}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;"
    "vertical-align:top}"
    "th{background:#ecece4}"
    ".counts{display:flex;gap:1em;flex-wrap:wrap;margin:0 0 1em;padding:0;"
    "list-style:none}"
    ".counts li{background:#fff;border:1px solid #c9c9bf;padding:.5em 1em}"
    ".counts strong{font-size:1.6em;display:block}"
    ".late{color:#8a1010;font-weight:bold}"
    "form.step,fieldset{background:#fff;border:1px solid #c9c9bf;"
    "padding:.6em 1em;margin:.6em 0}"
    "legend{font-weight:bold}"
    "label{display:block;margin:.5em 0 .15em;font-weight:bold}"
    "label.check{display:inline-block;font-weight:normal;margin-right:1em}"
    "input[type=text],input[type=password],input[type=number],"
    "input[type=date],input[type=datetime-local],select,textarea{"
    "font:inherit;padding:.3em;border:1px solid #767676;width:100%;"
    "max-width:34em;background:#fff}"
    "textarea{min-height:5em}"
    "button,.button{font:inherit;padding:.4em 1.1em;border:2px solid #1d3b2a;"
    "background:#1d3b2a;color:#fff;cursor:pointer;text-decoration:none;"
    "display:inline-block;margin:.4em .4em 0 0}"
    "button.secondary{background:#fff;color:#1d3b2a}"
    "button.link{background:none;border:none;padding:0;margin:0;"
    "text-decoration:underline}"
    "form.inline{display:inline}"
    ".error{color:#8a1010;font-weight:bold}"
    "p.error,.notice{padding:.5em 1em;border-left:6px solid #8a1010;"
    "background:#fff}"
    ".notice{border-left-color:#1d6b3a}"
    ".field-error{color:#8a1010;font-weight:bold;margin:.2em 0}"
    "[aria-invalid=true]{border:2px solid #8a1010}"
    "dl{display:grid;grid-template-columns:minmax(10em,16em) 1fr;gap:.2em 1em;"
    "background:#fff;padding:.6em 1em;margin:0}"
    "dt{font-weight:bold}dd{margin:0}"
    ".cols{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
    "@media (max-width:900px){.cols{grid-template-columns:1fr}}"
    "progress{width:100%;max-width:34em;height:1.2em}"
    "footer{max-width:1300px;margin:2em auto;padding:0 1em;font-size:.85em;"
    "color:#444}"
    ".ok{color:#1d6b3a;font-weight:bold}"
    "@media print{header,footer,form,.noprint{display:none}"
    "body{background:#fff;font-size:12pt}"
    "main{max-width:none;padding:0}"
    "dl,table{background:none}"
    "a{color:#000;text-decoration:none}}";

/* Upload progress: a form marked data-upload is sent by XMLHttpRequest so
 * that a bar can follow the bytes; the answer's address is then opened as
 * a normal navigation would. */
static const char js[] =
    "document.querySelectorAll('form[data-upload]').forEach(function(f){\n"
    "  f.addEventListener('submit',function(e){\n"
    "    var files=f.querySelectorAll('input[type=file]'),n=0;\n"
    "    files.forEach(function(i){n+=i.files.length;});\n"
    "    if(!n||!window.XMLHttpRequest)return;\n"
    "    e.preventDefault();\n"
    "    var p=f.querySelector('progress');\n"
    "    if(p){p.hidden=false;p.value=0;}\n"
    "    var x=new XMLHttpRequest();\n"
    "    x.open('POST',f.action);\n"
    "    x.upload.onprogress=function(ev){\n"
    "      if(p&&ev.lengthComputable)p.value=ev.loaded/ev.total;};\n"
    "    x.onload=function(){\n"
    "      if(x.responseURL&&x.responseURL!==f.action){\n"
    "        location.href=x.responseURL;return;}\n"
    "      document.open();document.write(x.responseText);document.close();};\n"
    "    x.onerror=function(){if(p)p.hidden=true;\n"
    "      alert(f.getAttribute('data-lost'));location.href='/';};\n"
    "    x.send(new FormData(f));\n"
    "  });\n"
    "});\n"
    "document.querySelectorAll('[data-print]').forEach(function(b){\n"
    "  b.addEventListener('click',function(){window.print();});\n"
    "});\n";

const char *
asset_get(const char *path, const char **type)
{
	if (strcmp(path, "/static/sira.css") == 0) {
		*type = "text/css; charset=utf-8";
		return css;
	}
	if (strcmp(path, "/static/sira.js") == 0) {
		*type = "text/javascript; charset=utf-8";
		return js;
	}
	return NULL;
}
