/* The run's files from synthetic measurements: the split overhead against
 * zigzag and its decomposition adding up, summary.md's tables, results.csv
 * and kernels.csv read back by an RFC 4180 reader, env.json, and the files
 * written whole into a folder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

/* ---- synthetic measurements ---- */

/* Times in whole µs, as CUPTI's whole ns would give them. */
typedef struct {
    double kernel_us[ZZ_CATEGORIES];
    double idle_us, overlap_us;
    double outside_us;  /* clean median - span */
} step_parts;

#define STEPS 100

static const char *const kernel_names[] = {"_Z19decode_split_kernelv", "void copy<a, b>(int)"};

/* A measurement whose median step has these parts and whose clean median is
 * span + outside; the attributed steps' events read 10 µs more than the
 * span. Without CUPTI only the latency (latency_us) is set. */
static zz_measurement measurement(const step_parts *p, double latency_us, int with_kernels) {
    zz_measurement m = {0};
    zz_step_time st = {0};
    if (with_kernels) {
        for (int c = 0; c < ZZ_CATEGORIES; c++) {
            st.kernel_ns[c] = p->kernel_us[c] * 1e3;
            st.kernel_total_ns += st.kernel_ns[c];
        }
        st.idle_ns = p->idle_us * 1e3;
        st.overlap_ns = p->overlap_us * 1e3;
        st.busy_ns = st.kernel_total_ns - st.overlap_ns;
        st.span_ns = st.busy_ns + st.idle_ns;
        st.outside_ns = 10e3;
        st.latency_ns = st.span_ns + st.outside_ns;
        latency_us = st.span_ns / 1e3 + p->outside_us;
    }
    const double s = latency_us * 1e-6;
    m.latency = (zz_stats){.n = STEPS, .median = s, .min = 0.99 * s, .max = 1.03 * s, .mean = s, .stdev = 0.004 * s,
                           .rel_stdev = 0.004, .noise = 0.003, .rel_spread = 0.04};
    m.host_enqueue = (zz_stats){.n = STEPS, .median = 150e-6};
    m.verdict = ZZ_STOP_CONVERGED;
    m.have_kernels = with_kernels;
    if (with_kernels) {
        m.timeline.steps = STEPS;
        m.timeline.median_step = st;
        m.timeline.latency = (zz_stats){.n = STEPS, .median = st.latency_ns};
        m.timeline.gap = (zz_stats){.n = 7 * STEPS, .median = 500};
        m.attributed_enqueue = (zz_stats){.n = 20, .median = 201.2e-6};
        m.dropped_records = 0;
        static zz_kernel_summary kernels[2];
        kernels[0] = (zz_kernel_summary){kernel_names[0], ZZ_CAT_ATTN_FULL, 32 * STEPS, 60e6, 18e3, 120e9, 240e12};
        kernels[1] = (zz_kernel_summary){kernel_names[1], ZZ_CAT_COPY, 16 * STEPS, 3e6, 1.8e3, 6e9, 0};
        m.kernels = kernels;
        m.n_kernels = 2;
    }
    return m;
}

/* Spans: zigzag 800 µs; duo-cat 996 µs = zigzag + 70 attention + 60 copy +
 * 15 cache + 5 other (combine) + 50 idle - 4 overlap; duo-slices 833 µs.
 * Clean medians: the spans, but duo-cat's 3 µs more (999 µs). */
static const step_parts zigzag_parts = {{600, 100, 0, 20, 10, 0}, 70, 0, 0};
static const step_parts duo_cat_parts = {{640, 130, 60, 35, 15, 0}, 120, 4, 3};
static const step_parts duo_slices_parts = {{620, 110, 0, 35, 12, 0}, 56, 0, 0};

static zz_run_info info;
static zz_report report;

static zz_report_config config_of(zz_phase phase, int batch, long long ctx, long long chunk, double sparsity,
                                  const char *note) {
    zz_report_config c = {
        .workload = {phase, batch, ctx, chunk, 128, 256}, .sparsity = sparsity, .duo_mixed_layers = 31};
    c.duo = zz_cost_of(&info.model, &c.workload, 128);
    c.zigzag = zz_cost_of(&info.model, &c.workload, 128);
    snprintf(c.note, sizeof c.note, "%s", note);
    return c;
}

/* The plan's side of a row, as zz_report_row_of gives it. */
static zz_report_row planned_row(int config, zz_layout layout, zz_mode mode) {
    return (zz_report_row){.config = config, .layout = layout, .mode = mode, .retrieval_heads = 128,
                           .mixed_layers = layout == ZZ_LAYOUT_ZIGZAG ? 0 : 31, .launches = 96,
                           .kv_bytes = 2.17e9, .flops = 8.69e9, .measured_bytes = NAN, .verify_error = NAN};
}

static void add(int config, zz_layout layout, zz_mode mode, const step_parts *p, double latency_us, int with_kernels) {
    zz_report_row row = planned_row(config, layout, mode);
    zz_measurement m = measurement(p, latency_us, with_kernels);
    zz_report_add(&report, &row, &m);
}

