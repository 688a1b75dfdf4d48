/* Per-layer execution plans: op lists per layout, head coverage, and the
 * plan totals against the budget arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "variants.h"

static const zz_model tiny = {"tiny", 4, 4, 2, 64};

/* Large: one of each, reused by every test. */
static zz_pattern pattern;
static zz_budget budget;
static zz_labels labels;
static zz_plan plan, other;

/* tests/fixtures/tiny at sparsity 0.5: duo "10 11 01 00" (layers 0 and 2
 * mixed, 1 full, 3 streaming), zigzag "11 11 00 00". */
static void tiny_budget(void) {
    zz_error err = {""};
    if (zz_pattern_load("tests/fixtures/tiny", &tiny, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
}

static void build_ok(const zz_model *m, const zz_labels *l, zz_layout layout, const zz_workload *w, zz_plan *out) {
    zz_error err = {""};
    if (zz_plan_build(m, l, layout, w, out, &err)) fail_msg("%s", err.msg);
}

/* "cache-append cache-ring attn-full ..." */
static void assert_ops(const zz_layer_plan *lp, const char *want) {
    char got[256] = "";
    for (int i = 0; i < lp->n_ops; i++) {
        if (i) strcat(got, " ");
        strcat(got, zz_op_name(lp->ops[i].kind));
    }
    assert_string_equal(got, want);
}

static int attention_ops(const zz_layer_plan *lp) {
    int n = 0;
    for (int i = 0; i < lp->n_ops; i++)
        n += lp->ops[i].category == ZZ_CAT_ATTN_FULL || lp->ops[i].category == ZZ_CAT_ATTN_STREAMING;
    return n;
}

static int ops_of_category(const zz_layer_plan *lp, zz_category c) {
    int n = 0;
    for (int i = 0; i < lp->n_ops; i++) n += lp->ops[i].category == c;
    return n;
}

static const zz_workload decode_16 = {ZZ_DECODE, 1, 16, 0, 4, 8};

static void test_duo_cat_mixed_layer_splits_and_joins(void **state) {
    (void)state;
    tiny_budget();
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &decode_16, &plan);
    const zz_layer_plan *mixed = &plan.layers[0];
    assert_int_equal(mixed->kind, ZZ_LAYER_MIXED);
    assert_ops(mixed, "cache-append cache-ring attn-full attn-streaming concat");
    assert_int_equal(ops_of_category(mixed, ZZ_CAT_CACHE), 2);
    assert_int_equal(attention_ops(mixed), 2);
    assert_int_equal(ops_of_category(mixed, ZZ_CAT_COPY), 1);
    assert_true(mixed->reordered);
    assert_ops(&plan.layers[1], "cache-append attn-full");
    assert_ops(&plan.layers[3], "cache-ring attn-streaming");
    assert_int_equal(plan.mixed_layers, 2);
    assert_int_equal(plan.retrieval_heads, 4);
    assert_int_equal(plan.launches, 5 + 2 + 5 + 2);
}

static void test_duo_gather_gathers_before_and_scatters_after(void **state) {
    (void)state;
    tiny_budget();
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_GATHER, &decode_16, &plan);
    assert_ops(&plan.layers[0], "gather cache-append cache-ring attn-full attn-streaming scatter");
    assert_int_equal(plan.layers[0].ops[0].category, ZZ_CAT_COPY);
    assert_int_equal(plan.layers[0].ops[5].category, ZZ_CAT_COPY);
    assert_false(plan.layers[0].reordered);
    assert_ops(&plan.layers[1], "cache-append attn-full");
}

static void test_duo_slices_has_no_copy(void **state) {
    (void)state;
    tiny_budget();
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_SLICES, &decode_16, &plan);
    assert_ops(&plan.layers[0], "cache-append cache-ring attn-full attn-streaming");
    assert_ops(&plan.layers[2], "cache-append cache-ring attn-full attn-streaming");
    for (int l = 0; l < 4; l++) assert_int_equal(ops_of_category(&plan.layers[l], ZZ_CAT_COPY), 0);
    assert_true(plan.layers[2].reordered);
}

