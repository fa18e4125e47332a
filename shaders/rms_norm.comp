#version 450
/* rms_norm: out (n, d) = x / sqrt(mean(x²) + eps) * w, per row.
 * One workgroup per row: a strided sum of squares, a tree reduction in
 * shared memory, then the scaled row.  out may be x: every read of the
 * row is done before the barrier that precedes the writes. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_rms_norm p; };

layout(binding = 0, std430) readonly buffer X { float x[]; };
layout(binding = 1, std430) readonly buffer W { float w[]; };
layout(binding = 2, std430) writeonly buffer Out { float o[]; };

shared float partial[WG];

void
main()
{
    uint row = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    uint xr = p.x_off + row * p.d, orow = p.out_off + row * p.d;

    float ss = 0.0;
    for (uint i = tid; i < p.d; i += WG)
        ss += x[xr + i] * x[xr + i];
    partial[tid] = ss;
    barrier();
    for (uint s = WG / 2u; s > 0u; s /= 2u) {
        if (tid < s)
            partial[tid] += partial[tid + s];
        barrier();
    }
    float scale = inversesqrt(partial[0] / float(p.d) + p.eps);

    for (uint i = tid; i < p.d; i += WG)
        o[orow + i] = x[xr + i] * scale * w[p.w_off + i];
}
