/* Model presets, shape and workload validation, and the per-step counting
 * conventions checked against brute force on small contexts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "model.h"

static void test_presets_have_the_published_shapes(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int layers, q_heads, kv_heads, head_dim, hidden, mlp, vocab;
        double params;  /* the published parameter count: the weights a model step holds */
    } want[] = {
        {"llama2-7b", 32, 32, 32, 128, 4096, 11008, 32000, 6738415616.0},
        {"llama3-8b", 32, 32, 8, 128, 4096, 14336, 128256, 8030261248.0},
        {"mistral-7b", 32, 32, 8, 128, 4096, 14336, 32000, 7241732096.0},
        {"llama3-70b", 80, 64, 8, 128, 8192, 28672, 128256, 70553706496.0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        zz_model m;
        zz_error err = {""};
        assert_int_equal(zz_model_preset(want[i].name, &m, &err), 0);
        assert_string_equal(m.name, want[i].name);
        assert_int_equal(m.layers, want[i].layers);
        assert_int_equal(m.q_heads, want[i].q_heads);
        assert_int_equal(m.kv_heads, want[i].kv_heads);
        assert_int_equal(m.head_dim, want[i].head_dim);
        assert_int_equal(m.hidden, want[i].hidden);
        assert_int_equal(m.mlp, want[i].mlp);
        assert_int_equal(m.vocab, want[i].vocab);
        assert_int_equal(zz_model_total_layers(&m), want[i].layers);
        assert_false(zz_model_is_prefix(&m));
        assert_int_equal(zz_model_check(&m, &err), 0);
        assert_int_equal(zz_model_check_step(&m, ZZ_STEP_MODEL, &err), 0);
        assert_true(zz_model_weight_bytes(&m) == 2 * want[i].params);
    }
}

/* --layers N of a preset: the first N layers, named as such, with their weights alone. */
static void test_first_layers_of_a_model(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    char text[64];
    assert_int_equal(zz_model_preset("llama3-70b", &m, &err), 0);
    const double whole = zz_model_weight_bytes(&m), embed_and_head = 2.0 * 2 * 128256 * 8192 + 2.0 * 8192;
    zz_model_layers_text(&m, text, sizeof text);
    assert_string_equal(text, "80 layers");
    m.layers = 40;
    assert_int_equal(zz_model_check(&m, &err), 0);
    assert_true(zz_model_is_prefix(&m));
    assert_int_equal(zz_model_total_layers(&m), 80);
    zz_model_layers_text(&m, text, sizeof text);
    assert_string_equal(text, "first 40 of 80 layers");
    assert_true(zz_model_weight_bytes(&m) - embed_and_head == (whole - embed_and_head) / 2);
    /* a custom model without model_layers runs all of its layers */
    zz_model custom = {"custom", 4, 4, 2, 64};
    assert_int_equal(zz_model_total_layers(&custom), 4);
    assert_false(zz_model_is_prefix(&custom));
}

static void test_steps_and_what_a_model_step_needs(void **state) {
    (void)state;
    zz_step s;
    zz_error err = {""};
    assert_int_equal(zz_step_from_name("model", &s), 0);
    assert_int_equal(s, ZZ_STEP_MODEL);
    assert_string_equal(zz_step_name(ZZ_STEP_ATTENTION), "attention");
    assert_int_equal(zz_step_from_name("layer", &s), -1);
    zz_model m = {"custom", 4, 4, 2, 64, 256};
    assert_int_equal(zz_model_check(&m, &err), 0);
    assert_int_equal(zz_model_check_step(&m, ZZ_STEP_ATTENTION, &err), 0);
    assert_int_equal(zz_model_check_step(&m, ZZ_STEP_MODEL, &err), -1);
    if (!strstr(err.msg, "(--mlp, --vocab missing)")) fail_msg("message '%s'", err.msg);
    m.mlp = 688, m.vocab = 1004;
    assert_int_equal(zz_model_check_step(&m, ZZ_STEP_MODEL, &err), -1);
    if (!strstr(err.msg, "vocabulary 1004: a model step needs multiples of 8")) fail_msg("message '%s'", err.msg);
    m.vocab = 1000;
    assert_int_equal(zz_model_check_step(&m, ZZ_STEP_MODEL, &err), 0);
    zz_workload w = {ZZ_DECODE, 1, 1024, 0, 128, 256, 0, (zz_step)2};
    assert_int_equal(zz_workload_check(&w, &err), -1);
    if (!strstr(err.msg, "step 2")) fail_msg("message '%s'", err.msg);
}

