/* The executor: one step of a plan (all L layers, the whole batch) on the GPU.
 *
 * It allocates what a model of the plan's shape holds: per layer its own KV
 * caches (full caches for retrieval KV heads, sink + recent rings for
 * streaming heads, in the layer's split order) and, shared across layers as a
 * model shares them, the activations of one layer (Q, new K and V, the
 * output, and the per-group buffers a layout's copies need). Inputs and
 * caches hold random bf16 values (never zeros).
 *
 * A step walks plan->layers[l].ops for every layer, once per pass (prefill
 * chunk): decode appends the new token at position S and attends S + 1 keys
 * (full) or the window (streaming); prefill writes the prompt (or chunk) into
 * the caches and attends it causally (chunked streaming heads through the
 * [sink | recent | chunk] window, as DuoAttention does). Every launch is
 * listed in zz_executor_launches, in order, with its layer, category and
 * kernel name, the key that attributes CUPTI's kernel records, and its
 * bytes and FLOPs (work.h): the launch of a plan op gets the op's work over
 * the step's passes (chunked prefill: the mean chunk's), the launches no op
 * stands for alone (a gather's three, the chunked streaming window, the
 * decode combine) their own.
 *
 * A decode on the one-launch kernel variant (variants.h) launches one
 * kernel per attention op, which appends the op's new token itself; it
 * keeps a ticket counter per sequence and KV head for its split blocks.
 *
 * A model step (docs/DESIGN.md, "The model step") runs the rest of each
 * decoder layer around its attention ops, on one layer's activations
 * shared by the layers: the residual stream x and its norm, the QKV GEMM's
 * output (q, k and v are views of it: the attention reads them in place),
 * the attention output, the MLP's gate/up and hidden state, the logits. Its
 * weights are the run's (zz_weights), shared by every executor; each
 * executor has its own cuBLASLt handle and GEMM workspace, whose matmul
 * plans are made by an eager call of every GEMM shape at creation, before
 * any capture.
 *
 * Modes: eager launches every kernel from the host each step; graph captures
 * the step once (on first use) and replays it.
 *
 * verify.h checks an executor's steps against the CPU reference.
 */
#ifndef ZZ_EXECUTOR_H
#define ZZ_EXECUTOR_H

#include <cuda_runtime_api.h>
#include "error.h"
#include "reference.h"
#include "plan.h"
#include "timeline.h"

typedef enum { ZZ_MODE_EAGER, ZZ_MODE_GRAPH } zz_mode;
const char *zz_mode_name(zz_mode mode);
int zz_mode_from_name(const char *name, zz_mode *out);  /* -1 if unknown */

typedef struct zz_executor zz_executor;

/* A model step's weights: one random set for a model shape and seed, made
 * once and shared by every executor of that model (none holds its own).
 * bf16, one allocation; per layer two RMSNorm weights (all 1, as a fresh
 * RMSNorm), W_qkv, W_o, W_gate_up, W_down (uniform in ±0.02, so the
 * activations stay finite through the layers); the final norm (1), the
 * LM head (±0.02) and the embedding table (±1, the rows the step's embed
 * op copies). The layouts that reorder their weights at load read this one
 * set as their storage order (docs/DESIGN.md: a permutation of random
 * weights is another draw of the same distribution). Bytes as
 * zz_model_weight_bytes counts them, each tensor at a 256-byte boundary.
 * The model must have a model step's sizes (zz_model_check_step). */
typedef struct zz_weights zz_weights;
int zz_weights_create(const zz_model *m, unsigned long long seed, cudaStream_t stream, zz_weights **out,
                      zz_error *err);
void zz_weights_destroy(zz_weights *w);

/* The GEMM workspace of a model step's executor (cuBLASLt's split-K partials). */
#define ZZ_GEMM_WORKSPACE_BYTES (32LL << 20)

/* What the plan needs in device memory (plan.h), counted before anything
 * is allocated: weights (the plan's weight_bytes), KV caches, activations,
 * workspaces. resident: blocks of the one-launch decode kernel per SM
 * (zz_decode_one_launch_resident for the model's head dim), which sizes a
 * one-launch decode's workspace; the other plans do not read it. */
zz_memory zz_executor_memory(const zz_plan *plan, int sm_count, int resident);
/* What zz_executor_create allocates for the plan: its memory less the
 * weights, which are the run's (compare with cudaMemGetInfo before creating). */
double zz_executor_device_bytes(const zz_plan *plan, int sm_count, int resident);

/* The plan is copied. Nothing is launched yet except the random fills (and,
 * for a model step, one eager call of each GEMM shape). weights: the run's
 * for a model step (same shape as the plan's model), NULL otherwise;
 * borrowed until destroy. */
int zz_executor_create(const zz_plan *plan, cudaStream_t stream, int sm_count, const zz_weights *weights,
                       zz_executor **out, zz_error *err);
void zz_executor_destroy(zz_executor *ex);

/* The launches of one step, in launch order; valid until destroy. */
const zz_launch *zz_executor_launches(const zz_executor *ex, int *count);

/* Enqueue one step on the executor's stream (no synchronisation). Sets
 * *host_seconds to the host time spent enqueueing it. NVTX ranges mark the
 * layers and ops (eager; in graph mode, while capturing). */
int zz_executor_enqueue(zz_executor *ex, zz_mode mode, double *host_seconds, zz_error *err);

#endif
