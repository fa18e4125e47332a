#version 450
/* intent_conv_pool: one convolution width with ReLU and max pooling over
 * the windows, one invocation per filter; the first window wins a tie,
 * as on the CPU. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_conv p; };

layout(binding = 0, std430) readonly buffer X { float x[]; };
layout(binding = 1, std430) readonly buffer W { float w[]; };
layout(binding = 2, std430) readonly buffer B { float b[]; };
layout(binding = 3, std430) writeonly buffer Pooled { float pooled[]; };
layout(binding = 4, std430) writeonly buffer Argmax { int argmax[]; };

void
main()
{
    uint k = global_id();
    if (k >= p.n_filters)
        return;
    uint span = p.width * p.dim, wk = p.w_off + k * span;
    float best = 0.0;
    int best_t = -1;
    for (uint t = 0u; t + p.width <= p.n_pos; t++) {
        uint xt = p.x_off + t * p.dim;
        float pre = 0.0;
        for (uint s = 0u; s < span; s++)
            pre += w[wk + s] * x[xt + s];
        pre += b[p.b_off + k];
        if (pre > best) {
            best = pre;
            best_t = int(t);
        }
    }
    pooled[p.pooled_off + k] = best;
    argmax[p.argmax_off + k] = best_t;
}
