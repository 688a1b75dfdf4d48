/* zz-bench run: the timed sweep on the GPU, written as a run folder
 * (env.json, results.csv, kernels.csv, summary.md), summary.md printed at
 * the end. This file sets up the device, the run folder and the signals;
 * the protocol (job list, interleaved latency pass, attribution pass) is the
 * harness's runner (harness/run/runner.h). */
#include "check.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cuda_profiler_api.h>

#include "activity.h"
#include "attention.h"
#include "device.h"
#include "input.h"
#include "nvtx.h"
#include "report.h"
#include "runner.h"

#define CEILING_SAMPLES 10

static const char run_usage[] =
    "usage: zz-bench run [options]\n"
    "\n"
    "Times every configuration (sparsity × phase × context × batch × chunk)\n"
    "in each layout and mode on GPU 0: a step of all layers for the whole\n"
    "batch, CUDA events around it, sampled until its latency is stable; CUPTI\n"
    "attributes the step's kernels to layers and categories. Writes env.json,\n"
    "results.csv, kernels.csv and summary.md into the run folder, rewritten\n"
    "after every configuration (Ctrl-C stops after the current turn of samples\n"
    "and keeps every finished measurement), then prints summary.md. Progress\n"
    "goes to stderr. The layouts and modes of a configuration are sampled\n"
    "interleaved, in turns of about 50 ms.\n"
    "A layout whose buffers do not fit in free device memory is skipped with\n"
    "a line saying what it needs. Lists are comma-separated without spaces;\n"
    "token counts take a k = 1024 or m = 1048576 suffix.\n"
    "\n" MODEL_HELP PATTERN_HELP
    "  --synthetic KIND[:SEED] uniform-mixed, random or layered (default uniform-mixed)\n"
    "  --seed N                seed of --synthetic when KIND names none (default 1); not\n"
    "                          with --pattern or a KIND:SEED\n"
    STEP_HELP
    "sweep (each a list):\n"
    "  --sparsity LIST         fractions of KV heads streaming, 0..1 (default " DEFAULT_SPARSITY ")\n" BUDGET_HELP
    "  --layouts LIST          full, streaming, duo-cat, duo-gather, duo-slices, duo-fused,\n"
    "                          zigzag\n"
    "                          (default " DEFAULT_LAYOUTS ")\n"
    "  --phase LIST            decode, prefill (default " DEFAULT_PHASES ")\n"
    "  --ctx LIST              contexts: cached tokens at decode, prompt at prefill\n"
    "                          (default " DEFAULT_CTX "; prefill's too when given)\n"
    "  --prefill-ctx LIST      prefill's contexts (default " DEFAULT_PREFILL_CTX ", or --ctx's when that is\n"
    "                          given): a full-attention prefill step grows as S², 15 s at 128K;\n"
    "                          not with --phase decode, nor with --ctx at --phase prefill\n"
    "  --batch LIST            sequences B (default " DEFAULT_BATCH ")\n"
    "  --chunk LIST            prefill chunk tokens, 0 = single shot (default " DEFAULT_CHUNK "); a chunk\n"
    "                          >= S is the single shot; not with --phase decode\n" WINDOW_HELP
    "  --mode LIST             eager, graph (default " DEFAULT_MODES ")\n"
    "  --decode-kernel LIST    decode kernel variants, or all: split-combine, one-launch\n"
    "                          (default " DEFAULT_DECODE_KERNEL "); each variant its own configurations;\n"
    "                          not with --phase prefill\n"
    "  --prefill-kernel LIST   prefill kernel variants, or all: fa2, wgmma-tma (default wgmma-tma on\n"
    "                          an sm_90 GPU with 90a code in the build, else " DEFAULT_PREFILL_KERNEL ");\n"
    "                          not with --phase decode\n"
    "timing:\n"
    "  --warmup N              steps before sampling (default 3)\n"
    "  --max-noise F           stop once the noise of the samples (1.4826 MAD / median, a robust\n"
    "                          relative stdev) is <= F (default 0.005)\n"
    "  --min-samples N         ... with at least N samples (default 10)\n"
    "  --min-time S            ... and S seconds of GPU time (default 0.5)\n"
    "  --timeout S             wall-time cap per measurement, after warm-up (default 15)\n"
    "  --cold                  flush L2 before each sample (default: hot L2)\n"
    "  --no-cupti              CUDA events only: no kernel times, no idle (default: CUPTI on)\n"
    "  --verify                before timing each layout, check every layer's output against the\n"
    "                          CPU reference on a reduced copy of the configuration (same model,\n"
    "                          labels, layout, phase and window; batch <= 2, context <= 4k at\n"
    "                          decode, <= 512 at prefill, chunks scaled alike); fail above 1e-2\n"
    "output:\n"
    "  --out DIR               run folder (default results/<gpu>-<YYYYmmdd>-<HHMMSS>/)\n"
    "  --quiet                 no progress lines (skips, notes and summary.md still print)\n"
    "  -h, --help              this help\n";


