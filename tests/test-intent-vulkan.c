/* The intent CNN's ops on Vulkan (service/engine/vulkan/vk-intent.h)
 * against the CPU's (intent-ops.h): the same random inputs to both, in
 * shapes that fill no workgroup evenly, forward and backward, compared by
 * normalized mean squared error (at most 1e-5); then whole classifies of
 * the model the build trains, at the shipped size.
 *
 * CI runs it on Mesa's lavapipe; without a Vulkan device (or a build
 * without the backend) it is skipped, visibly. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "hk-check.h"
#include "hk-intent-data.h"
#include "hk-nmse.h"
#include "hk-rng.h"
#include "hk-subprocess.h"
#include "hk-tmpdir.h"
#include "intent-private.h"
#include "vulkan/vk-config.h"

#if HK_HAVE_VULKAN
#include "vulkan/vk-intent.h"

#define MAX_NMSE 1e-5

/* One runner for the whole program: making the pipelines is the slow part
 * on lavapipe. */
static hk_vk_intent *vk;

static float *
random_floats(size_t n, float lo, float hi)
{
    float *x = g_new(float, n);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float) hk_rng_uniform();
    return x;
}

static hk_vk_span
upload(const void *data, size_t n)
{
    hk_vk_mem *m;
    hk_error err = { 0 };
    ck_assert_msg(hk_vk_intent_alloc(vk, n, data, &m, &err) == 0, "%s", err.message);
    return (hk_vk_span) { m, 0 };
}

/* n elements of s, after everything recorded has run. */
static float *
download(hk_vk_span s, size_t n)
{
    float *x = g_new(float, n);
    hk_error err = { 0 };
    hk_vk_intent_read(vk, s, n, x);
    ck_assert_msg(hk_vk_intent_sync(vk, &err) == 0, "%s", err.message);
    return x;
}

static void
release(hk_vk_span s)
{
    hk_vk_intent_release(vk, s.mem);
}

static void
assert_close(const char *what, hk_vk_span got_on_device, const float *want, size_t n)
{
    float *got = download(got_on_device, n);
    double e = hk_nmse(got, want, n);
    ck_assert_msg(e <= MAX_NMSE, "%s: NMSE %g over %zu values", what, e, n);
    g_free(got);
}

static const char *const texts[] = {
    "set a timer for 5 minutes",
    "wie wird das Wetter morgen in München",
    "把声音调大一点",
    "x",
    "",
    "what's the weather like in the mountains this weekend, and should I bring an umbrella?",
};

/* ---------------------------------------------------------------- embedding */

START_TEST(test_embed_forward)
{
    static const uint32_t dims[] = { 1, 13, 64 };
    uint32_t n_buckets = 211, dim = dims[_i % 3];
    const char *text = texts[_i % G_N_ELEMENTS(texts)];
    hk_rng_state = 10 + _i;
    float *E = random_floats((size_t) n_buckets * dim, -1, 1);
    hk_intent_features f = { 0 };
    ck_assert_int_eq(hk_intent_featurize(text, 5, n_buckets, &f), 0);
    size_t n = (size_t) (f.n_positions + 2 * HK_INTENT_PAD) * dim;
    float *want = g_new(float, n);
    hk_intent_embed_forward(E, dim, &f, HK_INTENT_PAD, want);

    /* the output at an offset, after a row of garbage it must leave alone */
    float *junk = random_floats(n + dim, 5, 6);
    hk_vk_span e = upload(E, (size_t) n_buckets * dim), x = upload(junk, n + dim);
    hk_vk_intent_embed_forward(vk, e, dim, &f, HK_INTENT_PAD, (hk_vk_span) { x.mem, dim });
    assert_close("embed", (hk_vk_span) { x.mem, dim }, want, n);
    float *first = download(x, dim);
    ck_assert(memcmp(first, junk, dim * sizeof *first) == 0);

    g_free(first);
    release(e);
    release(x);
    hk_intent_features_clear(&f);
    g_free(E);
    g_free(want);
    g_free(junk);
}
END_TEST