/* Config 0, eager with CUPTI: zigzag, duo-cat, duo-slices; graph without:
 * zigzag 700 µs, duo-cat 760 µs. Config 1 (prefill, uneven budget): full
 * skipped, streaming measured, no zigzag. */
static int build_report(void **state) {
    (void)state;
    info = (zz_run_info){.cold = 0, .cupti = 1, .warmup = 3, .rule = ZZ_STOP_RULE_DEFAULT, .seed = 1,
                         .cupti_built = 130000, .cupti_runtime = 130000,
                         .command_line = "zz-bench run --out 'a \"b\"'",
                         .decode_kernels = {ZZ_DECODE_SPLIT_COMBINE}, .n_decode_kernels = 1, .n_prefill_kernels = 0};
    zz_error err;
    if (zz_model_preset("llama3-8b", &info.model, &err)) return -1;
    info.device = (zz_device){.name = "Test GPU", .sm_count = 132, .cc_major = 9, .cc_minor = 0, .sm_clock_mhz = 1980,
                              .mem_clock_mhz = 2619, .mem_bus_bits = 5120, .global_mem_bytes = 80LL << 30,
                              .l2_bytes = 50LL << 20, .driver_version = 13000, .runtime_version = 13000};
    info.ceilings = (zz_ceilings){.copy_gbps = 3000, .gemm_tflops = 800, .copy_bytes = 1 << 30, .gemm_n = 8192};
    snprintf(info.pattern, sizeof info.pattern, "synthetic random:1");
    snprintf(info.git_commit, sizeof info.git_commit, "0123abcd");
    snprintf(info.date, sizeof info.date, "2025-01-01T00:00:00+0000");
    zz_report_init(&report, &info);
    zz_report_config c0 = config_of(ZZ_DECODE, 1, 32768, 0, 0.5, "");
    zz_report_config c1 =
        config_of(ZZ_PREFILL, 1, 8192, 4096, 0.45, "8 kv heads per layer do not divide the 141 retrieval heads");
    if (zz_report_add_config(&report, &c0) != 0 || zz_report_add_config(&report, &c1) != 1) return -1;
    add(0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_EAGER, &zigzag_parts, 0, 1);
    add(0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_EAGER, &duo_cat_parts, 0, 1);
    add(0, ZZ_LAYOUT_DUO_SLICES, ZZ_MODE_EAGER, &duo_slices_parts, 0, 1);
    add(0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH, NULL, 700, 0);
    add(0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_GRAPH, NULL, 760, 0);
    zz_report_row skipped = {.config = 1, .layout = ZZ_LAYOUT_FULL, .mode = ZZ_MODE_EAGER,
                             .skipped = "needs 90.0 GiB, 70.0 GiB free", .verify_error = NAN};
    zz_report_add_skipped(&report, &skipped);
    add(1, ZZ_LAYOUT_STREAMING, ZZ_MODE_EAGER, &zigzag_parts, 0, 1);
    snprintf(report.status, sizeof report.status, "complete: 6 of 7 measurements done, 1 skipped (device memory)");
    return 0;
}

static int free_report(void **state) {
    (void)state;
    zz_report_free(&report);
    return 0;
}

/* ---- an RFC 4180 reader for whole files ---- */

#define MAX_ROWS 16
#define MAX_FIELDS 64

typedef struct {
    int rows, fields[MAX_ROWS];
    char *cell[MAX_ROWS][MAX_FIELDS];
} csv_table;

static void parse_csv(const char *s, csv_table *t) {
    memset(t, 0, sizeof *t);
    while (*s) {
        int r = t->rows++, f = 0;
        assert_true(r < MAX_ROWS);
        for (;;) {
            char *cell = malloc(strlen(s) + 1), *out = cell;
            if (*s == '"') {
                for (s++; !(*s == '"' && s[1] != '"'); s++) {
                    if (!*s) fail_msg("unterminated quoted field");
                    *out++ = *s;
                    if (*s == '"') s++;
                }
                s++;
            } else {
                for (; *s != ',' && *s != '\n'; s++) {
                    if (!*s) fail_msg("last row without its line end");
                    if (*s == '"') fail_msg("bare quote in an unquoted field");
                    *out++ = *s;
                }
            }
            *out = '\0';
            assert_true(f < MAX_FIELDS);
            t->cell[r][f++] = cell;
            if (*s++ == '\n') break;
        }
        t->fields[r] = f;
    }
}

static void free_csv(csv_table *t) {
    for (int r = 0; r < t->rows; r++)
        for (int f = 0; f < t->fields[r]; f++) free(t->cell[r][f]);
}

static int column(const csv_table *t, const char *name) {
    for (int f = 0; f < t->fields[0]; f++)
        if (strcmp(t->cell[0][f], name) == 0) return f;
    fail_msg("no column %s", name);
    return -1;
}

static const char *cell(const csv_table *t, int row, const char *name) { return t->cell[row][column(t, name)]; }
static double number(const csv_table *t, int row, const char *name) { return strtod(cell(t, row, name), NULL); }

