/* zz-gbench: every kernel of the suite as a Google Benchmark microbenchmark,
 * over a grid of shapes, for comparing kernel variants and GPUs with the
 * tools people already use (--benchmark_filter, --benchmark_repetitions,
 * --benchmark_out=FILE --benchmark_out_format=json, compare.py).
 *
 * Names: family/model/B:1/S:32768[/sink:128/recent:256], or .../T:N for the
 * kernels that take new tokens (cache writes at prefill, head copies).
 *   prefill_full, prefill_streaming   zz_prefill_attention, B × S queries
 *   decode_full                       zz_decode_attention: split kernel + combine, one launch call
 *   decode_full_split                 its split kernel alone   } both taken from a captured
 *   decode_full_combine               its combine kernel alone } decode launch (kernel_cases.h)
 *   decode_streaming                  decode on a sink + recent ring
 *   decode_streaming_split, _combine  its two kernels alone, as for decode_full (combine
 *                                     at B 1: llama2-7b's ring at B 8 is one split)
 *   cache_decode_full, _streaming     zz_cache_write of one token at position S
 *   cache_prefill_full, _streaming    zz_cache_write of T prompt tokens
 *   concat, gather, scatter           head copies of duo-cat and duo-gather, T tokens
 * on the attention heads of llama3-8b (32 query, 8 KV, D 128) and llama2-7b
 * (32, 32, 128).
 *
 * Launches are timed on the GPU with CUDA events behind the stream blocker
 * (manual time), so the time is the GPU's alone. Between two events goes a
 * batch of launches back to back, replayed as one CUDA graph, as many as
 * take --batch-us of GPU time (default 200 µs, at most 128; 0: one launch),
 * counted as that many iterations: an iteration is a launch, its time the
 * batch's per launch. One launch alone between the events carries the
 * events' and the dispatch's overhead, which a short kernel would report as
 * its own. Launched one by one on a stream, two kernels sit further apart
 * than in a graph, as zz-bench's graph mode runs a step; the gap is what
 * CUPTI's kernel durations (zz-bench's kernels.csv) leave out, and a
 * graph's is small enough for the two to agree (kernels/NOTES.md, "Timing
 * method change"; README: "Against kernels.csv").
 * Inputs rotate over buffer sets spanning 3 × L2 (--hot: one set), so a
 * launch finds its inputs in DRAM as a layer of a model step does.
 * Flags Google Benchmark would answer with its help and exit status 0 (an
 * unknown --benchmark_format), a filter that selects nothing and a machine
 * without a GPU are refused before any GPU work; --benchmark_out goes to a
 * temporary renamed when the run is complete, so a failed run leaves an
 * older file as it was.
 * Counters: GB/s and TFLOP/s (rates over the manual time), tile_TFLOP/s
 * (prefill, tiles the kernel computes), copy_fraction and gemm_fraction (of
 * the ceilings measured at start), splits (decode), batch (launches per
 * timed batch). The JSON context names the GPU, the ceilings and how it was
 * timed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "device.h"
#include "gbench.h"
#include "kernel_cases.h"
#include "model.h"
#include "output.h"

typedef enum { ARG_B, ARG_S, ARG_T, ARG_SINK, ARG_RECENT, ARG_KINDS } arg_kind;
static const char *const arg_names[ARG_KINDS] = {"B", "S", "T", "sink", "recent"};

#define MAX_ARGS 5

/* The grid: every family over the product of its argument lists, on each model. */
static const long long b1[] = {1}, b18[] = {1, 8}, s_prefill[] = {4096, 16384, 32768},
                       s_decode[] = {8192, 32768, 131072}, s32k[] = {32768}, t_prompt[] = {4096, 16384},
                       t_copy[] = {1, 4096, 16384}, sink[] = {128}, recent[] = {256, 1024}, recent256[] = {256};
#define ARR(a) a, (int)(sizeof a / sizeof a[0])

typedef struct {
    const char *op;
    zz_kc_kind kind;
    zz_mask_kind mask;
    long long ctx, tokens;
    int n_args;
    arg_kind args[MAX_ARGS];
    struct {
        const long long *v;
        int n;
    } lists[MAX_ARGS];
} grid_family;

