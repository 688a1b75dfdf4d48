/* The files of a run (report.h). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reproduce.h"

/* ------------------------------------------------------------ units ---- */

static void human_units(double value, double step, const char *const *units, int n_units, char *out, size_t size) {
    int u = 0;
    while (value >= step && u < n_units - 1) value /= step, u++;
    snprintf(out, size, u ? "%.2f %s" : "%.0f %s", value, units[u]);
}

void zz_human_bytes(double bytes, char *out, size_t size) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    human_units(bytes, 1024, units, 6, out, size);
}

void zz_human_flops(double flops, char *out, size_t size) {
    static const char *const units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
    human_units(flops, 1000, units, 7, out, size);
}

/* 8K for multiples of 1024, else the number. */
static void token_count(long long n, char *out, size_t size) {
    if (n >= 1024 && n % (1024 * 1024) == 0) snprintf(out, size, "%lldM", n / (1024 * 1024));
    else if (n >= 1024 && n % 1024 == 0) snprintf(out, size, "%lldK", n / 1024);
    else snprintf(out, size, "%lld", n);
}

void zz_report_config_label(const zz_report_config *c, char *out, size_t size) {
    const zz_workload *w = &c->workload;
    char ctx[32], chunk[40] = "";
    token_count(w->ctx, ctx, sizeof ctx);
    if (w->phase == ZZ_PREFILL && w->chunk > 0 && w->chunk < w->ctx) {
        char c_tokens[32];
        token_count(w->chunk, c_tokens, sizeof c_tokens);
        snprintf(chunk, sizeof chunk, " C=%s", c_tokens);
    }
    /* The default variant goes unnamed, as in the labels of runs before variants had names. */
    char kernel[48] = "";
    if (w->kernel) snprintf(kernel, sizeof kernel, " kernel %s", zz_kernel_variant_name(w->phase, w->kernel));
    snprintf(out, size, "%s B=%d S=%s%s sparsity %g%s", zz_phase_name(w->phase), w->batch, ctx, chunk, c->sparsity,
             kernel);
}

/* ----------------------------------------------------------- builder ---- */

static void report_fault(zz_report *r, const char *what) {
    if (!r->fault[0]) snprintf(r->fault, sizeof r->fault, "out of memory keeping %s", what);
}

/* items with room for one more than n elements of size elem (capacity *cap),
 * or NULL with items untouched. */
static void *grow(void *items, int n, int *cap, size_t elem) {
    if (n < *cap) return items;
    int new_cap = *cap ? 2 * *cap : 16;
    void *grown = realloc(items, (size_t)new_cap * elem);
    if (grown) *cap = new_cap;
    return grown;
}

/* A row's kernel variant is in the column of its phase; the other column is empty. */
static const char *const key_columns[] = {"model",  "phase",    "batch",  "ctx",  "chunk", "sink",          "recent",
                                          "sparsity", "layout", "mode", "l2", "decode_kernel", "prefill_kernel"};
#define KEY_COLUMNS (int)(sizeof key_columns / sizeof key_columns[0])

static void put_header(zz_csv *c, const char *const *columns, int n) {
    for (int i = 0; i < KEY_COLUMNS; i++) zz_csv_str(c, key_columns[i]);
    for (int i = 0; i < n; i++) zz_csv_str(c, columns[i]);
    zz_csv_end_row(c);
}

static void put_keys(zz_csv *c, const zz_report *r, const zz_report_row *row) {
    const zz_report_config *cfg = &r->configs[row->config];
    const zz_workload *w = &cfg->workload;
    zz_csv_str(c, r->info->model.name);
    zz_csv_str(c, zz_phase_name(w->phase));
    zz_csv_int(c, w->batch);
    zz_csv_int(c, w->ctx);
    zz_csv_int(c, w->chunk);
    zz_csv_int(c, w->sink);
    zz_csv_int(c, w->recent);
    zz_csv_num(c, cfg->sparsity);
    zz_csv_str(c, zz_layout_name(row->layout));
    zz_csv_str(c, zz_mode_name(row->mode));
    zz_csv_str(c, r->info->cold ? "cold" : "hot");
    const char *kernel = zz_kernel_variant_name(w->phase, w->kernel);
    zz_csv_str(c, w->phase == ZZ_DECODE ? kernel : "");
    zz_csv_str(c, w->phase == ZZ_PREFILL ? kernel : "");
}

static const char *const kernel_columns[] = {
    "kernel", "category", "launches_per_step", "total_us", "per_step_us", "median_us",
    "gbps",   "tflops",   "copy_fraction",     "gemm_fraction", "step", "layers", "model_layers",
};

void zz_report_init(zz_report *r, const zz_run_info *info) {
    *r = (zz_report){.info = info};
    put_header(&r->kernels, kernel_columns, (int)(sizeof kernel_columns / sizeof kernel_columns[0]));
}

void zz_report_free(zz_report *r) {
    free(r->configs);
    free(r->rows);
    zz_csv_free(&r->kernels);
    *r = (zz_report){0};
}

int zz_report_add_config(zz_report *r, const zz_report_config *c) {
    zz_report_config *configs = grow(r->configs, r->n_configs, &r->cap_configs, sizeof *configs);
    if (!configs) {
        report_fault(r, "configurations");
        return -1;
    }
    r->configs = configs;
    r->configs[r->n_configs] = *c;
    return r->n_configs++;
}

static void append_row(zz_report *r, const zz_report_row *row);