/* The row of a layout and mode in a table keyed like results.csv. */
static int row_of(const csv_table *t, const char *phase, const char *layout, const char *mode) {
    for (int r = 1; r < t->rows; r++)
        if (!strcmp(cell(t, r, "phase"), phase) && !strcmp(cell(t, r, "layout"), layout) &&
            !strcmp(cell(t, r, "mode"), mode))
            return r;
    fail_msg("no row %s %s %s", phase, layout, mode);
    return -1;
}

static void expect_in(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("lacks '%s' in:\n%s", needle, text);
}

/* ---- tests ---- */

static void test_overhead_against_zigzag_adds_up_exactly(void **state) {
    (void)state;
    zz_report_overhead *o;
    int n = zz_report_overheads(&report, &o);
    assert_int_equal(n, 3);  /* eager duo-cat, eager duo-slices, graph duo-cat; config 1 has no zigzag */
    assert_int_equal(o[0].layout, ZZ_LAYOUT_DUO_CAT);
    assert_int_equal(o[0].mode, ZZ_MODE_EAGER);
    assert_true(o[0].have_parts);
    const zz_overhead *d = &o[0].delta;
    assert_true(fabs(o[0].latency_delta_ns - 199e3) < 1e-6);  /* clean medians, from seconds */
    assert_true(d->span == 196e3);                /* the attribution pass */
    assert_true(d->attention == 70e3 && d->copy == 60e3 && d->cache == 15e3 && d->other == 5e3);
    assert_true(d->idle == 50e3 && d->overlap == 4e3);
    assert_true(d->attention + d->copy + d->cache + d->other + d->idle - d->overlap == d->span);
    assert_true(fabs(o[0].zigzag_latency_ns - 800e3) < 1e-6);
    assert_int_equal(o[1].layout, ZZ_LAYOUT_DUO_SLICES);
    assert_true(fabs(o[1].latency_delta_ns - 33e3) < 1e-6);
    assert_true(o[1].delta.attention + o[1].delta.copy + o[1].delta.cache + o[1].delta.other + o[1].delta.idle -
                    o[1].delta.overlap == o[1].delta.span);
    /* without CUPTI: the Δ of the medians only */
    assert_int_equal(o[2].mode, ZZ_MODE_GRAPH);
    assert_false(o[2].have_parts);
    assert_true(fabs(o[2].latency_delta_ns - 60e3) < 1e-6);
    free(o);
}

static void test_summary_tables(void **state) {
    (void)state;
    char *s = zz_report_summary(&report);
    assert_non_null(s);
    expect_in(s, "| device | Test GPU: 132 SMs, cc 9.0");
    expect_in(s, "| ceilings | device-to-device copy 3000 GB/s (read + written), cuBLAS bf16 GEMM 800 TFLOP/s |");
    expect_in(s, "| pattern | synthetic random:1 |");
    expect_in(s, "| L2 | hot: not flushed between samples |");
    expect_in(s, "| kernel times | CUPTI activity");
    expect_in(s, "| status | complete: 6 of 7 measurements done, 1 skipped (device memory) |");
    /* equal budget, and the note of the uneven one */
    expect_in(s, "| decode B=1 S=32K sparsity 0.5 | 128 / 128 | 31 | 2.02 GiB / 2.02 GiB |");
    expect_in(s, "Note, prefill B=1 S=8K C=4K sparsity 0.45: "
                 "8 kv heads per layer do not divide the 141 retrieval heads.");
    /* latency tables: CUPTI parts, dashes without, and the skip */
    expect_in(s, "### decode B=1 S=32K sparsity 0.5, eager");
    expect_in(s, "| duo-cat | 999.0 | 4.0 % | 100 | converged | 15 % | 996.0 | -0.3 % | "
                 "640.0 | 130.0 | 60.0 | 35.0 | 15.0 | 0.0 | 120.0 | 4.0 | 0.50 |");
    expect_in(s, "### decode B=1 S=32K sparsity 0.5, graph");
    expect_in(s, "| zigzag | 700.0 | 4.0 % | 100 | converged | 21 % | — | — | — | — | — | — | — | — | — | — | — |");
    expect_in(s, "| full | skipped: needs 90.0 GiB, 70.0 GiB free |");
    /* the split overhead and its parts */
    expect_in(s, "| decode B=1 S=32K sparsity 0.5 | eager | duo-cat | 800.0 | +199.0 | +24.9 % | +196.0 | "
                 "+70.0 | +60.0 | +15.0 | +5.0 | +50.0 | -4.0 | +3.0 |");
    expect_in(s, "| decode B=1 S=32K sparsity 0.5 | eager | duo-slices | 800.0 | +33.0 | +4.1 % | +33.0 | "
                 "+30.0 | +0.0 | +15.0 | +2.0 | -14.0 | +0.0 | +0.0 |");
    expect_in(s, "| decode B=1 S=32K sparsity 0.5 | graph | duo-cat | 700.0 | +60.0 | +8.6 % | "
                 "— | — | — | — | — | — | — | — |");
    /* every span within 2 % of its clean median: said once */
    expect_in(s, "Attributed span against the clean median: 4 of 4 GPU-paced rows within 2 %.");
    /* every table row has as many cells as its header */
    for (const char *line = s; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        if (*line == '|' && line[1] == '-') {
            int header = 0, sep = 0, row = 0;
            const char *h = line - 2;
            while (h > s && h[-1] != '\n') h--;
            for (const char *p = h; p < line; p++) header += *p == '|';
            for (const char *p = line; p < end; p++) sep += *p == '|';
            assert_int_equal(header, sep);
            for (const char *r = end + 1; *r == '|'; r = strchr(r, '\n') + 1) {
                row = 0;
                for (const char *p = r; *p != '\n'; p++) row += *p == '|';
                if (row != header) fail_msg("row of %d cells under a header of %d: %.*s", row - 1, header - 1,
                                            (int)(strchr(r, '\n') - r), r);
            }
        }
        line = end + 1;
    }
    free(s);
}

