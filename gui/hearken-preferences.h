/* hearken-preferences.h — the preferences window, bound to the GSettings
 * schema org.hearken.Hearken that hearkend follows. */
#pragma once

#include <adwaita.h>

#include "hearken-dbus.h"

G_BEGIN_DECLS

#define HEARKEN_TYPE_PREFERENCES (hearken_preferences_get_type ())

G_DECLARE_FINAL_TYPE (HearkenPreferences, hearken_preferences, HEARKEN, PREFERENCES, AdwPreferencesWindow)

/* proxy: the service, or NULL when it is not running (the settings still
 * work; the model list, downloads and Forget All need the service). */
HearkenPreferences *hearken_preferences_new (GtkWindow             *parent,
                                             HearkenDBusAssistant1 *proxy);

G_END_DECLS