static void test_zigzag_full_and_streaming_run_one_launch_per_layer(void **state) {
    (void)state;
    tiny_budget();
    static const struct {
        zz_layout layout;
        const char *ops[4];
    } cases[] = {
        {ZZ_LAYOUT_ZIGZAG,
         {"cache-append attn-full", "cache-append attn-full", "cache-ring attn-streaming",
          "cache-ring attn-streaming"}},
        {ZZ_LAYOUT_FULL, {"cache-append attn-full", "cache-append attn-full", "cache-append attn-full",
                          "cache-append attn-full"}},
        {ZZ_LAYOUT_STREAMING,
         {"cache-ring attn-streaming", "cache-ring attn-streaming", "cache-ring attn-streaming",
          "cache-ring attn-streaming"}},
    };
    for (size_t i = 0; i < 3; i++) {
        build_ok(&tiny, cases[i].layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : NULL, cases[i].layout, &decode_16,
                 &plan);
        for (int l = 0; l < 4; l++) {
            assert_ops(&plan.layers[l], cases[i].ops[l]);
            assert_int_equal(attention_ops(&plan.layers[l]), 1);
        }
        assert_int_equal(plan.mixed_layers, 0);
    }
    assert_int_equal(plan.retrieval_heads, 0);  /* streaming layout: labels ignored */
}

/* A decode on the one-launch kernel variant: the attention launches append
 * the new token themselves, so a layer has no cache op, and each attention
 * op writes its heads' new K and V (half of a cache op's read + written)
 * where the cache op stored them. Prefill keeps its cache ops. */
static void test_one_launch_decode_has_no_cache_op(void **state) {
    (void)state;
    tiny_budget();
    zz_workload one = decode_16;
    one.kernel = ZZ_DECODE_ONE_LAUNCH;
    for (zz_layout layout = ZZ_LAYOUT_FULL; layout <= ZZ_LAYOUT_ZIGZAG; layout++) {
        const zz_labels *l = layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo;
        build_ok(&tiny, l, layout, &decode_16, &plan);
        build_ok(&tiny, l, layout, &one, &other);
        double cache_bytes = 0;
        int cache_ops = 0;
        for (int layer = 0; layer < 4; layer++) {
            cache_ops += ops_of_category(&plan.layers[layer], ZZ_CAT_CACHE);
            for (int i = 0; i < plan.layers[layer].n_ops; i++)
                if (plan.layers[layer].ops[i].category == ZZ_CAT_CACHE) cache_bytes += plan.layers[layer].ops[i].bytes;
            assert_int_equal(ops_of_category(&other.layers[layer], ZZ_CAT_CACHE), 0);
            assert_int_equal(attention_ops(&other.layers[layer]), attention_ops(&plan.layers[layer]));
            assert_int_equal(other.layers[layer].n_ops, plan.layers[layer].n_ops - ops_of_category(&plan.layers[layer],
                                                                                                    ZZ_CAT_CACHE));
        }
        assert_true(cache_ops > 0);
        assert_int_equal(other.launches, plan.launches - cache_ops);
        assert_true(other.bytes == plan.bytes - cache_bytes / 2);
        assert_true(other.flops == plan.flops);
        assert_true(other.kv_bytes == plan.kv_bytes);
    }
    /* duo-cat's mixed layer 0: attn-full, attn-streaming, concat */
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &one, &other);
    assert_ops(&other.layers[0], "attn-full attn-streaming concat");
    zz_workload prompt = {ZZ_PREFILL, 1, 16, 0, 4, 8, ZZ_PREFILL_FA2};
    build_ok(&tiny, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &prompt, &other);
    assert_ops(&other.layers[0], "cache-append attn-full");
}

static void test_ops_cover_split_order_and_gqa_groups(void **state) {
    (void)state;
    tiny_budget();
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &decode_16, &plan);
    const zz_layer_plan *lp = &plan.layers[2];  /* labels "01": head 1 retrieval */
    assert_int_equal(lp->kv_order[0], 1);
    assert_int_equal(lp->kv_order[1], 0);
    const zz_op *full = &lp->ops[2], *streaming = &lp->ops[3], *concat = &lp->ops[4];
    assert_int_equal(full->kind, ZZ_OP_ATTN_FULL);
    assert_int_equal(full->kv_first, 0);
    assert_int_equal(full->kv_count, 1);
    assert_int_equal(full->q_first, 0);
    assert_int_equal(full->q_count, 2);  /* GQA group of 2 */
    assert_int_equal(full->cache_tokens, 16);
    assert_int_equal(streaming->kv_first, 1);
    assert_int_equal(streaming->q_first, 2);
    assert_int_equal(streaming->cache_tokens, 12);
    assert_int_equal(concat->kv_count, 2);
    assert_int_equal(concat->q_count, 4);
    assert_int_equal(concat->cache_tokens, 0);
}

