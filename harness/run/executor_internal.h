/* The executor's insides, shared by the two files that implement it:
 * executor.c (buffers, steps, graphs) and verify.c (checks against the CPU
 * reference). Nothing else includes this header. */
#ifndef ZZ_EXECUTOR_INTERNAL_H
#define ZZ_EXECUTOR_INTERNAL_H

#include "executor.h"
#include "layers.h"

/* Elements of the buffers the executor allocates for a plan. */
typedef struct {
    long long act_q, act_kv;              /* one layer's activations (elements) */
    /* a model step's: x and x_norm (act_x each), the QKV output, gate/up, the MLP's hidden state, the logits */
    long long act_x, act_qkv, act_gu, act_h, logits;
    int model_step;
    long long full_cache, ring_cache;     /* per layer, K and V each (elements) */
    long long window;                     /* chunked streaming window, K and V each */
    int max_retrieval, max_streaming;     /* KV heads per group, largest layer */
    int tokens, full_capacity, chunked;
} executor_sizes;
executor_sizes zz_executor_sizes(const zz_plan *p);

typedef struct {
    bf16 *k_full, *v_full;  /* [B][full_capacity][retrieval heads][D] */
    bf16 *k_ring, *v_ring;  /* [B][sink + recent][streaming heads][D] */
    int *q_index, *kv_index; /* device: split order -> model head (ZZ_BUFFER_HEAD_INDEX) */
} layer_buffers;

struct zz_weights {
    zz_model model;
    void *block;  /* the one allocation */
    size_t bytes;
    bf16 *attn_norm[ZZ_MAX_LAYERS], *qkv[ZZ_MAX_LAYERS], *o[ZZ_MAX_LAYERS], *mlp_norm[ZZ_MAX_LAYERS],
        *gate_up[ZZ_MAX_LAYERS], *down[ZZ_MAX_LAYERS];
    bf16 *final_norm, *lm_head, *embed;
};

struct zz_executor {
    zz_plan plan;
    cudaStream_t stream;
    int sm_count;
    int batch, q_heads, kv_heads, head_dim, group;
    int ctx, sink, recent, ring_slots;
    int tokens;         /* per pass: 1 (decode), S or the chunk (prefill) */
    int full_capacity;  /* slots of a full cache */
    int chunked;        /* prefill in several passes */
    /* Activations of one layer, shared by all layers (a model reuses them). */
    bf16 *q, *k_new, *v_new, *out;       /* model (or load-time reordered) order; a model step has no
                                          * q, k_new, v_new: its q, k, v are views of qkv */
    bf16 *q_split, *k_split, *v_split, *out_split; /* ZZ_BUFFER_SPLIT_ACTIVATIONS */
    bf16 *out_full, *out_streaming;      /* ZZ_BUFFER_GROUP_OUTPUTS: one output per group */
    bf16 *win_k, *win_v;                 /* chunked streaming window */
    void *workspace;
    size_t workspace_bytes;
    int one_launch;     /* decode on the one-launch variant: attention launches append */
    int resident;       /* blocks per SM of the appending decode kernels (one-launch, duo-fused) */
    int *tickets;       /* their split counters: batch × kv heads, 0 between launches */
    layer_buffers *layers;
    /* A model step's (model_step): the run's weights, borrowed; x, the
     * residual stream, [B][tokens][hidden]; its norm; the QKV GEMM's
     * output [B][tokens][(Hq + 2·Hkv)·D] (q, k, v: zz_model_step_views);
     * gate/up [..][2F]; the MLP's hidden state [..][F]; the logits [B][V]. */
    int model_step;
    const zz_weights *weights;
    zz_gemm *gemm;
    int hidden, mlp, vocab, qkv_width;
    bf16 *x, *xn, *qkv, *gu, *h, *logits;
    /* The launch list, filled by a dry walk at creation. */
    zz_launch *launches;
    int n_launches, cap_launches;
    int dry;  /* walking to list launches: launch nothing */
    cudaGraphExec_t graph;
};

/* The copies (ZZ_COPY_*) layer l runs: its layout's, where the layer is mixed. */
static inline unsigned layer_copies(const zz_executor *ex, int l) {
    return ex->plan.layers[l].kind == ZZ_LAYER_MIXED ? zz_layout_info_of(ex->plan.layout)->copies : 0;
}

/* A gathering layer's ops read and write split-order copies of the
 * model-order activations. */
static inline int is_gather_layer(const zz_executor *ex, int l) { return (layer_copies(ex, l) & ZZ_COPY_GATHER) != 0; }

/* Pass `pass` of a step covers positions *pos0 .. *pos0 + *tokens - 1. */
static inline void zz_executor_pass_tokens(const zz_executor *ex, int pass, int *pos0, int *tokens) {
    if (ex->plan.workload.phase == ZZ_DECODE) {
        *pos0 = ex->ctx, *tokens = 1;
        return;
    }
    *pos0 = pass * ex->tokens;
    *tokens = ex->ctx - *pos0 < ex->tokens ? ex->ctx - *pos0 : ex->tokens;
}

/* A model step's q, k, v: views of the QKV output in model (or load-time
 * reordered) head order, a token stride of one qkv row. */
static inline void zz_model_step_views(const zz_executor *ex, zz_view *q, zz_view *k, zz_view *v) {
    const long long row = ex->qkv_width, per_seq = row * ex->tokens;
    *q = (zz_view){ex->qkv, per_seq, row, ex->q_heads};
    *k = (zz_view){ex->qkv + (long long)ex->q_heads * ex->head_dim, per_seq, row, ex->kv_heads};
    *v = (zz_view){ex->qkv + (long long)(ex->q_heads + ex->kv_heads) * ex->head_dim, per_seq, row, ex->kv_heads};
}

/* Which of a layer's ops zz_executor_run_layer enqueues. */
typedef enum {
    ZZ_RUN_ALL,       /* as a step runs them */
    ZZ_RUN_ATTENTION, /* the attention ops alone: what verify checks (a model step's are not run) */
    ZZ_RUN_LINEARS,   /* a model step's GEMMs alone (the eager call that makes their cuBLASLt plans) */
} zz_run_ops;

/* Enqueues (eagerly) layer l's ops for pass `pass`, as a step runs them. */
int zz_executor_run_layer(zz_executor *ex, int pass, int l, zz_run_ops which, zz_error *err);
/* A model step's final ops (final norm, LM head) after the last layer of pass `pass`. */
int zz_executor_run_final(zz_executor *ex, int pass, zz_run_ops which, zz_error *err);

#endif
