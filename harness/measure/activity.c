/* CUPTI Activity API collection (activity.h).
 *
 * CUPTI hands records back through two global callbacks (a buffer is
 * requested / a buffer is complete), so the collector's state is a single
 * static instance. Kernel names repeat across launches: they are interned,
 * and a record keeps a pointer into the intern table.
 */
#include "activity.h"

#include <cupti.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attention.h"

/* Record layouts by CUPTI version: the newest each kind has in that release. */
#if CUPTI_API_VERSION >= 130000
typedef CUpti_ActivityKernel10 kernel_activity;
typedef CUpti_ActivityMemcpy6 memcpy_activity;
typedef CUpti_ActivityMemset4 memset_activity;
#elif CUPTI_API_VERSION >= 18
typedef CUpti_ActivityKernel9 kernel_activity;
typedef CUpti_ActivityMemcpy5 memcpy_activity;
typedef CUpti_ActivityMemset4 memset_activity;
#else
#error "CUPTI from CUDA 12.0 or newer is needed"
#endif

#define BUFFER_BYTES (4u << 20)
#define MAX_NAMES 256
#define POOL_BUFFERS 16

struct zz_cupti {
    zz_kernel_record *pending, *handed;  /* gathered since the last collect / handed out by it */
    size_t n_pending, cap_pending, n_handed, cap_handed;
    char *names[MAX_NAMES];
    int n_names;
    unsigned long long dropped;
    int out_of_memory;
};

static zz_cupti collector;
static int running;

/* Buffers are recycled: every flush hands CUPTI's buffer back, and the
 * next launch asks for one. A fresh allocation there would page-fault
 * inside the timed step (kernels/NOTES.md, "Measurements behind design
 * choices"). */
static uint8_t *pool[POOL_BUFFERS];
static int pooled;

static const char *intern(zz_cupti *c, const char *name) {
    for (int i = 0; i < c->n_names; i++)
        if (!strcmp(c->names[i], name)) return c->names[i];
    if (c->n_names == MAX_NAMES) return "(too many kernel names)";
    char *copy = strdup(name);
    if (!copy) return "(out of memory)";
    return c->names[c->n_names++] = copy;
}

static void add_record(zz_cupti *c, const char *name, uint64_t start, uint64_t end, uint32_t stream) {
    if (c->n_pending == c->cap_pending) {
        size_t cap = c->cap_pending ? 2 * c->cap_pending : 4096;
        zz_kernel_record *grown = realloc(c->pending, cap * sizeof *grown);
        if (!grown) {
            c->out_of_memory = 1;
            return;
        }
        c->pending = grown, c->cap_pending = cap;
    }
    c->pending[c->n_pending++] = (zz_kernel_record){intern(c, name), start, end, stream};
}

static uint8_t *new_buffer(void) {
    uint8_t *b = aligned_alloc(8, BUFFER_BYTES);  /* CUPTI requires 8-byte alignment */
    if (b) memset(b, 0, BUFFER_BYTES);            /* fault the pages in now, not while timing */
    return b;
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records) {
    *buffer = pooled ? pool[--pooled] : new_buffer();
    *size = *buffer ? BUFFER_BYTES : 0;
    *max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream_id, uint8_t *buffer, size_t size,
                                      size_t valid) {
    (void)size;
    CUpti_Activity *record = NULL;
    while (cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
        switch (record->kind) {
        case CUPTI_ACTIVITY_KIND_KERNEL:
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
            const kernel_activity *k = (const kernel_activity *)record;
            add_record(&collector, k->name, k->start, k->end, k->streamId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
            const memcpy_activity *m = (const memcpy_activity *)record;
            add_record(&collector, "memcpy", m->start, m->end, m->streamId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
            const memset_activity *m = (const memset_activity *)record;
            add_record(&collector, "memset", m->start, m->end, m->streamId);
            break;
        }
        default: break;
        }
    }
    size_t dropped = 0;
    if (cuptiActivityGetNumDroppedRecords(ctx, stream_id, &dropped) == CUPTI_SUCCESS) collector.dropped += dropped;
    if (pooled < POOL_BUFFERS)
        pool[pooled++] = buffer;
    else
        free(buffer);
}

static const CUpti_ActivityKind recorded_kinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                                    CUPTI_ACTIVITY_KIND_MEMSET};
static int attached;

/* CUPTI is attached only while recording: attached but idle it still slows
 * graph replays (kernels/NOTES.md, "Measurements behind design choices").
 * Between attribution turns it is detached (cuptiFinalize); the next
 * recording attaches it again. Its first attach leaves hooks in the
 * process for good, so the runner starts it after every latency. */
static int attach(zz_error *err) {
    ZZ_CUPTI_OR_RETURN(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed));
    for (size_t i = 0; i < sizeof recorded_kinds / sizeof recorded_kinds[0]; i++)
        ZZ_CUPTI_OR_RETURN(cuptiActivityEnable(recorded_kinds[i]));
    attached = 1;
    return 0;
}

