/* zz-kernel-bench: every kernel alone, on the shapes the speed targets name,
 * against the ceilings measured on the card at the start of the run.
 *
 * Each case launches one kernel (decode: as its variant runs it, split +
 * combine, or the one launch that also appends the token; decode-fused:
 * duo-fused's one launch over a mixed layer's two head kinds) on random data,
 * warms up, then takes `--samples` samples with CUDA events and reports the
 * median, min and max time per launch. A sample is a batch of launches back
 * to back, as many as take --batch-us of GPU time, replayed as one CUDA
 * graph (harness/run/kernel_cases.h): one launch alone between two events
 * carries the events' and the dispatch's overhead, a batch pays it once
 * (kernels/NOTES.md, "Timing method change"). As in
 * nvbench, a blocking kernel holds the stream until the events and the graph
 * are enqueued, so the host's launch latency is not in the time. Every
 * launch of a case reuses the same buffers (L2 hot). Rates (work as
 * harness/run/kernel_cases.h counts it, shared with zz-gbench):
 *   prefill  TFLOP/s of the attended query-key pairs (4·B·Hq·D per pair) and
 *            of the pairs on the tiles the kernel computes (streaming skips
 *            tiles, so the two differ)
 *   decode   GB/s of Q, O and the K and V of every attended key, read once
 *            (one-launch and decode-fused: and the appended token's K, V)
 *   copies   GB/s read + written
 *   linear   TFLOP/s (2 · rows · in · out) and GB/s of X, W and Y (Y twice
 *            with beta 1); against the GEMM ceiling where the case has the
 *            arithmetic intensity of one (32K rows), else against the copy
 *            bandwidth (decode's one row reads the weight)
 *   rmsnorm, silu-mul  GB/s read + written
 * and the fraction of the matching ceiling (gemm or copy). The layer cases
 * (issue 17: the projections of a Llama-3-8B layer and its LM head, the
 * norm and the MLP's SiLU·up around attention) print in a table of their
 * own: rows, features in and out, beta.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "check.h"
#include "device.h"
#include "kernel_cases.h"
#include "output.h"
#include "stats.h"
#include "variants.h"

typedef struct {
    const char *name;
    zz_kernel_case c;
} bench_case;

/* Llama-3-8B attention heads: 32 query heads, 8 KV heads, D 128. */
#define L3 32, 8, 128
static const bench_case default_cases[] = {
    /* prefill, each variant (variants.h) on issue 16's target shapes */
#define PREFILL_CASES(V)                                                                          \
    {"prefill-full", {ZZ_KC_PREFILL, 1, L3, 4096, 0, ZZ_MASK_FULL, 0, 0, 0, V}},                  \
    {"prefill-full", {ZZ_KC_PREFILL, 1, L3, 16384, 0, ZZ_MASK_FULL, 0, 0, 0, V}},                 \
    {"prefill-full", {ZZ_KC_PREFILL, 1, L3, 32768, 0, ZZ_MASK_FULL, 0, 0, 0, V}},                 \
    {"prefill-full", {ZZ_KC_PREFILL, 1, 32, 32, 128, 16384, 0, ZZ_MASK_FULL, 0, 0, 0, V}},        \
    {"prefill-full", {ZZ_KC_PREFILL, 1, 32, 8, 64, 16384, 0, ZZ_MASK_FULL, 0, 0, 0, V}},          \
    {"prefill-streaming", {ZZ_KC_PREFILL, 1, L3, 16384, 0, ZZ_MASK_STREAMING, 128, 256, 0, V}}
    PREFILL_CASES(ZZ_PREFILL_FA2),
    PREFILL_CASES(ZZ_PREFILL_WGMMA_TMA),
#undef PREFILL_CASES
    /* decode, each variant (variants.h) on the same shapes: Llama-3-8B's 8 KV
     * heads, duo's 4-head retrieval slice of them (issue 14), MHA; 8K and 32K
     * give issue 14's 16 MiB and 64 MiB launches with 4 KV heads */
#define DECODE_CASES(V)                                                                        \
    {"decode-full", {ZZ_KC_DECODE, 1, L3, 8192, 0, ZZ_MASK_FULL, 0, 0, 0, V}},                 \
    {"decode-full", {ZZ_KC_DECODE, 1, 16, 4, 128, 8192, 0, ZZ_MASK_FULL, 0, 0, 0, V}},         \
    {"decode-full", {ZZ_KC_DECODE, 1, L3, 32768, 0, ZZ_MASK_FULL, 0, 0, 0, V}},                \
    {"decode-full", {ZZ_KC_DECODE, 1, 16, 4, 128, 32768, 0, ZZ_MASK_FULL, 0, 0, 0, V}},        \
    {"decode-full", {ZZ_KC_DECODE, 1, L3, 131072, 0, ZZ_MASK_FULL, 0, 0, 0, V}},               \
    {"decode-full", {ZZ_KC_DECODE, 1, 16, 4, 128, 131072, 0, ZZ_MASK_FULL, 0, 0, 0, V}},       \
    {"decode-full", {ZZ_KC_DECODE, 8, L3, 131072, 0, ZZ_MASK_FULL, 0, 0, 0, V}},               \
    {"decode-full", {ZZ_KC_DECODE, 1, 32, 32, 128, 32768, 0, ZZ_MASK_FULL, 0, 0, 0, V}},       \
    {"decode-streaming", {ZZ_KC_DECODE, 1, L3, 32768, 0, ZZ_MASK_STREAMING, 128, 256, 0, V}},  \
    {"decode-streaming", {ZZ_KC_DECODE, 8, L3, 131072, 0, ZZ_MASK_STREAMING, 128, 256, 0, V}}
    DECODE_CASES(ZZ_DECODE_SPLIT_COMBINE),
    DECODE_CASES(ZZ_DECODE_ONE_LAUNCH),
#undef DECODE_CASES
    /* duo-fused's mixed layer in one launch (issue 15): Llama-3-8B's 8 KV
     * heads, 4 retrieval (a cache of S + 1 slots) and 4 streaming (a 128 +
     * 256 ring). Its retrieval half alone is the 16 / 4-head one-launch
     * decode-full case at the same S above: the GB/s of the two, against
     * the copy ceiling, show what running the streaming heads in the same
     * launch costs or gains. */
#define FUSED_CASE(B, S) {"decode-fused", {ZZ_KC_DECODE_FUSED, B, L3, S, 0, ZZ_MASK_STREAMING, 128, 256, 0, 0, 4}}
    FUSED_CASE(1, 8192), FUSED_CASE(1, 32768), FUSED_CASE(1, 131072), FUSED_CASE(8, 131072),
#undef FUSED_CASE
    {"cache-update", {ZZ_KC_CACHE_WRITE, 8, L3, 32768, 1, ZZ_MASK_FULL, 0, 0, 0}},
    {"concat", {ZZ_KC_CONCAT, 1, L3, 0, 16384, ZZ_MASK_FULL, 0, 0, 0}},
    /* The model step around attention (kernels/layers.h), Llama-3-8B: hidden
     * 4096, 32 + 8 + 8 heads of 128 for QKV, MLP 14336 (gate and up in one
     * GEMM), vocabulary 128256. Rows 1: a decode step (batch 1); 32768: a 32K
     * prefill chunk. O and down add into the residual stream (beta 1). */
#define LINEAR(NAME, ROWS, IN, OUT, ACC) \
    {NAME, {.kind = ZZ_KC_LINEAR, .batch = 1, .tokens = ROWS, .in = IN, .out = OUT, .accumulate = ACC}}
#define LAYER_GEMMS(ROWS)                            \
    LINEAR("linear-qkv", ROWS, 4096, 6144, 0),       \
    LINEAR("linear-o", ROWS, 4096, 4096, 1),         \
    LINEAR("linear-gate-up", ROWS, 4096, 28672, 0),  \
    LINEAR("linear-down", ROWS, 14336, 4096, 1)
    LAYER_GEMMS(1),
    LINEAR("linear-lm-head", 1, 4096, 128256, 0),
    LAYER_GEMMS(32768),
#undef LAYER_GEMMS
#undef LINEAR
    {"rmsnorm", {.kind = ZZ_KC_RMSNORM, .batch = 1, .tokens = 32768, .in = 4096}},
    {"silu-mul", {.kind = ZZ_KC_SILU_MUL, .batch = 1, .tokens = 32768, .in = 14336}},
};

