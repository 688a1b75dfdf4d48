/* A run folder read back (report_read.h) and `zz-bench summary`:
 *
 * - the round trip: a report written as a run writes it, read back, gives
 *   the same summary.md byte for byte (status, skipped row, notes and the
 *   budget of a configuration without duo or zigzag rows come from the
 *   summary.md being replaced); without that summary.md, what it alone
 *   held is said to be missing;
 * - older run folders (fixtures cut from the H100 results):
 *   tests/fixtures/old-run is results/h100-llama3-8b-default's decode 8K
 *   configuration (results.csv rows, env.json, its summary.md's lines);
 *   tests/fixtures/old-run-skipped is results/h100-llama3-8b-decode-kernels'
 *   decode B=8 S=128K, whose full layout was skipped for memory and which
 *   has no duo or zigzag row. Rebuilt, they mark the host-paced rows, keep
 *   the skipped row and the budget, and say how such a run was measured;
 * - bad folders: one line, exit status 2, summary.md untouched.
 *
 * Numbers pass through results.csv's µs text at full precision, so only a
 * value exactly halfway between two printed digits could print otherwise
 * after the round trip: the synthetic values here keep clear of that. */
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

#include "input.h"
#include "report_read.h"
#include "scratch.h"
#include "variants.h"

/* ---- a report as a run builds it ---- */

static zz_run_info info;

static void set_info(void) {
    zz_error err;
    info = (zz_run_info){.cupti = 1, .cupti_built = 130001, .cupti_runtime = 130001, .warmup = 3,
                         .rule = ZZ_STOP_RULE_DEFAULT, .seed = 7, .command_line = "zz-bench run --out 'a \"b\"'"};
    assert_int_equal(zz_model_preset("llama3-8b", &info.model, &err), 0);
    info.device = (zz_device){.name = "Test GPU \"X\"", .sm_count = 132, .cc_major = 9, .cc_minor = 0,
                              .sm_clock_mhz = 1980, .mem_clock_mhz = 2619, .mem_bus_bits = 5120,
                              .global_mem_bytes = 85017493504LL, .l2_bytes = 50LL << 20,
                              .driver_version = 13000, .runtime_version = 13000};
    info.ceilings = (zz_ceilings){.copy_gbps = 2990.4578565398815, .gemm_tflops = 788.2662744485606,
                                  .copy_bytes = 1 << 30, .gemm_n = 8192};
    /* escapes and UTF-8 through env.json */
    snprintf(info.pattern, sizeof info.pattern, "patterns/\"quoted\"\\tab\there α");
    snprintf(info.git_commit, sizeof info.git_commit, "0123abcd");
    snprintf(info.date, sizeof info.date, "2026-11-30T00:00:00+0000");
}

/* Kernel time of the median step by category, its idle and overlap, µs. */
typedef struct {
    double kernel_us[ZZ_CATEGORIES], idle_us, overlap_us;
} step_parts;

/* A measured row whose plan is the configuration's (duo's or zigzag's
 * budget for those layouts); with parts, its attribution pass too, whose
 * enqueue is attributed_share of its latency. */
static void add_measured(zz_report *r, int config, zz_layout layout, zz_mode mode, double median_us,
                         double enqueue_us, const step_parts *p, double gap_us, double attributed_share) {
    const zz_report_config *c = &r->configs[config];
    const int duo = zz_layout_mixed(layout);
    const zz_cost cost = duo                           ? c->duo
                         : layout == ZZ_LAYOUT_ZIGZAG ? c->zigzag
                                                      : zz_cost_of(&info.model, &c->workload, 0);
    zz_report_row row = {.config = config, .layout = layout, .mode = mode, .retrieval_heads = cost.retrieval_heads,
                         .mixed_layers = duo ? c->duo_mixed_layers : 0, .launches = 96, .kv_bytes = cost.kv_bytes,
                         .flops = cost.flops, .verify_error = NAN};
    const double s = median_us * 1e-6;
    zz_measurement m = {.latency = {.n = 480, .median = s, .min = 0.98 * s, .max = 1.07 * s, .mean = s,
                                    .stdev = 0.01 * s, .rel_stdev = 0.01, .noise = 0.004, .rel_spread = 0.09},
                        .host_enqueue = {.n = 480, .median = enqueue_us * 1e-6},
                        .verdict = ZZ_STOP_CONVERGED};
    if (p) {
        zz_step_time *st = &m.timeline.median_step;
        for (int k = 0; k < ZZ_CATEGORIES; k++) {
            st->kernel_ns[k] = p->kernel_us[k] * 1e3;
            st->kernel_total_ns += st->kernel_ns[k];
        }
        st->idle_ns = p->idle_us * 1e3;
        st->overlap_ns = p->overlap_us * 1e3;
        st->busy_ns = st->kernel_total_ns - st->overlap_ns;
        st->span_ns = st->busy_ns + st->idle_ns;
        m.have_kernels = 1;
        m.timeline.steps = 10;
        m.timeline.latency.median = st->span_ns + 7e3;
        m.attributed_enqueue.median = attributed_share * m.timeline.latency.median * 1e-9;
        m.timeline.gap = (zz_stats){.n = isnan(gap_us) ? 0 : 950, .median = gap_us * 1e3};
        m.dropped_records = 3;
    }
    assert_true(zz_report_add(r, &row, &m) >= 0);
}

