/* zz-bench's flag parsers called directly (bench/cli.h): defaults, lists,
 * the ctx → prefill-ctx rule, conflicts and --help, without running the
 * executable. tests/test_cli.c runs the executable itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cli.h"

#define ARGS(...) ((char *[]){__VA_ARGS__, NULL})
#define COUNT(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define RUN(o, err, ...) cli_parse_run_options(COUNT("run", __VA_ARGS__), ARGS("run", __VA_ARGS__), o, err)
#define PLAN(o, err, ...) cli_parse_plan_options(COUNT("plan", __VA_ARGS__), ARGS("plan", __VA_ARGS__), o, err)

static void expect_message(const zz_error *err, const char *needle) {
    if (!strstr(err->msg, needle)) fail_msg("message '%s' lacks '%s'", err->msg, needle);
}

static void test_run_defaults_are_the_help_texts(void **state) {
    (void)state;
    static run_options o;
    zz_error err = {""};
    assert_int_equal(cli_parse_run_options(1, ARGS("run"), &o, &err), 0);
    assert_int_equal(o.n_layouts, 6);
    assert_int_equal(o.layouts[0], ZZ_LAYOUT_FULL);
    assert_int_equal(o.layouts[4], ZZ_LAYOUT_DUO_FUSED);
    assert_int_equal(o.layouts[5], ZZ_LAYOUT_ZIGZAG);
    assert_int_equal(o.n_phases, 2);
    assert_int_equal(o.n_ctx, 3);
    assert_int_equal(o.ctx[2], 128 * 1024);
    assert_int_equal(o.n_prefill_ctx, 2);
    assert_int_equal(o.n_modes, 2);
    assert_int_equal(o.n_chunk, 1);
    assert_int_equal(o.chunk[0], 0);
    assert_int_equal(o.rule.min_samples, 10);
    assert_int_equal(o.warmup, DEFAULT_WARMUP);
    assert_null(o.out_dir);
    /* decode's default is one-launch; prefill's the first of the table */
    assert_int_equal(o.n_decode_kernels, 1);
    assert_int_equal(o.decode_kernels[0], ZZ_DECODE_ONE_LAUNCH);
    assert_string_equal(zz_kernel_variant_name(ZZ_DECODE, ZZ_DECODE_ONE_LAUNCH), DEFAULT_DECODE_KERNEL);
    assert_int_equal(o.n_prefill_kernels, 1);
    assert_int_equal(o.prefill_kernels[0], 0);
    assert_string_equal(zz_kernel_variant_name(ZZ_PREFILL, 0), DEFAULT_PREFILL_KERNEL);
}

/* --decode-kernel and --prefill-kernel: a list of names, or all of the
 * phase's variants in table order; each names only its own phase's. */
static void test_run_kernel_variants(void **state) {
    (void)state;
    static run_options o;
    zz_error err = {""};
    assert_int_equal(RUN(&o, &err, "--decode-kernel", "all", "--prefill-kernel", "all"), 0);
    assert_int_equal(o.n_decode_kernels, ZZ_DECODE_KERNELS);
    for (int i = 0; i < ZZ_DECODE_KERNELS; i++) assert_int_equal(o.decode_kernels[i], i);
    assert_int_equal(o.n_prefill_kernels, ZZ_PREFILL_KERNELS);
    assert_int_equal(RUN(&o, &err, "--decode-kernel", "split-combine", "--phase", "decode"), 0);
    assert_int_equal(o.n_decode_kernels, 1);
    assert_int_equal(o.decode_kernels[0], ZZ_DECODE_SPLIT_COMBINE);
    assert_int_equal(RUN(&o, &err, "--decode-kernel", "one-launch,split-combine"), 0);
    assert_int_equal(o.n_decode_kernels, 2);
    assert_int_equal(o.decode_kernels[0], ZZ_DECODE_ONE_LAUNCH);
    assert_int_equal(o.decode_kernels[1], ZZ_DECODE_SPLIT_COMBINE);
    assert_int_equal(RUN(&o, &err, "--prefill-kernel", "fa2", "--phase", "prefill"), 0);
    assert_int_equal(o.prefill_kernels[0], ZZ_PREFILL_FA2);
    assert_int_equal(RUN(&o, &err, "--decode-kernel", "fa2"), -1);
    expect_message(&err, "--decode-kernel: unknown 'fa2' (one of: split-combine");
    assert_int_equal(RUN(&o, &err, "--prefill-kernel", "fa2,fa2"), -1);
    expect_message(&err, "--prefill-kernel");
    assert_int_equal(RUN(&o, &err, "--decode-kernel", "all,split-combine"), -1);
    expect_message(&err, "--decode-kernel: unknown 'all'");
    assert_int_equal(RUN(&o, &err, "--phase", "prefill", "--decode-kernel", "all"), -1);
    expect_message(&err, "run: --decode-kernel with --phase prefill: there is no decode to apply it to");
    assert_int_equal(RUN(&o, &err, "--phase", "decode", "--prefill-kernel", "fa2"), -1);
    expect_message(&err, "run: --prefill-kernel with --phase decode: there is no prefill to apply it to");
}

