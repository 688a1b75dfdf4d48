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
#include "kernel_tags.h"
#include "nvtx.h"
#include "variants.h"
#include "work.h"

/* Llama's RMSNorm epsilon and rotary base: neither changes any kernel's work. */
#define RMSNORM_EPS 1e-5f
#define ROPE_THETA 10000.0f

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
    s.model_step = w->step == ZZ_STEP_MODEL;
    if (s.model_step) {
        s.act_x = b * s.tokens * m->hidden;
        s.act_qkv = s.act_q + 2 * s.act_kv;
        s.act_gu = b * s.tokens * 2LL * m->mlp;
        s.act_h = b * s.tokens * m->mlp;
        s.logits = b * m->vocab;
    }
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

zz_memory zz_executor_memory(const zz_plan *p, int sm_count, int resident) {
    executor_sizes s = zz_executor_sizes(p);
    int group = p->model.q_heads / p->model.kv_heads;
    /* the attention output; q, k, v (a model step's are views of its QKV output); the chunked window */
    double act = s.model_step ? s.act_q + s.act_qkv + 2.0 * s.act_x + s.act_gu + s.act_h + s.logits
                              : 2.0 * s.act_q + 2.0 * s.act_kv;
    act += 2.0 * s.window;
    const unsigned buffers = plan_buffers(p);
    if (buffers & ZZ_BUFFER_SPLIT_ACTIVATIONS) act += 2.0 * s.act_q + 2.0 * s.act_kv;
    if (buffers & ZZ_BUFFER_GROUP_OUTPUTS)
        act += (double)(s.act_q / p->model.q_heads) * group * (s.max_retrieval + s.max_streaming);
    double caches = 0;
    for (int l = 0; l < p->model.layers; l++)
        caches += 2.0 * (p->layers[l].retrieval_heads * (double)s.full_cache +
                         p->layers[l].streaming_heads * (double)s.ring_cache);
    return (zz_memory){
        .weights = p->weight_bytes,
        .kv_cache = caches * sizeof(bf16),
        .activations = act * sizeof(bf16),
        .workspaces = (double)decode_workspace(p, sm_count, resident) + (double)ticket_bytes(p) +
                      (s.model_step ? (double)ZZ_GEMM_WORKSPACE_BYTES : 0),
    };
}

double zz_executor_device_bytes(const zz_plan *p, int sm_count, int resident) {
    const zz_memory m = zz_executor_memory(p, sm_count, resident);
    return m.kv_cache + m.activations + m.workspaces;
}

/* ---- weights ---- */

static size_t aligned_256(size_t bytes) { return (bytes + 255) / 256 * 256; }

/* One tensor of a model's weights: its elements, where its pointer goes,
 * and its fill. weight_tensors lists them in their order in the block. */
typedef struct {
    long long elements;
    bf16 **place;
    float scale;  /* uniform in ±scale; 0: all ones (a norm weight) */
} weight_tensor;

static int weight_tensors(zz_weights *w, weight_tensor *t) {
    const zz_model *m = &w->model;
    const long long H = m->hidden, F = m->mlp, V = m->vocab, D = m->head_dim;
    int n = 0;
    for (int l = 0; l < m->layers; l++) {
        t[n++] = (weight_tensor){H, &w->attn_norm[l], 0};
        t[n++] = (weight_tensor){(m->q_heads + 2LL * m->kv_heads) * D * H, &w->qkv[l], 0.02f};
        t[n++] = (weight_tensor){H * m->q_heads * D, &w->o[l], 0.02f};
        t[n++] = (weight_tensor){H, &w->mlp_norm[l], 0};
        t[n++] = (weight_tensor){2 * F * H, &w->gate_up[l], 0.02f};
        t[n++] = (weight_tensor){H * F, &w->down[l], 0.02f};
    }
    t[n++] = (weight_tensor){H, &w->final_norm, 0};
    t[n++] = (weight_tensor){V * H, &w->lm_head, 0.02f};
    t[n++] = (weight_tensor){V * H, &w->embed, 1.0f};
    return n;
}

void zz_weights_destroy(zz_weights *w) {
    if (!w) return;
    cudaFree(w->block);
    free(w);
}

