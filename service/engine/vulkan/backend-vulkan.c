/* backend-vulkan.c — the backend table for Vulkan: each op becomes a
 * dispatch of its shader, recorded for the step's command buffer. */
#include "vulkan/backend-vulkan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/shader-params.h"
#include "vulkan/vk-buffer.h"
#include "vulkan/vk-device.h"
#include "vulkan/vk-layout.h"
#include "vulkan/vk-pipelines.h"
#include "vulkan/vk-recorder.h"

_Static_assert(HK_SHADER_KV_BLOCK == HK_KV_BLOCK, "the shaders' KV block is backend.h's");
_Static_assert(sizeof(struct hk_shader_attention) <= HK_VK_PUSH_BYTES &&
               sizeof(struct hk_shader_kv_store) <= HK_VK_PUSH_BYTES,
               "push constants fit the pipeline layout's range");

/* Workgroups a generation step's attention should keep busy: its query
 * heads times tokens are far fewer on a GPU (a few dozen), so a long
 * cache is cut into chunks of positions until there are this many. */
#define ATTENTION_WORKGROUPS 256

/* Tokens up to which a matmul is a matrix × vector product per token;
 * past it, the tiled kernel, which reads a weight once for many tokens
 * (measured on lavapipe: about even below 8). */
#define MATVEC_MAX_TOKENS 8

/* The shaders' sizes for this device, as specialization constants. */
typedef struct shader_sizes {
    uint32_t elementwise[1];   /* WG */
    uint32_t rms_norm[1];      /* WG, a power of two */
    uint32_t attention[3];     /* WG, MAX_HEAD_DIM (set per call), PER_INVOCATION */
    uint32_t matvec[3];        /* WG, TPR, R */
    uint32_t matmul[6];        /* WG, BM, BN, TM, TN, SHARED */
} shader_sizes;

/* The rope angles staged in this step, for the next rope that needs the
 * same ones (q and k of every layer share them). */
typedef struct rope_angles {
    uint64_t       step;
    hk_rope_params key;       /* freq_factors compared as a pointer */
    int64_t        n;
    VkBuffer       buffer;
    VkDeviceSize   offset;
} rope_angles;

/* The activations last quantized to bytes, as they were then: q, k and v
 * (gate and up) read the same ones, which no write has changed while the
 * buffer's epoch of its last write is the same (vk-recorder.h). */
typedef struct x8_source {
    const hk_vk_mem *mem;
    uint64_t         written;
    uint32_t         off, k, n;
} x8_source;

typedef struct vulkan_backend {
    hk_vk_device    *d;
    hk_vk_pipelines *p;
    hk_vk_recorder  *r;
    shader_sizes     sizes;
    rope_angles      rope;
    bool             rope_valid;
    bool             row_sum_subgroup;   /* matvec's lanes of a row are a subgroup */
    bool             int8;   /* quantized weights meet activations as bytes */
    hk_tensor        x8;     /* those bytes (quantize_q8), grown as needed */
    x8_source        x8_of;  /* what x8 holds */
    hk_tensor        parts;  /* attention's parts of a long cache, grown as needed */
    char             description[640];   /* the device's, and the kernels' forms */
} vulkan_backend;

static vulkan_backend *
vk_of(hk_backend *be)
{
    return be->context;
}

static hk_vk_mem *
mem_of(const hk_tensor *t)
{
    return t->buffer;
}

/* t's buffer at slot, read as storage, written, or read as a texel
 * buffer of quads (vk-pipelines.h). */
static hk_vk_binding
in(uint32_t slot, const hk_tensor *t)
{
    return (hk_vk_binding){ slot, mem_of(t)->buf.buffer, mem_of(t), false };
}

static hk_vk_binding
out(uint32_t slot, const hk_tensor *t)
{
    return (hk_vk_binding){ slot, mem_of(t)->buf.buffer, mem_of(t), true };
}

static hk_vk_binding
quads(uint32_t slot, const hk_tensor *t)
{
    return (hk_vk_binding){ HK_VK_STORAGE_BINDINGS + slot, VK_NULL_HANDLE, mem_of(t), false };
}

/* Where an activation (F32) or a cache (F16) starts in its buffer, in
 * its elements. */
