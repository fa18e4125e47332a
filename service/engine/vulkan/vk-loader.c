/* vk-loader.c — opening libvulkan.so.1 and looking up the functions. */
#include "vulkan/vk-loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

int
hk_vk_load(hk_vk_fns *vk, hk_error *err)
{
    memset(vk, 0, sizeof *vk);
    vk->lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!vk->lib)
        return hk_error_set(err, -ENOENT, "no Vulkan loader (libvulkan.so.1 cannot be opened)");
    vk->vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(vk->lib, "vkGetInstanceProcAddr");
    if (!vk->vkGetInstanceProcAddr)
        return hk_error_set(err, -ENOENT, "the Vulkan loader lacks vkGetInstanceProcAddr");
#define HK_VK_GLOBAL(name) \
    vk->name = (PFN_##name)vk->vkGetInstanceProcAddr(VK_NULL_HANDLE, #name);
    HK_VK_GLOBAL_FUNCTIONS(HK_VK_GLOBAL)
#undef HK_VK_GLOBAL
    if (!vk->vkCreateInstance)
        return hk_error_set(err, -ENOENT, "the Vulkan loader lacks vkCreateInstance");
    if (!vk->vkEnumerateInstanceVersion)
        return hk_error_set(err, -ENOTSUP, "the Vulkan loader is older than Vulkan 1.1");
    return 0;
}

int
hk_vk_load_instance(hk_vk_fns *vk, VkInstance instance, hk_error *err)
{
#define HK_VK_INSTANCE(name)                                                        \
    vk->name = (PFN_##name)vk->vkGetInstanceProcAddr(instance, #name);              \
    if (!vk->name)                                                                  \
        return hk_error_set(err, -ENOTSUP, "the Vulkan instance lacks %s", #name);
    HK_VK_INSTANCE_FUNCTIONS(HK_VK_INSTANCE)
#undef HK_VK_INSTANCE
    return 0;
}

int
hk_vk_load_device(hk_vk_fns *vk, VkDevice device, hk_error *err)
{
#define HK_VK_DEVICE(name)                                                          \
    vk->name = (PFN_##name)vk->vkGetDeviceProcAddr(device, #name);                  \
    if (!vk->name)                                                                  \
        return hk_error_set(err, -ENOTSUP, "the Vulkan device lacks %s", #name);
    HK_VK_DEVICE_FUNCTIONS(HK_VK_DEVICE)
#undef HK_VK_DEVICE
    return 0;
}

void
hk_vk_unload(hk_vk_fns *vk)
{
    if (vk->lib)
        dlclose(vk->lib);
    memset(vk, 0, sizeof *vk);
}

const char *
hk_vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS:                     return "VK_SUCCESS";
    case VK_TIMEOUT:                     return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY:    return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:  return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:           return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:     return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:   return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:   return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:      return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_INVALID_SHADER_NV:     return "VK_ERROR_INVALID_SHADER_NV";
    default:                             return "a Vulkan error";
    }
}
