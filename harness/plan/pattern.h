/* Head patterns, their binarisation, zigzag selection and the budget.
 *
 * A pattern is an L × Hkv matrix of gate values α ∈ [0,1], one per KV head
 * (all query heads of a GQA group share their KV head's label). It comes
 * from a DuoAttention pattern folder or from a seeded generator.
 *
 * Pattern folder: full_attention_heads.tsv (one row per layer, one
 * tab-separated column per KV head) is required and parsed strictly: every
 * problem fails with one line naming file, line, column where relevant, and
 * what was expected versus found. A last row without its newline counts as
 * a truncated file. Values are clipped to [0,1] as DuoAttention's
 * load_attn_pattern does. config.json is optional: its integer sink_size and
 * recent_size become the pattern's window; a missing file, a missing key or
 * null keeps the built-in default (DuoAttention's 128 / 256). It is read by
 * a small scan for those two keys, not a full JSON parser.
 *
 * Binarisation (DuoAttention): at sparsity s the round(s·L·Hkv) heads with
 * the lowest α are streaming, the rest retrieval (R of them). Heads are
 * ordered by (α, layer, head), which breaks DuoAttention's random tie noise
 * deterministically; round() takes halves up.
 *
 * Zigzag: whole layers are retrieval or streaming. A selector picks which k
 * layers are retrieval; the default scores layers by mean α (ties: lower
 * layer first). k = R / Hkv when Hkv divides R; otherwise the budget says so
 * in a note and k follows the chosen rounding (default nearest, halves up,
 * so zigzag never gets the smaller budget on an exact half).
 */
#ifndef ZZ_PATTERN_H
#define ZZ_PATTERN_H

#include "error.h"
#include "model.h"

#define ZZ_DEFAULT_SINK   128
#define ZZ_DEFAULT_RECENT 256

/* Patterns and labels keep entries beyond their shape zero, so equal ones
 * compare equal byte for byte. */
typedef struct {
    int layers, kv_heads;
    double alpha[ZZ_MAX_LAYERS][ZZ_MAX_KV_HEADS];  /* clipped to [0,1] */
    int sink, recent;                              /* window from config.json, else the defaults */
    char source[256];                              /* folder, or "synthetic KIND:SEED" */
} zz_pattern;

/* Loads dir/full_attention_heads.tsv (shape must match m) and dir/config.json.
 * A model that runs only its first layers (zz_model_is_prefix) reads the
 * whole model's file and keeps the rows of the layers run, as the
 * synthetic patterns keep those of the whole model's: the budget is then
 * the budget of the layers run. */
int zz_pattern_load(const char *dir, const zz_model *m, zz_pattern *out, zz_error *err);

/* Generated patterns, spec "KIND[:SEED]" (seed default 1), deterministic given the seed:
 *   uniform-mixed  every layer holds the same α levels (k+0.5)/Hkv in a seeded
 *                  order, so every layer keeps the same number of retrieval
 *                  heads (±1 when L does not divide it): DuoAttention's worst case
 *   random         iid uniform α
 *   layered        α = a seeded per-layer level + uniform noise of ±0.2, clipped */
int zz_pattern_synthetic(const char *spec, const zz_model *m, zz_pattern *out, zz_error *err);

typedef struct {
    int layers, kv_heads;
    unsigned char retrieval[ZZ_MAX_LAYERS][ZZ_MAX_KV_HEADS];  /* 1 retrieval (full), 0 streaming */
} zz_labels;

int zz_labels_layer_retrieval(const zz_labels *labels, int layer);  /* retrieval heads of one layer */
int zz_labels_retrieval(const zz_labels *labels);                   /* retrieval heads in all */
int zz_labels_mixed_layers(const zz_labels *labels);

/* round(s·total_heads): the streaming heads at sparsity s ∈ [0,1]. */
int zz_streaming_heads(int total_heads, double sparsity);

/* DuoAttention labels: the `streaming_heads` (0 .. L·Hkv) lowest (α, layer, head) stream. */
void zz_binarize_duo(const zz_pattern *p, int streaming_heads, zz_labels *out);

/* Zigzag layer selection: mark exactly retrieval_layers entries of
 * retrieval_layer[0 .. p->layers) with 1, the rest 0. */
typedef void (*zz_layer_selector)(const zz_pattern *p, int retrieval_layers, unsigned char *retrieval_layer);

/* The default selector: highest mean α first, lower layer first on ties. */
void zz_select_by_mean_alpha(const zz_pattern *p, int retrieval_layers, unsigned char *retrieval_layer);

/* Whole-layer labels from a selector's choice. */
void zz_labels_from_layers(int layers, int kv_heads, const unsigned char *retrieval_layer, zz_labels *out);

typedef enum { ZZ_ROUND_NEAREST, ZZ_ROUND_FLOOR, ZZ_ROUND_CEIL } zz_rounding;

const char *zz_rounding_name(zz_rounding rounding);
int zz_rounding_from_name(const char *name, zz_rounding *out);  /* 0, or -1 if unknown */

/* Equal-budget labels for duo and zigzag at one sparsity. */
typedef struct {
    double sparsity;
    zz_rounding rounding;
    int total_heads;                /* L·Hkv */
    int duo_retrieval;              /* R */
    int layers_floor, layers_ceil;  /* floor(R/Hkv), ceil(R/Hkv): equal when Hkv divides R */
    int zigzag_layers;              /* the one of the two the rounding chose */
    zz_labels duo, zigzag;
    char note[256];                 /* "" when Hkv divides R, else why the budgets differ */
} zz_budget;

int zz_budget_make(const zz_pattern *p, double sparsity, zz_rounding rounding, zz_layer_selector select,
                   zz_budget *out, zz_error *err);

#endif
