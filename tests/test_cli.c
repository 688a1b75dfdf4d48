/* bin/zz-bench, bin/zz-kernel-bench and bin/zz-gbench as a user runs them
 * (from the repository root): outputs, help, and every bad input answered
 * by one line on stderr, exit status 2 and nothing on stdout, no file
 * written or overwritten. Every program runs with its GPU hidden
 * (CUDA_VISIBLE_DEVICES empty): those that need one are refused with the
 * no-GPU line, on a GPU machine too, so these tests start no GPU work. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"

#define ZZ_BENCH "bin/zz-bench"
#define KERNEL_BENCH "bin/zz-kernel-bench"
#define GBENCH "bin/zz-gbench"
/* Llama-3-8B's shape, 30 mixed layers (tests/fixtures/README.md): no ../shared needed. */
#define LLAMA3 "tests/fixtures/llama3-shaped"

typedef struct {
    const char *name;  /* the program's, which starts its messages */
    int status;
    char out[1 << 17], err[1 << 14];
} run_result;

static run_result run;

static void read_all(FILE *f, char *buf, size_t size) {
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* For the next run only: its stdout goes to this file instead of run.out
 * (/dev/full), and it gets this "NAME=value" in its environment. */
static const char *next_stdout, *next_env;

/* Runs program with args (NULL-terminated, without the program name). */
static void run_program(const char *program, const char *first, ...) {
    const char *argv[64] = {program};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = next_stdout ? fopen(next_stdout, "w") : tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        setenv("CUDA_VISIBLE_DEVICES", "", 1);
        if (next_env) putenv((char *)next_env);
        execv(program, (char *const *)argv);
        _exit(127);
    }
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    run.name = strrchr(program, '/') + 1;
    run.status = WEXITSTATUS(wstatus);
    if (next_stdout) {
        fclose(out);
        run.out[0] = '\0';
    } else {
        read_all(out, run.out, sizeof run.out);
    }
    read_all(err, run.err, sizeof run.err);
    next_stdout = next_env = NULL;
}

#define zz_bench(...) run_program(ZZ_BENCH, __VA_ARGS__)

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* A failed run: status 2, empty stdout, exactly "<program>: <want>\n" on stderr. */
static void assert_refused(const char *want) {
    char line[1024];
    snprintf(line, sizeof line, "%s: %s\n", run.name, want);
    assert_int_equal(run.status, 2);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, line);
}

/* A failed run whose one-line message contains `needle`. */
static void assert_refused_with(const char *needle) {
    assert_int_equal(run.status, 2);
    assert_string_equal(run.out, "");
    assert_int_equal(count_lines(run.err), 1);
    assert_int_equal(strncmp(run.err, run.name, strlen(run.name)), 0);
    assert_int_equal(strncmp(run.err + strlen(run.name), ": ", 2), 0);
    if (!strstr(run.err, needle)) fail_msg("stderr '%s' lacks '%s'", run.err, needle);
}

/* The two leading numbers of a budget row, e.g. "retrieval heads   128   128". */
static void assert_budget_row(const char *text, const char *row, long long duo, long long zigzag) {
    const char *at = strstr(text, row);
    if (!at) fail_msg("no budget row '%s' in:\n%s", row, text);
    long long a, b;
    assert_int_equal(sscanf(at + strlen(row), "%lld %lld", &a, &b), 2);
    assert_int_equal(a, duo);
    assert_int_equal(b, zigzag);
}

static void test_llama3_zigzag_csv(void **state) {
    (void)state;
    zz_bench("plan", "--model", "llama3-8b", "--pattern", LLAMA3, "--sparsity", "0.5", "--layout", "zigzag",
             "--format", "csv", NULL);
    assert_int_equal(run.status, 0);
    const char *header = "layer,kind,retrieval_heads,streaming_heads\n";
    assert_int_equal(strncmp(run.out, header, strlen(header)), 0);
    assert_int_equal(count_lines(run.out), 33);
    int retrieval = 0, full_layers = 0;
    const char *row = strchr(run.out, '\n') + 1;
    for (int layer = 0; layer < 32; layer++, row = strchr(row, '\n') + 1) {
        int l, r, s;
        char kind[16];
        assert_int_equal(sscanf(row, "%d,%15[a-z],%d,%d", &l, kind, &r, &s), 4);
        assert_int_equal(l, layer);
        assert_int_equal(r + s, 8);
        assert_string_equal(kind, r == 8 ? "full" : "streaming");
        retrieval += r;
        full_layers += r == 8;
    }
    assert_int_equal(retrieval, 128);
    assert_int_equal(full_layers, 16);
    /* the budget goes to stderr, both layouts at 128 retrieval heads */
    assert_non_null(strstr(run.err, "budget: sparsity 0.5, 128 of 256 kv heads streaming, 128 retrieval"));
    assert_non_null(strstr(run.err, "workload: decode, batch 1, ctx 32768, sink 128, recent 256"));
    assert_budget_row(run.err, "\nretrieval heads", 128, 128);
}

