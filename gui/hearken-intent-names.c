/* hearken-intent-names.c — see hearken-intent-names.h.  The ids are the
 * labels of data/intents. */
#include "hearken-intent-names.h"

#include <glib/gi18n.h>

static const struct
{
  const char *intent;
  const char *name;
} names[] = {
  { "time", N_("Tell the time") },
  { "date", N_("Tell the date") },
  { "battery", N_("Battery level") },
  { "system_info", N_("About this computer") },
  { "network_status", N_("Network status") },
  { "open_app", N_("Open an app") },
  { "volume_up", N_("Volume up") },
  { "volume_down", N_("Volume down") },
  { "volume_mute", N_("Mute") },
  { "brightness_up", N_("Brighter screen") },
  { "brightness_down", N_("Dimmer screen") },
  { "media_play_pause", N_("Play or pause") },
  { "media_next", N_("Next track") },
  { "set_timer", N_("Set a timer") },
  { "screenshot", N_("Take a screenshot") },
  { "lock_screen", N_("Lock the screen") },
  { "search_files", N_("Search files") },
  { "open_settings", N_("Open settings") },
  { "weather", N_("Weather") },
  { "greeting", N_("Greeting") },
  { "thanks", N_("Thanks") },
  { "help", N_("Help") },
  { "cancel", N_("Cancel") },
  { "chat", N_("Chat") },
};

const char *
hearken_intent_display_name (const char *intent)
{
  g_return_val_if_fail (intent != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (intent, names[i].intent))
      return _(names[i].name);
  return intent;
}
