/* The work model (work.h) against counts by hand, and its users (the plan,
 * the kernel microbenchmarks) against the same counts.
 *
 * One shape throughout: B 2, 4 query heads sharing 2 KV heads (GQA group 2),
 * D 64. One head of one token, whole batch, bf16: 2 · 64 · 2 = 256 bytes
 * (a "head-token" below). One attended pair of one query head, whole batch:
 * 2 · 4 · 64 = 512 FLOPs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kernel_cases.h"
#include "plan.h"
#include "variants.h"
#include "work.h"

static const zz_work_shape shape = {2, 4, 2, 64};
#define HEAD_TOKEN 256.0
#define PAIR_FLOPS 512.0

static void test_prefill_attention(void **state) {
    (void)state;
    /* S 10, full causal: 10 · 11 / 2 = 55 pairs per query head.
     * Q, O: 2 · 4 heads · 10 tokens = 80 head-tokens; K, V: 2 · 2 · 10 = 40.
     * FLOPs: 55 pairs · 4 query heads · 512 = 112640. */
    zz_work w = zz_work_attention(&shape, 10, 10, 55);
    assert_true(w.bytes == 120 * HEAD_TOKEN);
    assert_true(w.bytes == 30720);
    assert_true(w.flops == 112640);
    assert_true(w.tile_flops == 0);
}

static void test_decode_attention(void **state) {
    (void)state;
    /* One query token against 17 keys (S 16 and the new token).
     * Q, O: 2 · 4 · 1 = 8 head-tokens; K, V: 2 · 2 · 17 = 68: 76 · 256 = 19456.
     * FLOPs: 17 pairs · 4 query heads · 512 = 34816. */
    zz_work w = zz_work_attention(&shape, 1, 17, 17);
    assert_true(w.bytes == 19456);
    assert_true(w.flops == 34816);
}

static void test_decode_combine(void **state) {
    (void)state;
    /* 3 splits: per split, query head and sequence, 64 floats of partial O
     * and one log-sum-exp: 65 · 4 = 260 bytes; 260 · 3 · 4 heads · B 2 = 6240
     * read. O written: 4 heads · 1 token = 4 head-tokens = 1024. */
    zz_work w = zz_work_decode_combine(&shape, 3);
    assert_true(w.bytes == 6240 + 1024);
    assert_true(w.flops == 0);
}

static void test_decode_append(void **state) {
    (void)state;
    /* One-launch: the attention above (the new token among its 17 keys, read
     * once), plus that token's K and V written: 2 · 2 KV heads · 1 = 4
     * head-tokens = 1024. */
    zz_work w = zz_work_decode_append(&shape, 17);
    assert_true(w.bytes == 19456 + 1024);
    assert_true(w.flops == 34816);
}

static void test_copies(void **state) {
    (void)state;
    /* K/V copy of 5 tokens: K and V · 2 KV heads · 5 = 20 head-tokens, read
     * and written: 2 · 20 · 256 = 10240. */
    assert_true(zz_work_kv_copy(&shape, 5).bytes == 10240);
    /* One tensor of 3 heads · 5 tokens = 15 head-tokens, read + written: 7680. */
    assert_true(zz_work_head_copy(&shape, 5, 3).bytes == 7680);
    /* Gather of 5 tokens: Q (4 heads), K and V (2 heads each): 8 heads · 5 =
     * 40 head-tokens, read + written: 20480; the sum of its three copies. */
    zz_work gather = zz_work_gather(&shape, 5);
    assert_true(gather.bytes == 20480);
    assert_true(gather.bytes == zz_work_head_copy(&shape, 5, 4).bytes + 2 * zz_work_head_copy(&shape, 5, 2).bytes);
    assert_true(gather.flops == 0);
}

static void test_ring_tokens_kept(void **state) {
    (void)state;
    /* sink 2, recent 4. A 10-token prompt: positions 0, 1 (sink) and 6..9. */
    assert_int_equal(zz_work_ring_tokens_kept(0, 10, 2, 4), 6);
    /* A prompt shorter than the window keeps every token. */
    assert_int_equal(zz_work_ring_tokens_kept(0, 5, 2, 4), 5);
    /* Positions 1..10: 1 in the sink, 7..10 the latest four. */
    assert_int_equal(zz_work_ring_tokens_kept(1, 10, 2, 4), 5);
    /* A decode token is always kept, also once the ring has wrapped. */
    assert_int_equal(zz_work_ring_tokens_kept(20, 1, 2, 4), 1);
    assert_int_equal(zz_work_ring_tokens_kept(1, 1, 2, 4), 1);
}

