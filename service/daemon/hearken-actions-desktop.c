/* hearken-actions-desktop.c — actions on the desktop: open_app,
 * open_settings, volume, brightness, media, lock_screen, screenshot. */
#include "hearken-actions-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "hearken-actions-slots.h"
#include "hearken-launcher.h"

/* How long the screenshot portal may take (it may ask the person). */
#define SCREENSHOT_TIMEOUT_S 60

/* ------------------------------------------------------------ open_app */

typedef struct {
  char     *text;
  gboolean  dry_run;
} OpenApp;

static void
open_app_free (OpenApp *data)
{
  g_free (data->text);
  g_free (data);
}

static char *
open_app (const char *text,
          gboolean    dry_run)
{
  g_autofree char *name = hearken_slot_app_name (text);
  g_autoptr(GAppInfo) app = NULL;
  g_autoptr(GError) error = NULL;
  GList *apps;

  if (!*name)
    return g_strdup (_("Which app? Say, for example, “open Firefox”."));
  apps = g_app_info_get_all ();
  app = hearken_match_app (apps, name);
  g_list_free_full (apps, g_object_unref);
  if (!app)
    return g_strdup_printf (_("I found no installed app called “%s”."), name);
  if (dry_run)
    return g_strdup_printf (_("Would open %s (%s)."), g_app_info_get_display_name (app),
                            g_app_info_get_id (app));
  if (!hearken_launcher_open_app (g_app_info_get_id (app), &error))
    return g_strdup_printf (_("Could not open %s: %s."), g_app_info_get_display_name (app),
                            error->message);
  return g_strdup_printf (_("Opening %s."), g_app_info_get_display_name (app));
}

/* Reading every .desktop file waits on the disk. */
static void
open_app_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  OpenApp *data = task_data;

  g_task_return_pointer (task, open_app (data->text, data->dry_run), g_free);
}

void
hearken_action_open_app (HearkenActions *self,
                         GTask          *task,
                         const char     *text,
                         gboolean        dry_run)
{
  OpenApp *data = g_new0 (OpenApp, 1);

  data->text = g_strdup (text);
  data->dry_run = dry_run;
  g_task_set_task_data (task, data, (GDestroyNotify) open_app_free);
  g_task_run_in_thread (task, open_app_thread);
}

/* ------------------------------------------------------- open_settings */

void
hearken_action_open_settings (HearkenActions *self,
                              GTask          *task,
                              const char     *text,
                              gboolean        dry_run)
{
  const char *panel = hearken_slot_settings_panel (text);
  g_autofree char *program = hearken_launcher_find_settings_program ();
  const char *argv[3] = { NULL, NULL, NULL };
  g_autofree char *command = NULL;
  g_autoptr(GError) error = NULL;

  if (!program)
    {
      hearken_action_reply (task, "%s", _("I can’t open the settings here: no settings app "
                                          "(gnome-control-center, systemsettings, "
                                          "xfce4-settings-manager) is installed."));
      return;
    }
  argv[0] = program;
  /* only GNOME's takes a panel */
  if (panel && g_str_has_suffix (program, "/gnome-control-center"))
    argv[1] = panel;
  command = hearken_action_describe_argv (argv);
  if (dry_run)
    {
      hearken_action_reply (task, _("Would run: %s"), command);
      return;
    }
  if (!hearken_launcher_open_settings (program, argv[1], &error))
    hearken_action_reply (task, _("Could not open the settings: %s."), error->message);
  else if (argv[1])
    hearken_action_reply (task, _("Opening the %s settings."), panel);
  else
    hearken_action_reply (task, "%s", _("Opening the settings."));
}

/* -------------------------------------------------------------- volume */

/* The same change through PipeWire (wpctl) or PulseAudio (pactl),
 * whichever is installed. */
