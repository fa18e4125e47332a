/* hearkend's model folders: listing with GGUF metadata, damaged files,
 * and resolving a path or a name to a file.  The models are small GGUF
 * files written here with the engine's writer. */
#include <string.h>

#include "daemon/hk-glib-check.h"
#include "gguf.h"
#include "hearken-error.h"
#include "hearken-models.h"

static char *tmpdir;
static char *user_dir;
static char *system_dir;

static void
setup(void)
{
    tmpdir = hk_tmpdir_new();
    user_dir = g_build_filename(tmpdir, "user", NULL);
    system_dir = g_build_filename(tmpdir, "system", NULL);
    g_mkdir(user_dir, 0700);
    g_mkdir(system_dir, 0700);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
    g_clear_pointer(&user_dir, g_free);
    g_clear_pointer(&system_dir, g_free);
}

static HearkenModels *
new_models(void)
{
    const char *dirs[] = { user_dir, system_dir, NULL };
    return hearken_models_new(dirs);
}

/* A GGUF with a 256x16 matrix of type `type` and, unless file_type < 0,
 * general.file_type; name may be NULL. */
static char *
write_model(const char *dir, const char *file, const char *name, int file_type, hk_type type)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    uint64_t ne[2] = { 256, 16 };
    size_t bytes = hk_type_row_bytes(type, 256) * 16;
    void *data = g_malloc0(bytes);
    char *path = g_build_filename(dir, file, NULL);

    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    if (name)
        hk_gguf_writer_set_str(w, "general.name", name);
    if (file_type >= 0)
        hk_gguf_writer_set_u32(w, "general.file_type", (uint32_t) file_type);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "blk.0.ffn_up.weight", type, 2, ne, data, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_write_file(w, path, &err), 0);
    hk_gguf_writer_free(w);
    g_free(data);
    return path;
}

static void
write_file(const char *dir, const char *file, const char *content)
{
    char *path = g_build_filename(dir, file, NULL);
    ck_assert(g_file_set_contents(path, content, -1, NULL));
    g_free(path);
}

/* The entry of the listing whose path ends in suffix. */
static GVariantDict *
entry_for(GVariant *list, const char *suffix)
{
    for (gsize i = 0; i < g_variant_n_children(list); i++) {
        GVariant *entry = g_variant_get_child_value(list, i);
        GVariantDict *dict = g_variant_dict_new(entry);
        const char *path = NULL;

        g_variant_unref(entry);
        g_variant_dict_lookup(dict, "path", "&s", &path);
        if (path && g_str_has_suffix(path, suffix))
            return dict;
        g_variant_dict_unref(dict);
    }
    ck_abort_msg("no entry for %s", suffix);
    return NULL;
}

static void
assert_string(GVariantDict *dict, const char *key, const char *expected)
{
    const char *value = NULL;

    ck_assert_msg(g_variant_dict_lookup(dict, key, "&s", &value), "no string %s", key);
    ck_assert_str_eq(value, expected);
}

START_TEST(test_list_reads_the_metadata)
{
    HearkenModels *models = new_models();
    char *qwen = write_model(user_dir, "qwen.gguf", "Qwen2.5 0.5B Instruct", 15, HK_TYPE_Q4_K);
    char *plain = write_model(system_dir, "plain.gguf", NULL, -1, HK_TYPE_F16);
    GVariant *list = hearken_models_list(models, NULL, qwen);
    GVariantDict *entry;
    guint64 size = 0;
    gboolean loaded = FALSE;

    ck_assert_uint_eq(g_variant_n_children(list), 2);

    entry = entry_for(list, "/user/qwen.gguf");
    assert_string(entry, "name", "Qwen2.5 0.5B Instruct");
    assert_string(entry, "architecture", "llama");
    /* the file's type, not the type of its tensors */
    assert_string(entry, "quantization", "Q4_K_M");
    ck_assert(g_variant_dict_lookup(entry, "size", "t", &size));
    ck_assert_uint_gt(size, 256 * 16 / 2);
    ck_assert(g_variant_dict_lookup(entry, "loaded", "b", &loaded));
    ck_assert(loaded);
    ck_assert(!g_variant_dict_contains(entry, "error"));
    g_variant_dict_unref(entry);

    entry = entry_for(list, "/system/plain.gguf");
    /* no general.name: the file name; no file_type: the matrices' type */
    assert_string(entry, "name", "plain");
    assert_string(entry, "quantization", "F16");
    ck_assert(g_variant_dict_lookup(entry, "loaded", "b", &loaded));
    ck_assert(!loaded);
    g_variant_dict_unref(entry);

    g_variant_unref(list);
    g_free(qwen);
    g_free(plain);
    g_object_unref(models);
}
END_TEST

