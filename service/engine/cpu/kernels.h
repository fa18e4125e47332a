/* cpu/kernels.h — private to cpu/: the tables matmul.c dispatches to.
 *
 * One table per instruction set, each a slot per weight type.  A NULL
 * slot means that ISA has nothing better than the scalar kernel, which
 * runs instead.  Another ISA (NEON…) is another table and another entry in
 * matmul.c's list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* One thread's share of a matmul, rows already offset:
 *     y[c * y_stride + r] = W[r] · X[c]    r < n_rows, c < n_cols */
typedef struct hk_matmul_job {
    const uint8_t *w;          /* (n_rows, w_row_bytes) */
    size_t         w_row_bytes;
    int64_t        k;
    int64_t        n_rows;
    const uint8_t *xq;         /* (n_cols, x_row_bytes), the vec dot type */
    size_t         x_row_bytes;
    int64_t        n_cols;
    float         *y;
    int64_t        y_stride;
} hk_matmul_job;

typedef void (*hk_matmul_kernel)(const hk_matmul_job *job);

typedef struct hk_cpu_kernels {
    hk_matmul_kernel matmul[HK_TYPE_COUNT];
} hk_cpu_kernels;

extern const hk_cpu_kernels hk_cpu_kernels_scalar;
#if defined(__x86_64__)
extern const hk_cpu_kernels hk_cpu_kernels_avx2;
extern const hk_cpu_kernels hk_cpu_kernels_avx512;
#endif

/* What the processor and the OS (saved vector state) allow. */
typedef struct hk_cpu_features {
    bool avx2, fma, f16c;
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16;
} hk_cpu_features;

hk_cpu_features hk_cpu_features_detect(void);
