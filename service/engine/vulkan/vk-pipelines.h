/* vk-pipelines.h — compute pipelines, made once per shader and set of
 * specialization constants, through a VkPipelineCache kept on disk under
 * $XDG_CACHE_HOME/hearken (a driver that compiles slowly does it once).
 *
 * Every shader shares one layout, pushed with each dispatch
 * (VK_KHR_push_descriptor): storage buffers at bindings 0…4, texel buffers
 * of 16-byte quads (what the heavy kernels read) at 5…7, and up to 128
 * bytes of push constants (shaders/params.h).
 */
#pragma once

#include <stdint.h>

#include "error.h"
#include "vulkan/vk-device.h"

#define HK_VK_STORAGE_BINDINGS 5
#define HK_VK_TEXEL_BINDINGS 3
#define HK_VK_MAX_BINDINGS (HK_VK_STORAGE_BINDINGS + HK_VK_TEXEL_BINDINGS)
#define HK_VK_MAX_SPEC 8
#define HK_VK_PUSH_BYTES 128

typedef struct hk_vk_pipelines hk_vk_pipelines;

int  hk_vk_pipelines_new(hk_vk_device *d, hk_vk_pipelines **ret, hk_error *err);
/* Writes the cache back; accepts NULL. */
void hk_vk_pipelines_free(hk_vk_pipelines *p);

VkPipelineLayout hk_vk_pipelines_layout(const hk_vk_pipelines *p);

/* The pipeline of shader with specialization constants 0…n_spec-1 set to
 * spec; made on first use. */
int  hk_vk_pipeline_get(hk_vk_pipelines *p, const char *shader, const uint32_t *spec,
                        uint32_t n_spec, VkPipeline *ret, hk_error *err);
