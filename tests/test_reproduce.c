/* Reproduction of DuoAttention's efficiency figures (issue 17, item 6):
 * summary.md's table of DuoAttention's points from a synthetic model-step
 * report (a skipped full row, a row of few samples, a configuration that is
 * no point), and `zz-bench merge` / `zz-bench reproduction` on run folders
 * written as pieces: concatenated CSVs, env.json's pieces, the skipped row
 * kept, the merged summary rebuilt byte for byte by `zz-bench summary`, a
 * header that differs refused with one line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_read.h"
#include "reproduce.h"
#include "scratch.h"

static zz_run_info info;

static void set_info(void) {
    zz_error err;
    info = (zz_run_info){.cupti = 0, .cupti_built = 130001, .cupti_runtime = 130001, .warmup = 3,
                         .rule = ZZ_STOP_RULE_DEFAULT, .seed = 1, .step = ZZ_STEP_MODEL,
                         .command_line = "zz-bench run --step model"};
    assert_int_equal(zz_model_preset("llama3-8b", &info.model, &err), 0);
    info.device = (zz_device){.name = "Test H200", .sm_count = 132, .cc_major = 9, .cc_minor = 0,
                              .sm_clock_mhz = 1980, .mem_clock_mhz = 3201, .mem_bus_bits = 6144,
                              .global_mem_bytes = 150754820096LL, .l2_bytes = 60LL << 20,
                              .driver_version = 13000, .runtime_version = 13000};
    info.ceilings = (zz_ceilings){.copy_gbps = 3900.5, .gemm_tflops = 790.25, .copy_bytes = 1 << 30, .gemm_n = 8192};
    snprintf(info.cupti_note, sizeof info.cupti_note, "not for a model step");
    snprintf(info.pattern, sizeof info.pattern, "synthetic random:1");
    info.weights_bytes = zz_model_weight_bytes(&info.model);
    info.weights_measured = info.weights_bytes;
}

static int add_config(zz_report *r, zz_phase phase, long long ctx, long long chunk) {
    zz_report_config c = {.workload = {phase, 1, ctx, chunk, 128, 256, 0, ZZ_STEP_MODEL}, .sparsity = 0.5,
                          .duo_mixed_layers = 32, .groups = 1};
    c.duo = c.zigzag = zz_cost_of(&info.model, &c.workload, 128);
    const int i = zz_report_add_config(r, &c);
    assert_true(i >= 0);
    return i;
}

static void add_row(zz_report *r, int config, zz_layout layout, zz_mode mode, double ms, size_t samples) {
    const zz_report_config *c = &r->configs[config];
    const zz_cost cost = zz_layout_mixed(layout) ? c->duo : layout == ZZ_LAYOUT_ZIGZAG ? c->zigzag
                                                                                       : zz_cost_of(&info.model, &c->workload, 0);
    zz_report_row row = {.config = config, .layout = layout, .mode = mode, .retrieval_heads = cost.retrieval_heads,
                         .mixed_layers = zz_layout_mixed(layout) ? 32 : 0, .launches = 300, .kv_bytes = cost.kv_bytes,
                         .flops = cost.flops, .linear_flops = 1e12, .measured_bytes = NAN, .verify_error = NAN};
    const double s = ms * 1e-3;
    zz_measurement m = {.latency = {.n = samples, .median = s, .min = 0.99 * s, .max = 1.02 * s, .mean = s,
                                    .stdev = 0.005 * s, .rel_stdev = 0.005, .noise = 0.004, .rel_spread = 0.03},
                        .host_enqueue = {.n = samples, .median = 0.25 * s},
                        .verdict = samples < 10 ? ZZ_STOP_TIMEOUT : ZZ_STOP_CONVERGED};
    assert_true(zz_report_add(r, &row, &m) >= 0);
}

static void add_skipped(zz_report *r, int config, zz_layout layout, zz_mode mode) {
    zz_report_row row = {.config = config, .layout = layout, .mode = mode, .measured_bytes = NAN, .verify_error = NAN};
    snprintf(row.skipped, sizeof row.skipped, "needs 143.2 GiB, 139.0 GiB free");
    zz_report_add_skipped(r, &row);
}

/* Piece A: decode 100K (the four layouts, eager and graph) and decode 8K
 * (no point). Piece B: decode 1M (full skipped), prefill 320K chunk 32K
 * (zigzag 3 samples), graph only. */