static void
change_volume (GTask              *task,
               gboolean            dry_run,
               const char * const *wpctl_args,
               const char * const *pactl_args,
               const char         *done_message)
{
  const char * const *args = wpctl_args;
  g_autofree char *program = g_find_program_in_path ("wpctl");
  g_autofree char *command = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  if (!program)
    {
      program = g_find_program_in_path ("pactl");
      args = pactl_args;
    }
  if (!program)
    {
      hearken_action_reply (task, "%s", _("I can’t change the volume here: neither wpctl "
                                          "(PipeWire) nor pactl (PulseAudio) is installed."));
      return;
    }
  g_ptr_array_add (argv, program);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  command = hearken_action_describe_argv ((const char * const *) argv->pdata);
  if (dry_run)
    hearken_action_reply (task, _("Would run: %s"), command);
  else
    hearken_action_run_program (task, (const char * const *) argv->pdata, done_message);
}

void
hearken_action_volume_up (HearkenActions *self,
                          GTask          *task,
                          const char     *text,
                          gboolean        dry_run)
{
  static const char *const wpctl[] = { "set-volume", "-l", "1.0", "@DEFAULT_AUDIO_SINK@", "5%+", NULL };
  static const char *const pactl[] = { "set-sink-volume", "@DEFAULT_SINK@", "+5%", NULL };

  change_volume (task, dry_run, wpctl, pactl, _("Volume up by 5%."));
}

void
hearken_action_volume_down (HearkenActions *self,
                            GTask          *task,
                            const char     *text,
                            gboolean        dry_run)
{
  static const char *const wpctl[] = { "set-volume", "@DEFAULT_AUDIO_SINK@", "5%-", NULL };
  static const char *const pactl[] = { "set-sink-volume", "@DEFAULT_SINK@", "-5%", NULL };

  change_volume (task, dry_run, wpctl, pactl, _("Volume down by 5%."));
}

void
hearken_action_volume_mute (HearkenActions *self,
                            GTask          *task,
                            const char     *text,
                            gboolean        dry_run)
{
  static const char *const wpctl[] = { "set-mute", "@DEFAULT_AUDIO_SINK@", "toggle", NULL };
  static const char *const pactl[] = { "set-sink-mute", "@DEFAULT_SINK@", "toggle", NULL };

  change_volume (task, dry_run, wpctl, pactl, _("Sound muted or unmuted."));
}

/* ------------------------------------------- calls tried one after another */

typedef struct {
  GBusType    bus;
  const char *name;
  const char *path;
  const char *interface;
  const char *method;
} BusTarget;

/* What is tried when no target answered; it replies itself. */
typedef void (*ChainFallback) (GTask *task);

typedef struct {
  const BusTarget *targets;
  guint            n_targets;
  guint            next;
  const char      *done_message;
  const char      *failed_message;
  ChainFallback    fallback;
} BusChain;

static void try_next_target (GTask *task);

static void
chain_call_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BusChain *chain = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);

  if (reply)
    {
      hearken_action_reply (task, "%s", chain->done_message);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_debug ("%s.%s: %s", chain->targets[chain->next - 1].interface,
           chain->targets[chain->next - 1].method, error->message);
  try_next_target (task);
}

static void
try_next_target (GTask *task)
{
  BusChain *chain = g_task_get_task_data (task);
  const BusTarget *target;

  if (chain->next == chain->n_targets)
    {
      if (chain->fallback)
        chain->fallback (task);
      else
        hearken_action_reply (task, "%s", chain->failed_message);
      return;
    }
  target = &chain->targets[chain->next++];
  hearken_action_bus_call (target->bus, target->name, target->path, target->interface,
                           target->method, NULL, NULL, g_task_get_cancellable (task),
                           chain_call_cb, g_object_ref (task));
}

static char *
describe_targets (const BusTarget *targets,
                  guint            n_targets)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < n_targets; i++)
    g_string_append_printf (text, "%s%s.%s on the %s bus", i ? _(", else ") : "",
                            targets[i].interface, targets[i].method,
                            targets[i].bus == G_BUS_TYPE_SYSTEM ? "system" : "session");
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Calls the targets in turn until one answers without an error; then
 * fallback, if any, else the failed message. */
