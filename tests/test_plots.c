/* make plots: plots/render.sh renders the hand-written run folders
 * tests/fixtures/plots (today's columns, in another order than zz-bench
 * writes them) and tests/fixtures/plots-old (a run written before the
 * host_paced and span_us columns) into real PNG and SVG files, host-paced
 * rows drawn hollow; bad input (a missing column, no rows, a torn or
 * non-numeric row, a missing or broken env.json) stops with one clear line
 * and exit status 2, and neither bad input nor a failing gnuplot replaces
 * any picture of an earlier render. tests/fixtures/plots/reproduce-llama3-8b
 * (model-step rows as scripts/reproduce merges them) draws DuoAttention's
 * efficiency figure, reproduce-<phase>; a run without model-step rows draws
 * none. Needs gnuplot (`make test` installs it
 * before running this). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "scratch.h"

#define FIXTURE "tests/fixtures/plots"
#define OLD_FIXTURE "tests/fixtures/plots-old"
#define REPRODUCE_FIXTURE FIXTURE "/reproduce-llama3-8b"

/* Run [ENV] plots/render.sh RUN OUT; its exit status, and its stderr in *err. */
static int render_with(const char *env, const char *run, const char *out, char **err) {
    char cmd[1024], err_path[256];
    snprintf(err_path, sizeof err_path, "%s.stderr", out);
    snprintf(cmd, sizeof cmd, "%s plots/render.sh '%s' '%s' >/dev/null 2>'%s'", env, run, out, err_path);
    int status = system(cmd);
    *err = read_file(err_path, NULL);
    assert_non_null(*err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
static int render(const char *run, const char *out, char **err) { return render_with("", run, out, err); }

/* A run folder DIR/run whose results.csv is the fixture's through a shell
 * filter (e.g. sed -e '…'; NULL: cat) and whose env.json is the fixture's;
 * it has no kernels.csv. */
static void make_run(const char *dir, const char *filter, char *run, size_t size) {
    char cmd[1024];
    snprintf(run, size, "%s/run", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && %s < " FIXTURE "/results.csv > '%s/results.csv' && cp " FIXTURE
             "/env.json '%s/'", run, filter ? filter : "cat", run, run);
    assert_int_equal(system(cmd), 0);
}

static void expect_png(const char *out, const char *name) {
    char path[256];
    size_t size;
    snprintf(path, sizeof path, "%s/%s.png", out, name);
    char *data = read_file(path, &size);
    if (!data) fail_msg("%s was not written", path);
    if (size < 1000 || memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) fail_msg("%s is not a PNG (%zu bytes)", path, size);
    free(data);
}

static void expect_svg(const char *out, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s.svg", out, name);
    char *text = read_file(path, NULL);
    if (!text) fail_msg("%s was not written", path);
    if (!strstr(text, "<svg") || !strstr(text, "</svg>")) fail_msg("%s is not an SVG", path);
    free(text);
}

static int exists(const char *out, const char *file) {
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", out, file);
    return stat(path, &st) == 0;
}

/* Every line of err starts with "plots: " (no gnuplot warnings). */
static void expect_only_plots_lines(const char *err) {
    for (const char *line = err; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, "plots: ", 7) != 0) fail_msg("unexpected stderr line: %.*s", (int)strcspn(line, "\n"), line);
        if (!strchr(line, '\n')) break;
    }
}

