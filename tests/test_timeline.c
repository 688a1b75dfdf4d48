/* Attribution of kernel records to steps, layers and categories on synthetic
 * timelines with hand-computed accounts, its error messages, and the split
 * overhead decomposition adding up exactly on noisy data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kernel_tags.h"
#include "timeline.h"

static void expect_message(const zz_error *err, const char *needle) {
    if (!strstr(err->msg, needle)) fail_msg("message '%s' lacks '%s'", err->msg, needle);
    assert_null(strchr(err->msg, '\n'));
}

/* A duo-cat-like step of two layers: layer 0 mixed, layer 1 streaming only.
 * The decode kernel serves both head groups of layer 0. */
static const zz_launch mixed_step[] = {
    {0, ZZ_CAT_CACHE, "cache_append_kernel", 100, 0},
    {0, ZZ_CAT_CACHE, "cache_ring_kernel", 10, 0},
    {0, ZZ_CAT_ATTN_FULL, "decode_split_kernel", 1000, 4000},
    {0, ZZ_CAT_ATTN_STREAMING, "decode_split_kernel", 200, 800},
    {0, ZZ_CAT_COPY, "concat_kernel", 50, 0},
    {1, ZZ_CAT_CACHE, "cache_ring_kernel", 10, 0},
    {1, ZZ_CAT_ATTN_STREAMING, "decode_split_kernel", 400, 1600},
    {1, ZZ_CAT_COMBINE, "combine_kernel", 30, 0},
};
#define MIXED_LAUNCHES 8

static const char *const kernel_names[] = {
    "_Z19cache_append_kernelP13__nv_bfloat16PKS_ii",
    "_Z17cache_ring_kernelP13__nv_bfloat16PKS_iii",
    "_Z19decode_split_kernelPK13__nv_bfloat16S1_S1_PS_iiii",
    "_Z19decode_split_kernelPK13__nv_bfloat16S1_S1_PS_iiii",
    "_Z13concat_kernelP13__nv_bfloat16PKS_S2_ii",
    "_Z17cache_ring_kernelP13__nv_bfloat16PKS_iii",
    "_Z19decode_split_kernelPK13__nv_bfloat16S1_S1_PS_iiii",
    "_Z14combine_kernelP13__nv_bfloat16PKfii",
};

#define MAX_RECORDS 4096
typedef struct {
    zz_kernel_record rec[MAX_RECORDS];
    size_t n;
    uint64_t clock_ns;  /* where the next kernel may start */
} recorder;

static void record(recorder *r, const char *name, uint64_t gap_ns, uint64_t duration_ns, uint32_t stream) {
    assert_true(r->n < MAX_RECORDS);
    r->clock_ns += gap_ns;
    r->rec[r->n++] = (zz_kernel_record){name, r->clock_ns, r->clock_ns + duration_ns, stream};
    r->clock_ns += duration_ns;
}

/* One step of mixed_step: launch k runs dur[k] ns after a gap of gap[k] ns. */
static void record_step(recorder *r, const uint64_t *gap, const uint64_t *dur) {
    for (int k = 0; k < MIXED_LAUNCHES; k++) record(r, kernel_names[k], gap[k], dur[k], 7);
}

static const uint64_t dur1[MIXED_LAUNCHES] = {1000, 500, 20000, 3000, 2000, 500, 6000, 1500};
static const uint64_t gap1[MIXED_LAUNCHES] = {300, 200, 200, 200, 200, 200, 200, 200};
/* kernels 34500; the span holds them and the 7 gaps after the first
 * (1400); the events add the first gap (300) and 800 more around it */
#define STEP1_LATENCY 37000
#define STEP1_SPAN    35900

static void test_one_step_is_accounted_by_category_layer_and_kernel(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    assert_int_equal(t.n_layers, 2);
    recorder r = {.clock_ns = 1000000};
    record_step(&r, gap1, dur1);
    uint64_t latency = STEP1_LATENCY;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, &latency, 1, &err), 0);

    const zz_step_time *st = &t.steps[0];
    assert_float_equal(st->kernel_ns[ZZ_CAT_CACHE], 1000 + 500 + 500, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_ATTN_FULL], 20000, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_ATTN_STREAMING], 3000 + 6000, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_COPY], 2000, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_COMBINE], 1500, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_OTHER], 0, 0);
    assert_float_equal(st->kernel_total_ns, 34500, 0);
    assert_float_equal(st->busy_ns, 34500, 0);
    assert_float_equal(st->overlap_ns, 0, 0);
    /* The span starts at the first kernel: the gap before it is outside. */
    assert_float_equal(st->span_ns, STEP1_SPAN, 0);
    assert_float_equal(st->idle_ns, 1400, 0);
    assert_float_equal(st->outside_ns, STEP1_LATENCY - STEP1_SPAN, 0);
    assert_float_equal(st->latency_ns, STEP1_LATENCY, 0);

    zz_timeline_summary sum;
    assert_int_equal(zz_timeline_summarize(&t, &sum, &err), 0);
    assert_int_equal(sum.gap.n, MIXED_LAUNCHES - 1);  /* boundaries, not launches */
    assert_float_equal(sum.gap.median, 200, 0);
    assert_float_equal(sum.gap.min, 200, 0);

    double layer_ns[2];
    assert_int_equal(zz_timeline_layer_medians(&t, layer_ns, &err), 0);
    assert_float_equal(layer_ns[0], 1000 + 500 + 20000 + 3000 + 2000, 0);
    assert_float_equal(layer_ns[1], 500 + 6000 + 1500, 0);

    zz_kernel_summary *rows;
    size_t n_rows;
    assert_int_equal(zz_timeline_kernels(&t, &rows, &n_rows, &err), 0);
    /* decode as attn-full, decode as attn-streaming, append, ring, concat, combine */
    assert_int_equal(n_rows, 6);
    assert_string_equal(rows[0].name, kernel_names[2]);
    assert_int_equal(rows[0].category, ZZ_CAT_ATTN_FULL);
    assert_float_equal(rows[0].total_ns, 20000, 0);
    assert_float_equal(rows[0].flops, 4000, 0);
    assert_int_equal(rows[1].category, ZZ_CAT_ATTN_STREAMING);
    assert_int_equal(rows[1].launches, 2);
    assert_float_equal(rows[1].total_ns, 9000, 0);
    assert_float_equal(rows[1].median_ns, 4500, 0);
    assert_float_equal(rows[1].bytes, 600, 0);
    assert_float_equal(rows[1].flops, 2400, 0);
    for (size_t i = 1; i < n_rows; i++) assert_true(rows[i - 1].total_ns >= rows[i].total_ns);
    size_t ring = n_rows;
    for (size_t i = 0; i < n_rows; i++)
        if (strstr(rows[i].name, "cache_ring_kernel")) ring = i;
    assert_true(ring < n_rows);
    assert_int_equal(rows[ring].launches, 2);
    assert_float_equal(rows[ring].total_ns, 1000, 0);
    assert_float_equal(rows[ring].bytes, 20, 0);
    free(rows);
    zz_timeline_free(&t);
}