static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
    static const char msg[] = "\nzz-bench: interrupted: stopping after the current turn of samples, then writing "
                              "every finished measurement (again to quit at once)\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

/* The first signal asks for a clean stop; the handler then resets, so a
 * second one ends the program at once. */
static void install_interrupt_handler(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* mkdir -p */
static int make_dirs(const char *path, zz_error *err) {
    char partial[2048];
    if (snprintf(partial, sizeof partial, "%s", path) >= (int)sizeof partial)
        return zz_errorf(err, "run: --out path too long");
    for (char *p = partial + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(partial, 0777) != 0 && errno != EEXIST)
            return zz_errorf(err, "run: cannot create %s: %s", partial, strerror(errno));
        if (!saved) return 0;
        *p = saved;
    }
}

/* "NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3" */
static void slug(const char *name, char *out, size_t size) {
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < size; p++) {
        if (isalnum((unsigned char)*p)) out[n++] = (char)tolower((unsigned char)*p);
        else if (n && out[n - 1] != '-') out[n++] = '-';
    }
    while (n && out[n - 1] == '-') n--;
    out[n] = '\0';
}

/* The commit the code came from: ZZ_GIT_COMMIT when set (a copy of the
 * working tree may carry a stale .git), else the checkout's HEAD. */
static void git_commit(char *out, int size) {
    const char *named = getenv("ZZ_GIT_COMMIT");
    if (named && *named) {
        snprintf(out, (size_t)size, "%s", named);
        return;
    }
    FILE *git = popen("git rev-parse HEAD 2>/dev/null", "r");
    int found = git && fgets(out, size, git) && isxdigit((unsigned char)out[0]);
    if (git) pclose(git);
    if (found) out[strcspn(out, "\n")] = '\0';
    else snprintf(out, (size_t)size, "unknown");
}