typedef struct {
    double median_us, min_us, max_us; /* per launch */
    int launches;                      /* per sample */
    zz_kernel_work work;
} bench_result;

static void die(const char *name, const zz_error *err) {
    fprintf(stderr, "zz-kernel-bench: %s: %s\n", name, err->msg);
    exit(1);
}

/* Every launch on the same buffers (L2 hot), as the targets were measured. */
static bench_result run_case(const bench_case *bc, int samples, double batch_s, int sm_count,
                             zz_launch_timer *timer) {
    zz_error err;
    zz_kernel_run run;
    int launches;
    if (zz_kernel_run_init(&run, &bc->c, sm_count, 0, timer->stream, &err) ||
        zz_kernel_run_batch_for(&run, timer, batch_s, &launches, &err))
        die(bc->name, &err);
    double *s = calloc((size_t)samples, sizeof *s), warm;
    if (!s) {
        fprintf(stderr, "zz-kernel-bench: out of memory for %d samples\n", samples);
        exit(1);
    }
    /* Three more warm-ups, unblocked; then each sample behind the blocker. */
    for (int i = -3; i < samples; i++)
        if (zz_kernel_run_time(&run, timer, i >= 0, launches, i >= 0 ? &s[i] : &warm, &err)) die(bc->name, &err);
    zz_stats st;
    if (zz_stats_of(s, (size_t)samples, &st, &err)) die(bc->name, &err);
    const double us_per_launch = 1e6 / launches;
    bench_result r = {st.median * us_per_launch, st.min * us_per_launch, st.max * us_per_launch, launches, run.work};
    free(s);
    zz_kernel_run_free(&run);
    return r;
}

