/* vk-intent.c — the intent CNN's ops as dispatches of shaders/intent_*.comp,
 * and a model's classify forward (see vk-intent.h). */
#include "vulkan/vk-intent.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vulkan/shader-intent-params.h"
#include "vulkan/vk-buffer.h"
#include "vulkan/vk-device.h"
#include "vulkan/vk-pipelines.h"

_Static_assert(sizeof(struct hk_shader_intent_adam) <= HK_VK_PUSH_BYTES &&
               sizeof(struct hk_shader_intent_conv) <= HK_VK_PUSH_BYTES,
               "push constants fit the pipeline layout's range");

/* Invocations per workgroup: every intent shader is one invocation per
 * output element, and the arrays are small. */
#define WG 64u

struct hk_vk_intent {
    hk_vk_device    *d;
    hk_vk_pipelines *p;
    hk_vk_recorder  *r;
};

static const uint32_t spec[1] = { WG };

int
hk_vk_intent_new(int device, bool allow_cpu, hk_vk_intent **ret, hk_error *err)
{
    hk_vk_intent *v = calloc(1, sizeof *v);
    if (!v)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan intent runner");
    int rc = hk_vk_device_open(device, allow_cpu, &v->d, err);
    if (rc == 0)
        rc = hk_vk_pipelines_new(v->d, &v->p, err);
    if (rc == 0)
        rc = hk_vk_recorder_new(v->d, v->p, &v->r, err);
    if (rc < 0) {
        hk_vk_intent_free(v);
        return rc;
    }
    *ret = v;
    return 0;
}

void
hk_vk_intent_free(hk_vk_intent *v)
{
    if (!v)
        return;
    hk_vk_recorder_free(v->r);
    hk_vk_pipelines_free(v->p);
    hk_vk_device_close(v->d);
    free(v);
}

const char *
hk_vk_intent_description(const hk_vk_intent *v)
{
    return v->d->description;
}

/* ---------------------------------------------------------------- buffers */

typedef struct copy_rows {
    const uint8_t *data;
} copy_rows;

static void
fill_copy(const void *ctx, int64_t row0, int64_t n, void *dst)
{
    const copy_rows *c = ctx;
    memcpy(dst, c->data + row0 * 16, (size_t) n * 16);
}

int
hk_vk_intent_alloc(hk_vk_intent *v, size_t n, const void *data, hk_vk_mem **ret, hk_error *err)
{
    if (n == 0 || n > UINT32_MAX / 4)
        return hk_error_set(err, -EINVAL, "vulkan intent: bad array size %zu", n);
    /* the shaders bind every buffer whole */
    if (n * 4 > v->d->caps.max_storage_range)
        return hk_error_set(err, -E2BIG, "vulkan intent: an array of %zu MiB is more than %s binds",
                            n * 4 >> 20, v->d->props.deviceName);
    if (hk_vk_recorder_failed(v->r))
        return hk_vk_recorder_sync(v->r, err);
    hk_vk_mem *m = calloc(1, sizeof *m);
    if (!m)
        return hk_error_set(err, -ENOMEM, "out of memory for a Vulkan buffer");
    int rc = hk_vk_buffer_new(v->d, n * 4, HK_VK_DEVICE_LOCAL, &m->buf, err);
    if (rc < 0) {
        free(m);
        return rc;
    }
    hk_vk_fill_zero(v->r, m);
    /* the upload copies whole quads: the data is padded to them first */
    size_t quads = (n + 3) / 4;
    uint8_t *padded = data ? calloc(quads, 16) : NULL;
    if (data && !padded) {
        hk_vk_release(v->r, m);
        return hk_error_set(err, -ENOMEM, "out of memory for a Vulkan upload");
    }
    if (data) {
        memcpy(padded, data, n * 4);
        copy_rows c = { padded };
        rc = hk_vk_upload(v->r, m, 16, (int64_t) quads, fill_copy, &c, err);
        free(padded);
        if (rc < 0) {
            hk_vk_release(v->r, m);
            return rc;
        }
    }
    *ret = m;
    return 0;
}

void
hk_vk_intent_release(hk_vk_intent *v, hk_vk_mem *m)
{
    if (m)
        hk_vk_release(v->r, m);
}

void
hk_vk_intent_read(hk_vk_intent *v, hk_vk_span s, size_t n, void *dst)
{
    hk_vk_read(v->r, s.mem, (VkDeviceSize) s.off * 4, n * 4, dst);
}

int
hk_vk_intent_sync(hk_vk_intent *v, hk_error *err)
{
    return hk_vk_recorder_sync(v->r, err);
}

/* ---------------------------------------------------------------- bindings */

