/* unicode.h — UTF-8 scanning for the tokenizers and their decoders.
 *
 * Token pieces are bytes: a character may be split over several tokens and
 * files from the internet may hold any bytes.  These helpers tell whole
 * characters from unfinished and invalid ones, so that what reaches a
 * person is always valid UTF-8.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef enum hk_utf8_status {
    HK_UTF8_VALID,       /* a whole character */
    HK_UTF8_INVALID,     /* bytes that no continuation can make valid */
    HK_UTF8_INCOMPLETE,  /* the start of a character cut off by the end of the input */
} hk_utf8_status;

/* Classify the bytes at s (n >= 1).  *ret_len is the character's length
 * (VALID), the length of the ill-formed part to replace by one U+FFFD —
 * its "maximal subpart" in Unicode's words, at least 1 (INVALID), or n
 * (INCOMPLETE). */
hk_utf8_status hk_utf8_scan(const char *s, size_t n, size_t *ret_len);

/* Length of the character a lead byte announces, from its high bits alone
 * (1 for ASCII and continuation bytes); callers clamp it to what is left. */
size_t hk_utf8_lead_len(uint8_t lead);

/* Append the UTF-8 form of a code point (< 0x110000), return its length. */
size_t hk_utf8_encode(uint32_t cp, char out[4]);

/* Append s to out with every ill-formed part replaced by U+FFFD.  With
 * final, an unfinished character at the end is ill-formed too; without,
 * its bytes are not appended and the count of them is returned, so the
 * caller can keep them for later. */
size_t hk_utf8_append_valid(GString *out, const char *s, size_t n, gboolean final);

/* Length of the longest prefix of s[0..n) that is valid UTF-8. */
size_t hk_utf8_valid_prefix(const char *s, size_t n);
