/* Checks of an executor against the CPU reference (verify.h). */
#include "verify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "device.h"
#include "executor_internal.h"

/* One KV cache of a layer: the retrieval heads' full cache or the streaming
 * heads' sink + ring (heads 0: the layer has none). */
typedef struct {
    bf16 *k, *v;            /* device, [batch][slots][heads][head_dim] */
    int heads, slots, sink, recent; /* sink = recent = 0: a full cache */
    long long n;            /* elements of k, and of v */
} cache_view;

static cache_view layer_cache(const zz_executor *ex, int l, int streaming) {
    const layer_buffers *lb = &ex->layers[l];
    const zz_layer_plan *lp = &ex->plan.layers[l];
    cache_view c = streaming ? (cache_view){lb->k_ring, lb->v_ring, lp->streaming_heads, ex->ring_slots, ex->sink,
                                            ex->recent, 0}
                             : (cache_view){lb->k_full, lb->v_full, lp->retrieval_heads, ex->full_capacity, 0, 0, 0};
    c.n = (long long)ex->batch * c.slots * c.heads * ex->head_dim;
    return c;
}

static int settle(zz_executor *ex, zz_error *err) {
    ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(ex->stream));
    return 0;
}

/* A synchronous copy: the executor's stream must have settled (it does
 * not wait for a non-blocking stream). */
static int to_host(void *host, const void *device, long long n, zz_error *err) {
    if (n > 0) ZZ_CUDA_OR_RETURN(cudaMemcpy(host, device, (size_t)n * sizeof(bf16), cudaMemcpyDeviceToHost));
    return 0;
}

/* The heads of a view, `rows` tokens (every sequence's: rows of a token
 * stride), dense on the host: a model step's q, k or v in its QKV output. */
static int view_to_host(bf16 *host, zz_view v, long long rows, int head_dim, zz_error *err) {
    const size_t width = (size_t)v.heads * head_dim * sizeof(bf16);
    if (rows > 0)
        ZZ_CUDA_OR_RETURN(cudaMemcpy2D(host, width, v.data, (size_t)v.token_stride * sizeof(bf16), width, (size_t)rows,
                                       cudaMemcpyDeviceToHost));
    return 0;
}

static int poison(void *device, size_t bytes, cudaStream_t stream, zz_error *err) {
    if (device && bytes) ZZ_CUDA_OR_RETURN(cudaMemsetAsync(device, 0xff, bytes, stream)); /* bf16 and float NaN */
    return 0;
}

/* The layer output and every buffer a step writes before reading it (a
 * model step's QKV output aside: verify writes its q, k, v there). */
static int poison_activations(zz_executor *ex, zz_error *err) {
    const executor_sizes s = zz_executor_sizes(&ex->plan);
    const long long per_q_head = s.act_q / ex->q_heads;
    const struct {
        void *data;
        long long n;
    } buffers[] = {{ex->out, s.act_q},
                   {ex->x, s.act_x},
                   {ex->xn, s.act_x},
                   {ex->gu, s.act_gu},
                   {ex->h, s.act_h},
                   {ex->logits, s.logits},
                   {ex->q_split, s.act_q},
                   {ex->k_split, s.act_kv},
                   {ex->v_split, s.act_kv},
                   {ex->out_split, s.act_q},
                   {ex->out_full, per_q_head * s.max_retrieval * ex->group},
                   {ex->out_streaming, per_q_head * s.max_streaming * ex->group},
                   {ex->win_k, s.window},
                   {ex->win_v, s.window}};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        if (poison(buffers[i].data, (size_t)buffers[i].n * sizeof(bf16), ex->stream, err)) return -1;
    return poison(ex->workspace, ex->workspace_bytes, ex->stream, err);
}

