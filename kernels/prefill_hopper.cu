/* Prefill attention for Hopper (sm_90a): TMA + wgmma, warp-specialised.
 * Variant wgmma-tma of harness/plan/variants.c (issue 16).
 *
 * Same arithmetic as prefill.cu (online softmax in exp2 with the scale
 * folded in, element masks only on tiles a boundary cuts, whole tiles
 * outside the causal prefix or the sink + recent band skipped), but fed
 * the way Hopper's tensor cores want to be fed. What changes and why:
 *
 *  - Matrix products with wgmma instead of mma.sync. mma.sync issues a
 *    16x8x16 product per warp and needs every operand in registers
 *    (ldmatrix first); on the H200 our mma.sync kernel tops out near 300
 *    TFLOP/s, while wgmma runs a 64xNx16 product per warpgroup (4 warps)
 *    with B -- and here A for S = Q K^T -- read by the tensor cores from
 *    shared memory, asynchronously: the issuing warps are free to do the
 *    softmax while it runs. S = Q K^T is m64n128k16 with Q and K both in
 *    shared memory (K-major: head_dim contiguous in both); O += P V is
 *    m64n{D}k16 with P from registers (the S accumulator layout, rounded
 *    to bf16, is the A-fragment layout, as with mma.sync) and V from shared
 *    memory, where it is [key][dim]: dim contiguous = "MN-major" B, the
 *    transposed operand that 16-bit wgmma allows.
 *
 *  - Tiles brought in by the tensor-memory accelerator (cp.async.bulk.tensor)
 *    instead of every thread's cp.async: one thread issues a whole 128-row
 *    tile, the copy engine writes it 128-byte swizzled (the layout the wgmma
 *    descriptors read without bank conflicts), clips rows past the end of
 *    the tensor to zero (ragged S needs no code), and signals an mbarrier
 *    with the bytes that landed. The tensor maps are built on the host over
 *    the zz_view strides (4-D: dim, head, token, sequence), so head slices,
 *    GQA and padded token strides cost nothing.
 *
 *  - Warp specialisation: warpgroup 0 is the producer (one elected thread
 *    issues the TMA copies of Q once and of K and V through a 2-stage ring
 *    of shared-memory buffers, each with a "full" and an "empty" mbarrier);
 *    warpgroups 1 and 2 are consumers, 64 query rows each. setmaxnreg hands
 *    the producer's registers to the consumers (24 vs 240 per thread), who
 *    hold S (64 floats), O (D/2 floats) and P (32 words).
 *
 *  - Ping-pong: the two consumer warpgroups take turns at the tensor cores
 *    (two named barriers): while one issues its S = Q K_t and O += P V_{t-1}
 *    products, the other does its softmax. Within a warpgroup the product
 *    O += P_{t-1} V_{t-1} is issued together with S_t = Q K_t^T, and the
 *    softmax of S_t runs while it completes (FlashAttention-3's intra-
 *    warpgroup overlap, Shah et al. 2024).
 *
 * A block is 128 query positions of one query head (FA2 puts the heads of
 * a GQA group in its rows instead). Positions, not (position, head) pairs,
 * make the TMA boxes plain and the causal diagonal one per tile. The grid
 * puts the blocks of one K/V head's query heads next to each other (and all
 * sequences and heads of one row tile, latest rows first), so the group's
 * blocks run together and all but the first read each K/V tile from L2.
 * Not done: TMA multicast of K/V across a cluster; a persistent grid (a
 * block's epilogue and the next row tile's first loads overlapping).
 *
 * One body (hopper_block) serves two kernels: prefill_hopper_kernel, one
 * mask and one K/V tensor per launch, and prefill_hopper_fused_kernel, a
 * DuoAttention mixed layer in one launch with every KV head in its own
 * mode (layout duo-fused; prefill.cu's prefill_fused_kernel on fa2). Each
 * decodes its block's work item (query head, key head, sequence, row tile,
 * mask, query offset, key maps) from blockIdx and hands it to the body.
 *
 * Built only for sm_90a (-gencode=arch=compute_90a,code=sm_90a): elsewhere
 * the kernel body is empty and zz_prefill_attention_hopper refuses to run.
 * The NOTES.md section "Prefill v4 -- Hopper wgmma + TMA" has the
 * predictions. CPU reference: ref_attention_prefill in reference.c.
 */
#include <cuda.h>          /* CUtensorMap and its enums only: no -lcuda */
#include <cudaTypedefs.h>  /* PFN_cuTensorMapEncodeTiled */
#include "common.cuh"

#define HP_BLOCK_M 128  /* query rows per block: two consumer warpgroups x 64 */
#define HP_BLOCK_N 128  /* keys per K/V tile */
/* Overridable (make KERNEL_DEFS=-D...) to measure what each buys, as
 * prefill.cu's tile shapes: see NOTES.md. */
#ifndef HP_STAGES
#define HP_STAGES 2     /* K/V ring depth: 2 x (K + V) tiles + Q = 160 KiB at D 128; 3 fits (224 KiB) */
#endif
#ifndef HP_PINGPONG
#define HP_PINGPONG 1   /* 0: the consumer warpgroups issue their products without taking turns */
#endif
#define HP_THREADS 384  /* producer warpgroup + two consumer warpgroups */
#define HP_PRODUCER_REGS 24
#define HP_CONSUMER_REGS 240  /* 128 x 24 + 256 x 240 = 64512 <= 65536 */
/* A tile is D/64 column panels of 128 rows x 64 dims (128 bytes a row, the
 * swizzle span); a panel is 16 KiB. */
