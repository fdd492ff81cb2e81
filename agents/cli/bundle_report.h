/*
 * bundle_report.h: showing a verified chain of custody (bundle_verify.h),
 * as text a court clerk can read (French, UTF-8) or as JSON for machines.
 * Only facts bundle_verify() checked are shown; the informative fields of
 * the bundle (who exported it, when) are marked as unsigned.
 */
#ifndef SIRA_BUNDLE_REPORT_H
#define SIRA_BUNDLE_REPORT_H

#include "bundle/bundle_verify.h"

/* Print c to stdout. Returns 0 or -SIRA_ENOMEM. */
int bundle_report(const struct custody *c, int json, struct sira_err *err);

#endif
