/* error.h — how engine functions report failure.
 *
 * Every engine function that can fail returns an int: 0 on success, a
 * negative errno-style code on failure.  It also fills a caller-provided
 * hk_error with a sentence saying what went wrong and where, so the CLI and
 * the service can show it to a person.  The engine never prints, never
 * aborts on bad input and never exits.
 */
#pragma once

#include <stdarg.h>

typedef struct hk_error {
    int  code;           /* negative errno-style code, 0 when unset */
    char message[512];
} hk_error;

#if defined(__GNUC__)
#define HK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HK_PRINTF(f, a)
#endif

/* Fill err (which may be NULL) and return code, so a failure is one line:
 *     return hk_error_set(err, -EINVAL, "bad thing at offset %zu", off); */
int hk_error_set(hk_error *err, int code, const char *fmt, ...) HK_PRINTF(3, 4);

/* Put context in front of an existing message ("model.gguf: " + message).
 * Returns nothing on purpose: err may be NULL, so the caller returns its
 * own code. */
void hk_error_prefix(hk_error *err, const char *fmt, ...) HK_PRINTF(2, 3);

void hk_error_clear(hk_error *err);
