/* Tests of the CPU reference attention (kernels/reference.c), the oracle the
 * GPU kernels are checked against, so it must be right on its own terms:
 * bf16 rounding bit for bit, hand-computed softmax values, masks checked
 * against explicitly listed visible keys, and the identities that tie
 * prefill, chunked prefill, decode, GQA and batching together.
 *
 * Independent checks use naive_row(): a double-precision softmax over an
 * explicit list of key rows, sharing no code with the reference. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

/* ------------------------------------------------------------ helpers ---- */

/* Failing comparisons print both values; NaN never passes (the comparisons
 * are written so that NaN makes them false). */
#define assert_near(actual, expected, eps)                                              \
    do {                                                                                \
        const double a_ = (actual), e_ = (expected);                                    \
        if (!(fabs(a_ - e_) <= (eps))) {                                                \
            print_error("%s = %.9g, expected %.9g (+- %g)\n", #actual, a_, e_,          \
                        (double)(eps));                                                 \
            fail();                                                                     \
        }                                                                               \
    } while (0)

#define assert_below(value, bound)                                                      \
    do {                                                                                \
        const double v_ = (value);                                                      \
        if (!(v_ < (bound))) {                                                          \
            print_error("%s = %.6g, not below %g\n", #value, v_, (double)(bound));      \
            fail();                                                                     \
        }                                                                               \
    } while (0)

#define assert_above(value, bound)                                                      \
    do {                                                                                \
        const double v_ = (value);                                                      \
        if (!(v_ > (bound))) {                                                          \
            print_error("%s = %.6g, not above %g\n", #value, v_, (double)(bound));      \
            fail();                                                                     \
        }                                                                               \
    } while (0)

static float float_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of_float(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* splitmix64: tiny, deterministic, good enough for test inputs. */
typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-amp, amp), rounded to bf16: what the GPU would be given. */
static void fill(rng *r, bf16 *x, long n, float amp) {
    for (long i = 0; i < n; i++) {
        const double u = (double)(rng_next(r) >> 11) / 9007199254740992.0; /* [0,1) */
        x[i] = bf16_from_float((float)((2.0 * u - 1.0) * amp));
    }
}

static bf16 *new_bf16(long n) {
    bf16 *p = malloc((size_t)n * sizeof *p);
    assert_non_null(p);
    return p;
}

static float *new_floats(long n) {
    float *p = malloc((size_t)n * sizeof *p);
    assert_non_null(p);
    /* Poison: an output the reference forgets to write shows up as NaN. */
    for (long i = 0; i < n; i++) p[i] = NAN;
    return p;
}

static bf16 *random_bf16(rng *r, long n, float amp) {
    bf16 *p = new_bf16(n);
    fill(r, p, n, amp);
    return p;
}

/* Tokens [t0, t0 + n) of a [batch][tokens][width] tensor, as a new tensor. */
static bf16 *slice_tokens(const bf16 *src, int batch, int tokens, int t0, int n, int width) {
    bf16 *dst = new_bf16((long)batch * n * width);
    for (int b = 0; b < batch; b++)
        memcpy(dst + (size_t)b * n * width, src + ((size_t)b * tokens + t0) * width,
               (size_t)n * width * sizeof *dst);
    return dst;
}

/* Head `head` of a [batch][tokens][heads][dim] tensor, as [batch][tokens][1][dim]. */
static bf16 *slice_head(const bf16 *src, long rows, int heads, int head, int dim) {
    bf16 *dst = new_bf16(rows * dim);
    for (long t = 0; t < rows; t++)
        memcpy(dst + t * dim, src + (t * heads + head) * dim, (size_t)dim * sizeof *dst);
    return dst;
}

/* Independent oracle for one output row: softmax(q . k_j / sqrt(D)) v_j over
 * the listed key rows, in double. q, k, v point at head 0 of token 0;
 * row_stride is the element distance between tokens of k and v. */
static void naive_row(const bf16 *q, const bf16 *k, const bf16 *v, long row_stride, int dim,
                      const int *keys, int n, double *out) {
    double logit[512], max = -INFINITY, sum = 0.0;
    assert_true(n >= 1 && n <= 512);
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int d = 0; d < dim; d++)
            s += (double)bf16_to_float(q[d]) * bf16_to_float(k[keys[i] * row_stride + d]);
        logit[i] = s / sqrt((double)dim);
        if (logit[i] > max) max = logit[i];
    }
    for (int i = 0; i < n; i++) sum += exp(logit[i] - max);
    for (int d = 0; d < dim; d++) {
        double acc = 0.0;
        for (int i = 0; i < n; i++)
            acc += exp(logit[i] - max) * bf16_to_float(v[keys[i] * row_stride + d]);
        out[d] = acc / sum;
    }
}

/* Relative L2 error of a float row against a double row. */
static double row_error(const float *out, const double *ref, int dim) {
    double e = 0.0, r = 0.0;
    for (int d = 0; d < dim; d++) {
        e += (out[d] - ref[d]) * (out[d] - ref[d]);
        r += ref[d] * ref[d];
    }
    return sqrt(e / r);
}

/* Keys that query position i sees, written straight from the rule in
 * reference.h (a predicate per key, unlike the reference's ranges). */
static int visible_keys(zz_mask m, int q_pos0, int i, int *keys) {
    int n = 0;
    for (int j = 0; j <= i; j++) {
        const int lo = m.chunked ? q_pos0 - m.recent : i + 1 - m.recent;
        if (m.kind == ZZ_MASK_FULL || j < m.sink || j >= lo) keys[n++] = j;
    }
    return n;
}

/* Check one output row (query position i = q_pos0 + t, head hq, batch b) of a
 * prefill against naive_row over the given keys. */
static void check_prefill_row(const zz_heads *h, int q_len, int q_pos0, const bf16 *q,
                              const bf16 *k, const bf16 *v, const float *out, int b, int t,
                              int hq, const int *keys, int n, double bound) {
    const int D = h->head_dim, kv_len = q_pos0 + q_len;
    const int g = hq / (h->q_heads / h->kv_heads);
    const long q_tok = (long)h->q_heads * D, kv_tok = (long)h->kv_heads * D;
    double ref[512];
    naive_row(q + ((long)b * q_len + t) * q_tok + (long)hq * D,
              k + (long)b * kv_len * kv_tok + (long)g * D,
              v + (long)b * kv_len * kv_tok + (long)g * D, kv_tok, D, keys, n, ref);
    assert_below(row_error(out + ((long)b * q_len + t) * q_tok + (long)hq * D, ref, D), bound);
}

static const zz_mask FULL = {ZZ_MASK_FULL, 0, 0, 0};

static zz_mask streaming(int sink, int recent, int chunked) {
    return (zz_mask){ZZ_MASK_STREAMING, sink, recent, chunked};
}

/* -------------------------------------------------------------- bf16 ---- */

static void test_bf16_exact_values(void **state) {
    (void)state;
    assert_int_equal(bf16_from_float(0.0f), 0x0000);
    assert_int_equal(bf16_from_float(-0.0f), 0x8000);
    assert_int_equal(bf16_from_float(1.0f), 0x3f80);
    assert_int_equal(bf16_from_float(-2.0f), 0xc000);
    assert_int_equal(bf16_from_float(0.15625f), 0x3e20);
    assert_int_equal(bf16_from_float(1.0f + 0x1p-7f), 0x3f81); /* last mantissa bit */
    assert_int_equal(bf16_from_float(0x1p-133f), 0x0001);       /* smallest subnormal */
    assert_int_equal(bf16_from_float(0x1.fep127f), 0x7f7f);     /* largest finite */

    assert_true(bf16_to_float(0x3f80) == 1.0f);
    assert_true(bf16_to_float(0xc040) == -3.0f);
    assert_true(bf16_to_float(0x0001) == 0x1p-133f);
    assert_true(bf16_to_float(0x7f7f) == 0x1.fep127f);
    assert_true(bf16_to_float(0x8000) == 0.0f && signbit(bf16_to_float(0x8000)));
}

static void test_bf16_ties_to_even(void **state) {
    (void)state;
    /* Halfway cases: the dropped half is exactly 0x8000. */
    assert_int_equal(bf16_from_float(float_from_bits(0x3f808000)), 0x3f80); /* even: down */
    assert_int_equal(bf16_from_float(float_from_bits(0x3f818000)), 0x3f82); /* odd: up */
    assert_int_equal(bf16_from_float(float_from_bits(0xbf808000)), 0xbf80);
    assert_int_equal(bf16_from_float(float_from_bits(0xbf818000)), 0xbf82);
    assert_int_equal(bf16_from_float(float_from_bits(0x3fff8000)), 0x4000); /* carries into exponent */
    assert_int_equal(bf16_from_float(float_from_bits(0x00008000)), 0x0000); /* subnormal ties */
    assert_int_equal(bf16_from_float(float_from_bits(0x00018000)), 0x0002);
    /* One float ulp off the tie decides it. */
    assert_int_equal(bf16_from_float(float_from_bits(0x3f808001)), 0x3f81);
    assert_int_equal(bf16_from_float(float_from_bits(0x3f817fff)), 0x3f81);
    assert_int_equal(bf16_from_float(float_from_bits(0x3f807fff)), 0x3f80);
    /* The same cases as arithmetic: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7. */
    assert_int_equal(bf16_from_float(1.0f + 0x1p-8f), 0x3f80);
    assert_int_equal(bf16_from_float(1.0f + 3 * 0x1p-8f), 0x3f82);
}

