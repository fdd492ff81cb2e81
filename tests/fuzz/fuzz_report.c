/*
 * fuzz_report.c: libFuzzer harness for what a committee takes from the
 * network and from a key file (docs/STATS.md): a stats report payload
 * through the strict decoder and stats_report_validate, then everything
 * the committee does with an accepted one (merge, every table, the
 * suppression, the month-by-type chart cells); the same bytes as a
 * StatsKey file (stats_key_parse) and, as text, as a place of
 * identification (stats_region). Nothing may crash or leak, and what
 * validates must keep the bounds the tables rely on.
 *
 * Seeds: tests/fuzz/corpus/fuzz_report/, a valid report of two persons.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
tables(const Sira__V1__StatsReport *r)
{
	struct stats_set s = { 0 };
	struct stats_table t;
	struct stats_cross x;

	if (stats_set_add(&s, r, 200001, 299912) != 0)
		abort();
	if (s.n != r->n_cases)
		abort();
	stats_set_merge(&s);
	for (int d = STATS_BY_MONTH; d <= STATS_BY_OUTCOME; d++) {
		if (stats_tabulate(&s, (enum stats_dim)d, &t) != 0)
			abort();
		if (t.total.n[0] != s.n || t.total.n[2] > t.total.n[1] ||
		    t.total.n[1] > t.total.n[0])
			abort();
		stats_suppress(&t, 5);
		for (size_t i = 0; i < t.n; i++)
			if (t.rows[i].n[0] > 0 && t.rows[i].n[0] < 5 &&
			    !t.rows[i].hidden[0])
				abort();
		stats_table_free(&t);
	}
	if (stats_cross(&s, 5, &x) != 0)
		abort();
	stats_cross_free(&x);
	stats_set_free(&s);
}

static void
report(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = NULL;
	Sira__V1__Payload *p;

	if (wire_unpack(&sira__v1__payload__descriptor, data, size,
		AGENT_PAYLOAD_MAX, &m, NULL) != 0)
		return;
	p = (Sira__V1__Payload *)m;
	if (p->body_case == SIRA__V1__PAYLOAD__BODY_STATS_REPORT &&
	    stats_report_validate(
		p->stats_report, p->stats_report->agency_id, NULL) == 0)
		tables(p->stats_report);
	sira__v1__payload__free_unpacked(p, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Sira__V1__StatsKey *k = NULL;
	char *text;
	int region;

	if (sodium_init() < 0) /* the key's guarded memory */
		abort();
	report(data, size);
	if (stats_key_parse(data, size, &k, NULL) == 0) {
		if (k->key.len != 32)
			abort();
		wire_free_secret(&k->base);
	}
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	region = stats_region(text);
	if (region < 0 || region > SIRA__V1__STATS_REGION__STATS_REGION_BAMAKO)
		abort();
	free(text);
	return 0;
}
