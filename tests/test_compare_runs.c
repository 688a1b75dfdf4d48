/* scripts/compare-runs over tests/fixtures/compare-runs/results.csv (its
 * README lists the rows) and copies edited by sed: GPU-paced medians are
 * held to the limit, host-paced ones (in either run) only reported with
 * the change of their minimum, columns are found by name in each file, and
 * a file without a needed column stops with one clear line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "scratch.h"

#define FIXTURE "tests/fixtures/compare-runs/results.csv"
#define ZIGZAG_EAGER "tiny,decode,1,8192,0,4,8,0.5,zigzag,eager,hot"
#define ZIGZAG_GRAPH "tiny,decode,1,8192,0,4,8,0.5,zigzag,graph,hot"
/* zigzag graph's median 500 -> 515 µs (+3 %), its minimum 490 -> 494.9 µs (+1 %) */
#define MOVE_3_PERCENT "/zigzag,graph/s/,500,490,/,515,494.9,/"
/* and its host enqueue 3.5 -> 300 µs: over 30 % of the step */
#define HOST_PACED "/zigzag,graph/s/,3\\.5,/,300,/"

typedef struct {
    int status;
    char *out, *err;
} run_result;

/* scripts/compare-runs A B [LIMIT], its output kept in dir. */
static run_result compare(const char *dir, const char *a, const char *b, const char *limit) {
    char cmd[1024], out_path[256], err_path[256];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "scripts/compare-runs '%s' '%s' %s >'%s' 2>'%s'", a, b, limit ? limit : "", out_path,
             err_path);
    int status = system(cmd);
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out_path, NULL),
                    read_file(err_path, NULL)};
    assert_non_null(r.out);
    assert_non_null(r.err);
    return r;
}

static void free_result(run_result *r) {
    free(r->out);
    free(r->err);
}

/* dir/name: the fixture edited by sed. */
static const char *edited(const char *dir, const char *name, const char *sed, char *path, size_t size) {
    char cmd[1024];
    snprintf(path, size, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "sed -e '%s' " FIXTURE " > '%s'", sed, path);
    assert_int_equal(system(cmd), 0);
    return path;
}

/* The sed command that swaps columns first < second (not the last) on every line, header included. */
static void swap_columns(int first, int second, char *sed, size_t size) {
    snprintf(sed, size, "s/^\\(\\([^,]*,\\)\\{%d\\}\\)\\([^,]*\\),\\(\\([^,]*,\\)\\{%d\\}\\)\\([^,]*\\),/\\1\\6,\\4\\3,/",
             first - 1, second - first - 1);
}

static void expect_in(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("lacks '%s' in:\n%s", needle, text);
}

/* The line of out that starts with key ends with tail. */
static void expect_line(const char *out, const char *key, const char *tail) {
    for (const char *line = out; *line; line = strchr(line, '\n') + 1) {
        const size_t len = strcspn(line, "\n"), tail_len = strlen(tail);
        if (strncmp(line, key, strlen(key)) != 0 || line[strlen(key)] != ' ') continue;
        if (len < tail_len || strncmp(line + len - tail_len, tail, tail_len) != 0)
            fail_msg("line '%.*s' does not end with '%s'", (int)len, line, tail);
        return;
    }
    fail_msg("no line for %s in:\n%s", key, out);
}

/* ---- tests ---- */