static void test_run_lists_and_the_ctx_rule(void **state) {
    (void)state;
    static run_options o;
    zz_error err = {""};
    assert_int_equal(RUN(&o, &err, "--layouts", "zigzag,duo-cat", "--ctx", "4k,1m", "--batch", "1,8", "--chunk",
                         "0,2k", "--min-samples", "3", "--cold"),
                     0);
    assert_int_equal(o.n_layouts, 2);
    assert_int_equal(o.layouts[0], ZZ_LAYOUT_ZIGZAG);
    assert_int_equal(o.layouts[1], ZZ_LAYOUT_DUO_CAT);
    /* --ctx alone sets both phases' contexts */
    assert_int_equal(o.n_prefill_ctx, 2);
    assert_int_equal(o.prefill_ctx[1], 1024 * 1024);
    assert_int_equal(o.n_batch, 2);
    assert_int_equal(o.batch[1], 8);
    assert_int_equal(o.chunk[0], 0);
    assert_int_equal(o.chunk[1], 2048);
    assert_int_equal(o.rule.min_samples, 3);
    assert_true(o.cold);
    assert_int_equal(RUN(&o, &err, "--ctx", "4k", "--prefill-ctx", "2k"), 0);
    assert_int_equal(o.n_prefill_ctx, 1);
    assert_int_equal(o.prefill_ctx[0], 2048);
}

static void test_run_conflicts_name_both_flags(void **state) {
    (void)state;
    static run_options o;
    zz_error err = {""};
    assert_int_equal(RUN(&o, &err, "--seed", "3", "--pattern", "x"), -1);
    expect_message(&err, "--seed and --pattern");
    assert_int_equal(RUN(&o, &err, "--phase", "decode", "--chunk", "2k"), -1);
    expect_message(&err, "--chunk with --phase decode");
    assert_int_equal(RUN(&o, &err, "--phase", "decode", "--prefill-ctx", "2k"), -1);
    expect_message(&err, "--prefill-ctx with --phase decode");
    assert_int_equal(RUN(&o, &err, "--pattern", "x", "--synthetic", "random"), -1);
    expect_message(&err, "--pattern and --synthetic");
    assert_int_equal(RUN(&o, &err, "--layouts", "zigzag,bogus"), -1);
    expect_message(&err, "--layouts");
    assert_int_equal(RUN(&o, &err, "--timeout", "-1"), -1);
    expect_message(&err, "--timeout");
}

static void test_help_and_unknown_flags(void **state) {
    (void)state;
    static run_options o;
    static plan_options p;
    zz_error err = {""};
    assert_int_equal(RUN(&o, &err, "--help"), 1);
    assert_int_equal(PLAN(&p, &err, "-h"), 1);
    assert_int_equal(RUN(&o, &err, "--bogus"), -1);
    expect_message(&err, "unknown or ambiguous option '--bogus'");
    assert_int_equal(RUN(&o, &err, "--ctx"), -1);
    expect_message(&err, "option '--ctx' needs a value");
    assert_int_equal(RUN(&o, &err, "stray"), -1);
    expect_message(&err, "unexpected argument 'stray'");
}

static void test_plan_options(void **state) {
    (void)state;
    static plan_options p;
    zz_error err = {""};
    assert_int_equal(PLAN(&p, &err, "--layout", "zigzag", "--phase", "prefill", "--chunk", "1k", "--format", "csv",
                          "--ops"),
                     0);
    assert_int_equal(p.layout, ZZ_LAYOUT_ZIGZAG);
    assert_int_equal(p.phase, ZZ_PREFILL);
    assert_int_equal(p.chunk, 1024);
    assert_int_equal(p.format, FORMAT_CSV);
    assert_true(p.show_ops);
    assert_int_equal(PLAN(&p, &err, "--chunk", "1k"), -1);
    expect_message(&err, "--chunk with --phase decode");
    assert_int_equal(PLAN(&p, &err, "--sparsity", "1.5"), -1);
    expect_message(&err, "--sparsity: expected a number in 0..1");
    /* one kernel variant, of the phase planned */
    assert_int_equal(cli_parse_plan_options(1, ARGS("plan"), &p, &err), 0);
    assert_int_equal(p.decode_kernel, ZZ_DECODE_ONE_LAUNCH);
    assert_int_equal(p.prefill_kernel, 0);
    assert_int_equal(PLAN(&p, &err, "--decode-kernel", "split-combine"), 0);
    assert_int_equal(p.decode_kernel, ZZ_DECODE_SPLIT_COMBINE);
    assert_int_equal(PLAN(&p, &err, "--decode-kernel", "all"), -1);
    expect_message(&err, "--decode-kernel: expected one of split-combine");
    assert_int_equal(PLAN(&p, &err, "--phase", "prefill", "--decode-kernel", "split-combine"), -1);
    expect_message(&err, "plan: --decode-kernel with --phase prefill");
    assert_int_equal(PLAN(&p, &err, "--prefill-kernel", "fa2"), -1);
    expect_message(&err, "plan: --prefill-kernel with --phase decode");
}