#define HP_PANEL_BYTES (HP_BLOCK_N * 128)

/* What every block of a launch shares: the output (all query heads, in
 * the q map's head order) and the softmax scale. */
struct HopperOut {
    __nv_bfloat16 *o;
    long long o_bs, o_ts;
    int q_len;
    float scale_log2;
};

/* One block's work, decoded from blockIdx at the top of each kernel: the
 * query head (of the q map and the output), the key head (of the K / V
 * maps the block is given), the sequence, the first row of its 128-row
 * tile, its mask and the position of query row 0 among its keys. The body
 * (hopper_block) reads nothing else of where the block stands, so the
 * plain kernel and the fused one run the same code on the same item. */
struct HopperBlock {
    int hq, key_head, b, m0, q_pos0;
    zz_mask mask;
};

struct HopperParams {
    HopperOut out;
    int q_pos0, group, q_heads, batch, m_blocks;
    zz_mask mask;
};

/* Shared memory of one block, as offsets from a 1024-byte aligned base (the
 * 128-byte swizzle repeats every 8 rows = 1024 bytes, and the wgmma
 * descriptors assume their atoms start on that boundary). */
template <int D>
struct HopperSmem {
    static constexpr int TILE = HP_BLOCK_N * D * 2;  /* one Q, K or V tile */
    static constexpr int Q = 0;
    static constexpr int K = Q + TILE;
    static constexpr int V = K + HP_STAGES * TILE;
    static constexpr int BARRIERS = V + HP_STAGES * TILE;
    /* full_q, then full_k, full_v, empty_k, empty_v per stage */
    static constexpr int BYTES = BARRIERS + 8 * (1 + 4 * HP_STAGES) + 1024;  /* + alignment slack */
};

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HP_DEVICE_CODE 1
#endif

#ifdef HP_DEVICE_CODE
/* ---- mbarriers: transaction-counting barriers in shared memory ---- */

__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(bar), "r"(count));
}

/* The inits must be visible to the copy engine (the async proxy) too. */
__device__ __forceinline__ void mbar_init_fence() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

/* The producer's arrival: the phase completes once `bytes` more bytes landed. */
__device__ __forceinline__ void mbar_arrive_expect_bytes(uint32_t bar, int bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" :: "r"(bar), "r"(bytes) : "memory");
}

__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" :: "r"(bar) : "memory");
}

/* Whether the phase of the given parity has completed. A fresh barrier is
 * in phase 0, so parity 1 reads as completed at once: that is how the
 * producer's first pass over the empty ring goes through. */
__device__ __forceinline__ bool mbar_done(uint32_t bar, int parity) {
    uint32_t done;
    asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                 " selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done) : "r"(bar), "r"(parity) : "memory");
    return done != 0;
}

__device__ __forceinline__ void mbar_wait(uint32_t bar, int parity) {
    while (!mbar_done(bar, parity)) {
    }
}

/* The producer's wait for a free stage. No wait here is longer than a
 * tile's products (microseconds); one of many seconds is a bug in the pipeline's
 * protocol (an arrival count, a parity), and it traps: the launch fails
 * instead of hanging, and compute-sanitizer names the line (-lineinfo).
 * Only the producer checks: a trap (or a printf) in the consumers' code
 * makes ptxas spill and serialise their wgmma (C7512, C7510), and a
 * consumer stuck on a stage the producer never fills leaves the producer
 * stuck on the next one. */
__device__ __forceinline__ void mbar_wait_or_trap(uint32_t bar, int parity) {
    const long long start = clock64();
    while (!mbar_done(bar, parity))
        if (clock64() - start > (1LL << 35)) __trap();  /* ~17 s at 2 GHz: slack for compute-sanitizer */
}

/* ---- TMA: a box of the 4-D tensor (dim, head, token, sequence) into
 * shared memory, completing on an mbarrier ---- */
__device__ __forceinline__ void tma_load_box(uint32_t dst, const CUtensorMap *map, int dim, int head, int token,
                                             int seq, uint32_t bar) {
    asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%2, %3, %4, %5}], [%6];\n"
                 :: "r"(dst), "l"(map), "r"(dim), "r"(head), "r"(token), "r"(seq), "r"(bar) : "memory");
}

/* One thread of the warp, the same every time (elect.sync). */
__device__ __forceinline__ bool elect_one() {
    uint32_t elected;
    asm volatile("{\n .reg .pred p;\n .reg .b32 r;\n elect.sync r|p, 0xffffffff;\n selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(elected));
    return elected != 0;
}

/* ---- named barriers for the two consumer warpgroups' turns ----
 * Barrier 0 is __syncthreads; consumer warpgroup c waits on 1 + c. A turn
 * completes when its 128 threads wait and the other group's 128 arrive. */
__device__ __forceinline__ void turn_wait(int consumer) {
    if (HP_PINGPONG) asm volatile("bar.sync %0, 256;\n" :: "r"(1 + consumer) : "memory");
}
__device__ __forceinline__ void turn_pass(int consumer) {
    if (HP_PINGPONG) asm volatile("bar.arrive %0, 256;\n" :: "r"(2 - consumer) : "memory");
}

/* ---- register budgets (setmaxnreg: warpgroup-wide, needs the entry cap
 * of __launch_bounds__(HP_THREADS, 1)) ---- */
template <int N> __device__ __forceinline__ void regs_shrink() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" :: "n"(N));
}
template <int N> __device__ __forceinline__ void regs_grow() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" :: "n"(N));
}

