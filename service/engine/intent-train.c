/* intent-train.c — training the intent model from scratch, and
 * fine-tuning it on a person's corrections with replayed examples. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intent-private.h"
#include "vulkan/vk-config.h"
#if HK_HAVE_VULKAN
#include "vulkan/vk-intent.h"
#endif

#define ADAM_BETA1 0.9f
#define ADAM_BETA2 0.999f
#define ADAM_EPS   1e-8f

/* Fine-tuning: each step shows the corrections with this many replayed
 * training examples, at this learning rate. */
#define FINETUNE_REPLAY_PER_STEP 16
#define FINETUNE_LEARNING_RATE   3e-3f
#define FINETUNE_DROPOUT         0.2f

void
hk_intent_config_init(hk_intent_config *c)
{
    *c = (hk_intent_config) {
        .n_buckets = 1u << 16,
        .dim = 64,
        .n_filters = 64,
        .epochs = 20,
        .batch_size = 16,
        .learning_rate = 5e-3f,
        .dropout = 0.5f,
        .typo_rate = 0.05f,
        .average_from = 4,
        .seed = 1,
    };
}

/* ---------------------------------------------------------------- optimizer state */

/* Gradients and Adam moments for one model; the embedding's moments are
 * a full table (calloc: pages the training never touches stay unmapped).
 * With a device, the steps run there, on its own copy of the weights and
 * moments; the typos and dropout masks are drawn here all the same. */
typedef struct trainer {
    hk_intent_model    *m;
#if HK_HAVE_VULKAN
    hk_vk_intent_trainer *device;
#endif
    float              *grad_block;
    hk_intent_dense     grad;
    hk_intent_row_grads rows;
    float              *m_dense, *v_dense;   /* (dense size) */
    float              *m_embd, *v_embd;     /* (n_buckets, dim) */
    hk_intent_acts      acts;
    hk_intent_adam      adam;
    float               dropout;
    float               typo_rate;
    uint64_t            rng;
} trainer;

static void
trainer_clear(trainer *t)
{
#if HK_HAVE_VULKAN
    hk_vk_intent_trainer_free(t->device);
#endif
    free(t->grad_block);
    hk_intent_row_grads_clear(&t->rows);
    free(t->m_dense);
    free(t->v_dense);
    free(t->m_embd);
    free(t->v_embd);
    hk_intent_acts_clear(&t->acts);
}

static int
trainer_init(trainer *t, hk_intent_model *m, float lr, float dropout, uint64_t seed, hk_error *err)
{
    const hk_intent_hparams *hp = &m->hp;
    size_t n_dense = hk_intent_dense_size(hp), n_embd = (size_t) hp->n_buckets * hp->dim;

    memset(t, 0, sizeof *t);
    t->m = m;
    t->adam = (hk_intent_adam) { .lr = lr, .beta1 = ADAM_BETA1, .beta2 = ADAM_BETA2, .eps = ADAM_EPS };
    t->dropout = dropout;
    t->rng = seed;
    t->grad_block = calloc(n_dense, sizeof *t->grad_block);
    t->m_dense = calloc(n_dense, sizeof *t->m_dense);
    t->v_dense = calloc(n_dense, sizeof *t->v_dense);
    t->m_embd = calloc(n_embd, sizeof *t->m_embd);
    t->v_embd = calloc(n_embd, sizeof *t->v_embd);
    if (!t->grad_block || !t->m_dense || !t->v_dense || !t->m_embd || !t->v_embd ||
        hk_intent_row_grads_init(&t->rows, hp->n_buckets, hp->dim) < 0 ||
        hk_intent_acts_init(&t->acts, hp) < 0) {
        trainer_clear(t);
        return hk_error_set(err, -ENOMEM, "out of memory for training the intent model");
    }
    hk_intent_dense_views(hp, t->grad_block, &t->grad);
    return 0;
}

static bool
is_ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A copy of text where each inner letter of a Latin word is, with
 * probability rate, swapped with the next or dropped: the dataset's typos
 * are too few to teach the model that "volmue" is "volume".  NULL when
 * memory runs out. */
static char *
add_typos(const char *text, float rate, uint64_t *rng)
{
    size_t n = strlen(text), o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bool inner = i > 0 && i + 1 < n && is_ascii_letter(text[i - 1]) && is_ascii_letter(text[i]) &&
                     is_ascii_letter(text[i + 1]);
        if (inner && hk_intent_rng_float(rng) < rate) {
            if (hk_intent_rng_float(rng) < 0.5f) {
                out[o++] = text[i + 1];
                out[o++] = text[i];
                i++;
            }
            continue;
        }
        out[o++] = text[i];
    }
    out[o] = '\0';
    return out;
}

