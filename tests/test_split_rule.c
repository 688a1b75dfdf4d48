/* The split rule in whole waves (zz_decode_wave_splits, kernels/attention.h)
 * on a table of decode shapes: 1 to 8 KV heads, batch 1 to 64, contexts 1K
 * to 1M (a decode at S attends S + 1 keys), 1 and 2 blocks resident per SM,
 * 132 SMs (H100, H200). For every shape the split count must
 *   - cut the keys into that many non-empty splits of whole 64-key tiles;
 *   - keep the grid's block slots busy >= 95 % of the time (whole waves), or,
 *     where no split count can (too few tiles to fill a wave), be the split
 *     count that keeps them busiest;
 *   - be the fewest splits that do so (each split more is one more partial
 *     result to write and combine).
 * From S 32K on every shape must run in whole waves with every block slot
 * filled: the rule that counted every block as resident ran B 8, S 32K,
 * 8 KV heads in 384 blocks, 1.45 waves of 264 slots (issue 14). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "attention.h"

#define SMS 132

/* The fraction of the time the grid keeps its block slots busy: the
 * definition the rule promises (attention.h), computed here on its own. */
static double busy_of(long long pairs, int keys, int splits, int resident) {
    const int per_split = zz_decode_split_keys(keys, splits);
    const double slots = (double)SMS * resident, waves = ceil((double)pairs * splits / slots);
    return (double)pairs * keys / (waves * slots * per_split);
}

/* The split counts a grid can really have: those tile rounding keeps. */
static int real_count(int keys, int splits) {
    const int per_split = zz_decode_split_keys(keys, splits);
    return (keys + per_split - 1) / per_split == splits;
}

static void check_shape(int kv_heads, int batch, int ctx, int resident) {
    const int keys = ctx + 1, tiles = (keys + ZZ_DECODE_TILE - 1) / ZZ_DECODE_TILE;
    const long long pairs = (long long)batch * kv_heads;
    const int splits = zz_decode_wave_splits(SMS, resident, pairs, keys);
    const int per_split = zz_decode_split_keys(keys, splits);
    char what[96];
    snprintf(what, sizeof what, "Hkv %d, B %d, S %d, %d resident", kv_heads, batch, ctx, resident);

    if (splits < 1 || splits > tiles || per_split % ZZ_DECODE_TILE || (long long)(splits - 1) * per_split >= keys ||
        (long long)splits * per_split < keys)
        fail_msg("%s: %d splits of %d keys do not cut %d keys into non-empty whole-tile splits", what, splits,
                 per_split, keys);
    const double busy = busy_of(pairs, keys, splits, resident);
    double best = 0;
    int fewest = 0;
    for (int s = 1; s <= tiles; s++) {
        if (!real_count(keys, s)) continue;
        const double b = busy_of(pairs, keys, s, resident);
        if (b > best) best = b;
        if (!fewest && b >= 0.95) fewest = s;
    }
    if (fewest && splits != fewest)
        fail_msg("%s: %d splits (busy %.3f); the fewest that keep the slots busy >= 95 %% are %d", what, splits, busy,
                 fewest);
    if (!fewest && busy != best)
        fail_msg("%s: %d splits keep the slots busy %.3f of the time; another count reaches %.3f", what, splits, busy,
                 best);
    const long long blocks = pairs * splits, slots = (long long)SMS * resident;
    if (ctx >= 32768 && (busy < 0.95 || blocks < 0.95 * slots))
        fail_msg("%s: %lld blocks in %d slots, busy %.3f: a long context must fill whole waves", what, blocks,
                 (int)slots, busy);
}

static void test_shapes(void **state) {
    (void)state;
    static const int kv_heads[] = {1, 2, 3, 4, 5, 7, 8};
    static const int batches[] = {1, 2, 5, 8, 16, 33, 64};
    static const int contexts[] = {1024, 4096, 8192, 32768, 131072, 1048576};
    int shapes = 0;
    for (int r = 1; r <= 2; r++)
        for (size_t h = 0; h < sizeof kv_heads / sizeof kv_heads[0]; h++)
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
                for (size_t c = 0; c < sizeof contexts / sizeof contexts[0]; c++, shapes++)
                    check_shape(kv_heads[h], batches[b], contexts[c], r);
    print_message("  %d shapes\n", shapes);
}

/* The table a reader checks by eye: blocks and waves of the shapes the
 * issue names (8 and 4 KV heads, B 1 and 8), and a few pinned counts. */
static void test_named_shapes(void **state) {
    (void)state;
    static const struct {
        int kv_heads, batch, ctx, resident, splits;
    } named[] = {
        {8, 8, 32768, 2, 4},   /* 256 blocks: one wave of 264 (was 6 splits, 384 blocks, 1.45 waves) */
        {4, 8, 32768, 2, 8},   /* 256 blocks */
        {8, 1, 131072, 2, 32}, /* 256 blocks of 4160 keys */
        {4, 1, 131072, 2, 65}, /* 260 blocks of 2048 keys (the last split holds only the newest key) */
        {8, 8, 131072, 2, 4},
        {4, 8, 131072, 2, 8},
        {8, 1, 32768, 1, 33},  /* two waves of 132: 16 splits (128 blocks) leave 4 slots idle, and the
                                * tile rounding (2112 keys a split) makes that 94 % busy */
    };
    print_message("  %4s %3s %8s %4s %7s %7s %6s %6s\n", "Hkv", "B", "S", "res", "splits", "blocks", "waves", "busy");
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const long long pairs = (long long)named[i].batch * named[i].kv_heads;
        const int keys = named[i].ctx + 1, r = named[i].resident;
        const int splits = zz_decode_wave_splits(SMS, r, pairs, keys);
        print_message("  %4d %3d %8d %4d %7d %7lld %6.2f %6.3f\n", named[i].kv_heads, named[i].batch, named[i].ctx, r,
                      splits, pairs * splits, (double)pairs * splits / (SMS * r), busy_of(pairs, keys, splits, r));
        assert_int_equal(splits, named[i].splits);
    }
}

