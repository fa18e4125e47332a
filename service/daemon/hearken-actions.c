/* hearken-actions.c — the table of actions, running one, the helpers the
 * action files share, and the actions that are only words (greeting,
 * thanks, help, weather). */
#include "hearken-actions-private.h"

#include <glib/gi18n.h>

/* A desktop service that has not answered in this time is not going to. */
#define BUS_CALL_TIMEOUT_MS 10000

typedef struct {
  const char        *intent;
  HearkenActionFunc  run;
} ActionEntry;

static void hearken_action_weather  (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
static void hearken_action_greeting (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
static void hearken_action_thanks   (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
static void hearken_action_help     (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);

/* Every intent of the model but "chat", which is the language model's. */
static const ActionEntry action_table[] = {
  { "time",             hearken_action_time },
  { "date",             hearken_action_date },
  { "battery",          hearken_action_battery },
  { "system_info",      hearken_action_system_info },
  { "network_status",   hearken_action_network_status },
  { "open_app",         hearken_action_open_app },
  { "volume_up",        hearken_action_volume_up },
  { "volume_down",      hearken_action_volume_down },
  { "volume_mute",      hearken_action_volume_mute },
  { "brightness_up",    hearken_action_brightness_up },
  { "brightness_down",  hearken_action_brightness_down },
  { "media_play_pause", hearken_action_media_play_pause },
  { "media_next",       hearken_action_media_next },
  { "set_timer",        hearken_action_set_timer },
  { "screenshot",       hearken_action_screenshot },
  { "lock_screen",      hearken_action_lock_screen },
  { "search_files",     hearken_action_search_files },
  { "open_settings",    hearken_action_open_settings },
  { "weather",          hearken_action_weather },
  { "greeting",         hearken_action_greeting },
  { "thanks",           hearken_action_thanks },
  { "help",             hearken_action_help },
  { "cancel",           hearken_action_cancel },
};

G_DEFINE_FINAL_TYPE (HearkenActions, hearken_actions, G_TYPE_OBJECT)

/* ------------------------------------------------------------- helpers */

void
hearken_action_reply (GTask      *task,
                      const char *format,
                      ...)
{
  va_list args;
  char *reply;

  va_start (args, format);
  reply = g_strdup_vprintf (format, args);
  va_end (args);
  g_task_return_pointer (task, reply, g_free);
}

typedef struct {
  char         *name;
  char         *path;
  char         *interface;
  char         *method;
  GVariant     *parameters;
  GVariantType *reply_type;
} BusCall;

static void
bus_call_free (BusCall *call)
{
  g_free (call->name);
  g_free (call->path);
  g_free (call->interface);
  g_free (call->method);
  g_clear_pointer (&call->parameters, g_variant_unref);
  g_clear_pointer (&call->reply_type, g_variant_type_free);
  g_free (call);
}

static void
bus_call_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (!reply)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
bus_call_got_bus_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BusCall *call = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, &error);

  if (!bus)
    {
      g_task_return_error (task, error);
      return;
    }
  g_dbus_connection_call (bus, call->name, call->path, call->interface, call->method,
                          call->parameters, call->reply_type, G_DBUS_CALL_FLAGS_NONE,
                          BUS_CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          bus_call_done_cb, g_object_ref (task));
}

void
hearken_action_bus_call (GBusType             bus_type,
                         const char          *name,
                         const char          *path,
                         const char          *interface,
                         const char          *method,
                         GVariant            *parameters,
                         const GVariantType  *reply_type,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  BusCall *call = g_new0 (BusCall, 1);

  call->name = g_strdup (name);
  call->path = g_strdup (path);
  call->interface = g_strdup (interface);
  call->method = g_strdup (method);
  call->parameters = parameters ? g_variant_ref_sink (parameters) : NULL;
  call->reply_type = reply_type ? g_variant_type_copy (reply_type) : NULL;
  g_task_set_task_data (task, call, (GDestroyNotify) bus_call_free);
  g_bus_get (bus_type, cancellable, bus_call_got_bus_cb, task);
}

GVariant *
hearken_action_bus_call_finish (GAsyncResult  *result,
                                GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
hearken_action_describe_argv (const char * const *argv)
{
  return g_strjoinv (" ", (char **) argv);
}

static void
program_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  const char *done_message = g_task_get_task_data (task);

  if (!g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error))
    hearken_action_reply (task, _("That did not work: %s."), error->message);
  else
    hearken_action_reply (task, "%s", done_message);
}

