/* The run protocol of a sweep (runner.h). */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "device.h"
#include "executor.h"
#include "input.h"
#include "nvtx.h"
#include "verify.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* --verify checks a reduced copy of each configuration: the CPU reference
 * of a full-size step would take minutes to hours. */
#define VERIFY_MAX_BATCH       2
#define VERIFY_MAX_DECODE_CTX  4096
#define VERIFY_MAX_PREFILL_CTX 512
#define VERIFY_BOUND           1e-2

#define MAX_LAYOUTS ZZ_LAYOUTS
#define MAX_MODES   2

const zz_labels *zz_labels_for(const zz_budget *b, zz_layout layout) {
    return zz_layout_info_of(layout)->labels == ZZ_LABELS_PER_LAYER ? &b->zigzag : &b->duo;
}

long long zz_effective_chunk(zz_phase phase, long long ctx, long long chunk) {
    return phase == ZZ_PREFILL && chunk < ctx ? chunk : 0;
}

/* The phase's variants listed; none: the default alone (*list NULL). */
static int kernels_of(const zz_sweep_lists *l, zz_phase phase, const int **list) {
    const int n = phase == ZZ_DECODE ? l->n_decode_kernels : l->n_prefill_kernels;
    *list = n ? (phase == ZZ_DECODE ? l->decode_kernels : l->prefill_kernels) : NULL;
    return n ? n : 1;
}

int zz_sweep_enumerate(const zz_sweep_lists *l, zz_sweep_point **out, int *n, zz_error *err) {
    const int n_ctx = l->n_ctx > l->n_prefill_ctx ? l->n_ctx : l->n_prefill_ctx;
    const int *unused, n_decode = kernels_of(l, ZZ_DECODE, &unused), n_prefill = kernels_of(l, ZZ_PREFILL, &unused);
    const int counts[] = {l->n_sparsity, l->n_phases, n_ctx, l->n_batch, l->n_chunk,
                          n_decode > n_prefill ? n_decode : n_prefill};
    zz_sweep sweep;
    if (zz_sweep_init(&sweep, counts, 6, err)) return -1;
    zz_sweep_point *points = malloc((size_t)(sweep.size ? sweep.size : 1) * sizeof *points);
    if (!points) return zz_errorf(err, "run: out of memory for %lld configurations", sweep.size);
    int count = 0;
    for (long long i = 0; i < sweep.size; i++) {
        int at[6];
        zz_sweep_coords(&sweep, i, at);
        const zz_phase phase = (zz_phase)l->phases[at[1]];
        const long long *ctx = phase == ZZ_DECODE ? l->ctx : l->prefill_ctx;
        const int *kernels, n_kernels = kernels_of(l, phase, &kernels);
        if (at[2] >= (phase == ZZ_DECODE ? l->n_ctx : l->n_prefill_ctx) || at[5] >= n_kernels) continue;
        zz_workload w = {.phase = phase, .batch = (int)l->batch[at[3]], .ctx = ctx[at[2]],
                         .sink = l->sink, .recent = l->recent, .kernel = kernels ? kernels[at[5]] : 0,
                         .step = l->step};
        w.chunk = zz_effective_chunk(phase, w.ctx, l->chunk[at[4]]);
        int repeat = phase == ZZ_DECODE && at[4] > 0;
        for (int k = 0; k < at[4] && !repeat; k++) repeat = zz_effective_chunk(phase, w.ctx, l->chunk[k]) == w.chunk;
        if (repeat) continue;
        points[count++] = (zz_sweep_point){at[0], w};
    }
    *out = points;
    *n = count;
    return 0;
}

/* One configuration × layout of the job list: its plan, built once, and
 * the plan's side of its report rows. */
typedef struct {
    zz_plan plan;
    zz_report_row row;     /* row.skipped: why it is not measured */
    double verify_error;   /* NAN unless --verify */
    zz_executor *ex;       /* while its group is measured */
    double measured_bytes; /* device memory its executor took (free before and after creating it); NAN: none */
    int report_row[MAX_MODES];  /* -1: no row (skipped, or not measured yet) */
    zz_stats latency[MAX_MODES];  /* pass 1's, which pass 2 attributes against */
} layout_job;