static const grid_family grid[] = {
    {"prefill_full", ZZ_KC_PREFILL, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_S}, {{ARR(b1)}, {ARR(s_prefill)}}},
    {"prefill_streaming", ZZ_KC_PREFILL, ZZ_MASK_STREAMING, 0, 0, 4, {ARG_B, ARG_S, ARG_SINK, ARG_RECENT},
     {{ARR(b1)}, {ARR(s_prefill)}, {ARR(sink)}, {ARR(recent)}}},
    {"decode_full", ZZ_KC_DECODE, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_S}, {{ARR(b18)}, {ARR(s_decode)}}},
    {"decode_full_split", ZZ_KC_DECODE_SPLIT, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_S}, {{ARR(b18)}, {ARR(s_decode)}}},
    {"decode_full_combine", ZZ_KC_DECODE_COMBINE, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_S},
     {{ARR(b18)}, {ARR(s_decode)}}},
    {"decode_streaming", ZZ_KC_DECODE, ZZ_MASK_STREAMING, 0, 0, 4, {ARG_B, ARG_S, ARG_SINK, ARG_RECENT},
     {{ARR(b18)}, {ARR(s_decode)}, {ARR(sink)}, {ARR(recent)}}},
    {"decode_streaming_split", ZZ_KC_DECODE_SPLIT, ZZ_MASK_STREAMING, 0, 0, 4, {ARG_B, ARG_S, ARG_SINK, ARG_RECENT},
     {{ARR(b18)}, {ARR(s32k)}, {ARR(sink)}, {ARR(recent256)}}},
    {"decode_streaming_combine", ZZ_KC_DECODE_COMBINE, ZZ_MASK_STREAMING, 0, 0, 4, {ARG_B, ARG_S, ARG_SINK, ARG_RECENT},
     {{ARR(b1)}, {ARR(s32k)}, {ARR(sink)}, {ARR(recent256)}}},
    {"cache_decode_full", ZZ_KC_CACHE_WRITE, ZZ_MASK_FULL, 0, 1, 2, {ARG_B, ARG_S}, {{ARR(b18)}, {ARR(s_decode)}}},
    {"cache_decode_streaming", ZZ_KC_CACHE_WRITE, ZZ_MASK_STREAMING, 0, 1, 4, {ARG_B, ARG_S, ARG_SINK, ARG_RECENT},
     {{ARR(b18)}, {ARR(s32k)}, {ARR(sink)}, {ARR(recent256)}}},
    {"cache_prefill_full", ZZ_KC_CACHE_WRITE, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_T}, {{ARR(b1)}, {ARR(t_prompt)}}},
    {"cache_prefill_streaming", ZZ_KC_CACHE_WRITE, ZZ_MASK_STREAMING, 0, 0, 4, {ARG_B, ARG_T, ARG_SINK, ARG_RECENT},
     {{ARR(b1)}, {ARR(t_prompt)}, {ARR(sink)}, {ARR(recent256)}}},
    {"concat", ZZ_KC_CONCAT, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_T}, {{ARR(b18)}, {ARR(t_copy)}}},
    {"gather", ZZ_KC_GATHER, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_T}, {{ARR(b18)}, {ARR(t_copy)}}},
    {"scatter", ZZ_KC_SCATTER, ZZ_MASK_FULL, 0, 0, 2, {ARG_B, ARG_T}, {{ARR(b18)}, {ARR(t_copy)}}},
};
#define GRID_FAMILIES (int)(sizeof grid / sizeof grid[0])

static const char *const models[] = {"llama3-8b", "llama2-7b"};
#define MODELS (int)(sizeof models / sizeof models[0])

/* A registered family: the grid row on one model's heads. */
typedef struct {
    const grid_family *spec;
    zz_kernel_case base; /* kind, heads, mask, fixed ctx / tokens; arguments set the rest */
} family;

static struct {
    zz_device dev;
    zz_ceilings ceil;
    cudaStream_t stream;
    zz_launch_timer timer;
    long long rotate_bytes;  /* 0: --hot */
    double batch_s;          /* GPU time a timed batch aims at; 0: one launch */
    zz_kernel_run run;       /* the last benchmark's buffers, kept across its runs and repetitions */
    int have_run;
    int batch;               /* launches per timed batch of `run` */
    int failures;
    family families[MODELS * GRID_FAMILIES];
} g;

static zz_kernel_case case_of(const family *f, const zz_gb_state *st) {
    zz_kernel_case c = f->base;
    for (int i = 0; i < f->spec->n_args; i++) {
        long long v = zz_gb_range(st, i);
        switch (f->spec->args[i]) {
        case ARG_B: c.batch = (int)v; break;
        case ARG_S: c.ctx = v; break;
        case ARG_T: c.tokens = v; break;
        case ARG_SINK: c.sink = (int)v; break;
        case ARG_RECENT: c.recent = (int)v; break;
        case ARG_KINDS: break;
        }
    }
    return c;
}

