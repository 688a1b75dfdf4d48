/* CPU reference attention: the oracle every GPU kernel is checked against.
 * Semantics (masks, positions, cache slots) are specified in reference.h.
 *
 * Shape of the code: every entry point (single-shot prefill, chunked prefill,
 * decode on a full or a streaming cache) reduces to one routine,
 * masked_attention(), which takes the queries, the keys/values and a function
 * that tells, for each query row, which key rows it sees as at most two
 * half-open ranges. Prefill and decode differ only in that function:
 * prefill maps positions through the mask, decode sees every valid cache slot.
 *
 * Speed: the GPU tests run this at S = 4096, 32 heads, D = 128, so the inner
 * loops work on contiguous float rows (one head's K and V are widened from
 * bf16 once and reused by all its query rows), are written so that gcc -O2
 * vectorises them without -ffast-math, and (batch, head) units are spread
 * over threads.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L /* sysconf, pthreads under -std=c11 */
#endif
#include "reference.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Argument checks stay on in release builds: a wrong oracle is worse than a
 * crashed test, and none of these sit in an inner loop. */
#define REQUIRE(cond)                                                              \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: reference: requirement failed: %s\n", __FILE__, \
                    __LINE__, #cond);                                              \
            abort();                                                               \
        }                                                                          \
    } while (0)

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "reference: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    return p;
}

/* ---------------------------------------------------------------- bf16 ---- */

bf16 bf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        /* Truncating a NaN whose payload sits only in the low 16 bits would
         * give an infinity; force the quiet bit so it stays a NaN. */
        return (bf16)((u >> 16) | 0x0040u);
    /* Round to nearest, ties to even, on the bit pattern: adding 0x7fff plus
     * the lowest kept bit carries into the kept half exactly when the dropped
     * half is above the midpoint, or at it with an odd kept half. The carry
     * propagates into the exponent when it must (including up to infinity). */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16)(u >> 16);
}

