/* params.h — the push constants of every shader, and what each binding
 * holds: one definition read by the shaders (GLSL) and by the host (C), so
 * the two cannot drift apart.
 *
 * Every buffer is bound whole: as storage (bindings 0…4) or as a texel
 * buffer of 16-byte quads (5…7, what the heavy kernels read).  *_off
 * fields are where a tensor starts in its buffer, in elements (F32 or
 * F16); weights are counted in rows (service/engine/vulkan/vk-layout.h).
 * Activations are F32, the KV cache F16, rows contiguous.  All fields are
 * 32 bits, so std430 and C agree.
 */
#ifndef HK_SHADER_PARAMS_H
#define HK_SHADER_PARAMS_H

#ifdef GL_core_profile
#define HK_U32 uint
#define HK_F32 float
#else
#include <stdint.h>
#define HK_U32 uint32_t
#define HK_F32 float
#endif

/* The KV cache's block of positions (HK_KV_BLOCK in backend.h). */
#define HK_SHADER_KV_BLOCK 64

/* get_rows: out (n, ne0) F32 = rows ids[0…n) of the table, any weight type.
 * bindings: 5 table (texels), 1 ids (uint, in the step's upload buffer),
 * 2 out */
struct hk_shader_get_rows {
    HK_U32 ne0;
    HK_U32 n;
    HK_U32 table_row0;     /* the table's first row in its buffer */
    HK_U32 ids_off;
    HK_U32 out_off;
};

/* matvec and matmul: y (n, m) = x (n, k) @ w (m, k)^T, w any weight type.
 * bindings: 5 w (texels), 6 x (texels), 2 y.  Their integer forms
 * (matvec_q8, matmul_q8; quantized w) read x as quantize_q8's blocks,
 * x_off unused. */
struct hk_shader_matmul {
    HK_U32 k;
    HK_U32 m;
    HK_U32 n;
    HK_U32 w_row0;         /* w's first row in its buffer */
    HK_U32 x_off;
    HK_U32 y_off;
};

/* quantize_q8: x (n, k) F32, k % 32 == 0, as blocks of 32 for the integer
 * kernels (matvec_q8, matmul_q8): block b (token b / (k / 32)) is three
 * quads, the 32 values as signed bytes (value i in byte i % 4 of word
 * i / 4), then (d as f32, the sums of values 0…15 and 16…31 as int, 0);
 * x ≈ d * value.
 * bindings: 0 x, 2 blocks (uvec4) */
struct hk_shader_quantize_q8 {
    HK_U32 k;
    HK_U32 n;
    HK_U32 x_off;
};

/* add: out (n, d) = a (n, d) + b, b (n, d) or a bias (1, d) repeated.
 * bindings: 0 a, 1 b, 2 out */
struct hk_shader_add {
    HK_U32 d;
    HK_U32 total;          /* n * d */
    HK_U32 b_is_bias;
    HK_U32 a_off;
    HK_U32 b_off;
    HK_U32 out_off;
};

/* swiglu: out (total) = silu(gate) * up.
 * bindings: 0 gate, 1 up, 2 out */
struct hk_shader_swiglu {
    HK_U32 total;
    HK_U32 gate_off;
    HK_U32 up_off;
    HK_U32 out_off;
};

/* rms_norm: out (n, d) = x / rms(x) * w, one workgroup per row.
 * bindings: 0 x, 1 w, 2 out */
struct hk_shader_rms_norm {
    HK_U32 d;
    HK_U32 n;
    HK_U32 x_off;
    HK_U32 w_off;
    HK_U32 out_off;
    HK_F32 eps;
};

/* rope: x (n, n_heads * head_dim) rotated in place by the angles of a
 * table (n, n_rot / 2) of (cos, sin) the host computed for the batch.
 * bindings: 0 x, 1 table (vec2, in the step's upload buffer) */
struct hk_shader_rope {
    HK_U32 n;
    HK_U32 n_heads;
    HK_U32 head_dim;
    HK_U32 n_rot;
    HK_U32 neox;
    HK_U32 x_off;
    HK_U32 table_off;      /* in vec2 */
};

/* kv_store: k, v (n, n_head_kv * head_dim) F32 into the F16 caches at
 * positions pos0…pos0+n-1, as backend.h lays them out.
 * bindings: 0 k, 1 v, 2 k_cache, 3 v_cache */
struct hk_shader_kv_store {
    HK_U32 n;
    HK_U32 n_head_kv;
    HK_U32 head_dim;
    HK_U32 n_slots;
    HK_U32 pos0;
    HK_U32 k_off;
    HK_U32 v_off;
    HK_U32 kc_off;
    HK_U32 vc_off;
};

/* attention: out (n, n_head * head_dim) = softmax(q k^T * scale + causal
 * mask) v, one workgroup per (token, query head); head_dim % 8 == 0.
 * With n_chunks > 1 (the kernels for a GPU, a few tokens, a long cache),
 * a workgroup per (token, query head, chunk of `chunk` positions) writes
 * its part instead: (max score, sum of e^(score - max), the values
 * weighted by e^(score - max)), head_dim + 2 floats at ((t * n_head + h)
 * * n_chunks + c) in parts, which attention_merge adds up.
 * bindings: 5 q, 6 k_cache, 7 v_cache (texels), 3 out, 4 parts */
struct hk_shader_attention {
    HK_U32 n;
    HK_U32 n_head;
    HK_U32 n_head_kv;
    HK_U32 head_dim;
    HK_U32 n_slots;
    HK_U32 pos0;
    HK_U32 q_off;
    HK_U32 kc_off;
    HK_U32 vc_off;
    HK_U32 out_off;
    HK_F32 scale;
    HK_U32 n_chunks;       /* 1: no parts */
    HK_U32 chunk;          /* positions a part, a multiple of HK_SHADER_KV_BLOCK */
};

/* attention_merge: out (n, n_head * head_dim) from attention's parts.
 * bindings: 0 parts, 3 out */
struct hk_shader_attention_merge {
    HK_U32 n;
    HK_U32 n_head;
    HK_U32 head_dim;
    HK_U32 n_chunks;
    HK_U32 out_off;
};

#endif
