#version 450
/* intent_conv_backward_w: the weights' gradient of one convolution width,
 * one invocation per element of dW, then one per element of db; only the
 * window that won a filter's max contributes. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_conv p; };

layout(binding = 0, std430) readonly buffer DP { float dp[]; };
layout(binding = 1, std430) readonly buffer Argmax { int argmax[]; };
layout(binding = 2, std430) readonly buffer X { float x[]; };
layout(binding = 3, std430) buffer DW { float dw[]; };
layout(binding = 4, std430) buffer DB { float db[]; };

void
main()
{
    uint i = global_id(), span = p.width * p.dim, n_w = p.n_filters * span;
    if (i >= n_w + p.n_filters)
        return;
    uint k = i < n_w ? i / span : i - n_w;
    int t = argmax[p.argmax_off + k];
    float g = dp[p.pooled_off + k];
    if (t < 0 || g == 0.0)
        return;
    if (i < n_w)
        dw[p.w_off + i] += g * x[p.x_off + uint(t) * p.dim + i % span];
    else
        db[p.b_off + k] += g;
}
