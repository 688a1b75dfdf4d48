#include "pattern.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

/* ------------------------------------------------------------ files ---- */

static int line_of(const char *text, const char *at) {
    int line = 1;
    for (const char *c = text; c < at; c++) line += *c == '\n';
    return line;
}

/* ------------------------------------------------------ the TSV file ---- */

/* One field [begin, end) as a finite number; blanks around it are allowed. */
static int parse_alpha(const char *path, int line, int column, const char *begin, const char *end, double *out,
                       zz_error *err) {
    char text[64];
    size_t n = (size_t)(end - begin);
    if (n == 0) return zz_errorf(err, "%s:%d: column %d: expected a number, found an empty field", path, line, column);
    if (n >= sizeof text)
        return zz_errorf(err, "%s:%d: column %d: expected a number, found '%.32s...'", path, line, column, begin);
    memcpy(text, begin, n);
    text[n] = '\0';
    char *rest;
    double value = strtod(text, &rest);
    while (*rest == ' ') rest++;
    if (rest == text || *rest != '\0' || memchr(begin, '\0', n))
        return zz_errorf(err, "%s:%d: column %d: expected a number, found '%s'", path, line, column, text);
    if (!isfinite(value))
        return zz_errorf(err, "%s:%d: column %d: expected a finite number, found '%s'", path, line, column, text);
    *out = value;
    return 0;
}

static int parse_tsv(const char *path, const char *text, size_t len, const zz_model *m, zz_pattern *p,
                     zz_error *err) {
    const int total = zz_model_total_layers(m);  /* the file covers the whole model */
    if (len == 0)
        return zz_errorf(err, "%s:1: expected %d rows (layers of %s), found an empty file", path, total, m->name);
    const char *const text_end = text + len;
    int rows = 0;
    for (const char *c = text; c < text_end; c++) rows += *c == '\n';
    rows += text_end[-1] != '\n';
    if (rows != total) {
        int line = (rows < total ? rows : total) + 1;
        return zz_errorf(err, "%s:%d: expected %d rows (layers of %s), found %d", path, line, total, m->name,
                         rows);
    }
    const char *row = text;
    for (int layer = 0; layer < total; layer++) {
        int line = layer + 1;
        const char *newline = memchr(row, '\n', (size_t)(text_end - row));
        const char *row_end = newline ? newline : text_end;
        if (row_end > row && row_end[-1] == '\r') row_end--;  /* tolerate CRLF */
        if (row_end == row)
            return zz_errorf(err, "%s:%d: expected %d columns (kv heads of %s), found an empty line", path, line,
                             m->kv_heads, m->name);
        int columns = 1;
        for (const char *c = row; c < row_end; c++) columns += *c == '\t';
        if (columns != m->kv_heads)
            return zz_errorf(err, "%s:%d: expected %d columns (kv heads of %s), found %d", path, line, m->kv_heads,
                             m->name, columns);
        const char *field = row;
        for (int head = 0; head < m->kv_heads; head++) {
            const char *tab = memchr(field, '\t', (size_t)(row_end - field));
            const char *field_end = tab ? tab : row_end;
            double alpha = 0;  /* set unless parse_alpha fails, which gcc cannot see */
            if (parse_alpha(path, line, head + 1, field, field_end, &alpha, err)) return -1;
            p->alpha[layer][head] = alpha < 0 ? 0 : alpha > 1 ? 1 : alpha;
            field = field_end + 1;
        }
        /* np.savetxt ends every row with a newline: a last row without one
         * was cut, possibly inside its last number. */
        if (!newline)
            return zz_errorf(err, "%s:%d: expected a newline ending the last row, found end of file (truncated?)",
                             path, line);
        row = newline + 1;
    }
    return 0;
}

/* ------------------------------------------------------ config.json ---- */

/* Finds "key": VALUE and stores an integer VALUE >= min into *out; a missing
 * key or null leaves *out alone. Strings are skipped whole, so a key name
 * inside some other string value does not match. */
