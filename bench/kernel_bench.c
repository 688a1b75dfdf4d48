/* zz-kernel-bench: every kernel alone, on the shapes the speed targets name,
 * against the ceilings measured on the card at the start of the run.
 *
 * Each case launches one kernel (decode: split + combine) on random data,
 * warms up, then times `--samples` launches one by one with CUDA events and
 * reports the median, min and max. As in nvbench, a blocking kernel holds the
 * stream until the events and the launch are enqueued, so short kernels are
 * timed without the host's launch latency. Rates:
 *   prefill  TFLOP/s of the attended query-key pairs (4·B·Hq·D per pair) and
 *            of the pairs on the tiles the kernel computes (streaming skips
 *            tiles, so the two differ)
 *   decode   GB/s of K and V of every attended KV head, read once
 *   copies   GB/s read + written
 * and the fraction of the matching ceiling (gemm or copy).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "device.h"
#include "model.h"

typedef enum { PREFILL, DECODE, CACHE_UPDATE, CONCAT } case_kind;

typedef struct {
    const char *name;
    case_kind kind;
    int batch, q_heads, kv_heads, head_dim;
    long long ctx;
    zz_mask_kind mask;
    int sink, recent;
} bench_case;

/* Llama-3-8B attention heads: 32 query heads, 8 KV heads, D 128. */
#define L3 32, 8, 128
static const bench_case default_cases[] = {
    {"prefill-full", PREFILL, 1, L3, 4096, ZZ_MASK_FULL, 0, 0},
    {"prefill-full", PREFILL, 1, L3, 16384, ZZ_MASK_FULL, 0, 0},
    {"prefill-full", PREFILL, 1, L3, 32768, ZZ_MASK_FULL, 0, 0},
    {"prefill-full", PREFILL, 1, 32, 32, 128, 16384, ZZ_MASK_FULL, 0, 0},
    {"prefill-full", PREFILL, 1, 32, 8, 64, 16384, ZZ_MASK_FULL, 0, 0},
    {"prefill-streaming", PREFILL, 1, L3, 16384, ZZ_MASK_STREAMING, 128, 256},
    {"decode-full", DECODE, 1, L3, 32768, ZZ_MASK_FULL, 0, 0},
    {"decode-full", DECODE, 8, L3, 131072, ZZ_MASK_FULL, 0, 0},
    {"decode-full", DECODE, 1, 32, 32, 128, 32768, ZZ_MASK_FULL, 0, 0},
    {"decode-streaming", DECODE, 1, L3, 32768, ZZ_MASK_STREAMING, 128, 256},
    {"decode-streaming", DECODE, 8, L3, 131072, ZZ_MASK_STREAMING, 128, 256},
    {"cache-update", CACHE_UPDATE, 8, L3, 32768, ZZ_MASK_FULL, 0, 0},
    {"concat", CONCAT, 1, L3, 16384, ZZ_MASK_FULL, 0, 0},
};

typedef struct {
    double median_us, min_us, max_us;
    double flops, tile_flops, bytes;
} bench_result;

static bf16 *device_random(long long n, unsigned long long seed) {
    bf16 *x;
    ZZ_CUDA_OR_DIE(cudaMalloc((void **)&x, (size_t)n * sizeof(bf16)));
    if (zz_fill_uniform(x, n, seed, 1.0f, 0)) {
        fprintf(stderr, "zz-kernel-bench: %s\n", zz_kernel_error());
        exit(1);
    }
    return x;
}

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