/* ---- wgmma ----
 * A shared-memory matrix descriptor for a 128-byte swizzled operand: the
 * start address, the leading-dimension byte offset, the stride byte offset
 * (1024: from one 8-row swizzle atom to the next) and the swizzle mode
 * (1 = 128B), each address field in 16-byte units.
 *   K-major (Q, K: the reduction dimension contiguous): one descriptor per
 *     k16 step, its start advanced 32 bytes within the 128-byte row; the
 *     leading offset is unused (1 by convention).
 *   MN-major (V: the output dimension contiguous): the 8-row atoms are
 *     8 keys deep, 1024 bytes apart; the leading offset is the distance to
 *     the next 64-wide column panel (HP_PANEL_BYTES). */
__device__ __forceinline__ uint64_t sw128_desc(uint32_t addr, uint32_t leading_bytes) {
    return (uint64_t)((addr & 0x3ffff) >> 4) | (uint64_t)(leading_bytes >> 4) << 16 | (uint64_t)(1024 >> 4) << 32 |
           1ull << 62;
}

/* Registers written by ordinary instructions, read or written by wgmma
 * next, need this fence in every thread of the warpgroup. */
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(N) : "memory");
}

/* The compiler sees a wgmma as writing its accumulators when it is issued;
 * they are really written until the wait. An empty asm that "reads and
 * writes" each register after the wait keeps every later use (and any reuse
 * of a register that fed the product) after it. */
template <int N> __device__ __forceinline__ void hold_floats(float (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(r[i]) :: "memory");
}
__device__ __forceinline__ void hold_p(uint32_t (&pf)[8][4]) {
#pragma unroll
    for (int kk = 0; kk < 8; kk++)
#pragma unroll
        for (int i = 0; i < 4; i++) asm volatile("" : "+r"(pf[kk][i]) :: "memory");
}

#define ACC8(d, i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), \
                   "+f"(d[i + 6]), "+f"(d[i + 7])
#define ACC32(d) ACC8(d, 0), ACC8(d, 8), ACC8(d, 16), ACC8(d, 24)
#define ACC64(d) ACC32(d), ACC8(d, 32), ACC8(d, 40), ACC8(d, 48), ACC8(d, 56)
#define REGS32 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, " \
               "%21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define REGS64 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, " \
               "%21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, " \
               "%40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, " \
               "%59, %60, %61, %62, %63}"

/* S (64 x 128, float) (+)= A (64 x 16, shared, K-major) * B (16 x 128,
 * shared, K-major); accumulate = 0 overwrites S. */
__device__ __forceinline__ void wgmma_s(float (&d)[64], uint64_t a, uint64_t b, int accumulate) {
    asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %66, 0;\n"
                 " wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " REGS64 ", %64, %65, p, 1, 1, 0, 0;\n}\n"
                 : ACC64(d) : "l"(a), "l"(b), "r"(accumulate));
}

/* O (64 x D, float) += A (64 x 16, registers) * B (16 x D, shared, MN-major). */
__device__ __forceinline__ void wgmma_o(float (&d)[64], const uint32_t (&a)[4], uint64_t b) {
    asm volatile("{\n .reg .pred p;\n setp.eq.u32 p, 1, 1;\n"
                 " wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " REGS64
                 ", {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
                 : ACC64(d) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}
__device__ __forceinline__ void wgmma_o(float (&d)[32], const uint32_t (&a)[4], uint64_t b) {
    asm volatile("{\n .reg .pred p;\n setp.eq.u32 p, 1, 1;\n"
                 " wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 " REGS32
                 ", {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
                 : ACC32(d) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}

/* ---- one consumer warpgroup's view of a tile ----
 * Accumulator layout of m64nN (as mma.sync's m16n8, repeated): warp w of
 * the group holds rows 16w + lane/4 and 16w + lane/4 + 8; register 4j + e
 * is column 8j + 2*(lane%4) + (e&1) of row ... + 8*(e>>1). */
struct RowTile {
    int p_first, p_last;  /* the warpgroup's first and last valid query positions */
    int row0;             /* position of the thread's first row (the second is row0 + 8) */
};

/* S = Q K_t^T for one consumer warpgroup: D/16 k-steps; k-step kk reads
 * panel kk/4 at byte offset 32*(kk%4) within the 128-byte rows. */
template <int D>
__device__ __forceinline__ void issue_s(float (&s)[64], uint32_t q_rows, uint32_t k_tile) {
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        const uint32_t off = (kk / 4) * HP_PANEL_BYTES + (kk % 4) * 32;
        wgmma_s(s, sw128_desc(q_rows + off, 16), sw128_desc(k_tile + off, 16), kk > 0);
    }
}

/* O += P V_t: 8 k-steps of 16 keys, each 16 rows = 2048 bytes into V. */
template <int D>
__device__ __forceinline__ void issue_o(float (&o)[D / 2], const uint32_t (&p)[8][4], uint32_t v_tile) {
#pragma unroll
    for (int kk = 0; kk < HP_BLOCK_N / 16; kk++) wgmma_o(o, p[kk], sw128_desc(v_tile + kk * 2048, HP_PANEL_BYTES));
}

/* Max or sum over the 32 scores the thread holds of one accumulator row
 * (h 0: row lane/4, h 1: row lane/4 + 8), as a tree: a chain 5 deep
 * instead of 32. While one warpgroup does its softmax the other mostly
 * waits on its products, so each scheduler has one warp issuing: latency,
 * not throughput, is what a long chain would cost. */
template <bool MAX>
__device__ __forceinline__ float reduce2(float a, float b) { return MAX ? fmaxf(a, b) : a + b; }
template <bool MAX>
__device__ __forceinline__ float row_reduce(const float (&s)[64], int h) {
    float r[16];
#pragma unroll
    for (int j = 0; j < 16; j++) r[j] = reduce2<MAX>(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]);
#pragma unroll
    for (int j = 0; j < 8; j++) r[j] = reduce2<MAX>(r[j], r[j + 8]);
#pragma unroll
    for (int j = 0; j < 4; j++) r[j] = reduce2<MAX>(r[j], r[j + 4]);
    return reduce2<MAX>(reduce2<MAX>(r[0], r[2]), reduce2<MAX>(r[1], r[3]));
}

