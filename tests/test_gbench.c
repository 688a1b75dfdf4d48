/* The Google Benchmark wrapper (bench/gbench.h) on the CPU: benchmarks
 * registered through the C API run with their context and arguments, and
 * Google Benchmark's JSON output (--benchmark_out) holds what they reported:
 * names with arguments, manual iteration times, rate and plain counters,
 * errors; --benchmark_filter selects, and the selection can be counted
 * without running it. One run in the group setup; the tests read its JSON
 * file. Flags are read as Google Benchmark reads them, and the values it
 * would answer with its help and exit status 0 are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbench.h"

/* What a callback saw, per benchmark family. */
typedef struct {
    int calls;
    long long iterations;
    long long args[8][2];  /* the first two arguments of the first 8 calls */
} seen;

static seen manual_seen, batch_seen, error_seen, loop_error_seen, ranges_seen, product_seen, excluded_seen;

static void note(seen *s, const zz_gb_state *st, int n_args) {
    if (s->calls < 8)
        for (int i = 0; i < n_args; i++) s->args[s->calls][i] = zz_gb_range(st, i);
    s->calls++;
}

/* 2 ms of manual time per iteration; 1e6 bytes per iteration as a rate,
 * 3 per iteration averaged over the iterations, 42 plain. */
static void bm_manual(zz_gb_state *st, void *ctx) {
    seen *s = ctx;
    note(s, st, 2);
    volatile double x = 0;
    while (zz_gb_keep_running(st)) {
        for (int i = 0; i < 100; i++) x += i;
        zz_gb_set_iteration_time(st, 0.002);
    }
    long long n = zz_gb_iteration_count(st);
    s->iterations += n;
    zz_gb_counter(st, "bytes", 1e6 * (double)n, ZZ_GB_RATE);
    zz_gb_counter(st, "per_iteration", 3.0 * (double)n, ZZ_GB_AVG_ITERATIONS);
    zz_gb_counter(st, "answer", 42, 0);
    zz_gb_set_label(st, "on the CPU");
}

/* Batches of 4 iterations timed together, 4 ms a batch: 1 ms an iteration. */
static void bm_batch(zz_gb_state *st, void *ctx) {
    seen *s = ctx;
    note(s, st, 0);
    while (zz_gb_keep_running_batch(st, 4)) zz_gb_set_iteration_time(st, 0.004);
    long long n = zz_gb_iteration_count(st);
    s->iterations += n;
    zz_gb_counter(st, "bytes", 1e6 * (double)n, ZZ_GB_RATE);
}

static void bm_error(zz_gb_state *st, void *ctx) {
    note(ctx, st, 0);
    zz_gb_skip_with_error(st, "no such device: test");
}

/* Fails in its third iteration, as a GPU launch would. */
static void bm_loop_error(zz_gb_state *st, void *ctx) {
    seen *s = ctx;
    note(s, st, 0);
    long long i = 0;
    while (zz_gb_keep_running(st)) {
        if (++i == 3) {
            zz_gb_skip_with_error(st, "launch 3 failed");
            assert_true(zz_gb_error_occurred(st));
            break;
        }
        zz_gb_set_iteration_time(st, 0.001);
    }
}

static void bm_plain(zz_gb_state *st, void *ctx) {
    note(ctx, st, 2);
    while (zz_gb_keep_running(st)) {
    }
}

static char dir[64], out_path[128], *json;