static void test_text_table_blank_line_then_budget(void **state) {
    (void)state;
    zz_bench("plan", "--pattern", LLAMA3, NULL);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.err, "");
    const char *blank = strstr(run.out, "\n\n");
    assert_non_null(blank);
    assert_int_equal(strncmp(blank + 2, "budget:", 7), 0);
    assert_non_null(strstr(run.out, "layout duo-cat"));
    assert_non_null(strstr(run.out, "    0  mixed"));
    assert_budget_row(run.out, "\nmixed layers", 30, 0);
    /* one-launch (the default): a mixed layer's two attention launches and
     * the concat, one launch per exclusive layer */
    assert_budget_row(run.out, "\nlaunches / step", 30 * 3 + 2 * 1, 32 * 1);
    zz_bench("plan", "--pattern", LLAMA3, "--decode-kernel", "split-combine", NULL);
    assert_int_equal(run.status, 0);
    /* split-combine: each attention a cache write, a split and a combine launch */
    assert_budget_row(run.out, "\nlaunches / step", 30 * 5 + 2 * 2, 32 * 2);
}

static void test_ops_list(void **state) {
    (void)state;
    const char *header = "layer,kind,op,category,kv_heads,q_heads,heads,cache_tokens,bytes,flops\n";
    zz_bench("plan", "--pattern", LLAMA3, "--layout", "duo-gather", "--ops", "--format", "csv", NULL);
    assert_int_equal(run.status, 0);
    assert_int_equal(strncmp(run.out, header, strlen(header)), 0);
    assert_non_null(strstr(run.out, "\n0,mixed,gather,copy,8,32,"));
    assert_non_null(strstr(run.out, "\n0,mixed,scatter,copy,8,32,"));
    zz_bench("plan", "--pattern", LLAMA3, "--ops", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "concat"));
}

/* A decode plan on the one-launch kernel variant: the attention launches
 * append (no cache op), each writing its heads' new K/V besides reading
 * the cache: 4 KV heads of 32769 keys, Q and O of 16 query heads, 4 heads'
 * new K and V: 67110912 + 8192 + 2048 bytes. */
static void test_plan_of_a_kernel_variant(void **state) {
    (void)state;
    zz_bench("plan", "--pattern", LLAMA3, "--ops", "--format", "csv", NULL);  /* one-launch: the default */
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "\n0,mixed,attn-full,attn-full,4,16,4-7,32768,67121152,268443648\n"));
    assert_null(strstr(run.out, "cache-"));
    assert_non_null(strstr(run.err, "sink 128, recent 256, kernel one-launch, attention step\n"));
    zz_bench("plan", "--pattern", LLAMA3, "--ops", "--format", "csv", "--decode-kernel", "split-combine", NULL);
    assert_non_null(strstr(run.out, "\n0,mixed,cache-append,cache,4,16,4-7,32768,"));
    assert_non_null(strstr(run.err, "kernel split-combine, attention step\n"));
    zz_bench("plan", "--phase", "prefill", "--decode-kernel", "one-launch", NULL);
    assert_refused("plan: --decode-kernel with --phase prefill: there is no decode to apply it to");
}

static void test_window_and_sizes_from_flags_and_config(void **state) {
    (void)state;
    zz_bench("plan", "--layers", "4", "--q-heads", "4", "--kv-heads", "2", "--head-dim", "64", "--pattern",
             "tests/fixtures/tiny", "--ctx", "1m", "--batch", "2", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "custom: 4 layers, 4 q heads, 2 kv heads, head dim 64"));
    assert_non_null(strstr(run.out, "workload: decode, batch 2, ctx 1048576, sink 4, recent 8"));
    zz_bench("plan", "--pattern", LLAMA3, "--ctx", "32K", "--sink", "16", "--phase", "prefill", "--chunk", "8k",
             NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "workload: prefill, batch 1, ctx 32768, chunk 8192 (4 passes), sink 16, recent 256"));
}

/* zz-bench plan --step model: each layer's ops around the attention, the
 * final ones, the GEMM FLOPs and weights; --layers of a preset says which. */
