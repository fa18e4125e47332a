/* hearken-backend.h — where models run, as the settings ask.
 *
 * The backend setting (or HEARKEN_BACKEND) asks for auto, vulkan or cpu;
 * the engine picks the device when a model loads (hk_backend_select), and
 * the generator reports what it got.  Before any load, only the request
 * is known: the plan says so in a sentence for BackendReason.
 */
#pragma once

#include "hearken-generator.h"
#include "hearken-settings.h"

G_BEGIN_DECLS

/* The placement the settings ask for; placement->backend is borrowed from
 * settings. */
void   hearken_backend_placement   (HearkenSettings  *settings,
                                    HearkenPlacement *placement);

/* Before a model loads: "cpu" when that is certain, else "" (the device is
 * chosen at load); *ret_reason (newly allocated) says so. */
const char *hearken_backend_plan   (HearkenSettings  *settings,
                                    char            **ret_reason);

G_END_DECLS
