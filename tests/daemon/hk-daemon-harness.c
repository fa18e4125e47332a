/* hk-daemon-harness.c — see hk-daemon-harness.h. */
#include "hk-daemon-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUS_NAME    "org.hearken.Assistant1"
#define OBJECT_PATH "/org/hearken/Assistant1"
#define INTERFACE   "org.hearken.Assistant1"

/* The folder hk_daemon_run_suite() gives the tests' folders. */
#define ROOT_VARIABLE "HK_DAEMON_ROOT"

static void
print_log(const char *path)
{
    char *log = NULL;

    if (!g_file_get_contents(path, &log, NULL, NULL))
        return;
    fprintf(stderr, "----- hearkend's log (%s) -----\n%s----- end of hearkend's log -----\n", path, log);
    g_free(log);
}

/* Check ends a failed test with _exit(), and a test past its time with
 * SIGKILL: neither runs the test's cleanup, so the folder of a failed
 * test is still there when the suite ends. */
static void
print_logs_left_in(const char *root)
{
    GDir *dir = g_dir_open(root, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        char *log = g_build_filename(root, name, "hearkend.log", NULL);
        print_log(log);
        g_free(log);
    }
    if (dir)
        g_dir_close(dir);
}

int
hk_daemon_run_suite(Suite *suite)
{
    char *dbus_daemon = g_find_program_in_path("dbus-daemon");
    GError *error = NULL;
    char *root;
    SRunner *runner;
    int failed;

    if (!dbus_daemon) {
        printf("SKIP: the integration tests need dbus-daemon (Debian package dbus)\n");
        return HK_TEST_SKIP;
    }
    g_free(dbus_daemon);
    /* outside a test: no ck_assert here */
    root = g_dir_make_tmp("hearken-daemon-tests-XXXXXX", &error);
    if (!root) {
        fprintf(stderr, "Could not make a folder for the tests: %s\n", error->message);
        g_error_free(error);
        return EXIT_FAILURE;
    }
    g_setenv(ROOT_VARIABLE, root, TRUE);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (failed)
        print_logs_left_in(root);
    hk_tmpdir_remove(root);
    g_free(root);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static char *
test_dir_new(void)
{
    const char *root = g_getenv(ROOT_VARIABLE);
    char *dir;

    if (!root)
        return hk_tmpdir_new();
    dir = g_build_filename(root, "test-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(dir));
    return dir;
}

static char *
make_dir(const char *parent, const char *name)
{
    char *path = g_build_filename(parent, name, NULL);

    ck_assert_int_eq(g_mkdir_with_parents(path, 0700), 0);
    return path;
}

HkDaemon *
hk_daemon_new(void)
{
    HkDaemon *d = g_new0(HkDaemon, 1);
    char *hearken_data;

    d->tmpdir = test_dir_new();
    d->data_home = make_dir(d->tmpdir, "data");
    d->config_home = make_dir(d->tmpdir, "config");
    hearken_data = make_dir(d->data_home, "hearken");
    d->models_dir = make_dir(hearken_data, "models");
    d->db_path = g_build_filename(hearken_data, "hearken.db", NULL);
    d->log_path = g_build_filename(d->tmpdir, "hearkend.log", NULL);
    g_free(hearken_data);
    /* The keyfile backend sees changes to a file that exists when it
     * starts; one it must wait for, it notices late or not at all. */
    hk_daemon_write_settings(d, "");

    d->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
    g_test_dbus_up(d->bus);
    d->connection = hk_daemon_connect(d);
    return d;
}

GDBusConnection *
hk_daemon_connect(HkDaemon *d)
{
    GError *error = NULL;
    GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
        g_test_dbus_get_bus_address(d->bus),
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);

    hk_assert_no_error(error);
    return connection;
}

static void
timeout_cb(gpointer data)
{
    *(gboolean *) data = TRUE;
}

int
hk_daemon_timeout_ms(void)
{
    const char *scale = g_getenv("HK_TIMEOUT_SCALE");
    int n = scale ? atoi(scale) : 1;
    return 20000 * (n >= 1 && n <= 100 ? n : 1);
}

void
hk_daemon_wait_for(gboolean *flag, const char *what)
{
    gboolean timed_out = FALSE;
    guint id = g_timeout_add_once(HK_DAEMON_TIMEOUT_MS, timeout_cb, &timed_out);

    while (!*flag && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    ck_assert_msg(*flag, "timed out after %d ms waiting for %s", HK_DAEMON_TIMEOUT_MS, what);
}

static GSubprocess *
spawn(HkDaemon *d, const char *const *args, const char *const *env)
{
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    const char *build_root = g_getenv("HEARKEN_BUILD_ROOT");
    char *program, *system_data, *arg0, *sandbox_allow;
    char **wrapper_argv = NULL;
    const char *wrapper;
    GPtrArray *argv = g_ptr_array_new();
    GSubprocess *process;
    GError *error = NULL;
    int log_fd;

    ck_assert_msg(build_root != NULL, "HEARKEN_BUILD_ROOT is not set (run the tests with meson test)");
    program = g_build_filename(build_root, "service", "daemon", "hearkend", NULL);
    system_data = g_build_filename(d->tmpdir, "system-data", NULL);

    log_fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ck_assert_int_ge(log_fd, 0);
    g_subprocess_launcher_take_stdout_fd(launcher, log_fd);
    g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", d->data_home, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_CONFIG_HOME", d->config_home, TRUE);
    /* the Vulkan pipeline cache, kept out of the user's */
    g_subprocess_launcher_setenv(launcher, "XDG_CACHE_HOME", d->tmpdir, TRUE);
    /* no models or activation files from the machine */
    g_subprocess_launcher_setenv(launcher, "XDG_DATA_DIRS", system_data, TRUE);
    /* …but the machine's Vulkan drivers, which the loader looks for there */
    if (!g_getenv("VK_DRIVER_FILES") && !g_getenv("VK_ICD_FILENAMES")) {
        GString *drivers = g_string_new("/etc/vulkan/icd.d");
        for (const char *const *dir = g_get_system_data_dirs(); *dir; dir++)
            g_string_append_printf(drivers, ":%s/vulkan/icd.d", *dir);
        g_subprocess_launcher_setenv(launcher, "VK_DRIVER_FILES", drivers->str, TRUE);
        g_string_free(drivers, TRUE);
    }
    g_subprocess_launcher_setenv(launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
    /* hearkend confines itself: it may read the build (the test intent
     * model, the voice data) and the test's own folder, where the tests
     * put models */
    sandbox_allow = g_strjoin(":", build_root, d->tmpdir, g_getenv("HEARKEN_SHARED") ?: "", NULL);
    g_subprocess_launcher_setenv(launcher, "HEARKEN_SANDBOX_ALLOW", sandbox_allow, TRUE);
    g_free(sandbox_allow);
    g_subprocess_launcher_unsetenv(launcher, "HEARKEN_MODEL");
    g_subprocess_launcher_unsetenv(launcher, "HEARKEN_BACKEND");
    /* no intent model unless the test names one: an installed Hearken's
     * would answer some turns with actions instead of the language model */
    g_subprocess_launcher_setenv(launcher, "HEARKEN_INTENT_MODEL", "/nonexistent/intents.gguf", TRUE);
    for (guint i = 0; env && env[i]; i++) {
        char **kv = g_strsplit(env[i], "=", 2);
        g_subprocess_launcher_setenv(launcher, kv[0], kv[1] ? kv[1] : "", TRUE);
        g_strfreev(kv);
    }

    /* `meson test --setup valgrind` runs hearkend under memcheck too */
    wrapper = g_getenv("HK_DAEMON_WRAPPER");
    if (wrapper && *wrapper) {
        g_shell_parse_argv(wrapper, NULL, &wrapper_argv, &error);
        hk_assert_no_error(error);
        for (guint i = 0; wrapper_argv[i]; i++)
            g_ptr_array_add(argv, wrapper_argv[i]);
    }
    arg0 = program;
    g_ptr_array_add(argv, arg0);
    for (guint i = 0; args && args[i]; i++)
        g_ptr_array_add(argv, (gpointer) args[i]);
    g_ptr_array_add(argv, NULL);
    process = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
    hk_assert_no_error(error);

    g_ptr_array_unref(argv);
    g_strfreev(wrapper_argv);
    g_free(program);
    g_free(system_data);
    g_object_unref(launcher);
    return process;
}

/* What hk_daemon_start waits for: the name, or the daemon's early death. */
typedef struct {
    gboolean appeared;
    gboolean exited;
    gboolean done;
} StartWait;

static void
name_appeared_cb(GDBusConnection *connection, const char *name, const char *owner, gpointer data)
{
    StartWait *wait = data;

    wait->appeared = wait->done = TRUE;
}

static void
exited_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    GError *error = NULL;

    g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error);
    /* cancelled: the waiter is gone, data with it */
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return;
    }
    g_clear_error(&error);
    *(gboolean *) data = TRUE;
}

