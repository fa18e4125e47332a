/* hk-glib-check.h — Check helpers for the GLib code of hearkend. */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hk-check.h"

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

/* A fresh folder under $TMPDIR; hk_tmpdir_remove() deletes it and all it
 * holds. */
static inline char *
hk_tmpdir_new (void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp ("hearken-test-XXXXXX", &error);

    hk_assert_no_error (error);
    return dir;
}

static inline void
hk_tmpdir_remove (const char *path)
{
    GDir *dir = g_dir_open (path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name (dir))) {
            char *child = g_build_filename (path, name, NULL);
            if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
                !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
                hk_tmpdir_remove (child);
            else
                g_unlink (child);
            g_free (child);
        }
        g_dir_close (dir);
    }
    g_rmdir (path);
}