/* Several texts of one batch, each embedded at its own rows of dx. */
START_TEST(test_embed_backward)
{
    uint32_t n_buckets = 97, dim = _i == 0 ? 7 : 64, n_texts = _i == 0 ? 1 : 4;
    uint32_t rows_per_text = HK_INTENT_MAX_POSITIONS + 2 * HK_INTENT_PAD;
    hk_rng_state = 20 + _i;
    float *dx = random_floats((size_t) n_texts * rows_per_text * dim, -1, 1);
    hk_intent_row_grads want;
    hk_vk_intent_rows plan;
    ck_assert_int_eq(hk_intent_row_grads_init(&want, n_buckets, dim), 0);
    ck_assert_int_eq(hk_vk_intent_rows_init(&plan, n_buckets), 0);
    hk_intent_features f = { 0 };
    for (uint32_t t = 0; t < n_texts; t++) {
        ck_assert_int_eq(hk_intent_featurize(texts[t], 3, n_buckets, &f), 0);
        ck_assert_int_eq(hk_intent_embed_backward(dx + (size_t) t * rows_per_text * dim, &f,
                                                  HK_INTENT_PAD, &want), 0);
        ck_assert_int_eq(hk_vk_intent_rows_add(&plan, &f, HK_INTENT_PAD, t * rows_per_text), 0);
    }
    ck_assert_uint_eq(plan.n_rows, want.n_rows);
    ck_assert(memcmp(plan.rows, want.rows, want.n_rows * sizeof *want.rows) == 0);

    hk_vk_span d = upload(dx, (size_t) n_texts * rows_per_text * dim);
    hk_vk_span g = upload(NULL, (size_t) want.n_rows * dim);
    hk_vk_intent_embed_backward(vk, d, dim, &plan, g);
    assert_close("embed backward", g, want.grads, (size_t) want.n_rows * dim);

    /* a reset plan starts over, as the CPU's row gradients do */
    hk_vk_intent_rows_reset(&plan);
    ck_assert_uint_eq(plan.n_rows, 0);
    ck_assert_int_eq(hk_vk_intent_rows_add(&plan, &f, HK_INTENT_PAD, 0), 0);
    ck_assert_uint_gt(plan.n_rows, 0);

    release(d);
    release(g);
    hk_intent_features_clear(&f);
    hk_intent_row_grads_clear(&want);
    hk_vk_intent_rows_clear(&plan);
    g_free(dx);
}
END_TEST

/* ---------------------------------------------------------------- convolution */

typedef struct conv_shape {
    uint32_t n_pos, dim, n_filters, width;
} conv_shape;

static const conv_shape conv_shapes[] = {
    { 2, 1, 1, 2 }, { 5, 8, 7, 2 }, { 9, 13, 33, 3 }, { 4, 64, 64, 4 }, { 40, 64, 65, 3 },
};

START_TEST(test_conv_pool_forward)
{
    conv_shape s = conv_shapes[_i];
    size_t span = (size_t) s.width * s.dim;
    hk_rng_state = 30 + _i;
    float *x = random_floats((size_t) s.n_pos * s.dim, -1, 1);
    float *W = random_floats(s.n_filters * span, -0.5f, 0.5f);
    float *b = random_floats(s.n_filters, -0.5f, 0.1f);   /* some filters never fire */
    float *pooled = g_new(float, s.n_filters);
    int32_t *argmax = g_new(int32_t, s.n_filters);
    hk_intent_conv_pool_forward(x, s.n_pos, s.dim, W, b, s.n_filters, s.width, pooled, argmax);

    hk_vk_span vx = upload(x, (size_t) s.n_pos * s.dim), vw = upload(W, s.n_filters * span);
    hk_vk_span vb = upload(b, s.n_filters), out = upload(NULL, 2 * s.n_filters);
    hk_vk_intent_conv_pool_forward(vk, vx, s.n_pos, s.dim, vw, vb, s.n_filters, s.width, out,
                                   (hk_vk_span) { out.mem, s.n_filters });
    assert_close("pooled", out, pooled, s.n_filters);
    int32_t *got = (int32_t *) download((hk_vk_span) { out.mem, s.n_filters }, s.n_filters);
    for (uint32_t k = 0; k < s.n_filters; k++)
        ck_assert_msg(got[k] == argmax[k], "filter %u: window %d, the CPU's %d", k, got[k], argmax[k]);

    release(vx);
    release(vw);
    release(vb);
    release(out);
    g_free(got);
    g_free(x);
    g_free(W);
    g_free(b);
    g_free(pooled);
    g_free(argmax);
}
END_TEST

/* The gradients add to what dW, db and dx already hold; filters that did
 * not fire (argmax -1) or got no gradient leave them alone. */