static void
start_exited_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    GError *error = NULL;
    StartWait *wait = data;

    g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return;
    }
    g_clear_error(&error);
    wait->exited = wait->done = TRUE;
}

void
hk_daemon_start(HkDaemon *d, const char *const *env)
{
    const char *args[] = { "--verbose", NULL };
    StartWait wait = { FALSE, FALSE, FALSE };
    GCancellable *cancellable = g_cancellable_new();
    guint watch;

    ck_assert_ptr_null(d->daemon);
    d->daemon = spawn(d, args, env);
    watch = g_bus_watch_name_on_connection(d->connection, BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                           name_appeared_cb, NULL, &wait, NULL);
    g_subprocess_wait_async(d->daemon, cancellable, start_exited_cb, &wait);

    hk_daemon_wait_for(&wait.done, "hearkend to own " BUS_NAME);
    g_bus_unwatch_name(watch);
    g_cancellable_cancel(cancellable);
    g_object_unref(cancellable);
    ck_assert_msg(!wait.exited, "hearkend exited before owning " BUS_NAME);
}

static void
wait_exit(GSubprocess *process)
{
    gboolean exited = FALSE;

    g_subprocess_wait_async(process, NULL, exited_cb, &exited);
    hk_daemon_wait_for(&exited, "hearkend to exit");
}