struct zz_runner {
    zz_sweep_spec spec;
    zz_sweep_point *points;
    int n_points;
    layout_job *jobs;  /* [point][layout] */
    int total, done, measured, skipped;
    double start_s;
    zz_cupti *cupti;
    /* during zz_runner_run */
    cudaStream_t stream;
    const zz_device *device;
    int decode_resident;  /* blocks of the one-launch decode kernel per SM, for the memory estimate */
    zz_weights *weights;  /* a model step's, made once for the run; NULL otherwise or when they do not fit */
    double weights_held;  /* device memory the weights took (counted in every configuration's need) */
    zz_report *report;
    volatile sig_atomic_t *stop;
};

static layout_job *job_of(zz_runner *r, int point, int layout_index) {
    return &r->jobs[point * r->spec.n_layouts + layout_index];
}

static zz_layout layout_of(const zz_runner *r, int layout_index) { return (zz_layout)r->spec.layouts[layout_index]; }

int zz_runner_create(const zz_sweep_spec *spec, zz_runner **out, zz_error *err) {
    if (spec->n_layouts < 1 || spec->n_layouts > MAX_LAYOUTS || spec->n_modes < 1 || spec->n_modes > MAX_MODES)
        return zz_errorf(err, "run: %d layouts and %d modes: 1 to %d and 1 to %d", spec->n_layouts, spec->n_modes,
                         MAX_LAYOUTS, MAX_MODES);
    zz_runner *r = calloc(1, sizeof *r);
    if (!r) return zz_errorf(err, "run: out of memory");
    r->spec = *spec;
    if (zz_sweep_enumerate(&spec->lists, &r->points, &r->n_points, err)) goto fail;
    if (!(r->jobs = calloc((size_t)(r->n_points ? r->n_points : 1) * spec->n_layouts, sizeof *r->jobs))) {
        zz_errorf(err, "run: out of memory for %d configurations' plans", r->n_points);
        goto fail;
    }
    /* Every plan builds (the workloads are valid) before the GPU is touched. */
    for (int c = 0; c < r->n_points; c++)
        for (int l = 0; l < spec->n_layouts; l++) {
            layout_job *job = job_of(r, c, l);
            const zz_sweep_point *pt = &r->points[c];
            if (zz_plan_build(&spec->model, zz_labels_for(&spec->budgets[pt->sparsity], layout_of(r, l)),
                              layout_of(r, l), &pt->workload, &job->plan, err))
                goto fail;
            job->verify_error = NAN;
            job->measured_bytes = NAN;
            for (int i = 0; i < MAX_MODES; i++) job->report_row[i] = -1;
        }
    r->total = r->n_points * spec->n_layouts * spec->n_modes;
    *out = r;
    return 0;
fail:
    zz_runner_destroy(r);
    return -1;
}

void zz_runner_destroy(zz_runner *r) {
    if (!r) return;
    zz_cupti_stop(r->cupti);
    zz_weights_destroy(r->weights);
    free(r->points);
    free(r->jobs);
    free(r);
}

int zz_runner_measurements(const zz_runner *r) { return r->total; }

void zz_runner_status(const zz_runner *r, const char *what, zz_report *report) {
    snprintf(report->status, sizeof report->status, "%s: %d of %d measurements done, %d skipped (device memory)",
             what, r->done - r->skipped, r->total, r->skipped);
}

static void progress(const zz_runner *r, const char *label, zz_layout layout, zz_mode mode, const zz_measurement *m) {
    if (r->spec.quiet) return;
    const double elapsed = zz_wall_seconds() - r->start_s, left = elapsed / r->measured * (r->total - r->done);
    fprintf(stderr, "[%d/%d] %s %s %s: %.1f us (± %.2f%%, %zu samples%s) elapsed %.0fs, ~%.0fs left\n", r->done,
            r->total, label, zz_layout_name(layout), zz_mode_name(mode), m->latency.median * 1e6,
            100 * m->latency.noise, m->latency.n, m->verdict == ZZ_STOP_TIMEOUT ? ", timeout" : "", elapsed, left);
}

/* Prefixes err with the measurement it stopped (mode NULL: before any). */
static int failed_in(zz_error *err, const char *label, zz_layout layout, const char *mode) {
    zz_error cause = *err;
    return zz_errorf(err, "%s %s%s%s: %s", label, zz_layout_name(layout), mode ? " " : "", mode ? mode : "",
                     cause.msg);
}

static zz_workload reduced_for_verify(const zz_workload *w) {
    zz_workload v = *w;
    const long long cap = w->phase == ZZ_DECODE ? VERIFY_MAX_DECODE_CTX : VERIFY_MAX_PREFILL_CTX;
    if (v.batch > VERIFY_MAX_BATCH) v.batch = VERIFY_MAX_BATCH;
    if (v.ctx > cap) {
        if (v.chunk > 0) v.chunk = (v.chunk * cap + v.ctx - 1) / v.ctx;  /* about as many passes */
        v.ctx = cap;
    }
    return v;
}

