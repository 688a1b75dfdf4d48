/* zz-bench: the suite's command line, `zz-bench <command> [options]`.
 *
 *   plan   the per-layer execution plan of one layout, and the equal-budget
 *          summary of duo against zigzag (retrieval heads, KV bytes, FLOPs)
 *
 * Everything is computed before anything is printed, so a bad flag or a bad
 * pattern file leaves stdout empty: one line "zz-bench: <msg>" on stderr and
 * exit status 2.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pattern.h"
#include "plan.h"

#define EXIT_USAGE 2

static const char main_usage[] =
    "usage: zz-bench <command> [options]\n"
    "\n"
    "Latency suite for split-head attention: DuoAttention-style mixed layers\n"
    "against ZigzagAttention's layer-exclusive layers.\n"
    "\n"
    "commands:\n"
    "  plan    per-layer execution plan of one layout, and the duo/zigzag budget\n"
    "\n"
    "Run 'zz-bench <command> --help' for the options of a command.\n";

static const char plan_usage[] =
    "usage: zz-bench plan [options]\n"
    "\n"
    "Prints the per-layer execution plan of one layout, then the equal-budget\n"
    "summary of duo and zigzag: retrieval KV heads, mixed layers, launches,\n"
    "KV-cache bytes and attention FLOPs of one step. Text: table, blank line,\n"
    "summary, all on stdout. CSV: the table on stdout, the summary on stderr.\n"
    "\n"
    "model (a preset, optionally overridden, or all four shape flags):\n"
    "  --model NAME            llama2-7b, llama3-8b, mistral-7b, llama3-70b (default llama3-8b)\n"
    "  --layers N              layers L\n"
    "  --q-heads N             query heads Hq\n"
    "  --kv-heads N            KV heads Hkv, dividing Hq\n"
    "  --head-dim N            head dim D: 64 or 128\n"
    "head pattern (one of):\n"
    "  --pattern DIR           DuoAttention folder: full_attention_heads.tsv, optional config.json\n"
    "  --synthetic KIND[:SEED] uniform-mixed, random or layered; seed default 1\n"
    "                          (default uniform-mixed:1)\n"
    "labels and layout:\n"
    "  --sparsity S            fraction of KV heads streaming, 0..1 (default 0.5)\n"
    "  --zigzag-budget R       zigzag retrieval layers when Hkv does not divide the retrieval\n"
    "                          heads: nearest (halves up), floor or ceil (default nearest)\n"
    "  --layout NAME           full, streaming, duo (= duo-cat), duo-cat, duo-gather,\n"
    "                          duo-slices, zigzag (default duo-cat)\n"
    "workload (token counts take a k = 1024 or m = 1048576 suffix):\n"
    "  --batch N               sequences B (default 1)\n"
    "  --ctx S                 context: cached tokens at decode, prompt at prefill (default 32k)\n"
    "  --phase P               decode or prefill (default decode)\n"
    "  --chunk C               prefill chunk tokens; 0 = single shot (default 0)\n"
    "  --sink N                streaming sink tokens (default config.json's sink_size, else 128)\n"
    "  --recent N              streaming recent tokens (default config.json's recent_size, else 256)\n"
    "output:\n"
    "  --format F              text or csv (default text); csv header:\n"
    "                          layer,kind,retrieval_heads,streaming_heads\n"
    "  --ops                   each layer's operations too (text: under its layer; csv: one row\n"
    "                          per operation instead of per layer)\n"
    "  -h, --help              this help\n";

typedef enum { FORMAT_TEXT, FORMAT_CSV } output_format;

typedef struct {
    const char *model_name;
    long long layers, q_heads, kv_heads, head_dim;  /* 0: not given */
    const char *pattern_dir, *synthetic;
    double sparsity;
    zz_rounding rounding;
    zz_layout layout;
    zz_phase phase;
    long long batch, ctx, chunk;
    long long sink, recent;  /* -1: from the pattern */
    output_format format;
    int show_ops;
} plan_options;

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