START_TEST(test_conv_pool_backward)
{
    conv_shape s = conv_shapes[_i];
    size_t span = (size_t) s.width * s.dim, nx = (size_t) s.n_pos * s.dim;
    hk_rng_state = 40 + _i;
    float *x = random_floats(nx, -1, 1), *W = random_floats(s.n_filters * span, -0.5f, 0.5f);
    float *dp = random_floats(s.n_filters, -1, 1);
    float *dW = random_floats(s.n_filters * span, -1, 1), *db = random_floats(s.n_filters, -1, 1);
    float *dx = random_floats(nx, -1, 1);
    int32_t *argmax = g_new(int32_t, s.n_filters);
    /* several filters win the same window, the case a scatter gets wrong */
    for (uint32_t k = 0; k < s.n_filters; k++)
        argmax[k] = k % 5 == 4 ? -1 : (int32_t) (hk_rng_uniform() * (s.n_pos - s.width + 1) / 2);
    dp[0] = 0.0f;

    hk_vk_span vdp = upload(dp, s.n_filters), va = upload(argmax, s.n_filters);
    hk_vk_span vx = upload(x, nx), vw = upload(W, s.n_filters * span);
    hk_vk_span vdw = upload(dW, s.n_filters * span), vdb = upload(db, s.n_filters);
    hk_vk_span vdx = upload(dx, nx);
    hk_intent_conv_pool_backward(dp, argmax, x, s.dim, W, s.n_filters, s.width, dW, db, dx);
    hk_vk_intent_conv_pool_backward(vk, vdp, va, vx, s.n_pos, s.dim, vw, s.n_filters, s.width,
                                    vdw, vdb, vdx);
    assert_close("conv dW", vdw, dW, s.n_filters * span);
    assert_close("conv db", vdb, db, s.n_filters);
    assert_close("conv dx", vdx, dx, nx);

    hk_vk_span spans[] = { vdp, va, vx, vw, vdw, vdb, vdx };
    for (size_t i = 0; i < G_N_ELEMENTS(spans); i++)
        release(spans[i]);
    g_free(x);
    g_free(W);
    g_free(dp);
    g_free(dW);
    g_free(db);
    g_free(dx);
    g_free(argmax);
}
END_TEST

/* ---------------------------------------------------------------- dense, softmax, dropout */

static const uint32_t dense_shapes[][2] = { { 1, 2 }, { 7, 3 }, { 192, 24 }, { 65, 33 } };

START_TEST(test_dense_forward)
{
    uint32_t n_in = dense_shapes[_i][0], n_out = dense_shapes[_i][1];
    hk_rng_state = 50 + _i;
    float *W = random_floats((size_t) n_in * n_out, -1, 1), *b = random_floats(n_out, -1, 1);
    float *h = random_floats(n_in, 0, 2), *want = g_new(float, n_out);
    hk_intent_dense_forward(W, b, h, n_in, n_out, want);

    hk_vk_span vw = upload(W, (size_t) n_in * n_out), vb = upload(b, n_out), vh = upload(h, n_in);
    hk_vk_span y = upload(NULL, n_out);
    hk_vk_intent_dense_forward(vk, vw, vb, vh, n_in, n_out, y);
    assert_close("dense", y, want, n_out);

    release(vw);
    release(vb);
    release(vh);
    release(y);
    g_free(W);
    g_free(b);
    g_free(h);
    g_free(want);
}
END_TEST

START_TEST(test_dense_backward)
{
    uint32_t n_in = dense_shapes[_i][0], n_out = dense_shapes[_i][1];
    size_t nw = (size_t) n_in * n_out;
    hk_rng_state = 60 + _i;
    float *W = random_floats(nw, -1, 1), *h = random_floats(n_in, 0, 2);
    float *dy = random_floats(n_out, -1, 1), *dW = random_floats(nw, -1, 1);
    float *db = random_floats(n_out, -1, 1), *dh = g_new(float, n_in);

    hk_vk_span vw = upload(W, nw), vh = upload(h, n_in), vdy = upload(dy, n_out);
    hk_vk_span vdw = upload(dW, nw), vdb = upload(db, n_out), vdh = upload(NULL, n_in);
    hk_intent_dense_backward(W, h, dy, n_in, n_out, dW, db, dh);
    hk_vk_intent_dense_backward(vk, vw, vh, vdy, n_in, n_out, vdw, vdb, vdh);
    assert_close("dense dW", vdw, dW, nw);
    assert_close("dense db", vdb, db, n_out);
    assert_close("dense dh", vdh, dh, n_in);

    hk_vk_span spans[] = { vw, vh, vdy, vdw, vdb, vdh };
    for (size_t i = 0; i < G_N_ELEMENTS(spans); i++)
        release(spans[i]);
    g_free(W);
    g_free(h);
    g_free(dy);
    g_free(dW);
    g_free(db);
    g_free(dh);
}
END_TEST