static uint32_t
f32_off(const hk_tensor *t)
{
    return (uint32_t)(t->offset / sizeof(float));
}

static uint32_t
f16_off(const hk_tensor *t)
{
    return (uint32_t)(t->offset / 2);
}

/* A weight's first row: views are whole rows (of the file's layout in
 * the offset, of vk-layout.h's in the buffer). */
static uint32_t
weight_row0(const hk_tensor *t)
{
    return (uint32_t)(t->offset / hk_tensor_row_bytes(t));
}

static void
fail(vulkan_backend *vb, int code, const char *what)
{
    hk_error e = { 0 };
    hk_error_set(&e, code, "vulkan backend: %s", what);
    hk_vk_recorder_fail(vb->r, &e);
}

/* The suffix of a weight type's shader variants (shaders/meson.build). */
static const char *
type_suffix(hk_type type)
{
    switch (type) {
    case HK_TYPE_F32:  return "f32";
    case HK_TYPE_F16:  return "f16";
    case HK_TYPE_BF16: return "bf16";
    case HK_TYPE_Q8_0: return "q8_0";
    case HK_TYPE_Q4_0: return "q4_0";
    case HK_TYPE_Q5_0: return "q5_0";
    case HK_TYPE_Q4_K: return "q4_k";
    case HK_TYPE_Q5_K: return "q5_k";
    case HK_TYPE_Q6_K: return "q6_k";
    default:           return NULL;
    }
}

/* The types of shaders/meson.build's quantized_types. */
static bool
has_byte_kernels(hk_type type)
{
    return type != HK_TYPE_F32 && type != HK_TYPE_F16 && type != HK_TYPE_BF16 &&
           type_suffix(type) != NULL;
}

static uint32_t
groups_of(uint64_t n, uint32_t per_group)
{
    return (uint32_t)((n + per_group - 1) / per_group);
}

/* ------------------------------------------------------------ tensors */

/* A tensor of rows of row_bytes on the device. */
static int
new_tensor(vulkan_backend *vb, hk_type type, int64_t ne0, int64_t ne1, size_t row_bytes,
           const void *host, hk_tensor *ret, hk_error *err)
{
    if (row_bytes == 0 || ne1 <= 0 || (uint64_t)ne1 > UINT32_MAX / row_bytes)
        return hk_error_set(err, -EINVAL, "vulkan backend: bad tensor shape (%lld, %lld)",
                            (long long)ne0, (long long)ne1);
    if (hk_vk_recorder_failed(vb->r))
        return hk_vk_recorder_sync(vb->r, err);
    hk_vk_mem *m = calloc(1, sizeof *m);
    if (!m)
        return hk_error_set(err, -ENOMEM, "out of memory for a tensor");
    int rc = hk_vk_buffer_new(vb->d, row_bytes * (size_t)ne1, HK_VK_DEVICE_LOCAL, &m->buf, err);
    if (rc < 0) {
        free(m);
        return rc;
    }
    m->host = host;
    *ret = (hk_tensor){ .type = type, .ne = { ne0, ne1 }, .buffer = m, .owned = true };
    return 0;
}

static int
vk_tensor_alloc(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1, hk_tensor *ret,
                hk_error *err)
{
    vulkan_backend *vb = vk_of(be);
    if (type != HK_TYPE_F32 && type != HK_TYPE_F16)
        return hk_error_set(err, -EINVAL, "vulkan backend: cannot allocate a %s tensor",
                            hk_type_name(type));
    size_t row = ne0 > 0 ? hk_type_row_bytes(type, (uint64_t)ne0) : 0;
    /* activations and caches are bound as storage, weights only as quads */
    if (row > 0 && ne1 > 0 && (uint64_t)ne1 * row > vb->d->caps.max_storage_range)
        return hk_error_set(err, -ENOMEM, "vulkan: a tensor of %llu MiB is larger than %s "
                            "binds as storage (%llu MiB)",
                            (unsigned long long)(((uint64_t)ne1 * row) >> 20),
                            vb->d->props.deviceName,
                            (unsigned long long)(vb->d->caps.max_storage_range >> 20));
    int rc = new_tensor(vb, type, ne0, ne1, row, NULL, ret, err);
    if (rc == 0)
        hk_vk_fill_zero(vb->r, mem_of(ret));
    return rc;
}

