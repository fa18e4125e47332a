/* backend-select.c — the request, the attempt at Vulkan, the fallback. */
#include "backend-select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-failover.h"
#include "cpu/backend-cpu.h"
#include "vulkan/vk-config.h"
#if HK_HAVE_VULKAN
#include "vulkan/backend-vulkan.h"
#endif

void
hk_backend_request_init(hk_backend_request *r)
{
    *r = (hk_backend_request){ .vulkan_device = -1 };
}

bool
hk_backend_name_is_valid(const char *name)
{
    return strcmp(name, "auto") == 0 || strcmp(name, "vulkan") == 0 || strcmp(name, "cpu") == 0;
}

#if HK_HAVE_VULKAN
/* The device index, from the request or the environment; -1: any. */
static int
device_index(const hk_backend_request *r, int *ret, hk_error *err)
{
    const char *env = getenv("HEARKEN_VULKAN_DEVICE");
    *ret = r->vulkan_device;
    if (*ret >= 0 || !env || !*env)
        return 0;
    char *end;
    long n = strtol(env, &end, 10);
    if (*end != '\0' || n < 0 || n > 1000)
        return hk_error_set(err, -EINVAL, "HEARKEN_VULKAN_DEVICE='%s' is not a device number", env);
    *ret = (int)n;
    return 0;
}

/* Vulkan, wrapped to fail over to a CPU backend. */
static int
try_vulkan(const hk_backend_request *r, bool asked, hk_backend **ret, hk_error *err)
{
    int index;
    int rc = device_index(r, &index, err);
    if (rc < 0)
        return rc;
    /* a device named by its number is taken whatever it is */
    hk_backend_vulkan_params p = { .device = index, .allow_cpu = asked || index >= 0 };
    hk_backend *vulkan, *cpu;
    rc = hk_backend_vulkan_new(&p, &vulkan, err);
    if (rc < 0)
        return rc;
    rc = hk_backend_cpu_new(r->n_threads, &cpu, err);
    if (rc < 0) {
        hk_backend_free(vulkan);
        return rc;
    }
    return hk_backend_failover_new(vulkan, cpu, ret, err);
}
#else
static int
try_vulkan(const hk_backend_request *r, bool asked, hk_backend **ret, hk_error *err)
{
    return hk_error_set(err, -ENOTSUP, "this build of Hearken has no Vulkan backend");
}
#endif

int
hk_backend_requested(const char *name, const char **ret, hk_error *err)
{
    const char *from = "--backend";
    if (!name) {
        name = getenv("HEARKEN_BACKEND");
        from = "HEARKEN_BACKEND";
    }
    if (!name || !*name)
        name = "auto";
    if (!hk_backend_name_is_valid(name))
        return hk_error_set(err, -EINVAL, "%s '%s' is not auto, vulkan or cpu", from, name);
    *ret = name;
    return 0;
}

int
hk_backend_select(const hk_backend_request *r, hk_backend **ret, char *reason, hk_error *err)
{
    const char *name;
    int rc = hk_backend_requested(r->backend, &name, err);
    if (rc < 0)
        return rc;

    bool asked = strcmp(name, "vulkan") == 0;
    if (strcmp(name, "cpu") != 0) {
        hk_error why = { 0 };
        if (try_vulkan(r, asked, ret, &why) == 0) {
            snprintf(reason, HK_BACKEND_REASON_MAX, "Vulkan on %s%s", hk_backend_description(*ret),
                     asked ? ", as asked" : ", the best device found");
            return 0;
        }
        snprintf(reason, HK_BACKEND_REASON_MAX, "%s%.400s; using the CPU backend",
                 asked ? "Vulkan was asked for, but " : "", why.message);
    } else {
        snprintf(reason, HK_BACKEND_REASON_MAX, "the CPU backend, as asked");
    }
    return hk_backend_cpu_new(r->n_threads, ret, err);
}
