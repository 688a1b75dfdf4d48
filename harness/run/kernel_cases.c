/* One kernel alone, timed in batches replayed as a CUDA graph (kernel_cases.h). */
#include "kernel_cases.h"
#include "check.h"
#include "device.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "variants.h"
#include "work.h"

const char *zz_kc_kind_name(zz_kc_kind kind) {
    switch (kind) {
    case ZZ_KC_PREFILL: return "prefill";
    case ZZ_KC_DECODE: return "decode";
    case ZZ_KC_DECODE_SPLIT: return "decode-split";
    case ZZ_KC_DECODE_COMBINE: return "decode-combine";
    case ZZ_KC_CACHE_WRITE: return "cache-write";
    case ZZ_KC_CONCAT: return "concat";
    case ZZ_KC_GATHER: return "gather";
    case ZZ_KC_SCATTER: return "scatter";
    case ZZ_KC_DECODE_FUSED: return "decode-fused";
    case ZZ_KC_LINEAR: return "linear";
    case ZZ_KC_RMSNORM: return "rmsnorm";
    case ZZ_KC_SILU_MUL: return "silu-mul";
    }
    return "?";
}

static int is_decode(zz_kc_kind k) { return k == ZZ_KC_DECODE || k == ZZ_KC_DECODE_SPLIT || k == ZZ_KC_DECODE_COMBINE; }
static int is_copy(zz_kc_kind k) { return k == ZZ_KC_CONCAT || k == ZZ_KC_GATHER || k == ZZ_KC_SCATTER; }
static int is_layer(zz_kc_kind k) { return k == ZZ_KC_LINEAR || k == ZZ_KC_RMSNORM || k == ZZ_KC_SILU_MUL; }

/* Rows of a layer case: every token of every sequence. */
static long long layer_rows(const zz_kernel_case *c) { return (long long)c->batch * c->tokens; }

/* The work of a layer case (kernel_cases.h); 0, or -1 with the message. */
static int layer_work(const zz_kernel_case *c, zz_kernel_work *out, zz_error *err) {
    const char *name = zz_kc_kind_name(c->kind);
    const long long rows = layer_rows(c), in = c->in, out_f = c->out;
    if (c->batch < 1 || c->tokens < 1 || rows > INT_MAX)
        return zz_errorf(err, "%s: B %d x %lld tokens: need 1..%d rows", name, c->batch, c->tokens, INT_MAX);
    if (c->in < 8 || c->in % 8)
        return zz_errorf(err, "%s: in %d: need a positive multiple of 8", name, c->in);
    if (c->variant || c->ctx) return zz_errorf(err, "%s: no kernel variant or context (variant %d, S %lld)", name,
                                               c->variant, c->ctx);
    if (c->kind == ZZ_KC_LINEAR) {
        if (c->out < 1) return zz_errorf(err, "linear: out %d: need >= 1", c->out);
        out->flops = 2.0 * rows * in * out_f;
        out->bytes = 2.0 * ((double)rows * in + (double)in * out_f + (1.0 + (c->accumulate != 0)) * rows * out_f);
        out->compute_bound = out->flops >= ZZ_KC_GEMM_RIDGE * out->bytes;
    } else if (c->kind == ZZ_KC_RMSNORM) {
        out->bytes = 2.0 * (2.0 * rows * in + in);
    } else {
        out->bytes = 2.0 * 3.0 * rows * in;
    }
    return 0;
}

const char *zz_kc_variant_name(const zz_kernel_case *c) {
    if (c->kind != ZZ_KC_PREFILL && !is_decode(c->kind)) return NULL;
    return zz_kernel_variant_name(c->kind == ZZ_KC_PREFILL ? ZZ_PREFILL : ZZ_DECODE, c->variant);
}

static zz_mask mask_of(const zz_kernel_case *c) { return (zz_mask){c->mask, c->sink, c->recent, 0}; }

/* Slots per sequence of the cache a decode reads or a cache write fills. */
static long long cache_slots(const zz_kernel_case *c) {
    if (c->mask == ZZ_MASK_STREAMING) return (long long)c->sink + c->recent;
    return c->kind == ZZ_KC_CACHE_WRITE ? c->ctx + c->tokens : c->ctx + 1;
}

/* Tokens of one tensor (per sequence) as the kind lays them out. */
static long long q_tokens(const zz_kernel_case *c) {
    return c->kind == ZZ_KC_PREFILL                              ? c->ctx
           : is_decode(c->kind) || c->kind == ZZ_KC_DECODE_FUSED ? 1
                                                                 : c->tokens;
}