static hk_vk_binding
in(uint32_t slot, hk_vk_span s)
{
    return (hk_vk_binding) { slot, s.mem->buf.buffer, s.mem, false };
}

static hk_vk_binding
out(uint32_t slot, hk_vk_span s)
{
    return (hk_vk_binding) { slot, s.mem->buf.buffer, s.mem, true };
}

/* Host data for this step's shaders at slot; *ret_off is where it starts
 * in the upload buffer, in 32-bit elements.  false after a failure. */
static bool
staged(hk_vk_intent *v, uint32_t slot, const void *data, size_t bytes, hk_vk_binding *ret,
       uint32_t *ret_off)
{
    VkBuffer buffer;
    VkDeviceSize offset;
    if (!hk_vk_stage(v->r, data, bytes, &buffer, &offset))
        return false;
    *ret = (hk_vk_binding) { slot, buffer, NULL, false };
    *ret_off = (uint32_t) (offset / 4);
    return true;
}

static void
run(hk_vk_intent *v, const char *shader, const void *push, uint32_t push_bytes,
    const hk_vk_binding *b, uint32_t n_bindings, uint64_t invocations)
{
    hk_vk_dispatch_1d(v->r, shader, spec, 1, push, push_bytes, b, n_bindings,
                      (invocations + WG - 1) / WG);
}

static void
fail_nomem(hk_vk_intent *v, const char *what)
{
    hk_error e = { 0 };
    hk_error_set(&e, -ENOMEM, "vulkan intent: out of memory for %s", what);
    hk_vk_recorder_fail(v->r, &e);
}

/* ---------------------------------------------------------------- embedding */

void
hk_vk_intent_embed_forward(hk_vk_intent *v, hk_vk_span E, uint32_t dim,
                           const hk_intent_features *f, uint32_t pad, hk_vk_span x)
{
    /* a text with no positions may have no feature arrays at all */
    uint32_t n_pos = f->n_positions, n_ids = n_pos ? f->start[n_pos] : 0;
    size_t n = (size_t) n_pos + 1 + n_ids;
    uint32_t *table = calloc(n, sizeof *table);
    if (!table) {
        fail_nomem(v, "a text's features");
        return;
    }
    if (n_pos)
        memcpy(table, f->start, (n_pos + 1) * sizeof *table);
    if (n_ids)
        memcpy(table + n_pos + 1, f->ids, n_ids * sizeof *table);
    hk_vk_binding b[3] = { in(0, E), { 0 }, out(2, x) };
    uint32_t at;
    bool ok = staged(v, 1, table, n * sizeof *table, &b[1], &at);
    free(table);
    if (!ok)
        return;
    struct hk_shader_intent_embed p = {
        .dim = dim, .n_pos = n_pos, .pad = pad, .start_off = at, .ids_off = at + n_pos + 1,
        .e_off = E.off, .x_off = x.off,
    };
    run(v, "intent_embed", &p, sizeof p, b, 3, (uint64_t) (n_pos + 2 * pad) * dim);
}

int
hk_vk_intent_rows_init(hk_vk_intent_rows *g, uint32_t n_buckets)
{
    memset(g, 0, sizeof *g);
    g->slot = malloc((size_t) n_buckets * sizeof *g->slot);
    if (!g->slot)
        return -ENOMEM;
    memset(g->slot, 0xff, (size_t) n_buckets * sizeof *g->slot);   /* all -1 */
    return 0;
}

void
hk_vk_intent_rows_reset(hk_vk_intent_rows *g)
{
    for (uint32_t i = 0; i < g->n_rows; i++)
        g->slot[g->rows[i]] = -1;
    g->n_rows = 0;
    g->n_entries = 0;
}

void
hk_vk_intent_rows_clear(hk_vk_intent_rows *g)
{
    free(g->rows);
    free(g->slot);
    free(g->entries);
    memset(g, 0, sizeof *g);
}

static int
touch(hk_vk_intent_rows *g, uint32_t id, uint32_t dx_row, float weight)
{
    if (g->slot[id] < 0) {
        if (g->n_rows == g->cap_rows) {
            uint32_t cap = g->cap_rows ? 2 * g->cap_rows : 256;
            uint32_t *rows = realloc(g->rows, cap * sizeof *rows);
            if (!rows)
                return -ENOMEM;
            g->rows = rows;
            g->cap_rows = cap;
        }
        g->slot[id] = (int32_t) g->n_rows;
        g->rows[g->n_rows++] = id;
    }
    if (g->n_entries == g->cap_entries) {
        size_t cap = g->cap_entries ? 2 * g->cap_entries : 1024;
        uint32_t *entries = realloc(g->entries, cap * 3 * sizeof *entries);
        if (!entries)
            return -ENOMEM;
        g->entries = entries;
        g->cap_entries = cap;
    }
    uint32_t *e = g->entries + 3 * g->n_entries++;
    e[0] = (uint32_t) g->slot[id];
    e[1] = dx_row;
    memcpy(&e[2], &weight, sizeof weight);
    return 0;
}