/* What the upload's rows are made from. */
typedef struct upload_rows {
    hk_type     type;
    int64_t     ne0;
    const void *data;
    size_t      row_bytes;   /* in data */
} upload_rows;

static void
fill_rows(const void *ctx, int64_t row0, int64_t n, void *dst)
{
    const upload_rows *u = ctx;
    hk_vk_layout_rows(u->type, u->ne0, n, (const uint8_t *)u->data + (size_t)row0 * u->row_bytes, dst);
}

static int
vk_tensor_upload(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1, const void *data,
                 hk_tensor *ret, hk_error *err)
{
    vulkan_backend *vb = vk_of(be);
    size_t row = ne0 > 0 && type_suffix(type) ? hk_type_row_bytes(type, (uint64_t)ne0) : 0;
    size_t device_row = row > 0 ? hk_vk_row_bytes(type, ne0) : 0;
    hk_tensor t;
    int rc = new_tensor(vb, type, ne0, ne1, device_row, data, &t, err);
    if (rc < 0)
        return rc;
    upload_rows u = { type, ne0, data, row };
    rc = hk_vk_upload(vb->r, mem_of(&t), device_row, ne1, fill_rows, &u, err);
    if (rc < 0) {
        hk_vk_release(vb->r, mem_of(&t));
        return rc;
    }
    *ret = t;
    return 0;
}

static void
vk_tensor_free(hk_backend *be, hk_tensor *t)
{
    hk_vk_release(vk_of(be)->r, mem_of(t));
    t->buffer = NULL;
    t->owned = false;
}

/* ------------------------------------------------------------ get_rows */

static void
vk_get_rows(hk_backend *be, const hk_tensor *table, const int32_t *ids, hk_tensor *o)
{
    vulkan_backend *vb = vk_of(be);
    int64_t n = o->ne[1];
    VkBuffer staged;
    VkDeviceSize at;
    if (!hk_vk_stage(vb->r, ids, (size_t)n * sizeof *ids, &staged, &at))
        return;
    char shader[32];
    snprintf(shader, sizeof shader, "get_rows_%s", type_suffix(table->type));
    struct hk_shader_get_rows p = {
        .ne0 = (uint32_t)table->ne[0], .n = (uint32_t)n, .table_row0 = weight_row0(table),
        .ids_off = (uint32_t)(at / sizeof(uint32_t)), .out_off = f32_off(o),
    };
    /* an invocation per unit of 32, or per weight */
    uint64_t per_row = p.ne0 % 32 == 0 ? p.ne0 / 32 : p.ne0;
    hk_vk_binding b[] = { quads(0, table), { 1, staged, NULL, false }, out(2, o) };
    hk_vk_dispatch_1d(vb->r, shader, vb->sizes.elementwise, 1, &p, sizeof p, b, 3,
                      groups_of((uint64_t)n * per_row, vb->sizes.elementwise[0]));
}

/* ------------------------------------------------------------ matmul */

/* *t, a tensor of the backend's own, holding at least bytes: made larger
 * when it is not (the smaller one released when the step is done).  False
 * after failing the step. */
static bool
scratch(vulkan_backend *vb, hk_tensor *t, uint64_t bytes)
{
    uint64_t quads = (bytes + 15) / 16;
    if (t->buffer && (uint64_t)t->ne[1] >= quads)
        return true;
    if (t->buffer)
        hk_vk_release(vb->r, mem_of(t));
    t->buffer = NULL;
    hk_error e = { 0 };
    if (new_tensor(vb, HK_TYPE_F32, 4, (int64_t)quads, 16, NULL, t, &e) < 0) {
        hk_vk_recorder_fail(vb->r, &e);
        return false;
    }
    return true;
}

