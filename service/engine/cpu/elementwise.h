/* elementwise.h — the CPU's small per-row ops.
 *
 * Plain loops the compiler vectorizes; none of them is a hot spot (the
 * matmuls are).  Each works on one row (one token) so that the backend can
 * split a batch by rows between threads.
 */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* e^x with no branch, so that a loop calling it vectorizes: 2^t, t = x
 * log2 e clamped to [-126, 127], as 2^n in the exponent bits times 2^f
 * (|f| ≤ 1/2) by its Taylor polynomial.  Relative error under 1e-5; below
 * e^-87 the result is ~1e-38 rather than 0, above e^88 about 3e38. */
static inline float
hk_cpu_exp(float x)
{
    float t = x * 1.44269504f;
    float lo = t + 126.0f, hi;
    t = 0.5f * (lo + fabsf(lo)) - 126.0f;       /* max(t, -126), exact for the clamped */
    hi = 127.0f - t;
    t = 127.0f - 0.5f * (hi + fabsf(hi));       /* min(t, 127) */
    float n = (t + 12582912.0f) - 12582912.0f;  /* round to nearest: 1.5 * 2^23 */
    float f = t - n;
    float p = 1.5403530e-4f;
    p = p * f + 1.3333558e-3f;
    p = p * f + 9.6181291e-3f;
    p = p * f + 5.5504109e-2f;
    p = p * f + 2.4022651e-1f;
    p = p * f + 6.9314718e-1f;
    p = p * f + 1.0f;
    union { float f; uint32_t u; } bits = { .f = p };
    bits.u += (uint32_t)(int32_t)n << 23;
    return bits.f;
}

/* out (d,) = x (d,) / sqrt(mean(x²) + eps) * w (d,); out may be x. */
void hk_cpu_rms_norm_row(const float *x, const float *w, float eps, float *out, int64_t d);

/* Rotate the first n_rot dims of each of n_heads heads of head_dim in x,
 * for position pos: pair i turns by pos * freq_scale * base^(-2i/n_rot)
 * / freq_factors[i] (freq_factors may be NULL).  Pairs are (2i, 2i+1), or
 * (i, i + n_rot/2) when neox. */
typedef struct hk_cpu_rope {
    int32_t      n_heads;
    int32_t      head_dim;
    int32_t      n_rot;
    float        freq_base;
    float        freq_scale;
    bool         neox;
    const float *freq_factors;   /* (n_rot / 2,) or NULL */
} hk_cpu_rope;

void hk_cpu_rope_row(float *x, int64_t pos, const hk_cpu_rope *r);

/* out (d,) = silu(gate) * up = gate / (1 + e^-gate) * up; out may be gate. */
void hk_cpu_swiglu_row(const float *gate, const float *up, float *out, int64_t d);

/* out (d,) = a + b; out may be a or b. */
void hk_cpu_add_row(const float *a, const float *b, float *out, int64_t d);