static void test_bf16_nan_inf_overflow(void **state) {
    (void)state;
    assert_true(isnan(bf16_to_float(bf16_from_float(NAN))));
    /* A signalling NaN with payload only in the dropped bits must not become
     * infinity, and comes out quiet. */
    const bf16 s = bf16_from_float(float_from_bits(0x7f800001));
    assert_true(isnan(bf16_to_float(s)));
    assert_true(s & 0x0040);
    assert_int_equal(bf16_from_float(float_from_bits(0xffc00000)), 0xffc0); /* sign kept */

    assert_int_equal(bf16_from_float(INFINITY), 0x7f80);
    assert_int_equal(bf16_from_float(-INFINITY), 0xff80);
    assert_true(bf16_to_float(0x7f80) == INFINITY);
    assert_true(bf16_to_float(0xff80) == -INFINITY);

    /* Overflow: past the midpoint between the largest bf16 (0x7f7f, odd) and
     * the next step, RNE goes to infinity; below it, to the largest finite. */
    assert_int_equal(bf16_from_float(FLT_MAX), 0x7f80);
    assert_int_equal(bf16_from_float(-FLT_MAX), 0xff80);
    assert_int_equal(bf16_from_float(float_from_bits(0x7f7f8000)), 0x7f80);
    assert_int_equal(bf16_from_float(float_from_bits(0x7f7f7fff)), 0x7f7f);
}

static void test_bf16_roundtrip_every_pattern(void **state) {
    (void)state;
    for (uint32_t b = 0; b <= 0xffff; b++) {
        const float f = bf16_to_float((bf16)b);
        assert_int_equal(bits_of_float(f), b << 16); /* exact widening */
        if (isnan(f))
            assert_true(isnan(bf16_to_float(bf16_from_float(f))));
        else
            assert_int_equal(bf16_from_float(f), b);
    }
}

static void test_bf16_round_floats(void **state) {
    (void)state;
    float x[5] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, NAN, FLT_MAX, -0.15625f};
    bf16_round_floats(x, 5);
    assert_true(x[0] == 1.0f);
    assert_true(x[1] == 1.0f + 0x1p-6f);
    assert_true(isnan(x[2]));
    assert_true(x[3] == INFINITY);
    assert_true(x[4] == -0.15625f);
}

/* ------------------------------------------------------ hand-computed ---- */

/* D = 4, so scale = 1/2. Keys and values (one head, three tokens):
 *   k0 = (0,0,0,0)  k1 = (2,0,0,0)  k2 = (0,2,0,0)
 *   v0 = (1,0,0,2)  v1 = (0,1,0,2)  v2 = (0,0,1,2)
 * Values are one-hot in dims 0..2, so the output there IS the probability
 * vector; dim 3 is constant, so a convex combination gives exactly 2.
 *   q0 = (5,5,5,5): sees only k0           -> (1, 0, 0, 2)
 *   q1 = (1,0,0,0): logits (0, 1)          -> p = (1, e) / (1 + e)
 *                                             = (0.26894142, 0.73105858)
 *   q2 = (1,1,0,0): logits (0, 1, 1)       -> p = (1, e, e) / (1 + 2e)
 *                                             = (0.15536240, 0.42231880, 0.42231880)
 * Streaming, sink = 1, recent = 1: q2 sees k0 (sink) and k2 (itself),
 * logits (0, 1)                            -> (0.26894142, 0, 0.73105858, 2);
 * q1 sees k0 (sink) and k1 (itself): same as full. */
static void test_hand_computed_3_tokens(void **state) {
    (void)state;
    const float qf[12] = {5, 5, 5, 5, 1, 0, 0, 0, 1, 1, 0, 0};
    const float kf[12] = {0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0};
    const float vf[12] = {1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 1, 2};
    bf16 q[12], k[12], v[12];
    for (int i = 0; i < 12; i++) {
        q[i] = bf16_from_float(qf[i]);
        k[i] = bf16_from_float(kf[i]);
        v[i] = bf16_from_float(vf[i]);
    }
    const zz_heads h = {1, 1, 1, 4};
    const double full[12] = {1, 0, 0, 2,
                             0.26894142, 0.73105858, 0, 2,
                             0.15536240, 0.42231880, 0.42231880, 2};
    const double stream[12] = {1, 0, 0, 2,
                               0.26894142, 0.73105858, 0, 2,
                               0.26894142, 0, 0.73105858, 2};
    float out[12];

    ref_attention_prefill(&h, 3, 0, FULL, q, k, v, out);
    for (int i = 0; i < 12; i++) assert_near(out[i], full[i], 1e-6);

    ref_attention_prefill(&h, 3, 0, streaming(1, 1, 0), q, k, v, out);
    for (int i = 0; i < 12; i++) assert_near(out[i], stream[i], 1e-6);

    /* Decode of token 2 on a full cache: the last row of the full prefill. */
    ref_attention_decode_full(&h, 3, 2, q + 8, k, v, out);
    for (int i = 0; i < 4; i++) assert_near(out[i], full[8 + i], 1e-6);
}

/* ---------------------------------------------- prefill against naive ---- */

/* Every row of full and streaming prefill, GQA group 2, against the naive
 * oracle over the keys visible_keys() lists. Head dims include one that is
 * not a multiple of 8 (the reference's vector blocks). */
static void test_prefill_matches_naive(void **state) {
    (void)state;
    const int dims[3] = {20, 64, 128};
    const zz_mask masks[3] = {FULL, streaming(3, 6, 0), streaming(0, 4, 0)};
    rng r = {101};
    for (int di = 0; di < 3; di++) {
        const zz_heads h = {2, 4, 2, dims[di]};
        const int S = 33, D = h.head_dim;
        bf16 *q = random_bf16(&r, (long)h.batch * S * h.q_heads * D, 1.0f);
        bf16 *k = random_bf16(&r, (long)h.batch * S * h.kv_heads * D, 1.0f);
        bf16 *v = random_bf16(&r, (long)h.batch * S * h.kv_heads * D, 1.0f);
        float *out = new_floats((long)h.batch * S * h.q_heads * D);
        for (int mi = 0; mi < 3; mi++) {
            ref_attention_prefill(&h, S, 0, masks[mi], q, k, v, out);
            int keys[64];
            for (int b = 0; b < h.batch; b++)
                for (int t = 0; t < S; t++)
                    for (int hq = 0; hq < h.q_heads; hq++) {
                        const int n = visible_keys(masks[mi], 0, t, keys);
                        check_prefill_row(&h, S, 0, q, k, v, out, b, t, hq, keys, n, 1e-5);
                    }
        }
        free(q), free(k), free(v), free(out);
    }
}

/* --------------------------------------------------------- streaming ---- */

static void test_streaming_wide_window_equals_full(void **state) {
    (void)state;
    const zz_heads h = {1, 2, 1, 64};
    const int S = 40, D = h.head_dim;
    rng r = {202};
    bf16 *q = random_bf16(&r, (long)S * h.q_heads * D, 1.0f);
    bf16 *k = random_bf16(&r, (long)S * h.kv_heads * D, 1.0f);
    bf16 *v = random_bf16(&r, (long)S * h.kv_heads * D, 1.0f);
    const long n = (long)S * h.q_heads * D;
    float *full = new_floats(n), *out = new_floats(n);
    ref_attention_prefill(&h, S, 0, FULL, q, k, v, full);
    /* sink + recent >= S in several splits, token band and chunked (one chunk
     * at position 0 sees everything before it, i.e. nothing). */
    const zz_mask wide[5] = {streaming(4, 36, 0), streaming(0, 40, 0), streaming(40, 1, 0),
                             streaming(25, 25, 0), streaming(2, 3, 1)};
    for (int i = 0; i < 5; i++) {
        ref_attention_prefill(&h, S, 0, wide[i], q, k, v, out);
        assert_below(ref_relative_error(out, full, n), 1e-6);
    }
    free(q), free(k), free(v), free(full), free(out);
}

static void test_streaming_small_window_masks(void **state) {
    (void)state;
    const zz_heads h = {1, 2, 1, 64};
    const int S = 37, D = h.head_dim;
    rng r = {303};
    bf16 *q = random_bf16(&r, (long)S * h.q_heads * D, 2.0f);
    bf16 *k = random_bf16(&r, (long)S * h.kv_heads * D, 2.0f);
    bf16 *v = random_bf16(&r, (long)S * h.kv_heads * D, 1.0f);
    const long n = (long)S * h.q_heads * D;
    float *full = new_floats(n), *out = new_floats(n);
    ref_attention_prefill(&h, S, 0, FULL, q, k, v, full);

    /* sink 2, recent 5: lo(i) = i - 4. */
    ref_attention_prefill(&h, S, 0, streaming(2, 5, 0), q, k, v, out);
    assert_above(ref_relative_error(out, full, n), 1e-2);
    static const int keys20[] = {0, 1, 16, 17, 18, 19, 20};
    static const int keys5[] = {0, 1, 2, 3, 4, 5}; /* window still covers all */
    static const int keys7[] = {0, 1, 3, 4, 5, 6, 7}; /* first row that drops a key */
    static const int keys36[] = {0, 1, 32, 33, 34, 35, 36};
    for (int hq = 0; hq < 2; hq++) {
        check_prefill_row(&h, S, 0, q, k, v, out, 0, 20, hq, keys20, 7, 1e-5);
        check_prefill_row(&h, S, 0, q, k, v, out, 0, 5, hq, keys5, 6, 1e-5);
        check_prefill_row(&h, S, 0, q, k, v, out, 0, 7, hq, keys7, 7, 1e-5);
        check_prefill_row(&h, S, 0, q, k, v, out, 0, 36, hq, keys36, 7, 1e-5);
    }

    /* No sink at all: only the band. */
    ref_attention_prefill(&h, S, 0, streaming(0, 5, 0), q, k, v, out);
    static const int band20[] = {16, 17, 18, 19, 20};
    check_prefill_row(&h, S, 0, q, k, v, out, 0, 20, 1, band20, 5, 1e-5);
    free(q), free(k), free(v), free(full), free(out);
}

