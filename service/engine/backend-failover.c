/* backend-failover.c — the primary's ops, logged per step, and the move
 * to the spare when the primary fails. */
#include "backend-failover.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the table's buffer points to: the tensor on the backend in use. */
typedef struct fo_tensor fo_tensor;
struct fo_tensor {
    hk_tensor   inner;    /* the whole tensor */
    hk_tensor   mirror;   /* an F16 tensor's copy on the spare, while on the primary */
    const void *host;     /* an uploaded tensor's data */
    bool        freed;    /* freed during a step: the log may still name it */
    fo_tensor  *prev, *next;
};

/* The read of a tensor, logged as an op. */
#define LOG_READ HK_OP_COUNT

typedef struct logged_op {
    int       op;          /* hk_op, or LOG_READ */
    hk_tensor t[4];        /* the caller's views, in the op's argument order */
    hk_tensor factors;     /* rope's frequency factors (buffer NULL: none) */
    union {
        size_t         ids;    /* get_rows: in the ids log */
        float          eps;
        hk_rope_params rope;
        hk_attn_params attn;
        float         *dst;
    } u;
} logged_op;

/* A step's k and v, read back to go into the spare's cache mirror. */
typedef struct kv_mirror {
    float         *k, *v;     /* (n, kv_dim) */
    int64_t        kv_dim, n;
    hk_tensor      k_cache, v_cache;   /* the caller's views */
    hk_attn_params p;
} kv_mirror;

typedef struct failover {
    hk_backend *primary;       /* NULL once left */
    hk_backend *spare;
    fo_tensor  *tensors;
    logged_op  *log;
    size_t      n_log, cap_log;
    int32_t    *ids;
    size_t      n_ids, cap_ids;
    kv_mirror  *mirrors;
    size_t      n_mirrors, cap_mirrors;
    hk_error    error;         /* the log's own failure, for the next sync */
    char        reason[512];
} failover;

static failover *
fo_of(hk_backend *be)
{
    return be->context;
}

static hk_backend *
in_use(const failover *fo)
{
    return fo->primary ? fo->primary : fo->spare;
}

static bool
grow(void **array, size_t *capacity, size_t need, size_t elem)
{
    if (need <= *capacity)
        return true;
    size_t capacity2 = *capacity ? 2 * *capacity : 64;
    while (capacity2 < need)
        capacity2 *= 2;
    void *p = realloc(*array, capacity2 * elem);
    if (!p)
        return false;
    *array = p;
    *capacity = capacity2;
    return true;
}

static void
fail(failover *fo, const char *what)
{
    if (fo->error.code == 0)
        hk_error_set(&fo->error, -ENOMEM, "out of memory for %s", what);
}

/* The caller's view of a tensor, on the tensor's whole inner (or mirror)
 * tensor. */
static hk_tensor
view_of(const hk_tensor *whole, const hk_tensor *view)
{
    hk_tensor t = *whole;
    t.offset += view->offset;
    t.ne[0] = view->ne[0];
    t.ne[1] = view->ne[1];
    t.owned = false;
    return t;
}

static hk_tensor
inner(const hk_tensor *view)
{
    return view_of(&((fo_tensor *)view->buffer)->inner, view);
}

/* ------------------------------------------------------------ ops */

