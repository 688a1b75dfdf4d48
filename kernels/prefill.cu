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
 * prefill_fused_kernel (the end of the file) runs the same blocks for all
 * the heads of a mixed layer, each in its own mode, in one launch.
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
 * first query head). Both kernels below hand their block this. */
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
    const TileRange tiles = visible_tiles(w.mask, w.q_pos0, p_first, p_last, BLOCK_N);
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
        if (!tile_whole(w.mask, w.q_pos0, p_first, p_last, n0, n0 + BLOCK_N)) {
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
                                    a->q_pos0 + (m0 + rows - 1) / group, BLOCK_N);
        pairs += (long long)r.count() * BLOCK_N * rows;
    }
    return pairs * a->k.heads * a->batch;
}

/* Q tile and two stages of K and V tiles. */
static size_t prefill_smem_bytes(int head_dim) {
    return (size_t)(BLOCK_M + 4 * BLOCK_N) * head_dim * sizeof(__nv_bfloat16);
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
    int rc = zz_check_prefill(a);
    if (rc) return rc;
    return a->head_dim == 128 ? launch_prefill<128>(a, stream) : launch_prefill<64>(a, stream);
}

/* ---- A mixed layer in one launch (layout duo-fused, issue 15) ----
 *
 * duo-slices runs a mixed layer as two launches of prefill_kernel, one on
 * the retrieval heads (full causal) and one on the streaming heads (sink +
 * band), each group's heads contiguous (reordered weights); duo-cat and
 * duo-gather add copies to get there. prefill_fused_kernel runs every KV
 * head of the layer in its own mode in one grid, on q and o in the model's
 * head order: one launch and no copy per layer. It also removes the seam
 * between the two launches. The streaming launch starts only when the
 * retrieval launch has drained, and that launch ends on its shortest (first)
 * row tiles, a few blocks running while the other SMs idle. Here the blocks
 * run longest first over both kinds: every retrieval head's row tiles,
 * latest (longest) first, one head after another, then the streaming
 * heads' tiles (about sink + recent keys each), which fill the tail.
 *
 * A block computes what the same block of the separate launch computes
 * (prefill_block with the same rows, key source, mask and q_pos0), so the
 * outputs equal the two launches' bit for bit. The wgmma-tma variant's
 * counterpart, on the same grid order and the same per-block choices, is
 * prefill_hopper_fused_kernel (prefill_hopper.cu). */

/* Where one kind of head reads its keys: its k / v tensors as element
 * offsets from the launch's k / v base (the retrieval kind's tensors, so
 * 0 there), their strides, and the position of the first query in them. */
struct KeySource {
    long long k_off, v_off, k_bs, k_ts, v_bs, v_ts;
    int q_pos0;
};

struct FusedPrefillParams {
    const __nv_bfloat16 *q, *k, *v;
    __nv_bfloat16 *o;
    long long q_bs, q_ts, o_bs, o_ts;
    KeySource full, stream;
    int group, q_len, batch, row_tiles;
    int keys_model_order;  /* 1: key head = model KV head; 0: its index within its kind */
    zz_mask streaming;
    float scale_log2;
    zz_head_modes heads;
};

template <int D>
__global__ void __launch_bounds__(PREFILL_WARPS * 32)
prefill_fused_kernel(FusedPrefillParams p) {
    /* Block i: the retrieval kind's row_tiles * batch * retrieval blocks,
     * then the streaming kind's; within a kind one (sequence, head) pair's
     * row tiles after another, latest (longest) first, as prefill_kernel
     * orders them. Tile-major (all pairs of a row tile together) measured
     * 1.3 % slower than zigzag at 32K where the two separate launches were
     * within 0.1 %; it spreads the resident blocks over every retrieval
     * head, whose K/V each block rereads: 64 MiB at 32K for 4 heads, more
     * than the 60 MiB L2. Pair-major keeps them on one or two heads' K/V
     * (kernels/NOTES.md, duo-fused, has the measurement of both). */
    const int retrieval_blocks = p.row_tiles * p.batch * p.heads.retrieval;
    const bool s = (int)blockIdx.x >= retrieval_blocks;
    const int i = (int)blockIdx.x - (s ? retrieval_blocks : 0);
    const int count = s ? p.heads.kv_heads - p.heads.retrieval : p.heads.retrieval;
    const int pair = i / p.row_tiles, index = pair % count, b = pair / count;
    const int kv_head = p.heads.order[(s ? p.heads.retrieval : 0) + index];
    const int key_head = p.keys_model_order ? kv_head : index;
    const int head0 = kv_head * p.group;

    /* The block's key source, field by field: a reference to p.full or
     * p.stream chosen at run time would copy the parameters to local
     * memory. The body runs at the edge of 255 registers (D 128), and
     * ptxas's spills swing with how this is written: with CUDA 13, sm_90,
     * choosing the k / v pointers spilled 12 bytes, holding the block in
     * shared memory 64, two inlined bodies (one per kind) 180; one base plus
     * a chosen offset (the streaming tensors' distance from the retrieval
     * ones: device addresses are flat) spills none. Check --resource-usage
     * after any change here. */
    PrefillBlock w;
    w.q = p.q + b * p.q_bs + (long long)head0 * D;
    w.o = p.o + b * p.o_bs + (long long)head0 * D;
    w.k = p.k + (b * (s ? p.stream.k_bs : p.full.k_bs) + (long long)key_head * D + (s ? p.stream.k_off : 0));
    w.v = p.v + (b * (s ? p.stream.v_bs : p.full.v_bs) + (long long)key_head * D + (s ? p.stream.v_off : 0));
    w.q_ts = p.q_ts, w.o_ts = p.o_ts;
    w.k_ts = s ? p.stream.k_ts : p.full.k_ts;
    w.v_ts = s ? p.stream.v_ts : p.full.v_ts;
    w.group = p.group, w.q_len = p.q_len;
    w.q_pos0 = s ? p.stream.q_pos0 : p.full.q_pos0;
    w.kv_len = w.q_pos0 + p.q_len;
    w.m0 = (p.row_tiles - 1 - i % p.row_tiles) * BLOCK_M;
    w.mask = p.streaming;
    w.mask.kind = s ? ZZ_MASK_STREAMING : ZZ_MASK_FULL;  /* FULL reads no other field */
    prefill_block<D>(w, p.scale_log2);
}