int zz_report_config_index(const zz_report *r, const zz_report_config *key) {
    const zz_workload *w = &key->workload;
    for (int i = 0; i < r->n_configs; i++) {
        const zz_report_config *c = &r->configs[i];
        const zz_workload *v = &c->workload;
        if (v->phase == w->phase && v->batch == w->batch && v->ctx == w->ctx && v->chunk == w->chunk &&
            v->sink == w->sink && v->recent == w->recent && v->kernel == w->kernel && v->step == w->step &&
            c->sparsity == key->sparsity)
            return i;
    }
    return -1;
}

int zz_report_merge(zz_report *r, const zz_report *from, int *shared, zz_error *err) {
    for (int i = 0; i < from->n_rows; i++) {
        zz_report_row row = from->rows[i];
        const zz_report_config *key = &from->configs[row.config];
        int c = zz_report_config_index(r, key);
        if (c < 0) {
            if ((c = zz_report_add_config(r, key)) < 0) return zz_errorf(err, "%s", r->fault);
            r->configs[c].groups = key->groups;
        } else {
            zz_report_config *mine = &r->configs[c];
            /* its layouts come from several runs: the budget from whichever knows it */
            if (mine->duo_mixed_layers < 0 && key->duo_mixed_layers >= 0) {
                mine->duo = key->duo, mine->zigzag = key->zigzag, mine->duo_mixed_layers = key->duo_mixed_layers;
                snprintf(mine->note, sizeof mine->note, "%s", key->note);
            }
            int seen = 0;  /* this config already had rows from an earlier report */
            for (int j = 0; j < i && !seen; j++) seen = from->rows[j].config == row.config;
            if (!seen && shared) ++*shared;
        }
        for (int j = 0; j < r->n_rows; j++)
            if (r->rows[j].config == c && r->rows[j].layout == row.layout && r->rows[j].mode == row.mode) {
                char label[128];
                zz_report_config_label(key, label, sizeof label);
                return zz_errorf(err, "%s %s %s: in two pieces", label, zz_layout_name(row.layout),
                                 zz_mode_name(row.mode));
            }
        row.config = c;
        append_row(r, &row);
        if (r->fault[0]) return zz_errorf(err, "%s", r->fault);
    }
    return 0;
}

zz_report_row zz_report_row_of(int config, const zz_plan *plan, zz_mode mode, int launches) {
    return (zz_report_row){
        .config = config,
        .layout = plan->layout,
        .mode = mode,
        .retrieval_heads = plan->retrieval_heads,
        .mixed_layers = plan->mixed_layers,
        .launches = launches,
        .kv_bytes = plan->kv_bytes,
        .flops = plan->flops,
        .linear_flops = plan->linear_flops,
        .measured_bytes = NAN,
        .verify_error = NAN,
    };
}

static void append_row(zz_report *r, const zz_report_row *row) {
    zz_report_row *rows = grow(r->rows, r->n_rows, &r->cap_rows, sizeof *rows);
    if (!rows) {
        report_fault(r, "result rows");
        return;
    }
    r->rows = rows;
    r->rows[r->n_rows++] = *row;
}

/* A rate, or NAN (an empty field) where the kernel does no such work. */
static double per_ns(double amount, double ns) { return amount > 0 && ns > 0 ? amount / ns : NAN; }

int zz_report_add(zz_report *r, const zz_report_row *row, const zz_measurement *m) {
    zz_report_row full = *row;
    full.skipped[0] = '\0';
    full.latency = m->latency;
    full.host_enqueue = m->host_enqueue;
    full.verdict = m->verdict;
    full.have_kernels = 0;
    int before = r->n_rows;
    append_row(r, &full);
    if (r->n_rows == before) return -1;
    if (m->have_kernels) zz_report_add_kernels(r, before, m);
    return before;
}

void zz_report_add_kernels(zz_report *r, int index, const zz_measurement *m) {
    zz_report_row *row = &r->rows[index];
    row->have_kernels = 1;
    row->median_step = m->timeline.median_step;
    row->gap_median_ns = m->timeline.gap.n ? m->timeline.gap.median : NAN;
    row->attributed_median_ns = m->timeline.latency.median;
    row->attributed_enqueue_ns = m->attributed_enqueue.median * 1e9;
    row->dropped_records = m->dropped_records;
    const double steps = (double)m->timeline.steps, copy = r->info->ceilings.copy_gbps,
                 gemm = r->info->ceilings.gemm_tflops;
    for (size_t k = 0; k < m->n_kernels; k++) {
        const zz_kernel_summary *ks = &m->kernels[k];
        const double gbps = per_ns(ks->bytes, ks->total_ns), tflops = per_ns(ks->flops, ks->total_ns) / 1e3;
        put_keys(&r->kernels, r, row);
        zz_csv_str(&r->kernels, ks->name);
        zz_csv_str(&r->kernels, zz_category_name(ks->category));
        zz_csv_num(&r->kernels, (double)ks->launches / steps);
        zz_csv_num(&r->kernels, ks->total_ns / 1e3);
        zz_csv_num(&r->kernels, ks->total_ns / 1e3 / steps);
        zz_csv_num(&r->kernels, ks->median_ns / 1e3);
        zz_csv_num(&r->kernels, gbps);
        zz_csv_num(&r->kernels, tflops);
        zz_csv_num(&r->kernels, gbps / copy);
        zz_csv_num(&r->kernels, tflops / gemm);
        zz_csv_str(&r->kernels, zz_step_name(r->configs[row->config].workload.step));
        zz_csv_int(&r->kernels, r->info->model.layers);
        zz_csv_int(&r->kernels, zz_model_total_layers(&r->info->model));
        zz_csv_end_row(&r->kernels);
    }
}

