/* Head patterns: loading DuoAttention folders (published and hand-made),
 * strict parsing errors, synthetic patterns, binarisation, zigzag selection
 * and the equal budget. tests/fixtures/README.md explains the tiny fixtures
 * and the hand-checked answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "published.h"

#define FIXTURES "tests/fixtures/"

static const zz_model tiny = {"tiny", 4, 4, 2, 64};

/* Large: one of each, reused by every test. */
static zz_pattern pattern;
static zz_budget budget;
static zz_labels labels;

static void load_ok(const char *dir, const zz_model *m) {
    zz_error err = {""};
    if (zz_pattern_load(dir, m, &pattern, &err)) fail_msg("%s: %s", dir, err.msg);
}

static void load_preset_ok(const char *dir, const char *preset) {
    zz_model m;
    zz_error err;
    assert_int_equal(zz_model_preset(preset, &m, &err), 0);
    load_ok(dir, &m);
}

/* ---- loading ---- */

static void test_tiny_folder_loads_clipped_with_config_window(void **state) {
    (void)state;
    load_ok(FIXTURES "tiny", &tiny);
    assert_int_equal(pattern.layers, 4);
    assert_int_equal(pattern.kv_heads, 2);
    assert_true(pattern.alpha[0][0] == 0.9 && pattern.alpha[0][1] == 0.1);
    assert_true(pattern.alpha[2][0] == 0.0);  /* -1.5e-05 clipped */
    assert_true(pattern.alpha[2][1] == 1.0);  /* 1.2 clipped */
    assert_true(pattern.alpha[3][1] == 0.2);
    /* The real keys, not the decoys inside string values. */
    assert_int_equal(pattern.sink, 4);
    assert_int_equal(pattern.recent, 8);
    assert_string_equal(pattern.source, FIXTURES "tiny");
}

static void test_null_missing_key_and_missing_config_keep_defaults(void **state) {
    (void)state;
    load_ok(FIXTURES "tiny-defaults", &tiny);
    assert_int_equal(pattern.sink, ZZ_DEFAULT_SINK);
    assert_int_equal(pattern.recent, ZZ_DEFAULT_RECENT);
    load_ok(FIXTURES "tiny-no-config/", &tiny);
    assert_int_equal(pattern.sink, 128);
    assert_int_equal(pattern.recent, 256);
}

static void test_published_folders_load_with_their_shapes(void **state) {
    (void)state;
    static const struct {
        const char *folder, *preset;
        int kv_heads;
    } folders[] = {
        {"Llama-2-7B-32K-Instruct", "llama2-7b", 32},
        {"Llama-3-8B-Instruct-Gradient-1048k", "llama3-8b", 8},
        {"Llama-3-8B-Instruct-Gradient-4194k", "llama3-8b", 8},
        {"Meta-Llama-3.1-8B-Instruct", "llama3-8b", 8},
        {"Mistral-7B-Instruct-v0.2", "mistral-7b", 8},
        {"Mistral-7B-Instruct-v0.3", "mistral-7b", 8},
    };
    char dir[512];
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        published_folder(folders[i].folder, dir, sizeof dir);
        load_preset_ok(dir, folders[i].preset);
        assert_int_equal(pattern.layers, 32);
        assert_int_equal(pattern.kv_heads, folders[i].kv_heads);
        assert_int_equal(pattern.sink, 128);
        assert_int_equal(pattern.recent, 256);
        for (int l = 0; l < pattern.layers; l++)
            for (int h = 0; h < pattern.kv_heads; h++)
                assert_true(pattern.alpha[l][h] >= 0 && pattern.alpha[l][h] <= 1);
    }
    /* First value of Llama-3-8B-Instruct-Gradient-1048k, and a tiny negative one clipped. */
    published_folder("Llama-3-8B-Instruct-Gradient-1048k", dir, sizeof dir);
    load_preset_ok(dir, "llama3-8b");
    assert_true(pattern.alpha[0][0] == 0.859375);
    assert_true(pattern.alpha[0][4] == 0.0);
}

/* llama3-shaped has Llama-3-8B's 32 rows of 8 columns. */
static void test_wrong_model_names_the_expected_shape(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama2-7b", &m, &err), 0);
    assert_int_equal(zz_pattern_load(FIXTURES "llama3-shaped", &m, &pattern, &err), -1);
    assert_string_equal(err.msg, FIXTURES "llama3-shaped/full_attention_heads.tsv:1: "
                                          "expected 32 columns (kv heads of llama2-7b), found 8");
    assert_int_equal(zz_model_preset("llama3-70b", &m, &err), 0);
    assert_int_equal(zz_pattern_load(FIXTURES "llama3-shaped", &m, &pattern, &err), -1);
    assert_string_equal(err.msg, FIXTURES "llama3-shaped/full_attention_heads.tsv:33: "
                                          "expected 80 rows (layers of llama3-70b), found 32");
}

