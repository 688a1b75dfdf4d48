/* Per-layer execution plans: what one step runs, layer by layer.
 *
 * For a model, head labels, a layout and a workload, each layer gets its kind
 * (full, streaming or mixed), the order its KV heads are split in, and the
 * ordered list of operations a step runs for it, each with a timing category,
 * the heads it covers, and its bytes and FLOPs. An executor walks
 * plan->layers[l].ops[0 .. n_ops) for every layer, once per pass.
 *
 * Split order: retrieval KV heads first, each group in model order (a stable
 * partition; the identity for a layer that is not mixed). An op covers the
 * contiguous run kv_order[kv_first .. kv_first+kv_count) and, GQA groups
 * following their KV head, query heads q_first .. q_first+q_count in the same
 * order (q = kv·group + i).
 *
 * Mixed layers follow their layout's entry (layouts.h): heads reordered at
 * load (reordered = 1) or gathered into split order, the cache ops, one
 * attention launch per head group, and the copies that join the outputs.
 * Layers that are not mixed, and every layer of a layout that has none, run
 * one cache op and one attention launch. A decode on the one-launch kernel
 * variant (variants.h) has no cache op: each attention launch appends its
 * heads' new token itself.
 *
 * A model step (workload step ZZ_STEP_MODEL; docs/DESIGN.md, "The model
 * step") wraps each layer's attention ops in the rest of a decoder layer:
 * embed (layer 0 only: the pass's tokens' embeddings become the residual
 * stream x), attn-norm, qkv-proj, rotary before them; o-proj (adding into the
 * residual stream), mlp-norm, gate-up, silu-mul, down-proj (adding) after.
 * They cover every head, in category `other`. After the last layer, once
 * per step (in its last pass): final-norm over that pass's tokens and
 * lm-head on each sequence's last token (plan->final_ops).
 *
 * Bytes and FLOPs of each op are counted by work.h, over the whole step:
 * all passes, the whole batch. FLOPs of an attention op are attention
 * FLOPs (plan->flops, the budget's); those of a GEMM are 2 per
 * multiply-add (plan->linear_flops); norms, rotary and SiLU count none.
 */
#ifndef ZZ_PLAN_H
#define ZZ_PLAN_H

#include "error.h"
#include "layouts.h"
#include "model.h"
#include "pattern.h"

typedef enum { ZZ_LAYER_FULL, ZZ_LAYER_STREAMING, ZZ_LAYER_MIXED } zz_layer_kind;
const char *zz_layer_kind_name(zz_layer_kind kind);

/* Timing categories (docs/DESIGN.md, "Op, launch, category"). */
typedef enum {
    ZZ_CAT_ATTN_FULL,
    ZZ_CAT_ATTN_STREAMING,
    ZZ_CAT_COPY,
    ZZ_CAT_CACHE,
    ZZ_CAT_COMBINE,
    ZZ_CAT_OTHER,
} zz_category;
const char *zz_category_name(zz_category category);

typedef enum {
    ZZ_OP_GATHER,          /* copy the layer's Q, K, V heads into split order */
    ZZ_OP_CACHE_APPEND,    /* store the new K/V into full caches */
    ZZ_OP_CACHE_RING,      /* store the new K/V into sink + recent ring caches */
    ZZ_OP_ATTN_FULL,       /* decode one-launch: also stores the new K/V into the full caches */
    ZZ_OP_ATTN_STREAMING,  /* decode one-launch: also stores the new K/V into the rings */
    ZZ_OP_ATTN_MIXED,      /* duo-fused: every head of a mixed layer in its own mode, one launch
                            * (decode: also stores the new K/V into both caches) */
    ZZ_OP_CONCAT,          /* join the two groups' outputs into the layer output */
    ZZ_OP_SCATTER,         /* copy the outputs from split order back to model order */
    /* the model step's (zz_op_in_model_step): */
    ZZ_OP_EMBED,           /* layer 0, each pass: the pass's token embeddings into x (a copy from the table) */
    ZZ_OP_ATTN_NORM,       /* RMSNorm of the residual stream x, before attention */
    ZZ_OP_QKV,             /* one GEMM: x_norm -> [Q | K | V] of every head */
    ZZ_OP_ROTARY,          /* rotary embedding of Q and K, in place in the QKV output */
    ZZ_OP_O_PROJ,          /* GEMM of the attention output, added into x (the residual) */
    ZZ_OP_MLP_NORM,        /* RMSNorm of x, before the MLP */
    ZZ_OP_GATE_UP,         /* one GEMM: x_norm -> [gate | up] */
    ZZ_OP_SILU_MUL,        /* silu(gate) * up */
    ZZ_OP_DOWN,            /* GEMM of the MLP's hidden state, added into x (the residual) */
    ZZ_OP_FINAL_NORM,      /* after the last layer: RMSNorm of x */
    ZZ_OP_LM_HEAD,         /* after the last layer: logits of each sequence's last token */
} zz_op_kind;
const char *zz_op_name(zz_op_kind kind);
/* 1 for the ops a model step adds around the attention ops. */
int zz_op_in_model_step(zz_op_kind kind);

