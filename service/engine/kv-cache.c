/* kv-cache.c — allocating the cache and counting what it holds. */
#include "kv-cache.h"

#include <errno.h>
#include <stdlib.h>

int
hk_kv_cache_new(hk_backend *be, uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv,
                uint32_t head_dim, hk_kv_cache **ret, hk_error *err)
{
    if (n_layer == 0 || n_ctx == 0 || n_head_kv == 0 || head_dim == 0 ||
        n_ctx > INT32_MAX - HK_KV_BLOCK)
        return hk_error_set(err, -EINVAL, "kv cache: bad shape (%u layers, %u positions)",
                            n_layer, n_ctx);
    hk_kv_cache *c = calloc(1, sizeof *c);
    if (!c)
        return hk_error_set(err, -ENOMEM, "out of memory for the kv cache");
    c->be = be;
    c->n_layer = n_layer;
    c->n_ctx = n_ctx;
    c->n_head_kv = n_head_kv;
    c->head_dim = head_dim;
    c->k = calloc(n_layer, sizeof *c->k);
    c->v = calloc(n_layer, sizeof *c->v);
    if (!c->k || !c->v) {
        hk_kv_cache_free(c);
        return hk_error_set(err, -ENOMEM, "out of memory for the kv cache");
    }
    c->n_slots = (n_ctx + HK_KV_BLOCK - 1) / HK_KV_BLOCK * HK_KV_BLOCK;
    int64_t k_rows = (int64_t)n_head_kv * c->n_slots;
    int64_t v_rows = (int64_t)n_head_kv * (c->n_slots / HK_KV_BLOCK) * head_dim;
    for (uint32_t l = 0; l < n_layer; l++) {
        int rc = hk_backend_tensor_alloc(be, HK_TYPE_F16, head_dim, k_rows, &c->k[l], err);
        if (rc == 0)
            rc = hk_backend_tensor_alloc(be, HK_TYPE_F16, HK_KV_BLOCK, v_rows, &c->v[l], err);
        if (rc < 0) {
            hk_kv_cache_free(c);
            hk_error_prefix(err, "kv cache of %u tokens: ", n_ctx);
            return rc;
        }
    }
    *ret = c;
    return 0;
}

void
hk_kv_cache_free(hk_kv_cache *c)
{
    if (!c)
        return;
    for (uint32_t l = 0; l < c->n_layer; l++) {
        if (c->k)
            hk_backend_tensor_free(c->be, &c->k[l]);
        if (c->v)
            hk_backend_tensor_free(c->be, &c->v[l]);
    }
    free(c->k);
    free(c->v);
    free(c);
}

void
hk_kv_cache_clear(hk_kv_cache *c)
{
    c->n_past = 0;
}

int
hk_kv_cache_check_room(const hk_kv_cache *c, uint32_t n, hk_error *err)
{
    if (n > c->n_ctx - c->n_past)
        return hk_error_set(err, -ENOSPC, "context full: %u tokens", c->n_ctx);
    return 0;
}