/* Device, run folder, ceilings and env.json; then the runner's sweep. */
static int run_on_gpu(zz_runner *runner, const run_options *o, zz_run_info *info, cudaStream_t *stream,
                      zz_report *report, char *out_dir, size_t out_size, zz_error *err) {
    /* CUPTI starts after every latency is sampled (harness/run/runner.h). */
    if (o->no_cupti) snprintf(info->cupti_note, sizeof info->cupti_note, "CUPTI switched off (--no-cupti)");
    info->cupti = !o->no_cupti;
    zz_cupti_versions(&info->cupti_built, &info->cupti_runtime);
    ZZ_CUDA_OR_EXIT(cudaSetDevice(0));
    if (zz_device_query(0, &info->device, err)) return -1;
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));

    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(info->date, sizeof info->date, "%Y-%m-%dT%H:%M:%S%z", &local);
    if (o->out_dir) {
        snprintf(out_dir, out_size, "%s", o->out_dir);
    } else {
        char gpu[128], stamp[32];
        slug(info->device.name, gpu, sizeof gpu);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
        snprintf(out_dir, out_size, "results/%s-%s", gpu, stamp);
    }
    if (make_dirs(out_dir, err)) return -1;
    if (!o->quiet) fprintf(stderr, "run folder: %s/\n", out_dir);

    if (zz_measure_ceilings(*stream, CEILING_SAMPLES, &info->ceilings, err)) return -1;
    if (!o->quiet) {
        char layers[64];
        zz_model_layers_text(&info->model, layers, sizeof layers);
        fprintf(stderr, "%s: copy %.0f GB/s, bf16 GEMM %.0f TFLOP/s; %s (%s), %s step; %d measurements to go\n",
                info->device.name, info->ceilings.copy_gbps, info->ceilings.gemm_tflops, info->model.name, layers,
                zz_step_name(info->step), zz_runner_measurements(runner));
    }
    git_commit(info->git_commit, (int)sizeof info->git_commit);
    if (gethostname(info->hostname, sizeof info->hostname - 1) != 0)
        snprintf(info->hostname, sizeof info->hostname, "unknown");
    char path[4096];
    if (zz_join_path(path, sizeof path, out_dir, "env.json", err) || zz_report_write_env(info, path, err)) return -1;

    zz_report_init(report, info);
    install_interrupt_handler();  /* only now: before the sweep there is nothing to save, so quit at once */
    ZZ_CUDA_OR_EXIT(cudaProfilerStart());
    zz_nvtx_push("run", 0);
    int rc = zz_runner_run(runner, *stream, info, out_dir, report, &interrupted, err);
    zz_nvtx_pop();
    ZZ_CUDA_OR_EXIT(cudaProfilerStop());
    return rc;
}

/* The runner's spec from the options: the sweep lists, the window from the
 * flags or the pattern, the measurement settings. */
static void sweep_spec(const run_options *o, const zz_model *model, const zz_pattern *pattern,
                       const zz_budget *budgets, zz_sweep_spec *spec) {
    zz_workload window = {0};
    cli_apply_window(&o->common, pattern, &window);
    *spec = (zz_sweep_spec){
        .model = *model,
        .budgets = budgets,
        .lists = {.n_sparsity = o->n_sparsity, .n_phases = o->n_phases, .n_ctx = o->n_ctx,
                  .n_prefill_ctx = o->n_prefill_ctx, .n_batch = o->n_batch, .n_chunk = o->n_chunk,
                  .sink = window.sink, .recent = window.recent, .step = o->common.step},
        .n_layouts = o->n_layouts,
        .n_modes = o->n_modes,
        .measure = {.cold = o->cold, .warmup = (int)o->warmup, .rule = o->rule},
        .seed = o->seed,
        .verify = o->verify,
        .cupti = !o->no_cupti,
        .quiet = o->quiet,
    };
    memcpy(spec->lists.phases, o->phases, sizeof spec->lists.phases);
    memcpy(spec->lists.ctx, o->ctx, sizeof o->ctx);
    memcpy(spec->lists.prefill_ctx, o->prefill_ctx, sizeof o->prefill_ctx);
    memcpy(spec->lists.batch, o->batch, sizeof o->batch);
    memcpy(spec->lists.chunk, o->chunk, sizeof o->chunk);
    memcpy(spec->layouts, o->layouts, sizeof o->layouts);
    memcpy(spec->modes, o->modes, sizeof o->modes);
    spec->lists.n_decode_kernels = o->n_decode_kernels;
    spec->lists.n_prefill_kernels = o->n_prefill_kernels;
    memcpy(spec->lists.decode_kernels, o->decode_kernels, sizeof o->decode_kernels);
    memcpy(spec->lists.prefill_kernels, o->prefill_kernels, sizeof o->prefill_kernels);
}

/* env.json's kernel variants: those of each phase the run has. */
static void run_kernels(const run_options *o, zz_run_info *info) {
    for (int i = 0; i < o->n_phases; i++) {
        const int decode = o->phases[i] == ZZ_DECODE;
        const int *list = decode ? o->decode_kernels : o->prefill_kernels;
        const int n = decode ? o->n_decode_kernels : o->n_prefill_kernels;
        int *to = decode ? info->decode_kernels : info->prefill_kernels;
        const int kept = n < ZZ_MAX_KERNEL_VARIANTS ? n : ZZ_MAX_KERNEL_VARIANTS; /* names repeat no variant */
        for (int k = 0; k < kept; k++) to[k] = list[k];
        *(decode ? &info->n_decode_kernels : &info->n_prefill_kernels) = kept;
    }
}