/* decode-fused's heads of one kind as the one-launch decode that would run
 * them alone: their query heads, their cache (full: S + 1 slots; streaming:
 * the ring). The fused launch reads and writes what the two would, so its
 * work is theirs summed and its caches are theirs, one after the other. */
static zz_kernel_case fused_half(const zz_kernel_case *c, int streaming) {
    const int heads = streaming ? c->kv_heads - c->retrieval : c->retrieval;
    return (zz_kernel_case){.kind = ZZ_KC_DECODE,
                            .batch = c->batch,
                            .q_heads = heads * (c->q_heads / c->kv_heads),
                            .kv_heads = heads,
                            .head_dim = c->head_dim,
                            .ctx = c->ctx,
                            .mask = streaming ? ZZ_MASK_STREAMING : ZZ_MASK_FULL,
                            .sink = streaming ? c->sink : 0,
                            .recent = streaming ? c->recent : 0,
                            .variant = ZZ_DECODE_ONE_LAUNCH};
}

/* Elements of one of the half's caches (K or V), per set. */
static long long cache_elems(const zz_kernel_case *half) {
    return (long long)half->batch * cache_slots(half) * half->kv_heads * half->head_dim;
}

/* Views of set `set`: tensors are [B][tokens][heads][D], one after another. */
static zz_view view(bf16 *base, long long elems, int set, long long tokens, int heads, int head_dim) {
    return zz_view_dense(base ? base + (long long)set * elems : NULL, (int)tokens, heads, head_dim);
}

static zz_prefill_args prefill_args(const zz_kernel_run *r, int set) {
    const zz_kernel_case *c = &r->c;
    const int D = c->head_dim, S = (int)c->ctx;
    return (zz_prefill_args){view(r->q, r->q_elems, set, S, c->q_heads, D), view(r->k, r->kv_elems, set, S, c->kv_heads, D),
                             view(r->v, r->kv_elems, set, S, c->kv_heads, D), view(r->o, r->o_elems, set, S, c->q_heads, D),
                             c->batch, D, S, 0, mask_of(c)};
}

static zz_decode_args decode_args(const zz_kernel_run *r, int set) {
    const zz_kernel_case *c = &r->c;
    const int D = c->head_dim;
    const long long slots = cache_slots(c);
    return (zz_decode_args){view(r->q, r->q_elems, set, 1, c->q_heads, D), view(r->k, r->kv_elems, set, slots, c->kv_heads, D),
                            view(r->v, r->kv_elems, set, slots, c->kv_heads, D), view(r->o, r->o_elems, set, 1, c->q_heads, D),
                            c->batch, D, (int)c->ctx, mask_of(c), c->splits};
}

/* Keys per sequence decode-fused's heads of one kind attend (the new one among them). */
static int fused_keys(const zz_kernel_case *c, int streaming) {
    const zz_kernel_run half = {.c = fused_half(c, streaming)};
    const zz_decode_args a = decode_args(&half, 0);
    return zz_decode_keys(&a);
}

/* The new token's K and V of set `set` (one-launch and fused decode). */
static void fresh_views(const zz_kernel_run *r, int set, zz_view *new_k, zz_view *new_v) {
    bf16 *fresh = r->fresh ? r->fresh + 2 * set * r->fresh_elems : NULL;
    *new_k = zz_view_dense(fresh, 1, r->c.kv_heads, r->c.head_dim);
    *new_v = zz_view_dense(fresh ? fresh + r->fresh_elems : NULL, 1, r->c.kv_heads, r->c.head_dim);
}

/* One of set `set`'s K or V buffers (base r->k or r->v) as decode-fused's
 * two caches: the retrieval heads', then the streaming heads' ring. */
static void fused_caches(const zz_kernel_run *r, bf16 *base, int set, zz_view *full, zz_view *ring) {
    const zz_kernel_case f = fused_half(&r->c, 0), s = fused_half(&r->c, 1);
    bf16 *at = base ? base + (long long)set * r->kv_elems : NULL;
    *full = zz_view_dense(at, (int)cache_slots(&f), f.kv_heads, f.head_dim);
    *ring = zz_view_dense(at ? at + cache_elems(&f) : NULL, (int)cache_slots(&s), s.kv_heads, s.head_dim);
}

/* Set `set` as zz_decode_fused's arguments; heads in the identity order
 * (retrieval heads first), as the executor runs a layer reordered at load;
 * splits from the launcher's rule (zz_decode_fused_splits). */
