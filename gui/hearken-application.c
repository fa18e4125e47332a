/* hearken-application.c — see hearken-application.h. */
#include "hearken-application.h"

#include <glib/gi18n.h>

#include "hearken-preferences.h"
#include "hearken-window.h"

struct _HearkenApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (HearkenApplication, hearken_application, ADW_TYPE_APPLICATION)

static HearkenWindow *
main_window (HearkenApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* the preferences or a dialog may be the active one */
  while (window && !HEARKEN_IS_WINDOW (window))
    window = gtk_window_get_transient_for (window);
  return window ? HEARKEN_WINDOW (window) : NULL;
}

static void
preferences_action_cb (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  HearkenWindow *window = main_window (HEARKEN_APPLICATION (user_data));
  HearkenPreferences *preferences;

  if (!window)
    return;
  preferences = hearken_preferences_new (GTK_WINDOW (window), hearken_window_get_proxy (window));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
about_action_cb (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  HearkenWindow *window = main_window (HEARKEN_APPLICATION (user_data));
  static const char *developers[] = { "The Hearken developers", NULL };

  adw_show_about_window (window ? GTK_WINDOW (window) : NULL,
                         "application-name", _("Hearken"),
                         "application-icon", "org.hearken.Hearken",
                         "developer-name", "The Hearken developers",
                         "developers", developers,
                         "version", HEARKEN_VERSION,
                         "comments", _("An assistant that runs on your own computer"),
                         "license-type", GTK_LICENSE_MIT_X11,
                         /* Translators: your names, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action_cb (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "preferences", preferences_action_cb, NULL, NULL, NULL, { 0 } },
  { "about", about_action_cb, NULL, NULL, NULL, { 0 } },
  { "quit", quit_action_cb, NULL, NULL, NULL, { 0 } },
};

/* The push-to-talk shortcut is a setting: follow it. */
static void
update_listen_accel (HearkenApplication *self)
{
  g_autofree char *shortcut = g_settings_get_string (self->settings, "push-to-talk-shortcut");
  if (!gtk_accelerator_parse (shortcut, NULL, NULL))
    {
      g_warning ("The push-to-talk shortcut “%s” is not a valid shortcut", shortcut);
      return;
    }
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.listen",
                                         (const char *[]) { shortcut, NULL });
}

static void
hearken_application_startup (GApplication *application)
{
  HearkenApplication *self = HEARKEN_APPLICATION (application);

  G_APPLICATION_CLASS (hearken_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.new-conversation",
                                         (const char *[]) { "<Control>n", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.stop",
                                         (const char *[]) { "Escape", NULL });
  self->settings = g_settings_new ("org.hearken.Hearken");
  g_signal_connect_object (self->settings, "changed::push-to-talk-shortcut",
                           G_CALLBACK (update_listen_accel), self, G_CONNECT_SWAPPED);
  update_listen_accel (self);
}

static void
hearken_application_activate (GApplication *application)
{
  HearkenWindow *window = main_window (HEARKEN_APPLICATION (application));

  if (!window)
    window = hearken_window_new (GTK_APPLICATION (application));
  gtk_window_present (GTK_WINDOW (window));
}

static void
hearken_application_finalize (GObject *object)
{
  g_clear_object (&HEARKEN_APPLICATION (object)->settings);
  G_OBJECT_CLASS (hearken_application_parent_class)->finalize (object);
}

static void
hearken_application_class_init (HearkenApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = hearken_application_finalize;
  application_class->startup = hearken_application_startup;
  application_class->activate = hearken_application_activate;
}

static void
hearken_application_init (HearkenApplication *self)
{
}

HearkenApplication *
hearken_application_new (void)
{
  return g_object_new (HEARKEN_TYPE_APPLICATION,
                       "application-id", "org.hearken.Hearken",
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/hearken/Hearken",
                       NULL);
}