/* ---------------------------------------------------------------- on a device */

static int
trainer_use_device(trainer *t, struct hk_vk_intent *device, uint32_t max_batch, hk_error *err)
{
#if HK_HAVE_VULKAN
    return hk_vk_intent_trainer_new(device, t->m, max_batch, &t->adam, &t->device, err);
#else
    return hk_error_set(err, -ENOTSUP, "this build has no Vulkan backend");
#endif
}

/* The device's weights into the model, for averaging or the end. */
static int
trainer_download(trainer *t, hk_error *err)
{
#if HK_HAVE_VULKAN
    if (t->device)
        return hk_vk_intent_trainer_download(t->device, err);
#endif
    return 0;
}

#if HK_HAVE_VULKAN
/* The step on the device: each example's typos and then its dropout mask
 * drawn here, in the order the CPU's step draws them (featurizing draws
 * nothing), so both train the same model. */
static int
device_step(trainer *t, const hk_intent_example *const *batch, size_t n, hk_error *err)
{
    uint32_t n_pooled = hk_intent_pooled_size(&t->m->hp);
    hk_intent_example *noisy = calloc(n, sizeof *noisy);
    float *masks = t->dropout > 0.0f ? malloc(n * n_pooled * sizeof *masks) : NULL;
    int r = noisy && (masks || t->dropout <= 0.0f) ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        noisy[i].label = batch[i]->label;
        noisy[i].text = t->typo_rate > 0.0f ? add_typos(batch[i]->text, t->typo_rate, &t->rng)
                                            : strdup(batch[i]->text);
        r = noisy[i].text ? 0 : -ENOMEM;
        if (masks)
            hk_intent_dropout_mask(n_pooled, t->dropout, &t->rng, masks + i * n_pooled);
    }
    if (r == 0)
        r = hk_vk_intent_train_step(t->device, noisy, n, masks, err);
    else
        hk_error_set(err, r, "out of memory training the intent model");
    for (size_t i = 0; noisy && i < n; i++)
        free((char *) noisy[i].text);
    free(noisy);
    free(masks);
    return r;
}
#endif

/* ---------------------------------------------------------------- a step */

/* One Adam step on the mean loss of a batch. */
static int
trainer_step(trainer *t, const hk_intent_example *const *batch, size_t n, hk_error *err)
{
    hk_intent_model *m = t->m;
#if HK_HAVE_VULKAN
    if (t->device)
        return device_step(t, batch, n, err);
#endif

    memset(t->grad_block, 0, hk_intent_dense_size(&m->hp) * sizeof *t->grad_block);
    hk_intent_row_grads_reset(&t->rows);
    for (size_t i = 0; i < n; i++) {
        char *noisy = t->typo_rate > 0.0f ? add_typos(batch[i]->text, t->typo_rate, &t->rng) : NULL;
        int r = t->typo_rate > 0.0f && !noisy ? -ENOMEM : 0;
        if (r == 0)
            r = hk_intent_forward(m, &t->acts, noisy ? noisy : batch[i]->text, t->dropout, &t->rng);
        free(noisy);
        if (r == 0)
            r = hk_intent_backward(m, &t->acts, batch[i]->label, 1.0f / (float) n, &t->grad, &t->rows);
        if (r < 0)
            return hk_error_set(err, r, "out of memory training the intent model");
    }
    t->adam.t++;
    hk_intent_adam_dense(&t->adam, m->block, t->grad_block, t->m_dense, t->v_dense,
                         hk_intent_dense_size(&m->hp));
    hk_intent_adam_rows(&t->adam, m->embd, &t->rows, t->m_embd, t->v_embd);
    return 0;
}

/* ---------------------------------------------------------------- from scratch */

static void
fill_uniform(float *p, size_t n, float limit, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (2.0f * hk_intent_rng_float(rng) - 1.0f) * limit;
}

/* Uniform initializations with the variance of He (ReLU layers) and
 * Glorot (the output); biases start at 0. */