int zz_executor_poison(zz_executor *ex, zz_error *err) {
    if (poison_activations(ex, err) ||
        poison(ex->qkv, (size_t)zz_executor_sizes(&ex->plan).act_qkv * sizeof(bf16), ex->stream, err))
        return -1;
    for (int l = 0; l < ex->plan.model.layers; l++)
        for (int streaming = 0; streaming < 2; streaming++) {
            const cache_view c = layer_cache(ex, l, streaming);
            if (!c.heads) continue;
            const size_t row = (size_t)c.heads * ex->head_dim * sizeof(bf16), pitch = row * (size_t)c.slots;
            for (long long pass = 0; pass < ex->plan.passes; pass++) {
                int pos0, tokens;
                zz_executor_pass_tokens(ex, (int)pass, &pos0, &tokens);
                for (int t = 0; t < tokens; t++) {
                    const size_t at = row * (size_t)ref_cache_slot(c.sink, c.recent, pos0 + t);
                    ZZ_CUDA_OR_RETURN(cudaMemset2DAsync((char *)c.k + at, pitch, 0xff, row, ex->batch, ex->stream));
                    ZZ_CUDA_OR_RETURN(cudaMemset2DAsync((char *)c.v + at, pitch, 0xff, row, ex->batch, ex->stream));
                }
            }
        }
    return 0;
}

int zz_executor_snapshot(zz_executor *ex, bf16 **host, long long *n, zz_error *err) {
    const long long n_out = zz_executor_sizes(&ex->plan).act_q, n_logits = zz_executor_sizes(&ex->plan).logits;
    *host = NULL;
    *n = n_out + n_logits;
    for (int l = 0; l < ex->plan.model.layers; l++) *n += 2 * (layer_cache(ex, l, 0).n + layer_cache(ex, l, 1).n);
    if (settle(ex, err)) return -1;
    bf16 *copy = malloc((size_t)*n * sizeof *copy);
    if (!copy) return zz_errorf(err, "snapshot: out of memory (%lld values)", *n);
    long long at = 0;
    int rc = to_host(copy, ex->out, n_out, err);
    at += n_out;
    for (int l = 0; l < ex->plan.model.layers && !rc; l++)
        for (int streaming = 0; streaming < 2 && !rc; streaming++) {
            const cache_view c = layer_cache(ex, l, streaming);
            rc = to_host(copy + at, c.k, c.n, err) || to_host(copy + at + c.n, c.v, c.n, err);
            at += 2 * c.n;
        }
    if (!rc) rc = to_host(copy + at, ex->logits, n_logits, err);
    if (rc) {
        free(copy);
        return -1;
    }
    *host = copy;
    return 0;
}

/* ---- zz_executor_verify ---- */

/* Heads [first, first + count) of tokens [0, tokens) of every sequence of
 * x ([batch][x_tokens][heads][d]) into y ([batch][tokens][count][d]). */
static void take_heads(bf16 *y, const bf16 *x, int batch, int x_tokens, int tokens, int heads, int first, int count,
                       int d) {
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < tokens; t++)
            memcpy(y + ((size_t)b * tokens + t) * count * d, x + (((size_t)b * x_tokens + t) * heads + first) * d,
                   sizeof(bf16) * (size_t)count * d);
}

/* A layer's inputs in split order, as its attention and cache ops see them:
 * the load-time reordered layouts store them so already; duo-gather gathers
 * the model-order tensors by kv_order. per_kv: heads per KV head (the GQA
 * group for queries, 1 for keys and values). */
static void to_split_order(bf16 *y, const bf16 *x, long long tokens, int heads, int per_kv, const zz_layer_plan *lp,
                           int gather, int d) {
    for (long long t = 0; t < tokens; t++)
        for (int i = 0; i < heads; i++) {
            const int src = gather ? lp->kv_order[i / per_kv] * per_kv + i % per_kv : i;
            memcpy(y + (t * heads + i) * d, x + (t * heads + src) * d, sizeof(bf16) * (size_t)d);
        }
}

/* The host side of one layer's check. */
typedef struct {
    bf16 *cache_k[2], *cache_v[2]; /* the CPU's copy of the full and the streaming cache */
    bf16 *gpu_cache;               /* a cache downloaded after a pass */
    bf16 *hist_k, *hist_v;         /* prefill: the layer's K and V so far, by position, split order */
    bf16 *q, *k, *v, *out;         /* one pass's inputs and output as on the GPU */
    bf16 *qs, *ks, *vs;            /* the inputs in split order */
    bf16 *group_q, *group_k, *group_v, *new_k, *new_v; /* one head group's share */
    float *group_out, *ref, *got;
} layer_check;

