/*
 * stats_svg.c: the committee's chart (docs/STATS.md): persons by month,
 * one stacked bar per month, one colour per exploitation type, written
 * by hand as a small SVG file (no dependency). Only published cells are
 * drawn; a month with hidden cells says how many under its bar, never
 * their values. A person of several types counts in each.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "i18n.h"

#define W_BAR 48
#define GAP 24
#define H_PLOT 300
#define LEFT 60
#define TOP 40
#define LEGEND 230

static const char *const colours[STATS_TYPES + 1] = { "#9e9e9e", "#c62828",
	"#1565c0", "#4e342e", "#6a1b9a", "#00838f", "#ef6c00", "#2e7d32",
	"#ad1457", "#283593", "#757575" };

/* Text for an XML attribute or element: & < > " escaped. */
static void
xml_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			(void)fputs("&amp;", f);
		else if (*s == '<')
			(void)fputs("&lt;", f);
		else if (*s == '>')
			(void)fputs("&gt;", f);
		else if (*s == '"')
			(void)fputs("&quot;", f);
		else
			(void)fputc(*s, f);
	}
}

static uint64_t
shown(const struct stats_cross *c, size_t i, size_t k)
{
	return c->hidden[i][k] ? 0 : c->cell[i][k];
}

static uint64_t
tallest(const struct stats_cross *c)
{
	uint64_t max = 1, sum;

	for (size_t i = 0; i < c->n; i++) {
		sum = 0;
		for (size_t k = 0; k <= STATS_TYPES; k++)
			sum += shown(c, i, k);
		if (sum > max)
			max = sum;
	}
	return max;
}

static void
bar(FILE *f, const struct stats_cross *c, size_t i, uint64_t max,
    uint64_t threshold)
{
	unsigned x = LEFT + (unsigned)i * (W_BAR + GAP), y = TOP + H_PLOT, h;
	size_t n_hidden = 0;
	char lbl[64];

	for (size_t k = 0; k <= STATS_TYPES; k++) {
		if (c->hidden[i][k])
			n_hidden++;
		if (shown(c, i, k) == 0)
			continue;
		h = (unsigned)(shown(c, i, k) * H_PLOT / max);
		y -= h;
		(void)fprintf(f,
		    "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
		    "fill=\"%s\"><title>",
		    x, y, W_BAR, h, colours[k]);
		xml_text(f,
		    stats_label(STATS_BY_TYPE, (uint32_t)k, lbl, sizeof(lbl)));
		(void)fprintf(f, ": %llu</title></rect>\n",
		    (unsigned long long)shown(c, i, k));
	}
	(void)fprintf(f,
	    "<text x=\"%u\" y=\"%u\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n",
	    x + W_BAR / 2, TOP + H_PLOT + 16,
	    stats_label(STATS_BY_MONTH, c->months[i], lbl, sizeof(lbl)));
	if (n_hidden > 0) {
		(void)fprintf(f,
		    "<text x=\"%u\" y=\"%u\" font-size=\"10\" text-anchor=\"middle\">",
		    x + W_BAR / 2, TOP + H_PLOT + 30);
		(void)snprintf(lbl, sizeof(lbl), _("%zu hidden (<%llu)"),
		    n_hidden, (unsigned long long)threshold);
		xml_text(f, lbl);
		(void)fputs("</text>\n", f);
	}
}

static void
legend(FILE *f, unsigned x)
{
	char lbl[64];

	for (unsigned k = 0; k <= STATS_TYPES; k++) {
		(void)fprintf(f,
		    "<rect x=\"%u\" y=\"%u\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		    "<text x=\"%u\" y=\"%u\" font-size=\"12\">",
		    x, TOP + k * 20, colours[k], x + 18, TOP + k * 20 + 11);
		xml_text(f, stats_label(STATS_BY_TYPE, k, lbl, sizeof(lbl)));
		(void)fputs("</text>\n", f);
	}
}

int
stats_svg_write(const char *path, const struct stats_cross *c,
    uint64_t threshold, struct sira_err *err)
{
	unsigned plot = (unsigned)(c->n > 0 ? c->n : 1) * (W_BAR + GAP);
	unsigned width = LEFT + plot + LEGEND, height = TOP + H_PLOT + 60;
	uint64_t max = tallest(c);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return sira_err_set(err, SIRA_EIO, _("cannot write %s"), path);
	(void)fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
	    "height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\">\n"
	    "<text x=\"%u\" y=\"20\" font-size=\"14\">",
	    width, height, width, height, LEFT);
	xml_text(f, _("Persons by month and exploitation type"));
	(void)fprintf(f,
	    "</text>\n<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" "
	    "stroke=\"black\"/>\n"
	    "<text x=\"%u\" y=\"%u\" font-size=\"10\" text-anchor=\"end\">%llu</text>\n",
	    LEFT - 4, TOP + H_PLOT, LEFT + plot, TOP + H_PLOT, LEFT - 8,
	    TOP + 10, (unsigned long long)max);
	for (size_t i = 0; i < c->n; i++)
		bar(f, c, i, max, threshold);
	legend(f, LEFT + plot + 10);
	(void)fputs("</svg>\n", f);
	if (fclose(f) != 0)
		return sira_err_set(err, SIRA_EIO, _("cannot write %s"), path);
	return 0;
}
