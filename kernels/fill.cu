/* Device-side random fill, so benchmarks never time zeros (which can run
 * faster than real data) and large buffers need no host copy. A counter-based
 * hash (splitmix64 of seed + index): any element is reproducible alone. */
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
