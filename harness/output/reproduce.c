/* Reproduction of DuoAttention's efficiency figures (reproduce.h). */
#include "reproduce.h"

#include <math.h>
#include <string.h>

const zz_duo_point zz_duo_points[ZZ_DUO_POINTS] = {
    {"llama2-7b", ZZ_DECODE, 0.75, 20, 0, 0, 20, 18, NAN},
    {"llama2-7b", ZZ_DECODE, 0.75, 120, 0, 0, 51, 24, NAN},
    {"llama2-7b", ZZ_DECODE, 0.75, 200, 0, 1, NAN, 30, NAN},
    {"llama3-8b", ZZ_DECODE, 0.5, 100, 0, 0, 23, 21, NAN},
    {"llama3-8b", ZZ_DECODE, 0.5, 500, 0, 0, 54, 36, NAN},
    {"llama3-8b", ZZ_DECODE, 0.5, 1024, 0, 1, NAN, 55, NAN},
    {"llama3-8b", ZZ_PREFILL, 0.5, 64, 32, 0, NAN, NAN, NAN},
    {"llama3-8b", ZZ_PREFILL, 0.5, 128, 32, 0, NAN, NAN, NAN},
    {"llama3-8b", ZZ_PREFILL, 0.5, 320, 32, 0, NAN, NAN, 1.63},
};

static int tokens_match(long long tokens, int k) { return tokens == 1024LL * k || tokens == 1000LL * k; }

int zz_duo_point_of(const zz_run_info *info, const zz_report_config *c) {
    const zz_workload *w = &c->workload;
    if (info->step != ZZ_STEP_MODEL || w->step != ZZ_STEP_MODEL || w->batch != 1 ||
        info->model.layers != zz_model_total_layers(&info->model))
        return -1;
    for (int i = 0; i < ZZ_DUO_POINTS; i++) {
        const zz_duo_point *p = &zz_duo_points[i];
        /* 1M is 1024K, or 1000K */
        const int ctx_ok = tokens_match(w->ctx, p->ctx_k) || (p->ctx_k == 1024 && w->ctx == 1000000);
        const int chunk_ok = p->phase == ZZ_DECODE || tokens_match(w->chunk, p->chunk_k);
        if (strcmp(info->model.name, p->model) == 0 && w->phase == p->phase && fabs(c->sparsity - p->sparsity) < 1e-9 &&
            ctx_ok && chunk_ok)
            return i;
    }
    return -1;
}

/* The row of layout in configuration c and mode m (measured or skipped), or NULL. */
static const zz_report_row *row_of(const zz_report *r, int c, zz_mode m, zz_layout layout) {
    for (int i = 0; i < r->n_rows; i++) {
        const zz_report_row *row = &r->rows[i];
        if (row->config == c && row->mode == m && row->layout == layout) return row;
    }
    return NULL;
}

static double ms_of(const zz_report_row *row) { return row && !row->skipped[0] ? row->latency.median * 1e3 : NAN; }

static void cell_ms(FILE *f, const zz_report_row *row) {
    if (!row) fprintf(f, " — |");
    else if (row->skipped[0]) fprintf(f, " skipped: %s |", row->skipped);
    else fprintf(f, " %.2f |", ms_of(row));
}

/* b − a in ms and % of a. */
static void cell_delta(FILE *f, double b, double a) {
    if (isfinite(a) && isfinite(b)) fprintf(f, " %+.2f (%+.1f %%) |", b - a, 100 * (b - a) / a);
    else fprintf(f, " — |");
}

#define FEW_SAMPLES 10

/* "12 / 10 / 3‡ / —": samples of each layout's row; *few set when one is below FEW_SAMPLES. */
static void cell_samples(FILE *f, const zz_report_row *const *rows, int n, int *few) {
    for (int k = 0; k < n; k++) {
        fprintf(f, "%s", k ? " / " : " ");
        if (!rows[k] || rows[k]->skipped[0]) fprintf(f, "—");
        else {
            const int below = rows[k]->latency.n < FEW_SAMPLES;
            fprintf(f, "%zu%s", rows[k]->latency.n, below ? "‡" : "");
            *few |= below;
        }
    }
    fprintf(f, " |");
}

