/* Sample statistics against hand-computed values, and the stopping rule:
 * each of its conditions holds a measurement back on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "stats.h"

static void expect_message(const zz_error *err, const char *needle) {
    if (!strstr(err->msg, needle)) fail_msg("message '%s' lacks '%s'", err->msg, needle);
    assert_null(strchr(err->msg, '\n'));
}

static void test_statistics_of_an_odd_sample_with_an_outlier(void **state) {
    (void)state;
    double x[] = {3, 100, 1, 4, 2};
    zz_stats s;
    zz_error err = {""};
    assert_int_equal(zz_stats_of(x, 5, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_float_equal(s.median, 3, 0);
    assert_float_equal(s.min, 1, 0);
    assert_float_equal(s.max, 100, 0);
    assert_float_equal(s.mean, 22, 1e-12);
    /* Deviations -21 -20 -19 -18 78: squares sum to 7610, over n-1 = 4. */
    assert_float_equal(s.stdev, sqrt(7610.0 / 4), 1e-9);
    assert_float_equal(s.rel_stdev, sqrt(7610.0 / 4) / 22, 1e-12);
    assert_float_equal(s.rel_spread, 99.0 / 3, 1e-12);
}

static void test_even_median_is_the_mean_of_the_middle_two_and_input_is_untouched(void **state) {
    (void)state;
    double x[] = {4, 1, 3, 2};
    zz_stats s;
    zz_error err = {""};
    assert_int_equal(zz_stats_of(x, 4, &s, &err), 0);
    assert_float_equal(s.median, 2.5, 0);
    assert_float_equal(s.rel_spread, 3 / 2.5, 1e-12);
    assert_float_equal(x[0], 4, 0);
    assert_float_equal(x[1], 1, 0);
    assert_float_equal(x[2], 3, 0);
    assert_float_equal(x[3], 2, 0);
}

static void test_one_sample_has_no_stdev_and_zero_mean_has_no_ratio(void **state) {
    (void)state;
    zz_stats s;
    zz_error err = {""};
    double one = 7;
    assert_int_equal(zz_stats_of(&one, 1, &s, &err), 0);
    assert_float_equal(s.median, 7, 0);
    assert_true(isnan(s.stdev));
    assert_true(isnan(s.rel_stdev));
    assert_float_equal(s.rel_spread, 0, 0);

    double zeros[] = {0, 0, 0};
    assert_int_equal(zz_stats_of(zeros, 3, &s, &err), 0);
    assert_float_equal(s.stdev, 0, 0);
    assert_true(isnan(s.rel_stdev));
    assert_true(isnan(s.rel_spread));
}

static void test_bad_samples_are_refused(void **state) {
    (void)state;
    zz_stats s;
    zz_error err = {""};
    assert_int_equal(zz_stats_of(NULL, 0, &s, &err), -1);
    expect_message(&err, "no samples");
    double x[] = {1, 2, NAN};
    assert_int_equal(zz_stats_of(x, 3, &s, &err), -1);
    expect_message(&err, "sample 2 is nan");

    zz_sampler sampler = {0};
    assert_int_equal(zz_sampler_add(&sampler, -1e-6, &err), -1);
    expect_message(&err, "sample 0 is -1e-06 s");
    assert_int_equal(zz_sampler_add(&sampler, INFINITY, &err), -1);
    assert_int_equal(sampler.n, 0);
    assert_int_equal(zz_sampler_stats(&sampler, &s, &err), -1);
    zz_sampler_free(&sampler);
}

/* A fixed-seed LCG, so the test is the same everywhere. */
static double uniform(uint64_t *seed) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*seed >> 11) / 9007199254740992.0;
}