void zz_report_add_skipped(zz_report *r, const zz_report_row *row) { append_row(r, row); }

double zz_report_row_host_share(const zz_report_row *row) {
    return !row->skipped[0] && row->latency.n > 0 && row->latency.median > 0
               ? row->host_enqueue.median / row->latency.median
               : NAN;
}

int zz_report_row_host_paced(const zz_report_row *row) {
    return zz_report_row_host_share(row) >= ZZ_HOST_PACED_FRACTION;  /* false for NAN */
}

double zz_report_row_attributed_host_share(const zz_report_row *row) {
    return !row->skipped[0] && row->have_kernels && row->attributed_median_ns > 0
               ? row->attributed_enqueue_ns / row->attributed_median_ns
               : NAN;
}

int zz_report_row_parts_host_paced(const zz_report_row *row) {
    return zz_report_row_attributed_host_share(row) >= ZZ_HOST_PACED_FRACTION;
}

/* --------------------------------------------------------- overheads ---- */


/* The clean median latency in ns. */
static double median_ns(const zz_report_row *row) { return row->latency.median * 1e9; }

/* The attributed span over the clean median, - 1 (rows with kernels). */
static double span_inflation(const zz_report_row *row) { return row->median_step.span_ns / median_ns(row) - 1; }

/* The measured zigzag row of a configuration and mode, or NULL. */
static const zz_report_row *zigzag_row(const zz_report *r, int config, zz_mode mode) {
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        if (!row->skipped[0] && row->layout == ZZ_LAYOUT_ZIGZAG && row->config == config && row->mode == mode)
            return row;
    }
    return NULL;
}

int zz_report_overheads(const zz_report *r, zz_report_overhead **out) {
    *out = malloc((r->n_rows ? r->n_rows : 1) * sizeof **out);
    if (!*out) return -1;
    int n = 0;
    for (int c = 0; c < r->n_configs; c++) {
        for (zz_mode mode = ZZ_MODE_EAGER; mode <= ZZ_MODE_GRAPH; mode++) {
            const zz_report_row *zig = zigzag_row(r, c, mode);
            for (int i = 0; zig && i < r->n_rows; i++) {
                const zz_report_row *mixed = &r->rows[i];
                if (mixed->skipped[0] || !zz_layout_mixed(mixed->layout) || mixed->config != c ||
                    mixed->mode != mode)
                    continue;
                zz_report_overhead o = {.config = c, .mode = mode, .layout = mixed->layout,
                                        .zigzag_latency_ns = median_ns(zig),
                                        .latency_delta_ns = median_ns(mixed) - median_ns(zig),
                                        .have_parts = mixed->have_kernels && zig->have_kernels,
                                        .parts_host_paced = zz_report_row_host_paced(mixed) ||
                                                            zz_report_row_host_paced(zig) ||
                                                            zz_report_row_parts_host_paced(mixed) ||
                                                            zz_report_row_parts_host_paced(zig)};
                if (o.have_parts) o.delta = zz_overhead_of(&mixed->median_step, &zig->median_step);
                (*out)[n++] = o;
            }
        }
    }
    return n;
}

/* ------------------------------------------------------- results.csv ---- */

static const char *const result_columns[] = {
    "retrieval_heads", "mixed_layers", "launches", "kv_bytes", "flops", "median_us", "min_us", "max_us",
    "rel_spread", "rel_stdev", "noise", "samples", "verdict", "host_enqueue_us", "host_share", "host_paced",
    /* the attribution pass: span = Σ categories + idle − overlap */
    "span_us", "outside_us", "span_inflation", "attributed_median_us", "gap_median_us", "attributed_host_share",
    "attributed_host_paced",
    /* the categories in zz_category order (the assertion below keeps count), then: */
    "attn_full_us", "attn_streaming_us", "copy_us", "cache_us", "combine_us", "other_us",
    "idle_us", "overlap_us", "dropped_records", "verify_rel_error",
    /* the step (docs/DESIGN.md, "The model step"): what ran, of which model */
    "step", "layers", "model_layers", "hidden", "mlp", "vocab", "linear_flops",
    /* device memory, bytes: as counted before allocating, and as measured (free memory before and after) */
    "weights_bytes", "kv_cache_bytes", "activation_bytes", "workspace_bytes", "planned_bytes", "measured_bytes",
};
_Static_assert(ZZ_CATEGORIES == 6, "results.csv names one column per category");

