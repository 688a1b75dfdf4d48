/* GPU tests of the layer kernels around attention (kernels/layers.h)
 * against the CPU references (ref_linear, ref_rmsnorm, ref_rotary,
 * ref_silu_mul in kernels/reference.h).
 *
 * Each case draws seeded random bf16 inputs, poisons what the kernel writes
 * with NaN (0xffff) so an unwritten element fails, and checks every element
 * the kernel must not write bit for bit (padding columns, the untouched
 * heads and padding of a qkv buffer, the tail of a buffer). The references
 * are float, unrounded; a kernel computes in float and rounds to bf16 once,
 * so each element must be within half a bf16 unit in the last place of the
 * reference (2^-8 of its magnitude) plus float noise; the GEMMs, whose
 * float sums run in another order than the reference's, get an absolute
 * allowance of 1e-3 of the output's RMS on top, with beta 1 half a unit of
 * X W^T too (expect_elements says why), and an L2 relative error bound. Shapes: rows 1, 3, 17 (and past 65535 for the grid loops), the
 * hidden and MLP sizes of Llama-3-8B and Llama-2-7B, strided views, beta 1
 * accumulation, positions 0, 1000 and 1048576. Bad arguments are refused
 * with a message and nothing is written. Run with `make test-gpu` on a
 * machine with a GPU; CI only compiles this file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"
#include "buffers.h"
#include "layers.h"

#define WORKSPACE_BYTES (32u << 20)

static zz_gemm *gemm;

/* ---- buffers (the rest: buffers.h) ---- */

/* n bf16 values uniform in [-amp, amp]. */
static bf16 *host_scaled(long long n, float amp) {
    bf16 *x = host_random(n);
    for (long long i = 0; i < n; i++) x[i] = bf16_from_float(amp * bf16_to_float(x[i]));
    return x;
}

static void upload(bf16 *d, const bf16 *h, long long n) {
    ZZ_CUDA_OR_EXIT(cudaMemcpy(d, h, (size_t)n * sizeof *h, cudaMemcpyHostToDevice));
}

static int all_poison(const bf16 *h, long long n) {
    for (long long i = 0; i < n; i++)
        if (h[i] != 0xffff) return 0;
    return 1;
}

/* ---- checks ---- */

/* Every element within half a bf16 ulp of the reference (2^-8 |ref|, with
 * a 1/64 margin), plus abs_slack; NaN fails. Half an ulp is one correct
 * rounding. `rounded_first` (NULL: none) are terms the kernel may round to
 * bf16 before adding them into the element: each adds half an ulp of its
 * own magnitude. A GEMM with beta 1 has one, X W^T: on the H200 cuBLASLt's
 * Y = X W^T + Y came out up to 0.86 ulp of the result off (0.0142 on a
 * result of 0.048, a quarter ulp of X W^T ~ 8 cancelling Y) while every
 * beta-0 case kept within half an ulp, as an epilogue rounding X W^T
 * before the add would. A wrong element, stride or beta is off by far more. */
static double half_ulps(const float *ref, const float *rounded_first, long long i) {
    return 0x1p-8 * (1.0 + 1.0 / 64) * (fabs(ref[i]) + (rounded_first ? fabs(rounded_first[i]) : 0.0));
}

static void expect_elements(const float *out, const float *ref, const float *rounded_first, long long n,
                            double abs_slack, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    double worst_excess = -1.0;
    long long worst = -1;
    for (long long i = 0; i < n; i++) {
        const double bound = half_ulps(ref, rounded_first, i) + abs_slack;
        const double d = fabs((double)out[i] - ref[i]);
        if (!(d <= bound)) {
            const double excess = isnan(d) ? INFINITY : d - bound;
            if (excess > worst_excess) worst_excess = excess, worst = i;
        }
    }
    if (worst >= 0)
        fail_msg("%s: element %lld of %lld is %.9g, reference %.9g (bound %.3g)", what, worst, n, out[worst],
                 ref[worst], half_ulps(ref, rounded_first, worst) + abs_slack);
    print_message("  ok  %-64s err %.2e\n", what, ref_relative_error(out, ref, n));
}

