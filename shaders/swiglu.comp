#version 450
/* swiglu: out = silu(gate) * up = gate / (1 + e^-gate) * up, elementwise.
 * out may be gate. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_swiglu p; };

layout(binding = 0, std430) readonly buffer Gate { float gate[]; };
layout(binding = 1, std430) readonly buffer Up { float up[]; };
layout(binding = 2, std430) writeonly buffer Out { float o[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.total)
        return;
    float g = gate[p.gate_off + i];
    o[p.out_off + i] = g / (1.0 + exp(-g)) * up[p.up_off + i];
}
