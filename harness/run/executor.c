/* The executor (executor.h): buffers sized like a model's, one step = every
 * layer's ops of the plan, eager or as a replayed CUDA graph. */
#include "executor.h"
#include "check.h"
#include "clock.h"
#include "device.h"
#include "executor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "nvtx.h"
#include "variants.h"
#include "work.h"

/* Kernel-name tags: substrings of the (mangled) names CUPTI reports. */
#define TAG_PREFILL "prefill_kernel"
#define TAG_DECODE "decode_split_kernel"
#define TAG_ONE_LAUNCH "decode_one_launch_kernel"
#define TAG_FUSED_DECODE "decode_fused_kernel"
#define TAG_FUSED_PREFILL "prefill_fused_kernel"
#define TAG_COMBINE "combine_kernel"
#define TAG_CACHE "cache_write_kernel"
#define TAG_WINDOW "streaming_window_kernel"
#define TAG_COPY "copy_heads_kernel"

const char *zz_mode_name(zz_mode mode) { return mode == ZZ_MODE_GRAPH ? "graph" : "eager"; }

int zz_mode_from_name(const char *name, zz_mode *out) {
    if (!strcmp(name, "eager")) return *out = ZZ_MODE_EAGER, 0;
    if (!strcmp(name, "graph")) return *out = ZZ_MODE_GRAPH, 0;
    return -1;
}

/* ---- sizes ---- */

executor_sizes zz_executor_sizes(const zz_plan *p) {
    const zz_model *m = &p->model;
    const zz_workload *w = &p->workload;
    executor_sizes s = {0};
    int decode = w->phase == ZZ_DECODE;
    s.chunked = !decode && w->chunk > 0 && w->chunk < w->ctx;
    s.tokens = decode ? 1 : (int)(s.chunked ? w->chunk : w->ctx);
    s.full_capacity = (int)(decode ? w->ctx + 1 : w->ctx);
    for (int l = 0; l < m->layers; l++) {
        const zz_layer_plan *lp = &p->layers[l];
        if (lp->retrieval_heads > s.max_retrieval) s.max_retrieval = lp->retrieval_heads;
        if (lp->streaming_heads > s.max_streaming) s.max_streaming = lp->streaming_heads;
    }
    long long b = w->batch, d = m->head_dim;
    s.act_q = b * s.tokens * m->q_heads * d;
    s.act_kv = b * s.tokens * m->kv_heads * d;
    s.full_cache = b * s.full_capacity * d;  /* per KV head */
    s.ring_cache = b * (long long)(w->sink + w->recent) * d;
    s.window = s.chunked ? b * (long long)(w->sink + w->recent + s.tokens) * s.max_streaming * d : 0;
    return s;
}

static int is_one_launch(const zz_plan *p) {
    return p->workload.phase == ZZ_DECODE && p->workload.kernel == ZZ_DECODE_ONE_LAUNCH;
}

/* A decode whose mixed layers run duo-fused's one launch. */
static int has_fused_decode(const zz_plan *p) {
    return p->workload.phase == ZZ_DECODE && p->mixed_layers > 0 && zz_layout_info_of(p->layout)->fused;
}

/* The decode launches of the plan append and combine in one kernel: they
 * need the ticket counters and the occupancy of that kernel family. */
static int needs_tickets(const zz_plan *p) { return is_one_launch(p) || has_fused_decode(p); }

/* duo-fused decode's arguments for layer l's mixed op, the data left out. */
static zz_decode_fused_args fused_decode_shape(const zz_plan *p, const zz_layer_plan *lp) {
    zz_decode_fused_args a = {0};
    a.batch = p->workload.batch, a.head_dim = p->model.head_dim, a.pos = (int)p->workload.ctx;
    a.sink = p->workload.sink, a.recent = p->workload.recent;
    a.q.heads = a.o.heads = p->model.q_heads;
    a.heads.kv_heads = p->model.kv_heads, a.heads.retrieval = lp->retrieval_heads;
    for (int h = 0; h < p->model.kv_heads; h++) a.heads.order[h] = (unsigned char)h;  /* reordered at load */
    return a;
}

static size_t decode_workspace_of_variant(const zz_plan *p, int sm_count, int resident);

