#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int zz_timeline_init(zz_timeline *t, const zz_launch *launches, int n_launches, zz_error *err) {
    if (n_launches < 1) return zz_errorf(err, "a step of %d launches: at least one is needed", n_launches);
    int n_layers = 0, n_library = 0;
    for (int k = 0; k < n_launches; k++) {
        const zz_launch *l = &launches[k];
        if (l->layer < 0 || l->layer >= ZZ_MAX_LAYERS)
            return zz_errorf(err, "launch %d: layer %d out of range 0..%d", k, l->layer, ZZ_MAX_LAYERS - 1);
        if ((int)l->category < 0 || (int)l->category >= ZZ_CATEGORIES)
            return zz_errorf(err, "launch %d: category %d unknown", k, (int)l->category);
        if (!l->tag || !*l->tag) return zz_errorf(err, "launch %d: empty kernel name tag", k);
        if (l->layer >= n_layers) n_layers = l->layer + 1;
        n_library += l->library != 0;
    }
    /* A library launch's kernels end where a tagged kernel begins (timeline.h). */
    if (n_library == n_launches)
        return zz_errorf(err, "a step of library launches only (%d): no kernel name would mark where a step ends",
                         n_launches);
    for (int k = 0; k < n_launches; k++) {
        const int next = (k + 1) % n_launches;
        const zz_launch *a = &launches[k], *b = &launches[next];
        if (a->library && b->library)
            return zz_errorf(err, "launch %d (layer %d, %s, '%s') and launch %d%s (layer %d, %s, '%s') are both "
                             "library launches: no kernel name would mark where the first one's kernels end",
                             k, a->layer, zz_category_name(a->category), a->tag, next, next ? "" : " of the next step",
                             b->layer, zz_category_name(b->category), b->tag);
    }
    *t = (zz_timeline){.launches = launches, .n_launches = n_launches, .n_layers = n_layers, .n_library = n_library};
    return 0;
}

void zz_timeline_free(zz_timeline *t) {
    for (int i = 0; i < t->n_names; i++) free(t->names[i]);
    free(t->names);
    free(t->steps);
    free(t->duration_ns);
    free(t->gap_ns);
    free(t->records);
    *t = (zz_timeline){0};
}

/* Records of the step stream in start order; equal starts by end, then by
 * input position, so equal timestamps still give one order. */
typedef struct {
    uint64_t start_ns, end_ns;
    size_t index;
} record_key;

