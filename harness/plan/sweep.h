/* Sweep lists of the run CLI and their cross product.
 *
 * A list is comma-separated items with no spaces ("4k,16k,64k"). Parsers
 * fill caller arrays of ZZ_MAX_LIST entries, in the order given, and fail
 * with one line naming the flag and the bad item on: an empty list or
 * item, a bad item, more than ZZ_MAX_LIST items, an item repeated (which
 * would only measure a configuration twice).
 *   sizes      decimal integers, optional suffix k/K (×1024) or m/M
 *              (×1024²): 32768, 4k, 128K, 1m; from 1 to the caller's max (< LLONG_MAX)
 *   fractions  decimal numbers within [lo, hi]: 0.25,0.5
 *   names      exactly one of an allowed set; the index into that set
 *
 * The cross product: dimensions each with a count; configuration i of N
 * maps to one value index per dimension, the last dimension varying
 * fastest, like nested loops written in dimension order.
 */
#ifndef ZZ_SWEEP_H
#define ZZ_SWEEP_H

#include "error.h"

#define ZZ_MAX_LIST 64

int zz_parse_sizes(const char *flag, const char *list, long long max, long long *out, int *n, zz_error *err);
int zz_parse_fractions(const char *flag, const char *list, double lo, double hi, double *out, int *n, zz_error *err);
int zz_parse_names(const char *flag, const char *list, const char *const *allowed, int n_allowed, int *out, int *n,
                   zz_error *err);

#define ZZ_SWEEP_MAX_DIMS    8
#define ZZ_SWEEP_MAX_CONFIGS 1000000

typedef struct {
    int n_dims;
    int count[ZZ_SWEEP_MAX_DIMS];
    long long size;  /* configurations: the product of the counts (1 with no dimension) */
} zz_sweep;

int zz_sweep_init(zz_sweep *s, const int *counts, int n_dims, zz_error *err);
/* index in 0 .. size-1; coords[n_dims] */
void zz_sweep_coords(const zz_sweep *s, long long index, int *coords);
long long zz_sweep_index(const zz_sweep *s, const int *coords);

#endif