static void test_records_out_of_order_and_of_other_streams_give_the_same_account(void **state) {
    (void)state;
    recorder r = {.clock_ns = 5000};
    uint64_t latency[2] = {STEP1_LATENCY, STEP1_LATENCY};
    record_step(&r, gap1, dur1);
    record_step(&r, gap1, dur1);
    zz_timeline in_order;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&in_order, mixed_step, MIXED_LAUNCHES, &err), 0);
    assert_int_equal(zz_timeline_add(&in_order, r.rec, r.n, 7, latency, 2, &err), 0);

    /* Reverse the records and slip an L2 flush of stream 3 between them. */
    recorder shuffled = {0};
    for (size_t i = r.n; i-- > 0;) {
        shuffled.rec[shuffled.n++] = r.rec[i];
        if (i == 9) shuffled.rec[shuffled.n++] = (zz_kernel_record){"flush_l2_kernel", 40000, 60000, 3};
    }
    zz_timeline t;
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    assert_int_equal(zz_timeline_add(&t, shuffled.rec, shuffled.n, 7, latency, 2, &err), 0);
    assert_int_equal(t.n_steps, 2);
    assert_memory_equal(t.steps, in_order.steps, 2 * sizeof *t.steps);
    assert_memory_equal(t.duration_ns, in_order.duration_ns, 2 * MIXED_LAUNCHES * sizeof *t.duration_ns);

    zz_kernel_summary *rows;
    size_t n_rows;
    assert_int_equal(zz_timeline_kernels(&t, &rows, &n_rows, &err), 0);
    assert_int_equal(n_rows, 6);
    assert_int_equal(rows[1].category, ZZ_CAT_ATTN_STREAMING);
    assert_int_equal(rows[1].launches, 4);  /* 3000, 6000 per step */
    assert_float_equal(rows[1].total_ns, 18000, 0);
    assert_float_equal(rows[1].median_ns, 4500, 0);
    /* Append (1000 per step) and ring (2 × 500) tie last: by name then. */
    assert_float_equal(rows[4].total_ns, 2000, 0);
    assert_float_equal(rows[5].total_ns, 2000, 0);
    assert_string_equal(rows[4].name, kernel_names[1]);
    assert_string_equal(rows[5].name, kernel_names[0]);
    free(rows);
    zz_timeline_free(&t);
    zz_timeline_free(&in_order);
}

static void test_a_wrong_kernel_names_step_position_and_both_names(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    recorder r = {0};
    uint64_t latency[2] = {STEP1_LATENCY, STEP1_LATENCY};
    record_step(&r, gap1, dur1);
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 1, &err), 0);

    /* Second add: two steps, the concat of the second one replaced. */
    r.n = 0;
    record_step(&r, gap1, dur1);
    record_step(&r, gap1, dur1);
    r.rec[MIXED_LAUNCHES + 4].name = "_Z11copy_kernelPvPKvm";
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "step 2, launch 4 (layer 0, copy): expected a kernel named like 'concat_kernel', "
                         "found '_Z11copy_kernelPvPKvm'");
    assert_int_equal(t.n_steps, 1);  /* nothing of the failed add was kept */

    /* A kernel missing from layer 1: everything after it shifts. */
    r.n = 0;
    record_step(&r, gap1, dur1);
    memmove(&r.rec[5], &r.rec[6], 2 * sizeof r.rec[0]);
    r.n--;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 1, &err), -1);
    expect_message(&err, "step 1, launch 5 (layer 1, cache): expected a kernel named like 'cache_ring_kernel'");
    zz_timeline_free(&t);
}

/* The four prefill kernels, each under the name nvcc gives it (D 128; the
 * names CUPTI reports): a launch is attributed to a record of its own
 * kernel, and refused one of any other, so a mixed layer that ran the FA2
 * fused kernel where its tag says the Hopper one (or the plain Hopper
 * kernel where it says the fused one) fails the measurement. */