float bf16_to_float(bf16 x) {
    uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void bf16_round_floats(float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = bf16_to_float(bf16_from_float(x[i]));
}

/* ---------------------------------------------------------- inner loops ---- */

/* Eight independent partial sums: a single float accumulator is a serial
 * dependency chain that the compiler may not reassociate (no -ffast-math);
 * eight lanes it keeps in vector registers. The fixed-size inner loop is
 * what gcc -O2's cheap vectoriser accepts. */
static float dot(const float *restrict a, const float *restrict b, int n) {
    float acc[8] = {0};
    int d = 0;
    for (; d + 8 <= n; d += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[d + j] * b[d + j];
    float tail = 0.0f;
    for (; d < n; d++) tail += a[d] * b[d];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) +
           tail;
}

/* y += a * x, in blocks of eight for the same reason as dot(). */
static void axpy(float *restrict y, float a, const float *restrict x, int n) {
    int d = 0;
    for (; d + 8 <= n; d += 8)
        for (int j = 0; j < 8; j++) y[d + j] += a * x[d + j];
    for (; d < n; d++) y[d] += a * x[d];
}

/* ------------------------------------------------ the one attention core ---- */

typedef struct {
    int begin, end; /* key rows [begin, end); empty when end <= begin */
} key_range;

/* Which key rows query row t (0-based within the call) of query head hq
 * sees. Two ranges cover every mask of the suite: the sink tokens and the
 * recent band. */
typedef void (*visible_fn)(const void *ctx, int hq, int t, key_range r[2]);

/* One masked-attention call:
 *   out[b][t][h][:] = softmax(scale * q[b][t][h] . K[visible(t)]) V[visible(t)]
 * q:   [batch][q_len][q_heads][head_dim]
 * k,v: [batch][kv_rows][kv_heads][head_dim]; only rows < kv_used may be
 *      visible (rows beyond are never read: unwritten cache slots may hold
 *      anything, NaN poison included).
 * out: [batch][q_len][q_heads][head_dim] */
typedef struct {
    const zz_heads *h;
    int q_len, kv_rows, kv_used;
    visible_fn visible;
    const void *ctx;
    const bf16 *q, *k, *v;
    float *out;
} attention_job;

/* Per-thread working memory, sized for one (batch, query head). */
typedef struct {
    float *kf, *vf; /* [kv_used][head_dim]: this head's K and V, widened */
    float *scores;  /* [kv_used] */
    float *qf, *acc; /* [head_dim] */
} scratch;

/* All query rows of one (batch, query head): the unit of work. */
static void attend_head(const attention_job *job, int b, int hq, scratch *s) {
    const zz_heads *h = job->h;
    const int D = h->head_dim;
    const int g = hq / (h->q_heads / h->kv_heads); /* GQA: the group's KV head */
    const float scale = 1.0f / sqrtf((float)D);
    const size_t q_tok = (size_t)h->q_heads * D, kv_tok = (size_t)h->kv_heads * D;

    /* Widen K and V once into contiguous float rows: every query row streams
     * through them, and the dot products then touch no bf16 and no stride. */
    const bf16 *ks = job->k + (size_t)b * job->kv_rows * kv_tok + (size_t)g * D;
    const bf16 *vs = job->v + (size_t)b * job->kv_rows * kv_tok + (size_t)g * D;
    for (int j = 0; j < job->kv_used; j++)
        for (int d = 0; d < D; d++) {
            s->kf[(size_t)j * D + d] = bf16_to_float(ks[j * kv_tok + d]);
            s->vf[(size_t)j * D + d] = bf16_to_float(vs[j * kv_tok + d]);
        }

    for (int t = 0; t < job->q_len; t++) {
        key_range r[2];
        job->visible(job->ctx, hq, t, r);

        const bf16 *qs = job->q + ((size_t)b * job->q_len + t) * q_tok + (size_t)hq * D;
        for (int d = 0; d < D; d++) s->qf[d] = bf16_to_float(qs[d]);

        /* Scores of the visible keys, packed in visiting order. */
        int n = 0;
        float max = -INFINITY;
        for (int ri = 0; ri < 2; ri++)
            for (int j = r[ri].begin; j < r[ri].end; j++) {
                const float sc = scale * dot(s->qf, s->kf + (size_t)j * D, D);
                s->scores[n++] = sc;
                if (sc > max) max = sc;
            }
        /* Every valid mask lets a query see itself; a blind row would be a
         * bug in the caller, not something to give a value to. */
        REQUIRE(n > 0);

        /* Subtracting the row max keeps expf() in range for any logit size:
         * the largest term is exactly 1, so the sum is in [1, n]. */
        float sum = 0.0f;
        for (int i = 0; i < n; i++) {
            s->scores[i] = expf(s->scores[i] - max);
            sum += s->scores[i];
        }

        memset(s->acc, 0, (size_t)D * sizeof *s->acc);
        n = 0;
        for (int ri = 0; ri < 2; ri++)
            for (int j = r[ri].begin; j < r[ri].end; j++)
                axpy(s->acc, s->scores[n++], s->vf + (size_t)j * D, D);

        float *o = job->out + ((size_t)b * job->q_len + t) * q_tok + (size_t)hq * D;
        for (int d = 0; d < D; d++) o[d] = s->acc[d] / sum;
    }
}

/* Threads: a GPU test checks prefill at S = 4096 with 96 (batch, head) units
 * of ~4e9 flops each, tens of seconds on one core. Units are independent and
 * each is computed the same way whichever thread runs it, so the result does
 * not depend on the thread count (bit for bit). */
static int ref_threads = 0; /* 0: one per online CPU */

void ref_set_threads(int n) { ref_threads = n > 0 ? n : 0; }

typedef struct {
    const attention_job *job;
    int first, stride; /* this worker's units: first, first + stride, ... */
} worker_args;

static void *worker(void *arg) {
    const worker_args *w = arg;
    const attention_job *job = w->job;
    const size_t rows = (size_t)job->kv_used, D = (size_t)job->h->head_dim;
    scratch s = {xmalloc(rows * D * sizeof(float)), xmalloc(rows * D * sizeof(float)),
                 xmalloc(rows * sizeof(float)), xmalloc(D * sizeof(float)),
                 xmalloc(D * sizeof(float))};
    const int units = job->h->batch * job->h->q_heads;
    for (int u = w->first; u < units; u += w->stride)
        attend_head(job, u / job->h->q_heads, u % job->h->q_heads, &s);
    free(s.kf);
    free(s.vf);
    free(s.scores);
    free(s.qf);
    free(s.acc);
    return NULL;
}

static void masked_attention(const attention_job *job) {
    const int units = job->h->batch * job->h->q_heads;
    /* Small calls (unit tests, decode) are not worth a thread start. */
    const double flops = 4.0 * units * job->q_len * job->kv_used * job->h->head_dim;
    int n = ref_threads;
    if (n == 0) {
        const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (int)cpus : 1;
    }
    if (n > units) n = units;
    if (flops < 5e7) n = 1;

    pthread_t tid[256];
    worker_args args[256];
    if (n > 256) n = 256;
    int started = 0;
    for (int w = 0; w < n; w++) args[w] = (worker_args){job, w, n};
    /* Worker 0 runs on this thread; one that fails to start runs here too. */
    for (int w = 1; w < n; w++) {
        if (pthread_create(&tid[started], NULL, worker, &args[w]) == 0)
            started++;
        else
            worker(&args[w]);
    }
    worker(&args[0]);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
}

static void check_heads(const zz_heads *h) {
    REQUIRE(h != NULL);
    REQUIRE(h->batch >= 1 && h->q_heads >= 1 && h->kv_heads >= 1 && h->head_dim >= 1);
    REQUIRE(h->q_heads % h->kv_heads == 0);
}

/* ------------------------------------------------------------- prefill ---- */

typedef struct {
    const zz_mask *masks; /* one per KV head, or one for all (group = 0) */
    int group;            /* query heads per KV head; 0: masks[0] for all */
    int q_pos0;
} prefill_ctx;

/* Keys are indexed by position. Sink part [0, sink) and band [lo, i]; the
 * band starts no lower than sink so the ranges never overlap. */
static void prefill_visible(const void *ctx_, int hq, int t, key_range r[2]) {
    const prefill_ctx *ctx = ctx_;
    const zz_mask m = ctx->masks[ctx->group ? hq / ctx->group : 0];
    const int i = ctx->q_pos0 + t;
    if (m.kind == ZZ_MASK_FULL) {
        r[0] = (key_range){0, i + 1};
        r[1] = (key_range){0, 0};
        return;
    }
    const int lo = m.chunked ? ctx->q_pos0 - m.recent : i + 1 - m.recent;
    r[0] = (key_range){0, m.sink < i + 1 ? m.sink : i + 1};
    r[1] = (key_range){lo > m.sink ? lo : m.sink, i + 1};
}

static void check_mask(zz_mask m) {
    REQUIRE(m.kind == ZZ_MASK_FULL || m.kind == ZZ_MASK_STREAMING);
    if (m.kind == ZZ_MASK_STREAMING) REQUIRE(m.sink >= 0 && m.recent >= 1);
}

void ref_attention_prefill(const zz_heads *h, int q_len, int q_pos0, zz_mask mask,
                           const bf16 *q, const bf16 *k, const bf16 *v, float *out) {
    check_heads(h);
    check_mask(mask);
    REQUIRE(q_len >= 0 && q_pos0 >= 0);
    REQUIRE(q && k && v && out);
    const prefill_ctx ctx = {&mask, 0, q_pos0};
    const int kv_len = q_pos0 + q_len;
    masked_attention(&(attention_job){h, q_len, kv_len, kv_len, prefill_visible, &ctx,
                                      q, k, v, out});
}

void ref_attention_prefill_mixed(const zz_heads *h, int q_len, int q_pos0,
                                 const zz_mask *kv_head_masks, const bf16 *q, const bf16 *k,
                                 const bf16 *v, float *out) {
    check_heads(h);
    REQUIRE(kv_head_masks != NULL);
    for (int g = 0; g < h->kv_heads; g++) check_mask(kv_head_masks[g]);
    REQUIRE(q_len >= 0 && q_pos0 >= 0);
    REQUIRE(q && k && v && out);
    const prefill_ctx ctx = {kv_head_masks, h->q_heads / h->kv_heads, q_pos0};
    const int kv_len = q_pos0 + q_len;
    masked_attention(&(attention_job){h, q_len, kv_len, kv_len, prefill_visible, &ctx,
                                      q, k, v, out});
}

/* -------------------------------------------------------------- decode ---- */

/* Decode sees every valid cache slot: softmax and the weighted sum do not
 * depend on the order of the keys, so the ring's rotation is irrelevant. */
static void all_slots_visible(const void *ctx, int hq, int t, key_range r[2]) {
    (void)hq, (void)t;
    r[0] = (key_range){0, *(const int *)ctx};
    r[1] = (key_range){0, 0};
}

void ref_attention_decode_full(const zz_heads *h, int capacity, int pos,
                               const bf16 *q, const bf16 *k, const bf16 *v, float *out) {
    check_heads(h);
    REQUIRE(pos >= 0 && pos < capacity);
    REQUIRE(q && k && v && out);
    const int valid = pos + 1;
    masked_attention(
        &(attention_job){h, 1, capacity, valid, all_slots_visible, &valid, q, k, v, out});
}

void ref_attention_decode_streaming(const zz_heads *h, int sink, int recent, int pos,
                                    const bf16 *q, const bf16 *k, const bf16 *v, float *out) {
    check_heads(h);
    REQUIRE(sink >= 0 && recent >= 1 && pos >= 0);
    REQUIRE(q && k && v && out);
    const int slots = sink + recent;
    const int valid = pos + 1 < slots ? pos + 1 : slots;
    masked_attention(
        &(attention_job){h, 1, slots, valid, all_slots_visible, &valid, q, k, v, out});
}

/* --------------------------------------------------------------- cache ---- */

int ref_cache_slot(int sink, int recent, int pos) {
    REQUIRE(pos >= 0 && sink >= 0 && recent >= 0);
    if (sink == 0 && recent == 0) return pos;
    if (pos < sink) return pos;
    REQUIRE(recent >= 1);
    return sink + (pos - sink) % recent;
}

void ref_cache_write(const zz_heads *h, int slots, int sink, int recent, int pos0, int tokens,
                     const bf16 *new_k, const bf16 *new_v, bf16 *k_cache, bf16 *v_cache) {
    check_heads(h);
    REQUIRE(new_k && new_v && k_cache && v_cache && pos0 >= 0 && tokens >= 0);
    const size_t tok = (size_t)h->kv_heads * h->head_dim;
    for (int t = 0; t < tokens; t++) {
        const int slot = ref_cache_slot(sink, recent, pos0 + t);
        REQUIRE(slot < slots);
        for (int b = 0; b < h->batch; b++) {
            const size_t src = ((size_t)b * tokens + t) * tok, dst = ((size_t)b * slots + slot) * tok;
            memcpy(k_cache + dst, new_k + src, tok * sizeof(bf16));
            memcpy(v_cache + dst, new_v + src, tok * sizeof(bf16));
        }
    }
}

void ref_cache_update(const zz_heads *h, int slots, int sink, int recent, int pos,
                      const bf16 *new_k, const bf16 *new_v, bf16 *k_cache, bf16 *v_cache) {
    ref_cache_write(h, slots, sink, recent, pos, 1, new_k, new_v, k_cache, v_cache);
}

/* --------------------------------------------------------------- layer ---- */

/* The element-wise references compute in double and return float: they are
 * the oracle, so their own rounding should sit far below the bf16 rounding
 * of the GPU results they check (reference.h). */

void ref_rmsnorm(const bf16 *x, const bf16 *weight, float *y, int rows, int hidden, float eps) {
    REQUIRE(x && weight && y && rows >= 0 && hidden >= 1 && eps >= 0.0f);
    for (long r = 0; r < rows; r++) {
        const bf16 *xr = x + r * hidden;
        double ss = 0.0;
        for (int i = 0; i < hidden; i++) {
            const double v = bf16_to_float(xr[i]);
            ss += v * v;
        }
        const double inv = 1.0 / sqrt(ss / hidden + (double)eps);
        for (int i = 0; i < hidden; i++)
            y[r * hidden + i] = (float)((double)bf16_to_float(xr[i]) * inv * (double)bf16_to_float(weight[i]));
    }
}

double ref_rotary_angle(long long pos, int i, int head_dim, float theta) {
    REQUIRE(head_dim >= 2 && head_dim % 2 == 0 && i >= 0 && i < head_dim / 2 && theta > 0.0f);
    return (double)pos * pow((double)theta, -2.0 * i / head_dim);
}

void ref_rotary(float *x, int batch, int tokens, int heads, int head_dim, long long pos0, float theta) {
    REQUIRE(x && batch >= 0 && tokens >= 0 && heads >= 0 && head_dim >= 2 && head_dim % 2 == 0 && pos0 >= 0);
    const int half = head_dim / 2;
    double *cs = xmalloc(sizeof(double) * 2 * (size_t)half);
    for (int t = 0; t < tokens; t++) {
        for (int i = 0; i < half; i++) {
            const double a = ref_rotary_angle(pos0 + t, i, head_dim, theta);
            cs[2 * i] = cos(a), cs[2 * i + 1] = sin(a);
        }
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++) {
                float *row = x + (((size_t)b * tokens + t) * heads + h) * head_dim;
                for (int i = 0; i < half; i++) {
                    const double u = row[i], v = row[i + half], c = cs[2 * i], s = cs[2 * i + 1];
                    row[i] = (float)(u * c - v * s);
                    row[i + half] = (float)(v * c + u * s);
                }
            }
    }
    free(cs);
}