/* Large logits too: the maximum is subtracted before exp on both sides. */
START_TEST(test_softmax_and_loss_grad)
{
    static const uint32_t sizes[] = { 2, 24, 67 };
    uint32_t n = sizes[_i];
    hk_rng_state = 70 + _i;
    float *logits = random_floats(n, -30, 90), *probs = g_new(float, n), *d = g_new(float, n);
    hk_intent_softmax(logits, n, probs);
    hk_intent_softmax_xent_grad(probs, n, (int) n - 1, 0.25f, d);

    hk_vk_span vl = upload(logits, n), vp = upload(NULL, n), vd = upload(NULL, n);
    hk_vk_intent_softmax(vk, vl, n, vp);
    hk_vk_intent_softmax_xent_grad(vk, vp, n, (int) n - 1, 0.25f, vd);
    assert_close("softmax", vp, probs, n);
    assert_close("cross-entropy gradient", vd, d, n);

    release(vl);
    release(vp);
    release(vd);
    g_free(logits);
    g_free(probs);
    g_free(d);
}
END_TEST

START_TEST(test_dropout_mask)
{
    uint32_t n = 193;
    uint64_t rng = 5;
    hk_rng_state = 80;
    float *h = random_floats(n, -1, 1), *mask = g_new(float, n);
    hk_vk_span vh = upload(h, n);
    hk_intent_dropout_forward(h, n, 0.3f, &rng, mask);
    hk_vk_span vm = upload(mask, n);
    hk_vk_intent_mul(vk, vm, n, vh);
    assert_close("dropout", vh, h, n);

    release(vh);
    release(vm);
    g_free(h);
    g_free(mask);
}
END_TEST

/* ---------------------------------------------------------------- Adam */

START_TEST(test_adam_dense)
{
    size_t n = _i == 0 ? 5 : 70001;
    hk_intent_adam a = { .lr = 5e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = 1 + 6 * _i };
    hk_rng_state = 90 + _i;
    float *p = random_floats(n, -1, 1), *g = random_floats(n, -1, 1);
    float *m = random_floats(n, -0.1f, 0.1f), *v = random_floats(n, 0, 0.01f);
    hk_vk_span vp = upload(p, n), vg = upload(g, n), vm = upload(m, n), vv = upload(v, n);
    hk_intent_adam_dense(&a, p, g, m, v, n);
    hk_vk_intent_adam_dense(vk, &a, vp, vg, vm, vv, n);
    assert_close("adam param", vp, p, n);
    assert_close("adam m", vm, m, n);
    assert_close("adam v", vv, v, n);

    release(vp);
    release(vg);
    release(vm);
    release(vv);
    g_free(p);
    g_free(g);
    g_free(m);
    g_free(v);
}
END_TEST

/* Only the touched rows move; the others keep their weights and moments. */
START_TEST(test_adam_rows)
{
    uint32_t n_buckets = 301, dim = 9;
    size_t n = (size_t) n_buckets * dim;
    hk_intent_adam a = { .lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = 4 };
    hk_rng_state = 100;
    float *E = random_floats(n, -1, 1), *m = random_floats(n, -0.1f, 0.1f);
    float *v = random_floats(n, 0, 0.01f);
    hk_intent_row_grads rows;
    hk_vk_intent_rows plan;
    hk_intent_features f = { 0 };
    ck_assert_int_eq(hk_intent_row_grads_init(&rows, n_buckets, dim), 0);
    ck_assert_int_eq(hk_vk_intent_rows_init(&plan, n_buckets), 0);
    ck_assert_int_eq(hk_intent_featurize(texts[0], 1, n_buckets, &f), 0);
    size_t nx = (size_t) (f.n_positions + 2 * HK_INTENT_PAD) * dim;
    float *dx = random_floats(nx, -1, 1);
    ck_assert_int_eq(hk_intent_embed_backward(dx, &f, HK_INTENT_PAD, &rows), 0);
    ck_assert_int_eq(hk_vk_intent_rows_add(&plan, &f, HK_INTENT_PAD, 0), 0);

    hk_vk_span vE = upload(E, n), vm = upload(m, n), vv = upload(v, n);
    hk_vk_span grads = upload(rows.grads, (size_t) rows.n_rows * dim);
    hk_intent_adam_rows(&a, E, &rows, m, v);
    hk_vk_intent_adam_rows(vk, &a, vE, dim, &plan, grads, vm, vv);
    assert_close("adam rows E", vE, E, n);
    assert_close("adam rows m", vm, m, n);
    assert_close("adam rows v", vv, v, n);

    release(vE);
    release(vm);
    release(vv);
    release(grads);
    hk_intent_features_clear(&f);
    hk_intent_row_grads_clear(&rows);
    hk_vk_intent_rows_clear(&plan);
    g_free(E);
    g_free(m);
    g_free(v);
    g_free(dx);
}
END_TEST

