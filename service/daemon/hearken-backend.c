/* hearken-backend.c — choosing the backend. */
#include "hearken-backend.h"

/* The engine has no Vulkan backend yet: every choice ends on the CPU, and
 * the reason says so in the words of what was asked. */
const char *
hearken_backend_choose (HearkenSettings  *settings,
                        char            **ret_reason)
{
  const char *wanted;
  gboolean by_env;

  g_return_val_if_fail (HEARKEN_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (ret_reason != NULL, NULL);

  wanted = hearken_settings_get_backend (settings);
  by_env = hearken_settings_is_overridden (settings, "backend");

  if (g_str_equal (wanted, "cpu"))
    *ret_reason = g_strdup_printf ("The CPU, as %s asks",
                                   by_env ? "HEARKEN_BACKEND" : "the backend setting");
  else if (g_str_equal (wanted, "vulkan"))
    *ret_reason = g_strdup_printf ("%s asks for Vulkan, but this build of Hearken has no "
                                   "Vulkan backend; running on the CPU",
                                   by_env ? "HEARKEN_BACKEND" : "The backend setting");
  else
    *ret_reason = g_strdup ("This build of Hearken has no Vulkan backend; running on the CPU");
  return "cpu";
}