/* Decode, B 1, S 16, sink 4 + recent 8, D 64, two query heads per KV head. */
static void test_op_bytes_and_flops_by_hand(void **state) {
    (void)state;
    tiny_budget();
    build_ok(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &decode_16, &plan);
    const zz_op *ops = plan.layers[0].ops;
    const double row = 64 * 2;  /* one head of one token, bf16 */
    assert_true(ops[0].bytes == 2 * 2 * row);             /* append: K, V of one token, read + write */
    assert_true(ops[2].flops == 4.0 * 64 * 17 * 2);       /* 17 keys, 2 query heads */
    assert_true(ops[2].bytes == 2 * 2 * row + 2 * 17 * row);  /* Q, O of 2 heads; K, V of 17 tokens */
    assert_true(ops[3].flops == 4.0 * 64 * 12 * 2);       /* window of 12 */
    assert_true(ops[4].bytes == 2 * 4 * row);             /* concat: 4 query heads read + written */
    assert_true(plan.layers[0].kv_bytes == 16 * 2 * row + 12 * 2 * row);
}

/* tests/fixtures/llama3-shaped: 30 mixed layers for duo, 16 retrieval layers for zigzag. */
static void test_equal_budget_plans_on_a_llama3_shaped_pattern(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama3-8b", &m, &err), 0);
    if (zz_pattern_load("tests/fixtures/llama3-shaped", &m, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err))
        fail_msg("%s", err.msg);
    static const zz_workload workloads[] = {
        {ZZ_DECODE, 1, 32768, 0, 128, 256},
        {ZZ_PREFILL, 2, 20000, 0, 128, 256},
        {ZZ_PREFILL, 1, 20000, 4096, 128, 256},
    };
    for (size_t i = 0; i < 3; i++) {
        build_ok(&m, &budget.duo, ZZ_LAYOUT_DUO_CAT, &workloads[i], &plan);
        build_ok(&m, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &workloads[i], &other);
        assert_int_equal(plan.mixed_layers, 30);
        assert_int_equal(other.mixed_layers, 0);
        assert_int_equal(plan.retrieval_heads, 128);
        assert_int_equal(other.retrieval_heads, 128);
        zz_cost c = zz_cost_of(&m, &workloads[i], 128);
        assert_true(plan.kv_bytes == c.kv_bytes && other.kv_bytes == c.kv_bytes);
        assert_true(plan.flops == c.flops && other.flops == c.flops);
        assert_int_equal(other.launches, 32 * 2 * plan.passes);
        assert_true(plan.launches > other.launches);
    }
    assert_int_equal(plan.passes, 5);
}

static void test_bad_labels_are_refused(void **state) {
    (void)state;
    tiny_budget();
    zz_error err = {""};
    assert_int_equal(zz_plan_build(&tiny, &budget.duo, ZZ_LAYOUT_ZIGZAG, &decode_16, &plan, &err), -1);
    assert_string_equal(err.msg,
                        "layout zigzag needs layer-exclusive labels, but layer 0 has 1 retrieval and 1 streaming kv heads");
    labels = budget.duo;
    labels.kv_heads = 4;
    assert_int_equal(zz_plan_build(&tiny, &labels, ZZ_LAYOUT_DUO_CAT, &decode_16, &plan, &err), -1);
    assert_string_equal(err.msg, "labels are 4 layers x 4 kv heads, model tiny has 4 x 2");
    assert_int_equal(zz_plan_build(&tiny, NULL, ZZ_LAYOUT_DUO_SLICES, &decode_16, &plan, &err), -1);
    zz_workload bad = decode_16;
    bad.batch = 0;
    assert_int_equal(zz_plan_build(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &bad, &plan, &err), -1);
    assert_string_equal(err.msg, "batch 0 out of range 1..65536");
}

/* The model step: each layer's attention ops of the layout, wrapped in the
 * rest of a decoder layer; the final norm and LM head once per step; the
 * same attention ops, KV bytes and attention FLOPs as the attention step. */
