/* KV-cache update for the token each sequence just produced.
 *
 * Full heads append at slot pos. Streaming heads keep the first `sink`
 * tokens and a ring of the last `recent`: slot pos while pos < sink, else
 * sink + (pos - sink) % recent — which also fills the ring in order while it
 * is not yet full, so one formula covers both. The copy is a few KB per
 * sequence: one thread per 16 bytes, launch-bound, nothing to tune.
 * CPU reference: ref_cache_update in reference.c.
 */
#include "common.cuh"

struct CacheParams {
    const __nv_bfloat16 *new_k, *new_v;
    __nv_bfloat16 *k, *v;
    long long nk_bs, nv_bs, k_bs, v_bs;
    int heads, chunks_per_head;
};

__global__ void cache_update_kernel(CacheParams p, int head_dim) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int per_seq = p.heads * p.chunks_per_head;
    int b = blockIdx.y;
    if (i >= per_seq) return;
    long long at = (long long)(i / p.chunks_per_head) * head_dim + (i % p.chunks_per_head) * 8;
    /* p.k and p.v already point at the slot's token. */
    *reinterpret_cast<uint4 *>(p.k + b * p.k_bs + at) = *reinterpret_cast<const uint4 *>(p.new_k + b * p.nk_bs + at);
    *reinterpret_cast<uint4 *>(p.v + b * p.v_bs + at) = *reinterpret_cast<const uint4 *>(p.new_v + b * p.nv_bs + at);
}

extern "C" int zz_cache_update(zz_view new_k, zz_view new_v, zz_view k_cache, zz_view v_cache, int batch,
                               int head_dim, int capacity, int sink, int recent, int pos, cudaStream_t stream) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "head_dim %d (need 64 or 128)", head_dim);
    ZZ_REQUIRE(batch >= 1 && batch <= 65535 && pos >= 0, "batch %d, pos %d", batch, pos);
    ZZ_REQUIRE(sink >= 0 && recent >= 0 && (recent > 0 || sink == 0), "sink %d, recent %d", sink, recent);
    ZZ_REQUIRE(new_k.heads == k_cache.heads && new_v.heads == v_cache.heads && k_cache.heads == v_cache.heads,
               "heads: new k %d, new v %d, k cache %d, v cache %d", new_k.heads, new_v.heads, k_cache.heads,
               v_cache.heads);
    int slot = ref_cache_slot(sink, recent, pos);
    ZZ_REQUIRE(slot < capacity, "slot %d of position %d is past the cache's %d slots", slot, pos, capacity);
    int rc;
    if ((rc = zz_check_view("new_k", new_k, batch, 1, head_dim)) ||
        (rc = zz_check_view("new_v", new_v, batch, 1, head_dim)) ||
        (rc = zz_check_view("k_cache", k_cache, batch, capacity, head_dim)) ||
        (rc = zz_check_view("v_cache", v_cache, batch, capacity, head_dim)))
        return rc;
    CacheParams p;
    p.new_k = reinterpret_cast<const __nv_bfloat16 *>(new_k.data);
    p.new_v = reinterpret_cast<const __nv_bfloat16 *>(new_v.data);
    p.k = reinterpret_cast<__nv_bfloat16 *>(k_cache.data + slot * k_cache.token_stride);
    p.v = reinterpret_cast<__nv_bfloat16 *>(v_cache.data + slot * v_cache.token_stride);
    p.nk_bs = new_k.batch_stride, p.nv_bs = new_v.batch_stride;
    p.k_bs = k_cache.batch_stride, p.v_bs = v_cache.batch_stride;
    p.heads = k_cache.heads, p.chunks_per_head = head_dim / 8;
    int per_seq = p.heads * p.chunks_per_head;
    cache_update_kernel<<<dim3((per_seq + 127) / 128, batch), 128, 0, stream>>>(p, head_dim);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}
