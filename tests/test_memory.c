/* The device memory the executor reserves for a plan (zz_executor_device_bytes)
 * against a count by hand: the run compares it with free memory to skip a
 * configuration that does not fit, so it must match what is allocated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "executor.h"
#include "pattern.h"
#include "plan.h"
#include "runner.h"
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

/* A model step's memory (docs/DESIGN.md, "The model step"), by hand:
 * Llama-3-8B decode, B 2, S 32K, zigzag. The weights are the model's
 * (8.03 G parameters); the caches as in an attention step; one layer's
 * activations are the attention output, the QKV output, x and its norm,
 * gate/up, the MLP's hidden state and the logits (no separate q, k, v);
 * the workspaces add the GEMM's. */
static void test_model_step_by_hand(void **state) {
    (void)state;
    const int sm = 132;
    zz_plan attention = *plan_kernel(ZZ_LAYOUT_ZIGZAG, ZZ_DECODE, 32768, 0, ZZ_DECODE_SPLIT_COMBINE);
    static zz_plan model;
    zz_error err;
    zz_workload w = attention.workload;
    w.step = ZZ_STEP_MODEL;
    zz_labels zigzag = {.layers = 32, .kv_heads = 8};
    for (int l = 0; l < 32; l++)
        for (int h = 0; h < 8; h++) zigzag.retrieval[l][h] = attention.layers[l].kind == ZZ_LAYER_FULL;
    if (zz_plan_build(&attention.model, &zigzag, ZZ_LAYOUT_ZIGZAG, &w, &model, &err)) fail_msg("%s", err.msg);
    const zz_memory a = zz_executor_memory(&attention, sm, 2), m = zz_executor_memory(&model, sm, 2);
    assert_true(a.weights == 0);
    assert_true(m.weights == 2 * 8030261248.0);
    assert_true(m.kv_cache == a.kv_cache);
    assert_true(a.kv_cache == (16.0 * 8 * 2 * 2 * 32769 * 128 + 16.0 * 8 * 2 * 2 * 384 * 128) * 2);
    const double B = 2, q = 32 * 128, kv = 8 * 128, H = 4096, F = 14336, V = 128256;
    assert_true(a.activations == B * (2 * q + 2 * kv) * 2);
    assert_true(m.activations == B * (q + (q + 2 * kv) + 2 * H + 2 * F + F + V) * 2);
    assert_true(m.workspaces == a.workspaces + ZZ_GEMM_WORKSPACE_BYTES);
    assert_true(zz_executor_device_bytes(&model, sm, 2) == zz_memory_total(&m) - m.weights);
    assert_true(zz_memory_total(&m) == m.weights + m.kv_cache + m.activations + m.workspaces);
}

/* The memory arithmetic of a decode step on an 80 GiB card, where
 * DuoAttention's figures put full attention out of memory: Llama-2-7B at
 * 200K and Llama-3-8B at 1M do not fit (the skip line names what they need
 * and what the card has); duo at sparsity 0.75 (Llama-2-7B) and 0.5
 * (Llama-3-8B), and zigzag at the same budget, do. */
static int fits_80g(const char *preset, long long ctx, zz_layout layout, double sparsity, char *why, size_t size) {
    static zz_plan plan;
    zz_error err;
    zz_model m;
    zz_pattern pattern;
    zz_budget budget;
    if (zz_model_preset(preset, &m, &err) || zz_pattern_synthetic("uniform-mixed:1", &m, &pattern, &err) ||
        zz_budget_make(&pattern, sparsity, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    zz_workload w = {ZZ_DECODE, 1, ctx, 0, 128, 256, ZZ_DECODE_ONE_LAUNCH, ZZ_STEP_MODEL};
    if (zz_plan_build(&m, layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo, layout, &w, &plan, &err))
        fail_msg("%s", err.msg);
    const double card = 80.0 * (1 << 30);
    const zz_memory need = zz_executor_memory(&plan, 132, 2);
    zz_memory_skip_reason(&need, 0, card, card, why, size);
    return zz_memory_fits(&need, 0, card);
}

static void test_duo_attention_out_of_memory_points(void **state) {
    (void)state;
    char why[200];
    assert_false(fits_80g("llama2-7b", 200 * 1024, ZZ_LAYOUT_FULL, 0.5, why, sizeof why));
    assert_string_equal(why, "needs 112.8 GiB (weights 12.6, KV cache 100.0, activations 0.0, workspaces 0.0, headroom "
                             "0.25); 80.0 GiB free of the card's 80.0 GiB, the run's weights included");
    assert_true(fits_80g("llama2-7b", 200 * 1024, ZZ_LAYOUT_DUO_CAT, 0.75, why, sizeof why));
    assert_true(fits_80g("llama2-7b", 200 * 1024, ZZ_LAYOUT_ZIGZAG, 0.75, why, sizeof why));
    assert_true(fits_80g("llama2-7b", 200 * 1024, ZZ_LAYOUT_DUO_CAT, 0.5, why, sizeof why));
    assert_false(fits_80g("llama3-8b", 1024 * 1024, ZZ_LAYOUT_FULL, 0.5, why, sizeof why));
    if (!strstr(why, "needs 143.2 GiB (weights 15.0, KV cache 128.0,")) fail_msg("'%s'", why);
    assert_true(fits_80g("llama3-8b", 1024 * 1024, ZZ_LAYOUT_DUO_CAT, 0.5, why, sizeof why));
    assert_true(fits_80g("llama3-8b", 1024 * 1024, ZZ_LAYOUT_DUO_FUSED, 0.5, why, sizeof why));
    assert_true(fits_80g("llama3-8b", 1024 * 1024, ZZ_LAYOUT_ZIGZAG, 0.5, why, sizeof why));
    assert_true(fits_80g("llama3-8b", 1024 * 1024, ZZ_LAYOUT_DUO_CAT, 0.75, why, sizeof why));
    /* an attention step holds no weights: its line has none */
    const zz_memory kv_only = {.kv_cache = 90.0 * (1 << 30)};
    assert_false(zz_memory_fits(&kv_only, 0, 80.0 * (1 << 30)));
    zz_memory_skip_reason(&kv_only, 0, 70.0 * (1 << 30), 80.0 * (1 << 30), why, sizeof why);
    assert_string_equal(why, "needs 90.2 GiB (KV cache 90.0, activations 0.0, workspaces 0.0, headroom 0.25); 70.0 GiB "
                             "free of the card's 80.0 GiB");
    /* --cold's flush buffer counts with the headroom */
    const zz_memory small = {.kv_cache = 79.0 * (1 << 30)};
    assert_true(zz_memory_fits(&small, 0, 80.0 * (1 << 30)));
    assert_false(zz_memory_fits(&small, 1.0 * (1 << 30), 80.0 * (1 << 30)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_decode_by_hand),
        cmocka_unit_test(test_layout_buffers),
        cmocka_unit_test(test_one_launch_decode_holds_every_launch),
        cmocka_unit_test(test_model_step_by_hand),
        cmocka_unit_test(test_duo_attention_out_of_memory_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
