/* A run folder read back (report_read.h). */
#include "report_read.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

/* --------------------------------------------------------- env.json ---- */

/* What an env.json since the model step (issue 17) holds: the step, the
 * model's sizes and whole layer count, the weights; an older one ran
 * attention steps of a whole model. */
static int model_step_fields(const zz_json_doc *d, zz_run_info *in, zz_error *err) {
    in->step = ZZ_STEP_ATTENTION;
    in->weights_measured = NAN;
    if (!zz_json_find(d, "step")) return 0;
    const struct {
        const char *path;
        int *to;
    } ints[] = {{"model.model_layers", &in->model.model_layers}, {"model.hidden", &in->model.hidden},
                {"model.mlp", &in->model.mlp},                   {"model.vocab", &in->model.vocab}};
    long long whole;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        if (zz_json_get_whole(d, ints[k].path, 0, INT_MAX, &whole, err)) return -1;
        *ints[k].to = (int)whole;
    }
    char step[16];
    if (zz_json_get_string(d, "step", step, sizeof step, err) ||
        zz_json_get_number(d, "weights.bytes", &in->weights_bytes, err) ||
        zz_json_get_number(d, "weights.measured_bytes", &in->weights_measured, err))
        return -1;
    if (zz_step_from_name(step, &in->step))
        return zz_errorf(err, "%s: step '%s': expected attention or model", d->name, step);
    return 0;
}

static int env_fields(const zz_json_doc *d, zz_run_info *in, char *cc, size_t cc_size, char *l2, size_t l2_size,
                      zz_error *err) {
    zz_device *dev = &in->device;
    const struct {
        const char *path;
        int *to;
    } ints[] = {
        {"gpu.sm_count", &dev->sm_count},           {"gpu.sm_clock_mhz", &dev->sm_clock_mhz},
        {"gpu.mem_clock_mhz", &dev->mem_clock_mhz}, {"gpu.mem_bus_bits", &dev->mem_bus_bits},
        {"driver_version", &dev->driver_version},   {"cuda_runtime_version", &dev->runtime_version},
        {"cupti.api_version_built", &in->cupti_built}, {"model.layers", &in->model.layers},
        {"model.q_heads", &in->model.q_heads},      {"model.kv_heads", &in->model.kv_heads},
        {"model.head_dim", &in->model.head_dim},    {"sampling.warmup", &in->warmup},
        {"sampling.min_samples", &in->rule.min_samples},
    };
    const struct {
        const char *path;
        double *to;
    } numbers[] = {
        {"ceilings.copy_gbps", &in->ceilings.copy_gbps}, {"ceilings.gemm_tflops", &in->ceilings.gemm_tflops},
        {"sampling.max_noise", &in->rule.max_noise},     {"sampling.min_time_s", &in->rule.min_time_s},
        {"sampling.timeout_s", &in->rule.timeout_s},
    };
    const struct {
        const char *path;
        char *to;
        size_t size;
    } strings[] = {
        {"gpu.name", dev->name, sizeof dev->name},       {"gpu.compute_capability", cc, cc_size},
        {"cupti.note", in->cupti_note, sizeof in->cupti_note}, {"l2", l2, l2_size},
        {"model.name", in->model.name, sizeof in->model.name}, {"pattern", in->pattern, sizeof in->pattern},
    };
    long long whole;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        if (zz_json_get_whole(d, ints[k].path, 0, INT_MAX, &whole, err)) return -1;
        *ints[k].to = (int)whole;
    }
    for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++)
        if (zz_json_get_number(d, numbers[k].path, numbers[k].to, err)) return -1;
    for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++)
        if (zz_json_get_string(d, strings[k].path, strings[k].to, strings[k].size, err)) return -1;
    if (zz_json_get_whole(d, "gpu.global_mem_bytes", 0, LLONG_MAX, &dev->global_mem_bytes, err) ||
        zz_json_get_whole(d, "gpu.l2_bytes", 0, LLONG_MAX, &dev->l2_bytes, err) ||
        zz_json_get_whole(d, "cupti.api_version_runtime", 0, UINT_MAX, &whole, err) ||
        zz_json_get_bool(d, "cupti.used", &in->cupti, err))
        return -1;
    in->cupti_runtime = (unsigned)whole;
    long long seed = 0;
    if (zz_json_find(d, "seed") && zz_json_get_whole(d, "seed", 0, LLONG_MAX, &seed, err)) return -1;
    in->seed = (unsigned long long)seed;
    return model_step_fields(d, in, err);
}