static size_t decode_workspace(const zz_plan *p, int sm_count, int resident) {
    size_t most = decode_workspace_of_variant(p, sm_count, resident);
    if (has_fused_decode(p))
        for (int l = 0; l < p->model.layers; l++) {
            if (p->layers[l].kind != ZZ_LAYER_MIXED) continue;
            const zz_decode_fused_args a = fused_decode_shape(p, &p->layers[l]);
            const size_t bytes = zz_decode_fused_workspace_bytes(&a, sm_count, resident);
            if (bytes > most) most = bytes;
        }
    return most;
}

/* The workspace the phase's decode variant needs for its launches. */
static size_t decode_workspace_of_variant(const zz_plan *p, int sm_count, int resident) {
    if (p->workload.phase != ZZ_DECODE) return 0;
    /* The largest split-KV partial buffer any decode launch of the step needs:
     * the widest group against the longest cache. */
    const zz_model *m = &p->model;
    zz_decode_args a = {0};
    a.batch = p->workload.batch, a.head_dim = m->head_dim, a.pos = (int)p->workload.ctx;
    a.mask = (zz_mask){ZZ_MASK_FULL, 0, 0, 0};
    if (is_one_launch(p)) {
        /* The wave rule's blocks are not monotone in the heads a launch
         * covers: the largest over every head count a launch may have. */
        size_t most = 0;
        for (int n = 1; n <= m->kv_heads; n++) {
            a.q.heads = n * (m->q_heads / m->kv_heads), a.k.heads = n;
            const size_t bytes = zz_decode_one_launch_workspace_bytes(&a, sm_count, resident);
            if (bytes > most) most = bytes;
        }
        return most;
    }
    a.q.heads = m->q_heads, a.k.heads = 1;  /* one KV head: the most splits per head */
    size_t one_head = zz_decode_workspace_bytes(&a, sm_count);
    return one_head; /* splits are chosen per launch for its KV heads; one head bounds them all */
}

/* The one-launch decode's ticket counters: one per sequence and KV head. */
static size_t ticket_bytes(const zz_plan *p) {
    return needs_tickets(p) ? sizeof(int) * (size_t)p->workload.batch * (size_t)p->model.kv_heads : 0;
}

/* The layout-specific buffers (ZZ_BUFFER_*) the plan needs. */
static unsigned plan_buffers(const zz_plan *p) {
    return p->mixed_layers > 0 ? zz_layout_info_of(p->layout)->buffers : 0;
}

double zz_executor_device_bytes(const zz_plan *p, int sm_count, int resident) {
    executor_sizes s = zz_executor_sizes(p);
    int group = p->model.q_heads / p->model.kv_heads;
    double elems = 2.0 * s.act_q + 2.0 * s.act_kv + 2.0 * s.window;  /* q, out; k, v; window */
    const unsigned buffers = plan_buffers(p);
    if (buffers & ZZ_BUFFER_SPLIT_ACTIVATIONS) elems += 2.0 * s.act_q + 2.0 * s.act_kv;
    if (buffers & ZZ_BUFFER_GROUP_OUTPUTS)
        elems += (double)(s.act_q / p->model.q_heads) * group * (s.max_retrieval + s.max_streaming);
    for (int l = 0; l < p->model.layers; l++)
        elems += 2.0 * (p->layers[l].retrieval_heads * (double)s.full_cache +
                        p->layers[l].streaming_heads * (double)s.ring_cache);
    return elems * sizeof(bf16) + (double)decode_workspace(p, sm_count, resident) + (double)ticket_bytes(p);
}

/* ---- allocation ---- */

/* Random bf16 in [-1, 1]: never zeros, which run faster than real data. */
static int alloc_random(zz_executor *ex, bf16 **x, long long n, zz_error *err) {
    *x = NULL;
    if (n == 0) return 0;
    static unsigned long long seed = 1;
    ZZ_CUDA_OR_RETURN(cudaMalloc((void **)x, (size_t)n * sizeof(bf16)));
    ZZ_KERNEL_OR_RETURN(zz_fill_uniform(*x, n, seed++ * 0x9E3779B97F4A7C15ULL, 1.0f, ex->stream));
    return 0;
}

