/* scripts/compare-runs over the fixtures of tests/fixtures/compare-runs
 * (its README lists their rows) and copies edited by sed: GPU-paced
 * medians are held to the limit, host-paced ones (in either run) only
 * reported with the change of their minimum, by the host_paced column or,
 * in files without it, by the fallback rule of scripts/csv.awk; columns
 * are found by name in each file; --decomposition holds the Δ (mixed −
 * zigzag) of every part to max(limit % of the step, floor µs); and every
 * bad input (a missing column, no rows, a torn, corrupt or non-numeric row)
 * stops with one line naming the file and line, exit status 2. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "report.h"
#include "scratch.h"

#define FIXTURES "tests/fixtures/compare-runs/"
#define FIXTURE FIXTURES "results.csv"       /* written before host_paced and span_us existed */
#define NEW_FORMAT FIXTURES "new-format.csv"  /* with them */
#define ZIGZAG_EAGER "tiny,decode,1,8192,0,4,8,0.5,zigzag,eager,hot"
#define ZIGZAG_GRAPH "tiny,decode,1,8192,0,4,8,0.5,zigzag,graph,hot"
#define DUO_CAT_EAGER "tiny,decode,1,8192,0,4,8,0.5,duo-cat,eager,hot"
#define DUO_CAT_GRAPH "tiny,decode,1,8192,0,4,8,0.5,duo-cat,graph,hot"
#define DUO_SLICES_GRAPH "tiny,decode,1,8192,0,4,8,0.5,duo-slices,graph,hot"
#define DUO_CAT_PREFILL "tiny,prefill,1,8192,4096,4,8,0.5,duo-cat,graph,hot"
/* zigzag graph's median 500 -> 515 µs (+3 %), its minimum 490 -> 494.9 µs (+1 %) */
#define MOVE_3_PERCENT "/zigzag,graph/s/,500,490,/,515,494.9,/"
/* and its host enqueue 3.5 -> 480 µs: over 90 % of the step */
#define HOST_PACED "/zigzag,graph/s/,3\\.5,/,480,/"
#define FALLBACK_RULE "host_enqueue_us >= %g x median_us (no host_paced column)"
#define COLUMN_RULE "its host_paced column"

typedef struct {
    int status;
    char *out, *err;
} run_result;

/* scripts/compare-runs ARGS (already quoted as needed), its output kept in dir. */
static run_result compare_args(const char *dir, const char *args) {
    char cmd[1024], out_path[256], err_path[256];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "scripts/compare-runs %s >'%s' 2>'%s'", args, out_path, err_path);
    int status = system(cmd);
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out_path, NULL),
                    read_file(err_path, NULL)};
    assert_non_null(r.out);
    assert_non_null(r.err);
    return r;
}

/* scripts/compare-runs [--decomposition] A B [LIMIT [FLOOR]] */
static run_result compare(const char *dir, const char *a, const char *b, const char *limit) {
    char args[768];
    snprintf(args, sizeof args, "'%s' '%s' %s", a, b, limit ? limit : "");
    return compare_args(dir, args);
}
static run_result decompose(const char *dir, const char *a, const char *b, const char *limit_floor) {
    char args[768];
    snprintf(args, sizeof args, "--decomposition '%s' '%s' %s", a, b, limit_floor ? limit_floor : "");
    return compare_args(dir, args);
}

static void free_result(run_result *r) {
    free(r->out);
    free(r->err);
}

/* dir/name: file through a shell filter (e.g. sed -e '…'). */
static const char *filtered(const char *dir, const char *name, const char *file, const char *filter, char *path,
                            size_t size) {
    char cmd[1024];
    snprintf(path, size, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "%s < '%s' > '%s'", filter, file, path);
    assert_int_equal(system(cmd), 0);
    return path;
}

/* dir/name: file edited by sed. */
static const char *edited_file(const char *dir, const char *name, const char *file, const char *sed, char *path,
                               size_t size) {
    char filter[768];
    snprintf(filter, sizeof filter, "sed -e '%s'", sed);
    return filtered(dir, name, file, filter, path, size);
}
static const char *edited(const char *dir, const char *name, const char *sed, char *path, size_t size) {
    return edited_file(dir, name, FIXTURE, sed, path, size);
}

