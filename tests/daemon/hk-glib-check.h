/* hk-glib-check.h — Check helpers for the GLib code of hearkend. */
#pragma once

#include <gio/gio.h>

#include "hk-check.h"
#include "hk-tmpdir.h"

#define hk_assert_no_error(err)                                              \
    ck_assert_msg ((err) == NULL, "unexpected error: %s",                    \
                   (err) ? (err)->message : "")

#define hk_assert_error(err, dom, c)                                         \
    do {                                                                     \
        ck_assert_msg ((err) != NULL, "expected an error, got none");        \
        ck_assert_msg (g_error_matches ((err), (dom), (c)),                  \
                       "expected %s %d, got %s %d: %s",                      \
                       g_quark_to_string (dom), (int) (c),                   \
                       g_quark_to_string ((err)->domain), (err)->code,       \
                       (err)->message);                                      \
    } while (0)