static int upload_order(const zz_layer_plan *lp, int group, int kv_heads, int **q_index, int **kv_index,
                        zz_error *err) {
    int q[ZZ_MAX_Q_HEADS], kv[ZZ_MAX_KV_HEADS];
    for (int i = 0; i < kv_heads; i++) {
        kv[i] = lp->kv_order[i];
        for (int j = 0; j < group; j++) q[i * group + j] = lp->kv_order[i] * group + j;
    }
    ZZ_CUDA_OR_RETURN(cudaMalloc((void **)q_index, sizeof(int) * (size_t)kv_heads * group));
    ZZ_CUDA_OR_RETURN(cudaMalloc((void **)kv_index, sizeof(int) * (size_t)kv_heads));
    ZZ_CUDA_OR_RETURN(cudaMemcpy(*q_index, q, sizeof(int) * (size_t)kv_heads * group, cudaMemcpyHostToDevice));
    ZZ_CUDA_OR_RETURN(cudaMemcpy(*kv_index, kv, sizeof(int) * (size_t)kv_heads, cudaMemcpyHostToDevice));
    return 0;
}

/* ---- one step ---- */

static int note_launch(zz_executor *ex, int layer, zz_category category, const char *tag, zz_work work,
                       zz_error *err) {
    if (!ex->dry) return 0;
    if (ex->n_launches == ex->cap_launches) {
        int cap = ex->cap_launches ? 2 * ex->cap_launches : 256;
        zz_launch *grown = realloc(ex->launches, sizeof *grown * (size_t)cap);
        if (!grown) return zz_errorf(err, "out of memory listing %d launches", cap);
        ex->launches = grown, ex->cap_launches = cap;
    }
    ex->launches[ex->n_launches++] = (zz_launch){layer, category, tag, work.bytes, work.flops};
    return 0;
}

/* A tensor of the layer's activations with `heads` heads, as laid out for a
 * pass of ex->tokens tokens; the first `tokens` are used. */
static zz_view act(const zz_executor *ex, bf16 *data, int heads) {
    return zz_view_dense(data, ex->tokens, heads, ex->head_dim);
}

/* The chunked streaming window of `heads` heads: K and V. */
static void window_views(const zz_executor *ex, int heads, zz_view *k, zz_view *v) {
    *k = zz_view_dense(ex->win_k, ex->ring_slots + ex->tokens, heads, ex->head_dim);
    *v = *k;
    v->data = ex->win_v;
}

typedef struct {
    int layer, pass, pos0, tokens;  /* this pass: positions pos0 .. pos0+tokens-1 */
    zz_view q, k, v, out;           /* the layer's inputs and output, in split order */
} pass_ctx;

#define LAUNCH(ex, call)                                                      \
    do {                                                                      \
        if (!(ex)->dry && (call) != ZZ_OK) return zz_errorf(err, "layer %d: %s", c->layer, zz_kernel_error()); \
    } while (0)