static void
call_first_available (GTask           *task,
                      gboolean         dry_run,
                      const BusTarget *targets,
                      guint            n_targets,
                      const char      *done_message,
                      const char      *failed_message,
                      ChainFallback    fallback)
{
  BusChain *chain;

  if (dry_run)
    {
      g_autofree char *calls = describe_targets (targets, n_targets);

      hearken_action_reply (task, _("Would call %s."), calls);
      return;
    }
  chain = g_new0 (BusChain, 1);
  chain->targets = targets;
  chain->n_targets = n_targets;
  chain->done_message = done_message;
  chain->failed_message = failed_message;
  chain->fallback = fallback;
  g_task_set_task_data (task, chain, g_free);
  try_next_target (task);
}

/* ---------------------------------------------------------- brightness */

/* Where GNOME's power service is not running, logind sets the backlight
 * for the session's user (its SetBrightness, no privileges needed). */
#define BACKLIGHT_DIR "/sys/class/backlight"

static const BusTarget brightness_up_target = {
  G_BUS_TYPE_SESSION, "org.gnome.SettingsDaemon.Power", "/org/gnome/SettingsDaemon/Power",
  "org.gnome.SettingsDaemon.Power.Screen", "StepUp"
};
static const BusTarget brightness_down_target = {
  G_BUS_TYPE_SESSION, "org.gnome.SettingsDaemon.Power", "/org/gnome/SettingsDaemon/Power",
  "org.gnome.SettingsDaemon.Power.Screen", "StepDown"
};

static int
brightness_percent (gint64 value,
                    gint64 max)
{
  return (int) ((value * 100 + max / 2) / max);
}

static void
backlight_set_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);

  if (!reply)
    hearken_action_reply (task, _("I can’t change the brightness here: logind refused (%s)."),
                          error->message);
  else
    hearken_action_reply (task, _("Screen brightness at %d%%."),
                          GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "percent")));
}

static void
set_backlight (GTask *task,
               int    direction)
{
  g_auto(HearkenBacklight) backlight = { 0 };
  gint64 value;

  if (!hearken_read_backlight (BACKLIGHT_DIR, &backlight))
    {
      hearken_action_reply (task, "%s", _("I can’t change the brightness here: GNOME’s power "
                                          "settings service is not running and this screen has "
                                          "no backlight to set."));
      return;
    }
  value = hearken_backlight_step (&backlight, direction);
  g_object_set_data (G_OBJECT (task), "percent",
                     GINT_TO_POINTER (brightness_percent (value, backlight.max)));
  hearken_action_bus_call (G_BUS_TYPE_SYSTEM, "org.freedesktop.login1",
                           "/org/freedesktop/login1/session/auto", "org.freedesktop.login1.Session",
                           "SetBrightness",
                           g_variant_new ("(ssu)", "backlight", backlight.name, (guint32) value),
                           NULL, g_task_get_cancellable (task), backlight_set_cb,
                           g_object_ref (task));
}

static void
backlight_up (GTask *task)
{
  set_backlight (task, 1);
}

static void
backlight_down (GTask *task)
{
  set_backlight (task, -1);
}

static void
change_brightness (GTask           *task,
                   gboolean         dry_run,
                   const BusTarget *target,
                   int              direction,
                   const char      *done_message)
{
  g_auto(HearkenBacklight) backlight = { 0 };

  if (!dry_run)
    {
      call_first_available (task, FALSE, target, 1, done_message, NULL,
                            direction > 0 ? backlight_up : backlight_down);
      return;
    }
  if (hearken_read_backlight (BACKLIGHT_DIR, &backlight))
    hearken_action_reply (task, _("Would call %s.%s on the session bus, else set the backlight "
                                  "%s to %d%% through logind."),
                          target->interface, target->method, backlight.name,
                          brightness_percent (hearken_backlight_step (&backlight, direction),
                                              backlight.max));
  else
    hearken_action_reply (task, _("Would call %s.%s on the session bus (this screen has no "
                                  "backlight for logind to set)."),
                          target->interface, target->method);
}

