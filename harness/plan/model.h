/* Model shapes and the arithmetic of one step.
 *
 * A model shape is what the attention layers see: layers L, query heads Hq,
 * KV heads Hkv (a GQA group of Hq/Hkv query heads shares one KV head) and
 * head dim D; and what the rest of a decoder layer needs for a model step
 * (docs/DESIGN.md, "The model step"): hidden size H, MLP size F and
 * vocabulary V. L may be the first layers of a deeper model (model_layers:
 * `--layers N` on a preset too large for the card). A workload is where a
 * step runs: phase, batch B, context S, prefill chunk C and the streaming
 * window (sink + recent), the kernel variant that runs its attention, and
 * the step: attention only, or the whole model.
 *
 * Counting conventions (docs/DESIGN.md, "Ceilings and work"; kernels/reference.h), per sequence:
 *   decode   one new token at position S against a cache of S tokens: a full
 *            head attends S+1 keys, a streaming head min(S+1, sink+recent).
 *   prefill  S queries. Full heads attend the S(S+1)/2 causal pairs.
 *            Streaming heads, single-shot: query i sees key j <= i iff
 *            j < sink or j >= i+1-recent. Chunked (0 < C < S, DuoAttention's
 *            inference): the chunk starting at P sees j < sink or
 *            j >= P-recent, so earlier chunks reach it only through the
 *            sink + recent cache.
 *   FLOPs    4·B·D per query head per attended pair (QK^T and PV only).
 *   KV cache B·tokens·2·D·2 bytes per KV head (K and V, bf16), tokens = S
 *            for a full head and min(S, sink+recent) for a streaming head.
 */
#ifndef ZZ_MODEL_H
#define ZZ_MODEL_H

#include <stddef.h>

#include "error.h"

#define ZZ_MAX_LAYERS   128
#define ZZ_MAX_KV_HEADS 128
#define ZZ_MAX_Q_HEADS  1024
#define ZZ_MAX_BATCH    65536
#define ZZ_MAX_CTX      (1LL << 24)  /* 16M tokens: far beyond any cache a GPU holds */
#define ZZ_MAX_HIDDEN   65536
#define ZZ_MAX_MLP      262144
#define ZZ_MAX_VOCAB    1048576
#define ZZ_BF16_BYTES   2

typedef struct {
    char name[32];  /* preset name, or "custom" */
    int layers, q_heads, kv_heads, head_dim;
    int hidden, mlp, vocab;  /* H, F, V of the model step; 0: not known (an attention step needs none) */
    int model_layers;        /* layers of the whole model; 0 or == layers: all of them run */
} zz_model;

int zz_model_preset(const char *name, zz_model *out, zz_error *err);
/* Positive sizes within the limits above, Hq divisible by Hkv, D 64 or 128;
 * hidden, mlp, vocab 0 or within their limits; model_layers 0 or >= layers. */
int zz_model_check(const zz_model *m, zz_error *err);

/* The whole model's layers (model_layers, or layers when 0). */
int zz_model_total_layers(const zz_model *m);
/* 1 when only the first `layers` of the model's layers run. */
int zz_model_is_prefix(const zz_model *m);
/* "32 layers", or "first 40 of 80 layers": for every output that names the model. */
void zz_model_layers_text(const zz_model *m, char *out, size_t size);

/* What a step runs (docs/DESIGN.md, "The model step"). */
typedef enum { ZZ_STEP_ATTENTION, ZZ_STEP_MODEL } zz_step;
const char *zz_step_name(zz_step step);
int zz_step_from_name(const char *name, zz_step *out);  /* 0, or -1 if unknown */

/* A model step needs H, F and V, multiples of 8: a message naming what is
 * missing or wrong. */
int zz_model_check_step(const zz_model *m, zz_step step, zz_error *err);

/* The bf16 weights a model step holds for the layers run: per layer two
 * RMSNorm weights (H each), W_qkv ((Hq + 2·Hkv)·D × H), W_o (H × Hq·D),
 * W_gate_up (2F × H), W_down (H × F); then the final norm (H), the LM head
 * (V × H) and the embedding table (V × H: the model's footprint, though a
 * step does not read it). Bytes. */
double zz_model_weight_bytes(const zz_model *m);

typedef enum { ZZ_DECODE, ZZ_PREFILL } zz_phase;

const char *zz_phase_name(zz_phase phase);
int zz_phase_from_name(const char *name, zz_phase *out);  /* 0, or -1 if unknown */

typedef struct {
    zz_phase phase;
    int batch;
    long long ctx;    /* S: cached tokens (decode) or prompt tokens (prefill) */
    long long chunk;  /* prefill chunk C; 0 or >= S: single shot; ignored by decode */
    int sink, recent; /* streaming window: first `sink` tokens + latest `recent` */
    int kernel;       /* the phase's kernel variant (variants.h); 0: the default */
    zz_step step;     /* attention only (the default) or the whole model */
} zz_workload;

/* Batch and context within limits, sink >= 0, recent >= 1, chunk >= 0, a
 * kernel variant of the phase, a known step. */
int zz_workload_check(const zz_workload *w, zz_error *err);

/* Passes per step: a layer's operations run once per prefill chunk. */
long long zz_workload_passes(const zz_workload *w);

/* What one KV head does in one step, per sequence (multiply by B). */
typedef struct {
    long long query_tokens;      /* queries per query head: 1 or S */
    long long pairs;             /* query–key pairs per query head */
    long long kv_tokens_read;    /* K/V tokens the attention reads, summed over passes */
    long long kv_tokens_written; /* K/V tokens stored into the cache, summed over passes */
    long long cache_tokens;      /* tokens the cache holds: S or min(S, sink+recent) */
} zz_head_work;

zz_head_work zz_head_work_of(const zz_workload *w, int streaming);

/* Chunked prefill walks every chunk, so callers compute the work of each
 * head kind once per workload and scale it with these: totals for kv_heads
 * KV heads doing h, with their query heads, over the whole batch. */
double zz_attention_flops(const zz_model *m, int batch, const zz_head_work *h, int kv_heads);
double zz_kv_cache_bytes(const zz_model *m, int batch, const zz_head_work *h, int kv_heads);

/* One configuration's side of the equal-budget comparison, whole model. */
typedef struct {
    int retrieval_heads;  /* KV heads with a full cache */
    double kv_bytes;      /* KV-cache footprint */
    double flops;         /* attention FLOPs of one step */
} zz_cost;

/* Only the number of retrieval heads matters, not where they sit. */
zz_cost zz_cost_of(const zz_model *m, const zz_workload *w, int retrieval_heads);

#endif