static int run_op(zz_executor *ex, const pass_ctx *c, const zz_op *op, zz_error *err) {
    const int B = ex->batch, D = ex->head_dim, l = c->layer;
    const layer_buffers *lb = &ex->layers[l];
    const zz_layer_plan *lp = &ex->plan.layers[l];
    /* The op's work is the whole step's: each pass's launch gets its mean. */
    const double share = 1.0 / (double)ex->plan.passes;
    const zz_work op_share = {.bytes = op->bytes * share, .flops = op->flops * share};
    const zz_work_shape covered = {B, op->q_count, op->kv_count, D};
    const int r = lp->retrieval_heads, s = lp->streaming_heads;
    zz_view full_k = zz_view_dense(lb->k_full, ex->full_capacity, r ? r : 1, D), full_v = full_k;
    full_v.data = lb->v_full;
    zz_view ring_k = zz_view_dense(lb->k_ring, ex->ring_slots, s ? s : 1, D), ring_v = ring_k;
    ring_v.data = lb->v_ring;
    zz_view new_k = zz_view_heads(c->k, op->kv_first, op->kv_count, D);
    zz_view new_v = zz_view_heads(c->v, op->kv_first, op->kv_count, D);
    zz_view q = zz_view_heads(c->q, op->q_first, op->q_count, D);
    zz_view out = zz_view_heads(c->out, op->q_first, op->q_count, D);
    if (layer_copies(ex, l) & ZZ_COPY_CONCAT && (op->kind == ZZ_OP_ATTN_FULL || op->kind == ZZ_OP_ATTN_STREAMING))
        out = act(ex, op->kind == ZZ_OP_ATTN_FULL ? ex->out_full : ex->out_streaming, op->q_count);
    const int decode = ex->plan.workload.phase == ZZ_DECODE;
    const zz_mask full = {ZZ_MASK_FULL, 0, 0, 0};
    const zz_mask streaming = {ZZ_MASK_STREAMING, ex->sink, ex->recent, ex->chunked};
    zz_nvtx_push(zz_op_name(op->kind), 0);

    switch (op->kind) {
    case ZZ_OP_GATHER: {
        zz_view model_q = act(ex, ex->q, ex->q_heads), model_k = act(ex, ex->k_new, ex->kv_heads),
                model_v = act(ex, ex->v_new, ex->kv_heads);
        LAUNCH(ex, zz_gather_heads(model_q, lb->q_index, ex->q_heads, c->q, B, c->tokens, D, ex->stream));
        LAUNCH(ex, zz_gather_heads(model_k, lb->kv_index, ex->kv_heads, c->k, B, c->tokens, D, ex->stream));
        LAUNCH(ex, zz_gather_heads(model_v, lb->kv_index, ex->kv_heads, c->v, B, c->tokens, D, ex->stream));
        const zz_work_shape model = {B, ex->q_heads, ex->kv_heads, D};
        const zz_work q_copy = zz_work_head_copy(&model, c->tokens, ex->q_heads),
                      kv_copy = zz_work_head_copy(&model, c->tokens, ex->kv_heads);
        if (note_launch(ex, l, op->category, TAG_COPY, q_copy, err) ||
            note_launch(ex, l, op->category, TAG_COPY, kv_copy, err) ||
            note_launch(ex, l, op->category, TAG_COPY, kv_copy, err))
            return -1;
        break;
    }
    case ZZ_OP_CACHE_APPEND:
        LAUNCH(ex, zz_cache_write(new_k, new_v, full_k, full_v, B, D, ex->full_capacity, 0, 0, c->pos0, c->tokens,
                                  ex->stream));
        if (note_launch(ex, l, op->category, TAG_CACHE, op_share, err)) return -1;
        break;
    case ZZ_OP_CACHE_RING:
        if (ex->chunked) {  /* the window reads the ring as it was before this chunk */
            zz_view wk, wv;
            window_views(ex, s, &wk, &wv);
            LAUNCH(ex, zz_streaming_window(ring_k, ring_v, new_k, new_v, wk, wv, B, D, ex->sink, ex->recent, c->pos0,
                                           c->tokens, ex->stream));
            int keys = zz_streaming_window_keys(ex->sink, ex->recent, c->pos0) + c->tokens;
            if (note_launch(ex, l, op->category, TAG_WINDOW, zz_work_kv_copy(&covered, keys), err)) return -1;
        }
        LAUNCH(ex, zz_cache_write(new_k, new_v, ring_k, ring_v, B, D, ex->ring_slots, ex->sink, ex->recent, c->pos0,
                                  c->tokens, ex->stream));
        if (note_launch(ex, l, op->category, TAG_CACHE, op_share, err)) return -1;
        break;
    case ZZ_OP_ATTN_FULL:
    case ZZ_OP_ATTN_STREAMING: {
        int is_full = op->kind == ZZ_OP_ATTN_FULL;
        if (decode && ex->one_launch) {  /* the op's new token appended by the same launch */
            zz_decode_args a = {q, is_full ? full_k : ring_k, is_full ? full_v : ring_v, out, B, D, c->pos0,
                                is_full ? full : streaming, 0};
            LAUNCH(ex, zz_decode_one_launch(&a, new_k, new_v, ex->workspace, ex->tickets, ex->sm_count, ex->resident,
                                            ex->stream));
            if (note_launch(ex, l, op->category, TAG_ONE_LAUNCH, op_share, err)) return -1;
            break;
        }
        if (decode) {
            zz_decode_args a = {q, is_full ? full_k : ring_k, is_full ? full_v : ring_v, out, B, D, c->pos0,
                                is_full ? full : streaming, 0};
            LAUNCH(ex, zz_decode_attention(&a, ex->workspace, ex->sm_count, ex->stream));
            const int splits = zz_work_decode_splits(&a, ex->sm_count);
            if (note_launch(ex, l, op->category, TAG_DECODE, op_share, err) ||
                (splits > 1 && note_launch(ex, l, ZZ_CAT_COMBINE, TAG_COMBINE,
                                           zz_work_decode_combine(&covered, splits), err)))
                return -1;
            break;
        }
        zz_prefill_args a = {q, new_k, new_v, out, B, D, c->tokens, 0, is_full ? full : streaming};
        if (ex->chunked && is_full) {  /* keys 0 .. pos0+tokens-1 from the cache */
            a.k = full_k, a.v = full_v, a.q_pos0 = c->pos0;
        } else if (ex->chunked) {      /* keys from the [sink | recent | chunk] window */
            window_views(ex, s, &a.k, &a.v);
            a.q_pos0 = zz_streaming_window_keys(ex->sink, ex->recent, c->pos0);
        }
        LAUNCH(ex, zz_prefill_attention(&a, ex->stream));
        if (note_launch(ex, l, op->category, TAG_PREFILL, op_share, err)) return -1;
        break;
    }
    case ZZ_OP_ATTN_MIXED:
        if (decode) {
            zz_decode_fused_args a = fused_decode_shape(&ex->plan, lp);
            a.q = c->q, a.o = c->out, a.new_k = c->k, a.new_v = c->v;
            a.k_full = full_k, a.v_full = full_v, a.k_ring = ring_k, a.v_ring = ring_v;
            LAUNCH(ex, zz_decode_fused(&a, ex->workspace, ex->tickets, ex->sm_count, ex->resident, ex->stream));
            if (note_launch(ex, l, op->category, TAG_FUSED_DECODE, op_share, err)) return -1;
            break;
        } else {
            zz_prefill_fused_args a = {.q = c->q, .o = c->out, .k_full = c->k, .v_full = c->v, .batch = B,
                                       .head_dim = D, .q_len = c->tokens, .q_pos0 = c->pos0,
                                       .q_pos0_stream = c->pos0, .streaming = streaming, .keys_model_order = 1};
            a.heads.kv_heads = ex->kv_heads, a.heads.retrieval = r;
            for (int h = 0; h < ex->kv_heads; h++) a.heads.order[h] = (unsigned char)h;  /* reordered at load */
            if (ex->chunked) {  /* retrieval heads from their cache, streaming heads from the window */
                a.keys_model_order = 0;
                a.k_full = full_k, a.v_full = full_v;
                window_views(ex, s, &a.k_stream, &a.v_stream);
                a.q_pos0_stream = zz_streaming_window_keys(ex->sink, ex->recent, c->pos0);
            }
            LAUNCH(ex, zz_prefill_fused(&a, ex->stream));
            if (note_launch(ex, l, op->category, TAG_FUSED_PREFILL, op_share, err)) return -1;
        }
        break;
    case ZZ_OP_CONCAT:
        LAUNCH(ex, zz_concat_heads(act(ex, ex->out_full, r * ex->group), act(ex, ex->out_streaming, s * ex->group),
                                   act(ex, ex->out, ex->q_heads), B, c->tokens, D, ex->stream));
        if (note_launch(ex, l, op->category, TAG_COPY, op_share, err)) return -1;
        break;
    case ZZ_OP_SCATTER:
        LAUNCH(ex, zz_scatter_heads(c->out, lb->q_index, ex->q_heads, act(ex, ex->out, ex->q_heads), B, c->tokens, D,
                                    ex->stream));
        if (note_launch(ex, l, op->category, TAG_COPY, op_share, err)) return -1;
        break;
    default:
        return zz_errorf(err, "layer %d: op %s: the model step is not run by this executor yet", l,
                         zz_op_name(op->kind));
    }
    zz_nvtx_pop();
    return 0;
}

