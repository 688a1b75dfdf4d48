/* Measurements: plans' steps timed on the GPU until their latency is
 * stable (docs/DESIGN.md, "What is timed, and how").
 *
 * A group of measurements (the layouts × modes of one configuration) is
 * sampled interleaved, in round-robin turns, until each measurement's
 * stopping rule says converged or timeout; a turn starts with an untimed
 * step where the steps are shorter than a turn (its buffers back in L2, its
 * graph warm). Slow drift of clocks or temperature then falls on every
 * layout alike instead of on the later ones. One step per sample, CUDA
 * events around it on the executors' stream. With --cold an L2 flush (a
 * write of twice the L2 size, on another stream, ordered before the sample
 * and outside its events) precedes each sample.
 *
 * Latency samples run with CUPTI detached: recording lengthens every
 * launch, and even attached but idle CUPTI slows graph replays
 * (kernels/NOTES.md, "Measurements behind design choices"). The
 * attribution pass is a second, interleaved pass with recording on, of each
 * measurement's minimum sample count of steps (3 to ZZ_ATTRIBUTION_STEPS);
 * each step's kernel records give its own decomposition (timeline.h: span,
 * categories, idle gaps, overlap, outside), nothing rescaled to the clean
 * latency. The clean median stays the headline latency; the attributed span
 * is reported beside it, with its inflation over the clean median
 * (report.h).
 */
#ifndef ZZ_MEASURE_H
#define ZZ_MEASURE_H

#include <signal.h>

#include "activity.h"
#include "executor.h"
#include "stats.h"
#include "timeline.h"

/* At most this many attributed steps per measurement, in
 * ZZ_ATTRIBUTION_ROUNDS interleaved rounds (CUPTI attached, flushed and
 * detached per round, outside any step). */
#define ZZ_ATTRIBUTION_STEPS  20
#define ZZ_ATTRIBUTION_ROUNDS 4

typedef struct {
    zz_mode mode;
    int cold;           /* flush L2 before each sample */
    int warmup;         /* steps before sampling (and at least 0.2 s of them) */
    zz_stop_rule rule;
} zz_measure_options;

typedef struct {
    zz_stats latency;        /* event-timed step latency, seconds, CUPTI detached */
    zz_verdict verdict;      /* converged, or timeout (noise target not met) */
    double gpu_time_s;       /* summed sample latencies */
    zz_stats host_enqueue;   /* seconds to enqueue one step */
    int have_kernels;        /* CUPTI attributed the kernels: the fields below are set */
    zz_timeline_summary timeline;     /* of the attribution pass, every field from its own steps */
    zz_stats attributed_enqueue;      /* seconds to enqueue one attributed step: CUPTI lengthens launches, so an
                                         eager step GPU-paced when clean can be host-paced while attributed */
    double attributed_enqueue_s[ZZ_ATTRIBUTION_STEPS];
    int n_attributed;
    double layer_ns[ZZ_MAX_LAYERS];   /* per layer, median kernel time */
    zz_kernel_summary *kernels;       /* kernels.csv rows, n_kernels of them */
    size_t n_kernels;
    unsigned long long dropped_records;
    zz_timeline owned_timeline;       /* keeps the kernel names alive */
} zz_measurement;

/* One measurement of a group: its executor (all on the same stream), how to
 * time it, and where its result goes. */
typedef struct {
    zz_executor *ex;
    zz_measure_options opt;
    zz_measurement *out;
    const char *name;  /* NVTX range around each of its turns (the layout, for Nsight filters); NULL: none */
    uint32_t colour;   /* of that range, ARGB */
} zz_measure_job;

/* Called as each job's latency is final (job index, its measurement). */
typedef void (*zz_measure_done)(void *context, int job, const zz_measurement *m);

/* Samples every job's latency, interleaved; fills the latency side of each
 * out (zeroing it first). *stop (may be NULL) ends sampling early: a job
 * not yet final is left unmeasured (out->latency.n == 0). */
int zz_measure_latencies(zz_measure_job *jobs, int n, cudaStream_t stream, zz_measure_done done, void *context,
                         volatile sig_atomic_t *stop, zz_error *err);

/* The attribution pass over jobs whose latency is already measured (the
 * executors may be fresh ones of the same plans): fills the kernel side. */
int zz_measure_attributions(zz_measure_job *jobs, int n, cudaStream_t stream, zz_cupti *cupti, zz_error *err);

void zz_measurement_free(zz_measurement *m);

#endif