static int scan_json_int(const char *path, const char *text, const char *key, int min, int *out, zz_error *err) {
    size_t key_len = strlen(key);
    for (const char *c = text; *c; c++) {
        if (*c != '"') continue;
        const char *name = ++c;
        while (*c && *c != '"') c += (c[0] == '\\' && c[1]) ? 2 : 1;
        if (!*c) return 0;
        int is_key = (size_t)(c - name) == key_len && memcmp(name, key, key_len) == 0;
        const char *after = c + 1;
        while (*after == ' ' || *after == '\t' || *after == '\r' || *after == '\n') after++;
        if (!is_key || *after != ':') continue;
        const char *value = after + 1;
        while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n') value++;
        size_t value_len = strcspn(value, ",}] \t\r\n");
        if (value_len == 4 && memcmp(value, "null", 4) == 0) return 0;
        char *rest;
        errno = 0;
        long long v = strtoll(value, &rest, 10);
        if (rest == value || rest != value + value_len || errno || v < min || v > ZZ_MAX_CTX)
            return zz_errorf(err, "%s:%d: %s: expected null or an integer in %d..%lld, found '%.*s'", path,
                             line_of(text, value), key, min, ZZ_MAX_CTX, value_len > 32 ? 32 : (int)value_len,
                             value);
        *out = (int)v;
        return 0;
    }
    return 0;
}

static int read_config(const char *path, zz_pattern *p, zz_error *err) {
    size_t len;
    char *text = zz_read_file(path, &len);
    if (!text) return errno == ENOENT ? 0 : zz_errorf(err, "%s: cannot read: %s", path, strerror(errno));
    int rc = scan_json_int(path, text, "sink_size", 0, &p->sink, err) ||
             scan_json_int(path, text, "recent_size", 1, &p->recent, err);
    free(text);
    return rc ? -1 : 0;
}

/* A pattern of the whole model: its rows beyond the layers run are dropped
 * by keep_layers_run once read or made. */
static void start_pattern(const zz_model *m, zz_pattern *p) {
    memset(p, 0, sizeof *p);
    p->layers = zz_model_total_layers(m);
    p->kv_heads = m->kv_heads;
    p->sink = ZZ_DEFAULT_SINK;
    p->recent = ZZ_DEFAULT_RECENT;
}

/* `--layers N` of a deeper model: its first N rows, the rest zero. */
static void keep_layers_run(const zz_model *m, zz_pattern *p) {
    for (int layer = m->layers; layer < p->layers; layer++) memset(p->alpha[layer], 0, sizeof p->alpha[layer]);
    p->layers = m->layers;
}

int zz_pattern_load(const char *dir, const zz_model *m, zz_pattern *out, zz_error *err) {
    if (zz_model_check(m, err)) return -1;
    char path[4096];
    if (zz_join_path(path, sizeof path, dir, "full_attention_heads.tsv", err)) return -1;
    size_t len;
    char *text = zz_read_file(path, &len);
    if (!text) return zz_errorf(err, "%s: cannot read: %s", path, strerror(errno));
    start_pattern(m, out);
    int rc = parse_tsv(path, text, len, m, out, err);
    free(text);
    if (!rc) keep_layers_run(m, out);
    if (rc || zz_join_path(path, sizeof path, dir, "config.json", err) || read_config(path, out, err)) return -1;
    snprintf(out->source, sizeof out->source, "%s", dir);
    return 0;
}

/* ------------------------------------------------------- synthetic ---- */

/* splitmix64: tiny, seedable with any value, good enough for test patterns. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state) { return (double)(next_random(state) >> 11) * 0x1p-53; }

static void fill_uniform_mixed(zz_pattern *p, uint64_t *rng) {
    for (int layer = 0; layer < p->layers; layer++) {
        int level[ZZ_MAX_KV_HEADS];
        for (int h = 0; h < p->kv_heads; h++) level[h] = h;
        for (int h = p->kv_heads - 1; h > 0; h--) {  /* Fisher–Yates */
            int j = (int)(next_random(rng) % (uint64_t)(h + 1)), t = level[h];
            level[h] = level[j];
            level[j] = t;
        }
        for (int h = 0; h < p->kv_heads; h++) p->alpha[layer][h] = (level[h] + 0.5) / p->kv_heads;
    }
}

static void fill_random(zz_pattern *p, uint64_t *rng) {
    for (int layer = 0; layer < p->layers; layer++)
        for (int h = 0; h < p->kv_heads; h++) p->alpha[layer][h] = uniform01(rng);
}

