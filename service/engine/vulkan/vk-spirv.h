/* vk-spirv.h — the shaders, compiled at build time (the .comp files of
 * shaders/) and embedded by shaders/embed-spirv.py. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct hk_vk_spirv {
    const char     *name;   /* "matvec_q4_k", "rms_norm" */
    const uint32_t *code;
    size_t          size;   /* bytes */
} hk_vk_spirv;

/* Ends with a NULL name. */
extern const hk_vk_spirv hk_vk_spirv_table[];
