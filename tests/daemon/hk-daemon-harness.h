/* hk-daemon-harness.h — the real hearkend on a private bus, for
 * integration tests.
 *
 * hk_daemon_start() brings up a dbus-daemon (GTestDBus), starts the built
 * hearkend (from HEARKEN_BUILD_ROOT) with its data, config and model
 * folders in a temporary folder and the keyfile settings backend there,
 * and waits for its bus name.  Run the suite with hk_daemon_run_suite():
 * when a test fails, it prints that test's hearkend log on stderr.  Every
 * wait has a timeout; none sleeps.
 */
#pragma once

#include "hk-glib-check.h"

/* Every wait's limit: 20 s, generous for a sanitizer build on a loaded
 * machine, times HK_TIMEOUT_SCALE (an integer, default 1) for slower
 * runs, such as the window under valgrind. */
#define HK_DAEMON_TIMEOUT_MS (hk_daemon_timeout_ms())
int hk_daemon_timeout_ms(void);

typedef struct {
    char            *tmpdir;
    char            *data_home;     /* XDG_DATA_HOME */
    char            *config_home;   /* XDG_CONFIG_HOME */
    char            *models_dir;    /* $XDG_DATA_HOME/hearken/models */
    char            *db_path;       /* $XDG_DATA_HOME/hearken/hearken.db */
    char            *log_path;
    GTestDBus       *bus;
    GDBusConnection *connection;    /* the test's own, private */
    GSubprocess     *daemon;
} HkDaemon;

/* main() of an integration test. */
int        hk_daemon_run_suite(Suite *suite);

/* Make the folders and the bus; nothing runs yet, so a test can put
 * models, settings or a database in place first. */
HkDaemon  *hk_daemon_new(void);
/* Start hearkend with extra environment ("KEY=VALUE", NULL-terminated,
 * may be NULL) and wait until it owns its name. */
void       hk_daemon_start(HkDaemon *d, const char *const *env);
/* SIGTERM, then wait: asserts a clean exit (status 0). */
void       hk_daemon_stop(HkDaemon *d);
/* Wait for hearkend to exit by itself: asserts a clean exit (status 0). */
void       hk_daemon_expect_exit(HkDaemon *d);
/* Kill hearkend with a signal, wait for it, don't judge. */
void       hk_daemon_kill(HkDaemon *d, int signal);
/* Stop hearkend as hk_daemon_stop() does, if it runs, and remove the
 * folder. */
void       hk_daemon_free(HkDaemon *d);

/* Start a second hearkend with --replace, wait for the first to hand
 * over the name and exit (status 0); the second is then the one running. */
void       hk_daemon_replace(HkDaemon *d, const char *const *env);

/* Start another hearkend with these arguments and wait for its exit;
 * returns the exit status. */
int        hk_daemon_run_other(HkDaemon *d, const char *const *argv, const char *const *env);

/* Another client on the bus (the caller closes and unrefs it). */
GDBusConnection *hk_daemon_connect(HkDaemon *d);

/* A method of org.hearken.Assistant1; NULL with *error set on failure. */
GVariant  *hk_daemon_call(HkDaemon *d, const char *method, GVariant *params, GError **error);
/* A call that must succeed: its reply. */
GVariant  *hk_daemon_call_ok(HkDaemon *d, const char *method, GVariant *params);
/* How many items the array that comes first in a reply holds. */
gsize      hk_reply_n_items(GVariant *reply);
/* A property's value (a new reference). */
GVariant  *hk_daemon_property(HkDaemon *d, const char *name);
/* A string property's value (g_free). */
char      *hk_daemon_property_string(HkDaemon *d, const char *name);
/* A new conversation's id (g_free). */
char      *hk_daemon_start_conversation(HkDaemon *d);

/* Write settings to the keyfile hearkend reads ("key=value" lines of the
 * org.hearken.Hearken group, values in GVariant text: keep-history=false,
 * backend='cpu'). */
void       hk_daemon_write_settings(HkDaemon *d, const char *lines);

/* A home folder whose ALSA configuration has one microphone,
 * "hearken_test_mic", a null device that records silence: the capture
 * path of a machine with a sound card.  Returns "HOME=…" for
 * hk_daemon_start()'s env (free it). */
char      *hk_daemon_home_with_microphone(HkDaemon *d);

/* Run the main context until *flag is set, failing after the timeout. */
void       hk_daemon_wait_for(gboolean *flag, const char *what);

#define hk_assert_dbus_error(err, name)                                      \
    do {                                                                     \
        char *remote_ = (err) ? g_dbus_error_get_remote_error(err) : NULL;   \
        ck_assert_msg((err) != NULL, "expected %s, got no error", (name));  \
        ck_assert_msg(g_strcmp0(remote_, (name)) == 0,                       \
                      "expected %s, got %s: %s", (name), remote_,            \
                      (err)->message);                                       \
        g_free(remote_);                                                     \
    } while (0)
