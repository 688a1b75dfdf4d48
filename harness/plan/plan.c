#include "plan.h"

#include <string.h>

#include "variants.h"
#include "work.h"

const char *zz_layer_kind_name(zz_layer_kind kind) {
    static const char *const names[] = {
        [ZZ_LAYER_FULL] = "full", [ZZ_LAYER_STREAMING] = "streaming", [ZZ_LAYER_MIXED] = "mixed"};
    return names[kind];
}

const char *zz_category_name(zz_category category) {
    static const char *const names[] = {
        [ZZ_CAT_ATTN_FULL] = "attn-full", [ZZ_CAT_ATTN_STREAMING] = "attn-streaming",
        [ZZ_CAT_COPY] = "copy",           [ZZ_CAT_CACHE] = "cache",
        [ZZ_CAT_COMBINE] = "combine",     [ZZ_CAT_OTHER] = "other",
    };
    return names[category];
}

static const struct {
    const char *name;
    zz_category category;
} op_kinds[] = {
    [ZZ_OP_GATHER] = {"gather", ZZ_CAT_COPY},
    [ZZ_OP_CACHE_APPEND] = {"cache-append", ZZ_CAT_CACHE},
    [ZZ_OP_CACHE_RING] = {"cache-ring", ZZ_CAT_CACHE},
    [ZZ_OP_ATTN_FULL] = {"attn-full", ZZ_CAT_ATTN_FULL},
    [ZZ_OP_ATTN_STREAMING] = {"attn-streaming", ZZ_CAT_ATTN_STREAMING},
    /* one launch for both kinds: counted with full attention, its larger part */
    [ZZ_OP_ATTN_MIXED] = {"attn-mixed", ZZ_CAT_ATTN_FULL},
    [ZZ_OP_CONCAT] = {"concat", ZZ_CAT_COPY},
    [ZZ_OP_SCATTER] = {"scatter", ZZ_CAT_COPY},
    /* the model step's: the same in every layout, so `other` (docs/DESIGN.md) */
    [ZZ_OP_EMBED] = {"embed", ZZ_CAT_OTHER},
    [ZZ_OP_ATTN_NORM] = {"attn-norm", ZZ_CAT_OTHER},
    [ZZ_OP_QKV] = {"qkv-proj", ZZ_CAT_OTHER},
    [ZZ_OP_ROTARY] = {"rotary", ZZ_CAT_OTHER},
    [ZZ_OP_O_PROJ] = {"o-proj", ZZ_CAT_OTHER},
    [ZZ_OP_MLP_NORM] = {"mlp-norm", ZZ_CAT_OTHER},
    [ZZ_OP_GATE_UP] = {"gate-up", ZZ_CAT_OTHER},
    [ZZ_OP_SILU_MUL] = {"silu-mul", ZZ_CAT_OTHER},
    [ZZ_OP_DOWN] = {"down-proj", ZZ_CAT_OTHER},
    [ZZ_OP_FINAL_NORM] = {"final-norm", ZZ_CAT_OTHER},
    [ZZ_OP_LM_HEAD] = {"lm-head", ZZ_CAT_OTHER},
};

const char *zz_op_name(zz_op_kind kind) { return op_kinds[kind].name; }

double zz_memory_total(const zz_memory *m) { return m->weights + m->kv_cache + m->activations + m->workspaces; }

int zz_op_in_model_step(zz_op_kind kind) { return kind >= ZZ_OP_EMBED && kind <= ZZ_OP_LM_HEAD; }

/* What every layer of one plan shares: the shape and the per-head work. */
typedef struct {
    const zz_model *model;
    int batch, group;
    zz_head_work full, streaming;
    int decode;
    int append;  /* the attention launches append the new token (decode one-launch): no cache ops */
    int model_step;
    long long rows, last_rows;  /* tokens × B: of the whole step (all passes), of its last pass */
} step_shape;

