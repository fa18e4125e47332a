#version 450
/* intent_embed_backward: the gradient of each embedding row a batch
 * touched, gathered (one invocation per element of a row) from the rows of
 * dx that used it, in the order the CPU adds them; no atomics, so the
 * result is deterministic. */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_embed_backward p; };

layout(binding = 0, std430) readonly buffer DX { float dx[]; };
layout(binding = 1, std430) readonly buffer Plan { uint plan[]; };
layout(binding = 2, std430) writeonly buffer G { float g[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.n_rows * p.dim)
        return;
    uint r = i / p.dim, j = i % p.dim;
    float sum = 0.0;
    for (uint k = plan[p.start_off + r]; k < plan[p.start_off + r + 1u]; k++) {
        uint at = p.entry_off + 2u * k;
        sum += uintBitsToFloat(plan[at + 1u]) * dx[p.dx_off + plan[at] * p.dim + j];
    }
    g[p.grad_off + i] = sum;
}
