/* elementwise.c — rms norm, rope, swiglu and add over one row. */
#include "elementwise.h"

#include <math.h>

/* Loops run in blocks of 16 elements, which the compiler vectorizes (a
 * loop of unknown length it leaves alone at -O2), then a scalar tail. */
#define BLOCK 16

void
hk_cpu_rms_norm_row(const float *x, const float *w, float eps, float *out, int64_t d)
{
    /* sixteen partial sums: vectorized, and a 4096-wide sum in float
     * keeps its digits */
    float part[BLOCK] = { 0 };
    int64_t i = 0;
    for (; i + BLOCK <= d; i += BLOCK)
        for (int j = 0; j < BLOCK; j++)
            part[j] += x[i + j] * x[i + j];
    double ss = 0.0;
    for (; i < d; i++)
        ss += (double)x[i] * x[i];
    for (int j = 0; j < BLOCK; j++)
        ss += part[j];
    float scale = (float)(1.0 / sqrt(ss / (double)d + eps));

    for (i = 0; i + BLOCK <= d; i += BLOCK) {
        float r[BLOCK];   /* read before writing: out may be x */
        for (int j = 0; j < BLOCK; j++)
            r[j] = x[i + j] * scale * w[i + j];
        for (int j = 0; j < BLOCK; j++)
            out[i + j] = r[j];
    }
    for (; i < d; i++)
        out[i] = x[i] * scale * w[i];
}

void
hk_cpu_rope_row(float *x, int64_t pos, const hk_cpu_rope *r)
{
    int32_t half = r->n_rot / 2;
    /* neox rotates (i, i + half), the original layout (2i, 2i + 1) */
    int32_t stride = r->neox ? 1 : 2;
    int32_t other = r->neox ? half : 1;

    for (int32_t i = 0; i < half; i++) {
        float theta = (float)pos * r->freq_scale *
                      powf(r->freq_base, -2.0f * (float)i / (float)r->n_rot);
        if (r->freq_factors)
            theta /= r->freq_factors[i];
        float c = cosf(theta), s = sinf(theta);
        for (int32_t h = 0; h < r->n_heads; h++) {
            float *p = x + (int64_t)h * r->head_dim + (int64_t)i * stride;
            float x0 = p[0], x1 = p[other];
            p[0]     = x0 * c - x1 * s;
            p[other] = x0 * s + x1 * c;
        }
    }
}

void
hk_cpu_swiglu_row(const float *gate, const float *up, float *out, int64_t d)
{
    int64_t i = 0;
    for (; i + BLOCK <= d; i += BLOCK) {
        float r[BLOCK];   /* read before writing: out may be gate */
        for (int j = 0; j < BLOCK; j++)
            r[j] = gate[i + j] / (1.0f + hk_cpu_exp(-gate[i + j])) * up[i + j];
        for (int j = 0; j < BLOCK; j++)
            out[i + j] = r[j];
    }
    for (; i < d; i++)
        out[i] = gate[i] / (1.0f + hk_cpu_exp(-gate[i])) * up[i];
}

void
hk_cpu_add_row(const float *a, const float *b, float *out, int64_t d)
{
    for (int64_t i = 0; i < d; i++)
        out[i] = a[i] + b[i];
}
