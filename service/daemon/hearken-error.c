/* hearken-error.c — the org.hearken.Error.* domain. */
#include "hearken-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry hearken_error_entries[] = {
  { HEARKEN_ERROR_INVALID_ARGUMENT, "org.hearken.Error.InvalidArgument" },
  { HEARKEN_ERROR_NO_MODEL,         "org.hearken.Error.NoModel" },
  { HEARKEN_ERROR_MODEL_LOAD,       "org.hearken.Error.ModelLoad" },
  { HEARKEN_ERROR_BUSY,             "org.hearken.Error.Busy" },
  { HEARKEN_ERROR_CANCELLED,        "org.hearken.Error.Cancelled" },
  { HEARKEN_ERROR_TOO_LONG,         "org.hearken.Error.TooLong" },
  { HEARKEN_ERROR_NOT_FOUND,        "org.hearken.Error.NotFound" },
  { HEARKEN_ERROR_NO_AUDIO_DEVICE,  "org.hearken.Error.NoAudioDevice" },
  { HEARKEN_ERROR_NOT_AVAILABLE,    "org.hearken.Error.NotAvailable" },
  { HEARKEN_ERROR_PERMISSION_DENIED, "org.hearken.Error.PermissionDenied" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (hearken_error_entries) == HEARKEN_ERROR_PERMISSION_DENIED + 1);

GQuark
hearken_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("hearken-error-quark",
                                      &quark,
                                      hearken_error_entries,
                                      G_N_ELEMENTS (hearken_error_entries));
  return (GQuark) quark;
}