static void fill_layered(zz_pattern *p, uint64_t *rng) {
    for (int layer = 0; layer < p->layers; layer++) {
        double level = uniform01(rng);
        for (int h = 0; h < p->kv_heads; h++) {
            double a = level + 0.4 * (uniform01(rng) - 0.5);
            p->alpha[layer][h] = a < 0 ? 0 : a > 1 ? 1 : a;
        }
    }
}

int zz_pattern_synthetic(const char *spec, const zz_model *m, zz_pattern *out, zz_error *err) {
    static const struct {
        const char *name;
        void (*fill)(zz_pattern *, uint64_t *);
    } kinds[] = {{"uniform-mixed", fill_uniform_mixed}, {"random", fill_random}, {"layered", fill_layered}};
    if (zz_model_check(m, err)) return -1;
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    uint64_t seed = 1;
    if (colon) {
        char *rest;
        errno = 0;
        seed = strtoull(colon + 1, &rest, 10);
        if (colon[1] < '0' || colon[1] > '9' || *rest || errno)
            return zz_errorf(err, "synthetic pattern '%s': seed '%s' is not a non-negative integer", spec, colon + 1);
    }
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (strlen(kinds[k].name) != name_len || strncmp(spec, kinds[k].name, name_len) != 0) continue;
        start_pattern(m, out);
        uint64_t rng = seed;
        kinds[k].fill(out, &rng);
        keep_layers_run(m, out);
        snprintf(out->source, sizeof out->source, "synthetic %s:%llu", kinds[k].name, (unsigned long long)seed);
        return 0;
    }
    char names[64] = "";
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", kinds[k].name);
    return zz_errorf(err, "synthetic pattern '%.*s' unknown (kinds: %s)", (int)name_len, spec, names);
}

/* ---------------------------------------------------------- labels ---- */

int zz_labels_layer_retrieval(const zz_labels *labels, int layer) {
    int n = 0;
    for (int h = 0; h < labels->kv_heads; h++) n += labels->retrieval[layer][h];
    return n;
}

int zz_labels_retrieval(const zz_labels *labels) {
    int n = 0;
    for (int layer = 0; layer < labels->layers; layer++) n += zz_labels_layer_retrieval(labels, layer);
    return n;
}

int zz_labels_mixed_layers(const zz_labels *labels) {
    int mixed = 0;
    for (int layer = 0; layer < labels->layers; layer++) {
        int r = zz_labels_layer_retrieval(labels, layer);
        mixed += r > 0 && r < labels->kv_heads;
    }
    return mixed;
}

int zz_streaming_heads(int total_heads, double sparsity) { return (int)floor(sparsity * total_heads + 0.5); }

/* The lowest heads by (α, layer, head), without a global sort buffer: each
 * layer sorted by (α, head), then repeatedly the lowest front among the
 * layers, the lower layer winning ties. */
void zz_binarize_duo(const zz_pattern *p, int streaming_heads, zz_labels *out) {
    unsigned char order[ZZ_MAX_LAYERS][ZZ_MAX_KV_HEADS];
    int taken[ZZ_MAX_LAYERS];
    memset(out, 0, sizeof *out);
    out->layers = p->layers;
    out->kv_heads = p->kv_heads;
    for (int layer = 0; layer < p->layers; layer++) {
        const double *alpha = p->alpha[layer];
        for (int h = 0; h < p->kv_heads; h++) {  /* insertion sort: stable, so equal α keep head order */
            int at = h;
            for (; at > 0 && alpha[order[layer][at - 1]] > alpha[h]; at--) order[layer][at] = order[layer][at - 1];
            order[layer][at] = (unsigned char)h;
            out->retrieval[layer][h] = 1;
        }
        taken[layer] = 0;
    }
    for (int n = 0; n < streaming_heads; n++) {
        int lowest = -1;
        for (int layer = 0; layer < p->layers; layer++) {
            if (taken[layer] == p->kv_heads) continue;
            double a = p->alpha[layer][order[layer][taken[layer]]];
            if (lowest < 0 || a < p->alpha[lowest][order[lowest][taken[lowest]]]) lowest = layer;
        }
        if (lowest < 0) break;  /* every head streams already */
        out->retrieval[lowest][order[lowest][taken[lowest]++]] = 0;
    }
}

