/* GPU tests: every kernel against the CPU reference (kernels/reference.c),
 * each kernel variant of harness/plan/variants.c among them (decode
 * split-combine: zz_cache_write + zz_decode_attention; one-launch:
 * zz_decode_one_launch, which also writes the cache, checked bit for bit;
 * prefill fa2 and wgmma-tma: every prefill test runs once per variant, named
 * test/fa2 and test/wgmma-tma, the wgmma-tma ones skipped on a GPU that
 * cannot run them).
 *
 * Each case draws fresh random inputs (rounded to bf16 exactly as the GPU
 * sees them), poisons the output with NaN so an unwritten element fails, and
 * requires ||out - ref|| / ||ref|| < BOUND. Shapes include sizes that are not
 * tile multiples. Run with `make test-gpu` on a machine with a GPU; CI only
 * compiles this file.
 *
 * Two kinds of inputs. Uniform ones (every value in [-1, 1]) give nearly flat
 * softmax rows: they check indexing and masks wherever every key's weight
 * is visible, but a 2 % softmax-scale error or one dropped key of 40K stays
 * under BOUND. Peaky ones (ref_peaky_query: logits spread up to about
 * +-25, and rows aimed at the newest key, the edges of the streaming band,
 * or a masked key just outside it) fail a kernel with any of those bugs;
 * tests/mutations/ holds such bugs and scripts/mutation-check shows that
 * each one fails a test here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "buffers.h"
#include "device.h"

/* A correct kernel's error is 2-3e-3 on either kind of input (bf16 rounding
 * of the softmax weights and of the output); on the peaky inputs a softmax
 * scale off by 2 %, a dropped or wrongly attended aimed-at key, and a
 * split-KV combine that ignores its weights each give several times the
 * bound (estimated on the CPU with the kernels' rounding modelled:
 * tests/test_reference.c, test_peaky_separates_bugs). */
#define BOUND REF_ERROR_BOUND

static int sm_count;
static uint64_t peaky_state = 0x5eed;

/* ---- checks (buffers: buffers.h) ---- */

static void expect_close(const float *out, const float *ref, long long n, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    double e = ref_relative_error(out, ref, n);
    if (!(e < BOUND)) {
        long long worst = 0;  /* the first NaN, else the largest difference */
        for (long long i = 0; i < n; i++) {
            if (isnan(out[i])) {
                worst = i;
                break;
            }
            if (fabsf(out[i] - ref[i]) > fabsf(out[worst] - ref[worst])) worst = i;
        }
        fail_msg("%s: relative error %.3g (bound %.0e); element %lld of %lld: %g, reference %g", what, e, BOUND,
                 worst, n, out[worst], ref[worst]);
    }
    print_message("  ok  %-60s err %.2e\n", what, e);
}

/* ---- prefill ---- */

/* A prefill variant (harness/plan/variants.h) as the tests call it: the
 * cmocka state of each prefill test (main registers every one per variant). */
typedef struct {
    const char *name;
    int (*run)(const zz_prefill_args *args, cudaStream_t stream);
} prefill_variant;
static prefill_variant fa2 = {"fa2", zz_prefill_attention}, wgmma_tma = {"wgmma-tma", zz_prefill_attention_hopper};
static int hopper_supported;

/* The test's variant; skips the test where the GPU cannot run it. */
static const prefill_variant *variant_of(void **state) {
    const prefill_variant *v = *state;
    SKIP_WGMMA_TMA_UNLESS(v == &wgmma_tma, hopper_supported);
    return v;
}

typedef struct {
    int batch, q_heads, kv_heads, head_dim, seq;
    zz_mask mask;
} prefill_case;

/* One prefill of the inputs (`inputs` names their kind) on the GPU and on the CPU. */
static void expect_prefill(const prefill_variant *pv, const prefill_case *c, const bf16 *q, const bf16 *k,
                           const bf16 *v, const char *inputs) {
    const int B = c->batch, S = c->seq, Hq = c->q_heads, Hkv = c->kv_heads, D = c->head_dim;
    long long nq = (long long)B * S * Hq * D, nkv = (long long)B * S * Hkv * D;
    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv), *dout = device_poisoned(nq);
    zz_prefill_args a = {zz_view_dense(dq, S, Hq, D), zz_view_dense(dk, S, Hkv, D), zz_view_dense(dv, S, Hkv, D),
                         zz_view_dense(dout, S, Hq, D), B, D, S, 0, c->mask};
    KERNEL_OK(pv->run(&a, 0));
    float *out = to_host_floats(dout, nq), *ref = malloc((size_t)nq * sizeof *ref);
    zz_heads h = {B, Hq, Hkv, D};
    ref_attention_prefill(&h, S, 0, c->mask, q, k, v, ref);
    expect_close(out, ref, nq, "%s prefill %s, %s B%d S%d Hq%d Hkv%d D%d sink%d recent%d", pv->name, inputs,
                 c->mask.kind == ZZ_MASK_FULL ? "full" : "streaming", B, S, Hq, Hkv, D, c->mask.sink,
                 c->mask.recent);
    free(out), free(ref);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout);
}

/* Uniform inputs, or peaky queries (ref_peaky_prefill_queries) on uniform keys. */
static void check_prefill(const prefill_variant *pv, const prefill_case *c, int peaky) {
    long long nq = (long long)c->batch * c->seq * c->q_heads * c->head_dim;
    long long nkv = (long long)c->batch * c->seq * c->kv_heads * c->head_dim;
    bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
    zz_heads h = {c->batch, c->q_heads, c->kv_heads, c->head_dim};
    if (peaky) ref_peaky_prefill_queries(&h, c->seq, c->mask, k, q, &peaky_state);
    expect_prefill(pv, c, q, k, v, peaky ? "peaky" : "uniform");
    free(q), free(k), free(v);
}

static void test_prefill_against_reference(void **state) {
    const prefill_variant *pv = variant_of(state);
    static const int seqs[] = {1, 17, 127, 128, 129, 1000};
    const zz_mask full = {ZZ_MASK_FULL, 0, 0, 0};
    for (int d = 64; d <= 128; d += 64)
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
            for (int group = 1; group <= 7; group += 3) {
                int S = seqs[i];
                /* Window below S (band and sink tiles both cut) and above S (= full). */
                zz_mask narrow = {ZZ_MASK_STREAMING, 5, 40, 0}, wide = {ZZ_MASK_STREAMING, 64, S + 10, 0};
                for (int batch = 1; batch <= 3; batch += 2) {
                    prefill_case c = {batch, 2 * group, 2, d, S, full};
                    check_prefill(pv, &c, 0);
                    c.mask = narrow;
                    check_prefill(pv, &c, 0);
                    c.mask = wide;
                    check_prefill(pv, &c, 0);
                }
            }
}

/* S 4097 (a tile and one row past 4096), the longest case: one head group
 * to keep the CPU side short. */
static void test_prefill_long(void **state) {
    const prefill_variant *pv = variant_of(state);
    const zz_mask masks[] = {{ZZ_MASK_FULL, 0, 0, 0}, {ZZ_MASK_STREAMING, 128, 256, 0}};
    for (int m = 0; m < 2; m++)
        for (int d = 64; d <= 128; d += 64) {
            prefill_case c = {1, 4, 1, d, 4097, masks[m]};
            check_prefill(pv, &c, 0);
        }
}

/* Peaky inputs, GQA groups of 3 and 4, sizes that are not tile multiples,
 * a narrow and a wide band. */
static void test_prefill_peaky(void **state) {
    const prefill_variant *pv = variant_of(state);
    const zz_mask masks[] = {{ZZ_MASK_FULL, 0, 0, 0}, {ZZ_MASK_STREAMING, 5, 40, 0}, {ZZ_MASK_STREAMING, 64, 300, 0}};
    static const int seqs[] = {129, 1000};
    for (int d = 64; d <= 128; d += 64)
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
            for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
                prefill_case c = {2, d == 64 ? 6 : 8, 2, d, seqs[i], masks[m]};
                check_prefill(pv, &c, 1);
            }
}

/* Chunked prefill: queries [P, P+C) against keys [0, P+C), chunk by chunk.
 * Full heads must equal single-shot; streaming heads follow DuoAttention's
 * chunk semantics (the reference with mask.chunked). */
