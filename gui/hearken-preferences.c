/* hearken-preferences.c — see hearken-preferences.h. */
#include "hearken-preferences-private.h"

#include <glib/gi18n.h>

#include "hearken-model-import.h"

G_DEFINE_FINAL_TYPE (HearkenPreferences, hearken_preferences, ADW_TYPE_PREFERENCES_WINDOW)

/* The backend combo's rows, in the order of the schema's enum. */
static const char *const backends[] = { "auto", "vulkan", "cpu" };

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
toast_error (HearkenPreferences *self,
             const char         *what,
             GError             *error)
{
  g_autofree char *title = NULL;

  g_dbus_error_strip_remote_error (error);
  /* Translators: what failed, then why */
  title = g_strdup_printf (_("%s: %s"), what, error->message);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (title));
}

static gboolean
backend_to_selected (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    if (g_str_equal (nick, backends[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
selected_to_backend (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (backends))
    return NULL;
  return g_variant_new_string (backends[selected]);
}

/* ------------------------------------------------------------ models */

static void
set_model (HearkenPreferences *self,
           const char         *path)
{
  g_settings_set_string (self->settings, "model", path);
}

static void
model_selected_cb (HearkenPreferences *self)
{
  guint selected = adw_combo_row_get_selected (self->model_row);

  if (self->filling_models || selected >= self->model_paths->len)
    return;
  set_model (self, self->model_paths->pdata[selected]);
}

static void
list_models_done_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  HearkenPreferences *self = user_data;
  g_autoptr(GVariant) models = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chosen = NULL;
  GVariantIter iter;
  GVariant *model;
  guint selected = GTK_INVALID_LIST_POSITION;

  if (!hearken_dbus_assistant1_call_list_models_finish (HEARKEN_DBUS_ASSISTANT1 (source), &models,
                                                        result, &error))
    {
      if (!is_cancelled (error))
        toast_error (self, _("The installed models could not be listed"), error);
      return;
    }
  chosen = g_settings_get_string (self->settings, "model");
  self->filling_models = TRUE;
  g_ptr_array_set_size (self->model_paths, 0);
  gtk_string_list_splice (self->model_names, 0, g_list_model_get_n_items (G_LIST_MODEL (self->model_names)), NULL);
  g_variant_iter_init (&iter, models);
  while ((model = g_variant_iter_next_value (&iter)))
    {
      const char *path = "", *name = "";
      gboolean loaded = FALSE;

      g_variant_lookup (model, "path", "&s", &path);
      g_variant_lookup (model, "name", "&s", &name);
      g_variant_lookup (model, "loaded", "b", &loaded);
      if (g_str_equal (path, chosen) || g_str_equal (name, chosen) ||
          (selected == GTK_INVALID_LIST_POSITION && loaded))
        selected = self->model_paths->len;
      g_ptr_array_add (self->model_paths, g_strdup (path));
      gtk_string_list_append (self->model_names, *name ? name : path);
      g_variant_unref (model);
    }
  adw_combo_row_set_selected (self->model_row, selected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->model_row), self->model_paths->len > 0);
  self->filling_models = FALSE;
}

static void
refresh_models (HearkenPreferences *self)
{
  if (!self->proxy)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->model_row), FALSE);
      return;
    }
  hearken_dbus_assistant1_call_list_models (self->proxy, self->cancellable, list_models_done_cb, self);
}

static void
pulled_cb (HearkenPreferences *self,
           const char         *path)
{
  set_model (self, path);
  refresh_models (self);
}

static void
imported_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  HearkenPreferences *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = hearken_model_import_finish (result, &error);

  if (!path)
    {
      if (!is_cancelled (error))
        toast_error (self, _("The model could not be added"), error);
      return;
    }
  set_model (self, path);
  refresh_models (self);
}

/* hearkend reads models only from its folders (its sandbox): the file
 * goes there, linked or copied. */