static void paper_cells(FILE *f, const zz_duo_point *p) {
    if (p->full_oom) fprintf(f, " out of memory → %.0f | — |", p->duo_ms);
    else if (isfinite(p->full_ms)) fprintf(f, " %.0f → %.0f | %.2f× |", p->full_ms, p->duo_ms, p->full_ms / p->duo_ms);
    else if (isfinite(p->ratio)) fprintf(f, " — | %.2f× |", p->ratio);
    else fprintf(f, " — | — |");
}

void zz_reproduction_section(FILE *f, const zz_report *const *reports, int n) {
    int any = 0, synthetic = 0;
    for (int k = 0; k < n; k++)
        for (int c = 0; c < reports[k]->n_configs; c++)
            if (zz_duo_point_of(reports[k]->info, &reports[k]->configs[c]) >= 0) {
                any = 1;
                synthetic |= strncmp(reports[k]->info->pattern, "synthetic ", 10) == 0;
            }
    if (!any) return;
    fprintf(f, "\n## Reproduction of DuoAttention's efficiency figures\n\n"
               "DuoAttention's efficiency points (a whole model step, B 1): its published full → duo latency "
               "(A100 80 GB, read off its paper's figures; PyTorch, its own kernels) beside this suite's full, "
               "duo-cat (DuoAttention's layout), duo-fused and zigzag on %s, median step latency in ms, eager "
               "and graph. full/duo: the paper's full/duo against ours full/duo-cat. zigzag − duo-cat is the "
               "end-to-end difference ZigzagAttention's abstract claims without a number; zigzag − duo-fused "
               "the same against the best mixed layer. Samples: full / duo-cat / duo-fused / zigzag; ‡: fewer "
               "than %d (a long step under the timeout: the median of those samples only).%s\n\n"
               "| point | mode | paper full → duo ms | paper full/duo | full | duo-cat | duo-fused | zigzag | "
               "ours full/duo-cat | zigzag − duo-cat ms | zigzag − duo-fused ms | samples |\n"
               "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
            n == 1 ? reports[0]->info->device.name : "the GPUs of the runs", FEW_SAMPLES,
            synthetic ? " **Synthetic pattern**: the published retrieval-head patterns were not found, so the "
                        "heads are a seeded random choice at the same sparsity (same budget, other heads)."
                      : "");
    int few = 0;
    for (int p = 0; p < ZZ_DUO_POINTS; p++)
        for (int k = 0; k < n; k++) {
            const zz_report *r = reports[k];
            for (int c = 0; c < r->n_configs; c++) {
                if (zz_duo_point_of(r->info, &r->configs[c]) != p) continue;
                char label[160];
                zz_report_config_label(&r->configs[c], label, sizeof label);
                for (zz_mode m = ZZ_MODE_EAGER; m <= ZZ_MODE_GRAPH; m++) {
                    const zz_report_row *rows[4] = {row_of(r, c, m, ZZ_LAYOUT_FULL), row_of(r, c, m, ZZ_LAYOUT_DUO_CAT),
                                                    row_of(r, c, m, ZZ_LAYOUT_DUO_FUSED),
                                                    row_of(r, c, m, ZZ_LAYOUT_ZIGZAG)};
                    if (!rows[0] && !rows[1] && !rows[2] && !rows[3]) continue;
                    fprintf(f, "| %s %s%s | %s |", r->info->model.name, label,
                            strncmp(r->info->pattern, "synthetic ", 10) == 0 ? " (synthetic pattern)" : "",
                            zz_mode_name(m));
                    paper_cells(f, &zz_duo_points[p]);
                    for (int l = 0; l < 4; l++) cell_ms(f, rows[l]);
                    const double full = ms_of(rows[0]), cat = ms_of(rows[1]), fused = ms_of(rows[2]),
                                 zigzag = ms_of(rows[3]);
                    if (isfinite(full) && isfinite(cat)) fprintf(f, " %.2f× |", full / cat);
                    else fprintf(f, " — |");
                    cell_delta(f, zigzag, cat);
                    cell_delta(f, zigzag, fused);
                    cell_samples(f, rows, 4, &few);
                    fprintf(f, "\n");
                }
            }
        }
    if (few)
        fprintf(f, "\n‡: fewer than %d samples: the measurement reached its timeout first (e.g. a long prefill "
                   "step); its median and ratios rest on those samples only.\n", FEW_SAMPLES);
}