int
hk_vk_intent_rows_add(hk_vk_intent_rows *g, const hk_intent_features *f, uint32_t pad,
                      uint32_t dx_row0)
{
    for (uint32_t p = 0; p < f->n_positions; p++) {
        uint32_t a = f->start[p], b = f->start[p + 1];
        for (uint32_t i = a; i < b; i++)
            if (touch(g, f->ids[i], dx_row0 + pad + p, 1.0f / (float) (b - a)) < 0)
                return -ENOMEM;
    }
    return 0;
}

/* The shader's plan: row_start (n_rows + 1), then (dx row, weight) pairs
 * grouped by row, each group in the order it was added (a counting sort). */
static uint32_t *
gather_plan(const hk_vk_intent_rows *g, size_t *ret_n)
{
    size_t n = (size_t) g->n_rows + 1 + 2 * g->n_entries;
    uint32_t *plan = calloc(n, sizeof *plan), *start = plan, *pairs = plan + g->n_rows + 1;
    uint32_t *next = calloc(g->n_rows + 1, sizeof *next);
    if (!plan || !next) {
        free(plan);
        free(next);
        return NULL;
    }
    for (size_t e = 0; e < g->n_entries; e++)
        start[g->entries[3 * e] + 1]++;
    for (uint32_t r = 0; r < g->n_rows; r++)
        start[r + 1] += start[r];
    memcpy(next, start, (g->n_rows + 1) * sizeof *next);
    for (size_t e = 0; e < g->n_entries; e++) {
        uint32_t k = next[g->entries[3 * e]]++;
        pairs[2 * k] = g->entries[3 * e + 1];
        pairs[2 * k + 1] = g->entries[3 * e + 2];
    }
    free(next);
    *ret_n = n;
    return plan;
}

void
hk_vk_intent_embed_backward(hk_vk_intent *v, hk_vk_span dx, uint32_t dim,
                            const hk_vk_intent_rows *g, hk_vk_span grads)
{
    if (g->n_rows == 0)
        return;
    size_t n;
    uint32_t *plan = gather_plan(g, &n);
    if (!plan) {
        fail_nomem(v, "the embedding's gradient");
        return;
    }
    hk_vk_binding b[3] = { in(0, dx), { 0 }, out(2, grads) };
    uint32_t at;
    bool ok = staged(v, 1, plan, n * sizeof *plan, &b[1], &at);
    free(plan);
    if (!ok)
        return;
    struct hk_shader_intent_embed_backward p = {
        .dim = dim, .n_rows = g->n_rows, .dx_off = dx.off, .start_off = at,
        .entry_off = at + g->n_rows + 1, .grad_off = grads.off,
    };
    run(v, "intent_embed_backward", &p, sizeof p, b, 3, (uint64_t) g->n_rows * dim);
}

/* ---------------------------------------------------------------- convolution */

void
hk_vk_intent_conv_pool_forward(hk_vk_intent *v, hk_vk_span x, uint32_t n_pos, uint32_t dim,
                               hk_vk_span W, hk_vk_span b, uint32_t n_filters, uint32_t width,
                               hk_vk_span pooled, hk_vk_span argmax)
{
    struct hk_shader_intent_conv p = {
        .n_pos = n_pos, .dim = dim, .n_filters = n_filters, .width = width, .x_off = x.off,
        .w_off = W.off, .b_off = b.off, .pooled_off = pooled.off, .argmax_off = argmax.off,
    };
    hk_vk_binding bind[] = { in(0, x), in(1, W), in(2, b), out(3, pooled), out(4, argmax) };
    run(v, "intent_conv_pool", &p, sizeof p, bind, 5, n_filters);
}

