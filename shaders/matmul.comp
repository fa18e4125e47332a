#version 450
/* matmul: y (n, m) = x (n, k) @ w (m, k)^T for a batch of tokens (a
 * prompt): the prompt's hot spot, bound by arithmetic.
 *
 * A workgroup computes a tile of BM rows of w by BN tokens, each
 * invocation TM rows by TN tokens of it, strided ((BM / TM) × (BN / TN)
 * invocations, rows fastest, so neighbours write neighbouring outputs).
 * It walks k a unit of 32 weights at a time:
 *   SHARED (a GPU): the tile's weights, dequantized, and activations go
 *   to shared memory first, so each weight read from memory serves BN
 *   tokens and each activation BM rows;
 *   else (a CPU implementation, whose shared memory is no faster than its
 *   caches): each invocation reads its own rows and tokens.
 * Edges of m and n are bounds-checked; a k that is not whole units (float
 * weights only) goes one weight at a time. */
#include "common.glsl"
#include "weights.glsl"

layout(push_constant) uniform Push { hk_shader_matmul p; };

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
layout(constant_id = 5) const bool SHARED = true;

layout(binding = 6) uniform usamplerBuffer X;   /* f32 activations */
layout(binding = 2, std430) writeonly buffer Y { float y[]; };

shared float ws[SHARED ? 32u : 1u][SHARED ? BM : 1u];   /* [k][row] */
shared float xs[SHARED ? 32u : 1u][SHARED ? BN : 1u];   /* [k][token] */

const uint TR = BM / TM, TC = BN / TN;

float acc[TM][TN];

/* Token t's activations 32u…32u+31, as 8 vec4. */
void
x_unit(uint t, uint u, out vec4 xv[8])
{
    uint q0 = (p.x_off + t * p.k + 32u * u) / 4u;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        xv[j] = uintBitsToFloat(texelFetch(X, int(q0 + j)));
}

void
tiles_in_shared(uint tid, uint tr, uint tc, uint m0, uint n0)
{
    for (uint u = 0u; u < p.k / 32u; u++) {
        for (uint r = tid; r < BM; r += WG) {
            vec4 w[8];
            unit32(p.w_row0 + min(m0 + r, p.m - 1u), p.k, u, w);
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                [[unroll]] for (uint c = 0u; c < 4u; c++)
                    ws[4u * j + c][r] = w[j][c];
        }
        for (uint t = tid; t < BN; t += WG) {
            vec4 xv[8];
            x_unit(min(n0 + t, p.n - 1u), u, xv);
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                [[unroll]] for (uint c = 0u; c < 4u; c++)
                    xs[4u * j + c][t] = xv[j][c];
        }
        barrier();
        for (uint c = 0u; c < 32u; c++) {
            float a[TM], b[TN];
            [[unroll]] for (uint i = 0u; i < TM; i++)
                a[i] = ws[c][tr + i * TR];
            [[unroll]] for (uint j = 0u; j < TN; j++)
                b[j] = xs[c][tc + j * TC];
            [[unroll]] for (uint i = 0u; i < TM; i++)
                [[unroll]] for (uint j = 0u; j < TN; j++)
                    acc[i][j] += a[i] * b[j];
        }
        barrier();
    }
}

void
tiles_in_registers(uint tr, uint tc, uint m0, uint n0)
{
    for (uint u = 0u; u < p.k / 32u; u++) {
        vec4 w[TM][8];
        [[unroll]] for (uint i = 0u; i < TM; i++)
            unit32(p.w_row0 + min(m0 + tr + i * TR, p.m - 1u), p.k, u, w[i]);
        [[unroll]] for (uint j = 0u; j < TN; j++) {
            vec4 xv[8];
            x_unit(min(n0 + tc + j * TC, p.n - 1u), u, xv);
            [[unroll]] for (uint i = 0u; i < TM; i++)
                [[unroll]] for (uint q = 0u; q < 8u; q++)
                    acc[i][j] += dot(w[i][q], xv[q]);
        }
    }
}

void
one_at_a_time(uint tr, uint tc, uint m0, uint n0)
{
    for (uint e = 0u; e < p.k; e++)
        [[unroll]] for (uint i = 0u; i < TM; i++) {
            float w = dequant1(p.w_row0 + min(m0 + tr + i * TR, p.m - 1u), p.k, e);
            [[unroll]] for (uint j = 0u; j < TN; j++) {
                uint at = p.x_off + min(n0 + tc + j * TC, p.n - 1u) * p.k + e;
                acc[i][j] += w * uintBitsToFloat(texelFetch(X, int(at / 4u))[at % 4u]);
            }
        }
}

void
main()
{
    uint tid = gl_LocalInvocationID.x, tr = tid % TR, tc = tid / TR;
    uint m0 = gl_WorkGroupID.x * BM, n0 = gl_WorkGroupID.y * BN;

    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++)
            acc[i][j] = 0.0;

    if (p.k % 32u != 0u || p.x_off % 4u != 0u)
        one_at_a_time(tr, tc, m0, n0);
    else if (SHARED)
        tiles_in_shared(tid, tr, tc, m0, n0);
    else
        tiles_in_registers(tr, tc, m0, n0);

    [[unroll]] for (uint j = 0u; j < TN; j++) {
        uint t = n0 + tc + j * TC;
        [[unroll]] for (uint i = 0u; i < TM; i++) {
            uint row = m0 + tr + i * TR;
            if (t < p.n && row < p.m)
                y[p.y_off + t * p.m + row] = acc[i][j];
        }
    }
}