int zz_executor_run_layer(zz_executor *ex, int pass, int l, zz_error *err) {
    pass_ctx c;
    c.layer = l;
    c.pass = pass;
    zz_executor_pass_tokens(ex, pass, &c.pos0, &c.tokens);
    char name[32];
    snprintf(name, sizeof name, "layer %d", l);
    zz_nvtx_push(name, 0);
    int gather = is_gather_layer(ex, l);
    c.q = act(ex, gather ? ex->q_split : ex->q, ex->q_heads);
    c.k = act(ex, gather ? ex->k_split : ex->k_new, ex->kv_heads);
    c.v = act(ex, gather ? ex->v_split : ex->v_new, ex->kv_heads);
    c.out = act(ex, gather ? ex->out_split : ex->out, ex->q_heads);
    const zz_layer_plan *lp = &ex->plan.layers[l];
    for (int i = 0; i < lp->n_ops; i++)
        if (run_op(ex, &c, &lp->ops[i], err)) return -1;
    zz_nvtx_pop();
    return 0;
}

static int run_step(zz_executor *ex, zz_error *err) {
    zz_nvtx_push("step", 0);
    for (long long pass = 0; pass < ex->plan.passes; pass++)
        for (int l = 0; l < ex->plan.model.layers; l++)
            if (zz_executor_run_layer(ex, (int)pass, l, err)) return -1;
    zz_nvtx_pop();
    return 0;
}

