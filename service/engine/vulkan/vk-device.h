/* vk-device.h — choosing a Vulkan device, probing what it can do and
 * opening it.
 *
 * Devices rank discrete GPU, then integrated, then virtual, then CPU
 * implementations (lavapipe); a device index (HEARKEN_VULKAN_DEVICE, in
 * the loader's order, as vulkaninfo lists them) overrides the ranking.
 * A device is usable with Vulkan 1.1, a compute queue, 16-bit storage
 * buffers and push descriptors; the rest is probed and picks the shaders'
 * sizes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "vulkan/vk-loader.h"

typedef struct hk_vk_caps {
    uint32_t     api_version;
    uint32_t     subgroup_size;
    bool         subgroup_sum;         /* compute shaders add across a subgroup */
    bool         fp16_arithmetic;      /* shaderFloat16 */
    bool         int8_dot;             /* shaderIntegerDotProduct: enabled */
    bool         int8_dot_fast;        /* …of packed 4 x 8-bit signed, in hardware */
    uint32_t     max_shared_bytes;
    uint32_t     max_invocations;      /* per workgroup */
    uint32_t     max_groups[3];
    VkDeviceSize max_allocation;
    VkDeviceSize max_storage_range;    /* largest buffer a shader binds */
    uint32_t     max_texel_elements;   /* of a texel buffer */
} hk_vk_caps;

/* Failures the tests ask for through HEARKEN_VULKAN_FAULT: "alloc[:N]"
 * makes the Nth tensor allocation fail as out of device memory, "lost[:N]"
 * the Nth submission report VK_ERROR_DEVICE_LOST (N 1 by default). */
typedef struct hk_vk_faults {
    uint32_t alloc_at;   /* 0: never */
    uint32_t lost_at;
    uint32_t n_allocs;
    uint32_t n_submits;
} hk_vk_faults;

typedef struct hk_vk_device {
    hk_vk_fns        vk;
    VkInstance       instance;
    VkPhysicalDevice phys;
    uint32_t         index;          /* in the loader's order */
    VkPhysicalDeviceProperties       props;
    VkPhysicalDeviceMemoryProperties memory;
    hk_vk_caps       caps;
    VkDevice         device;
    uint32_t         queue_family;
    VkQueue          queue;
    hk_vk_faults     faults;
    char             description[512];
} hk_vk_device;

/* index < 0: the best-ranked usable device.  Unless allow_cpu, a device
 * that is a CPU implementation is refused: the CPU backend is faster. */
int  hk_vk_device_open(int index, bool allow_cpu, hk_vk_device **ret, hk_error *err);
void hk_vk_device_close(hk_vk_device *d);   /* accepts NULL */

/* "discrete GPU", "CPU implementation"… */
const char *hk_vk_device_type_name(VkPhysicalDeviceType type);

/* A memory type for the buffer's allowed types with the wanted flags
 * (and preferring the nice ones); -1 when none. */
int  hk_vk_device_memory_type(const hk_vk_device *d, uint32_t allowed,
                              VkMemoryPropertyFlags wanted, VkMemoryPropertyFlags nice);

/* Count a tensor allocation / a submission; true when a simulated fault
 * is due. */
bool hk_vk_device_fault_alloc(hk_vk_device *d);
bool hk_vk_device_fault_lost(hk_vk_device *d);
