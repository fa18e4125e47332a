/* vk-pipelines.c — the shared layout, the pipelines and their disk cache. */
#include "vulkan/vk-pipelines.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/vk-spirv.h"

typedef struct pipeline_entry {
    const hk_vk_spirv *shader;
    uint32_t           spec[HK_VK_MAX_SPEC];
    uint32_t           n_spec;
    VkPipeline         pipeline;
} pipeline_entry;

struct hk_vk_pipelines {
    hk_vk_device         *d;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout      layout;
    VkPipelineCache       cache;
    char                 *cache_path;
    pipeline_entry       *entries;
    size_t                n_entries, capacity;
};

static const hk_vk_spirv *
find_shader(const char *name)
{
    for (const hk_vk_spirv *s = hk_vk_spirv_table; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* One file per device and driver build: a driver ignores another's data,
 * but there is no point reading it. */
static char *
cache_path(const hk_vk_device *d)
{
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", d->props.pipelineCacheUUID[i]);
    char name[128];
    snprintf(name, sizeof name, "vulkan-%04x-%04x-%s.cache", d->props.vendorID,
             d->props.deviceID, uuid);
    return g_build_filename(g_get_user_cache_dir(), "hearken", name, NULL);
}

static int
create_cache(hk_vk_pipelines *p, hk_error *err)
{
    p->cache_path = cache_path(p->d);
    gchar *data = NULL;
    gsize size = 0;
    /* a missing or unreadable file is an empty cache */
    if (!g_file_get_contents(p->cache_path, &data, &size, NULL))
        size = 0;
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = p->d->vk.vkCreatePipelineCache(p->d->device, &info, NULL, &p->cache);
    if (r != VK_SUCCESS && size > 0) {
        info.initialDataSize = 0;   /* a damaged file: start afresh */
        r = p->d->vk.vkCreatePipelineCache(p->d->device, &info, NULL, &p->cache);
    }
    g_free(data);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENOMEM, "vulkan: cannot create a pipeline cache (%s)",
                            hk_vk_result_name(r));
    return 0;
}

/* Best effort: a cache that cannot be written costs the next start time,
 * nothing else. */
static void
save_cache(hk_vk_pipelines *p)
{
    const hk_vk_fns *vk = &p->d->vk;
    size_t size = 0;
    if (vk->vkGetPipelineCacheData(p->d->device, p->cache, &size, NULL) != VK_SUCCESS || size == 0)
        return;
    void *data = malloc(size);
    if (data && vk->vkGetPipelineCacheData(p->d->device, p->cache, &size, data) == VK_SUCCESS) {
        char *dir = g_path_get_dirname(p->cache_path);
        if (g_mkdir_with_parents(dir, 0700) == 0)
            g_file_set_contents(p->cache_path, data, (gssize)size, NULL);
        g_free(dir);
    }
    free(data);
}

static int
create_layout(hk_vk_pipelines *p, hk_error *err)
{
    const hk_vk_fns *vk = &p->d->vk;
    VkDescriptorSetLayoutBinding bindings[HK_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < HK_VK_MAX_BINDINGS; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = i < HK_VK_STORAGE_BINDINGS ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                         : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
        .bindingCount = HK_VK_MAX_BINDINGS,
        .pBindings = bindings,
    };
    VkResult r = vk->vkCreateDescriptorSetLayout(p->d->device, &set_info, NULL, &p->set_layout);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENOMEM, "vulkan: cannot create the descriptor layout (%s)",
                            hk_vk_result_name(r));
    VkPushConstantRange push = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = HK_VK_PUSH_BYTES,
    };
    VkPipelineLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    r = vk->vkCreatePipelineLayout(p->d->device, &info, NULL, &p->layout);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENOMEM, "vulkan: cannot create the pipeline layout (%s)",
                            hk_vk_result_name(r));
    return 0;
}

int
hk_vk_pipelines_new(hk_vk_device *d, hk_vk_pipelines **ret, hk_error *err)
{
    hk_vk_pipelines *p = calloc(1, sizeof *p);
    if (!p)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan pipelines");
    p->d = d;
    int rc = create_layout(p, err);
    if (rc == 0)
        rc = create_cache(p, err);
    if (rc < 0) {
        hk_vk_pipelines_free(p);
        return rc;
    }
    *ret = p;
    return 0;
}

