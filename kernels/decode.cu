/* Decode attention: split-KV ("flash-decoding", Dao et al. 2023) + combine,
 * in two variants (harness/plan/variants.c):
 *
 *   split-combine  decode_split_kernel, then combine_kernel when split; the
 *                  new token's K/V written before by cache_write_kernel
 *                  (cache.cu). Three launches per head group and layer.
 *   one-launch     decode_one_launch_kernel: the same split kernel, with the
 *                  combine and the cache append folded in. One launch.
 *
 * One new query token per sequence reads a cache of up to hundreds of
 * thousands of keys: the work is all memory traffic (K and V once), so the
 * kernel is about keeping enough bytes in flight on every SM.
 *
 *   - The grid is (split, KV head, batch): a long cache is cut into splits so
 *     that about two blocks run per SM even at batch 1.
 *   - All query heads of a GQA group share their KV head, so they are packed
 *     as the rows of one 16-row mma tile (rows past the group are zero): each
 *     K/V byte is read once for the whole group, and the dot products run on
 *     tensor cores, leaving the memory system as the only limit.
 *   - K/V tiles of 64 keys stream through a three-stage cp.async pipeline;
 *     each of the four warps takes 16 keys of a tile with its own online
 *     softmax, and the warps' partial results merge in shared memory at the
 *     end.
 *   - With one split the block writes the bf16 output itself; otherwise it
 *     writes a float partial output and its log-sum-exp, and the splits are
 *     reduced by combine_kernel (split-combine) or by the last split block
 *     of each (batch, KV head) to finish (one-launch).
 *
 * The same kernels serve the full cache (slots 0..pos) and the streaming
 * cache (sink slots + a ring of recent slots): decode attends every valid
 * slot, and softmax does not care about the ring's order.
 * CPU reference: ref_attention_decode_full / _streaming in reference.c.
 */
#include <math.h>
#include "common.cuh"

#define DECODE_WARPS 4
#define DECODE_TILE ZZ_DECODE_TILE   /* keys per pipeline stage: 16 per warp */
#define DECODE_STAGES 3

struct DecodeParams {
    AttnTensors t;
    float *part_o;      /* [batch][q_heads][splits][D] */
    float *part_lse;    /* [batch][q_heads][splits], log2 units */
    int q_heads, kv_len, split_keys, splits;
    float scale_log2;
};

template <int D>
__device__ __forceinline__ void load_decode_tile(__nv_bfloat16 *sK, __nv_bfloat16 *sV, const __nv_bfloat16 *k,
                                                 const __nv_bfloat16 *v, long long k_ts, long long v_ts, int valid) {
    constexpr int CHUNKS = D / 8;
    for (int c = threadIdx.x; c < DECODE_TILE * CHUNKS; c += blockDim.x) {
        int row = c / CHUNKS, chunk = c % CHUNKS;
        bool ok = row < valid;
        cp_async16(sK + swizzle(row, chunk, D), ok ? k + row * k_ts + chunk * 8 : k, ok ? 16 : 0);
        cp_async16(sV + swizzle(row, chunk, D), ok ? v + row * v_ts + chunk * 8 : v, ok ? 16 : 0);
    }
}

/* One warp's 16 keys of a landed tile (tK, tV: one pipeline stage): the
 * group's scores on tensor cores, keys past `valid` (those of the warp's 16
 * that exist) masked, the online softmax state (row_max, row_sum, acc)
 * updated and P·V accumulated. */
template <int D>
__device__ __forceinline__ void attend_tile(const __nv_bfloat16 *tK, const __nv_bfloat16 *tV,
                                            const uint32_t (&qf)[D / 16][4], float (&acc)[D / 8][4],
                                            float (&row_max)[2], float (&row_sum)[2], int valid, float scale_log2,
                                            int warp, int lane) {
    const int key0 = warp * 16;  /* this warp's 16 keys of the tile */
    float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        uint32_t bk[4];
        ldmatrix_x4(bk, tK + swizzle(key0 + (lane % 8) + (lane / 16) * 8, kk * 2 + (lane / 8) % 2, D));
        mma_bf16_16816(s[0], qf[kk], bk[0], bk[1]);
        mma_bf16_16816(s[1], qf[kk], bk[2], bk[3]);
    }
    if (valid < 16) {
#pragma unroll
        for (int j = 0; j < 2; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                if (j * 8 + (lane % 4) * 2 + (e & 1) >= valid) s[j][e] = -INFINITY;
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float mx = quad_max(fmaxf(fmaxf(row_max[r], fmaxf(s[0][2 * r], s[0][2 * r + 1])),
                                  fmaxf(s[1][2 * r], s[1][2 * r + 1])));
        float base = softmax_base(mx, scale_log2);
        float correction = fast_exp2(row_max[r] * scale_log2 - base);
        row_max[r] = mx;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < 2; j++) {
            s[j][2 * r] = fast_exp2(fmaf(s[j][2 * r], scale_log2, -base));
            s[j][2 * r + 1] = fast_exp2(fmaf(s[j][2 * r + 1], scale_log2, -base));
            sum += s[j][2 * r] + s[j][2 * r + 1];
        }
        row_sum[r] = row_sum[r] * correction + sum;
#pragma unroll
        for (int j = 0; j < D / 8; j++) {
            acc[j][2 * r] *= correction;
            acc[j][2 * r + 1] *= correction;
        }
    }
    uint32_t pa[4] = {pack_bf16x2(s[0][0], s[0][1]), pack_bf16x2(s[0][2], s[0][3]),
                      pack_bf16x2(s[1][0], s[1][1]), pack_bf16x2(s[1][2], s[1][3])};
#pragma unroll
    for (int dn = 0; dn < D / 16; dn++) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, tV + swizzle(key0 + (lane % 8) + ((lane / 8) % 2) * 8, dn * 2 + lane / 16, D));
        mma_bf16_16816(acc[2 * dn], pa, bv[0], bv[1]);
        mma_bf16_16816(acc[2 * dn + 1], pa, bv[2], bv[3]);
    }
}

/* Merge the four warps, first half: each publishes its max, sum and
 * accumulator for the group's rows into shared memory (the K/V stages,
 * free once the pipeline has drained): wO [warp][row][D], wMax and wSum
 * [warp][row]. The block must then synchronise. */
