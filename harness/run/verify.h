/* Checks of an executor against the CPU reference (kernels/reference.h),
 * and the hooks that let a test see a write a step skipped.
 *
 * zz_executor_verify runs each layer on its own, pass by pass, eagerly, on
 * fresh random inputs for every layer and pass (so a layer that reads another
 * layer's inputs or caches gets the wrong values), with the layer output and
 * every buffer the step writes before reading it set to NaN first (so an
 * unwritten output element shows). After each pass it checks
 *   - every KV cache of the layer, bit for bit, against the CPU's own copy:
 *     downloaded once before the layer's first pass, then appended to on the
 *     CPU (ref_cache_write: the full cache for retrieval heads, sink + ring
 *     for streaming heads) with the pass's new K and V; a difference fails
 *     with its place;
 *   - the pass's output against the reference computed from the CPU's side
 *     alone: decode attends the CPU's copy of the cache, prefill every token
 *     of the layer so far by position (DuoAttention's chunk semantics for
 *     chunked streaming heads); *worst gets the largest relative error
 *     (NaN if an output element was left unwritten).
 * The executor's caches end as after a step (decode writes position S again).
 * For small configurations: the CPU side is the reference attention.
 *
 * A model step (docs/DESIGN.md, "The model step"): each layer's attention
 * ops alone, as above, on q, k, v written into the QKV output (where the
 * attention reads them) and read back through the same views; its norms,
 * GEMMs, rotary and SiLU do not run there (tests/gpu/test_layers.c checks
 * those kernels against their CPU references). Then one whole step, eager:
 * every logit must be finite, or the check fails naming the first that is
 * not.
 */
#ifndef ZZ_VERIFY_H
#define ZZ_VERIFY_H

#include "executor.h"

int zz_executor_verify(zz_executor *ex, double *worst, zz_error *err);

/* Sets the layer output, every buffer a step writes before it reads it
 * (duo copies, the chunked window, the split-KV workspace; a model step's
 * x, its norm, the QKV output, gate/up, the MLP's hidden state, the
 * logits) and every cache slot a step writes to NaN: a step that then skips a launch leaves NaN
 * behind, in what zz_executor_snapshot copies or in what it later computes.
 * Enqueued on the executor's stream. For tests. */
int zz_executor_poison(zz_executor *ex, zz_error *err);

/* A host copy (malloc'd, *n values) of what a step leaves behind: the layer
 * output buffer (after a step, the last layer's output), then every layer's
 * caches, then a model step's logits (B × V). Waits for the executor's
 * stream. For tests. */
int zz_executor_snapshot(zz_executor *ex, bf16 **host, long long *n, zz_error *err);

#endif