/* The text of out/name; fails when it is missing. */
static char *text_of(const char *out, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", out, name);
    char *text = read_file(path, NULL);
    if (!text) fail_msg("%s was not written", path);
    return text;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* A good render of the fixture into dir/plots (out), and its pictures' bytes. */
typedef struct {
    char out[128];
    char *png, *svg;
    size_t png_size, svg_size;
} earlier_render;

static void render_good(const char *dir, earlier_render *e) {
    char *err, path[256];
    snprintf(e->out, sizeof e->out, "%s/plots", dir);
    assert_int_equal(render(FIXTURE, e->out, &err), 0);
    free(err);
    snprintf(path, sizeof path, "%s/latency-eager.png", e->out);
    e->png = read_file(path, &e->png_size);
    snprintf(path, sizeof path, "%s/kvcache.svg", e->out);
    e->svg = read_file(path, &e->svg_size);
    assert_non_null(e->png);
    assert_non_null(e->svg);
}

/* The earlier render's pictures are as they were, and no scratch folder is left. */
static void expect_untouched(earlier_render *e) {
    char path[256], cmd[300];
    size_t size;
    snprintf(path, sizeof path, "%s/latency-eager.png", e->out);
    char *png = read_file(path, &size);
    assert_true(png && size == e->png_size && memcmp(png, e->png, size) == 0);
    snprintf(path, sizeof path, "%s/kvcache.svg", e->out);
    char *svg = read_file(path, &size);
    assert_true(svg && size == e->svg_size && memcmp(svg, e->svg, size) == 0);
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q tmp", e->out);
    assert_int_not_equal(system(cmd), 0);
    free(png);
    free(svg);
    free(e->png);
    free(e->svg);
}

/* Bad input: exit status 2, exactly "plots: error: <want>\n", and the earlier render untouched. */
static void expect_refused(const char *run, earlier_render *e, const char *want) {
    char *err, line[512];
    assert_int_equal(render(run, e->out, &err), 2);
    snprintf(line, sizeof line, "plots: error: %s\n", want);
    assert_string_equal(err, line);
    free(err);
    expect_untouched(e);
}

/* ---- tests ---- */

static void renders_every_plot_of_the_fixture(void **state) {
    char out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(FIXTURE, out, &err), 0);
    expect_only_plots_lines(err);
    const char *names[] = {"latency-eager",    "latency-graph",          "overhead-decode",
                           "overhead-prefill", "overhead-batch-decode",  "breakdown-decode-32K-graph",
                           "kvcache",          "retrieval-decode-32K-graph", "kernels-decode-32K-graph"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        expect_png(out, names[i]);
        expect_svg(out, names[i]);
    }
    /* The titles name the GPU (env.json) and the model (results.csv). */
    char *svg = text_of(out, "breakdown-decode-32K-graph.svg");
    expect_in(svg, "Test GPU");
    expect_in(svg, "tiny");
    free(svg);
    /* No model-step rows: no reproduce plot, and one line says so. */
    expect_in(err, "plots: reproduce: skipped (no model-step rows at B=1, sparsity 0.5; scripts/reproduce runs "
                   "DuoAttention's points)\n");
    assert_false(exists(out, "reproduce-decode.png"));
    assert_false(exists(out, "reproduce-prefill.png"));
    assert_false(exists(out, "data/reproduce-decode.csv"));
    free(err);
}

/* A merged scripts/reproduce folder: ms per token of decode (eager and
 * graph panels) and the chunked prefill's latency against context, one line
 * per layout; full attention at 1M was skipped (it has no row), so its line
 * has no point there and the plot names it. */
static void draws_duoattention_s_points_of_a_reproduce_run(void **state) {
    char out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(REPRODUCE_FIXTURE, out, &err), 0);
    expect_only_plots_lines(err);
    assert_null(strstr(err, "reproduce: skipped"));
    free(err);
    expect_png(out, "reproduce-decode");
    expect_svg(out, "reproduce-decode");
    expect_png(out, "reproduce-prefill");
    expect_svg(out, "reproduce-prefill");
    char *csv = text_of(out, "data/reproduce-decode.csv");
    expect_in(csv, "mode,layout,ctx,median_ms,min_ms,max_ms,host_paced\n");
    expect_in(csv, "\ngraph,zigzag,1048576,16.83,");
    expect_in(csv, "\neager,full,512000,17.82,");
    assert_null(strstr(csv, "full,1048576"));
    assert_int_equal(count_lines(csv), 1 + 2 * 11);  /* 4 layouts × 3 contexts, less full at 1M, per mode */
    free(csv);
    char *gp = text_of(out, "data/reproduce-decode.gp");
    expect_in(gp, "panels = \"eager graph\"\n");
    expect_in(gp, "rtics = '(\"100K\" 102400, \"500K\" 512000, \"1M\" 1048576)'");
    expect_in(gp, "layouts_graph = \"full duo-cat duo-fused zigzag\"\n");
    expect_in(gp, "missing_graph = \"full at 1M\"\n");
    free(gp);
    gp = text_of(out, "data/reproduce-prefill.gp");
    expect_in(gp, "fixed = 'B=1, sparsity 0.5, chunk 32K'");
    expect_in(gp, "panels = \"graph\"\n");
    expect_in(gp, "missing_graph = \"\"\n");
    free(gp);
    char *svg = text_of(out, "reproduce-decode.svg");
    expect_in(svg, "Decode, ms per token against context — Test H200, llama3-8b");
    expect_in(svg, "eager mode");
    expect_in(svg, "graph mode");
    expect_in(svg, ">1M<");
    expect_in(svg, "no point (skipped or not run; summary.md says which):");
    expect_in(svg, ">full at 1M<");
    free(svg);
    svg = text_of(out, "reproduce-prefill.svg");
    expect_in(svg, "Chunked prefill, latency against context — Test H200, llama3-8b");
    expect_in(svg, ">128K<");
    assert_null(strstr(svg, "no point"));
    free(svg);
    /* The same rows as attention steps: no reproduce plot. */
    char run[128], cmd[1024];
    snprintf(run, sizeof run, "%s/attention-run", (const char *)*state);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && sed -e 's/,model,32,32,/,attention,32,32,/' " REPRODUCE_FIXTURE
             "/results.csv > '%s/results.csv' && cp " REPRODUCE_FIXTURE "/env.json '%s/'", run, run, run);
    assert_int_equal(system(cmd), 0);
    snprintf(out, sizeof out, "%s/attention-plots", (const char *)*state);
    assert_int_equal(render(run, out, &err), 0);
    expect_in(err, "plots: reproduce: skipped (no model-step rows");
    assert_false(exists(out, "reproduce-decode.png"));
    expect_png(out, "latency-graph");
    free(err);
}