static void test_prefill_tags_tell_the_prefill_kernels_apart(void **state) {
    (void)state;
    static const struct { const char *tag, *name; } kernels[] = {
        {TAG_PREFILL, "_Z14prefill_kernelILi128EEv13PrefillParams"},
        {TAG_PREFILL_HOPPER, "_Z21prefill_hopper_kernelILi128EEv14CUtensorMap_stS0_S0_12HopperParams"},
        {TAG_FUSED_PREFILL, "_Z20prefill_fused_kernelILi128EEv18FusedPrefillParams"},
        {TAG_FUSED_PREFILL_HOPPER,
         "_Z27prefill_hopper_fused_kernelILi128EEv14CUtensorMap_stS0_S0_S0_S0_17HopperFusedParams"},
    };
    const int n = (int)(sizeof kernels / sizeof kernels[0]);
    for (int l = 0; l < n; l++)
        for (int k = 0; k < n; k++) {
            const zz_launch launch[] = {{0, ZZ_CAT_ATTN_FULL, kernels[l].tag, 0, 0}};
            const zz_kernel_record rec[] = {{kernels[k].name, 100, 180, 1}};
            const uint64_t latency[] = {95};
            zz_timeline t;
            zz_error err = {""};
            assert_int_equal(zz_timeline_init(&t, launch, 1, &err), 0);
            const int rc = zz_timeline_add(&t, rec, 1, 1, latency, 1, &err);
            if (rc != (l == k ? 0 : -1))
                fail_msg("tag '%s' against kernel %s: %s", kernels[l].tag, kernels[k].name,
                         rc ? err.msg : "attributed");
            if (rc) expect_message(&err, "expected a kernel named like");
            zz_timeline_free(&t);
        }
}

static void test_a_wrong_record_count_says_how_many(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    recorder r = {0};
    uint64_t latency[2] = {STEP1_LATENCY, STEP1_LATENCY};
    record_step(&r, gap1, dur1);
    record(&r, "flush_l2_kernel", 100, 100, 3);
    record(&r, kernel_names[0], 100, 100, 7);  /* a step that has begun but not ended */
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 1, &err), -1);
    expect_message(&err, "9 kernel records on stream 7 for 1 steps of 8 launches: expected 8 "
                         "(1 records of other streams ignored)");
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "9 kernel records on stream 7 for 2 steps of 8 launches: expected 16");
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 5, latency, 1, &err), -1);
    expect_message(&err, "0 kernel records on stream 5");
    assert_int_equal(t.n_steps, 0);
    zz_timeline_free(&t);
}

static void test_overlapping_kernels_count_once_in_the_union(void **state) {
    (void)state;
    static const zz_launch four[] = {
        {0, ZZ_CAT_ATTN_FULL, "a", 0, 0},
        {0, ZZ_CAT_ATTN_STREAMING, "b", 0, 0},
        {1, ZZ_CAT_COPY, "c", 0, 0},
        {1, ZZ_CAT_OTHER, "d", 0, 0},
    };
    /* [0,10] and [5,20] overlap; [30,40] contains [32,35]. */
    const zz_kernel_record rec[] = {
        {"a", 1000, 1010, 0}, {"b", 1005, 1020, 0}, {"c", 1030, 1040, 0}, {"d", 1032, 1035, 0}};
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, four, 4, &err), 0);
    uint64_t latency = 50;
    assert_int_equal(zz_timeline_add(&t, rec, 4, 0, &latency, 1, &err), 0);
    const zz_step_time *st = &t.steps[0];
    assert_float_equal(st->kernel_total_ns, 10 + 15 + 10 + 3, 0);
    assert_float_equal(st->busy_ns, 20 + 10, 0);
    assert_float_equal(st->overlap_ns, 8, 0);
    assert_float_equal(st->span_ns, 40, 0);
    assert_float_equal(st->idle_ns, 10, 0);  /* [20,30]: the one gap inside the span */
    assert_float_equal(st->outside_ns, 10, 0);
    /* Boundary gaps against the latest end so far: 1005-1010, 1030-1020, 1032-1040. */
    zz_timeline_summary sum;
    assert_int_equal(zz_timeline_summarize(&t, &sum, &err), 0);
    assert_int_equal(sum.gap.n, 3);
    assert_float_equal(sum.gap.min, -8, 0);
    assert_float_equal(sum.gap.median, -5, 0);
    assert_float_equal(sum.gap.max, 10, 0);
    zz_timeline_free(&t);
}

static void test_a_one_launch_step_has_no_boundaries(void **state) {
    (void)state;
    static const zz_launch one[] = {{0, ZZ_CAT_ATTN_FULL, "a", 0, 0}};
    const zz_kernel_record rec[] = {{"a", 100, 180, 1}, {"a", 300, 390, 1}};
    const uint64_t latency[] = {95, 97};
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, one, 1, &err), 0);
    assert_int_equal(zz_timeline_add(&t, rec, 2, 1, latency, 2, &err), 0);
    zz_timeline_summary sum;
    assert_int_equal(zz_timeline_summarize(&t, &sum, &err), 0);
    assert_int_equal(sum.gap.n, 0);
    assert_float_equal(sum.median_step.span_ns, 85, 0);  /* mean of 80 and 90 */
    assert_float_equal(sum.median_step.idle_ns, 0, 0);
    assert_float_equal(sum.median_step.outside_ns, 11, 0);  /* mean of 15 and 7 */
    zz_timeline_free(&t);
}