static void
run(failover *fo, hk_backend *be, const logged_op *o, const int32_t *ids)
{
    hk_tensor t[4] = { 0 };
    for (int i = 0; i < 4; i++)
        if (o->t[i].buffer)
            t[i] = inner(&o->t[i]);
    switch (o->op) {
    case HK_OP_GET_ROWS:
        hk_backend_get_rows(be, &t[0], ids, &t[1]);
        break;
    case HK_OP_MATMUL:
        hk_backend_matmul(be, &t[0], &t[1], &t[2]);
        break;
    case HK_OP_ADD_BIAS:
        hk_backend_add_bias(be, &t[0], &t[1]);
        break;
    case HK_OP_RMS_NORM:
        hk_backend_rms_norm(be, &t[0], &t[1], o->u.eps, &t[2]);
        break;
    case HK_OP_ROPE: {
        hk_rope_params p = o->u.rope;
        hk_tensor factors = o->factors.buffer ? inner(&o->factors) : o->factors;
        p.freq_factors = o->factors.buffer ? &factors : NULL;
        hk_backend_rope(be, &t[0], &p);
        break;
    }
    case HK_OP_KV_STORE:
        hk_backend_kv_store(be, &t[0], &t[1], &t[2], &t[3], &o->u.attn);
        break;
    case HK_OP_ATTENTION:
        hk_backend_attention(be, &t[0], &t[1], &t[2], &o->u.attn, &t[3]);
        break;
    case HK_OP_SWIGLU:
        hk_backend_swiglu(be, &t[0], &t[1], &t[2]);
        break;
    case HK_OP_ADD:
        hk_backend_add(be, &t[0], &t[1], &t[2]);
        break;
    case LOG_READ:
        hk_backend_read(be, &t[0], o->u.dst);
        break;
    }
}

/* Run the op on the backend in use and log it for the step. */
static void
submit(failover *fo, const logged_op *o, const int32_t *ids)
{
    run(fo, in_use(fo), o, ids);
    if (!fo->primary)
        return;
    if (!grow((void **)&fo->log, &fo->cap_log, fo->n_log + 1, sizeof *fo->log)) {
        fail(fo, "the step's log");
        return;
    }
    fo->log[fo->n_log++] = *o;
}

static logged_op
op(int kind, const hk_tensor *a, const hk_tensor *b, const hk_tensor *c, const hk_tensor *d)
{
    logged_op o = { .op = kind };
    const hk_tensor *args[4] = { a, b, c, d };
    for (int i = 0; i < 4; i++)
        if (args[i])
            o.t[i] = *args[i];
    return o;
}

static void
fo_get_rows(hk_backend *be, const hk_tensor *table, const int32_t *ids, hk_tensor *out)
{
    failover *fo = fo_of(be);
    logged_op o = op(HK_OP_GET_ROWS, table, out, NULL, NULL);
    size_t n = (size_t)out->ne[1];
    if (fo->primary && grow((void **)&fo->ids, &fo->cap_ids, fo->n_ids + n, sizeof *fo->ids)) {
        memcpy(fo->ids + fo->n_ids, ids, n * sizeof *ids);
        o.u.ids = fo->n_ids;
        fo->n_ids += n;
    } else if (fo->primary) {
        fail(fo, "token ids");
    }
    submit(fo, &o, ids);
}

static void
fo_matmul(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y)
{
    logged_op o = op(HK_OP_MATMUL, x, w, y, NULL);
    submit(fo_of(be), &o, NULL);
}

static void
fo_add_bias(hk_backend *be, hk_tensor *y, const hk_tensor *b)
{
    logged_op o = op(HK_OP_ADD_BIAS, y, b, NULL, NULL);
    submit(fo_of(be), &o, NULL);
}

static void
fo_rms_norm(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps, hk_tensor *out)
{
    logged_op o = op(HK_OP_RMS_NORM, x, w, out, NULL);
    o.u.eps = eps;
    submit(fo_of(be), &o, NULL);
}

static void
fo_rope(hk_backend *be, hk_tensor *x, const hk_rope_params *p)
{
    logged_op o = op(HK_OP_ROPE, x, NULL, NULL, NULL);
    o.u.rope = *p;
    if (p->freq_factors)
        o.factors = *p->freq_factors;
    submit(fo_of(be), &o, NULL);
}

static void
fo_swiglu(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *out)
{
    logged_op o = op(HK_OP_SWIGLU, gate, up, out, NULL);
    submit(fo_of(be), &o, NULL);
}

static void
fo_add(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *out)
{
    logged_op o = op(HK_OP_ADD, a, b, out, NULL);
    submit(fo_of(be), &o, NULL);
}

static void
fo_attention(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
             const hk_tensor *v_cache, const hk_attn_params *p, hk_tensor *out)
{
    logged_op o = op(HK_OP_ATTENTION, q, k_cache, v_cache, out);
    o.u.attn = *p;
    submit(fo_of(be), &o, NULL);
}