template <int D>
__device__ __forceinline__ void publish_warp(float *wO, float *wMax, float *wSum, const float (&acc)[D / 8][4],
                                             const float (&row_max)[2], const float (&row_sum)[2], int warp,
                                             int lane) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int row = lane / 4 + 8 * r;
        float l = quad_sum(row_sum[r]);
        if (lane % 4 == 0) {
            wMax[warp * 16 + row] = row_max[r];
            wSum[warp * 16 + row] = l;
        }
#pragma unroll
        for (int j = 0; j < D / 8; j++) {
            float *dst = wO + (warp * 16 + row) * D + j * 8 + (lane % 4) * 2;
            dst[0] = acc[j][2 * r];
            dst[1] = acc[j][2 * r + 1];
        }
    }
}

/* Merge the four warps, second half: element d of row `row` of the
 * block's output, unnormalised (*o), with its row's softmax sum (*l);
 * returns the row's exponent offset (softmax_base), so that the block's
 * log-sum-exp is base + log2(l) and its output o / l. */
template <int D>
__device__ __forceinline__ float merge_warps(const float *wO, const float *wMax, const float *wSum, int row, int d,
                                             float scale_log2, float *o, float *l) {
    float mx = -INFINITY;
    for (int w = 0; w < DECODE_WARPS; w++) mx = fmaxf(mx, wMax[w * 16 + row]);
    float base = softmax_base(mx, scale_log2);
    *o = 0.f, *l = 0.f;
    for (int w = 0; w < DECODE_WARPS; w++) {
        float scale = fast_exp2(wMax[w * 16 + row] * scale_log2 - base);
        *o += scale * wO[(w * 16 + row) * D + d];
        *l += scale * wSum[w * 16 + row];
    }
    return base;
}

/* Programmatic dependent launch (sm_90): the kernel after this one may be
 * scheduled now; and this one waits here until the kernel before it has
 * completed and its writes are visible (no-ops without a dependency). */