/* Shapes with nothing to split, and arguments out of range: one split. */
static void test_edges(void **state) {
    (void)state;
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 1, 1), 1);
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 8, 64), 1);
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 8, 65), 2); /* two tiles, both used */
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 100000, 1 << 20), 1); /* 379 waves without splitting */
    assert_int_equal(zz_decode_wave_splits(0, 2, 8, 4096), 1);
    assert_int_equal(zz_decode_wave_splits(SMS, 0, 8, 4096), 1);
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 0, 4096), 1);
    assert_int_equal(zz_decode_wave_splits(SMS, 2, 8, 0), 1);
}

/* zz_decode_fused_splits (duo-fused): both kinds' splits from one size K
 * of tiles per block. For mixed layers of 1..7 retrieval heads out of 8,
 * B 1..16, S 8K..1M, a 384-key window: the splits are real counts (tile
 * rounding keeps them); a streaming block never carries more tiles than a
 * retrieval one; and the busy fraction over the slots (total tiles /
 * (waves · slots · the longest block's tiles)) is that of the largest K
 * reaching 0.95, or, where none does, the best any K reaches (found here
 * by trying every K). */
/* The split count a request for `want` really gives (tile rounding). */
static int real_of(int keys, int want) {
    const int per_split = zz_decode_split_keys(keys, want);
    return (keys + per_split - 1) / per_split;
}

static double fused_busy(int batch, int r, int keys_f, int s, int keys_w, int nf, int ns, int resident) {
    const int tf = r ? zz_decode_split_keys(keys_f, nf) / ZZ_DECODE_TILE : 0;
    const int tw = s ? zz_decode_split_keys(keys_w, ns) / ZZ_DECODE_TILE : 0;
    const double total = (double)batch * (r * ceil(keys_f / 64.0) + s * ceil(keys_w / 64.0));
    const double blocks = (double)batch * (r * nf + s * ns), slots = (double)SMS * resident;
    return total / (ceil(blocks / slots) * slots * (tf > tw ? tf : tw));
}

static void test_fused_shapes(void **state) {
    (void)state;
    static const int batches[] = {1, 2, 8, 16};
    static const int contexts[] = {8192, 32768, 131072, 1048576};
    const int keys_w = 384;
    int shapes = 0;
    for (int r = 1; r < 8; r++)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
            for (size_t c = 0; c < sizeof contexts / sizeof contexts[0]; c++, shapes++) {
                const int keys_f = contexts[c] + 1, batch = batches[b];
                int nf = 0, ns = 0;
                zz_decode_fused_splits(SMS, 2, batch, r, keys_f, 8 - r, keys_w, &nf, &ns);
                char what[80];
                snprintf(what, sizeof what, "B %d, %d retrieval of 8, S %d: %d / %d splits", batch, r, contexts[c], nf,
                         ns);
                if (!real_count(keys_f, nf) || !real_count(keys_w, ns)) fail_msg("%s: not real split counts", what);
                const int tf = zz_decode_split_keys(keys_f, nf) / ZZ_DECODE_TILE;
                const int tw = zz_decode_split_keys(keys_w, ns) / ZZ_DECODE_TILE;
                if (tw > tf) fail_msg("%s: a streaming block (%d tiles) longer than a retrieval one (%d)", what, tw, tf);
                const double busy = fused_busy(batch, r, keys_f, 8 - r, keys_w, nf, ns, 2);
                double best = 0, first = 0;
                for (int k = (keys_f + 63) / 64; k >= 1; k--) {
                    const int kf = real_of(keys_f, ((keys_f + 63) / 64 + k - 1) / k);
                    const int kw = real_of(keys_w, (6 + k - 1) / k);
                    const double kb = fused_busy(batch, r, keys_f, 8 - r, keys_w, kf, kw, 2);
                    if (kb > best) best = kb;
                    if (!first && kb >= 0.95) first = kb;
                }
                if (first ? fabs(busy - first) > 1e-12 : fabs(busy - best) > 1e-12)
                    fail_msg("%s: busy %.3f; the rule's K gives %.3f", what, busy, first ? first : best);
            }
    print_message("  %d mixed shapes\n", shapes);
    /* the shape the duo-cat target runs: B 1, 4 + 4 heads, S 128K:
     * 65 retrieval splits of 32 tiles and one window block each, 264 blocks */
    int nf, ns;
    zz_decode_fused_splits(SMS, 2, 1, 4, 131073, 4, 384, &nf, &ns);
    assert_int_equal(nf, 65);
    assert_int_equal(ns, 1);
    /* a layer of one kind is that kind's own rule's grid, up to ties */
    zz_decode_fused_splits(SMS, 2, 1, 8, 131073, 0, 384, &nf, &ns);
    assert_int_equal(ns, 1);
    assert_true(fused_busy(1, 8, 131073, 0, 384, nf, 1, 2) >= 0.95);
    zz_decode_fused_splits(SMS, 2, 1, 0, 131073, 8, 384, &nf, &ns);
    assert_int_equal(nf, 1);
    assert_int_equal(ns, 6);  /* 48 one-tile blocks: the window cannot fill a wave */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_named_shapes),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_fused_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