static void test_model_and_window(void **state) {
    (void)state;
    static plan_options p;
    zz_error err = {""};
    zz_model m;
    /* --layers of a preset: its first layers; the model keeps its name */
    assert_int_equal(PLAN(&p, &err, "--model", "llama2-7b", "--layers", "4", "--sink", "16"), 0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), 0);
    assert_int_equal(m.layers, 4);
    assert_int_equal(m.model_layers, 32);
    assert_int_equal(m.kv_heads, 32);
    assert_string_equal(m.name, "llama2-7b");
    assert_int_equal(PLAN(&p, &err, "--model", "llama3-70b", "--layers", "81"), 0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), -1);
    assert_string_equal(err.msg, "plan: --layers 81: llama3-70b has 80 layers (--layers runs the first N of them)");
    /* another shape flag that changes the preset makes it custom */
    assert_int_equal(PLAN(&p, &err, "--model", "llama2-7b", "--layers", "4", "--kv-heads", "8"), 0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), 0);
    assert_string_equal(m.name, "custom");
    assert_int_equal(m.model_layers, 32);
    assert_int_equal(PLAN(&p, &err, "--model", "llama2-7b", "--kv-heads", "32"), 0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), 0);
    assert_string_equal(m.name, "llama2-7b");
    assert_int_equal(PLAN(&p, &err, "--layers", "4"), 0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), -1);
    expect_message(&err, "--q-heads missing");
    zz_pattern pattern = {.sink = 128, .recent = 256};
    zz_workload w = {0};
    assert_int_equal(PLAN(&p, &err, "--sink", "16"), 0);
    cli_apply_window(&p.common, &pattern, &w);
    assert_int_equal(w.sink, 16);
    assert_int_equal(w.recent, 256);
}

/* --step, --hidden, --mlp, --vocab: the model step and the sizes it needs. */
static void test_model_step_flags(void **state) {
    (void)state;
    static run_options o;
    static plan_options p;
    zz_error err = {""};
    zz_model m;
    assert_int_equal(cli_parse_run_options(1, ARGS("run"), &o, &err), 0);
    assert_int_equal(o.common.step, ZZ_STEP_ATTENTION);
    assert_int_equal(RUN(&o, &err, "--step", "model", "--model", "mistral-7b", "--mlp", "8192"), 0);
    assert_int_equal(o.common.step, ZZ_STEP_MODEL);
    assert_int_equal(cli_resolve_model("run", &o.common, &m, &err), 0);
    assert_string_equal(m.name, "custom");
    assert_int_equal(m.hidden, 4096);
    assert_int_equal(m.mlp, 8192);
    assert_int_equal(m.vocab, 32000);
    assert_int_equal(RUN(&o, &err, "--step", "model", "--model", "mistral-7b", "--vocab", "32000"), 0);
    assert_int_equal(cli_resolve_model("run", &o.common, &m, &err), 0);
    assert_string_equal(m.name, "mistral-7b");
    assert_int_equal(RUN(&o, &err, "--step", "layer"), -1);
    assert_string_equal(err.msg, "--step: expected attention or model, found 'layer'");
    assert_int_equal(RUN(&o, &err, "--hidden", "0"), -1);
    assert_string_equal(err.msg, "--hidden: expected a whole number in 1..65536, found '0'");
    assert_int_equal(RUN(&o, &err, "--mlp", "x"), -1);
    expect_message(&err, "--mlp: expected a whole number in 1..262144");
    assert_int_equal(RUN(&o, &err, "--vocab", "2000000"), -1);
    expect_message(&err, "--vocab: expected a whole number in 1..1048576");
    /* without --model, a model step needs the three sizes too */
    assert_int_equal(PLAN(&p, &err, "--step", "model", "--layers", "2", "--q-heads", "4", "--kv-heads", "2",
                          "--head-dim", "64", "--hidden", "256", "--mlp", "512"),
                     0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), -1);
    assert_string_equal(err.msg, "plan: --step model without --model needs --hidden, --mlp and --vocab too");
    assert_int_equal(PLAN(&p, &err, "--step", "model", "--layers", "2", "--q-heads", "4", "--kv-heads", "2",
                          "--head-dim", "64", "--hidden", "256", "--mlp", "512", "--vocab", "1000"),
                     0);
    assert_int_equal(cli_resolve_model("plan", &p.common, &m, &err), 0);
    assert_string_equal(m.name, "custom");
    assert_int_equal(m.vocab, 1000);
    assert_false(zz_model_is_prefix(&m));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_defaults_are_the_help_texts),
        cmocka_unit_test(test_run_lists_and_the_ctx_rule),
        cmocka_unit_test(test_run_kernel_variants),
        cmocka_unit_test(test_run_conflicts_name_both_flags),
        cmocka_unit_test(test_help_and_unknown_flags),
        cmocka_unit_test(test_plan_options),
        cmocka_unit_test(test_model_and_window),
        cmocka_unit_test(test_model_step_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