static void test_unknown_preset_lists_the_known_ones(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama4", &m, &err), -1);
    assert_non_null(strstr(err.msg, "'llama4'"));
    assert_non_null(strstr(err.msg, "llama3-70b"));
}

static void expect_bad_model(zz_model m, const char *needle) {
    zz_error err = {""};
    assert_int_equal(zz_model_check(&m, &err), -1);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_null(strchr(err.msg, '\n'));
}

static void test_validation_names_the_bad_value(void **state) {
    (void)state;
    expect_bad_model((zz_model){"custom", 32, 32, 6, 128}, "q heads 32 not divisible by kv heads 6");
    expect_bad_model((zz_model){"custom", 32, 32, 8, 96}, "head dim 96");
    expect_bad_model((zz_model){"custom", 0, 32, 8, 128}, "layers 0");
    expect_bad_model((zz_model){"custom", 129, 32, 8, 128}, "layers 129");
    expect_bad_model((zz_model){"custom", 32, 32, 0, 128}, "kv heads 0");
    expect_bad_model((zz_model){"custom", 32, -4, 4, 128}, "q heads -4");
    expect_bad_model((zz_model){"custom", 32, 32, 8, 128, -1}, "hidden size -1 out of range 1..65536");
    expect_bad_model((zz_model){"custom", 32, 32, 8, 128, 4096, 300000}, "MLP size 300000");
    expect_bad_model((zz_model){"custom", 32, 32, 8, 128, 4096, 1024, 2000000}, "vocabulary 2000000");
    expect_bad_model((zz_model){"custom", 32, 32, 8, 128, 0, 0, 0, 16}, "32 layers run, but the model has 16");
}

static void expect_bad_workload(zz_workload w, const char *needle) {
    zz_error err = {""};
    assert_int_equal(zz_workload_check(&w, &err), -1);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_workload_validation(void **state) {
    (void)state;
    zz_workload ok = {ZZ_DECODE, 1, 32768, 0, 128, 256};
    zz_error err = {""};
    assert_int_equal(zz_workload_check(&ok, &err), 0);
    expect_bad_workload((zz_workload){ZZ_DECODE, 0, 32768, 0, 128, 256}, "batch 0");
    expect_bad_workload((zz_workload){ZZ_DECODE, 1, 0, 0, 128, 256}, "context 0");
    expect_bad_workload((zz_workload){ZZ_PREFILL, 1, 1024, -1, 128, 256}, "chunk -1");
    expect_bad_workload((zz_workload){ZZ_DECODE, 1, 1024, 0, -1, 256}, "sink -1");
    expect_bad_workload((zz_workload){ZZ_DECODE, 1, 1024, 0, 128, 0}, "recent 0");
}

/* ---- brute force, straight from the mask definitions ---- */

static int key_visible(int streaming, int chunked, int sink, int recent, long long q_pos0, long long i, long long j) {
    if (j > i) return 0;
    if (!streaming) return 1;
    long long lo = chunked ? q_pos0 - recent : i + 1 - recent;
    return j < sink || j >= lo;
}

static zz_head_work brute_prefill(long long S, long long chunk, int sink, int recent, int streaming) {
    int chunked = chunk > 0 && chunk < S;
    long long step = chunked ? chunk : S;
    zz_head_work h = {.query_tokens = S};
    for (long long pos = 0; pos < S; pos += step) {
        long long end = pos + step < S ? pos + step : S;
        for (long long j = 0; j < end; j++) {
            int seen = 0;
            for (long long i = pos; i < end; i++) {
                int v = key_visible(streaming, chunked, sink, recent, pos, i, j);
                h.pairs += v;
                seen |= v;
            }
            h.kv_tokens_read += seen;
        }
        for (long long j = pos; j < end; j++)  /* tokens of this pass the cache keeps */
            h.kv_tokens_written += !streaming || j < sink || j >= end - recent;
    }
    h.cache_tokens = streaming && S > sink + recent ? sink + recent : S;
    return h;
}

static void assert_work_equal(zz_head_work got, zz_head_work want) {
    assert_int_equal(got.query_tokens, want.query_tokens);
    assert_int_equal(got.pairs, want.pairs);
    assert_int_equal(got.kv_tokens_read, want.kv_tokens_read);
    assert_int_equal(got.kv_tokens_written, want.kv_tokens_written);
    assert_int_equal(got.cache_tokens, want.cache_tokens);
}

static void test_prefill_counts_match_brute_force(void **state) {
    (void)state;
    static const int windows[][2] = {{0, 1}, {2, 3}, {4, 8}, {16, 16}, {1, 40}};
    static const long long chunks[] = {0, 1, 3, 7, 16, 64};
    for (long long S = 1; S <= 70; S += 3) {
        for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++) {
            for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
                for (int streaming = 0; streaming <= 1; streaming++) {
                    zz_workload w = {ZZ_PREFILL, 1, S, chunks[ci], windows[wi][0], windows[wi][1]};
                    assert_work_equal(zz_head_work_of(&w, streaming),
                                      brute_prefill(S, chunks[ci], windows[wi][0], windows[wi][1], streaming));
                }
            }
        }
    }
}

