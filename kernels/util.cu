/* Utilities for benchmarks.
 *
 * Random fill on the device, so benchmarks never time zeros (which can run
 * faster than real data) and large buffers need no host copy: a
 * counter-based hash (splitmix64 of seed + index), any element reproducible
 * alone.
 *
 * A stream blocker, as nvbench does it: a one-thread kernel spins until the
 * host sets a flag, so the host can enqueue the start event, the work and the
 * stop event behind it and then release them at once. Without it, the time
 * between the events of a short kernel includes the host's launch latency.
 *
 * A spin kernel of a given cycle count: steps of kernels whose durations are
 * known and need no data, to find where a step's latency starts following
 * the host's launch rate (bench/host_pacing.c). */
#include "common.cuh"

__device__ __forceinline__ unsigned long long splitmix64(unsigned long long x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

__global__ void fill_uniform_kernel(__nv_bfloat16 *x, long long n, unsigned long long seed, float scale) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float u = (float)(splitmix64(seed + (unsigned long long)i) >> 40) * (1.0f / 16777216.0f);
        x[i] = __float2bfloat16((2.f * u - 1.f) * scale);
    }
}

extern "C" int zz_fill_uniform(bf16 *x, long long n, unsigned long long seed, float scale, cudaStream_t stream) {
    ZZ_REQUIRE(x != NULL && n >= 0, "fill: %lld elements at %p", n, (void *)x);
    if (n == 0) return ZZ_OK;
    long long blocks = (n + 255) / 256;
    fill_uniform_kernel<<<(unsigned)(blocks < 4096 ? blocks : 4096), 256, 0, stream>>>(
        reinterpret_cast<__nv_bfloat16 *>(x), n, seed, scale);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

__global__ void stream_blocker_kernel(volatile int *release, unsigned long long timeout_ns) {
    unsigned long long start;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    for (;;) {
        if (*release) return;
        unsigned long long now;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
        if (now - start > timeout_ns) { *release = -1; return; }  /* the host died or forgot: don't hang the GPU */
    }
}

extern "C" int zz_block_stream(volatile int *release, cudaStream_t stream) {
    ZZ_REQUIRE(release != NULL, "stream blocker needs a host-mapped flag");
    *release = 0;
    stream_blocker_kernel<<<1, 1, 0, stream>>>(release, 2000000000ULL);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}

__global__ void spin_kernel(long long cycles) {
    const long long start = clock64();
    while (clock64() - start < cycles) {
    }
}

extern "C" int zz_spin(long long cycles, cudaStream_t stream) {
    ZZ_REQUIRE(cycles >= 0, "spin: %lld cycles", cycles);
    spin_kernel<<<1, 1, 0, stream>>>(cycles);
    ZZ_CHECK_LAUNCH();
    return ZZ_OK;
}