static void usage(void) {
    printf("usage: zz-kernel-bench [options]\n"
           "Times each kernel alone on the speed-target shapes, against the card's\n"
           "measured copy bandwidth and cuBLAS bf16 GEMM rate: the attention kernels and\n"
           "copies, then the layer kernels around them (linear-*: cuBLASLt GEMMs of a\n"
           "Llama-3-8B layer and its LM head; rmsnorm; silu-mul).\n"
           "  --samples N     timed samples per case, after 3 warm-ups (default 20)\n"
           "  --batch-us N    launches per sample: as many as take N us (default 200, at\n"
           "                  most 128); 0: one launch (adds 2-3 us of event overhead)\n"
           "  --filter TEXT   only cases whose name contains TEXT; one must match\n"
           "  --kernel NAME   only the attention cases of kernel variant NAME (--list names\n"
           "                  them: decode split-combine, one-launch; prefill fa2); one must match\n"
           "  --list          print the kernel variants and the cases (name, variant, shape)\n"
           "                  --filter and --kernel select, and exit; no GPU needed\n"
           "  --csv FILE      also write the table as CSV, whole: rewritten after each case\n"
           "  --splits N      decode split count (default 0: chosen from the SM count;\n"
           "                  decode-fused keeps its launcher's rule)\n"
           "  --help\n"
           "Kernel kinds: prefill, decode (split-combine or one-launch), cache-update,\n"
           "concat, and decode-fused: duo-fused's one launch over a mixed layer, its first\n"
           "KV heads (variant column: how many) on their full cache, the rest on the\n"
           "sink + recent ring (--filter decode-fused; compare its GB/s with decode-full\n"
           "one-launch at 4 KV heads, its retrieval half alone).\n"
           "Bad flags, an unwritable --csv and a machine without a GPU end with one line\n"
           "on stderr and exit status 2, before any measurement; a failure on the GPU\n"
           "with exit status 1.\n");
}

#define refuse(...) zz_refuse("zz-kernel-bench", __VA_ARGS__)

static int is_layer_case(const zz_kernel_case *c) {
    return c->kind == ZZ_KC_LINEAR || c->kind == ZZ_KC_RMSNORM || c->kind == ZZ_KC_SILU_MUL;
}