static void test_running_noise_matches_the_two_pass_statistics(void **state) {
    (void)state;
    /* 100 µs steps with 1 % jitter: a large common offset is where a naive
     * sum-of-squares variance loses its digits. More samples than the
     * buffer's first capacity, so it grows. */
    zz_sampler sampler = {0};
    zz_error err = {""};
    uint64_t seed = 42;
    for (int i = 0; i < 5000; i++)
        assert_int_equal(zz_sampler_add(&sampler, 100e-6 * (1 + 0.01 * (uniform(&seed) - 0.5)), &err), 0);
    zz_stats s;
    assert_int_equal(zz_sampler_stats(&sampler, &s, &err), 0);
    assert_int_equal(s.n, 5000);
    /* Uniform jitter of width 1 %: stdev 0.01/sqrt(12) of the mean; MAD a
     * quarter of the width, so noise 1.4826 * 0.0025. */
    assert_float_equal(s.rel_stdev, 0.01 / sqrt(12), 0.0002);
    assert_float_equal(s.noise, 1.4826 * 0.0025, 0.0002);
    /* The sampler recomputes its noise as the count grows by an eighth:
     * it lags the final statistics by at most that much data. */
    assert_true(sampler.noise_n > 5000 * 8 / 9 && sampler.noise_n <= 5000);
    assert_float_equal(zz_sampler_noise(&sampler), s.noise, 0.05 * s.noise);
    assert_float_equal(sampler.gpu_time_s, s.mean * 5000, 1e-12);
    zz_sampler_free(&sampler);
    assert_null(sampler.samples);
    assert_int_equal(sampler.n, 0);
}

static void add_all(zz_sampler *s, const double *x, int n) {
    zz_error err = {""};
    for (int i = 0; i < n; i++) assert_int_equal(zz_sampler_add(s, x[i], &err), 0);
}

static void test_each_condition_of_the_rule_holds_the_measurement_back(void **state) {
    (void)state;
    const zz_stop_rule rule = {.max_noise = 0.01, .min_samples = 4, .min_time_s = 0.3, .timeout_s = 10};
    const double quiet[] = {0.1, 0.1, 0.1, 0.1};  /* noise 0, 0.4 s of GPU time */

    zz_sampler s = {0};
    add_all(&s, quiet, 3);  /* too few samples */
    assert_int_equal(zz_sampler_verdict(&s, &rule, 1), ZZ_CONTINUE);
    add_all(&s, quiet + 3, 1);
    assert_int_equal(zz_sampler_verdict(&s, &rule, 1), ZZ_STOP_CONVERGED);
    zz_sampler_free(&s);

    const double short_steps[] = {0.01, 0.01, 0.01, 0.01};  /* quiet but 0.04 s of GPU time */
    add_all(&s, short_steps, 4);
    assert_int_equal(zz_sampler_verdict(&s, &rule, 1), ZZ_CONTINUE);
    zz_sampler_free(&s);

    const double noisy[] = {0.1, 0.12, 0.1, 0.12};  /* noise about 10 % */
    add_all(&s, noisy, 4);
    assert_true(zz_sampler_noise(&s) > 0.05);
    assert_int_equal(zz_sampler_verdict(&s, &rule, 9.99), ZZ_CONTINUE);
    assert_int_equal(zz_sampler_verdict(&s, &rule, 10), ZZ_STOP_TIMEOUT);
    zz_stats st;
    zz_error err = {""};
    assert_int_equal(zz_sampler_stats(&s, &st, &err), 0);  /* a timed-out measurement still has stats */
    assert_float_equal(st.median, 0.11, 1e-12);
    zz_sampler_free(&s);

    add_all(&s, quiet, 4);
    assert_int_equal(zz_sampler_verdict(&s, &rule, 60), ZZ_STOP_CONVERGED);  /* convergence wins */
    zz_sampler_free(&s);
}