/* x's rows as quantize_q8's blocks of bytes, in vb->x8. */
static bool
quantize_x(vulkan_backend *vb, const hk_tensor *x)
{
    uint64_t blocks = (uint64_t)x->ne[1] * (uint64_t)(x->ne[0] / 32);
    x8_source source = {
        mem_of(x), mem_of(x)->written, f32_off(x), (uint32_t)x->ne[0], (uint32_t)x->ne[1],
    };
    const x8_source *held = &vb->x8_of;
    if (held->mem == source.mem && held->written == source.written && held->off == source.off &&
        held->k == source.k && held->n == source.n)
        return true;
    vb->x8_of = (x8_source){ 0 };
    if (!scratch(vb, &vb->x8, blocks * 48))
        return false;
    struct hk_shader_quantize_q8 p = {
        .k = (uint32_t)x->ne[0], .n = (uint32_t)x->ne[1], .x_off = f32_off(x),
    };
    hk_vk_binding b[] = { in(0, x), out(2, &vb->x8) };
    hk_vk_dispatch_1d(vb->r, "quantize_q8", vb->sizes.elementwise, 1, &p, sizeof p, b, 2,
                      groups_of(blocks, vb->sizes.elementwise[0]));
    if (!hk_vk_recorder_failed(vb->r))
        vb->x8_of = source;
    return true;
}

static void
vk_matmul(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y)
{
    vulkan_backend *vb = vk_of(be);
    struct hk_shader_matmul p = {
        .k = (uint32_t)w->ne[0], .m = (uint32_t)w->ne[1], .n = (uint32_t)x->ne[1],
        .w_row0 = weight_row0(w), .x_off = f32_off(x), .y_off = f32_off(y),
    };
    /* the float kernels read x itself, the byte kernels its blocks */
    bool bytes = vb->int8 && has_byte_kernels(w->type);
    if (bytes && !quantize_x(vb, x))
        return;
    hk_vk_binding b[] = { quads(0, w), bytes ? quads(1, &vb->x8) : quads(1, x), out(2, y) };
    const uint32_t *mv = vb->sizes.matvec, *mm = vb->sizes.matmul;
    const char *kind = bytes ? "_q8" : "";
    char shader[32];
    if (p.n <= MATVEC_MAX_TOKENS) {
        /* y (n, m): WG / TPR * R rows of w per workgroup */
        snprintf(shader, sizeof shader, "matvec%s%s_%s", kind, vb->row_sum_subgroup ? "_sg" : "",
                 type_suffix(w->type));
        hk_vk_dispatch(vb->r, shader, mv, 3, &p, sizeof p, b, 3,
                       groups_of(p.m, mv[0] / mv[1] * mv[2]), 1);
    } else {
        /* y (n, m): tiles of BM rows by BN tokens (the byte kernel has
         * them in shared memory only) */
        snprintf(shader, sizeof shader, "matmul%s_%s", kind, type_suffix(w->type));
        hk_vk_dispatch(vb->r, shader, mm, bytes ? 5 : 6, &p, sizeof p, b, 3,
                       groups_of(p.m, mm[1]), groups_of(p.n, mm[2]));
    }
}

/* ------------------------------------------------ add, add_bias, swiglu */

static void
add(vulkan_backend *vb, const hk_tensor *a, const hk_tensor *b_, bool bias, hk_tensor *o)
{
    struct hk_shader_add p = {
        .d = (uint32_t)a->ne[0], .total = (uint32_t)(a->ne[0] * a->ne[1]), .b_is_bias = bias,
        .a_off = f32_off(a), .b_off = f32_off(b_), .out_off = f32_off(o),
    };
    hk_vk_binding b[] = { in(0, a), in(1, b_), out(2, o) };
    hk_vk_dispatch_1d(vb->r, "add", vb->sizes.elementwise, 1, &p, sizeof p, b, 3,
                      groups_of(p.total, vb->sizes.elementwise[0]));
}

static void
vk_add(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *o)
{
    add(vk_of(be), a, b, false, o);
}

static void
vk_add_bias(hk_backend *be, hk_tensor *y, const hk_tensor *b)
{
    add(vk_of(be), y, b, true, y);
}

static void
vk_swiglu(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *o)
{
    vulkan_backend *vb = vk_of(be);
    struct hk_shader_swiglu p = {
        .total = (uint32_t)(gate->ne[0] * gate->ne[1]), .gate_off = f32_off(gate),
        .up_off = f32_off(up), .out_off = f32_off(o),
    };
    hk_vk_binding b[] = { in(0, gate), in(1, up), out(2, o) };
    hk_vk_dispatch_1d(vb->r, "swiglu", vb->sizes.elementwise, 1, &p, sizeof p, b, 3,
                      groups_of(p.total, vb->sizes.elementwise[0]));
}