/* A run written before host_paced, span_us and outside_us: host-paced rows
 * by the fallback rule (host enqueue >= ZZ_HOST_PACED_FRACTION of the
 * step), no outside segment, idle named as it was then. */
static void renders_a_run_written_before_the_new_columns(void **state) {
    char out[128], *err, want[128];
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(OLD_FIXTURE, out, &err), 0);
    expect_only_plots_lines(err);
    expect_png(out, "latency-eager");
    expect_png(out, "breakdown-decode-32K-graph");
    char *csv = text_of(out, "data/latency-eager.csv");
    expect_in(csv, "decode,streaming,8192,26,25.48,27.82,1\n");  /* host 40 µs of 26 */
    expect_in(csv, "decode,zigzag,8192,43.884,43.006,46.956,1\n");   /* 40 of 43.9: 91 % */
    expect_in(csv, "decode,duo-cat,8192,67.884,66.526,72.636,0\n");  /* 40 of 67.9: 59 % */
    free(csv);
    char *svg = text_of(out, "latency-eager.svg");
    snprintf(want, sizeof want, "hollow: host-paced (enqueue ≥ %g %% of step)", 100 * ZZ_HOST_PACED_FRACTION);
    expect_in(svg, want);
    free(svg);
    svg = text_of(out, "breakdown-decode-32K-graph.svg");
    expect_in(svg, "idle (step − kernels)");
    assert_null(strstr(svg, "outside the span"));
    free(svg);
    free(err);
}

/* The overhead table joins each duo row with its zigzag row: the fixture's
 * decode 8K graph rows are 49.884 and 34.884 µs; eager 67.884 and 43.884,
 * zigzag's host-paced, so the difference is too. */
static void joins_the_overhead_against_zigzag(void **state) {
    char out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(FIXTURE, out, &err), 0);
    char *csv = text_of(out, "data/overhead-decode.csv");
    expect_in(csv, "mode,layout,ctx,overhead_us,overhead_pct,host_paced\n");
    expect_in(csv, "graph,duo-cat,8192,15,42.9997,0\n");
    expect_in(csv, "eager,duo-cat,8192,24,54.6896,1\n");
    free(csv);
    free(err);
}

/* Host-paced rows by the host_paced column, even against the host share
 * (here a graph row marked 1 at a share of 0.14): hollow points, keyed. */
static void host_paced_rows_are_marked_by_their_column(void **state) {
    char run[128], out[128], *err;
    make_run(*state, "sed -e '/decode,1,8192,0,4,8,0.5,zigzag,graph/s/,5,0.143332,0,/,5,0.143332,1,/'", run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(run, out, &err), 0);
    char *gp = text_of(out, "data/latency-graph.gp");
    expect_in(gp, "host_paced_rows = 1\n");
    expect_in(gp, "paced_layouts_decode = \"zigzag\"\n");
    expect_in(gp, "paced_layouts_prefill = \"\"\n");
    free(gp);
    char *svg = text_of(out, "latency-graph.svg");
    expect_in(svg, "hollow: host-paced</text>");
    free(svg);
    svg = text_of(out, "breakdown-decode-32K-graph.svg");
    assert_null(strstr(svg, "(host-paced)"));  /* only the 8K row is marked */
    free(svg);
    free(err);
    /* Without any, the plots have no such key. */
    assert_int_equal(render(FIXTURE, out, &err), 0);
    svg = text_of(out, "latency-graph.svg");
    assert_null(strstr(svg, "hollow"));
    free(svg);
    free(err);
}