int zz_executor_enqueue(zz_executor *ex, zz_mode mode, double *host_seconds, zz_error *err) {
    double t0 = zz_wall_seconds();
    if (mode == ZZ_MODE_EAGER) {
        if (run_step(ex, err)) return -1;
    } else {
        if (!ex->graph) {
            cudaGraph_t graph;
            ZZ_CUDA_OR_RETURN(cudaStreamBeginCapture(ex->stream, cudaStreamCaptureModeThreadLocal));
            if (run_step(ex, err)) {
                cudaStreamEndCapture(ex->stream, &graph);
                return -1;
            }
            ZZ_CUDA_OR_RETURN(cudaStreamEndCapture(ex->stream, &graph));
            cudaError_t rc = cudaGraphInstantiate(&ex->graph, graph, 0);
            cudaGraphDestroy(graph);
            if (rc != cudaSuccess)
                return zz_errorf(err, "%s:%d: cudaGraphInstantiate: %s", __FILE__, __LINE__, cudaGetErrorString(rc));
            t0 = zz_wall_seconds();  /* capture is set-up, not the step's enqueue cost */
        }
        ZZ_CUDA_OR_RETURN(cudaGraphLaunch(ex->graph, ex->stream));
    }
    if (host_seconds) *host_seconds = zz_wall_seconds() - t0;
    return 0;
}

const zz_launch *zz_executor_launches(const zz_executor *ex, int *count) {
    *count = ex->n_launches;
    return ex->launches;
}

/* ---- create / destroy ---- */

void zz_executor_destroy(zz_executor *ex) {
    if (!ex) return;
    if (ex->graph) cudaGraphExecDestroy(ex->graph);
    bf16 *shared[] = {ex->q, ex->k_new, ex->v_new, ex->out, ex->q_split, ex->k_split, ex->v_split,
                      ex->out_split, ex->out_full, ex->out_streaming, ex->win_k, ex->win_v};
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) cudaFree(shared[i]);
    cudaFree(ex->workspace);
    cudaFree(ex->tickets);
    if (ex->layers)
        for (int l = 0; l < ex->plan.model.layers; l++) {
            layer_buffers *lb = &ex->layers[l];
            cudaFree(lb->k_full), cudaFree(lb->v_full), cudaFree(lb->k_ring), cudaFree(lb->v_ring);
            cudaFree(lb->q_index), cudaFree(lb->kv_index);
        }
    free(ex->layers);
    free(ex->launches);
    free(ex);
}

