/* The vector extensions of this CPU, from CPUID, and whether the OS saves
 * their registers on a context switch (XGETBV): a CPU can have AVX-512
 * that the kernel has not enabled. */
#include "kernels.h"

#if defined(__x86_64__)

#include <cpuid.h>

#define XCR0_AVX    0x06u   /* XMM and YMM state */
#define XCR0_AVX512 0xe6u   /* the above, opmask and ZMM state */

static uint64_t
read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

hk_cpu_features
hk_cpu_features_detect(void)
{
    hk_cpu_features f = { 0 };
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d))
        return f;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    if (!osxsave || !avx)
        return f;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & XCR0_AVX) != XCR0_AVX)
        return f;
    f.fma = c & (1u << 12);
    f.f16c = c & (1u << 29);

    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return f;
    f.avx2 = b & (1u << 5);
    if ((xcr0 & XCR0_AVX512) == XCR0_AVX512) {
        f.avx512f = b & (1u << 16);
        f.avx512dq = b & (1u << 17);
        f.avx512bw = b & (1u << 30);
        f.avx512vl = b & (1u << 31);
        f.avx512vnni = c & (1u << 11);
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d))
            f.avx512bf16 = a & (1u << 5);
    }
    return f;
}

#else

hk_cpu_features
hk_cpu_features_detect(void)
{
    return (hk_cpu_features){ 0 };
}

#endif
