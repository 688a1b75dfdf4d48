/* One measurement (measure.h): warm-up, latency samples with events until
 * the stopping rule is met, then (with CUPTI) a short attribution pass. */
#include "measure.h"
#include "device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvtx.h"



#define ATTRIBUTION_STEPS 20
#define WARMUP_SECONDS 0.2

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void zz_measurement_free(zz_measurement *m) {
    free(m->kernels);
    zz_timeline_free(&m->owned_timeline);
    memset(m, 0, sizeof *m);
}

typedef struct {
    cudaStream_t stream, flush_stream;
    cudaEvent_t start, stop, flushed;
    void *flush_buffer;
    size_t flush_bytes;
} sampling;

/* One timed step: (L2 flush,) start event, the step, stop event. */
static int timed_step(zz_executor *ex, const sampling *sm, zz_mode mode, int index, double *seconds, double *host_s,
                      zz_error *err) {
    if (sm->flush_buffer) {
        ZZ_CUDA_OR_RETURN(cudaMemsetAsync(sm->flush_buffer, index & 0xff, sm->flush_bytes, sm->flush_stream));
        ZZ_CUDA_OR_RETURN(cudaEventRecord(sm->flushed, sm->flush_stream));
        ZZ_CUDA_OR_RETURN(cudaStreamWaitEvent(sm->stream, sm->flushed, 0));
    }
    zz_nvtx_push("sample", 0);
    ZZ_CUDA_OR_RETURN(cudaEventRecord(sm->start, sm->stream));
    if (zz_executor_enqueue(ex, mode, host_s, err)) return -1;
    ZZ_CUDA_OR_RETURN(cudaEventRecord(sm->stop, sm->stream));
    zz_nvtx_pop();
    ZZ_CUDA_OR_RETURN(cudaEventSynchronize(sm->stop));
    float ms;
    ZZ_CUDA_OR_RETURN(cudaEventElapsedTime(&ms, sm->start, sm->stop));
    *seconds = ms * 1e-3;
    return 0;
}

/* Attribution: steps run with CUPTI recording on, collected in one flush at
 * the end (a flush per step would put CUPTI's buffer handling inside the
 * next step). Their kernel durations are GPU-side, so recording does not
 * change them; the latency it inflates is not used (see measure.h). */
static int attribute(zz_executor *ex, const sampling *sm, zz_mode mode, int steps, zz_cupti *cupti,
                     zz_measurement *out, zz_error *err) {
    const zz_kernel_record *records;
    size_t n;
    uint32_t stream_id;
    uint64_t latency_ns[ATTRIBUTION_STEPS];
    /* CUPTI numbers streams when it attaches: ask after attaching. */
    if (zz_cupti_record(cupti, 1, err) || zz_cupti_stream_id(cupti, sm->stream, &stream_id, err))
        return -1;
    for (int i = 0; i < steps; i++) {
        double seconds, host_s;
        if (timed_step(ex, sm, mode, i, &seconds, &host_s, err)) return -1;
        latency_ns[i] = (uint64_t)llround(seconds * 1e9);
    }
    if (zz_cupti_collect(cupti, stream_id, &records, &n, &out->dropped_records, err) ||
        zz_cupti_record(cupti, 0, err) ||
        zz_timeline_add(&out->owned_timeline, records, n, stream_id, latency_ns, (size_t)steps, err) ||
        zz_timeline_summarize(&out->owned_timeline, &out->timeline, err) ||
        zz_timeline_layer_medians(&out->owned_timeline, out->layer_ns, err) ||
        zz_timeline_kernels(&out->owned_timeline, &out->kernels, &out->n_kernels, err))
        return -1;
    /* The step's accounting against the clean latency: kernel time as
     * recorded, idle = latency - busy, so the parts still add up exactly.
     * Where the recorded kernels outlast the clean step (a 0.3 % clock
     * drift on a 1 s prefill step, seen on the H100), they are scaled to fit
     * and the factor is reported: kernel time never exceeds the latency. */
    zz_step_time *step = &out->timeline.median_step;
    step->latency_ns = out->latency.median * 1e9;
    out->kernel_scale = step->busy_ns > step->latency_ns ? step->latency_ns / step->busy_ns : 1.0;
    if (out->kernel_scale < 1.0) {
        for (int c = 0; c < ZZ_CATEGORIES; c++) step->kernel_ns[c] *= out->kernel_scale;
        step->kernel_total_ns *= out->kernel_scale;
        step->busy_ns *= out->kernel_scale;
        step->overlap_ns *= out->kernel_scale;
    }
    step->idle_ns = step->latency_ns - step->busy_ns;
    out->have_kernels = 1;
    return 0;
}