/* ------------------------------------------------------------ decode ---- */

static void test_cache_slot(void **state) {
    (void)state;
    assert_int_equal(ref_cache_slot(0, 0, 0), 0);
    assert_int_equal(ref_cache_slot(0, 0, 12345), 12345);
    /* sink 3, recent 5: slots 0..2 fixed, 3..7 a ring. */
    const int expected[14] = {0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 3};
    for (int pos = 0; pos < 14; pos++) assert_int_equal(ref_cache_slot(3, 5, pos), expected[pos]);
    assert_int_equal(ref_cache_slot(0, 4, 9), 1);
}

/* Decode on a full cache, built with ref_cache_update, equals the row of a
 * full prefill at the same position; slots beyond pos are NaN and must not
 * be read. */
static void test_decode_full_equals_prefill(void **state) {
    (void)state;
    const zz_heads h = {2, 4, 2, 64};
    const int S = 45, cap = 64, D = h.head_dim;
    const int qw = h.q_heads * D, kw = h.kv_heads * D;
    rng r = {404};
    bf16 *q = random_bf16(&r, (long)h.batch * S * qw, 1.0f);
    bf16 *k = random_bf16(&r, (long)h.batch * S * kw, 1.0f);
    bf16 *v = random_bf16(&r, (long)h.batch * S * kw, 1.0f);
    bf16 *kc = new_bf16((long)h.batch * cap * kw), *vc = new_bf16((long)h.batch * cap * kw);
    for (long i = 0; i < (long)h.batch * cap * kw; i++) kc[i] = vc[i] = 0x7fc0; /* NaN */
    float *pre = new_floats((long)h.batch * S * qw), *dec = new_floats((long)h.batch * qw);
    ref_attention_prefill(&h, S, 0, FULL, q, k, v, pre);

    for (int pos = 0; pos < S; pos++) {
        bf16 *nk = slice_tokens(k, h.batch, S, pos, 1, kw);
        bf16 *nv = slice_tokens(v, h.batch, S, pos, 1, kw);
        bf16 *qt = slice_tokens(q, h.batch, S, pos, 1, qw);
        ref_cache_update(&h, cap, 0, 0, pos, nk, nv, kc, vc);
        ref_attention_decode_full(&h, cap, pos, qt, kc, vc, dec);
        for (int b = 0; b < h.batch; b++)
            assert_below(ref_relative_error(dec + (long)b * qw,
                                            pre + ((long)b * S + pos) * qw, qw), 1e-6);
        free(nk), free(nv), free(qt);
    }
    free(q), free(k), free(v), free(kc), free(vc), free(pre), free(dec);
}

/* Decode on a streaming cache (sink 3 + ring of 5), built one token at a time:
 * at every position (ring filling, just full, wrapped several times) it
 * equals the last row of a token-band streaming prefill. */
static void test_decode_streaming_ring(void **state) {
    (void)state;
    const zz_heads h = {2, 4, 2, 64};
    const int S = 40, sink = 3, recent = 5, slots = sink + recent, D = h.head_dim;
    const int qw = h.q_heads * D, kw = h.kv_heads * D;
    rng r = {505};
    bf16 *q = random_bf16(&r, (long)h.batch * S * qw, 2.0f);
    bf16 *k = random_bf16(&r, (long)h.batch * S * kw, 2.0f);
    bf16 *v = random_bf16(&r, (long)h.batch * S * kw, 1.0f);
    bf16 *kc = new_bf16((long)h.batch * slots * kw), *vc = new_bf16((long)h.batch * slots * kw);
    for (long i = 0; i < (long)h.batch * slots * kw; i++) kc[i] = vc[i] = 0x7fc0; /* NaN */
    float *dec = new_floats((long)h.batch * qw);

    for (int pos = 0; pos < S; pos++) {
        bf16 *nk = slice_tokens(k, h.batch, S, pos, 1, kw);
        bf16 *nv = slice_tokens(v, h.batch, S, pos, 1, kw);
        bf16 *qt = slice_tokens(q, h.batch, S, pos, 1, qw);
        bf16 *kp = slice_tokens(k, h.batch, S, 0, pos + 1, kw);
        bf16 *vp = slice_tokens(v, h.batch, S, 0, pos + 1, kw);
        bf16 *qp = slice_tokens(q, h.batch, S, 0, pos + 1, qw);
        float *pre = new_floats((long)h.batch * (pos + 1) * qw);
        ref_cache_update(&h, slots, sink, recent, pos, nk, nv, kc, vc);
        ref_attention_decode_streaming(&h, sink, recent, pos, qt, kc, vc, dec);
        ref_attention_prefill(&h, pos + 1, 0, streaming(sink, recent, 0), qp, kp, vp, pre);
        for (int b = 0; b < h.batch; b++)
            assert_below(ref_relative_error(dec + (long)b * qw,
                                            pre + ((long)b * (pos + 1) + pos) * qw, qw), 1e-6);
        free(nk), free(nv), free(qt), free(kp), free(vp), free(qp), free(pre);
    }
    /* The update really went where ref_cache_slot says: position 39 -> slot 4. */
    assert_memory_equal(kc + 4 * kw, k + 39L * kw, (size_t)kw * sizeof(bf16));
    assert_memory_equal(vc + ((long)slots + 4) * kw, v + ((long)S + 39) * kw,
                        (size_t)kw * sizeof(bf16));
    free(q), free(k), free(v), free(kc), free(vc), free(dec);
}

/* ----------------------------------------------------------- chunked ---- */

/* Full heads: prefill in chunks of 16 (the last one short) equals the
 * single-shot prefill, whatever the chunked flag. */
static void test_chunked_full_equals_single_shot(void **state) {
    (void)state;
    const zz_heads h = {2, 4, 2, 64};
    const int S = 50, C = 16, D = h.head_dim;
    const int qw = h.q_heads * D, kw = h.kv_heads * D;
    rng r = {606};
    bf16 *q = random_bf16(&r, (long)h.batch * S * qw, 1.0f);
    bf16 *k = random_bf16(&r, (long)h.batch * S * kw, 1.0f);
    bf16 *v = random_bf16(&r, (long)h.batch * S * kw, 1.0f);
    const long n = (long)h.batch * S * qw;
    float *single = new_floats(n), *chunked = new_floats(n);
    ref_attention_prefill(&h, S, 0, FULL, q, k, v, single);
    for (int flag = 0; flag < 2; flag++) {
        const zz_mask m = {ZZ_MASK_FULL, 0, 0, flag};
        for (long i = 0; i < n; i++) chunked[i] = NAN;
        for (int p0 = 0; p0 < S; p0 += C) {
            const int len = S - p0 < C ? S - p0 : C;
            bf16 *qc = slice_tokens(q, h.batch, S, p0, len, qw);
            bf16 *kc = slice_tokens(k, h.batch, S, 0, p0 + len, kw);
            bf16 *vc = slice_tokens(v, h.batch, S, 0, p0 + len, kw);
            float *oc = new_floats((long)h.batch * len * qw);
            ref_attention_prefill(&h, len, p0, m, qc, kc, vc, oc);
            for (int b = 0; b < h.batch; b++)
                memcpy(chunked + ((long)b * S + p0) * qw, oc + (long)b * len * qw,
                       (size_t)len * qw * sizeof *oc);
            free(qc), free(kc), free(vc), free(oc);
        }
        assert_below(ref_relative_error(chunked, single, n), 1e-6);
    }
    free(q), free(k), free(v), free(single), free(chunked);
}

/* Streaming heads, DuoAttention chunk semantics (sink 2, recent 4, chunks of
 * 8 over S = 30): a chunk starting at P sees the sinks, the 4 tokens before
 * P, and itself causally. Rows checked against explicitly listed keys. */
