/* CPU reference attention: the oracle every GPU kernel is checked against.
 *
 * Storage is bf16 (round-to-nearest-even, exactly as the GPU converts), all
 * arithmetic is float with a max-subtracted (stable) softmax. Tensors are
 * contiguous [batch][token][head][dim] ("BSHD"), the order the projections of
 * a real model produce, so a head slice is a strided view and needs no copy.
 *
 * Positions and masks. A query at absolute position i may see a key at
 * position j only if j <= i (causal). Full heads see every such key.
 * Streaming heads additionally need j < sink or j >= lo(i), where
 *   token band (single-shot prefill, decode): lo(i) = i + 1 - recent
 *   chunked prefill (DuoAttention):           lo(i) = P - recent
 * with P the position of the chunk's first query: the streaming cache kept
 * from earlier chunks holds sink + recent tokens, and the chunk itself is
 * attended causally.
 *
 * GQA: query head h uses KV head h / (q_heads / kv_heads).
 */
#ifndef ZZ_REFERENCE_H
#define ZZ_REFERENCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t bf16;

/* Round-to-nearest-even; NaN stays NaN (quiet), infinities stay infinite. */
bf16 bf16_from_float(float x);
float bf16_to_float(bf16 x);
/* Round a float array through bf16 in place: what the GPU will see. */
void bf16_round_floats(float *x, long n);

typedef enum { ZZ_MASK_FULL = 0, ZZ_MASK_STREAMING = 1 } zz_mask_kind;

typedef struct {
    zz_mask_kind kind;
    int sink, recent;   /* used by ZZ_MASK_STREAMING */
    int chunked;        /* 1: lo(i) = q_pos0 - recent (DuoAttention chunks) */
} zz_mask;

/* Shapes shared by every reference call. */
typedef struct {
    int batch, q_heads, kv_heads, head_dim;
} zz_heads;

/* Prefill / chunked prefill.
 * q:   [batch][q_len][q_heads][head_dim], queries at positions q_pos0 .. q_pos0+q_len-1
 * k,v: [batch][q_pos0+q_len][kv_heads][head_dim], keys at positions 0 ..
 * out: [batch][q_len][q_heads][head_dim] (float) */
void ref_attention_prefill(const zz_heads *h, int q_len, int q_pos0, zz_mask mask,
                           const bf16 *q, const bf16 *k, const bf16 *v, float *out);

/* The same for a mixed layer (the per-head reference of the duo-* and
 * zigzag layouts): KV head g and its query heads use kv_head_masks[g]
 * (kv_heads entries). With every entry equal it is ref_attention_prefill. */
void ref_attention_prefill_mixed(const zz_heads *h, int q_len, int q_pos0,
                                 const zz_mask *kv_head_masks, const bf16 *q, const bf16 *k,
                                 const bf16 *v, float *out);

/* Decode of the token at position pos, after its K/V were written to the cache.
 * Full cache:      k,v [batch][capacity][kv_heads][head_dim], slots 0..pos valid.
 * Streaming cache: k,v [batch][sink+recent][kv_heads][head_dim]: slots 0..sink-1
 *                  hold the first tokens, the rest a ring of the latest `recent`
 *                  (see ref_cache_slot); min(pos+1, sink+recent) slots valid.
 * q: [batch][q_heads][head_dim]; out: [batch][q_heads][head_dim] (float). */
void ref_attention_decode_full(const zz_heads *h, int capacity, int pos,
                               const bf16 *q, const bf16 *k, const bf16 *v, float *out);
void ref_attention_decode_streaming(const zz_heads *h, int sink, int recent, int pos,
                                    const bf16 *q, const bf16 *k, const bf16 *v, float *out);

/* Cache slot of the token at position pos: pos itself for a full cache
 * (sink = recent = 0 means "full"), else pos < sink ? pos : sink + (pos - sink) % recent. */
int ref_cache_slot(int sink, int recent, int pos);

/* Write one new token's K and V (new_k, new_v: [batch][kv_heads][head_dim]) into
 * a cache of `slots` slots per sequence at ref_cache_slot(sink, recent, pos). */
void ref_cache_update(const zz_heads *h, int slots, int sink, int recent, int pos,
                      const bf16 *new_k, const bf16 *new_v, bf16 *k_cache, bf16 *v_cache);
/* The same for `tokens` tokens at positions pos0.. (new_k, new_v:
 * [batch][tokens][kv_heads][head_dim]), in order: a later token takes the
 * slot of an earlier one where a ring wraps within the write. */
void ref_cache_write(const zz_heads *h, int slots, int sink, int recent, int pos0, int tokens,
                     const bf16 *new_k, const bf16 *new_v, bf16 *k_cache, bf16 *v_cache);

/* The relative error (ref_relative_error) a GPU output may have against this
 * reference: bf16 inputs, softmax weights and outputs with float sums give
 * 2-3e-3 (kernels/NOTES.md). tests/test_reference.c (test_peaky_separates_bugs)
 * shows what it still catches on peaky inputs. */