void
hk_vk_pipelines_free(hk_vk_pipelines *p)
{
    if (!p)
        return;
    const hk_vk_fns *vk = &p->d->vk;
    VkDevice dev = p->d->device;
    for (size_t i = 0; i < p->n_entries; i++)
        vk->vkDestroyPipeline(dev, p->entries[i].pipeline, NULL);
    if (p->cache) {
        save_cache(p);
        vk->vkDestroyPipelineCache(dev, p->cache, NULL);
    }
    if (p->layout)
        vk->vkDestroyPipelineLayout(dev, p->layout, NULL);
    if (p->set_layout)
        vk->vkDestroyDescriptorSetLayout(dev, p->set_layout, NULL);
    g_free(p->cache_path);
    free(p->entries);
    free(p);
}

VkPipelineLayout
hk_vk_pipelines_layout(const hk_vk_pipelines *p)
{
    return p->layout;
}

static int
create_pipeline(hk_vk_pipelines *p, pipeline_entry *e, hk_error *err)
{
    const hk_vk_fns *vk = &p->d->vk;
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = e->shader->size,
        .pCode = e->shader->code,
    };
    VkShaderModule module;
    VkResult r = vk->vkCreateShaderModule(p->d->device, &module_info, NULL, &module);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENOMEM, "vulkan: shader %s: %s", e->shader->name,
                            hk_vk_result_name(r));

    VkSpecializationMapEntry map[HK_VK_MAX_SPEC];
    for (uint32_t i = 0; i < e->n_spec; i++)
        map[i] = (VkSpecializationMapEntry){ .constantID = i, .offset = 4 * i, .size = 4 };
    VkSpecializationInfo spec = {
        .mapEntryCount = e->n_spec,
        .pMapEntries = map,
        .dataSize = 4 * e->n_spec,
        .pData = e->spec,
    };
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = &spec,
        },
        .layout = p->layout,
    };
    r = vk->vkCreateComputePipelines(p->d->device, p->cache, 1, &info, NULL, &e->pipeline);
    vk->vkDestroyShaderModule(p->d->device, module, NULL);
    if (r != VK_SUCCESS)
        return hk_error_set(err, -ENOMEM, "vulkan: cannot build the %s pipeline (%s)",
                            e->shader->name, hk_vk_result_name(r));
    return 0;
}

int
hk_vk_pipeline_get(hk_vk_pipelines *p, const char *shader, const uint32_t *spec,
                   uint32_t n_spec, VkPipeline *ret, hk_error *err)
{
    for (size_t i = 0; i < p->n_entries; i++) {
        pipeline_entry *e = &p->entries[i];
        if (e->n_spec == n_spec && strcmp(e->shader->name, shader) == 0 &&
            memcmp(e->spec, spec, 4 * n_spec) == 0) {
            *ret = e->pipeline;
            return 0;
        }
    }
    if (n_spec > HK_VK_MAX_SPEC)
        return hk_error_set(err, -EINVAL, "vulkan: %u specialization constants for %s",
                            n_spec, shader);
    const hk_vk_spirv *s = find_shader(shader);
    if (!s)
        return hk_error_set(err, -ENOENT, "vulkan: no shader named %s in this build", shader);
    if (p->n_entries == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 32;
        pipeline_entry *grown = realloc(p->entries, capacity * sizeof *grown);
        if (!grown)
            return hk_error_set(err, -ENOMEM, "out of memory for a pipeline");
        p->entries = grown;
        p->capacity = capacity;
    }
    pipeline_entry *e = &p->entries[p->n_entries];
    *e = (pipeline_entry){ .shader = s, .n_spec = n_spec };
    memcpy(e->spec, spec, 4 * n_spec);
    int rc = create_pipeline(p, e, err);
    if (rc < 0)
        return rc;
    p->n_entries++;
    *ret = e->pipeline;
    return 0;
}