void
hearken_action_run_program (GTask              *task,
                            const char * const *argv,
                            const char         *done_message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv,
                                                      G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                      G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                                      &error);

  if (!process)
    {
      hearken_action_reply (task, _("Could not run %s: %s."), argv[0], error->message);
      return;
    }
  g_task_set_task_data (task, g_strdup (done_message), g_free);
  g_subprocess_wait_check_async (process, g_task_get_cancellable (task),
                                 program_done_cb, g_object_ref (task));
}

/* --------------------------------------------------- actions of words */

static void
hearken_action_weather (HearkenActions *self,
                        GTask          *task,
                        const char     *text,
                        gboolean        dry_run)
{
  hearken_action_reply (task, "%s",
                        _("I can’t tell the weather: that needs the network, and Hearken "
                          "sends nothing off this computer. A weather app or website can tell you."));
}

static void
hearken_action_greeting (HearkenActions *self,
                         GTask          *task,
                         const char     *text,
                         gboolean        dry_run)
{
  hearken_action_reply (task, "%s",
                        _("Hello! Ask me the time, to open an app, to set a timer — "
                          "or anything else. Say “help” to hear what I can do."));
}

static void
hearken_action_thanks (HearkenActions *self,
                       GTask          *task,
                       const char     *text,
                       gboolean        dry_run)
{
  hearken_action_reply (task, "%s", _("You’re welcome."));
}

static void
hearken_action_help (HearkenActions *self,
                     GTask          *task,
                     const char     *text,
                     gboolean        dry_run)
{
  hearken_action_reply (task, "%s",
                        _("I can tell you the time and the date, the battery, the network "
                          "and how the system is doing; open apps and settings; turn the "
                          "volume and the brightness up or down, or mute; play, pause or "
                          "skip music; set a timer; take a screenshot; lock the screen; "
                          "and find files in your home folder. Anything else goes to the "
                          "language model. Everything stays on this computer."));
}

/* -------------------------------------------------------------- object */

static void
hearken_actions_dispose (GObject *object)
{
  HearkenActions *self = (HearkenActions *) object;

  hearken_actions_clear_timers (self);

  G_OBJECT_CLASS (hearken_actions_parent_class)->dispose (object);
}

static void
hearken_actions_class_init (HearkenActionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_actions_dispose;
}

static void
hearken_actions_init (HearkenActions *self)
{
}

HearkenActions *
hearken_actions_new (void)
{
  return g_object_new (HEARKEN_TYPE_ACTIONS, NULL);
}

static const ActionEntry *
find_action (const char *intent)
{
  for (gsize i = 0; i < G_N_ELEMENTS (action_table); i++)
    if (g_str_equal (action_table[i].intent, intent))
      return &action_table[i];
  return NULL;
}

gboolean
hearken_actions_handles (const char *intent)
{
  g_return_val_if_fail (intent != NULL, FALSE);

  return find_action (intent) != NULL;
}

gboolean
hearken_actions_dry_run_from_env (void)
{
  return g_strcmp0 (g_getenv ("HEARKEN_ACTIONS_DRY_RUN"), "1") == 0;
}

void
hearken_actions_run_async (HearkenActions      *self,
                           const char          *intent,
                           const char          *text,
                           gboolean             dry_run,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const ActionEntry *entry;

  g_return_if_fail (HEARKEN_IS_ACTIONS (self));
  g_return_if_fail (intent != NULL && text != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hearken_actions_run_async);
  g_task_set_check_cancellable (task, TRUE);
  entry = find_action (intent);
  if (!entry)
    {
      /* the caller asks hearken_actions_handles() first */
      hearken_action_reply (task, _("I have no action for “%s”."), intent);
      return;
    }
  g_debug ("Action %s%s for “%s”", intent, dry_run ? " (dry run)" : "", text);
  entry->run (self, task, text, dry_run);
}

char *
hearken_actions_run_finish (HearkenActions  *self,
                            GAsyncResult    *result,
                            GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