static void test_model_step_wraps_the_attention_ops(void **state) {
    (void)state;
    tiny_budget();
    zz_model m = tiny;
    m.hidden = 256, m.mlp = 688, m.vocab = 1000;
    zz_workload w = decode_16;
    w.step = ZZ_STEP_MODEL;
    build_ok(&m, &budget.duo, ZZ_LAYOUT_DUO_CAT, &decode_16, &other);
    build_ok(&m, &budget.duo, ZZ_LAYOUT_DUO_CAT, &w, &plan);
    assert_ops(&plan.layers[0], "embed attn-norm qkv-proj rotary cache-append cache-ring attn-full attn-streaming "
                                "concat o-proj mlp-norm gate-up silu-mul down-proj");
    assert_ops(&plan.layers[3], "attn-norm qkv-proj rotary cache-ring attn-streaming o-proj mlp-norm gate-up "
                                "silu-mul down-proj");
    assert_int_equal(plan.n_final_ops, 2);
    assert_int_equal(plan.final_ops[0].kind, ZZ_OP_FINAL_NORM);
    assert_int_equal(plan.final_ops[1].kind, ZZ_OP_LM_HEAD);
    for (int l = 0; l < 4; l++) {
        assert_int_equal(plan.layers[l].n_ops, other.layers[l].n_ops + 8 + (l == 0));
        for (int i = 0; i < plan.layers[l].n_ops; i++) {
            const zz_op *op = &plan.layers[l].ops[i];
            if (!zz_op_in_model_step(op->kind)) continue;
            assert_int_equal(op->category, ZZ_CAT_OTHER);
            assert_int_equal(op->kv_count, 2);
            assert_int_equal(op->q_count, 4);
            assert_int_equal(op->cache_tokens, 0);
        }
    }
    assert_int_equal(plan.launches, other.launches + 1 + 4 * 8 + 2);
    assert_true(plan.kv_bytes == other.kv_bytes && plan.flops == other.flops);
    assert_true(plan.linear_flops > 0 && other.linear_flops == 0);
    assert_true(plan.weight_bytes == zz_model_weight_bytes(&m) && other.weight_bytes == 0);
    assert_int_equal(other.n_final_ops, 0);
    /* chunked prefill: layer ops every pass, the final ops once */
    w = (zz_workload){ZZ_PREFILL, 1, 40, 16, 4, 8, 0, ZZ_STEP_MODEL};
    build_ok(&m, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &w, &plan);
    assert_int_equal(plan.passes, 3);
    assert_int_equal(plan.launches, 3 * (1 + 4 * (2 + 8)) + 2);
    /* duo-gather gathers from the QKV output, after the rotary */
    build_ok(&m, &budget.duo, ZZ_LAYOUT_DUO_GATHER, &w, &plan);
    assert_ops(&plan.layers[1], "attn-norm qkv-proj rotary cache-append attn-full o-proj mlp-norm gate-up silu-mul "
                                "down-proj");
    assert_ops(&plan.layers[2], "attn-norm qkv-proj rotary gather cache-append cache-ring attn-full attn-streaming "
                                "scatter o-proj mlp-norm gate-up silu-mul down-proj");
    /* a model step needs the model's sizes */
    zz_error err = {""};
    w.step = ZZ_STEP_MODEL;
    assert_int_equal(zz_plan_build(&tiny, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &w, &plan, &err), -1);
    assert_string_equal(err.msg, "model tiny: a model step needs the hidden size, MLP size and vocabulary (--hidden, "
                                 "--mlp, --vocab missing)");
}

static void test_category_and_layer_kind_names(void **state) {
    (void)state;
    assert_string_equal(zz_category_name(ZZ_CAT_ATTN_STREAMING), "attn-streaming");
    assert_string_equal(zz_layer_kind_name(ZZ_LAYER_MIXED), "mixed");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duo_cat_mixed_layer_splits_and_joins),
        cmocka_unit_test(test_duo_gather_gathers_before_and_scatters_after),
        cmocka_unit_test(test_duo_slices_has_no_copy),
        cmocka_unit_test(test_zigzag_full_and_streaming_run_one_launch_per_layer),
        cmocka_unit_test(test_one_launch_decode_has_no_cache_op),
        cmocka_unit_test(test_ops_cover_split_order_and_gqa_groups),
        cmocka_unit_test(test_op_bytes_and_flops_by_hand),
        cmocka_unit_test(test_equal_budget_plans_on_a_llama3_shaped_pattern),
        cmocka_unit_test(test_bad_labels_are_refused),
        cmocka_unit_test(test_model_step_wraps_the_attention_ops),
        cmocka_unit_test(test_category_and_layer_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