static int same_case(const zz_kernel_case *a, const zz_kernel_case *b) {
    return a->kind == b->kind && a->batch == b->batch && a->q_heads == b->q_heads && a->kv_heads == b->kv_heads &&
           a->head_dim == b->head_dim && a->ctx == b->ctx && a->tokens == b->tokens && a->mask == b->mask &&
           a->sink == b->sink && a->recent == b->recent && a->splits == b->splits;
}

static void drop_run(void) {
    if (g.have_run) zz_kernel_run_free(&g.run);
    g.have_run = 0;
}

/* The case's buffers and batch size, set up once per benchmark: Google
 * Benchmark calls the function several times (finding the iteration count,
 * repetitions). */
static int prepare(const zz_kernel_case *c, zz_error *err) {
    if (g.have_run && same_case(&g.run.c, c)) return 0;
    drop_run();
    if (zz_kernel_run_init(&g.run, c, g.dev.sm_count, g.rotate_bytes, g.stream, err)) return -1;
    g.have_run = 1;
    return zz_kernel_run_batch_for(&g.run, &g.timer, g.batch_s, &g.batch, err);
}

static void fail(zz_gb_state *st, const zz_error *err) {
    zz_gb_skip_with_error(st, err->msg);
    g.failures++;
    drop_run();
}

static void run_benchmark(zz_gb_state *st, void *ctx) {
    const family *f = ctx;
    const zz_kernel_case c = case_of(f, st);
    zz_error err;
    if (prepare(&c, &err)) {
        fail(st, &err);
        return;
    }
    double total = 0;
    while (zz_gb_keep_running_batch(st, g.batch)) { /* an iteration is a launch */
        double seconds;
        if (zz_kernel_run_time(&g.run, &g.timer, 1, g.batch, &seconds, &err)) {
            fail(st, &err);
            return;
        }
        zz_gb_set_iteration_time(st, seconds);
        total += seconds;
    }
    const zz_kernel_work *w = &g.run.work;
    const long long n = zz_gb_iteration_count(st);
    if (n < 1 || total <= 0) return;
    const double per_second = n / total;
    if (w->bytes > 0) {
        zz_gb_counter(st, "GB/s", w->bytes * n * 1e-9, ZZ_GB_RATE);
        zz_gb_counter(st, "copy_fraction", w->bytes * per_second * 1e-9 / g.ceil.copy_gbps, 0);
    }
    if (w->flops > 0) {
        zz_gb_counter(st, "TFLOP/s", w->flops * n * 1e-12, ZZ_GB_RATE);
        zz_gb_counter(st, "gemm_fraction", w->flops * per_second * 1e-12 / g.ceil.gemm_tflops, 0);
    }
    if (w->tile_flops > 0) zz_gb_counter(st, "tile_TFLOP/s", w->tile_flops * n * 1e-12, ZZ_GB_RATE);
    if (c.kind == ZZ_KC_DECODE || c.kind == ZZ_KC_DECODE_SPLIT || c.kind == ZZ_KC_DECODE_COMBINE)
        zz_gb_counter(st, "splits", g.run.splits, 0);
    zz_gb_counter(st, "batch", g.batch, 0);
}

static void usage(void) {
    printf("usage: zz-gbench [--hot] [--batch-us N] [Google Benchmark flags]\n"
           "The suite's kernels as Google Benchmark microbenchmarks, timed on the GPU (CUDA\n"
           "events behind a stream blocker), on the heads of llama3-8b and llama2-7b over\n"
           "a grid of B, S, T and sink + recent. An iteration's time is the time per launch\n"
           "of a batch of launches back to back, replayed as one CUDA graph.\n"
           "  --batch-us N  launches per batch: as many as take N us (default 200, at most\n"
           "                128 launches); 0: one launch between the events (adds the events'\n"
           "                2-3 us of overhead to every launch)\n"
           "  --hot         every launch on the same buffers (L2 hot, as zz-kernel-bench);\n"
           "                default: inputs rotate over buffer sets spanning 3 x L2\n"
           "Names: family/model/B:n/S:n[/sink:n/recent:n] or family/model/B:n/T:n;\n"
           "--benchmark_list_tests lists them (no GPU needed). Common flags:\n"
           "  --benchmark_filter=REGEX  e.g. decode, 'decode_full/llama3-8b/B:1/'; it must\n"
           "                            match a benchmark\n"
           "  --benchmark_out=FILE --benchmark_out_format=json  FILE is written as FILE.tmp\n"
           "                            and renamed when the run is complete\n"
           "  --benchmark_repetitions=N  --benchmark_min_time=SECONDS (plain number)\n"
           "Bad flags, a filter matching no benchmark, an unwritable --benchmark_out and a\n"
           "machine without a GPU end with one line on stderr and exit status 2, before\n"
           "any GPU work; a failed benchmark with exit status 1.\n"
           "Google Benchmark's own list:\n\n");
    zz_gb_print_default_help();
    /* Google Benchmark exits 0 after the help: a failed write must not. */
    zz_error err;
    if (zz_close_stdout(&err)) {
        fprintf(stderr, "zz-gbench: %s\n", err.msg);
        exit(2);
    }
}