static void test_kernels_longer_than_the_step_fail_beyond_the_clock_slack(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    recorder r = {0};
    record_step(&r, gap1, dur1);
    /* span 35900; latency L may fall short of it by 2000 + L/1000 ns. */
    uint64_t latency = 33867;  /* short by 2033 <= 2033.867 */
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, &latency, 1, &err), 0);
    assert_float_equal(t.steps[0].outside_ns, -2033, 0);  /* kept as measured */
    latency = 33866;  /* short by 2034 > 2033.866 */
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, &latency, 1, &err), -1);
    expect_message(&err, "step 1: kernels span 35.900 us, more than the event-timed latency 33.866 us"
                         " by over the 2.034 us clock slack");
    zz_timeline_free(&t);
}

static void test_bad_launch_lists_are_refused(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, 0, &err), -1);
    expect_message(&err, "a step of 0 launches");
    zz_launch bad[] = {{0, ZZ_CAT_COPY, "x", 0, 0}, {ZZ_MAX_LAYERS, ZZ_CAT_COPY, "x", 0, 0}};
    assert_int_equal(zz_timeline_init(&t, bad, 2, &err), -1);
    expect_message(&err, "launch 1: layer 128 out of range");
    bad[1] = (zz_launch){1, ZZ_CAT_COPY, "", 0, 0};
    assert_int_equal(zz_timeline_init(&t, bad, 2, &err), -1);
    expect_message(&err, "launch 1: empty kernel name tag");
    bad[1] = (zz_launch){1, (zz_category)ZZ_CATEGORIES, "x", 0, 0};
    assert_int_equal(zz_timeline_init(&t, bad, 2, &err), -1);
    expect_message(&err, "launch 1: category");
}

/* A model-step-like step of two layers: cuBLASLt GEMMs (library launches)
 * around a decode launch and norms, the LM-head GEMM last in the step. */
static const zz_launch model_step[] = {
    {0, ZZ_CAT_OTHER, TAG_RMSNORM, 10, 0},
    {0, ZZ_CAT_OTHER, TAG_LINEAR, 1000, 8000, 1},  /* qkv-proj */
    {0, ZZ_CAT_ATTN_FULL, TAG_DECODE, 500, 2000},
    {0, ZZ_CAT_OTHER, TAG_LINEAR, 2000, 16000, 1}, /* o-proj */
    {1, ZZ_CAT_OTHER, TAG_RMSNORM, 10, 0},
    {1, ZZ_CAT_OTHER, TAG_LINEAR, 3000, 24000, 1}, /* lm-head */
};
#define MODEL_LAUNCHES 6

static const char *const rmsnorm_name = "_Z14rmsnorm_kernelILi8EEvPK13__nv_bfloat16S2_PS0_if";
static const char *const decode_name = "_Z19decode_split_kernelPK13__nv_bfloat16S1_S1_PS_iiii";
static const char *const gemm_name = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x64x64_warpgroupsize1x1x1_"
                                     "execute_segment_k_off_kernel__5x_cublas";
static const char *const splitk_name = "_ZN8cublasLt19splitKreduce_kernelILi32ELi16EiffffLb0ELb1ELb0ELb0EEEvNS_18"
                                       "cublasSplitKParamsIT2_EEPKT3_PKT1_PS8_PKS4_SD_PKT4_SA_PSE_PvlPS4_Pi";

/* Step 0: qkv one kernel, o-proj a kernel and its split-K reduction, lm-head
 * one; step 1: qkv two, o-proj one, lm-head two. The gaps inside a GEMM
 * (100; 50 and 150) are idle, not boundaries; boundary 3 of step 0 is 700. */
static const struct {
    const char *const *name;
    uint64_t gap, duration;
} model_steps[2][8] = {
    {{&rmsnorm_name, 300, 1000}, {&gemm_name, 200, 5000}, {&decode_name, 200, 3000}, {&gemm_name, 200, 4000},
     {&splitk_name, 100, 500}, {&rmsnorm_name, 700, 1000}, {&gemm_name, 200, 6000}},
    {{&rmsnorm_name, 300, 1000}, {&gemm_name, 200, 4000}, {&splitk_name, 50, 300}, {&decode_name, 200, 3000},
     {&gemm_name, 200, 4500}, {&rmsnorm_name, 200, 1000}, {&gemm_name, 200, 5000}, {&splitk_name, 150, 400}},
};
static const int model_step_records[2] = {7, 8};
/* kernels 20500, idle 1600; kernels 19200, idle 1200 */
#define MODEL_SPAN0 22100
#define MODEL_SPAN1 20400

static void record_model_step(recorder *r, int step) {
    for (int i = 0; i < model_step_records[step]; i++)
        record(r, *model_steps[step][i].name, model_steps[step][i].gap, model_steps[step][i].duration, 7);
}

static void record_model_steps(recorder *r) {
    *r = (recorder){.clock_ns = 1000000};
    record_model_step(r, 0);
    record_model_step(r, 1);
}

static const zz_kernel_summary *row_named(const zz_kernel_summary *rows, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name)) return &rows[i];
    fail_msg("no kernels.csv row for %s", name);
    return NULL;
}

