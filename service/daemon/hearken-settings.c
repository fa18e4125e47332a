/* hearken-settings.c — GSettings plus environment overrides. */
#include "hearken-settings.h"

#include <gio/gio.h>
#include <math.h>

#define SCHEMA_ID "org.hearken.Hearken"

struct _HearkenSettings
{
  GObject    parent_instance;

  GSettings *settings;
  /* From the environment; NULL / FALSE when not overridden. */
  char      *model_override;
  char      *backend_override;
  gboolean   vulkan_device_overridden;
  int        vulkan_device_override;
};

G_DEFINE_FINAL_TYPE (HearkenSettings, hearken_settings, G_TYPE_OBJECT)

/* Property names are the GSettings keys. */
enum {
  PROP_0,
  PROP_MODEL,
  PROP_BACKEND,
  PROP_VULKAN_DEVICE,
  PROP_TEMPERATURE,
  PROP_TOP_P,
  PROP_MAX_TOKENS,
  PROP_CONTEXT_LENGTH,
  PROP_SYSTEM_PROMPT,
  PROP_THREADS,
  PROP_KEEP_HISTORY,
  PROP_IDLE_UNLOAD_SECONDS,
  PROP_INTENT_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
settings_changed_cb (HearkenSettings *self,
                     const char      *key,
                     GSettings       *settings)
{
  GParamSpec *pspec;

  g_assert (HEARKEN_IS_SETTINGS (self));

  if (hearken_settings_is_overridden (self, key))
    return;
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), key);
  if (pspec)
    g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

static void
hearken_settings_finalize (GObject *object)
{
  HearkenSettings *self = (HearkenSettings *) object;

  g_clear_object (&self->settings);
  g_clear_pointer (&self->model_override, g_free);
  g_clear_pointer (&self->backend_override, g_free);

  G_OBJECT_CLASS (hearken_settings_parent_class)->finalize (object);
}

static void
hearken_settings_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  HearkenSettings *self = HEARKEN_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_take_string (value, hearken_settings_dup_model (self));
      break;
    case PROP_BACKEND:
      g_value_set_string (value, hearken_settings_get_backend (self));
      break;
    case PROP_VULKAN_DEVICE:
      g_value_set_int (value, hearken_settings_get_vulkan_device (self));
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, hearken_settings_get_temperature (self));
      break;
    case PROP_TOP_P:
      g_value_set_double (value, hearken_settings_get_top_p (self));
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, hearken_settings_get_max_tokens (self));
      break;
    case PROP_CONTEXT_LENGTH:
      g_value_set_uint (value, hearken_settings_get_context_length (self));
      break;
    case PROP_SYSTEM_PROMPT:
      g_value_take_string (value, hearken_settings_dup_system_prompt (self));
      break;
    case PROP_THREADS:
      g_value_set_uint (value, hearken_settings_get_threads (self));
      break;
    case PROP_KEEP_HISTORY:
      g_value_set_boolean (value, hearken_settings_get_keep_history (self));
      break;
    case PROP_IDLE_UNLOAD_SECONDS:
      g_value_set_uint (value, hearken_settings_get_idle_unload_seconds (self));
      break;
    case PROP_INTENT_THRESHOLD:
      g_value_set_double (value, hearken_settings_get_intent_threshold (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearken_settings_class_init (HearkenSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = hearken_settings_finalize;
  object_class->get_property = hearken_settings_get_property;

  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, NULL, flags);
  properties[PROP_BACKEND] =
    g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  properties[PROP_VULKAN_DEVICE] =
    g_param_spec_int ("vulkan-device", NULL, NULL, -1, G_MAXINT, -1, flags);
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", NULL, NULL, 0, G_MAXDOUBLE, 0.7, flags);
  properties[PROP_TOP_P] =
    g_param_spec_double ("top-p", NULL, NULL, 0, 1, 0.95, flags);
  properties[PROP_MAX_TOKENS] =
    g_param_spec_uint ("max-tokens", NULL, NULL, 0, G_MAXUINT, 512, flags);
  properties[PROP_CONTEXT_LENGTH] =
    g_param_spec_uint ("context-length", NULL, NULL, 0, G_MAXUINT, 4096, flags);
  properties[PROP_SYSTEM_PROMPT] =
    g_param_spec_string ("system-prompt", NULL, NULL, NULL, flags);
  properties[PROP_THREADS] =
    g_param_spec_uint ("threads", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_KEEP_HISTORY] =
    g_param_spec_boolean ("keep-history", NULL, NULL, TRUE, flags);
  properties[PROP_IDLE_UNLOAD_SECONDS] =
    g_param_spec_uint ("idle-unload-seconds", NULL, NULL, 0, G_MAXUINT, 300, flags);
  properties[PROP_INTENT_THRESHOLD] =
    g_param_spec_double ("intent-threshold", NULL, NULL, 0, 1, 0.6, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hearken_settings_init (HearkenSettings *self)
{
}

static gboolean
read_overrides (HearkenSettings  *self,
                GError          **error)
{
  const char *model = g_getenv ("HEARKEN_MODEL");
  const char *backend = g_getenv ("HEARKEN_BACKEND");
  const char *device = g_getenv ("HEARKEN_VULKAN_DEVICE");

  /* The model becomes the Model property, a D-Bus string, which must be
   * UTF-8 (found by tests/fuzz/fuzz-settings). */
  if (model && *model && !g_utf8_validate (model, -1, NULL))
    {
      g_autofree char *shown = g_utf8_make_valid (model, -1);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "HEARKEN_MODEL=%s: the path is not valid UTF-8; rename the file "
                   "or name it through a link", shown);
      return FALSE;
    }
  /* A file named relative to where hearkend was started by hand. */
  if (model && *model)
    self->model_override = g_file_test (model, G_FILE_TEST_EXISTS)
                           ? g_canonicalize_filename (model, NULL)
                           : g_strdup (model);

  if (backend && *backend)
    {
      if (!g_str_equal (backend, "auto") && !g_str_equal (backend, "vulkan") &&
          !g_str_equal (backend, "cpu"))
        {
          g_autofree char *shown = g_utf8_make_valid (backend, -1);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "HEARKEN_BACKEND=%s: expected auto, vulkan or cpu", shown);
          return FALSE;
        }
      self->backend_override = g_strdup (backend);
    }

  if (device && *device)
    {
      gint64 index = 0;

      if (!g_ascii_string_to_signed (device, 10, -1, 63, &index, NULL))
        {
          g_autofree char *shown = g_utf8_make_valid (device, -1);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "HEARKEN_VULKAN_DEVICE=%s: expected a device index from 0 to 63, "
                       "or -1 for the best device", shown);
          return FALSE;
        }
      self->vulkan_device_overridden = TRUE;
      self->vulkan_device_override = (int) index;
    }
  return TRUE;
}