static void
init_weights(hk_intent_model *m, uint64_t *rng)
{
    const hk_intent_hparams *hp = &m->hp;
    uint32_t n_pooled = hk_intent_pooled_size(hp);

    fill_uniform(m->embd, (size_t) hp->n_buckets * hp->dim, 0.1f, rng);
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        size_t fan_in = (size_t) hk_intent_widths[k] * hp->dim;
        fill_uniform(m->w.conv_w[k], hp->n_filters * fan_in, sqrtf(6.0f / (float) fan_in), rng);
        memset(m->w.conv_b[k], 0, hp->n_filters * sizeof(float));
    }
    fill_uniform(m->w.out_w, (size_t) hp->n_labels * n_pooled,
                 sqrtf(6.0f / (float) (n_pooled + hp->n_labels)), rng);
    memset(m->w.out_b, 0, hp->n_labels * sizeof(float));
}

static int
check_config(const hk_intent_config *c, int n_labels, size_t n_examples, hk_error *err)
{
    if (c->n_buckets < 1 || c->n_buckets > (1u << 24))
        return hk_error_set(err, -EINVAL, "feature buckets must be between 1 and 2^24, not %u", c->n_buckets);
    if (c->dim < 1 || c->dim > 1024 || c->n_filters < 1 || c->n_filters > 4096)
        return hk_error_set(err, -EINVAL, "embedding size (%u) must be 1 to 1024 and filters (%u) 1 to 4096",
                            c->dim, c->n_filters);
    if (c->batch_size < 1 || !(c->learning_rate > 0.0f) || !(c->dropout >= 0.0f && c->dropout < 1.0f) ||
        !(c->typo_rate >= 0.0f && c->typo_rate < 1.0f))
        return hk_error_set(err, -EINVAL, "batch size must be at least 1, the learning rate positive "
                            "and dropout and typo rate in [0, 1)");
    if (n_labels < 2)
        return hk_error_set(err, -EINVAL, "an intent model needs at least 2 labels, not %d", n_labels);
    if (n_examples == 0)
        return hk_error_set(err, -EINVAL, "no training examples");
    return 0;
}

static int
check_examples(const hk_intent_example *ex, size_t n, int n_labels, hk_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!ex[i].text)
            return hk_error_set(err, -EINVAL, "example %zu has no text", i);
        if (ex[i].label < 0 || ex[i].label >= n_labels)
            return hk_error_set(err, -EINVAL, "example %zu has label %d, outside 0..%d",
                                i, ex[i].label, n_labels - 1);
    }
    return 0;
}

static int
store_replay(hk_intent_model *m, const hk_intent_example *ex, size_t n, hk_error *err)
{
    m->replay.texts = calloc(n, sizeof *m->replay.texts);
    m->replay.labels = malloc(n * sizeof *m->replay.labels);
    if (!m->replay.texts || !m->replay.labels)
        return hk_error_set(err, -ENOMEM, "out of memory for %zu replay examples", n);
    for (; m->replay.n < n; m->replay.n++) {
        m->replay.texts[m->replay.n] = strdup(ex[m->replay.n].text);
        if (!m->replay.texts[m->replay.n])
            return hk_error_set(err, -ENOMEM, "out of memory for %zu replay examples", n);
        m->replay.labels[m->replay.n] = ex[m->replay.n].label;
    }
    return 0;
}

static void
shuffle(const hk_intent_example **order, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t) (hk_intent_rng_next(rng) % i);
        const hk_intent_example *tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
}

/* The sum of the weights after each epoch from average_from on: their
 * mean generalizes better than the last weights alone (stochastic weight
 * averaging), by a point or two on the test split. */
typedef struct average {
    float   *embd, *block;
    uint32_t n;
} average;

static void
average_add(average *a, const hk_intent_model *m)
{
    size_t n_embd = (size_t) m->hp.n_buckets * m->hp.dim, n_dense = hk_intent_dense_size(&m->hp);
    for (size_t i = 0; i < n_embd; i++)
        a->embd[i] += m->embd[i];
    for (size_t i = 0; i < n_dense; i++)
        a->block[i] += m->block[i];
    a->n++;
}

static void
average_apply(const average *a, hk_intent_model *m)
{
    size_t n_embd = (size_t) m->hp.n_buckets * m->hp.dim, n_dense = hk_intent_dense_size(&m->hp);
    for (size_t i = 0; a->n > 0 && i < n_embd; i++)
        m->embd[i] = a->embd[i] / (float) a->n;
    for (size_t i = 0; a->n > 0 && i < n_dense; i++)
        m->block[i] = a->block[i] / (float) a->n;
}