/* Masks the keys of tile n0 that the thread's rows do not see (only where
 * a boundary cuts the tile), then takes the online softmax step: new
 * running maxima, S turned into exp2 weights in place, running sums, and
 * the factor (returned) by which the output so far must be scaled. */
__device__ __forceinline__ void softmax_step(float (&s)[64], float (&row_max)[2], float (&row_sum)[2],
                                             float (&correction)[2], const RowTile &rt, int n0,
                                             const HopperBlock &w, float scale_log2) {
    const int lane = threadIdx.x % 32;
    if (!tile_whole(w.mask, w.q_pos0, rt.p_first, rt.p_last, n0, n0 + HP_BLOCK_N)) {
#pragma unroll
        for (int j = 0; j < 16; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = n0 + 8 * j + 2 * (lane % 4) + (e & 1);
                if (!key_visible(rt.row0 + 8 * (e >> 1), key, w.mask, w.q_pos0)) s[4 * j + e] = -INFINITY;
            }
    }
    float base[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const float m = quad_max(fmaxf(row_max[h], row_reduce<true>(s, h)));
        base[h] = softmax_base(m, scale_log2);
        correction[h] = fast_exp2(row_max[h] * scale_log2 - base[h]);
        row_max[h] = m;
    }
#pragma unroll
    for (int j = 0; j < 16; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) s[4 * j + e] = fast_exp2(fmaf(s[4 * j + e], scale_log2, -base[e >> 1]));
    /* Thread-partial sums: the quad adds them up once, at the end. */
    row_sum[0] = row_sum[0] * correction[0] + row_reduce<false>(s, 0);
    row_sum[1] = row_sum[1] * correction[1] + row_reduce<false>(s, 1);
}

/* P as wgmma A fragments: k-step kk is columns 16kk..16kk+15 = S's j 2kk, 2kk+1. */
__device__ __forceinline__ void pack_p(uint32_t (&pf)[8][4], const float (&s)[64]) {
#pragma unroll
    for (int kk = 0; kk < 8; kk++) {
        pf[kk][0] = pack_bf16x2(s[8 * kk + 0], s[8 * kk + 1]);
        pf[kk][1] = pack_bf16x2(s[8 * kk + 2], s[8 * kk + 3]);
        pf[kk][2] = pack_bf16x2(s[8 * kk + 4], s[8 * kk + 5]);
        pf[kk][3] = pack_bf16x2(s[8 * kk + 6], s[8 * kk + 7]);
    }
}

/* One block's work w (both kernels below decode theirs and call this):
 * Q rows w.m0.. of query head w.hq from q_map, keys of head w.key_head
 * from k_map / v_map, in sequence w.b. The maps are __grid_constant__
 * parameters of the calling kernel, passed by address (TMA reads the
 * descriptor from parameter space; only the producer's one thread does). */
