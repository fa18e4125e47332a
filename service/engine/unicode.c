#include "unicode.h"

static const char replacement[] = "\xEF\xBF\xBD";  /* U+FFFD */

size_t
hk_utf8_lead_len(uint8_t lead)
{
    static const uint8_t by_high_nibble[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
    return by_high_nibble[lead >> 4];
}

/* The range the second byte must fall in, which rules out overlong forms,
 * surrogates and code points past U+10FFFF (Unicode table 3-7). */
static void
second_byte_range(uint8_t lead, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (lead == 0xE0)
        *lo = 0xA0;
    else if (lead == 0xED)
        *hi = 0x9F;
    else if (lead == 0xF0)
        *lo = 0x90;
    else if (lead == 0xF4)
        *hi = 0x8F;
}

static size_t
expected_len(uint8_t lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;  /* continuation byte, overlong lead C0/C1, or F5..FF */
}

hk_utf8_status
hk_utf8_scan(const char *s, size_t n, size_t *ret_len)
{
    const uint8_t *u = (const uint8_t *) s;
    size_t need = expected_len(u[0]);

    if (need == 0) {
        *ret_len = 1;
        return HK_UTF8_INVALID;
    }
    for (size_t i = 1; i < need; i++) {
        if (i == n) {
            *ret_len = n;
            return HK_UTF8_INCOMPLETE;
        }
        uint8_t lo = 0x80, hi = 0xBF;
        if (i == 1)
            second_byte_range(u[0], &lo, &hi);
        if (u[i] < lo || u[i] > hi) {
            *ret_len = i;
            return HK_UTF8_INVALID;
        }
    }
    *ret_len = need;
    return HK_UTF8_VALID;
}

size_t
hk_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char) (0xF0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

size_t
hk_utf8_append_valid(GString *out, const char *s, size_t n, gboolean final)
{
    size_t i = 0, run = 0;  /* s[i - run .. i) is valid and not yet appended */

    while (i < n) {
        size_t len;
        hk_utf8_status st = hk_utf8_scan(s + i, n - i, &len);
        if (st == HK_UTF8_VALID) {
            i += len;
            run += len;
            continue;
        }
        g_string_append_len(out, s + i - run, (gssize) run);
        run = 0;
        if (st == HK_UTF8_INCOMPLETE && !final)
            return len;
        g_string_append_len(out, replacement, 3);
        i += len;
    }
    g_string_append_len(out, s + i - run, (gssize) run);
    return 0;
}

size_t
hk_utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0, len;

    while (i < n && hk_utf8_scan(s + i, n - i, &len) == HK_UTF8_VALID)
        i += len;
    return i;
}