static int read_env(const char *path, zz_run_info *in, zz_error *err) {
    zz_json_doc d;
    if (zz_json_read(path, &d, err)) return -1;
    char cc[16], l2[8];
    *in = (zz_run_info){0};
    const int rc = env_fields(&d, in, cc, sizeof cc, l2, sizeof l2, err);
    zz_json_doc_free(&d);
    if (rc) return -1;
    int end = 0;
    if (sscanf(cc, "%d.%d%n", &in->device.cc_major, &in->device.cc_minor, &end) != 2 || cc[end])
        return zz_errorf(err, "%s: gpu.compute_capability '%s': expected MAJOR.MINOR", path, cc);
    if (strcmp(l2, "hot") && strcmp(l2, "cold")) return zz_errorf(err, "%s: l2 '%s': expected hot or cold", path, l2);
    in->cold = strcmp(l2, "cold") == 0;
    zz_error why;
    if (zz_model_check(&in->model, &why)) return zz_errorf(err, "%s: %s", path, why.msg);
    return 0;
}

/* ------------------------------------------------------ results.csv ---- */

/* The columns summary.md needs; the ones after REQUIRED_COLUMNS are not in
 * every version's file. */
enum {
    COL_MODEL, COL_PHASE, COL_BATCH, COL_CTX, COL_CHUNK, COL_SINK, COL_RECENT, COL_SPARSITY, COL_LAYOUT, COL_MODE,
    COL_RETRIEVAL, COL_MIXED, COL_LAUNCHES, COL_KV_BYTES, COL_FLOPS, COL_MEDIAN, COL_MIN, COL_MAX, COL_SPREAD,
    COL_STDEV, COL_NOISE, COL_SAMPLES, COL_VERDICT, COL_ENQUEUE, COL_IDLE, COL_OVERLAP, COL_DROPPED, COL_VERIFY,
    REQUIRED_COLUMNS,
    COL_SPAN = REQUIRED_COLUMNS,  /* the per-step decomposition: without it, an older file */
    COL_ATTRIBUTED, COL_GAP,
    COL_ATTRIBUTED_SHARE,         /* since host pacing of the attributed steps */
    COL_DECODE_KERNEL, COL_PREFILL_KERNEL, /* since kernel variants had names: without, the defaults */
    COL_SCALE,                    /* kernel_scale: older files only */
    COL_STEP, COL_LINEAR_FLOPS,   /* since the model step: without, attention steps */
    COL_MEM_WEIGHTS, COL_MEM_KV, COL_MEM_ACTIVATIONS, COL_MEM_WORKSPACES, COL_MEM_MEASURED, /* and its memory */
    COL_CATEGORY,                 /* then one per category: one added after the file was written reads 0 */
    N_COLUMNS = COL_CATEGORY + ZZ_CATEGORIES
};

static const char *const column_names[COL_CATEGORY] = {
    "model", "phase", "batch", "ctx", "chunk", "sink", "recent", "sparsity", "layout", "mode", "retrieval_heads",
    "mixed_layers", "launches", "kv_bytes", "flops", "median_us", "min_us", "max_us", "rel_spread", "rel_stdev",
    "noise", "samples", "verdict", "host_enqueue_us", "idle_us", "overlap_us", "dropped_records",
    "verify_rel_error", "span_us", "attributed_median_us", "gap_median_us", "attributed_host_share",
    "decode_kernel", "prefill_kernel", "kernel_scale", "step", "linear_flops", "weights_bytes", "kv_cache_bytes",
    "activation_bytes", "workspace_bytes", "measured_bytes",
};

typedef struct {
    const char *path;
    const zz_csv_table *t;
    int row;
    int col[N_COLUMNS];  /* -1: not in the file */
    char names[N_COLUMNS][40];
    zz_error *err;
} csv_rows;

