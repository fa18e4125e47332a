/* The AVX2 + FMA + F16C kernels (built with -mavx2 -mfma -mf16c). */
#define KERNELS_TABLE hk_cpu_kernels_avx2
#define USE_VNNI      0

#include "kernels-x86.h"