/* ------------------------------------------------------------ rms_norm */

static void
vk_rms_norm(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps, hk_tensor *o)
{
    vulkan_backend *vb = vk_of(be);
    struct hk_shader_rms_norm p = {
        .d = (uint32_t)x->ne[0], .n = (uint32_t)x->ne[1], .x_off = f32_off(x),
        .w_off = f32_off(w), .out_off = f32_off(o), .eps = eps,
    };
    hk_vk_binding b[] = { in(0, x), in(1, w), out(2, o) };
    hk_vk_dispatch(vb->r, "rms_norm", vb->sizes.rms_norm, 1, &p, sizeof p, b, 3, p.n, 1);
}

/* ------------------------------------------------------------ rope */

static bool
same_rope(const rope_angles *a, uint64_t step, const hk_rope_params *p, int64_t n)
{
    return a->step == step && a->n == n && a->key.n_rot == p->n_rot && a->key.pos0 == p->pos0 &&
           a->key.freq_base == p->freq_base && a->key.freq_scale == p->freq_scale &&
           a->key.freq_factors == p->freq_factors;
}

/* The angles (n, n_rot / 2) of (cos, sin), computed as the CPU backend
 * computes them (in float, with the same library calls), so both backends
 * turn by exactly the same amounts; staged for this step. */
static bool
stage_rope_angles(vulkan_backend *vb, const hk_rope_params *p, int64_t n)
{
    uint64_t step = hk_vk_recorder_step(vb->r);
    if (vb->rope_valid && same_rope(&vb->rope, step, p, n))
        return true;
    const float *factors = NULL;
    if (p->freq_factors) {
        factors = mem_of(p->freq_factors)->host;
        if (!factors) {
            fail(vb, -EINVAL, "rope frequency factors must be an uploaded weight");
            return false;
        }
        factors += p->freq_factors->offset / sizeof(float);
    }
    int32_t half = p->n_rot / 2;
    float *angles = malloc((size_t)n * (size_t)half * 2 * sizeof(float));
    if (!angles) {
        fail(vb, -ENOMEM, "out of memory for rope angles");
        return false;
    }
    for (int64_t t = 0; t < n; t++)
        for (int32_t i = 0; i < half; i++) {
            float theta = (float)(p->pos0 + t) * p->freq_scale *
                          powf(p->freq_base, -2.0f * (float)i / (float)p->n_rot);
            if (factors)
                theta /= factors[i];
            angles[2 * (t * half + i)] = cosf(theta);
            angles[2 * (t * half + i) + 1] = sinf(theta);
        }
    bool ok = hk_vk_stage(vb->r, angles, (size_t)n * (size_t)half * 2 * sizeof(float),
                          &vb->rope.buffer, &vb->rope.offset);
    free(angles);
    vb->rope_valid = ok;
    if (ok) {
        vb->rope.step = step;
        vb->rope.key = *p;
        vb->rope.n = n;
    }
    return ok;
}

static void
vk_rope(hk_backend *be, hk_tensor *x, const hk_rope_params *rp)
{
    vulkan_backend *vb = vk_of(be);
    int64_t n = x->ne[1];
    if (!stage_rope_angles(vb, rp, n))
        return;
    struct hk_shader_rope p = {
        .n = (uint32_t)n, .n_heads = (uint32_t)(x->ne[0] / rp->head_dim),
        .head_dim = (uint32_t)rp->head_dim, .n_rot = (uint32_t)rp->n_rot, .neox = rp->neox,
        .x_off = f32_off(x), .table_off = (uint32_t)(vb->rope.offset / (2 * sizeof(float))),
    };
    hk_vk_binding b[] = { out(0, x), { 1, vb->rope.buffer, NULL, false } };
    hk_vk_dispatch_1d(vb->r, "rope", vb->sizes.elementwise, 1, &p, sizeof p, b, 2,
                      groups_of((uint64_t)n * p.n_heads * (p.n_rot / 2), vb->sizes.elementwise[0]));
}

/* ------------------------------------------------------ kv cache, attention */

