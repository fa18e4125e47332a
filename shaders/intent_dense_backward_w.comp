#version 450
/* intent_dense_backward_w: dW += dy ⊗ h, then db += dy; one invocation
 * per element of dW, then one per element of db. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_dense p; };

layout(binding = 0, std430) readonly buffer H { float h[]; };
layout(binding = 1, std430) readonly buffer DY { float dy[]; };
layout(binding = 2, std430) buffer DW { float dw[]; };
layout(binding = 3, std430) buffer DB { float db[]; };

void
main()
{
    uint i = global_id(), n_w = p.n_out * p.n_in;
    if (i < n_w)
        dw[p.w_off + i] += dy[p.y_off + i / p.n_in] * h[p.h_off + i % p.n_in];
    else if (i < n_w + p.n_out)
        db[p.b_off + i - n_w] += dy[p.y_off + i - n_w];
}