static const zz_head_work *op_head_work(const step_shape *s, zz_op_kind kind) {
    return kind == ZZ_OP_CACHE_RING || kind == ZZ_OP_ATTN_STREAMING ? &s->streaming : &s->full;
}

static zz_work op_work(const step_shape *s, const zz_op *op);

/* A mixed op's work: its retrieval heads' (the first retrieval of the
 * op's KV heads, split order) and its streaming heads'. */
static zz_work mixed_work(const step_shape *s, const zz_op *op, int retrieval) {
    const zz_op full = {.kind = ZZ_OP_ATTN_FULL, .kv_count = retrieval, .q_count = retrieval * s->group,
                        .appends = op->appends};
    const zz_op streaming = {.kind = ZZ_OP_ATTN_STREAMING, .kv_count = op->kv_count - retrieval,
                             .q_count = (op->kv_count - retrieval) * s->group, .appends = op->appends};
    const zz_work a = op_work(s, &full), b = op_work(s, &streaming);
    return (zz_work){.bytes = a.bytes + b.bytes, .flops = a.flops + b.flops};
}

static zz_work op_work(const step_shape *s, const zz_op *op) {
    const zz_head_work *head = op_head_work(s, op->kind);
    const zz_work_shape all = {s->batch, s->model->q_heads, s->model->kv_heads, s->model->head_dim};
    const zz_work_shape covered = {s->batch, op->q_count, op->kv_count, s->model->head_dim};
    switch (op->kind) {
    case ZZ_OP_CACHE_APPEND:
    case ZZ_OP_CACHE_RING: return zz_work_kv_copy(&covered, head->kv_tokens_written);
    case ZZ_OP_ATTN_FULL:
    case ZZ_OP_ATTN_STREAMING:
        if (op->appends) return zz_work_decode_append(&covered, head->kv_tokens_read);
        return zz_work_attention(&covered, head->query_tokens, head->kv_tokens_read, head->pairs);
    case ZZ_OP_ATTN_MIXED: return (zz_work){0};  /* add_op sums its two kinds (mixed_work) */
    case ZZ_OP_GATHER: return zz_work_gather(&all, head->query_tokens);
    case ZZ_OP_CONCAT:
    case ZZ_OP_SCATTER: return zz_work_head_copy(&all, head->query_tokens, all.q_heads);
    default: break;
    }
    const zz_model *m = s->model;
    const int D = m->head_dim, qkv = (m->q_heads + 2 * m->kv_heads) * D;
    switch (op->kind) {
    case ZZ_OP_EMBED: return zz_work_embed(s->rows, m->hidden);
    case ZZ_OP_ATTN_NORM:
    case ZZ_OP_MLP_NORM: return zz_work_rmsnorm(s->rows, m->hidden);
    case ZZ_OP_QKV: return zz_work_linear(s->rows, m->hidden, qkv, 0);
    case ZZ_OP_ROTARY: return zz_work_rotary(&all, head->query_tokens);
    case ZZ_OP_O_PROJ: return zz_work_linear(s->rows, m->q_heads * D, m->hidden, 1);
    case ZZ_OP_GATE_UP: return zz_work_linear(s->rows, m->hidden, 2 * m->mlp, 0);
    case ZZ_OP_SILU_MUL: return zz_work_silu_mul(s->rows, m->mlp);
    case ZZ_OP_DOWN: return zz_work_linear(s->rows, m->mlp, m->hidden, 1);
    case ZZ_OP_FINAL_NORM: return zz_work_rmsnorm(s->last_rows, m->hidden);
    case ZZ_OP_LM_HEAD: return zz_work_linear(s->batch, m->hidden, m->vocab, 0);  /* each sequence's last token */
    default: return (zz_work){0};
    }
}