static void layer_check_free(layer_check *c) {
    void *all[] = {c->cache_k[0], c->cache_k[1], c->cache_v[0], c->cache_v[1], c->gpu_cache, c->hist_k, c->hist_v,
                   c->q,          c->k,          c->v,          c->out,        c->qs,        c->ks,     c->vs,
                   c->group_q,    c->group_k,    c->group_v,    c->new_k,      c->new_v,     c->group_out,
                   c->ref,        c->got};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static void *alloc_or_flag(long long bytes, int *failed) {
    void *p = malloc((size_t)(bytes > 0 ? bytes : 1));
    if (!p) *failed = 1;
    return p;
}

static int layer_check_alloc(layer_check *c, const zz_executor *ex, const cache_view cache[2], zz_error *err) {
    const long long B = ex->batch, D = ex->head_dim, C = ex->tokens, Hq = ex->q_heads, Hkv = ex->kv_heads;
    const long long h = sizeof(bf16), f = sizeof(float);
    const long long nq = B * C * Hq * D, nkv = B * C * Hkv * D;
    const long long history = ex->plan.workload.phase == ZZ_DECODE ? 0 : B * ex->ctx * Hkv * D;
    int failed = 0;
    for (int grp = 0; grp < 2; grp++) {
        c->cache_k[grp] = alloc_or_flag(cache[grp].n * h, &failed);
        c->cache_v[grp] = alloc_or_flag(cache[grp].n * h, &failed);
    }
    c->gpu_cache = alloc_or_flag((cache[0].n > cache[1].n ? cache[0].n : cache[1].n) * h, &failed);
    if (history) {
        c->hist_k = alloc_or_flag(history * h, &failed), c->hist_v = alloc_or_flag(history * h, &failed);
        c->group_k = alloc_or_flag(history * h, &failed), c->group_v = alloc_or_flag(history * h, &failed);
    }
    c->q = alloc_or_flag(nq * h, &failed), c->out = alloc_or_flag(nq * h, &failed);
    c->k = alloc_or_flag(nkv * h, &failed), c->v = alloc_or_flag(nkv * h, &failed);
    c->qs = alloc_or_flag(nq * h, &failed), c->group_q = alloc_or_flag(nq * h, &failed);
    c->ks = alloc_or_flag(nkv * h, &failed), c->vs = alloc_or_flag(nkv * h, &failed);
    c->new_k = alloc_or_flag(nkv * h, &failed), c->new_v = alloc_or_flag(nkv * h, &failed);
    c->group_out = alloc_or_flag(nq * f, &failed), c->ref = alloc_or_flag(nq * f, &failed);
    c->got = alloc_or_flag(nq * f, &failed);
    return failed ? zz_errorf(err, "verify: out of memory for the host copies of a layer") : 0;
}

/* The first element where the GPU's cache differs from the CPU's copy, as a
 * message; 0 if they are equal. */
static int compare_cache(const bf16 *gpu, const bf16 *cpu, const cache_view *c, int head_dim, const char *what,
                         zz_error *err) {
    for (long long i = 0; i < c->n; i++) {
        if (gpu[i] == cpu[i]) continue;
        const long long per_slot = (long long)c->heads * head_dim, per_seq = per_slot * c->slots;
        return zz_errorf(err,
                         "%s: batch %lld slot %lld head %lld (split order) element %lld is 0x%04x on the GPU, 0x%04x "
                         "in the CPU's copy",
                         what, i / per_seq, i % per_seq / per_slot, i % per_slot / head_dim, i % head_dim, gpu[i],
                         cpu[i]);
    }
    return 0;
}

/* The reference for one head group of one pass into the layer's output
 * head order (c->ref): split order, or model order after duo-gather's scatter. */
static void reference_group(const zz_executor *ex, int l, int pass_pos0, int tokens, int grp, const cache_view *cache,
                            layer_check *c) {
    const zz_layer_plan *lp = &ex->plan.layers[l];
    const int B = ex->batch, D = ex->head_dim, G = ex->group, Hq = ex->q_heads, C = ex->tokens;
    const int n = cache->heads, first = grp ? lp->retrieval_heads : 0, gather = is_gather_layer(ex, l);
    const zz_heads h = {B, n * G, n, D};
    take_heads(c->group_q, c->qs, B, C, tokens, Hq, first * G, n * G, D);
    if (ex->plan.workload.phase == ZZ_DECODE) {
        if (grp)
            ref_attention_decode_streaming(&h, ex->sink, ex->recent, pass_pos0, c->group_q, c->cache_k[grp],
                                           c->cache_v[grp], c->group_out);
        else
            ref_attention_decode_full(&h, cache->slots, pass_pos0, c->group_q, c->cache_k[grp], c->cache_v[grp],
                                      c->group_out);
    } else {
        const int keys = pass_pos0 + tokens;
        take_heads(c->group_k, c->hist_k, B, ex->ctx, keys, ex->kv_heads, first, n, D);
        take_heads(c->group_v, c->hist_v, B, ex->ctx, keys, ex->kv_heads, first, n, D);
        const zz_mask mask = grp ? (zz_mask){ZZ_MASK_STREAMING, ex->sink, ex->recent, ex->chunked}
                                 : (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
        ref_attention_prefill(&h, tokens, pass_pos0, mask, c->group_q, c->group_k, c->group_v, c->group_out);
    }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < n * G; i++) {
                const int split_q = first * G + i;
                const int model_q = gather ? lp->kv_order[split_q / G] * G + split_q % G : split_q;
                memcpy(c->ref + (((size_t)b * tokens + t) * Hq + model_q) * D,
                       c->group_out + (((size_t)b * tokens + t) * n * G + i) * D, sizeof(float) * (size_t)D);
            }
}

/* One pass of layer l: fresh inputs, poisoned outputs, the layer's launches,
 * then its caches and output against the CPU's. */
static int verify_pass(zz_executor *ex, int l, int pass, const cache_view cache[2], layer_check *c, double *worst,
                       zz_error *err) {
    const zz_layer_plan *lp = &ex->plan.layers[l];
    const int B = ex->batch, D = ex->head_dim, G = ex->group, Hq = ex->q_heads, Hkv = ex->kv_heads, C = ex->tokens;
    const long long nq = (long long)B * C * Hq * D, nkv = (long long)B * C * Hkv * D;
    const int gather = is_gather_layer(ex, l);
    int pos0, tokens;
    zz_executor_pass_tokens(ex, pass, &pos0, &tokens);

    /* a model step's q, k, v are one buffer, the QKV output */
    bf16 *const inputs[3] = {ex->model_step ? ex->qkv : ex->q, ex->k_new, ex->v_new};
    const long long sizes[3] = {ex->model_step ? nq + 2 * nkv : nq, nkv, nkv};
    for (int i = 0; i < 3 && inputs[i]; i++) {
        const unsigned long long seed = 0x5eed5eedULL + (((unsigned long long)l << 20) + (unsigned long long)pass) * 3 + i;
        if (zz_fill_uniform(inputs[i], sizes[i], seed, 1.0f, ex->stream) != ZZ_OK)
            return zz_errorf(err, "verify: %s", zz_kernel_error());
    }
    if (poison_activations(ex, err) || zz_executor_run_layer(ex, pass, l, ZZ_RUN_ATTENTION, err) || settle(ex, err))
        return -1;
    if (ex->model_step) {
        zz_view q, k, v;
        zz_model_step_views(ex, &q, &k, &v);
        if (view_to_host(c->q, q, (long long)B * C, D, err) || view_to_host(c->k, k, (long long)B * C, D, err) ||
            view_to_host(c->v, v, (long long)B * C, D, err))
            return -1;
    } else if (to_host(c->q, ex->q, nq, err) || to_host(c->k, ex->k_new, nkv, err) ||
               to_host(c->v, ex->v_new, nkv, err)) {
        return -1;
    }
    if (to_host(c->out, ex->out, nq, err)) return -1;
    to_split_order(c->qs, c->q, (long long)B * C, Hq, G, lp, gather, D);
    to_split_order(c->ks, c->k, (long long)B * C, Hkv, 1, lp, gather, D);
    to_split_order(c->vs, c->v, (long long)B * C, Hkv, 1, lp, gather, D);
    if (c->hist_k)
        for (int b = 0; b < B; b++) {
            const size_t at = ((size_t)b * ex->ctx + pos0) * Hkv * D, from = (size_t)b * C * Hkv * D;
            memcpy(c->hist_k + at, c->ks + from, sizeof(bf16) * (size_t)tokens * Hkv * D);
            memcpy(c->hist_v + at, c->vs + from, sizeof(bf16) * (size_t)tokens * Hkv * D);
        }

    for (int grp = 0; grp < 2; grp++) {
        const cache_view *cv = &cache[grp];
        if (!cv->heads) continue;
        const int first = grp ? lp->retrieval_heads : 0;
        const zz_heads h = {B, cv->heads, cv->heads, D};
        take_heads(c->new_k, c->ks, B, C, tokens, Hkv, first, cv->heads, D);
        take_heads(c->new_v, c->vs, B, C, tokens, Hkv, first, cv->heads, D);
        ref_cache_write(&h, cv->slots, cv->sink, cv->recent, pos0, tokens, c->new_k, c->new_v, c->cache_k[grp],
                        c->cache_v[grp]);
        for (int kv = 0; kv < 2; kv++) {
            char what[128];
            snprintf(what, sizeof what, "verify: layer %d, %s cache %c after positions %d..%d", l,
                     grp ? "streaming" : "retrieval", kv ? 'V' : 'K', pos0, pos0 + tokens - 1);
            if (to_host(c->gpu_cache, kv ? cv->v : cv->k, cv->n, err) ||
                compare_cache(c->gpu_cache, kv ? c->cache_v[grp] : c->cache_k[grp], cv, D, what, err))
                return -1;
        }
        reference_group(ex, l, pos0, tokens, grp, cv, c);
    }
    for (int b = 0; b < B; b++)
        for (long long i = 0; i < (long long)tokens * Hq * D; i++)
            c->got[(long long)b * tokens * Hq * D + i] = bf16_to_float(c->out[(long long)b * C * Hq * D + i]);
    const double e = ref_relative_error(c->got, c->ref, (long)B * tokens * Hq * D);
    if (!isnan(*worst) && !(e <= *worst)) *worst = e; /* a NaN (an unwritten element) sticks */
    return 0;
}

/* A model step's whole step, once, eagerly: its logits must be finite (the
 * GEMMs, norms, rotary and SiLU of every layer ran on real activations). */
static int check_logits(zz_executor *ex, zz_error *err) {
    const long long n = zz_executor_sizes(&ex->plan).logits;
    bf16 *host = malloc((size_t)n * sizeof *host);
    if (!host) return zz_errorf(err, "verify: out of memory for %lld logits", n);
    int rc = zz_executor_enqueue(ex, ZZ_MODE_EAGER, NULL, err) || settle(ex, err) || to_host(host, ex->logits, n, err);
    for (long long i = 0; !rc && i < n; i++)
        if (!isfinite(bf16_to_float(host[i])))
            rc = zz_errorf(err, "verify: after a whole model step, logit %lld of sequence %lld is 0x%04x, not finite",
                           i % ex->vocab, i / ex->vocab, host[i]);
    free(host);
    return rc ? -1 : 0;
}

int zz_executor_verify(zz_executor *ex, double *worst, zz_error *err) {
    *worst = 0;
    for (int l = 0; l < ex->plan.model.layers; l++) {
        const cache_view cache[2] = {layer_cache(ex, l, 0), layer_cache(ex, l, 1)};
        layer_check c = {0};
        /* The caches as the earlier context left them: decode attends them. */
        int rc = layer_check_alloc(&c, ex, cache, err) || settle(ex, err);
        for (int grp = 0; grp < 2 && !rc; grp++)
            rc = to_host(c.cache_k[grp], cache[grp].k, cache[grp].n, err) ||
                 to_host(c.cache_v[grp], cache[grp].v, cache[grp].n, err);
        for (long long pass = 0; pass < ex->plan.passes && !rc; pass++)
            rc = verify_pass(ex, l, (int)pass, cache, &c, worst, err);
        layer_check_free(&c);
        if (rc) return -1;
    }
    return ex->model_step ? check_logits(ex, err) : 0;
}
