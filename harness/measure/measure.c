/* Measurements (measure.h): interleaved latency sampling with events, then
 * an interleaved attribution pass with CUPTI. */
#include "measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "device.h"
#include "nvtx.h"

#define WARMUP_SECONDS 0.2
/* A turn of the round-robin: samples of one measurement for this long
 * (wall time), at least one. A step of 0.3-5 ms takes 10-170 samples a
 * turn; the default 0.5 s of GPU time per measurement then spreads over 10
 * or more turns. */
#define TURN_SECONDS 0.05

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

/* Events, and with cold L2 the flush buffer and its stream. */
static int sampling_open(sampling *sm, cudaStream_t stream, int cold, zz_error *err) {
    *sm = (sampling){.stream = stream};
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

static int untimed_step(const zz_measure_job *job, cudaStream_t stream, zz_error *err) {
    if (zz_executor_enqueue(job->ex, job->opt.mode, NULL, err)) return -1;
    ZZ_CUDA_OR_RETURN(cudaStreamSynchronize(stream));
    return 0;
}

/* The jobs share the stream, the L2 setting and the stopping rule's
 * meaning; each job's own warm-up count, and the group at least
 * WARMUP_SECONDS, so the GPU clocks are up after the host-side set-up
 * (three warm-up steps alone were not enough: kernels/NOTES.md,
 * "Measurements behind design choices"). */
static int group_open(const zz_measure_job *jobs, int n, cudaStream_t stream, sampling *sm, zz_error *err) {
    if (n < 1) return zz_errorf(err, "no measurements to take");
    for (int j = 0; j < n; j++) {
        if (jobs[j].opt.cold != jobs[0].opt.cold)
            return zz_errorf(err, "measurements of one group must all be hot or all cold L2");
        if (zz_stop_rule_check(&jobs[j].opt.rule, err)) return -1;
    }
    if (sampling_open(sm, stream, jobs[0].opt.cold, err)) return -1;
    const double start = zz_wall_seconds();
    for (int j = 0; j < n; j++)
        for (int i = 0; i < jobs[j].opt.warmup; i++)
            if (untimed_step(&jobs[j], stream, err)) return -1;
    for (int j = 0; zz_wall_seconds() - start < WARMUP_SECONDS; j = (j + 1) % n)
        if (untimed_step(&jobs[j], stream, err)) return -1;
    return 0;
}

/* A job's sampling state between its turns. */
typedef struct {
    zz_sampler latency, enqueue;
    double sampling_s;  /* wall time of its turns: what its timeout counts */
    int final;
} job_state;

static int finish_latency(const job_state *st, zz_verdict verdict, zz_measurement *out, zz_error *err) {
    out->verdict = verdict;
    out->gpu_time_s = st->latency.gpu_time_s;
    return zz_sampler_stats(&st->latency, &out->latency, err) || zz_sampler_stats(&st->enqueue, &out->host_enqueue, err)
               ? -1
               : 0;
}

static void turn_begin(const zz_measure_job *job) {
    if (job->name) zz_nvtx_push(job->name, job->colour);
}

static void turn_end(const zz_measure_job *job) {
    if (job->name) zz_nvtx_pop();
}

/* Samples of one job for TURN_SECONDS (at least one), until its stopping
 * rule says final. */
static int sample_turn(zz_measure_job *job, job_state *st, const sampling *sm, zz_error *err) {
    const double start = zz_wall_seconds();
    zz_verdict verdict = ZZ_CONTINUE;
    do {
        double seconds, host_s;
        if (timed_step(job->ex, sm, job->opt.mode, (int)st->latency.n, &seconds, &host_s, err) ||
            zz_sampler_add(&st->latency, seconds, err) || zz_sampler_add(&st->enqueue, host_s, err))
            return -1;
        verdict = zz_sampler_verdict(&st->latency, &job->opt.rule, st->sampling_s + zz_wall_seconds() - start);
    } while (verdict == ZZ_CONTINUE && zz_wall_seconds() - start < TURN_SECONDS);
    st->sampling_s += zz_wall_seconds() - start;
    if (verdict == ZZ_CONTINUE) return 0;
    st->final = 1;
    return finish_latency(st, verdict, job->out, err);
}

/* One turn: an untimed step of the job first where its steps are short (its
 * buffers back in L2 after the other jobs' turns; a step longer than a turn
 * rewrites the L2 many times over by itself), then samples for TURN_SECONDS. */
static int take_turn(zz_measure_job *job, job_state *st, const sampling *sm, zz_error *err) {
    const double last = st->latency.n ? st->latency.samples[st->latency.n - 1] : 0;
    if (last < TURN_SECONDS && untimed_step(job, sm->stream, err)) return -1;
    turn_begin(job);
    const int rc = sample_turn(job, st, sm, err);
    turn_end(job);
    return rc;
}

int zz_measure_latencies(zz_measure_job *jobs, int n, cudaStream_t stream, zz_measure_done done, void *context,
                         volatile sig_atomic_t *stop, zz_error *err) {
    job_state *state = calloc(n > 0 ? (size_t)n : 1, sizeof *state);
    sampling sm = {0};
    int rc = -1;
    if (!state) return zz_errorf(err, "out of memory for %d measurements", n);
    for (int j = 0; j < n; j++) memset(jobs[j].out, 0, sizeof *jobs[j].out);
    if (group_open(jobs, n, stream, &sm, err)) goto fail;
    for (int left = n; left > 0 && !(stop && *stop);) {
        for (int j = 0; j < n; j++) {
            if (state[j].final) continue;
            if (take_turn(&jobs[j], &state[j], &sm, err)) goto fail;
            if (state[j].final) {
                left--;
                if (done) done(context, j, jobs[j].out);
            }
        }
    }
    rc = 0;
fail:
    for (int j = 0; j < n; j++) {
        zz_sampler_free(&state[j].latency);
        zz_sampler_free(&state[j].enqueue);
    }
    free(state);
    sampling_close(&sm);
    return rc;
}

/* Steps a job is attributed with: its minimum sample count, 3 to
 * ZZ_ATTRIBUTION_STEPS. */
static int attribution_steps(const zz_measure_job *job) {
    const int k = job->opt.rule.min_samples;
    return k < 3 ? 3 : k > ZZ_ATTRIBUTION_STEPS ? ZZ_ATTRIBUTION_STEPS : k;
}

/* One turn of attribution: attach CUPTI, one untimed step whose records are
 * dropped, `steps` recorded steps collected in one flush at the end (a
 * flush per step would put CUPTI's buffer handling inside the next step),
 * detach. Kernel durations are GPU-side, so recording does not change them;
 * the event latency it inflates is each step's own (outside = latency - span). */
static int attribution_turn(zz_measure_job *job, const sampling *sm, zz_cupti *cupti, int steps, zz_error *err) {
    const zz_kernel_record *records;
    size_t n;
    uint32_t stream_id;
    uint64_t latency_ns[ZZ_ATTRIBUTION_STEPS];
    unsigned long long dropped;
    /* CUPTI numbers streams when it attaches: ask after attaching. */
    if (zz_cupti_record(cupti, 1, err) || zz_cupti_stream_id(cupti, sm->stream, &stream_id, err) ||
        untimed_step(job, sm->stream, err) || zz_cupti_collect(cupti, stream_id, &records, &n, &dropped, err))
        return -1;
    for (int i = 0; i < steps; i++) {
        double seconds, host_s;
        if (timed_step(job->ex, sm, job->opt.mode, i, &seconds, &host_s, err)) return -1;
        latency_ns[i] = (uint64_t)llround(seconds * 1e9);
        job->out->attributed_enqueue_s[job->out->n_attributed++] = host_s;
    }
    if (zz_cupti_collect(cupti, stream_id, &records, &n, &job->out->dropped_records, err) ||
        zz_timeline_add(&job->out->owned_timeline, records, n, stream_id, latency_ns, (size_t)steps, err) ||
        zz_cupti_record(cupti, 0, err))
        return -1;
    return 0;
}

static int summarize_attribution(zz_measurement *m, zz_error *err) {
    if (zz_stats_of(m->attributed_enqueue_s, (size_t)m->n_attributed, &m->attributed_enqueue, err) ||
        zz_timeline_summarize(&m->owned_timeline, &m->timeline, err) ||
        zz_timeline_layer_medians(&m->owned_timeline, m->layer_ns, err) ||
        zz_timeline_kernels(&m->owned_timeline, &m->kernels, &m->n_kernels, err))
        return -1;
    m->have_kernels = 1;
    return 0;
}

int zz_measure_attributions(zz_measure_job *jobs, int n, cudaStream_t stream, zz_cupti *cupti, zz_error *err) {
    sampling sm = {0};
    int rc = -1;
    for (int j = 0; j < n; j++) {
        int launches_n;
        const zz_launch *launches = zz_executor_launches(jobs[j].ex, &launches_n);
        if (jobs[j].out->latency.n == 0)
            return zz_errorf(err, "kernel attribution needs the latency of the same step first");
        if (zz_timeline_init(&jobs[j].out->owned_timeline, launches, launches_n, err)) return -1;
    }
    if (group_open(jobs, n, stream, &sm, err)) goto fail;
    for (int round = 0; round < ZZ_ATTRIBUTION_ROUNDS; round++)
        for (int j = 0; j < n; j++) {
            /* The job's steps spread over the rounds as evenly as whole steps allow. */
            const int total = attribution_steps(&jobs[j]);
            const int steps = total * (round + 1) / ZZ_ATTRIBUTION_ROUNDS - total * round / ZZ_ATTRIBUTION_ROUNDS;
            if (steps == 0) continue;
            turn_begin(&jobs[j]);
            const int failed = attribution_turn(&jobs[j], &sm, cupti, steps, err);
            turn_end(&jobs[j]);
            if (failed) goto fail;
        }
    for (int j = 0; j < n; j++)
        if (summarize_attribution(jobs[j].out, err)) goto fail;
    rc = 0;
fail:
    sampling_close(&sm);
    return rc;
}