static void piece_a(zz_report *r) {
    zz_report_init(r, &info);
    const int c = add_config(r, ZZ_DECODE, 100 * 1024, 0), other = add_config(r, ZZ_DECODE, 8192, 0);
    const zz_layout layouts[] = {ZZ_LAYOUT_FULL, ZZ_LAYOUT_DUO_CAT, ZZ_LAYOUT_DUO_FUSED, ZZ_LAYOUT_ZIGZAG};
    const double eager[] = {14.5, 13.25, 13.0, 12.75}, graph[] = {14.0, 12.5, 12.25, 12.0};
    for (int l = 0; l < 4; l++) add_row(r, c, layouts[l], ZZ_MODE_EAGER, eager[l], 200);
    for (int l = 0; l < 4; l++) add_row(r, c, layouts[l], ZZ_MODE_GRAPH, graph[l], 200);
    add_row(r, other, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 8.5, 300);
    snprintf(r->status, sizeof r->status, "complete: 9 of 9 measurements done, 0 skipped (device memory)");
}

static void piece_b(zz_report *r) {
    zz_report_init(r, &info);
    const int c = add_config(r, ZZ_DECODE, 1048576, 0), p = add_config(r, ZZ_PREFILL, 320 * 1024, 32768);
    add_skipped(r, c, ZZ_LAYOUT_FULL, ZZ_MODE_GRAPH);
    add_row(r, c, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, 40.0, 100);
    add_row(r, c, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 38.0, 100);
    add_row(r, p, ZZ_LAYOUT_FULL, ZZ_MODE_GRAPH, 30000.0, 2);
    add_row(r, p, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, 16000.0, 4);
    add_row(r, p, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 15000.0, 3);
    snprintf(r->status, sizeof r->status, "complete: 5 of 6 measurements done, 1 skipped (device memory)");
}

static void expect_not_in(const char *text, const char *needle) {
    if (strstr(text, needle)) fail_msg("has '%s' in:\n%s", needle, text);
}

static void test_points_are_recognised(void **state) {
    (void)state;
    set_info();
    zz_report_config c = {.workload = {ZZ_DECODE, 1, 1000000, 0, 128, 256, 0, ZZ_STEP_MODEL}, .sparsity = 0.5};
    assert_int_equal(zz_duo_point_of(&info, &c), 5);
    c.workload.ctx = 500 * 1024;
    assert_int_equal(zz_duo_point_of(&info, &c), 4);
    c.workload.batch = 2;
    assert_int_equal(zz_duo_point_of(&info, &c), -1);
    c.workload.batch = 1;
    c.sparsity = 0.75;  /* Llama-2-7B's sparsity, not Llama-3-8B's */
    assert_int_equal(zz_duo_point_of(&info, &c), -1);
    c.sparsity = 0.5;
    c.workload.step = ZZ_STEP_ATTENTION;
    assert_int_equal(zz_duo_point_of(&info, &c), -1);
    c = (zz_report_config){.workload = {ZZ_PREFILL, 1, 327680, 32768, 128, 256, 0, ZZ_STEP_MODEL}, .sparsity = 0.5};
    assert_int_equal(zz_duo_point_of(&info, &c), 8);
    c.workload.chunk = 0;  /* single shot: not DuoAttention's chunked prefill */
    assert_int_equal(zz_duo_point_of(&info, &c), -1);
    zz_run_info l2 = info;
    zz_error err;
    assert_int_equal(zz_model_preset("llama2-7b", &l2.model, &err), 0);
    c = (zz_report_config){.workload = {ZZ_DECODE, 1, 200 * 1024, 0, 128, 256, 0, ZZ_STEP_MODEL}, .sparsity = 0.75};
    assert_int_equal(zz_duo_point_of(&l2, &c), 2);
    l2.model.layers = 4;  /* the first 4 layers only: not the paper's step */
    assert_int_equal(zz_duo_point_of(&l2, &c), -1);
}

