/* backend.c — the table's front door: checks a table once, then forwards. */
#include "backend.h"

#include <errno.h>
#include <stdlib.h>

static const char *const op_names[HK_OP_COUNT] = {
    [HK_OP_GET_ROWS]  = "get_rows",
    [HK_OP_MATMUL]    = "matmul",
    [HK_OP_ADD_BIAS]  = "add_bias",
    [HK_OP_RMS_NORM]  = "rms_norm",
    [HK_OP_ROPE]      = "rope",
    [HK_OP_KV_STORE]  = "kv_store",
    [HK_OP_ATTENTION] = "attention",
    [HK_OP_SWIGLU]    = "swiglu",
    [HK_OP_ADD]       = "add",
};

const char *
hk_op_name(hk_op op)
{
    return op < HK_OP_COUNT ? op_names[op] : "unknown";
}

size_t
hk_tensor_row_bytes(const hk_tensor *t)
{
    return hk_type_row_bytes(t->type, (uint64_t)t->ne[0]);
}

hk_tensor
hk_tensor_rows(const hk_tensor *t, int64_t row0, int64_t n)
{
    hk_tensor view = *t;
    view.offset += (size_t)row0 * hk_tensor_row_bytes(t);
    view.ne[1] = n;
    view.owned = false;
    return view;
}

static bool
iface_complete(const hk_backend_iface *i)
{
    return i->name && i->description && i->free && i->supports_type && i->supports_op &&
           i->tensor_alloc && i->tensor_upload && i->tensor_free && i->get_rows &&
           i->matmul && i->add_bias && i->rms_norm && i->rope && i->kv_store &&
           i->attention && i->swiglu && i->add && i->read && i->sync;
}

int
hk_backend_new(const hk_backend_iface *iface, void *context, hk_backend **ret, hk_error *err)
{
    if (iface->version != HK_BACKEND_INTERFACE_VERSION)
        return hk_error_set(err, -EINVAL, "backend interface version %u, expected %u",
                            iface->version, HK_BACKEND_INTERFACE_VERSION);
    if (!iface_complete(iface))
        return hk_error_set(err, -EINVAL, "backend table has an empty slot");
    hk_backend *be = malloc(sizeof *be);
    if (!be)
        return hk_error_set(err, -ENOMEM, "out of memory for a backend");
    be->iface = iface;
    be->context = context;
    *ret = be;
    return 0;
}

void
hk_backend_free(hk_backend *be)
{
    if (!be)
        return;
    be->iface->free(be);
    free(be);
}

const char *
hk_backend_name(hk_backend *be)
{
    return be->iface->name(be);
}

const char *
hk_backend_description(hk_backend *be)
{
    return be->iface->description(be);
}

bool
hk_backend_supports_type(hk_backend *be, hk_type type)
{
    return be->iface->supports_type(be, type);
}

bool
hk_backend_supports_op(hk_backend *be, hk_op op)
{
    return be->iface->supports_op(be, op);
}

int
hk_backend_tensor_alloc(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                        hk_tensor *ret, hk_error *err)
{
    return be->iface->tensor_alloc(be, type, ne0, ne1, ret, err);
}

int
hk_backend_tensor_upload(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                         const void *data, hk_tensor *ret, hk_error *err)
{
    return be->iface->tensor_upload(be, type, ne0, ne1, data, ret, err);
}

void
hk_backend_tensor_free(hk_backend *be, hk_tensor *t)
{
    if (t && t->owned)
        be->iface->tensor_free(be, t);
}

void
hk_backend_get_rows(hk_backend *be, const hk_tensor *table, const int32_t *ids, hk_tensor *out)
{
    be->iface->get_rows(be, table, ids, out);
}

void
hk_backend_matmul(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y)
{
    be->iface->matmul(be, x, w, y);
}

void
hk_backend_add_bias(hk_backend *be, hk_tensor *y, const hk_tensor *b)
{
    be->iface->add_bias(be, y, b);
}

void
hk_backend_rms_norm(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps,
                    hk_tensor *out)
{
    be->iface->rms_norm(be, x, w, eps, out);
}

void
hk_backend_rope(hk_backend *be, hk_tensor *x, const hk_rope_params *p)
{
    be->iface->rope(be, x, p);
}

void
hk_backend_kv_store(hk_backend *be, const hk_tensor *k, const hk_tensor *v,
                    hk_tensor *k_cache, hk_tensor *v_cache, const hk_attn_params *p)
{
    be->iface->kv_store(be, k, v, k_cache, v_cache, p);
}

void
hk_backend_attention(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
                     const hk_tensor *v_cache, const hk_attn_params *p, hk_tensor *out)
{
    be->iface->attention(be, q, k_cache, v_cache, p, out);
}

void
hk_backend_swiglu(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *out)
{
    be->iface->swiglu(be, gate, up, out);
}

void
hk_backend_add(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *out)
{
    be->iface->add(be, a, b, out);
}

void
hk_backend_read(hk_backend *be, const hk_tensor *t, float *dst)
{
    be->iface->read(be, t, dst);
}

int
hk_backend_sync(hk_backend *be, hk_error *err)
{
    return be->iface->sync(be, err);
}
