/* The kernels of a decoder layer around its attention (layers.h, issue 17).
 *
 * What a model-shaped step adds to attention is mostly GEMMs (the QKV, O,
 * gate/up and down projections, and the LM head) and three memory-bound
 * element-wise kernels (RMSNorm, rotary, SiLU·up). The GEMMs go to
 * cuBLASLt: the suite measures how attention layouts compare inside a
 * step, so the projections around them should cost what a tuned library
 * makes them cost, not what a hand-written GEMM would. The element-wise
 * kernels are written here, llm.c style: one 16-byte vector (8 bf16) per
 * load and store, float math, one launch each.
 *
 * Alignment: every pointer 16-byte aligned and every row stride a multiple
 * of 8 elements, so that each row starts on 16 bytes and the vector loads
 * (and cuBLASLt's fast kernels) apply; the launchers refuse anything else.
 */
#include <cublasLt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.cuh"
#include "layers.h"

/* A cuBLASLt call: any status but success becomes ZZ_CUDA_ERROR with
 * file:line, the call and cuBLASLt's name and text for the status. */
#define ZZ_CUBLAS(call)                                                                                   \
    do {                                                                                                  \
        cublasStatus_t st_ = (call);                                                                      \
        if (st_ != CUBLAS_STATUS_SUCCESS)                                                                 \
            return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__, "%s: %s (%s)", #call, cublasLtGetStatusName(st_), \
                           cublasLtGetStatusString(st_));                                                 \
    } while (0)

static bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

/* ------------------------------------------------------------ vectors ---- */

__device__ __forceinline__ void unpack8(uint4 v, float f[8]) {
    const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&v);
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const float2 t = __bfloat1622float2(h[j]);
        f[2 * j] = t.x, f[2 * j + 1] = t.y;
    }
}

__device__ __forceinline__ uint4 pack8(const float f[8]) {
    return make_uint4(pack_bf16x2(f[0], f[1]), pack_bf16x2(f[2], f[3]), pack_bf16x2(f[4], f[5]),
                      pack_bf16x2(f[6], f[7]));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}

/* The sum of v over the block, returned to every thread: each warp sums
 * its lanes, writes one partial, and after one barrier every warp sums the
 * partials itself (no second barrier, no broadcast). Once per kernel. */
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    return warp_sum(lane < warps ? partial[lane] : 0.f);
}

/* -------------------------------------------------------------- linear ---- */

/* One matmul plan: the shape it was made for, cuBLASLt's layouts and the
 * algorithm its heuristic picked. Made on a shape's first call, then reused:
 * a later call only looks it up and enqueues cublasLtMatmul. */
struct GemmKey {
    int rows, in, out, accumulate;
    long long x_stride, y_stride;
    int align_x, align_w, align_y; /* bytes, 16..256: what the algorithm may assume */
};

struct GemmPlan {
    GemmKey key;
    cublasLtMatrixLayout_t a, b, c; /* W (as stored), X, Y (C and D alike: in place) */
    cublasLtMatmulAlgo_t algo;
};

/* Plans kept: a step has a handful of shapes (four projections and the LM
 * head, at the decode and the prefill row counts); when full, the oldest
 * plan is replaced (only host work: a re-made plan is found again). */
#define ZZ_GEMM_PLANS 64

struct zz_gemm {
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t op; /* float compute and scale, op(A) = T, op(B) = N: the same for every shape */
    void *workspace;
    size_t workspace_bytes;
    GemmPlan plans[ZZ_GEMM_PLANS];
    int n_plans, next_replaced;
};

static bool same_key(const GemmKey &a, const GemmKey &b) {
    return a.rows == b.rows && a.in == b.in && a.out == b.out && a.accumulate == b.accumulate &&
           a.x_stride == b.x_stride && a.y_stride == b.y_stride && a.align_x == b.align_x &&
           a.align_w == b.align_w && a.align_y == b.align_y;
}

/* The pointer's alignment in bytes, as cuBLASLt's preferences take it: a
 * power of two, 16 (the least the launcher accepts) to 256 (the default
 * the heuristic otherwise assumes, and may need). */
static int alignment_of(const void *p) {
    int a = 16;
    while (a < 256 && ((uintptr_t)p & (uintptr_t)(2 * a - 1)) == 0) a *= 2;
    return a;
}

