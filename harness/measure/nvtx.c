/* NVTX ranges (nvtx.h). One domain handle for the whole process: a handle
 * kept per translation unit gave each file its own push/pop stack under
 * Nsight Compute, so a filter such as "zz-bench@duo-cat/sample/step/" never
 * matched a stack that crossed files (kernels/NOTES.md, "Measurements
 * behind design choices"). */
#include "nvtx.h"

#include <nvtx3/nvToolsExt.h>

static nvtxDomainHandle_t domain(void) {
    static nvtxDomainHandle_t handle;
    if (!handle) handle = nvtxDomainCreateA("zz-bench");
    return handle;
}

void zz_nvtx_push(const char *name, uint32_t argb) {
    nvtxEventAttributes_t a = {0};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    if (argb) a.colorType = NVTX_COLOR_ARGB, a.color = argb;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = name;
    nvtxDomainRangePushEx(domain(), &a);
}

void zz_nvtx_pop(void) { nvtxDomainRangePop(domain()); }
