#include "model.h"

#include <stdio.h>
#include <string.h>

#include "variants.h"
#include "work.h"

/* Shapes from each model's config.json: num_hidden_layers,
 * num_attention_heads, num_key_value_heads, head dim, hidden_size,
 * intermediate_size, vocab_size. */
static const zz_model presets[] = {
    {"llama2-7b", 32, 32, 32, 128, 4096, 11008, 32000, 32},
    {"llama3-8b", 32, 32, 8, 128, 4096, 14336, 128256, 32},
    {"mistral-7b", 32, 32, 8, 128, 4096, 14336, 32000, 32},
    {"llama3-70b", 80, 64, 8, 128, 8192, 28672, 128256, 80},
};

int zz_model_preset(const char *name, zz_model *out, zz_error *err) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(name, presets[i].name) == 0) {
            *out = presets[i];
            return 0;
        }
    }
    char names[256] = "";
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.31s", i ? ", " : "", presets[i].name);
    return zz_errorf(err, "unknown model '%s' (presets: %s)", name, names);
}

int zz_model_check(const zz_model *m, zz_error *err) {
    if (m->layers < 1 || m->layers > ZZ_MAX_LAYERS)
        return zz_errorf(err, "model %s: layers %d out of range 1..%d", m->name, m->layers, ZZ_MAX_LAYERS);
    if (m->q_heads < 1 || m->q_heads > ZZ_MAX_Q_HEADS)
        return zz_errorf(err, "model %s: q heads %d out of range 1..%d", m->name, m->q_heads, ZZ_MAX_Q_HEADS);
    if (m->kv_heads < 1 || m->kv_heads > ZZ_MAX_KV_HEADS)
        return zz_errorf(err, "model %s: kv heads %d out of range 1..%d", m->name, m->kv_heads, ZZ_MAX_KV_HEADS);
    if (m->q_heads % m->kv_heads != 0)
        return zz_errorf(err, "model %s: q heads %d not divisible by kv heads %d", m->name, m->q_heads,
                         m->kv_heads);
    if (m->head_dim != 64 && m->head_dim != 128)
        return zz_errorf(err, "model %s: head dim %d not supported (64 or 128)", m->name, m->head_dim);
    const struct {
        const char *what;
        int value, max;
    } sizes[] = {{"hidden size", m->hidden, ZZ_MAX_HIDDEN}, {"MLP size", m->mlp, ZZ_MAX_MLP},
                 {"vocabulary", m->vocab, ZZ_MAX_VOCAB}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value < 0 || sizes[i].value > sizes[i].max)
            return zz_errorf(err, "model %s: %s %d out of range 1..%d", m->name, sizes[i].what, sizes[i].value,
                             sizes[i].max);
    if (m->model_layers && (m->model_layers < m->layers || m->model_layers > ZZ_MAX_LAYERS))
        return zz_errorf(err, "model %s: %d layers run, but the model has %d", m->name, m->layers, m->model_layers);
    return 0;
}

int zz_model_total_layers(const zz_model *m) { return m->model_layers > m->layers ? m->model_layers : m->layers; }

int zz_model_is_prefix(const zz_model *m) { return zz_model_total_layers(m) > m->layers; }

void zz_model_layers_text(const zz_model *m, char *out, size_t size) {
    if (zz_model_is_prefix(m)) snprintf(out, size, "first %d of %d layers", m->layers, zz_model_total_layers(m));
    else snprintf(out, size, "%d layers", m->layers);
}

static const char *const step_names[] = {[ZZ_STEP_ATTENTION] = "attention", [ZZ_STEP_MODEL] = "model"};

const char *zz_step_name(zz_step step) { return step_names[step]; }

int zz_step_from_name(const char *name, zz_step *out) {
    for (int s = ZZ_STEP_ATTENTION; s <= ZZ_STEP_MODEL; s++) {
        if (strcmp(name, step_names[s]) == 0) {
            *out = (zz_step)s;
            return 0;
        }
    }
    return -1;
}

int zz_model_check_step(const zz_model *m, zz_step step, zz_error *err) {
    if (step != ZZ_STEP_MODEL) return 0;
    if (m->hidden > 0 && m->mlp > 0 && m->vocab > 0) {
        if (m->hidden % 8 || m->mlp % 8 || m->vocab % 8)
            return zz_errorf(err, "model %s: hidden size %d, MLP size %d, vocabulary %d: a model step needs "
                                  "multiples of 8 (the GEMMs read and write rows of 16-byte vectors)",
                             m->name, m->hidden, m->mlp, m->vocab);
        return 0;
    }
    char missing[64] = "";
    const struct {
        const char *flag;
        int value;
    } sizes[] = {{"--hidden", m->hidden}, {"--mlp", m->mlp}, {"--vocab", m->vocab}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value <= 0)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
                     sizes[i].flag);
    return zz_errorf(err, "model %s: a model step needs the hidden size, MLP size and vocabulary (%s missing)",
                     m->name, missing);
}

double zz_model_weight_bytes(const zz_model *m) {
    const double H = m->hidden, F = m->mlp, V = m->vocab, D = m->head_dim;
    const double per_layer = 2 * H                                   /* two RMSNorm weights */
                             + (m->q_heads + 2.0 * m->kv_heads) * D * H /* W_qkv */
                             + H * m->q_heads * D                    /* W_o */
                             + 2 * F * H + H * F;                    /* W_gate_up, W_down */
    return ZZ_BF16_BYTES * (m->layers * per_layer + H /* final norm */ + 2 * V * H /* LM head, embedding */);
}

