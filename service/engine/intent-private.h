/* intent-private.h — the intent model's insides, shared by its files
 * (intent.c: forward and backward passes; intent-file.c: GGUF; intent-train.c:
 * training and fine-tuning) and by the tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intent-features.h"
#include "intent-ops.h"
#include "intent.h"

#define HK_INTENT_ARCH "hearken-intent"
/* Bumped whenever hashing or features change: older files would then mean
 * something else. */
#define HK_INTENT_FEATURE_VERSION 1

#define HK_INTENT_N_WIDTHS 3
extern const uint32_t hk_intent_widths[HK_INTENT_N_WIDTHS];   /* 2, 3, 4 */
#define HK_INTENT_MAX_WIDTH 4
#define HK_INTENT_PAD (HK_INTENT_MAX_WIDTH - 1)   /* zero rows on each side of a text */

typedef struct hk_intent_hparams {
    uint32_t n_buckets;
    uint32_t dim;
    uint32_t n_filters;   /* per width */
    uint32_t n_labels;
    uint64_t hash_seed;
} hk_intent_hparams;

/* Every parameter but the embedding, as views into one block, so Adam and
 * the gradients treat them as one array.  The same layout serves the
 * weights and their gradients. */
typedef struct hk_intent_dense {
    float *conv_w[HK_INTENT_N_WIDTHS];   /* (n_filters, width * dim) */
    float *conv_b[HK_INTENT_N_WIDTHS];   /* (n_filters) */
    float *out_w;                        /* (n_labels, n_widths * n_filters) */
    float *out_b;                        /* (n_labels) */
} hk_intent_dense;

size_t hk_intent_dense_size(const hk_intent_hparams *hp);   /* floats */
void   hk_intent_dense_views(const hk_intent_hparams *hp, float *block, hk_intent_dense *ret);
static inline uint32_t hk_intent_pooled_size(const hk_intent_hparams *hp)
{
    return HK_INTENT_N_WIDTHS * hp->n_filters;
}

/* What one example leaves behind in the forward pass for the backward. */
typedef struct hk_intent_acts {
    hk_intent_features feats;
    float   *x;          /* (HK_INTENT_PAD + HK_INTENT_MAX_POSITIONS + HK_INTENT_PAD, dim) embedded positions */
    float   *pooled;     /* (n_widths * n_filters), after dropout when training */
    int32_t *argmax;     /* (n_widths * n_filters) winning window per filter */
    float   *mask;       /* (n_widths * n_filters) dropout */
    float   *logits, *probs, *dlogits;   /* (n_labels) */
    float   *dpooled;    /* (n_widths * n_filters) */
    float   *dx;         /* like x */
} hk_intent_acts;

int  hk_intent_acts_init(hk_intent_acts *a, const hk_intent_hparams *hp);
void hk_intent_acts_clear(hk_intent_acts *a);

typedef struct hk_intent_replay {
    char   **texts;
    int32_t *labels;
    size_t   n;
} hk_intent_replay;

struct hk_intent_model {
    hk_intent_hparams hp;
    char            **labels;   /* (n_labels) */
    float            *embd;     /* (n_buckets, dim) */
    float            *block;    /* the dense parameters… */
    hk_intent_dense   w;        /* …and views into them */
    hk_intent_replay  replay;
    hk_intent_acts    scratch;  /* for hk_intent_classify */
};

/* A model with room for its parameters (uninitialized) and no replay set;
 * labels are copied. */
int hk_intent_model_new(const hk_intent_hparams *hp, const char *const *labels,
                        hk_intent_model **ret, hk_error *err);

/* The forward pass over one text: a->probs.  dropout > 0 (training) needs rng. */
int hk_intent_forward(const hk_intent_model *m, hk_intent_acts *a, const char *text,
                      float dropout, uint64_t *rng);
/* The backward pass of the last forward for the cross-entropy loss against
 * label, scaled by scale: adds to the dense gradients g and the embedding
 * rows.  0, or -ENOMEM. */
int hk_intent_backward(const hk_intent_model *m, hk_intent_acts *a, int label, float scale,
                       const hk_intent_dense *g, hk_intent_row_grads *rows);
