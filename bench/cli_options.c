/* The options zz-bench's commands share, and their parsers (cli.h). */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum {
    /* shared */
    OPT_MODEL = 256, OPT_LAYERS, OPT_Q_HEADS, OPT_KV_HEADS, OPT_HEAD_DIM, OPT_HIDDEN, OPT_MLP, OPT_VOCAB, OPT_STEP,
    OPT_PATTERN, OPT_SYNTHETIC, OPT_ZIGZAG_BUDGET, OPT_SINK, OPT_RECENT,
    /* one value in plan, a list in run */
    OPT_SPARSITY, OPT_BATCH, OPT_CTX, OPT_PHASE, OPT_CHUNK, OPT_DECODE_KERNEL, OPT_PREFILL_KERNEL,
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
    {"hidden", required_argument, NULL, OPT_HIDDEN},             \
    {"mlp", required_argument, NULL, OPT_MLP},                   \
    {"vocab", required_argument, NULL, OPT_VOCAB},               \
    {"step", required_argument, NULL, OPT_STEP},                 \
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
    {"decode-kernel", required_argument, NULL, OPT_DECODE_KERNEL}, \
    {"prefill-kernel", required_argument, NULL, OPT_PREFILL_KERNEL}, \
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
    case OPT_HIDDEN: return parse_whole("--hidden", value, 1, ZZ_MAX_HIDDEN, 0, &o->hidden, err);
    case OPT_MLP: return parse_whole("--mlp", value, 1, ZZ_MAX_MLP, 0, &o->mlp, err);
    case OPT_VOCAB: return parse_whole("--vocab", value, 1, ZZ_MAX_VOCAB, 0, &o->vocab, err);
    case OPT_STEP:
        if (zz_step_from_name(value, &o->step))
            return zz_errorf(err, "--step: expected attention or model, found '%s'", value);
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
    case OPT_DECODE_KERNEL:
    case OPT_PREFILL_KERNEL: {
        const zz_phase phase = c == OPT_DECODE_KERNEL ? ZZ_DECODE : ZZ_PREFILL;
        *(phase == ZZ_DECODE ? &o->decode_kernel_given : &o->prefill_kernel_given) = 1;
        if (zz_kernel_variant_from_name(phase, value, phase == ZZ_DECODE ? &o->decode_kernel : &o->prefill_kernel))
            return zz_errorf(err, "--%s-kernel: expected one of %s, found '%s'", zz_phase_name(phase),
                             phase == ZZ_DECODE ? zz_decode_kernel_names : zz_prefill_kernel_names, value);
        return 0;
    }
    }
    return 0;
}

/* A kernel flag for a phase that does not run names nothing: an error. */
static int check_kernel_flags(const char *command, int decode_given, int prefill_given, int phases, zz_error *err) {
    if (decode_given && phases == 1 << ZZ_PREFILL)
        return zz_errorf(err, "%s: --decode-kernel with --phase prefill: there is no decode to apply it to", command);
    if (prefill_given && phases == 1 << ZZ_DECODE)
        return zz_errorf(err, "%s: --prefill-kernel with --phase decode: there is no prefill to apply it to",
                         command);
    return 0;
}

int cli_parse_plan_options(int argc, char **argv, plan_options *o, zz_error *err) {
    *o = (plan_options){.common = common_defaults,
                        .sparsity = 0.5,
                        .layout = ZZ_LAYOUT_DUO_CAT,
                        .phase = ZZ_DECODE,
                        .batch = 1,
                        .ctx = 32 * 1024,
                        .format = FORMAT_TEXT};
    if (zz_kernel_variant_from_name(ZZ_DECODE, DEFAULT_DECODE_KERNEL, &o->decode_kernel))
        return zz_errorf(err, "plan: default decode kernel %s is not a variant", DEFAULT_DECODE_KERNEL);
    int rc = parse_flags("plan", argc, argv, plan_flags, parse_plan_flag, o, err);
    if (rc) return rc;
    if (o->chunk_given && o->phase == ZZ_DECODE)
        return zz_errorf(err, "plan: --chunk with --phase decode (the default): chunks split a prefill; add --phase "
                              "prefill");
    return check_kernel_flags("plan", o->decode_kernel_given, o->prefill_kernel_given, 1 << o->phase, err);
}

/* Name lists for zz_parse_names, in enum order so the index is the value. */
static const char *layout_list[ZZ_LAYOUTS], *phase_list[2], *mode_list[2];
static const char *kernel_list[2][ZZ_MAX_KERNEL_VARIANTS];

