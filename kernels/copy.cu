/* Copies between head groups: what a split layer pays on top of attention.
 *
 * duo-cat joins the retrieval group's output and the streaming group's
 * output into the layer output (DuoAttention's torch.cat): one launch.
 * duo-gather keeps the model's head order and instead gathers each group's
 * heads by index before attention and scatters the outputs back after.
 * All are plain 16-byte copies, one thread per 16 bytes; their cost is the
 * bytes (read + written) and the launch, which is what the suite measures.
 */
#include "common.cuh"

struct HeadCopy {
    /* Heads [0, split) come from src, heads [split, heads) from src2 (concat). */
    const __nv_bfloat16 *src, *src2;
    __nv_bfloat16 *dst;
    long long src_bs, src_ts, src2_bs, src2_ts, dst_bs, dst_ts;
    const int *src_head;   /* NULL: identity */
    const int *dst_head;   /* NULL: identity */
    int heads, split, chunks_per_head, head_dim;
};

/* grid: (16-byte chunks of all tokens, batch). */
__global__ void copy_heads_kernel(HeadCopy c, int tokens) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    int per_token = c.heads * c.chunks_per_head;
    if (i >= (long long)tokens * per_token) return;
    long long t = i / per_token, b = blockIdx.y;
    int h = (int)(i % per_token) / c.chunks_per_head, chunk = (int)(i % c.chunks_per_head);
    int dh = c.dst_head ? c.dst_head[h] : h;
    const __nv_bfloat16 *src;
    if (h < c.split) {
        int sh = c.src_head ? c.src_head[h] : h;
        src = c.src + b * c.src_bs + t * c.src_ts + (long long)sh * c.head_dim;
    } else {
        src = c.src2 + b * c.src2_bs + t * c.src2_ts + (long long)(h - c.split) * c.head_dim;
    }
    *reinterpret_cast<uint4 *>(c.dst + b * c.dst_bs + t * c.dst_ts + (long long)dh * c.head_dim + chunk * 8) =
        *reinterpret_cast<const uint4 *>(src + chunk * 8);
}

/* src2 may be the same view as src when heads == split (no second source). */
static int copy_heads(zz_view src, const int *src_head, zz_view src2, zz_view dst, const int *dst_head, int split,
                      int heads, int batch, int tokens, int head_dim, cudaStream_t stream) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "head_dim %d (need 64 or 128)", head_dim);
    ZZ_REQUIRE(batch >= 1 && batch <= 65535 && tokens >= 1, "batch %d, tokens %d", batch, tokens);
    ZZ_REQUIRE(heads >= 1, "%d heads to copy", heads);
    int rc;
    if ((rc = zz_check_view("src", src, batch, tokens, head_dim)) ||
        (rc = zz_check_view("src2", src2, batch, tokens, head_dim)) ||
        (rc = zz_check_view("dst", dst, batch, tokens, head_dim)))
        return rc;
    HeadCopy c = {reinterpret_cast<const __nv_bfloat16 *>(src.data), reinterpret_cast<const __nv_bfloat16 *>(src2.data),
                  reinterpret_cast<__nv_bfloat16 *>(dst.data), src.batch_stride, src.token_stride,
                  src2.batch_stride, src2.token_stride, dst.batch_stride, dst.token_stride,
                  src_head, dst_head, heads, split, head_dim / 8, head_dim};
    long long blocks = ((long long)tokens * heads * c.chunks_per_head + 127) / 128;
    ZZ_REQUIRE(blocks < (1LL << 31), "copy of %d tokens x %d heads too large", tokens, heads);
    copy_heads_kernel<<<dim3((unsigned)blocks, batch), 128, 0, stream>>>(c, tokens);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

extern "C" int zz_concat_heads(zz_view a, zz_view b, zz_view out, int batch, int tokens, int head_dim,
                               cudaStream_t stream) {
    ZZ_REQUIRE(a.heads + b.heads == out.heads, "concat: %d + %d heads into %d", a.heads, b.heads, out.heads);
    return copy_heads(a, NULL, b, out, NULL, a.heads, out.heads, batch, tokens, head_dim, stream);
}

extern "C" int zz_gather_heads(zz_view src, const int *index, int count, zz_view dst, int batch, int tokens,
                               int head_dim, cudaStream_t stream) {
    ZZ_REQUIRE(index != NULL && count <= dst.heads, "gather: %d heads into a view of %d", count, dst.heads);
    return copy_heads(src, index, src, dst, NULL, count, count, batch, tokens, head_dim, stream);
}

extern "C" int zz_scatter_heads(zz_view src, const int *index, int count, zz_view dst, int batch, int tokens,
                                int head_dim, cudaStream_t stream) {
    ZZ_REQUIRE(index != NULL && count <= src.heads, "scatter: %d heads from a view of %d", count, src.heads);
    return copy_heads(src, NULL, src, dst, index, count, count, batch, tokens, head_dim, stream);
}
