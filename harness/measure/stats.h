/* Sample statistics and the stopping rule of a timed measurement.
 *
 * Statistics of n samples (any unit; the sampler below uses seconds):
 *   median      middle value; the mean of the two middle values for even n
 *   stdev       sample standard deviation (n-1 in the denominator); NAN for n < 2
 *   rel_stdev   stdev / mean
 *   noise       1.4826 * MAD / median (MAD: median absolute deviation from
 *               the median): a robust relative stdev, equal to rel_stdev for
 *               normal jitter, that one stalled sample does not move
 *   rel_spread  (max - min) / median: what a reader sees as "±", quoted in results
 * A ratio whose denominator is 0 is NAN.
 *
 * Stopping rule (nvbench's, with a robust noise): stop as converged once the
 * noise of ALL samples so far is <= max_noise, with at least min_samples
 * samples and min_time_s of GPU time (the samples summed); stop on timeout
 * once the wall time reaches timeout_s, whatever the noise. Convergence wins
 * when both hold. Why robust: a few stalled samples can keep a step's stdev
 * far above the target while its median holds (kernels/NOTES.md,
 * "Measurements behind design choices"). Relative spread is no stopping
 * criterion: it only grows.
 */
#ifndef ZZ_STATS_H
#define ZZ_STATS_H

#include <stddef.h>

#include "error.h"

typedef struct {
    size_t n;
    double median, min, max, mean, stdev;
    double rel_stdev, noise, rel_spread;
} zz_stats;

/* Fails on n == 0 or a non-finite sample. x is not modified. */
int zz_stats_of(const double *x, size_t n, zz_stats *out, zz_error *err);

typedef struct {
    double max_noise;   /* relative stdev target */
    int min_samples;
    double min_time_s;  /* GPU time: the samples summed */
    double timeout_s;   /* wall-time cap on the whole measurement */
} zz_stop_rule;

#define ZZ_STOP_RULE_DEFAULT ((zz_stop_rule){.max_noise = 0.005, .min_samples = 10, .min_time_s = 0.5, .timeout_s = 15})

/* Messages name the CLI flags (--max-noise, --min-samples, --min-time, --timeout). */
int zz_stop_rule_check(const zz_stop_rule *rule, zz_error *err);

typedef enum { ZZ_CONTINUE, ZZ_STOP_CONVERGED, ZZ_STOP_TIMEOUT } zz_verdict;

const char *zz_verdict_name(zz_verdict verdict);  /* "continue", "converged", "timeout" */

/* Collects the samples of one measurement. The noise needs sorting, so it
 * is recomputed after every sample up to 64 and then whenever the count has
 * grown by an eighth: amortised O(log n) per sample. Zero-initialise, add
 * samples, read the verdict, then take the statistics and free. */
typedef struct {
    double *samples, *scratch;  /* seconds; scratch for sorting */
    size_t n, cap;
    double noise;               /* as of noise_n samples */
    size_t noise_n;
    double gpu_time_s;
} zz_sampler;

/* Fails (and adds nothing) on a sample that is negative or not finite, or
 * when the buffer cannot grow. */
int zz_sampler_add(zz_sampler *s, double seconds, zz_error *err);
double zz_sampler_noise(const zz_sampler *s);  /* robust noise (above) as last computed; NAN under 2 samples */
/* wall_s: seconds since the measurement began, on the caller's clock. */
zz_verdict zz_sampler_verdict(const zz_sampler *s, const zz_stop_rule *rule, double wall_s);
int zz_sampler_stats(const zz_sampler *s, zz_stats *out, zz_error *err);
void zz_sampler_free(zz_sampler *s);

#endif