static void
vk_kv_store(hk_backend *be, const hk_tensor *k, const hk_tensor *v, hk_tensor *k_cache,
            hk_tensor *v_cache, const hk_attn_params *ap)
{
    vulkan_backend *vb = vk_of(be);
    struct hk_shader_kv_store p = {
        .n = (uint32_t)k->ne[1], .n_head_kv = (uint32_t)ap->n_head_kv,
        .head_dim = (uint32_t)ap->head_dim, .n_slots = (uint32_t)ap->n_slots,
        .pos0 = (uint32_t)ap->pos0, .k_off = f32_off(k), .v_off = f32_off(v),
        .kc_off = f16_off(k_cache), .vc_off = f16_off(v_cache),
    };
    hk_vk_binding b[] = { in(0, k), in(1, v), out(2, k_cache), out(3, v_cache) };
    hk_vk_dispatch_1d(vb->r, "kv_store", vb->sizes.elementwise, 1, &p, sizeof p, b, 4,
                      groups_of((uint64_t)p.n * p.n_head_kv * p.head_dim, vb->sizes.elementwise[0]));
}

/* How many chunks of positions a generation step's attention takes on a
 * GPU (1: none), and how long they are: enough chunks to reach
 * ATTENTION_WORKGROUPS, each whole KV blocks. */
static uint32_t
attention_chunks(const struct hk_shader_attention *p, bool per_invocation, uint32_t *chunk)
{
    uint32_t n_pos = p->pos0 + p->n, wanted;
    if (per_invocation || p->n > MATVEC_MAX_TOKENS || n_pos <= HK_SHADER_KV_BLOCK)
        return 1;
    wanted = (ATTENTION_WORKGROUPS + p->n_head * p->n - 1) / (p->n_head * p->n);
    *chunk = (n_pos + wanted - 1) / wanted;
    *chunk = (*chunk + HK_SHADER_KV_BLOCK - 1) / HK_SHADER_KV_BLOCK * HK_SHADER_KV_BLOCK;
    return (n_pos + *chunk - 1) / *chunk;
}

/* The chunks' parts of the softmax into one, as attention's output. */
static void
merge_attention(vulkan_backend *vb, const struct hk_shader_attention *a, hk_tensor *o)
{
    struct hk_shader_attention_merge p = {
        .n = a->n, .n_head = a->n_head, .head_dim = a->head_dim, .n_chunks = a->n_chunks,
        .out_off = a->out_off,
    };
    hk_vk_binding b[] = { in(0, &vb->parts), out(3, o) };
    hk_vk_dispatch_1d(vb->r, "attention_merge", vb->sizes.elementwise, 1, &p, sizeof p, b, 2,
                      groups_of((uint64_t)p.n * p.n_head * p.head_dim, vb->sizes.elementwise[0]));
}

static void
vk_attention(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
             const hk_tensor *v_cache, const hk_attn_params *ap, hk_tensor *o)
{
    vulkan_backend *vb = vk_of(be);
    struct hk_shader_attention p = {
        .n = (uint32_t)q->ne[1], .n_head = (uint32_t)ap->n_head,
        .n_head_kv = (uint32_t)ap->n_head_kv, .head_dim = (uint32_t)ap->head_dim,
        .n_slots = (uint32_t)ap->n_slots, .pos0 = (uint32_t)ap->pos0, .q_off = f32_off(q),
        .kc_off = f16_off(k_cache), .vc_off = f16_off(v_cache), .out_off = f32_off(o),
        .scale = ap->scale, .n_chunks = 1,
    };
    if (p.head_dim % 8 != 0) {
        fail(vb, -ENOTSUP, "attention needs a head size that is a multiple of 8");
        return;
    }
    /* the arrays hold the head, rounded up so models share pipelines */
    uint32_t spec[3] = { vb->sizes.attention[0], (p.head_dim + 63) / 64 * 64, vb->sizes.attention[2] };
    p.n_chunks = attention_chunks(&p, spec[2] != 0, &p.chunk);
    uint64_t part_bytes = (uint64_t)p.n * p.n_head * p.n_chunks * (p.head_dim + 2) * sizeof(float);
    if (p.n_chunks > 1 && !scratch(vb, &vb->parts, part_bytes))
        return;
    /* both outputs are bound whichever the shader writes */
    hk_vk_binding b[] = { quads(0, q), quads(1, k_cache), quads(2, v_cache), out(3, o),
                          p.n_chunks > 1 ? out(4, &vb->parts) : out(4, o) };
    if (spec[2])   /* an invocation per (head, token) */
        hk_vk_dispatch_1d(vb->r, "attention", spec, 3, &p, sizeof p, b, 5,
                          groups_of((uint64_t)p.n * p.n_head, spec[0]));
    else           /* a workgroup per (head, token[, chunk]) */
        hk_vk_dispatch(vb->r, "attention", spec, 3, &p, sizeof p, b, 5, p.n_head,
                       p.n * p.n_chunks);
    if (p.n_chunks > 1)
        merge_attention(vb, &p, o);
}