/* Detaching needs the device idle and every buffer flushed first. */
static int detach(zz_error *err) {
    cudaError_t rc = cudaDeviceSynchronize();
    if (rc != cudaSuccess)
        return zz_errorf(err, "%s:%d: cudaDeviceSynchronize: %s", __FILE__, __LINE__, cudaGetErrorString(rc));
    for (size_t i = 0; i < sizeof recorded_kinds / sizeof recorded_kinds[0]; i++)
        ZZ_CUPTI_OR_RETURN(cuptiActivityDisable(recorded_kinds[i]));
    ZZ_CUPTI_OR_RETURN(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
    ZZ_CUPTI_OR_RETURN(cuptiFinalize());
    attached = 0;
    return 0;
}

int zz_cupti_start(zz_cupti **out, zz_error *err) {
    *out = NULL;
    /* Nsight Compute and Nsight Systems load themselves through this
     * variable, and CUPTI accepts one subscriber: theirs. */
    const char *injected = getenv("CUDA_INJECTION64_PATH");
    if (injected && *injected) return zz_errorf(err, "a profiler is attached (CUDA_INJECTION64_PATH=%s)", injected);
    if (running) return zz_errorf(err, "CUPTI collection already started");
    while (pooled < 2) {
        uint8_t *b = new_buffer();
        if (!b) return zz_errorf(err, "out of memory for CUPTI buffers");
        pool[pooled++] = b;
    }
    /* Attach once to learn now, not mid-run, whether CUPTI works here. */
    if (attach(err) || detach(err)) return -1;
    running = 1;
    *out = &collector;
    return 0;
}

int zz_cupti_record(zz_cupti *c, int on, zz_error *err) {
    (void)c;  /* the state is CUPTI's own */
    if (on == attached) return 0;
    return on ? attach(err) : detach(err);
}

void zz_cupti_stop(zz_cupti *c) {
    if (!c || !running) return;
    zz_error ignored;
    if (attached) detach(&ignored);
    free(c->pending), free(c->handed);
    for (int i = 0; i < c->n_names; i++) free(c->names[i]);
    while (pooled) free(pool[--pooled]);
    memset(c, 0, sizeof *c);
    running = 0;
}

void zz_cupti_versions(int *built, unsigned *runtime) {
    *built = CUPTI_API_VERSION;
    uint32_t v = 0;
    if (cuptiGetVersion(&v) != CUPTI_SUCCESS) v = 0;
    *runtime = v;
}

int zz_cupti_collect(zz_cupti *c, uint32_t stream, const zz_kernel_record **records, size_t *n,
                     unsigned long long *dropped, zz_error *err) {
    ZZ_CUPTI_OR_RETURN(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
    if (c->out_of_memory) return zz_errorf(err, "out of memory storing CUPTI records");
    /* Keep this stream's records; swap buffers so the caller's stay valid
     * while the next ones gather. */
    c->n_handed = 0;
    if (c->cap_handed < c->n_pending) {
        zz_kernel_record *grown = realloc(c->handed, c->n_pending * sizeof *grown);
        if (!grown) return zz_errorf(err, "out of memory handing out %zu CUPTI records", c->n_pending);
        c->handed = grown, c->cap_handed = c->n_pending;
    }
    for (size_t i = 0; i < c->n_pending; i++)
        if (c->pending[i].stream == stream) c->handed[c->n_handed++] = c->pending[i];
    c->n_pending = 0;
    *records = c->handed;
    *n = c->n_handed;
    *dropped = c->dropped;
    return 0;
}

int zz_cupti_stream_id(zz_cupti *c, void *cuda_stream, uint32_t *id, zz_error *err) {
    /* CUPTI numbers streams itself: launch one tiny probe on the stream and
     * read the id off its record. */
    const zz_kernel_record *records;
    size_t n;
    unsigned long long dropped;
    bf16 *probe;
    if (zz_cupti_collect(c, 0, &records, &n, &dropped, err)) return -1;  /* drop what came before */
    cudaError_t rc = cudaMalloc((void **)&probe, 16);
    if (rc != cudaSuccess) return zz_errorf(err, "%s:%d: cudaMalloc: %s", __FILE__, __LINE__, cudaGetErrorString(rc));
    int failed = zz_fill_uniform(probe, 8, 1, 1.f, (cudaStream_t)cuda_stream) != ZZ_OK;
    rc = cudaStreamSynchronize((cudaStream_t)cuda_stream);
    cudaFree(probe);
    if (failed) return zz_errorf(err, "%s", zz_kernel_error());
    if (rc != cudaSuccess) return zz_errorf(err, "%s:%d: cudaStreamSynchronize: %s", __FILE__, __LINE__, cudaGetErrorString(rc));
    ZZ_CUPTI_OR_RETURN(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
    for (size_t i = 0; i < c->n_pending; i++)
        if (strstr(c->pending[i].name, "fill_uniform_kernel")) {
            *id = c->pending[i].stream;
            c->n_pending = 0;
            return 0;
        }
    c->n_pending = 0;
    return zz_errorf(err, "CUPTI recorded no kernel for the probe launch (is kernel activity enabled?)");
}
