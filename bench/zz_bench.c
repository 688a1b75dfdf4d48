/* zz-bench: the suite's command line, `zz-bench <command> [options]`.
 *
 *   plan   the per-layer execution plan of one layout, and the equal-budget
 *          summary of duo against zigzag (retrieval heads, KV bytes, FLOPs)
 *   run    the timed sweep on the GPU: every configuration × layout × mode,
 *          written as a run folder (env.json, results.csv, kernels.csv,
 *          summary.md), summary.md printed at the end
 *   summary  a run folder's summary.md rewritten from its results.csv and
 *          env.json with this version's tables (no GPU)
 *
 * Every argument is checked, the pattern loaded and every plan of the sweep
 * built before anything is printed or any CUDA call is made, so a bad flag
 * or a bad pattern file leaves stdout empty: one line "zz-bench: <msg>" on
 * stderr and exit status 2, with or without a GPU. So do flags that another
 * flag makes meaningless (--seed with --pattern, --chunk with decode only),
 * a machine without a GPU (run) and a standard output that cannot be
 * written. Failures on the GPU exit with status 1, after writing the rows
 * finished so far.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cuda_profiler_api.h>

#include "activity.h"
#include "device.h"
#include "executor.h"
#include "measure.h"
#include "model.h"
#include "nvtx.h"
#include "output.h"
#include "pattern.h"
#include "plan.h"
#include "report.h"
#include "report_read.h"
#include "stats.h"
#include "sweep.h"
#include "verify.h"

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130  /* 128 + SIGINT, as a shell reports it */

static const char main_usage[] =
    "usage: zz-bench <command> [options]\n"
    "\n"
    "Latency suite for split-head attention: DuoAttention-style mixed layers\n"
    "against ZigzagAttention's layer-exclusive layers.\n"
    "\n"
    "commands:\n"
    "  plan    per-layer execution plan of one layout, and the duo/zigzag budget\n"
    "  run     time every layout of a sweep on the GPU and write a run folder\n"
    "  summary rewrite a run folder's summary.md with this version's tables\n"
    "\n"
    "Run 'zz-bench <command> --help' for the options of a command.\n"
    "\n"
    "Exit status: 0 done; 2 bad input (one line on stderr, before any GPU work),\n"
    "conflicting flags, no GPU or an unwritable standard output; 1 a failure on\n"
    "the GPU; 130 interrupted.\n";

/* The flags plan and run share, for both help texts. */
#define MODEL_HELP                                                                                   \
    "model (a preset, optionally overridden, or all four shape flags):\n"                            \
    "  --model NAME            llama2-7b, llama3-8b, mistral-7b, llama3-70b (default llama3-8b)\n"  \
    "  --layers N              layers L\n"                                                           \
    "  --q-heads N             query heads Hq\n"                                                     \
    "  --kv-heads N            KV heads Hkv, dividing Hq\n"                                          \
    "  --head-dim N            head dim D: 64 or 128\n"
#define PATTERN_HELP                                                                                 \
    "head pattern (one of):\n"                                                                       \
    "  --pattern DIR           DuoAttention folder: full_attention_heads.tsv, optional config.json\n"
#define WINDOW_HELP                                                                                  \
    "  --sink N                streaming sink tokens (default config.json's sink_size, else 128)\n" \
    "  --recent N              streaming recent tokens (default config.json's recent_size, else 256)\n"
#define BUDGET_HELP                                                                                  \
    "  --zigzag-budget R       zigzag retrieval layers when Hkv does not divide the retrieval\n"    \
    "                          heads: nearest (halves up), floor or ceil (default nearest)\n"

static const char plan_usage[] =
    "usage: zz-bench plan [options]\n"
    "\n"
    "Prints the per-layer execution plan of one layout, then the equal-budget\n"
    "summary of duo and zigzag: retrieval KV heads, mixed layers, launches,\n"
    "KV-cache bytes and attention FLOPs of one step. Text: table, blank line,\n"
    "summary, all on stdout. CSV: the table on stdout, the summary on stderr.\n"
    "\n" MODEL_HELP PATTERN_HELP
    "  --synthetic KIND[:SEED] uniform-mixed, random or layered; seed default 1\n"
    "                          (default uniform-mixed:1)\n"
    "labels and layout:\n"
    "  --sparsity S            fraction of KV heads streaming, 0..1 (default 0.5)\n" BUDGET_HELP
    "  --layout NAME           full, streaming, duo (= duo-cat), duo-cat, duo-gather,\n"
    "                          duo-slices, zigzag (default duo-cat)\n"
    "workload (token counts take a k = 1024 or m = 1048576 suffix):\n"
    "  --batch N               sequences B (default 1)\n"
    "  --ctx S                 context: cached tokens at decode, prompt at prefill (default 32k)\n"
    "  --phase P               decode or prefill (default decode)\n"
    "  --chunk C               prefill chunk tokens; 0 = single shot (default 0); needs\n"
    "                          --phase prefill\n" WINDOW_HELP
    "output:\n"
    "  --format F              text or csv (default text); csv header:\n"
    "                          layer,kind,retrieval_heads,streaming_heads\n"
    "  --ops                   each layer's operations too (text: under its layer; csv: one row\n"
    "                          per operation instead of per layer)\n"
    "  -h, --help              this help\n";

/* run's defaults, as the help states them and as they are parsed. */
#define DEFAULT_SPARSITY    "0.5"
#define DEFAULT_LAYOUTS     "full,streaming,duo-cat,duo-slices,zigzag"
#define DEFAULT_PHASES      "decode,prefill"
#define DEFAULT_CTX         "8k,32k,128k"
#define DEFAULT_PREFILL_CTX "8k,32k"
#define DEFAULT_BATCH       "1"
#define DEFAULT_CHUNK       "0"
#define DEFAULT_MODES       "eager,graph"
#define DEFAULT_WARMUP      3
#define DEFAULT_SEED        1

static const char run_usage[] =
    "usage: zz-bench run [options]\n"
    "\n"
    "Times every configuration (sparsity × phase × context × batch × chunk)\n"
    "in each layout and mode on GPU 0: a step of all layers for the whole\n"
    "batch, CUDA events around it, sampled until its latency is stable; CUPTI\n"
    "attributes the step's kernels to layers and categories. Writes env.json,\n"
    "results.csv, kernels.csv and summary.md into the run folder, rewritten\n"
    "after every configuration (Ctrl-C stops after the current measurement and\n"
    "keeps what is done), then prints summary.md. Progress goes to stderr.\n"
    "A layout whose buffers do not fit in free device memory is skipped with\n"
    "a line saying what it needs. Lists are comma-separated without spaces;\n"
    "token counts take a k = 1024 or m = 1048576 suffix.\n"
    "\n" MODEL_HELP PATTERN_HELP
    "  --synthetic KIND[:SEED] uniform-mixed, random or layered (default uniform-mixed)\n"
    "  --seed N                seed of --synthetic when KIND names none (default 1); not\n"
    "                          with --pattern or a KIND:SEED\n"
    "sweep (each a list):\n"
    "  --sparsity LIST         fractions of KV heads streaming, 0..1 (default " DEFAULT_SPARSITY ")\n" BUDGET_HELP
    "  --layouts LIST          full, streaming, duo-cat, duo-gather, duo-slices, zigzag\n"
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

/* ---------------------------------------------------- flag values ---- */

/* A whole number in [min, max]; token counts may end in k or m. */
static int parse_whole(const char *flag, const char *text, long long min, long long max, int token_count,
                       long long *out, zz_error *err) {
    char *rest;
    errno = 0;
    long long value = strtoll(text, &rest, 10);
    long long unit = 1;
    if (token_count && (*rest == 'k' || *rest == 'K')) unit = 1024, rest++;
    else if (token_count && (*rest == 'm' || *rest == 'M')) unit = 1024 * 1024, rest++;
    if (!isdigit((unsigned char)text[0]) || *rest || errno || value > max / unit || value * unit < min)
        return zz_errorf(err, "%s: expected %s in %lld..%lld, found '%s'", flag,
                         token_count ? "a token count like 32768, 32k or 1m" : "a whole number", min, max, text);
    *out = value * unit;
    return 0;
}

/* A number; its range is the caller's (zz_stop_rule_check for the sampling flags). */
static int parse_number(const char *flag, const char *text, double *out, zz_error *err) {
    char *rest;
    double value = strtod(text, &rest);
    if (rest == text || *rest || isspace((unsigned char)text[0]))
        return zz_errorf(err, "%s: expected a number, found '%s'", flag, text);
    *out = value;
    return 0;
}