template <int D>
__device__ __forceinline__ void hopper_block(const CUtensorMap *q_map, const CUtensorMap *k_map,
                                             const CUtensorMap *v_map, const HopperBlock &w, const HopperOut &out) {
    typedef HopperSmem<D> L;
    extern __shared__ unsigned char smem_raw[];
    const uint32_t base = (smem_addr(smem_raw) + 1023) & ~1023u;
    const uint32_t s_q = base + L::Q, s_k = base + L::K, s_v = base + L::V;
    const uint32_t full_q = base + L::BARRIERS;
    /* stage s: full_k full_q + 8(1+s), full_v +8(1+S+s), empty_k +8(1+2S+s), empty_v +8(1+3S+s) */
#define FULL_K(s) (full_q + 8 * (1 + (s)))
#define FULL_V(s) (full_q + 8 * (1 + HP_STAGES + (s)))
#define EMPTY_K(s) (full_q + 8 * (1 + 2 * HP_STAGES + (s)))
#define EMPTY_V(s) (full_q + 8 * (1 + 3 * HP_STAGES + (s)))

    const int m0 = w.m0, b = w.b;
    const int p_first = w.q_pos0 + m0, p_last = w.q_pos0 + min(m0 + HP_BLOCK_M, out.q_len) - 1;
    const TileRange tiles = visible_tiles(w.mask, w.q_pos0, p_first, p_last, HP_BLOCK_N);
    const int ntiles = tiles.count();  /* >= 1: every query sees at least its own key */
    const int warpgroup = threadIdx.x / 128;

    if (threadIdx.x == 0) {
        mbar_init(full_q, 1);
        for (int s = 0; s < HP_STAGES; s++) {
            mbar_init(FULL_K(s), 1);
            mbar_init(FULL_V(s), 1);
            mbar_init(EMPTY_K(s), 8);  /* one arrival per consumer warp */
            mbar_init(EMPTY_V(s), 8);
        }
        mbar_init_fence();
    }
    __syncthreads();

    if (warpgroup == 0) {
        /* ---- producer ---- */
        regs_shrink<HP_PRODUCER_REGS>();
        if (threadIdx.x / 32 == 0 && elect_one()) {
            mbar_arrive_expect_bytes(full_q, L::TILE);
#pragma unroll
            for (int panel = 0; panel < D / 64; panel++)
                tma_load_box(s_q + panel * HP_PANEL_BYTES, q_map, 64 * panel, w.hq, m0, b, full_q);
            for (int t = 0; t < ntiles; t++) {
                const int s = t % HP_STAGES, phase = (t / HP_STAGES) & 1, n0 = tiles.tile(t) * HP_BLOCK_N;
                const uint32_t k_dst = s_k + s * L::TILE, v_dst = s_v + s * L::TILE;
                mbar_wait_or_trap(EMPTY_K(s), phase ^ 1);
                mbar_arrive_expect_bytes(FULL_K(s), L::TILE);
#pragma unroll
                for (int panel = 0; panel < D / 64; panel++)
                    tma_load_box(k_dst + panel * HP_PANEL_BYTES, k_map, 64 * panel, w.key_head, n0, b, FULL_K(s));
                mbar_wait_or_trap(EMPTY_V(s), phase ^ 1);
                mbar_arrive_expect_bytes(FULL_V(s), L::TILE);
#pragma unroll
                for (int panel = 0; panel < D / 64; panel++)
                    tma_load_box(v_dst + panel * HP_PANEL_BYTES, v_map, 64 * panel, w.key_head, n0, b, FULL_V(s));
            }
        }
    } else {
        /* ---- consumers: warpgroup c owns rows 64c .. 64c+63 of the block ---- */
        regs_grow<HP_CONSUMER_REGS>();
        const int c = warpgroup - 1, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
        const bool last_arrive = lane == 0;  /* each consumer warp releases a stage once */
        RowTile rt;
        rt.p_first = p_first + 64 * c;
        rt.p_last = min(p_last, rt.p_first + 63);
        rt.row0 = rt.p_first + 16 * warp + lane / 4;
        const uint32_t q_rows = s_q + c * 64 * 128;  /* 64 rows into each panel */

        float s[64], o[D / 2], row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f}, correction[2];
        uint32_t pf[8][4];
#pragma unroll
        for (int j = 0; j < D / 2; j++) o[j] = 0.f;

        if (c == 1) turn_pass(c);  /* consumer 0 goes first */
        mbar_wait(full_q, 0);

        /* Tile 0: S only, then its softmax. */
        mbar_wait(FULL_K(0), 0);
        turn_wait(c);
        wgmma_fence();
        issue_s<D>(s, q_rows, s_k);
        wgmma_commit();
        if (c == 0 || ntiles > 1) turn_pass(c);
        wgmma_wait<0>();
        hold_floats(s);
        __syncwarp();
        if (last_arrive) mbar_arrive(EMPTY_K(0));
        softmax_step(s, row_max, row_sum, correction, rt, tiles.tile(0) * HP_BLOCK_N, w, out.scale_log2);
        pack_p(pf, s);

        for (int t = 1; t < ntiles; t++) {
            const int sk = t % HP_STAGES, sv = (t - 1) % HP_STAGES;
            mbar_wait(FULL_K(sk), (t / HP_STAGES) & 1);
            turn_wait(c);
            wgmma_fence();
            issue_s<D>(s, q_rows, s_k + sk * L::TILE);
            wgmma_commit();
            mbar_wait(FULL_V(sv), ((t - 1) / HP_STAGES) & 1);
            /* Again after the wait's loop: without it ptxas inserts its own
             * in the divergent path and serialises every wgmma (C7520). */
            wgmma_fence();
            issue_o<D>(o, pf, s_v + sv * L::TILE);
            wgmma_commit();
            if (c == 0 || t + 1 < ntiles) turn_pass(c);
            wgmma_wait<1>();  /* S_t done; P_{t-1} V_{t-1} may still run */
            hold_floats(s);
            __syncwarp();
            if (last_arrive) mbar_arrive(EMPTY_K(sk));
            softmax_step(s, row_max, row_sum, correction, rt, tiles.tile(t) * HP_BLOCK_N, w, out.scale_log2);
            wgmma_wait<0>();
            hold_floats(o);
            hold_p(pf);  /* P was read until now: no register of it reused before */
            __syncwarp();
            if (last_arrive) mbar_arrive(EMPTY_V(sv));
#pragma unroll
            for (int j = 0; j < D / 2; j++) o[j] *= correction[(j >> 1) & 1];
            pack_p(pf, s);
        }

        /* The last tile's P V. */
        const int sv = (ntiles - 1) % HP_STAGES;
        mbar_wait(FULL_V(sv), ((ntiles - 1) / HP_STAGES) & 1);
        wgmma_fence();
        issue_o<D>(o, pf, s_v + sv * L::TILE);
        wgmma_commit();
        wgmma_wait<0>();
        hold_floats(o);

        /* Normalise and store: each quad writes 16 contiguous bytes of a row. */
        const int token0 = m0 + 64 * c + 16 * warp + lane / 4;
        __nv_bfloat16 *o_rows = out.o + b * out.o_bs + (long long)w.hq * D + 2 * (lane % 4);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int token = token0 + 8 * h;
            const float l = quad_sum(row_sum[h]);
            const float inv = l > 0.f ? 1.f / l : 0.f;
            if (token < out.q_len) {
                __nv_bfloat16 *row = o_rows + token * out.o_ts;
#pragma unroll
                for (int j = 0; j < D / 8; j++)
                    *reinterpret_cast<uint32_t *>(row + 8 * j) =
                        pack_bf16x2(o[4 * j + 2 * h] * inv, o[4 * j + 2 * h + 1] * inv);
            }
        }
    }
