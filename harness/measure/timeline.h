/* Kernel activity attributed to steps, layers and categories.
 *
 * Input: the kernel records of N consecutive steps (CUPTI activity, or
 * synthetic ones in tests), each step's event-timed latency, and the step's
 * expected launches in launch order (layer, category, and a tag: a substring
 * of the kernel's possibly mangled name). Kernels of one stream run in
 * launch order, so once the records of the step stream are sorted by start
 * time they are walked step by step, launch by launch:
 *   - an ordinary launch takes one record, whose name must hold its tag;
 *   - a library launch (zz_launch.library: a cuBLASLt GEMM, whose kernels
 *     the library picks at run time: one kernel, or a kernel and a split-K
 *     reduction, under names nothing knows beforehand) takes one record or
 *     more: every record up to the first one whose name holds an ordinary
 *     launch's tag, which must then be the next launch's (the next one of
 *     the step, or launch 0 of the next step). Its own tag only labels it
 *     in messages. Stopping at any ordinary tag rather than at the next
 *     launch's alone means that a missing tagged kernel right after a
 *     library launch fails there, naming it, instead of its records
 *     swallowing the rest of the step. The step's last launch, where it is
 *     a library launch, takes what is left of the last step's records; a
 *     record of a further step (launch 0's tag) is left over, an error.
 * Two library launches in a row (the step's last and first count as in a
 * row) would leave nothing to mark where the first one's kernels end, so
 * zz_timeline_init refuses them, and a step of library launches only.
 * Records of other streams are ignored: run whatever is not part of the
 * step (an L2 flush, say) on another stream. A name that lacks its tag
 * fails with the step, launch, layer, category, tag and name; records that
 * the N steps do not consume exactly (without library launches: a count
 * other than N × n_launches) fail with where they ran out or what is left.
 *
 * Per step, all in ns, from that step's own records (nothing is taken
 * from another pass or rescaled):
 *   span          first kernel's start to last kernel's end: the GPU side of the step
 *   kernel_ns[c]  durations of the category's launches' records, summed
 *   busy          union of the kernel intervals
 *   overlap       kernel_total - busy: kernels running at once (a dependent
 *                 launched early by programmatic dependent launch, say)
 *   idle          span - busy: the gaps between kernels inside the span
 *                 (launch gaps; in eager mode also waits on the host)
 *   outside       latency - span: start event to first kernel and last
 *                 kernel to stop event, on the step's own event latency
 * so that, exactly, span = sum of kernel_ns + idle - overlap, and
 * latency = span + outside. Event and CUPTI timestamps come from different
 * timers: the span may exceed the event latency by ZZ_CLOCK_SLACK_NS +
 * ZZ_CLOCK_SLACK_REL · latency (event timer resolution is about 0.5 µs per
 * end), which shows as a slightly negative outside and is kept as measured;
 * more than that is an error.
 * A launch's duration is the sum of its records'. Launch boundaries: the
 * gap at boundary k is launch k+1's first record's start minus the latest
 * end among all the step's records before it (negative where it started
 * before that end: an overlap); zz_timeline_summary.gap pools every
 * boundary of every step. Gaps between the records of one library launch
 * are in idle but are no boundary: the launch list has no boundary there,
 * and how many a GEMM has is cuBLASLt's choice.
 *
 * Split overhead of a mixed layout against zigzag: the difference of the
 * two *median steps* of the same (attribution) pass. The median step is
 * the step of median span; for an even count, the field-by-field mean of
 * the two middle steps. Since every per-step identity is linear, the median
 * step keeps them, so the parts add up to the Δ of the median spans
 * exactly:
 *   Δspan = Δattention + Δcopy + Δcache + Δother + Δidle - Δoverlap
 * with attention = every attn-* category, other = combine + other. (Medians
 * of each part would not add up to the median of the sum.) Inputs are whole
 * ns, so the median step holds whole or half ns and the doubles are exact.
 */
#ifndef ZZ_TIMELINE_H
#define ZZ_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "stats.h"

/* zz_category (plan.h) ends with ZZ_CAT_OTHER. */
#define ZZ_CATEGORIES (ZZ_CAT_OTHER + 1)

#define ZZ_CLOCK_SLACK_NS  2000
#define ZZ_CLOCK_SLACK_REL 1e-3

