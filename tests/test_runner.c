/* The runner's GPU-free half (harness/run/runner.h): the enumeration of a
 * sweep's configurations and the job list made before any CUDA call. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "variants.h"

static zz_sweep_lists two_phases(void) {
    return (zz_sweep_lists){.n_sparsity = 2, .phases = {ZZ_DECODE, ZZ_PREFILL}, .n_phases = 2,
                            .ctx = {8192, 32768}, .n_ctx = 2, .prefill_ctx = {8192}, .n_prefill_ctx = 1,
                            .batch = {1}, .n_batch = 1, .chunk = {0, 4096, 16384}, .n_chunk = 3,
                            .sink = 128, .recent = 256};
}

/* sparsity › phase › context › batch › chunk › kernel variant; decode takes
 * no chunk, and a chunk >= S is the single shot again. */
static void test_enumeration_order_and_repeats(void **state) {
    (void)state;
    zz_sweep_lists l = two_phases();
    zz_sweep_point *p;
    int n;
    zz_error err = {""};
    assert_int_equal(zz_sweep_enumerate(&l, &p, &n, &err), 0);
    assert_int_equal(n, 2 * (2 + 2));  /* per sparsity: decode 8K, 32K; prefill 8K single shot and C=4K */
    const struct { int sparsity; zz_phase phase; long long ctx, chunk; } want[] = {
        {0, ZZ_DECODE, 8192, 0}, {0, ZZ_DECODE, 32768, 0}, {0, ZZ_PREFILL, 8192, 0}, {0, ZZ_PREFILL, 8192, 4096},
        {1, ZZ_DECODE, 8192, 0}, {1, ZZ_DECODE, 32768, 0}, {1, ZZ_PREFILL, 8192, 0}, {1, ZZ_PREFILL, 8192, 4096},
    };
    for (int i = 0; i < n; i++) {
        assert_int_equal(p[i].sparsity, want[i].sparsity);
        assert_int_equal(p[i].workload.phase, want[i].phase);
        assert_int_equal(p[i].workload.ctx, want[i].ctx);
        assert_int_equal(p[i].workload.chunk, want[i].chunk);
        assert_int_equal(p[i].workload.sink, 128);
        assert_int_equal(p[i].workload.recent, 256);
    }
    free(p);
    /* Kernel variants vary fastest, each phase over its own list. */
    l.n_sparsity = 1;
    l.decode_kernels[0] = ZZ_DECODE_ONE_LAUNCH, l.decode_kernels[1] = ZZ_DECODE_SPLIT_COMBINE;
    l.n_decode_kernels = 2;
    assert_int_equal(zz_sweep_enumerate(&l, &p, &n, &err), 0);
    assert_int_equal(n, 2 * 2 + 2);  /* decode 8K, 32K × two variants; prefill's two chunks on its one */
    const struct { zz_phase phase; long long ctx, chunk; int kernel; } with_kernels[] = {
        {ZZ_DECODE, 8192, 0, ZZ_DECODE_ONE_LAUNCH}, {ZZ_DECODE, 8192, 0, ZZ_DECODE_SPLIT_COMBINE},
        {ZZ_DECODE, 32768, 0, ZZ_DECODE_ONE_LAUNCH}, {ZZ_DECODE, 32768, 0, ZZ_DECODE_SPLIT_COMBINE},
        {ZZ_PREFILL, 8192, 0, ZZ_PREFILL_FA2}, {ZZ_PREFILL, 8192, 4096, ZZ_PREFILL_FA2},
    };
    for (int i = 0; i < n; i++) {
        assert_int_equal(p[i].workload.phase, with_kernels[i].phase);
        assert_int_equal(p[i].workload.ctx, with_kernels[i].ctx);
        assert_int_equal(p[i].workload.chunk, with_kernels[i].chunk);
        assert_int_equal(p[i].workload.kernel, with_kernels[i].kernel);
    }
    free(p);
    assert_int_equal(zz_effective_chunk(ZZ_PREFILL, 8192, 8192), 0);
    assert_int_equal(zz_effective_chunk(ZZ_DECODE, 8192, 1024), 0);
}