START_TEST(test_damaged_files_are_listed_with_an_error)
{
    HearkenModels *models = new_models();
    char *good = write_model(user_dir, "good.gguf", "Good", 7, HK_TYPE_Q8_0);
    char *cut, *data = NULL;
    gsize size = 0;
    GVariant *list;
    GVariantDict *entry;
    const char *error = NULL;

    write_file(user_dir, "garbage.gguf", "this is not a model at all");
    /* a real header with its tensor data cut off */
    ck_assert(g_file_get_contents(good, &data, &size, NULL));
    cut = g_build_filename(user_dir, "cut.gguf", NULL);
    ck_assert(g_file_set_contents(cut, data, size / 2, NULL));
    g_free(data);
    g_free(cut);

    list = hearken_models_list(models, NULL, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 3);
    entry = entry_for(list, "/garbage.gguf");
    assert_string(entry, "name", "garbage");
    ck_assert(g_variant_dict_lookup(entry, "error", "&s", &error));
    ck_assert_str_ne(error, "");
    g_variant_dict_unref(entry);
    entry = entry_for(list, "/cut.gguf");
    ck_assert(g_variant_dict_contains(entry, "error"));
    g_variant_dict_unref(entry);
    entry = entry_for(list, "/good.gguf");
    ck_assert(!g_variant_dict_contains(entry, "error"));
    assert_string(entry, "quantization", "Q8_0");
    g_variant_dict_unref(entry);

    g_variant_unref(list);
    g_free(good);
    g_object_unref(models);
}
END_TEST

