#version 450
/* matvec: y (n, m) = x (n, k) @ w (m, k)^T for a few tokens (n ≤
 * MAX_COLS): the generation step's hot spot, bound by reading w.
 *
 * Each group of TPR invocations takes R rows of w and strides along them
 * 32 weights (a unit) at a time, dotting each unit with every token's x,
 * so w is read once for all the tokens and x once for R rows; the TPR
 * partial sums of a row meet in a shared-memory tree.  A GPU wants TPR
 * neighbours reading neighbouring units of one row (a subgroup's worth);
 * a CPU implementation wants TPR 1: no reduction at all.  A row of float
 * weights that is not whole units goes one weight at a time. */
#include "common.glsl"
#include "weights.glsl"

layout(push_constant) uniform Push { hk_shader_matmul p; };

layout(constant_id = 1) const uint TPR = 1;   /* invocations per row, a power of two */
layout(constant_id = 2) const uint R = 2;     /* rows per invocation */

#define MAX_COLS 8u

layout(binding = 6) uniform usamplerBuffer X;   /* f32 activations */
layout(binding = 2, std430) writeonly buffer Y { float y[]; };

shared float partial[TPR > 1u ? WG * R * MAX_COLS : 1u];

void
main()
{
    uint tid = gl_LocalInvocationID.x, lane = tid % TPR;
    uint row0 = (gl_WorkGroupID.x * (WG / TPR) + tid / TPR) * R;
    uint n = p.n, k = p.k;

    float acc[R][MAX_COLS];
    [[unroll]] for (uint r = 0u; r < R; r++)
        [[unroll]] for (uint c = 0u; c < MAX_COLS; c++)
            acc[r][c] = 0.0;

    if (k % 32u == 0u && p.x_off % 4u == 0u) {
        for (uint u = lane; u < k / 32u; u += TPR) {
            vec4 w[R][8];
            [[unroll]] for (uint r = 0u; r < R; r++)
                unit32(p.w_row0 + min(row0 + r, p.m - 1u), k, u, w[r]);
            [[unroll]] for (uint c = 0u; c < MAX_COLS; c++) {
                if (c >= n)
                    break;
                uint xq = (p.x_off + c * k + 32u * u) / 4u;
                [[unroll]] for (uint j = 0u; j < 8u; j++) {
                    vec4 xv = uintBitsToFloat(texelFetch(X, int(xq + j)));
                    [[unroll]] for (uint r = 0u; r < R; r++)
                        acc[r][c] += dot(w[r][j], xv);
                }
            }
        }
    } else {
        for (uint i = lane; i < k; i += TPR)
            [[unroll]] for (uint r = 0u; r < R; r++) {
                float w = dequant1(p.w_row0 + min(row0 + r, p.m - 1u), k, i);
                [[unroll]] for (uint c = 0u; c < MAX_COLS; c++) {
                    uint e = p.x_off + c * k + i;
                    if (c < n)
                        acc[r][c] += w * uintBitsToFloat(texelFetch(X, int(e / 4u))[e % 4u]);
                }
            }
    }

    if (TPR > 1u) {
        [[unroll]] for (uint r = 0u; r < R; r++)
            [[unroll]] for (uint c = 0u; c < MAX_COLS; c++)
                partial[(r * MAX_COLS + c) * WG + tid] = acc[r][c];
        barrier();
        for (uint s = TPR / 2u; s > 0u; s /= 2u) {
            if (lane < s)
                for (uint i = 0u; i < R * MAX_COLS; i++)
                    partial[i * WG + tid] += partial[i * WG + tid + s];
            barrier();
        }
        [[unroll]] for (uint r = 0u; r < R; r++)
            [[unroll]] for (uint c = 0u; c < MAX_COLS; c++)
                acc[r][c] = partial[(r * MAX_COLS + c) * WG + tid];
    }

    if (lane == 0u)
        [[unroll]] for (uint r = 0u; r < R; r++)
            [[unroll]] for (uint c = 0u; c < MAX_COLS; c++)
                if (c < n && row0 + r < p.m)
                    y[p.y_off + c * p.m + row0 + r] = acc[r][c];
}