/* The S column: the cache or prompt; a copy's tokens; a layer case's rows per sequence. */
static long long case_tokens(const zz_kernel_case *c) {
    return c->kind == ZZ_KC_CONCAT || is_layer_case(c) ? c->tokens : c->ctx;
}

/* The columns that name a case, in the table and in --list: attention and
 * copies by their heads, a layer case (a table of its own) by its rows and
 * the features it reads and writes per row. */
static void print_case_header(int layer) {
    if (layer)
        printf("%-18s %6s %6s %7s %4s", "kernel", "rows", "in", "out", "beta");
    else
        printf("%-18s %-14s %2s %3s %3s %4s %7s %8s", "kernel", "variant", "B", "Hq", "Hkv", "D", "S", "win");
}

static void print_case(const bench_case *bc) {
    const zz_kernel_case *c = &bc->c;
    if (is_layer_case(c)) {
        const int in = c->kind == ZZ_KC_SILU_MUL ? 2 * c->in : c->in, out = c->kind == ZZ_KC_LINEAR ? c->out : c->in;
        printf("%-18s %6lld %6d %7d %4s", bc->name, (long long)c->batch * c->tokens, in, out,
               c->kind == ZZ_KC_LINEAR ? (c->accumulate ? "1" : "0") : "-");
        return;
    }
    const char *variant = zz_kc_variant_name(c);
    char window[32] = "-", retrieval[32];
    if (c->kind == ZZ_KC_DECODE_FUSED) { /* no kernel variant: the column says how the heads split */
        snprintf(retrieval, sizeof retrieval, "%d retrieval", c->retrieval);
        variant = retrieval;
    }
    if (c->mask == ZZ_MASK_STREAMING) snprintf(window, sizeof window, "%d+%d", c->sink, c->recent);
    printf("%-18s %-14s %2d %3d %3d %4d %7lld %8s", bc->name, variant ? variant : "-", c->batch, c->q_heads,
           c->kv_heads, c->head_dim, case_tokens(c), window);
}

/* --list's first table: every kernel variant, what it launches, what it changes. */
static void print_variants(void) {
    int n;
    const zz_kernel_variant *v = zz_kernel_variants(&n);
    printf("%-14s %-8s %s\n", "variant", "phase", "launches / what it changes against the previous one");
    for (int i = 0; i < n; i++)
        printf("%-14s %-8s %s\n%-23s %s\n", v[i].name, zz_phase_name(v[i].phase), v[i].launches, "", v[i].change);
    printf("\n");
}

/* --kernel NAME selects the case: an attention case of that variant. */
static int of_variant(const zz_kernel_case *c, const char *name) {
    const char *variant = zz_kc_variant_name(c);
    return variant && !strcmp(variant, name);
}

/* A variant of either phase is called NAME. */
static int known_variant(const char *name) {
    int id;
    return !zz_kernel_variant_from_name(ZZ_DECODE, name, &id) || !zz_kernel_variant_from_name(ZZ_PREFILL, name, &id);
}

/* The exit status once the results are on stdout: 0, or 2 when they could
 * not all be written there. */
static int close_stdout(void) {
    zz_error err;
    return zz_close_stdout(&err) ? refuse("%s", err.msg) : 0;
}

#define CASES (int)(sizeof default_cases / sizeof default_cases[0])