#undef FULL_K
#undef FULL_V
#undef EMPTY_K
#undef EMPTY_V
}
#endif /* HP_DEVICE_CODE */

/* Grid: block i is query head i % q_heads, sequence (i / q_heads) % batch,
 * row tile m_blocks - 1 - i / (q_heads * batch) (latest, longest, first). */
template <int D>
__global__ void __launch_bounds__(HP_THREADS, 1)
prefill_hopper_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap k_map,
                      const __grid_constant__ CUtensorMap v_map, const HopperParams p) {
#ifdef HP_DEVICE_CODE
    const int i = blockIdx.x;
    HopperBlock w;
    w.hq = i % p.q_heads;
    w.key_head = w.hq / p.group;
    w.b = (i / p.q_heads) % p.batch;
    w.m0 = (p.m_blocks - 1 - i / (p.q_heads * p.batch)) * HP_BLOCK_M;
    w.q_pos0 = p.q_pos0;
    w.mask = p.mask;
    hopper_block<D>(&q_map, &k_map, &v_map, w, p.out);
#endif
}

/* ---- A mixed layer in one launch (layout duo-fused, issue 15) ----
 *
 * prefill_fused_kernel (prefill.cu) on this kernel's body: every KV head of
 * a DuoAttention layer in its own mode, q and o in the model's head order,
 * one launch, no copy; zz_prefill_fused_hopper takes zz_prefill_fused's
 * arguments. A block decodes its work item from blockIdx as the FA2 fused
 * kernel does and runs hopper_block on it: its head's kind decides the mask
 * (retrieval: full causal; streaming: the sink + recent band, chunked or
 * not) and the key source.
 *
 * The key source is a pair of tensor maps per kind: a TMA copy names its
 * tensor by descriptor, so where the two kinds read different tensors
 * (chunked: the retrieval heads' cache, the streaming heads' window of
 * other length and strides, whose queries sit at q_pos0_stream) the
 * kernel takes both kinds' K and V maps, and a block hands the body its
 * kind's. A single shot has one K and one V tensor for both kinds (every
 * head's new K/V, model order): there the launcher passes the same maps
 * twice instead of compiling a second kernel or branching on the case in
 * this one, so every launch runs one code path. The price is 256 bytes
 * more of parameters; two descriptors of one tensor read the same bytes
 * through the same L2.
 *
 * Grid: the retrieval heads' blocks first, then the streaming heads'
 * (about sink + recent keys each: they fill the tail). Within a kind one
 * (sequence, KV head) pair after another, pair-major as prefill_fused_kernel
 * found faster (kernels/NOTES.md, duo-fused: tile-major spreads the resident
 * blocks over every retrieval head's K/V, more than the L2 holds at 32K);
 * within a pair, row tiles latest (longest) first, and the group's query
 * heads of one row tile next to each other, so they read each K/V tile
 * together, all but the first from L2 (the plain kernel's GQA order). A
 * block computes what the plain kernel's block of the same query head, row
 * tile, keys and mask computes: the outputs equal per-head launches of
 * zz_prefill_attention_hopper bit for bit (tests/gpu/test_prefill_fused.c). */
struct HopperFusedParams {
    HopperOut out;
    int q_pos0, q_pos0_stream;  /* position of query 0 among the retrieval / streaming keys */
    int group, batch, row_tiles;
    int keys_model_order;       /* 1: key head = model KV head; 0: its index within its kind */
    zz_mask streaming;
    zz_head_modes heads;
};