/* --benchmark_list_tests names the benchmarks without running them: no GPU. */
static int listing_only(int argc, char **argv) {
    const char *flag = "--benchmark_list_tests";
    int listing = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], flag, strlen(flag))) continue;
        const char *v = argv[i] + strlen(flag);
        listing = !*v || (*v == '=' && strcmp(v, "=false") && strcmp(v, "=0") && strcmp(v, "=no") &&
                          strcmp(v, "=f") && strcmp(v, "=n") && strcmp(v, "=False") && strcmp(v, "=FALSE"));
    }
    return listing;
}

static void register_grid(void) {
    int n = 0;
    for (int m = 0; m < MODELS; m++) {
        zz_model model;
        zz_error err;
        if (zz_model_preset(models[m], &model, &err)) {
            fprintf(stderr, "zz-gbench: %s\n", err.msg);
            exit(1);
        }
        for (int i = 0; i < GRID_FAMILIES; i++) {
            const grid_family *spec = &grid[i];
            family *f = &g.families[n++];
            f->spec = spec;
            f->base = (zz_kernel_case){spec->kind, 1, model.q_heads, model.kv_heads, model.head_dim, spec->ctx,
                                       spec->tokens, spec->mask, 0, 0, 0};
            char name[96];
            snprintf(name, sizeof name, "%s/%s", spec->op, models[m]);
            const char *names[MAX_ARGS];
            const long long *lists[MAX_ARGS];
            int counts[MAX_ARGS];
            for (int a = 0; a < spec->n_args; a++) {
                names[a] = arg_names[spec->args[a]];
                lists[a] = spec->lists[a].v;
                counts[a] = spec->lists[a].n;
            }
            zz_gb_benchmark *b = zz_gb_register(name, run_benchmark, f);
            b = zz_gb_arg_names(b, spec->n_args, names);
            b = zz_gb_args_product(b, spec->n_args, lists, counts);
            b = zz_gb_unit(zz_gb_use_manual_time(b), ZZ_GB_US);
            if (!b) {
                fprintf(stderr, "zz-gbench: cannot register %s\n", name);
                exit(1);
            }
        }
    }
}

/* Device, ceilings and the JSON context, on a GPU zz_device_check found; 1 on failure. */
static int setup_device(int hot, double batch_us) {
    zz_error err;
    if (zz_device_query(0, &g.dev, &err)) {
        fprintf(stderr, "zz-gbench: %s\n", err.msg);
        return 1;
    }
    if (zz_measure_ceilings(0, 10, &g.ceil, &err)) {
        fprintf(stderr, "zz-gbench: measuring the ceilings: %s\n", err.msg);
        return 1;
    }
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
    if (zz_launch_timer_init(&g.timer, g.stream, &err)) {
        fprintf(stderr, "zz-gbench: %s\n", err.msg);
        return 1;
    }
    g.rotate_bytes = hot ? 0 : 3 * g.dev.l2_bytes;
    g.batch_s = batch_us * 1e-6;
    char v[320];
    zz_gb_add_context("gpu", g.dev.name);
    snprintf(v, sizeof v, "%d SMs, CC %d.%d, %d MHz, %lld MiB L2", g.dev.sm_count, g.dev.cc_major, g.dev.cc_minor,
             g.dev.sm_clock_mhz, g.dev.l2_bytes >> 20);
    zz_gb_add_context("gpu_config", v);
    snprintf(v, sizeof v, "driver %d, runtime %d", g.dev.driver_version, g.dev.runtime_version);
    zz_gb_add_context("cuda", v);
    snprintf(v, sizeof v, "%.1f", g.ceil.copy_gbps);
    zz_gb_add_context("copy_ceiling_gbps", v);
    snprintf(v, sizeof v, "%.1f", g.ceil.gemm_tflops);
    zz_gb_add_context("gemm_ceiling_tflops", v);
    if (hot)
        snprintf(v, sizeof v, "hot: every launch on the same buffers");
    else
        snprintf(v, sizeof v, "cold: inputs rotate over buffer sets spanning %lld MiB (3 x L2)", g.rotate_bytes >> 20);
    zz_gb_add_context("l2", v);
    if (batch_us > 0)
        snprintf(v, sizeof v, "CUDA events around a batch of launches taking %g us (at most %d; counter batch), "
                 "replayed as one CUDA graph behind a stream blocker; time per launch", batch_us, ZZ_KC_MAX_BATCH);
    else
        snprintf(v, sizeof v, "CUDA events around each launch (a one-launch CUDA graph), behind a stream blocker");
    zz_gb_add_context("timing", v);
    fprintf(stderr, "zz-gbench: %s: copy %.0f GB/s, bf16 GEMM %.0f TFLOP/s; L2 %s\n", g.dev.name, g.ceil.copy_gbps,
            g.ceil.gemm_tflops, hot ? "hot" : "cold (rotating buffers)");
    return 0;
}

