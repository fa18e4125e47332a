#version 450
/* quantize_q8: activations rounded to 8 bits per block of 32, each block
 * scaled by its largest magnitude, for the kernels that multiply bytes
 * (dot8.glsl); the layout is params.h's.  An invocation a block: the
 * blocks of a token are few next to the weights they meet. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_quantize_q8 p; };

layout(binding = 0, std430) readonly buffer X { float x[]; };
layout(binding = 2, std430) writeonly buffer Blocks { uvec4 blocks[]; };

void
main()
{
    uint b = global_id(), units = p.k / 32u;
    if (b >= p.n * units)
        return;
    uint at = p.x_off + b / units * p.k + b % units * 32u;

    float v[32], amax = 0.0;
    [[unroll]] for (uint i = 0u; i < 32u; i++) {
        v[i] = x[at + i];
        amax = max(amax, abs(v[i]));
    }
    float d = amax / 127.0, inv = d > 0.0 ? 1.0 / d : 0.0;
    uint words[8];
    int sums[2] = int[2](0, 0);
    [[unroll]] for (uint w = 0u; w < 8u; w++) {
        words[w] = 0u;
        [[unroll]] for (uint c = 0u; c < 4u; c++) {
            int q = int(round(v[4u * w + c] * inv));
            words[w] |= (uint(q) & 0xFFu) << (8u * c);
            sums[w / 4u] += q;
        }
    }
    blocks[3u * b] = uvec4(words[0], words[1], words[2], words[3]);
    blocks[3u * b + 1u] = uvec4(words[4], words[5], words[6], words[7]);
    blocks[3u * b + 2u] = uvec4(floatBitsToUint(d), uint(sums[0]), uint(sums[1]), 0u);
}
