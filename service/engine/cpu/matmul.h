/* cpu/matmul.h — the CPU's weight × activation kernels.
 *
 * W is a weight matrix of m rows of k elements in any supported type, rows
 * stored contiguously as in the GGUF file (hk_type_row_bytes(type, k) bytes
 * each).  Activations are first converted, one row of k per token, to the
 * weight's "vec dot type" (8-bit blocks for the quantized types), so that
 * the inner products run on integers.  Then
 *
 *     Y[c][r] = sum_i W[r][i] * X[c][i]    r in [r0, r1), c in [0, n_cols)
 *
 * is computed by one thread over a range of rows; the thread pool splits
 * rows between threads.  This is the hot spot of the whole engine.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

typedef enum hk_cpu_isa {
    HK_CPU_ISA_SCALAR,
    HK_CPU_ISA_AVX2,      /* AVX2 + FMA + F16C */
    HK_CPU_ISA_AVX512,    /* AVX-512 F/BW/VL (+ VNNI when present) */
} hk_cpu_isa;

/* The best ISA this CPU has; chosen once, at first use. */
hk_cpu_isa  hk_cpu_isa_detect(void);
/* Force an ISA (tests compare SIMD with scalar); one the CPU lacks is
 * refused with false. */
bool        hk_cpu_isa_set(hk_cpu_isa isa);
hk_cpu_isa  hk_cpu_isa_get(void);
const char *hk_cpu_isa_name(hk_cpu_isa isa);

/* The type activations are converted to for a weight of this type. */
hk_type hk_cpu_vec_dot_type(hk_type weight);
/* Bytes of one converted activation row of k elements. */
size_t  hk_cpu_activation_row_bytes(hk_type weight, int64_t k);
/* Convert one row x[k] to the vec dot type of weight. */
void    hk_cpu_quantize_activation(hk_type weight, const float *x, void *xq, int64_t k);

/* Whether hk_cpu_matmul_rows computes with this weight type (the types
 * hk_type_is_supported names); it leaves y alone for any other, and for
 * a k that is no whole number of the type's blocks. */
bool    hk_cpu_matmul_supports(hk_type weight);

/* xq holds n_cols converted rows of hk_cpu_activation_row_bytes each; y
 * is row-major by token: y[c * y_stride + r]. */
void hk_cpu_matmul_rows(hk_type weight, const void *w, int64_t k,
                        int64_t r0, int64_t r1,
                        const void *xq, int64_t n_cols,
                        float *y, int64_t y_stride);

/* One weight row to floats (embedding lookup, tests). */
void hk_cpu_dequantize_row(hk_type type, const void *src, float *dst, int64_t k);