static zz_decode_fused_args fused_args(const zz_kernel_run *r, int set) {
    const zz_kernel_case *c = &r->c;
    zz_decode_fused_args a = {0};
    a.q = view(r->q, r->q_elems, set, 1, c->q_heads, c->head_dim);
    a.o = view(r->o, r->o_elems, set, 1, c->q_heads, c->head_dim);
    fresh_views(r, set, &a.new_k, &a.new_v);
    fused_caches(r, r->k, set, &a.k_full, &a.k_ring);
    fused_caches(r, r->v, set, &a.v_full, &a.v_ring);
    a.batch = c->batch, a.head_dim = c->head_dim, a.pos = (int)c->ctx, a.sink = c->sink, a.recent = c->recent;
    a.heads.kv_heads = c->kv_heads, a.heads.retrieval = c->retrieval;
    for (int h = 0; h < c->kv_heads; h++) a.heads.order[h] = (unsigned char)h;
    return a;
}

int zz_kernel_case_work(const zz_kernel_case *c, int sm_count, zz_kernel_work *out, zz_error *err) {
    memset(out, 0, sizeof *out);
    if (c->kind < ZZ_KC_PREFILL || c->kind > ZZ_KC_SILU_MUL) return zz_errorf(err, "unknown kernel kind %d", (int)c->kind);
    if (sm_count < 1) return zz_errorf(err, "%s: %d SMs", zz_kc_kind_name(c->kind), sm_count);
    if (is_layer(c->kind)) return layer_work(c, out, err);
    const char *name = zz_kc_kind_name(c->kind);
    if (c->batch < 1 || c->batch > 65535 || c->q_heads < 1 || c->kv_heads < 1 || c->q_heads % c->kv_heads ||
        (c->head_dim != 64 && c->head_dim != 128))
        return zz_errorf(err, "%s: B %d, %d query heads, %d KV heads, D %d: need B 1..65535, query heads a multiple of "
                         "KV heads, D 64 or 128", name, c->batch, c->q_heads, c->kv_heads, c->head_dim);
    if (c->mask == ZZ_MASK_STREAMING && (c->sink < 0 || c->recent < 1))
        return zz_errorf(err, "%s: sink %d, recent %d: need sink >= 0, recent >= 1", name, c->sink, c->recent);
    long long max_tokens = (long long)INT_MAX - (long long)c->sink - c->recent - 1;
    if (c->ctx < (c->kind == ZZ_KC_PREFILL) || c->ctx > max_tokens ||
        ((c->kind == ZZ_KC_CACHE_WRITE || is_copy(c->kind)) && (c->tokens < 1 || c->tokens > max_tokens - c->ctx)))
        return zz_errorf(err, "%s: S %lld, %lld new tokens out of range", name, c->ctx, c->tokens);
    if (c->kind == ZZ_KC_CONCAT && c->q_heads < 2) return zz_errorf(err, "concat: needs 2 query heads or more");
    if (c->kind == ZZ_KC_DECODE_FUSED &&
        (c->retrieval < 0 || c->retrieval > c->kv_heads || c->kv_heads > ZZ_FUSED_MAX_KV_HEADS ||
         c->mask != ZZ_MASK_STREAMING || c->splits))
        return zz_errorf(err, "decode-fused: %d retrieval of %d KV heads, mask %d, splits %d: need 0..KV heads "
                         "retrieval, at most %d KV heads, the streaming heads' mask (streaming, sink, recent) and "
                         "splits 0 (the launcher's rule)", c->retrieval, c->kv_heads, (int)c->mask, c->splits,
                         ZZ_FUSED_MAX_KV_HEADS);
    if (c->kind != ZZ_KC_DECODE_FUSED && c->retrieval)
        return zz_errorf(err, "%s: %d retrieval heads: only decode-fused mixes head kinds", name, c->retrieval);
    const int attention = c->kind == ZZ_KC_PREFILL || is_decode(c->kind);
    if (attention ? !zz_kernel_variant_of(c->kind == ZZ_KC_PREFILL ? ZZ_PREFILL : ZZ_DECODE, c->variant) : c->variant)
        return zz_errorf(err, "%s: kernel variant %d: not one of its kind's", name, c->variant);

    out->compute_bound = c->kind == ZZ_KC_PREFILL;
    const zz_work_shape shape = {c->batch, c->q_heads, c->kv_heads, c->head_dim};
    const zz_kernel_run just_the_case = {.c = *c};
    zz_work w;
    if (c->kind == ZZ_KC_PREFILL) {
        const zz_workload prompt = {ZZ_PREFILL, c->batch, c->ctx, 0, c->sink, c->recent};
        const zz_head_work head = zz_head_work_of(&prompt, c->mask == ZZ_MASK_STREAMING);
        const zz_prefill_args a = prefill_args(&just_the_case, 0);
        w = zz_work_attention(&shape, c->ctx, c->ctx, head.pairs);
        w.tile_flops = zz_work_prefill_tile_flops(&a, c->variant);
    } else if (is_decode(c->kind) && c->variant == ZZ_DECODE_ONE_LAUNCH) {
        if (c->kind != ZZ_KC_DECODE)
            return zz_errorf(err, "%s: a kernel of split-combine; one-launch has one kernel (decode)", name);
        const zz_decode_args a = decode_args(&just_the_case, 0);
        w = zz_work_decode_append(&shape, zz_decode_keys(&a));
    } else if (is_decode(c->kind)) {
        const zz_decode_args a = decode_args(&just_the_case, 0);
        const int keys = zz_decode_keys(&a), splits = zz_work_decode_splits(&a, sm_count);
        if (c->kind == ZZ_KC_DECODE_COMBINE && splits == 1)
            return zz_errorf(err, "decode-combine: B %d, S %lld runs in one split: no combine kernel", c->batch, c->ctx);
        w = c->kind == ZZ_KC_DECODE_COMBINE ? zz_work_decode_combine(&shape, splits)
                                            : zz_work_attention(&shape, 1, keys, keys);
    } else if (c->kind == ZZ_KC_DECODE_FUSED) {
        w = (zz_work){0};
        for (int streaming = 0; streaming <= 1; streaming++) {
            const zz_kernel_case half = fused_half(c, streaming);
            zz_kernel_work hw;
            if (!half.kv_heads) continue;  /* a layer of one kind: the other half is empty */
            if (zz_kernel_case_work(&half, sm_count, &hw, err)) return -1;
            w.bytes += hw.bytes, w.flops += hw.flops;
        }
    } else if (c->kind == ZZ_KC_CACHE_WRITE) {
        const long long kept = c->mask == ZZ_MASK_STREAMING
                                   ? zz_work_ring_tokens_kept(c->ctx, c->tokens, c->sink, c->recent)
                                   : c->tokens;
        w = zz_work_kv_copy(&shape, kept);
    } else {
        w = zz_work_head_copy(&shape, c->tokens, c->q_heads);
    }
    out->bytes = w.bytes;
    out->flops = w.flops;
    out->tile_flops = w.tile_flops;
    return 0;
}

