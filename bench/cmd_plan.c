/* zz-bench plan: the per-layer execution plan of one layout, and the
 * equal-budget summary of duo against zigzag (retrieval heads, KV bytes,
 * FLOPs). No GPU. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "output.h"
#include "runner.h"

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
    "                          duo-slices, duo-fused, zigzag (default duo-cat)\n"
    "workload (token counts take a k = 1024 or m = 1048576 suffix):\n" STEP_HELP
    "  --batch N               sequences B (default 1)\n"
    "  --ctx S                 context: cached tokens at decode, prompt at prefill (default 32k)\n"
    "  --phase P               decode or prefill (default decode)\n"
    "  --chunk C               prefill chunk tokens; 0 = single shot (default 0); needs\n"
    "                          --phase prefill\n" WINDOW_HELP
    "  --decode-kernel NAME    decode kernel variant: split-combine, one-launch (default\n"
    "                          " DEFAULT_DECODE_KERNEL "); one-launch has no cache op\n"
    "  --prefill-kernel NAME   prefill kernel variant: fa2, wgmma-tma (default " DEFAULT_PREFILL_KERNEL "; run's\n"
    "                          default is wgmma-tma where the GPU runs it)\n"
    "output:\n"
    "  --format F              text or csv (default text); csv header:\n"
    "                          layer,kind,retrieval_heads,streaming_heads\n"
    "  --ops                   each layer's operations too (text: under its layer; csv: one row\n"
    "                          per operation instead of per layer)\n"
    "  -h, --help              this help\n";

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
    /* a model step's final norm and LM head: layer L (one past the last), kind "final" */
    for (int i = 0; i < plan->n_final_ops; i++) {
        const zz_op *op = &plan->final_ops[i];
        printf("%d,final,%s,%s,%d,%d,,0,%.0f,%.0f\n", plan->model.layers, zz_op_name(op->kind),
               zz_category_name(op->category), op->kv_count, op->q_count, op->bytes, op->flops);
    }
}

/* One op of the text table, under its layer. */
static void print_op_text(const zz_layer_plan *lp, const zz_op *op) {
    char heads[1024], cache[32] = "-", bytes[32], flops[32] = "-";
    format_heads(lp, op, ",", heads, sizeof heads);
    if (op->cache_tokens) snprintf(cache, sizeof cache, "%lld", op->cache_tokens);
    zz_human_bytes(op->bytes, bytes, sizeof bytes);
    if (op->flops) zz_human_flops(op->flops, flops, sizeof flops);
    printf("       %-14s  %-14s  %-16s  %7d  %12s  %11s  %12s\n", zz_op_name(op->kind), zz_category_name(op->category),
           heads, op->q_count, cache, bytes, flops);
}

static void print_text(const zz_plan *plan, const zz_pattern *pattern, double sparsity, int show_ops) {
    const zz_model *m = &plan->model;
    char layers[64];
    zz_model_layers_text(m, layers, sizeof layers);
    printf("%s: %s, %d q heads, %d kv heads, head dim %d", m->name, layers, m->q_heads, m->kv_heads, m->head_dim);
    if (plan->workload.step == ZZ_STEP_MODEL) printf(", hidden %d, mlp %d, vocab %d", m->hidden, m->mlp, m->vocab);
    printf("\n");
    printf("pattern %s, sparsity %g, layout %s, %s step\n", pattern->source, sparsity, zz_layout_name(plan->layout),
           zz_step_name(plan->workload.step));
    printf("layer  kind       retrieval  streaming  launches\n");
    if (show_ops)
        printf("       %-14s  %-14s  %-16s  %7s  %12s  %11s  %12s\n", "op", "category", "kv heads", "q heads",
               "cache tokens", "bytes", "FLOPs");
    for (int l = 0; l < m->layers; l++) {
        const zz_layer_plan *lp = &plan->layers[l];
        printf("%5d  %-9s  %9d  %9d  %8d\n", l, zz_layer_kind_name(lp->kind), lp->retrieval_heads,
               lp->streaming_heads, lp->n_ops);
        for (int i = 0; show_ops && i < lp->n_ops; i++) print_op_text(lp, &lp->ops[i]);
    }
    if (plan->n_final_ops) printf("final  once per step, after the last layer   %8d\n", plan->n_final_ops);
    for (int i = 0; show_ops && i < plan->n_final_ops; i++)
        print_op_text(&plan->layers[m->layers - 1], &plan->final_ops[i]);
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
    fprintf(out, ", sink %d, recent %d, kernel %s, %s step\n", w->sink, w->recent,
            zz_kernel_variant_name(w->phase, w->kernel), zz_step_name(w->step));
    fprintf(out, "%-16s %32s %32s\n", "", zz_layout_name(duo->layout), zz_layout_name(zigzag->layout));
    print_budget_row(out, "retrieval heads", duo->retrieval_heads, zigzag->retrieval_heads, NULL);
    print_budget_row(out, "mixed layers", duo->mixed_layers, zigzag->mixed_layers, NULL);
    print_budget_row(out, "launches / step", (double)duo->launches, (double)zigzag->launches, NULL);
    print_budget_row(out, "KV cache bytes", duo->kv_bytes, zigzag->kv_bytes, zz_human_bytes);
    print_budget_row(out, "attention FLOPs", duo->flops, zigzag->flops, zz_human_flops);
    print_budget_row(out, "bytes moved", duo->bytes, zigzag->bytes, zz_human_bytes);
    if (w->step == ZZ_STEP_MODEL) {
        print_budget_row(out, "GEMM FLOPs", duo->linear_flops, zigzag->linear_flops, zz_human_flops);
        print_budget_row(out, "weights", duo->weight_bytes, zigzag->weight_bytes, zz_human_bytes);
    }
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

int zz_cmd_plan(int argc, char **argv, zz_error *err) {
    plan_options o;
    int rc = cli_parse_plan_options(argc, argv, &o, err);
    if (rc) return rc < 0 ? EXIT_USAGE : (fputs(plan_usage, stdout), 0);
    zz_model m;
    if (cli_resolve_model("plan", &o.common, &m, err) || cli_load_pattern(&o.common, &m, 1, &pattern, err))
        return EXIT_USAGE;
    zz_workload w = {.phase = o.phase, .batch = (int)o.batch, .ctx = o.ctx, .chunk = o.chunk,
                     .kernel = o.phase == ZZ_DECODE ? o.decode_kernel : o.prefill_kernel, .step = o.common.step};
    cli_apply_window(&o.common, &pattern, &w);
    if (zz_budget_make(&pattern, o.sparsity, o.common.rounding, zz_select_by_mean_alpha, &budget, err))
        return EXIT_USAGE;
    /* The summary compares the requested duo variant (duo-cat otherwise) with zigzag. */
    const zz_layout duo = zz_layout_mixed(o.layout) ? o.layout : ZZ_LAYOUT_DUO_CAT;
    if (zz_plan_build(&m, zz_labels_for(&budget, o.layout), o.layout, &w, &plan, err) ||
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