/* --verify: every layer of a reduced copy against the CPU reference. */
static int verify_layout(zz_runner *r, const zz_sweep_point *pt, zz_layout layout, const char *label, double *worst,
                         zz_error *err) {
    static zz_plan small;
    const zz_workload w = reduced_for_verify(&pt->workload);
    zz_executor *ex;
    if (zz_plan_build(&r->spec.model, zz_labels_for(&r->spec.budgets[pt->sparsity], layout), layout, &w, &small,
                      err) ||
        zz_executor_create(&small, r->stream, r->device->sm_count, r->weights, &ex, err))
        return -1;
    int rc = zz_executor_verify(ex, worst, err);
    zz_executor_destroy(ex);
    if (rc) return -1;
    if (!(*worst <= VERIFY_BOUND))
        return zz_errorf(err, "verify: relative error %.3g above the bound %g (checked at B=%d S=%lld)", *worst,
                         VERIFY_BOUND, w.batch, w.ctx);
    if (!r->spec.quiet)
        fprintf(stderr, "verify: %s %s: worst relative error %.2e over %d layers (checked at B=%d S=%lld)\n", label,
                zz_layout_name(layout), *worst, r->spec.model.layers, w.batch, w.ctx);
    return 0;
}

static double flush_bytes(const zz_runner *r) { return r->spec.measure.cold ? 2.0 * r->device->l2_bytes : 0; }

static double layout_bytes(const zz_runner *r, const layout_job *job) {
    return zz_executor_device_bytes(&job->plan, r->device->sm_count, r->decode_resident) + ZZ_MEMORY_HEADROOM;
}

int zz_memory_fits(const zz_memory *need, double extra, double available) {
    return zz_memory_total(need) + ZZ_MEMORY_HEADROOM + extra <= available;
}

void zz_memory_skip_reason(const zz_memory *need, double extra, double available, double total_bytes, char *out,
                           size_t size) {
    char weights[48] = "";
    if (need->weights > 0) snprintf(weights, sizeof weights, "weights %.1f, ", need->weights / GIB);
    snprintf(out, size, "needs %.1f GiB (%sKV cache %.1f, activations %.1f, workspaces %.1f, headroom %.2f); %.1f GiB "
                        "free of the card's %.1f GiB%s",
             (zz_memory_total(need) + ZZ_MEMORY_HEADROOM + extra) / GIB, weights, need->kv_cache / GIB,
             need->activations / GIB, need->workspaces / GIB, (ZZ_MEMORY_HEADROOM + extra) / GIB, available / GIB,
             total_bytes / GIB, need->weights > 0 ? ", the run's weights included" : "");
}

/* The next group [*first, *end) of layouts to measure together: from
 * `from` on, those `wanted`, as many consecutive ones as fit in free
 * device memory together (at least one: each fits alone). 0 when none is
 * left. */
static int next_group(zz_runner *r, int point, const int *wanted, int from, int *first, int *end) {
    const int n = r->spec.n_layouts;
    while (from < n && !wanted[from]) from++;
    if (from == n) return 0;
    size_t free_bytes, total_bytes;
    ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_bytes, &total_bytes));
    double room = (double)free_bytes - flush_bytes(r) - layout_bytes(r, job_of(r, point, from));
    *first = from;
    for (*end = from + 1; *end < n; (*end)++) {
        if (!wanted[*end]) continue;
        const double need = layout_bytes(r, job_of(r, point, *end));
        if (need > room) break;
        room -= need;
    }
    return 1;
}

/* Executors of the group's wanted layouts (with --verify first, in pass 1). */
static int create_group(zz_runner *r, int point, const char *label, const int *wanted, int first, int end, int verify,
                        zz_error *err) {
    for (int l = first; l < end; l++) {
        if (!wanted[l]) continue;
        layout_job *job = job_of(r, point, l);
        if (verify && verify_layout(r, &r->points[point], layout_of(r, l), label, &job->verify_error, err))
            return failed_in(err, label, layout_of(r, l), NULL);
        size_t free_before, free_after, total;
        ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_before, &total));
        if (zz_executor_create(&job->plan, r->stream, r->device->sm_count, r->weights, &job->ex, err))
            return failed_in(err, label, layout_of(r, l), NULL);
        ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_after, &total));
        if (isnan(job->measured_bytes)) job->measured_bytes = (double)free_before - (double)free_after;  /* pass 1's */
    }
    return 0;
}

