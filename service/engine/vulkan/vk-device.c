/* vk-device.c — the instance, the choice of a device, its features and
 * the logical device with its compute queue. */
#include "vulkan/vk-device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16

const char *
hk_vk_device_type_name(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:   return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:    return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:            return "CPU implementation";
    default:                                     return "other device";
    }
}

/* Lower is better. */
static int
type_rank(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:   return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:    return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:            return 3;
    default:                                     return 4;
    }
}

/* ------------------------------------------------------------ faults */

static int
parse_fault(const char *spec, const char *name, uint32_t *ret)
{
    size_t len = strlen(name);
    if (strncmp(spec, name, len) != 0)
        return 0;
    if (spec[len] == '\0') {
        *ret = 1;
        return 1;
    }
    char *end;
    unsigned long n = spec[len] == ':' ? strtoul(spec + len + 1, &end, 10) : 0;
    if (n == 0 || n > UINT32_MAX || *end != '\0')
        return -1;
    *ret = (uint32_t)n;
    return 1;
}

static int
read_faults(hk_vk_faults *f, hk_error *err)
{
    const char *spec = getenv("HEARKEN_VULKAN_FAULT");
    memset(f, 0, sizeof *f);
    if (!spec || !*spec)
        return 0;
    int a = parse_fault(spec, "alloc", &f->alloc_at);
    int l = a == 0 ? parse_fault(spec, "lost", &f->lost_at) : 0;
    if (a < 0 || l < 0 || (a == 0 && l == 0))
        return hk_error_set(err, -EINVAL, "HEARKEN_VULKAN_FAULT='%s' is not alloc[:N] or lost[:N]",
                            spec);
    return 0;
}

bool
hk_vk_device_fault_alloc(hk_vk_device *d)
{
    return ++d->faults.n_allocs == d->faults.alloc_at;
}

bool
hk_vk_device_fault_lost(hk_vk_device *d)
{
    return ++d->faults.n_submits == d->faults.lost_at;
}

/* ------------------------------------------------------------ instance */

static int
create_instance(hk_vk_device *d, hk_error *err)
{
    uint32_t version = 0;
    d->vk.vkEnumerateInstanceVersion(&version);
    if (version < VK_API_VERSION_1_1)
        return hk_error_set(err, -ENOTSUP, "the Vulkan loader supports only Vulkan 1.0");
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "hearken",
        .pEngineName = "hearken-engine",
        .apiVersion = version < VK_API_VERSION_1_3 ? version : VK_API_VERSION_1_3,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
    };
    VkResult r = d->vk.vkCreateInstance(&info, NULL, &d->instance);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENODEV, "cannot create a Vulkan instance (%s)",
                            hk_vk_result_name(r));
    return hk_vk_load_instance(&d->vk, d->instance, err);
}

/* ------------------------------------------------------ device probing */

static bool
has_extension(const hk_vk_device *d, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (d->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *ext = calloc(n, sizeof *ext);
    bool found = false;
    if (ext && d->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, ext) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(ext[i].extensionName, name) == 0;
    free(ext);
    return found;
}

/* A queue family that computes, or UINT32_MAX. */
static uint32_t
compute_family(const hk_vk_device *d, VkPhysicalDevice pd)
{
    VkQueueFamilyProperties families[16];
    uint32_t n = 16;
    d->vk.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, families);
    for (uint32_t i = 0; i < n; i++)
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return i;
    return UINT32_MAX;
}

static bool
has_16bit_storage(const hk_vk_device *d, VkPhysicalDevice pd)
{
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
    };
    VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16 };
    d->vk.vkGetPhysicalDeviceFeatures2(pd, &f);
    return s16.storageBuffer16BitAccess;
}

