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

/* ------------------------------------------------ under systemd */

/* A stand-in for the user's service manager on a private bus: it checks
 * a StartTransientUnit call as systemd would (the types of the properties
 * it knows) and, as systemd does, runs the unit's ExecStart. */
static const char manager_xml[] =
    "<node><interface name='org.freedesktop.systemd1.Manager'>"
    "<method name='StartTransientUnit'>"
    "<arg name='name' type='s' direction='in'/><arg name='mode' type='s' direction='in'/>"
    "<arg name='properties' type='a(sv)' direction='in'/>"
    "<arg name='aux' type='a(sa(sv))' direction='in'/>"
    "<arg name='job' type='o' direction='out'/>"
    "</method></interface></node>";

typedef struct {
    char  *unit;
    char **exec_argv;
    char  *exit_type;
    char  *collect_mode;
    char  *error;          /* what systemd would have refused */
} StartedUnit;

static StartedUnit started;

static const char *
property_type(const char *name)
{
    static const char *const types[][2] = {
        { "Description", "s" }, { "ExecStart", "a(sasb)" }, { "ExitType", "s" },
        { "CollectMode", "s" }, { "Environment", "as" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
        if (g_str_equal(types[i][0], name))
            return types[i][1];
    return NULL;
}

static void
read_property(const char *name, GVariant *value)
{
    const char *type = property_type(name);

    if (!type || !g_variant_is_of_type(value, G_VARIANT_TYPE(type))) {
        started.error = g_strdup_printf("property %s of type %s", name,
                                        g_variant_get_type_string(value));
        return;
    }
    if (g_str_equal(name, "ExecStart")) {
        GVariant *first = g_variant_get_child_value(value, 0);
        g_variant_get_child(first, 1, "^as", &started.exec_argv);
        g_variant_unref(first);
    } else if (g_str_equal(name, "ExitType"))
        started.exit_type = g_variant_dup_string(value, NULL);
    else if (g_str_equal(name, "CollectMode"))
        started.collect_mode = g_variant_dup_string(value, NULL);
}

static void
manager_call(GDBusConnection *connection, const char *sender, const char *path,
             const char *interface, const char *method, GVariant *params,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
    GVariantIter *properties;
    const char *name, *mode;
    GVariant *value;
    GError *error = NULL;

    g_variant_get(params, "(&s&sa(sv)@a(sa(sv)))", &name, &mode, &properties, NULL);
    started.unit = g_strdup(name);
    if (!g_str_equal(mode, "fail"))
        started.error = g_strdup_printf("mode %s", mode);
    while (g_variant_iter_next(properties, "(&sv)", &name, &value)) {
        read_property(name, value);
        g_variant_unref(value);
    }
    g_variant_iter_free(properties);
    if (started.exec_argv)
        g_spawn_async(NULL, started.exec_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &error);
    if (error) {
        started.error = g_strdup(error->message);
        g_error_free(error);
    }
    g_dbus_method_invocation_return_value(invocation,
                                          g_variant_new("(o)", "/org/freedesktop/systemd1/job/1"));
}

static gpointer
open_app_thread(gpointer id)
{
    GError *error = NULL;

    if (!hearken_launcher_open_app(id, &error)) {
        started.error = g_strdup(error->message);
        g_error_free(error);
    }
    /* the main thread may be waiting for the manager's call, which failed */
    g_main_context_wakeup(NULL);
    return NULL;
}

/* A unit of systemd's asks the service manager for a unit of the app's. */
START_TEST(test_under_systemd_apps_get_units_of_their_own)
{
    static const GDBusInterfaceVTable vtable = { manager_call, NULL, NULL, { 0 } };
    char *marker = install_marker_app("org.hearken.TestUnit.desktop", "unit");
    GTestDBus *bus = g_test_dbus_new(G_TEST_DBUS_NONE);
    GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(manager_xml, NULL);
    GDBusConnection *connection;
    GError *error = NULL;
    GThread *thread;
    guint owner;

    g_test_dbus_up(bus);
    /* forked before this process has a bus connection, as hearkend forks
     * it before it has any: a child would inherit a connection whose
     * worker thread did not follow it */
    g_setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", TRUE);
    ck_assert(hearken_launcher_start(&error));
    connection = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
    hk_assert_no_error(error);
    g_dbus_connection_register_object(connection, "/org/freedesktop/systemd1", node->interfaces[0],
                                      &vtable, NULL, NULL, &error);
    hk_assert_no_error(error);
    owner = g_bus_own_name_on_connection(connection, "org.freedesktop.systemd1",
                                         G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);

    /* the launcher waits for the manager, which answers on this thread */
    thread = g_thread_new("opener", open_app_thread, "org.hearken.TestUnit.desktop");
    while (!started.unit && !started.error)
        g_main_context_iteration(NULL, TRUE);
    g_thread_join(thread);

    ck_assert_msg(!started.error, "%s", started.error);
    ck_assert_msg(g_str_has_prefix(started.unit, "app-hearken-org.hearken.TestUnit-") &&
                  g_str_has_suffix(started.unit, ".service"), "unit %s", started.unit);
    ck_assert_str_eq(started.exit_type, "cgroup");
    ck_assert_str_eq(started.collect_mode, "inactive-or-failed");
    ck_assert_ptr_nonnull(started.exec_argv);
    ck_assert_str_eq(started.exec_argv[1], "launch");
    ck_assert(g_str_has_suffix(started.exec_argv[2], "/org.hearken.TestUnit.desktop"));
    wait_for_file(marker);

    g_bus_unown_name(owner);
    g_object_unref(connection);
    g_dbus_node_info_unref(node);
    g_test_dbus_down(bus);
    g_object_unref(bus);
    g_free(marker);
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
    tcase_add_test(tc, test_under_systemd_apps_get_units_of_their_own);
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