static void test_the_job_list_is_planned_before_the_gpu(void **state) {
    (void)state;
    static zz_pattern pattern;
    static zz_budget budgets[2];
    zz_error err = {""};
    zz_sweep_spec spec = {.lists = two_phases(), .layouts = {ZZ_LAYOUT_ZIGZAG, ZZ_LAYOUT_DUO_CAT}, .n_layouts = 2,
                          .modes = {0, 1}, .n_modes = 2, .measure = {.rule = ZZ_STOP_RULE_DEFAULT}};
    assert_int_equal(zz_model_preset("llama3-8b", &spec.model, &err), 0);
    assert_int_equal(zz_pattern_synthetic("random:1", &spec.model, &pattern, &err), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(zz_budget_make(&pattern, i ? 0.75 : 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha,
                                        &budgets[i], &err),
                         0);
    spec.budgets = budgets;
    zz_runner *r;
    assert_int_equal(zz_runner_create(&spec, &r, &err), 0);
    assert_int_equal(zz_runner_measurements(r), 8 * 2 * 2);
    zz_report report = {0};
    zz_runner_status(r, "running", &report);
    assert_string_equal(report.status, "running: 0 of 32 measurements done, 0 skipped (device memory)");
    zz_runner_destroy(r);

    /* A workload the plan refuses fails here, before any CUDA call. */
    spec.lists.sink = -5;
    assert_int_equal(zz_runner_create(&spec, &r, &err), -1);
    assert_true(err.msg[0] != '\0');
    spec.lists = two_phases();
    spec.n_modes = 3;
    assert_int_equal(zz_runner_create(&spec, &r, &err), -1);
    assert_non_null(strstr(err.msg, "3 modes"));
}

/* --step model: every configuration's workload is a model step, and every
 * plan of the job list has the model's ops; a model without the sizes a
 * model step needs fails before the GPU. */
static void test_a_model_step_sweep(void **state) {
    (void)state;
    zz_sweep_lists l = two_phases();
    l.step = ZZ_STEP_MODEL;
    l.n_sparsity = 1;
    zz_sweep_point *p;
    int n;
    zz_error err = {""};
    assert_int_equal(zz_sweep_enumerate(&l, &p, &n, &err), 0);
    for (int i = 0; i < n; i++) assert_int_equal(p[i].workload.step, ZZ_STEP_MODEL);
    free(p);
    static zz_pattern pattern;
    static zz_budget budget;
    zz_sweep_spec spec = {.lists = l, .layouts = {ZZ_LAYOUT_ZIGZAG, ZZ_LAYOUT_DUO_GATHER}, .n_layouts = 2,
                          .modes = {1}, .n_modes = 1, .measure = {.rule = ZZ_STOP_RULE_DEFAULT}, .seed = 3};
    assert_int_equal(zz_model_preset("mistral-7b", &spec.model, &err), 0);
    assert_int_equal(zz_pattern_synthetic("random:1", &spec.model, &pattern, &err), 0);
    assert_int_equal(zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err), 0);
    spec.budgets = &budget;
    zz_runner *r;
    assert_int_equal(zz_runner_create(&spec, &r, &err), 0);
    assert_int_equal(zz_runner_measurements(r), 4 * 2);
    zz_runner_destroy(r);
    spec.model.vocab = 0;
    assert_int_equal(zz_runner_create(&spec, &r, &err), -1);
    assert_non_null(strstr(err.msg, "a model step needs the hidden size, MLP size and vocabulary (--vocab missing)"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumeration_order_and_repeats),
        cmocka_unit_test(test_the_job_list_is_planned_before_the_gpu),
        cmocka_unit_test(test_a_model_step_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
