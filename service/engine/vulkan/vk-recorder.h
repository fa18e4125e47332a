/* vk-recorder.h — recording a step's work into one command buffer, and
 * running it.
 *
 * Ops add dispatches and copies as they come; nothing runs until the step
 * is submitted (at sync, or early when a big upload has filled the
 * staging memory).  Between two commands a barrier is recorded only when
 * the second touches a buffer the first wrote (or writes one it read):
 * each buffer remembers the barrier interval ("epoch") of its last read
 * and write.  Small inputs of a step (token ids, rope angles) go through a
 * host-visible upload buffer, results for the host through a readback
 * buffer; both are reused from one step to the next.
 *
 * A failure while recording is kept and reported when the step is
 * submitted; once the device is lost every later call fails the same way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "vulkan/vk-buffer.h"
#include "vulkan/vk-device.h"
#include "vulkan/vk-pipelines.h"

/* A tensor's storage: what its hk_tensor.buffer points to. */
typedef struct hk_vk_mem {
    hk_vk_buffer buf;
    const void  *host;      /* an uploaded weight's data, which stays valid */
    uint64_t     written;   /* epoch of the last write */
    uint64_t     read;      /* epoch of the last read */
} hk_vk_mem;

/* One binding of a dispatch: a tensor's storage (mem), or a buffer of the
 * step's own (mem NULL: the upload buffer).  slot is the shader's binding:
 * below HK_VK_STORAGE_BINDINGS the buffer as storage, from there on a
 * tensor's 16-byte quads as a texel buffer, read only. */
typedef struct hk_vk_binding {
    uint32_t   slot;
    VkBuffer   buffer;
    hk_vk_mem *mem;
    bool       write;
} hk_vk_binding;

typedef struct hk_vk_recorder hk_vk_recorder;

int  hk_vk_recorder_new(hk_vk_device *d, hk_vk_pipelines *p, hk_vk_recorder **ret,
                        hk_error *err);
/* Waits for the device; accepts NULL. */
void hk_vk_recorder_free(hk_vk_recorder *r);

/* Keep the first failure of the step (ops cannot report their own). */
void hk_vk_recorder_fail(hk_vk_recorder *r, const hk_error *e);
/* Whether a failure is pending or the device is lost: nothing more is
 * recorded until the next sync. */
bool hk_vk_recorder_failed(const hk_vk_recorder *r);
/* Counts submitted steps: what was staged for a step is gone after it. */
uint64_t hk_vk_recorder_step(const hk_vk_recorder *r);

/* groups_x × groups_y workgroups of shader; push is its parameters. */
void hk_vk_dispatch(hk_vk_recorder *r, const char *shader, const uint32_t *spec,
                    uint32_t n_spec, const void *push, uint32_t push_bytes,
                    const hk_vk_binding *b, uint32_t n_bindings,
                    uint32_t groups_x, uint32_t groups_y);
/* groups workgroups in one dimension (shaders/common.glsl global_id()). */
void hk_vk_dispatch_1d(hk_vk_recorder *r, const char *shader, const uint32_t *spec,
                       uint32_t n_spec, const void *push, uint32_t push_bytes,
                       const hk_vk_binding *b, uint32_t n_bindings, uint64_t groups);

/* Zero a tensor's buffer. */
void hk_vk_fill_zero(hk_vk_recorder *r, hk_vk_mem *m);
/* Writes rows row0…row0+n-1 of a tensor's device image at dst. */
typedef void (*hk_vk_fill_rows)(const void *ctx, int64_t row0, int64_t n, void *dst);

/* Fill a tensor's buffer with rows of row_bytes each, through the staging
 * memory, a few MiB of rows at a time; nothing of ctx is used after this
 * returns. */
int  hk_vk_upload(hk_vk_recorder *r, hk_vk_mem *m, size_t row_bytes, int64_t rows,
                  hk_vk_fill_rows fill, const void *ctx, hk_error *err);
/* Bytes for this step's shaders to read: *ret_buffer at *ret_offset
 * (16-byte aligned) holds a copy of data.  false after a failure. */
bool hk_vk_stage(hk_vk_recorder *r, const void *data, size_t bytes, VkBuffer *ret_buffer,
                 VkDeviceSize *ret_offset);
/* dst receives bytes of m from offset when the step has run. */
void hk_vk_read(hk_vk_recorder *r, hk_vk_mem *m, VkDeviceSize offset, size_t bytes, void *dst);
/* Free a tensor's storage (and m) once no recorded command needs it. */
void hk_vk_release(hk_vk_recorder *r, hk_vk_mem *m);

/* Run the step and land its reads: 0, or the first failure since the
 * last sync. */
int  hk_vk_recorder_sync(hk_vk_recorder *r, hk_error *err);
