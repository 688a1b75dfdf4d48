/* The table of kernel variants (variants.h). */
#include "variants.h"

#include <stddef.h>
#include <string.h>

static const zz_kernel_variant variants[] = {
    {ZZ_DECODE, ZZ_DECODE_SPLIT_COMBINE, "split-combine",
     "cache_write_kernel, decode_split_kernel, combine_kernel (when split)",
     "v3 of kernels/NOTES.md: flash-decoding split-KV kernel (GQA group as mma rows, 3-stage cp.async), a "
     "log-sum-exp combine kernel launched as its programmatic dependent, the new token's K/V written by a cache "
     "kernel before; splits by zz_decode_default_splits (blocks spread within 5 % over the SMs)"},
    {ZZ_DECODE, ZZ_DECODE_ONE_LAUNCH, "one-launch", "decode_one_launch_kernel",
     "issue 14: one launch per head group instead of three. The cache write and the combine were launches of "
     "2-7 us each, 126 per duo step at B 1: the block whose split holds the new token's slot stores it there "
     "and attends it, and the last split block of each (batch, KV head) to finish (an atomic ticket) combines "
     "the partials. Splits by the wave rule (zz_decode_wave_splits) with the blocks really resident per SM, so "
     "4 KV heads fill the GPU as 8 do, streaming windows too. A programmatic dependent launch: its blocks "
     "stream their cache while the kernel before drains (the default decode kernel)"},
    {ZZ_PREFILL, ZZ_PREFILL_FA2, "fa2",
     "prefill_kernel (chunked streaming heads: streaming_window_kernel first); duo-fused's mixed layers: "
     "prefill_fused_kernel",
     "v3 of kernels/NOTES.md: FlashAttention-2-style, 4 warps of 32 query rows, 64-key tiles, 2-stage cp.async, "
     "one barrier per tile; the streaming band skips whole tiles"},
    {ZZ_PREFILL, ZZ_PREFILL_WGMMA_TMA, "wgmma-tma",
     "prefill_hopper_kernel (chunked streaming heads: streaming_window_kernel first); duo-fused's mixed layers: "
     "prefill_hopper_fused_kernel",
     "issue 16, v4 of kernels/NOTES.md: Hopper only (sm_90a code on an sm_90 device). mma.sync with ldmatrix "
     "operands held fa2 near 300 TFLOP/s on the H200; wgmma reads K, V (and Q) straight from shared memory and "
     "runs asynchronously, TMA brings 128-row tiles in one instruction through a 2-stage mbarrier ring, a producer "
     "warpgroup feeds two consumer warpgroups (setmaxnreg 24/240) that take turns at the tensor cores, so one's "
     "softmax overlaps the other's products; blocks of 128 positions of one query head, 128-key tiles"},
};
#define VARIANTS (int)(sizeof variants / sizeof variants[0])

const char zz_decode_kernel_names[] = "split-combine, one-launch";
const char zz_prefill_kernel_names[] = "fa2, wgmma-tma";

int zz_default_prefill_kernel(int hopper_supported) {
    return hopper_supported ? ZZ_PREFILL_WGMMA_TMA : ZZ_PREFILL_FA2;
}

const zz_kernel_variant *zz_kernel_variants(int *count) {
    *count = VARIANTS;
    return variants;
}

int zz_kernel_variant_count(zz_phase phase) { return phase == ZZ_DECODE ? ZZ_DECODE_KERNELS : ZZ_PREFILL_KERNELS; }

const zz_kernel_variant *zz_kernel_variant_of(zz_phase phase, int id) {
    for (int i = 0; i < VARIANTS; i++)
        if (variants[i].phase == phase && variants[i].id == id) return &variants[i];
    return NULL;
}

const char *zz_kernel_variant_name(zz_phase phase, int id) {
    const zz_kernel_variant *v = zz_kernel_variant_of(phase, id);
    return v ? v->name : "?";
}

int zz_kernel_variant_from_name(zz_phase phase, const char *name, int *id) {
    for (int i = 0; i < VARIANTS; i++)
        if (variants[i].phase == phase && !strcmp(variants[i].name, name)) return *id = variants[i].id, 0;
    return -1;
}