static void test_summary_gains_the_table(void **state) {
    (void)state;
    set_info();
    zz_report a, b;
    piece_a(&a);
    piece_b(&b);
    zz_error err = {""};
    int shared = 0;
    if (zz_report_merge(&a, &b, &shared, &err)) fail_msg("%s", err.msg);
    assert_int_equal(shared, 0);
    assert_int_equal(a.n_configs, 4);
    char *s = zz_report_summary(&a);
    expect_in(s, "\n## Reproduction of DuoAttention's efficiency figures\n");
    expect_in(s, "on Test H200, median step latency in ms");
    expect_in(s, "**Synthetic pattern**");
    expect_in(s, "| llama3-8b decode B=1 S=100K sparsity 0.5 (synthetic pattern) | eager | 23 → 21 | 1.10× | 14.50 | "
                 "13.25 | 13.00 | 12.75 | 1.09× | -0.50 (-3.8 %) | -0.25 (-1.9 %) | 200 / 200 / 200 / 200 |\n");
    expect_in(s, "| llama3-8b decode B=1 S=100K sparsity 0.5 (synthetic pattern) | graph | 23 → 21 | 1.10× | 14.00 | "
                 "12.50 | 12.25 | 12.00 | 1.12× | -0.50 (-4.0 %) | -0.25 (-2.0 %) |");
    expect_in(s, "| llama3-8b decode B=1 S=1M sparsity 0.5 (synthetic pattern) | graph | out of memory → 55 | — | "
                 "skipped: needs 143.2 GiB, 139.0 GiB free | 40.00 | — | 38.00 | — | -2.00 (-5.0 %) | — | "
                 "— / 100 / — / 100 |\n");
    expect_in(s, "| llama3-8b prefill B=1 S=320K C=32K sparsity 0.5 (synthetic pattern) | graph | — | 1.63× | "
                 "30000.00 | 16000.00 | — | 15000.00 | 1.88× | -1000.00 (-6.2 %) | — | 2‡ / 4‡ / — / 3‡ |\n");
    expect_in(s, "‡: fewer than 10 samples");
    expect_not_in(s, "S=8K sparsity 0.5 (synthetic");  /* not a point */
    /* points in the paper's order: 100K before 1M before the prefill */
    assert_true(strstr(s, "S=100K sparsity 0.5 (synthetic") < strstr(s, "S=1M sparsity 0.5 (synthetic"));
    free(s);
    /* a run of no point has no such section */
    zz_report none;
    zz_report_init(&none, &info);
    add_row(&none, add_config(&none, ZZ_DECODE, 8192, 0), ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 8.5, 300);
    s = zz_report_summary(&none);
    expect_not_in(s, "Reproduction of DuoAttention");
    free(s);
    /* the same layout and mode from two pieces is refused */
    zz_report b2;
    piece_b(&b2);
    assert_int_equal(zz_report_merge(&a, &b2, &shared, &err), -1);
    assert_string_equal(err.msg, "decode B=1 S=1M sparsity 0.5 full graph: in two pieces");
    zz_report_free(&a), zz_report_free(&b), zz_report_free(&b2), zz_report_free(&none);
}

static void write_run(const zz_report *r, const char *dir) {
    zz_error err = {""};
    mkdir(dir, 0777);
    if (zz_report_write(r, dir, &err) || zz_report_write_env(r->info, in(dir, "env.json"), &err))
        fail_msg("%s", err.msg);
}