static void test_library_launches_take_each_of_their_kernels(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, model_step, MODEL_LAUNCHES, &err), 0);
    assert_int_equal(t.n_library, 3);
    recorder r;
    record_model_steps(&r);
    /* an L2 flush of another stream among them changes nothing */
    r.rec[r.n++] = (zz_kernel_record){"flush_l2_kernel", 1001000, 1030000, 3};
    const uint64_t latency[2] = {MODEL_SPAN0 + 900, MODEL_SPAN1 + 600};
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), 0);
    assert_int_equal(t.n_steps, 2);
    assert_int_equal(t.n_records, 15);

    const zz_step_time *st = &t.steps[0];
    assert_float_equal(st->kernel_ns[ZZ_CAT_OTHER], 1000 + 5000 + 4000 + 500 + 1000 + 6000, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_ATTN_FULL], 3000, 0);
    assert_float_equal(st->kernel_total_ns, 20500, 0);
    assert_float_equal(st->busy_ns, 20500, 0);
    assert_float_equal(st->overlap_ns, 0, 0);
    assert_float_equal(st->span_ns, MODEL_SPAN0, 0);
    assert_float_equal(st->idle_ns, 200 + 200 + 200 + 100 + 700 + 200, 0);
    assert_float_equal(st->outside_ns, 900, 0);
    st = &t.steps[1];
    assert_float_equal(st->kernel_ns[ZZ_CAT_OTHER], 1000 + 4000 + 300 + 4500 + 1000 + 5000 + 400, 0);
    assert_float_equal(st->kernel_ns[ZZ_CAT_ATTN_FULL], 3000, 0);
    assert_float_equal(st->span_ns, MODEL_SPAN1, 0);
    assert_float_equal(st->idle_ns, 200 + 50 + 200 + 200 + 200 + 200 + 150, 0);
    assert_float_equal(st->outside_ns, 600, 0);
    for (int s = 0; s < 2; s++) {
        st = &t.steps[s];
        double parts = st->idle_ns - st->overlap_ns;
        for (int c = 0; c < ZZ_CATEGORIES; c++) parts += st->kernel_ns[c];
        assert_true(parts == st->span_ns);
        assert_true(st->span_ns + st->outside_ns == st->latency_ns);
    }
    /* a launch's duration is its records' sum */
    const double duration[2][MODEL_LAUNCHES] = {{1000, 5000, 3000, 4500, 1000, 6000},
                                                {1000, 4300, 3000, 4500, 1000, 5400}};
    assert_memory_equal(t.duration_ns, duration, sizeof duration);

    /* 5 boundaries per step, against the latest end before them: 200 each
     * but boundary 3 of step 0 (700); the gaps inside a GEMM are not among them */
    zz_timeline_summary sum;
    assert_int_equal(zz_timeline_summarize(&t, &sum, &err), 0);
    assert_int_equal(sum.launches, MODEL_LAUNCHES);
    assert_int_equal(sum.gap.n, 10);
    assert_float_equal(sum.gap.min, 200, 0);
    assert_float_equal(sum.gap.median, 200, 0);
    assert_float_equal(sum.gap.max, 700, 0);
    assert_float_equal(t.gap_ns[3], 700, 0);
    assert_float_equal(t.gap_ns[MODEL_LAUNCHES + 1], 200, 0);  /* step 1, after the reduction's end */

    double layer_ns[2];
    assert_int_equal(zz_timeline_layer_medians(&t, layer_ns, &err), 0);
    assert_float_equal(layer_ns[0], (13500 + 12800) / 2.0, 0);
    assert_float_equal(layer_ns[1], (7000 + 6400) / 2.0, 0);

    /* a row per kernel name: the reduction is its own kernel; each GEMM's
     * bytes and FLOPs go to its first (main) kernel's row */
    zz_kernel_summary *rows;
    size_t n_rows;
    assert_int_equal(zz_timeline_kernels(&t, &rows, &n_rows, &err), 0);
    assert_int_equal(n_rows, 4);
    assert_string_equal(rows[0].name, gemm_name);
    assert_int_equal(rows[0].category, ZZ_CAT_OTHER);
    assert_int_equal(rows[0].launches, 6);
    assert_float_equal(rows[0].total_ns, 5000 + 4000 + 6000 + 4000 + 4500 + 5000, 0);
    assert_float_equal(rows[0].median_ns, 4750, 0);
    assert_float_equal(rows[0].bytes, 2 * (1000 + 2000 + 3000), 0);
    assert_float_equal(rows[0].flops, 2 * (8000 + 16000 + 24000), 0);
    const zz_kernel_summary *splitk = row_named(rows, n_rows, splitk_name);
    assert_int_equal(splitk->category, ZZ_CAT_OTHER);
    assert_int_equal(splitk->launches, 3);
    assert_float_equal(splitk->total_ns, 500 + 300 + 400, 0);
    assert_float_equal(splitk->median_ns, 400, 0);
    assert_float_equal(splitk->bytes, 0, 0);
    assert_float_equal(splitk->flops, 0, 0);
    const zz_kernel_summary *norm = row_named(rows, n_rows, rmsnorm_name);
    assert_int_equal(norm->launches, 4);
    assert_float_equal(norm->bytes, 40, 0);
    const zz_kernel_summary *decode = row_named(rows, n_rows, decode_name);
    assert_int_equal(decode->category, ZZ_CAT_ATTN_FULL);
    assert_float_equal(decode->total_ns, 6000, 0);
    assert_float_equal(decode->flops, 4000, 0);
    free(rows);
    zz_timeline_free(&t);
}

/* A library launch first in the step: the step ends where its first
 * kernel begins the next one. */