static void
file_chosen_cb (HearkenPreferences   *self,
                int                   response,
                GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))))
    {
      g_autofree char *folder = hearken_model_import_folder ();

      hearken_model_import_async (file, folder, self->cancellable, imported_cb, self);
    }
  g_object_unref (chooser);
}

static void
choose_file_clicked_cb (HearkenPreferences *self)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Choose a Model File"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("GGUF models"));
  gtk_file_filter_add_pattern (filter, "*.gguf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect_swapped (chooser, "response", G_CALLBACK (file_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* -------------------------------------------------------- microphones */

static void
select_microphone (HearkenPreferences *self)
{
  g_autofree char *chosen = g_settings_get_string (self->settings, "input-device");
  guint index;

  if (g_ptr_array_find_with_equal_func (self->microphones, chosen, g_str_equal, &index))
    {
      self->filling_microphones = TRUE;
      adw_combo_row_set_selected (self->microphone_row, index);
      self->filling_microphones = FALSE;
    }
}

static void
add_microphone (HearkenPreferences *self,
                const char         *value,
                const char         *label)
{
  g_ptr_array_add (self->microphones, g_strdup (value));
  gtk_string_list_append (self->microphone_names, label);
}

/* The default first, the ones the service hears, and the chosen one even
 * when it is unplugged: choosing it again must not need it plugged in. */
static void
fill_microphones (HearkenPreferences *self,
                  const char * const *names)
{
  g_autofree char *chosen = g_settings_get_string (self->settings, "input-device");

  self->filling_microphones = TRUE;
  g_ptr_array_set_size (self->microphones, 0);
  gtk_string_list_splice (self->microphone_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->microphone_names)), NULL);
  add_microphone (self, "", _("Default"));
  for (gsize i = 0; names && names[i]; i++)
    add_microphone (self, names[i], names[i]);
  if (*chosen && !(names && g_strv_contains (names, chosen)))
    {
      g_autofree char *label = g_strdup_printf (_("%s (not connected)"), chosen);

      add_microphone (self, chosen, label);
    }
  self->filling_microphones = FALSE;
  select_microphone (self);
}

static void
list_audio_devices_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  HearkenPreferences *self = user_data;
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;

  if (!hearken_dbus_assistant1_call_list_audio_devices_finish (HEARKEN_DBUS_ASSISTANT1 (source),
                                                               &names, result, &error))
    {
      if (is_cancelled (error))
        return;
      /* built without voice input, or no audio system: nothing to choose */
      g_debug ("No microphones listed: %s", error->message);
      gtk_widget_set_sensitive (GTK_WIDGET (self->microphone_row), FALSE);
    }
  fill_microphones (self, (const char * const *) names);
}

static void
refresh_microphones (HearkenPreferences *self)
{
  fill_microphones (self, NULL);
  if (!self->proxy)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->microphone_row), FALSE);
      return;
    }
  hearken_dbus_assistant1_call_list_audio_devices (self->proxy, self->cancellable,
                                                   list_audio_devices_done_cb, self);
}

static void
microphone_selected_cb (HearkenPreferences *self)
{
  guint selected = adw_combo_row_get_selected (self->microphone_row);

  if (self->filling_microphones || selected >= self->microphones->len)
    return;
  g_settings_set_string (self->settings, "input-device", self->microphones->pdata[selected]);
}

/* ----------------------------------------------------------- forget */

static void
forget_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  HearkenPreferences *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hearken_dbus_assistant1_call_forget_all_finish (HEARKEN_DBUS_ASSISTANT1 (source), result, &error))
    {
      if (!is_cancelled (error))
        toast_error (self, _("Nothing was forgotten"), error);
      return;
    }
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("All conversations and feedback were deleted")));
}

static void
forget_response_cb (HearkenPreferences *self,
                    const char         *response)
{
  if (!g_str_equal (response, "forget") || !self->proxy)
    return;
  hearken_dbus_assistant1_call_forget_all (self->proxy, self->cancellable, forget_done_cb, self);
}