template <int D>
__global__ void __launch_bounds__(HP_THREADS, 1)
prefill_hopper_fused_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap k_full,
                            const __grid_constant__ CUtensorMap v_full, const __grid_constant__ CUtensorMap k_stream,
                            const __grid_constant__ CUtensorMap v_stream, const HopperFusedParams p) {
#ifdef HP_DEVICE_CODE
    const int per_pair = p.row_tiles * p.group;
    const int retrieval_blocks = per_pair * p.batch * p.heads.retrieval;
    const bool s = (int)blockIdx.x >= retrieval_blocks;
    const int i = (int)blockIdx.x - (s ? retrieval_blocks : 0);
    const int count = s ? p.heads.kv_heads - p.heads.retrieval : p.heads.retrieval;
    const int pair = i / per_pair, j = i % per_pair, index = pair % count;
    const int kv_head = p.heads.order[(s ? p.heads.retrieval : 0) + index];
    HopperBlock w;
    w.hq = kv_head * p.group + j % p.group;
    w.key_head = p.keys_model_order ? kv_head : index;
    w.b = pair / count;
    w.m0 = (p.row_tiles - 1 - j / p.group) * HP_BLOCK_M;
    w.q_pos0 = s ? p.q_pos0_stream : p.q_pos0;
    w.mask = p.streaming;
    w.mask.kind = s ? ZZ_MASK_STREAMING : ZZ_MASK_FULL;  /* FULL reads no other field */
    hopper_block<D>(&q_map, s ? &k_stream : &k_full, s ? &v_stream : &v_full, w, p.out);
#endif
}

/* ---- host side ---- */

/* cuTensorMapEncodeTiled is a driver function: taken from the driver at
 * run time through the runtime, so nothing links against libcuda. */
static int tensor_map_encoder(PFN_cuTensorMapEncodeTiled_v12000 *encode) {
    static PFN_cuTensorMapEncodeTiled_v12000 found = NULL;
    if (!found) {
        cudaDriverEntryPointQueryResult status;
        void *fn = NULL;
        ZZ_CUDA(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &status));
        if (status != cudaDriverEntryPointSuccess || !fn)
            return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__, "cuTensorMapEncodeTiled not found in the driver (%d)",
                           (int)status);
        found = (PFN_cuTensorMapEncodeTiled_v12000)fn;
    }
    *encode = found;
    return ZZ_OK;
}

/* A 4-D map (dim, head, token, sequence) over a view of `tokens` tokens,
 * boxes of 64 dims x 1 head x 128 tokens x 1 sequence, 128-byte swizzled;
 * reads past the last token (or head) land as zeros. The strides come from
 * the view (head_dim contiguous, heads adjacent); zz_check_view has made
 * them multiples of 16 bytes and the base 16-byte aligned, as TMA needs. */
static int view_map(CUtensorMap *map, zz_view v, int batch, int tokens, int head_dim) {
    PFN_cuTensorMapEncodeTiled_v12000 encode = NULL;
    int rc = tensor_map_encoder(&encode);
    if (rc) return rc;
    const long long batch_stride = batch > 1 ? v.batch_stride : v.token_stride * tokens;  /* unused for 1 */
    const cuuint64_t dims[4] = {(cuuint64_t)head_dim, (cuuint64_t)v.heads, (cuuint64_t)tokens, (cuuint64_t)batch};
    const cuuint64_t strides[3] = {(cuuint64_t)head_dim * 2, (cuuint64_t)v.token_stride * 2,
                                   (cuuint64_t)batch_stride * 2};
    const cuuint32_t box[4] = {64, 1, HP_BLOCK_N, 1}, element_strides[4] = {1, 1, 1, 1};
    CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, v.data, dims, strides, box, element_strides,
                        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS)
        return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__,
                       "cuTensorMapEncodeTiled: error %d (heads %d, tokens %d, token stride %lld, batch %d)", (int)r,
                       v.heads, tokens, v.token_stride, batch);
    return ZZ_OK;
}

/* Both kernels' grid: a block per 128-row tile, sequence and query head;
 * *row_tiles the tiles per (sequence, query head). */
static int hopper_grid(int q_len, int batch, int q_heads, int *row_tiles, unsigned *blocks) {
    *row_tiles = (q_len + HP_BLOCK_M - 1) / HP_BLOCK_M;
    const long long n = (long long)*row_tiles * batch * q_heads;
    ZZ_REQUIRE(n < (1LL << 31), "q_len %d x %d sequences x %d query heads: too many blocks for one grid", q_len, batch,
               q_heads);
    *blocks = (unsigned)n;
    return ZZ_OK;
}

static HopperOut hopper_out(zz_view o, int q_len, int head_dim) {
    HopperOut out;
    out.o = reinterpret_cast<__nv_bfloat16 *>(o.data);
    out.o_bs = o.batch_stride, out.o_ts = o.token_stride;
    out.q_len = q_len;
    out.scale_log2 = softmax_scale_log2(head_dim);
    return out;
}

/* The kernel has code for this device: a device of compute capability 9.0
 * and a build whose sm_90 code is sm_90a. The runtime cannot tell an
 * sm_90a cubin from a plain sm_90 one (whose kernel body is empty), so the
 * Makefile says which it built: ZZ_SM90A_BUILD when GPU_ARCHS has 90a and
 * not 90. */
extern "C" int zz_prefill_hopper_supported(int *supported) {
    *supported = 0;
#ifdef ZZ_SM90A_BUILD
    int device, major, minor;
    ZZ_CUDA(cudaGetDevice(&device));
    ZZ_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
    ZZ_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
    *supported = major == 9 && minor == 0;
#endif
    return ZZ_OK;
}

