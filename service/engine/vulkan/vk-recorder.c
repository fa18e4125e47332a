/* vk-recorder.c — the step's command buffer, its barriers, its host
 * buffers and its submission. */
#include "vulkan/vk-recorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Upload bytes a step may hold in staging memory before it is submitted
 * early: a model's weights go up in pieces of this size, not all at once. */
#define STAGING_LIMIT ((VkDeviceSize)64 << 20)
#define STAGING_CHUNK ((VkDeviceSize)16 << 20)
#define ARENA_MIN     ((VkDeviceSize)1 << 20)

/* A host-visible buffer filled from its start at each step.  When a step
 * needs more, a bigger one takes over and the old one is kept, "retired",
 * until the step has run (recorded commands still use it). */
typedef struct arena {
    hk_vk_memory  kind;
    hk_vk_buffer  buf;
    VkDeviceSize  used;
    VkDeviceSize  step_bytes;   /* reserved this step, retired buffers included */
    hk_vk_buffer *retired;
    size_t        n_retired, cap_retired;
} arena;

typedef struct pending_read {
    const void *src;   /* in a readback buffer's mapping */
    void       *dst;
    size_t      bytes;
} pending_read;

struct hk_vk_recorder {
    hk_vk_device    *d;
    hk_vk_pipelines *p;
    VkCommandPool    pool;
    VkCommandBuffer  cmd;
    VkFence          fence;
    bool             recording;
    uint64_t         epoch;      /* barrier intervals so far */
    uint64_t         step;
    VkPipeline       bound;
    arena            upload, readback;
    pending_read    *reads;
    size_t           n_reads, cap_reads;
    hk_vk_mem      **released;   /* freed when the step has run */
    size_t           n_released, cap_released;
    hk_error         error;      /* first failure since the last sync */
    bool             lost;
};

static bool
grow(void **array, size_t *capacity, size_t need, size_t elem)
{
    if (need <= *capacity)
        return true;
    size_t capacity2 = *capacity ? 2 * *capacity : 16;
    while (capacity2 < need)
        capacity2 *= 2;
    void *p = realloc(*array, capacity2 * elem);
    if (!p)
        return false;
    *array = p;
    *capacity = capacity2;
    return true;
}

void
hk_vk_recorder_fail(hk_vk_recorder *r, const hk_error *e)
{
    if (r->error.code == 0)
        r->error = *e;
}

static void
fail(hk_vk_recorder *r, int code, const char *what, VkResult result)
{
    hk_error e = { 0 };
    hk_error_set(&e, code, "vulkan: %s (%s)", what, hk_vk_result_name(result));
    hk_vk_recorder_fail(r, &e);
}

bool
hk_vk_recorder_failed(const hk_vk_recorder *r)
{
    return r->error.code != 0 || r->lost;
}

uint64_t
hk_vk_recorder_step(const hk_vk_recorder *r)
{
    return r->step;
}

/* ------------------------------------------------------------ barriers */

static void
barrier(hk_vk_recorder *r)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    r->d->vk.vkCmdPipelineBarrier(r->cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
    r->epoch++;
}

/* The command buffer, begun if need be.  A step starts with a barrier:
 * the previous step's writes (and uploads) are in other submissions. */
static bool
begin(hk_vk_recorder *r)
{
    if (r->recording)
        return true;
    if (hk_vk_recorder_failed(r))
        return false;
    VkCommandBufferBeginInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult res = r->d->vk.vkBeginCommandBuffer(r->cmd, &info);
    if (res != VK_SUCCESS) {
        fail(r, -ENOMEM, "cannot begin a command buffer", res);
        return false;
    }
    r->recording = true;
    barrier(r);
    return true;
}

/* A barrier before the next command if it reads what the last ones wrote
 * or writes what they read or wrote; then the buffers remember it. */
static void
order(hk_vk_recorder *r, const hk_vk_binding *b, uint32_t n)
{
    bool need = false;
    for (uint32_t i = 0; i < n; i++) {
        const hk_vk_mem *m = b[i].mem;
        if (m && (m->written == r->epoch || (b[i].write && m->read == r->epoch)))
            need = true;
    }
    if (need)
        barrier(r);
    for (uint32_t i = 0; i < n; i++) {
        hk_vk_mem *m = b[i].mem;
        if (m && b[i].write)
            m->written = r->epoch;
        else if (m)
            m->read = r->epoch;
    }
}

/* ------------------------------------------------------------ host buffers */

static void
arena_end_step(hk_vk_recorder *r, arena *a)
{
    for (size_t i = 0; i < a->n_retired; i++)
        hk_vk_buffer_free(r->d, &a->retired[i]);
    a->n_retired = 0;
    a->used = 0;
    a->step_bytes = 0;
}

