/* vk-buffer.h — buffers and their memory.
 *
 * Tensors live in device-local buffers, one allocation each (a model has
 * a few hundred tensors, far below any device's allocation limit).  The
 * host reaches them only through host-visible buffers: a staging buffer
 * for uploads, the step's small uploads (token ids, rope angles) and its
 * readbacks.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "vulkan/vk-device.h"

typedef enum hk_vk_memory {
    HK_VK_DEVICE_LOCAL,   /* tensors */
    HK_VK_HOST_UPLOAD,    /* written by the host, read by the device */
    HK_VK_HOST_READBACK,  /* written by the device, read by the host */
} hk_vk_memory;

typedef struct hk_vk_buffer {
    VkBuffer       buffer;
    VkDeviceMemory memory;
    VkBufferView   quads;      /* a tensor's buffer as texels of 16 bytes (RGBA32_UINT) */
    VkDeviceSize   size;
    void          *map;        /* host-visible kinds: mapped for good */
    bool           coherent;   /* else readbacks are invalidated first */
} hk_vk_buffer;

/* A buffer of size bytes (rounded up to 16) for use as storage, copy
 * source and destination; a tensor's is also readable as a texel buffer
 * of 16-byte quads, and counts towards the simulated allocation failure.
 * A tensor may be larger than the device binds as storage (a weight read
 * only through its quads): binding it so is refused by the recorder. */
int  hk_vk_buffer_new(hk_vk_device *d, VkDeviceSize size, hk_vk_memory kind,
                      hk_vk_buffer *ret, hk_error *err);
void hk_vk_buffer_free(hk_vk_device *d, hk_vk_buffer *b);   /* accepts an empty one */

/* Make the device's writes to a readback buffer visible to the host. */
void hk_vk_buffer_invalidate(hk_vk_device *d, const hk_vk_buffer *b);
