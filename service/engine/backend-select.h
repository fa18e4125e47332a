/* backend-select.h — which backend a model runs on.
 *
 * Asked for by name ("auto", "vulkan", "cpu": a setting, --backend, or
 * HEARKEN_BACKEND) and given by what the machine has.  auto takes Vulkan
 * on a real GPU and the CPU backend when the only Vulkan device is a CPU
 * implementation (lavapipe); vulkan takes any Vulkan device, lavapipe
 * included.  Whatever stands in the way — no Vulkan in this build, no
 * loader, no usable device, a device that cannot be opened — the CPU
 * backend runs instead, and a one-line reason says so.  A Vulkan backend
 * comes wrapped in a failover backend (backend-failover.h), so a device
 * that fails later hands the work to the CPU as well.
 */
#pragma once

#include "backend.h"

typedef struct hk_backend_request {
    const char *backend;        /* "auto", "vulkan", "cpu"; NULL: $HEARKEN_BACKEND, else auto */
    int         n_threads;      /* the CPU backend's (also as the spare); 0: one per core */
    int         vulkan_device;  /* in the loader's order; -1: $HEARKEN_VULKAN_DEVICE, else
                                   the best-ranked device */
} hk_backend_request;

/* backend NULL, n_threads 0, vulkan_device -1. */
void hk_backend_request_init(hk_backend_request *r);

/* Whether name is auto, vulkan or cpu. */
bool hk_backend_name_is_valid(const char *name);

/* *ret = the backend asked for: name, else $HEARKEN_BACKEND, else auto.
 * -EINVAL, naming where the bad name came from, when it is no backend's. */
int hk_backend_requested(const char *name, const char **ret, hk_error *err);

#define HK_BACKEND_REASON_MAX 512

/* The backend r asks for, or the CPU backend; reason (HK_BACKEND_REASON_MAX
 * bytes) receives the one-line why ("Vulkan on …, as asked", "no Vulkan
 * loader …; using the CPU backend").  Fails only for a name that is not a
 * backend's, or when the CPU backend itself cannot start. */
int hk_backend_select(const hk_backend_request *r, hk_backend **ret, char *reason,
                      hk_error *err);