static int parse_sparsity(const char *text, double *out, zz_error *err) {
    char *rest;
    double value = strtod(text, &rest);
    if (rest == text || *rest || !(value >= 0 && value <= 1))
        return zz_errorf(err, "--sparsity: expected a number in 0..1, found '%s'", text);
    *out = value;
    return 0;
}

/* -------------------------------------------------------- options ---- */

enum {
    OPT_MODEL = 256, OPT_LAYERS, OPT_Q_HEADS, OPT_KV_HEADS, OPT_HEAD_DIM, OPT_PATTERN, OPT_SYNTHETIC,
    OPT_SPARSITY, OPT_ZIGZAG_BUDGET, OPT_LAYOUT, OPT_BATCH, OPT_CTX, OPT_PHASE, OPT_CHUNK, OPT_SINK,
    OPT_RECENT, OPT_FORMAT, OPT_OPS,
};

static const struct option plan_flags[] = {
    {"model", required_argument, NULL, OPT_MODEL},
    {"layers", required_argument, NULL, OPT_LAYERS},
    {"q-heads", required_argument, NULL, OPT_Q_HEADS},
    {"kv-heads", required_argument, NULL, OPT_KV_HEADS},
    {"head-dim", required_argument, NULL, OPT_HEAD_DIM},
    {"pattern", required_argument, NULL, OPT_PATTERN},
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
    {"sparsity", required_argument, NULL, OPT_SPARSITY},
    {"zigzag-budget", required_argument, NULL, OPT_ZIGZAG_BUDGET},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"ctx", required_argument, NULL, OPT_CTX},
    {"phase", required_argument, NULL, OPT_PHASE},
    {"chunk", required_argument, NULL, OPT_CHUNK},
    {"sink", required_argument, NULL, OPT_SINK},
    {"recent", required_argument, NULL, OPT_RECENT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"ops", no_argument, NULL, OPT_OPS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns 1 when --help was asked for, 0 when the options are complete, -1 on error. */
static int parse_plan_options(int argc, char **argv, plan_options *o, zz_error *err) {
    *o = (plan_options){.sparsity = 0.5,
                        .rounding = ZZ_ROUND_NEAREST,
                        .layout = ZZ_LAYOUT_DUO_CAT,
                        .phase = ZZ_DECODE,
                        .batch = 1,
                        .ctx = 32 * 1024,
                        .sink = -1,
                        .recent = -1,
                        .format = FORMAT_TEXT};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", plan_flags, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        int rc = 0;
        switch (c) {
        case 'h': return 1;
        case ':': return zz_errorf(err, "plan: option '%s' needs a value", flag);
        case '?':
            if (optopt >= OPT_MODEL) return zz_errorf(err, "plan: option '%s' takes no value", flag);
            if (optopt) return zz_errorf(err, "plan: unknown option '-%c' (see zz-bench plan --help)", optopt);
            return zz_errorf(err, "plan: unknown or ambiguous option '%s' (see zz-bench plan --help)", flag);
        case OPT_MODEL: o->model_name = optarg; break;
        case OPT_LAYERS: rc = parse_whole("--layers", optarg, 1, ZZ_MAX_LAYERS, 0, &o->layers, err); break;
        case OPT_Q_HEADS: rc = parse_whole("--q-heads", optarg, 1, ZZ_MAX_Q_HEADS, 0, &o->q_heads, err); break;
        case OPT_KV_HEADS: rc = parse_whole("--kv-heads", optarg, 1, ZZ_MAX_KV_HEADS, 0, &o->kv_heads, err); break;
        case OPT_HEAD_DIM:
            if (strcmp(optarg, "64") == 0 || strcmp(optarg, "128") == 0) o->head_dim = atoi(optarg);
            else rc = zz_errorf(err, "--head-dim: expected 64 or 128, found '%s'", optarg);
            break;
        case OPT_PATTERN: o->pattern_dir = optarg; break;
        case OPT_SYNTHETIC: o->synthetic = optarg; break;
        case OPT_SPARSITY: rc = parse_sparsity(optarg, &o->sparsity, err); break;
        case OPT_ZIGZAG_BUDGET:
            if (zz_rounding_from_name(optarg, &o->rounding))
                rc = zz_errorf(err, "--zigzag-budget: expected nearest, floor or ceil, found '%s'", optarg);
            break;
        case OPT_LAYOUT:
            if (zz_layout_from_name(optarg, &o->layout))
                rc = zz_errorf(err, "--layout: expected one of %s, found '%s'", zz_layout_names, optarg);
            break;
        case OPT_BATCH: rc = parse_whole("--batch", optarg, 1, ZZ_MAX_BATCH, 0, &o->batch, err); break;
        case OPT_CTX: rc = parse_whole("--ctx", optarg, 1, ZZ_MAX_CTX, 1, &o->ctx, err); break;
        case OPT_CHUNK: rc = parse_whole("--chunk", optarg, 0, ZZ_MAX_CTX, 1, &o->chunk, err); break;
        case OPT_SINK: rc = parse_whole("--sink", optarg, 0, ZZ_MAX_CTX, 1, &o->sink, err); break;
        case OPT_RECENT: rc = parse_whole("--recent", optarg, 1, ZZ_MAX_CTX, 1, &o->recent, err); break;
        case OPT_PHASE:
            if (zz_phase_from_name(optarg, &o->phase))
                rc = zz_errorf(err, "--phase: expected decode or prefill, found '%s'", optarg);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0) o->format = FORMAT_TEXT;
            else if (strcmp(optarg, "csv") == 0) o->format = FORMAT_CSV;
            else rc = zz_errorf(err, "--format: expected text or csv, found '%s'", optarg);
            break;
        case OPT_OPS: o->show_ops = 1; break;
        }
        if (rc) return -1;
    }
    if (optind < argc) return zz_errorf(err, "plan: unexpected argument '%s'", argv[optind]);
    if (o->pattern_dir && o->synthetic) return zz_errorf(err, "plan: --pattern and --synthetic exclude each other");
    return 0;
}