static void
arena_free(hk_vk_recorder *r, arena *a)
{
    arena_end_step(r, a);
    hk_vk_buffer_free(r->d, &a->buf);
    free(a->retired);
}

/* bytes (rounded up to 16) of a: the buffer and the offset. */
static bool
arena_reserve(hk_vk_recorder *r, arena *a, VkDeviceSize bytes, VkBuffer *ret_buffer,
              VkDeviceSize *ret_offset, uint8_t **ret_map)
{
    bytes = (bytes + 15) & ~(VkDeviceSize)15;
    if (!a->buf.buffer || a->used + bytes > a->buf.size) {
        VkDeviceSize size = 2 * a->buf.size > ARENA_MIN ? 2 * a->buf.size : ARENA_MIN;
        if (size < bytes)
            size = bytes;
        hk_vk_buffer fresh;
        hk_error e = { 0 };
        if (hk_vk_buffer_new(r->d, size, a->kind, &fresh, &e) < 0) {
            hk_vk_recorder_fail(r, &e);
            return false;
        }
        if (a->used > 0 && !grow((void **)&a->retired, &a->cap_retired, a->n_retired + 1,
                                 sizeof *a->retired)) {
            hk_vk_buffer_free(r->d, &fresh);
            hk_error_set(&e, -ENOMEM, "out of memory for a staging buffer");
            hk_vk_recorder_fail(r, &e);
            return false;
        }
        if (a->used > 0)
            a->retired[a->n_retired++] = a->buf;
        else
            hk_vk_buffer_free(r->d, &a->buf);
        a->buf = fresh;
        a->used = 0;
    }
    *ret_buffer = a->buf.buffer;
    *ret_offset = a->used;
    *ret_map = (uint8_t *)a->buf.map + a->used;
    a->used += bytes;
    a->step_bytes += bytes;
    return true;
}

/* ------------------------------------------------------------ submission */

static void
free_mem(hk_vk_recorder *r, hk_vk_mem *m)
{
    hk_vk_buffer_free(r->d, &m->buf);
    free(m);
}

static void
end_step(hk_vk_recorder *r)
{
    r->d->vk.vkResetCommandPool(r->d->device, r->pool, 0);
    for (size_t i = 0; i < r->n_released; i++)
        free_mem(r, r->released[i]);
    r->n_released = 0;
    r->n_reads = 0;
    arena_end_step(r, &r->upload);
    arena_end_step(r, &r->readback);
    r->recording = false;
    r->bound = VK_NULL_HANDLE;
    r->step++;
}

static VkResult
run(hk_vk_recorder *r)
{
    const hk_vk_fns *vk = &r->d->vk;
    if (hk_vk_device_fault_lost(r->d))
        return VK_ERROR_DEVICE_LOST;
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &r->cmd,
    };
    VkResult res = vk->vkQueueSubmit(r->d->queue, 1, &submit, r->fence);
    if (res == VK_SUCCESS)
        res = vk->vkWaitForFences(r->d->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
    vk->vkResetFences(r->d->device, 1, &r->fence);
    return res;
}

static void
land_reads(hk_vk_recorder *r)
{
    hk_vk_buffer_invalidate(r->d, &r->readback.buf);
    for (size_t i = 0; i < r->readback.n_retired; i++)
        hk_vk_buffer_invalidate(r->d, &r->readback.retired[i]);
    for (size_t i = 0; i < r->n_reads; i++)
        memcpy(r->reads[i].dst, r->reads[i].src, r->reads[i].bytes);
}

/* Run what is recorded (unless the step has already failed: its results
 * would be wrong anyway) and start afresh. */
static void
submit(hk_vk_recorder *r)
{
    if (!r->recording)
        return;
    VkMemoryBarrier to_host = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    r->d->vk.vkCmdPipelineBarrier(r->cmd,
                                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL, 0, NULL);
    VkResult res = r->d->vk.vkEndCommandBuffer(r->cmd);
    if (res != VK_SUCCESS)
        fail(r, -ENOMEM, "cannot end the command buffer", res);
    if (!hk_vk_recorder_failed(r)) {
        res = run(r);
        if (res == VK_ERROR_DEVICE_LOST) {
            fail(r, -ENODEV, "the device was lost", res);
            r->lost = true;
        } else if (res != VK_SUCCESS) {
            fail(r, -EIO, "running a step failed", res);
        } else {
            land_reads(r);
        }
    }
    end_step(r);
}

