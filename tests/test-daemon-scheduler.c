/* hearkend's scheduler without the bus: loading a model on the worker,
 * the properties that say where it runs, a load that fails, and the
 * unload after the idle time.  Events reach the main context, so each
 * test runs the default main context until what it waits for happens. */
#include <string.h>

#include "daemon/hk-glib-check.h"
#include "hearken-error.h"
#include "hearken-scheduler.h"

/* Fails the test past this; the waits below end much sooner. */
#define WAIT_MS 20000

static char *model_path;
static const HearkenPlacement cpu_one_thread = { .backend = "cpu", .vulkan_device = -1, .threads = 1 };

static void
setup(void)
{
    model_path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
}

static void
teardown(void)
{
    g_clear_pointer(&model_path, g_free);
}

static void
set_flag_cb(gpointer data)
{
    *(gboolean *) data = TRUE;
}

static void
wait_for(gboolean *flag, const char *what)
{
    gboolean timed_out = FALSE;
    guint id = g_timeout_add_once(WAIT_MS, set_flag_cb, &timed_out);

    while (!*flag && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    ck_assert_msg(*flag, "timed out waiting for %s", what);
}

typedef struct {
    gboolean  done;
    gboolean  ok;
    GError   *error;
} LoadWait;

static void
load_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    LoadWait *wait = data;

    wait->ok = hearken_scheduler_load_finish(HEARKEN_SCHEDULER(source), result, &wait->error);
    wait->done = TRUE;
}

static void
load(HearkenScheduler *scheduler, const char *path, LoadWait *wait)
{
    hearken_scheduler_load_async(scheduler, path, &cpu_one_thread, 512, load_done_cb, wait);
    wait_for(&wait->done, "the load to finish");
}

START_TEST(test_load_tells_where_the_model_runs)
{
    HearkenScheduler *scheduler = hearken_scheduler_new();
    LoadWait wait = { 0 };

    ck_assert_str_eq(hearken_scheduler_get_state(scheduler), "idle");
    ck_assert_ptr_null(hearken_scheduler_get_loaded_path(scheduler));
    ck_assert_ptr_null(hearken_scheduler_get_device(scheduler));

    load(scheduler, model_path, &wait);
    hk_assert_no_error(wait.error);
    ck_assert(wait.ok);
    /* the reply finds everything in place */
    ck_assert_str_eq(hearken_scheduler_get_loaded_path(scheduler), model_path);
    ck_assert_str_eq(hearken_scheduler_get_backend(scheduler), "cpu");
    ck_assert_ptr_nonnull(strstr(hearken_scheduler_get_device(scheduler), "1 thread"));
    ck_assert_str_eq(hearken_scheduler_get_state(scheduler), "idle");
    g_object_unref(scheduler);
}
END_TEST

START_TEST(test_failed_load_is_a_model_load_error)
{
    HearkenScheduler *scheduler = hearken_scheduler_new();
    char *dir = hk_tmpdir_new();
    char *broken = g_build_filename(dir, "broken.gguf", NULL);
    LoadWait wait = { 0 };

    ck_assert(g_file_set_contents(broken, "GGUF, or so it says", -1, NULL));
    load(scheduler, broken, &wait);
    ck_assert(!wait.ok);
    hk_assert_error(wait.error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD);
    ck_assert_ptr_nonnull(strstr(wait.error->message, "broken.gguf"));
    ck_assert_ptr_null(hearken_scheduler_get_loaded_path(scheduler));
    ck_assert_str_eq(hearken_scheduler_get_state(scheduler), "idle");

    g_clear_error(&wait.error);
    g_object_unref(scheduler);
    hk_tmpdir_remove(dir);
    g_free(broken);
    g_free(dir);
}
END_TEST

static void
unloaded_cb(GObject *object, GParamSpec *pspec, gpointer data)
{
    if (!hearken_scheduler_get_loaded_path(HEARKEN_SCHEDULER(object)))
        *(gboolean *) data = TRUE;
}

START_TEST(test_idle_model_is_unloaded)
{
    HearkenScheduler *scheduler = hearken_scheduler_new();
    LoadWait wait = { 0 };
    gboolean unloaded = FALSE;
    gint64 asked_at = g_get_monotonic_time();

    load(scheduler, model_path, &wait);
    ck_assert(wait.ok);
    g_signal_connect(scheduler, "notify::loaded-path", G_CALLBACK(unloaded_cb), &unloaded);
    hearken_scheduler_set_idle_unload(scheduler, 1);
    wait_for(&unloaded, "the model to be unloaded");
    /* not before its idle second */
    ck_assert_int_ge(g_get_monotonic_time() - asked_at, G_TIME_SPAN_SECOND);
    /* where it ran is still known */
    ck_assert_str_eq(hearken_scheduler_get_backend(scheduler), "cpu");
    g_object_unref(scheduler);
}
END_TEST

static Suite *
scheduler_suite(void)
{
    Suite *s = suite_create("daemon-scheduler");
    TCase *tc = tcase_create("models");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_tells_where_the_model_runs);
    tcase_add_test(tc, test_failed_load_is_a_model_load_error);
    tcase_add_test(tc, test_idle_model_is_unloaded);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *runner;
    int failed;

    if (hk_test_skip_without_tiny_model("test-daemon-scheduler"))
        return HK_TEST_SKIP;
    runner = srunner_create(scheduler_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
