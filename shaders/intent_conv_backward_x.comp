#version 450
/* intent_conv_backward_x: the input's gradient of one convolution width,
 * one invocation per element of dx gathering the filters whose winning
 * window covers it, in filter order as the CPU adds them (filters may win
 * the same window, so scattering would need atomics). */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_conv p; };

layout(binding = 0, std430) readonly buffer DP { float dp[]; };
layout(binding = 1, std430) readonly buffer Argmax { int argmax[]; };
layout(binding = 2, std430) readonly buffer W { float w[]; };
layout(binding = 3, std430) buffer DX { float dx[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.n_pos * p.dim)
        return;
    int row = int(i / p.dim);
    uint j = i % p.dim, span = p.width * p.dim;
    float sum = dx[p.x_off + i];
    for (uint k = 0u; k < p.n_filters; k++) {
        int t = argmax[p.argmax_off + k];
        float g = dp[p.pooled_off + k];
        if (t < 0 || g == 0.0 || row < t || row >= t + int(p.width))
            continue;
        sum += g * w[p.w_off + k * span + uint(row - t) * p.dim + j];
    }
    dx[p.x_off + i] = sum;
}
