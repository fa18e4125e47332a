#version 450
/* matmul_q8: matmul.comp's tiles in shared memory for a quantized w,
 * multiplying bytes (dot8.glsl): per unit of 32, the tile's weights go to
 * shared memory as bytes with their scales and offsets, its tokens'
 * activations as quantize_q8's blocks, and each invocation's TM x TN
 * outputs take eight dot products of packed bytes each, where the float
 * kernel does 32 multiply-adds. */
#include "common.glsl"
#include "weights.glsl"
#include "dot8.glsl"

layout(push_constant) uniform Push { hk_shader_matmul p; };

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;

layout(binding = 2, std430) writeonly buffer Y { float y[]; };

shared uvec4 wq_s[2][BM];
shared vec4 wso_s[BM];
shared uvec4 xq_s[2][BN];
shared vec3 xmeta_s[BN];

const uint TR = BM / TM, TC = BN / TN;

void
main()
{
    uint tid = gl_LocalInvocationID.x, tr = tid % TR, tc = tid / TR;
    uint m0 = gl_WorkGroupID.x * BM, n0 = gl_WorkGroupID.y * BN, units = p.k / 32u;

    float acc[TM][TN];
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++)
            acc[i][j] = 0.0;

    for (uint u = 0u; u < units; u++) {
        for (uint r = tid; r < BM; r += WG) {
            uvec4 q[2];
            vec4 so;
            unit32_q8(p.w_row0 + min(m0 + r, p.m - 1u), p.k, u, q, so);
            wq_s[0][r] = q[0];
            wq_s[1][r] = q[1];
            wso_s[r] = so;
        }
        for (uint t = tid; t < BN; t += WG) {
            uvec4 a[2];
            vec3 meta;
            x8_block(min(n0 + t, p.n - 1u) * units + u, a, meta);
            xq_s[0][t] = a[0];
            xq_s[1][t] = a[1];
            xmeta_s[t] = meta;
        }
        barrier();
        [[unroll]] for (uint i = 0u; i < TM; i++) {
            uint r = tr + i * TR;
            uvec4 q[2] = uvec4[2](wq_s[0][r], wq_s[1][r]);
            vec4 so = wso_s[r];
            [[unroll]] for (uint j = 0u; j < TN; j++) {
                uint t = tc + j * TC;
                uvec4 a[2] = uvec4[2](xq_s[0][t], xq_s[1][t]);
                acc[i][j] += dot_unit8(q, so, a, xmeta_s[t]);
            }
        }
        barrier();
    }

    [[unroll]] for (uint j = 0u; j < TN; j++) {
        uint t = n0 + tc + j * TC;
        [[unroll]] for (uint i = 0u; i < TM; i++) {
            uint row = m0 + tr + i * TR;
            if (t < p.n && row < p.m)
                y[p.y_off + t * p.m + row] = acc[i][j];
        }
    }
}
