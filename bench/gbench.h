/* A small C API over Google Benchmark (bench/gbench.cc, the suite's one C++
 * file). Builds against Google Benchmark 1.7.1 (Debian 12) and 1.8.3 alike:
 * it uses only what both provide.
 *
 *   static void bm_copy(zz_gb_state *st, void *ctx) {
 *       long long n = zz_gb_range(st, 0);
 *       if (setup_failed) { zz_gb_skip_with_error(st, "why"); return; }
 *       while (zz_gb_keep_running(st)) {
 *           ... one iteration, timed on the GPU ...
 *           zz_gb_set_iteration_time(st, seconds);      (manual time)
 *       }
 *       zz_gb_counter(st, "GB/s", bytes * zz_gb_iteration_count(st) * 1e-9, ZZ_GB_RATE);
 *   }
 *   int main(int argc, char **argv) {
 *       zz_gb_initialize(&argc, argv, NULL);   (takes --benchmark_* out of argv)
 *       zz_gb_benchmark *b = zz_gb_register("copy", bm_copy, NULL);
 *       zz_gb_arg_names(b, 1, (const char *[]){"n"});
 *       zz_gb_args(b, 1, (long long[]){1 << 20});   (name "copy/n:1048576")
 *       zz_gb_use_manual_time(b);
 *       zz_gb_run();
 *       zz_gb_shutdown();
 *   }
 *
 * Names follow Google Benchmark: "family/arg/arg", or "family/name:arg/..."
 * with argument names, so --benchmark_filter (a regex on the name),
 * --benchmark_repetitions, --benchmark_min_time (plain seconds) and
 * --benchmark_out=FILE --benchmark_out_format=json work as documented there.
 *
 * The callback runs once per run of a benchmark (Google Benchmark runs it
 * several times while it finds an iteration count, and once per
 * repetition). It must loop `while (zz_gb_keep_running(st))` until that
 * returns 0, or call zz_gb_skip_with_error and return (from inside the loop:
 * break out). With manual time every iteration must report its time.
 *
 * Configuration calls return b, or NULL when b is NULL, an argument is out of
 * range or memory ran out: so the result of the last call of a chain tells
 * whether all of it worked.
 */
#ifndef ZZ_GBENCH_H
#define ZZ_GBENCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zz_gb_benchmark zz_gb_benchmark; /* a registered family: benchmark::internal::Benchmark */
typedef struct zz_gb_state zz_gb_state;         /* a running benchmark: benchmark::State */
typedef void (*zz_gb_fn)(zz_gb_state *st, void *ctx);

typedef enum { ZZ_GB_NS, ZZ_GB_US, ZZ_GB_MS, ZZ_GB_S } zz_gb_time_unit;

/* Counter flags (benchmark::Counter). A plain counter (0) is reported as
 * set; ZZ_GB_RATE divides it by the run's total time (the manual time with
 * zz_gb_use_manual_time), so set it to the total over all iterations:
 * per-iteration bytes × zz_gb_iteration_count(st) gives bytes per second. */
enum {
    ZZ_GB_RATE = 1,                /* kIsRate */
    ZZ_GB_AVG_ITERATIONS = 2,      /* kAvgIterations: divided by the iteration count */
    ZZ_GB_ITERATION_INVARIANT = 4, /* kIsIterationInvariant: multiplied by it */
    ZZ_GB_BASE_1024 = 8,           /* printed with binary prefixes (Ki, Mi) */
};

/* ---- the program ---- */

/* The value Google Benchmark takes for its string flag `name` (without the
 * dashes, e.g. "benchmark_out"): the last --name=VALUE in argv, else the
 * environment variable NAME in capitals, else NULL. */
const char *zz_gb_flag(int argc, char *const *argv, const char *name);
/* Checks the flags whose bad values Google Benchmark answers with its help
 * text and exit status 0: --benchmark_format and --benchmark_out_format
 * (console, json or csv), --benchmark_time_unit (ns, us, ms or s) and an
 * empty --benchmark_color, in argv or the environment. 0, or -1 with one
 * line in msg. Call it before zz_gb_initialize. */
int zz_gb_check_flags(int argc, char *const *argv, char *msg, size_t size);
/* Parses Google Benchmark's flags and removes them from argv. help prints
 * --help (NULL: Google Benchmark's own list, zz_gb_print_default_help). */
