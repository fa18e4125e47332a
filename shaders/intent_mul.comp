#version 450
/* intent_mul: out *= in, element by element (dropout's mask, forward and
 * backward). */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_vector p; };

layout(binding = 0, std430) readonly buffer In { float mask[]; };
layout(binding = 1, std430) buffer Out { float y[]; };

void
main()
{
    uint i = global_id();
    if (i < p.n)
        y[p.out_off + i] *= mask[p.in_off + i];
}
