/* The suite's CUDA kernels, as a C API.
 *
 * Every launcher takes a stream, checks its arguments before launching and
 * returns ZZ_OK, ZZ_BAD_ARGUMENT or ZZ_CUDA_ERROR; zz_kernel_error() then
 * holds a one-line message (file:line for CUDA errors). Nothing is printed.
 *
 * Tensors are bf16 in [batch][token][head][dim] element order (BSHD), dim
 * contiguous and the heads of one token adjacent (head stride = head_dim).
 * A zz_view describes one such tensor, or a slice of its heads: that is how a
 * single launch covers the retrieval or the streaming heads of a layer
 * without a copy (zz_view_heads).
 *
 * Masks and positions follow kernels/reference.h, the CPU oracle: a query at
 * position i sees key j iff j <= i and (full, or j < sink, or j >= lo(i)),
 * lo(i) = i + 1 - recent (token band) or q_pos0 - recent (chunked).
 */
#ifndef ZZ_ATTENTION_H
#define ZZ_ATTENTION_H

#include <cuda_runtime_api.h>
#include "reference.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { ZZ_OK = 0, ZZ_BAD_ARGUMENT = 1, ZZ_CUDA_ERROR = 2 };

/* The message of the last failed call on this thread. */
const char *zz_kernel_error(void);

typedef struct {
    bf16 *data;              /* element (b, t, h, d) at data[b*batch_stride + t*token_stride + h*head_dim + d] */
    long long batch_stride;  /* in elements */
    long long token_stride;  /* in elements; >= heads * head_dim */
    int heads;
} zz_view;

/* A contiguous [batch][tokens][heads][head_dim] tensor. */
zz_view zz_view_dense(bf16 *data, int tokens, int heads, int head_dim);
/* Heads [first, first + count) of v. */
zz_view zz_view_heads(zz_view v, int first, int count, int head_dim);

/* ---- Prefill: FlashAttention-2 style, mma.sync tensor cores ----
 * q: q_len tokens at positions q_pos0.., o: same shape; k, v: keys at token
 * positions 0 .. q_pos0 + q_len - 1. q.heads must be a multiple of k.heads
 * (GQA group); one block reads each K/V tile once for its whole group. */
typedef struct {
    zz_view q, k, v, o;
    int batch, head_dim;     /* head_dim 64 or 128 */
    int q_len, q_pos0;
    zz_mask mask;
} zz_prefill_args;

int zz_prefill_attention(const zz_prefill_args *args, cudaStream_t stream);

/* Query–key pairs the kernel computes (whole tiles, masked or not), per
 * (batch, kv head) group summed over its query heads: to report the rate on
 * the tiles it computes. */
long long zz_prefill_computed_pairs(const zz_prefill_args *args);

/* ---- Prefill for Hopper: TMA + wgmma, warp-specialised (issue 16) ----
 * Variant wgmma-tma (harness/plan/variants.h): the same arguments and
 * results as zz_prefill_attention. Needs an sm_90 device and a build with
 * 90a in GPU_ARCHS; elsewhere it returns ZZ_BAD_ARGUMENT and says so.
 * Blocks of 128 query positions of one query head, 128-key tiles. */
int zz_prefill_attention_hopper(const zz_prefill_args *args, cudaStream_t stream);
/* *supported = 1 when zz_prefill_attention_hopper can run on the current device. */
int zz_prefill_hopper_supported(int *supported);
/* zz_prefill_computed_pairs for its tiles. */
long long zz_prefill_hopper_computed_pairs(const zz_prefill_args *args);

/* ---- Decode: split-KV (flash-decoding) + log-sum-exp combine ----
 * Variant split-combine (harness/plan/variants.h; one-launch below).
 * One query token per sequence at position pos, attending the cache after
 * the new token was written (zz_cache_write). The cache holds
 *   full:      slots 0..pos                         (mask.kind == ZZ_MASK_FULL)
 *   streaming: sink slots + a ring of recent slots  (min(pos+1, sink+recent) valid)
 * q, o: one token; k, v: the cache. All query heads of a GQA group share one
 * tile. With num_splits > 1 the partial results go to the workspace and a
 * combine kernel reduces them; with 1 the split kernel writes o directly. */