static void test_chunked_streaming_explicit(void **state) {
    (void)state;
    const zz_heads h = {1, 2, 1, 64};
    const int S = 30, D = h.head_dim, qw = h.q_heads * D, kw = h.kv_heads * D;
    const zz_mask m = streaming(2, 4, 1);
    rng r = {707};
    bf16 *q = random_bf16(&r, (long)S * qw, 2.0f);
    bf16 *k = random_bf16(&r, (long)S * kw, 2.0f);
    bf16 *v = random_bf16(&r, (long)S * kw, 1.0f);
    float *out = new_floats((long)S * qw), *band = new_floats((long)S * qw);

    /* Chunk at P = 16 (positions 16..23): lo = 12. Keys index k directly, as
     * the chunk's K/V are the first P + len tokens of the whole tensors. */
    ref_attention_prefill(&h, 8, 16, m, q + 16L * qw, k, v, out);
    static const int keys16[] = {0, 1, 12, 13, 14, 15, 16};
    static const int keys19[] = {0, 1, 12, 13, 14, 15, 16, 17, 18, 19};
    static const int keys23[] = {0, 1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
    for (int hq = 0; hq < 2; hq++) {
        check_prefill_row(&h, 8, 16, q + 16L * qw, k, v, out, 0, 0, hq, keys16, 7, 1e-5);
        check_prefill_row(&h, 8, 16, q + 16L * qw, k, v, out, 0, 3, hq, keys19, 10, 1e-5);
        check_prefill_row(&h, 8, 16, q + 16L * qw, k, v, out, 0, 7, hq, keys23, 14, 1e-5);
    }
    /* The token band would give position 23 only {0, 1, 20, 21, 22, 23}:
     * the chunk semantics must make a difference there. */
    ref_attention_prefill(&h, 24, 0, streaming(2, 4, 0), q, k, v, band);
    assert_above(ref_relative_error(out + 7L * qw, band + 23L * qw, qw), 1e-2);

    /* Chunk at P = 8: lo = 4, so key 2 and 3 are gone already at position 8. */
    ref_attention_prefill(&h, 8, 8, m, q + 8L * qw, k, v, out);
    static const int keys8[] = {0, 1, 4, 5, 6, 7, 8};
    check_prefill_row(&h, 8, 8, q + 8L * qw, k, v, out, 0, 0, 1, keys8, 7, 1e-5);

    /* Last, short chunk at P = 24 (positions 24..29): lo = 20. */
    ref_attention_prefill(&h, 6, 24, m, q + 24L * qw, k, v, out);
    static const int keys29[] = {0, 1, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
    check_prefill_row(&h, 6, 24, q + 24L * qw, k, v, out, 0, 5, 0, keys29, 12, 1e-5);

    /* First chunk (P = 0) has no past: plain causal attention. */
    ref_attention_prefill(&h, 8, 0, m, q, k, v, out);
    ref_attention_prefill(&h, 8, 0, FULL, q, k, v, band);
    assert_below(ref_relative_error(out, band, 8L * qw), 1e-6);
    free(q), free(k), free(v), free(out), free(band);
}

/* ---------------------------------------------------------------- GQA ---- */

/* q_heads == kv_heads: each head is computed on its own, exactly as a
 * one-head call on that head's slices. */
static void test_mha_equals_per_head_runs(void **state) {
    (void)state;
    const zz_heads h = {1, 4, 4, 64}, one = {1, 1, 1, 64};
    const int S = 29, D = h.head_dim;
    rng r = {808};
    bf16 *q = random_bf16(&r, (long)S * 4 * D, 2.0f);
    bf16 *k = random_bf16(&r, (long)S * 4 * D, 2.0f);
    bf16 *v = random_bf16(&r, (long)S * 4 * D, 1.0f);
    float *out = new_floats((long)S * 4 * D), *o1 = new_floats((long)S * D);
    ref_attention_prefill(&h, S, 0, streaming(2, 7, 0), q, k, v, out);
    for (int hd = 0; hd < 4; hd++) {
        bf16 *qh = slice_head(q, S, 4, hd, D), *kh = slice_head(k, S, 4, hd, D),
             *vh = slice_head(v, S, 4, hd, D);
        ref_attention_prefill(&one, S, 0, streaming(2, 7, 0), qh, kh, vh, o1);
        for (int t = 0; t < S; t++)
            assert_below(ref_relative_error(out + ((long)t * 4 + hd) * D, o1 + (long)t * D, D),
                         1e-6);
        free(qh), free(kh), free(vh);
    }
    free(q), free(k), free(v), free(out), free(o1);
}

/* Group 4 (8 query heads on 2 KV heads) equals MHA with each KV head
 * repeated for its 4 query heads: prefill (full, streaming) and decode. */
static void test_gqa_group4_equals_expanded_mha(void **state) {
    (void)state;
    const zz_heads gqa = {2, 8, 2, 128}, mha = {2, 8, 8, 128};
    const int S = 21, D = 128, B = 2;
    rng r = {909};
    bf16 *q = random_bf16(&r, (long)B * S * 8 * D, 1.0f);
    bf16 *k = random_bf16(&r, (long)B * S * 2 * D, 1.0f);
    bf16 *v = random_bf16(&r, (long)B * S * 2 * D, 1.0f);
    bf16 *ke = new_bf16((long)B * S * 8 * D), *ve = new_bf16((long)B * S * 8 * D);
    for (long t = 0; t < (long)B * S; t++)
        for (int hq = 0; hq < 8; hq++) {
            memcpy(ke + (t * 8 + hq) * D, k + (t * 2 + hq / 4) * D, D * sizeof(bf16));
            memcpy(ve + (t * 8 + hq) * D, v + (t * 2 + hq / 4) * D, D * sizeof(bf16));
        }
    const long n = (long)B * S * 8 * D;
    float *a = new_floats(n), *e = new_floats(n);
    const zz_mask masks[2] = {FULL, streaming(1, 6, 0)};
    for (int mi = 0; mi < 2; mi++) {
        ref_attention_prefill(&gqa, S, 0, masks[mi], q, k, v, a);
        ref_attention_prefill(&mha, S, 0, masks[mi], q, ke, ve, e);
        assert_below(ref_relative_error(a, e, n), 1e-6);
    }
    /* Decode: the prefix tensors serve as a full cache of capacity S. */
    ref_attention_decode_full(&gqa, S, 13, q, k, v, a);
    ref_attention_decode_full(&mha, S, 13, q, ke, ve, e);
    assert_below(ref_relative_error(a, e, (long)B * 8 * D), 1e-6);
    free(q), free(k), free(v), free(ke), free(ve), free(a), free(e);
}

/* A mixed layer (KV head 0 full, 1 streaming, 2 chunked streaming; group 2)
 * equals, head by head, the plain prefill with that head's mask. */
static void test_mixed_layer_equals_per_mask_runs(void **state) {
    (void)state;
    const zz_heads h = {2, 6, 3, 64};
    const int S = 26, P = 10, len = S - P, D = 64, qw = 6 * D, kw = 3 * D;
    const zz_mask masks[3] = {FULL, streaming(2, 5, 0), streaming(1, 3, 1)};
    rng r = {1515};
    bf16 *q = random_bf16(&r, 2L * len * qw, 2.0f);
    bf16 *k = random_bf16(&r, 2L * S * kw, 2.0f);
    bf16 *v = random_bf16(&r, 2L * S * kw, 1.0f);
    float *mixed = new_floats(2L * len * qw), *plain = new_floats(2L * len * qw);
    ref_attention_prefill_mixed(&h, len, P, masks, q, k, v, mixed);
    for (int g = 0; g < 3; g++) {
        ref_attention_prefill(&h, len, P, masks[g], q, k, v, plain);
        for (long t = 0; t < 2L * len; t++)
            for (int hq = 2 * g; hq < 2 * g + 2; hq++)
                assert_below(ref_relative_error(mixed + t * qw + hq * D,
                                                plain + t * qw + hq * D, D), 1e-7);
    }
    /* The masks really differ on these inputs: the streaming heads' rows are
     * not what full attention gives (else the loop above proves little). */
    ref_attention_prefill(&h, len, P, FULL, q, k, v, plain);
    for (int hq = 2; hq < 6; hq++)
        assert_above(ref_relative_error(mixed + (len - 1L) * qw + hq * D,
                                        plain + (len - 1L) * qw + hq * D, D), 1e-2);
    free(q), free(k), free(v), free(mixed), free(plain);
}

/* ---------------------------------------------------------- numerics ---- */

/* q, k ~ 300 give logits of order 1e4..1e5: exp() of them overflows unless
 * the max is subtracted. The gaps between logits are then so large that the
 * softmax is one-hot: the output must be V of the highest-scoring key
 * (found in double), finite, and unchanged when q is doubled. */
static void test_large_logits(void **state) {
    (void)state;
    const zz_heads h = {1, 2, 1, 64};
    const int S = 16, D = 64, qw = 2 * D;
    rng r = {1010};
    bf16 *q = random_bf16(&r, (long)S * qw, 300.0f);
    bf16 *k = random_bf16(&r, (long)S * D, 300.0f);
    bf16 *v = random_bf16(&r, (long)S * D, 1.0f);
    bf16 *q2 = new_bf16((long)S * qw);
    for (long i = 0; i < (long)S * qw; i++) /* exact: a power-of-two scale */
        q2[i] = bf16_from_float(2.0f * bf16_to_float(q[i]));
    float *out = new_floats((long)S * qw), *out2 = new_floats((long)S * qw);
    ref_attention_prefill(&h, S, 0, FULL, q, k, v, out);
    ref_attention_prefill(&h, S, 0, FULL, q2, k, v, out2);

    int checked = 0;
    double largest = 0.0;
    for (int t = 0; t < S; t++)
        for (int hq = 0; hq < 2; hq++) {
            double best = -INFINITY, second = -INFINITY;
            int arg = -1;
            for (int j = 0; j <= t; j++) {
                double s = 0.0;
                for (int d = 0; d < D; d++)
                    s += (double)bf16_to_float(q[(long)t * qw + hq * D + d]) *
                         bf16_to_float(k[(long)j * D + d]);
                s /= 8.0;
                if (s > best) second = best, best = s, arg = j;
                else if (s > second) second = s;
                largest = fmax(largest, fabs(s));
            }
            const float *o = out + (long)t * qw + hq * D, *o2 = out2 + (long)t * qw + hq * D;
            for (int d = 0; d < D; d++) assert_true(isfinite(o[d]));
            if (best - second < 200.0) continue; /* not one-hot enough to predict */
            for (int d = 0; d < D; d++) {
                assert_near(o[d], bf16_to_float(v[(long)arg * D + d]), 1e-6);
                assert_near(o2[d], o[d], 1e-6);
            }
            checked++;
        }
    assert_true(checked >= 24); /* most of the 32 rows */
    assert_true(largest > 3e4); /* the logits really were large */
    free(q), free(k), free(v), free(q2), free(out), free(out2);
}

/* Softmax is invariant to adding a constant to all logits of a row. A last
 * dimension with k = 1 everywhere and q = 8000 (exact in bf16) adds
 * 8000 / sqrt(64) = 1000 to every logit: exp(1000) overflows float, so this
 * passes only with the max subtracted. The shifted logits carry float
 * rounding of ~1e-4 absolute, hence the bound. */
static void test_logit_shift_invariance(void **state) {
    (void)state;
    const zz_heads h = {1, 1, 1, 64};
    const int S = 24, D = 64;
    rng r = {1111};
    bf16 *q = random_bf16(&r, (long)S * D, 2.0f);
    bf16 *k = random_bf16(&r, (long)S * D, 2.0f);
    bf16 *v = random_bf16(&r, (long)S * D, 1.0f);
    bf16 *qs = new_bf16((long)S * D);
    memcpy(qs, q, (size_t)S * D * sizeof *q);
    for (int t = 0; t < S; t++) {
        k[t * D + D - 1] = bf16_from_float(1.0f);
        q[t * D + D - 1] = bf16_from_float(0.0f);
        qs[t * D + D - 1] = bf16_from_float(8000.0f);
    }
    assert_true(bf16_to_float(bf16_from_float(8000.0f)) == 8000.0f);
    float *out = new_floats((long)S * D), *shifted = new_floats((long)S * D);
    ref_attention_prefill(&h, S, 0, streaming(2, 9, 0), q, k, v, out);
    ref_attention_prefill(&h, S, 0, streaming(2, 9, 0), qs, k, v, shifted);
    assert_below(ref_relative_error(shifted, out, (long)S * D), 1e-3);
    free(q), free(k), free(v), free(qs), free(out), free(shifted);
}

/* Softmax weights are positive and sum to 1: every output element lies
 * between the smallest and the largest value of the visible V rows in that
 * dimension (up to float rounding), for moderate and for one-hot logits. */
static void test_outputs_are_convex_combinations(void **state) {
    (void)state;
    const zz_heads h = {2, 4, 2, 64};
    const int S = 31, D = 64, qw = 4 * D, kw = 2 * D;
    const float amps[2] = {2.0f, 60.0f};
    const zz_mask masks[2] = {FULL, streaming(2, 5, 0)};
    rng r = {1212};
    for (int ai = 0; ai < 2; ai++)
        for (int mi = 0; mi < 2; mi++) {
            bf16 *q = random_bf16(&r, 2L * S * qw, amps[ai]);
            bf16 *k = random_bf16(&r, 2L * S * kw, amps[ai]);
            bf16 *v = random_bf16(&r, 2L * S * kw, 3.0f);
            float *out = new_floats(2L * S * qw);
            ref_attention_prefill(&h, S, 0, masks[mi], q, k, v, out);
            int keys[64];
            for (int b = 0; b < 2; b++)
                for (int t = 0; t < S; t++) {
                    const int n = visible_keys(masks[mi], 0, t, keys);
                    for (int hq = 0; hq < 4; hq++)
                        for (int d = 0; d < D; d++) {
                            float lo = INFINITY, hi = -INFINITY;
                            for (int i = 0; i < n; i++) {
                                const float x =
                                    bf16_to_float(v[((long)b * S + keys[i]) * kw + hq / 2 * D + d]);
                                lo = fminf(lo, x), hi = fmaxf(hi, x);
                            }
                            const float o = out[((long)b * S + t) * qw + hq * D + d];
                            assert_true(o >= lo - 1e-6f && o <= hi + 1e-6f);
                        }
                }
            free(q), free(k), free(v), free(out);
        }
}

/* ------------------------------------------------------------- batch ---- */

/* Batch 3 equals three batch-1 runs (prefill and decode), head dims 64, 128. */
static void test_batch_equals_separate_runs(void **state) {
    (void)state;
    const int dims[2] = {64, 128};
    rng r = {1313};
    for (int di = 0; di < 2; di++) {
        const int D = dims[di], S = 19, B = 3;
        const zz_heads h3 = {B, 4, 2, D}, h1 = {1, 4, 2, D};
        const long qn = (long)S * 4 * D, kn = (long)S * 2 * D;
        bf16 *q = random_bf16(&r, B * qn, 1.0f);
        bf16 *k = random_bf16(&r, B * kn, 1.0f);
        bf16 *v = random_bf16(&r, B * kn, 1.0f);
        float *o3 = new_floats(B * qn), *o1 = new_floats(qn);
        const zz_mask m = streaming(1, 4, 0);
        ref_attention_prefill(&h3, S, 0, m, q, k, v, o3);
        for (int b = 0; b < B; b++) {
            ref_attention_prefill(&h1, S, 0, m, q + b * qn, k + b * kn, v + b * kn, o1);
            assert_below(ref_relative_error(o1, o3 + b * qn, qn), 1e-6);
        }
        /* Decode at pos 11 on caches of capacity S (the prefill tensors), with
         * the query taken from token 0 of each sequence's slice. */
        bf16 *qd = new_bf16((long)B * 4 * D);
        for (int b = 0; b < B; b++) memcpy(qd + (long)b * 4 * D, q + b * qn, 4 * D * sizeof(bf16));
        ref_attention_decode_full(&h3, S, 11, qd, k, v, o3);
        for (int b = 0; b < B; b++) {
            ref_attention_decode_full(&h1, S, 11, qd + (long)b * 4 * D, k + b * kn, v + b * kn, o1);
            assert_below(ref_relative_error(o1, o3 + (long)b * 4 * D, 4L * D), 1e-6);
        }
        free(q), free(k), free(v), free(o3), free(o1), free(qd);
    }
}

/* ----------------------------------------------------------- threads ---- */

/* A call big enough to be spread over threads gives the same bits with 1, 2
 * and 3 threads, and matches the naive oracle. */
static void test_threads_bit_identical(void **state) {
    (void)state;
    const zz_heads h = {1, 4, 2, 64};
    const int S = 256, D = 64;
    const long qn = (long)S * 4 * D, kn = (long)S * 2 * D;
    rng r = {1414};
    bf16 *q = random_bf16(&r, qn, 1.0f), *k = random_bf16(&r, kn, 1.0f),
         *v = random_bf16(&r, kn, 1.0f);
    float *o[3] = {new_floats(qn), new_floats(qn), new_floats(qn)};
    for (int t = 0; t < 3; t++) {
        ref_set_threads(t + 1);
        ref_attention_prefill(&h, S, 0, FULL, q, k, v, o[t]);
    }
    ref_set_threads(0);
    assert_memory_equal(o[0], o[1], qn * sizeof(float));
    assert_memory_equal(o[0], o[2], qn * sizeof(float));
    int keys[256];
    for (int t = 0; t < S; t += 17)
        for (int hq = 0; hq < 4; hq++) {
            const int n = visible_keys(FULL, 0, t, keys);
            check_prefill_row(&h, S, 0, q, k, v, o[2], 0, t, hq, keys, n, 1e-5);
        }
    free(q), free(k), free(v), free(o[0]), free(o[1]), free(o[2]);
}

/* ------------------------------------------- multi-token cache writes ---- */

/* A write of several tokens equals the same tokens written one by one, for a
 * full cache and for rings that wrap inside the write; untouched slots keep
 * their contents. */
static void test_cache_write_equals_token_updates(void **state) {
    (void)state;
    const zz_heads h = {2, 3, 3, 8};
    const struct { int sink, recent, slots, pos0, tokens; } cases[] = {
        {0, 0, 40, 5, 30}, {3, 5, 8, 0, 21}, {3, 5, 8, 11, 2}, {0, 4, 4, 9, 7}};
    rng r = {1313};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int T = cases[c].tokens, slots = cases[c].slots, tok = 3 * 8;
        const long n = 2L * slots * tok;
        bf16 *nk = random_bf16(&r, 2L * T * tok, 1.0f), *nv = random_bf16(&r, 2L * T * tok, 1.0f);
        bf16 *k = random_bf16(&r, n, 1.0f), *v = random_bf16(&r, n, 1.0f), *k1 = new_bf16(n), *v1 = new_bf16(n);
        memcpy(k1, k, (size_t)n * sizeof *k), memcpy(v1, v, (size_t)n * sizeof *v);
        ref_cache_write(&h, slots, cases[c].sink, cases[c].recent, cases[c].pos0, T, nk, nv, k, v);
        bf16 *tk = new_bf16(2L * tok), *tv = new_bf16(2L * tok);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < 2; b++) {
                memcpy(tk + b * tok, nk + ((long)b * T + t) * tok, tok * sizeof *tk);
                memcpy(tv + b * tok, nv + ((long)b * T + t) * tok, tok * sizeof *tv);
            }
            ref_cache_update(&h, slots, cases[c].sink, cases[c].recent, cases[c].pos0 + t, tk, tv, k1, v1);
        }
        assert_memory_equal(k, k1, (size_t)n * sizeof *k);
        assert_memory_equal(v, v1, (size_t)n * sizeof *v);
        free(nk), free(nv), free(k), free(v), free(k1), free(v1), free(tk), free(tv);
    }
    /* By hand: ring of sink 3 + recent 5; positions 11, 12 go to slots
     * 3 + 8 % 5 = 6 and 7, nothing else moves. */
    const zz_heads one = {1, 1, 1, 1};
    bf16 k[8] = {0}, v[8] = {0}, nk[2] = {0x3f80, 0x4000}, nv[2] = {0x4040, 0x4080};
    ref_cache_write(&one, 8, 3, 5, 11, 2, nk, nv, k, v);
    const bf16 want_k[8] = {0, 0, 0, 0, 0, 0, 0x3f80, 0x4000}, want_v[8] = {0, 0, 0, 0, 0, 0, 0x4040, 0x4080};
    assert_memory_equal(k, want_k, sizeof k);
    assert_memory_equal(v, want_v, sizeof v);
}