/* A row of r's configuration 0 measured without CUPTI, 100 µs a step, whose
 * host enqueue takes host_fraction of it. Returns its index. */
static int add_enqueue_share(zz_report *r, zz_layout layout, zz_verdict verdict, double host_fraction) {
    zz_report_row row = planned_row(0, layout, ZZ_MODE_EAGER);
    zz_measurement m = measurement(NULL, 100, 0);
    m.host_enqueue.median = host_fraction * m.latency.median;
    m.verdict = verdict;
    int index = zz_report_add(r, &row, &m);
    assert_true(index >= 0);
    return index;
}

/* Host enqueue at ZZ_HOST_PACED_FRACTION of the step or more marks the verdict, whatever it is,
 * and the paragraph above the tables says why; the boundary counts. */
static void test_host_paced_rows_are_marked(void **state) {
    (void)state;
    zz_report r;
    zz_report_init(&r, &info);
    zz_report_config c = config_of(ZZ_DECODE, 1, 8192, 0, 0.5, "");
    assert_int_equal(zz_report_add_config(&r, &c), 0);
    int streaming = add_enqueue_share(&r, ZZ_LAYOUT_STREAMING, ZZ_STOP_TIMEOUT, 0.97);
    int zigzag = add_enqueue_share(&r, ZZ_LAYOUT_ZIGZAG, ZZ_STOP_CONVERGED, 0.2);
    int boundary = add_enqueue_share(&r, ZZ_LAYOUT_DUO_CAT, ZZ_STOP_CONVERGED, ZZ_HOST_PACED_FRACTION);
    assert_true(zz_report_row_host_paced(&r.rows[streaming]));
    assert_false(zz_report_row_host_paced(&r.rows[zigzag]));
    assert_true(zz_report_row_host_paced(&r.rows[boundary]));
    char *s = zz_report_summary(&r);
    assert_non_null(s);
    char line[128];
    snprintf(line, sizeof line, "**host-paced**: the host share is at least %g %%", 100 * ZZ_HOST_PACED_FRACTION);
    expect_in(s, line);
    expect_in(s, "| streaming | 100.0 | 4.0 % | 100 | timeout, **host-paced** | 97 % | — |");
    expect_in(s, "| zigzag | 100.0 | 4.0 % | 100 | converged | 20 % | — |");
    snprintf(line, sizeof line, "| duo-cat | 100.0 | 4.0 %% | 100 | converged, **host-paced** | %.0f %% | — |",
             100 * ZZ_HOST_PACED_FRACTION);
    expect_in(s, line);
    free(s);
    zz_report_free(&r);
}

/* Issue 15: with duo-fused measured, the summary gives the floor of the
 * split overhead per configuration and mode: duo-fused − zigzag beside
 * duo-cat − zigzag and their difference; without it, no such section. */
static void test_split_floor(void **state) {
    (void)state;
    zz_report r;
    zz_report_init(&r, &info);
    zz_report_config c = config_of(ZZ_DECODE, 1, 131072, 0, 0.5, "");
    assert_int_equal(zz_report_add_config(&r, &c), 0);
    const struct { zz_layout layout; double us; } rows[] = {
        {ZZ_LAYOUT_ZIGZAG, 2000}, {ZZ_LAYOUT_DUO_CAT, 2500}, {ZZ_LAYOUT_DUO_FUSED, 2100}};
    for (size_t i = 0; i < 2; i++) {
        zz_report_row row = planned_row(0, rows[i].layout, ZZ_MODE_GRAPH);
        zz_measurement m = measurement(NULL, rows[i].us, 0);
        zz_report_add(&r, &row, &m);
    }
    char *s = zz_report_summary(&r);
    assert_non_null(s);
    assert_null(strstr(s, "Floor of the split overhead"));
    free(s);
    zz_report_row row = planned_row(0, rows[2].layout, ZZ_MODE_GRAPH);
    zz_measurement m = measurement(NULL, rows[2].us, 0);
    zz_report_add(&r, &row, &m);
    s = zz_report_summary(&r);
    expect_in(s, "## Floor of the split overhead");
    expect_in(s, "| decode B=1 S=128K sparsity 0.5 | graph | +100.0 (+5.0 %) | +500.0 (+25.0 %) | +400.0 |");
    expect_in(s, "| decode B=1 S=128K sparsity 0.5 | graph | duo-fused | 2000.0 | +100.0 | +5.0 % |");
    free(s);
    zz_report_free(&r);
}

