/* hearken-window.h — the main window: conversations, the chat, the
 * composer and the voice button, all through the D-Bus API of hearkend. */
#pragma once

#include <adwaita.h>

#include "hearken-dbus.h"

G_BEGIN_DECLS

#define HEARKEN_TYPE_WINDOW (hearken_window_get_type ())

G_DECLARE_FINAL_TYPE (HearkenWindow, hearken_window, HEARKEN, WINDOW, AdwApplicationWindow)

HearkenWindow         *hearken_window_new       (GtkApplication *application);
/* The service, or NULL while the window is not connected. */
HearkenDBusAssistant1 *hearken_window_get_proxy (HearkenWindow  *self);

G_END_DECLS
