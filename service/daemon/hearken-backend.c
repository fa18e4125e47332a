/* hearken-backend.c — the settings' side of choosing a backend. */
#include "hearken-backend.h"

void
hearken_backend_placement (HearkenSettings  *settings,
                           HearkenPlacement *placement)
{
  g_return_if_fail (HEARKEN_IS_SETTINGS (settings));
  g_return_if_fail (placement != NULL);

  placement->backend = hearken_settings_get_backend (settings);
  placement->vulkan_device = hearken_settings_get_vulkan_device (settings);
  placement->threads = hearken_settings_get_threads (settings);
}

const char *
hearken_backend_plan (HearkenSettings  *settings,
                      char            **ret_reason)
{
  const char *wanted;
  const char *asker;

  g_return_val_if_fail (HEARKEN_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (ret_reason != NULL, NULL);

  wanted = hearken_settings_get_backend (settings);
  asker = hearken_settings_is_overridden (settings, "backend")
          ? "HEARKEN_BACKEND" : "The backend setting";

  if (g_str_equal (wanted, "cpu"))
    {
      *ret_reason = g_strdup_printf ("%s asks for the CPU", asker);
      return "cpu";
    }
  if (g_str_equal (wanted, "vulkan"))
    *ret_reason = g_strdup_printf ("%s asks for Vulkan; the device is chosen when a "
                                   "model loads, and the CPU runs it if none can", asker);
  else
    *ret_reason = g_strdup_printf ("%s asks for auto: a Vulkan GPU when a model loads, "
                                   "if there is one, else the CPU", asker);
  return "";
}
