#version 450
/* attention: out (n, n_head * head_dim) = softmax(q k^T * scale + causal
 * mask) v over the F16 KV cache, for q (n, n_head * head_dim).  Token t
 * sees positions 0…pos0+t; query head h reads kv head h / (n_head /
 * n_head_kv).
 *
 * The cache is walked a block of positions at a time with a running
 * softmax (maximum and sum corrected as blocks come), so nothing grows
 * with the context: a block's scores are one dot product per position
 * along a key row, and the values, stored transposed per block, one dot
 * product per dimension along a row of the block.  Two ways to share the
 * work:
 *   a GPU: a workgroup per (query head, token), walking blocks of
 *   HK_SHADER_KV_BLOCK positions, its invocations sharing the query and
 *   the block's probabilities in shared memory; when the tokens are few
 *   and the cache long, a workgroup per chunk of positions as well, each
 *   writing its part of the softmax for attention_merge, so that a long
 *   cache is read by many workgroups at once;
 *   a CPU implementation (PER_INVOCATION), whose shared memory and
 *   barriers are slow: an invocation per (query head, token), walking
 *   blocks of 8 positions with the query and the sums in registers. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_attention p; };

/* The largest head size the arrays hold, a multiple of 8. */
layout(constant_id = 1) const uint MAX_HEAD_DIM = 256;
layout(constant_id = 2) const bool PER_INVOCATION = false;

/* Quads: 4 floats of q, 8 halves of the caches (head_dim % 8 == 0). */
layout(binding = 5) uniform usamplerBuffer Q;
layout(binding = 6) uniform usamplerBuffer KCache;
layout(binding = 7) uniform usamplerBuffer VCache;
layout(binding = 3, std430) writeonly buffer Out { float o[]; };
layout(binding = 4, std430) writeonly buffer Parts { float parts[]; };

#define BLOCK HK_SHADER_KV_BLOCK

shared float qs[PER_INVOCATION ? 1u : MAX_HEAD_DIM];    /* the query, scaled */
shared float acc[PER_INVOCATION ? 1u : MAX_HEAD_DIM];   /* the weighted values so far */
shared float probs[PER_INVOCATION ? 1u : BLOCK];        /* scores, then weights, of a block */

#define NEG_INF uintBitsToFloat(0xFF800000u)

float
q_at(uint i)
{
    return uintBitsToFloat(texelFetch(Q, int(i / 4u))[i % 4u]);
}

/* 8 halves as two vec4. */
void
halves(uvec4 v, out vec4 lo, out vec4 hi)
{
    lo = vec4(unpackHalf2x16(v.x), unpackHalf2x16(v.y));
    hi = vec4(unpackHalf2x16(v.z), unpackHalf2x16(v.w));
}

void
query_per_invocation()
{
    const uint Q8 = MAX_HEAD_DIM / 8u;
    uint id = global_id();
    if (id >= p.n * p.n_head)
        return;
    uint h = id % p.n_head, t = id / p.n_head;
    uint hd = p.head_dim, g = h / (p.n_head / p.n_head_kv);
    uint row = t * p.n_head * hd + h * hd;
    uint n_pos = p.pos0 + t + 1u;
    uint k_head = (p.kc_off + g * p.n_slots * hd) / 8u;
    uint v_head = (p.vc_off + g * p.n_slots * hd) / 8u;

    /* the query, scaled, and the weighted values, 8 dimensions a pair */
    vec4 query[Q8][2], weighted[Q8][2];
    [[unroll]] for (uint i = 0u; i < Q8; i++) {
        uint at = p.q_off + row + 8u * min(i, hd / 8u - 1u);
        query[i][0] = vec4(q_at(at), q_at(at + 1u), q_at(at + 2u), q_at(at + 3u)) * p.scale;
        query[i][1] = vec4(q_at(at + 4u), q_at(at + 5u), q_at(at + 6u), q_at(at + 7u)) * p.scale;
        weighted[i][0] = weighted[i][1] = vec4(0.0);
    }

    float max_so_far = NEG_INF, sum = 0.0;
    for (uint p0 = 0u; p0 < n_pos; p0 += 8u) {
        /* the scores of positions p0…p0+7, -inf past the mask */
        float s[8];
        float block_max = max_so_far;
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            uint kr = k_head + (p0 + j) * hd / 8u;
            float d = 0.0;
            [[unroll]] for (uint i = 0u; i < Q8; i++) {
                if (i < hd / 8u) {
                    vec4 lo, hi;
                    halves(texelFetch(KCache, int(kr + i)), lo, hi);
                    d += dot(query[i][0], lo) + dot(query[i][1], hi);
                }
            }
            s[j] = p0 + j < n_pos ? d : NEG_INF;
            block_max = max(block_max, s[j]);
        }
        /* e^(old max - new max): 0 the first time, when all is 0 */
        float c = exp(max_so_far - block_max);
        max_so_far = block_max;
        vec4 w0 = exp(vec4(s[0], s[1], s[2], s[3]) - block_max);
        vec4 w1 = exp(vec4(s[4], s[5], s[6], s[7]) - block_max);
        sum = sum * c + dot(w0, vec4(1.0)) + dot(w1, vec4(1.0));

        /* the values of the 8 positions: one quad per dimension */
        uint vb = v_head + (p0 / BLOCK * BLOCK) * hd / 8u + p0 % BLOCK / 8u;
        [[unroll]] for (uint i = 0u; i < Q8; i++) {
            if (i < hd / 8u) {
                float v[8];
                [[unroll]] for (uint e = 0u; e < 8u; e++) {
                    vec4 lo, hi;
                    halves(texelFetch(VCache, int(vb + (8u * i + e) * (BLOCK / 8u))), lo, hi);
                    v[e] = dot(w0, lo) + dot(w1, hi);
                }
                weighted[i][0] = weighted[i][0] * c + vec4(v[0], v[1], v[2], v[3]);
                weighted[i][1] = weighted[i][1] * c + vec4(v[4], v[5], v[6], v[7]);
            }
        }
    }

    [[unroll]] for (uint i = 0u; i < Q8; i++)
        if (i < hd / 8u)
            [[unroll]] for (uint e = 0u; e < 8u; e++)
                o[p.out_off + row + 8u * i + e] = weighted[i][e / 4u][e % 4u] / sum;
}

