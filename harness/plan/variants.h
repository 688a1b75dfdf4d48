/* Kernel variants: the implementations the suite can run for each phase's
 * attention, one table (issue 14).
 *
 * Comparing kernels on a new GPU is one of the suite's jobs, so a variant is
 * named and selectable at run time, not a rebuild: `zz-bench run
 * --decode-kernel NAME|all` and `--prefill-kernel NAME|all` sweep them as a
 * dimension of the configurations, `zz-kernel-bench --list` shows them and
 * `--kernel NAME` picks one. The variant of every measurement is in
 * results.csv and kernels.csv (columns decode_kernel, prefill_kernel), the
 * variants of the run in env.json. Each entry says what it changes against
 * the previous variant of its phase and why, in the way of llm.c's numbered
 * kernels; kernels/NOTES.md has their predictions and measurements.
 *
 * The first variant of each phase (id 0) is the default: what the suite ran
 * before variants had names, so files without the new columns read as it.
 * A workload carries the id of its phase's variant (zz_workload.kernel).
 * Tile shapes stay build-time choices (make KERNEL_DEFS=-D...), within a variant.
 */
#ifndef ZZ_VARIANTS_H
#define ZZ_VARIANTS_H

#include "model.h"

typedef enum {
    ZZ_DECODE_SPLIT_COMBINE,  /* split-KV kernel, combine kernel, separate cache write */
    ZZ_DECODE_ONE_LAUNCH,     /* one kernel: split-KV, combine by the last split, cache append */
} zz_decode_kernel;
#define ZZ_DECODE_KERNELS (ZZ_DECODE_ONE_LAUNCH + 1)

typedef enum {
    ZZ_PREFILL_FA2,        /* FlashAttention-2-style mma.sync kernel */
    ZZ_PREFILL_WGMMA_TMA,  /* Hopper: TMA + wgmma, warp-specialised (sm_90a builds on sm_90 devices) */
} zz_prefill_kernel;
#define ZZ_PREFILL_KERNELS (ZZ_PREFILL_WGMMA_TMA + 1)

#define ZZ_MAX_KERNEL_VARIANTS 8  /* per phase */

typedef struct {
    zz_phase phase;
    int id;                /* a zz_decode_kernel or zz_prefill_kernel */
    const char *name;
    const char *launches;  /* the kernels one attention op of a step launches */
    const char *change;    /* against the previous variant of its phase, and why */
} zz_kernel_variant;

/* The table, decode's variants first, each phase's in id order. */
const zz_kernel_variant *zz_kernel_variants(int *count);
int zz_kernel_variant_count(zz_phase phase);
/* NULL when id is not one of the phase's variants. */
const zz_kernel_variant *zz_kernel_variant_of(zz_phase phase, int id);
const char *zz_kernel_variant_name(zz_phase phase, int id);
int zz_kernel_variant_from_name(zz_phase phase, const char *name, int *id); /* -1 if unknown */

/* The prefill variant to run when none is asked for: wgmma-tma where it
 * can run (an sm_90 device and a build with 90a code), else fa2. Pure:
 * `hopper_supported` is zz_prefill_hopper_supported's answer. */
int zz_default_prefill_kernel(int hopper_supported);

/* For help texts: the phase's names in id order, ", "-separated. */
extern const char zz_decode_kernel_names[], zz_prefill_kernel_names[];

#endif