void ref_silu_mul(const bf16 *gu, float *h, int rows, int mlp) {
    REQUIRE(gu && h && rows >= 0 && mlp >= 1);
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < mlp; i++) {
            const double g = bf16_to_float(gu[r * 2 * mlp + i]), u = bf16_to_float(gu[r * 2 * mlp + mlp + i]);
            h[r * mlp + i] = (float)(g / (1.0 + exp(-g)) * u);
        }
}

/* Each row of W is widened to float once and used by every row of X (the
 * GPU tests run it at rows x 4096 x 28672); X is widened once. */
void ref_linear(const bf16 *x, long x_stride, const bf16 *w, float *y, long y_stride, int rows, int in, int out,
                float beta) {
    REQUIRE(x && w && y && rows >= 0 && in >= 1 && out >= 1 && x_stride >= in && y_stride >= out);
    float *xf = xmalloc(sizeof(float) * (size_t)rows * in), *wf = xmalloc(sizeof(float) * (size_t)in);
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < in; i++) xf[r * in + i] = bf16_to_float(x[r * x_stride + i]);
    for (long o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) wf[i] = bf16_to_float(w[o * in + i]);
        for (long r = 0; r < rows; r++) {
            float *yo = y + r * y_stride + o;
            const float acc = dot(xf + r * in, wf, in);
            *yo = beta == 0.0f ? acc : acc + beta * *yo;
        }
    }
    free(xf);
    free(wf);
}