static void test_prefill_tile_flops(void **state) {
    (void)state;
    /* The tiles are the kernel's (a variant may change them), so only what
     * holds for any tiling: 4·D per computed pair, at least the attended
     * pairs, and a streaming band computes no more tiles than full causal. */
    zz_prefill_args a = {0};
    a.batch = 2, a.head_dim = 64, a.q_len = 1000;  /* long enough for 128-key tiles to skip some */
    a.q = a.o = zz_view_dense(NULL, 1000, 4, 64);
    a.k = a.v = zz_view_dense(NULL, 1000, 2, 64);
    a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
    for (int kernel = 0; kernel < ZZ_PREFILL_KERNELS; kernel++) {
        a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
        const double full = zz_work_prefill_tile_flops(&a, kernel);
        assert_true(full == 4.0 * 64 *
                                (double)(kernel == ZZ_PREFILL_WGMMA_TMA ? zz_prefill_hopper_computed_pairs(&a)
                                                                        : zz_prefill_computed_pairs(&a)));
        assert_true(full >= 1000.0 * 1001 / 2 * 4 * PAIR_FLOPS);
        a.mask = (zz_mask){ZZ_MASK_STREAMING, 2, 4, 0};
        const double band = zz_work_prefill_tile_flops(&a, kernel);
        assert_true(band >= (21 + 994.0 * 6) * 4 * PAIR_FLOPS);  /* queries 0..5 see 1..6 keys, the rest 6 */
        assert_true(band < full);
    }
}

static void test_decode_splits(void **state) {
    (void)state;
    /* A long cache splits, a short window does not; the split count is what
     * the workspace holds: 65 floats per split, query head and sequence. */
    zz_decode_args a = {0};
    a.batch = 2, a.head_dim = 64, a.pos = 32768;
    a.q.heads = 4, a.k.heads = 2;
    a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
    const int splits = zz_work_decode_splits(&a, 132);
    assert_true(splits > 1);
    assert_true((double)zz_decode_workspace_bytes(&a, 132) == splits * 2.0 * 4 * 65 * 4);
    a.mask = (zz_mask){ZZ_MASK_STREAMING, 2, 4, 0};
    assert_int_equal(zz_work_decode_splits(&a, 132), 1);
}

static zz_kernel_work case_work(zz_kernel_case c) {
    zz_kernel_work w;
    zz_error err = {""};
    c.batch = 2, c.q_heads = 4, c.kv_heads = 2, c.head_dim = 64;
    if (zz_kernel_case_work(&c, 132, &w, &err)) fail_msg("%s", err.msg);
    return w;
}

/* The kernel microbenchmarks count through the same functions: the same
 * shapes give the numbers above. */