static void test_prefill_chunked(void **state) {
    const prefill_variant *pv = variant_of(state);
    const int B = 2, S = 1000, C = 256, Hq = 8, Hkv = 2, D = 128;
    long long nq = (long long)B * S * Hq * D, nkv = (long long)B * S * Hkv * D;
    bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv);
    const zz_mask masks[] = {{ZZ_MASK_FULL, 0, 0, 0}, {ZZ_MASK_STREAMING, 16, 64, 1}};
    zz_heads h = {B, Hq, Hkv, D};
    for (int m = 0; m < 2; m++) {
        bf16 *chunked = device_poisoned(nq), *single = device_poisoned(nq);
        for (int p0 = 0; p0 < S; p0 += C) {
            int len = S - p0 < C ? S - p0 : C;
            zz_view qv = zz_view_dense(dq, S, Hq, D), ov = zz_view_dense(chunked, S, Hq, D);
            qv.data += (long long)p0 * qv.token_stride;
            ov.data += (long long)p0 * ov.token_stride;
            zz_prefill_args a = {qv, zz_view_dense(dk, S, Hkv, D), zz_view_dense(dv, S, Hkv, D), ov, B, D, len, p0,
                                 masks[m]};
            KERNEL_OK(pv->run(&a, 0));
        }
        float *out = to_host_floats(chunked, nq);
        if (m == 0) {
            zz_prefill_args a = {zz_view_dense(dq, S, Hq, D), zz_view_dense(dk, S, Hkv, D),
                                 zz_view_dense(dv, S, Hkv, D), zz_view_dense(single, S, Hq, D), B, D, S, 0, masks[0]};
            KERNEL_OK(pv->run(&a, 0));
            float *one_shot = to_host_floats(single, nq);
            expect_close(out, one_shot, nq, "%s chunked full prefill (C %d) = single-shot", pv->name, C);
            free(one_shot);
        }
        /* Reference chunk by chunk: contiguous per-chunk copies of q. */
        float *ref = malloc((size_t)nq * sizeof *ref);
        for (int p0 = 0; p0 < S; p0 += C) {
            int len = S - p0 < C ? S - p0 : C;
            long long row = (long long)Hq * D, krow = (long long)Hkv * D;
            bf16 *qc = malloc((size_t)B * len * row * sizeof *qc), *kc = malloc((size_t)B * (p0 + len) * krow * 2),
                 *vc = malloc((size_t)B * (p0 + len) * krow * 2);
            float *oc = malloc((size_t)B * len * row * sizeof *oc);
            for (int b = 0; b < B; b++) {
                memcpy(qc + b * len * row, q + ((long long)b * S + p0) * row, (size_t)len * row * 2);
                memcpy(kc + b * (p0 + len) * krow, k + (long long)b * S * krow, (size_t)(p0 + len) * krow * 2);
                memcpy(vc + b * (p0 + len) * krow, v + (long long)b * S * krow, (size_t)(p0 + len) * krow * 2);
            }
            ref_attention_prefill(&h, len, p0, masks[m], qc, kc, vc, oc);
            for (int b = 0; b < B; b++)
                memcpy(ref + ((long long)b * S + p0) * row, oc + b * len * row, (size_t)len * row * sizeof *oc);
            free(qc), free(kc), free(vc), free(oc);
        }
        expect_close(out, ref, nq, "%s chunked %s prefill (C %d) vs reference", pv->name, m ? "streaming" : "full", C);
        free(out), free(ref);
        cudaFree(chunked), cudaFree(single);
    }
    free(q), free(k), free(v);
    cudaFree(dq), cudaFree(dk), cudaFree(dv);
}

/* wgmma-tma against fa2 on head slices, as duo-slices launches them: q, k,
 * v, o are heads [first, first + count) of wider tensors whose token stride
 * is padded past their heads (the tensor maps start inside a token and
 * stride over the other heads). Equal within the bound to fa2 and to the
 * reference on the slice; the heads outside the slice stay unwritten. */
static void test_prefill_hopper_slices(void **state) {
    (void)variant_of(state);
    const int B = 3, S = 1000, G = 7, Hkv = 4, Hq = Hkv * G, pad = 8;
    const zz_mask masks[] = {{ZZ_MASK_FULL, 0, 0, 0}, {ZZ_MASK_STREAMING, 4, 150, 0}};
    for (int d = 64; d <= 128; d += 64)
        for (int m = 0; m < 2; m++) {
            const int first = 1, count = 2;  /* KV heads 1, 2 and their query heads */
            zz_view q = {NULL, 0, (long long)Hq * d + pad, Hq}, kv = {NULL, 0, (long long)Hkv * d + pad, Hkv};
            q.batch_stride = q.token_stride * S, kv.batch_stride = kv.token_stride * S;
            const long long nq = B * q.batch_stride, nkv = B * kv.batch_stride;
            bf16 *hq = host_random(nq), *hk = host_random(nkv), *hv = host_random(nkv);
            bf16 *dq = to_device(hq, nq), *dk = to_device(hk, nkv), *dv = to_device(hv, nkv);
            bf16 *outs[2] = {device_poisoned(nq), device_poisoned(nq)};
            for (int i = 0; i < 2; i++) {
                zz_view qs = q, ks = kv, vs = kv, os = q;
                qs.data = dq, ks.data = dk, vs.data = dv, os.data = outs[i];
                zz_prefill_args a = {zz_view_heads(qs, first * G, count * G, d), zz_view_heads(ks, first, count, d),
                                     zz_view_heads(vs, first, count, d), zz_view_heads(os, first * G, count * G, d),
                                     B, d, S, 0, masks[m]};
                KERNEL_OK(i ? zz_prefill_attention_hopper(&a, 0) : zz_prefill_attention(&a, 0));
            }
            float *want = to_host_floats(outs[0], nq), *got = to_host_floats(outs[1], nq);
            /* The slice, gathered dense, against fa2 and the reference. */
            const long long rows = (long long)B * S, qw = (long long)count * G * d, kw = (long long)count * d;
            bf16 *sq = malloc((size_t)(rows * qw) * 2), *sk = malloc((size_t)(rows * kw) * 2),
                 *sv = malloc((size_t)(rows * kw) * 2);
            float *sg = malloc((size_t)(rows * qw) * sizeof *sg), *sw = malloc((size_t)(rows * qw) * sizeof *sw),
                  *ref = malloc((size_t)(rows * qw) * sizeof *ref);
            int untouched = 1;
            for (long long r = 0; r < rows; r++) {
                const long long qo = r * q.token_stride, ko = r * kv.token_stride;
                memcpy(sq + r * qw, hq + qo + (long long)first * G * d, (size_t)qw * 2);
                memcpy(sk + r * kw, hk + ko + (long long)first * d, (size_t)kw * 2);
                memcpy(sv + r * kw, hv + ko + (long long)first * d, (size_t)kw * 2);
                memcpy(sg + r * qw, got + qo + (long long)first * G * d, (size_t)qw * sizeof *sg);
                memcpy(sw + r * qw, want + qo + (long long)first * G * d, (size_t)qw * sizeof *sw);
                for (long long e = 0; e < q.token_stride; e++)
                    if (e < (long long)first * G * d || e >= (long long)first * G * d + qw) untouched &= isnan(got[qo + e]);
            }
            zz_heads h = {B, count * G, count, d};
            ref_attention_prefill(&h, S, 0, masks[m], sq, sk, sv, ref);
            expect_close(sg, sw, rows * qw, "wgmma-tma = fa2 on a head slice, D%d %s", d, m ? "streaming" : "full");
            expect_close(sg, ref, rows * qw, "wgmma-tma on a head slice vs reference, D%d %s", d,
                         m ? "streaming" : "full");
            if (!untouched) fail_msg("wgmma-tma wrote outside its head slice (D%d)", d);
            free(hq), free(hk), free(hv), free(want), free(got), free(sq), free(sk), free(sv), free(sg), free(sw);
            free(ref);
            cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(outs[0]), cudaFree(outs[1]);
        }
}

/* Where the GPU cannot run wgmma-tma, its launcher says so (and launches nothing). */
static void test_prefill_hopper_refused(void **state) {
    (void)state;
    if (hopper_supported) skip();
    bf16 *d = device_poisoned(1 << 12);
    zz_view x = zz_view_dense(d, 16, 4, 64);
    zz_prefill_args a = {x, x, x, x, 1, 64, 16, 0, {ZZ_MASK_FULL, 0, 0, 0}};
    assert_int_equal(zz_prefill_attention_hopper(&a, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "sm_90"));
    cudaFree(d);
}

/* ---- decode ---- */

/* Decode at pos on the GPU (a cache of `slots` slots per sequence;
 * num_splits 0: the default) against the reference; `what` names the case. */
static void expect_decode(const zz_heads *h, int slots, int pos, zz_mask mask, int splits, const bf16 *q,
                          const bf16 *k, const bf16 *v, const char *what) {
    const int B = h->batch, Hq = h->q_heads, Hkv = h->kv_heads, D = h->head_dim;
    long long nq = (long long)B * Hq * D, nkv = (long long)B * slots * Hkv * D;
    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv), *dout = device_poisoned(nq);
    zz_decode_args a = {zz_view_dense(dq, 1, Hq, D), zz_view_dense(dk, slots, Hkv, D), zz_view_dense(dv, slots, Hkv, D),
                        zz_view_dense(dout, 1, Hq, D), B, D, pos, mask, splits};
    void *ws = NULL;
    ZZ_CUDA_OR_EXIT(cudaMalloc(&ws, zz_decode_workspace_bytes(&a, sm_count) + 16));
    KERNEL_OK(zz_decode_attention(&a, ws, sm_count, 0));
    float *out = to_host_floats(dout, nq), *ref = malloc((size_t)nq * sizeof *ref);
    if (mask.kind == ZZ_MASK_FULL)
        ref_attention_decode_full(h, slots, pos, q, k, v, ref);
    else
        ref_attention_decode_streaming(h, mask.sink, mask.recent, pos, q, k, v, ref);
    expect_close(out, ref, nq, "%s, num_splits %d", what, splits);
    free(out), free(ref);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(ws);
}

/* A full cache of `capacity` slots holding positions 0..pos; decode at pos. */
static void check_decode_full(int B, int Hq, int Hkv, int D, int pos, int splits) {
    int capacity = pos + 3; /* not a tile multiple, and larger than used */
    long long nq = (long long)B * Hq * D, nkv = (long long)B * capacity * Hkv * D;
    bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
    zz_heads h = {B, Hq, Hkv, D};
    char what[128];
    snprintf(what, sizeof what, "decode uniform, full B%d pos%d Hq%d Hkv%d D%d", B, pos, Hq, Hkv, D);
    expect_decode(&h, capacity, pos, (zz_mask){ZZ_MASK_FULL, 0, 0, 0}, splits, q, k, v, what);
    free(q), free(k), free(v);
}

