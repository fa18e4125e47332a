/* hearkend's settings: GSettings values, live changes and the environment
 * overrides.  Runs on the memory backend with the schema compiled in the
 * build tree (GSETTINGS_SCHEMA_DIR, GSETTINGS_BACKEND from meson). */
#include <math.h>
#include <string.h>

#include "daemon/hk-glib-check.h"
#include "hearken-settings.h"

static HearkenSettings *
new_settings(void)
{
    GError *error = NULL;
    HearkenSettings *settings = hearken_settings_new(&error);

    hk_assert_no_error(error);
    ck_assert_ptr_nonnull(settings);
    return settings;
}

static void
count_cb(GObject *object, GParamSpec *pspec, gpointer data)
{
    (*(int *) data)++;
}

/* Lets the settings backend deliver what it queued; a change shows up as
 * a notify within a few iterations or not at all. */
static void
drain_main_context(void)
{
    for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
        ;
}

START_TEST(test_defaults_come_from_the_schema)
{
    HearkenSettings *settings = new_settings();
    char *model = hearken_settings_dup_model(settings);
    char *prompt = hearken_settings_dup_system_prompt(settings);

    ck_assert_str_eq(model, "");
    ck_assert_str_eq(hearken_settings_get_backend(settings), "auto");
    ck_assert_int_eq(hearken_settings_get_vulkan_device(settings), -1);
    ck_assert_uint_eq(hearken_settings_get_max_tokens(settings), 512);
    ck_assert_uint_eq(hearken_settings_get_context_length(settings), 4096);
    ck_assert_double_eq_tol(hearken_settings_get_temperature(settings), 0.7, 1e-9);
    ck_assert_double_eq_tol(hearken_settings_get_top_p(settings), 0.95, 1e-9);
    ck_assert_uint_eq(hearken_settings_get_threads(settings), 0);
    ck_assert_uint_eq(hearken_settings_get_idle_unload_seconds(settings), 300);
    ck_assert(hearken_settings_get_keep_history(settings));
    ck_assert_ptr_nonnull(strstr(prompt, "Hearken"));
    ck_assert(!hearken_settings_is_overridden(settings, "model"));
    g_free(model);
    g_free(prompt);
    g_object_unref(settings);
}
END_TEST

START_TEST(test_changes_are_notified_without_restart)
{
    HearkenSettings *settings = new_settings();
    GSettings *other = g_settings_new("org.hearken.Hearken");
    int history_changes = 0, backend_changes = 0;

    g_signal_connect(settings, "notify::keep-history", G_CALLBACK(count_cb), &history_changes);
    g_signal_connect(settings, "notify::backend", G_CALLBACK(count_cb), &backend_changes);

    g_settings_set_boolean(other, "keep-history", FALSE);
    g_settings_set_string(other, "backend", "cpu");
    drain_main_context();

    ck_assert_int_eq(history_changes, 1);
    ck_assert_int_eq(backend_changes, 1);
    ck_assert(!hearken_settings_get_keep_history(settings));
    ck_assert_str_eq(hearken_settings_get_backend(settings), "cpu");
    g_object_unref(other);
    g_object_unref(settings);
}
END_TEST

START_TEST(test_environment_overrides_the_setting)
{
    HearkenSettings *settings;
    GSettings *other = g_settings_new("org.hearken.Hearken");
    int model_changes = 0;
    char *model;

    g_setenv("HEARKEN_MODEL", "/models/tiny.gguf", TRUE);
    g_setenv("HEARKEN_BACKEND", "cpu", TRUE);
    g_setenv("HEARKEN_VULKAN_DEVICE", "2", TRUE);
    settings = new_settings();
    g_signal_connect(settings, "notify::model", G_CALLBACK(count_cb), &model_changes);

    ck_assert(hearken_settings_is_overridden(settings, "model"));
    ck_assert(hearken_settings_is_overridden(settings, "backend"));
    ck_assert(!hearken_settings_is_overridden(settings, "temperature"));
    ck_assert_str_eq(hearken_settings_get_backend(settings), "cpu");
    ck_assert_int_eq(hearken_settings_get_vulkan_device(settings), 2);

    g_settings_set_string(other, "model", "other.gguf");
    drain_main_context();
    model = hearken_settings_dup_model(settings);
    ck_assert_str_eq(model, "/models/tiny.gguf");
    ck_assert_int_eq(model_changes, 0);
    g_free(model);
    g_object_unref(other);
    g_object_unref(settings);
}
END_TEST

