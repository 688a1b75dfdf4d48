/* Kernel timing through the CUPTI Activity API.
 *
 * Records CONCURRENT_KERNEL, MEMCPY and MEMSET activity into 8-byte-aligned
 * buffers; zz_cupti_collect flushes them and hands back plain records
 * (timeline.h) for one stream. Under Nsight Compute or Nsight Systems CUPTI
 * accepts no second subscriber: zz_cupti_start then fails with a reason and
 * the caller goes on with CUDA events alone.
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

/* Switch activity recording off (latency samples) and on (attribution
 * samples): recording itself lengthens launches, so the suite never times
 * latency with it on. zz_cupti_start leaves it on. */
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