static void test_a_library_launch_may_open_the_step(void **state) {
    (void)state;
    static const zz_launch two[] = {{0, ZZ_CAT_OTHER, TAG_LINEAR, 0, 0, 1}, {0, ZZ_CAT_COPY, "a", 0, 0}};
    const zz_kernel_record rec[] = {{"gemm_x", 100, 200, 1}, {"reduce_y", 210, 260, 1}, {"a", 300, 400, 1},
                                    {"gemm_x", 1000, 1100, 1}, {"a", 1150, 1200, 1}};
    const uint64_t latency[] = {320, 230};
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, two, 2, &err), 0);
    assert_int_equal(zz_timeline_add(&t, rec, 5, 1, latency, 2, &err), 0);
    assert_float_equal(t.steps[0].span_ns, 300, 0);
    assert_float_equal(t.steps[0].kernel_ns[ZZ_CAT_OTHER], 150, 0);
    assert_float_equal(t.steps[0].idle_ns, 50, 0);
    assert_float_equal(t.steps[0].outside_ns, 20, 0);
    assert_float_equal(t.steps[1].span_ns, 200, 0);
    assert_float_equal(t.steps[1].kernel_ns[ZZ_CAT_OTHER], 100, 0);
    assert_float_equal(t.steps[1].kernel_ns[ZZ_CAT_COPY], 50, 0);
    assert_float_equal(t.gap_ns[0], 40, 0);
    assert_float_equal(t.gap_ns[2], 50, 0);
    zz_timeline_free(&t);
}

/* Every way the records can fail to fit the launches: the message names
 * the step, launch, layer, category, the tag and what was found, and
 * nothing of the failed add is kept. */
static void test_library_launch_errors_say_where(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, model_step, MODEL_LAUNCHES, &err), 0);
    const uint64_t latency[3] = {MODEL_SPAN0 + 900, MODEL_SPAN1 + 600, MODEL_SPAN0};
    recorder r;

    /* step 0's decode missing: qkv's GEMM takes o-proj's kernels too, up to the norm */
    record_model_steps(&r);
    memmove(&r.rec[2], &r.rec[3], (r.n - 3) * sizeof r.rec[0]);
    r.n--;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "step 0, launch 2 (layer 0, attn-full): expected a kernel named like 'decode_split_kernel', "
                         "found '_Z14rmsnorm_kernel");

    /* step 1's first norm missing, after step 0's LM head */
    record_model_steps(&r);
    memmove(&r.rec[7], &r.rec[8], (r.n - 8) * sizeof r.rec[0]);
    r.n--;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "step 1, launch 0 (layer 0, other): expected a kernel named like 'rmsnorm_kernel', "
                         "found '_Z19decode_split_kernel");

    /* a tagged kernel where a GEMM is expected: an extra decode in step 0 */
    record_model_steps(&r);
    memmove(&r.rec[3], &r.rec[2], (r.n - 2) * sizeof r.rec[0]);
    r.n++;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "step 0, launch 3 (layer 0, other): expected the kernels of a library launch ('gemm'), "
                         "found '_Z19decode_split_kernel");

    /* the wrong tagged kernel: a decode where step 1's second norm belongs */
    record_model_steps(&r);
    r.rec[12].name = decode_name;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "step 1, launch 4 (layer 1, other): expected a kernel named like 'rmsnorm_kernel', "
                         "found '_Z19decode_split_kernel");

    /* a further step begun: the last LM head stops at its norm */
    record_model_steps(&r);
    record(&r, rmsnorm_name, 200, 1000, 7);
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "16 kernel records on stream 7 for 2 steps of 6 launches, 3 of them library launches of one "
                         "record or more: 1 left over after the last step, the first '_Z14rmsnorm_kernel");

    /* too few: a third step asked for, or records ending inside step 1 */
    record_model_steps(&r);
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 3, &err), -1);
    expect_message(&err, "15 kernel records on stream 7 for 3 steps of 6 launches, 3 of them library launches of one "
                         "record or more: they end before step 2, launch 0 (layer 0, other, 'rmsnorm_kernel') "
                         "(0 records of other streams ignored)");
    r.n = 7 + 4;
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), -1);
    expect_message(&err, "they end before step 1, launch 3 (layer 0, other, 'gemm')");
    assert_int_equal(t.n_steps, 0);
    assert_int_equal(t.n_records, 0);

    /* and the same records, whole, still attribute */
    record_model_steps(&r);
    assert_int_equal(zz_timeline_add(&t, r.rec, r.n, 7, latency, 2, &err), 0);
    assert_int_equal(t.n_records, 15);
    zz_timeline_free(&t);
}