static void test_decode_attends_the_new_token_too(void **state) {
    (void)state;
    for (long long S = 1; S <= 50; S++) {
        zz_workload w = {ZZ_DECODE, 1, S, 0, 4, 8};
        zz_head_work full = zz_head_work_of(&w, 0), streaming = zz_head_work_of(&w, 1);
        long long visible = 0;  /* query at position S over keys 0..S */
        for (long long j = 0; j <= S; j++) visible += key_visible(1, 0, 4, 8, 0, S, j);
        assert_int_equal(full.pairs, S + 1);
        assert_int_equal(streaming.pairs, visible);
        assert_int_equal(full.cache_tokens, S);
        assert_int_equal(streaming.cache_tokens, S < 12 ? S : 12);
        assert_int_equal(full.kv_tokens_written, 1);
        assert_int_equal(full.query_tokens, 1);
    }
}

static void test_passes_count_prefill_chunks_only(void **state) {
    (void)state;
    zz_workload w = {ZZ_PREFILL, 1, 10000, 4096, 128, 256};
    assert_int_equal(zz_workload_passes(&w), 3);
    w.chunk = 10000;
    assert_int_equal(zz_workload_passes(&w), 1);
    w.chunk = 0;
    assert_int_equal(zz_workload_passes(&w), 1);
    w = (zz_workload){ZZ_DECODE, 1, 10000, 4096, 128, 256};
    assert_int_equal(zz_workload_passes(&w), 1);
}

/* Llama-3-8B at decode, B 2, S 32k: hand-computed. */
static void test_flops_and_cache_bytes_by_hand(void **state) {
    (void)state;
    zz_model m;
    zz_error err;
    assert_int_equal(zz_model_preset("llama3-8b", &m, &err), 0);
    zz_workload w = {ZZ_DECODE, 2, 32768, 0, 128, 256};
    zz_head_work full = zz_head_work_of(&w, 0), streaming = zz_head_work_of(&w, 1);
    /* one KV head = 4 query heads; 4·B·D per pair per query head */
    assert_true(zz_attention_flops(&m, 2, &full, 1) == 4.0 * 2 * 128 * 32769 * 4);
    assert_true(zz_attention_flops(&m, 2, &streaming, 1) == 4.0 * 2 * 128 * 384 * 4);
    /* K and V, bf16 */
    assert_true(zz_kv_cache_bytes(&m, 2, &full, 1) == 2.0 * 32768 * 2 * 128 * 2);
    assert_true(zz_kv_cache_bytes(&m, 2, &streaming, 3) == 3 * 2.0 * 384 * 2 * 128 * 2);
    zz_cost c = zz_cost_of(&m, &w, 128);
    assert_int_equal(c.retrieval_heads, 128);
    assert_true(c.kv_bytes == 128 * 2.0 * 32768 * 512 + 128 * 2.0 * 384 * 512);
    assert_true(c.flops == 128 * 4 * 4.0 * 2 * 128 * 32769 + 128 * 4 * 4.0 * 2 * 128 * 384);
}

static void test_phase_names_round_trip(void **state) {
    (void)state;
    zz_phase p;
    assert_int_equal(zz_phase_from_name("prefill", &p), 0);
    assert_int_equal(p, ZZ_PREFILL);
    assert_string_equal(zz_phase_name(ZZ_DECODE), "decode");
    assert_int_equal(zz_phase_from_name("Decode", &p), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_have_the_published_shapes),
        cmocka_unit_test(test_unknown_preset_lists_the_known_ones),
        cmocka_unit_test(test_first_layers_of_a_model),
        cmocka_unit_test(test_steps_and_what_a_model_step_needs),
        cmocka_unit_test(test_validation_names_the_bad_value),
        cmocka_unit_test(test_workload_validation),
        cmocka_unit_test(test_prefill_counts_match_brute_force),
        cmocka_unit_test(test_decode_attends_the_new_token_too),
        cmocka_unit_test(test_passes_count_prefill_chunks_only),
        cmocka_unit_test(test_flops_and_cache_bytes_by_hand),
        cmocka_unit_test(test_phase_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