static void
fo_read(hk_backend *be, const hk_tensor *t, float *dst)
{
    logged_op o = op(LOG_READ, t, NULL, NULL, NULL);
    o.u.dst = dst;
    submit(fo_of(be), &o, NULL);
}

/* The primary's k and v go to the host as well, for the mirror. */
static void
read_for_mirror(failover *fo, const hk_tensor *k, const hk_tensor *v,
                const hk_tensor *k_cache, const hk_tensor *v_cache, const hk_attn_params *p)
{
    size_t count = (size_t)(k->ne[0] * k->ne[1]);
    kv_mirror m = {
        .k = malloc(count * sizeof(float)), .v = malloc(count * sizeof(float)),
        .kv_dim = k->ne[0], .n = k->ne[1], .k_cache = *k_cache, .v_cache = *v_cache, .p = *p,
    };
    if (!m.k || !m.v ||
        !grow((void **)&fo->mirrors, &fo->cap_mirrors, fo->n_mirrors + 1, sizeof *fo->mirrors)) {
        free(m.k);
        free(m.v);
        fail(fo, "the kv cache mirror");
        return;
    }
    hk_tensor ik = inner(k), iv = inner(v);
    hk_backend_read(fo->primary, &ik, m.k);
    hk_backend_read(fo->primary, &iv, m.v);
    fo->mirrors[fo->n_mirrors++] = m;
}

static void
fo_kv_store(hk_backend *be, const hk_tensor *k, const hk_tensor *v, hk_tensor *k_cache,
            hk_tensor *v_cache, const hk_attn_params *p)
{
    failover *fo = fo_of(be);
    logged_op o = op(HK_OP_KV_STORE, k, v, k_cache, v_cache);
    o.u.attn = *p;
    submit(fo, &o, NULL);
    if (fo->primary)
        read_for_mirror(fo, k, v, k_cache, v_cache, p);
}

/* ------------------------------------------------------------ tensors */

static void
link_tensor(failover *fo, fo_tensor *ft)
{
    ft->next = fo->tensors;
    if (fo->tensors)
        fo->tensors->prev = ft;
    fo->tensors = ft;
}

static void
destroy_tensor(failover *fo, fo_tensor *ft)
{
    if (ft->prev)
        ft->prev->next = ft->next;
    else
        fo->tensors = ft->next;
    if (ft->next)
        ft->next->prev = ft->prev;
    hk_backend_tensor_free(in_use(fo), &ft->inner);
    hk_backend_tensor_free(fo->spare, &ft->mirror);
    free(ft);
}

/* Every tensor onto the spare, the primary freed, the step's ops run
 * again: the caller's step goes on as if nothing happened. */
static int
leave_primary(failover *fo, const char *why, hk_error *err)
{
    for (fo_tensor *ft = fo->tensors; ft; ft = ft->next) {
        hk_tensor moved = ft->mirror;
        const hk_tensor *t = &ft->inner;
        int rc = 0;
        if (ft->host)
            rc = hk_backend_tensor_upload(fo->spare, t->type, t->ne[0], t->ne[1], ft->host, &moved, err);
        else if (!ft->mirror.buffer)
            rc = hk_backend_tensor_alloc(fo->spare, t->type, t->ne[0], t->ne[1], &moved, err);
        if (rc < 0) {
            hk_error_prefix(err, "moving to the CPU after '%s': ", why);
            return rc;
        }
        hk_backend_tensor_free(fo->primary, &ft->inner);
        ft->inner = moved;
        ft->mirror = (hk_tensor){ 0 };
    }
    hk_backend_free(fo->primary);
    fo->primary = NULL;
    snprintf(fo->reason, sizeof fo->reason, "%.400s; carrying on with the CPU backend", why);

    for (size_t i = 0; i < fo->n_log; i++) {
        const logged_op *o = &fo->log[i];
        run(fo, fo->spare, o, o->op == HK_OP_GET_ROWS ? fo->ids + o->u.ids : NULL);
    }
    return 0;
}

