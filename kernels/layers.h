/* The kernels of a decoder layer around its attention (issue 17: the
 * model-shaped step), as a C API in the style of attention.h: every
 * launcher takes a stream, checks its arguments before launching and
 * returns ZZ_OK, ZZ_BAD_ARGUMENT or ZZ_CUDA_ERROR, with the message in
 * zz_kernel_error().
 *
 * One Llama-style layer, per token (hidden size H, MLP size F):
 *   x_norm = rmsnorm(x) · w_attn_norm
 *   qkv    = x_norm · W_qkv^T            [Hq·D | Hkv·D | Hkv·D]
 *   q, k   = rotary(q, k, position)      in place, in the qkv buffer
 *   attn   = attention(q, k, v)          the layout under test
 *   x      = x + attn · W_o^T            (GEMM with beta = 1)
 *   x_norm = rmsnorm(x) · w_mlp_norm
 *   gu     = x_norm · W_gate_up^T        [F gate | F up]
 *   h      = silu(gate) · up
 *   x      = x + h · W_down^T            (GEMM with beta = 1)
 * then, after the last layer, rmsnorm and the LM head (at prefill only on
 * the last token of each sequence).
 *
 * Matrices are bf16 and row-major: activations [rows][features]; weights
 * as PyTorch's nn.Linear stores them, [out features][in features], so a
 * linear layer is Y = X · W^T. GEMMs run through cuBLASLt with float
 * accumulation. CPU references: ref_rmsnorm, ref_rotary, ref_silu_mul,
 * ref_linear in reference.h.
 */
#ifndef ZZ_LAYERS_H
#define ZZ_LAYERS_H

#include "attention.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cuBLASLt handle, its workspace and its cached matmul plans (one per
 * shape), made once and shared by every GEMM of a step. */
typedef struct zz_gemm zz_gemm;
int zz_gemm_create(zz_gemm **out, size_t workspace_bytes, cudaStream_t stream);
void zz_gemm_destroy(zz_gemm *g);

/* Y[rows][out] = X[rows][in] · W[out][in]^T + beta · Y, beta 0 or 1 (1: add
 * into Y, the residual stream). x_stride, y_stride: elements between rows
 * (>= in, >= out), so Y may be a column slice of a wider buffer. */
int zz_linear(zz_gemm *g, const bf16 *x, long long x_stride, const bf16 *w, bf16 *y, long long y_stride, int rows,
              int in, int out, float beta, cudaStream_t stream);

/* y[r][i] = x[r][i] / sqrt(mean_i x[r][i]^2 + eps) · weight[i], float math. */
int zz_rmsnorm(const bf16 *x, const bf16 *weight, bf16 *y, int rows, int hidden, float eps, cudaStream_t stream);

/* Rotary position embedding (Llama's rotate-half form) in place on q and k:
 * token t of sequence b is at position pos0 + t; pair (i, i + D/2) of each
 * head is rotated by angle pos · theta^(-2i/D). q, k: views of `tokens`
 * tokens (zz_view: a slice of the qkv buffer works, token stride = the
 * qkv row). */
int zz_rotary(zz_view q, zz_view k, int batch, int tokens, int head_dim, int pos0, float theta, cudaStream_t stream);

/* h[r][i] = silu(gu[r][i]) · gu[r][F + i], silu(a) = a / (1 + e^-a); gu is
 * [rows][2F] (gate then up), h [rows][F]. */
int zz_silu_mul(const bf16 *gu, bf16 *h, int rows, int mlp, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
