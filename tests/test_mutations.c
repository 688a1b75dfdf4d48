/* The bugs of tests/mutations/ (scripts/mutation-check) still fit the
 * sources: each patch applies cleanly to the tree as it is (patch
 * --dry-run), changes a kernel or harness source, and names, on a
 * "# caught by: TEST" line, a GPU test of tests/gpu/ that must catch it. A
 * patch that no longer applies would let scripts/mutation-check report a
 * build failure instead of the evidence it exists for. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MUTATIONS "tests/mutations/"

static void test_patches_apply_and_name_their_test(void **state) {
    (void)state;
    if (system("patch --version >/dev/null 2>&1") != 0) fail_msg("GNU patch is missing: apt-get install patch");
    DIR *dir = opendir(MUTATIONS);
    if (!dir) fail_msg("cannot open " MUTATIONS);
    int patches = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        const size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".patch")) continue;
        char path[512], command[1024], test[256] = "";
        snprintf(path, sizeof path, MUTATIONS "%s", e->d_name);
        static char text[1 << 16];
        FILE *f = fopen(path, "r");
        if (!f) fail_msg("cannot open %s", path);
        text[fread(text, 1, sizeof text - 1, f)] = '\0';
        fclose(f);
        const char *line = strstr(text, "\n# caught by: ");
        if (!line || sscanf(line, "\n# caught by: %255[A-Za-z0-9_]", test) != 1)
            fail_msg("%s: no '# caught by: TEST' line", path);
        char source[300];
        snprintf(source, sizeof source, "tests/gpu/%s.c", test);
        if (access(source, R_OK) != 0) fail_msg("%s: caught by %s, but there is no %s", path, test, source);
        if (!strstr(text, "\n+++ b/kernels/") && !strstr(text, "\n+++ b/harness/"))
            fail_msg("%s: changes neither kernels/ nor harness/", path);
        snprintf(command, sizeof command, "patch -p1 --dry-run --quiet --force <'%s' >/dev/null 2>&1", path);
        if (system(command) != 0)
            fail_msg("%s no longer applies to the sources: make the edit again and regenerate it "
                     "(scripts/mutation-check --help)",
                     path);
        patches++;
    }
    closedir(dir);
    print_message("  %d mutation patches apply and name their test\n", patches);
    assert_true(patches >= 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patches_apply_and_name_their_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