void zz_report_results_csv(const zz_report *r, zz_csv *c) {
    *c = (zz_csv){0};
    put_header(c, result_columns, (int)(sizeof result_columns / sizeof result_columns[0]));
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        if (row->skipped[0]) continue;
        const zz_step_time *st = &row->median_step;
        const double no = NAN;  /* an empty field: no CUPTI */
        put_keys(c, r, row);
        zz_csv_int(c, row->retrieval_heads);
        zz_csv_int(c, row->mixed_layers);
        zz_csv_int(c, row->launches);
        zz_csv_num(c, row->kv_bytes);
        zz_csv_num(c, row->flops);
        zz_csv_num(c, median_ns(row) / 1e3);
        zz_csv_num(c, row->latency.min * 1e6);
        zz_csv_num(c, row->latency.max * 1e6);
        zz_csv_num(c, row->latency.rel_spread);
        zz_csv_num(c, row->latency.rel_stdev);
        zz_csv_num(c, row->latency.noise);
        zz_csv_int(c, (long long)row->latency.n);
        zz_csv_str(c, zz_verdict_name(row->verdict));
        zz_csv_num(c, row->host_enqueue.median * 1e6);
        zz_csv_num(c, zz_report_row_host_share(row));
        zz_csv_int(c, zz_report_row_host_paced(row));
        const int have = row->have_kernels;
        zz_csv_num(c, have ? st->span_ns / 1e3 : no);
        zz_csv_num(c, have ? (median_ns(row) - st->span_ns) / 1e3 : no);
        zz_csv_num(c, have ? span_inflation(row) : no);
        zz_csv_num(c, have ? row->attributed_median_ns / 1e3 : no);
        zz_csv_num(c, have ? row->gap_median_ns / 1e3 : no);
        zz_csv_num(c, zz_report_row_attributed_host_share(row));
        if (have) zz_csv_int(c, zz_report_row_parts_host_paced(row));
        else zz_csv_num(c, no);
        for (int k = 0; k < ZZ_CATEGORIES; k++) zz_csv_num(c, have ? st->kernel_ns[k] / 1e3 : no);
        zz_csv_num(c, have ? st->idle_ns / 1e3 : no);
        zz_csv_num(c, have ? st->overlap_ns / 1e3 : no);
        zz_csv_num(c, have ? (double)row->dropped_records : no);
        zz_csv_num(c, row->verify_error);
        const zz_model *m = &r->info->model;
        zz_csv_str(c, zz_step_name(r->configs[row->config].workload.step));
        zz_csv_int(c, m->layers);
        zz_csv_int(c, zz_model_total_layers(m));
        zz_csv_int(c, m->hidden);
        zz_csv_int(c, m->mlp);
        zz_csv_int(c, m->vocab);
        zz_csv_num(c, row->linear_flops);
        const zz_memory *mem = &row->memory;
        const int counted = zz_memory_total(mem) > 0;
        zz_csv_num(c, counted ? mem->weights : no);
        zz_csv_num(c, counted ? mem->kv_cache : no);
        zz_csv_num(c, counted ? mem->activations : no);
        zz_csv_num(c, counted ? mem->workspaces : no);
        zz_csv_num(c, counted ? zz_memory_total(mem) : no);
        zz_csv_num(c, row->measured_bytes);
        zz_csv_end_row(c);
    }
}

/* -------------------------------------------------------- summary.md ---- */

static void version(char *out, size_t size, int v) { snprintf(out, size, "%d.%d", v / 1000, v % 1000 / 10); }

static void summary_head(FILE *f, const zz_report *r) {
    const zz_run_info *in = r->info;
    const zz_device *d = &in->device;
    const zz_model *m = &in->model;
    char mem[32], l2[32], driver[16], runtime[16];
    zz_human_bytes((double)d->global_mem_bytes, mem, sizeof mem);
    zz_human_bytes((double)d->l2_bytes, l2, sizeof l2);
    version(driver, sizeof driver, d->driver_version);
    version(runtime, sizeof runtime, d->runtime_version);
    fprintf(f, "# zz-bench run\n\n| | |\n|---|---|\n");
    fprintf(f, "| device | %s: %d SMs, cc %d.%d, SM clock %d MHz, %s at %d MHz × %d bit, L2 %s |\n", d->name,
            d->sm_count, d->cc_major, d->cc_minor, d->sm_clock_mhz, mem, d->mem_clock_mhz, d->mem_bus_bits, l2);
    fprintf(f, "| software | driver %s, CUDA runtime %s, CUPTI API %d (runtime %u) |\n", driver, runtime,
            in->cupti_built, in->cupti_runtime);
    fprintf(f, "| ceilings | device-to-device copy %.0f GB/s (read + written), cuBLAS bf16 GEMM %.0f TFLOP/s |\n",
            in->ceilings.copy_gbps, in->ceilings.gemm_tflops);
    char layers[64];
    zz_model_layers_text(m, layers, sizeof layers);
    fprintf(f, "| model | %s: %s, %d query heads, %d KV heads, head dim %d", m->name, layers, m->q_heads, m->kv_heads,
            m->head_dim);
    if (m->hidden) fprintf(f, "; hidden %d, MLP %d, vocabulary %d", m->hidden, m->mlp, m->vocab);
    fprintf(f, " |\n");
    if (in->step == ZZ_STEP_MODEL) {
        fprintf(f, "| step | model: per layer RMSNorm, QKV GEMM, rotary, the layout's attention, O GEMM + residual, "
                   "RMSNorm, gate/up GEMM, SiLU × up, down GEMM + residual; final RMSNorm and LM head (last token) |\n");
        char planned[32], measured[48] = "not allocated (they did not fit)";
        zz_human_bytes(in->weights_bytes, planned, sizeof planned);
        if (isfinite(in->weights_measured)) {
            zz_human_bytes(in->weights_measured, measured, sizeof measured);
            strcat(measured, " measured");
        }
        fprintf(f, "| weights | random (seed %llu), shared by every layout: %s counted, %s |\n", in->seed, planned,
                measured);
    } else {
        fprintf(f, "| step | attention: each layer's cache writes, attention and copies; no projections, MLP or "
                   "norms |\n");
    }
    const int synthetic = strncmp(in->pattern, "synthetic ", 10) == 0;
    fprintf(f, "| pattern | %s%s |\n", synthetic ? "" : "DuoAttention pattern folder ", in->pattern);
    fprintf(f, "| L2 | %s |\n", in->cold ? "cold: flushed before each sample" : "hot: not flushed between samples");
    if (in->cupti)
        fprintf(f, "| kernel times | CUPTI activity of an attribution pass run after every latency was sampled "
                   "(CUPTI is not loaded while latency is sampled) |\n");
    else fprintf(f, "| kernel times | none: %s; step latency from CUDA events only |\n", in->cupti_note);
    fprintf(f, "| sampling | %d warm-up steps, then until noise (1.4826 MAD / median) ≤ %g %% with ≥ %d "
               "samples and ≥ %g s of GPU time, or %g s |\n",
            in->warmup, 100 * in->rule.max_noise, in->rule.min_samples, in->rule.min_time_s, in->rule.timeout_s);
    fprintf(f, "| status | %s |\n", r->status[0] ? r->status : "running");
}

