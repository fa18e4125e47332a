/* intent.c — the intent model: its memory, the forward and backward
 * passes over the ops of intent-ops.h, and classification. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intent-private.h"

const uint32_t hk_intent_widths[HK_INTENT_N_WIDTHS] = { 2, 3, 4 };

/* ---------------------------------------------------------------- layout */

size_t
hk_intent_dense_size(const hk_intent_hparams *hp)
{
    size_t n = 0;
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++)
        n += (size_t) hp->n_filters * hk_intent_widths[k] * hp->dim + hp->n_filters;
    return n + (size_t) hp->n_labels * hk_intent_pooled_size(hp) + hp->n_labels;
}

void
hk_intent_dense_views(const hk_intent_hparams *hp, float *block, hk_intent_dense *ret)
{
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        ret->conv_w[k] = block;
        block += (size_t) hp->n_filters * hk_intent_widths[k] * hp->dim;
        ret->conv_b[k] = block;
        block += hp->n_filters;
    }
    ret->out_w = block;
    block += (size_t) hp->n_labels * hk_intent_pooled_size(hp);
    ret->out_b = block;
}

/* ---------------------------------------------------------------- memory */

int
hk_intent_acts_init(hk_intent_acts *a, const hk_intent_hparams *hp)
{
    size_t xs = (size_t) (HK_INTENT_MAX_POSITIONS + 2 * HK_INTENT_PAD) * hp->dim, ps = hk_intent_pooled_size(hp);
    memset(a, 0, sizeof *a);
    a->x = malloc(xs * sizeof *a->x);
    a->dx = malloc(xs * sizeof *a->dx);
    a->pooled = malloc(ps * sizeof *a->pooled);
    a->dpooled = malloc(ps * sizeof *a->dpooled);
    a->mask = malloc(ps * sizeof *a->mask);
    a->argmax = malloc(ps * sizeof *a->argmax);
    a->logits = malloc(hp->n_labels * sizeof *a->logits);
    a->probs = malloc(hp->n_labels * sizeof *a->probs);
    a->dlogits = malloc(hp->n_labels * sizeof *a->dlogits);
    if (!a->x || !a->dx || !a->pooled || !a->dpooled || !a->mask || !a->argmax ||
        !a->logits || !a->probs || !a->dlogits) {
        hk_intent_acts_clear(a);
        return -ENOMEM;
    }
    return 0;
}

void
hk_intent_acts_clear(hk_intent_acts *a)
{
    hk_intent_features_clear(&a->feats);
    free(a->x);
    free(a->dx);
    free(a->pooled);
    free(a->dpooled);
    free(a->mask);
    free(a->argmax);
    free(a->logits);
    free(a->probs);
    free(a->dlogits);
    memset(a, 0, sizeof *a);
}

int
hk_intent_model_new(const hk_intent_hparams *hp, const char *const *labels,
                    hk_intent_model **ret, hk_error *err)
{
    hk_intent_model *m = calloc(1, sizeof *m);
    if (!m)
        return hk_error_set(err, -ENOMEM, "out of memory for the intent model");
    m->hp = *hp;
    m->labels = calloc(hp->n_labels, sizeof *m->labels);
    m->embd = malloc((size_t) hp->n_buckets * hp->dim * sizeof *m->embd);
    m->block = malloc(hk_intent_dense_size(hp) * sizeof *m->block);
    bool ok = m->labels && m->embd && m->block && hk_intent_acts_init(&m->scratch, hp) == 0;
    for (uint32_t i = 0; ok && i < hp->n_labels; i++)
        ok = (m->labels[i] = strdup(labels[i])) != NULL;
    if (!ok) {
        hk_intent_model_free(m);
        return hk_error_set(err, -ENOMEM, "out of memory for the intent model (%u buckets of %u)",
                            hp->n_buckets, hp->dim);
    }
    hk_intent_dense_views(hp, m->block, &m->w);
    *ret = m;
    return 0;
}

void
hk_intent_model_free(hk_intent_model *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; m->labels && i < m->hp.n_labels; i++)
        free(m->labels[i]);
    free(m->labels);
    for (size_t i = 0; m->replay.texts && i < m->replay.n; i++)
        free(m->replay.texts[i]);
    free(m->replay.texts);
    free(m->replay.labels);
    free(m->embd);
    free(m->block);
    hk_intent_acts_clear(&m->scratch);
    free(m);
}

/* ---------------------------------------------------------------- accessors */

int
hk_intent_model_n_labels(const hk_intent_model *m)
{
    return (int) m->hp.n_labels;
}