static void fill_op(zz_op *op, const zz_layer_plan *lp, const step_shape *s, zz_op_kind kind, int kv_first,
                    int kv_count) {
    *op = (zz_op){.kind = kind,
                  .category = op_kinds[kind].category,
                  .kv_first = kv_first,
                  .kv_count = kv_count,
                  .q_first = kv_first * s->group,
                  .q_count = kv_count * s->group,
                  .appends = s->decode && (s->append || kind == ZZ_OP_ATTN_MIXED) &&
                             (kind == ZZ_OP_ATTN_FULL || kind == ZZ_OP_ATTN_STREAMING || kind == ZZ_OP_ATTN_MIXED)};
    if (op->category != ZZ_CAT_COPY && !zz_op_in_model_step(kind)) op->cache_tokens = op_head_work(s, kind)->cache_tokens;
    const zz_work work = kind == ZZ_OP_ATTN_MIXED ? mixed_work(s, op, lp->retrieval_heads) : op_work(s, op);
    op->bytes = work.bytes;
    op->flops = work.flops;
}

static void add_op(zz_layer_plan *lp, const step_shape *s, zz_op_kind kind, int kv_first, int kv_count) {
    fill_op(&lp->ops[lp->n_ops++], lp, s, kind, kv_first, kv_count);
}

static void plan_layer(const step_shape *s, const unsigned char *retrieval, const zz_layout_info *layout, int first,
                       zz_layer_plan *lp) {
    const int heads = s->model->kv_heads;
    int r = 0;
    for (int h = 0; h < heads; h++)
        if (retrieval[h]) lp->kv_order[r++] = (unsigned char)h;
    for (int h = 0, next = r; h < heads; h++)
        if (!retrieval[h]) lp->kv_order[next++] = (unsigned char)h;
    const int mixed = r > 0 && r < heads;
    lp->kind = mixed ? ZZ_LAYER_MIXED : r ? ZZ_LAYER_FULL : ZZ_LAYER_STREAMING;
    lp->retrieval_heads = r;
    lp->streaming_heads = heads - r;
    lp->reordered = mixed && layout->reordered;
    lp->kv_bytes = zz_kv_cache_bytes(s->model, s->batch, &s->full, r) +
                   zz_kv_cache_bytes(s->model, s->batch, &s->streaming, heads - r);
    lp->n_ops = 0;
    const unsigned copies = mixed ? layout->copies : 0;
    const int fused = mixed && layout->fused;
    /* duo-fused decode appends in its one launch, whatever the variant */
    const int appends = s->append || (fused && s->decode);
    if (s->model_step) {
        if (first) add_op(lp, s, ZZ_OP_EMBED, 0, heads);
        add_op(lp, s, ZZ_OP_ATTN_NORM, 0, heads);
        add_op(lp, s, ZZ_OP_QKV, 0, heads);
        add_op(lp, s, ZZ_OP_ROTARY, 0, heads);
    }
    if (copies & ZZ_COPY_GATHER) add_op(lp, s, ZZ_OP_GATHER, 0, heads);
    if (r && !appends) add_op(lp, s, ZZ_OP_CACHE_APPEND, 0, r);
    if (r < heads && !appends) add_op(lp, s, ZZ_OP_CACHE_RING, r, heads - r);
    if (fused) {
        add_op(lp, s, ZZ_OP_ATTN_MIXED, 0, heads);
    } else {
        if (r) add_op(lp, s, ZZ_OP_ATTN_FULL, 0, r);
        if (r < heads) add_op(lp, s, ZZ_OP_ATTN_STREAMING, r, heads - r);
    }
    if (copies & ZZ_COPY_CONCAT) add_op(lp, s, ZZ_OP_CONCAT, 0, heads);
    if (copies & ZZ_COPY_SCATTER) add_op(lp, s, ZZ_OP_SCATTER, 0, heads);
    if (s->model_step) {
        static const zz_op_kind after[] = {ZZ_OP_O_PROJ, ZZ_OP_MLP_NORM, ZZ_OP_GATE_UP, ZZ_OP_SILU_MUL, ZZ_OP_DOWN};
        for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) add_op(lp, s, after[i], 0, heads);
    }
}