static int parse_sparsity(const char *text, double *out, zz_error *err) {
    char *rest;
    double value = strtod(text, &rest);
    if (rest == text || *rest || !(value >= 0 && value <= 1))
        return zz_errorf(err, "--sparsity: expected a number in 0..1, found '%s'", text);
    *out = value;
    return 0;
}

/* --chunk: sizes, and 0 for single shot, which zz_parse_sizes (positive
 * sizes only) refuses: each "0" goes through it as ZZ_MAX_CTX, a chunk no
 * context exceeds, so a single shot too, and comes back as 0. */
static int parse_chunks(const char *list, long long *out, int *n, zz_error *err) {
    char text[4096], max_ctx[32];
    size_t len = 0;
    int zeros = 0;
    snprintf(max_ctx, sizeof max_ctx, "%lld", ZZ_MAX_CTX);
    for (const char *item = list; item;) {
        const char *comma = strchr(item, ',');
        int item_len = comma ? (int)(comma - item) : (int)strlen(item);
        int zero = item_len == 1 && item[0] == '0';
        if (zero && zeros++) return zz_errorf(err, "--chunk: '0' repeats an earlier item");
        len += (size_t)snprintf(text + len, len < sizeof text ? sizeof text - len : 0, "%s%.*s",
                                item == list ? "" : ",", zero ? (int)strlen(max_ctx) : item_len, zero ? max_ctx : item);
        item = comma ? comma + 1 : NULL;
    }
    if (len >= sizeof text) return zz_errorf(err, "--chunk: list too long");
    if (zz_parse_sizes("--chunk", text, ZZ_MAX_CTX, out, n, err)) return -1;
    for (int i = 0; i < *n; i++)
        if (out[i] == ZZ_MAX_CTX) out[i] = 0;
    return 0;
}

/* -------------------------------------------------------- options ---- */

/* What both commands take: the model, its head pattern, the zigzag budget
 * rounding and the streaming window. */
typedef struct {
    const char *model_name;
    long long layers, q_heads, kv_heads, head_dim;  /* 0: not given */
    const char *pattern_dir, *synthetic;
    zz_rounding rounding;
    long long sink, recent;  /* -1: from the pattern */
} common_options;

typedef enum { FORMAT_TEXT, FORMAT_CSV } output_format;

typedef struct {
    common_options common;
    double sparsity;
    zz_layout layout;
    zz_phase phase;
    long long batch, ctx, chunk;
    int chunk_given;
    output_format format;
    int show_ops;
} plan_options;

typedef struct {
    common_options common;
    unsigned long long seed;
    double sparsity[ZZ_MAX_LIST];
    int layouts[ZZ_MAX_LIST], phases[ZZ_MAX_LIST], modes[ZZ_MAX_LIST];
    long long ctx[ZZ_MAX_LIST], prefill_ctx[ZZ_MAX_LIST], batch[ZZ_MAX_LIST], chunk[ZZ_MAX_LIST];
    int n_sparsity, n_layouts, n_phases, n_modes, n_ctx, n_prefill_ctx, n_batch, n_chunk;
    int ctx_given, prefill_ctx_given, chunk_given, seed_given;  /* flags that meet conflicts */
    long long warmup, min_samples;
    zz_stop_rule rule;
    int cold, no_cupti, verify, quiet;
    const char *out_dir;  /* NULL: results/<gpu>-<date>-<time> */
} run_options;

enum {
    /* shared */
    OPT_MODEL = 256, OPT_LAYERS, OPT_Q_HEADS, OPT_KV_HEADS, OPT_HEAD_DIM, OPT_PATTERN, OPT_SYNTHETIC,
    OPT_ZIGZAG_BUDGET, OPT_SINK, OPT_RECENT,
    /* one value in plan, a list in run */
    OPT_SPARSITY, OPT_BATCH, OPT_CTX, OPT_PHASE, OPT_CHUNK,
    /* plan */
    OPT_LAYOUT, OPT_FORMAT, OPT_OPS,
    /* run */
    OPT_SEED, OPT_LAYOUTS, OPT_PREFILL_CTX, OPT_MODE, OPT_WARMUP, OPT_MAX_NOISE, OPT_MIN_SAMPLES, OPT_MIN_TIME,
    OPT_TIMEOUT, OPT_COLD, OPT_NO_CUPTI, OPT_VERIFY, OPT_OUT, OPT_QUIET,
};

#define COMMON_FLAGS                                             \
    {"model", required_argument, NULL, OPT_MODEL},               \
    {"layers", required_argument, NULL, OPT_LAYERS},             \
    {"q-heads", required_argument, NULL, OPT_Q_HEADS},           \
    {"kv-heads", required_argument, NULL, OPT_KV_HEADS},         \
    {"head-dim", required_argument, NULL, OPT_HEAD_DIM},         \
    {"pattern", required_argument, NULL, OPT_PATTERN},           \
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},       \
    {"zigzag-budget", required_argument, NULL, OPT_ZIGZAG_BUDGET}, \
    {"sink", required_argument, NULL, OPT_SINK},                 \
    {"recent", required_argument, NULL, OPT_RECENT},             \
    {"sparsity", required_argument, NULL, OPT_SPARSITY},         \
    {"batch", required_argument, NULL, OPT_BATCH},               \
    {"ctx", required_argument, NULL, OPT_CTX},                   \
    {"phase", required_argument, NULL, OPT_PHASE},               \
    {"chunk", required_argument, NULL, OPT_CHUNK},               \
    {"help", no_argument, NULL, 'h'}

static const struct option plan_flags[] = {
    COMMON_FLAGS,
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"ops", no_argument, NULL, OPT_OPS},
    {NULL, 0, NULL, 0},
};

static const struct option run_flags[] = {
    COMMON_FLAGS,
    {"seed", required_argument, NULL, OPT_SEED},
    {"layouts", required_argument, NULL, OPT_LAYOUTS},
    {"prefill-ctx", required_argument, NULL, OPT_PREFILL_CTX},
    {"mode", required_argument, NULL, OPT_MODE},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"max-noise", required_argument, NULL, OPT_MAX_NOISE},
    {"min-samples", required_argument, NULL, OPT_MIN_SAMPLES},
    {"min-time", required_argument, NULL, OPT_MIN_TIME},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"cold", no_argument, NULL, OPT_COLD},
    {"no-cupti", no_argument, NULL, OPT_NO_CUPTI},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"out", required_argument, NULL, OPT_OUT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {NULL, 0, NULL, 0},
};

/* 0 when c is a shared flag and its value is good, -1 when it is bad, 1
 * when c is not a shared flag. */
static int parse_common_flag(int c, const char *value, common_options *o, zz_error *err) {
    switch (c) {
    case OPT_MODEL: o->model_name = value; return 0;
    case OPT_LAYERS: return parse_whole("--layers", value, 1, ZZ_MAX_LAYERS, 0, &o->layers, err);
    case OPT_Q_HEADS: return parse_whole("--q-heads", value, 1, ZZ_MAX_Q_HEADS, 0, &o->q_heads, err);
    case OPT_KV_HEADS: return parse_whole("--kv-heads", value, 1, ZZ_MAX_KV_HEADS, 0, &o->kv_heads, err);
    case OPT_HEAD_DIM:
        if (strcmp(value, "64") && strcmp(value, "128"))
            return zz_errorf(err, "--head-dim: expected 64 or 128, found '%s'", value);
        o->head_dim = atoi(value);
        return 0;
    case OPT_PATTERN:
        if (!*value) return zz_errorf(err, "--pattern: empty folder name");
        o->pattern_dir = value;
        return 0;
    case OPT_SYNTHETIC: o->synthetic = value; return 0;
    case OPT_ZIGZAG_BUDGET:
        if (zz_rounding_from_name(value, &o->rounding))
            return zz_errorf(err, "--zigzag-budget: expected nearest, floor or ceil, found '%s'", value);
        return 0;
    case OPT_SINK: return parse_whole("--sink", value, 0, ZZ_MAX_CTX, 1, &o->sink, err);
    case OPT_RECENT: return parse_whole("--recent", value, 1, ZZ_MAX_CTX, 1, &o->recent, err);
    default: return 1;
    }
}

static const common_options common_defaults = {.rounding = ZZ_ROUND_NEAREST, .sink = -1, .recent = -1};

