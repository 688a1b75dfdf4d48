/* The table of kernel variants (harness/plan/variants.h): every phase's
 * variants have whole entries, ids in order from 0, names unique across
 * phases (zz-kernel-bench --kernel takes either phase's), read back by
 * name; the help lists follow the table; a workload names a variant of its
 * own phase. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "variants.h"

static void test_entries_are_whole_and_names_unique(void **state) {
    (void)state;
    int n;
    const zz_kernel_variant *v = zz_kernel_variants(&n);
    assert_int_equal(n, ZZ_DECODE_KERNELS + ZZ_PREFILL_KERNELS);
    int next[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        assert_true(v[i].phase == ZZ_DECODE || v[i].phase == ZZ_PREFILL);
        assert_int_equal(v[i].id, next[v[i].phase]++);  /* each phase's in id order, from 0 */
        assert_true(v[i].name && v[i].name[0] && !strchr(v[i].name, ',') && strcmp(v[i].name, "all"));
        assert_true(v[i].launches && v[i].launches[0]);
        assert_true(v[i].change && v[i].change[0]);
        assert_ptr_equal(zz_kernel_variant_of(v[i].phase, v[i].id), &v[i]);
        assert_string_equal(zz_kernel_variant_name(v[i].phase, v[i].id), v[i].name);
        int id = -1;
        assert_int_equal(zz_kernel_variant_from_name(v[i].phase, v[i].name, &id), 0);
        assert_int_equal(id, v[i].id);
        for (int o = 0; o < i; o++) assert_true(strcmp(v[i].name, v[o].name) != 0);
    }
    assert_int_equal(next[ZZ_DECODE], zz_kernel_variant_count(ZZ_DECODE));
    assert_int_equal(next[ZZ_PREFILL], zz_kernel_variant_count(ZZ_PREFILL));
    assert_true(zz_kernel_variant_count(ZZ_DECODE) <= ZZ_MAX_KERNEL_VARIANTS);
    assert_true(zz_kernel_variant_count(ZZ_PREFILL) <= ZZ_MAX_KERNEL_VARIANTS);
}

static void test_unknown_names_and_ids(void **state) {
    (void)state;
    int id = 7;
    assert_int_equal(zz_kernel_variant_from_name(ZZ_DECODE, "fa2", &id), -1);  /* prefill's, not decode's */
    assert_int_equal(zz_kernel_variant_from_name(ZZ_PREFILL, "split-combine", &id), -1);
    assert_int_equal(zz_kernel_variant_from_name(ZZ_DECODE, "", &id), -1);
    assert_int_equal(id, 7);
    assert_null(zz_kernel_variant_of(ZZ_DECODE, ZZ_DECODE_KERNELS));
    assert_null(zz_kernel_variant_of(ZZ_PREFILL, -1));
    assert_string_equal(zz_kernel_variant_name(ZZ_PREFILL, ZZ_PREFILL_KERNELS), "?");
}

/* zz_decode_kernel_names and zz_prefill_kernel_names list the table in order. */
static void test_help_lists_follow_the_table(void **state) {
    (void)state;
    for (int p = ZZ_DECODE; p <= ZZ_PREFILL; p++) {
        char want[256] = "";
        for (int i = 0; i < zz_kernel_variant_count((zz_phase)p); i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? ", " : "",
                     zz_kernel_variant_name((zz_phase)p, i));
        assert_string_equal(p == ZZ_DECODE ? zz_decode_kernel_names : zz_prefill_kernel_names, want);
    }
}

/* The Hopper kernel where it runs (id 1: old files' prefill rows stay fa2), fa2 elsewhere. */
static void test_default_prefill_kernel(void **state) {
    (void)state;
    assert_int_equal(ZZ_PREFILL_FA2, 0);
    assert_string_equal(zz_kernel_variant_name(ZZ_PREFILL, zz_default_prefill_kernel(1)), "wgmma-tma");
    assert_string_equal(zz_kernel_variant_name(ZZ_PREFILL, zz_default_prefill_kernel(0)), "fa2");
}

static void test_workloads_name_a_variant_of_their_phase(void **state) {
    (void)state;
    zz_error err = {""};
    zz_workload w = {ZZ_DECODE, 1, 4096, 0, 128, 256};
    assert_int_equal(zz_workload_check(&w, &err), 0);
    w.kernel = ZZ_DECODE_KERNELS;
    assert_int_equal(zz_workload_check(&w, &err), -1);
    assert_non_null(strstr(err.msg, "kernel variant"));
    w.kernel = -1;
    assert_int_equal(zz_workload_check(&w, &err), -1);
    w.phase = ZZ_PREFILL;
    w.kernel = ZZ_PREFILL_KERNELS;
    assert_int_equal(zz_workload_check(&w, &err), -1);
    w.kernel = ZZ_PREFILL_FA2;
    assert_int_equal(zz_workload_check(&w, &err), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_are_whole_and_names_unique),
        cmocka_unit_test(test_unknown_names_and_ids),
        cmocka_unit_test(test_help_lists_follow_the_table),
        cmocka_unit_test(test_default_prefill_kernel),
        cmocka_unit_test(test_workloads_name_a_variant_of_their_phase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
