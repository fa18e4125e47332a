/* hearkend's sandbox: once started, the service cannot read the person's
 * files outside its folders, even when a caller names them, and it says
 * so, yet transcribes a file the caller opens and passes; a seccomp filter
 * is in force; and the apps it opens for the person still run free of it.
 *
 * "Outside" is a folder of its own under /tmp: the harness lets hearkend
 * read the build, the shared test data and the test's own folder only. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "daemon/hk-daemon-harness.h"
#include "hearken-landlock.h"
#include "hk-wav.h"

static HkDaemon *d;
static char *outside;

static void
setup(void)
{
    GError *error = NULL;

    d = hk_daemon_new();
    outside = g_dir_make_tmp("hearken-outside-XXXXXX", &error);
    hk_assert_no_error(error);
}

static void
teardown(void)
{
    char *launched = g_build_filename(outside, "launched", NULL);
    char *secret = g_build_filename(outside, "secret.wav", NULL);

    hk_daemon_free(d);
    g_unlink(launched);
    g_unlink(secret);
    g_rmdir(outside);
    g_free(launched);
    g_free(secret);
    g_clear_pointer(&outside, g_free);
}

static char *
write_file(const char *folder, const char *name, const char *contents)
{
    char *path = g_build_filename(folder, name, NULL);
    GError *error = NULL;

    g_file_set_contents(path, contents, -1, &error);
    hk_assert_no_error(error);
    return path;
}

static char *
proc_status_line(const char *pid, const char *field)
{
    char *path = g_build_filename("/proc", pid, "status", NULL);
    char *contents = NULL, *line = NULL;
    char **lines;
    GError *error = NULL;

    g_file_get_contents(path, &contents, NULL, &error);
    hk_assert_no_error(error);
    lines = g_strsplit(contents, "\n", -1);
    for (char **l = lines; *l && !line; l++)
        if (g_str_has_prefix(*l, field))
            line = g_strstrip(g_strdup(*l + strlen(field)));
    g_strfreev(lines);
    g_free(contents);
    g_free(path);
    ck_assert_msg(line != NULL, "no %s in /proc/%s/status", field, pid);
    return line;
}

/* valgrind passes neither Landlock nor seccomp through to hearkend: the
 * other runs of the suite check those. */
static gboolean
skip_under_wrapper(void)
{
    const char *wrapper = g_getenv("HK_DAEMON_WRAPPER");

    if (!wrapper || !*wrapper)
        return FALSE;
    printf("hearkend runs under %s, which has no Landlock or seccomp: left out\n", wrapper);
    return TRUE;
}

static void
assert_call_fails(const char *method, GVariant *params, const char *error_name, const char *needle)
{
    GError *error = NULL;
    char *remote = NULL;

    ck_assert_ptr_null(hk_daemon_call(d, method, params, &error));
    ck_assert_ptr_nonnull(error);
    remote = g_dbus_error_get_remote_error(error);
    ck_assert_msg(g_strcmp0(remote, error_name) == 0, "%s: %s (%s), expected %s", method,
                  error->message, remote, error_name);
    ck_assert_msg(strstr(error->message, needle), "%s: “%s” does not say “%s”", method,
                  error->message, needle);
    g_free(remote);
    g_error_free(error);
}

/* Half a second of silence: 16 kHz, mono, 16-bit PCM. */
static char *
write_silence(const char *folder, const char *name)
{
    char *path = g_build_filename(folder, name, NULL);

    ck_assert(hk_write_silent_wav(path, 16000, 8000));
    return path;
}

/* TranscribeFd with fd (which stays the caller's). */
static GVariant *
transcribe_passing(int fd, GError **error)
{
    GUnixFDList *fds = g_unix_fd_list_new();
    GVariant *reply;

    ck_assert_int_eq(g_unix_fd_list_append(fds, fd, NULL), 0);
    reply = g_dbus_connection_call_with_unix_fd_list_sync(
        d->connection, "org.hearken.Assistant1", "/org/hearken/Assistant1",
        "org.hearken.Assistant1", "TranscribeFd", g_variant_new("(h)", 0),
        G_VARIANT_TYPE("(sd)"), G_DBUS_CALL_FLAGS_NONE, 60000, fds, NULL, NULL, error);
    g_object_unref(fds);
    return reply;
}

static GVariant *
transcribe_fd(const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    GVariant *reply;

    ck_assert_int_ge(fd, 0);
    reply = transcribe_passing(fd, error);
    close(fd);
    return reply;
}

/* What a hostile caller may pass instead of a recording: refused at once,
 * not read (a pipe nobody writes to would hold a worker for good). */
static void
assert_fd_refused(int fd, const char *what)
{
    GError *error = NULL;
    char *remote;

    ck_assert_msg(fd >= 0, "could not open %s", what);
    ck_assert_ptr_null(transcribe_passing(fd, &error));
    ck_assert_ptr_nonnull(error);
    remote = g_dbus_error_get_remote_error(error);
    ck_assert_msg(g_strcmp0(remote, "org.hearken.Error.InvalidArgument") == 0 &&
                  strstr(error->message, "not a pipe, device or folder"),
                  "%s: %s", what, error->message);
    g_free(remote);
    g_error_free(error);
    close(fd);
}

