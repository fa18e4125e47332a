#version 450
/* get_rows: out (n, ne0) F32 = the rows ids[0…n) of a table of any weight
 * type (the token embeddings).  One invocation per unit of 32 weights of a
 * row; a row of float weights that is not whole units goes one weight per
 * invocation. */
#include "common.glsl"
#include "weights.glsl"

layout(push_constant) uniform Push { hk_shader_get_rows p; };

layout(binding = 1, std430) readonly buffer Ids { uint ids[]; };
layout(binding = 2, std430) writeonly buffer Out { float o[]; };

void
main()
{
    bool units = p.ne0 % 32u == 0u;
    uint per_row = units ? p.ne0 / 32u : p.ne0;
    uint id = global_id();
    if (id >= p.n * per_row)
        return;
    uint t = id / per_row, i = id % per_row;
    uint row = p.table_row0 + ids[p.ids_off + t];
    uint dst = p.out_off + t * p.ne0;
    if (!units) {
        o[dst + i] = dequant1(row, p.ne0, i);
        return;
    }
    vec4 w[8];
    unit32(row, p.ne0, i, w);
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        [[unroll]] for (uint c = 0u; c < 4u; c++)
            o[dst + 32u * i + 4u * j + c] = w[j][c];
}
