/* GPU tests of the executor and the measurement: every layout, in decode
 * (on both decode kernel variants), single-shot prefill and chunked
 * prefill (on both prefill variants; wgmma-tma where the GPU runs it), on a
 * small model whose layers are
 * mixed (DuoAttention labels at sparsity 0.5), writes its caches and
 * produces each layer's output as the CPU computes them (zz_executor_verify);
 * graph replay leaves exactly what an eager step leaves, with everything the
 * step writes poisoned in between; CUPTI's kernel records attribute to the
 * step's launches, whose work adds up to the plan's. The model step
 * (issue 17) on every layout: its attention verified in place in the QKV
 * output, finite logits, graph = eager (logits too), launches adding up to
 * the plan, the memory it takes within its count, CUPTI attribution with
 * cuBLASLt's GEMMs as library launches. Run with `make test-gpu`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "device.h"
#include "executor.h"
#include "measure.h"
#include "pattern.h"
#include "plan.h"
#include "variants.h"
#include "verify.h"

static int sm_count;
static cudaStream_t stream;
static int hopper;  /* the GPU runs the prefill variant wgmma-tma (zz_prefill_hopper_supported) */

typedef struct {
    zz_phase phase;
    int batch, ctx, chunk, head_dim;
    int kernel;  /* the phase's kernel variant (variants.h) */
} workload_case;

/* Streaming heads keep sink 8 + recent 40 = 48 slots. */
static const workload_case all_workloads[] = {
    {ZZ_DECODE, 2, 300, 0, 128},   /* the ring has wrapped */
    {ZZ_DECODE, 2, 30, 0, 64},     /* the ring is not full yet */
    {ZZ_DECODE, 1, 5000, 0, 64},   /* several decode splits: the combine kernel runs */
    /* one-launch: the attention launches append, the last split block combines */
    {ZZ_DECODE, 2, 300, 0, 128, ZZ_DECODE_ONE_LAUNCH},  /* the ring has wrapped */
    {ZZ_DECODE, 2, 30, 0, 64, ZZ_DECODE_ONE_LAUNCH},    /* the ring is not full yet */
    {ZZ_DECODE, 1, 5000, 0, 64, ZZ_DECODE_ONE_LAUNCH},  /* several splits: tickets and the combine */
    {ZZ_DECODE, 5, 777, 0, 128, ZZ_DECODE_ONE_LAUNCH},  /* B 5, S + 1 = 778 keys: splits of part tiles */
    {ZZ_PREFILL, 2, 300, 0, 128},
    {ZZ_PREFILL, 1, 700, 256, 64}, /* chunked: three passes, the last one short */
    {ZZ_PREFILL, 2, 201, 64, 128}, /* chunked: the ring wraps inside a chunk; last pass 9 tokens */
    /* wgmma-tma: the same prefills (left out where the GPU cannot run it) */
    {ZZ_PREFILL, 2, 300, 0, 128, ZZ_PREFILL_WGMMA_TMA},
    {ZZ_PREFILL, 1, 700, 256, 64, ZZ_PREFILL_WGMMA_TMA},
    {ZZ_PREFILL, 2, 201, 64, 128, ZZ_PREFILL_WGMMA_TMA},
};
#define ALL_WORKLOADS (sizeof all_workloads / sizeof all_workloads[0])

/* The workloads this GPU runs (main fills it from all_workloads). */
static workload_case workloads[ALL_WORKLOADS];
static size_t n_workloads;

static const zz_layout layouts[] = {ZZ_LAYOUT_FULL,       ZZ_LAYOUT_STREAMING, ZZ_LAYOUT_DUO_CAT, ZZ_LAYOUT_DUO_GATHER,
                                    ZZ_LAYOUT_DUO_SLICES, ZZ_LAYOUT_DUO_FUSED, ZZ_LAYOUT_ZIGZAG};

/* A model of `layers` layers with 4 KV heads in GQA groups of 2; random
 * alpha, so the DuoAttention labels mix heads inside layers. */
