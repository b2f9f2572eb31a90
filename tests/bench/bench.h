/* What the offline benchmarks in tests/bench share. */
#ifndef CSR_APPROVER_BENCH_H
#define CSR_APPROVER_BENCH_H

#include <time.h>

/* This process's CPU time (user and system), in seconds. */
static inline double bench_cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
