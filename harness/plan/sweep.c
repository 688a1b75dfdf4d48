#include "sweep.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walks a list item by item; the item is [*item, *item + *len). Returns 1
 * while there is an item, 0 at the end, -1 on an empty list or item. */
typedef struct {
    const char *flag, *list, *next;
    int index;
} list_walk;

static int next_item(list_walk *w, const char **item, int *len, zz_error *err) {
    if (!w->next) return 0;
    if (!*w->list) return zz_errorf(err, "%s: empty list", w->flag);
    const char *comma = strchr(w->next, ',');
    *item = w->next;
    *len = comma ? (int)(comma - w->next) : (int)strlen(w->next);
    w->next = comma ? comma + 1 : NULL;
    w->index++;
    if (*len == 0) return zz_errorf(err, "%s: empty item %d in '%s'", w->flag, w->index, w->list);
    if (w->index > ZZ_MAX_LIST) return zz_errorf(err, "%s: more than %d items", w->flag, ZZ_MAX_LIST);
    return 1;
}

static int repeated(const char *flag, const char *item, int len, zz_error *err) {
    return zz_errorf(err, "%s: '%.*s' repeats an earlier item", flag, len, item);
}

static long long suffix_scale(const char *suffix, int len) {
    if (len == 0) return 1;
    if (len == 1 && tolower((unsigned char)*suffix) == 'k') return 1024;
    if (len == 1 && tolower((unsigned char)*suffix) == 'm') return 1024 * 1024;
    return 0;
}

/* Digits and a suffix, nothing else. Values beyond max (< LLONG_MAX)
 * saturate at max + 1, so overflow needs no case of its own. */
static long long parse_size(const char *s, int len, long long max, int *ok) {
    int digits = 0;
    long long v = 0;
    for (; digits < len && isdigit((unsigned char)s[digits]); digits++) {
        int d = s[digits] - '0';
        v = v > (max - d) / 10 ? max + 1 : v * 10 + d;
    }
    long long scale = suffix_scale(s + digits, len - digits);
    *ok = digits > 0 && scale > 0;
    return *ok && v > max / scale ? max + 1 : v * scale;
}

int zz_parse_sizes(const char *flag, const char *list, long long max, long long *out, int *n, zz_error *err) {
    list_walk w = {flag, list, list, 0};
    const char *item;
    int len, more, count = 0;
    while ((more = next_item(&w, &item, &len, err)) > 0) {
        int ok, negative = item[0] == '-';
        long long v = parse_size(item + negative, len - negative, max, &ok);
        if (!ok) return zz_errorf(err, "%s: '%.*s' is not a size (like 32768, 4k or 1m)", flag, len, item);
        if (negative || v == 0) return zz_errorf(err, "%s: '%.*s' must be positive", flag, len, item);
        if (v > max) return zz_errorf(err, "%s: '%.*s' is above the limit %lld", flag, len, item, max);
        for (int i = 0; i < count; i++)
            if (out[i] == v) return repeated(flag, item, len, err);
        out[count++] = v;
    }
    *n = count;
    return more;
}

int zz_parse_fractions(const char *flag, const char *list, double lo, double hi, double *out, int *n, zz_error *err) {
    list_walk w = {flag, list, list, 0};
    const char *item;
    int len, more, count = 0;
    while ((more = next_item(&w, &item, &len, err)) > 0) {
        char text[64], *end;
        snprintf(text, sizeof text, "%.*s", len, item);
        double v = strtod(text, &end);
        /* strtod skips leading space and reads "nan" and "inf": the range
         * check turns the last two away, the first is refused here. */
        if (len >= (int)sizeof text || *end || end == text || isspace((unsigned char)text[0]))
            return zz_errorf(err, "%s: '%.*s' is not a number", flag, len, item);
        if (!(v >= lo && v <= hi)) return zz_errorf(err, "%s: '%.*s' out of range [%g, %g]", flag, len, item, lo, hi);
        for (int i = 0; i < count; i++)
            if (out[i] == v) return repeated(flag, item, len, err);
        out[count++] = v;
    }
    *n = count;
    return more;
}

int zz_parse_names(const char *flag, const char *list, const char *const *allowed, int n_allowed, int *out, int *n,
                   zz_error *err) {
    list_walk w = {flag, list, list, 0};
    const char *item;
    int len, more, count = 0;
    while ((more = next_item(&w, &item, &len, err)) > 0) {
        int found = -1;
        for (int a = 0; a < n_allowed && found < 0; a++)
            if ((int)strlen(allowed[a]) == len && strncmp(allowed[a], item, len) == 0) found = a;
        if (found < 0) {
            char names[400] = "";
            for (int a = 0; a < n_allowed; a++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", a ? ", " : "", allowed[a]);
            return zz_errorf(err, "%s: unknown '%.*s' (one of: %s)", flag, len, item, names);
        }
        for (int i = 0; i < count; i++)
            if (out[i] == found) return repeated(flag, item, len, err);
        out[count++] = found;
    }
    *n = count;
    return more;
}

int zz_sweep_init(zz_sweep *s, const int *counts, int n_dims, zz_error *err) {
    if (n_dims < 0 || n_dims > ZZ_SWEEP_MAX_DIMS)
        return zz_errorf(err, "sweep of %d dimensions: at most %d", n_dims, ZZ_SWEEP_MAX_DIMS);
    zz_sweep sweep = {.n_dims = n_dims, .size = 1};
    for (int d = 0; d < n_dims; d++) {
        if (counts[d] < 1) return zz_errorf(err, "sweep dimension %d has %d values", d, counts[d]);
        if (counts[d] > ZZ_SWEEP_MAX_CONFIGS / sweep.size)
            return zz_errorf(err, "sweep of more than %d configurations", ZZ_SWEEP_MAX_CONFIGS);
        sweep.count[d] = counts[d];
        sweep.size *= counts[d];
    }
    *s = sweep;
    return 0;
}

void zz_sweep_coords(const zz_sweep *s, long long index, int *coords) {
    for (int d = s->n_dims - 1; d >= 0; d--) {
        coords[d] = (int)(index % s->count[d]);
        index /= s->count[d];
    }
}

long long zz_sweep_index(const zz_sweep *s, const int *coords) {
    long long index = 0;
    for (int d = 0; d < s->n_dims; d++) index = index * s->count[d] + coords[d];
    return index;
}