static void build_plan(const workload_case *wc, int layers, zz_layout layout, zz_plan *plan) {
    zz_error err;
    zz_model m = {"test", layers, 8, 4, wc->head_dim};
    zz_pattern pattern;
    zz_budget budget;
    if (zz_pattern_synthetic("random:7", &m, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    zz_workload w = {wc->phase, wc->batch, wc->ctx, wc->chunk, 8, 40, wc->kernel};
    const zz_labels *labels = layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo;
    if (zz_plan_build(&m, labels, layout, &w, plan, &err)) fail_msg("%s", err.msg);
}

static void describe(const workload_case *wc, char *out, size_t size) {
    snprintf(out, size, "%s B%d S%d C%d D%d %s", zz_phase_name(wc->phase), wc->batch, wc->ctx, wc->chunk,
             wc->head_dim, zz_kernel_variant_name(wc->phase, wc->kernel));
}

static void test_layouts_match_reference(void **state) {
    (void)state;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < n_workloads; w++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            zz_error err;
            zz_executor *ex;
            char what[64];
            describe(&workloads[w], what, sizeof what);
            build_plan(&workloads[w], 4, layouts[l], plan);
            if (zz_executor_create(plan, stream, sm_count, NULL, &ex, &err)) fail_msg("%s", err.msg);
            double worst;
            if (zz_executor_verify(ex, &worst, &err)) fail_msg("%s %s: %s", zz_layout_name(layouts[l]), what, err.msg);
            print_message("  %-10s %-22s: %d mixed layers, caches bit-exact, worst layer error %.2e\n",
                          zz_layout_name(layouts[l]), what, plan->mixed_layers, worst);
            if (!(worst < REF_ERROR_BOUND))
                fail_msg("%s %s: relative error %.3g over the bound %g", zz_layout_name(layouts[l]), what, worst,
                         REF_ERROR_BOUND);
            if (layouts[l] == ZZ_LAYOUT_DUO_CAT || layouts[l] == ZZ_LAYOUT_DUO_FUSED) assert_true(plan->mixed_layers > 0);
            if (layouts[l] == ZZ_LAYOUT_ZIGZAG) assert_int_equal(plan->mixed_layers, 0);
            zz_executor_destroy(ex);
        }
    free(plan);
}

/* Verifies one plan's executor against the CPU reference (caches bit for
 * bit, outputs within the bound). */
static void verify_plan(const zz_plan *plan, const char *what) {
    zz_error err;
    zz_executor *ex;
    if (zz_executor_create(plan, stream, sm_count, NULL, &ex, &err)) fail_msg("%s: %s", what, err.msg);
    double worst;
    if (zz_executor_verify(ex, &worst, &err)) fail_msg("%s: %s", what, err.msg);
    print_message("  %-44s: %2d mixed layers, caches bit-exact, worst layer error %.2e\n", what, plan->mixed_layers,
                  worst);
    if (!(worst < REF_ERROR_BOUND)) fail_msg("%s: relative error %.3g over the bound %g", what, worst, REF_ERROR_BOUND);
    zz_executor_destroy(ex);
}

/* duo-fused and duo-cat both equal the per-head reference on every layer
 * (issue 15) for the workloads of a fused layer: decode on each variant,
 * prefill single shot and chunked on each variant (wgmma-tma: duo-fused's
 * mixed layers on prefill_hopper_fused_kernel; left out where the GPU
 * cannot run it). */
static const workload_case fused_workloads[] = {
    {ZZ_DECODE, 2, 300, 0, 128, ZZ_DECODE_ONE_LAUNCH},
    {ZZ_DECODE, 1, 3000, 0, 128, ZZ_DECODE_SPLIT_COMBINE},
    {ZZ_PREFILL, 1, 96, 0, 128},
    {ZZ_PREFILL, 2, 100, 40, 128},
    {ZZ_PREFILL, 1, 96, 0, 128, ZZ_PREFILL_WGMMA_TMA},
    {ZZ_PREFILL, 2, 100, 40, 128, ZZ_PREFILL_WGMMA_TMA},
};

static int runs_here(const workload_case *wc) {
    return hopper || !(wc->phase == ZZ_PREFILL && wc->kernel == ZZ_PREFILL_WGMMA_TMA);
}

static void verify_fused_and_cat(const zz_model *m, const zz_labels *labels, double sparsity, const char *name) {
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < sizeof fused_workloads / sizeof fused_workloads[0]; w++)
        for (int fused = 0; fused <= 1; fused++) {
            const workload_case *wc = &fused_workloads[w];
            if (!runs_here(wc)) continue;
            zz_workload wl = {wc->phase, wc->batch, wc->ctx, wc->chunk, 8, 40, wc->kernel};
            zz_error err;
            const zz_layout layout = fused ? ZZ_LAYOUT_DUO_FUSED : ZZ_LAYOUT_DUO_CAT;
            if (zz_plan_build(m, labels, layout, &wl, plan, &err)) fail_msg("%s", err.msg);
            char what[128], wdesc[64];
            describe(wc, wdesc, sizeof wdesc);
            snprintf(what, sizeof what, "%s %.2f %s %s", name, sparsity, zz_layout_name(layout), wdesc);
            verify_plan(plan, what);
        }
    free(plan);
}

