/* Device description and ceilings (see device.h). */
#include "device.h"

#include <cublas_v2.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "stats.h"

#define ELSEWHERE "run it on a machine with an NVIDIA GPU"

int zz_device_check(int ordinal, zz_error *err) {
    int count = 0, driver = 0, runtime = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver) {
        /* The runtime reports a missing driver as an old one; an absent
         * driver has version 0. */
        if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0)
            return zz_errorf(err, "no NVIDIA GPU visible: no NVIDIA driver found here; " ELSEWHERE);
        if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) runtime = 0;
        return zz_errorf(err, "the NVIDIA driver here runs CUDA up to %d.%d, older than the CUDA %d.%d this was built "
                         "with", driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10);
    }
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
        const char *visible = getenv("CUDA_VISIBLE_DEVICES");
        return zz_errorf(err, "no NVIDIA GPU visible%s%s%s; " ELSEWHERE, visible ? " (CUDA_VISIBLE_DEVICES is '" : "",
                         visible ? visible : "", visible ? "')" : "");
    }
    if (e != cudaSuccess) return zz_errorf(err, "no usable NVIDIA GPU: %s", cudaGetErrorString(e));
    if (ordinal < 0 || ordinal >= count)
        return zz_errorf(err, "no GPU %d: %d NVIDIA GPU%s visible here", ordinal, count, count == 1 ? "" : "s");
    return 0;
}

int zz_device_query(int ordinal, zz_device *out, zz_error *err) {
    struct cudaDeviceProp p;
    memset(out, 0, sizeof *out);
    ZZ_CUDA_OR_GOTO(cudaGetDeviceProperties(&p, ordinal), fail);
    snprintf(out->name, sizeof out->name, "%s", p.name);
    out->sm_count = p.multiProcessorCount;
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    ZZ_CUDA_OR_GOTO(cudaDeviceGetAttribute(&out->sm_clock_mhz, cudaDevAttrClockRate, ordinal), fail);
    ZZ_CUDA_OR_GOTO(cudaDeviceGetAttribute(&out->mem_clock_mhz, cudaDevAttrMemoryClockRate, ordinal), fail);
    ZZ_CUDA_OR_GOTO(cudaDeviceGetAttribute(&out->mem_bus_bits, cudaDevAttrGlobalMemoryBusWidth, ordinal), fail);
    out->sm_clock_mhz /= 1000;  /* attributes are in kHz */
    out->mem_clock_mhz /= 1000;
    out->global_mem_bytes = (long long)p.totalGlobalMem;
    out->l2_bytes = p.l2CacheSize;
    ZZ_CUDA_OR_GOTO(cudaDriverGetVersion(&out->driver_version), fail);
    ZZ_CUDA_OR_GOTO(cudaRuntimeGetVersion(&out->runtime_version), fail);
    return 0;
fail:
    return -1;
}

enum { COPY, GEMM };

int zz_measure_ceilings(cudaStream_t stream, int samples, zz_ceilings *out, zz_error *err) {
    const long long copy_bytes = 1LL << 30;
    const int n = 8192;
    void *src = NULL, *dst = NULL, *c = NULL;
    bf16 *a = NULL, *b = NULL;
    cudaEvent_t start = NULL, stop = NULL;
    cublasHandle_t blas = NULL;
    double seconds[64];
    int rc = -1;
    if (samples < 1 || samples > 64) return zz_errorf(err, "ceilings: %d samples (1..64)", samples);
    memset(out, 0, sizeof *out);
    ZZ_CUDA_OR_GOTO(cudaMalloc(&src, copy_bytes), fail);
    ZZ_CUDA_OR_GOTO(cudaMalloc(&dst, copy_bytes), fail);
    ZZ_CUDA_OR_GOTO(cudaMalloc((void **)&a, (size_t)n * n * 2), fail);
    ZZ_CUDA_OR_GOTO(cudaMalloc((void **)&b, (size_t)n * n * 2), fail);
    ZZ_CUDA_OR_GOTO(cudaMalloc(&c, (size_t)n * n * 2), fail);
    /* Random data: tensor cores run measurably faster on zeros or on one
     * repeated value (less switching), which would inflate the ceiling. */
    ZZ_CUDA_OR_GOTO(cudaMemsetAsync(src, 0x3c, copy_bytes, stream), fail);
    if (zz_fill_uniform(a, (long long)n * n, 11, 1.f, stream) || zz_fill_uniform(b, (long long)n * n, 12, 1.f, stream)) {
        zz_errorf(err, "%s", zz_kernel_error());
        goto fail;
    }
    ZZ_CUDA_OR_GOTO(cudaEventCreate(&start), fail);
    ZZ_CUDA_OR_GOTO(cudaEventCreate(&stop), fail);
    ZZ_CUBLAS_OR_GOTO(cublasCreate(&blas), fail);
    ZZ_CUBLAS_OR_GOTO(cublasSetStream(blas, stream), fail);

    for (int what = COPY; what <= GEMM; what++) {
        const float one = 1.f, zero = 0.f;
        for (int i = -3; i < samples; i++) {  /* three warm-up runs */
            ZZ_CUDA_OR_GOTO(cudaEventRecord(start, stream), fail);
            if (what == COPY)
                ZZ_CUDA_OR_GOTO(cudaMemcpyAsync(dst, src, copy_bytes, cudaMemcpyDeviceToDevice, stream), fail);
            else
                ZZ_CUBLAS_OR_GOTO(cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, CUDA_R_16BF, n, b,
                                            CUDA_R_16BF, n, &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT), fail);
            ZZ_CUDA_OR_GOTO(cudaEventRecord(stop, stream), fail);
            ZZ_CUDA_OR_GOTO(cudaEventSynchronize(stop), fail);
            float ms;
            ZZ_CUDA_OR_GOTO(cudaEventElapsedTime(&ms, start, stop), fail);
            if (i >= 0) seconds[i] = ms * 1e-3;
        }
        zz_stats st;
        if (zz_stats_of(seconds, (size_t)samples, &st, err)) goto fail;
        const double median_s = st.median;
        if (what == COPY)
            out->copy_gbps = 2.0 * copy_bytes / median_s * 1e-9;
        else
            out->gemm_tflops = 2.0 * n * n * (double)n / median_s * 1e-12;
    }
    out->copy_bytes = copy_bytes;
    out->gemm_n = n;
    rc = 0;
fail:
    if (blas) cublasDestroy(blas);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    cudaFree(src);
    cudaFree(dst);
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
    return rc;
}
