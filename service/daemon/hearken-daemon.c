/* hearken-daemon.c — start, bus name, signals, shutdown. */
#include "hearken-daemon.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "hearken-assistant.h"

#define BUS_NAME    "org.hearken.Assistant1"
#define OBJECT_PATH "/org/hearken/Assistant1"

struct _HearkenDaemon
{
  GObject            parent_instance;

  gboolean           replace;
  GMainLoop         *loop;
  int                exit_status;
  guint              owner_id;
  guint              sigterm_id;
  guint              sigint_id;
  gboolean           name_acquired;

  HearkenSettings   *settings;
  HearkenStore      *store;
  HearkenModels     *models;
  HearkenAssistant  *assistant;
};

G_DEFINE_FINAL_TYPE (HearkenDaemon, hearken_daemon, G_TYPE_OBJECT)

static void
quit (HearkenDaemon *self,
      int            exit_status)
{
  self->exit_status = exit_status;
  g_main_loop_quit (self->loop);
}

/* ----------------------------------------------------------- callbacks */

static void
bus_acquired_cb (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  HearkenDaemon *self = HEARKEN_DAEMON (user_data);
  g_autoptr(GError) error = NULL;

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->assistant),
                                         connection, OBJECT_PATH, &error))
    {
      g_warning ("Could not export %s: %s", OBJECT_PATH, error->message);
      quit (self, EXIT_FAILURE);
    }
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  HearkenDaemon *self = HEARKEN_DAEMON (user_data);

  self->name_acquired = TRUE;
  g_debug ("Serving %s at %s", name, OBJECT_PATH);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  HearkenDaemon *self = HEARKEN_DAEMON (user_data);

  if (!connection && self->name_acquired)
    {
      /* the session is ending */
      g_debug ("The session bus closed; exiting");
      quit (self, EXIT_SUCCESS);
    }
  else if (!connection)
    {
      g_warning ("Could not connect to the session bus; hearkend runs in a desktop session "
                 "(DBUS_SESSION_BUS_ADDRESS)");
      quit (self, EXIT_FAILURE);
    }
  else if (!self->name_acquired)
    {
      g_warning ("Another program owns %s; hearkend --replace takes it over", name);
      quit (self, EXIT_FAILURE);
    }
  else
    {
      g_message ("Another hearkend took over %s; exiting", name);
      quit (self, EXIT_SUCCESS);
    }
}

static gboolean
terminate_cb (gpointer user_data)
{
  HearkenDaemon *self = HEARKEN_DAEMON (user_data);

  g_debug ("Asked to stop; exiting");
  quit (self, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------- object */

static void
hearken_daemon_dispose (GObject *object)
{
  HearkenDaemon *self = (HearkenDaemon *) object;

  g_clear_object (&self->assistant);
  g_clear_object (&self->models);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->loop, g_main_loop_unref);

  G_OBJECT_CLASS (hearken_daemon_parent_class)->dispose (object);
}

static void
hearken_daemon_class_init (HearkenDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_daemon_dispose;
}

static void
hearken_daemon_init (HearkenDaemon *self)
{
  self->loop = g_main_loop_new (NULL, FALSE);
}

HearkenDaemon *
hearken_daemon_new (gboolean replace)
{
  HearkenDaemon *self = g_object_new (HEARKEN_TYPE_DAEMON, NULL);

  self->replace = replace;
  return self;
}

static HearkenStore *
open_store (GError **error)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "hearken", NULL);
  g_autofree char *path = g_build_filename (dir, "hearken.db", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not create %s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }
  return hearken_store_open (path, error);
}

/* Everything that can fail before the bus is involved. */
static gboolean
load_state (HearkenDaemon  *self,
            GError        **error)
{
  g_auto(GStrv) model_dirs = hearken_models_default_dirs ();

  if (!(self->settings = hearken_settings_new (error)) ||
      !(self->store = open_store (error)))
    return FALSE;
  self->models = hearken_models_new ((const char * const *) model_dirs);
  self->assistant = hearken_assistant_new (self->settings, self->store, self->models);
  return TRUE;
}

int
hearken_daemon_run (HearkenDaemon *self)
{
  g_autoptr(GError) error = NULL;
  GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                             G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE;

  g_return_val_if_fail (HEARKEN_IS_DAEMON (self), EXIT_FAILURE);

  if (!load_state (self, &error))
    {
      g_printerr ("hearkend: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (self->replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  self->owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, BUS_NAME, flags,
                                   bus_acquired_cb, name_acquired_cb, name_lost_cb,
                                   self, NULL);
  self->sigterm_id = g_unix_signal_add (SIGTERM, terminate_cb, self);
  self->sigint_id = g_unix_signal_add (SIGINT, terminate_cb, self);

  g_main_loop_run (self->loop);

  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->assistant)))
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->assistant));
  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  return self->exit_status;
}
