#version 450
/* intent_embed: the embedded positions of a text, one invocation per
 * element of x; pad rows are zero (the convolutions' "full" padding). */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_embed p; };

layout(binding = 0, std430) readonly buffer E { float e[]; };
layout(binding = 1, std430) readonly buffer Feats { uint feats[]; };
layout(binding = 2, std430) writeonly buffer X { float x[]; };

void
main()
{
    uint i = global_id();
    if (i >= (p.n_pos + 2u * p.pad) * p.dim)
        return;
    uint row = i / p.dim, j = i % p.dim;
    float sum = 0.0;
    if (row >= p.pad && row < p.pad + p.n_pos) {
        uint a = feats[p.start_off + row - p.pad], b = feats[p.start_off + row - p.pad + 1u];
        for (uint f = a; f < b; f++)
            sum += e[p.e_off + feats[p.ids_off + f] * p.dim + j];
        if (b > a)
            sum /= float(b - a);
    }
    x[p.x_off + i] = sum;
}
