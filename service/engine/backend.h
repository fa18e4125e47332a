/* backend.h — the operations the forward pass is written against.
 *
 * A backend owns tensors (weights, activations, the KV cache) in its own
 * memory and runs a small set of operations on them.  The forward pass
 * (model.c) is written once against this table; the CPU backend runs each
 * op at once on a thread pool, a GPU backend may instead record the ops and
 * run them all when the step ends.  So:
 *
 *   - an op may not have run when it returns: the host sees results only
 *     through `read`, and only after `sync`;
 *   - ops do not fail one by one: shapes are the caller's contract (the
 *     model checks them when it loads), and a failure a backend meets while
 *     running or recording an op is kept and reported by the next `sync`;
 *   - one thread at a time calls a backend (models and sessions sharing it
 *     take turns).
 *
 * Tensors are at most two-dimensional, rows contiguous: ne[0] elements per
 * row, ne[1] rows.  Activations are F32, rows of n_tokens; weights may be
 * of any type the backend supports.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "types.h"

/* Bumped when a slot is added, removed or changes meaning. */
#define HK_BACKEND_INTERFACE_VERSION 1

typedef struct hk_tensor {
    hk_type type;
    int64_t ne[2];      /* ne[0] elements per row, ne[1] rows */
    void   *buffer;     /* the backend's storage: host memory on the CPU */
    size_t  offset;     /* bytes from buffer to row 0 */
    bool    owned;      /* allocated by the backend; false for views and
                           weights borrowed from the mapped file */
} hk_tensor;

/* Bytes of one row. */
size_t hk_tensor_row_bytes(const hk_tensor *t);

/* n rows of t from row0 on, sharing its storage. */
hk_tensor hk_tensor_rows(const hk_tensor *t, int64_t row0, int64_t n);

typedef enum hk_op {
    HK_OP_GET_ROWS,
    HK_OP_MATMUL,
    HK_OP_ADD_BIAS,
    HK_OP_RMS_NORM,
    HK_OP_ROPE,
    HK_OP_KV_STORE,
    HK_OP_ATTENTION,
    HK_OP_SWIGLU,
    HK_OP_ADD,
    HK_OP_COUNT
} hk_op;

const char *hk_op_name(hk_op op);

typedef struct hk_rope_params {
    int32_t          head_dim;
    int32_t          n_rot;        /* leading dims of each head rotated, even */
    int32_t          pos0;         /* position of row 0; row t is at pos0 + t */
    float            freq_base;    /* theta */
    float            freq_scale;   /* 1 / linear scaling factor */
    bool             neox;         /* pairs (i, i + n_rot/2), else (2i, 2i + 1) */
    const hk_tensor *freq_factors; /* (n_rot / 2,) F32 divisors of each
                                      frequency (Llama 3), or NULL */
} hk_rope_params;

/* The KV cache of one layer, as every backend lays it out, in F16, for
 * n_slots positions (a multiple of HK_KV_BLOCK):
 *     k_cache (n_head_kv * n_slots, head_dim)
 *             [kv head][position][dim]: a score is a dot product along a row
 *     v_cache (n_head_kv * n_slots / HK_KV_BLOCK * head_dim, HK_KV_BLOCK)
 *             [kv head][block of positions][dim][position in the block]:
 *             the values of a block, transposed, so that weighting them by
 *             the probabilities is again dot products along rows.
 * Stored values are clamped to F16's range. */
#define HK_KV_BLOCK 64

typedef struct hk_attn_params {
    int32_t n_head;
    int32_t n_head_kv;     /* divides n_head: query head h reads kv head h / (n_head / n_head_kv) */
    int32_t head_dim;
    int32_t n_slots;       /* positions the cache tensors hold */
    int32_t pos0;          /* position of the first token of the batch */
    float   scale;         /* of the scores before softmax: 1 / sqrt(head_dim) */
} hk_attn_params;

typedef struct hk_backend hk_backend;

