/* GPU tests of zz_prefill_fused (kernels/prefill.cu) and
 * zz_prefill_fused_hopper (kernels/prefill_hopper.cu): a mixed layer's
 * prefill attention in one launch, every KV head in its own mode. Every
 * test runs once per prefill variant (harness/plan/variants.h), named
 * test/fa2 and test/wgmma-tma, the wgmma-tma ones skipped on a GPU that
 * cannot run them (as tests/gpu/test_kernels.c's prefill tests).
 *
 * Each case builds one layer's inputs in the model's head order and, for a
 * chunked prefill, the caches the executor keeps (harness/run/executor.c):
 * the retrieval heads' full cache (cache head i = model KV head order[i]),
 * and the streaming heads' sink + recent ring, from which
 * zz_streaming_window builds the chunk's key window. It then requires
 *   - per KV head, the output of its query heads within REF_ERROR_BOUND of
 *     the CPU reference with that head's mask (ref_attention_prefill_mixed:
 *     full causal, or sink + band; chunked: DuoAttention's chunk mask);
 *   - the whole output bit for bit equal to the same variant's prefill
 *     (zz_prefill_attention, zz_prefill_attention_hopper) launched on each
 *     KV head alone (a zz_view_heads slice, as the layout duo-slices
 *     launches its groups), with that head's keys, mask and q_pos0: each
 *     fused kernel runs the blocks of its variant's plain kernel.
 * Outputs start NaN-poisoned, so an unwritten element fails. Queries are
 * peaky (ref_peaky_prefill_queries: logits spread up to about +-25, rows
 * aimed at the newest key, the band's edges or the masked key just outside
 * it), so a wrong softmax scale, a dropped key, another head's keys or
 * mask, or a wrong q_pos0 fail the bound (tests/test_reference.c,
 * test_peaky_separates_bugs). Run with `make test-gpu`; CI only compiles
 * this file.
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

static uint64_t peaky_state = 0xf05ed;

/* A prefill variant as these tests call it: its fused launcher and the
 * plain one the separate launches use (the cmocka state of each test). */
typedef struct {
    const char *name;
    int (*fused)(const zz_prefill_fused_args *args, cudaStream_t stream);
    int (*separate)(const zz_prefill_args *args, cudaStream_t stream);
} prefill_variant;
static prefill_variant fa2 = {"fa2", zz_prefill_fused, zz_prefill_attention},
                       wgmma_tma = {"wgmma-tma", zz_prefill_fused_hopper, zz_prefill_attention_hopper};
static int hopper_supported;

/* The test's variant; skips the test where the GPU cannot run it. */
static const prefill_variant *variant_of(void **state) {
    const prefill_variant *v = *state;
    SKIP_WGMMA_TMA_UNLESS(v == &wgmma_tma, hopper_supported);
    return v;
}

/* ---- host buffers (the shared ones: buffers.h) ---- */

/* n bf16 NaNs (all bytes 0xff). */
static bf16 *host_nan(long long n) {
    bf16 *x = malloc((size_t)n * sizeof *x);
    memset(x, 0xff, (size_t)n * sizeof *x);
    return x;
}

/* Heads index[0..count) (each head_dim wide) of `tokens` tokens of every
 * sequence of x ([batch][seq][heads][head_dim]), positions first .. first +
 * tokens - 1, into a dense [batch][tokens][count][head_dim] array. */
static bf16 *host_heads(const bf16 *x, int batch, int seq, int heads, int head_dim, int first, int tokens,
                        const unsigned char *index, int count) {
    bf16 *y = malloc((size_t)batch * tokens * count * head_dim * sizeof *y);
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < count; i++)
                memcpy(y + (((size_t)b * tokens + t) * count + i) * head_dim,
                       x + (((size_t)b * seq + first + t) * heads + index[i]) * head_dim, (size_t)head_dim * 2);
    return y;
}

/* ---- one mixed layer ---- */

typedef struct {
    int batch, kv_heads, group, head_dim;
    int pos0, len;       /* queries at positions pos0 .. pos0 + len - 1 */
    int retrieval;       /* KV heads in full mode */
    int shuffled;        /* 0: the retrieval heads are model heads 0 .. retrieval-1, in order */
    int chunked;         /* 0: single shot (keys_model_order 1); 1: caches and a window */
    int sink, recent;
} fused_case;

