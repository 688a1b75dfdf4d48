/* KV-cache writes, and the streaming window of chunked prefill.
 *
 * Full heads store token p at slot p. Streaming heads keep the first `sink`
 * tokens and a ring of the last `recent`: slot p while p < sink, else
 * sink + (p - sink) % recent — which also fills the ring in order while it is
 * not yet full, so one formula covers both. A write of several tokens (a
 * prefill chunk) stores only the tokens that survive it (p < sink or among
 * the last `recent`), so no two threads ever write the same slot.
 *
 * Chunked prefill of streaming heads attends the cached sink, the cached
 * recent tokens and the chunk, in position order (DuoAttention concatenates
 * them). zz_streaming_window builds that contiguous window from the ring and
 * the chunk; the attention kernel then runs on it with the chunked mask.
 * All of this is copying: one thread per 16 bytes, launch- and bandwidth-
 * bound, nothing to tune. CPU reference: ref_cache_update / ref_cache_slot.
 */
#include "common.cuh"

struct TokenCopy {
    const __nv_bfloat16 *src_k, *src_v;
    __nv_bfloat16 *dst_k, *dst_v;
    long long sk_bs, sk_ts, sv_bs, sv_ts, dk_bs, dk_ts, dv_bs, dv_ts;
    int heads, chunks_per_head, head_dim;
};

__device__ __forceinline__ void copy_token_chunk(const TokenCopy &c, int b, long long src_t, long long dst_t, int i) {
    long long at = (long long)(i / c.chunks_per_head) * c.head_dim + (i % c.chunks_per_head) * 8;
    *reinterpret_cast<uint4 *>(c.dst_k + b * c.dk_bs + dst_t * c.dk_ts + at) =
        *reinterpret_cast<const uint4 *>(c.src_k + b * c.sk_bs + src_t * c.sk_ts + at);
    *reinterpret_cast<uint4 *>(c.dst_v + b * c.dv_bs + dst_t * c.dv_ts + at) =
        *reinterpret_cast<const uint4 *>(c.src_v + b * c.sv_bs + src_t * c.sv_ts + at);
}

__device__ __forceinline__ int cache_slot(int sink, int recent, int pos) {
    return recent == 0 || pos < sink ? pos : sink + (pos - sink) % recent;
}

/* grid: (16-byte chunks of all tokens, batch). Token t is position pos0 + t. */
__global__ void cache_write_kernel(TokenCopy c, int sink, int recent, int pos0, int tokens) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    int per_token = c.heads * c.chunks_per_head;
    if (i >= (long long)tokens * per_token) return;
    int t = (int)(i / per_token), pos = pos0 + t;
    if (recent > 0 && pos >= sink && pos < pos0 + tokens - recent) return;  /* overwritten within this write */
    copy_token_chunk(c, blockIdx.y, t, cache_slot(sink, recent, pos), (int)(i % per_token));
}

/* Window position w < n_sink: sink slot w; then the n_rec recent positions
 * P - n_rec .. P-1 from their ring slots; then the chunk's tokens. */
__global__ void streaming_window_kernel(TokenCopy ring, TokenCopy chunk, int sink, int recent, int pos0, int n_sink,
                                        int n_rec, int tokens) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    int per_token = ring.heads * ring.chunks_per_head;
    int window = n_sink + n_rec + tokens;
    if (i >= (long long)window * per_token) return;
    int w = (int)(i / per_token), e = (int)(i % per_token);
    if (w < n_sink + n_rec) {
        int pos = w < n_sink ? w : pos0 - n_rec + (w - n_sink);
        copy_token_chunk(ring, blockIdx.y, cache_slot(sink, recent, pos), w, e);
    } else {
        copy_token_chunk(chunk, blockIdx.y, w - n_sink - n_rec, w, e);
    }
}

static TokenCopy token_copy(zz_view src_k, zz_view src_v, zz_view dst_k, zz_view dst_v, int head_dim) {
    TokenCopy c = {reinterpret_cast<const __nv_bfloat16 *>(src_k.data), reinterpret_cast<const __nv_bfloat16 *>(src_v.data),
                   reinterpret_cast<__nv_bfloat16 *>(dst_k.data), reinterpret_cast<__nv_bfloat16 *>(dst_v.data),
                   src_k.batch_stride, src_k.token_stride, src_v.batch_stride, src_v.token_stride,
                   dst_k.batch_stride, dst_k.token_stride, dst_v.batch_stride, dst_v.token_stride,
                   dst_k.heads, head_dim / 8, head_dim};
    return c;
}