__device__ __forceinline__ void dependents_may_launch() {
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_prerequisite_grid() {
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

struct AppendParams {
    DecodeParams d;                        /* d.t.k, d.t.v: the cache, read */
    __nv_bfloat16 *cache_k, *cache_v;      /* the same cache, where the new token is written */
    const __nv_bfloat16 *new_k, *new_v;    /* the new token: (b, kv head h) at new_k + b * new_k_bs + h * D */
    long long new_k_bs, new_v_bs;
    int new_slot;                          /* its cache slot */
    int *tickets;                          /* [batch][kv heads] splits done, 0 between launches */
};

/* One split block: its keys [split * split_keys, ...) of one (batch, KV
 * head), through the tile pipeline, then its output (one split) or its
 * partial output and log-sum-exp. APPEND (one-launch): a.new_k / a.new_v
 * are the token of position a.new_slot, which this launch appends; the
 * block whose split holds that slot writes it into the cache first and
 * then reads it back with its tiles, so the loop is split-combine's,
 * unchanged (a loader that picked the row from the new-token input ran
 * 8-12 % slower on the H200). The kernel is a programmatic dependent of
 * the one before: the cache is not that kernel's output, so the other
 * blocks stream theirs at once; Q, the new token and every write of this
 * launch wait for it (griddepcontrol.wait). */
/* What one split block works on: keys [split * split_keys, ...) of the
 * cache head `cache_head` of sequence b, for the query heads of model KV
 * head `model_kv` (its GQA group, in q, o and the new token). The two
 * differ only when a launch's cache holds a subset of the model's heads
 * (duo-fused). Partial outputs go to slot (b, query head) * part_stride +
 * split. */
struct SplitItem {
    int split, cache_head, model_kv, b, part_stride;
};

/* The item of a block of the (split, KV head, batch) grids. */
__device__ __forceinline__ SplitItem grid_item(int part_stride) {
    return SplitItem{(int)blockIdx.x, (int)blockIdx.y, (int)blockIdx.y, (int)blockIdx.z, part_stride};
}

template <int D, bool APPEND>
__device__ __forceinline__ void attend_split(const AppendParams &a, const SplitItem &it) {
    const DecodeParams &p = a.d;
    constexpr int CHUNKS = D / 8;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    __nv_bfloat16 *sQ = reinterpret_cast<__nv_bfloat16 *>(smem_raw);   /* 16 rows */
    __nv_bfloat16 *sK = sQ + 16 * D;
    __nv_bfloat16 *sV = sK + DECODE_STAGES * DECODE_TILE * D;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int split = it.split, kv_head = it.cache_head, b = it.b;
    const int head0 = it.model_kv * p.t.group;
    const int key_begin = split * p.split_keys;
    const int key_end = min(key_begin + p.split_keys, p.kv_len);
    const int ntiles = (key_end - key_begin + DECODE_TILE - 1) / DECODE_TILE;

    const __nv_bfloat16 *q = p.t.q + b * p.t.q_bs + (long long)head0 * D;
    const __nv_bfloat16 *k = p.t.k + b * p.t.k_bs + (long long)kv_head * D + key_begin * p.t.k_ts;
    const __nv_bfloat16 *v = p.t.v + b * p.t.v_bs + (long long)kv_head * D + key_begin * p.t.v_ts;

    /* Prologue: the first STAGES-1 tiles, one commit group each. */
    auto prologue = [&]() {
#pragma unroll
        for (int s = 0; s < DECODE_STAGES - 1; s++) {
            if (s < ntiles)
                load_decode_tile<D>(sK + s * DECODE_TILE * D, sV + s * DECODE_TILE * D,
                                    k + s * DECODE_TILE * p.t.k_ts, v + s * DECODE_TILE * p.t.v_ts, p.t.k_ts,
                                    p.t.v_ts, key_end - key_begin - s * DECODE_TILE);
            cp_async_commit();
        }
    };
    if constexpr (APPEND) {
        const bool holds_new = a.new_slot >= key_begin && a.new_slot < key_end;
        dependents_may_launch();
        if (!holds_new) prologue();
        wait_for_prerequisite_grid();
        if (holds_new) {
            if (threadIdx.x < 2 * CHUNKS) {  /* the append: 16 bytes a thread */
                const int chunk = threadIdx.x % CHUNKS, is_v = threadIdx.x >= CHUNKS;
                __nv_bfloat16 *dst = is_v ? a.cache_v + b * p.t.v_bs + a.new_slot * p.t.v_ts
                                          : a.cache_k + b * p.t.k_bs + a.new_slot * p.t.k_ts;
                const __nv_bfloat16 *src = (is_v ? a.new_v + b * a.new_v_bs : a.new_k + b * a.new_k_bs);
                *reinterpret_cast<uint4 *>(dst + (long long)kv_head * D + chunk * 8) =
                    *reinterpret_cast<const uint4 *>(src + (long long)it.model_kv * D + chunk * 8);
            }
            __syncthreads();  /* the slot written before any thread of the block reads it */
            prologue();
        }
    } else {
        prologue();
    }
    /* Q in a commit group of its own, after the prologue's: the first
     * iteration waits for every group. */
    for (int c = threadIdx.x; c < 16 * CHUNKS; c += blockDim.x) {
        int row = c / CHUNKS, chunk = c % CHUNKS;
        bool ok = row < p.t.group;
        cp_async16(sQ + swizzle(row, chunk, D), ok ? q + row * D + chunk * 8 : q, ok ? 16 : 0);
    }
    cp_async_commit();

    uint32_t qf[D / 16][4];
    float acc[D / 8][4];
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
#pragma unroll
    for (int j = 0; j < D / 8; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;

    for (int t = 0; t < ntiles; t++) {
        if (t == 0)
            cp_async_wait<0>();  /* Q too */
        else
            cp_async_wait<DECODE_STAGES - 2>();
        __syncthreads();  /* tile t landed; every warp is done with tile t-1's stage */
        int next = t + DECODE_STAGES - 1;
        if (next < ntiles) {
            int s = next % DECODE_STAGES;
            load_decode_tile<D>(sK + s * DECODE_TILE * D, sV + s * DECODE_TILE * D, k + next * DECODE_TILE * p.t.k_ts,
                                v + next * DECODE_TILE * p.t.v_ts, p.t.k_ts, p.t.v_ts,
                                key_end - key_begin - next * DECODE_TILE);
        }
        cp_async_commit();
        if (t == 0) {
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
                ldmatrix_x4(qf[kk], sQ + swizzle((lane % 8) + ((lane / 8) % 2) * 8, kk * 2 + lane / 16, D));
        }
        attend_tile<D>(sK + (t % DECODE_STAGES) * DECODE_TILE * D, sV + (t % DECODE_STAGES) * DECODE_TILE * D, qf,
                       acc, row_max, row_sum, key_end - key_begin - t * DECODE_TILE - warp * 16, p.scale_log2, warp,
                       lane);
    }
    cp_async_wait<0>();
    if constexpr (!APPEND) dependents_may_launch();  /* the combine kernel: it waits for our results */
    __syncthreads();

    float *wO = reinterpret_cast<float *>(sK);             /* [warp][row][D] */
    float *wMax = wO + DECODE_WARPS * 16 * D;              /* [warp][row] */
    float *wSum = wMax + DECODE_WARPS * 16;
    publish_warp<D>(wO, wMax, wSum, acc, row_max, row_sum, warp, lane);
    __syncthreads();
    for (int i = threadIdx.x; i < p.t.group * D; i += blockDim.x) {
        int row = i / D, d = i % D;
        float o, l;
        float base = merge_warps<D>(wO, wMax, wSum, row, d, p.scale_log2, &o, &l);
        int head = head0 + row;
        if (p.splits == 1) {
            p.t.o[b * p.t.o_bs + (long long)head * D + d] = __float2bfloat16(o / l);
        } else {
            long long slot = ((long long)b * p.q_heads + head) * it.part_stride + split;
            p.part_o[slot * D + d] = o / l;
            if (d == 0) p.part_lse[slot] = base + log2f(l);
        }
    }
}

template <int D>
__global__ void __launch_bounds__(DECODE_WARPS * 32, 2)
decode_split_kernel(AppendParams a) {  /* a.d only: nothing is appended */
    attend_split<D, false>(a, grid_item(a.d.splits));
}

/* One (batch, query head)'s splits reduced by one warp: out = sum_s w_s o_s
 * / sum_s w_s, w_s = 2^(lse_s - max lse), the partials at slots slot0 ..
 * slot0 + splits - 1 of part_o / part_lse, the bf16 result at dst (D
 * elements). The lanes first share the splits' lse (max and weights by
 * shuffles), then each lane owns D/32 adjacent elements and reads them as
 * one vector per split, so a split costs one load per lane, not D/32.
 * Loads go to L2 (__ldcg), where the other blocks' fenced stores are: the
 * one-launch combine reads partials written by other SMs in its launch. */
template <int D>
__device__ __forceinline__ void combine_head(const float *part_o, const float *part_lse, int splits, long long slot0,
                                             __nv_bfloat16 *dst, int lane) {
    constexpr int PER_LANE = D / 32;
    float mx = -INFINITY;
    for (int s = lane; s < splits; s += 32) mx = fmaxf(mx, __ldcg(part_lse + slot0 + s));
#pragma unroll
    for (int off = 16; off; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, off));

    float o[PER_LANE] = {}, total = 0.f;
    for (int s0 = 0; s0 < splits; s0 += 32) {
        int s = s0 + lane;
        float w_mine = s < splits ? fast_exp2(__ldcg(part_lse + slot0 + s) - mx) : 0.f;
        int n = min(32, splits - s0);
        /* All 32 splits' loads are issued before the first is used: the
         * loop is latency-bound otherwise (one L2 round trip per split),
         * and in one-launch this loop is the kernel's tail. */
        float vals[32][PER_LANE];
#pragma unroll
        for (int i = 0; i < 32; i++) {
            const float *src = part_o + (slot0 + s0 + min(i, n - 1)) * D + lane * PER_LANE;
            if constexpr (PER_LANE == 4) {
                float4 v4 = __ldcg(reinterpret_cast<const float4 *>(src));
                vals[i][0] = v4.x, vals[i][1] = v4.y, vals[i][2] = v4.z, vals[i][3] = v4.w;
            } else {
                float2 v2 = __ldcg(reinterpret_cast<const float2 *>(src));
                vals[i][0] = v2.x, vals[i][1] = v2.y;
            }
        }
#pragma unroll
        for (int i = 0; i < 32; i++) {
            float w = i < n ? __shfl_sync(0xffffffff, w_mine, i) : 0.f;
#pragma unroll
            for (int e = 0; e < PER_LANE; e++) o[e] += w * vals[i][e];
            total += w;
        }
    }
#pragma unroll
    for (int e = 0; e < PER_LANE; e += 2)
        *reinterpret_cast<uint32_t *>(dst + e) = pack_bf16x2(o[e] / total, o[e + 1] / total);
}

/* One warp per (batch, head), combine_head. Launched as a programmatic
 * dependent of the split kernel: it starts while the split kernel drains
 * and waits for its results at griddepcontrol.wait, which hides most of the
 * second launch. */
#define COMBINE_WARPS 4
template <int D>
__global__ void __launch_bounds__(COMBINE_WARPS * 32) combine_kernel(DecodeParams p, int batch) {
    wait_for_prerequisite_grid();
    const int lane = threadIdx.x % 32;
    const int pair = blockIdx.x * COMBINE_WARPS + threadIdx.x / 32;  /* b * q_heads + head */
    if (pair >= batch * p.q_heads) return;
    const int b = pair / p.q_heads, head = pair % p.q_heads;
    combine_head<D>(p.part_o, p.part_lse, p.splits, (long long)pair * p.splits,
                    p.t.o + b * p.t.o_bs + (long long)head * D + lane * (D / 32), lane);
}

/* ---- one-launch (issue 14): split, combine and cache append in one kernel ----
 *
 * What it changes against split-combine, and why. A decode step of a head
 * group was three launches: the cache write (~2 us, pure latency), the
 * split kernel and the combine (4.7-6.9 us on the H200 at B 1, mostly its
 * launch and its wait on the split kernel); duo's mixed layers run two head
 * groups, so six. Here one launch does all three:
 *   - the split blocks are decode_split_kernel's: one body, attend_split
 *     (same tiles, pipeline, mma and online softmax);
 *   - the new token: the block whose split holds its slot (full cache:
 *     slot pos; streaming: its ring slot, ref_cache_slot's) stores it in
 *     the cache, as cache_write_kernel did, and then attends it with the
 *     rest of its tiles; no other block reads that slot;
 *   - the launch is a programmatic dependent of the kernel before it
 *     (griddepcontrol): its blocks start streaming their cache while that
 *     kernel drains, which hides most of the launch and the ramp;
 *   - the combine is the last split block of each (batch, KV head) to
 *     finish: every split block writes its partials, fences them
 *     (__threadfence) and takes a ticket from a per-(batch, KV head)
 *     counter; the block that draws splits - 1 has seen every partial, so
 *     it reduces them (combine_head, one warp per query head of the group)
 *     and resets the counter to 0 for the next launch;
 *   - the splits come from the wave rule (zz_decode_wave_splits) with the
 *     blocks this kernel really keeps resident per SM (the occupancy API):
 *     the default rule of split-combine counts every block as resident.
 *     A streaming window (sink + recent, a few hundred keys) is split by
 *     the same rule: as one split it ran at 11.4 us against 7.2 with six
 *     (H200, B 1, 8 KV heads; kernels/NOTES.md).
 * Prediction (kernels/NOTES.md, "one-launch"): at S 128K, B 1, 4 KV heads,
 * 268 MB of K/V at the H200's copy ceiling (4.2 TB/s) take 64 us, where
 * split-combine took 95 us + a combine + a cache write. */

/* After attend_split with several splits: the block takes its (sequence,
 * model KV head)'s ticket, and the one that takes the last reduces the
 * `splits` partials into the output and resets the ticket. Every thread's
 * partials are visible GPU-wide before the block takes its ticket, so the
 * last block sees every split's. */
template <int D>
__device__ __forceinline__ void combine_when_last(const DecodeParams &p, const SplitItem &it, int splits,
                                                  int *ticket) {
    __shared__ int last_block;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        last_block = atomicAdd(ticket, 1) == splits - 1;
        if (last_block) *ticket = 0;  /* every split has drawn: ready for the next launch */
        __threadfence();              /* the other splits' partials, after their tickets */
    }
    __syncthreads();
    if (!last_block) return;
    for (int row = warp; row < p.t.group; row += DECODE_WARPS) {
        const int head = it.model_kv * p.t.group + row;
        combine_head<D>(p.part_o, p.part_lse, splits, ((long long)it.b * p.q_heads + head) * it.part_stride,
                        p.t.o + it.b * p.t.o_bs + (long long)head * D + lane * (D / 32), lane);
    }
}

template <int D>
__global__ void __launch_bounds__(DECODE_WARPS * 32, 2)
decode_one_launch_kernel(AppendParams a) {
    const SplitItem it = grid_item(a.d.splits);
    attend_split<D, true>(a, it);
    if (a.d.splits > 1) combine_when_last<D>(a.d, it, a.d.splits, a.tickets + (long long)it.b * gridDim.y + it.model_kv);
}

/* ---- duo-fused: a mixed layer's two head kinds in one launch (issue 15) ----
 *
 * What it changes against one-launch, and why. A DuoAttention layer ran as
 * two launches (retrieval heads, streaming heads), each paying the fixed
 * 9-10 us of a decode launch on the H200 (ramp, combine tail, the wait of a
 * dependent launch; kernels/NOTES.md), plus, in duo-cat, a copy joining
 * their outputs. Here one 1-D grid serves both: its first blocks are the
 * retrieval heads' splits (the long work, scheduled first), the rest the
 * streaming heads' window splits, which fill the tail; each block reads its
 * head's own cache and writes the model-order output, so there is nothing
 * to join. The split sizes of both kinds come from one rule
 * (zz_decode_fused_splits), so the blocks of the two kinds carry about the
 * same keys. The block body and the combine are one-launch's. */
struct FusedParams {
    AppendParams full, stream;  /* per kind: its cache, splits, keys, new slot; q, o, new token in model order */
    int batch, retrieval, streaming, kv_heads;
    unsigned order_words[ZZ_FUSED_MAX_KV_HEADS / 4];  /* zz_head_modes.order, four heads a word */
};

/* order[index] without indexing the parameter array at run time (that would
 * copy it to local memory): an unrolled select, once per thread. */
__device__ __forceinline__ int model_kv_head(const FusedParams &f, int index) {
    unsigned word = 0;
#pragma unroll
    for (int w = 0; w < ZZ_FUSED_MAX_KV_HEADS / 4; w++)
        if (w == index / 4) word = f.order_words[w];
    return (word >> (8 * (index % 4))) & 0xff;
}

template <int D>
__global__ void __launch_bounds__(DECODE_WARPS * 32, 2)
decode_fused_kernel(FusedParams f) {
    const int part_stride = max(f.full.d.splits, f.stream.d.splits);
    const long long full_blocks = (long long)f.batch * f.retrieval * f.full.d.splits;
    const long long i = blockIdx.x;
    SplitItem it;
    it.part_stride = part_stride;
    if (i < full_blocks) {
        it.split = (int)(i % f.full.d.splits);
        const long long rest = i / f.full.d.splits;
        it.cache_head = (int)(rest % f.retrieval), it.b = (int)(rest / f.retrieval);
        it.model_kv = model_kv_head(f, it.cache_head);
        attend_split<D, true>(f.full, it);
        if (f.full.d.splits > 1)
            combine_when_last<D>(f.full.d, it, f.full.d.splits, f.full.tickets + (long long)it.b * f.kv_heads + it.model_kv);
    } else {
        const long long j = i - full_blocks;
        it.split = (int)(j % f.stream.d.splits);
        const long long rest = j / f.stream.d.splits;
        it.cache_head = (int)(rest % f.streaming), it.b = (int)(rest / f.streaming);
        it.model_kv = model_kv_head(f, f.retrieval + it.cache_head);
        attend_split<D, true>(f.stream, it);
        if (f.stream.d.splits > 1)
            combine_when_last<D>(f.stream.d, it, f.stream.d.splits,
                                 f.stream.tickets + (long long)it.b * f.kv_heads + it.model_kv);
    }
}

extern "C" int zz_decode_keys(const zz_decode_args *a) {
    int keys = a->pos + 1;
    if (a->mask.kind == ZZ_MASK_STREAMING && keys > a->mask.sink + a->mask.recent)
        keys = a->mask.sink + a->mask.recent;
    return keys;
}

/* Keys per split, rounded to whole tiles, for a requested split count. */
extern "C" int zz_decode_split_keys(int kv_len, int splits) {
    int keys = (kv_len + splits - 1) / splits;
    return (keys + DECODE_TILE - 1) / DECODE_TILE * DECODE_TILE;
}

/* The splits a request for `want` really gives: whole-tile splits can
 * cover the keys in fewer. */
static int splits_for(int kv_len, int want) {
    int keys = zz_decode_split_keys(kv_len, want);
    return (kv_len + keys - 1) / keys;
}

static int effective_splits(const zz_decode_args *a, int sm_count) {
    int want = a->num_splits > 0 ? a->num_splits : zz_decode_default_splits(a, sm_count);
    return splits_for(zz_decode_keys(a), want);
}

/* A memory-bound kernel is as fast as its busiest SM: choose the fewest
 * splits whose blocks spread evenly over the SMs (the average SM holds at
 * least 95 % of the busiest one's blocks; else the most even count), with
 * splits of at most MAX_SPLIT_KEYS keys so every SM has several blocks'
 * worth of bytes in flight, and at least one tile each. A short cache is
 * bound by the bytes one SM can keep in flight, not by the combine, so it
 * is split too (kernels/NOTES.md, "Decode": the split-count sweep, v3). */
#define MAX_SPLIT_KEYS 8192
extern "C" int zz_decode_default_splits(const zz_decode_args *a, int sm_count) {
    int keys = zz_decode_keys(a), pairs = a->batch * a->k.heads;
    int most = (keys + DECODE_TILE - 1) / DECODE_TILE;
    int least = (keys + MAX_SPLIT_KEYS - 1) / MAX_SPLIT_KEYS;
    if (least > most) least = most;
    int best = least;
    double best_balance = 0.0;
    for (int want = least; want <= most; want++) {
        const int splits = splits_for(keys, want);
        long long blocks = (long long)pairs * splits;
        long long per_sm = (blocks + sm_count - 1) / sm_count;
        double balance = (double)blocks / (double)(per_sm * sm_count);
        if (balance >= 0.95) return splits;
        if (balance > best_balance) best = splits, best_balance = balance;
    }
    return best;
}

/* attention.h. A request for `want` splits that tile rounding turns into
 * fewer is the same grid as that smaller request: only counts that survive
 * the rounding are tried. */
#define WAVE_BUSY 0.95
extern "C" int zz_decode_wave_splits(int sm_count, int resident, long long pairs, int keys) {
    if (sm_count < 1 || resident < 1 || pairs < 1 || keys < 1) return 1;
    const double slots = (double)sm_count * resident;
    const int tiles = (keys + DECODE_TILE - 1) / DECODE_TILE;
    int best = 1;
    double best_busy = -1.0;
    for (int splits = 1; splits <= tiles; splits++) {
        if (splits_for(keys, splits) != splits) continue;
        const double waves = ceil((double)pairs * splits / slots);
        const double busy = (double)pairs * keys / (waves * slots * zz_decode_split_keys(keys, splits));
        if (busy >= WAVE_BUSY) return splits;
        if (busy > best_busy) best = splits, best_busy = busy;
    }
    return best;
}

extern "C" size_t zz_decode_workspace_bytes(const zz_decode_args *a, int sm_count) {
    int splits = effective_splits(a, sm_count);
    if (splits == 1) return 0;
    return (size_t)a->batch * a->q.heads * splits * (a->head_dim + 1) * sizeof(float);
}

/* Shared memory of a decode block: Q's 16 rows and the K/V stages. */
static size_t decode_smem(int head_dim) {
    return (size_t)(16 + 2 * DECODE_STAGES * DECODE_TILE) * head_dim * sizeof(__nv_bfloat16);
}

/* A decode kernel may use decode_smem(D) of dynamic shared memory: set once
 * per kernel (*set), before its first launch and before the occupancy API
 * is asked about it. */
template <int D, typename Params>
static int allow_decode_smem(void (*kernel)(Params), bool *set) {
    if (!*set) ZZ_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)decode_smem(D)));
    *set = true;
    return ZZ_OK;
}