int zz_weights_create(const zz_model *m, unsigned long long seed, cudaStream_t stream, zz_weights **out,
                      zz_error *err) {
    *out = NULL;
    if (zz_model_check(m, err) || zz_model_check_step(m, ZZ_STEP_MODEL, err)) return -1;
    zz_weights *w = calloc(1, sizeof *w);
    bf16 *ones = malloc((size_t)m->hidden * sizeof *ones);
    weight_tensor *t = malloc(sizeof *t * (6 * (size_t)m->layers + 3));
    if (!w || !ones || !t) {
        free(w), free(ones), free(t);
        return zz_errorf(err, "weights: out of memory");
    }
    w->model = *m;
    const int n = weight_tensors(w, t);
    for (int i = 0; i < n; i++) w->bytes += aligned_256((size_t)t[i].elements * sizeof(bf16));
    for (int i = 0; i < m->hidden; i++) ones[i] = 0x3F80;  /* bf16 1.0 */
    int rc = -1;
    ZZ_CUDA_OR_GOTO(cudaMalloc(&w->block, w->bytes), done);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        *t[i].place = (bf16 *)((char *)w->block + at);
        at += aligned_256((size_t)t[i].elements * sizeof(bf16));
        if (t[i].scale == 0) {
            ZZ_CUDA_OR_GOTO(cudaMemcpyAsync(*t[i].place, ones, (size_t)t[i].elements * sizeof(bf16),
                                            cudaMemcpyHostToDevice, stream),
                            done);
        } else {
            const unsigned long long tensor_seed = (seed + 1) * 0x9E3779B97F4A7C15ULL + (unsigned long long)i;
            ZZ_KERNEL_OR_GOTO(zz_fill_uniform(*t[i].place, t[i].elements, tensor_seed, t[i].scale, stream), done);
        }
    }
    ZZ_CUDA_OR_GOTO(cudaStreamSynchronize(stream), done);  /* the host's ones are read before they go */
    rc = 0;
done:
    free(ones), free(t);
    if (rc) zz_weights_destroy(w);
    else *out = w;
    return rc;
}

/* The weights hold the plan's model: every size but the name and the
 * model's total layer count. */