static double rms_of(const float *x, long long n) {
    double s = 0.0;
    for (long long i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / n) : 0.0;
}

/* ---- linear ---- */

static float *copy_floats(const float *x, long long n) {
    float *c = malloc(sizeof(float) * (size_t)n);
    memcpy(c, x, sizeof(float) * (size_t)n);
    return c;
}

/* X W^T of a beta-1 GEMM's reference: the sum less Y's initial value
 * (NULL without one: beta 0). */
static float *product_of(const float *ref, const float *initial, long long n) {
    if (!initial) return NULL;
    float *p = malloc(sizeof(float) * (size_t)n);
    for (long long i = 0; i < n; i++) p[i] = ref[i] - initial[i];
    return p;
}

typedef struct {
    int rows, in, out;
    int x_pad;        /* x_stride = in + x_pad */
    int y_col, y_pad; /* y is columns [y_col, y_col + out) of rows of y_col + out + y_pad */
    int beta;
} linear_case;

/* One GEMM (or the first `rows` rows of one) on given weights; y0 the
 * whole y buffer's initial content (NULL: NaN poison, beta 0). */
static void expect_linear(const linear_case *c, const bf16 *x, const bf16 *dx, const bf16 *w, const bf16 *dw,
                          const bf16 *y0, const char *what) {
    const int rows = c->rows, in = c->in, out = c->out;
    const long long xs = in + c->x_pad, ys = (long long)c->y_col + out + c->y_pad, ny = (long long)rows * ys;
    bf16 *dy = device_poisoned(ny);
    if (y0) upload(dy, y0, ny);
    KERNEL_OK(zz_linear(gemm, dx, xs, dw, dy + c->y_col, ys, rows, in, out, (float)c->beta, 0));
    bf16 *got = to_host(dy, ny);
    float *res = malloc(sizeof(float) * (size_t)rows * out), *ref = malloc(sizeof(float) * (size_t)rows * out);
    for (long long r = 0; r < rows; r++)
        for (long long j = 0; j < ys; j++) {
            const long long e = r * ys + j;
            if (j >= c->y_col && j < c->y_col + out) {
                res[r * out + j - c->y_col] = bf16_to_float(got[e]);
                ref[r * out + j - c->y_col] = y0 ? bf16_to_float(y0[e]) : NAN;
            } else if (got[e] != (y0 ? y0[e] : 0xffff)) {
                fail_msg("%s: row %lld column %lld outside y written (0x%04x)", what, r, j, got[e]);
            }
        }
    float *res_initial = c->beta ? copy_floats(ref, (long long)rows * out) : NULL;
    ref_linear(x, xs, w, ref, out, rows, in, out, (float)c->beta);
    const long long n = (long long)rows * out;
    const double e = ref_relative_error(res, ref, n);
    if (!(e < 4e-3)) fail_msg("%s: relative error %.3g (bound 4e-3)", what, e);
    float *product = product_of(ref, res_initial, n);
    expect_elements(res, ref, product, n, 1e-3 * rms_of(ref, n), "%s", what);
    free(product), free(res_initial);
    free(got), free(res), free(ref);
    cudaFree(dy);
}

static void check_linear(const linear_case *c) {
    const long long xs = c->in + c->x_pad, ys = (long long)c->y_col + c->out + c->y_pad;
    bf16 *x = host_random((long long)c->rows * xs), *w = host_random((long long)c->out * c->in);
    bf16 *y0 = c->beta ? host_scaled((long long)c->rows * ys, 8.0f) : NULL;
    bf16 *dx = to_device(x, (long long)c->rows * xs), *dw = to_device(w, (long long)c->out * c->in);
    char what[160];
    snprintf(what, sizeof what, "linear rows %d in %d out %d x_stride %lld y[%d..] stride %lld beta %d", c->rows,
             c->in, c->out, xs, c->y_col, ys, c->beta);
    expect_linear(c, x, dx, w, dw, y0, what);
    free(x), free(w), free(y0);
    cudaFree(dx), cudaFree(dw);
}