static void test_adjacent_library_launches_are_refused(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    zz_launch launches[MODEL_LAUNCHES];
    memcpy(launches, model_step, sizeof launches);
    launches[2].library = 1;  /* the decode between qkv and o-proj */
    assert_int_equal(zz_timeline_init(&t, launches, MODEL_LAUNCHES, &err), -1);
    expect_message(&err, "launch 1 (layer 0, other, 'gemm') and launch 2 (layer 0, attn-full, 'decode_split_kernel') "
                         "are both library launches");
    memcpy(launches, model_step, sizeof launches);
    launches[0].library = 1;  /* the norm after the last step's LM head */
    assert_int_equal(zz_timeline_init(&t, launches, MODEL_LAUNCHES, &err), -1);
    expect_message(&err, "launch 0 (layer 0, other, 'rmsnorm_kernel') and launch 1 (layer 0, other, 'gemm') are both");
    launches[0].library = 0;
    launches[4].library = 1;  /* the norm after o-proj */
    assert_int_equal(zz_timeline_init(&t, launches, MODEL_LAUNCHES, &err), -1);
    expect_message(&err, "launch 3 (layer 0, other, 'gemm') and launch 4 (layer 1, other, 'rmsnorm_kernel')");
    /* across the step boundary: an LM head last, a library launch first */
    memcpy(launches, model_step, sizeof launches);
    launches[0].library = 1;
    launches[1].library = 0;
    assert_int_equal(zz_timeline_init(&t, launches, MODEL_LAUNCHES, &err), -1);
    expect_message(&err, "launch 5 (layer 1, other, 'gemm') and launch 0 of the next step (layer 0, other, "
                         "'rmsnorm_kernel') are both library launches: no kernel name would mark where the first "
                         "one's kernels end");
    launches[5].library = 0;
    assert_int_equal(zz_timeline_init(&t, launches, MODEL_LAUNCHES, &err), 0);
    zz_timeline_free(&t);
    /* library launches only: one, or two in a row */
    static const zz_launch gemms[] = {{0, ZZ_CAT_OTHER, TAG_LINEAR, 0, 0, 1}, {0, ZZ_CAT_OTHER, TAG_LINEAR, 0, 0, 1}};
    assert_int_equal(zz_timeline_init(&t, gemms, 1, &err), -1);
    expect_message(&err, "a step of library launches only (1)");
    assert_int_equal(zz_timeline_init(&t, gemms, 2, &err), -1);
    expect_message(&err, "a step of library launches only (2)");
}

/* A fixed-seed LCG, so the test is the same everywhere. */
static uint64_t next_random(uint64_t *seed) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return *seed >> 33;
}

/* n steps of mixed_step with jittered durations and gaps; the event latency
 * adds jitter of its own, sometimes below the span (within the slack). */
static void measure_noisy(zz_timeline *t, int n, uint64_t extra_copy_ns, uint64_t seed) {
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(t, mixed_step, MIXED_LAUNCHES, &err), 0);
    for (int s = 0; s < n; s++) {
        recorder r = {.clock_ns = 1000000 + 100000 * (uint64_t)s};
        uint64_t gap[MIXED_LAUNCHES], dur[MIXED_LAUNCHES], span = 0;
        for (int k = 0; k < MIXED_LAUNCHES; k++) {
            gap[k] = k ? 150 + next_random(&seed) % 300 : 0;
            dur[k] = dur1[k] + next_random(&seed) % 700 + (k == 4 ? extra_copy_ns : 0);
            span += gap[k] + dur[k];
        }
        record_step(&r, gap, dur);
        uint64_t latency = span + next_random(&seed) % 4000 - 1000;
        assert_int_equal(zz_timeline_add(t, r.rec, r.n, 7, &latency, 1, &err), 0);
    }
}

static void expect_parts_add_up(const zz_overhead *d) {
    /* Whole-ns inputs keep every double exact: equality, not tolerance. */
    double parts = d->attention + d->copy + d->cache + d->other + d->idle - d->overlap;
    if (parts != d->span) fail_msg("parts %.17g != delta of the spans %.17g", parts, d->span);
    if (d->span + d->outside != d->latency) fail_msg("span + outside != latency");
}

static void test_split_overhead_parts_add_up_to_the_median_delta(void **state) {
    (void)state;
    const int counts[][2] = {{101, 57}, {100, 64}, {2, 1}};  /* odd, even and tiny step counts */
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        zz_timeline mixed, zigzag;
        measure_noisy(&mixed, counts[i][0], 0, 1 + i);
        measure_noisy(&zigzag, counts[i][1], 0, 100 + i);
        zz_timeline_summary sm, sz;
        zz_error err = {""};
        assert_int_equal(zz_timeline_summarize(&mixed, &sm, &err), 0);
        assert_int_equal(zz_timeline_summarize(&zigzag, &sz, &err), 0);
        assert_int_equal(sm.steps, (size_t)counts[i][0]);
        assert_int_equal(sm.launches, MIXED_LAUNCHES);
        /* The median step's span is the median span... */
        assert_true(sm.median_step.span_ns == sm.span.median);
        assert_true(sz.median_step.span_ns == sz.span.median);
        /* ...and its own account adds up. */
        const zz_step_time *m = &sm.median_step;
        double sum = m->idle_ns - m->overlap_ns;
        for (int c = 0; c < ZZ_CATEGORIES; c++) sum += m->kernel_ns[c];
        assert_true(sum == m->span_ns);
        assert_true(m->span_ns + m->outside_ns == m->latency_ns);

        zz_overhead d = zz_overhead_of(&sm.median_step, &sz.median_step);
        assert_true(d.span == sm.span.median - sz.span.median);
        expect_parts_add_up(&d);
        zz_timeline_free(&mixed);
        zz_timeline_free(&zigzag);
    }
}