static int sh(const char *scratch, const char *command) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s >'%s/stdout.txt' 2>'%s/stderr.txt'", command, scratch, scratch);
    const int status = system(cmd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

static void test_merge_and_reproduction(void **state) {
    const char *dir = *state;
    set_info();
    char a_dir[256], b_dir[256], out_dir[256], cmd[1024];
    snprintf(a_dir, sizeof a_dir, "%s/a", dir);
    snprintf(b_dir, sizeof b_dir, "%s/b", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    zz_report a, b;
    piece_a(&a);
    piece_b(&b);
    write_run(&a, a_dir);
    write_run(&b, b_dir);
    zz_report_free(&a), zz_report_free(&b);
    snprintf(cmd, sizeof cmd, "bin/zz-bench merge '%s' '%s' '%s'", out_dir, a_dir, b_dir);
    if (sh(dir, cmd)) fail_msg("%s", read_file(in(dir, "stderr.txt"), NULL));
    char *ra = read_file(in(a_dir, "results.csv"), NULL), *rb = read_file(in(b_dir, "results.csv"), NULL);
    char *ro = read_file(in(out_dir, "results.csv"), NULL);
    assert_int_equal(lines(ro), lines(ra) + lines(rb) - 1);
    assert_int_equal(strncmp(ro, ra, strlen(ra)), 0);
    assert_string_equal(ro + strlen(ra), strchr(rb, '\n') + 1);
    char *env = read_file(in(out_dir, "env.json"), NULL);
    char pieces[600];
    snprintf(pieces, sizeof pieces, "\"pieces\": [\"%s\", \"%s\"]\n}\n", a_dir, b_dir);
    expect_in(env, pieces);
    char *summary = read_file(in(out_dir, "summary.md"), NULL);
    expect_in(summary, "| status | merged from 2 pieces (env.json lists them): 14 measurements, 1 skipped (device "
                       "memory) |");
    expect_in(summary, "| full | skipped: needs 143.2 GiB, 139.0 GiB free |");
    expect_in(summary, "| llama3-8b decode B=1 S=1M sparsity 0.5 (synthetic pattern) | graph | out of memory → 55 | — "
                       "| skipped: needs 143.2 GiB");
    /* zz-bench summary rebuilds it as it is */
    snprintf(cmd, sizeof cmd, "bin/zz-bench summary '%s'", out_dir);
    assert_int_equal(sh(dir, cmd), 0);
    char *rebuilt = read_file(in(out_dir, "summary.md"), NULL);
    assert_string_equal(rebuilt, summary);
    /* the table over folders */
    snprintf(cmd, sizeof cmd, "bin/zz-bench reproduction '%s'", out_dir);
    assert_int_equal(sh(dir, cmd), 0);
    char *table = read_file(in(dir, "stdout.txt"), NULL);
    expect_in(table, "## Reproduction of DuoAttention's efficiency figures");
    expect_in(summary, strstr(table, "| point |"));
    /* a piece whose header differs: one line, exit 2 */
    char *changed = strdup(rb);
    memcpy(changed, "MODEL", 5);
    FILE *f = fopen(in(b_dir, "results.csv"), "w");
    fputs(changed, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "bin/zz-bench merge '%s/out2' '%s' '%s'", dir, a_dir, b_dir);
    assert_int_equal(sh(dir, cmd), 2);
    char *err = read_file(in(dir, "stderr.txt"), NULL);
    assert_int_equal(lines(err), 1);
    expect_in(err, "zz-bench: merge: ");
    /* a folder of no point: the reproduction says so */
    free(err);
    zz_report none;
    zz_report_init(&none, &info);
    add_row(&none, add_config(&none, ZZ_DECODE, 8192, 0), ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 8.5, 300);
    write_run(&none, b_dir);
    zz_report_free(&none);
    snprintf(cmd, sizeof cmd, "bin/zz-bench reproduction '%s'", b_dir);
    assert_int_equal(sh(dir, cmd), 2);
    err = read_file(in(dir, "stderr.txt"), NULL);
    assert_string_equal(err, "zz-bench: reproduction: none of the run folders has a row of DuoAttention's points\n");
    free(ra), free(rb), free(ro), free(env), free(summary), free(rebuilt), free(table), free(changed), free(err);
}

/* Pieces of one published pattern reached by two paths merge; pieces of
 * two patterns do not (one line, exit 2). */
static void test_merge_matches_pattern_folders(void **state) {
    const char *dir = *state;
    set_info();
    char a_dir[256], b_dir[256], cmd[1024];
    snprintf(a_dir, sizeof a_dir, "%s/a", dir);
    snprintf(b_dir, sizeof b_dir, "%s/b", dir);
    zz_report a, b;
    snprintf(info.pattern, sizeof info.pattern, ".scratch/patterns/Llama-3-8B-Instruct-Gradient-1048k");
    piece_a(&a);
    write_run(&a, a_dir);
    snprintf(info.pattern, sizeof info.pattern, "/work/x/../patterns/Llama-3-8B-Instruct-Gradient-1048k/");
    piece_b(&b);
    write_run(&b, b_dir);
    zz_report_free(&a), zz_report_free(&b);
    snprintf(cmd, sizeof cmd, "bin/zz-bench merge '%s/out' '%s' '%s'", dir, a_dir, b_dir);
    if (sh(dir, cmd)) fail_msg("%s", read_file(in(dir, "stderr.txt"), NULL));
    snprintf(info.pattern, sizeof info.pattern, "/work/patterns/Llama-2-7B-32K-Instruct");
    piece_b(&b);
    write_run(&b, b_dir);
    zz_report_free(&b);
    snprintf(cmd, sizeof cmd, "bin/zz-bench merge '%s/out2' '%s' '%s'", dir, a_dir, b_dir);
    assert_int_equal(sh(dir, cmd), 2);
    char *err = read_file(in(dir, "stderr.txt"), NULL);
    assert_int_equal(lines(err), 1);
    expect_in(err, "merge each model's pieces apart");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_are_recognised),
        cmocka_unit_test(test_summary_gains_the_table),
        cmocka_unit_test_setup_teardown(test_merge_and_reproduction, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_merge_matches_pattern_folders, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