static const step_parts zigzag_parts = {{600.2, 100.1, 0, 20.3, 10.4, 0}, 70.2, 0.3};
static const step_parts duo_cat_parts = {{640.6, 130.2, 60.1, 35.3, 15.2, 0}, 120.4, 4.1};
static const step_parts duo_slices_parts = {{620.3, 110.4, 0, 35.1, 12.2, 0}, 56.3, 0};
static const step_parts streaming_parts = {{0, 1210.3, 0, 30.2, 0, 0}, 40.1, 0};

/* Configuration 0, decode 32K: zigzag, duo-cat, duo-slices eager with
 * CUPTI (duo-slices host-paced, zigzag's attributed steps), zigzag and
 * duo-cat graph without; sampled
 * in two groups. Configuration 1, prefill 8K in 4K chunks at an uneven
 * budget (its note): full skipped, then streaming; no duo or zigzag row.
 * Configuration 2: configuration 0 on the one-launch decode kernel, zigzag
 * and duo-cat graph. */
static void build(zz_report *r) {
    set_info();
    zz_report_init(r, &info);
    zz_report_config c0 = {.workload = {ZZ_DECODE, 1, 32768, 0, 128, 256}, .sparsity = 0.5, .duo_mixed_layers = 31,
                           .groups = 2};
    c0.duo = c0.zigzag = zz_cost_of(&info.model, &c0.workload, 128);
    zz_report_config c1 = {.workload = {ZZ_PREFILL, 1, 8192, 4096, 128, 256}, .sparsity = 0.45,
                           .duo_mixed_layers = 30, .groups = 1};
    c1.duo = zz_cost_of(&info.model, &c1.workload, 141);
    c1.zigzag = zz_cost_of(&info.model, &c1.workload, 144);
    snprintf(c1.note, sizeof c1.note, "8 kv heads per layer do not divide the 141 retrieval heads: zigzag takes 18 "
                                      "retrieval layers (nearest, 144 heads)");
    zz_report_config c2 = c0;
    c2.workload.kernel = ZZ_DECODE_ONE_LAUNCH;
    c2.groups = 1;
    assert_int_equal(zz_report_add_config(r, &c0), 0);
    assert_int_equal(zz_report_add_config(r, &c1), 1);
    assert_int_equal(zz_report_add_config(r, &c2), 2);
    add_measured(r, 0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_EAGER, 812.4, 81.2, &zigzag_parts, 0.6, 0.97);
    add_measured(r, 0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_EAGER, 1003.7, 150.3, &duo_cat_parts, 0.4, 0.2);
    add_measured(r, 0, ZZ_LAYOUT_DUO_SLICES, ZZ_MODE_EAGER, 840.2, 0.96 * 840.2, &duo_slices_parts, 0.3, 0.98);
    add_measured(r, 0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 700.3, 2.1, NULL, NAN, NAN);
    add_measured(r, 0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, 760.6, 2.2, NULL, NAN, NAN);
    zz_report_row skipped = {.config = 1, .layout = ZZ_LAYOUT_FULL, .mode = ZZ_MODE_EAGER,
                             .skipped = "needs 90.0 GiB, 70.0 GiB free", .verify_error = NAN};
    zz_report_add_skipped(r, &skipped);
    add_measured(r, 1, ZZ_LAYOUT_STREAMING, ZZ_MODE_EAGER, 1302.1, 140.4, &streaming_parts, NAN, 0.1);
    add_measured(r, 2, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 650.4, 2.1, NULL, NAN, NAN);
    add_measured(r, 2, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, 671.8, 2.2, NULL, NAN, NAN);
    snprintf(r->status, sizeof r->status, "complete: 8 of 9 measurements done, 1 skipped (device memory)");
}

