#version 450
/* attention_merge: the parts attention wrote for the chunks of a long
 * cache, added up as one softmax: each part's sum and weighted values
 * rescaled from its own maximum to the largest, then divided by the
 * total.  An invocation an output; a chunk the token did not reach has
 * the maximum -inf and weighs nothing. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_attention_merge p; };

layout(binding = 0, std430) readonly buffer Parts { float parts[]; };
layout(binding = 3, std430) writeonly buffer Out { float o[]; };

#define NEG_INF uintBitsToFloat(0xFF800000u)

void
main()
{
    uint id = global_id(), hd = p.head_dim;
    if (id >= p.n * p.n_head * hd)
        return;
    uint d = id % hd, head_row = id / hd;   /* head_row: t * n_head + h */
    uint first = head_row * p.n_chunks * (hd + 2u);

    float largest = NEG_INF;
    for (uint c = 0u; c < p.n_chunks; c++)
        largest = max(largest, parts[first + c * (hd + 2u)]);
    float total = 0.0, value = 0.0;
    for (uint c = 0u; c < p.n_chunks; c++) {
        uint part = first + c * (hd + 2u);
        float w = exp(parts[part] - largest);
        total += parts[part + 1u] * w;
        value += parts[part + 2u + d] * w;
    }
    o[p.out_off + head_row * hd + d] = value / total;
}