static void test_decode_full(void **state) {
    (void)state;
    static const int positions[] = {0, 16, 126, 127, 128, 999, 4095, 40000};
    for (int d = 64; d <= 128; d += 64)
        for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++)
            for (int group = 1; group <= 4; group += 3)
                for (int batch = 1; batch <= 3; batch += 2) {
                    check_decode_full(batch, 2 * group, 2, d, positions[i], 0);
                    check_decode_full(batch, 2 * group, 2, d, positions[i], 7);
                }
    check_decode_full(1, 32, 8, 128, 32767, 1); /* one split: no combine */
    check_decode_full(2, 16, 1, 128, 5000, 0);  /* GQA group 16, the most a tile packs */
}

/* Streaming decode: the cache is built on the CPU by successive ref_cache_update
 * calls, so it holds a wrapped ring at large positions. */
static void check_decode_streaming(int B, int Hq, int Hkv, int D, int sink, int recent, int pos) {
    int slots = sink + recent;
    long long nq = (long long)B * Hq * D, ntok = (long long)B * Hkv * D, nkv = ntok * slots;
    bf16 *q = host_random(nq), *k = calloc((size_t)nkv, 2), *v = calloc((size_t)nkv, 2);
    zz_heads h = {B, Hq, Hkv, D};
    for (int p = 0; p <= pos; p++) {
        /* Only the tokens that survive in the cache need real values. */
        if (p >= sink && p <= pos - recent) continue;
        bf16 *nk = host_random(ntok), *nv = host_random(ntok);
        ref_cache_update(&h, slots, sink, recent, p, nk, nv, k, v);
        free(nk), free(nv);
    }
    char what[128];
    snprintf(what, sizeof what, "decode uniform, streaming B%d pos%d sink%d recent%d D%d", B, pos, sink, recent, D);
    expect_decode(&h, slots, pos, (zz_mask){ZZ_MASK_STREAMING, sink, recent, 0}, 0, q, k, v, what);
    free(q), free(k), free(v);
}

static void test_decode_streaming(void **state) {
    (void)state;
    static const int positions[] = {0, 10, 200, 383, 384, 1000, 4096};
    for (int d = 64; d <= 128; d += 64)
        for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
            check_decode_streaming(1, 8, 2, d, 128, 256, positions[i]);
            check_decode_streaming(3, 4, 4, d, 4, 60, positions[i]);
        }
}

/* Peaky decode inputs (ref_peaky_decode_queries): the cache's valid slots
 * uniform, the others NaN, so a kernel that reads past them fails. */
static void check_decode_peaky(const zz_heads *h, int slots, int pos, zz_mask mask, int splits) {
    const int B = h->batch, Hq = h->q_heads, Hkv = h->kv_heads, D = h->head_dim;
    const int valid = mask.kind == ZZ_MASK_FULL || pos + 1 < slots ? pos + 1 : slots;
    long long nq = (long long)B * Hq * D, nkv = (long long)B * slots * Hkv * D;
    bf16 *q = malloc((size_t)nq * sizeof *q), *k = host_random(nkv), *v = host_random(nkv);
    for (int b = 0; b < B; b++)
        for (long long i = ((long long)b * slots + valid) * Hkv * D; i < (long long)(b + 1) * slots * Hkv * D; i++)
            k[i] = v[i] = 0xffff;
    ref_peaky_decode_queries(h, slots, pos, mask, k, q, &peaky_state);
    char what[160];
    snprintf(what, sizeof what, "decode peaky, %s B%d pos%d slots%d sink%d recent%d Hq%d Hkv%d D%d",
             mask.kind == ZZ_MASK_FULL ? "full" : "streaming", B, pos, slots, mask.sink, mask.recent, Hq, Hkv, D);
    expect_decode(h, slots, pos, mask, splits, q, k, v, what);
    free(q), free(k), free(v);
}

/* Full caches, two slots longer than used: one split, a forced 7 (the
 * combine) and the default. */
static void test_decode_full_peaky(void **state) {
    (void)state;
    static const int positions[] = {127, 999, 40000};
    static const int splits[] = {0, 1, 7};
    for (int d = 64; d <= 128; d += 64)
        for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++)
            for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
                zz_heads h = {3, d == 64 ? 6 : 8, 2, d};
                check_decode_peaky(&h, positions[i] + 3, positions[i], (zz_mask){ZZ_MASK_FULL, 0, 0, 0}, splits[s]);
            }
}

/* Streaming rings before they fill, just full, just wrapped and wrapped
 * many times; the default splits and a forced 3 (the combine). */
static void test_decode_streaming_peaky(void **state) {
    (void)state;
    static const struct { int sink, recent, pos; } cases[] = {{4, 60, 30}, {4, 60, 63}, {4, 60, 64}, {4, 60, 1000},
                                                             {128, 256, 200}, {128, 256, 384}, {128, 256, 4096}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int d = 64; d <= 128; d += 64)
            for (int splits = 0; splits <= 3; splits += 3) {
                zz_heads h = {3, d == 64 ? 6 : 8, 2, d};
                zz_mask mask = {ZZ_MASK_STREAMING, cases[c].sink, cases[c].recent, 0};
                check_decode_peaky(&h, mask.sink + mask.recent, cases[c].pos, mask, splits);
            }
}

/* Decode at position S-1 against a cache holding the prompt equals the last
 * row of the GPU's own prefill of that prompt. */
static void test_decode_equals_last_prefill_row(void **state) {
    (void)state;
    const int B = 2, S = 777, Hq = 8, Hkv = 2, D = 128;
    long long row = (long long)Hq * D, nq = (long long)B * S * row, nkv = (long long)B * S * Hkv * D;
    const zz_mask masks[] = {{ZZ_MASK_FULL, 0, 0, 0}, {ZZ_MASK_STREAMING, 8, 100, 0}};
    for (int m = 0; m < 2; m++) {
        bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
        bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv), *dout = device_poisoned(nq);
        zz_prefill_args pa = {zz_view_dense(dq, S, Hq, D), zz_view_dense(dk, S, Hkv, D), zz_view_dense(dv, S, Hkv, D),
                              zz_view_dense(dout, S, Hq, D), B, D, S, 0, masks[m]};
        KERNEL_OK(zz_prefill_attention(&pa, 0));
        float *prefill = to_host_floats(dout, nq);

        /* The decode query is the prompt's last token; the cache its K/V
         * (a streaming cache is built by the GPU's cache update). */
        bf16 *dqd = device_poisoned(B * row), *dod = device_poisoned(B * row);
        for (int b = 0; b < B; b++)
            ZZ_CUDA_OR_EXIT(cudaMemcpy(dqd + b * row, dq + ((long long)b * S + S - 1) * row, (size_t)row * 2,
                                      cudaMemcpyDeviceToDevice));
        int slots = m ? masks[m].sink + masks[m].recent : S;
        bf16 *ck = device_poisoned((long long)B * slots * Hkv * D), *cv = device_poisoned((long long)B * slots * Hkv * D);
        if (m == 0) {
            ZZ_CUDA_OR_EXIT(cudaMemcpy(ck, dk, (size_t)nkv * 2, cudaMemcpyDeviceToDevice));
            ZZ_CUDA_OR_EXIT(cudaMemcpy(cv, dv, (size_t)nkv * 2, cudaMemcpyDeviceToDevice));
        } else {
            for (int p = 0; p < S; p++) {
                zz_view nk = zz_view_dense(dk, S, Hkv, D), nv = zz_view_dense(dv, S, Hkv, D);
                nk.data += (long long)p * nk.token_stride;
                nv.data += (long long)p * nv.token_stride;
                KERNEL_OK(zz_cache_write(nk, nv, zz_view_dense(ck, slots, Hkv, D), zz_view_dense(cv, slots, Hkv, D), B,
                                          D, slots, masks[m].sink, masks[m].recent, p, 1, 0));
            }
        }
        zz_decode_args da = {zz_view_dense(dqd, 1, Hq, D), zz_view_dense(ck, slots, Hkv, D),
                             zz_view_dense(cv, slots, Hkv, D), zz_view_dense(dod, 1, Hq, D), B, D, S - 1, masks[m], 0};
        void *ws = NULL;
        ZZ_CUDA_OR_EXIT(cudaMalloc(&ws, zz_decode_workspace_bytes(&da, sm_count) + 16));
        KERNEL_OK(zz_decode_attention(&da, ws, sm_count, 0));
        float *decode = to_host_floats(dod, B * row), *last = malloc((size_t)B * row * sizeof *last);
        for (int b = 0; b < B; b++)
            memcpy(last + b * row, prefill + ((long long)b * S + S - 1) * row, (size_t)row * sizeof *last);
        expect_close(decode, last, B * row, "decode = last prefill row (%s)", m ? "streaming" : "full");
        free(q), free(k), free(v), free(prefill), free(decode), free(last);
        cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dqd), cudaFree(dod);
        cudaFree(ck), cudaFree(cv), cudaFree(ws);
    }
}

/* ---- cache update: bit-exact against the reference, ring wrapping ---- */

/* The device caches hold exactly the reference's bits. */
static void expect_caches_equal(const bf16 *dk, const bf16 *dv, const bf16 *k, const bf16 *v, long long n) {
    bf16 *gk = malloc((size_t)n * 2), *gv = malloc((size_t)n * 2);
    ZZ_CUDA_OR_EXIT(cudaMemcpy(gk, dk, (size_t)n * 2, cudaMemcpyDeviceToHost));
    ZZ_CUDA_OR_EXIT(cudaMemcpy(gv, dv, (size_t)n * 2, cudaMemcpyDeviceToHost));
    assert_memory_equal(gk, k, (size_t)n * 2);
    assert_memory_equal(gv, v, (size_t)n * 2);
    free(gk), free(gv);
}