/* A row GPU-paced when clean whose attributed steps the host paced (CUPTI
 * lengthens launches) is marked in its table and in the overhead table. */
static void test_parts_host_paced_under_cupti_are_marked(void **state) {
    (void)state;
    zz_report r;
    zz_report_init(&r, &info);
    zz_report_config c = config_of(ZZ_DECODE, 1, 8192, 0, 0.5, "");
    assert_int_equal(zz_report_add_config(&r, &c), 0);
    zz_report_row zig_row = planned_row(0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_EAGER);
    zz_report_row duo_row = planned_row(0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_EAGER);
    zz_measurement zig = measurement(&zigzag_parts, 0, 1), duo = measurement(&duo_cat_parts, 0, 1);
    duo.attributed_enqueue.median = ZZ_HOST_PACED_FRACTION * duo.timeline.latency.median * 1e-9 * 1.01;
    int z = zz_report_add(&r, &zig_row, &zig), d = zz_report_add(&r, &duo_row, &duo);
    assert_false(zz_report_row_parts_host_paced(&r.rows[z]));
    assert_true(zz_report_row_parts_host_paced(&r.rows[d]));
    assert_false(zz_report_row_host_paced(&r.rows[d]));  /* clean: GPU-paced */
    char *s = zz_report_summary(&r);
    assert_non_null(s);
    expect_in(s, "| duo-cat | 999.0 | 4.0 % | 100 | converged, parts host-paced† |");
    expect_in(s, "| decode B=1 S=8K sparsity 0.5 | eager | duo-cat † | 800.0 |");
    expect_in(s, "Attributed span against the clean median: 1 of 1 GPU-paced rows within 2 %.");
    free(s);
    zz_report_free(&r);
}

/* A skipped row keeps whatever statistics it was built with: none count. */
static void test_skipped_row_is_never_host_paced(void **state) {
    (void)state;
    zz_report_row row = planned_row(0, ZZ_LAYOUT_FULL, ZZ_MODE_EAGER);
    assert_false(zz_report_row_host_paced(&row));  /* not measured: no latency at all */
    row.latency = (zz_stats){.n = STEPS, .median = 100e-6};
    row.host_enqueue = (zz_stats){.n = STEPS, .median = 95e-6};
    assert_true(zz_report_row_host_paced(&row));
    snprintf(row.skipped, sizeof row.skipped, "needs 90.0 GiB, 70.0 GiB free");
    assert_false(zz_report_row_host_paced(&row));
}

static const char results_header[] =
    "model,phase,batch,ctx,chunk,sink,recent,sparsity,layout,mode,l2,decode_kernel,prefill_kernel,retrieval_heads,"
    "mixed_layers,launches,"
    "kv_bytes,flops,median_us,min_us,max_us,rel_spread,rel_stdev,noise,samples,verdict,host_enqueue_us,host_share,"
    "host_paced,span_us,outside_us,span_inflation,attributed_median_us,gap_median_us,attributed_host_share,"
    "attributed_host_paced,attn_full_us,attn_streaming_us,"
    "copy_us,cache_us,combine_us,other_us,idle_us,overlap_us,dropped_records,verify_rel_error,step,layers,"
    "model_layers,hidden,mlp,vocab,linear_flops,weights_bytes,kv_cache_bytes,activation_bytes,workspace_bytes,"
    "planned_bytes,measured_bytes\n";

