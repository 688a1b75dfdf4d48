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
#include "variants.h"

static zz_plan *plan_kernel(zz_layout layout, zz_phase phase, long long ctx, long long chunk, int kernel) {
    static zz_plan plan;
    zz_error err;
    zz_model m;
    zz_pattern pattern;
    zz_budget budget;
    if (zz_model_preset("llama3-8b", &m, &err) || zz_pattern_synthetic("uniform-mixed:1", &m, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    zz_workload w = {phase, 2, ctx, chunk, 128, 256, kernel};
    if (zz_plan_build(&m, layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo, layout, &w, &plan, &err))
        fail_msg("%s", err.msg);
    return &plan;
}

static zz_plan *plan_of(zz_layout layout, zz_phase phase, long long ctx, long long chunk) {
    return plan_kernel(layout, phase, ctx, chunk, 0);
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
    assert_true(zz_executor_device_bytes(p, sm, 2) == (caches + activations) * 2 + workspace);
}

static void test_layout_buffers(void **state) {
    (void)state;
    const int sm = 132;
    /* Single-shot prefill of 4K tokens: the split buffers of duo-gather hold
     * Q, K, V and the output once more; duo-cat's two group outputs together
     * hold one output. Caches are the same (same labels). */
    double slices = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 4096, 0), sm, 2);
    double gather = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_GATHER, ZZ_PREFILL, 4096, 0), sm, 2);
    double cat = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_CAT, ZZ_PREFILL, 4096, 0), sm, 2);
    double q = 2.0 * 4096 * 32 * 128 * 2, kv = 2.0 * 4096 * 8 * 128 * 2;  /* bytes of one tensor */
    assert_true(gather - slices == 2 * q + 2 * kv);
    assert_true(cat - slices == q);
    /* Chunked prefill adds the streaming window [sink | recent | chunk] for
     * the widest streaming group, K and V: 4 KV heads in uniform-mixed. */
    double single = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 8192, 0), sm, 2);
    double chunked = zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_SLICES, ZZ_PREFILL, 8192, 1024), sm, 2);
    double act_single = (2.0 * 32 + 2.0 * 8) * 2 * 8192 * 128 * 2, act_chunk = (2.0 * 32 + 2.0 * 8) * 2 * 1024 * 128 * 2;
    double window = 2.0 * 2 * (128 + 256 + 1024) * 4 * 128 * 2;
    assert_true(chunked - single == act_chunk - act_single + window);
}

/* A one-launch decode has no combine but the same partials, sized for every
 * launch of its plan at the wave rule's split counts (which differ with the
 * heads a launch covers and with the blocks resident per SM), and a ticket
 * counter per sequence and KV head. duo-cat's mixed layers launch 1 to 7 of
 * the 8 KV heads. */
static void test_one_launch_decode_holds_every_launch(void **state) {
    (void)state;
    const int sm = 132;
    const zz_decode_args widest = {.q.heads = 32, .k.heads = 1, .batch = 2, .head_dim = 128, .pos = 32768};
    const double caches_and_activations =
        zz_executor_device_bytes(plan_of(ZZ_LAYOUT_DUO_CAT, ZZ_DECODE, 32768, 0), sm, 2) -
        (double)zz_decode_workspace_bytes(&widest, sm);  /* split-combine's workspace */
    for (int resident = 1; resident <= 4; resident++) {
        const zz_plan *p = plan_kernel(ZZ_LAYOUT_DUO_CAT, ZZ_DECODE, 32768, 0, ZZ_DECODE_ONE_LAUNCH);
        const double tickets = 4.0 * 2 * 8;
        const double workspace = zz_executor_device_bytes(p, sm, resident) - caches_and_activations - tickets;
        int launches = 0;
        for (int l = 0; l < p->model.layers; l++)
            for (int i = 0; i < p->layers[l].n_ops; i++) {
                const zz_op *op = &p->layers[l].ops[i];
                assert_int_not_equal(op->category, ZZ_CAT_CACHE);  /* the attention launches append */
                if (op->kind != ZZ_OP_ATTN_FULL && op->kind != ZZ_OP_ATTN_STREAMING) continue;
                zz_decode_args a = {.batch = 2, .head_dim = 128, .pos = 32768};
                a.q.heads = op->q_count, a.k.heads = op->kv_count;
                a.mask = op->kind == ZZ_OP_ATTN_FULL ? (zz_mask){ZZ_MASK_FULL, 0, 0, 0}
                                                     : (zz_mask){ZZ_MASK_STREAMING, 128, 256, 0};
                const double need = (double)zz_decode_one_launch_workspace_bytes(&a, sm, resident);
                if (need > workspace)
                    fail_msg("resident %d, layer %d: a launch of %d KV heads needs %.0f bytes, the estimate holds %.0f",
                             resident, l, op->kv_count, need, workspace);
                launches += need > 0;
            }
        assert_true(workspace > 0 && launches > 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_decode_by_hand),
        cmocka_unit_test(test_layout_buffers),
        cmocka_unit_test(test_one_launch_decode_holds_every_launch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
