#version 450
/* rope: rotate pairs of each head of x (n, n_heads * head_dim) in place by
 * the angles of row t of the table (n, n_rot / 2) of (cos, sin).  Pairs are
 * (2i, 2i + 1), or (i, i + n_rot / 2) for neox.  One invocation per pair of
 * one head of one token. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_rope p; };

layout(binding = 0, std430) buffer X { float x[]; };
layout(binding = 1, std430) readonly buffer Table { vec2 table[]; };

void
main()
{
    uint half_rot = p.n_rot / 2u;
    uint id = global_id();
    if (id >= p.n * p.n_heads * half_rot)
        return;
    uint i = id % half_rot, h = id / half_rot % p.n_heads, t = id / half_rot / p.n_heads;

    vec2 cs = table[p.table_off + t * half_rot + i];
    uint at = p.x_off + (t * p.n_heads + h) * p.head_dim;
    uint i0 = at + (p.neox != 0u ? i : 2u * i);
    uint i1 = i0 + (p.neox != 0u ? half_rot : 1u);
    float x0 = x[i0], x1 = x[i1];
    x[i0] = x0 * cs.x - x1 * cs.y;
    x[i1] = x0 * cs.y + x1 * cs.x;
}