static int find_columns(csv_rows *c) {
    for (int k = 0; k < N_COLUMNS; k++) {
        if (k < COL_CATEGORY) snprintf(c->names[k], sizeof c->names[k], "%s", column_names[k]);
        else {
            /* attn-full -> attn_full_us */
            snprintf(c->names[k], sizeof c->names[k], "%s_us", zz_category_name((zz_category)(k - COL_CATEGORY)));
            for (char *p = c->names[k]; *p; p++) *p = *p == '-' ? '_' : *p;
        }
        c->col[k] = zz_csv_column(c->t, c->names[k]);
        if (k < REQUIRED_COLUMNS && c->col[k] < 0) return zz_errorf(c->err, "%s: no column %s", c->path, c->names[k]);
    }
    return 0;
}

/* The field of column k in the current row; "" where the file has no such column. */
static const char *field(const csv_rows *c, int k) { return c->col[k] < 0 ? "" : zz_csv_cell(c->t, c->row, c->col[k]); }

static int bad_field(const csv_rows *c, int k, const char *expected) {
    return zz_errorf(c->err, "%s line %d: %s: expected %s, found '%.40s'", c->path, c->t->lines[c->row], c->names[k],
                     expected, field(c, k));
}

/* A finite number; an empty field (or a column the file lacks) reads as
 * NAN where may_be_empty: the writer's text for a value it does not have. */
static int number_field(const csv_rows *c, int k, int may_be_empty, double *out) {
    const char *text = field(c, k);
    char *rest;
    if (!*text && may_be_empty) {
        *out = NAN;
        return 0;
    }
    errno = 0;
    *out = strtod(text, &rest);
    if (!*text || *rest || errno || !isfinite(*out)) return bad_field(c, k, "a number");
    return 0;
}

static int whole_field(const csv_rows *c, int k, long long min, long long max, long long *out) {
    const char *text = field(c, k);
    char *rest, expected[64];
    errno = 0;
    *out = strtoll(text, &rest, 10);
    if (!*text || *rest || errno || *out < min || *out > max) {
        snprintf(expected, sizeof expected, "a whole number from %lld to %lld", min, max);
        return bad_field(c, k, expected);
    }
    return 0;
}

/* The configuration of these keys, added at the end when new; -1 out of memory. */
static int config_of(zz_report *r, const zz_report_config *key) {
    const int i = zz_report_config_index(r, key);
    return i >= 0 ? i : zz_report_add_config(r, key);
}