static void
assert_clean_exit(HkDaemon *d, const char *why)
{
    wait_exit(d->daemon);
    ck_assert_msg(g_subprocess_get_if_exited(d->daemon),
                  "hearkend did not exit %s but died of signal %d", why,
                  g_subprocess_get_term_sig(d->daemon));
    ck_assert_int_eq(g_subprocess_get_exit_status(d->daemon), 0);
    g_clear_object(&d->daemon);
}

void
hk_daemon_stop(HkDaemon *d)
{
    ck_assert_ptr_nonnull(d->daemon);
    g_subprocess_send_signal(d->daemon, SIGTERM);
    assert_clean_exit(d, "on SIGTERM");
}

void
hk_daemon_expect_exit(HkDaemon *d)
{
    ck_assert_ptr_nonnull(d->daemon);
    assert_clean_exit(d, "by itself");
}

void
hk_daemon_kill(HkDaemon *d, int signal)
{
    ck_assert_ptr_nonnull(d->daemon);
    g_subprocess_send_signal(d->daemon, signal);
    wait_exit(d->daemon);
    g_clear_object(&d->daemon);
}

void
hk_daemon_replace(HkDaemon *d, const char *const *env)
{
    const char *args[] = { "--verbose", "--replace", NULL };
    GSubprocess *old = d->daemon;

    ck_assert_ptr_nonnull(old);
    d->daemon = spawn(d, args, env);
    wait_exit(old);
    ck_assert(g_subprocess_get_if_exited(old));
    ck_assert_int_eq(g_subprocess_get_exit_status(old), 0);
    g_object_unref(old);
}