static void test_cache_update(void **state) {
    (void)state;
    const int B = 3, Hkv = 4, D = 64;
    const struct { int sink, recent, capacity, last; } cases[] = {{0, 0, 300, 299}, {4, 16, 20, 100}, {0, 8, 8, 30}};
    zz_heads h = {B, Hkv, Hkv, D};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int slots = cases[c].capacity;
        long long ntok = (long long)B * Hkv * D, ncache = ntok * slots;
        bf16 *k = host_random(ncache), *v = host_random(ncache);  /* stale contents must survive where not written */
        bf16 *dk = to_device(k, ncache), *dv = to_device(v, ncache);
        for (int p = 0; p <= cases[c].last; p++) {
            bf16 *nk = host_random(ntok), *nv = host_random(ntok);
            bf16 *dnk = to_device(nk, ntok), *dnv = to_device(nv, ntok);
            KERNEL_OK(zz_cache_write(zz_view_dense(dnk, 1, Hkv, D), zz_view_dense(dnv, 1, Hkv, D),
                                      zz_view_dense(dk, slots, Hkv, D), zz_view_dense(dv, slots, Hkv, D), B, D, slots,
                                      cases[c].sink, cases[c].recent, p, 1, 0));
            ref_cache_update(&h, slots, cases[c].sink, cases[c].recent, p, nk, nv, k, v);
            free(nk), free(nv);
            cudaFree(dnk), cudaFree(dnv);
        }
        expect_caches_equal(dk, dv, k, v, ncache);
        print_message("  ok  cache update sink %d recent %d slots %d, %d tokens: bit-exact\n", cases[c].sink,
                      cases[c].recent, slots, cases[c].last + 1);
        /* Past the capacity is refused, not written. */
        assert_int_equal(zz_cache_write(zz_view_dense(dk, 1, Hkv, D), zz_view_dense(dv, 1, Hkv, D),
                                         zz_view_dense(dk, slots, Hkv, D), zz_view_dense(dv, slots, Hkv, D), B, D,
                                         slots, 0, 0, slots, 1, 0),
                         ZZ_BAD_ARGUMENT);
        free(k), free(v);
        cudaFree(dk), cudaFree(dv);
    }
}

/* Prefill writes its prompt in chunks of several tokens: the result must be
 * the reference's token-by-token updates, for full caches and rings that wrap
 * inside one chunk. */
static void test_cache_write_chunks(void **state) {
    (void)state;
    const int B = 2, Hkv = 3, D = 128, total = 700;
    const struct { int sink, recent, capacity, chunk; } cases[] = {{0, 0, 700, 97}, {16, 48, 64, 97}, {4, 300, 304, 256}};
    zz_heads h = {B, Hkv, Hkv, D};
    long long row = (long long)Hkv * D;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int slots = cases[c].capacity, C = cases[c].chunk;
        long long ncache = (long long)B * slots * row;
        bf16 *k = host_random(ncache), *v = host_random(ncache);
        bf16 *dk = to_device(k, ncache), *dv = to_device(v, ncache);
        for (int p0 = 0; p0 < total; p0 += C) {
            int len = total - p0 < C ? total - p0 : C;
            bf16 *nk = host_random(B * len * row), *nv = host_random(B * len * row);
            bf16 *dnk = to_device(nk, B * len * row), *dnv = to_device(nv, B * len * row);
            KERNEL_OK(zz_cache_write(zz_view_dense(dnk, len, Hkv, D), zz_view_dense(dnv, len, Hkv, D),
                                     zz_view_dense(dk, slots, Hkv, D), zz_view_dense(dv, slots, Hkv, D), B, D, slots,
                                     cases[c].sink, cases[c].recent, p0, len, 0));
            ref_cache_write(&h, slots, cases[c].sink, cases[c].recent, p0, len, nk, nv, k, v);
            free(nk), free(nv);
            cudaFree(dnk), cudaFree(dnv);
        }
        expect_caches_equal(dk, dv, k, v, ncache);
        print_message("  ok  cache write in chunks of %d, sink %d recent %d: bit-exact\n", C, cases[c].sink,
                      cases[c].recent);
        free(k), free(v);
        cudaFree(dk), cudaFree(dv);
    }
}

/* Chunked prefill of streaming heads as the executor runs it: the ring cache
 * plus the chunk linearised into a window, attention on the window with the
 * chunked mask, then the chunk written into the ring. Must equal the
 * reference's chunk semantics on the full positional K/V. */
static void test_streaming_chunks_through_ring(void **state) {
    const prefill_variant *pv = variant_of(state);
    const int B = 2, S = 1000, C = 192, Hq = 8, Hkv = 2, D = 128, sink = 16, recent = 100;
    const zz_mask mask = {ZZ_MASK_STREAMING, sink, recent, 1};
    long long qrow = (long long)Hq * D, krow = (long long)Hkv * D, nq = B * S * qrow, nkv = B * S * krow;
    bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv), *dout = device_poisoned(nq);
    int slots = sink + recent;
    bf16 *rk = device_poisoned(B * slots * krow), *rv = device_poisoned(B * slots * krow);
    bf16 *wk = device_poisoned(B * (slots + C) * krow), *wv = device_poisoned(B * (slots + C) * krow);
    zz_heads h = {B, Hq, Hkv, D};
    float *ref = malloc((size_t)nq * sizeof *ref);
    for (int p0 = 0; p0 < S; p0 += C) {
        int len = S - p0 < C ? S - p0 : C, cached = zz_streaming_window_keys(sink, recent, p0);
        zz_view qv = zz_view_dense(dq, S, Hq, D), ov = zz_view_dense(dout, S, Hq, D);
        zz_view kc = zz_view_dense(dk, S, Hkv, D), vc = zz_view_dense(dv, S, Hkv, D);
        qv.data += p0 * qv.token_stride, ov.data += p0 * ov.token_stride;
        kc.data += p0 * kc.token_stride, vc.data += p0 * vc.token_stride;
        zz_view ring_k = zz_view_dense(rk, slots, Hkv, D), ring_v = zz_view_dense(rv, slots, Hkv, D);
        zz_view win_k = zz_view_dense(wk, slots + C, Hkv, D), win_v = zz_view_dense(wv, slots + C, Hkv, D);
        KERNEL_OK(zz_streaming_window(ring_k, ring_v, kc, vc, win_k, win_v, B, D, sink, recent, p0, len, 0));
        zz_prefill_args a = {qv, win_k, win_v, ov, B, D, len, cached, mask};
        KERNEL_OK(pv->run(&a, 0));
        KERNEL_OK(zz_cache_write(kc, vc, ring_k, ring_v, B, D, slots, sink, recent, p0, len, 0));

        bf16 *qc = malloc((size_t)B * len * qrow * 2), *kc_h = malloc((size_t)B * (p0 + len) * krow * 2),
             *vc_h = malloc((size_t)B * (p0 + len) * krow * 2);
        float *oc = malloc((size_t)B * len * qrow * sizeof *oc);
        for (int b = 0; b < B; b++) {
            memcpy(qc + b * len * qrow, q + ((long long)b * S + p0) * qrow, (size_t)len * qrow * 2);
            memcpy(kc_h + b * (p0 + len) * krow, k + (long long)b * S * krow, (size_t)(p0 + len) * krow * 2);
            memcpy(vc_h + b * (p0 + len) * krow, v + (long long)b * S * krow, (size_t)(p0 + len) * krow * 2);
        }
        ref_attention_prefill(&h, len, p0, mask, qc, kc_h, vc_h, oc);
        for (int b = 0; b < B; b++)
            memcpy(ref + ((long long)b * S + p0) * qrow, oc + b * len * qrow, (size_t)len * qrow * sizeof *oc);
        free(qc), free(kc_h), free(vc_h), free(oc);
    }
    float *out = to_host_floats(dout, nq);
    expect_close(out, ref, nq, "%s chunked streaming prefill via ring + window (C %d)", pv->name, C);
    free(q), free(k), free(v), free(ref), free(out);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(rk), cudaFree(rv), cudaFree(wk), cudaFree(wv);
}

/* ---- decode, variant one-launch: split-KV, combine and append in one kernel ---- */

static int one_launch_resident(int head_dim) {
    int resident = 0;
    KERNEL_OK(zz_decode_one_launch_resident(head_dim, &resident));
    assert_true(resident >= 1);
    return resident;
}

/* One-launch decode at pos against the reference. k, v: the cache of
 * `slots` slots a sequence as it was before pos (the token at pos not
 * stored yet); new_k, new_v: that token ([batch][kv heads][D]); splits 0:
 * the kernel's rule. On the device the slot the token goes to is NaN
 * before the launch: the kernel must take the newest key from new_k /
 * new_v, never from there. After the launch the whole cache must equal the
 * CPU's after ref_cache_update, bit for bit, and the output the reference
 * attention over that cache; every ticket must be back at 0. Launched a
 * second time on the same tickets, with the output poisoned in between, it
 * must do all of it again (a counter left behind would stop the combine). */