typedef struct {
    zz_op_kind kind;
    zz_category category;
    int kv_first, kv_count;  /* positions in the layer's kv_order */
    int q_first, q_count;    /* the query heads of those KV heads, same order */
    long long cache_tokens;  /* per KV head and sequence, in the cache the op reads or writes; 0 for copies and
                              * the model step's ops */
    int appends;             /* a decode attention op that also stores the new K/V (no cache op before it) */
    double bytes;            /* read + written in one step */
    double flops;            /* attention: 4·B·D per attended pair per query head; GEMMs: 2 per multiply-add */
} zz_op;

/* gather, two cache ops, two attention launches, scatter; a model step's
 * four before them (embed in layer 0) and five after */
#define ZZ_MAX_LAYER_OPS 16
#define ZZ_MAX_FINAL_OPS 2  /* final-norm, lm-head */

typedef struct {
    zz_layer_kind kind;
    int retrieval_heads, streaming_heads;     /* KV heads */
    unsigned char kv_order[ZZ_MAX_KV_HEADS];  /* split order of the model's KV heads */
    int reordered;                            /* storage follows kv_order (weights permuted at load) */
    double kv_bytes;                          /* KV-cache footprint */
    int n_ops;
    zz_op ops[ZZ_MAX_LAYER_OPS];
} zz_layer_plan;

typedef struct {
    zz_model model;
    zz_layout layout;
    zz_workload workload;
    long long passes;      /* every layer's ops run once per pass (prefill chunk) */
    zz_layer_plan layers[ZZ_MAX_LAYERS];
    int retrieval_heads;   /* KV heads with a full cache */
    int mixed_layers;
    long long launches;    /* ops × passes + final ops (a split-KV decode kernel may add its combine) */
    double kv_bytes;       /* KV-cache footprint */
    double flops;          /* attention FLOPs of the step */
    double bytes;          /* bytes moved by all ops of the step */
    /* a model step's (0 for an attention step) */
    int n_final_ops;
    zz_op final_ops[ZZ_MAX_FINAL_OPS];  /* once per step, after the last layer of the last pass */
    double linear_flops;   /* FLOPs of the GEMMs */
    double weight_bytes;   /* the weights the step holds (zz_model_weight_bytes) */
} zz_plan;

/* Device memory of one configuration, bytes (docs/DESIGN.md, "The model
 * step", Memory): the weights (a model step's; shared by every layout of
 * the run), the KV caches as allocated, the activations (one layer's,
 * shared by the layers, with the layout's copy buffers and the chunked
 * window) and the workspaces (split-KV partials, tickets, the GEMM
 * workspace). zz_executor_memory (executor.h) counts them for a plan. */
typedef struct {
    double weights, kv_cache, activations, workspaces;
} zz_memory;
double zz_memory_total(const zz_memory *m);

/* labels: which KV heads are retrieval; the full and streaming layouts
 * ignore them (NULL is fine there), zigzag requires layer-exclusive ones.
 * A model step needs the model's hidden size, MLP size and vocabulary. */
int zz_plan_build(const zz_model *m, const zz_labels *labels, zz_layout layout, const zz_workload *w,
                  zz_plan *out, zz_error *err);

#endif
