/* elementwise.h — the CPU's small per-row ops.
 *
 * Plain loops the compiler vectorizes; none of them is a hot spot (the
 * matmuls are).  Each works on one row (one token) so that the backend can
 * split a batch by rows between threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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