static void test_plan_of_a_model_step(void **state) {
    (void)state;
    zz_bench("plan", "--pattern", LLAMA3, "--step", "model", "--ops", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "llama3-8b: 32 layers, 32 q heads, 8 kv heads, head dim 128, hidden 4096, mlp "
                                    "14336, vocab 128256\n"));
    assert_non_null(strstr(run.out, "layout duo-cat, model step\n"));
    static const char *const ops[] = {"attn-norm", "qkv-proj", "rotary", "o-proj", "mlp-norm",
                                      "gate-up",   "silu-mul", "down-proj", "final-norm", "lm-head"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strstr(run.out, ops[i])) fail_msg("plan --step model --ops lacks %s", ops[i]);
    assert_non_null(strstr(run.out, "final  once per step, after the last layer          2\n"));
    assert_non_null(strstr(run.out, "kernel one-launch, model step\n"));
    /* 8.03 G parameters, bf16 */
    assert_non_null(strstr(run.out, "\nweights  "));
    assert_non_null(strstr(run.out, " 16060522496 (14.96 GiB)          16060522496 (14.96 GiB)\n"));
    zz_bench("plan", "--model", "llama3-70b", "--layers", "2", "--step", "model", "--format", "csv", "--ops", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "\n1,mixed,down-proj,other,8,64,"));
    assert_non_null(strstr(run.out, "\n2,final,lm-head,other,8,64,,0,"));
    zz_bench("plan", "--model", "llama3-70b", "--layers", "2", NULL);
    assert_non_null(strstr(run.out, "llama3-70b: first 2 of 80 layers, 64 q heads"));
    assert_non_null(strstr(run.out, "attention step\n"));
}

static void test_uneven_budget_reports_both_choices(void **state) {
    (void)state;
    zz_bench("plan", "--synthetic", "random:5", "--sparsity", "0.45", "--format", "csv", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.err, "note: 8 kv heads per layer do not divide the 141 retrieval heads"));
    assert_non_null(strstr(run.err, "zigzag floor: 17 layers, 136 retrieval heads"));
    assert_non_null(strstr(run.err, "zigzag ceil: 18 layers, 144 retrieval heads"));
}

static void test_help_documents_every_flag(void **state) {
    (void)state;
    zz_bench("--help", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "usage: zz-bench <command> [options]"));
    assert_non_null(strstr(run.out, "plan"));
    zz_bench("plan", "--help", NULL);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.err, "");
    static const char *const flags[] = {
        "--model", "--layers", "--q-heads", "--kv-heads", "--head-dim", "--hidden", "--mlp", "--vocab", "--step",
        "--pattern", "--synthetic", "--sparsity", "--zigzag-budget", "--layout", "--batch", "--ctx", "--phase",
        "--chunk", "--sink", "--recent", "--format", "--ops", "--help",
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strstr(run.out, flags[i])) fail_msg("plan --help lacks %s", flags[i]);
    assert_non_null(strstr(run.out, "default 32k"));
    assert_non_null(strstr(run.out, "default llama3-8b"));
}

static void test_bad_pattern_files_exit_2_with_one_line(void **state) {
    (void)state;
    static const struct {
        const char *dir, *rest;
    } cases[] = {
        {"bad-rows", "/full_attention_heads.tsv:4: expected 4 rows (layers of custom), found 3"},
        {"bad-columns", "/full_attention_heads.tsv:3: expected 2 columns (kv heads of custom), found 3"},
        {"bad-number", "/full_attention_heads.tsv:2: column 2: expected a number, found 'abc'"},
        {"bad-nan", "/full_attention_heads.tsv:4: column 1: expected a finite number, found 'nan'"},
        {"bad-inf", "/full_attention_heads.tsv:1: column 2: expected a finite number, found '-inf'"},
        {"bad-empty", "/full_attention_heads.tsv:1: expected 4 rows (layers of custom), found an empty file"},
        {"bad-truncated", "/full_attention_heads.tsv:4: expected 2 columns (kv heads of custom), found 1"},
        {"bad-truncated-number",
         "/full_attention_heads.tsv:4: expected a newline ending the last row, found end of file (truncated?)"},
        {"no-tsv", "/full_attention_heads.tsv: cannot read: No such file or directory"},
        {"bad-config", "/config.json:2: recent_size: expected null or an integer in 1..16777216, found '\"many\"'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], want[512];
        snprintf(dir, sizeof dir, "tests/fixtures/%s", cases[i].dir);
        snprintf(want, sizeof want, "%s%s", dir, cases[i].rest);
        zz_bench("plan", "--layers", "4", "--q-heads", "4", "--kv-heads", "2", "--head-dim", "64", "--pattern", dir,
                 "--format", "csv", NULL);
        assert_refused(want);
    }
    zz_bench("plan", "--model", "llama2-7b", "--pattern", LLAMA3, NULL);
    assert_refused(LLAMA3 "/full_attention_heads.tsv:1: expected 32 columns (kv heads of llama2-7b), found 8");
}

#define HOST_PACING "bin/zz-host-pacing"

/* zz-host-pacing refuses bad flags before any GPU work, and says in one
 * line when there is no GPU. */
static void test_host_pacing_flags(void **state) {
    (void)state;
    run_program(HOST_PACING, "--help", NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "--shape LIST"));
    run_program(HOST_PACING, "--shape", "1,0,8", NULL);
    assert_refused("--shape: expected positive numbers up to 10000 separated by commas, found '1,0,8'");
    run_program(HOST_PACING, "--shape", "1,,8", NULL);
    assert_refused_with("--shape: expected positive numbers");
    run_program(HOST_PACING, "--launches", "1", NULL);
    assert_refused_with("--launches: one count of at least 2");
    run_program(HOST_PACING, "--bogus", NULL);
    assert_refused_with("unknown or incomplete option '--bogus'");
    run_program(HOST_PACING, "--shape", "1,1,8", NULL);  /* valid: no GPU is visible to the tests */
    assert_refused_with("no NVIDIA GPU visible");
}

