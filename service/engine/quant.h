/* quant.h — block layouts of the quantized types, half-precision floats,
 * and the reference (scalar, portable) quantizers and dequantizers.
 *
 * The layouts are ggml's, byte for byte: a GGUF file from anywhere
 * dequantizes here to the same floats as in ggml.  The quantizers are the
 * reference ones `hearken-engine quantize` writes model files with; the
 * fast kernels in cpu/ never quantize weights, only activations (Q8_0, Q8_K).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* ------------------------------------------------------- half precision */

typedef uint16_t hk_fp16;   /* IEEE 754 binary16 bits */
typedef uint16_t hk_bf16;   /* the high half of a binary32 */

float   hk_fp16_to_f32(hk_fp16 h);
/* Round to nearest even; too large becomes inf, NaN stays NaN (quiet). */
hk_fp16 hk_f32_to_fp16(float f);
float   hk_bf16_to_f32(hk_bf16 h);
/* Round to nearest even; NaN stays NaN (quiet). */
hk_bf16 hk_f32_to_bf16(float f);

/* ---------------------------------------------------------- block layouts
 *
 * Blocks of 32 weights share one fp16 scale d; the k-quants group 256
 * weights into a super-block of 8 or 16 sub-blocks with their own 6- or
 * 8-bit scales, themselves scaled by fp16 d (and dmin). */

#define HK_QK32 32
#define HK_K_SCALE_BYTES 12

/* w = d * (q - 8), q 4 bits: weight j in the low nibble of qs[j], weight
 * j + 16 in the high nibble. */
typedef struct hk_block_q4_0 {
    hk_fp16 d;
    uint8_t qs[HK_QK32 / 2];
} hk_block_q4_0;

/* w = d * (q - 16), q 5 bits: the low 4 as in q4_0, bit 4 of weight j in
 * bit j of qh (a little-endian uint32). */
typedef struct hk_block_q5_0 {
    hk_fp16 d;
    uint8_t qh[4];
    uint8_t qs[HK_QK32 / 2];
} hk_block_q5_0;

/* w = d * q, q signed 8 bits. */
typedef struct hk_block_q8_0 {
    hk_fp16 d;
    int8_t  qs[HK_QK32];
} hk_block_q8_0;

/* 8 sub-blocks of 32: w = d * sc[j] * q - dmin * m[j], q 4 bits, sc and m
 * 6 bits packed in scales[12] (see hk_q4_K_scale_min).  Each 32 bytes of
 * qs hold two sub-blocks: 2i in the low nibbles, 2i + 1 in the high. */
typedef struct hk_block_q4_K {
    hk_fp16 d;
    hk_fp16 dmin;
    uint8_t scales[HK_K_SCALE_BYTES];
    uint8_t qs[HK_QK_K / 2];
} hk_block_q4_K;

/* As q4_K with a fifth bit: bit 4 of weight l of sub-block j is bit j of
 * qh[l]. */
typedef struct hk_block_q5_K {
    hk_fp16 d;
    hk_fp16 dmin;
    uint8_t scales[HK_K_SCALE_BYTES];
    uint8_t qh[HK_QK_K / 8];
    uint8_t qs[HK_QK_K / 2];
} hk_block_q5_K;

/* 16 sub-blocks of 16: w = d * scales[j] * (q - 32), q 6 bits: the low 4
 * in ql, the high 2 in qh, in halves of 128 weights (see quant.c). */
typedef struct hk_block_q6_K {
    uint8_t ql[HK_QK_K / 2];
    uint8_t qh[HK_QK_K / 4];
    int8_t  scales[HK_QK_K / 16];
    hk_fp16 d;
} hk_block_q6_K;

/* The k-quants' activation type: x = d * q, with the sums of each 16
 * q's ready for the mins and offsets of the weights. */
typedef struct hk_block_q8_K {
    float   d;
    int8_t  qs[HK_QK_K];
    int16_t bsums[HK_QK_K / 16];
} hk_block_q8_K;

_Static_assert(sizeof(hk_block_q4_0) == 18, "q4_0 block is 18 bytes in ggml");
_Static_assert(sizeof(hk_block_q5_0) == 22, "q5_0 block is 22 bytes in ggml");
_Static_assert(sizeof(hk_block_q8_0) == 34, "q8_0 block is 34 bytes in ggml");
_Static_assert(sizeof(hk_block_q4_K) == 144, "q4_K block is 144 bytes in ggml");
_Static_assert(sizeof(hk_block_q5_K) == 176, "q5_K block is 176 bytes in ggml");
_Static_assert(sizeof(hk_block_q6_K) == 210, "q6_K block is 210 bytes in ggml");
_Static_assert(sizeof(hk_block_q8_K) == 292, "q8_K block is 292 bytes in ggml");

/* The 6-bit scale and min of sub-block j (0..7) of a q4_K or q5_K block. */
void hk_q4_K_scale_min(const uint8_t scales[HK_K_SCALE_BYTES], int j,
                       uint8_t *ret_scale, uint8_t *ret_min);

/* ------------------------------------------------------------ reference */

/* Whether hk_dequantize_row knows the type: F32, F16, BF16, Q8_0, Q4_0,
 * Q5_0, Q4_K, Q5_K, Q6_K and Q8_K. */
bool hk_can_dequantize(hk_type type);
/* n elements, a whole number of blocks, of a type hk_can_dequantize. */
void hk_dequantize_row(hk_type type, const void *src, float *dst, int64_t n);

/* Whether hk_quantize_row can write the type: the same list. */
bool hk_can_quantize(hk_type type);
/* n floats, a whole number of blocks, to hk_type_row_bytes(type, n) bytes
 * at dst.  The k-quants search their sub-block scales and mins by
 * weighted least squares, as ggml's reference quantizers do. */
void hk_quantize_row(hk_type type, const float *src, void *dst, int64_t n);