static void destroy_group(zz_runner *r, int point, int first, int end) {
    for (int l = first; l < end; l++) {
        zz_executor_destroy(job_of(r, point, l)->ex);
        job_of(r, point, l)->ex = NULL;
    }
}

/* The measurements of a group: every created layout × mode (pass 2: those
 * with a row from pass 1). */
typedef struct {
    zz_measure_job job[MAX_LAYOUTS * MAX_MODES];
    zz_measurement m[MAX_LAYOUTS * MAX_MODES];
    int layout_index[MAX_LAYOUTS * MAX_MODES], mode_index[MAX_LAYOUTS * MAX_MODES];
    int n;
} group_jobs;

static void make_jobs(zz_runner *r, int point, int first, int end, int pass, group_jobs *g) {
    g->n = 0;
    for (int l = first; l < end; l++) {
        const layout_job *lj = job_of(r, point, l);
        for (int i = 0; lj->ex && i < r->spec.n_modes; i++) {
            if (pass == 2 && lj->report_row[i] < 0) continue;
            const int j = g->n++;
            zz_measure_options opt = r->spec.measure;
            opt.mode = (zz_mode)r->spec.modes[i];
            memset(&g->m[j], 0, sizeof g->m[j]);
            g->job[j] = (zz_measure_job){.ex = lj->ex, .opt = opt, .out = &g->m[j],
                                         .name = zz_layout_name(layout_of(r, l)),
                                         .colour = zz_layout_info_of(layout_of(r, l))->nvtx_argb};
            g->layout_index[j] = l;
            g->mode_index[j] = i;
        }
    }
}

/* What a pass does with one group's jobs, made and freed by walk_groups. */
typedef int (*group_pass)(zz_runner *r, int point, const char *label, group_jobs *g, zz_error *err);

/* The configuration's wanted layouts, group by group (next_group): their
 * executors created (pass 1 verifies each first), the group's jobs made,
 * handed to `measure`, then freed with the executors. Returns the number of
 * groups walked, or -1. */
static int walk_groups(zz_runner *r, int point, const char *label, const int *wanted, int pass, group_pass measure,
                       zz_error *err) {
    static group_jobs g;
    int first, end, groups = 0, rc = 0;
    for (int from = 0; rc == 0 && !*r->stop && next_group(r, point, wanted, from, &first, &end); from = end) {
        groups++;
        if ((rc = create_group(r, point, label, wanted, first, end, pass == 1 && r->spec.verify, err)) == 0) {
            make_jobs(r, point, first, end, pass, &g);
            if ((rc = measure(r, point, label, &g, err)))
                failed_in(err, label, layout_of(r, first), pass == 1 ? "(interleaved group)" : "(attribution group)");
            for (int j = 0; j < g.n; j++) zz_measurement_free(&g.m[j]);
        }
        destroy_group(r, point, first, end);
    }
    return rc ? -1 : groups;
}

/* Pass 1's bookkeeping as each measurement's latency is final. */
typedef struct {
    zz_runner *r;
    int point, config;
    const char *label;
    const group_jobs *g;
} latency_context;

static void latency_done(void *context, int j, const zz_measurement *m) {
    latency_context *c = context;
    zz_runner *r = c->r;
    layout_job *lj = job_of(r, c->point, c->g->layout_index[j]);
    int launches;
    zz_executor_launches(lj->ex, &launches);
    zz_report_row row = lj->row;
    row.mode = c->g->job[j].opt.mode;
    row.launches = launches;
    row.verify_error = lj->verify_error;
    row.measured_bytes = lj->measured_bytes + r->weights_held;
    lj->report_row[c->g->mode_index[j]] = zz_report_add(r->report, &row, m);
    lj->latency[c->g->mode_index[j]] = m->latency;
    r->done++;
    r->measured++;
    progress(r, c->label, layout_of(r, c->g->layout_index[j]), row.mode, m);
}

static int sample_group(zz_runner *r, int point, const char *label, group_jobs *g, zz_error *err) {
    latency_context context = {r, point, job_of(r, point, g->layout_index[0])->row.config, label, g};
    return zz_measure_latencies(g->job, g->n, r->stream, latency_done, &context, r->stop, err);
}

/* Pass 1 of one configuration: the skips, then each group sampled
 * interleaved, with no CUPTI in the process yet. */
