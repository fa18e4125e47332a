/* vk-loader.h — the Vulkan functions the backend calls, from the loader
 * (libvulkan.so.1) opened at run time.
 *
 * Opened, not linked: a machine without the loader still runs the engine,
 * on the CPU, and says why.  Device functions come from
 * vkGetDeviceProcAddr, which skips the loader's dispatch on every call.
 */
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "error.h"

#define HK_VK_GLOBAL_FUNCTIONS(X)                                           \
    X(vkCreateInstance)                                                     \
    X(vkEnumerateInstanceVersion)

#define HK_VK_INSTANCE_FUNCTIONS(X)                                         \
    X(vkDestroyInstance)                                                    \
    X(vkEnumeratePhysicalDevices)                                           \
    X(vkGetPhysicalDeviceProperties)                                        \
    X(vkGetPhysicalDeviceProperties2)                                       \
    X(vkGetPhysicalDeviceFeatures2)                                         \
    X(vkGetPhysicalDeviceQueueFamilyProperties)                             \
    X(vkGetPhysicalDeviceMemoryProperties)                                  \
    X(vkEnumerateDeviceExtensionProperties)                                 \
    X(vkCreateDevice)                                                       \
    X(vkGetDeviceProcAddr)

#define HK_VK_DEVICE_FUNCTIONS(X)                                           \
    X(vkDestroyDevice)                                                      \
    X(vkGetDeviceQueue)                                                     \
    X(vkDeviceWaitIdle)                                                     \
    X(vkCreateBuffer)                                                       \
    X(vkDestroyBuffer)                                                      \
    X(vkGetBufferMemoryRequirements)                                        \
    X(vkAllocateMemory)                                                     \
    X(vkFreeMemory)                                                         \
    X(vkBindBufferMemory)                                                   \
    X(vkCreateBufferView)                                                   \
    X(vkDestroyBufferView)                                                  \
    X(vkMapMemory)                                                          \
    X(vkInvalidateMappedMemoryRanges)                                       \
    X(vkCreateCommandPool)                                                  \
    X(vkDestroyCommandPool)                                                 \
    X(vkResetCommandPool)                                                   \
    X(vkAllocateCommandBuffers)                                             \
    X(vkBeginCommandBuffer)                                                 \
    X(vkEndCommandBuffer)                                                   \
    X(vkCmdCopyBuffer)                                                      \
    X(vkCmdFillBuffer)                                                      \
    X(vkCmdPipelineBarrier)                                                 \
    X(vkCmdBindPipeline)                                                    \
    X(vkCmdPushConstants)                                                   \
    X(vkCmdPushDescriptorSetKHR)                                            \
    X(vkCmdDispatch)                                                        \
    X(vkQueueSubmit)                                                        \
    X(vkCreateFence)                                                        \
    X(vkDestroyFence)                                                       \
    X(vkWaitForFences)                                                      \
    X(vkResetFences)                                                        \
    X(vkCreateShaderModule)                                                 \
    X(vkDestroyShaderModule)                                                \
    X(vkCreateDescriptorSetLayout)                                          \
    X(vkDestroyDescriptorSetLayout)                                         \
    X(vkCreatePipelineLayout)                                               \
    X(vkDestroyPipelineLayout)                                              \
    X(vkCreatePipelineCache)                                                \
    X(vkDestroyPipelineCache)                                               \
    X(vkGetPipelineCacheData)                                               \
    X(vkCreateComputePipelines)                                             \
    X(vkDestroyPipeline)

typedef struct hk_vk_fns {
    void                     *lib;   /* dlopen handle */
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
#define HK_VK_FIELD(name) PFN_##name name;
    HK_VK_GLOBAL_FUNCTIONS(HK_VK_FIELD)
    HK_VK_INSTANCE_FUNCTIONS(HK_VK_FIELD)
    HK_VK_DEVICE_FUNCTIONS(HK_VK_FIELD)
#undef HK_VK_FIELD
} hk_vk_fns;

/* Open the loader and get the functions that need no instance. */
int  hk_vk_load(hk_vk_fns *vk, hk_error *err);
int  hk_vk_load_instance(hk_vk_fns *vk, VkInstance instance, hk_error *err);
int  hk_vk_load_device(hk_vk_fns *vk, VkDevice device, hk_error *err);
/* Close the loader; accepts a table that was never loaded. */
void hk_vk_unload(hk_vk_fns *vk);

/* "VK_ERROR_DEVICE_LOST"… */
const char *hk_vk_result_name(VkResult r);