/* Events, and with cold L2 the flush buffer and its stream. */
static int sampling_open(sampling *sm, cudaStream_t stream, int cold, zz_error *err) {
    *sm = (sampling){stream, NULL, NULL, NULL, NULL, NULL, 0};
    ZZ_CUDA_OR_RETURN(cudaEventCreate(&sm->start));
    ZZ_CUDA_OR_RETURN(cudaEventCreate(&sm->stop));
    if (cold) {
        /* Writing twice the L2 evicts whatever the last sample left there.
         * It runs on its own stream, so CUPTI's records of the step's stream
         * never contain it, and before the start event. */
        int device, l2;
        ZZ_CUDA_OR_RETURN(cudaGetDevice(&device));
        ZZ_CUDA_OR_RETURN(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
        sm->flush_bytes = 2 * (size_t)l2;
        ZZ_CUDA_OR_RETURN(cudaMalloc(&sm->flush_buffer, sm->flush_bytes));
        ZZ_CUDA_OR_RETURN(cudaStreamCreateWithFlags(&sm->flush_stream, cudaStreamNonBlocking));
        ZZ_CUDA_OR_RETURN(cudaEventCreateWithFlags(&sm->flushed, cudaEventDisableTiming));
    }
    return 0;
}

static void sampling_close(sampling *sm) {
    if (sm->start) cudaEventDestroy(sm->start);
    if (sm->stop) cudaEventDestroy(sm->stop);
    if (sm->flushed) cudaEventDestroy(sm->flushed);
    if (sm->flush_stream) cudaStreamDestroy(sm->flush_stream);
    cudaFree(sm->flush_buffer);
}

/* The steps asked for, and at least WARMUP_SECONDS of them, so the clocks
 * are up after the host-side set-up between measurements (a 0.7 ms
 * graph-mode decode step read 690 and 710 us in two runs after three
 * warm-up steps). */
static int warm_up(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_error *err) {
    double start = wall_seconds();
    for (int i = 0; i < opt->warmup || wall_seconds() - start < WARMUP_SECONDS; i++) {
        if (zz_executor_enqueue(ex, opt->mode, NULL, err)) return -1;
        ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(stream));
    }
    return 0;
}

int zz_measure_latency(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_measurement *out,
                       zz_error *err) {
    memset(out, 0, sizeof *out);
    zz_sampler latency = {0}, enqueue = {0};
    sampling sm = {0};
    int rc = -1;
    if (zz_stop_rule_check(&opt->rule, err)) return -1;
    if (sampling_open(&sm, stream, opt->cold, err) || warm_up(ex, stream, opt, err)) goto fail;

    /* CUDA events alone, until the stopping rule is met. */
    double t0 = wall_seconds();
    for (;;) {
        double seconds, host_s;
        if (timed_step(ex, &sm, opt->mode, (int)latency.n, &seconds, &host_s, err) ||
            zz_sampler_add(&latency, seconds, err) || zz_sampler_add(&enqueue, host_s, err))
            goto fail;
        zz_verdict v = zz_sampler_verdict(&latency, &opt->rule, wall_seconds() - t0);
        if (v != ZZ_CONTINUE) {
            out->verdict = v;
            break;
        }
    }
    out->gpu_time_s = latency.gpu_time_s;
    if (zz_sampler_stats(&latency, &out->latency, err) || zz_sampler_stats(&enqueue, &out->host_enqueue, err))
        goto fail;
    rc = 0;
fail:
    zz_sampler_free(&latency);
    zz_sampler_free(&enqueue);
    sampling_close(&sm);
    return rc;
}

int zz_measure_kernels(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_cupti *cupti,
                       zz_measurement *out, zz_error *err) {
    if (out->latency.n == 0) return zz_errorf(err, "kernel attribution needs the latency of the same step first");
    int launches_n, rc = -1;
    const zz_launch *launches = zz_executor_launches(ex, &launches_n);
    sampling sm = {0};
    int steps = opt->rule.min_samples < 3 ? 3 : opt->rule.min_samples > ATTRIBUTION_STEPS ? ATTRIBUTION_STEPS
                                                                                           : opt->rule.min_samples;
    if (zz_timeline_init(&out->owned_timeline, launches, launches_n, err)) return -1;
    if (sampling_open(&sm, stream, opt->cold, err) || warm_up(ex, stream, opt, err) ||
        attribute(ex, &sm, opt->mode, steps, cupti, out, err))
        goto fail;
    rc = 0;
fail:
    sampling_close(&sm);
    return rc;
}

int zz_measure(zz_executor *ex, cudaStream_t stream, const zz_measure_options *opt, zz_cupti *cupti,
               zz_measurement *out, zz_error *err) {
    if (zz_measure_latency(ex, stream, opt, out, err) ||
        (cupti && zz_measure_kernels(ex, stream, opt, cupti, out, err))) {
        zz_measurement_free(out);
        return -1;
    }
    return 0;
}
