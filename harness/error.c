#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int zz_errorf(zz_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}