static void expect_load_error(const char *dir, const char *want) {
    zz_error err = {""};
    assert_int_equal(zz_pattern_load(dir, &tiny, &pattern, &err), -1);
    assert_string_equal(err.msg, want);
}

static void test_every_bad_input_gives_file_line_expected_and_found(void **state) {
    (void)state;
    const char *tsv = "/full_attention_heads.tsv";
    static const struct {
        const char *dir, *rest;
    } cases[] = {
        {"bad-rows", ":4: expected 4 rows (layers of tiny), found 3"},
        {"bad-columns", ":3: expected 2 columns (kv heads of tiny), found 3"},
        {"bad-number", ":2: column 2: expected a number, found 'abc'"},
        {"bad-nan", ":4: column 1: expected a finite number, found 'nan'"},
        {"bad-inf", ":1: column 2: expected a finite number, found '-inf'"},
        {"bad-empty", ":1: expected 4 rows (layers of tiny), found an empty file"},
        {"bad-truncated", ":4: expected 2 columns (kv heads of tiny), found 1"},
        {"bad-truncated-number", ":4: expected a newline ending the last row, found end of file (truncated?)"},
        {"no-tsv", ": cannot read: No such file or directory"},
        {"missing-folder", ": cannot read: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], want[512];
        snprintf(dir, sizeof dir, FIXTURES "%s", cases[i].dir);
        snprintf(want, sizeof want, "%s%s%s", dir, tsv, cases[i].rest);
        expect_load_error(dir, want);
    }
    expect_load_error(FIXTURES "bad-config",
                      FIXTURES "bad-config/config.json:2: recent_size: expected null or an integer in 1..16777216, "
                               "found '\"many\"'");
}

/* ---- synthetic ---- */

static void test_synthetic_is_deterministic_given_the_seed(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama3-8b", &m, &err), 0);
    static const char *const kinds[] = {"uniform-mixed", "random", "layered"};
    for (size_t k = 0; k < 3; k++) {
        char spec[64];
        static zz_pattern again, other;
        snprintf(spec, sizeof spec, "%s:7", kinds[k]);
        assert_int_equal(zz_pattern_synthetic(spec, &m, &pattern, &err), 0);
        assert_int_equal(zz_pattern_synthetic(spec, &m, &again, &err), 0);
        snprintf(spec, sizeof spec, "%s:8", kinds[k]);
        assert_int_equal(zz_pattern_synthetic(spec, &m, &other, &err), 0);
        assert_memory_equal(pattern.alpha, again.alpha, sizeof pattern.alpha);
        assert_memory_not_equal(pattern.alpha, other.alpha, sizeof pattern.alpha);
        assert_int_equal(pattern.sink, 128);
        for (int l = 0; l < m.layers; l++)
            for (int h = 0; h < m.kv_heads; h++) assert_true(pattern.alpha[l][h] >= 0 && pattern.alpha[l][h] <= 1);
    }
    assert_int_equal(zz_pattern_synthetic("random", &m, &pattern, &err), 0);
    assert_string_equal(pattern.source, "synthetic random:1");
}

static void test_uniform_mixed_mixes_every_layer_evenly(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama3-8b", &m, &err), 0);
    assert_int_equal(zz_pattern_synthetic("uniform-mixed:3", &m, &pattern, &err), 0);
    zz_binarize_duo(&pattern, zz_streaming_heads(256, 0.5), &labels);
    for (int l = 0; l < m.layers; l++) assert_int_equal(zz_labels_layer_retrieval(&labels, l), 4);
    assert_int_equal(zz_labels_mixed_layers(&labels), 32);
}

/* --layers N of a preset: the whole model's pattern (a file of all its rows,
 * or the generator's), cut to the layers run before binarisation. */
static void test_first_layers_keep_the_first_rows(void **state) {
    (void)state;
    zz_model m;
    zz_error err = {""};
    static zz_pattern whole;
    assert_int_equal(zz_model_preset("llama3-8b", &m, &err), 0);
    load_ok(FIXTURES "llama3-shaped", &m);
    whole = pattern;
    m.layers = 4;
    load_ok(FIXTURES "llama3-shaped", &m);
    assert_int_equal(pattern.layers, 4);
    assert_memory_equal(pattern.alpha, whole.alpha, 4 * sizeof whole.alpha[0]);
    for (int l = 4; l < ZZ_MAX_LAYERS; l++)
        for (int h = 0; h < ZZ_MAX_KV_HEADS; h++) assert_true(pattern.alpha[l][h] == 0);
    /* the file must still hold every layer of the model */
    assert_int_equal(zz_pattern_load(FIXTURES "tiny", &m, &pattern, &err), -1);
    if (!strstr(err.msg, "expected 32 rows (layers of llama3-8b), found 4")) fail_msg("message '%s'", err.msg);
    m.layers = 32;
    assert_int_equal(zz_pattern_synthetic("random:5", &m, &whole, &err), 0);
    m.layers = 7;
    assert_int_equal(zz_pattern_synthetic("random:5", &m, &pattern, &err), 0);
    assert_int_equal(pattern.layers, 7);
    assert_memory_equal(pattern.alpha, whole.alpha, 7 * sizeof whole.alpha[0]);
    assert_int_equal(zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err), 0);
    assert_int_equal(budget.total_heads, 7 * 8);
    assert_int_equal(zz_labels_retrieval(&budget.duo), 28);
    assert_int_equal(zz_labels_retrieval(&budget.zigzag), 32);  /* 3.5 layers, nearest rounds halves up */
}

