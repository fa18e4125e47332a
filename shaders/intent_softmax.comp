#version 450
/* intent_softmax: out = softmax(in) over a few labels; each invocation
 * finds the maximum and the sum itself (n is tens), so no invocation
 * waits for another. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_vector p; };

layout(binding = 0, std430) readonly buffer In { float x[]; };
layout(binding = 1, std430) writeonly buffer Out { float y[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.n)
        return;
    float m = x[p.in_off];
    for (uint k = 1u; k < p.n; k++)
        m = max(m, x[p.in_off + k]);
    float sum = 0.0;
    for (uint k = 0u; k < p.n; k++)
        sum += exp(x[p.in_off + k] - m);
    y[p.out_off + i] = exp(x[p.in_off + i] - m) / sum;
}
