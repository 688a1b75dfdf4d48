/* The work of one kernel launch: the one place bytes and FLOPs are counted.
 *
 * The plan's op totals, the executor's per-launch accounting (kernels.csv's
 * GB/s and TFLOP/s) and the kernel microbenchmarks all count through these
 * functions, so a rate means the same wherever it is printed.
 *
 * Conventions (docs/DESIGN.md, "Ceilings and work"), for the heads a launch covers, whole batch:
 *   bytes       every element read or written, once each, bf16 unless said
 *   flops       4·D per attended query–key pair per query head: QK^T and PV
 *               only (softmax and masking are not counted)
 *   tile_flops  the same over every pair of the tiles a prefill kernel
 *               computes: a streaming band skips whole tiles, not pairs, so
 *               this is what the tensor cores really did
 * Per launch kind:
 *   attention   Q and O of the queries, K and V of the keys it reads; a
 *               decode's split kernel counts the whole attention's bytes,
 *               as a one-split decode would
 *   combine     the float partials of every split (D values and one
 *               log-sum-exp each) read, O written
 *   one-launch  a decode that appends its token (variant one-launch): the
 *   decode      attention's bytes, the new K/V among its keys (read once,
 *               from the new-token input), plus K and V of that token
 *               written into the cache; its float partials are scratch
 *               between its own blocks, written and read back through L2
 *               within the launch, not counted (as the split kernel of
 *               split-combine does not count its writes): about 2·G·splits
 *               / keys of the K/V bytes, at Llama-3-8B heads and B 1 3 %
 *               at S 8K, 0.8 % at 32K, 0.2 % at 128K
 *   K/V copy    K and V of the tokens moved, read + written: a cache write
 *               (the tokens its cache keeps) or the chunked streaming window
 *   head copy   one tensor's heads, read + written: gather, scatter, concat
 * The model step's (docs/DESIGN.md, "The model step"), `rows` tokens:
 *   embed       the tokens' rows of the embedding table read, x written
 *   linear      X (rows × in) and W (out × in) read, Y (rows × out)
 *               written, and read too when it adds into Y (the residual);
 *               flops 2·rows·in·out
 *   RMSNorm     x read, y written, the weight read; no flops counted
 *   rotary      Q and K of every head read and written (in place)
 *   SiLU × up   gate and up read, their product written
 */
#ifndef ZZ_WORK_H
#define ZZ_WORK_H

#include "attention.h"

typedef struct {
    double bytes, flops, tile_flops;
} zz_work;

/* The heads one launch covers (query heads, and the KV heads they share). */
typedef struct {
    int batch, q_heads, kv_heads, head_dim;
} zz_work_shape;

/* Per sequence: `queries` query tokens per query head, `keys` K/V tokens
 * read per KV head, `pairs` attended query–key pairs per query head. */
zz_work zz_work_attention(const zz_work_shape *s, long long queries, long long keys, long long pairs);

/* 4·D on every pair of the tiles prefill variant `kernel` (variants.h)
 * computes for a. */
double zz_work_prefill_tile_flops(const zz_prefill_args *a, int kernel);

/* A one-launch decode: `keys` K/V tokens attended per KV head (the new
 * one among them), the new token's K and V written. */
zz_work zz_work_decode_append(const zz_work_shape *s, long long keys);

/* The split count zz_decode_attention runs a with: 1 means no combine. */
int zz_work_decode_splits(const zz_decode_args *a, int sm_count);
zz_work zz_work_decode_combine(const zz_work_shape *s, int splits);

/* K and V of `tokens` tokens per sequence of the shape's KV heads. */
zz_work zz_work_kv_copy(const zz_work_shape *s, long long tokens);

/* One tensor of `heads` heads × `tokens` tokens per sequence. */
zz_work zz_work_head_copy(const zz_work_shape *s, long long tokens, int heads);

/* duo-gather's gather: Q, K and V into split order, three head copies. */
zz_work zz_work_gather(const zz_work_shape *s, long long tokens);

/* Of new positions pos .. pos+tokens-1, those a sink + recent ring keeps
 * once all are written: those under the sink and the latest `recent`
 * (the ring overwrites the rest). */
long long zz_work_ring_tokens_kept(long long pos, long long tokens, int sink, int recent);

/* Y[rows][out] = X[rows][in] · W[out][in]^T (+ Y when residual). */
zz_work zz_work_linear(long long rows, int in, int out, int residual);
zz_work zz_work_rmsnorm(long long rows, int hidden);
zz_work zz_work_embed(long long rows, int hidden);
/* Q and K of the shape's query and KV heads, `tokens` tokens per sequence. */
zz_work zz_work_rotary(const zz_work_shape *s, long long tokens);
zz_work zz_work_silu_mul(long long rows, int mlp);

#endif
