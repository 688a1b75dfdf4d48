/* Sweep list parsing, every error message, and the cross-product iterator
 * matching nested loops. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sweep.h"

#define MAX_CTX (1LL << 24)

static void expect_message(const zz_error *err, const char *want) {
    if (strcmp(err->msg, want) != 0) fail_msg("message '%s', wanted '%s'", err->msg, want);
}

static void test_sizes_with_suffixes(void **state) {
    (void)state;
    long long v[ZZ_MAX_LIST];
    int n = -1;
    zz_error err = {""};
    assert_int_equal(zz_parse_sizes("--ctx", "4k,16k,64k,128K,1m,32768,3M,1", MAX_CTX, v, &n, &err), 0);
    assert_int_equal(n, 8);
    const long long want[] = {4096, 16384, 65536, 131072, 1048576, 32768, 3145728, 1};
    for (int i = 0; i < 8; i++) assert_int_equal(v[i], want[i]);
    assert_int_equal(zz_parse_sizes("--ctx", "16m", MAX_CTX, v, &n, &err), 0);
    assert_int_equal(v[0], MAX_CTX);  /* the limit itself is allowed */
    assert_int_equal(n, 1);
}

static void expect_bad_sizes(const char *list, long long max, const char *want) {
    long long v[ZZ_MAX_LIST];
    int n;
    zz_error err = {""};
    assert_int_equal(zz_parse_sizes("--ctx", list, max, v, &n, &err), -1);
    expect_message(&err, want);
}

