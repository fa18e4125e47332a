/* vk-layout.h — how weights lie in device memory.
 *
 * The shaders read tensors 16 bytes at a time ("quads", through a texel
 * buffer view): the fastest read on every device, and by far on lavapipe.
 * So the blocks whose size is not a multiple of 16 bytes are rearranged
 * when uploaded, within each row (a row stays a row, so views of whole
 * rows still work):
 *
 *   f32, f16, bf16    as is: a row of 32 × j weights is whole quads
 *   q8_0, q4_0, q5_0  the quants of the row's blocks (32 or 16 bytes each),
 *                     then 8 bytes per block: d as an f32, and q5_0's qh;
 *                     the row padded to whole quads
 *   q4_K, q5_K        as is (144 and 176 bytes are whole quads)
 *   q6_K              each block padded to 224 bytes: ql, qh, scales,
 *                     then d as an f32 in a quad of its own
 *
 * shaders/weights.glsl reads these layouts; both sides must agree.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Bytes of one row of n weights on the device (a multiple of 16). */
size_t hk_vk_row_bytes(hk_type type, int64_t n);

/* Rows of n weights from the file's layout (src) to the device's (dst,
 * rows × hk_vk_row_bytes bytes). */
void hk_vk_layout_rows(hk_type type, int64_t n, int64_t rows, const void *src, void *dst);