int main(int argc, char **argv) {
    int samples = 20, decode_splits = 0, list = 0;
    double batch_us = ZZ_KC_BATCH_US_DEFAULT;
    const char *filter = NULL, *csv_path = NULL, *kernel = NULL;
    const char *measure_flag = NULL;  /* the last flag that only a measurement uses */
    static const struct option opts[] = {{"samples", required_argument, 0, 's'},
                                         {"filter", required_argument, 0, 'f'},
                                         {"kernel", required_argument, 0, 'v'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"splits", required_argument, 0, 'k'},
                                         {"batch-us", required_argument, 0, 'b'},
                                         {"list", no_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int option_index = 0;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, ":", opts, &option_index)) != -1;) {
        const char *flag = argv[optind - 1];
        if (ch == 's' || ch == 'k' || ch == 'b' || ch == 'c') measure_flag = opts[option_index].name;
        switch (ch) {
        case 's':
        case 'k': {
            char *end;
            long n = strtol(optarg, &end, 10), least = ch == 's';
            if (*end || end == optarg || n < least || n > 100000)
                return refuse("--%s %s: need a whole number %ld..100000", opts[option_index].name, optarg, least);
            *(ch == 's' ? &samples : &decode_splits) = (int)n;
            break;
        }
        case 'b': {
            zz_error err;
            if (zz_kernel_batch_us_parse(optarg, &batch_us, &err)) return refuse("%s", err.msg);
            break;
        }
        case 'f': filter = optarg; break;
        case 'v':
            if (!known_variant(optarg))
                return refuse("--kernel %s: no such kernel variant (decode: %s; prefill: %s)", optarg,
                              zz_decode_kernel_names, zz_prefill_kernel_names);
            kernel = optarg;
            break;
        case 'c': csv_path = optarg; break;
        case 'l': list = 1; break;
        case 'h': usage(); return close_stdout();
        case ':': return refuse("option '%s' needs a value", flag);
        default:
            if (optopt && !strncmp(flag, "--", 2)) return refuse("option '%s' takes no value", flag);
            return refuse("unknown option '%s' (see zz-kernel-bench --help)", flag);
        }
    }
    if (optind < argc) return refuse("unexpected argument '%s'", argv[optind]);
    if (filter && !*filter) return refuse("--filter: empty text (leave the flag out to run every case)");
    if (list && measure_flag)
        return refuse("--list and --%s exclude each other: --list measures nothing", measure_flag);
    int selected[CASES], n_selected = 0;
    for (int i = 0; i < CASES; i++)
        if ((!filter || strstr(default_cases[i].name, filter)) && (!kernel || of_variant(&default_cases[i].c, kernel)))
            selected[n_selected++] = i;
    if (!n_selected && kernel && filter)
        return refuse("--filter '%s' and --kernel %s match no kernel case together (zz-kernel-bench --list names "
                      "them)", filter, kernel);
    if (!n_selected)
        return refuse("%s%s%s matches no kernel case (zz-kernel-bench --list names them)", filter ? "--filter '" : "",
                      filter ? filter : "--kernel ", filter ? "'" : kernel);
    if (list) {
        print_variants();
        for (int i = 0, table = -1; i < n_selected; i++) {
            const bench_case *bc = &default_cases[selected[i]];
            if (is_layer_case(&bc->c) != table) { /* the layer cases come last, in their own table */
                if (table >= 0) printf("\n");
                table = is_layer_case(&bc->c);
                print_case_header(table);
                printf("\n");
            }
            print_case(bc);
            printf("\n");
        }
        return close_stdout();
    }

    zz_error err;
    if ((csv_path && zz_check_writable(csv_path, &err)) || zz_device_check(0, &err)) return refuse("%s", err.msg);
    zz_device dev;
    zz_ceilings ceil;
    if (zz_device_query(0, &dev, &err) || zz_measure_ceilings(0, 10, &ceil, &err)) {
        fprintf(stderr, "zz-kernel-bench: %s\n", err.msg);
        return 1;
    }
    printf("# %s, %d SMs, driver %d, runtime %d\n", dev.name, dev.sm_count, dev.driver_version, dev.runtime_version);
    printf("# ceilings: copy %.0f GB/s (read + written), bf16 GEMM %d^3 %.0f TFLOP/s\n", ceil.copy_gbps, ceil.gemm_n,
           ceil.gemm_tflops);
    static const char *const csv_header[] = {"kernel", "variant", "batch", "q_heads", "kv_heads", "head_dim", "ctx",
                                             "sink", "recent", "retrieval", "median_us", "min_us", "max_us", "tflops",
                                             "tile_tflops", "gbps", "frac_gemm", "frac_copy", "launches_per_sample",
                                             "rows", "in", "out", "beta"};
    zz_csv csv = {0};
    for (size_t i = 0; i < sizeof csv_header / sizeof csv_header[0]; i++) zz_csv_str(&csv, csv_header[i]);
    zz_csv_end_row(&csv);
    cudaStream_t stream;
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    zz_launch_timer timer;
    if (zz_launch_timer_init(&timer, stream, &err)) die("timer", &err);
    int hopper = 0;
    if (zz_prefill_hopper_supported(&hopper) != ZZ_OK) {
        fprintf(stderr, "zz-kernel-bench: %s\n", zz_kernel_error());
        return 1;
    }
    for (int i = 0, table = -1; i < n_selected; i++) {
        bench_case bc = default_cases[selected[i]];
        const zz_kernel_case *c = &bc.c;
        /* Not asked for by name, a variant this GPU cannot run is left out;
         * asked for (--kernel), its launcher's refusal ends the run. */
        if (!kernel && c->kind == ZZ_KC_PREFILL && c->variant == ZZ_PREFILL_WGMMA_TMA && !hopper) {
            printf("# %s %s: skipped (needs an sm_90 GPU and a build with 90a code)\n", bc.name,
                   zz_kc_variant_name(c));
            continue;
        }
        const int layer = is_layer_case(c);
        if (layer != table) {
            if (table >= 0) printf("\n");
            table = layer;
            print_case_header(layer);
            printf(" %10s %9s %9s %8s %6s %6s %5s\n", "median_us", "spread%", "TFLOP/s", layer ? "" : "tileTF/s",
                   "GB/s", "%ceil", "batch");
        }
        if (c->kind == ZZ_KC_DECODE) bc.c.splits = decode_splits;
        bench_result r = run_case(&bc, samples, batch_us * 1e-6, dev.sm_count, &timer);
        const zz_kernel_work w = r.work;
        double sec = r.median_us * 1e-6;
        double tflops = w.flops / sec * 1e-12, tile_tflops = w.tile_flops / sec * 1e-12, gbps = w.bytes / sec * 1e-9;
        double frac = w.compute_bound ? tflops / ceil.gemm_tflops : gbps / ceil.copy_gbps;
        print_case(&bc);
        printf(" %10.1f %9.2f %9.1f ", r.median_us, 100.0 * (r.max_us - r.min_us) / r.median_us, tflops);
        if (layer)
            printf("%8s", "");
        else
            printf("%8.1f", tile_tflops);
        printf(" %6.0f %5.1f%% %5d\n", gbps, 100.0 * frac, r.launches);
        fflush(stdout);
        if (!csv_path) continue;
        zz_csv_str(&csv, bc.name);
        zz_csv_str(&csv, zz_kc_variant_name(c) ? zz_kc_variant_name(c) : "");
        const long long shape[] = {c->batch, c->q_heads, c->kv_heads, c->head_dim, case_tokens(c), c->sink, c->recent};
        for (size_t k = 0; k < sizeof shape / sizeof shape[0]; k++) zz_csv_int(&csv, shape[k]);
        if (c->kind == ZZ_KC_DECODE_FUSED)
            zz_csv_int(&csv, c->retrieval);
        else
            zz_csv_str(&csv, "");  /* one head kind: no split of the KV heads */
        const double measured[] = {r.median_us, r.min_us, r.max_us, tflops, tile_tflops, gbps,
                                   tflops / ceil.gemm_tflops, gbps / ceil.copy_gbps};
        for (size_t k = 0; k < sizeof measured / sizeof measured[0]; k++) zz_csv_num(&csv, measured[k]);
        zz_csv_int(&csv, r.launches);
        if (layer) {
            zz_csv_int(&csv, (long long)c->batch * c->tokens);
            zz_csv_int(&csv, c->kind == ZZ_KC_SILU_MUL ? 2 * c->in : c->in);
            zz_csv_int(&csv, c->kind == ZZ_KC_LINEAR ? c->out : c->in);
            zz_csv_int(&csv, c->kind == ZZ_KC_LINEAR ? c->accumulate : 0);
        } else {
            for (int k = 0; k < 4; k++) zz_csv_str(&csv, "");
        }
        zz_csv_end_row(&csv);
        if (zz_csv_write(&csv, csv_path, &err)) die("--csv", &err);
    }
    zz_csv_free(&csv);
    zz_launch_timer_free(&timer);
    cudaStreamDestroy(stream);
    return close_stdout();
}