/* ------------------------------------------- peaky inputs catch bugs ---- */

/* What the GPU kernels compute for one output row, modelled: the scores q.k
 * (here in double) times the softmax scale, the softmax weights rounded to
 * bf16 before they multiply V (the P.V tensor-core product takes them so)
 * while their sum keeps full precision, the output rounded to bf16. With
 * splits > 1 the keys are cut as decode cuts them (whole 64-key tiles per
 * split), each split is normalised on its own and the splits are combined by
 * their softmax mass, or, with `average` (a bug), averaged. dots: q.k of
 * the keys, in the order the kernel visits them; vf: V rows as floats. */
static void model_row(const double *dots, const float *vf, int D, const int *keys, int n, double scale,
                      int splits, int average, double *out) {
    const int per = splits > 1 ? ((n + splits - 1) / splits + 63) / 64 * 64 : n;
    double o[256], mass_max = -INFINITY, weight_sum = 0.0;
    assert_true(D <= 256);
    for (int d = 0; d < D; d++) out[d] = 0.0;
    /* Two passes over the splits: their log-mass first, then the sum. */
    for (int pass = 0; pass < 2; pass++)
        for (int first = 0; first < n; first += per) {
            const int end = first + per < n ? first + per : n;
            double max = -INFINITY, sum = 0.0;
            for (int i = first; i < end; i++) max = fmax(max, dots[i] * scale);
            for (int d = 0; d < D; d++) o[d] = 0.0;
            for (int i = first; i < end; i++) {
                const double p = exp(dots[i] * scale - max);
                const double p16 = bf16_to_float(bf16_from_float((float)p));
                sum += p;
                for (int d = 0; d < D; d++) o[d] += p16 * vf[(long)keys[i] * D + d];
            }
            const double log_mass = max + log(sum);
            if (pass == 0) {
                mass_max = fmax(mass_max, log_mass);
                continue;
            }
            const double w = average ? 1.0 : exp(log_mass - mass_max);
            weight_sum += w;
            for (int d = 0; d < D; d++) out[d] += w * o[d] / sum;
        }
    for (int d = 0; d < D; d++) out[d] = bf16_to_float(bf16_from_float((float)(out[d] / weight_sum)));
}

