/* The AVX-512 kernels' code — wide tiles, eight-pair groups, the VNNI form
 * of the 32-weight-block dot products — built for AVX2 with vpdpbusd
 * emulated exactly, so that test-matmul checks it on a CPU without
 * AVX-512 too.  Only that one instruction is left to a CPU that has it. */
#if defined(__x86_64__)

#define KERNELS_TABLE hk_test_kernels_wide_on_avx2
#define USE_VNNI      2
#define WIDE_TILES
#define KERNEL_TARGET __attribute__((target("avx2,fma,f16c")))

#include "cpu/kernels-x86.h"

#endif
