/* backend-vulkan.h — the backend that runs on a Vulkan device.
 *
 * Weights are copied once into device-local memory; activations and the
 * KV cache live there too.  Ops are recorded into one command buffer per
 * step (a forward call) and run at sync, one compute shader per op
 * (shaders/), its variant chosen by the weight type and its sizes by what
 * the device reported (HEARKEN_VULKAN_KERNELS=gpu or cpu forces the
 * variants for a GPU or for a CPU implementation such as lavapipe).  On a
 * GPU with a fast integer dot product, quantized weights meet activations
 * rounded to bytes, as the CPU backend's do (HEARKEN_VULKAN_INT8=1 or 0
 * forces it either way where the device has the dot product at all); a
 * row's lanes in the matrix × vector kernels add up across a subgroup
 * where the device can (HEARKEN_VULKAN_SUBGROUP=0: in shared memory).
 */
#pragma once

#include <stdbool.h>

#include "backend.h"

typedef struct hk_backend_vulkan_params {
    int  device;      /* in the loader's order; -1: the best-ranked usable one */
    bool allow_cpu;   /* accept a CPU implementation such as lavapipe */
} hk_backend_vulkan_params;

/* Fails, saying why, when there is no loader, no usable device, or the
 * device cannot be opened. */
int hk_backend_vulkan_new(const hk_backend_vulkan_params *p, hk_backend **ret, hk_error *err);
