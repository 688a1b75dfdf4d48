/* Checking the return code of every CUDA, CUPTI, cuBLAS and kernel-API
 * call, named by what happens on failure:
 *   X_OR_RETURN(call)        library code: write "file:line: call: why"
 *                            into the function's `zz_error *err`, return -1
 *   X_OR_GOTO(call, label)   the same, then jump to label to clean up
 *   ZZ_CUDA_OR_EXIT(call)    executables and tests: print that line on
 *                            stderr and exit(1)
 * X is CUDA, CUPTI, CUBLAS or KERNEL (the kernels' C API, attention.h:
 * ZZ_OK or a code whose message is zz_kernel_error()). */
#ifndef ZZ_CHECK_H
#define ZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cupti.h>

#include "attention.h"
#include "error.h"

/* The failure's message, or NULL when the call succeeded. */
static inline const char *zz_cuda_failure(cudaError_t e) { return e == cudaSuccess ? NULL : cudaGetErrorString(e); }
static inline const char *zz_cublas_failure(cublasStatus_t s) {
    return s == CUBLAS_STATUS_SUCCESS ? NULL : cublasGetStatusString(s);
}
static inline const char *zz_cupti_failure(CUptiResult r) {
    const char *msg = "unknown CUPTI error";
    if (r == CUPTI_SUCCESS) return NULL;
    cuptiGetResultString(r, &msg);
    return msg;
}
static inline const char *zz_kernel_failure(int code) { return code == ZZ_OK ? NULL : zz_kernel_error(); }

#define ZZ_ON_FAILURE_(failure, call, action)                                      \
    do {                                                                           \
        const char *why_ = (failure);                                              \
        if (why_) {                                                                \
            zz_errorf(err, "%s:%d: %s: %s", __FILE__, __LINE__, #call, why_);     \
            action;                                                                \
        }                                                                          \
    } while (0)

#define ZZ_CUDA_OR_RETURN(call)        ZZ_ON_FAILURE_(zz_cuda_failure(call), call, return -1)
#define ZZ_CUDA_OR_GOTO(call, label)   ZZ_ON_FAILURE_(zz_cuda_failure(call), call, goto label)
#define ZZ_CUPTI_OR_RETURN(call)       ZZ_ON_FAILURE_(zz_cupti_failure(call), call, return -1)
#define ZZ_CUBLAS_OR_GOTO(call, label) ZZ_ON_FAILURE_(zz_cublas_failure(call), call, goto label)
#define ZZ_KERNEL_OR_RETURN(call)      ZZ_ON_FAILURE_(zz_kernel_failure(call), call, return -1)
#define ZZ_KERNEL_OR_GOTO(call, label) ZZ_ON_FAILURE_(zz_kernel_failure(call), call, goto label)

#define ZZ_CUDA_OR_EXIT(call)                                                                 \
    do {                                                                                      \
        const char *why_ = zz_cuda_failure(call);                                             \
        if (why_) {                                                                           \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, why_);             \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

#endif