static int check_token_copy(zz_view src_k, zz_view src_v, int src_tokens, zz_view dst_k, zz_view dst_v,
                            int dst_tokens, int batch, int head_dim, int sink, int recent) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "head_dim %d (need 64 or 128)", head_dim);
    ZZ_REQUIRE(batch >= 1 && batch <= 65535, "batch %d", batch);
    ZZ_REQUIRE(sink >= 0 && recent >= 0 && (recent > 0 || sink == 0), "sink %d, recent %d", sink, recent);
    ZZ_REQUIRE(src_k.heads == dst_k.heads && src_v.heads == dst_v.heads && dst_k.heads == dst_v.heads,
               "heads: new k %d, new v %d, k cache %d, v cache %d", src_k.heads, src_v.heads, dst_k.heads,
               dst_v.heads);
    int rc;
    if ((rc = zz_check_view("new_k", src_k, batch, src_tokens, head_dim)) ||
        (rc = zz_check_view("new_v", src_v, batch, src_tokens, head_dim)) ||
        (rc = zz_check_view("k_cache", dst_k, batch, dst_tokens, head_dim)) ||
        (rc = zz_check_view("v_cache", dst_v, batch, dst_tokens, head_dim)))
        return rc;
    return ZZ_OK;
}

extern "C" int zz_cache_write(zz_view new_k, zz_view new_v, zz_view k_cache, zz_view v_cache, int batch,
                              int head_dim, int capacity, int sink, int recent, int pos0, int tokens,
                              cudaStream_t stream) {
    ZZ_REQUIRE(pos0 >= 0 && tokens >= 1, "pos0 %d, tokens %d", pos0, tokens);
    long long end = (long long)pos0 + tokens;
    long long needed = recent == 0 || end < sink + recent ? end : sink + recent;
    ZZ_REQUIRE(needed <= capacity, "positions %d..%lld need %lld slots, past the cache's %d", pos0, end - 1, needed,
               capacity);
    int rc = check_token_copy(new_k, new_v, tokens, k_cache, v_cache, capacity, batch, head_dim, sink, recent);
    if (rc) return rc;
    TokenCopy c = token_copy(new_k, new_v, k_cache, v_cache, head_dim);
    long long blocks = ((long long)tokens * c.heads * c.chunks_per_head + 127) / 128;
    cache_write_kernel<<<dim3((unsigned)blocks, batch), 128, 0, stream>>>(c, sink, recent, pos0, tokens);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

extern "C" int zz_streaming_window_keys(int sink, int recent, int pos0) {
    int n_sink = pos0 < sink ? pos0 : sink;
    int n_rec = pos0 > sink ? (pos0 - sink < recent ? pos0 - sink : recent) : 0;
    return n_sink + n_rec;
}

extern "C" int zz_streaming_window(zz_view k_cache, zz_view v_cache, zz_view new_k, zz_view new_v, zz_view win_k,
                                   zz_view win_v, int batch, int head_dim, int sink, int recent, int pos0, int tokens,
                                   cudaStream_t stream) {
    ZZ_REQUIRE(pos0 >= 0 && tokens >= 1 && recent >= 1, "pos0 %d, tokens %d, recent %d", pos0, tokens, recent);
    int cached = zz_streaming_window_keys(sink, recent, pos0), n_sink = pos0 < sink ? pos0 : sink;
    int rc;
    if ((rc = check_token_copy(new_k, new_v, tokens, win_k, win_v, cached + tokens, batch, head_dim, 0, 0)) ||
        (rc = check_token_copy(k_cache, v_cache, sink + recent, win_k, win_v, cached + tokens, batch, head_dim, sink,
                               recent)))
        return rc;
    TokenCopy ring = token_copy(k_cache, v_cache, win_k, win_v, head_dim);
    TokenCopy chunk = token_copy(new_k, new_v, win_k, win_v, head_dim);
    long long blocks = ((long long)(cached + tokens) * ring.heads * ring.chunks_per_head + 127) / 128;
    streaming_window_kernel<<<dim3((unsigned)blocks, batch), 128, 0, stream>>>(ring, chunk, sink, recent, pos0,
                                                                                n_sink, cached - n_sink, tokens);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}