/* --------------------------------------------------------- test inputs ---- */

/* splitmix64, as a double uniform in [0, 1). */
static double unit_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* One query row (reference.h, "Peaky test inputs"): aimed at `target` (a
 * key row) among n_keys visible keys, or spread when target is NULL. */
static void peaky_row(bf16 *q, int head_dim, const bf16 *target, int n_keys, uint64_t *state) {
    /* Key elements have variance 1/3 and query elements 3 s^2, so q.k has
     * variance head_dim s^2 and the scaled logit s^2. */
    const double s = target ? 1.0 : exp(log(6.0) * unit_random(state));
    /* q + t k raises the target's logit by t |k|^2 / sqrt(head_dim). */
    double t = 0.0;
    if (target) {
        double k2 = 0.0;
        for (int d = 0; d < head_dim; d++) k2 += (double)bf16_to_float(target[d]) * bf16_to_float(target[d]);
        REQUIRE(k2 > 0.0);
        t = (log((double)n_keys) + 0.5 * s * s) * sqrt((double)head_dim) / k2;
    }
    for (int d = 0; d < head_dim; d++) {
        const double x = 3.0 * s * (2.0 * unit_random(state) - 1.0) + (target ? t * bf16_to_float(target[d]) : 0.0);
        q[d] = bf16_from_float((float)x);
    }
}