static void test_bad_synthetic_specs(void **state) {
    (void)state;
    zz_error err = {""};
    assert_int_equal(zz_pattern_synthetic("zipf:3", &tiny, &pattern, &err), -1);
    assert_string_equal(err.msg, "synthetic pattern 'zipf' unknown (kinds: uniform-mixed, random, layered)");
    assert_int_equal(zz_pattern_synthetic("random:x1", &tiny, &pattern, &err), -1);
    assert_string_equal(err.msg, "synthetic pattern 'random:x1': seed 'x1' is not a non-negative integer");
    assert_int_equal(zz_pattern_synthetic("random:-1", &tiny, &pattern, &err), -1);
}

/* ---- binarisation, zigzag, budget (hand-checked, see fixtures/README.md) ---- */

static void assert_labels(const zz_labels *l, const char *want) {
    char got[64] = "";
    for (int layer = 0; layer < l->layers; layer++) {
        for (int h = 0; h < l->kv_heads; h++) strcat(got, l->retrieval[layer][h] ? "1" : "0");
        if (layer + 1 < l->layers) strcat(got, " ");
    }
    assert_string_equal(got, want);
}

static void test_duo_quantile_breaks_ties_by_layer_then_head(void **state) {
    (void)state;
    load_ok(FIXTURES "tiny", &tiny);
    assert_int_equal(zz_streaming_heads(8, 0.5), 4);
    zz_binarize_duo(&pattern, 4, &labels);
    assert_labels(&labels, "10 11 01 00");
    assert_int_equal(zz_labels_retrieval(&labels), 4);
    assert_int_equal(zz_labels_mixed_layers(&labels), 2);
    zz_binarize_duo(&pattern, zz_streaming_heads(8, 0.625), &labels);  /* the 0.5 tie: head 0 streams first */
    assert_labels(&labels, "10 01 01 00");
    zz_binarize_duo(&pattern, 0, &labels);
    assert_labels(&labels, "11 11 11 11");
    zz_binarize_duo(&pattern, 8, &labels);
    assert_labels(&labels, "00 00 00 00");
}

static void test_duo_quantile_breaks_ties_across_layers_lower_layer_first(void **state) {
    (void)state;
    load_ok(FIXTURES "ties", &tiny);
    zz_binarize_duo(&pattern, 3, &labels);
    assert_labels(&labels, "01 00 11 11");
    zz_binarize_duo(&pattern, 4, &labels);
    assert_labels(&labels, "01 00 01 11");
    zz_binarize_duo(&pattern, 5, &labels);
    assert_labels(&labels, "01 00 00 11");
}

static void test_zigzag_takes_highest_mean_layers_lower_first_on_ties(void **state) {
    (void)state;
    load_ok(FIXTURES "tiny", &tiny);
    unsigned char chosen[ZZ_MAX_LAYERS];
    zz_select_by_mean_alpha(&pattern, 2, chosen);  /* layers 0, 1, 2 tie on 0.5 */
    zz_labels_from_layers(4, 2, chosen, &labels);
    assert_labels(&labels, "11 11 00 00");
    zz_select_by_mean_alpha(&pattern, 3, chosen);
    zz_labels_from_layers(4, 2, chosen, &labels);
    assert_labels(&labels, "11 11 11 00");
}

static void test_budget_is_equal_when_kv_heads_divide_it(void **state) {
    (void)state;
    zz_error err = {""};
    load_ok(FIXTURES "tiny", &tiny);
    assert_int_equal(zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err), 0);
    assert_int_equal(budget.duo_retrieval, 4);
    assert_int_equal(budget.zigzag_layers, 2);
    assert_int_equal(zz_labels_retrieval(&budget.duo), zz_labels_retrieval(&budget.zigzag));
    assert_labels(&budget.zigzag, "11 11 00 00");
    assert_labels(&budget.duo, "10 11 01 00");
    assert_string_equal(budget.note, "");
}

