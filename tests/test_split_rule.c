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
#include <stdlib.h>

#include "attention.h"

#define SMS 132

/* The fraction of the time the grid keeps its block slots busy: the
 * definition the rule promises (attention.h), computed here on its own. */
static double busy_of(long long pairs, int keys, int splits, int resident) {
    const int per_split = zz_decode_split_keys(keys, splits);
    const double slots = (double)SMS * resident, waves = ceil((double)pairs * splits / slots);
    return (double)pairs * keys / (waves * slots * per_split);
}

/* The split count a request for `want` really gives (tile rounding). */
static int real_of(int keys, int want) {
    const int per_split = zz_decode_split_keys(keys, want);
    return (keys + per_split - 1) / per_split;
}

/* The split counts a grid can really have: those tile rounding keeps. */
static int real_count(int keys, int splits) { return real_of(keys, splits) == splits; }

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

/* zz_decode_fused_splits (duo-fused). The test's own schedule is a
 * slot-by-slot simulation: blocks in grid order (retrieval first), each
 * into the slot that frees first, every block of a kind as long as its
 * kind's longest split. The rule's makespan (decode.cu) is a closed form
 * that may count the window blocks up to one window block late; the
 * simulation bounds it from below. */
static int split_tiles_of(int keys, int splits) { return zz_decode_split_keys(keys, splits) / ZZ_DECODE_TILE; }

/* Makespan in tiles of n_f blocks of lf tiles, then n_w of lw, over `slots`
 * slots: free_at is a min-heap of the slots' free times; the root, the
 * earliest free slot, takes each block in turn. */
static double simulated_makespan(int slots, int n_f, int lf, int n_w, int lw) {
    double *free_at = calloc((size_t)slots, sizeof(double)), end = 0;
    for (int i = 0; i < n_f + n_w; i++) {
        free_at[0] += i < n_f ? lf : lw;
        if (free_at[0] > end) end = free_at[0];
        for (int at = 0;;) { /* sift the root down */
            int low = at, l = 2 * at + 1, r = l + 1;
            if (l < slots && free_at[l] < free_at[low]) low = l;
            if (r < slots && free_at[r] < free_at[low]) low = r;
            if (low == at) break;
            const double t = free_at[at];
            free_at[at] = free_at[low], free_at[low] = t, at = low;
        }
    }
    free(free_at);
    return end;
}

typedef struct {
    int batch, r, keys_f, s, keys_w;
} fused_shape;

static double fused_busy(const fused_shape *f, int nf, int ns, int slots, double *simulated) {
    const int lf = f->r ? split_tiles_of(f->keys_f, nf) : 0, lw = f->s ? split_tiles_of(f->keys_w, ns) : 0;
    const double total = (double)f->batch * (f->r * ceil(f->keys_f / 64.0) + f->s * ceil(f->keys_w / 64.0));
    const double t = simulated_makespan(slots, f->batch * f->r * nf, lf, f->s ? f->batch * f->s * ns : 0, lw);
    if (simulated) *simulated = t;
    return total / ((double)slots * t);
}

/* For mixed layers of 1..7 retrieval heads out of 8 and of Llama-2-7B's 32
 * (8 retrieval), B 1..16, S 8K..1M, a 384-key window: the splits are real
 * counts; a window block is no longer than a retrieval block; the
 * simulated busy fraction of the choice is >= 0.95 less the rule's
 * possible lateness, or no smaller retrieval count reaches 0.95 in the
 * simulation either. */
static void check_fused(const fused_shape *f, int *shapes) {
    const int slots = SMS * 2, tiles_f = (f->keys_f + 63) / 64;
    int nf = 0, ns = 0;
    zz_decode_fused_splits(SMS, 2, f->batch, f->r, f->keys_f, f->s, f->keys_w, &nf, &ns);
    char what[96];
    snprintf(what, sizeof what, "B %d, %d retrieval + %d streaming, S %d: %d / %d splits", f->batch, f->r, f->s,
             f->keys_f - 1, nf, ns);
    if (!real_count(f->keys_f, nf) || !real_count(f->keys_w, ns)) fail_msg("%s: not real split counts", what);
    const int lf = split_tiles_of(f->keys_f, nf), lw = split_tiles_of(f->keys_w, ns);
    if (lw > lf) fail_msg("%s: a window block (%d tiles) longer than a retrieval one (%d)", what, lw, lf);
    double t;
    const double busy = fused_busy(f, nf, ns, slots, &t);
    /* the closed form counts at most one window block late */
    if (busy * t / (t + lw) < 0.95)
        for (int n = 1; n < nf && n <= tiles_f; n++) {
            if (!real_count(f->keys_f, n)) continue;
            const int wn = real_of(f->keys_w, (6 + split_tiles_of(f->keys_f, n) - 1) / split_tiles_of(f->keys_f, n));
            const double other = fused_busy(f, n, wn, slots, NULL);
            if (other >= 0.95 && other > busy)
                fail_msg("%s: busy %.3f, but %d / %d splits reach %.3f", what, busy, n, wn, other);
        }
    (*shapes)++;
}

static void test_fused_shapes(void **state) {
    (void)state;
    static const int batches[] = {1, 2, 8, 16};
    static const int contexts[] = {8192, 32768, 131072, 1048576};
    int shapes = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
        for (size_t c = 0; c < sizeof contexts / sizeof contexts[0]; c++) {
            for (int r = 1; r < 8; r++) check_fused(&(fused_shape){batches[b], r, contexts[c] + 1, 8 - r, 384}, &shapes);
            check_fused(&(fused_shape){batches[b], 8, contexts[c] + 1, 24, 384}, &shapes);
        }
    print_message("  %d mixed shapes\n", shapes);
    int nf, ns;
    /* B 1, 4 + 4 heads, S 128K: 65 retrieval splits of 32 tiles and one
     * window block each, 264 blocks, one wave */
    zz_decode_fused_splits(SMS, 2, 1, 4, 131073, 4, 384, &nf, &ns);
    assert_int_equal(nf, 65);
    assert_int_equal(ns, 1);
    /* Llama-2-7B, 8 + 24 heads, S 120K: one wave of retrieval blocks, the
     * windows in the 8 slots it leaves and after (the count rule chose
     * 129 splits, four waves, measured slower than duo-cat) */
    zz_decode_fused_splits(SMS, 2, 1, 8, 122881, 24, 384, &nf, &ns);
    assert_true(8 * nf <= 2 * SMS);
    assert_int_equal(ns, 1);
    /* a layer of one kind is that kind's own wave rule's grid */
    zz_decode_fused_splits(SMS, 2, 1, 8, 131073, 0, 384, &nf, &ns);
    assert_int_equal(nf, zz_decode_wave_splits(SMS, 2, 8, 131073));
    assert_int_equal(ns, 1);
    zz_decode_fused_splits(SMS, 2, 1, 0, 131073, 8, 384, &nf, &ns);
    assert_int_equal(nf, 1);
    assert_int_equal(ns, zz_decode_wave_splits(SMS, 2, 8, 384));
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