/* ------------------------------------------------------------ host */

static void
vk_read(hk_backend *be, const hk_tensor *t, float *dst)
{
    hk_vk_read(vk_of(be)->r, mem_of(t), t->offset, hk_tensor_row_bytes(t) * (size_t)t->ne[1], dst);
}

static int
vk_sync(hk_backend *be, hk_error *err)
{
    return hk_vk_recorder_sync(vk_of(be)->r, err);
}

/* ------------------------------------------------------------ the table */

static const char *
vk_name(hk_backend *be)
{
    return "vulkan";
}

static const char *
vk_description(hk_backend *be)
{
    return vk_of(be)->description;
}

static bool
vk_supports_type(hk_backend *be, hk_type type)
{
    return type_suffix(type) != NULL;
}

static bool
vk_supports_op(hk_backend *be, hk_op op)
{
    return op < HK_OP_COUNT;
}

static void
destroy(vulkan_backend *vb)
{
    hk_tensor *own[] = { &vb->x8, &vb->parts };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i]->buffer)
            hk_vk_release(vb->r, mem_of(own[i]));
    hk_vk_recorder_free(vb->r);
    hk_vk_pipelines_free(vb->p);
    hk_vk_device_close(vb->d);
    free(vb);
}

static void
vk_free(hk_backend *be)
{
    destroy(vk_of(be));
}

static const hk_backend_iface vulkan_iface = {
    .version       = HK_BACKEND_INTERFACE_VERSION,
    .name          = vk_name,
    .description   = vk_description,
    .free          = vk_free,
    .supports_type = vk_supports_type,
    .supports_op   = vk_supports_op,
    .tensor_alloc  = vk_tensor_alloc,
    .tensor_upload = vk_tensor_upload,
    .tensor_free   = vk_tensor_free,
    .get_rows      = vk_get_rows,
    .matmul        = vk_matmul,
    .add_bias      = vk_add_bias,
    .rms_norm      = vk_rms_norm,
    .rope          = vk_rope,
    .kv_store      = vk_kv_store,
    .attention     = vk_attention,
    .swiglu        = vk_swiglu,
    .add           = vk_add,
    .read          = vk_read,
    .sync          = vk_sync,
};

static uint32_t
pow2_at_most(uint32_t n, uint32_t cap)
{
    uint32_t p = 1;
    while (p * 2 <= n && p * 2 <= cap)
        p *= 2;
    return p;
}

/* Whether the device wants the kernels' variants for a CPU
 * implementation, which runs a workgroup's invocations as the SIMD lanes
 * of one thread: shared memory, barriers and reductions cost it more than
 * its caches save.  HEARKEN_VULKAN_KERNELS=gpu or cpu picks either on any
 * device (the tests run both on lavapipe). */