#define REF_ERROR_BOUND 1e-2

/* Relative error ||out - ref|| / ||ref|| (L2, accumulated in double); NaN in
 * out gives NaN, so an unwritten (NaN-poisoned) output fails any `< bound`.
 * ||ref|| == 0: 0 if out == ref exactly, else +infinity. n == 0 gives 0. */
double ref_relative_error(const float *out, const float *ref, long n);

/* Peaky test inputs. Queries and keys uniform in [-1, 1] give nearly flat
 * softmax rows, on which a 2 % error in the softmax scale, or one dropped key
 * of thousands, stays within a test's error bound. These write queries
 * (rounded to bf16) for keys uniform in [-1, 1], row by row of two kinds:
 *   spread rows: values uniform in [-3s, 3s], s log-uniform in [1, 6] per
 *     row, so the row's logits have standard deviation s and span up to
 *     about +-25: the weight concentrates on a few keys;
 *   aimed rows: logits of standard deviation 1, plus the query turned toward
 *     one key until its logit rises by ln(n) + 1/2, n the keys the row sees:
 *     that key then holds about half of the row's weight, so dropping it (or
 *     attending it where it is masked) moves the output by a large fraction,
 *     and a 2 % scale error, which shifts its log-odds by 2 % of a gap of
 *     ln(n), by several percent.
 * Rows take four kinds in turn, 0-3: aimed at the newest key; at the oldest
 * key of the streaming band (full: the first key); at the key just outside
 * the band, which is masked (decode: at the ring's last slot, the one a
 * window one token short would miss); spread. A kind whose key does not
 * exist gives a spread row. *state is a splitmix64 state, advanced.
 *
 * Single-shot prefill: k [batch][seq][kv_heads][head_dim] (mask not
 * chunked); q [batch][seq][q_heads][head_dim]; row (b, i, h) has kind
 * (i * q_heads + h) % 4. */
void ref_peaky_prefill_queries(const zz_heads *h, int seq, zz_mask mask, const bf16 *k, bf16 *q,
                               uint64_t *state);
/* Decode at pos: k is the cache of `slots` slots per sequence, as
 * ref_attention_decode_full / _streaming take it; q [batch][q_heads][head_dim];
 * row (b, h) has kind (b * q_heads + h) % 4. */
void ref_peaky_decode_queries(const zz_heads *h, int slots, int pos, zz_mask mask, const bf16 *k, bf16 *q,
                              uint64_t *state);

/* ---- The layer around attention (kernels/layers.h) ----
 * bf16 inputs, as the GPU sees them; results in float, not rounded: a GPU
 * kernel computes the same in float and rounds to bf16 once, so its output
 * is within half a bf16 unit in the last place (at most 2^-8 of the value)
 * of these, plus its own float rounding. Row-major matrices; row strides in
 * elements. */

/* y[r][i] = x[r][i] / sqrt(mean_i x[r][i]^2 + eps) * weight[i], the mean of
 * squares in double. x [rows][hidden], y [rows][hidden] (float). */
void ref_rmsnorm(const bf16 *x, const bf16 *weight, float *y, int rows, int hidden, float eps);

/* The rotary angle of pair i (0 <= i < head_dim / 2) at position pos:
 * pos * theta^(-2i / head_dim), in double. */
double ref_rotary_angle(long long pos, int i, int head_dim, float theta);

/* Rotary position embedding (Llama's rotate-half form), in place on x
 * [batch][tokens][heads][head_dim] (float, dense): token t of each sequence
 * is at position pos0 + t, and pair (x_i, x_{i+D/2}) becomes
 * (x_i cos a - x_{i+D/2} sin a, x_{i+D/2} cos a + x_i sin a),
 * a = ref_rotary_angle(pos0 + t, i, D, theta); cos and sin in double. */
void ref_rotary(float *x, int batch, int tokens, int heads, int head_dim, long long pos0, float theta);

/* h[r][i] = silu(gu[r][i]) * gu[r][mlp + i], silu(a) = a / (1 + e^-a) (in
 * double). gu [rows][2 * mlp] (gate, then up), h [rows][mlp] (float). */
void ref_silu_mul(const bf16 *gu, float *h, int rows, int mlp);

/* y[r][o] = sum_i x[r][i] * w[o][i] + beta * y[r][o]: a linear layer with
 * W as nn.Linear stores it, [out][in] (row stride in). Float accumulation
 * (the products are exact in float; eight partial sums per dot product,
 * as dot() in reference.c), y float, read when beta != 0. x: rows of
 * x_stride elements; y: rows of y_stride. */
void ref_linear(const bf16 *x, long x_stride, const bf16 *w, float *y, long y_stride, int rows, int in, int out,
                float beta);

/* Threads the reference attention may use (n <= 0: one per online CPU, the
 * default). Results are bit-identical for every thread count; small calls
 * run on the calling thread. Not thread-safe: set it before using the
 * reference from several threads. */
void ref_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
