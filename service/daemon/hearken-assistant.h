/* hearken-assistant.h — the org.hearken.Assistant1 object.
 *
 * Subclasses the skeleton gdbus-codegen makes from the interface XML:
 * each method handler checks its arguments, does the work through the
 * store, the models and the settings, and answers with a result or an
 * org.hearken.Error.*.  The properties follow the settings and the model.
 */
#pragma once

#include "hearken-dbus.h"
#include "hearken-models.h"
#include "hearken-settings.h"
#include "hearken-store.h"

G_BEGIN_DECLS

#define HEARKEN_TYPE_ASSISTANT (hearken_assistant_get_type ())

G_DECLARE_FINAL_TYPE (HearkenAssistant, hearken_assistant, HEARKEN, ASSISTANT,
                      HearkenDBusAssistant1Skeleton)

HearkenAssistant *hearken_assistant_new (HearkenSettings *settings,
                                         HearkenStore    *store,
                                         HearkenModels   *models);

G_END_DECLS