static void test_bad_flags_exit_2_with_one_line(void **state) {
    (void)state;
    zz_bench("plan", "--ctx", "abc", NULL);
    assert_refused("--ctx: expected a token count like 32768, 32k or 1m in 1..16777216, found 'abc'");
    zz_bench("plan", "--ctx", "32g", NULL);
    assert_refused_with("--ctx: expected a token count");
    zz_bench("plan", "--ctx", "0", NULL);
    assert_refused_with("found '0'");
    zz_bench("plan", "--layout", "fused", NULL);
    assert_refused_with("--layout: expected one of full, streaming, duo (= duo-cat)");
    zz_bench("plan", "--sparsity", "1.5", NULL);
    assert_refused("--sparsity: expected a number in 0..1, found '1.5'");
    zz_bench("plan", "--sparsity", "nan", NULL);
    assert_refused("--sparsity: expected a number in 0..1, found 'nan'");
    zz_bench("plan", "--phase", "train", NULL);
    assert_refused("--phase: expected decode or prefill, found 'train'");
    zz_bench("plan", "--format", "json", NULL);
    assert_refused("--format: expected text or csv, found 'json'");
    zz_bench("plan", "--zigzag-budget", "up", NULL);
    assert_refused("--zigzag-budget: expected nearest, floor or ceil, found 'up'");
    zz_bench("plan", "--batch", "-1", NULL);
    assert_refused("--batch: expected a whole number in 1..65536, found '-1'");
    zz_bench("plan", "--model", "llama2-7b", "--head-dim", "96", NULL);
    assert_refused("--head-dim: expected 64 or 128, found '96'");
    zz_bench("plan", "--model", "llama3-8b", "--kv-heads", "6", NULL);
    assert_refused("model custom: q heads 32 not divisible by kv heads 6");
    zz_bench("plan", "--model", "llama4", NULL);
    assert_refused("unknown model 'llama4' (presets: llama2-7b, llama3-8b, mistral-7b, llama3-70b)");
    zz_bench("plan", "--layers", "4", NULL);
    assert_refused_with("--q-heads missing: without --model give all of");
    zz_bench("plan", "--synthetic", "zipf", NULL);
    assert_refused("synthetic pattern 'zipf' unknown (kinds: uniform-mixed, random, layered)");
    zz_bench("plan", "--synthetic", "random", "--pattern", LLAMA3, NULL);
    assert_refused("plan: --pattern and --synthetic exclude each other");
    zz_bench("plan", "--bogus", NULL);
    assert_refused("plan: unknown or ambiguous option '--bogus' (see zz-bench plan --help)");
    zz_bench("plan", "--ops=yes", NULL);
    assert_refused("plan: option '--ops=yes' takes no value");
    zz_bench("plan", "-x", NULL);
    assert_refused("plan: unknown option '-x' (see zz-bench plan --help)");
    zz_bench("plan", "--ctx", NULL);
    assert_refused("plan: option '--ctx' needs a value");
    zz_bench("plan", "extra", NULL);
    assert_refused("plan: unexpected argument 'extra'");
    zz_bench("train", NULL);
    assert_refused("unknown command 'train' (commands: plan, run, summary, merge, reproduction; see zz-bench --help)");
    zz_bench(NULL);
    assert_refused("missing command (see zz-bench --help)");
}

static void test_run_help_documents_every_flag_with_its_default(void **state) {
    (void)state;
    zz_bench("run", "--help", NULL);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.err, "");
    static const char *const flags[] = {
        "--model", "--layers", "--q-heads", "--kv-heads", "--head-dim", "--hidden", "--mlp", "--vocab", "--step",
        "--pattern", "--synthetic", "--seed", "--sparsity", "--zigzag-budget", "--layouts", "--phase", "--ctx", "--prefill-ctx", "--batch", "--chunk",
        "--sink", "--recent", "--mode", "--warmup", "--max-noise", "--min-samples", "--min-time", "--timeout",
        "--cold", "--no-cupti", "--verify", "--out", "--quiet", "--help",
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strstr(run.out, flags[i])) fail_msg("run --help lacks %s", flags[i]);
    static const char *const defaults[] = {
        "(default full,streaming,duo-cat,duo-slices,duo-fused,zigzag)", "(default decode,prefill)", "(default 8k,32k,128k",
        "(default 8k,32k,", "(default eager,graph)", "(default 0.005)", "(default 10)", "(default 0.5)",
        "(default 15)", "(default 3)", "default results/<gpu>-<YYYYmmdd>-<HHMMSS>/",
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!strstr(run.out, defaults[i])) fail_msg("run --help lacks '%s'", defaults[i]);
    zz_bench("--help", NULL);
    assert_non_null(strstr(run.out, "\n  run "));
}