static void expect_one_launch(const zz_heads *h, int slots, int pos, zz_mask mask, int splits, const bf16 *q,
                              const bf16 *k, const bf16 *v, const bf16 *new_k, const bf16 *new_v, const char *what) {
    const int B = h->batch, Hq = h->q_heads, Hkv = h->kv_heads, D = h->head_dim;
    const int streaming = mask.kind == ZZ_MASK_STREAMING;
    const int sink = streaming ? mask.sink : 0, recent = streaming ? mask.recent : 0;
    const long long nq = (long long)B * Hq * D, ntok = (long long)B * Hkv * D, nkv = ntok * slots;
    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv), *dout = device_poisoned(nq);
    bf16 *dnk = to_device(new_k, ntok), *dnv = to_device(new_v, ntok);
    const size_t row = (size_t)Hkv * D * sizeof(bf16), pitch = row * (size_t)slots;
    const size_t at = row * (size_t)ref_cache_slot(sink, recent, pos);
    ZZ_CUDA_OR_EXIT(cudaMemset2D((char *)dk + at, pitch, 0xff, row, (size_t)B));
    ZZ_CUDA_OR_EXIT(cudaMemset2D((char *)dv + at, pitch, 0xff, row, (size_t)B));

    bf16 *k_after = malloc((size_t)nkv * sizeof *k_after), *v_after = malloc((size_t)nkv * sizeof *v_after);
    memcpy(k_after, k, (size_t)nkv * sizeof *k);
    memcpy(v_after, v, (size_t)nkv * sizeof *v);
    ref_cache_update(h, slots, sink, recent, pos, new_k, new_v, k_after, v_after);
    float *ref = malloc((size_t)nq * sizeof *ref);
    if (streaming)
        ref_attention_decode_streaming(h, sink, recent, pos, q, k_after, v_after, ref);
    else
        ref_attention_decode_full(h, slots, pos, q, k_after, v_after, ref);

    zz_decode_args a = {zz_view_dense(dq, 1, Hq, D), zz_view_dense(dk, slots, Hkv, D), zz_view_dense(dv, slots, Hkv, D),
                        zz_view_dense(dout, 1, Hq, D), B, D, pos, mask, splits};
    const int resident = one_launch_resident(D), used = zz_decode_one_launch_splits(&a, sm_count, resident);
    void *ws = NULL;
    int *tickets = NULL, *host_tickets = malloc(sizeof(int) * (size_t)(B * Hkv));
    ZZ_CUDA_OR_EXIT(cudaMalloc(&ws, zz_decode_one_launch_workspace_bytes(&a, sm_count, resident) + 16));
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&tickets, sizeof(int) * (size_t)(B * Hkv)));
    ZZ_CUDA_OR_EXIT(cudaMemset(tickets, 0, sizeof(int) * (size_t)(B * Hkv)));
    for (int launch = 1; launch <= 2; launch++) {
        if (launch == 2) ZZ_CUDA_OR_EXIT(cudaMemset(dout, 0xff, (size_t)nq * sizeof(bf16)));
        KERNEL_OK(zz_decode_one_launch(&a, zz_view_dense(dnk, 1, Hkv, D), zz_view_dense(dnv, 1, Hkv, D), ws, tickets,
                                       sm_count, resident, 0));
        float *out = to_host_floats(dout, nq);
        expect_close(out, ref, nq, "%s, %d splits, launch %d", what, used, launch);
        free(out);
        expect_caches_equal(dk, dv, k_after, v_after, nkv);
        ZZ_CUDA_OR_EXIT(cudaMemcpy(host_tickets, tickets, sizeof(int) * (size_t)(B * Hkv), cudaMemcpyDeviceToHost));
        for (int i = 0; i < B * Hkv; i++)
            if (host_tickets[i] != 0)
                fail_msg("%s: after launch %d the ticket of sequence %d, KV head %d is %d, not 0", what, launch,
                         i / Hkv, i % Hkv, host_tickets[i]);
    }
    free(k_after), free(v_after), free(ref), free(host_tickets);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dnk), cudaFree(dnv), cudaFree(ws);
    cudaFree(tickets);
}

/* Peaky queries for the cache as it will be after the append (rows aimed at
 * the newest key, the appended one, among others), or uniform ones. */
static bf16 *one_launch_queries(const zz_heads *h, int slots, int pos, zz_mask mask, const bf16 *k, const bf16 *new_k,
                                const bf16 *new_v, int peaky) {
    const long long nq = (long long)h->batch * h->q_heads * h->head_dim;
    bf16 *q = host_random(nq);
    if (!peaky) return q;
    const long long nkv = (long long)h->batch * slots * h->kv_heads * h->head_dim;
    bf16 *k_after = malloc((size_t)nkv * sizeof *k_after), *v_after = calloc((size_t)nkv, sizeof *v_after);
    memcpy(k_after, k, (size_t)nkv * sizeof *k);  /* only K aims the queries */
    const int streaming = mask.kind == ZZ_MASK_STREAMING;
    ref_cache_update(h, slots, streaming ? mask.sink : 0, streaming ? mask.recent : 0, pos, new_k, new_v, k_after,
                     v_after);
    ref_peaky_decode_queries(h, slots, pos, mask, k_after, q, &peaky_state);
    free(k_after), free(v_after);
    return q;
}

/* A full cache of capacity pos + 3 holding positions 0 .. pos-1; the
 * slots from pos + 1 on are NaN (a read past the newest key fails). */
static void check_one_launch_full(int B, int Hq, int Hkv, int D, int pos, int splits, int peaky) {
    const int slots = pos + 3;
    const long long ntok = (long long)B * Hkv * D, nkv = ntok * slots;
    bf16 *k = host_random(nkv), *v = host_random(nkv), *new_k = host_random(ntok), *new_v = host_random(ntok);
    for (int b = 0; b < B; b++)
        for (long long i = ((long long)b * slots + pos + 1) * Hkv * D; i < (long long)(b + 1) * slots * Hkv * D; i++)
            k[i] = v[i] = 0xffff;
    const zz_heads h = {B, Hq, Hkv, D};
    const zz_mask mask = {ZZ_MASK_FULL, 0, 0, 0};
    bf16 *q = one_launch_queries(&h, slots, pos, mask, k, new_k, new_v, peaky);
    char what[160];
    snprintf(what, sizeof what, "one-launch %s, full B%d pos%d Hq%d Hkv%d D%d", peaky ? "peaky" : "uniform", B, pos,
             Hq, Hkv, D);
    expect_one_launch(&h, slots, pos, mask, splits, q, k, v, new_k, new_v, what);
    free(q), free(k), free(v), free(new_k), free(new_v);
}

/* GQA groups 1, 4 and 7, B 1 and 5, S = pos + 1 odd and even, one split, a
 * forced 7 (the ticket and the combine) and the wave rule's (up to some 130
 * at B 1, S 40K: the combine over several rounds of 32 splits). */
static void test_one_launch_full(void **state) {
    (void)state;
    static const int positions[] = {0, 16, 128, 999, 40000};
    static const int groups[] = {1, 4, 7};
    for (int d = 64; d <= 128; d += 64)
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            for (int batch = 1; batch <= 5; batch += 4)
                for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
                    check_one_launch_full(batch, 2 * groups[g], 2, d, positions[i], 0, 1);
                    if (positions[i] > 999) continue;
                    check_one_launch_full(batch, 2 * groups[g], 2, d, positions[i], 1, 1);
                    check_one_launch_full(batch, 2 * groups[g], 2, d, positions[i], 7, 1);
                }
    check_one_launch_full(3, 8, 2, 128, 4095, 0, 0);     /* uniform inputs */
    check_one_launch_full(1, 4, 1, 128, 40000, 0, 1);    /* one KV head: the most splits of the rule */
    check_one_launch_full(1, 4, 1, 128, 40000, 1000, 1); /* a split per tile: 626 */
    check_one_launch_full(2, 16, 1, 128, 5000, 0, 1);    /* GQA group 16, the most a tile packs */
}

/* A sink + recent ring holding positions 0 .. pos-1 as the cache keeps them
 * (slots never written are NaN): before it fills, just full, just wrapped
 * and wrapped many times; one split (the rule's) and a forced 3 (the
 * ticket and the combine over a ring). */
static void check_one_launch_streaming(int B, int Hq, int Hkv, int D, int sink, int recent, int pos, int splits) {
    const int slots = sink + recent;
    const long long ntok = (long long)B * Hkv * D, nkv = ntok * slots;
    bf16 *k = malloc((size_t)nkv * sizeof *k), *v = malloc((size_t)nkv * sizeof *v);
    memset(k, 0xff, (size_t)nkv * sizeof *k);
    memset(v, 0xff, (size_t)nkv * sizeof *v);
    const zz_heads h = {B, Hq, Hkv, D};
    for (int p = 0; p < pos; p++) {
        if (p >= sink && p <= pos - 1 - recent) continue;  /* overwritten before pos */
        bf16 *nk = host_random(ntok), *nv = host_random(ntok);
        ref_cache_update(&h, slots, sink, recent, p, nk, nv, k, v);
        free(nk), free(nv);
    }
    bf16 *new_k = host_random(ntok), *new_v = host_random(ntok);
    const zz_mask mask = {ZZ_MASK_STREAMING, sink, recent, 0};
    bf16 *q = one_launch_queries(&h, slots, pos, mask, k, new_k, new_v, 1);
    char what[160];
    snprintf(what, sizeof what, "one-launch peaky, streaming B%d pos%d sink%d recent%d Hq%d Hkv%d D%d", B, pos, sink,
             recent, Hq, Hkv, D);
    expect_one_launch(&h, slots, pos, mask, splits, q, k, v, new_k, new_v, what);
    free(q), free(k), free(v), free(new_k), free(new_v);
}