void
hk_vk_intent_conv_pool_backward(hk_vk_intent *v, hk_vk_span dpooled, hk_vk_span argmax,
                                hk_vk_span x, uint32_t n_pos, uint32_t dim, hk_vk_span W,
                                uint32_t n_filters, uint32_t width, hk_vk_span dW,
                                hk_vk_span db, hk_vk_span dx)
{
    struct hk_shader_intent_conv p = {
        .n_pos = n_pos, .dim = dim, .n_filters = n_filters, .width = width, .x_off = x.off,
        .w_off = dW.off, .b_off = db.off, .pooled_off = dpooled.off, .argmax_off = argmax.off,
    };
    hk_vk_binding bw[] = { in(0, dpooled), in(1, argmax), in(2, x), out(3, dW), out(4, db) };
    run(v, "intent_conv_backward_w", &p, sizeof p, bw, 5,
        (uint64_t) n_filters * width * dim + n_filters);
    if (!dx.mem)
        return;
    p.x_off = dx.off;
    p.w_off = W.off;
    hk_vk_binding bx[] = { in(0, dpooled), in(1, argmax), in(2, W), out(3, dx) };
    run(v, "intent_conv_backward_x", &p, sizeof p, bx, 4, (uint64_t) n_pos * dim);
}

/* ---------------------------------------------------------------- dense, softmax, dropout */

void
hk_vk_intent_dense_forward(hk_vk_intent *v, hk_vk_span W, hk_vk_span b, hk_vk_span h,
                           uint32_t n_in, uint32_t n_out, hk_vk_span logits)
{
    struct hk_shader_intent_dense p = {
        .n_in = n_in, .n_out = n_out, .w_off = W.off, .b_off = b.off, .h_off = h.off,
        .y_off = logits.off,
    };
    hk_vk_binding bind[] = { in(0, W), in(1, b), in(2, h), out(3, logits) };
    run(v, "intent_dense", &p, sizeof p, bind, 4, n_out);
}

void
hk_vk_intent_dense_backward(hk_vk_intent *v, hk_vk_span W, hk_vk_span h, hk_vk_span dlogits,
                            uint32_t n_in, uint32_t n_out, hk_vk_span dW, hk_vk_span db,
                            hk_vk_span dh)
{
    struct hk_shader_intent_dense p = {
        .n_in = n_in, .n_out = n_out, .w_off = dW.off, .b_off = db.off, .h_off = h.off,
        .y_off = dlogits.off,
    };
    hk_vk_binding bw[] = { in(0, h), in(1, dlogits), out(2, dW), out(3, db) };
    run(v, "intent_dense_backward_w", &p, sizeof p, bw, 4, (uint64_t) n_out * n_in + n_out);
    p.w_off = W.off;
    p.h_off = dh.off;
    hk_vk_binding bx[] = { in(0, W), in(1, dlogits), out(2, dh) };
    run(v, "intent_dense_backward_x", &p, sizeof p, bx, 3, n_in);
}

static void
vector_op(hk_vk_intent *v, const char *shader, hk_vk_span src, hk_vk_span dst, uint32_t n,
          uint32_t label, float scale)
{
    struct hk_shader_intent_vector p = {
        .n = n, .in_off = src.off, .out_off = dst.off, .label = label, .scale = scale,
    };
    hk_vk_binding bind[] = { in(0, src), out(1, dst) };
    run(v, shader, &p, sizeof p, bind, 2, n);
}

void
hk_vk_intent_softmax(hk_vk_intent *v, hk_vk_span logits, uint32_t n, hk_vk_span probs)
{
    vector_op(v, "intent_softmax", logits, probs, n, 0, 1.0f);
}

void
hk_vk_intent_softmax_xent_grad(hk_vk_intent *v, hk_vk_span probs, uint32_t n, int label,
                               float scale, hk_vk_span dlogits)
{
    vector_op(v, "intent_xent_grad", probs, dlogits, n, (uint32_t) label, scale);
}

void
hk_vk_intent_mul(hk_vk_intent *v, hk_vk_span mask, uint32_t n, hk_vk_span h)
{
    vector_op(v, "intent_mul", mask, h, n, 0, 1.0f);
}

/* ---------------------------------------------------------------- Adam */

/* The bias corrections are computed here, as the CPU does, so both use
 * the same powf. */
static struct hk_shader_intent_adam
adam_params(const hk_intent_adam *a, uint32_t n, uint32_t dim, uint32_t p_off, uint32_t g_off)
{
    return (struct hk_shader_intent_adam) {
        .n = n, .dim = dim, .p_off = p_off, .g_off = g_off,
        .lr = a->lr, .beta1 = a->beta1, .beta2 = a->beta2, .eps = a->eps,
        .c1 = 1.0f - powf(a->beta1, (float) a->t), .c2 = 1.0f - powf(a->beta2, (float) a->t),
    };
}

