/* engine-intent-device.h — where classify and train-intents compute: a
 * Vulkan device chosen as hk_backend_select chooses one for a language
 * model (auto: a real GPU; vulkan: any device, lavapipe included), or the
 * CPU, whenever Vulkan cannot start or stops, with the reason said. */
#pragma once

#include <stdbool.h>

#include "backend-select.h"

typedef struct engine_intent_device {
    struct hk_vk_intent *vk;      /* NULL: the CPU */
    const char          *work;    /* for the reason: "classifying" */
    char                 reason[HK_BACKEND_REASON_MAX];
} engine_intent_device;

/* name NULL: $HEARKEN_BACKEND, else auto.  False after printing that it
 * names no backend (command and work are for the messages). */
bool engine_intent_device_open(engine_intent_device *d, const char *command, const char *name,
                               const char *work);
/* Close the device after it failed at why: the CPU from now on. */
void engine_intent_device_leave(engine_intent_device *d, const char *why);
void engine_intent_device_close(engine_intent_device *d);
/* "backend:    vulkan" and "reason:     …" on stderr. */
void engine_intent_device_print(const engine_intent_device *d);