int zz_plan_build(const zz_model *m, const zz_labels *labels, zz_layout layout, const zz_workload *w,
                  zz_plan *out, zz_error *err) {
    if (zz_model_check(m, err) || zz_workload_check(w, err) || zz_model_check_step(m, w->step, err)) return -1;
    const zz_layout_info *info = zz_layout_info_of(layout);
    const int uniform = info->labels == ZZ_LABELS_NONE_RETRIEVAL || info->labels == ZZ_LABELS_NONE_STREAMING;
    if (!uniform) {
        if (!labels) return zz_errorf(err, "layout %s needs head labels", zz_layout_name(layout));
        if (labels->layers != m->layers || labels->kv_heads != m->kv_heads)
            return zz_errorf(err, "labels are %d layers x %d kv heads, model %s has %d x %d", labels->layers,
                             labels->kv_heads, m->name, m->layers, m->kv_heads);
    }
    if (info->labels == ZZ_LABELS_PER_LAYER) {
        for (int layer = 0; layer < m->layers; layer++) {
            int r = zz_labels_layer_retrieval(labels, layer);
            if (r > 0 && r < m->kv_heads)
                return zz_errorf(err, "layout %s needs layer-exclusive labels, but layer %d has %d retrieval "
                                      "and %d streaming kv heads", info->name, layer, r, m->kv_heads - r);
        }
    }
    step_shape s = {.model = m,
                    .batch = w->batch,
                    .group = m->q_heads / m->kv_heads,
                    .full = zz_head_work_of(w, 0),
                    .streaming = zz_head_work_of(w, 1),
                    .decode = w->phase == ZZ_DECODE,
                    .append = w->phase == ZZ_DECODE && w->kernel == ZZ_DECODE_ONE_LAUNCH,
                    .model_step = w->step == ZZ_STEP_MODEL};
    memset(out, 0, sizeof *out);
    out->model = *m;
    out->layout = layout;
    out->workload = *w;
    out->passes = zz_workload_passes(w);
    s.rows = (long long)w->batch * s.full.query_tokens;
    s.last_rows = w->phase == ZZ_DECODE ? w->batch : (long long)w->batch * (w->ctx - (out->passes - 1) * w->chunk);
    unsigned char uniform_label[ZZ_MAX_KV_HEADS];
    memset(uniform_label, info->labels == ZZ_LABELS_NONE_RETRIEVAL, sizeof uniform_label);
    for (int layer = 0; layer < m->layers; layer++) {
        zz_layer_plan *lp = &out->layers[layer];
        plan_layer(&s, uniform ? uniform_label : labels->retrieval[layer], info, layer == 0, lp);
        out->retrieval_heads += lp->retrieval_heads;
        out->mixed_layers += lp->kind == ZZ_LAYER_MIXED;
        out->launches += lp->n_ops * out->passes;
        out->kv_bytes += lp->kv_bytes;
        for (int i = 0; i < lp->n_ops; i++) {
            *(zz_op_in_model_step(lp->ops[i].kind) ? &out->linear_flops : &out->flops) += lp->ops[i].flops;
            out->bytes += lp->ops[i].bytes;
        }
    }
    if (s.model_step) {
        /* after the last layer; its layer plan lends the heads' shape */
        const zz_layer_plan *last = &out->layers[m->layers - 1];
        fill_op(&out->final_ops[out->n_final_ops++], last, &s, ZZ_OP_FINAL_NORM, 0, m->kv_heads);
        fill_op(&out->final_ops[out->n_final_ops++], last, &s, ZZ_OP_LM_HEAD, 0, m->kv_heads);
        for (int i = 0; i < out->n_final_ops; i++) {
            out->linear_flops += out->final_ops[i].flops;
            out->bytes += out->final_ops[i].bytes;
        }
        out->launches += out->n_final_ops;
        out->weight_bytes = zz_model_weight_bytes(m);
    }
    return 0;
}
