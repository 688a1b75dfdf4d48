/* make plots: plots/render.sh renders the hand-written run folder
 * tests/fixtures/plots (its results.csv has the columns in another order
 * than zz-bench writes them) into real PNG and SVG files, and a results.csv
 * without a needed column or without rows stops with one clear line and no
 * picture. Needs gnuplot (`make test` installs it before running this). */
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

#include "scratch.h"

#define FIXTURE "tests/fixtures/plots"

/* Run plots/render.sh RUN OUT; its exit status, and its stderr in *err. */
static int render(const char *run, const char *out, char **err) {
    char cmd[512], err_path[256];
    snprintf(err_path, sizeof err_path, "%s.stderr", out);
    snprintf(cmd, sizeof cmd, "plots/render.sh '%s' '%s' >/dev/null 2>'%s'", run, out, err_path);
    int status = system(cmd);
    *err = read_file(err_path, NULL);
    assert_non_null(*err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A run folder DIR/run whose results.csv is the fixture's, edited by sed
 * (NULL: unchanged); it has no kernels.csv or env.json. */
static void make_run(const char *dir, const char *sed, char *run, size_t size) {
    char cmd[512];
    snprintf(run, size, "%s/run", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && sed -e '%s' " FIXTURE "/results.csv > '%s/results.csv'", run,
             sed ? sed : "", run);
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
    char path[256];
    snprintf(path, sizeof path, "%s/breakdown-decode-32K-graph.svg", out);
    char *svg = read_file(path, NULL);
    assert_non_null(strstr(svg, "Test GPU"));
    assert_non_null(strstr(svg, "tiny"));
    free(svg);
    free(err);
}

/* The overhead table joins each duo row with its zigzag row: the fixture's
 * decode 8K graph rows are 49.884 and 34.884 µs. */
static void joins_the_overhead_against_zigzag(void **state) {
    char out[128], path[256], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_equal(render(FIXTURE, out, &err), 0);
    snprintf(path, sizeof path, "%s/data/overhead-decode.csv", out);
    char *csv = read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "mode,layout,ctx,overhead_us,overhead_pct\n"));
    assert_non_null(strstr(csv, "graph,duo-cat,8192,15,42.9997\n"));
    free(csv);
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

static void a_missing_column_is_one_clear_error(void **state) {
    char run[128], out[128], want[256], *err;
    make_run(*state, "1s/,median_us,/,median,/", run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_not_equal(render(run, out, &err), 0);
    snprintf(want, sizeof want, "plots: error: %s/results.csv has no column \"median_us\"\n", run);
    assert_string_equal(err, want);
    assert_false(exists(out, "latency-graph.png"));
    free(err);
}

static void no_rows_is_one_clear_error(void **state) {
    char run[128], out[128], want[256], *err;
    make_run(*state, "2,$d", run, sizeof run);
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_not_equal(render(run, out, &err), 0);
    snprintf(want, sizeof want, "plots: error: %s/results.csv has no data rows\n", run);
    assert_string_equal(err, want);
    assert_false(exists(out, "latency-graph.png"));
    free(err);
}

static void a_missing_run_folder_is_one_clear_error(void **state) {
    char out[128], *err;
    snprintf(out, sizeof out, "%s/plots", (const char *)*state);
    assert_int_not_equal(render("tests/fixtures/no-such-run", out, &err), 0);
    assert_string_equal(err, "plots: error: tests/fixtures/no-such-run: no such run folder\n");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(renders_every_plot_of_the_fixture, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(joins_the_overhead_against_zigzag, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(without_kernels_csv_skips_that_plot, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(no_rows_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_run_folder_is_one_clear_error, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
