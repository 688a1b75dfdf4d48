/* scripts/gbench-vs-kernels: zz-gbench's decode split kernels against the
 * same kernels in kernels.csv, on the hand-written fixtures of
 * tests/fixtures/gbench-vs-kernels (decode.json with every kind of entry the
 * script meets: a whole decode, a split, a combine, a streaming split, a
 * skipped benchmark; kernels.csv with eager and prefill rows that must not
 * match). */
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

#define FIXTURE "tests/fixtures/gbench-vs-kernels"

/* Runs the script with ARGS; its exit status, its stdout and stderr together in *out. */
static int compare(const char *dir, const char *args, char **out) {
    char cmd[1024], path[256];
    snprintf(path, sizeof path, "%s/out", dir);
    snprintf(cmd, sizeof cmd, "scripts/gbench-vs-kernels %s >'%s' 2>&1", args, path);
    int status = system(cmd);
    *out = read_file(path, NULL);
    assert_non_null(*out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* DIR/kernels.csv: the fixture's, edited by sed. */
static void edited_csv(const char *dir, const char *sed) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sed -e '%s' " FIXTURE "/kernels.csv >'%s/kernels.csv'", sed, dir);
    assert_int_equal(system(cmd), 0);
}

static void graph_split_kernels_match_by_shape(void **state) {
    char *out;
    assert_int_equal(compare(*state, FIXTURE "/decode.json " FIXTURE "/kernels.csv", &out), 0);
    /* 2646 GB/s against 2700: -2 %; the eager row (2000 GB/s) is not a match. */
    assert_non_null(strstr(out, "decode_full_split/llama3-8b/B:1/S:32768 "));
    assert_non_null(strstr(out, "2646     2700   -2.00% GB/s\n"));
    assert_non_null(strstr(out, "decode_streaming_split/llama3-8b/B:1/S:32768/sink:128/recent:256"));
    assert_non_null(strstr(out, "352      360   -2.22% GB/s\n"));
    assert_non_null(strstr(out, "+10.00% time, not counted\n"));  /* the combine: 4.4 us against 4.0 */
    assert_non_null(strstr(out, "2 of 2 split kernels within 5%"));
    assert_null(strstr(out, "decode_full/"));  /* split + combine together has no kernels.csv twin */
    free(out);
}

static void a_change_beyond_the_limit_fails(void **state) {
    char *out;
    assert_int_equal(compare(*state, "-l 2.1 " FIXTURE "/decode.json " FIXTURE "/kernels.csv", &out), 1);
    assert_non_null(strstr(out, "-2.22% GB/s  <-- beyond 2.1%\n"));
    assert_non_null(strstr(out, "1 of 2 split kernels within 2.1%"));
    free(out);
}

/* kernels.csv gives combines bytes (work.h), but a combine's CUPTI time
 * includes its wait for the split kernel: listed by time, never counted,
 * even with a GB/s far from zz-gbench's 200. */
static void combines_are_not_counted_even_with_bytes(void **state) {
    char *out, args[512];
    edited_csv(*state, "/combine_kernel/s/,4\\.4,,,,$/,4.4,900,,,/");
    snprintf(args, sizeof args, FIXTURE "/decode.json %s/kernels.csv", (const char *)*state);
    assert_int_equal(compare(*state, args, &out), 0);
    assert_non_null(strstr(out, "+10.00% time, not counted\n"));
    assert_non_null(strstr(out, "2 of 2 split kernels within 5%"));
    free(out);
}

static void the_median_of_repetitions_wins(void **state) {
    char *out;
    assert_int_equal(compare(*state, FIXTURE "/repetitions.json " FIXTURE "/kernels.csv", &out), 0);
    assert_non_null(strstr(out, "50.00     50.00     2700     2700   +0.00% GB/s\n"));
    free(out);
}

static void a_missing_column_is_one_clear_error(void **state) {
    char args[512], *out;
    edited_csv(*state, "1s/,gbps,/,rate,/");
    snprintf(args, sizeof args, FIXTURE "/decode.json '%s/kernels.csv'", (const char *)*state);
    assert_int_equal(compare(*state, args, &out), 2);
    assert_non_null(strstr(out, "kernels.csv has no gbps column\n"));
    assert_null(strstr(out, "matched"));
    free(out);
}

static void no_match_fails(void **state) {
    char args[512], *out;
    edited_csv(*state, "s/,graph,/,eager,/");
    snprintf(args, sizeof args, FIXTURE "/decode.json '%s/kernels.csv'", (const char *)*state);
    assert_int_equal(compare(*state, args, &out), 1);
    assert_non_null(strstr(out, "no split kernel of the JSON matched"));
    free(out);
}

static void usage_errors(void **state) {
    char *out;
    assert_int_equal(compare(*state, FIXTURE "/decode.json", &out), 2);
    assert_non_null(strstr(out, "usage: gbench-vs-kernels"));
    free(out);
    assert_int_equal(compare(*state, "-l five " FIXTURE "/decode.json " FIXTURE "/kernels.csv", &out), 2);
    assert_non_null(strstr(out, "-l five: need a number"));
    free(out);
    assert_int_equal(compare(*state, FIXTURE "/decode.json no-such.csv", &out), 2);
    assert_non_null(strstr(out, "cannot read no-such.csv"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(graph_split_kernels_match_by_shape, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_change_beyond_the_limit_fails, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(combines_are_not_counted_even_with_bytes, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_median_of_repetitions_wins, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(no_match_fails, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(usage_errors, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