static void summary_budget(FILE *f, const zz_report *r) {
    fprintf(f, "\n## Equal budget: duo against zigzag\n\n"
               "| configuration | retrieval KV heads duo / zigzag | mixed layers duo | KV cache duo / zigzag | "
               "attention FLOPs duo / zigzag |\n|---|--:|--:|--:|--:|\n");
    for (int i = 0; i < r->n_configs; i++) {
        const zz_report_config *c = &r->configs[i];
        if (c->duo_mixed_layers < 0) continue;  /* its note says why */
        char label[128], kv[2][32], fl[2][32];
        zz_report_config_label(c, label, sizeof label);
        zz_human_bytes(c->duo.kv_bytes, kv[0], sizeof kv[0]);
        zz_human_bytes(c->zigzag.kv_bytes, kv[1], sizeof kv[1]);
        zz_human_flops(c->duo.flops, fl[0], sizeof fl[0]);
        zz_human_flops(c->zigzag.flops, fl[1], sizeof fl[1]);
        fprintf(f, "| %s | %d / %d | %d | %s / %s | %s / %s |\n", label, c->duo.retrieval_heads,
                c->zigzag.retrieval_heads, c->duo_mixed_layers, kv[0], kv[1], fl[0], fl[1]);
    }
    for (int i = 0; i < r->n_configs; i++) {
        if (!r->configs[i].note[0]) continue;
        char label[128];
        zz_report_config_label(&r->configs[i], label, sizeof label);
        fprintf(f, "\nNote, %s: %s.\n", label, r->configs[i].note);
    }
}

static void cell_us(FILE *f, int have, double ns) {
    if (have) fprintf(f, " %.1f |", ns / 1e3);
    else fprintf(f, " — |");
}

/* GPU-paced rows whose attributed span differs from the clean median by
 * more than this are listed under the tables: there CUPTI (or drift
 * between the passes) moved the step, and the parts are of a longer or
 * shorter step than the headline. */
#define SPAN_AGREEMENT 0.02

static void summary_latency_table(FILE *f, const zz_report *r, int config, zz_mode mode) {
    int any = 0;
    for (int i = 0; i < r->n_rows && !any; i++) any = r->rows[i].config == config && r->rows[i].mode == mode;
    if (!any) return;
    char label[128];
    zz_report_config_label(&r->configs[config], label, sizeof label);
    fprintf(f, "\n### %s, %s\n\n| layout | median µs | ± spread | samples | verdict | host share | span µs | "
               "span − median |",
            label, zz_mode_name(mode));
    for (int k = 0; k < ZZ_CATEGORIES; k++) fprintf(f, " %s |", zz_category_name((zz_category)k));
    fprintf(f, " idle | overlap | gap / boundary |\n|---|--:|--:|--:|---|--:|--:|--:|");
    for (int k = 0; k < ZZ_CATEGORIES + 3; k++) fprintf(f, "--:|");
    fprintf(f, "\n");
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        if (row->config != config || row->mode != mode) continue;
        fprintf(f, "| %s |", zz_layout_name(row->layout));
        if (row->skipped[0]) {
            fprintf(f, " skipped: %s |", row->skipped);
            for (int k = 0; k < ZZ_CATEGORIES + 9; k++) fprintf(f, " |");
            fprintf(f, "\n");
            continue;
        }
        const zz_step_time *st = &row->median_step;
        const int have = row->have_kernels;
        fprintf(f, " %.1f | %.1f %% | %zu | %s%s | %.0f %% |", median_ns(row) / 1e3, 100 * row->latency.rel_spread,
                row->latency.n, zz_verdict_name(row->verdict),
                zz_report_row_host_paced(row)         ? ", **host-paced**"
                : zz_report_row_parts_host_paced(row) ? ", parts host-paced†"
                                                      : "",
                100 * zz_report_row_host_share(row));
        cell_us(f, have, st->span_ns);
        if (have) fprintf(f, " %+.1f %% |", 100 * span_inflation(row));
        else fprintf(f, " — |");
        for (int k = 0; k < ZZ_CATEGORIES; k++) cell_us(f, have, st->kernel_ns[k]);
        cell_us(f, have, st->idle_ns);
        cell_us(f, have, st->overlap_ns);
        if (have && isfinite(row->gap_median_ns)) fprintf(f, " %.2f |\n", row->gap_median_ns / 1e3);
        else fprintf(f, " — |\n");
    }
}

/* The GPU-paced rows whose span strays from the clean median beyond SPAN_AGREEMENT. */
/* A row whose span speaks for the GPU: attributed, and paced by the GPU
 * both clean and while attributed. */
