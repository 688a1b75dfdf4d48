/* Bytes and FLOPs of one launch (work.h). */
#include "work.h"

#include "model.h"
#include "variants.h"

/* Bytes of one bf16 tensor: `heads` heads × `tokens` tokens per sequence. */
static double tensor_bytes(const zz_work_shape *s, long long tokens, int heads) {
    return (double)s->batch * tokens * heads * s->head_dim * ZZ_BF16_BYTES;
}

zz_work zz_work_attention(const zz_work_shape *s, long long queries, long long keys, long long pairs) {
    return (zz_work){
        .bytes = 2 /* Q, O */ * tensor_bytes(s, queries, s->q_heads) + 2 /* K, V */ * tensor_bytes(s, keys, s->kv_heads),
        .flops = 4.0 * s->batch * s->q_heads * s->head_dim * (double)pairs,
    };
}

double zz_work_prefill_tile_flops(const zz_prefill_args *a, int kernel) {
    const long long pairs =
        kernel == ZZ_PREFILL_WGMMA_TMA ? zz_prefill_hopper_computed_pairs(a) : zz_prefill_computed_pairs(a);
    return 4.0 * a->head_dim * (double)pairs;
}

/* The workspace holds D + 1 floats per split and query head (partial O, its
 * log-sum-exp): the only place the launcher's split count shows. */
static double partial_bytes_per_split(const zz_work_shape *s) {
    return (double)s->batch * s->q_heads * (s->head_dim + 1) * sizeof(float);
}

int zz_work_decode_splits(const zz_decode_args *a, int sm_count) {
    const zz_work_shape s = {a->batch, a->q.heads, a->k.heads, a->head_dim};
    const size_t bytes = zz_decode_workspace_bytes(a, sm_count);
    return bytes ? (int)((double)bytes / partial_bytes_per_split(&s)) : 1;
}

zz_work zz_work_decode_append(const zz_work_shape *s, long long keys) {
    zz_work w = zz_work_attention(s, 1, keys, keys);
    w.bytes += 2 /* K, V */ * tensor_bytes(s, 1, s->kv_heads);
    return w;
}

zz_work zz_work_decode_combine(const zz_work_shape *s, int splits) {
    return (zz_work){.bytes = splits * partial_bytes_per_split(s) + tensor_bytes(s, 1, s->q_heads)};
}

zz_work zz_work_kv_copy(const zz_work_shape *s, long long tokens) {
    return (zz_work){.bytes = 2 /* read + written */ * 2 /* K, V */ * tensor_bytes(s, tokens, s->kv_heads)};
}

zz_work zz_work_head_copy(const zz_work_shape *s, long long tokens, int heads) {
    return (zz_work){.bytes = 2 /* read + written */ * tensor_bytes(s, tokens, heads)};
}

zz_work zz_work_gather(const zz_work_shape *s, long long tokens) {
    return (zz_work){.bytes = zz_work_head_copy(s, tokens, s->q_heads).bytes + zz_work_kv_copy(s, tokens).bytes};
}

static long long min_ll(long long a, long long b) { return a < b ? a : b; }
static long long max_ll(long long a, long long b) { return a > b ? a : b; }

long long zz_work_ring_tokens_kept(long long pos, long long tokens, int sink, int recent) {
    return min_ll(tokens, recent) + max_ll(0, min_ll(sink, pos + tokens - recent) - pos);
}

zz_work zz_work_linear(long long rows, int in, int out, int residual) {
    const double r = (double)rows;
    return (zz_work){.bytes = ZZ_BF16_BYTES * (r * in + (double)out * in + (1 + (residual != 0)) * r * out),
                     .flops = 2.0 * r * in * out};
}

zz_work zz_work_rmsnorm(long long rows, int hidden) {
    return (zz_work){.bytes = ZZ_BF16_BYTES * (2.0 * (double)rows * hidden + hidden)};
}

zz_work zz_work_embed(long long rows, int hidden) {
    return (zz_work){.bytes = ZZ_BF16_BYTES * 2.0 * (double)rows * hidden};
}

zz_work zz_work_rotary(const zz_work_shape *s, long long tokens) {
    return (zz_work){.bytes = 2 /* read + written */ * (tensor_bytes(s, tokens, s->q_heads) +
                                                        tensor_bytes(s, tokens, s->kv_heads))};
}

zz_work zz_work_silu_mul(long long rows, int mlp) {
    return (zz_work){.bytes = ZZ_BF16_BYTES * 3.0 * (double)rows * mlp};
}
