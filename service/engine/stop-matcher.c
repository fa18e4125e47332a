/* stop-matcher.c — stop strings over streamed text.
 *
 * Text that could still grow into a stop string is held back, so a reader
 * never sees half of one; once a stop string is complete, the text before
 * it is released and everything from it on is dropped.
 *
 * Pieces are whole UTF-8 characters and a stop string starts with one, so
 * the point where holding starts is always a character boundary.
 */
#include "sampler.h"

#include <glib.h>
#include <string.h>

struct hk_stop_matcher {
    GPtrArray *stops;    /* the non-empty stop strings, owned */
    GString   *held;     /* text that may be the start of a stop string */
    GString   *emit;     /* what the last call returned */
    bool       stopped;
};

hk_stop_matcher *
hk_stop_matcher_new(const char *const *stops, size_t n_stops)
{
    hk_stop_matcher *m = g_new0(hk_stop_matcher, 1);

    m->stops = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; stops && i < n_stops; i++) {
        /* An empty stop string would end every reply before it began. */
        if (stops[i] && stops[i][0])
            g_ptr_array_add(m->stops, g_strdup(stops[i]));
    }
    m->held = g_string_new(NULL);
    m->emit = g_string_new(NULL);
    return m;
}

void
hk_stop_matcher_free(hk_stop_matcher *m)
{
    if (!m)
        return;
    g_ptr_array_unref(m->stops);
    g_string_free(m->held, TRUE);
    g_string_free(m->emit, TRUE);
    g_free(m);
}

/* Where the earliest stop string in the held text begins, or -1. */
static gssize
find_stop(const hk_stop_matcher *m)
{
    gssize first = -1;

    for (guint i = 0; i < m->stops->len; i++) {
        const char *at = strstr(m->held->str, g_ptr_array_index(m->stops, i));
        gssize pos = at ? at - m->held->str : -1;
        if (pos >= 0 && (first < 0 || pos < first))
            first = pos;
    }
    return first;
}

/* The longest end of the held text that is a proper beginning of a stop
 * string: those bytes must wait for the next piece. */
static size_t
partial_stop_length(const hk_stop_matcher *m)
{
    const GString *h = m->held;
    size_t longest = 0;

    for (guint i = 0; i < m->stops->len; i++) {
        const char *stop = g_ptr_array_index(m->stops, i);
        size_t k = MIN(strlen(stop) - 1, h->len);
        for (; k > longest; k--) {
            if (memcmp(h->str + h->len - k, stop, k) == 0) {
                longest = k;
                break;
            }
        }
    }
    return longest;
}

/* Moves the first len bytes of the held text to the emitted text. */
static void
release(hk_stop_matcher *m, size_t len)
{
    g_string_append_len(m->emit, m->held->str, len);
    g_string_erase(m->held, 0, len);
}

bool
hk_stop_matcher_feed(hk_stop_matcher *m, const char *piece, const char **ret_emit)
{
    g_string_truncate(m->emit, 0);
    if (!m->stopped) {
        g_string_append(m->held, piece ? piece : "");
        gssize stop = find_stop(m);
        if (stop >= 0) {
            release(m, (size_t) stop);
            g_string_truncate(m->held, 0);
            m->stopped = true;
        } else {
            release(m, m->held->len - partial_stop_length(m));
        }
    }
    if (ret_emit)
        *ret_emit = m->emit->str;
    return m->stopped;
}

const char *
hk_stop_matcher_flush(hk_stop_matcher *m)
{
    g_string_truncate(m->emit, 0);
    release(m, m->held->len);
    return m->emit->str;
}