static void test_results_csv_reads_back_and_every_row_adds_up(void **state) {
    (void)state;
    zz_csv c;
    zz_report_results_csv(&report, &c);
    assert_int_equal(strncmp(c.text.data, results_header, strlen(results_header)), 0);
    csv_table t;
    parse_csv(c.text.data, &t);
    assert_int_equal(t.rows, 1 + 6);  /* the skipped row is in summary.md only */
    for (int r = 0; r < t.rows; r++) assert_int_equal(t.fields[r], t.fields[0]);
    int duo = row_of(&t, "decode", "duo-cat", "eager");
    assert_string_equal(cell(&t, duo, "model"), "llama3-8b");
    assert_string_equal(cell(&t, duo, "ctx"), "32768");
    assert_string_equal(cell(&t, duo, "chunk"), "0");
    assert_string_equal(cell(&t, duo, "sparsity"), "0.5");
    assert_string_equal(cell(&t, duo, "l2"), "hot");
    assert_string_equal(cell(&t, duo, "decode_kernel"), "split-combine"); /* the phase's variant, in its column */
    assert_string_equal(cell(&t, duo, "prefill_kernel"), "");
    assert_string_equal(cell(&t, duo, "verdict"), "converged");
    assert_string_equal(cell(&t, duo, "samples"), "100");
    assert_string_equal(cell(&t, duo, "noise"), "0.003");
    assert_string_equal(cell(&t, duo, "verify_rel_error"), "");
    assert_true(fabs(number(&t, duo, "median_us") - 999) < 1e-9);
    assert_true(number(&t, duo, "span_us") == 996);
    assert_true(fabs(number(&t, duo, "outside_us") - 3) < 1e-9);
    assert_true(fabs(number(&t, duo, "span_inflation") - (996.0 / 999 - 1)) < 1e-15);
    assert_true(number(&t, duo, "attributed_median_us") == 1006);
    assert_true(number(&t, duo, "gap_median_us") == 0.5);
    assert_true(number(&t, duo, "copy_us") == 60);
    assert_true(fabs(number(&t, duo, "host_share") - 150.0 / 999) < 1e-15);
    assert_string_equal(cell(&t, duo, "host_paced"), "0");
    assert_true(fabs(number(&t, duo, "attributed_host_share") - 0.2) < 1e-12);  /* 201.2 of 1006 µs */
    assert_string_equal(cell(&t, duo, "attributed_host_paced"), "0");
    for (int r = 1; r < t.rows; r++) {
        if (!cell(&t, r, "attn_full_us")[0]) continue;
        static const char *const parts[] = {"attn_full_us", "attn_streaming_us", "copy_us", "cache_us",
                                            "combine_us",   "other_us",          "idle_us"};
        double sum = -number(&t, r, "overlap_us");
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) sum += number(&t, r, parts[k]);
        assert_true(sum == number(&t, r, "span_us"));
        assert_true(fabs(number(&t, r, "span_us") + number(&t, r, "outside_us") - number(&t, r, "median_us")) < 1e-9);
    }
    /* without CUPTI: empty kernel fields, the event-timed median */
    int graph = row_of(&t, "decode", "zigzag", "graph");
    assert_true(fabs(number(&t, graph, "median_us") - 700) < 1e-9);
    assert_string_equal(cell(&t, graph, "attn_full_us"), "");
    assert_string_equal(cell(&t, graph, "idle_us"), "");
    assert_string_equal(cell(&t, graph, "dropped_records"), "");
    assert_string_equal(cell(&t, graph, "span_us"), "");
    assert_string_equal(cell(&t, graph, "gap_median_us"), "");
    int prefill = row_of(&t, "prefill", "streaming", "eager");
    assert_string_equal(cell(&t, prefill, "chunk"), "4096");
    assert_string_equal(cell(&t, prefill, "decode_kernel"), "");
    assert_string_equal(cell(&t, prefill, "prefill_kernel"), "fa2");
    free_csv(&t);
    zz_csv_free(&c);
}

static void test_kernels_csv_rates_and_fractions_of_the_ceilings(void **state) {
    (void)state;
    csv_table t;
    parse_csv(report.kernels.text.data, &t);
    assert_int_equal(t.rows, 1 + 4 * 2);  /* 4 measurements with CUPTI, 2 kernels each */
    assert_string_equal(t.cell[0][13], "kernel");  /* after the keys, the variants among them */
    assert_string_equal(cell(&t, row_of(&t, "decode", "zigzag", "eager"), "decode_kernel"), "split-combine");
    int r = row_of(&t, "decode", "zigzag", "eager");
    assert_string_equal(cell(&t, r, "kernel"), kernel_names[0]);
    assert_string_equal(cell(&t, r, "category"), "attn-full");
    assert_true(number(&t, r, "launches_per_step") == 32);
    assert_true(number(&t, r, "total_us") == 60e3);
    assert_true(number(&t, r, "per_step_us") == 600);
    assert_true(number(&t, r, "gbps") == 2000);        /* 120 GB in 60 ms */
    assert_true(number(&t, r, "tflops") == 4000);      /* synthetic, above any ceiling: only arithmetic */
    assert_true(number(&t, r, "copy_fraction") == 2000.0 / 3000);
    assert_true(number(&t, r, "gemm_fraction") == 5);
    /* a name with a comma survives; a kernel without FLOPs has empty rates */
    assert_string_equal(t.cell[r + 1][column(&t, "kernel")], kernel_names[1]);
    assert_string_equal(t.cell[r + 1][column(&t, "tflops")], "");
    assert_string_equal(t.cell[r + 1][column(&t, "gemm_fraction")], "");
    assert_string_equal(t.cell[r + 1][column(&t, "step")], "attention");
    assert_string_equal(t.cell[r + 1][column(&t, "layers")], "32");
    assert_string_equal(t.cell[r + 1][column(&t, "model_layers")], "32");
    free_csv(&t);
}