static void destroy_plan(GemmPlan *p) {
    if (p->a) cublasLtMatrixLayoutDestroy(p->a);
    if (p->b) cublasLtMatrixLayoutDestroy(p->b);
    if (p->c) cublasLtMatrixLayoutDestroy(p->c);
    memset(p, 0, sizeof *p);
}

/* The layouts and the heuristic's best algorithm for key k.
 *
 * Row-major Y[rows][out] = X[rows][in] · W[out][in]^T in cuBLASLt's
 * column-major terms: a row-major matrix with row stride ld is the
 * column-major view of its transpose with leading dimension ld, so
 *   W (row-major out×in, ld in)       is  W^T: in×out col-major, ld in
 *   X (row-major rows×in, ld x_stride) is X^T: in×rows col-major
 *   Y (row-major rows×out, ld y_stride) is Y^T: out×rows col-major
 * and Y^T = W · X^T = op(A) · op(B) with A = W^T stored, op(A) = T, B = X^T,
 * op(B) = N: m = out, n = rows, k = in ("TN", cuBLASLt's preferred form).
 *
 * Preferences: the workspace, the pointers' real alignments, and split-K
 * reductions only in the compute type (float partials in the workspace, a
 * fixed order): the in-place and output-type schemes would round partial
 * sums to bf16, the inplace one in an order that varies run to run. */
static int make_plan(zz_gemm *g, const GemmKey &k, GemmPlan *p, cublasLtMatmulPreference_t *pref) {
    ZZ_CUBLAS(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, (uint64_t)k.in, (uint64_t)k.out, (int64_t)k.in));
    ZZ_CUBLAS(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, (uint64_t)k.in, (uint64_t)k.rows, (int64_t)k.x_stride));
    ZZ_CUBLAS(cublasLtMatrixLayoutCreate(&p->c, CUDA_R_16BF, (uint64_t)k.out, (uint64_t)k.rows, (int64_t)k.y_stride));
    ZZ_CUBLAS(cublasLtMatmulPreferenceCreate(pref));
    const uint64_t workspace = g->workspace_bytes;
    const uint32_t reduction = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    const uint32_t align_a = (uint32_t)k.align_w, align_b = (uint32_t)k.align_x, align_c = (uint32_t)k.align_y;
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                                   sizeof workspace));
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &reduction,
                                                   sizeof reduction));
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                                   sizeof align_a));
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                                   sizeof align_b));
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                                   sizeof align_c));
    ZZ_CUBLAS(cublasLtMatmulPreferenceSetAttribute(*pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                                   sizeof align_c));
    cublasLtMatmulHeuristicResult_t best;
    int found = 0;
    memset(&best, 0, sizeof best);
    ZZ_CUBLAS(cublasLtMatmulAlgoGetHeuristic(g->lt, g->op, p->a, p->b, p->c, p->c, *pref, 1, &best, &found));
    if (found < 1 || best.state != CUBLAS_STATUS_SUCCESS)
        return zz_fail(ZZ_CUDA_ERROR, __FILE__, __LINE__,
                       "linear: no cuBLASLt algorithm for rows %d, in %d, out %d, strides %lld/%lld, beta %d, "
                       "alignment x %d w %d y %d bytes, workspace %zu bytes",
                       k.rows, k.in, k.out, k.x_stride, k.y_stride, k.accumulate, k.align_x, k.align_w, k.align_y,
                       g->workspace_bytes);
    p->algo = best.algo;
    p->key = k;
    return ZZ_OK;
}

/* The plan for key k: found in the table, or made and stored. */
static int plan_for(zz_gemm *g, const GemmKey &k, const GemmPlan **out) {
    for (int i = 0; i < g->n_plans; i++)
        if (same_key(g->plans[i].key, k)) {
            *out = &g->plans[i];
            return ZZ_OK;
        }
    GemmPlan fresh;
    memset(&fresh, 0, sizeof fresh);
    cublasLtMatmulPreference_t pref = NULL;
    const int rc = make_plan(g, k, &fresh, &pref);
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (rc != ZZ_OK) {
        destroy_plan(&fresh);
        return rc;
    }
    int slot = g->n_plans;
    if (slot == ZZ_GEMM_PLANS) {
        slot = g->next_replaced;
        g->next_replaced = (slot + 1) % ZZ_GEMM_PLANS;
        destroy_plan(&g->plans[slot]);
    } else {
        g->n_plans++;
    }
    g->plans[slot] = fresh;
    *out = &g->plans[slot];
    return ZZ_OK;
}