static int span_comparable(const zz_report_row *row) {
    return !row->skipped[0] && row->have_kernels && !zz_report_row_host_paced(row) &&
           !zz_report_row_parts_host_paced(row);
}

/* Device memory of each measured configuration × layout (one row for its
 * modes: they share an executor): as counted before allocating, and as
 * measured. Skipped layouts give theirs in their skip line. */
static void summary_memory(FILE *f, const zz_report *r) {
    int any = 0;
    for (int i = 0; i < r->n_rows && !any; i++) any = !r->rows[i].skipped[0] && zz_memory_total(&r->rows[i].memory) > 0;
    if (!any) return;
    fprintf(f, "\n## Device memory\n\nCounted from the plan before anything is allocated (weights, KV caches as "
               "allocated, one layer's activations with the layout's copy buffers, workspaces), and measured: free "
               "device memory before and after the run's weights and the layout's executor were allocated. GiB.\n\n"
               "| configuration | layout | weights | KV cache | activations | workspaces | counted | measured |\n"
               "|---|---|--:|--:|--:|--:|--:|--:|\n");
    const double gib = 1024.0 * 1024 * 1024;
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        int first = 1;  /* the layout's first measured row of its configuration */
        for (int j = 0; j < i && first; j++)
            first = !(r->rows[j].config == row->config && r->rows[j].layout == row->layout && !r->rows[j].skipped[0]);
        if (row->skipped[0] || !first || !(zz_memory_total(&row->memory) > 0)) continue;
        char label[128];
        zz_report_config_label(&r->configs[row->config], label, sizeof label);
        const zz_memory *m = &row->memory;
        fprintf(f, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |", label, zz_layout_name(row->layout),
                m->weights / gib, m->kv_cache / gib, m->activations / gib, m->workspaces / gib,
                zz_memory_total(m) / gib);
        if (isfinite(row->measured_bytes)) fprintf(f, " %.2f |\n", row->measured_bytes / gib);
        else fprintf(f, " — |\n");
    }
}

static void summary_span_agreement(FILE *f, const zz_report *r) {
    int checked = 0, beyond = 0;
    for (int i = 0; i < r->n_rows; i++) {
        if (!span_comparable(&r->rows[i])) continue;
        checked++;
        beyond += fabs(span_inflation(&r->rows[i])) > SPAN_AGREEMENT;
    }
    if (!checked) return;
    fprintf(f, "\nAttributed span against the clean median: %d of %d GPU-paced rows within %g %%%s\n",
            checked - beyond, checked, 100 * SPAN_AGREEMENT,
            beyond ? "; in these CUPTI recording (or drift between the passes) moved the step:\n" : ".");
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        if (!span_comparable(row) || !(fabs(span_inflation(row)) > SPAN_AGREEMENT)) continue;
        char label[128];
        zz_report_config_label(&r->configs[row->config], label, sizeof label);
        fprintf(f, "- %s %s %s: span %.1f µs, %+.1f %% against the clean median %.1f µs\n", label,
                zz_layout_name(row->layout), zz_mode_name(row->mode), row->median_step.span_ns / 1e3,
                100 * span_inflation(row), median_ns(row) / 1e3);
    }
}

static void summary_overheads(FILE *f, const zz_report *r, const zz_report_overhead *o, int n) {
    fprintf(f, "\n## Split overhead against zigzag\n\n"
               "Δ = mixed layout − zigzag, same configuration and mode. Δ latency is between the clean medians "
               "(CUPTI not loaded). Its decomposition is between the two median steps of the attribution pass "
               "(both layouts' parts from that same pass): Δ span = Δ attention + Δ copy + Δ cache + Δ other + "
               "Δ idle − Δ overlap exactly (other: combine and other kernels; idle: gaps between kernels inside "
               "the span), and Δ outside = Δ latency − Δ span is what the spans leave out: launch to first "
               "kernel, last kernel to event, and the attribution pass's difference from the clean pass. µs, "
               "rounded to 0.1. †: one of the two rows was host-paced, clean or while attributed: its parts "
               "include waits on the host and move with the CPU.\n\n");
    if (n == 0) {
        fprintf(f, "No mixed layout (");
        for (int l = 0, listed = 0; l < ZZ_LAYOUTS; l++)
            if (zz_layout_mixed((zz_layout)l)) fprintf(f, "%s%s", listed++ ? ", " : "", zz_layout_name((zz_layout)l));
        fprintf(f, ") was measured beside zigzag.\n");
        return;
    }
    fprintf(f, "| configuration | mode | layout | zigzag µs | Δ latency µs | Δ %% | Δ span | Δ attention | Δ copy | "
               "Δ cache | Δ other | Δ idle | −Δ overlap | Δ outside |\n"
               "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < n; i++) {
        char label[128];
        zz_report_config_label(&r->configs[o[i].config], label, sizeof label);
        const zz_overhead *d = &o[i].delta;
        fprintf(f, "| %s | %s | %s%s | %.1f | %+.1f | %+.1f %% |", label, zz_mode_name(o[i].mode),
                zz_layout_name(o[i].layout), o[i].parts_host_paced ? " †" : "", o[i].zigzag_latency_ns / 1e3,
                o[i].latency_delta_ns / 1e3,
                100 * o[i].latency_delta_ns / o[i].zigzag_latency_ns);
        const double parts[] = {d->span,  d->attention, d->copy, d->cache, d->other,
                                d->idle,  0.0 - d->overlap, o[i].latency_delta_ns - d->span};  /* no -0.0 */
        for (int k = 0; k < 8; k++) {
            if (o[i].have_parts) fprintf(f, " %+.1f |", parts[k] / 1e3);
            else fprintf(f, " — |");
        }
        fprintf(f, "\n");
    }
}

