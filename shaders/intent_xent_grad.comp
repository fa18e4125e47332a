#version 450
/* intent_xent_grad: the cross-entropy's gradient with respect to the
 * logits, scale (probs - onehot(label)). */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_vector p; };

layout(binding = 0, std430) readonly buffer In { float probs[]; };
layout(binding = 1, std430) writeonly buffer Out { float d[]; };

void
main()
{
    uint i = global_id();
    if (i < p.n)
        d[p.out_off + i] = p.scale * (probs[p.in_off + i] - (i == p.label ? 1.0 : 0.0));
}
