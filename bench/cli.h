/* zz-bench's command line, split by command (bench/zz_bench.c dispatches):
 *   cli_options.c  the options the commands share and their parsers, tested
 *                  directly by tests/test_cli_options.c
 *   cmd_plan.c     zz-bench plan: a layout's plan and the equal-budget summary
 *   cmd_run.c      zz-bench run: device set-up and the run folder around the
 *                  harness's runner (harness/run/runner.h), which owns the protocol
 *   cmd_summary.c  zz-bench summary: a run folder's summary.md rebuilt
 * Every argument is checked before anything is printed or any CUDA call is
 * made: a bad one gives one line "zz-bench: <msg>" and exit status 2.
 */
#ifndef ZZ_CLI_H
#define ZZ_CLI_H

#include "error.h"
#include "executor.h"
#include "model.h"
#include "pattern.h"
#include "plan.h"
#include "stats.h"
#include "sweep.h"
#include "variants.h"

/* The flags plan and run share, for both help texts. */
#define MODEL_HELP                                                                                   \
    "model (a preset, optionally overridden, or all four shape flags):\n"                            \
    "  --model NAME            llama2-7b, llama3-8b, mistral-7b, llama3-70b (default llama3-8b)\n"  \
    "  --layers N              layers L; with a preset, its first N layers run (for a model too\n"  \
    "                          large for the card; every output says so)\n"                        \
    "  --q-heads N             query heads Hq\n"                                                     \
    "  --kv-heads N            KV heads Hkv, dividing Hq\n"                                          \
    "  --head-dim N            head dim D: 64 or 128\n"                                              \
    "  --hidden N              hidden size H (a model step's; the preset's by default)\n"           \
    "  --mlp N                 MLP (intermediate) size F (the preset's by default)\n"              \
    "  --vocab N               vocabulary V (the preset's by default)\n"
#define STEP_HELP                                                                                    \
    "  --step S                attention (default): each layer's cache writes, attention and\n"     \
    "                          copies; model: the whole decoder step around them (RMSNorm, QKV\n"   \
    "                          GEMM, rotary, attention, O GEMM + residual, RMSNorm, gate/up GEMM,\n" \
    "                          SiLU x up, down GEMM + residual; final RMSNorm and LM head)\n"
#define PATTERN_HELP                                                                                 \
    "head pattern (one of):\n"                                                                       \
    "  --pattern DIR           DuoAttention folder: full_attention_heads.tsv, optional config.json\n"
#define WINDOW_HELP                                                                                  \
    "  --sink N                streaming sink tokens (default config.json's sink_size, else 128)\n" \
    "  --recent N              streaming recent tokens (default config.json's recent_size, else 256)\n"
#define BUDGET_HELP                                                                                  \
    "  --zigzag-budget R       zigzag retrieval layers when Hkv does not divide the retrieval\n"    \
    "                          heads: nearest (halves up), floor or ceil (default nearest)\n"

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130  /* 128 + SIGINT, as a shell reports it */

/* run's defaults, as the help states them and as they are parsed. */
#define DEFAULT_SPARSITY    "0.5"
#define DEFAULT_LAYOUTS     "full,streaming,duo-cat,duo-slices,duo-fused,zigzag"
#define DEFAULT_PHASES      "decode,prefill"
#define DEFAULT_CTX         "8k,32k,128k"
#define DEFAULT_PREFILL_CTX "8k,32k"
#define DEFAULT_BATCH       "1"
#define DEFAULT_CHUNK       "0"
#define DEFAULT_MODES       "eager,graph"
#define DEFAULT_DECODE_KERNEL  "one-launch"  /* issue 14: faster in every H200 decode step */
#define DEFAULT_PREFILL_KERNEL "fa2"  /* run: wgmma-tma where it runs (zz_default_prefill_kernel) */
#define DEFAULT_WARMUP      3
#define DEFAULT_SEED        1


/* What both commands take: the model, its head pattern, the zigzag budget
 * rounding and the streaming window. */
typedef struct {
    const char *model_name;
    long long layers, q_heads, kv_heads, head_dim;  /* 0: not given */
    long long hidden, mlp, vocab;                   /* 0: not given */
    zz_step step;
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
    int decode_kernel, prefill_kernel;  /* variants.h; the phase's applies */
    int decode_kernel_given, prefill_kernel_given;
} plan_options;

typedef struct {
    common_options common;
    unsigned long long seed;
    double sparsity[ZZ_MAX_LIST];
    int layouts[ZZ_MAX_LIST], phases[ZZ_MAX_LIST], modes[ZZ_MAX_LIST];
    long long ctx[ZZ_MAX_LIST], prefill_ctx[ZZ_MAX_LIST], batch[ZZ_MAX_LIST], chunk[ZZ_MAX_LIST];
    int n_sparsity, n_layouts, n_phases, n_modes, n_ctx, n_prefill_ctx, n_batch, n_chunk;
    int decode_kernels[ZZ_MAX_LIST], prefill_kernels[ZZ_MAX_LIST], n_decode_kernels, n_prefill_kernels;
    int ctx_given, prefill_ctx_given, chunk_given, seed_given;  /* flags that meet conflicts */
    int decode_kernel_given, prefill_kernel_given;
    long long warmup, min_samples;
    zz_stop_rule rule;
    int cold, no_cupti, verify, quiet;
    const char *out_dir;  /* NULL: results/<gpu>-<date>-<time> */
} run_options;


/* The parsers return 1 when --help was asked for, 0 when the options are
 * complete and consistent, -1 (err set) otherwise. */
int cli_parse_plan_options(int argc, char **argv, plan_options *o, zz_error *err);
int cli_parse_run_options(int argc, char **argv, run_options *o, zz_error *err);

/* A preset (default llama3-8b) with the shape flags applied on top, or all
 * four shape flags alone (then --hidden, --mlp and --vocab too for a model
 * step). With a preset, --layers N runs its first N layers (the name
 * stays, model_layers keeps the preset's count); another shape flag that
 * changes the preset makes it "custom". */
int cli_resolve_model(const char *command, const common_options *o, zz_model *m, zz_error *err);
/* The pattern folder, or the synthetic spec (default uniform-mixed), with
 * `seed` when the spec names none. */
int cli_load_pattern(const common_options *o, const zz_model *m, unsigned long long seed, zz_pattern *p,
                     zz_error *err);
/* The workload's window: the flags, else the pattern's config.json. */
void cli_apply_window(const common_options *o, const zz_pattern *p, zz_workload *w);

/* The commands: argv[0] is the command's name; the return value is the exit status. */
int zz_cmd_plan(int argc, char **argv, zz_error *err);
int zz_cmd_run(int argc, char **argv, const char *command_line, zz_error *err);
int zz_cmd_summary(int argc, char **argv, zz_error *err);
int zz_cmd_merge(int argc, char **argv, zz_error *err);
int zz_cmd_reproduction(int argc, char **argv, zz_error *err);

/* The command line as a shell would take it back, for env.json; malloc'd, NULL out of memory. */
char *cli_quoted_command_line(int argc, char **argv);

#endif