/* A preset (default llama3-8b) with the shape flags applied on top, or all
 * four shape flags alone. */
static int resolve_model(const plan_options *o, zz_model *m, zz_error *err) {
    const long long given[] = {o->layers, o->q_heads, o->kv_heads, o->head_dim};
    static const char *const flags[] = {"--layers", "--q-heads", "--kv-heads", "--head-dim"};
    int any = 0;
    for (int i = 0; i < 4; i++) any |= given[i] != 0;
    if (!o->model_name && any) {
        for (int i = 0; i < 4; i++)
            if (!given[i])
                return zz_errorf(err, "plan: %s missing: without --model give all of --layers, --q-heads, "
                                      "--kv-heads and --head-dim", flags[i]);
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

/* ------------------------------------------------------------ output ---- */

static void human_bytes(double bytes, char *out, size_t size) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) bytes /= 1024, u++;
    snprintf(out, size, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
}

static void human_flops(double flops, char *out, size_t size) {
    static const char *const units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
    int u = 0;
    while (flops >= 1000 && u < 6) flops /= 1000, u++;
    snprintf(out, size, u ? "%.2f %s" : "%.0f %s", flops, units[u]);
}

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
            human_bytes(op->bytes, bytes, sizeof bytes);
            if (op->flops) human_flops(op->flops, flops, sizeof flops);
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
    print_budget_row(out, "KV cache bytes", duo->kv_bytes, zigzag->kv_bytes, human_bytes);
    print_budget_row(out, "attention FLOPs", duo->flops, zigzag->flops, human_flops);
    print_budget_row(out, "bytes moved", duo->bytes, zigzag->bytes, human_bytes);
    if (!budget->note[0]) return;
    fprintf(out, "note: %s\n", budget->note);
    const int choices[] = {budget->layers_floor, budget->layers_ceil};
    static const char *const names[] = {"floor", "ceil"};
    for (int i = 0; i < 2; i++) {
        zz_cost c = zz_cost_of(&duo->model, w, choices[i] * duo->model.kv_heads);
        char bytes[32], flops[32];
        human_bytes(c.kv_bytes, bytes, sizeof bytes);
        human_flops(c.flops, flops, sizeof flops);
        fprintf(out, "zigzag %s: %d layers, %d retrieval heads, KV cache %.0f (%s), attention FLOPs %.0f (%s)\n",
                names[i], choices[i], c.retrieval_heads, c.kv_bytes, bytes, c.flops, flops);
    }
}

