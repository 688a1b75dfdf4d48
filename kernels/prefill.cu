/* Prefill attention, FlashAttention-2 style (Dao 2023) with mma.sync.
 *
 * One block computes BLOCK_M rows of output for one (batch, KV head). Its
 * rows are (query position, query head of the GQA group) pairs, heads
 * fastest: the group's heads are adjacent in memory, so a row tile is
 * contiguous, and every K/V tile is read from memory once for all the heads
 * that share it. Each warp owns 16 rows and keeps them in registers: Q as
 * mma A-fragments, the running max / sum of the online softmax, and the
 * float output accumulator.
 *
 * The block walks the key tiles its rows can see: for full attention the
 * causal prefix; for streaming heads only the sink tiles and the band tiles
 * near the diagonal, so streaming work grows as S * (sink + recent). Tiles
 * cut by a boundary (diagonal, band edge, sink edge) get an element mask;
 * the others run unmasked. K/V tiles stream through a two-stage cp.async
 * pipeline into XOR-swizzled shared memory; S = Q K^T and O += P V run on
 * tensor cores (m16n8k16, bf16 in, float accumulate), with P handed from the
 * S accumulators to the A operand in registers (their fragment maps line up).
 *
 * CPU reference: ref_attention_prefill in reference.c.
 */
#include <math.h>
#include "common.cuh"

/* Tile shape; overridable (-D) to compare variants, see NOTES.md. */
#ifndef PREFILL_WARPS
#define PREFILL_WARPS 4
#endif
#ifndef WARP_ROW_TILES
#define WARP_ROW_TILES 2   /* 16-row mma tiles per warp: each K/V fragment feeds this many mma */
#endif
#ifndef BLOCK_N
#define BLOCK_N 64
#endif
#define BLOCK_M (16 * WARP_ROW_TILES * PREFILL_WARPS)

struct PrefillParams {
    AttnTensors t;
    int q_len, q_pos0, kv_len;
    zz_mask mask;
    float scale_log2;   /* log2(e) / sqrt(head_dim): softmax in exp2 */
};

/* The key tiles a row tile visits: [0, sink_tiles) then [band_first, end). */
struct TileRange {
    int sink_tiles, band_first, end;
    __host__ __device__ int count() const { return sink_tiles + (end - band_first); }
    __host__ __device__ int tile(int t) const { return t < sink_tiles ? t : band_first + (t - sink_tiles); }
};

/* Positions p_first..p_last are the block's first and last query positions. */
__host__ __device__ static TileRange visible_tiles(const zz_mask &m, int q_pos0, int p_first, int p_last) {
    TileRange r;
    r.end = p_last / BLOCK_N + 1;
    if (m.kind == ZZ_MASK_FULL) {
        r.sink_tiles = 0;
        r.band_first = 0;
        return r;
    }
    int lo = m.chunked ? q_pos0 - m.recent : p_first + 1 - m.recent;
    r.sink_tiles = min((m.sink + BLOCK_N - 1) / BLOCK_N, r.end);
    r.band_first = min(max(lo, 0) / BLOCK_N, r.end);
    if (r.band_first < r.sink_tiles) r.band_first = r.sink_tiles;
    return r;
}

/* Copy rows [0, nrows) of a tile (row r at src + r*stride, D wide) into
 * swizzled shared memory; rows >= valid are zero-filled. */
template <int D>
__device__ __forceinline__ void load_kv_tile(__nv_bfloat16 *smem, const __nv_bfloat16 *src, long long stride,
                                             int valid) {
    constexpr int CHUNKS = D / 8;
    for (int c = threadIdx.x; c < BLOCK_N * CHUNKS; c += blockDim.x) {
        int row = c / CHUNKS, chunk = c % CHUNKS;
        bool ok = row < valid;
        const __nv_bfloat16 *g = ok ? src + row * stride + chunk * 8 : src;
        cp_async16(smem + swizzle(row, chunk, D), g, ok ? 16 : 0);
    }
}