/* Launches kernel<<<grid, threads, smem, stream>>>(args...) as a
 * programmatic dependent of the kernel before it on the stream: it may be
 * scheduled while that one drains (it waits at griddepcontrol.wait). */
template <typename... KernelArgs, typename... Args>
static cudaError_t launch_dependent(void (*kernel)(KernelArgs...), dim3 grid, int threads, size_t smem,
                                    cudaStream_t stream, Args... args) {
    cudaLaunchAttribute overlap;
    overlap.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    overlap.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = grid;
    config.blockDim = dim3(threads);
    config.dynamicSmemBytes = smem;
    config.stream = stream;
    config.attrs = &overlap;
    config.numAttrs = 1;
    return cudaLaunchKernelEx(&config, kernel, args...);
}

/* A decode launch's parameters for `splits` splits, its partials in
 * `workspace`: what both variants' kernels read. */
static DecodeParams decode_params(const zz_decode_args *a, int splits, void *workspace) {
    DecodeParams p;
    p.t = attn_tensors(a->q, a->k, a->v, a->o);
    p.q_heads = a->q.heads;
    p.kv_len = zz_decode_keys(a);
    p.splits = splits;
    p.split_keys = zz_decode_split_keys(p.kv_len, p.splits);
    p.part_o = static_cast<float *>(workspace);
    p.part_lse = p.part_o + (size_t)a->batch * a->q.heads * p.splits * a->head_dim;
    p.scale_log2 = 1.4426950408889634f / sqrtf((float)a->head_dim);
    return p;
}