/* One head's K or V (kv head g of batch b, `rows` rows) as floats. */
static float *head_floats(const bf16 *x, int b, int rows, int kv_heads, int g, int D) {
    float *f = malloc((size_t)rows * D * sizeof *f);
    assert_non_null(f);
    for (long j = 0; j < rows; j++)
        for (int d = 0; d < D; d++) f[j * D + d] = bf16_to_float(x[(((long)b * rows + j) * kv_heads + g) * D + d]);
    return f;
}

typedef struct {
    double err2, ref2;
} error_sum;

static double relative(error_sum e) { return sqrt(e.err2 / e.ref2); }

/* The bugs of tests/mutations/ as the model sees them: which keys a row
 * visits, and how. */
enum { RIGHT, SCALE_2PCT, NEWEST_DROPPED, BAND_TOO_LONG, WINDOW_TOO_SHORT, COMBINE_AVERAGED, N_BUGS };
static const char *const bug_names[N_BUGS] = {"right", "scale x1.02", "newest dropped", "band too long",
                                              "window too short", "combine averaged"};

/* One output row of the right kernel and of each bug that applies (n[bug] >
 * 0: it visits keys[bug][0 .. n[bug])), added to err[] against the
 * reference's row. A bug's keys are the right ones, a prefix of them, or
 * their own list. kf, vf: the row's KV head as floats. */
static void add_bug_row(const bf16 *q, const float *kf, const float *vf, int D, const float *ref, int splits,
                        int *const keys[N_BUGS], const int n[N_BUGS], error_sum err[N_BUGS]) {
    static double dots[2][65536], out[256];
    assert_true(n[RIGHT] <= 65536);
    float qf[256];
    for (int d = 0; d < D; d++) qf[d] = bf16_to_float(q[d]);
    for (int bug = 0; bug < N_BUGS; bug++) {
        if (n[bug] == 0) continue;
        const int own = keys[bug] != keys[RIGHT]; /* else the right keys' dots, or a prefix of them */
        assert_true(n[bug] <= 65536);
        if (bug == RIGHT || own)
            for (int i = 0; i < n[bug]; i++) {
                double dot = 0.0;
                for (int d = 0; d < D; d++) dot += (double)qf[d] * kf[(long)keys[bug][i] * D + d];
                dots[own][i] = dot;
            }
        const double scale = (bug == SCALE_2PCT ? 1.02 : 1.0) / sqrt((double)D);
        model_row(dots[own], vf, D, keys[bug], n[bug], scale, splits, bug == COMBINE_AVERAGED, out);
        for (int d = 0; d < D; d++) {
            err[bug].err2 += (out[d] - ref[d]) * (out[d] - ref[d]);
            err[bug].ref2 += (double)ref[d] * ref[d];
        }
    }
}

static void print_bug_errors(const char *what, const error_sum err[N_BUGS]) {
    char line[512];
    int at = snprintf(line, sizeof line, "  %-44s", what);
    for (int bug = 0; bug < N_BUGS; bug++)
        if (err[bug].ref2 > 0 && at < (int)sizeof line)
            at += snprintf(line + at, sizeof line - (size_t)at, " %s %.1e,", bug_names[bug], relative(err[bug]));
    print_message("%s\n", line);
}

/* Single-shot prefill of seq tokens on peaky inputs: the modelled kernel
 * and its bugs against the reference. */
static void prefill_bug_errors(const zz_heads *h, int seq, zz_mask mask, rng *r, error_sum err[N_BUGS]) {
    const int D = h->head_dim, G = h->q_heads / h->kv_heads;
    const long q_tok = (long)h->q_heads * D, nkv = (long)h->batch * seq * h->kv_heads * D;
    bf16 *q = new_bf16((long)h->batch * seq * q_tok), *k = random_bf16(r, nkv, 1.0f), *v = random_bf16(r, nkv, 1.0f);
    float *ref = new_floats((long)h->batch * seq * q_tok);
    ref_peaky_prefill_queries(h, seq, mask, k, q, &r->s);
    ref_attention_prefill(h, seq, 0, mask, q, k, v, ref);
    int *right = malloc((size_t)seq * sizeof *right), *longer = malloc((size_t)(seq + 1) * sizeof *longer);
    assert_true(right && longer);
    const zz_mask one_more = streaming(mask.sink, mask.recent + 1, 0);
    for (int i = 0; i < N_BUGS; i++) err[i] = (error_sum){0, 0};
    for (int b = 0; b < h->batch; b++)
        for (int g = 0; g < h->kv_heads; g++) {
            float *kf = head_floats(k, b, seq, h->kv_heads, g, D), *vf = head_floats(v, b, seq, h->kv_heads, g, D);
            for (int i = 0; i < seq; i++) {
                int *const keys[N_BUGS] = {right, right, right, longer, right, right};
                int n[N_BUGS] = {visible_keys(mask, 0, i, right), 0};
                n[SCALE_2PCT] = n[RIGHT];
                if (mask.kind == ZZ_MASK_STREAMING) n[BAND_TOO_LONG] = visible_keys(one_more, 0, i, longer);
                for (int hq = g * G; hq < (g + 1) * G; hq++) {
                    const long row = ((long)b * seq + i) * q_tok + (long)hq * D;
                    add_bug_row(q + row, kf, vf, D, ref + row, 0, keys, n, err);
                }
            }
            free(kf), free(vf);
        }
    free(q), free(k), free(v), free(ref), free(right), free(longer);
}

/* Decode at pos on peaky inputs, cache of `slots` slots, `splits` splits
 * requested: the modelled kernel and its bugs against the reference. */
