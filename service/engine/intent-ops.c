/* intent-ops.c — the intent CNN's operations on the CPU (see intent-ops.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intent-ops.h"

/* Eight independent sums, so the compiler can keep them in vector lanes
 * without reordering a single float sum (which it may not do at -O2). */
static float
dot(const float *a, const float *b, size_t n)
{
    float s[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            s[l] += a[i + l] * b[i + l];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

static void
axpy(float alpha, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* ---------------------------------------------------------------- sparse gradients */

int
hk_intent_row_grads_init(hk_intent_row_grads *g, uint32_t n_buckets, uint32_t dim)
{
    memset(g, 0, sizeof *g);
    g->dim = dim;
    g->slot = malloc((size_t) n_buckets * sizeof *g->slot);
    if (!g->slot)
        return -ENOMEM;
    memset(g->slot, 0xff, (size_t) n_buckets * sizeof *g->slot);   /* all -1 */
    return 0;
}

void
hk_intent_row_grads_reset(hk_intent_row_grads *g)
{
    for (uint32_t i = 0; i < g->n_rows; i++)
        g->slot[g->rows[i]] = -1;
    g->n_rows = 0;
}

void
hk_intent_row_grads_clear(hk_intent_row_grads *g)
{
    free(g->rows);
    free(g->grads);
    free(g->slot);
    memset(g, 0, sizeof *g);
}

/* The gradient row of bucket id, zeroed when first touched. */
static float *
row_grad(hk_intent_row_grads *g, uint32_t id)
{
    if (g->slot[id] >= 0)
        return g->grads + (size_t) g->slot[id] * g->dim;
    if (g->n_rows == g->cap_rows) {
        uint32_t cap = g->cap_rows ? 2 * g->cap_rows : 256;
        uint32_t *rows = realloc(g->rows, cap * sizeof *rows);
        if (rows)
            g->rows = rows;
        float *grads = realloc(g->grads, (size_t) cap * g->dim * sizeof *grads);
        if (!rows || !grads)
            return NULL;
        g->grads = grads;
        g->cap_rows = cap;
    }
    float *row = g->grads + (size_t) g->n_rows * g->dim;
    memset(row, 0, g->dim * sizeof *row);
    g->slot[id] = (int32_t) g->n_rows;
    g->rows[g->n_rows++] = id;
    return row;
}

/* ---------------------------------------------------------------- embedding */

void
hk_intent_embed_forward(const float *E, uint32_t dim, const hk_intent_features *f,
                        uint32_t pad, float *x)
{
    memset(x, 0, (size_t) (f->n_positions + 2 * pad) * dim * sizeof *x);
    for (uint32_t p = 0; p < f->n_positions; p++) {
        uint32_t a = f->start[p], b = f->start[p + 1];
        float *xp = x + (size_t) (pad + p) * dim;
        for (uint32_t i = a; i < b; i++)
            axpy(1.0f, E + (size_t) f->ids[i] * dim, xp, dim);
        if (b > a)
            for (uint32_t j = 0; j < dim; j++)
                xp[j] /= (float) (b - a);
    }
}

int
hk_intent_embed_backward(const float *dx, const hk_intent_features *f, uint32_t pad,
                         hk_intent_row_grads *g)
{
    for (uint32_t p = 0; p < f->n_positions; p++) {
        uint32_t a = f->start[p], b = f->start[p + 1];
        for (uint32_t i = a; i < b; i++) {
            float *row = row_grad(g, f->ids[i]);
            if (!row)
                return -ENOMEM;
            axpy(1.0f / (float) (b - a), dx + (size_t) (pad + p) * g->dim, row, g->dim);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- convolution + max pool */

void
hk_intent_conv_pool_forward(const float *x, uint32_t n_pos, uint32_t dim,
                            const float *W, const float *b, uint32_t n_filters, uint32_t width,
                            float *pooled, int32_t *argmax)
{
    size_t span = (size_t) width * dim;
    uint32_t n_windows = n_pos - width + 1;

    for (uint32_t k = 0; k < n_filters; k++) {
        const float *w = W + k * span;
        float best = 0.0f;
        int32_t best_t = -1;
        for (uint32_t t = 0; t < n_windows; t++) {
            float pre = b[k] + dot(w, x + (size_t) t * dim, span);
            if (pre > best) {
                best = pre;
                best_t = (int32_t) t;
            }
        }
        pooled[k] = best;
        argmax[k] = best_t;
    }
}

void
hk_intent_conv_pool_backward(const float *dpooled, const int32_t *argmax,
                             const float *x, uint32_t dim,
                             const float *W, uint32_t n_filters, uint32_t width,
                             float *dW, float *db, float *dx)
{
    size_t span = (size_t) width * dim;

    for (uint32_t k = 0; k < n_filters; k++) {
        if (argmax[k] < 0 || dpooled[k] == 0.0f)
            continue;
        size_t at = (size_t) argmax[k] * dim;
        axpy(dpooled[k], x + at, dW + k * span, span);
        db[k] += dpooled[k];
        if (dx)
            axpy(dpooled[k], W + k * span, dx + at, span);
    }
}

/* ---------------------------------------------------------------- dropout */

void
hk_intent_dropout_mask(uint32_t n, float p, uint64_t *rng, float *mask)
{
    float keep = 1.0f / (1.0f - p);
    for (uint32_t i = 0; i < n; i++)
        mask[i] = hk_intent_rng_float(rng) < p ? 0.0f : keep;
}

void
hk_intent_dropout_forward(float *h, uint32_t n, float p, uint64_t *rng, float *mask)
{
    hk_intent_dropout_mask(n, p, rng, mask);
    for (uint32_t i = 0; i < n; i++)
        h[i] *= mask[i];
}

void
hk_intent_dropout_backward(float *dh, const float *mask, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dh[i] *= mask[i];
}

/* ---------------------------------------------------------------- dense */

void
hk_intent_dense_forward(const float *W, const float *b, const float *h,
                        uint32_t n_in, uint32_t n_out, float *logits)
{
    for (uint32_t o = 0; o < n_out; o++)
        logits[o] = b[o] + dot(W + (size_t) o * n_in, h, n_in);
}

void
hk_intent_dense_backward(const float *W, const float *h, const float *dlogits,
                         uint32_t n_in, uint32_t n_out, float *dW, float *db, float *dh)
{
    memset(dh, 0, n_in * sizeof *dh);
    for (uint32_t o = 0; o < n_out; o++) {
        axpy(dlogits[o], h, dW + (size_t) o * n_in, n_in);
        db[o] += dlogits[o];
        axpy(dlogits[o], W + (size_t) o * n_in, dh, n_in);
    }
}

/* ---------------------------------------------------------------- softmax, loss */

void
hk_intent_softmax(const float *logits, uint32_t n, float *probs)
{
    float max = logits[0], sum = 0.0f;
    for (uint32_t i = 1; i < n; i++)
        max = fmaxf(max, logits[i]);
    for (uint32_t i = 0; i < n; i++)
        sum += probs[i] = expf(logits[i] - max);
    for (uint32_t i = 0; i < n; i++)
        probs[i] /= sum;
}

void
hk_intent_softmax_xent_grad(const float *probs, uint32_t n, int label, float scale, float *dlogits)
{
    for (uint32_t i = 0; i < n; i++)
        dlogits[i] = scale * (probs[i] - (i == (uint32_t) label ? 1.0f : 0.0f));
}

/* ---------------------------------------------------------------- Adam */

static void
adam_step(const hk_intent_adam *a, float c1, float c2, float *p, float g, float *m, float *v)
{
    *m = a->beta1 * *m + (1.0f - a->beta1) * g;
    *v = a->beta2 * *v + (1.0f - a->beta2) * g * g;
    *p -= a->lr * (*m / c1) / (sqrtf(*v / c2) + a->eps);
}

void
hk_intent_adam_dense(const hk_intent_adam *a, float *param, const float *grad,
                     float *m, float *v, size_t n)
{
    float c1 = 1.0f - powf(a->beta1, (float) a->t), c2 = 1.0f - powf(a->beta2, (float) a->t);
    for (size_t i = 0; i < n; i++)
        adam_step(a, c1, c2, param + i, grad[i], m + i, v + i);
}

void
hk_intent_adam_rows(const hk_intent_adam *a, float *E, const hk_intent_row_grads *g,
                    float *m, float *v)
{
    float c1 = 1.0f - powf(a->beta1, (float) a->t), c2 = 1.0f - powf(a->beta2, (float) a->t);
    for (uint32_t r = 0; r < g->n_rows; r++) {
        size_t base = (size_t) g->rows[r] * g->dim;
        const float *grad = g->grads + (size_t) r * g->dim;
        for (uint32_t j = 0; j < g->dim; j++)
            adam_step(a, c1, c2, E + base + j, grad[j], m + base + j, v + base + j);
    }
}

/* ---------------------------------------------------------------- random numbers */

uint64_t
hk_intent_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float
hk_intent_rng_float(uint64_t *state)
{
    return (float) (hk_intent_rng_next(state) >> 40) / (float) (1ull << 24);
}