long long zz_prefill_hopper_computed_pairs(const zz_prefill_args *a) {
    long long pairs = 0;
    for (int m0 = 0; m0 < a->q_len; m0 += HP_BLOCK_M) {
        const int rows = min(HP_BLOCK_M, a->q_len - m0);
        const TileRange r = visible_tiles(a->mask, a->q_pos0, a->q_pos0 + m0, a->q_pos0 + m0 + rows - 1, HP_BLOCK_N);
        pairs += (long long)r.count() * HP_BLOCK_N * rows;
    }
    return pairs * a->q.heads * a->batch;
}

template <int D>
static int launch_prefill_hopper(const zz_prefill_args *a, cudaStream_t stream) {
    static bool attribute_set = false;
    int rc = allow_smem_once(prefill_hopper_kernel<D>, HopperSmem<D>::BYTES, &attribute_set);
    if (rc) return rc;
    const int kv_len = a->q_pos0 + a->q_len;
    CUtensorMap q_map, k_map, v_map;
    if ((rc = view_map(&q_map, a->q, a->batch, a->q_len, D)) || (rc = view_map(&k_map, a->k, a->batch, kv_len, D)) ||
        (rc = view_map(&v_map, a->v, a->batch, kv_len, D)))
        return rc;
    HopperParams p;
    p.out = hopper_out(a->o, a->q_len, D);
    p.q_pos0 = a->q_pos0;
    p.group = a->q.heads / a->k.heads, p.q_heads = a->q.heads, p.batch = a->batch;
    p.mask = a->mask;
    unsigned blocks = 0;
    if ((rc = hopper_grid(a->q_len, a->batch, a->q.heads, &p.m_blocks, &blocks))) return rc;
    prefill_hopper_kernel<D><<<blocks, HP_THREADS, HopperSmem<D>::BYTES, stream>>>(q_map, k_map, v_map, p);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

/* ZZ_OK where the kernels can run here; else a message saying why. */
static int require_hopper() {
    int supported, rc = zz_prefill_hopper_supported(&supported);
    if (rc) return rc;
    ZZ_REQUIRE(supported, "prefill kernel wgmma-tma needs an sm_90 GPU (H100, H200) and a build with 90a in "
                          "GPU_ARCHS (make GPU_ARCHS=\"80 90a\"); use fa2 here");
    return ZZ_OK;
}

extern "C" int zz_prefill_attention_hopper(const zz_prefill_args *a, cudaStream_t stream) {
    int rc = zz_check_prefill(a);
    if (rc || (rc = require_hopper())) return rc;
    return a->head_dim == 128 ? launch_prefill_hopper<128>(a, stream) : launch_prefill_hopper<64>(a, stream);
}

template <int D>
static int launch_prefill_fused_hopper(const zz_prefill_fused_args *a, cudaStream_t stream) {
    static bool attribute_set = false;
    int rc = allow_smem_once(prefill_hopper_fused_kernel<D>, HopperSmem<D>::BYTES, &attribute_set);
    if (rc) return rc;
    const zz_head_modes *m = &a->heads;
    const int streaming = m->kv_heads - m->retrieval;
    /* The maps of a kind with no heads are copies of the other kind's
     * (its views may be empty: zz_prefill_fused's contract); no block
     * reads them. */
    const bool full_keys = a->keys_model_order || m->retrieval > 0;
    const bool stream_keys = !a->keys_model_order && streaming > 0;
    CUtensorMap q_map, k_full, v_full, k_stream, v_stream;
    if ((rc = view_map(&q_map, a->q, a->batch, a->q_len, D))) return rc;
    if (full_keys && ((rc = view_map(&k_full, a->k_full, a->batch, a->q_pos0 + a->q_len, D)) ||
                      (rc = view_map(&v_full, a->v_full, a->batch, a->q_pos0 + a->q_len, D))))
        return rc;
    if (stream_keys && ((rc = view_map(&k_stream, a->k_stream, a->batch, a->q_pos0_stream + a->q_len, D)) ||
                        (rc = view_map(&v_stream, a->v_stream, a->batch, a->q_pos0_stream + a->q_len, D))))
        return rc;
    if (!full_keys) k_full = k_stream, v_full = v_stream;
    if (!stream_keys) k_stream = k_full, v_stream = v_full;  /* a single shot: both kinds, one tensor */

    HopperFusedParams p;
    p.out = hopper_out(a->o, a->q_len, D);
    p.q_pos0 = a->q_pos0;
    p.q_pos0_stream = a->keys_model_order ? a->q_pos0 : a->q_pos0_stream;
    p.group = a->q.heads / m->kv_heads, p.batch = a->batch;
    p.keys_model_order = a->keys_model_order;
    p.streaming = a->streaming;
    p.heads = *m;
    unsigned blocks = 0;
    if ((rc = hopper_grid(a->q_len, a->batch, a->q.heads, &p.row_tiles, &blocks))) return rc;
    prefill_hopper_fused_kernel<D><<<blocks, HP_THREADS, HopperSmem<D>::BYTES, stream>>>(
        q_map, k_full, v_full, k_stream, v_stream, p);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

extern "C" int zz_prefill_fused_hopper(const zz_prefill_fused_args *a, cudaStream_t stream) {
    int rc = zz_check_prefill_fused(a);
    if (rc || (rc = require_hopper())) return rc;
    return a->head_dim == 128 ? launch_prefill_fused_hopper<128>(a, stream)
                              : launch_prefill_fused_hopper<64>(a, stream);
}
