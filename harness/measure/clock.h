/* The suite's one host clock: seconds on CLOCK_MONOTONIC, for host enqueue
 * times, timeouts and progress. GPU time is measured with CUDA events and
 * CUPTI, never with this. */
#ifndef ZZ_CLOCK_H
#define ZZ_CLOCK_H

double zz_wall_seconds(void);

#endif
