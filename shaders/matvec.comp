#version 450
/* matvec: y (n, m) = x (n, k) @ w (m, k)^T for a few tokens (the tiled
 * matmul takes more): the generation step's hot spot, bound by reading w.
 *
 * Each group of TPR invocations takes R rows of w and strides along them
 * 32 weights (a unit) at a time, dotting each unit with the token's x,
 * so x is read once for R rows; the TPR partial sums of a row are added
 * up at the end (row-sum.glsl).  A GPU wants TPR lanes reading
 * neighbouring units of one row (a subgroup's worth); a CPU
 * implementation wants TPR 1: no reduction at all.  Tokens go one after
 * the other (a loop, not unrolled code: lavapipe compiles each pipeline on
 * first use, in time that grows with the code).  A row of float weights
 * that is not whole units goes one weight at a time. */
#include "common.glsl"
#include "weights.glsl"

layout(push_constant) uniform Push { hk_shader_matmul p; };

layout(constant_id = 1) const uint TPR = 1;   /* invocations per row, a power of two */
layout(constant_id = 2) const uint R = 2;     /* rows per invocation */

layout(binding = 6) uniform usamplerBuffer X;   /* f32 activations */
layout(binding = 2, std430) writeonly buffer Y { float y[]; };

#include "row-sum.glsl"

/* acc[r] = this invocation's share of row row0 + r . token c's x */
void
dot_rows(uint row0, uint lane, uint c, out float acc[R])
{
    uint k = p.k;
    [[unroll]] for (uint r = 0u; r < R; r++)
        acc[r] = 0.0;
    if (k % 32u == 0u && p.x_off % 4u == 0u) {
        for (uint u = lane; u < k / 32u; u += TPR) {
            uint xq = (p.x_off + c * k + 32u * u) / 4u;
            vec4 xv[8];
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                xv[j] = uintBitsToFloat(texelFetch(X, int(xq + j)));
            [[unroll]] for (uint r = 0u; r < R; r++) {
                vec4 w[8];
                unit32(p.w_row0 + min(row0 + r, p.m - 1u), k, u, w);
                [[unroll]] for (uint j = 0u; j < 8u; j++)
                    acc[r] += dot(w[j], xv[j]);
            }
        }
        return;
    }
    for (uint i = lane; i < k; i += TPR) {
        uint e = p.x_off + c * k + i;
        float xv = uintBitsToFloat(texelFetch(X, int(e / 4u))[e % 4u]);
        [[unroll]] for (uint r = 0u; r < R; r++)
            acc[r] += dequant1(p.w_row0 + min(row0 + r, p.m - 1u), k, i) * xv;
    }
}

void
main()
{
    uint tid = gl_LocalInvocationID.x, group;
    uint lane = row_lane(tid, group);
    uint row0 = (gl_WorkGroupID.x * (WG / TPR) + group) * R;

    /* token by token: w is read again for each, from the cache */
    for (uint c = 0u; c < p.n; c++) {
        float acc[R];
        dot_rows(row0, lane, c, acc);
        row_sum(tid, lane, acc);
        if (lane == 0u)
            [[unroll]] for (uint r = 0u; r < R; r++)
                if (row0 + r < p.m)
                    y[p.y_off + c * p.m + row0 + r] = acc[r];
    }
}
