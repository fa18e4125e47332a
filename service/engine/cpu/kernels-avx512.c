/* The AVX-512 kernels (built with -mavx512f/bw/vl/dq/vnni): the x86
 * kernels with twice the registers, so larger tiles, and the 32-weight
 * blocks' u8·s8 dot products in one vpdpbusd.  They stay 256 bits wide:
 * the integer multiplies that bound the quantized kernels issue half as
 * often at 512 bits, so bytes per cycle would not grow, while the clock
 * may drop. */
#define KERNELS_TABLE hk_cpu_kernels_avx512
#define USE_VNNI      1
#define WIDE_TILES

#include "kernels-x86.h"