typedef int (*flag_parser)(int c, const char *value, void *options, zz_error *err);

/* The getopt loop of a command. Returns 1 when --help was asked for, 0
 * when the flags are complete, -1 on error. */
static int parse_flags(const char *command, int argc, char **argv, const struct option *flags, flag_parser parse,
                       void *options, zz_error *err) {
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", flags, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        switch (c) {
        case 'h': return 1;
        case ':': return zz_errorf(err, "%s: option '%s' needs a value", command, flag);
        case '?':
            if (optopt >= OPT_MODEL) return zz_errorf(err, "%s: option '%s' takes no value", command, flag);
            if (optopt)
                return zz_errorf(err, "%s: unknown option '-%c' (see zz-bench %s --help)", command, optopt, command);
            return zz_errorf(err, "%s: unknown or ambiguous option '%s' (see zz-bench %s --help)", command, flag,
                             command);
        default:
            if (parse(c, optarg, options, err)) return -1;
        }
    }
    if (optind < argc) return zz_errorf(err, "%s: unexpected argument '%s'", command, argv[optind]);
    const common_options *common = options;  /* first member of both option structs */
    if (common->pattern_dir && common->synthetic)
        return zz_errorf(err, "%s: --pattern and --synthetic exclude each other", command);
    return 0;
}

static int parse_plan_flag(int c, const char *value, void *options, zz_error *err) {
    plan_options *o = options;
    int rc = parse_common_flag(c, value, &o->common, err);
    if (rc <= 0) return rc;
    switch (c) {
    case OPT_SPARSITY: return parse_sparsity(value, &o->sparsity, err);
    case OPT_LAYOUT:
        if (zz_layout_from_name(value, &o->layout))
            return zz_errorf(err, "--layout: expected one of %s, found '%s'", zz_layout_names, value);
        return 0;
    case OPT_BATCH: return parse_whole("--batch", value, 1, ZZ_MAX_BATCH, 0, &o->batch, err);
    case OPT_CTX: return parse_whole("--ctx", value, 1, ZZ_MAX_CTX, 1, &o->ctx, err);
    case OPT_CHUNK:
        o->chunk_given = 1;
        return parse_whole("--chunk", value, 0, ZZ_MAX_CTX, 1, &o->chunk, err);
    case OPT_PHASE:
        if (zz_phase_from_name(value, &o->phase))
            return zz_errorf(err, "--phase: expected decode or prefill, found '%s'", value);
        return 0;
    case OPT_FORMAT:
        if (strcmp(value, "text") == 0) o->format = FORMAT_TEXT;
        else if (strcmp(value, "csv") == 0) o->format = FORMAT_CSV;
        else return zz_errorf(err, "--format: expected text or csv, found '%s'", value);
        return 0;
    case OPT_OPS: o->show_ops = 1; return 0;
    }
    return 0;
}

static int parse_plan_options(int argc, char **argv, plan_options *o, zz_error *err) {
    *o = (plan_options){.common = common_defaults,
                        .sparsity = 0.5,
                        .layout = ZZ_LAYOUT_DUO_CAT,
                        .phase = ZZ_DECODE,
                        .batch = 1,
                        .ctx = 32 * 1024,
                        .format = FORMAT_TEXT};
    int rc = parse_flags("plan", argc, argv, plan_flags, parse_plan_flag, o, err);
    if (rc) return rc;
    if (o->chunk_given && o->phase == ZZ_DECODE)
        return zz_errorf(err, "plan: --chunk with --phase decode (the default): chunks split a prefill; add --phase "
                              "prefill");
    return 0;
}

/* Name lists for zz_parse_names, in enum order so the index is the value. */
static const char *layout_list[ZZ_LAYOUT_ZIGZAG + 1], *phase_list[2], *mode_list[2];

static void fill_name_lists(void) {
    for (int l = 0; l <= ZZ_LAYOUT_ZIGZAG; l++) layout_list[l] = zz_layout_name((zz_layout)l);
    phase_list[ZZ_DECODE] = zz_phase_name(ZZ_DECODE);
    phase_list[ZZ_PREFILL] = zz_phase_name(ZZ_PREFILL);
    mode_list[ZZ_MODE_EAGER] = zz_mode_name(ZZ_MODE_EAGER);
    mode_list[ZZ_MODE_GRAPH] = zz_mode_name(ZZ_MODE_GRAPH);
}

static int parse_run_flag(int c, const char *value, void *options, zz_error *err) {
    run_options *o = options;
    int rc = parse_common_flag(c, value, &o->common, err);
    if (rc <= 0) return rc;
    long long whole;
    switch (c) {
    case OPT_SEED:
        o->seed_given = 1;
        if (parse_whole("--seed", value, 0, LLONG_MAX, 0, &whole, err)) return -1;
        o->seed = (unsigned long long)whole;
        return 0;
    case OPT_SPARSITY: return zz_parse_fractions("--sparsity", value, 0, 1, o->sparsity, &o->n_sparsity, err);
    case OPT_LAYOUTS:
        return zz_parse_names("--layouts", value, layout_list, ZZ_LAYOUT_ZIGZAG + 1, o->layouts, &o->n_layouts, err);
    case OPT_PHASE: return zz_parse_names("--phase", value, phase_list, 2, o->phases, &o->n_phases, err);
    case OPT_MODE: return zz_parse_names("--mode", value, mode_list, 2, o->modes, &o->n_modes, err);
    case OPT_CTX:
        o->ctx_given = 1;
        return zz_parse_sizes("--ctx", value, ZZ_MAX_CTX, o->ctx, &o->n_ctx, err);
    case OPT_PREFILL_CTX:
        o->prefill_ctx_given = 1;
        return zz_parse_sizes("--prefill-ctx", value, ZZ_MAX_CTX, o->prefill_ctx, &o->n_prefill_ctx, err);
    case OPT_BATCH: return zz_parse_sizes("--batch", value, ZZ_MAX_BATCH, o->batch, &o->n_batch, err);
    case OPT_CHUNK:
        o->chunk_given = 1;
        return parse_chunks(value, o->chunk, &o->n_chunk, err);
    case OPT_WARMUP: return parse_whole("--warmup", value, 0, 1000000, 0, &o->warmup, err);
    case OPT_MIN_SAMPLES: return parse_whole("--min-samples", value, 0, 100000000, 0, &o->min_samples, err);
    case OPT_MAX_NOISE: return parse_number("--max-noise", value, &o->rule.max_noise, err);
    case OPT_MIN_TIME: return parse_number("--min-time", value, &o->rule.min_time_s, err);
    case OPT_TIMEOUT: return parse_number("--timeout", value, &o->rule.timeout_s, err);
    case OPT_COLD: o->cold = 1; return 0;
    case OPT_NO_CUPTI: o->no_cupti = 1; return 0;
    case OPT_VERIFY: o->verify = 1; return 0;
    case OPT_OUT:
        if (!*value) return zz_errorf(err, "--out: empty folder name");
        o->out_dir = value;
        return 0;
    case OPT_QUIET: o->quiet = 1; return 0;
    }
    return 0;
}

/* Flags that another flag makes meaningless are errors, not ignored. */
static int check_run_conflicts(const run_options *o, zz_error *err) {
    const common_options *c = &o->common;
    if (o->seed_given && c->pattern_dir)
        return zz_errorf(err, "run: --seed and --pattern exclude each other: a published pattern has no seed");
    if (o->seed_given && c->synthetic && strchr(c->synthetic, ':'))
        return zz_errorf(err, "run: --seed and --synthetic %s both give a seed; give one", c->synthetic);
    const int only = o->n_phases == 1 ? o->phases[0] : -1;
    if (only == ZZ_DECODE && o->prefill_ctx_given)
        return zz_errorf(err, "run: --prefill-ctx with --phase decode: there is no prefill to apply it to");
    if (only == ZZ_DECODE && o->chunk_given)
        return zz_errorf(err, "run: --chunk with --phase decode: chunks split a prefill, and there is none");
    if (only == ZZ_PREFILL && o->ctx_given && o->prefill_ctx_given)
        return zz_errorf(err, "run: --ctx and --prefill-ctx with --phase prefill: --ctx names decode's contexts, and "
                              "there is no decode");
    return 0;
}

