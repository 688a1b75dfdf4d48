/* The files of a run (docs/DESIGN.md, "Outputs"), built from finished
 * measurements; nothing here touches the GPU, so tests feed it synthetic
 * measurements.
 *
 *   env.json     the device, versions, ceilings, how the run was timed
 *   results.csv  one row per configuration × layout × mode
 *   kernels.csv  one row per measurement × kernel name × category
 *   summary.md   the tables a person reads first
 *
 * The run adds each measurement as it finishes (zz_report_add copies what
 * the files need, so the measurement can be freed at once) and rewrites
 * every file whole after each configuration, so a crash or Ctrl-C leaves
 * all finished rows.
 *
 * Times: results.csv and summary.md in µs; noise is the stopping rule's
 * (stats.h), rel_spread what summary.md quotes as ±. median_us is the
 * clean latency (CUPTI not loaded), the headline. Kernel time by category,
 * idle and overlap come from the attribution pass's median step
 * (timeline.h), so in every row  span_us = Σ category + idle_us −
 * overlap_us  exactly, all from the same attributed steps; outside_us =
 * median_us − span_us (launch to first kernel, last kernel to event, and
 * whatever the attribution pass's span differs from the clean latency by)
 * and span_inflation = span_us / median_us − 1 say how the two passes
 * compare. The split overhead against zigzag is the difference of the two
 * median steps (zz_overhead_of): its parts add up to the Δ of the spans.
 * Without CUPTI those columns are empty and only Δ latency is reported.
 */
#ifndef ZZ_REPORT_H
#define ZZ_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "device.h"
#include "error.h"
#include "measure.h"
#include "model.h"
#include "output.h"
#include "plan.h"
#include "stats.h"
#include "timeline.h"
#include "variants.h"

/* How the whole run was made: env.json, and the head of summary.md. */
typedef struct {
    zz_device device;
    zz_ceilings ceilings;
    zz_model model;
    zz_step step;            /* attention only, or the whole model (docs/DESIGN.md, "The model step") */
    double weights_bytes;    /* a model step's weights as counted (zz_model_weight_bytes); 0 for an attention step */
    double weights_measured; /* the device memory they took (free before and after); NAN: not allocated */
    char pattern[256];       /* zz_pattern.source: a folder, or "synthetic KIND:SEED" */
    int cold;                /* L2 flushed before each sample */
    int cupti;               /* kernel times from CUPTI */
    char cupti_note[600];    /* why not, when cupti is 0 */
    int cupti_built;         /* CUPTI_API_VERSION at build */
    unsigned cupti_runtime;  /* cuptiGetVersion; 0 if unknown */
    zz_stop_rule rule;
    int warmup;
    unsigned long long seed;
    char git_commit[64], hostname[256], date[32];
    const char *command_line;  /* borrowed */
    /* the kernel variants (variants.h) the run sweeps, per phase; 0 for a phase it does not run */
    int decode_kernels[ZZ_MAX_KERNEL_VARIANTS], prefill_kernels[ZZ_MAX_KERNEL_VARIANTS];
    int n_decode_kernels, n_prefill_kernels;
} zz_run_info;

/* One configuration: the sweep's keys, and the equal-budget check of duo
 * against zigzag at its sparsity. */
typedef struct {
    zz_workload workload;  /* decode keeps chunk 0 */
    double sparsity;
    zz_cost duo, zigzag;
    int duo_mixed_layers;  /* -1: the budget is not known (a summary rebuilt without it) and its row is left out */
    char note[256];        /* zz_budget.note: "" when Hkv divides R */
    int groups;            /* interleaved groups its layouts were sampled in (memory); 1 ideally */
} zz_report_config;

/* One layout × mode of a configuration, measured or skipped. */
typedef struct {
    int config;  /* index from zz_report_add_config */
    zz_layout layout;
    zz_mode mode;
    char skipped[200];  /* why it was not measured; "" when it was */
    /* the plan */
    int retrieval_heads, mixed_layers, launches;  /* launches: the executor's, combines included */
    double kv_bytes, flops;
    double linear_flops;        /* a model step's GEMM FLOPs; 0 for an attention step */
    zz_memory memory;           /* device memory as counted before allocating (executor.h); zeros: not counted */
    double measured_bytes;      /* as measured: the executor's and the run's weights; NAN: not measured */
    /* the measurement (seconds) */
    zz_stats latency, host_enqueue;
    zz_verdict verdict;
    int have_kernels;           /* the fields below are set */
    zz_step_time median_step;   /* ns, of the attribution pass: the step of median span */
    double attributed_median_ns;  /* median event latency of the attributed steps (CUPTI recording) */
    double attributed_enqueue_ns; /* median host enqueue of the attributed steps */
    double gap_median_ns;       /* median gap per kernel boundary; NAN for one-launch steps */
    unsigned long long dropped_records;
    double verify_error;        /* worst relative error of --verify; NAN when not verified */
} zz_report_row;

