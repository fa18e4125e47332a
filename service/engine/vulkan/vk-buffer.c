/* vk-buffer.c — creating buffers and binding them to fresh memory. */
#include "vulkan/vk-buffer.h"

#include <errno.h>
#include <string.h>

static int
memory_type_for(const hk_vk_device *d, uint32_t allowed, hk_vk_memory kind)
{
    const VkMemoryPropertyFlags visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    switch (kind) {
    case HK_VK_DEVICE_LOCAL:
        return hk_vk_device_memory_type(d, allowed, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    case HK_VK_HOST_UPLOAD:
        return hk_vk_device_memory_type(d, allowed, visible | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    case HK_VK_HOST_READBACK:
        return hk_vk_device_memory_type(d, allowed, visible, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    }
    return -1;
}

static int
out_of_memory(hk_vk_device *d, VkDeviceSize size, VkResult r, hk_error *err)
{
    return hk_error_set(err, -ENOMEM, "vulkan: cannot allocate %llu MiB of device memory (%s)",
                        (unsigned long long)((size + (1 << 20) - 1) >> 20), hk_vk_result_name(r));
}

int
hk_vk_buffer_new(hk_vk_device *d, VkDeviceSize size, hk_vk_memory kind, hk_vk_buffer *ret,
                 hk_error *err)
{
    const hk_vk_fns *vk = &d->vk;
    hk_vk_buffer b = { .size = (size + 15) & ~(VkDeviceSize)15 };
    if (b.size == 0)
        b.size = 16;
    /* a tensor's limit is its texel view's; the step's buffers are bound
     * as storage, whose range is often far smaller (lavapipe: 128 MiB) */
    VkDeviceSize limit = kind == HK_VK_DEVICE_LOCAL
                             ? (VkDeviceSize)d->caps.max_texel_elements * 16
                             : d->caps.max_storage_range;
    if (b.size > d->caps.max_allocation || b.size > limit)
        return hk_error_set(err, -ENOMEM, "vulkan: a buffer of %llu MiB is larger than %s "
                            "allows", (unsigned long long)(b.size >> 20), d->props.deviceName);
    if (kind == HK_VK_DEVICE_LOCAL && hk_vk_device_fault_alloc(d))
        return out_of_memory(d, b.size, VK_ERROR_OUT_OF_DEVICE_MEMORY, err);

    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = b.size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                 (kind == HK_VK_DEVICE_LOCAL ? VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT : 0),
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vk->vkCreateBuffer(d->device, &info, NULL, &b.buffer);
    if (r != VK_SUCCESS)
        return out_of_memory(d, b.size, r, err);

    VkMemoryRequirements req;
    vk->vkGetBufferMemoryRequirements(d->device, b.buffer, &req);
    int type = memory_type_for(d, req.memoryTypeBits, kind);
    if (type < 0) {
        hk_vk_buffer_free(d, &b);
        return hk_error_set(err, -ENOTSUP, "vulkan: %s has no suitable memory type",
                            d->props.deviceName);
    }
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r = vk->vkAllocateMemory(d->device, &alloc, NULL, &b.memory);
    if (r == VK_SUCCESS)
        r = vk->vkBindBufferMemory(d->device, b.buffer, b.memory, 0);
    if (r == VK_SUCCESS && kind != HK_VK_DEVICE_LOCAL)
        r = vk->vkMapMemory(d->device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.map);
    if (r == VK_SUCCESS && kind == HK_VK_DEVICE_LOCAL) {
        VkBufferViewCreateInfo view = {
            .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
            .buffer = b.buffer,
            .format = VK_FORMAT_R32G32B32A32_UINT,
            .range = VK_WHOLE_SIZE,
        };
        r = vk->vkCreateBufferView(d->device, &view, NULL, &b.quads);
    }
    if (r != VK_SUCCESS) {
        hk_vk_buffer_free(d, &b);
        return out_of_memory(d, req.size, r, err);
    }
    b.coherent = d->memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    *ret = b;
    return 0;
}

void
hk_vk_buffer_free(hk_vk_device *d, hk_vk_buffer *b)
{
    if (b->quads)
        d->vk.vkDestroyBufferView(d->device, b->quads, NULL);
    if (b->buffer)
        d->vk.vkDestroyBuffer(d->device, b->buffer, NULL);
    if (b->memory)
        d->vk.vkFreeMemory(d->device, b->memory, NULL);   /* unmaps too */
    memset(b, 0, sizeof *b);
}

void
hk_vk_buffer_invalidate(hk_vk_device *d, const hk_vk_buffer *b)
{
    if (b->coherent)
        return;
    VkMappedMemoryRange range = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = b->memory,
        .size = VK_WHOLE_SIZE,
    };
    d->vk.vkInvalidateMappedMemoryRanges(d->device, 1, &range);
}