const char *
hk_intent_model_label(const hk_intent_model *m, int i)
{
    return i >= 0 && (uint32_t) i < m->hp.n_labels ? m->labels[i] : NULL;
}

int
hk_intent_model_label_index(const hk_intent_model *m, const char *name)
{
    for (uint32_t i = 0; name && i < m->hp.n_labels; i++)
        if (strcmp(m->labels[i], name) == 0)
            return (int) i;
    return -1;
}

size_t
hk_intent_model_n_replay(const hk_intent_model *m)
{
    return m->replay.n;
}

hk_intent_example
hk_intent_model_replay(const hk_intent_model *m, size_t i)
{
    if (i >= m->replay.n)
        return (hk_intent_example) { NULL, -1 };
    return (hk_intent_example) { m->replay.texts[i], m->replay.labels[i] };
}

/* ---------------------------------------------------------------- forward, backward */

/* x holds HK_INTENT_PAD zero rows on each side of the text.  A convolution
 * of width w sees w - 1 of them on each side ("full" padding), so a word
 * at either end, or a text shorter than w, still fills windows of its own. */
static size_t
window_offset(uint32_t width, uint32_t dim)
{
    return (size_t) (HK_INTENT_PAD - (width - 1)) * dim;
}

static uint32_t
padded_length(const hk_intent_acts *a, uint32_t width)
{
    return a->feats.n_positions + 2 * (width - 1);
}

int
hk_intent_forward(const hk_intent_model *m, hk_intent_acts *a, const char *text,
                  float dropout, uint64_t *rng)
{
    const hk_intent_hparams *hp = &m->hp;
    int r = hk_intent_featurize(text, hp->hash_seed, hp->n_buckets, &a->feats);
    if (r < 0)
        return r;

    hk_intent_embed_forward(m->embd, hp->dim, &a->feats, HK_INTENT_PAD, a->x);
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        uint32_t w = hk_intent_widths[k];
        hk_intent_conv_pool_forward(a->x + window_offset(w, hp->dim), padded_length(a, w), hp->dim,
                                    m->w.conv_w[k], m->w.conv_b[k], hp->n_filters, w,
                                    a->pooled + k * hp->n_filters, a->argmax + k * hp->n_filters);
    }
    if (dropout > 0.0f)
        hk_intent_dropout_forward(a->pooled, hk_intent_pooled_size(hp), dropout, rng, a->mask);
    else
        for (uint32_t i = 0; i < hk_intent_pooled_size(hp); i++)
            a->mask[i] = 1.0f;
    hk_intent_dense_forward(m->w.out_w, m->w.out_b, a->pooled, hk_intent_pooled_size(hp),
                            hp->n_labels, a->logits);
    hk_intent_softmax(a->logits, hp->n_labels, a->probs);
    return 0;
}

int
hk_intent_backward(const hk_intent_model *m, hk_intent_acts *a, int label, float scale,
                   const hk_intent_dense *g, hk_intent_row_grads *rows)
{
    const hk_intent_hparams *hp = &m->hp;
    uint32_t n_pooled = hk_intent_pooled_size(hp);

    hk_intent_softmax_xent_grad(a->probs, hp->n_labels, label, scale, a->dlogits);
    hk_intent_dense_backward(m->w.out_w, a->pooled, a->dlogits, n_pooled, hp->n_labels,
                             g->out_w, g->out_b, a->dpooled);
    hk_intent_dropout_backward(a->dpooled, a->mask, n_pooled);
    memset(a->dx, 0, (size_t) (a->feats.n_positions + 2 * HK_INTENT_PAD) * hp->dim * sizeof *a->dx);
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        size_t off = window_offset(hk_intent_widths[k], hp->dim);
        hk_intent_conv_pool_backward(a->dpooled + k * hp->n_filters, a->argmax + k * hp->n_filters,
                                     a->x + off, hp->dim, m->w.conv_w[k], hp->n_filters,
                                     hk_intent_widths[k], g->conv_w[k], g->conv_b[k], a->dx + off);
    }
    return hk_intent_embed_backward(a->dx, &a->feats, HK_INTENT_PAD, rows);
}

/* ---------------------------------------------------------------- classification */

int
hk_intent_classify(hk_intent_model *m, const char *text, float *probs, hk_error *err)
{
    if (!text)
        return hk_error_set(err, -EINVAL, "no text to classify");
    int r = hk_intent_forward(m, &m->scratch, text, 0.0f, NULL);
    if (r < 0)
        return hk_error_set(err, r, "out of memory classifying a text of %zu bytes", strlen(text));
    memcpy(probs, m->scratch.probs, m->hp.n_labels * sizeof *probs);
    return 0;
}
