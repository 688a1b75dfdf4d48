#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ratio(double num, double den) { return den != 0 ? num / den : NAN; }

static double median_of_sorted(const double *x, size_t n) {
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* 1.4826 * MAD / median of x[0..n), using scratch (n values); x is sorted in
 * place. 1.4826 makes the MAD of normal jitter equal its stdev. */
static double robust_noise(double *x, double *scratch, size_t n) {
    if (n < 2) return NAN;
    qsort(x, n, sizeof *x, compare_doubles);
    double median = median_of_sorted(x, n);
    for (size_t i = 0; i < n; i++) scratch[i] = fabs(x[i] - median);
    qsort(scratch, n, sizeof *scratch, compare_doubles);
    return ratio(1.4826 * median_of_sorted(scratch, n), median);
}

int zz_stats_of(const double *x, size_t n, zz_stats *out, zz_error *err) {
    if (n == 0) return zz_errorf(err, "statistics of no samples");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return zz_errorf(err, "sample %zu is %g, not a finite number", i, x[i]);
    double *sorted = malloc(2 * n * sizeof *sorted);
    if (!sorted) return zz_errorf(err, "out of memory sorting %zu samples", n);
    memcpy(sorted, x, n * sizeof *sorted);
    double noise = robust_noise(sorted, sorted + n, n);  /* sorts `sorted` */

    /* Two passes (mean, then deviations from it): a one-pass sum of squares
     * loses the digits of a small jitter on a large common offset. */
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += sorted[i];
    double mean = sum / n, m2 = 0;
    for (size_t i = 0; i < n; i++) m2 += (sorted[i] - mean) * (sorted[i] - mean);

    zz_stats s = {
        .n = n,
        .median = median_of_sorted(sorted, n),
        .min = sorted[0],
        .max = sorted[n - 1],
        .mean = mean,
        .stdev = n > 1 ? sqrt(m2 / (n - 1)) : NAN,
    };
    s.rel_stdev = ratio(s.stdev, s.mean);
    s.noise = noise;
    s.rel_spread = ratio(s.max - s.min, s.median);
    free(sorted);
    *out = s;
    return 0;
}

int zz_stop_rule_check(const zz_stop_rule *rule, zz_error *err) {
    if (!(rule->max_noise >= 0 && rule->max_noise < 1))
        return zz_errorf(err, "--max-noise %g out of range [0, 1) (a relative noise, 0.005 = 0.5 %%)",
                         rule->max_noise);
    if (rule->min_samples < 2)
        return zz_errorf(err, "--min-samples %d: at least 2 are needed for a standard deviation",
                         rule->min_samples);
    if (!(rule->min_time_s >= 0 && isfinite(rule->min_time_s)))
        return zz_errorf(err, "--min-time %g: seconds of GPU time, finite and >= 0", rule->min_time_s);
    if (!(rule->timeout_s > 0 && isfinite(rule->timeout_s)))
        return zz_errorf(err, "--timeout %g: seconds of wall time, finite and > 0", rule->timeout_s);
    return 0;
}

const char *zz_verdict_name(zz_verdict verdict) {
    static const char *const names[] = {
        [ZZ_CONTINUE] = "continue", [ZZ_STOP_CONVERGED] = "converged", [ZZ_STOP_TIMEOUT] = "timeout"};
    return names[verdict];
}

int zz_sampler_add(zz_sampler *s, double seconds, zz_error *err) {
    if (!(seconds >= 0 && isfinite(seconds)))
        return zz_errorf(err, "sample %zu is %g s, not a finite duration", s->n, seconds);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        double *grown = realloc(s->samples, cap * sizeof *grown);
        if (!grown) return zz_errorf(err, "out of memory keeping %zu samples", cap);
        s->samples = grown;
        /* scratch holds a copy to sort and the deviations: 2 * cap */
        double *scratch = realloc(s->scratch, 2 * cap * sizeof *scratch);
        if (!scratch) return zz_errorf(err, "out of memory keeping %zu samples", cap);
        s->scratch = scratch;
        s->cap = cap;
    }
    s->samples[s->n++] = seconds;
    s->gpu_time_s += seconds;
    if (s->n <= 64 || s->n >= s->noise_n + s->noise_n / 8) {
        memcpy(s->scratch, s->samples, s->n * sizeof *s->scratch);
        s->noise = robust_noise(s->scratch, s->scratch + s->n, s->n);
        s->noise_n = s->n;
    }
    return 0;
}

double zz_sampler_noise(const zz_sampler *s) { return s->n > 1 ? s->noise : NAN; }

zz_verdict zz_sampler_verdict(const zz_sampler *s, const zz_stop_rule *rule, double wall_s) {
    /* NAN noise (too few samples, or all zero) compares false: no convergence. */
    if (s->n >= (size_t)rule->min_samples && s->gpu_time_s >= rule->min_time_s &&
        zz_sampler_noise(s) <= rule->max_noise)
        return ZZ_STOP_CONVERGED;
    return wall_s >= rule->timeout_s ? ZZ_STOP_TIMEOUT : ZZ_CONTINUE;
}

int zz_sampler_stats(const zz_sampler *s, zz_stats *out, zz_error *err) {
    return zz_stats_of(s->samples, s->n, out, err);
}

void zz_sampler_free(zz_sampler *s) {
    free(s->samples);
    free(s->scratch);
    *s = (zz_sampler){0};
}
