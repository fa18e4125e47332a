/* The matmul entry points: activation conversion, and the choice of
 * kernel table by instruction set, made once from CPUID and changeable by
 * hk_cpu_isa_set. */
#include "matmul.h"

#include <stdatomic.h>

#include "kernels.h"
#include "quant.h"

/* Index: hk_cpu_isa.  NULL where this build has no kernels for it. */
static const hk_cpu_kernels *const isa_tables[] = {
    [HK_CPU_ISA_SCALAR] = &hk_cpu_kernels_scalar,
#if defined(__x86_64__)
    [HK_CPU_ISA_AVX2]   = &hk_cpu_kernels_avx2,
    [HK_CPU_ISA_AVX512] = &hk_cpu_kernels_avx512,
#endif
};

#define N_ISAS ((int)(sizeof isa_tables / sizeof isa_tables[0]))

/* -1 until the first use; then the ISA every matmul runs with. */
static _Atomic int current_isa = -1;

static bool
isa_runs_here(hk_cpu_isa isa, const hk_cpu_features *f)
{
    if ((int)isa >= N_ISAS || !isa_tables[isa])
        return false;
    switch (isa) {
    case HK_CPU_ISA_SCALAR:
        return true;
    case HK_CPU_ISA_AVX2:
        return f->avx2 && f->fma && f->f16c;
    case HK_CPU_ISA_AVX512:
        /* the AVX-512 kernels are built with VNNI and DQ too */
        return f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw
            && f->avx512vl && f->avx512dq && f->avx512vnni;
    }
    return false;
}

hk_cpu_isa
hk_cpu_isa_detect(void)
{
    hk_cpu_features f = hk_cpu_features_detect();
    if (isa_runs_here(HK_CPU_ISA_AVX512, &f))
        return HK_CPU_ISA_AVX512;
    if (isa_runs_here(HK_CPU_ISA_AVX2, &f))
        return HK_CPU_ISA_AVX2;
    return HK_CPU_ISA_SCALAR;
}

bool
hk_cpu_isa_set(hk_cpu_isa isa)
{
    hk_cpu_features f = hk_cpu_features_detect();
    if (!isa_runs_here(isa, &f))
        return false;
    atomic_store(&current_isa, (int)isa);
    return true;
}

hk_cpu_isa
hk_cpu_isa_get(void)
{
    int isa = atomic_load(&current_isa);
    if (isa < 0) {
        /* racing first callers all store the same answer */
        isa = (int)hk_cpu_isa_detect();
        atomic_store(&current_isa, isa);
    }
    return (hk_cpu_isa)isa;
}

const char *
hk_cpu_isa_name(hk_cpu_isa isa)
{
    switch (isa) {
    case HK_CPU_ISA_SCALAR: return "scalar";
    case HK_CPU_ISA_AVX2:   return "avx2";
    case HK_CPU_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

hk_type
hk_cpu_vec_dot_type(hk_type weight)
{
    switch (weight) {
    case HK_TYPE_Q8_0: case HK_TYPE_Q4_0: case HK_TYPE_Q5_0:
        return HK_TYPE_Q8_0;
    case HK_TYPE_Q4_K: case HK_TYPE_Q5_K: case HK_TYPE_Q6_K:
        return HK_TYPE_Q8_K;
    default:
        /* F16 and BF16 weights meet F32 activations: each weight vector
         * is widened once and used for several tokens, while narrowing
         * the activations would cost a conversion per token and lose
         * precision for nothing. */
        return HK_TYPE_F32;
    }
}

size_t
hk_cpu_activation_row_bytes(hk_type weight, int64_t k)
{
    return hk_type_row_bytes(hk_cpu_vec_dot_type(weight), (uint64_t)k);
}

void
hk_cpu_quantize_activation(hk_type weight, const float *x, void *xq, int64_t k)
{
    hk_quantize_row(hk_cpu_vec_dot_type(weight), x, xq, k);
}

bool
hk_cpu_matmul_supports(hk_type weight)
{
    return (int)weight >= 0 && weight < HK_TYPE_COUNT
        && hk_cpu_kernels_scalar.matmul[weight] != NULL;
}

void
hk_cpu_matmul_rows(hk_type weight, const void *w, int64_t k,
                   int64_t r0, int64_t r1,
                   const void *xq, int64_t n_cols,
                   float *y, int64_t y_stride)
{
    size_t w_row_bytes = hk_type_row_bytes(weight, (uint64_t)k);
    if (!hk_cpu_matmul_supports(weight) || w_row_bytes == 0 || r1 <= r0 || n_cols <= 0)
        return;

    hk_matmul_job job = {
        .w = (const uint8_t *)w + r0 * w_row_bytes,
        .w_row_bytes = w_row_bytes,
        .k = k,
        .n_rows = r1 - r0,
        .xq = xq,
        .x_row_bytes = hk_cpu_activation_row_bytes(weight, k),
        .n_cols = n_cols,
        .y = y + r0,
        .y_stride = y_stride,
    };
    hk_matmul_kernel kernel = isa_tables[hk_cpu_isa_get()]->matmul[weight];
    if (!kernel)
        kernel = hk_cpu_kernels_scalar.matmul[weight];
    kernel(&job);
}

void
hk_cpu_dequantize_row(hk_type type, const void *src, float *dst, int64_t k)
{
    hk_dequantize_row(type, src, dst, k);
}