/* The sed command that swaps columns first < second (not the last) on every line, header included. */
static void swap_columns(int first, int second, char *sed, size_t size) {
    snprintf(sed, size, "s/^\\(\\([^,]*,\\)\\{%d\\}\\)\\([^,]*\\),\\(\\([^,]*,\\)\\{%d\\}\\)\\([^,]*\\),/\\1\\6,\\4\\3,/",
             first - 1, second - first - 1);
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

/* Bad input: status 2, nothing on stdout, exactly "compare-runs: <want>\n" on stderr. */
static void expect_refused(run_result *r, const char *want) {
    char line[1024];
    snprintf(line, sizeof line, "compare-runs: %s\n", want);
    assert_int_equal(r->status, 2);
    assert_string_equal(r->out, "");
    assert_string_equal(r->err, line);
    free_result(r);
}

/* ---- the medians ---- */

static void identical_runs_are_all_within(void **state) {
    char want[512];
    run_result r = compare(*state, FIXTURE, FIXTURE, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    expect_line(r.out, ZIGZAG_GRAPH, "+0.00%");
    expect_line(r.out, ZIGZAG_EAGER, "+0.00%  min   +0.00%  host-paced");
    snprintf(want, sizeof want,
             "\n4 of 4 GPU-paced medians within 2%%\n"
             "host-paced rows: by " FALLBACK_RULE " in both runs\n"
             "2 host-paced rows: medians moved +0.00%% .. +0.00%%, minima +0.00%% .. +0.00%%\n",
             ZZ_HOST_PACED_FRACTION);
    expect_in(r.out, want);
    free_result(&r);
}

static void a_gpu_paced_median_beyond_the_limit_fails(void **state) {
    char b[256];
    run_result r = compare(*state, FIXTURE, edited(*state, "b.csv", MOVE_3_PERCENT, b, sizeof b), NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, ZIGZAG_GRAPH, "500.0        515.0   +3.00%  <-- beyond 2%");
    expect_in(r.out, "\n3 of 4 GPU-paced medians within 2%\n");
    free_result(&r);
}

/* Host-paced in B only, then (the runs swapped) in A only. */
static void host_paced_in_either_run_is_not_held_to_the_limit(void **state) {
    char b[256];
    edited(*state, "b.csv", MOVE_3_PERCENT ";" HOST_PACED, b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%  min   +1.00%  host-paced");
    expect_in(r.out, "\n3 of 3 GPU-paced medians within 2%\n");
    expect_in(r.out, "\n3 host-paced rows: medians moved +0.00% .. +3.00%, minima +0.00% .. +1.00%\n");
    free_result(&r);
    r = compare(*state, b, FIXTURE, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "-2.91%  min   -0.99%  host-paced");
    expect_in(r.out, "medians moved -2.91% .. +0.00%, minima -0.99% .. +0.00%\n");
    free_result(&r);
}

/* Without a host_paced column, a row is host-paced from a host enqueue of
 * exactly ZZ_HOST_PACED_FRACTION of its median step on, whatever that is. */
static void the_fallback_rule_starts_at_the_harness_threshold(void **state) {
    char sed[256], b[256];
    const double at = ZZ_HOST_PACED_FRACTION * 500;
    snprintf(sed, sizeof sed, "/zigzag,graph/s/,3\\.5,/,%.17g,/", at);
    run_result r = compare(*state, FIXTURE, edited(*state, "b.csv", sed, b, sizeof b), NULL);
    expect_line(r.out, ZIGZAG_GRAPH, "+0.00%  min   +0.00%  host-paced");
    free_result(&r);
    snprintf(sed, sizeof sed, "/zigzag,graph/s/,3\\.5,/,%.17g,/", nextafter(at, 0));
    r = compare(*state, FIXTURE, edited(*state, "b.csv", sed, b, sizeof b), NULL);
    expect_line(r.out, ZIGZAG_GRAPH, "500.0        500.0   +0.00%");
    free_result(&r);
}

/* scripts/csv.awk's copy of the threshold is the harness's. */
static void the_fallback_threshold_is_the_harness_threshold(void **state) {
    char cmd[1024], out[256], want[64];
    snprintf(out, sizeof out, "%s/fraction", (const char *)*state);
    snprintf(cmd, sizeof cmd,
             "echo 'BEGIN { printf \"%%.17g\", host_paced_fraction() }' > '%s.awk' && "
             "awk -f scripts/csv.awk -f '%s.awk' > '%s'", out, out, out);
    assert_int_equal(system(cmd), 0);
    char *got = read_file(out, NULL);
    snprintf(want, sizeof want, "%.17g", ZZ_HOST_PACED_FRACTION);
    assert_string_equal(got, want);
    free(got);
}

/* With a host_paced column the harness's verdict decides: zigzag eager
 * (host share 0.95) is held to the limit at host_paced 0, duo-slices graph
 * (host share 0.008) is not at host_paced 1. */
static void the_host_paced_column_decides_where_it_exists(void **state) {
    char b[256], want[512];
    run_result r = compare(*state, NEW_FORMAT, NEW_FORMAT, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, DUO_CAT_EAGER, "host-paced");
    expect_in(r.out, "\n6 of 6 GPU-paced medians within 2%\nhost-paced rows: by " COLUMN_RULE " in both runs\n");
    free_result(&r);
    edited_file(*state, "b.csv", NEW_FORMAT,
                "/zigzag,eager/s/,570,0.95,1,/,570,0.95,0,/;/duo-slices,graph/s/,4.5,0.008491,0,/,4.5,0.008491,1,/", b,
                sizeof b);
    r = compare(*state, b, b, NULL);
    expect_line(r.out, ZIGZAG_EAGER, "+0.00%");
    expect_line(r.out, DUO_SLICES_GRAPH, "host-paced");
    expect_in(r.out, "\n6 of 6 GPU-paced medians within 2%\n");
    free_result(&r);
    r = compare(*state, FIXTURE, NEW_FORMAT, NULL);
    snprintf(want, sizeof want, "\nhost-paced rows: A by " FALLBACK_RULE "; B by " COLUMN_RULE "\n",
             ZZ_HOST_PACED_FRACTION);
    expect_in(r.out, want);
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
    expect_in(r.out, "\n3 of 3 GPU-paced medians within 2%\n");
    assert_null(strstr(r.out, "only in"));
    free_result(&r);
}

static void a_missing_column_is_one_clear_error(void **state) {
    char a[256], b[256], want[512];
    edited(*state, "b.csv", "1s/,host_enqueue_us,/,host_us,/", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s has no column \"host_enqueue_us\"", b);
    expect_refused(&r, want);
    edited(*state, "a.csv", "1s/,min_us,/,minimum_us,/", a, sizeof a);
    r = compare(*state, a, FIXTURE, NULL);
    snprintf(want, sizeof want, "%s has no column \"min_us\"", a);
    expect_refused(&r, want);
}

static void the_limit_argument_is_respected(void **state) {
    char b[256];
    edited(*state, "b.csv", MOVE_3_PERCENT, b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, "5");
    assert_int_equal(r.status, 0);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%");
    expect_in(r.out, "\n4 of 4 GPU-paced medians within 5%\n");
    free_result(&r);
    r = compare(*state, FIXTURE, b, "2.5");
    assert_int_equal(r.status, 1);
    expect_line(r.out, ZIGZAG_GRAPH, "+3.00%  <-- beyond 2.5%");
    free_result(&r);
    const char *usage = "usage: compare-runs [--decomposition] A/results.csv B/results.csv [limit-percent] "
                        "[floor-us (with --decomposition)]\n";
    r = compare(*state, FIXTURE, b, "much");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, usage);
    free_result(&r);
    r = compare(*state, FIXTURE, b, "2 5");  /* a floor without --decomposition */
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, usage);
    free_result(&r);
}

static void configurations_in_one_run_only_are_listed_uncounted(void **state) {
    char b[256];
    edited(*state, "b.csv", "/prefill/s/,8192,4096,/,16384,4096,/", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    assert_int_equal(r.status, 0);
    expect_in(r.out, "\nonly in A: tiny,prefill,1,8192,4096,4,8,0.5,zigzag,graph,hot\n"
                     "only in B: tiny,prefill,1,16384,4096,4,8,0.5,zigzag,graph,hot\n"
                     "3 of 3 GPU-paced medians within 2%\n");
    free_result(&r);
}

/* ---- bad input: one line naming the file (and line), exit status 2 ---- */

static void a_file_without_rows_is_refused(void **state) {
    char b[256], want[512];
    edited(*state, "b.csv", "2,$d", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s: no data rows", b);
    expect_refused(&r, want);
    r = compare(*state, b, FIXTURE, NULL);
    expect_refused(&r, want);
    r = decompose(*state, NEW_FORMAT, b, NULL);
    expect_refused(&r, want);
}

/* The last row cut short, without its newline (a crash mid-write) or with
 * one, and a row of another CSV spliced in. */
static void a_torn_or_corrupt_row_is_refused(void **state) {
    char b[256], want[512];
    filtered(*state, "b.csv", FIXTURE, "head -c -30", b, sizeof b);
    run_result r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s:7: no newline at the end (a torn row)", b);
    expect_refused(&r, want);
    r = decompose(*state, b, NEW_FORMAT, NULL);
    expect_refused(&r, want);
    edited(*state, "b.csv", "$s/,[^,]*,[^,]*,[^,]*$//", b, sizeof b);
    r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s:7: 33 fields where the header has 36 (a torn or corrupt row)", b);
    expect_refused(&r, want);
    edited(*state, "b.csv", "3s/$/,extra,fields/", b, sizeof b);
    r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s:3: 38 fields where the header has 36 (a torn or corrupt row)", b);
    expect_refused(&r, want);
    edited(*state, "b.csv", "4r " NEW_FORMAT, b, sizeof b);
    r = compare(*state, FIXTURE, b, NULL);
    snprintf(want, sizeof want, "%s:5: 42 fields where the header has 36 (a torn or corrupt row)", b);
    expect_refused(&r, want);
}

/* file edited by sed as B, compared with file as A, is refused with
 * "B<rest>". */
static void expect_edit_refused(const char *dir, const char *file, const char *sed, const char *rest) {
    char b[256], want[512];
    edited_file(dir, "b.csv", file, sed, b, sizeof b);
    run_result r = compare(dir, file, b, NULL);
    snprintf(want, sizeof want, "%s%s", b, rest);
    expect_refused(&r, want);
}

/* A median that is empty, zero, negative, NaN or text would otherwise make
 * its row host-paced, which no limit holds. */
static void a_median_that_is_not_a_positive_number_is_refused(void **state) {
    static const char *const medians[] = {"", "0", "-500", "nan", "NaN", "inf", "abc", "5OO"};
    for (size_t i = 0; i < sizeof medians / sizeof medians[0]; i++) {
        char sed[128], rest[128];
        snprintf(sed, sizeof sed, "/zigzag,graph/s/,500,490,/,%s,490,/", medians[i]);
        snprintf(rest, sizeof rest, ":5: median_us is '%s', expected a positive number", medians[i]);
        expect_edit_refused(*state, FIXTURE, sed, rest);
    }
    expect_edit_refused(*state, FIXTURE, "/zigzag,graph/s/,500,490,/,500,0,/", ":5: min_us is '0', expected a positive number");
}

static void a_host_enqueue_or_verdict_that_is_not_a_number_is_refused(void **state) {
    expect_edit_refused(*state, FIXTURE, "/zigzag,graph/s/,3\\.5,/,fast,/", ":5: host_enqueue_us is 'fast', expected a number");
    expect_edit_refused(*state, NEW_FORMAT, "/zigzag,graph/s/,3.5,0.007,0,/,,0.007,0,/",
                        ":4: host_enqueue_us is '', expected a number");
    expect_edit_refused(*state, NEW_FORMAT, "/zigzag,graph/s/,3.5,0.007,0,/,3.5,0.007,yes,/",
                        ":4: host_paced is 'yes', expected 0 or 1");
}

static void a_repeated_configuration_is_refused(void **state) {
    expect_edit_refused(*state, FIXTURE, "3p", ":4: a second row for tiny,decode,1,8192,0,4,8,0.5,streaming,graph,hot");
}

/* ---- the decomposition ---- */

static void identical_decompositions_are_all_within(void **state) {
    run_result r = decompose(*state, NEW_FORMAT, NEW_FORMAT, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    const char *zero = "       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0";
    char tail[256];
    snprintf(tail, sizeof tail, "11.2%s", zero);  /* 2 % of 560 µs */
    expect_line(r.out, DUO_CAT_GRAPH, tail);
    snprintf(tail, sizeof tail, "420.0%s", zero);  /* 2 % of 21000 µs */
    expect_line(r.out, DUO_CAT_PREFILL, tail);
    expect_in(r.out, "\nhost-paced, not held to the limit:\n" DUO_CAT_EAGER " ");
    expect_in(r.out, "\n3 of 3 GPU-paced mixed rows: every part's Δ moved within max(2% of the step, 5 us)\n"
                     "host-paced rows: by " COLUMN_RULE " in both runs\n");
    free_result(&r);
}

/* B's duo-cat graph idle 60 -> 75 µs, its median unchanged: idle and span
 * +15, outside −15 against a limit of 11.2 µs (2 % of 560). */
#define IDLE_PLUS_15 "/decode.*duo-cat,graph/s/,550,10,\\(.*\\),60,0,0,$/,565,-5,\\1,75,0,0,/"

static void a_part_that_moved_beyond_the_limit_fails(void **state) {
    char b[256];
    edited_file(*state, "b.csv", NEW_FORMAT, IDLE_PLUS_15, b, sizeof b);
    run_result r = decompose(*state, NEW_FORMAT, b, NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, DUO_CAT_GRAPH,
                "11.2       +0.0       +0.0       +0.0       +0.0      +15.0       +0.0      +15.0      -15.0       +0.0"
                "  <-- beyond: idle, span, outside");
    expect_in(r.out, "\n2 of 3 GPU-paced mixed rows: every part's Δ moved within max(2% of the step, 5 us)\n");
    free_result(&r);
    /* Moving zigzag's idle instead moves the Δ the other way. */
    edited_file(*state, "b.csv", NEW_FORMAT, "/decode.*zigzag,graph/s/,490,10,\\(.*\\),40,0,0,$/,505,-5,\\1,55,0,0,/", b,
                sizeof b);
    r = decompose(*state, NEW_FORMAT, b, NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, DUO_CAT_GRAPH,
                "11.2       +0.0       +0.0       +0.0       +0.0      -15.0       +0.0      -15.0      +15.0       +0.0"
                "  <-- beyond: idle, span, outside");
    free_result(&r);
}

static void the_limit_and_the_floor_arguments_are_respected(void **state) {
    char b[256];
    edited_file(*state, "b.csv", NEW_FORMAT, IDLE_PLUS_15, b, sizeof b);
    run_result r = decompose(*state, NEW_FORMAT, b, "3");  /* 16.8 µs */
    assert_int_equal(r.status, 0);
    expect_in(r.out, "\n3 of 3 GPU-paced mixed rows: every part's Δ moved within max(3% of the step, 5 us)\n");
    free_result(&r);
    r = decompose(*state, NEW_FORMAT, b, "0 16");
    assert_int_equal(r.status, 0);
    expect_line(r.out, DUO_CAT_GRAPH, "16.0       +0.0       +0.0       +0.0       +0.0      +15.0       +0.0      +15.0"
                                      "      -15.0       +0.0");
    free_result(&r);
    r = decompose(*state, NEW_FORMAT, b, "0 14");
    assert_int_equal(r.status, 1);
    expect_in(r.out, "\n2 of 3 GPU-paced mixed rows: every part's Δ moved within max(0% of the step, 14 us)\n");
    free_result(&r);
    r = decompose(*state, NEW_FORMAT, b, "2 5 7");
    assert_int_equal(r.status, 2);
    free_result(&r);
    r = decompose(*state, NEW_FORMAT, b, "2 x");
    assert_int_equal(r.status, 2);
    free_result(&r);
}

/* Attention is every attn_*_us column: a new category column attn_fused_us
 * in B, 12 µs in duo-cat graph only, moves its attention Δ by 12. */
static void attention_sums_every_attn_column(void **state) {
    char b[256];
    edited_file(*state, "b.csv", NEW_FORMAT,
                "1s/$/,attn_fused_us/;2,$s/$/,0/;/decode.*duo-cat,graph/s/,0$/,12/", b, sizeof b);
    run_result r = decompose(*state, NEW_FORMAT, b, NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, DUO_CAT_GRAPH, "11.2      +12.0       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0"
                                      "       +0.0       +0.0  <-- beyond: attention");
    free_result(&r);
}

/* duo-cat eager (host_paced 1) moving 100 µs of idle fails nothing. */
static void host_paced_rows_are_listed_apart(void **state) {
    char b[256];
    edited_file(*state, "b.csv", NEW_FORMAT, "/duo-cat,eager/s/,190,0,0,$/,290,0,0,/", b, sizeof b);
    run_result r = decompose(*state, NEW_FORMAT, b, NULL);
    assert_int_equal(r.status, 0);
    expect_in(r.out, "\nhost-paced, not held to the limit:\n" DUO_CAT_EAGER " ");
    expect_line(r.out, DUO_CAT_EAGER, "14.0       +0.0       +0.0       +0.0       +0.0     +100.0       +0.0       +0.0"
                                      "       +0.0       +0.0");
    free_result(&r);
}

/* A row whose attributed steps were host-paced (results.csv's
 * attributed_host_paced) is listed apart like a host-paced one: its idle
 * moved by 100 µs, beyond the limit only when the column says 0. */
static void parts_host_paced_rows_are_listed_apart(void **state) {
    char a[256], paced[256], not_paced[256];
    edited_file(*state, "a.csv", NEW_FORMAT, "1s/$/,attributed_host_paced/;2,$s/$/,0/", a, sizeof a);
    edited_file(*state, "paced.csv", NEW_FORMAT,
                "1s/$/,attributed_host_paced/;/duo-cat,graph/s/,60,0,0,$/,160,0,0,,1/;2,$s/,$/,,0/", paced,
                sizeof paced);
    edited_file(*state, "not-paced.csv", NEW_FORMAT,
                "1s/$/,attributed_host_paced/;/duo-cat,graph/s/,60,0,0,$/,160,0,0,/;2,$s/,$/,,0/", not_paced,
                sizeof not_paced);
    run_result r = decompose(*state, a, paced, NULL);
    assert_int_equal(r.status, 0);
    const char *apart = strstr(r.out, "\nhost-paced, not held to the limit:\n");
    if (!apart || !strstr(apart, DUO_CAT_GRAPH " ")) fail_msg("%s not listed apart in:\n%s", DUO_CAT_GRAPH, r.out);
    free_result(&r);
    r = decompose(*state, a, not_paced, NULL);
    assert_int_equal(r.status, 1);
    expect_line(r.out, DUO_CAT_GRAPH, "<-- beyond: idle");
    free_result(&r);
}

/* Without zigzag's prefill row in B, the prefill duo-cat row has no Δ there;
 * files without span_us and outside_us compare the other parts. */
static void rows_without_a_delta_and_parts_without_a_column(void **state) {
    char b[256];
    edited_file(*state, "b.csv", NEW_FORMAT, "/prefill.*zigzag/d", b, sizeof b);
    run_result r = decompose(*state, NEW_FORMAT, b, NULL);
    assert_int_equal(r.status, 0);
    expect_in(r.out, "\nno Δ in both runs (no zigzag row, or no kernel times): " DUO_CAT_PREFILL "\n"
                     "2 of 2 GPU-paced mixed rows");
    free_result(&r);
    r = decompose(*state, FIXTURE, FIXTURE, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, DUO_CAT_GRAPH,
                "11.2       +0.0       +0.0       +0.0       +0.0       +0.0       +0.0          -          -       +0.0");
    free_result(&r);
}

static void a_decomposition_without_kernel_times_or_parts_is_refused(void **state) {
    char b[256], want[512];
    run_result r = decompose(*state, FIXTURES "no-cupti.csv", FIXTURE, NULL);
    expect_refused(&r, "no mixed-layout row has a zigzag row and kernel times in both runs (a --no-cupti run?)");
    edited_file(*state, "b.csv", NEW_FORMAT, "1s/,copy_us,/,copies_us,/", b, sizeof b);
    r = decompose(*state, NEW_FORMAT, b, NULL);
    snprintf(want, sizeof want, "%s has no column for part copy", b);
    expect_refused(&r, want);
    edited_file(*state, "b.csv", NEW_FORMAT, "/decode.*duo-cat,graph/s/,60,0,0,$/,sixty,0,0,/", b, sizeof b);
    r = decompose(*state, NEW_FORMAT, b, NULL);
    snprintf(want, sizeof want, "%s:6: idle_us is 'sixty', expected a number", b);
    expect_refused(&r, want);
}

/* A run with kernel variants: new-format.csv with today's decode_kernel and
 * prefill_kernel columns (each row the default of its phase, in the column
 * of its phase), plus the decode graph zigzag and duo-cat rows once more
 * for a variant "one-launch" at half the latency. */
#define WITH_VARIANTS                                                                                         \
    "awk -F, -v OFS=, 'NR == 1 { $11 = $11 \",decode_kernel,prefill_kernel\"; print; next }"                     \
    " { d = $2 == \"decode\"; row = $0; $11 = $11 \",\" (d ? \"split-combine\" : \"\") \",\" (d ? \"\" : \"fa2\"); print }" \
    " d && $10 == \"graph\" && ($9 == \"zigzag\" || $9 == \"duo-cat\") {"                                        \
    " $0 = row; $17 /= 2; $18 /= 2; $11 = $11 \",one-launch,\"; print }'"

static void kernel_variants_pair_by_name(void **state) {
    char with[256];
    filtered(*state, "with.csv", NEW_FORMAT, WITH_VARIANTS, with, sizeof with);
    /* The default variant's rows pair with those of a file from before the columns. */
    run_result r = compare(*state, NEW_FORMAT, with, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    expect_line(r.out, ZIGZAG_GRAPH, "500.0        500.0   +0.00%");
    expect_in(r.out, "\nonly in B: " ZIGZAG_GRAPH ",one-launch\nonly in B: " DUO_CAT_GRAPH ",one-launch\n");
    expect_in(r.out, "\n6 of 6 GPU-paced medians within 2%\n");
    free_result(&r);
    /* A variant's rows pair with the same variant's, and its mixed row with its own zigzag row. */
    r = compare(*state, with, with, NULL);
    expect_line(r.out, ZIGZAG_GRAPH ",one-launch", "250.0        250.0   +0.00%");
    expect_in(r.out, "\n8 of 8 GPU-paced medians within 2%\n");
    free_result(&r);
    r = decompose(*state, with, with, NULL);
    assert_int_equal(r.status, 0);
    expect_line(r.out, DUO_CAT_GRAPH ",one-launch", "+0.0");
    expect_line(r.out, DUO_CAT_GRAPH, "+0.0");
    free_result(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identical_runs_are_all_within, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_gpu_paced_median_beyond_the_limit_fails, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(host_paced_in_either_run_is_not_held_to_the_limit, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_fallback_rule_starts_at_the_harness_threshold, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_fallback_threshold_is_the_harness_threshold, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_host_paced_column_decides_where_it_exists, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(columns_are_found_by_name_in_each_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_limit_argument_is_respected, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(configurations_in_one_run_only_are_listed_uncounted, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_file_without_rows_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_torn_or_corrupt_row_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_median_that_is_not_a_positive_number_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_host_enqueue_or_verdict_that_is_not_a_number_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_repeated_configuration_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(identical_decompositions_are_all_within, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_part_that_moved_beyond_the_limit_fails, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_limit_and_the_floor_arguments_are_respected, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(attention_sums_every_attn_column, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(host_paced_rows_are_listed_apart, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(parts_host_paced_rows_are_listed_apart, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(rows_without_a_delta_and_parts_without_a_column, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_decomposition_without_kernel_times_or_parts_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(kernel_variants_pair_by_name, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
