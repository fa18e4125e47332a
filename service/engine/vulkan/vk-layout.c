/* vk-layout.c — weights rearranged for the device, row by row. */
#include "vulkan/vk-layout.h"

#include <string.h>

#include "quant.h"

#define QUAD 16

static size_t
round_quad(size_t n)
{
    return (n + QUAD - 1) / QUAD * QUAD;
}

/* The blocks of 32 with a quad-aligned part: their quants' bytes. */
static size_t
quant_bytes(hk_type type)
{
    return type == HK_TYPE_Q8_0 ? 32 : 16;
}

size_t
hk_vk_row_bytes(hk_type type, int64_t n)
{
    size_t blocks = (size_t)n / hk_type_block_elems(type);
    switch (type) {
    case HK_TYPE_Q8_0:
    case HK_TYPE_Q4_0:
    case HK_TYPE_Q5_0:
        return round_quad(blocks * (quant_bytes(type) + 8));
    case HK_TYPE_Q6_K:
        return blocks * 224;
    default:
        return hk_type_row_bytes(type, (uint64_t)n);
    }
}

static void
put_f32(uint8_t *at, float v)
{
    memcpy(at, &v, sizeof v);
}

/* One row of blocks of 32: the quants, then (d, qh) per block. */
static void
layout_row_32(hk_type type, size_t blocks, const uint8_t *src, uint8_t *dst)
{
    size_t qbytes = quant_bytes(type), block_bytes = hk_type_block_bytes(type);
    uint8_t *meta = dst + blocks * qbytes;
    for (size_t b = 0; b < blocks; b++, src += block_bytes) {
        hk_fp16 d;
        memcpy(&d, src, sizeof d);
        put_f32(meta + 8 * b, hk_fp16_to_f32(d));
        if (type == HK_TYPE_Q5_0) {
            const hk_block_q5_0 *q = (const void *)src;
            memcpy(meta + 8 * b + 4, q->qh, 4);
            memcpy(dst + b * qbytes, q->qs, qbytes);
        } else {
            memcpy(dst + b * qbytes, src + sizeof d, qbytes);
        }
    }
}

static void
layout_row_q6_K(size_t blocks, const uint8_t *src, uint8_t *dst)
{
    for (size_t b = 0; b < blocks; b++, src += sizeof(hk_block_q6_K), dst += 224) {
        const hk_block_q6_K *q = (const void *)src;
        memcpy(dst, q->ql, sizeof q->ql);
        memcpy(dst + 128, q->qh, sizeof q->qh);
        memcpy(dst + 192, q->scales, sizeof q->scales);
        put_f32(dst + 208, hk_fp16_to_f32(q->d));
    }
}

void
hk_vk_layout_rows(hk_type type, int64_t n, int64_t rows, const void *src, void *dst)
{
    size_t in_row = hk_type_row_bytes(type, (uint64_t)n), out_row = hk_vk_row_bytes(type, n);
    size_t blocks = (size_t)n / hk_type_block_elems(type);
    const uint8_t *s = src;
    uint8_t *d = dst;
    memset(dst, 0, out_row * (size_t)rows);
    for (int64_t r = 0; r < rows; r++, s += in_row, d += out_row) {
        switch (type) {
        case HK_TYPE_Q8_0:
        case HK_TYPE_Q4_0:
        case HK_TYPE_Q5_0:
            layout_row_32(type, blocks, s, d);
            break;
        case HK_TYPE_Q6_K:
            layout_row_q6_K(blocks, s, d);
            break;
        default:
            memcpy(d, s, in_row);
            break;
        }
    }
}