static int run_benchmarks(void **state) {
    (void)state;
    strcpy(dir, "/tmp/zz-test-gbench-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(out_path, sizeof out_path, "%s/out.json", dir);
    char out_flag[160];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", out_path);
    char *argv[] = {"test_gbench", out_flag, "--benchmark_out_format=json", "--benchmark_filter=^cpu_", NULL};
    int argc = 4;
    zz_gb_initialize(&argc, argv, NULL);
    if (argc != 1 || zz_gb_report_unrecognized(argc, argv)) return -1;
    zz_gb_add_context("zz_test", "gbench wrapper");

    zz_gb_benchmark *b = zz_gb_register("cpu_manual", bm_manual, &manual_seen);
    b = zz_gb_arg_names(b, 2, (const char *[]){"B", "S"});
    b = zz_gb_args(b, 2, (long long[]){1, 8});
    b = zz_gb_args(b, 2, (long long[]){2, 16});
    b = zz_gb_iterations(zz_gb_unit(zz_gb_use_manual_time(b), ZZ_GB_MS), 10);
    if (!b) return -1;

    if (!zz_gb_iterations(zz_gb_unit(zz_gb_use_manual_time(zz_gb_register("cpu_batch", bm_batch, &batch_seen)), ZZ_GB_MS), 10))
        return -1;
    if (!zz_gb_iterations(zz_gb_register("cpu_error", bm_error, &error_seen), 5)) return -1;
    if (!zz_gb_unit(zz_gb_use_manual_time(zz_gb_register("cpu_loop_error", bm_loop_error, &loop_error_seen)), ZZ_GB_MS))
        return -1;

    b = zz_gb_register("cpu_ranges", bm_plain, &ranges_seen);
    b = zz_gb_range_multiplier(b, 2);
    b = zz_gb_ranges(b, 2, (long long[]){8, 1}, (long long[]){32, 2});
    if (!zz_gb_iterations(b, 1)) return -1;

    b = zz_gb_register("cpu_product", bm_plain, &product_seen);
    b = zz_gb_arg_names(b, 2, (const char *[]){"x", "y"});
    const long long xs[] = {1, 2, 3}, ys[] = {10};
    b = zz_gb_args_product(b, 2, (const long long *[]){xs, ys}, (int[]){3, 1});
    if (!zz_gb_repetitions(zz_gb_iterations(b, 1), 2)) return -1;

    /* Not matched by the filter: never runs. */
    if (!zz_gb_iterations(zz_gb_register("excluded", bm_plain, &excluded_seen), 1)) return -1;

    size_t matched = zz_gb_run();
    if (matched != 2 + 1 + 1 + 1 + 6 + 3) return -1;

    FILE *f = fopen(out_path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    json = calloc((size_t)size + 1, 1);
    if (!json || fread(json, 1, (size_t)size, f) != (size_t)size) return -1;
    fclose(f);
    return 0;
}

static int cleanup(void **state) {
    (void)state;
    zz_gb_shutdown();
    zz_gb_clear();
    free(json);
    unlink(out_path);
    rmdir(dir);
    return 0;
}

/* ---- reading the JSON: benchmark objects are flat, one per run ---- */

/* The object of the run named `name`, as [*start, *end), or 0. */
static int find_run(const char *name, const char **start, const char **end) {
    char key[256];
    snprintf(key, sizeof key, "\"name\": \"%s\",", name);
    const char *at = strstr(json, key);
    if (!at) return 0;
    const char *s = at;
    while (s > json && *s != '{') s--;
    *start = s;
    *end = strchr(at, '}');
    return *end != NULL;
}

static int has_run(const char *name) {
    const char *s, *e;
    return find_run(name, &s, &e);
}

/* The raw value of `field` in run `name` (up to the comma or newline). */
static const char *field(const char *name, const char *field_name, char *out, size_t size) {
    const char *s, *e;
    if (!find_run(name, &s, &e)) fail_msg("no run %s in the JSON output", name);
    char key[128];
    snprintf(key, sizeof key, "\"%s\": ", field_name);
    const char *at = strstr(s, key);
    if (!at || at > e) fail_msg("run %s has no field %s", name, field_name);
    at += strlen(key);
    size_t n = strcspn(at, ",\n");
    if (n >= size) n = size - 1;
    memcpy(out, at, n);
    out[n] = '\0';
    return out;
}

static double number(const char *name, const char *field_name) {
    char v[64];
    return strtod(field(name, field_name, v, sizeof v), NULL);
}

#define MANUAL_1 "cpu_manual/B:1/S:8/iterations:10/manual_time"
#define MANUAL_2 "cpu_manual/B:2/S:16/iterations:10/manual_time"

static void callback_gets_context_and_arguments(void **state) {
    (void)state;
    assert_int_equal(manual_seen.calls, 2);  /* fixed iterations: one call per instance */
    assert_int_equal(manual_seen.iterations, 20);
    assert_int_equal(manual_seen.args[0][0], 1);
    assert_int_equal(manual_seen.args[0][1], 8);
    assert_int_equal(manual_seen.args[1][0], 2);
    assert_int_equal(manual_seen.args[1][1], 16);
    assert_int_equal(excluded_seen.calls, 0);  /* --benchmark_filter */
    assert_false(has_run("excluded/iterations:1"));
}

static void manual_time_and_counters_in_json(void **state) {
    (void)state;
    char v[64];
    const char *names[] = {MANUAL_1, MANUAL_2};
    for (int i = 0; i < 2; i++) {
        assert_string_equal(field(names[i], "run_type", v, sizeof v), "\"iteration\"");
        assert_int_equal((int)number(names[i], "iterations"), 10);
        assert_string_equal(field(names[i], "time_unit", v, sizeof v), "\"ms\"");
        assert_float_equal(number(names[i], "real_time"), 2.0, 1e-9);  /* the manual time, not the clock */
        assert_float_equal(number(names[i], "bytes"), 5e8, 1e-3);       /* 1e6 bytes per 2 ms */
        assert_float_equal(number(names[i], "per_iteration"), 3.0, 1e-12);
        assert_float_equal(number(names[i], "answer"), 42.0, 1e-12);
        assert_string_equal(field(names[i], "label", v, sizeof v), "\"on the CPU\"");
    }
    assert_non_null(strstr(json, "\"zz_test\": \"gbench wrapper\""));  /* zz_gb_add_context */
}

static void batches_count_every_iteration(void **state) {
    (void)state;
    const char *name = "cpu_batch/iterations:10/manual_time";
    assert_int_equal(batch_seen.calls, 1);
    assert_int_equal(batch_seen.iterations, 12);  /* 10 asked, whole batches of 4 */
    assert_int_equal((int)number(name, "iterations"), 12);
    assert_float_equal(number(name, "real_time"), 1.0, 1e-9);  /* per iteration, not per batch */
    assert_float_equal(number(name, "bytes"), 1e9, 1e-3);
}

static void errors_in_json(void **state) {
    (void)state;
    char v[64];
    assert_true(error_seen.calls >= 1);
    assert_string_equal(field("cpu_error/iterations:5", "error_occurred", v, sizeof v), "true");
    assert_string_equal(field("cpu_error/iterations:5", "error_message", v, sizeof v), "\"no such device: test\"");
    assert_true(loop_error_seen.calls >= 1);
    assert_string_equal(field("cpu_loop_error/manual_time", "error_occurred", v, sizeof v), "true");
    assert_string_equal(field("cpu_loop_error/manual_time", "error_message", v, sizeof v), "\"launch 3 failed\"");
    const char *s, *e;
    assert_true(find_run(MANUAL_1, &s, &e));
    char *ok = strndup(s, (size_t)(e - s));
    assert_null(strstr(ok, "error_occurred"));
    free(ok);
}

static void ranges_and_products_name_instances(void **state) {
    (void)state;
    const long long firsts[] = {8, 16, 32};
    char name[96];
    for (int y = 1; y <= 2; y++)
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "cpu_ranges/%lld/%d/iterations:1", firsts[i], y);
            assert_true(has_run(name));
        }
    assert_int_equal(ranges_seen.calls, 6);
    for (int x = 1; x <= 3; x++) {
        snprintf(name, sizeof name, "cpu_product/x:%d/y:10/iterations:1/repeats:2", x);
        assert_true(has_run(name));
        snprintf(name, sizeof name, "cpu_product/x:%d/y:10/iterations:1/repeats:2_mean", x);
        assert_true(has_run(name));
    }
    assert_int_equal(product_seen.calls, 6);  /* two repetitions each */
}