/* No --prefill-kernel: the fastest variant this GPU runs (variants.h,
 * zz_default_prefill_kernel). Without a device the answer is fa2, and
 * zz_device_check then says what is missing. */
static void default_prefill_kernel(run_options *o) {
    int hopper = 0;
    if (zz_prefill_hopper_supported(&hopper) != ZZ_OK) hopper = 0;
    o->prefill_kernels[0] = zz_default_prefill_kernel(hopper);
    o->n_prefill_kernels = 1;
}

int zz_cmd_run(int argc, char **argv, const char *command_line, zz_error *err) {
    static run_options o;
    static zz_pattern pattern;
    static zz_report report;
    static zz_run_info info;
    static char out_dir[2048];
    int rc = cli_parse_run_options(argc, argv, &o, err);
    if (rc) return rc < 0 ? EXIT_USAGE : (fputs(run_usage, stdout), 0);
    zz_model model;
    if (cli_resolve_model("run", &o.common, &model, err) || cli_load_pattern(&o.common, &model, o.seed, &pattern, err))
        return EXIT_USAGE;
    zz_budget *budgets = malloc((size_t)o.n_sparsity * sizeof *budgets);
    if (!budgets) return zz_errorf(err, "run: out of memory"), EXIT_USAGE;
    zz_runner *runner = NULL;
    zz_sweep_spec spec;
    int status = EXIT_USAGE;
    for (int i = 0; i < o.n_sparsity; i++)
        if (zz_budget_make(&pattern, o.sparsity[i], o.common.rounding, zz_select_by_mean_alpha, &budgets[i], err))
            goto done;
    if (!o.prefill_kernel_given) default_prefill_kernel(&o);
    sweep_spec(&o, &model, &pattern, budgets, &spec);
    if (zz_runner_create(&spec, &runner, err) || zz_device_check(0, err)) goto done;
    info = (zz_run_info){.model = model, .step = o.common.step, .weights_measured = NAN, .cold = o.cold,
                         .rule = o.rule, .warmup = (int)o.warmup, .seed = o.seed, .command_line = command_line};
    snprintf(info.pattern, sizeof info.pattern, "%s", pattern.source);
    run_kernels(&o, &info);

    cudaStream_t stream = NULL;
    rc = run_on_gpu(runner, &o, &info, &stream, &report, out_dir, sizeof out_dir, err);
    status = rc ? 1 : interrupted ? EXIT_INTERRUPTED : 0;
    if (report.info) {  /* the sweep began: leave every finished row */
        zz_runner_status(runner, rc ? "stopped by an error" : interrupted ? "interrupted" : "complete", &report);
        zz_error write_err = {""};
        if (zz_report_write(&report, out_dir, &write_err)) {
            fprintf(stderr, "zz-bench: %s\n", write_err.msg);
            status = 1;
        }
        if (!rc) {
            char *summary = zz_report_summary(&report);
            if (summary) fputs(summary, stdout);
            free(summary);
        }
        fprintf(stderr, "%s: %s/ (env.json, results.csv, kernels.csv, summary.md)\n",
                rc ? "rows finished so far in" : "wrote", out_dir);
    }
    if (stream) cudaStreamDestroy(stream);
    zz_report_free(&report);
done:
    zz_runner_destroy(runner);
    free(budgets);
    return status;
}

/* The command line as a shell would take it back, for env.json. */
char *cli_quoted_command_line(int argc, char **argv) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        fputs(i ? " " : "", f);
        if (*a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:/=+@%") == strlen(a)) {
            fputs(a, f);
            continue;
        }
        fputc('\'', f);
        for (; *a; a++) *a == '\'' ? fputs("'\\''", f) : fputc(*a, f);
        fputc('\'', f);
    }
    return fclose(f) == 0 ? text : (free(text), NULL);
}