void
hk_vk_intent_adam_dense(hk_vk_intent *v, const hk_intent_adam *a, hk_vk_span param,
                        hk_vk_span grad, hk_vk_span m, hk_vk_span vv, size_t n)
{
    /* the moments lie like the parameters: one offset serves all three */
    struct hk_shader_intent_adam p = adam_params(a, (uint32_t) n, 1, param.off, grad.off);
    if (m.off != param.off || vv.off != param.off) {
        hk_error e = { 0 };
        hk_error_set(&e, -EINVAL, "vulkan intent: Adam's moments must lie like the parameters");
        hk_vk_recorder_fail(v->r, &e);
        return;
    }
    hk_vk_binding b[] = { out(0, param), in(1, grad), out(2, m), out(3, vv) };
    run(v, "intent_adam_dense", &p, sizeof p, b, 4, n);
}

void
hk_vk_intent_adam_rows(hk_vk_intent *v, const hk_intent_adam *a, hk_vk_span E, uint32_t dim,
                       const hk_vk_intent_rows *g, hk_vk_span grads, hk_vk_span m,
                       hk_vk_span vv)
{
    if (g->n_rows == 0)
        return;
    if (m.off != E.off || vv.off != E.off) {
        hk_error e = { 0 };
        hk_error_set(&e, -EINVAL, "vulkan intent: Adam's moments must lie like the parameters");
        hk_vk_recorder_fail(v->r, &e);
        return;
    }
    hk_vk_binding b[5] = { out(0, E), in(1, grads), out(2, m), out(3, vv), { 0 } };
    uint32_t at;
    if (!staged(v, 4, g->rows, g->n_rows * sizeof *g->rows, &b[4], &at))
        return;
    struct hk_shader_intent_adam p = adam_params(a, g->n_rows * dim, dim, E.off, grads.off);
    p.rows_off = at;
    run(v, "intent_adam_rows", &p, sizeof p, b, 5, (uint64_t) g->n_rows * dim);
}

/* ---------------------------------------------------------------- a model */

struct hk_vk_intent_model {
    hk_vk_intent          *v;
    const hk_intent_model *m;
    hk_vk_mem             *embd, *block;     /* the weights */
    hk_vk_mem             *acts;             /* x, pooled, logits, probs */
    hk_vk_mem             *argmax;
    hk_intent_features     feats;
};

/* Where each activation starts in acts. */
static uint32_t
x_size(const hk_intent_hparams *hp)
{
    return (HK_INTENT_MAX_POSITIONS + 2 * HK_INTENT_PAD) * hp->dim;
}

static uint32_t
pooled_at(const hk_intent_hparams *hp)
{
    return x_size(hp);
}

static uint32_t
logits_at(const hk_intent_hparams *hp)
{
    return pooled_at(hp) + hk_intent_pooled_size(hp);
}

static uint32_t
probs_at(const hk_intent_hparams *hp)
{
    return logits_at(hp) + hp->n_labels;
}

static uint32_t
block_off(const hk_intent_model *m, const float *view)
{
    return (uint32_t) (view - m->block);
}

int
hk_vk_intent_model_new(hk_vk_intent *v, const hk_intent_model *m, hk_vk_intent_model **ret,
                       hk_error *err)
{
    const hk_intent_hparams *hp = &m->hp;
    hk_vk_intent_model *vm = calloc(1, sizeof *vm);
    if (!vm)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan intent model");
    vm->v = v;
    vm->m = m;
    int rc = hk_vk_intent_alloc(v, (size_t) hp->n_buckets * hp->dim, m->embd, &vm->embd, err);
    if (rc == 0)
        rc = hk_vk_intent_alloc(v, hk_intent_dense_size(hp), m->block, &vm->block, err);
    if (rc == 0)
        rc = hk_vk_intent_alloc(v, probs_at(hp) + hp->n_labels, NULL, &vm->acts, err);
    if (rc == 0)
        rc = hk_vk_intent_alloc(v, hk_intent_pooled_size(hp), NULL, &vm->argmax, err);
    if (rc == 0)
        rc = hk_vk_intent_sync(v, err);
    if (rc < 0) {
        hk_vk_intent_model_free(vm);
        return rc;
    }
    *ret = vm;
    return 0;
}

void
hk_vk_intent_model_free(hk_vk_intent_model *vm)
{
    if (!vm)
        return;
    hk_vk_intent_release(vm->v, vm->embd);
    hk_vk_intent_release(vm->v, vm->block);
    hk_vk_intent_release(vm->v, vm->acts);
    hk_vk_intent_release(vm->v, vm->argmax);
    hk_intent_features_clear(&vm->feats);
    free(vm);
}