/* The breakdown stacks the span's parts and outside (the zigzag row's
 * outside is −1 µs: below 0 with its overlap of 1.5 µs), and sums every
 * attention column but full and streaming into attn-fused. */
static void the_breakdown_has_the_span_outside_and_every_attention_column(void **state) {
    char run[128], out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(FIXTURE, out, &err), 0);
    free(err);
    char *csv = text_of(out, "data/breakdown-decode-32K-graph.csv");
    expect_in(csv, "layout,median_us,host_paced,attn_fused_us,attn_full_us,attn_streaming_us,copy_us,cache_us,"
                   "combine_us,other_us,idle_us,overlap_us,outside_us,above_us,below_us\n");
    expect_in(csv, "\nzigzag,84.036,0,0,67.536,5,0,4,6,0,4,1.5,-1,86.536,2.5\n");
    expect_in(csv, "\nduo-cat,99.036,0,0,67.536,10,3,8,6,0,4,1.5,2,100.536,1.5\n");
    free(csv);
    char *svg = text_of(out, "breakdown-decode-32K-graph.svg");
    expect_in(svg, "outside the span");
    expect_in(svg, "idle (gaps in the span)");
    assert_null(strstr(svg, "attn-fused"));
    free(svg);
    make_run(*state, "sed -e '1s/$/,attn_fused_us,attn_other_us/;2,$s/$/,1,0.5/'", run, sizeof run);
    assert_int_equal(render(run, out, &err), 0);
    free(err);
    csv = text_of(out, "data/breakdown-decode-32K-graph.csv");
    expect_in(csv, "\nzigzag,84.036,0,1.5,67.536,5,0,4,6,0,4,1.5,-1,88.036,2.5\n");
    free(csv);
    svg = text_of(out, "breakdown-decode-32K-graph.svg");
    expect_in(svg, "attn-fused");
    free(svg);
}

/* One context and only layouts of one budget (duo-cat, zigzag): every line
 * plot has a single x, the KV cache a single size, which gnuplot cannot
 * autoscale around (and warns). */
static void a_run_at_one_context_renders(void **state) {
    char run[128], out[128], *err;
    make_run(*state, "sed -e '/,8192,/d;/,full,/d;/,streaming,/d'", run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(run, out, &err), 0);
    expect_only_plots_lines(err);
    expect_png(out, "kvcache");
    expect_png(out, "latency-graph");
    free(err);
}

static void without_kernels_csv_skips_that_plot(void **state) {
    char run[128], out[128], *err;
    make_run(*state, NULL, run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(run, out, &err), 0);
    assert_non_null(strstr(err, "plots: kernels: skipped"));
    assert_false(exists(out, "kernels-decode-32K-graph.png"));
    expect_png(out, "breakdown-decode-32K-graph");
    expect_svg(out, "latency-graph");
    free(err);
}

/* The fixture as a run that swept two decode kernel variants: today's
 * decode_kernel and prefill_kernel columns (the default variant of each
 * row's phase, in its phase's column), and every decode row once more for a
 * variant "one-launch" at half the latency. */
#define WITH_VARIANTS                                                                                      \
    "awk -F, -v OFS=, 'NR == 1 { print $0 \",decode_kernel,prefill_kernel\"; next }"                         \
    " $2 == \"prefill\" { print $0 \",,fa2\"; next } { print $0 \",split-combine,\";"                       \
    " $11 /= 2; $12 /= 2; $13 /= 2; print $0 \",one-launch,\" }'"

/* One variant per phase is drawn: the first row's, or PLOT_DECODE_KERNEL's;
 * each duo row pairs with the zigzag row of its own variant, and the
 * plots' fixed text names the variant. */