typedef struct hk_backend_iface {
    /* HK_BACKEND_INTERFACE_VERSION of the table's author. */
    uint32_t version;

    /* "cpu", "vulkan". */
    const char *(*name)(hk_backend *be);
    /* The device in words ("AMD EPYC, 2 threads, avx2"). */
    const char *(*description)(hk_backend *be);
    /* Frees the context (hk_backend_free frees the rest). */
    void (*free)(hk_backend *be);

    /* Whether matmul and get_rows accept weights of this type. */
    bool (*supports_type)(hk_backend *be, hk_type type);
    /* Whether the op below is implemented. */
    bool (*supports_op)(hk_backend *be, hk_op op);

    /* A new zero-filled tensor of type F32 or F16. */
    int  (*tensor_alloc)(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                         hk_tensor *ret, hk_error *err);
    /* A weight from host memory that stays valid and unchanged while the
     * tensor lives (the mapped model file): the CPU borrows it, a GPU
     * copies it into device memory. */
    int  (*tensor_upload)(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                          const void *data, hk_tensor *ret, hk_error *err);
    /* Releases an owned tensor; views and borrowed weights are left alone. */
    void (*tensor_free)(hk_backend *be, hk_tensor *t);

    /* ---- ops: shapes in the comments, n = tokens of the batch */

    /* out (n, ne0) F32 = rows ids[0…n) of table (n_rows, ne0); ids are
     * host memory, read before the op returns, each < table rows. */
    void (*get_rows)(hk_backend *be, const hk_tensor *table, const int32_t *ids,
                     hk_tensor *out);
    /* y (n, m) = x (n, k) @ w (m, k)^T, w of any supported type. */
    void (*matmul)(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y);
    /* y (n, m) += b (m,), b F32. */
    void (*add_bias)(hk_backend *be, hk_tensor *y, const hk_tensor *b);
    /* out (n, d) = x / rms(x) * w, per row; w (d,) F32; out may be x. */
    void (*rms_norm)(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps,
                     hk_tensor *out);
    /* x (n, n_heads * head_dim) rotated in place, row t at p->pos0 + t. */
    void (*rope)(hk_backend *be, hk_tensor *x, const hk_rope_params *p);
    /* Store k, v (n, n_head_kv * head_dim) at positions pos0…pos0+n-1 of
     * the layer's cache; pos0 + n ≤ n_slots. */
    void (*kv_store)(hk_backend *be, const hk_tensor *k, const hk_tensor *v,
                     hk_tensor *k_cache, hk_tensor *v_cache, const hk_attn_params *p);
    /* out (n, n_head * head_dim) = softmax(q k^T * scale + causal mask) v,
     * for q (n, n_head * head_dim): row t attends to positions 0…pos0+t. */
    void (*attention)(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
                      const hk_tensor *v_cache, const hk_attn_params *p, hk_tensor *out);
    /* out (n, f) = silu(gate) * up; out may be gate. */
    void (*swiglu)(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *out);
    /* out = a + b, all (n, d); out may be a or b. */
    void (*add)(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *out);

    /* Copy an F32 tensor to host memory; dst is filled when sync returns. */
    void (*read)(hk_backend *be, const hk_tensor *t, float *dst);
    /* End of a step: wait for the ops so far; 0, or the first failure since
     * the previous sync. */
    int  (*sync)(hk_backend *be, hk_error *err);
} hk_backend_iface;

struct hk_backend {
    const hk_backend_iface *iface;
    void                   *context;
};

/* For backend implementations: wrap a table and its context, refusing a
 * table of another interface version or with an empty slot. */
int  hk_backend_new(const hk_backend_iface *iface, void *context,
                    hk_backend **ret, hk_error *err);
void hk_backend_free(hk_backend *be);  /* accepts NULL */

const char *hk_backend_name(hk_backend *be);
const char *hk_backend_description(hk_backend *be);
bool hk_backend_supports_type(hk_backend *be, hk_type type);
bool hk_backend_supports_op(hk_backend *be, hk_op op);

int  hk_backend_tensor_alloc(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                             hk_tensor *ret, hk_error *err);
int  hk_backend_tensor_upload(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                              const void *data, hk_tensor *ret, hk_error *err);
void hk_backend_tensor_free(hk_backend *be, hk_tensor *t);  /* accepts NULL */

void hk_backend_get_rows(hk_backend *be, const hk_tensor *table, const int32_t *ids, hk_tensor *out);
void hk_backend_matmul(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y);
void hk_backend_add_bias(hk_backend *be, hk_tensor *y, const hk_tensor *b);
void hk_backend_rms_norm(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps, hk_tensor *out);
void hk_backend_rope(hk_backend *be, hk_tensor *x, const hk_rope_params *p);
void hk_backend_kv_store(hk_backend *be, const hk_tensor *k, const hk_tensor *v,
                         hk_tensor *k_cache, hk_tensor *v_cache, const hk_attn_params *p);
void hk_backend_attention(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
                          const hk_tensor *v_cache, const hk_attn_params *p, hk_tensor *out);
void hk_backend_swiglu(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *out);
void hk_backend_add(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *out);
void hk_backend_read(hk_backend *be, const hk_tensor *t, float *dst);
int  hk_backend_sync(hk_backend *be, hk_error *err);