void
hearken_action_brightness_up (HearkenActions *self,
                              GTask          *task,
                              const char     *text,
                              gboolean        dry_run)
{
  change_brightness (task, dry_run, &brightness_up_target, 1, _("Screen brightness up."));
}

void
hearken_action_brightness_down (HearkenActions *self,
                                GTask          *task,
                                const char     *text,
                                gboolean        dry_run)
{
  change_brightness (task, dry_run, &brightness_down_target, -1, _("Screen brightness down."));
}

/* --------------------------------------------------------- lock_screen */

void
hearken_action_lock_screen (HearkenActions *self,
                            GTask          *task,
                            const char     *text,
                            gboolean        dry_run)
{
  static const BusTarget targets[] = {
    { G_BUS_TYPE_SESSION, "org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
      "org.freedesktop.ScreenSaver", "Lock" },
    { G_BUS_TYPE_SESSION, "org.gnome.ScreenSaver", "/org/gnome/ScreenSaver",
      "org.gnome.ScreenSaver", "Lock" },
    { G_BUS_TYPE_SYSTEM, "org.freedesktop.login1", "/org/freedesktop/login1/session/auto",
      "org.freedesktop.login1.Session", "Lock" },
  };

  call_first_available (task, dry_run, targets, G_N_ELEMENTS (targets),
                        _("Screen locked."),
                        _("I can’t lock the screen here: neither a screen saver nor logind "
                          "answered."), NULL);
}

/* --------------------------------------------------------------- media */

/* A media command, and the player it goes to: the one playing, else a
 * paused one, else the first by name — so "pause" reaches what is heard. */
typedef struct {
  const char *method;       /* PlayPause, Next */
  const char *done_format;  /* takes the player's name */
  gboolean    dry_run;
  GStrv       players;      /* MPRIS bus names, sorted */
  guint       asking;       /* the player whose state is asked */
  guint       best;         /* the best player so far */
  int         best_rank;
} MediaCommand;

static void
media_command_free (MediaCommand *command)
{
  g_strfreev (command->players);
  g_free (command);
}

static void
media_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);

  if (!reply)
    hearken_action_reply (task, _("The media player did not do it: %s."), error->message);
  else
    hearken_action_reply (task, "%s", (const char *) g_object_get_data (G_OBJECT (task), "done"));
}

static void
send_media_command (GTask      *task,
                    const char *player)
{
  const MediaCommand *command = g_task_get_task_data (task);
  const char *short_name = player + strlen ("org.mpris.MediaPlayer2.");

  if (command->dry_run)
    {
      hearken_action_reply (task, _("Would call org.mpris.MediaPlayer2.Player.%s on %s."),
                            command->method, player);
      return;
    }
  g_object_set_data_full (G_OBJECT (task), "done",
                          g_strdup_printf (command->done_format, short_name), g_free);
  hearken_action_bus_call (G_BUS_TYPE_SESSION, player, "/org/mpris/MediaPlayer2",
                           "org.mpris.MediaPlayer2.Player", command->method, NULL, NULL,
                           g_task_get_cancellable (task), media_done_cb, g_object_ref (task));
}

/* Lower is better; a player that does not answer comes last. */
static int
playback_rank (GVariant *reply)
{
  g_autoptr(GVariant) value = NULL;
  const char *status;

  if (!reply)
    return 2;
  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return 2;
  status = g_variant_get_string (value, NULL);
  return g_str_equal (status, "Playing") ? 0 : g_str_equal (status, "Paused") ? 1 : 2;
}

static void ask_next_player (GTask *task);

