/* The device memory the executor reserves for a plan (zz_executor_device_bytes)
 * against a count by hand: the run compares it with free memory to skip a
 * configuration that does not fit, so it must match what is allocated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "attention.h"
#include "executor.h"
#include "pattern.h"
#include "plan.h"

static zz_plan *plan_of(zz_layout layout, zz_phase phase, long long ctx, long long chunk) {
    static zz_plan plan;
    zz_error err;
    zz_model m;
    zz_pattern pattern;
    zz_budget budget;
    if (zz_model_preset("llama3-8b", &m, &err) || zz_pattern_synthetic("uniform-mixed:1", &m, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    zz_workload w = {phase, 2, ctx, chunk, 128, 256};
    if (zz_plan_build(&m, layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo, layout, &w, &plan, &err))
        fail_msg("%s", err.msg);
    return &plan;
}

static void test_zigzag_decode_by_hand(void **state) {
    (void)state;
    const int sm = 132;
    zz_plan *p = plan_of(ZZ_LAYOUT_ZIGZAG, ZZ_DECODE, 32768, 0);
    /* 16 full layers x 8 KV heads x (K, V) x B 2 x (S + 1) slots x D 128, and
     * 16 streaming layers x 8 heads x 2 x B 2 x 384 slots x 128; then one
     * token of activations: q and out (32 heads), new k and v (8 heads). */
    double caches = 16.0 * 8 * 2 * 2 * 32769 * 128 + 16.0 * 8 * 2 * 2 * 384 * 128;
    double activations = 2.0 * 2 * 32 * 128 + 2.0 * 2 * 8 * 128;
    zz_decode_args a = {0};
    a.batch = 2, a.head_dim = 128, a.pos = 32768, a.q.heads = 32, a.k.heads = 1;
    double workspace = (double)zz_decode_workspace_bytes(&a, sm);
    assert_true(workspace > 0);
    assert_true(zz_executor_device_bytes(p, sm) == (caches + activations) * 2 + workspace);
}

static void test_layout_buffers(void **state) {
    (void)state;
    const int sm = 132;
    /* Single-shot prefill of 4K tokens: the split buffers of duo-gather hold
     * Q, K, V and the output once more; duo-cat's two group outputs together
     * hold one output. Caches are the same (same labels). */
    double slices = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 4096, 0), sm);
    double gather = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_GATHER, ZZ_PREFILL, 4096, 0), sm);
    double cat = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_CAT, ZZ_PREFILL, 4096, 0), sm);
    double q = 2.0 * 4096 * 32 * 128 * 2, kv = 2.0 * 4096 * 8 * 128 * 2;  /* bytes of one tensor */
    assert_true(gather - slices == 2 * q + 2 * kv);
    assert_true(cat - slices == q);
    /* Chunked prefill adds the streaming window [sink | recent | chunk] for
     * the widest streaming group, K and V: 4 KV heads in uniform-mixed. */
    double single = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 8192, 0), sm);
    double chunked = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 8192, 1024), sm);
    double act_single = (2.0 * 32 + 2.0 * 8) * 2 * 8192 * 128 * 2, act_chunk = (2.0 * 32 + 2.0 * 8) * 2 * 1024 * 128 * 2;
    double window = 2.0 * 2 * (128 + 256 + 1024) * 4 * 128 * 2;
    assert_true(chunked - single == act_chunk - act_single + window);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_decode_by_hand),
        cmocka_unit_test(test_layout_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