int
hk_vk_recorder_sync(hk_vk_recorder *r, hk_error *err)
{
    submit(r);
    int code = r->error.code;
    if (code != 0) {
        hk_error_set(err, code, "%s", r->error.message);
        if (!r->lost)
            hk_error_clear(&r->error);
    }
    return code;
}

/* ------------------------------------------------------------ commands */

/* Whether every tensor bound as storage is within the device's range (a
 * weight may be larger: it is made to be read as quads). */
static bool
storage_fits(hk_vk_recorder *r, const char *shader, const hk_vk_binding *b, uint32_t n)
{
    VkDeviceSize range = r->d->caps.max_storage_range;
    for (uint32_t i = 0; i < n; i++) {
        if (b[i].slot >= HK_VK_STORAGE_BINDINGS || !b[i].mem || b[i].mem->buf.size <= range)
            continue;
        hk_error e = { 0 };
        hk_error_set(&e, -ENOTSUP, "vulkan: %s binds %llu MiB as storage; %s was given a "
                     "tensor of %llu MiB", r->d->props.deviceName,
                     (unsigned long long)(range >> 20), shader,
                     (unsigned long long)(b[i].mem->buf.size >> 20));
        hk_vk_recorder_fail(r, &e);
        return false;
    }
    return true;
}

