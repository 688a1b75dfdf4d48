/* One measurement: a plan's step timed on the GPU until its latency is
 * stable (DESIGN.md, "What is timed, and how").
 *
 * Warm-up steps first (at least 0.2 s of them); then one step per sample, CUDA events around it on
 * the executor's stream, until the stopping rule says converged or timeout.
 * With --cold an L2 flush (a write of twice the L2 size, on another stream,
 * ordered before the sample and outside its events) precedes each sample.
 *
 * Latency samples run with CUPTI detached: recording lengthens every launch
 * (on the H100, +16 % eager and +45 % graph on a small decode step), and
 * even attached but idle CUPTI slowed graph replays by 2-6 %. With CUPTI, an
 * attribution pass follows: min_samples steps (3 to 20) with recording on,
 * their kernel records attributed to the step's launches (timeline.h).
 * Kernel durations are GPU-side and unaffected by recording; the step
 * accounting (median_step) takes its latency from the clean samples and
 * idle = latency - busy kernel time, so its parts add up to the reported
 * median exactly. zz-bench run goes one step further and samples every
 * latency of the sweep before CUPTI is first started (see below).
 */
#ifndef ZZ_MEASURE_H
#define ZZ_MEASURE_H

#include "activity.h"
#include "executor.h"
#include "stats.h"
#include "timeline.h"

typedef struct {
    zz_mode mode;
    int cold;           /* flush L2 before each sample */
    int warmup;         /* steps before sampling */
    zz_stop_rule rule;
} zz_measure_options;

typedef struct {
    zz_stats latency;        /* event-timed step latency, seconds */
    zz_verdict verdict;      /* converged, or timeout (noise target not met) */
    double gpu_time_s;       /* summed sample latencies */
    zz_stats host_enqueue;   /* seconds to enqueue one step */
    int have_kernels;        /* CUPTI attributed the kernels: the fields below are set */
    zz_timeline_summary timeline;     /* of the attribution pass; median_step is rebased on `latency` */
    double layer_ns[ZZ_MAX_LAYERS];   /* per layer, median kernel time */
    double kernel_scale;              /* < 1 when the attribution pass's kernels outlasted the clean
                                         median and were scaled to fit it (see measure.c); else 1 */
    zz_kernel_summary *kernels;       /* kernels.csv rows, n_kernels of them */
    size_t n_kernels;
    unsigned long long dropped_records;
    zz_timeline owned_timeline;       /* keeps the kernel names alive */
} zz_measurement;

/* Latency and, when cupti is not NULL, kernel attribution. */
int zz_measure(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_cupti *cupti,
               zz_measurement *out, zz_error *err);

/* The two halves, for a run that samples every latency before CUPTI is
 * first attached (CUPTI's initialisation alone lengthened host-bound eager
 * steps by up to 2.6 % for the rest of the process, H100):
 * zz_measure_latency fills the latency side of *out (and nothing else);
 * zz_measure_kernels then runs the attribution pass on the same executor
 * and mode, against out->latency (which may come from an earlier
 * executor of the same plan). */
int zz_measure_latency(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_measurement *out,
                       zz_error *err);
int zz_measure_kernels(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_cupti *cupti,
                       zz_measurement *out, zz_error *err);
void zz_measurement_free(zz_measurement *m);

#endif
