/* zz-host-pacing: where does an eager step's latency start to follow the
 * host's launch rate? The calibration behind ZZ_HOST_PACED_FRACTION
 * (harness/output/report.h), measured once on a GPU machine and independent of any
 * sweep.
 *
 * A synthetic step of K launches of a one-thread spin kernel of duration d
 * is timed two ways for each d of a list:
 *   free    start event, the K launches, stop event, as zz-bench's eager
 *           mode enqueues a step: the GPU may wait on the host (latency L,
 *           host enqueue time H of the K launches, on the CPU clock);
 *   queued  the same behind a stream blocker (util.cu), released only once
 *           everything is enqueued: the GPU never waits on the host, so
 *           this is the step's GPU-paced latency P.
 * Host share = H / L, as results.csv's host_share. The step is host-paced
 * where L exceeds P by more than the tolerance (default 2 %); printed last:
 * the highest host share still GPU-paced (the threshold the suite uses) and
 * the lowest one already host-paced.
 * By default every kernel of the step is alike. A real step mixes long
 * attention kernels with short ones, and a stretch of short ones can wait
 * on the host while the step's share is lower (kernels/NOTES.md, "Host
 * pacing"): --shape repeats a pattern of relative durations over the
 * launches, e.g. 1,1,8 for layers of two short kernels and a long one, and
 * each duration of the list is then the pattern's shortest kernel.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "clock.h"
#include "device.h"
#include "output.h"
#include "stats.h"
#include "sweep.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: zz-host-pacing [options]\n"
    "Times a synthetic eager step of K spin kernels of each duration, free and\n"
    "queued behind a stream blocker, and prints where its latency starts to\n"
    "follow the host's launch rate: the host share of the step at which the\n"
    "free latency exceeds the queued one by more than the tolerance.\n"
    "  --launches K        kernels per step (default 96: a decode step of\n"
    "                      32 layers × 3 launches)\n"
    "  --durations LIST    kernel durations in µs (default\n"
    "                      1,1.5,2,2.5,3,3.5,4,5,6,8,10,15,20,40)\n"
    "  --shape LIST        relative kernel durations repeated over the launches\n"
    "                      (default 1: all alike); each --durations value is\n"
    "                      then the duration of the pattern's shortest kernel\n"
    "  --samples N         steps timed per duration and way (default 51)\n"
    "  --tolerance F       host-paced beyond free/queued - 1 > F (default 0.02)\n"
    "  --csv PATH          also write the table as CSV (whole, at the end)\n"
    "  -h, --help          this text\n";

typedef struct {
    int launches, samples;
    double durations_us[ZZ_MAX_LIST];
    int n_durations;
    double shape[ZZ_MAX_LIST];  /* relative durations, smallest 1 */
    int n_shape;
    double tolerance;
    const char *csv;
} options;

/* --shape: positive numbers, repeats allowed (zz_parse_fractions refuses
 * them), scaled so the smallest is 1. */
static int parse_shape(const char *list, options *o, zz_error *err) {
    o->n_shape = 0;
    double smallest = 0;
    for (const char *item = list;;) {
        char *end;
        const double v = strtod(item, &end);
        if (end == item || !(v > 0 && v <= 1e4) || (*end && *end != ','))
            return zz_errorf(err, "--shape: expected positive numbers up to 10000 separated by commas, found '%s'",
                             list);
        if (o->n_shape == ZZ_MAX_LIST) return zz_errorf(err, "--shape: more than %d items", ZZ_MAX_LIST);
        o->shape[o->n_shape++] = v;
        if (smallest == 0 || v < smallest) smallest = v;
        if (!*end) break;
        item = end + 1;
    }
    for (int i = 0; i < o->n_shape; i++) o->shape[i] /= smallest;
    return 0;
}

