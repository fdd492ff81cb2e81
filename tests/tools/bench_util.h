/*
 * bench_util.h: what the benchmark programs share: a monotonic clock in
 * seconds and a comparison for sorting latencies (bench_load.c,
 * probe_blast.c and the programs in tests/bench). Test and benchmark code only.
 */
#ifndef SIRA_BENCH_UTIL_H
#define SIRA_BENCH_UTIL_H

#include <time.h>

static inline double
bench_now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort comparison of doubles, ascending. */
static inline int
bench_by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

#endif