static void test_kernel_cases(void **state) {
    (void)state;
    zz_kernel_work w = case_work((zz_kernel_case){.kind = ZZ_KC_PREFILL, .ctx = 10, .mask = ZZ_MASK_FULL});
    assert_true(w.bytes == 30720 && w.flops == 112640 && w.tile_flops >= w.flops && w.compute_bound);
    w = case_work((zz_kernel_case){.kind = ZZ_KC_DECODE_SPLIT, .ctx = 16, .mask = ZZ_MASK_FULL});
    assert_true(w.bytes == 19456 && w.flops == 34816 && !w.compute_bound);
    w = case_work((zz_kernel_case){.kind = ZZ_KC_DECODE, .ctx = 16, .mask = ZZ_MASK_FULL,
                                   .variant = ZZ_DECODE_ONE_LAUNCH});
    assert_true(w.bytes == 19456 + 1024 && w.flops == 34816 && !w.compute_bound);
    /* one-launch has no split or combine kernel of its own to time */
    zz_kernel_case one = {.kind = ZZ_KC_DECODE_COMBINE, .batch = 2, .q_heads = 4, .kv_heads = 2, .head_dim = 64,
                          .ctx = 32768, .mask = ZZ_MASK_FULL, .variant = ZZ_DECODE_ONE_LAUNCH};
    zz_error err = {""};
    assert_int_equal(zz_kernel_case_work(&one, 132, &w, &err), -1);
    assert_non_null(strstr(err.msg, "decode-combine: a kernel of split-combine"));
    one.kind = ZZ_KC_CONCAT, one.tokens = 5;  /* a copy has no variant */
    assert_int_equal(zz_kernel_case_work(&one, 132, &w, &err), -1);
    assert_non_null(strstr(err.msg, "kernel variant 1"));
    /* A ring of sink 2 + recent 4 written with a 10-token prompt keeps 6:
     * K, V · 2 heads · 6 = 24 head-tokens, read + written: 12288. */
    w = case_work((zz_kernel_case){.kind = ZZ_KC_CACHE_WRITE, .ctx = 0, .tokens = 10, .mask = ZZ_MASK_STREAMING,
                                   .sink = 2, .recent = 4});
    assert_true(w.bytes == 12288);
    w = case_work((zz_kernel_case){.kind = ZZ_KC_CONCAT, .tokens = 5});
    assert_true(w.bytes == zz_work_head_copy(&shape, 5, 4).bytes);
    /* The combine alone: partials of the split count the launcher uses. */
    zz_decode_args a = {0};
    a.batch = 2, a.head_dim = 64, a.pos = 32768, a.q.heads = 4, a.k.heads = 2;
    a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
    w = case_work((zz_kernel_case){.kind = ZZ_KC_DECODE_COMBINE, .ctx = 32768, .mask = ZZ_MASK_FULL});
    assert_true(w.bytes == zz_work_decode_combine(&shape, zz_work_decode_splits(&a, 132)).bytes);
}

/* decode-fused's work is that of its two halves as one-launch decodes of
 * their heads alone: zz-kernel-bench's 4-head decode-full one-launch case
 * and a 4-head streaming one. Llama-3-8B heads (32 / 8, D 128), B 1, S 8K,
 * 4 retrieval KV heads, ring 128 + 256. One head-token here: 128 · 2 = 256
 * bytes, whole batch. By hand:
 *   full half:      Q, O 2 · 16 heads = 32; K, V 2 · 4 heads · 8193 keys
 *                   = 65544; the appended token's K, V 2 · 4 = 8 head-tokens
 *   streaming half: Q, O 32; K, V 2 · 4 · 384 = 3072; appended 8
 * 68696 head-tokens = 17586176 bytes; 8577 keys · 16 query heads · 4 · 128
 * FLOPs. A count that forgot a half, the appended token or the window, or
 * read the ring heads' whole context, would miss both. */