typedef struct {
    const char *name;  /* kernel name as CUPTI reports it (mangled), or the CUPTI layer's memcpy/memset name */
    uint64_t start_ns, end_ns;
    uint32_t stream;
} zz_kernel_record;

typedef struct {
    int layer;
    zz_category category;
    const char *tag;     /* substring of the kernel's name, e.g. "decode_split_kernel"; a library launch's labels it */
    double bytes, flops; /* work of this launch, for achieved rates in kernels.csv */
    int library;         /* its kernels are chosen at run time: one record or more, names unknown (see above) */
} zz_launch;

typedef struct {
    double latency_ns;  /* event-timed, with CUPTI recording */
    double span_ns, outside_ns;
    double kernel_ns[ZZ_CATEGORIES];
    double kernel_total_ns;
    double busy_ns, idle_ns, overlap_ns;
} zz_step_time;

/* One record as attributed, for kernels.csv: a library launch's records
 * are different kernels (a GEMM and its split-K reduction), each its row. */
typedef struct {
    int launch;   /* index into the step's launches */
    int name_id;  /* index into zz_timeline.names */
    int first;    /* the launch's first record: its row gets the launch's bytes and FLOPs (a library launch's main
                   * kernel comes first, a reduction after it) */
    double duration_ns;
} zz_attributed_record;

/* Every step of one measurement (one configuration, layout and mode). */
typedef struct {
    const zz_launch *launches;  /* borrowed with their tags: keep them until zz_timeline_free */
    int n_launches, n_layers, n_library;
    size_t n_steps, cap_steps;
    zz_step_time *steps;
    double *duration_ns;  /* [step][launch]: the sum of the launch's records */
    double *gap_ns;       /* [step][boundary]: n_launches - 1 per step */
    zz_attributed_record *records;  /* every step's, in step and start order */
    size_t n_records, cap_records;
    char **names;         /* distinct kernel names, owned */
    int n_names;
} zz_timeline;

/* layers: 0 .. ZZ_MAX_LAYERS-1 (n_layers is the largest + 1); tags
 * non-empty; no two library launches in a row, nor only library launches. */
int zz_timeline_init(zz_timeline *t, const zz_launch *launches, int n_launches, zz_error *err);
/* Adds n_steps steps, or nothing on failure. Step numbers in messages count
 * from the timeline's first step. */
int zz_timeline_add(zz_timeline *t, const zz_kernel_record *records, size_t n_records, uint32_t stream,
                    const uint64_t *latency_ns, size_t n_steps, zz_error *err);
void zz_timeline_free(zz_timeline *t);

typedef struct {
    size_t steps;
    int launches;  /* per step */
    zz_stats latency, span, outside, kernel_total, busy, idle, overlap;  /* each across steps, ns */
    zz_stats kernel[ZZ_CATEGORIES];
    zz_stats gap;              /* every kernel boundary of every step, ns; n == 0 for one-launch steps */
    zz_step_time median_step;  /* of median span, whose fields add up; see the top of this file */
} zz_timeline_summary;

int zz_timeline_summarize(const zz_timeline *t, zz_timeline_summary *out, zz_error *err);
/* out_ns[n_layers]: per layer, the median across steps of its kernel time. */
int zz_timeline_layer_medians(const zz_timeline *t, double *out_ns, zz_error *err);

/* One row of kernels.csv. A kernel launched under two categories (one
 * decode kernel for full and for streaming heads) gets a row for each. */
typedef struct {
    const char *name;  /* owned by the timeline */
    zz_category category;
    size_t launches;      /* its records: a library launch's second kernel counts in its own row */
    double total_ns, median_ns;
    double bytes, flops;  /* summed over the launches: achieved rate = bytes / total_ns */
} zz_kernel_summary;

/* *out (free() it) holds *n rows, by total time, largest first. */
int zz_timeline_kernels(const zz_timeline *t, zz_kernel_summary **out, size_t *n, zz_error *err);

/* mixed - zigzag, ns: span = attention + copy + cache + other + idle - overlap,
 * and latency = span + outside (the attribution pass's event latency). */
typedef struct {
    double latency, span, outside, attention, copy, cache, other, idle, overlap;
} zz_overhead;

/* Pass each measurement's summary.median_step. */
zz_overhead zz_overhead_of(const zz_step_time *mixed, const zz_step_time *zigzag);

#endif
