/* The kernel-name tags of the executor's launches (zz_launch.tag): a
 * substring of the (mangled) name CUPTI reports for the kernel a launch
 * runs, by which the timeline (harness/measure/timeline.c) checks each
 * record against the launch it attributes it to, and so its category.
 * A header of their own so that tests/test_timeline.c can hold the names
 * of the kernels (kernels/) against them without a GPU: a tag that is
 * a substring of another kernel's name would let a launch of the wrong
 * kernel pass unnoticed. */
#ifndef ZZ_KERNEL_TAGS_H
#define ZZ_KERNEL_TAGS_H

#define TAG_PREFILL "prefill_kernel"
#define TAG_PREFILL_HOPPER "prefill_hopper_kernel"
#define TAG_DECODE "decode_split_kernel"
#define TAG_ONE_LAUNCH "decode_one_launch_kernel"
#define TAG_FUSED_DECODE "decode_fused_kernel"
#define TAG_FUSED_PREFILL "prefill_fused_kernel"
#define TAG_FUSED_PREFILL_HOPPER "prefill_hopper_fused_kernel"
#define TAG_COMBINE "combine_kernel"
#define TAG_CACHE "cache_write_kernel"
#define TAG_WINDOW "streaming_window_kernel"
#define TAG_COPY "copy_heads_kernel"
/* A model step's: our own kernels (kernels/layers.cu) and the embed copy
 * (CUPTI names a memcpy "memcpy"). cuBLASLt picks its GEMM kernels at run
 * time, under names no tag can know beforehand ("gemm" is in many, not in
 * all; a split-K reduction follows some): a GEMM is a library launch
 * (zz_launch.library, timeline.h), whose records are those up to the next
 * tagged kernel, and TAG_LINEAR only labels it in messages. */
#define TAG_EMBED "memcpy"
#define TAG_RMSNORM "rmsnorm_kernel"
#define TAG_ROTARY "rotary_kernel"
#define TAG_SILU_MUL "silu_mul_kernel"
#define TAG_LINEAR "gemm"

#endif
