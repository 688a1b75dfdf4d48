/* Decode attention: split-KV ("flash-decoding", Dao et al. 2023) + combine.
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
 *     writes a float partial output and its log-sum-exp, and combine_kernel
 *     reduces the splits.
 *
 * The same kernel serves the full cache (slots 0..pos) and the streaming
 * cache (sink slots + a ring of recent slots): decode attends every valid
 * slot, and softmax does not care about the ring's order.
 * CPU reference: ref_attention_decode_full / _streaming in reference.c.
 */
#include <math.h>
#include "common.cuh"

#define DECODE_WARPS 4
#define DECODE_TILE 64   /* keys per pipeline stage: 16 per warp */
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

template <int D>
__global__ void __launch_bounds__(DECODE_WARPS * 32)
decode_split_kernel(DecodeParams p) {
    constexpr int CHUNKS = D / 8;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    __nv_bfloat16 *sQ = reinterpret_cast<__nv_bfloat16 *>(smem_raw);   /* 16 rows */
    __nv_bfloat16 *sK = sQ + 16 * D;
    __nv_bfloat16 *sV = sK + DECODE_STAGES * DECODE_TILE * D;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int split = blockIdx.x, kv_head = blockIdx.y, b = blockIdx.z;
    const int head0 = kv_head * p.t.group;
    const int key_begin = split * p.split_keys;
    const int key_end = min(key_begin + p.split_keys, p.kv_len);
    const int ntiles = (key_end - key_begin + DECODE_TILE - 1) / DECODE_TILE;

    const __nv_bfloat16 *q = p.t.q + b * p.t.q_bs + (long long)head0 * D;
    const __nv_bfloat16 *k = p.t.k + b * p.t.k_bs + (long long)kv_head * D + key_begin * p.t.k_ts;
    const __nv_bfloat16 *v = p.t.v + b * p.t.v_bs + (long long)kv_head * D + key_begin * p.t.v_ts;

    for (int c = threadIdx.x; c < 16 * CHUNKS; c += blockDim.x) {
        int row = c / CHUNKS, chunk = c % CHUNKS;
        bool ok = row < p.t.group;
        cp_async16(sQ + swizzle(row, chunk, D), ok ? q + row * D + chunk * 8 : q, ok ? 16 : 0);
    }
    /* Prologue: the first STAGES-1 tiles, one commit group each. */
#pragma unroll
    for (int s = 0; s < DECODE_STAGES - 1; s++) {
        if (s < ntiles)
            load_decode_tile<D>(sK + s * DECODE_TILE * D, sV + s * DECODE_TILE * D, k + s * DECODE_TILE * p.t.k_ts,
                                v + s * DECODE_TILE * p.t.v_ts, p.t.k_ts, p.t.v_ts,
                                key_end - key_begin - s * DECODE_TILE);
        cp_async_commit();
    }

    uint32_t qf[D / 16][4];
    float acc[D / 8][4];
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
#pragma unroll
    for (int j = 0; j < D / 8; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;

    for (int t = 0; t < ntiles; t++) {
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
        const __nv_bfloat16 *tK = sK + (t % DECODE_STAGES) * DECODE_TILE * D;
        const __nv_bfloat16 *tV = sV + (t % DECODE_STAGES) * DECODE_TILE * D;
        const int key0 = warp * 16;  /* this warp's 16 keys of the tile */

        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {
            uint32_t bk[4];
            ldmatrix_x4(bk, tK + swizzle(key0 + (lane % 8) + (lane / 16) * 8, kk * 2 + (lane / 8) % 2, D));
            mma_bf16_16816(s[0], qf[kk], bk[0], bk[1]);
            mma_bf16_16816(s[1], qf[kk], bk[2], bk[3]);
        }
        const int valid = key_end - key_begin - t * DECODE_TILE - key0;  /* keys of this warp's 16 that exist */
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
            float base = softmax_base(mx, p.scale_log2);
            float correction = fast_exp2(row_max[r] * p.scale_log2 - base);
            row_max[r] = mx;
            float sum = 0.f;
#pragma unroll
            for (int j = 0; j < 2; j++) {
                s[j][2 * r] = fast_exp2(fmaf(s[j][2 * r], p.scale_log2, -base));
                s[j][2 * r + 1] = fast_exp2(fmaf(s[j][2 * r + 1], p.scale_log2, -base));
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
    cp_async_wait<0>();
#if __CUDA_ARCH__ >= 900
    /* Let the combine kernel be scheduled now; it waits for our results. */
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
    __syncthreads();

    /* Merge the four warps: each publishes its max, sum and accumulator for
     * the group's rows (the K/V stages are free now). */
    float *wO = reinterpret_cast<float *>(sK);             /* [warp][row][D] */
    float *wMax = wO + DECODE_WARPS * 16 * D;              /* [warp][row] */
    float *wSum = wMax + DECODE_WARPS * 16;
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
    __syncthreads();
    for (int i = threadIdx.x; i < p.t.group * D; i += blockDim.x) {
        int row = i / D, d = i % D;
        float mx = -INFINITY;
        for (int w = 0; w < DECODE_WARPS; w++) mx = fmaxf(mx, wMax[w * 16 + row]);
        float base = softmax_base(mx, p.scale_log2), o = 0.f, l = 0.f;
        for (int w = 0; w < DECODE_WARPS; w++) {
            float scale = fast_exp2(wMax[w * 16 + row] * p.scale_log2 - base);
            o += scale * wO[(w * 16 + row) * D + d];
            l += scale * wSum[w * 16 + row];
        }
        int head = head0 + row;
        if (p.splits == 1) {
            p.t.o[b * p.t.o_bs + (long long)head * D + d] = __float2bfloat16(o / l);
        } else {
            long long slot = ((long long)b * p.q_heads + head) * p.splits + split;
            p.part_o[slot * D + d] = o / l;
            if (d == 0) p.part_lse[slot] = base + log2f(l);
        }
    }
}

/* out = sum_s w_s o_s / sum_s w_s, w_s = 2^(lse_s - max lse). One warp per
 * (batch, head): the lanes first share the splits' lse (max and weights by
 * shuffles), then each lane owns D/32 adjacent elements and reads them as
 * one vector per split, so a split costs one load per lane, not D/32.
 * Launched as a programmatic dependent of the split kernel: it starts while
 * the split kernel drains and waits for its results at griddepcontrol.wait,
 * which hides most of the second launch. */
#define COMBINE_WARPS 4
template <int D>
__global__ void __launch_bounds__(COMBINE_WARPS * 32) combine_kernel(DecodeParams p, int batch) {
    constexpr int PER_LANE = D / 32;
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
    const int lane = threadIdx.x % 32;
    const int pair = blockIdx.x * COMBINE_WARPS + threadIdx.x / 32;  /* b * q_heads + head */
    if (pair >= batch * p.q_heads) return;
    const int b = pair / p.q_heads, head = pair % p.q_heads;
    const long long slot0 = (long long)pair * p.splits;

    float mx = -INFINITY;
    for (int s = lane; s < p.splits; s += 32) mx = fmaxf(mx, p.part_lse[slot0 + s]);
#pragma unroll
    for (int off = 16; off; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, off));

    float o[PER_LANE] = {}, total = 0.f;
    for (int s0 = 0; s0 < p.splits; s0 += 32) {
        int s = s0 + lane;
        float w_mine = s < p.splits ? fast_exp2(p.part_lse[slot0 + s] - mx) : 0.f;
        int n = min(32, p.splits - s0);
        /* Unrolled so that eight splits' loads are in flight at once: the
         * loop is latency-bound otherwise (one L2 round trip per split). */
#pragma unroll 8
        for (int i = 0; i < 32; i++) {
            float w = __shfl_sync(0xffffffff, w_mine, i);
            if (i < n) {
                const float *src = p.part_o + (slot0 + s0 + i) * D + lane * PER_LANE;
                float vals[PER_LANE];
                if constexpr (PER_LANE == 4) {
                    float4 v4 = *reinterpret_cast<const float4 *>(src);
                    vals[0] = v4.x, vals[1] = v4.y, vals[2] = v4.z, vals[3] = v4.w;
                } else {
                    float2 v2 = *reinterpret_cast<const float2 *>(src);
                    vals[0] = v2.x, vals[1] = v2.y;
                }
#pragma unroll
                for (int e = 0; e < PER_LANE; e++) o[e] += w * vals[e];
                total += w;
            }
        }
    }
    __nv_bfloat16 *dst = p.t.o + b * p.t.o_bs + (long long)head * D + lane * PER_LANE;
#pragma unroll
    for (int e = 0; e < PER_LANE; e += 2)
        *reinterpret_cast<uint32_t *>(dst + e) = pack_bf16x2(o[e] / total, o[e + 1] / total);
}

extern "C" int zz_decode_keys(const zz_decode_args *a) {
    int keys = a->pos + 1;
    if (a->mask.kind == ZZ_MASK_STREAMING && keys > a->mask.sink + a->mask.recent)
        keys = a->mask.sink + a->mask.recent;
    return keys;
}

/* Keys per split, rounded to whole tiles, for a requested split count. */
static int split_keys_for(int kv_len, int splits) {
    int keys = (kv_len + splits - 1) / splits;
    return (keys + DECODE_TILE - 1) / DECODE_TILE * DECODE_TILE;
}

/* The splits a request for `want` really gives: whole-tile splits can
 * cover the keys in fewer. */
static int splits_for(int kv_len, int want) {
    int keys = split_keys_for(kv_len, want);
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

extern "C" size_t zz_decode_workspace_bytes(const zz_decode_args *a, int sm_count) {
    int splits = effective_splits(a, sm_count);
    if (splits == 1) return 0;
    return (size_t)a->batch * a->q.heads * splits * (a->head_dim + 1) * sizeof(float);
}

template <int D>
static int launch_decode(const zz_decode_args *a, void *workspace, int sm_count, cudaStream_t stream) {
    const size_t smem = (size_t)(16 + 2 * DECODE_STAGES * DECODE_TILE) * D * sizeof(__nv_bfloat16);
    static bool attribute_set = false;
    if (!attribute_set) {
        ZZ_CUDA(cudaFuncSetAttribute(decode_split_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        attribute_set = true;
    }
    DecodeParams p;
    p.t = attn_tensors(a->q, a->k, a->v, a->o);
    p.q_heads = a->q.heads;
    p.kv_len = zz_decode_keys(a);
    p.splits = effective_splits(a, sm_count);
    p.split_keys = split_keys_for(p.kv_len, p.splits);
    p.part_o = static_cast<float *>(workspace);
    p.part_lse = p.part_o + (size_t)a->batch * a->q.heads * p.splits * D;
    p.scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    ZZ_REQUIRE(p.splits == 1 || workspace != NULL, "decode with %d splits needs a workspace", p.splits);
    ZZ_REQUIRE(p.splits <= 65535, "%d splits", p.splits);

    dim3 grid(p.splits, a->k.heads, a->batch);
    decode_split_kernel<D><<<grid, DECODE_WARPS * 32, smem, stream>>>(p);
    ZZ_CHECK_LAUNCH();
    if (p.splits > 1) {
        cudaLaunchAttribute overlap;
        overlap.id = cudaLaunchAttributeProgrammaticStreamSerialization;
        overlap.val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t config = {};
        config.gridDim = dim3((a->batch * a->q.heads + COMBINE_WARPS - 1) / COMBINE_WARPS);
        config.blockDim = dim3(COMBINE_WARPS * 32);
        config.stream = stream;
        config.attrs = &overlap;
        config.numAttrs = 1;
        ZZ_CUDA(cudaLaunchKernelEx(&config, combine_kernel<D>, p, a->batch));
    }
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
