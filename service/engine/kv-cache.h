/* kv-cache.h — the keys and values of the tokens a context has seen.
 *
 * One F16 key tensor and one F16 value tensor per layer, on the backend,
 * laid out as backend.h says.  F16 rather than
 * F32: half the memory (a 3B model's 4096-token cache is 470 MiB instead
 * of 940) and half the bytes attention reads per token, for a rounding
 * far below the noise of the quantized weights.
 */
#pragma once

#include <stdint.h>

#include "backend.h"
#include "error.h"

typedef struct hk_kv_cache {
    hk_backend *be;
    uint32_t    n_layer;
    uint32_t    n_ctx;       /* positions a context may use */
    uint32_t    n_slots;     /* positions the tensors hold: n_ctx rounded up to HK_KV_BLOCK */
    uint32_t    n_head_kv;
    uint32_t    head_dim;
    uint32_t    n_past;      /* positions filled: the next token goes there */
    hk_tensor  *k;           /* (n_layer) of (n_head_kv * n_slots, head_dim) */
    hk_tensor  *v;           /* (n_layer) of (n_head_kv * n_slots / HK_KV_BLOCK * head_dim, HK_KV_BLOCK) */
} hk_kv_cache;

int  hk_kv_cache_new(hk_backend *be, uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv,
                     uint32_t head_dim, hk_kv_cache **ret, hk_error *err);
void hk_kv_cache_free(hk_kv_cache *c);   /* accepts NULL */

/* Forget every token (the memory is kept). */
void hk_kv_cache_clear(hk_kv_cache *c);

/* Whether n more tokens fit: 0, or -ENOSPC and "context full: N tokens". */
int  hk_kv_cache_check_room(const hk_kv_cache *c, uint32_t n, hk_error *err);