START_TEST(test_bad_overrides_are_refused)
{
    GError *error = NULL;

    g_setenv("HEARKEN_BACKEND", "gpu", TRUE);
    ck_assert_ptr_null(hearken_settings_new(&error));
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(error->message, "HEARKEN_BACKEND=gpu"));
    g_clear_error(&error);

    g_setenv("HEARKEN_BACKEND", "vulkan", TRUE);
    g_setenv("HEARKEN_VULKAN_DEVICE", "64", TRUE);
    ck_assert_ptr_null(hearken_settings_new(&error));
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
}
END_TEST

/* GSettings' range check lets NaN through (every comparison with it is
 * false): the default stands in for it. */
START_TEST(test_nan_values_read_as_the_default)
{
    HearkenSettings *settings = new_settings();
    GSettings *raw = g_settings_new("org.hearken.Hearken");

    ck_assert(g_settings_set_double(raw, "temperature", NAN));
    ck_assert(g_settings_set_double(raw, "top-p", NAN));
    ck_assert(g_settings_set_double(raw, "intent-threshold", NAN));
    ck_assert_double_eq_tol(hearken_settings_get_temperature(settings), 0.7, 1e-9);
    ck_assert_double_eq_tol(hearken_settings_get_top_p(settings), 0.95, 1e-9);
    ck_assert_double_eq_tol(hearken_settings_get_intent_threshold(settings), 0.6, 1e-9);
    g_settings_reset(raw, "temperature");
    g_settings_reset(raw, "top-p");
    g_settings_reset(raw, "intent-threshold");
    g_object_unref(raw);
    g_object_unref(settings);
}
END_TEST

/* The model becomes the Model property, a D-Bus string. */
START_TEST(test_model_override_must_be_utf8)
{
    GError *error = NULL;

    g_setenv("HEARKEN_MODEL", "/tmp/mod\xff" "el.gguf", TRUE);
    ck_assert_ptr_null(hearken_settings_new(&error));
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(error->message, "not valid UTF-8") &&
                  g_utf8_validate(error->message, -1, NULL), "%s", error->message);
    g_clear_error(&error);
    g_unsetenv("HEARKEN_MODEL");
}
END_TEST

START_TEST(test_missing_schema_is_an_error_not_an_abort)
{
    GError *error = NULL;
    char *empty = hk_tmpdir_new();

    g_setenv("GSETTINGS_SCHEMA_DIR", empty, TRUE);
    ck_assert_ptr_null(hearken_settings_new(&error));
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(error->message, "GSETTINGS_SCHEMA_DIR"));
    g_clear_error(&error);
    hk_tmpdir_remove(empty);
    g_free(empty);
}
END_TEST

static Suite *
settings_suite(void)
{
    Suite *s = suite_create("daemon-settings");
    TCase *tc = tcase_create("settings");

    tcase_add_test(tc, test_defaults_come_from_the_schema);
    tcase_add_test(tc, test_changes_are_notified_without_restart);
    tcase_add_test(tc, test_environment_overrides_the_setting);
    tcase_add_test(tc, test_bad_overrides_are_refused);
    tcase_add_test(tc, test_nan_values_read_as_the_default);
    tcase_add_test(tc, test_model_override_must_be_utf8);
    tcase_add_test(tc, test_missing_schema_is_an_error_not_an_abort);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(settings_suite)
