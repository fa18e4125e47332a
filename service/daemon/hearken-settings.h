/* hearken-settings.h — the org.hearken.Hearken settings as hearkend sees
 * them: the GSettings values with the environment overrides for tests and
 * scripts (HEARKEN_MODEL, HEARKEN_BACKEND, HEARKEN_VULKAN_DEVICE) on top.
 *
 * Every setting is a read-only property named after its key; a change,
 * from the GUI or `gsettings set`, is a notify:: signal, so the service
 * follows it without a restart.  An overridden key ignores the setting.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_SETTINGS (hearken_settings_get_type ())

G_DECLARE_FINAL_TYPE (HearkenSettings, hearken_settings, HEARKEN, SETTINGS, GObject)

HearkenSettings *hearken_settings_new                (GError          **error);

/* Whether key comes from the environment rather than the setting. */
gboolean         hearken_settings_is_overridden      (HearkenSettings  *self,
                                                      const char       *key);

char            *hearken_settings_dup_model          (HearkenSettings  *self);
const char      *hearken_settings_get_backend        (HearkenSettings  *self);
int              hearken_settings_get_vulkan_device  (HearkenSettings  *self);
double           hearken_settings_get_temperature    (HearkenSettings  *self);
double           hearken_settings_get_top_p          (HearkenSettings  *self);
guint            hearken_settings_get_max_tokens     (HearkenSettings  *self);
guint            hearken_settings_get_context_length (HearkenSettings  *self);
char            *hearken_settings_dup_system_prompt  (HearkenSettings  *self);
guint            hearken_settings_get_threads        (HearkenSettings  *self);
gboolean         hearken_settings_get_keep_history   (HearkenSettings  *self);
guint            hearken_settings_get_idle_unload_seconds (HearkenSettings *self);
double           hearken_settings_get_intent_threshold (HearkenSettings *self);

G_END_DECLS