/* The report's files in dir, as a run leaves them. */
static void write_run(const zz_report *r, const char *dir) {
    zz_error err = {""};
    if (zz_report_write(r, dir, &err) || zz_report_write_env(r->info, in(dir, "env.json"), &err))
        fail_msg("%s", err.msg);
}

static void expect_not_in(const char *text, const char *needle) {
    if (strstr(text, needle)) fail_msg("has '%s' in:\n%s", needle, text);
}

/* ---- the round trip ---- */

static void test_a_run_folder_rebuilds_its_summary_byte_for_byte(void **state) {
    const char *dir = *state;
    zz_report written, read;
    build(&written);
    write_run(&written, dir);
    char *before = read_file(in(dir, "summary.md"), NULL);
    assert_non_null(before);
    static zz_run_info read_info;
    zz_error err = {""};
    if (zz_report_read(dir, &read_info, &read, &err)) fail_msg("%s", err.msg);
    assert_int_equal(read.n_configs, 3);
    assert_int_equal(read.n_rows, 9);
    /* the same keys on another kernel variant are another configuration */
    assert_int_equal(read.configs[0].workload.kernel, ZZ_DECODE_SPLIT_COMBINE);
    assert_int_equal(read.configs[2].workload.kernel, ZZ_DECODE_ONE_LAUNCH);
    assert_int_equal(read.rows[8].config, 2);
    char *rebuilt = zz_report_summary(&read);
    expect_in(rebuilt, "\n### decode B=1 S=32K sparsity 0.5 kernel one-launch, graph\n");
    expect_in(rebuilt, "| decode B=1 S=32K sparsity 0.5 kernel one-launch | graph | duo-cat | 650.4 | +21.4 |");
    assert_string_equal(rebuilt, before);
    /* what the summary needs came back too, not only its text */
    assert_string_equal(read_info.pattern, info.pattern);
    assert_string_equal(read_info.device.name, info.device.name);
    assert_true(read_info.ceilings.copy_gbps == info.ceilings.copy_gbps);
    assert_int_equal(read.configs[0].groups, 2);
    assert_true(zz_report_row_parts_host_paced(&read.rows[0]));
    expect_in(rebuilt, "| zigzag | 812.4 | 9.0 % | 480 | converged, parts host-paced† | 10 % |");
    assert_int_equal(read.rows[5].layout, ZZ_LAYOUT_FULL);
    assert_string_equal(read.rows[5].skipped, "needs 90.0 GiB, 70.0 GiB free");
    assert_true(isnan(read.rows[6].gap_median_ns));
    assert_true(read.rows[0].gap_median_ns == 600);
    assert_int_equal(read.rows[0].dropped_records, 3);
    assert_true(read.configs[1].duo.kv_bytes == written.configs[1].duo.kv_bytes);
    /* the command rewrites the file whole, and as it was */
    if (zz_report_rewrite_summary(dir, &err)) fail_msg("%s", err.msg);
    char *after = read_file(in(dir, "summary.md"), NULL);
    assert_string_equal(after, before);
    assert_int_not_equal(access(in(dir, "summary.md.tmp"), F_OK), 0);
    free(before), free(rebuilt), free(after);
    zz_report_free(&written), zz_report_free(&read);
}

/* A model step's run (issue 17) of the first 2 of llama3-70b's 80 layers:
 * the step, the model's sizes, the weights counted and measured, each row's
 * memory and GEMM FLOPs, and a skipped layout's line come back, and the
 * summary with them, byte for byte. */
