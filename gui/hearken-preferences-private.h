/* hearken-preferences-private.h — the window's parts, for the tests that
 * drive the real widgets. */
#pragma once

#include "hearken-catalog-list.h"
#include "hearken-preferences.h"

G_BEGIN_DECLS

struct _HearkenPreferences
{
  AdwPreferencesWindow   parent_instance;

  HearkenDBusAssistant1 *proxy;
  GSettings             *settings;
  GCancellable          *cancellable;
  /* Paths of the installed models, in the order of model_names. */
  GPtrArray             *model_paths;
  gboolean               filling_models;
  /* input-device values of the microphones, in the order of
   * microphone_names: "" (the default) first. */
  GPtrArray             *microphones;
  gboolean               filling_microphones;

  AdwComboRow           *model_row;
  GtkStringList         *model_names;
  GtkWidget             *download_group;
  HearkenCatalogList    *catalog;
  AdwComboRow           *backend_row;
  GtkSpinButton         *device_spin;
  GtkSpinButton         *temperature_spin;
  GtkSpinButton         *top_p_spin;
  GtkSpinButton         *max_tokens_spin;
  GtkSpinButton         *context_length_spin;
  AdwEntryRow           *system_prompt_row;
  AdwComboRow           *microphone_row;
  GtkStringList         *microphone_names;
  AdwEntryRow           *shortcut_row;
  GtkSwitch             *keep_history_switch;
  GtkWidget             *forget_button;
};

G_END_DECLS
