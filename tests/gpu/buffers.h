/* Host and device buffers of the GPU kernel tests (test_kernels.c,
 * test_prefill_fused.c): seeded random bf16, uploads, NaN-poisoned device
 * buffers and downloads (bf16 or floats). Each test file gets its own copy of the
 * seed counter. */
#ifndef ZZ_TESTS_GPU_BUFFERS_H
#define ZZ_TESTS_GPU_BUFFERS_H

#include <stdlib.h>
#include "attention.h"
#include "check.h"

static unsigned long long seed_counter = 1;

static unsigned long long splitmix(unsigned long long *s) {
    unsigned long long x = (*s += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* n bf16 values uniform in [-1, 1], a new seed on every call. */
static bf16 *host_random(long long n) {
    bf16 *x = malloc((size_t)n * sizeof *x);
    unsigned long long s = seed_counter++ * 0x2545F4914F6CDD1DULL;
    for (long long i = 0; i < n; i++) x[i] = bf16_from_float((float)((splitmix(&s) >> 11) * 0x1.0p-53 * 2.0 - 1.0));
    return x;
}

static bf16 *to_device(const bf16 *h, long long n) {
    bf16 *d;
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&d, (size_t)n * sizeof *d));
    ZZ_CUDA_OR_EXIT(cudaMemcpy(d, h, (size_t)n * sizeof *d, cudaMemcpyHostToDevice));
    return d;
}

/* All bytes 0xff: bf16 0xffff is a NaN. */
static bf16 *device_poisoned(long long n) {
    bf16 *d;
    ZZ_CUDA_OR_EXIT(cudaMalloc((void **)&d, (size_t)n * sizeof *d));
    ZZ_CUDA_OR_EXIT(cudaMemset(d, 0xff, (size_t)n * sizeof *d));
    return d;
}

/* n bf16 of device memory, after the device has finished its work. */
static bf16 *to_host(const bf16 *d, long long n) {
    bf16 *h = malloc((size_t)n * sizeof *h);
    ZZ_CUDA_OR_EXIT(cudaDeviceSynchronize());
    ZZ_CUDA_OR_EXIT(cudaMemcpy(h, d, (size_t)n * sizeof *h, cudaMemcpyDeviceToHost));
    return h;
}

static float *to_host_floats(const bf16 *d, long long n) {
    bf16 *h = to_host(d, n);
    float *f = malloc((size_t)n * sizeof *f);
    for (long long i = 0; i < n; i++) f[i] = bf16_to_float(h[i]);
    free(h);
    return f;
}

/* Skips the calling test (a cmocka test: print_message, skip) where it
 * runs the prefill variant wgmma-tma and the GPU cannot (hopper_supported:
 * zz_prefill_hopper_supported's answer). */
#define SKIP_WGMMA_TMA_UNLESS(is_wgmma_tma, hopper_supported)                              \
    do {                                                                                   \
        if ((is_wgmma_tma) && !(hopper_supported)) {                                       \
            print_message("  skipped: wgmma-tma needs an sm_90 GPU and a build with 90a code\n"); \
            skip();                                                                        \
        }                                                                                  \
    } while (0)

#define KERNEL_OK(call)                                                         \
    do {                                                                        \
        int rc_ = (call);                                                       \
        if (rc_ != ZZ_OK) fail_msg("%s: %s", #call, zz_kernel_error());         \
    } while (0)

#endif