template <int D>
static int launch_decode(const zz_decode_args *a, void *workspace, int sm_count, cudaStream_t stream) {
    static bool smem_allowed = false;
    int rc = allow_decode_smem<D>(decode_split_kernel<D>, &smem_allowed);
    if (rc) return rc;
    const DecodeParams p = decode_params(a, effective_splits(a, sm_count), workspace);
    ZZ_REQUIRE(p.splits == 1 || workspace != NULL, "decode with %d splits needs a workspace", p.splits);
    ZZ_REQUIRE(p.splits <= 65535, "%d splits", p.splits);

    dim3 grid(p.splits, a->k.heads, a->batch);
    AppendParams split_only = {};
    split_only.d = p;
    decode_split_kernel<D><<<grid, DECODE_WARPS * 32, decode_smem(D), stream>>>(split_only);
    ZZ_CHECK_LAUNCH();
    if (p.splits > 1)
        ZZ_CUDA(launch_dependent(combine_kernel<D>, dim3((a->batch * a->q.heads + COMBINE_WARPS - 1) / COMBINE_WARPS),
                                 COMBINE_WARPS * 32, 0, stream, p, a->batch));
    return ZZ_OK;
}

extern "C" int zz_decode_attention(const zz_decode_args *a, void *workspace, int sm_count, cudaStream_t stream) {
    ZZ_REQUIRE(a->pos >= 0 && sm_count >= 1, "pos %d, sm_count %d", a->pos, sm_count);
    int rc = zz_check_attention(a->q, a->k, a->v, a->o, a->batch, a->head_dim, 1, zz_decode_keys(a), a->mask);
    if (rc) return rc;
    ZZ_REQUIRE(a->q.heads / a->k.heads <= 16, "GQA group %d: decode packs at most 16 query heads per KV head",
               a->q.heads / a->k.heads);
    return a->head_dim == 128 ? launch_decode<128>(a, workspace, sm_count, stream)
                              : launch_decode<64>(a, workspace, sm_count, stream);
}

