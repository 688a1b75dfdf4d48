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
 * Bytes and FLOPs of each op are counted by work.h, over the whole step:
 * all passes, the whole batch.
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
} zz_op_kind;
const char *zz_op_name(zz_op_kind kind);

typedef struct {
    zz_op_kind kind;
    zz_category category;
    int kv_first, kv_count;  /* positions in the layer's kv_order */
    int q_first, q_count;    /* the query heads of those KV heads, same order */
    long long cache_tokens;  /* per KV head and sequence, in the cache the op reads or writes; 0 for copies */
    int appends;             /* a decode attention op that also stores the new K/V (no cache op before it) */
    double bytes;            /* read + written in one step */
    double flops;            /* attention only: 4·B·D per attended pair per query head */
} zz_op;

#define ZZ_MAX_LAYER_OPS 6  /* gather, two cache ops, two attention launches, scatter */

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
    long long launches;    /* ops × passes (a split-KV decode kernel may add its combine) */
    double kv_bytes;       /* KV-cache footprint */
    double flops;          /* attention FLOPs of the step */
    double bytes;          /* bytes moved by all ops of the step */
} zz_plan;

/* labels: which KV heads are retrieval; the full and streaming layouts
 * ignore them (NULL is fine there), zigzag requires layer-exclusive ones. */
int zz_plan_build(const zz_model *m, const zz_labels *labels, zz_layout layout, const zz_workload *w,
                  zz_plan *out, zz_error *err);

#endif