static void fill_name_lists(void) {
    for (int l = 0; l < ZZ_LAYOUTS; l++) layout_list[l] = zz_layout_name((zz_layout)l);
    for (int p = ZZ_DECODE; p <= ZZ_PREFILL; p++)
        for (int v = 0; v < zz_kernel_variant_count((zz_phase)p); v++)
            kernel_list[p][v] = zz_kernel_variant_name((zz_phase)p, v);
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
        return zz_parse_names("--layouts", value, layout_list, ZZ_LAYOUTS, o->layouts, &o->n_layouts, err);
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
    case OPT_DECODE_KERNEL:
    case OPT_PREFILL_KERNEL: {
        const zz_phase phase = c == OPT_DECODE_KERNEL ? ZZ_DECODE : ZZ_PREFILL;
        int *list = phase == ZZ_DECODE ? o->decode_kernels : o->prefill_kernels;
        int *n = phase == ZZ_DECODE ? &o->n_decode_kernels : &o->n_prefill_kernels;
        const int count = zz_kernel_variant_count(phase);
        *(phase == ZZ_DECODE ? &o->decode_kernel_given : &o->prefill_kernel_given) = 1;
        if (strcmp(value, "all") == 0) {
            for (*n = 0; *n < count; ++*n) list[*n] = *n;
            return 0;
        }
        char flag[32];
        snprintf(flag, sizeof flag, "--%s-kernel", zz_phase_name(phase));
        return zz_parse_names(flag, value, kernel_list[phase], count, list, n, err);
    }
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
    return check_kernel_flags("run", o->decode_kernel_given, o->prefill_kernel_given, only < 0 ? 3 : 1 << only, err);
}

int cli_parse_run_options(int argc, char **argv, run_options *o, zz_error *err) {
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
        parse_run_flag(OPT_MODE, DEFAULT_MODES, o, err) ||
        parse_run_flag(OPT_DECODE_KERNEL, DEFAULT_DECODE_KERNEL, o, err) ||
        parse_run_flag(OPT_PREFILL_KERNEL, DEFAULT_PREFILL_KERNEL, o, err))
        return -1;
    o->ctx_given = o->prefill_ctx_given = o->chunk_given = o->decode_kernel_given = o->prefill_kernel_given = 0;
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
 * four shape flags alone (cli.h). */
int cli_resolve_model(const char *command, const common_options *o, zz_model *m, zz_error *err) {
    const long long given[] = {o->layers, o->q_heads, o->kv_heads, o->head_dim, o->hidden, o->mlp, o->vocab};
    static const char *const flags[] = {"--layers", "--q-heads", "--kv-heads", "--head-dim"};
    int any = 0;
    for (int i = 0; i < 4; i++) any |= given[i] != 0;
    if (!o->model_name && any) {
        for (int i = 0; i < 4; i++)
            if (!given[i])
                return zz_errorf(err, "%s: %s missing: without --model give all of --layers, --q-heads, "
                                      "--kv-heads and --head-dim", command, flags[i]);
        *m = (zz_model){.layers = (int)o->layers, .q_heads = (int)o->q_heads, .kv_heads = (int)o->kv_heads,
                        .head_dim = (int)o->head_dim, .hidden = (int)o->hidden, .mlp = (int)o->mlp,
                        .vocab = (int)o->vocab};
        snprintf(m->name, sizeof m->name, "custom");
        m->model_layers = m->layers;
        if (zz_model_check(m, err)) return -1;
        if (o->step == ZZ_STEP_MODEL && (!o->hidden || !o->mlp || !o->vocab))
            return zz_errorf(err, "%s: --step model without --model needs --hidden, --mlp and --vocab too", command);
        return 0;
    }
    if (zz_model_preset(o->model_name ? o->model_name : "llama3-8b", m, err)) return -1;
    /* --layers N: the preset's first N layers; the model is still the preset. */
    if (o->layers > m->layers)
        return zz_errorf(err, "%s: --layers %lld: %s has %d layers (--layers runs the first N of them)", command,
                         o->layers, m->name, m->layers);
    if (o->layers) m->layers = (int)o->layers;
    int *fields[] = {&m->layers, &m->q_heads, &m->kv_heads, &m->head_dim, &m->hidden, &m->mlp, &m->vocab};
    for (int i = 1; i < 7; i++) {
        if (given[i] && given[i] != *fields[i]) {
            *fields[i] = (int)given[i];
            snprintf(m->name, sizeof m->name, "custom");
        }
    }
    return zz_model_check(m, err) || zz_model_check_step(m, o->step, err) ? -1 : 0;
}

/* The pattern folder, or the synthetic spec (default uniform-mixed), with
 * `seed` when the spec names none. */
int cli_load_pattern(const common_options *o, const zz_model *m, unsigned long long seed, zz_pattern *p,
                        zz_error *err) {
    if (o->pattern_dir) return zz_pattern_load(o->pattern_dir, m, p, err);
    const char *kind = o->synthetic ? o->synthetic : "uniform-mixed";
    char spec[256];
    if (strchr(kind, ':')) snprintf(spec, sizeof spec, "%s", kind);
    else snprintf(spec, sizeof spec, "%s:%llu", kind, seed);
    return zz_pattern_synthetic(spec, m, p, err);
}

/* The workload's window: the flags, else the pattern's config.json. */
void cli_apply_window(const common_options *o, const zz_pattern *p, zz_workload *w) {
    w->sink = o->sink >= 0 ? (int)o->sink : p->sink;
    w->recent = o->recent >= 0 ? (int)o->recent : p->recent;
}
