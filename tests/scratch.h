/* Helpers of the tests that run the suite's scripts: a scratch directory
 * per test (cmocka setup/teardown; *state is its path), paths in it,
 * whole-file reads and a text check. Include after cmocka.h. */
#ifndef ZZ_TEST_SCRATCH_H
#define ZZ_TEST_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_dir(void **state) {
    static char dir[64];
    strcpy(dir, "/tmp/zz-test-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    *state = dir;
    return 0;
}

static int remove_dir(void **state) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (const char *)*state);
    return system(cmd) == 0 ? 0 : -1;
}

/* The whole file, NUL-terminated (its length in *size unless NULL); NULL
 * if it cannot be opened. */
static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (int c; (c = fgetc(f)) != EOF;) {
        if (n + 1 >= cap && !(text = realloc(text, cap = 2 * cap + 4096))) abort();
        text[n++] = (char)c;
    }
    fclose(f);
    if (!text && !(text = malloc(1))) abort();
    text[n] = '\0';
    if (size) *size = n;
    return text;
}

/* dir/name, in one of four rotating buffers (enough for one call's paths). */
static inline const char *in(const char *dir, const char *name) {
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

static inline void expect_in(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("lacks '%s' in:\n%s", needle, text);
}

#endif