static int weights_fit(const zz_weights *w, const zz_model *m, zz_error *err) {
    const zz_model *h = &w->model;
    if (h->layers != m->layers || h->q_heads != m->q_heads || h->kv_heads != m->kv_heads ||
        h->head_dim != m->head_dim || h->hidden != m->hidden || h->mlp != m->mlp || h->vocab != m->vocab)
        return zz_errorf(err, "the weights are of a model of %d layers, %d/%d heads, D %d, H %d, F %d, V %d; the plan's "
                              "has %d layers, %d/%d heads, D %d, H %d, F %d, V %d",
                         h->layers, h->q_heads, h->kv_heads, h->head_dim, h->hidden, h->mlp, h->vocab, m->layers,
                         m->q_heads, m->kv_heads, m->head_dim, m->hidden, m->mlp, m->vocab);
    return 0;
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

static int add_launch(zz_executor *ex, zz_launch launch, zz_error *err) {
    if (!ex->dry) return 0;
    if (ex->n_launches == ex->cap_launches) {
        int cap = ex->cap_launches ? 2 * ex->cap_launches : 256;
        zz_launch *grown = realloc(ex->launches, sizeof *grown * (size_t)cap);
        if (!grown) return zz_errorf(err, "out of memory listing %d launches", cap);
        ex->launches = grown, ex->cap_launches = cap;
    }
    ex->launches[ex->n_launches++] = launch;
    return 0;
}

/* A launch of one of our kernels (or a copy): one record of a known name. */
static int note_launch(zz_executor *ex, int layer, zz_category category, const char *tag, zz_work work,
                       zz_error *err) {
    return add_launch(ex, (zz_launch){layer, category, tag, work.bytes, work.flops}, err);
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

/* The layer's q, k, v in model (or load-time reordered) order: the
 * activations, or a model step's views of its QKV output. */
static void model_inputs(const zz_executor *ex, zz_view *q, zz_view *k, zz_view *v) {
    if (ex->model_step) {
        zz_model_step_views(ex, q, k, v);
        return;
    }
    *q = act(ex, ex->q, ex->q_heads), *k = act(ex, ex->k_new, ex->kv_heads), *v = act(ex, ex->v_new, ex->kv_heads);
}

typedef struct {
    int layer, pass, pos0, tokens;  /* this pass: positions pos0 .. pos0+tokens-1 */
    zz_view q, k, v, out;           /* the layer's inputs and output, in split order */
} pass_ctx;

/* A model step's row-wise ops (norms, GEMMs, SiLU) cover every sequence's
 * tokens of the pass: the buffers hold ex->tokens per sequence, so the
 * rows from the first sequence's first to the last one's last (where B > 1
 * and a last chunk is short, the rows between sequences come along). */
static int pass_rows(const zz_executor *ex, const pass_ctx *c) { return (ex->batch - 1) * ex->tokens + c->tokens; }

/* A model step's op other than the attention ops: its kernel, and its
 * launch with the op's work. */
static int run_model_op(zz_executor *ex, const pass_ctx *c, const zz_op *op, zz_work work, zz_error *err);

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
    if (zz_op_in_model_step(op->kind)) {
        const int rc = run_model_op(ex, c, op, op_share, err);
        zz_nvtx_pop();
        return rc;
    }

    switch (op->kind) {
    case ZZ_OP_GATHER: {
        zz_view model_q, model_k, model_v;
        model_inputs(ex, &model_q, &model_k, &model_v);
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
        const int hopper = ex->plan.workload.kernel == ZZ_PREFILL_WGMMA_TMA;
        LAUNCH(ex, hopper ? zz_prefill_attention_hopper(&a, ex->stream) : zz_prefill_attention(&a, ex->stream));
        if (note_launch(ex, l, op->category, hopper ? TAG_PREFILL_HOPPER : TAG_PREFILL, op_share, err)) return -1;
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
            /* The layer's kernel is the workload's prefill variant, as for the
             * other layouts' attention ops (ZZ_OP_ATTN_FULL above): where the
             * GPU cannot run wgmma-tma, its launchers refuse, and say why. */
            const int hopper = ex->plan.workload.kernel == ZZ_PREFILL_WGMMA_TMA;
            LAUNCH(ex, hopper ? zz_prefill_fused_hopper(&a, ex->stream) : zz_prefill_fused(&a, ex->stream));
            if (note_launch(ex, l, op->category, hopper ? TAG_FUSED_PREFILL_HOPPER : TAG_FUSED_PREFILL, op_share,
                            err))
                return -1;
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
        return zz_errorf(err, "layer %d: op %s is not an attention op", l, zz_op_name(op->kind));
    }
    zz_nvtx_pop();
    return 0;
}

#define LINEAR(ex, x, x_stride, w, y, y_stride, rows, in, out, beta) \
    LAUNCH(ex, zz_linear((ex)->gemm, x, x_stride, w, y, y_stride, rows, in, out, beta, (ex)->stream))

static int is_linear(zz_op_kind kind) {
    return kind == ZZ_OP_QKV || kind == ZZ_OP_O_PROJ || kind == ZZ_OP_GATE_UP || kind == ZZ_OP_DOWN ||
           kind == ZZ_OP_LM_HEAD;
}

static int run_model_op(zz_executor *ex, const pass_ctx *c, const zz_op *op, zz_work work, zz_error *err) {
    const zz_weights *w = ex->weights;
    const int l = c->layer, rows = pass_rows(ex, c), H = ex->hidden, F = ex->mlp, QD = ex->q_heads * ex->head_dim;
    const char *tag = TAG_LINEAR;
    switch (op->kind) {
    case ZZ_OP_EMBED:
        /* The pass's tokens are token ids 0, 1, ... (mod V): rows of the table
         * in order, a copy per V rows. Each copy is its own launch, with its
         * share of the work: CUPTI records each one. */
        for (long long at = 0; at < rows; at += ex->vocab) {
            const long long n = rows - at < ex->vocab ? rows - at : ex->vocab;
            if (!ex->dry)
                ZZ_CUDA_OR_RETURN(cudaMemcpyAsync(ex->x + at * H, w->embed, (size_t)(n * H) * sizeof(bf16),
                                                  cudaMemcpyDeviceToDevice, ex->stream));
            const double part = (double)n / rows;
            const zz_work share = {.bytes = work.bytes * part, .flops = work.flops * part};
            if (note_launch(ex, l, op->category, TAG_EMBED, share, err)) return -1;
        }
        return 0;
    case ZZ_OP_ATTN_NORM:
    case ZZ_OP_MLP_NORM:
        LAUNCH(ex, zz_rmsnorm(ex->x, op->kind == ZZ_OP_ATTN_NORM ? w->attn_norm[l] : w->mlp_norm[l], ex->xn, rows, H,
                              RMSNORM_EPS, ex->stream));
        tag = TAG_RMSNORM;
        break;
    case ZZ_OP_QKV: LINEAR(ex, ex->xn, H, w->qkv[l], ex->qkv, ex->qkv_width, rows, H, ex->qkv_width, 0.f); break;
    case ZZ_OP_ROTARY: {
        zz_view q, k, v;
        zz_model_step_views(ex, &q, &k, &v);
        LAUNCH(ex, zz_rotary(q, k, ex->batch, c->tokens, ex->head_dim, c->pos0, ROPE_THETA, ex->stream));
        tag = TAG_ROTARY;
        break;
    }
    case ZZ_OP_O_PROJ: LINEAR(ex, ex->out, QD, w->o[l], ex->x, H, rows, QD, H, 1.f); break;
    case ZZ_OP_GATE_UP: LINEAR(ex, ex->xn, H, w->gate_up[l], ex->gu, 2LL * F, rows, H, 2 * F, 0.f); break;
    case ZZ_OP_SILU_MUL:
        LAUNCH(ex, zz_silu_mul(ex->gu, ex->h, rows, F, ex->stream));
        tag = TAG_SILU_MUL;
        break;
    case ZZ_OP_DOWN: LINEAR(ex, ex->h, F, w->down[l], ex->x, H, rows, F, H, 1.f); break;
    case ZZ_OP_FINAL_NORM:
        LAUNCH(ex, zz_rmsnorm(ex->x, w->final_norm, ex->xn, rows, H, RMSNORM_EPS, ex->stream));
        tag = TAG_RMSNORM;
        break;
    case ZZ_OP_LM_HEAD:  /* each sequence's last token of the pass: one row per sequence */
        LINEAR(ex, ex->xn + (long long)(c->tokens - 1) * H, (long long)ex->tokens * H, w->lm_head, ex->logits,
               ex->vocab, ex->batch, H, ex->vocab, 0.f);
        break;
    default: return zz_errorf(err, "layer %d: op %s is not a model step's", l, zz_op_name(op->kind));
    }
    /* cuBLASLt picks a GEMM's kernels at run time: a library launch
     * (timeline.h). A model step never has two in a row: a norm, rotary,
     * attention or SiLU launch separates a layer's GEMMs, a norm the last
     * layer's down-proj from the LM head, and the embed copy the LM head
     * from the next step's first GEMM. */
    return add_launch(ex, (zz_launch){l, op->category, tag, work.bytes, work.flops, .library = is_linear(op->kind)},
                      err);
}

static int wanted(zz_op_kind kind, zz_run_ops which) {
    return which == ZZ_RUN_ALL || (which == ZZ_RUN_ATTENTION ? !zz_op_in_model_step(kind) : is_linear(kind));
}

static void pass_context(const zz_executor *ex, int pass, int l, pass_ctx *c) {
    c->layer = l;
    c->pass = pass;
    zz_executor_pass_tokens(ex, pass, &c->pos0, &c->tokens);
}

int zz_executor_run_layer(zz_executor *ex, int pass, int l, zz_run_ops which, zz_error *err) {
    pass_ctx c;
    pass_context(ex, pass, l, &c);
    char name[32];
    snprintf(name, sizeof name, "layer %d", l);
    zz_nvtx_push(name, 0);
    int gather = is_gather_layer(ex, l);
    if (gather) {
        c.q = act(ex, ex->q_split, ex->q_heads);
        c.k = act(ex, ex->k_split, ex->kv_heads);
        c.v = act(ex, ex->v_split, ex->kv_heads);
    } else {
        model_inputs(ex, &c.q, &c.k, &c.v);
    }
    c.out = act(ex, gather ? ex->out_split : ex->out, ex->q_heads);
    const zz_layer_plan *lp = &ex->plan.layers[l];
    for (int i = 0; i < lp->n_ops; i++)
        if (wanted(lp->ops[i].kind, which) && run_op(ex, &c, &lp->ops[i], err)) return -1;
    zz_nvtx_pop();
    return 0;
}

int zz_executor_run_final(zz_executor *ex, int pass, zz_run_ops which, zz_error *err) {
    if (!ex->plan.n_final_ops || which == ZZ_RUN_ATTENTION) return 0;
    pass_ctx c;
    pass_context(ex, pass, ex->plan.model.layers - 1, &c);  /* its launches count with the last layer */
    zz_nvtx_push("final", 0);
    for (int i = 0; i < ex->plan.n_final_ops; i++) {
        const zz_op *op = &ex->plan.final_ops[i];
        if (!wanted(op->kind, which)) continue;
        zz_nvtx_push(zz_op_name(op->kind), 0);
        const int rc = run_model_op(ex, &c, op, (zz_work){.bytes = op->bytes, .flops = op->flops}, err);
        zz_nvtx_pop();
        if (rc) return -1;
    }
    zz_nvtx_pop();
    return 0;
}

static int run_step(zz_executor *ex, zz_error *err) {
    zz_nvtx_push("step", 0);
    for (long long pass = 0; pass < ex->plan.passes; pass++)
        for (int l = 0; l < ex->plan.model.layers; l++)
            if (zz_executor_run_layer(ex, (int)pass, l, ZZ_RUN_ALL, err)) return -1;
    if (zz_executor_run_final(ex, (int)ex->plan.passes - 1, ZZ_RUN_ALL, err)) return -1;
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
    bf16 *shared[] = {ex->q,     ex->k_new,       ex->v_new,         ex->out,   ex->q_split, ex->k_split,
                      ex->v_split, ex->out_split, ex->out_full, ex->out_streaming, ex->win_k, ex->win_v,
                      ex->x,     ex->xn,          ex->qkv,           ex->gu,    ex->h,       ex->logits};
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) cudaFree(shared[i]);
    zz_gemm_destroy(ex->gemm);
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

/* A model step's GEMMs, each shape once, eagerly (the first and the last
 * pass: a short last chunk has other shapes): zz_linear makes a shape's
 * cuBLASLt plan on its first call, which must not be inside a graph
 * capture (layers.h). They add into x, which the next step's embed
 * rewrites. */
static int warm_linears(zz_executor *ex, zz_error *err) {
    if (!ex->model_step) return 0;
    const int last = (int)ex->plan.passes - 1;
    for (int pass = 0; pass <= last; pass += last > 0 ? last : 1)
        if (zz_executor_run_layer(ex, pass, 0, ZZ_RUN_LINEARS, err) ||
            zz_executor_run_final(ex, pass, ZZ_RUN_LINEARS, err))
            return -1;
    ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(ex->stream));
    return 0;
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

    if (ex->model_step) {  /* q, k, v: views of the QKV output */
        ex->hidden = p->model.hidden, ex->mlp = p->model.mlp, ex->vocab = p->model.vocab;
        ex->qkv_width = (ex->q_heads + 2 * ex->kv_heads) * ex->head_dim;
        if (alloc_random(ex, &ex->x, s.act_x, err) || alloc_random(ex, &ex->xn, s.act_x, err) ||
            alloc_random(ex, &ex->qkv, s.act_qkv, err) || alloc_random(ex, &ex->gu, s.act_gu, err) ||
            alloc_random(ex, &ex->h, s.act_h, err) || alloc_random(ex, &ex->logits, s.logits, err))
            return -1;
        ZZ_KERNEL_OR_RETURN(zz_gemm_create(&ex->gemm, (size_t)ZZ_GEMM_WORKSPACE_BYTES, ex->stream));
    } else if (alloc_random(ex, &ex->q, s.act_q, err) || alloc_random(ex, &ex->k_new, s.act_kv, err) ||
               alloc_random(ex, &ex->v_new, s.act_kv, err)) {
        return -1;
    }
    if (alloc_random(ex, &ex->out, s.act_q, err)) return -1;
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
    return rc || warm_linears(ex, err);
}

int zz_executor_create(const zz_plan *plan, cudaStream_t stream, int sm_count, const zz_weights *weights,
                       zz_executor **out, zz_error *err) {
    *out = NULL;
    if (plan->workload.phase == ZZ_DECODE && plan->workload.ctx + 1 > 0x7fffffff)
        return zz_errorf(err, "context %lld too long", plan->workload.ctx);
    const int model_step = plan->workload.step == ZZ_STEP_MODEL;
    if (model_step && !weights) return zz_errorf(err, "a model step needs the run's weights (zz_weights_create)");
    if (model_step && weights_fit(weights, &plan->model, err)) return -1;
    zz_executor *ex = calloc(1, sizeof *ex);
    if (!ex) return zz_errorf(err, "out of memory");
    ex->plan = *plan;
    ex->stream = stream;
    ex->model_step = model_step;
    ex->weights = model_step ? weights : NULL;
    ex->sm_count = sm_count;
    if (create(ex, err)) {
        zz_executor_destroy(ex);
        return -1;
    }
    *out = ex;
    return 0;
}
