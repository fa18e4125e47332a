#version 450
/* matvec_q8: matvec.comp for a quantized w, multiplying bytes: x comes as
 * quantize_q8's blocks and each unit of w meets its block in the integer
 * dot product (dot8.glsl).  The device's dot product of packed bytes does
 * four products an instruction; the float kernel first turns each weight
 * into a float.  Rows are shared among TPR invocations as in matvec.comp. */
#include "common.glsl"
#include "weights.glsl"
#include "dot8.glsl"

layout(push_constant) uniform Push { hk_shader_matmul p; };

layout(constant_id = 1) const uint TPR = 1;   /* invocations per row, a power of two */
layout(constant_id = 2) const uint R = 2;     /* rows per invocation */

layout(binding = 2, std430) writeonly buffer Y { float y[]; };

#include "row-sum.glsl"

void
main()
{
    uint tid = gl_LocalInvocationID.x, group, units = p.k / 32u;
    uint lane = row_lane(tid, group);
    uint row0 = (gl_WorkGroupID.x * (WG / TPR) + group) * R;

    for (uint c = 0u; c < p.n; c++) {
        float acc[R];
        [[unroll]] for (uint r = 0u; r < R; r++)
            acc[r] = 0.0;
        for (uint u = lane; u < units; u += TPR) {
            uvec4 a[2];
            vec3 meta;
            x8_block(c * units + u, a, meta);
            [[unroll]] for (uint r = 0u; r < R; r++) {
                uvec4 q[2];
                vec4 so;
                unit32_q8(p.w_row0 + min(row0 + r, p.m - 1u), p.k, u, q, so);
                acc[r] += dot_unit8(q, so, a, meta);
            }
        }
        row_sum(tid, lane, acc);
        if (lane == 0u)
            [[unroll]] for (uint r = 0u; r < R; r++)
                if (row0 + r < p.m)
                    y[p.y_off + c * p.m + row0 + r] = acc[r];
    }
}