/* Why the device cannot run the backend, or NULL. */
static const char *
unusable(const hk_vk_device *d, VkPhysicalDevice pd, const VkPhysicalDeviceProperties *props)
{
    if (props->apiVersion < VK_API_VERSION_1_1)
        return "it supports only Vulkan 1.0";
    if (compute_family(d, pd) == UINT32_MAX)
        return "it has no compute queue";
    if (!has_16bit_storage(d, pd))
        return "it lacks 16-bit storage buffers";
    if (!has_extension(d, pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
        return "it lacks " VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    return NULL;
}

/* The integer dot product of packed bytes, through the extension (which
 * drivers of Vulkan 1.3, where it is core, still list). */
static void
probe_int8_dot(hk_vk_device *d)
{
    if (!has_extension(d, d->phys, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME))
        return;
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR,
    };
    VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &dot };
    d->vk.vkGetPhysicalDeviceFeatures2(d->phys, &f);
    VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR speed = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES_KHR,
    };
    VkPhysicalDeviceProperties2 props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &speed,
    };
    d->vk.vkGetPhysicalDeviceProperties2(d->phys, &props);
    d->caps.int8_dot = dot.shaderIntegerDotProduct;
    d->caps.int8_dot_fast = d->caps.int8_dot && speed.integerDotProduct4x8BitPackedSignedAccelerated;
}

static void
probe_caps(hk_vk_device *d)
{
    hk_vk_caps *c = &d->caps;
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
    };
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &subgroup,
    };
    VkPhysicalDeviceProperties2 props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3,
    };
    d->vk.vkGetPhysicalDeviceProperties2(d->phys, &props);

    const VkPhysicalDeviceLimits *l = &d->props.limits;
    c->api_version = d->props.apiVersion;
    c->subgroup_size = subgroup.subgroupSize ? subgroup.subgroupSize : 1;
    VkSubgroupFeatureFlags sum = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    c->subgroup_sum = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                      (subgroup.supportedOperations & sum) == sum;
    c->max_shared_bytes = l->maxComputeSharedMemorySize;
    c->max_invocations = l->maxComputeWorkGroupInvocations;
    memcpy(c->max_groups, l->maxComputeWorkGroupCount, sizeof c->max_groups);
    c->max_allocation = m3.maxMemoryAllocationSize;
    c->max_storage_range = l->maxStorageBufferRange;
    c->max_texel_elements = l->maxTexelBufferElements;

    if (c->api_version >= VK_API_VERSION_1_2 ||
        has_extension(d, d->phys, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
        VkPhysicalDeviceShaderFloat16Int8Features f16 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        };
        VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16 };
        d->vk.vkGetPhysicalDeviceFeatures2(d->phys, &f);
        c->fp16_arithmetic = f16.shaderFloat16;
    }
    probe_int8_dot(d);
}

static void
describe(hk_vk_device *d)
{
    const hk_vk_caps *c = &d->caps;
    snprintf(d->description, sizeof d->description,
             "%.256s (%s, Vulkan %u.%u, subgroup %u, %u KiB shared memory%s%s)",
             d->props.deviceName, hk_vk_device_type_name(d->props.deviceType),
             VK_API_VERSION_MAJOR(c->api_version), VK_API_VERSION_MINOR(c->api_version),
             c->subgroup_size, c->max_shared_bytes / 1024,
             c->fp16_arithmetic ? ", fp16" : "",
             c->int8_dot_fast ? ", int8 dot" : c->int8_dot ? ", int8 dot (emulated)" : "");
}

/* ---------------------------------------------------------- selection */

