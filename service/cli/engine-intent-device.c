/* engine-intent-device.c — choosing the intent commands' device. */
#include "engine-intent-device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine-options.h"
#include "vulkan/vk-config.h"
#if HK_HAVE_VULKAN
#include "vulkan/vk-intent.h"
#endif

static int
open_vulkan(engine_intent_device *d, bool allow_cpu, hk_error *err)
{
#if HK_HAVE_VULKAN
    return hk_vk_intent_new(-1, allow_cpu, &d->vk, err);
#else
    return hk_error_set(err, -ENOTSUP, "this build of Hearken has no Vulkan backend");
#endif
}

static const char *
description(const engine_intent_device *d)
{
#if HK_HAVE_VULKAN
    return hk_vk_intent_description(d->vk);
#else
    return "";
#endif
}

bool
engine_intent_device_open(engine_intent_device *d, const char *command, const char *name,
                          const char *work)
{
    hk_error why = { 0 };
    *d = (engine_intent_device){ .work = work };
    if (hk_backend_requested(name, &name, &why) < 0) {
        engine_error("%s: %s", command, why.message);
        return false;
    }
    bool asked = strcmp(name, "vulkan") == 0;
    if (strcmp(name, "cpu") == 0)
        snprintf(d->reason, sizeof d->reason, "the CPU, as asked");
    else if (open_vulkan(d, asked, &why) == 0)
        snprintf(d->reason, sizeof d->reason, "Vulkan on %s%s", description(d),
                 asked ? ", as asked" : ", the best device found");
    else
        snprintf(d->reason, sizeof d->reason, "%s%.400s; %s on the CPU",
                 asked ? "Vulkan was asked for, but " : "", why.message, work);
    return true;
}

void
engine_intent_device_leave(engine_intent_device *d, const char *why)
{
    engine_intent_device_close(d);
    snprintf(d->reason, sizeof d->reason, "%.400s; %s on the CPU", why, d->work);
}

void
engine_intent_device_close(engine_intent_device *d)
{
#if HK_HAVE_VULKAN
    hk_vk_intent_free(d->vk);
#endif
    d->vk = NULL;
}

void
engine_intent_device_print(const engine_intent_device *d)
{
    fprintf(stderr, "backend:    %s\n", d->vk ? "vulkan" : "cpu");
    fprintf(stderr, "reason:     %s\n", d->reason);
}