static void test_labels_and_units(void **state) {
    (void)state;
    char label[128], text[32];
    zz_report_config c = config_of(ZZ_DECODE, 2, 1000, 0, 0.25, "");
    zz_report_config_label(&c, label, sizeof label);
    assert_string_equal(label, "decode B=2 S=1000 sparsity 0.25");
    c = config_of(ZZ_PREFILL, 1, 1 << 20, 1 << 20, 0.5, "");  /* a chunk >= S is the single shot */
    zz_report_config_label(&c, label, sizeof label);
    assert_string_equal(label, "prefill B=1 S=1M sparsity 0.5");
    c = config_of(ZZ_DECODE, 1, 32768, 0, 0.5, "");  /* a variant but the default is named */
    c.workload.kernel = ZZ_DECODE_ONE_LAUNCH;
    zz_report_config_label(&c, label, sizeof label);
    assert_string_equal(label, "decode B=1 S=32K sparsity 0.5 kernel one-launch");
    zz_human_bytes(2.02 * 1024 * 1024 * 1024, text, sizeof text);
    assert_string_equal(text, "2.02 GiB");
    zz_human_bytes(512, text, sizeof text);
    assert_string_equal(text, "512 B");
    zz_human_flops(8.69e9, text, sizeof text);
    assert_string_equal(text, "8.69 GFLOP");
}

static void test_files_written_whole_into_the_folder(void **state) {
    (void)state;
    char dir[64] = "/tmp/zz-test-report-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    zz_error err = {""};
    assert_int_equal(zz_report_write(&report, dir, &err), 0);
    snprintf(path, sizeof path, "%s/env.json", dir);
    assert_int_equal(zz_report_write_env(&info, path, &err), 0);
    static const char *const names[] = {"results.csv", "kernels.csv", "summary.md", "env.json"};
    static char text[1 << 16];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) fail_msg("%s not written", path);
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        if (i == 0) assert_int_equal(strncmp(text, results_header, strlen(results_header)), 0);
        if (i == 2) expect_in(text, "## Split overhead against zigzag");
        if (i == 3) {
            expect_in(text, "\"name\": \"Test GPU\"");
            expect_in(text, "\"command_line\": \"zz-bench run --out 'a \\\"b\\\"'\"");
            expect_in(text, "\"used\": true");
            expect_in(text, "\"l2\": \"hot\"");
            expect_in(text, "\"gemm_tflops\": 800");
            expect_in(text, "\"timeout_s\": 15");
            expect_in(text, "\"kernel_variants\": {\n    \"decode\": [\n      \"split-combine\"\n    ],\n    "
                            "\"prefill\": []");
        }
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.tmp", dir, names[i]);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    assert_int_equal(rmdir(dir), 0);
    /* a folder that is not there: the path and the reason */
    assert_int_equal(zz_report_write(&report, "/nonexistent-zz-dir", &err), -1);
    expect_in(err.msg, "/nonexistent-zz-dir/results.csv.tmp");
}

/* A run samples every latency first and attributes the kernels in a later
 * pass: a row completed by zz_report_add_kernels must read exactly as one
 * added whole. */
static void test_kernels_added_later_equal_kernels_added_at_once(void **state) {
    (void)state;
    zz_report whole, later;
    zz_report_init(&whole, &info);
    zz_report_init(&later, &info);
    zz_report_config c = config_of(ZZ_DECODE, 1, 32768, 0, 0.5, "");
    assert_int_equal(zz_report_add_config(&whole, &c), 0);
    assert_int_equal(zz_report_add_config(&later, &c), 0);
    zz_report_row row = planned_row(0, ZZ_LAYOUT_DUO_CAT, ZZ_MODE_EAGER);
    zz_measurement m = measurement(&duo_cat_parts, 0, 1), latency_only = m;
    latency_only.have_kernels = 0;
    assert_int_equal(zz_report_add(&whole, &row, &m), 0);
    assert_int_equal(zz_report_add(&later, &row, &latency_only), 0);

    zz_csv before, a, b;
    zz_report_results_csv(&later, &before);
    csv_table t;
    parse_csv(before.text.data, &t);
    assert_string_equal(cell(&t, 1, "attn_full_us"), "");  /* no kernels yet */
    free_csv(&t);
    size_t header_only = later.kernels.text.len;  /* kernels.csv's header, no rows */
    assert_true(whole.kernels.text.len > header_only);

    zz_report_add_kernels(&later, 0, &m);
    zz_report_results_csv(&whole, &a);
    zz_report_results_csv(&later, &b);
    assert_string_equal(a.text.data, b.text.data);
    assert_string_equal(whole.kernels.text.data, later.kernels.text.data);
    zz_csv_free(&before), zz_csv_free(&a), zz_csv_free(&b);
    zz_report_free(&whole), zz_report_free(&later);
}

/* A model step's run (issue 17): results.csv names the step, the layers run
 * of how many, the model's sizes, the GEMM FLOPs and the memory counted and
 * measured; summary.md its head rows and the memory table; env.json the
 * step, the model's sizes and the weights. An attention step's rows name
 * theirs, with no memory counted. */
