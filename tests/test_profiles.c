/* make profile, the parts that need no GPU: profiles/summarize.awk turns
 * tests/fixtures/ncu/raw.csv (columns of a real H100 export of one duo-cat
 * decode layer, repeated three times with the durations scaled by 1, 1.02
 * and 0.99) into one table of the layer's seven kernels; a broken export
 * stops with one clear line; the scripts refuse bad options and a missing
 * profiler before running anything. */
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

#define FIXTURE "tests/fixtures/ncu/raw.csv"

/* Run a shell command; its exit status, stdout in *out and stderr in *err. */
static int run(const char *dir, const char *command, char **out, char **err) {
    char cmd[1024], out_path[256], err_path[256];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s >'%s' 2>'%s'", command, out_path, err_path);
    int status = system(cmd);
    *out = read_file(out_path, NULL);
    *err = read_file(err_path, NULL);
    assert_non_null(*out);
    assert_non_null(*err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* summarize.awk over the fixture edited by sed (NULL: unchanged). */
static int summarize(const char *dir, const char *sed, char **out, char **err) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "sed -e '%s' " FIXTURE " > '%s/raw.csv' && "
             "awk -f scripts/csv.awk -f profiles/summarize.awk -v title='decode layer 1' '%s/raw.csv'",
             sed ? sed : "", dir, dir);
    return run(dir, cmd, out, err);
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void one_row_per_kernel_of_the_first_repeat(void **state) {
    char *out, *err;
    assert_int_equal(summarize(*state, NULL, &out, &err), 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "# Nsight Compute: decode layer 1\n"));
    assert_non_null(strstr(out, "7 kernels, metrics of the first of 3 profiled repeats"));
    assert_int_equal(count(out, "\n| "), 8); /* header + 7 kernels */
    /* Thousands separators read as numbers, names shortened, the NVTX op
     * taken from the innermost range, spread (1.02 - 0.99) / 0.99. */
    assert_non_null(strstr(out, "| 3 | attn-full | `decode_split_kernel<128>` | 129 | 128 | 11.0 | 3.0 | 1522 | 45.5 | "
                                "17.9 | 6.1 | 127 | 100.0 |\n"));
    assert_non_null(strstr(out, "| 7 | concat | `copy_heads_kernel` | 4 | 128 | 3.1 |"));
    assert_non_null(strstr(out, "Sum of the layer's kernel durations: 64.6 µs.\n"));
    free(out);
    free(err);
}

/* Rows that do not repeat (here: the third repeat's concat renamed) are one
 * repeat of 21 kernels. */
static void rows_that_do_not_repeat_are_one_repeat(void **state) {
    char *out, *err;
    assert_int_equal(summarize(*state, "$s/ASCII:concat/ASCII:concat2/", &out, &err), 0);
    assert_non_null(strstr(out, "21 kernels, metrics of the first of 1 profiled repeats"));
    assert_int_equal(count(out, "\n| "), 22);
    free(out);
    free(err);
}

static void a_missing_column_is_one_clear_error(void **state) {
    char *out, *err, want[256];
    assert_int_not_equal(summarize(*state, "1s/launch__registers_per_thread/registers/", &out, &err), 0);
    snprintf(want, sizeof want,
             "profile: error: %s/raw.csv has no column \"launch__registers_per_thread\" "
             "(export with --page raw --print-units base)\n",
             (const char *)*state);
    assert_string_equal(err, want);
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void durations_not_in_nanoseconds_are_refused(void **state) {
    char *out, *err;
    assert_int_not_equal(summarize(*state, "2s/\"ns\"/\"usecond\"/", &out, &err), 0);
    assert_non_null(strstr(err, "durations in \"usecond\", expected nsecond"));
    assert_int_equal(count(err, "\n"), 1);
    free(out);
    free(err);
}

static void an_export_without_kernels_is_one_clear_error(void **state) {
    char *out, *err, want[256];
    assert_int_not_equal(summarize(*state, "3,$d", &out, &err), 0);
    snprintf(want, sizeof want,
             "profile: error: %s/raw.csv: no kernels in the export (did the NVTX filter match nothing?)\n",
             (const char *)*state);
    assert_string_equal(err, want);
    free(out);
    free(err);
}

/* The scripts check their arguments and the profiler before anything runs. */
static void the_scripts_refuse_bad_input_in_one_line(void **state) {
    static const struct {
        const char *command, *want;
    } cases[] = {
        {"profiles/ncu.sh --layuot zigzag",
         "profile: error: unknown option '--layuot' (see --help; zz-bench run options go after --)\n"},
        {"profiles/ncu.sh --phase train", "profile: error: --phase 'train': expected decode or prefill\n"},
        {"profiles/ncu.sh --layer", "profile: error: --layer needs a value (see --help)\n"},
        {"profiles/ncu.sh --clock-control locked", "profile: error: --clock-control 'locked': expected none or base\n"},
        {"NCU=/nonexistent/ncu profiles/ncu.sh",
         "profile: error: Nsight Compute (/nonexistent/ncu) not found: put the CUDA toolkit's bin on PATH or set "
         "NCU\n"},
        {"NSYS=/nonexistent/nsys profiles/nsys.sh",
         "profile: error: Nsight Systems (/nonexistent/nsys) not found: install it (it ships apart from the CUDA "
         "toolkit's nvcc) or set NSYS\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *err;
        assert_int_equal(run(*state, cases[i].command, &out, &err), 2);
        assert_string_equal(err, cases[i].want);
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
}

static void the_scripts_document_their_options(void **state) {
    char *out, *err;
    assert_int_equal(run(*state, "profiles/ncu.sh --help", &out, &err), 0);
    const char *flags[] = {"--layout", "--phase", "--ctx", "--batch", "--layer", "--clock-control", "--cache-control",
                           "--set-sections", "--out", "--help"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strstr(out, flags[i])) fail_msg("ncu.sh --help does not mention %s", flags[i]);
    free(out);
    free(err);
    assert_int_equal(run(*state, "profiles/nsys.sh --help", &out, &err), 0);
    assert_non_null(strstr(out, "cudaProfilerApi"));
    free(out);
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_row_per_kernel_of_the_first_repeat, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(rows_that_do_not_repeat_are_one_repeat, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_column_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(durations_not_in_nanoseconds_are_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(an_export_without_kernels_is_one_clear_error, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_scripts_refuse_bad_input_in_one_line, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_scripts_document_their_options, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
