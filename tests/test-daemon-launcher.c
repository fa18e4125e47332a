/* hearkend's launcher: it opens installed apps and the settings programs,
 * and nothing else, whether it runs in its own process (as in hearkend,
 * forked before the sandbox) or the request is carried out in process.
 * A hearkend taken over must not be able to run a command through it. */
#include <string.h>

#include <glib/gstdio.h>

#include "daemon/hk-glib-check.h"
#include "hearken-launcher.h"

/* main() makes it: XDG_DATA_HOME, with applications/, and bin/ on PATH
 * with a stand-in gnome-control-center that notes its arguments */
static char *root;
static char *settings_program;

static char *
marker_path(const char *name)
{
    return g_build_filename(root, name, NULL);
}

/* An app whose only effect is to leave a file named marker. */
static char *
install_marker_app(const char *id, const char *marker)
{
    char *path = marker_path(marker);
    char *entry = g_strdup_printf("[Desktop Entry]\nType=Application\nName=Marker\n"
                                  "Exec=/bin/sh -c \"echo opened > %s\"\n", path);
    char *file = g_build_filename(root, "applications", id, NULL);
    GError *error = NULL;

    g_file_set_contents(file, entry, -1, &error);
    hk_assert_no_error(error);
    g_free(file);
    g_free(entry);
    return path;
}

static void
wait_for_file(const char *path)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!g_file_test(path, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_usleep(20 * 1000);
    ck_assert_msg(g_file_test(path, G_FILE_TEST_EXISTS), "the app did not run: no %s", path);
}

/* The refusals, the same in process and through the launcher. */
static void
check_refusals(void)
{
    GError *error = NULL;
    gboolean ok;

    ok = hearken_launcher_open_app("org.example.NotInstalled.desktop", &error);
    ck_assert(!ok);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, "No installed app"), "%s", error->message);
    g_clear_error(&error);

    /* a program that is not a settings program, by path or by name */
    ok = hearken_launcher_open_settings("/bin/sh", NULL, &error);
    ck_assert(!ok);
    ck_assert_msg(strstr(error->message, "not a settings program"), "%s", error->message);
    g_clear_error(&error);
    ok = hearken_launcher_open_settings("/tmp/gnome-control-center", "display", &error);
    ck_assert(!ok);
    ck_assert_msg(strstr(error->message, "not a settings program"), "%s", error->message);
    g_clear_error(&error);

    /* a panel that smuggles a shell command or an option */
    ok = hearken_launcher_open_settings(settings_program, "display; rm -rf ~", &error);
    ck_assert(!ok);
    g_clear_error(&error);
    ok = hearken_launcher_open_settings(settings_program, "--help=x", &error);
    ck_assert(!ok);
    g_clear_error(&error);
}

static void
check_settings_open(void)
{
    char *noted = marker_path("settings-args");
    char *contents = NULL;
    GError *error = NULL;

    g_unlink(noted);
    ck_assert(hearken_launcher_open_settings(settings_program, "display", &error));
    hk_assert_no_error(error);
    wait_for_file(noted);
    /* the script may not have finished writing yet */
    for (int i = 0; i < 100 && (!contents || !strchr(contents, '\n')); i++) {
        g_free(contents);
        contents = NULL;
        g_file_get_contents(noted, &contents, NULL, NULL);
        g_usleep(20 * 1000);
    }
    ck_assert_str_eq(contents, "display\n");
    g_free(contents);
    g_free(noted);
}

START_TEST(test_in_process_opens_apps_and_refuses_the_rest)
{
    char *marker = install_marker_app("org.hearken.TestInProcess.desktop", "in-process");
    GError *error = NULL;

    check_refusals();
    check_settings_open();
    ck_assert(hearken_launcher_open_app("org.hearken.TestInProcess.desktop", &error));
    hk_assert_no_error(error);
    wait_for_file(marker);
    g_free(marker);
}
END_TEST

START_TEST(test_launcher_process_opens_apps_and_refuses_the_rest)
{
    char *marker = install_marker_app("org.hearken.TestLauncher.desktop", "launcher");
    GError *error = NULL;

    ck_assert(hearken_launcher_start(&error));
    hk_assert_no_error(error);
    check_refusals();
    check_settings_open();
    ck_assert(hearken_launcher_open_app("org.hearken.TestLauncher.desktop", &error));
    hk_assert_no_error(error);
    wait_for_file(marker);
    g_free(marker);
}
END_TEST

static gpointer
open_from_thread(gpointer data)
{
    GError *error = NULL;
    gboolean ok = hearken_launcher_open_app(data, &error);

    g_clear_error(&error);
    return GINT_TO_POINTER(ok);
}

/* Actions run on several threads: each gets its own answer. */
START_TEST(test_launcher_answers_each_thread)
{
    enum { N = 8 };
    char *markers[N];
    char *ids[N];
    GThread *threads[N];
    GError *error = NULL;

    for (int i = 0; i < N; i++) {
        char name[32];

        g_snprintf(name, sizeof name, "thread-%d", i);
        /* the odd ones ask for apps that are not there */
        ids[i] = g_strdup_printf("org.hearken.TestThread%d.desktop", i);
        markers[i] = i % 2 ? NULL : install_marker_app(ids[i], name);
    }
    ck_assert(hearken_launcher_start(&error));
    for (int i = 0; i < N; i++)
        threads[i] = g_thread_new("opener", open_from_thread, ids[i]);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(GPOINTER_TO_INT(g_thread_join(threads[i])), i % 2 == 0);
    for (int i = 0; i < N; i += 2)
        wait_for_file(markers[i]);
    for (int i = 0; i < N; i++) {
        g_free(markers[i]);
        g_free(ids[i]);
    }
}
END_TEST

static Suite *
launcher_suite(void)
{
    Suite *s = suite_create("daemon-launcher");
    TCase *tc = tcase_create("launcher");

    tcase_add_test(tc, test_in_process_opens_apps_and_refuses_the_rest);
    tcase_add_test(tc, test_launcher_process_opens_apps_and_refuses_the_rest);
    tcase_add_test(tc, test_launcher_answers_each_thread);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    char *applications, *bin, *script, *path_variable;
    SRunner *runner;
    int failed;

    root = g_dir_make_tmp("hearken-launcher-XXXXXX", NULL);
    applications = g_build_filename(root, "applications", NULL);
    bin = g_build_filename(root, "bin", NULL);
    settings_program = g_build_filename(bin, "gnome-control-center", NULL);
    script = g_strdup_printf("#!/bin/sh\necho \"$@\" > %s/settings-args\n", root);
    if (!root || g_mkdir(applications, 0700) != 0 || g_mkdir(bin, 0700) != 0 ||
        !g_file_set_contents(settings_program, script, -1, NULL) ||
        g_chmod(settings_program, 0700) != 0) {
        fprintf(stderr, "Could not prepare the test's folder under %s\n", root);
        return EXIT_FAILURE;
    }
    path_variable = g_strconcat(bin, ":", g_getenv("PATH"), NULL);
    g_setenv("PATH", path_variable, TRUE);
    g_setenv("XDG_DATA_HOME", root, TRUE);
    /* no apps of the machine: only this test's */
    g_setenv("XDG_DATA_DIRS", applications, TRUE);
    /* not under systemd: apps start as children, not transient units */
    g_unsetenv("INVOCATION_ID");

    runner = srunner_create(launcher_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    hk_tmpdir_remove(root);
    g_free(path_variable);
    g_free(script);
    g_free(settings_program);
    g_free(bin);
    g_free(applications);
    g_free(root);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