/* On DuoAttention's published patterns (Llama-3-8B, Llama-2-7B at sparsity
 * 0.25, 0.5, 0.75; from $ZZ_DUO_PATTERNS, else ../shared/duo-patterns: the
 * test skips with a line where neither holds them), and on labels whose
 * layers are all retrieval, all streaming and mixed both ways. */
static void test_duo_fused_matches_reference(void **state) {
    (void)state;
    zz_error err;
    /* a small model: layer 0 all retrieval, 1 all streaming, 2 and 3 mixed */
    const zz_model small = {"test", 4, 8, 4, 128};
    zz_labels edge = {.layers = 4, .kv_heads = 4};
    const unsigned char rows[4][4] = {{1, 1, 1, 1}, {0, 0, 0, 0}, {1, 0, 0, 1}, {0, 1, 1, 1}};
    for (int l = 0; l < 4; l++) memcpy(edge.retrieval[l], rows[l], 4);
    verify_fused_and_cat(&small, &edge, 0.5, "edge layers");

    const char *root = getenv("ZZ_DUO_PATTERNS");
    if (!root || !*root) root = "../shared/duo-patterns";
    static const struct { const char *preset, *folder; } models[] = {
        {"llama3-8b", "Llama-3-8B-Instruct-Gradient-1048k"}, {"llama2-7b", "Llama-2-7B-32K-Instruct"}};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        zz_model m;
        zz_pattern pattern;
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", root, models[i].folder);
        if (zz_model_preset(models[i].preset, &m, &err)) fail_msg("%s", err.msg);
        if (zz_pattern_load(dir, &m, &pattern, &err)) {
            print_message("  published patterns not tested: %s (set ZZ_DUO_PATTERNS to their folder)\n", err.msg);
            skip();
        }
        for (double sparsity = 0.25; sparsity < 0.8; sparsity += 0.25) {
            zz_budget budget;
            if (zz_budget_make(&pattern, sparsity, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
                fail_msg("%s", err.msg);
            verify_fused_and_cat(&m, &budget.duo, sparsity, models[i].preset);
        }
    }
}

/* Graph replay runs the same kernels: after an eager step, then after each
 * replay, the layer output and every cache hold the same bits. Between the
 * steps everything a step writes is set to NaN (zz_executor_poison), so a
 * launch missing from the graph leaves NaN where eager left values. A
 * one-layer model too, where every launch shows in the output or a cache
 * (in the 4-layer model earlier layers' outputs are overwritten; the CUPTI
 * test below counts their kernels). */
static void test_graph_equals_eager(void **state) {
    (void)state;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < n_workloads; w++)
        for (int layers = 1; layers <= 4; layers += 3) {
            const workload_case *wc = &workloads[w];
            zz_error err;
            zz_executor *ex;
            char what[64];
            describe(wc, what, sizeof what);
            build_plan(wc, layers, ZZ_LAYOUT_DUO_GATHER, plan);
            if (zz_executor_create(plan, stream, sm_count, NULL, &ex, &err)) fail_msg("%s", err.msg);
            bf16 *eager, *graph;
            long long n, n2;
            if (zz_executor_enqueue(ex, ZZ_MODE_EAGER, NULL, &err) || zz_executor_snapshot(ex, &eager, &n, &err))
                fail_msg("%s", err.msg);
            const int tokens = wc->phase == ZZ_DECODE ? 1 : wc->chunk > 0 && wc->chunk < wc->ctx ? wc->chunk : wc->ctx;
            const long long n_out = (long long)wc->batch * tokens * plan->model.q_heads * wc->head_dim;
            for (int replay = 1; replay <= 2; replay++) {
                if (zz_executor_poison(ex, &err) || zz_executor_enqueue(ex, ZZ_MODE_GRAPH, NULL, &err) ||
                    zz_executor_snapshot(ex, &graph, &n2, &err))
                    fail_msg("%s", err.msg);
                assert_int_equal(n, n2);
                for (long long i = 0; i < n; i++)
                    if (graph[i] != eager[i])
                        fail_msg("%s, %d layers: graph replay %d differs from the eager step in the %s, value %lld: "
                                 "0x%04x, eager 0x%04x",
                                 what, layers, replay, i < n_out ? "layer output" : "caches",
                                 i < n_out ? i : i - n_out, graph[i], eager[i]);
                free(graph);
            }
            print_message("  graph replay = eager (output and caches), %s, %d layers\n", what, layers);
            free(eager);
            zz_executor_destroy(ex);
        }
    free(plan);
}

