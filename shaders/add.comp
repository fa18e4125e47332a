#version 450
/* add: out (n, d) = a (n, d) + b; b is (n, d), or a bias (1, d) added to
 * every row.  One invocation per element.  out may be a or b. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_add p; };

layout(binding = 0, std430) readonly buffer A { float a[]; };
layout(binding = 1, std430) readonly buffer B { float b[]; };
layout(binding = 2, std430) writeonly buffer Out { float o[]; };

void
main()
{
    uint i = global_id();
    if (i >= p.total)
        return;
    uint bi = p.b_is_bias != 0u ? i % p.d : i;
    o[p.out_off + i] = a[p.a_off + i] + b[p.b_off + bi];
}