START_TEST(test_service_runs_confined)
{
    const char *pid;
    char *no_new_privs, *seccomp;

    if (skip_under_wrapper())
        return;
    hk_daemon_start(d, NULL);
    pid = g_subprocess_get_identifier(d->daemon);
    ck_assert_ptr_nonnull(pid);
    no_new_privs = proc_status_line(pid, "NoNewPrivs:");
    seccomp = proc_status_line(pid, "Seccomp:");
    ck_assert_str_eq(no_new_privs, "1");
    /* 2: a filter */
    ck_assert_str_eq(seccomp, "2");
    g_free(no_new_privs);
    g_free(seccomp);
}
END_TEST

START_TEST(test_files_outside_its_folders_are_not_read)
{
    char *secret = write_file(outside, "secret.wav", "not audio, but private");
    char *allowed = write_file(d->tmpdir, "allowed.wav", "not audio, but private");
    char *model = g_build_filename(outside, "secret.wav", NULL);
    char *voice_env = g_strdup_printf("HEARKEN_VOICE_DIR=%s/data/voice", g_getenv("HEARKEN_BUILD_ROOT"));
    const char *env[] = { voice_env, NULL };
    GError *error = NULL;
    GVariant *reply;
    const char *text;
    double confidence;

    if (skip_under_wrapper())
        goto out;
    if (hearken_landlock_abi() == 0) {
        printf("the kernel has no Landlock: hearkend cannot confine its reading here\n");
        goto out;
    }
    hk_daemon_start(d, env);

    /* the same bytes: read and refused as audio inside, unread outside */
    assert_call_fails("TranscribeFile", g_variant_new("(s)", allowed),
                      "org.hearken.Error.InvalidArgument", "not an audio file");
    assert_call_fails("TranscribeFile", g_variant_new("(s)", secret),
                      "org.hearken.Error.PermissionDenied", "may not read");
    {
        GVariantBuilder options;

        g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&options, "{sv}", "file", g_variant_new_string(secret));
        assert_call_fails("StartListening", g_variant_new("(a{sv})", &options),
                          "org.hearken.Error.PermissionDenied", "may not read");
    }
    assert_call_fails("LoadModel", g_variant_new("(s)", model),
                      "org.hearken.Error.PermissionDenied", d->models_dir);

    /* hearkenctl's way: the caller opens the file and passes it */
    g_free(secret);
    secret = write_silence(outside, "secret.wav");
    reply = transcribe_fd(secret, &error);
    hk_assert_no_error(error);
    g_variant_get(reply, "(&sd)", &text, &confidence);
    ck_assert_str_eq(text, "");
    g_variant_unref(reply);
    {
        int pipe_fds[2];

        ck_assert_int_eq(pipe(pipe_fds), 0);
        assert_fd_refused(pipe_fds[0], "a pipe");
        close(pipe_fds[1]);
        assert_fd_refused(open("/dev/zero", O_RDONLY | O_CLOEXEC), "/dev/zero");
        assert_fd_refused(open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "a folder");
    }
    /* a handle with no file behind it */
    assert_call_fails("TranscribeFd", g_variant_new("(h)", 0),
                      "org.hearken.Error.InvalidArgument", "needs the file");

out:
    g_free(voice_env);
    g_free(secret);
    g_free(allowed);
    g_free(model);
}
END_TEST

/* An app opened for the person writes where hearkend itself may not. */
START_TEST(test_opened_apps_run_outside_the_sandbox)
{
    char *applications = g_build_filename(d->data_home, "applications", NULL);
    char *launched = g_build_filename(outside, "launched", NULL);
    char *entry = g_strdup_printf("[Desktop Entry]\nType=Application\nName=Marker\n"
                                  "Exec=/bin/sh -c \"echo opened > %s\"\n", launched);
    char *model = g_build_filename(g_getenv("HEARKEN_BUILD_ROOT"), "data", "intents",
                                   "intents.gguf", NULL);
    char *model_env = g_strconcat("HEARKEN_INTENT_MODEL=", model, NULL);
    const char *env[] = { model_env, NULL };
    char *desktop_file, *reply_text = NULL;
    GVariant *reply, *info;
    gint64 deadline;

    ck_assert_int_eq(g_mkdir_with_parents(applications, 0700), 0);
    desktop_file = write_file(applications, "org.hearken.TestMarker.desktop", entry);
    hk_daemon_start(d, env);

    reply = hk_daemon_call_ok(d, "Ask", g_variant_new_parsed("('open Marker', @a{sv} {})"));
    g_variant_get(reply, "(s@a{sv})", &reply_text, &info);
    ck_assert_msg(strstr(reply_text, "Opening Marker"), "reply: %s", reply_text);

    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!g_file_test(launched, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_usleep(50 * 1000);
    ck_assert_msg(g_file_test(launched, G_FILE_TEST_EXISTS), "the app did not run free: no %s",
                  launched);

    g_variant_unref(info);
    g_variant_unref(reply);
    g_free(reply_text);
    g_free(desktop_file);
    g_free(model_env);
    g_free(model);
    g_free(entry);
    g_free(launched);
    g_free(applications);
}
END_TEST

static Suite *
sandbox_suite(void)
{
    Suite *s = suite_create("daemon-sandbox");
    TCase *confined = tcase_create("confined");

    tcase_add_checked_fixture(confined, setup, teardown);
    tcase_add_test(confined, test_service_runs_confined);
    tcase_add_test(confined, test_files_outside_its_folders_are_not_read);
    tcase_add_test(confined, test_opened_apps_run_outside_the_sandbox);
    suite_add_tcase(s, confined);
    return s;
}

int
main(void)
{
    return hk_daemon_run_suite(sandbox_suite());
}