/* CUPTI, or NULL where it cannot start and ZZ_ALLOW_NO_CUPTI=1 allows that
 * (under a profiler, say), after one line saying so; otherwise the test fails. */
static zz_cupti *start_cupti(void) {
    zz_error err;
    zz_cupti *cupti;
    if (zz_cupti_start(&cupti, &err) == 0) return cupti;
    const char *allow = getenv("ZZ_ALLOW_NO_CUPTI");
    if (allow && !strcmp(allow, "1")) {
        print_message("  CUPTI not tested: it could not start (%s); ZZ_ALLOW_NO_CUPTI=1 allows that\n", err.msg);
        return NULL;
    }
    fail_msg("CUPTI could not start: %s (set ZZ_ALLOW_NO_CUPTI=1 to skip this test where CUPTI cannot run, "
             "e.g. under Nsight)",
             err.msg);
    return NULL;
}

/* Both modes of one executor as one interleaved group, as zz-bench run
 * measures them, then attributed: every step's records land on its
 * launches (one record each; a library launch, a GEMM, one or more), every
 * category's time is a real duration, and each step's decomposition adds
 * up exactly. */
static void expect_attributed(zz_executor *ex, zz_cupti *cupti, const char *what) {
    zz_error err;
    zz_measurement m[2];
    zz_measure_job jobs[2];
    for (int mode = ZZ_MODE_EAGER; mode <= ZZ_MODE_GRAPH; mode++)
        jobs[mode] = (zz_measure_job){ex, {(zz_mode)mode, 0, 2, {0.02, 5, 0.001, 2}}, &m[mode], NULL, 0};
    if (zz_measure_latencies(jobs, 2, stream, NULL, NULL, NULL, &err) ||
        zz_measure_attributions(jobs, 2, stream, cupti, &err))
        fail_msg("%s: %s", what, err.msg);
    int launches, library = 0;
    const zz_launch *launch = zz_executor_launches(ex, &launches);
    for (int i = 0; i < launches; i++) library += launch[i].library;
    for (int mode = ZZ_MODE_EAGER; mode <= ZZ_MODE_GRAPH; mode++) {
        const zz_measurement *mm = &m[mode];
        const char *mode_name = zz_mode_name((zz_mode)mode);
        assert_true(mm->have_kernels);
        assert_int_equal(mm->timeline.launches, launches);
        assert_true(mm->timeline.steps > 0);
        size_t records = 0;
        for (size_t k = 0; k < mm->n_kernels; k++) records += mm->kernels[k].launches;
        const size_t least = mm->timeline.steps * (size_t)launches;
        if (library ? records < least : records != least)
            fail_msg("%s %s: %zu kernel records in kernels.csv rows, expected %s%zu steps x %d launches", mode_name,
                     what, records, library ? "at least " : "", mm->timeline.steps, launches);
        const zz_step_time *s = &mm->timeline.median_step;
        for (int c = 0; c < ZZ_CATEGORIES; c++)
            if (!(s->kernel_ns[c] >= 0))
                fail_msg("%s %s: %s kernel time %g ns", mode_name, what, zz_category_name((zz_category)c),
                         s->kernel_ns[c]);
        /* The step's own decomposition (timeline.h): the span holds the
         * busy time and the gaps, and the parts add up to it exactly. */
        double parts = s->idle_ns - s->overlap_ns;
        for (int c = 0; c < ZZ_CATEGORIES; c++) parts += s->kernel_ns[c];
        if (parts != s->span_ns || !(s->idle_ns >= 0) || !(s->busy_ns <= s->span_ns) ||
            s->span_ns + s->outside_ns != s->latency_ns)
            fail_msg("%s %s: span %.0f ns, parts %.0f, idle %.0f, busy %.0f, outside %.0f, latency %.0f", mode_name,
                     what, s->span_ns, parts, s->idle_ns, s->busy_ns, s->outside_ns, s->latency_ns);
        if (mm->timeline.gap.n != mm->timeline.steps * (size_t)(launches - 1))
            fail_msg("%s %s: %zu kernel boundaries, expected %zu", mode_name, what, mm->timeline.gap.n,
                     mm->timeline.steps * (size_t)(launches - 1));
        assert_int_equal(mm->n_attributed, (int)mm->timeline.steps);
        assert_true(mm->dropped_records == 0);
        print_message("  %s %-22s: %zu samples, median %.1f us, span %.1f us = kernels %.1f + idle %.1f - "
                      "overlap %.1f, %d launches (%d library), %zu records a step\n",
                      mode_name, what, mm->latency.n, mm->latency.median * 1e6, s->span_ns * 1e-3,
                      s->kernel_total_ns * 1e-3, s->idle_ns * 1e-3, s->overlap_ns * 1e-3, launches, library,
                      records / mm->timeline.steps);
        zz_measurement_free(&m[mode]);
    }
}