void zz_gb_initialize(int *argc, char **argv, void (*help)(void));
void zz_gb_print_default_help(void);
/* 1 (after printing them) if argv holds arguments besides argv[0]. */
int zz_gb_report_unrecognized(int argc, char **argv);
/* A key/value pair in the output's "context" (a GPU's name, a ceiling). */
void zz_gb_add_context(const char *key, const char *value);
/* Runs the benchmarks --benchmark_filter selects (or lists them with
 * --benchmark_list_tests); returns how many matched. */
size_t zz_gb_run(void);
/* How many benchmarks zz_gb_run would run (or list), without running any:
 * nothing is printed, but --benchmark_out's file is opened and truncated as
 * a run would. When none, Google Benchmark's reason in msg (no match, or a
 * filter that is not a regular expression). */
size_t zz_gb_count_selected(char *msg, size_t size);
void zz_gb_shutdown(void);
/* Forgets every registered benchmark (their handles become invalid). */
void zz_gb_clear(void);

/* ---- registering ---- */

/* ctx is passed to fn as is; it must outlive the run. name is copied. */
zz_gb_benchmark *zz_gb_register(const char *name, zz_gb_fn fn, void *ctx);
/* One explicit argument list: adds the instance name/a0/a1/... */
zz_gb_benchmark *zz_gb_args(zz_gb_benchmark *b, int n, const long long *args);
/* Names of the arguments: name/n0:a0/n1:a1/... */
zz_gb_benchmark *zz_gb_arg_names(zz_gb_benchmark *b, int n, const char *const *names);
/* Argument i runs over lo[i]..hi[i] in powers of the range multiplier (8
 * unless set), both ends included; all combinations (Ranges). */
zz_gb_benchmark *zz_gb_ranges(zz_gb_benchmark *b, int n, const long long *lo, const long long *hi);
zz_gb_benchmark *zz_gb_range_multiplier(zz_gb_benchmark *b, int multiplier);
/* Argument i takes each of lists[i][0 .. lengths[i]-1]; all combinations. */
zz_gb_benchmark *zz_gb_args_product(zz_gb_benchmark *b, int n, const long long *const *lists, const int *lengths);
/* Iteration times come from zz_gb_set_iteration_time, not from the clock. */
zz_gb_benchmark *zz_gb_use_manual_time(zz_gb_benchmark *b);
zz_gb_benchmark *zz_gb_unit(zz_gb_benchmark *b, zz_gb_time_unit unit);
/* Per benchmark; these override --benchmark_min_time / the chosen count. */
zz_gb_benchmark *zz_gb_min_time(zz_gb_benchmark *b, double seconds);
zz_gb_benchmark *zz_gb_iterations(zz_gb_benchmark *b, long long n);
zz_gb_benchmark *zz_gb_repetitions(zz_gb_benchmark *b, int n);

/* ---- inside the callback ---- */

int zz_gb_keep_running(zz_gb_state *st);
/* The same, counting n iterations per pass of the loop (the last pass may
 * overshoot the count by up to n - 1); the pass reports their total time:
 * for work timed in batches, such as n GPU launches between two events. */
int zz_gb_keep_running_batch(zz_gb_state *st, long long n);
/* Argument i of this instance (i below the number of arguments). */
long long zz_gb_range(const zz_gb_state *st, int i);
/* Iterations run so far (after the loop: all of them). */
long long zz_gb_iteration_count(const zz_gb_state *st);
void zz_gb_set_iteration_time(zz_gb_state *st, double seconds);
/* Sets (or replaces) the counter `name` of this run. */
void zz_gb_counter(zz_gb_state *st, const char *name, double value, int flags);
/* Shown after the instance's results (console, and "label" in JSON). */
void zz_gb_set_label(zz_gb_state *st, const char *label);
/* Reports the run as failed with msg ("error_occurred", "error_message" in
 * JSON) and ends its loop: zz_gb_keep_running then returns 0. */
void zz_gb_skip_with_error(zz_gb_state *st, const char *msg);
int zz_gb_error_occurred(const zz_gb_state *st);

#ifdef __cplusplus
}
#endif
#endif
