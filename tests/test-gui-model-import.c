/* The window's "Choose a model file": the file goes into the models
 * folder, where hearkend's sandbox lets it read — a hard link on the same
 * file system, a copy across file systems, never over another model, and
 * a file already there is taken as it is. */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "daemon/hk-glib-check.h"
#include "hearken-model-import.h"

static char *root;      /* this test's folder, with models/ and downloads/ */
static char *models;

static void
imported_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    *(GAsyncResult **) user_data = g_object_ref(result);
}

static char *
import(const char *source, GError **error)
{
    GFile *file = g_file_new_for_path(source);
    GAsyncResult *result = NULL;
    char *path;

    hearken_model_import_async(file, models, NULL, imported_cb, &result);
    while (!result)
        g_main_context_iteration(NULL, TRUE);
    path = hearken_model_import_finish(result, error);
    g_object_unref(result);
    g_object_unref(file);
    return path;
}

static char *
write_model(const char *folder, const char *name, const char *contents)
{
    char *path = g_build_filename(folder, name, NULL);
    GError *error = NULL;

    ck_assert_int_eq(g_mkdir_with_parents(folder, 0700), 0);
    g_file_set_contents(path, contents, -1, &error);
    hk_assert_no_error(error);
    return path;
}

static void
assert_same_inode(const char *a, const char *b, gboolean same)
{
    struct stat sa, sb;

    ck_assert_int_eq(g_stat(a, &sa), 0);
    ck_assert_int_eq(g_stat(b, &sb), 0);
    ck_assert_msg((sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev) == same,
                  "%s and %s are %sthe same file", a, b, same ? "not " : "");
}

static void
assert_contents(const char *path, const char *expected)
{
    char *contents = NULL;

    ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
    ck_assert_str_eq(contents, expected);
    g_free(contents);
}

START_TEST(test_same_file_system_links)
{
    char *downloads = g_build_filename(root, "downloads", NULL);
    char *source = write_model(downloads, "tiny.gguf", "GGUF tiny");
    char *expected = g_build_filename(models, "tiny.gguf", NULL);
    GError *error = NULL;
    char *path = import(source, &error);

    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);
    assert_same_inode(source, path, TRUE);

    /* chosen again, from the models folder or from where it was */
    g_free(path);
    path = import(expected, &error);
    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);
    g_free(path);
    path = import(source, &error);
    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);

    g_free(path);
    g_free(expected);
    g_free(source);
    g_free(downloads);
}
END_TEST

START_TEST(test_another_model_of_the_name_is_kept)
{
    char *elsewhere = g_build_filename(root, "elsewhere", NULL);
    char *taken = write_model(models, "same.gguf", "the first");
    char *source = write_model(elsewhere, "same.gguf", "the second");
    char *expected = g_build_filename(models, "same-2.gguf", NULL);
    GError *error = NULL;
    char *path = import(source, &error);

    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);
    assert_contents(taken, "the first");
    assert_contents(path, "the second");

    g_free(path);
    g_free(expected);
    g_free(source);
    g_free(taken);
    g_free(elsewhere);
}
END_TEST

/* /dev/shm is a tmpfs of its own: no hard link reaches across. */
START_TEST(test_other_file_system_copies)
{
    char *shm_folder = g_build_filename("/dev/shm", "hearken-import-test", NULL);
    char *source = write_model(shm_folder, "copied.gguf", "GGUF copied");
    char *expected = g_build_filename(models, "copied.gguf", NULL);
    char *partial = g_strconcat(expected, ".part", NULL);
    GError *error = NULL;
    char *path = import(source, &error);

    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);
    assert_contents(path, "GGUF copied");
    assert_same_inode(source, path, FALSE);
    ck_assert(!g_file_test(partial, G_FILE_TEST_EXISTS));

    hk_tmpdir_remove(shm_folder);
    g_free(partial);
    g_free(path);
    g_free(expected);
    g_free(source);
    g_free(shm_folder);
}
END_TEST

START_TEST(test_missing_file_is_an_error)
{
    char *source = g_build_filename(root, "nowhere", "gone.gguf", NULL);
    GError *error = NULL;
    char *path = import(source, &error);

    ck_assert_ptr_null(path);
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_error_free(error);
    g_free(source);
}
END_TEST

static Suite *
import_suite(void)
{
    Suite *s = suite_create("gui-model-import");
    TCase *tc = tcase_create("import");

    tcase_add_test(tc, test_same_file_system_links);
    tcase_add_test(tc, test_another_model_of_the_name_is_kept);
    tcase_add_test(tc, test_other_file_system_copies);
    tcase_add_test(tc, test_missing_file_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *runner;
    int failed;

    root = g_dir_make_tmp("hearken-import-XXXXXX", NULL);
    if (!root)
        return EXIT_FAILURE;
    models = g_build_filename(root, "models", NULL);
    runner = srunner_create(import_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    hk_tmpdir_remove(root);
    g_free(models);
    g_free(root);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