static int compare_by_start(const void *a, const void *b) {
    const record_key *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    if (x->end_ns != y->end_ns) return x->end_ns < y->end_ns ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int intern_name(zz_timeline *t, const char *name, zz_error *err) {
    for (int i = 0; i < t->n_names; i++)
        if (strcmp(t->names[i], name) == 0) return i;
    char **grown = realloc(t->names, (t->n_names + 1) * sizeof *grown);
    if (!grown) return zz_errorf(err, "out of memory keeping kernel names");
    t->names = grown;
    if (!(t->names[t->n_names] = strdup(name))) return zz_errorf(err, "out of memory keeping kernel names");
    return t->n_names++;
}

/* A capacity of at least `need`, doubling from `cap` (from `first` when 0). */
static size_t grown_capacity(size_t cap, size_t need, size_t first) {
    if (!cap) cap = first;
    while (cap < need) cap *= 2;
    return cap;
}

/* Room for n_steps in all three per-step arrays. An array that grew before
 * another failed is kept: it is only larger than cap_steps says. */
static int reserve_steps(zz_timeline *t, size_t n_steps, zz_error *err) {
    if (n_steps <= t->cap_steps) return 0;
    const size_t cap = grown_capacity(t->cap_steps, n_steps, 64), cells = cap * t->n_launches;
    zz_step_time *steps = realloc(t->steps, cap * sizeof *steps);
    if (steps) t->steps = steps;
    double *duration = realloc(t->duration_ns, cells * sizeof *duration);
    if (duration) t->duration_ns = duration;
    /* One more than the boundaries, so a one-launch step still gets a non-empty block. */
    double *gap = realloc(t->gap_ns, cells * sizeof *gap);
    if (gap) t->gap_ns = gap;
    if (!steps || !duration || !gap) return zz_errorf(err, "out of memory keeping the timeline of %zu steps", n_steps);
    t->cap_steps = cap;
    return 0;
}

static int reserve_records(zz_timeline *t, size_t n_records, zz_error *err) {
    if (n_records <= t->cap_records) return 0;
    const size_t cap = grown_capacity(t->cap_records, n_records, 1024);
    zz_attributed_record *records = realloc(t->records, cap * sizeof *records);
    if (!records) return zz_errorf(err, "out of memory keeping %zu kernel records", n_records);
    t->records = records, t->cap_records = cap;
    return 0;
}

/* The records of the step stream, in start order, as the steps take them. */
typedef struct {
    const zz_kernel_record *const *rec;
    size_t n, next;   /* records; the first one no launch has taken yet */
    size_t n_other;   /* records of other streams (ignored), for messages */
    uint32_t stream;
    size_t n_steps;   /* to attribute */
} record_walk;

static const char *name_of(const zz_kernel_record *r) { return r->name ? r->name : "(no name)"; }

/* Where a library launch's records end (timeline.h). */
static int names_ordinary_launch(const zz_timeline *t, const char *name) {
    for (int k = 0; k < t->n_launches; k++)
        if (!t->launches[k].library && strstr(name, t->launches[k].tag)) return 1;
    return 0;
}

/* The steps do not consume the records exactly: they ran out before launch
 * k of step `step`, or (k < 0) some are left over after the last step.
 * Without library launches every step takes n_launches records: the count
 * says it all. */
static int count_error(const zz_timeline *t, const record_walk *w, size_t step, int k, zz_error *err) {
    char library[96] = "", what[384];
    if (t->n_library)
        snprintf(library, sizeof library, ", %d of them library launches of one record or more", t->n_library);
    if (!t->n_library)
        snprintf(what, sizeof what, "expected %zu", w->n_steps * t->n_launches);
    else if (k < 0)
        snprintf(what, sizeof what, "%zu left over after the last step, the first '%s'", w->n - w->next,
                 name_of(w->rec[w->next]));
    else
        snprintf(what, sizeof what, "they end before step %zu, launch %d (layer %d, %s, '%s')", step, k,
                 t->launches[k].layer, zz_category_name(t->launches[k].category), t->launches[k].tag);
    return zz_errorf(err, "%zu kernel records on stream %u for %zu steps of %d launches%s: %s (%zu records of other "
                     "streams ignored)",
                     w->n, w->stream, w->n_steps, t->n_launches, library, what, w->n_other);
}

/* Launch k of step `step` (counted from the timeline's first, for
 * messages) takes its records from w->next on; attributed[i] receives
 * what kernels.csv keeps of record i. */
static int take_launch(zz_timeline *t, record_walk *w, size_t step, int k, zz_attributed_record *attributed,
                       zz_error *err) {
    const zz_launch *l = &t->launches[k];
    const char *category = zz_category_name(l->category);
    const size_t from = w->next;
    if (l->library) {
        while (w->next < w->n && !names_ordinary_launch(t, name_of(w->rec[w->next]))) w->next++;
        if (w->next == from && from < w->n)
            return zz_errorf(err, "step %zu, launch %d (layer %d, %s): expected the kernels of a library launch "
                             "('%s'), found '%s', named like an ordinary launch",
                             step, k, l->layer, category, l->tag, name_of(w->rec[from]));
    } else if (w->next < w->n) {
        const char *name = name_of(w->rec[w->next]);
        if (!strstr(name, l->tag))
            return zz_errorf(err, "step %zu, launch %d (layer %d, %s): expected a kernel named like '%s', found '%s'",
                             step, k, l->layer, category, l->tag, name);
        w->next++;
    }
    if (w->next == from) return count_error(t, w, step, k, err);
    for (size_t i = from; i < w->next; i++) {
        const zz_kernel_record *r = w->rec[i];
        if (r->end_ns < r->start_ns)
            return zz_errorf(err, "step %zu, launch %d: kernel '%s' ends at %llu ns, before its start %llu ns", step, k,
                             name_of(r), (unsigned long long)r->end_ns, (unsigned long long)r->start_ns);
        const int name_id = intern_name(t, name_of(r), err);
        if (name_id < 0) return -1;
        attributed[i] = (zz_attributed_record){k, name_id, i == from, (double)(r->end_ns - r->start_ns)};
    }
    return 0;
}

/* One step's accounting from its n records (in start order, as attributed);
 * duration[k] receives launch k's time, gap[k] boundary k's gap. */
static zz_step_time step_time(const zz_timeline *t, const zz_kernel_record *const *rec,
                              const zz_attributed_record *attributed, size_t n, uint64_t latency_ns, double *duration,
                              double *gap) {
    zz_step_time st = {.latency_ns = (double)latency_ns};
    for (int k = 0; k < t->n_launches; k++) duration[k] = 0;
    uint64_t busy = 0, run_start = rec[0]->start_ns, run_end = rec[0]->end_ns;
    for (size_t i = 0; i < n; i++) {
        const int k = attributed[i].launch;
        st.kernel_ns[t->launches[k].category] += attributed[i].duration_ns;
        duration[k] += attributed[i].duration_ns;
        if (k > 0 && attributed[i].first) gap[k - 1] = (double)rec[i]->start_ns - (double)run_end;
        if (rec[i]->start_ns > run_end) {
            busy += run_end - run_start;
            run_start = rec[i]->start_ns;
        }
        if (rec[i]->end_ns > run_end) run_end = rec[i]->end_ns;
    }
    busy += run_end - run_start;
    for (int c = 0; c < ZZ_CATEGORIES; c++) st.kernel_total_ns += st.kernel_ns[c];
    st.span_ns = (double)(run_end - rec[0]->start_ns);
    st.busy_ns = (double)busy;
    st.idle_ns = st.span_ns - st.busy_ns;
    st.overlap_ns = st.kernel_total_ns - st.busy_ns;
    st.outside_ns = st.latency_ns - st.span_ns;
    return st;
}

/* Checks and accounts every step into the given arrays; of the timeline
 * itself only the names may grow. Every record is matched before any step
 * is accounted, so a misplaced record is reported as such, not as a step
 * longer than its latency. */
static int attribute(zz_timeline *t, record_walk *w, const uint64_t *latency_ns, zz_step_time *steps,
                     double *duration, double *gap, zz_attributed_record *attributed, zz_error *err) {
    for (size_t s = 0; s < w->n_steps; s++)
        for (int k = 0; k < t->n_launches; k++)
            if (take_launch(t, w, t->n_steps + s, k, attributed, err)) return -1;
    if (w->next < w->n) return count_error(t, w, 0, -1, err);
    for (size_t s = 0, first = 0, end; s < w->n_steps; s++, first = end) {
        /* the step ends where launch 0's first record begins the next */
        for (end = first + 1; end < w->n && !(attributed[end].launch == 0 && attributed[end].first); end++) {}
        steps[s] = step_time(t, w->rec + first, attributed + first, end - first, latency_ns[s],
                             duration + s * t->n_launches, gap + s * t->n_launches);
        double slack = ZZ_CLOCK_SLACK_NS + ZZ_CLOCK_SLACK_REL * steps[s].latency_ns;
        if (-steps[s].outside_ns > slack)
            return zz_errorf(err, "step %zu: kernels span %.3f us, more than the event-timed latency %.3f us"
                             " by over the %.3f us clock slack",
                             t->n_steps + s, steps[s].span_ns / 1e3, steps[s].latency_ns / 1e3, slack / 1e3);
    }
    return 0;
}

int zz_timeline_add(zz_timeline *t, const zz_kernel_record *records, size_t n_records, uint32_t stream,
                    const uint64_t *latency_ns, size_t n_steps, zz_error *err) {
    if (n_steps == 0) return zz_errorf(err, "no steps to add");
    /* The new steps and records are written past n_steps and n_records and count only once all passed. */
    if (reserve_steps(t, t->n_steps + n_steps, err) ||
        reserve_records(t, t->n_records + (n_records ? n_records : 1), err))
        return -1;
    record_key *order = malloc((n_records ? n_records : 1) * sizeof *order);
    const zz_kernel_record **rec = malloc((n_records ? n_records : 1) * sizeof *rec);
    int rc = -1;
    if (!order || !rec) {
        zz_errorf(err, "out of memory attributing %zu kernel records", n_records);
        goto done;
    }
    size_t n_rec = 0;
    for (size_t i = 0; i < n_records; i++)
        if (records[i].stream == stream) order[n_rec++] = (record_key){records[i].start_ns, records[i].end_ns, i};
    qsort(order, n_rec, sizeof *order, compare_by_start);
    for (size_t i = 0; i < n_rec; i++) rec[i] = &records[order[i].index];

    record_walk walk = {.rec = rec, .n = n_rec, .n_other = n_records - n_rec, .stream = stream, .n_steps = n_steps};
    const size_t first_cell = t->n_steps * t->n_launches;
    rc = attribute(t, &walk, latency_ns, t->steps + t->n_steps, t->duration_ns + first_cell, t->gap_ns + first_cell,
                   t->records + t->n_records, err);
    if (rc == 0) {
        t->n_steps += n_steps;
        t->n_records += n_rec;
    }
done:
    free(order);
    free(rec);
    return rc;
}

/* Steps in span order, equal spans by step number. */
typedef struct {
    double span_ns;
    size_t step;
} step_key;

static int compare_by_span(const void *a, const void *b) {
    const step_key *x = a, *y = b;
    if (x->span_ns != y->span_ns) return x->span_ns < y->span_ns ? -1 : 1;
    return (x->step > y->step) - (x->step < y->step);
}

static zz_step_time mean_of_two(const zz_step_time *a, const zz_step_time *b) {
    zz_step_time m = {
        .latency_ns = (a->latency_ns + b->latency_ns) / 2,
        .span_ns = (a->span_ns + b->span_ns) / 2,
        .outside_ns = (a->outside_ns + b->outside_ns) / 2,
        .kernel_total_ns = (a->kernel_total_ns + b->kernel_total_ns) / 2,
        .busy_ns = (a->busy_ns + b->busy_ns) / 2,
        .idle_ns = (a->idle_ns + b->idle_ns) / 2,
        .overlap_ns = (a->overlap_ns + b->overlap_ns) / 2,
    };
    for (int c = 0; c < ZZ_CATEGORIES; c++) m.kernel_ns[c] = (a->kernel_ns[c] + b->kernel_ns[c]) / 2;
    return m;
}

/* Every boundary's gap of every step, pooled; n == 0 when a step has one launch. */
static int gap_stats(const zz_timeline *t, zz_stats *out, zz_error *err) {
    const size_t per_step = (size_t)t->n_launches - 1, n = per_step * t->n_steps;
    *out = (zz_stats){0};
    if (n == 0) return 0;
    double *gaps = malloc(n * sizeof *gaps);
    if (!gaps) return zz_errorf(err, "out of memory summarising %zu kernel gaps", n);
    for (size_t s = 0; s < t->n_steps; s++)
        memcpy(gaps + s * per_step, t->gap_ns + s * t->n_launches, per_step * sizeof *gaps);
    int rc = zz_stats_of(gaps, n, out, err);
    free(gaps);
    return rc;
}

/* Statistics across steps of the quantity at byte offset `field` of zz_step_time. */
static int stats_of_field(const zz_timeline *t, size_t field, double *scratch, zz_stats *out, zz_error *err) {
    for (size_t s = 0; s < t->n_steps; s++) scratch[s] = *(const double *)((const char *)&t->steps[s] + field);
    return zz_stats_of(scratch, t->n_steps, out, err);
}

int zz_timeline_summarize(const zz_timeline *t, zz_timeline_summary *out, zz_error *err) {
    if (t->n_steps == 0) return zz_errorf(err, "timeline has no steps");
    double *scratch = malloc(t->n_steps * sizeof *scratch);
    step_key *order = malloc(t->n_steps * sizeof *order);
    int rc = -1;
    if (!scratch || !order) {
        zz_errorf(err, "out of memory summarising %zu steps", t->n_steps);
        goto done;
    }
    zz_timeline_summary sum = {.steps = t->n_steps, .launches = t->n_launches};
    if (stats_of_field(t, offsetof(zz_step_time, latency_ns), scratch, &sum.latency, err) ||
        stats_of_field(t, offsetof(zz_step_time, span_ns), scratch, &sum.span, err) ||
        stats_of_field(t, offsetof(zz_step_time, outside_ns), scratch, &sum.outside, err) ||
        stats_of_field(t, offsetof(zz_step_time, kernel_total_ns), scratch, &sum.kernel_total, err) ||
        stats_of_field(t, offsetof(zz_step_time, busy_ns), scratch, &sum.busy, err) ||
        stats_of_field(t, offsetof(zz_step_time, idle_ns), scratch, &sum.idle, err) ||
        stats_of_field(t, offsetof(zz_step_time, overlap_ns), scratch, &sum.overlap, err) ||
        gap_stats(t, &sum.gap, err))
        goto done;
    for (int c = 0; c < ZZ_CATEGORIES; c++)
        if (stats_of_field(t, offsetof(zz_step_time, kernel_ns) + c * sizeof(double), scratch, &sum.kernel[c], err))
            goto done;

    for (size_t s = 0; s < t->n_steps; s++) order[s] = (step_key){t->steps[s].span_ns, s};
    qsort(order, t->n_steps, sizeof *order, compare_by_span);
    const zz_step_time *lower = &t->steps[order[(t->n_steps - 1) / 2].step];
    const zz_step_time *upper = &t->steps[order[t->n_steps / 2].step];
    sum.median_step = lower == upper ? *lower : mean_of_two(lower, upper);
    *out = sum;
    rc = 0;
done:
    free(scratch);
    free(order);
    return rc;
}

int zz_timeline_layer_medians(const zz_timeline *t, double *out_ns, zz_error *err) {
    if (t->n_steps == 0) return zz_errorf(err, "timeline has no steps");
    double *per_step = calloc((size_t)t->n_layers * t->n_steps, sizeof *per_step);  /* [layer][step] */
    if (!per_step) return zz_errorf(err, "out of memory summarising %zu steps by layer", t->n_steps);
    for (size_t s = 0; s < t->n_steps; s++)
        for (int k = 0; k < t->n_launches; k++)
            per_step[t->launches[k].layer * t->n_steps + s] += t->duration_ns[s * t->n_launches + k];
    for (int l = 0; l < t->n_layers; l++) {
        zz_stats st;
        if (zz_stats_of(per_step + l * t->n_steps, t->n_steps, &st, err)) {
            free(per_step);
            return -1;
        }
        out_ns[l] = st.median;
    }
    free(per_step);
    return 0;
}

/* Every record, keyed for grouping into kernels.csv rows. */
typedef struct {
    int name_id, category;
    double duration_ns, bytes, flops;
} keyed_record;

static int compare_keyed(const void *a, const void *b) {
    const keyed_record *x = a, *y = b;
    if (x->name_id != y->name_id) return x->name_id - y->name_id;
    return x->category - y->category;
}

static int same_row(const keyed_record *a, const keyed_record *b) {
    return a->name_id == b->name_id && a->category == b->category;
}

static int compare_by_total(const void *a, const void *b) {
    const zz_kernel_summary *x = a, *y = b;
    if (x->total_ns != y->total_ns) return x->total_ns > y->total_ns ? -1 : 1;
    int by_name = strcmp(x->name, y->name);
    return by_name ? by_name : (int)x->category - (int)y->category;
}

int zz_timeline_kernels(const zz_timeline *t, zz_kernel_summary **out, size_t *n, zz_error *err) {
    const size_t n_rec = t->n_records;
    if (t->n_steps == 0) return zz_errorf(err, "timeline has no steps");
    keyed_record *keyed = malloc(n_rec * sizeof *keyed);
    double *durations = malloc(n_rec * sizeof *durations);
    zz_kernel_summary *rows = NULL;
    int rc = -1;
    if (!keyed || !durations) {
        zz_errorf(err, "out of memory summarising %zu kernel records", n_rec);
        goto done;
    }
    for (size_t i = 0; i < n_rec; i++) {
        const zz_attributed_record *r = &t->records[i];
        const zz_launch *l = &t->launches[r->launch];
        keyed[i] = (keyed_record){r->name_id, (int)l->category, r->duration_ns, r->first ? l->bytes : 0,
                                  r->first ? l->flops : 0};
    }
    qsort(keyed, n_rec, sizeof *keyed, compare_keyed);
    size_t n_rows = 1;
    for (size_t i = 1; i < n_rec; i++) n_rows += !same_row(&keyed[i - 1], &keyed[i]);
    if (!(rows = malloc(n_rows * sizeof *rows))) {
        zz_errorf(err, "out of memory summarising %zu kernels", n_rows);
        goto done;
    }
    for (size_t first = 0, end, r = 0; first < n_rec; first = end, r++) {
        zz_kernel_summary row = {.name = t->names[keyed[first].name_id], .category = keyed[first].category};
        for (end = first; end < n_rec && same_row(&keyed[first], &keyed[end]); end++) {
            durations[end - first] = keyed[end].duration_ns;
            row.total_ns += keyed[end].duration_ns;
            row.bytes += keyed[end].bytes;
            row.flops += keyed[end].flops;
        }
        zz_stats st;
        if (zz_stats_of(durations, end - first, &st, err)) goto done;
        row.launches = end - first;
        row.median_ns = st.median;
        rows[r] = row;
    }
    qsort(rows, n_rows, sizeof *rows, compare_by_total);
    *out = rows;
    *n = n_rows;
    rows = NULL;
    rc = 0;
done:
    free(keyed);
    free(durations);
    free(rows);
    return rc;
}

static int is_attention(zz_category c) {
    return c != ZZ_CAT_COPY && c != ZZ_CAT_CACHE && c != ZZ_CAT_COMBINE && c != ZZ_CAT_OTHER;
}

zz_overhead zz_overhead_of(const zz_step_time *mixed, const zz_step_time *zigzag) {
    zz_overhead d = {
        .latency = mixed->latency_ns - zigzag->latency_ns,
        .span = mixed->span_ns - zigzag->span_ns,
        .outside = mixed->outside_ns - zigzag->outside_ns,
        .idle = mixed->idle_ns - zigzag->idle_ns,
        .overlap = mixed->overlap_ns - zigzag->overlap_ns,
    };
    for (int c = 0; c < ZZ_CATEGORIES; c++) {
        double delta = mixed->kernel_ns[c] - zigzag->kernel_ns[c];
        if (is_attention((zz_category)c)) d.attention += delta;
        else if (c == ZZ_CAT_COPY) d.copy += delta;
        else if (c == ZZ_CAT_CACHE) d.cache += delta;
        else d.other += delta;
    }
    return d;
}