static int parse_run_options(int argc, char **argv, run_options *o, zz_error *err) {
    *o = (run_options){.common = common_defaults,
                       .seed = DEFAULT_SEED,
                       .warmup = DEFAULT_WARMUP,
                       .rule = ZZ_STOP_RULE_DEFAULT};
    o->min_samples = o->rule.min_samples;
    fill_name_lists();
    /* The defaults go through the parsers the flags use. */
    if (parse_run_flag(OPT_SPARSITY, DEFAULT_SPARSITY, o, err) ||
        parse_run_flag(OPT_LAYOUTS, DEFAULT_LAYOUTS, o, err) || parse_run_flag(OPT_PHASE, DEFAULT_PHASES, o, err) ||
        parse_run_flag(OPT_CTX, DEFAULT_CTX, o, err) ||
        parse_run_flag(OPT_PREFILL_CTX, DEFAULT_PREFILL_CTX, o, err) ||
        parse_run_flag(OPT_BATCH, DEFAULT_BATCH, o, err) || parse_run_flag(OPT_CHUNK, DEFAULT_CHUNK, o, err) ||
        parse_run_flag(OPT_MODE, DEFAULT_MODES, o, err))
        return -1;
    o->ctx_given = o->prefill_ctx_given = o->chunk_given = 0;
    int rc = parse_flags("run", argc, argv, run_flags, parse_run_flag, o, err);
    if (rc || check_run_conflicts(o, err)) return rc ? rc : -1;
    if (o->ctx_given && !o->prefill_ctx_given) {
        memcpy(o->prefill_ctx, o->ctx, sizeof o->ctx);
        o->n_prefill_ctx = o->n_ctx;
    }
    o->rule.min_samples = (int)o->min_samples;
    return zz_stop_rule_check(&o->rule, err);
}

/* A preset (default llama3-8b) with the shape flags applied on top, or all
 * four shape flags alone. */
static int resolve_model(const char *command, const common_options *o, zz_model *m, zz_error *err) {
    const long long given[] = {o->layers, o->q_heads, o->kv_heads, o->head_dim};
    static const char *const flags[] = {"--layers", "--q-heads", "--kv-heads", "--head-dim"};
    int any = 0;
    for (int i = 0; i < 4; i++) any |= given[i] != 0;
    if (!o->model_name && any) {
        for (int i = 0; i < 4; i++)
            if (!given[i])
                return zz_errorf(err, "%s: %s missing: without --model give all of --layers, --q-heads, "
                                      "--kv-heads and --head-dim", command, flags[i]);
    }
    if (zz_model_preset(o->model_name ? o->model_name : "llama3-8b", m, err)) return -1;
    int *fields[] = {&m->layers, &m->q_heads, &m->kv_heads, &m->head_dim};
    for (int i = 0; i < 4; i++) {
        if (given[i] && given[i] != *fields[i]) {
            *fields[i] = (int)given[i];
            snprintf(m->name, sizeof m->name, "custom");
        }
    }
    return zz_model_check(m, err);
}

/* The pattern folder, or the synthetic spec (default uniform-mixed), with
 * `seed` when the spec names none. */
static int load_pattern(const common_options *o, const zz_model *m, unsigned long long seed, zz_pattern *p,
                        zz_error *err) {
    if (o->pattern_dir) return zz_pattern_load(o->pattern_dir, m, p, err);
    const char *kind = o->synthetic ? o->synthetic : "uniform-mixed";
    char spec[256];
    if (strchr(kind, ':')) snprintf(spec, sizeof spec, "%s", kind);
    else snprintf(spec, sizeof spec, "%s:%llu", kind, seed);
    return zz_pattern_synthetic(spec, m, p, err);
}

/* The workload's window: the flags, else the pattern's config.json. */
static void apply_window(const common_options *o, const zz_pattern *p, zz_workload *w) {
    w->sink = o->sink >= 0 ? (int)o->sink : p->sink;
    w->recent = o->recent >= 0 ? (int)o->recent : p->recent;
}
/* ------------------------------------------------------------ output ---- */

/* Model KV head indices of an op, compressed into runs: "0-3,6". */
static void format_heads(const zz_layer_plan *lp, const zz_op *op, const char *separator, char *out, size_t size) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < op->kv_count && n < size; i++) {
        int first = lp->kv_order[op->kv_first + i], last = first;
        while (i + 1 < op->kv_count && lp->kv_order[op->kv_first + i + 1] == last + 1) last++, i++;
        n += (size_t)snprintf(out + n, size - n, "%s%d", n ? separator : "", first);
        if (last > first && n < size) n += (size_t)snprintf(out + n, size - n, "-%d", last);
    }
}

static void print_csv(const zz_plan *plan, int show_ops) {
    if (!show_ops) {
        printf("layer,kind,retrieval_heads,streaming_heads\n");
        for (int l = 0; l < plan->model.layers; l++) {
            const zz_layer_plan *lp = &plan->layers[l];
            printf("%d,%s,%d,%d\n", l, zz_layer_kind_name(lp->kind), lp->retrieval_heads, lp->streaming_heads);
        }
        return;
    }
    printf("layer,kind,op,category,kv_heads,q_heads,heads,cache_tokens,bytes,flops\n");
    for (int l = 0; l < plan->model.layers; l++) {
        const zz_layer_plan *lp = &plan->layers[l];
        for (int i = 0; i < lp->n_ops; i++) {
            const zz_op *op = &lp->ops[i];
            char heads[1024];
            format_heads(lp, op, " ", heads, sizeof heads);
            printf("%d,%s,%s,%s,%d,%d,%s,%lld,%.0f,%.0f\n", l, zz_layer_kind_name(lp->kind), zz_op_name(op->kind),
                   zz_category_name(op->category), op->kv_count, op->q_count, heads, op->cache_tokens, op->bytes,
                   op->flops);
        }
    }
}

static void print_text(const zz_plan *plan, const zz_pattern *pattern, double sparsity, int show_ops) {
    const zz_model *m = &plan->model;
    printf("%s: %d layers, %d q heads, %d kv heads, head dim %d\n", m->name, m->layers, m->q_heads, m->kv_heads,
           m->head_dim);
    printf("pattern %s, sparsity %g, layout %s\n", pattern->source, sparsity, zz_layout_name(plan->layout));
    printf("layer  kind       retrieval  streaming  launches\n");
    if (show_ops)
        printf("       %-14s  %-14s  %-16s  %7s  %12s  %11s  %12s\n", "op", "category", "kv heads", "q heads",
               "cache tokens", "bytes", "FLOPs");
    for (int l = 0; l < m->layers; l++) {
        const zz_layer_plan *lp = &plan->layers[l];
        printf("%5d  %-9s  %9d  %9d  %8d\n", l, zz_layer_kind_name(lp->kind), lp->retrieval_heads,
               lp->streaming_heads, lp->n_ops);
        for (int i = 0; show_ops && i < lp->n_ops; i++) {
            const zz_op *op = &lp->ops[i];
            char heads[1024], cache[32] = "-", bytes[32], flops[32] = "-";
            format_heads(lp, op, ",", heads, sizeof heads);
            if (op->cache_tokens) snprintf(cache, sizeof cache, "%lld", op->cache_tokens);
            zz_human_bytes(op->bytes, bytes, sizeof bytes);
            if (op->flops) zz_human_flops(op->flops, flops, sizeof flops);
            printf("       %-14s  %-14s  %-16s  %7d  %12s  %11s  %12s\n", zz_op_name(op->kind),
                   zz_category_name(op->category), heads, op->q_count, cache, bytes, flops);
        }
    }
}

/* One row of the side-by-side budget: exact values, human units in parentheses. */
static void print_budget_row(FILE *out, const char *what, double duo, double zigzag,
                             void (*human)(double, char *, size_t)) {
    char cell[2][64];
    const double value[2] = {duo, zigzag};
    for (int i = 0; i < 2; i++) {
        int n = snprintf(cell[i], sizeof cell[i], "%.0f", value[i]);
        if (human) {
            char unit[32];
            human(value[i], unit, sizeof unit);
            snprintf(cell[i] + n, sizeof cell[i] - (size_t)n, " (%s)", unit);
        }
    }
    fprintf(out, "%-16s %32s %32s\n", what, cell[0], cell[1]);
}