int
hk_daemon_run_other(HkDaemon *d, const char *const *argv, const char *const *env)
{
    GSubprocess *other = spawn(d, argv, env);
    int status;

    wait_exit(other);
    status = g_subprocess_get_if_exited(other) ? g_subprocess_get_exit_status(other)
                                               : 128 + g_subprocess_get_term_sig(other);
    g_object_unref(other);
    return status;
}

void
hk_daemon_free(HkDaemon *d)
{
    /* Every test ends with a clean stop, so a sanitizer build reports
     * leaks and errors of the whole run. */
    if (d->daemon)
        hk_daemon_stop(d);
    g_dbus_connection_close_sync(d->connection, NULL, NULL);
    g_clear_object(&d->connection);
    g_test_dbus_down(d->bus);
    g_clear_object(&d->bus);
    hk_tmpdir_remove(d->tmpdir);
    g_free(d->tmpdir);
    g_free(d->data_home);
    g_free(d->config_home);
    g_free(d->models_dir);
    g_free(d->db_path);
    g_free(d->log_path);
    g_free(d);
}

GVariant *
hk_daemon_call(HkDaemon *d, const char *method, GVariant *params, GError **error)
{
    return g_dbus_connection_call_sync(d->connection, BUS_NAME, OBJECT_PATH, INTERFACE,
                                       method, params, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       HK_DAEMON_TIMEOUT_MS, NULL, error);
}

GVariant *
hk_daemon_call_ok(HkDaemon *d, const char *method, GVariant *params)
{
    GError *error = NULL;
    GVariant *reply = hk_daemon_call(d, method, params, &error);

    hk_assert_no_error(error);
    return reply;
}

gsize
hk_reply_n_items(GVariant *reply)
{
    GVariant *array = g_variant_get_child_value(reply, 0);
    gsize n = g_variant_n_children(array);

    g_variant_unref(array);
    return n;
}

GVariant *
hk_daemon_property(HkDaemon *d, const char *name)
{
    GError *error = NULL;
    GVariant *reply, *value;

    reply = g_dbus_connection_call_sync(d->connection, BUS_NAME, OBJECT_PATH,
                                        "org.freedesktop.DBus.Properties", "Get",
                                        g_variant_new("(ss)", INTERFACE, name),
                                        G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                        HK_DAEMON_TIMEOUT_MS, NULL, &error);
    hk_assert_no_error(error);
    g_variant_get(reply, "(v)", &value);
    g_variant_unref(reply);
    return value;
}

char *
hk_daemon_property_string(HkDaemon *d, const char *name)
{
    GVariant *value = hk_daemon_property(d, name);
    char *text = g_variant_dup_string(value, NULL);

    g_variant_unref(value);
    return text;
}

char *
hk_daemon_start_conversation(HkDaemon *d)
{
    GVariant *reply = hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"));
    char *id;

    g_variant_get(reply, "(s)", &id);
    g_variant_unref(reply);
    return id;
}

char *
hk_daemon_home_with_microphone(HkDaemon *d)
{
    static const char asoundrc[] =
        "pcm.hearken_test_mic {\n"
        "    type null\n"
        "    hint { show on description \"Hearken test microphone\" }\n"
        "}\n";
    char *home = g_build_filename(d->tmpdir, "home", NULL);
    char *path = g_build_filename(home, ".asoundrc", NULL);
    char *env = g_strconcat("HOME=", home, NULL);

    ck_assert_int_eq(g_mkdir_with_parents(home, 0700), 0);
    ck_assert(g_file_set_contents(path, asoundrc, -1, NULL));
    g_free(path);
    g_free(home);
    return env;
}

void
hk_daemon_write_settings(HkDaemon *d, const char *lines)
{
    char *dir = g_build_filename(d->config_home, "glib-2.0", "settings", NULL);
    char *path = g_build_filename(dir, "keyfile", NULL);
    char *text = g_strdup_printf("[org/hearken/Hearken]\n%s\n", lines);

    ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    g_free(path);
    g_free(dir);
}