static void test_kernel_case_fused(void **state) {
    (void)state;
    zz_error err = {""};
    zz_kernel_case fused = {.kind = ZZ_KC_DECODE_FUSED, .batch = 1, .q_heads = 32, .kv_heads = 8, .head_dim = 128,
                            .ctx = 8192, .mask = ZZ_MASK_STREAMING, .sink = 128, .recent = 256, .retrieval = 4};
    zz_kernel_case full = {.kind = ZZ_KC_DECODE, .batch = 1, .q_heads = 16, .kv_heads = 4, .head_dim = 128,
                           .ctx = 8192, .mask = ZZ_MASK_FULL, .variant = ZZ_DECODE_ONE_LAUNCH};
    zz_kernel_case ring = full;
    ring.mask = ZZ_MASK_STREAMING, ring.sink = 128, ring.recent = 256;
    zz_kernel_work wf, wr, w;
    if (zz_kernel_case_work(&fused, 132, &w, &err) || zz_kernel_case_work(&full, 132, &wf, &err) ||
        zz_kernel_case_work(&ring, 132, &wr, &err))
        fail_msg("%s", err.msg);
    assert_true(w.bytes == wf.bytes + wr.bytes && w.flops == wf.flops + wr.flops);
    assert_true(w.bytes == 68696 * 256.0 && w.flops == 8577.0 * 16 * 4 * 128);
    assert_true(!w.compute_bound && w.tile_flops == 0);
    /* A layer of one kind is that kind's one-launch decode over all 8 heads. */
    fused.retrieval = 8, full.q_heads = ring.q_heads = 32, full.kv_heads = ring.kv_heads = 8;
    if (zz_kernel_case_work(&fused, 132, &w, &err) || zz_kernel_case_work(&full, 132, &wf, &err)) fail_msg("%s", err.msg);
    assert_true(w.bytes == wf.bytes && w.flops == wf.flops);
    fused.retrieval = 0;
    if (zz_kernel_case_work(&fused, 132, &w, &err) || zz_kernel_case_work(&ring, 132, &wr, &err)) fail_msg("%s", err.msg);
    assert_true(w.bytes == wr.bytes && w.flops == wr.flops);
    /* Refused: more retrieval heads than KV heads, no ring for the streaming
     * heads, forced splits (the launcher's rule picks them), a head split on
     * a kind with one kind of heads. */
    static const struct {
        int retrieval, splits;
        zz_mask_kind mask;
        zz_kc_kind kind;
        const char *want;
    } bad[] = {{9, 0, ZZ_MASK_STREAMING, ZZ_KC_DECODE_FUSED, "decode-fused: 9 retrieval of 8 KV heads"},
               {4, 0, ZZ_MASK_FULL, ZZ_KC_DECODE_FUSED, "mask 0"},
               {4, 3, ZZ_MASK_STREAMING, ZZ_KC_DECODE_FUSED, "splits 3"},
               {4, 0, ZZ_MASK_STREAMING, ZZ_KC_DECODE, "decode: 4 retrieval heads: only decode-fused"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zz_kernel_case c = fused;
        c.retrieval = bad[i].retrieval, c.splits = bad[i].splits, c.mask = bad[i].mask, c.kind = bad[i].kind;
        assert_int_equal(zz_kernel_case_work(&c, 132, &w, &err), -1);
        if (!strstr(err.msg, bad[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].want);
    }
}

/* The plan counts through them too: the tiny model (4 layers, 4 query
 * heads, 2 KV heads, D 64) has the same shape. Prefill, B 2, S 10, sink 2 +
 * recent 4; layer 0 of tests/fixtures/tiny at sparsity 0.5 is mixed: KV
 * head 0 retrieval, head 1 streaming, each with 2 query heads. */
static void test_plan_ops(void **state) {
    (void)state;
    static const zz_model tiny = {"tiny", 4, 4, 2, 64};
    static zz_pattern pattern;
    static zz_budget budget;
    static zz_plan plan;
    zz_error err = {""};
    const zz_workload prompt = {ZZ_PREFILL, 2, 10, 0, 2, 4};
    if (zz_pattern_load("tests/fixtures/tiny", &tiny, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err) ||
        zz_plan_build(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &prompt, &plan, &err))
        fail_msg("%s", err.msg);
    const zz_layer_plan *lp = &plan.layers[0];
    assert_int_equal(lp->n_ops, 5);
    /* cache-append: K, V · 1 head · 10 tokens, read + written: 2 · 20 · 256. */
    assert_true(lp->ops[0].bytes == 10240);
    /* cache-ring: the 6 tokens the ring keeps: 2 · 12 · 256. */
    assert_true(lp->ops[1].bytes == 6144);
    /* attn-full: Q, O 2 · 2 heads · 10 = 40, K, V 2 · 1 · 10 = 20 head-tokens;
     * 55 pairs · 2 query heads · 512. */
    assert_true(lp->ops[2].bytes == 15360 && lp->ops[2].flops == 56320);
    /* attn-streaming: the same bytes (a single-shot prompt reads every key);
     * queries 0..5 attend 1..6 keys (21), queries 6..9 six each (24): 45 pairs. */
    assert_true(lp->ops[3].bytes == 15360 && lp->ops[3].flops == 45 * 2 * PAIR_FLOPS);
    /* concat: the output, 4 heads · 10 tokens, read + written: 2 · 40 · 256. */
    assert_true(lp->ops[4].bytes == 20480);
}

/* The model step's launches, by hand. */
static void test_model_step_work(void **state) {
    (void)state;
    /* 3 rows · 5 in → 7 out: X 15, W 35, Y 21 elements, bf16; with the
     * residual Y is read too. FLOPs 2 · 3 · 5 · 7 = 210. */
    zz_work w = zz_work_linear(3, 5, 7, 0);
    assert_true(w.bytes == 2 * (15 + 35 + 21) && w.flops == 210);
    w = zz_work_linear(3, 5, 7, 1);
    assert_true(w.bytes == 2 * (15 + 35 + 2 * 21) && w.flops == 210);
    /* RMSNorm of 3 rows of 8: x read, y written (48 elements), the weight (8). */
    w = zz_work_rmsnorm(3, 8);
    assert_true(w.bytes == 2 * (48 + 8) && w.flops == 0);
    /* Rotary of 5 tokens: Q (4 heads) and K (2 heads), read and written:
     * 2 · 6 · 5 = 60 head-tokens. */
    assert_true(zz_work_rotary(&shape, 5).bytes == 60 * HEAD_TOKEN);
    assert_true(zz_work_embed(3, 8).bytes == 2 * 2 * 24);
    /* SiLU × up, 3 rows of 10: gate and up read (60), h written (30). */
    assert_true(zz_work_silu_mul(3, 10).bytes == 2 * 90);
}

/* A model step's plan counts through them: the tiny model with H 32, F 48,
 * V 104; prefill B 2, S 10 in chunks of 4 (passes of 4, 4, 2 tokens). */
static void test_model_step_plan_ops(void **state) {
    (void)state;
    static const zz_model tiny = {"tiny", 4, 4, 2, 64, 32, 48, 104};
    static zz_pattern pattern;
    static zz_budget budget;
    static zz_plan plan;
    zz_error err = {""};
    const zz_workload prompt = {ZZ_PREFILL, 2, 10, 4, 2, 4, 0, ZZ_STEP_MODEL};
    if (zz_pattern_load("tests/fixtures/tiny", &tiny, &pattern, &err) ||
        zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err) ||
        zz_plan_build(&tiny, &budget.duo, ZZ_LAYOUT_DUO_CAT, &prompt, &plan, &err))
        fail_msg("%s", err.msg);
    const zz_layer_plan *lp = &plan.layers[0];
    assert_int_equal(lp->n_ops, 4 + 5 + 5);
    const long long rows = 2 * 10;  /* every pass's tokens, whole batch */
    const int qkv = (4 + 2 * 2) * 64;
    assert_true(lp->ops[0].bytes == 2 * 2 * rows * 32);  /* embed: rows of the table read, x written */
    assert_true(lp->ops[1].bytes == zz_work_rmsnorm(rows, 32).bytes);
    assert_true(lp->ops[2].bytes == 2 * (rows * 32 + qkv * 32 + rows * qkv));
    assert_true(lp->ops[2].flops == 2.0 * rows * 32 * qkv);
    assert_true(lp->ops[3].bytes == zz_work_rotary(&shape, 10).bytes);
    const zz_op *o = &lp->ops[9], *down = &lp->ops[13];
    assert_int_equal(o->kind, ZZ_OP_O_PROJ);
    assert_true(o->bytes == 2 * (rows * 256 + 32 * 256 + 2 * rows * 32) && o->flops == 2.0 * rows * 256 * 32);
    assert_true(lp->ops[11].flops == 2.0 * rows * 32 * 96);  /* gate-up: F 48 twice */
    assert_true(lp->ops[12].bytes == zz_work_silu_mul(rows, 48).bytes);
    assert_int_equal(plan.layers[1].n_ops, 3 + 2 + 5);  /* layer 1: full, no embed */
    assert_true(down->bytes == 2 * (rows * 48 + 32 * 48 + 2 * rows * 32) && down->flops == 2.0 * rows * 48 * 32);
    /* final norm: the last pass's 2 tokens of both sequences; LM head: one token each */
    assert_int_equal(plan.n_final_ops, 2);
    assert_true(plan.final_ops[0].bytes == zz_work_rmsnorm(2 * 2, 32).bytes);
    assert_true(plan.final_ops[1].bytes == zz_work_linear(2, 32, 104, 0).bytes);
    assert_true(plan.final_ops[1].flops == 2.0 * 2 * 32 * 104);
    double linear = plan.final_ops[1].flops, attention = 0;
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < plan.layers[l].n_ops; i++)
            *(zz_op_in_model_step(plan.layers[l].ops[i].kind) ? &linear : &attention) += plan.layers[l].ops[i].flops;
    assert_true(plan.linear_flops == linear);
    assert_true(plan.flops == attention);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefill_attention), cmocka_unit_test(test_decode_attention),
        cmocka_unit_test(test_decode_combine),    cmocka_unit_test(test_decode_append),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_ring_tokens_kept),  cmocka_unit_test(test_prefill_tile_flops),
        cmocka_unit_test(test_decode_splits),     cmocka_unit_test(test_kernel_cases),
        cmocka_unit_test(test_kernel_case_fused),
        cmocka_unit_test(test_plan_ops),
        cmocka_unit_test(test_model_step_work),   cmocka_unit_test(test_model_step_plan_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