/* The key a prefill row of `kind` at position i aims at (-1: none), and the
 * keys the row sees. */
static int prefill_target(zz_mask m, int i, int kind, int *visible) {
    if (m.kind == ZZ_MASK_FULL) {
        *visible = i + 1;
        return kind == 0 ? i : kind == 1 ? 0 : -1;
    }
    const int lo = i + 1 - m.recent, band = lo > m.sink ? lo : m.sink, sinks = m.sink < i + 1 ? m.sink : i + 1;
    *visible = sinks + (band <= i ? i + 1 - band : 0);
    switch (kind) {
    case 0: return i;
    case 1: return band <= i ? band : 0;
    case 2: return lo - 1 >= m.sink ? lo - 1 : -1;
    default: return -1;
    }
}

void ref_peaky_prefill_queries(const zz_heads *h, int seq, zz_mask mask, const bf16 *k, bf16 *q,
                               uint64_t *state) {
    check_heads(h);
    check_mask(mask);
    REQUIRE(!mask.chunked && seq >= 1 && k && q && state);
    const int D = h->head_dim, group = h->q_heads / h->kv_heads;
    for (int b = 0; b < h->batch; b++)
        for (int i = 0; i < seq; i++)
            for (int hq = 0; hq < h->q_heads; hq++) {
                int visible;
                const int target = prefill_target(mask, i, (i * h->q_heads + hq) % 4, &visible);
                const bf16 *key = target < 0 ? NULL : k + (((size_t)b * seq + target) * h->kv_heads + hq / group) * D;
                peaky_row(q + (((size_t)b * seq + i) * h->q_heads + hq) * D, D, key, visible, state);
            }
}

