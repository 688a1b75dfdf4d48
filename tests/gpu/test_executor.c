/* GPU tests of the executor and the measurement: every layout, in decode,
 * single-shot prefill and chunked prefill, on a small model whose layers are
 * mixed (DuoAttention labels at sparsity 0.5), produces each layer's output
 * as the CPU reference computes it; graph replay equals eager; CUPTI's
 * kernel records attribute to the step's launches, and their time never
 * exceeds the event-timed step. Run with `make test-gpu`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "device.h"
#include "executor.h"
#include "measure.h"
#include "pattern.h"
#include "plan.h"

static int sm_count;
static cudaStream_t stream;

typedef struct {
    zz_phase phase;
    int batch, ctx, chunk, head_dim;
} workload_case;

static const workload_case workloads[] = {
    {ZZ_DECODE, 2, 300, 0, 128},
    {ZZ_DECODE, 1, 5000, 0, 64},   /* several decode splits: the combine kernel runs */
    {ZZ_PREFILL, 2, 300, 0, 128},
    {ZZ_PREFILL, 1, 700, 256, 64}, /* chunked: three passes, the last one short */
};

static const zz_layout layouts[] = {ZZ_LAYOUT_FULL, ZZ_LAYOUT_STREAMING, ZZ_LAYOUT_DUO_CAT,
                                    ZZ_LAYOUT_DUO_GATHER, ZZ_LAYOUT_DUO_SLICES, ZZ_LAYOUT_ZIGZAG};

/* A 4-layer model with 4 KV heads in GQA groups of 2; random alpha, so the
 * DuoAttention labels mix heads inside layers. */
static void build_plan(const workload_case *wc, zz_layout layout, zz_plan *plan) {
    zz_error err;
    zz_model m = {"test", 4, 8, 4, wc->head_dim};
    zz_pattern pattern;
    zz_budget budget;
    if (zz_pattern_synthetic("random:7", &m, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    zz_workload w = {wc->phase, wc->batch, wc->ctx, wc->chunk, 8, 40};
    const zz_labels *labels = layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo;
    if (zz_plan_build(&m, labels, layout, &w, plan, &err)) fail_msg("%s", err.msg);
}

static void test_layouts_match_reference(void **state) {
    (void)state;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            zz_error err;
            zz_executor *ex;
            build_plan(&workloads[w], layouts[l], plan);
            if (zz_executor_create(plan, stream, sm_count, &ex, &err)) fail_msg("%s", err.msg);
            double worst;
            if (zz_executor_verify(ex, &worst, &err)) fail_msg("%s", err.msg);
            print_message("  %-10s %-7s B%d S%-5d C%-4d D%d: %d mixed layers, worst layer error %.2e\n",
                          zz_layout_name(layouts[l]), zz_phase_name(workloads[w].phase), workloads[w].batch,
                          workloads[w].ctx, workloads[w].chunk, workloads[w].head_dim, plan->mixed_layers, worst);
            if (!(worst < 1e-2)) fail_msg("relative error %.3g over the bound 1e-2", worst);
            if (layouts[l] == ZZ_LAYOUT_DUO_CAT) assert_true(plan->mixed_layers > 0);
            if (layouts[l] == ZZ_LAYOUT_ZIGZAG) assert_int_equal(plan->mixed_layers, 0);
            zz_executor_destroy(ex);
        }
    free(plan);
}

/* Graph replay runs the same kernels: the output equals eager's bit for bit. */
static void test_graph_equals_eager(void **state) {
    (void)state;
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++) {
        zz_error err;
        zz_executor *ex;
        build_plan(&workloads[w], ZZ_LAYOUT_DUO_GATHER, plan);
        if (zz_executor_create(plan, stream, sm_count, &ex, &err)) fail_msg("%s", err.msg);
        bf16 *eager, *graph;
        long long n, n2;
        if (zz_executor_enqueue(ex, ZZ_MODE_EAGER, NULL, &err) || zz_executor_output(ex, &eager, &n, &err))
            fail_msg("%s", err.msg);
        for (int replay = 0; replay < 2; replay++) {
            if (zz_executor_enqueue(ex, ZZ_MODE_GRAPH, NULL, &err) || zz_executor_output(ex, &graph, &n2, &err))
                fail_msg("%s", err.msg);
            assert_int_equal(n, n2);
            assert_memory_equal(eager, graph, (size_t)n * sizeof *eager);
            free(graph);
        }
        print_message("  graph replay = eager, %s B%d S%d C%d\n", zz_phase_name(workloads[w].phase),
                      workloads[w].batch, workloads[w].ctx, workloads[w].chunk);
        free(eager);
        zz_executor_destroy(ex);
    }
    free(plan);
}

/* CUPTI attribution: every record lands on a launch of the step, and the
 * union of kernel time fits inside the event-timed latency. */
static void test_measurement_attributes_kernels(void **state) {
    (void)state;
    zz_error err;
    zz_cupti *cupti;
    if (zz_cupti_start(&cupti, &err)) skip();  /* under a profiler: nothing to test here */
    zz_plan *plan = malloc(sizeof *plan);
    for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++)
        for (int mode = ZZ_MODE_EAGER; mode <= ZZ_MODE_GRAPH; mode++) {
            zz_executor *ex;
            build_plan(&workloads[w], ZZ_LAYOUT_DUO_CAT, plan);
            if (zz_executor_create(plan, stream, sm_count, &ex, &err)) fail_msg("%s", err.msg);
            zz_measure_options opt = {(zz_mode)mode, 0, 2, {0.02, 5, 0.001, 2}};
            zz_measurement m;
            if (zz_measure(ex, stream, &opt, cupti, &m, &err)) fail_msg("%s", err.msg);
            int launches;
            zz_executor_launches(ex, &launches);
            assert_true(m.have_kernels);
            assert_int_equal(m.timeline.launches, launches);
            const zz_step_time *s = &m.timeline.median_step;
            print_message("  %s %-7s: %zu samples, median %.1f us, kernels %.1f us, idle %.1f us, %d launches\n",
                          zz_mode_name((zz_mode)mode), zz_phase_name(workloads[w].phase), m.latency.n,
                          m.latency.median * 1e6, s->kernel_total_ns * 1e-3, s->idle_ns * 1e-3, launches);
            assert_true(s->busy_ns <= s->latency_ns);
            assert_true(m.dropped_records == 0);
            zz_measurement_free(&m);
            zz_executor_destroy(ex);
        }
    free(plan);
    zz_cupti_stop(cupti);
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    ZZ_CUDA_OR_DIE(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
    ZZ_CUDA_OR_DIE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_match_reference),
        cmocka_unit_test(test_graph_equals_eager),
        cmocka_unit_test(test_measurement_attributes_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