static void decode_bug_errors(const zz_heads *h, int slots, int pos, zz_mask mask, int splits, rng *r,
                              error_sum err[N_BUGS]) {
    const int D = h->head_dim, G = h->q_heads / h->kv_heads, full = mask.kind == ZZ_MASK_FULL;
    const int valid = full || pos + 1 < slots ? pos + 1 : slots;
    const long nq = (long)h->batch * h->q_heads * D, nkv = (long)h->batch * slots * h->kv_heads * D;
    bf16 *q = new_bf16(nq), *k = random_bf16(r, nkv, 1.0f), *v = random_bf16(r, nkv, 1.0f);
    float *ref = new_floats(nq);
    ref_peaky_decode_queries(h, slots, pos, mask, k, q, &r->s);
    if (full)
        ref_attention_decode_full(h, slots, pos, q, k, v, ref);
    else
        ref_attention_decode_streaming(h, mask.sink, mask.recent, pos, q, k, v, ref);
    int *slot = malloc((size_t)slots * sizeof *slot);
    assert_non_null(slot);
    for (int i = 0; i < slots; i++) slot[i] = i;
    int *const keys[N_BUGS] = {slot, slot, slot, slot, slot, slot};
    /* The decode kernel visits slots 0 .. kv_len-1: the newest-key bug takes
     * kv_len = pos (before a ring is full), the short window caps it one
     * slot below sink + recent. */
    int n[N_BUGS] = {valid, valid, pos < valid ? pos : valid, 0, 0, 0};
    if (!full) n[WINDOW_TOO_SHORT] = valid < slots ? valid : slots - 1;
    if (splits > 1) n[COMBINE_AVERAGED] = valid;
    for (int i = 0; i < N_BUGS; i++) err[i] = (error_sum){0, 0};
    for (int b = 0; b < h->batch; b++)
        for (int g = 0; g < h->kv_heads; g++) {
            float *kf = head_floats(k, b, slots, h->kv_heads, g, D), *vf = head_floats(v, b, slots, h->kv_heads, g, D);
            for (int hq = g * G; hq < (g + 1) * G; hq++) {
                const long row = ((long)b * h->q_heads + hq) * D;
                add_bug_row(q + row, kf, vf, D, ref + row, splits, keys, n, err);
            }
            free(kf), free(vf);
        }
    free(q), free(k), free(v), free(ref), free(slot);
}

/* The GPU tests' peaky cases (tests/gpu/test_kernels.c, *_peaky) with the
 * kernels modelled: the right kernel stays under a third of the bound
 * REF_ERROR_BOUND, and each bug of tests/mutations/ exceeds twice the bound
 * in at least one case of the GPU test that must catch it (in every case
 * where the bug changes which keys are visited), so that the GPU kernel's own
 * rounding cannot hide it. Smaller than the GPU tests where the CPU side
 * would be slow (one sequence, one head size). */
static void test_peaky_separates_bugs(void **state) {
    (void)state;
    const double right_below = REF_ERROR_BOUND / 3, bug_above = 2 * REF_ERROR_BOUND;
    rng r = {1414};
    error_sum err[N_BUGS];
    char what[96];
    double prefill_scale = 0.0;
    const zz_mask prefill_masks[] = {FULL, streaming(5, 40, 0), streaming(64, 300, 0)};
    for (int m = 0; m < 3; m++) {
        const zz_heads h = {1, 8, 2, 128};
        prefill_bug_errors(&h, 1000, prefill_masks[m], &r, err);
        snprintf(what, sizeof what, "prefill S1000 sink %d recent %d:", prefill_masks[m].sink, prefill_masks[m].recent);
        print_bug_errors(what, err);
        assert_below(relative(err[RIGHT]), right_below);
        prefill_scale = fmax(prefill_scale, relative(err[SCALE_2PCT]));
        if (m > 0) assert_above(relative(err[BAND_TOO_LONG]), bug_above);
    }
    assert_above(prefill_scale, bug_above);

    double decode_scale = 0.0;
    static const struct { int sink, recent, pos, splits; } decodes[] = {
        {0, 0, 127, 1},   {0, 0, 999, 7},    {0, 0, 40000, 7},    {0, 0, 40000, 1},
        {4, 60, 30, 1},   {4, 60, 64, 1},    {4, 60, 1000, 1},    {128, 256, 200, 3},
        {128, 256, 384, 3}, {128, 256, 4096, 3}};
    for (size_t c = 0; c < sizeof decodes / sizeof decodes[0]; c++) {
        const int full = decodes[c].recent == 0, pos = decodes[c].pos, splits = decodes[c].splits;
        const zz_heads h = {3, 8, 2, 128};
        const zz_mask mask = full ? FULL : streaming(decodes[c].sink, decodes[c].recent, 0);
        const int slots = full ? pos + 3 : mask.sink + mask.recent;
        decode_bug_errors(&h, slots, pos, mask, splits, &r, err);
        snprintf(what, sizeof what, "decode pos %d sink %d recent %d splits %d:", pos, mask.sink, mask.recent, splits);
        print_bug_errors(what, err);
        assert_below(relative(err[RIGHT]), right_below);
        decode_scale = fmax(decode_scale, relative(err[SCALE_2PCT]));
        if (full || pos + 1 < slots) assert_above(relative(err[NEWEST_DROPPED]), bug_above);
        if (!full && pos + 1 >= slots) assert_above(relative(err[WINDOW_TOO_SHORT]), bug_above);
        if (splits > 1 && pos + 1 > 128) assert_above(relative(err[COMBINE_AVERAGED]), bug_above);
    }
    assert_above(decode_scale, bug_above);
}

/* ---------------------------------------------------- relative error ---- */

static void test_relative_error(void **state) {
    (void)state;
    const float ref[4] = {3, 4, 0, 0};
    float out[4] = {3, 4, 0, 0};
    assert_true(ref_relative_error(out, ref, 4) == 0.0);
    out[1] = 4.5f; /* ||(0, .5)|| / ||(3, 4)|| = 0.1 */
    assert_near(ref_relative_error(out, ref, 4), 0.1, 1e-12);

    out[1] = 4, out[3] = NAN;
    const double e = ref_relative_error(out, ref, 4);
    assert_true(isnan(e));
    assert_false(e < 1e30); /* a NaN never passes a bound */
    out[3] = INFINITY;
    assert_false(ref_relative_error(out, ref, 4) < 1e30);

    /* Zero reference: exact match is 0, anything else fails every bound. */
    const float zero[2] = {0, 0}, tiny[2] = {0, 1e-30f};
    assert_true(ref_relative_error(zero, zero, 2) == 0.0);
    assert_true(isinf(ref_relative_error(tiny, zero, 2)));
    assert_true(ref_relative_error(out, ref, 0) == 0.0);
}

/* ------------------------------------------------- the layer (layers.h) ---- */

/* Weight 1: every row comes out with RMS 1 (eps far below the mean
 * square); a weight scales each column; the output does not change when
 * the row is scaled (by 4, exact in bf16); a hand-computed row. */
static void test_rmsnorm(void **state) {
    (void)state;
    rng r = {41};
    enum { ROWS = 5, H = 4096 + 24 };
    bf16 *x = random_bf16(&r, (long)ROWS * H, 1.5f), *ones = new_bf16(H), *w = random_bf16(&r, H, 2.0f);
    bf16 *x4 = new_bf16((long)ROWS * H);
    for (int i = 0; i < H; i++) ones[i] = bf16_from_float(1.0f);
    for (long i = 0; i < (long)ROWS * H; i++) x4[i] = bf16_from_float(4.0f * bf16_to_float(x[i]));
    float *y = new_floats((long)ROWS * H), *yw = new_floats((long)ROWS * H), *y4 = new_floats((long)ROWS * H);
    ref_rmsnorm(x, ones, y, ROWS, H, 1e-6f);
    ref_rmsnorm(x, w, yw, ROWS, H, 1e-6f);
    ref_rmsnorm(x4, w, y4, ROWS, H, 1e-6f);
    for (int row = 0; row < ROWS; row++) {
        double ss = 0.0;
        for (int i = 0; i < H; i++) ss += (double)y[row * H + i] * y[row * H + i];
        assert_near(sqrt(ss / H), 1.0, 1e-5);
        for (int i = 0; i < H; i++) {
            const long k = (long)row * H + i;
            assert_near(yw[k], (double)y[k] * bf16_to_float(w[i]), 1e-6 * (1.0 + fabs(yw[k])));
            assert_near(y4[k], yw[k], 1e-5 * (1.0 + fabs(yw[k])));
        }
    }
    /* (3, 4): mean square 12.5 */
    const bf16 row[2] = {bf16_from_float(3.0f), bf16_from_float(4.0f)};
    const bf16 two[2] = {bf16_from_float(1.0f), bf16_from_float(2.0f)};
    float out[2];
    ref_rmsnorm(row, two, out, 1, 2, 0.0f);
    assert_near(out[0], 3.0 / sqrt(12.5), 1e-6);
    assert_near(out[1], 8.0 / sqrt(12.5), 1e-6);
    free(x), free(ones), free(w), free(x4), free(y), free(yw), free(y4);
}

static float *floats_of(const bf16 *x, long n) {
    float *f = new_floats(n);
    for (long i = 0; i < n; i++) f[i] = bf16_to_float(x[i]);
    return f;
}

/* The angle: linear in the position, theta^(-2i/D) per pair. */
static void test_rotary_angle(void **state) {
    (void)state;
    const float theta = 500000.0f;
    for (int i = 0; i < 64; i += 7) {
        assert_near(ref_rotary_angle(1, i, 128, theta), pow(500000.0, -i / 64.0), 1e-15);
        const double a = ref_rotary_angle(1000, i, 128, theta), b = ref_rotary_angle(1047576, i, 128, theta);
        const double ab = ref_rotary_angle(1048576, i, 128, theta);
        assert_near(a + b, ab, 1e-12 * (1.0 + ab));
    }
    assert_true(ref_rotary_angle(1048576, 0, 128, theta) == 1048576.0);
    assert_near(ref_rotary_angle(1, 32, 128, 10000.0f), 0.01, 1e-15);
    assert_true(ref_rotary_angle(0, 5, 64, theta) == 0.0);
}