static bool
cpu_kernels(const hk_vk_device *d)
{
    const char *forced = getenv("HEARKEN_VULKAN_KERNELS");
    if (forced && strcmp(forced, "gpu") == 0)
        return false;
    if (forced && strcmp(forced, "cpu") == 0)
        return true;
    return d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

/* A choice the device's report makes unless the environment variable
 * says 0 or 1 (the tests run every form on lavapipe). */
static bool
unless_forced(const char *variable, bool chosen)
{
    const char *forced = getenv(variable);
    if (forced && (strcmp(forced, "0") == 0 || strcmp(forced, "1") == 0))
        return forced[0] == '1';
    return chosen;
}

/* Whether quantized weights meet the activations as bytes: where the
 * device multiplies packed bytes in hardware, with the kernels for a GPU
 * (the byte kernel's tiles live in shared memory); HEARKEN_VULKAN_INT8
 * decides on any device with the dot product. */
static bool
int8_kernels(const hk_vk_device *d)
{
    if (!d->caps.int8_dot || cpu_kernels(d))
        return false;
    return unless_forced("HEARKEN_VULKAN_INT8", d->caps.int8_dot_fast);
}

/* Whether matvec's lanes of a row, being a subgroup, add up across it
 * (shaders/row-sum.glsl); HEARKEN_VULKAN_SUBGROUP=0 keeps the tree in
 * shared memory. */
static bool
subgroup_row_sum(const hk_vk_device *d, const shader_sizes *s)
{
    if (!d->caps.subgroup_sum || s->matvec[1] == 1 || s->matvec[1] != d->caps.subgroup_size)
        return false;
    return unless_forced("HEARKEN_VULKAN_SUBGROUP", true);
}

/* Workgroups within the device's limits (every device allows 128
 * invocations and 16 KiB of shared memory, which the tiles fill). */
static void
choose_sizes(const hk_vk_device *d, shader_sizes *s)
{
    uint32_t max = d->caps.max_invocations;
    s->elementwise[0] = pow2_at_most(max, 256);
    s->rms_norm[0] = pow2_at_most(max, 256);
    if (cpu_kernels(d)) {
        /* attention: a query per invocation; matvec: 2 rows per invocation;
         * matmul: 32 invocations of 2 rows by 4 tokens.  Measured on
         * lavapipe, which compiles a pipeline when it first runs, in a time
         * that grows fast with the unrolled code: more rows or tokens per
         * invocation ran little faster and took seconds to compile. */
        uint32_t attention[3] = { 8, 0, 1 }, matvec[3] = { 32, 1, 2 };
        uint32_t matmul[6] = { 32, 64, 4, 2, 4, 0 };
        memcpy(s->attention, attention, sizeof attention);
        memcpy(s->matvec, matvec, sizeof matvec);
        memcpy(s->matmul, matmul, sizeof matmul);
        return;
    }
    /* attention: a workgroup per query; matvec: a subgroup's worth of
     * invocations per row; matmul: 64 x 64 tiles, 4 x 4 (or 4 x 8)
     * outputs per invocation */
    uint32_t tpr = pow2_at_most(d->caps.subgroup_size, 64);
    uint32_t tn = max >= 256 ? 4 : 8;
    uint32_t attention[3] = { 64, 0, 0 }, matvec[3] = { pow2_at_most(max, 128), tpr, 1 };
    uint32_t matmul[6] = { (64 / 4) * (64 / tn), 64, 64, 4, tn, 1 };
    memcpy(s->attention, attention, sizeof attention);
    memcpy(s->matvec, matvec, sizeof matvec);
    memcpy(s->matmul, matmul, sizeof matmul);
}

/* What a benchmark's reader needs to know of the kernels that ran. */
static void
describe_kernels(vulkan_backend *vb)
{
    snprintf(vb->description, sizeof vb->description, "%s; kernels for a %s%s%s",
             vb->d->description, cpu_kernels(vb->d) ? "CPU implementation" : "GPU",
             vb->int8 ? ", multiplying bytes" : "",
             vb->row_sum_subgroup ? ", subgroup sums" : "");
}

int
hk_backend_vulkan_new(const hk_backend_vulkan_params *params, hk_backend **ret, hk_error *err)
{
    vulkan_backend *vb = calloc(1, sizeof *vb);
    if (!vb)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan backend");
    int rc = hk_vk_device_open(params->device, params->allow_cpu, &vb->d, err);
    if (rc == 0)
        rc = hk_vk_pipelines_new(vb->d, &vb->p, err);
    if (rc == 0)
        rc = hk_vk_recorder_new(vb->d, vb->p, &vb->r, err);
    if (rc == 0) {
        choose_sizes(vb->d, &vb->sizes);
        vb->int8 = int8_kernels(vb->d);
        vb->row_sum_subgroup = subgroup_row_sum(vb->d, &vb->sizes);
        describe_kernels(vb);
        rc = hk_backend_new(&vulkan_iface, vb, ret, err);
    }
    if (rc < 0)
        destroy(vb);
    return rc;
}
