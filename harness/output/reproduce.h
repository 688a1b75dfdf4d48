/* Reproduction of DuoAttention's efficiency figures (issue 17, item 6):
 * the points its paper times (decode at B 1 of Llama-2-7B at sparsity 0.75
 * and Llama-3-8B at 0.5; chunked prefill of Llama-3-8B at 0.5, chunk 32K),
 * their published latencies, and the table summary.md gains when a run
 * measured them. Nothing here touches the GPU.
 *
 * The published numbers are read off DuoAttention's efficiency figures
 * (A100 80 GB, its PyTorch implementation, full model step):
 *   Llama-2-7B decode, 25 % retrieval heads: 20K 20 -> 18 ms, 120K 51 -> 24 ms,
 *     200K out of memory -> 30 ms
 *   Llama-3-8B decode, 50 %: 100K 23 -> 21 ms, 500K 54 -> 36 ms,
 *     1M out of memory -> 55 ms
 *   Llama-3-8B chunked prefill (chunk 32K), 50 %: 1.63x at 320K (no ms
 *     published here; 64K and 128K are ours only)
 */
#ifndef ZZ_REPRODUCE_H
#define ZZ_REPRODUCE_H

#include <stdio.h>

#include "report.h"

typedef struct {
    const char *model;     /* preset name */
    zz_phase phase;
    double sparsity;
    int ctx_k;             /* context in K tokens (1024, or 1000: either matches) */
    int chunk_k;           /* prefill chunk in K tokens; 0 at decode */
    int full_oom;          /* full attention ran out of memory in the paper */
    double full_ms, duo_ms; /* published step latency; NAN: not published */
    double ratio;          /* published full / duo where only that is given; NAN otherwise */
} zz_duo_point;

#define ZZ_DUO_POINTS 9
extern const zz_duo_point zz_duo_points[ZZ_DUO_POINTS];

/* The index of the point configuration c of a run is, or -1: the model
 * (its whole depth), a model step, batch 1, phase, sparsity, context and
 * chunk as above. */
int zz_duo_point_of(const zz_run_info *info, const zz_report_config *c);

/* The section "Reproduction of DuoAttention's efficiency figures" over the
 * configurations of reports[0..n) that are points, in point order; nothing
 * when none is. summary.md calls it with its own report. */
void zz_reproduction_section(FILE *f, const zz_report *const *reports, int n);

#endif