static void one_kernel_variant_per_phase_is_drawn(void **state) {
    char run[128], out[128], *err;
    make_run(*state, WITH_VARIANTS, run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(run, out, &err), 0);
    free(err);
    char *csv = text_of(out, "data/overhead-decode.csv");
    expect_in(csv, "graph,duo-cat,8192,15,42.9997,0\n");
    assert_null(strstr(csv, ",7.5,"));
    free(csv);
    char *gp = text_of(out, "data/overhead-decode.gp");
    expect_in(gp, "fixed = 'B=1, sparsity 0.5, decode kernel split-combine'");
    free(gp);
    assert_int_equal(render_with("PLOT_DECODE_KERNEL=one-launch", run, out, &err), 0);
    free(err);
    csv = text_of(out, "data/overhead-decode.csv");
    expect_in(csv, "graph,duo-cat,8192,7.5,42.9997,0\n");
    assert_null(strstr(csv, ",15,"));
    free(csv);
    csv = text_of(out, "data/latency-graph.csv");
    expect_in(csv, "prefill,");  /* prefill keeps its one variant */
    free(csv);
    earlier_render e;
    render_good(*state, &e);
    char want[256];
    snprintf(want, sizeof want, "%s/results.csv has no decode rows of kernel variant bogus (it has: split-combine, "
                                "one-launch)", run);
    assert_int_equal(render_with("PLOT_DECODE_KERNEL=bogus", run, e.out, &err), 2);
    expect_in(err, want);
    free(err);
    expect_untouched(&e);
}

/* A run whose results.csv is the fixture's through filter is refused with
 * "RUN/results.csv<rest>", and an earlier render into the same folder stays. */
static void expect_results_refused(const char *dir, const char *filter, const char *rest) {
    char run[128], want[256];
    earlier_render e;
    render_good(dir, &e);
    make_run(dir, filter, run, sizeof run);
    snprintf(want, sizeof want, "%s/results.csv%s", run, rest);
    expect_refused(run, &e, want);
}

static void a_missing_column_or_no_rows_is_one_clear_error(void **state) {
    expect_results_refused(*state, "sed -e '1s/,median_us,/,median,/'", " has no column \"median_us\"");
    expect_results_refused(*state, "sed -e '2,$d'", " has no data rows");
}

/* A last row cut short (a crash mid-write): without its newline, or with
 * one but fewer fields. */
static void a_torn_results_csv_is_one_clear_error(void **state) {
    expect_results_refused(*state, "head -c -20", ":33: no newline at the end (a torn row)");
    expect_results_refused(*state, "sed -e '$s/,[^,]*,[^,]*,[^,]*,[^,]*$//'",
                           ":33: 38 fields where the header has 42 (a torn or corrupt row)");
}

static void a_value_that_is_not_a_number_is_one_clear_error(void **state) {
    expect_results_refused(*state, "sed -e '3s/,47.768,46.813,/,abc,46.813,/'",
                           ":3: median_us is 'abc', expected a positive number");
    expect_results_refused(*state, "sed -e '3s/,47.768,46.813,/,0,46.813,/'",
                           ":3: median_us is '0', expected a positive number");
    expect_results_refused(*state, "sed -e '4s/,0,10,0,4,/,0,10,nan,4,/'", ":4: copy_us is 'nan', expected a number");
    expect_results_refused(*state, "sed -e '3s/,0.104673,0,/,0.104673,2,/'", ":3: host_paced is '2', expected 0 or 1");
}

/* env.json names the GPU and the ceilings: missing, empty, cut short, with
 * text after it, or without the ceilings, it stops the plots. */
static void a_missing_or_broken_env_json_is_one_clear_error(void **state) {
    static const struct {
        const char *make, *want;
    } cases[] = {
        {"rm", ": no such file (zz-bench run writes it into the run folder)"},
        {": >", ": empty"},
        {"head -c 200 " FIXTURE "/env.json >", ":7: not JSON: the file ends inside its object (cut short?)"},
        {"echo } | cat " FIXTURE "/env.json - >", ":21: not JSON: '}' outside the top-level object"},
        {"sed -e 's/\"sm_count\": 4/\"sm_count\": [4}/' " FIXTURE "/env.json >", ":8: not JSON: '}' does not close the open '['"},
        {"sed -e '/copy_gbps/d' " FIXTURE "/env.json >", ": ceilings: copy_gbps is '', expected a positive number"},
        {"sed -e 's/\"gemm_tflops\": [0-9.]*/\"gemm_tflops\": null/' " FIXTURE "/env.json >",
         ": ceilings: gemm_tflops is 'null', expected a positive number"},
        {"sed -e '/\"name\": \"Test/d' " FIXTURE "/env.json >", ": no \"name\" in its \"gpu\" object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char run[128], cmd[512], want[256];
        earlier_render e;
        render_good(*state, &e);
        make_run(*state, NULL, run, sizeof run);
        snprintf(cmd, sizeof cmd, "%s '%s/env.json'", cases[i].make, run);
        assert_int_equal(system(cmd), 0);
        snprintf(want, sizeof want, "%s/env.json%s", run, cases[i].want);
        expect_refused(run, &e, want);
    }
}

static void a_missing_run_folder_is_one_clear_error(void **state) {
    char out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render("tests/fixtures/no-such-run", out, &err), 2);
    assert_string_equal(err, "plots: error: tests/fixtures/no-such-run: no such run folder\n");
    free(err);
}