/* CUPTI attribution of every workload's step (expect_attributed). CUPTI
 * that cannot start fails the test, unless ZZ_ALLOW_NO_CUPTI=1: then it
 * skips with one line saying so. */
static void test_measurement_attributes_kernels(void **state) {
    (void)state;
    zz_cupti *cupti = start_cupti();
    if (!cupti) skip();
    zz_error err;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < n_workloads; w++) {
        zz_executor *ex;
        char what[64];
        describe(&workloads[w], what, sizeof what);
        build_plan(&workloads[w], 4, ZZ_LAYOUT_DUO_CAT, plan);
        if (zz_executor_create(plan, stream, sm_count, NULL, &ex, &err)) fail_msg("%s", err.msg);
        expect_attributed(ex, cupti, what);
        zz_executor_destroy(ex);
    }
    free(plan);
    zz_cupti_stop(cupti);
}

/* The launches of a step carry the plan's work (work.h): apart from the
 * launches no plan op holds, their bytes and FLOPs add up to the plan's.
 * Those others: the chunked streaming window copies K and V of its keys
 * (read + written, bf16: 8·B·D bytes per key and streaming KV head), and
 * every combine reads partials and writes an output. */
static void test_launch_work_adds_up_to_the_plan(void **state) {
    (void)state;
    zz_error err;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < n_workloads; w++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            const workload_case *wc = &workloads[w];
            char what[64];
            describe(wc, what, sizeof what);
            build_plan(wc, 4, layouts[l], plan);
            zz_executor *ex;
            if (zz_executor_create(plan, stream, sm_count, NULL, &ex, &err)) fail_msg("%s", err.msg);
            int n, combines = 0, appending = 0;
            const zz_launch *launch = zz_executor_launches(ex, &n);
            double bytes = 0, flops = 0, window = 0;
            const int one_launch = wc->phase == ZZ_DECODE && wc->kernel == ZZ_DECODE_ONE_LAUNCH;
            for (int i = 0; i < n; i++) {
                /* one-launch: one kernel per attention op, no cache write, no combine */
                if (one_launch && (launch[i].category == ZZ_CAT_CACHE || launch[i].category == ZZ_CAT_COMBINE))
                    fail_msg("%s %s: launch %d is a %s launch (%s)", zz_layout_name(layouts[l]), what, i,
                             zz_category_name(launch[i].category), launch[i].tag);
                appending += strstr(launch[i].tag, "decode_one_launch_kernel") != NULL;
                if (strstr(launch[i].tag, "combine")) {
                    combines++;
                    assert_true(launch[i].bytes > 0 && launch[i].flops == 0);
                } else if (strstr(launch[i].tag, "streaming_window")) {
                    window += launch[i].bytes;
                } else {
                    bytes += launch[i].bytes, flops += launch[i].flops;
                }
            }
            double want_window = 0;
            for (int pos0 = 0; plan->passes > 1 && pos0 < wc->ctx; pos0 += wc->chunk) {
                const int tokens = wc->ctx - pos0 < wc->chunk ? wc->ctx - pos0 : wc->chunk;
                const int keys = zz_streaming_window_keys(8, 40, pos0) + tokens;
                for (int layer = 0; layer < plan->model.layers; layer++)
                    want_window += 8.0 * wc->batch * wc->head_dim * keys * plan->layers[layer].streaming_heads;
            }
            if (fabs(bytes - plan->bytes) > 1e-9 * plan->bytes || fabs(flops - plan->flops) > 1e-9 * plan->flops ||
                window != want_window)
                fail_msg("%s %s: launches %g bytes, %g FLOPs, window %g bytes; plan %g bytes, %g FLOPs, window %g",
                         zz_layout_name(layouts[l]), what, bytes, flops, window, plan->bytes, plan->flops,
                         want_window);
            /* (duo-fused's mixed layers combine inside their one launch) */
            if (wc->ctx == 5000 && layouts[l] != ZZ_LAYOUT_STREAMING && layouts[l] != ZZ_LAYOUT_DUO_FUSED &&
                !one_launch)
                assert_true(combines > 0);
            int fused = 0;
            for (int i = 0; i < n; i++) fused += strstr(launch[i].tag, "fused_kernel") != NULL;
            if (layouts[l] == ZZ_LAYOUT_DUO_FUSED) assert_int_equal(fused, plan->mixed_layers * plan->passes);
            else assert_int_equal(fused, 0);
            int attention_ops = 0;
            for (int layer = 0; layer < plan->model.layers; layer++)
                for (int i = 0; i < plan->layers[layer].n_ops; i++)
                    attention_ops += plan->layers[layer].ops[i].kind == ZZ_OP_ATTN_FULL ||
                                     plan->layers[layer].ops[i].kind == ZZ_OP_ATTN_STREAMING;
            assert_int_equal(appending, one_launch ? attention_ops : 0);
            zz_executor_destroy(ex);
        }
    free(plan);
}