static void test_run_bad_arguments_exit_2_before_any_gpu_work(void **state) {
    (void)state;
    static const struct {
        const char *args[8];
        const char *want;
    } cases[] = {
        {{"--layouts", "full,fused"},
         "--layouts: unknown 'fused' (one of: full, streaming, duo-cat, duo-gather, duo-slices, duo-fused, zigzag)"},
        {{"--layouts", ""}, "--layouts: empty list"},
        {{"--layouts", "zigzag,zigzag"}, "--layouts: 'zigzag' repeats an earlier item"},
        {{"--sparsity", "0.5,1.5"}, "--sparsity: '1.5' out of range [0, 1]"},
        {{"--sparsity", "nan"}, "--sparsity: 'nan' out of range [0, 1]"},
        {{"--ctx", "8k,,32k"}, "--ctx: empty item 2 in '8k,,32k'"},
        {{"--ctx", "8k,x"}, "--ctx: 'x' is not a size (like 32768, 4k or 1m)"},
        {{"--ctx", "32m"}, "--ctx: '32m' is above the limit 16777216"},
        {{"--prefill-ctx", "0"}, "--prefill-ctx: '0' must be positive"},
        {{"--batch", "0"}, "--batch: '0' must be positive"},
        {{"--chunk", "0,0"}, "--chunk: '0' repeats an earlier item"},
        {{"--chunk", "-4k"}, "--chunk: '-4k' must be positive"},
        {{"--phase", "train"}, "--phase: unknown 'train' (one of: decode, prefill)"},
        {{"--mode", "eager,replay"}, "--mode: unknown 'replay' (one of: eager, graph)"},
        {{"--min-samples", "0"}, "--min-samples 0: at least 2 are needed for a standard deviation"},
        {{"--min-samples", "ten"}, "--min-samples: expected a whole number in 0..100000000, found 'ten'"},
        {{"--max-noise", "1"}, "--max-noise 1 out of range [0, 1) (a relative noise, 0.005 = 0.5 %)"},
        {{"--max-noise", "abc"}, "--max-noise: expected a number, found 'abc'"},
        {{"--min-time", "-1"}, "--min-time -1: seconds of GPU time, finite and >= 0"},
        {{"--timeout", "0"}, "--timeout 0: seconds of wall time, finite and > 0"},
        {{"--warmup", "-1"}, "--warmup: expected a whole number in 0..1000000, found '-1'"},
        {{"--seed", "x"}, "--seed: expected a whole number in 0..9223372036854775807, found 'x'"},
        {{"--recent", "0"}, "--recent: expected a token count like 32768, 32k or 1m in 1..16777216, found '0'"},
        {{"--pattern", LLAMA3, "--synthetic", "random"}, "run: --pattern and --synthetic exclude each other"},
        {{"--synthetic", "zipf"}, "synthetic pattern 'zipf' unknown (kinds: uniform-mixed, random, layered)"},
        {{"--model", "llama4"}, "unknown model 'llama4' (presets: llama2-7b, llama3-8b, mistral-7b, llama3-70b)"},
        {{"--layers", "4"}, "run: --q-heads missing: without --model give all of --layers, --q-heads, --kv-heads and "
                            "--head-dim"},
        {{"--step", "layer"}, "--step: expected attention or model, found 'layer'"},
        {{"--hidden", "0"}, "--hidden: expected a whole number in 1..65536, found '0'"},
        {{"--mlp", "-5"}, "--mlp: expected a whole number in 1..262144, found '-5'"},
        {{"--vocab", "many"}, "--vocab: expected a whole number in 1..1048576, found 'many'"},
        {{"--model", "llama3-8b", "--layers", "33"},
         "run: --layers 33: llama3-8b has 32 layers (--layers runs the first N of them)"},
        {{"--step", "model", "--hidden", "4100"},
         "model custom: hidden size 4100, MLP size 14336, vocabulary 128256: a model step needs multiples of 8 (the "
         "GEMMs read and write rows of 16-byte vectors)"},
        {{"--step", "model", "--layers", "2", "--q-heads", "4", "--kv-heads", "2"},
         "run: --head-dim missing: without --model give all of --layers, --q-heads, --kv-heads and --head-dim"},
        {{"--pattern", "tests/fixtures/no-tsv"},
         "tests/fixtures/no-tsv/full_attention_heads.tsv: cannot read: No such file or directory"},
        {{"--bogus"}, "run: unknown or ambiguous option '--bogus' (see zz-bench run --help)"},
        {{"--min", "3"}, "run: unknown or ambiguous option '--min' (see zz-bench run --help)"},
        {{"--cold=yes"}, "run: option '--cold=yes' takes no value"},
        {{"--ctx"}, "run: option '--ctx' needs a value"},
        {{"-x"}, "run: unknown option '-x' (see zz-bench run --help)"},
        {{"extra"}, "run: unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        zz_bench("run", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
        if (run.status != 2) fail_msg("run %s %s: status %d, stderr '%s'", a[0], a[1] ? a[1] : "", run.status, run.err);
        assert_refused(cases[i].want);
    }
}

/* A file of known content in the scratch folder, and its path. */
static const char *old_file(void **state, const char *name, char *path, size_t size) {
    snprintf(path, size, "%s/%s", (const char *)*state, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old results\n", f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The file still holds what old_file wrote, and no temporary lies beside it. */
static void assert_untouched(const char *path) {
    char *text = read_file(path, NULL), tmp[600];
    assert_non_null(text);
    assert_string_equal(text, "old results\n");
    free(text);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
}

/* The one line a program says without a GPU: where to run it, and neither a
 * driver upgrade (CUDA's text for a missing driver) nor a source location. */
static void assert_no_gpu_line(void) {
    assert_refused_with("no NVIDIA GPU visible");
    assert_non_null(strstr(run.err, "; run it on a machine with an NVIDIA GPU\n"));
    static const char *const never[] = {"insufficient", "upgrade", "update", ".c:", ".cu:"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(run.err, never[i])) fail_msg("no-GPU line '%s' says '%s'", run.err, never[i]);
}

static void test_no_gpu_one_line_exit_2_nothing_written(void **state) {
    char csv[512], json[512], out_dir[512];
    snprintf(out_dir, sizeof out_dir, "%s/run", (const char *)*state);
    zz_bench("run", "--synthetic", "random:1", "--phase", "decode", "--ctx", "1k", "--out", out_dir, NULL);
    assert_no_gpu_line();
    assert_int_equal(access(out_dir, F_OK), -1);
    run_program(KERNEL_BENCH, "--filter", "decode", "--csv", old_file(state, "kernels.csv", csv, sizeof csv), NULL);
    assert_no_gpu_line();
    assert_untouched(csv);
    char out_flag[600];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", old_file(state, "gbench.json", json, sizeof json));
    run_program(GBENCH, "--benchmark_filter=decode_full/llama3-8b/B:1/", out_flag, NULL);
    assert_no_gpu_line();
    assert_untouched(json);
}

static void test_conflicting_flags_exit_2_naming_both(void **state) {
    (void)state;
    static const struct {
        const char *args[7];
        const char *want;
    } cases[] = {
        {{"plan", "--pattern", ""}, "--pattern: empty folder name"},
        {{"run", "--pattern", ""}, "--pattern: empty folder name"},
        {{"run", "--out", ""}, "--out: empty folder name"},
        {{"plan", "--chunk", "4k"},
         "plan: --chunk with --phase decode (the default): chunks split a prefill; add --phase prefill"},
        {{"plan", "--phase", "decode", "--chunk", "0"},
         "plan: --chunk with --phase decode (the default): chunks split a prefill; add --phase prefill"},
        {{"run", "--seed", "3", "--pattern", LLAMA3},
         "run: --seed and --pattern exclude each other: a published pattern has no seed"},
        {{"run", "--synthetic", "random:2", "--seed", "3"},
         "run: --seed and --synthetic random:2 both give a seed; give one"},
        {{"run", "--phase", "decode", "--prefill-ctx", "8k"},
         "run: --prefill-ctx with --phase decode: there is no prefill to apply it to"},
        {{"run", "--phase", "decode", "--chunk", "0"},
         "run: --chunk with --phase decode: chunks split a prefill, and there is none"},
        {{"run", "--phase", "prefill", "--ctx", "8k", "--prefill-ctx", "4k"},
         "run: --ctx and --prefill-ctx with --phase prefill: --ctx names decode's contexts, and there is no decode"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        zz_bench(a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
        assert_refused(cases[i].want);
    }
    /* Each flag alone, or with a phase that uses it, is fine: refused only for the GPU. */
    zz_bench("run", "--synthetic", "random", "--seed", "3", "--phase", "prefill", "--ctx", "1k", "--chunk", "512",
             NULL);
    assert_no_gpu_line();
    zz_bench("run", "--phase", "decode,prefill", "--ctx", "1k", "--prefill-ctx", "512", "--chunk", "256", NULL);
    assert_no_gpu_line();
}

static void test_unwritable_stdout_fails_with_one_line(void **state) {
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        print_message("skipped: no writable /dev/full here\n");
        skip();
    }
    static const struct {
        const char *program, *args[4];
    } cases[] = {
        {ZZ_BENCH, {"plan"}},
        {ZZ_BENCH, {"plan", "--format", "csv"}},  /* the budget on stderr does not follow */
        {ZZ_BENCH, {"--help"}},
        {ZZ_BENCH, {"run", "--help"}},
        {KERNEL_BENCH, {"--list"}},
        {KERNEL_BENCH, {"--help"}},
        {GBENCH, {"--benchmark_list_tests"}},
        {GBENCH, {"--help"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        next_stdout = "/dev/full";
        run_program(cases[i].program, a[0], a[1], a[2], a[3], NULL);
        assert_refused_with("cannot write the standard output");
    }
}

/* The cases --list prints: the lines under the case table's header, which
 * follows the table of kernel variants. */
static int cases_listed(const char *out) {
    const char *table = strstr(out, "\nkernel ");
    if (!table) fail_msg("no case table in:\n%s", out);
    return count_lines(table + 1) - 1;
}

static void test_kernel_bench_list_and_bad_input(void **state) {
    run_program(KERNEL_BENCH, "--list", NULL);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.err, "");
    assert_int_equal(strncmp(run.out, "variant ", 8), 0);
    assert_non_null(strstr(run.out, "\nsplit-combine  decode   cache_write_kernel, decode_split_kernel,"));
    assert_non_null(strstr(run.out, "\nfa2            prefill  prefill_kernel"));
    assert_non_null(strstr(run.out, "\nprefill-full       fa2 "));
    assert_non_null(strstr(run.out, "\ndecode-streaming   split-combine   8  32   8  128  131072  128+256\n"));
    assert_non_null(strstr(run.out, "\nconcat             -               1 "));
    const int all = cases_listed(run.out);
    run_program(KERNEL_BENCH, "--list", "--filter", "decode-", NULL);
    assert_int_equal(run.status, 0);
    assert_int_equal(cases_listed(run.out), 2 * 10 + 4);  /* the same 10 shapes for each decode variant, 4 fused */
    assert_null(strstr(strstr(run.out, "\nkernel "), "prefill"));
    assert_true(all > cases_listed(run.out));
    /* decode-fused: no kernel variant; the column names its retrieval heads */
    run_program(KERNEL_BENCH, "--list", "--filter", "decode-fused", NULL);
    assert_int_equal(cases_listed(run.out), 4);
    assert_non_null(strstr(run.out, "\ndecode-fused       4 retrieval     8  32   8  128  131072  128+256\n"));
    /* --kernel: the attention cases of one variant, nothing else */
    run_program(KERNEL_BENCH, "--list", "--kernel", "fa2", NULL);
    assert_int_equal(run.status, 0);
    assert_int_equal(cases_listed(run.out), 6);
    assert_null(strstr(strstr(run.out, "\nkernel "), "decode"));
    assert_null(strstr(run.out, "\nconcat"));
    run_program(KERNEL_BENCH, "--list", "--kernel", "split-combine", "--filter", "streaming", NULL);
    assert_int_equal(cases_listed(run.out), 2);
    run_program(KERNEL_BENCH, "--list", "--kernel", "one-launch", NULL);
    assert_int_equal(cases_listed(run.out), 10);
    assert_non_null(strstr(run.out, "\none-launch     decode   decode_one_launch_kernel\n"));
    assert_non_null(strstr(run.out, "\ndecode-full        one-launch      1  16   4  128  131072        -\n"));
    assert_null(strstr(strstr(run.out, "\nkernel "), "split-combine"));

    char csv[512], missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-folder/kernels.csv", (const char *)*state);
    old_file(state, "kernels.csv", csv, sizeof csv);
    static const struct {
        const char *args[4];
        const char *want;
    } cases[] = {
        {{"--filter", ""}, "--filter: empty text (leave the flag out to run every case)"},
        {{"--filter", "decode_full"},
         "--filter 'decode_full' matches no kernel case (zz-kernel-bench --list names them)"},
        {{"--list", "--samples", "5"}, "--list and --samples exclude each other: --list measures nothing"},
        {{"--kernel", "bogus"},
         "--kernel bogus: no such kernel variant (decode: split-combine, one-launch; prefill: fa2, wgmma-tma)"},
        {{"--kernel", "fa2", "--filter", "decode"},
         "--filter 'decode' and --kernel fa2 match no kernel case together (zz-kernel-bench --list names them)"},
        {{"--samples", "0"}, "--samples 0: need a whole number 1..100000"},
        {{"--bogus"}, "unknown option '--bogus' (see zz-kernel-bench --help)"},
        {{"--list=yes"}, "option '--list=yes' takes no value"},
        {{"--csv"}, "option '--csv' needs a value"},
        {{"extra"}, "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        run_program(KERNEL_BENCH, a[0], a[1], a[2], a[3], NULL);
        assert_refused(cases[i].want);
    }
    /* Checked before any GPU work: the message is the file's, not the GPU's. */
    run_program(KERNEL_BENCH, "--csv", missing, NULL);
    assert_refused_with(missing);
    assert_non_null(strstr(run.err, "No such file or directory"));
    run_program(KERNEL_BENCH, "--csv", (const char *)*state, "--filter", "decode", NULL);
    assert_refused_with("Is a directory");
    run_program(KERNEL_BENCH, "--list", "--csv", csv, NULL);
    assert_refused("--list and --csv exclude each other: --list measures nothing");
    assert_untouched(csv);
}

static void test_gbench_bad_flags_exit_2_before_gpu(void **state) {
    char json[512], out_flag[600], missing[600];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", old_file(state, "gbench.json", json, sizeof json));
    snprintf(missing, sizeof missing, "--benchmark_out=%s/no-such-folder/x.json", (const char *)*state);
    static const struct {
        const char *args[3];
        const char *want;
    } cases[] = {
        {{"--benchmark_format=xml"}, "--benchmark_format=xml: expected console, json or csv"},
        {{"--benchmark_out_format=xml"}, "--benchmark_out_format=xml: expected console, json or csv"},
        {{"--benchmark_format=json", "--benchmark_format=tap"},
         "--benchmark_format=tap: expected console, json or csv"},
        {{"--benchmark_time_unit=h"}, "--benchmark_time_unit=h: expected ns, us, ms or s"},
        {{"--benchmark_color="}, "--benchmark_color=: expected auto, true or false"},
        {{"--benchmark_filter=no_such_kernel"},
         "Failed to match any benchmarks against regex: no_such_kernel (zz-gbench --benchmark_list_tests names the "
         "benchmarks)"},
        {{"--batch-us", "x"}, "--batch-us x: need a number of microseconds, 0 to 1e6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        run_program(GBENCH, a[0], a[1], out_flag, NULL);
        assert_refused(cases[i].want);
        assert_untouched(json);
    }
    next_env = "BENCHMARK_FORMAT=xml";
    run_program(GBENCH, NULL);
    assert_refused("$BENCHMARK_FORMAT 'xml': expected console, json or csv");
    run_program(GBENCH, "--benchmark_filter=(", NULL);
    assert_refused_with("Could not compile benchmark re");
    run_program(GBENCH, missing, NULL);
    assert_refused_with("no-such-folder/x.json: No such file or directory");
    /* Listing needs no GPU, and leaves --benchmark_out alone. */
    run_program(GBENCH, "--benchmark_list_tests", "--benchmark_filter=^concat/llama3-8b/", out_flag, NULL);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "concat/llama3-8b/B:1/T:1/manual_time\n"
                                 "concat/llama3-8b/B:8/T:1/manual_time\n"
                                 "concat/llama3-8b/B:1/T:4096/manual_time\n"
                                 "concat/llama3-8b/B:8/T:4096/manual_time\n"
                                 "concat/llama3-8b/B:1/T:16384/manual_time\n"
                                 "concat/llama3-8b/B:8/T:16384/manual_time\n");
    assert_untouched(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama3_zigzag_csv),
        cmocka_unit_test(test_text_table_blank_line_then_budget),
        cmocka_unit_test(test_ops_list),
        cmocka_unit_test(test_plan_of_a_kernel_variant),
        cmocka_unit_test(test_window_and_sizes_from_flags_and_config),
        cmocka_unit_test(test_plan_of_a_model_step),
        cmocka_unit_test(test_uneven_budget_reports_both_choices),
        cmocka_unit_test(test_help_documents_every_flag),
        cmocka_unit_test(test_bad_pattern_files_exit_2_with_one_line),
        cmocka_unit_test(test_host_pacing_flags),
        cmocka_unit_test(test_bad_flags_exit_2_with_one_line),
        cmocka_unit_test(test_run_help_documents_every_flag_with_its_default),
        cmocka_unit_test(test_run_bad_arguments_exit_2_before_any_gpu_work),
        cmocka_unit_test_setup_teardown(test_no_gpu_one_line_exit_2_nothing_written, make_dir, remove_dir),
        cmocka_unit_test(test_conflicting_flags_exit_2_naming_both),
        cmocka_unit_test(test_unwritable_stdout_fails_with_one_line),
        cmocka_unit_test_setup_teardown(test_kernel_bench_list_and_bad_input, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_gbench_bad_flags_exit_2_before_gpu, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