static int parse_verdict(const char *name, zz_verdict *out) {
    for (zz_verdict v = ZZ_CONTINUE; v <= ZZ_STOP_TIMEOUT; v++) {
        if (strcmp(name, zz_verdict_name(v)) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The configuration's keys of the current row. Its budget is not known
 * yet: retrieval heads -1 (see finish_budgets). */
static int read_keys(const csv_rows *c, const zz_report *r, zz_report_config *key) {
    *key = (zz_report_config){.duo.retrieval_heads = -1, .zigzag.retrieval_heads = -1, .duo_mixed_layers = -1,
                              .groups = 1};
    zz_workload *w = &key->workload;
    long long batch, sink, recent;
    if (strcmp(field(c, COL_MODEL), r->info->model.name))
        return zz_errorf(c->err, "%s line %d: model %.40s, but env.json's is %s", c->path, c->t->lines[c->row],
                         field(c, COL_MODEL), r->info->model.name);
    if (zz_phase_from_name(field(c, COL_PHASE), &w->phase)) return bad_field(c, COL_PHASE, "decode or prefill");
    if (whole_field(c, COL_BATCH, 1, ZZ_MAX_BATCH, &batch) || whole_field(c, COL_CTX, 1, ZZ_MAX_CTX, &w->ctx) ||
        whole_field(c, COL_CHUNK, 0, ZZ_MAX_CTX, &w->chunk) || whole_field(c, COL_SINK, 0, ZZ_MAX_CTX, &sink) ||
        whole_field(c, COL_RECENT, 1, ZZ_MAX_CTX, &recent) || number_field(c, COL_SPARSITY, 0, &key->sparsity))
        return -1;
    if (!(key->sparsity >= 0 && key->sparsity <= 1)) return bad_field(c, COL_SPARSITY, "a fraction from 0 to 1");
    w->batch = (int)batch, w->sink = (int)sink, w->recent = (int)recent;
    /* The variant is in the column of the row's phase; a file from before
     * variants had names ran the defaults. */
    const int kernel_col = w->phase == ZZ_DECODE ? COL_DECODE_KERNEL : COL_PREFILL_KERNEL;
    if (c->col[kernel_col] >= 0 && zz_kernel_variant_from_name(w->phase, field(c, kernel_col), &w->kernel))
        return bad_field(c, kernel_col, w->phase == ZZ_DECODE ? "a decode kernel variant (split-combine, ...)"
                                                              : "a prefill kernel variant (fa2, ...)");
    if (c->col[COL_STEP] >= 0 && zz_step_from_name(field(c, COL_STEP), &w->step))
        return bad_field(c, COL_STEP, "attention or model");
    return 0;
}

/* An optional number: `otherwise` where the file has no such column or
 * the field is empty. */
static int optional_number(const csv_rows *c, int k, double otherwise, double *out) {
    if (number_field(c, k, 1, out)) return -1;
    if (isnan(*out)) *out = otherwise;
    return 0;
}

/* The plan's and the latency's side of the current row. The statistics
 * of fewer than two samples have no spread: those fields may be empty. */
static int read_measurement(const csv_rows *c, const zz_model *m, zz_report_row *row, zz_measurement *out) {
    long long retrieval, mixed, launches, samples;
    double median_us, min_us, max_us, spread, stdev, noise, enqueue_us;
    if (zz_layout_from_name(field(c, COL_LAYOUT), &row->layout)) return bad_field(c, COL_LAYOUT, "a layout");
    if (zz_mode_from_name(field(c, COL_MODE), &row->mode)) return bad_field(c, COL_MODE, "eager or graph");
    if (parse_verdict(field(c, COL_VERDICT), &out->verdict)) return bad_field(c, COL_VERDICT, "converged or timeout");
    if (whole_field(c, COL_RETRIEVAL, 0, (long long)m->layers * m->kv_heads, &retrieval) ||
        whole_field(c, COL_MIXED, 0, m->layers, &mixed) || whole_field(c, COL_LAUNCHES, 0, INT_MAX, &launches) ||
        whole_field(c, COL_SAMPLES, 1, LLONG_MAX, &samples) || number_field(c, COL_KV_BYTES, 0, &row->kv_bytes) ||
        number_field(c, COL_FLOPS, 0, &row->flops) || number_field(c, COL_VERIFY, 1, &row->verify_error) ||
        number_field(c, COL_MEDIAN, 0, &median_us) || number_field(c, COL_MIN, 0, &min_us) ||
        number_field(c, COL_MAX, 0, &max_us) || number_field(c, COL_ENQUEUE, 0, &enqueue_us) ||
        number_field(c, COL_SPREAD, 1, &spread) || number_field(c, COL_STDEV, 1, &stdev) ||
        number_field(c, COL_NOISE, 1, &noise))
        return -1;
    zz_memory *mem = &row->memory;
    if (optional_number(c, COL_LINEAR_FLOPS, 0, &row->linear_flops) ||
        optional_number(c, COL_MEM_WEIGHTS, 0, &mem->weights) || optional_number(c, COL_MEM_KV, 0, &mem->kv_cache) ||
        optional_number(c, COL_MEM_ACTIVATIONS, 0, &mem->activations) ||
        optional_number(c, COL_MEM_WORKSPACES, 0, &mem->workspaces) ||
        optional_number(c, COL_MEM_MEASURED, NAN, &row->measured_bytes))
        return -1;
    if (!(median_us > 0)) return bad_field(c, COL_MEDIAN, "a positive step latency in µs");
    if (!(enqueue_us >= 0)) return bad_field(c, COL_ENQUEUE, "a host enqueue time in µs");
    row->retrieval_heads = (int)retrieval, row->mixed_layers = (int)mixed, row->launches = (int)launches;
    out->latency = (zz_stats){.n = (size_t)samples, .median = median_us * 1e-6, .min = min_us * 1e-6,
                              .max = max_us * 1e-6, .mean = NAN, .stdev = NAN, .rel_stdev = stdev, .noise = noise,
                              .rel_spread = spread};
    out->host_enqueue = (zz_stats){.median = enqueue_us * 1e-6, .min = NAN, .max = NAN, .mean = NAN, .stdev = NAN,
                                   .rel_stdev = NAN, .noise = NAN, .rel_spread = NAN};
    return 0;
}

/* The attribution pass's side of a row whose idle_us is set (its latency
 * side is read). The attributed steps' enqueue time is kept as its share of
 * their latency. An older file has no span, attributed median, gaps or
 * attributed share; its idle was the clean latency − busy kernel time, so
 * its parts add up to the clean median: checked, and the span taken as
 * exactly that, so that the file's rounding shows no "-0.0 %". A category
 * column the file lacks was added after it was written: no kernel of it
 * ran. One-launch steps have no gap. */
static int read_kernels(const csv_rows *c, int old_format, zz_report_row *row) {
    zz_step_time *st = &row->median_step;
    double span, dropped, attributed_share;
    *st = (zz_step_time){.latency_ns = NAN, .outside_ns = NAN};
    for (int k = 0; k < ZZ_CATEGORIES; k++) {
        if (c->col[COL_CATEGORY + k] >= 0 && number_field(c, COL_CATEGORY + k, 0, &st->kernel_ns[k])) return -1;
        st->kernel_ns[k] *= 1e3;
        st->kernel_total_ns += st->kernel_ns[k];
    }
    if (number_field(c, COL_IDLE, 0, &st->idle_ns) || number_field(c, COL_OVERLAP, 0, &st->overlap_ns) ||
        number_field(c, COL_SPAN, old_format, &span) ||
        number_field(c, COL_ATTRIBUTED, old_format, &row->attributed_median_ns) ||
        number_field(c, COL_GAP, 1, &row->gap_median_ns) || number_field(c, COL_DROPPED, 0, &dropped) ||
        number_field(c, COL_ATTRIBUTED_SHARE, 1, &attributed_share))
        return -1;
    st->idle_ns *= 1e3, st->overlap_ns *= 1e3, row->attributed_median_ns *= 1e3, row->gap_median_ns *= 1e3;
    row->attributed_enqueue_ns = attributed_share * row->attributed_median_ns;
    st->busy_ns = st->kernel_total_ns - st->overlap_ns;
    st->span_ns = st->busy_ns + st->idle_ns;
    const double median_ns = row->latency.median * 1e9, parts_ns = st->span_ns;
    if (old_format) st->span_ns = median_ns;
    const double want_ns = old_format ? median_ns : span * 1e3;
    if (fabs(parts_ns - want_ns) > 1e-6 * fabs(want_ns) + 1e-3)
        return zz_errorf(c->err, "%s line %d: the kernels + idle - overlap make %.17g µs, not %s %.17g", c->path,
                         c->t->lines[c->row], parts_ns / 1e3, old_format ? "the median_us of an older file," : "span_us",
                         want_ns / 1e3);
    if (!(dropped >= 0 && dropped == floor(dropped))) return bad_field(c, COL_DROPPED, "a count of records");
    row->dropped_records = (unsigned long long)dropped;
    row->have_kernels = 1;
    return 0;
}

/* The budget of the row's configuration, from the row's plan where it is
 * duo's or zigzag's and not known yet. */
static void budget_from_row(zz_report_config *cfg, const zz_report_row *row) {
    const zz_cost cost = {row->retrieval_heads, row->kv_bytes, row->flops};
    if (zz_layout_mixed(row->layout) && cfg->duo.retrieval_heads < 0) {
        cfg->duo = cost;
        cfg->duo_mixed_layers = row->mixed_layers;
    }
    if (row->layout == ZZ_LAYOUT_ZIGZAG && cfg->zigzag.retrieval_heads < 0) cfg->zigzag = cost;
}

typedef struct {
    int old_format;        /* no span_us column */
    int attributed, scaled; /* rows with kernel times; of them, scaled down (older files) */
} csv_facts;

/* A measured row of the same configuration, layout and mode as row, or NULL. */
static const zz_report_row *same_row(const zz_report *r, const zz_report_row *row) {
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *o = &r->rows[i];
        if (o->config == row->config && o->layout == row->layout && o->mode == row->mode) return o;
    }
    return NULL;
}

static int read_rows(const zz_csv_table *t, const char *path, zz_report *r, csv_facts *facts, zz_error *err) {
    csv_rows c = {.path = path, .t = t, .err = err};
    if (find_columns(&c)) return -1;
    if (t->rows < 2) return zz_errorf(err, "%s: a header and no rows", path);
    facts->old_format = c.col[COL_SPAN] < 0;
    for (c.row = 1; c.row < t->rows; c.row++) {
        zz_report_config key;
        zz_report_row row = {.verify_error = NAN};
        zz_measurement m = {0};
        if (read_keys(&c, r, &key) || read_measurement(&c, &r->info->model, &row, &m)) return -1;
        if ((row.config = config_of(r, &key)) < 0) return zz_errorf(err, "%s: %s", path, r->fault);
        if (same_row(r, &row))
            return zz_errorf(err, "%s line %d: a second %s %s row of its configuration", path, t->lines[c.row],
                             zz_layout_name(row.layout), zz_mode_name(row.mode));
        const int index = zz_report_add(r, &row, &m);
        if (index < 0) return zz_errorf(err, "%s: %s", path, r->fault);
        if (*field(&c, COL_IDLE)) {
            double scale;
            if (read_kernels(&c, facts->old_format, &r->rows[index]) || number_field(&c, COL_SCALE, 1, &scale))
                return -1;
            facts->attributed++;
            facts->scaled += scale < 1;
        }
        budget_from_row(&r->configs[row.config], &r->rows[index]);
    }
    return 0;
}

/* ------------------------------------------- the summary.md replaced ---- */

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The configuration whose label is label[0, len), or -1. */
static int config_by_label(const zz_report *r, const char *label, size_t len) {
    for (int i = 0; i < r->n_configs; i++) {
        char mine[128];
        zz_report_config_label(&r->configs[i], mine, sizeof mine);
        if (strlen(mine) == len && memcmp(mine, label, len) == 0) return i;
    }
    return -1;
}

/* "| LABEL | A / B | M | ..." of the budget table: the retrieval heads of
 * duo and zigzag and duo's mixed layers, for what results.csv left unknown. */
static void budget_line(zz_report *r, const char *line) {
    const char *label = line + 2, *bar = strstr(label, " | ");
    const zz_model *m = &r->info->model;
    int duo, zigzag, mixed, c;
    if (!bar || sscanf(bar, " | %d / %d | %d |", &duo, &zigzag, &mixed) != 3 ||
        (c = config_by_label(r, label, (size_t)(bar - label))) < 0)
        return;
    zz_report_config *cfg = &r->configs[c];
    const int heads = m->layers * m->kv_heads;
    if (duo < 0 || duo > heads || zigzag < 0 || zigzag > heads || mixed < 0 || mixed > m->layers) return;
    if (cfg->duo.retrieval_heads < 0) {
        cfg->duo = zz_cost_of(m, &cfg->workload, duo);
        cfg->duo_mixed_layers = mixed;
    }
    if (cfg->zigzag.retrieval_heads < 0) cfg->zigzag = zz_cost_of(m, &cfg->workload, zigzag);
}

/* "Note, LABEL: TEXT." under the budget table (the budget's note) or the
 * latency tables (layouts sampled in groups). */
static void note_line(zz_report *r, const char *line, int budget_section) {
    const char *label = line + strlen("Note, "), *colon = strstr(label, ": ");
    const int c = colon ? config_by_label(r, label, (size_t)(colon - label)) : -1;
    const size_t text_len = colon ? strlen(colon + 2) : 0;
    if (c < 0 || text_len < 1 || colon[2 + text_len - 1] != '.') return;
    zz_report_config *cfg = &r->configs[c];
    if (budget_section) snprintf(cfg->note, sizeof cfg->note, "%.*s", (int)text_len - 1, colon + 2);
    else sscanf(colon + 2, "its layouts did not fit in device memory together and were sampled in %d groups",
                &cfg->groups);
}

/* Puts a skipped measurement back as row `position` of its table (the
 * rows of its configuration and mode, in row order). */
static int insert_skipped(zz_report *r, const zz_report_row *row, int position) {
    int at = r->n_rows, seen = 0;
    for (int i = 0; i < r->n_rows && at == r->n_rows; i++)
        if (r->rows[i].config == row->config && r->rows[i].mode == row->mode && seen++ == position) at = i;
    const int before = r->n_rows;
    zz_report_add_skipped(r, row);
    if (r->n_rows == before) return -1;
    memmove(&r->rows[at + 1], &r->rows[at], (size_t)(before - at) * sizeof *r->rows);
    r->rows[at] = *row;
    return 0;
}

/* One line of a latency table: a skipped row "| LAYOUT | skipped: WHY |"
 * goes back in; any row counts for the position of the next. config is
 * -1 for a table of a configuration results.csv does not have. */
static int table_line(zz_report *r, const char *line, int config, zz_mode mode, int *position, int *unplaced) {
    const char *layout_end = strstr(line + 2, " | "), *why = layout_end ? layout_end + 3 : NULL;
    char layout_name[32];
    zz_report_row row = {.config = config, .mode = mode, .measured_bytes = NAN, .verify_error = NAN};
    const int at = (*position)++;
    if (!why || !starts(why, "skipped: ")) return 0;
    why += strlen("skipped: ");
    const char *why_end = strstr(why, " |");
    snprintf(layout_name, sizeof layout_name, "%.*s", (int)(layout_end - line - 2), line + 2);
    if (config < 0 || !why_end || zz_layout_from_name(layout_name, &row.layout)) {
        ++*unplaced;
        return 0;
    }
    snprintf(row.skipped, sizeof row.skipped, "%.*s", (int)(why_end - why), why);
    return insert_skipped(r, &row, at);
}

/* Reads what only summary.md records (report_read.h) into r. 1 when there
 * is no summary.md; *unplaced counts skipped rows it could not put back. */
static int read_old_summary(const char *path, zz_report *r, int *unplaced, zz_error *err) {
    size_t len;
    char *text = zz_read_file(path, &len);
    if (!text) return errno == ENOENT ? 1 : zz_errorf(err, "%s: cannot read: %s", path, strerror(errno));
    enum { HEAD, BUDGET, LATENCY, OTHER } section = HEAD;
    int table_config = -1, in_table = 0, position = 0, rc = 0;
    zz_mode table_mode = ZZ_MODE_EAGER;
    for (char *line = text, *next; !rc && *line; line = next) {
        char *end = line + strcspn(line, "\n");
        next = *end ? end + 1 : end;
        *end = '\0';
        if (starts(line, "## ")) {
            section = starts(line, "## Equal budget") ? BUDGET : starts(line, "## Step latency") ? LATENCY : OTHER;
            in_table = 0;
        } else if (section == HEAD && starts(line, "| status | ") && end - line >= 13 && starts(end - 2, " |")) {
            snprintf(r->status, sizeof r->status, "%.*s", (int)(end - line - 13), line + 11);
        } else if (section == BUDGET && starts(line, "| ")) {
            budget_line(r, line);
        } else if ((section == BUDGET || section == LATENCY) && starts(line, "Note, ")) {
            note_line(r, line, section == BUDGET);
        } else if (section == LATENCY && starts(line, "### ")) {
            const char *comma = strrchr(line, ',');
            in_table = comma && comma[1] == ' ' && zz_mode_from_name(comma + 2, &table_mode) == 0;
            table_config = in_table ? config_by_label(r, line + 4, (size_t)(comma - line - 4)) : -1;
            position = 0;
        } else if (in_table && starts(line, "| ") && !starts(line, "| layout |")) {
            rc = table_line(r, line, table_config, table_mode, &position, unplaced);
        }
    }
    free(text);
    return rc ? zz_errorf(err, "%s: %s", path, r->fault) : 0;
}

/* --------------------------------------------------------- the run ---- */

/* A zigzag budget from duo's when Hkv divides its retrieval heads; the note
 * of a budget still unknown, whose row summary.md then leaves out. */
static void finish_budgets(zz_report *r) {
    const zz_model *m = &r->info->model;
    for (int i = 0; i < r->n_configs; i++) {
        zz_report_config *c = &r->configs[i];
        if (c->zigzag.retrieval_heads < 0 && c->duo.retrieval_heads >= 0 && c->duo.retrieval_heads % m->kv_heads == 0)
            c->zigzag = zz_cost_of(m, &c->workload, c->duo.retrieval_heads);
        if (c->duo.retrieval_heads >= 0 && c->zigzag.retrieval_heads >= 0) continue;
        c->duo_mixed_layers = -1;
        snprintf(c->note, sizeof c->note,
                 "its budget is not known: results.csv has no %s row of it, and no summary.md beside it lists it",
                 c->duo.retrieval_heads >= 0 ? "zigzag" : c->zigzag.retrieval_heads >= 0 ? "duo" : "duo or zigzag");
    }
}

static void note_add(zz_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(zz_report *r, const char *fmt, ...) {
    size_t n = strlen(r->note);
    if (n && n + 1 < sizeof r->note) r->note[n++] = ' ', r->note[n] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + n, sizeof r->note - n, fmt, ap);
    va_end(ap);
}

/* The paragraph under the head: how this summary differs from one the run
 * would write today. */
static void explain(zz_report *r, const csv_facts *facts, int unplaced) {
    if (facts->old_format)
        note_add(r, "Rebuilt by `zz-bench summary` from the results.csv of an older version, which sampled the "
                    "layouts of a configuration one after another, not interleaved.");
    if (facts->old_format && facts->attributed)
        note_add(r, "Its decomposition is the old residue-based one: kernel times from a separate attribution "
                    "pass, scaled down by kernel_scale where they outlasted the clean median (%d of %d rows here), "
                    "and idle = clean latency − busy kernel time. So its span is the clean median by construction "
                    "(span − median 0 %%, and the span agreement below checks nothing), Δ idle takes up any drift "
                    "between the passes, and gap / boundary was not recorded.",
                 facts->scaled, facts->attributed);
    if (unplaced)
        note_add(r, "%d skipped measurements of configurations that have no row in results.csv are not listed in "
                    "this rebuilt summary.", unplaced);
}

int zz_report_read(const char *dir, zz_run_info *info, zz_report *report, zz_error *err) {
    char env_path[4096], results_path[4096], summary_path[4096];
    if (zz_join_path(env_path, sizeof env_path, dir, "env.json", err) ||
        zz_join_path(results_path, sizeof results_path, dir, "results.csv", err) ||
        zz_join_path(summary_path, sizeof summary_path, dir, "summary.md", err) || read_env(env_path, info, err))
        return -1;
    zz_csv_table t;
    if (zz_csv_read(results_path, &t, err)) return -1;
    zz_report_init(report, info);
    csv_facts facts = {0};
    int unplaced = 0;
    int rc = read_rows(&t, results_path, report, &facts, err);
    zz_csv_table_free(&t);
    if (!rc) rc = read_old_summary(summary_path, report, &unplaced, err);
    if (rc < 0) {
        zz_report_free(report);
        return -1;
    }
    if (rc == 1)
        snprintf(report->status, sizeof report->status,
                 "rebuilt without the summary.md it replaces: measurements skipped for device memory, if any, "
                 "are not listed");
    finish_budgets(report);
    explain(report, &facts, unplaced);
    return 0;
}

int zz_report_rewrite_summary(const char *dir, zz_error *err) {
    zz_run_info info;
    zz_report report;
    char path[4096];
    if (zz_join_path(path, sizeof path, dir, "summary.md", err) || zz_report_read(dir, &info, &report, err)) return -1;
    char *summary = zz_report_summary(&report);
    zz_report_free(&report);
    if (!summary) return zz_errorf(err, "not writing %s: out of memory", path);
    const int rc = zz_write_file(path, summary, strlen(summary), err);
    free(summary);
    return rc;
}
