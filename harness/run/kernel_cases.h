/* One kernel alone on random data, timed in batches of launches replayed
 * as a CUDA graph: what zz-kernel-bench and zz-gbench share (buffers, the
 * launch of each kernel kind, its FLOPs and bytes, the event timing behind
 * the stream blocker).
 *
 * A case is a kernel kind and a shape. zz_kernel_run_init allocates its
 * tensors (in `sets` copies, used in turn, so that a launch finds no input
 * in L2 that an earlier launch left there, as a layer of a model step does),
 * fills them with random bf16 values and launches once unblocked: a
 * kernel's first launch loads its module (lazy loading) and that waits for
 * the device, which would deadlock behind the stream blocker.
 *
 * Work, per launch, is counted by work.h, as for the plan and kernels.csv:
 * the decode split kernel alone gets the whole attention's bytes (as
 * kernels.csv attributes them to it), the combine alone its own, a
 * one-launch decode the attention's and the appended token's, a fused
 * mixed-layer decode the sum of its two kinds' as one-launch decodes of
 * their heads alone would count them; a cache write counts the tokens its
 * cache keeps; tile_flops is set for prefill.
 * compute_bound picks the ceiling to compare with: GEMM rate, else copy
 * bandwidth.
 *
 * The layer kinds (issue 17, kernels/layers.h) run on rows = batch ×
 * tokens rows of activations: a linear layer's FLOPs are 2 · rows · in ·
 * out and its bytes X, W and Y once (Y twice with beta 1), compute-bound
 * when that is at least ZZ_KC_GEMM_RIDGE FLOP per byte (decode's rows 1 is
 * a weight read, a 32K prefill chunk's GEMM a tensor-core one); RMSNorm and
 * SiLU·up count their bytes (read + written) only.
 *
 * Library code: returns 0, or -1 with a one-line message in err (file:line
 * of the failing CUDA call); prints nothing.
 */
#ifndef ZZ_KERNEL_CASES_H
#define ZZ_KERNEL_CASES_H

#include <cuda_runtime_api.h>

#include "attention.h"
#include "error.h"
#include "layers.h"

typedef enum {
    ZZ_KC_PREFILL,        /* zz_prefill_attention on S queries, full or streaming mask */
    ZZ_KC_DECODE,         /* decode as its variant runs it: split-combine's zz_decode_attention (split
                           * kernel, then combine when splits > 1; its cache write is ZZ_KC_CACHE_WRITE),
                           * one-launch's zz_decode_one_launch (appends the token at S too) */
    ZZ_KC_DECODE_SPLIT,   /* split-combine's split kernel alone (the other kernel cut from the captured graph) */
    ZZ_KC_DECODE_COMBINE, /* split-combine's combine kernel alone, on the partials a first decode launch left */
    ZZ_KC_CACHE_WRITE,    /* zz_cache_write: `tokens` tokens at positions ctx.., full cache or ring */
    ZZ_KC_CONCAT,         /* zz_concat_heads: duo-cat's join of two halves of the query heads */
    ZZ_KC_GATHER,         /* zz_gather_heads: all query heads into retrieval-first order */
    ZZ_KC_SCATTER,        /* zz_scatter_heads: back into model order */
    ZZ_KC_DECODE_FUSED,   /* zz_decode_fused: a mixed layer's decode in one launch (duo-fused), the token
                           * appended at S to every head's cache; retrieval heads first (identity order) */
    ZZ_KC_LINEAR,         /* zz_linear: Y[rows][out] = X[rows][in] · W^T (+ Y with accumulate) */
    ZZ_KC_RMSNORM,        /* zz_rmsnorm: rows of `in` (the hidden size) */
    ZZ_KC_SILU_MUL,       /* zz_silu_mul: rows of 2 · `in` (gate, up) into rows of `in` (the MLP size) */
} zz_kc_kind;

/* FLOP per byte from which a linear case is compared with the GEMM
 * ceiling rather than the copy bandwidth: between an H100's or H200's
 * ridge points (about 200-300 at their measured ceilings) and the rates of
 * the cases (about 1 at rows 1, above 1000 at 32K rows). */
#define ZZ_KC_GEMM_RIDGE 64
/* The cuBLASLt workspace a linear case's zz_gemm gets (cuBLAS's own
 * default on Hopper). */
#define ZZ_KC_GEMM_WORKSPACE ((size_t)32 << 20)

typedef struct {
    zz_kc_kind kind;
    int batch, q_heads, kv_heads, head_dim;
    long long ctx;      /* prefill: S queries; decode: S cached tokens (one new token at position S);
                         * cache write: tokens already cached (0 for a prefill's write) */
    long long tokens;   /* cache write, copies: new tokens per sequence (1 for decode, S for prefill) */
    zz_mask_kind mask;  /* attention, cache write: full, or streaming (sink + recent ring) */
    int sink, recent;
    int splits;         /* decode: 0 = the variant's split rule */
    int variant;        /* attention kinds: the phase's kernel variant (variants.h), 0 the default */
    int retrieval;      /* decode-fused: KV heads 0..retrieval-1 read a full cache of S + 1 slots, the rest
                         * the sink + recent ring (mask streaming, sink, recent: theirs); 0 for other kinds */
    int in, out;        /* layer kinds: features in and out (rmsnorm: hidden; silu_mul: MLP size) */
    int accumulate;     /* linear: beta 1, the residual add of the O and down projections */
} zz_kernel_case;