int
hk_vk_intent_classify(hk_vk_intent_model *vm, const char *text, float *probs, hk_error *err)
{
    const hk_intent_model *m = vm->m;
    const hk_intent_hparams *hp = &m->hp;
    hk_vk_intent *v = vm->v;
    if (!text)
        return hk_error_set(err, -EINVAL, "no text to classify");
    if (hk_intent_featurize(text, hp->hash_seed, hp->n_buckets, &vm->feats) < 0)
        return hk_error_set(err, -ENOMEM, "out of memory classifying a text of %zu bytes",
                            strlen(text));

    hk_vk_intent_embed_forward(v, (hk_vk_span) { vm->embd, 0 }, hp->dim, &vm->feats,
                               HK_INTENT_PAD, (hk_vk_span) { vm->acts, 0 });
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        uint32_t w = hk_intent_widths[k];
        /* a width sees w - 1 of the pad rows on each side, as intent.c's window_offset */
        hk_vk_span x = { vm->acts, (HK_INTENT_PAD - (w - 1)) * hp->dim };
        hk_vk_span W = { vm->block, block_off(m, m->w.conv_w[k]) };
        hk_vk_span b = { vm->block, block_off(m, m->w.conv_b[k]) };
        hk_vk_intent_conv_pool_forward(v, x, vm->feats.n_positions + 2 * (w - 1), hp->dim, W,
                                       b, hp->n_filters, w,
                                       (hk_vk_span) { vm->acts, pooled_at(hp) + k * hp->n_filters },
                                       (hk_vk_span) { vm->argmax, k * hp->n_filters });
    }
    hk_vk_intent_dense_forward(v, (hk_vk_span) { vm->block, block_off(m, m->w.out_w) },
                               (hk_vk_span) { vm->block, block_off(m, m->w.out_b) },
                               (hk_vk_span) { vm->acts, pooled_at(hp) },
                               hk_intent_pooled_size(hp), hp->n_labels,
                               (hk_vk_span) { vm->acts, logits_at(hp) });
    hk_vk_span out = { vm->acts, probs_at(hp) };
    hk_vk_intent_softmax(v, (hk_vk_span) { vm->acts, logits_at(hp) }, hp->n_labels, out);
    hk_vk_intent_read(v, out, hp->n_labels, probs);
    return hk_vk_intent_sync(v, err);
}

/* ---------------------------------------------------------------- training */

/* Per example of a batch, in acts: pooled, dpooled (n_pooled each), then
 * logits, probs, dlogits (n_labels each). */
struct hk_vk_intent_trainer {
    hk_vk_intent      *v;
    hk_intent_model   *m;
    uint32_t           max_batch;
    hk_intent_adam     adam;
    hk_vk_mem         *embd, *block, *grad;
    hk_vk_mem         *m_dense, *v_dense, *m_embd, *v_embd;
    hk_vk_mem         *x, *dx;       /* (max_batch, x_size) */
    hk_vk_mem         *acts, *argmax, *masks;
    hk_vk_mem         *row_grads;    /* (cap_rows, dim) */
    uint32_t           cap_rows;
    float             *host_masks;   /* (max_batch, n_pooled), padded to whole quads */
    hk_vk_intent_rows  plan;
    hk_intent_features feats;
};

static uint32_t
example_stride(const hk_intent_hparams *hp)
{
    return 2 * hk_intent_pooled_size(hp) + 3 * hp->n_labels;
}

void
hk_vk_intent_trainer_free(hk_vk_intent_trainer *t)
{
    if (!t)
        return;
    hk_vk_mem *mems[] = { t->embd, t->block, t->grad, t->m_dense, t->v_dense, t->m_embd,
                          t->v_embd, t->x, t->dx, t->acts, t->argmax, t->masks, t->row_grads };
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        hk_vk_intent_release(t->v, mems[i]);
    free(t->host_masks);
    hk_vk_intent_rows_clear(&t->plan);
    hk_intent_features_clear(&t->feats);
    free(t);
}

