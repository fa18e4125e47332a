/* hearken-launcher.c — opening apps outside hearkend's sandbox.
 *
 * The launcher is a child forked before the sandbox, talking with
 * hearkend over a SOCK_SEQPACKET pair: one request, one reply.  A request
 * is a kind byte and NUL-separated fields; a reply is '0', or '1' and
 * the reason.  Under systemd the launcher shares hearkend's unit and its
 * hardening (read-only system, private /tmp), so there it asks the
 * user's service manager to run the app in a unit of its own, as a
 * desktop shell does.
 */
#include "hearken-launcher.h"

#include <errno.h>
#include <gio/gdesktopappinfo.h>
#include <gio/gio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQUEST_MAX 4096
#define KIND_APP 'A'
#define KIND_SETTINGS 'S'

/* the launcher's end in hearkend, or -1: carry requests out in process */
static int launcher_fd = -1;
/* one request at a time: actions run on several threads */
static GMutex launcher_lock;

static const char *const settings_programs[] = {
  "gnome-control-center", "systemsettings", "xfce4-settings-manager",
};

/* ------------------------------------------------------------ checks */

static gboolean
is_settings_program (const char *program)
{
  g_autofree char *base = g_path_get_basename (program);
  g_autofree char *found = NULL;

  if (!g_strv_contains (settings_programs, base))
    return FALSE;
  /* the one PATH gives, not a file of the same name elsewhere */
  found = g_find_program_in_path (base);
  return found && g_str_equal (found, program);
}

char *
hearken_launcher_find_settings_program (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (settings_programs); i++)
    {
      char *program = g_find_program_in_path (settings_programs[i]);

      if (program)
        return program;
    }
  return NULL;
}

static gboolean
is_panel_name (const char *panel)
{
  gsize length = strlen (panel);

  if (length == 0 || length > 64)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (panel[i]) && panel[i] != '-')
      return FALSE;
  return TRUE;
}

/* ----------------------------------------------- through the service manager */

/* "org.gnome.Calculator.desktop" → "app-hearken-org.gnome.Calculator-1a2b3c4d.service",
 * the name the XDG desktop conventions give an app's unit. */
static char *
transient_unit_name (const char *id)
{
  g_autoptr(GString) name = g_string_new ("app-hearken-");
  gsize length = g_str_has_suffix (id, ".desktop") ? strlen (id) - strlen (".desktop")
                                                   : strlen (id);

  for (gsize i = 0; i < length; i++)
    g_string_append_c (name, g_ascii_isalnum (id[i]) || id[i] == '.' || id[i] == '_' ? id[i] : '_');
  g_string_append_printf (name, "-%08x.service", g_random_int ());
  return g_string_free (g_steal_pointer (&name), FALSE);
}

/* What the app needs to find the person's display, which the service
 * manager's own environment may lack. */
static GVariant *
display_environment (void)
{
  static const char *const names[] = {
    "DISPLAY", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE",
    "DBUS_SESSION_BUS_ADDRESS",
  };
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_STRING_ARRAY);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_getenv (names[i]))
      g_variant_builder_add_value (&builder, g_variant_new_take_string (
                                     g_strdup_printf ("%s=%s", names[i], g_getenv (names[i]))));
  return g_variant_builder_end (&builder);
}

static gboolean
start_transient_unit (const char          *id,
                      const char * const  *argv,
                      GError             **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  g_autofree char *name = transient_unit_name (id);
  g_auto(GVariantBuilder) properties = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sv)"));
  g_autoptr(GVariant) reply = NULL;

  if (!bus)
    return FALSE;
  g_variant_builder_add (&properties, "(sv)", "Description",
                         g_variant_new_string ("An app opened by Hearken"));
  g_variant_builder_add (&properties, "(sv)", "ExecStart",
                         g_variant_new_parsed ("[(%s, %^as, false)]", argv[0], argv));
  /* gio launch returns once the app runs: the unit lasts while the app does */
  g_variant_builder_add (&properties, "(sv)", "ExitType", g_variant_new_string ("cgroup"));
  g_variant_builder_add (&properties, "(sv)", "CollectMode",
                         g_variant_new_string ("inactive-or-failed"));
  g_variant_builder_add (&properties, "(sv)", "Environment", display_environment ());
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                                       g_variant_new ("(ssa(sv)a(sa(sv)))", name, "fail",
                                                      &properties, NULL),
                                       G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, error);
  return reply != NULL;
}

/* systemd sets INVOCATION_ID in the processes of a unit it runs. */
static gboolean
in_service_unit (void)
{
  return g_getenv ("INVOCATION_ID") != NULL;
}

/* ------------------------------------------------------------- opening */

static gboolean
open_app (const char  *id,
          GError     **error)
{
  g_autoptr(GDesktopAppInfo) app = g_desktop_app_info_new (id);
  g_autofree char *gio = NULL;

  if (!app)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No installed app has the ID “%s”", id);
      return FALSE;
    }
  if (!in_service_unit ())
    return g_app_info_launch (G_APP_INFO (app), NULL, NULL, error);
  if (!(gio = g_find_program_in_path ("gio")))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "The gio program (libglib2.0-bin) is not installed");
      return FALSE;
    }
  return start_transient_unit (id, (const char *[]) { gio, "launch",
                                                     g_desktop_app_info_get_filename (app),
                                                     NULL },
                               error);
}