static void test_a_model_step_run_rebuilds_its_summary_byte_for_byte(void **state) {
    const char *dir = *state;
    zz_report written, read;
    set_info();
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama3-70b", &info.model, &err), 0);
    info.model.layers = 2;
    info.step = ZZ_STEP_MODEL;
    info.cupti = 0;
    snprintf(info.cupti_note, sizeof info.cupti_note, "not for a model step");
    info.weights_bytes = zz_model_weight_bytes(&info.model);
    info.weights_measured = info.weights_bytes + 6291456;
    zz_report_init(&written, &info);
    zz_report_config c0 = {.workload = {ZZ_DECODE, 1, 1048576, 0, 128, 256, 0, ZZ_STEP_MODEL}, .sparsity = 0.5,
                           .duo_mixed_layers = 2, .groups = 1};
    c0.duo = c0.zigzag = zz_cost_of(&info.model, &c0.workload, 8);
    assert_int_equal(zz_report_add_config(&written, &c0), 0);
    add_measured(&written, 0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, 9812.4, 30.2, NULL, NAN, NAN);
    add_measured(&written, 0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, 9903.7, 31.3, NULL, NAN, NAN);
    for (int i = 0; i < 2; i++) {
        written.rows[i].linear_flops = 2.5e9 + i;
        written.rows[i].memory = (zz_memory){info.weights_bytes, 4294967296.0 + i, 1179648, 35651584};
        written.rows[i].measured_bytes = info.weights_measured + 4404019200.0 + 2097152 * i;
    }
    zz_report_row skipped = {.config = 0, .layout = ZZ_LAYOUT_FULL, .mode = ZZ_MODE_GRAPH,
                             .skipped = "needs 45.7 GiB (weights 4.1, KV cache 40.0, activations 0.0, workspaces 0.0, "
                                        "headroom 0.25); 40.5 GiB free of the card's 79.2 GiB, the run's weights "
                                        "included",
                             .verify_error = NAN};
    zz_report_add_skipped(&written, &skipped);
    snprintf(written.status, sizeof written.status, "complete: 2 of 3 measurements done, 1 skipped (device memory)");
    write_run(&written, dir);
    char *before = read_file(in(dir, "summary.md"), NULL);
    assert_non_null(before);
    expect_in(before, "| model | llama3-70b: first 2 of 80 layers, 64 query heads, 8 KV heads, head dim 128; hidden "
                      "8192, MLP 28672, vocabulary 128256 |");
    expect_in(before, "| step | model: per layer RMSNorm, QKV GEMM, rotary");
    expect_in(before, "| weights | random (seed 7), shared by every layout: ");
    expect_in(before, "\n## Device memory\n");
    expect_in(before, "| decode B=1 S=1M sparsity 0.5 | duo-cat | 7.10 | 4.00 | 0.00 | 0.03 | 11.14 | 11.21 |");
    expect_in(before, "| full | skipped: needs 45.7 GiB (weights 4.1, KV cache 40.0,");
    static zz_run_info read_info;
    if (zz_report_read(dir, &read_info, &read, &err)) fail_msg("%s", err.msg);
    assert_int_equal(read_info.step, ZZ_STEP_MODEL);
    assert_int_equal(read_info.model.layers, 2);
    assert_int_equal(zz_model_total_layers(&read_info.model), 80);
    assert_int_equal(read_info.model.vocab, 128256);
    assert_true(read_info.weights_measured == info.weights_measured);
    assert_int_equal(read.configs[0].workload.step, ZZ_STEP_MODEL);
    assert_true(read.rows[1].linear_flops == 2.5e9 + 1);
    assert_true(read.rows[1].memory.kv_cache == 4294967297.0);
    assert_true(read.rows[1].measured_bytes == written.rows[1].measured_bytes);
    char *rebuilt = zz_report_summary(&read);
    assert_string_equal(rebuilt, before);
    free(before), free(rebuilt);
    zz_report_free(&written), zz_report_free(&read);
    set_info();
}

/* Without the summary.md it replaces, what only that file held is said to
 * be missing: the skipped row, and the budget of configuration 1. */
