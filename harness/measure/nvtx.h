/* NVTX ranges in the suite's own domain ("zz-bench"), so an Nsight timeline
 * reads like the plan: run > configuration > layout > sample > step >
 * layer N > op. Without a tool attached these calls cost a branch. */
#ifndef ZZ_NVTX_H
#define ZZ_NVTX_H

#include <stdint.h>

/* Push a range named `name` (copied by the tool); argb 0: the tool's colour. */
void zz_nvtx_push(const char *name, uint32_t argb);
void zz_nvtx_pop(void);

#endif