static void identical_runs_are_all_within(void **state) {
    run_result r = compare(*state, FIXTURE, FIXTURE, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    expect_line(r.out, ZIGZAG_GRAPH, "+0.00%");
    expect_line(r.out, ZIGZAG_EAGER, "+0.00%  min   +0.00%  host-paced");  /* host enqueue exactly 30 % */
    expect_in(r.out, "\n3 of 3 GPU-paced medians within 2%\n"
                     "2 host-paced rows (host enqueue >= 30% of the step): "
                     "medians moved +0.00% .. +0.00%, minima +0.00% .. +0.00%\n");
    free_result(&r);
}

static void a_gpu_paced_median_beyond_the_limit_fails(void **state) {
    char b[256];
    run_result r = compare(*state, FIXTURE, edited(*state, "b.csv", MOVE_3_PERCENT, b, sizeof b), NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, ZIGZAG_GRAPH, "500.0        515.0   +3.00%  <-- beyond 2%");
    expect_in(r.out, "\n2 of 3 GPU-paced medians within 2%\n");
    free_result(&r);
}

/* Host-paced in B only, then (the runs swapped) in A only. */
static void host_paced_in_either_run_is_not_held_to_the_limit(void **state) {
    char b[256];
    edited(*state, "b.csv", MOVE_3_PERCENT ";" HOST_PACED, b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%  min   +1.00%  host-paced");
    expect_in(r.out, "\n2 of 2 GPU-paced medians within 2%\n"
                     "3 host-paced rows (host enqueue >= 30% of the step): "
                     "medians moved +0.00% .. +3.00%, minima +0.00% .. +1.00%\n");
    free_result(&r);
    r = compare(*state, b, FIXTURE, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "-2.91%  min   -0.99%  host-paced");
    expect_in(r.out, "medians moved -2.91% .. +0.00%, minima -0.99% .. +0.00%\n");
    free_result(&r);
}

/* B's median and host enqueue trade places, and its minimum goes first,
 * ahead of the key columns. */
static void columns_are_found_by_name_in_each_file(void **state) {
    char sed[512], swap_median_host[160], swap_model_min[160], b[256];
    swap_columns(17, 33, swap_median_host, sizeof swap_median_host);
    swap_columns(1, 18, swap_model_min, sizeof swap_model_min);
    snprintf(sed, sizeof sed, "%s;%s;%s;%s", MOVE_3_PERCENT, HOST_PACED, swap_median_host, swap_model_min);
    edited(*state, "b.csv", sed, b, sizeof b);
    char *moved = read_file(b, NULL);
    assert_int_equal(strncmp(moved, "min_us,phase,", 13), 0);
    free(moved);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%  min   +1.00%  host-paced");
    expect_in(r.out, "\n2 of 2 GPU-paced medians within 2%\n3 host-paced rows");
    assert_null(strstr(r.out, "only in"));
    free_result(&r);
}

static void a_missing_column_is_one_clear_error(void **state) {
    char a[256], b[256], want[512];
    edited(*state, "b.csv", "1s/,host_enqueue_us,/,host_us,/", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 2);
    snprintf(want, sizeof want, "compare-runs: %s has no column \"host_enqueue_us\"\n", b);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
    free_result(&r);
    edited(*state, "a.csv", "1s/,min_us,/,minimum_us,/", a, sizeof a);
    r = compare(*state, a, FIXTURE, NULL);
    assert_int_equal(r.status, 2);
    snprintf(want, sizeof want, "compare-runs: %s has no column \"min_us\"\n", a);
    assert_string_equal(r.err, want);
    free_result(&r);
}

static void the_limit_argument_is_respected(void **state) {
    char b[256];
    edited(*state, "b.csv", MOVE_3_PERCENT, b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, "5");
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%");
    expect_in(r.out, "\n3 of 3 GPU-paced medians within 5%\n");
    free_result(&r);
    r = compare(*state, FIXTURE, b, "2.5");
    assert_int_equal(r.status, 1);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%  <-- beyond 2.5%");
    free_result(&r);
    r = compare(*state, FIXTURE, b, "much");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "usage: compare-runs A/results.csv B/results.csv [limit-percent]\n");
    free_result(&r);
}

static void configurations_in_one_run_only_are_listed_uncounted(void **state) {
    char b[256];
    edited(*state, "b.csv", "/prefill/s/,8192,4096,/,16384,4096,/", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 0);
    expect_in(r.out, "\nonly in A: tiny,prefill,1,8192,4096,4,8,0.5,zigzag,graph,hot\n"
                     "only in B: tiny,prefill,1,16384,4096,4,8,0.5,zigzag,graph,hot\n"
                     "2 of 2 GPU-paced medians within 2%\n");
    free_result(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identical_runs_are_all_within, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_gpu_paced_median_beyond_the_limit_fails, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(host_paced_in_either_run_is_not_held_to_the_limit, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(columns_are_found_by_name_in_each_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_limit_argument_is_respected, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(configurations_in_one_run_only_are_listed_uncounted, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