static void test_noise_at_the_target_converges(void **state) {
    (void)state;
    /* Samples 1 ± d: median 1, every deviation d, so noise 1.4826 d. */
    double x[10];
    for (int i = 0; i < 10; i++) x[i] = 1 + (i % 2 ? 1 : -1) * 0.003;
    zz_sampler s = {0};
    add_all(&s, x, 10);
    double noise = 1.4826 * 0.003;
    assert_float_equal(zz_sampler_noise(&s), noise, 1e-12);
    zz_stop_rule rule = ZZ_STOP_RULE_DEFAULT;
    assert_int_equal(zz_sampler_verdict(&s, &rule, 0), ZZ_STOP_CONVERGED);  /* 0.44 % <= 0.5 % */
    rule.max_noise = 0.004;
    assert_int_equal(zz_sampler_verdict(&s, &rule, 0), ZZ_CONTINUE);
    zz_sampler_free(&s);
    assert_string_equal(zz_verdict_name(ZZ_STOP_TIMEOUT), "timeout");
    assert_string_equal(zz_verdict_name(ZZ_STOP_CONVERGED), "converged");
}

/* What the robust noise is for: a few stalled samples (seen on the H100)
 * blow up the relative stdev but must not keep a steady measurement from
 * converging; the median stays put. */
static void test_stalled_samples_do_not_block_convergence(void **state) {
    (void)state;
    zz_sampler s = {0};
    zz_error err = {""};
    uint64_t seed = 7;
    for (int i = 0; i < 300; i++)
        assert_int_equal(zz_sampler_add(&s, i % 100 == 50 ? 0.05 : 0.0017 * (1 + 0.002 * (uniform(&seed) - 0.5)), &err), 0);
    zz_stats st;
    assert_int_equal(zz_sampler_stats(&s, &st, &err), 0);
    assert_true(st.rel_stdev > 0.5);   /* three 30x stalls */
    assert_true(st.noise < 0.002);
    assert_float_equal(st.median, 0.0017, 0.0017 * 0.002);
    zz_stop_rule rule = ZZ_STOP_RULE_DEFAULT;
    assert_int_equal(zz_sampler_verdict(&s, &rule, 1), ZZ_STOP_CONVERGED);
    zz_sampler_free(&s);
}

static void expect_bad_rule(zz_stop_rule rule, const char *needle) {
    zz_error err = {""};
    assert_int_equal(zz_stop_rule_check(&rule, &err), -1);
    expect_message(&err, needle);
}

static void test_rule_defaults_and_validation(void **state) {
    (void)state;
    const zz_stop_rule def = ZZ_STOP_RULE_DEFAULT;
    assert_float_equal(def.max_noise, 0.005, 0);
    assert_int_equal(def.min_samples, 10);
    assert_float_equal(def.min_time_s, 0.5, 0);
    assert_float_equal(def.timeout_s, 15, 0);
    zz_error err = {""};
    assert_int_equal(zz_stop_rule_check(&def, &err), 0);

    zz_stop_rule r = def;
    r.max_noise = -0.1;
    expect_bad_rule(r, "--max-noise -0.1");
    r.max_noise = NAN;
    expect_bad_rule(r, "--max-noise nan");
    r = def;
    r.min_samples = 1;
    expect_bad_rule(r, "--min-samples 1");
    r = def;
    r.min_time_s = -1;
    expect_bad_rule(r, "--min-time -1");
    r = def;
    r.timeout_s = 0;
    expect_bad_rule(r, "--timeout 0");
    r.timeout_s = INFINITY;
    expect_bad_rule(r, "--timeout inf");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statistics_of_an_odd_sample_with_an_outlier),
        cmocka_unit_test(test_even_median_is_the_mean_of_the_middle_two_and_input_is_untouched),
        cmocka_unit_test(test_one_sample_has_no_stdev_and_zero_mean_has_no_ratio),
        cmocka_unit_test(test_bad_samples_are_refused),
        cmocka_unit_test(test_running_noise_matches_the_two_pass_statistics),
        cmocka_unit_test(test_each_condition_of_the_rule_holds_the_measurement_back),
        cmocka_unit_test(test_noise_at_the_target_converges),
        cmocka_unit_test(test_stalled_samples_do_not_block_convergence),
        cmocka_unit_test(test_rule_defaults_and_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