/* Position 0 is the identity, bit for bit; every pair (i, i + D/2) keeps
 * its norm; rotating by position a then b equals rotating by a + b; token t
 * is at pos0 + t; a hand-computed head of D 4 pins the pairing (rotate-half,
 * not adjacent pairs). */
static void test_rotary(void **state) {
    (void)state;
    rng r = {43};
    enum { B = 2, T = 3, HEADS = 5, D = 128, N = B * T * HEADS * D };
    const float theta = 500000.0f;
    bf16 *in = random_bf16(&r, N, 1.0f);
    float *x0 = floats_of(in, N), *x = floats_of(in, N);
    ref_rotary(x, B, T, HEADS, D, 0, theta);
    /* pos 0 only for token 0: compare token 0 of each sequence */
    for (int b = 0; b < B; b++)
        for (int k = 0; k < HEADS * D; k++) {
            const long e = (long)b * T * HEADS * D + k;
            assert_true(x[e] == x0[e]);
        }
    for (int rep = 0; rep < 2; rep++) {
        memcpy(x, x0, sizeof(float) * N);
        const long long pos0 = rep ? 1048576 : 1000;
        ref_rotary(x, B, T, HEADS, D, pos0, theta);
        double moved = 0.0;
        for (long row = 0; row < (long)B * T * HEADS; row++)
            for (int i = 0; i < D / 2; i++) {
                const float *a = x0 + row * D, *o = x + row * D;
                const double before = (double)a[i] * a[i] + (double)a[i + D / 2] * a[i + D / 2];
                const double after = (double)o[i] * o[i] + (double)o[i + D / 2] * o[i + D / 2];
                assert_near(after, before, 1e-6 * (1.0 + before));
                moved += fabs(o[i] - a[i]);
            }
        assert_above(moved, 1.0); /* it did rotate */
    }
    /* a then b == a + b, one token (all at the same position) */
    static const long long pairs[][2] = {{1000, 1047576}, {1, 1}, {524288, 524288}, {123457, 0}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        const int n1 = HEADS * D;
        float *ab = floats_of(in, n1), *once = floats_of(in, n1);
        ref_rotary(ab, 1, 1, HEADS, D, pairs[p][0], theta);
        ref_rotary(ab, 1, 1, HEADS, D, pairs[p][1], theta);
        ref_rotary(once, 1, 1, HEADS, D, pairs[p][0] + pairs[p][1], theta);
        for (int k = 0; k < n1; k++) assert_near(ab[k], once[k], 1e-5);
        free(ab), free(once);
    }
    /* token t at pos0 + t: the same as one token at that position */
    memcpy(x, x0, sizeof(float) * N);
    ref_rotary(x, B, T, HEADS, D, 777, theta);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const long off = ((long)b * T + t) * HEADS * D;
            float *one = floats_of(in + off, HEADS * D);
            ref_rotary(one, 1, 1, HEADS, D, 777 + t, theta);
            for (int k = 0; k < HEADS * D; k++) assert_true(one[k] == x[off + k]);
            free(one);
        }
    /* D 4, theta 10000, pos 1: pair (0, 2) by 1 rad, pair (1, 3) by 0.01 */
    float h4[4] = {1.0f, 0.0f, 0.0f, 2.0f};
    ref_rotary(h4, 1, 1, 1, 4, 1, 10000.0f);
    assert_near(h4[0], cos(1.0), 1e-7);
    assert_near(h4[2], sin(1.0), 1e-7);
    assert_near(h4[1], -2.0 * sin(0.01), 1e-7);
    assert_near(h4[3], 2.0 * cos(0.01), 1e-7);
    free(in), free(x0), free(x);
}

/* silu at a few points (silu(a) = a / (1 + e^-a)), times up; the gate is
 * the first half of a row, up the second. */
static void test_silu_mul(void **state) {
    (void)state;
    static const float gate[] = {0.0f, 1.0f, -1.0f, 2.0f, -20.0f, 100.0f, -1000.0f, 0.5f};
    static const float up[] = {5.0f, 1.0f, 1.0f, -3.0f, 1.0f, 0.25f, 1.0f, 2.0f};
    static const double want[] = {0.0, 0.7310585786300049, -0.2689414213699951, -3 * 1.7615941559557649,
                                  -20.0 / (1.0 + exp(20.0)), 25.0, -0.0, 0.6224593312018546};
    enum { F = 8 };
    bf16 gu[2 * 2 * F];
    for (int i = 0; i < F; i++) {
        gu[i] = bf16_from_float(gate[i]), gu[F + i] = bf16_from_float(up[i]);
        gu[2 * F + i] = bf16_from_float(up[i]), gu[3 * F + i] = bf16_from_float(gate[i]); /* swapped row */
    }
    float h[2 * F];
    ref_silu_mul(gu, h, 2, F);
    for (int i = 0; i < F; i++) {
        assert_near(h[i], want[i], 1e-7 * (1.0 + fabs(want[i])));
        const double s = up[i] / (1.0 + exp(-(double)up[i])) * gate[i];
        assert_near(h[F + i], s, 1e-7 * (1.0 + fabs(s)));
    }
    assert_true(h[6] == 0.0f && signbit(h[6])); /* -1000 / (1 + e^1000) = -1000 / inf: -0 */
}

/* A 2x3 input, a 2x3 weight [out][in] (not square in its use: a
 * transposed W would not even fit), strides with padding, beta 0 and 1;
 * then random shapes against a double-precision sum. */
static void test_linear(void **state) {
    (void)state;
    const float xv[2][4] = {{1, 2, 3, NAN}, {4, 5, 6, NAN}};  /* x_stride 4 */
    const float wv[2][3] = {{1, 0, -1}, {0.5f, 1, 2}};
    bf16 x[8], w[6];
    for (int i = 0; i < 8; i++) x[i] = bf16_from_float(xv[i / 4][i % 4]);
    for (int i = 0; i < 6; i++) w[i] = bf16_from_float(wv[i / 3][i % 3]);
    float y[6] = {NAN, NAN, -7, NAN, NAN, -7}; /* y_stride 3, column 2 padding */
    ref_linear(x, 4, w, y, 3, 2, 3, 2, 0.0f);
    const float want[6] = {-2, 8.5f, -7, -2, 19, -7};
    for (int i = 0; i < 6; i++) assert_true(y[i] == want[i]);
    y[0] = 10, y[1] = 20, y[3] = 30, y[4] = 40;
    ref_linear(x, 4, w, y, 3, 2, 3, 2, 1.0f);
    const float acc[6] = {8, 28.5f, -7, 28, 59, -7};
    for (int i = 0; i < 6; i++) assert_true(y[i] == acc[i]);

    rng r = {47};
    static const int shapes[][3] = {{1, 8, 5}, {3, 37, 11}, {17, 256, 40}, {2, 4096, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int rows = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        bf16 *xs = random_bf16(&r, (long)rows * in, 1.0f), *ws = random_bf16(&r, (long)out * in, 1.0f);
        float *ys = new_floats((long)rows * out);
        ref_linear(xs, in, ws, ys, out, rows, in, out, 0.0f);
        for (int i = 0; i < rows; i++)
            for (int o = 0; o < out; o++) {
                double sum = 0.0, mag = 0.0;
                for (int k = 0; k < in; k++) {
                    const double p = (double)bf16_to_float(xs[(long)i * in + k]) * bf16_to_float(ws[(long)o * in + k]);
                    sum += p, mag += fabs(p);
                }
                assert_near(ys[(long)i * out + o], sum, 1e-6 * mag + 1e-30);
            }
        free(xs), free(ws), free(ys);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bf16_exact_values),
        cmocka_unit_test(test_bf16_ties_to_even),
        cmocka_unit_test(test_bf16_nan_inf_overflow),
        cmocka_unit_test(test_bf16_roundtrip_every_pattern),
        cmocka_unit_test(test_bf16_round_floats),
        cmocka_unit_test(test_hand_computed_3_tokens),
        cmocka_unit_test(test_prefill_matches_naive),
        cmocka_unit_test(test_streaming_wide_window_equals_full),
        cmocka_unit_test(test_streaming_small_window_masks),
        cmocka_unit_test(test_cache_slot),
        cmocka_unit_test(test_decode_full_equals_prefill),
        cmocka_unit_test(test_decode_streaming_ring),
        cmocka_unit_test(test_chunked_full_equals_single_shot),
        cmocka_unit_test(test_chunked_streaming_explicit),
        cmocka_unit_test(test_mha_equals_per_head_runs),
        cmocka_unit_test(test_gqa_group4_equals_expanded_mha),
        cmocka_unit_test(test_mixed_layer_equals_per_mask_runs),
        cmocka_unit_test(test_large_logits),
        cmocka_unit_test(test_logit_shift_invariance),
        cmocka_unit_test(test_outputs_are_convex_combinations),
        cmocka_unit_test(test_batch_equals_separate_runs),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_relative_error),
        cmocka_unit_test(test_cache_write_equals_token_updates),
        cmocka_unit_test(test_peaky_separates_bugs),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_rotary_angle),
        cmocka_unit_test(test_rotary),
        cmocka_unit_test(test_silu_mul),
        cmocka_unit_test(test_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