static int create(zz_executor *ex, zz_error *err) {
    const zz_plan *p = &ex->plan;
    executor_sizes s = zz_executor_sizes(p);
    ex->batch = p->workload.batch;
    ex->q_heads = p->model.q_heads, ex->kv_heads = p->model.kv_heads, ex->head_dim = p->model.head_dim;
    ex->group = ex->q_heads / ex->kv_heads;
    ex->ctx = (int)p->workload.ctx, ex->sink = p->workload.sink, ex->recent = p->workload.recent;
    ex->ring_slots = ex->sink + ex->recent;
    ex->tokens = s.tokens, ex->full_capacity = s.full_capacity, ex->chunked = s.chunked;
    const unsigned buffers = plan_buffers(p);

    if (alloc_random(ex, &ex->q, s.act_q, err) || alloc_random(ex, &ex->k_new, s.act_kv, err) ||
        alloc_random(ex, &ex->v_new, s.act_kv, err) || alloc_random(ex, &ex->out, s.act_q, err))
        return -1;
    if (buffers & ZZ_BUFFER_SPLIT_ACTIVATIONS &&
        (alloc_random(ex, &ex->q_split, s.act_q, err) || alloc_random(ex, &ex->k_split, s.act_kv, err) ||
         alloc_random(ex, &ex->v_split, s.act_kv, err) || alloc_random(ex, &ex->out_split, s.act_q, err)))
        return -1;
    long long per_q_head = s.act_q / ex->q_heads;
    if (buffers & ZZ_BUFFER_GROUP_OUTPUTS &&
        (alloc_random(ex, &ex->out_full, per_q_head * s.max_retrieval * ex->group, err) ||
         alloc_random(ex, &ex->out_streaming, per_q_head * s.max_streaming * ex->group, err)))
        return -1;
    if (alloc_random(ex, &ex->win_k, s.window, err) || alloc_random(ex, &ex->win_v, s.window, err)) return -1;
    ex->one_launch = is_one_launch(p);
    if (needs_tickets(p)) {
        ZZ_KERNEL_OR_RETURN(zz_decode_one_launch_resident(ex->head_dim, &ex->resident));
        ZZ_CUDA_OR_RETURN(cudaMalloc((void **)&ex->tickets, ticket_bytes(p)));
        ZZ_CUDA_OR_RETURN(cudaMemsetAsync(ex->tickets, 0, ticket_bytes(p), ex->stream));
    }
    ex->workspace_bytes = decode_workspace(p, ex->sm_count, ex->resident);
    if (ex->workspace_bytes) ZZ_CUDA_OR_RETURN(cudaMalloc(&ex->workspace, ex->workspace_bytes));

    ex->layers = calloc((size_t)p->model.layers, sizeof *ex->layers);
    if (!ex->layers) return zz_errorf(err, "out of memory for %d layers", p->model.layers);
    for (int l = 0; l < p->model.layers; l++) {
        layer_buffers *lb = &ex->layers[l];
        const zz_layer_plan *lp = &p->layers[l];
        if (alloc_random(ex, &lb->k_full, s.full_cache * lp->retrieval_heads, err) ||
            alloc_random(ex, &lb->v_full, s.full_cache * lp->retrieval_heads, err) ||
            alloc_random(ex, &lb->k_ring, s.ring_cache * lp->streaming_heads, err) ||
            alloc_random(ex, &lb->v_ring, s.ring_cache * lp->streaming_heads, err))
            return -1;
        if (buffers & ZZ_BUFFER_HEAD_INDEX && lp->kind == ZZ_LAYER_MIXED &&
            upload_order(lp, ex->group, ex->kv_heads, &lb->q_index, &lb->kv_index, err))
            return -1;
    }
    ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(ex->stream));
    ex->dry = 1;  /* list the launches without launching */
    int rc = run_step(ex, err);
    ex->dry = 0;
    return rc;
}

int zz_executor_create(const zz_plan *plan, cudaStream_t stream, int sm_count, zz_executor **out, zz_error *err) {
    *out = NULL;
    if (plan->workload.phase == ZZ_DECODE && plan->workload.ctx + 1 > 0x7fffffff)
        return zz_errorf(err, "context %lld too long", plan->workload.ctx);
    zz_executor *ex = calloc(1, sizeof *ex);
    if (!ex) return zz_errorf(err, "out of memory");
    ex->plan = *plan;
    ex->stream = stream;
    ex->sm_count = sm_count;
    if (create(ex, err)) {
        zz_executor_destroy(ex);
        return -1;
    }
    *out = ex;
    return 0;
}
