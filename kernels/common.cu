/* Launcher plumbing shared by every kernel file: the thread's last error
 * message, views, and argument checks. */
#include <stdarg.h>
#include <stdio.h>
#include "common.cuh"

static __thread char last_error[512];

const char *zz_kernel_error(void) { return last_error; }

int zz_fail(int code, const char *file, int line, const char *fmt, ...) {
    int n = snprintf(last_error, sizeof last_error, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

zz_view zz_view_dense(bf16 *data, int tokens, int heads, int head_dim) {
    zz_view v = {data, (long long)tokens * heads * head_dim, (long long)heads * head_dim, heads};
    return v;
}

zz_view zz_view_heads(zz_view v, int first, int count, int head_dim) {
    v.data += (long long)first * head_dim;
    v.heads = count;
    return v;
}

int zz_check_view(const char *name, zz_view v, int batch, int tokens, int head_dim) {
    ZZ_REQUIRE(v.data != NULL, "%s: null data", name);
    ZZ_REQUIRE(v.heads > 0, "%s: %d heads", name, v.heads);
    ZZ_REQUIRE(((uintptr_t)v.data & 15) == 0, "%s: data not 16-byte aligned", name);
    ZZ_REQUIRE(v.token_stride >= (long long)v.heads * head_dim && v.token_stride % 8 == 0,
               "%s: token stride %lld (need >= heads*head_dim = %d, multiple of 8)", name,
               v.token_stride, v.heads * head_dim);
    ZZ_REQUIRE(batch == 1 || (v.batch_stride >= v.token_stride * tokens && v.batch_stride % 8 == 0),
               "%s: batch stride %lld (need >= %d tokens * token stride %lld, multiple of 8)", name,
               v.batch_stride, tokens, v.token_stride);
    return ZZ_OK;
}