static void test_one_launch_streaming(void **state) {
    (void)state;
    static const struct { int sink, recent, pos; } cases[] = {{4, 60, 30},    {4, 60, 63},    {4, 60, 64},
                                                             {4, 60, 1000},  {128, 256, 200}, {128, 256, 383},
                                                             {128, 256, 384}, {128, 256, 4096}};
    static const int groups[] = {1, 4, 7};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int d = 64; d <= 128; d += 64)
            for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
                for (int batch = 1; batch <= 5; batch += 4)
                    for (int splits = 0; splits <= 3; splits += 3)
                        check_one_launch_streaming(batch, 2 * groups[g], 2, d, cases[c].sink, cases[c].recent,
                                                   cases[c].pos, splits);
}

/* The rule's split counts as the kernel runs them: a streaming window and
 * a long full cache in whole waves of the blocks it keeps resident. */
static void test_one_launch_splits(void **state) {
    (void)state;
    for (int d = 64; d <= 128; d += 64) {
        const int resident = one_launch_resident(d);
        zz_decode_args a = {0};
        a.batch = 1, a.head_dim = d, a.pos = 131072, a.q.heads = 16, a.k.heads = 4;
        a.mask = (zz_mask){ZZ_MASK_STREAMING, 128, 256, 0};
        const int window_splits = zz_decode_one_launch_splits(&a, sm_count, resident);
        assert_int_equal(window_splits, zz_decode_wave_splits(sm_count, resident, 4, 384));
        assert_int_equal(window_splits, 6); /* one 64-key tile each: 24 blocks leave the GPU idle anyway */
        assert_int_equal(zz_decode_one_launch_workspace_bytes(&a, sm_count, resident),
                         (size_t)16 * window_splits * (d + 1) * sizeof(float));
        a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
        const int splits = zz_decode_one_launch_splits(&a, sm_count, resident);
        assert_int_equal(splits, zz_decode_wave_splits(sm_count, resident, 4, 131073));
        const long long blocks = 4LL * splits, slots = (long long)sm_count * resident;
        print_message("  D %d: %d blocks resident per SM; B 1, 4 KV heads, S 128K: %d splits, %lld blocks, %.2f "
                      "waves\n", d, resident, splits, blocks, (double)blocks / slots);
        assert_true(blocks >= 0.95 * slots);
        a.num_splits = 5;
        assert_int_equal(zz_decode_one_launch_splits(&a, sm_count, resident), 5);
    }
}

/* Refused with a message, nothing launched. */
static void test_one_launch_bad_arguments(void **state) {
    (void)state;
    const int B = 1, Hkv = 2, D = 64, slots = 4096;
    bf16 *cache = device_poisoned((long long)B * slots * Hkv * D), *x = device_poisoned(1 << 12);
    zz_decode_args a = {zz_view_dense(x, 1, 4, D), zz_view_dense(cache, slots, Hkv, D),
                        zz_view_dense(cache, slots, Hkv, D), zz_view_dense(x, 1, 4, D), B, D, slots - 1,
                        {ZZ_MASK_FULL, 0, 0, 0}, 4};
    zz_view nk = zz_view_dense(x, 1, Hkv, D);
    assert_int_equal(zz_decode_one_launch(&a, nk, nk, NULL, NULL, sm_count, 1, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "needs a workspace and tickets"));
    zz_view wrong = zz_view_dense(x, 1, 1, D);
    assert_int_equal(zz_decode_one_launch(&a, wrong, nk, x, (int *)x, sm_count, 1, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "new token"));
    assert_int_equal(zz_decode_one_launch(&a, nk, nk, x, (int *)x, sm_count, 0, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "resident 0"));
    int resident = 0;
    assert_int_equal(zz_decode_one_launch_resident(96, &resident), ZZ_BAD_ARGUMENT);
    ZZ_CUDA_OR_EXIT(cudaDeviceSynchronize());
    cudaFree(cache), cudaFree(x);
}

/* ---- duo-fused decode: both head kinds of a mixed layer in one launch ---- */

/* Host copy of heads `index[0..count)` (each `width` elements) of every token. */
static bf16 *host_gather(const bf16 *x, long long tokens, int heads, int width, const int *index, int count) {
    bf16 *y = malloc((size_t)tokens * count * width * 2);
    for (long long t = 0; t < tokens; t++)
        for (int i = 0; i < count; i++)
            memcpy(y + (t * count + i) * width, x + (t * heads + index[i]) * width, (size_t)width * 2);
    return y;
}

/* y's heads index[i] (each `width` values) = x's head i, for every token. */
static void host_scatter_floats(float *y, const float *x, long long tokens, int heads, int width, const int *index,
                                int count) {
    for (long long t = 0; t < tokens; t++)
        for (int i = 0; i < count; i++)
            memcpy(y + (t * heads + index[i]) * width, x + (t * count + i) * width, sizeof(float) * (size_t)width);
}
static void host_scatter_bf16(bf16 *y, const bf16 *x, long long tokens, int heads, int width, const int *index,
                              int count) {
    for (long long t = 0; t < tokens; t++)
        for (int i = 0; i < count; i++)
            memcpy(y + (t * heads + index[i]) * width, x + (t * count + i) * width, sizeof(bf16) * (size_t)width);
}

/* One kind's share of a fused layer on the host: its cache (`slots` slots
 * of `heads` heads), before and after the append, its new token, its
 * peaky queries and the reference output. */
typedef struct {
    int heads, slots, sink, recent;
    zz_mask mask;
    bf16 *k, *v, *k_after, *v_after, *new_k, *new_v, *q;
    float *ref;
} fused_kind_host;

static void fused_kind_build(fused_kind_host *f, int B, int G, int D, int pos, const bf16 *new_k, const bf16 *new_v,
                             int Hkv, const int *index) {
    if (!f->heads) return;
    const zz_heads h = {B, f->heads * G, f->heads, D};
    const long long nkv = (long long)B * f->slots * f->heads * D;
    f->k = host_random(nkv), f->v = host_random(nkv);
    if (f->mask.kind == ZZ_MASK_FULL)  /* slots past pos are NaN: a read past the newest key fails */
        for (int b = 0; b < B; b++)
            for (long long i = ((long long)b * f->slots + pos + 1) * f->heads * D;
                 i < (long long)(b + 1) * f->slots * f->heads * D; i++)
                f->k[i] = f->v[i] = 0xffff;
    f->new_k = host_gather(new_k, B, Hkv, D, index, f->heads);
    f->new_v = host_gather(new_v, B, Hkv, D, index, f->heads);
    f->k_after = malloc((size_t)nkv * sizeof(bf16)), f->v_after = malloc((size_t)nkv * sizeof(bf16));
    memcpy(f->k_after, f->k, (size_t)nkv * sizeof(bf16));
    memcpy(f->v_after, f->v, (size_t)nkv * sizeof(bf16));
    ref_cache_update(&h, f->slots, f->sink, f->recent, pos, f->new_k, f->new_v, f->k_after, f->v_after);
    f->q = host_random((long long)B * f->heads * G * D);
    ref_peaky_decode_queries(&h, f->slots, pos, f->mask, f->k_after, f->q, &peaky_state);
    f->ref = malloc(sizeof(float) * (size_t)B * f->heads * G * D);
    if (f->mask.kind == ZZ_MASK_FULL)
        ref_attention_decode_full(&h, f->slots, pos, f->q, f->k_after, f->v_after, f->ref);
    else
        ref_attention_decode_streaming(&h, f->sink, f->recent, pos, f->q, f->k_after, f->v_after, f->ref);
}

static void fused_kind_free(fused_kind_host *f) {
    free(f->k), free(f->v), free(f->k_after), free(f->v_after), free(f->new_k), free(f->new_v), free(f->q);
    free(f->ref);
}

/* A cache on the device with the appended token's slot NaN (the kernel
 * must store it there before any block reads it). */
static bf16 *fused_device_cache(const fused_kind_host *f, const bf16 *host, int B, int D, int pos) {
    if (!f->heads) return device_poisoned(8);
    const long long n = (long long)B * f->slots * f->heads * D;
    bf16 *d = to_device(host, n);
    const size_t row = (size_t)f->heads * D * sizeof(bf16), pitch = row * (size_t)f->slots;
    ZZ_CUDA_OR_EXIT(cudaMemset2D((char *)d + row * (size_t)ref_cache_slot(f->sink, f->recent, pos), pitch, 0xff, row,
                                 (size_t)B));
    return d;
}

/* zz_decode_fused on a layer of Hkv KV heads, group G: KV heads order[0..r)
 * retrieval (a full cache of pos + 3 slots holding positions 0..pos-1),
 * the rest streaming (a sink + recent ring). Its output in model order must
 * equal the per-kind reference, both caches the CPU's after the append bit
 * for bit, every ticket 0 after each of two launches on the same tickets;
 * splits_f, splits_s forced when both > 0. */
