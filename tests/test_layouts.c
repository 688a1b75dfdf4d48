/* The table of head layouts (layouts.h): every layout has a whole entry,
 * the fields agree with each other, and the plots draw each layout in the
 * colour and point type the table records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "layouts.h"

static void test_every_layout_has_a_named_entry(void **state) {
    (void)state;
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        assert_non_null(a->name);
        assert_string_equal(zz_layout_name((zz_layout)l), a->name);
        assert_non_null(a->plot_colour);
        assert_true(a->plot_point > 0);
        assert_int_equal(a->nvtx_argb >> 24, 0xFF);  /* opaque on the timeline */
        for (int o = 0; o < l; o++) {
            const zz_layout_info *b = zz_layout_info_of((zz_layout)o);
            assert_true(strcmp(a->name, b->name) != 0);
            assert_true(!a->alias || strcmp(a->alias, b->name) != 0);
            assert_true(!b->alias || strcmp(b->alias, a->name) != 0);
            assert_true(!a->alias || !b->alias || strcmp(a->alias, b->alias) != 0);
            assert_true(strcmp(a->plot_colour, b->plot_colour) != 0);
            assert_true(a->plot_point != b->plot_point);
            assert_true(a->nvtx_argb != b->nvtx_argb);
        }
    }
}

static void test_names_and_aliases_are_read_back(void **state) {
    (void)state;
    zz_layout layout;
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        assert_int_equal(zz_layout_from_name(a->name, &layout), 0);
        assert_int_equal(layout, l);
        if (a->alias) {
            assert_int_equal(zz_layout_from_name(a->alias, &layout), 0);
            assert_int_equal(layout, l);
        }
    }
    assert_int_equal(zz_layout_from_name("duo", &layout), 0);
    assert_int_equal(layout, ZZ_LAYOUT_DUO_CAT);
    assert_int_equal(zz_layout_from_name("fused", &layout), -1);
    assert_int_equal(zz_layout_from_name("", &layout), -1);
}

/* zz_layout_names lists the table in order, an alias before its layout. */
static void test_help_list_follows_the_table(void **state) {
    (void)state;
    char want[512] = "";
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        if (l) strcat(want, ", ");
        if (a->alias) sprintf(want + strlen(want), "%s (= %s), ", a->alias, a->name);
        strcat(want, a->name);
    }
    assert_string_equal(zz_layout_names, want);
}

static void test_mixed_layouts_are_the_duo_ones(void **state) {
    (void)state;
    int mixed = 0;
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        const int duo = strncmp(a->name, "duo-", 4) == 0;
        assert_int_equal(zz_layout_mixed((zz_layout)l), duo);
        mixed += duo;
        if (!duo) {  /* no mixed layer: nothing to split or join */
            assert_false(a->reordered);
            assert_int_equal(a->copies, 0);
            assert_int_equal(a->buffers, 0);
        }
    }
    assert_int_equal(mixed, 4);
    assert_int_equal(zz_layout_info_of(ZZ_LAYOUT_ZIGZAG)->labels, ZZ_LABELS_PER_LAYER);
    assert_int_equal(zz_layout_info_of(ZZ_LAYOUT_FULL)->labels, ZZ_LABELS_NONE_RETRIEVAL);
    assert_int_equal(zz_layout_info_of(ZZ_LAYOUT_STREAMING)->labels, ZZ_LABELS_NONE_STREAMING);
}

/* A mixed layer's heads reach split order one way (reordered at load, or
 * gathered, and then scattered back), its outputs are joined at most once,
 * and each copy has the buffers it works in. */
static void test_copies_and_buffers_agree(void **state) {
    (void)state;
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        if (!zz_layout_mixed((zz_layout)l)) continue;
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        const int gather = (a->copies & ZZ_COPY_GATHER) != 0, scatter = (a->copies & ZZ_COPY_SCATTER) != 0,
                  concat = (a->copies & ZZ_COPY_CONCAT) != 0;
        assert_int_equal(a->labels, ZZ_LABELS_PER_HEAD);
        assert_int_equal(a->reordered, !gather);
        assert_int_equal(scatter, gather);
        assert_false(scatter && concat);
        assert_int_equal((a->buffers & ZZ_BUFFER_SPLIT_ACTIVATIONS) != 0, gather);
        assert_int_equal((a->buffers & ZZ_BUFFER_HEAD_INDEX) != 0, gather);
        assert_int_equal((a->buffers & ZZ_BUFFER_GROUP_OUTPUTS) != 0, concat);
    }
    assert_int_equal(zz_layout_info_of(ZZ_LAYOUT_DUO_SLICES)->copies, 0);
}

/* The text of gnuplot's definition NAME(L) = ... in plots/common.gp, its
 * continuation lines joined. */
static char *gnuplot_function(const char *text, const char *name) {
    char head[32];
    snprintf(head, sizeof head, "\n%s(L) =", name);
    const char *start = strstr(text, head);
    if (!start) fail_msg("plots/common.gp defines no %s(L)", name);
    char *out = calloc(1, strlen(start) + 1);
    size_t n = 0;
    for (const char *p = start + 1; *p && !(*p == '\n' && p[-1] != '\\'); p++) out[n++] = *p;
    return out;
}

static void test_plots_draw_the_table(void **state) {
    (void)state;
    size_t size;
    char *common = zz_read_file("plots/common.gp", &size), *prep = zz_read_file("plots/prep.awk", &size);
    assert_non_null(common);
    assert_non_null(prep);
    char *colour = gnuplot_function(common, "lcolor"), *point = gnuplot_function(common, "lpoint");
    const char *rank = strstr(prep, "function rank(layout)");
    assert_non_null(rank);
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        const zz_layout_info *a = zz_layout_info_of((zz_layout)l);
        char want[96];
        snprintf(want, sizeof want, "L eq '%s' ? '%s'", a->name, a->plot_colour);
        if (!strstr(colour, want)) fail_msg("plots/common.gp's lcolor lacks \"%s\"", want);
        snprintf(want, sizeof want, "L eq '%s' ? %d ", a->name, a->plot_point);
        if (!strstr(point, want)) fail_msg("plots/common.gp's lpoint lacks \"%s\"", want);
        snprintf(want, sizeof want, "layout == \"%s\" ?", a->name);
        const char *found = strstr(rank, want);
        if (!found || found > strchr(rank, '}')) fail_msg("plots/prep.awk's rank() lacks %s", a->name);
    }
    free(colour), free(point), free(common), free(prep);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_layout_has_a_named_entry),
        cmocka_unit_test(test_names_and_aliases_are_read_back),
        cmocka_unit_test(test_help_list_follows_the_table),
        cmocka_unit_test(test_mixed_layouts_are_the_duo_ones),
        cmocka_unit_test(test_copies_and_buffers_agree),
        cmocka_unit_test(test_plots_draw_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