/**
 * hearken_settings_new:
 *
 * Fails when the schema is not installed (g_settings_new would abort) or
 * an override in the environment has a value the setting could not have.
 *
 * Returns: (transfer full): the settings, or %NULL with @error set
 */
HearkenSettings *
hearken_settings_new (GError **error)
{
  g_autoptr(HearkenSettings) self = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_auto(GStrv) keys = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (source)
    schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
  if (!schema)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "The settings schema %s is not installed; install Hearken, or point "
                   "GSETTINGS_SCHEMA_DIR at a folder holding its gschemas.compiled",
                   SCHEMA_ID);
      return NULL;
    }

  self = g_object_new (HEARKEN_TYPE_SETTINGS, NULL);
  if (!read_overrides (self, error))
    return NULL;

  self->settings = g_settings_new_full (schema, NULL, NULL);
  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (settings_changed_cb), self,
                           G_CONNECT_SWAPPED);
  /* GSettings only reports changes to keys read since a handler was
   * connected. */
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i]; i++)
    g_variant_unref (g_settings_get_value (self->settings, keys[i]));

  return g_steal_pointer (&self);
}

gboolean
hearken_settings_is_overridden (HearkenSettings *self,
                                const char      *key)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (g_str_equal (key, "model"))
    return self->model_override != NULL;
  if (g_str_equal (key, "backend"))
    return self->backend_override != NULL;
  if (g_str_equal (key, "vulkan-device"))
    return self->vulkan_device_overridden;
  return FALSE;
}

/* A path or the name of an installed model; empty: the first installed. */
char *
hearken_settings_dup_model (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), NULL);

  if (self->model_override)
    return g_strdup (self->model_override);
  return g_settings_get_string (self->settings, "model");
}

/* "auto", "vulkan" or "cpu". */
const char *
hearken_settings_get_backend (HearkenSettings *self)
{
  static const char *const nicks[] = { "auto", "vulkan", "cpu" };
  int value;

  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), NULL);

  if (self->backend_override)
    return self->backend_override;
  value = g_settings_get_enum (self->settings, "backend");
  return value >= 0 && value < (int) G_N_ELEMENTS (nicks) ? nicks[value] : "auto";
}

int
hearken_settings_get_vulkan_device (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), -1);

  if (self->vulkan_device_overridden)
    return self->vulkan_device_override;
  return g_settings_get_int (self->settings, "vulkan-device");
}

/* GSettings' range check lets NaN through, every comparison with it being
 * false, and a keyfile may say "nan" (found by tests/fuzz/fuzz-settings):
 * the default stands in for it. */
static double
get_finite_double (HearkenSettings *self,
                   const char      *key)
{
  double value = g_settings_get_double (self->settings, key);
  g_autoptr(GVariant) fallback = NULL;

  if (isfinite (value))
    return value;
  fallback = g_settings_get_default_value (self->settings, key);
  return g_variant_get_double (fallback);
}

double
hearken_settings_get_temperature (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 0);

  return get_finite_double (self, "temperature");
}

double
hearken_settings_get_top_p (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 1);

  return get_finite_double (self, "top-p");
}

guint
hearken_settings_get_max_tokens (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 0);

  return g_settings_get_uint (self->settings, "max-tokens");
}

guint
hearken_settings_get_context_length (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 0);

  return g_settings_get_uint (self->settings, "context-length");
}

char *
hearken_settings_dup_system_prompt (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), NULL);

  return g_settings_get_string (self->settings, "system-prompt");
}

guint
hearken_settings_get_threads (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 0);

  return g_settings_get_uint (self->settings, "threads");
}

gboolean
hearken_settings_get_keep_history (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), TRUE);

  return g_settings_get_boolean (self->settings, "keep-history");
}

guint
hearken_settings_get_idle_unload_seconds (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 0);

  return g_settings_get_uint (self->settings, "idle-unload-seconds");
}

/* The confidence from which the top intent's action answers a turn. */
double
hearken_settings_get_intent_threshold (HearkenSettings *self)
{
  g_return_val_if_fail (HEARKEN_IS_SETTINGS (self), 1);

  return get_finite_double (self, "intent-threshold");
}