/* The overhead entry of `layout` in configuration c, mode m, or NULL. */
static const zz_report_overhead *overhead_of(const zz_report_overhead *o, int n, int c, zz_mode m, zz_layout layout) {
    for (int i = 0; i < n; i++)
        if (o[i].config == c && o[i].mode == m && o[i].layout == layout) return &o[i];
    return NULL;
}

/* Issue 15: duo-fused − zigzag is the floor of the split overhead (the best
 * mixed layer one can build: one launch serving each head in its mode);
 * beside it duo-cat − zigzag (DuoAttention's own way) and what fusing
 * saves. Their decompositions are rows of the table above. */
static void summary_split_floor(FILE *f, const zz_report *r, const zz_report_overhead *o, int n) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= o[i].layout == ZZ_LAYOUT_DUO_FUSED;
    if (!any) return;
    fprintf(f, "\n## Floor of the split overhead\n\n"
               "duo-fused runs each mixed layer in one launch that serves every head in its own mode: duo-fused − "
               "zigzag is what splitting a layer's heads costs at best, duo-cat − zigzag what it costs as "
               "DuoAttention runs it. µs and %% of zigzag's step (clean medians); each one's decomposition is "
               "its row in the table above. †: a host-paced row.\n\n"
               "| configuration | mode | duo-fused − zigzag | duo-cat − zigzag | duo-cat − duo-fused |\n"
               "|---|---|--:|--:|--:|\n");
    for (int c = 0; c < r->n_configs; c++)
        for (zz_mode m = ZZ_MODE_EAGER; m <= ZZ_MODE_GRAPH; m++) {
            const zz_report_overhead *fused = overhead_of(o, n, c, m, ZZ_LAYOUT_DUO_FUSED);
            if (!fused) continue;
            const zz_report_overhead *cat = overhead_of(o, n, c, m, ZZ_LAYOUT_DUO_CAT);
            char label[128];
            zz_report_config_label(&r->configs[c], label, sizeof label);
            fprintf(f, "| %s | %s | %+.1f (%+.1f %%)%s |", label, zz_mode_name(m), fused->latency_delta_ns / 1e3,
                    100 * fused->latency_delta_ns / fused->zigzag_latency_ns, fused->parts_host_paced ? " †" : "");
            if (cat)
                fprintf(f, " %+.1f (%+.1f %%)%s | %+.1f |\n", cat->latency_delta_ns / 1e3,
                        100 * cat->latency_delta_ns / cat->zigzag_latency_ns, cat->parts_host_paced ? " †" : "",
                        (cat->latency_delta_ns - fused->latency_delta_ns) / 1e3);
            else
                fprintf(f, " — | — |\n");
        }
}

char *zz_report_summary(const zz_report *r) {
    zz_report_overhead *overheads;
    int n = zz_report_overheads(r, &overheads);
    if (n < 0) return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(overheads);
        return NULL;
    }
    summary_head(f, r);
    if (r->note[0]) fprintf(f, "\n%s\n", r->note);
    summary_budget(f, r);
    fprintf(f, "\n## Step latency\n\n"
               "Median step latency (CUDA events, CUPTI not loaded; the layouts of a configuration sampled "
               "interleaved) and ± its relative spread (max − min) / median. Host share: the median CPU time to "
               "enqueue one step over the median step. **host-paced**: the host share is at least %g %%, so the "
               "latency is the host's launch rate, not the GPU's, and moves with the CPU from run to run (the "
               "minimum, min_us in results.csv, is the steadier figure); compare such rows with care. The rest "
               "comes from the attribution pass (CUPTI), from the step of median span: span = first kernel start "
               "to last kernel end = kernels by category + idle (gaps between kernels) − overlap, exactly; "
               "span − median compares it with the clean median; gap / boundary is the median gap between one "
               "kernel's end and the next one's start (negative: they overlap). All in µs. †: parts "
               "host-paced: with CUPTI recording (which lengthens every launch) the host share of the "
               "attributed steps was at least the threshold, so their idle is largely the host's and the parts "
               "describe a slower step than the clean one.\n",
            100 * ZZ_HOST_PACED_FRACTION);
    for (int c = 0; c < r->n_configs; c++) {
        summary_latency_table(f, r, c, ZZ_MODE_EAGER);
        summary_latency_table(f, r, c, ZZ_MODE_GRAPH);
        if (r->configs[c].groups > 1) {
            char label[128];
            zz_report_config_label(&r->configs[c], label, sizeof label);
            fprintf(f, "\nNote, %s: its layouts did not fit in device memory together and were sampled in %d "
                       "groups, interleaved within each group only.\n", label, r->configs[c].groups);
        }
    }
    summary_memory(f, r);
    summary_span_agreement(f, r);
    summary_overheads(f, r, overheads, n);
    summary_split_floor(f, r, overheads, n);
    const zz_report *const self[] = {r};
    zz_reproduction_section(f, self, 1);
    free(overheads);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ------------------------------------------------------------ files ---- */

static int join(char *out, size_t size, const char *dir, const char *name, zz_error *err) {
    if (snprintf(out, size, "%s/%s", dir, name) >= (int)size)
        return zz_errorf(err, "output folder path too long: %.200s...", dir);
    return 0;
}

