/* Device helpers shared by the kernels: tensor-core fragments (mma.sync
 * m16n8k16, ldmatrix), cp.async copies, the shared-memory swizzle, and the
 * launchers' argument / error reporting. Internal to kernels/. */
#ifndef ZZ_COMMON_CUH
#define ZZ_COMMON_CUH

#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>
#include "attention.h"

/* ---- error reporting (common.cu) ---- */
int zz_fail(int code, const char *file, int line, const char *fmt, ...);
#define ZZ_REQUIRE(cond, ...) \
    do { if (!(cond)) return zz_fail(ZZ_BAD_ARGUMENT, __FILE__, __LINE__, __VA_ARGS__); } while (0)
/* After a launch: a bad configuration shows up here, not at run time. */
#define ZZ_CHECK_LAUNCH()                                                              \
    do { cudaError_t err_ = cudaGetLastError();                                       \
         if (err_ != cudaSuccess)                                                      \
             return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__, "%s", cudaGetErrorString(err_)); \
    } while (0)
#define ZZ_CUDA(call)                                                                  \
    do { cudaError_t err_ = (call);                                                    \
         if (err_ != cudaSuccess)                                                      \
             return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__, "%s: %s", #call, cudaGetErrorString(err_)); \
    } while (0)

int zz_check_view(const char *name, zz_view v, int batch, int tokens, int head_dim);

/* The four tensors of an attention launch, as the kernels take them. */
struct AttnTensors {
    const __nv_bfloat16 *q, *k, *v;
    __nv_bfloat16 *o;
    long long q_bs, q_ts, k_bs, k_ts, v_bs, v_ts, o_bs, o_ts;
    int group;  /* query heads per KV head */
};
AttnTensors attn_tensors(zz_view q, zz_view k, zz_view v, zz_view o);

/* Checks shared by prefill and decode: head_dim, batch, GQA head counts, the
 * four views (q and o q_tokens long, k and v kv_tokens) and the mask. */
int zz_check_attention(zz_view q, zz_view k, zz_view v, zz_view o, int batch, int head_dim, int q_tokens,
                       int kv_tokens, zz_mask mask);

/* ---- shared memory: rows of head_dim bf16, swizzled in 16-byte chunks ----
 * ldmatrix reads one 16-byte chunk from each of 8 consecutive rows; with a
 * row pitch of 128 or 256 bytes those all hit the same banks. XOR-ing the
 * chunk index with the row index (mod 8) spreads them over all 32 banks. */
__device__ __forceinline__ int swizzle(int row, int chunk, int head_dim) {
    return row * head_dim + ((chunk ^ (row & 7)) << 3);
}

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

/* 16-byte global->shared copy; src_bytes 0 writes zeros (rows past the end). */
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(smem_addr(smem)), "l"(gmem), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" :: "n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(smem)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(smem)));
}

/* D = A(16x16, row) * B(16x8, col) + D; bf16 in, float accumulate. */
__device__ __forceinline__ void mma_bf16_16816(float d[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* 2^x in one MUFU instruction; exp2f would add range fix-ups we never need
 * (arguments are <= 0 here, and flushing denormal results to 0 is harmless). */
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

/* The exponent offset of an online softmax row with running max mx (raw
 * scores): mx in log2 units. A row that has seen only masked keys keeps max
 * -inf; subtracting 0 instead makes exp give 0, not NaN (-inf - -inf). */
__device__ __forceinline__ float softmax_base(float mx, float scale_log2) {
    return mx == -INFINITY ? 0.f : mx * scale_log2;
}

/* Max / sum over the 4 threads of a quad: they hold one mma row between them. */
__device__ __forceinline__ float quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffff, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffff, x, 2));
}
__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(0xffffffff, x, 1);
    return x + __shfl_xor_sync(0xffffffff, x, 2);
}

/* Key j visible to the query at position i (see reference.h). */
__device__ __forceinline__ bool key_visible(int i, int j, const zz_mask &m, int q_pos0) {
    if (j > i) return false;
    if (m.kind == ZZ_MASK_FULL) return true;
    int lo = m.chunked ? q_pos0 - m.recent : i + 1 - m.recent;
    return j < m.sink || j >= lo;
}

/* ---- the key tiles of a prefill row tile (both prefill kernels) ----
 * The key tiles of block_n keys a row tile visits: [0, sink_tiles) then
 * [band_first, end). Full attention: the causal prefix; streaming heads
 * only the sink tiles and the band tiles near the diagonal, so streaming
 * work grows as S * (sink + recent). */
struct TileRange {
    int sink_tiles, band_first, end;
    __host__ __device__ int count() const { return sink_tiles + (end - band_first); }
    __host__ __device__ int tile(int t) const { return t < sink_tiles ? t : band_first + (t - sink_tiles); }
};

/* Positions p_first..p_last are the row tile's first and last query positions. */
__host__ __device__ __forceinline__ TileRange visible_tiles(const zz_mask &m, int q_pos0, int p_first, int p_last,
                                                           int block_n) {
    TileRange r;
    r.end = p_last / block_n + 1;
    if (m.kind == ZZ_MASK_FULL) {
        r.sink_tiles = 0;
        r.band_first = 0;
        return r;
    }
    int lo = m.chunked ? q_pos0 - m.recent : p_first + 1 - m.recent;
    r.sink_tiles = min((m.sink + block_n - 1) / block_n, r.end);
    r.band_first = min(max(lo, 0) / block_n, r.end);
    if (r.band_first < r.sink_tiles) r.band_first = r.sink_tiles;
    return r;
}

/* Keys [n0, n_end) all visible to every query p_first..p_last: the tile
 * needs no element mask (no boundary -- diagonal, band edge, sink edge --
 * cuts it). */
__device__ __forceinline__ bool tile_whole(const zz_mask &m, int q_pos0, int p_first, int p_last, int n0,
                                           int n_end) {
    bool whole = n_end - 1 <= p_first;
    if (m.kind == ZZ_MASK_STREAMING) {
        int lo_last = m.chunked ? q_pos0 - m.recent : p_last + 1 - m.recent;
        whole = whole && (n_end <= m.sink || n0 >= lo_last);
    }
    return whole;
}

/* ---- launcher helpers shared by the prefill kernels ---- */

/* log2(e) / sqrt(head_dim): the kernels take the softmax in exp2. */
static inline float softmax_scale_log2(int head_dim) { return 1.4426950408889634f / sqrtf((float)head_dim); }

/* Over 48 KiB of dynamic shared memory a kernel must be allowed it, once. */
template <typename Kernel>
static int allow_smem_once(Kernel kernel, size_t smem, bool *done) {
    if (!*done) {
        ZZ_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        *done = true;
    }
    return ZZ_OK;
}

/* The checks of zz_prefill_attention's arguments, for every variant. */
int zz_check_prefill(const zz_prefill_args *a);
/* The checks of zz_prefill_fused's arguments, for every variant (prefill.cu). */
int zz_check_prefill_fused(const zz_prefill_fused_args *a);

#endif