/* The equal-budget comparison: the same labels as the plans, costs at the workload. */
static void print_budget(FILE *out, const zz_budget *budget, const zz_plan *duo, const zz_plan *zigzag) {
    const zz_workload *w = &duo->workload;
    fprintf(out, "budget: sparsity %g, %d of %d kv heads streaming, %d retrieval; zigzag: %d of %d layers retrieval\n",
            budget->sparsity, budget->total_heads - budget->duo_retrieval, budget->total_heads,
            budget->duo_retrieval, budget->zigzag_layers, duo->model.layers);
    fprintf(out, "workload: %s, batch %d, ctx %lld", zz_phase_name(w->phase), w->batch, w->ctx);
    if (duo->passes > 1) fprintf(out, ", chunk %lld (%lld passes)", w->chunk, duo->passes);
    fprintf(out, ", sink %d, recent %d\n", w->sink, w->recent);
    fprintf(out, "%-16s %32s %32s\n", "", zz_layout_name(duo->layout), zz_layout_name(zigzag->layout));
    print_budget_row(out, "retrieval heads", duo->retrieval_heads, zigzag->retrieval_heads, NULL);
    print_budget_row(out, "mixed layers", duo->mixed_layers, zigzag->mixed_layers, NULL);
    print_budget_row(out, "launches / step", (double)duo->launches, (double)zigzag->launches, NULL);
    print_budget_row(out, "KV cache bytes", duo->kv_bytes, zigzag->kv_bytes, zz_human_bytes);
    print_budget_row(out, "attention FLOPs", duo->flops, zigzag->flops, zz_human_flops);
    print_budget_row(out, "bytes moved", duo->bytes, zigzag->bytes, zz_human_bytes);
    if (!budget->note[0]) return;
    fprintf(out, "note: %s\n", budget->note);
    const int choices[] = {budget->layers_floor, budget->layers_ceil};
    static const char *const names[] = {"floor", "ceil"};
    for (int i = 0; i < 2; i++) {
        zz_cost c = zz_cost_of(&duo->model, w, choices[i] * duo->model.kv_heads);
        char bytes[32], flops[32];
        zz_human_bytes(c.kv_bytes, bytes, sizeof bytes);
        zz_human_flops(c.flops, flops, sizeof flops);
        fprintf(out, "zigzag %s: %d layers, %d retrieval heads, KV cache %.0f (%s), attention FLOPs %.0f (%s)\n",
                names[i], choices[i], c.retrieval_heads, c.kv_bytes, bytes, c.flops, flops);
    }
}

/* ----------------------------------------------------------- plan ---- */

/* Large, and one run of a command needs each once. */
static zz_pattern pattern;
static zz_budget budget;
static zz_plan plan, duo_plan, zigzag_plan;

/* zigzag runs on its layer-exclusive labels, every other layout on duo's
 * (full and streaming ignore them). */
static const zz_labels *labels_for(const zz_budget *b, zz_layout layout) {
    return layout == ZZ_LAYOUT_ZIGZAG ? &b->zigzag : &b->duo;
}

static int run_plan(int argc, char **argv, zz_error *err) {
    plan_options o;
    int rc = parse_plan_options(argc, argv, &o, err);
    if (rc) return rc < 0 ? EXIT_USAGE : (fputs(plan_usage, stdout), 0);
    zz_model m;
    if (resolve_model("plan", &o.common, &m, err) || load_pattern(&o.common, &m, 1, &pattern, err))
        return EXIT_USAGE;
    zz_workload w = {.phase = o.phase, .batch = (int)o.batch, .ctx = o.ctx, .chunk = o.chunk};
    apply_window(&o.common, &pattern, &w);
    if (zz_budget_make(&pattern, o.sparsity, o.common.rounding, zz_select_by_mean_alpha, &budget, err))
        return EXIT_USAGE;
    /* The summary compares the requested duo variant (duo-cat otherwise) with zigzag. */
    const zz_layout duo = zz_report_mixed_layout(o.layout) ? o.layout : ZZ_LAYOUT_DUO_CAT;
    if (zz_plan_build(&m, labels_for(&budget, o.layout), o.layout, &w, &plan, err) ||
        zz_plan_build(&m, &budget.duo, duo, &w, &duo_plan, err) ||
        zz_plan_build(&m, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &w, &zigzag_plan, err))
        return EXIT_USAGE;
    if (o.format == FORMAT_CSV) {
        print_csv(&plan, o.show_ops);
        if (zz_flush_stdout(err)) return EXIT_USAGE;  /* not the budget, then: one line on stderr */
        print_budget(stderr, &budget, &duo_plan, &zigzag_plan);
    } else {
        print_text(&plan, &pattern, o.sparsity, o.show_ops);
        printf("\n");
        print_budget(stdout, &budget, &duo_plan, &zigzag_plan);
    }
    return 0;
}

/* ------------------------------------------------------------ run ---- */

#define GIB (1024.0 * 1024.0 * 1024.0)
#define CEILING_SAMPLES 10
/* Device memory a layout needs beyond the executor's buffers: CUDA graph,
 * CUPTI and allocator slack (plus the L2 flush buffer of --cold). */
#define MEMORY_HEADROOM (256.0 * 1024 * 1024)

/* --verify checks a reduced copy of each configuration (see run_usage):
 * the CPU reference of a full-size step would take minutes to hours. */
#define VERIFY_MAX_BATCH       2
#define VERIFY_MAX_DECODE_CTX  4096
#define VERIFY_MAX_PREFILL_CTX 512
#define VERIFY_BOUND           1e-2

/* An Nsight timeline colour per layout (ARGB). */
static const uint32_t layout_colour[] = {
    [ZZ_LAYOUT_FULL] = 0xFF4C72B0,       [ZZ_LAYOUT_STREAMING] = 0xFF55A868, [ZZ_LAYOUT_DUO_CAT] = 0xFFC44E52,
    [ZZ_LAYOUT_DUO_GATHER] = 0xFFDD8452, [ZZ_LAYOUT_DUO_SLICES] = 0xFF8172B3, [ZZ_LAYOUT_ZIGZAG] = 0xFF937860,
};

/* One configuration of the sweep. */
typedef struct {
    int sparsity;  /* index into the options' list and the budgets */
    zz_workload workload;
} sweep_point;

typedef struct {
    const run_options *o;
    zz_model model;
    zz_budget *budgets;  /* one per sparsity */
    sweep_point *points;
    int n_points;
    int total, done, measured, skipped;  /* measurements: configuration × layout × mode */
    int *rows;                           /* per measurement: its report row, -1 if none (skipped) */
    double start_s;
    cudaStream_t stream;
    zz_cupti *cupti;
    zz_run_info info;
    zz_report report;
    char out_dir[2048];
} run_state;

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The chunk a prefill really runs: 0 (single shot) for 0 and for any chunk >= S. */
static long long effective_chunk(zz_phase phase, long long ctx, long long chunk) {
    return phase == ZZ_PREFILL && chunk < ctx ? chunk : 0;
}

/* The configurations, nested sparsity › phase › context › batch › chunk.
 * Decode takes no chunk; prefill chunks that run the same passes (0 and
 * any chunk >= S are the single shot) run once. */
static int enumerate_sweep(const run_options *o, const zz_pattern *p, sweep_point **out, int *n, zz_error *err) {
    const int n_ctx = o->n_ctx > o->n_prefill_ctx ? o->n_ctx : o->n_prefill_ctx;
    const int counts[] = {o->n_sparsity, o->n_phases, n_ctx, o->n_batch, o->n_chunk};
    zz_sweep sweep;
    if (zz_sweep_init(&sweep, counts, 5, err)) return -1;
    sweep_point *points = malloc((size_t)sweep.size * sizeof *points);
    if (!points) return zz_errorf(err, "run: out of memory for %lld configurations", sweep.size);
    int count = 0;
    for (long long i = 0; i < sweep.size; i++) {
        int at[5];
        zz_sweep_coords(&sweep, i, at);
        const zz_phase phase = (zz_phase)o->phases[at[1]];
        const long long *ctx = phase == ZZ_DECODE ? o->ctx : o->prefill_ctx;
        if (at[2] >= (phase == ZZ_DECODE ? o->n_ctx : o->n_prefill_ctx)) continue;
        zz_workload w = {.phase = phase, .batch = (int)o->batch[at[3]], .ctx = ctx[at[2]]};
        w.chunk = effective_chunk(phase, w.ctx, o->chunk[at[4]]);
        int repeat = phase == ZZ_DECODE && at[4] > 0;
        for (int k = 0; k < at[4] && !repeat; k++) repeat = effective_chunk(phase, w.ctx, o->chunk[k]) == w.chunk;
        if (repeat) continue;
        apply_window(&o->common, p, &w);
        points[count++] = (sweep_point){at[0], w};
    }
    *out = points;
    *n = count;
    return 0;
}

