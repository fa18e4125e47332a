/* hearken-error.h — the errors hearkend sends over D-Bus.
 *
 * Each code maps to a D-Bus error name org.hearken.Error.<Name>, so a
 * GError returned from a method handler reaches clients by that name
 * (g_dbus_error_encode_gerror gives the name for a Failed signal).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARKEN_ERROR (hearken_error_quark ())

typedef enum {
  HEARKEN_ERROR_INVALID_ARGUMENT,
  HEARKEN_ERROR_NO_MODEL,
  HEARKEN_ERROR_MODEL_LOAD,
  HEARKEN_ERROR_BUSY,
  HEARKEN_ERROR_CANCELLED,
  HEARKEN_ERROR_TOO_LONG,
  HEARKEN_ERROR_NOT_FOUND,
  HEARKEN_ERROR_NO_AUDIO_DEVICE,
  HEARKEN_ERROR_NOT_AVAILABLE,
  HEARKEN_ERROR_PERMISSION_DENIED,
} HearkenError;

GQuark hearken_error_quark (void);

G_END_DECLS
