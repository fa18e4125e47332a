/* types.h — the ggml tensor types a GGUF file can name.
 *
 * Ids and block layouts follow ggml.  Every id GGUF files use is known here
 * with its block size, so the reader can size any tensor; which types the
 * engine can compute with is a separate question (hk_type_is_supported).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hk_type {
    HK_TYPE_F32     = 0,
    HK_TYPE_F16     = 1,
    HK_TYPE_Q4_0    = 2,
    HK_TYPE_Q4_1    = 3,
    HK_TYPE_Q5_0    = 6,
    HK_TYPE_Q5_1    = 7,
    HK_TYPE_Q8_0    = 8,
    HK_TYPE_Q8_1    = 9,
    HK_TYPE_Q2_K    = 10,
    HK_TYPE_Q3_K    = 11,
    HK_TYPE_Q4_K    = 12,
    HK_TYPE_Q5_K    = 13,
    HK_TYPE_Q6_K    = 14,
    HK_TYPE_Q8_K    = 15,
    HK_TYPE_IQ2_XXS = 16,
    HK_TYPE_IQ2_XS  = 17,
    HK_TYPE_IQ3_XXS = 18,
    HK_TYPE_IQ1_S   = 19,
    HK_TYPE_IQ4_NL  = 20,
    HK_TYPE_IQ3_S   = 21,
    HK_TYPE_IQ2_S   = 22,
    HK_TYPE_IQ4_XS  = 23,
    HK_TYPE_I8      = 24,
    HK_TYPE_I16     = 25,
    HK_TYPE_I32     = 26,
    HK_TYPE_I64     = 27,
    HK_TYPE_F64     = 28,
    HK_TYPE_IQ1_M   = 29,
    HK_TYPE_BF16    = 30,
    HK_TYPE_TQ1_0   = 34,
    HK_TYPE_TQ2_0   = 35,
    HK_TYPE_MXFP4   = 39,
    HK_TYPE_COUNT   = 40,
} hk_type;

/* The super-block size of the k-quants. */
#define HK_QK_K 256

/* False for ids ggml never assigned or has retired. */
bool hk_type_is_known(uint32_t id);

/* "q4_K", "f16"…; "unknown" for an unknown id. */
const char *hk_type_name(hk_type type);

/* Weights per block and bytes per block; 0 for an unknown id. */
size_t hk_type_block_elems(hk_type type);
size_t hk_type_block_bytes(hk_type type);

/* Bytes of a row of n elements; 0 when n is not a whole number of blocks. */
size_t hk_type_row_bytes(hk_type type, uint64_t n);

/* Whether the engine's kernels compute with this type. */
bool hk_type_is_supported(hk_type type);