static void test_without_a_summary_the_rebuilt_one_says_what_it_lacks(void **state) {
    const char *dir = *state;
    zz_report written;
    build(&written);
    write_run(&written, dir);
    zz_report_free(&written);
    assert_int_equal(unlink(in(dir, "summary.md")), 0);
    zz_error err = {""};
    if (zz_report_rewrite_summary(dir, &err)) fail_msg("%s", err.msg);
    char *s = read_file(in(dir, "summary.md"), NULL);
    assert_non_null(s);
    expect_in(s, "| status | rebuilt without the summary.md it replaces: measurements skipped for device memory, if "
                 "any, are not listed |");
    expect_not_in(s, "skipped: needs");
    expect_in(s, "| decode B=1 S=32K sparsity 0.5 | 128 / 128 | 31 | 2.02 GiB / 2.02 GiB |");
    expect_not_in(s, "| prefill B=1 S=8K C=4K sparsity 0.45 | 1");
    expect_in(s, "Note, prefill B=1 S=8K C=4K sparsity 0.45: its budget is not known: results.csv has no duo or "
                 "zigzag row of it, and no summary.md beside it lists it.");
    expect_not_in(s, "sampled in 2 groups");
    expect_not_in(s, "Rebuilt by");  /* this version's results.csv: nothing else to say */
    free(s);
}

/* ---- older run folders ---- */

static void copy_fixture(const char *fixture, const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp tests/fixtures/%s/results.csv tests/fixtures/%s/env.json "
                              "tests/fixtures/%s/summary.md '%s'", fixture, fixture, fixture, dir);
    assert_int_equal(system(cmd), 0);
}

/* The table line of a layout under "### HEADING". */
static const char *table_line(const char *summary, const char *heading, const char *layout) {
    const char *table = strstr(summary, heading), *end;
    char row[64];
    if (!table) fail_msg("no table %s", heading);
    snprintf(row, sizeof row, "\n| %s | ", layout);
    const char *line = strstr(table, row);
    end = strstr(table + 1, "\n#");
    if (!line || (end && line > end)) fail_msg("no row %s under %s", layout, heading);
    return line + 1;
}

static void test_an_old_run_gets_the_host_paced_marks(void **state) {
    const char *dir = *state;
    copy_fixture("old-run", dir);
    zz_error err = {""};
    if (zz_report_rewrite_summary(dir, &err)) fail_msg("%s", err.msg);
    char *s = read_file(in(dir, "summary.md"), NULL);
    expect_in(s, "| status | complete: 50 of 50 measurements done, 0 skipped (device memory) |\n\n"
                 "Rebuilt by `zz-bench summary` from the results.csv of an older version, which sampled the layouts "
                 "of a configuration one after another, not interleaved. Its decomposition is the old residue-based "
                 "one: kernel times from a separate attribution pass, scaled down by kernel_scale where they "
                 "outlasted the clean median (5 of 10 rows here)");
    expect_in(s, "| decode B=1 S=8K sparsity 0.5 | 128 / 128 | 31 | 536.00 MiB / 536.00 MiB | "
                 "2.25 GFLOP / 2.25 GFLOP |");
    expect_in(s, "| full | 819.5 | 16.4 % | 610 | converged");
    expect_in(s, "| streaming | 419.4 | 979.3 % | 22183 | timeout, **host-paced** | 99 % | 419.4 | +0.0 % | 0.0 | "
                 "142.8 | 0.0 | 54.5 | 86.1 | 0.0 | 136.4 | 0.4 | — |");
    /* every row marked exactly when its host share reaches the threshold */
    size_t len;
    char *text = zz_read_file("tests/fixtures/old-run/results.csv", &len);
    zz_csv_table t;
    assert_int_equal(zz_csv_parse("results.csv", text, len, &t, &err), 0);
    int marked = 0, unmarked = 0;
    for (int r = 1; r < t.rows; r++) {
        const double share = strtod(zz_csv_cell(&t, r, zz_csv_column(&t, "host_enqueue_us")), NULL) /
                             strtod(zz_csv_cell(&t, r, zz_csv_column(&t, "median_us")), NULL);
        char heading[64];
        snprintf(heading, sizeof heading, "### decode B=1 S=8K sparsity 0.5, %s",
                 zz_csv_cell(&t, r, zz_csv_column(&t, "mode")));
        const char *line = table_line(s, heading, zz_csv_cell(&t, r, zz_csv_column(&t, "layout")));
        const char *mark = strstr(line, "**host-paced**"), *end = strchr(line, '\n');
        const int paced = mark && mark < end;
        assert_int_equal(paced, share >= ZZ_HOST_PACED_FRACTION);
        marked += paced, unmarked += !paced;
    }
    assert_true(marked > 0 && unmarked > 0);
    /* span = clean median exactly, not within the file's rounding */
    expect_not_in(s, "-0.0 ");
    /* the split overhead of the same median steps: Δ outside is 0 by construction */
    expect_in(s, "| decode B=1 S=8K sparsity 0.5 | graph | duo-cat | 491.6 | +345.8 | +70.3 % | +345.8 |");
    zz_csv_table_free(&t);
    free(text);
    free(s);
}