/* gnuplot failing on one plot, or warning on one, replaces no picture of
 * the earlier render, not even those drawn before the failure. */
static void a_failing_gnuplot_replaces_nothing(void **state) {
    static const char *const fakes[] = {
        "case \"$*\" in *kvcache*) echo broken >&2; exit 1;; esac; exec gnuplot \"$@\"",
        "case \"$*\" in *kvcache*) echo \"warning: Skipping data file\" >&2;; esac; exec gnuplot \"$@\"",
    };
    for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++) {
        char fake[256], env[512], cmd[1024], *err;
        earlier_render e;
        render_good(*state, &e);
        snprintf(fake, sizeof fake, "%s/fake-gnuplot", (const char *)*state);
        snprintf(cmd, sizeof cmd, "printf '#!/bin/sh\\n%%s\\n' '%s' > '%s' && chmod +x '%s'", fakes[i], fake, fake);
        assert_int_equal(system(cmd), 0);
        snprintf(env, sizeof env, "GNUPLOT='%s'", fake);
        assert_int_equal(render_with(env, FIXTURE, e.out, &err), 1);
        expect_in(err, "plots: error: kvcache.gp failed for kvcache.png: ");
        /* one error line, after the fixture's one skip (it has no model-step rows) */
        expect_in(err, "plots: reproduce: skipped");
        assert_int_equal(count_lines(err), 2);
        free(err);
        expect_untouched(&e);
    }
}

/* gnuplot unpacked from .debs/ (scripts/need-deb) under build/prefix is run
 * first, with its libraries on LD_LIBRARY_PATH and a fontconfig file that
 * adds the fonts unpacked with it: here a stand-in in a copy of plots/ and
 * scripts/ that logs its call, keeps that file and runs the system's. */
static void prefers_the_gnuplot_unpacked_into_build_prefix(void **state) {
    const char *dir = *state;
    char cmd[1024], tree[128], out[160];
    snprintf(tree, sizeof tree, "%s/tree", dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/build/prefix/usr/bin' && cp -r plots scripts '%s/' && "
             "printf '#!/bin/sh\\necho \"$LD_LIBRARY_PATH\" >> \"%s/calls\"\\ncp \"$FONTCONFIG_FILE\" \"%s/\"\\n"
             "exec gnuplot \"$@\"\\n' > '%s/build/prefix/usr/bin/gnuplot' && chmod +x '%s/build/prefix/usr/bin/gnuplot'",
             tree, tree, dir, dir, tree, tree);
    assert_int_equal(system(cmd), 0);
    snprintf(out, sizeof out, "%s/plots", dir);
    snprintf(cmd, sizeof cmd, "'%s/plots/render.sh' " FIXTURE " '%s' >/dev/null 2>/dev/null", tree, out);
    assert_int_equal(system(cmd), 0);
    char *calls = text_of(dir, "calls");
    assert_int_equal(count_lines(calls), 18);  /* 9 plots, PNG and SVG */
    char want[512];
    snprintf(want, sizeof want, "%s/plots/../build/prefix/usr/lib/x86_64-linux-gnu:%s/plots/../build/prefix/lib/x86_64-linux-gnu",
             tree, tree);
    assert_int_equal(strncmp(calls, want, strlen(want)), 0);
    free(calls);
    char *fonts = text_of(dir, "fonts.conf");
    snprintf(want, sizeof want, "<dir>%s/build/prefix/usr/share/fonts</dir>", tree);
    expect_in(fonts, want);
    expect_in(fonts, "<include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>");
    free(fonts);
    expect_png(out, "kvcache");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(renders_every_plot_of_the_fixture, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(renders_a_run_written_before_the_new_columns, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(draws_duoattention_s_points_of_a_reproduce_run, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(joins_the_overhead_against_zigzag, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(host_paced_rows_are_marked_by_their_column, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_breakdown_has_the_span_outside_and_every_attention_column, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(a_run_at_one_context_renders, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(without_kernels_csv_skips_that_plot, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_or_no_rows_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_torn_results_csv_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_value_that_is_not_a_number_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_or_broken_env_json_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_run_folder_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_failing_gnuplot_replaces_nothing, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(prefers_the_gnuplot_unpacked_into_build_prefix, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(one_kernel_variant_per_phase_is_drawn, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