typedef struct {
    double mean_alpha;
    int layer;
} ranked_layer;

static int by_mean_desc_then_layer(const void *a, const void *b) {
    const ranked_layer *x = a, *y = b;
    if (x->mean_alpha != y->mean_alpha) return x->mean_alpha > y->mean_alpha ? -1 : 1;
    return x->layer - y->layer;
}

void zz_select_by_mean_alpha(const zz_pattern *p, int retrieval_layers, unsigned char *retrieval_layer) {
    ranked_layer layers[ZZ_MAX_LAYERS];
    for (int layer = 0; layer < p->layers; layer++) {
        double sum = 0;
        for (int h = 0; h < p->kv_heads; h++) sum += p->alpha[layer][h];
        layers[layer] = (ranked_layer){sum / p->kv_heads, layer};
    }
    qsort(layers, (size_t)p->layers, sizeof layers[0], by_mean_desc_then_layer);
    for (int i = 0; i < p->layers; i++) retrieval_layer[layers[i].layer] = i < retrieval_layers;
}

void zz_labels_from_layers(int layers, int kv_heads, const unsigned char *retrieval_layer, zz_labels *out) {
    memset(out, 0, sizeof *out);
    out->layers = layers;
    out->kv_heads = kv_heads;
    for (int layer = 0; layer < layers; layer++)
        for (int h = 0; h < kv_heads; h++) out->retrieval[layer][h] = retrieval_layer[layer] != 0;
}

/* ---------------------------------------------------------- budget ---- */

static const char *const rounding_names[] = {
    [ZZ_ROUND_NEAREST] = "nearest", [ZZ_ROUND_FLOOR] = "floor", [ZZ_ROUND_CEIL] = "ceil"};

const char *zz_rounding_name(zz_rounding rounding) { return rounding_names[rounding]; }

int zz_rounding_from_name(const char *name, zz_rounding *out) {
    for (int r = ZZ_ROUND_NEAREST; r <= ZZ_ROUND_CEIL; r++) {
        if (strcmp(name, rounding_names[r]) == 0) {
            *out = (zz_rounding)r;
            return 0;
        }
    }
    return -1;
}

int zz_budget_make(const zz_pattern *p, double sparsity, zz_rounding rounding, zz_layer_selector select,
                   zz_budget *out, zz_error *err) {
    if (!(sparsity >= 0 && sparsity <= 1)) return zz_errorf(err, "sparsity %g out of range 0..1", sparsity);
    const int H = p->kv_heads;
    out->sparsity = sparsity;
    out->rounding = rounding;
    out->total_heads = p->layers * H;
    out->duo_retrieval = out->total_heads - zz_streaming_heads(out->total_heads, sparsity);
    out->layers_floor = out->duo_retrieval / H;
    out->layers_ceil = (out->duo_retrieval + H - 1) / H;
    out->zigzag_layers = rounding == ZZ_ROUND_FLOOR  ? out->layers_floor
                         : rounding == ZZ_ROUND_CEIL ? out->layers_ceil
                                                     : (2 * out->duo_retrieval + H) / (2 * H);
    zz_binarize_duo(p, out->total_heads - out->duo_retrieval, &out->duo);
    unsigned char retrieval_layer[ZZ_MAX_LAYERS];
    select(p, out->zigzag_layers, retrieval_layer);
    zz_labels_from_layers(p->layers, H, retrieval_layer, &out->zigzag);
    out->note[0] = '\0';
    if (out->layers_floor != out->layers_ceil)
        snprintf(out->note, sizeof out->note,
                 "%d kv heads per layer do not divide the %d retrieval heads: zigzag takes %d retrieval layers "
                 "(%s, %d heads); floor %d layers = %d heads, ceil %d layers = %d heads",
                 H, out->duo_retrieval, out->zigzag_layers, zz_rounding_name(rounding), out->zigzag_layers * H,
                 out->layers_floor, out->layers_floor * H, out->layers_ceil, out->layers_ceil * H);
    return 0;
}