static void bad_configuration_is_null(void **state) {
    (void)state;
    static seen unused;
    assert_null(zz_gb_register(NULL, bm_plain, &unused));
    assert_null(zz_gb_register("cpu_never", NULL, &unused));
    assert_null(zz_gb_args(NULL, 1, (long long[]){1}));
    zz_gb_benchmark *b = zz_gb_register("never_runs", bm_plain, &unused);
    assert_non_null(b);
    assert_null(zz_gb_args(b, 0, (long long[]){1}));
    assert_null(zz_gb_ranges(b, 1, (long long[]){4}, (long long[]){2}));
    assert_null(zz_gb_range_multiplier(b, 1));
    assert_null(zz_gb_unit(b, (zz_gb_time_unit)7));
    assert_null(zz_gb_iterations(b, 0));
    assert_null(zz_gb_arg_names(b, 1, (const char *[]){NULL}));
    assert_ptr_equal(zz_gb_iterations(b, 1), b);
}

static void counting_the_selection_runs_nothing(void **state) {
    (void)state;
    const int calls = manual_seen.calls + batch_seen.calls + error_seen.calls + ranges_seen.calls + product_seen.calls;
    char msg[256] = "unset";
    assert_int_equal(zz_gb_count_selected(msg, sizeof msg), 2 + 1 + 1 + 1 + 6 + 3);
    assert_string_equal(msg, "");
    assert_int_equal(manual_seen.calls + batch_seen.calls + error_seen.calls + ranges_seen.calls + product_seen.calls,
                     calls);
}