/* ---------------------------------------------------------------- a training step */

static const char *const train_labels[] = { "a", "b", "c", "d", "e" };

static hk_intent_model *
random_model(uint32_t dim, uint32_t n_filters)
{
    hk_intent_hparams hp = { .n_buckets = 509, .dim = dim, .n_filters = n_filters, .n_labels = 5,
                             .hash_seed = 7 };
    hk_intent_model *m;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_intent_model_new(&hp, train_labels, &m, &err), 0);
    hk_rng_state = 110;
    for (size_t i = 0; i < (size_t) hp.n_buckets * hp.dim; i++)
        m->embd[i] = 0.3f * hk_rng_normal();
    for (size_t i = 0; i < hk_intent_dense_size(&hp); i++)
        m->block[i] = 0.3f * hk_rng_normal();
    return m;
}

/* intent-train.c's step, over the CPU ops. */
static void
cpu_step(hk_intent_model *m, hk_intent_adam *a, const hk_intent_example *batch, size_t n,
         float dropout, uint64_t *rng, float *grad_block, float *m_dense, float *v_dense,
         float *m_embd, float *v_embd)
{
    hk_intent_dense grad;
    hk_intent_row_grads rows;
    hk_intent_acts acts;
    hk_intent_dense_views(&m->hp, grad_block, &grad);
    ck_assert_int_eq(hk_intent_row_grads_init(&rows, m->hp.n_buckets, m->hp.dim), 0);
    ck_assert_int_eq(hk_intent_acts_init(&acts, &m->hp), 0);
    memset(grad_block, 0, hk_intent_dense_size(&m->hp) * sizeof *grad_block);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(hk_intent_forward(m, &acts, batch[i].text, dropout, rng), 0);
        ck_assert_int_eq(hk_intent_backward(m, &acts, batch[i].label, 1.0f / (float) n, &grad, &rows), 0);
    }
    a->t++;
    hk_intent_adam_dense(a, m->block, grad_block, m_dense, v_dense, hk_intent_dense_size(&m->hp));
    hk_intent_adam_rows(a, m->embd, &rows, m_embd, v_embd);
    hk_intent_row_grads_clear(&rows);
    hk_intent_acts_clear(&acts);
}