static zz_workload reduced_for_verify(const zz_workload *w) {
    zz_workload v = *w;
    const long long cap = w->phase == ZZ_DECODE ? VERIFY_MAX_DECODE_CTX : VERIFY_MAX_PREFILL_CTX;
    if (v.batch > VERIFY_MAX_BATCH) v.batch = VERIFY_MAX_BATCH;
    if (v.ctx > cap) {
        if (v.chunk > 0) v.chunk = (v.chunk * cap + v.ctx - 1) / v.ctx;  /* about as many passes */
        v.ctx = cap;
    }
    return v;
}

/* ------------------------------------------------------------ GPU run ---- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
    static const char msg[] = "\nzz-bench: interrupted: finishing the current measurement, then writing what is "
                              "done (again to quit at once)\n";
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
 * working tree on a lent GPU machine carried a stale .git whose HEAD was an
 * older commit), else the checkout's HEAD. */
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

static void set_status(run_state *s, const char *what) {
    snprintf(s->report.status, sizeof s->report.status, "%s: %d of %d measurements done, %d skipped (device memory)",
             what, s->done - s->skipped, s->total, s->skipped);
}

static void progress(const run_state *s, const char *label, zz_layout layout, zz_mode mode, const zz_measurement *m) {
    if (s->o->quiet) return;
    const double elapsed = wall_seconds() - s->start_s, left = elapsed / s->measured * (s->total - s->done);
    fprintf(stderr, "[%d/%d] %s %s %s: %.1f us (± %.2f%%, %zu samples%s) elapsed %.0fs, ~%.0fs left\n", s->done,
            s->total, label, zz_layout_name(layout), zz_mode_name(mode), m->latency.median * 1e6,
            100 * m->latency.noise, m->latency.n, m->verdict == ZZ_STOP_TIMEOUT ? ", timeout" : "", elapsed, left);
}

/* --verify: every layer's output of a reduced copy against the CPU reference. */
static int verify_layout(run_state *s, const sweep_point *pt, zz_layout layout, const char *label, double *worst,
                         zz_error *err) {
    static zz_plan small;
    const zz_workload w = reduced_for_verify(&pt->workload);
    zz_executor *ex;
    if (zz_plan_build(&s->model, labels_for(&s->budgets[pt->sparsity], layout), layout, &w, &small, err) ||
        zz_executor_create(&small, s->stream, s->info.device.sm_count, &ex, err))
        return -1;
    int rc = zz_executor_verify(ex, worst, err);
    zz_executor_destroy(ex);
    if (rc) return -1;
    if (!(*worst <= VERIFY_BOUND))
        return zz_errorf(err, "verify: relative error %.3g above the bound %g (checked at B=%d S=%lld)", *worst,
                         VERIFY_BOUND, w.batch, w.ctx);
    if (!s->o->quiet)
        fprintf(stderr, "verify: %s %s: worst relative error %.2e over %d layers (checked at B=%d S=%lld)\n", label,
                zz_layout_name(layout), *worst, s->model.layers, w.batch, w.ctx);
    return 0;
}

/* Prefixes err with the measurement it stopped (mode NULL: before any). */
static int failed_in(zz_error *err, const char *label, zz_layout layout, const char *mode) {
    zz_error cause = *err;
    return zz_errorf(err, "%s %s%s%s: %s", label, zz_layout_name(layout), mode ? " " : "", mode ? mode : "",
                     cause.msg);
}

/* The report row of measurement (configuration, layout index, mode index). */
static int *row_slot(run_state *s, int config, int layout_index, int mode_index) {
    return &s->rows[(config * s->o->n_layouts + layout_index) * s->o->n_modes + mode_index];
}

/* One configuration's layouts: each one's plan-side report row and device
 * bytes, and its executor while its group is measured. */
typedef struct {
    zz_report_row row[ZZ_LAYOUT_ZIGZAG + 1];  /* by layout index; row.skipped says why not measured */
    double need[ZZ_LAYOUT_ZIGZAG + 1];
    zz_executor *ex[ZZ_LAYOUT_ZIGZAG + 1];
    double verify_error[ZZ_LAYOUT_ZIGZAG + 1];
} config_layouts;

static double layout_bytes(const run_state *s, const zz_plan *p) {
    return zz_executor_device_bytes(p, s->info.device.sm_count) + MEMORY_HEADROOM;
}

/* Plans of every layout; a layout that does not fit in free device memory
 * even alone is marked skipped (its rows go to the report). */
static int plan_layouts(run_state *s, const sweep_point *pt, int config, const char *label, config_layouts *cl,
                        zz_error *err) {
    const run_options *o = s->o;
    size_t free_bytes, total_bytes;
    ZZ_CUDA_OR_DIE(cudaMemGetInfo(&free_bytes, &total_bytes));
    const double flush = o->cold ? 2.0 * s->info.device.l2_bytes : 0;
    for (int l = 0; l < o->n_layouts; l++) {
        const zz_layout layout = (zz_layout)o->layouts[l];
        if (zz_plan_build(&s->model, labels_for(&s->budgets[pt->sparsity], layout), layout, &pt->workload, &plan,
                          err))
            return failed_in(err, label, layout, NULL);
        cl->row[l] = zz_report_row_of(config, &plan, ZZ_MODE_EAGER, 0);
        cl->need[l] = layout_bytes(s, &plan);
        cl->ex[l] = NULL;
        cl->verify_error[l] = NAN;
        if (cl->need[l] + flush > (double)free_bytes)
            snprintf(cl->row[l].skipped, sizeof cl->row[l].skipped, "needs %.1f GiB, %.1f GiB free",
                     (cl->need[l] + flush) / GIB, free_bytes / GIB);
    }
    return 0;
}

/* The next group [*first, *end) of layouts to measure together: from
 * `from` on, those `wanted` (not skipped, and with a row to attribute in
 * pass 2), as many consecutive ones as fit in free device memory together
 * (at least one: each fits alone). 0 when none is left. */
static int next_group(const run_state *s, const config_layouts *cl, const int *wanted, int from, int *first,
                      int *end) {
    const int n = s->o->n_layouts;
    while (from < n && !wanted[from]) from++;
    if (from == n) return 0;
    size_t free_bytes, total_bytes;
    ZZ_CUDA_OR_DIE(cudaMemGetInfo(&free_bytes, &total_bytes));
    double room = (double)free_bytes - (s->o->cold ? 2.0 * s->info.device.l2_bytes : 0) - cl->need[from];
    *first = from;
    for (*end = from + 1; *end < n; (*end)++) {
        if (!wanted[*end]) continue;
        if (cl->need[*end] > room) break;
        room -= cl->need[*end];
    }
    return 1;
}

/* Executors of the group's wanted layouts (with --verify first, in pass 1). */
static int create_group(run_state *s, const sweep_point *pt, const char *label, config_layouts *cl,
                        const int *wanted, int first, int end, int verify, zz_error *err) {
    for (int l = first; l < end; l++) {
        if (!wanted[l]) continue;
        const zz_layout layout = (zz_layout)s->o->layouts[l];
        if ((verify && verify_layout(s, pt, layout, label, &cl->verify_error[l], err)) ||
            zz_plan_build(&s->model, labels_for(&s->budgets[pt->sparsity], layout), layout, &pt->workload, &plan,
                          err) ||
            zz_executor_create(&plan, s->stream, s->info.device.sm_count, &cl->ex[l], err))
            return failed_in(err, label, layout, NULL);
    }
    return 0;
}

static void destroy_group(config_layouts *cl, int first, int end) {
    for (int l = first; l < end; l++) {
        zz_executor_destroy(cl->ex[l]);
        cl->ex[l] = NULL;
    }
}

/* Jobs of the group: every created layout × every mode that `keep` accepts. */
typedef struct {
    zz_measure_job job[(ZZ_LAYOUT_ZIGZAG + 1) * 2];
    zz_measurement m[(ZZ_LAYOUT_ZIGZAG + 1) * 2];
    int layout_index[(ZZ_LAYOUT_ZIGZAG + 1) * 2], mode_index[(ZZ_LAYOUT_ZIGZAG + 1) * 2];
    int n;
} group_jobs;