void
query_per_workgroup()
{
    uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y / p.n_chunks, tid = gl_LocalInvocationID.x;
    uint chunk = gl_WorkGroupID.y % p.n_chunks;
    uint hd = p.head_dim, g = h / (p.n_head / p.n_head_kv);
    uint row = t * p.n_head * hd + h * hd;
    /* this workgroup's positions: all the token sees, or a chunk of them
     * (maybe none, for the early tokens of a batch) */
    uint n_pos = p.pos0 + t + 1u;
    uint first = p.n_chunks > 1u ? chunk * p.chunk : 0u;
    uint last = p.n_chunks > 1u ? min(n_pos, first + p.chunk) : n_pos;
    /* in quads of 8 halves */
    uint k_head = (p.kc_off + g * p.n_slots * hd) / 8u;
    uint v_head = (p.vc_off + g * p.n_slots * hd) / 8u;

    for (uint d = tid; d < hd; d += WG) {
        uint at = p.q_off + row + d;
        qs[d] = uintBitsToFloat(texelFetch(Q, int(at / 4u))[at % 4u]) * p.scale;
        acc[d] = 0.0;
    }
    barrier();

    float max_so_far = NEG_INF, sum = 0.0;
    for (uint p0 = first; p0 < last; p0 += BLOCK) {
        uint count = min(BLOCK, last - p0);

        /* probs (count,) = q . k[p0 + j] */
        for (uint j = tid; j < count; j += WG) {
            uint kr = k_head + (p0 + j) * hd / 8u;
            float s = 0.0;
            for (uint d = 0u; d < hd; d += 8u) {
                vec4 lo, hi;
                halves(texelFetch(KCache, int(kr + d / 8u)), lo, hi);
                s += dot(vec4(qs[d], qs[d + 1u], qs[d + 2u], qs[d + 3u]), lo) +
                     dot(vec4(qs[d + 4u], qs[d + 5u], qs[d + 6u], qs[d + 7u]), hi);
            }
            probs[j] = s;
        }
        barrier();

        float block_max = max_so_far;
        for (uint j = 0u; j < count; j++)
            block_max = max(block_max, probs[j]);
        /* e^(old max - new max): 0 the first time, when acc and sum are 0 */
        float c = exp(max_so_far - block_max);
        max_so_far = block_max;
        barrier();

        for (uint j = tid; j < BLOCK; j += WG)
            probs[j] = j < count ? exp(probs[j] - block_max) : 0.0;
        barrier();

        float block_sum = 0.0;
        for (uint j = 0u; j < count; j++)
            block_sum += probs[j];
        sum = sum * c + block_sum;

        /* acc[d] = acc[d] * c + probs . v[block][d] */
        uint vb = v_head + p0 * hd / 8u;
        for (uint d = tid; d < hd; d += WG) {
            uint vr = vb + d * (BLOCK / 8u);
            float s = 0.0;
            for (uint j = 0u; j < count; j += 8u) {
                vec4 lo, hi;
                halves(texelFetch(VCache, int(vr + j / 8u)), lo, hi);
                s += dot(vec4(probs[j], probs[j + 1u], probs[j + 2u], probs[j + 3u]), lo) +
                     dot(vec4(probs[j + 4u], probs[j + 5u], probs[j + 6u], probs[j + 7u]), hi);
            }
            acc[d] = acc[d] * c + s;
        }
        barrier();
    }

    if (p.n_chunks > 1u) {
        uint part = ((t * p.n_head + h) * p.n_chunks + chunk) * (hd + 2u);
        if (tid == 0u) {
            parts[part] = max_so_far;
            parts[part + 1u] = sum;
        }
        for (uint d = tid; d < hd; d += WG)
            parts[part + 2u + d] = acc[d];
        return;
    }
    for (uint d = tid; d < hd; d += WG)
        o[p.out_off + row + d] = acc[d] / sum;
}

void
main()
{
    if (PER_INVOCATION)
        query_per_invocation();
    else
        query_per_workgroup();
}