static void check_fused_decode(int B, int G, int Hkv, int D, const int *order, int r, int sink, int recent, int pos,
                               int splits_f, int splits_s) {
    const int Hq = Hkv * G, s = Hkv - r;
    const long long nq = (long long)B * Hq * D, ntok = (long long)B * Hkv * D;
    bf16 *new_k = host_random(ntok), *new_v = host_random(ntok);
    fused_kind_host full = {.heads = r, .slots = pos + 3, .mask = {ZZ_MASK_FULL, 0, 0, 0}};
    fused_kind_host ring = {.heads = s, .slots = sink + recent, .sink = sink, .recent = recent,
                            .mask = {ZZ_MASK_STREAMING, sink, recent, 0}};
    fused_kind_build(&full, B, G, D, pos, new_k, new_v, Hkv, order);
    fused_kind_build(&ring, B, G, D, pos, new_k, new_v, Hkv, order + r);
    bf16 *q = host_random(nq);
    float *ref = malloc(sizeof(float) * (size_t)nq);
    if (r) host_scatter_bf16(q, full.q, B, Hkv, G * D, order, r), host_scatter_floats(ref, full.ref, B, Hkv, G * D, order, r);
    if (s)
        host_scatter_bf16(q, ring.q, B, Hkv, G * D, order + r, s),
            host_scatter_floats(ref, ring.ref, B, Hkv, G * D, order + r, s);

    bf16 *dq = to_device(q, nq), *dout = device_poisoned(nq), *dnk = to_device(new_k, ntok), *dnv = to_device(new_v, ntok);
    bf16 *dkf = fused_device_cache(&full, full.k, B, D, pos), *dvf = fused_device_cache(&full, full.v, B, D, pos);
    bf16 *dkr = fused_device_cache(&ring, ring.k, B, D, pos), *dvr = fused_device_cache(&ring, ring.v, B, D, pos);
    zz_decode_fused_args a = {0};
    a.q = zz_view_dense(dq, 1, Hq, D), a.o = zz_view_dense(dout, 1, Hq, D);
    a.new_k = zz_view_dense(dnk, 1, Hkv, D), a.new_v = zz_view_dense(dnv, 1, Hkv, D);
    a.k_full = zz_view_dense(dkf, full.slots, r ? r : 1, D), a.v_full = zz_view_dense(dvf, full.slots, r ? r : 1, D);
    a.k_ring = zz_view_dense(dkr, ring.slots, s ? s : 1, D), a.v_ring = zz_view_dense(dvr, ring.slots, s ? s : 1, D);
    a.batch = B, a.head_dim = D, a.pos = pos, a.sink = sink, a.recent = recent;
    a.heads.kv_heads = Hkv, a.heads.retrieval = r;
    for (int h = 0; h < Hkv; h++) a.heads.order[h] = (unsigned char)order[h];
    a.splits_full = splits_f, a.splits_streaming = splits_s;
    const int resident = one_launch_resident(D);
    void *ws = NULL;
    int *tickets = NULL, *host_tickets = malloc(sizeof(int) * (size_t)(B * Hkv));
    ZZ_CUDA_OR_EXIT(cudaMalloc(&ws, zz_decode_fused_workspace_bytes(&a, sm_count, resident) + 16));
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&tickets, sizeof(int) * (size_t)(B * Hkv)));
    ZZ_CUDA_OR_EXIT(cudaMemset(tickets, 0, sizeof(int) * (size_t)(B * Hkv)));
    char what[200];
    snprintf(what, sizeof what, "duo-fused decode B%d G%d Hkv%d (%d retrieval, first %d) D%d sink%d recent%d pos%d, "
             "splits %d/%d", B, G, Hkv, r, order[0], D, sink, recent, pos, splits_f, splits_s);
    for (int launch = 1; launch <= 2; launch++) {
        if (launch == 2) ZZ_CUDA_OR_EXIT(cudaMemset(dout, 0xff, (size_t)nq * sizeof(bf16)));
        KERNEL_OK(zz_decode_fused(&a, ws, tickets, sm_count, resident, 0));
        float *out = to_host_floats(dout, nq);
        expect_close(out, ref, nq, "%s, launch %d", what, launch);
        free(out);
        if (r) expect_caches_equal(dkf, dvf, full.k_after, full.v_after, (long long)B * full.slots * r * D);
        if (s) expect_caches_equal(dkr, dvr, ring.k_after, ring.v_after, (long long)B * ring.slots * s * D);
        ZZ_CUDA_OR_EXIT(cudaMemcpy(host_tickets, tickets, sizeof(int) * (size_t)(B * Hkv), cudaMemcpyDeviceToHost));
        for (int i = 0; i < B * Hkv; i++)
            if (host_tickets[i] != 0) fail_msg("%s: ticket %d is %d after launch %d", what, i, host_tickets[i], launch);
    }
    fused_kind_free(&full), fused_kind_free(&ring);
    free(q), free(ref), free(new_k), free(new_v), free(host_tickets);
    cudaFree(dq), cudaFree(dout), cudaFree(dnk), cudaFree(dnv), cudaFree(dkf), cudaFree(dvf), cudaFree(dkr);
    cudaFree(dvr), cudaFree(ws), cudaFree(tickets);
}

/* GQA groups 1, 4, 7; B 1 and 3; D 64 and 128; head tables with 0, 1, all
 * but one and all heads retrieval, in a shuffled order; the ring before and
 * after it wraps; the rule's splits and forced ones; a long cache. */