/* A row is host-paced when the CPU needs at least this fraction of its
 * median step latency just to enqueue the step (both medians): its host
 * share. The GPU then waits on launches: the latency follows the host's
 * launch rate and moves with the CPU between runs. The value comes from a
 * calibration made before any sweep of this code was read: the highest
 * host share at which zz-host-pacing's step of spin kernels
 * (bench/host_pacing.c) still ran within tolerance of its queue-fed
 * latency (kernels/NOTES.md, "Host pacing").
 * Steps that mix long and short kernels can wait on the host in stretches
 * below it: every table shows each row's host share. Scripts read the
 * verdict from results.csv's host_paced column. */
#define ZZ_HOST_PACED_FRACTION 0.9

/* enqueue median / latency median of a measured row; NAN for a skipped one. */
double zz_report_row_host_share(const zz_report_row *row);
/* 1 for a measured row that is host-paced, so every table can warn that
 * its latency is the CPU's; 0 otherwise, and always for a skipped row. */
int zz_report_row_host_paced(const zz_report_row *row);
/* The same of the attribution pass's steps (enqueue and latency with CUPTI
 * recording, which lengthens every launch): where 1, the row's parts are of
 * a step that waited on the host, and its idle is the host's; NAN / 0
 * without CUPTI. */
double zz_report_row_attributed_host_share(const zz_report_row *row);
int zz_report_row_parts_host_paced(const zz_report_row *row);

typedef struct {
    const zz_run_info *info;  /* borrowed */
    zz_report_config *configs;
    int n_configs, cap_configs;
    zz_report_row *rows;
    int n_rows, cap_rows;
    zz_csv kernels;      /* kernels.csv so far: its measurements are gone */
    char status[256];    /* summary.md's "Status:" line, set by the caller */
    char note[1024];     /* a paragraph under summary.md's head, "" for none: how to read a rebuilt summary */
    char fault[160];     /* first failure to grow; reported by the writes */
} zz_report;

void zz_report_init(zz_report *r, const zz_run_info *info);
void zz_report_free(zz_report *r);

/* Returns the configuration's index, or -1 out of memory (then also remembered). */
int zz_report_add_config(zz_report *r, const zz_report_config *c);

/* The index of the configuration with key's keys (phase, batch, ctx, chunk,
 * window, kernel variant, step, sparsity), or -1. */
int zz_report_config_index(const zz_report *r, const zz_report_config *key);

/* Appends from's configurations (those with the same keys merged, the
 * budget taken from whichever knows it) and rows, measured and skipped,
 * to r (zz-bench merge). A layout and mode of a configuration that r has
 * already fails, with its label in err. *shared (may be NULL) counts the
 * configurations of from that r already had. Kernel rows are not copied. */
int zz_report_merge(zz_report *r, const zz_report *from, int *shared, zz_error *err);

/* The plan's side of a row; the measurement's side is set by zz_report_add. */
zz_report_row zz_report_row_of(int config, const zz_plan *plan, zz_mode mode, int launches);

/* A measured row: copies the statistics and, when m has them, the median
 * step and the kernel rows (kernels.csv), so m can be freed. Returns the
 * row's index (for zz_report_add_kernels), or -1 out of memory. */
int zz_report_add(zz_report *r, const zz_report_row *row, const zz_measurement *m);
/* The kernel side of an earlier row, from a later attribution pass
 * (zz_measure_attributions): the median step and the kernel rows. */
void zz_report_add_kernels(zz_report *r, int index, const zz_measurement *m);
/* A row that was not measured (row->skipped says why): summary.md only. */
void zz_report_add_skipped(zz_report *r, const zz_report_row *row);

/* "decode B=1 S=32K sparsity 0.5", "prefill B=1 S=32K C=8K sparsity 0.5". */
void zz_report_config_label(const zz_report_config *c, char *out, size_t size);

/* The split overhead of one mixed layout against zigzag, same
 * configuration and mode. */
typedef struct {
    int config;
    zz_mode mode;
    zz_layout layout;         /* a mixed one (zz_layout_mixed) */
    double zigzag_latency_ns; /* clean median */
    double latency_delta_ns;  /* Δ of the clean medians: the headline */
    int have_parts;           /* both had CUPTI: delta is set */
    int parts_host_paced;     /* either row's clean or attributed steps were host-paced: parts less certain */
    zz_overhead delta;        /* ns, attribution pass: Δ span and its parts, Δ of the attributed latency */
} zz_report_overhead;

/* *out (free() it): one entry per measured mixed row that has a measured
 * zigzag row, in row order. Returns the count, or -1 out of memory. */
int zz_report_overheads(const zz_report *r, zz_report_overhead **out);

/* summary.md as a NUL-terminated malloc'd string (free() it), or NULL out of memory. */
char *zz_report_summary(const zz_report *r);
/* results.csv as a CSV builder (zz_csv_free it). */
void zz_report_results_csv(const zz_report *r, zz_csv *out);

/* Rewrites results.csv, kernels.csv and summary.md in dir. */
int zz_report_write(const zz_report *r, const char *dir, zz_error *err);
int zz_report_write_env(const zz_run_info *info, const char *path, zz_error *err);

/* 2.02 GiB, 8.69 GFLOP: exact values stay in the CSV files. */
void zz_human_bytes(double bytes, char *out, size_t size);
void zz_human_flops(double flops, char *out, size_t size);

#endif
