/* The published DuoAttention patterns (folder attn_patterns/ of
 * https://github.com/mit-han-lab/duo-attention): under $ZZ_DUO_PATTERNS, else
 * ../shared/duo-patterns, which CI keeps beside the clone and a user's clone
 * lacks. Tests about the published data skip without them, with one line
 * saying why; tests of logic use patterns of the same shape in tests/fixtures.
 * Include after cmocka.h. */
#ifndef ZZ_TEST_PUBLISHED_H
#define ZZ_TEST_PUBLISHED_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* root/folder into path, root being the published patterns' folder; skips
 * the calling test when that folder is missing. */
static void published_folder(const char *folder, char *path, size_t size) {
    const char *root = getenv("ZZ_DUO_PATTERNS");
    if (!root || !*root) root = "../shared/duo-patterns";
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        print_message("skipped: %s not found (DuoAttention's attn_patterns/; see README, \"The published patterns\")\n",
                      root);
        skip();
    }
    snprintf(path, size, "%s/%s", root, folder);
}

#endif