static void make_jobs(run_state *s, int config, const config_layouts *cl, int first, int end, int pass,
                      group_jobs *g) {
    const run_options *o = s->o;
    g->n = 0;
    for (int l = first; l < end; l++)
        for (int i = 0; cl->ex[l] && i < o->n_modes; i++) {
            if (pass == 2 && *row_slot(s, config, l, i) < 0) continue;
            const int j = g->n++;
            memset(&g->m[j], 0, sizeof g->m[j]);
            g->job[j] = (zz_measure_job){
                .ex = cl->ex[l],
                .opt = {.mode = (zz_mode)o->modes[i], .cold = o->cold, .warmup = (int)o->warmup, .rule = o->rule},
                .out = &g->m[j],
                .name = zz_layout_name((zz_layout)o->layouts[l]),
                .colour = layout_colour[o->layouts[l]]};
            g->layout_index[j] = l;
            g->mode_index[j] = i;
        }
}

/* Pass 1's bookkeeping as each measurement's latency is final. */
typedef struct {
    run_state *s;
    int config;
    const char *label;
    const config_layouts *cl;
    const group_jobs *g;
} latency_context;

static void latency_done(void *context, int j, const zz_measurement *m) {
    latency_context *c = context;
    run_state *s = c->s;
    const int l = c->g->layout_index[j];
    int launches;
    zz_executor_launches(c->cl->ex[l], &launches);
    zz_report_row row = c->cl->row[l];
    row.mode = c->g->job[j].opt.mode;
    row.launches = launches;
    row.verify_error = c->cl->verify_error[l];
    *row_slot(s, c->config, l, c->g->mode_index[j]) = zz_report_add(&s->report, &row, m);
    s->done++;
    s->measured++;
    progress(s, c->label, (zz_layout)s->o->layouts[l], row.mode, m);
}

/* Pass 1: the latency of every layout and mode of one configuration, with
 * no CUPTI in the process yet, sampled interleaved in as few groups as
 * device memory allows. */
static int measure_config(run_state *s, const sweep_point *pt, int config, const char *label, zz_error *err) {
    const run_options *o = s->o;
    static config_layouts cl;
    int wanted[ZZ_LAYOUT_ZIGZAG + 1];
    if (plan_layouts(s, pt, config, label, &cl, err)) return -1;
    for (int l = 0; l < o->n_layouts; l++) {
        wanted[l] = !cl.row[l].skipped[0];
        if (wanted[l]) continue;
        fprintf(stderr, "skip: %s %s: %s\n", label, zz_layout_name((zz_layout)o->layouts[l]), cl.row[l].skipped);
        for (int i = 0; i < o->n_modes; i++) {
            cl.row[l].mode = (zz_mode)o->modes[i];
            zz_report_add_skipped(&s->report, &cl.row[l]);
        }
        s->done += o->n_modes;
        s->skipped += o->n_modes;
    }
    static group_jobs g;
    int first, end, rc = 0;
    s->report.configs[config].groups = 0;
    for (int from = 0; rc == 0 && !interrupted && next_group(s, &cl, wanted, from, &first, &end); from = end) {
        s->report.configs[config].groups++;
        if ((rc = create_group(s, pt, label, &cl, wanted, first, end, o->verify, err)) == 0) {
            make_jobs(s, config, &cl, first, end, 1, &g);
            latency_context context = {s, config, label, &cl, &g};
            if ((rc = zz_measure_latencies(g.job, g.n, s->stream, latency_done, &context, &interrupted, err)))
                failed_in(err, label, (zz_layout)o->layouts[first], "(interleaved group)");
            for (int j = 0; j < g.n; j++) zz_measurement_free(&g.m[j]);
        }
        destroy_group(&cl, first, end);
    }
    return rc;
}

/* Pass 2: kernel attribution of one configuration's measured rows, on
 * fresh executors of the same plans, interleaved like pass 1. */
static int attribute_config(run_state *s, const sweep_point *pt, int config, const char *label, zz_error *err) {
    const run_options *o = s->o;
    static config_layouts cl;
    int wanted[ZZ_LAYOUT_ZIGZAG + 1];
    if (plan_layouts(s, pt, config, label, &cl, err)) return -1;
    for (int l = 0; l < o->n_layouts; l++) {
        wanted[l] = 0;
        for (int i = 0; i < o->n_modes; i++) wanted[l] |= *row_slot(s, config, l, i) >= 0;
    }
    static group_jobs g;
    int first, end, rc = 0;
    for (int from = 0; rc == 0 && !interrupted && next_group(s, &cl, wanted, from, &first, &end); from = end) {
        if ((rc = create_group(s, pt, label, &cl, wanted, first, end, 0, err)) == 0) {
            make_jobs(s, config, &cl, first, end, 2, &g);
            for (int j = 0; j < g.n; j++)
                g.m[j].latency = s->report.rows[*row_slot(s, config, g.layout_index[j], g.mode_index[j])].latency;
            if ((rc = zz_measure_attributions(g.job, g.n, s->stream, s->cupti, err)))
                failed_in(err, label, (zz_layout)o->layouts[first], "(attribution group)");
            for (int j = 0; rc == 0 && j < g.n; j++) {
                const zz_layout layout = (zz_layout)o->layouts[g.layout_index[j]];
                zz_report_add_kernels(&s->report, *row_slot(s, config, g.layout_index[j], g.mode_index[j]), &g.m[j]);
                const zz_step_time *st = &g.m[j].timeline.median_step;
                if (!o->quiet)
                    fprintf(stderr, "kernels: %s %s %s: span %.1f us = %.1f us of kernels + %.1f us idle"
                                    " - %.1f us overlap (clean median %.1f us)\n",
                            label, zz_layout_name(layout), zz_mode_name(g.job[j].opt.mode), st->span_ns / 1e3,
                            st->kernel_total_ns / 1e3, st->idle_ns / 1e3, st->overlap_ns / 1e3,
                            g.m[j].latency.median * 1e6);
            }
            for (int j = 0; j < g.n; j++) zz_measurement_free(&g.m[j]);
        }
        destroy_group(&cl, first, end);
    }
    return rc;
}

/* CUPTI's first attach stays in the process (its hooks lengthened host-bound
 * eager steps by up to 2.6 % after a detach, H100), so every latency is
 * sampled first (pass 1) and CUPTI is started only for the attribution pass
 * (pass 2). The files are rewritten after each configuration of each pass. */
static int start_cupti(run_state *s, zz_error *err) {
    if (zz_cupti_start(&s->cupti, err) == 0) return 0;
    fprintf(stderr, "note: CUPTI unavailable (%s): timing with CUDA events only\n", err->msg);
    snprintf(s->info.cupti_note, sizeof s->info.cupti_note, "CUPTI unavailable (%s)", err->msg);
    s->info.cupti = 0;
    s->cupti = NULL;
    err->msg[0] = '\0';  /* handled: not the run's error */
    char path[sizeof s->out_dir + 16];
    snprintf(path, sizeof path, "%s/env.json", s->out_dir);
    return zz_report_write_env(&s->info, path, err);
}

static int run_sweep(run_state *s, zz_error *err) {
    for (int c = 0; c < s->n_points && !interrupted; c++) {
        const sweep_point *pt = &s->points[c];
        const zz_budget *b = &s->budgets[pt->sparsity];
        zz_report_config rc = {
            .workload = pt->workload,
            .sparsity = b->sparsity,
            .duo = zz_cost_of(&s->model, &pt->workload, b->duo_retrieval),
            .zigzag = zz_cost_of(&s->model, &pt->workload, b->zigzag_layers * s->model.kv_heads),
            .duo_mixed_layers = zz_labels_mixed_layers(&b->duo),
        };
        snprintf(rc.note, sizeof rc.note, "%s", b->note);
        const int config = zz_report_add_config(&s->report, &rc);
        if (config < 0) return zz_errorf(err, "run: %s", s->report.fault);
        char label[128];
        zz_report_config_label(&rc, label, sizeof label);
        zz_nvtx_push(label, 0);
        const int failed = measure_config(s, pt, config, label, err);
        zz_nvtx_pop();
        if (failed) return -1;
        set_status(s, "running: latencies");
        if (zz_report_write(&s->report, s->out_dir, err)) return -1;
    }
    if (!s->info.cupti || interrupted) return 0;
    if (start_cupti(s, err)) return -1;
    for (int c = 0; c < s->n_points && s->cupti && !interrupted; c++) {
        char label[128];
        zz_report_config_label(&s->report.configs[c], label, sizeof label);
        zz_nvtx_push(label, 0);
        const int failed = attribute_config(s, &s->points[c], c, label, err);
        zz_nvtx_pop();
        if (failed) return -1;
        set_status(s, "running: kernel attribution");
        if (zz_report_write(&s->report, s->out_dir, err)) return -1;
    }
    return 0;
}