/* The head modes: identity, or a seeded shuffle that is not the identity. */
static zz_head_modes head_modes(const fused_case *c) {
    zz_head_modes m;
    memset(&m, 0, sizeof m);
    m.kv_heads = c->kv_heads, m.retrieval = c->retrieval;
    for (int i = 0; i < c->kv_heads; i++) m.order[i] = (unsigned char)i;
    if (c->shuffled && c->kv_heads > 1) {
        unsigned long long s = 0x0dde5eedULL + (unsigned long long)c->kv_heads * 131 + (unsigned long long)c->retrieval;
        for (int i = c->kv_heads - 1; i > 0; i--) {
            int j = (int)(splitmix(&s) % (unsigned long long)(i + 1));
            unsigned char t = m.order[i];
            m.order[i] = m.order[j], m.order[j] = t;
        }
        int identity = 1;
        for (int i = 0; i < c->kv_heads; i++) identity &= m.order[i] == i;
        if (identity) m.order[0] = 1, m.order[1] = 0;
    }
    return m;
}

/* The relative error of the outputs of KV head g's query heads. */
static double head_error(const float *out, const float *ref, long long rows, int q_heads, int group, int D, int g) {
    long long n = rows * group * D;
    float *a = malloc((size_t)n * sizeof *a), *r = malloc((size_t)n * sizeof *r);
    for (long long t = 0; t < rows; t++) {
        memcpy(a + t * group * D, out + (t * q_heads + (long long)g * group) * D, (size_t)group * D * sizeof *a);
        memcpy(r + t * group * D, ref + (t * q_heads + (long long)g * group) * D, (size_t)group * D * sizeof *r);
    }
    double e = ref_relative_error(a, r, n);
    free(a), free(r);
    return e;
}