/* ---- one-launch ---- */

/* The one-launch kernel's shared memory, allowed once per head dim. */
template <int D>
static int allow_one_launch_smem(void) {
    static bool set = false;
    return allow_decode_smem<D>(decode_one_launch_kernel<D>, &set);
}

extern "C" int zz_decode_one_launch_resident(int head_dim, int *resident) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "head_dim %d (need 64 or 128)", head_dim);
    int rc = head_dim == 128 ? allow_one_launch_smem<128>() : allow_one_launch_smem<64>();
    if (rc) return rc;
    const void *kernel = head_dim == 128 ? (const void *)decode_one_launch_kernel<128>
                                         : (const void *)decode_one_launch_kernel<64>;
    ZZ_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(resident, kernel, DECODE_WARPS * 32, decode_smem(head_dim)));
    ZZ_REQUIRE(*resident >= 1, "decode_one_launch_kernel: no block fits on an SM (%zu bytes of shared memory)",
               decode_smem(head_dim));
    return ZZ_OK;
}

extern "C" int zz_decode_one_launch_splits(const zz_decode_args *a, int sm_count, int resident) {
    const int keys = zz_decode_keys(a);
    if (a->num_splits > 0) return splits_for(keys, a->num_splits);
    return zz_decode_wave_splits(sm_count, resident, (long long)a->batch * a->k.heads, keys);
}

extern "C" size_t zz_decode_one_launch_workspace_bytes(const zz_decode_args *a, int sm_count, int resident) {
    const int splits = zz_decode_one_launch_splits(a, sm_count, resident);
    if (splits == 1) return 0;
    return (size_t)a->batch * a->q.heads * splits * (a->head_dim + 1) * sizeof(float);
}

template <int D>
static int launch_one_launch(const zz_decode_args *a, zz_view new_k, zz_view new_v, void *workspace, int *tickets,
                             int sm_count, int resident, cudaStream_t stream) {
    int rc = allow_one_launch_smem<D>();
    if (rc) return rc;
    AppendParams ap;
    ap.d = decode_params(a, zz_decode_one_launch_splits(a, sm_count, resident), workspace);
    const DecodeParams &p = ap.d;
    ZZ_REQUIRE(p.splits == 1 || (workspace != NULL && tickets != NULL),
               "one-launch decode with %d splits needs a workspace and tickets", p.splits);
    ZZ_REQUIRE(p.splits <= 65535, "%d splits", p.splits);
    ap.cache_k = reinterpret_cast<__nv_bfloat16 *>(a->k.data);
    ap.cache_v = reinterpret_cast<__nv_bfloat16 *>(a->v.data);
    ap.new_k = reinterpret_cast<const __nv_bfloat16 *>(new_k.data);
    ap.new_v = reinterpret_cast<const __nv_bfloat16 *>(new_v.data);
    ap.new_k_bs = new_k.batch_stride, ap.new_v_bs = new_v.batch_stride;
    ap.new_slot = a->mask.kind == ZZ_MASK_STREAMING && a->pos >= a->mask.sink
                      ? a->mask.sink + (a->pos - a->mask.sink) % a->mask.recent
                      : a->pos;
    ap.tickets = tickets;

    ZZ_CUDA(launch_dependent(decode_one_launch_kernel<D>, dim3(p.splits, a->k.heads, a->batch), DECODE_WARPS * 32,
                             decode_smem(D), stream, ap));
    return ZZ_OK;
}

