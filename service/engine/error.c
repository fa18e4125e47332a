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

void
hk_error_prefix(hk_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;

    /* When the two do not fit, the message loses its tail rather than the
     * prefix: both name the failure, but the prefix is the outer context. */
    size_t cap = sizeof err->message - 1;
    size_t plen = (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1;
    size_t mlen = strnlen(err->message, cap);
    if (plen + mlen > cap)
        mlen = cap - plen;
    memmove(err->message + plen, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen + mlen] = '\0';
}

void
hk_error_clear(hk_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->message[0] = '\0';
}