static void
playback_status_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MediaCommand *command = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, NULL);
  int rank = playback_rank (reply);

  if (rank < command->best_rank)
    {
      command->best = command->asking;
      command->best_rank = rank;
    }
  command->asking++;
  ask_next_player (task);
}

/* One player at a time, until one is playing or all have answered. */
static void
ask_next_player (GTask *task)
{
  MediaCommand *command = g_task_get_task_data (task);

  if (command->best_rank == 0 || !command->players[command->asking])
    {
      send_media_command (task, command->players[command->best]);
      return;
    }
  hearken_action_bus_call (G_BUS_TYPE_SESSION, command->players[command->asking],
                           "/org/mpris/MediaPlayer2", "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new ("(ss)", "org.mpris.MediaPlayer2.Player", "PlaybackStatus"),
                           G_VARIANT_TYPE ("(v)"), g_task_get_cancellable (task),
                           playback_status_cb, g_object_ref (task));
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The MPRIS players among the bus names, sorted. */
static GStrv
mpris_players (GVariant *names)
{
  g_autofree const char **list = g_variant_get_strv (names, NULL);
  g_autoptr(GPtrArray) players = g_ptr_array_new ();

  for (guint i = 0; list[i]; i++)
    if (g_str_has_prefix (list[i], "org.mpris.MediaPlayer2.") &&
        list[i][strlen ("org.mpris.MediaPlayer2.")])
      g_ptr_array_add (players, g_strdup (list[i]));
  g_ptr_array_sort (players, compare_names);
  g_ptr_array_add (players, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&players), FALSE);
}

static void
media_names_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MediaCommand *command = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, NULL);
  g_autoptr(GVariant) names = reply ? g_variant_get_child_value (reply, 0) : NULL;

  command->players = names ? mpris_players (names) : g_new0 (char *, 1);
  if (!command->players[0])
    {
      hearken_action_reply (task, "%s", _("No media player is running (none offers MPRIS on "
                                          "the session bus)."));
      return;
    }
  command->best_rank = G_MAXINT;
  ask_next_player (task);
}

static void
media_command (GTask      *task,
               const char *method,
               const char *done_format,
               gboolean    dry_run)
{
  MediaCommand *command = g_new0 (MediaCommand, 1);

  command->method = method;
  command->done_format = done_format;
  command->dry_run = dry_run;
  g_task_set_task_data (task, command, (GDestroyNotify) media_command_free);
  hearken_action_bus_call (G_BUS_TYPE_SESSION, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "ListNames", NULL, G_VARIANT_TYPE ("(as)"),
                           g_task_get_cancellable (task), media_names_cb, g_object_ref (task));
}

void
hearken_action_media_play_pause (HearkenActions *self,
                                 GTask          *task,
                                 const char     *text,
                                 gboolean        dry_run)
{
  media_command (task, "PlayPause", _("Play/pause sent to %s."), dry_run);
}

void
hearken_action_media_next (HearkenActions *self,
                           GTask          *task,
                           const char     *text,
                           gboolean        dry_run)
{
  media_command (task, "Next", _("Skipped to the next track in %s."), dry_run);
}

/* ---------------------------------------------------------- screenshot */

/* The portal answers on a request object whose path it derives from our
 * unique name and a token we choose: we listen there before calling, so
 * the answer cannot come first.  The call, the subscription and the
 * timeout each hold a reference. */
typedef struct {
  GDBusConnection *bus;
  guint            subscription;
  guint            timeout_id;
  GTask           *task;        /* the pending reply; NULL once answered */
} Screenshot;

static void
screenshot_clear (Screenshot *shot)
{
  g_clear_object (&shot->bus);
  g_clear_object (&shot->task);
}

static void
screenshot_release (gpointer shot)
{
  g_rc_box_release_full (shot, (GDestroyNotify) screenshot_clear);
}

