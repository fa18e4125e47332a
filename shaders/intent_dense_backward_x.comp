#version 450
/* intent_dense_backward_x: dh = Wᵀ dy, one invocation per input. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_dense p; };

layout(binding = 0, std430) readonly buffer W { float w[]; };
layout(binding = 1, std430) readonly buffer DY { float dy[]; };
layout(binding = 2, std430) writeonly buffer DH { float dh[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.n_in)
        return;
    float sum = 0.0;
    for (uint o = 0u; o < p.n_out; o++)
        sum += dy[p.y_off + o] * w[p.w_off + o * p.n_in + i];
    dh[p.h_off + i] = sum;
}