/* Device, CUPTI, run folder, ceilings and env.json; then the sweep. */
static int run_on_gpu(run_state *s, zz_error *err) {
    const run_options *o = s->o;
    zz_run_info *info = &s->info;
    /* CUPTI starts after every latency is sampled (run_sweep). */
    if (o->no_cupti) snprintf(info->cupti_note, sizeof info->cupti_note, "CUPTI switched off (--no-cupti)");
    info->cupti = !o->no_cupti;
    zz_cupti_versions(&info->cupti_built, &info->cupti_runtime);

    int devices = 0;
    cudaError_t found = cudaGetDeviceCount(&devices);
    if (found != cudaSuccess || devices == 0)
        return zz_errorf(err, "run: no CUDA device here (%s); run it on a GPU machine",
                         found != cudaSuccess ? cudaGetErrorString(found) : "none found");
    ZZ_CUDA_OR_DIE(cudaSetDevice(0));
    if (zz_device_query(0, &info->device, err)) return -1;
    ZZ_CUDA_OR_DIE(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));

    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(info->date, sizeof info->date, "%Y-%m-%dT%H:%M:%S%z", &local);
    if (o->out_dir) {
        snprintf(s->out_dir, sizeof s->out_dir, "%s", o->out_dir);
    } else {
        char gpu[128], stamp[32];
        slug(info->device.name, gpu, sizeof gpu);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
        snprintf(s->out_dir, sizeof s->out_dir, "results/%s-%s", gpu, stamp);
    }
    if (make_dirs(s->out_dir, err)) return -1;
    if (!o->quiet) fprintf(stderr, "run folder: %s/\n", s->out_dir);

    if (zz_measure_ceilings(s->stream, CEILING_SAMPLES, &info->ceilings, err)) return -1;
    if (!o->quiet)
        fprintf(stderr, "%s: copy %.0f GB/s, bf16 GEMM %.0f TFLOP/s; %d measurements to go\n", info->device.name,
                info->ceilings.copy_gbps, info->ceilings.gemm_tflops, s->total);
    git_commit(info->git_commit, (int)sizeof info->git_commit);
    if (gethostname(info->hostname, sizeof info->hostname - 1) != 0)
        snprintf(info->hostname, sizeof info->hostname, "unknown");
    char path[sizeof s->out_dir + 16];
    snprintf(path, sizeof path, "%s/env.json", s->out_dir);
    if (zz_report_write_env(info, path, err)) return -1;

    zz_report_init(&s->report, info);
    install_interrupt_handler();  /* only now: before the sweep there is nothing to save, so quit at once */
    s->start_s = wall_seconds();
    ZZ_CUDA_OR_DIE(cudaProfilerStart());
    zz_nvtx_push("run", 0);
    int rc = run_sweep(s, err);
    zz_nvtx_pop();
    ZZ_CUDA_OR_DIE(cudaProfilerStop());
    return rc;
}

static int run_run(int argc, char **argv, const char *command_line, zz_error *err) {
    static run_options o;
    static run_state s;
    int rc = parse_run_options(argc, argv, &o, err);
    if (rc) return rc < 0 ? EXIT_USAGE : (fputs(run_usage, stdout), 0);
    s.o = &o;
    if (resolve_model("run", &o.common, &s.model, err) || load_pattern(&o.common, &s.model, o.seed, &pattern, err))
        return EXIT_USAGE;
    if (!(s.budgets = malloc((size_t)o.n_sparsity * sizeof *s.budgets)))
        return zz_errorf(err, "run: out of memory"), EXIT_USAGE;
    for (int i = 0; i < o.n_sparsity; i++)
        if (zz_budget_make(&pattern, o.sparsity[i], o.common.rounding, zz_select_by_mean_alpha, &s.budgets[i], err))
            return EXIT_USAGE;
    if (enumerate_sweep(&o, &pattern, &s.points, &s.n_points, err)) return EXIT_USAGE;
    /* Every plan builds (the workloads are valid) before the GPU is touched. */
    for (int c = 0; c < s.n_points; c++)
        for (int l = 0; l < o.n_layouts; l++)
            if (zz_plan_build(&s.model, labels_for(&s.budgets[s.points[c].sparsity], (zz_layout)o.layouts[l]),
                              (zz_layout)o.layouts[l], &s.points[c].workload, &plan, err))
                return EXIT_USAGE;
    s.total = s.n_points * o.n_layouts * o.n_modes;
    if (!(s.rows = malloc((size_t)s.total * sizeof *s.rows))) return zz_errorf(err, "run: out of memory"), EXIT_USAGE;
    for (int i = 0; i < s.total; i++) s.rows[i] = -1;
    s.info = (zz_run_info){.model = s.model, .cold = o.cold, .rule = o.rule, .warmup = (int)o.warmup,
                           .seed = o.seed, .command_line = command_line};
    snprintf(s.info.pattern, sizeof s.info.pattern, "%s", pattern.source);
    if (zz_device_check(0, err)) return EXIT_USAGE;

    rc = run_on_gpu(&s, err);
    int status = rc ? 1 : interrupted ? EXIT_INTERRUPTED : 0;
    if (s.report.info) {  /* the sweep began: leave every finished row */
        set_status(&s, rc ? "stopped by an error" : interrupted ? "interrupted" : "complete");
        zz_error write_err = {""};
        if (zz_report_write(&s.report, s.out_dir, &write_err)) {
            fprintf(stderr, "zz-bench: %s\n", write_err.msg);
            status = 1;
        }
        if (!rc) {
            char *summary = zz_report_summary(&s.report);
            if (summary) fputs(summary, stdout);
            free(summary);
        }
        fprintf(stderr, "%s: %s/ (env.json, results.csv, kernels.csv, summary.md)\n",
                rc ? "rows finished so far in" : "wrote", s.out_dir);
    }
    zz_cupti_stop(s.cupti);
    if (s.stream) cudaStreamDestroy(s.stream);
    zz_report_free(&s.report);
    free(s.points);
    free(s.budgets);
    return status;
}

/* The command line as a shell would take it back, for env.json. */
static char *quoted_command_line(int argc, char **argv) {
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

static const char summary_usage[] =
    "usage: zz-bench summary RUN_DIR\n"
    "\n"
    "Rewrites RUN_DIR/summary.md from results.csv and env.json with this version's\n"
    "tables (host share, host-paced marks, ...), for run folders written by older\n"
    "versions. The status line, skipped measurements and notes, which results.csv\n"
    "does not hold, are kept from the summary.md it replaces. Needs no GPU.\n"
    "\n"
    "  -h, --help              this help\n";

/* summary: the folder's summary.md rebuilt (report_read.h); any failure
 * leaves the folder as it was. */
static int run_summary(int argc, char **argv, zz_error *err) {
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return fputs(summary_usage, stdout), 0;
    if (argc != 2 || argv[1][0] == '-')
        return zz_errorf(err, "summary: expected one run folder (usage: zz-bench summary RUN_DIR)"), EXIT_USAGE;
    return zz_report_rewrite_summary(argv[1], err) ? EXIT_USAGE : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "zz-bench: missing command (see zz-bench --help)\n");
        return EXIT_USAGE;
    }
    zz_error err = {""};
    int status;
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(main_usage, stdout);
        status = 0;
    } else if (strcmp(argv[1], "plan") == 0) {
        status = run_plan(argc - 1, argv + 1, &err);
    } else if (strcmp(argv[1], "run") == 0) {
        char *command_line = quoted_command_line(argc, argv);
        status = run_run(argc - 1, argv + 1, command_line ? command_line : argv[0], &err);
        free(command_line);
    } else if (strcmp(argv[1], "summary") == 0) {
        status = run_summary(argc - 1, argv + 1, &err);
    } else {
        zz_errorf(&err, "unknown command '%s' (commands: plan, run, summary; see zz-bench --help)", argv[1]);
        status = EXIT_USAGE;
    }
    if (status == 0 && zz_close_stdout(&err)) status = EXIT_USAGE;
    if (status && err.msg[0]) fprintf(stderr, "zz-bench: %s\n", err.msg);
    return status;
}
