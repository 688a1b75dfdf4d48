/* CPU reference attention: the oracle every GPU kernel is checked against.
 *
 * Storage is bf16 (round-to-nearest-even, exactly as the GPU converts), all
 * arithmetic is float with a max-subtracted (stable) softmax. Tensors are
 * contiguous [batch][token][head][dim] ("BSHD"), the layout the projections of
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

/* The same for a mixed layer (the per-head reference of the duo / zigzag /
 * fused layouts): KV head g and its query heads use kv_head_masks[g]
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

/* Relative error ||out - ref|| / ||ref|| (L2, accumulated in double); NaN in
 * out gives NaN, so an unwritten (NaN-poisoned) output fails any `< bound`.
 * ||ref|| == 0: 0 if out == ref exactly, else +infinity. n == 0 gives 0. */
double ref_relative_error(const float *out, const float *ref, long n);

/* Threads the reference attention may use (n <= 0: one per online CPU, the
 * default). Results are bit-identical for every thread count; small calls
 * run on the calling thread. Not thread-safe: set it before using the
 * reference from several threads. */
void ref_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