static void
forget_clicked_cb (HearkenPreferences *self)
{
  GtkWidget *dialog =
    adw_message_dialog_new (GTK_WINDOW (self), _("Forget Everything?"),
                            _("All conversations and all feedback will be deleted from this computer. "
                              "This cannot be undone."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "forget", _("_Forget All"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "forget",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (forget_response_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ----------------------------------------------------------- settings */

static void
bind_settings (HearkenPreferences *self)
{
  GSettings *s = self->settings;

  g_settings_bind_with_mapping (s, "backend", self->backend_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                backend_to_selected, selected_to_backend, NULL, NULL);
  g_settings_bind (s, "vulkan-device", self->device_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "temperature", self->temperature_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "top-p", self->top_p_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "max-tokens", self->max_tokens_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "context-length", self->context_length_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "system-prompt", self->system_prompt_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "push-to-talk-shortcut", self->shortcut_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "keep-history", self->keep_history_switch, "active", G_SETTINGS_BIND_DEFAULT);
}

/* --------------------------------------------------------------- type */

static void
hearken_preferences_dispose (GObject *object)
{
  HearkenPreferences *self = HEARKEN_PREFERENCES (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->proxy);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARKEN_TYPE_PREFERENCES);
  G_OBJECT_CLASS (hearken_preferences_parent_class)->dispose (object);
}

static void
hearken_preferences_finalize (GObject *object)
{
  HearkenPreferences *self = HEARKEN_PREFERENCES (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->model_paths);
  g_ptr_array_unref (self->microphones);
  G_OBJECT_CLASS (hearken_preferences_parent_class)->finalize (object);
}

static void
hearken_preferences_class_init (HearkenPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_preferences_dispose;
  object_class->finalize = hearken_preferences_finalize;

  g_type_ensure (HEARKEN_TYPE_CATALOG_LIST);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearken/Hearken/hearken-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, model_row);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, model_names);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, download_group);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, catalog);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, backend_row);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, device_spin);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, temperature_spin);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, top_p_spin);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, max_tokens_spin);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, context_length_spin);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, system_prompt_row);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, microphone_row);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, microphone_names);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, shortcut_row);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, keep_history_switch);
  gtk_widget_class_bind_template_child (widget_class, HearkenPreferences, forget_button);
  gtk_widget_class_bind_template_callback (widget_class, choose_file_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, pulled_cb);
  gtk_widget_class_bind_template_callback (widget_class, forget_clicked_cb);
}

static void
hearken_preferences_init (HearkenPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = g_settings_new ("org.hearken.Hearken");
  self->cancellable = g_cancellable_new ();
  self->model_paths = g_ptr_array_new_with_free_func (g_free);
  self->microphones = g_ptr_array_new_with_free_func (g_free);
  bind_settings (self);
  g_signal_connect_object (self->model_row, "notify::selected", G_CALLBACK (model_selected_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->microphone_row, "notify::selected",
                           G_CALLBACK (microphone_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::input-device", G_CALLBACK (select_microphone),
                           self, G_CONNECT_SWAPPED);
}

/**
 * hearken_preferences_new:
 * @parent: the main window
 * @proxy: (nullable): the service
 *
 * Returns: (transfer full): a new preferences window
 */
HearkenPreferences *
hearken_preferences_new (GtkWindow             *parent,
                         HearkenDBusAssistant1 *proxy)
{
  HearkenPreferences *self;

  g_return_val_if_fail (GTK_IS_WINDOW (parent), NULL);

  self = g_object_new (HEARKEN_TYPE_PREFERENCES, "transient-for", parent, "modal", TRUE, NULL);
  if (proxy)
    self->proxy = g_object_ref (proxy);
  hearken_catalog_list_set_proxy (self->catalog, proxy);
  /* no catalog installed: nothing to offer */
  gtk_widget_set_visible (self->download_group, hearken_catalog_list_get_n_models (self->catalog) > 0);
  gtk_widget_set_sensitive (self->forget_button, proxy != NULL);
  refresh_models (self);
  refresh_microphones (self);
  return self;
}
