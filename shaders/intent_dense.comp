#version 450
/* intent_dense: y = W h + b, one invocation per output. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_dense p; };

layout(binding = 0, std430) readonly buffer W { float w[]; };
layout(binding = 1, std430) readonly buffer B { float b[]; };
layout(binding = 2, std430) readonly buffer H { float h[]; };
layout(binding = 3, std430) writeonly buffer Y { float y[]; };

void
main()
{
    uint o = global_id();
    if (o >= p.n_out)
        return;
    float sum = 0.0;
    for (uint i = 0u; i < p.n_in; i++)
        sum += w[p.w_off + o * p.n_in + i] * h[p.h_off + i];
    y[p.y_off + o] = b[p.b_off + o] + sum;
}