/* The model step (docs/DESIGN.md, "The model step") of a small model
 * (4 layers, 8 query heads, 4 KV heads, H 256, F 512, V 1024) on one set
 * of weights shared by every executor: each layout's attention against the
 * CPU reference on q, k, v written into the QKV output, and finite logits
 * after a whole step (zz_executor_verify); graph replay leaves the eager
 * step's output, caches and logits bit for bit; the launches' bytes and
 * FLOPs add up to the plan's (attention and GEMM FLOPs); the device memory
 * an executor takes is within its count (the GEMM plans' host side aside);
 * CUPTI attributes its kernels, cuBLASLt's GEMMs as library launches, and
 * its decomposition adds up (expect_attributed; left out, with a line,
 * where ZZ_ALLOW_NO_CUPTI=1 lets CUPTI be missing). */
static const workload_case model_workloads[] = {
    {ZZ_DECODE, 2, 300, 0, 128, ZZ_DECODE_ONE_LAUNCH},
    {ZZ_DECODE, 1, 5000, 0, 64, ZZ_DECODE_SPLIT_COMBINE},
    {ZZ_PREFILL, 2, 300, 0, 128},
    {ZZ_PREFILL, 2, 201, 64, 128}, /* chunked, last pass 9 tokens: the rows between sequences come along */
    {ZZ_PREFILL, 2, 600, 0, 64},   /* 1200 rows, more than V: the embed is two copies, two launches */
};

