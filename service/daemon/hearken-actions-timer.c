/* hearken-actions-timer.c — set_timer, and cancel (which can stop one):
 * a GLib timeout that ends in a desktop notification. */
#include "hearken-actions-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "hearken-actions-slots.h"

static void
timer_free (HearkenTimer *timer)
{
  g_clear_handle_id (&timer->source_id, g_source_remove);
  g_free (timer);
}

static void
notify_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);

  if (!reply)
    g_warning ("A timer ended, but the desktop showed no notification: %s", error->message);
}

static void
notify_timer_done (guint seconds)
{
  g_autofree char *duration = hearken_format_duration (seconds);
  g_autofree char *body = g_strdup_printf (_("Your timer of %s is up."), duration);
  GVariantBuilder hints;

  g_variant_builder_init (&hints, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (2));
  hearken_action_bus_call (G_BUS_TYPE_SESSION, "org.freedesktop.Notifications",
                           "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                           "Notify",
                           g_variant_new ("(susssasa{sv}i)", "Hearken", 0, "alarm-symbolic",
                                          _("Timer finished"), body, NULL, &hints, -1),
                           G_VARIANT_TYPE ("(u)"), NULL, notify_done_cb, NULL);
}

static gboolean
timer_fired_cb (gpointer user_data)
{
  HearkenTimer *timer = user_data;
  HearkenActions *self = timer->actions;

  g_debug ("A timer of %u s ended", timer->seconds);
  notify_timer_done (timer->seconds);
  timer->source_id = 0;
  self->timers = g_list_remove (self->timers, timer);
  timer_free (timer);
  return G_SOURCE_REMOVE;
}

void
hearken_actions_clear_timers (HearkenActions *self)
{
  g_list_free_full (g_steal_pointer (&self->timers), (GDestroyNotify) timer_free);
}

void
hearken_action_set_timer (HearkenActions *self,
                          GTask          *task,
                          const char     *text,
                          gboolean        dry_run)
{
  g_autofree char *duration = NULL;
  HearkenTimer *timer;
  guint seconds = 0;

  if (!hearken_parse_duration (text, &seconds))
    {
      hearken_action_reply (task, "%s", _("For how long? Say, for example, “set a timer for "
                                          "5 minutes”."));
      return;
    }
  if (seconds > HEARKEN_MAX_TIMER_SECONDS)
    {
      hearken_action_reply (task, "%s", _("I set timers of up to 24 hours."));
      return;
    }
  if (g_list_length (self->timers) >= HEARKEN_MAX_TIMERS)
    {
      hearken_action_reply (task, _("%d timers are running, the most I keep; cancel one first."),
                            HEARKEN_MAX_TIMERS);
      return;
    }
  duration = hearken_format_duration (seconds);
  if (dry_run)
    {
      hearken_action_reply (task, _("Would set a timer for %s, then send a notification "
                                    "through org.freedesktop.Notifications."), duration);
      return;
    }
  timer = g_new0 (HearkenTimer, 1);
  timer->actions = self;
  timer->seconds = seconds;
  timer->source_id = g_timeout_add_seconds (seconds, timer_fired_cb, timer);
  self->timers = g_list_prepend (self->timers, timer);
  hearken_action_reply (task, _("Timer set for %s. I’ll send a notification when it ends."), duration);
}

static gboolean
mentions_timer (const char *text)
{
  static const char *const words[] = { "timer", "countdown", "alarm", "计时", "定时", "倒计时", "闹钟" };
  g_autofree char *lower = g_utf8_strdown (text, -1);

  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    if (strstr (lower, words[i]))
      return TRUE;
  return FALSE;
}

void
hearken_action_cancel (HearkenActions *self,
                       GTask          *task,
                       const char     *text,
                       gboolean        dry_run)
{
  HearkenTimer *timer = self->timers ? self->timers->data : NULL;
  g_autofree char *duration = NULL;

  if (!timer || !mentions_timer (text))
    {
      hearken_action_reply (task, "%s", _("OK, never mind."));
      return;
    }
  /* the newest: the one just set by mistake, most likely */
  duration = hearken_format_duration (timer->seconds);
  if (dry_run)
    {
      hearken_action_reply (task, _("Would cancel the timer of %s."), duration);
      return;
    }
  self->timers = g_list_remove (self->timers, timer);
  timer_free (timer);
  hearken_action_reply (task, _("Cancelled the timer of %s."), duration);
}