static void check_fused(const prefill_variant *variant, const fused_case *c) {
    const int B = c->batch, Hkv = c->kv_heads, G = c->group, Hq = Hkv * G, D = c->head_dim;
    const int P = c->pos0, L = c->len, T = P + L, R = c->retrieval, S = Hkv - R;
    const int slots = c->sink + c->recent;
    const zz_mask full = {ZZ_MASK_FULL, 0, 0, 0};
    const zz_mask band = {ZZ_MASK_STREAMING, c->sink, c->recent, 0};
    const zz_mask stream = {ZZ_MASK_STREAMING, c->sink, c->recent, c->chunked};
    const zz_head_modes modes = head_modes(c);
    const zz_heads h = {B, Hq, Hkv, D};
    char what[200];
    snprintf(what, sizeof what, "%s: %s B%d Hkv%d G%d D%d pos0 %d len %d, %d retrieval%s, sink %d recent %d",
             variant->name, c->chunked ? "chunked" : "single shot", B, Hkv, G, D, P, L, R,
             c->shuffled ? " (shuffled)" : "", c->sink, c->recent);

    /* KV head g's mode, and its index within its kind. */
    int retrieval_head[ZZ_FUSED_MAX_KV_HEADS], kind_index[ZZ_FUSED_MAX_KV_HEADS];
    for (int i = 0; i < Hkv; i++) {
        retrieval_head[modes.order[i]] = i < R;
        kind_index[modes.order[i]] = i < R ? i : i - R;
    }

    /* All T positions' K, V and queries, in model order; each head's query
     * rows peaky for its own mask (a chunked band's too: every key they aim
     * at is a sink, in the band, or the newest). The chunk is rows P.. */
    const long long qrow = (long long)Hq * D, krow = (long long)Hkv * D;
    bf16 *k = host_random(B * T * krow), *v = host_random(B * T * krow);
    bf16 *q_full = host_random(B * T * qrow), *q_band = malloc((size_t)(B * T * qrow) * sizeof *q_band);
    memcpy(q_band, q_full, (size_t)(B * T * qrow) * sizeof *q_band);
    ref_peaky_prefill_queries(&h, T, full, k, q_full, &peaky_state);
    ref_peaky_prefill_queries(&h, T, band, k, q_band, &peaky_state);
    bf16 *q = malloc((size_t)(B * L * qrow) * sizeof *q);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < L; t++)
            for (int hq = 0; hq < Hq; hq++) {
                const bf16 *src = retrieval_head[hq / G] ? q_full : q_band;
                memcpy(q + ((size_t)b * L + t) * qrow + (size_t)hq * D, src + ((size_t)b * T + P + t) * qrow + (size_t)hq * D,
                       (size_t)D * 2);
            }
    free(q_full), free(q_band);

    zz_mask masks[ZZ_FUSED_MAX_KV_HEADS];
    for (int g = 0; g < Hkv; g++) masks[g] = retrieval_head[g] ? full : stream;
    float *ref = malloc((size_t)(B * L * qrow) * sizeof *ref);
    ref_attention_prefill_mixed(&h, L, P, masks, q, k, v, ref);

    /* The device's inputs. */
    bf16 *dq = to_device(q, B * L * qrow), *dout = device_poisoned(B * L * qrow), *dsep = device_poisoned(B * L * qrow);
    bf16 *dk = NULL, *dv = NULL, *cache_k = NULL, *cache_v = NULL, *win_k = NULL, *win_v = NULL;
    zz_prefill_fused_args a;
    memset(&a, 0, sizeof a);
    a.q = zz_view_dense(dq, L, Hq, D), a.o = zz_view_dense(dout, L, Hq, D);
    a.batch = B, a.head_dim = D, a.q_len = L, a.q_pos0 = P;
    a.streaming = stream, a.heads = modes;
    if (!c->chunked) {
        dk = to_device(k, B * T * krow), dv = to_device(v, B * T * krow);
        a.k_full = zz_view_dense(dk, T, Hkv, D), a.v_full = zz_view_dense(dv, T, Hkv, D);
        a.q_pos0_stream = -1; /* not read */
        a.keys_model_order = 1;
    } else {
        if (R > 0) { /* positions 0 .. T-1, in a cache a few slots longer (NaN there) */
            const int capacity = T + 5;
            bf16 *ck = host_nan((long long)B * capacity * R * D), *cv = host_nan((long long)B * capacity * R * D);
            bf16 *gk = host_heads(k, B, T, Hkv, D, 0, T, modes.order, R), *gv = host_heads(v, B, T, Hkv, D, 0, T, modes.order, R);
            for (int b = 0; b < B; b++) {
                memcpy(ck + (size_t)b * capacity * R * D, gk + (size_t)b * T * R * D, (size_t)T * R * D * 2);
                memcpy(cv + (size_t)b * capacity * R * D, gv + (size_t)b * T * R * D, (size_t)T * R * D * 2);
            }
            cache_k = to_device(ck, (long long)B * capacity * R * D), cache_v = to_device(cv, (long long)B * capacity * R * D);
            a.k_full = zz_view_dense(cache_k, capacity, R, D), a.v_full = zz_view_dense(cache_v, capacity, R, D);
            free(ck), free(cv), free(gk), free(gv);
        }
        if (S > 0) { /* the ring after positions 0 .. P-1, then the window of the chunk */
            const zz_heads hs = {B, S, S, D};
            const unsigned char *stream_order = modes.order + R;
            bf16 *rk = host_nan((long long)B * slots * S * D), *rv = host_nan((long long)B * slots * S * D);
            if (P > 0) {
                bf16 *pk = host_heads(k, B, T, Hkv, D, 0, P, stream_order, S);
                bf16 *pv = host_heads(v, B, T, Hkv, D, 0, P, stream_order, S);
                ref_cache_write(&hs, slots, c->sink, c->recent, 0, P, pk, pv, rk, rv);
                free(pk), free(pv);
            }
            bf16 *nk = host_heads(k, B, T, Hkv, D, P, L, stream_order, S), *nv = host_heads(v, B, T, Hkv, D, P, L, stream_order, S);
            bf16 *drk = to_device(rk, (long long)B * slots * S * D), *drv = to_device(rv, (long long)B * slots * S * D);
            bf16 *dnk = to_device(nk, (long long)B * L * S * D), *dnv = to_device(nv, (long long)B * L * S * D);
            win_k = device_poisoned((long long)B * (slots + L) * S * D), win_v = device_poisoned((long long)B * (slots + L) * S * D);
            a.k_stream = zz_view_dense(win_k, slots + L, S, D), a.v_stream = zz_view_dense(win_v, slots + L, S, D);
            KERNEL_OK(zz_streaming_window(zz_view_dense(drk, slots, S, D), zz_view_dense(drv, slots, S, D),
                                          zz_view_dense(dnk, L, S, D), zz_view_dense(dnv, L, S, D), a.k_stream,
                                          a.v_stream, B, D, c->sink, c->recent, P, L, 0));
            ZZ_CUDA_OR_EXIT(cudaDeviceSynchronize());
            cudaFree(drk), cudaFree(drv), cudaFree(dnk), cudaFree(dnv);
            free(rk), free(rv), free(nk), free(nv);
        }
        a.q_pos0_stream = zz_streaming_window_keys(c->sink, c->recent, P);
        a.keys_model_order = 0;
    }

    KERNEL_OK(variant->fused(&a, 0));
    bf16 *out_bits = to_host(dout, B * L * qrow);
    float *out = malloc((size_t)(B * L * qrow) * sizeof *out);
    for (long long i = 0; i < B * L * qrow; i++) out[i] = bf16_to_float(out_bits[i]);

    /* Per KV head against the reference. */
    double worst = 0.0;
    for (int g = 0; g < Hkv; g++) {
        double e = head_error(out, ref, (long long)B * L, Hq, G, D, g);
        if (!(e < REF_ERROR_BOUND))
            fail_msg("fused prefill, %s: KV head %d (%s, %s index %d): relative error %.3g (bound %.0e)", what, g,
                     retrieval_head[g] ? "retrieval" : "streaming", retrieval_head[g] ? "cache" : "window",
                     kind_index[g], e, REF_ERROR_BOUND);
        if (e > worst) worst = e;
    }

    /* The separate launches: each KV head alone, as the executor's launch
     * for its group would run it. */
    for (int g = 0; g < Hkv; g++) {
        zz_prefill_args s;
        memset(&s, 0, sizeof s);
        s.q = zz_view_heads(a.q, g * G, G, D);
        s.o = zz_view_heads(zz_view_dense(dsep, L, Hq, D), g * G, G, D);
        s.batch = B, s.head_dim = D, s.q_len = L, s.q_pos0 = P;
        s.mask = masks[g];
        if (!c->chunked) {
            s.k = zz_view_heads(a.k_full, g, 1, D), s.v = zz_view_heads(a.v_full, g, 1, D);
        } else if (retrieval_head[g]) {
            s.k = zz_view_heads(a.k_full, kind_index[g], 1, D), s.v = zz_view_heads(a.v_full, kind_index[g], 1, D);
        } else {
            s.k = zz_view_heads(a.k_stream, kind_index[g], 1, D), s.v = zz_view_heads(a.v_stream, kind_index[g], 1, D);
            s.q_pos0 = a.q_pos0_stream;
        }
        KERNEL_OK(variant->separate(&s, 0));
    }
    bf16 *sep_bits = to_host(dsep, B * L * qrow);
    for (long long i = 0; i < B * L * qrow; i++)
        if (out_bits[i] != sep_bits[i]) {
            long long d = i % D, hq = i / D % Hq, t = i / qrow % L, b = i / qrow / L;
            fail_msg("fused prefill, %s: element (b %lld, t %lld, q head %lld, d %lld) is %#06x, the separate "
                     "launch's %#06x",
                     what, b, t, hq, d, out_bits[i], sep_bits[i]);
        }
    print_message("  ok  %-88s worst head err %.2e, = separate launches\n", what, worst);

    free(k), free(v), free(q), free(ref), free(out), free(out_bits), free(sep_bits);
    cudaFree(dq), cudaFree(dout), cudaFree(dsep), cudaFree(dk), cudaFree(dv);
    cudaFree(cache_k), cudaFree(cache_v), cudaFree(win_k), cudaFree(win_v);
}