static void test_model_step(void **state) {
    (void)state;
    zz_cupti *cupti = start_cupti();
    zz_plan *plan = malloc(sizeof *plan);
    zz_weights *weights[2] = {NULL, NULL};  /* per head dim */
    for (size_t w = 0; w < sizeof model_workloads / sizeof model_workloads[0]; w++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            const workload_case *wc = &model_workloads[w];
            zz_error err;
            zz_model m = {"test", 4, 8, 4, wc->head_dim, 256, 512, 1024};
            zz_weights **wt = &weights[wc->head_dim == 128];
            if (!*wt && zz_weights_create(&m, 11, stream, wt, &err)) fail_msg("weights: %s", err.msg);
            zz_pattern pattern;
            zz_budget budget;
            if (zz_pattern_synthetic("random:7", &m, &pattern, &err) ||
                zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
                fail_msg("%s", err.msg);
            zz_workload wl = {wc->phase, wc->batch, wc->ctx, wc->chunk, 8, 40, wc->kernel, ZZ_STEP_MODEL};
            if (zz_plan_build(&m, layouts[l] == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo, layouts[l], &wl, plan,
                              &err))
                fail_msg("%s", err.msg);
            char what[96], wdesc[64];
            describe(wc, wdesc, sizeof wdesc);
            snprintf(what, sizeof what, "model step %s %s", zz_layout_name(layouts[l]), wdesc);
            zz_executor *ex;
            assert_int_equal(zz_executor_create(plan, stream, sm_count, NULL, &ex, &err), -1);  /* no weights */
            size_t free_before, free_after, total;
            ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_before, &total));
            if (zz_executor_create(plan, stream, sm_count, *wt, &ex, &err)) fail_msg("%s: %s", what, err.msg);
            ZZ_CUDA_OR_EXIT(cudaMemGetInfo(&free_after, &total));
            /* cudaMalloc rounds each buffer up to 2 MiB pages (some 30 buffers), and cuBLASLt's handle and
             * the kernels its first calls load take some more */
            int resident;
            if (zz_decode_one_launch_resident(wc->head_dim, &resident) != ZZ_OK) fail_msg("%s", zz_kernel_error());
            const double counted = zz_executor_device_bytes(plan, sm_count, resident),
                         took = (double)free_before - free_after;
            if (took > counted + 128.0 * (1 << 20))
                fail_msg("%s: took %.0f bytes of device memory, counted %.0f", what, took, counted);
            double worst;
            if (zz_executor_verify(ex, &worst, &err)) fail_msg("%s: %s", what, err.msg);
            if (!(worst < REF_ERROR_BOUND)) fail_msg("%s: relative error %.3g over the bound", what, worst);
            /* graph = eager, the logits too */
            bf16 *eager, *graph;
            long long n, n2;
            if (zz_executor_enqueue(ex, ZZ_MODE_EAGER, NULL, &err) || zz_executor_snapshot(ex, &eager, &n, &err))
                fail_msg("%s: %s", what, err.msg);
            for (long long i = n - (long long)wc->batch * 1024; i < n; i++)
                if (!isfinite(bf16_to_float(eager[i]))) fail_msg("%s: logit %lld is not finite", what, i);
            if (zz_executor_poison(ex, &err) || zz_executor_enqueue(ex, ZZ_MODE_GRAPH, NULL, &err) ||
                zz_executor_snapshot(ex, &graph, &n2, &err))
                fail_msg("%s: %s", what, err.msg);
            assert_int_equal(n, n2);
            for (long long i = 0; i < n; i++)
                if (graph[i] != eager[i])
                    fail_msg("%s: graph replay differs from the eager step at value %lld of %lld (logits: the last "
                             "%d): 0x%04x, eager 0x%04x",
                             what, i, n, wc->batch * 1024, graph[i], eager[i]);
            free(eager), free(graph);
            /* the launches' work adds up to the plan's */
            int count;
            const zz_launch *launch = zz_executor_launches(ex, &count);
            double bytes = 0, flops = 0, linears = 0;
            for (int i = 0; i < count; i++) {
                if (strstr(launch[i].tag, "combine") || strstr(launch[i].tag, "streaming_window")) continue;
                bytes += launch[i].bytes, flops += launch[i].flops;
                linears += !strcmp(launch[i].tag, "gemm");
                if (launch[i].library != !strcmp(launch[i].tag, "gemm"))
                    fail_msg("%s: launch %d ('%s') %s a library launch", what, i, launch[i].tag,
                             launch[i].library ? "is" : "is not");
            }
            const double want_flops = plan->flops + plan->linear_flops;
            if (fabs(bytes - plan->bytes) > 1e-9 * plan->bytes || fabs(flops - want_flops) > 1e-9 * want_flops)
                fail_msg("%s: launches %g bytes, %g FLOPs; plan %g bytes, %g FLOPs", what, bytes, flops, plan->bytes,
                         want_flops);
            assert_int_equal(linears, (int)(4 * 4 * plan->passes + 1));
            print_message("  %-52s: worst layer error %.2e, logits finite, graph = eager, %d launches, %.1f MiB "
                          "(counted %.1f)\n",
                          what, worst, count, took / (1 << 20), counted / (1 << 20));
            if (cupti) expect_attributed(ex, cupti, what);
            zz_executor_destroy(ex);
        }
    zz_weights_destroy(weights[0]);
    zz_weights_destroy(weights[1]);
    free(plan);
    zz_cupti_stop(cupti);
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    ZZ_CUDA_OR_EXIT(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    if (zz_prefill_hopper_supported(&hopper) != ZZ_OK) {
        fprintf(stderr, "test_executor: %s\n", zz_kernel_error());
        return 1;
    }
    for (size_t w = 0; w < ALL_WORKLOADS; w++)
        if (runs_here(&all_workloads[w])) workloads[n_workloads++] = all_workloads[w];
    if (n_workloads < ALL_WORKLOADS) printf("  wgmma-tma workloads left out: this GPU cannot run them\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_match_reference),
        cmocka_unit_test(test_duo_fused_matches_reference),
        cmocka_unit_test(test_graph_equals_eager),
        cmocka_unit_test(test_measurement_attributes_kernels),
        cmocka_unit_test(test_launch_work_adds_up_to_the_plan),
        cmocka_unit_test(test_model_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