static void test_an_old_run_keeps_its_skipped_row_and_budget(void **state) {
    const char *dir = *state;
    copy_fixture("old-run-skipped", dir);
    zz_error err = {""};
    if (zz_report_rewrite_summary(dir, &err)) fail_msg("%s", err.msg);
    char *s = read_file(in(dir, "summary.md"), NULL);
    expect_in(s, "| status | complete: 11 of 12 measurements done, 1 skipped (device memory) |");
    /* from the old summary's retrieval heads and mixed layers; bytes and FLOPs recomputed alike */
    expect_in(s, "| decode B=8 S=128K sparsity 0.5 | 128 / 128 | 31 | 64.19 GiB / 64.19 GiB | "
                 "275.69 GFLOP / 275.69 GFLOP |");
    expect_in(s, "--:|\n| full | skipped: needs 128.3 GiB, 78.7 GiB free |");
    expect_in(s, "\n| streaming | 367.3 | 19.1 % | 1358 | converged | 1 % |");
    free(s);
}

/* ---- bad folders ---- */

/* `zz-bench summary dir`: its exit status; stdout and stderr in out and err. */
static int zz_bench_summary(const char *scratch, const char *dir, char **out, char **err) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bin/zz-bench summary '%s' >'%s/out' 2>'%s/err'", dir, scratch, scratch);
    const int status = system(cmd);
    *out = read_file(in(scratch, "out"), NULL);
    *err = read_file(in(scratch, "err"), NULL);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Replaces field `column` of results.csv's first row (the synthetic rows quote nothing). */
static char *with_field(const char *csv, const char *column, const char *value) {
    const char *header_end = strchr(csv, '\n'), *row = header_end + 1;
    int index = 0;
    for (const char *p = csv; p < header_end && strncmp(p, column, strlen(column)); p++) index += *p == ',';
    const char *start = row;
    for (int k = 0; k < index; k++) start = strchr(start, ',') + 1;
    const char *end = start + strcspn(start, ",\n");
    char *out = malloc(strlen(csv) + strlen(value) + 1);
    sprintf(out, "%.*s%s%s", (int)(start - csv), csv, value, end);
    return out;
}

/* text with the first `old` replaced by `new` (free() it). */
static char *replaced(const char *text, const char *old, const char *new) {
    const char *at = strstr(text, old);
    assert_non_null(at);
    char *out = malloc(strlen(text) + strlen(new) + 1);
    sprintf(out, "%.*s%s%s", (int)(at - text), text, new, at + strlen(old));
    return out;
}