static int
train_epochs(trainer *t, const hk_intent_config *c, const hk_intent_example *ex, size_t n, hk_error *err)
{
    const hk_intent_model *m = t->m;
    const hk_intent_example **order = malloc(n * sizeof *order);
    average avg = {
        .embd = calloc((size_t) m->hp.n_buckets * m->hp.dim, sizeof(float)),
        .block = calloc(hk_intent_dense_size(&m->hp), sizeof(float)),
    };
    int r = order && avg.embd && avg.block ? 0 : hk_error_set(err, -ENOMEM, "out of memory for training");
    for (size_t i = 0; r == 0 && i < n; i++)
        order[i] = &ex[i];

    for (uint32_t epoch = 0; r == 0 && epoch < c->epochs; epoch++) {
        shuffle(order, n, &t->rng);
        for (size_t i = 0; r == 0 && i < n; i += c->batch_size)
            r = trainer_step(t, order + i, n - i < c->batch_size ? n - i : c->batch_size, err);
        if (r == 0 && epoch >= c->average_from && (r = trainer_download(t, err)) == 0)
            average_add(&avg, m);
    }
    if (r == 0 && avg.n == 0)   /* fewer epochs than average_from: the last weights */
        r = trainer_download(t, err);
    if (r == 0)
        average_apply(&avg, t->m);
    free(avg.embd);
    free(avg.block);
    free(order);
    return r;
}

int
hk_intent_train(const hk_intent_config *c,
                const char *const *label_names, int n_labels,
                const hk_intent_example *examples, size_t n_examples,
                hk_intent_model **ret, hk_error *err)
{
    int r = check_config(c, n_labels, n_examples, err);
    if (r == 0)
        r = check_examples(examples, n_examples, n_labels, err);
    if (r < 0)
        return r;

    hk_intent_hparams hp = {
        .n_buckets = c->n_buckets, .dim = c->dim, .n_filters = c->n_filters,
        .n_labels = (uint32_t) n_labels, .hash_seed = c->seed,
    };
    hk_intent_model *m;
    if ((r = hk_intent_model_new(&hp, label_names, &m, err)) < 0)
        return r;
    trainer t;
    uint64_t rng = c->seed;
    init_weights(m, &rng);
    r = store_replay(m, examples, n_examples, err);
    if (r == 0 && (r = trainer_init(&t, m, c->learning_rate, c->dropout, rng, err)) == 0) {
        t.typo_rate = c->typo_rate;
        if (c->device)
            r = trainer_use_device(&t, c->device, c->batch_size, err);
        if (r == 0)
            r = train_epochs(&t, c, examples, n_examples, err);
        trainer_clear(&t);
    }
    if (r < 0) {
        hk_intent_model_free(m);
        return r;
    }
    *ret = m;
    return 0;
}

/* ---------------------------------------------------------------- fine-tuning */

int
hk_intent_finetune(hk_intent_model *m, const hk_intent_example *corrections, size_t n,
                   int steps, uint64_t seed, hk_error *err)
{
    if (n == 0 || steps < 1)
        return hk_error_set(err, -EINVAL, "fine-tuning needs at least one correction and one step");
    int r = check_examples(corrections, n, (int) m->hp.n_labels, err);
    if (r < 0)
        return r;

    size_t n_replay = m->replay.n < FINETUNE_REPLAY_PER_STEP ? m->replay.n : FINETUNE_REPLAY_PER_STEP;
    hk_intent_example *replayed = malloc(n_replay * sizeof *replayed + 1);
    const hk_intent_example **batch = malloc((n + n_replay) * sizeof *batch);
    trainer t;
    if (!replayed || !batch) {
        free(replayed);
        free(batch);
        return hk_error_set(err, -ENOMEM, "out of memory for fine-tuning");
    }
    if ((r = trainer_init(&t, m, FINETUNE_LEARNING_RATE, FINETUNE_DROPOUT, seed, err)) == 0) {
        for (int s = 0; r == 0 && s < steps; s++) {
            for (size_t i = 0; i < n; i++)
                batch[i] = &corrections[i];
            for (size_t i = 0; i < n_replay; i++) {
                replayed[i] = hk_intent_model_replay(m, hk_intent_rng_next(&t.rng) % m->replay.n);
                batch[n + i] = &replayed[i];
            }
            r = trainer_step(&t, batch, n + n_replay, err);
        }
        trainer_clear(&t);
    }
    free(replayed);
    free(batch);
    return r;
}
