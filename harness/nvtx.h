/* NVTX ranges in the suite's own domain ("zz-bench"), so an Nsight timeline
 * reads like the plan: run > configuration > layout > step > layer > op.
 * NVTX3 is header-only; without a tool attached these calls cost a branch. */
#ifndef ZZ_NVTX_H
#define ZZ_NVTX_H

#include <stdint.h>
#include <nvtx3/nvToolsExt.h>

static inline nvtxDomainHandle_t nvtx_domain(void) {
    static nvtxDomainHandle_t domain;
    if (!domain) domain = nvtxDomainCreateA("zz-bench");
    return domain;
}

/* color 0: no colour (the tool picks). */
static inline void nvtx_push(const char *name, uint32_t argb) {
    nvtxEventAttributes_t a = {0};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    if (argb) a.colorType = NVTX_COLOR_ARGB, a.color = argb;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = name;
    nvtxDomainRangePushEx(nvtx_domain(), &a);
}

static inline void nvtx_pop(void) { nvtxDomainRangePop(nvtx_domain()); }

#endif