/* The tensor on the primary (an F16 one mirrored on the spare), or on
 * the spare once the primary has failed, also when failing is what this
 * allocation does.  A bad shape is the caller's fault, not the device's:
 * it moves nothing. */
static int
place(failover *fo, fo_tensor *ft, hk_type type, int64_t ne0, int64_t ne1, const void *data,
      hk_error *err)
{
    if (fo->primary) {
        hk_error perr = { 0 };
        int rc = data ? hk_backend_tensor_upload(fo->primary, type, ne0, ne1, data, &ft->inner, &perr)
                      : hk_backend_tensor_alloc(fo->primary, type, ne0, ne1, &ft->inner, &perr);
        if (rc == -EINVAL)
            return hk_error_set(err, rc, "%s", perr.message);
        if (rc == 0 && !data && type == HK_TYPE_F16) {
            rc = hk_backend_tensor_alloc(fo->spare, type, ne0, ne1, &ft->mirror, err);
            if (rc < 0)
                hk_backend_tensor_free(fo->primary, &ft->inner);
            return rc;
        }
        if (rc == 0)
            return 0;
        if ((rc = leave_primary(fo, perr.message, err)) < 0)
            return rc;
    }
    return data ? hk_backend_tensor_upload(fo->spare, type, ne0, ne1, data, &ft->inner, err)
                : hk_backend_tensor_alloc(fo->spare, type, ne0, ne1, &ft->inner, err);
}

static int
new_tensor(failover *fo, hk_type type, int64_t ne0, int64_t ne1, const void *data,
           hk_tensor *ret, hk_error *err)
{
    fo_tensor *ft = calloc(1, sizeof *ft);
    if (!ft)
        return hk_error_set(err, -ENOMEM, "out of memory for a tensor");
    int rc = place(fo, ft, type, ne0, ne1, data, err);
    if (rc < 0) {
        free(ft);
        return rc;
    }
    ft->host = data;
    link_tensor(fo, ft);
    *ret = (hk_tensor){ .type = type, .ne = { ne0, ne1 }, .buffer = ft, .owned = true };
    return 0;
}

static int
fo_tensor_alloc(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1, hk_tensor *ret,
                hk_error *err)
{
    return new_tensor(fo_of(be), type, ne0, ne1, NULL, ret, err);
}

static int
fo_tensor_upload(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1, const void *data,
                 hk_tensor *ret, hk_error *err)
{
    return new_tensor(fo_of(be), type, ne0, ne1, data, ret, err);
}

static void
fo_tensor_free(hk_backend *be, hk_tensor *t)
{
    failover *fo = fo_of(be);
    fo_tensor *ft = t->buffer;
    if (fo->n_log > 0)
        ft->freed = true;
    else
        destroy_tensor(fo, ft);
    t->buffer = NULL;
    t->owned = false;
}

/* ------------------------------------------------------------ sync */

/* The step ran on the primary: its k and v into the spare's mirror. */
static void
update_mirrors(failover *fo)
{
    for (size_t i = 0; i < fo->n_mirrors; i++) {
        const kv_mirror *m = &fo->mirrors[i];
        fo_tensor *kc = m->k_cache.buffer, *vc = m->v_cache.buffer;
        hk_tensor k, v, k_cache = view_of(&kc->mirror, &m->k_cache),
                  v_cache = view_of(&vc->mirror, &m->v_cache);
        hk_error err = { 0 };
        if (hk_backend_tensor_upload(fo->spare, HK_TYPE_F32, m->kv_dim, m->n, m->k, &k, &err) < 0 ||
            hk_backend_tensor_upload(fo->spare, HK_TYPE_F32, m->kv_dim, m->n, m->v, &v, &err) < 0) {
            fail(fo, "the kv cache mirror");
            return;
        }
        hk_backend_kv_store(fo->spare, &k, &v, &k_cache, &v_cache, &m->p);
        hk_backend_tensor_free(fo->spare, &k);
        hk_backend_tensor_free(fo->spare, &v);
    }
}