/* A few steps of training on both, with dropout: the weights agree. */
START_TEST(test_train_steps)
{
    static const hk_intent_example batch[] = {
        { "turn it up a bit", 0 }, { "定一个五分钟的计时器", 1 }, { "what is the weather", 2 },
        { "", 3 }, { "cancel that cancel that please", 4 }, { "hello there", 1 },
    };
    uint32_t dim = _i == 0 ? 8 : 64, n_filters = _i == 0 ? 5 : 64;
    hk_intent_model *cpu = random_model(dim, n_filters), *gpu = random_model(dim, n_filters);
    hk_intent_adam a = { .lr = 5e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f };
    size_t n_dense = hk_intent_dense_size(&cpu->hp), n_embd = (size_t) cpu->hp.n_buckets * dim;
    float *grad = g_new0(float, n_dense), *md = g_new0(float, n_dense), *vd = g_new0(float, n_dense);
    float *me = g_new0(float, n_embd), *ve = g_new0(float, n_embd);
    hk_vk_intent_trainer *t;
    hk_error err = { 0 };
    ck_assert_msg(hk_vk_intent_trainer_new(vk, gpu, 8, &a, &t, &err) == 0, "%s", err.message);

    /* the masks drawn as the CPU's forward pass draws them, example by example */
    uint32_t n_pooled = hk_intent_pooled_size(&gpu->hp);
    float *masks = g_new(float, G_N_ELEMENTS(batch) * n_pooled);
    uint64_t rng_cpu = 3, rng_gpu = 3;
    for (int step = 0; step < 3; step++) {
        size_t n = step == 1 ? 2 : G_N_ELEMENTS(batch);
        cpu_step(cpu, &a, batch + (step == 1 ? 3 : 0), n, 0.25f, &rng_cpu, grad, md, vd, me, ve);
        for (size_t i = 0; i < n; i++)
            hk_intent_dropout_mask(n_pooled, 0.25f, &rng_gpu, masks + i * n_pooled);
        ck_assert_msg(hk_vk_intent_train_step(t, batch + (step == 1 ? 3 : 0), n, masks, &err) == 0,
                      "%s", err.message);
    }
    ck_assert_uint_eq(rng_gpu, rng_cpu);
    g_free(masks);
    ck_assert_msg(hk_vk_intent_trainer_download(t, &err) == 0, "%s", err.message);
    double e = hk_nmse(gpu->block, cpu->block, n_dense);
    ck_assert_msg(e <= MAX_NMSE, "dense weights: NMSE %g", e);
    e = hk_nmse(gpu->embd, cpu->embd, n_embd);
    ck_assert_msg(e <= MAX_NMSE, "embedding: NMSE %g", e);
    /* the steps did move the weights */
    hk_intent_model *start = random_model(dim, n_filters);
    ck_assert_double_gt(hk_nmse(start->block, cpu->block, n_dense), 1e-6);
    hk_intent_model_free(start);

    ck_assert_int_eq(hk_vk_intent_train_step(t, batch, 9, NULL, &err), -EINVAL);
    ck_assert_str_eq(err.message, "vulkan intent: a batch of 9 examples, not 1 to 8");
    hk_intent_example bad = { "hi", 5 };
    ck_assert_int_eq(hk_vk_intent_train_step(t, &bad, 1, NULL, &err), -EINVAL);

    hk_vk_intent_trainer_free(t);
    hk_intent_model_free(cpu);
    hk_intent_model_free(gpu);
    g_free(grad);
    g_free(md);
    g_free(vd);
    g_free(me);
    g_free(ve);
}
END_TEST

/* ---------------------------------------------------------------- the shipped model */

static const char *const classify_texts[] = {
    "turn the volume up",
    "set a timer for ten minutes",
    "把音量调大",
    "what's the weather tomorrow",
    "tell me a story about dragons",
    "",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v "
    "w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r "
    "s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z",
};