static void drop_batches(zz_kernel_run *r) {
    for (int g = 0; g < r->batch_graphs; g++) cudaGraphExecDestroy(r->batch[g]);
    r->batch_graphs = r->batch_launches = r->next_batch = 0;
}

void zz_kernel_run_free(zz_kernel_run *r) {
    drop_batches(r);
    cudaFree(r->q);
    cudaFree(r->k);
    cudaFree(r->v);
    cudaFree(r->o);
    cudaFree(r->index);
    cudaFree(r->fresh);
    cudaFree(r->tickets);
    cudaFree(r->workspace);
    zz_gemm_destroy(r->gemm);
    memset(r, 0, sizeof *r);
}

/* Allocates `sets` copies of elems bf16 values, random in [-1, 1]. */
static int alloc_random(bf16 **out, long long elems, int sets, unsigned long long seed, cudaStream_t stream,
                        zz_error *err) {
    if (elems == 0) return 0;
    ZZ_CUDA_OR_RETURN(cudaMalloc((void **)out, (size_t)(elems * sets) * sizeof(bf16)));
    ZZ_KERNEL_OR_RETURN(zz_fill_uniform(*out, elems * sets, seed, 1.0f, stream));
    return 0;
}

static int launch_set(zz_kernel_run *r, int set, cudaStream_t stream, zz_error *err) {
    const zz_kernel_case *c = &r->c;
    const int B = c->batch, D = c->head_dim, Hq = c->q_heads, Hkv = c->kv_heads;
    const long long T = c->tokens;
    int rc = ZZ_OK;
    switch (c->kind) {
    case ZZ_KC_PREFILL: {
        zz_prefill_args a = prefill_args(r, set);
        rc = c->variant == ZZ_PREFILL_WGMMA_TMA ? zz_prefill_attention_hopper(&a, stream)
                                                : zz_prefill_attention(&a, stream);
        break;
    }
    case ZZ_KC_DECODE:
    case ZZ_KC_DECODE_SPLIT:   /* the split kernel alone: keep_one_kernel, from the batch's graph */
    case ZZ_KC_DECODE_COMBINE: {
        zz_decode_args a = decode_args(r, set);
        if (c->variant == ZZ_DECODE_ONE_LAUNCH) {
            zz_view new_k, new_v;
            fresh_views(r, set, &new_k, &new_v);
            rc = zz_decode_one_launch(&a, new_k, new_v, r->workspace, r->tickets, r->sm_count, r->resident, stream);
        } else {
            rc = zz_decode_attention(&a, r->workspace, r->sm_count, stream);
        }
        break;
    }
    case ZZ_KC_DECODE_FUSED: {
        zz_decode_fused_args a = fused_args(r, set);
        rc = zz_decode_fused(&a, r->workspace, r->tickets, r->sm_count, r->resident, stream);
        break;
    }
    case ZZ_KC_CACHE_WRITE: {
        const long long slots = cache_slots(c);
        const int ring = c->mask == ZZ_MASK_STREAMING;
        rc = zz_cache_write(view(r->q, r->q_elems, set, T, Hkv, D), view(r->o, r->o_elems, set, T, Hkv, D),
                            view(r->k, r->kv_elems, set, slots, Hkv, D), view(r->v, r->kv_elems, set, slots, Hkv, D), B,
                            D, (int)slots, ring ? c->sink : 0, ring ? c->recent : 0, (int)c->ctx, (int)T, stream);
        break;
    }
    case ZZ_KC_CONCAT: {
        const int first = Hq / 2;
        zz_view a = view(r->q, r->q_elems, set, T, first, D);
        zz_view b = zz_view_dense(a.data + (long long)B * T * first * D, (int)T, Hq - first, D);
        rc = zz_concat_heads(a, b, view(r->o, r->o_elems, set, T, Hq, D), B, (int)T, D, stream);
        break;
    }
    case ZZ_KC_GATHER:
    case ZZ_KC_SCATTER: {
        zz_view src = view(r->q, r->q_elems, set, T, Hq, D), dst = view(r->o, r->o_elems, set, T, Hq, D);
        rc = c->kind == ZZ_KC_GATHER ? zz_gather_heads(src, r->index, Hq, dst, B, (int)T, D, stream)
                                     : zz_scatter_heads(src, r->index, Hq, dst, B, (int)T, D, stream);
        break;
    }
    case ZZ_KC_LINEAR:
        rc = zz_linear(r->gemm, r->q + set * r->q_elems, c->in, r->k + set * r->kv_elems, r->o + set * r->o_elems,
                       c->out, (int)layer_rows(c), c->in, c->out, c->accumulate ? 1.0f : 0.0f, stream);
        break;
    case ZZ_KC_RMSNORM:
        rc = zz_rmsnorm(r->q + set * r->q_elems, r->k + set * r->kv_elems, r->o + set * r->o_elems,
                        (int)layer_rows(c), c->in, 1e-5f, stream);
        break;
    case ZZ_KC_SILU_MUL:
        rc = zz_silu_mul(r->q + set * r->q_elems, r->o + set * r->o_elems, (int)layer_rows(c), c->in, stream);
        break;
    }
    if (rc != ZZ_OK) return zz_errorf(err, "%s", zz_kernel_error());
    return 0;
}