static int measure_config(zz_runner *r, int point, int config, const char *label, zz_error *err) {
    size_t free_bytes, total_bytes;
    ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_bytes, &total_bytes));
    int wanted[MAX_LAYOUTS];
    /* the run's weights count in every need, so they count as free */
    const double available = (double)free_bytes + r->weights_held;
    for (int l = 0; l < r->spec.n_layouts; l++) {
        layout_job *lj = job_of(r, point, l);
        lj->row = zz_report_row_of(config, &lj->plan, ZZ_MODE_EAGER, 0);
        lj->row.memory = zz_executor_memory(&lj->plan, r->device->sm_count, r->decode_resident);
        wanted[l] = zz_memory_fits(&lj->row.memory, flush_bytes(r), available) &&
                    (r->weights || lj->plan.workload.step != ZZ_STEP_MODEL);
        if (wanted[l]) continue;
        zz_memory_skip_reason(&lj->row.memory, flush_bytes(r), available, (double)total_bytes, lj->row.skipped,
                              sizeof lj->row.skipped);
        fprintf(stderr, "skip: %s %s: %s\n", label, zz_layout_name(layout_of(r, l)), lj->row.skipped);
        for (int i = 0; i < r->spec.n_modes; i++) {
            lj->row.mode = (zz_mode)r->spec.modes[i];
            zz_report_add_skipped(r->report, &lj->row);
        }
        r->done += r->spec.n_modes;
        r->skipped += r->spec.n_modes;
    }
    const int groups = walk_groups(r, point, label, wanted, 1, sample_group, err);
    r->report->configs[config].groups = groups > 0 ? groups : 0;
    return groups < 0 ? -1 : 0;
}

/* Pass 2 of one group: attributed against pass 1's latencies, the kernel
 * side of each row added. */
static int attribute_group(zz_runner *r, int point, const char *label, group_jobs *g, zz_error *err) {
    for (int j = 0; j < g->n; j++) g->m[j].latency = job_of(r, point, g->layout_index[j])->latency[g->mode_index[j]];
    if (zz_measure_attributions(g->job, g->n, r->stream, r->cupti, err)) return -1;
    for (int j = 0; j < g->n; j++) {
        const layout_job *lj = job_of(r, point, g->layout_index[j]);
        zz_report_add_kernels(r->report, lj->report_row[g->mode_index[j]], &g->m[j]);
        const zz_step_time *st = &g->m[j].timeline.median_step;
        if (!r->spec.quiet)
            fprintf(stderr, "kernels: %s %s %s: span %.1f us = %.1f us of kernels + %.1f us idle"
                            " - %.1f us overlap (clean median %.1f us)\n",
                    label, zz_layout_name(layout_of(r, g->layout_index[j])), zz_mode_name(g->job[j].opt.mode),
                    st->span_ns / 1e3, st->kernel_total_ns / 1e3, st->idle_ns / 1e3, st->overlap_ns / 1e3,
                    g->m[j].latency.median * 1e6);
    }
    return 0;
}

/* Pass 2 of one configuration: kernel attribution of its measured rows, on
 * fresh executors of the same plans, interleaved like pass 1. */
static int attribute_config(zz_runner *r, int point, const char *label, zz_error *err) {
    int wanted[MAX_LAYOUTS];
    for (int l = 0; l < r->spec.n_layouts; l++) {
        wanted[l] = 0;
        for (int i = 0; i < r->spec.n_modes; i++) wanted[l] |= job_of(r, point, l)->report_row[i] >= 0;
    }
    return walk_groups(r, point, label, wanted, 2, attribute_group, err) < 0 ? -1 : 0;
}

/* CUPTI's first attach stays in the process (its hooks still lengthen
 * host-bound eager steps after a detach: kernels/NOTES.md, "Measurements
 * behind design choices"), so it starts only after every latency is
 * sampled. Unavailable (a profiler holds it): env.json says why and the run
 * goes on with events alone. */
static int start_cupti(zz_runner *r, zz_run_info *info, const char *out_dir, zz_error *err) {
    if (zz_cupti_start(&r->cupti, err) == 0) return 0;
    fprintf(stderr, "note: CUPTI unavailable (%s): timing with CUDA events only\n", err->msg);
    snprintf(info->cupti_note, sizeof info->cupti_note, "CUPTI unavailable (%s)", err->msg);
    info->cupti = 0;
    r->cupti = NULL;
    err->msg[0] = '\0';  /* handled: not the run's error */
    char path[4096];
    if (zz_join_path(path, sizeof path, out_dir, "env.json", err)) return -1;
    return zz_report_write_env(info, path, err);
}