static void test_model_step_columns_and_memory(void **state) {
    (void)state;
    zz_csv c;
    csv_table t;
    zz_report_results_csv(&report, &c);
    parse_csv(c.text.data, &t);
    assert_string_equal(cell(&t, 1, "step"), "attention");
    assert_string_equal(cell(&t, 1, "layers"), "32");
    assert_string_equal(cell(&t, 1, "vocab"), "128256");
    assert_string_equal(cell(&t, 1, "linear_flops"), "0");
    assert_string_equal(cell(&t, 1, "planned_bytes"), "");
    assert_string_equal(cell(&t, 1, "measured_bytes"), "");
    free_csv(&t);
    zz_csv_free(&c);

    static zz_run_info model_info;
    zz_report r;
    model_info = info;
    zz_error err = {""};
    assert_int_equal(zz_model_preset("llama3-70b", &model_info.model, &err), 0);
    model_info.model.layers = 40;
    model_info.step = ZZ_STEP_MODEL;
    model_info.weights_bytes = zz_model_weight_bytes(&model_info.model);
    model_info.weights_measured = NAN;  /* did not fit */
    zz_report_init(&r, &model_info);
    zz_report_config cfg = config_of(ZZ_DECODE, 1, 8192, 0, 0.5, "");
    cfg.workload.step = ZZ_STEP_MODEL;
    assert_int_equal(zz_report_add_config(&r, &cfg), 0);
    zz_report_row row = planned_row(0, ZZ_LAYOUT_ZIGZAG, ZZ_MODE_GRAPH);
    row.linear_flops = 5.5e11;
    row.memory = (zz_memory){.weights = 7e10, .kv_cache = 2e9, .activations = 3e6, .workspaces = 4e7};
    row.measured_bytes = 7.21e10;
    zz_measurement m = measurement(NULL, 25000, 0);
    assert_int_equal(zz_report_add(&r, &row, &m), 0);
    zz_report_results_csv(&r, &c);
    parse_csv(c.text.data, &t);
    assert_string_equal(cell(&t, 1, "step"), "model");
    assert_string_equal(cell(&t, 1, "layers"), "40");
    assert_string_equal(cell(&t, 1, "model_layers"), "80");
    assert_string_equal(cell(&t, 1, "hidden"), "8192");
    assert_string_equal(cell(&t, 1, "mlp"), "28672");
    assert_string_equal(cell(&t, 1, "linear_flops"), "550000000000");
    assert_string_equal(cell(&t, 1, "weights_bytes"), "70000000000");
    assert_string_equal(cell(&t, 1, "kv_cache_bytes"), "2000000000");
    assert_string_equal(cell(&t, 1, "planned_bytes"), "72043000000");
    assert_string_equal(cell(&t, 1, "measured_bytes"), "72100000000");
    free_csv(&t);
    zz_csv_free(&c);
    char *s = zz_report_summary(&r);
    expect_in(s, "| model | llama3-70b: first 40 of 80 layers, 64 query heads, 8 KV heads, head dim 128; hidden 8192, "
                 "MLP 28672, vocabulary 128256 |");
    expect_in(s, "| step | model: per layer RMSNorm, QKV GEMM, rotary, the layout's attention, O GEMM + residual, "
                 "RMSNorm, gate/up GEMM, SiLU × up, down GEMM + residual; final RMSNorm and LM head (last token) |");
    expect_in(s, "| weights | random (seed 1), shared by every layout: 67.67 GiB counted, not allocated (they did not "
                 "fit) |");
    expect_in(s, "| decode B=1 S=8K sparsity 0.5 | zigzag | 65.19 | 1.86 | 0.00 | 0.04 | 67.10 | 67.15 |");
    free(s);
    char dir[64] = "/tmp/zz-test-report-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/env.json", dir);
    assert_int_equal(zz_report_write_env(&model_info, path, &err), 0);
    char *env = NULL;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[1 << 16];
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    expect_in(text, "\"layers\": 40,\n");
    expect_in(text, "\"model_layers\": 80,\n    \"hidden\": 8192,\n    \"mlp\": 28672,\n    \"vocab\": 128256\n");
    expect_in(text, "\"step\": \"model\",\n  \"weights\": {\n    \"bytes\": ");
    expect_in(text, "\"measured_bytes\": null\n");
    free(env);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    s = zz_report_summary(&report);
    expect_in(s, "| step | attention: each layer's cache writes, attention and copies; no projections, MLP or norms |");
    if (strstr(s, "## Device memory")) fail_msg("an attention step's summary without memory counts has a memory table");
    free(s);
    zz_report_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overhead_against_zigzag_adds_up_exactly),
        cmocka_unit_test(test_summary_tables),
        cmocka_unit_test(test_host_paced_rows_are_marked),
        cmocka_unit_test(test_split_floor),
        cmocka_unit_test(test_parts_host_paced_under_cupti_are_marked),
        cmocka_unit_test(test_skipped_row_is_never_host_paced),
        cmocka_unit_test(test_results_csv_reads_back_and_every_row_adds_up),
        cmocka_unit_test(test_kernels_csv_rates_and_fractions_of_the_ceilings),
        cmocka_unit_test(test_labels_and_units),
        cmocka_unit_test(test_files_written_whole_into_the_folder),
        cmocka_unit_test(test_kernels_added_later_equal_kernels_added_at_once),
        cmocka_unit_test(test_model_step_columns_and_memory),
    };
    return cmocka_run_group_tests(tests, build_report, free_report);
}