static void flags_are_read_as_google_benchmark_reads_them(void **state) {
    (void)state;
    char *argv[] = {"prog", "--benchmark_out=a.json", "--benchmark_out_format=csv", "--benchmark_out=b.json", NULL};
    assert_string_equal(zz_gb_flag(4, argv, "benchmark_out"), "b.json");  /* the last one */
    assert_string_equal(zz_gb_flag(4, argv, "benchmark_out_format"), "csv");
    assert_null(zz_gb_flag(4, argv, "benchmark_zz_unset"));
    assert_int_equal(setenv("BENCHMARK_ZZ_UNSET", "from env", 1), 0);
    assert_string_equal(zz_gb_flag(4, argv, "benchmark_zz_unset"), "from env");
    unsetenv("BENCHMARK_ZZ_UNSET");
    assert_null(zz_gb_flag(1, argv, "benchmark_out"));  /* argc bounds the search */
}

static void values_google_benchmark_would_answer_with_help_are_refused(void **state) {
    (void)state;
    static const struct {
        const char *flag, *want;  /* want NULL: accepted */
    } cases[] = {
        {"--benchmark_format=json", NULL},
        {"--benchmark_format=csv", NULL},
        {"--benchmark_format=xml", "--benchmark_format=xml: expected console, json or csv"},
        {"--benchmark_format=", "--benchmark_format=: expected console, json or csv"},
        {"--benchmark_out_format=console", NULL},
        {"--benchmark_out_format=JSON", "--benchmark_out_format=JSON: expected console, json or csv"},
        {"--benchmark_time_unit=ms", NULL},
        {"--benchmark_time_unit=", NULL},
        {"--benchmark_time_unit=min", "--benchmark_time_unit=min: expected ns, us, ms or s"},
        {"--benchmark_color=false", NULL},
        {"--benchmark_color=", "--benchmark_color=: expected auto, true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"prog", (char *)cases[i].flag, NULL};
        char msg[256] = "";
        const int rc = zz_gb_check_flags(2, argv, msg, sizeof msg);
        if (!cases[i].want) {
            if (rc) fail_msg("%s refused: %s", cases[i].flag, msg);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_string_equal(msg, cases[i].want);
    }
    char *none[] = {"prog", NULL}, msg[256] = "";
    assert_int_equal(setenv("BENCHMARK_TIME_UNIT", "h", 1), 0);
    assert_int_equal(zz_gb_check_flags(1, none, msg, sizeof msg), -1);
    assert_string_equal(msg, "$BENCHMARK_TIME_UNIT 'h': expected ns, us, ms or s");
    char *fixed[] = {"prog", "--benchmark_time_unit=us", NULL};
    assert_int_equal(zz_gb_check_flags(2, fixed, msg, sizeof msg), 0);  /* the flag wins */
    unsetenv("BENCHMARK_TIME_UNIT");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(callback_gets_context_and_arguments),
        cmocka_unit_test(manual_time_and_counters_in_json),
        cmocka_unit_test(batches_count_every_iteration),
        cmocka_unit_test(errors_in_json),
        cmocka_unit_test(ranges_and_products_name_instances),
        cmocka_unit_test(bad_configuration_is_null),
        cmocka_unit_test(counting_the_selection_runs_nothing),
        cmocka_unit_test(flags_are_read_as_google_benchmark_reads_them),
        cmocka_unit_test(values_google_benchmark_would_answer_with_help_are_refused),
    };
    return cmocka_run_group_tests(tests, run_benchmarks, cleanup);
}
