/* hk-rng.h — the tests' random numbers: splitmix64, so a seed gives the
 * same data on every machine and every run. */
#pragma once

#include <math.h>
#include <stdint.h>

/* The seed; a test sets it before drawing. */
static uint64_t hk_rng_state;

/* Uniform in [0, 1). */
static inline double
hk_rng_uniform(void)
{
    hk_rng_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = hk_rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

/* Standard normal, by Box-Muller. */
static inline float
hk_rng_normal(void)
{
    double u = hk_rng_uniform() + 1e-12, v = hk_rng_uniform();
    return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}
