/* attention.h — causal attention over the F16 KV cache on the CPU.
 *
 * The work is cut into units of (kv head, block of tokens): the queries of
 * the heads sharing a kv head, for a few tokens, go through the cache
 * together, so each key and value is read once per unit.  The cache is
 * walked a block of positions at a time with a running softmax (the
 * maximum and the sum are corrected as blocks come), so a unit's memory
 * does not grow with the context.  Both products, scores = q k^T and
 * probabilities × v, are matmuls by F16 "weights" (the keys, the
 * transposed values): the SIMD kernels of cpu/matmul.h do the work.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "quant.h"

typedef struct hk_cpu_attention {
    const float   *q;         /* (n_tokens, n_head * head_dim) */
    const hk_fp16 *k_cache;   /* (n_head_kv, n_slots, head_dim) */
    const hk_fp16 *v_cache;   /* (n_head_kv, n_slots / HK_KV_BLOCK, head_dim, HK_KV_BLOCK) */
    float         *out;       /* (n_tokens, n_head * head_dim) */
    int64_t        n_tokens;
    hk_attn_params p;
} hk_cpu_attention;

int64_t hk_cpu_attention_n_units(const hk_cpu_attention *a);
/* Scratch one thread needs to run any unit of attention with these
 * parameters. */
size_t  hk_cpu_attention_scratch_bytes(const hk_attn_params *p);
void    hk_cpu_attention_unit(const hk_cpu_attention *a, int64_t unit, void *scratch);

/* Store one token's k and v (n_head_kv * head_dim each) at pos. */
void    hk_cpu_kv_store_row(const float *k, const float *v, hk_fp16 *k_cache,
                            hk_fp16 *v_cache, int64_t pos, const hk_attn_params *p);