/* k, v relative to the bases. */
static KeySource key_source(zz_view k, zz_view v, const bf16 *k_base, const bf16 *v_base, int q_pos0) {
    KeySource s;
    s.k_off = ((intptr_t)k.data - (intptr_t)k_base) / (long long)sizeof(bf16);
    s.v_off = ((intptr_t)v.data - (intptr_t)v_base) / (long long)sizeof(bf16);
    s.k_bs = k.batch_stride, s.k_ts = k.token_stride;
    s.v_bs = v.batch_stride, s.v_ts = v.token_stride;
    s.q_pos0 = q_pos0;
    return s;
}

template <int D>
static int launch_prefill_fused(const zz_prefill_fused_args *a, cudaStream_t stream) {
    const size_t smem = prefill_smem_bytes(D);
    static bool attribute_set = false;
    int rc = allow_smem_once(prefill_fused_kernel<D>, smem, &attribute_set);
    if (rc) return rc;
    FusedPrefillParams p;
    p.q = reinterpret_cast<const __nv_bfloat16 *>(a->q.data);
    p.o = reinterpret_cast<__nv_bfloat16 *>(a->o.data);
    p.q_bs = a->q.batch_stride, p.q_ts = a->q.token_stride;
    p.o_bs = a->o.batch_stride, p.o_ts = a->o.token_stride;
    /* The bases: the retrieval kind's k / v, or where a layer has none,
     * the streaming kind's. */
    const int chunked_streaming_only = !a->keys_model_order && a->heads.retrieval == 0;
    const zz_view k_base = chunked_streaming_only ? a->k_stream : a->k_full;
    const zz_view v_base = chunked_streaming_only ? a->v_stream : a->v_full;
    p.k = reinterpret_cast<const __nv_bfloat16 *>(k_base.data);
    p.v = reinterpret_cast<const __nv_bfloat16 *>(v_base.data);
    p.full = key_source(a->k_full, a->v_full, k_base.data, v_base.data, a->q_pos0);
    /* Single shot: the streaming heads read the same keys, at q_pos0. */
    p.stream = a->keys_model_order
                   ? p.full
                   : key_source(a->k_stream, a->v_stream, k_base.data, v_base.data, a->q_pos0_stream);
    p.group = a->q.heads / a->heads.kv_heads;
    p.q_len = a->q_len, p.batch = a->batch;
    p.keys_model_order = a->keys_model_order;
    p.streaming = a->streaming;
    p.scale_log2 = softmax_scale_log2(D);
    p.heads = a->heads;
    const long long row_tiles = ((long long)a->q_len * p.group + BLOCK_M - 1) / BLOCK_M;
    ZZ_REQUIRE(row_tiles < (1LL << 31), "q_len %d too long", a->q_len);
    const long long blocks = row_tiles * a->batch * a->heads.kv_heads;  /* < 2^31 * 2^16 * 2^7 */
    ZZ_REQUIRE(blocks < (1LL << 31), "q_len %d too long for %d sequences of %d KV heads in one grid", a->q_len,
               a->batch, a->heads.kv_heads);
    p.row_tiles = (int)row_tiles;
    prefill_fused_kernel<D><<<(unsigned)blocks, PREFILL_WARPS * 32, smem, stream>>>(p);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

/* The checks of zz_prefill_fused's arguments, for both variants (the
 * Hopper one: zz_prefill_fused_hopper). The views of a kind with no heads
 * are not read, nor checked; neither are k_stream, v_stream and
 * q_pos0_stream in a single shot. */
int zz_check_prefill_fused(const zz_prefill_fused_args *a) {
    ZZ_REQUIRE(a->head_dim == 64 || a->head_dim == 128, "head_dim %d (need 64 or 128)", a->head_dim);
    ZZ_REQUIRE(a->q_len >= 1 && a->q_pos0 >= 0, "q_len %d, q_pos0 %d", a->q_len, a->q_pos0);
    ZZ_REQUIRE(a->keys_model_order == 0 || a->keys_model_order == 1, "keys_model_order %d (need 0 or 1)",
               a->keys_model_order);
    const zz_head_modes *m = &a->heads;
    ZZ_REQUIRE(m->kv_heads >= 1 && m->kv_heads <= ZZ_FUSED_MAX_KV_HEADS, "kv_heads %d (need 1..%d)", m->kv_heads,
               ZZ_FUSED_MAX_KV_HEADS);
    ZZ_REQUIRE(m->retrieval >= 0 && m->retrieval <= m->kv_heads, "retrieval %d of %d KV heads", m->retrieval,
               m->kv_heads);
    unsigned char seen[ZZ_FUSED_MAX_KV_HEADS] = {0};
    for (int i = 0; i < m->kv_heads; i++) {
        ZZ_REQUIRE(m->order[i] < m->kv_heads && !seen[m->order[i]],
                   "order is not a permutation of the %d KV heads: order[%d] = %d", m->kv_heads, i, m->order[i]);
        seen[m->order[i]] = 1;
    }
    const int streaming = m->kv_heads - m->retrieval;
    ZZ_REQUIRE(a->q.heads >= m->kv_heads && a->q.heads % m->kv_heads == 0 && a->o.heads == a->q.heads,
               "q heads %d, o heads %d: need o = q and a multiple of the %d KV heads", a->q.heads, a->o.heads,
               m->kv_heads);
    if (streaming > 0)
        ZZ_REQUIRE(a->streaming.kind == ZZ_MASK_STREAMING, "streaming mask kind %d (need ZZ_MASK_STREAMING)",
                   (int)a->streaming.kind);
    const int group = a->q.heads / m->kv_heads, kv_len = a->q_pos0 + a->q_len;
    const zz_mask full = {ZZ_MASK_FULL, 0, 0, 0};
    int rc;
    if ((rc = zz_check_view("q", a->q, a->batch, a->q_len, a->head_dim)) ||
        (rc = zz_check_view("o", a->o, a->batch, a->q_len, a->head_dim)))
        return rc;
    if (a->keys_model_order) {
        ZZ_REQUIRE(a->k_full.heads == m->kv_heads && a->v_full.heads == m->kv_heads,
                   "single shot: k_full heads %d, v_full heads %d (need the %d KV heads)", a->k_full.heads,
                   a->v_full.heads, m->kv_heads);
        rc = zz_check_attention(a->q, a->k_full, a->v_full, a->o, a->batch, a->head_dim, a->q_len, kv_len,
                                streaming > 0 ? a->streaming : full);
        if (rc) return rc;
    } else {
        ZZ_REQUIRE(a->q_pos0_stream >= 0, "q_pos0_stream %d", a->q_pos0_stream);
        if (m->retrieval > 0) {
            ZZ_REQUIRE(a->k_full.heads == m->retrieval && a->v_full.heads == m->retrieval,
                       "chunked: k_full heads %d, v_full heads %d (need the %d retrieval heads)", a->k_full.heads,
                       a->v_full.heads, m->retrieval);
            rc = zz_check_attention(zz_view_heads(a->q, 0, m->retrieval * group, a->head_dim), a->k_full, a->v_full,
                                    zz_view_heads(a->o, 0, m->retrieval * group, a->head_dim), a->batch,
                                    a->head_dim, a->q_len, kv_len, full);
            if (rc) return rc;
        }
        if (streaming > 0) {
            ZZ_REQUIRE(a->k_stream.heads == streaming && a->v_stream.heads == streaming,
                       "chunked: k_stream heads %d, v_stream heads %d (need the %d streaming heads)",
                       a->k_stream.heads, a->v_stream.heads, streaming);
            rc = zz_check_attention(zz_view_heads(a->q, 0, streaming * group, a->head_dim), a->k_stream,
                                    a->v_stream, zz_view_heads(a->o, 0, streaming * group, a->head_dim), a->batch,
                                    a->head_dim, a->q_len, a->q_pos0_stream + a->q_len, a->streaming);
            if (rc) return rc;
        }
    }
    return ZZ_OK;
}

extern "C" int zz_prefill_fused(const zz_prefill_fused_args *a, cudaStream_t stream) {
    const int rc = zz_check_prefill_fused(a);
    if (rc) return rc;
    return a->head_dim == 128 ? launch_prefill_fused<128>(a, stream) : launch_prefill_fused<64>(a, stream);
}