/* Single shot: every KV head's new K/V in model order. Query lengths 1, 17,
 * 129 (one row past a 128-row tile) and 1000; GQA groups 1, 4, 7; layers of
 * one kind (retrieval 0 and all), one head of a kind, and a shuffled head
 * order; a prompt continued at q_pos0 300. */
static void test_fused_single_shot(void **state) {
    const prefill_variant *pv = variant_of(state);
    static const fused_case cases[] = {
        /* B  Hkv G  D    pos0 len   r  shuffled chunked sink recent */
        {1, 4, 1, 64, 0, 1, 2, 1, 0, 4, 16},
        {3, 4, 4, 128, 0, 17, 0, 0, 0, 4, 16},
        {1, 5, 7, 64, 0, 129, 1, 1, 0, 8, 40},
        {3, 4, 4, 128, 0, 1000, 3, 1, 0, 16, 128},
        {1, 3, 7, 128, 0, 1000, 3, 1, 0, 64, 256},
        {3, 6, 1, 64, 0, 1000, 5, 1, 0, 5, 40},
        {1, 8, 4, 128, 300, 129, 4, 1, 0, 16, 64},
        {2, 4, 4, 64, 0, 1000, 2, 0, 0, 4, 60},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_fused(pv, &cases[i]);
}

/* Chunked: the retrieval heads read their cache (positions 0 .. pos0+len-1),
 * the streaming heads the window of the ring before the chunk plus the
 * chunk: the ring not yet full (pos0 40 < sink + recent), just wrapped and
 * wrapped many times, the first chunk (an empty ring), a chunk of one
 * token. */
static void test_fused_chunked(void **state) {
    const prefill_variant *pv = variant_of(state);
    static const fused_case cases[] = {
        /* B  Hkv G  D    pos0  len   r  shuffled chunked sink recent */
        {1, 4, 4, 128, 1000, 17, 1, 1, 1, 4, 60},
        {3, 4, 7, 64, 300, 129, 3, 0, 1, 16, 64},
        {1, 5, 1, 128, 40, 1000, 0, 1, 1, 16, 64},
        {3, 6, 4, 64, 2048, 1, 6, 1, 1, 8, 40},
        {1, 4, 4, 128, 0, 129, 2, 1, 1, 4, 16},
        {2, 8, 4, 128, 1000, 1000, 3, 1, 1, 64, 256},
        {1, 4, 7, 64, 85, 129, 2, 1, 1, 5, 80},
        {3, 2, 1, 128, 500, 17, 1, 0, 1, 4, 16},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_fused(pv, &cases[i]);
}

/* ---- argument checks: refused with a message, nothing launched ---- */

static void expect_refused(const prefill_variant *pv, const zz_prefill_fused_args *a, const char *message) {
    int rc = pv->fused(a, 0);
    if (rc != ZZ_BAD_ARGUMENT) fail_msg("expected ZZ_BAD_ARGUMENT (\"%s\"), got %d: %s", message, rc, zz_kernel_error());
    if (!strstr(zz_kernel_error(), message)) fail_msg("message \"%s\" does not say \"%s\"", zz_kernel_error(), message);
}

static void test_fused_bad_arguments(void **state) {
    const prefill_variant *pv = variant_of(state);
    const int B = 1, Hkv = 4, G = 2, Hq = Hkv * G, D = 64, L = 16;
    bf16 *dq = device_poisoned((long long)B * L * Hq * D), *dk = device_poisoned((long long)B * L * Hkv * D);
    bf16 *dout = device_poisoned((long long)B * L * Hq * D);
    zz_prefill_fused_args good;
    memset(&good, 0, sizeof good);
    good.q = zz_view_dense(dq, L, Hq, D), good.o = zz_view_dense(dout, L, Hq, D);
    good.k_full = good.v_full = zz_view_dense(dk, L, Hkv, D);
    good.batch = B, good.head_dim = D, good.q_len = L;
    good.streaming = (zz_mask){ZZ_MASK_STREAMING, 4, 8, 0};
    good.heads.kv_heads = Hkv, good.heads.retrieval = 2;
    memcpy(good.heads.order, (unsigned char[]){3, 1, 0, 2}, 4);
    good.keys_model_order = 1;

    zz_prefill_fused_args a = good;
    a.head_dim = 96;
    expect_refused(pv, &a, "head_dim 96");
    a = good, a.q_len = 0;
    expect_refused(pv, &a, "q_len 0");
    a = good, a.keys_model_order = 2;
    expect_refused(pv, &a, "keys_model_order 2");
    a = good, a.heads.kv_heads = 0;
    expect_refused(pv, &a, "kv_heads 0");
    a = good, a.heads.kv_heads = ZZ_FUSED_MAX_KV_HEADS + 1;
    expect_refused(pv, &a, "kv_heads 129");
    a = good, a.heads.retrieval = 5;
    expect_refused(pv, &a, "retrieval 5 of 4");
    a = good, a.heads.retrieval = -1;
    expect_refused(pv, &a, "retrieval -1");
    a = good, a.heads.order[2] = 1;
    expect_refused(pv, &a, "not a permutation");
    a = good, a.heads.order[2] = 4;
    expect_refused(pv, &a, "order[2] = 4");
    a = good, a.q = a.o = zz_view_dense(dq, L, Hq + 1, D);
    expect_refused(pv, &a, "q heads 9");
    a = good, a.o = zz_view_dense(dout, L, Hq - 2, D);
    expect_refused(pv, &a, "o heads 6");
    a = good, a.streaming.kind = ZZ_MASK_FULL;
    expect_refused(pv, &a, "streaming mask kind 0");
    a = good, a.streaming.recent = 0;
    expect_refused(pv, &a, "recent 0");
    a = good, a.k_full = a.v_full = zz_view_dense(dk, L, 2, D);
    expect_refused(pv, &a, "single shot: k_full heads 2");
    a = good, a.q.data += 1;
    expect_refused(pv, &a, "q: data not 16-byte aligned");
    a = good, a.k_full.token_stride = Hkv * D - 8;
    expect_refused(pv, &a, "token stride");
    /* Chunked: 2 retrieval heads' cache, 2 streaming heads' window. */
    zz_prefill_fused_args chunked = good;
    chunked.keys_model_order = 0;
    chunked.k_full = chunked.v_full = zz_view_dense(dk, L, 2, D);
    chunked.k_stream = chunked.v_stream = zz_view_dense(dk, L, 2, D);
    chunked.q_pos0_stream = 0;
    a = chunked, a.k_full = a.v_full = zz_view_dense(dk, L, 4, D);
    expect_refused(pv, &a, "chunked: k_full heads 4");
    a = chunked, a.k_stream = zz_view_dense(dk, L, 1, D);
    expect_refused(pv, &a, "chunked: k_stream heads 1");
    a = chunked, a.q_pos0_stream = -1;
    expect_refused(pv, &a, "q_pos0_stream -1");

    /* Nothing was launched: the output is still all NaN. */
    bf16 *bits = to_host(dout, (long long)B * L * Hq * D);
    for (long long i = 0; i < (long long)B * L * Hq * D; i++)
        if (bits[i] != 0xffff) fail_msg("a refused call wrote the output (element %lld: %#06x)", i, bits[i]);
    free(bits);

    /* A kind with no heads reads, and checks, none of its views; a single
     * shot reads no window. */
    a = chunked, a.heads.retrieval = 0, a.k_stream = a.v_stream = zz_view_dense(dk, L, Hkv, D);
    memset(&a.k_full, 0, sizeof a.k_full), memset(&a.v_full, 0, sizeof a.v_full);
    KERNEL_OK(pv->fused(&a, 0));
    a = chunked, a.heads.retrieval = Hkv, a.k_full = a.v_full = zz_view_dense(dk, L, Hkv, D);
    memset(&a.k_stream, 0, sizeof a.k_stream), memset(&a.v_stream, 0, sizeof a.v_stream);
    a.streaming.kind = ZZ_MASK_FULL; /* no streaming head: not read either */
    KERNEL_OK(pv->fused(&a, 0));
    a = good;
    KERNEL_OK(pv->fused(&a, 0));
    ZZ_CUDA_OR_EXIT(cudaDeviceSynchronize());
    cudaFree(dq), cudaFree(dk), cudaFree(dout);
}

/* Where the GPU cannot run wgmma-tma, its fused launcher says so (and
 * launches nothing). */
static void test_fused_hopper_refused(void **state) {
    (void)state;
    if (hopper_supported) skip();
    const int L = 16, Hkv = 2, Hq = 4, D = 64;
    bf16 *dq = device_poisoned((long long)L * Hq * D), *dk = device_poisoned((long long)L * Hkv * D);
    zz_prefill_fused_args a;
    memset(&a, 0, sizeof a);
    a.q = a.o = zz_view_dense(dq, L, Hq, D);
    a.k_full = a.v_full = zz_view_dense(dk, L, Hkv, D);
    a.batch = 1, a.head_dim = D, a.q_len = L;
    a.streaming = (zz_mask){ZZ_MASK_STREAMING, 4, 8, 0};
    a.heads.kv_heads = Hkv, a.heads.retrieval = 1, a.heads.order[1] = 1;
    a.keys_model_order = 1;
    expect_refused(&wgmma_tma, &a, "needs an sm_90 GPU");
    cudaFree(dq), cudaFree(dk);
}

/* An optional argument selects tests by name (cmocka's filter, '*' wildcards). */
int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    if (zz_prefill_hopper_supported(&hopper_supported) != ZZ_OK) {
        fprintf(stderr, "test_prefill_fused: %s\n", zz_kernel_error());
        return 1;
    }
    /* Each test once per variant: name/fa2, name/wgmma-tma. */
#define PER_PREFILL_VARIANT(f) {#f "/fa2", f, NULL, NULL, &fa2}, {#f "/wgmma-tma", f, NULL, NULL, &wgmma_tma}
    const struct CMUnitTest tests[] = {
        PER_PREFILL_VARIANT(test_fused_bad_arguments),
        cmocka_unit_test(test_fused_hopper_refused),
        PER_PREFILL_VARIANT(test_fused_single_shot),
        PER_PREFILL_VARIANT(test_fused_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