START_TEST(test_only_gguf_files_are_models)
{
    HearkenModels *models = new_models();
    char *subdir = g_build_filename(user_dir, "folder.gguf", NULL);
    GVariant *list;

    g_free(write_model(user_dir, "model.gguf", NULL, 1, HK_TYPE_F16));
    write_file(user_dir, "download.gguf.part", "half a model");
    write_file(user_dir, "README", "hello");
    g_mkdir(subdir, 0700);

    list = hearken_models_list(models, NULL, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_unref(list);
    g_free(subdir);
    g_object_unref(models);
}
END_TEST

START_TEST(test_extra_path_is_listed_once)
{
    HearkenModels *models = new_models();
    char *outside_dir = g_build_filename(tmpdir, "elsewhere", NULL);
    char *outside, *inside;
    GVariant *list;

    g_mkdir(outside_dir, 0700);
    outside = write_model(outside_dir, "x.gguf", "Outside", 1, HK_TYPE_F16);
    inside = write_model(user_dir, "y.gguf", "Inside", 1, HK_TYPE_F16);

    list = hearken_models_list(models, outside, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 2);
    g_variant_unref(list);
    list = hearken_models_list(models, inside, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_unref(list);
    list = hearken_models_list(models, "/no/such/file.gguf", NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_unref(list);

    g_free(outside);
    g_free(inside);
    g_free(outside_dir);
    g_object_unref(models);
}
END_TEST

static void
assert_resolves(HearkenModels *models, const char *path_or_name, const char *expected)
{
    GError *error = NULL;
    char *path = hearken_models_resolve(models, path_or_name, &error);

    hk_assert_no_error(error);
    ck_assert_str_eq(path, expected);
    g_free(path);
}

START_TEST(test_resolve_by_path_file_and_name)
{
    HearkenModels *models = new_models();
    char *user = write_model(user_dir, "b-model.gguf", "Tiny Chat", 1, HK_TYPE_F16);
    char *user_first = write_model(user_dir, "a-model.gguf", NULL, 1, HK_TYPE_F16);
    char *system = write_model(system_dir, "0-system.gguf", NULL, 1, HK_TYPE_F16);

    assert_resolves(models, user, user);
    assert_resolves(models, "b-model.gguf", user);
    assert_resolves(models, "b-model", user);
    assert_resolves(models, "tiny chat", user);
    assert_resolves(models, "0-system", system);
    /* empty: the user's folder comes first, then names in order */
    assert_resolves(models, "", user_first);

    g_free(user);
    g_free(user_first);
    g_free(system);
    g_object_unref(models);
}
END_TEST

START_TEST(test_default_model_skips_damaged_files)
{
    HearkenModels *models = new_models();
    char *good = write_model(user_dir, "z-good.gguf", NULL, 1, HK_TYPE_F16);
    GError *error = NULL;

    write_file(user_dir, "a-broken.gguf", "GGUF and then nonsense");
    assert_resolves(models, "", good);
    g_unlink(good);
    ck_assert_ptr_null(hearken_models_resolve(models, "", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NO_MODEL);
    g_clear_error(&error);
    g_free(good);
    g_object_unref(models);
}
END_TEST

START_TEST(test_resolve_errors_say_what_to_do)
{
    HearkenModels *models = new_models();
    GError *error = NULL;
    char *long_name = g_strnfill(5000, 'a');

    ck_assert_ptr_null(hearken_models_resolve(models, "", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NO_MODEL);
    ck_assert_ptr_nonnull(strstr(error->message, user_dir));
    ck_assert_ptr_nonnull(strstr(error->message, "HEARKEN_MODEL"));
    g_clear_error(&error);

    ck_assert_ptr_null(hearken_models_resolve(models, "nonesuch", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(error->message, "nonesuch"));
    g_clear_error(&error);

    ck_assert_ptr_null(hearken_models_resolve(models, "/no/such/model.gguf", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    g_clear_error(&error);

    ck_assert_ptr_null(hearken_models_resolve(models, "models/x.gguf", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);

    ck_assert_ptr_null(hearken_models_resolve(models, long_name, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(error->message, "4096"));
    g_clear_error(&error);

    g_free(long_name);
    g_object_unref(models);
}
END_TEST

START_TEST(test_default_dirs_follow_xdg)
{
    GStrv dirs;

    g_setenv("XDG_DATA_HOME", "/home/u/.data", TRUE);
    g_setenv("XDG_DATA_DIRS", "/opt/share:/usr/share", TRUE);
    dirs = hearken_models_default_dirs();
    ck_assert_uint_eq(g_strv_length(dirs), 3);
    ck_assert_str_eq(dirs[0], "/home/u/.data/hearken/models");
    ck_assert_str_eq(dirs[1], "/opt/share/hearken/models");
    ck_assert_str_eq(dirs[2], "/usr/share/hearken/models");
    g_strfreev(dirs);
}
END_TEST

static Suite *
models_suite(void)
{
    Suite *s = suite_create("daemon-models");
    TCase *listing = tcase_create("listing");
    TCase *resolving = tcase_create("resolving");

    tcase_add_checked_fixture(listing, setup, teardown);
    tcase_add_test(listing, test_list_reads_the_metadata);
    tcase_add_test(listing, test_damaged_files_are_listed_with_an_error);
    tcase_add_test(listing, test_only_gguf_files_are_models);
    tcase_add_test(listing, test_extra_path_is_listed_once);
    suite_add_tcase(s, listing);

    tcase_add_checked_fixture(resolving, setup, teardown);
    tcase_add_test(resolving, test_resolve_by_path_file_and_name);
    tcase_add_test(resolving, test_default_model_skips_damaged_files);
    tcase_add_test(resolving, test_resolve_errors_say_what_to_do);
    tcase_add_test(resolving, test_default_dirs_follow_xdg);
    suite_add_tcase(s, resolving);
    return s;
}

HK_CHECK_MAIN(models_suite)