#define refuse(...) zz_refuse("zz-gbench", __VA_ARGS__)

/* --benchmark_out's temporary (Google Benchmark writes the file as it goes),
 * removed at exit unless published: "" when there is none. */
static char out_tmp[4096];

static void remove_out_tmp(void) {
    if (out_tmp[0]) unlink(out_tmp);
}

/* Exit status 2 (one line on stderr, before any GPU work): bad flags, a
 * selection of no benchmark, an unwritable --benchmark_out, no GPU; 1: a
 * failure on the GPU or a failed benchmark. */
int main(int argc, char **argv) {
    char msg[512];
    zz_error err;
    if (zz_gb_check_flags(argc, argv, msg, sizeof msg)) return refuse("%s", msg);
    const int listing = listing_only(argc, argv);
    const char *out = zz_gb_flag(argc, argv, "benchmark_out");
    if (out && !*out) out = NULL;
    char **args = calloc((size_t)argc + 2, sizeof *args), out_flag[sizeof out_tmp + 32];
    if (!args) return refuse("out of memory");
    memcpy(args, argv, (size_t)argc * sizeof *args);
    if (out) {
        if (zz_check_writable(out, &err) || zz_temp_name(out, out_tmp, sizeof out_tmp, &err))
            return refuse("%s", err.msg);
        atexit(remove_out_tmp);
        snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", out_tmp); /* the last one wins */
        args[argc++] = out_flag;
    }
    zz_gb_initialize(&argc, args, usage);
    int hot = 0, rest = 1;
    double batch_us = ZZ_KC_BATCH_US_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(args[i], "--hot")) {
            hot = 1;
            continue;
        }
        const char *value = !strncmp(args[i], "--batch-us=", 11) ? args[i] + 11
                            : !strcmp(args[i], "--batch-us") && i + 1 < argc ? args[++i] : NULL;
        if (!value) {
            args[rest++] = args[i];
            continue;
        }
        if (zz_kernel_batch_us_parse(value, &batch_us, &err)) return refuse("%s", err.msg);
    }
    if (zz_gb_report_unrecognized(rest, args)) return ZZ_EXIT_BAD_INPUT;
    register_grid();
    if (!zz_gb_count_selected(msg, sizeof msg))
        return refuse("%s (zz-gbench --benchmark_list_tests names the benchmarks)", msg);
    if (!listing && zz_device_check(0, &err)) return refuse("%s", err.msg);
    if (!listing && setup_device(hot, batch_us)) return 1;
    zz_gb_run();
    zz_gb_shutdown();
    drop_run();
    if (!listing) {
        zz_launch_timer_free(&g.timer);
        cudaStreamDestroy(g.stream);
    }
    int status = 0;
    if (g.failures) {
        fprintf(stderr, "zz-gbench: %d benchmark(s) failed; each one's error_message says why\n", g.failures);
        status = 1;
    }
    if (out && !listing) {
        if (zz_replace_with_temp(out, &err)) {
            fprintf(stderr, "zz-gbench: %s\n", err.msg);
            status = 1;
        }
        out_tmp[0] = '\0';
    }
    free(args);
    if (zz_close_stdout(&err)) return refuse("%s", err.msg);
    return status;
}