static int
pick(hk_vk_device *d, int index, bool allow_cpu, hk_error *err)
{
    VkPhysicalDevice devices[MAX_DEVICES];
    uint32_t n = MAX_DEVICES;
    VkResult r = d->vk.vkEnumeratePhysicalDevices(d->instance, &n, devices);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return hk_error_set(err, -ENODEV, "cannot list the Vulkan devices (%s)",
                            hk_vk_result_name(r));
    if (n == 0)
        return hk_error_set(err, -ENODEV, "no Vulkan device");
    if (index >= (int)n)
        return hk_error_set(err, -ENODEV, "there is no Vulkan device %d (%u device%s: 0…%u)",
                            index, n, n == 1 ? "" : "s", n - 1);

    int best = -1, best_rank = 0;
    const char *why = NULL;
    VkPhysicalDeviceProperties props, why_props = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        if (index >= 0 && (int)i != index)
            continue;
        d->vk.vkGetPhysicalDeviceProperties(devices[i], &props);
        const char *no = unusable(d, devices[i], &props);
        if (no) {
            if (!why) {
                why = no;
                why_props = props;
            }
            continue;
        }
        int rank = type_rank(props.deviceType);
        if (best < 0 || rank < best_rank) {
            best = (int)i;
            best_rank = rank;
        }
    }
    if (best < 0)
        return hk_error_set(err, -ENOTSUP, "Vulkan device %s cannot be used: %s",
                            why_props.deviceName, why);

    d->phys = devices[best];
    d->index = (uint32_t)best;
    d->vk.vkGetPhysicalDeviceProperties(d->phys, &d->props);
    if (!allow_cpu && d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
        return hk_error_set(err, -ENODEV, "the only usable Vulkan device, %s, runs on the CPU, "
                            "where the CPU backend is faster", d->props.deviceName);
    d->vk.vkGetPhysicalDeviceMemoryProperties(d->phys, &d->memory);
    d->queue_family = compute_family(d, d->phys);
    return 0;
}

static int
create_device(hk_vk_device *d, hk_error *err)
{
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = d->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR,
        .shaderIntegerDotProduct = VK_TRUE,
    };
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .pNext = d->caps.int8_dot ? &dot : NULL,
        .storageBuffer16BitAccess = VK_TRUE,
    };
    VkPhysicalDeviceFeatures2 features = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16,
    };
    const char *extensions[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME,
                                 VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = d->caps.int8_dot ? 2 : 1,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = d->vk.vkCreateDevice(d->phys, &info, NULL, &d->device);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENODEV, "cannot open Vulkan device %s (%s)",
                            d->props.deviceName, hk_vk_result_name(r));
    int rc = hk_vk_load_device(&d->vk, d->device, err);
    if (rc < 0)
        return rc;
    d->vk.vkGetDeviceQueue(d->device, d->queue_family, 0, &d->queue);
    return 0;
}

int
hk_vk_device_open(int index, bool allow_cpu, hk_vk_device **ret, hk_error *err)
{
    hk_vk_device *d = calloc(1, sizeof *d);
    if (!d)
        return hk_error_set(err, -ENOMEM, "out of memory for a Vulkan device");
    int rc = read_faults(&d->faults, err);
    if (rc == 0)
        rc = hk_vk_load(&d->vk, err);
    if (rc == 0)
        rc = create_instance(d, err);
    if (rc == 0)
        rc = pick(d, index, allow_cpu, err);
    if (rc == 0) {
        probe_caps(d);
        describe(d);
        rc = create_device(d, err);
    }
    if (rc < 0) {
        hk_vk_device_close(d);
        return rc;
    }
    *ret = d;
    return 0;
}

void
hk_vk_device_close(hk_vk_device *d)
{
    if (!d)
        return;
    if (d->device)
        d->vk.vkDestroyDevice(d->device, NULL);
    if (d->instance)
        d->vk.vkDestroyInstance(d->instance, NULL);
    hk_vk_unload(&d->vk);
    free(d);
}

int
hk_vk_device_memory_type(const hk_vk_device *d, uint32_t allowed, VkMemoryPropertyFlags wanted,
                         VkMemoryPropertyFlags nice)
{
    int found = -1;
    for (uint32_t i = 0; i < d->memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = d->memory.memoryTypes[i].propertyFlags;
        if (!(allowed & (1u << i)) || (f & wanted) != wanted)
            continue;
        if ((f & nice) == nice)
            return (int)i;
        if (found < 0)
            found = (int)i;
    }
    return found;
}
