/* hk-tmpdir.h — folders a test makes under $TMPDIR and removes again. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include "hk-check.h"

/* A fresh folder under $TMPDIR; hk_tmpdir_remove() deletes it and all it
 * holds. */
static inline char *
hk_tmpdir_new(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("hearken-test-XXXXXX", &error);

    ck_assert_msg(error == NULL, "unexpected error: %s", error ? error->message : "");
    return dir;
}

static inline void
hk_tmpdir_remove(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                hk_tmpdir_remove(child);
            else
                g_unlink(child);
            g_free(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}