/* The workspace (split-K partials) is a cudaMalloc: 256-byte aligned, as
 * cuBLASLt wants it, and usable from any stream at once. GEMMs that share
 * one zz_gemm share its workspace, so they must run one after another (one
 * stream, or one chain of a graph). The stream of layers.h's signature
 * binds nothing: cuBLASLt takes the stream per call (zz_linear). */
static int gemm_create(zz_gemm *g, size_t workspace_bytes) {
    ZZ_CUBLAS(cublasLtCreate(&g->lt));
    ZZ_CUBLAS(cublasLtMatmulDescCreate(&g->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
    ZZ_CUBLAS(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
    ZZ_CUBLAS(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
    if (workspace_bytes) {
        ZZ_CUDA(cudaMalloc(&g->workspace, workspace_bytes));
        g->workspace_bytes = workspace_bytes;
    }
    return ZZ_OK;
}

extern "C" int zz_gemm_create(zz_gemm **out, size_t workspace_bytes, cudaStream_t stream) {
    ZZ_REQUIRE(out != NULL, "gemm: null handle pointer");
    *out = NULL;
    ZZ_REQUIRE(workspace_bytes <= ((size_t)1 << 32), "gemm: workspace of %zu bytes (at most 4 GiB)", workspace_bytes);
    zz_gemm *g = (zz_gemm *)calloc(1, sizeof *g);
    ZZ_REQUIRE(g != NULL, "gemm: out of host memory");
    (void)stream;
    const int rc = gemm_create(g, workspace_bytes);
    if (rc != ZZ_OK) {
        zz_gemm_destroy(g);
        return rc;
    }
    *out = g;
    return ZZ_OK;
}

extern "C" void zz_gemm_destroy(zz_gemm *g) {
    if (!g) return;
    for (int i = 0; i < g->n_plans; i++) destroy_plan(&g->plans[i]);
    if (g->op) cublasLtMatmulDescDestroy(g->op);
    if (g->lt) cublasLtDestroy(g->lt);
    if (g->workspace) cudaFree(g->workspace); /* waits for work still using it */
    free(g);
}

/* Y = X · W^T + beta · Y through cuBLASLt (mapping: make_plan). cuBLASLt
 * multiplies bf16 on the tensor cores with float accumulation, adds
 * beta · Y (read as bf16) in float and rounds once to bf16; with beta 0 Y
 * is only written.
 *
 * CUDA graphs: the first call for a shape (rows, in, out, strides, beta and
 * the pointers' alignments) makes its plan: host work only (descriptors
 * and the heuristic query, no device allocation, no synchronisation), but
 * make it outside a stream capture all the same (an eager warm-up step),
 * so that the library's kernels are loaded before capture too. Every later
 * call looks the plan up and enqueues cublasLtMatmul with the workspace
 * given at create: nothing is allocated and nothing waits, so it can be
 * captured and replayed; the scalars alpha = 1 and beta are copied into
 * the launch when captured. */
extern "C" int zz_linear(zz_gemm *g, const bf16 *x, long long x_stride, const bf16 *w, bf16 *y, long long y_stride,
                         int rows, int in, int out, float beta, cudaStream_t stream) {
    ZZ_REQUIRE(g != NULL, "linear: null zz_gemm");
    ZZ_REQUIRE(x != NULL && w != NULL && y != NULL, "linear: null pointer (x %p, w %p, y %p)", (const void *)x,
               (const void *)w, (void *)y);
    ZZ_REQUIRE(rows >= 1 && in >= 1 && out >= 1, "linear: rows %d, in %d, out %d (need >= 1)", rows, in, out);
    ZZ_REQUIRE(in % 8 == 0, "linear: in %d (need a multiple of 8: rows of W on 16 bytes)", in);
    ZZ_REQUIRE(x_stride >= in && x_stride % 8 == 0, "linear: x stride %lld (need >= in = %d, a multiple of 8)",
               x_stride, in);
    ZZ_REQUIRE(y_stride >= out && y_stride % 8 == 0, "linear: y stride %lld (need >= out = %d, a multiple of 8)",
               y_stride, out);
    ZZ_REQUIRE(aligned16(x) && aligned16(w) && aligned16(y), "linear: x %p, w %p, y %p not all 16-byte aligned",
               (const void *)x, (const void *)w, (void *)y);
    ZZ_REQUIRE(beta == 0.f || beta == 1.f, "linear: beta %g (need 0 or 1)", (double)beta);
    const GemmKey key = {rows, in, out, beta == 1.f, x_stride, y_stride, alignment_of(x), alignment_of(w),
                         alignment_of(y)};
    const GemmPlan *p;
    int rc = plan_for(g, key, &p);
    if (rc != ZZ_OK) return rc;
    const float alpha = 1.f, b = key.accumulate ? 1.f : 0.f;
    ZZ_CUBLAS(cublasLtMatmul(g->lt, g->op, &alpha, w, p->a, x, p->b, &b, y, p->c, y, p->c, &p->algo, g->workspace,
                             g->workspace_bytes, stream));
    return ZZ_OK;
}

/* ------------------------------------------------------------- rmsnorm ---- */

/* One block per row, the row held in registers: VPT 16-byte vectors per
 * thread, at most 1024 threads, so one read of x, one of the weight and one
 * write of y (a second pass over global memory would read the row twice).
 * The sum of squares is float: per thread over its 8 · VPT elements, then
 * a warp and a block reduction. hidden <= 8 · 8 · 1024 = 65536. y may be x
 * (each block reads its whole row before the barrier and writes after). */
#define RMSNORM_MAX_THREADS 1024
#define RMSNORM_MAX_HIDDEN (8 * 8 * RMSNORM_MAX_THREADS)

template <int VPT>
__global__ void __launch_bounds__(RMSNORM_MAX_THREADS)
    rmsnorm_kernel(const __nv_bfloat16 *x, const __nv_bfloat16 *__restrict__ weight, __nv_bfloat16 *y, int hidden,
                   float eps) {
    const int vectors = hidden >> 3;
    const long long row = (long long)blockIdx.x * hidden;
    const uint4 *xr = reinterpret_cast<const uint4 *>(x + row);
    uint4 v[VPT];
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < VPT; j++) {
        const int c = threadIdx.x + j * blockDim.x;
        v[j] = c < vectors ? xr[c] : make_uint4(0, 0, 0, 0);
        float f[8];
        unpack8(v[j], f);
#pragma unroll
        for (int e = 0; e < 8; e++) ss = fmaf(f[e], f[e], ss);
    }
    const float inv = rsqrtf(block_sum(ss) / (float)hidden + eps);
    const uint4 *wr = reinterpret_cast<const uint4 *>(weight);
    uint4 *yr = reinterpret_cast<uint4 *>(y + row);
#pragma unroll
    for (int j = 0; j < VPT; j++) {
        const int c = threadIdx.x + j * blockDim.x;
        if (c >= vectors) continue;
        float f[8], g[8];
        unpack8(v[j], f);
        unpack8(__ldg(wr + c), g);
#pragma unroll
        for (int e = 0; e < 8; e++) f[e] = f[e] * inv * g[e];
        yr[c] = pack8(f);
    }
}

extern "C" int zz_rmsnorm(const bf16 *x, const bf16 *weight, bf16 *y, int rows, int hidden, float eps,
                          cudaStream_t stream) {
    ZZ_REQUIRE(x != NULL && weight != NULL && y != NULL, "rmsnorm: null pointer (x %p, weight %p, y %p)",
               (const void *)x, (const void *)weight, (void *)y);
    ZZ_REQUIRE(aligned16(x) && aligned16(weight) && aligned16(y), "rmsnorm: x, weight, y not all 16-byte aligned");
    ZZ_REQUIRE(rows >= 1, "rmsnorm: %d rows", rows);
    ZZ_REQUIRE(hidden >= 8 && hidden <= RMSNORM_MAX_HIDDEN && hidden % 8 == 0,
               "rmsnorm: hidden %d (need a multiple of 8, 8..%d)", hidden, RMSNORM_MAX_HIDDEN);
    ZZ_REQUIRE(eps > 0.f && isfinite(eps), "rmsnorm: eps %g (need > 0)", (double)eps);
    const long long n = (long long)rows * hidden;
    ZZ_REQUIRE(y == x || y + n <= x || x + n <= y, "rmsnorm: y overlaps x without being x");
    const int vectors = hidden / 8;
    int vpt = 1;
    while (vectors > RMSNORM_MAX_THREADS * vpt) vpt *= 2;
    const int threads = ((vectors + vpt - 1) / vpt + 31) / 32 * 32;
    const __nv_bfloat16 *xb = reinterpret_cast<const __nv_bfloat16 *>(x);
    const __nv_bfloat16 *wb = reinterpret_cast<const __nv_bfloat16 *>(weight);
    __nv_bfloat16 *yb = reinterpret_cast<__nv_bfloat16 *>(y);
    switch (vpt) {
    case 1: rmsnorm_kernel<1><<<rows, threads, 0, stream>>>(xb, wb, yb, hidden, eps); break;
    case 2: rmsnorm_kernel<2><<<rows, threads, 0, stream>>>(xb, wb, yb, hidden, eps); break;
    case 4: rmsnorm_kernel<4><<<rows, threads, 0, stream>>>(xb, wb, yb, hidden, eps); break;
    default: rmsnorm_kernel<8><<<rows, threads, 0, stream>>>(xb, wb, yb, hidden, eps); break;
    }
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

/* -------------------------------------------------------------- rotary ---- */

struct RotaryArgs {
    __nv_bfloat16 *q, *k;
    long long q_bs, q_ts, k_bs, k_ts;
    int q_heads, k_heads, pos0;
    double theta;
};

/* One block per (token, sequence). The angle of pair i depends on the
 * position and i only, so the block computes the D/2 (cos, sin) of its
 * token once, into shared memory, and then every head of q and k uses
 * them: a thread rotates 8 pairs at a time, the 16-byte vector of x_i and
 * the one of x_{i+D/2}.
 *
 * Accuracy at large positions: in float, pos · theta^(-2i/D) at pos 1M has
 * an ulp of 1/16 rad, so a float angle (HF's float32 inv_freq × position)
 * is off by up to 0.03 rad there. Here the inverse frequency and the
 * product are double and the angle goes to double sincos (its own exact
 * argument reduction), so cos and sin are the exact angle's within float
 * rounding (~6e-8) plus the double angle's error, at most a few 2^-53 ×
 * pos rad: 1e-9 rad at pos 2^20, 5e-7 at 2^31. The double work is D/2
 * sincos per block, small beside the block's loads of every head. The
 * rotation itself is float, rounded to bf16 once. */
template <int D>
__global__ void __launch_bounds__(128) rotary_kernel(RotaryArgs a) {
    __shared__ float2 cs[D / 2];
    const int t = blockIdx.x;
    const long long b = blockIdx.y;
    if (threadIdx.x < D / 2) {
        const double inv_freq = pow(a.theta, -2.0 * (double)threadIdx.x / (double)D);
        double s, c;
        sincos((double)(a.pos0 + t) * inv_freq, &s, &c);
        cs[threadIdx.x] = make_float2((float)c, (float)s);
    }
    __syncthreads();
    constexpr int CHUNKS = D / 16; /* 8-pair vectors per head */
    const int items = (a.q_heads + a.k_heads) * CHUNKS;
    for (int it = threadIdx.x; it < items; it += blockDim.x) {
        const int head = it / CHUNKS, i0 = (it % CHUNKS) * 8;
        __nv_bfloat16 *row = head < a.q_heads ? a.q + b * a.q_bs + t * a.q_ts + (long long)head * D
                                              : a.k + b * a.k_bs + t * a.k_ts + (long long)(head - a.q_heads) * D;
        uint4 *lo = reinterpret_cast<uint4 *>(row + i0), *hi = reinterpret_cast<uint4 *>(row + D / 2 + i0);
        float x[8], y[8], rx[8], ry[8];
        unpack8(*lo, x);
        unpack8(*hi, y);
#pragma unroll
        for (int e = 0; e < 8; e++) {
            const float2 r = cs[i0 + e];
            rx[e] = x[e] * r.x - y[e] * r.y;
            ry[e] = y[e] * r.x + x[e] * r.y;
        }
        *lo = pack8(rx);
        *hi = pack8(ry);
    }
}

extern "C" int zz_rotary(zz_view q, zz_view k, int batch, int tokens, int head_dim, int pos0, float theta,
                         cudaStream_t stream) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "rotary: head_dim %d (need 64 or 128)", head_dim);
    ZZ_REQUIRE(batch >= 1 && batch <= 65535, "rotary: batch %d (need 1..65535)", batch);
    ZZ_REQUIRE(tokens >= 1, "rotary: %d tokens", tokens);
    ZZ_REQUIRE(pos0 >= 0 && (long long)pos0 + tokens - 1 <= INT_MAX, "rotary: positions %d + %d tokens out of range",
               pos0, tokens);
    ZZ_REQUIRE(theta > 0.f && isfinite(theta), "rotary: theta %g (need > 0)", (double)theta);
    ZZ_REQUIRE(q.heads <= 65535 && k.heads <= 65535, "rotary: %d q heads, %d k heads (at most 65535)", q.heads,
               k.heads);
    int rc;
    if ((rc = zz_check_view("rotary q", q, batch, tokens, head_dim)) ||
        (rc = zz_check_view("rotary k", k, batch, tokens, head_dim)))
        return rc;
    const RotaryArgs a = {reinterpret_cast<__nv_bfloat16 *>(q.data), reinterpret_cast<__nv_bfloat16 *>(k.data),
                          q.batch_stride, q.token_stride, k.batch_stride, k.token_stride, q.heads, k.heads, pos0,
                          (double)theta};
    const dim3 grid((unsigned)tokens, (unsigned)batch);
    if (head_dim == 64)
        rotary_kernel<64><<<grid, 128, 0, stream>>>(a);
    else
        rotary_kernel<128><<<grid, 128, 0, stream>>>(a);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

/* ------------------------------------------------------------ silu_mul ---- */

/* h = silu(gate) · up, one 16-byte vector of each per thread; grid (vectors
 * of a row, rows), rows past 65535 by a loop. Float math with expf (not
 * __expf: the kernel is memory-bound, the exact exp costs nothing here):
 * silu(a) = a / (1 + e^-a) goes to -0 for very negative a (e^-a = inf) and
 * to a for large a. */
__global__ void __launch_bounds__(256) silu_mul_kernel(const __nv_bfloat16 *__restrict__ gu,
                                                       __nv_bfloat16 *__restrict__ h, int rows, int mlp) {
    const int vectors = mlp >> 3;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= vectors) return;
    for (long long r = blockIdx.y; r < rows; r += gridDim.y) {
        const uint4 *gate = reinterpret_cast<const uint4 *>(gu + r * 2 * mlp);
        float g[8], u[8];
        unpack8(__ldg(gate + c), g);
        unpack8(__ldg(gate + vectors + c), u);
#pragma unroll
        for (int e = 0; e < 8; e++) g[e] = g[e] / (1.f + expf(-g[e])) * u[e];
        reinterpret_cast<uint4 *>(h + r * mlp)[c] = pack8(g);
    }
}

extern "C" int zz_silu_mul(const bf16 *gu, bf16 *h, int rows, int mlp, cudaStream_t stream) {
    ZZ_REQUIRE(gu != NULL && h != NULL, "silu_mul: null pointer (gu %p, h %p)", (const void *)gu, (void *)h);
    ZZ_REQUIRE(aligned16(gu) && aligned16(h), "silu_mul: gu, h not both 16-byte aligned");
    ZZ_REQUIRE(rows >= 1, "silu_mul: %d rows", rows);
    ZZ_REQUIRE(mlp >= 8 && mlp % 8 == 0 && mlp <= INT_MAX / 2, "silu_mul: mlp %d (need a multiple of 8)", mlp);
    const long long n = (long long)rows * mlp;
    ZZ_REQUIRE(h + n <= gu || gu + 2 * n <= h, "silu_mul: h overlaps gu");
    const int vectors = mlp / 8;
    const dim3 grid((unsigned)((vectors + 255) / 256), (unsigned)(rows < 65535 ? rows : 65535));
    silu_mul_kernel<<<grid, 256, 0, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(gu),
                                              reinterpret_cast<__nv_bfloat16 *>(h), rows, mlp);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}
