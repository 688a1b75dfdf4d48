/* scripts/run-tests, which `make test` and `make test-gpu` end with: it
 * sums cmocka's closing lines of every binary into one line, counts a
 * binary that dies without them as one failure, and refuses to run
 * nothing (a summary of no tests would read as a pass). The binaries here
 * are stand-ins that print what cmocka prints. */
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

#include "scratch.h"

/* dir/name: a stand-in that prints out and exits with status. */
static void stand_in(const char *dir, const char *name, const char *out, int status) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '%s'\nexit %d\n", out, status);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
}

/* scripts/run-tests with the stand-ins named (in dir); its status, and its
 * last line of output in *last. */
static int run_script(const char *dir, const char *names, char **last) {
    char cmd[1024], out[256];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cmd, sizeof cmd, "d='%s'; scripts/run-tests %s > '%s' 2>&1", dir, names, out);
    int status = system(cmd);
    char *text = read_file(out, NULL);
    assert_non_null(text);
    char *end = text + strlen(text);
    if (end > text && end[-1] == '\n') *--end = '\0';
    char *line = strrchr(text, '\n');
    *last = strdup(line ? line + 1 : text);
    free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void without_binaries_it_refuses(void **state) {
    char *last;
    assert_int_equal(run_script(*state, "", &last), 2);
    assert_string_equal(last, "usage: run-tests BINARY... (cmocka test binaries; none given)");
    free(last);
}

static void it_sums_passed_skipped_and_failed(void **state) {
    char *last;
    stand_in(*state, "a", "[  PASSED  ] 3 test(s).\\n[  SKIPPED ] 1 test(s), listed below:\\n", 0);
    stand_in(*state, "b", "[  PASSED  ] 2 test(s).\\n[  FAILED  ] 1 test(s), listed below:\\n", 1);
    assert_int_equal(run_script(*state, "$d/a $d/a", &last), 0);
    assert_string_equal(last, "tests: 6 passed, 2 skipped, 0 failed");
    free(last);
    assert_int_equal(run_script(*state, "$d/a $d/b", &last), 1);
    assert_string_equal(last, "tests: 5 passed, 1 skipped, 1 failed");
    free(last);
}

/* A binary that crashes before cmocka's closing lines is one failure. */
static void a_binary_that_dies_is_a_failure(void **state) {
    char *last;
    stand_in(*state, "a", "[  PASSED  ] 3 test(s).\\n", 0);
    stand_in(*state, "crash", "[ RUN      ] something\\n", 139);
    assert_int_equal(run_script(*state, "$d/a $d/crash", &last), 1);
    assert_string_equal(last, "tests: 3 passed, 0 skipped, 1 failed");
    free(last);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(without_binaries_it_refuses, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(it_sums_passed_skipped_and_failed, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_binary_that_dies_is_a_failure, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