#define KERNEL_OR_DIE(call)                                                      \
    do {                                                                         \
        if ((call) != ZZ_OK) {                                                   \
            fprintf(stderr, "zz-kernel-bench: %s: %s\n", c->name, zz_kernel_error()); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static bench_result run_case(const bench_case *c, int samples, int sm_count, int decode_splits) {
    const int B = c->batch, Hq = c->q_heads, Hkv = c->kv_heads, D = c->head_dim;
    const long long S = c->ctx;
    const zz_mask mask = {c->mask, c->sink, c->recent, 0};
    const zz_workload work = {c->kind == PREFILL ? ZZ_PREFILL : ZZ_DECODE, B, S, 0, c->sink, c->recent};
    const int streaming = c->mask == ZZ_MASK_STREAMING;
    bench_result r = {0};

    /* Decode's cache holds S tokens plus the new one (full) or sink + recent. */
    long long q_tokens = c->kind == PREFILL || c->kind == CONCAT ? S : 1;
    long long kv_tokens = c->kind == PREFILL ? S : streaming ? c->sink + c->recent : S + 1;
    bf16 *q = device_random(B * q_tokens * Hq * D, 1);
    bf16 *k = device_random(B * kv_tokens * Hkv * D, 2);
    bf16 *v = device_random(B * kv_tokens * Hkv * D, 3);
    bf16 *o;
    ZZ_CUDA_OR_DIE(cudaMalloc((void **)&o, (size_t)B * q_tokens * Hq * D * sizeof(bf16)));

    zz_prefill_args pa = {zz_view_dense(q, (int)S, Hq, D), zz_view_dense(k, (int)S, Hkv, D),
                          zz_view_dense(v, (int)S, Hkv, D), zz_view_dense(o, (int)S, Hq, D), B, D, (int)S, 0, mask};
    zz_decode_args da = {zz_view_dense(q, 1, Hq, D), zz_view_dense(k, (int)kv_tokens, Hkv, D),
                         zz_view_dense(v, (int)kv_tokens, Hkv, D), zz_view_dense(o, 1, Hq, D), B, D, (int)S, mask, decode_splits};
    void *workspace = NULL;
    zz_head_work hw = zz_head_work_of(&work, streaming);
    switch (c->kind) {
    case PREFILL:
        r.flops = 4.0 * B * Hq * D * hw.pairs;
        r.tile_flops = 4.0 * D * zz_prefill_computed_pairs(&pa);
        r.bytes = 2.0 * B * S * D * (2.0 * Hq + 2.0 * Hkv);
        break;
    case DECODE:
        r.flops = 4.0 * B * Hq * D * zz_decode_keys(&da);
        r.bytes = 2.0 * 2 * B * Hkv * D * (double)zz_decode_keys(&da);
        ZZ_CUDA_OR_DIE(cudaMalloc(&workspace, zz_decode_workspace_bytes(&da, sm_count) + 16));
        break;
    case CACHE_UPDATE: r.bytes = 2.0 * 2 * 2 * B * Hkv * D; break;
    case CONCAT: r.bytes = 2.0 * 2 * B * S * Hq * D; break;
    }

    cudaEvent_t start, stop;
    ZZ_CUDA_OR_DIE(cudaEventCreate(&start));
    ZZ_CUDA_OR_DIE(cudaEventCreate(&stop));
    volatile int *release;
    ZZ_CUDA_OR_DIE(cudaHostAlloc((void **)&release, sizeof *release, cudaHostAllocMapped));
    float *ms = calloc((size_t)samples, sizeof *ms);
    for (int i = -3; i < samples; i++) {  /* three warm-up launches */
        /* The blocker holds the stream while the events and the launch are
         * enqueued, so the host's launch latency is not timed. Warm-ups run
         * unblocked: a kernel's first launch loads its module (lazy loading),
         * which waits for the device and would deadlock behind the blocker. */
        if (i >= 0) KERNEL_OR_DIE(zz_block_stream(release, 0));
        ZZ_CUDA_OR_DIE(cudaEventRecord(start, 0));
        switch (c->kind) {
        case PREFILL: KERNEL_OR_DIE(zz_prefill_attention(&pa, 0)); break;
        case DECODE: KERNEL_OR_DIE(zz_decode_attention(&da, workspace, sm_count, 0)); break;
        case CACHE_UPDATE:
            KERNEL_OR_DIE(zz_cache_write(zz_view_dense(q, 1, Hkv, D), zz_view_dense(o, 1, Hkv, D), da.k, da.v, B, D,
                                          (int)kv_tokens, 0, 0, (int)S, 1, 0));
            break;
        case CONCAT: {
            zz_view a = zz_view_dense(q, (int)S, Hq / 2, D), b = zz_view_dense(q + B * S * Hq / 2 * D, (int)S, Hq / 2, D);
            KERNEL_OR_DIE(zz_concat_heads(a, b, pa.o, B, (int)S, D, 0));
            break;
        }
        }
        ZZ_CUDA_OR_DIE(cudaEventRecord(stop, 0));
        int held = i < 0 || *release == 0;
        *release = 1;
        ZZ_CUDA_OR_DIE(cudaEventSynchronize(stop));
        if (!held) {
            fprintf(stderr, "zz-kernel-bench: %s: the stream blocker timed out before the launch was enqueued\n", c->name);
            exit(1);
        }
        if (i >= 0) ZZ_CUDA_OR_DIE(cudaEventElapsedTime(&ms[i], start, stop));
    }
    qsort(ms, (size_t)samples, sizeof *ms, compare_floats);
    r.median_us = ms[samples / 2] * 1e3;
    r.min_us = ms[0] * 1e3;
    r.max_us = ms[samples - 1] * 1e3;
    free(ms);
    ZZ_CUDA_OR_DIE(cudaEventDestroy(start));
    ZZ_CUDA_OR_DIE(cudaEventDestroy(stop));
    ZZ_CUDA_OR_DIE(cudaFree(q));
    ZZ_CUDA_OR_DIE(cudaFree(k));
    ZZ_CUDA_OR_DIE(cudaFree(v));
    ZZ_CUDA_OR_DIE(cudaFree(o));
    ZZ_CUDA_OR_DIE(cudaFree(workspace));
    ZZ_CUDA_OR_DIE(cudaFreeHost((void *)release));
    return r;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: zz-kernel-bench [options]\n"
            "Times each kernel alone on the speed-target shapes, against the card's\n"
            "measured copy bandwidth and cuBLAS bf16 GEMM rate.\n"
            "  --samples N     timed launches per case, after 3 warm-ups (default 20)\n"
            "  --filter TEXT   only cases whose name contains TEXT\n"
            "  --csv FILE      also write the table as CSV\n"
            "  --splits N      decode split count (default 0: chosen from the SM count)\n"
            "  --help\n");
}

int main(int argc, char **argv) {
    int samples = 20, decode_splits = 0;
    const char *filter = NULL, *csv_path = NULL;
    static const struct option opts[] = {{"samples", required_argument, 0, 's'},
                                         {"filter", required_argument, 0, 'f'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"splits", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    for (int ch; (ch = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (ch) {
        case 's':
        case 'k': {
            char *end;
            long n = strtol(optarg, &end, 10), least = ch == 's';
            if (*end || end == optarg || n < least || n > 100000) {
                fprintf(stderr, "zz-kernel-bench: --%s %s: need a whole number %ld..100000\n",
                        ch == 's' ? "samples" : "splits", optarg, least);
                return 2;
            }
            *(ch == 's' ? &samples : &decode_splits) = (int)n;
            break;
        }
        case 'f': filter = optarg; break;
        case 'c': csv_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zz-kernel-bench: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    zz_error err;
    zz_device dev;
    zz_ceilings ceil;
    if (zz_device_query(0, &dev, &err) || zz_measure_ceilings(0, 10, &ceil, &err)) {
        fprintf(stderr, "zz-kernel-bench: %s\n", err.msg);
        return 1;
    }
    printf("# %s, %d SMs, driver %d, runtime %d\n", dev.name, dev.sm_count, dev.driver_version, dev.runtime_version);
    printf("# ceilings: copy %.0f GB/s (read + written), bf16 GEMM %d^3 %.0f TFLOP/s\n", ceil.copy_gbps, ceil.gemm_n,
           ceil.gemm_tflops);
    FILE *csv = NULL;
    if (csv_path && !(csv = fopen(csv_path, "w"))) {
        fprintf(stderr, "zz-kernel-bench: cannot write %s\n", csv_path);
        return 1;
    }
    if (csv)
        fprintf(csv, "kernel,batch,q_heads,kv_heads,head_dim,ctx,sink,recent,median_us,min_us,max_us,"
                     "tflops,tile_tflops,gbps,frac_gemm,frac_copy\n");
    printf("%-18s %2s %3s %3s %4s %7s %8s %10s %9s %9s %8s %6s %6s\n", "kernel", "B", "Hq", "Hkv", "D", "S",
           "win", "median_us", "spread%", "TFLOP/s", "tileTF/s", "GB/s", "%ceil");
    for (size_t i = 0; i < sizeof default_cases / sizeof default_cases[0]; i++) {
        const bench_case *c = &default_cases[i];
        if (filter && !strstr(c->name, filter)) continue;
        bench_result r = run_case(c, samples, dev.sm_count, decode_splits);
        double sec = r.median_us * 1e-6;
        double tflops = r.flops / sec * 1e-12, tile_tflops = r.tile_flops / sec * 1e-12, gbps = r.bytes / sec * 1e-9;
        int compute_bound = c->kind == PREFILL;
        double frac = compute_bound ? tflops / ceil.gemm_tflops : gbps / ceil.copy_gbps;
        char window[32] = "-";
        if (c->mask == ZZ_MASK_STREAMING) snprintf(window, sizeof window, "%d+%d", c->sink, c->recent);
        printf("%-18s %2d %3d %3d %4d %7lld %8s %10.1f %9.2f %9.1f %8.1f %6.0f %5.1f%%\n", c->name, c->batch,
               c->q_heads, c->kv_heads, c->head_dim, c->ctx, window, r.median_us,
               100.0 * (r.max_us - r.min_us) / r.median_us, tflops, tile_tflops, gbps, 100.0 * frac);
        fflush(stdout);
        if (csv)
            fprintf(csv, "%s,%d,%d,%d,%d,%lld,%d,%d,%.3f,%.3f,%.3f,%.2f,%.2f,%.1f,%.4f,%.4f\n", c->name, c->batch,
                    c->q_heads, c->kv_heads, c->head_dim, c->ctx, c->sink, c->recent, r.median_us, r.min_us,
                    r.max_us, tflops, tile_tflops, gbps, tflops / ceil.gemm_tflops, gbps / ceil.copy_gbps);
    }
    if (csv) fclose(csv);
    return 0;
}