void ref_peaky_decode_queries(const zz_heads *h, int slots, int pos, zz_mask mask, const bf16 *k, bf16 *q,
                              uint64_t *state) {
    check_heads(h);
    check_mask(mask);
    REQUIRE(pos >= 0 && k && q && state);
    const int full = mask.kind == ZZ_MASK_FULL, sink = mask.sink, recent = mask.recent;
    const int valid = full || pos + 1 < slots ? pos + 1 : slots;
    REQUIRE(valid <= slots && (full || slots == sink + recent));
    const int oldest = pos - recent + 1 > sink ? pos - recent + 1 : sink;
    const int targets[4] = {full ? pos : ref_cache_slot(sink, recent, pos),
                            full ? 0 : pos >= sink ? ref_cache_slot(sink, recent, oldest) : -1,
                            !full && valid == slots ? slots - 1 : -1, -1};
    const int D = h->head_dim, group = h->q_heads / h->kv_heads;
    for (int b = 0; b < h->batch; b++)
        for (int hq = 0; hq < h->q_heads; hq++) {
            const int target = targets[(b * h->q_heads + hq) % 4];
            const bf16 *key = target < 0 ? NULL : k + (((size_t)b * slots + target) * h->kv_heads + hq / group) * D;
            peaky_row(q + ((size_t)b * h->q_heads + hq) * D, D, key, valid, state);
        }
}

/* -------------------------------------------------------------- errors ---- */

double ref_relative_error(const float *out, const float *ref, long n) {
    double err2 = 0.0, ref2 = 0.0;
    for (long i = 0; i < n; i++) {
        /* Explicit, so that no summation order or compiler flag can let an
         * unwritten (NaN-poisoned) output pass a `< bound` check. */
        if (isnan(out[i])) return NAN;
        const double d = (double)out[i] - (double)ref[i];
        err2 += d * d;
        ref2 += (double)ref[i] * ref[i];
    }
    /* A zero reference has no scale to be relative to: an exact match is
     * error 0, anything else is infinitely wrong (fails every finite bound). */
    if (ref2 == 0.0) return err2 == 0.0 ? 0.0 : INFINITY;
    return sqrt(err2) / sqrt(ref2);
}