extern "C" int zz_decode_one_launch(const zz_decode_args *a, zz_view new_k, zz_view new_v, void *workspace,
                                    int *tickets, int sm_count, int resident, cudaStream_t stream) {
    ZZ_REQUIRE(a->pos >= 0 && sm_count >= 1 && resident >= 1, "pos %d, sm_count %d, resident %d", a->pos, sm_count,
               resident);
    int rc = zz_check_attention(a->q, a->k, a->v, a->o, a->batch, a->head_dim, 1, zz_decode_keys(a), a->mask);
    if (rc) return rc;
    ZZ_REQUIRE(a->q.heads / a->k.heads <= 16, "GQA group %d: decode packs at most 16 query heads per KV head",
               a->q.heads / a->k.heads);
    ZZ_REQUIRE(new_k.heads == a->k.heads && new_v.heads == a->k.heads, "new token: %d and %d heads, cache %d",
               new_k.heads, new_v.heads, a->k.heads);
    if ((rc = zz_check_view("new_k", new_k, a->batch, 1, a->head_dim)) ||
        (rc = zz_check_view("new_v", new_v, a->batch, 1, a->head_dim)))
        return rc;
    return a->head_dim == 128 ? launch_one_launch<128>(a, new_k, new_v, workspace, tickets, sm_count, resident, stream)
                              : launch_one_launch<64>(a, new_k, new_v, workspace, tickets, sm_count, resident, stream);
}

/* ---- duo-fused ---- */

/* Tiles of the longest block when `keys` keys are cut into `splits`. */
static int split_tiles(int keys, int splits) { return zz_decode_split_keys(keys, splits) / DECODE_TILE; }

/* The makespan, in tiles, of a fused grid: `retrieval` blocks of `lf`
 * tiles, then `streaming` blocks of `lw` tiles (lw <= lf), started in grid
 * order into `slots` slots as slots free up. The retrieval blocks run in
 * waves and end at waves · lf; the streaming blocks first fill the slots
 * their last wave leaves free (from its start on, lf / lw blocks each),
 * and what does not fit there runs on all slots after the last wave
 * (counted from its end: late by less than lw for the blocks that started
 * in the free slots; tests/test_split_rule.c checks it against a
 * slot-by-slot simulation). Every block of a kind counts its kind's
 * longest split. */
static double fused_makespan(double slots, double retrieval, int lf, double streaming, int lw) {
    if (retrieval <= 0) return ceil(streaming / slots) * lw;
    const double waves = ceil(retrieval / slots);
    const double free_slots = waves * slots - retrieval, end = waves * lf;
    if (streaming <= 0) return end;
    const double left = streaming - free_slots * floor((double)lf / lw);
    return left <= 0 ? end : end + ceil(left / slots) * lw;
}

/* attention.h. Retrieval split counts ascend (the real ones, as the wave
 * rule's); each takes the fewest window splits whose blocks are no longer
 * than a retrieval block, so the windows fill the tail. The first count
 * keeping the slots busy >= 95 % over the makespan wins, else the busiest.
 * The makespan (not waves · the longest block, which counted every
 * window block as a whole retrieval block) matters where many streaming
 * heads meet few retrieval ones: Llama-2-7B's 8 + 24 KV heads at 120K
 * fit one wave of 32 splits + 24 windows here, where the wave count had
 * chosen four waves of 129 splits and measured 0.86 ms a step slower than
 * duo-cat's two launches (kernels/NOTES.md, duo-fused). */
extern "C" void zz_decode_fused_splits(int sm_count, int resident, int batch, int retrieval, int keys_full,
                                       int streaming, int keys_window, int *splits_full, int *splits_streaming) {
    const double slots = (double)(sm_count > 0 ? sm_count : 1) * (resident > 0 ? resident : 1);
    const int tiles_f = retrieval > 0 && keys_full > 0 ? (keys_full + DECODE_TILE - 1) / DECODE_TILE : 0;
    const int tiles_w = streaming > 0 && keys_window > 0 ? (keys_window + DECODE_TILE - 1) / DECODE_TILE : 0;
    const double total = (double)batch * ((double)retrieval * tiles_f + (double)streaming * tiles_w);
    *splits_full = *splits_streaming = 1;
    double best = -1.0;
    /* A layer of streaming heads only: the window's splits are the variable. */
    const int counts = tiles_f ? tiles_f : tiles_w;
    for (int n = 1; n <= counts; n++) {
        int nf = 1, ns = n, lf = 0, lw;
        if (tiles_f) {
            if (splits_for(keys_full, n) != n) continue;
            nf = n, lf = split_tiles(keys_full, nf);
            ns = tiles_w ? splits_for(keys_window, (tiles_w + lf - 1) / lf) : 1;
        } else if (splits_for(keys_window, n) != n) {
            continue;
        }
        lw = tiles_w ? split_tiles(keys_window, ns) : 0;
        const double makespan = fused_makespan(slots, (double)batch * retrieval * (tiles_f ? nf : 0), lf,
                                               (double)batch * streaming * (tiles_w ? ns : 0), lw);
        const double busy = total / (slots * makespan);
        if (busy > best) best = busy, *splits_full = nf, *splits_streaming = ns;
        if (busy >= WAVE_BUSY) break;
    }
}

static int fused_keys_window(const zz_decode_fused_args *a) {
    return a->pos + 1 < a->sink + a->recent ? a->pos + 1 : a->sink + a->recent;
}

static void fused_splits(const zz_decode_fused_args *a, int sm_count, int resident, int *nf, int *ns) {
    const int r = a->heads.retrieval, s = a->heads.kv_heads - r;
    if (a->splits_full > 0 && a->splits_streaming > 0) {
        *nf = splits_for(a->pos + 1, a->splits_full), *ns = splits_for(fused_keys_window(a), a->splits_streaming);
        return;
    }
    zz_decode_fused_splits(sm_count, resident, a->batch, r, a->pos + 1, s, fused_keys_window(a), nf, ns);
}

extern "C" size_t zz_decode_fused_workspace_bytes(const zz_decode_fused_args *a, int sm_count, int resident) {
    int nf, ns;
    fused_splits(a, sm_count, resident, &nf, &ns);
    const int stride = nf > ns ? nf : ns;
    if (stride == 1) return 0;
    return (size_t)a->batch * a->q.heads * stride * (a->head_dim + 1) * sizeof(float);
}

/* One kind's AppendParams: q, o and the new token in model order, `cache`
 * its own cache of `cache_heads` heads, `keys` attended, the new token at
 * slot new_slot. */
