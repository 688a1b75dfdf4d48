/* The GPU the suite runs on: what it is, and the two ceilings every kernel
 * result is compared with, measured once per run on the device itself:
 *   copy  device-to-device copy bandwidth, bytes read + written (GB/s)
 *   gemm  cuBLAS bf16 matrix product rate, float accumulation (TFLOP/s)
 */
#ifndef ZZ_DEVICE_H
#define ZZ_DEVICE_H

#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime_api.h>
#include "error.h"

typedef struct {
    char name[256];
    int sm_count, cc_major, cc_minor;
    int sm_clock_mhz, mem_clock_mhz, mem_bus_bits;
    long long global_mem_bytes, l2_bytes;
    int driver_version, runtime_version;
} zz_device;

/* Whether GPU `ordinal` is there to use, before any set-up: 0, or -1 with
 * one line for the person at the keyboard. Without a GPU or a driver the
 * line says so and to run it on a machine with an NVIDIA GPU (CUDA's own
 * text for a missing driver asks for a driver update), with no file:line:
 * that stays for CUDA failures after set-up. */
int zz_device_check(int ordinal, zz_error *err);
int zz_device_query(int ordinal, zz_device *out, zz_error *err);

typedef struct {
    double copy_gbps;      /* device-to-device, read + written */
    double gemm_tflops;    /* bf16 in, float accumulate */
    long long copy_bytes;  /* size of the copy measured (each direction) */
    int gemm_n;            /* n x n x n product measured */
} zz_ceilings;

/* Median of `samples` timed runs after warm-up, on `stream`. */
int zz_measure_ceilings(cudaStream_t stream, int samples, zz_ceilings *out, zz_error *err);

#endif