static void test_fused_decode(void **state) {
    (void)state;
    static const int order[5] = {3, 0, 4, 1, 2};
    static const int retrieval[] = {0, 1, 4, 5, 2};
    static const int groups[] = {1, 4, 7};
    static const struct { int sink, recent, pos; } cases[] = {{4, 60, 30}, {4, 60, 64}, {4, 60, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            for (size_t r = 0; r < sizeof retrieval / sizeof retrieval[0]; r++)
                for (int d = 64; d <= 128; d += 64)
                    for (int batch = 1; batch <= 3; batch += 2)
                        check_fused_decode(batch, groups[g], 5, d, order, retrieval[r], cases[c].sink,
                                           cases[c].recent, cases[c].pos, r == 4 ? 3 : 0, r == 4 ? 2 : 0);
    check_fused_decode(2, 4, 5, 128, order, 2, 128, 256, 40000, 0, 0);
}

/* Refused with a message: a head table that is not a permutation, too
 * many retrieval heads, a cache of the wrong head count. */
static void test_fused_decode_bad_arguments(void **state) {
    (void)state;
    const int B = 1, Hkv = 4, D = 64, G = 2;
    bf16 *x = device_poisoned(1 << 16);
    zz_decode_fused_args a = {0};
    a.q = a.o = zz_view_dense(x, 1, Hkv * G, D);
    a.new_k = a.new_v = zz_view_dense(x, 1, Hkv, D);
    a.k_full = a.v_full = zz_view_dense(x, 64, 2, D);
    a.k_ring = a.v_ring = zz_view_dense(x, 12, 2, D);
    a.batch = B, a.head_dim = D, a.pos = 20, a.sink = 4, a.recent = 8;
    a.heads.kv_heads = Hkv, a.heads.retrieval = 2;
    const unsigned char twice[4] = {0, 1, 1, 3};
    memcpy(a.heads.order, twice, 4);
    assert_int_equal(zz_decode_fused(&a, x, (int *)x, sm_count, 2, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "not a new head"));
    const unsigned char perm[4] = {2, 0, 3, 1};
    memcpy(a.heads.order, perm, 4);
    a.heads.retrieval = 5;
    assert_int_equal(zz_decode_fused(&a, x, (int *)x, sm_count, 2, 0), ZZ_BAD_ARGUMENT);
    a.heads.retrieval = 3;
    assert_int_equal(zz_decode_fused(&a, x, (int *)x, sm_count, 2, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "retrieval cache"));
    cudaFree(x);
}

/* ---- layouts: one mixed layer run four ways equals the per-head reference ---- */

static void test_layouts_agree(void **state) {
    (void)state;
    /* 6 KV heads, group 2; retrieval = KV heads 0, 3, 4 (not contiguous). */
    const int B = 2, S = 333, Hkv = 6, G = 2, Hq = Hkv * G, D = 128;
    const int retrieval[6] = {1, 0, 0, 1, 1, 0};
    const zz_mask full = {ZZ_MASK_FULL, 0, 0, 0}, stream = {ZZ_MASK_STREAMING, 8, 48, 0};
    long long nq = (long long)B * S * Hq * D, nkv = (long long)B * S * Hkv * D;
    bf16 *q = host_random(nq), *k = host_random(nkv), *v = host_random(nkv);
    zz_heads h = {B, Hq, Hkv, D};
    zz_mask masks[6];
    for (int g = 0; g < Hkv; g++) masks[g] = retrieval[g] ? full : stream;
    float *ref = malloc((size_t)nq * sizeof *ref);
    ref_attention_prefill_mixed(&h, S, 0, masks, q, k, v, ref);

    /* Head orders: KV heads retrieval first (DuoAttention's reorder at load),
     * and the query heads that follow them. */
    int kv_order[6], q_order[12], nr = 0;
    for (int pass = 1; pass >= 0; pass--)
        for (int g = 0; g < Hkv; g++)
            if (retrieval[g] == pass) kv_order[nr++] = g;
    for (int i = 0; i < Hkv; i++)
        for (int j = 0; j < G; j++) q_order[i * G + j] = kv_order[i] * G + j;
    const int Kr = 3, Qr = Kr * G, Ks = Hkv - Kr, Qs = Hq - Qr;
    float *ref_reordered = malloc((size_t)nq * sizeof *ref);
    for (long long t = 0; t < (long long)B * S; t++)
        for (int i = 0; i < Hq; i++)
            memcpy(ref_reordered + (t * Hq + i) * D, ref + (t * Hq + q_order[i]) * D, D * sizeof(float));

    bf16 *dq = to_device(q, nq), *dk = to_device(k, nkv), *dv = to_device(v, nkv);
    /* Reordered copies, as the weights would be after reorder_linear_weights. */
    bf16 *qr = host_gather(q, (long long)B * S, Hq, D, q_order, Hq), *kr = host_gather(k, (long long)B * S, Hkv, D, kv_order, Hkv),
         *vr = host_gather(v, (long long)B * S, Hkv, D, kv_order, Hkv);
    bf16 *dqr = to_device(qr, nq), *dkr = to_device(kr, nkv), *dvr = to_device(vr, nkv);
    zz_view Q = zz_view_dense(dqr, S, Hq, D), K = zz_view_dense(dkr, S, Hkv, D), V = zz_view_dense(dvr, S, Hkv, D);

    /* duo-slices: two launches straight into slices of one output. */
    bf16 *dout = device_poisoned(nq);
    zz_view O = zz_view_dense(dout, S, Hq, D);
    zz_prefill_args ra = {zz_view_heads(Q, 0, Qr, D), zz_view_heads(K, 0, Kr, D), zz_view_heads(V, 0, Kr, D),
                          zz_view_heads(O, 0, Qr, D), B, D, S, 0, full};
    zz_prefill_args sa = {zz_view_heads(Q, Qr, Qs, D), zz_view_heads(K, Kr, Ks, D), zz_view_heads(V, Kr, Ks, D),
                          zz_view_heads(O, Qr, Qs, D), B, D, S, 0, stream};
    KERNEL_OK(zz_prefill_attention(&ra, 0));
    KERNEL_OK(zz_prefill_attention(&sa, 0));
    float *out = to_host_floats(dout, nq);
    expect_close(out, ref_reordered, nq, "layout duo-slices = per-head reference");
    free(out);

    /* duo-cat: separate outputs per group, then the join copy. */
    bf16 *o_r = device_poisoned((long long)B * S * Qr * D), *o_s = device_poisoned((long long)B * S * Qs * D);
    ZZ_CUDA_OR_EXIT(cudaMemset(dout, 0xff, (size_t)nq * 2));
    ra.o = zz_view_dense(o_r, S, Qr, D);
    sa.o = zz_view_dense(o_s, S, Qs, D);
    KERNEL_OK(zz_prefill_attention(&ra, 0));
    KERNEL_OK(zz_prefill_attention(&sa, 0));
    KERNEL_OK(zz_concat_heads(ra.o, sa.o, O, B, S, D, 0));
    out = to_host_floats(dout, nq);
    expect_close(out, ref_reordered, nq, "layout duo-cat = per-head reference");
    free(out);

    /* duo-gather: model order kept; gather each group's heads by index, run,
     * scatter the outputs back. */
    int *d_qidx, *d_kvidx;
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&d_qidx, sizeof q_order));
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&d_kvidx, sizeof kv_order));
    ZZ_CUDA_OR_EXIT(cudaMemcpy(d_qidx, q_order, sizeof q_order, cudaMemcpyHostToDevice));
    ZZ_CUDA_OR_EXIT(cudaMemcpy(d_kvidx, kv_order, sizeof kv_order, cudaMemcpyHostToDevice));
    bf16 *gq = device_poisoned(nq), *gk = device_poisoned(nkv), *gv = device_poisoned(nkv), *go = device_poisoned(nq);
    zz_view GQ = zz_view_dense(gq, S, Hq, D), GK = zz_view_dense(gk, S, Hkv, D), GV = zz_view_dense(gv, S, Hkv, D),
            GO = zz_view_dense(go, S, Hq, D), MO = zz_view_dense(dout, S, Hq, D);
    ZZ_CUDA_OR_EXIT(cudaMemset(dout, 0xff, (size_t)nq * 2));
    for (int grp = 0; grp < 2; grp++) {
        int q0 = grp ? Qr : 0, nqh = grp ? Qs : Qr, k0 = grp ? Kr : 0, nkh = grp ? Ks : Kr;
        zz_view gq_v = zz_view_heads(GQ, 0, nqh, D), gk_v = zz_view_heads(GK, 0, nkh, D),
                gv_v = zz_view_heads(GV, 0, nkh, D), go_v = zz_view_heads(GO, 0, nqh, D);
        KERNEL_OK(zz_gather_heads(zz_view_dense(dq, S, Hq, D), d_qidx + q0, nqh, gq_v, B, S, D, 0));
        KERNEL_OK(zz_gather_heads(zz_view_dense(dk, S, Hkv, D), d_kvidx + k0, nkh, gk_v, B, S, D, 0));
        KERNEL_OK(zz_gather_heads(zz_view_dense(dv, S, Hkv, D), d_kvidx + k0, nkh, gv_v, B, S, D, 0));
        zz_prefill_args ga = {gq_v, gk_v, gv_v, go_v, B, D, S, 0, grp ? stream : full};
        KERNEL_OK(zz_prefill_attention(&ga, 0));
        KERNEL_OK(zz_scatter_heads(go_v, d_qidx + q0, nqh, MO, B, S, D, 0));
    }
    out = to_host_floats(dout, nq);
    expect_close(out, ref, nq, "layout duo-gather = per-head reference");
    free(out);

    /* zigzag: the layer is exclusive, one launch over all heads. */
    for (int kind = 0; kind < 2; kind++) {
        zz_mask all[6];
        for (int g = 0; g < Hkv; g++) all[g] = kind ? stream : full;
        ref_attention_prefill_mixed(&h, S, 0, all, q, k, v, ref);
        ZZ_CUDA_OR_EXIT(cudaMemset(dout, 0xff, (size_t)nq * 2));
        zz_prefill_args za = {zz_view_dense(dq, S, Hq, D), zz_view_dense(dk, S, Hkv, D), zz_view_dense(dv, S, Hkv, D),
                              MO, B, D, S, 0, all[0]};
        KERNEL_OK(zz_prefill_attention(&za, 0));
        out = to_host_floats(dout, nq);
        expect_close(out, ref, nq, "layout zigzag (%s layer) = per-head reference", kind ? "streaming" : "full");
        free(out);
    }

    free(q), free(k), free(v), free(ref), free(ref_reordered), free(qr), free(kr), free(vr);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dqr), cudaFree(dkr), cudaFree(dvr), cudaFree(dout);
    cudaFree(o_r), cudaFree(o_s), cudaFree(d_qidx), cudaFree(d_kvidx);
    cudaFree(gq), cudaFree(gk), cudaFree(gv), cudaFree(go);
}

/* ---- argument checks: refused with a message, nothing launched ---- */

static void test_bad_arguments(void **state) {
    const prefill_variant *pv = variant_of(state);
    bf16 *d = device_poisoned(1 << 16);
    zz_view x = zz_view_dense(d, 16, 4, 64);
    zz_prefill_args a = {x, x, x, x, 1, 64, 16, 0, {ZZ_MASK_FULL, 0, 0, 0}};
    a.head_dim = 96;
    assert_int_equal(pv->run(&a, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "head_dim 96"));
    a.head_dim = 64;
    a.k = zz_view_dense(d, 16, 3, 64);
    a.v = a.k;
    assert_int_equal(pv->run(&a, 0), ZZ_BAD_ARGUMENT);
    a.k = a.v = x;
    a.mask = (zz_mask){ZZ_MASK_STREAMING, 4, 0, 0};
    assert_int_equal(pv->run(&a, 0), ZZ_BAD_ARGUMENT);
    assert_non_null(strstr(zz_kernel_error(), "recent"));
    a.mask.recent = 8;
    a.q.data += 1; /* misaligned */
    assert_int_equal(pv->run(&a, 0), ZZ_BAD_ARGUMENT);
    a.q.data -= 1;
    assert_int_equal(pv->run(&a, 0), ZZ_OK);
    ZZ_CUDA_OR_EXIT(cudaDeviceSynchronize());
    cudaFree(d);
}

/* An optional argument selects tests by name (cmocka's filter, '*' wildcards),
 * e.g. to run a subset under compute-sanitizer's slower tools. */
int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    ZZ_CUDA_OR_EXIT(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
    if (zz_prefill_hopper_supported(&hopper_supported) != ZZ_OK) {
        fprintf(stderr, "test_kernels: %s\n", zz_kernel_error());
        return 1;
    }
    /* Each prefill test once per variant: name/fa2, name/wgmma-tma. */
#define PER_PREFILL_VARIANT(f) {#f "/fa2", f, NULL, NULL, &fa2}, {#f "/wgmma-tma", f, NULL, NULL, &wgmma_tma}
    const struct CMUnitTest tests[] = {
        PER_PREFILL_VARIANT(test_bad_arguments),
        cmocka_unit_test(test_prefill_hopper_refused),
        cmocka_unit_test(test_cache_update),
        cmocka_unit_test(test_cache_write_chunks),
        PER_PREFILL_VARIANT(test_streaming_chunks_through_ring),
        PER_PREFILL_VARIANT(test_prefill_against_reference),
        PER_PREFILL_VARIANT(test_prefill_chunked),
        PER_PREFILL_VARIANT(test_prefill_long),
        PER_PREFILL_VARIANT(test_prefill_peaky),
        {"test_prefill_hopper_slices/wgmma-tma", test_prefill_hopper_slices, NULL, NULL, &wgmma_tma},
        cmocka_unit_test(test_decode_full),
        cmocka_unit_test(test_decode_full_peaky),
        cmocka_unit_test(test_decode_streaming),
        cmocka_unit_test(test_decode_streaming_peaky),
        cmocka_unit_test(test_decode_equals_last_prefill_row),
        cmocka_unit_test(test_one_launch_bad_arguments),
        cmocka_unit_test(test_fused_decode),
        cmocka_unit_test(test_fused_decode_bad_arguments),
        cmocka_unit_test(test_one_launch_splits),
        cmocka_unit_test(test_one_launch_full),
        cmocka_unit_test(test_one_launch_streaming),
        cmocka_unit_test(test_layouts_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
