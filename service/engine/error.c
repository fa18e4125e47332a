#include "error.h"

#include <stdio.h>
#include <string.h>

int
hk_error_set(hk_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int
hk_error_prefix(hk_error *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);

    char joined[sizeof err->message];
    snprintf(joined, sizeof joined, "%s%s", prefix, err->message);
    memcpy(err->message, joined, sizeof joined);
    return err->code;
}

void
hk_error_clear(hk_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->message[0] = '\0';
}