static void write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_bad_folders_one_line_exit_2_summary_untouched(void **state) {
    const char *scratch = *state;
    zz_report r;
    build(&r);
    char *good_csv = NULL, *good_env = NULL;
    size_t csv_len, env_len;
    struct {
        const char *file, *change, *message;
    } cases[] = {
        {"results.csv", "missing", "results.csv: cannot read: No such file or directory"},
        {"env.json", "missing", "env.json: cannot read: No such file or directory"},
        {"results.csv", "header only", "results.csv: a header and no rows"},
        {"results.csv", "torn", "results.csv line 9: the last row has no line end: a torn file"},
        {"results.csv", "median abc", "results.csv line 2: median_us: expected a number, found 'abc'"},
        {"results.csv", "median 0", "results.csv line 2: median_us: expected a positive step latency in µs"},
        {"results.csv", "no verdict column", "results.csv: no column verdict"},
        {"env.json", "torn", "env.json line 5: a string never closes"},
        {"results.csv", "decode kernel bogus",
         "results.csv line 2: decode_kernel: expected a decode kernel variant (split-combine, ...), found 'bogus'"},
        {"env.json", "trailing comma", "env.json line 60: expected a key in quotes"},
        {"env.json", "sm_count many", "env.json line 8: gpu.sm_count: expected a whole number from 0 to"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[128], *out, *err;
        snprintf(dir, sizeof dir, "%s/run%zu", scratch, i);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_run(&r, dir);
        if (!good_csv) {
            good_csv = zz_read_file(in(dir, "results.csv"), &csv_len);
            good_env = zz_read_file(in(dir, "env.json"), &env_len);
        }
        const char *path = in(dir, cases[i].file), *change = cases[i].change;
        char *bad = NULL;
        if (!strcmp(change, "missing")) assert_int_equal(unlink(path), 0);
        else if (!strcmp(change, "header only")) write_text(path, good_csv, strcspn(good_csv, "\n") + 1);
        else if (!strcmp(change, "torn") && cases[i].file[0] == 'r') write_text(path, good_csv, csv_len - 20);
        else if (!strcmp(change, "torn")) write_text(path, good_env, 100);
        else if (!strcmp(change, "median abc")) bad = with_field(good_csv, "median_us", "abc");
        else if (!strcmp(change, "median 0")) bad = with_field(good_csv, "median_us", "0");
        else if (!strcmp(change, "no verdict column")) bad = replaced(good_csv, ",verdict,", ",verdikt,");
        else if (!strcmp(change, "decode kernel bogus")) bad = with_field(good_csv, "decode_kernel", "bogus");
        else if (!strcmp(change, "trailing comma")) {
            bad = malloc(env_len + 2);
            snprintf(bad, env_len + 2, "%.*s,\n}\n", (int)(strrchr(good_env, '}') - good_env - 1), good_env);
        } else {
            bad = replaced(good_env, "\"sm_count\": 132", "\"sm_count\": \"many\"");
        }
        if (bad) write_text(path, bad, strlen(bad));
        free(bad);
        char *before = read_file(in(dir, "summary.md"), NULL);
        const int status = zz_bench_summary(scratch, dir, &out, &err);
        char *after = read_file(in(dir, "summary.md"), NULL);
        if (status != 2 || !strstr(err, cases[i].message) || strncmp(err, "zz-bench: ", 10) ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("%s %s: status %d, stderr '%s', wanted '%s'", cases[i].file, change, status, err,
                     cases[i].message);
        assert_string_equal(out, "");
        assert_string_equal(after, before);
        assert_int_not_equal(access(in(dir, "summary.md.tmp"), F_OK), 0);
        free(out), free(err), free(before), free(after);
    }
    free(good_csv), free(good_env);
    zz_report_free(&r);
}

static void test_cli_usage_and_a_good_folder(void **state) {
    const char *scratch = *state;
    char *out, *err;
    assert_int_equal(zz_bench_summary(scratch, "/nonexistent-zz-run", &out, &err), 2);
    assert_string_equal(err, "zz-bench: /nonexistent-zz-run/env.json: cannot read: No such file or directory\n");
    free(out), free(err);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "bin/zz-bench summary >'%s/out' 2>'%s/err'", scratch, scratch);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    err = read_file(in(scratch, "err"), NULL);
    assert_string_equal(err, "zz-bench: summary: expected one run folder (usage: zz-bench summary RUN_DIR)\n");
    free(err);
    /* a good folder: nothing printed, summary.md rebuilt */
    zz_report r;
    build(&r);
    write_run(&r, scratch);
    zz_report_free(&r);
    char *before = read_file(in(scratch, "summary.md"), NULL);
    assert_int_equal(unlink(in(scratch, "summary.md")), 0);
    assert_int_equal(zz_bench_summary(scratch, scratch, &out, &err), 0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    char *after = read_file(in(scratch, "summary.md"), NULL);
    assert_non_null(after);
    assert_string_not_equal(after, before);  /* rebuilt without the old one's status */
    free(out), free(err), free(before), free(after);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_run_folder_rebuilds_its_summary_byte_for_byte, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_model_step_run_rebuilds_its_summary_byte_for_byte, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_without_a_summary_the_rebuilt_one_says_what_it_lacks, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_an_old_run_gets_the_host_paced_marks, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_an_old_run_keeps_its_skipped_row_and_budget, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_bad_folders_one_line_exit_2_summary_untouched, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_cli_usage_and_a_good_folder, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