static void test_budget_notes_and_rounds_when_kv_heads_do_not_divide_it(void **state) {
    (void)state;
    zz_error err = {""};
    load_ok(FIXTURES "tiny", &tiny);
    static const struct {
        zz_rounding rounding;
        int layers;
        const char *labels;
    } cases[] = {
        {ZZ_ROUND_NEAREST, 2, "11 11 00 00"},  /* 3 / 2 = 1.5: halves go up */
        {ZZ_ROUND_FLOOR, 1, "11 00 00 00"},
        {ZZ_ROUND_CEIL, 2, "11 11 00 00"},
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(zz_budget_make(&pattern, 0.625, cases[i].rounding, zz_select_by_mean_alpha, &budget, &err),
                         0);
        assert_int_equal(budget.duo_retrieval, 3);
        assert_int_equal(budget.layers_floor, 1);
        assert_int_equal(budget.layers_ceil, 2);
        assert_int_equal(budget.zigzag_layers, cases[i].layers);
        assert_labels(&budget.zigzag, cases[i].labels);
        assert_non_null(strstr(budget.note, "2 kv heads per layer do not divide the 3 retrieval heads"));
        assert_non_null(strstr(budget.note, "floor 1 layers = 2 heads, ceil 2 layers = 4 heads"));
        assert_non_null(strstr(budget.note, zz_rounding_name(cases[i].rounding)));
    }
}

/* The selector is pluggable: the budget uses whatever it picks. */
static void select_last_layers(const zz_pattern *p, int retrieval_layers, unsigned char *retrieval_layer) {
    for (int l = 0; l < p->layers; l++) retrieval_layer[l] = l >= p->layers - retrieval_layers;
}

static void test_budget_uses_the_given_selector(void **state) {
    (void)state;
    zz_error err = {""};
    load_ok(FIXTURES "tiny", &tiny);
    assert_int_equal(zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, select_last_layers, &budget, &err), 0);
    assert_labels(&budget.zigzag, "00 00 11 11");
}

static void test_budget_rejects_sparsity_out_of_range(void **state) {
    (void)state;
    zz_error err = {""};
    load_ok(FIXTURES "tiny", &tiny);
    assert_int_equal(zz_budget_make(&pattern, 1.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err), -1);
    assert_string_equal(err.msg, "sparsity 1.5 out of range 0..1");
}

static void test_published_llama3_at_half_sparsity(void **state) {
    (void)state;
    zz_error err = {""};
    char dir[512];
    published_folder("Llama-3-8B-Instruct-Gradient-1048k", dir, sizeof dir);
    load_preset_ok(dir, "llama3-8b");
    assert_int_equal(zz_budget_make(&pattern, 0.5, ZZ_ROUND_NEAREST, zz_select_by_mean_alpha, &budget, &err), 0);
    assert_int_equal(zz_labels_retrieval(&budget.duo), 128);
    assert_int_equal(zz_labels_retrieval(&budget.zigzag), 128);
    assert_true(zz_labels_mixed_layers(&budget.duo) >= 29);
    assert_int_equal(zz_labels_mixed_layers(&budget.zigzag), 0);
    assert_string_equal(budget.note, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_folder_loads_clipped_with_config_window),
        cmocka_unit_test(test_null_missing_key_and_missing_config_keep_defaults),
        cmocka_unit_test(test_published_folders_load_with_their_shapes),
        cmocka_unit_test(test_wrong_model_names_the_expected_shape),
        cmocka_unit_test(test_every_bad_input_gives_file_line_expected_and_found),
        cmocka_unit_test(test_synthetic_is_deterministic_given_the_seed),
        cmocka_unit_test(test_uniform_mixed_mixes_every_layer_evenly),
        cmocka_unit_test(test_first_layers_keep_the_first_rows),
        cmocka_unit_test(test_bad_synthetic_specs),
        cmocka_unit_test(test_duo_quantile_breaks_ties_by_layer_then_head),
        cmocka_unit_test(test_duo_quantile_breaks_ties_across_layers_lower_layer_first),
        cmocka_unit_test(test_zigzag_takes_highest_mean_layers_lower_first_on_ties),
        cmocka_unit_test(test_budget_is_equal_when_kv_heads_divide_it),
        cmocka_unit_test(test_budget_notes_and_rounds_when_kv_heads_do_not_divide_it),
        cmocka_unit_test(test_budget_uses_the_given_selector),
        cmocka_unit_test(test_budget_rejects_sparsity_out_of_range),
        cmocka_unit_test(test_published_llama3_at_half_sparsity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
