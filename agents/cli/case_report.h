/*
 * case_report.h: the views of cases (sira-agent cases, case REF) and the
 * readable form of workflow payloads for sira-agent show.
 */
#ifndef SIRA_CASE_REPORT_H
#define SIRA_CASE_REPORT_H

#include <jansson.h>

#include "store/agent.h"

/* Every case this agency holds or took part in, one line each. */
int report_cases(struct agent *a, int json, struct sira_err *err);

/* One case: status, referral, referrals, file requests, timeline with the
 * delivery of each message this agency sent. -SIRA_ENOTFOUND if unknown. */
int report_case(
    struct agent *a, const char *ref, int json, struct sira_err *err);

/* The JSON form of a workflow payload of that kind, or NULL (a note, or
 * not a payload). Caller json_decref's it. */
json_t *report_payload_json(int kind, const uint8_t *p, size_t len);

#endif