static gboolean
open_settings (const char  *program,
               const char  *panel,
               GError     **error)
{
  const char *argv[] = { program, panel, NULL };
  g_autofree char *base = g_path_get_basename (program);

  if (!is_settings_program (program) || (panel && !is_panel_name (panel)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s %s is not a settings program and panel the launcher runs",
                   program, panel ? panel : "");
      return FALSE;
    }
  if (in_service_unit ())
    return start_transient_unit (base, argv, error);
  return g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, error);
}

/* ------------------------------------------------------------ the child */

static void
reply (int         fd,
       const char *message)
{
  g_autofree char *packet = g_strconcat (message ? "1" : "0", message, NULL);

  /* hearkend gone: the next recv ends the launcher */
  (void) send (fd, packet, strlen (packet), MSG_NOSIGNAL);
}

/* request: kind byte, then fields each ending in NUL ("A" id, or "S"
 * program panel); the fields, or NULL when there are not n of them. */
static gboolean
split_fields (const char  *request,
              gsize        length,
              const char **fields,
              guint        n)
{
  gsize at = 1;

  for (guint i = 0; i < n; i++)
    {
      const char *end = at < length ? memchr (request + at, '\0', length - at) : NULL;

      if (!end)
        return FALSE;
      fields[i] = request + at;
      at = end - request + 1;
    }
  return at == length;
}

static void
serve_request (int         fd,
               const char *request,
               gsize       length)
{
  g_autoptr(GError) error = NULL;
  const char *fields[2];
  gboolean ok = FALSE;

  if (request[0] == KIND_APP && split_fields (request, length, fields, 1))
    ok = open_app (fields[0], &error);
  else if (request[0] == KIND_SETTINGS && split_fields (request, length, fields, 2))
    ok = open_settings (fields[0], *fields[1] ? fields[1] : NULL, &error);
  else
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Malformed request");
  reply (fd, ok ? NULL : error->message);
}

static void G_GNUC_NORETURN
serve (int fd)
{
  char request[REQUEST_MAX];

  /* gone with hearkend, even if it dies before closing its end */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  for (;;)
    {
      ssize_t n = recv (fd, request, REQUEST_MAX, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit (0);
      serve_request (fd, request, n);
    }
}

/* Requests from now on fail, saying so; this only reaps it and tells why. */
static void
launcher_exited_cb (GPid     pid,
                    int      status,
                    gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  /* a session or a service manager that stops hearkend stops its whole
   * group: then the launcher going first is no fault */
  if (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM)
    g_debug ("The app launcher was stopped with the service");
  else if (!g_spawn_check_wait_status (status, &error))
    g_warning ("The app launcher stopped: %s", error->message);
  g_spawn_close_pid (pid);
}

gboolean
hearken_launcher_start (GError **error)
{
  int pair[2];
  pid_t pid;

  g_return_val_if_fail (launcher_fd < 0, FALSE);

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not make the launcher’s socket: %s", g_strerror (saved));
      return FALSE;
    }
  pid = fork ();
  if (pid < 0)
    {
      int saved = errno;

      close (pair[0]);
      close (pair[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not start the launcher: %s", g_strerror (saved));
      return FALSE;
    }
  if (pid == 0)
    {
      close (pair[0]);
      serve (pair[1]);
    }
  close (pair[1]);
  launcher_fd = pair[0];
  g_child_watch_add (pid, launcher_exited_cb, NULL);
  return TRUE;
}

/* ------------------------------------------------------- in hearkend */

static gboolean
ask_launcher (const char  *request,
              gsize        length,
              GError     **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&launcher_lock);
  char answer[REQUEST_MAX + 1];
  ssize_t n;

  if (send (launcher_fd, request, length, MSG_NOSIGNAL) < 0)
    n = -1;
  else
    do
      n = recv (launcher_fd, answer, REQUEST_MAX, 0);
    while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                           "Hearken’s app launcher has stopped; restart hearkend");
      return FALSE;
    }
  answer[n] = '\0';
  if (answer[0] == '0')
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, answer + 1);
  return FALSE;
}

static gboolean
send_request (char         kind,
              const char  *first,
              const char  *second,
              GError     **error)
{
  g_autoptr(GString) packet = g_string_new (NULL);

  g_string_append_c (packet, kind);
  g_string_append_len (packet, first, strlen (first) + 1);
  if (second)
    g_string_append_len (packet, second, strlen (second) + 1);
  if (packet->len > REQUEST_MAX)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The app’s name is too long");
      return FALSE;
    }
  return ask_launcher (packet->str, packet->len, error);
}

gboolean
hearken_launcher_open_app (const char  *desktop_id,
                           GError     **error)
{
  g_return_val_if_fail (desktop_id != NULL, FALSE);

  if (launcher_fd < 0)
    return open_app (desktop_id, error);
  return send_request (KIND_APP, desktop_id, NULL, error);
}

gboolean
hearken_launcher_open_settings (const char  *program,
                                const char  *panel,
                                GError     **error)
{
  g_return_val_if_fail (program != NULL, FALSE);

  if (launcher_fd < 0)
    return open_settings (program, panel, error);
  return send_request (KIND_SETTINGS, program, panel ? panel : "", error);
}