static const char *const phase_names[] = {[ZZ_DECODE] = "decode", [ZZ_PREFILL] = "prefill"};

const char *zz_phase_name(zz_phase phase) { return phase_names[phase]; }

int zz_phase_from_name(const char *name, zz_phase *out) {
    for (int p = ZZ_DECODE; p <= ZZ_PREFILL; p++) {
        if (strcmp(name, phase_names[p]) == 0) {
            *out = (zz_phase)p;
            return 0;
        }
    }
    return -1;
}

int zz_workload_check(const zz_workload *w, zz_error *err) {
    if (w->batch < 1 || w->batch > ZZ_MAX_BATCH)
        return zz_errorf(err, "batch %d out of range 1..%d", w->batch, ZZ_MAX_BATCH);
    if (w->ctx < 1 || w->ctx > ZZ_MAX_CTX)
        return zz_errorf(err, "context %lld out of range 1..%lld", w->ctx, ZZ_MAX_CTX);
    if (w->chunk < 0 || w->chunk > ZZ_MAX_CTX)
        return zz_errorf(err, "chunk %lld out of range 0..%lld (0: single shot)", w->chunk, ZZ_MAX_CTX);
    if (w->sink < 0 || w->sink > ZZ_MAX_CTX)
        return zz_errorf(err, "sink %d out of range 0..%lld", w->sink, ZZ_MAX_CTX);
    if (w->recent < 1 || w->recent > ZZ_MAX_CTX)
        return zz_errorf(err, "recent %d out of range 1..%lld (a query must see itself)", w->recent, ZZ_MAX_CTX);
    if (!zz_kernel_variant_of(w->phase, w->kernel))
        return zz_errorf(err, "kernel variant %d: %s has %d (%s)", w->kernel, zz_phase_name(w->phase),
                         zz_kernel_variant_count(w->phase),
                         w->phase == ZZ_DECODE ? zz_decode_kernel_names : zz_prefill_kernel_names);
    if (w->step != ZZ_STEP_ATTENTION && w->step != ZZ_STEP_MODEL)
        return zz_errorf(err, "step %d: attention or model", (int)w->step);
    return 0;
}

static long long min_ll(long long a, long long b) { return a < b ? a : b; }

static int is_chunked(const zz_workload *w) {
    return w->phase == ZZ_PREFILL && w->chunk > 0 && w->chunk < w->ctx;
}

long long zz_workload_passes(const zz_workload *w) {
    return is_chunked(w) ? (w->ctx + w->chunk - 1) / w->chunk : 1;
}

zz_head_work zz_head_work_of(const zz_workload *w, int streaming) {
    const long long S = w->ctx, window = (long long)w->sink + w->recent;
    zz_head_work h = {0};
    h.cache_tokens = streaming ? min_ll(S, window) : S;
    if (w->phase == ZZ_DECODE) {
        h.query_tokens = 1;
        h.pairs = h.kv_tokens_read = streaming ? min_ll(S + 1, window) : S + 1;
        h.kv_tokens_written = 1;
        return h;
    }
    h.query_tokens = S;
    if (!is_chunked(w)) {
        /* Query i attends min(i+1, window) keys in the token band. */
        long long band = min_ll(S, window);
        h.pairs = streaming ? band * (band + 1) / 2 + (S - band) * window : S * (S + 1) / 2;
        h.kv_tokens_read = S;
        h.kv_tokens_written = streaming ? band : S;
        return h;
    }
    for (long long pos = 0; pos < S; pos += w->chunk) {
        long long n = min_ll(w->chunk, S - pos);
        /* Once the chunk start is past the window, the sink and the recent
         * band no longer cover the whole prefix: only window keys remain
         * visible before the chunk, which itself is attended causally. */
        long long before = streaming ? min_ll(pos, window) : pos;
        h.pairs += n * before + n * (n + 1) / 2;
        h.kv_tokens_read += before + n;
        h.kv_tokens_written += streaming ? zz_work_ring_tokens_kept(pos, n, w->sink, w->recent) : n;
    }
    return h;
}

double zz_attention_flops(const zz_model *m, int batch, const zz_head_work *h, int kv_heads) {
    int q_heads = kv_heads * (m->q_heads / m->kv_heads);
    return 4.0 * batch * m->head_dim * (double)h->pairs * q_heads;
}

double zz_kv_cache_bytes(const zz_model *m, int batch, const zz_head_work *h, int kv_heads) {
    return (double)batch * h->cache_tokens * 2 * m->head_dim * ZZ_BF16_BYTES * kv_heads;
}

zz_cost zz_cost_of(const zz_model *m, const zz_workload *w, int retrieval_heads) {
    zz_head_work full = zz_head_work_of(w, 0), streaming = zz_head_work_of(w, 1);
    int streaming_heads = m->layers * m->kv_heads - retrieval_heads;
    zz_cost c = {
        .retrieval_heads = retrieval_heads,
        .kv_bytes = zz_kv_cache_bytes(m, w->batch, &full, retrieval_heads) +
                    zz_kv_cache_bytes(m, w->batch, &streaming, streaming_heads),
        .flops = zz_attention_flops(m, w->batch, &full, retrieval_heads) +
                 zz_attention_flops(m, w->batch, &streaming, streaming_heads),
    };
    return c;
}