/* A graph of `launches` decode launches is a chain split, combine, split,
 * combine, ... (stream capture makes each node depend on the one before).
 * Keeps one kernel of each launch, the split kernels (the roots of their
 * pairs) or the combines, chained one after the other. */
static int keep_one_kernel(const zz_kernel_run *r, cudaGraph_t graph, int launches, zz_error *err) {
    cudaGraphNode_t chain[2 * ZZ_KC_MAX_BATCH];
    size_t n = 0, count = 1;
    ZZ_CUDA_OR_RETURN(cudaGraphGetNodes(graph, NULL, &n));
    ZZ_CUDA_OR_RETURN(cudaGraphGetRootNodes(graph, chain, &count));
    if (n != 2 * (size_t)launches || count != 1)
        return zz_errorf(err, "%s: %d decode launches captured %zu nodes, %zu roots (expected a chain of %d)",
                         zz_kc_kind_name(r->c.kind), launches, n, count, 2 * launches);
    for (size_t i = 1; i < n; i++) {
        cudaGraphNode_t next[2];
        cudaGraphEdgeData edges[2]; /* the split -> combine edge is programmatic: a query without edge data fails */
        count = 2;
        ZZ_CUDA_OR_RETURN(cudaGraphNodeGetDependentNodes(chain[i - 1], next, edges, &count));
        if (count != 1) return zz_errorf(err, "%s: node %zu of the captured chain has %zu dependents",
                                         zz_kc_kind_name(r->c.kind), i - 1, count);
        chain[i] = next[0];
    }
    const size_t kept = r->c.kind == ZZ_KC_DECODE_SPLIT ? 0 : 1;
    for (size_t i = 0; i < n; i += 2) ZZ_CUDA_OR_RETURN(cudaGraphDestroyNode(chain[i + 1 - kept]));
    for (size_t i = kept + 2; i < n; i += 2)
        ZZ_CUDA_OR_RETURN(cudaGraphAddDependencies(graph, &chain[i - 2], &chain[i], NULL, 1));
    return 0;
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

/* The graphs of a batch size (kernel_cases.h), each replayed once
 * unblocked: a graph's first launch uploads it, which must not wait
 * behind the stream blocker. */
static int build_batches(zz_kernel_run *r, int launches, cudaStream_t stream, zz_error *err) {
    drop_batches(r);
    const int graphs = r->sets / gcd(r->sets, launches);
    const int one_kernel = r->c.kind == ZZ_KC_DECODE_SPLIT || r->c.kind == ZZ_KC_DECODE_COMBINE;
    for (int g = 0; g < graphs; g++) {
        cudaGraph_t graph = NULL;
        ZZ_CUDA_OR_RETURN(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        int rc = 0;
        for (int i = 0; i < launches && !rc; i++) rc = launch_set(r, (g * launches + i) % r->sets, stream, err);
        ZZ_CUDA_OR_RETURN(cudaStreamEndCapture(stream, &graph));
        if (!rc && one_kernel && r->splits > 1) rc = keep_one_kernel(r, graph, launches, err);
        if (!rc) {
            cudaError_t e = cudaGraphInstantiateWithFlags(&r->batch[g], graph, 0);
            if (e != cudaSuccess)
                rc = zz_errorf(err, "%s:%d: cudaGraphInstantiateWithFlags: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        }
        cudaGraphDestroy(graph);
        if (rc) return -1;
        r->batch_graphs = g + 1;
        ZZ_CUDA_OR_RETURN(cudaGraphLaunch(r->batch[g], stream));
    }
    ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(stream));
    r->batch_launches = launches;
    return 0;
}

int zz_kernel_run_init(zz_kernel_run *r, const zz_kernel_case *c, int sm_count, long long rotate_bytes,
                       cudaStream_t stream, zz_error *err) {
    memset(r, 0, sizeof *r);
    r->c = *c;
    r->sm_count = sm_count;
    if (zz_kernel_case_work(c, sm_count, &r->work, err)) return -1;

    const long long B = c->batch, D = c->head_dim, Hq = c->q_heads, Hkv = c->kv_heads;
    if (is_layer(c->kind)) {            /* q: the input, k: the weight, o: the output */
        const long long rows = layer_rows(c);
        r->q_elems = rows * c->in * (c->kind == ZZ_KC_SILU_MUL ? 2 : 1);
        r->kv_elems = c->kind == ZZ_KC_LINEAR ? (long long)c->out * c->in : c->kind == ZZ_KC_RMSNORM ? c->in : 0;
        r->o_elems = rows * (c->kind == ZZ_KC_LINEAR ? c->out : c->in);
    } else if (c->kind == ZZ_KC_CACHE_WRITE) { /* q, o: the new K and V; k, v: the cache */
        r->q_elems = r->o_elems = B * c->tokens * Hkv * D;
        r->kv_elems = B * cache_slots(c) * Hkv * D;
    } else if (is_copy(c->kind)) {      /* q: source, o: destination */
        r->q_elems = r->o_elems = B * c->tokens * Hq * D;
    } else if (c->kind == ZZ_KC_DECODE_FUSED) {  /* k, v: the retrieval heads' cache, then the ring */
        r->q_elems = r->o_elems = B * q_tokens(c) * Hq * D;
        const zz_kernel_case full = fused_half(c, 0), ring = fused_half(c, 1);
        r->kv_elems = cache_elems(&full) + cache_elems(&ring);
    } else {
        r->q_elems = r->o_elems = B * q_tokens(c) * Hq * D;
        r->kv_elems = B * (c->kind == ZZ_KC_PREFILL ? c->ctx : cache_slots(c)) * Hkv * D;
    }
    const int fused = c->kind == ZZ_KC_DECODE_FUSED;
    const int one_launch = is_decode(c->kind) && c->variant == ZZ_DECODE_ONE_LAUNCH;
    if (one_launch || fused) r->fresh_elems = B * Hkv * D;
    const long long kv_tensors = is_layer(c->kind) ? 1 : 2; /* a layer case's weight, or K and V */
    r->set_bytes = (r->q_elems + r->o_elems + kv_tensors * r->kv_elems + 2 * r->fresh_elems) * (long long)sizeof(bf16);

    if (one_launch || fused) {  /* the appending kernels: one occupancy, a workspace, tickets */
        ZZ_KERNEL_OR_GOTO(zz_decode_one_launch_resident(c->head_dim, &r->resident), fail);
        size_t ws;
        if (fused) {
            const zz_decode_fused_args a = fused_args(r, 0);
            zz_decode_fused_splits(sm_count, r->resident, c->batch, c->retrieval, fused_keys(c, 0), c->kv_heads - c->retrieval,
                                   fused_keys(c, 1), &r->splits, &r->splits_streaming);
            ws = zz_decode_fused_workspace_bytes(&a, sm_count, r->resident);
        } else {
            zz_decode_args a = decode_args(r, 0);
            r->splits = zz_decode_one_launch_splits(&a, sm_count, r->resident);
            ws = zz_decode_one_launch_workspace_bytes(&a, sm_count, r->resident);
        }
        if (ws) ZZ_CUDA_OR_GOTO(cudaMalloc(&r->workspace, ws), fail);
        ZZ_CUDA_OR_GOTO(cudaMalloc((void **)&r->tickets, sizeof(int) * (size_t)(B * Hkv)), fail);
        ZZ_CUDA_OR_GOTO(cudaMemsetAsync(r->tickets, 0, sizeof(int) * (size_t)(B * Hkv), stream), fail);
    } else if (is_decode(c->kind)) {
        zz_decode_args a = decode_args(r, 0);
        r->splits = zz_work_decode_splits(&a, sm_count);
        size_t ws = zz_decode_workspace_bytes(&a, sm_count);
        if (ws) ZZ_CUDA_OR_GOTO(cudaMalloc(&r->workspace, ws), fail);
    } else if (c->kind == ZZ_KC_LINEAR) {
        /* Its plans are made by the first launches below, before any capture. */
        ZZ_KERNEL_OR_GOTO(zz_gemm_create(&r->gemm, ZZ_KC_GEMM_WORKSPACE, stream), fail);
    }

    /* Sets: enough for the bytes the launches touch to span rotate_bytes,
     * allocating at most 4 × rotate_bytes (a cache write touches a few slots
     * of a large cache) and half the free memory. The combine reads the
     * shared workspace only: one set. */
    size_t free_bytes = 0, total_bytes = 0;
    ZZ_CUDA_OR_GOTO(cudaMemGetInfo(&free_bytes, &total_bytes), fail);
    long long sets = 1;
    if (rotate_bytes > 0 && r->work.bytes > 0 && c->kind != ZZ_KC_DECODE_COMBINE) {
        sets = (long long)((double)rotate_bytes / r->work.bytes) + 1;
        if (sets > 4 * rotate_bytes / r->set_bytes) sets = 4 * rotate_bytes / r->set_bytes;
        if (sets > (long long)(free_bytes / 2) / r->set_bytes) sets = (long long)(free_bytes / 2) / r->set_bytes;
        if (sets > ZZ_KC_MAX_SETS) sets = ZZ_KC_MAX_SETS;
    }
    r->sets = sets < 1 ? 1 : (int)sets;

    if (alloc_random(&r->q, r->q_elems, r->sets, 1, stream, err) || alloc_random(&r->k, r->kv_elems, r->sets, 2, stream, err) ||
        alloc_random(&r->v, is_layer(c->kind) ? 0 : r->kv_elems, r->sets, 3, stream, err) ||
        alloc_random(&r->o, r->o_elems, r->sets, 4, stream, err) ||
        alloc_random(&r->fresh, 2 * r->fresh_elems, r->sets, 5, stream, err))
        goto fail;
    if (c->kind == ZZ_KC_GATHER || c->kind == ZZ_KC_SCATTER) {
        /* Retrieval-first order at half sparsity: even heads, then odd heads. */
        int index[ZZ_MAX_Q_HEADS], half = (c->q_heads + 1) / 2;
        if (c->q_heads > ZZ_MAX_Q_HEADS) {
            zz_errorf(err, "%s: %d query heads (at most %d)", zz_kc_kind_name(c->kind), c->q_heads, ZZ_MAX_Q_HEADS);
            goto fail;
        }
        for (int i = 0; i < c->q_heads; i++) index[i] = i < half ? 2 * i : 2 * (i - half) + 1;
        ZZ_CUDA_OR_GOTO(cudaMalloc((void **)&r->index, sizeof(int) * (size_t)c->q_heads), fail);
        ZZ_CUDA_OR_GOTO(cudaMemcpy(r->index, index, sizeof(int) * (size_t)c->q_heads, cudaMemcpyHostToDevice), fail);
    }

    /* First launches, unblocked (module loading); a decode launch leaves
     * the partial results a combine alone reads. */
    for (int s = 0; s < r->sets; s++)
        if (launch_set(r, s, stream, err)) goto fail;
    ZZ_CUDA_OR_GOTO(cudaStreamSynchronize(stream), fail);
    return 0;
fail:
    zz_kernel_run_free(r);
    return -1;
}

int zz_launch_timer_init(zz_launch_timer *t, cudaStream_t stream, zz_error *err) {
    memset(t, 0, sizeof *t);
    if (!stream) return zz_errorf(err, "launch timer: the legacy default stream cannot be captured; create a stream");
    t->stream = stream;
    ZZ_CUDA_OR_GOTO(cudaEventCreate(&t->start), fail);
    ZZ_CUDA_OR_GOTO(cudaEventCreate(&t->stop), fail);
    ZZ_CUDA_OR_GOTO(cudaHostAlloc((void **)&t->release, sizeof *t->release, cudaHostAllocMapped), fail);
    *t->release = 1;
    return 0;
fail:
    zz_launch_timer_free(t);
    return -1;
}

void zz_launch_timer_free(zz_launch_timer *t) {
    if (t->start) cudaEventDestroy(t->start);
    if (t->stop) cudaEventDestroy(t->stop);
    if (t->release) cudaFreeHost((void *)t->release);
    memset(t, 0, sizeof *t);
}

int zz_kernel_run_time(zz_kernel_run *r, zz_launch_timer *t, int blocked, int launches, double *seconds,
                       zz_error *err) {
    float ms = 0;
    if (launches < 1 || launches > ZZ_KC_MAX_BATCH)
        return zz_errorf(err, "%s: a batch of %d launches (1..%d)", zz_kc_kind_name(r->c.kind), launches, ZZ_KC_MAX_BATCH);
    if (launches != r->batch_launches && build_batches(r, launches, t->stream, err)) return -1;
    cudaGraphExec_t graph = r->batch[r->next_batch];
    r->next_batch = (r->next_batch + 1) % r->batch_graphs;
    if (blocked && zz_block_stream(t->release, t->stream) != ZZ_OK) return zz_errorf(err, "%s", zz_kernel_error());
    ZZ_CUDA_OR_GOTO(cudaEventRecord(t->start, t->stream), fail);
    ZZ_CUDA_OR_GOTO(cudaGraphLaunch(graph, t->stream), fail);
    ZZ_CUDA_OR_GOTO(cudaEventRecord(t->stop, t->stream), fail);
    int held = !blocked || *t->release == 0;
    *t->release = 1;
    ZZ_CUDA_OR_RETURN(cudaEventSynchronize(t->stop));
    if (!held)
        return zz_errorf(err, "%s: the stream blocker gave up (2 s) before the launches were enqueued",
                         zz_kc_kind_name(r->c.kind));
    ZZ_CUDA_OR_RETURN(cudaEventElapsedTime(&ms, t->start, t->stop));
    *seconds = ms * 1e-3;
    return 0;
fail:
    *t->release = 1; /* never leave the stream held */
    return -1;
}

int zz_kernel_batch_us_parse(const char *text, double *us, zz_error *err) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= 0 && v <= 1e6))
        return zz_errorf(err, "--batch-us %s: need a number of microseconds, 0 to 1e6", text);
    *us = v;
    return 0;
}

int zz_kernel_run_batch_for(zz_kernel_run *r, zz_launch_timer *t, double target_s, int *launches, zz_error *err) {
    *launches = 1;
    if (target_s <= 0) return 0;
    double fastest = 0;
    for (int i = 0; i < 3; i++) {
        double s;
        if (zz_kernel_run_time(r, t, 1, 1, &s, err)) return -1;
        if (i == 0 || s < fastest) fastest = s;
    }
    double n = fastest > 0 ? target_s / fastest : ZZ_KC_MAX_BATCH;
    *launches = n >= ZZ_KC_MAX_BATCH ? ZZ_KC_MAX_BATCH : n <= 1 ? 1 : (int)n + 1;
    return 0;
}