void
hk_vk_dispatch(hk_vk_recorder *r, const char *shader, const uint32_t *spec, uint32_t n_spec,
               const void *push, uint32_t push_bytes, const hk_vk_binding *b,
               uint32_t n_bindings, uint32_t groups_x, uint32_t groups_y)
{
    const hk_vk_fns *vk = &r->d->vk;
    VkPipeline pipeline;
    hk_error e = { 0 };
    if (!begin(r))
        return;
    if (hk_vk_pipeline_get(r->p, shader, spec, n_spec, &pipeline, &e) < 0) {
        hk_vk_recorder_fail(r, &e);
        return;
    }
    if (!storage_fits(r, shader, b, n_bindings))
        return;
    order(r, b, n_bindings);
    if (pipeline != r->bound) {
        vk->vkCmdBindPipeline(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
        r->bound = pipeline;
    }
    VkDescriptorBufferInfo infos[HK_VK_MAX_BINDINGS];
    VkWriteDescriptorSet writes[HK_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < n_bindings; i++) {
        bool texel = b[i].slot >= HK_VK_STORAGE_BINDINGS;
        infos[i] = (VkDescriptorBufferInfo){ .buffer = b[i].buffer, .range = VK_WHOLE_SIZE };
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = b[i].slot,
            .descriptorCount = 1,
            .descriptorType = texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                    : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = texel ? NULL : &infos[i],
            .pTexelBufferView = texel ? &b[i].mem->buf.quads : NULL,
        };
    }
    VkPipelineLayout layout = hk_vk_pipelines_layout(r->p);
    vk->vkCmdPushDescriptorSetKHR(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0,
                                  n_bindings, writes);
    vk->vkCmdPushConstants(r->cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    vk->vkCmdDispatch(r->cmd, groups_x, groups_y, 1);
}

void
hk_vk_dispatch_1d(hk_vk_recorder *r, const char *shader, const uint32_t *spec, uint32_t n_spec,
                  const void *push, uint32_t push_bytes, const hk_vk_binding *b,
                  uint32_t n_bindings, uint64_t groups)
{
    uint64_t max_x = r->d->caps.max_groups[0] < 65535 ? r->d->caps.max_groups[0] : 65535;
    uint64_t x = groups < max_x ? groups : max_x;
    uint64_t y = (groups + x - 1) / x;
    if (groups == 0)
        return;
    hk_vk_dispatch(r, shader, spec, n_spec, push, push_bytes, b, n_bindings, (uint32_t)x,
                   (uint32_t)y);
}

void
hk_vk_fill_zero(hk_vk_recorder *r, hk_vk_mem *m)
{
    if (!begin(r))
        return;
    hk_vk_binding b = { 0, m->buf.buffer, m, true };
    order(r, &b, 1);
    r->d->vk.vkCmdFillBuffer(r->cmd, m->buf.buffer, 0, VK_WHOLE_SIZE, 0);
}

int
hk_vk_upload(hk_vk_recorder *r, hk_vk_mem *m, size_t row_bytes, int64_t rows,
             hk_vk_fill_rows fill, const void *ctx, hk_error *err)
{
    int64_t per_chunk = (int64_t)(STAGING_CHUNK / row_bytes);
    if (per_chunk < 1)
        per_chunk = 1;
    for (int64_t row0 = 0; row0 < rows; row0 += per_chunk) {
        int64_t n = rows - row0 < per_chunk ? rows - row0 : per_chunk;
        VkDeviceSize bytes = (VkDeviceSize)n * row_bytes;
        if (r->upload.step_bytes + bytes > STAGING_LIMIT)
            submit(r);
        VkBuffer staging;
        VkDeviceSize offset;
        uint8_t *map;
        if (!begin(r) || !arena_reserve(r, &r->upload, bytes, &staging, &offset, &map))
            break;
        fill(ctx, row0, n, map);
        hk_vk_binding b = { 0, m->buf.buffer, m, true };
        order(r, &b, 1);
        VkBufferCopy region = {
            .srcOffset = offset, .dstOffset = (VkDeviceSize)row0 * row_bytes, .size = bytes,
        };
        r->d->vk.vkCmdCopyBuffer(r->cmd, staging, m->buf.buffer, 1, &region);
    }
    if (hk_vk_recorder_failed(r))
        return hk_error_set(err, r->error.code ? r->error.code : -ENODEV, "%s",
                            r->error.message);
    return 0;
}

bool
hk_vk_stage(hk_vk_recorder *r, const void *data, size_t bytes, VkBuffer *ret_buffer,
            VkDeviceSize *ret_offset)
{
    uint8_t *map;
    if (!begin(r) || !arena_reserve(r, &r->upload, bytes, ret_buffer, ret_offset, &map))
        return false;
    memcpy(map, data, bytes);
    return true;
}

void
hk_vk_read(hk_vk_recorder *r, hk_vk_mem *m, VkDeviceSize offset, size_t bytes, void *dst)
{
    VkBuffer buffer;
    VkDeviceSize at;
    uint8_t *map;
    if (!begin(r) || !arena_reserve(r, &r->readback, bytes, &buffer, &at, &map))
        return;
    if (!grow((void **)&r->reads, &r->cap_reads, r->n_reads + 1, sizeof *r->reads)) {
        hk_error e = { 0 };
        hk_error_set(&e, -ENOMEM, "out of memory for a read");
        hk_vk_recorder_fail(r, &e);
        return;
    }
    r->reads[r->n_reads++] = (pending_read){ map, dst, bytes };
    hk_vk_binding b = { 0, m->buf.buffer, m, false };
    order(r, &b, 1);
    VkBufferCopy region = { .srcOffset = offset, .dstOffset = at, .size = bytes };
    r->d->vk.vkCmdCopyBuffer(r->cmd, m->buf.buffer, buffer, 1, &region);
}

void
hk_vk_release(hk_vk_recorder *r, hk_vk_mem *m)
{
    if (r->recording && grow((void **)&r->released, &r->cap_released, r->n_released + 1,
                             sizeof *r->released)) {
        r->released[r->n_released++] = m;
        return;
    }
    if (r->recording)   /* no room to defer it: wait for the step instead */
        submit(r);
    free_mem(r, m);
}

/* ------------------------------------------------------------ life */

int
hk_vk_recorder_new(hk_vk_device *d, hk_vk_pipelines *p, hk_vk_recorder **ret, hk_error *err)
{
    const hk_vk_fns *vk = &d->vk;
    hk_vk_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan recorder");
    r->d = d;
    r->p = p;
    r->upload.kind = HK_VK_HOST_UPLOAD;
    r->readback.kind = HK_VK_HOST_READBACK;
    VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = d->queue_family,
    };
    VkResult res = vk->vkCreateCommandPool(d->device, &pool_info, NULL, &r->pool);
    if (res == VK_SUCCESS) {
        VkCommandBufferAllocateInfo alloc = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = r->pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        res = vk->vkAllocateCommandBuffers(d->device, &alloc, &r->cmd);
    }
    if (res == VK_SUCCESS) {
        VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
        res = vk->vkCreateFence(d->device, &fence_info, NULL, &r->fence);
    }
    if (res != VK_SUCCESS) {
        hk_vk_recorder_free(r);
        return hk_error_set(err, -ENOMEM, "vulkan: cannot create a command buffer (%s)",
                            hk_vk_result_name(res));
    }
    *ret = r;
    return 0;
}

void
hk_vk_recorder_free(hk_vk_recorder *r)
{
    if (!r)
        return;
    const hk_vk_fns *vk = &r->d->vk;
    /* recorded, never submitted: nothing runs, but the commands hold the
     * buffers until the pool is reset */
    if (r->pool)
        end_step(r);
    arena_free(r, &r->upload);
    arena_free(r, &r->readback);
    if (r->fence)
        vk->vkDestroyFence(r->d->device, r->fence, NULL);
    if (r->pool)
        vk->vkDestroyCommandPool(r->d->device, r->pool, NULL);
    free(r->reads);
    free(r->released);
    free(r);
}