int
hk_vk_intent_trainer_new(hk_vk_intent *v, hk_intent_model *m, uint32_t max_batch,
                         const hk_intent_adam *adam, hk_vk_intent_trainer **ret, hk_error *err)
{
    const hk_intent_hparams *hp = &m->hp;
    size_t n_dense = hk_intent_dense_size(hp), n_embd = (size_t) hp->n_buckets * hp->dim;
    size_t n_pooled = hk_intent_pooled_size(hp);
    if (max_batch < 1)
        return hk_error_set(err, -EINVAL, "vulkan intent: a batch needs at least 1 example");
    hk_vk_intent_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan intent trainer");
    *t = (hk_vk_intent_trainer) { .v = v, .m = m, .max_batch = max_batch, .adam = *adam };
    t->host_masks = calloc(max_batch * n_pooled + 3, sizeof *t->host_masks);
    if (!t->host_masks || hk_vk_intent_rows_init(&t->plan, hp->n_buckets) < 0) {
        hk_vk_intent_trainer_free(t);
        return hk_error_set(err, -ENOMEM, "out of memory for the Vulkan intent trainer");
    }
    int rc = hk_vk_intent_alloc(v, n_embd, m->embd, &t->embd, err);
    if (rc == 0)
        rc = hk_vk_intent_alloc(v, n_dense, m->block, &t->block, err);
    hk_vk_mem **zeroed[] = { &t->grad, &t->m_dense, &t->v_dense, &t->m_embd, &t->v_embd,
                             &t->x, &t->dx, &t->acts, &t->argmax, &t->masks };
    size_t sizes[] = { n_dense, n_dense, n_dense, n_embd, n_embd,
                       (size_t) max_batch * x_size(hp), (size_t) max_batch * x_size(hp),
                       (size_t) max_batch * example_stride(hp), max_batch * n_pooled,
                       max_batch * n_pooled };
    for (size_t i = 0; rc == 0 && i < sizeof sizes / sizeof *sizes; i++)
        rc = hk_vk_intent_alloc(v, sizes[i], NULL, zeroed[i], err);
    if (rc == 0)
        rc = hk_vk_intent_sync(v, err);
    if (rc < 0) {
        hk_vk_intent_trainer_free(t);
        return rc;
    }
    *ret = t;
    return 0;
}

/* Room on the device for the gradients of n_rows embedding rows. */
static int
reserve_rows(hk_vk_intent_trainer *t, uint32_t n_rows, hk_error *err)
{
    if (n_rows <= t->cap_rows)
        return 0;
    uint32_t cap = t->cap_rows ? t->cap_rows : 256;
    while (cap < n_rows)
        cap *= 2;
    hk_vk_intent_release(t->v, t->row_grads);
    t->row_grads = NULL;
    t->cap_rows = 0;
    int rc = hk_vk_intent_alloc(t->v, (size_t) cap * t->m->hp.dim, NULL, &t->row_grads, err);
    if (rc == 0)
        t->cap_rows = cap;
    return rc;
}

/* n elements of data (readable up to whole quads) to the start of mem. */
static int
write_all(hk_vk_intent *v, hk_vk_mem *mem, const void *data, size_t n, hk_error *err)
{
    copy_rows c = { data };
    return hk_vk_upload(v->r, mem, 16, (int64_t) ((n + 3) / 4), fill_copy, &c, err);
}

static hk_vk_span
dense_view(hk_vk_intent_trainer *t, hk_vk_mem *mem, const float *view)
{
    return (hk_vk_span) { mem, block_off(t->m, view) };
}

/* Example i's forward and backward pass, its dense gradients added to
 * grad and its dx kept for the embedding's backward pass. */
static void
record_example(hk_vk_intent_trainer *t, uint32_t i, int label, float scale, bool dropout)
{
    const hk_intent_model *m = t->m;
    const hk_intent_hparams *hp = &m->hp;
    uint32_t n_pooled = hk_intent_pooled_size(hp), F = hp->n_filters, L = hp->n_labels;
    uint32_t xo = i * x_size(hp), ao = i * example_stride(hp), mo = i * n_pooled;
    hk_vk_span pooled = { t->acts, ao }, dpooled = { t->acts, ao + n_pooled };
    hk_vk_span logits = { t->acts, ao + 2 * n_pooled }, probs = { t->acts, logits.off + L };
    hk_vk_span dlogits = { t->acts, probs.off + L }, mask = { t->masks, mo };

    hk_vk_intent_embed_forward(t->v, (hk_vk_span) { t->embd, 0 }, hp->dim, &t->feats,
                               HK_INTENT_PAD, (hk_vk_span) { t->x, xo });
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        uint32_t w = hk_intent_widths[k], off = xo + (HK_INTENT_PAD - (w - 1)) * hp->dim;
        hk_vk_intent_conv_pool_forward(t->v, (hk_vk_span) { t->x, off },
                                       t->feats.n_positions + 2 * (w - 1), hp->dim,
                                       dense_view(t, t->block, m->w.conv_w[k]),
                                       dense_view(t, t->block, m->w.conv_b[k]), F, w,
                                       (hk_vk_span) { t->acts, ao + k * F },
                                       (hk_vk_span) { t->argmax, mo + k * F });
    }
    if (dropout)
        hk_vk_intent_mul(t->v, mask, n_pooled, pooled);
    hk_vk_intent_dense_forward(t->v, dense_view(t, t->block, m->w.out_w),
                               dense_view(t, t->block, m->w.out_b), pooled, n_pooled, L, logits);
    hk_vk_intent_softmax(t->v, logits, L, probs);

    hk_vk_intent_softmax_xent_grad(t->v, probs, L, label, scale, dlogits);
    hk_vk_intent_dense_backward(t->v, dense_view(t, t->block, m->w.out_w), pooled, dlogits,
                                n_pooled, L, dense_view(t, t->grad, m->w.out_w),
                                dense_view(t, t->grad, m->w.out_b), dpooled);
    if (dropout)
        hk_vk_intent_mul(t->v, mask, n_pooled, dpooled);
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        uint32_t w = hk_intent_widths[k], off = xo + (HK_INTENT_PAD - (w - 1)) * hp->dim;
        hk_vk_intent_conv_pool_backward(t->v, (hk_vk_span) { t->acts, dpooled.off + k * F },
                                        (hk_vk_span) { t->argmax, mo + k * F },
                                        (hk_vk_span) { t->x, off },
                                        t->feats.n_positions + 2 * (w - 1), hp->dim,
                                        dense_view(t, t->block, m->w.conv_w[k]), F, w,
                                        dense_view(t, t->grad, m->w.conv_w[k]),
                                        dense_view(t, t->grad, m->w.conv_b[k]),
                                        (hk_vk_span) { t->dx, off });
    }
}