typedef struct {
    zz_view q, k, v, o;
    int batch, head_dim;
    int pos;
    zz_mask mask;            /* kind, sink, recent (chunked is ignored) */
    int num_splits;          /* 0: choose from the SM count (zz_decode_default_splits) */
} zz_decode_args;

/* Keys the decode attends per sequence and head. */
int zz_decode_keys(const zz_decode_args *args);

/* Decode kernels stream K/V through shared memory in tiles of this many
 * keys; a split covers whole tiles (the last one may be partial). */
#define ZZ_DECODE_TILE 64
/* Keys per split (a multiple of ZZ_DECODE_TILE) when `keys` keys are cut
 * into `splits` splits; ceil(keys / that) splits are then really needed,
 * which can be fewer than asked. */
int zz_decode_split_keys(int keys, int splits);

/* The split rule in whole waves (issue 14). A decode grid has one block per
 * (sequence, KV head, split): `pairs` = batch × KV heads. sm_count SMs each
 * hold `resident` blocks of the kernel at once (the caller asks
 * cudaOccupancyMaxActiveBlocksPerMultiprocessor, for the kernel and its
 * shared memory), so one wave is sm_count × resident blocks. A memory-bound
 * grid runs as long as its busiest block slot; the rule returns the fewest
 * splits (each of whole tiles, at least one) whose grid keeps the slots
 * busy at least 95 % of the time:
 *     pairs · keys / (waves · sm_count · resident · keys per split) >= 0.95,
 *     waves = ceil(pairs · splits / (sm_count · resident)),
 * so the grid fills whole waves (blocks = k · sm_count · resident, within
 * the tile granularity) and every SM keeps `resident` blocks' bytes in
 * flight. When no split count reaches 0.95 (too few tiles to fill a wave)
 * it returns the one with the highest such fraction, the fewest splits on a
 * tie. Pure: callable without a GPU (tests/test_split_rule.c). */
int zz_decode_wave_splits(int sm_count, int resident, long long pairs, int keys);
/* Split count that spreads the blocks evenly over sm_count SMs, with splits
 * of one 64-key tile to 8192 keys; one split needs no combine. */
int zz_decode_default_splits(const zz_decode_args *args, int sm_count);
/* Workspace bytes for the partial outputs (0 when one split is enough). */
size_t zz_decode_workspace_bytes(const zz_decode_args *args, int sm_count);
/* Launches the split kernel and, if needed, the combine kernel. workspace
 * must hold zz_decode_workspace_bytes(args, sm_count) bytes. */
int zz_decode_attention(const zz_decode_args *args, void *workspace, int sm_count, cudaStream_t stream);

/* ---- Decode in one launch: split-KV, combine and cache append ----
 * One kernel per head group: appends the token at position pos (new_k,
 * new_v: one token, k.heads heads) to the cache (args->k, args->v: a full
 * cache gets it at slot pos, a streaming one at ref_cache_slot(sink,
 * recent, pos)) and attends the cache with it, as zz_cache_write followed
 * by zz_decode_attention would; the cache holds positions before pos (the
 * newest key comes from new_k / new_v). With several splits the last split
 * block of each (sequence, KV head) combines them.
 *   splits     args->num_splits when > 0; else the wave rule
 *              (zz_decode_wave_splits) over the attended keys (a full cache or
 *              a streaming window) with `resident` blocks per SM, from
 *              zz_decode_one_launch_resident
 *   workspace  zz_decode_one_launch_workspace_bytes(args, sm_count, resident)
 *              bytes (none for one split)
 *   tickets    batch × k.heads ints, all 0 before the first launch (cudaMemset):
 *              every launch leaves them 0; one launch at a time per array */
