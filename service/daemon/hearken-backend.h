/* hearken-backend.h — where models run, and why.
 *
 * The backend setting (or HEARKEN_BACKEND) asks for auto, vulkan or cpu;
 * what the engine in this build can give decides.  The reason is a
 * sentence for the BackendReason property.
 */
#pragma once

#include "hearken-settings.h"

G_BEGIN_DECLS

/* "cpu" or "vulkan"; *ret_reason (newly allocated) says why. */
const char *hearken_backend_choose (HearkenSettings  *settings,
                                    char            **ret_reason);

G_END_DECLS