/* One block's work: output rows m0 .. m0+BLOCK_M-1 of one (batch, KV head),
 * its tensors already offset to that sequence and head (q, o at the group's
 * first query head). */
struct PrefillBlock {
    const __nv_bfloat16 *q, *k, *v;
    __nv_bfloat16 *o;
    long long q_ts, k_ts, v_ts, o_ts;
    int group, q_len, q_pos0, kv_len, m0;
    zz_mask mask;
};

template <int D>
__device__ __forceinline__ void prefill_block(const PrefillBlock &w, float scale_log2) {
    constexpr int CHUNKS = D / 8, RT = WARP_ROW_TILES;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    __nv_bfloat16 *sQ = reinterpret_cast<__nv_bfloat16 *>(smem_raw);
    __nv_bfloat16 *sK = sQ + BLOCK_M * D;           /* two stages */
    __nv_bfloat16 *sV = sK + 2 * BLOCK_N * D;       /* two stages */

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows_total = w.q_len * w.group, m0 = w.m0;
    const __nv_bfloat16 *q = w.q, *k = w.k, *v = w.v;
    __nv_bfloat16 *o = w.o;

    /* Q tile: row r is position (m0+r)/group, head (m0+r)%group. */
    for (int c = threadIdx.x; c < BLOCK_M * CHUNKS; c += blockDim.x) {
        int row = c / CHUNKS, chunk = c % CHUNKS, mr = m0 + row;
        bool ok = mr < rows_total;
        const __nv_bfloat16 *g = ok ? q + (mr / w.group) * w.q_ts + (mr % w.group) * D + chunk * 8 : q;
        cp_async16(sQ + swizzle(row, chunk, D), g, ok ? 16 : 0);
    }

    const int p_first = w.q_pos0 + m0 / w.group;
    const int p_last = w.q_pos0 + (min(m0 + BLOCK_M, rows_total) - 1) / w.group;
    const TileRange tiles = visible_tiles(w.mask, w.q_pos0, p_first, p_last);
    const int ntiles = tiles.count();

    if (ntiles > 0) {
        int n0 = tiles.tile(0) * BLOCK_N;
        load_kv_tile<D>(sK, k + n0 * w.k_ts, w.k_ts, w.kv_len - n0);
        load_kv_tile<D>(sV, v + n0 * w.v_ts, w.v_ts, w.kv_len - n0);
    }
    cp_async_commit();

    /* This warp owns rows warp_row0 .. +16*RT; in each 16-row mma tile a
     * thread holds rows lane/4 and lane/4 + 8. */
    const int warp_row0 = warp * 16 * RT;

    float acc[RT][D / 8][4];
    float row_max[RT][2], row_sum[RT][2];
#pragma unroll
    for (int rt = 0; rt < RT; rt++) {
        row_max[rt][0] = row_max[rt][1] = -INFINITY;
        row_sum[rt][0] = row_sum[rt][1] = 0.f;
#pragma unroll
        for (int j = 0; j < D / 8; j++) acc[rt][j][0] = acc[rt][j][1] = acc[rt][j][2] = acc[rt][j][3] = 0.f;
    }

    for (int t = 0; t < ntiles; t++) {
        const int stage = t & 1;
        /* Tile t has landed, and every warp is done with tile t-1: its stage
         * can take tile t+1 while we compute. One barrier per tile. */
        cp_async_wait<0>();
        __syncthreads();
        if (t + 1 < ntiles) {
            int n1 = tiles.tile(t + 1) * BLOCK_N;
            load_kv_tile<D>(sK + (stage ^ 1) * BLOCK_N * D, k + n1 * w.k_ts, w.k_ts, w.kv_len - n1);
            load_kv_tile<D>(sV + (stage ^ 1) * BLOCK_N * D, v + n1 * w.v_ts, w.v_ts, w.kv_len - n1);
        }
        cp_async_commit();
        const __nv_bfloat16 *tK = sK + stage * BLOCK_N * D;
        const __nv_bfloat16 *tV = sV + stage * BLOCK_N * D;
        const int n0 = tiles.tile(t) * BLOCK_N;

        /* S = Q K^T: each K fragment feeds the warp's RT row tiles. */
        float s[RT][BLOCK_N / 8][4];
#pragma unroll
        for (int rt = 0; rt < RT; rt++)
#pragma unroll
            for (int j = 0; j < BLOCK_N / 8; j++) s[rt][j][0] = s[rt][j][1] = s[rt][j][2] = s[rt][j][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {
            uint32_t qf[RT][4];
#pragma unroll
            for (int rt = 0; rt < RT; rt++) {
                int row = warp_row0 + rt * 16 + (lane % 8) + ((lane / 8) % 2) * 8;
                ldmatrix_x4(qf[rt], sQ + swizzle(row, kk * 2 + lane / 16, D));
            }
#pragma unroll
            for (int nn = 0; nn < BLOCK_N / 16; nn++) {
                uint32_t bk[4];
                int key = nn * 16 + (lane % 8) + (lane / 16) * 8;
                ldmatrix_x4(bk, tK + swizzle(key, kk * 2 + (lane / 8) % 2, D));
#pragma unroll
                for (int rt = 0; rt < RT; rt++) {
                    mma_bf16_16816(s[rt][2 * nn], qf[rt], bk[0], bk[1]);
                    mma_bf16_16816(s[rt][2 * nn + 1], qf[rt], bk[2], bk[3]);
                }
            }
        }

        /* Element mask only where a boundary cuts the tile. */
        const int n_end = n0 + BLOCK_N;
        bool whole = n_end - 1 <= p_first;
        if (w.mask.kind == ZZ_MASK_STREAMING) {
            int lo_last = w.mask.chunked ? w.q_pos0 - w.mask.recent : p_last + 1 - w.mask.recent;
            whole = whole && (n_end <= w.mask.sink || n0 >= lo_last);
        }
        if (!whole) {
#pragma unroll
            for (int rt = 0; rt < RT; rt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int pos = w.q_pos0 + (m0 + warp_row0 + rt * 16 + lane / 4 + 8 * (e / 2)) / w.group;
#pragma unroll
                    for (int j = 0; j < BLOCK_N / 8; j++) {
                        int key = n0 + j * 8 + (lane % 4) * 2 + (e & 1);
                        if (!key_visible(pos, key, w.mask, w.q_pos0)) s[rt][j][e] = -INFINITY;
                    }
                }
        }

        /* Online softmax over the thread's 2*RT rows, written phase by phase
         * (all rows' maxima, then all exponentials, then all sums) with tree
         * reductions: the rows are independent, so their max/sum chains can
         * overlap (ptxas already interleaved them: kernels/NOTES.md,
         * "Prefill", v3b). */
        float correction[RT][2], base[RT][2];
#pragma unroll
        for (int rt = 0; rt < RT; rt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float m[BLOCK_N / 8];
#pragma unroll
                for (int j = 0; j < BLOCK_N / 8; j++) m[j] = fmaxf(s[rt][j][2 * h], s[rt][j][2 * h + 1]);
#pragma unroll
                for (int w = BLOCK_N / 16; w >= 1; w /= 2)
#pragma unroll
                    for (int j = 0; j < w; j++) m[j] = fmaxf(m[j], m[j + w]);
                float mx = quad_max(fmaxf(m[0], row_max[rt][h]));
                base[rt][h] = softmax_base(mx, scale_log2);
                correction[rt][h] = fast_exp2(row_max[rt][h] * scale_log2 - base[rt][h]);
                row_max[rt][h] = mx;
            }
#pragma unroll
        for (int rt = 0; rt < RT; rt++)
#pragma unroll
            for (int j = 0; j < BLOCK_N / 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[rt][j][e] = fast_exp2(fmaf(s[rt][j][e], scale_log2, -base[rt][e / 2]));
        bool rescale = false;
#pragma unroll
        for (int rt = 0; rt < RT; rt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float sum[BLOCK_N / 8];
#pragma unroll
                for (int j = 0; j < BLOCK_N / 8; j++) sum[j] = s[rt][j][2 * h] + s[rt][j][2 * h + 1];
#pragma unroll
                for (int w = BLOCK_N / 16; w >= 1; w /= 2)
#pragma unroll
                    for (int j = 0; j < w; j++) sum[j] += sum[j + w];
                row_sum[rt][h] = row_sum[rt][h] * correction[rt][h] + sum[0];
                rescale |= correction[rt][h] != 1.f;
            }
        /* Far along a long row the max rarely moves: skip the D-wide rescale
         * when no row of the warp needs it. */
        if (__any_sync(0xffffffff, rescale)) {
#pragma unroll
            for (int rt = 0; rt < RT; rt++)
#pragma unroll
                for (int j = 0; j < D / 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) acc[rt][j][e] *= correction[rt][e / 2];
        }

        /* O += P V: P comes straight from the S registers as A fragments,
         * and each V fragment feeds the warp's RT row tiles. */
#pragma unroll
        for (int kk = 0; kk < BLOCK_N / 16; kk++) {
            uint32_t pa[RT][4];
#pragma unroll
            for (int rt = 0; rt < RT; rt++) {
                pa[rt][0] = pack_bf16x2(s[rt][2 * kk][0], s[rt][2 * kk][1]);
                pa[rt][1] = pack_bf16x2(s[rt][2 * kk][2], s[rt][2 * kk][3]);
                pa[rt][2] = pack_bf16x2(s[rt][2 * kk + 1][0], s[rt][2 * kk + 1][1]);
                pa[rt][3] = pack_bf16x2(s[rt][2 * kk + 1][2], s[rt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int dn = 0; dn < D / 16; dn++) {
                uint32_t bv[4];
                int key = kk * 16 + (lane % 8) + ((lane / 8) % 2) * 8;
                ldmatrix_x4_trans(bv, tV + swizzle(key, dn * 2 + lane / 16, D));
#pragma unroll
                for (int rt = 0; rt < RT; rt++) {
                    mma_bf16_16816(acc[rt][2 * dn], pa[rt], bv[0], bv[1]);
                    mma_bf16_16816(acc[rt][2 * dn + 1], pa[rt], bv[2], bv[3]);
                }
            }
        }
    }

    cp_async_wait<0>();  /* nothing may still be landing in sQ */

    /* Normalise, stage the warp's rows in shared memory (its own Q rows, no
     * longer read), then write 16-byte chunks. */
    __nv_bfloat16 *sO = sQ;
    __syncwarp();  /* every lane's ldmatrix reads of these rows come first */
#pragma unroll
    for (int rt = 0; rt < RT; rt++) {
        float inv[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float l = quad_sum(row_sum[rt][h]);
            inv[h] = l > 0.f ? 1.f / l : 0.f;
        }
        int row = warp_row0 + rt * 16 + lane / 4, off = (lane % 4) * 2;
#pragma unroll
        for (int j = 0; j < D / 8; j++) {
            *reinterpret_cast<uint32_t *>(sO + swizzle(row, j, D) + off) =
                pack_bf16x2(acc[rt][j][0] * inv[0], acc[rt][j][1] * inv[0]);
            *reinterpret_cast<uint32_t *>(sO + swizzle(row + 8, j, D) + off) =
                pack_bf16x2(acc[rt][j][2] * inv[1], acc[rt][j][3] * inv[1]);
        }
    }
    __syncwarp();
    for (int c = lane; c < 16 * RT * CHUNKS; c += 32) {
        int row = warp_row0 + c / CHUNKS, chunk = c % CHUNKS, mr = m0 + row;
        if (mr < rows_total)
            *reinterpret_cast<uint4 *>(o + (mr / w.group) * w.o_ts + (mr % w.group) * D + chunk * 8) =
                *reinterpret_cast<const uint4 *>(sO + swizzle(row, chunk, D));
    }
}

template <int D>
__global__ void __launch_bounds__(PREFILL_WARPS * 32)
prefill_kernel(PrefillParams p) {
    const int kv_head = blockIdx.y, b = blockIdx.z;
    const int head0 = kv_head * p.t.group;
    PrefillBlock w;
    w.q = p.t.q + b * p.t.q_bs + (long long)head0 * D;
    w.k = p.t.k + b * p.t.k_bs + (long long)kv_head * D;
    w.v = p.t.v + b * p.t.v_bs + (long long)kv_head * D;
    w.o = p.t.o + b * p.t.o_bs + (long long)head0 * D;
    w.q_ts = p.t.q_ts, w.k_ts = p.t.k_ts, w.v_ts = p.t.v_ts, w.o_ts = p.t.o_ts;
    w.group = p.t.group, w.q_len = p.q_len, w.q_pos0 = p.q_pos0, w.kv_len = p.kv_len;
    /* Longest (causal: last) row tiles first, so the tail of the grid is short. */
    w.m0 = (gridDim.x - 1 - blockIdx.x) * BLOCK_M;
    w.mask = p.mask;
    prefill_block<D>(w, p.scale_log2);
}

long long zz_prefill_computed_pairs(const zz_prefill_args *a) {
    int group = a->q.heads / a->k.heads, rows_total = a->q_len * group;
    long long pairs = 0;
    for (int m0 = 0; m0 < rows_total; m0 += BLOCK_M) {
        int rows = min(BLOCK_M, rows_total - m0);
        TileRange r = visible_tiles(a->mask, a->q_pos0, a->q_pos0 + m0 / group,
                                    a->q_pos0 + (m0 + rows - 1) / group);
        pairs += (long long)r.count() * BLOCK_N * rows;
    }
    return pairs * a->k.heads * a->batch;
}

/* Q tile and two stages of K and V tiles. */
static size_t prefill_smem_bytes(int head_dim) {
    return (size_t)(BLOCK_M + 4 * BLOCK_N) * head_dim * sizeof(__nv_bfloat16);
}

/* log2(e) / sqrt(head_dim): the kernels take the softmax in exp2. */
static float softmax_scale_log2(int head_dim) { return 1.4426950408889634f / sqrtf((float)head_dim); }

/* Over 48 KiB of dynamic shared memory a kernel must be allowed it, once. */
template <typename Kernel>
static int allow_smem_once(Kernel kernel, size_t smem, bool *done) {
    if (!*done) {
        ZZ_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        *done = true;
    }
    return ZZ_OK;
}

template <int D>
static int launch_prefill(const zz_prefill_args *a, cudaStream_t stream) {
    const size_t smem = prefill_smem_bytes(D);
    static bool attribute_set = false;
    int rc = allow_smem_once(prefill_kernel<D>, smem, &attribute_set);
    if (rc) return rc;
    PrefillParams p;
    p.t = attn_tensors(a->q, a->k, a->v, a->o);
    p.q_len = a->q_len, p.q_pos0 = a->q_pos0, p.kv_len = a->q_pos0 + a->q_len;
    p.mask = a->mask;
    p.scale_log2 = softmax_scale_log2(D);
    long long row_tiles = ((long long)a->q_len * p.t.group + BLOCK_M - 1) / BLOCK_M;
    ZZ_REQUIRE(row_tiles < (1LL << 31), "q_len %d too long", a->q_len);
    dim3 grid((unsigned)row_tiles, a->k.heads, a->batch);
    prefill_kernel<D><<<grid, PREFILL_WARPS * 32, smem, stream>>>(p);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

extern "C" int zz_prefill_attention(const zz_prefill_args *a, cudaStream_t stream) {
    ZZ_REQUIRE(a->q_len >= 1 && a->q_pos0 >= 0, "q_len %d, q_pos0 %d", a->q_len, a->q_pos0);
    int rc = zz_check_attention(a->q, a->k, a->v, a->o, a->batch, a->head_dim, a->q_len, a->q_pos0 + a->q_len,
                                a->mask);
    if (rc) return rc;
    return a->head_dim == 128 ? launch_prefill<128>(a, stream) : launch_prefill<64>(a, stream);
}