int zz_decode_one_launch_resident(int head_dim, int *resident); /* occupancy API: blocks per SM */
int zz_decode_one_launch_splits(const zz_decode_args *args, int sm_count, int resident);
size_t zz_decode_one_launch_workspace_bytes(const zz_decode_args *args, int sm_count, int resident);
int zz_decode_one_launch(const zz_decode_args *args, zz_view new_k, zz_view new_v, void *workspace, int *tickets,
                         int sm_count, int resident, cudaStream_t stream);

/* ---- A mixed layer in one launch (layout duo-fused, issue 15) ----
 * Every KV head of a DuoAttention layer in its own mode: KV heads
 * order[0 .. retrieval) attend their full cache, order[retrieval ..
 * kv_heads) their sink + recent window. q, the output and the new token's
 * K/V are in the model's head order (all heads; no reorder, no join copy);
 * the retrieval heads' cache has `retrieval` heads, cache head i holding
 * model KV head order[i]; the streaming heads' cache kv_heads - retrieval,
 * cache head i holding model KV head order[retrieval + i]. */
#define ZZ_FUSED_MAX_KV_HEADS 128
typedef struct {
    int kv_heads, retrieval;
    unsigned char order[ZZ_FUSED_MAX_KV_HEADS];
} zz_head_modes;

/* Decode: one launch appends the token at position pos to every head's
 * cache (retrieval: slot pos; streaming: ref_cache_slot(sink, recent, pos))
 * and attends it, as zz_decode_one_launch on each group would. Retrieval
 * heads are split over their context and scheduled first, streaming heads
 * after them (they fill the tail); the splits of both come from one rule
 * that keeps the sm_count × resident slots busy until the last block ends
 * (zz_decode_fused_splits). */
typedef struct {
    zz_view q, o;                /* one token, all query heads, model order */
    zz_view new_k, new_v;        /* one token, all KV heads, model order */
    zz_view k_full, v_full;      /* retrieval heads' cache: slots 0..pos-1 valid */
    zz_view k_ring, v_ring;      /* streaming heads' cache: sink + recent slots */
    int batch, head_dim, pos, sink, recent;
    zz_head_modes heads;
    int splits_full, splits_streaming;  /* both > 0: forced; else the rule */
} zz_decode_fused_args;

/* The rule: the fewest retrieval splits (whole tiles, real counts) whose
 * grid keeps the sm_count · resident slots >= 95 % busy over its makespan,
 * else the busiest; the windows in the fewest splits no longer than a
 * retrieval split. The makespan: the retrieval blocks in waves, the window
 * blocks in the slots the last wave leaves free, then after it. Pure:
 * callable without a GPU. */
void zz_decode_fused_splits(int sm_count, int resident, int batch, int retrieval, int keys_full, int streaming,
                            int keys_window, int *splits_full, int *splits_streaming);
size_t zz_decode_fused_workspace_bytes(const zz_decode_fused_args *args, int sm_count, int resident);
/* tickets: batch × heads.kv_heads ints, 0 before the first launch (as
 * zz_decode_one_launch's); resident from zz_decode_one_launch_resident. */
int zz_decode_fused(const zz_decode_fused_args *args, void *workspace, int *tickets, int sm_count, int resident,
                    cudaStream_t stream);

/* Prefill: one launch over all heads of a layer, each KV head with its
 * mask: the retrieval heads full causal, the streaming heads `streaming`
 * (sink + recent band; chunked: {streaming, sink, recent, 1}). q, o: q_len
 * tokens at positions q_pos0.. in model order.
 *   single shot (keys_model_order = 1): k_full / v_full are the new K/V of
 *     every KV head in model order (k_stream, v_stream unused); both kinds
 *     attend positions 0..q_pos0+q_len-1 of them, q_pos0_stream = q_pos0.
 *   chunked (keys_model_order = 0): retrieval cache head i (model head
 *     order[i]) in k_full / v_full, keys at positions 0..q_pos0+q_len-1;
 *     streaming head i (model head order[retrieval + i]) in the window
 *     k_stream / v_stream written by zz_streaming_window, its queries at
 *     window position q_pos0_stream (= zz_streaming_window_keys(...)).
 * Tiles run longest first: every retrieval head's query tiles (latest
 * rows first), then the streaming heads' band tiles fill the tail. */