int zz_report_write(const zz_report *r, const char *dir, zz_error *err) {
    if (r->fault[0]) return zz_errorf(err, "not writing %s: %s", dir, r->fault);
    char path[4096];
    zz_csv results;
    zz_report_results_csv(r, &results);
    int rc = join(path, sizeof path, dir, "results.csv", err) || zz_csv_write(&results, path, err);
    zz_csv_free(&results);
    if (rc || join(path, sizeof path, dir, "kernels.csv", err) || zz_csv_write(&r->kernels, path, err) ||
        join(path, sizeof path, dir, "summary.md", err))
        return -1;
    char *summary = zz_report_summary(r);
    if (!summary) return zz_errorf(err, "not writing %s: out of memory", path);
    rc = zz_write_file(path, summary, strlen(summary), err);
    free(summary);
    return rc;
}

static void member_str(zz_json *j, const char *key, const char *value) {
    zz_json_key(j, key);
    zz_json_str(j, value);
}

static void member_int(zz_json *j, const char *key, long long value) {
    zz_json_key(j, key);
    zz_json_int(j, value);
}

static void member_num(zz_json *j, const char *key, double value) {
    zz_json_key(j, key);
    zz_json_num(j, value);
}

static void member_object(zz_json *j, const char *key) {
    zz_json_key(j, key);
    zz_json_object(j);
}

int zz_report_write_env(const zz_run_info *in, const char *path, zz_error *err) {
    const zz_device *d = &in->device;
    char cc[16];
    snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
    zz_json j = {0};
    zz_json_object(&j);
    member_str(&j, "date", in->date);
    member_str(&j, "hostname", in->hostname);
    member_str(&j, "git_commit", in->git_commit);
    member_str(&j, "command_line", in->command_line ? in->command_line : "");
    member_object(&j, "gpu");
    member_str(&j, "name", d->name);
    member_int(&j, "sm_count", d->sm_count);
    member_str(&j, "compute_capability", cc);
    member_int(&j, "sm_clock_mhz", d->sm_clock_mhz);
    member_int(&j, "mem_clock_mhz", d->mem_clock_mhz);
    member_int(&j, "mem_bus_bits", d->mem_bus_bits);
    member_int(&j, "global_mem_bytes", d->global_mem_bytes);
    member_int(&j, "l2_bytes", d->l2_bytes);
    zz_json_end(&j);
    member_int(&j, "driver_version", d->driver_version);
    member_int(&j, "cuda_runtime_version", d->runtime_version);
    member_object(&j, "cupti");
    zz_json_key(&j, "used");
    zz_json_bool(&j, in->cupti);
    member_str(&j, "note", in->cupti ? "" : in->cupti_note);
    member_int(&j, "api_version_built", in->cupti_built);
    member_int(&j, "api_version_runtime", in->cupti_runtime);
    zz_json_end(&j);
    member_object(&j, "ceilings");
    member_num(&j, "copy_gbps", in->ceilings.copy_gbps);
    member_int(&j, "copy_bytes", in->ceilings.copy_bytes);
    member_num(&j, "gemm_tflops", in->ceilings.gemm_tflops);
    member_int(&j, "gemm_n", in->ceilings.gemm_n);
    zz_json_end(&j);
    member_str(&j, "l2", in->cold ? "cold" : "hot");
    member_object(&j, "model");
    member_str(&j, "name", in->model.name);
    member_int(&j, "layers", in->model.layers);
    member_int(&j, "q_heads", in->model.q_heads);
    member_int(&j, "kv_heads", in->model.kv_heads);
    member_int(&j, "head_dim", in->model.head_dim);
    member_int(&j, "model_layers", zz_model_total_layers(&in->model));
    member_int(&j, "hidden", in->model.hidden);
    member_int(&j, "mlp", in->model.mlp);
    member_int(&j, "vocab", in->model.vocab);
    zz_json_end(&j);
    member_str(&j, "step", zz_step_name(in->step));
    member_object(&j, "weights");
    member_num(&j, "bytes", in->weights_bytes);
    member_num(&j, "measured_bytes", in->weights_measured);
    zz_json_end(&j);
    member_str(&j, "pattern", in->pattern);
    member_int(&j, "seed", (long long)in->seed);
    member_object(&j, "kernel_variants");
    for (int p = ZZ_DECODE; p <= ZZ_PREFILL; p++) {
        const int *ids = p == ZZ_DECODE ? in->decode_kernels : in->prefill_kernels;
        zz_json_key(&j, zz_phase_name((zz_phase)p));
        zz_json_array(&j);
        for (int i = 0; i < (p == ZZ_DECODE ? in->n_decode_kernels : in->n_prefill_kernels); i++)
            zz_json_str(&j, zz_kernel_variant_name((zz_phase)p, ids[i]));
        zz_json_end(&j);
    }
    zz_json_end(&j);
    member_object(&j, "sampling");
    member_int(&j, "warmup", in->warmup);
    member_num(&j, "max_noise", in->rule.max_noise);
    member_int(&j, "min_samples", in->rule.min_samples);
    member_num(&j, "min_time_s", in->rule.min_time_s);
    member_num(&j, "timeout_s", in->rule.timeout_s);
    zz_json_end(&j);
    zz_json_end(&j);
    int rc = zz_json_write(&j, path, err);
    zz_json_free(&j);
    return rc;
}
