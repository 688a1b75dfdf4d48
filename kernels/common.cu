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

AttnTensors attn_tensors(zz_view q, zz_view k, zz_view v, zz_view o) {
    AttnTensors t;
    t.q = reinterpret_cast<const __nv_bfloat16 *>(q.data);
    t.k = reinterpret_cast<const __nv_bfloat16 *>(k.data);
    t.v = reinterpret_cast<const __nv_bfloat16 *>(v.data);
    t.o = reinterpret_cast<__nv_bfloat16 *>(o.data);
    t.q_bs = q.batch_stride, t.q_ts = q.token_stride;
    t.k_bs = k.batch_stride, t.k_ts = k.token_stride;
    t.v_bs = v.batch_stride, t.v_ts = v.token_stride;
    t.o_bs = o.batch_stride, t.o_ts = o.token_stride;
    t.group = q.heads / k.heads;
    return t;
}

int zz_check_attention(zz_view q, zz_view k, zz_view v, zz_view o, int batch, int head_dim, int q_tokens,
                       int kv_tokens, zz_mask mask) {
    ZZ_REQUIRE(head_dim == 64 || head_dim == 128, "head_dim %d (need 64 or 128)", head_dim);
    ZZ_REQUIRE(batch >= 1 && batch <= 65535, "batch %d (need 1..65535)", batch);
    ZZ_REQUIRE(k.heads == v.heads && k.heads >= 1 && k.heads <= 65535, "k heads %d, v heads %d", k.heads, v.heads);
    ZZ_REQUIRE(q.heads % k.heads == 0 && o.heads == q.heads,
               "q heads %d, o heads %d: need o = q and a multiple of kv heads %d", q.heads, o.heads, k.heads);
    ZZ_REQUIRE(mask.kind == ZZ_MASK_FULL || (mask.kind == ZZ_MASK_STREAMING && mask.sink >= 0 && mask.recent >= 1),
               "mask kind %d, sink %d, recent %d (streaming needs sink >= 0, recent >= 1)", (int)mask.kind, mask.sink,
               mask.recent);
    int rc;
    if ((rc = zz_check_view("q", q, batch, q_tokens, head_dim)) ||
        (rc = zz_check_view("k", k, batch, kv_tokens, head_dim)) ||
        (rc = zz_check_view("v", v, batch, kv_tokens, head_dim)) ||
        (rc = zz_check_view("o", o, batch, q_tokens, head_dim)))
        return rc;
    return ZZ_OK;
}

int zz_check_prefill(const zz_prefill_args *a) {
    ZZ_REQUIRE(a->q_len >= 1 && a->q_pos0 >= 0, "q_len %d, q_pos0 %d", a->q_len, a->q_pos0);
    return zz_check_attention(a->q, a->k, a->v, a->o, a->batch, a->head_dim, a->q_len, a->q_pos0 + a->q_len,
                              a->mask);
}