/* ----------------------------------------------------------- plan ---- */

/* Large, and one run of the command needs each once. */
static zz_pattern pattern;
static zz_budget budget;
static zz_plan plan, duo_plan, zigzag_plan;

static int run_plan(int argc, char **argv, zz_error *err) {
    plan_options o;
    int rc = parse_plan_options(argc, argv, &o, err);
    if (rc) return rc < 0 ? EXIT_USAGE : (fputs(plan_usage, stdout), 0);
    zz_model m;
    if (resolve_model(&o, &m, err)) return EXIT_USAGE;
    if (o.pattern_dir ? zz_pattern_load(o.pattern_dir, &m, &pattern, err)
                      : zz_pattern_synthetic(o.synthetic ? o.synthetic : "uniform-mixed:1", &m, &pattern, err))
        return EXIT_USAGE;
    zz_workload w = {.phase = o.phase,
                     .batch = (int)o.batch,
                     .ctx = o.ctx,
                     .chunk = o.chunk,
                     .sink = o.sink >= 0 ? (int)o.sink : pattern.sink,
                     .recent = o.recent >= 0 ? (int)o.recent : pattern.recent};
    if (zz_budget_make(&pattern, o.sparsity, o.rounding, zz_select_by_mean_alpha, &budget, err)) return EXIT_USAGE;
    /* The summary compares the requested duo variant (duo-cat otherwise) with zigzag. */
    const int is_duo = o.layout == ZZ_LAYOUT_DUO_CAT || o.layout == ZZ_LAYOUT_DUO_GATHER ||
                       o.layout == ZZ_LAYOUT_DUO_SLICES;
    const zz_labels *labels = o.layout == ZZ_LAYOUT_ZIGZAG ? &budget.zigzag : &budget.duo;
    if (zz_plan_build(&m, labels, o.layout, &w, &plan, err) ||
        zz_plan_build(&m, &budget.duo, is_duo ? o.layout : ZZ_LAYOUT_DUO_CAT, &w, &duo_plan, err) ||
        zz_plan_build(&m, &budget.zigzag, ZZ_LAYOUT_ZIGZAG, &w, &zigzag_plan, err))
        return EXIT_USAGE;
    if (o.format == FORMAT_CSV) {
        print_csv(&plan, o.show_ops);
        fflush(stdout);
        print_budget(stderr, &budget, &duo_plan, &zigzag_plan);
    } else {
        print_text(&plan, &pattern, o.sparsity, o.show_ops);
        printf("\n");
        print_budget(stdout, &budget, &duo_plan, &zigzag_plan);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "zz-bench: missing command (see zz-bench --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    zz_error err = {""};
    int status;
    if (strcmp(argv[1], "plan") == 0) {
        status = run_plan(argc - 1, argv + 1, &err);
    } else {
        zz_errorf(&err, "unknown command '%s' (commands: plan; see zz-bench --help)", argv[1]);
        status = EXIT_USAGE;
    }
    if (status == EXIT_USAGE) fprintf(stderr, "zz-bench: %s\n", err.msg);
    return status;
}