static void test_split_overhead_finds_where_the_time_went(void **state) {
    (void)state;
    /* Same step, but the "mixed" one has a concat 4 µs longer and 1 µs more
     * launch gap: the decomposition puts 4 µs in copy and 1 µs in idle. */
    zz_timeline mixed, zigzag;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&mixed, mixed_step, MIXED_LAUNCHES, &err), 0);
    assert_int_equal(zz_timeline_init(&zigzag, mixed_step, MIXED_LAUNCHES, &err), 0);
    uint64_t slower_copy[MIXED_LAUNCHES], wider_gap[MIXED_LAUNCHES];
    memcpy(slower_copy, dur1, sizeof dur1);
    memcpy(wider_gap, gap1, sizeof gap1);
    slower_copy[4] += 4000;
    wider_gap[5] += 1000;
    for (int s = 0; s < 3; s++) {
        recorder r = {0};
        uint64_t latency = STEP1_LATENCY + 5000;
        record_step(&r, wider_gap, slower_copy);
        assert_int_equal(zz_timeline_add(&mixed, r.rec, r.n, 7, &latency, 1, &err), 0);
        r.n = 0;
        latency = STEP1_LATENCY;
        record_step(&r, gap1, dur1);
        assert_int_equal(zz_timeline_add(&zigzag, r.rec, r.n, 7, &latency, 1, &err), 0);
    }
    zz_timeline_summary sm, sz;
    assert_int_equal(zz_timeline_summarize(&mixed, &sm, &err), 0);
    assert_int_equal(zz_timeline_summarize(&zigzag, &sz, &err), 0);
    assert_float_equal(sm.kernel[ZZ_CAT_COPY].median, 6000, 0);
    assert_float_equal(sm.idle.median, 1400 + 1000, 0);
    zz_overhead d = zz_overhead_of(&sm.median_step, &sz.median_step);
    assert_float_equal(d.latency, 5000, 0);
    assert_float_equal(d.span, 5000, 0);
    assert_float_equal(d.outside, 0, 0);
    assert_float_equal(d.copy, 4000, 0);
    assert_float_equal(d.idle, 1000, 0);
    assert_float_equal(d.attention, 0, 0);
    assert_float_equal(d.cache, 0, 0);
    assert_float_equal(d.other, 0, 0);
    assert_float_equal(d.overlap, 0, 0);
    zz_timeline_free(&mixed);
    zz_timeline_free(&zigzag);
}

static void test_each_category_lands_in_its_part(void **state) {
    (void)state;
    /* spans 100 = 40 + 20 + 10 + 5 + 7 + 3 + 20 - 5 and 60 = 30 + 10 + 3 + 1 + 16 */
    zz_step_time mixed = {.latency_ns = 110, .span_ns = 100, .outside_ns = 10, .idle_ns = 20, .overlap_ns = 5};
    zz_step_time zigzag = {.latency_ns = 62, .span_ns = 60, .outside_ns = 2, .idle_ns = 16};
    mixed.kernel_ns[ZZ_CAT_CACHE] = 7;
    mixed.kernel_ns[ZZ_CAT_COPY] = 3;
    zigzag.kernel_ns[ZZ_CAT_CACHE] = 3;
    zigzag.kernel_ns[ZZ_CAT_COPY] = 1;
    mixed.kernel_ns[ZZ_CAT_ATTN_FULL] = 40;
    mixed.kernel_ns[ZZ_CAT_ATTN_STREAMING] = 20;
    mixed.kernel_ns[ZZ_CAT_COMBINE] = 10;
    mixed.kernel_ns[ZZ_CAT_OTHER] = 5;
    zigzag.kernel_ns[ZZ_CAT_ATTN_FULL] = 30;
    zigzag.kernel_ns[ZZ_CAT_OTHER] = 10;
    zz_overhead d = zz_overhead_of(&mixed, &zigzag);
    assert_float_equal(d.latency, 48, 0);
    assert_float_equal(d.span, 40, 0);
    assert_float_equal(d.outside, 8, 0);
    assert_float_equal(d.attention, 30, 0);
    assert_float_equal(d.copy, 2, 0);
    assert_float_equal(d.cache, 4, 0);
    assert_float_equal(d.other, 5, 0);
    assert_float_equal(d.idle, 4, 0);
    assert_float_equal(d.overlap, 5, 0);
    expect_parts_add_up(&d);
}

static void test_an_empty_timeline_has_no_summary(void **state) {
    (void)state;
    zz_timeline t;
    zz_error err = {""};
    assert_int_equal(zz_timeline_init(&t, mixed_step, MIXED_LAUNCHES, &err), 0);
    zz_timeline_summary s;
    assert_int_equal(zz_timeline_summarize(&t, &s, &err), -1);
    expect_message(&err, "no steps");
    zz_kernel_summary *rows;
    size_t n;
    assert_int_equal(zz_timeline_kernels(&t, &rows, &n, &err), -1);
    uint64_t latency = 1;
    assert_int_equal(zz_timeline_add(&t, NULL, 0, 7, &latency, 0, &err), -1);
    expect_message(&err, "no steps");
    zz_timeline_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_step_is_accounted_by_category_layer_and_kernel),
        cmocka_unit_test(test_records_out_of_order_and_of_other_streams_give_the_same_account),
        cmocka_unit_test(test_a_wrong_kernel_names_step_position_and_both_names),
        cmocka_unit_test(test_prefill_tags_tell_the_prefill_kernels_apart),
        cmocka_unit_test(test_a_wrong_record_count_says_how_many),
        cmocka_unit_test(test_overlapping_kernels_count_once_in_the_union),
        cmocka_unit_test(test_a_one_launch_step_has_no_boundaries),
        cmocka_unit_test(test_kernels_longer_than_the_step_fail_beyond_the_clock_slack),
        cmocka_unit_test(test_bad_launch_lists_are_refused),
        cmocka_unit_test(test_library_launches_take_each_of_their_kernels),
        cmocka_unit_test(test_a_library_launch_may_open_the_step),
        cmocka_unit_test(test_library_launch_errors_say_where),
        cmocka_unit_test(test_adjacent_library_launches_are_refused),
        cmocka_unit_test(test_split_overhead_parts_add_up_to_the_median_delta),
        cmocka_unit_test(test_split_overhead_finds_where_the_time_went),
        cmocka_unit_test(test_each_category_lands_in_its_part),
        cmocka_unit_test(test_an_empty_timeline_has_no_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