typedef struct {
    double flops, tile_flops, bytes;
    int compute_bound;
} zz_kernel_work;

/* Kind names, as zz-gbench and zz-kernel-bench print them ("prefill", "decode-combine", ...). */
const char *zz_kc_kind_name(zz_kc_kind kind);
/* The kernel variant's name of an attention case ("split-combine", "fa2", ...); NULL for the other kinds. */
const char *zz_kc_variant_name(const zz_kernel_case *c);

/* Checks the shape and computes the work of one launch (CPU only). sm_count
 * picks the decode split count (the combine's bytes depend on it). */
int zz_kernel_case_work(const zz_kernel_case *c, int sm_count, zz_kernel_work *out, zz_error *err);

#define ZZ_KC_MAX_SETS 64

typedef struct {
    zz_kernel_case c;
    zz_kernel_work work;
    int sm_count;
    int splits;               /* decode: the split count the launcher uses (decode-fused: its retrieval heads') */
    int splits_streaming;     /* decode-fused: its streaming heads' split count */
    int sets;                 /* buffer sets, used in turn */
    long long set_bytes;      /* device bytes of one set */
    /* Per kind (NULL where unused), `sets` copies each, set i at i * *_elems:
     * attention q, k, v, o; cache write: k, v the cache, q, o the new K, V;
     * copies: q the source, o the destination; decode-fused: k and v each
     * the retrieval heads' cache followed by the streaming heads' ring;
     * layer kinds: q the input (X, or gate and up), k the weight (W, the
     * norm's; none for silu_mul), o the output. */
    bf16 *q, *k, *v, *o;
    long long q_elems, kv_elems, o_elems;
    int *index;               /* gather/scatter: device permutation of the query heads */
    bf16 *fresh;              /* one-launch and fused decode: the new token's K then V, fresh_elems each, per set */
    long long fresh_elems;
    int *tickets;             /* one-launch and fused decode: split counters, shared by the sets */
    int resident;             /* one-launch and fused decode: the kernel family's blocks per SM */
    zz_gemm *gemm;            /* linear: cuBLASLt handle, workspace and plan, shared by the sets */
    void *workspace;          /* decode partials, shared by the sets */
    /* The timed batches: graphs of batch_launches launches each, graph g
     * starting at set g * batch_launches (mod sets), so that batch after
     * batch the launches keep walking the sets in turn. */
    cudaGraphExec_t batch[ZZ_KC_MAX_SETS];
    int batch_graphs, batch_launches, next_batch;
} zz_kernel_run;

/* Allocates and fills the case's buffers, in as many sets (1 to
 * ZZ_KC_MAX_SETS, within half the free device memory) as it takes for the
 * sets to span rotate_bytes of the bytes a launch touches (0: one set, every
 * launch on the same buffers, L2 hot), then launches once on `stream`
 * (unblocked, see above) and waits for it. */
int zz_kernel_run_init(zz_kernel_run *r, const zz_kernel_case *c, int sm_count, long long rotate_bytes,
                       cudaStream_t stream, zz_error *err);
void zz_kernel_run_free(zz_kernel_run *r);

/* Times launches between two events on one stream. The launches of a timed
 * batch are one CUDA graph (captured once per batch size), replayed as
 * zz-bench's graph mode replays a step: a graph's kernels follow each other
 * with a smaller gap than launches of a stream, and that gap is in the
 * time, while CUPTI's kernel durations (zz-bench's kernels.csv) leave it
 * out. Behind the stream blocker (nvbench's), the host enqueues the start
 * event, the graph and the stop event while the stream is held and then
 * releases it, so the time is the GPU's alone, without the host's launch
 * latency. One launch between the events is nvbench's "GPU time" and
 * carries the events' and the dispatch's overhead, large beside a short
 * kernel; a batch (nvbench's "batch GPU time") pays it once
 * (kernels/NOTES.md, "Timing method change"). The stream must be one the
 * program created: the legacy default stream cannot be captured. */
typedef struct {
    cudaStream_t stream;
    cudaEvent_t start, stop;
    volatile int *release;    /* host-mapped flag the blocker spins on */
} zz_launch_timer;

int zz_launch_timer_init(zz_launch_timer *t, cudaStream_t stream, zz_error *err);
void zz_launch_timer_free(zz_launch_timer *t);
#define ZZ_KC_MAX_BATCH 128 /* launches per timed graph */

/* `launches` (1 to ZZ_KC_MAX_BATCH) launches of r back to back, their
 * total time in *seconds; blocked = 0 only for warm-ups. */
int zz_kernel_run_time(zz_kernel_run *r, zz_launch_timer *t, int blocked, int launches, double *seconds,
                       zz_error *err);

/* --batch-us of zz-kernel-bench and zz-gbench: the GPU time a timed batch
 * aims at, in µs (0: one launch). Parses TEXT into *us, 0 to 1e6. */
#define ZZ_KC_BATCH_US_DEFAULT 200
int zz_kernel_batch_us_parse(const char *text, double *us, zz_error *err);

/* The batch size for a case: as many launches as take target_s of GPU
 * time, judged by the fastest of three single launches (1 when target_s is
 * 0, at most ZZ_KC_MAX_BATCH). */
int zz_kernel_run_batch_for(zz_kernel_run *r, zz_launch_timer *t, double target_s, int *launches, zz_error *err);

#endif
