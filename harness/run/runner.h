/* The run protocol of a sweep (docs/DESIGN.md, "What is timed, and how"):
 * what makes the suite's numbers trustworthy, in the library so any front
 * end can use it and tests can reach it.
 *
 *   1. enumerate the configurations (sparsity › phase › context › batch ›
 *      chunk › kernel variant) and build every plan once: the job list, one job per
 *      configuration × layout × mode, made before the GPU is touched, so a
 *      bad workload fails at once;
 *   2. latency pass, configuration by configuration: skip a layout that
 *      does not fit in free device memory even alone, group the others so
 *      that each group fits, --verify each layout on a reduced copy, then
 *      sample each group's jobs interleaved (measure.h) with CUPTI never
 *      loaded;
 *   3. attribution pass: CUPTI started once, the same jobs walked again in
 *      the same groups, each getting its latency statistics from pass 1
 *      directly;
 *   4. the report (report.h) rewritten whole after each configuration of
 *      each pass; one progress line per measurement.
 * A stop flag (SIGINT) ends sampling after the current round of turns; the
 * report keeps every finished row.
 */
#ifndef ZZ_RUNNER_H
#define ZZ_RUNNER_H

#include <signal.h>

#include "activity.h"
#include "error.h"
#include "measure.h"
#include "model.h"
#include "pattern.h"
#include "plan.h"
#include "report.h"
#include "sweep.h"

/* The configurations to run: option lists, in the order they vary
 * (sparsity slowest, kernel variant fastest). */
typedef struct {
    int n_sparsity;  /* the spec's budgets */
    int phases[2], n_phases;
    long long ctx[ZZ_MAX_LIST], prefill_ctx[ZZ_MAX_LIST], batch[ZZ_MAX_LIST], chunk[ZZ_MAX_LIST];
    int n_ctx, n_prefill_ctx, n_batch, n_chunk;
    long long sink, recent;  /* the streaming window of every configuration */
    zz_step step;            /* of every configuration: attention only, or the whole model */
    /* kernel variants (variants.h) of each phase; none listed: the default alone */
    int decode_kernels[ZZ_MAX_LIST], prefill_kernels[ZZ_MAX_LIST];
    int n_decode_kernels, n_prefill_kernels;
} zz_sweep_lists;

typedef struct {
    int sparsity;  /* index into the spec's budgets */
    zz_workload workload;
} zz_sweep_point;

/* The chunk a prefill really runs: 0 (single shot) for 0 and for any chunk >= S. */
long long zz_effective_chunk(zz_phase phase, long long ctx, long long chunk);

/* The configurations, nested sparsity › phase › context › batch › chunk ›
 * kernel variant. Decode takes no chunk; prefill chunks that run the same
 * passes (0 and any chunk >= S are the single shot) run once; each phase
 * takes its own variants. *out: free() it. */
int zz_sweep_enumerate(const zz_sweep_lists *lists, zz_sweep_point **out, int *n, zz_error *err);

typedef struct {
    zz_model model;
    const zz_budget *budgets;  /* [lists.n_sparsity], borrowed */
    zz_sweep_lists lists;
    int layouts[ZZ_MAX_LIST], n_layouts;
    int modes[ZZ_MAX_LIST], n_modes;
    zz_measure_options measure;  /* its mode is the job's */
    unsigned long long seed;     /* of a model step's weights */
    int verify;                  /* check each layout on a reduced copy first */
    int cupti;                   /* run the attribution pass */
    int quiet;                   /* no progress lines */
} zz_sweep_spec;

typedef struct zz_runner zz_runner;

/* Step 1: enumerates and plans every job; no GPU. */
int zz_runner_create(const zz_sweep_spec *spec, zz_runner **out, zz_error *err);
void zz_runner_destroy(zz_runner *r);
int zz_runner_measurements(const zz_runner *r);  /* configuration × layout × mode */

/* Steps 2-4 on the current device, into `report` (zz_report_init'ed with
 * info, which the runner updates if CUPTI cannot start: then env.json in
 * out_dir is rewritten and the run goes on with events alone). A model
 * step's weights are made first, once for the run (the spec's seed), and
 * shared by every executor; the memory they took (free device memory
 * before and after) goes into info and env.json. When they do not fit,
 * every configuration is skipped with its line. */
int zz_runner_run(zz_runner *r, cudaStream_t stream, zz_run_info *info, const char *out_dir, zz_report *report,
                  volatile sig_atomic_t *stop, zz_error *err);

/* Device memory a layout needs beyond what is counted (CUDA graph, CUPTI
 * and allocator slack). */
#define ZZ_MEMORY_HEADROOM (256.0 * 1024 * 1024)

/* The skip rule: a configuration's layout fits when everything it needs
 * (zz_executor_memory: weights, KV caches, activations, workspaces), the
 * headroom and `extra` (--cold's L2 flush buffer) are at most `available`:
 * the free device memory, plus the run's weights where they are already
 * held (they count in the need). */
int zz_memory_fits(const zz_memory *need, double extra, double available);
/* The line of a layout that does not fit: what it needs, part by part, and
 * what the card has (available of total_bytes). */
void zz_memory_skip_reason(const zz_memory *need, double extra, double available, double total_bytes, char *out,
                           size_t size);

/* report->status: "WHAT: N of M measurements done, K skipped (device memory)". */
void zz_runner_status(const zz_runner *r, const char *what, zz_report *report);

/* The labels a layout runs on (layouts.h): zigzag's layer-exclusive ones
 * for a per-layer layout, duo's per-head ones otherwise (full and
 * streaming ignore them). */
const zz_labels *zz_labels_for(const zz_budget *b, zz_layout layout);

#endif