typedef struct {
    zz_view q, o;
    zz_view k_full, v_full, k_stream, v_stream;
    int batch, head_dim, q_len, q_pos0, q_pos0_stream;
    zz_mask streaming;
    zz_head_modes heads;
    int keys_model_order;
} zz_prefill_fused_args;

int zz_prefill_fused(const zz_prefill_fused_args *args, cudaStream_t stream);
/* The same on the wgmma-tma kernel (variant wgmma-tma, issue 16): the
 * same arguments and results (bit for bit those of per-head launches of
 * zz_prefill_attention_hopper), blocks of 128 query positions of one query
 * head, each KV head's query heads together, row tiles latest first. Needs
 * what zz_prefill_attention_hopper needs (zz_prefill_hopper_supported);
 * elsewhere ZZ_BAD_ARGUMENT, and it says so. */
int zz_prefill_fused_hopper(const zz_prefill_fused_args *args, cudaStream_t stream);

/* ---- KV-cache writes ----
 * Store `tokens` new tokens (positions pos0 .. pos0+tokens-1; new_k, new_v
 * hold them in order) into a cache of `capacity` slots per sequence, at
 * ref_cache_slot(sink, recent, pos) (sink = recent = 0: a full cache, slot =
 * position). Decode writes one token; prefill writes its prompt or chunk. */
int zz_cache_write(zz_view new_k, zz_view new_v, zz_view k_cache, zz_view v_cache, int batch, int head_dim,
                   int capacity, int sink, int recent, int pos0, int tokens, cudaStream_t stream);

/* Chunked prefill of streaming heads (DuoAttention): the chunk at positions
 * pos0 .. pos0+tokens-1 attends the cached sink tokens, the cached recent
 * tokens and itself. zz_streaming_window writes them, in position order, into
 * win_k / win_v: first the zz_streaming_window_keys(sink, recent, pos0) cached
 * tokens (read from the ring cache k_cache / v_cache of sink + recent slots),
 * then the chunk. Attention then runs on the window with q_pos0 = that count
 * and the mask {streaming, sink, recent, chunked}. */
int zz_streaming_window_keys(int sink, int recent, int pos0);
int zz_streaming_window(zz_view k_cache, zz_view v_cache, zz_view new_k, zz_view new_v, zz_view win_k,
                        zz_view win_v, int batch, int head_dim, int sink, int recent, int pos0, int tokens,
                        cudaStream_t stream);

/* ---- Copies between head groups (duo-cat, duo-gather) ----
 * Concat: out's heads = a's heads followed by b's heads (one launch).
 * Gather: dst head i = src head index[i]; scatter: dst head index[i] = src
 * head i. index is a device array of count ints. */
int zz_concat_heads(zz_view a, zz_view b, zz_view out, int batch, int tokens, int head_dim,
                    cudaStream_t stream);
int zz_gather_heads(zz_view src, const int *index, int count, zz_view dst,
                    int batch, int tokens, int head_dim, cudaStream_t stream);
int zz_scatter_heads(zz_view src, const int *index, int count, zz_view dst,
                     int batch, int tokens, int head_dim, cudaStream_t stream);

/* ---- Utilities ----
 * n bf16 values uniform in [-scale, scale], a reproducible function of
 * (seed, index). */
int zz_fill_uniform(bf16 *x, long long n, unsigned long long seed, float scale, cudaStream_t stream);

/* Holds `stream` until the host sets *release to 1 (or 2 s pass; then the
 * kernel sets it to -1, so the caller can tell the timing was not held).
 * release must be host memory mapped for the device (cudaHostAllocMapped). */
int zz_block_stream(volatile int *release, cudaStream_t stream);

/* One thread that spins for `cycles` SM clock cycles: a kernel of known,
 * data-free duration for the host-pacing calibration (bench/host_pacing.c). */
int zz_spin(long long cycles, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
