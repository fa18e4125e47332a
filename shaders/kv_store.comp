#version 450
/* kv_store: k, v (n, n_head_kv * head_dim) F32 into the F16 caches at
 * positions pos0…pos0+n-1:
 *     k_cache [kv head][position][dim]
 *     v_cache [kv head][block of HK_SHADER_KV_BLOCK positions][dim][position in block]
 * Values are clamped to F16's range first: a zero probability on a stale
 * slot must stay zero, not become 0 * inf.  One invocation per element. */
#include "common.glsl"

layout(push_constant) uniform Push { hk_shader_kv_store p; };

layout(binding = 0, std430) readonly buffer K { float k[]; };
layout(binding = 1, std430) readonly buffer V { float v[]; };
layout(binding = 2, std430) writeonly buffer KCache { float16_t kc[]; };
layout(binding = 3, std430) writeonly buffer VCache { float16_t vc[]; };

float16_t
to_f16(float f)
{
    return float16_t(clamp(f, -65504.0, 65504.0));
}

void
main()
{
    uint kv_dim = p.n_head_kv * p.head_dim;
    uint id = global_id();
    if (id >= p.n * kv_dim)
        return;
    uint t = id / kv_dim, g = id % kv_dim / p.head_dim, i = id % p.head_dim;
    uint pos = p.pos0 + t;
    uint block = pos / HK_SHADER_KV_BLOCK, in_block = pos % HK_SHADER_KV_BLOCK;

    kc[p.kc_off + (g * p.n_slots + pos) * p.head_dim + i] = to_f16(k[p.k_off + id]);
    uint vrow = (g * (p.n_slots / HK_SHADER_KV_BLOCK) + block) * p.head_dim + i;
    vc[p.vc_off + vrow * HK_SHADER_KV_BLOCK + in_block] = to_f16(v[p.v_off + id]);
}