START_TEST(test_classify_shipped_model)
{
    char *path = g_build_filename(g_getenv("HEARKEN_BUILD_ROOT"), "data", "intents", "intents.gguf", NULL);
    hk_intent_model *m;
    hk_vk_intent_model *vm;
    hk_error err = { 0 };
    ck_assert_msg(hk_intent_model_load(path, &m, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_vk_intent_model_new(vk, m, &vm, &err) == 0, "%s", err.message);
    int n = hk_intent_model_n_labels(m);
    float *want = g_new(float, n), *got = g_new(float, n);
    for (size_t i = 0; i < G_N_ELEMENTS(classify_texts); i++) {
        ck_assert_int_eq(hk_intent_classify(m, classify_texts[i], want, &err), 0);
        ck_assert_msg(hk_vk_intent_classify(vm, classify_texts[i], got, &err) == 0, "%s", err.message);
        double e = hk_nmse(got, want, (size_t) n);
        ck_assert_msg(e <= MAX_NMSE, "\"%s\": NMSE %g", classify_texts[i], e);
        int best_want = 0, best_got = 0;
        for (int k = 1; k < n; k++) {
            best_want = want[k] > want[best_want] ? k : best_want;
            best_got = got[k] > got[best_got] ? k : best_got;
        }
        ck_assert_str_eq(hk_intent_model_label(m, best_got), hk_intent_model_label(m, best_want));
    }
    ck_assert_int_eq(hk_vk_intent_classify(vm, NULL, got, &err), -EINVAL);
    ck_assert_str_eq(err.message, "no text to classify");

    hk_vk_intent_model_free(vm);
    hk_intent_model_free(m);
    g_free(want);
    g_free(got);
    g_free(path);
}
END_TEST

/* hearken-engine classify --backend vulkan says where it ran, and prints
 * what the CPU prints; auto leaves a CPU implementation (lavapipe) alone. */
START_TEST(test_cli_backend)
{
    char *engine = hk_built_cli("hearken-engine");
    char *model = g_build_filename(g_getenv("HEARKEN_BUILD_ROOT"), "data", "intents", "intents.gguf", NULL);
    const char *on_vulkan[] = { engine, "classify", "-m", model, "--backend", "vulkan", "-n", "3",
                                "set", "a", "timer", NULL };
    const char *on_cpu[] = { engine, "classify", "-m", model, "--backend", "cpu", "-n", "3",
                             "set", "a", "timer", NULL };
    hk_run_result v = hk_run(on_vulkan), c = hk_run(on_cpu);
    ck_assert_msg(v.status == 0, "stderr: %s", v.err);
    ck_assert_msg(strstr(v.err, "backend:    vulkan\nreason:     Vulkan on "), "%s", v.err);
    ck_assert_msg(strstr(c.err, "reason:     the CPU, as asked"), "%s", c.err);
    ck_assert_str_eq(v.out, c.out);
    hk_run_result_clear(&v);
    hk_run_result_clear(&c);

    if (strstr(hk_vk_intent_description(vk), "CPU implementation")) {
        const char *on_auto[] = { engine, "classify", "-m", model, "--backend", "auto", "hi", NULL };
        hk_run_result a = hk_run(on_auto);
        ck_assert_msg(a.status == 0 && strstr(a.err, "backend:    cpu\n"), "%s", a.err);
        ck_assert_msg(strstr(a.err, "classifying on the CPU"), "%s", a.err);
        hk_run_result_clear(&a);
    }
    g_free(engine);
    g_free(model);
}
END_TEST

/* Training from scratch on the device gives the CPU's model: the typos and
 * dropout masks are drawn alike, only the sums' rounding differs.  Two
 * epochs end before weight averaging starts, six average the last two. */
START_TEST(test_training_on_the_device)
{
    hk_intent_data data;
    GPtrArray *texts;
    hk_intent_data_init(&data, 11);
    GArray *train = hk_intent_data_examples(&data, 20, &texts);
    hk_intent_config c;
    hk_intent_data_config(&c);
    c.epochs = _i == 0 ? 2 : 6;
    hk_intent_model *on_cpu, *on_device;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_intent_train(&c, hk_intent_data_labels, HK_INTENT_DATA_LABELS,
                                     (hk_intent_example *) train->data, train->len, &on_cpu, &err), 0);
    c.device = vk;
    ck_assert_msg(hk_intent_train(&c, hk_intent_data_labels, HK_INTENT_DATA_LABELS,
                                  (hk_intent_example *) train->data, train->len, &on_device, &err) == 0,
                  "%s", err.message);

    size_t n_dense = hk_intent_dense_size(&on_cpu->hp);
    size_t n_embd = (size_t) on_cpu->hp.n_buckets * on_cpu->hp.dim;
    double e = hk_nmse(on_device->block, on_cpu->block, n_dense);
    ck_assert_msg(e <= MAX_NMSE, "dense weights after %u epochs: NMSE %g", c.epochs, e);
    e = hk_nmse(on_device->embd, on_cpu->embd, n_embd);
    ck_assert_msg(e <= MAX_NMSE, "embedding after %u epochs: NMSE %g", c.epochs, e);
    double acc_cpu = hk_intent_data_accuracy(on_cpu, (hk_intent_example *) train->data, train->len);
    double acc_device = hk_intent_data_accuracy(on_device, (hk_intent_example *) train->data, train->len);
    ck_assert_double_eq_tol(acc_device, acc_cpu, 0.02);

    hk_intent_model_free(on_cpu);
    hk_intent_model_free(on_device);
    g_array_unref(train);
    g_ptr_array_unref(texts);
    hk_intent_data_clear(&data);
}
END_TEST

/* train-intents --backend vulkan trains there and says so; a bad name is
 * refused before any training. */