/* Odd shapes: strided x, y a column slice of a wider buffer (16-byte
 * aligned only), out not a multiple of 8, a single output, beta 1. */
static void test_linear_odd_shapes(void **state) {
    (void)state;
    static const linear_case cases[] = {
        {1, 8, 1, 0, 0, 7, 0},        {3, 16, 5, 8, 0, 3, 1},      {17, 264, 72, 24, 8, 16, 0},
        {17, 264, 72, 24, 8, 16, 1},  {17, 4096, 1032, 0, 0, 0, 1}, {33, 136, 5, 0, 0, 3, 0},
        {3, 512, 384, 0, 128, 0, 1}, {1, 4096, 4096, 4096, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_linear(&cases[i]);
}

typedef struct {
    const char *name;
    int in, out, beta;
} projection;

/* Each projection's weights made once, then rows 1 (decode) and 3 on the
 * first rows of the same inputs. */
static void check_model(const char *model, const projection *p, int n) {
    for (int i = 0; i < n; i++) {
        const int rows_max = 3, in = p[i].in, out = p[i].out;
        bf16 *x = host_random((long long)rows_max * in), *w = host_random((long long)out * in);
        bf16 *y0 = p[i].beta ? host_scaled((long long)rows_max * out, 8.0f) : NULL;
        bf16 *dx = to_device(x, (long long)rows_max * in), *dw = to_device(w, (long long)out * in);
        for (int rows = 1; rows <= rows_max; rows += 2) {
            const linear_case c = {rows, in, out, 0, 0, 0, p[i].beta};
            char what[160];
            snprintf(what, sizeof what, "%s %s rows %d (%d -> %d, beta %d)", model, p[i].name, rows, in, out,
                     p[i].beta);
            expect_linear(&c, x, dx, w, dw, y0, what);
        }
        free(x), free(w), free(y0);
        cudaFree(dx), cudaFree(dw);
    }
}

static void test_linear_llama3_8b(void **state) {
    (void)state;
    static const projection p[] = {
        {"qkv", 4096, 6144, 0}, {"o", 4096, 4096, 1}, {"gate_up", 4096, 28672, 0}, {"down", 14336, 4096, 1}};
    check_model("Llama-3-8B", p, 4);
}

static void test_linear_llama2_7b(void **state) {
    (void)state;
    static const projection p[] = {{"qkv", 4096, 12288, 0},
                                   {"o", 4096, 4096, 1},
                                   {"gate_up", 4096, 22016, 0},
                                   {"down", 11008, 4096, 1},
                                   {"lm_head", 4096, 32000, 0}};
    check_model("Llama-2-7B", p, 5);
}

/* More shapes than the plan table holds (64): the oldest plans are
 * replaced and made again, every result still right. */
static void test_linear_plan_table(void **state) {
    (void)state;
    for (int pass = 0; pass < 2; pass++)
        for (int rows = 1; rows <= 70; rows += pass ? 23 : 1) {
            const linear_case c = {rows, 16, 8, 0, 0, 0, 0};
            check_linear(&c);
        }
}

/* Captured into a CUDA graph after one eager call (the plan made), with
 * global capture mode (any unsafe call fails the capture), replayed twice:
 * beta 1 adds X W^T each time, checked from the y the replay started on. */
static void test_linear_graph(void **state) {
    (void)state;
    const linear_case c = {5, 1024, 768, 0, 0, 0, 1};
    const long long nx = (long long)c.rows * c.in, nw = (long long)c.out * c.in, ny = (long long)c.rows * c.out;
    bf16 *x = host_random(nx), *w = host_random(nw), *y0 = host_scaled(ny, 8.0f);
    bf16 *dx = to_device(x, nx), *dw = to_device(w, nw), *dy = to_device(y0, ny);
    cudaStream_t stream;
    ZZ_CUDA_OR_EXIT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    KERNEL_OK(zz_linear(gemm, dx, c.in, dw, dy, c.out, c.rows, c.in, c.out, 1.0f, stream)); /* the plan */
    ZZ_CUDA_OR_EXIT(cudaStreamSynchronize(stream));
    upload(dy, y0, ny);
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    ZZ_CUDA_OR_EXIT(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    const int rc = zz_linear(gemm, dx, c.in, dw, dy, c.out, c.rows, c.in, c.out, 1.0f, stream);
    ZZ_CUDA_OR_EXIT(cudaStreamEndCapture(stream, &graph));
    if (rc != ZZ_OK) fail_msg("zz_linear under capture: %s", zz_kernel_error());
    ZZ_CUDA_OR_EXIT(cudaGraphInstantiateWithFlags(&exec, graph, 0));
    bf16 *before = y0;
    for (int replay = 0; replay < 2; replay++) {
        ZZ_CUDA_OR_EXIT(cudaGraphLaunch(exec, stream));
        ZZ_CUDA_OR_EXIT(cudaStreamSynchronize(stream));
        bf16 *after = to_host(dy, ny);
        float *res = malloc(sizeof(float) * (size_t)ny), *ref = malloc(sizeof(float) * (size_t)ny);
        for (long long i = 0; i < ny; i++) res[i] = bf16_to_float(after[i]), ref[i] = bf16_to_float(before[i]);
        float *initial = copy_floats(ref, ny);
        ref_linear(x, c.in, w, ref, c.out, c.rows, c.in, c.out, 1.0f);
        float *product = product_of(ref, initial, ny);
        expect_elements(res, ref, product, ny, 1e-3 * rms_of(ref, ny), "linear in a CUDA graph, replay %d", replay + 1);
        free(res), free(ref), free(initial), free(product);
        if (before != y0) free(before);
        before = after;
    }
    free(before);
    cudaGraphExecDestroy(exec), cudaGraphDestroy(graph), cudaStreamDestroy(stream);
    free(x), free(w), free(y0);
    cudaFree(dx), cudaFree(dw), cudaFree(dy);
}

/* ---- rmsnorm ---- */

static void check_rmsnorm(int rows, int hidden, int in_place) {
    const long long n = (long long)rows * hidden, tail = 64;
    bf16 *x = host_scaled(n, 3.0f), *w = host_scaled(hidden, 2.0f);
    bf16 *dx = to_device(x, n), *dw = to_device(w, hidden), *dy = in_place ? dx : device_poisoned(n + tail);
    KERNEL_OK(zz_rmsnorm(dx, dw, dy, rows, hidden, 1e-5f, 0));
    bf16 *got = to_host(dy, in_place ? n : n + tail);
    if (!in_place && !all_poison(got + n, tail)) fail_msg("rmsnorm rows %d hidden %d: wrote past y", rows, hidden);
    float *res = malloc(sizeof(float) * (size_t)n), *ref = malloc(sizeof(float) * (size_t)n);
    for (long long i = 0; i < n; i++) res[i] = bf16_to_float(got[i]);
    ref_rmsnorm(x, w, ref, rows, hidden, 1e-5f);
    expect_elements(res, ref, NULL, n, 1e-6, "rmsnorm rows %d hidden %d%s", rows, hidden, in_place ? " in place" : "");
    free(x), free(w), free(got), free(res), free(ref);
    cudaFree(dx), cudaFree(dw);
    if (!in_place) cudaFree(dy);
}

static void test_rmsnorm(void **state) {
    (void)state;
    /* 8: one vector; 4104: 513 vectors; 16384, 24576, 65536: 2, 4, 8 vectors a thread */
    static const int hiddens[] = {4096, 5120, 14336, 8, 4104, 16384, 24576, 65536};
    static const int rows[] = {1, 3, 17};
    for (size_t h = 0; h < sizeof hiddens / sizeof hiddens[0]; h++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) check_rmsnorm(rows[r], hiddens[h], 0);
    check_rmsnorm(17, 4096, 1);
    check_rmsnorm(70000, 64, 0);
}

/* ---- rotary ---- */

typedef struct {
    int batch, tokens, q_heads, kv_heads, head_dim, pos0;
    float theta;
    int pad;          /* elements after each token's q, k, v heads (a multiple of 8) */
} rotary_case;

/* A qkv buffer [batch][tokens][q | k | v | pad] (batch stride with 64
 * more elements); q and k rotated in place, v and the padding untouched. */
static void check_rotary(const rotary_case *c) {
    const int B = c->batch, T = c->tokens, Hq = c->q_heads, Hkv = c->kv_heads, D = c->head_dim;
    const long long ts = (long long)(Hq + 2 * Hkv) * D + c->pad, bs = T * ts + 64, n = B * bs;
    bf16 *in = host_scaled(n, 2.0f), *d = to_device(in, n);
    zz_view q = {d, bs, ts, Hq}, k = {d + (long long)Hq * D, bs, ts, Hkv};
    KERNEL_OK(zz_rotary(q, k, B, T, D, c->pos0, c->theta, 0));
    bf16 *got = to_host(d, n);
    const long long nq = (long long)B * T * Hq * D, nk = (long long)B * T * Hkv * D;
    float *res = malloc(sizeof(float) * (size_t)(nq + nk)), *ref = malloc(sizeof(float) * (size_t)(nq + nk));
    long long iq = 0, ik = nq;
    for (long long b = 0; b < B; b++)
        for (long long t = 0; t < T; t++)
            for (long long j = 0; j < ts; j++) {
                const long long e = b * bs + t * ts + j;
                if (j < (long long)Hq * D)
                    res[iq] = bf16_to_float(got[e]), ref[iq++] = bf16_to_float(in[e]);
                else if (j < (long long)(Hq + Hkv) * D)
                    res[ik] = bf16_to_float(got[e]), ref[ik++] = bf16_to_float(in[e]);
                else if (got[e] != in[e])
                    fail_msg("rotary: v or padding changed at b %lld t %lld column %lld", b, t, j);
            }
    for (long long b = 0; b < B; b++)
        for (long long j = T * ts; j < bs; j++)
            if (got[b * bs + j] != in[b * bs + j]) fail_msg("rotary: batch padding changed at b %lld", b);
    ref_rotary(ref, B, T, Hq, D, c->pos0, c->theta);
    ref_rotary(ref + nq, B, T, Hkv, D, c->pos0, c->theta);
    expect_elements(res, ref, NULL, nq + nk, 1e-6, "rotary B%d T%d Hq%d Hkv%d D%d pos0 %d theta %g pad %d", B, T, Hq, Hkv, D,
                    c->pos0, (double)c->theta, c->pad);
    if (c->pos0 >= 1000000) {
        /* The bound tells a float angle apart: with pos * inv_freq in float
         * (HF's float32 form) cos or sin misses the exact angle's by more
         * than 2^-7, twice the bound relative to |x|, on many pairs here. */
        long long beyond = 0;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < D / 2; i++) {
                const double exact = ref_rotary_angle(c->pos0 + t, i, D, c->theta);
                const float a = (float)(c->pos0 + t) * (float)pow((double)c->theta, -2.0 * i / D);
                if (fabs(cosf(a) - cos(exact)) + fabs(sinf(a) - sin(exact)) > 0x1p-7) beyond++;
            }
        if (beyond == 0) fail_msg("rotary at pos0 %d: a float angle would pass too; the test proves nothing", c->pos0);
        print_message("      (a float angle misses cos/sin by > 2^-7 on %lld of %d pairs here)\n", beyond, T * D / 2);
    }
    free(in), free(got), free(res), free(ref);
    cudaFree(d);
}

static void test_rotary(void **state) {
    (void)state;
    static const rotary_case cases[] = {
        {1, 1, 32, 8, 128, 0, 500000.0f, 0},         /* Llama-3-8B decode at position 0: the identity */
        {1, 1, 32, 8, 128, 1048576, 500000.0f, 0},   /* decode at 1M */
        {1, 17, 32, 8, 128, 1000, 500000.0f, 8},
        {2, 3, 32, 32, 128, 1048576, 10000.0f, 16},  /* Llama-2-7B, MHA */
        {3, 5, 8, 2, 64, 1000, 10000.0f, 24},
        {2, 129, 4, 1, 64, 0, 500000.0f, 8},
        {1, 1000, 28, 4, 128, 1048576 - 500, 1000000.0f, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_rotary(&cases[i]);
}

/* ---- silu_mul ---- */

static void check_silu_mul(int rows, int mlp) {
    const long long n = (long long)rows * mlp, tail = 64;
    bf16 *gu = host_scaled(2 * n, 8.0f), *dgu = to_device(gu, 2 * n), *dh = device_poisoned(n + tail);
    KERNEL_OK(zz_silu_mul(dgu, dh, rows, mlp, 0));
    bf16 *got = to_host(dh, n + tail);
    if (!all_poison(got + n, tail)) fail_msg("silu_mul rows %d mlp %d: wrote past h", rows, mlp);
    float *res = malloc(sizeof(float) * (size_t)n), *ref = malloc(sizeof(float) * (size_t)n);
    for (long long i = 0; i < n; i++) res[i] = bf16_to_float(got[i]);
    ref_silu_mul(gu, ref, rows, mlp);
    expect_elements(res, ref, NULL, n, 1e-6, "silu_mul rows %d mlp %d", rows, mlp);
    free(gu), free(got), free(res), free(ref);
    cudaFree(dgu), cudaFree(dh);
}

static void test_silu_mul(void **state) {
    (void)state;
    static const int mlps[] = {14336, 11008, 8, 4104};
    static const int rows[] = {1, 3, 17};
    for (size_t m = 0; m < sizeof mlps / sizeof mlps[0]; m++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) check_silu_mul(rows[r], mlps[m]);
    check_silu_mul(65537, 16); /* rows past the grid's 65535 */
}

/* ---- argument checks: refused with a message, nothing written ---- */

#define REFUSED(call, text)                                                                      \
    do {                                                                                         \
        assert_int_equal((call), ZZ_BAD_ARGUMENT);                                               \
        if (!strstr(zz_kernel_error(), (text)))                                                  \
            fail_msg("%s: message '%s' lacks '%s'", #call, zz_kernel_error(), (text));           \
    } while (0)

static void test_bad_arguments(void **state) {
    (void)state;
    const long long n = 1 << 16;
    bf16 *in = host_random(n), *a = to_device(in, n), *p = device_poisoned(n);

    REFUSED(zz_gemm_create(NULL, 0, 0), "null handle");
    REFUSED(zz_linear(NULL, a, 64, a, p, 64, 1, 64, 64, 0.f, 0), "null zz_gemm");
    REFUSED(zz_linear(gemm, NULL, 64, a, p, 64, 1, 64, 64, 0.f, 0), "null pointer");
    REFUSED(zz_linear(gemm, a, 64, a, p, 64, 0, 64, 64, 0.f, 0), "rows 0");
    REFUSED(zz_linear(gemm, a, 64, a, p, 64, 1, 60, 64, 0.f, 0), "in 60");
    REFUSED(zz_linear(gemm, a, 32, a, p, 64, 1, 64, 64, 0.f, 0), "x stride 32");
    REFUSED(zz_linear(gemm, a, 64, a, p, 68, 1, 64, 64, 0.f, 0), "y stride 68");
    REFUSED(zz_linear(gemm, a + 1, 64, a, p, 64, 1, 64, 64, 0.f, 0), "16-byte aligned");
    REFUSED(zz_linear(gemm, a, 64, a, p + 4, 64, 1, 64, 64, 0.f, 0), "16-byte aligned");
    REFUSED(zz_linear(gemm, a, 64, a, p, 64, 1, 64, 64, 0.5f, 0), "beta 0.5");

    REFUSED(zz_rmsnorm(a, NULL, p, 1, 64, 1e-5f, 0), "null pointer");
    REFUSED(zz_rmsnorm(a, a, p, 1, 60, 1e-5f, 0), "hidden 60");
    REFUSED(zz_rmsnorm(a, a, p, 1, 65544, 1e-5f, 0), "hidden 65544");
    REFUSED(zz_rmsnorm(a, a, p, 0, 64, 1e-5f, 0), "0 rows");
    REFUSED(zz_rmsnorm(a, a, p, 1, 64, 0.f, 0), "eps 0");
    REFUSED(zz_rmsnorm(a, a, a + 8, 2, 64, 1e-5f, 0), "overlaps");
    REFUSED(zz_rmsnorm(a, a + 4, p, 1, 64, 1e-5f, 0), "16-byte aligned");

    zz_view q = {a, 8 * 6 * 128, 6 * 128, 4}, k = {a + 4 * 128, 8 * 6 * 128, 6 * 128, 1};
    REFUSED(zz_rotary(q, k, 1, 8, 96, 0, 10000.f, 0), "head_dim 96");
    REFUSED(zz_rotary(q, k, 0, 8, 128, 0, 10000.f, 0), "batch 0");
    REFUSED(zz_rotary(q, k, 1, 0, 128, 0, 10000.f, 0), "0 tokens");
    REFUSED(zz_rotary(q, k, 1, 8, 128, -1, 10000.f, 0), "positions -1");
    REFUSED(zz_rotary(q, k, 1, 2, 128, INT_MAX, 10000.f, 0), "out of range");
    REFUSED(zz_rotary(q, k, 1, 8, 128, 0, 0.f, 0), "theta 0");
    zz_view bad = q;
    bad.data += 4;
    REFUSED(zz_rotary(bad, k, 1, 8, 128, 0, 10000.f, 0), "16-byte aligned");
    bad = k;
    bad.heads = 0;
    REFUSED(zz_rotary(q, bad, 1, 8, 128, 0, 10000.f, 0), "0 heads");
    bad = q;
    bad.token_stride = 6 * 128 + 4;
    REFUSED(zz_rotary(bad, k, 1, 8, 128, 0, 10000.f, 0), "token stride");
    bad = q;
    bad.token_stride = 3 * 128; /* fewer than its 4 heads */
    REFUSED(zz_rotary(bad, k, 1, 8, 128, 0, 10000.f, 0), "token stride");

    REFUSED(zz_silu_mul(NULL, p, 1, 64, 0), "null pointer");
    REFUSED(zz_silu_mul(a, p, 0, 64, 0), "0 rows");
    REFUSED(zz_silu_mul(a, p, 1, 60, 0), "mlp 60");
    REFUSED(zz_silu_mul(a, a + 64, 1, 64, 0), "overlaps");
    REFUSED(zz_silu_mul(a, p + 2, 1, 64, 0), "16-byte aligned");

    bf16 *after_p = to_host(p, n), *after_a = to_host(a, n);
    assert_true(all_poison(after_p, n));
    assert_memory_equal(after_a, in, (size_t)n * sizeof *in);
    free(in), free(after_p), free(after_a);
    cudaFree(a), cudaFree(p);
}

static int setup(void **state) {
    (void)state;
    return zz_gemm_create(&gemm, WORKSPACE_BYTES, 0) == ZZ_OK ? 0 : (fprintf(stderr, "%s\n", zz_kernel_error()), -1);
}

static int teardown(void **state) {
    (void)state;
    zz_gemm_destroy(gemm);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_linear_odd_shapes),
        cmocka_unit_test(test_linear_llama3_8b),
        cmocka_unit_test(test_linear_llama2_7b),
        cmocka_unit_test(test_linear_plan_table),
        cmocka_unit_test(test_linear_graph),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_rotary),
        cmocka_unit_test(test_silu_mul),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