static AppendParams fused_kind(const zz_decode_fused_args *a, zz_view k, zz_view v, int keys, int splits,
                               int new_slot, void *workspace, int stride, int *tickets) {
    AppendParams ap = {};
    DecodeParams &p = ap.d;
    p.t = attn_tensors(a->q, k, v, a->o);
    p.t.group = a->q.heads / a->heads.kv_heads;
    p.q_heads = a->q.heads;
    p.kv_len = keys;
    p.splits = splits;
    p.split_keys = zz_decode_split_keys(keys, splits);
    p.part_o = static_cast<float *>(workspace);
    p.part_lse = p.part_o + (size_t)a->batch * a->q.heads * stride * a->head_dim;
    p.scale_log2 = 1.4426950408889634f / sqrtf((float)a->head_dim);
    ap.cache_k = reinterpret_cast<__nv_bfloat16 *>(k.data);
    ap.cache_v = reinterpret_cast<__nv_bfloat16 *>(v.data);
    ap.new_k = reinterpret_cast<const __nv_bfloat16 *>(a->new_k.data);
    ap.new_v = reinterpret_cast<const __nv_bfloat16 *>(a->new_v.data);
    ap.new_k_bs = a->new_k.batch_stride, ap.new_v_bs = a->new_v.batch_stride;
    ap.new_slot = new_slot;
    ap.tickets = tickets;
    return ap;
}

template <int D>
static int launch_fused(const zz_decode_fused_args *a, void *workspace, int *tickets, int sm_count, int resident,
                        cudaStream_t stream) {
    static bool smem_set = false;
    int rc = allow_decode_smem<D>(decode_fused_kernel<D>, &smem_set);
    if (rc) return rc;
    const int r = a->heads.retrieval, s = a->heads.kv_heads - r;
    int nf, ns;
    fused_splits(a, sm_count, resident, &nf, &ns);
    const int stride = nf > ns ? nf : ns;
    ZZ_REQUIRE(stride == 1 || (workspace != NULL && tickets != NULL),
               "duo-fused decode with %d / %d splits needs a workspace and tickets", nf, ns);
    FusedParams f = {};
    const int ring_slot = a->pos < a->sink ? a->pos : a->sink + (a->pos - a->sink) % (a->recent > 0 ? a->recent : 1);
    f.full = fused_kind(a, a->k_full, a->v_full, a->pos + 1, nf, a->pos, workspace, stride, tickets);
    f.stream = fused_kind(a, a->k_ring, a->v_ring, fused_keys_window(a), ns, ring_slot, workspace, stride, tickets);
    f.batch = a->batch, f.retrieval = r, f.streaming = s, f.kv_heads = a->heads.kv_heads;
    for (int h = 0; h < a->heads.kv_heads; h++) f.order_words[h / 4] |= (unsigned)a->heads.order[h] << (8 * (h % 4));

    const long long blocks = (long long)a->batch * ((long long)r * nf + (long long)s * ns);
    ZZ_REQUIRE(blocks >= 1 && blocks <= 0x7fffffffLL, "duo-fused decode grid of %lld blocks", blocks);
    ZZ_CUDA(launch_dependent(decode_fused_kernel<D>, dim3((unsigned)blocks), DECODE_WARPS * 32, decode_smem(D), stream,
                             f));
    return ZZ_OK;
}

extern "C" int zz_decode_fused(const zz_decode_fused_args *a, void *workspace, int *tickets, int sm_count,
                               int resident, cudaStream_t stream) {
    const int kv = a->heads.kv_heads, r = a->heads.retrieval, s = kv - r;
    ZZ_REQUIRE(a->pos >= 0 && sm_count >= 1 && resident >= 1, "pos %d, sm_count %d, resident %d", a->pos, sm_count,
               resident);
    ZZ_REQUIRE(a->head_dim == 64 || a->head_dim == 128, "head_dim %d (need 64 or 128)", a->head_dim);
    ZZ_REQUIRE(a->batch >= 1 && a->batch <= 65535, "batch %d (need 1..65535)", a->batch);
    ZZ_REQUIRE(kv >= 1 && kv <= ZZ_FUSED_MAX_KV_HEADS && r >= 0 && r <= kv, "%d KV heads, %d retrieval (need 1..%d, "
               "0..KV heads)", kv, r, ZZ_FUSED_MAX_KV_HEADS);
    unsigned char seen[ZZ_FUSED_MAX_KV_HEADS] = {0};
    for (int h = 0; h < kv; h++) {
        ZZ_REQUIRE(a->heads.order[h] < kv && !seen[a->heads.order[h]], "head order: entry %d (%d) is not a new head "
                   "of 0..%d", h, a->heads.order[h], kv - 1);
        seen[a->heads.order[h]] = 1;
    }
    ZZ_REQUIRE(a->q.heads % kv == 0 && a->q.heads / kv <= 16 && a->o.heads == a->q.heads,
               "q heads %d, o heads %d, %d KV heads: need o = q, a GQA group of at most 16", a->q.heads, a->o.heads,
               kv);
    ZZ_REQUIRE(a->new_k.heads == kv && a->new_v.heads == kv, "new token: %d and %d heads, model %d", a->new_k.heads,
               a->new_v.heads, kv);
    ZZ_REQUIRE(s == 0 || (a->sink >= 0 && a->recent >= 1), "streaming heads need sink >= 0, recent >= 1 (%d, %d)",
               a->sink, a->recent);
    int rc;
    if ((rc = zz_check_view("q", a->q, a->batch, 1, a->head_dim)) ||
        (rc = zz_check_view("o", a->o, a->batch, 1, a->head_dim)) ||
        (rc = zz_check_view("new_k", a->new_k, a->batch, 1, a->head_dim)) ||
        (rc = zz_check_view("new_v", a->new_v, a->batch, 1, a->head_dim)))
        return rc;
    if (r) {
        ZZ_REQUIRE(a->k_full.heads == r && a->v_full.heads == r, "retrieval cache: %d and %d heads, need %d",
                   a->k_full.heads, a->v_full.heads, r);
        if ((rc = zz_check_view("k_full", a->k_full, a->batch, a->pos + 1, a->head_dim)) ||
            (rc = zz_check_view("v_full", a->v_full, a->batch, a->pos + 1, a->head_dim)))
            return rc;
    }
    if (s) {
        ZZ_REQUIRE(a->k_ring.heads == s && a->v_ring.heads == s, "streaming cache: %d and %d heads, need %d",
                   a->k_ring.heads, a->v_ring.heads, s);
        if ((rc = zz_check_view("k_ring", a->k_ring, a->batch, a->sink + a->recent, a->head_dim)) ||
            (rc = zz_check_view("v_ring", a->v_ring, a->batch, a->sink + a->recent, a->head_dim)))
            return rc;
    }
    return a->head_dim == 128 ? launch_fused<128>(a, workspace, tickets, sm_count, resident, stream)
                              : launch_fused<64>(a, workspace, tickets, sm_count, resident, stream);
}