static int parse_options(int argc, char **argv, options *o, zz_error *err) {
    static const struct option flags[] = {
        {"launches", required_argument, 0, 'k'}, {"durations", required_argument, 0, 'd'},
        {"samples", required_argument, 0, 'n'},  {"tolerance", required_argument, 0, 't'},
        {"csv", required_argument, 0, 'c'},      {"help", no_argument, 0, 'h'},
        {"shape", required_argument, 0, 's'},
        {0, 0, 0, 0},
    };
    *o = (options){.launches = 96, .samples = 51, .tolerance = 0.02, .shape = {1}, .n_shape = 1};
    if (zz_parse_fractions("--durations", "1,1.5,2,2.5,3,3.5,4,5,6,8,10,15,20,40", 0.1, 1e4, o->durations_us,
                           &o->n_durations, err))
        return -1;
    long long whole[ZZ_MAX_LIST];
    double fraction[ZZ_MAX_LIST];
    int n, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", flags, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (zz_parse_sizes("--launches", optarg, 100000, whole, &n, err)) return -1;
            if (n != 1 || whole[0] < 2) return zz_errorf(err, "--launches: one count of at least 2, got %s", optarg);
            o->launches = (int)whole[0];
            break;
        case 'n':
            if (zz_parse_sizes("--samples", optarg, 100000, whole, &n, err)) return -1;
            if (n != 1 || whole[0] < 3) return zz_errorf(err, "--samples: one count of at least 3, got %s", optarg);
            o->samples = (int)whole[0];
            break;
        case 'd':
            if (zz_parse_fractions("--durations", optarg, 0.1, 1e4, o->durations_us, &o->n_durations, err))
                return -1;
            break;
        case 't':
            if (zz_parse_fractions("--tolerance", optarg, 0.001, 1, fraction, &n, err)) return -1;
            if (n != 1) return zz_errorf(err, "--tolerance: one number, got %s", optarg);
            o->tolerance = fraction[0];
            break;
        case 's':
            if (parse_shape(optarg, o, err)) return -1;
            break;
        case 'c':
            if (!*optarg) return zz_errorf(err, "--csv: empty path");
            o->csv = optarg;
            break;
        case 'h':
            return 1;
        default:
            return zz_errorf(err, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return zz_errorf(err, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

static void spin_or_die(long long cycles, cudaStream_t stream) {
    if (zz_spin(cycles, stream) != ZZ_OK) {
        fprintf(stderr, "zz-host-pacing: %s\n", zz_kernel_error());
        exit(1);
    }
}

typedef struct {
    double free_us, queued_us, enqueue_us;  /* medians over the samples */
} duration_result;

static double median_of(double *x, int n) {
    zz_stats st;
    zz_error err;
    if (zz_stats_of(x, (size_t)n, &st, &err)) {
        fprintf(stderr, "zz-host-pacing: %s\n", err.msg);
        exit(1);
    }
    return st.median;
}

/* One step: K spins between two events, behind the blocker when release is
 * not NULL; launch k spins shape[k % n_shape] times `cycles`. Returns the
 * event time; *enqueue_s the CPU time of the K launches. */
static double time_step(const options *o, long long cycles, cudaStream_t stream, cudaEvent_t start, cudaEvent_t stop,
                        volatile int *release, double *enqueue_s) {
    if (release && zz_block_stream(release, stream) != ZZ_OK) {
        fprintf(stderr, "zz-host-pacing: %s\n", zz_kernel_error());
        exit(1);
    }
    ZZ_CUDA_OR_EXIT(cudaEventRecord(start, stream));
    const double t0 = zz_wall_seconds();
    for (int k = 0; k < o->launches; k++) spin_or_die((long long)(cycles * o->shape[k % o->n_shape]), stream);
    *enqueue_s = zz_wall_seconds() - t0;
    ZZ_CUDA_OR_EXIT(cudaEventRecord(stop, stream));
    if (release) {
        if (*release == -1) {
            fprintf(stderr, "zz-host-pacing: the stream blocker timed out: the queued time is not held\n");
            exit(1);
        }
        *release = 1;
    }
    ZZ_CUDA_OR_EXIT(cudaEventSynchronize(stop));
    float ms;
    ZZ_CUDA_OR_EXIT(cudaEventElapsedTime(&ms, start, stop));
    return ms * 1e-3;
}

static duration_result measure(const options *o, long long cycles, cudaStream_t stream, volatile int *release) {
    cudaEvent_t start, stop;
    ZZ_CUDA_OR_EXIT(cudaEventCreate(&start));
    ZZ_CUDA_OR_EXIT(cudaEventCreate(&stop));
    double *free_s = malloc(o->samples * sizeof *free_s), *queued_s = malloc(o->samples * sizeof *queued_s),
           *enqueue_s = malloc(o->samples * sizeof *enqueue_s), ignored;
    if (!free_s || !queued_s || !enqueue_s) {
        fprintf(stderr, "zz-host-pacing: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < 3; i++) time_step(o, cycles, stream, start, stop, NULL, &ignored);
    /* Free and queued steps alternate, so drift falls on both alike. */
    for (int i = 0; i < o->samples; i++) {
        free_s[i] = time_step(o, cycles, stream, start, stop, NULL, &enqueue_s[i]);
        queued_s[i] = time_step(o, cycles, stream, start, stop, release, &ignored);
    }
    duration_result r = {median_of(free_s, o->samples) * 1e6, median_of(queued_s, o->samples) * 1e6,
                         median_of(enqueue_s, o->samples) * 1e6};
    free(free_s);
    free(queued_s);
    free(enqueue_s);
    ZZ_CUDA_OR_EXIT(cudaEventDestroy(start));
    ZZ_CUDA_OR_EXIT(cudaEventDestroy(stop));
    return r;
}

int main(int argc, char **argv) {
    options o;
    zz_error err = {""};
    int rc = parse_options(argc, argv, &o, &err);
    if (rc > 0) return fputs(usage, stdout), 0;
    if (rc < 0) return fprintf(stderr, "zz-host-pacing: %s\n", err.msg), EXIT_USAGE;
    if (zz_device_check(0, &err)) return fprintf(stderr, "zz-host-pacing: %s\n", err.msg), EXIT_USAGE;
    ZZ_CUDA_OR_EXIT(cudaSetDevice(0));
    zz_device device;
    if (zz_device_query(0, &device, &err)) return fprintf(stderr, "zz-host-pacing: %s\n", err.msg), 1;
    cudaStream_t stream;
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    volatile int *release;
    ZZ_CUDA_OR_EXIT(cudaHostAlloc((void **)&release, sizeof *release, cudaHostAllocMapped));

    zz_csv csv = {0};
    static const char *const columns[] = {"shortest_us", "kernel_us",  "launches",         "free_us",   "queued_us",
                                          "enqueue_us",  "host_share", "free_over_queued", "host_paced"};
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) zz_csv_str(&csv, columns[i]);
    zz_csv_end_row(&csv);
    printf("%s, SM clock %d MHz: eager steps of %d spin kernels, %d samples each way, shape", device.name,
           device.sm_clock_mhz, o.launches, o.samples);
    for (int k = 0; k < o.n_shape; k++) printf("%s%g", k ? "," : " ", o.shape[k]);
    printf("\n%10s %10s %10s %10s %10s %10s %10s  %s\n", "shortest", "mean µs", "free µs", "queued µs", "enqueue µs",
           "host share", "free/queued", "verdict");
    double lowest_paced = 2, highest_gpu_paced = -1;  /* out of range: none seen */
    for (int i = 0; i < o.n_durations; i++) {
        const long long cycles = (long long)(o.durations_us[i] * device.sm_clock_mhz);
        duration_result r = measure(&o, cycles, stream, release);
        const double share = r.enqueue_us / r.free_us, ratio = r.free_us / r.queued_us;
        const int paced = ratio - 1 > o.tolerance;
        if (paced && share < lowest_paced) lowest_paced = share;
        if (!paced && share > highest_gpu_paced) highest_gpu_paced = share;
        printf("%10.2f %10.2f %10.1f %10.1f %10.1f %9.0f %% %10.3f  %s\n", o.durations_us[i],
               r.queued_us / o.launches, r.free_us, r.queued_us, r.enqueue_us, 100 * share, ratio,
               paced ? "host-paced" : "GPU-paced");
        const double row[] = {o.durations_us[i], r.queued_us / o.launches, o.launches, r.free_us, r.queued_us,
                              r.enqueue_us, share, ratio};
        for (size_t k = 0; k < sizeof row / sizeof row[0]; k++) zz_csv_num(&csv, row[k]);
        zz_csv_int(&csv, paced);
        zz_csv_end_row(&csv);
    }
    if (highest_gpu_paced >= 0)
        printf("GPU-paced up to a host share of %.0f %% (free within %g %% of queued): the threshold\n",
               100 * highest_gpu_paced, 100 * o.tolerance);
    if (lowest_paced <= 1) printf("host-paced from a host share of %.0f %%\n", 100 * lowest_paced);
    else printf("no duration was host-paced: try shorter kernels (--durations)\n");
    int status = 0;
    if (o.csv && zz_csv_write(&csv, o.csv, &err)) {
        fprintf(stderr, "zz-host-pacing: %s\n", err.msg);
        status = 1;
    }
    zz_csv_free(&csv);
    ZZ_CUDA_OR_EXIT(cudaFreeHost((void *)release));
    ZZ_CUDA_OR_EXIT(cudaStreamDestroy(stream));
    return status;
}