START_TEST(test_cli_trains_on_vulkan)
{
    char *dir = hk_tmpdir_new();
    char *lang = g_build_filename(dir, "en", NULL);
    ck_assert_int_eq(g_mkdir(lang, 0700), 0);
    hk_intent_data data;
    hk_intent_data_init(&data, 5);
    for (int split = 0; split < 2; split++) {
        GString *tsv = g_string_new(NULL);
        for (int l = 0; l < HK_INTENT_DATA_LABELS; l++)
            for (int i = 0; i < 6; i++) {
                char *s = hk_intent_data_sentence(&data, l, false);
                g_string_append_printf(tsv, "%s\t%s\n", hk_intent_data_labels[l], s);
                g_free(s);
            }
        char *path = g_build_filename(lang, split ? "test.tsv" : "train.tsv", NULL);
        ck_assert(g_file_set_contents(path, tsv->str, (gssize) tsv->len, NULL));
        g_free(path);
        g_string_free(tsv, TRUE);
    }
    hk_intent_data_clear(&data);

    char *engine = hk_built_cli("hearken-engine");
    char *out = g_build_filename(dir, "model.gguf", NULL);
    const char *argv[] = { engine, "train-intents", "--data", dir, "--out", out, "--epochs", "2",
                           "--buckets", "4096", "--dim", "16", "--filters", "16",
                           "--backend", "vulkan", NULL };
    hk_run_result r = hk_run(argv);
    ck_assert_msg(r.status == 0, "stderr: %s", r.err);
    ck_assert_msg(strstr(r.err, "backend:    vulkan\nreason:     Vulkan on "), "%s", r.err);
    ck_assert_msg(strstr(r.out, "test accuracy en: "), "%s", r.out);
    ck_assert(g_file_test(out, G_FILE_TEST_IS_REGULAR));
    hk_run_result_clear(&r);

    argv[G_N_ELEMENTS(argv) - 2] = "gpu";
    r = hk_run(argv);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "--backend"), "%s", r.err);
    hk_run_result_clear(&r);
    /* the same name from the environment, without --backend */
    argv[G_N_ELEMENTS(argv) - 3] = NULL;
    g_setenv("HEARKEN_BACKEND", "gpu", TRUE);
    r = hk_run(argv);
    g_unsetenv("HEARKEN_BACKEND");
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "train-intents: HEARKEN_BACKEND 'gpu' is not auto, vulkan or cpu"),
                  "%s", r.err);
    hk_run_result_clear(&r);

    hk_tmpdir_remove(dir);
    g_free(dir);
    g_free(lang);
    g_free(out);
    g_free(engine);
}
END_TEST

START_TEST(test_bad_sizes_are_refused)
{
    hk_vk_mem *m;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_vk_intent_alloc(vk, 0, NULL, &m, &err), -EINVAL);
    ck_assert_str_eq(err.message, "vulkan intent: bad array size 0");
}
END_TEST

static Suite *
intent_vulkan_suite(void)
{
    Suite *s = suite_create("intent-vulkan");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, test_embed_forward, 0, 6);
    tcase_add_loop_test(tc, test_embed_backward, 0, 2);
    tcase_add_loop_test(tc, test_conv_pool_forward, 0, G_N_ELEMENTS(conv_shapes));
    tcase_add_loop_test(tc, test_conv_pool_backward, 0, G_N_ELEMENTS(conv_shapes));
    tcase_add_loop_test(tc, test_dense_forward, 0, G_N_ELEMENTS(dense_shapes));
    tcase_add_loop_test(tc, test_dense_backward, 0, G_N_ELEMENTS(dense_shapes));
    tcase_add_loop_test(tc, test_softmax_and_loss_grad, 0, 3);
    tcase_add_test(tc, test_dropout_mask);
    tcase_add_loop_test(tc, test_adam_dense, 0, 2);
    tcase_add_test(tc, test_adam_rows);
    tcase_add_test(tc, test_bad_sizes_are_refused);
    suite_add_tcase(s, tc);
    TCase *model = tcase_create("model");
    tcase_add_test(model, test_classify_shipped_model);
    tcase_add_loop_test(model, test_train_steps, 0, 2);
    tcase_add_test(model, test_cli_backend);
    tcase_add_loop_test(model, test_training_on_the_device, 0, 2);
    tcase_add_test(model, test_cli_trains_on_vulkan);
    suite_add_tcase(s, model);
    return s;
}

int
main(void)
{
    /* the pipeline cache goes to a fresh folder, not the user's */
    char *cache_dir = g_dir_make_tmp("hearken-vulkan-XXXXXX", NULL);
    g_setenv("XDG_CACHE_HOME", cache_dir, TRUE);
    g_unsetenv("HEARKEN_VULKAN_FAULT");

    hk_error err = { 0 };
    if (hk_vk_intent_new(-1, true, &vk, &err) < 0) {
        printf("SKIP: no usable Vulkan device: %s\n", err.message);
        hk_tmpdir_remove(cache_dir);
        g_free(cache_dir);
        return HK_TEST_SKIP;
    }
    printf("Vulkan device: %s\n", hk_vk_intent_description(vk));
    /* one process: the runner (and its pipelines) serves every test */
    SRunner *runner = srunner_create(intent_vulkan_suite());
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    hk_vk_intent_free(vk);

    hk_tmpdir_remove(cache_dir);
    g_free(cache_dir);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#else

int
main(void)
{
    puts("SKIP: this build has no Vulkan backend (configure with -Dvulkan=enabled)");
    return HK_TEST_SKIP;
}

#endif