static void test_bad_sizes_name_the_flag_and_the_item(void **state) {
    (void)state;
    expect_bad_sizes("", MAX_CTX, "--ctx: empty list");
    expect_bad_sizes("4k,,8k", MAX_CTX, "--ctx: empty item 2 in '4k,,8k'");
    expect_bad_sizes("4k,", MAX_CTX, "--ctx: empty item 2 in '4k,'");
    expect_bad_sizes(",4k", MAX_CTX, "--ctx: empty item 1 in ',4k'");
    expect_bad_sizes("4k,0", MAX_CTX, "--ctx: '0' must be positive");
    expect_bad_sizes("0k", MAX_CTX, "--ctx: '0k' must be positive");
    expect_bad_sizes("-4k", MAX_CTX, "--ctx: '-4k' must be positive");
    expect_bad_sizes("4q", MAX_CTX, "--ctx: '4q' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("4kb", MAX_CTX, "--ctx: '4kb' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("k", MAX_CTX, "--ctx: 'k' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("1.5k", MAX_CTX, "--ctx: '1.5k' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("+4", MAX_CTX, "--ctx: '+4' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes(" 4k", MAX_CTX, "--ctx: ' 4k' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("-", MAX_CTX, "--ctx: '-' is not a size (like 32768, 4k or 1m)");
    expect_bad_sizes("17m", MAX_CTX, "--ctx: '17m' is above the limit 16777216");
    expect_bad_sizes("16777217", MAX_CTX, "--ctx: '16777217' is above the limit 16777216");
    /* Past long long, in digits and through the suffix. */
    expect_bad_sizes("99999999999999999999999", MAX_CTX, "--ctx: '99999999999999999999999' is above the limit 16777216");
    expect_bad_sizes("9223372036854775807k", 9223372036854775806LL,
                     "--ctx: '9223372036854775807k' is above the limit 9223372036854775806");
    expect_bad_sizes("9007199254740992m", 9223372036854775806LL,
                     "--ctx: '9007199254740992m' is above the limit 9223372036854775806");
    expect_bad_sizes("4k,16k,4096", MAX_CTX, "--ctx: '4096' repeats an earlier item");
}

static void test_too_many_items(void **state) {
    (void)state;
    char list[ZZ_MAX_LIST * 4 + 8] = "";
    for (int i = 1; i <= ZZ_MAX_LIST; i++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i > 1 ? "," : "", i);
    long long v[ZZ_MAX_LIST];
    int n;
    zz_error err = {""};
    assert_int_equal(zz_parse_sizes("--batch", list, 65536, v, &n, &err), 0);
    assert_int_equal(n, ZZ_MAX_LIST);
    assert_int_equal(v[ZZ_MAX_LIST - 1], ZZ_MAX_LIST);
    strcat(list, ",99");
    assert_int_equal(zz_parse_sizes("--batch", list, 65536, v, &n, &err), -1);
    expect_message(&err, "--batch: more than 64 items");
}

static void test_fractions_in_a_range(void **state) {
    (void)state;
    double v[ZZ_MAX_LIST];
    int n;
    zz_error err = {""};
    assert_int_equal(zz_parse_fractions("--sparsity", "0.25,0.5,0,1,.75,1e-1", 0, 1, v, &n, &err), 0);
    assert_int_equal(n, 6);
    const double want[] = {0.25, 0.5, 0, 1, 0.75, 0.1};
    for (int i = 0; i < 6; i++) assert_true(v[i] == want[i]);
}

static void expect_bad_fractions(const char *list, const char *want) {
    double v[ZZ_MAX_LIST];
    int n;
    zz_error err = {""};
    assert_int_equal(zz_parse_fractions("--sparsity", list, 0, 1, v, &n, &err), -1);
    expect_message(&err, want);
}

static void test_bad_fractions_name_the_flag_and_the_item(void **state) {
    (void)state;
    expect_bad_fractions("", "--sparsity: empty list");
    expect_bad_fractions("0.5,,0.25", "--sparsity: empty item 2 in '0.5,,0.25'");
    expect_bad_fractions("1.5", "--sparsity: '1.5' out of range [0, 1]");
    expect_bad_fractions("0.5,-0.1", "--sparsity: '-0.1' out of range [0, 1]");
    expect_bad_fractions("nan", "--sparsity: 'nan' out of range [0, 1]");
    expect_bad_fractions("inf", "--sparsity: 'inf' out of range [0, 1]");
    expect_bad_fractions("half", "--sparsity: 'half' is not a number");
    expect_bad_fractions("0.5x", "--sparsity: '0.5x' is not a number");
    expect_bad_fractions(" 0.5", "--sparsity: ' 0.5' is not a number");
    expect_bad_fractions("0.5,0.50", "--sparsity: '0.50' repeats an earlier item");
}

static const char *const layouts[] = {"full", "streaming", "duo-cat", "duo-gather", "duo-slices", "zigzag"};

static void test_names_from_an_allowed_set(void **state) {
    (void)state;
    int v[ZZ_MAX_LIST], n;
    zz_error err = {""};
    assert_int_equal(zz_parse_names("--layouts", "zigzag,full,duo-cat", layouts, 6, v, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 5);
    assert_int_equal(v[1], 0);
    assert_int_equal(v[2], 2);

    const char *const modes[] = {"eager", "graph"};
    assert_int_equal(zz_parse_names("--mode", "graph", modes, 2, v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 1);

    assert_int_equal(zz_parse_names("--layouts", "full,duo", layouts, 6, v, &n, &err), -1);
    expect_message(&err, "--layouts: unknown 'duo' (one of: full, streaming, duo-cat, duo-gather, duo-slices, zigzag)");
    assert_int_equal(zz_parse_names("--mode", "eager,graphs", modes, 2, v, &n, &err), -1);
    expect_message(&err, "--mode: unknown 'graphs' (one of: eager, graph)");
    assert_int_equal(zz_parse_names("--mode", "Eager", modes, 2, v, &n, &err), -1);
    expect_message(&err, "--mode: unknown 'Eager' (one of: eager, graph)");
    assert_int_equal(zz_parse_names("--mode", "graph,eager,graph", modes, 2, v, &n, &err), -1);
    expect_message(&err, "--mode: 'graph' repeats an earlier item");
    assert_int_equal(zz_parse_names("--phase", ",", modes, 2, v, &n, &err), -1);
    expect_message(&err, "--phase: empty item 1 in ','");
}

static void test_sweep_walks_like_nested_loops(void **state) {
    (void)state;
    const int counts[] = {3, 1, 4, 2};  /* ctx × batch × sparsity × phase */
    zz_sweep s;
    zz_error err = {""};
    assert_int_equal(zz_sweep_init(&s, counts, 4, &err), 0);
    assert_int_equal(s.size, 24);
    long long i = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 1; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 2; d++, i++) {
                    int coords[4] = {-1, -1, -1, -1};
                    zz_sweep_coords(&s, i, coords);
                    assert_int_equal(coords[0], a);
                    assert_int_equal(coords[1], b);
                    assert_int_equal(coords[2], c);
                    assert_int_equal(coords[3], d);
                    assert_int_equal(zz_sweep_index(&s, coords), i);
                }
    assert_int_equal(zz_sweep_init(&s, NULL, 0, &err), 0);
    assert_int_equal(s.size, 1);  /* no dimension: one configuration */
    assert_int_equal(zz_sweep_index(&s, NULL), 0);
}

static void test_bad_sweeps(void **state) {
    (void)state;
    zz_sweep s;
    zz_error err = {""};
    const int empty_dim[] = {2, 0, 3};
    assert_int_equal(zz_sweep_init(&s, empty_dim, 3, &err), -1);
    expect_message(&err, "sweep dimension 1 has 0 values");
    const int huge[] = {1000, 1000, 2};
    assert_int_equal(zz_sweep_init(&s, huge, 3, &err), -1);
    expect_message(&err, "sweep of more than 1000000 configurations");
    const int at_cap[] = {1000, 1000};
    assert_int_equal(zz_sweep_init(&s, at_cap, 2, &err), 0);
    assert_int_equal(s.size, 1000000);
    int coords[2];
    zz_sweep_coords(&s, 999999, coords);
    assert_int_equal(coords[0], 999);
    assert_int_equal(coords[1], 999);
    const int nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(zz_sweep_init(&s, nine, 9, &err), -1);
    expect_message(&err, "sweep of 9 dimensions: at most 8");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_with_suffixes),
        cmocka_unit_test(test_bad_sizes_name_the_flag_and_the_item),
        cmocka_unit_test(test_too_many_items),
        cmocka_unit_test(test_fractions_in_a_range),
        cmocka_unit_test(test_bad_fractions_name_the_flag_and_the_item),
        cmocka_unit_test(test_names_from_an_allowed_set),
        cmocka_unit_test(test_sweep_walks_like_nested_loops),
        cmocka_unit_test(test_bad_sweeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