/* Answers the task once and stops listening. */
static void
screenshot_finish (Screenshot *shot,
                   char       *reply)
{
  GTask *task = g_steal_pointer (&shot->task);

  if (!task)
    {
      g_free (reply);
      return;
    }
  g_task_return_pointer (task, reply, g_free);
  g_object_unref (task);
  if (shot->subscription)
    g_dbus_connection_signal_unsubscribe (shot->bus, shot->subscription);
  shot->subscription = 0;
  g_clear_handle_id (&shot->timeout_id, g_source_remove);
}

static void
screenshot_response_cb (GDBusConnection *bus,
                        const char      *sender,
                        const char      *path,
                        const char      *interface,
                        const char      *signal,
                        GVariant        *parameters,
                        gpointer         user_data)
{
  Screenshot *shot = user_data;
  g_autoptr(GVariant) results = NULL;
  guint32 response = 2;
  const char *uri = NULL;
  g_autofree char *file = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;
  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  g_variant_lookup (results, "uri", "&s", &uri);
  file = uri ? g_filename_from_uri (uri, NULL, NULL) : NULL;
  if (response == 0)
    screenshot_finish (shot, g_strdup_printf (_("Screenshot saved: %s"),
                                              file ? file : uri ? uri : _("where the desktop keeps them")));
  else if (response == 1)
    screenshot_finish (shot, g_strdup (_("The screenshot was cancelled.")));
  else
    screenshot_finish (shot, g_strdup (_("The desktop could not take the screenshot.")));
}

static gboolean
screenshot_timeout_cb (gpointer user_data)
{
  Screenshot *shot = user_data;

  shot->timeout_id = 0;
  screenshot_finish (shot, g_strdup (_("I asked the desktop for a screenshot; it has not "
                                       "answered yet.")));
  return G_SOURCE_REMOVE;
}

static void
screenshot_called_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Screenshot *shot = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (!reply)
    screenshot_finish (shot, g_strdup_printf (_("I can’t take a screenshot here: the desktop "
                                                "portal did not answer (%s)."), error->message));
  screenshot_release (shot);
}

static char *
portal_request_path (GDBusConnection *bus,
                     const char      *token)
{
  g_autofree char *sender = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);

  g_strdelimit (sender, ".", '_');
  return g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", sender, token);
}

static void
screenshot_got_bus_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);
  g_autofree char *token = NULL, *path = NULL;
  GVariantBuilder options;
  Screenshot *shot;

  if (!bus)
    {
      hearken_action_reply (task, _("I can’t take a screenshot here: %s."), error->message);
      return;
    }
  token = g_strdup_printf ("hearken%u", g_random_int ());
  path = portal_request_path (bus, token);
  shot = g_rc_box_new0 (Screenshot);
  shot->bus = bus;
  shot->task = g_object_ref (task);
  shot->subscription = g_dbus_connection_signal_subscribe (bus, NULL, "org.freedesktop.portal.Request",
                                                           "Response", path, NULL,
                                                           G_DBUS_SIGNAL_FLAGS_NONE,
                                                           screenshot_response_cb,
                                                           g_rc_box_acquire (shot), screenshot_release);
  shot->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, SCREENSHOT_TIMEOUT_S,
                                                 screenshot_timeout_cb,
                                                 g_rc_box_acquire (shot), screenshot_release);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "interactive", g_variant_new_boolean (FALSE));
  g_dbus_connection_call (bus, "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
                          "org.freedesktop.portal.Screenshot", "Screenshot",
                          g_variant_new ("(sa{sv})", "", &options), G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, screenshot_called_cb, shot);
}

void
hearken_action_screenshot (HearkenActions *self,
                           GTask          *task,
                           const char     *text,
                           gboolean        dry_run)
{
  if (dry_run)
    {
      hearken_action_reply (task, "%s", _("Would call org.freedesktop.portal.Screenshot.Screenshot "
                                          "on the session bus (the desktop saves the picture)."));
      return;
    }
  g_bus_get (G_BUS_TYPE_SESSION, NULL, screenshot_got_bus_cb, g_object_ref (task));
}