static void
end_step(failover *fo)
{
    for (size_t i = 0; i < fo->n_mirrors; i++) {
        free(fo->mirrors[i].k);
        free(fo->mirrors[i].v);
    }
    fo->n_mirrors = 0;
    fo->n_log = 0;
    fo->n_ids = 0;
    for (fo_tensor *ft = fo->tensors, *next; ft; ft = next) {
        next = ft->next;
        if (ft->freed)
            destroy_tensor(fo, ft);
    }
}

static int
fo_sync(hk_backend *be, hk_error *err)
{
    failover *fo = fo_of(be);
    int rc = 0;
    if (fo->error.code != 0) {
        /* the log is incomplete: the step cannot be run again */
        rc = hk_error_set(err, fo->error.code, "%s", fo->error.message);
        hk_error_clear(&fo->error);
        if (fo->primary)
            hk_backend_sync(fo->primary, NULL);
    } else if (fo->primary) {
        hk_error perr = { 0 };
        if (hk_backend_sync(fo->primary, &perr) == 0)
            update_mirrors(fo);
        else
            rc = leave_primary(fo, perr.message, err);
    }
    if (rc == 0)
        rc = hk_backend_sync(fo->spare, err);
    end_step(fo);
    return rc;
}

/* ------------------------------------------------------------ the table */

static const char *
fo_name(hk_backend *be)
{
    return hk_backend_name(in_use(fo_of(be)));
}

static const char *
fo_description(hk_backend *be)
{
    return hk_backend_description(in_use(fo_of(be)));
}

static bool
fo_supports_type(hk_backend *be, hk_type type)
{
    failover *fo = fo_of(be);
    return hk_backend_supports_type(fo->spare, type) &&
           (!fo->primary || hk_backend_supports_type(fo->primary, type));
}

static bool
fo_supports_op(hk_backend *be, hk_op op)
{
    failover *fo = fo_of(be);
    return hk_backend_supports_op(fo->spare, op) &&
           (!fo->primary || hk_backend_supports_op(fo->primary, op));
}

static void
destroy(failover *fo)
{
    end_step(fo);
    while (fo->tensors)
        destroy_tensor(fo, fo->tensors);
    hk_backend_free(fo->primary);
    hk_backend_free(fo->spare);
    free(fo->log);
    free(fo->ids);
    free(fo->mirrors);
    free(fo);
}

static void
fo_free(hk_backend *be)
{
    destroy(fo_of(be));
}

static const hk_backend_iface failover_iface = {
    .version       = HK_BACKEND_INTERFACE_VERSION,
    .name          = fo_name,
    .description   = fo_description,
    .free          = fo_free,
    .supports_type = fo_supports_type,
    .supports_op   = fo_supports_op,
    .tensor_alloc  = fo_tensor_alloc,
    .tensor_upload = fo_tensor_upload,
    .tensor_free   = fo_tensor_free,
    .get_rows      = fo_get_rows,
    .matmul        = fo_matmul,
    .add_bias      = fo_add_bias,
    .rms_norm      = fo_rms_norm,
    .rope          = fo_rope,
    .kv_store      = fo_kv_store,
    .attention     = fo_attention,
    .swiglu        = fo_swiglu,
    .add           = fo_add,
    .read          = fo_read,
    .sync          = fo_sync,
};

int
hk_backend_failover_new(hk_backend *primary, hk_backend *spare, hk_backend **ret, hk_error *err)
{
    failover *fo = calloc(1, sizeof *fo);
    if (!fo) {
        hk_backend_free(primary);
        hk_backend_free(spare);
        return hk_error_set(err, -ENOMEM, "out of memory for a backend");
    }
    fo->primary = primary;
    fo->spare = spare;
    int rc = hk_backend_new(&failover_iface, fo, ret, err);
    if (rc < 0)
        destroy(fo);
    return rc;
}

const char *
hk_backend_failover_reason(hk_backend *be)
{
    if (!be || be->iface != &failover_iface)
        return NULL;
    failover *fo = fo_of(be);
    return fo->primary ? NULL : fo->reason;
}