int
hk_vk_intent_train_step(hk_vk_intent_trainer *t, const hk_intent_example *batch, size_t n,
                        const float *masks, hk_error *err)
{
    const hk_intent_hparams *hp = &t->m->hp;
    uint32_t n_pooled = hk_intent_pooled_size(hp);
    if (n < 1 || n > t->max_batch)
        return hk_error_set(err, -EINVAL, "vulkan intent: a batch of %zu examples, not 1 to %u",
                            n, t->max_batch);
    for (size_t i = 0; i < n; i++)
        if (!batch[i].text || batch[i].label < 0 || (uint32_t) batch[i].label >= hp->n_labels)
            return hk_error_set(err, -EINVAL, "vulkan intent: example %zu has no text or a label "
                                "out of range", i);

    hk_vk_fill_zero(t->v->r, t->grad);
    hk_vk_fill_zero(t->v->r, t->dx);
    hk_vk_intent_rows_reset(&t->plan);
    /* the masks first: recording an example needs them on the device
     * (copied to the padded buffer the upload reads whole quads of) */
    if (masks)
        memcpy(t->host_masks, masks, n * n_pooled * sizeof *masks);
    int rc = masks ? write_all(t->v, t->masks, t->host_masks, n * n_pooled, err) : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (hk_intent_featurize(batch[i].text, hp->hash_seed, hp->n_buckets, &t->feats) < 0 ||
            hk_vk_intent_rows_add(&t->plan, &t->feats, HK_INTENT_PAD, (uint32_t) i * x_size(hp) / hp->dim) < 0)
            rc = hk_error_set(err, -ENOMEM, "out of memory for a training step");
        else
            record_example(t, (uint32_t) i, batch[i].label, 1.0f / (float) n, masks != NULL);
    }
    if (rc == 0)
        rc = reserve_rows(t, t->plan.n_rows, err);
    if (rc < 0) {
        hk_vk_intent_sync(t->v, &(hk_error) { 0 });
        return rc;
    }
    hk_vk_span rows = { t->row_grads, 0 };
    hk_vk_intent_embed_backward(t->v, (hk_vk_span) { t->dx, 0 }, hp->dim, &t->plan, rows);
    t->adam.t++;
    hk_vk_intent_adam_dense(t->v, &t->adam, (hk_vk_span) { t->block, 0 },
                            (hk_vk_span) { t->grad, 0 }, (hk_vk_span) { t->m_dense, 0 },
                            (hk_vk_span) { t->v_dense, 0 }, hk_intent_dense_size(hp));
    hk_vk_intent_adam_rows(t->v, &t->adam, (hk_vk_span) { t->embd, 0 }, hp->dim, &t->plan, rows,
                           (hk_vk_span) { t->m_embd, 0 }, (hk_vk_span) { t->v_embd, 0 });
    return hk_vk_intent_sync(t->v, err);
}

int
hk_vk_intent_trainer_download(hk_vk_intent_trainer *t, hk_error *err)
{
    const hk_intent_hparams *hp = &t->m->hp;
    hk_vk_intent_read(t->v, (hk_vk_span) { t->embd, 0 }, (size_t) hp->n_buckets * hp->dim,
                      t->m->embd);
    hk_vk_intent_read(t->v, (hk_vk_span) { t->block, 0 }, hk_intent_dense_size(hp), t->m->block);
    return hk_vk_intent_sync(t->v, err);
}