/* The configuration's entry in the report: its keys and the equal-budget check. */
static int add_config(zz_runner *r, const zz_sweep_point *pt, char *label, size_t size, zz_error *err) {
    const zz_budget *b = &r->spec.budgets[pt->sparsity];
    zz_report_config rc = {
        .workload = pt->workload,
        .sparsity = b->sparsity,
        .duo = zz_cost_of(&r->spec.model, &pt->workload, b->duo_retrieval),
        .zigzag = zz_cost_of(&r->spec.model, &pt->workload, b->zigzag_layers * r->spec.model.kv_heads),
        .duo_mixed_layers = zz_labels_mixed_layers(&b->duo),
    };
    snprintf(rc.note, sizeof rc.note, "%s", b->note);
    const int config = zz_report_add_config(r->report, &rc);
    if (config < 0) return zz_errorf(err, "run: %s", r->report->fault);
    zz_report_config_label(&rc, label, size);
    return config;
}

/* A model step's weights, once for the run, when they fit (with the
 * headroom); their memory measured, into info and env.json. When they do
 * not fit, r->weights stays NULL and every configuration is skipped with
 * its line (its need holds them). */
static int make_weights(zz_runner *r, zz_run_info *info, const char *out_dir, zz_error *err) {
    if (r->spec.lists.step != ZZ_STEP_MODEL) return 0;
    info->weights_bytes = zz_model_weight_bytes(&r->spec.model);
    size_t free_before, free_after, total;
    ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_before, &total));
    if (info->weights_bytes + ZZ_MEMORY_HEADROOM <= (double)free_before) {
        if (zz_weights_create(&r->spec.model, r->spec.seed, r->stream, &r->weights, err)) return -1;
        ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_after, &total));
        r->weights_held = info->weights_measured = (double)free_before - (double)free_after;
        if (!r->spec.quiet)
            fprintf(stderr, "weights: %.2f GiB (seed %llu), %.2f GiB measured\n", info->weights_bytes / GIB,
                    r->spec.seed, info->weights_measured / GIB);
    } else {
        fprintf(stderr, "skip: the weights need %.1f GiB, %.1f GiB free of the card's %.1f GiB: every configuration "
                        "is skipped\n", info->weights_bytes / GIB, free_before / GIB, total / GIB);
    }
    char path[4096];
    if (zz_join_path(path, sizeof path, out_dir, "env.json", err)) return -1;
    return zz_report_write_env(info, path, err);
}

int zz_runner_run(zz_runner *r, cudaStream_t stream, zz_run_info *info, const char *out_dir, zz_report *report,
                  volatile sig_atomic_t *stop, zz_error *err) {
    static volatile sig_atomic_t never;
    r->stream = stream;
    r->device = &info->device;
    r->report = report;
    r->stop = stop ? stop : &never;
    r->start_s = zz_wall_seconds();
    ZZ_KERNEL_OR_RETURN(zz_decode_one_launch_resident(r->spec.model.head_dim, &r->decode_resident));
    if (make_weights(r, info, out_dir, err)) return -1;
    int *config = malloc((size_t)(r->n_points ? r->n_points : 1) * sizeof *config);
    if (!config) return zz_errorf(err, "run: out of memory");
    int rc = -1;
    char label[128];
    for (int c = 0; c < r->n_points && !*r->stop; c++) {
        if ((config[c] = add_config(r, &r->points[c], label, sizeof label, err)) < 0) goto done;
        zz_nvtx_push(label, 0);
        const int failed = measure_config(r, c, config[c], label, err);
        zz_nvtx_pop();
        zz_runner_status(r, "running: latencies", report);
        if (failed || zz_report_write(report, out_dir, err)) goto done;
    }
    if (info->cupti && !*r->stop && start_cupti(r, info, out_dir, err)) goto done;
    for (int c = 0; c < r->n_points && r->cupti && !*r->stop; c++) {
        zz_report_config_label(&report->configs[config[c]], label, sizeof label);
        zz_nvtx_push(label, 0);
        const int failed = attribute_config(r, c, label, err);
        zz_nvtx_pop();
        zz_runner_status(r, "running: kernel attribution", report);
        if (failed || zz_report_write(report, out_dir, err)) goto done;
    }
    rc = 0;
done:
    free(config);
    return rc;
}
