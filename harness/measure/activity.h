/* Kernel timing through the CUPTI Activity API.
 *
 * Records CONCURRENT_KERNEL, MEMCPY and MEMSET activity into 8-byte-aligned
 * buffers while attached (zz_cupti_record); zz_cupti_collect flushes them
 * and hands back plain records (timeline.h) for one stream. Under Nsight
 * Compute or Nsight Systems CUPTI accepts no second subscriber:
 * zz_cupti_start then fails with a reason and the caller goes on with CUDA
 * events alone.
 */
#ifndef ZZ_ACTIVITY_H
#define ZZ_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "timeline.h"

typedef struct zz_cupti zz_cupti;

/* 0, or -1 with the reason in err (profiler attached, CUPTI missing, ...). */
int zz_cupti_start(zz_cupti **out, zz_error *err);
void zz_cupti_stop(zz_cupti *c);

/* Attach CUPTI and record (attribution samples), or flush and detach it
 * (latency samples): recording lengthens launches, and even attached but
 * idle CUPTI slowed graph replays, so latency is never timed with CUPTI in
 * the process. zz_cupti_start leaves it detached. */
int zz_cupti_record(zz_cupti *c, int on, zz_error *err);

/* CUPTI's version (CUPTI_API_VERSION the suite was built against, and the
 * runtime's cuptiGetVersion). */
void zz_cupti_versions(int *built, unsigned *runtime);

/* Flush, then move every record of `stream` gathered since the last call
 * into *records (owned by c, valid until the next call); records of other
 * streams are dropped. *dropped: records CUPTI lost so far (buffer full). */
int zz_cupti_collect(zz_cupti *c, uint32_t stream, const zz_kernel_record **records, size_t *n,
                     unsigned long long *dropped, zz_error *err);

/* The CUPTI stream id of a CUDA stream. */
int zz_cupti_stream_id(zz_cupti *c, void *cuda_stream, uint32_t *id, zz_error *err);

#endif
