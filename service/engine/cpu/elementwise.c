/* elementwise.c — rms norm, rope, swiglu and add over one row. */
#include "elementwise.h"

#include <math.h>

void
hk_cpu_rms_norm_row(const float *x, const float *w, float eps, float *out, int64_t d)
{
    /* double: a 4096-wide sum of squares loses digits in float */
    double ss = 0.0;
    for (int64_t i = 0; i < d; i++)
        ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / (double)d + eps));
    for (int64_t i = 0; i < d; i++)
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
    for (int64_t i = 0; i < d; i++)
        out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void
hk_cpu_add_row(const float *a, const float *b, float *out, int64_t d)
{
    for (int64_t i = 0; i < d; i++)
        out[i] = a[i] + b[i];
}
